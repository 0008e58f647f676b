// edgeint8 analyze — per-layer quantization sensitivity of an ONNX model: layer output errors
// (SQNR, cosine, max error), leave-one-out accuracy both ways, a ranking of sensitive layers, and
// every tensor's histogram with each calibrator's clip thresholds (CSV for the report's figures).
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "cli.h"
#include "ei8/core/progress.h"
#include "ei8/graph/onnx/onnx_io.h"
#include "ei8/graph/passes.h"
#include "ei8/pipeline/quant_tables.h"
#include "ei8/pipeline/result_json.h"
#include "ei8/quant/calibration.h"
#include "ei8/quant/evaluate.h"
#include "ei8/quant/sensitivity.h"

namespace ei8::cli {
namespace {

struct AnalyzeArgs {
  std::string model, calib_data, eval_data, eval_labels, out = "results/tables";
  std::string method = "mse", weights = "per-channel", act = "asym", profile = "ort";
  int64_t batch = 32, max_samples = 0, histogram_bins = 128;
  bool json = false;
};

Status analyze_command(const AnalyzeArgs& a) {
  using namespace quant;
  SensitivityOptions so;
  EI8_ASSIGN_OR_RETURN(so.calib.method, parse_calib_method(a.method));
  EI8_ASSIGN_OR_RETURN(so.ptq.weights, parse_weight_granularity(a.weights));
  if (a.act != "asym" && a.act != "sym") {
    return invalid_argument("cannot parse --act: act = '{}', must be asym|sym", a.act);
  }
  so.ptq.act_symmetric = a.act == "sym";
  so.ptq.act_type = so.ptq.act_symmetric ? QType::kS8 : QType::kU8;
  EI8_ASSIGN_OR_RETURN(so.ptq.profile, fixedpoint::parse_profile(a.profile));
  so.batch = a.batch;
  so.histogram_bins = a.histogram_bins;
  if (a.batch < 1) return invalid_argument("cannot analyze: --batch = {}, must be >= 1", a.batch);
  if (a.max_samples < 0) {
    return invalid_argument("cannot analyze: --max-samples = {}, must be >= 0 (0 = all)",
                            a.max_samples);
  }
  {
    std::error_code ec;
    if (std::filesystem::exists(a.out, ec) && !std::filesystem::is_directory(a.out, ec)) {
      return invalid_argument("cannot analyze: --out = '{}' is a file, must be a directory", a.out);
    }
  }
  EI8_RETURN_IF_ERROR(check_model_file(a.model, "model"));
  if (a.histogram_bins < 1) {
    return invalid_argument("cannot analyze: --histogram-bins = {}, must be >= 1",
                            a.histogram_bins);
  }
  EI8_ASSIGN_OR_RETURN(Graph g, load_onnx(a.model));
  EI8_RETURN_IF_ERROR(check_float_model(g, a.model, "analyze"));
  EI8_RETURN_IF_ERROR(optimize(g).with_context(a.model));
  if (g.inputs().size() != 1) {
    return unsupported("cannot analyze {}: inputs = {}, must be 1", a.model, g.inputs().size());
  }
  const Shape& in_shape = g.find_value(g.inputs()[0])->shape;
  EI8_ASSIGN_OR_RETURN(Tensor calib, load_calibration_data(a.calib_data, in_shape));
  EI8_ASSIGN_OR_RETURN(EvalSet ev, load_eval_set(g, a.eval_data, a.eval_labels));
  CalibrationOptions co;
  co.batch = a.batch;
  co.max_samples = a.max_samples;
  EI8_ASSIGN_OR_RETURN(Statistics st, collect_statistics(g, calib, co));
  if (a.json) Progress::set_enabled(false);
  int64_t weighted = 0;  // one leave-one-out step per weighted layer, plus the full model
  for (const Node& n : g.nodes()) {
    weighted += n.op_type == "Conv" || n.op_type == "Gemm" || n.op_type == "MatMul";
  }
  Progress progress("analyze", weighted + 1, "steps");
  EI8_ASSIGN_OR_RETURN(SensitivityReport r, analyze_sensitivity(g, st, ev, so, &progress));
  progress.finish();
  EI8_RETURN_IF_ERROR(pipeline::write_sensitivity(r, a.out));
  if (a.json) {
    nlohmann::ordered_json j = pipeline::sensitivity_json(a.model, r);
    j["out"] = a.out;
    fmt::print("{}\n", j.dump(2));
    return {};
  }
  fmt::print("{}: {} calibration samples, {} evaluation samples, method {} {} {}\n", a.model,
             st.samples, ev.samples(), a.method, a.weights, a.act);
  fmt::print("\nper-layer error of the INT8 activations (all layers quantized):\n{}",
             pipeline::layer_error_table(r).to_markdown());
  fmt::print("\nleave-one-out, most sensitive first:\n{}",
             pipeline::sensitivity_table(r).to_markdown());
  fmt::print("\nranking: {}\n", fmt::join(r.ranking, ", "));
  fmt::print(
      "wrote {0}/sensitivity.csv, {0}/layer_error.csv, {0}/tensor_histograms.csv, "
      "{0}/calib_thresholds.csv (+ .json)\n",
      a.out);
  return {};
}

}  // namespace

void register_analyze(CLI::App& app) {
  auto a = std::make_shared<AnalyzeArgs>();
  CLI::App* sub = app.add_subcommand(
      "analyze",
      "Quantization sensitivity per layer: SQNR / cosine / max error of the INT8 (simulated QDQ)\n"
      "activations vs float, leave-one-out accuracy both ways (only layer i quantized; all but\n"
      "layer i quantized), a ranking (lowest output SQNR with only that layer quantized first),\n"
      "and per-tensor histograms with the clip thresholds of minmax, percentile, entropy, mse\n"
      "and aciq. Writes sensitivity.csv, layer_error.csv, tensor_histograms.csv and\n"
      "calib_thresholds.csv (+ .json) to --out.");
  sub->add_option("model", a->model, "Float model (.onnx)")->required();
  sub->add_option("--calib-data", a->calib_data, "Calibration samples (.npy or directory)")
      ->required();
  sub->add_option("--eval-data", a->eval_data, "Evaluation samples (.npy or directory)")
      ->required();
  sub->add_option("--eval-labels", a->eval_labels,
                  "Evaluation labels (.npy of integers); without them only agreement with FP32");
  sub->add_option("--method", a->method,
                  "Calibration of the analysed model: minmax|moving-average|percentile|entropy|"
                  "mse|aciq");
  sub->add_option("--weights", a->weights, "per-tensor|per-channel");
  sub->add_option("--act", a->act, "asym (u8) | sym (s8) activations");
  sub->add_option("--profile", a->profile, "ort|tflite|tflite-single");
  sub->add_option("--batch", a->batch, "Batch size of every forward pass");
  sub->add_option("--max-samples", a->max_samples,
                  "Calibrate on the first N samples only (0 = all)");
  sub->add_option("--histogram-bins", a->histogram_bins,
                  "Bins per tensor in tensor_histograms.csv");
  sub->add_option("--out", a->out, "Output directory of the tables");
  sub->add_flag("--json", a->json, "Machine-readable output");
  set_action(sub, [a] { return analyze_command(*a); });
}

}  // namespace ei8::cli
