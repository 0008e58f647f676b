// ei8/fixedpoint/oracle.h — independent high-precision re-statements of the requantization
// profiles, used by the golden tests and `edgeint8 fixedpoint verify` to check the integer
// implementations in rounding.h / requantize.h. They compute the same definitions a different
// way: in long double (x86: 64-bit mantissa, so every int32·Q31 product is exact) with the
// rounding rule written as floor/round of a real number, instead of integer nudges and shifts.
//
//   int64_t want = oracle::tflite(acc, qm);            // bit-exact target for requantize_tflite
//   double real = oracle::real(acc, 0.0123);           // acc·M, the ideal (unrounded) output
//
// Tolerance policy, written once (STYLE.md 10): against `real` rounded to nearest, every profile
// is within kRealOracleToleranceLsb = 1 integer unit while |acc·M| ≤ kRealOracleMaxMagnitude.
// Why 1: tflite rounds twice (SRDHM then RoundingDivideByPOT: up to 0.5 + 0.5 LSB); tflite-single
// and ort round once but at a point computed from an approximated multiplier (Q31: relative error
// ≤ 2^-31; float32: ≤ 2^-24 for M and for float(acc)), so a real value within that error of a
// rounding tie may land on the other side. Why the magnitude bound: float32 `ort` has 24 bits of
// mantissa, so its absolute error grows with |acc·M| (the bound 2^16 keeps it below 2^-7 LSB,
// covering every 8- and 16-bit output).
#pragma once

#include <cmath>
#include <cstdint>

#include "ei8/fixedpoint/requantize.h"

namespace ei8::fixedpoint::oracle {

inline constexpr int kRealOracleToleranceLsb = 1;
inline constexpr double kRealOracleMaxMagnitude = 65536.0;

// The ideal output acc·M (no rounding, no zero point, no clamp).
inline long double real(int32_t acc, double multiplier) {
  return static_cast<long double>(acc) * static_cast<long double>(multiplier);
}

// `tflite` without zero point and clamp: x1 = sat32(acc·2^max(shift,0)); s = round_half_up(
// x1·m0 / 2^31); y = round_half_away(s / 2^max(−shift,0)).
inline int64_t tflite(int32_t acc, QuantizedMultiplier m) {
  const int left = m.shift > 0 ? m.shift : 0;
  const int right = m.shift > 0 ? 0 : -m.shift;
  long double x1 = std::ldexp(static_cast<long double>(acc), left);
  x1 = std::fmin(std::fmax(x1, -2147483648.0L), 2147483647.0L);
  const long double s = std::floor(x1 * m.multiplier / 2147483648.0L + 0.5L);
  return static_cast<int64_t>(std::round(std::ldexp(s, -right)));
}

// `tflite-single` without zero point and clamp: round_half_up(acc·m0 / 2^(31 − shift)).
inline int64_t tflite_single(int32_t acc, QuantizedMultiplier m) {
  const long double v = std::ldexp(static_cast<long double>(acc) * m.multiplier, m.shift - 31);
  return static_cast<int64_t>(std::floor(v + 0.5L));
}

// `ort` without zero point and clamp: the float32 product fl32(float(acc)·M) obtained as the
// exact double product of two floats rounded once to float, then round half to even (nearbyint
// in the default rounding mode).
inline int64_t ort(int32_t acc, float m) {
  const double exact = static_cast<double>(static_cast<float>(acc)) * static_cast<double>(m);
  return static_cast<int64_t>(std::nearbyint(static_cast<float>(exact)));
}

}  // namespace ei8::fixedpoint::oracle
