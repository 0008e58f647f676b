// edgeint8 — the EdgeINT8-ArchKit command-line program: one subcommand per capability, each
// with --help. Subcommands live in cmd_<name>.cpp and register themselves through cli.h.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "cli.h"
#include "ei8/core/distribute.h"

namespace ei8::cli {
namespace {

constexpr const char* kVersion = "edgeint8 0.1.0";

}  // namespace

// A word where a subcommand must stand (`edgeint8 frobnicate`, `edgeint8 data frob`) that names
// none: CLI11 would only say "A subcommand is required". Returns the message, or "" when the
// words select subcommands down to one that takes options.
std::string unknown_subcommand(CLI::App& app, int argc, char** argv);
std::string unknown_subcommand(CLI::App& app, int argc, char** argv) {
  CLI::App* level = &app;
  std::string path = "edgeint8";
  for (int i = 1; i < argc; ++i) {
    const std::string_view word = argv[i];
    std::vector<CLI::App*> subs = level->get_subcommands({});
    if (subs.empty() || word.empty() || word[0] == '-') return {};
    CLI::App* next = nullptr;
    std::vector<std::string> names;
    for (CLI::App* s : subs) {
      names.push_back(s->get_name());
      if (s->check_name(std::string(word))) next = s;
    }
    if (next == nullptr) {
      return fmt::format("cannot run {} {}: subcommand = '{}' is unknown, must be one of: {}", path,
                         word, word, fmt::join(names, ", "));
    }
    level = next;
    path += " " + next->get_name();
  }
  return {};
}

void register_version(CLI::App& app) {
  CLI::App* sub = app.add_subcommand("version", "Print the EdgeINT8-ArchKit version");
  set_action(sub, [] {
    fmt::print("{}\n", kVersion);
    return Status{};
  });
  app.set_version_flag("--version", kVersion, "Print the version and exit");
}

// Prints the error of a word that names no subcommand; true when there was one.
bool refuse_unknown_subcommand(CLI::App& app, int argc, char** argv) {
  const std::string msg = unknown_subcommand(app, argc, argv);
  if (msg.empty()) return false;
  fmt::print(stderr, "edgeint8: error: {}\n", msg);
  return true;
}

}  // namespace ei8::cli

int main(int argc, char** argv) {
  ei8::dist::init(&argc, &argv);  // MPI when run by mpirun (core/distribute.h)
  CLI::App app{
      "EdgeINT8-ArchKit: train, quantize, run bit-exact INT8 and evaluate systolic accelerators",
      "edgeint8"};
  app.require_subcommand(1);
  app.set_help_all_flag("--help-all", "Show help for every subcommand");
  // Every option's --help line shows its default ("--batch INT=32"); set before any option.
  app.option_defaults()->always_capture_default();

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
  ei8::cli::register_merge(app);

  // Usage errors are the same on every rank: rank 0 prints them, every rank exits.
  const bool root = ei8::dist::world().root();
  if (root ? ei8::cli::refuse_unknown_subcommand(app, argc, argv)
           : !ei8::cli::unknown_subcommand(app, argc, argv).empty()) {
    ei8::dist::shutdown();
    return 2;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = root ? app.exit(e) : e.get_exit_code();
    ei8::dist::shutdown();
    return rc == 0 ? 0 : 2;  // usage errors: exit 2, as POSIX tools do
  }
  // "edgeint8: error: <message>" and exit 1; under mpirun, once for the whole job.
  return ei8::dist::finish(ei8::cli::pending_status());
}
