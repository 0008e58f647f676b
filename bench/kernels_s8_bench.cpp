// INT8 Conv / fully connected kernels (conv_s8.h) on the layers of the real models (STYLE.md
// 14), every available tier, and the FP32 kernel (conv_f32.h / gemm_f32.h, auto tier) on the
// same layers for the INT8 ÷ FP32 time ratio. Weights are prepared (packed) exactly as the
// executor does; one thread; batch 1 and 32; u8 activations (z_x = 128), symmetric per-channel
// s8 weights, u8 output through the `ort` requantization with a fused ReLU.
// Counters: MAC/s (rate, e.g. "45.1G/s") and seconds per sample.
//
//   build/release/bench/ei8_kernels_s8_bench --benchmark_min_time=0.2s
//   build/release/bench/ei8_kernels_s8_bench --benchmark_filter='resnet3x3.*/32$'
#include <benchmark/benchmark.h>

#include <cstddef>
#include <string>
#include <vector>

#include "ei8/core/rng.h"
#include "ei8/runtime/kernels/conv_f32.h"
#include "ei8/runtime/kernels/conv_s8.h"
#include "ei8/runtime/kernels/gemm_f32.h"
#include "f32_model_layers.h"

namespace ei8::bench {
namespace {

using kernels::Conv2dParams;
using kernels::IntType;
using kernels::KernelChoice;

template <typename T>
std::vector<T> random_ints(int64_t n, int64_t lo, int64_t hi, uint64_t seed) {
  Rng rng(seed);
  std::vector<T> v(static_cast<size_t>(n));
  for (T& x : v) x = static_cast<T>(rng.uniform_int(lo, hi));
  return v;
}

std::vector<float> random_floats(int64_t n, uint64_t seed) {
  Rng rng(seed);
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v) x = rng.uniform(-1.0f, 1.0f);
  return v;
}

void set_counters(benchmark::State& state, double macs_per_iter, int64_t batch) {
  state.counters["MAC/s"] =
      benchmark::Counter(macs_per_iter, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["s/sample"] =
      benchmark::Counter(static_cast<double>(batch), benchmark::Counter::kIsIterationInvariantRate |
                                                         benchmark::Counter::kInvert);
}

fixedpoint::Requantizer requantizer(int64_t channels, int64_t k) {
  std::vector<float> sw(static_cast<size_t>(channels));
  for (size_t c = 0; c < sw.size(); ++c) {
    sw[c] = (0.5f + 0.01f * static_cast<float>(c % 50)) * 0.02f / static_cast<float>(k);
  }
  const auto clamp =
      fixedpoint::activation_range(fixedpoint::FusedActivation::kRelu, 0.05f, 128, 0, 255);
  return fixedpoint::Requantizer::prepare(fixedpoint::RequantProfile::kOrt, 1.0f, sw, 1.0f, 128,
                                          clamp.lo, clamp.hi)
      .value();
}

kernels::ConvS8Params s8_params(const Conv2dParams& p) {
  kernels::ConvS8Params q;
  q.geometry =
      fixedpoint::ConvGeometry::conv2d(1, p.in_c, p.in_h, p.in_w, p.out_c, p.kernel_h, p.kernel_w)
          .with_padding(p.pad_top, p.pad_left, p.pad_bottom, p.pad_right)
          .with_stride(p.stride_h, p.stride_w)
          .with_dilation(p.dilation_h, p.dilation_w)
          .with_groups(p.groups);
  q.input_zero_point = 128;
  q.requant = requantizer(p.out_c, p.k());
  return q;
}

void bm_conv_s8(benchmark::State& state, Conv2dParams p, KernelChoice choice, int wmax = 127) {
  const int64_t batch = state.range(0);
  const kernels::ConvS8Params q = s8_params(p);
  Result<kernels::ConvS8Kernel> k = kernels::ConvS8Kernel::prepare(
      q, random_ints<int8_t>(p.weight_size(), -wmax, wmax, 1),
      random_ints<int32_t>(p.out_c, -2000, 2000, 2), IntType::kU8, IntType::kU8, choice);
  if (!k.ok()) {
    state.SkipWithError(k.status().message().c_str());
    return;
  }
  const auto x = random_ints<uint8_t>(batch * p.in_size(), 0, 255, 3);
  std::vector<uint8_t> y(static_cast<size_t>(batch * p.out_size()));
  std::vector<std::byte> scratch(k->scratch_bytes(batch));
  for (auto _ : state) {
    k->run(x.data(), y.data(), scratch.data(), batch);
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  state.SetLabel(std::string(k->variant()));
  set_counters(state, static_cast<double>(p.macs() * batch), batch);
}

void bm_conv_f32(benchmark::State& state, Conv2dParams p) {
  const int64_t batch = state.range(0);
  Result<kernels::Conv2dF32> c =
      kernels::Conv2dF32::prepare(p, random_floats(p.weight_size(), 1), random_floats(p.out_c, 2));
  if (!c.ok()) std::abort();
  const auto x = random_floats(batch * p.in_size(), 3);
  std::vector<float> y(static_cast<size_t>(batch * p.out_size()));
  std::vector<float> scratch(c->scratch_bytes(batch) / sizeof(float) + 1);
  for (auto _ : state) {
    c->run(x.data(), y.data(), batch, scratch.data());
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  state.SetLabel(std::string(kernels::kernel_choice_name(c->choice())));
  set_counters(state, static_cast<double>(p.macs() * batch), batch);
}

void bm_fc_s8(benchmark::State& state, int64_t n, int64_t k, KernelChoice choice) {
  const int64_t m = state.range(0);
  kernels::FullyConnectedS8Params p;
  p.in_features = k;
  p.out_features = n;
  p.input_zero_point = 128;
  p.requant = requantizer(n, k);
  Result<kernels::FullyConnectedS8Kernel> fc = kernels::FullyConnectedS8Kernel::prepare(
      p, random_ints<int8_t>(n * k, -127, 127, 1), random_ints<int32_t>(n, -2000, 2000, 2),
      kernels::WeightLayout::kOutIn, IntType::kU8, IntType::kU8, choice);
  if (!fc.ok()) {
    state.SkipWithError(fc.status().message().c_str());
    return;
  }
  const auto x = random_ints<uint8_t>(m * k, 0, 255, 3);
  std::vector<uint8_t> y(static_cast<size_t>(m * n));
  std::vector<std::byte> scratch(fc->scratch_bytes(m));
  for (auto _ : state) {
    fc->run(x.data(), y.data(), scratch.data(), m);
    benchmark::DoNotOptimize(y.data());
  }
  state.SetLabel(std::string(fc->variant()));
  set_counters(state, static_cast<double>(m * n * k), m);
}

void bm_fc_f32(benchmark::State& state, int64_t n, int64_t k) {
  const int64_t m = state.range(0);
  kernels::GemmParams p;
  p.n = n;
  p.k = k;
  p.trans_b = true;
  p.c_shape = kernels::GemmC::kRow;
  Result<kernels::GemmF32> g =
      kernels::GemmF32::prepare(p, random_floats(n * k, 1), random_floats(n, 2));
  if (!g.ok()) std::abort();
  const auto a = random_floats(m * k, 3);
  std::vector<float> y(static_cast<size_t>(m * n));
  for (auto _ : state) {
    g->run(a.data(), y.data(), m, nullptr);
    benchmark::DoNotOptimize(y.data());
  }
  set_counters(state, static_cast<double>(m * n * k), m);
}

std::vector<ModelLayer> layers() {
  std::vector<ModelLayer> all = signal_cnn_layers();
  for (const ModelLayer& l : tiny_cnn2d_layers()) all.push_back(l);
  for (const ModelLayer& l : resnet_like_layers()) all.push_back(l);  // CIFAR ResNet: strides
  // Strided stem, depthwise (depthwise plan) and pointwise layers of a MobileNet-like model.
  for (const ModelLayer& l : mobilenetish_layers()) all.push_back(l);
  return all;
}

struct FcShape {
  const char* name;
  int64_t n, k;
};
constexpr FcShape kFcShapes[] = {
    {"fc_tiny_2048_10", 10, 2048}, {"fc_signal_1024_5", 5, 1024}, {"fc_2048_128", 128, 2048}};

int register_all() {
  std::vector<KernelChoice> tiers;
  for (KernelChoice c : kernels::registered_s8_kernels()) {
    if (kernels::kernel_choice_available(c)) tiers.push_back(c);
  }
  for (const ModelLayer& l : layers()) {
    benchmark::RegisterBenchmark(("f32/" + l.name).c_str(), bm_conv_f32, l.p)
        ->Arg(1)
        ->Arg(32)
        ->Unit(benchmark::kMicrosecond);
    for (KernelChoice c : tiers) {
      auto* b = benchmark::RegisterBenchmark(
          ("s8_" + std::string(kernels::kernel_choice_name(c)) + "/" + l.name).c_str(), bm_conv_s8,
          l.p, c, 127);
      b->Arg(1)->Unit(benchmark::kMicrosecond);
      if (c != KernelChoice::kRef) b->Arg(32);  // the reference is too slow for batch 32
      if (c == KernelChoice::kAvx2) {           // reduce-range weights (|w| ≤ 63): the u8x4 plan
        benchmark::RegisterBenchmark(("s8_avx2_w63/" + l.name).c_str(), bm_conv_s8, l.p, c, 63)
            ->Arg(1)
            ->Arg(32)
            ->Unit(benchmark::kMicrosecond);
      }
    }
  }
  for (const FcShape& f : kFcShapes) {
    benchmark::RegisterBenchmark((std::string("f32/") + f.name).c_str(), bm_fc_f32, f.n, f.k)
        ->Arg(1)
        ->Arg(32)
        ->Unit(benchmark::kMicrosecond);
    for (KernelChoice c : tiers) {
      auto* b = benchmark::RegisterBenchmark(
          ("s8_" + std::string(kernels::kernel_choice_name(c)) + "/" + f.name).c_str(), bm_fc_s8,
          f.n, f.k, c);
      b->Arg(1)->Unit(benchmark::kMicrosecond);
      if (c != KernelChoice::kRef) b->Arg(32);
    }
  }
  return 0;
}

const int registered = register_all();

}  // namespace
}  // namespace ei8::bench
