// ei8/quant/calibrators.h — turn a tensor's observed statistics into the range [min, max] its
// activations are quantized to. Six methods, all reading the one TensorObserver (histogram.h):
//
//   minmax          [min, max] of every value seen (TFLite, ORT MinMax).
//   moving-average  [ema_min, ema_max] over batches, constant 0.01 (ORT, PyTorch).
//   percentile      symmetric: T = the p-th percentile of |x|, range [−T, T];
//                   two-sided: cut (100 − p)/2 % of the values from each end. Default p = 99.99.
//                   Both return a bin edge: the bin holding the rank's value is kept whole, so
//                   the result is ≥ the exact (sorted) percentile by less than one bin width.
//   entropy         TensorRT's KL search (2048 bins, 128 levels), spelled out below.
//   mse             the clip range minimising the expected squared quantization error
//                   (rounding + clipping) of the histogram, assuming values uniform inside a bin.
//   aciq            analytic clipping (Banner et al., ACIQ): fit Laplace (b = E|x − μ|) or
//                   Gaussian (σ) to the histogram's moments, clip at α* minimising
//                   clip-error(α) + Δ(α)²/12 for the target's number of steps.
//
// Entropy, exactly (what `kl_search` computes on the |x| histogram h[0..n) of width w):
//   zero bin   default `skip-exact-zeros`: values exactly 0 (ReLU's dead units) are removed from
//              h[0] before the search (ncnn); `keep` leaves them; `copy-next` sets h[0] = h[1]
//              (NVIDIA pytorch-quantization).
//   candidates i = L, L+1, …, n (L = 128 levels); n = 2048 when the first batch set the range,
//              up to 4096 bins of the same width when later batches widened it (histogram.h).
//   P          h[0..i) with the outlier mass Σ h[i..n) added to h[i−1]; normalised by Σ P.
//   Q          bin j of the candidate belongs to level g = ⌊j·L / i⌋ (integer groups); a level's
//              mass Σ h[j] (outliers not included) is spread evenly over its non-empty bins;
//              empty bins get 0; normalised by Σ Q.
//   smoothing  none. KL(P‖Q) = Σ_{P_j>0} P_j·ln(P_j/Q_j); a bin with P_j > 0 and Q_j = 0 (only
//              possible at j = i−1 when h[i−1] = 0 but outliers exist) makes KL = +∞ and the
//              candidate loses. i = n always has finite KL, so a winner exists.
//   tie-break  the largest i among equal minima (clip less when the data cannot tell); "equal"
//              means within kKlTieTolerance = 1e-12 of the minimum, far above the ~1e-15
//              rounding of the sums and far below any real difference.
//   threshold  `upper-edge` (default): T = i·w, the top of the last kept bin
//   (pytorch-quantization);
//              `half-bin`: T = (i + 0.5)·w, the formula of NVIDIA's GTC 2017 slides.
//   range      [−T, T] for symmetric schemes; [max(−T, min), min(T, max)] otherwise (so a ReLU
//              output keeps [0, T] and uses all 256 levels of u8).
// If n ≤ L the search has one candidate (i = n): the whole range.
//
//   CalibParams p;  p.method = CalibMethod::kEntropy;  p.symmetric = false;  p.steps = 255;
//   EI8_ASSIGN_OR_RETURN(CalibResult r, calibrate(observer, p));
//   // r.min, r.max: the range; r.parameters: every hyper-parameter used; r.diagnostics
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "ei8/core/status.h"
#include "ei8/quant/observer.h"

namespace ei8::quant {

enum class CalibMethod { kMinMax, kMovingAverage, kPercentile, kEntropy, kMse, kAciq };
std::string_view calib_method_name(CalibMethod m);  // "minmax", "moving-average", ...
Result<CalibMethod> parse_calib_method(std::string_view name);

enum class PercentileMode { kAuto, kSymmetric, kTwoSided };  // auto: follows CalibParams::symmetric
enum class ZeroBin { kSkipExactZeros, kKeep, kCopyNext };
enum class KlThreshold { kUpperEdge, kHalfBin };
enum class AciqPrior { kLaplace, kGaussian };

std::string_view percentile_mode_name(PercentileMode m);  // "auto", "symmetric", "two-sided"
std::string_view zero_bin_name(ZeroBin z);                // "skip-exact-zeros", "keep", "copy-next"
std::string_view kl_threshold_name(KlThreshold t);        // "upper-edge", "half-bin"
std::string_view aciq_prior_name(AciqPrior p);            // "laplace", "gaussian"
Result<PercentileMode> parse_percentile_mode(std::string_view name);
Result<ZeroBin> parse_zero_bin(std::string_view name);
Result<KlThreshold> parse_kl_threshold(std::string_view name);
Result<AciqPrior> parse_aciq_prior(std::string_view name);

struct CalibParams {
  CalibMethod method = CalibMethod::kMinMax;
  // The target scheme: symmetric → range [−T, T]; steps = qmax − qmin of the target
  // (255 for u8 or s8 asymmetric, 254 for s8 symmetric [−127, 127]). MSE and ACIQ optimise for it.
  bool symmetric = false;
  int64_t steps = 255;
  double percentile = 99.99;  // in (0, 100]
  PercentileMode percentile_mode = PercentileMode::kAuto;
  int64_t entropy_levels = 128;  // L, ≥ 2
  ZeroBin entropy_zero_bin = ZeroBin::kSkipExactZeros;
  KlThreshold entropy_threshold = KlThreshold::kUpperEdge;
  AciqPrior aciq_prior = AciqPrior::kLaplace;
};

Status validate(const CalibParams& p);

// A hyper-parameter or diagnostic value, kept in a fixed order for byte-identical tables.
using ParamValue = std::variant<int64_t, double, std::string>;
using ParamList = std::vector<std::pair<std::string, ParamValue>>;
std::string param_value_to_string(const ParamValue& v);

struct CalibResult {
  float min = 0.0f;  // the clip range to quantize to; min ≤ max; symmetric → min = −max
  float max = 0.0f;
  CalibMethod method = CalibMethod::kMinMax;
  ParamList parameters;   // every hyper-parameter the method used (incl. the observer's)
  ParamList diagnostics;  // what the method found (chosen bin, KL, fitted σ, ...); always
                          // ends with "clipped_beyond_half_step" (the share of observed values
                          // more than half a quantization step outside [min, max]: what clipping
                          // costs beyond rounding; the PTQ warning counts these) and
                          // "clipped_fraction": the share outside [min, max]; both counted in
                          // whole histogram bins (lower bounds)
};

// Computes the range. Errors: empty observer, non-finite values seen, invalid params.
Result<CalibResult> calibrate(const TensorObserver& obs, const CalibParams& params);

// ---- the building blocks, exposed for tests and the sensitivity figures ------------------------

// Entropy search on an |x| histogram (counts after zero-bin handling). Returns the number of
// kept bins i ∈ [min(levels, n), n] and its KL (see the header comment).
inline constexpr double kKlTieTolerance = 1e-12;
struct KlSearchResult {
  int64_t bins = 0;
  double kl = 0.0;
  int64_t candidates = 0;
};
KlSearchResult kl_search(std::span<const double> hist, int64_t levels);

// Expected squared error of quantizing a histogram to the uniform grid lo + k·s, k ∈ [0, steps]
// (values below lo clip to lo, above lo + steps·s to the top), values uniform inside each bin
// [edges[j], edges[j+1]) with counts[j]; `point_zeros` extra values sit exactly at 0 (error of
// the nearest grid point). Returns the sum of squared errors (not divided by the count).
double grid_squared_error(std::span<const double> edges, std::span<const double> counts,
                          double point_zeros, double lo, double s, int64_t steps);

// ACIQ: the optimal clip ratio α/b (Laplace, b = mean absolute deviation) or α/σ (Gaussian) for a
// quantizer with `steps` steps over [μ − α, μ + α] (`one_sided` = false) or [0, α] for a
// half-distribution (`one_sided` = true), minimising clip-error + (range/steps)²/12.
double aciq_alpha(AciqPrior prior, int64_t steps, bool one_sided);

}  // namespace ei8::quant
