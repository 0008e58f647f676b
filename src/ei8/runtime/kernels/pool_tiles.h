// ei8/runtime/kernels/pool_tiles.h — internal to ei8_kernels: the pooling loops every non-ref
// tier compiles (generic/pool_generic.cpp with no ISA flags, x86/pool_avx2.cpp with -mavx2), all
// with internal linkage so no AVX2 code can leak into the portable tier.
//
// The reduction of one output is the reference's: an accumulator `a` started at `init`, then
// a = f(a, x) for the window's in-bounds taps, rows ascending, columns ascending. Only the
// evaluation across outputs changes: the interior outputs of a row (window inside the input in
// width) are kept in a chunk of accumulators and every tap updates the whole chunk, a loop the
// compiler vectorises across outputs; the per-output sequence is untouched, hence bit-exact.
// `Hook::interior_max` lets a tier take over the interior of a max-pool row (AVX2 2×2/2),
// `Hook::max_plane_3x3s1p1` a whole 3×3/1 pad-1 max pool (AVX2: flat plane streams).
#pragma once

#include <algorithm>
#include <cstdint>
#include <limits>
#include <type_traits>

#include "ei8/fixedpoint/rounding.h"
#include "ei8/runtime/kernels/pool_internal.h"

namespace ei8::kernels {
namespace {

constexpr int64_t kPoolChunk = 64;  // interior outputs per accumulator chunk (on the stack)

template <class T>
constexpr T lowest_value() {
  if constexpr (std::is_floating_point_v<T>) {
    return -std::numeric_limits<T>::infinity();
  } else {
    return std::numeric_limits<T>::min();
  }
}

// The reference's max step: keep `a` unless x is strictly greater (a NaN x never wins).
struct MaxStep {
  template <class A>
  A operator()(A a, A x) const {
    return a < x ? x : a;
  }
};
struct SumStep {
  template <class A>
  A operator()(A a, A x) const {
    return a + x;
  }
};

// acc[j] = f(… f(acc[j], row[j·S]) …, row[j·S + KW − 1]) for j < n.
template <int KW, int S, class A, class T, class F>
inline void row_fixed(const T* __restrict row, A* __restrict acc, int64_t n, F f) {
  for (int64_t j = 0; j < n; ++j) {
    A v = acc[j];
    for (int k = 0; k < KW; ++k) v = f(v, static_cast<A>(row[j * S + k]));
    acc[j] = v;
  }
}

// Any kernel width / stride / dilation; taps (k) outer keeps each output's order.
template <class A, class T, class F>
inline void row_any(const T* __restrict row, A* __restrict acc, int64_t n, int64_t kw, int64_t s,
                    int64_t d, F f) {
  if (n == 1) {  // one output (global pools): a plain reduction
    A v = acc[0];
    for (int64_t k = 0; k < kw; ++k) v = f(v, static_cast<A>(row[k * d]));
    acc[0] = v;
    return;
  }
  for (int64_t k = 0; k < kw; ++k) {
    const T* r = row + k * d;
    for (int64_t j = 0; j < n; ++j) acc[j] = f(acc[j], static_cast<A>(r[j * s]));
  }
}

template <class A, class T, class F>
inline void row_update(const T* row, A* acc, int64_t n, int64_t kw, int64_t s, int64_t d, F f) {
  if (kw == 1 || d == 1) {
    const int64_t key = std::min<int64_t>(kw, 4) * 4 + std::min<int64_t>(s, 3);
    switch (key) {
      case 1 * 4 + 1:
        return row_fixed<1, 1>(row, acc, n, f);
      case 1 * 4 + 2:
        return row_fixed<1, 2>(row, acc, n, f);
      case 2 * 4 + 1:
        return row_fixed<2, 1>(row, acc, n, f);
      case 2 * 4 + 2:
        return row_fixed<2, 2>(row, acc, n, f);
      case 3 * 4 + 1:
        return row_fixed<3, 1>(row, acc, n, f);
      case 3 * 4 + 2:
        return row_fixed<3, 2>(row, acc, n, f);
      default:
        break;
    }
  }
  row_any(row, acc, n, kw, s, d, f);
}

// Ceil of a / b for b > 0, any sign of a.
inline int64_t ceil_div(int64_t a, int64_t b) { return a >= 0 ? (a + b - 1) / b : -((-a) / b); }
inline int64_t floor_div(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

// y[i] = step(step(lowest, x[2i]), x[2i + 1]) for i < n: the max of consecutive pairs of a
// contiguous stream, each in the reference's order.
template <class T>
inline void pair_max_stream_loop(const T* __restrict x, T* __restrict y, int64_t n) {
  const MaxStep f;
  for (int64_t i = 0; i < n; ++i) y[i] = f(f(lowest_value<T>(), x[2 * i]), x[2 * i + 1]);
}

// y[j] = step(a[j], b[j]) for j < n (a: the earlier taps of each output, b: the later ones);
// y may be a (each element is read before it is written).
template <class T>
inline void combine_max_loop(const T* a, const T* b, T* y, int64_t n) {
  const MaxStep f;
  for (int64_t j = 0; j < n; ++j) y[j] = f(a[j], b[j]);
}

// y[j] = max(a[j], m[j] ? b[j] : lowest) for j < n (m: 0x00 or 0xFF; y may be a): a byte max
// with the taps that fall outside the input (m = 0) replaced by the type minimum, which never
// wins. As bit operations on the bytes (vectorisable on any ISA).
template <class T>
inline void masked_max_loop(const T* a, const T* __restrict b, const uint8_t* __restrict m, T* y,
                            int64_t n) {
  constexpr auto lowest_bits = static_cast<uint8_t>(lowest_value<T>());
  for (int64_t j = 0; j < n; ++j) {
    const auto bits =
        static_cast<uint8_t>((static_cast<uint8_t>(b[j]) & m[j]) | (lowest_bits & ~m[j]));
    const auto v = static_cast<T>(bits);
    y[j] = a[j] < v ? v : a[j];
  }
}

struct NoHook {
  template <class T>
  static void masked_max(const T* a, const T* b, const uint8_t* m, T* y, int64_t n) {
    masked_max_loop(a, b, m, y, n);
  }
  template <class T>
  static bool max_plane_3x3s1p1(const Pool2dParams&, int64_t, const T*, T*) {
    return false;
  }
  template <class T>
  static bool interior_max(const Pool2dParams&, const T*, int64_t, int64_t, int64_t, T*) {
    return false;
  }
  template <class T>
  static void pair_max_stream(const T* x, T* y, int64_t n) {
    pair_max_stream_loop(x, y, n);
  }
  template <class T>
  static void combine_max(const T* a, const T* b, T* y, int64_t n) {
    combine_max_loop(a, b, y, n);
  }
  // y[j] = f[j·step] for j < n (step 1 or 2; bytes). A tier may read f up to 64 bytes and write
  // y up to 32 bytes past the ends (max_pool_flat_bytes leaves that slack).
  template <class T>
  static void sample_row(const T* f, T* y, int64_t n, int64_t step) {
    for (int64_t j = 0; j < n; ++j) y[j] = f[j * step];
  }
  // y[i·w + j] = step(t[2i·w + j], t[(2i + 1)·w + j]) for i < rows, j < w in one pass (rows too
  // short for a combine_max call each); false: not handled, the caller loops.
  template <class T>
  static bool combine_row_pairs(const T*, T*, int64_t, int64_t) {
    return false;
  }
  // sums[p] = Σ_i x[p·spatial + i] for p < planes (bytes; spatial < 2^23, so int32 is exact).
  template <class T>
  static void plane_sums(const T* x, int64_t spatial, int64_t planes, int32_t* sums) {
    for (int64_t p = 0; p < planes; ++p) {
      const T* __restrict xp = x + p * spatial;
      int32_t sum = 0;
      for (int64_t i = 0; i < spatial; ++i) sum += xp[i];
      sums[p] = sum;
    }
  }
};

// MaxPool whose 2-wide, stride-2 windows tile every row exactly (in_w = 2·out_w; no padding,
// no dilation) with kernel_h = stride_h = 1 or 2 — the 2×2/2 pools of most CNNs and the 1-D
// 2/2 pools. The rows a plane's outputs read are contiguous, and so are the planes when no
// input row is left over, so the work becomes streams instead of short rows:
//   kernel_h 1: the output is the pair maxima of the whole input (one stream);
//   kernel_h 2: stage 1 takes the pair maxima of a block of row pairs into a stack buffer
//   (row 2·oh's maxima then row 2·oh + 1's), stage 2 combines the two halves of each pair.
// Per output that is the reference's tap sequence split into two in-order halves; the max step
// returns the first maximal tap of a sequence, so combining the halves' results left to right
// gives the reference's result bit for bit (NaN never wins, the earlier of ±0 stays).
template <class Hook, class T>
bool max_pool_pairs(const Pool2dParams& g, int64_t batch, const T* x, T* y) {
  constexpr int64_t kTmp = 4096;
  const int64_t kh = g.kernel_h;
  if (g.kernel_w != 2 || g.stride_w != 2 || g.dilation_w != 1 || g.in_w != 2 * g.out_w ||
      g.in_w > kTmp || kh != g.stride_h || kh > 2 || (kh == 2 && g.dilation_h != 1) ||
      g.pad_top != 0 || g.pad_left != 0 || g.pad_bottom != 0 || g.pad_right != 0 ||
      g.out_h * kh > g.in_h) {
    return false;
  }
  const int64_t plane_in = g.in_h * g.in_w, plane_out = g.out_h * g.out_w;
  const bool contiguous = g.out_h * kh == g.in_h;  // no row left over: planes follow each other
  const int64_t planes = batch * g.channels;
  const int64_t sweeps = contiguous ? 1 : planes;
  const int64_t rows = contiguous ? planes * g.out_h : g.out_h;  // output rows per sweep
  if (kh == 1) {
    for (int64_t s = 0; s < sweeps; ++s) {
      Hook::pair_max_stream(x + s * plane_in, y + s * plane_out, rows * g.out_w);
    }
    return true;
  }
  T tmp[kTmp];
  const int64_t group = kTmp / g.in_w;  // output rows per stage-1 call
  for (int64_t s = 0; s < sweeps; ++s) {
    const T* xs = x + s * plane_in;
    T* ys = y + s * plane_out;
    for (int64_t r0 = 0; r0 < rows; r0 += group) {
      const int64_t n = std::min(group, rows - r0);
      Hook::pair_max_stream(xs + r0 * 2 * g.in_w, tmp, n * g.in_w);
      if (Hook::combine_row_pairs(tmp, ys + r0 * g.out_w, n, g.out_w)) continue;
      for (int64_t i = 0; i < n; ++i) {
        Hook::combine_max(tmp + i * g.in_w, tmp + i * g.in_w + g.out_w, ys + (r0 + i) * g.out_w,
                          g.out_w);
      }
    }
  }
  return true;
}

// One op over all batch·channels planes. A: accumulator type; init: its start value; f: the
// step; finish(acc, n, inside, counted, y): writes n outputs from n accumulators, `inside` =
// taps in the input, `counted` = taps inside the padded input (count_include_pad's divisor).
// Dilation applies to the max pools only (the average references ignore it).
template <bool kIsMax, class Hook, class A, class T, class F, class Finish>
void pool_planes(const Pool2dParams& g, int64_t batch, const T* x, T* y, A init, F f,
                 Finish finish) {
  const int64_t kh = g.kernel_h, kw = g.kernel_w, sh = g.stride_h, sw = g.stride_w;
  const int64_t dh = kIsMax ? g.dilation_h : 1, dw = kIsMax ? g.dilation_w : 1;
  // Interior output columns: w0 = ow·sw − pad_left ≥ 0 and w0 + (kw − 1)·dw ≤ in_w − 1.
  const int64_t last_w0 = g.in_w - 1 - (kw - 1) * dw;
  int64_t j_lo = std::min(ceil_div(g.pad_left, sw), g.out_w);
  int64_t j_hi =
      last_w0 < -g.pad_left ? 0 : std::min(floor_div(last_w0 + g.pad_left, sw) + 1, g.out_w);
  if (j_hi < j_lo) j_hi = j_lo;
  A acc[kPoolChunk];
  // Stride-2 windows wider than 2 (3×3/2, 5×5/2, ...): deinterleaved rows (below).
  constexpr int64_t kMaxDeinterleavedWidth = 9;
  // (Floats only: for bytes the rows of typical widths are shorter than one vector, and the
  // extra copies measured slower.)
  const bool deinterleave =
      std::is_same_v<T, float> && sw == 2 && dw == 1 && kw >= 3 && kw <= kMaxDeinterleavedWidth;
  T even[kPoolChunk + kMaxDeinterleavedWidth / 2], odd[kPoolChunk + kMaxDeinterleavedWidth / 2];
  for (int64_t plane = 0; plane < batch * g.channels; ++plane) {
    const T* xp = x + plane * g.in_h * g.in_w;
    T* yp = y + plane * g.out_h * g.out_w;
    for (int64_t oh = 0; oh < g.out_h; ++oh, yp += g.out_w) {
      const int64_t h0 = oh * sh - g.pad_top;
      int64_t r_lo = 0, r_hi = kh;  // kernel rows inside [0, in_h)
      while (r_lo < r_hi && h0 + r_lo * dh < 0) ++r_lo;
      while (r_hi > r_lo && h0 + (r_hi - 1) * dh >= g.in_h) --r_hi;
      const int64_t nrows = r_hi - r_lo;
      // Rows of the window inside the padded input (average pools, dilation 1).
      const int64_t count_h =
          std::min(h0 + kh, g.in_h + g.pad_bottom) - std::max<int64_t>(h0, -g.pad_top);
      const T* row0 = nrows > 0 ? xp + (h0 + r_lo * dh) * g.in_w : xp;
      const int64_t rstride = dh * g.in_w;
      auto border = [&](int64_t ow) {
        const int64_t w0 = ow * sw - g.pad_left;
        int64_t k_lo = 0, k_hi = kw;
        while (k_lo < k_hi && w0 + k_lo * dw < 0) ++k_lo;
        while (k_hi > k_lo && w0 + (k_hi - 1) * dw >= g.in_w) --k_hi;
        A a = init;
        for (int64_t r = 0; r < nrows; ++r) {
          for (int64_t k = k_lo; k < k_hi; ++k) {
            a = f(a, static_cast<A>(row0[r * rstride + w0 + k * dw]));
          }
        }
        const int64_t count_w =
            std::min(w0 + kw, g.in_w + g.pad_right) - std::max<int64_t>(w0, -g.pad_left);
        finish(&a, 1, nrows * (k_hi - k_lo), count_h * count_w, yp + ow);
      };
      for (int64_t ow = 0; ow < j_lo; ++ow) border(ow);
      int64_t j = j_lo;
      if constexpr (kIsMax) {
        if (nrows > 0 && j_hi > j &&
            Hook::interior_max(g, row0 + (j * sw - g.pad_left), rstride, nrows, j_hi - j, yp + j)) {
          j = j_hi;
        }
      }
      for (; j < j_hi; j += kPoolChunk) {
        const int64_t n = std::min(kPoolChunk, j_hi - j);
        for (int64_t i = 0; i < n; ++i) acc[i] = init;
        for (int64_t r = 0; r < nrows; ++r) {
          const T* src = row0 + r * rstride + (j * sw - g.pad_left);
          if (deinterleave) {
            // Stride 2: the row's even and odd columns once, then every tap is a contiguous
            // run (tap k reads evens or odds from k / 2 on); taps still in order per output.
            for (int64_t i = 0; i < n + (kw - 1) / 2; ++i) even[i] = src[2 * i];
            for (int64_t i = 0; i < n + (kw - 2) / 2; ++i) odd[i] = src[2 * i + 1];
            for (int64_t k = 0; k < kw; ++k) {
              const T* t = ((k & 1) != 0 ? odd : even) + k / 2;
              for (int64_t i = 0; i < n; ++i) acc[i] = f(acc[i], static_cast<A>(t[i]));
            }
          } else {
            row_update(src, acc, n, kw, sw, dw, f);
          }
        }
        finish(acc, n, nrows * kw, count_h * kw, yp + j);
      }
      for (int64_t ow = j_hi; ow < g.out_w; ++ow) border(ow);
    }
  }
}

// FP32 MaxPool with stride_w 1 and dilation 1 (GoogLeNet's 3×3/1 ceil-mode inception pools),
// separably, per plane: a row pass takes every input row's horizontal window maxima h[ih][ow]
// (the taps of row ih, left to right), a column pass combines the kernel_h rows of each output,
// top to bottom. Taps outside the input are −inf in both passes: the max step from −inf never
// takes a −inf tap, so they change nothing, exactly as the reference skipping them (a window
// with no tap in the input stays −inf, as there). Per output this is the reference's tap
// sequence (rows ascending, columns ascending) split into its rows, each reduced in order and
// the results combined in order; the step returns the first maximal tap (NaN never wins, the
// earlier of ±0 stays), so the result is the reference's bit for bit. Each input row's h is
// computed once (a ring of kernel_h rows); every pass is a whole-row Hook::combine_max, with no
// per-output border code. (Stride 2 keeps pool_planes: its even/odd split per row measured
// 2× slower than the AVX2 3-wide stride-2 interior path.)
template <class Hook, class T>
bool max_pool_separable(const Pool2dParams& g, int64_t batch, const T* x, T* y) {
  constexpr int64_t kRow = 4096, kRing = 8192, kMaxKh = 16;
  const int64_t kh = g.kernel_h, kw = g.kernel_w, sh = g.stride_h;
  const int64_t plen = g.out_w - 1 + kw;  // the padded row: columns −pad_left .. plen − 1
  if (!std::is_same_v<T, float> || g.dilation_h != 1 || g.dilation_w != 1 || g.stride_w != 1 ||
      kh > kMaxKh || plen > kRow || kh * g.out_w > kRing) {
    return false;
  }
  const T ninf = lowest_value<T>();
  T prow[kRow], ring[kRing];
  for (int64_t plane = 0; plane < batch * g.channels; ++plane) {
    const T* xp = x + plane * g.in_h * g.in_w;
    T* yp = y + plane * g.out_h * g.out_w;
    // Row pass for input row ih into ring slot ih % kh.
    const auto row_pass = [&](int64_t ih) {
      const T* xr = xp + ih * g.in_w;
      const int64_t lo = std::min(g.pad_left, plen), hi = std::min(plen, g.pad_left + g.in_w);
      for (int64_t j = 0; j < lo; ++j) prow[j] = ninf;
      std::copy(xr, xr + (hi - lo), prow + lo);
      for (int64_t j = std::max(lo, hi); j < plen; ++j) prow[j] = ninf;
      T* h = ring + (ih % kh) * g.out_w;
      std::fill(h, h + g.out_w, ninf);
      for (int64_t k = 0; k < kw; ++k) Hook::combine_max(h, prow + k, h, g.out_w);
    };
    int64_t next = 0;  // the next input row whose row pass has not run
    for (int64_t oh = 0; oh < g.out_h; ++oh) {
      const int64_t r0 = std::max<int64_t>(oh * sh - g.pad_top, 0);
      const int64_t r1 = std::min(oh * sh - g.pad_top + kh, g.in_h);  // rows [r0, r1)
      T* out = yp + oh * g.out_w;
      std::fill(out, out + g.out_w, ninf);
      next = std::max(next, r0);  // rows no window reads (stride_h > kernel_h) are skipped
      for (; next < r1; ++next) row_pass(next);
      for (int64_t r = r0; r < r1; ++r)
        Hook::combine_max(out, ring + (r % kh) * g.out_w, out, g.out_w);
    }
  }
  return true;
}

// u8/s8 MaxPool, dilation 1, pads below the kernel, every window's first-tap-past-the-padding
// (tap k = pad_left, r = pad_top: input position (stride_h·oh, stride_w·ow)) inside the input:
// GoogLeNet's 3×3/1 pad-1 inception pools and its 3×3/2 and 2×2/2 ceil_mode pools. Separably,
// over chunks of whole planes as one flat stream each, so no row and no plane is short
// (GoogLeNet's planes are 56, 28, 14 and 7 wide; per-row or per-plane loops were bound by their
// tails and borders):
//   row pass     h[i] = max over taps k of x[i + k − pad_left], a tap counted only where its
//                column c + k − pad_left lies in [0, W);
//   column pass  f[i] = max over taps r of h[i + (r − pad_top)·W], a tap counted only where its
//                row (within the plane) plus r − pad_top lies in [0, H);
// so f at input position (ih, iw) is the maximum of the window whose anchor tap is (ih, iw);
// output (oh, ow) = f at (stride_h·oh, stride_w·ow): with stride 1 and the input's size f is y,
// else rows of f are sampled (Hook::sample_row) into a buffer copied to y once per chunk.
// Which taps count is a byte mask per tap (0xFF / 0x00), built once per call for one chunk (the
// pattern repeats with every plane); the anchor tap always counts and starts the maximum. A
// tap's flat index leaves the chunk only where its mask is 0. Integer max is exact in any order
// and no window is empty (the reference's code-0 case cannot arise): the reference's result bit
// for bit.
template <class Hook, class T>
bool max_pool_flat_bytes(const Pool2dParams& g, int64_t batch, const T* x, T* y) {
  constexpr int64_t kChunk = 4096, kMaxK = 5, kSlack = 64;
  if constexpr (std::is_floating_point_v<T>) {
    return false;
  } else {
    const int64_t kh = g.kernel_h, kw = g.kernel_w, hgt = g.in_h, wid = g.in_w;
    const int64_t sh = g.stride_h, sw = g.stride_w;
    const int64_t n = hgt * wid, n_out = g.out_h * g.out_w;
    if (g.dilation_h != 1 || g.dilation_w != 1 || kw > kMaxK || kh > kMaxK || sw > 2 ||
        g.pad_left >= kw || g.pad_top >= kh || sh * (g.out_h - 1) > hgt - 1 ||
        sw * (g.out_w - 1) > wid - 1 || n > kChunk) {
      return false;
    }
    const bool direct = sh == 1 && sw == 1 && g.out_h == hgt && g.out_w == wid;
    const int64_t planes = batch * g.channels;
    const int64_t per_chunk = std::min(kChunk / n, planes);
    const int64_t len = per_chunk * n;
    // mask[t]: taps k ≠ pad_left of the row pass, then taps r ≠ pad_top of the column pass.
    alignas(64) uint8_t mask[2 * (kMaxK - 1)][kChunk];
    int64_t offset[2 * (kMaxK - 1)];
    int64_t taps = 0;
    // One row's (column taps) or one plane's (row taps) pattern, then copies of it.
    const auto replicate = [len](uint8_t* mk, int64_t period) {
      for (int64_t i = period; i < len; i += period) {
        std::copy(mk, mk + std::min(period, len - i), mk + i);
      }
    };
    for (int64_t k = 0; k < kw; ++k) {
      if (k == g.pad_left) continue;
      const int64_t o = k - g.pad_left;
      for (int64_t c = 0; c < wid; ++c) mask[taps][c] = c + o >= 0 && c + o < wid ? 0xFF : 0x00;
      replicate(mask[taps], wid);
      offset[taps++] = o;
    }
    const int64_t row_taps = taps;
    for (int64_t r = 0; r < kh; ++r) {
      if (r == g.pad_top) continue;
      const int64_t o = r - g.pad_top;
      for (int64_t row = 0; row < hgt; ++row) {
        std::fill_n(mask[taps] + row * wid, wid, row + o >= 0 && row + o < hgt ? 0xFF : 0x00);
      }
      replicate(mask[taps], n);
      offset[taps++] = o * wid;
    }
    // h, f and the sampled outputs, with slack for the sampler's whole-vector reads and writes.
    alignas(64) T h[kChunk], f[kChunk + kSlack], out[kChunk + kSlack];
    std::fill_n(f + kChunk, kSlack, T{0});
    for (int64_t p0 = 0; p0 < planes; p0 += per_chunk) {
      const int64_t np = std::min(per_chunk, planes - p0);
      const int64_t m = np * n;  // bytes in this chunk
      const T* xc = x + p0 * n;
      // dst = max over taps [t0, t1) and the anchor of src; the first tap reads src, the
      // others dst (outside a tap's range dst keeps what it had: the tap does not count there).
      const auto pass = [&](const T* src, T* dst, int64_t t0, int64_t t1) {
        if (t0 == t1) {
          std::copy(src, src + m, dst);
          return;
        }
        for (int64_t t = t0; t < t1; ++t) {
          const int64_t o = offset[t];
          const int64_t lo = std::max<int64_t>(0, -o), hi = std::max(lo, std::min(m, m - o));
          if (t == t0) {
            std::copy(src, src + lo, dst);
            std::copy(src + hi, src + m, dst + hi);
          }
          Hook::masked_max(t == t0 ? src + lo : dst + lo, src + lo + o, mask[t] + lo, dst + lo,
                           hi - lo);
        }
      };
      pass(xc, h, 0, row_taps);
      if (direct) {
        pass(h, y + p0 * n, row_taps, taps);
        continue;
      }
      pass(h, f, row_taps, taps);
      // Rows are sampled in order: a row's whole-vector writes past its end land on the next
      // row's outputs (written after) or in the slack.
      for (int64_t p = 0; p < np; ++p) {
        for (int64_t oh = 0; oh < g.out_h; ++oh) {
          Hook::sample_row(f + p * n + sh * oh * wid, out + (p * g.out_h + oh) * g.out_w, g.out_w,
                           sw);
        }
      }
      std::copy(out, out + np * n_out, y + p0 * n_out);
    }
    return true;
  }
}

template <class Hook, class T>
void max_pool(const Pool2dParams& g, int64_t batch, const T* x, T* y) {
  // Byte 2×2/2 pools with short odd rows (GoogLeNet's 14 → 7) measured faster sampled flat
  // than through max_pool_pairs's per-row combine.
  if (g.out_w < 16 && g.out_w % 4 != 0 && max_pool_flat_bytes<Hook>(g, batch, x, y)) return;
  if (max_pool_pairs<Hook>(g, batch, x, y)) return;
  if (max_pool_flat_bytes<Hook>(g, batch, x, y)) return;
  if (Hook::max_plane_3x3s1p1(g, batch, x, y)) return;
  if (max_pool_separable<Hook>(g, batch, x, y)) return;
  pool_planes<true, Hook>(g, batch, x, y, lowest_value<T>(), MaxStep{},
                          [](const T* a, int64_t n, int64_t inside, int64_t, T* out) {
                            if constexpr (std::is_floating_point_v<T>) {
                              (void)inside;  // an empty window stays −inf, as the reference
                              for (int64_t i = 0; i < n; ++i) out[i] = a[i];
                            } else {
                              // The reference casts INT32_MIN (empty window) to T: code 0.
                              for (int64_t i = 0; i < n; ++i) out[i] = inside > 0 ? a[i] : T{0};
                            }
                          });
}

void avg_pool_f32(const Pool2dParams& g, int64_t batch, const float* x, float* y) {
  const bool include_pad = g.count_include_pad;
  pool_planes<false, NoHook>(
      g, batch, x, y, 0.0, SumStep{},
      [include_pad](const double* a, int64_t n, int64_t inside, int64_t counted, float* out) {
        const int64_t count = include_pad ? counted : inside;
        if (count <= 0) {
          for (int64_t i = 0; i < n; ++i) out[i] = 0.0f;
          return;
        }
        const double c = static_cast<double>(count);
        for (int64_t i = 0; i < n; ++i) out[i] = static_cast<float>(a[i] / c);
      });
}

// Σ x over the counted taps in int32 (|Σ| ≤ 255·taps < 2^31 for taps < 2^23, which the op
// checks), then Σ (x − z_x) = Σ x − inside·z_x: the reference's integer sum, exactly.
template <class Hook, class T>
void avg_pool_s8(const Pool2dParams& g, int64_t batch, int32_t zx,
                 const fixedpoint::Requantizer* rq, const T* x, T* y) {
  const bool include_pad = g.count_include_pad;
  const auto finish = [include_pad, zx, rq](const int32_t* a, int64_t n, int64_t inside,
                                            int64_t counted, T* out) {
    const int64_t count = std::max<int64_t>(include_pad ? counted : inside, 1);
    const fixedpoint::Requantizer& r = rq[count - 1];
    const int32_t off = static_cast<int32_t>(inside) * zx;
    if (r.profile() != fixedpoint::RequantProfile::kOrt) {
      for (int64_t i = 0; i < n; ++i) out[i] = static_cast<T>(r.apply(a[i] - off, 0));
      return;
    }
    // requantize_ort (requantize.cpp) inlined so it vectorises: v = fl32(float(acc)·M),
    // clamped to [qmin − z, qmax − z] (integers far below 2^22), rounded half to even by
    // fixedpoint::round_half_even_small (the 1.5·2^23 shifter, exact for |v| < 2^22), + z; the
    // same float operations, so the same codes.
    const float m = r.ort_multipliers()[0];
    const int32_t z = r.zero_point();
    const auto lo = static_cast<float>(int64_t{r.qmin()} - z);
    const auto hi = static_cast<float>(int64_t{r.qmax()} - z);
    for (int64_t i = 0; i < n; ++i) {
      float v = static_cast<float>(a[i] - off) * m;
      v = v < lo ? lo : (v > hi ? hi : v);
      out[i] = static_cast<T>(static_cast<int32_t>(fixedpoint::round_half_even_small(v)) + z);
    }
  };
  const int64_t spatial = g.in_h * g.in_w;
  if (g.out_h == 1 && g.out_w == 1 && g.kernel_h == g.in_h && g.kernel_w == g.in_w &&
      g.pad_top == 0 && g.pad_left == 0 && g.pad_bottom == 0 && g.pad_right == 0) {
    // Global average: each plane is one contiguous window (Hook::plane_sums: the tier's byte
    // sums); the sums of up to 256 planes are requantized by one finish() call (every plane has
    // the same count: short planes, e.g. 1-D heads of 16 values, were bound by a call per plane).
    const int64_t planes = batch * g.channels;
    int32_t sums[256];
    for (int64_t p0 = 0; p0 < planes; p0 += 256) {
      const int64_t np = std::min<int64_t>(256, planes - p0);
      Hook::plane_sums(x + p0 * spatial, spatial, np, sums);
      finish(sums, np, spatial, spatial, y + p0);
    }
    return;
  }
  pool_planes<false, NoHook>(g, batch, x, y, int32_t{0}, SumStep{}, finish);
}

// The reference's eight double partial sums (lane k takes elements 8·i + k), the tail, then the
// partials in order: the same additions, so the same result.
void global_avg_f32(int64_t planes, int64_t spatial, const float* x, float* y) {
  for (int64_t i = 0; i < planes; ++i) {
    const float* xp = x + i * spatial;
    double part[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    int64_t j = 0;
    for (; j + 8 <= spatial; j += 8) {
      for (int k = 0; k < 8; ++k) part[k] += static_cast<double>(xp[j + k]);
    }
    double s = 0.0;
    for (; j < spatial; ++j) s += static_cast<double>(xp[j]);
    for (double v : part) s += v;
    y[i] = static_cast<float>(s / static_cast<double>(spatial));
  }
}

// Eight lanes of the reference's max step, then the lanes in order (see pool.h for the one
// difference: the sign of a zero maximum held as both +0 and −0).
void global_max_f32(int64_t planes, int64_t spatial, const float* x, float* y) {
  const MaxStep f;
  for (int64_t i = 0; i < planes; ++i) {
    const float* xp = x + i * spatial;
    float lane[8];
    for (float& v : lane) v = lowest_value<float>();
    int64_t j = 0;
    for (; j + 8 <= spatial; j += 8) {
      for (int k = 0; k < 8; ++k) lane[k] = f(lane[k], xp[j + k]);
    }
    float m = lowest_value<float>();
    for (float v : lane) m = f(m, v);
    for (; j < spatial; ++j) m = f(m, xp[j]);
    y[i] = m;
  }
}

template <class Hook>
PoolTierFns make_pool_tier() {
  PoolTierFns t{};
  t.max_f32 = &max_pool<Hook, float>;
  t.avg_f32 = &avg_pool_f32;
  t.global_avg_f32 = &global_avg_f32;
  t.global_max_f32 = &global_max_f32;
  t.max_u8 = &max_pool<Hook, uint8_t>;
  t.max_s8 = &max_pool<Hook, int8_t>;
  t.avg_u8 = &avg_pool_s8<Hook, uint8_t>;
  t.avg_s8 = &avg_pool_s8<Hook, int8_t>;
  return t;
}

}  // namespace
}  // namespace ei8::kernels
