// The JSON shapes of the results the CLI prints and the Python module returns (result_json.h).
#include "ei8/pipeline/result_json.h"

#include <cmath>

#include "ei8/fixedpoint/bit_growth.h"
#include "ei8/pipeline/quant_tables.h"

namespace ei8::pipeline {
namespace {

using Ordered = nlohmann::ordered_json;

// null for ±inf and NaN: sqnr_db is +inf for identical tensors, -inf when A is all zero.
Ordered number_or_null(double v) { return std::isfinite(v) ? Ordered(v) : Ordered(nullptr); }

}  // namespace

Ordered comparison_json(const quant::Comparison& c) {
  Ordered j;
  j["a"] = c.a_source;
  j["b"] = c.b_source;
  Ordered ts = Ordered::array();
  for (const quant::TensorComparison& t : c.tensors) {
    Ordered e;
    e["name"] = t.name;
    e["shape"] = t.shape;
    e["elements"] = t.elements;
    e["sqnr_db"] = number_or_null(t.sqnr_db);
    e["cosine"] = t.cosine;
    e["max_abs"] = t.max_abs;
    e["lsb"] = number_or_null(t.lsb);
    e["max_abs_lsb"] = number_or_null(t.max_abs_lsb);
    e["beyond_1lsb"] = number_or_null(t.beyond_1lsb);
    e["diverged"] = t.diverged;
    ts.push_back(std::move(e));
  }
  j["tensors"] = std::move(ts);
  if (c.first_divergence) {
    const quant::Divergence& d = *c.first_divergence;
    j["first_divergence"] = {{"tensor", d.tensor},
                             {"index", d.index},
                             {"flat_index", d.flat_index},
                             {"a", d.a},
                             {"b", d.b}};
  } else {
    j["first_divergence"] = nullptr;
  }
  j["only_a"] = c.only_a;
  j["only_b"] = c.only_b;
  return j;
}

Ordered compare_json(const std::optional<quant::Comparison>& graph,
                     const std::optional<quant::Comparison>& layer, double tolerance_lsb) {
  Ordered j = comparison_json(graph ? *graph : *layer);
  j["mode"] = graph ? "graph" : "layer";
  j["tolerance_lsb"] = tolerance_lsb;
  if (graph && layer) j["layer"] = comparison_json(*layer);
  return j;
}

nlohmann::json bitgrowth_layer_json(const quant::LayerFixedPoint& l) {
  nlohmann::json j = {{"name", l.node},
                      {"op", l.op_type},
                      {"geometry", l.geometry},
                      {"K", l.k},
                      {"operands", fixedpoint::operand_kind_name(l.operands)},
                      {"operands_from_model", l.integer_operands},
                      {"product_bits", l.bound.product_bits},
                      {"accumulator_bits", l.bound.accumulator_bits},
                      {"worst_case_abs", l.bound.worst_case_abs},
                      {"worst_case_bits", l.bound.worst_case_bits},
                      {"recommended_width", l.bound.recommended_width}};
  if (l.has_weight_bound) {
    j["weight_bound_abs"] = l.weight_bound_abs;
    j["weight_bound_bits"] = l.weight_bound_bits;
  }
  if (l.has_observed) {
    j["observed_abs"] = l.observed_abs;
    j["observed_partial_abs"] = l.observed_partial_abs;
    j["observed_bits"] = l.observed_bits;
  }
  if (!l.note.empty()) j["note"] = l.note;
  return j;
}

nlohmann::json bitgrowth_json(const std::string& model, const quant::ModelFixedPoint& r,
                              std::optional<int> width) {
  nlohmann::json j = {{"model", model},
                      {"quantized", r.quantized},
                      {"quantized_from_calibration", r.quantized_here},
                      {"calibration_samples", r.calib_samples},
                      {"layers", nlohmann::json::array()},
                      {"skipped", nlohmann::json::array()}};
  for (const quant::LayerFixedPoint& l : r.layers) {
    nlohmann::json jl = bitgrowth_layer_json(l);
    if (width) jl["fits_width"] = l.bound.accumulator_bits <= *width;
    j["layers"].push_back(std::move(jl));
  }
  for (const SkippedLayer& s : r.skipped) {
    j["skipped"].push_back({{"name", s.node}, {"op", s.op_type}, {"reason", s.reason}});
  }
  return j;
}

nlohmann::json sim_json(const std::string& run_name, const std::string& report_dir,
                        int64_t word_bytes, const std::vector<arch::Layer>& layers,
                        const std::vector<arch::LayerStats>& stats) {
  nlohmann::json j;
  j["run_name"] = run_name;
  j["report_dir"] = report_dir;
  j["word_bytes"] = word_bytes;
  j["layers"] = nlohmann::json::array();
  for (size_t i = 0; i < stats.size(); ++i) {
    const arch::LayerStats& s = stats[i];
    j["layers"].push_back({{"id", i},
                           {"name", layers[i].name},
                           {"total_cycles", s.total_cycles},
                           {"stall_cycles", s.stall_cycles},
                           {"overall_util_pct", s.overall_util},
                           {"mapping_efficiency_pct", s.mapping_efficiency},
                           {"compute_util_pct", s.compute_util},
                           {"macs", s.macs},
                           {"dram_ifmap_reads", s.dram_ifmap_reads},
                           {"dram_filter_reads", s.dram_filter_reads},
                           {"dram_ofmap_writes", s.dram_ofmap_writes}});
  }
  return j;
}

Ordered sensitivity_json(const std::string& model, const quant::SensitivityReport& r) {
  Ordered j;
  j["model"] = model;
  j["ranking"] = r.ranking;
  j["sensitivity"] = Ordered::parse(sensitivity_table(r).to_json());
  j["layer_error"] = Ordered::parse(layer_error_table(r).to_json());
  j["fp32_accuracy"] = number_or_null(r.fp32_accuracy);
  j["all_accuracy"] = number_or_null(r.all_accuracy);
  j["all_agreement"] = number_or_null(r.all_agreement);
  return j;
}

}  // namespace ei8::pipeline
