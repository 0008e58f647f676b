#include "ei8/quant/calibrators.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <numbers>
#include <variant>
#include <vector>

#include "ei8/core/rng.h"
#include "ei8/quant/calib_table.h"

namespace ei8::quant {
namespace {

// ---- distributions with known quantiles (deterministic "perfect" samples) ---------------------

double normal_cdf(double x) { return 0.5 * std::erfc(-x / std::numbers::sqrt2); }
double normal_pdf(double x) { return std::exp(-0.5 * x * x) / std::sqrt(2.0 * std::numbers::pi); }

// Quantiles (i + 0.5)/n of N(0, 1): Newton's method from the previous quantile, kept inside a
// bracket (bisection when a step leaves it).
std::vector<float> make_gaussian_quantiles(size_t n) {
  std::vector<float> v(n);
  double x = -9.0;
  for (size_t i = 0; i < n; ++i) {
    const double p = (static_cast<double>(i) + 0.5) / static_cast<double>(n);
    double lo = x, hi = 9.0;
    for (int it = 0; it < 100; ++it) {
      const double f = normal_cdf(x) - p;
      (f < 0 ? lo : hi) = x;
      double next = x - f / normal_pdf(x);
      if (!(next > lo && next < hi)) next = 0.5 * (lo + hi);
      if (std::fabs(next - x) < 1e-13) break;
      x = next;
    }
    v[i] = static_cast<float>(x);
  }
  return v;
}

// Memoised: several tests share the same sample sets.
const std::vector<float>& gaussian_quantiles(size_t n) {
  static std::map<size_t, std::vector<float>> cache;
  auto it = cache.find(n);
  if (it == cache.end()) it = cache.emplace(n, make_gaussian_quantiles(n)).first;
  return it->second;
}

// Quantiles of Laplace(0, b): F⁻¹(p) = −b·sign(p − ½)·ln(1 − 2|p − ½|).
std::vector<float> laplace_quantiles(size_t n, double b) {
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i) {
    const double p = (static_cast<double>(i) + 0.5) / static_cast<double>(n) - 0.5;
    v[i] = static_cast<float>(-b * (p < 0 ? -1.0 : 1.0) * std::log(1.0 - 2.0 * std::fabs(p)));
  }
  return v;
}

// Quantiles of Exponential(b) (a ReLU of a Laplace, without its zeros).
std::vector<float> exponential_quantiles(size_t n, double b) {
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i) {
    const double p = (static_cast<double>(i) + 0.5) / static_cast<double>(n);
    v[i] = static_cast<float>(-b * std::log(1.0 - p));
  }
  return v;
}

TensorObserver observe_all(const std::vector<float>& v, size_t batch = 4096, int64_t bins = 2048) {
  TensorObserver obs(ObserverOptions{.bins = bins});
  for (size_t i = 0; i < v.size(); i += batch) {
    obs.observe(std::span<const float>(v).subspan(i, std::min(batch, v.size() - i)));
  }
  return obs;
}

CalibResult run(const TensorObserver& obs, CalibParams p) {
  Result<CalibResult> r = calibrate(obs, p);
  EXPECT_TRUE(r.ok()) << r.status().message();
  return r.ok() ? r.value() : CalibResult{};
}

CalibParams params(CalibMethod m, bool symmetric, int64_t steps) {
  CalibParams p;
  p.method = m;
  p.symmetric = symmetric;
  p.steps = steps;
  return p;
}

bool has_param(const ParamList& list, std::string_view key) {
  return std::any_of(list.begin(), list.end(), [&](const auto& kv) { return kv.first == key; });
}

// ---- minmax and moving average ----------------------------------------------------------------

TEST(Calibrate, MinMaxIsTheExactRange) {
  Rng rng(1);
  std::vector<float> v(10000);
  for (float& x : v) x = rng.uniform(-0.75f, 2.5f);
  v[123] = -0.8125f;
  v[456] = 2.625f;
  const TensorObserver obs = observe_all(v, 1000);
  CalibResult r = run(obs, params(CalibMethod::kMinMax, false, 255));
  EXPECT_EQ(r.min, -0.8125f);
  EXPECT_EQ(r.max, 2.625f);
  r = run(obs, params(CalibMethod::kMinMax, true, 254));
  EXPECT_EQ(r.min, -2.625f);
  EXPECT_EQ(r.max, 2.625f);
}

TEST(Calibrate, MovingAverageFollowsTheRecurrence) {
  TensorObserver obs;
  double lo = 0, hi = 0;
  for (int i = 0; i < 50; ++i) {
    const float blo = -1.0f - 0.1f * static_cast<float>(i),
                bhi = 2.0f + 0.05f * static_cast<float>(i);
    obs.observe(std::vector<float>{blo, 0.0f, bhi});
    lo = i == 0 ? blo : lo + 0.01 * (blo - lo);
    hi = i == 0 ? bhi : hi + 0.01 * (bhi - hi);
  }
  const CalibResult r = run(obs, params(CalibMethod::kMovingAverage, false, 255));
  EXPECT_EQ(r.min, static_cast<float>(lo));
  EXPECT_EQ(r.max, static_cast<float>(hi));
  ASSERT_TRUE(has_param(r.parameters, "ema_constant"));
  EXPECT_GT(r.min, obs.min());  // the average lags behind the growing extremes
}

// Every method reports how much of the data its range cuts off, counted in whole bins: never
// more than the exact share, and short of it by at most the two boundary bins.
TEST(Calibrate, ClippedFractionIsTheShareOutsideTheRangeWithinOneBinPerSide) {
  Rng rng(7);
  std::vector<float> v(20000);
  for (float& x : v) x = rng.uniform(-1.0f, 3.0f);
  const TensorObserver obs = observe_all(v, 1000);
  const double w = obs.histogram().bin_width();
  for (CalibMethod m :
       {CalibMethod::kMinMax, CalibMethod::kPercentile, CalibMethod::kEntropy, CalibMethod::kMse}) {
    for (bool sym : {false, true}) {
      CalibParams p = params(m, sym, sym ? 254 : 255);
      p.percentile = 95.0;
      const CalibResult r = run(obs, p);
      ASSERT_FALSE(r.diagnostics.empty());
      ASSERT_EQ(r.diagnostics.back().first, "clipped_fraction");
      const double got = std::get<double>(r.diagnostics.back().second);
      size_t outside = 0, boundary = 0;
      for (float x : v) {
        outside += x < r.min || x > r.max;
        boundary += (x > r.max && x < r.max + w) || (x < r.min && x > r.min - w);
      }
      const double n = static_cast<double>(v.size());
      SCOPED_TRACE(
          fmt::format("{} sym={} range [{}, {}]", calib_method_name(m), sym, r.min, r.max));
      EXPECT_LE(got, static_cast<double>(outside) / n + 1e-12);
      EXPECT_GE(got, static_cast<double>(outside - boundary) / n - 1e-12);
      // The share clipped by more than half a quantization step (what the PTQ warning counts):
      // the same whole-bin bounds, half a step farther out, and never above the share clipped.
      const auto far_it =
          std::find_if(r.diagnostics.begin(), r.diagnostics.end(),
                       [](const auto& d) { return d.first == "clipped_beyond_half_step"; });
      ASSERT_NE(far_it, r.diagnostics.end());
      const double far = std::get<double>(far_it->second);
      const double half = 0.5 * (double{r.max} - double{r.min}) / static_cast<double>(p.steps);
      size_t beyond = 0, beyond_boundary = 0;
      for (float x : v) {
        beyond += x < r.min - half || x > r.max + half;
        beyond_boundary += (x > r.max + half && x < r.max + half + w) ||
                           (x < r.min - half && x > r.min - half - w);
      }
      EXPECT_LE(far, got);
      EXPECT_LE(far, static_cast<double>(beyond) / n + 1e-12);
      EXPECT_GE(far, static_cast<double>(beyond - beyond_boundary) / n - 1e-12);
      if (m == CalibMethod::kMinMax && !sym) {
        EXPECT_EQ(got, 0.0);
      }
      if (m == CalibMethod::kPercentile && !sym) {
        EXPECT_NEAR(got, 0.05, 0.002);
      }
    }
  }
}

// ---- percentile: exact against sorting, within one bin -----------------------------------------

TEST(Calibrate, PercentileMatchesSortingWithinOneBin) {
  const uint64_t seed = 424242;
  SCOPED_TRACE(testing::Message() << "seed " << seed);
  Rng rng(seed);
  std::vector<float> v(200003);  // prime count
  for (float& x : v) x = rng.normal(0.3f, 1.0f);
  for (int i = 0; i < 40; ++i)
    v[static_cast<size_t>(rng.uniform_int(0, 200002))] = rng.uniform(-60.0f, 80.0f);
  const TensorObserver obs = observe_all(v, 1999);
  const double w = obs.histogram().bin_width();
  const double slack = w * (1.0 + 1e-9);
  std::vector<double> sorted_abs(v.size()), sorted(v.size());
  for (size_t i = 0; i < v.size(); ++i) {
    sorted_abs[i] = std::fabs(static_cast<double>(v[i]));
    sorted[i] = v[i];
  }
  std::sort(sorted_abs.begin(), sorted_abs.end());
  std::sort(sorted.begin(), sorted.end());
  const double n = static_cast<double>(v.size());
  for (double pct : {50.0, 90.0, 99.0, 99.9, 99.99, 99.999, 100.0}) {
    SCOPED_TRACE(testing::Message() << "p = " << pct);
    CalibParams p = params(CalibMethod::kPercentile, true, 254);
    p.percentile = pct;
    CalibResult r = run(obs, p);
    const double exact =
        sorted_abs[static_cast<size_t>(std::max(std::ceil(pct / 100 * n), 1.0)) - 1];
    EXPECT_GE(r.max, exact);
    EXPECT_LE(r.max - exact, slack);
    EXPECT_EQ(r.min, -r.max);

    p.symmetric = false;  // auto → two-sided
    r = run(obs, p);
    const double tail = (1.0 - pct / 100.0) / 2.0;
    const double lo = sorted[static_cast<size_t>(std::floor(tail * n))];
    const double hi = sorted[static_cast<size_t>(std::ceil((1.0 - tail) * n)) - 1];
    EXPECT_LE(r.min, lo);
    EXPECT_LE(lo - r.min, slack);
    EXPECT_GE(r.max, hi);
    EXPECT_LE(r.max - hi, slack);
  }
}

TEST(Calibrate, PercentileOfUniformIsAnalytic) {
  const size_t n = 100000;
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<float>((static_cast<double>(i) + 0.5) / n);
  const TensorObserver obs = observe_all(v);
  CalibParams p = params(CalibMethod::kPercentile, false, 255);
  p.percentile = 98.0;  // two-sided: cut 1 % each side of U(0, 1) → [0.01, 0.99]
  const CalibResult r = run(obs, p);
  const double w = obs.histogram().bin_width();
  EXPECT_NEAR(r.min, 0.01, w + 1e-6);
  EXPECT_NEAR(r.max, 0.99, w + 1e-6);
}

// ---- entropy: against a straightforward re-implementation --------------------------------------

// The textbook loop: build P and Q as arrays for every candidate, normalise, sum P·ln(P/Q).
struct NaiveKl {
  int64_t bins;
  double kl;
};
NaiveKl naive_kl(const std::vector<double>& h, int64_t levels) {
  const int64_t n = static_cast<int64_t>(h.size());
  std::vector<NaiveKl> all;
  for (int64_t i = std::min(levels, n); i <= n; ++i) {
    std::vector<double> p(h.begin(), h.begin() + i);
    for (int64_t j = i; j < n; ++j) p[static_cast<size_t>(i - 1)] += h[static_cast<size_t>(j)];
    std::vector<double> q(static_cast<size_t>(i), 0.0);
    for (int64_t g = 0; g < levels; ++g) {
      double mass = 0.0;
      int64_t nonempty = 0;
      for (int64_t j = 0; j < i; ++j) {
        if (j * levels / i != g) continue;  // level of bin j
        mass += h[static_cast<size_t>(j)];
        nonempty += h[static_cast<size_t>(j)] > 0 ? 1 : 0;
      }
      for (int64_t j = 0; j < i; ++j) {
        if (j * levels / i == g && h[static_cast<size_t>(j)] > 0) {
          q[static_cast<size_t>(j)] = mass / static_cast<double>(nonempty);
        }
      }
    }
    double sp = 0, sq = 0;
    for (int64_t j = 0; j < i; ++j)
      sp += p[static_cast<size_t>(j)], sq += q[static_cast<size_t>(j)];
    double kl = 0.0;
    for (int64_t j = 0; j < i; ++j) {
      const double pj = p[static_cast<size_t>(j)] / sp, qj = q[static_cast<size_t>(j)] / sq;
      if (pj == 0) continue;
      kl += qj == 0 ? std::numeric_limits<double>::infinity() : pj * std::log(pj / qj);
    }
    all.push_back({i, kl});
  }
  // Minimum; ties (within the documented tolerance) to the largest i.
  NaiveKl best{n, std::numeric_limits<double>::infinity()};
  for (const NaiveKl& c : all) best.kl = std::min(best.kl, c.kl);
  for (const NaiveKl& c : all) {
    if (c.kl <= best.kl + kKlTieTolerance) best.bins = c.bins;
  }
  return best;
}

TEST(KlSearch, AgreesWithTheTextbookLoopOnSmallHistograms) {
  const uint64_t seed = 5150;
  SCOPED_TRACE(testing::Message() << "seed " << seed);
  Rng rng(seed);
  for (int trial = 0; trial < 300; ++trial) {
    const int64_t n = rng.uniform_int(1, 67);
    const int64_t levels = rng.uniform_int(2, 11);
    std::vector<double> h(static_cast<size_t>(n));
    const double p_empty = rng.uniform01() * 0.6;
    for (double& c : h)
      c = rng.uniform01() < p_empty ? 0.0 : static_cast<double>(rng.uniform_int(1, 1000));
    // Heavy tails make the interesting cases: an outlier bin far out.
    if (n > 4 && trial % 3 == 0) h[static_cast<size_t>(n - 1)] = 1;
    SCOPED_TRACE(testing::Message() << "trial " << trial << " n " << n << " levels " << levels);
    const NaiveKl want = naive_kl(h, levels);
    const KlSearchResult got = kl_search(h, levels);
    EXPECT_EQ(got.bins, want.bins);
    // The minimum KL itself (the chosen candidate may be a tie partner of it).
    if (std::isfinite(want.kl)) {
      EXPECT_NEAR(got.kl, want.kl, 1e-11);
    }
    EXPECT_EQ(got.candidates, n - std::min(levels, n) + 1);
  }
}

TEST(KlSearch, EmptyAndDegenerateHistograms) {
  EXPECT_EQ(kl_search(std::vector<double>{}, 128).bins, 0);
  EXPECT_EQ(kl_search(std::vector<double>(10, 0.0), 4).bins, 10);
  // Fewer bins than levels: one candidate, the whole histogram, with KL 0 (Q = P).
  const KlSearchResult r = kl_search(std::vector<double>{3, 0, 5, 1}, 8);
  EXPECT_EQ(r.bins, 4);
  EXPECT_EQ(r.candidates, 1);
  EXPECT_NEAR(r.kl, 0.0, 1e-12);
}

TEST(Calibrate, EntropyKeepsTheWholeUniformRange) {
  // U(−1, 1): every candidate below n puts mass in an outlier spike; i = n reproduces P
  // exactly (flat groups), so the search must keep (nearly) the whole range.
  const size_t n = 1 << 18;
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i)
    v[i] = static_cast<float>(2.0 * (static_cast<double>(i) + 0.5) / n - 1.0);
  const TensorObserver obs = observe_all(v);
  const CalibResult r = run(obs, params(CalibMethod::kEntropy, true, 254));
  EXPECT_GE(r.max, 0.99f);
  EXPECT_EQ(r.min, -r.max);
}

TEST(Calibrate, EntropyIgnoresOutliersOfAGaussian) {
  std::vector<float> v = gaussian_quantiles(500000);
  for (int i = 0; i < 8; ++i) v.push_back(i % 2 ? 60.0f : -60.0f);
  const TensorObserver obs = observe_all(v);
  const CalibResult r = run(obs, params(CalibMethod::kEntropy, true, 254));
  EXPECT_EQ(obs.max(), 60.0f);
  // 2048 bins over [0, 60], 128 levels: the threshold lands in the Gaussian's tail region.
  EXPECT_GT(r.max, 2.5f);
  EXPECT_LT(r.max, 10.0f);
  // Every hyper-parameter is reported.
  for (const char* key :
       {"scheme", "levels", "zero_bin", "smoothing", "tie_break", "threshold", "bins"}) {
    EXPECT_TRUE(has_param(r.parameters, key)) << key;
  }
}

TEST(Calibrate, EntropyOfReluOutputIsOneSidedAndSkipsTheZeroSpike) {
  std::vector<float> v = gaussian_quantiles(500000);
  for (float& x : v) x = std::max(x, 0.0f);  // half the mass exactly at 0
  const TensorObserver obs = observe_all(v);
  CalibParams p = params(CalibMethod::kEntropy, false, 255);
  const CalibResult skip = run(obs, p);
  EXPECT_EQ(skip.min, 0.0f);
  EXPECT_GT(skip.max, 2.0f);
  EXPECT_LE(skip.max, obs.max());
  // The half-bin rule moves the threshold up by exactly half a bin.
  p.entropy_threshold = KlThreshold::kHalfBin;
  const CalibResult half = run(obs, p);
  EXPECT_NEAR(half.max - skip.max, 0.5 * obs.histogram().bin_width(), 1e-6);
}

// ---- MSE: exact error integral and analytic optima ---------------------------------------------

TEST(GridSquaredError, MatchesNumericalIntegration) {
  // One bin [0.3, 2.7) holding 2 values, grid {−0.5, 0.5, 1.5} (lo = −0.5, s = 1, steps = 2):
  // compare with a 2·10^6-point midpoint rule.
  const std::vector<double> edges = {0.3, 2.7}, counts = {2.0};
  const double got = grid_squared_error(edges, counts, 0.0, -0.5, 1.0, 2);
  const int m = 2000000;
  double want = 0.0;
  for (int i = 0; i < m; ++i) {
    const double x = 0.3 + 2.4 * (i + 0.5) / m;
    const double q = std::clamp(std::round(x + 0.5), 0.0, 2.0) - 0.5;
    want += (x - q) * (x - q);
  }
  want *= 2.0 / m;  // density 2/2.4 × dx 2.4/m
  EXPECT_NEAR(got, want, 1e-9);
  // Point zeros pay the distance to the nearest grid point (0.5 here).
  EXPECT_NEAR(grid_squared_error(edges, std::vector<double>{0.0}, 3.0, -0.5, 1.0, 2), 3 * 0.25,
              1e-12);
}

TEST(Calibrate, MseOfAGaussianMatchesTheAnalyticOptimum) {
  // For fine grids the expected error is clip(α) + Δ²/12: its minimiser is ACIQ's α* (≈ 3.9 σ
  // for 254 steps). The MSE search evaluates the exact error, so it must land close to α*.
  const TensorObserver obs = observe_all(gaussian_quantiles(500000));
  const CalibResult r = run(obs, params(CalibMethod::kMse, true, 254));
  const double alpha = aciq_alpha(AciqPrior::kGaussian, 254, false);
  EXPECT_NEAR(r.max / alpha, 1.0, 0.03) << "mse T = " << r.max << ", analytic " << alpha;
}

TEST(Calibrate, MseOfALaplaceMatchesTheAnalyticOptimum) {
  const double b = 0.5;
  const TensorObserver obs = observe_all(laplace_quantiles(1000000, b));
  const CalibResult r = run(obs, params(CalibMethod::kMse, true, 254));
  const double alpha = aciq_alpha(AciqPrior::kLaplace, 254, false) * b;
  EXPECT_NEAR(r.max / alpha, 1.0, 0.03) << "mse T = " << r.max << ", analytic " << alpha;
}

TEST(Calibrate, MseKeepsTheWholeUniformRangeAndOneSidedReluStartsAtZero) {
  const size_t n = 1 << 18;
  std::vector<float> u(n);
  for (size_t i = 0; i < n; ++i)
    u[i] = static_cast<float>(3.0 * (static_cast<double>(i) + 0.5) / n - 1.0);
  CalibResult r = run(observe_all(u), params(CalibMethod::kMse, false, 255));
  EXPECT_LE(r.min, -0.99f);
  EXPECT_GE(r.max, 1.98f);

  // ReLU(Laplace): half zeros, half Exponential(b); u8 range [0, α*] with α* for a one-sided grid.
  const double b = 0.25;
  std::vector<float> relu = exponential_quantiles(500000, b);
  relu.insert(relu.end(), 500000, 0.0f);
  r = run(observe_all(relu), params(CalibMethod::kMse, false, 255));
  EXPECT_EQ(r.min, 0.0f);
  // Zeros cost nothing (0 is on the grid), so the optimum is the exponential part's.
  const double alpha = aciq_alpha(AciqPrior::kLaplace, 255, true) * b;
  EXPECT_NEAR(r.max / alpha, 1.0, 0.05) << "mse hi = " << r.max << ", analytic " << alpha;
}

// ---- ACIQ -------------------------------------------------------------------------------------

TEST(Aciq, ClipRatiosMatchThePublishedTable) {
  // Banner et al. (ACIQ), optimal clipping for 2^M steps over [−α, α], as tabulated in ncnn.
  EXPECT_NEAR(aciq_alpha(AciqPrior::kLaplace, 4, false), 2.83068299, 1e-6);
  EXPECT_NEAR(aciq_alpha(AciqPrior::kLaplace, 16, false), 5.02864014, 1e-6);
  EXPECT_NEAR(aciq_alpha(AciqPrior::kLaplace, 256, false), 9.89675982, 1e-6);
  EXPECT_NEAR(aciq_alpha(AciqPrior::kGaussian, 16, false), 2.55913646, 1e-6);
  EXPECT_NEAR(aciq_alpha(AciqPrior::kGaussian, 256, false), 3.92403714, 5e-6);  // table rounding
  // A one-sided grid with s steps over [0, α] is the two-sided problem with 2s steps.
  EXPECT_NEAR(aciq_alpha(AciqPrior::kLaplace, 128, true),
              aciq_alpha(AciqPrior::kLaplace, 256, false), 1e-9);
}

TEST(Calibrate, AciqFitsLaplaceAndGaussianScales) {
  const double b = 0.5;
  CalibParams p = params(CalibMethod::kAciq, true, 256);
  CalibResult r = run(observe_all(laplace_quantiles(500000, b)), p);
  EXPECT_NEAR(r.max, 9.89675982 * b, 0.01 * 9.9 * b);

  p.aciq_prior = AciqPrior::kGaussian;
  std::vector<float> g = gaussian_quantiles(500000);  // a copy
  for (float& x : g) x = 2.0f * x + 1.0f;  // N(1, 2²): range [μ − α, μ + α] for asymmetric
  p.symmetric = false;
  r = run(observe_all(g), p);
  const double alpha = 3.92403714 * 2.0;
  EXPECT_NEAR(r.max, std::min(1.0 + alpha, double{*std::max_element(g.begin(), g.end())}),
              0.02 * alpha);
  EXPECT_NEAR(r.min, 1.0 - alpha, 0.02 * alpha);

  // One-sided (ReLU-like) data with u8: [0, α] with the half-distribution's α.
  p = params(CalibMethod::kAciq, false, 255);
  const TensorObserver exp_obs = observe_all(exponential_quantiles(400000, 0.25));
  r = run(exp_obs, p);
  EXPECT_EQ(r.min, exp_obs.min());  // clip ranges never leave the observed range
  EXPECT_NEAR(r.max, aciq_alpha(AciqPrior::kLaplace, 255, true) * 0.25, 0.01 * 2.5);
}

// ---- determinism, bad input --------------------------------------------------------------------

TEST(Calibrate, SameDataSameOrderGivesByteIdenticalTables) {
  auto make_table = [] {
    Rng rng(77);
    TensorObserver a, b;
    for (int batch = 0; batch < 30; ++batch) {
      std::vector<float> x(3001), y(3001);
      const float s = 1.0f + 0.2f * static_cast<float>(batch);
      for (float& v : x) v = std::max(0.0f, rng.normal(0.0f, s));
      for (float& v : y) v = rng.normal(0.5f, s);
      a.observe(x);
      b.observe(y);
    }
    CalibTable t;
    t.samples = 30;
    for (CalibMethod m :
         {CalibMethod::kMinMax, CalibMethod::kMovingAverage, CalibMethod::kPercentile,
          CalibMethod::kEntropy, CalibMethod::kMse, CalibMethod::kAciq}) {
      for (bool sym : {false, true}) {
        const CalibParams p = params(m, sym, sym ? 254 : 255);
        const std::string suffix =
            fmt::format("_{}_{}", calib_method_name(m), sym ? "sym" : "asym");
        t.entries.push_back(make_entry("relu" + suffix, a, calibrate(a, p).value()));
        t.entries.push_back(make_entry("conv" + suffix, b, calibrate(b, p).value()));
      }
    }
    return serialize_calib_table(t);
  };
  const std::string first = make_table();
  EXPECT_EQ(first, make_table());
  EXPECT_GT(first.size(), 1000u);
}

TEST(Calibrate, BadInputIsAClearError) {
  TensorObserver empty;
  Result<CalibResult> r = calibrate(empty, CalibParams{});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("values observed = 0"), std::string::npos);

  TensorObserver nan;
  nan.observe(std::vector<float>{1.0f, std::numeric_limits<float>::quiet_NaN()});
  r = calibrate(nan, CalibParams{});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("non-finite values = 1, must be 0"), std::string::npos);

  TensorObserver ok;
  ok.observe(std::vector<float>{1.0f, -1.0f});
  CalibParams p;
  p.percentile = 0.0;
  r = calibrate(ok, p);
  EXPECT_NE(r.status().message().find("percentile = 0, must be in (0, 100]"), std::string::npos);
  p = CalibParams{};
  p.steps = 1;
  EXPECT_FALSE(calibrate(ok, p).ok());
  EXPECT_FALSE(parse_calib_method("kl").ok());
  EXPECT_NE(parse_calib_method("kl").status().message().find("minmax|moving-average"),
            std::string::npos);
  EXPECT_EQ(parse_calib_method("entropy").value(), CalibMethod::kEntropy);
}

TEST(Calibrate, AllZeroTensorGivesAZeroRange) {
  TensorObserver obs;
  obs.observe(std::vector<float>(64, 0.0f));
  for (CalibMethod m : {CalibMethod::kMinMax, CalibMethod::kPercentile, CalibMethod::kEntropy,
                        CalibMethod::kMse, CalibMethod::kAciq}) {
    const CalibResult r = run(obs, params(m, false, 255));
    EXPECT_EQ(r.min, 0.0f) << calib_method_name(m);
    EXPECT_EQ(r.max, 0.0f) << calib_method_name(m);
  }
}

}  // namespace
}  // namespace ei8::quant
