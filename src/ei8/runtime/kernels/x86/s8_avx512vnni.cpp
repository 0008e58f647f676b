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

#include "ei8/fixedpoint/quantize_x86.h"
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
    return fixedpoint::requantize_ort_x16(acc, mult, lo, hi, zy);
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
    return fixedpoint::requantize_ort_x8(acc, mult, lo, hi, zy);
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

// A convolution block's epilogue when each of its vectors is one segment from lane 0 (vectors
// along output rows; grid vectors inside one row): epilogue_conv's operations, with everything
// the stores could alias (a byte store may alias any object, so the compiler reloads it after
// each store) read into locals once per block. False, doing nothing, otherwise.
template <class V, int MR, int NV>
EI8_VNNI_INLINE bool epilogue_conv_rows(const VnniArgs& a, Out how,
                                        const typename V::I (&c)[MR][NV], int64_t r0, int rows,
                                        int64_t v0) {
  int64_t at[NV];
  int n[NV];
#pragma GCC unroll 8
  for (int v = 0; v < NV; ++v) {
    const int32_t s = a.seg_begin[v0 + v];
    if (a.seg_begin[v0 + v + 1] != s + 1 || a.segs[s].lane_begin != 0) return false;
    n[v] = a.segs[s].lane_end;
    at[v] = a.segs[s].out;
  }
  const S8Epilogue& e = *a.e;
  const int32_t* const bias = e.bias32 + a.chan0 + r0;
  const float* const mult = how == Out::kOrtBytes ? e.mult + a.chan0 + r0 : nullptr;
  const typename V::F lo = V::set1f(e.lo), hi = V::set1f(e.hi);
  const typename V::I zy = V::set1(e.zy);
  const int64_t rs = a.row_stride, base = a.dst0 + r0 * rs;
  void* const out = a.out;
#pragma GCC unroll 8
  for (int r = 0; r < MR; ++r) {
    if (r >= rows) break;
    const typename V::I b = V::set1(bias[r]);
    const int64_t row = base + r * rs;
    if (how == Out::kS32) {
#pragma GCC unroll 8
      for (int v = 0; v < NV; ++v) {
        V::store_s32(static_cast<int32_t*>(out) + row + at[v], V::add(c[r][v], b), n[v]);
      }
      continue;
    }
    const typename V::F m = V::set1f(mult[r]);
#pragma GCC unroll 8
    for (int v = 0; v < NV; ++v) {
      V::store_bytes(static_cast<int8_t*>(out) + row + at[v],
                     V::requant(V::add(c[r][v], b), m, lo, hi, zy), n[v]);
    }
  }
  return true;
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
  if constexpr (kConv) {
    if (how != Out::kScalar && epilogue_conv_rows<V, MR, NV>(a, how, c, r0, rows, v0)) return;
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

// Depthwise on u8 quads (s8_internal.h S8DwQuads): 4 zmm accumulators (64 positions) at a
// time, each weight quad broadcast once per 64 positions; the accumulators start at −corr (and
// + bias when the epilogue is fused: the wrapping add epilogue_conv does).
EI8_TARGET_VNNI void dw_quads_vnni(const S8DwQuads& a) {
  const S8Epilogue* e = a.e;
  uint32_t init = 0u - static_cast<uint32_t>(a.corr);
  if (e != nullptr) init += static_cast<uint32_t>(e->bias32[a.chan]);
  const __m512i vinit = _mm512_set1_epi32(static_cast<int32_t>(init));
  const bool s32 = e != nullptr && e->out == IntType::kS32;
  const __m512 mult = _mm512_set1_ps(e != nullptr && !s32 ? e->mult[a.chan] : 0.0f);
  const __m512 lo = _mm512_set1_ps(e != nullptr ? e->lo : 0.0f);
  const __m512 hi = _mm512_set1_ps(e != nullptr ? e->hi : 0.0f);
  const __m512i zy = _mm512_set1_epi32(e != nullptr ? e->zy : 0);
  const auto* img = reinterpret_cast<const int32_t*>(a.img);
  for (int64_t j = 0; j < a.n; j += 64) {
    __m512i s[4] = {vinit, vinit, vinit, vinit};
    for (int64_t q = 0; q < a.nq; ++q) {
      const __m512i w = _mm512_set1_epi32(a.wq[q]);
      const int32_t* p = img + a.qoff[q] + j;
#pragma GCC unroll 4
      for (int v = 0; v < 4; ++v)
        s[v] = _mm512_dpbusd_epi32(s[v], _mm512_loadu_si512(p + 16 * v), w);
    }
    if (e == nullptr) {
#pragma GCC unroll 4
      for (int v = 0; v < 4; ++v) _mm512_storeu_si512(a.sum + j + 16 * v, s[v]);
      continue;
    }
#pragma GCC unroll 4
    for (int v = 0; v < 4; ++v) {
      const int64_t n = std::min<int64_t>(16, a.n - j - 16 * v);
      if (n <= 0) break;
      const int64_t d = a.dst + j + 16 * v;
      if (s32) {
        Zmm::store_s32(static_cast<int32_t*>(a.out) + d, s[v], static_cast<int>(n));
      } else {
        Zmm::store_bytes(static_cast<int8_t*>(a.out) + d, Zmm::requant(s[v], mult, lo, hi, zy),
                         static_cast<int>(n));
      }
    }
  }
}

// Per byte row, 16 quads per step: each 128-bit lane loads 16 bytes at sw·(c + 4i) and vpshufb
// picks the bytes sw·t .. sw·t + 3 of its 4 quads t (≤ 15 for sw ≤ 4). The input rows are
// copied with masked 64-byte loads and stores (no read past the row).
EI8_TARGET_VNNI void dw_stage_vnni(const S8DwStage& a) {
  const int64_t s = a.sw, n = a.g;
  alignas(64) int8_t pick[64];  // the same 16 indices in every 128-bit lane
  for (int i = 0; i < 64; ++i) pick[i] = static_cast<int8_t>(s * ((i % 16) / 4) + i % 4);
  const __m512i sel = _mm512_load_si512(pick);
  const __m512i flip = _mm512_set1_epi8(static_cast<char>(a.flip));
  const int64_t g16 = (n + 15) / 16 * 16;
  if (a.x != nullptr && a.pad_left + a.in_w <= 128 && s * (g16 - 16) / 4 + 3 * s + 3 <= 31) {
    // Rows of ≤ 128 padded bytes stay in two registers (writing them to memory and reading them
    // back at other offsets stalls on store forwarding): the padding byte everywhere, the input
    // row merged in by masked loads (masked-off bytes are not read), then per 16 quads vpermt2d
    // picks each lane's 16-byte window (dword offsets s·c / 4 + s·i) and vpshufb the quads.
    const __m512i pad = _mm512_set1_epi8(static_cast<char>(a.zpad ^ a.flip));
    alignas(64) int32_t win[16];
    for (int i = 0; i < 16; ++i) win[i] = static_cast<int32_t>(s * (i / 4) + i % 4);
    const __m512i win0 = _mm512_load_si512(win);
    const int64_t end = a.pad_left + a.in_w;  // padded bytes [pad_left, end) hold the row
    const __mmask64 m0 = (end >= 64 ? ~__mmask64{0} : (__mmask64{1} << end) - 1) &
                         ~((__mmask64{1} << a.pad_left) - 1);
    const __mmask64 m1 =
        end <= 64 ? 0 : (end >= 128 ? ~__mmask64{0} : (__mmask64{1} << (end - 64)) - 1);
    for (int64_t r = a.r0; r < a.r1; ++r) {
      const uint8_t* xr = a.x + (r - a.pad_top) * a.in_w - a.pad_left;
      const __m512i r0 = _mm512_xor_si512(_mm512_mask_loadu_epi8(pad, m0, xr), flip);
      const __m512i r1 = _mm512_xor_si512(_mm512_mask_loadu_epi8(pad, m1, xr + 64), flip);
      uint32_t* dst = a.q + ((r % a.sh) * a.hr + r / a.sh) * a.g;
      for (int64_t c = 0; c < n; c += 16) {
        const __m512i idx =
            _mm512_add_epi32(win0, _mm512_set1_epi32(static_cast<int32_t>(s * c / 4)));
        const __m512i v = _mm512_shuffle_epi8(_mm512_permutex2var_epi32(r0, idx, r1), sel);
        if (n - c >= 16) {
          _mm512_storeu_si512(dst + c, v);
        } else {
          _mm512_mask_storeu_epi32(dst + c, static_cast<__mmask16>((1u << (n - c)) - 1u), v);
        }
      }
    }
    return;
  }
  for (int64_t r = a.r0; r < a.r1; ++r) {
    uint8_t* br = a.b + r * a.brow;
    if (a.x != nullptr) {
      const uint8_t* xr = a.x + (r - a.pad_top) * a.in_w;
      for (int64_t c = 0; c < a.in_w; c += 64) {
        const __mmask64 m = a.in_w - c >= 64 ? ~__mmask64{0} : (__mmask64{1} << (a.in_w - c)) - 1;
        const __m512i v = _mm512_xor_si512(_mm512_maskz_loadu_epi8(m, xr + c), flip);
        _mm512_mask_storeu_epi8(br + a.pad_left + c, m, v);
      }
    }
    uint32_t* dst = a.q + ((r % a.sh) * a.hr + r / a.sh) * a.g;
    for (int64_t c = 0; c < n; c += 16) {
      const uint8_t* b = br + s * c;
      __m512i v = _mm512_zextsi128_si512(_mm_loadu_si128(reinterpret_cast<const __m128i*>(b)));
      v = _mm512_inserti32x4(v, _mm_loadu_si128(reinterpret_cast<const __m128i*>(b + 4 * s)), 1);
      v = _mm512_inserti32x4(v, _mm_loadu_si128(reinterpret_cast<const __m128i*>(b + 8 * s)), 2);
      v = _mm512_inserti32x4(v, _mm_loadu_si128(reinterpret_cast<const __m128i*>(b + 12 * s)), 3);
      v = _mm512_shuffle_epi8(v, sel);
      if (n - c >= 16) {
        _mm512_storeu_si512(dst + c, v);
      } else {
        _mm512_mask_storeu_epi32(dst + c, static_cast<__mmask16>((1u << (n - c)) - 1u), v);
      }
    }
  }
}

// 64 bytes per step: vpermt2b looks each index up in entries 0..127 and 128..255 (its low 7
// bits), the index's top bit picks one of the two; masked load and store for the tail.
__attribute__((target("avx2,avx512f,avx512vl,avx512bw,avx512vbmi"))) void lookup_table_u8_vbmi(
    const uint8_t* table, uint8_t flip, const uint8_t* x, uint8_t* y, int64_t n) {
  const __m512i t0 = _mm512_loadu_si512(table), t1 = _mm512_loadu_si512(table + 64);
  const __m512i t2 = _mm512_loadu_si512(table + 128), t3 = _mm512_loadu_si512(table + 192);
  const __m512i f = _mm512_set1_epi8(static_cast<char>(flip));
  for (int64_t k = 0; k < n; k += 64) {
    const __mmask64 m = n - k >= 64 ? ~__mmask64{0} : (__mmask64{1} << (n - k)) - 1;
    const __m512i i = _mm512_xor_si512(_mm512_maskz_loadu_epi8(m, x + k), f);
    const __m512i lo = _mm512_permutex2var_epi8(t0, i, t1);
    const __m512i hi = _mm512_permutex2var_epi8(t2, i, t3);
    _mm512_mask_storeu_epi8(y + k, m, _mm512_mask_blend_epi8(_mm512_movepi8_mask(i), lo, hi));
  }
}

}  // namespace ei8::kernels
