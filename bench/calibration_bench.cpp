// Calibration cost: the histogram engine's throughput and each calibrator's search time, on
// activation sets shaped like TinyCNN2D's (per sample: input 3×32×32, conv1+relu 32×32×32,
// pool 32×16×16, conv2+relu 64×16×16, pool 64×8×8, conv3+relu 128×8×8, pool 128×4×4, fc 10).
// Target (issue 5): calibrating 1,000 samples with entropy ≤ 10 s (observers + searches; the
// float forward pass is the runtime's and is measured there).
//
//   build/release/bench/calibration_bench --benchmark_filter=TinyCnn2d
#include <benchmark/benchmark.h>

#include <algorithm>
#include <vector>

#include "ei8/core/rng.h"
#include "ei8/quant/calibrators.h"
#include "ei8/quant/observer.h"

namespace ei8::quant {
namespace {

struct Act {
  size_t size;
  bool relu;
};
// TinyCNN2D activations of one sample after BN folding and ReLU fusion.
const std::vector<Act> kTinyCnn2d = {
    {3 * 32 * 32, false}, {32 * 32 * 32, true}, {32 * 16 * 16, true}, {64 * 16 * 16, true},
    {64 * 8 * 8, true},   {128 * 8 * 8, true},  {128 * 4 * 4, true},  {10, false}};

// A few distinct samples per tensor (values differ between samples, so ranges keep growing a
// little as in real calibration), reused cyclically.
std::vector<std::vector<std::vector<float>>> make_samples(int distinct) {
  Rng rng(2026);
  std::vector<std::vector<std::vector<float>>> s(kTinyCnn2d.size());
  for (size_t t = 0; t < kTinyCnn2d.size(); ++t) {
    for (int k = 0; k < distinct; ++k) {
      std::vector<float> v(kTinyCnn2d[t].size);
      const float scale = 1.0f + 0.05f * static_cast<float>(k);
      for (float& x : v) {
        x = rng.normal(0.0f, scale);
        if (kTinyCnn2d[t].relu) x = std::max(x, 0.0f);
      }
      s[t].push_back(std::move(v));
    }
  }
  return s;
}

const auto& samples() {
  static const auto s = make_samples(8);
  return s;
}

void BM_ObserveTinyCnn2dSample(benchmark::State& state) {
  std::vector<TensorObserver> obs(kTinyCnn2d.size());
  int64_t values = 0;
  int k = 0;
  for (auto _ : state) {
    for (size_t t = 0; t < obs.size(); ++t) {
      const auto& v = samples()[t][static_cast<size_t>(k % 8)];
      obs[t].observe(v);
      values += static_cast<int64_t>(v.size());
    }
    ++k;
  }
  state.counters["values/s"] =
      benchmark::Counter(static_cast<double>(values), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_ObserveTinyCnn2dSample);

// The whole calibration of 1,000 samples: observe every activation, then one entropy search per
// tensor (u8 asymmetric target).
void BM_CalibrateTinyCnn2d1000Entropy(benchmark::State& state) {
  int64_t values = 0;
  for (auto _ : state) {
    std::vector<TensorObserver> obs(kTinyCnn2d.size());
    for (int k = 0; k < 1000; ++k) {
      for (size_t t = 0; t < obs.size(); ++t) {
        const auto& v = samples()[t][static_cast<size_t>(k % 8)];
        obs[t].observe(v);
        values += static_cast<int64_t>(v.size());
      }
    }
    CalibParams p;
    p.method = CalibMethod::kEntropy;
    for (const TensorObserver& o : obs) benchmark::DoNotOptimize(calibrate(o, p));
  }
  state.counters["values/s"] =
      benchmark::Counter(static_cast<double>(values), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_CalibrateTinyCnn2d1000Entropy)->Unit(benchmark::kMillisecond)->Iterations(1);

// One calibrator search on one tensor (conv1+relu after 64 samples; `range(1)` = 1 forces the
// histogram to grow so 2048 < bins_used ≤ 4096).
void BM_Search(benchmark::State& state) {
  const auto method = static_cast<CalibMethod>(state.range(0));
  TensorObserver obs;
  for (int k = 0; k < 64; ++k) obs.observe(samples()[1][static_cast<size_t>(k % 8)]);
  if (state.range(1) == 1) {
    std::vector<float> wide = samples()[1][0];
    for (float& x : wide) x *= 3.0f;
    obs.observe(wide);
  }
  CalibParams p;
  p.method = method;
  p.symmetric = state.range(2) == 1;
  p.steps = p.symmetric ? 254 : 255;
  for (auto _ : state) benchmark::DoNotOptimize(calibrate(obs, p));
  state.SetLabel(fmt::format("{} bins_used={} {}", calib_method_name(method),
                             obs.histogram().bins_used(), p.symmetric ? "sym" : "asym"));
}
BENCHMARK(BM_Search)
    ->ArgsProduct({{static_cast<int64_t>(CalibMethod::kPercentile),
                    static_cast<int64_t>(CalibMethod::kEntropy),
                    static_cast<int64_t>(CalibMethod::kMse),
                    static_cast<int64_t>(CalibMethod::kAciq)},
                   {0, 1},
                   {0, 1}})
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace ei8::quant
