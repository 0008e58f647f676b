#include "ei8/quant/calibrators.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <numbers>

namespace ei8::quant {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// Appends one entry. Out of line on purpose: GCC 12 reports a false -Warray-bounds when the
// vector's growth path is inlined into every caller.
[[gnu::noinline]] void put(ParamList& list, std::string key, ParamValue value) {
  list.emplace_back(std::move(key), std::move(value));
}

template <typename E, size_t N>
Result<E> parse_enum(std::string_view name, const std::array<std::string_view, N>& names,
                     std::string_view what) {
  for (size_t i = 0; i < N; ++i) {
    if (names[i] == name) return static_cast<E>(i);
  }
  std::string all;
  for (size_t i = 0; i < N; ++i) {
    if (i > 0) all.push_back('|');
    all.append(names[i]);
  }
  return invalid_argument("cannot parse {}: {} = '{}', must be one of {}", what, what, name, all);
}

constexpr std::array<std::string_view, 6> kMethodNames = {
    "minmax", "moving-average", "percentile", "entropy", "mse", "aciq"};
constexpr std::array<std::string_view, 3> kPercentileModeNames = {"auto", "symmetric", "two-sided"};
constexpr std::array<std::string_view, 3> kZeroBinNames = {"skip-exact-zeros", "keep", "copy-next"};
constexpr std::array<std::string_view, 2> kKlThresholdNames = {"upper-edge", "half-bin"};
constexpr std::array<std::string_view, 2> kAciqPriorNames = {"laplace", "gaussian"};

// Range of a symmetric scheme from a threshold: [−T, T], T never beyond the observed |x| max.
void set_symmetric(CalibResult& r, double t, const TensorObserver& obs) {
  const double absmax = std::max(std::fabs(double{obs.min()}), std::fabs(double{obs.max()}));
  const float tf = static_cast<float>(std::min(t, absmax));
  r.min = -tf;
  r.max = tf;
}

// Range of an asymmetric scheme: [lo, hi] intersected with the observed [min, max].
void set_clipped(CalibResult& r, double lo, double hi, const TensorObserver& obs) {
  r.min = static_cast<float>(std::max(lo, double{obs.min()}));
  r.max = static_cast<float>(std::min(hi, double{obs.max()}));
  if (r.min > r.max) r.min = r.max = 0.0f;  // cannot happen for lo ≤ 0 ≤ hi; kept total
}

void add_histogram_params(CalibResult& r, const TensorObserver& obs) {
  const StreamingHistogram& h = obs.histogram();
  put(r.parameters, "bins", h.bins());
  put(r.diagnostics, "bins_used", h.bins_used());
  put(r.diagnostics, "bin_width", h.bin_width());
  put(r.diagnostics, "histogram_merges", h.merges());
}

// Signed histogram as (edges, counts) of the non-empty bins plus the exact zeros, which sit at 0
// (taken out of positive bin 0, whose density would otherwise smear them over [0, w)).
struct SignedBins {
  std::vector<double> lo, hi, count;
  double zeros = 0.0;
};

SignedBins signed_bins(const StreamingHistogram& h) {
  SignedBins b;
  const std::vector<uint64_t> c = h.signed_counts();
  const int64_t n = h.bins_used();
  const double w = h.bin_width();
  for (int64_t j = 0; j < 2 * n; ++j) {
    double cnt = static_cast<double>(c[static_cast<size_t>(j)]);
    if (j == n) cnt -= static_cast<double>(h.zeros());
    if (cnt <= 0.0) continue;
    b.lo.push_back(static_cast<double>(j - n) * w);
    b.hi.push_back(static_cast<double>(j - n + 1) * w);
    b.count.push_back(cnt);
  }
  b.zeros = static_cast<double>(h.zeros());
  return b;
}

// ∫_0^t e(u) du for the error e(u) = (u − Q(u))² of the unit grid {0, 1, …, steps} with
// clamping (u in units of the step). Closed form: inside the grid, each full step contributes
// 1/12 and the partial step (u − round(u))³/3.
double grid_primitive(double t, int64_t steps) {
  if (t < 0.0) return t * t * t / 3.0;
  const double top = static_cast<double>(steps);
  if (t > top) {
    const double d = t - top;
    return top / 12.0 + d * d * d / 3.0;
  }
  const double m = std::floor(t + 0.5);
  const double d = t - m;
  return m / 12.0 + d * d * d / 3.0;
}

double bins_error(const SignedBins& b, double lo, double hi, int64_t steps) {
  if (!(hi > lo)) return kInf;
  const double s = (hi - lo) / static_cast<double>(steps);
  // The sum over bins, each c·s²·(G(tb) − G(ta))/(tb − ta).
  double err = 0.0;
  const double inv_s = 1.0 / s;
  for (size_t j = 0; j < b.count.size(); ++j) {
    const double ta = (b.lo[j] - lo) * inv_s;
    const double tb = (b.hi[j] - lo) * inv_s;
    err += b.count[j] * (grid_primitive(tb, steps) - grid_primitive(ta, steps)) / (tb - ta);
  }
  err *= s * s;
  if (b.zeros > 0.0) {
    const double t0 = -lo * inv_s;
    const double k = std::clamp(std::floor(t0 + 0.5), 0.0, static_cast<double>(steps));
    err += b.zeros * (t0 - k) * (t0 - k) * s * s;
  }
  return err;
}

// Finds the candidate end c ∈ [c_first, c_last] (in bins) with the smallest error: a coarse
// pass over every stride-th candidate (stride = ⌈count / kMseCoarse⌉, c_last always included),
// then every candidate within one stride of the coarse winner. Ties keep the largest c (the
// widest range). `error_at(c)` evaluates one candidate.
constexpr int64_t kMseCoarse = 256;

template <typename F>
int64_t scan(int64_t c_first, int64_t c_last, F error_at, double* best_err) {
  const int64_t stride = std::max<int64_t>(1, (c_last - c_first + kMseCoarse) / kMseCoarse);
  int64_t best = c_last;
  double best_e = kInf;
  auto consider = [&](int64_t c) {
    const double e = error_at(c);
    if (e < best_e || (e == best_e && c > best)) {
      best_e = e;
      best = c;
    }
  };
  for (int64_t c = c_first; c < c_last; c += stride) consider(c);
  consider(c_last);
  if (stride > 1) {
    const int64_t centre = best;
    for (int64_t c = std::max(c_first, centre - stride + 1);
         c <= std::min(c_last, centre + stride - 1); ++c) {
      if (c != centre) consider(c);
    }
  }
  *best_err = best_e;
  return best;
}

Result<CalibResult> calibrate_percentile(const TensorObserver& obs, const CalibParams& p,
                                         CalibResult r) {
  const StreamingHistogram& h = obs.histogram();
  const bool sym = p.percentile_mode == PercentileMode::kSymmetric ||
                   (p.percentile_mode == PercentileMode::kAuto && p.symmetric);
  put(r.parameters, "percentile", p.percentile);
  put(r.parameters, "percentile_mode", std::string(sym ? "symmetric" : "two-sided"));
  add_histogram_params(r, obs);
  const uint64_t n_values = h.count();
  const double w = h.bin_width();
  const int64_t n = h.bins_used();
  if (n == 0) {  // only zeros seen
    r.min = r.max = 0.0f;
    return r;
  }
  // Bin holding the value of 0-based sorted index `idx` in `counts`.
  auto bin_of = [](const std::vector<uint64_t>& counts, uint64_t idx) {
    uint64_t cum = 0;
    for (size_t j = 0; j < counts.size(); ++j) {
      cum += counts[j];
      if (cum > idx) return static_cast<int64_t>(j);
    }
    return static_cast<int64_t>(counts.size()) - 1;
  };
  const double nv = static_cast<double>(n_values);
  if (sym) {
    // Nearest rank: the ⌈p/100 · N⌉-th smallest |x|.
    const double rank = std::ceil(p.percentile / 100.0 * nv);
    const uint64_t idx = static_cast<uint64_t>(std::clamp(rank, 1.0, nv)) - 1;
    const int64_t k = bin_of(h.abs_counts(), idx);
    put(r.diagnostics, "rank", static_cast<int64_t>(idx + 1));
    put(r.diagnostics, "bin", k);
    set_symmetric(r, static_cast<double>(k + 1) * w, obs);
    if (!p.symmetric) set_clipped(r, r.min, r.max, obs);
    return r;
  }
  const double tail = (1.0 - p.percentile / 100.0) / 2.0;
  const uint64_t lo_idx = static_cast<uint64_t>(std::clamp(std::floor(tail * nv), 0.0, nv - 1.0));
  const uint64_t hi_idx =
      static_cast<uint64_t>(std::clamp(std::ceil((1.0 - tail) * nv) - 1.0, 0.0, nv - 1.0));
  const std::vector<uint64_t> sc = h.signed_counts();
  const int64_t j_lo = bin_of(sc, lo_idx);
  const int64_t j_hi = bin_of(sc, hi_idx);
  put(r.diagnostics, "rank_low", static_cast<int64_t>(lo_idx + 1));
  put(r.diagnostics, "rank_high", static_cast<int64_t>(hi_idx + 1));
  const double lo = static_cast<double>(j_lo - n) * w;
  const double hi = static_cast<double>(j_hi - n + 1) * w;
  if (p.symmetric) {
    set_symmetric(r, std::max(std::fabs(lo), std::fabs(hi)), obs);
  } else {
    set_clipped(r, lo, hi, obs);
  }
  return r;
}

Result<CalibResult> calibrate_entropy(const TensorObserver& obs, const CalibParams& p,
                                      CalibResult r) {
  const StreamingHistogram& h = obs.histogram();
  put(r.parameters, "levels", p.entropy_levels);
  put(r.parameters, "zero_bin", std::string(zero_bin_name(p.entropy_zero_bin)));
  put(r.parameters, "smoothing", std::string("none"));
  put(r.parameters, "tie_break", std::string("largest-threshold"));
  put(r.parameters, "threshold", std::string(kl_threshold_name(p.entropy_threshold)));
  add_histogram_params(r, obs);
  const int64_t n = h.bins_used();
  if (n == 0) {
    r.min = r.max = 0.0f;
    return r;
  }
  std::vector<double> hist(static_cast<size_t>(n));
  const std::vector<uint64_t> abs = h.abs_counts();
  for (int64_t j = 0; j < n; ++j) hist[static_cast<size_t>(j)] = static_cast<double>(abs[j]);
  switch (p.entropy_zero_bin) {
    case ZeroBin::kSkipExactZeros:
      hist[0] -= static_cast<double>(h.zeros());
      break;
    case ZeroBin::kCopyNext:
      if (n > 1) hist[0] = hist[1];
      break;
    case ZeroBin::kKeep:
      break;
  }
  const KlSearchResult s = kl_search(hist, p.entropy_levels);
  const double w = h.bin_width();
  const double t =
      (static_cast<double>(s.bins) + (p.entropy_threshold == KlThreshold::kHalfBin ? 0.5 : 0.0)) *
      w;
  put(r.diagnostics, "chosen_bins", s.bins);
  put(r.diagnostics, "kl", s.kl);
  put(r.diagnostics, "candidates", s.candidates);
  put(r.diagnostics, "threshold_value", t);
  set_symmetric(r, t, obs);
  if (!p.symmetric) set_clipped(r, r.min, r.max, obs);
  return r;
}

Result<CalibResult> calibrate_mse(const TensorObserver& obs, const CalibParams& p, CalibResult r) {
  const StreamingHistogram& h = obs.histogram();
  put(r.parameters, "steps", p.steps);
  put(r.parameters, "density", std::string("uniform-within-bin"));
  put(r.parameters, "candidates", std::string("bin-edges-coarse-256-then-fine"));
  add_histogram_params(r, obs);
  const int64_t n = h.bins_used();
  if (n == 0) {
    r.min = r.max = 0.0f;
    return r;
  }
  const double w = h.bin_width();
  const SignedBins b = signed_bins(h);
  const int64_t steps = p.steps;
  double err = 0.0;
  // Number of bins from 0 to the farthest non-empty bin on each side.
  int64_t n_neg = 0, n_pos = 0;
  for (int64_t k = 0; k < n; ++k) {
    if (h.negative(k) > 0) n_neg = k + 1;
    if (h.positive(k) > 0) n_pos = k + 1;
  }
  if (p.symmetric) {
    const int64_t c = scan(
        1, std::max(n_neg, n_pos),
        [&](int64_t i) {
          const double t = static_cast<double>(i) * w;
          return bins_error(b, -t, t, steps);
        },
        &err);
    set_symmetric(r, static_cast<double>(c) * w, obs);
    put(r.diagnostics, "chosen_bins", c);
  } else if (n_neg == 0 || n_pos == 0) {
    // One-sided data: the range keeps 0 at one end and searches the other.
    const bool positive = n_neg == 0;
    const int64_t c = scan(
        1, positive ? n_pos : n_neg,
        [&](int64_t i) {
          const double t = static_cast<double>(i) * w;
          return positive ? bins_error(b, 0.0, t, steps) : bins_error(b, -t, 0.0, steps);
        },
        &err);
    const double t = static_cast<double>(c) * w;
    set_clipped(r, positive ? 0.0 : -t, positive ? t : 0.0, obs);
    put(r.diagnostics, "chosen_bins", c);
  } else {
    // Two-sided data: coordinate descent, each end scanned with the other fixed, until neither
    // moves (at most 8 rounds; deterministic).
    int64_t lo_c = n_neg, hi_c = n_pos;
    int64_t rounds = 0;
    for (; rounds < 8; ++rounds) {
      const int64_t new_hi = scan(
          0, n_pos,
          [&](int64_t i) {
            return bins_error(b, -static_cast<double>(lo_c) * w, static_cast<double>(i) * w, steps);
          },
          &err);
      const int64_t new_lo = scan(
          0, n_neg,
          [&](int64_t i) {
            return bins_error(b, -static_cast<double>(i) * w, static_cast<double>(new_hi) * w,
                              steps);
          },
          &err);
      const bool moved = new_hi != hi_c || new_lo != lo_c;
      hi_c = new_hi;
      lo_c = new_lo;
      if (!moved) break;
    }
    set_clipped(r, -static_cast<double>(lo_c) * w, static_cast<double>(hi_c) * w, obs);
    put(r.diagnostics, "chosen_bins_low", lo_c);
    put(r.diagnostics, "chosen_bins_high", hi_c);
    put(r.diagnostics, "descent_rounds", rounds + 1);
  }
  put(r.diagnostics, "mse", err / static_cast<double>(h.count()));
  return r;
}

Result<CalibResult> calibrate_aciq(const TensorObserver& obs, const CalibParams& p, CalibResult r) {
  const StreamingHistogram& h = obs.histogram();
  put(r.parameters, "prior", std::string(aciq_prior_name(p.aciq_prior)));
  put(r.parameters, "steps", p.steps);
  put(r.parameters, "moments", std::string("histogram-bin-centres"));
  add_histogram_params(r, obs);
  const int64_t n = h.bins_used();
  if (n == 0) {
    r.min = r.max = 0.0f;
    return r;
  }
  // Moments from bin centres; exact zeros at 0.
  const SignedBins b = signed_bins(h);
  const double total = static_cast<double>(h.count());
  double sum = 0.0;
  for (size_t j = 0; j < b.count.size(); ++j) sum += b.count[j] * 0.5 * (b.lo[j] + b.hi[j]);
  const double mean = sum / total;
  const bool one_sided = obs.min() >= 0.0f || obs.max() <= 0.0f;
  const double centre = one_sided ? 0.0 : mean;
  double m1 = 0.0, m2 = 0.0;  // E|x − c|, E(x − c)²
  for (size_t j = 0; j < b.count.size(); ++j) {
    const double d = 0.5 * (b.lo[j] + b.hi[j]) - centre;
    m1 += b.count[j] * std::fabs(d);
    m2 += b.count[j] * d * d;
  }
  m1 += b.zeros * std::fabs(centre);
  m2 += b.zeros * centre * centre;
  m1 /= total;
  m2 /= total;
  // Laplace: b = E|x − μ| (for a half-Laplace/exponential on [0, ∞): b = E x);
  // Gaussian: σ = std (half-normal: σ = √E x²).
  const double scale = p.aciq_prior == AciqPrior::kLaplace ? m1 : std::sqrt(m2);
  // A symmetric scheme spends half its steps on each side; a one-sided asymmetric one all.
  const bool use_half = one_sided && !p.symmetric;
  const int64_t steps = p.steps;
  const double ratio = aciq_alpha(p.aciq_prior, steps, use_half);
  const double alpha = ratio * scale;
  put(r.diagnostics, "mean", mean);
  put(r.diagnostics, p.aciq_prior == AciqPrior::kLaplace ? "b" : "sigma", scale);
  put(r.diagnostics, "alpha_ratio", ratio);
  put(r.diagnostics, "alpha", alpha);
  put(r.diagnostics, "one_sided", static_cast<int64_t>(one_sided));
  if (p.symmetric) {
    set_symmetric(r, std::fabs(centre) + alpha, obs);
  } else if (one_sided) {
    const bool positive = obs.min() >= 0.0f;
    set_clipped(r, positive ? 0.0 : -alpha, positive ? alpha : 0.0, obs);
  } else {
    set_clipped(r, centre - alpha, centre + alpha, obs);
  }
  return r;
}

}  // namespace

std::string_view calib_method_name(CalibMethod m) { return kMethodNames[static_cast<size_t>(m)]; }
Result<CalibMethod> parse_calib_method(std::string_view name) {
  return parse_enum<CalibMethod>(name, kMethodNames, "method");
}
std::string_view percentile_mode_name(PercentileMode m) {
  return kPercentileModeNames[static_cast<size_t>(m)];
}
std::string_view zero_bin_name(ZeroBin z) { return kZeroBinNames[static_cast<size_t>(z)]; }
std::string_view kl_threshold_name(KlThreshold t) {
  return kKlThresholdNames[static_cast<size_t>(t)];
}
std::string_view aciq_prior_name(AciqPrior p) { return kAciqPriorNames[static_cast<size_t>(p)]; }
Result<PercentileMode> parse_percentile_mode(std::string_view name) {
  return parse_enum<PercentileMode>(name, kPercentileModeNames, "percentile mode");
}
Result<ZeroBin> parse_zero_bin(std::string_view name) {
  return parse_enum<ZeroBin>(name, kZeroBinNames, "zero bin");
}
Result<KlThreshold> parse_kl_threshold(std::string_view name) {
  return parse_enum<KlThreshold>(name, kKlThresholdNames, "threshold");
}
Result<AciqPrior> parse_aciq_prior(std::string_view name) {
  return parse_enum<AciqPrior>(name, kAciqPriorNames, "prior");
}

std::string param_value_to_string(const ParamValue& v) {
  if (const auto* i = std::get_if<int64_t>(&v)) return fmt::format("{}", *i);
  if (const auto* d = std::get_if<double>(&v)) return fmt::format("{}", *d);
  return std::get<std::string>(v);
}

Status validate(const CalibParams& p) {
  if (p.steps < 2 || p.steps > 65535) {
    return invalid_argument("cannot calibrate: steps = {}, must be in [2, 65535]", p.steps);
  }
  if (!(p.percentile > 0.0 && p.percentile <= 100.0)) {
    return invalid_argument("cannot calibrate: percentile = {}, must be in (0, 100]", p.percentile);
  }
  if (p.entropy_levels < 2 || p.entropy_levels > (int64_t{1} << 20)) {
    return invalid_argument("cannot calibrate: entropy levels = {}, must be in [2, 1048576]",
                            p.entropy_levels);
  }
  return {};
}

KlSearchResult kl_search(std::span<const double> hist, int64_t levels) {
  KlSearchResult res;
  const int64_t n = static_cast<int64_t>(hist.size());
  if (n == 0) return res;
  // Prefix sums: mass, Σ h·ln h and non-empty counts, so each level costs O(1).
  std::vector<double> mass(static_cast<size_t>(n + 1), 0.0), hlh(mass), nonempty(mass);
  for (int64_t j = 0; j < n; ++j) {
    const double v = std::max(hist[static_cast<size_t>(j)], 0.0);
    const size_t u = static_cast<size_t>(j);
    mass[u + 1] = mass[u] + v;
    hlh[u + 1] = hlh[u] + (v > 0.0 ? v * std::log(v) : 0.0);
    nonempty[u + 1] = nonempty[u] + (v > 0.0 ? 1.0 : 0.0);
  }
  const double total = mass[static_cast<size_t>(n)];
  if (total <= 0.0) return {n, 0.0, 1};
  const double ln_total = std::log(total);
  const int64_t first = std::min(levels, n);
  res.bins = n;
  res.kl = kInf;
  auto at = [](const std::vector<double>& v, int64_t i) { return v[static_cast<size_t>(i)]; };
  std::vector<double> kls(static_cast<size_t>(n - first + 1), kInf);
  for (int64_t i = first; i <= n; ++i) {
    ++res.candidates;
    const double kept = at(mass, i);  // Σ Q before normalisation
    const double outliers = total - kept;
    const double ln_kept = std::log(kept);
    double acc = 0.0;  // T·KL, T = Σ P = total
    double last_ln_q = kInf;
    // Level g covers bins [⌈g·i/L⌉, ⌈(g+1)·i/L⌉).
    for (int64_t g = 0; g < levels; ++g) {
      const int64_t b = (g * i + levels - 1) / levels;
      const int64_t e = ((g + 1) * i + levels - 1) / levels;
      if (e <= b) continue;
      const double m = at(mass, e) - at(mass, b);
      const double ne = at(nonempty, e) - at(nonempty, b);
      if (ne <= 0.0) continue;
      const double ln_q = std::log(m) - std::log(ne) - ln_kept;  // q of each non-empty bin
      const int64_t e2 = e == i ? i - 1 : e;                     // bin i−1 is done below
      acc += (at(hlh, e2) - at(hlh, b)) - (at(mass, e2) - at(mass, b)) * (ln_total + ln_q);
      if (e == i) last_ln_q = ln_q;
    }
    const double h_last = std::max(hist[static_cast<size_t>(i - 1)], 0.0);
    const double p_last = h_last + outliers;
    double kl = kInf;
    if (p_last <= 0.0) {
      kl = acc / total;
    } else if (h_last > 0.0) {
      kl = (acc + p_last * (std::log(p_last) - ln_total - last_ln_q)) / total;
    }
    kls[static_cast<size_t>(i - first)] = kl;
  }
  // Ties: KL values within kKlTieTolerance of the minimum (sums of n terms in double agree to
  // ~1e-15, so exact ties in real arithmetic are caught) go to the largest i.
  const double best = *std::min_element(kls.begin(), kls.end());
  for (int64_t i = n; i >= first; --i) {
    const double kl = kls[static_cast<size_t>(i - first)];
    if (kl <= best + kKlTieTolerance) {
      res.bins = i;
      res.kl = kl;
      break;
    }
  }
  return res;
}

double grid_squared_error(std::span<const double> edges, std::span<const double> counts,
                          double point_zeros, double lo, double s, int64_t steps) {
  SignedBins b;
  for (size_t j = 0; j < counts.size() && j + 1 < edges.size(); ++j) {
    if (counts[j] <= 0.0) continue;
    b.lo.push_back(edges[j]);
    b.hi.push_back(edges[j + 1]);
    b.count.push_back(counts[j]);
  }
  b.zeros = point_zeros;
  return bins_error(b, lo, lo + s * static_cast<double>(steps), steps);
}

double aciq_alpha(AciqPrior prior, int64_t steps, bool one_sided) {
  // f(t) = clip(t) + (r·t/steps)²/12 with r = 2 (range [μ − α, μ + α]) or 1 ([0, α]);
  // f is convex, so bisect f'(t) = 0.
  //   Laplace / exponential (unit b): clip(t) = 2·e^(−t),                 clip' = −2·e^(−t).
  //   Gaussian / half-normal (unit σ): clip(t) = 2·[(1+t²)·Q(t) − t·φ(t)], clip' = 4·(t·Q − φ).
  const double r = one_sided ? 1.0 : 2.0;
  const double k = r * r / (6.0 * static_cast<double>(steps) * static_cast<double>(steps));
  auto deriv = [&](double t) {
    if (prior == AciqPrior::kLaplace) return -2.0 * std::exp(-t) + k * t;
    const double q = 0.5 * std::erfc(t / std::sqrt(2.0));
    const double phi = std::exp(-0.5 * t * t) / std::sqrt(2.0 * std::numbers::pi);
    return 4.0 * (t * q - phi) + k * t;
  };
  double lo = 0.0, hi = 100.0;
  for (int it = 0; it < 200; ++it) {
    const double mid = 0.5 * (lo + hi);
    (deriv(mid) < 0.0 ? lo : hi) = mid;
  }
  return 0.5 * (lo + hi);
}

namespace {

Result<CalibResult> calibrate_range(const TensorObserver& obs, const CalibParams& p) {
  if (obs.nonfinite() > 0) {
    return invalid_argument("cannot calibrate tensor: non-finite values = {}, must be 0",
                            obs.nonfinite());
  }
  if (obs.empty()) {
    return invalid_argument("cannot calibrate tensor: values observed = 0, must be ≥ 1");
  }
  CalibResult r;
  r.method = p.method;
  put(r.parameters, "scheme", std::string(p.symmetric ? "symmetric" : "asymmetric"));
  switch (p.method) {
    case CalibMethod::kMinMax:
      if (p.symmetric) {
        set_symmetric(r, kInf, obs);
      } else {
        r.min = obs.min();
        r.max = obs.max();
      }
      return r;
    case CalibMethod::kMovingAverage: {
      put(r.parameters, "ema_constant", obs.options().ema_constant);
      put(r.diagnostics, "batches", obs.batches());
      const double lo = obs.ema_min(), hi = obs.ema_max();
      if (p.symmetric) {
        set_symmetric(r, std::max(std::fabs(lo), std::fabs(hi)), obs);
      } else {
        r.min = static_cast<float>(lo);
        r.max = static_cast<float>(hi);
      }
      return r;
    }
    case CalibMethod::kPercentile:
      return calibrate_percentile(obs, p, std::move(r));
    case CalibMethod::kEntropy:
      return calibrate_entropy(obs, p, std::move(r));
    case CalibMethod::kMse:
      return calibrate_mse(obs, p, std::move(r));
    case CalibMethod::kAciq:
      return calibrate_aciq(obs, p, std::move(r));
  }
  return internal_error("cannot calibrate tensor: method = {}, must be known",
                        static_cast<int>(p.method));
}

// Fraction of the observed values outside [lo, hi], counting only histogram bins that lie
// wholly outside (so a lower bound, short by at most one bin per side).
double clipped_fraction(const StreamingHistogram& h, double lo, double hi, double margin = 0.0) {
  if (h.count() == 0) return 0.0;
  lo -= margin;
  hi += margin;
  const double w = h.bin_width();
  uint64_t clipped = 0;
  for (int64_t k = 0; k < h.bins_used(); ++k) {
    const double edge = static_cast<double>(k) * w;
    if (edge > hi) clipped += h.positive(k);
    if (-edge < lo) clipped += h.negative(k);
  }
  return static_cast<double>(clipped) / static_cast<double>(h.count());
}

}  // namespace

Result<CalibResult> calibrate(const TensorObserver& obs, const CalibParams& p) {
  EI8_RETURN_IF_ERROR(validate(p));
  EI8_ASSIGN_OR_RETURN(CalibResult r, calibrate_range(obs, p));
  // Values within half a step beyond the range lose no more to clipping than any value loses to
  // rounding: only those farther out make clipping worse than minmax.
  const double half_step =
      0.5 * (double{r.max} - double{r.min}) / static_cast<double>(std::max<int64_t>(p.steps, 1));
  put(r.diagnostics, "clipped_beyond_half_step",
      clipped_fraction(obs.histogram(), r.min, r.max, half_step));
  put(r.diagnostics, "clipped_fraction", clipped_fraction(obs.histogram(), r.min, r.max));
  return r;
}

}  // namespace ei8::quant
