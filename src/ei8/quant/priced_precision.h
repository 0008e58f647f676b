// ei8/quant/priced_precision.h — mixed precision with a hardware price (issue 16 item 4): choose a
// precision per layer — int8 (W8A8), int16 (A16W8: int16 activations, int8 weights) or float —
// so that the accuracy drop vs FP32 stays within a target, at the lowest cost of a metric the
// user picks:
//   bytes    parameter bytes of the layer (int8 and int16: weight_bits/8 per weight + 4 per
//            int32 bias; float: 4 per weight and bias) + the activation bytes it reads and
//            writes per sample (input and output elements × 1, 2 or 4 B)
//   latency  measured: the integer engine's median µs per sample at batch 1 on the mixed model
//            (LatencyFn; not additive, one measurement per configuration)
//   cycles   (priced by pipeline/layer_prices.h: quant does not depend on arch) the systolic
//            simulator (arch/) on an array, each layer through the same layer view as
//            `edgeint8 arch` (workload_from_graph: grouped convs per group, FC as GEMM) with the
//            operand width of its precision (array_for: ArrayConfig::word_bytes int8 1, int16 2,
//            float 4 — the simulator has one word width per array, so an A16W8 layer's int8
//            weights are priced as 2-byte words too: an upper bound; the DRAM interface keeps
//            its width in bytes, so a layer gets max(1, ⌊bandwidth / word_bytes⌋) words per
//            cycle; the PEs do one MAC per cycle in every precision)
//   energy   arch's energy model on those layer statistics (energy.h); a float layer uses
//            a float table (pipeline/layer_prices.h default: the INT8 table with mac_pj ×16 and
//            array_bytes_per_mac ×4, an FP32 MAC taken as ~16× an INT8 one — Horowitz, ISSCC 2014,
//            45 nm: 8-bit integer multiply 0.2 pJ, 32-bit float multiply 3.7 pJ); an int16 layer
//            the INT8 table with mac_pj ×2 and array_bytes_per_mac ×2 (a 16×8 multiplier has
//            twice the partial products of an 8×8 one, and Horowitz's 8/32-bit multiplies,
//            0.2/3.1 pJ, scale with their product of widths; the wider accumulator adds likewise)
// Cycles and energy are additive over layers; host ops (pools, activations) are not priced.
//
// A configuration is evaluated by quantizing it (float layers excluded, int16 layers through
// PtqOptions::layer_precision) and running it on the integer engine. With at most
// `max_exhaustive_layers` layers every one of the 3^L configurations is; otherwise a greedy
// search: from all int8, repeatedly take the one-layer upgrade (int8 → int16 | float, int16 →
// float) with the largest accuracy gain per added cost (no accuracy gain: logits-SQNR gain per
// cost; ties: the earlier layer in `ranking`) until the target holds, then lower layers again
// while it still holds — O(L²) evaluations. The result is every evaluated point, its Pareto flag
// (no other point has lower-or-equal cost and higher-or-equal accuracy, one strictly), and the
// chosen point: the cheapest within the target (ties: more accurate), which is on the Pareto set.
//
//   PricedOptions o;  o.max_drop_points = 0.5;  o.cost = CostMetric::kCycles;
//   EI8_ASSIGN_OR_RETURN(PricedResult r, priced_mixed_precision(g, table, ev, o));
//   const PricedPoint& p = r.points[r.chosen];
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <functional>

#include "ei8/core/status.h"
#include "ei8/graph/graph.h"
#include "ei8/quant/calib_table.h"
#include "ei8/quant/evaluate.h"
#include "ei8/quant/ptq.h"
#include "ei8/quant/sweep.h"

namespace ei8::quant {

// The precisions the search tries per layer (LayerPrecision of ptq.h), cheapest first. Prices are
// indexed by static_cast<size_t>(LayerPrecision), kPrecisionSlots wide.
inline constexpr LayerPrecision kSearchPrecisions[] = {
    LayerPrecision::kInt8, LayerPrecision::kInt16, LayerPrecision::kFloat};
inline constexpr size_t kPrecisionSlots = 3;  // kInt8, kInt16, kFloat
// Operand bytes on the array: int8 1, int16 2, float 4.
int64_t precision_word_bytes(LayerPrecision p);

enum class CostMetric { kBytes, kLatency, kCycles, kEnergy };
std::string_view cost_metric_name(CostMetric c);  // "bytes", "latency", "cycles", "energy"
std::string_view cost_metric_unit(CostMetric c);  // "B", "us", "cycles", "nJ"
Result<CostMetric> parse_cost_metric(std::string_view name);

// The price of one layer in each precision (index = static_cast<size_t>(LayerPrecision)); NaN
// for latency (measured per configuration, not per layer).
struct LayerPrice {
  std::string node;
  std::vector<double> cost;
  std::vector<int64_t> cycles;  // per precision, the simulator's total cycles (0 without arch)
};

// Per-layer prices of `layers` (nodes of `g`) in the options' metric.
using LayerPriceFn = std::function<Result<std::vector<LayerPrice>>(
    const Graph& g, const std::vector<std::string>& layers)>;

struct PricedOptions {
  double max_drop_points = 0.3;  // finite, ≥ 0
  CostMetric cost = CostMetric::kBytes;
  PtqOptions ptq;  // exclude_nodes: float in every configuration (not searched)
  int64_t batch = 32;
  LayerPriceFn price;                // required for kCycles / kEnergy: arch_layer_prices
  LatencyFn latency;                 // required for kLatency
  int max_exhaustive_layers = 4;     // in [0, 8]; 3^4 = 81 configurations
  std::vector<std::string> ranking;  // most sensitive first (greedy ties); default: graph order
};

struct PricedPoint {
  std::vector<LayerPrecision> precision;  // one per PricedResult::layers
  double accuracy = 0.0;                  // fraction
  double drop_points = 0.0;
  double agreement = 0.0;
  double logits_sqnr_db = 0.0;  // first output vs FP32's on the evaluation set
  double cost = 0.0;            // in cost_metric_unit
  bool within_target = false;
  bool pareto = false;
  std::string label;  // "all int8", "int16: a", "float: a;b" or "int16: a float: b"
};

struct PricedResult {
  CostMetric metric = CostMetric::kBytes;
  double fp32_accuracy = 0.0, target_drop_points = 0.0;
  std::vector<std::string> layers;  // the searched layers (graph order)
  std::vector<LayerPrice> prices;   // one per layer
  std::vector<PricedPoint> points;  // every evaluated configuration
  size_t chosen = 0;                // index into points
  bool reached = false;
  bool exhaustive = false;
  std::string message;
  QuantizedModel model;  // the chosen configuration
};

// `g`: optimized float graph; `table`: its calibration table; `ev` with labels. Errors: no
// labels, bad target, latency metric without a latency function, cycles/energy without a price
// function, a ranked name that is not a searched layer.
Result<PricedResult> priced_mixed_precision(const Graph& g, const CalibTable& table,
                                            const EvalSet& ev, const PricedOptions& o);

// Parameter bytes per layer and precision (the kBytes prices).
Result<std::vector<LayerPrice>> byte_prices(const Graph& g, const std::vector<std::string>& layers,
                                            int weight_bits);

}  // namespace ei8::quant
