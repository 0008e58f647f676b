// ei8/data/synthetic.h — Workload 1's data: noisy sine signals in 5 classes, generated
// deterministically from a seed (the same seed gives the same bytes on every machine).
//
// Class k is a sine of base frequency {2, 5, 8, 11, 14} Hz sampled at `sample_rate` Hz
// (default 128 samples over one second). Each sample randomizes, all from ei8::Rng:
//   amplitude  A ~ U[0.5, 1.5]
//   phase      φ ~ U[0, 2π)
//   frequency  f = f_k + δ, δ ~ U[-0.5, 0.5] Hz  (classes stay 2 Hz apart at worst)
//   offset     b ~ U[-0.2, 0.2]
//   noise      n[t] ~ N(0, noise_std²), default noise_std = 0.6 (SNR ≈ 1.4 dB at A = 1)
//   x[t] = A·sin(2π f t / sample_rate + φ) + b + n[t],  t = 0 … length-1
// The noise makes single samples ambiguous to the eye but a small CNN separates the classes;
// labels are balanced (sample i has class i mod 5 before the split is shuffled).
//
//   SyntheticOptions o;  o.train_size = 8000;  o.seed = 1;
//   EI8_ASSIGN_OR_RETURN(SplitDataset d, make_synthetic(o));   // d.train.samples: [8000,1,128]
#pragma once

#include <array>
#include <cstdint>

#include "ei8/data/dataset.h"

namespace ei8::data {

inline constexpr std::array<float, 5> kSignalFrequenciesHz = {2.0f, 5.0f, 8.0f, 11.0f, 14.0f};

struct SyntheticOptions {
  int64_t train_size = 8000;   // ≥ 0
  int64_t test_size = 2000;    // ≥ 0
  int64_t length = 128;        // samples per signal, ≥ 8
  float sample_rate = 128.0f;  // Hz, > 2·(14.5) so every class is below Nyquist
  float noise_std = 0.6f;      // ≥ 0
  uint64_t seed = 0;
};

// Train and test splits come from independent streams of the same seed (no overlap).
Result<SplitDataset> make_synthetic(const SyntheticOptions& options);

}  // namespace ei8::data
