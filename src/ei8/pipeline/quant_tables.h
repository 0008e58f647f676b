// ei8/pipeline/quant_tables.h — the quant module's results as report tables. quant returns
// plain data (structs, vectors); the pipeline and the CLI turn it into CSV/JSON/Markdown here.
//
//   EI8_ASSIGN_OR_RETURN(quant::SweepResult r, quant::run_sweep(g, st, ev, o, nullptr));
//   EI8_RETURN_IF_ERROR(sweep_table(r).write("results/tables/ptq_sweep"));
#pragma once

#include <string>
#include <vector>

#include "ei8/core/status.h"
#include "ei8/quant/mixed_precision.h"
#include "ei8/quant/priced_precision.h"
#include "ei8/quant/sensitivity.h"
#include "ei8/quant/sweep.h"
#include "ei8/report/table.h"

namespace ei8::pipeline {

// ptq_sweep columns: method, weights, activations, profile, accuracy_pct, fp32_accuracy_pct,
// drop_points, agreement_pct, int8_weight_bytes, float_bytes, model_bytes, fp32_bytes,
// latency_b1_us, latency_b32_us, search_seconds, statistics_seconds, calibration_seconds
// (= statistics + search), peak_memory_mb, observer_memory_bytes, float_nodes.
// Missing values (no labels, no latency) are the text "n/a".
report::Table sweep_table(const quant::SweepResult& r);

// mixed_precision.csv: step, float_layers (";"-separated), added_layer, accuracy_pct,
// fp32_accuracy_pct, drop_points, target_drop_points, agreement_pct, int8_weight_bytes,
// float_bytes, model_bytes, bytes_vs_all_int8, latency_b1_us, latency_b32_us, within_target.
report::Table mixed_precision_table(const quant::MixedPrecisionResult& r);
// The priced search (quant/priced_precision.h): one row per evaluated configuration (precision
// per layer, accuracy, drop, cost, pareto, chosen), and one row per layer with its price in
// each precision.
report::Table priced_points_table(const quant::PricedResult& r);
report::Table layer_price_table(const quant::PricedResult& r);

// sensitivity.csv (most sensitive first) and layer_error.csv.
report::Table sensitivity_table(const quant::SensitivityReport& r);
report::Table layer_error_table(const quant::SensitivityReport& r);
// tensor_histograms.csv: tensor, bin, lo, hi, count.
report::Table histogram_table(const std::vector<quant::HistogramBin>& bins);
// calib_thresholds.csv: tensor, method, min, max, observed_min, observed_max.
report::Table threshold_table(const std::vector<quant::CalibThreshold>& thresholds);

// Writes sensitivity.csv, layer_error.csv, tensor_histograms.csv, calib_thresholds.csv (+ .json)
// into `dir` (created).
Status write_sensitivity(const quant::SensitivityReport& r, const std::string& dir);

}  // namespace ei8::pipeline
