// INT8 reference convolution / fully connected: padding on every side, stride, dilation and
// groups checked against an independent formulation (explicitly padded input, valid convolution);
// requantization and clamps checked against the Requantizer applied to raw accumulators; every
// bad-input path returns an error.
#include "ei8/runtime/kernels/ref/conv_s8_ref.h"

#include <gtest/gtest.h>

#include "conv_test_support.h"
#include "ei8/core/rng.h"
#include "ei8/runtime/kernels/ref/fully_connected_s8_ref.h"

namespace ei8::kernels {
namespace {

using fixedpoint::ConvGeometry;
using fixedpoint::FusedActivation;
using fixedpoint::Requantizer;
using fixedpoint::RequantProfile;

TEST(ConvS8Ref, RawAccumulatorsMatchPaddedFormulationOnRandomShapes) {
  constexpr uint64_t kSeed = 51;
  Rng rng(kSeed);
  for (int it = 0; it < 200; ++it) {
    const bool one_d = it % 4 == 0;
    const ConvGeometry g = test::random_conv_geometry(rng, it);
    ASSERT_TRUE(g.validate().ok()) << g.validate().message();
    std::vector<uint8_t> x(static_cast<size_t>(g.input_numel()));
    std::vector<int8_t> wt(static_cast<size_t>(g.weight_numel()));
    std::vector<int32_t> b(static_cast<size_t>(g.out_channels));
    for (auto& v : x) v = static_cast<uint8_t>(rng.uniform_int(0, 255));
    for (auto& v : wt) v = static_cast<int8_t>(rng.uniform_int(-127, 127));
    for (auto& v : b) v = static_cast<int32_t>(rng.uniform_int(-100000, 100000));
    ConvS8Params p;
    p.geometry = g;
    p.input_zero_point = static_cast<int32_t>(rng.uniform_int(0, 255));
    std::vector<int32_t> acc(static_cast<size_t>(g.output_numel()));
    if (one_d) {
      ASSERT_TRUE(conv1d_s8s8s32_ref<uint8_t>(p, x, wt, b, acc).ok());
    } else {
      ASSERT_TRUE(conv2d_s8s8s32_ref<uint8_t>(p, x, wt, b, acc).ok());
    }
    ASSERT_EQ(acc, test::padded_conv_reference<int32_t>(g, x, p.input_zero_point, wt, 0, b))
        << "iteration " << it << " seed " << kSeed;
  }
}

TEST(ConvS8Ref, RequantizedOutputIsTheRequantizerOfTheAccumulator) {
  Rng rng(52);
  const ConvGeometry g = ConvGeometry::conv2d(2, 4, 7, 6, 6, 3, 3).with_padding(1).with_groups(2);
  std::vector<int8_t> x(static_cast<size_t>(g.input_numel())),
      w(static_cast<size_t>(g.weight_numel()));
  for (auto& v : x) v = static_cast<int8_t>(rng.uniform_int(-128, 127));
  for (auto& v : w) v = static_cast<int8_t>(rng.uniform_int(-127, 127));
  const std::vector<int32_t> b = {100, -200, 300, 0, 5, -5};
  const std::vector<float> sw = {0.01f, 0.02f, 0.005f, 0.03f, 0.011f, 0.007f};
  for (RequantProfile prof : fixedpoint::kAllProfiles) {
    for (FusedActivation act :
         {FusedActivation::kNone, FusedActivation::kRelu, FusedActivation::kRelu6}) {
      ConvS8Params p;
      p.geometry = g;
      p.input_zero_point = -7;
      const auto clamp = fixedpoint::activation_range(act, 0.2f, -20, -128, 127);
      p.requant = Requantizer::prepare(prof, 0.05f, sw, 0.2f, -20, clamp.lo, clamp.hi).value();
      std::vector<int32_t> acc(static_cast<size_t>(g.output_numel()));
      std::vector<int8_t> y(acc.size());
      ASSERT_TRUE(conv2d_s8s8s32_ref<int8_t>(p, x, w, b, acc).ok());
      ASSERT_TRUE((conv2d_s8_ref<int8_t, int8_t>(p, x, w, b, y).ok()));
      const int64_t per_channel = g.out_h() * g.out_w();
      for (size_t i = 0; i < y.size(); ++i) {
        const int64_t oc = (static_cast<int64_t>(i) / per_channel) % g.out_channels;
        ASSERT_EQ(y[i], p.requant.apply(acc[i], oc));
        ASSERT_GE(y[i], clamp.lo);
        ASSERT_LE(y[i], clamp.hi);
      }
    }
  }
}

TEST(ActivationRange, HandValues) {
  // s_y = 0.05, z = −128: ReLU keeps [−128, 127]; ReLU6 top = −128 + RNE(6/0.05 = 120) = −8.
  auto r = fixedpoint::activation_range(FusedActivation::kRelu6, 0.05f, -128, -128, 127);
  EXPECT_EQ(r.lo, -128);
  EXPECT_EQ(r.hi, -8);
  // s_y = 0.1, z = 10: ReLU [10, 127]; ReLU6 [10, 70].
  r = fixedpoint::activation_range(FusedActivation::kRelu, 0.1f, 10, -128, 127);
  EXPECT_EQ(r.lo, 10);
  EXPECT_EQ(r.hi, 127);
  r = fixedpoint::activation_range(FusedActivation::kRelu6, 0.1f, 10, -128, 127);
  EXPECT_EQ(r.hi, 70);
  // u8 output, ReLU6 beyond the range: clamped at 255.
  EXPECT_EQ(fixedpoint::activation_range(FusedActivation::kRelu6, 0.01f, 0, 0, 255).hi, 255);
}

TEST(ConvS8Ref, RejectsBadInput) {
  ConvS8Params p;
  p.geometry = ConvGeometry::conv2d(1, 2, 4, 4, 2, 3, 3);
  std::vector<int8_t> x(32), w(36), y(8);
  std::vector<uint8_t> xu(32), yu(8);
  std::vector<int32_t> acc(8), b(2);
  p.requant = Requantizer::from_multiplier(RequantProfile::kOrt, 0.1, 0, -128, 127).value();
  EXPECT_TRUE((conv2d_s8_ref<int8_t, int8_t>(p, x, w, b, y).ok()));
  EXPECT_FALSE(conv2d_s8s8s32_ref<int8_t>(p, std::span<const int8_t>(x).first(31), w, b, acc).ok());
  EXPECT_FALSE(conv2d_s8s8s32_ref<int8_t>(p, x, std::span<const int8_t>(w).first(35), b, acc).ok());
  EXPECT_FALSE(conv2d_s8s8s32_ref<int8_t>(p, x, w, std::vector<int32_t>(3), acc).ok());
  EXPECT_FALSE(conv2d_s8s8s32_ref<int8_t>(p, x, w, b, std::span<int32_t>(acc).first(7)).ok());
  // The s8 clamp does not fit a u8 output.
  const Status s = conv2d_s8_ref<int8_t, uint8_t>(p, x, w, b, yu);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("output clamp = [-128, 127]"), std::string::npos) << s.message();
  // u8 input with a negative zero point.
  p.input_zero_point = -1;
  EXPECT_FALSE(conv2d_s8s8s32_ref<uint8_t>(p, xu, w, b, acc).ok());
  p.input_zero_point = 0;
  // Requantizer with the wrong channel count.
  const std::vector<float> three = {0.1f, 0.1f, 0.1f};
  p.requant = Requantizer::prepare(RequantProfile::kOrt, 0.1f, three, 0.1f, 0, -128, 127).value();
  EXPECT_FALSE((conv2d_s8_ref<int8_t, int8_t>(p, x, w, b, y).ok()));
  // conv1d entry point on a conv2d geometry; K too large; bad groups.
  EXPECT_FALSE(conv1d_s8s8s32_ref<int8_t>(p, x, w, b, acc).ok());
  p.geometry = ConvGeometry::fully_connected(1, 70000, 1);
  EXPECT_NE(p.validate().message().find("K = 70000"), std::string::npos);
  p.geometry = ConvGeometry::conv2d(1, 3, 4, 4, 2, 3, 3).with_groups(2);
  EXPECT_FALSE(p.validate().ok());
}

TEST(FullyConnectedS8Ref, HandComputedAndBadInput) {
  // x = [2, −3, 5] (z_x = −1 → 3, −2, 6), w = [[1, 2, 3], [−1, 0, 1]], bias [7, −7]:
  //   acc0 = 7 + 3 − 4 + 18 = 24;  acc1 = −7 − 3 + 0 + 6 = −4.
  FullyConnectedS8Params p;
  p.in_features = 3;
  p.out_features = 2;
  p.input_zero_point = -1;
  const std::vector<int8_t> x = {2, -3, 5}, w = {1, 2, 3, -1, 0, 1};
  const std::vector<int32_t> b = {7, -7};
  std::vector<int32_t> acc(2);
  ASSERT_TRUE(fully_connected_s8s8s32_ref<int8_t>(p, x, w, b, acc).ok());
  EXPECT_EQ(acc, (std::vector<int32_t>{24, -4}));
  // tflite-single with M = 0.25, z = 0: 24 → 6; −4 → −1.
  p.requant =
      Requantizer::from_multiplier(RequantProfile::kTfliteSingle, 0.25, 0, -128, 127).value();
  std::vector<int8_t> y(2);
  ASSERT_TRUE((fully_connected_s8_ref<int8_t, int8_t>(p, x, w, b, y).ok()));
  EXPECT_EQ(y, (std::vector<int8_t>{6, -1}));
  EXPECT_FALSE(
      fully_connected_s8s8s32_ref<int8_t>(p, x, std::span<const int8_t>(w).first(5), b, acc).ok());
  p.in_features = 0;
  EXPECT_FALSE(p.validate().ok());
  p.in_features = 3;
  p.weight_zero_point = 200;
  EXPECT_FALSE(p.validate().ok());
}

}  // namespace
}  // namespace ei8::kernels
