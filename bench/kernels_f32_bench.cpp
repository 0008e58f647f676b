// FP32 Conv/Gemm kernels on the layers of the real models (STYLE.md 14): weights prepared
// (packed) exactly as the executor does, one thread, batch 1 and 32, every available tier.
// Counters: MAC/s (rate; Google Benchmark prints e.g. "45.1G/s") and µs per sample.
//
//   build/release/bench/ei8_kernels_f32_bench --benchmark_filter='avx2/.*resnet'
//   EI8_ISA=portable ...  (caps the auto tier)
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "ei8/core/rng.h"
#include "ei8/runtime/kernels/conv_f32.h"
#include "ei8/runtime/kernels/gemm_f32.h"
#include "f32_model_layers.h"

namespace ei8::bench {
namespace {

using kernels::Conv2dF32;
using kernels::Conv2dParams;
using kernels::KernelChoice;

std::vector<float> random_vector(int64_t n, uint64_t seed) {
  Rng rng(seed);
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v) x = rng.uniform(-1.0f, 1.0f);
  return v;
}

// A square 3×3-style layer of the Winograd crossover sweep (a grid of shapes, not a model).
Conv2dParams square_conv(int64_t ch, int64_t hw) {
  Conv2dParams p;
  p.in_c = p.out_c = ch;
  p.in_h = p.in_w = hw;
  p.kernel_h = p.kernel_w = 3;
  p.pad_top = p.pad_bottom = p.pad_left = p.pad_right = 1;
  p.act = kernels::Activation::relu();
  return p;
}

struct PreparedConv {
  Conv2dF32 conv;
  std::vector<float> x, y, scratch;
};

PreparedConv make_conv(const Conv2dParams& p, int64_t batch, KernelChoice choice,
                       kernels::ConvAlgorithm algorithm = kernels::ConvAlgorithm::kAuto) {
  Result<Conv2dF32> c = Conv2dF32::prepare(p, random_vector(p.weight_size(), 1),
                                           random_vector(p.out_c, 2), choice, algorithm);
  if (!c.ok()) std::abort();
  PreparedConv pc{std::move(c).value(),
                  random_vector(batch * p.in_size(), 3),
                  std::vector<float>(static_cast<size_t>(batch * p.out_size())),
                  {}};
  pc.scratch.resize(pc.conv.scratch_bytes(batch) / sizeof(float) + 1);
  return pc;
}

void set_counters(benchmark::State& state, double macs_per_iter, int64_t batch) {
  state.counters["MAC/s"] =
      benchmark::Counter(macs_per_iter, benchmark::Counter::kIsIterationInvariantRate);
  // Seconds of CPU time per sample (printed with an SI prefix, e.g. "97.2u" = 97.2 µs).
  state.counters["s/sample"] =
      benchmark::Counter(static_cast<double>(batch), benchmark::Counter::kIsIterationInvariantRate |
                                                         benchmark::Counter::kInvert);
}

void bm_conv_layer(benchmark::State& state, Conv2dParams p, KernelChoice choice,
                   kernels::ConvAlgorithm algorithm) {
  const int64_t batch = state.range(0);
  PreparedConv pc = make_conv(p, batch, choice, algorithm);
  for (auto _ : state) {
    pc.conv.run(pc.x.data(), pc.y.data(), batch, pc.scratch.data());
    benchmark::DoNotOptimize(pc.y.data());
    benchmark::ClobberMemory();
  }
  set_counters(state, static_cast<double>(p.macs() * batch), batch);
}

// Every conv layer of a model back to back (the per-op overhead included; pooling, residual
// adds and the classifier are not kernels of this file and are not timed).
void bm_conv_model(benchmark::State& state, std::vector<ModelLayer> layers, KernelChoice choice) {
  const int64_t batch = state.range(0);
  std::vector<PreparedConv> convs;
  int64_t macs = 0;
  for (const ModelLayer& l : layers) {
    convs.push_back(make_conv(l.p, batch, choice));
    macs += l.p.macs();
  }
  for (auto _ : state) {
    for (PreparedConv& pc : convs) pc.conv.run(pc.x.data(), pc.y.data(), batch, pc.scratch.data());
    benchmark::ClobberMemory();
  }
  set_counters(state, static_cast<double>(macs * batch), batch);
}

void bm_fc(benchmark::State& state, int64_t n, int64_t k, KernelChoice choice) {
  const int64_t m = state.range(0);
  kernels::GemmParams p;
  p.n = n;
  p.k = k;
  p.trans_b = true;
  p.c_shape = kernels::GemmC::kRow;
  Result<kernels::GemmF32> g =
      kernels::GemmF32::prepare(p, random_vector(n * k, 1), random_vector(n, 2), choice);
  if (!g.ok()) std::abort();
  const std::vector<float> a = random_vector(m * k, 3);
  std::vector<float> y(static_cast<size_t>(m * n));
  for (auto _ : state) {
    g->run(a.data(), y.data(), m, nullptr);
    benchmark::DoNotOptimize(y.data());
  }
  set_counters(state, static_cast<double>(m * n * k), m);
}

// The 224×224 layers of ResNet-18 and MobileNetV2 on every fast tier and plan (kAuto = what
// prepare() picks): batch 1, as the executor runs them.
void register_imagenet_layers() {
  for (KernelChoice choice : {KernelChoice::kAvx2, KernelChoice::kAvx512}) {
    if (!kernels::kernel_choice_available(choice)) continue;
    const std::string tier(kernels::kernel_choice_name(choice));
    for (const auto& layers : {resnet18_layers(), mobilenet_v2_layers()}) {
      for (const CountedLayer& l : layers) {
        // kOnednn: oneDNN's blocked plan with its two reorders, where the process's tier has it
        // (kernels::onednn_conv_available).
        for (kernels::ConvAlgorithm algo :
             {kernels::ConvAlgorithm::kAuto, kernels::ConvAlgorithm::kDirect,
              kernels::ConvAlgorithm::kIm2col, kernels::ConvAlgorithm::kWinograd,
              kernels::ConvAlgorithm::kOnednn}) {
          if (algo == kernels::ConvAlgorithm::kWinograd && !kernels::winograd_applicable(l.p)) {
            continue;
          }
          if (algo == kernels::ConvAlgorithm::kOnednn && !kernels::onednn_conv_available(choice)) {
            continue;
          }
          const std::string name =
              tier + "/imagenet/" + l.name + "/" + std::string(kernels::conv_algorithm_name(algo));
          benchmark::RegisterBenchmark(name.c_str(), bm_conv_layer, l.p, choice, algo)
              ->Arg(1)
              ->Unit(benchmark::kMicrosecond);
        }
      }
    }
    benchmark::RegisterBenchmark((tier + "/fc/imagenet_512_1000").c_str(), bm_fc, 1000, 512, choice)
        ->Arg(1)
        ->Unit(benchmark::kMicrosecond);
  }
}

int register_all() {
  register_imagenet_layers();
  for (KernelChoice choice : {KernelChoice::kGeneric, KernelChoice::kAvx2, KernelChoice::kAvx512}) {
    if (!kernels::kernel_choice_available(choice)) continue;
    const std::string tier(kernels::kernel_choice_name(choice));
    for (const auto& [model, layers] : {std::pair{"resnet_like", resnet_like_layers()},
                                        std::pair{"signal_cnn", signal_cnn_layers()},
                                        std::pair{"tiny_cnn2d", tiny_cnn2d_layers()}}) {
      for (const ModelLayer& l : layers) {
        benchmark::RegisterBenchmark((tier + "/layer/" + l.name).c_str(), bm_conv_layer, l.p,
                                     choice, kernels::ConvAlgorithm::kAuto)
            ->Arg(1)
            ->Arg(32)
            ->Unit(benchmark::kMicrosecond);
      }
      // Winograd F(2×2, 3×3) against the direct plan where it applies; MAC/s counts the
      // direct-equivalent MACs (9 per output pixel and channel pair) for both.
      for (const ModelLayer& l : layers) {
        if (!kernels::winograd_applicable(l.p)) continue;
        for (kernels::ConvAlgorithm algo :
             {kernels::ConvAlgorithm::kDirect, kernels::ConvAlgorithm::kWinograd}) {
          const std::string name =
              tier + "/" + std::string(kernels::conv_algorithm_name(algo)) + "/" + l.name;
          benchmark::RegisterBenchmark(name.c_str(), bm_conv_layer, l.p, choice, algo)
              ->Arg(1)
              ->Arg(32)
              ->Unit(benchmark::kMicrosecond);
        }
      }
      benchmark::RegisterBenchmark((tier + "/model/" + model).c_str(), bm_conv_model, layers,
                                   choice)
          ->Arg(1)
          ->Arg(32)
          ->Unit(benchmark::kMicrosecond);
    }
    // Where Winograd starts to pay (the threshold of winograd_pays_off in conv_f32_winograd.cpp):
    // channels × spatial size, one image per call as the executor runs convolutions.
    for (int64_t ch : {4, 8, 12, 16, 32, 64}) {
      for (int64_t hw : {32, 16, 8, 4}) {
        const Conv2dParams p = square_conv(ch, hw);
        for (kernels::ConvAlgorithm algo :
             {kernels::ConvAlgorithm::kDirect, kernels::ConvAlgorithm::kWinograd}) {
          const std::string name = tier + "/crossover/" +
                                   std::string(kernels::conv_algorithm_name(algo)) + "/c" +
                                   std::to_string(ch) + "_hw" + std::to_string(hw);
          benchmark::RegisterBenchmark(name.c_str(), bm_conv_layer, p, choice, algo)
              ->Arg(1)
              ->Unit(benchmark::kMicrosecond);
        }
      }
    }
    benchmark::RegisterBenchmark((tier + "/fc/resnet_32_10").c_str(), bm_fc, 10, 32, choice)
        ->Arg(1)
        ->Arg(32)
        ->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark((tier + "/fc/signal_64_5").c_str(), bm_fc, 5, 64, choice)
        ->Arg(1)
        ->Arg(32)
        ->Unit(benchmark::kMicrosecond);
  }
  return 0;
}

const int registered = register_all();

}  // namespace
}  // namespace ei8::bench
