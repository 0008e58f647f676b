// The attainable vpdpbusd peaks of one core (the VNNI tier's only arithmetic instruction),
// measured like s8_peak_avx2.cpp in the same process as the kernels: 24 independent accumulator
// chains (vpdpbusd has a 5-cycle latency on Ice Lake / Sapphire Rapids and Zen 4; two issue
// ports need ≥ 10 chains in flight), no memory traffic. Compiled with the AVX-512 VNNI flags
// (this file only); skipped on CPUs without AVX-512 VNNI.
//   peak/vpdpbusd_zmm_1core: acc += vpdpbusd(x_u8, w_s8) on 512-bit registers (64 MAC each)
//   peak/vpdpbusd_ymm_1core: the same on 256-bit registers (32 MAC each)
// Per-layer GMAC/s of ei8_kernels_s8_bench are compared with the zmm figure
// (docs/int8_runtime.md).
#include <benchmark/benchmark.h>
#include <immintrin.h>

#include "ei8/runtime/kernels/cpu_features.h"

namespace {

constexpr int kChains = 24, kSteps = 1000;

void bm_vpdpbusd_zmm(benchmark::State& state) {
  if (!ei8::kernels::cpu_features().avx512vnni) {
    state.SkipWithError("no AVX-512 VNNI");
    return;
  }
  __m512i acc[kChains];  // 24 accumulators + 2 operands + 1 weight: no spills of the 32 zmm
  for (int i = 0; i < kChains; ++i) acc[i] = _mm512_setzero_si512();
  const __m512i x[2] = {_mm512_set1_epi8(5), _mm512_set1_epi8(7)};
  __m512i w = _mm512_set1_epi8(3);
  for (auto _ : state) {
    for (int s = 0; s < kSteps; ++s) {
#pragma GCC unroll 24
      for (int i = 0; i < kChains; ++i) acc[i] = _mm512_dpbusd_epi32(acc[i], x[i % 2], w);
      __asm__ volatile("" : "+v"(w));  // keeps the products inside the loop
    }
    for (int i = 0; i < kChains; ++i) benchmark::DoNotOptimize(acc[i]);
  }
  state.counters["MAC/s"] =
      benchmark::Counter(kChains * kSteps * 64.0, benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(bm_vpdpbusd_zmm)->Name("peak/vpdpbusd_zmm_1core");

void bm_vpdpbusd_ymm(benchmark::State& state) {
  if (!ei8::kernels::cpu_features().avx512vnni) {
    state.SkipWithError("no AVX-512 VNNI");
    return;
  }
  __m256i acc[kChains];
  for (int i = 0; i < kChains; ++i) acc[i] = _mm256_setzero_si256();
  const __m256i x[2] = {_mm256_set1_epi8(5), _mm256_set1_epi8(7)};
  __m256i w = _mm256_set1_epi8(3);
  for (auto _ : state) {
    for (int s = 0; s < kSteps; ++s) {
#pragma GCC unroll 24
      for (int i = 0; i < kChains; ++i) acc[i] = _mm256_dpbusd_epi32(acc[i], x[i % 2], w);
      __asm__ volatile("" : "+v"(w));
    }
    for (int i = 0; i < kChains; ++i) benchmark::DoNotOptimize(acc[i]);
  }
  state.counters["MAC/s"] =
      benchmark::Counter(kChains * kSteps * 32.0, benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(bm_vpdpbusd_ymm)->Name("peak/vpdpbusd_ymm_1core");

}  // namespace
