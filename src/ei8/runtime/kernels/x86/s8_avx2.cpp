// The AVX2 tier of the INT8 micro-kernels, compiled with -mavx2 -mfma -ffp-contract=off (this
// file only; see CMakeLists.txt); called only when cpu_features().avx2.
//
// Products: vpmaddwd on int16 slot pairs (x − z_x ∈ [−255, 255], w − z_w ∈ [−255, 255]) gives
// x0·w0 + x1·w1 in int32 exactly. vpmaddubsw is NOT used: its u8·s8 pair sums saturate at int16
// (255·127·2 > 32767). Accumulators are int32 and cannot overflow (conv_s8_ref.h's K bound holds
// for every partial sum).
//
// Epilogue: the `ort` profile vectorised exactly as requantize_ort evaluates it — cvtdq2ps
// (round to nearest even, like static_cast<float>), one mulps (no FMA: nothing to contract with,
// and the file is built with -ffp-contract=off), maxps/minps against qmin − z_y / qmax − z_y
// (same result as the reference's compare-select order: no NaN can occur), cvtps2dq under the
// default MXCSR rounding (nearest even), + z_y; the values are inside [qmin, qmax] ⊂ the 8-bit
// type, so the saturating packs change nothing. tflite / tflite-single stay scalar
// (Requantizer::apply) — the epilogue is K times cheaper than the products.
#include <immintrin.h>

#include <algorithm>
#include <cstring>

#include "ei8/fixedpoint/quantize_x86.h"
#include "ei8/runtime/kernels/s8_driver.h"

namespace ei8::kernels {
namespace {

// The fused epilogue of a finished register block (convolutions: one channel per row, every
// vector a full 8 lanes, no saturating bias add, `ort` or s32 output): bias, float32 product,
// clamp, round half to even, + z_y and the 8-byte store straight from the registers — the same
// operations as epilogue_avx2 below, without the round trip through acc[].
inline bool fusable(const S8DirectArgs& a, int64_t v0, int nv) {
  const S8Epilogue& e = *a.e;
  if (e.per_column || e.saturate || !(e.ort || e.out == IntType::kS32)) return false;
  for (int v = 0; v < nv; ++v)
    if (a.vlen[v0 + v] != kS8Lanes) return false;
  return true;
}

template <int MR, int NV>
inline __attribute__((always_inline)) void fused_store(const S8DirectArgs& a, int64_t r0, int rows,
                                                       int64_t v0, const __m256i (&c)[MR][NV]) {
  const S8Epilogue& e = *a.e;
  const __m256 lo = _mm256_set1_ps(e.lo), hi = _mm256_set1_ps(e.hi);
  const __m256i zy = _mm256_set1_epi32(e.zy);
#pragma GCC unroll 4
  for (int r = 0; r < MR; ++r) {
    if (r >= rows) break;
    const int64_t ch = a.chan0 + r0 + r;
    const __m256i b = _mm256_set1_epi32(e.bias32[ch]);
    const int64_t row = a.dst0 + (r0 + r) * a.row_stride;
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) {
      const __m256i acc = _mm256_add_epi32(c[r][v], b);
      const int64_t dst = row + a.vout[v0 + v];
      if (e.out == IntType::kS32) {
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(static_cast<int32_t*>(a.out) + dst), acc);
        continue;
      }
      const __m256i q = fixedpoint::requantize_ort_x8(acc, _mm256_set1_ps(e.mult[ch]), lo, hi, zy);
      const __m128i w16 =
          _mm_packs_epi32(_mm256_castsi256_si128(q), _mm256_extracti128_si256(q, 1));
      const __m128i b8 =
          e.out == IntType::kU8 ? _mm_packus_epi16(w16, w16) : _mm_packs_epi16(w16, w16);
      _mm_storel_epi64(reinterpret_cast<__m128i*>(static_cast<int8_t*>(a.out) + dst), b8);
    }
  }
}

struct Avx2Tile {
  static constexpr int kMaxNv = 3;

  template <int NV, class Sink>
  static void compute(const S8DirectArgs& a, const int32_t* ablk, const int32_t* vin, Sink sink) {
    __m256i c[kS8Mr][NV];
#pragma GCC unroll 4
    for (int r = 0; r < kS8Mr; ++r)
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) c[r][v] = _mm256_setzero_si256();
    const int32_t* koff = a.koff;
    for (int64_t k = 0; k < a.ks; ++k) {
      const int32_t* base = a.src + koff[k];
      __m256i x[NV];
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) {
        x[v] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(base + vin[v]));
      }
      const int32_t* w = ablk + k * kS8Mr;
#pragma GCC unroll 4
      for (int r = 0; r < kS8Mr; ++r) {
        const __m256i wr = _mm256_set1_epi32(w[r]);
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v)
          c[r][v] = _mm256_add_epi32(c[r][v], _mm256_madd_epi16(x[v], wr));
      }
    }
    sink(c);
  }

  template <int NV>
  static void run_nv(const S8DirectArgs& a, const int32_t* ablk, const int32_t* vin,
                     int32_t (*acc)[kMaxNv][kS8Lanes]) {
    compute<NV>(a, ablk, vin, [&](const __m256i(&c)[kS8Mr][NV]) {
#pragma GCC unroll 4
      for (int r = 0; r < kS8Mr; ++r)
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v)
          _mm256_store_si256(reinterpret_cast<__m256i*>(acc[r][v]), c[r][v]);
    });
  }

  template <int NV>
  static void fused_nv(const S8DirectArgs& a, const int32_t* ablk, int64_t v0, int64_t r0,
                       int rows) {
    compute<NV>(a, ablk, a.vin + v0,
                [&](const __m256i(&c)[kS8Mr][NV]) { fused_store<kS8Mr, NV>(a, r0, rows, v0, c); });
  }

  static bool run_fused(const S8DirectArgs& a, const int32_t* ablk, int64_t v0, int64_t r0,
                        int rows, int nv) {
    if (!fusable(a, v0, nv)) return false;
    switch (nv) {
      case 3:
        fused_nv<3>(a, ablk, v0, r0, rows);
        break;
      case 2:
        fused_nv<2>(a, ablk, v0, r0, rows);
        break;
      default:
        fused_nv<1>(a, ablk, v0, r0, rows);
        break;
    }
    return true;
  }

  static void run(const S8DirectArgs& a, const int32_t* ablk, const int32_t* vin, int nv,
                  int32_t (*acc)[kMaxNv][kS8Lanes]) {
    switch (nv) {
      case 3:
        run_nv<3>(a, ablk, vin, acc);
        break;
      case 2:
        run_nv<2>(a, ablk, vin, acc);
        break;
      default:
        run_nv<1>(a, ablk, vin, acc);
        break;
    }
  }
};

// What both quad tiles share: the runs over the block (into acc or fused into the output) and
// the dispatch on NV, the source kind and one-row blocks. A tile supplies only compute().
template <class Tile>
struct QuadTileRuns {
  static constexpr int kMaxNv = 2;

  template <int NV, bool kSrcIsX, int MR = kS8Mr>
  static void run_nv(const S8DirectArgs& a, const int32_t* ablk, const int32_t* vin,
                     int32_t (*acc)[kMaxNv][kS8Lanes]) {
    auto sink = [&](const __m256i(&c)[kS8Mr][NV]) {
#pragma GCC unroll 4
      for (int r = 0; r < MR; ++r)
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v)
          _mm256_store_si256(reinterpret_cast<__m256i*>(acc[r][v]), c[r][v]);
    };
    Tile::template compute<NV, kSrcIsX, decltype(sink), MR>(a, ablk, vin, sink);
  }

  template <int NV>
  static void fused_nv(const S8DirectArgs& a, const int32_t* ablk, int64_t v0, int64_t r0,
                       int rows) {
    auto sink = [&](const __m256i(&c)[kS8Mr][NV]) { fused_store<kS8Mr, NV>(a, r0, rows, v0, c); };
    Tile::template compute<NV, true, decltype(sink)>(a, ablk, a.vin + v0, sink);
  }

  // Convolutions only (the activations are src).
  static bool run_fused(const S8DirectArgs& a, const int32_t* ablk, int64_t v0, int64_t r0,
                        int rows, int nv) {
    if (!a.src_unsigned || !fusable(a, v0, nv)) return false;
    if (nv == 2) {
      fused_nv<2>(a, ablk, v0, r0, rows);
    } else {
      fused_nv<1>(a, ablk, v0, r0, rows);
    }
    return true;
  }

  static void run(const S8DirectArgs& a, const int32_t* ablk, const int32_t* vin, int nv,
                  int32_t (*acc)[kMaxNv][kS8Lanes]) {
    if (a.src_unsigned) {
      if (nv == 2) {
        run_nv<2, true>(a, ablk, vin, acc);
      } else {
        run_nv<1, true>(a, ablk, vin, acc);
      }
    } else if (a.m - (ablk - a.apack) / (a.ks * kS8Mr) * kS8Mr == 1) {
      // The last row block of a fully connected layer holds one input row: skip the padding.
      if (nv == 2) {
        run_nv<2, false, 1>(a, ablk, vin, acc);
      } else {
        run_nv<1, false, 1>(a, ablk, vin, acc);
      }
    } else {
      if (nv == 2) {
        run_nv<2, false>(a, ablk, vin, acc);
      } else {
        run_nv<1, false>(a, ablk, vin, acc);
      }
    }
  }
};

// One k-slot of the sign trick on s8 activation quads s[v] and the MR weight quads w[r]:
// c[r][v] += quads of vpmaddubsw(|s|, sign(w, s)) (exact: pairs ≤ 2·128·127 < 2^15).
template <int NV, int MR>
inline __attribute__((always_inline)) void sign_trick_step(__m256i (&c)[kS8Mr][NV],
                                                           const __m256i (&s)[NV], const int32_t* w,
                                                           __m256i ones) {
  __m256i ax[NV];
#pragma GCC unroll 4
  for (int v = 0; v < NV; ++v) ax[v] = _mm256_abs_epi8(s[v]);
#pragma GCC unroll 4
  for (int r = 0; r < MR; ++r) {
    const __m256i wr = _mm256_set1_epi32(w[r]);
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) {
      const __m256i p = _mm256_maddubs_epi16(ax[v], _mm256_sign_epi8(wr, s[v]));
      c[r][v] = _mm256_add_epi32(c[r][v], _mm256_madd_epi16(p, ones));
    }
  }
}

// s8 quads: activations x (s8, x_q = x − 128 for u8 inputs) and weights w ∈ [−127, 127].
// vpsignb(w, x) = w·sign(x) and vpabsb(x) = |x| ∈ [0, 128] (read unsigned), so vpmaddubsw's
// pairs |x0|·w0·sign(x0) + |x1|·w1·sign(x1) = x0·w0 + x1·w1 ∈ [−32512, 32512]: exact in int16.
// vpmaddwd with ones adds the pairs into int32 quads, vpaddd accumulates. vpmaddubsw and
// vpmaddwd issue on different pipes of the AMD Zen 3 cores we target (bench/s8_peak_avx2.cpp).
struct Avx2QuadTile : QuadTileRuns<Avx2QuadTile> {
  // MR rows of the block are computed (MR = 1: a fully connected layer run on one input row,
  // where the other three rows of the block would be zero padding).
  template <int NV, bool kSrcIsX, class Sink, int MR = kS8Mr>
  static void compute(const S8DirectArgs& a, const int32_t* ablk, const int32_t* vin, Sink sink) {
    __m256i c[kS8Mr][NV];
#pragma GCC unroll 4
    for (int r = 0; r < kS8Mr; ++r)
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) c[r][v] = _mm256_setzero_si256();
    const __m256i ones = _mm256_set1_epi16(1);
    const int32_t* koff = a.koff;
    for (int64_t k = 0; k < a.ks; ++k) {
      const int32_t* base = a.src + koff[k];
      __m256i s[NV];
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) {
        s[v] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(base + vin[v]));
      }
      const int32_t* w = ablk + k * kS8Mr;
      if constexpr (kSrcIsX) {
        sign_trick_step<NV, MR>(c, s, w, ones);
      } else {
#pragma GCC unroll 4
        for (int r = 0; r < MR; ++r) {
          const __m256i xr = _mm256_set1_epi32(w[r]);
          const __m256i ax = _mm256_abs_epi8(xr);
#pragma GCC unroll 4
          for (int v = 0; v < NV; ++v) {
            const __m256i p = _mm256_maddubs_epi16(ax, _mm256_sign_epi8(s[v], xr));
            c[r][v] = _mm256_add_epi32(c[r][v], _mm256_madd_epi16(p, ones));
          }
        }
      }
    }
    sink(c);
  }
};

// u8 quads × s8 quads (s8_internal.h, direct_u8s8_avx2): k-slots [0, ks_safe) hold pair-safe
// weights, vpmaddubsw(x_u8, w) is exact there without vpabsb / vpsignb (three instructions per
// 32 MAC instead of four); the rest (convolutions only) take the sign trick on x ^ 0x80 = x − 128.
struct Avx2U8Tile : QuadTileRuns<Avx2U8Tile> {
  template <int NV, bool kSrcIsX, class Sink, int MR = kS8Mr>
  static void compute(const S8DirectArgs& a, const int32_t* ablk, const int32_t* vin, Sink sink) {
    __m256i c[kS8Mr][NV];
#pragma GCC unroll 4
    for (int r = 0; r < kS8Mr; ++r)
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) c[r][v] = _mm256_setzero_si256();
    const __m256i ones = _mm256_set1_epi16(1);
    const int32_t* koff = a.koff;
    const int64_t ks_safe = kSrcIsX ? a.ks_safe : a.ks;
    for (int64_t k = 0; k < ks_safe; ++k) {
      const int32_t* base = a.src + koff[k];
      __m256i s[NV];
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) {
        s[v] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(base + vin[v]));
      }
      const int32_t* w = ablk + k * kS8Mr;
#pragma GCC unroll 4
      for (int r = 0; r < MR; ++r) {
        const __m256i b = _mm256_set1_epi32(w[r]);
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v) {
          const __m256i p = kSrcIsX ? _mm256_maddubs_epi16(s[v], b) : _mm256_maddubs_epi16(b, s[v]);
          c[r][v] = _mm256_add_epi32(c[r][v], _mm256_madd_epi16(p, ones));
        }
      }
    }
    if constexpr (kSrcIsX) {
      const __m256i flip = _mm256_set1_epi8(static_cast<char>(0x80));
      for (int64_t k = ks_safe; k < a.ks; ++k) {
        const int32_t* base = a.src + koff[k];
        __m256i s[NV];
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v) {
          s[v] = _mm256_xor_si256(
              _mm256_loadu_si256(reinterpret_cast<const __m256i*>(base + vin[v])), flip);
        }
        sign_trick_step<NV, MR>(c, s, ablk + k * kS8Mr, ones);
      }
    }
    sink(c);
  }
};

inline __attribute__((always_inline)) void epilogue_avx2(const S8Epilogue& e, const int32_t* acc,
                                                         int64_t chan, void* out, int64_t dst,
                                                         int64_t n) {
  int64_t j = 0;
  if (!e.saturate && (e.ort || e.out == IntType::kS32)) {
    const __m256 lo = _mm256_set1_ps(e.lo), hi = _mm256_set1_ps(e.hi);
    const __m256i zy = _mm256_set1_epi32(e.zy);
    for (; j + 8 <= n; j += 8) {
      const int64_t c = e.per_column ? chan + j : chan;
      const __m256i b = e.per_column
                            ? _mm256_loadu_si256(reinterpret_cast<const __m256i*>(e.bias32 + c))
                            : _mm256_set1_epi32(e.bias32[c]);
      const __m256i a =
          _mm256_add_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(acc + j)), b);
      if (e.out == IntType::kS32) {
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(static_cast<int32_t*>(out) + dst + j), a);
        continue;
      }
      const __m256 m = e.per_column ? _mm256_loadu_ps(e.mult + c) : _mm256_set1_ps(e.mult[c]);
      const __m256i q = fixedpoint::requantize_ort_x8(a, m, lo, hi, zy);
      const __m128i w16 =
          _mm_packs_epi32(_mm256_castsi256_si128(q), _mm256_extracti128_si256(q, 1));
      const __m128i b8 =
          e.out == IntType::kU8 ? _mm_packus_epi16(w16, w16) : _mm_packs_epi16(w16, w16);
      _mm_storel_epi64(reinterpret_cast<__m128i*>(static_cast<int8_t*>(out) + dst + j), b8);
    }
  }
  if (j < n) s8::epilogue_scalar(e, acc, chan, out, dst, j, n);
}

constexpr auto kEpilogue = [](const S8Epilogue& e, const int32_t* acc, int64_t chan, void* out,
                              int64_t dst, int64_t n) { epilogue_avx2(e, acc, chan, out, dst, n); };

}  // namespace

void epilogue_s8_avx2(const S8Epilogue& e, const int32_t* acc, int64_t chan, void* out, int64_t dst,
                      int64_t n) {
  epilogue_avx2(e, acc, chan, out, dst, n);
}

// Two taps per vpmaddwd: the int16 runs of taps a and b interleaved by vpunpcklwd/vpunpckhwd
// (within 128-bit lanes, so the 16 sums come out as outputs 0–3, 8–11 | 4–7, 12–15 and are put
// back in order by two vperm2i128 before the store).
void dw_row_s16_avx2(const S8DwRow& a) {
  const int16_t* row = a.img + a.row0 * a.row_stride;
  const int64_t kk = a.kk;
  for (int64_t ow0 = 0; ow0 < a.n; ow0 += 16) {
    __m256i lo = _mm256_setzero_si256(), hi = _mm256_setzero_si256();
    const int16_t* x = row + ow0;
    int64_t t = 0;
    for (; t + 1 < kk; t += 2) {
      const __m256i xa = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x + a.tapoff[t]));
      const __m256i xb = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x + a.tapoff[t + 1]));
      const __m256i w = _mm256_set1_epi32(a.wpair[t / 2]);
      lo = _mm256_add_epi32(lo, _mm256_madd_epi16(_mm256_unpacklo_epi16(xa, xb), w));
      hi = _mm256_add_epi32(hi, _mm256_madd_epi16(_mm256_unpackhi_epi16(xa, xb), w));
    }
    if (t < kk) {  // the odd last tap: its pair partner is 0 (weight 0 as well)
      const __m256i xa = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x + a.tapoff[t]));
      const __m256i z = _mm256_setzero_si256();
      const __m256i w = _mm256_set1_epi32(a.wpair[t / 2]);
      lo = _mm256_add_epi32(lo, _mm256_madd_epi16(_mm256_unpacklo_epi16(xa, z), w));
      hi = _mm256_add_epi32(hi, _mm256_madd_epi16(_mm256_unpackhi_epi16(xa, z), w));
    }
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(a.sum + ow0),
                        _mm256_permute2x128_si256(lo, hi, 0x20));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(a.sum + ow0 + 8),
                        _mm256_permute2x128_si256(lo, hi, 0x31));
  }
}

namespace {

// 32 quads from 32 bytes of each row, slots in order in o[0..3]: bytes → (x0, x1) and (x2, x3)
// byte pairs → quads; the unpacks work within 128-bit lanes, so slots 0–3 | 16–19, 4–7 | 20–23,
// ... come out and two vperm2i128 per pair of vectors put them back in order.
inline void quads32(const uint8_t* const* x, int64_t j, __m256i flip, __m256i (&o)[4]) {
  const auto ld = [&](int i) {
    return _mm256_xor_si256(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[i] + j)), flip);
  };
  const __m256i a0 = ld(0), a1 = ld(1), a2 = ld(2), a3 = ld(3);
  const __m256i l01 = _mm256_unpacklo_epi8(a0, a1), h01 = _mm256_unpackhi_epi8(a0, a1);
  const __m256i l23 = _mm256_unpacklo_epi8(a2, a3), h23 = _mm256_unpackhi_epi8(a2, a3);
  const __m256i q0 = _mm256_unpacklo_epi16(l01, l23), q1 = _mm256_unpackhi_epi16(l01, l23);
  const __m256i q2 = _mm256_unpacklo_epi16(h01, h23), q3 = _mm256_unpackhi_epi16(h01, h23);
  o[0] = _mm256_permute2x128_si256(q0, q1, 0x20);
  o[1] = _mm256_permute2x128_si256(q2, q3, 0x20);
  o[2] = _mm256_permute2x128_si256(q0, q1, 0x31);
  o[3] = _mm256_permute2x128_si256(q2, q3, 0x31);
}

// 16 pairs of int16 x − z_x from 16 bytes of rows 0 and 1, slots in order in o[0..1].
template <bool kSigned>
inline void pairs16(const uint8_t* const* x, int64_t j, __m256i zx, __m256i (&o)[2]) {
  const auto ld = [&](int i) {
    const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(x[i] + j));
    return _mm256_sub_epi16(kSigned ? _mm256_cvtepi8_epi16(b) : _mm256_cvtepu8_epi16(b), zx);
  };
  const __m256i a0 = ld(0), a1 = ld(1);
  const __m256i lo = _mm256_unpacklo_epi16(a0, a1), hi = _mm256_unpackhi_epi16(a0, a1);
  o[0] = _mm256_permute2x128_si256(lo, hi, 0x20);
  o[1] = _mm256_permute2x128_si256(lo, hi, 0x31);
}

// Lanes l < cnt of v to d (vpmaskmovd: the other lanes are neither written nor touched).
inline void store_lanes(uint32_t* d, __m256i v, int64_t cnt) {
  if (cnt >= 8) {
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(d), v);
  } else if (cnt > 0) {
    const __m256i m = _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int32_t>(cnt)),
                                         _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    _mm256_maskstore_epi32(reinterpret_cast<int*>(d), m, v);
  }
}

// Stores the slots of source columns j .. j + min(8·N, r) − 1 (N even for split 2): in order
// (split 1) or split into the even and odd phases (vpermd puts each vector's even slots in its
// low half).
template <int N>
inline void store_slots(const S8Interleave& a, int64_t j, const __m256i (&o)[N], int64_t r) {
  if (a.split == 1) {
#pragma GCC unroll 4
    for (int i = 0; i < N; ++i) store_lanes(a.dst + j + 8 * i, o[i], r - 8 * i);
    return;
  }
  const __m256i idx = _mm256_setr_epi32(0, 2, 4, 6, 1, 3, 5, 7);
#pragma GCC unroll 2
  for (int i = 0; i < N; i += 2) {
    const __m256i e0 = _mm256_permutevar8x32_epi32(o[i], idx);
    const __m256i e1 = _mm256_permutevar8x32_epi32(o[i + 1], idx);
    const int64_t c = (j + 8 * i) / 2;                        // j is even
    const int64_t m = std::clamp<int64_t>(r - 8 * i, 0, 16);  // columns of this pair
    store_lanes(a.dst + c, _mm256_permute2x128_si256(e0, e1, 0x20), (m + 1) / 2);
    store_lanes(a.dst + a.plen + c, _mm256_permute2x128_si256(e0, e1, 0x31), m / 2);
  }
}

template <int N, class Block>
inline void interleave_rows(const S8Interleave& a, Block block) {
  constexpr int kW = 8 * N;
  for (int64_t j = 0; j < a.n; j += kW) {
    __m256i o[N];
    block(a.x, j, o);
    const int64_t r = std::min<int64_t>(kW, a.n - j);
    if (a.split <= 2) {
      store_slots<N>(a, j, o, r);
      continue;
    }
    alignas(32) uint32_t d[kW];  // other strides: a scalar scatter
    for (int i = 0; i < N; ++i) _mm256_store_si256(reinterpret_cast<__m256i*>(d + 8 * i), o[i]);
    for (int64_t i = 0; i < r; ++i) a.dst[((j + i) % a.split) * a.plen + (j + i) / a.split] = d[i];
  }
}

}  // namespace

void interleave_s8_avx2(const S8Interleave& a) {
  if (a.quads) {
    const __m256i flip = _mm256_set1_epi8(static_cast<char>(a.flip));
    interleave_rows<4>(
        a, [&](const uint8_t* const* x, int64_t j, __m256i(&o)[4]) { quads32(x, j, flip, o); });
    return;
  }
  const __m256i zx = _mm256_set1_epi16(static_cast<int16_t>(a.zx));
  if (a.sign_extend) {
    interleave_rows<2>(
        a, [&](const uint8_t* const* x, int64_t j, __m256i(&o)[2]) { pairs16<true>(x, j, zx, o); });
  } else {
    interleave_rows<2>(a, [&](const uint8_t* const* x, int64_t j, __m256i(&o)[2]) {
      pairs16<false>(x, j, zx, o);
    });
  }
}

// fixedpoint::quantize_f32x8 (divps, roundps nearest even, + z, clamp, NaN lanes → z: the
// scalar loop's fixedpoint::quantize per lane); the lanes are integers inside the 8-bit type, so
// the saturating packs are exact.
void quantize_f32_avx2(const float* x, int64_t n, float scale, float zero_point, bool u8,
                       void* out) {
  const __m256 s = _mm256_set1_ps(scale), z = _mm256_set1_ps(zero_point);
  const __m256 lo = _mm256_set1_ps(u8 ? 0.0f : -128.0f), hi = _mm256_set1_ps(u8 ? 255.0f : 127.0f);
  auto* o = static_cast<int8_t*>(out);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256i v = fixedpoint::quantize_f32x8(_mm256_loadu_ps(x + i), s, z, lo, hi);
    const __m128i w16 = _mm_packs_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    const __m128i b8 = u8 ? _mm_packus_epi16(w16, w16) : _mm_packs_epi16(w16, w16);
    _mm_storel_epi64(reinterpret_cast<__m128i*>(o + i), b8);
  }
  if (i < n) {
    quantize_linear_f32_scalar(x + i, n - i, scale, static_cast<int32_t>(zero_point),
                               u8 ? IntType::kU8 : IntType::kS8, o + i);
  }
}

// The reference's float32 operations lane by lane: (a − z_a) and (b − z_b) converted exactly,
// mulps by the scales, addps, then fixedpoint::quantize_f32x8 by s_c, z_c (no NaN: qlinear_add_s8
// checked the range), saturating packs of values inside the type. No FMA (the file is built with
// -ffp-contract=off).
void qlinear_add_avx2(const QLinearAddParams& p, bool u8, const void* a, const void* b, void* c,
                      int64_t n) {
  const auto* pa = static_cast<const uint8_t*>(a);
  const auto* pb = static_cast<const uint8_t*>(b);
  auto* pc = static_cast<uint8_t*>(c);
  const __m256 sa = _mm256_set1_ps(p.a_scale), sb = _mm256_set1_ps(p.b_scale);
  const __m256 sc = _mm256_set1_ps(p.c_scale),
               zc = _mm256_set1_ps(static_cast<float>(p.c_zero_point));
  const __m256 lo = _mm256_set1_ps(static_cast<float>(p.qmin));
  const __m256 hi = _mm256_set1_ps(static_cast<float>(p.qmax));
  const __m256i za = _mm256_set1_epi32(p.a_zero_point), zb = _mm256_set1_epi32(p.b_zero_point);
  const auto widen = [u8](const uint8_t* x) {
    const __m128i v = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(x));
    return u8 ? _mm256_cvtepu8_epi32(v) : _mm256_cvtepi8_epi32(v);
  };
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 va = _mm256_mul_ps(sa, _mm256_cvtepi32_ps(_mm256_sub_epi32(widen(pa + i), za)));
    const __m256 vb = _mm256_mul_ps(sb, _mm256_cvtepi32_ps(_mm256_sub_epi32(widen(pb + i), zb)));
    const __m256i v = fixedpoint::quantize_f32x8(_mm256_add_ps(va, vb), sc, zc, lo, hi);
    const __m128i w16 = _mm_packs_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    const __m128i b8 = u8 ? _mm_packus_epi16(w16, w16) : _mm_packs_epi16(w16, w16);
    _mm_storel_epi64(reinterpret_cast<__m128i*>(pc + i), b8);
  }
  if (i == n) return;
  if (u8) {
    qlinear_add_ref(p, pa + i, pb + i, pc + i, n - i);
  } else {
    qlinear_add_ref(p, reinterpret_cast<const int8_t*>(pa + i),
                    reinterpret_cast<const int8_t*>(pb + i), reinterpret_cast<int8_t*>(pc + i),
                    n - i);
  }
}

void direct_s16_avx2(const S8DirectArgs& a) { s8::direct_driver<Avx2Tile>(a, kEpilogue); }

void direct_u8s8_avx2(const S8DirectArgs& a) { s8::direct_driver<Avx2U8Tile>(a, kEpilogue); }

void direct_s8s8_avx2(const S8DirectArgs& a) { s8::direct_driver<Avx2QuadTile>(a, kEpilogue); }

}  // namespace ei8::kernels
