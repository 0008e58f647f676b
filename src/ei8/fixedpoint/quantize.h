// ei8/fixedpoint/quantize.h — QuantizeLinear and DequantizeLinear of one element, written once.
//
// Every site of EdgeINT8-ArchKit that turns a real value into an integer code with a scale and a
// zero point calls quantize() (ARCHITECTURE.md, "Numeric contract"): the QuantizeLinear op, PTQ's
// weight and bias quantization, the clamp bounds of fused activations, the lookup tables of the
// integer ops, the deploy model. The vector forms of the ISA tiers (quantize_x86.h) compute the
// same float operations lane by lane and are tested bit-exact against these.
//
//   int32_t q = quantize(x, s, z, -128, 127);            // float32: x / s, RNE, + z, clamp
//   float r = dequantize(q, s, z);                       // s·(q − z) in float32
//   int32_t b = quantize(double{b_f}, double{s_b}, 0, INT32_MIN, INT32_MAX);  // in double
//   int32_t t = quantize_scaled(v, z, 0, 255);           // v already divided by the scale
#pragma once

#include <concepts>
#include <cstdint>

#include "ei8/fixedpoint/rounding.h"

namespace ei8::fixedpoint {

// q = clamp(round_half_even(v) + z, qmin, qmax) for a value v = x / s already divided by the
// scale, evaluated in F (float32 for every QuantizeLinear, double where the contract says so:
// bias codes and clamp bounds). NaN → z (ONNX Runtime's MLAS and our vector forms agree);
// ±Inf → qmin / qmax. Rounding is half to even whatever the floating-point rounding mode.
// Exactness: round_half_even(v) is an integer of F; for |v| below 2^24 (float) the sum with z
// (|z| ≤ 2^16) is exact, and beyond that the sum is far outside every 8/16-bit range, so the
// clamp gives the same code as an exact sum would. Preconditions: qmin ≤ z ≤ qmax (not checked;
// z outside only shifts the code before the clamp).
template <std::floating_point F>
inline int32_t quantize_scaled(F v, int32_t zero_point, int32_t qmin, int32_t qmax) {
  const F r = round_half_even(v) + static_cast<F>(zero_point);
  if (r != r) return zero_point;  // NaN
  // Compare before converting: F(qmax) of an int32-wide range rounds up to 2^31 in float.
  if (!(r > static_cast<F>(qmin))) return qmin;
  if (!(r < static_cast<F>(qmax))) return qmax;
  return static_cast<int32_t>(r);
}

// QuantizeLinear: q = clamp(round_half_even(x / s) + z, qmin, qmax), the division in F (not a
// multiply by 1/s: ONNX Runtime divides). Domain: finite s > 0 (the callers validate scales once,
// in prepare); any x (NaN → z, ±Inf → the bounds).
template <std::floating_point F>
inline int32_t quantize(F x, F scale, int32_t zero_point, int32_t qmin, int32_t qmax) {
  return quantize_scaled(x / scale, zero_point, qmin, qmax);
}

// DequantizeLinear: r = s·(q − z) in float32 (q − z exact in int32, converted exactly for
// |q − z| < 2^24, one rounding in the product).
inline float dequantize(int32_t q, float scale, int32_t zero_point) {
  return scale * static_cast<float>(q - zero_point);
}

}  // namespace ei8::fixedpoint
