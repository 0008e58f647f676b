// edgeint8 run — runs an ONNX model (FP32, or a QDQ / QLinear INT8 model on the integer engine)
// on one input file and writes the output.
#include <fmt/format.h>

#include <algorithm>

#include "cli.h"
#include "ei8/core/npy.h"
#include "ei8/graph/onnx/onnx_io.h"
#include "ei8/quant/compare.h"
#include "ei8/quant/simulate.h"
#include "ei8/runtime/executor.h"
#include "ei8/runtime/int8_lowering.h"

namespace ei8::cli {
namespace {

bool ends_with(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

struct RunArgs {
  std::string model, input, output, shape, dump;
  int threads = 1;
  bool no_optimize = false, allow_nonfinite = false;
  std::string engine = "int8";  // QDQ models: int8 (integer engine) or float (QDQ simulation)
  std::string profile = "ort";
  std::string tune;  // tuning file (plans by measurement); empty: heuristic plans
};

bool has_quantized_ops(const Graph& g) {
  return std::any_of(g.nodes().begin(), g.nodes().end(), [](const Node& n) {
    return n.op_type == "QuantizeLinear" || n.op_type == "DequantizeLinear" ||
           n.op_type == "QLinearConv" || n.op_type == "QLinearMatMul";
  });
}

// The executor for `g`: FP32 for float graphs; for QDQ/QLinear graphs the integer engine
// (engine "int8", requantization profile `profile`) or the float QDQ simulation ("float").
Result<Executor> make_executor(Graph g, const RunArgs& a, ExecutorOptions opt) {
  if (a.engine != "int8" && a.engine != "float") {
    return invalid_argument("cannot parse --engine: value = '{}', must be int8 or float", a.engine);
  }
  EI8_ASSIGN_OR_RETURN(fixedpoint::RequantProfile profile, fixedpoint::parse_profile(a.profile));
  if (!has_quantized_ops(g)) return Executor::create(std::move(g), opt);
  if (a.engine == "float") {
    EI8_ASSIGN_OR_RETURN(Graph sim, quant::simulation_graph(g));
    opt.optimize = false;
    return Executor::create(std::move(sim), opt);
  }
  EI8_ASSIGN_OR_RETURN(Int8Lowering low, lower_to_int8(g, {.profile = profile}));
  for (const auto& w : low.warnings) fmt::print(stderr, "edgeint8: warning: {}\n", w);
  return make_int8_executor(g, {.profile = profile}, opt);
}

Status run_model(const RunArgs& a) {
  // Options and paths first, so a typo fails before any work.
  if (a.threads < 1) {
    return invalid_argument("cannot run {}: --threads = {}, must be >= 1", a.model, a.threads);
  }
  if (a.engine != "int8" && a.engine != "float") {
    return invalid_argument("cannot parse --engine: value = '{}', must be int8 or float", a.engine);
  }
  EI8_RETURN_IF_ERROR(fixedpoint::parse_profile(a.profile).status());
  EI8_RETURN_IF_ERROR(check_model_file(a.model, "model"));
  EI8_RETURN_IF_ERROR(check_input_file(a.input, "--input"));
  EI8_RETURN_IF_ERROR(check_output_path(a.output, "--output"));
  if (same_file(a.output, a.input) || same_file(a.output, a.model)) {
    return invalid_argument(
        "cannot write {}: --output = the same file as an input, must be "
        "another file",
        a.output);
  }
  if (!a.tune.empty()) EI8_RETURN_IF_ERROR(check_tune_file(a.tune, {a.model, a.input, a.output}));
  EI8_ASSIGN_OR_RETURN(Graph g, load_onnx(a.model));
  if (g.inputs().size() != 1) {
    return unsupported("cannot run {}: inputs = {}, must be 1 for `edgeint8 run`", a.model,
                       g.inputs().size());
  }
  Tensor x;
  if (ends_with(a.input, ".bin")) {
    if (a.shape.empty()) {
      return invalid_argument("cannot read {}: --shape = absent, must be given for raw .bin input",
                              a.input);
    }
    EI8_ASSIGN_OR_RETURN(Shape shape, parse_int_list(a.shape, "--shape"));
    EI8_ASSIGN_OR_RETURN(x, read_raw_f32(a.input, shape));
  } else {
    EI8_ASSIGN_OR_RETURN(x, read_npy(a.input));
    if (!a.shape.empty()) {
      EI8_ASSIGN_OR_RETURN(Shape shape, parse_int_list(a.shape, "--shape"));
      EI8_RETURN_IF_ERROR(x.reshape(shape).with_context(a.input));
    }
  }
  const DType want = g.find_value(g.inputs()[0])->dtype;
  if (x.dtype() != want) {
    return invalid_argument("cannot run {}: --input {} dtype = {}, must be {} (the model's input)",
                            a.model, a.input, dtype_name(x.dtype()), dtype_name(want));
  }
  if (!a.allow_nonfinite) {
    EI8_RETURN_IF_ERROR(
        check_finite(x, fmt::format("--input {}", a.input), " (--allow-nonfinite runs it anyway)"));
  }
  if (!a.dump.empty()) {
    // Every named tensor of this run (same engine and profile), as real values.
    quant::ProbeOptions po;
    EI8_ASSIGN_OR_RETURN(po.engine, quant::parse_engine(a.engine));
    EI8_ASSIGN_OR_RETURN(po.profile, fixedpoint::parse_profile(a.profile));
    Result<quant::ProbedModel> pm = quant::ProbedModel::create(g, po);
    if (!pm.ok()) return pm.status().with_context(a.model);
    Result<quant::TensorSet> ts = pm->run(x);
    if (!ts.ok()) return ts.status().with_context(a.model);
    ts->source = fmt::format("{} {}", ts->source, a.model);
    EI8_RETURN_IF_ERROR(quant::write_dump(*ts, a.dump));
    fmt::print("{}: {} tensors -> {}/\n", a.model, ts->tensors.size(), a.dump);
  }
  ExecutorOptions opt;
  opt.threads = a.threads;
  opt.optimize = !a.no_optimize;
  if (!a.tune.empty()) {
    opt.tuner = std::make_shared<kernels::PlanTuner>();
    EI8_RETURN_IF_ERROR(opt.tuner->load(a.tune));
  }
  EI8_ASSIGN_OR_RETURN(Executor ex, make_executor(std::move(g), a, opt));
  Status s = ex.prepare({x.shape()});
  if (!s.ok()) return s.with_context(a.model);
  std::vector<Tensor> in;
  in.push_back(std::move(x));
  EI8_ASSIGN_OR_RETURN(std::vector<Tensor> out, ex.run(in));
  if (ends_with(a.output, ".bin")) {
    EI8_RETURN_IF_ERROR(write_raw(a.output, out[0]));
  } else {
    EI8_RETURN_IF_ERROR(write_npy(a.output, out[0]));
  }
  // After the output (a run that fails writes neither); its path was checked before any work.
  if (opt.tuner != nullptr) EI8_RETURN_IF_ERROR(opt.tuner->save(a.tune));
  fmt::print("{}: output '{}' {} -> {}\n", a.model, ex.graph().outputs()[0],
             shape_to_string(out[0].shape()), a.output);
  return {};
}

}  // namespace

void register_run(CLI::App& app) {
  auto args = std::make_shared<RunArgs>();
  CLI::App* sub = app.add_subcommand(
      "run", "Run an ONNX model (FP32, or INT8 QDQ/QLinear on the integer engine) on one input");
  sub->add_option("model", args->model, "Model file (.onnx)")->required();
  sub->add_option("--input,-i", args->input, "Input tensor: .npy, or raw little-endian f32 .bin")
      ->required();
  sub->add_option("--shape", args->shape, "Input shape N,C,H,W (required for .bin; any batch N)");
  sub->add_option("--output,-o", args->output, "Output file: .npy, or raw f32 .bin")->required();
  sub->add_option("--threads", args->threads, "Worker threads (default 1)");
  sub->add_option("--dump", args->dump,
                  "Also write every named tensor of the run as DIR/<tensor>.npy (real values) with "
                  "DIR/manifest.json (order, scale, zero point), for `edgeint8 compare`");
  sub->add_option("--tune", args->tune,
                  "Tuning file (`edgeint8 bench --tune`): its plans; layers it lacks are "
                  "measured and added (default: heuristic plans; outputs are the same)");
  sub->add_flag("--allow-nonfinite", args->allow_nonfinite,
                "Run inputs holding NaN or Inf (refused by default, naming the first one). Our "
                "kernels do not propagate NaN as ONNX Runtime does (ORT gives NaN logits, we give "
                "finite ones)");
  sub->add_flag("--no-optimize", args->no_optimize,
                "Run the graph as imported (no BN folding / activation fusion)");
  sub->add_option("--engine", args->engine,
                  "QDQ models: int8 = integer-only engine, float = QDQ simulation on the FP32 "
                  "executor");
  sub->add_option("--profile,--requant-profile", args->profile,
                  "Requantization profile of the integer engine: ort (= ONNX Runtime), tflite, "
                  "tflite-single");
  set_action(sub, [args] { return run_model(*args); });
}

}  // namespace ei8::cli
