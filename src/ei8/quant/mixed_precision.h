// ei8/quant/mixed_precision.h — accuracy-aware fallback: keep the most sensitive layers in float,
// one at a time in the order of a sensitivity ranking (sensitivity.h), until the measured
// accuracy drop vs FP32 is within a target; report each step's accuracy, bytes and latency.
//
//   MixedPrecisionOptions o;  o.max_drop_points = 0.3;  o.ptq = ...;
//   EI8_ASSIGN_OR_RETURN(MixedPrecisionResult r,
//                        mixed_precision(g, table, ev, sens.ranking, o));
//   if (!r.reached) fmt::print("{}\n", r.message);
//   EI8_RETURN_IF_ERROR(r.table().write("results/tables/mixed_precision"));
//   save_onnx(r.model.qdq, "model.mixed.onnx");
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ei8/core/status.h"
#include "ei8/graph/graph.h"
#include "ei8/quant/calib_table.h"
#include "ei8/quant/evaluate.h"
#include "ei8/quant/ptq.h"
#include "ei8/quant/sweep.h"

namespace ei8::quant {

struct MixedPrecisionOptions {
  double max_drop_points = 0.3;  // target: 100·(FP32 acc − acc) ≤ this; finite, ≥ 0
  PtqOptions ptq;                // exclude_nodes: kept float in every step, too
  int64_t batch = 32;            // evaluation batch, ≥ 1
  LatencyFn latency;             // optional; NaN latency columns without it
};

struct MixedPrecisionStep {
  std::vector<std::string> float_layers;  // layers kept float in this step (cumulative)
  double accuracy = 0.0;                  // fraction [0, 1]
  double drop_points = 0.0;               // 100·(FP32 − accuracy)
  double agreement = 0.0;                 // top-1 agreement with FP32
  int64_t weight_bytes_int8 = 0, float_bytes = 0, model_bytes = 0;
  double latency_b1_us = 0.0, latency_b32_us = 0.0;  // NaN without a latency function
};

struct MixedPrecisionResult {
  double fp32_accuracy = 0.0;
  double target_drop_points = 0.0;
  bool reached = false;
  std::string message;                    // one line: what was reached, or why not
  std::vector<MixedPrecisionStep> steps;  // steps[0]: all layers quantized; then one more float
  QuantizedModel model;                   // the model of the last step
};

// `g`: the optimized float graph; `table`: its calibration table; `ranking`: weighted layer
// names, most sensitive first (SensitivityReport::ranking). Needs labels. Stops at the first step
// within the target, or after every ranked layer fell back (reached = false, message says the
// best drop). Errors: no labels, bad target, a ranked name that is not a node of `g`.
Result<MixedPrecisionResult> mixed_precision(const Graph& g, const CalibTable& table,
                                             const EvalSet& ev,
                                             const std::vector<std::string>& ranking,
                                             const MixedPrecisionOptions& o);

}  // namespace ei8::quant
