// The requantization profiles. This translation unit is compiled with -ffp-contract=off (see
// CMakeLists.txt) so that the `ort` profile's float32 arithmetic is exactly one IEEE multiply and
// one IEEE divide, as ONNX Runtime's MLAS computes it, whatever the optimisation level.
#include "ei8/fixedpoint/requantize.h"

#include <algorithm>
#include <cmath>

namespace ei8::fixedpoint {

std::string_view profile_name(RequantProfile p) {
  switch (p) {
    case RequantProfile::kOrt:
      return "ort";
    case RequantProfile::kTflite:
      return "tflite";
    case RequantProfile::kTfliteSingle:
      return "tflite-single";
  }
  return "?";
}

Result<RequantProfile> parse_profile(std::string_view name) {
  for (RequantProfile p : kAllProfiles) {
    if (profile_name(p) == name) return p;
  }
  return invalid_argument(
      "cannot parse requantization profile: profile = '{}', must be ort, tflite or tflite-single",
      name);
}

Result<QuantizedMultiplier> quantize_multiplier(double real_multiplier, bool single_rounding) {
  if (!std::isfinite(real_multiplier) || real_multiplier < 0.0 || real_multiplier >= 1073741824.0) {
    return invalid_argument(
        "cannot quantize multiplier: multiplier = {}, must be finite and in [0, 2^30)",
        real_multiplier);
  }
  if (real_multiplier == 0.0) return QuantizedMultiplier{0, 0};
  int shift = 0;
  const double q = std::frexp(real_multiplier, &shift);  // q in [0.5, 1)
  auto q_fixed = static_cast<int64_t>(round_half_away(q * 2147483648.0));
  if (q_fixed == (int64_t{1} << 31)) {
    q_fixed /= 2;
    ++shift;
  }
  if (shift < -31) return QuantizedMultiplier{0, 0};  // flush: M < 2^-32 rounds to zero anyway
  if (single_rounding && shift > 30) {
    shift = 30;
    q_fixed = (int64_t{1} << 31) - 1;
  }
  return QuantizedMultiplier{static_cast<int32_t>(q_fixed), shift};
}

int32_t requantize_ort(int32_t acc, float m, int32_t zero_point, int32_t qmin, int32_t qmax) {
  // float(acc) rounds to nearest even for |acc| > 2^24, as cvtdq2ps does.
  float v = static_cast<float>(acc) * m;
  const auto lo = static_cast<float>(int64_t{qmin} - zero_point);
  const auto hi = static_cast<float>(int64_t{qmax} - zero_point);
  v = v < lo ? lo : (v > hi ? hi : v);
  const int64_t r = static_cast<int64_t>(round_half_even(v)) + zero_point;
  // lo/hi are integers (exact below 2^24, the case for every 8/16-bit output), so rounding after
  // the clamp stays inside [qmin, qmax]; the final clamp only guards int32-wide ranges.
  return static_cast<int32_t>(r < qmin ? qmin : (r > qmax ? qmax : r));
}

int32_t requantize_ort64(int64_t acc, float m, int32_t zero_point, int32_t qmin, int32_t qmax) {
  // Same steps as requantize_ort; float(acc) is the RNE conversion of the int64 (cvtsi2ss).
  float v = static_cast<float>(acc) * m;
  const auto lo = static_cast<float>(int64_t{qmin} - zero_point);
  const auto hi = static_cast<float>(int64_t{qmax} - zero_point);
  v = v < lo ? lo : (v > hi ? hi : v);
  const int64_t r = static_cast<int64_t>(round_half_even(v)) + zero_point;
  return static_cast<int32_t>(r < qmin ? qmin : (r > qmax ? qmax : r));
}

Status Requantizer::check_int64() const {
  if (profile_ == RequantProfile::kOrt) return {};
  for (size_t c = 0; c < multipliers_.size(); ++c) {
    if (multipliers_[c].shift > 7) {
      return invalid_argument(
          "cannot requantize int64 accumulators: multiplier of channel {} = {}, must be < 128 "
          "(shift <= 7)",
          c, real_multipliers_[c]);
    }
  }
  return {};
}

ClampRange activation_range(FusedActivation act, float output_scale, int32_t output_zero_point,
                            int32_t qmin, int32_t qmax) {
  ClampRange r{qmin, qmax};
  if (act == FusedActivation::kNone) return r;
  r.lo = std::max(qmin, output_zero_point);
  if (act == FusedActivation::kRelu6) {
    const double six = round_half_even(static_cast<double>(6.0f / output_scale));
    const double hi = std::min(static_cast<double>(qmax), output_zero_point + six);
    r.hi = static_cast<int32_t>(std::max(hi, static_cast<double>(r.lo)));
  }
  return r;
}

namespace {
Status check_output_range(int32_t zero_point, int32_t qmin, int32_t qmax) {
  if (qmin > qmax) {
    return invalid_argument("cannot prepare requantizer: qmin = {}, must be <= qmax = {}", qmin,
                            qmax);
  }
  if (zero_point < qmin || zero_point > qmax) {
    return invalid_argument(
        "cannot prepare requantizer: output zero point = {}, must be in [{}, {}]", zero_point, qmin,
        qmax);
  }
  return {};
}
}  // namespace

Result<Requantizer> Requantizer::prepare(RequantProfile profile, float input_scale,
                                         std::span<const float> weight_scales, float output_scale,
                                         int32_t output_zero_point, int32_t qmin, int32_t qmax) {
  EI8_RETURN_IF_ERROR(check_output_range(output_zero_point, qmin, qmax));
  if (!(input_scale > 0.0f) || !std::isfinite(input_scale)) {
    return invalid_argument("cannot prepare requantizer: input scale = {}, must be finite and > 0",
                            input_scale);
  }
  if (!(output_scale > 0.0f) || !std::isfinite(output_scale)) {
    return invalid_argument("cannot prepare requantizer: output scale = {}, must be finite and > 0",
                            output_scale);
  }
  if (weight_scales.empty()) {
    return invalid_argument("cannot prepare requantizer: weight scales count = 0, must be >= 1");
  }
  Requantizer rq;
  rq.profile_ = profile;
  rq.channels_ = weight_scales.size();
  rq.zero_point_ = output_zero_point;
  rq.qmin_ = qmin;
  rq.qmax_ = qmax;
  for (size_t c = 0; c < weight_scales.size(); ++c) {
    const float sw = weight_scales[c];
    if (!(sw > 0.0f) || !std::isfinite(sw)) {
      return invalid_argument(
          "cannot prepare requantizer: weight scale [{}] = {}, must be finite and > 0", c, sw);
    }
    // ONNX Runtime: two float32 operations in this order.
    const float bias_scale = input_scale * sw;
    const float m32 = bias_scale / output_scale;
    // TFLite: the effective scale in double.
    const double m64 = static_cast<double>(input_scale) * static_cast<double>(sw) /
                       static_cast<double>(output_scale);
    EI8_ASSIGN_OR_RETURN(QuantizedMultiplier qm,
                         quantize_multiplier(m64, profile == RequantProfile::kTfliteSingle));
    if (!std::isfinite(m32)) {
      return invalid_argument(
          "cannot prepare requantizer: multiplier [{}] = {}, must be finite in float32", c, m32);
    }
    rq.ort_multipliers_.push_back(m32);
    rq.multipliers_.push_back(qm);
    rq.real_multipliers_.push_back(m64);
  }
  return rq;
}

Result<Requantizer> Requantizer::from_multiplier(RequantProfile profile, double multiplier,
                                                 int32_t output_zero_point, int32_t qmin,
                                                 int32_t qmax) {
  EI8_RETURN_IF_ERROR(check_output_range(output_zero_point, qmin, qmax));
  EI8_ASSIGN_OR_RETURN(QuantizedMultiplier qm,
                       quantize_multiplier(multiplier, profile == RequantProfile::kTfliteSingle));
  Requantizer rq;
  rq.profile_ = profile;
  rq.channels_ = 1;
  rq.zero_point_ = output_zero_point;
  rq.qmin_ = qmin;
  rq.qmax_ = qmax;
  rq.ort_multipliers_.push_back(static_cast<float>(multiplier));
  rq.multipliers_.push_back(qm);
  rq.real_multipliers_.push_back(multiplier);
  return rq;
}

}  // namespace ei8::fixedpoint
