// The portable tier of the A16W8 micro-kernel (a16_internal.h): plain C++ on int32 block sums
// (exact by the bound of conv_a16.h), widened to int64 after every block of K-pairs.
#include <algorithm>

#include "ei8/runtime/kernels/a16_internal.h"
#include "ei8/runtime/kernels/conv_a16.h"

namespace ei8::kernels::a16 {
namespace {

struct GenericTile {
  static constexpr int kMr = 4;
  static constexpr int kWidth = 16;
  template <int R>
  static void run(const int16_t* a, int64_t lda, const int16_t* b, const int64_t* boff, int64_t kp,
                  int64_t* c, int64_t ldc) {
    for (int64_t k0 = 0; k0 < kp; k0 += kA16PairsPerBlock) {
      const int64_t k1 = std::min(kp, k0 + kA16PairsPerBlock);
      int32_t acc[R][kWidth] = {};
      for (int64_t k = k0; k < k1; ++k) {
        const int16_t* bk = b + 2 * boff[k];
        for (int r = 0; r < R; ++r) {
          const int32_t a0 = a[2 * (r * lda + k)], a1 = a[2 * (r * lda + k) + 1];
          for (int j = 0; j < kWidth; ++j) acc[r][j] += a0 * bk[2 * j] + a1 * bk[2 * j + 1];
        }
      }
      for (int r = 0; r < R; ++r) {
        for (int j = 0; j < kWidth; ++j) {
          c[r * ldc + j] = (k0 == 0 ? 0 : c[r * ldc + j]) + acc[r][j];
        }
      }
    }
  }
};

}  // namespace

void block_generic(const int16_t* a, int64_t lda, int64_t rows, const int16_t* b,
                   const int64_t* boff, int64_t cols, int64_t kp, int64_t* c, int64_t ldc) {
  drive<GenericTile>(a, lda, rows, b, boff, cols, kp, c, ldc);
}

}  // namespace ei8::kernels::a16
