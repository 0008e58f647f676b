// ei8/fixedpoint/rounding.h — the fixed-point primitives of INT8 inference, written once.
//
// Every rounding, saturation and wrap in EdgeINT8-ArchKit goes through these tiny pure functions:
// the reference kernels, the fast kernels' tails, the simulator's PE model and the tests. Each
// function states its domain, its rounding rule, what it does on overflow and the hardware
// instruction it mirrors.
//
//   int32_t y = saturating_rounding_doubling_high_mul(acc, m0);   // ARM SQRDMULH
//   y = rounding_divide_by_pot(y, 5);                             // ARM SRSHL by -5 (+fixup)
//   int64_t s = saturate(acc, 16);                                // 16-bit saturating register
//   int64_t w = wrap(acc, 16);                                    // 16-bit two's-complement
//   register
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>

namespace ei8::fixedpoint {

// ---------------------------------------------------------------------------------------------
// Rounding of real values to integers.

// Round half to even (banker's rounding), the IEEE-754 default and what ONNX QuantizeLinear,
// numpy.round and x86 CVTPS2DQ (default MXCSR) / ARM FCVTNS do.
// Domain: any double; the result is the nearest integer, ties to the even neighbour
// (0.5 → 0, 1.5 → 2, −2.5 → −2); NaN and ±Inf come back unchanged. Independent of the current
// floating-point rounding mode. A caller converting to int64 needs |x| < 2^63.
inline double round_half_even(double x) { return __builtin_roundeven(x); }

// Float overload: the same rule evaluated in float (exact, no widening needed). Both are C23's
// roundeven: ROUNDSD/ROUNDPS with immediate 8 where SSE4.1 is enabled (and in vector loops of
// the ISA tiers), glibc's roundeven otherwise.
inline float round_half_even(float x) { return __builtin_roundevenf(x); }

// round_half_even for |x| < 2^22 through the 1.5·2^23 shifter: (x + 1.5·2^23) − 1.5·2^23 in
// float32, whose first addition the default rounding mode (nearest, ties to even) rounds to an
// integer exactly as round_half_even does, and which any SIMD unit vectorises (SSE2 included, no
// ROUNDPS needed). Preconditions: |x| < 2^22, round-to-nearest mode, no -ffast-math (it would
// cancel the two additions). Tested equal to round_half_even over the whole domain's ties.
inline float round_half_even_small(float x) {
  constexpr float kShifter = 12582912.0f;  // 1.5·2^23
  return (x + kShifter) - kShifter;
}

// Round half away from zero, C's round()/std::round (0.5 → 1, −0.5 → −1, 2.5 → 3). TFLite uses it
// in QuantizeMultiplier and its Quantize op.
inline double round_half_away(double x) { return std::round(x); }

// ---------------------------------------------------------------------------------------------
// N-bit two's-complement integers, 2 ≤ bits ≤ 64.

struct IntRange {
  int64_t min;
  int64_t max;
};

// The range of a signed `bits`-bit integer: [−2^(bits−1), 2^(bits−1) − 1].
// Precondition: 2 ≤ bits ≤ 64 (callers validate user input with check_width()).
constexpr IntRange int_range(int bits) {
  if (bits >= 64) return {std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max()};
  const int64_t half = int64_t{1} << (bits - 1);
  return {-half, half - 1};
}

// Saturate: clamp v into the signed `bits`-bit range. Mirrors a saturating accumulator register
// (ARM SQADD, DSP accumulators with a saturation stage): out-of-range values stick at the nearest
// extreme. Domain: any int64 v, 2 ≤ bits ≤ 64. Never overflows.
constexpr int64_t saturate(int64_t v, int bits) {
  const IntRange r = int_range(bits);
  return v < r.min ? r.min : (v > r.max ? r.max : v);
}

// Wrap: the value a `bits`-bit two's-complement register holds after v is written into it, i.e.
// v modulo 2^bits mapped into [−2^(bits−1), 2^(bits−1) − 1]. Mirrors a plain adder that drops the
// carry out of the top bit (no hardware cost). Domain: any int64 v, 2 ≤ bits ≤ 64. Computed in
// uint64 so no signed overflow happens.
constexpr int64_t wrap(int64_t v, int bits) {
  if (bits >= 64) return v;
  const uint64_t mask = (uint64_t{1} << bits) - 1;
  const uint64_t sign = uint64_t{1} << (bits - 1);
  const uint64_t u = static_cast<uint64_t>(v) & mask;
  // Sign-extend: (u ^ sign) − sign, done in uint64 then reinterpreted (two's complement, C++20).
  return static_cast<int64_t>((u ^ sign) - sign);
}

// The smallest signed width holding every value of [−max_abs, max_abs] (max_abs ≥ 0):
// 0 → 1 is not a valid register, so the result is at least 2.
constexpr int signed_bits_for(int64_t max_abs) {
  int bits = 2;
  while (bits < 64 && int_range(bits).max < max_abs) ++bits;
  return bits;
}

// ⌈log2 k⌉ for k ≥ 1 (0 for k = 1).
constexpr int ceil_log2(int64_t k) {
  int b = 0;
  while (b < 63 && (int64_t{1} << b) < k) ++b;
  return b;
}

// ---------------------------------------------------------------------------------------------
// gemmlowp / TFLite fixed-point primitives on int32.

// SaturatingRoundingDoublingHighMul(a, b): the high 32 bits of 2·a·b, rounded to nearest with
// ties toward +∞, i.e. round_half_up(a·b / 2^31). Mirrors ARM SQRDMULH (gemmlowp, TFLite).
// Domain: all int32 pairs. The single overflowing case a = b = INT32_MIN (true result 2^31)
// saturates to INT32_MAX. Computed exactly in int64 (|a·b| ≤ 2^62).
// (gemmlowp writes the nudge as 2^30 for non-negative products and 1 − 2^30 for negative ones
// with a truncating division; that equals floor((a·b + 2^30) / 2^31), which is what we compute.)
inline int32_t saturating_rounding_doubling_high_mul(int32_t a, int32_t b) {
  if (a == std::numeric_limits<int32_t>::min() && b == std::numeric_limits<int32_t>::min()) {
    return std::numeric_limits<int32_t>::max();
  }
  const int64_t ab = static_cast<int64_t>(a) * static_cast<int64_t>(b);
  // Arithmetic right shift of a signed value = floor division (well-defined since C++20).
  return static_cast<int32_t>((ab + (int64_t{1} << 30)) >> 31);
}

// RoundingDivideByPOT(x, exponent): x / 2^exponent rounded to nearest, ties away from zero
// (gemmlowp, TFLite; ARM SRSHL with a negative shift plus gemmlowp's sign fix-up).
// Domain: any int32 x, 0 ≤ exponent ≤ 31. Cannot overflow (|result| ≤ |x|, INT32_MIN / 1 = x).
inline int32_t rounding_divide_by_pot(int32_t x, int exponent) {
  if (exponent == 0) return x;
  const int64_t mask = (int64_t{1} << exponent) - 1;
  const int64_t remainder = static_cast<int64_t>(x) & mask;
  const int64_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return static_cast<int32_t>((static_cast<int64_t>(x) >> exponent) +
                              (remainder > threshold ? 1 : 0));
}

// x · 2^exponent saturated to int32 (ARM SQSHL). Domain: any int32 x, 0 ≤ exponent ≤ 31.
inline int32_t saturating_left_shift(int32_t x, int exponent) {
  const int64_t v = static_cast<int64_t>(x) * (int64_t{1} << exponent);
  return static_cast<int32_t>(saturate(v, 32));
}

// TFLite's MultiplyByQuantizedMultiplier, double rounding (the reference-kernel default):
//   x · 2^max(shift,0) (saturating, see below), then SRDHM by m0, then RoundingDivideByPOT by
//   max(−shift, 0).
// Represents x · m0 · 2^(shift − 31). Domain: any int32 x; m0 in [2^30, 2^31) or 0; −31 ≤ shift
// ≤ 31. Difference from TFLite: TFLite's left shift is a plain int32 multiply (undefined on
// overflow); ours saturates, which only matters for multipliers ≥ 1 that never occur in conv.
inline int32_t multiply_by_quantized_multiplier(int32_t x, int32_t m0, int shift) {
  const int left = shift > 0 ? shift : 0;
  const int right = shift > 0 ? 0 : -shift;
  return rounding_divide_by_pot(
      saturating_rounding_doubling_high_mul(saturating_left_shift(x, left), m0), right);
}

// Single rounding (TFLITE_SINGLE_ROUNDING, CMSIS-NN single rounding, XNNPACK rndnu):
//   (x · m0 + 2^(30 − shift)) >> (31 − shift) in int64 — one rounding, ties toward +∞.
// Domain: any int32 x; m0 in [2^30, 2^31) or 0; −31 ≤ shift ≤ 30 (QuantizeMultiplier caps the
// shift at 30 in single-rounding mode, so the total right shift is ≥ 1). The result is saturated
// to int32 (only reachable for multipliers ≥ 1).
inline int32_t multiply_by_quantized_multiplier_single(int32_t x, int32_t m0, int shift) {
  const int total_right = 31 - shift;                                       // 1 … 62
  const int64_t prod = static_cast<int64_t>(x) * static_cast<int64_t>(m0);  // |prod| < 2^62
  const int64_t round = int64_t{1} << (total_right - 1);
  return static_cast<int32_t>(saturate((prod + round) >> total_right, 32));
}

}  // namespace ei8::fixedpoint
