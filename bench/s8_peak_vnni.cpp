// The attainable vpdpbusd peaks of one core (the VNNI tier's only arithmetic instruction),
// measured like s8_peak_avx2.cpp in the same process as the kernels: 24 independent accumulator
// chains (vpdpbusd has a 5-cycle latency on Ice Lake / Sapphire Rapids and Zen 4; two issue
// ports need ≥ 10 chains in flight), no memory traffic, the loop in inline asm (below).
// Compiled with the AVX-512 VNNI flags (this file only); skipped on CPUs without AVX-512 VNNI.
//   peak/vpdpbusd_zmm_1core: acc += vpdpbusd(x_u8, w_s8) on 512-bit registers (64 MAC each)
//   peak/vpdpbusd_ymm_1core: the same on 256-bit registers (32 MAC each)
// Per-layer GMAC/s of ei8_kernels_s8_bench are compared with the zmm figure
// (docs/int8_runtime.md).
#include <benchmark/benchmark.h>
#include <immintrin.h>

#include "ei8/runtime/kernels/cpu_features.h"

namespace {

constexpr int kChains = 24, kSteps = 1000;

// 24 vpdpbusd on fixed registers (acc = 0..23, operands 24 and 25) per step, written in asm:
// with C++ accumulator arrays GCC 12 copies every accumulator once per step (24 extra moves on
// the same ports), which halves the measured peak.
#define EI8_DPX(R, n) "vpdpbusd %%" R "24, %%" R "25, %%" R #n "\n\t"
#define EI8_DP24(R)                                                                          \
  EI8_DPX(R, 0)                                                                              \
  EI8_DPX(R, 1) EI8_DPX(R, 2) EI8_DPX(R, 3) EI8_DPX(R, 4) EI8_DPX(R, 5) EI8_DPX(R, 6)        \
      EI8_DPX(R, 7) EI8_DPX(R, 8) EI8_DPX(R, 9) EI8_DPX(R, 10) EI8_DPX(R, 11) EI8_DPX(R, 12) \
          EI8_DPX(R, 13) EI8_DPX(R, 14) EI8_DPX(R, 15) EI8_DPX(R, 16) EI8_DPX(R, 17)         \
              EI8_DPX(R, 18) EI8_DPX(R, 19) EI8_DPX(R, 20) EI8_DPX(R, 21) EI8_DPX(R, 22)     \
                  EI8_DPX(R, 23)

template <bool kZmm>
void bm_vpdpbusd(benchmark::State& state) {
  if (!ei8::kernels::cpu_features().avx512vnni) {
    state.SkipWithError("no AVX-512 VNNI");
    return;
  }
  for (auto _ : state) {
    int64_t n = kSteps;
    if constexpr (kZmm) {
      __asm__ volatile(
          "vpxord %%zmm24, %%zmm24, %%zmm24\n\t"
          "vpternlogd $0xff, %%zmm25, %%zmm25, %%zmm25\n\t"
          "1:\n\t" EI8_DP24("zmm") "dec %0\n\t"
          "jnz 1b\n\t"
          : "+r"(n)
          :
          : "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9",
            "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15", "xmm16", "xmm17", "xmm18",
            "xmm19", "xmm20", "xmm21", "xmm22", "xmm23", "xmm24", "xmm25", "cc");
    } else {
      __asm__ volatile(
          "vpxord %%ymm24, %%ymm24, %%ymm24\n\t"
          "vpternlogd $0xff, %%ymm25, %%ymm25, %%ymm25\n\t"
          "1:\n\t" EI8_DP24("ymm") "dec %0\n\t"
          "jnz 1b\n\t"
          : "+r"(n)
          :
          : "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9",
            "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15", "xmm16", "xmm17", "xmm18",
            "xmm19", "xmm20", "xmm21", "xmm22", "xmm23", "xmm24", "xmm25", "cc");
    }
    benchmark::DoNotOptimize(n);
  }
  state.counters["MAC/s"] = benchmark::Counter(kChains * kSteps * (kZmm ? 64.0 : 32.0),
                                               benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(bm_vpdpbusd<true>)->Name("peak/vpdpbusd_zmm_1core");
BENCHMARK(bm_vpdpbusd<false>)->Name("peak/vpdpbusd_ymm_1core");

}  // namespace
