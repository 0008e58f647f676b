// ei8/runtime/kernels/eltwise_math.h — internal: the constants of the fast tiers' Sigmoid
// (eltwise_f32.h) and its portable scalar form. Every tier evaluates the same algorithm; only
// the FMA (x86) or the separate multiply and add (portable) differ.
//
// σ(x) from e = exp(−|x|) ∈ (0, 1]: σ = 1 / (1 + e) for x ≥ 0 and e / (1 + e) for x < 0, so
// nothing overflows and the tail of σ toward 0 keeps its relative accuracy down to the
// denormals. exp(t), t = max(−|x|, −104) (σ(−104) < 2^−150 rounds to 0):
//   k = round(t·log2(e)) ∈ [−150, 0],  r = t − k·ln2 (Cody–Waite: k·ln2_hi is exact, ln2_lo
//   corrects) with |r| ≤ ln2/2 + 2^−20,  e^r by its Taylor polynomial of degree 7 (truncation
//   ≤ 0.3466^8 / 8! < 5.2e−9, 0.09 ulp), e = e^r · 2^k1 · 2^k2 with k1 = ⌊k/2⌋, k2 = k − k1 ≥ −75
//   (both powers normal; the first product is exact, the second rounds once, into the
//   denormals when σ is that small). The division is a true IEEE division.
#pragma once

#include <bit>
#include <cmath>
#include <cstdint>

namespace ei8::kernels::sigmoid_poly {

inline constexpr float kLog2e = 1.44269504088896341f;
inline constexpr float kLn2Hi = 0.693359375f;     // 355/512: k·kLn2Hi exact for |k| ≤ 2^15
inline constexpr float kLn2Lo = -2.12194440e-4f;  // ln 2 − kLn2Hi
inline constexpr float kMinT = -104.0f;           // σ(−104) ≈ 6.8e−46 rounds to +0
inline constexpr float kRound = 12582912.0f;      // 1.5·2^23: (v + kRound) − kRound rounds v
inline constexpr float kC[8] = {1.0f,         1.0f,          0.5f,          1.0f / 6.0f,
                                1.0f / 24.0f, 1.0f / 120.0f, 1.0f / 720.0f, 1.0f / 5040.0f};

// 2^k for k in [−126, 127] (a normal float).
inline float pow2(int32_t k) { return std::bit_cast<float>(static_cast<uint32_t>(k + 127) << 23); }

// The portable scalar form (no FMA: every product and sum rounds). Compile with
// -ffp-contract=off so that no compiler fuses them differently on another target.
inline float sigmoid_scalar(float x) {
  if (x != x) return x;  // NaN
  float t = -std::fabs(x);
  if (t < kMinT) t = kMinT;
  const float kf = (t * kLog2e + kRound) - kRound;  // round to nearest (even), |k| ≤ 150
  float r = t - kf * kLn2Hi;                        // exact (Sterbenz; k·kLn2Hi exact)
  r = r - kf * kLn2Lo;
  float p = kC[7];
  for (int i = 6; i >= 0; --i) p = p * r + kC[i];
  const int32_t k = static_cast<int32_t>(kf), k1 = k >> 1;  // ⌊k/2⌋ (C++20)
  const float e = p * pow2(k1) * pow2(k - k1);
  return (x < 0.0f ? e : 1.0f) / (1.0f + e);
}

}  // namespace ei8::kernels::sigmoid_poly
