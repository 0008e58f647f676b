// ei8/core/rng.h — a seeded random number generator whose streams are identical on every
// platform and standard library (unlike std::normal_distribution), so that datasets,
// calibration subsets and random tests are reproducible from their seed alone.
//
//   Rng rng(42);
//   float u = rng.uniform(-1.0f, 1.0f);
//   float g = rng.normal(0.0f, 0.1f);
//   int k = rng.uniform_int(0, 9);   // inclusive bounds
#pragma once

#include <cstdint>
#include <random>
#include <span>

namespace ei8 {

class Rng {
 public:
  explicit Rng(uint64_t seed) : engine_(seed), seed_(seed) {}

  uint64_t seed() const { return seed_; }
  uint64_t next_u64() { return engine_(); }
  // Uniform in [0, 1) with 53 random bits.
  double uniform01() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }
  float uniform(float lo, float hi) {
    return static_cast<float>(lo + (static_cast<double>(hi) - lo) * uniform01());
  }
  // Uniform integer in [lo, hi], both inclusive (Lemire-free simple rejection: exact).
  int64_t uniform_int(int64_t lo, int64_t hi);
  // Gaussian by Box–Muller on uniform01(); one value per call.
  double normal();
  float normal(float mean, float stddev) {
    return static_cast<float>(mean + static_cast<double>(stddev) * normal());
  }
  // Fisher–Yates shuffle of indices.
  template <typename T>
  void shuffle(std::span<T> v) {
    for (size_t i = v.size(); i > 1; --i) {
      size_t j = static_cast<size_t>(uniform_int(0, static_cast<int64_t>(i) - 1));
      std::swap(v[i - 1], v[j]);
    }
  }

 private:
  std::mt19937_64 engine_;  // mt19937_64's output sequence is fixed by the C++ standard
  uint64_t seed_;
};

}  // namespace ei8
