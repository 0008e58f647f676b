// ei8/quant/quant_math.h — the affine quantization arithmetic everything else builds on:
// r = s·(q − z).
//
//   QuantParams p = choose_qparams(-1.5f, 4.0f, QType::kS8).value();   // asymmetric s8
//   Tensor q = quantize(x, p, QType::kS8).value();                       // f32 → s8
//   Tensor y = dequantize(q, p).value();                                 // s8 → f32
//   ErrorMetrics e = error_metrics(x.span<float>(), y.span<float>());    // MSE, SQNR, ...
//
// Contract (ARCHITECTURE.md, "Numeric contract"):
// * ranges: u8 [0, 255]; s8 asymmetric [−128, 127]; s8 symmetric weights [−127, 127];
// * the real range is widened to include 0; symmetric ranges use [−max|r|, max|r|];
//   s = (rmax − rmin)/(qmax − qmin) (a double quotient rounded once to float32);
//   z = round_half_even(qmin − rmin/s) clamped to [qmin, qmax]; symmetric ranges take the exact
//   midpoint z = round_half_even((qmin + qmax)/2) (0 for s8 and s8sym, 128 for u8); a range whose
//   scale would be below FLT_MIN (all zeros) gets s = 1, as ONNX Runtime's quantizer does;
// * quantize (QuantizeLinear): q = clamp(round_half_even(x / s) + z, qmin, qmax), the division in
//   float32 (not a multiply by 1/s);
// * dequantize: r = s·(q − z) in float32.
// * bias: int32 with scale s_x·s_w[c] (float32 product) and zero point 0; quantize_bias()
//   enlarges a weight scale when |b/(s_x·s_w)| would exceed int32 and reports it.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ei8/core/status.h"
#include "ei8/core/tensor.h"

namespace ei8::quant {

enum class QType {
  kU8,            // [0, 255]
  kS8,            // [−128, 127]
  kS8Symmetric,   // [−127, 127], zero point 0 (weights)
  kS7Symmetric,   // [−63, 63], zero point 0: "reduce_range" weights, so that CPUs without VNNI,
                  // whose u8·s8 pair sums saturate at int16 (ONNX Runtime's AVX2 vpmaddubsw),
                  // stay exact: 2·255·63 < 2^15
  kS4Symmetric,   // [−7, 7], zero point 0: 4-bit weights (W4A8), stored in s8 containers
  kS16Symmetric,  // [−32767, 32767], zero point 0: int16 activations of A16W8 layers (s16)
};
std::string_view qtype_name(QType t);  // "u8", "s8", "s8sym", "s7sym", "s4sym", "s16sym"
int32_t qmin(QType t);
int32_t qmax(QType t);
DType storage_dtype(QType t);  // kU8 for u8, kS16 for s16sym, kS8 otherwise

struct QuantParams {
  float scale = 1.0f;      // > 0
  int32_t zero_point = 0;  // in [qmin, qmax]
};

// Scale and zero point for the real range [rmin, rmax] (rmin ≤ rmax, both finite).
// `symmetric`: use [−max(|rmin|, |rmax|), +max(...)]; kS8Symmetric and kS7Symmetric are always
// symmetric with z = 0.
Result<QuantParams> choose_qparams(float rmin, float rmax, QType t, bool symmetric = false);
// Same from data: the range is min/max of `values` (empty → error).
Result<QuantParams> choose_qparams(std::span<const float> values, QType t, bool symmetric = false);

// One value: clamp(round_half_even(x / s) + z, qmin, qmax). x must be finite (NaN → z).
int32_t quantize_value(float x, QuantParams p, QType t);
inline float dequantize_value(int32_t q, QuantParams p) {
  return p.scale * static_cast<float>(q - p.zero_point);
}

// Per tensor: f32 → u8/s8 (dtype from t), and back to f32.
Result<Tensor> quantize(const Tensor& x, QuantParams p, QType t);
Result<Tensor> dequantize(const Tensor& q, QuantParams p);

// Per channel along `axis` (0 ≤ axis < rank; params.size() == shape[axis]).
Result<Tensor> quantize_per_channel(const Tensor& x, std::span<const QuantParams> params,
                                    int64_t axis, QType t);
Result<Tensor> dequantize_per_channel(const Tensor& q, std::span<const QuantParams> params,
                                      int64_t axis);
// Per-channel parameters from the data of each slice along `axis`.
Result<std::vector<QuantParams>> choose_qparams_per_channel(const Tensor& x, int64_t axis, QType t,
                                                            bool symmetric = false);

struct ErrorMetrics {
  double mse = 0.0;      // mean of (test − ref)²
  double max_abs = 0.0;  // max |test − ref|
  double sqnr_db = 0.0;  // 10·log10(Σ ref² / Σ (test − ref)²); +inf when equal, −inf if ref ≡ 0
  double cosine = 0.0;  // ⟨ref, test⟩ / (‖ref‖·‖test‖); 1 when both are all zero
};
// Error of `test` against `ref`; sizes must match (else an error).
Result<ErrorMetrics> error_metrics(std::span<const float> ref, std::span<const float> test);

// Bias to int32 with the overflow guard (ARCHITECTURE.md): b_q[c] = round_half_even(b[c] /
// fl32(s_x·s_w[c])). If |b[c] / (s_x·s_w[c])| > 2^31 − 1 the weight scale of that channel is
// enlarged to |b[c]| / (s_x·(2^31 − 1)) (rounded up to the next float) so that the bias fits, as
// ONNX Runtime's quantizer does; the caller must then re-quantize that channel's weights with
// the new scale. `weight_scales` has one entry (per tensor) or one per channel (= bias.size()).
struct QuantizedBias {
  std::vector<int32_t> values;             // one per channel
  std::vector<float> weight_scales;        // possibly enlarged; same size as the input scales
  std::vector<int64_t> adjusted_channels;  // channels whose weight scale was enlarged
  std::vector<std::string> warnings;       // one sentence per adjusted channel
};
Result<QuantizedBias> quantize_bias(std::span<const float> bias, float input_scale,
                                    std::span<const float> weight_scales);

}  // namespace ei8::quant
