// The AVX-512 tier of the FP32 micro-kernels: the templates of f32_tiles.h over __m512 (16
// lanes, 32 registers: larger tiles than AVX2's), compiled with -mavx512f -mavx512bw
// -mavx512vl -mavx512dq -mfma (this file only; see CMakeLists.txt). Called only when
// cpu_features().avx512 is true (the dispatchers in conv_f32.cpp / gemm_f32.cpp decide).
// The Winograd transforms shuffle lanes within 128-bit quarters and stay on ymm (the AVX2
// Ops, compiled here with this file's flags); its 16 GEMMs run on zmm. The input staging of
// the direct plan is memory bound and uses the AVX2 routines (conv_f32.cpp).
#include <immintrin.h>

#include <cstdint>

#include "ei8/runtime/kernels/f32_tiles.h"
#include "ei8/runtime/kernels/f32_tiles_winograd.h"
#include "ei8/runtime/kernels/x86/f32_avx2_ops.h"

namespace ei8::kernels {
namespace {

struct Avx512Ops {
  static constexpr int kL = 16;     // lanes
  static constexpr int kRegs = 32;  // zmm registers
  using V = __m512;
  static V load(const float* p) { return _mm512_loadu_ps(p); }
  static V bcast(const float* p) { return _mm512_set1_ps(*p); }
  static V set1(float x) { return _mm512_set1_ps(x); }
  static V fma(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }
  // max(v, lo) as (v < lo ? lo : v) like std::max(v, lo) of the reference (vmaxps returns the
  // second operand when either is NaN, as the AVX2 tier). The zero-masking form with every
  // lane selected is the plain vmaxps; GCC 12's _mm512_max_ps trips -Wmaybe-uninitialized.
  static V max(V v, V lo) { return _mm512_maskz_max_ps(0xffff, v, lo); }
  static V min(V v, V hi) { return _mm512_maskz_min_ps(0xffff, v, hi); }
  static V leaky(V v, V alpha) {
    const __mmask16 neg = _mm512_cmp_ps_mask(v, _mm512_setzero_ps(), _CMP_LT_OQ);
    return _mm512_mask_mul_ps(v, neg, v, alpha);
  }
  static void store(float* p, V v) { _mm512_storeu_ps(p, v); }
  static __mmask16 lanes_below(int n) { return static_cast<__mmask16>((1u << n) - 1u); }
  // Lanes ≥ n are neither written nor read (AVX-512 masks suppress their faults).
  static void store_n(float* p, V v, int n) { _mm512_mask_storeu_ps(p, lanes_below(n), v); }
  static V load_n(const float* p, int n) { return _mm512_maskz_loadu_ps(lanes_below(n), p); }
};

// DwFlatArgs (f32_internal.h) with a compile-time tap count: NV vectors per step, the K
// weights broadcast once per channel (K = 25 leaves them to memory operands).
template <int K, int NV, bool kLeaky>
void depthwise_flat(const DwFlatArgs& a) {
  using V = __m512;
  const tiles::Epi<Avx512Ops> epi(a.act);
  int32_t off[K];
  for (int t = 0; t < K; ++t) off[t] = a.off[t];
  const __mmask16 last_mask =
      Avx512Ops::lanes_below(static_cast<int>(a.plane - 16 * (a.n_vec - 1)));
  for (int64_t c = 0; c < a.channels; ++c) {
    const float* x = a.x + c * a.plane;
    float* y = a.y + c * a.plane;
    const float* wc = a.w + c * K;
    V w[K];
#pragma GCC unroll 32
    for (int t = 0; t < K; ++t) w[t] = _mm512_set1_ps(wc[t]);
    const V bias = _mm512_set1_ps(a.bias[c]);
    const auto block = [&]<int N>(int64_t v0) {
      V acc[N];
#pragma GCC unroll 8
      for (int j = 0; j < N; ++j) acc[j] = bias;
#pragma GCC unroll 32
      for (int t = 0; t < K; ++t) {
#pragma GCC unroll 8
        for (int j = 0; j < N; ++j) {
          const __mmask16 m = a.mask[(v0 + j) * K + t];
          acc[j] =
              _mm512_fmadd_ps(w[t], _mm512_maskz_loadu_ps(m, x + 16 * (v0 + j) + off[t]), acc[j]);
        }
      }
#pragma GCC unroll 8
      for (int j = 0; j < N; ++j) {
        const V r = epi.template apply<kLeaky>(acc[j]);
        if (v0 + j == a.n_vec - 1) {
          _mm512_mask_storeu_ps(y + 16 * (v0 + j), last_mask, r);
        } else {
          _mm512_storeu_ps(y + 16 * (v0 + j), r);
        }
      }
    };
    int64_t v0 = 0;
    for (; v0 + NV <= a.n_vec; v0 += NV) block.template operator()<NV>(v0);
    for (; v0 < a.n_vec; ++v0) block.template operator()<1>(v0);
  }
}

template <int K>
void depthwise_flat_act(const DwFlatArgs& a) {
  if (a.act.kind == ActKind::kLeakyRelu) {
    depthwise_flat<K, 4, true>(a);
  } else {
    depthwise_flat<K, 4, false>(a);
  }
}

}  // namespace

void conv2d_f32_depthwise_flat_avx512(const DwFlatArgs& args) {
  if (args.k == 25) {
    depthwise_flat_act<25>(args);
  } else {
    depthwise_flat_act<9>(args);
  }
}

void conv2d_f32_direct_avx512(const DirectConvArgs& args) {
  tiles::conv_direct_dispatch<Avx512Ops>(args);
}

void conv2d_f32_winograd_avx512(const WinogradConvArgs& args) {
  tiles::winograd_dispatch<Avx2Ops, Avx512Ops>(args);
}

void gemm_f32_packed_avx512(const PackedGemmArgs& args) {
  tiles::gemm_packed_dispatch<Avx512Ops>(args);
}

}  // namespace ei8::kernels
