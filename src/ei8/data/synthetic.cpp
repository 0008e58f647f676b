#include "ei8/data/synthetic.h"

#include <cmath>
#include <numbers>
#include <numeric>

namespace ei8::data {
namespace {

Dataset generate(const SyntheticOptions& o, int64_t n, uint64_t stream_seed, const char* split) {
  Dataset d;
  d.name = std::string("synthetic:") + split;
  d.num_classes = static_cast<int>(kSignalFrequenciesHz.size());
  d.mean = {0.0f};
  d.stddev = {1.0f};
  d.samples = Tensor::zeros(DType::kF32, {n, 1, o.length});
  d.labels.resize(static_cast<size_t>(n));
  // Balanced labels, then a seeded shuffle so batches mix classes.
  std::vector<int64_t> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), 0);
  Rng rng(stream_seed);
  rng.shuffle(std::span<int64_t>(order));
  float* x = d.samples.data<float>();
  const double two_pi = 2.0 * std::numbers::pi;
  for (int64_t i = 0; i < n; ++i) {
    const int cls = static_cast<int>(order[static_cast<size_t>(i)] % d.num_classes);
    d.labels[static_cast<size_t>(i)] = cls;
    const double amp = rng.uniform(0.5f, 1.5f);
    const double phase = rng.uniform(0.0f, 1.0f) * two_pi;
    const double freq = kSignalFrequenciesHz[static_cast<size_t>(cls)] + rng.uniform(-0.5f, 0.5f);
    const double offset = rng.uniform(-0.2f, 0.2f);
    float* row = x + i * o.length;
    for (int64_t t = 0; t < o.length; ++t) {
      const double s =
          amp * std::sin(two_pi * freq * static_cast<double>(t) / o.sample_rate + phase);
      row[t] = static_cast<float>(s + offset) + rng.normal(0.0f, o.noise_std);
    }
  }
  return d;
}

}  // namespace

Result<SplitDataset> make_synthetic(const SyntheticOptions& o) {
  if (o.train_size < 0 || o.test_size < 0) {
    return invalid_argument(
        "cannot make synthetic signals: train_size = {}, test_size = {}, "
        "must be ≥ 0",
        o.train_size, o.test_size);
  }
  if (o.length < 8) {
    return invalid_argument("cannot make synthetic signals: length = {}, must be ≥ 8", o.length);
  }
  const float top = kSignalFrequenciesHz.back() + 0.5f;
  if (!(o.sample_rate > 2.0f * top)) {
    return invalid_argument(
        "cannot make synthetic signals: sample_rate = {} Hz, must be > {} Hz "
        "(Nyquist for the {} Hz class)",
        o.sample_rate, 2.0f * top, top);
  }
  if (!(o.noise_std >= 0.0f)) {
    return invalid_argument("cannot make synthetic signals: noise_std = {}, must be ≥ 0",
                            o.noise_std);
  }
  // Two independent streams derived from the seed: train and test never share a sample.
  SplitDataset s;
  s.train = generate(o, o.train_size, o.seed * 2654435761ULL + 1, "train");
  s.test = generate(o, o.test_size, o.seed * 2654435761ULL + 0x9E3779B97F4A7C15ULL, "test");
  return s;
}

}  // namespace ei8::data
