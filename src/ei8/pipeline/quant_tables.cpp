// Turning the quant module's results (plain data) into the tables run-all and the CLI write.
#include "ei8/pipeline/quant_tables.h"

#include <algorithm>
#include <cmath>
#include <filesystem>

namespace ei8::pipeline {
using report::Cell;
using report::Table;

namespace {

Cell num_or_na(double v) { return std::isnan(v) ? Cell(std::string("n/a")) : Cell(v); }

Cell finite_or_text(double v) {
  if (std::isnan(v)) return std::string("n/a");
  if (std::isinf(v)) return std::string(v > 0 ? "inf" : "-inf");
  return v;
}

}  // namespace

Table sweep_table(const quant::SweepResult& r) {
  Table t({"method",
           "weights",
           "activations",
           "profile",
           "accuracy_pct",
           "fp32_accuracy_pct",
           "drop_points",
           "agreement_pct",
           "int8_weight_bytes",
           "float_bytes",
           "model_bytes",
           "fp32_bytes",
           "latency_b1_us",
           "latency_b32_us",
           "search_seconds",
           "statistics_seconds",
           "calibration_seconds",
           "peak_memory_mb",
           "observer_memory_bytes",
           "float_nodes"});
  for (const char* c : {"accuracy_pct", "fp32_accuracy_pct", "drop_points", "agreement_pct",
                        "latency_b1_us", "latency_b32_us", "peak_memory_mb"}) {
    t.set_precision(c, 2);
  }
  for (const char* c : {"search_seconds", "statistics_seconds", "calibration_seconds"}) {
    t.set_precision(c, 4);
  }
  for (const quant::SweepRow& row : r.rows) {
    t.add_row({std::string(quant::calib_method_name(row.method)),
               std::string(quant::weight_granularity_name(row.weights)),
               row.activations,
               std::string(fixedpoint::profile_name(r.profile)),
               num_or_na(100 * row.accuracy),
               num_or_na(100 * r.fp32_accuracy),
               num_or_na(row.drop_points),
               100 * row.agreement,
               static_cast<double>(row.weight_bytes_int8),
               static_cast<double>(row.float_bytes),
               static_cast<double>(row.model_bytes),
               static_cast<double>(r.fp32_bytes),
               num_or_na(row.latency_b1_us),
               num_or_na(row.latency_b32_us),
               num_or_na(row.search_seconds),
               num_or_na(r.statistics_seconds),
               num_or_na(r.statistics_seconds + row.search_seconds),
               row.peak_memory_bytes < 0
                   ? Cell(std::string("n/a"))
                   : Cell(static_cast<double>(row.peak_memory_bytes) / (1024.0 * 1024.0)),
               static_cast<double>(r.observer_memory_bytes),
               static_cast<double>(row.float_nodes)});
  }
  return t;
}

Table mixed_precision_table(const quant::MixedPrecisionResult& r) {
  Table t({"step", "float_layers", "added_layer", "accuracy_pct", "fp32_accuracy_pct",
           "drop_points", "target_drop_points", "agreement_pct", "int8_weight_bytes", "float_bytes",
           "model_bytes", "bytes_vs_all_int8", "latency_b1_us", "latency_b32_us", "within_target"});
  for (const char* c : {"accuracy_pct", "fp32_accuracy_pct", "drop_points", "target_drop_points",
                        "agreement_pct", "latency_b1_us", "latency_b32_us"}) {
    t.set_precision(c, 2);
  }
  t.set_precision("bytes_vs_all_int8", 4);
  auto na = [](double v) { return std::isnan(v) ? Cell(std::string("n/a")) : Cell(v); };
  for (size_t k = 0; k < r.steps.size(); ++k) {
    const quant::MixedPrecisionStep& s = r.steps[k];
    std::string names;
    for (const std::string& n : s.float_layers) names += (names.empty() ? "" : ";") + n;
    const double base = r.steps.empty() ? 1.0 : static_cast<double>(r.steps[0].model_bytes);
    t.add_row({static_cast<double>(k), names, k == 0 ? std::string() : s.float_layers.back(),
               100 * s.accuracy, 100 * r.fp32_accuracy, s.drop_points, r.target_drop_points,
               100 * s.agreement, static_cast<double>(s.weight_bytes_int8),
               static_cast<double>(s.float_bytes), static_cast<double>(s.model_bytes),
               base > 0 ? static_cast<double>(s.model_bytes) / base : 1.0, na(s.latency_b1_us),
               na(s.latency_b32_us),
               std::string(s.drop_points <= r.target_drop_points ? "yes" : "no")});
  }
  return t;
}

Table sensitivity_table(const quant::SensitivityReport& r) {
  Table t({"rank", "node", "op", "only_accuracy_pct", "only_agreement_pct", "only_output_sqnr_db",
           "all_but_accuracy_pct", "all_but_agreement_pct", "fp32_accuracy_pct", "all_accuracy_pct",
           "all_agreement_pct"});
  for (const char* c :
       {"only_accuracy_pct", "only_agreement_pct", "only_output_sqnr_db", "all_but_accuracy_pct",
        "all_but_agreement_pct", "fp32_accuracy_pct", "all_accuracy_pct", "all_agreement_pct"}) {
    t.set_precision(c, 2);
  }
  std::vector<const quant::LayerSensitivity*> sorted;
  for (const quant::LayerSensitivity& s : r.layers) sorted.push_back(&s);
  std::sort(sorted.begin(), sorted.end(), [](auto* a, auto* b) { return a->rank < b->rank; });
  for (const quant::LayerSensitivity* s : sorted) {
    t.add_row({static_cast<double>(s->rank), s->node, s->op_type,
               finite_or_text(100 * s->only_accuracy), 100 * s->only_agreement,
               finite_or_text(s->only_output_sqnr_db), finite_or_text(100 * s->but_accuracy),
               100 * s->but_agreement, finite_or_text(100 * r.fp32_accuracy),
               finite_or_text(100 * r.all_accuracy), 100 * r.all_agreement});
  }
  return t;
}

Table layer_error_table(const quant::SensitivityReport& r) {
  Table t({"node", "op", "output", "sqnr_db", "cosine", "max_abs_error", "elements"});
  t.set_precision("sqnr_db", 3);
  t.set_precision("cosine", 6);
  for (const quant::LayerError& e : r.errors) {
    t.add_row({e.node, e.op_type, e.output, finite_or_text(e.sqnr_db), e.cosine, e.max_abs_error,
               static_cast<double>(e.elements)});
  }
  return t;
}

Table histogram_table(const std::vector<quant::HistogramBin>& bins) {
  Table t({"tensor", "bin", "lo", "hi", "count"});
  for (const quant::HistogramBin& b : bins) {
    t.add_row({b.tensor, static_cast<double>(b.bin), b.lo, b.hi, static_cast<double>(b.count)});
  }
  return t;
}

Table threshold_table(const std::vector<quant::CalibThreshold>& thresholds) {
  Table t({"tensor", "method", "min", "max", "observed_min", "observed_max"});
  for (const quant::CalibThreshold& c : thresholds) {
    t.add_row({c.tensor, std::string(quant::calib_method_name(c.method)),
               static_cast<double>(c.min), static_cast<double>(c.max),
               static_cast<double>(c.observed_min), static_cast<double>(c.observed_max)});
  }
  return t;
}

Status write_sensitivity(const quant::SensitivityReport& r, const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return io_error("cannot create directory {}: {}", dir, ec.message());
  EI8_RETURN_IF_ERROR(sensitivity_table(r).write(dir + "/sensitivity"));
  EI8_RETURN_IF_ERROR(layer_error_table(r).write(dir + "/layer_error"));
  EI8_RETURN_IF_ERROR(histogram_table(r.histograms).write(dir + "/tensor_histograms"));
  EI8_RETURN_IF_ERROR(threshold_table(r.thresholds).write(dir + "/calib_thresholds"));
  return {};
}

report::Table priced_points_table(const quant::PricedResult& r) {
  report::Table t({"point", "config", "precisions", "accuracy_pct", "fp32_accuracy_pct",
                   "drop_points", "target_drop_points", "cost_metric", "cost", "cost_unit",
                   "pareto", "within_target", "chosen"});
  for (const char* c : {"accuracy_pct", "fp32_accuracy_pct", "drop_points", "target_drop_points"}) {
    t.set_precision(c, 2);
  }
  t.set_precision("cost", r.metric == quant::CostMetric::kEnergy ? 3 : 1);
  for (size_t k = 0; k < r.points.size(); ++k) {
    const quant::PricedPoint& p = r.points[k];
    std::string prec;
    for (size_t i = 0; i < p.precision.size(); ++i) {
      prec += fmt::format("{}{}={}", i == 0 ? "" : ";", r.layers[i],
                          quant::layer_precision_name(p.precision[i]));
    }
    t.add_row({static_cast<double>(k), p.label, prec, 100 * p.accuracy, 100 * r.fp32_accuracy,
               p.drop_points, r.target_drop_points, std::string(quant::cost_metric_name(r.metric)),
               p.cost, std::string(quant::cost_metric_unit(r.metric)),
               std::string(p.pareto ? "yes" : "no"), std::string(p.within_target ? "yes" : "no"),
               std::string(k == r.chosen ? "yes" : "no")});
  }
  return t;
}

report::Table layer_price_table(const quant::PricedResult& r) {
  std::vector<std::string> cols = {"layer"};
  for (quant::LayerPrecision p : quant::kSearchPrecisions) {
    cols.push_back(
        fmt::format("{}_{}", quant::layer_precision_name(p), quant::cost_metric_name(r.metric)));
  }
  report::Table t(cols);
  for (size_t c = 1; c < cols.size(); ++c) {
    t.set_precision(cols[c], r.metric == quant::CostMetric::kEnergy ? 3 : 1);
  }
  for (const quant::LayerPrice& lp : r.prices) {
    std::vector<report::Cell> row = {lp.node};
    for (quant::LayerPrecision p : quant::kSearchPrecisions) {
      const double v = lp.cost[static_cast<size_t>(p)];
      row.push_back(std::isnan(v) ? report::Cell(std::string("n/a")) : report::Cell(v));
    }
    t.add_row(std::move(row));
  }
  return t;
}

}  // namespace ei8::pipeline
