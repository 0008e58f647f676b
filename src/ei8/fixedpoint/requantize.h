// ei8/fixedpoint/requantize.h — from an int32 accumulator to an 8-bit output: the three named
// requantization profiles of ARCHITECTURE.md ("Numeric contract") and QuantizeMultiplier.
//
// A Requantizer is prepared ONCE from float scales (per output channel) and then applied
// integer-only (the `ort` profile: one float32 multiply) to every accumulator:
//
//   auto rq = Requantizer::prepare(RequantProfile::kTflite, s_x, w_scales, s_y, z_y, -128, 127);
//   if (!rq.ok()) return rq.status();
//   int32_t y = rq->apply(acc, channel);        // in [qmin, qmax]
//
// Profiles (r = s·(q − z); acc = Σ (x_q − z_x)(w_q − z_w) + b_q, bias scale s_x·s_w[c]):
//   ort           M_c = fl32(fl32(s_x·s_w[c]) / s_y); v = fl32(float(acc)·M_c);
//                 clamp v to [qmin − z_y, qmax − z_y]; round half to even; + z_y.
//                 (ONNX Runtime x86 QLinearConv / fused QDQ; no FMA, no fast-math.)
//   tflite        M_c from double, QuantizeMultiplier → (m0, shift);
//                 SaturatingRoundingDoublingHighMul then RoundingDivideByPOT; + z_y; clamp.
//                 (TFLite reference kernels, TFLM, CMSIS-NN default.)
//   tflite-single M_c from double, QuantizeMultiplier with shift capped at 30;
//                 (acc·m0 + 2^(30−shift)) >> (31−shift) in int64; + z_y; clamp.
//                 (TFLITE_SINGLE_ROUNDING, CMSIS-NN single rounding, XNNPACK rndnu.)
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "ei8/core/status.h"
#include "ei8/fixedpoint/rounding.h"

namespace ei8::fixedpoint {

enum class RequantProfile { kOrt, kTflite, kTfliteSingle };

std::string_view profile_name(RequantProfile p);  // "ort", "tflite", "tflite-single"
Result<RequantProfile> parse_profile(std::string_view name);
inline constexpr RequantProfile kAllProfiles[] = {RequantProfile::kOrt, RequantProfile::kTflite,
                                                  RequantProfile::kTfliteSingle};

// A real multiplier M represented as m0 · 2^(shift − 31), m0 a Q31 integer in [2^30, 2^31).
struct QuantizedMultiplier {
  int32_t multiplier = 0;  // Q31 mantissa m0; 0 encodes M = 0 (or a flushed tiny M)
  int shift = 0;           // exponent: M ≈ m0 · 2^(shift − 31); −31 ≤ shift ≤ 31
};

// TFLite's QuantizeMultiplier: frexp(M) = q · 2^shift with q in [0.5, 1); m0 = std::round(q·2^31)
// (ties away from zero); if m0 == 2^31 then m0 = 2^30 and ++shift; if shift < −31 the multiplier
// is flushed to (0, 0). With `single_rounding` (TFLITE_SINGLE_ROUNDING) a shift above 30 is capped
// at 30 with m0 = 2^31 − 1.
// Errors: M not finite, negative, or ≥ 2^30 (the left shift would exceed 30).
Result<QuantizedMultiplier> quantize_multiplier(double real_multiplier, bool single_rounding);

// ---- Per-accumulator functions (the one implementation everything calls) ----

// ort: v = fl32(float(acc) · m) (float32 product, RNE conversion of acc), clamp to
// [qmin − z, qmax − z] in float, round half to even, + z. Defined in requantize.cpp, which is
// compiled with -ffp-contract=off. Preconditions: m finite and ≥ 0; qmin ≤ qmax.
int32_t requantize_ort(int32_t acc, float m, int32_t zero_point, int32_t qmin, int32_t qmax);

// tflite: multiply_by_quantized_multiplier (double rounding), + z, clamp to [qmin, qmax].
inline int32_t requantize_tflite(int32_t acc, QuantizedMultiplier m, int32_t zero_point,
                                 int32_t qmin, int32_t qmax) {
  const int64_t v =
      int64_t{multiply_by_quantized_multiplier(acc, m.multiplier, m.shift)} + zero_point;
  return static_cast<int32_t>(v < qmin ? qmin : (v > qmax ? qmax : v));
}

// tflite-single: multiply_by_quantized_multiplier_single, + z, clamp to [qmin, qmax].
inline int32_t requantize_tflite_single(int32_t acc, QuantizedMultiplier m, int32_t zero_point,
                                        int32_t qmin, int32_t qmax) {
  const int64_t v =
      int64_t{multiply_by_quantized_multiplier_single(acc, m.multiplier, m.shift)} + zero_point;
  return static_cast<int32_t>(v < qmin ? qmin : (v > qmax ? qmax : v));
}

// ---- int64 accumulators (A16W8: int16 activations × int8 weights) ----
//
// An int16 activation times an int8 weight is up to 2^15·2^7 = 2^22 in magnitude (2^24 with
// asymmetric operands), so the int32 sum of K products is only guaranteed for K·2^22 + |b| <
// 2^31 (K ≤ 511 without bias): A16W8 layers accumulate in int64 and requantize from int64.
// Valid for |acc| < 2^47 (K ≤ 2^22 with any int16/int8 operands).
//   ort           as requantize_ort, float(acc) the RNE conversion of the int64 (identical to the
//                 int32 function for every acc in int32's range);
//   tflite,       TFLite's 16x8 kernels (MultiplyByQuantizedMultiplier for int64): the Q31
//   tflite-single mantissa reduced to Q15, m15 = (m0 + 2^15) >> 16 (2^15 − 1 when m0 ≥
//                 0x7FFF0000), then (acc·m15 + 2^(14 − shift)) >> (15 − shift) in int64, one
//                 rounding (half up); + z_y; clamp. The two profiles differ only by their
//                 (m0, shift) (single rounding caps the shift at 30). Needs shift ≤ 7 (M < 2^7;
//                 check_int64_multipliers).
inline constexpr int64_t kMaxInt64Accumulator = int64_t{1} << 47;

int32_t requantize_ort64(int64_t acc, float m, int32_t zero_point, int32_t qmin, int32_t qmax);

inline int32_t requantize_tflite64(int64_t acc, QuantizedMultiplier m, int32_t zero_point,
                                   int32_t qmin, int32_t qmax) {
  const int64_t m15 =
      m.multiplier < 0x7FFF0000 ? (int64_t{m.multiplier} + (1 << 15)) >> 16 : int64_t{0x7FFF};
  const int total_shift = 15 - m.shift;  // ≥ 8 for shift ≤ 7
  const int64_t v = ((acc * m15 + (int64_t{1} << (total_shift - 1))) >> total_shift) + zero_point;
  return static_cast<int32_t>(v < qmin ? qmin : (v > qmax ? qmax : v));
}

// ---- Fused activations as clamp bounds ----

enum class FusedActivation { kNone, kRelu, kRelu6 };

struct ClampRange {
  int32_t lo;
  int32_t hi;
};

// The output clamp of a layer with a fused activation, in the quantized output domain:
//   none  [qmin, qmax];  relu  [max(qmin, z_y), qmax];
//   relu6 [max(qmin, z_y), min(qmax, z_y + round_half_even(6 / s_y))]  (6 quantized as
//   QuantizeLinear would: float division, RNE).
// Preconditions: s_y > 0 and finite, qmin ≤ z_y ≤ qmax.
ClampRange activation_range(FusedActivation act, float output_scale, int32_t output_zero_point,
                            int32_t qmin, int32_t qmax);

// ---- The prepared, per-channel requantizer ----

class Requantizer {
 public:
  Requantizer() = default;

  // Derives per-channel multipliers from float scales, once.
  //   input_scale s_x > 0, weight_scales s_w[c] > 0 (one per output channel, or one for the whole
  //   tensor), output_scale s_y > 0, output_zero_point z_y in [qmin, qmax],
  //   [qmin, qmax] the output clamp (dtype range ∩ fused activation), a sub-range of int32.
  // `ort` uses M_c = fl32(fl32(s_x·s_w[c]) / s_y); the tflite profiles use the double product
  // (double)s_x·(double)s_w[c]/(double)s_y through quantize_multiplier.
  static Result<Requantizer> prepare(RequantProfile profile, float input_scale,
                                     std::span<const float> weight_scales, float output_scale,
                                     int32_t output_zero_point, int32_t qmin, int32_t qmax);

  // From one real multiplier (the `requant` command, RTL checks): `ort` stores fl32(M).
  static Result<Requantizer> from_multiplier(RequantProfile profile, double multiplier,
                                             int32_t output_zero_point, int32_t qmin, int32_t qmax);

  // The requantized output of accumulator `acc` of output channel `channel` (0 ≤ channel <
  // channels(); a per-tensor requantizer, channels() == 1, serves every channel). Integer-only
  // except for `ort`'s single float32 multiply. Allocates nothing, validates nothing.
  int32_t apply(int32_t acc, int64_t channel) const {
    const size_t c = channels_ == 1 ? 0 : static_cast<size_t>(channel);
    switch (profile_) {
      case RequantProfile::kOrt:
        return requantize_ort(acc, ort_multipliers_[c], zero_point_, qmin_, qmax_);
      case RequantProfile::kTflite:
        return requantize_tflite(acc, multipliers_[c], zero_point_, qmin_, qmax_);
      case RequantProfile::kTfliteSingle:
        return requantize_tflite_single(acc, multipliers_[c], zero_point_, qmin_, qmax_);
    }
    return 0;
  }

  // The same for an int64 accumulator (A16W8 layers; see requantize_tflite64), |acc| < 2^47;
  // the tflite profiles need check_int64() to have passed.
  int32_t apply64(int64_t acc, int64_t channel) const {
    const size_t c = channels_ == 1 ? 0 : static_cast<size_t>(channel);
    if (profile_ == RequantProfile::kOrt) {
      return requantize_ort64(acc, ort_multipliers_[c], zero_point_, qmin_, qmax_);
    }
    return requantize_tflite64(acc, multipliers_[c], zero_point_, qmin_, qmax_);
  }
  // OK when apply64 is defined for every channel: `ort` always; the tflite profiles when every
  // shift ≤ 7 (real multiplier < 2^7, TFLite's bound for its int64 path).
  Status check_int64() const;

  RequantProfile profile() const { return profile_; }
  int64_t channels() const { return static_cast<int64_t>(channels_); }
  int32_t zero_point() const { return zero_point_; }
  int32_t qmin() const { return qmin_; }
  int32_t qmax() const { return qmax_; }
  // Per channel: the float32 multiplier (`ort`) and the (m0, shift) pair (tflite profiles); both
  // are filled for every profile so reports can show them.
  std::span<const float> ort_multipliers() const { return ort_multipliers_; }
  std::span<const QuantizedMultiplier> multipliers() const { return multipliers_; }
  // The real multipliers in double (s_x·s_w[c]/s_y), for oracles and reports.
  std::span<const double> real_multipliers() const { return real_multipliers_; }

 private:
  RequantProfile profile_ = RequantProfile::kOrt;
  size_t channels_ = 0;
  int32_t zero_point_ = 0, qmin_ = -128, qmax_ = 127;
  std::vector<float> ort_multipliers_;
  std::vector<QuantizedMultiplier> multipliers_;
  std::vector<double> real_multipliers_;
};

}  // namespace ei8::fixedpoint
