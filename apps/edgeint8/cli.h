// apps/edgeint8/cli.h — what every subcommand file shares: how an action reports failure, and
// the registration functions main.cpp calls. A subcommand file is thin: it declares options,
// calls the library and prints.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>

#include "ei8/core/status.h"

namespace ei8::cli {

// Runs `action` when `sub` was selected on the command line. A failed Status becomes one line
// "edgeint8: error: <message>" on stderr and exit code 1.
void set_action(CLI::App* sub, std::function<Status()> action);

// The Status of the action that ran (ok when none failed); main.cpp reports it.
Status& pending_status();

// Parses "N,C,H,W" into a shape.
Result<std::vector<int64_t>> parse_int_list(std::string_view text, std::string_view what);

// Registration, one per subcommand file.
void register_version(CLI::App& app);
void register_run_all(CLI::App& app);
void register_sim(CLI::App& app);
void register_dse(CLI::App& app);
void register_fixedpoint(CLI::App& app);
void register_run(CLI::App& app);
void register_info(CLI::App& app);
void register_bench(CLI::App& app);
void register_train(CLI::App& app);
void register_data(CLI::App& app);
void register_export(CLI::App& app);
void register_baseline(CLI::App& app);
void register_quantize(CLI::App& app);
void register_analyze(CLI::App& app);
void register_compare(CLI::App& app);
void register_codegen(CLI::App& app);

}  // namespace ei8::cli
