// A16W8 Conv / fully connected kernels (conv_a16.h) on the layers of the committed test models
// (CIFAR ResNet-like, MobileNet-like; the trained TinyCNN2D / SignalCNN1D when
// $EI8_BENCH_MODELS holds them), every available tier, beside the INT8 kernel (conv_s8.h, auto
// tier, its heuristic plan) on the same shape: the price of an int16 layer. One thread; batch 1
// and 8; int16 activations (symmetric, z_x = 0), symmetric per-channel s8 weights, int16 output
// through the `ort` (or, a16tfl_*, `tflite`) int64 requantization; the INT8 kernel with u8
// activations (z_x = 128) and u8 output through `ort`.
// Counters: MAC/s (rate) and seconds per sample.
//
//   build/release/bench/ei8_kernels_a16_bench --benchmark_min_time=0.2
//   build/release/bench/ei8_kernels_a16_bench --benchmark_filter='resnet.*/8$'
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "ei8/core/rng.h"
#include "ei8/runtime/kernels/conv_a16.h"
#include "ei8/runtime/kernels/conv_s8.h"
#include "f32_model_layers.h"

namespace ei8::bench {
namespace {

using fixedpoint::RequantProfile;
using kernels::A16Type;
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

void set_counters(benchmark::State& state, double macs_per_iter, int64_t batch) {
  state.counters["MAC/s"] =
      benchmark::Counter(macs_per_iter, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["s/sample"] =
      benchmark::Counter(static_cast<double>(batch), benchmark::Counter::kIsIterationInvariantRate |
                                                         benchmark::Counter::kInvert);
}

// Per-channel scales giving outputs of a few thousand codes (no clamping everywhere).
fixedpoint::Requantizer requantizer(RequantProfile prof, int64_t channels, int64_t k, bool a16) {
  std::vector<float> sw(static_cast<size_t>(channels));
  for (size_t c = 0; c < sw.size(); ++c) sw[c] = 0.01f + 0.0001f * static_cast<float>(c % 50);
  const float sx = a16 ? 1e-4f : 0.02f;
  const float sy = (a16 ? 20.0f : 0.5f) * static_cast<float>(k) * sx * 0.01f / 4.0f;
  if (a16) return fixedpoint::Requantizer::prepare(prof, sx, sw, sy, 0, -32768, 32767).value();
  return fixedpoint::Requantizer::prepare(prof, sx, sw, sy, 128, 0, 255).value();
}

kernels::ConvS8Params conv_params(const Conv2dParams& p, RequantProfile prof, bool a16) {
  kernels::ConvS8Params q;
  q.geometry =
      fixedpoint::ConvGeometry::conv2d(1, p.in_c, p.in_h, p.in_w, p.out_c, p.kernel_h, p.kernel_w)
          .with_padding(p.pad_top, p.pad_left, p.pad_bottom, p.pad_right)
          .with_stride(p.stride_h, p.stride_w)
          .with_dilation(p.dilation_h, p.dilation_w)
          .with_groups(p.groups);
  q.input_zero_point = a16 ? 0 : 128;
  q.requant = requantizer(prof, p.out_c, p.k(), a16);
  return q;
}

void bm_conv_a16(benchmark::State& state, Conv2dParams p, KernelChoice choice,
                 RequantProfile prof) {
  const int64_t batch = state.range(0);
  const kernels::ConvS8Params q = conv_params(p, prof, true);
  const auto w = random_ints<int8_t>(p.weight_size(), -127, 127, 1);
  const auto b = random_ints<int32_t>(p.out_c, -20000, 20000, 2);
  auto k = kernels::ConvA16Kernel::prepare(q, w, b, A16Type::kS16, A16Type::kS16, choice);
  if (!k.ok()) {
    state.SkipWithError(k.status().message().c_str());
    return;
  }
  const auto x = random_ints<int16_t>(batch * p.in_size(), -20000, 20000, 3);
  std::vector<int16_t> y(static_cast<size_t>(batch * p.out_size()));
  std::vector<std::byte> scratch(k->scratch_bytes(batch));
  for (auto _ : state) {
    k->run(x.data(), y.data(), scratch.data(), batch);
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  state.SetLabel(std::string(k->variant()));
  set_counters(state, static_cast<double>(p.macs() * batch), batch);
}

void bm_conv_s8(benchmark::State& state, Conv2dParams p) {
  const int64_t batch = state.range(0);
  const kernels::ConvS8Params q = conv_params(p, RequantProfile::kOrt, false);
  const auto w = random_ints<int8_t>(p.weight_size(), -127, 127, 1);
  const auto b = random_ints<int32_t>(p.out_c, -2000, 2000, 2);
  auto k = kernels::ConvS8Kernel::prepare(q, w, b, IntType::kU8, IntType::kU8);
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

kernels::FullyConnectedS8Params fc_params(int64_t n, int64_t k, bool a16) {
  kernels::FullyConnectedS8Params p;
  p.in_features = k;
  p.out_features = n;
  p.input_zero_point = a16 ? 0 : 128;
  p.requant = requantizer(RequantProfile::kOrt, n, k, a16);
  return p;
}

void bm_fc_a16(benchmark::State& state, int64_t n, int64_t k, KernelChoice choice) {
  const int64_t m = state.range(0);
  auto fc = kernels::FullyConnectedA16Kernel::prepare(
      fc_params(n, k, true), random_ints<int8_t>(n * k, -127, 127, 1),
      random_ints<int32_t>(n, -20000, 20000, 2), A16Type::kS16, A16Type::kS16, choice);
  if (!fc.ok()) {
    state.SkipWithError(fc.status().message().c_str());
    return;
  }
  const auto x = random_ints<int16_t>(m * k, -20000, 20000, 3);
  std::vector<int16_t> y(static_cast<size_t>(m * n));
  std::vector<std::byte> scratch(fc->scratch_bytes(m));
  for (auto _ : state) {
    fc->run(x.data(), y.data(), scratch.data(), m);
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  state.SetLabel(std::string(fc->variant()));
  set_counters(state, static_cast<double>(m * n * k), m);
}

void bm_fc_s8(benchmark::State& state, int64_t n, int64_t k) {
  const int64_t m = state.range(0);
  auto fc = kernels::FullyConnectedS8Kernel::prepare(
      fc_params(n, k, false), random_ints<int8_t>(n * k, -127, 127, 1),
      random_ints<int32_t>(n, -2000, 2000, 2), kernels::WeightLayout::kOutIn, IntType::kU8,
      IntType::kU8);
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
    benchmark::ClobberMemory();
  }
  state.SetLabel(std::string(fc->variant()));
  set_counters(state, static_cast<double>(m * n * k), m);
}

int register_all() {
  std::vector<KernelChoice> tiers;
  for (KernelChoice c : kernels::registered_a16_kernels()) {
    if (kernels::kernel_choice_available(c)) tiers.push_back(c);
  }
  std::vector<ModelLayer> all = resnet_like_layers();
  for (const ModelLayer& l : mobilenetish_layers()) all.push_back(l);
  for (const ModelLayer& l : tiny_cnn2d_layers()) all.push_back(l);
  for (const ModelLayer& l : signal_cnn_layers()) all.push_back(l);
  for (const ModelLayer& l : all) {
    for (KernelChoice c : tiers) {
      auto* b = benchmark::RegisterBenchmark(
          ("a16_" + std::string(kernels::kernel_choice_name(c)) + "/" + l.name).c_str(),
          bm_conv_a16, l.p, c, RequantProfile::kOrt);
      b->Arg(1)->Unit(benchmark::kMicrosecond);
      if (c != KernelChoice::kRef) b->Arg(8);
    }
    benchmark::RegisterBenchmark(("a16tfl_auto/" + l.name).c_str(), bm_conv_a16, l.p,
                                 KernelChoice::kAuto, RequantProfile::kTflite)
        ->Arg(1)
        ->Arg(8)
        ->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark(("s8_auto/" + l.name).c_str(), bm_conv_s8, l.p)
        ->Arg(1)
        ->Arg(8)
        ->Unit(benchmark::kMicrosecond);
  }
  std::vector<FcLayer> fcs =
      model_fc_layers(std::string(EI8_MODELS_DIR) + "/cifar_resnet.onnx", "resnet");
  fcs.push_back({"fc256x512", 256, 512});
  for (const FcLayer& f : fcs) {
    for (KernelChoice c : tiers) {
      auto* b = benchmark::RegisterBenchmark(
          ("a16_" + std::string(kernels::kernel_choice_name(c)) + "/" + f.name).c_str(), bm_fc_a16,
          f.n, f.k, c);
      b->Arg(1)->Unit(benchmark::kMicrosecond);
      if (c != KernelChoice::kRef) b->Arg(32);
    }
    benchmark::RegisterBenchmark(("s8_auto/" + f.name).c_str(), bm_fc_s8, f.n, f.k)
        ->Arg(1)
        ->Arg(32)
        ->Unit(benchmark::kMicrosecond);
  }
  return 0;
}

const int registered = register_all();

}  // namespace
}  // namespace ei8::bench
