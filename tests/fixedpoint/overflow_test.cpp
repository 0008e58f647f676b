// Saturate vs wrap accumulators: hand-traced pixels and a whole-layer simulation checked pixel by
// pixel against the plain step-by-step accumulate().
#include "ei8/fixedpoint/overflow.h"

#include <gtest/gtest.h>

#include "ei8/core/rng.h"
#include "ei8/fixedpoint/rounding.h"

namespace ei8::fixedpoint {
namespace {

TEST(Accumulate, HandTraceAtEightBits) {
  const std::vector<int64_t> t = {100, 100, 100};
  // Saturate: 100, 200→127, 227→127.  Wrap: 300 mod 256 = 44.
  PixelAccumulation s = accumulate(t, 0, 8, OverflowPolicy::kSaturate);
  EXPECT_EQ(s.exact, 300);
  EXPECT_EQ(s.result, 127);
  EXPECT_EQ(s.first_overflow_step, 2);  // step 0 = bias, step 2 = 200
  PixelAccumulation w = accumulate(t, 0, 8, OverflowPolicy::kWrap);
  EXPECT_EQ(w.result, 44);
  EXPECT_EQ(w.overflow_events, 1);  // register: 100, 200→−56 (overflow), −56+100 = 44 (fits)
  EXPECT_EQ(s.overflow_events, 2);  // register: 100, 200→127, 227→127
}

TEST(Accumulate, WrapRecoversWhenTheFinalSumFitsSaturateDoesNot) {
  // 120 + 120 − 120 = 120 fits 8 bits although the partial sum 240 does not.
  const std::vector<int64_t> t = {120, 120, -120};
  EXPECT_EQ(accumulate(t, 0, 8, OverflowPolicy::kWrap).result, 120);    // modular arithmetic
  EXPECT_EQ(accumulate(t, 0, 8, OverflowPolicy::kSaturate).result, 7);  // 127 − 120
  // Bias preloaded: 100 + 20 = 120 fits; at 64 bits nothing ever changes.
  EXPECT_EQ(accumulate(t, 100, 64, OverflowPolicy::kSaturate).result, 220);
}

TEST(Widths, ParseAndRefuse) {
  EXPECT_EQ(parse_widths("12..32").value().size(), 21u);
  EXPECT_EQ(parse_widths("12..32:4").value(), (std::vector<int>{12, 16, 20, 24, 28, 32}));
  EXPECT_EQ(parse_widths("16,24").value(), (std::vector<int>{16, 24}));
  EXPECT_FALSE(parse_widths("1..32").ok());
  EXPECT_FALSE(parse_widths("16,65").ok());
  EXPECT_FALSE(parse_widths("32..12").ok());
  EXPECT_FALSE(parse_widths("16,x").ok());
  EXPECT_FALSE(parse_widths("").ok());
  EXPECT_EQ(check_width(1).message(), "cannot simulate accumulator: width = 1, must be in [2, 64]");
  EXPECT_FALSE(check_width(65).ok());
  EXPECT_TRUE(check_width(2).ok());
  EXPECT_TRUE(check_width(64).ok());
}

TEST(LayerOverflow, MatchesPixelByPixelAccumulation) {
  constexpr uint64_t kSeed = 31;
  Rng rng(kSeed);
  const ConvGeometry g =
      ConvGeometry::conv2d(2, 6, 7, 5, 4, 3, 3).with_padding(1, 0, 1, 2).with_groups(2);
  std::vector<int8_t> x(static_cast<size_t>(g.input_numel())),
      w(static_cast<size_t>(g.weight_numel()));
  for (auto& v : x) v = static_cast<int8_t>(rng.uniform_int(-128, 127));
  for (auto& v : w) v = static_cast<int8_t>(rng.uniform_int(-127, 127));
  std::vector<int32_t> bias = {1000, -2000, 30000, -5};
  const std::vector<int> widths = {12, 14, 16, 18, 20, 32};
  const int32_t zx = 3;
  const LayerOverflow r =
      simulate_layer_overflow<int8_t>("t", g, zx, 0, x, w, bias, widths).value();
  ASSERT_EQ(r.points.size(), 2 * widths.size());
  for (size_t i = 0; i < widths.size(); ++i) {
    for (int p = 0; p < 2; ++p) {
      const auto policy = p == 0 ? OverflowPolicy::kSaturate : OverflowPolicy::kWrap;
      int64_t changed = 0;
      double sse = 0;
      for (int64_t n = 0; n < g.batch; ++n)
        for (int64_t oc = 0; oc < g.out_channels; ++oc)
          for (int64_t oh = 0; oh < g.out_h(); ++oh)
            for (int64_t ow = 0; ow < g.out_w(); ++ow) {
              auto terms = pixel_terms<int8_t>(g, zx, 0, x, w, n, oc, oh, ow).value();
              const auto a = accumulate(terms, bias[static_cast<size_t>(oc)], widths[i], policy);
              changed += a.result != a.exact;
              sse += double(a.result - a.exact) * double(a.result - a.exact);
            }
      const OverflowPoint& pt = r.points[2 * i + static_cast<size_t>(p)];
      EXPECT_EQ(pt.width, widths[i]);
      EXPECT_EQ(pt.policy, policy);
      EXPECT_EQ(pt.changed, changed)
          << widths[i] << " " << policy_name(policy) << " seed " << kSeed;
      EXPECT_DOUBLE_EQ(pt.mse, sse / double(r.outputs));
    }
  }
  // At 32 bits nothing overflows; at 12 bits uniform random data overflows.
  EXPECT_EQ(r.points.back().changed, 0);
  EXPECT_GT(r.points[0].changed, 0);
  EXPECT_LE(r.bits_needed, 32);
}

TEST(LayerOverflow, RejectsBadInput) {
  const ConvGeometry g = ConvGeometry::conv2d(1, 2, 4, 4, 2, 3, 3);
  std::vector<int8_t> x(32), w(36);
  const std::vector<int> bad = {16, 70};
  EXPECT_FALSE(simulate_layer_overflow<int8_t>("l", g, 0, 0, x, w, {}, bad).ok());
  std::vector<int8_t> short_x(31);
  const std::vector<int> ok = {16};
  EXPECT_FALSE(simulate_layer_overflow<int8_t>("l", g, 0, 0, short_x, w, {}, ok).ok());
  EXPECT_FALSE(pixel_terms<int8_t>(g, 0, 0, x, w, 0, 2, 0, 0).ok());
}

}  // namespace
}  // namespace ei8::fixedpoint
