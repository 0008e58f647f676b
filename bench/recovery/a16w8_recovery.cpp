// A16W8 recovery on a trained model (issue 16 item 3; docs/accuracy_recovery.md): for each
// weight configuration (per-channel W8, per-tensor W8, per-channel W4, per-tensor W4), the int8
// top-1 drop on the integer engine, the most sensitive layer by the sensitivity analysis
// (quant/sensitivity.h: lowest output SQNR with only that layer quantized, analysed in that
// configuration), the drop with that layer in A16W8 (PtqOptions::layer_precision), the share of
// the drop recovered, and — to judge the ranking's choice — every other single layer and all
// layers in A16W8. Calibration: mse (the quantize command's default) on the calibration set.
//
//   a16w8_recovery MODEL.onnx CALIB.npy EVAL.npy LABELS.npy [PROFILE [CONFIGS [RANKS]]]
//     CONFIGS: comma-separated among pc8, pt8, pc4, pt4 (default all four)
//     RANKS:   how many single-layer A16W8 rows, most sensitive first (default all layers)
//
// Prints one Markdown table per configuration. Not a test: the figures depend on the model.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include <fmt/core.h>
#include <fmt/ranges.h>

#include "ei8/graph/onnx/onnx_io.h"
#include "ei8/graph/passes.h"
#include "ei8/quant/calibration.h"
#include "ei8/quant/evaluate.h"
#include "ei8/quant/ptq.h"
#include "ei8/quant/quant_math.h"
#include "ei8/quant/sensitivity.h"
#include "ei8/quant/simulate.h"

namespace {

using namespace ei8;
using namespace ei8::quant;

Status measure(int argc, char** argv) {
  if (argc < 5) {
    return invalid_argument(
        "cannot run a16w8_recovery: arguments = {}, must be MODEL CALIB EVAL LABELS [PROFILE]",
        argc - 1);
  }
  EI8_ASSIGN_OR_RETURN(Graph g, load_onnx(argv[1]));
  EI8_RETURN_IF_ERROR(optimize(g));
  const Shape& in_shape = g.find_value(g.inputs()[0])->shape;
  EI8_ASSIGN_OR_RETURN(Tensor calib, load_calibration_data(argv[2], in_shape));
  EI8_ASSIGN_OR_RETURN(EvalSet ev, load_eval_set(g, argv[3], argv[4]));
  fixedpoint::RequantProfile profile = fixedpoint::RequantProfile::kOrt;
  if (argc > 5) {
    EI8_ASSIGN_OR_RETURN(profile, fixedpoint::parse_profile(argv[5]));
  }
  EI8_ASSIGN_OR_RETURN(Statistics st, collect_statistics(g, calib, {}));
  EI8_ASSIGN_OR_RETURN(Evaluation fp, evaluate_graph(g, ev, {}, 64));
  fmt::print(
      "{}: float top-1 {:.2f} % on {} labelled samples; {} calibration samples; profile {}\n",
      argv[1], 100.0 * fp.accuracy, ev.samples(), calib.dim(0), fixedpoint::profile_name(profile));
  struct Config {
    const char* name;
    WeightGranularity w;
    int bits;
  };
  const std::string wanted = argc > 6 ? argv[6] : "pc8,pt8,pc4,pt4";
  const size_t max_ranks = argc > 7 ? static_cast<size_t>(std::stoul(argv[7])) : SIZE_MAX;
  for (Config c : {Config{"pc8", WeightGranularity::kPerChannel, 8},
                   Config{"pt8", WeightGranularity::kPerTensor, 8},
                   Config{"pc4", WeightGranularity::kPerChannel, 4},
                   Config{"pt4", WeightGranularity::kPerTensor, 4}}) {
    if (("," + wanted + ",").find(std::string(",") + c.name + ",") == std::string::npos) continue;
    PtqOptions po;
    po.weights = c.w;
    po.weight_bits = c.bits;
    po.profile = profile;
    CalibParams cp;
    cp.method = CalibMethod::kMse;
    cp = calib_target(po, cp);
    EI8_ASSIGN_OR_RETURN(CalibTable table, make_table(st, cp));
    SensitivityOptions so;
    so.calib = cp;
    so.ptq = po;
    so.batch = 64;
    EI8_ASSIGN_OR_RETURN(SensitivityReport sens, analyze_sensitivity(g, st, ev, so));
    // Top-1 % and the logits' SQNR vs float (dB) on the integer engine.
    auto accuracy = [&](const PtqOptions& o) -> Result<std::pair<double, double>> {
      EI8_ASSIGN_OR_RETURN(QuantizedModel m, quantize_model(g, table, o));
      EI8_ASSIGN_OR_RETURN(Evaluation e, evaluate_model(m, ev, fp.top1, 64));
      EI8_ASSIGN_OR_RETURN(ErrorMetrics em,
                           error_metrics(fp.logits.span<float>(), e.logits.span<float>()));
      return std::pair<double, double>{100.0 * e.accuracy, em.sqnr_db};
    };
    EI8_ASSIGN_OR_RETURN(auto r8, accuracy(po));
    const double acc8 = r8.first;
    const double f = 100.0 * fp.accuracy, drop8 = f - acc8;
    fmt::print("\nW{}A8 {} weights; sensitivity ranking {}\n\n", c.bits,
               weight_granularity_name(c.w), fmt::join(sens.ranking, ", "));
    fmt::print(
        "| configuration | A16W8 layers | top-1 % | drop (points) | share of the int8 drop "
        "recovered | logits SQNR dB |\n|---|---|---:|---:|---:|---:|\n");
    fmt::print("| all int8 | - | {:.2f} | {:.2f} | - | {:.2f} |\n", acc8, drop8, r8.second);
    auto row = [&](const std::string& name, const std::string& layers,
                   std::pair<double, double> r) {
      const double drop = f - r.first;
      const std::string rec =
          drop8 > 0 ? fmt::format("{:.0f} %", 100.0 * (drop8 - drop) / drop8) : "-";
      fmt::print("| {} | {} | {:.2f} | {:.2f} | {} | {:.2f} |\n", name, layers, r.first, drop, rec,
                 r.second);
    };
    PtqOptions all = po;
    for (size_t i = 0; i < sens.ranking.size(); ++i) {
      all.layer_precision[sens.ranking[i]] = LayerPrecision::kInt16;
      if (i >= max_ranks) continue;
      PtqOptions one = po;
      one.layer_precision[sens.ranking[i]] = LayerPrecision::kInt16;
      EI8_ASSIGN_OR_RETURN(auto acc, accuracy(one));
      row(fmt::format("A16W8 on rank {}{}", i + 1, i == 0 ? " (most sensitive)" : ""),
          sens.ranking[i], acc);
    }
    EI8_ASSIGN_OR_RETURN(auto acc_all, accuracy(all));
    row("A16W8 on every layer", "all", acc_all);
    std::fflush(stdout);
  }
  return {};
}

}  // namespace

int main(int argc, char** argv) {
  const Status s = measure(argc, argv);
  if (!s.ok()) {
    std::fprintf(stderr, "a16w8_recovery: %s\n", std::string(s.message()).c_str());
    return 1;
  }
  return 0;
}
