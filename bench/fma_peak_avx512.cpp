// The machine's attainable FP32 peak on one core with 512-bit FMAs, measured in the same
// process and under the same load as the kernels (beside fma_peak_avx2.cpp): 16 independent
// chains of zmm FMAs (2 FMA pipes × latency ≤ 8), no memory traffic. Compiled with -mavx512f
// (this file only) and run only when the CPU has AVX-512. On cores that split a zmm FMA into
// two 256-bit halves (AMD Zen 4) it measures the same MAC/s as the AVX2 peak.
#include <benchmark/benchmark.h>
#include <immintrin.h>

#include "ei8/runtime/kernels/cpu_features.h"

namespace {

void bm_fma_peak_avx512(benchmark::State& state) {
  if (!ei8::kernels::cpu_features().avx512) {
    state.SkipWithError("no AVX-512");
    return;
  }
  constexpr int kChains = 16, kSteps = 1000;
  __m512 acc[kChains];
  for (int i = 0; i < kChains; ++i) acc[i] = _mm512_set1_ps(0.001f * static_cast<float>(i));
  const __m512 a = _mm512_set1_ps(0.999f), b = _mm512_set1_ps(1e-4f);
  for (auto _ : state) {
    for (int s = 0; s < kSteps; ++s) {
#pragma GCC unroll 16
      for (int i = 0; i < kChains; ++i) acc[i] = _mm512_fmadd_ps(acc[i], a, b);
    }
    for (int i = 0; i < kChains; ++i) benchmark::DoNotOptimize(acc[i]);
  }
  state.counters["MAC/s"] =
      benchmark::Counter(kChains * kSteps * 16.0, benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(bm_fma_peak_avx512)->Name("peak/fma_avx512_1core");

}  // namespace
