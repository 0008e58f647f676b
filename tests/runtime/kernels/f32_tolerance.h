// The FP32 tolerance policy, written once (STYLE.md 10, ARCHITECTURE.md numeric contract).
//
// A fast kernel sums the K products of one output in float, in a different order than the
// reference (which sums in double and rounds once). Each float addition has relative error
// ≤ u = 2^-24 (eps = FLT_EPSILON = 2^-23 = 2u below); with the partial sums bounded by S = Σ|w·x| +
// |bias| the absolute error is ≤ K·eps·S in the worst case and ~√K·eps·S for rounding errors of
// random sign (the usual statistical bound, Higham §3.5; fused multiply-add only removes
// roundings). We use
//   |y − y_ref| ≤ kF32TolFactor · eps · √K · S
// with S computed per output by the reference on |x|, |w|, |bias| (no activation), and
// kF32TolFactor = 8 standing for ~8 standard deviations of the random-sign model plus the
// final float rounding. The activations are 1-Lipschitz for alpha ≤ 1, so the bound carries
// through them.
//
// Winograd F(2×2, 3×3) (src/ei8/runtime/kernels/f32_winograd.h) rounds along other paths: the
// transformed weights U = G g Gᵀ (rounded once), the input transform V = Bᵀ d B (two levels of
// additions), the in_c products and sums of the 16 GEMMs, the output transform Aᵀ M A (two
// levels of 3-term sums) and the bias: K_W = in_c + 9 roundings. Each rounding is bounded by
// u times the magnitude of the quantity rounded, and every quantity is bounded by the same
// computation done on absolute values, which for output (2·ty + i, 2·tx + j) of a tile is
//   S_W = |b| + Σ_ic Σ_{a,b,p,q} C[i][a][p]·C[j][b][q]·|g[a][b]|·|d[p][q]|,
//   C[i][a][p] = Σ_u |Aᵀ[i][u]|·|G[u][a]|·|Bᵀ[u][p]|,
// d the tile's 4×4 window of the zero-padded input. C is 1 on the direct taps (p = i + a), so
// S_W ≥ S; the off-tap terms are what the transforms add (each C[i] sums to 8 against 3 taps:
// S_W ≈ 7.1·S on data of uniform magnitude). The policy keeps its form with these:
//   |y − y_ref| ≤ kF32TolFactor · eps · √K_W · S_W   (winograd_f23_magnitude below).
#pragma once

#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <span>
#include <vector>

#include "ei8/runtime/kernels/conv_f32.h"

namespace ei8::kernels::testing {

inline constexpr double kF32TolFactor = 8.0;

inline double f32_tolerance(int64_t k, double magnitude) {
  return kF32TolFactor * std::numeric_limits<float>::epsilon() * std::sqrt(static_cast<double>(k)) *
         magnitude;
}

// Checks every element; reports the first few failures and the largest |Δ|/tolerance.
inline void expect_close(std::span<const float> got, std::span<const float> want,
                         std::span<const float> magnitude, int64_t k) {
  ASSERT_EQ(got.size(), want.size());
  int failures = 0;
  double worst = 0.0;
  for (size_t i = 0; i < got.size(); ++i) {
    const double diff = std::fabs(static_cast<double>(got[i]) - want[i]);
    const double tol = f32_tolerance(k, magnitude[i]);
    if (tol > 0) worst = std::max(worst, diff / tol);
    if (!(diff <= tol) && failures++ < 5) {
      ADD_FAILURE() << "element " << i << ": got " << got[i] << ", want " << want[i]
                    << ", |diff| = " << diff << " > tol = " << tol << " (K = " << k << ")";
    }
  }
  EXPECT_EQ(failures, 0) << "of " << got.size() << " elements";
  ::testing::Test::RecordProperty("worst_diff_over_tol", std::to_string(worst));
}

// --- Winograd F(2×2, 3×3) ---------------------------------------------------------------

inline int64_t winograd_f23_k(int64_t in_c) { return in_c + 9; }

using WinogradAbsCoeff = std::array<std::array<std::array<double, 4>, 3>, 2>;  // [i][a][p]

// C[i][a][p] = Σ_u |Aᵀ[i][u]|·|G[u][a]|·|Bᵀ[u][p]|, from the transform matrices of Lavin & Gray.
inline WinogradAbsCoeff winograd_f23_abs_coeff() {
  constexpr double kAt[2][4] = {{1, 1, 1, 0}, {0, 1, -1, -1}};
  constexpr double kG[4][3] = {{1, 0, 0}, {0.5, 0.5, 0.5}, {0.5, -0.5, 0.5}, {0, 0, 1}};
  constexpr double kBt[4][4] = {{1, 0, -1, 0}, {0, 1, 1, 0}, {0, -1, 1, 0}, {0, 1, 0, -1}};
  WinogradAbsCoeff c{};
  for (int i = 0; i < 2; ++i) {
    for (int a = 0; a < 3; ++a) {
      for (int p = 0; p < 4; ++p) {
        for (int u = 0; u < 4; ++u) {
          c[i][a][p] += std::fabs(kAt[i][u]) * std::fabs(kG[u][a]) * std::fabs(kBt[u][p]);
        }
      }
    }
  }
  return c;
}

// S_W of every output (NCHW, batch·out_size()) of a 3×3, stride-1 convolution.
inline std::vector<float> winograd_f23_magnitude(const Conv2dParams& p, int64_t batch,
                                                 std::span<const float> x, std::span<const float> w,
                                                 std::span<const float> b) {
  const WinogradAbsCoeff c = winograd_f23_abs_coeff();
  // The weight side first: cw[oc][ic][i][j][p][q] = Σ_{a,b} C[i][a][p]·C[j][b][q]·|g[a][b]|.
  std::vector<double> cw(static_cast<size_t>(p.out_c * p.in_c * 64));
  for (int64_t k = 0; k < p.out_c * p.in_c; ++k) {
    const float* g = w.data() + k * 9;
    for (int i = 0; i < 2; ++i) {
      for (int j = 0; j < 2; ++j) {
        for (int pp = 0; pp < 4; ++pp) {
          for (int q = 0; q < 4; ++q) {
            double sum = 0.0;
            for (int a = 0; a < 3; ++a) {
              for (int bb = 0; bb < 3; ++bb)
                sum += c[i][a][pp] * c[j][bb][q] * std::fabs(g[a * 3 + bb]);
            }
            cw[static_cast<size_t>(k * 64 + ((i * 2 + j) * 4 + pp) * 4 + q)] = sum;
          }
        }
      }
    }
  }
  const int64_t oh_n = p.out_h(), ow_n = p.out_w();
  std::vector<float> s(static_cast<size_t>(batch * p.out_size()));
  size_t o = 0;
  for (int64_t n = 0; n < batch; ++n) {
    for (int64_t oc = 0; oc < p.out_c; ++oc) {
      for (int64_t oh = 0; oh < oh_n; ++oh) {
        for (int64_t ow = 0; ow < ow_n; ++ow, ++o) {
          const int i = static_cast<int>(oh % 2), j = static_cast<int>(ow % 2);
          const int64_t ih0 = oh - i - p.pad_top, iw0 = ow - j - p.pad_left;  // window origin
          double acc = b.empty() ? 0.0 : std::fabs(b[static_cast<size_t>(oc)]);
          for (int64_t ic = 0; ic < p.in_c; ++ic) {
            const double* cwk = cw.data() + ((oc * p.in_c + ic) * 4 + i * 2 + j) * 16;
            const float* xc = x.data() + (n * p.in_c + ic) * p.in_h * p.in_w;
            for (int pp = 0; pp < 4; ++pp) {
              const int64_t ih = ih0 + pp;
              if (ih < 0 || ih >= p.in_h) continue;
              for (int q = 0; q < 4; ++q) {
                const int64_t iw = iw0 + q;
                if (iw >= 0 && iw < p.in_w)
                  acc += cwk[pp * 4 + q] * std::fabs(xc[ih * p.in_w + iw]);
              }
            }
          }
          s[o] = static_cast<float>(acc);
        }
      }
    }
  }
  return s;
}

}  // namespace ei8::kernels::testing
