// The AVX2 + FMA tier of the FP32 micro-kernels: the templates of f32_tiles.h over __m256,
// compiled with -mavx2 -mfma (this file only; see CMakeLists.txt). Called only when
// cpu_features().avx2 is true (the dispatcher in conv_f32.cpp / gemm_f32.cpp decides).
#include <immintrin.h>

#include "ei8/runtime/kernels/f32_tiles.h"

namespace ei8::kernels {
namespace {

struct Avx2Ops {
  using V = __m256;
  static V load(const float* p) { return _mm256_loadu_ps(p); }
  static V bcast(const float* p) { return _mm256_broadcast_ss(p); }
  static V set1(float x) { return _mm256_set1_ps(x); }
  static V fma(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
  // max(v, lo) as (v < lo ? lo : v) like std::max(v, lo) of the reference.
  static V max(V v, V lo) { return _mm256_max_ps(v, lo); }
  static V min(V v, V hi) { return _mm256_min_ps(v, hi); }
  static V leaky(V v, V alpha) {
    const __m256 neg = _mm256_cmp_ps(v, _mm256_setzero_ps(), _CMP_LT_OQ);
    return _mm256_blendv_ps(v, _mm256_mul_ps(v, alpha), neg);
  }
  static void store(float* p, V v) { _mm256_storeu_ps(p, v); }
  static __m256i lanes_below(int n) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  }
  static void store_n(float* p, V v, int n) { _mm256_maskstore_ps(p, lanes_below(n), v); }
  // Lanes ≥ n read as 0 and never touch memory.
  static V load_n(const float* p, int n) { return _mm256_maskload_ps(p, lanes_below(n)); }
  static V activate(V v, const Activation& act) {
    switch (act.kind) {
      case ActKind::kNone:
        return v;
      case ActKind::kRelu:
        return _mm256_max_ps(v, _mm256_setzero_ps());
      case ActKind::kClip:
        return _mm256_min_ps(_mm256_max_ps(v, _mm256_set1_ps(act.lo)), _mm256_set1_ps(act.hi));
      case ActKind::kLeakyRelu: {
        const __m256 neg = _mm256_cmp_ps(v, _mm256_setzero_ps(), _CMP_LT_OQ);
        return _mm256_blendv_ps(v, _mm256_mul_ps(v, _mm256_set1_ps(act.alpha)), neg);
      }
    }
    return v;
  }
};

}  // namespace

void conv2d_f32_direct_avx2(const DirectConvArgs& args) {
  tiles::conv_direct_dispatch<Avx2Ops>(args);
}

void gemm_f32_packed_avx2(const PackedGemmArgs& args) {
  tiles::gemm_packed_dispatch<Avx2Ops>(args);
}

}  // namespace ei8::kernels
