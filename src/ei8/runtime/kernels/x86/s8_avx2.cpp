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

#include "ei8/runtime/kernels/s8_driver.h"

namespace ei8::kernels {
namespace {

struct Avx2Tile {
  static constexpr int kMaxNv = 3;

  template <int NV>
  static void run_nv(const S8DirectArgs& a, const int32_t* ablk, const int32_t* vin,
                     int32_t (*acc)[kMaxNv][kS8Lanes]) {
    __m256i c[kS8Mr][NV];
    for (int r = 0; r < kS8Mr; ++r)
      for (int v = 0; v < NV; ++v) c[r][v] = _mm256_setzero_si256();
    const int32_t* koff = a.koff;
    for (int64_t k = 0; k < a.ks; ++k) {
      const int32_t* base = a.src + koff[k];
      __m256i x[NV];
      for (int v = 0; v < NV; ++v) {
        x[v] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(base + vin[v]));
      }
      const int32_t* w = ablk + k * kS8Mr;
      for (int r = 0; r < kS8Mr; ++r) {
        const __m256i wr = _mm256_set1_epi32(w[r]);
        for (int v = 0; v < NV; ++v)
          c[r][v] = _mm256_add_epi32(c[r][v], _mm256_madd_epi16(x[v], wr));
      }
    }
    for (int r = 0; r < kS8Mr; ++r)
      for (int v = 0; v < NV; ++v)
        _mm256_store_si256(reinterpret_cast<__m256i*>(acc[r][v]), c[r][v]);
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

// s8 quads: activations x (s8, x_q = x − 128 for u8 inputs) and weights w ∈ [−127, 127].
// vpsignb(w, x) = w·sign(x) and vpabsb(x) = |x| ∈ [0, 128] (read unsigned), so vpmaddubsw's
// pairs |x0|·w0·sign(x0) + |x1|·w1·sign(x1) = x0·w0 + x1·w1 ∈ [−32512, 32512]: exact in int16.
// vpmaddwd with ones adds the pairs into int32 quads, vpaddd accumulates. vpmaddubsw and
// vpmaddwd issue on different pipes of the AMD Zen 3 cores we target (bench/s8_peak_avx2.cpp).
struct Avx2QuadTile {
  static constexpr int kMaxNv = 2;

  template <int NV, bool kSrcIsX>
  static void run_nv(const S8DirectArgs& a, const int32_t* ablk, const int32_t* vin,
                     int32_t (*acc)[kMaxNv][kS8Lanes]) {
    __m256i c[kS8Mr][NV];
    for (int r = 0; r < kS8Mr; ++r)
      for (int v = 0; v < NV; ++v) c[r][v] = _mm256_setzero_si256();
    const __m256i ones = _mm256_set1_epi16(1);
    for (int64_t k = 0; k < a.ks; ++k) {
      const int32_t* base = a.src + a.koff[k];
      __m256i s[NV];
      for (int v = 0; v < NV; ++v) {
        s[v] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(base + vin[v]));
      }
      const int32_t* w = ablk + k * kS8Mr;
      if constexpr (kSrcIsX) {
        __m256i ax[NV];
        for (int v = 0; v < NV; ++v) ax[v] = _mm256_abs_epi8(s[v]);
        for (int r = 0; r < kS8Mr; ++r) {
          const __m256i wr = _mm256_set1_epi32(w[r]);
          for (int v = 0; v < NV; ++v) {
            const __m256i p = _mm256_maddubs_epi16(ax[v], _mm256_sign_epi8(wr, s[v]));
            c[r][v] = _mm256_add_epi32(c[r][v], _mm256_madd_epi16(p, ones));
          }
        }
      } else {
        for (int r = 0; r < kS8Mr; ++r) {
          const __m256i xr = _mm256_set1_epi32(w[r]);
          const __m256i ax = _mm256_abs_epi8(xr);
          for (int v = 0; v < NV; ++v) {
            const __m256i p = _mm256_maddubs_epi16(ax, _mm256_sign_epi8(s[v], xr));
            c[r][v] = _mm256_add_epi32(c[r][v], _mm256_madd_epi16(p, ones));
          }
        }
      }
    }
    for (int r = 0; r < kS8Mr; ++r)
      for (int v = 0; v < NV; ++v)
        _mm256_store_si256(reinterpret_cast<__m256i*>(acc[r][v]), c[r][v]);
  }

  static void run(const S8DirectArgs& a, const int32_t* ablk, const int32_t* vin, int nv,
                  int32_t (*acc)[kMaxNv][kS8Lanes]) {
    if (a.src_unsigned) {
      if (nv == 2) {
        run_nv<2, true>(a, ablk, vin, acc);
      } else {
        run_nv<1, true>(a, ablk, vin, acc);
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
      __m256 v = _mm256_mul_ps(_mm256_cvtepi32_ps(a), m);
      v = _mm256_min_ps(_mm256_max_ps(v, lo), hi);
      const __m256i q = _mm256_add_epi32(_mm256_cvtps_epi32(v), zy);
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

void direct_s16_avx2(const S8DirectArgs& a) { s8::direct_driver<Avx2Tile>(a, kEpilogue); }

void direct_s8s8_avx2(const S8DirectArgs& a) { s8::direct_driver<Avx2QuadTile>(a, kEpilogue); }

}  // namespace ei8::kernels
