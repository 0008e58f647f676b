// ei8/quant/recovery.h — getting accuracy back after quantization without retraining, on the
// INT8 model itself: empirical bias correction and AdaRound (both on calibration data).
//
// Bias correction (Nagel et al., ICCV 2019, "empirical"): quantizing weights and inputs shifts
// the mean of a layer's pre-activation output, E[W̃x̃] ≠ E[Wx]. Layer by layer in graph order,
// the mean per output channel of the float model's pre-activation output and of the quantized
// model's (QDQ simulation, every earlier correction applied) are measured on the calibration
// data, and the difference is added to the int32 bias: b_q[c] += round_half_even(δ_c /
// (s_x·s_w[c])). Every later layer then sees the corrected one.
//
// AdaRound (Nagel et al., ICML 2020): per layer, instead of rounding each weight to the nearest
// step, choose up or down so that the layer output on calibration data stays close:
//   minimise  ‖W·X − W̃·X̃‖² / P + λ·Σ (1 − |2h(V) − 1|^β),   W̃ = s·clamp(⌊W/s⌋ + h(V), −q, q)
// with h(V) = clip(σ(V)·(ζ − γ) + γ, 0, 1), ζ = 1.1, γ = −0.1, β annealed from 20 to 2 after a
// 20 % warm-up, Adam on V (initialised so that h = the fractional part), X the float model's
// layer input and X̃ the quantized model's (earlier layers already rounded), P columns (conv
// patches or Gemm rows, a seeded subset of at most `max_columns`). The quadratic form uses the
// K×K matrices X̃X̃ᵀ, XX̃ᵀ and XXᵀ accumulated once, so an iteration costs C_out·K² — no autograd
// is needed. The final rounding is h ≥ 0.5; a layer whose reconstruction error is not below
// nearest rounding's keeps nearest rounding. Time-bounded (the budget is shared by the layers)
// and deterministic for a seed. Too few columns (P < 2·K) or a budget that runs out before half
// the iterations keeps nearest rounding for that layer, with a note saying so.
//
//   EI8_ASSIGN_OR_RETURN(QuantizedModel m, quantize_model(g, table, ptq));
//   EI8_ASSIGN_OR_RETURN(AdaRoundReport a, adaround_weights(g, m, calib, {}));
//   EI8_ASSIGN_OR_RETURN(BiasCorrectionReport b, correct_bias(g, m, calib, {}));
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ei8/core/status.h"
#include "ei8/core/tensor.h"
#include "ei8/graph/graph.h"
#include "ei8/quant/calibration.h"
#include "ei8/quant/equalize.h"
#include "ei8/quant/ptq.h"

namespace ei8::quant {

// Gives every Conv/Gemm without a bias a zero bias (function unchanged), so that bias
// correction has an int32 bias to fold into. Returns the number of biases added.
int add_zero_biases(Graph& g);

struct BiasCorrectionOptions {
  int64_t batch = 32;         // samples per forward pass, ≥ 1
  int64_t max_samples = 512;  // calibration samples used (the first ones), ≥ 1
};

struct BiasCorrectionLayer {
  std::string node;
  int64_t channels = 0;
  double mean_abs_shift = 0.0;  // mean |δ_c| over channels (real units)
  int64_t max_shift_steps = 0;  // max |change| of an int32 bias (bias steps)
};

struct BiasCorrectionReport {
  std::vector<BiasCorrectionLayer> layers;
  std::vector<std::string> notes;  // layers skipped and why
  double seconds = 0.0;
};

// `g`: the optimized float graph `m` was quantized from; `calib` [N, ...input] f32. Changes the
// int32 biases of `m` (QuantizedLayer::bias_q and the QDQ graph's bias initializers). Errors: no
// samples, a layer of `m` missing from `g`.
Result<BiasCorrectionReport> correct_bias(const Graph& g, QuantizedModel& m, const Tensor& calib,
                                          const BiasCorrectionOptions& options);

struct AdaRoundOptions {
  int iterations = 1000;        // Adam steps per layer, ≥ 1
  double time_budget_s = 60.0;  // for all layers together, > 0
  double reg = 0.01;            // λ
  double learning_rate = 0.01;
  int64_t max_columns = 8192;  // patch columns per layer (seeded subset)
  int64_t max_samples = 256;   // calibration samples used, ≥ 1
  int64_t batch = 32;
  uint64_t seed = 1;
};

struct AdaRoundLayer {
  std::string node;
  bool applied = false;  // false: nearest rounding kept (see note)
  int iterations = 0;    // Adam steps run
  int64_t columns = 0, features = 0;
  double loss_nearest = 0.0;   // ‖WX − W̃X̃‖²/P with nearest rounding
  double loss_adaround = 0.0;  // with the chosen rounding
  double flipped = 0.0;        // share of weights rounded the other way than nearest
  std::string note;
};

struct AdaRoundReport {
  std::vector<AdaRoundLayer> layers;
  std::vector<std::string> notes;
  double seconds = 0.0;
};

// `g`: the optimized float graph `m` was quantized from. Changes the weight codes of `m`
// (QuantizedLayer::weight_q and the QDQ graph's weight initializers). Errors: bad options, no
// samples, a layer of `m` missing from `g`.
Result<AdaRoundReport> adaround_weights(const Graph& g, QuantizedModel& m, const Tensor& calib,
                                        const AdaRoundOptions& options);

// The whole recovery recipe around quantize_model: CLE and bias absorption on the float graph
// (before calibration), calibration, quantization, AdaRound, bias correction — each optional.
struct RecoveryOptions {
  bool cle = false;              // cross-layer equalization (+ bias absorption)
  bool bias_absorption = true;   // with cle
  bool bias_correction = false;  // empirical bias correction
  bool adaround = false;
  EqualizeOptions equalize;
  AbsorbOptions absorb;
  BiasCorrectionOptions correction;
  AdaRoundOptions ada;
  bool any() const { return cle || bias_correction || adaround; }
};
std::string recovery_name(const RecoveryOptions& o);  // "none", "cle", "cle+bc+adaround", ...

struct RecoveredModel {
  QuantizedModel model;
  Graph float_graph;  // the graph that was calibrated and quantized (equalized with cle)
  CalibTable table;   // its calibration table
  EqualizeReport equalize;
  AbsorbReport absorb;
  AdaRoundReport ada;
  BiasCorrectionReport correction;
  std::vector<std::string> notes;  // every pass's notes, in order
};

// `g`: optimized float graph; `calib` [N, ...input]. When neither cle nor bias correction is
// asked for and `stats` is given, its statistics (collected on `g`) are reused.
Result<RecoveredModel> quantize_with_recovery(const Graph& g, const Tensor& calib,
                                              const CalibParams& calib_params,
                                              const PtqOptions& ptq,
                                              const RecoveryOptions& recovery,
                                              const CalibrationOptions& calibration,
                                              const Statistics* stats = nullptr);

}  // namespace ei8::quant
