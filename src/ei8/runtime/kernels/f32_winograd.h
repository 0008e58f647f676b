// ei8/runtime/kernels/f32_winograd.h — internal to ei8_kernels: the Winograd F(2×2, 3×3) plan
// of Conv2dF32 (3×3, stride 1, dilation 1, groups 1) and its numeric contract.
//
// Algorithm (Lavin & Gray, "Fast Algorithms for Convolutional Neural Networks", 2016). The
// output is cut into 2×2 tiles; tile (ty, tx) reads the 4×4 window d of the zero-padded input
// at rows 2·ty.., columns 2·tx.. (partial tiles at odd edges are computed and not stored):
//   U = G g Gᵀ          per (oc, ic), 4×4, once in prepare() (in double, rounded once)
//   V = Bᵀ d B          per (ic, tile), 4×4: additions only
//   M[ξ] = Σ_ic U[ξ]·V[ξ]   16 GEMMs (ξ = 4·u + v): out_c × in_c times in_c × tiles
//   Y = Aᵀ M A + bias   per (oc, tile), 2×2, then the activation
// with
//   Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 1 0 −1],  G = [1 0 0; ½ ½ ½; ½ −½ ½; 0 0 1],
//   Aᵀ = [1 1 1 0; 0 1 −1 −1].
// 16·in_c·out_c multiplications per tile instead of 36·in_c·out_c (2.25× fewer).
//
// Error bound (first order; u = 2^-24 the unit roundoff). Take absolute values at every step
// of the computation: output (oc, 2·ty + i, 2·tx + j) of the exact algorithm is
//   y = b + Σ_ic Σ_{u,v} Aᵀ[i][u] Aᵀ[j][v] U[u][v] V[u][v]
// and the rounding errors of each step are bounded by u times that step's value computed on
// |·| (Higham, "Accuracy and Stability of Numerical Algorithms", §3.1), so
//   |y_float − y| ≤ γ(K_W) · S_W,   K_W = in_c + 9,
//   S_W = |b| + Σ_ic Σ_{u,v} |Aᵀ[i][u]| |Aᵀ[j][v]| (|G| |g| |Gᵀ|)[u][v] (|Bᵀ| |d| |B|)[u][v],
// where the K_W roundings along one path are: U rounded to float (1), V's two levels of
// additions (2), the product (1, none with FMA), the in_c − 1 additions over ic (≤ in_c),
// the output transform's two levels of 3-term sums (4) and the bias (1). Expanding the
// absolute-value products, S_W is a weighted sum of the direct magnitudes |g[a][b]|·|d[p][q]|:
//   S_W = |b| + Σ_ic Σ_{a,b,p,q} C[i][a][p] C[j][b][q] |g[a][b]| |d[p][q]|,
//   C[0] = [1 1 2 0; 0 1 1 0; 0 1 1 0],  C[1] = [0 1 1 0; 0 1 1 0; 0 2 1 1]   (a × p)
// (C[i][a][p] = Σ_u |Aᵀ[i][u]| |G[u][a]| |Bᵀ[u][p]|). The true taps p = i + a have weight 1,
// so S_W ≥ S = Σ|w·x| + |b| of the direct policy; the transforms add the off-tap terms: each
// C[i] sums to 8 against 3 taps, i.e. on inputs and weights of uniform magnitude S_W ≈ (8/3)²·S
// ≈ 7.1·S. The test policy (tests/runtime/kernels/f32_tolerance.h) applies the direct
// policy's form to it: |Δ| ≤ 8·eps·√K_W·S_W, eps = 2u.
#pragma once

#include <cstdint>
#include <span>

#include "ei8/runtime/kernels/f32_common.h"

namespace ei8::kernels {

// The 1-D absolute-value coefficients C[i][a][p] of the bound above (tests use them).
inline constexpr float kWinogradF23AbsCoeff[2][3][4] = {
    {{1, 1, 2, 0}, {0, 1, 1, 0}, {0, 1, 1, 0}},
    {{0, 1, 1, 0}, {0, 1, 1, 0}, {0, 2, 1, 1}},
};

// Output quads: 4 horizontally adjacent 2×2 tiles (2 output rows × 8 columns) of one image. A
// vector of 8 lanes holds two quads (lanes 0–3 and 4–7), one tile per lane; a block of the
// kernel holds nv vectors (2·nv quads, 8·nv tiles).
struct WinogradConvArgs {
  const float* src;      // staged (zero-padded) images; image n at src + n·src_image
  int64_t src_image;     // floats per staged image
  int64_t plane;         // floats per staged channel
  int64_t row_stride;    // floats per staged row
  int64_t in_c, out_c;   // channels
  const float* upack;    // [ceil(out_c/mr)][16][in_c][mr] transformed weights, zero rows
  const float* bias;     // [ceil(out_c/mr)·mr], zero-padded
  float* dst;            // output image 0, channel 0
  int64_t dst_image;     // floats per output image
  int64_t out_plane;     // out_h·out_w
  int64_t out_w;         // output row stride
  int64_t images;        // images of this call (quads of all of them share blocks)
  int64_t quads;         // quads per image
  const int32_t* qin;    // [quads] staged offset of the quad's window (row 2·ty, col 2·tx0)
  const int32_t* qout;   // [quads] output offset of the quad's pixel (2·ty, 2·tx0)
  const uint8_t* qcols;  // [quads] output columns inside the image, 1..8
  const uint8_t* qrows;  // [quads] output rows inside the image, 1..2
  float* vbuf;           // scratch: [in_c][16][8·nv] transformed inputs of one block
  float* mbuf;           // scratch: [16][mr][8·nv] GEMM results of one block and row block
  int mr, nv;            // tile shape: mr output channels × 8·nv tiles (winograd_tile_shapes)
  Activation act;
};

// The Winograd tile shapes (mr, nv) of a register file: 16 registers (8-lane GEMMs) 4 × 3 or
// 6 × 2 vectors; 32 registers (16-lane GEMMs, 8·nv tiles = nv/2 zmm): 8 × 3 or 12 × 2 zmm.
struct WinogradTile {
  int mr, nv;
};
inline constexpr WinogradTile kWinogradTiles16[] = {{4, 3}, {6, 2}};
inline constexpr WinogradTile kWinogradTiles32[] = {{8, 6}, {12, 4}};

// U = G g Gᵀ of every (oc, ic), packed for the tiles: upack[(b·16 + ξ)·in_c + ic][r] with
// oc = b·mr + r (zero rows past out_c). weight: OIHW [out_c][in_c][3][3]. In double, rounded once.
void winograd_f23_pack_weights(std::span<const float> weight, int64_t out_c, int64_t in_c, int mr,
                               float* upack);

// Tier entry points (f32_tiles_winograd.h over each tier's vector Ops).
void conv2d_f32_winograd_generic(const WinogradConvArgs& args);
void conv2d_f32_winograd_avx2(const WinogradConvArgs& args);
void conv2d_f32_winograd_avx512(const WinogradConvArgs& args);

}  // namespace ei8::kernels
