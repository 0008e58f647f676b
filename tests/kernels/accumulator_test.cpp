// The reference kernels' simulated narrow accumulator (ConvS8Params / FullyConnectedS8Params
// accumulator_bits): every output equals fixedpoint::accumulate over the layer's own products
// (pixel_terms, bias preloaded) at that width and policy, on seeded random layers; the dispatcher
// runs the reference tier whenever a width is set; a bad width is a clean error.
#include <gtest/gtest.h>

#include <cstdio>
#include <vector>

#include "ei8/core/rng.h"
#include "ei8/fixedpoint/overflow.h"
#include "ei8/runtime/kernels/conv_s8.h"
#include "ei8/runtime/kernels/ref/conv_s8_ref.h"
#include "ei8/runtime/kernels/ref/fully_connected_s8_ref.h"

namespace ei8::kernels {
namespace {

using fixedpoint::OverflowPolicy;

TEST(SimulatedAccumulator, ConvEqualsAccumulateOverPixelTerms) {
  constexpr uint64_t kSeed = 4242;
  std::printf("seed %llu\n", static_cast<unsigned long long>(kSeed));
  Rng rng(kSeed);
  const fixedpoint::ConvGeometry g =
      fixedpoint::ConvGeometry::conv2d(2, 5, 7, 6, 3, 3, 3).with_padding(1);
  std::vector<uint8_t> x(static_cast<size_t>(g.input_numel()));
  for (auto& v : x) v = static_cast<uint8_t>(rng.uniform_int(0, 255));
  std::vector<int8_t> w(static_cast<size_t>(g.weight_numel()));
  for (auto& v : w) v = static_cast<int8_t>(rng.uniform_int(-127, 127));
  std::vector<int32_t> bias(static_cast<size_t>(g.out_channels));
  for (auto& v : bias) v = static_cast<int32_t>(rng.uniform_int(-3000, 3000));
  for (int bits : {8, 12, 16, 40}) {
    for (OverflowPolicy pol : {OverflowPolicy::kSaturate, OverflowPolicy::kWrap}) {
      ConvS8Params p;
      p.geometry = g;
      p.input_zero_point = 17;
      p.requant = fixedpoint::Requantizer::from_multiplier(fixedpoint::RequantProfile::kOrt, 0.01,
                                                           0, -128, 127)
                      .value();
      p.accumulator_bits = bits;
      p.accumulator_policy = pol;
      std::vector<int32_t> acc(static_cast<size_t>(g.output_numel()));
      ASSERT_TRUE(conv2d_s8s8s32_ref<uint8_t>(p, x, w, bias, acc).ok());
      int64_t changed = 0, i = 0;
      for (int64_t n = 0; n < g.batch; ++n) {
        for (int64_t oc = 0; oc < g.out_channels; ++oc) {
          for (int64_t oh = 0; oh < g.out_h(); ++oh) {
            for (int64_t ow = 0; ow < g.out_w(); ++ow, ++i) {
              auto terms = fixedpoint::pixel_terms<uint8_t>(g, 17, 0, x, w, n, oc, oh, ow);
              ASSERT_TRUE(terms.ok());
              const fixedpoint::PixelAccumulation want =
                  fixedpoint::accumulate(*terms, bias[static_cast<size_t>(oc)], bits, pol);
              ASSERT_EQ(acc[static_cast<size_t>(i)], want.result)
                  << bits << " " << fixedpoint::policy_name(pol) << " pixel " << i;
              changed += want.result != want.exact;
            }
          }
        }
      }
      if (bits <= 12) {
        EXPECT_GT(changed, 0) << bits;  // the narrow widths really overflow
      }
      if (bits == 40) {
        EXPECT_EQ(changed, 0);
      }
    }
  }
}

TEST(SimulatedAccumulator, FullyConnectedEqualsAccumulateAndDispatcherRunsReference) {
  Rng rng(77);
  std::printf("seed 77\n");
  FullyConnectedS8Params p;
  p.batch = 3;
  p.in_features = 37;
  p.out_features = 5;
  p.input_zero_point = -3;
  p.requant =
      fixedpoint::Requantizer::from_multiplier(fixedpoint::RequantProfile::kOrt, 0.02, 1, -128, 127)
          .value();
  std::vector<int8_t> x(static_cast<size_t>(p.batch * p.in_features));
  for (auto& v : x) v = static_cast<int8_t>(rng.uniform_int(-128, 127));
  std::vector<int8_t> w(static_cast<size_t>(p.out_features * p.in_features));
  for (auto& v : w) v = static_cast<int8_t>(rng.uniform_int(-127, 127));
  std::vector<int32_t> bias = {100, -200, 0, 3000, -4000};
  for (OverflowPolicy pol : {OverflowPolicy::kSaturate, OverflowPolicy::kWrap}) {
    p.accumulator_bits = 10;
    p.accumulator_policy = pol;
    std::vector<int32_t> acc(static_cast<size_t>(p.batch * p.out_features));
    ASSERT_TRUE(fully_connected_s8s8s32_ref<int8_t>(p, x, w, bias, acc).ok());
    for (int64_t n = 0; n < p.batch; ++n) {
      for (int64_t o = 0; o < p.out_features; ++o) {
        std::vector<int64_t> terms;
        for (int64_t i = 0; i < p.in_features; ++i) {
          terms.push_back(int64_t{x[static_cast<size_t>(n * p.in_features + i)] + 3} *
                          w[static_cast<size_t>(o * p.in_features + i)]);
        }
        EXPECT_EQ(acc[static_cast<size_t>(n * p.out_features + o)],
                  fixedpoint::accumulate(terms, bias[static_cast<size_t>(o)], 10, pol).result);
      }
    }
    // The dispatcher asked for the fastest tier still runs the reference with the register.
    auto k = FullyConnectedS8Kernel::prepare(p, w, bias, WeightLayout::kOutIn, IntType::kS8,
                                             IntType::kS32, KernelChoice::kAuto);
    ASSERT_TRUE(k.ok()) << k.status().message();
    EXPECT_EQ(k->variant(), "ref");
  }
  p.accumulator_bits = 1;
  const Status bad = p.validate();
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.message(), "cannot simulate int8 accumulator: width = 1, must be in [2, 64]");
}

}  // namespace
}  // namespace ei8::kernels
