// Bit-growth formulas on the project's layer shapes; every expected value is derived in the
// comment beside it from K = (C_in/groups)·K_h·K_w and bits = product + ⌈log2 K⌉.
#include "ei8/fixedpoint/bit_growth.h"

#include <gtest/gtest.h>

namespace ei8::fixedpoint {
namespace {

BitGrowth bg(const ConvGeometry& g, OperandKind k = OperandKind::kS8S8) {
  return analyze_bit_growth("layer", g, k).value();
}

TEST(BitGrowth, AccumulationCount) {
  // conv1d 16→32, kernel 3: K = 16·3 = 48.
  EXPECT_EQ(ConvGeometry::conv1d(1, 16, 128, 32, 3).with_padding(1).accumulation_count(), 48);
  // conv2d 64→128, 3×3: K = 64·9 = 576.
  EXPECT_EQ(ConvGeometry::conv2d(1, 64, 8, 8, 128, 3, 3).accumulation_count(), 576);
  // groups = 2 on 8 input channels, 3×3: K = (8/2)·9 = 36.
  EXPECT_EQ(ConvGeometry::conv2d(1, 8, 8, 8, 4, 3, 3).with_groups(2).accumulation_count(), 36);
  // depthwise 32 channels, 3×3: K = 1·9 = 9.
  EXPECT_EQ(ConvGeometry::conv2d(1, 32, 8, 8, 32, 3, 3).with_groups(32).accumulation_count(), 9);
  // fully connected 2048 → 10: K = 2048.
  EXPECT_EQ(ConvGeometry::fully_connected(1, 2048, 10).accumulation_count(), 2048);
}

TEST(BitGrowth, ProductAndAccumulatorBits) {
  EXPECT_EQ(product_bits(OperandKind::kS8S8), 16);
  EXPECT_EQ(product_bits(OperandKind::kU8S8), 17);
  // K = 3 (conv1d 1→16, k3): 16 + ⌈log2 3⌉ = 18 → 32-bit.
  BitGrowth b = bg(ConvGeometry::conv1d(1, 1, 128, 16, 3).with_padding(1));
  EXPECT_EQ(b.k, 3);
  EXPECT_EQ(b.accumulator_bits, 18);
  EXPECT_EQ(b.recommended_width, 32);
  // K = 27 (conv2d 3→32, 3×3): 16 + 5 = 21; worst case 27·128·128 = 442368 < 2^19 → 20 bits.
  b = bg(ConvGeometry::conv2d(1, 3, 32, 32, 32, 3, 3).with_padding(1));
  EXPECT_EQ(b.accumulator_bits, 21);
  EXPECT_EQ(b.worst_case_abs, 442368);
  EXPECT_EQ(b.worst_case_bits, 20);
  // K = 576: 16 + 10 = 26.  K = 2048: 16 + 11 = 27.
  EXPECT_EQ(bg(ConvGeometry::conv2d(1, 64, 8, 8, 128, 3, 3)).accumulator_bits, 26);
  EXPECT_EQ(bg(ConvGeometry::fully_connected(1, 2048, 10)).accumulator_bits, 27);
  // u8 operands: 17 + 11 = 28; worst case 2048·255·128.
  b = bg(ConvGeometry::fully_connected(1, 2048, 10), OperandKind::kU8S8);
  EXPECT_EQ(b.accumulator_bits, 28);
  EXPECT_EQ(b.worst_case_abs, int64_t{2048} * 255 * 128);
  // K = 1: 16 bits fit a 16-bit accumulator; K = 2 does not.
  b = bg(ConvGeometry::conv2d(1, 1, 4, 4, 1, 1, 1));
  EXPECT_EQ(b.accumulator_bits, 16);
  EXPECT_EQ(b.recommended_width, 16);
  EXPECT_NE(b.reason.find("16-bit"), std::string::npos);
  EXPECT_EQ(bg(ConvGeometry::conv2d(1, 2, 4, 4, 1, 1, 1)).recommended_width, 32);
  // 2^20 inputs: 16 + 20 = 36 bits → 64-bit.
  b = bg(ConvGeometry::fully_connected(1, int64_t{1} << 20, 1));
  EXPECT_EQ(b.accumulator_bits, 36);
  EXPECT_EQ(b.recommended_width, 64);
}

TEST(BitGrowth, FormulaNeverBelowTheExactWorstCase) {
  for (int64_t k = 1; k <= 5000; k += (k < 64 ? 1 : 37)) {
    for (OperandKind kind : {OperandKind::kS8S8, OperandKind::kU8S8}) {
      const BitGrowth b = bg(ConvGeometry::fully_connected(1, k, 1), kind);
      EXPECT_GE(b.accumulator_bits, b.worst_case_bits) << k;
      EXPECT_LE(b.accumulator_bits - b.worst_case_bits, 2) << k;
    }
  }
}

TEST(BitGrowth, RejectsBadInput) {
  EXPECT_FALSE(recommend_width(65).ok());
  EXPECT_EQ(recommend_width(64).value(), 64);
  const auto r = analyze_bit_growth(
      "conv9", ConvGeometry::conv2d(1, 6, 8, 8, 4, 3, 3).with_groups(4), OperandKind::kS8S8);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("conv9: "), std::string::npos);
  EXPECT_FALSE(ConvGeometry::conv2d(1, 3, 2, 2, 4, 5, 5).validate().ok());
  EXPECT_FALSE(ConvGeometry::conv2d(0, 3, 8, 8, 4, 3, 3).validate().ok());
  EXPECT_FALSE(ConvGeometry::conv2d(1, 3, 8, 8, 4, 3, 3).with_padding(-1).validate().ok());
}

TEST(BitGrowth, ObservedBound) {
  const std::vector<int32_t> acc = {5, -40000, 1200};
  const ObservedBound o = observed_bound(std::span<const int32_t>(acc));
  EXPECT_EQ(o.max_abs, 40000);
  EXPECT_EQ(o.bits, 17);  // 40000 > 32767
}

}  // namespace
}  // namespace ei8::fixedpoint
