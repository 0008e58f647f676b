// The AVX2 + FMA tier of the FP32 micro-kernels: the templates of f32_tiles.h over __m256,
// compiled with -mavx2 -mfma (this file only; see CMakeLists.txt). Called only when
// cpu_features().avx2 is true (the dispatcher in conv_f32.cpp / gemm_f32.cpp decides).
#include <immintrin.h>

#include <cstdint>

#include "ei8/runtime/kernels/eltwise_tiles.h"
#include "ei8/runtime/kernels/f32_tiles.h"
#include "ei8/runtime/kernels/f32_tiles_winograd.h"
#include "ei8/runtime/kernels/x86/f32_avx2_ops.h"

namespace ei8::kernels {

void conv2d_f32_direct_avx2(const DirectConvArgs& args) {
  tiles::conv_direct_dispatch<Avx2Ops>(args);
}

void conv2d_f32_winograd_avx2(const WinogradConvArgs& args) {
  tiles::winograd_dispatch<Avx2Ops, Avx2Ops>(args);
}

void gemm_f32_packed_avx2(const PackedGemmArgs& args) {
  tiles::gemm_packed_dispatch<Avx2Ops>(args);
}

void stage_padded_f32_avx2(const PaddedStage& s) { tiles::stage_padded<Avx2Ops>(s); }

void binary_f32_avx2(const BinaryArgs& args) { tiles::binary_dispatch<Avx2Ops>(args); }

namespace {

// dst[i] = x[i·stride + off] for i in [0, n), 0 where that index is outside [0, in_w). Whole
// 8-float stores: up to 7 floats past dst + n are written too (callers leave room and write
// what follows afterwards). Every lane whose input index lies outside [0, in_w) reads 0 through
// the mask (padding) and touches no memory, so the row runs as vectors, edges included.
[[gnu::always_inline]] inline void gather_row_avx2(const float* x, int64_t in_w, float* dst,
                                                   int64_t n, int64_t stride, int64_t off) {
  const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  const __m256i w = _mm256_set1_epi32(static_cast<int32_t>(in_w));
  const auto inside = [&](int64_t first) {  // lanes first + l in [0, in_w)
    const __m256i ix = _mm256_add_epi32(_mm256_set1_epi32(static_cast<int32_t>(first)), lane);
    return _mm256_andnot_si256(_mm256_cmpgt_epi32(_mm256_setzero_si256(), ix),
                               _mm256_cmpgt_epi32(w, ix));
  };
  // The address may lie before the row, so it is formed as an integer, not x + j.
  const auto at = [x](int64_t j) {
    return reinterpret_cast<const float*>(reinterpret_cast<uintptr_t>(x) +
                                          static_cast<uintptr_t>(j * 4));
  };
  int64_t i = 0;
  if (stride == 1) {
    for (; i < n; i += 8) {
      const int64_t s0 = i + off;
      _mm256_storeu_ps(dst + i, s0 >= 0 && s0 + 8 <= in_w ? _mm256_loadu_ps(x + s0)
                                                          : _mm256_maskload_ps(at(s0), inside(s0)));
    }
    return;
  }
  if (stride == 2) {  // the common stride: the 8 even floats of 16
    for (; i + 8 <= n; i += 8) {
      const int64_t s0 = 2 * i + off;
      __m256 a, b;
      if (s0 >= 0 && s0 + 16 <= in_w) {
        a = _mm256_loadu_ps(x + s0);
        b = _mm256_loadu_ps(x + s0 + 8);
      } else {
        a = _mm256_maskload_ps(at(s0), inside(s0));
        b = _mm256_maskload_ps(at(s0 + 8), inside(s0 + 8));
      }
      const __m256 even = _mm256_shuffle_ps(a, b, _MM_SHUFFLE(2, 0, 2, 0));  // a0 a2 b0 b2 ...
      _mm256_storeu_ps(dst + i, _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(even),
                                                                       _MM_SHUFFLE(3, 1, 2, 0))));
    }
  }
  for (; i < n; ++i) {
    const int64_t ix = i * stride + off;
    dst[i] = ix >= 0 && ix < in_w ? x[ix] : 0.0f;
  }
}

}  // namespace

void gather_f32_strided_avx2(const StridedGather& g) {
  tiles::stage_strided<Avx2Ops>(g, [&](const float* x, float* row) {
    for (int64_t t = 0; t < g.taps; ++t) {
      // Rows of n (a multiple of 8) floats: no store passes the row.
      gather_row_avx2(x, g.in_w, row + t * g.n, g.n, g.stride, g.off0 + t * g.tap_step);
    }
  });
}

void stage_im2col_f32_avx2(const Im2colStage& s) {
  tiles::stage_im2col<Avx2Ops>(s, [&s](const float* x, float* dst, int64_t off) {
    gather_row_avx2(x, s.in_w, dst, s.out_w, s.stride_w, off);
  });
}

}  // namespace ei8::kernels
