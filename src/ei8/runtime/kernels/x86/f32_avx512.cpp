// The AVX-512 tier of the FP32 micro-kernels: the templates of f32_tiles.h over __m512 (16
// lanes, 32 registers: larger tiles than AVX2's), compiled with -mavx512f -mavx512bw
// -mavx512vl -mavx512dq -mfma (this file only; see CMakeLists.txt). Called only when
// cpu_features().avx512 is true (the dispatchers in conv_f32.cpp / gemm_f32.cpp decide).
// The Winograd transforms shuffle lanes within 128-bit quarters and stay on ymm (the AVX2
// Ops, compiled here with this file's flags); its 16 GEMMs run on zmm. The input staging of
// the direct plan is memory bound and uses the AVX2 routines (conv_f32.cpp).
#include <immintrin.h>

#include <algorithm>
#include <cstdint>

#include "ei8/runtime/kernels/f32_tiles.h"
#include "ei8/runtime/kernels/f32_tiles_winograd.h"
#include "ei8/runtime/kernels/x86/f32_avx2_ops.h"
#include "ei8/runtime/kernels/x86/sigmoid_x86.h"

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
  // x·σ(x) with sigmoid8's operations on 16 lanes: silu_f32's bits (x86/sigmoid_x86.h).
  static V silu(V v) { return _mm512_mul_ps(v, sigmoid16(v)); }
  static void store(float* p, V v) { _mm512_storeu_ps(p, v); }
  static __mmask16 lanes_below(int n) { return static_cast<__mmask16>((1u << n) - 1u); }
  // Lanes ≥ n are neither written nor read (AVX-512 masks suppress their faults).
  static void store_n(float* p, V v, int n) { _mm512_mask_storeu_ps(p, lanes_below(n), v); }
  static V load_n(const float* p, int n) { return _mm512_maskz_loadu_ps(lanes_below(n), p); }
};

// DwFlatArgs (f32_internal.h) with a compile-time tap count: NV vectors per step, the K
// weights broadcast once per channel (K = 25 leaves them to memory operands).
template <int K, int NV, int kMode>
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
        const V r = epi.template apply<kMode>(acc[j]);
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
  switch (tiles::epi_mode(a.act)) {
    case tiles::kEpiLeaky:
      return depthwise_flat<K, 4, tiles::kEpiLeaky>(a);
    case tiles::kEpiSilu:
      return depthwise_flat<K, 4, tiles::kEpiSilu>(a);
    default:
      return depthwise_flat<K, 4, tiles::kEpiClamp>(a);
  }
}

// DwS2Args (f32_internal.h): R output rows × one vector of 16 outputs per step.
template <int K, int kMode>
void depthwise_s2(const DwS2Args& a) {
  using V = __m512;
  constexpr int kR = 4, kPairs = (K + 1) / 2;
  const tiles::Epi<Avx512Ops> epi(a.act);
  const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  const __m512i odd = _mm512_add_epi32(even, _mm512_set1_epi32(1));
  const V zero = _mm512_setzero_ps();
  for (int64_t c = 0; c < a.channels; ++c) {
    const float* x = a.x + c * a.in_h * a.in_w;
    float* y = a.y + c * a.out_h * a.out_w;
    const float* wc = a.w + c * K * K;
    const V bias = _mm512_set1_ps(a.bias[c]);
    for (int64_t ow0 = 0; ow0 < a.out_w; ow0 += 16) {
      // Columns 2·ow0 − pad_left + 2p + i, i < 32: the lanes inside the row.
      int64_t start[kPairs];
      __mmask16 mlo[kPairs], mhi[kPairs];
      for (int p = 0; p < kPairs; ++p) {
        start[p] = 2 * ow0 - a.pad_left + 2 * p;
        const int64_t lo = std::max<int64_t>(0, -start[p]);
        const int64_t hi = std::min<int64_t>(32, a.in_w - start[p]);
        const uint64_t m = hi > lo ? ((uint64_t{1} << hi) - 1) & ~((uint64_t{1} << lo) - 1) : 0;
        mlo[p] = static_cast<__mmask16>(m & 0xffff);
        mhi[p] = static_cast<__mmask16>(m >> 16);
      }
      const __mmask16 store_mask =
          Avx512Ops::lanes_below(static_cast<int>(std::min<int64_t>(16, a.out_w - ow0)));
      for (int64_t oh0 = 0; oh0 < a.out_h; oh0 += kR) {
        const int64_t rows = std::min<int64_t>(kR, a.out_h - oh0);
        V acc[kR];
#pragma GCC unroll 4
        for (int r = 0; r < kR; ++r) acc[r] = bias;
#pragma GCC unroll 5
        for (int kh = 0; kh < K; ++kh) {
          const float* xr[kR];
#pragma GCC unroll 4
          for (int r = 0; r < kR; ++r) {
            const int64_t ih = 2 * (oh0 + r) + kh - a.pad_top;
            xr[r] = r < rows && ih >= 0 && ih < a.in_h ? x + ih * a.in_w : nullptr;
          }
#pragma GCC unroll 3
          for (int p = 0; p < kPairs; ++p) {
            const V we = _mm512_set1_ps(wc[kh * K + 2 * p]);
#pragma GCC unroll 4
            for (int r = 0; r < kR; ++r) {
              V lo = zero, hi = zero;
              if (xr[r] != nullptr) {
                lo = _mm512_maskz_loadu_ps(mlo[p], xr[r] + start[p]);
                hi = _mm512_maskz_loadu_ps(mhi[p], xr[r] + start[p] + 16);
              }
              acc[r] = _mm512_fmadd_ps(we, _mm512_permutex2var_ps(lo, even, hi), acc[r]);
              if (2 * p + 1 < K) {
                const V wo = _mm512_set1_ps(wc[kh * K + 2 * p + 1]);
                acc[r] = _mm512_fmadd_ps(wo, _mm512_permutex2var_ps(lo, odd, hi), acc[r]);
              }
            }
          }
        }
#pragma GCC unroll 4
        for (int r = 0; r < kR; ++r) {
          if (r < rows) {
            _mm512_mask_storeu_ps(y + (oh0 + r) * a.out_w + ow0, store_mask,
                                  epi.template apply<kMode>(acc[r]));
          }
        }
      }
    }
  }
}

template <int K>
void depthwise_s2_act(const DwS2Args& a) {
  switch (tiles::epi_mode(a.act)) {
    case tiles::kEpiLeaky:
      return depthwise_s2<K, tiles::kEpiLeaky>(a);
    case tiles::kEpiSilu:
      return depthwise_s2<K, tiles::kEpiSilu>(a);
    default:
      return depthwise_s2<K, tiles::kEpiClamp>(a);
  }
}

}  // namespace

void conv2d_f32_depthwise_s2_avx512(const DwS2Args& args) {
  if (args.k == 5) {
    depthwise_s2_act<5>(args);
  } else {
    depthwise_s2_act<3>(args);
  }
}

void conv2d_f32_depthwise_flat_avx512(const DwFlatArgs& args) {
  if (args.k == 25) {
    depthwise_flat_act<25>(args);
  } else {
    depthwise_flat_act<9>(args);
  }
}

void conv2d_f32_pointwise_t_avx512(const PointwiseTArgs& args) {
  tiles::conv_pointwise_t_dispatch<Avx512Ops, kPointwiseTNv>(args);
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
