// ei8/runtime/kernels/f32_tiles_winograd.h — internal: the Winograd F(2×2, 3×3) kernel
// (f32_winograd.h) written once over two `Ops` of f32_tiles.h, instantiated by each tier's
// translation unit with its own flags: the input and output transforms run on an 8-lane
// OpsT (lanes are tiles, see below), the 16 GEMMs on OpsG, 8 or 16 lanes wide (AVX-512: zmm
// GEMMs over the same buffers the ymm transforms fill).
//
// OpsT must provide, besides f32_tiles.h's list: add/sub; load_halves(p0, p1) = [p0[0..3] |
// p1[0..3]]; deinterleave(a, b, even, odd) per 4-lane half: even = [a0 a2 b0 b2], odd =
// [a1 a3 b1 b3]; zip(y0, y1, lo, hi) per 4-lane half: lo = [y0_0 y1_0 y0_1 y1_1], hi =
// [y0_2 y1_2 y0_3 y1_3]; quads_of(y0, y1, qa, qb) = [y0_0 y1_0 … y0_3 y1_3], [y0_4 y1_4 …].
//
// One block = 2·NV quads = 8·NV tiles (8·NV a multiple of OpsG::kL); vector j holds quads A = 2·j
// and B = 2·j + 1, in one of two lane orders (the transforms are lane-wise, only the loads and
// stores see the order):
//  - adjacent (B continues A in the same row: 16 consecutive columns): a = x[0..7], b =
//    x[8..15] of a window row, deinterleave() gives lanes [A0 A1 B0 B1 | A2 A3 B2 B3] and
//    zip() of the column-0/column-1 outputs gives A's 8 output columns, then B's;
//  - any two quads: a = [A's x[0..3] | B's x[0..3]], b = the next 4 columns, lanes
//    [A0 A1 A2 A3 | B0 B1 B2 B3], and quads_of() gives the output rows.
// No lane-crossing shuffle on the input side in either order.
#pragma once

#include <algorithm>
#include <cstdint>

#include "ei8/runtime/kernels/f32_tiles.h"
#include "ei8/runtime/kernels/f32_winograd.h"

namespace ei8::kernels::tiles {

// V = Bᵀ d B of the block's tiles for every input channel: vbuf[ic][ξ][8·NV] (ξ = 4·u + v;
// ξ inside ic keeps the 16 store offsets compile-time constants).
// qsrc[i]: staged window (row 0, column 0) of quad i in channel 0.
template <class Ops, int NV>
inline void winograd_input(const WinogradConvArgs& a, const float* const* qsrc,
                           const bool* adjacent, float* vbuf) {
  using V = typename Ops::V;
  constexpr int64_t kNb = 8 * NV;
  constexpr int64_t kXs = kNb;       // floats per ξ
  constexpr int64_t kCs = 16 * kNb;  // floats per input channel
  const int64_t rs = a.row_stride;
  for (int j = 0; j < NV; ++j) {
    const float* pa = qsrc[2 * j];
    const float* pb = qsrc[2 * j + 1];
    const bool adj = adjacent[j];
    float* out = vbuf + 8 * j;
    for (int64_t c = 0; c < a.in_c; ++c, pa += a.plane, pb += a.plane, out += kCs) {
      V h[4][4];  // h = d B: the row transform of the 4 window rows
#pragma GCC unroll 4
      for (int r = 0; r < 4; ++r) {
        const float* ra = pa + r * rs;
        const float* rb = pb + r * rs;
        V d0, d1, d2, d3;  // window columns 0..3 of the 8 tiles
        if (adj) {         // quad B = the next 8 columns: whole-vector loads
          Ops::deinterleave(Ops::load(ra), Ops::load(ra + 8), d0, d1);
          Ops::deinterleave(Ops::load(ra + 2), Ops::load(ra + 10), d2, d3);
        } else {
          Ops::deinterleave(Ops::load_halves(ra, rb), Ops::load_halves(ra + 4, rb + 4), d0, d1);
          Ops::deinterleave(Ops::load_halves(ra + 2, rb + 2), Ops::load_halves(ra + 6, rb + 6), d2,
                            d3);
        }
        h[r][0] = Ops::sub(d0, d2);
        h[r][1] = Ops::add(d1, d2);
        h[r][2] = Ops::sub(d2, d1);
        h[r][3] = Ops::sub(d1, d3);
      }
#pragma GCC unroll 4
      for (int s = 0; s < 4; ++s) {  // Bᵀ h: the column transform
        Ops::store(out + (0 + s) * kXs, Ops::sub(h[0][s], h[2][s]));
        Ops::store(out + (4 + s) * kXs, Ops::add(h[1][s], h[2][s]));
        Ops::store(out + (8 + s) * kXs, Ops::sub(h[2][s], h[1][s]));
        Ops::store(out + (12 + s) * kXs, Ops::sub(h[1][s], h[3][s]));
      }
    }
  }
}

// One of the 16 GEMMs for MR output channels: m[r][kNb] = Σ_ic u[ic][r] · v[ic·16·kNb + ·],
// kNb = kL·NV floats (NV vectors of the GEMM's Ops).
template <class Ops, int MR, int NV>
[[gnu::always_inline]] inline void winograd_gemm(const float* u, const float* v, int64_t k,
                                                 float* m) {
  using V = typename Ops::V;
  constexpr int kNb = Ops::kL * NV;
  V acc[MR][NV];
  const V zero = Ops::set1(0.0f);
#pragma GCC unroll 12
  for (int r = 0; r < MR; ++r) {
#pragma GCC unroll 8
    for (int j = 0; j < NV; ++j) acc[r][j] = zero;
  }
  for (int64_t kk = 0; kk < k; ++kk) {
    V b[NV];
#pragma GCC unroll 8
    for (int j = 0; j < NV; ++j) b[j] = Ops::load(v + kk * 16 * kNb + Ops::kL * j);
#pragma GCC unroll 12
    for (int r = 0; r < MR; ++r) {
      const V av = Ops::bcast(u + kk * MR + r);
#pragma GCC unroll 8
      for (int j = 0; j < NV; ++j) acc[r][j] = Ops::fma(av, b[j], acc[r][j]);
    }
  }
#pragma GCC unroll 12
  for (int r = 0; r < MR; ++r) {
#pragma GCC unroll 8
    for (int j = 0; j < NV; ++j) Ops::store(m + r * kNb + Ops::kL * j, acc[r][j]);
  }
}

// Where the quads of one block go.
template <int NV>
struct QuadGroup {
  const float* src[2 * NV];  // staged window of each quad (repeats quad 0 past `count`)
  int64_t dst[2 * NV];       // output offset of the quad's pixel (2·ty, 2·tx0) from a.dst
  int cols[2 * NV];          // output columns inside the image, 1..8
  int rows[2 * NV];          // output rows inside the image, 1..2
  bool adjacent[NV];         // quad 2·j + 1 continues quad 2·j in the same row (lane order)
  int count;                 // real quads
};

// Y = Aᵀ M A + bias, activation, store: `rows` output channels from oc0.
template <class Ops, int MR, int NV, bool kLeaky>
inline void winograd_output(const WinogradConvArgs& a, const QuadGroup<NV>& g, const float* m,
                            const float* bias, int rows, int64_t oc0, const Epi<Ops>& epi) {
  using V = typename Ops::V;
  constexpr int64_t kNb = 8 * NV;
  constexpr int64_t kXs = MR * kNb;  // floats per ξ in m
  for (int r = 0; r < rows; ++r) {
    const V bv = Ops::bcast(bias + r);
    float* dst = a.dst + (oc0 + r) * a.out_plane;
#pragma GCC unroll 4
    for (int j = 0; j < NV; ++j) {
      const float* mj = m + r * kNb + 8 * j;
      V t0[4], t1[4];  // Aᵀ M: rows 0 and 1
#pragma GCC unroll 4
      for (int v = 0; v < 4; ++v) {
        const V m0 = Ops::load(mj + (0 + v) * kXs), m1 = Ops::load(mj + (4 + v) * kXs);
        const V m2 = Ops::load(mj + (8 + v) * kXs), m3 = Ops::load(mj + (12 + v) * kXs);
        t0[v] = Ops::add(Ops::add(m0, m1), m2);
        t1[v] = Ops::sub(Ops::sub(m1, m2), m3);
      }
      // (Aᵀ M) A, then the bias (added last, as the error bound of f32_winograd.h counts it).
      const V y00 = Ops::add(Ops::add(Ops::add(t0[0], t0[1]), t0[2]), bv);
      const V y01 = Ops::add(Ops::sub(Ops::sub(t0[1], t0[2]), t0[3]), bv);
      const V y10 = Ops::add(Ops::add(Ops::add(t1[0], t1[1]), t1[2]), bv);
      const V y11 = Ops::add(Ops::sub(Ops::sub(t1[1], t1[2]), t1[3]), bv);
      V row0[2], row1[2];  // [quad A, quad B] × 8 output columns
      const V z00 = epi.template apply<kLeaky>(y00), z01 = epi.template apply<kLeaky>(y01);
      const V z10 = epi.template apply<kLeaky>(y10), z11 = epi.template apply<kLeaky>(y11);
      if (g.adjacent[j]) {
        Ops::zip(z00, z01, row0[0], row0[1]);
        Ops::zip(z10, z11, row1[0], row1[1]);
      } else {
        Ops::quads_of(z00, z01, row0[0], row0[1]);
        Ops::quads_of(z10, z11, row1[0], row1[1]);
      }
#pragma GCC unroll 2
      for (int h = 0; h < 2; ++h) {
        const int q = 2 * j + h;
        if (q >= g.count) break;
        float* out = dst + g.dst[q];
        if (g.cols[q] == 8) {
          Ops::store(out, row0[h]);
          if (g.rows[q] == 2) Ops::store(out + a.out_w, row1[h]);
        } else {
          Ops::store_n(out, row0[h], g.cols[q]);
          if (g.rows[q] == 2) Ops::store_n(out + a.out_w, row1[h], g.cols[q]);
        }
      }
    }
  }
}

// One block: quads [q0, q0 + count) of the call (count ≤ 2·NV), every output channel.
template <class OpsT, class OpsG, int MR, int NV, bool kLeaky>
void winograd_block(const WinogradConvArgs& a, int64_t q0, int count, const Epi<OpsT>& epi) {
  constexpr int kQ = 2 * NV;
  constexpr int64_t kNb = 8 * NV;
  static_assert(kNb % OpsG::kL == 0, "a block must be whole GEMM vectors");
  QuadGroup<NV> g;
  g.count = count;
  for (int i = 0; i < kQ; ++i) {
    const int64_t q = q0 + (i < count ? i : 0);
    const int64_t n = q / a.quads, l = q % a.quads;
    g.src[i] = a.src + n * a.src_image + a.qin[l];
    g.dst[i] = n * a.dst_image + a.qout[l];
    g.cols[i] = a.qcols[l];
    g.rows[i] = a.qrows[l];
  }
  for (int j = 0; j < NV; ++j) {
    const int64_t qa = q0 + std::min(2 * j, count - 1), qb = q0 + std::min(2 * j + 1, count - 1);
    g.adjacent[j] = qa / a.quads == qb / a.quads && a.qin[qb % a.quads] == a.qin[qa % a.quads] + 8;
  }
  winograd_input<OpsT, NV>(a, g.src, g.adjacent, a.vbuf);
  const int64_t blocks = (a.out_c + MR - 1) / MR;
  for (int64_t b = 0; b < blocks; ++b) {
    const float* ub = a.upack + b * 16 * a.in_c * MR;
    for (int x = 0; x < 16; ++x) {
      winograd_gemm<OpsG, MR, kNb / OpsG::kL>(ub + x * a.in_c * MR, a.vbuf + x * kNb, a.in_c,
                                              a.mbuf + x * MR * kNb);
    }
    const int rows = static_cast<int>(std::min<int64_t>(MR, a.out_c - b * MR));
    winograd_output<OpsT, MR, NV, kLeaky>(a, g, a.mbuf, a.bias + b * MR, rows, b * MR, epi);
  }
}

// The last `rest` quads (< 2·NV): the narrowest block NVT ≥ rest / 2 whose width is whole
// GEMM vectors.
template <class OpsT, class OpsG, int MR, int NV, bool kLeaky, int NVT>
void winograd_rest(const WinogradConvArgs& a, int64_t q0, int rest, const Epi<OpsT>& epi) {
  if constexpr (NVT < NV) {
    if constexpr ((8 * NVT) % OpsG::kL == 0) {
      if (2 * NVT >= rest) return winograd_block<OpsT, OpsG, MR, NVT, kLeaky>(a, q0, rest, epi);
    }
    return winograd_rest<OpsT, OpsG, MR, NV, kLeaky, NVT + 1>(a, q0, rest, epi);
  } else {
    winograd_block<OpsT, OpsG, MR, NV, kLeaky>(a, q0, rest, epi);
  }
}

// Full blocks of NV vectors, then the remaining quads in a block just wide enough for them.
template <class OpsT, class OpsG, int MR, int NV, bool kLeaky>
void winograd_conv(const WinogradConvArgs& a) {
  constexpr int kQ = 2 * NV;
  const Epi<OpsT> epi(a.act);
  const int64_t total = a.images * a.quads;
  int64_t q0 = 0;
  for (; q0 + kQ <= total; q0 += kQ) winograd_block<OpsT, OpsG, MR, NV, kLeaky>(a, q0, kQ, epi);
  const int rest = static_cast<int>(total - q0);
  if (rest > 0) winograd_rest<OpsT, OpsG, MR, NV, kLeaky, 1>(a, q0, rest, epi);
}

template <class OpsT, class OpsG, int MR, int NV>
void winograd_act(const WinogradConvArgs& a) {
  if (a.act.kind == ActKind::kLeakyRelu) {
    winograd_conv<OpsT, OpsG, MR, NV, true>(a);
  } else {
    winograd_conv<OpsT, OpsG, MR, NV, false>(a);
  }
}

// The tile shapes (winograd_tile_shapes, f32_winograd.h): MR output channels × 8·NV tiles.
template <class OpsT, class OpsG>
void winograd_dispatch(const WinogradConvArgs& a) {
  if constexpr (OpsG::kRegs >= 32) {
    if (a.mr == 12) return winograd_act<OpsT, OpsG, 12, 4>(a);
    return winograd_act<OpsT, OpsG, 8, 6>(a);
  } else {
    if (a.mr == 6) return winograd_act<OpsT, OpsG, 6, 2>(a);
    return winograd_act<OpsT, OpsG, 4, 3>(a);
  }
}

}  // namespace ei8::kernels::tiles
