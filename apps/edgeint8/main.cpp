// edgeint8 — the EdgeINT8-ArchKit command-line program: one subcommand per capability, each
// with --help. Subcommands live in cmd_<name>.cpp and register themselves through cli.h.
#include <fmt/format.h>

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
  ei8::cli::register_compare(app);
  ei8::cli::register_codegen(app);

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
