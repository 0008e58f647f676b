// The machine's attainable FP32 peak on one core, measured in the same process and under the
// same load as the kernels: 12 independent chains of 256-bit FMAs (2 FMA pipes × latency ≤ 6
// need ≥ 12 in flight), no memory traffic. Compiled with -mavx2 -mfma (this file only) and run
// only when the CPU has AVX2.
#include <benchmark/benchmark.h>
#include <immintrin.h>

#include "ei8/runtime/kernels/cpu_features.h"

namespace {

void bm_fma_peak_avx2(benchmark::State& state) {
  if (!ei8::kernels::cpu_features().avx2) {
    state.SkipWithError("no AVX2");
    return;
  }
  constexpr int kChains = 12, kSteps = 1000;
  __m256 acc[kChains];
  for (int i = 0; i < kChains; ++i) acc[i] = _mm256_set1_ps(0.001f * static_cast<float>(i));
  const __m256 a = _mm256_set1_ps(0.999f), b = _mm256_set1_ps(1e-4f);
  for (auto _ : state) {
    for (int s = 0; s < kSteps; ++s) {
#pragma GCC unroll 12
      for (int i = 0; i < kChains; ++i) acc[i] = _mm256_fmadd_ps(acc[i], a, b);
    }
    for (int i = 0; i < kChains; ++i) benchmark::DoNotOptimize(acc[i]);
  }
  state.counters["MAC/s"] =
      benchmark::Counter(kChains * kSteps * 8.0, benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(bm_fma_peak_avx2)->Name("peak/fma_avx2_1core");

}  // namespace
