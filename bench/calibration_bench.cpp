// Calibration cost: the histogram engine's throughput and each calibrator's search time, on
// activation sets shaped like TinyCNN2D's (per sample: input 3×32×32, conv1+relu 32×32×32,
// pool 32×16×16, conv2+relu 64×16×16, pool 64×8×8, conv3+relu 128×8×8, pool 128×4×4, fc 10).
// Target (issue 5): calibrating 1,000 samples with entropy ≤ 10 s. BM_CalibrateTinyCnn2dEndToEnd
// measures exactly that on a real TinyCNN2D graph (3×32×32 input, 3× conv3x3+BN+ReLU+maxpool
// 32→64→128, Linear 2048→10; random weights, BN folded and ReLU fused as in production): the
// statistics pass (FP32 forward passes of 1,000 samples in batches of 32 + every observer) and
// the entropy threshold search of every tensor (counter "search_s").
//
//   build/release/bench/calibration_bench --benchmark_filter=TinyCnn2d
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <vector>

#include "ei8/core/rng.h"
#include "ei8/graph/passes.h"
#include "ei8/quant/calibration.h"
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

Tensor random_f32(Rng& rng, Shape s, float sigma) {
  Tensor t = Tensor::zeros(DType::kF32, std::move(s));
  for (float& v : t.span<float>()) v = rng.normal(0.0f, sigma);
  return t;
}

// TinyCNN2D with random weights (He-scaled), BatchNormalization after every conv; optimized.
Graph tiny_cnn2d(int64_t image_channels) {
  Rng rng(7);
  Graph g("tiny_cnn2d");
  g.add_input("x", DType::kF32, {kDynamic, image_channels, 32, 32});
  std::string in = "x";
  int64_t cin = image_channels;
  for (int64_t k = 0; k < 3; ++k) {
    const int64_t cout = 32 << k;
    const std::string c = fmt::format("conv{}", k + 1);
    g.add_initializer(c + "_w", random_f32(rng, {cout, cin, 3, 3},
                                           std::sqrt(2.0f / static_cast<float>(cin * 9))));
    g.add_initializer(c + "_b", random_f32(rng, {cout}, 0.05f));
    Node& conv = g.add_node("Conv", c, {in, c + "_w", c + "_b"}, {c + "_y"});
    conv.set("kernel_shape", std::vector<int64_t>{3, 3});
    conv.set("pads", std::vector<int64_t>{1, 1, 1, 1});
    Tensor scale = random_f32(rng, {cout}, 0.1f), var = random_f32(rng, {cout}, 0.1f);
    for (float& v : scale.span<float>()) v += 1.0f;
    for (float& v : var.span<float>()) v = 1.0f + std::fabs(v);
    g.add_initializer(c + "_bn_scale", scale);
    g.add_initializer(c + "_bn_bias", random_f32(rng, {cout}, 0.1f));
    g.add_initializer(c + "_bn_mean", random_f32(rng, {cout}, 0.1f));
    g.add_initializer(c + "_bn_var", var);
    g.add_node("BatchNormalization", c + "_bn",
               {c + "_y", c + "_bn_scale", c + "_bn_bias", c + "_bn_mean", c + "_bn_var"},
               {c + "_n"});
    g.add_node("Relu", c + "_relu", {c + "_n"}, {c + "_r"});
    Node& pool = g.add_node("MaxPool", c + "_pool", {c + "_r"}, {c + "_p"});
    pool.set("kernel_shape", std::vector<int64_t>{2, 2});
    pool.set("strides", std::vector<int64_t>{2, 2});
    in = c + "_p";
    cin = cout;
  }
  g.add_node("Flatten", "flatten", {in}, {"f"}).set("axis", int64_t{1});
  g.add_initializer("fc_w", random_f32(rng, {10, 128 * 4 * 4}, 0.02f));
  g.add_initializer("fc_b", random_f32(rng, {10}, 0.05f));
  g.add_node("Gemm", "fc", {"f", "fc_w", "fc_b"}, {"y"}).set("transB", int64_t{1});
  g.add_output("y");
  if (Status s = optimize(g); !s.ok()) fmt::print(stderr, "optimize: {}\n", s.message());
  return g;
}

// End to end: 1,000 samples (range(0) = image channels, 3 CIFAR-10 or 1 Fashion-MNIST) through
// collect_statistics (batch 32) + make_table(entropy, u8 asymmetric target).
void BM_CalibrateTinyCnn2dEndToEnd(benchmark::State& state) {
  const int64_t channels = state.range(0);
  const Graph g = tiny_cnn2d(channels);
  Rng rng(2026);
  const Tensor data = random_f32(rng, {1000, channels, 32, 32}, 1.0f);
  CalibParams p;
  p.method = CalibMethod::kEntropy;
  double stats_s = 0, search_s = 0;
  for (auto _ : state) {
    Result<Statistics> st = collect_statistics(g, data, CalibrationOptions{});
    if (!st.ok()) {
      state.SkipWithError(st.status().message().c_str());
      return;
    }
    const auto t0 = std::chrono::steady_clock::now();
    Result<CalibTable> t = make_table(st.value(), p);
    search_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    stats_s = st->seconds;
    benchmark::DoNotOptimize(t);
  }
  state.counters["stats_s"] = stats_s;
  state.counters["search_s"] = search_s;
  state.SetLabel(fmt::format("1000 samples {}x32x32 entropy", channels));
}
BENCHMARK(BM_CalibrateTinyCnn2dEndToEnd)
    ->Arg(3)
    ->Arg(1)
    ->Unit(benchmark::kMillisecond)
    ->Iterations(1)
    ->UseRealTime();

}  // namespace
}  // namespace ei8::quant
