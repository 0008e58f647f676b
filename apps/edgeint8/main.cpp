// edgeint8 — the EdgeINT8-ArchKit command-line program: one subcommand per capability, each
// with --help. Subcommands live in cmd_<name>.cpp and register themselves through cli.h.
#include <fmt/format.h>

#include <unistd.h>

#include <array>
#include <cstdlib>

#include "cli.h"

namespace ei8::cli {
void register_version(CLI::App& app) {
  CLI::App* sub = app.add_subcommand("version", "Print the EdgeINT8-ArchKit version");
  set_action(sub, [] {
    fmt::print("edgeint8 0.1.0\n");
    return Status{};
  });
}
}  // namespace ei8::cli

int main(int argc, char** argv) {
#ifdef EI8_HAS_TORCH
  // libtorch's OpenMP threads busy-wait between parallel regions by default; on a machine shared
  // with other work that made training steps 10-40x slower here. libgomp reads the policy when it
  // loads, so set it and restart once (an explicit OMP_WAIT_POLICY is respected).
  if (std::getenv("OMP_WAIT_POLICY") == nullptr) {
    setenv("OMP_WAIT_POLICY", "PASSIVE", 1);
    // Through the resolved path, so that the process keeps its name (ps, top).
    std::array<char, 4096> self{};
    if (readlink("/proc/self/exe", self.data(), self.size() - 1) > 0) execv(self.data(), argv);
    // execv returns only on failure: then run with the default policy.
  }
#endif
  CLI::App app{
      "EdgeINT8-ArchKit: train, quantize, run bit-exact INT8 and evaluate systolic accelerators",
      "edgeint8"};
  app.require_subcommand(1);
  app.set_help_all_flag("--help-all", "Show help for every subcommand");

  ei8::cli::register_version(app);
  ei8::cli::register_run_all(app);
  ei8::cli::register_sim(app);
  ei8::cli::register_dse(app);
  ei8::cli::register_fixedpoint(app);
  ei8::cli::register_run(app);
  ei8::cli::register_info(app);
  ei8::cli::register_bench(app);
  ei8::cli::register_train(app);
  ei8::cli::register_data(app);
  ei8::cli::register_export(app);
  ei8::cli::register_baseline(app);
  ei8::cli::register_quantize(app);
  ei8::cli::register_analyze(app);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? 0 : 2;  // usage errors: exit 2, as POSIX tools do
  }
  const ei8::Status& status = ei8::cli::pending_status();
  if (!status.ok()) {
    fmt::print(stderr, "edgeint8: error: {}\n", status.message());
    return 1;
  }
  return 0;
}
