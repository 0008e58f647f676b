// ei8/runtime/kernels/x86/f32_avx2_ops.h — internal: the 8-lane AVX2 `Ops` of f32_tiles.h
// (__m256). Included by x86/f32_avx2.cpp (the AVX2 tier) and x86/f32_avx512.cpp (whose
// Winograd transforms run on ymm); each gets its own copy in an anonymous namespace, compiled
// with that file's flags, so no instruction of one tier reaches the other.
#pragma once

#include <immintrin.h>

#include "ei8/runtime/kernels/x86/sigmoid_x86.h"

namespace ei8::kernels {
namespace {  // NOLINT(google-build-namespaces): one private copy per tier translation unit

struct Avx2Ops {
  static constexpr int kL = 8;      // lanes
  static constexpr int kRegs = 16;  // ymm registers of AVX2
  using V = __m256;
  static V load(const float* p) { return _mm256_loadu_ps(p); }
  static V bcast(const float* p) { return _mm256_broadcast_ss(p); }
  static V set1(float x) { return _mm256_set1_ps(x); }
  static V fma(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
  static V add(V a, V b) { return _mm256_add_ps(a, b); }
  static V sub(V a, V b) { return _mm256_sub_ps(a, b); }
  static V mul(V a, V b) { return _mm256_mul_ps(a, b); }
  static V div(V a, V b) { return _mm256_div_ps(a, b); }
  // vmaxps(v, 0) = v > 0 ? v : 0 per lane: NaN and −0 give +0, as the reference's relu.
  static V relu(V v) { return _mm256_max_ps(v, _mm256_setzero_ps()); }
  // max(v, lo) as (v < lo ? lo : v) like std::max(v, lo) of the reference.
  static V max(V v, V lo) { return _mm256_max_ps(v, lo); }
  static V min(V v, V hi) { return _mm256_min_ps(v, hi); }
  static V leaky(V v, V alpha) {
    const __m256 neg = _mm256_cmp_ps(v, _mm256_setzero_ps(), _CMP_LT_OQ);
    return _mm256_blendv_ps(v, _mm256_mul_ps(v, alpha), neg);
  }
  // x·σ(x): silu_f32's expression (x86/sigmoid_x86.h), the SiLU epilogue.
  static V silu(V v) { return _mm256_mul_ps(v, sigmoid8(v)); }
  static void store(float* p, V v) { _mm256_storeu_ps(p, v); }
  static __m256i lanes_below(int n) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  }
  static void store_n(float* p, V v, int n) { _mm256_maskstore_ps(p, lanes_below(n), v); }
  // Lanes ≥ n read as 0 and never touch memory.
  static V load_n(const float* p, int n) { return _mm256_maskload_ps(p, lanes_below(n)); }
  // Winograd (f32_tiles_winograd.h): in-lane shuffles on input, one lane swap per output pair.
  static V load_halves(const float* p0, const float* p1) {
    return _mm256_insertf128_ps(_mm256_castps128_ps256(_mm_loadu_ps(p0)), _mm_loadu_ps(p1), 1);
  }
  static void deinterleave(V a, V b, V& even, V& odd) {
    even = _mm256_shuffle_ps(a, b, _MM_SHUFFLE(2, 0, 2, 0));
    odd = _mm256_shuffle_ps(a, b, _MM_SHUFFLE(3, 1, 3, 1));
  }
  static void zip(V y0, V y1, V& lo, V& hi) {
    lo = _mm256_unpacklo_ps(y0, y1);
    hi = _mm256_unpackhi_ps(y0, y1);
  }
  static void quads_of(V y0, V y1, V& qa, V& qb) {
    const V lo = _mm256_unpacklo_ps(y0, y1), hi = _mm256_unpackhi_ps(y0, y1);
    qa = _mm256_permute2f128_ps(lo, hi, 0x20);
    qb = _mm256_permute2f128_ps(lo, hi, 0x31);
  }
};

}  // namespace
}  // namespace ei8::kernels
