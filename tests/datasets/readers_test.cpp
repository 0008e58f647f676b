// Readers of the on-disk formats, on small files the tests write themselves (idx, gzip idx,
// CIFAR-10 binary) and on Debian's Fashion-MNIST when it is installed.
#include <gtest/gtest.h>

#include <filesystem>
#include <numeric>

#include "ei8/core/npy.h"
#include "ei8/data/cifar10.h"
#include "ei8/data/idx.h"

namespace ei8::data {
namespace {

namespace fs = std::filesystem;

fs::path temp_dir(const std::string& name) {
  fs::path p = fs::path(EI8_BINARY_DIR) / "test_tmp" / "data" / name;
  fs::remove_all(p);
  fs::create_directories(p);
  return p;
}

IdxArray images(int64_t n, int64_t h, int64_t w) {
  IdxArray a{{n, h, w}, std::vector<uint8_t>(static_cast<size_t>(n * h * w))};
  for (size_t i = 0; i < a.data.size(); ++i) a.data[i] = static_cast<uint8_t>(i * 7 % 256);
  return a;
}

IdxArray labels(int64_t n) {
  IdxArray a{{n}, std::vector<uint8_t>(static_cast<size_t>(n))};
  for (int64_t i = 0; i < n; ++i) a.data[static_cast<size_t>(i)] = static_cast<uint8_t>(i % 10);
  return a;
}

TEST(Idx, RoundTripPlainAndGzip) {
  const fs::path dir = temp_dir("idx_rt");
  const IdxArray a = images(3, 28, 28);
  for (bool gz : {false, true}) {
    const std::string p = (dir / (gz ? "a.gz" : "a")).string();
    ASSERT_TRUE(write_idx_u8(p, a, gz).ok());
    auto r = read_idx_u8(p);
    ASSERT_TRUE(r.ok()) << r.status().message();
    EXPECT_EQ(r->dims, a.dims);
    EXPECT_EQ(r->data, a.data);
  }
}

TEST(Idx, WrongMagicTruncatedAndCorruptNameTheFile) {
  const fs::path dir = temp_dir("idx_bad");
  const std::string p = (dir / "x-images-idx3-ubyte").string();
  ASSERT_TRUE(write_file(p, std::string("\x00\x00\x0d\x03", 4) + std::string(12, '\0')).ok());
  auto r = read_idx_u8(p);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find(p), std::string::npos);
  EXPECT_NE(r.status().message().find("magic"), std::string::npos);

  ASSERT_TRUE(write_idx_u8(p, images(2, 4, 4), false).ok());
  auto full = read_file(p);
  ASSERT_TRUE(full.ok());
  ASSERT_TRUE(write_file(p, full->substr(0, full->size() - 5)).ok());
  r = read_idx_u8(p);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("truncated"), std::string::npos) << r.status().message();

  const std::string gz = (dir / "y.gz").string();
  ASSERT_TRUE(write_idx_u8(gz, images(20, 28, 28), true).ok());
  auto zbytes = read_file(gz);
  ASSERT_TRUE(zbytes.ok());
  ASSERT_TRUE(write_file(gz, zbytes->substr(0, zbytes->size() / 2)).ok());
  r = read_idx_u8(gz);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find(gz), std::string::npos) << r.status().message();

  r = read_idx_u8((dir / "missing").string());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("missing"), std::string::npos);
}

void write_fashion(const fs::path& dir, int64_t ntrain, int64_t ntest, bool gz) {
  const std::string ext = gz ? ".gz" : "";
  ASSERT_TRUE(
      write_idx_u8((dir / ("train-images-idx3-ubyte" + ext)).string(), images(ntrain, 28, 28), gz)
          .ok());
  ASSERT_TRUE(
      write_idx_u8((dir / ("train-labels-idx1-ubyte" + ext)).string(), labels(ntrain), gz).ok());
  ASSERT_TRUE(
      write_idx_u8((dir / ("t10k-images-idx3-ubyte" + ext)).string(), images(ntest, 28, 28), gz)
          .ok());
  ASSERT_TRUE(
      write_idx_u8((dir / ("t10k-labels-idx1-ubyte" + ext)).string(), labels(ntest), gz).ok());
}

TEST(FashionMnist, GeneratedFilesArePaddedAndNormalized) {
  const fs::path dir = temp_dir("fm_gen");
  write_fashion(dir, 12, 5, true);
  auto s = load_fashion_mnist(dir.string());
  ASSERT_TRUE(s.ok()) << s.status().message();
  ASSERT_EQ(s->train.samples.shape(), (Shape{12, 1, 32, 32}));
  ASSERT_EQ(s->test.samples.shape(), (Shape{5, 1, 32, 32}));
  const IdxArray raw = images(12, 28, 28);
  const float* x = s->train.samples.data<float>();
  const float pad = (0.0f - kFashionMnistMean) / kFashionMnistStd;
  for (int64_t n : {0, 11}) {
    EXPECT_FLOAT_EQ(x[n * 1024 + 0], pad);  // corner: padding
    EXPECT_FLOAT_EQ(x[n * 1024 + 31 * 32 + 31], pad);
    const uint8_t v = raw.data[static_cast<size_t>(n * 784 + 5 * 28 + 7)];
    EXPECT_FLOAT_EQ(x[n * 1024 + (5 + 2) * 32 + 7 + 2],
                    (static_cast<float>(v) / 255.0f - kFashionMnistMean) / kFashionMnistStd);
  }
  EXPECT_EQ(s->train.labels[11], 1);
  auto limited = load_fashion_mnist(dir.string(), 4, 2);
  ASSERT_TRUE(limited.ok());
  EXPECT_EQ(limited->train.size(), 4);
  EXPECT_EQ(limited->test.size(), 2);
}

TEST(FashionMnist, LabelOutOfRangeAndCountMismatchNameTheFile) {
  const fs::path dir = temp_dir("fm_bad");
  write_fashion(dir, 6, 3, false);
  IdxArray bad = labels(6);
  bad.data[4] = 10;
  const std::string lp = (dir / "train-labels-idx1-ubyte").string();
  ASSERT_TRUE(write_idx_u8(lp, bad, false).ok());
  auto s = load_fashion_mnist(dir.string());
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find(lp), std::string::npos) << s.status().message();
  EXPECT_NE(s.status().message().find("label[4] = 10"), std::string::npos);

  ASSERT_TRUE(write_idx_u8(lp, labels(5), false).ok());
  s = load_fashion_mnist(dir.string());
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find(lp), std::string::npos);

  // Images file handed a labels file: wrong rank.
  ASSERT_TRUE(write_idx_u8(lp, labels(6), false).ok());
  ASSERT_TRUE(write_idx_u8((dir / "t10k-images-idx3-ubyte").string(), labels(3), false).ok());
  s = load_fashion_mnist(dir.string());
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("rank"), std::string::npos);

  s = load_fashion_mnist((dir / "nowhere").string());
  EXPECT_EQ(s.status().code(), StatusCode::kNotFound);
  EXPECT_NE(s.status().message().find("dataset-fashion-mnist"), std::string::npos);
}

// Known facts of the real dataset: 60 000 / 10 000 images of 28×28, 6 000 / 1 000 per class,
// and the training pixels' mean is the normalization constant we use.
TEST(FashionMnist, DebianFilesHaveTheKnownProperties) {
  const std::string dir = kFashionMnistDefaultDir;
  if (!fs::exists(fs::path(dir) / "t10k-labels-idx1-ubyte.gz")) {
    GTEST_SKIP() << "dataset-fashion-mnist not installed";
  }
  for (auto [name, n] : {std::pair{"train", 60000}, std::pair{"t10k", 10000}}) {
    auto l = read_idx_u8(dir + "/" + name + "-labels-idx1-ubyte.gz");
    ASSERT_TRUE(l.ok()) << l.status().message();
    ASSERT_EQ(l->dims, (std::vector<int64_t>{n}));
    std::vector<int> count(10);
    for (uint8_t y : l->data) ++count[y];
    for (int c : count) EXPECT_EQ(c, n / 10);
  }
  auto img = read_idx_u8(dir + "/train-images-idx3-ubyte.gz");
  ASSERT_TRUE(img.ok());
  ASSERT_EQ(img->dims, (std::vector<int64_t>{60000, 28, 28}));
  const double sum = std::accumulate(img->data.begin(), img->data.end(), 0.0);
  const double mean = sum / static_cast<double>(img->data.size()) / 255.0;
  EXPECT_NEAR(mean, kFashionMnistMean, 5e-4);
  double ss = 0;
  for (uint8_t v : img->data) ss += (v / 255.0 - mean) * (v / 255.0 - mean);
  EXPECT_NEAR(std::sqrt(ss / static_cast<double>(img->data.size())), kFashionMnistStd, 5e-4);

  auto s = load_fashion_mnist(dir, 64, 64);
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_EQ(s->train.samples.shape(), (Shape{64, 1, 32, 32}));
  const float lo = (0.0f - kFashionMnistMean) / kFashionMnistStd;
  const float hi = (1.0f - kFashionMnistMean) / kFashionMnistStd;
  for (float v : s->test.samples.span<float>()) {
    ASSERT_GE(v, lo - 1e-6f);
    ASSERT_LE(v, hi + 1e-6f);
  }
}

std::string cifar_records(int n, int first_label) {
  std::string out;
  for (int i = 0; i < n; ++i) {
    out += static_cast<char>((first_label + i) % 10);
    for (int c = 0; c < 3; ++c) out += std::string(1024, static_cast<char>(50 * c + i));
  }
  return out;
}

TEST(Cifar10, GeneratedBatchesNormalizePerChannel) {
  const fs::path dir = temp_dir("cifar");
  for (int b = 1; b <= 5; ++b) {
    ASSERT_TRUE(
        write_file((dir / fmt::format("data_batch_{}.bin", b)).string(), cifar_records(2, b)).ok());
  }
  ASSERT_TRUE(write_file((dir / "test_batch.bin").string(), cifar_records(3, 7)).ok());
  auto s = load_cifar10(dir.string());
  ASSERT_TRUE(s.ok()) << s.status().message();
  ASSERT_EQ(s->train.samples.shape(), (Shape{10, 3, 32, 32}));
  ASSERT_EQ(s->test.samples.shape(), (Shape{3, 3, 32, 32}));
  EXPECT_EQ(s->train.labels[0], 1);
  EXPECT_EQ(s->train.labels[9], 6);
  EXPECT_EQ(s->test.labels[2], 9);
  const float* x = s->test.samples.data<float>();
  for (int c = 0; c < 3; ++c) {
    const float want = (static_cast<float>(50 * c + 2) / 255.0f - kCifar10Mean[c]) / kCifar10Std[c];
    EXPECT_FLOAT_EQ(x[(2 * 3 + c) * 1024 + 517], want) << c;
  }
  auto limited = load_cifar10(dir.string(), 3, 1);
  ASSERT_TRUE(limited.ok());
  EXPECT_EQ(limited->train.size(), 3);
}

TEST(Cifar10, TruncatedBadLabelAndMissingFilesNameTheFile) {
  const fs::path dir = temp_dir("cifar_bad");
  std::vector<uint8_t> px;
  std::vector<int32_t> ly;
  const std::string p = (dir / "data_batch_1.bin").string();
  ASSERT_TRUE(write_file(p, cifar_records(2, 0).substr(0, 5000)).ok());
  Status st = read_cifar10_batch(p, px, ly);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find(p), std::string::npos);
  EXPECT_NE(st.message().find("truncated"), std::string::npos);

  std::string recs = cifar_records(2, 0);
  recs[kCifar10RecordBytes] = 12;
  ASSERT_TRUE(write_file(p, recs).ok());
  st = read_cifar10_batch(p, px, ly);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("record 1 has label = 12"), std::string::npos) << st.message();

  auto s = load_cifar10((dir / "none").string());
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("data fetch cifar10"), std::string::npos);
}

}  // namespace
}  // namespace ei8::data
