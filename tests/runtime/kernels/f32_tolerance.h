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
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <span>

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

}  // namespace ei8::kernels::testing
