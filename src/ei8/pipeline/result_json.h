// ei8/pipeline/result_json.h — the JSON of the results that the CLI prints (`--json`) and the
// Python module returns (as dicts): one shaping per result, so that both say the same thing.
// quant_tables.h does the same for the results that are tables (sweep, sensitivity, ...).
//
//   fmt::print("{}\n", compare_json(graph, layer, 1.0).dump(2));      // edgeint8 compare --json
//   return json.loads(compare_json(graph, layer, 1.0).dump());        // edgeint8.compare(...)
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "ei8/arch/scalesim_topology.h"
#include "ei8/arch/systolic_model.h"
#include "ei8/quant/compare.h"
#include "ei8/quant/model_fixedpoint.h"
#include "ei8/quant/sensitivity.h"

namespace ei8::pipeline {

// One comparison (quant/compare.h): a, b, tensors[] {name, shape, elements, sqnr_db, cosine,
// max_abs, lsb, max_abs_lsb, beyond_1lsb, diverged} (non-finite numbers are null),
// first_divergence {tensor, index, flat_index, a, b} or null, only_a, only_b.
nlohmann::ordered_json comparison_json(const quant::Comparison& c);

// `compare --json`: the graph-wise comparison (the layer-wise one when there is no graph-wise
// one) plus mode and tolerance_lsb, and layer {...} when both were run. At least one is given.
nlohmann::ordered_json compare_json(const std::optional<quant::Comparison>& graph,
                                    const std::optional<quant::Comparison>& layer,
                                    double tolerance_lsb);

// One layer of `fixedpoint bitgrowth`: name, op, geometry, K, operands, operands_from_model,
// product_bits, accumulator_bits, worst_case_abs/bits, recommended_width, and the weight bound,
// the observed sums and the note when the analysis has them.
nlohmann::json bitgrowth_layer_json(const quant::LayerFixedPoint& l);

// `fixedpoint bitgrowth MODEL --json`: model, quantized, quantized_from_calibration,
// calibration_samples, layers[] (with fits_width when `width` is given), skipped[].
nlohmann::json bitgrowth_json(const std::string& model, const quant::ModelFixedPoint& r,
                              std::optional<int> width);

// `sim --json`: run_name, report_dir, word_bytes, layers[] {id, name, total_cycles, stall_cycles,
// overall_util_pct, mapping_efficiency_pct, compute_util_pct, macs, dram_*}.
nlohmann::json sim_json(const std::string& run_name, const std::string& report_dir,
                        int64_t word_bytes, const std::vector<arch::Layer>& layers,
                        const std::vector<arch::LayerStats>& stats);

// `analyze --json` (without its out): model, ranking, sensitivity[] and layer_error[] (the rows
// of sensitivity_table / layer_error_table), fp32_accuracy, all_accuracy, all_agreement.
nlohmann::ordered_json sensitivity_json(const std::string& model,
                                        const quant::SensitivityReport& r);

}  // namespace ei8::pipeline
