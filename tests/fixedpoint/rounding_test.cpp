// Hand-checked cases and exact long-double oracles for the fixed-point primitives.
#include "ei8/fixedpoint/rounding.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "ei8/core/rng.h"

namespace ei8::fixedpoint {
namespace {

constexpr int32_t kMin32 = std::numeric_limits<int32_t>::min();
constexpr int32_t kMax32 = std::numeric_limits<int32_t>::max();

// gemmlowp-style boundary values: 0, ±2^i + {−2..2} for every bit, the extremes.
std::vector<int32_t> boundary_values() {
  std::vector<int32_t> v = {0, kMin32, kMin32 + 1, kMax32, kMax32 - 1};
  for (int i = 0; i < 31; ++i) {
    for (int d = -2; d <= 2; ++d) {
      const int64_t p = (int64_t{1} << i) + d;
      if (p <= kMax32 && p >= kMin32) v.push_back(static_cast<int32_t>(p));
      if (-p <= kMax32 && -p >= kMin32) v.push_back(static_cast<int32_t>(-p));
    }
  }
  return v;
}

TEST(RoundHalfEven, TiesGoToTheEvenNeighbour) {
  EXPECT_EQ(round_half_even(0.5), 0.0);
  EXPECT_EQ(round_half_even(1.5), 2.0);
  EXPECT_EQ(round_half_even(2.5), 2.0);
  EXPECT_EQ(round_half_even(-0.5), 0.0);
  EXPECT_EQ(round_half_even(-1.5), -2.0);
  EXPECT_EQ(round_half_even(-2.5), -2.0);
  EXPECT_EQ(round_half_even(2.4999999), 2.0);
  EXPECT_EQ(round_half_even(-2.5000001), -3.0);
  EXPECT_EQ(round_half_even(0.5f), 0.0f);
  EXPECT_EQ(round_half_even(3.5f), 4.0f);
  EXPECT_EQ(round_half_even(-3.5f), -4.0f);
  EXPECT_EQ(round_half_even(16777215.0f), 16777215.0f);
}

TEST(RoundHalfEven, MatchesNearbyintUnderTheDefaultMode) {
  Rng rng(11);
  for (int i = 0; i < 100000; ++i) {
    // Quarter-integers hit ties a quarter of the time.
    const double x = static_cast<double>(rng.uniform_int(-4000000, 4000000)) / 4.0;
    ASSERT_EQ(round_half_even(x), std::nearbyint(x)) << x << " (seed 11)";
    const auto xf = static_cast<float>(x);
    ASSERT_EQ(round_half_even(xf), std::nearbyint(xf)) << xf << " (seed 11)";
  }
}

TEST(RoundHalfAway, TiesGoAwayFromZero) {
  EXPECT_EQ(round_half_away(0.5), 1.0);
  EXPECT_EQ(round_half_away(-0.5), -1.0);
  EXPECT_EQ(round_half_away(2.5), 3.0);
  EXPECT_EQ(round_half_away(-2.5), -3.0);
  EXPECT_EQ(round_half_away(2.49), 2.0);
}

TEST(IntRange, CoversEveryWidth) {
  EXPECT_EQ(int_range(2).min, -2);
  EXPECT_EQ(int_range(2).max, 1);
  EXPECT_EQ(int_range(8).min, -128);
  EXPECT_EQ(int_range(8).max, 127);
  EXPECT_EQ(int_range(32).min, kMin32);
  EXPECT_EQ(int_range(32).max, kMax32);
  EXPECT_EQ(int_range(64).min, std::numeric_limits<int64_t>::min());
  EXPECT_EQ(int_range(64).max, std::numeric_limits<int64_t>::max());
  for (int b = 2; b < 64; ++b) {
    EXPECT_EQ(int_range(b).max - int_range(b).min + 1, int64_t{1} << b) << b;
  }
}

TEST(SaturateWrap, HandCases) {
  EXPECT_EQ(saturate(200, 8), 127);
  EXPECT_EQ(saturate(-200, 8), -128);
  EXPECT_EQ(saturate(100, 8), 100);
  EXPECT_EQ(wrap(128, 8), -128);
  EXPECT_EQ(wrap(-129, 8), 127);
  EXPECT_EQ(wrap(255, 8), -1);
  EXPECT_EQ(wrap(256, 8), 0);
  EXPECT_EQ(wrap(40000, 16), 40000 - 65536);
  EXPECT_EQ(wrap(3, 2), -1);
  EXPECT_EQ(wrap(2, 2), -2);
  EXPECT_EQ(wrap(std::numeric_limits<int64_t>::min(), 64), std::numeric_limits<int64_t>::min());
  EXPECT_EQ(wrap(std::numeric_limits<int64_t>::min(), 63), 0);
  EXPECT_EQ(saturate(std::numeric_limits<int64_t>::max(), 64), std::numeric_limits<int64_t>::max());
}

TEST(SaturateWrap, WrapIsCongruentAndInRangeSaturateIsNearest) {
  Rng rng(12);
  for (int i = 0; i < 20000; ++i) {
    const int bits = static_cast<int>(rng.uniform_int(2, 63));
    const auto v = static_cast<int64_t>(rng.next_u64() >> rng.uniform_int(1, 63)) *
                   (rng.uniform_int(0, 1) ? 1 : -1);
    const IntRange r = int_range(bits);
    const int64_t w = wrap(v, bits);
    ASSERT_GE(w, r.min);
    ASSERT_LE(w, r.max);
    // v − w is a multiple of 2^bits (computed in uint64 to stay defined).
    const uint64_t diff = static_cast<uint64_t>(v) - static_cast<uint64_t>(w);
    ASSERT_EQ(diff & ((uint64_t{1} << bits) - 1), 0u) << v << " " << bits << " (seed 12)";
    const int64_t s = saturate(v, bits);
    ASSERT_EQ(s, std::clamp(v, r.min, r.max));
  }
}

TEST(SignedBits, SmallestWidthThatHolds) {
  EXPECT_EQ(signed_bits_for(0), 2);
  EXPECT_EQ(signed_bits_for(1), 2);
  EXPECT_EQ(signed_bits_for(127), 8);
  EXPECT_EQ(signed_bits_for(128), 9);
  EXPECT_EQ(signed_bits_for(16384), 16);  // (−128)·(−128)
  EXPECT_EQ(signed_bits_for(32767), 16);
  EXPECT_EQ(signed_bits_for(32768), 17);
  EXPECT_EQ(ceil_log2(1), 0);
  EXPECT_EQ(ceil_log2(2), 1);
  EXPECT_EQ(ceil_log2(3), 2);
  EXPECT_EQ(ceil_log2(27), 5);
  EXPECT_EQ(ceil_log2(576), 10);
  EXPECT_EQ(ceil_log2(2048), 11);
}

// Oracle: a·b / 2^31 in long double (64-bit mantissa: |a·b| ≤ 2^62 is exact), ties toward +∞.
int64_t srdhm_oracle(int32_t a, int32_t b) {
  const long double v = static_cast<long double>(a) * b / 2147483648.0L;
  return static_cast<int64_t>(std::floor(v + 0.5L));
}

TEST(SaturatingRoundingDoublingHighMul, HandTies) {
  constexpr int32_t kHalf = 1 << 30;                                // Q31 0.5
  EXPECT_EQ(saturating_rounding_doubling_high_mul(-1, kHalf), 0);   // −0.5 → 0 (toward +∞)
  EXPECT_EQ(saturating_rounding_doubling_high_mul(-3, kHalf), -1);  // −1.5 → −1
  EXPECT_EQ(saturating_rounding_doubling_high_mul(5, kHalf), 3);    // 2.5 → 3
  EXPECT_EQ(saturating_rounding_doubling_high_mul(1, kHalf), 1);    // 0.5 → 1
  EXPECT_EQ(saturating_rounding_doubling_high_mul(kMin32, kMin32), kMax32);  // the saturation
  EXPECT_EQ(saturating_rounding_doubling_high_mul(kMax32, kMax32), kMax32 - 1);
}

TEST(SaturatingRoundingDoublingHighMul, BoundaryAndRandomAgainstOracle) {
  std::vector<int32_t> v = boundary_values();
  Rng rng(13);
  for (int i = 0; i < 200; ++i) v.push_back(static_cast<int32_t>(rng.next_u64()));
  for (int32_t a : v) {
    for (int32_t b : v) {
      if (a == kMin32 && b == kMin32) continue;
      ASSERT_EQ(saturating_rounding_doubling_high_mul(a, b), srdhm_oracle(a, b))
          << a << " * " << b << " (seed 13)";
    }
  }
}

TEST(RoundingDivideByPot, HandTies) {
  EXPECT_EQ(rounding_divide_by_pot(-2, 2), -1);  // −0.5 → −1 (away from zero)
  EXPECT_EQ(rounding_divide_by_pot(2, 2), 1);
  EXPECT_EQ(rounding_divide_by_pot(-6, 2), -2);  // −1.5 → −2
  EXPECT_EQ(rounding_divide_by_pot(6, 2), 2);
  EXPECT_EQ(rounding_divide_by_pot(5, 1), 3);
  EXPECT_EQ(rounding_divide_by_pot(-5, 1), -3);
  EXPECT_EQ(rounding_divide_by_pot(-3, 2), -1);  // −0.75 → −1
  EXPECT_EQ(rounding_divide_by_pot(kMin32, 31), -1);
  EXPECT_EQ(rounding_divide_by_pot(kMax32, 31), 1);
  EXPECT_EQ(rounding_divide_by_pot(kMin32, 0), kMin32);
}

TEST(RoundingDivideByPot, BoundaryAndRandomAgainstOracle) {
  std::vector<int32_t> v = boundary_values();
  Rng rng(14);
  for (int i = 0; i < 2000; ++i) v.push_back(static_cast<int32_t>(rng.next_u64()));
  for (int32_t x : v) {
    for (int e = 0; e <= 31; ++e) {
      const long double q = std::round(static_cast<long double>(x) / std::ldexp(1.0L, e));
      ASSERT_EQ(rounding_divide_by_pot(x, e), static_cast<int64_t>(q)) << x << " >> " << e;
    }
  }
}

TEST(SaturatingLeftShift, Saturates) {
  EXPECT_EQ(saturating_left_shift(3, 2), 12);
  EXPECT_EQ(saturating_left_shift(1 << 30, 1), kMax32);
  EXPECT_EQ(saturating_left_shift(-(1 << 30), 1), kMin32);
  EXPECT_EQ(saturating_left_shift(-(1 << 30) - 1, 1), kMin32);
}

}  // namespace
}  // namespace ei8::fixedpoint
