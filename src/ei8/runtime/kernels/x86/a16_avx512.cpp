// The AVX-512 tiers of the A16W8 micro-kernel (a16_internal.h), 8 rows × 2 zmm (32 columns of
// int16 pairs): `avx512` multiplies with vpmaddwd and adds with vpaddd (AVX-512 BW); `avx512vnni`
// does both in one vpdpwssd (the wrapping form; vpdpwssds would saturate), exact either way by
// the int32 block bound of conv_a16.h. After every block of kA16PairsPerBlock pairs the lanes are
// sign-extended (vpmovsxdq) and added to C's int64 sums. Built with AVX-512 F/BW/VL/DQ/VNNI
// flags; the dispatcher calls block_avx512 only when cpu_features().avx512 and block_avx512vnni
// only when cpu_features().avx512vnni. No standard-library inline function is used here.
#include <immintrin.h>

#include <cstring>

#include "ei8/runtime/kernels/a16_internal.h"
#include "ei8/runtime/kernels/conv_a16.h"

namespace ei8::kernels::a16 {
namespace {

inline __m512i bcast_pair(const int16_t* p) {
  int32_t v;
  std::memcpy(&v, p, sizeof v);
  return _mm512_set1_epi32(v);
}

inline void widen_add(int64_t* c, __m512i v, bool first) {
  const __m512i lo = _mm512_cvtepi32_epi64(_mm512_castsi512_si256(v));
  const __m512i hi = _mm512_cvtepi32_epi64(_mm512_extracti64x4_epi64(v, 1));
  if (first) {
    _mm512_storeu_si512(c, lo);
    _mm512_storeu_si512(c + 8, hi);
  } else {
    _mm512_storeu_si512(c, _mm512_add_epi64(_mm512_loadu_si512(c), lo));
    _mm512_storeu_si512(c + 8, _mm512_add_epi64(_mm512_loadu_si512(c + 8), hi));
  }
}

struct Madd {
  static inline __m512i dot(__m512i acc, __m512i a, __m512i b) {
    return _mm512_add_epi32(acc, _mm512_madd_epi16(a, b));
  }
};
struct Vnni {
  static inline __m512i dot(__m512i acc, __m512i a, __m512i b) {
    return _mm512_dpwssd_epi32(acc, a, b);
  }
};

template <class Op>
struct Avx512Tile {
  static constexpr int kMr = 8;
  static constexpr int kWidth = 32;
  template <int R>
  static void run(const int16_t* a, int64_t lda, const int16_t* b, const int64_t* boff, int64_t kp,
                  int64_t* c, int64_t ldc) {
    for (int64_t k0 = 0; k0 < kp; k0 += kA16PairsPerBlock) {
      const int64_t k1 = kp - k0 < kA16PairsPerBlock ? kp : k0 + kA16PairsPerBlock;
      __m512i acc[R][2];
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r) acc[r][0] = acc[r][1] = _mm512_setzero_si512();
      for (int64_t k = k0; k < k1; ++k) {
        const int16_t* bk = b + 2 * boff[k];
        const __m512i b0 = _mm512_loadu_si512(bk), b1 = _mm512_loadu_si512(bk + 32);
#pragma GCC unroll 8
        for (int r = 0; r < R; ++r) {
          const __m512i av = bcast_pair(a + 2 * (r * lda + k));
          acc[r][0] = Op::dot(acc[r][0], av, b0);
          acc[r][1] = Op::dot(acc[r][1], av, b1);
        }
      }
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r) {
        widen_add(c + r * ldc, acc[r][0], k0 == 0);
        widen_add(c + r * ldc + 16, acc[r][1], k0 == 0);
      }
    }
  }
};

}  // namespace

void requant_ort_avx512(const int64_t* c, const int64_t* corr, int64_t cs, const float* m,
                        int64_t ms, bool acc32, float lo, float hi, int32_t z, int32_t* r,
                        int64_t n) {
  const __m256 lov = _mm256_set1_ps(lo), hiv = _mm256_set1_ps(hi);
  const __m256i zv = _mm256_set1_epi32(z);
  const __m512i corr0 = _mm512_set1_epi64(corr[0]);
  const __m256 m0 = _mm256_set1_ps(m[0]);
  for (int64_t j = 0; j < n; j += 8) {
    const int64_t left = n - j;
    const auto k = static_cast<__mmask8>(left >= 8 ? 0xFF : (1u << left) - 1u);
    __m512i a = _mm512_maskz_loadu_epi64(k, c + j);
    a = _mm512_add_epi64(a, cs == 0 ? corr0 : _mm512_maskz_loadu_epi64(k, corr + j));
    const __m256 f = acc32 ? _mm256_cvtepi32_ps(_mm512_cvtepi64_epi32(a)) : _mm512_cvtepi64_ps(a);
    __m256 v = _mm256_mul_ps(f, ms == 0 ? m0 : _mm256_maskz_loadu_ps(k, m + j));
    v = _mm256_min_ps(_mm256_max_ps(v, lov), hiv);
    v = _mm256_round_ps(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    _mm256_mask_storeu_epi32(r + j, k, _mm256_add_epi32(_mm256_cvtps_epi32(v), zv));
  }
}

void block_avx512(const int16_t* a, int64_t lda, int64_t rows, const int16_t* b,
                  const int64_t* boff, int64_t cols, int64_t kp, int64_t* c, int64_t ldc) {
  drive<Avx512Tile<Madd>>(a, lda, rows, b, boff, cols, kp, c, ldc);
}

void block_avx512vnni(const int16_t* a, int64_t lda, int64_t rows, const int16_t* b,
                      const int64_t* boff, int64_t cols, int64_t kp, int64_t* c, int64_t ldc) {
  drive<Avx512Tile<Vnni>>(a, lda, rows, b, boff, cols, kp, c, ldc);
}

}  // namespace ei8::kernels::a16
