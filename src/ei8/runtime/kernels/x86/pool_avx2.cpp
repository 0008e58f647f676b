// The AVX2 pooling tier: the loops of pool_tiles.h compiled with -mavx2 (256-bit vectors across
// outputs), plus intrinsics for the most common windows, FP32 MaxPool 3-wide stride 2 (below)
// and MaxPool 2×2 stride 2 (and 1-D 2/2):
// two 256-bit loads per input row give 8 float or 32 byte outputs after an even/odd
// deinterleave; the maxima are taken in the reference's tap order (evens then odds, row 0
// then row 1) with vmaxps(x, m) = (x > m ? x : m), which is the reference's step m < x ? x : m
// including NaN (never wins) and ±0 (the first one stays).
#include <immintrin.h>

#include "ei8/runtime/kernels/pool_tiles.h"

namespace ei8::kernels {
namespace {

// The outputs' lane order after a 128-bit-lane-wise pack/shuffle of (lo, hi): 0 1 4 5 2 3 6 7
// in 64-bit units; vpermq 0xD8 restores 0..7.
constexpr int kFixLanes = 0xD8;

bool max_2x2s2_f32(const float* r0, int64_t rstride, int64_t nrows, int64_t n, float* y) {
  const __m256 ninf = _mm256_set1_ps(-std::numeric_limits<float>::infinity());
  int64_t j = 0;
  for (; j + 8 <= n; j += 8) {
    __m256 m = ninf;
    for (int64_t r = 0; r < nrows; ++r) {
      const float* p = r0 + r * rstride + 2 * j;
      const __m256 a = _mm256_loadu_ps(p), b = _mm256_loadu_ps(p + 8);
      m = _mm256_max_ps(_mm256_shuffle_ps(a, b, 0x88), m);  // even taps (kw = 0)
      m = _mm256_max_ps(_mm256_shuffle_ps(a, b, 0xDD), m);  // odd taps (kw = 1)
    }
    m = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(m), kFixLanes));
    _mm256_storeu_ps(y + j, m);
  }
  const MaxStep f;
  for (; j < n; ++j) {
    float m = -std::numeric_limits<float>::infinity();
    for (int64_t r = 0; r < nrows; ++r) {
      m = f(m, r0[r * rstride + 2 * j]);
      m = f(m, r0[r * rstride + 2 * j + 1]);
    }
    y[j] = m;
  }
  return true;
}

// MaxPool 3-wide stride-2 windows (ResNet's and SqueezeNet's 3×3/2), interior outputs: per
// row three loads of 8 even columns (taps 0 and 2 from the even columns of p and p + 2, tap 1
// from the odd columns of p), taken in the reference's order (row by row, taps left to right).
// r0 points at input column c0 = 2·j_lo − pad_left of the first interior output. Output j + 7
// reads up to column c0 + 2·j + 16 (inside the row: it is interior), the load of p + 10 one
// more: that lane is masked when it would pass the row. A last vector overlaps the previous
// one (the same values again) instead of a scalar tail.
bool max_3wide_s2_f32(const Pool2dParams& g, const float* r0, int64_t rstride, int64_t nrows,
                      int64_t n, float* y) {
  if (n < 8) return false;
  const int64_t c0 = (g.pad_left + 1) / 2 * 2 - g.pad_left;
  const __m256 ninf = _mm256_set1_ps(-std::numeric_limits<float>::infinity());
  const __m256i first7 = _mm256_setr_epi32(-1, -1, -1, -1, -1, -1, -1, 0);
  const auto vec = [&](int64_t j) {
    const bool room = c0 + 2 * j + 18 <= g.in_w;
    __m256 m = ninf;
    for (int64_t r = 0; r < nrows; ++r) {
      const float* p = r0 + r * rstride + 2 * j;
      const __m256 a = _mm256_loadu_ps(p), b = _mm256_loadu_ps(p + 8);
      const __m256 a2 = _mm256_loadu_ps(p + 2);
      const __m256 b2 = room ? _mm256_loadu_ps(p + 10) : _mm256_maskload_ps(p + 10, first7);
      m = _mm256_max_ps(_mm256_shuffle_ps(a, b, 0x88), m);    // kw = 0
      m = _mm256_max_ps(_mm256_shuffle_ps(a, b, 0xDD), m);    // kw = 1
      m = _mm256_max_ps(_mm256_shuffle_ps(a2, b2, 0x88), m);  // kw = 2
    }
    m = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(m), kFixLanes));
    _mm256_storeu_ps(y + j, m);
  };
  int64_t j = 0;
  for (; j + 8 <= n; j += 8) vec(j);
  if (j < n) vec(n - 8);
  return true;
}

template <class T>
bool max_2x2s2_bytes(const T* r0, int64_t rstride, int64_t nrows, int64_t n, T* y) {
  const __m256i lo_byte = _mm256_set1_epi16(0x00FF);
  auto vmax = [](__m256i a, __m256i b) {
    if constexpr (std::is_signed_v<T>) {
      return _mm256_max_epi8(a, b);
    } else {
      return _mm256_max_epu8(a, b);
    }
  };
  int64_t j = 0;
  for (; j + 32 <= n; j += 32) {
    __m256i m = _mm256_set1_epi8(static_cast<char>(std::numeric_limits<T>::min()));
    for (int64_t r = 0; r < nrows; ++r) {
      const T* p = r0 + r * rstride + 2 * j;
      const __m256i a = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
      const __m256i b = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 32));
      // Bytes as 16-bit 0..255 values: packus keeps them (the bit pattern of s8 too).
      const __m256i even =
          _mm256_packus_epi16(_mm256_and_si256(a, lo_byte), _mm256_and_si256(b, lo_byte));
      const __m256i odd = _mm256_packus_epi16(_mm256_srli_epi16(a, 8), _mm256_srli_epi16(b, 8));
      m = vmax(m, vmax(even, odd));
    }
    m = _mm256_permute4x64_epi64(m, kFixLanes);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(y + j), m);
  }
  for (; j < n; ++j) {
    T m = std::numeric_limits<T>::min();
    for (int64_t r = 0; r < nrows; ++r) {
      m = std::max({m, r0[r * rstride + 2 * j], r0[r * rstride + 2 * j + 1]});
    }
    y[j] = m;
  }
  return true;
}

// y[i] = max of x[2i], x[2i + 1] in the reference's order (pool_tiles.h pair_max_stream_loop).
void pair_max_stream_f32(const float* x, float* y, int64_t n) {
  const __m256 ninf = _mm256_set1_ps(-std::numeric_limits<float>::infinity());
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {  // two independent vectors per iteration
    const __m256 a0 = _mm256_loadu_ps(x + 2 * i), b0 = _mm256_loadu_ps(x + 2 * i + 8);
    const __m256 a1 = _mm256_loadu_ps(x + 2 * i + 16), b1 = _mm256_loadu_ps(x + 2 * i + 24);
    __m256 m0 = _mm256_max_ps(_mm256_shuffle_ps(a0, b0, 0x88), ninf);
    __m256 m1 = _mm256_max_ps(_mm256_shuffle_ps(a1, b1, 0x88), ninf);
    m0 = _mm256_max_ps(_mm256_shuffle_ps(a0, b0, 0xDD), m0);
    m1 = _mm256_max_ps(_mm256_shuffle_ps(a1, b1, 0xDD), m1);
    _mm256_storeu_ps(y + i,
                     _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(m0), kFixLanes)));
    _mm256_storeu_ps(y + i + 8,
                     _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(m1), kFixLanes)));
  }
  pair_max_stream_loop(x + 2 * i, y + i, n - i);
}

template <class T>
void pair_max_stream_bytes(const T* x, T* y, int64_t n) {
  const __m256i lo_byte = _mm256_set1_epi16(0x00FF);
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    const __m256i a = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x + 2 * i));
    const __m256i b = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x + 2 * i + 32));
    const __m256i even =
        _mm256_packus_epi16(_mm256_and_si256(a, lo_byte), _mm256_and_si256(b, lo_byte));
    const __m256i odd = _mm256_packus_epi16(_mm256_srli_epi16(a, 8), _mm256_srli_epi16(b, 8));
    __m256i m;
    if constexpr (std::is_signed_v<T>) {
      m = _mm256_max_epi8(even, odd);
    } else {
      m = _mm256_max_epu8(even, odd);
    }
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(y + i), _mm256_permute4x64_epi64(m, kFixLanes));
  }
  pair_max_stream_loop(x + 2 * i, y + i, n - i);
}

// y[j] = step(a[j], b[j]) = vmax(b, a) (a kept on ties and NaN). Rows of typical widths are
// short (4–16 outputs), so 256-, 128- and 64-bit steps before the scalar tail.
void combine_max_f32(const float* a, const float* b, float* y, int64_t n) {
  int64_t j = 0;
  for (; j + 8 <= n; j += 8) {
    _mm256_storeu_ps(y + j, _mm256_max_ps(_mm256_loadu_ps(b + j), _mm256_loadu_ps(a + j)));
  }
  if (j + 4 <= n) {
    _mm_storeu_ps(y + j, _mm_max_ps(_mm_loadu_ps(b + j), _mm_loadu_ps(a + j)));
    j += 4;
  }
  combine_max_loop(a + j, b + j, y + j, n - j);
}

template <class T>
void combine_max_bytes(const T* a, const T* b, T* y, int64_t n) {
  auto max128 = [](__m128i u, __m128i v) {
    if constexpr (std::is_signed_v<T>) {
      return _mm_max_epi8(u, v);
    } else {
      return _mm_max_epu8(u, v);
    }
  };
  int64_t j = 0;
  for (; j + 32 <= n; j += 32) {
    const __m256i u = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a + j));
    const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + j));
    const __m256i m = std::is_signed_v<T> ? _mm256_max_epi8(u, v) : _mm256_max_epu8(u, v);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(y + j), m);
  }
  if (j + 16 <= n) {
    const __m128i u = _mm_loadu_si128(reinterpret_cast<const __m128i*>(a + j));
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b + j));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(y + j), max128(u, v));
    j += 16;
  }
  if (j + 8 <= n) {
    const __m128i u = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(a + j));
    const __m128i v = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(b + j));
    _mm_storel_epi64(reinterpret_cast<__m128i*>(y + j), max128(u, v));
    j += 8;
  }
  combine_max_loop(a + j, b + j, y + j, n - j);
}

struct Avx2Hook {
  template <class T>
  static void combine_max(const T* a, const T* b, T* y, int64_t n) {
    if constexpr (std::is_same_v<T, float>) {
      combine_max_f32(a, b, y, n);
    } else {
      combine_max_bytes(a, b, y, n);
    }
  }
  template <class T>
  static void pair_max_stream(const T* x, T* y, int64_t n) {
    if constexpr (std::is_same_v<T, float>) {
      pair_max_stream_f32(x, y, n);
    } else {
      pair_max_stream_bytes(x, y, n);
    }
  }

  template <class T>
  static bool interior_max(const Pool2dParams& g, const T* r0, int64_t rstride, int64_t nrows,
                           int64_t n, T* y) {
    if constexpr (std::is_same_v<T, float>) {
      if (g.kernel_w == 3 && g.stride_w == 2 && g.dilation_w == 1) {
        return max_3wide_s2_f32(g, r0, rstride, nrows, n, y);
      }
    }
    if (g.kernel_w != 2 || g.stride_w != 2 || g.dilation_w != 1 || nrows > 2) return false;
    if constexpr (std::is_same_v<T, float>) {
      return max_2x2s2_f32(r0, rstride, nrows, n, y);
    } else {
      return max_2x2s2_bytes(r0, rstride, nrows, n, y);
    }
  }
};

}  // namespace

const PoolTierFns& pool_tier_avx2() {
  static const PoolTierFns fns = make_pool_tier<Avx2Hook>();
  return fns;
}

}  // namespace ei8::kernels
