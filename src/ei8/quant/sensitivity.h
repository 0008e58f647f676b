// ei8/quant/sensitivity.h — which layers hurt when quantized, and what the calibrators see.
//
//   * layer_errors: run the float graph and the simulated QDQ graph of `model` on the same data
//     and compare each quantized layer's output (float "y" vs the dequantized INT8 "y" the next
//     layer reads): SQNR = 10·log10(Σy² / Σ(y − ŷ)²) dB, cosine similarity, max |y − ŷ|. This is
//     the accumulated error up to that layer (its inputs are already quantized).
//   * leave_one_out: for each weighted layer i, accuracy/agreement with only layer i quantized
//     (every other node kept float through PtqOptions::exclude_nodes) and with all but layer i
//     quantized; plus the SQNR of the final output (logits) with only layer i quantized.
//   * rank: most sensitive first = lowest output SQNR with only that layer quantized (ties: the
//     larger agreement loss with only that layer quantized, then the larger recovery when it
//     alone stays float).
//   * tensor_histograms / calib_thresholds: each observed tensor's histogram merged to ≤ `bins`
//     bins over its occupied range, and the clip range each calibrator picks for it.
//
//   EI8_ASSIGN_OR_RETURN(SensitivityReport r, analyze_sensitivity(g, st, ev,
//   SensitivityOptions{}));
//   r.ranking  // node names, most sensitive first (what mixed_precision() falls back in order)
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ei8/core/progress.h"
#include "ei8/core/status.h"
#include "ei8/graph/graph.h"
#include "ei8/quant/calibration.h"
#include "ei8/quant/evaluate.h"
#include "ei8/quant/ptq.h"

namespace ei8::quant {

struct LayerError {
  std::string node, op_type, output;
  double sqnr_db = 0.0;        // +inf when identical
  double cosine = 1.0;         // in [−1, 1]
  double max_abs_error = 0.0;  // same units as the activation
  int64_t elements = 0;        // values compared (samples × output size)
};

// Error of every weighted layer's output of `model` (built from the optimized float graph `g`).
Result<std::vector<LayerError>> layer_errors(const Graph& g, const QuantizedModel& model,
                                             const EvalSet& ev, int64_t batch);

struct LayerSensitivity {
  std::string node, op_type;
  double only_accuracy = 0.0, only_agreement = 0.0;  // only this layer quantized
  double only_output_sqnr_db = 0.0;                  // logits vs FP32, only this layer quantized
  double but_accuracy = 0.0, but_agreement = 0.0;    // all layers but this one quantized
  int rank = 0;                                      // 1 = most sensitive
};

// One bin of an observed tensor's histogram: [lo, hi) holds `count` values.
struct HistogramBin {
  std::string tensor;
  int64_t bin = 0;
  double lo = 0.0, hi = 0.0;
  uint64_t count = 0;
};

// The clip range one calibrator picks for one tensor, beside the observed range.
struct CalibThreshold {
  std::string tensor;
  CalibMethod method = CalibMethod::kMinMax;
  float min = 0.0f, max = 0.0f;
  float observed_min = 0.0f, observed_max = 0.0f;
};

struct SensitivityOptions {
  CalibParams calib;  // method (default mse) and hyper-parameters of the analysed model
  PtqOptions ptq;     // weights / activations / profile; exclude_nodes is overwritten
  int64_t batch = 32;
  int64_t histogram_bins = 128;  // bins per tensor in tensor_histograms
  SensitivityOptions() { calib.method = CalibMethod::kMse; }
};

struct SensitivityReport {
  double fp32_accuracy = 0.0;                      // NaN without labels
  double all_accuracy = 0.0, all_agreement = 0.0;  // every layer quantized
  std::vector<LayerError> errors;                  // per weighted layer, graph order
  std::vector<LayerSensitivity> layers;            // per weighted layer, graph order
  std::vector<std::string> ranking;                // node names, most sensitive first
  std::vector<HistogramBin> histograms;            // every observed tensor's histogram
  std::vector<CalibThreshold> thresholds;          // 5 calibrators per observed tensor
};

Result<SensitivityReport> analyze_sensitivity(const Graph& g, const Statistics& st,
                                              const EvalSet& ev, const SensitivityOptions& o,
                                              Progress* progress = nullptr);

// Histograms of every observed tensor: ≤ `bins` bins per tensor covering the occupied signed
// range (adjacent histogram bins merged; counts exact).
Result<std::vector<HistogramBin>> tensor_histograms(const Statistics& st, int64_t bins);
// The clip range of minmax, percentile, entropy, mse and aciq for every observed tensor with the
// target of `ptq` (symmetric or not, steps).
Result<std::vector<CalibThreshold>> calib_thresholds(const Statistics& st, const PtqOptions& ptq,
                                                     const CalibParams& base);

}  // namespace ei8::quant
