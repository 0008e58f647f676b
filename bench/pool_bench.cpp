// Pooling kernels (pool.h), every tier, on the pools of the real models (STYLE.md 14): the
// three MaxPool 2×2/2 of TinyCNN2D (32×32×32, 64×16×16, 128×8×8), a 3×3/2 padded MaxPool, the
// 1-D MaxPool 2/2 of the signal CNN (16×128), two GoogLeNet 3×3/1 pad-1 MaxPools and a 2×2/2
// AveragePool; FP32, u8 and s8 (AveragePool: `ort` requantization); batch 1 and 32; one thread.
// Counters: input bytes read per second ("B/s") and seconds per sample.
//
//   build/release/bench/ei8_pool_bench --benchmark_min_time=0.2s
//   build/release/bench/ei8_pool_bench --benchmark_filter='max_f32/tiny_pool1.*'
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "ei8/core/rng.h"
#include "ei8/runtime/kernels/pool.h"

namespace ei8::bench {
namespace {

using kernels::KernelChoice;

struct PoolShape {
  const char* name;
  int64_t c, h, w, k_h, k_w, stride, pad;
};

constexpr PoolShape kShapes[] = {
    {"tiny_pool1_32x32x32", 32, 32, 32, 2, 2, 2, 0},
    {"tiny_pool2_64x16x16", 64, 16, 16, 2, 2, 2, 0},
    {"tiny_pool3_128x8x8", 128, 8, 8, 2, 2, 2, 0},
    {"max3x3s2p1_16x32x32", 16, 32, 32, 3, 3, 2, 1},
    {"pool1d_16x128_k2s2", 16, 1, 128, 1, 2, 2, 0},
    {"max3x3s1p1_480x14x14", 480, 14, 14, 3, 3, 1, 1},  // GoogLeNet inception 4a pool
    {"max3x3s1p1_256x28x28", 256, 28, 28, 3, 3, 1, 1},  // GoogLeNet inception 3b pool
};

int64_t out_dim(int64_t in, int64_t k, int64_t s, int64_t pad) {
  return (in + 2 * pad - k) / s + 1;
}

kernels::Pool2dParams pool_params(const PoolShape& s) {
  kernels::Pool2dParams p;
  p.channels = s.c;
  p.in_h = s.h;
  p.in_w = s.w;
  p.kernel_h = s.k_h;
  p.kernel_w = s.k_w;
  p.stride_h = s.h == 1 ? 1 : s.stride;
  p.stride_w = s.stride;
  p.pad_top = p.pad_bottom = s.h == 1 ? 0 : s.pad;
  p.pad_left = p.pad_right = s.pad;
  p.out_h = out_dim(p.in_h, p.kernel_h, p.stride_h, p.pad_top);
  p.out_w = out_dim(p.in_w, p.kernel_w, p.stride_w, p.pad_left);
  return p;
}

void counters(benchmark::State& state, int64_t bytes, int64_t batch) {
  state.counters["B/s"] =
      benchmark::Counter(static_cast<double>(bytes), benchmark::Counter::kIsIterationInvariantRate);
  state.counters["s/sample"] =
      benchmark::Counter(static_cast<double>(batch), benchmark::Counter::kIsIterationInvariantRate |
                                                         benchmark::Counter::kInvert);
}

enum class Op { kMaxF32, kAvgF32, kMaxU8, kMaxS8, kAvgU8 };

void run_pool(benchmark::State& state, Op op, PoolShape s, KernelChoice choice, int64_t batch) {
  Result<KernelChoice> tier = kernels::prepare_pool_tier(choice);
  if (!tier.ok()) {
    state.SkipWithError(tier.status().message().c_str());
    return;
  }
  const kernels::Pool2dParams p = pool_params(s);
  const int64_t n_in = batch * s.c * s.h * s.w, n_out = batch * s.c * p.out_h * p.out_w;
  Rng rng(7);
  if (op == Op::kMaxF32 || op == Op::kAvgF32) {
    std::vector<float> x(static_cast<size_t>(n_in)), y(static_cast<size_t>(n_out));
    for (float& v : x) v = rng.uniform(-1.0f, 1.0f);
    for (auto _ : state) {
      if (op == Op::kMaxF32) {
        kernels::maxpool2d_f32(*tier, p, batch, x.data(), y.data());
      } else {
        kernels::avgpool2d_f32(*tier, p, batch, x.data(), y.data());
      }
      benchmark::DoNotOptimize(y.data());
      benchmark::ClobberMemory();
    }
    counters(state, n_in * 4, batch);
    return;
  }
  std::vector<uint8_t> x(static_cast<size_t>(n_in)), y(static_cast<size_t>(n_out));
  for (uint8_t& v : x) v = static_cast<uint8_t>(rng.uniform_int(0, 255));
  std::vector<fixedpoint::Requantizer> rq;
  for (int64_t n = 1; n <= s.k_h * s.k_w; ++n) {
    rq.push_back(fixedpoint::Requantizer::from_multiplier(fixedpoint::RequantProfile::kOrt,
                                                          1.0 / static_cast<double>(n), 128, 0, 255)
                     .value());
  }
  for (auto _ : state) {
    switch (op) {
      case Op::kMaxU8:
        kernels::maxpool_s8<uint8_t>(*tier, p, batch, x.data(), y.data());
        break;
      case Op::kMaxS8:
        kernels::maxpool_s8<int8_t>(*tier, p, batch, reinterpret_cast<const int8_t*>(x.data()),
                                    reinterpret_cast<int8_t*>(y.data()));
        break;
      default:
        kernels::avgpool_s8<uint8_t>(*tier, p, batch, 128, rq, x.data(), y.data());
        break;
    }
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  counters(state, n_in, batch);
}

// Names: <op>/<shape>/<tier>/<batch>.
const bool kRegistered = [] {
  const struct {
    Op op;
    const char* name;
  } ops[] = {{Op::kMaxF32, "max_f32"},
             {Op::kMaxU8, "max_u8"},
             {Op::kMaxS8, "max_s8"},
             {Op::kAvgF32, "avg_f32"},
             {Op::kAvgU8, "avg_u8"}};
  for (const auto& o : ops) {
    for (const PoolShape& s : kShapes) {
      // Average pools only on the first TinyCNN2D shape and the 1-D shape.
      if ((o.op == Op::kAvgF32 || o.op == Op::kAvgU8) &&
          std::string(s.name) != "tiny_pool1_32x32x32" && s.h != 1) {
        continue;
      }
      for (KernelChoice c : kernels::registered_pool_kernels()) {
        for (int64_t batch : {1, 32}) {
          const std::string name = std::string(o.name) + "/" + s.name + "/" +
                                   std::string(kernels::kernel_choice_name(c)) + "/" +
                                   std::to_string(batch);
          benchmark::RegisterBenchmark(name.c_str(), run_pool, o.op, s, c, batch)
              ->Unit(benchmark::kMicrosecond);
        }
      }
    }
  }
  return true;
}();

}  // namespace
}  // namespace ei8::bench
