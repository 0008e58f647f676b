// Part B of run-all: on each exported model (models/<w>.onnx), the PTQ sweep, the per-layer
// sensitivity analysis and the accuracy-aware mixed-precision fallback, with their figures.
// Calibration samples come from the training split (seeded subset), evaluation from the test
// split of the workload's data set.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>

#include "ei8/data/dataset.h"
#include "ei8/graph/onnx/onnx_io.h"
#include "ei8/graph/passes.h"
#include "ei8/pipeline/quant_tables.h"
#include "ei8/pipeline/steps.h"
#include "ei8/quant/calibration.h"
#include "ei8/quant/evaluate.h"
#include "ei8/quant/int8_engine.h"
#include "ei8/quant/mixed_precision.h"
#include "ei8/quant/sensitivity.h"
#include "ei8/quant/sweep.h"
#include "ei8/report/figure.h"
#include "ei8/report/table.h"

namespace ei8::pipeline {
namespace fs = std::filesystem;
using report::Figure;
using report::Table;

namespace {

std::string model_path(const std::string& w) { return "models/" + w + ".onnx"; }

// Samples used for calibration and for evaluation.
struct QuantSizes {
  int64_t calib = 1000;
  int64_t eval = 0;  // 0 = the whole test split
};
QuantSizes quant_sizes(const RunAllSettings& s) {
  return s.quick ? QuantSizes{.calib = 256, .eval = 500} : QuantSizes{};
}

// The optimized float graph, its calibration statistics and the labelled evaluation set.
struct QuantInputs {
  Graph graph;
  quant::Statistics stats;
  quant::EvalSet eval;
  std::string dataset;
};

Result<QuantInputs> load_quant_inputs(const StepContext& c, const RunAllSettings& s,
                                      const std::string& w) {
  QuantInputs in;
  EI8_ASSIGN_OR_RETURN(in.graph, load_onnx(c.path(model_path(w))));
  EI8_RETURN_IF_ERROR(optimize(in.graph));
  const QuantSizes n = quant_sizes(s);
  data::DatasetOptions d = dataset_for(s, w);
  if (n.eval > 0) d.test_size = n.eval;
  EI8_ASSIGN_OR_RETURN(data::SplitDataset ds, data::load_dataset(d));
  in.dataset = d.name;
  const data::Dataset calib = data::calibration_subset(ds.train, n.calib, s.seed);
  EI8_ASSIGN_OR_RETURN(in.stats, quant::collect_statistics(in.graph, calib.samples, {}));
  std::vector<int64_t> labels(ds.test.labels.begin(), ds.test.labels.end());
  EI8_ASSIGN_OR_RETURN(in.eval, quant::make_eval_set(in.graph, std::move(ds.test.samples), labels));
  return in;
}

// The sweep's grid: every method × granularity × activation scheme; quick mode keeps the two
// most used methods and the default (asymmetric) activations.
quant::SweepOptions sweep_options(const RunAllSettings& s) {
  quant::SweepOptions o;
  if (s.quick) {
    o.methods = {quant::CalibMethod::kMinMax, quant::CalibMethod::kEntropy};
    o.act_symmetric = {false};
  }
  o.latency = int8_latency_function();
  return o;
}

std::string config_label(const Table& t, size_t r) {
  return fmt::format("{} {}", t.text(r, "method").value(), t.text(r, "weights").value());
}

// Accuracy per strategy (bars per method × weights, one series per activation scheme) with
// the FP32 accuracy as a line.
Status sweep_accuracy_figure(const Table& t, const std::string& w, const std::string& stem) {
  Figure f{.kind = report::FigureKind::kGroupedBars,
           .title = fmt::format("INT8 accuracy per quantization strategy, {}", w),
           .xlabel = "calibration method and weight granularity",
           .ylabel = "top-1 accuracy (%)"};
  std::vector<std::string> schemes;
  for (size_t r = 0; r < t.num_rows(); ++r) {
    const std::string cat = config_label(t, r);
    const std::string sch = t.text(r, "activations").value();
    if (std::find(f.categories.begin(), f.categories.end(), cat) == f.categories.end()) {
      f.categories.push_back(cat);
    }
    if (std::find(schemes.begin(), schemes.end(), sch) == schemes.end()) schemes.push_back(sch);
  }
  double lo = 100;
  for (const auto& sch : schemes) {
    report::Series se{.label = "activations " + sch};
    se.y.assign(f.categories.size(), NAN);
    for (size_t r = 0; r < t.num_rows(); ++r) {
      if (t.text(r, "activations").value() != sch) continue;
      const auto it = std::find(f.categories.begin(), f.categories.end(), config_label(t, r));
      Result<double> acc = t.number(r, "accuracy_pct");
      if (!acc.ok()) continue;
      se.y[static_cast<size_t>(it - f.categories.begin())] = *acc;
      lo = std::min(lo, *acc);
    }
    f.series.push_back(std::move(se));
  }
  if (t.num_rows() > 0) {
    Result<double> fp32 = t.number(0, "fp32_accuracy_pct");
    if (fp32.ok()) {
      f.hlines.push_back({.label = "FP32", .y = *fp32});
      lo = std::min(lo, *fp32);
    }
  }
  f.ymin = std::max(0.0, std::floor(lo - 2));
  f.ymax = 100.5;
  return report::render(f, stem);
}

// Accuracy against INT8 latency (batch 1) per strategy; needs the latency column.
Status accuracy_latency_figure(const Table& t, const std::string& w, const std::string& stem,
                               bool* drawn) {
  Figure f{.kind = report::FigureKind::kScatter,
           .title = fmt::format("Accuracy vs INT8 latency (batch 1), {}", w),
           .xlabel = "INT8 latency, batch 1 (us)",
           .ylabel = "top-1 accuracy (%)"};
  std::map<std::string, report::Series> by_scheme;
  for (size_t r = 0; r < t.num_rows(); ++r) {
    Result<double> lat = t.number(r, "latency_b1_us");
    Result<double> acc = t.number(r, "accuracy_pct");
    if (!lat.ok() || !acc.ok()) continue;
    report::Series& se = by_scheme[t.text(r, "activations").value()];
    se.label = "activations " + t.text(r, "activations").value();
    se.x.push_back(*lat);
    se.y.push_back(*acc);
    se.point_labels.push_back(config_label(t, r));
  }
  *drawn = !by_scheme.empty();
  if (!*drawn) return {};
  for (auto& [k, se] : by_scheme) f.series.push_back(std::move(se));
  if (t.num_rows() > 0) {
    Result<double> fp32 = t.number(0, "fp32_accuracy_pct");
    if (fp32.ok()) f.hlines.push_back({.label = "FP32", .y = *fp32});
  }
  return report::render(f, stem);
}

// Per-layer SQNR of the quantized model's activations (error accumulated up to each layer).
Status layer_error_figure(const Table& errors, const std::string& w, const std::string& stem) {
  Figure f{.kind = report::FigureKind::kGroupedBars,
           .title = fmt::format("Per-layer INT8 activation error (best sweep config), {}", w),
           .xlabel = "layer (graph order)",
           .ylabel = "SQNR of the layer output vs FP32 (dB)"};
  report::Series se{.label = "SQNR (higher is better)"};
  for (size_t r = 0; r < errors.num_rows(); ++r) {
    Result<double> v = errors.number(r, "sqnr_db");
    f.categories.push_back(errors.text(r, "node").value());
    se.y.push_back(v.ok() ? *v : NAN);
  }
  f.series.push_back(std::move(se));
  f.ymin = 0;
  return report::render(f, stem);
}

// The histogram of one tensor with each calibrator's clip range drawn as vertical lines.
Status threshold_figure(const Table& hist, const Table& thr, const std::string& tensor,
                        const std::string& w, const std::string& stem) {
  Figure f{.kind = report::FigureKind::kLines,
           .title = fmt::format("Values of '{}' and each calibrator's clip range, {}", tensor, w),
           .xlabel = "activation value",
           .ylabel = "count per bin (log scale)",
           .logy = true};
  report::Series h{.label = "histogram (calibration data)", .markers = false};
  double peak = 1;
  for (size_t r = 0; r < hist.num_rows(); ++r) {
    if (hist.text(r, "tensor").value() != tensor) continue;
    const double lo = hist.number(r, "lo").value(), hi = hist.number(r, "hi").value();
    const double n = hist.number(r, "count").value();
    if (n <= 0) continue;
    h.x.push_back(0.5 * (lo + hi));
    h.y.push_back(n);
    peak = std::max(peak, n);
  }
  if (h.x.empty()) return not_found("tensor '{}' has no histogram rows", tensor);
  f.series.push_back(std::move(h));
  for (size_t r = 0; r < thr.num_rows(); ++r) {
    if (thr.text(r, "tensor").value() != tensor) continue;
    const std::string m = thr.text(r, "method").value();
    const double hi = thr.number(r, "max").value();
    f.series.push_back({.label = fmt::format("{} clip max {:.3g}", m, hi),
                        .x = {hi, hi},
                        .y = {1, peak},
                        .markers = false});
  }
  return report::render(f, stem);
}

// The sweep's most accurate configuration (ties: the first row), which the sensitivity
// analysis and the mixed-precision fallback then refine.
struct SweepChoice {
  quant::CalibParams calib;
  quant::PtqOptions ptq;
  std::string label;
};

Result<SweepChoice> best_sweep_config(const StepContext& c, const std::string& w) {
  const std::string path = c.path("tables/ptq_sweep_" + w + ".csv");
  EI8_ASSIGN_OR_RETURN(Table t, Table::read_csv(path));
  size_t best = t.num_rows();
  double best_acc = -1;
  for (size_t r = 0; r < t.num_rows(); ++r) {
    Result<double> acc = t.number(r, "accuracy_pct");
    if (!acc.ok()) acc = t.number(r, "agreement_pct");
    if (acc.ok() && *acc > best_acc) {
      best = r;
      best_acc = *acc;
    }
  }
  if (best == t.num_rows()) return not_found("cannot choose a configuration: {} has no rows", path);
  SweepChoice ch;
  EI8_ASSIGN_OR_RETURN(std::string method, t.text(best, "method"));
  EI8_ASSIGN_OR_RETURN(std::string weights, t.text(best, "weights"));
  EI8_ASSIGN_OR_RETURN(std::string act, t.text(best, "activations"));
  EI8_ASSIGN_OR_RETURN(ch.calib.method, quant::parse_calib_method(method));
  EI8_ASSIGN_OR_RETURN(ch.ptq.weights, quant::parse_weight_granularity(weights));
  if (act == "u8-asym") {
    ch.ptq.act_type = quant::QType::kU8;
  } else if (act == "s8-asym") {
    ch.ptq.act_type = quant::QType::kS8;
  } else if (act == "s8-sym") {
    ch.ptq.act_type = quant::QType::kS8;
    ch.ptq.act_symmetric = true;
  } else {
    return invalid_argument("{}: activations = '{}', must be u8-asym, s8-asym or s8-sym", path,
                            act);
  }
  ch.label = fmt::format("{} {} {}", method, weights, act);
  return ch;
}

}  // namespace

quant::LatencyFn int8_latency_function() {
  return [](const quant::QuantizedModel& m, int64_t batch) {
    return quant::int8_latency_us(m, batch, 20);
  };
}

Step ptq_sweep_step(const RunAllSettings& s, const std::string& w) {
  const QuantSizes n = quant_sizes(s);
  const quant::SweepOptions o = sweep_options(s);
  return {
      .name = "ptq_sweep." + w,
      .description = "calibration methods x weight granularity x activation scheme",
      .settings = fmt::format("calib={} eval={} rows={} seed={} latency={}", n.calib, n.eval,
                              quant::sweep_size(o), s.seed, o.latency ? "int8" : "none"),
      .inputs = {model_path(w)},
      .outputs = {"tables/ptq_sweep_" + w + ".csv", "figures/ptq_accuracy_" + w + ".png"},
      .run = [s, w, o](StepContext& c) -> Result<StepOutcome> {
        EI8_ASSIGN_OR_RETURN(QuantInputs in, load_quant_inputs(c, s, w));
        Progress progress("ptq_sweep." + w, static_cast<int64_t>(quant::sweep_size(o)), "configs");
        EI8_ASSIGN_OR_RETURN(quant::SweepResult r,
                             quant::run_sweep(in.graph, in.stats, in.eval, o, &progress));
        const Table t = sweep_table(r);
        EI8_RETURN_IF_ERROR(t.write(c.path("tables/ptq_sweep_" + w)));
        EI8_RETURN_IF_ERROR(sweep_accuracy_figure(t, w, c.path("figures/ptq_accuracy_" + w)));
        bool drawn = false;
        EI8_RETURN_IF_ERROR(
            accuracy_latency_figure(t, w, c.path("figures/ptq_acc_latency_" + w), &drawn));
        const quant::SweepRow* best = r.best();
        return StepOutcome::ok(fmt::format(
            "{} configs on {} ({} eval samples); FP32 {:.2f} %, best {} {} {} {:.2f} %",
            r.rows.size(), in.dataset, r.eval_samples, 100 * r.fp32_accuracy,
            quant::calib_method_name(best->method), quant::weight_granularity_name(best->weights),
            best->activations, 100 * best->accuracy));
      }};
}

Step sensitivity_step(const RunAllSettings& s, const std::string& w) {
  const QuantSizes n = quant_sizes(s);
  return {.name = "sensitivity." + w,
          .description = "per-layer error, leave-one-out both ways, calibrator thresholds",
          .settings =
              fmt::format("calib={} eval={} seed={} config=best-of-sweep", n.calib, n.eval, s.seed),
          .inputs = {model_path(w), "tables/ptq_sweep_" + w + ".csv"},
          .outputs = {"tables/sensitivity_" + w + ".csv", "tables/layer_error_" + w + ".csv",
                      "tables/tensor_histograms_" + w + ".csv",
                      "tables/calib_thresholds_" + w + ".csv"},
          .run = [s, w](StepContext& c) -> Result<StepOutcome> {
            EI8_ASSIGN_OR_RETURN(SweepChoice ch, best_sweep_config(c, w));
            EI8_ASSIGN_OR_RETURN(QuantInputs in, load_quant_inputs(c, s, w));
            quant::SensitivityOptions o;
            o.calib = ch.calib;
            o.ptq = ch.ptq;
            EI8_ASSIGN_OR_RETURN(quant::SensitivityReport r,
                                 quant::analyze_sensitivity(in.graph, in.stats, in.eval, o));
            const Table errors = layer_error_table(r);
            const Table histograms = histogram_table(r.histograms);
            const Table thresholds = threshold_table(r.thresholds);
            EI8_RETURN_IF_ERROR(sensitivity_table(r).write(c.path("tables/sensitivity_" + w)));
            EI8_RETURN_IF_ERROR(errors.write(c.path("tables/layer_error_" + w)));
            EI8_RETURN_IF_ERROR(histograms.write(c.path("tables/tensor_histograms_" + w)));
            EI8_RETURN_IF_ERROR(thresholds.write(c.path("tables/calib_thresholds_" + w)));
            EI8_RETURN_IF_ERROR(layer_error_figure(errors, w, c.path("figures/layer_error_" + w)));
            // The thresholds figure shows the input of the most sensitive layer.
            std::string tensor;
            if (!r.ranking.empty()) {
              for (const Node& node : in.graph.nodes()) {
                if (node.name == r.ranking.front() && !node.inputs.empty()) tensor = node.inputs[0];
              }
            }
            if (!tensor.empty()) {
              EI8_RETURN_IF_ERROR(threshold_figure(histograms, thresholds, tensor, w,
                                                   c.path("figures/calib_thresholds_" + w)));
            }
            return StepOutcome::ok(fmt::format(
                "{}: {} layers; most sensitive: {}; all quantized {:.2f} % (FP32 {:.2f} %)",
                ch.label, r.layers.size(), r.ranking.empty() ? "-" : r.ranking.front(),
                100 * r.all_accuracy, 100 * r.fp32_accuracy));
          }};
}

Step mixed_precision_step(const RunAllSettings& s, const std::string& w) {
  const QuantSizes n = quant_sizes(s);
  constexpr double kMaxDrop = 0.3;
  return {
      .name = "mixed_precision." + w,
      .description = "keep the most sensitive layers float until the drop is <= 0.3 points",
      .settings =
          fmt::format("calib={} eval={} seed={} max_drop={}", n.calib, n.eval, s.seed, kMaxDrop),
      .inputs = {model_path(w), "tables/ptq_sweep_" + w + ".csv",
                 "tables/sensitivity_" + w + ".csv"},
      .outputs = {"tables/mixed_precision_" + w + ".csv"},
      .run = [s, w](StepContext& c) -> Result<StepOutcome> {
        EI8_ASSIGN_OR_RETURN(QuantInputs in, load_quant_inputs(c, s, w));
        // The ranking the sensitivity step measured (rows sorted by rank).
        EI8_ASSIGN_OR_RETURN(Table sens,
                             Table::read_csv(c.path("tables/sensitivity_" + w + ".csv")));
        std::vector<std::string> ranking;
        for (size_t r = 0; r < sens.num_rows(); ++r) {
          EI8_ASSIGN_OR_RETURN(std::string node, sens.text(r, "node"));
          ranking.push_back(node);
        }
        EI8_ASSIGN_OR_RETURN(SweepChoice ch, best_sweep_config(c, w));
        quant::MixedPrecisionOptions o;
        o.ptq = ch.ptq;
        o.max_drop_points = kMaxDrop;
        o.latency = int8_latency_function();
        EI8_ASSIGN_OR_RETURN(quant::CalibTable table,
                             quant::make_table(in.stats, quant::calib_target(o.ptq, ch.calib)));
        EI8_ASSIGN_OR_RETURN(quant::MixedPrecisionResult r,
                             quant::mixed_precision(in.graph, table, in.eval, ranking, o));
        EI8_RETURN_IF_ERROR(mixed_precision_table(r).write(c.path("tables/mixed_precision_" + w)));
        return StepOutcome::ok(ch.label + ": " + r.message);
      }};
}

}  // namespace ei8::pipeline
