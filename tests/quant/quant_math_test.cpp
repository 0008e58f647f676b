// Scale/zero point, quantize/dequantize and error metrics; expected values derived in comments.
#include "ei8/quant/quant_math.h"

#include <gtest/gtest.h>

#include <cmath>

#include "ei8/core/rng.h"

namespace ei8::quant {
namespace {

TEST(ChooseQParams, AsymmetricAndSymmetric) {
  // u8 [−1, 3]: s = 4/255; z = RNE(0 + 1/s) = RNE(63.75) = 64.
  QuantParams p = choose_qparams(-1.0f, 3.0f, QType::kU8).value();
  EXPECT_FLOAT_EQ(p.scale, 4.0f / 255.0f);
  EXPECT_EQ(p.zero_point, 64);
  // s8 [−1, 3]: z = RNE(−128 + 63.75) = −64.
  EXPECT_EQ(choose_qparams(-1.0f, 3.0f, QType::kS8).value().zero_point, -64);
  // s8 symmetric weights [−2, 1]: a = 2, s = 4/254, z = 0.
  p = choose_qparams(-2.0f, 1.0f, QType::kS8Symmetric).value();
  EXPECT_FLOAT_EQ(p.scale, 2.0f / 127.0f);
  EXPECT_EQ(p.zero_point, 0);
  // s8 with symmetric = true: [−2, 2] over 255 steps, z = RNE((−128 + 127)/2) = RNE(−0.5) = 0.
  p = choose_qparams(-2.0f, 1.0f, QType::kS8, true).value();
  EXPECT_FLOAT_EQ(p.scale, 4.0f / 255.0f);
  EXPECT_EQ(p.zero_point, 0);
}

TEST(ChooseQParams, RangeWidenedToIncludeZero) {
  // [1, 3] → [0, 3]: s = 3/255, z = 0.
  QuantParams p = choose_qparams(1.0f, 3.0f, QType::kU8).value();
  EXPECT_FLOAT_EQ(p.scale, 3.0f / 255.0f);
  EXPECT_EQ(p.zero_point, 0);
  // [−3, −1] → [−3, 0] in s8: z = RNE(−128 + 255) = 127.
  EXPECT_EQ(choose_qparams(-3.0f, -1.0f, QType::kS8).value().zero_point, 127);
  // All zero: s = 1.
  EXPECT_EQ(choose_qparams(0.0f, 0.0f, QType::kU8).value().scale, 1.0f);
  // Zero is exactly representable in every case.
  Rng rng(41);
  for (int i = 0; i < 1000; ++i) {
    const float a = rng.uniform(-10.0f, 10.0f), b = rng.uniform(-10.0f, 10.0f);
    for (QType t : {QType::kU8, QType::kS8, QType::kS8Symmetric}) {
      const QuantParams q = choose_qparams(std::min(a, b), std::max(a, b), t).value();
      EXPECT_EQ(dequantize_value(quantize_value(0.0f, q, t), q), 0.0f);
    }
  }
}

TEST(ChooseQParams, ZeroPointTiesRoundToEven) {
  // u8, rmin = −0.25, rmax = 127.25: s = 127.5/255 = 0.5 exactly; z = RNE(0.5) = 0 (half away
  // from zero would give 1). rmin = −0.75, rmax = 126.75: z = RNE(1.5) = 2.
  QuantParams p = choose_qparams(-0.25f, 127.25f, QType::kU8).value();
  EXPECT_EQ(p.scale, 0.5f);
  EXPECT_EQ(p.zero_point, 0);
  EXPECT_EQ(choose_qparams(-0.75f, 126.75f, QType::kU8).value().zero_point, 2);
}

TEST(ChooseQParams, RejectsBadRanges) {
  EXPECT_FALSE(choose_qparams(2.0f, 1.0f, QType::kU8).ok());
  EXPECT_FALSE(choose_qparams(NAN, 1.0f, QType::kU8).ok());
  EXPECT_FALSE(choose_qparams(std::span<const float>(), QType::kU8).ok());
}

TEST(QuantizeValue, RoundHalfEvenAndClamp) {
  const QuantParams p{0.5f, 0};
  EXPECT_EQ(quantize_value(0.25f, p, QType::kS8), 0);    // 0.5 → 0
  EXPECT_EQ(quantize_value(0.75f, p, QType::kS8), 2);    // 1.5 → 2
  EXPECT_EQ(quantize_value(1.25f, p, QType::kS8), 2);    // 2.5 → 2
  EXPECT_EQ(quantize_value(-0.25f, p, QType::kS8), 0);   // −0.5 → 0
  EXPECT_EQ(quantize_value(-0.75f, p, QType::kS8), -2);  // −1.5 → −2
  EXPECT_EQ(quantize_value(1000.0f, p, QType::kS8), 127);
  EXPECT_EQ(quantize_value(-1000.0f, p, QType::kS8Symmetric), -127);
  EXPECT_EQ(quantize_value(-1000.0f, p, QType::kU8), 0);
  EXPECT_EQ(quantize_value(INFINITY, p, QType::kU8), 255);
  EXPECT_EQ(quantize_value(NAN, QuantParams{0.5f, 7}, QType::kU8), 7);
  EXPECT_EQ(quantize_value(0.25f, QuantParams{0.5f, 10}, QType::kU8),
            10);  // zero point after rounding
}

TEST(QuantizeValue, DividesInsteadOfMultiplyingByTheReciprocal) {
  // Find values where x/s and x·(1/s) round to different integers; QuantizeLinear must follow
  // the division.
  Rng rng(42);
  int differing = 0;
  for (int i = 0; i < 200000 && differing < 20; ++i) {
    const float s = rng.uniform(0.001f, 0.1f);
    const float x = (static_cast<float>(rng.uniform_int(-200, 200)) + 0.5f) * s;
    const float by_div = x / s, by_mul = x * (1.0f / s);
    if (std::nearbyint(by_div) == std::nearbyint(by_mul)) continue;
    ++differing;
    EXPECT_EQ(quantize_value(x, QuantParams{s, 0}, QType::kS8),
              std::clamp(static_cast<int32_t>(std::nearbyint(by_div)), -128, 127));
  }
  EXPECT_GT(differing, 0) << "seed 42 found no differing case";
}

TEST(QuantizeTensor, RoundTripWithinHalfAStep) {
  Rng rng(43);
  Tensor x = Tensor::zeros(DType::kF32, {4, 37});
  for (float& v : x.span<float>()) v = rng.uniform(-3.0f, 5.0f);
  for (QType t : {QType::kU8, QType::kS8, QType::kS8Symmetric}) {
    const QuantParams p = choose_qparams(x.span<float>(), t).value();
    const Tensor q = quantize(x, p, t).value();
    EXPECT_EQ(q.dtype(), storage_dtype(t));
    const Tensor y = dequantize(q, p).value();
    const ErrorMetrics e = error_metrics(x.span<float>(), y.span<float>()).value();
    EXPECT_LE(e.max_abs, 0.5 * p.scale * (1 + 1e-5)) << qtype_name(t);
    // Uniform rounding noise: MSE ≈ s²/12, SQNR of an 8-bit quantizer well above 30 dB.
    EXPECT_NEAR(e.mse, p.scale * p.scale / 12.0, 0.3 * p.scale * p.scale / 12.0);
    EXPECT_GT(e.sqnr_db, 30.0);
    EXPECT_GT(e.cosine, 0.999);
  }
}

TEST(QuantizeTensor, PerChannelEqualsPerTensorOnEachSlice) {
  Rng rng(44);
  Tensor x = Tensor::zeros(DType::kF32, {3, 5, 7});
  for (float& v : x.span<float>()) v = rng.normal(0.0f, 1.0f);
  for (int64_t axis : {0, 1, 2}) {
    const auto params = choose_qparams_per_channel(x, axis, QType::kS8Symmetric).value();
    ASSERT_EQ(params.size(), static_cast<size_t>(x.dim(axis)));
    const Tensor q = quantize_per_channel(x, params, axis, QType::kS8Symmetric).value();
    const Tensor y = dequantize_per_channel(q, params, axis).value();
    const auto xs = x.span<float>();
    const auto qs = q.span<int8_t>();
    const auto ys = y.span<float>();
    for (int64_t i = 0; i < 3; ++i)
      for (int64_t j = 0; j < 5; ++j)
        for (int64_t k = 0; k < 7; ++k) {
          const size_t idx = static_cast<size_t>((i * 5 + j) * 7 + k);
          const int64_t c = axis == 0 ? i : (axis == 1 ? j : k);
          const QuantParams& p = params[static_cast<size_t>(c)];
          EXPECT_EQ(qs[idx], quantize_value(xs[idx], p, QType::kS8Symmetric));
          EXPECT_EQ(ys[idx], dequantize_value(qs[idx], p));
        }
    // Each channel's abs-max maps to ±127.
    for (const QuantParams& p : params) EXPECT_EQ(p.zero_point, 0);
  }
}

TEST(QuantizeTensor, RejectsBadInput) {
  Tensor x = Tensor::zeros(DType::kF32, {2, 3});
  Tensor s8 = Tensor::zeros(DType::kS8, {2, 3});
  EXPECT_FALSE(quantize(s8, QuantParams{}, QType::kS8).ok());
  EXPECT_FALSE(quantize(x, QuantParams{0.0f, 0}, QType::kS8).ok());
  EXPECT_FALSE(quantize(x, QuantParams{1.0f, 300}, QType::kU8).ok());
  const std::vector<QuantParams> two(2), three(3);
  EXPECT_FALSE(quantize_per_channel(x, two, 1, QType::kS8).ok());
  EXPECT_FALSE(quantize_per_channel(x, two, 2, QType::kS8).ok());
  EXPECT_TRUE(quantize_per_channel(x, three, 1, QType::kS8).ok());
  const auto r = quantize(x, QuantParams{1.0f, 300}, QType::kU8);
  EXPECT_NE(r.status().message().find("cannot quantize tensor: zero point = 300"),
            std::string::npos);
}

TEST(ErrorMetrics, HandComputed) {
  const std::vector<float> ref = {1, 2, 3}, test = {1, 2, 4};
  const ErrorMetrics e = error_metrics(ref, test).value();
  EXPECT_DOUBLE_EQ(e.mse, 1.0 / 3.0);
  EXPECT_DOUBLE_EQ(e.max_abs, 1.0);
  EXPECT_NEAR(e.sqnr_db, 10.0 * std::log10(14.0), 1e-12);  // Σref² = 14, Σerr² = 1
  EXPECT_NEAR(e.cosine, 17.0 / std::sqrt(14.0 * 21.0), 1e-12);
  EXPECT_TRUE(std::isinf(error_metrics(ref, ref).value().sqnr_db));
  EXPECT_FALSE(error_metrics(ref, std::vector<float>{1, 2}).ok());
}

TEST(QuantizeBias, NormalAndOverflowGuard) {
  // b = 1, s_x = 0.1, s_w = 0.01: b / fl32(0.001) = 1000.
  const std::vector<float> b1 = {1.0f, -0.0005f};
  const std::vector<float> w1 = {0.01f};
  QuantizedBias q = quantize_bias(b1, 0.1f, w1).value();
  EXPECT_EQ(q.values[0], 1000);
  EXPECT_EQ(q.values[1], 0);  // −0.5 → RNE → 0
  EXPECT_TRUE(q.warnings.empty());
  // b = 100, s_x = 1e−5, s_w = 1e−6: 100 / 1e−11 = 1e13 > 2^31 − 1 → s_w enlarged.
  const std::vector<float> b2 = {100.0f, 1e-5f};  // channel 1: 1e−5 / 1e−11 = 1e6 fits
  const std::vector<float> w2 = {1e-6f, 1e-6f};
  q = quantize_bias(b2, 1e-5f, w2).value();
  ASSERT_EQ(q.adjusted_channels, std::vector<int64_t>{0});
  EXPECT_EQ(q.warnings.size(), 1u);
  EXPECT_GT(q.weight_scales[0], 100.0 / (1e-5 * 2147483647.0) * (1 - 1e-6));
  EXPECT_EQ(q.weight_scales[1], 1e-6f);
  EXPECT_LE(q.values[0], 2147483647);
  EXPECT_GT(q.values[0], 2147483647 - 1000);  // just fits: the scale was enlarged minimally
  // Per-tensor scale: the shared scale is enlarged before any bias is quantized.
  const std::vector<float> w3 = {1e-6f};
  const std::vector<float> b3 = {1.0f, 100.0f};
  q = quantize_bias(b3, 1e-5f, w3).value();
  const double s = double(1e-5f * q.weight_scales[0]);
  EXPECT_EQ(q.values[0], static_cast<int32_t>(std::nearbyint(1.0 / s)));
  EXPECT_FALSE(quantize_bias(b3, 0.0f, w3).ok());
  EXPECT_FALSE(quantize_bias(b3, 1.0f, std::vector<float>{1, 2, 3}).ok());
}

}  // namespace
}  // namespace ei8::quant
