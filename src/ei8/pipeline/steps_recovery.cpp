// Part B of run-all, accuracy recovery (issue 16): on each exported model, the same calibration
// and evaluation data as the sweep, the top-1 accuracy of W8A8 and W4A8 models with each
// recovery pass added in turn — per-tensor / per-channel weights, + cross-layer equalization,
// + bias correction, + AdaRound — beside the float model. tables/recovery_<w>.csv and the
// figure recovery_<w>. Last row: W8A8 per-channel with the most sensitive layer (the sensitivity
// analysis' first, quant/sensitivity.h) in A16W8 — int16 activations, int8 weights.
// Quick mode keeps every row and shortens AdaRound (iterations, budget).
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>

#include "ei8/data/dataset.h"
#include "ei8/graph/onnx/onnx_io.h"
#include "ei8/graph/passes.h"
#include "ei8/pipeline/steps.h"
#include "ei8/quant/calibration.h"
#include "ei8/quant/evaluate.h"
#include "ei8/quant/recovery.h"
#include "ei8/quant/sensitivity.h"
#include "ei8/report/figure.h"
#include "ei8/report/table.h"

namespace ei8::pipeline {
namespace {

using report::Figure;
using report::Table;

struct RecoveryRow {
  std::string label;  // "W8A8 per-tensor +cle+bc"
  int weight_bits = 8;
  quant::WeightGranularity weights = quant::WeightGranularity::kPerTensor;
  bool cle = false, bias_correction = false, adaround = false;
};

// The rows in order: each recovery pass added to the previous row of its weight width.
std::vector<RecoveryRow> recovery_rows() {
  using quant::WeightGranularity;
  std::vector<RecoveryRow> rows;
  for (int bits : {8, 4}) {
    const std::string wa = fmt::format("W{}A8", bits);
    rows.push_back({wa + " per-tensor", bits, WeightGranularity::kPerTensor});
    rows.push_back({wa + " per-channel", bits, WeightGranularity::kPerChannel});
    rows.push_back({wa + " per-tensor +cle", bits, WeightGranularity::kPerTensor, true});
    rows.push_back({wa + " per-tensor +cle+bc", bits, WeightGranularity::kPerTensor, true, true});
    rows.push_back({wa + " per-tensor +cle+bc+adaround", bits, WeightGranularity::kPerTensor, true,
                    true, true});
  }
  return rows;
}

struct RecoverySettings {
  int64_t calib = 1000, eval = 0;
  int ada_iterations = 1000;
  double ada_budget_s = 60.0;
  int64_t ada_samples = 256, ada_columns = 8192;
};
// Quick mode: AdaRound on 64 samples and 2048 patch columns per layer, 300 steps, 4 s per model.
RecoverySettings recovery_settings(const RunAllSettings& s) {
  if (s.quick) {
    return {.calib = 256,
            .eval = 500,
            .ada_iterations = 300,
            .ada_budget_s = 4.0,
            .ada_samples = 64,
            .ada_columns = 2048};
  }
  return {};
}

Status recovery_figure(const Table& t, const std::string& w, const std::string& stem) {
  Figure f{.kind = report::FigureKind::kGroupedBars,
           .title = fmt::format("Accuracy recovery, {}", w),
           .xlabel = "weights and recovery passes",
           .ylabel = "top-1 accuracy (%)"};
  report::Series se{.label = "integer engine (ort profile)"};
  double lo = 100;
  for (size_t r = 0; r < t.num_rows(); ++r) {
    EI8_ASSIGN_OR_RETURN(std::string cfg, t.text(r, "config"));
    EI8_ASSIGN_OR_RETURN(double acc, t.number(r, "accuracy_pct"));
    if (cfg == "float") {
      f.hlines.push_back({.label = "FP32", .y = acc});
    } else {
      f.categories.push_back(cfg);
      se.y.push_back(acc);
    }
    lo = std::min(lo, acc);
  }
  f.series.push_back(std::move(se));
  f.ymin = std::max(0.0, std::floor(lo - 2));
  f.ymax = 100.5;
  return report::render(f, stem);
}

}  // namespace

Step recovery_step(const RunAllSettings& s, const std::string& w) {
  const RecoverySettings n = recovery_settings(s);
  return {
      .name = "recovery." + w,
      .description =
          "W8A8/W4A8 accuracy with CLE, bias correction and AdaRound added in turn; "
          "A16W8 on the most sensitive layer",
      .settings = fmt::format(
          "calib={} eval={} seed={} adaround_iters={} adaround_budget_s={} a16w8=most-sensitive",
          n.calib, n.eval, s.seed, n.ada_iterations, n.ada_budget_s),
      .inputs = {"models/" + w + ".onnx"},
      .outputs = {"tables/recovery_" + w + ".csv", "tables/recovery_" + w + ".json",
                  "figures/recovery_" + w + ".png"},
      .run = [s, w, n](StepContext& c) -> Result<StepOutcome> {
        EI8_ASSIGN_OR_RETURN(Graph g, load_onnx(c.path("models/" + w + ".onnx")));
        EI8_RETURN_IF_ERROR(optimize(g));
        data::DatasetOptions d = dataset_for(s, w);
        if (n.eval > 0) d.test_size = n.eval;
        EI8_ASSIGN_OR_RETURN(data::SplitDataset ds, data::load_dataset(d));
        const data::Dataset calib = data::calibration_subset(ds.train, n.calib, s.seed);
        std::vector<int64_t> labels(ds.test.labels.begin(), ds.test.labels.end());
        EI8_ASSIGN_OR_RETURN(quant::EvalSet ev,
                             quant::make_eval_set(g, std::move(ds.test.samples), labels));
        EI8_ASSIGN_OR_RETURN(quant::Evaluation fp32, quant::evaluate_graph(g, ev, {}, 32));
        // Statistics of the unequalized graph, shared by the rows without CLE.
        EI8_ASSIGN_OR_RETURN(quant::Statistics stats,
                             quant::collect_statistics(g, calib.samples, {}));
        Table t({"config", "weight_bits", "weights", "recovery", "accuracy_pct", "drop_points",
                 "agreement_pct", "quantize_s"});
        for (const char* col : {"accuracy_pct", "drop_points", "agreement_pct"}) {
          t.set_precision(col, 2);
        }
        t.set_precision("quantize_s", 1);
        t.add_row({std::string("float"), 32.0, std::string("-"), std::string("-"),
                   100 * fp32.accuracy, 0.0, 100.0, 0.0});
        for (const RecoveryRow& row : recovery_rows()) {
          quant::PtqOptions po;
          po.weights = row.weights;
          po.weight_bits = row.weight_bits;
          quant::RecoveryOptions ro;
          ro.cle = row.cle;
          ro.bias_correction = row.bias_correction;
          ro.adaround = row.adaround;
          ro.ada.iterations = n.ada_iterations;
          ro.ada.time_budget_s = n.ada_budget_s;
          ro.ada.seed = s.seed;
          ro.ada.max_samples = n.ada_samples;
          ro.ada.max_columns = n.ada_columns;
          const auto t0 = std::chrono::steady_clock::now();
          EI8_ASSIGN_OR_RETURN(
              quant::RecoveredModel m,
              quant::quantize_with_recovery(g, calib.samples, quant::CalibParams{}, po, ro, {},
                                            ro.cle || ro.bias_correction ? nullptr : &stats));
          const double secs =
              std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
          EI8_ASSIGN_OR_RETURN(quant::Evaluation e,
                               quant::evaluate_model(m.model, ev, fp32.top1, 32));
          t.add_row({row.label, static_cast<double>(row.weight_bits),
                     std::string(quant::weight_granularity_name(row.weights)),
                     quant::recovery_name(ro), 100 * e.accuracy, 100 * (fp32.accuracy - e.accuracy),
                     100 * e.agreement, secs});
        }
        double a16_s = 0;  // the whole A16W8 row: sensitivity, quantization, evaluation
        {
          // A16W8 on the most sensitive layer: ranked by the sensitivity analysis of the
          // W8A8 per-channel model (lowest logits SQNR with only that layer quantized); the
          // same calibration as the "W8A8 per-channel" row, so only that layer differs.
          quant::PtqOptions po;
          quant::SensitivityOptions so;
          so.ptq = po;
          so.calib = quant::CalibParams{};  // minmax, as the rows above
          so.histogram_bins = 8;
          const auto t0 = std::chrono::steady_clock::now();
          EI8_ASSIGN_OR_RETURN(quant::SensitivityReport sr,
                               quant::analyze_sensitivity(g, stats, ev, so));
          if (sr.ranking.empty()) {
            return invalid_argument(
                "cannot rank layers of '{}': sensitivity ranking = empty, must name a layer", w);
          }
          po.layer_precision[sr.ranking[0]] = quant::LayerPrecision::kInt16;
          EI8_ASSIGN_OR_RETURN(quant::CalibTable table,
                               quant::make_table(stats, quant::calib_target(po, so.calib)));
          EI8_ASSIGN_OR_RETURN(quant::QuantizedModel m, quant::quantize_model(g, table, po));
          const double secs =
              std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
          EI8_ASSIGN_OR_RETURN(quant::Evaluation e, quant::evaluate_model(m, ev, fp32.top1, 32));
          a16_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
          t.add_row({fmt::format("W8A8 per-channel, A16W8 on {} (most sensitive)", sr.ranking[0]),
                     8.0, std::string(quant::weight_granularity_name(po.weights)),
                     "a16w8:" + sr.ranking[0], 100 * e.accuracy, 100 * (fp32.accuracy - e.accuracy),
                     100 * e.agreement, secs});
        }
        EI8_RETURN_IF_ERROR(t.write(c.path("tables/recovery_" + w)));
        EI8_RETURN_IF_ERROR(recovery_figure(t, w, c.path("figures/recovery_" + w)));
        return StepOutcome::ok(fmt::format(
            "{} rows; FP32 {:.2f} %, W8A8 per-tensor {} %, W4A8 per-tensor {} % -> {} % with "
            "cle+bc+adaround; {} {} % ({:.1f} s)",
            t.num_rows(), 100 * fp32.accuracy, t.text(1, "accuracy_pct").value(),
            t.text(6, "accuracy_pct").value(), t.text(10, "accuracy_pct").value(),
            t.text(11, "config").value(), t.text(11, "accuracy_pct").value(), a16_s));
      }};
}

}  // namespace ei8::pipeline
