// INT8 Conv / fully connected kernels (conv_s8.h) on the layers of the real models (STYLE.md
// 14), every available tier, and the FP32 kernel (conv_f32.h / gemm_f32.h, auto tier) on the
// same layers for the INT8 ÷ FP32 time ratio. Weights are prepared (packed) exactly as the
// executor does; one thread; batch 1 and 32; u8 activations (z_x = 128), symmetric per-channel
// s8 weights, u8 output through the `ort` requantization with a fused ReLU.
// Counters: MAC/s (rate, e.g. "45.1G/s") and seconds per sample.
//
// Families: s8_<tier>/<layer> (the tier's heuristic plan), s8_onednn/<layer> (oneDNN's INT8
// convolution as our plan "onednn/<impl>": NCHW staging, reorders and requantization included;
// only where oneDNN's int8 is exact), s8_plan/<layer>/<plan> (every plan
// prepare-time tuning may choose, ConvS8Kernel::plan_candidates), s8_tuned/<layer> (the plan a
// PlanTuner picks at setup, as the executor does) and s8_check/<layer>: the tuned plan against
// every forced tier's heuristic plan, timed alternately (min µs of 30 rounds each); counters
// tuned_us, best_forced_us and ratio (> 1: auto is slower than forcing a tier; the label says
// "ok" or "SLOWER than <tier>"). peak/vpdpbusd_zmm_1core (s8_peak_vnni.cpp) is the reference
// for the VNNI tier's GMAC/s.
//
//   build/release/bench/ei8_kernels_s8_bench --benchmark_min_time=0.2
//   build/release/bench/ei8_kernels_s8_bench --benchmark_filter='resnet3x3.*/32$'
//   build/release/bench/ei8_kernels_s8_bench --benchmark_filter='s8_check/'
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <limits>
#include <string>
#include <vector>

#include "ei8/core/rng.h"
#include "ei8/runtime/kernels/conv_f32.h"
#include "ei8/runtime/kernels/conv_s8.h"
#include "ei8/runtime/kernels/gemm_f32.h"
#include "ei8/runtime/kernels/onednn_runtime.h"
#include "ei8/runtime/kernels/plan_tuner.h"
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

// µs of one run (min over `runs`).
template <class Kernel>
double min_us(const Kernel& k, const void* x, void* y, std::vector<std::byte>& scratch,
              int64_t batch, int runs) {
  double best = std::numeric_limits<double>::infinity();
  for (int i = 0; i < runs; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    k.run(x, y, scratch.data(), batch);
    best = std::min(
        best,
        std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count());
  }
  return best;
}

// The plan a PlanTuner (measure mode, its default budget) picks for the layer at this batch.
std::string tuned_plan(const kernels::ConvS8Params& q, const std::vector<int8_t>& w,
                       const std::vector<int32_t>& b, int64_t batch) {
  Result<std::vector<std::string>> cands =
      kernels::ConvS8Kernel::plan_candidates(q, w, IntType::kU8, IntType::kU8);
  if (!cands.ok()) return {};
  kernels::ConvS8Params qb = q;
  qb.geometry.batch = batch;
  const auto x = random_ints<uint8_t>(batch * q.geometry.input_numel(), 0, 255, 3);
  std::vector<uint8_t> y(static_cast<size_t>(batch * q.geometry.output_numel()));
  std::vector<std::byte> scratch;
  kernels::PlanTuner tuner;
  auto measure = [&](const std::string& plan, int runs) -> Result<double> {
    EI8_ASSIGN_OR_RETURN(kernels::ConvS8Kernel k,
                         kernels::ConvS8Kernel::prepare(q, w, b, IntType::kU8, IntType::kU8,
                                                        KernelChoice::kAuto, plan));
    scratch.resize(k.scratch_bytes(batch));
    k.run(x.data(), y.data(), scratch.data(), batch);
    return min_us(k, x.data(), y.data(), scratch, batch, runs);
  };
  Result<std::string> plan = tuner.choose("bench", *cands, measure);
  return plan.ok() ? *plan : std::string();
}

void bm_conv_s8(benchmark::State& state, Conv2dParams p, KernelChoice choice, int wmax = 127,
                std::string plan = {}, bool tune = false) {
  const int64_t batch = state.range(0);
  const kernels::ConvS8Params q = s8_params(p);
  const auto w = random_ints<int8_t>(p.weight_size(), -wmax, wmax, 1);
  const auto b = random_ints<int32_t>(p.out_c, -2000, 2000, 2);
  if (tune) plan = tuned_plan(q, w, b, batch);
  Result<kernels::ConvS8Kernel> k =
      kernels::ConvS8Kernel::prepare(q, w, b, IntType::kU8, IntType::kU8, choice, plan);
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

// The tuned plan (auto) against every forced tier's heuristic plan, alternately.
void bm_check_auto(benchmark::State& state, Conv2dParams p) {
  const int64_t batch = state.range(0);
  const kernels::ConvS8Params q = s8_params(p);
  const auto w = random_ints<int8_t>(p.weight_size(), -127, 127, 1);
  const auto b = random_ints<int32_t>(p.out_c, -2000, 2000, 2);
  const std::string plan = tuned_plan(q, w, b, batch);
  std::vector<kernels::ConvS8Kernel> ks;
  std::vector<std::string> names;
  for (KernelChoice c : kernels::registered_s8_kernels()) {
    if (c == KernelChoice::kRef || !kernels::kernel_choice_available(c)) continue;
    Result<kernels::ConvS8Kernel> k =
        kernels::ConvS8Kernel::prepare(q, w, b, IntType::kU8, IntType::kU8, c);
    if (k.ok()) {
      names.emplace_back(k->variant());
      ks.push_back(std::move(k).value());
    }
  }
  Result<kernels::ConvS8Kernel> tuned = kernels::ConvS8Kernel::prepare(
      q, w, b, IntType::kU8, IntType::kU8, KernelChoice::kAuto, plan);
  if (!tuned.ok()) {
    state.SkipWithError(tuned.status().message().c_str());
    return;
  }
  const auto x = random_ints<uint8_t>(batch * p.in_size(), 0, 255, 3);
  std::vector<uint8_t> y(static_cast<size_t>(batch * p.out_size()));
  std::vector<std::byte> scratch(tuned->scratch_bytes(batch));
  for (const auto& k : ks) scratch.resize(std::max(scratch.size(), k.scratch_bytes(batch)));
  double t_tuned = std::numeric_limits<double>::infinity();
  std::vector<double> t_forced(ks.size(), std::numeric_limits<double>::infinity());
  for (auto _ : state) {
    for (int round = 0; round < 30; ++round) {
      t_tuned = std::min(t_tuned, min_us(*tuned, x.data(), y.data(), scratch, batch, 1));
      for (size_t i = 0; i < ks.size(); ++i) {
        t_forced[i] = std::min(t_forced[i], min_us(ks[i], x.data(), y.data(), scratch, batch, 1));
      }
    }
  }
  const size_t best =
      static_cast<size_t>(std::min_element(t_forced.begin(), t_forced.end()) - t_forced.begin());
  state.counters["tuned_us"] = t_tuned;
  state.counters["best_forced_us"] = t_forced[best];
  state.counters["ratio"] = t_tuned / t_forced[best];
  state.SetLabel(std::string(tuned->variant()) +
                 (t_tuned <= t_forced[best] * 1.05 ? "  ok" : "  SLOWER than " + names[best]));
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
  // Every distinct conv shape of the 224×224 architectures (ResNet-18, MobileNetV2 with its
  // depthwise layers, SqueezeNet 1.1), read from their exports in $EI8_BENCH_MODELS.
  for (const char* model : {"resnet18", "mobilenet_v2", "squeezenet1_1"}) {
    for (const CountedLayer& l : distinct_layers(std::string(model) + ".onnx", model)) {
      all.push_back({l.name, l.p});
    }
  }
  return all;
}

// The fully connected layers of the trained workloads, the test models and the 224×224 exports.
std::vector<FcLayer> fc_layers() {
  std::vector<FcLayer> all;
  auto add = [&all](std::vector<FcLayer> v) { all.insert(all.end(), v.begin(), v.end()); };
  add(model_fc_layers(bench_models_dir() + "/signal1d.onnx", "sig"));
  add(model_fc_layers(bench_models_dir() + "/tiny2d.onnx", "tiny"));
  add(model_fc_layers(std::string(EI8_MODELS_DIR) + "/cifar_resnet.onnx", "resnet"));
  for (const char* model : {"resnet18", "mobilenet_v2"}) {
    add(model_fc_layers(bench_models_dir() + "/" + model + ".onnx", model));
  }
  return all;
}

int register_all() {
  std::vector<KernelChoice> tiers;
  for (KernelChoice c : kernels::registered_s8_kernels()) {
    if (kernels::kernel_choice_available(c)) tiers.push_back(c);
  }
  for (const ModelLayer& l : layers()) {
    const bool big = l.p.macs() > 50'000'000;  // 224×224 layers: batch 1 only
    if (kernels::onednn::int8_exact()) {  // oneDNN's implementation: staging and epilogue timed
      auto* b =
          benchmark::RegisterBenchmark(("s8_onednn/" + l.name).c_str(), bm_conv_s8, l.p,
                                       KernelChoice::kAuto, 127, std::string("onednn"), false);
      b->Arg(1)->Unit(benchmark::kMicrosecond);
      if (!big) b->Arg(32);
    }
    if (l.p.groups == 1 || l.p.groups == l.p.in_c) {  // dense and depthwise: every plan
      const kernels::ConvS8Params q = s8_params(l.p);
      Result<std::vector<std::string>> cands = kernels::ConvS8Kernel::plan_candidates(
          q, random_ints<int8_t>(l.p.weight_size(), -127, 127, 1), IntType::kU8, IntType::kU8);
      for (const std::string& plan : cands.ok() ? *cands : std::vector<std::string>{}) {
        auto* b =
            benchmark::RegisterBenchmark(("s8_plan/" + l.name + "/" + plan).c_str(), bm_conv_s8,
                                         l.p, KernelChoice::kAuto, 127, plan, false);
        b->Arg(1)->Unit(benchmark::kMicrosecond);
        if (!big) b->Arg(32);
      }
      auto* t = benchmark::RegisterBenchmark(("s8_tuned/" + l.name).c_str(), bm_conv_s8, l.p,
                                             KernelChoice::kAuto, 127, std::string(), true);
      t->Arg(1)->Unit(benchmark::kMicrosecond);
      if (!big) t->Arg(32);
      auto* c = benchmark::RegisterBenchmark(("s8_check/" + l.name).c_str(), bm_check_auto, l.p);
      c->Arg(1)->Iterations(1)->Unit(benchmark::kMicrosecond);
      if (!big) c->Arg(5);
    }
    if (big) {
      for (KernelChoice c : tiers) {
        if (c == KernelChoice::kRef || c == KernelChoice::kGeneric) continue;
        benchmark::RegisterBenchmark(
            ("s8_" + std::string(kernels::kernel_choice_name(c)) + "/" + l.name).c_str(),
            bm_conv_s8, l.p, c, 127, std::string(), false)
            ->Arg(1)
            ->Unit(benchmark::kMicrosecond);
      }
      benchmark::RegisterBenchmark(("f32/" + l.name).c_str(), bm_conv_f32, l.p)
          ->Arg(1)
          ->Unit(benchmark::kMicrosecond);
      continue;
    }
    benchmark::RegisterBenchmark(("f32/" + l.name).c_str(), bm_conv_f32, l.p)
        ->Arg(1)
        ->Arg(32)
        ->Unit(benchmark::kMicrosecond);
    for (KernelChoice c : tiers) {
      auto* b = benchmark::RegisterBenchmark(
          ("s8_" + std::string(kernels::kernel_choice_name(c)) + "/" + l.name).c_str(), bm_conv_s8,
          l.p, c, 127, std::string(), false);
      b->Arg(1)->Unit(benchmark::kMicrosecond);
      if (c != KernelChoice::kRef) b->Arg(32);  // the reference is too slow for batch 32
      if (c == KernelChoice::kAvx2) {           // reduce-range weights (|w| ≤ 63): the u8x4 plan
        benchmark::RegisterBenchmark(("s8_avx2_w63/" + l.name).c_str(), bm_conv_s8, l.p, c, 63,
                                     std::string(), false)
            ->Arg(1)
            ->Arg(32)
            ->Unit(benchmark::kMicrosecond);
      }
    }
  }
  for (const FcLayer& f : fc_layers()) {
    benchmark::RegisterBenchmark(("f32/" + f.name).c_str(), bm_fc_f32, f.n, f.k)
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
