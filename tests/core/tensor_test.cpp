#include "ei8/core/tensor.h"

#include <gtest/gtest.h>

#include <cstdint>

namespace ei8 {
namespace {

TEST(Tensor, ZerosHasShapeDtypeAndAlignment) {
  Tensor t = Tensor::zeros(DType::kS32, {2, 3, 5});
  EXPECT_EQ(t.rank(), 3);
  EXPECT_EQ(t.numel(), 30);
  EXPECT_EQ(t.nbytes(), 120u);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(t.raw()) % 64, 0u);
  for (int32_t v : t.span<int32_t>()) EXPECT_EQ(v, 0);
}

TEST(Tensor, CopyIsDeep) {
  Tensor a = Tensor::from<float>({2, 2}, {1.f, 2.f, 3.f, 4.f});
  Tensor b = a;
  b.span<float>()[0] = 9.f;
  EXPECT_EQ(a.span<float>()[0], 1.f);
  EXPECT_EQ(b.span<float>()[0], 9.f);
  Tensor c;
  c = b;
  EXPECT_EQ(c.span<float>()[3], 4.f);
}

TEST(Tensor, ReshapeKeepsBytesAndChecksCount) {
  Tensor t = Tensor::from<int8_t>({2, 3}, {1, 2, 3, 4, 5, 6});
  ASSERT_TRUE(t.reshape({3, 2}).ok());
  EXPECT_EQ(t.shape(), (Shape{3, 2}));
  EXPECT_EQ(t.span<int8_t>()[5], 6);
  Status s = t.reshape({4, 2});
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("must hold 6 elements"), std::string::npos);
}

TEST(Tensor, DtypeNamesRoundTrip) {
  for (DType t : {DType::kF32, DType::kS8, DType::kU8, DType::kS32}) {
    EXPECT_EQ(parse_dtype(dtype_name(t)).value(), t);
  }
  EXPECT_FALSE(parse_dtype("f16").ok());
  EXPECT_EQ(shape_to_string({1, 3, 32, 32}), "[1, 3, 32, 32]");
}

TEST(TensorDeathTest, WrongTypedViewAborts) {
  Tensor t = Tensor::zeros(DType::kU8, {4});
  EXPECT_DEATH((void)t.span<int8_t>(), "dtype u8 accessed as s8");
}

}  // namespace
}  // namespace ei8
