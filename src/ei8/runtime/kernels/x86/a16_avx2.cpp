// The AVX2 tier of the A16W8 micro-kernel (a16_internal.h): per K-pair, two loads of B (16
// columns of int16 pairs), one broadcast of A's pair per row and vpmaddwd (x0·w0 + x1·w1 per
// int32 lane) + vpaddd into 6 × 2 ymm accumulators; after every block of kA16PairsPerBlock pairs
// (exact in int32, conv_a16.h) the lanes are sign-extended (vpmovsxdq) and added to the int64
// sums of C. Built with -mavx2; the dispatcher calls block_avx2 only when cpu_features().avx2.
// No standard-library inline function is used here (their copies would carry AVX2 code).
#include <immintrin.h>

#include <cstring>

#include "ei8/runtime/kernels/a16_internal.h"
#include "ei8/runtime/kernels/conv_a16.h"

namespace ei8::kernels::a16 {
namespace {

inline __m256i bcast_pair(const int16_t* p) {
  int32_t v;
  std::memcpy(&v, p, sizeof v);
  return _mm256_set1_epi32(v);
}

// c[0..7] (+)= the 8 int32 lanes of v, sign-extended.
inline void widen_add(int64_t* c, __m256i v, bool first) {
  const __m256i lo = _mm256_cvtepi32_epi64(_mm256_castsi256_si128(v));
  const __m256i hi = _mm256_cvtepi32_epi64(_mm256_extracti128_si256(v, 1));
  auto* p = reinterpret_cast<__m256i*>(c);
  if (first) {
    _mm256_storeu_si256(p, lo);
    _mm256_storeu_si256(p + 1, hi);
  } else {
    _mm256_storeu_si256(p, _mm256_add_epi64(_mm256_loadu_si256(p), lo));
    _mm256_storeu_si256(p + 1, _mm256_add_epi64(_mm256_loadu_si256(p + 1), hi));
  }
}

struct Avx2Tile {
  static constexpr int kMr = 6;
  static constexpr int kWidth = 16;
  template <int R>
  static void run(const int16_t* a, int64_t lda, const int16_t* b, const int64_t* boff, int64_t kp,
                  int64_t* c, int64_t ldc) {
    for (int64_t k0 = 0; k0 < kp; k0 += kA16PairsPerBlock) {
      const int64_t k1 = kp - k0 < kA16PairsPerBlock ? kp : k0 + kA16PairsPerBlock;
      __m256i acc[R][2];
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r) acc[r][0] = acc[r][1] = _mm256_setzero_si256();
      for (int64_t k = k0; k < k1; ++k) {
        const auto* bk = reinterpret_cast<const __m256i*>(b + 2 * boff[k]);
        const __m256i b0 = _mm256_loadu_si256(bk), b1 = _mm256_loadu_si256(bk + 1);
#pragma GCC unroll 8
        for (int r = 0; r < R; ++r) {
          const __m256i av = bcast_pair(a + 2 * (r * lda + k));
          acc[r][0] = _mm256_add_epi32(acc[r][0], _mm256_madd_epi16(av, b0));
          acc[r][1] = _mm256_add_epi32(acc[r][1], _mm256_madd_epi16(av, b1));
        }
      }
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r) {
        widen_add(c + r * ldc, acc[r][0], k0 == 0);
        widen_add(c + r * ldc + 8, acc[r][1], k0 == 0);
      }
    }
  }
};

}  // namespace

void block_avx2(const int16_t* a, int64_t lda, int64_t rows, const int16_t* b, const int64_t* boff,
                int64_t cols, int64_t kp, int64_t* c, int64_t ldc) {
  drive<Avx2Tile>(a, lda, rows, b, boff, cols, kp, c, ldc);
}

}  // namespace ei8::kernels::a16
