#include "ei8/core/rng.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace ei8 {
namespace {

TEST(Rng, SameSeedSameStream) {
  Rng a(7), b(7), c(8);
  bool differs = false;
  for (int i = 0; i < 100; ++i) {
    const uint64_t x = a.next_u64();
    EXPECT_EQ(x, b.next_u64());
    differs |= x != c.next_u64();
  }
  EXPECT_TRUE(differs);
}

TEST(Rng, KnownFirstValueOfMt19937_64) {
  // The C++ standard fixes the 10000th output of a default-seeded mt19937_64; we check the
  // first output for seed 5489 (the default seed) against that same engine definition.
  Rng r(5489);
  std::mt19937_64 ref(5489);
  EXPECT_EQ(r.next_u64(), ref());
}

TEST(Rng, UniformIntStaysInBoundsAndHitsThem) {
  Rng r(1);
  std::vector<int> hits(7, 0);
  for (int i = 0; i < 7000; ++i) {
    const int64_t v = r.uniform_int(-3, 3);
    ASSERT_GE(v, -3);
    ASSERT_LE(v, 3);
    ++hits[static_cast<size_t>(v + 3)];
  }
  for (int h : hits) EXPECT_GT(h, 800);  // expected 1000 each
}

TEST(Rng, NormalHasUnitMoments) {
  Rng r(3);
  double sum = 0, sum2 = 0;
  const int n = 200000;
  for (int i = 0; i < n; ++i) {
    const double v = r.normal();
    sum += v;
    sum2 += v * v;
  }
  EXPECT_NEAR(sum / n, 0.0, 0.01);
  EXPECT_NEAR(sum2 / n, 1.0, 0.01);
}

TEST(Rng, ShuffleIsAPermutation) {
  Rng r(11);
  std::vector<int> v(50);
  for (int i = 0; i < 50; ++i) v[static_cast<size_t>(i)] = i;
  r.shuffle(std::span<int>(v));
  std::vector<int> sorted = v;
  std::sort(sorted.begin(), sorted.end());
  for (int i = 0; i < 50; ++i) EXPECT_EQ(sorted[static_cast<size_t>(i)], i);
  bool moved = false;
  for (int i = 0; i < 50; ++i) moved |= v[static_cast<size_t>(i)] != i;
  EXPECT_TRUE(moved);
}

}  // namespace
}  // namespace ei8
