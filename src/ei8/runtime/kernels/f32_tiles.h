// ei8/runtime/kernels/f32_tiles.h — internal: the FP32 micro-kernels written once over an
// 8-lane vector abstraction `Ops`. Each tier's translation unit (generic/, x86/) defines its
// own Ops in an anonymous namespace and instantiates these templates with its own compile
// flags, so no instruction of one tier leaks into another (STYLE.md 5).
//
// Ops must provide: type V (8 floats); load/bcast/store/store_n(p, v, n ≤ 8); fma(a, b, c) =
// a·b + c; activate(v, Activation).
#pragma once

#include <algorithm>
#include <cstdint>

#include "ei8/runtime/kernels/f32_internal.h"

namespace ei8::kernels::tiles {

// An MR × (8·NV) tile of a direct convolution: MR output channels starting at oc0 times NV
// pixel vectors starting at v0 (nvv of them real; the others recompute vector v0 and are not
// stored). Accumulators start at the bias, exactly like the reference.
template <class Ops, int MR, int NV>
inline void conv_tile(const DirectConvArgs& a, const float* w, const float* bias, int rows,
                      int64_t oc0, int64_t v0, int nvv) {
  using V = typename Ops::V;
  V acc[MR][NV];
#pragma GCC unroll 8
  for (int r = 0; r < MR; ++r) {
    const V bv = Ops::bcast(bias + r);
#pragma GCC unroll 8
    for (int j = 0; j < NV; ++j) acc[r][j] = bv;
  }
  const float* base[NV];
#pragma GCC unroll 8
  for (int j = 0; j < NV; ++j) base[j] = a.src + a.vin[v0 + (j < nvv ? j : 0)];
  for (int64_t kk = 0; kk < a.k; ++kk) {
    const int64_t o = a.koff[kk];
    V b[NV];
#pragma GCC unroll 8
    for (int j = 0; j < NV; ++j) b[j] = Ops::load(base[j] + o);
    const float* wk = w + kk * MR;
#pragma GCC unroll 8
    for (int r = 0; r < MR; ++r) {
      const V av = Ops::bcast(wk + r);
#pragma GCC unroll 8
      for (int j = 0; j < NV; ++j) acc[r][j] = Ops::fma(av, b[j], acc[r][j]);
    }
  }
#pragma GCC unroll 8
  for (int r = 0; r < MR; ++r) {
    if (r >= rows) break;
    float* drow = a.dst + (oc0 + r) * a.out_plane;
#pragma GCC unroll 8
    for (int j = 0; j < NV; ++j) {
      if (j >= nvv) break;
      const V v = Ops::activate(acc[r][j], a.act);
      const int len = a.vlen[v0 + j];
      float* out = drow + a.vout[v0 + j];
      if (len == 8) {
        Ops::store(out, v);
      } else {
        Ops::store_n(out, v, len);
      }
    }
  }
}

template <class Ops, int MR, int NV>
void conv_direct(const DirectConvArgs& a) {
  const int64_t blocks = (a.out_c + MR - 1) / MR;
  for (int64_t v0 = 0; v0 < a.n_vec; v0 += NV) {
    const int nvv = static_cast<int>(std::min<int64_t>(NV, a.n_vec - v0));
    for (int64_t b = 0; b < blocks; ++b) {
      const int rows = static_cast<int>(std::min<int64_t>(MR, a.out_c - b * MR));
      conv_tile<Ops, MR, NV>(a, a.wpack + b * a.k * MR, a.bias + b * MR, rows, b * MR, v0, nvv);
    }
  }
}

// The tile shapes: MR·NV ≤ 12 accumulators + NV operands + 1 broadcast ≤ 16 vector registers.
template <class Ops>
void conv_direct_dispatch(const DirectConvArgs& a) {
  switch (a.mr) {
    case 1:
      conv_direct<Ops, 1, 4>(a);
      break;
    case 2:
      conv_direct<Ops, 2, 4>(a);
      break;
    case 3:
      conv_direct<Ops, 3, 4>(a);
      break;
    case 6:
      conv_direct<Ops, 6, 2>(a);
      break;
    default:
      conv_direct<Ops, 4, 3>(a);
      break;
  }
}

// An MR × (8·NV) tile of Y = A·Bpack + cvec: rows i0.. (rows real; the others repeat the last
// real row and are not stored), panel `panel` (cols real columns).
template <class Ops, int MR, int NV>
inline void gemm_tile(const PackedGemmArgs& g, int64_t i0, int rows, int64_t panel, int cols) {
  using V = typename Ops::V;
  constexpr int kNr = 8 * NV;
  const float* bp = g.bpack + panel * g.k * kNr;
  const float* cp = g.cvec + panel * kNr;
  V acc[MR][NV];
#pragma GCC unroll 8
  for (int j = 0; j < NV; ++j) {
    const V cv = Ops::load(cp + 8 * j);
#pragma GCC unroll 8
    for (int r = 0; r < MR; ++r) acc[r][j] = cv;
  }
  const float* arow[MR];
#pragma GCC unroll 8
  for (int r = 0; r < MR; ++r) arow[r] = g.a + (i0 + std::min(r, rows - 1)) * g.a_rs;
  for (int64_t kk = 0; kk < g.k; ++kk) {
    V b[NV];
#pragma GCC unroll 8
    for (int j = 0; j < NV; ++j) b[j] = Ops::load(bp + kk * kNr + 8 * j);
#pragma GCC unroll 8
    for (int r = 0; r < MR; ++r) {
      const V av = Ops::bcast(arow[r] + kk * g.a_ks);
#pragma GCC unroll 8
      for (int j = 0; j < NV; ++j) acc[r][j] = Ops::fma(av, b[j], acc[r][j]);
    }
  }
#pragma GCC unroll 8
  for (int r = 0; r < MR; ++r) {
    if (r >= rows) break;
    float* yrow = g.y + (i0 + r) * g.n + panel * kNr;
#pragma GCC unroll 8
    for (int j = 0; j < NV; ++j) {
      const int len = std::min(8, cols - 8 * j);
      if (len <= 0) break;
      const V v = Ops::activate(acc[r][j], g.act);
      if (len == 8) {
        Ops::store(yrow + 8 * j, v);
      } else {
        Ops::store_n(yrow + 8 * j, v, len);
      }
    }
  }
}

template <class Ops, int MR, int NV>
void gemm_packed(const PackedGemmArgs& g) {
  constexpr int kNr = 8 * NV;
  const int64_t panels = (g.n + kNr - 1) / kNr;
  for (int64_t i0 = 0; i0 < g.m; i0 += MR) {
    const int rows = static_cast<int>(std::min<int64_t>(MR, g.m - i0));
    for (int64_t p = 0; p < panels; ++p) {
      const int cols = static_cast<int>(std::min<int64_t>(kNr, g.n - p * kNr));
      gemm_tile<Ops, MR, NV>(g, i0, rows, p, cols);
    }
  }
}

template <class Ops>
void gemm_packed_dispatch(const PackedGemmArgs& g) {
  switch (g.nv) {
    case 1:
      gemm_packed<Ops, 4, 1>(g);
      break;
    case 2:
      gemm_packed<Ops, 4, 2>(g);
      break;
    default:
      gemm_packed<Ops, 4, 3>(g);
      break;
  }
}

}  // namespace ei8::kernels::tiles
