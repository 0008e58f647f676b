// A16W8 reference kernels (int16 activations × int8 weights, int64 accumulators): raw sums
// against an independent formulation (explicitly padded input, valid convolution; transposed
// weights for FC) over seeded random shapes (1-D/2-D, groups, depthwise, strides, dilation,
// padding, remainder sizes); requantized outputs against the Requantizer's int64 path; the
// int64 requantization against hand values and a double oracle; agreement with the int8
// reference kernels wherever both apply; the int32 bound; every bad-input path an error.
#include "ei8/runtime/kernels/ref/a16w8_ref.h"

#include <gtest/gtest.h>

#include <climits>
#include <cmath>

#include "conv_test_support.h"
#include "ei8/core/rng.h"

namespace ei8::kernels {
namespace {

using fixedpoint::ConvGeometry;
using fixedpoint::FusedActivation;
using fixedpoint::QuantizedMultiplier;
using fixedpoint::Requantizer;
using fixedpoint::RequantProfile;

ConvGeometry random_geometry(Rng& rng, int it) {
  return test::random_conv_geometry(rng, it, {.depthwise = true, .max_w = 13});
}

TEST(A16W8Ref, RawAccumulatorsMatchPaddedFormulationOnRandomShapes) {
  constexpr uint64_t kSeed = 1601;
  Rng rng(kSeed);
  for (int it = 0; it < 300; ++it) {
    const ConvGeometry g = random_geometry(rng, it);
    ASSERT_TRUE(g.validate().ok()) << g.validate().message();
    std::vector<int16_t> x(static_cast<size_t>(g.input_numel()));
    std::vector<int8_t> wt(static_cast<size_t>(g.weight_numel()));
    std::vector<int32_t> b(it % 3 == 0 ? 0 : static_cast<size_t>(g.out_channels));
    for (auto& v : x) v = static_cast<int16_t>(rng.uniform_int(-32768, 32767));
    for (auto& v : wt) v = static_cast<int8_t>(rng.uniform_int(-128, 127));
    for (auto& v : b) v = static_cast<int32_t>(rng.uniform_int(INT32_MIN, INT32_MAX));
    ConvS8Params p;
    p.geometry = g;
    p.input_zero_point = it % 2 == 0 ? 0 : static_cast<int32_t>(rng.uniform_int(-32768, 32767));
    p.weight_zero_point = it % 7 == 0 ? static_cast<int32_t>(rng.uniform_int(-128, 127)) : 0;
    std::vector<int64_t> acc(static_cast<size_t>(g.output_numel()));
    ASSERT_TRUE(conv_a16_acc_ref<int16_t>(p, x, wt, b, acc).ok());
    ASSERT_EQ(acc, test::padded_conv_reference<int64_t>(g, x, p.input_zero_point, wt,
                                                        p.weight_zero_point, b))
        << "iteration " << it << " seed " << kSeed;
  }
}

// TFLite's int64 MultiplyByQuantizedMultiplier written from its definition in __int128 (no
// overflow possible): round-half-up of acc·m15 / 2^(15 − shift).
__extension__ typedef __int128 i128;
int64_t tflite64_oracle(int64_t acc, QuantizedMultiplier m) {
  const i128 m15 = m.multiplier >= 0x7FFF0000 ? 0x7FFF : (m.multiplier + 32768) / 65536;
  const int s = 15 - m.shift;
  const i128 num = static_cast<i128>(acc) * m15;
  const i128 den = static_cast<i128>(1) << s;
  // floor((num + den/2) / den) without relying on >> of negatives.
  const i128 t = num + den / 2;
  i128 q = t / den;
  if (t % den != 0 && t < 0) --q;
  return static_cast<int64_t>(q);
}

TEST(A16W8Ref, Int64RequantizationMatchesItsDefinitionAndTheRealProduct) {
  constexpr uint64_t kSeed = 1602;
  Rng rng(kSeed);
  for (int it = 0; it < 2000; ++it) {
    const double real =
        std::ldexp(rng.uniform01() + 0.5, static_cast<int>(rng.uniform_int(-30, 5)));
    for (RequantProfile prof : fixedpoint::kAllProfiles) {
      auto rq = Requantizer::from_multiplier(prof, real, 0, -32768, 32767);
      ASSERT_TRUE(rq.ok()) << rq.status().message();
      ASSERT_TRUE(rq->check_int64().ok()) << real;
      // Accumulators whose exact product lands in (or near) the int16 range, beyond int32 too.
      const double target = (rng.uniform01() * 2.0 - 1.0) * 40000.0;
      const auto acc = static_cast<int64_t>(std::llround(target / real));
      if (std::llabs(acc) >= fixedpoint::kMaxInt64Accumulator) continue;
      const int32_t y = rq->apply64(acc, 0);
      const double exact = static_cast<double>(acc) * real;
      const double clamped = std::min(32767.0, std::max(-32768.0, exact));
      // Near the exact value: rounding (0.5) plus the multiplier's own rounding (float32 for
      // ort; Q15, relative 2^-15, up to 1 step at 32767, for tflite).
      ASSERT_LE(std::fabs(y - clamped), prof == RequantProfile::kOrt ? 1.0 : 2.0)
          << "seed " << kSeed << " it " << it << " acc " << acc << " M " << real;
      if (prof != RequantProfile::kOrt) {
        const int64_t want = std::min<int64_t>(
            32767, std::max<int64_t>(-32768, tflite64_oracle(acc, rq->multipliers()[0])));
        ASSERT_EQ(y, want) << "acc " << acc << " M " << real;
      } else if (acc >= INT32_MIN && acc <= INT32_MAX) {
        ASSERT_EQ(y, rq->apply(static_cast<int32_t>(acc), 0));  // same as the int32 path
      }
    }
  }
  // Hand values: M = 0.5 → m0 = 2^30, shift 0 → m15 = 2^14, total shift 15: 3·2^14 + 2^14 >> 15.
  const Requantizer half =
      Requantizer::from_multiplier(RequantProfile::kTflite, 0.5, 0, -32768, 32767).value();
  EXPECT_EQ(half.apply64(3, 0), 2);                     // 1.5 → 2 (half up)
  EXPECT_EQ(half.apply64(-3, 0), -1);                   // −1.5 → −1 (half up, as TFLite)
  EXPECT_EQ(half.apply64(int64_t{1} << 40, 0), 32767);  // clamped
  const Requantizer ort =
      Requantizer::from_multiplier(RequantProfile::kOrt, 0.5, 0, -32768, 32767).value();
  EXPECT_EQ(ort.apply64(3, 0), 2);    // 1.5 → 2 (half even)
  EXPECT_EQ(ort.apply64(-3, 0), -2);  // −1.5 → −2 (half even)
  EXPECT_EQ(ort.apply64(5, 0), 2);    // 2.5 → 2
}

TEST(A16W8Ref, RequantizedOutputIsTheInt64RequantizerOfTheAccumulator) {
  constexpr uint64_t kSeed = 1603;
  Rng rng(kSeed);
  for (int it = 0; it < 60; ++it) {
    const ConvGeometry g = random_geometry(rng, it);
    std::vector<int16_t> x(static_cast<size_t>(g.input_numel()));
    std::vector<int8_t> w(static_cast<size_t>(g.weight_numel()));
    std::vector<int32_t> b(static_cast<size_t>(g.out_channels));
    for (auto& v : x) v = static_cast<int16_t>(rng.uniform_int(-32767, 32767));
    for (auto& v : w) v = static_cast<int8_t>(rng.uniform_int(-127, 127));
    for (auto& v : b) v = static_cast<int32_t>(rng.uniform_int(-1000000, 1000000));
    std::vector<float> sw(static_cast<size_t>(g.out_channels));
    for (auto& s : sw) s = rng.uniform(0.001f, 0.02f);
    const float sx = rng.uniform(1e-5f, 1e-3f), sy = rng.uniform(1e-4f, 1e-2f);
    for (RequantProfile prof : fixedpoint::kAllProfiles) {
      for (FusedActivation act :
           {FusedActivation::kNone, FusedActivation::kRelu, FusedActivation::kRelu6}) {
        ConvS8Params p;
        p.geometry = g;
        const auto clamp = fixedpoint::activation_range(act, sy, 0, -32768, 32767);
        p.requant = Requantizer::prepare(prof, sx, sw, sy, 0, clamp.lo, clamp.hi).value();
        std::vector<int64_t> acc(static_cast<size_t>(g.output_numel()));
        std::vector<int16_t> y(acc.size());
        ASSERT_TRUE(conv_a16_acc_ref<int16_t>(p, x, w, b, acc).ok());
        const Status s = conv_a16_ref<int16_t, int16_t>(p, x, w, b, y);
        ASSERT_TRUE(s.ok()) << s.message();
        const int64_t per_channel = g.out_h() * g.out_w();
        for (size_t i = 0; i < y.size(); ++i) {
          const int64_t oc = (static_cast<int64_t>(i) / per_channel) % g.out_channels;
          ASSERT_EQ(y[i], p.requant.apply64(acc[i], oc)) << "seed " << kSeed << " it " << it;
          ASSERT_GE(y[i], clamp.lo);
          ASSERT_LE(y[i], clamp.hi);
        }
        // 8-bit output of the same accumulators (an int16 layer feeding an int8 one).
        p.requant = Requantizer::prepare(prof, sx, sw, sy * 256, 3, -128, 127).value();
        std::vector<int8_t> y8(acc.size());
        ASSERT_TRUE((conv_a16_ref<int16_t, int8_t>(p, x, w, b, y8).ok()));
        for (size_t i = 0; i < y8.size(); ++i) {
          const int64_t oc = (static_cast<int64_t>(i) / per_channel) % g.out_channels;
          ASSERT_EQ(y8[i], p.requant.apply64(acc[i], oc));
        }
      }
    }
  }
}

TEST(A16W8Ref, EightBitInputsGiveTheInt8ReferenceKernelsOutputs) {
  // u8/s8 inputs (the int8 layer before an int16 one): the int32 path of the int8 reference,
  // whatever the output type; s16 codes that fit in int8 with the `ort` profile: the same
  // outputs as the int8 kernel (apply64 == apply on int32 sums).
  constexpr uint64_t kSeed = 1604;
  Rng rng(kSeed);
  for (int it = 0; it < 80; ++it) {
    const ConvGeometry g = random_geometry(rng, it);
    std::vector<uint8_t> xu(static_cast<size_t>(g.input_numel()));
    std::vector<int8_t> xs(xu.size()), w(static_cast<size_t>(g.weight_numel()));
    std::vector<int16_t> x16(xu.size());
    for (size_t i = 0; i < xu.size(); ++i) {
      xu[i] = static_cast<uint8_t>(rng.uniform_int(0, 255));
      xs[i] = static_cast<int8_t>(rng.uniform_int(-128, 127));
      x16[i] = xs[i];
    }
    for (auto& v : w) v = static_cast<int8_t>(rng.uniform_int(-127, 127));
    std::vector<int32_t> b(static_cast<size_t>(g.out_channels));
    for (auto& v : b) v = static_cast<int32_t>(rng.uniform_int(-5000, 5000));
    const std::vector<float> sw(static_cast<size_t>(g.out_channels), 0.01f);
    for (RequantProfile prof : fixedpoint::kAllProfiles) {
      ConvS8Params p;
      p.geometry = g;
      p.input_zero_point = static_cast<int32_t>(rng.uniform_int(0, 255));
      p.requant = Requantizer::prepare(prof, 0.02f, sw, 0.05f, 0, -32768, 32767).value();
      std::vector<int32_t> acc(static_cast<size_t>(g.output_numel()));
      ASSERT_TRUE(conv2d_s8s8s32_ref<uint8_t>(p, xu, w, b, acc).ok());
      std::vector<int16_t> y(acc.size());
      ASSERT_TRUE((conv_a16_ref<uint8_t, int16_t>(p, xu, w, b, y).ok()));
      for (size_t i = 0; i < y.size(); ++i) {
        const int64_t oc = (static_cast<int64_t>(i) / (g.out_h() * g.out_w())) % g.out_channels;
        ASSERT_EQ(y[i], p.requant.apply(acc[i], oc)) << "seed " << kSeed << " it " << it;
      }
      if (prof != RequantProfile::kOrt) continue;
      p.input_zero_point = 0;
      p.requant = Requantizer::prepare(prof, 0.02f, sw, 0.05f, 0, -128, 127).value();
      std::vector<int8_t> y8(acc.size()), y16(acc.size());
      ASSERT_TRUE((conv2d_s8_ref<int8_t, int8_t>(p, xs, w, b, y8).ok()));
      ASSERT_TRUE((conv_a16_ref<int16_t, int8_t>(p, x16, w, b, y16).ok()));
      ASSERT_EQ(y8, y16) << "seed " << kSeed << " it " << it;
    }
  }
}

TEST(A16W8Ref, FullyConnectedMatchesTransposedFormulationInBothLayouts) {
  constexpr uint64_t kSeed = 1605;
  Rng rng(kSeed);
  for (int it = 0; it < 100; ++it) {
    FullyConnectedS8Params p;
    p.batch = rng.uniform_int(1, 5);
    p.in_features = rng.uniform_int(1, 70);
    p.out_features = rng.uniform_int(1, 19);
    p.input_zero_point = it % 2 ? 0 : static_cast<int32_t>(rng.uniform_int(-300, 300));
    const int64_t k = p.in_features, n = p.out_features;
    std::vector<int16_t> x(static_cast<size_t>(p.batch * k));
    std::vector<int8_t> w(static_cast<size_t>(k * n)), wt(w.size());
    std::vector<int32_t> b(static_cast<size_t>(n));
    for (auto& v : x) v = static_cast<int16_t>(rng.uniform_int(-32768, 32767));
    for (auto& v : w) v = static_cast<int8_t>(rng.uniform_int(-127, 127));
    for (auto& v : b) v = static_cast<int32_t>(rng.uniform_int(-100000, 100000));
    for (int64_t o = 0; o < n; ++o)
      for (int64_t i = 0; i < k; ++i)
        wt[static_cast<size_t>(i * n + o)] = w[static_cast<size_t>(o * k + i)];
    std::vector<int64_t> want;
    for (int64_t r = 0; r < p.batch; ++r)
      for (int64_t o = 0; o < n; ++o) {
        int64_t s = b[static_cast<size_t>(o)];
        for (int64_t i = 0; i < k; ++i)
          s += (int64_t{x[static_cast<size_t>(r * k + i)]} - p.input_zero_point) *
               w[static_cast<size_t>(o * k + i)];
        want.push_back(s);
      }
    std::vector<int64_t> a1(want.size()), a2(want.size());
    ASSERT_TRUE(fully_connected_a16_acc_ref<int16_t>(p, x, w, true, b, a1).ok());
    ASSERT_TRUE(fully_connected_a16_acc_ref<int16_t>(p, x, wt, false, b, a2).ok());
    ASSERT_EQ(a1, want) << "seed " << kSeed << " it " << it;
    ASSERT_EQ(a2, want) << "seed " << kSeed << " it " << it;
    for (RequantProfile prof : fixedpoint::kAllProfiles) {
      p.requant =
          Requantizer::prepare(prof, 1e-4f, std::vector<float>{0.01f}, 2e-3f, 0, -32768, 32767)
              .value();
      std::vector<int16_t> y(want.size());
      ASSERT_TRUE((fully_connected_a16_ref<int16_t, int16_t>(p, x, w, true, b, y).ok()));
      for (size_t i = 0; i < y.size(); ++i) ASSERT_EQ(y[i], p.requant.apply64(want[i], 0));
    }
  }
}

TEST(A16W8Ref, Int32WouldOverflowWhereInt64IsExact) {
  // A 3×3×64 convolution (K = 576) of full-scale int16 inputs and weights 127: Σ = 576·32767·127
  // = 2 396 889 984 > 2^31 − 1. The int64 accumulator holds it; an int32 one would wrap.
  const ConvGeometry g = ConvGeometry::conv2d(1, 64, 3, 3, 1, 3, 3);
  std::vector<int16_t> x(static_cast<size_t>(g.input_numel()), 32767);
  std::vector<int8_t> w(static_cast<size_t>(g.weight_numel()), 127);
  ConvS8Params p;
  p.geometry = g;
  std::vector<int64_t> acc(1);
  ASSERT_TRUE(conv_a16_acc_ref<int16_t>(p, x, w, {}, acc).ok());
  const int64_t exact = int64_t{576} * 32767 * 127;
  EXPECT_EQ(acc[0], exact);
  EXPECT_GT(exact, int64_t{INT32_MAX});
  EXPECT_NE(static_cast<int64_t>(static_cast<int32_t>(static_cast<uint32_t>(exact))), exact);
  // The bound of the header: K·2^15·127 < 2^31 holds up to K = 516.
  EXPECT_LT(int64_t{516} * 32768 * 127, int64_t{1} << 31);
  EXPECT_GT(int64_t{517} * 32768 * 127, (int64_t{1} << 31) - 1);
}

TEST(A16W8Ref, BadInputIsAnError) {
  const ConvGeometry g = ConvGeometry::conv2d(1, 2, 4, 4, 2, 3, 3);
  std::vector<int16_t> x(static_cast<size_t>(g.input_numel()));
  std::vector<int8_t> w(static_cast<size_t>(g.weight_numel()));
  std::vector<int16_t> y(static_cast<size_t>(g.output_numel()));
  const std::vector<float> sw{0.01f};
  ConvS8Params p;
  p.geometry = g;
  p.requant =
      Requantizer::prepare(RequantProfile::kTflite, 0.001f, sw, 0.01f, 0, -32768, 32767).value();
  ASSERT_TRUE((conv_a16_ref<int16_t, int16_t>(p, x, w, {}, y).ok()));
  auto expect_error = [&](const ConvS8Params& q, std::string_view what) {
    const Status s = conv_a16_ref<int16_t, int16_t>(q, x, w, {}, y);
    ASSERT_FALSE(s.ok()) << what;
    EXPECT_EQ(s.message().rfind("cannot ", 0), 0u) << s.message();
    EXPECT_NE(s.message().find(", must "), std::string::npos) << s.message();
  };
  ConvS8Params q = p;
  q.input_zero_point = 40000;
  expect_error(q, "zero point outside int16");
  const Status zs = conv_a16_ref<int16_t, int16_t>(q, x, w, {}, y);
  EXPECT_NE(zs.message().find("input zero point = 40000"), std::string::npos) << zs.message();
  q = p;
  q.weight_zero_point = 200;
  expect_error(q, "weight zero point");
  q = p;
  q.accumulator_bits = 24;
  expect_error(q, "simulated register");
  q = p;
  q.requant = Requantizer::prepare(RequantProfile::kTflite, 1.0f, sw, 0.00001f, 0, -32768, 32767)
                  .value();  // M = 1000 ≥ 128: outside TFLite's int64 path
  expect_error(q, "multiplier >= 128");
  // Output clamp outside the output type.
  std::vector<int8_t> y8(y.size());
  const Status s8 = conv_a16_ref<int16_t, int8_t>(p, x, w, {}, y8);
  EXPECT_FALSE(s8.ok());
  // Wrong sizes.
  std::vector<int16_t> short_y(y.size() - 1);
  EXPECT_FALSE((conv_a16_ref<int16_t, int16_t>(p, x, w, {}, short_y).ok()));
  EXPECT_FALSE((conv_a16_ref<int16_t, int16_t>(p, x, w, std::vector<int32_t>{1, 2, 3}, y).ok()));
  // FC: K = 0 and a too-large K.
  FullyConnectedS8Params f;
  f.in_features = 0;
  f.requant = p.requant;
  EXPECT_FALSE((fully_connected_a16_check<int16_t, int16_t>(f).ok()));
  f.in_features = kMaxA16AccumulationCount + 1;
  EXPECT_FALSE((fully_connected_a16_check<int16_t, int16_t>(f).ok()));
}

}  // namespace
}  // namespace ei8::kernels
