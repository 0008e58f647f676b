// The AVX-512 VNNI tier of the INT8 micro-kernels. vpdpbusd multiplies four u8 by four s8 per
// int32 lane and adds them to the lane without intermediate saturation (that is vpdpbusds), so
// one instruction does 64 exact MACs on a zmm register (32 on ymm).
//
// Only the functions of this file that touch vectors carry the ISA, through a function target
// attribute; no inline function shared with other translation units is emitted with AVX-512
// instructions, and the dispatcher calls direct_u8s8_vnni only when cpu_features().avx512vnni.
//
// Operands: activations as u8 (s8 inputs + 128, z_x + 128; padding holds z_x), symmetric s8
// weights (z_w = 0), so Σ x·w ∈ [−K·255·128, K·255·127] fits int32 for K ≤ 65536 (65536·32640 <
// 2^31); the epilogue adds bias − z_x·Σ_k w[c][k], folded per channel by prepare().
//
// The micro-kernel (block): MR rows × NV vectors of accumulators (MR·NV ≤ 24 of the 32 vector
// registers), per k-slot NV unaligned loads, MR broadcasts and MR·NV vpdpbusd. Convolutions:
// the loaded vectors are 16 (zmm) / 8 (ymm) consecutive slots of the staged u8 image, the
// broadcasts one s8 weight quad per output channel. Fully connected: the loaded vectors are 16 /
// 8 output columns of packed s8 weights, the broadcasts one u8 input quad per batch row.
//
// Epilogue, fused when the profile is `ort` (or the output s32) and the bias add cannot
// saturate: acc + bias (wrapping int32 add, proven exact by prepare()), then exactly
// requantize_ort's float32 operations — vcvtdq2ps (nearest even), one vmulps (no FMA: this file
// is built with -ffp-contract=off), vmaxps/vminps against qmin − z_y / qmax − z_y, vcvtps2dq
// (MXCSR nearest even), + z_y — then vpmovdb (the values are inside the 8-bit type) and a
// masked byte store per segment (vpcompressd first when the segment starts past lane 0).
// Otherwise the sums go through Requantizer::apply per element (s8_driver.h epilogue_scalar).
#include <immintrin.h>

#include <algorithm>

#include "ei8/runtime/kernels/s8_driver.h"

#define EI8_TARGET_VNNI __attribute__((target("avx2,fma,avx512f,avx512vl,avx512bw,avx512vnni")))
#define EI8_VNNI_INLINE EI8_TARGET_VNNI inline __attribute__((always_inline))

namespace ei8::kernels {
namespace {

// 16 int32 lanes in a zmm register.
struct Zmm {
  using I = __m512i;
  using F = __m512;
  using M = __mmask16;
  static constexpr int kLanes = 16;
  static EI8_VNNI_INLINE I zero() { return _mm512_setzero_si512(); }
  static EI8_VNNI_INLINE I loadu(const int32_t* p) { return _mm512_loadu_si512(p); }
  static EI8_VNNI_INLINE I bcast(const int32_t* p) { return _mm512_set1_epi32(*p); }
  static EI8_VNNI_INLINE I dpbusd(I acc, I u8, I s8) { return _mm512_dpbusd_epi32(acc, u8, s8); }
  static EI8_VNNI_INLINE I add(I a, I b) { return _mm512_add_epi32(a, b); }
  static EI8_VNNI_INLINE I set1(int32_t v) { return _mm512_set1_epi32(v); }
  static EI8_VNNI_INLINE F set1f(float v) { return _mm512_set1_ps(v); }
  static EI8_VNNI_INLINE I maskz_loadu(M m, const int32_t* p) {
    return _mm512_maskz_loadu_epi32(m, p);
  }
  static EI8_VNNI_INLINE F maskz_loadu(M m, const float* p) { return _mm512_maskz_loadu_ps(m, p); }
  // requantize_ort on every lane: float(acc)·mult, clamp to [lo, hi], round half even, + z_y.
  static EI8_VNNI_INLINE I requant(I acc, F mult, F lo, F hi, I zy) {
    F f = _mm512_mul_ps(_mm512_cvtepi32_ps(acc), mult);
    f = _mm512_min_ps(_mm512_max_ps(f, lo), hi);
    return _mm512_add_epi32(_mm512_cvtps_epi32(f), zy);
  }
  static EI8_VNNI_INLINE M mask(int begin, int end) {
    return static_cast<M>(((1u << (end - begin)) - 1u) << begin);
  }
  static EI8_VNNI_INLINE I compress(M m, I v) { return _mm512_maskz_compress_epi32(m, v); }
  // The first n lanes as bytes (values already inside the 8-bit type).
  static EI8_VNNI_INLINE void store_bytes(void* p, I v, int n) {
    const __m128i b = _mm512_cvtepi32_epi8(v);
    if (n == kLanes) {
      _mm_storeu_si128(static_cast<__m128i*>(p), b);
    } else {
      _mm_mask_storeu_epi8(p, static_cast<__mmask16>((1u << n) - 1u), b);
    }
  }
  static EI8_VNNI_INLINE void store_s32(int32_t* p, I v, int n) {
    if (n == kLanes) {
      _mm512_storeu_si512(p, v);
    } else {
      _mm512_mask_storeu_epi32(p, static_cast<M>((1u << n) - 1u), v);
    }
  }
  static EI8_VNNI_INLINE void store(int32_t* p, I v) { _mm512_storeu_si512(p, v); }
};

// 8 int32 lanes in a ymm register (EVEX encoding: AVX-512 VL + VNNI).
struct Ymm {
  using I = __m256i;
  using F = __m256;
  using M = __mmask8;
  static constexpr int kLanes = 8;
  static EI8_VNNI_INLINE I zero() { return _mm256_setzero_si256(); }
  static EI8_VNNI_INLINE I loadu(const int32_t* p) {
    return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
  }
  static EI8_VNNI_INLINE I bcast(const int32_t* p) { return _mm256_set1_epi32(*p); }
  static EI8_VNNI_INLINE I dpbusd(I acc, I u8, I s8) { return _mm256_dpbusd_epi32(acc, u8, s8); }
  static EI8_VNNI_INLINE I add(I a, I b) { return _mm256_add_epi32(a, b); }
  static EI8_VNNI_INLINE I set1(int32_t v) { return _mm256_set1_epi32(v); }
  static EI8_VNNI_INLINE F set1f(float v) { return _mm256_set1_ps(v); }
  static EI8_VNNI_INLINE I maskz_loadu(M m, const int32_t* p) {
    return _mm256_maskz_loadu_epi32(m, p);
  }
  static EI8_VNNI_INLINE F maskz_loadu(M m, const float* p) { return _mm256_maskz_loadu_ps(m, p); }
  static EI8_VNNI_INLINE I requant(I acc, F mult, F lo, F hi, I zy) {
    F f = _mm256_mul_ps(_mm256_cvtepi32_ps(acc), mult);
    f = _mm256_min_ps(_mm256_max_ps(f, lo), hi);
    return _mm256_add_epi32(_mm256_cvtps_epi32(f), zy);
  }
  static EI8_VNNI_INLINE M mask(int begin, int end) {
    return static_cast<M>(((1u << (end - begin)) - 1u) << begin);
  }
  static EI8_VNNI_INLINE I compress(M m, I v) { return _mm256_maskz_compress_epi32(m, v); }
  static EI8_VNNI_INLINE void store_bytes(void* p, I v, int n) {
    const __m128i b = _mm256_cvtepi32_epi8(v);
    if (n == kLanes) {
      _mm_storel_epi64(static_cast<__m128i*>(p), b);
    } else {
      _mm_mask_storeu_epi8(p, static_cast<__mmask16>((1u << n) - 1u), b);
    }
  }
  static EI8_VNNI_INLINE void store_s32(int32_t* p, I v, int n) {
    if (n == kLanes) {
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), v);
    } else {
      _mm256_mask_storeu_epi32(p, static_cast<M>((1u << n) - 1u), v);
    }
  }
  static EI8_VNNI_INLINE void store(int32_t* p, I v) {
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), v);
  }
};

// How a finished block leaves the registers (chosen once per call, see the file comment).
enum class Out { kOrtBytes, kS32, kScalar };

template <class V>
EI8_VNNI_INLINE void store_lanes(const VnniArgs& a, Out how, typename V::I q, int lb, int le,
                                 int64_t dst) {
  if (lb > 0) q = V::compress(V::mask(lb, le), q);
  if (how == Out::kS32) {
    V::store_s32(static_cast<int32_t*>(a.out) + dst, q, le - lb);
  } else {
    V::store_bytes(static_cast<int8_t*>(a.out) + dst, q, le - lb);
  }
}

// Writes row r (channel chan for convolutions) of vector v from the accumulator c.
template <class V>
EI8_VNNI_INLINE void epilogue_conv(const VnniArgs& a, Out how, typename V::I c, int64_t row,
                                   int64_t v) {
  const S8Epilogue& e = *a.e;
  const int64_t ch = a.chan0 + row;
  const int64_t base = a.dst0 + row * a.row_stride;
  if (how == Out::kScalar) {
    alignas(64) int32_t tmp[V::kLanes];
    V::store(tmp, c);
    for (int32_t s = a.seg_begin[v]; s < a.seg_begin[v + 1]; ++s) {
      const VnniSeg& g = a.segs[s];
      s8::epilogue_scalar(e, tmp + g.lane_begin, ch, a.out, base + g.out, 0,
                          g.lane_end - g.lane_begin);
    }
    return;
  }
  typename V::I q = V::add(c, V::set1(e.bias32[ch]));
  if (how == Out::kOrtBytes) {
    q = V::requant(q, V::set1f(e.mult[ch]), V::set1f(e.lo), V::set1f(e.hi), V::set1(e.zy));
  }
  for (int32_t s = a.seg_begin[v]; s < a.seg_begin[v + 1]; ++s) {
    const VnniSeg& g = a.segs[s];
    store_lanes<V>(a, how, q, g.lane_begin, g.lane_end, base + g.out);
  }
}

// Fully connected: lanes are output columns [col, col + n) of batch row `row`.
template <class V>
EI8_VNNI_INLINE void epilogue_fc(const VnniArgs& a, Out how, typename V::I c, int64_t row,
                                 int64_t v) {
  const S8Epilogue& e = *a.e;
  const VnniSeg& g = a.segs[a.seg_begin[v]];  // one segment from lane 0
  const int64_t col = g.out, n = g.lane_end;
  const int64_t dst = a.dst0 + row * a.row_stride + col;
  if (how == Out::kScalar) {
    alignas(64) int32_t tmp[V::kLanes];
    V::store(tmp, c);
    s8::epilogue_scalar(e, tmp, col, a.out, dst, 0, n);
    return;
  }
  const auto m = V::mask(0, static_cast<int>(n));
  typename V::I q = V::add(c, V::maskz_loadu(m, e.bias32 + col));
  if (how == Out::kOrtBytes) {
    q = V::requant(q, V::maskz_loadu(m, e.mult + col), V::set1f(e.lo), V::set1f(e.hi),
                   V::set1(e.zy));
  }
  store_lanes<V>(a, how, q, 0, static_cast<int>(n), dst);
}

// One register block: rows [r0, r0 + rows) of row block `ablk`, vectors [v0, v0 + NV).
template <class V, int MR, int NV, bool kConv>
EI8_TARGET_VNNI void block(const VnniArgs& a, Out how, const int32_t* ablk, int64_t r0, int rows,
                           int64_t v0) {
  using I = typename V::I;
  I c[MR][NV];
#pragma GCC unroll 8
  for (int r = 0; r < MR; ++r)
#pragma GCC unroll 8
    for (int v = 0; v < NV; ++v) c[r][v] = V::zero();
  const int32_t* xp[NV];
#pragma GCC unroll 8
  for (int v = 0; v < NV; ++v) xp[v] = a.src + a.vin[v0 + v];
  const int32_t* koff = a.koff;
  const int64_t ks = a.ks;
  for (int64_t k = 0; k < ks; ++k) {
    const int64_t off = koff[k];
    const int32_t* w = ablk + k * MR;
    I x[NV];
#pragma GCC unroll 8
    for (int v = 0; v < NV; ++v) x[v] = V::loadu(xp[v] + off);
#pragma GCC unroll 8
    for (int r = 0; r < MR; ++r) {
      const I b = V::bcast(w + r);
#pragma GCC unroll 8
      for (int v = 0; v < NV; ++v) {
        // u8 operand first: the activations (conv: the loaded vectors; fc: the broadcasts).
        c[r][v] = kConv ? V::dpbusd(c[r][v], x[v], b) : V::dpbusd(c[r][v], b, x[v]);
      }
    }
  }
#pragma GCC unroll 8
  for (int r = 0; r < MR; ++r) {
    if (r >= rows) break;
#pragma GCC unroll 8
    for (int v = 0; v < NV; ++v) {
      if constexpr (kConv) {
        epilogue_conv<V>(a, how, c[r][v], r0 + r, v0 + v);
      } else {
        epilogue_fc<V>(a, how, c[r][v], r0 + r, v0 + v);
      }
    }
  }
}

template <class V, int MR, int NVMAX, bool kConv>
void block_nv(const VnniArgs& a, Out how, const int32_t* ablk, int64_t r0, int rows, int64_t v0,
              int nv) {
  static_assert(NVMAX >= 1 && NVMAX <= 6);
  switch (nv) {
    case 6:
      if constexpr (NVMAX >= 6) block<V, MR, 6, kConv>(a, how, ablk, r0, rows, v0);
      break;
    case 5:
      if constexpr (NVMAX >= 5) block<V, MR, 5, kConv>(a, how, ablk, r0, rows, v0);
      break;
    case 4:
      if constexpr (NVMAX >= 4) block<V, MR, 4, kConv>(a, how, ablk, r0, rows, v0);
      break;
    case 3:
      if constexpr (NVMAX >= 3) block<V, MR, 3, kConv>(a, how, ablk, r0, rows, v0);
      break;
    case 2:
      if constexpr (NVMAX >= 2) block<V, MR, 2, kConv>(a, how, ablk, r0, rows, v0);
      break;
    default:
      block<V, MR, 1, kConv>(a, how, ablk, r0, rows, v0);
      break;
  }
}

// The loop nest over row blocks and vector groups, in the plan's order.
template <class V, int MR, int NVMAX, bool kConv>
void drive(const VnniArgs& a, Out how) {
  const int64_t blocks = (a.m + MR - 1) / MR;
  const int nvmax = std::min(NVMAX, a.plan.nv);
  auto one = [&](int64_t blk, int64_t v0) {
    const int64_t r0 = blk * MR;
    const int rows = static_cast<int>(std::min<int64_t>(MR, a.m - r0));
    const int nv = static_cast<int>(std::min<int64_t>(nvmax, a.n_vec - v0));
    block_nv<V, MR, NVMAX, kConv>(a, how, a.apack + blk * a.ks * MR, r0, rows, v0, nv);
  };
  if (a.plan.rows_outer) {
    for (int64_t blk = 0; blk < blocks; ++blk)
      for (int64_t v0 = 0; v0 < a.n_vec; v0 += nvmax) one(blk, v0);
  } else {
    for (int64_t v0 = 0; v0 < a.n_vec; v0 += nvmax)
      for (int64_t blk = 0; blk < blocks; ++blk) one(blk, v0);
  }
}

template <class V, bool kConv>
void drive_mr(const VnniArgs& a, Out how) {
  if (a.plan.mr == 8) {
    drive<V, 8, 3, kConv>(a, how);
  } else if (a.plan.mr == 1) {
    drive<V, 1, 6, kConv>(a, how);
  } else {
    drive<V, 4, 6, kConv>(a, how);
  }
}

}  // namespace

void direct_u8s8_vnni(const VnniArgs& a) {
  const S8Epilogue& e = *a.e;
  Out how = Out::kScalar;
  if (!e.saturate && e.out == IntType::kS32) how = Out::kS32;
  if (!e.saturate && e.out != IntType::kS32 && e.ort) how = Out::kOrtBytes;
  if (a.plan.lanes == 16) {
    if (a.conv) {
      drive_mr<Zmm, true>(a, how);
    } else {
      drive_mr<Zmm, false>(a, how);
    }
  } else {
    if (a.conv) {
      drive_mr<Ymm, true>(a, how);
    } else {
      drive_mr<Ymm, false>(a, how);
    }
  }
}

}  // namespace ei8::kernels
