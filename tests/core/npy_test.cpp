#include "ei8/core/npy.h"

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>

namespace ei8 {
namespace {

// Builds a .npy file by hand (format 1.0) with an arbitrary descr and payload.
std::string make_npy(std::string_view descr, std::string_view shape, std::string_view payload) {
  std::string header =
      fmt::format("{{'descr': '{}', 'fortran_order': False, 'shape': {}, }}", descr, shape);
  header.append((64 - (10 + header.size() + 1) % 64) % 64, ' ');
  header.push_back('\n');
  std::string out = "\x93NUMPY";
  out += '\x01';
  out += '\x00';
  out += static_cast<char>(header.size() & 0xff);
  out += static_cast<char>(header.size() >> 8);
  return out + header + std::string(payload);
}

TEST(Npy, RoundTripsEveryDtype) {
  const Tensor f = Tensor::from<float>({2, 3}, {1.5f, -2.f, 0.f, 3.25f, 1e-8f, -7.f});
  const Tensor s8 = Tensor::from<int8_t>({4}, {-128, -1, 0, 127});
  const Tensor u8 = Tensor::from<uint8_t>({1, 1, 2}, {0, 255});
  const Tensor s32 = Tensor::from<int32_t>({3}, {INT32_MIN, 0, INT32_MAX});
  for (const Tensor* t : {&f, &s8, &u8, &s32}) {
    const std::string bytes = serialize_npy(*t);
    EXPECT_EQ((bytes.size() - t->nbytes()) % 64, 0u) << "header must be 64-byte aligned";
    Result<Tensor> back = parse_npy(bytes, "mem");
    ASSERT_TRUE(back.ok()) << back.status().message();
    EXPECT_EQ(back->dtype(), t->dtype());
    EXPECT_EQ(back->shape(), t->shape());
    EXPECT_EQ(std::memcmp(back->raw(), t->raw(), t->nbytes()), 0);
  }
}

TEST(Npy, ScalarAndOneDimShapesUsePythonTupleSyntax) {
  const std::string one = serialize_npy(Tensor::zeros(DType::kF32, {3}));
  EXPECT_NE(one.find("'shape': (3,)"), std::string::npos);
  const std::string two = serialize_npy(Tensor::zeros(DType::kF32, {2, 3}));
  EXPECT_NE(two.find("'shape': (2, 3)"), std::string::npos);
}

TEST(Npy, ConvertsFloat64AndInt64) {
  double d[2] = {0.5, -3.0};
  Result<Tensor> t = parse_npy(make_npy("<f8", "(2,)", {reinterpret_cast<char*>(d), 16}), "d");
  ASSERT_TRUE(t.ok()) << t.status().message();
  EXPECT_EQ(t->dtype(), DType::kF32);
  EXPECT_EQ(t->span<float>()[1], -3.0f);
  int64_t big[1] = {int64_t{1} << 40};
  Result<Tensor> b = parse_npy(make_npy("<i8", "(1,)", {reinterpret_cast<char*>(big), 8}), "b");
  EXPECT_EQ(b.status().code(), StatusCode::kOutOfRange);
}

TEST(Npy, BadFilesGiveClearErrors) {
  EXPECT_EQ(parse_npy("hello world", "x").status().code(), StatusCode::kDataLoss);
  const std::string good = serialize_npy(Tensor::zeros(DType::kF32, {4}));
  // Truncated payload.
  Result<Tensor> t = parse_npy(std::string_view(good).substr(0, good.size() - 3), "t.npy");
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.status().message().find("t.npy"), std::string::npos);
  EXPECT_NE(t.status().message().find("must be 16"), std::string::npos);
  // Truncated header.
  EXPECT_FALSE(parse_npy(std::string_view(good).substr(0, 20), "h").ok());
  // Unsupported dtype, Fortran order, big-endian.
  EXPECT_EQ(parse_npy(make_npy("<c8", "(1,)", std::string(8, '\0')), "c").status().code(),
            StatusCode::kUnsupported);
  std::string fortran = make_npy("<f4", "(1,)", std::string(4, '\0'));
  fortran.replace(fortran.find("False"), 5, "True ");
  EXPECT_EQ(parse_npy(fortran, "f").status().code(), StatusCode::kUnsupported);
  EXPECT_FALSE(parse_npy(make_npy(">f4", "(1,)", std::string(4, '\0')), "be").ok());
  EXPECT_FALSE(parse_npy(make_npy("<f4", "(-1,)", ""), "neg").ok());
  EXPECT_FALSE(parse_npy(make_npy("<f4", "(1099511627776, 1099511627776)", ""), "huge").ok());
}

TEST(Npy, FileAndRawRoundTrip) {
  const auto dir = std::filesystem::temp_directory_path() / "ei8_npy_test";
  std::filesystem::create_directories(dir);
  const Tensor x = Tensor::from<float>({1, 2, 2}, {1.f, 2.f, 3.f, 4.f});
  ASSERT_TRUE(write_npy((dir / "x.npy").string(), x).ok());
  EXPECT_EQ(read_npy((dir / "x.npy").string())->span<float>()[3], 4.f);
  ASSERT_TRUE(write_raw((dir / "x.bin").string(), x).ok());
  EXPECT_EQ(read_raw_f32((dir / "x.bin").string(), {1, 4})->span<float>()[2], 3.f);
  EXPECT_FALSE(read_raw_f32((dir / "x.bin").string(), {1, 5}).ok());
  EXPECT_EQ(read_npy((dir / "missing.npy").string()).status().code(), StatusCode::kIoError);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace ei8
