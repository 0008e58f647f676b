#include "ei8/data/synthetic.h"

#include <gtest/gtest.h>

#include <cmath>
#include <complex>
#include <numbers>

namespace ei8::data {
namespace {

TEST(Synthetic, ShapesLabelsAndBalance) {
  SyntheticOptions o;
  o.train_size = 103;  // prime: classes cannot split evenly
  o.test_size = 50;
  o.seed = 3;
  auto s = make_synthetic(o);
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_EQ(s->train.samples.shape(), (Shape{103, 1, 128}));
  EXPECT_EQ(s->test.samples.shape(), (Shape{50, 1, 128}));
  EXPECT_EQ(s->train.num_classes, 5);
  std::vector<int> count(5);
  for (int32_t y : s->train.labels) {
    ASSERT_GE(y, 0);
    ASSERT_LT(y, 5);
    ++count[static_cast<size_t>(y)];
  }
  for (int c : count) EXPECT_TRUE(c == 20 || c == 21) << c;
}

TEST(Synthetic, SameSeedSameBytesOtherSeedDiffers) {
  SyntheticOptions o;
  o.train_size = 20;
  o.test_size = 20;
  o.seed = 11;
  auto a = make_synthetic(o), b = make_synthetic(o);
  o.seed = 12;
  auto c = make_synthetic(o);
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  auto va = a->train.samples.span<float>(), vb = b->train.samples.span<float>(),
       vc = c->train.samples.span<float>();
  EXPECT_TRUE(std::equal(va.begin(), va.end(), vb.begin()));
  EXPECT_FALSE(std::equal(va.begin(), va.end(), vc.begin()));
  EXPECT_EQ(a->train.labels, b->train.labels);
  // Train and test come from different streams.
  auto vt = a->test.samples.span<float>();
  EXPECT_FALSE(std::equal(va.begin(), va.end(), vt.begin()));
}

// The dominant DFT bin of a noise-free signal is its class frequency (1 Hz per bin at the
// default 128 samples over 1 s), which checks the frequency and sample-rate bookkeeping.
TEST(Synthetic, NoiseFreeSpectrumPeaksAtTheClassFrequency) {
  SyntheticOptions o;
  o.train_size = 50;
  o.test_size = 0;
  o.noise_std = 0.0f;
  o.seed = 5;
  auto s = make_synthetic(o);
  ASSERT_TRUE(s.ok());
  const float* x = s->train.samples.data<float>();
  for (int64_t i = 0; i < 50; ++i) {
    int best = 0;
    double best_mag = -1;
    for (int k = 1; k < 64; ++k) {
      std::complex<double> acc = 0;
      for (int t = 0; t < 128; ++t) {
        acc += static_cast<double>(x[i * 128 + t]) *
               std::polar(1.0, -2.0 * std::numbers::pi * k * t / 128.0);
      }
      if (std::abs(acc) > best_mag) best_mag = std::abs(acc), best = k;
    }
    const float f =
        kSignalFrequenciesHz[static_cast<size_t>(s->train.labels[static_cast<size_t>(i)])];
    EXPECT_LE(std::abs(static_cast<float>(best) - f), 1.0f) << "sample " << i;
  }
}

TEST(Synthetic, BadOptionsAreErrors) {
  SyntheticOptions o;
  o.length = 4;
  EXPECT_EQ(make_synthetic(o).status().code(), StatusCode::kInvalidArgument);
  o = {};
  o.sample_rate = 20.0f;
  auto r = make_synthetic(o);
  EXPECT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("sample_rate"), std::string::npos);
  o = {};
  o.train_size = -1;
  EXPECT_FALSE(make_synthetic(o).ok());
}

TEST(Dataset, BatchGatherAndCalibrationSubset) {
  SyntheticOptions o;
  o.train_size = 40;
  o.test_size = 0;
  auto s = make_synthetic(o);
  ASSERT_TRUE(s.ok());
  const Dataset& d = s->train;
  Batch b = d.batch(35, 10);  // clipped to 5
  ASSERT_EQ(b.x.shape(), (Shape{5, 1, 128}));
  EXPECT_EQ(b.y.data<int32_t>()[0], d.labels[35]);
  EXPECT_EQ(b.x.data<float>()[128], d.samples.data<float>()[36 * 128]);

  Dataset c1 = calibration_subset(d, 8, 99), c2 = calibration_subset(d, 8, 99),
          c3 = calibration_subset(d, 8, 100);
  EXPECT_EQ(c1.size(), 8);
  auto v1 = c1.samples.span<float>(), v2 = c2.samples.span<float>(), v3 = c3.samples.span<float>();
  EXPECT_TRUE(std::equal(v1.begin(), v1.end(), v2.begin()));
  EXPECT_FALSE(std::equal(v1.begin(), v1.end(), v3.begin()));
  // Every calibration sample is one of the dataset's rows.
  for (int64_t i = 0; i < c1.size(); ++i) {
    bool found = false;
    for (int64_t j = 0; j < d.size() && !found; ++j) {
      found = std::equal(v1.begin() + i * 128, v1.begin() + (i + 1) * 128,
                         d.samples.span<float>().begin() + j * 128) &&
              c1.labels[static_cast<size_t>(i)] == d.labels[static_cast<size_t>(j)];
    }
    EXPECT_TRUE(found) << i;
  }
  EXPECT_EQ(calibration_subset(d, 1000, 1).size(), 40);
}

TEST(Dataset, LoadDatasetRejectsUnknownNames) {
  DatasetOptions o;
  o.name = "imagenet";
  auto r = load_dataset(o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("imagenet"), std::string::npos);
}

}  // namespace
}  // namespace ei8::data
