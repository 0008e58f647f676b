// ei8/runtime/kernels/f32_tiles.h — internal: the FP32 micro-kernels written once over a
// vector abstraction `Ops` of kL = 8 or 16 float lanes. Each tier's translation unit
// (generic/, x86/) defines its own Ops in an anonymous namespace and instantiates these
// templates with its own compile flags, so no instruction of one tier leaks into another
// (STYLE.md 5).
//
// Ops must provide: kL (lanes), kRegs (vector registers: 16 or 32, sizes the tiles); type V;
// load/bcast/set1/store/store_n(p, v, n ≤ kL); fma(a, b, c) = a·b + c; min/max;
// leaky(v, alpha) = v < 0 ? alpha·v : v; load_n(p, n) (lanes ≥ n = 0, never touched).
#pragma once

#include <algorithm>
#include <cstdint>
#include <limits>
#include <type_traits>
#include <utility>

#include "ei8/runtime/kernels/f32_internal.h"

namespace ei8::kernels::tiles {

// The epilogue every tile applies: clamp(v, lo, hi) covers none (±inf), relu (0, inf) and
// clip; leaky_relu (kEpiLeaky) and silu (kEpiSilu, the convolution tiles only: Ops::silu,
// silu_f32's expression) are the non-clamp ones. The bounds are kept as floats and broadcast
// when applied: three vectors live across a tile's K loop would push a 24-accumulator AVX-512
// tile (24 + 4 operands + 1 broadcast of 32 zmm) into spilling its operands.
inline constexpr int kEpiClamp = 0, kEpiLeaky = 1, kEpiSilu = 2;
inline int epi_mode(const Activation& act) {
  return act.kind == ActKind::kLeakyRelu ? kEpiLeaky
         : act.kind == ActKind::kSilu    ? kEpiSilu
                                         : kEpiClamp;
}
template <class Ops>
struct Epi {
  float lo, hi, alpha;
  explicit Epi(const Activation& act) {
    const float inf = std::numeric_limits<float>::infinity();
    lo = -inf;
    hi = inf;
    if (act.kind == ActKind::kRelu) lo = 0.0f;
    if (act.kind == ActKind::kClip) lo = act.lo, hi = act.hi;
    alpha = act.alpha;
  }
  // kMode: kEpiClamp, kEpiLeaky or kEpiSilu (a bool `leaky` converts to the first two).
  template <int kMode>
  typename Ops::V apply(typename Ops::V v) const {
    if constexpr (kMode == kEpiSilu) return Ops::silu(v);
    if constexpr (kMode == kEpiLeaky) return Ops::leaky(v, Ops::bcast(&alpha));
    return Ops::min(Ops::max(v, Ops::bcast(&lo)), Ops::bcast(&hi));
  }
};

// NV pixel vectors of one tile column: where they are read and written.
template <int NV>
struct VecGroup {
  const float* src[NV];  // staged lane 0 of each vector (repeats vector 0 past `count`)
  int64_t out[NV];       // destination offset of lane 0
  int len[NV];           // valid lanes
  int count;             // real vectors (≤ NV)
  bool full;             // count == NV and every len == kL
};

// An MR × (kL·NV) tile of a direct convolution: MR output channels starting at oc0 times the
// NV pixel vectors of `g`. Accumulators start at the bias, exactly like the reference.
//
// K blocking: taps [k0, k1) only, `w` = this row block's packed weights of that K block
// ([k1 − k0][MR], f32_internal.h). The first block starts from the bias, later blocks from the
// partial sums left in dst; only the last block applies the activation (`last`).
template <class Ops, int MR, int NV, int kMode>
[[gnu::always_inline]] inline void conv_tile(const DirectConvArgs& a, const VecGroup<NV>& g,
                                             const float* w, const float* bias, int rows,
                                             int64_t oc0, const Epi<Ops>& epi, int64_t k0,
                                             int64_t k1) {
  using V = typename Ops::V;
  const bool first = k0 == 0, last = k1 == a.k;
  float* dst = a.dst + oc0 * a.out_plane;
  V acc[MR][NV];
  if (first) {
#pragma GCC unroll 8
    for (int r = 0; r < MR; ++r) {
      const V bv = Ops::bcast(bias + r);
#pragma GCC unroll 8
      for (int j = 0; j < NV; ++j) acc[r][j] = bv;
    }
  } else {
#pragma GCC unroll 8
    for (int r = 0; r < MR; ++r) {
#pragma GCC unroll 8
      for (int j = 0; j < NV; ++j) {
        // Rows past `rows` and vectors past `count` are never stored: any finite start will do.
        const int rr = r < rows ? r : 0, jj = j < g.count ? j : 0;
        acc[r][j] = Ops::load_n(dst + rr * a.out_plane + g.out[jj], g.len[jj]);
      }
    }
  }
  const float* base[NV];
#pragma GCC unroll 8
  for (int j = 0; j < NV; ++j) base[j] = g.src[j];
  const int32_t* koff = a.koff;
  for (int64_t kk = k0; kk < k1; ++kk) {
    const int64_t o = koff[kk];
    V b[NV];
#pragma GCC unroll 8
    for (int j = 0; j < NV; ++j) b[j] = Ops::load(base[j] + o);
    const float* wk = w + (kk - k0) * MR;
#pragma GCC unroll 8
    for (int r = 0; r < MR; ++r) {
      const V av = Ops::bcast(wk + r);
#pragma GCC unroll 8
      for (int j = 0; j < NV; ++j) acc[r][j] = Ops::fma(av, b[j], acc[r][j]);
    }
  }
  if (!last) {  // partial sums, no activation
#pragma GCC unroll 8
    for (int r = 0; r < MR; ++r) {
      if (r >= rows) break;
#pragma GCC unroll 8
      for (int j = 0; j < NV; ++j) {
        if (j >= g.count) break;
        Ops::store_n(dst + r * a.out_plane + g.out[j], acc[r][j], g.len[j]);
      }
    }
    return;
  }
  if (g.full && rows == MR) {  // the common case: no masks, no bounds
#pragma GCC unroll 8
    for (int r = 0; r < MR; ++r) {
#pragma GCC unroll 8
      for (int j = 0; j < NV; ++j) {
        Ops::store(dst + r * a.out_plane + g.out[j], epi.template apply<kMode>(acc[r][j]));
      }
    }
    return;
  }
#pragma GCC unroll 8
  for (int r = 0; r < MR; ++r) {
    if (r >= rows) break;
#pragma GCC unroll 8
    for (int j = 0; j < NV; ++j) {
      if (j >= g.count) break;
      const V v = epi.template apply<kMode>(acc[r][j]);
      float* out = dst + r * a.out_plane + g.out[j];
      if (g.len[j] == Ops::kL) {
        Ops::store(out, v);
      } else {
        Ops::store_n(out, v, g.len[j]);
      }
    }
  }
}

template <class Ops, int MR, int NV, int kMode>
void conv_direct(const DirectConvArgs& a) {
  const Epi<Ops> epi(a.act);
  const int64_t blocks = (a.out_c + MR - 1) / MR;
  // K blocks (direct_k_block, f32_internal.h) whose NV staged operand vectors stay in L1 while
  // every output-channel block reuses them; the weights of one K block are one contiguous run
  // over the row blocks, streamed once per vector group.
  const int64_t kc = direct_k_block(a.k, NV, Ops::kL);
  for (int64_t v0 = 0; v0 < a.n_vec; v0 += NV) {
    VecGroup<NV> g;
    g.count = static_cast<int>(std::min<int64_t>(NV, a.n_vec - v0));
    g.full = g.count == NV;
    for (int j = 0; j < NV; ++j) {
      const int64_t v = v0 + (j < g.count ? j : 0);
      g.src[j] = a.src + a.vin[v];
      g.out[j] = a.vout[v];
      g.len[j] = a.vlen[v];
      g.full = g.full && g.len[j] == Ops::kL;
    }
    for (int64_t k0 = 0; k0 < a.k; k0 += kc) {
      const int64_t k1 = std::min(a.k, k0 + kc);
      for (int64_t b = 0; b < blocks; ++b) {
        const int rows = static_cast<int>(std::min<int64_t>(MR, a.out_c - b * MR));
        conv_tile<Ops, MR, NV, kMode>(a, g, a.wpack + (k0 * blocks + b * (k1 - k0)) * MR,
                                      a.bias + b * MR, rows, b * MR, epi, k0, k1);
      }
    }
  }
}

template <class Ops, int MR, int NV>
void conv_direct_act(const DirectConvArgs& a) {
  switch (epi_mode(a.act)) {
    case kEpiLeaky:
      return conv_direct<Ops, MR, NV, kEpiLeaky>(a);
    case kEpiSilu:
      return conv_direct<Ops, MR, NV, kEpiSilu>(a);
    default:
      return conv_direct<Ops, MR, NV, kEpiClamp>(a);
  }
}

// One output channel with a small compile-time K (depthwise 3×3 and 5×5: K = 9, 25): the
// MR = 1 tile with the K weights broadcast once per call and kept in registers (or, past the
// register file, re-read as FMA memory operands), the tap offsets hoisted, the tap loop fully
// unrolled, and NV independent pixel vectors per step. Every output is the same sum in the
// same order as conv_tile's (bias, then taps 0..K−1 by FMA): the same bits.
template <class Ops, int K, int NV, int kMode>
void conv_depthwise(const DirectConvArgs& a) {
  using V = typename Ops::V;
  const Epi<Ops> epi(a.act);
  int64_t koff[K];
  V w[K];
#pragma GCC unroll 32
  for (int k = 0; k < K; ++k) {
    koff[k] = a.koff[k];
    w[k] = Ops::bcast(a.wpack + k);
  }
  const V bias = Ops::bcast(a.bias);
  const auto store = [&](int64_t v, V acc) {
    float* out = a.dst + a.vout[v];
    const V y = epi.template apply<kMode>(acc);
    if (a.vlen[v] == Ops::kL) {
      Ops::store(out, y);
    } else {
      Ops::store_n(out, y, a.vlen[v]);
    }
  };
  int64_t v0 = 0;
  for (; v0 + NV <= a.n_vec; v0 += NV) {
    const float* src[NV];
    V acc[NV];
#pragma GCC unroll 8
    for (int j = 0; j < NV; ++j) {
      src[j] = a.src + a.vin[v0 + j];
      acc[j] = bias;
    }
#pragma GCC unroll 32
    for (int k = 0; k < K; ++k) {
#pragma GCC unroll 8
      for (int j = 0; j < NV; ++j) acc[j] = Ops::fma(w[k], Ops::load(src[j] + koff[k]), acc[j]);
    }
#pragma GCC unroll 8
    for (int j = 0; j < NV; ++j) store(v0 + j, acc[j]);
  }
  for (; v0 < a.n_vec; ++v0) {
    const float* src = a.src + a.vin[v0];
    V acc = bias;
#pragma GCC unroll 32
    for (int k = 0; k < K; ++k) acc = Ops::fma(w[k], Ops::load(src + koff[k]), acc);
    store(v0, acc);
  }
}

template <class Ops, int K>
void conv_depthwise_act(const DirectConvArgs& a) {
  constexpr int kNv = Ops::kRegs >= 32 ? 8 : 4;
  switch (epi_mode(a.act)) {
    case kEpiLeaky:
      return conv_depthwise<Ops, K, kNv, kEpiLeaky>(a);
    case kEpiSilu:
      return conv_depthwise<Ops, K, kNv, kEpiSilu>(a);
    default:
      return conv_depthwise<Ops, K, kNv, kEpiClamp>(a);
  }
}

// PointwiseTArgs (f32_internal.h): MR pixels × NV vectors of output channels per tile; pixels
// past the plane repeat its last pixel (computed, never stored). Planes up to kPwTBlockPlane
// pixels run the taps in K blocks whose weights (≤ 32 KiB) stay in L1 while every pixel tile
// reads them; the partial sums wait in `part` as floats (stored and reloaded exactly, as the
// direct plan's K blocks: the same bits as one pass).
inline constexpr int64_t kPwTBlockPlane = 64;
template <class Ops, int MR, int NV, int kMode>
void conv_pointwise_t(const PointwiseTArgs& a) {
  using V = typename Ops::V;
  constexpr int kL = Ops::kL, kW = kL * NV;
  constexpr int64_t kRows = (kPwTBlockPlane + MR - 1) / MR * MR;
  const Epi<Ops> epi(a.act);
  const int64_t p_last = a.plane - 1;
  const int64_t kc = a.plane <= kPwTBlockPlane ? std::max<int64_t>(1, 32768 / (kW * 4)) : a.k;
  alignas(64) float part[kRows * kW];
  for (int64_t oc0 = 0; oc0 < a.out_c; oc0 += kW) {
    const float* wb = a.wt + oc0 * a.k;  // block oc0 / kW: k·kW floats
    const int64_t oc_n = std::min<int64_t>(kW, a.out_c - oc0);
    for (int64_t k0 = 0; k0 < a.k; k0 += kc) {
      const int64_t k1 = std::min(a.k, k0 + kc);
      const bool first = k0 == 0, last = k1 == a.k;
      for (int64_t p0 = 0; p0 < a.plane; p0 += MR) {
        V acc[MR][NV];
        float* pp = part + p0 * kW;
#pragma GCC unroll 4
        for (int j = 0; j < NV; ++j) {
          const V bv = Ops::load(a.bias + oc0 + kL * j);
#pragma GCC unroll 8
          for (int r = 0; r < MR; ++r) acc[r][j] = first ? bv : Ops::load(pp + r * kW + kL * j);
        }
        const float* xp[MR];
#pragma GCC unroll 8
        for (int r = 0; r < MR; ++r) xp[r] = a.x + std::min(p0 + r, p_last);
        for (int64_t kk = k0; kk < k1; ++kk) {
          V b[NV];
#pragma GCC unroll 4
          for (int j = 0; j < NV; ++j) b[j] = Ops::load(wb + kk * kW + kL * j);
          const int64_t xo = kk * a.plane;
#pragma GCC unroll 8
          for (int r = 0; r < MR; ++r) {
            const V xv = Ops::bcast(xp[r] + xo);
#pragma GCC unroll 4
            for (int j = 0; j < NV; ++j) acc[r][j] = Ops::fma(b[j], xv, acc[r][j]);
          }
        }
        if (!last) {  // partial sums, no activation (rows ≤ kRows: the plane is ≤ 64 here)
#pragma GCC unroll 8
          for (int r = 0; r < MR; ++r) {
#pragma GCC unroll 4
            for (int j = 0; j < NV; ++j) Ops::store(pp + r * kW + kL * j, acc[r][j]);
          }
          continue;
        }
        const int rows = static_cast<int>(std::min<int64_t>(MR, a.plane - p0));
#pragma GCC unroll 8
        for (int r = 0; r < MR; ++r) {
          if (r >= rows) break;
#pragma GCC unroll 4
          for (int j = 0; j < NV; ++j) {
            alignas(64) float lanes[kL];
            Ops::store(lanes, epi.template apply<kMode>(acc[r][j]));
            const int n = static_cast<int>(std::min<int64_t>(kL, oc_n - kL * j));
            float* y = a.y + (oc0 + kL * j) * a.plane + p0 + r;
            for (int l = 0; l < n; ++l) y[l * a.plane] = lanes[l];
          }
        }
      }
    }
  }
}

template <class Ops, int NV>
void conv_pointwise_t_dispatch(const PointwiseTArgs& a) {
  // 7 pixels per tile (49 = 7·7 exactly); planes below 7 take one pixel per tile.
  const auto run = [&]<int MR>() {
    switch (epi_mode(a.act)) {
      case kEpiLeaky:
        return conv_pointwise_t<Ops, MR, NV, kEpiLeaky>(a);
      case kEpiSilu:
        return conv_pointwise_t<Ops, MR, NV, kEpiSilu>(a);
      default:
        return conv_pointwise_t<Ops, MR, NV, kEpiClamp>(a);
    }
  };
  if (a.plane < 7) return run.template operator()<1>();
  run.template operator()<7>();
}

// The tile shapes (f32_internal.h, direct_tile_nv): MR·NV accumulators + NV operands + 1
// broadcast fit the Ops' registers (≤ 12 + 3 + 1 of 16; ≤ 24 + 6 + 1 of 32).
template <class Ops>
void conv_direct_dispatch(const DirectConvArgs& a) {
  constexpr int kR = Ops::kRegs;
  if (a.mr == 1 && a.out_c == 1) {  // one output channel: depthwise
    if (a.k == 9) return conv_depthwise_act<Ops, 9>(a);
    if (a.k == 25) return conv_depthwise_act<Ops, 25>(a);
  }
  switch (a.mr) {
    case 1:
      return conv_direct_act<Ops, 1, direct_tile_nv(kR, 1)>(a);
    case 2:
      return conv_direct_act<Ops, 2, direct_tile_nv(kR, 2)>(a);
    case 3:
      return conv_direct_act<Ops, 3, direct_tile_nv(kR, 3)>(a);
    case 6:
      return conv_direct_act<Ops, 6, direct_tile_nv(kR, 6)>(a);
    case 8:
      if constexpr (kR >= 32) return conv_direct_act<Ops, 8, direct_tile_nv(kR, 8)>(a);
      break;
    default:
      break;
  }
  conv_direct_act<Ops, 4, direct_tile_nv(kR, 4)>(a);
}

// An MR × (kL·NV) tile of Y = A·Bpack + cvec: rows i0.. (all MR real), panel `panel` (cols
// real columns).
template <class Ops, int MR, int NV>
inline void gemm_tile(const PackedGemmArgs& g, int64_t i0, int64_t panel, int cols) {
  const Epi<Ops> epi(g.act);
  const bool leaky = g.act.kind == ActKind::kLeakyRelu;
  using V = typename Ops::V;
  constexpr int kL = Ops::kL;
  constexpr int kNr = kL * NV;
  const float* bp = g.bpack + panel * g.k * kNr;
  const float* cp = g.cvec + panel * kNr;
  V acc[MR][NV];
#pragma GCC unroll 8
  for (int j = 0; j < NV; ++j) {
    const V cv = Ops::load(cp + kL * j);
#pragma GCC unroll 12
    for (int r = 0; r < MR; ++r) acc[r][j] = cv;
  }
  const float* arow[MR];
#pragma GCC unroll 12
  for (int r = 0; r < MR; ++r) arow[r] = g.a + (i0 + r) * g.a_rs;
  for (int64_t kk = 0; kk < g.k; ++kk) {
    V b[NV];
#pragma GCC unroll 8
    for (int j = 0; j < NV; ++j) b[j] = Ops::load(bp + kk * kNr + kL * j);
#pragma GCC unroll 12
    for (int r = 0; r < MR; ++r) {
      const V av = Ops::bcast(arow[r] + kk * g.a_ks);
#pragma GCC unroll 8
      for (int j = 0; j < NV; ++j) acc[r][j] = Ops::fma(av, b[j], acc[r][j]);
    }
  }
#pragma GCC unroll 12
  for (int r = 0; r < MR; ++r) {
    float* yrow = g.y + (i0 + r) * g.n + panel * kNr;
#pragma GCC unroll 8
    for (int j = 0; j < NV; ++j) {
      const int len = std::min(kL, cols - kL * j);
      if (len <= 0) break;
      const V v =
          leaky ? epi.template apply<true>(acc[r][j]) : epi.template apply<false>(acc[r][j]);
      if (len == kL) {
        Ops::store(yrow + kL * j, v);
      } else {
        Ops::store_n(yrow + kL * j, v, len);
      }
    }
  }
}

// Row blocks of MR; the last partial block runs a tile of exactly its rows (no wasted FMAs at
// M = 1, the batch-1 classifier).
template <class Ops, int MR, int NV>
void gemm_packed(const PackedGemmArgs& g) {
  constexpr int kNr = Ops::kL * NV;
  const int64_t panels = (g.n + kNr - 1) / kNr;
  const auto panel_loop = [&](auto rows_tag, int64_t i0) {
    constexpr int kRows = decltype(rows_tag)::value;
    for (int64_t p = 0; p < panels; ++p) {
      const int cols = static_cast<int>(std::min<int64_t>(kNr, g.n - p * kNr));
      gemm_tile<Ops, kRows, NV>(g, i0, p, cols);
    }
  };
  int64_t i0 = 0;
  for (; i0 + MR <= g.m; i0 += MR) panel_loop(std::integral_constant<int, MR>{}, i0);
  const int rest = static_cast<int>(g.m - i0);
  [&]<int... R>(std::integer_sequence<int, R...>) {
    ((rest == R + 1 ? panel_loop(std::integral_constant<int, R + 1>{}, i0) : void()), ...);
  }
  (std::make_integer_sequence<int, MR - 1>{});
}

// Tile rows: 4 (16 registers) or 8 (32 registers); NV = 1..3 vectors per panel (prepare()).
template <class Ops>
void gemm_packed_dispatch(const PackedGemmArgs& g) {
  constexpr int kMr = Ops::kRegs >= 32 ? 8 : 4;
  switch (g.nv) {
    case 1:
      gemm_packed<Ops, kMr, 1>(g);
      break;
    case 2:
      gemm_packed<Ops, kMr, 2>(g);
      break;
    default:
      gemm_packed<Ops, kMr, 3>(g);
      break;
  }
}

// ConvStage::kPadded staging (f32_internal.h, PaddedStage) with vector copies: one call per
// image instead of a memcpy / memset per row and pad.
template <class Ops>
void stage_padded(const PaddedStage& s) {
  static_assert(Ops::kL == 8, "the staging loops are written for 8-lane vectors");
  using V = typename Ops::V;
  const V zero = Ops::set1(0.0f);
  const int64_t pw = s.pad_left + s.in_w + s.pad_right;
  // Whole-vector stores only (masked stores are slow on AMD cores and scalar zero loops become
  // a memset call each): runs of n ≥ 8 end with a store overlapping the previous one.
  const auto fill_zero = [&](float* p, int64_t n) {
    if (n < 8) {
      for (int64_t j = 0; j < n; ++j) p[j] = 0.0f;
      return;
    }
    for (int64_t j = 0; j + 8 <= n; j += 8) Ops::store(p + j, zero);
    Ops::store(p + n - 8, zero);
  };
  // A row [zeros][x row][zeros] in whole vectors needs in_w + pad_right ≥ 8: the row's last
  // vector then starts at x index ≥ 0 (narrower rows are written float by float).
  const bool vector_rows = s.in_w + s.pad_right >= 8;
  for (int64_t c = 0; c < s.channels; ++c) {
    float* sc = s.dst + c * s.plane;
    const float* xc = s.x + c * s.in_h * s.in_w;
    fill_zero(sc, s.pad_top * pw);
    for (int64_t ih = 0; ih < s.in_h; ++ih) {
      float* row = sc + (s.pad_top + ih) * pw;
      const float* xr = xc + ih * s.in_w;
      if (!vector_rows) {
        for (int64_t j = 0; j < pw; ++j) {
          const int64_t ix = j - s.pad_left;
          row[j] = ix >= 0 && ix < s.in_w ? xr[ix] : 0.0f;
        }
        continue;
      }
      for (int64_t j = 0; j < s.pad_left; j += 8) Ops::store(row + j, zero);  // ends ≤ pw
      float* dst = row + s.pad_left;
      int64_t j = 0;
      for (; j + 8 <= s.in_w; j += 8) Ops::store(dst + j, Ops::load(xr + j));
      // The rest, [pad_left + j, pw): data tail and right padding in vectors, the last one
      // ending at pw (first = its lane 0's index in x, ≥ 0).
      const auto rest = [&](int64_t first) {
        return first >= s.in_w
                   ? zero
                   : Ops::load_n(xr + first,
                                 static_cast<int>(std::min<int64_t>(8, s.in_w - first)));
      };
      for (; s.pad_left + j + 8 < pw; j += 8) Ops::store(dst + j, rest(j));
      Ops::store(row + pw - 8, rest(pw - 8 - s.pad_left));
    }
    fill_zero(sc + (s.pad_top + s.in_h) * pw, s.pad_bottom * pw);
  }
}

// ConvStage::kStrided staging (f32_internal.h, StridedGather): the loops over channels and
// rows; `gather_row(x_row, dst_row)` does the column gather of one input row for every tap.
template <class Ops, class RowFn>
void stage_strided(const StridedGather& g, RowFn&& gather_row) {
  static_assert(Ops::kL == 8, "the staging loops are written for 8-lane vectors");
  const typename Ops::V zero = Ops::set1(0.0f);
  for (int64_t c = 0; c < g.channels; ++c) {
    const float* xc = g.x + c * g.in_h * g.in_w;
    float* dc = g.dst + c * g.plane;
    for (int64_t r = 0; r < g.rows; ++r) {
      if (!g.row_used[r]) continue;  // never read by the micro-kernels
      const int64_t ih = r - g.pad_top;
      float* row = dc + r * g.row_stride;
      if (ih < 0 || ih >= g.in_h) {  // a padding row (row_stride is a multiple of 8)
        for (int64_t j = 0; j < g.row_stride; j += 8) Ops::store(row + j, zero);
        continue;
      }
      gather_row(xc + ih * g.in_w, row);
    }
  }
}

// ConvStage::kIm2col staging (f32_internal.h, Im2colStage): the loops over taps and output
// rows; `gather_row(x_row, dst, off)` writes dst[i] = x_row[i·stride_w + off] (0 outside the
// row) for the out_w outputs of a row and may write up to 7 floats past them: rows, the zeroed
// tail of each tap and the next tap are written in increasing address order, so each spill is
// overwritten by its owner (the buffer ends with Im2colStage::kSlack floats of room).
template <class Ops, class RowFn>
void stage_im2col(const Im2colStage& s, RowFn&& gather_row) {
  static_assert(Ops::kL == 8, "the staging loops are written for 8-lane vectors");
  const typename Ops::V zero = Ops::set1(0.0f);
  const int64_t pixels = s.out_h * s.out_w;
  float* dst = s.dst;
  for (int64_t c = 0; c < s.channels; ++c) {
    const float* xc = s.x + c * s.in_h * s.in_w;
    for (int64_t kh = 0; kh < s.kernel_h; ++kh) {
      for (int64_t kw = 0; kw < s.kernel_w; ++kw, dst += s.plane) {
        const int64_t off = kw * s.dilation_w - s.pad_left;
        for (int64_t oh = 0; oh < s.out_h; ++oh) {
          const int64_t ih = oh * s.stride_h + kh * s.dilation_h - s.pad_top;
          float* row = dst + oh * s.out_w;
          if (ih < 0 || ih >= s.in_h) {
            for (int64_t j = 0; j < s.out_w; j += 8) Ops::store(row + j, zero);  // spills ≤ 7
          } else {
            gather_row(xc + ih * s.in_w, row, off);
          }
        }
        for (int64_t j = pixels; j < s.plane; j += 8) Ops::store(dst + j, zero);
      }
    }
  }
}

}  // namespace ei8::kernels::tiles
