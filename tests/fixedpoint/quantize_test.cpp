// QuantizeLinear / DequantizeLinear of one element (quantize.h) against a double-precision
// oracle on ties, bounds and specials, and the x86 vector forms (quantize_x86.h) bit-exact
// against the scalar functions on seeded random draws (seed printed) plus the same specials.
#include "ei8/fixedpoint/quantize.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <limits>
#include <vector>

#include "ei8/core/rng.h"
#include "ei8/fixedpoint/quantize_x86.h"
#include "ei8/fixedpoint/requantize.h"

namespace ei8::fixedpoint {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

// Oracle: the quotient of two floats rounded once to float (a double quotient of floats is
// correctly rounded, and rounding it to float again is innocuous for division), nearest-even in
// double (the default mode of nearbyint), + z and the clamp in exact double arithmetic.
int32_t oracle_quantize(float x, float s, int32_t z, int32_t lo, int32_t hi) {
  const auto v = static_cast<float>(static_cast<double>(x) / static_cast<double>(s));
  if (std::isnan(v)) return z;
  const double r = std::nearbyint(static_cast<double>(v)) + z;
  return r < lo ? lo : (r > hi ? hi : static_cast<int32_t>(r));
}

// Values that probe every rule: exact ties k + 0.5 across and beyond the 8-bit ranges (both
// parities), their float neighbours, ±0, the type bounds ± 0.5, huge values, ±Inf and NaN.
std::vector<float> special_values() {
  std::vector<float> v = {0.0f,  -0.0f,  kInf,   -kInf, kNaN,  1e30f,       -1e30f,
                          3e38f, -3e38f, 1e-30f, 8e6f,  -8e6f, 16777216.0f, -16777217.0f};
  for (int k = -300; k <= 300; ++k) {
    const float t = static_cast<float>(k) + 0.5f;
    v.insert(v.end(), {t, std::nextafter(t, kInf), std::nextafter(t, -kInf)});
  }
  return v;
}

TEST(Quantize, MatchesTheDoubleOracleOnTiesBoundsAndSpecials) {
  struct Range {
    int32_t lo, hi, z;
  };
  for (Range r : {Range{0, 255, 0}, Range{0, 255, 128}, Range{-128, 127, 0}, Range{-128, 127, -7},
                  Range{-127, 127, 0}, Range{-63, 63, 0}}) {
    for (float s : {1.0f, 0.5f, 0.25f, 3.0f, 0.0078125f, 0.1f}) {
      for (float x : special_values()) {
        const float xs = x * s;  // x·s / s is x again for power-of-two scales: ties survive
        ASSERT_EQ(quantize(xs, s, r.z, r.lo, r.hi), oracle_quantize(xs, s, r.z, r.lo, r.hi))
            << "x = " << xs << " s = " << s << " z = " << r.z << " [" << r.lo << ", " << r.hi
            << "]";
      }
    }
  }
}

TEST(Quantize, HandCheckedCases) {
  EXPECT_EQ(quantize(0.5f, 1.0f, 0, -128, 127), 0);  // tie → even
  EXPECT_EQ(quantize(1.5f, 1.0f, 0, -128, 127), 2);
  EXPECT_EQ(quantize(-2.5f, 1.0f, 0, -128, 127), -2);
  EXPECT_EQ(quantize(2.5f, 1.0f, 1, 0, 255), 3);    // RNE before + z: 2 + 1
  EXPECT_EQ(quantize(kNaN, 0.1f, 17, 0, 255), 17);  // NaN → z
  EXPECT_EQ(quantize(kInf, 0.1f, 17, 0, 255), 255);
  EXPECT_EQ(quantize(-kInf, 0.1f, 17, 0, 255), 0);
  EXPECT_EQ(quantize(1000.0f, 1.0f, 0, -127, 127), 127);  // clamp
  // int32-wide ranges in double (bias codes): the bounds are exact, no overflow at the ends.
  EXPECT_EQ(quantize(1e300, 1.0, 0, std::numeric_limits<int32_t>::min(),
                     std::numeric_limits<int32_t>::max()),
            std::numeric_limits<int32_t>::max());
  EXPECT_EQ(quantize(-3.0e9, 1.0, 0, std::numeric_limits<int32_t>::min(),
                     std::numeric_limits<int32_t>::max()),
            std::numeric_limits<int32_t>::min());
  EXPECT_EQ(quantize(2147483646.5, 1.0, 0, std::numeric_limits<int32_t>::min(),
                     std::numeric_limits<int32_t>::max()),
            2147483646);
  // The same in float: float(INT32_MAX) rounds to 2^31, the result must still be INT32_MAX.
  EXPECT_EQ(quantize(3e9f, 1.0f, 0, std::numeric_limits<int32_t>::min(),
                     std::numeric_limits<int32_t>::max()),
            std::numeric_limits<int32_t>::max());
  EXPECT_EQ(dequantize(3, 0.5f, 1), 1.0f);
  EXPECT_EQ(dequantize(-128, 0.25f, -128), 0.0f);
}

TEST(Quantize, FloatAndDoublePathsEachFollowTheirOwnDivision) {
  // The float path divides in float32 (QuantizeLinear), the double path in double (bias codes):
  // each must equal its own oracle on random draws.
  Rng rng(7);
  std::printf("seed 7\n");
  for (int i = 0; i < 200000; ++i) {
    const float x = rng.uniform(-300.0f, 300.0f), s = rng.uniform(0.01f, 2.0f);
    const int32_t qf = quantize(x, s, 0, -1000000, 1000000);
    const int32_t qd =
        quantize(static_cast<double>(x), static_cast<double>(s), 0, -1000000, 1000000);
    ASSERT_EQ(qf, oracle_quantize(x, s, 0, -1000000, 1000000)) << x << " / " << s;
    ASSERT_EQ(qd, static_cast<int32_t>(std::nearbyint(static_cast<double>(x) / s)))
        << x << " / " << s;
  }
}

TEST(RoundHalfEvenSmall, EqualsRoundHalfEvenOnTiesAndNeighboursBelow2To22) {
  // Every half-integer below 2^16 in magnitude, every 4099th (a prime stride) up to the edge of
  // the domain, and the float neighbours of each.
  for (int64_t k = -(int64_t{1} << 22); k < (int64_t{1} << 22);
       k += (k > -65536 && k < 65536) ? 1 : 4099) {
    const float t = static_cast<float>(k) + 0.5f;
    for (float x : {t, std::nextafter(t, kInf), std::nextafter(t, -kInf), static_cast<float>(k)}) {
      if (std::abs(x) >= 4194304.0f) continue;
      ASSERT_EQ(round_half_even_small(x), round_half_even(x)) << x;
    }
  }
}

// ---- the x86 vector forms -------------------------------------------------------------------

struct QuantCase {
  float scale;
  int32_t z, lo, hi;
};

std::vector<float> random_inputs(Rng& rng, float scale, size_t n) {
  std::vector<float> v = special_values();
  for (float& x : v) x *= scale;
  while (v.size() < n) {
    // Mostly inside the clamp, some far outside, some exact ties of the scaled value.
    const int64_t kind = rng.uniform_int(0, 3);
    if (kind == 0) {
      v.push_back(static_cast<float>(rng.uniform_int(-400, 400)) * scale + 0.5f * scale);
    } else if (kind == 1) {
      v.push_back(rng.uniform(-1e6f, 1e6f));
    } else {
      v.push_back(rng.uniform(-300.0f, 300.0f) * scale);
    }
  }
  while (v.size() % 16 != 0) v.push_back(0.0f);
  return v;
}

__attribute__((target("avx2"))) void quantize_avx2(const std::vector<float>& x, QuantCase c,
                                                   std::vector<int32_t>& out) {
  const __m256 s = _mm256_set1_ps(c.scale), z = _mm256_set1_ps(static_cast<float>(c.z));
  const __m256 lo = _mm256_set1_ps(static_cast<float>(c.lo));
  const __m256 hi = _mm256_set1_ps(static_cast<float>(c.hi));
  for (size_t i = 0; i < x.size(); i += 8) {
    const __m256i q = quantize_f32x8(_mm256_loadu_ps(x.data() + i), s, z, lo, hi);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out.data() + i), q);
  }
}

__attribute__((target("avx2,avx512f"))) void quantize_avx512(const std::vector<float>& x,
                                                             QuantCase c,
                                                             std::vector<int32_t>& out) {
  const __m512 s = _mm512_set1_ps(c.scale), z = _mm512_set1_ps(static_cast<float>(c.z));
  const __m512 lo = _mm512_set1_ps(static_cast<float>(c.lo));
  const __m512 hi = _mm512_set1_ps(static_cast<float>(c.hi));
  for (size_t i = 0; i < x.size(); i += 16) {
    const __m512i q = quantize_f32x16(_mm512_loadu_ps(x.data() + i), s, z, lo, hi);
    _mm512_storeu_si512(out.data() + i, q);
  }
}

__attribute__((target("avx2"))) void dequantize_avx2(const std::vector<int32_t>& q, float s,
                                                     int32_t z, std::vector<float>& out) {
  for (size_t i = 0; i < q.size(); i += 8) {
    const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q.data() + i));
    _mm256_storeu_ps(out.data() + i, dequantize_f32x8(v, _mm256_set1_ps(s), _mm256_set1_epi32(z)));
  }
}

__attribute__((target("avx2,avx512f"))) void dequantize_avx512(const std::vector<int32_t>& q,
                                                               float s, int32_t z,
                                                               std::vector<float>& out) {
  for (size_t i = 0; i < q.size(); i += 16) {
    _mm512_storeu_ps(out.data() + i, dequantize_f32x16(_mm512_loadu_si512(q.data() + i),
                                                       _mm512_set1_ps(s), _mm512_set1_epi32(z)));
  }
}

std::vector<QuantCase> quant_cases(Rng& rng) {
  std::vector<QuantCase> c = {{1.0f, 0, 0, 255},     {0.5f, 128, 0, 255}, {0.02f, -5, -128, 127},
                              {0.25f, 0, -127, 127}, {3.0f, 0, -63, 63},  {1e-3f, 255, 0, 255}};
  for (int i = 0; i < 10; ++i) {
    const bool u8 = rng.uniform_int(0, 1) == 1;
    const int32_t lo = u8 ? 0 : -128, hi = u8 ? 255 : 127;
    c.push_back({rng.uniform(1e-4f, 4.0f), static_cast<int32_t>(rng.uniform_int(lo, hi)), lo, hi});
  }
  return c;
}

TEST(QuantizeX86, VectorFormsAreBitExactWithTheScalarFunctions) {
  const bool avx2 = __builtin_cpu_supports("avx2");
  const bool avx512 = __builtin_cpu_supports("avx512f");
  if (!avx2) GTEST_SKIP() << "no AVX2 on this CPU";
  constexpr uint64_t kSeed = 20261207;
  std::printf("seed %llu\n", static_cast<unsigned long long>(kSeed));
  Rng rng(kSeed);
  for (const QuantCase& c : quant_cases(rng)) {
    const std::vector<float> x = random_inputs(rng, c.scale, 4096);
    std::vector<int32_t> want(x.size()), got(x.size());
    for (size_t i = 0; i < x.size(); ++i) want[i] = quantize(x[i], c.scale, c.z, c.lo, c.hi);
    quantize_avx2(x, c, got);
    for (size_t i = 0; i < x.size(); ++i) {
      ASSERT_EQ(got[i], want[i]) << "avx2 x = " << x[i] << " s = " << c.scale << " z = " << c.z;
    }
    std::vector<float> dq_want(x.size()), dq_got(x.size());
    for (size_t i = 0; i < x.size(); ++i) dq_want[i] = dequantize(want[i], c.scale, c.z);
    dequantize_avx2(want, c.scale, c.z, dq_got);
    for (size_t i = 0; i < x.size(); ++i) ASSERT_EQ(dq_got[i], dq_want[i]) << want[i];
    if (!avx512) continue;
    quantize_avx512(x, c, got);
    for (size_t i = 0; i < x.size(); ++i) {
      ASSERT_EQ(got[i], want[i]) << "avx512 x = " << x[i] << " s = " << c.scale << " z = " << c.z;
    }
    dequantize_avx512(want, c.scale, c.z, dq_got);
    for (size_t i = 0; i < x.size(); ++i) ASSERT_EQ(dq_got[i], dq_want[i]) << want[i];
  }
  if (!avx512) GTEST_SKIP() << "AVX2 forms checked; no AVX-512F on this CPU";
}

__attribute__((target("avx2"))) void requantize_avx2(const std::vector<int32_t>& acc, float m,
                                                     int32_t z, int32_t qmin, int32_t qmax,
                                                     std::vector<int32_t>& out) {
  const __m256 lo = _mm256_set1_ps(static_cast<float>(qmin - z));
  const __m256 hi = _mm256_set1_ps(static_cast<float>(qmax - z));
  for (size_t i = 0; i < acc.size(); i += 8) {
    const __m256i a = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(acc.data() + i));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out.data() + i),
                        requantize_ort_x8(a, _mm256_set1_ps(m), lo, hi, _mm256_set1_epi32(z)));
  }
}

__attribute__((target("avx2,avx512f"))) void requantize_avx512(const std::vector<int32_t>& acc,
                                                               float m, int32_t z, int32_t qmin,
                                                               int32_t qmax,
                                                               std::vector<int32_t>& out) {
  const __m512 lo = _mm512_set1_ps(static_cast<float>(qmin - z));
  const __m512 hi = _mm512_set1_ps(static_cast<float>(qmax - z));
  for (size_t i = 0; i < acc.size(); i += 16) {
    _mm512_storeu_si512(out.data() + i,
                        requantize_ort_x16(_mm512_loadu_si512(acc.data() + i), _mm512_set1_ps(m),
                                           lo, hi, _mm512_set1_epi32(z)));
  }
}

TEST(RequantizeOrtX86, VectorFormsAreBitExactWithRequantizeOrt) {
  if (!__builtin_cpu_supports("avx2")) GTEST_SKIP() << "no AVX2 on this CPU";
  const bool avx512 = __builtin_cpu_supports("avx512f");
  constexpr uint64_t kSeed = 31337;
  std::printf("seed %llu\n", static_cast<unsigned long long>(kSeed));
  Rng rng(kSeed);
  for (int t = 0; t < 24; ++t) {
    const bool u8 = t % 2 == 0;
    const int32_t qmin = u8 ? 0 : -128, qmax = u8 ? 255 : 127;
    const auto z = static_cast<int32_t>(rng.uniform_int(qmin, qmax));
    const auto m = static_cast<float>(
        std::ldexp(rng.uniform(0.5f, 1.0f), -static_cast<int>(rng.uniform_int(4, 20))));
    std::vector<int32_t> acc = {0,
                                1,
                                -1,
                                std::numeric_limits<int32_t>::max(),
                                std::numeric_limits<int32_t>::min(),
                                16777217,
                                -16777217};
    // Accumulators whose product is an exact tie k + 0.5 (m is a power of two times a float).
    for (int k = -200; k <= 200; ++k) {
      const double a = (k + 0.5) / static_cast<double>(m);
      if (std::abs(a) < 2e9 && a == std::floor(a)) acc.push_back(static_cast<int32_t>(a));
    }
    while (acc.size() % 16 != 0 || acc.size() < 4096) {
      acc.push_back(
          static_cast<int32_t>(rng.uniform_int(-(1 << 24), 1 << 24) >> rng.uniform_int(0, 16)));
    }
    std::vector<int32_t> want(acc.size()), got(acc.size());
    for (size_t i = 0; i < acc.size(); ++i) want[i] = requantize_ort(acc[i], m, z, qmin, qmax);
    requantize_avx2(acc, m, z, qmin, qmax, got);
    for (size_t i = 0; i < acc.size(); ++i) ASSERT_EQ(got[i], want[i]) << "avx2 acc " << acc[i];
    if (!avx512) continue;
    requantize_avx512(acc, m, z, qmin, qmax, got);
    for (size_t i = 0; i < acc.size(); ++i) ASSERT_EQ(got[i], want[i]) << "avx512 acc " << acc[i];
  }
}

}  // namespace
}  // namespace ei8::fixedpoint
