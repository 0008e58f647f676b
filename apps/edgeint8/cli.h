// apps/edgeint8/cli.h — what every subcommand file shares: how an action reports failure, and
// the registration functions main.cpp calls. A subcommand file is thin: it declares options,
// calls the library and prints.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <initializer_list>

#include "ei8/core/status.h"
#include "ei8/core/tensor.h"
#include "ei8/graph/graph.h"

namespace ei8::cli {

// Runs `action` when `sub` was selected on the command line. A failed Status becomes one line
// "edgeint8: error: <message>" on stderr and exit code 1.
void set_action(CLI::App* sub, std::function<Status()> action);

// The Status of the action that ran (ok when none failed); main.cpp reports it.
Status& pending_status();

// Prints "edgeint8: warning: <message>" on stderr.
void warn(std::string_view message);

// True when `a` and `b` name the same file (after resolving ".", ".." and symlinks).
bool same_file(const std::string& a, const std::string& b);

// Checks, before any work, that `path` can be written by the option `option` (e.g. "-o"): not
// empty, not a directory, in an existing writable directory. Nothing is created.
Status check_output_path(const std::string& path, std::string_view option);
// Checks that `path` (given by `option`) is an existing, readable regular file.
Status check_input_file(const std::string& path, std::string_view option);

// check_input_file, and the file is not empty (an ONNX model).
Status check_model_file(const std::string& path, std::string_view option);

// Checks a SCALE-Sim topology CSV before it is parsed: a readable text file (no NUL or other
// control bytes) with a header line and at least one layer row. SCALE-Sim reads line 1 as the
// header whatever it holds; when that line looks like a layer, a warning says it is not simulated.
Status check_topology_file(const std::string& path, std::string_view option);

// A tuning file given by --tune (read if it exists, written back): an existing one is a readable
// file, and it can be written (check_output_path); it is none of the files in `others` (the
// model, the input, the output: --tune y.npy -o y.npy would lose one of them).
Status check_tune_file(const std::string& path, std::initializer_list<std::string> others = {});

// Refuses NaN/Inf in a float tensor `what` (e.g. "input x.npy"), naming the first offending
// element by flat index and by its index per dimension; `hint` is appended to the message
// (e.g. " (--allow-nonfinite runs it anyway)"). Other dtypes pass.
Status check_finite(const Tensor& t, std::string_view what, std::string_view hint = {});

// Refuses a model that is already quantized (QDQ, QLinear*, *Integer ops) where a float model is
// needed (`action` is e.g. "quantize"), saying so instead of failing on an internal node.
Status check_float_model(const Graph& g, const std::string& path, std::string_view action);

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
void register_merge(CLI::App& app);

}  // namespace ei8::cli
