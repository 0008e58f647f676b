// Every FP32 activation tier (eltwise_f32.h: unary_f32, silu_f32, channel_affine_f32) against
// its specification, one test body per tier (STYLE.md 9):
//  * Relu, Clip, LeakyRelu and the per-channel affine (+ Relu): bit for bit against
//    unary_f32_ref / channel_affine_f32_ref, on random and hostile values (±0, ±inf, NaN,
//    denormals, 1e38), lengths around the vector widths (1..67, primes, 2^k ± 1), in place.
//  * Sigmoid: within kSigmoidMaxUlp ulps of a double-precision oracle 1/(1 + exp(−x)) rounded
//    to float, over every float of selected binades (a dense sweep), seeded random floats of the
//    whole range, and the boundary values (±0, ±inf, NaN, the denormal tail, the saturation
//    points); SiLU equals the tier's Sigmoid times x bit for bit.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "ei8/core/rng.h"
#include "ei8/runtime/kernels/eltwise_f32.h"

namespace ei8::kernels {
namespace {

constexpr uint64_t kSeed = 20261207;
const float kNan = std::numeric_limits<float>::quiet_NaN();
const float kInf = std::numeric_limits<float>::infinity();

bool same_bits(float want, float got) {
  if (std::isnan(want) || std::isnan(got)) return std::isnan(want) && std::isnan(got);
  return std::bit_cast<uint32_t>(want) == std::bit_cast<uint32_t>(got);
}

// Distance in representable floats (the sign-magnitude bits mapped onto a monotone integer
// line, so that −0 and +0 are one point).
int64_t ulp_distance(float a, float b) {
  const auto line = [](float f) {
    const int64_t i = std::bit_cast<int32_t>(f);
    return i < 0 ? -(i & 0x7fffffff) : i;
  };
  return std::abs(line(a) - line(b));
}

// The oracle: σ(x) in double, rounded once to float.
float sigmoid_oracle(float x) {
  return static_cast<float>(1.0 / (1.0 + std::exp(-static_cast<double>(x))));
}

std::vector<float> hostile_values(Rng& rng, int64_t n) {
  const float special[] = {0.0f, -0.0f,  kNan,    kInf,  -kInf,  1.0f, -1.0f,
                           3.0f, 1e-45f, -1e-39f, 1e38f, -1e38f, 6.0f, -6.0f};
  std::vector<float> x(static_cast<size_t>(n));
  for (float& v : x) {
    v = rng.uniform_int(0, 1) == 0 ? special[rng.uniform_int(0, 13)] : rng.uniform(-8.0f, 8.0f);
  }
  return x;
}

const int64_t kLengths[] = {1, 2, 3, 5, 7, 8, 9, 15, 16, 17, 23, 31, 32, 33, 63, 64, 65, 67, 257};

class UnaryF32Variants : public ::testing::TestWithParam<KernelChoice> {
 protected:
  void SetUp() override {
    if (!kernel_choice_available(GetParam())) {
      GTEST_SKIP() << "variant " << kernel_choice_name(GetParam())
                   << " needs an ISA this CPU lacks";
    }
    Result<KernelChoice> t = prepare_eltwise_tier(GetParam());
    ASSERT_TRUE(t.ok()) << t.status().message();
    tier_ = *t;
  }
  KernelChoice tier_ = KernelChoice::kRef;
};

TEST_P(UnaryF32Variants, ExactActivationsMatchReferenceBitForBit) {
  struct Op {
    const char* name;
    UnaryOp op;
    UnaryParams p;
  };
  UnaryParams relu6;
  relu6.lo = 0.0f;
  relu6.hi = 6.0f;
  UnaryParams clip_neg;  // a bound of −0: ties between ±0 must keep x, as std::max/min do
  clip_neg.lo = -0.0f;
  clip_neg.hi = 0.0f;
  UnaryParams clip_inf;
  clip_inf.lo = -kInf;
  clip_inf.hi = 2.5f;
  UnaryParams leaky;
  leaky.alpha = 0.1f;
  UnaryParams hsig;  // ONNX's defaults (MobileNetV3's SE gates use alpha 1/6, beta 1/2)
  hsig.alpha = 0.2f;
  hsig.beta = 0.5f;
  UnaryParams hsig6;
  hsig6.alpha = 1.0f / 6.0f;
  hsig6.beta = 0.5f;
  const Op ops[] = {{"Relu", UnaryOp::kRelu, {}},
                    {"Clip0_6", UnaryOp::kClip, relu6},
                    {"ClipZeros", UnaryOp::kClip, clip_neg},
                    {"ClipInf", UnaryOp::kClip, clip_inf},
                    {"LeakyRelu", UnaryOp::kLeakyRelu, leaky},
                    {"HardSigmoid", UnaryOp::kHardSigmoid, hsig},
                    {"HardSigmoid1_6", UnaryOp::kHardSigmoid, hsig6},
                    {"HardSwish", UnaryOp::kHardSwish, {}},
                    {"Tanh (reference on every tier)", UnaryOp::kTanh, {}}};
  for (const Op& o : ops) {
    ASSERT_TRUE(unary_f32_exact(o.op));
    for (int64_t n : kLengths) {
      const uint64_t seed = kSeed + static_cast<uint64_t>(n);
      SCOPED_TRACE(std::string(o.name) + ", n " + std::to_string(n) + ", seed " +
                   std::to_string(seed));
      Rng rng(seed);
      const std::vector<float> x = hostile_values(rng, n);
      std::vector<float> want(x.size()), got(x.size(), std::bit_cast<float>(0x7fbadbadu));
      unary_f32_ref(o.op, o.p, n, x.data(), want.data());
      unary_f32(tier_, o.op, o.p, n, x.data(), got.data());
      for (size_t i = 0; i < x.size(); ++i) {
        ASSERT_TRUE(same_bits(want[i], got[i]))
            << "x " << x[i] << ": got " << got[i] << ", want " << want[i];
      }
      std::vector<float> inplace = x;  // y aliasing x
      unary_f32(tier_, o.op, o.p, n, inplace.data(), inplace.data());
      for (size_t i = 0; i < x.size(); ++i) ASSERT_TRUE(same_bits(want[i], inplace[i]));
    }
  }
}

TEST_P(UnaryF32Variants, ChannelAffineMatchesReferenceBitForBit) {
  Rng shapes(kSeed);
  for (int c = 0; c < 40; ++c) {
    const int64_t batch = shapes.uniform_int(1, 3), channels = shapes.uniform_int(1, 19);
    const int64_t inner = kLengths[shapes.uniform_int(0, 18)];
    const uint64_t seed = kSeed * 31 + static_cast<uint64_t>(c);
    SCOPED_TRACE("case " + std::to_string(c) + " [" + std::to_string(batch) + "," +
                 std::to_string(channels) + "," + std::to_string(inner) + "], seed " +
                 std::to_string(seed));
    Rng rng(seed);
    const int64_t n = batch * channels * inner;
    const std::vector<float> x = hostile_values(rng, n);
    std::vector<float> scale = hostile_values(rng, channels), shift = hostile_values(rng, channels);
    if (c % 2 == 0) {  // BatchNorm-like parameters too
      for (float& s : scale) s = rng.uniform(0.1f, 2.0f);
      for (float& t : shift) t = rng.uniform(-1.0f, 1.0f);
    }
    for (bool relu : {false, true}) {
      std::vector<float> want(x.size()), got(x.size(), std::bit_cast<float>(0x7fbadbadu));
      channel_affine_f32_ref(batch, channels, inner, scale.data(), shift.data(), x.data(),
                             want.data());
      if (relu) unary_f32_ref(UnaryOp::kRelu, {}, n, want.data(), want.data());
      channel_affine_f32(tier_, batch, channels, inner, scale.data(), shift.data(), x.data(),
                         got.data(), relu);
      for (size_t i = 0; i < x.size(); ++i) {
        ASSERT_TRUE(same_bits(want[i], got[i])) << (relu ? "relu, " : "") << "output " << i
                                                << ": got " << got[i] << ", want " << want[i];
      }
      std::vector<float> inplace = x;
      channel_affine_f32(tier_, batch, channels, inner, scale.data(), shift.data(), inplace.data(),
                         inplace.data(), relu);
      for (size_t i = 0; i < x.size(); ++i) ASSERT_TRUE(same_bits(want[i], inplace[i]));
    }
  }
}

// Checks σ over `x` against the oracle; returns the largest ulp distance seen.
int64_t check_sigmoid(KernelChoice tier, const std::vector<float>& x) {
  std::vector<float> y(x.size(), std::bit_cast<float>(0x7fbadbadu));
  unary_f32(tier, UnaryOp::kSigmoid, {}, static_cast<int64_t>(x.size()), x.data(), y.data());
  int64_t worst = 0;
  int failures = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    const float want = sigmoid_oracle(x[i]);
    if (std::isnan(x[i])) {
      EXPECT_TRUE(std::isnan(y[i])) << "sigmoid(NaN) = " << y[i];
      continue;
    }
    if (tier == KernelChoice::kRef && x[i] < -88.72f && y[i] == 0.0f) {
      continue;  // the reference's exp(−x) overflows there (eltwise_f32.h): 0, not a denormal
    }
    const int64_t d = ulp_distance(want, y[i]);
    worst = std::max(worst, d);
    if (d > kSigmoidMaxUlp && ++failures <= 5) {
      ADD_FAILURE() << "sigmoid(" << x[i] << " = 0x" << std::hex << std::bit_cast<uint32_t>(x[i])
                    << std::dec << ") = " << y[i] << ", oracle " << want << ": " << d << " ulp";
    }
  }
  return worst;
}

TEST_P(UnaryF32Variants, SigmoidWithinUlpBoundOfDoubleOracle) {
  // Dense: the floats of the binades where σ bends and saturates, in steps of 97 floats.
  std::vector<float> x;
  for (float lo : {1.0f / 1024, 0.25f, 1.0f, 4.0f, 16.0f, 64.0f}) {
    const uint32_t b0 = std::bit_cast<uint32_t>(lo), b1 = std::bit_cast<uint32_t>(lo * 2);
    for (uint32_t b = b0; b < b1; b += 97) {
      x.push_back(std::bit_cast<float>(b));
      x.push_back(-std::bit_cast<float>(b));
    }
  }
  // The tail toward 0 (σ(−87.3) ≈ FLT_MIN: denormal results below) and the saturation points.
  for (float v = -110.0f; v < -80.0f; v += 0.0137f) x.push_back(v);
  for (float v : {0.0f,    -0.0f,   kInf,    -kInf,   kNan,   -kNan,    1e-45f,
                  -1e-45f, 1e-30f,  -87.33f, -88.72f, -89.0f, -103.28f, -103.97f,
                  -104.0f, -104.5f, 16.64f,  17.33f,  88.0f,  1e38f,    -1e38f}) {
    x.push_back(v);
  }
  // Random floats of the whole range (bit patterns) and of [−20, 20].
  Rng rng(kSeed);
  for (int i = 0; i < 100000; ++i) {
    x.push_back(std::bit_cast<float>(static_cast<uint32_t>(rng.uniform_int(0, 0xffffffffLL))));
    x.push_back(rng.uniform(-20.0f, 20.0f));
  }
  SCOPED_TRACE("seed " + std::to_string(kSeed) + ", " + std::to_string(x.size()) + " values");
  const int64_t worst = check_sigmoid(tier_, x);
  RecordProperty("worst_ulp", static_cast<int>(worst));
  std::printf("[ sigmoid  ] %s: worst %lld ulp over %zu values (bound %d)\n",
              std::string(kernel_choice_name(tier_)).c_str(), static_cast<long long>(worst),
              x.size(), kSigmoidMaxUlp);
  // Tails of every length: the masked lanes compute the same values.
  for (int64_t n : kLengths) {
    std::vector<float> t(x.begin(), x.begin() + n);
    check_sigmoid(tier_, t);
  }
}

TEST_P(UnaryF32Variants, SiluIsSigmoidTimesX) {
  for (int64_t n : kLengths) {
    const uint64_t seed = kSeed + 7 * static_cast<uint64_t>(n);
    SCOPED_TRACE("n " + std::to_string(n) + ", seed " + std::to_string(seed));
    Rng rng(seed);
    const std::vector<float> x = hostile_values(rng, n);
    std::vector<float> s(x.size()), y(x.size(), std::bit_cast<float>(0x7fbadbadu));
    unary_f32(tier_, UnaryOp::kSigmoid, {}, n, x.data(), s.data());
    silu_f32(tier_, n, x.data(), y.data());
    for (size_t i = 0; i < x.size(); ++i) {
      ASSERT_TRUE(same_bits(x[i] * s[i], y[i])) << "x " << x[i] << ": " << y[i];
    }
    std::vector<float> inplace = x;
    silu_f32(tier_, n, inplace.data(), inplace.data());
    for (size_t i = 0; i < x.size(); ++i) ASSERT_TRUE(same_bits(y[i], inplace[i]));
  }
}

INSTANTIATE_TEST_SUITE_P(AllTiers, UnaryF32Variants,
                         ::testing::ValuesIn(registered_eltwise_kernels()),
                         [](const ::testing::TestParamInfo<KernelChoice>& tp) {
                           return std::string(kernel_choice_name(tp.param));
                         });

// Hand-derived values on every tier: σ(0) = 1/2 exactly, σ(±inf) = 1 / +0, σ(−200) = +0,
// σ(−100) = e^−100 (a denormal of 26–27 steps; the reference's overflowing exp gives 0),
// SiLU(−inf) = −inf · 0 = NaN (as the unfused Sigmoid → Mul pair gives); relu of −0 and NaN =
// +0; ReLU6 clamps; the BatchNorm affine with its Relu.
TEST(UnaryF32, HandDerivedValuesOnEveryTier) {
  for (KernelChoice tier : registered_eltwise_kernels()) {
    if (!kernel_choice_available(tier)) continue;
    SCOPED_TRACE(std::string(kernel_choice_name(tier)));
    const std::vector<float> x = {0.0f, kInf, -kInf, -200.0f, -100.0f, 2.0f};
    std::vector<float> y(x.size());
    unary_f32(tier, UnaryOp::kSigmoid, {}, 6, x.data(), y.data());
    EXPECT_EQ(y[0], 0.5f);
    EXPECT_EQ(y[1], 1.0f);
    EXPECT_EQ(std::bit_cast<uint32_t>(y[2]), 0u);
    EXPECT_EQ(std::bit_cast<uint32_t>(y[3]), 0u);
    if (tier != KernelChoice::kRef) {
      EXPECT_NEAR(y[4], 3.72e-44f, 2e-45f);  // e^−100 = 3.7201e−44
    }
    EXPECT_NEAR(y[5], 0.880797077977882f, 1e-7f);
    silu_f32(tier, 6, x.data(), y.data());
    EXPECT_EQ(std::bit_cast<uint32_t>(y[0]), 0u);
    EXPECT_EQ(y[1], kInf);
    EXPECT_TRUE(std::isnan(y[2]));  // −inf · σ(−inf) = −inf · 0
    EXPECT_NEAR(y[5], 1.761594155955765f, 2e-7f);
    const std::vector<float> r = {-0.0f, kNan, -1.0f, 7.0f, 3.0f};
    UnaryParams relu6;
    relu6.lo = 0.0f;
    relu6.hi = 6.0f;
    unary_f32(tier, UnaryOp::kRelu, {}, 5, r.data(), y.data());
    EXPECT_EQ(std::bit_cast<uint32_t>(y[0]), 0u);
    EXPECT_EQ(std::bit_cast<uint32_t>(y[1]), 0u);
    EXPECT_EQ(y[3], 7.0f);
    unary_f32(tier, UnaryOp::kClip, relu6, 5, r.data(), y.data());
    EXPECT_EQ(y[2], 0.0f);
    EXPECT_EQ(y[3], 6.0f);
    EXPECT_EQ(y[4], 3.0f);
    // BatchNorm: scale 2, shift −1 per channel 0; scale −1, shift 0.5 per channel 1, + relu.
    const std::vector<float> bx = {1.0f, 0.25f, 1.0f, -2.0f}, sc = {2.0f, -1.0f},
                             sh = {-1.0f, 0.5f};
    channel_affine_f32(tier, 1, 2, 2, sc.data(), sh.data(), bx.data(), y.data(), true);
    EXPECT_EQ(y[0], 1.0f);
    EXPECT_EQ(y[1], 0.0f);  // 2·0.25 − 1 = −0.5 → 0
    EXPECT_EQ(y[2], 0.0f);  // −1 + 0.5 → 0
    EXPECT_EQ(y[3], 2.5f);
  }
}

}  // namespace
}  // namespace ei8::kernels
