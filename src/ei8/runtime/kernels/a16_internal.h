// ei8/runtime/kernels/a16_internal.h — internal: the A16W8 micro-kernel interface shared by the
// dispatcher (conv_a16.cpp) and the tier translation units (generic/, x86/). See conv_a16.h for
// the algorithm and the int32 block bound.
#pragma once

#include <cstdint>

namespace ei8::kernels::a16 {

// Columns every tier's B panel is padded to (the widest tile: 2 zmm of int32 lanes).
inline constexpr int64_t kColAlign = 32;

// C[r·ldc + j] = Σ_{k < kp} a[r][k] · b[k][j] (exact, int64) for r < rows, j < cols, where
// a[r][k] is the int16 pair at a + 2·(r·lda + k) and b[k][j] the pair at b + 2·(boff[k] + j)
// (row k of B starts boff[k] pairs after b: k·ldb for a packed panel, a tap's offset in a padded
// image for the direct plan), the product of two pairs being x0·w0 + x1·w1. The values of b fit
// |b| ≤ 32768 and those of a |a| ≤ 255, or the reverse (the block bound of conv_a16.h). cols: a
// multiple of the tier's tile width (≤ kColAlign), every b[k][j < cols] readable; C is
// overwritten.
using BlockFn = void (*)(const int16_t* a, int64_t lda, int64_t rows, const int16_t* b,
                         const int64_t* boff, int64_t cols, int64_t kp, int64_t* c, int64_t ldc);

void block_generic(const int16_t* a, int64_t lda, int64_t rows, const int16_t* b,
                   const int64_t* boff, int64_t cols, int64_t kp, int64_t* c, int64_t ldc);
// Compiled with AVX2 / AVX-512 code: call only when cpu_features() allows.
void block_avx2(const int16_t* a, int64_t lda, int64_t rows, const int16_t* b, const int64_t* boff,
                int64_t cols, int64_t kp, int64_t* c, int64_t ldc);
void block_avx512(const int16_t* a, int64_t lda, int64_t rows, const int16_t* b,
                  const int64_t* boff, int64_t cols, int64_t kp, int64_t* c, int64_t ldc);
void block_avx512vnni(const int16_t* a, int64_t lda, int64_t rows, const int16_t* b,
                      const int64_t* boff, int64_t cols, int64_t kp, int64_t* c, int64_t ldc);

// The `ort` requantization of n ≤ 256 int64 sums (requantize_ort64, or requantize_ort of the
// int32-truncated sum when acc32): r[j] = round_half_even(clamp(float(c[j] + corr[j·cs])·
// m[j·ms], lo, hi)) + z, cs and ms 0 or 1 — the scalar epilogue's operations bit for bit, 8 lanes
// at a time (vcvtqq2ps / vpmovqd + vcvtdq2ps, vmulps, vmaxps/vminps, vroundps, vcvtps2dq).
using RequantOrtFn = void (*)(const int64_t* c, const int64_t* corr, int64_t cs, const float* m,
                              int64_t ms, bool acc32, float lo, float hi, int32_t z, int32_t* r,
                              int64_t n);
void requant_ort_avx512(const int64_t* c, const int64_t* corr, int64_t cs, const float* m,
                        int64_t ms, bool acc32, float lo, float hi, int32_t z, int32_t* r,
                        int64_t n);

}  // namespace ei8::kernels::a16

namespace ei8::kernels::a16 {

// The loop nest of every tier: column tiles of Tile::kWidth, row blocks of Tile::kMr (the last
// one shorter: Tile::run<R> for R < kMr). Tile types live in their tier's anonymous namespace, so
// each translation unit instantiates its own copy with its own ISA.
template <class Tile, int R>
inline void run_rows(const int16_t* a, int64_t lda, const int16_t* b, const int64_t* boff,
                     int64_t kp, int64_t* c, int64_t ldc, int rows) {
  if constexpr (R > 0) {
    if (rows == R) {
      Tile::template run<R>(a, lda, b, boff, kp, c, ldc);
    } else {
      run_rows<Tile, R - 1>(a, lda, b, boff, kp, c, ldc, rows);
    }
  }
}

template <class Tile>
inline void drive(const int16_t* a, int64_t lda, int64_t rows, const int16_t* b,
                  const int64_t* boff, int64_t cols, int64_t kp, int64_t* c, int64_t ldc) {
  for (int64_t j0 = 0; j0 < cols; j0 += Tile::kWidth) {
    for (int64_t r0 = 0; r0 < rows; r0 += Tile::kMr) {
      const int r = static_cast<int>(rows - r0 < Tile::kMr ? rows - r0 : Tile::kMr);
      run_rows<Tile, Tile::kMr>(a + 2 * r0 * lda, lda, b + 2 * j0, boff, kp, c + r0 * ldc + j0, ldc,
                                r);
    }
  }
}

}  // namespace ei8::kernels::a16
