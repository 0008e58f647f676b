// The AVX2 pooling tier: the loops of pool_tiles.h compiled with -mavx2 (256-bit vectors across
// outputs), plus intrinsics for the most common windows, FP32 MaxPool 3-wide stride 2 (below)
// and MaxPool 2×2 stride 2 (and 1-D 2/2):
// two 256-bit loads per input row give 8 float or 32 byte outputs after an even/odd
// deinterleave; the maxima are taken in the reference's tap order (evens then odds, row 0
// then row 1) with vmaxps(x, m) = (x > m ? x : m), which is the reference's step m < x ? x : m
// including NaN (never wins) and ±0 (the first one stays).
#include <immintrin.h>

#include <cstdint>
#include <type_traits>

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

// Lane-wise max of signed or unsigned bytes, as T says.
template <class T>
__m256i max_bytes(__m256i a, __m256i b) {
  if constexpr (std::is_signed_v<T>) {
    return _mm256_max_epi8(a, b);
  } else {
    return _mm256_max_epu8(a, b);
  }
}
template <class T>
__m128i max_bytes(__m128i a, __m128i b) {
  if constexpr (std::is_signed_v<T>) {
    return _mm_max_epi8(a, b);
  } else {
    return _mm_max_epu8(a, b);
  }
}

template <class T>
bool max_2x2s2_bytes(const T* r0, int64_t rstride, int64_t nrows, int64_t n, T* y) {
  const __m256i lo_byte = _mm256_set1_epi16(0x00FF);
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
      m = max_bytes<T>(m, max_bytes<T>(even, odd));
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
    const __m256i m = max_bytes<T>(even, odd);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(y + i), _mm256_permute4x64_epi64(m, kFixLanes));
  }
  pair_max_stream_loop(x + 2 * i, y + i, n - i);
}

// Byte rows of w = 4 or 8 outputs in pairs (pool_tiles.h combine_row_pairs): t holds rows
// [a_0 b_0 a_1 b_1 ...] of w bytes, y[i] = max(a_i, b_i) bytewise — 4-byte (8-byte) rows as
// 32-bit (64-bit) lanes, split into even and odd lanes, 8 (4) output rows per step. Integer max
// is exact in any order. TinyCNN2D's last 2×2/2 pool (8×8 → 4×4) was bound by one call per row.
template <class T>
bool combine_row_pairs_bytes(const T* t, T* y, int64_t rows, int64_t w) {
  if (w != 4 && w != 8) return false;
  auto ld = [](const T* p) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); };
  const int64_t per = 32 / w;  // output rows per step
  int64_t i = 0;
  for (; i + per <= rows; i += per) {
    const __m256i a = ld(t + 2 * i * w), b = ld(t + 2 * i * w + 32);
    __m256i even, odd;
    if (w == 4) {  // per 128-bit lane: [a0 a2 b0 b2] and [a1 a3 b1 b3] (32-bit rows)
      even = _mm256_castps_si256(
          _mm256_shuffle_ps(_mm256_castsi256_ps(a), _mm256_castsi256_ps(b), 0x88));
      odd = _mm256_castps_si256(
          _mm256_shuffle_ps(_mm256_castsi256_ps(a), _mm256_castsi256_ps(b), 0xDD));
    } else {  // per lane: [a0 b0] and [a1 b1] (64-bit rows)
      even = _mm256_unpacklo_epi64(a, b);
      odd = _mm256_unpackhi_epi64(a, b);
    }
    const __m256i m = _mm256_permute4x64_epi64(max_bytes<T>(even, odd), kFixLanes);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(y + i * w), m);
  }
  for (; i < rows; ++i) combine_max_loop(t + 2 * i * w, t + (2 * i + 1) * w, y + i * w, w);
  return true;
}

// y[j] = f[j·step] (pool_tiles.h sample_row) in whole 32-byte steps: step 1 a copy, step 2 the
// even bytes of 64 (as 16-bit values, packus keeps the bit pattern of s8 too). Reads f up to 64
// and writes y up to 31 bytes past n: max_pool_flat_bytes's slack.
template <class T>
void sample_row_bytes(const T* f, T* y, int64_t n, int64_t step) {
  auto ld = [](const T* p) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); };
  auto st = [](T* p, __m256i v) { _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), v); };
  if (step == 1) {
    for (int64_t j = 0; j < n; j += 32) st(y + j, ld(f + j));
    return;
  }
  const __m256i lo_byte = _mm256_set1_epi16(0x00FF);
  for (int64_t j = 0; j < n; j += 32) {
    const __m256i a = _mm256_and_si256(ld(f + 2 * j), lo_byte);
    const __m256i b = _mm256_and_si256(ld(f + 2 * j + 32), lo_byte);
    st(y + j, _mm256_permute4x64_epi64(_mm256_packus_epi16(a, b), kFixLanes));
  }
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
  int64_t j = 0;
  for (; j + 32 <= n; j += 32) {
    const __m256i u = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a + j));
    const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + j));
    const __m256i m = max_bytes<T>(u, v);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(y + j), m);
  }
  if (j + 16 <= n) {
    const __m128i u = _mm_loadu_si128(reinterpret_cast<const __m128i*>(a + j));
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b + j));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(y + j), max_bytes<T>(u, v));
    j += 16;
  }
  if (j + 8 <= n) {
    const __m128i u = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(a + j));
    const __m128i v = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(b + j));
    _mm_storel_epi64(reinterpret_cast<__m128i*>(y + j), max_bytes<T>(u, v));
    j += 8;
  }
  combine_max_loop(a + j, b + j, y + j, n - j);
}

// y[j] = max(a[j], m[j] ? b[j] : lowest) (pool_tiles.h masked_max_loop), 32 bytes a step:
// vpblendvb picks b where the mask byte is 0xFF, the type minimum elsewhere.
template <class T>
void masked_max_bytes(const T* a, const T* b, const uint8_t* m, T* y, int64_t n) {
  const __m256i lowest = _mm256_set1_epi8(static_cast<char>(std::numeric_limits<T>::min()));
  auto ld = [](const void* p) { return _mm256_loadu_si256(static_cast<const __m256i*>(p)); };
  int64_t j = 0;
  for (; j + 32 <= n; j += 32) {
    const __m256i v = _mm256_blendv_epi8(lowest, ld(b + j), ld(m + j));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(y + j), max_bytes<T>(ld(a + j), v));
  }
  masked_max_loop(a + j, b + j, m + j, y + j, n - j);
}

// MaxPool 3×3, stride 1, padding 1 on every side (GoogLeNet's inception pools: the output has
// the input's size), one plane as two flat streams, so no row is short: h[i] = the maxima of
// (left, centre, right) along the flattened plane, the left / right tap replaced by −inf in the
// first / last column (such a tap is padding, and the max step from −inf never takes −inf: the
// reference skipping it); then y[i] = the maxima of (h[i − W], h[i], h[i + W]) with −inf for the
// rows above the first / below the last. Per output that is the reference's taps split into the
// window's rows, each in order, combined in order: its result bit for bit (pool_tiles.h,
// max_pool_separable). `tmp` holds h (H·W floats). Column indices run as an int vector (W ≥ 4:
// two conditional subtractions keep it below W after each step of 8).
void max3x3s1p1_plane_f32(const float* x, float* y, int64_t hgt, int64_t wid, float* tmp) {
  const int64_t n = hgt * wid;
  const __m256 ninf = _mm256_set1_ps(-std::numeric_limits<float>::infinity());
  const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  const __m256i w = _mm256_set1_epi32(static_cast<int32_t>(wid));
  const __m256i last_col = _mm256_set1_epi32(static_cast<int32_t>(wid - 1));
  const __m256i zero = _mm256_setzero_si256();
  const auto inside = [&](int64_t first, int64_t end) {  // lanes first + l in [0, end)
    const __m256i ix = _mm256_add_epi32(_mm256_set1_epi32(static_cast<int32_t>(first)), lane);
    return _mm256_andnot_si256(
        _mm256_cmpgt_epi32(zero, ix),
        _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int32_t>(end)), ix));
  };
  const auto at = [](const float* p, int64_t j) {  // the address may lie before p
    return reinterpret_cast<const float*>(reinterpret_cast<uintptr_t>(p) +
                                          static_cast<uintptr_t>(j * 4));
  };
  const auto load = [&](const float* p, int64_t j, int64_t end) {  // p[j .. j + 8) ∩ [0, end)
    return j >= 0 && j + 8 <= end ? _mm256_loadu_ps(p + j)
                                  : _mm256_maskload_ps(at(p, j), inside(j, end));
  };
  const auto store = [&](float* p, int64_t j, __m256 v) {
    if (j + 8 <= n) {
      _mm256_storeu_ps(p + j, v);
    } else {
      _mm256_maskstore_ps(p + j, inside(j, n), v);
    }
  };
  __m256i col = lane;  // column of each lane's element
  while (true) {       // lanes past column W − 1 of row 0 (W < 8) wrap to the next rows
    const __m256i over = _mm256_cmpgt_epi32(col, last_col);
    if (_mm256_testz_si256(over, over)) break;
    col = _mm256_sub_epi32(col, _mm256_and_si256(over, w));
  }
  const __m256i eight = _mm256_set1_epi32(8);
  for (int64_t i = 0; i < n; i += 8) {
    const __m256 l = _mm256_blendv_ps(load(x, i - 1, n), ninf,
                                      _mm256_castsi256_ps(_mm256_cmpeq_epi32(col, zero)));
    const __m256 r = _mm256_blendv_ps(load(x, i + 1, n), ninf,
                                      _mm256_castsi256_ps(_mm256_cmpeq_epi32(col, last_col)));
    __m256 m = _mm256_max_ps(l, ninf);
    m = _mm256_max_ps(load(x, i, n), m);
    m = _mm256_max_ps(r, m);
    store(tmp, i, m);
    col = _mm256_add_epi32(col, eight);
    for (int k = 0; k < 2; ++k) {
      col = _mm256_sub_epi32(col, _mm256_and_si256(_mm256_cmpgt_epi32(col, last_col), w));
    }
  }
  for (int64_t i = 0; i < n; i += 8) {
    // up: h[i − W] for elements ≥ W (not in row 0); down: h[i + W] below the last row.
    const __m256 up =
        _mm256_blendv_ps(ninf, load(tmp, i - wid, n), _mm256_castsi256_ps(inside(i - wid, n)));
    const __m256 down =
        _mm256_blendv_ps(ninf, load(tmp, i + wid, n), _mm256_castsi256_ps(inside(i + wid, n)));
    __m256 m = _mm256_max_ps(up, ninf);
    m = _mm256_max_ps(load(tmp, i, n), m);
    m = _mm256_max_ps(down, m);
    store(y, i, m);
  }
}

// 3-wide, stride-2 windows (3×3/2 of ResNet-18 and SqueezeNet) on bytes, 32 (16, 8) interior
// outputs per step: per row the even, odd and next-even columns (loads at p and p + 2, unpacked
// like max_2x2s2_bytes), max over the window's rows. A step of w outputs from j reads up to
// byte 2j + 2w + 1, inside the row while j + w + 1 ≤ n (x[2(n − 1) + 2] is the last byte an
// interior output reads), so the steps cover outputs up to n − 2 — the last step overlaps the
// previous one (max is idempotent; integer max is exact in any order) — and output n − 1 is
// scalar.
template <class T>
bool max_3wide_s2_bytes(const T* r0, int64_t rstride, int64_t nrows, int64_t n, T* y) {
  auto step32 = [&](int64_t j) {
    const __m256i lo_byte = _mm256_set1_epi16(0x00FF);
    auto load = [](const T* q) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q)); };
    __m256i m = _mm256_set1_epi8(static_cast<char>(std::numeric_limits<T>::min()));
    for (int64_t r = 0; r < nrows; ++r) {
      const T* p = r0 + r * rstride + 2 * j;
      const __m256i a = load(p), b = load(p + 32), c = load(p + 2), d = load(p + 34);
      const __m256i even =
          _mm256_packus_epi16(_mm256_and_si256(a, lo_byte), _mm256_and_si256(b, lo_byte));
      const __m256i odd = _mm256_packus_epi16(_mm256_srli_epi16(a, 8), _mm256_srli_epi16(b, 8));
      const __m256i next =
          _mm256_packus_epi16(_mm256_and_si256(c, lo_byte), _mm256_and_si256(d, lo_byte));
      m = max_bytes<T>(m, max_bytes<T>(max_bytes<T>(even, odd), next));
    }
    m = _mm256_permute4x64_epi64(m, kFixLanes);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(y + j), m);
  };
  auto step16 = [&](int64_t j) {
    const __m128i lo_byte = _mm_set1_epi16(0x00FF);
    auto load = [](const T* q) { return _mm_loadu_si128(reinterpret_cast<const __m128i*>(q)); };
    __m128i m = _mm_set1_epi8(static_cast<char>(std::numeric_limits<T>::min()));
    for (int64_t r = 0; r < nrows; ++r) {
      const T* p = r0 + r * rstride + 2 * j;
      const __m128i a = load(p), b = load(p + 16), c = load(p + 2), d = load(p + 18);
      const __m128i even = _mm_packus_epi16(_mm_and_si128(a, lo_byte), _mm_and_si128(b, lo_byte));
      const __m128i odd = _mm_packus_epi16(_mm_srli_epi16(a, 8), _mm_srli_epi16(b, 8));
      const __m128i next = _mm_packus_epi16(_mm_and_si128(c, lo_byte), _mm_and_si128(d, lo_byte));
      m = max_bytes<T>(m, max_bytes<T>(max_bytes<T>(even, odd), next));
    }
    _mm_storeu_si128(reinterpret_cast<__m128i*>(y + j), m);
  };
  auto step8 = [&](int64_t j) {  // 8 outputs from 8-byte loads (the low halves)
    const __m128i lo_byte = _mm_set1_epi16(0x00FF);
    auto load = [](const T* q) { return _mm_loadl_epi64(reinterpret_cast<const __m128i*>(q)); };
    __m128i m = _mm_set1_epi8(static_cast<char>(std::numeric_limits<T>::min()));
    for (int64_t r = 0; r < nrows; ++r) {
      const T* p = r0 + r * rstride + 2 * j;
      const __m128i a = _mm_unpacklo_epi64(load(p), load(p + 8));
      const __m128i c = _mm_unpacklo_epi64(load(p + 2), load(p + 10));
      const __m128i even = _mm_packus_epi16(_mm_and_si128(a, lo_byte), lo_byte);
      const __m128i odd = _mm_packus_epi16(_mm_srli_epi16(a, 8), lo_byte);
      const __m128i next = _mm_packus_epi16(_mm_and_si128(c, lo_byte), lo_byte);
      m = max_bytes<T>(m, max_bytes<T>(max_bytes<T>(even, odd), next));
    }
    _mm_storel_epi64(reinterpret_cast<__m128i*>(y + j), m);
  };
  int64_t j = 0;
  if (n >= 33) {
    for (; j + 33 <= n; j += 32) step32(j);
    step32(n - 33);
    j = n - 1;
  } else if (n >= 17) {
    for (; j + 17 <= n; j += 16) step16(j);
    step16(n - 17);
    j = n - 1;
  } else if (n >= 9) {
    for (; j + 9 <= n; j += 8) step8(j);
    step8(n - 9);
    j = n - 1;
  }
  for (; j < n; ++j) {
    T m = std::numeric_limits<T>::min();
    for (int64_t r = 0; r < nrows; ++r) {
      const T* p = r0 + r * rstride + 2 * j;
      m = std::max({m, p[0], p[1], p[2]});
    }
    y[j] = m;
  }
  return true;
}

// sums[p] = Σ x over plane p of `spatial` bytes: vpsadbw against zero adds 8 bytes into each
// 64-bit lane (exact), 32 bytes per step, then 8, then single bytes. s8 planes are summed as
// x + 128 (x ^ 0x80, a u8) and 128·spatial subtracted (spatial < 2^23: every sum fits int32).
template <class T>
void plane_sums_bytes(const T* x, int64_t spatial, int64_t planes, int32_t* sums) {
  constexpr uint8_t kFlip = std::is_signed_v<T> ? 0x80 : 0x00;
  const __m256i flip = _mm256_set1_epi8(static_cast<char>(kFlip));
  // The low 8 bytes only: _mm_loadl_epi64 zeroes the upper ones, which must stay 0.
  const __m128i flip8 = _mm_cvtsi64_si128(static_cast<int64_t>(kFlip * 0x0101010101010101ull));
  const __m256i zero = _mm256_setzero_si256();
  const int64_t off = std::is_signed_v<T> ? 128 * spatial : 0;
  const auto* b = reinterpret_cast<const uint8_t*>(x);
  for (int64_t p = 0; p < planes; ++p) {
    const uint8_t* xp = b + p * spatial;
    __m256i acc = zero;
    int64_t i = 0;
    for (; i + 32 <= spatial; i += 32) {
      const __m256i v =
          _mm256_xor_si256(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(xp + i)), flip);
      acc = _mm256_add_epi64(acc, _mm256_sad_epu8(v, zero));
    }
    __m128i s = _mm_add_epi64(_mm256_castsi256_si128(acc), _mm256_extracti128_si256(acc, 1));
    for (; i + 8 <= spatial; i += 8) {
      const __m128i v =
          _mm_xor_si128(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(xp + i)), flip8);
      s = _mm_add_epi64(s, _mm_sad_epu8(v, _mm_setzero_si128()));
    }
    s = _mm_add_epi64(s, _mm_unpackhi_epi64(s, s));
    int64_t sum = _mm_cvtsi128_si64(s);
    for (; i < spatial; ++i) sum += xp[i] ^ kFlip;
    sums[p] = static_cast<int32_t>(sum - off);
  }
}

struct Avx2Hook {
  template <class T>
  static void plane_sums(const T* x, int64_t spatial, int64_t planes, int32_t* sums) {
    plane_sums_bytes(x, spatial, planes, sums);
  }
  static constexpr int64_t kPlane3x3 = 8192;  // floats of h on the stack
  template <class T>
  static bool max_plane_3x3s1p1(const Pool2dParams& g, int64_t batch, const T* x, T* y) {
    if constexpr (std::is_same_v<T, float>) {
      const int64_t n = g.in_h * g.in_w;
      if (g.kernel_h != 3 || g.kernel_w != 3 || g.stride_h != 1 || g.stride_w != 1 ||
          g.dilation_h != 1 || g.dilation_w != 1 || g.pad_top != 1 || g.pad_left != 1 ||
          g.pad_bottom != 1 || g.pad_right != 1 || g.out_h != g.in_h || g.out_w != g.in_w ||
          g.in_w < 4 || n > kPlane3x3) {
        return false;
      }
      float tmp[kPlane3x3];
      for (int64_t p = 0; p < batch * g.channels; ++p) {
        max3x3s1p1_plane_f32(x + p * n, y + p * n, g.in_h, g.in_w, tmp);
      }
      return true;
    }
    return false;
  }
  template <class T>
  static void masked_max(const T* a, const T* b, const uint8_t* m, T* y, int64_t n) {
    masked_max_bytes(a, b, m, y, n);
  }
  template <class T>
  static void combine_max(const T* a, const T* b, T* y, int64_t n) {
    if constexpr (std::is_same_v<T, float>) {
      combine_max_f32(a, b, y, n);
    } else {
      combine_max_bytes(a, b, y, n);
    }
  }
  template <class T>
  static void sample_row(const T* f, T* y, int64_t n, int64_t step) {
    sample_row_bytes(f, y, n, step);
  }
  template <class T>
  static bool combine_row_pairs(const T* t, T* y, int64_t rows, int64_t w) {
    if constexpr (std::is_same_v<T, float>) {
      return false;
    } else {
      return combine_row_pairs_bytes(t, y, rows, w);
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
    if (g.kernel_w == 3 && g.stride_w == 2 && g.dilation_w == 1) {
      if constexpr (std::is_same_v<T, float>) {
        return max_3wide_s2_f32(g, r0, rstride, nrows, n, y);
      } else {
        return max_3wide_s2_bytes(r0, rstride, nrows, n, y);
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
