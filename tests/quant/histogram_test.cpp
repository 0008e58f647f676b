#include "ei8/quant/histogram.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <numeric>
#include <vector>

#include "ei8/core/rng.h"
#include "ei8/quant/observer.h"

namespace ei8::quant {
namespace {

std::vector<float> uniform_batch(Rng& rng, size_t n, float lo, float hi) {
  std::vector<float> v(n);
  for (float& x : v) x = rng.uniform(lo, hi);
  return v;
}

uint64_t total(const std::vector<uint64_t>& v) {
  return std::accumulate(v.begin(), v.end(), uint64_t{0});
}

TEST(StreamingHistogram, FirstBatchFillsExactlyBinsPerSide) {
  StreamingHistogram h(64);
  EXPECT_EQ(h.bins_used(), 0);
  const std::vector<float> batch = {-2.0f, -0.5f, 0.0f, 0.25f, 1.0f, 1.999f, 2.0f};
  h.add(batch);
  EXPECT_EQ(h.bins_used(), 64);
  EXPECT_DOUBLE_EQ(h.bin_width(), 2.0 / 64);
  EXPECT_EQ(h.count(), batch.size());
  EXPECT_EQ(h.zeros(), 1u);
  // Bins by hand: w = 1/32.  0.25 → 8, 1.0 → 32, 1.999 → 63, 2.0 (the closed top edge) → 63.
  EXPECT_EQ(h.positive(0), 1u);
  EXPECT_EQ(h.positive(8), 1u);
  EXPECT_EQ(h.positive(32), 1u);
  EXPECT_EQ(h.positive(63), 2u);
  EXPECT_EQ(h.negative(16), 1u);  // −0.5: (−17w, −16w]
  EXPECT_EQ(h.negative(63), 1u);  // −2.0
  EXPECT_EQ(total(h.abs_counts()), batch.size());
  EXPECT_EQ(total(h.signed_counts()), batch.size());
}

TEST(StreamingHistogram, NegativeZeroAndBinEdges) {
  StreamingHistogram h(4);
  h.add(std::vector<float>{4.0f});  // w = 1
  h.add(std::vector<float>{-0.0f, -1.0f, 1.0f, -2.5f});
  EXPECT_EQ(h.zeros(), 1u);
  EXPECT_EQ(h.positive(0), 1u);                       // −0 counts as zero, positive side
  EXPECT_EQ(h.negative(1), 1u);                       // −1 ∈ (−2, −1]
  EXPECT_EQ(h.positive(1), 1u);                       // 1 ∈ [1, 2)
  EXPECT_EQ(h.negative(2), 1u);                       // −2.5 ∈ (−3, −2]
  const std::vector<uint64_t> s = h.signed_counts();  // [-4,-3) ... [3,4]
  ASSERT_EQ(s.size(), 8u);
  EXPECT_EQ(s[1], 1u);  // negative bin 2 → entry n−1−2 = 1
  EXPECT_EQ(s[2], 1u);  // negative bin 1
  EXPECT_EQ(s[4], 1u);  // positive bin 0
}

// Every value must sit in bin ⌊|x|/w0⌋ >> merges, with w0 the first batch's width (values equal
// to the first batch's |x| max on the closed top edge: bins−1). Appending keeps the width and
// merging halves indices, so the brute force below is independent of the engine's bookkeeping.
TEST(StreamingHistogram, MatchesBruteForceAcrossGrowthAndMerges) {
  const uint64_t seed = 20261127;
  SCOPED_TRACE(testing::Message() << "seed " << seed);
  Rng rng(seed);
  const int64_t bins = 50;
  StreamingHistogram h(bins);
  std::vector<std::vector<float>> batches;
  batches.push_back(uniform_batch(rng, 1000, -1.0f, 1.0f));
  batches.back()[7] = 1.0f;  // pin the first batch's |x| max to 1 → w0 = 1/50
  batches.push_back(uniform_batch(rng, 500, -1.5f, 1.2f));   // appends bins (≤ 2·bins)
  batches.push_back(uniform_batch(rng, 500, -7.0f, 3.0f));   // forces merges
  batches.push_back(uniform_batch(rng, 500, -0.1f, 40.0f));  // more merges
  int64_t max_used = 0;
  for (const auto& b : batches) {
    h.add(b);
    max_used = std::max(max_used, h.bins_used());
    EXPECT_GE(h.bins_used(), bins);
    EXPECT_LE(h.bins_used(), 2 * bins);
  }
  EXPECT_GT(h.merges(), 0);
  const double w0 = 1.0 / bins;
  EXPECT_DOUBLE_EQ(h.bin_width(), w0 * std::ldexp(1.0, static_cast<int>(h.merges())));
  std::vector<uint64_t> pos(static_cast<size_t>(2 * bins)), neg(pos);
  for (const auto& b : batches) {
    for (float x : b) {
      const double a = std::fabs(static_cast<double>(x));
      int64_t k = a <= 1.0 && &b == &batches[0]
                      ? std::min<int64_t>(static_cast<int64_t>(a / w0), bins - 1)
                      : static_cast<int64_t>(a / w0);
      k >>= h.merges();
      (x < 0 ? neg : pos)[static_cast<size_t>(k)]++;
    }
  }
  for (int64_t k = 0; k < h.bins_used(); ++k) {
    EXPECT_EQ(h.positive(k), pos[static_cast<size_t>(k)]) << "positive bin " << k;
    EXPECT_EQ(h.negative(k), neg[static_cast<size_t>(k)]) << "negative bin " << k;
  }
  EXPECT_EQ(h.count(), 2500u);
}

TEST(StreamingHistogram, MemoryIsFixedWhateverTheData) {
  StreamingHistogram h(2048);
  const size_t bytes = h.memory_bytes();
  EXPECT_EQ(bytes, 4u * 2048u * sizeof(uint64_t));
  Rng rng(7);
  float scale = 1e-20f;
  for (int i = 0; i < 50; ++i, scale *= 10.0f) {  // the range grows by 10^49
    h.add(uniform_batch(rng, 5000, -scale, scale));
    EXPECT_EQ(h.memory_bytes(), bytes);
    EXPECT_LE(h.bins_used(), h.capacity());
  }
  EXPECT_EQ(h.count(), 250000u);
  EXPECT_EQ(total(h.abs_counts()), 250000u);
  EXPECT_GT(h.merges(), 100);
}

TEST(StreamingHistogram, ZerosBeforeTheFirstNonZeroLandInBinZero) {
  StreamingHistogram h(8);
  h.add(std::vector<float>(100, 0.0f));
  EXPECT_EQ(h.bins_used(), 0);
  EXPECT_EQ(h.count(), 100u);
  h.add(std::vector<float>{0.0f, 3.0f, -1.0f});
  EXPECT_EQ(h.zeros(), 101u);
  EXPECT_EQ(h.positive(0), 101u);
  EXPECT_EQ(h.count(), 103u);
  EXPECT_EQ(total(h.abs_counts()), 103u);
}

TEST(StreamingHistogram, NonFiniteValuesAreCountedNotBinned) {
  StreamingHistogram h(16);
  const float inf = std::numeric_limits<float>::infinity();
  const float nan = std::numeric_limits<float>::quiet_NaN();
  h.add(std::vector<float>{nan, 1.0f, -inf, 0.5f, inf});
  EXPECT_EQ(h.nonfinite(), 3u);
  EXPECT_EQ(h.count(), 2u);
  EXPECT_DOUBLE_EQ(h.bin_width(), 1.0 / 16);  // the infinities did not set the range
}

TEST(StreamingHistogram, SameValuesSameOrderGiveIdenticalCounts) {
  Rng a(99), b(99);
  StreamingHistogram h1(128), h2(128);
  for (int i = 0; i < 20; ++i) {
    const float s = 1.0f + static_cast<float>(i);
    h1.add(uniform_batch(a, 777, -s, 0.5f * s));
    h2.add(uniform_batch(b, 777, -s, 0.5f * s));
  }
  EXPECT_EQ(h1.signed_counts(), h2.signed_counts());
  EXPECT_EQ(h1.bin_width(), h2.bin_width());
}

TEST(TensorObserver, ExactExtremesAndMovingAverage) {
  TensorObserver obs;  // constant 0.01
  const std::vector<std::vector<float>> batches = {
      {1.0f, -2.0f, 3.0f}, {0.5f, 10.0f}, {-4.0f, 2.0f, 2.5f}, {7.0f}};
  double ema_lo = 0.0, ema_hi = 0.0;
  for (size_t i = 0; i < batches.size(); ++i) {
    obs.observe(batches[i]);
    const double lo = *std::min_element(batches[i].begin(), batches[i].end());
    const double hi = *std::max_element(batches[i].begin(), batches[i].end());
    ema_lo = i == 0 ? lo : ema_lo + 0.01 * (lo - ema_lo);
    ema_hi = i == 0 ? hi : ema_hi + 0.01 * (hi - ema_hi);
  }
  EXPECT_EQ(obs.min(), -4.0f);
  EXPECT_EQ(obs.max(), 10.0f);
  EXPECT_EQ(obs.batches(), 4);
  EXPECT_EQ(obs.count(), 9u);
  EXPECT_DOUBLE_EQ(obs.ema_min(), ema_lo);
  EXPECT_DOUBLE_EQ(obs.ema_max(), ema_hi);
  // By hand for the first two: −2 + 0.01·(0.5 − (−2)) = −1.975.
  TensorObserver two;
  two.observe(batches[0]);
  two.observe(batches[1]);
  EXPECT_DOUBLE_EQ(two.ema_min(), -1.975);
}

TEST(TensorObserver, OptionsAreValidated) {
  EXPECT_TRUE(validate(ObserverOptions{}).ok());
  Status s = validate(ObserverOptions{.bins = 0});
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("bins = 0"), std::string::npos);
  s = validate(ObserverOptions{.bins = 8, .ema_constant = 1.5});
  EXPECT_NE(s.message().find("ema_constant = 1.5, must be in (0, 1]"), std::string::npos);
}

}  // namespace
}  // namespace ei8::quant
