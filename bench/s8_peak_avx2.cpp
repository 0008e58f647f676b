// The attainable INT8 peaks of one core for the instruction mixes of the AVX2 INT8 tier,
// measured like fma_peak_avx2.cpp (same process, same load): 12 independent accumulator chains,
// no memory traffic. Compiled with -mavx2 -mfma (this file only), run only with AVX2.
//   peak/vpmaddwd_avx2:       acc += vpmaddwd(x, w)    (16 MAC per instruction pair; the tier's
//                                                        inner loop: exact int16 products)
//   peak/vpmaddubsw_avx2:     acc += vpmaddwd(vpmaddubsw(x, w), 1)  (32 MAC per three
//                                                        instructions; NOT exact for u8·s8 —
//                                                        the int16 pair sums saturate — shown
//                                                        only as the bound an inexact kernel
//                                                        could reach)
//   peak/vpsignb_vpmaddubsw_exact_avx2_1core: acc += vpmaddwd(vpmaddubsw(|x|, sign(w, x)), 1)
//                                                       (32 MAC per four instructions; exact
//                                                        for s8 x and |w| ≤ 127: the s8x4 plan)
// Compare with peak/fma_avx2_1core (FP32, 8 MAC per FMA).
#include <benchmark/benchmark.h>
#include <immintrin.h>

#include "ei8/runtime/kernels/cpu_features.h"

namespace {

constexpr int kChains = 12, kSteps = 1000;

void bm_vpmaddwd_peak(benchmark::State& state) {
  if (!ei8::kernels::cpu_features().avx2) {
    state.SkipWithError("no AVX2");
    return;
  }
  __m256i acc[kChains];  // 12 accumulators + 2 operands + 1 weight: no register spills
  for (int i = 0; i < kChains; ++i) acc[i] = _mm256_setzero_si256();
  const __m256i x[2] = {_mm256_set1_epi16(5), _mm256_set1_epi16(7)};
  __m256i w = _mm256_set1_epi16(3);
  for (auto _ : state) {
    for (int s = 0; s < kSteps; ++s) {
#pragma GCC unroll 12
      for (int i = 0; i < kChains; ++i)
        acc[i] = _mm256_add_epi32(acc[i], _mm256_madd_epi16(x[i % 2], w));
      __asm__ volatile("" : "+x"(w));  // keeps the products inside the loop
    }
    for (int i = 0; i < kChains; ++i) benchmark::DoNotOptimize(acc[i]);
  }
  state.counters["MAC/s"] =
      benchmark::Counter(kChains * kSteps * 16.0, benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(bm_vpmaddwd_peak)->Name("peak/vpmaddwd_avx2_1core");

void bm_vpmaddubsw_peak(benchmark::State& state) {
  if (!ei8::kernels::cpu_features().avx2) {
    state.SkipWithError("no AVX2");
    return;
  }
  __m256i acc[kChains];
  for (int i = 0; i < kChains; ++i) acc[i] = _mm256_setzero_si256();
  const __m256i x[2] = {_mm256_set1_epi8(5), _mm256_set1_epi8(7)};
  __m256i w = _mm256_set1_epi8(3);
  const __m256i ones = _mm256_set1_epi16(1);
  for (auto _ : state) {
    for (int s = 0; s < kSteps; ++s) {
#pragma GCC unroll 12
      for (int i = 0; i < kChains; ++i) {
        acc[i] =
            _mm256_add_epi32(acc[i], _mm256_madd_epi16(_mm256_maddubs_epi16(x[i % 2], w), ones));
      }
      __asm__ volatile("" : "+x"(w));
    }
    for (int i = 0; i < kChains; ++i) benchmark::DoNotOptimize(acc[i]);
  }
  state.counters["MAC/s"] =
      benchmark::Counter(kChains * kSteps * 32.0, benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(bm_vpmaddubsw_peak)->Name("peak/vpmaddubsw_inexact_avx2_1core");

void bm_sign_trick_peak(benchmark::State& state) {
  if (!ei8::kernels::cpu_features().avx2) {
    state.SkipWithError("no AVX2");
    return;
  }
  // A different x per chain, read from memory every step (as the kernel loads its operands):
  // one vpsignb per product. (With two x values in registers GCC computed two signs per step
  // and the benchmark over-stated the exact peak.) 10 chains keep the accumulators, |x|, w and
  // the constant in registers.
  constexpr int kSignChains = 10;
  __m256i acc10[kSignChains];
  for (int i = 0; i < kSignChains; ++i) acc10[i] = _mm256_setzero_si256();
  alignas(32) __m256i xs[kSignChains];
  for (int i = 0; i < kSignChains; ++i) {
    xs[i] = _mm256_set1_epi8(static_cast<char>(i % 2 ? 7 + i : -5 - i));
  }
  const __m256i ax[2] = {_mm256_abs_epi8(xs[0]), _mm256_abs_epi8(xs[1])};
  __m256i w = _mm256_set1_epi8(3);
  const __m256i ones = _mm256_set1_epi16(1);
  const __m256i* xp = xs;
  for (auto _ : state) {
    for (int s = 0; s < kSteps; ++s) {
      __asm__ volatile("" : "+r"(xp));  // the x are reloaded every step
#pragma GCC unroll 10
      for (int i = 0; i < kSignChains; ++i) {
        const __m256i p = _mm256_maddubs_epi16(ax[i % 2], _mm256_sign_epi8(w, xp[i]));
        acc10[i] = _mm256_add_epi32(acc10[i], _mm256_madd_epi16(p, ones));
      }
      __asm__ volatile("" : "+x"(w));
    }
    for (int i = 0; i < kSignChains; ++i) benchmark::DoNotOptimize(acc10[i]);
  }
  state.counters["MAC/s"] = benchmark::Counter(kSignChains * kSteps * 32.0,
                                               benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(bm_sign_trick_peak)->Name("peak/vpsignb_vpmaddubsw_exact_avx2_1core");

}  // namespace
