#include "ei8/conformance/verify.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "ei8/conformance/overflow_experiment.h"
#include "ei8/core/rng.h"
#include "ei8/fixedpoint/bit_growth.h"
#include "ei8/fixedpoint/oracle.h"
#include "ei8/fixedpoint/overflow.h"
#include "ei8/fixedpoint/rounding.h"
#include "ei8/quant/quant_math.h"
#include "ei8/runtime/kernels/ref/conv_s8_ref.h"
#include "ei8/runtime/kernels/ref/fully_connected_s8_ref.h"

namespace ei8::conformance {

using namespace ei8::fixedpoint;  // NOLINT(google-build-using-namespace): the primitives checked

std::string_view outcome_name(Outcome o) {
  switch (o) {
    case Outcome::kPassed:
      return "passed";
    case Outcome::kFailed:
      return "failed";
    case Outcome::kSkipped:
      return "skipped";
  }
  return "?";
}

Summary summarize(const std::vector<CaseResult>& results) {
  Summary s;
  for (const CaseResult& r : results) {
    if (r.outcome == Outcome::kPassed) ++s.passed;
    if (r.outcome == Outcome::kFailed) ++s.failed;
    if (r.outcome == Outcome::kSkipped) ++s.skipped;
  }
  return s;
}

namespace {

constexpr int32_t kMin32 = std::numeric_limits<int32_t>::min();
constexpr int32_t kMax32 = std::numeric_limits<int32_t>::max();

// Collects failures of one case; the first few are kept in the detail.
class Checker {
 public:
  template <typename... Args>
  void expect(bool ok, fmt::format_string<Args...> f, Args&&... args) {
    ++checks_;
    if (ok) return;
    if (++failures_ <= 3) {
      if (!first_.empty()) first_ += "; ";
      first_ += fmt::format(f, std::forward<Args>(args)...);
    }
  }
  CaseResult result(std::string detail_if_ok) const {
    CaseResult r;
    if (failures_ == 0) {
      r.outcome = Outcome::kPassed;
      r.detail = fmt::format("{} checks; {}", checks_, detail_if_ok);
    } else {
      r.outcome = Outcome::kFailed;
      r.detail = fmt::format("{} of {} checks failed: {}", failures_, checks_, first_);
    }
    return r;
  }

 private:
  int64_t checks_ = 0, failures_ = 0;
  std::string first_;
};

// gemmlowp-style boundary values plus seeded random ones.
std::vector<int32_t> boundary_accumulators(uint64_t seed) {
  std::vector<int32_t> v = {0, kMin32, kMin32 + 1, kMax32, kMax32 - 1};
  for (int i = 0; i < 31; ++i) {
    for (int d = -2; d <= 2; ++d) {
      const int64_t p = (int64_t{1} << i) + d;
      if (p <= kMax32) v.push_back(static_cast<int32_t>(p));
      if (-p >= kMin32) v.push_back(static_cast<int32_t>(-p));
    }
  }
  Rng rng(seed);
  for (int i = 0; i < 300; ++i) v.push_back(static_cast<int32_t>(rng.uniform_int(-100000, 100000)));
  for (int i = 0; i < 100; ++i) v.push_back(static_cast<int32_t>(rng.next_u64()));
  return v;
}

std::vector<double> boundary_multipliers(uint64_t seed) {
  std::vector<double> m = {0.5, 0.25, 0.75, 1.0 / 3.0, 0.1, 0.9999999, 1e-3, 1e-6, 1.0, 2.0};
  for (int i = -31; i <= 0; ++i) {
    m.push_back(std::ldexp(1.0, i));
    m.push_back(std::ldexp(1.0, i) * (1.0 + 1e-7));
    m.push_back(std::ldexp(1.0, i) * (1.0 - 1e-7));
  }
  Rng rng(seed);
  for (int i = 0; i < 60; ++i) m.push_back(std::pow(10.0, -6.0 + 6.0 * rng.uniform01()));
  return m;
}

CaseResult named(std::string name, CaseResult r) {
  r.name = std::move(name);
  return r;
}

// ---- rounding primitives ----

CaseResult case_round_half_even() {
  Checker c;
  const double in[] = {0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 2.4999999, -2.5000001};
  const double want[] = {0, 2, 2, 0, -2, -2, 2, -3};
  for (size_t i = 0; i < std::size(in); ++i) {
    c.expect(round_half_even(in[i]) == want[i], "RNE({}) = {}, want {}", in[i],
             round_half_even(in[i]), want[i]);
  }
  Rng rng(101);
  for (int i = 0; i < 20000; ++i) {
    const double x = static_cast<double>(rng.uniform_int(-4000000, 4000000)) / 4.0;
    c.expect(round_half_even(x) == std::nearbyint(x), "RNE({}) != nearbyint", x);
  }
  return c.result("ties to even; 20000 quarter-integers equal nearbyint (seed 101)");
}

CaseResult case_round_half_away() {
  Checker c;
  const double in[] = {0.5, -0.5, 2.5, -2.5, 2.49, -2.51};
  const double want[] = {1, -1, 3, -3, 2, -3};
  for (size_t i = 0; i < std::size(in); ++i) {
    c.expect(round_half_away(in[i]) == want[i], "RHA({}) = {}, want {}", in[i],
             round_half_away(in[i]), want[i]);
  }
  return c.result("ties away from zero");
}

CaseResult case_srdhm() {
  Checker c;
  // Hand ties, multiplier 0.5 in Q31 (2^30): −0.5 → 0, −1.5 → −1, 2.5 → 3 (toward +∞).
  c.expect(saturating_rounding_doubling_high_mul(-1, 1 << 30) == 0, "SRDHM(-1, 0.5)");
  c.expect(saturating_rounding_doubling_high_mul(-3, 1 << 30) == -1, "SRDHM(-3, 0.5)");
  c.expect(saturating_rounding_doubling_high_mul(5, 1 << 30) == 3, "SRDHM(5, 0.5)");
  c.expect(saturating_rounding_doubling_high_mul(kMin32, kMin32) == kMax32, "SRDHM(min, min)");
  const auto v = boundary_accumulators(102);
  for (int32_t a : v) {
    for (size_t j = 0; j < v.size(); j += 3) {
      const int32_t b = v[j];
      if (a == kMin32 && b == kMin32) continue;
      const long double real = static_cast<long double>(a) * b / 2147483648.0L;
      const auto want = static_cast<int64_t>(std::floor(real + 0.5L));
      c.expect(saturating_rounding_doubling_high_mul(a, b) == want, "SRDHM({}, {})", a, b);
    }
  }
  return c.result("boundary values 2^i±{0,1,2}, extremes, random (seed 102) vs long double");
}

CaseResult case_rdbpot() {
  Checker c;
  // −0.5 → −1, 0.5 → 1, −1.5 → −2 (ties away from zero).
  c.expect(rounding_divide_by_pot(-2, 2) == -1, "RDBPOT(-2, 2)");
  c.expect(rounding_divide_by_pot(2, 2) == 1, "RDBPOT(2, 2)");
  c.expect(rounding_divide_by_pot(-6, 2) == -2, "RDBPOT(-6, 2)");
  for (int32_t x : boundary_accumulators(103)) {
    for (int e = 0; e <= 31; ++e) {
      const long double want = std::round(static_cast<long double>(x) / std::ldexp(1.0L, e));
      c.expect(rounding_divide_by_pot(x, e) == static_cast<int64_t>(want), "RDBPOT({}, {})", x, e);
    }
  }
  return c.result("every exponent 0..31 on boundary values (seed 103) vs long double");
}

CaseResult case_saturate_wrap() {
  Checker c;
  c.expect(saturate(200, 8) == 127 && saturate(-200, 8) == -128, "saturate 8-bit");
  c.expect(wrap(128, 8) == -128 && wrap(-129, 8) == 127 && wrap(300, 8) == 44, "wrap 8-bit");
  c.expect(wrap(40000, 16) == 40000 - 65536, "wrap 16-bit");
  c.expect(int_range(2).min == -2 && int_range(2).max == 1, "2-bit range");
  c.expect(int_range(64).max == std::numeric_limits<int64_t>::max(), "64-bit range");
  // Pixel: 120 + 120 − 120 at 8 bits: wrap recovers (120), saturate sticks (127 − 120 = 7).
  const std::vector<int64_t> t = {120, 120, -120};
  c.expect(accumulate(t, 0, 8, OverflowPolicy::kWrap).result == 120, "wrap pixel");
  c.expect(accumulate(t, 0, 8, OverflowPolicy::kSaturate).result == 7, "saturate pixel");
  Rng rng(104);
  for (int i = 0; i < 20000; ++i) {
    const int bits = static_cast<int>(rng.uniform_int(2, 63));
    const auto v = static_cast<int64_t>(rng.next_u64());
    const int64_t w = wrap(v, bits);
    const uint64_t diff = static_cast<uint64_t>(v) - static_cast<uint64_t>(w);
    c.expect(w >= int_range(bits).min && w <= int_range(bits).max &&
                 (diff & ((uint64_t{1} << bits) - 1)) == 0,
             "wrap({}, {}) = {}", v, bits, w);
    c.expect(saturate(v, bits) == std::clamp(v, int_range(bits).min, int_range(bits).max),
             "saturate({}, {})", v, bits);
  }
  return c.result("hand cases + 20000 random widths 2..63 (seed 104): wrap ≡ v mod 2^N");
}

CaseResult case_quantize_multiplier() {
  Checker c;
  auto q = [](double m, bool s) { return quantize_multiplier(m, s).value(); };
  c.expect(q(0.5, false).multiplier == (1 << 30) && q(0.5, false).shift == 0, "M = 0.5");
  c.expect(q(1.0 - std::ldexp(1.0, -33), false).shift == 1, "halve when rounding reaches 2^31");
  c.expect(q(std::ldexp(1.0, -33), false).multiplier == 0, "flush below 2^-32");
  const QuantizedMultiplier capped = q(std::ldexp(1.0 - std::ldexp(1.0, -33), 30), true);
  c.expect(capped.shift == 30 && capped.multiplier == kMax32, "single rounding caps shift at 30");
  c.expect(!quantize_multiplier(-1.0, false).ok() && !quantize_multiplier(NAN, false).ok(),
           "negative / NaN rejected");
  Rng rng(105);
  for (int i = 0; i < 20000; ++i) {
    const double m =
        std::ldexp(0.5 + 0.5 * rng.uniform01(), static_cast<int>(rng.uniform_int(-30, 20)));
    const QuantizedMultiplier r = q(m, false);
    const double back = std::ldexp(static_cast<double>(r.multiplier), r.shift - 31);
    c.expect(std::abs(back - m) <= std::ldexp(1.0, r.shift - 32), "QuantizeMultiplier({})", m);
  }
  return c.result("halve/flush/cap rules; 20000 random M within half a Q31 LSB (seed 105)");
}

// ---- requantization profiles ----

struct Tie {
  double m;
  int32_t zero_point, acc, want;
};

CaseResult case_profile_ties(RequantProfile p) {
  // Derivations (M·acc, then the profile's rounding):
  //   ort: RNE — 0.5·5 = 2.5 → 2, 0.5·(−3) = −1.5 → −2, 0.25·10 = 2.5 → 2, 0.25·6 = 1.5 → 2.
  //   tflite: SRDHM ties up then RDBPOT ties away — 0.5·5 → 3, 0.5·(−3) → −1, 0.25·1: 0.5 → 1
  //     → 0.5 → 1 (double rounding), 0.25·5: 2.5 → 3 → 1.5 → 2, 0.25·(−2): −1 → −0.5 → −1.
  //   tflite-single: floor(M·acc + 1/2) — 0.5·5 → 3, 0.5·(−3) → −1, 0.25·1 → 0, 0.25·5 → 1,
  //     0.25·(−2) → 0, 0.25·(−6) → −1.
  std::vector<Tie> ties;
  switch (p) {
    case RequantProfile::kOrt:
      ties = {{0.5, 0, 5, 2},   {0.5, 0, -3, -2},    {0.5, 0, 1, 0},
              {0.25, 0, 10, 2}, {0.25, 0, 6, 2},     {0.25, 0, -2, 0},
              {0.5, 10, 5, 12}, {0.5, 0, 1000, 127}, {0.5, 0, -1000, -128}};
      break;
    case RequantProfile::kTflite:
      ties = {{0.5, 0, 5, 3},    {0.5, 0, -3, -1},  {0.25, 0, 1, 1},  {0.25, 0, 5, 2},
              {0.25, 0, -2, -1}, {0.25, 0, -6, -2}, {0.5, 10, 5, 13}, {0.5, 0, 1000, 127}};
      break;
    case RequantProfile::kTfliteSingle:
      ties = {{0.5, 0, 5, 3},   {0.5, 0, -3, -1},  {0.25, 0, 1, 0},  {0.25, 0, 5, 1},
              {0.25, 0, -2, 0}, {0.25, 0, -6, -1}, {0.5, 10, 5, 13}, {0.5, 0, -1000, -128}};
      break;
  }
  Checker c;
  for (const Tie& t : ties) {
    const Requantizer rq = Requantizer::from_multiplier(p, t.m, t.zero_point, -128, 127).value();
    const int32_t got = rq.apply(t.acc, 0);
    c.expect(got == t.want, "M={} z={} acc={}: got {}, want {}", t.m, t.zero_point, t.acc, got,
             t.want);
  }
  return c.result("hand-derived tie cases and clamps");
}

CaseResult case_profile_oracle_exact(RequantProfile p) {
  Checker c;
  const auto acc = boundary_accumulators(106);
  for (double m : boundary_multipliers(107)) {
    const Requantizer rq = Requantizer::from_multiplier(p, m, 0, kMin32, kMax32).value();
    for (int32_t a : acc) {
      int64_t want = 0;
      switch (p) {
        case RequantProfile::kOrt:
          want = oracle::ort(a, static_cast<float>(m));
          break;
        case RequantProfile::kTflite:
          want = oracle::tflite(a, rq.multipliers()[0]);
          break;
        case RequantProfile::kTfliteSingle:
          want = oracle::tflite_single(a, rq.multipliers()[0]);
          break;
      }
      want = std::clamp<int64_t>(want, kMin32, kMax32);
      c.expect(rq.apply(a, 0) == want, "acc={} M={}: got {}, oracle {}", a, m, rq.apply(a, 0),
               want);
    }
  }
  return c.result(
      "bit-exact vs the long-double oracle on 2^i±{0,1,2}, extremes, random (seeds 106/107)");
}

CaseResult case_profile_real(RequantProfile p) {
  Checker c;
  int64_t n = 0, exact = 0;
  const auto acc = boundary_accumulators(108);
  for (double m : boundary_multipliers(109)) {
    const Requantizer rq = Requantizer::from_multiplier(p, m, 0, kMin32, kMax32).value();
    for (int32_t a : acc) {
      const long double real = oracle::real(a, m);
      if (std::fabs(static_cast<double>(real)) > oracle::kRealOracleMaxMagnitude) continue;
      const auto want = static_cast<int64_t>(std::nearbyint(real));
      const int64_t got = rq.apply(a, 0);
      c.expect(std::abs(got - want) <= oracle::kRealOracleToleranceLsb, "acc={} M={}: {} vs {}", a,
               m, got, static_cast<double>(real));
      ++n;
      exact += got == want;
    }
  }
  return c.result(fmt::format("{} of {} equal round(acc*M), all within {} LSB (|acc*M| <= 2^16)",
                              exact, n, oracle::kRealOracleToleranceLsb));
}

// ---- bit growth and overflow ----

CaseResult case_bit_growth() {
  Checker c;
  // K and accumulator bits derived by hand: K = (C_in/groups)·Kh·Kw; bits = 16 + ⌈log2 K⌉.
  struct Want {
    int64_t k;
    int bits;
  };
  const Want want[] = {{3, 18}, {48, 22}, {96, 23}, {27, 21}, {288, 25}, {576, 26}, {2048, 27}};
  const auto layers = project_layers(3);
  for (size_t i = 0; i < layers.size(); ++i) {
    const BitGrowth b =
        analyze_bit_growth(layers[i].name, layers[i].geometry, OperandKind::kS8S8).value();
    c.expect(b.k == want[i].k && b.accumulator_bits == want[i].bits && b.recommended_width == 32,
             "{}: K={} bits={} width={}", b.name, b.k, b.accumulator_bits, b.recommended_width);
  }
  // Depthwise 3×3: K = 9; u8 operands add one bit.
  const BitGrowth dw =
      analyze_bit_growth("dw", ConvGeometry::conv2d(1, 32, 8, 8, 32, 3, 3).with_groups(32),
                         OperandKind::kU8S8)
          .value();
  c.expect(dw.k == 9 && dw.accumulator_bits == 17 + 4, "depthwise u8: K={} bits={}", dw.k,
           dw.accumulator_bits);
  const BitGrowth one =
      analyze_bit_growth("1x1", ConvGeometry::conv2d(1, 1, 4, 4, 1, 1, 1), OperandKind::kS8S8)
          .value();
  c.expect(one.recommended_width == 16, "K=1 fits 16 bits");
  for (int64_t k = 1; k <= 4096; k = k * 3 + 1) {
    const BitGrowth b =
        analyze_bit_growth("fc", ConvGeometry::fully_connected(1, k, 1), OperandKind::kU8S8)
            .value();
    c.expect(b.accumulator_bits >= b.worst_case_bits, "formula below worst case at K={}", k);
  }
  return c.result("project layers K = 3, 48, 96, 27, 288, 576, 2048 → 18..27 bits → 32-bit");
}

CaseResult case_overflow_layer_consistency() {
  Checker c;
  Rng rng(110);
  const ConvGeometry g =
      ConvGeometry::conv2d(1, 6, 6, 5, 4, 3, 3).with_padding(1, 0, 2, 1).with_groups(2);
  std::vector<int8_t> x(static_cast<size_t>(g.input_numel())),
      w(static_cast<size_t>(g.weight_numel()));
  for (auto& v : x) v = static_cast<int8_t>(rng.uniform_int(-128, 127));
  for (auto& v : w) v = static_cast<int8_t>(rng.uniform_int(-127, 127));
  const std::vector<int32_t> bias = {500, -700, 20000, 0};
  const std::vector<int> widths = {12, 16, 20, 32};
  const LayerOverflow r =
      simulate_layer_overflow<int8_t>("t", g, -5, 0, x, w, bias, widths).value();
  for (size_t i = 0; i < widths.size(); ++i) {
    for (int p = 0; p < 2; ++p) {
      const auto policy = p == 0 ? OverflowPolicy::kSaturate : OverflowPolicy::kWrap;
      int64_t changed = 0;
      for (int64_t oc = 0; oc < g.out_channels; ++oc)
        for (int64_t oh = 0; oh < g.out_h(); ++oh)
          for (int64_t ow = 0; ow < g.out_w(); ++ow) {
            const auto t = pixel_terms<int8_t>(g, -5, 0, x, w, 0, oc, oh, ow).value();
            const auto a = accumulate(t, bias[static_cast<size_t>(oc)], widths[i], policy);
            changed += a.result != a.exact;
          }
      c.expect(r.points[2 * i + static_cast<size_t>(p)].changed == changed, "width {} {}",
               widths[i], policy_name(policy));
    }
  }
  c.expect(r.points.back().changed == 0, "32-bit changed nothing");
  return c.result("layer simulation equals pixel-by-pixel accumulation (seed 110)");
}

CaseResult case_int32_worst_case() {
  // The worst case of the largest project layer (fc, K = 2048, u8-like operands x − z = 255,
  // w = −128) still fits int32 with 32 − 28 = 4 bits of headroom.
  Checker c;
  const std::vector<int64_t> terms(2048, int64_t{255} * -128);
  const PixelAccumulation s = accumulate(terms, 0, 32, OverflowPolicy::kSaturate);
  c.expect(s.result == s.exact && s.first_overflow_step < 0, "int32 holds {}", s.exact);
  const PixelAccumulation w16 = accumulate(terms, 0, 16, OverflowPolicy::kWrap);
  c.expect(w16.result == wrap(s.exact, 16) && w16.result != s.exact, "16-bit wraps");
  return c.result(fmt::format("|acc| <= {} < 2^31", -s.exact));
}

// ---- reference kernels ----

CaseResult case_conv_1x1_by_hand() {
  // x (z_x = 1): c0 = [3, −1], c1 = [5, 2]; w: oc0 = [2, −1], oc1 = [1, 1]; bias [10, −4].
  //   acc oc0 = 10 + (2)(2) + (4)(−1) = 10,  10 + (−2)(2) + (1)(−1) = 5
  //   acc oc1 = −4 + 2 + 4 = 2,               −4 − 2 + 1 = −5
  // M = 0.5, z_y = 3: ort (RNE) 5+3, 2(2.5)+3, 1+3, −2(−2.5)+3 = 8, 5, 4, 1;
  //                    tflite (ties up then away) 8, 3(2.5→3)+3 = 6, 4, −2(−2.5→−2)+3 = 1.
  Checker c;
  kernels::ConvS8Params p;
  p.geometry = ConvGeometry::conv2d(1, 2, 1, 2, 2, 1, 1);
  p.input_zero_point = 1;
  const std::vector<int8_t> x = {3, -1, 5, 2}, w = {2, -1, 1, 1};
  const std::vector<int32_t> b = {10, -4};
  std::vector<int32_t> acc(4);
  c.expect(kernels::conv2d_s8s8s32_ref<int8_t>(p, x, w, b, acc).ok(), "conv ran");
  c.expect(acc == std::vector<int32_t>{10, 5, 2, -5}, "acc = [{}]", fmt::join(acc, ", "));
  for (RequantProfile prof : {RequantProfile::kOrt, RequantProfile::kTflite}) {
    p.requant = Requantizer::from_multiplier(prof, 0.5, 3, -128, 127).value();
    std::vector<int8_t> y(4);
    c.expect(kernels::conv2d_s8_ref<int8_t, int8_t>(p, x, w, b, y).ok(), "conv ran");
    const std::vector<int8_t> want = prof == RequantProfile::kOrt ? std::vector<int8_t>{8, 5, 4, 1}
                                                                  : std::vector<int8_t>{8, 6, 4, 1};
    c.expect(y == want, "{}: y = [{}]", profile_name(prof), fmt::join(y, ", "));
  }
  return c.result("accumulators and both rounding behaviours match the hand computation");
}

CaseResult case_fc_equals_conv() {
  Checker c;
  Rng rng(111);
  const int64_t batch = 3, in = 37, out = 5;
  std::vector<uint8_t> x(static_cast<size_t>(batch * in));
  std::vector<int8_t> w(static_cast<size_t>(out * in));
  std::vector<int32_t> b(static_cast<size_t>(out));
  for (auto& v : x) v = static_cast<uint8_t>(rng.uniform_int(0, 255));
  for (auto& v : w) v = static_cast<int8_t>(rng.uniform_int(-127, 127));
  for (auto& v : b) v = static_cast<int32_t>(rng.uniform_int(-5000, 5000));
  kernels::FullyConnectedS8Params fp;
  fp.batch = batch;
  fp.in_features = in;
  fp.out_features = out;
  fp.input_zero_point = 131;
  kernels::ConvS8Params cp;
  cp.geometry = ConvGeometry::fully_connected(batch, in, out);
  cp.input_zero_point = 131;
  std::vector<int32_t> a1(static_cast<size_t>(batch * out)), a2(a1.size());
  c.expect(kernels::fully_connected_s8s8s32_ref<uint8_t>(fp, x, w, b, a1).ok(), "fc ran");
  c.expect(kernels::conv2d_s8s8s32_ref<uint8_t>(cp, x, w, b, a2).ok(), "conv ran");
  c.expect(a1 == a2, "fc and 1x1 conv accumulators differ");
  // Independent sum for one output.
  int64_t s = b[2];
  for (int64_t i = 0; i < in; ++i)
    s += (int64_t{x[static_cast<size_t>(in + i)]} - 131) * w[static_cast<size_t>(2 * in + i)];
  c.expect(a1[static_cast<size_t>(out + 2)] == s, "acc[1,2] = {}, want {}",
           a1[static_cast<size_t>(out + 2)], s);
  return c.result(
      "fully connected = 1x1 convolution on a 1x1 image (u8 input, z_x = 131, seed 111)");
}

CaseResult case_conv_vs_double(RequantProfile p) {
  auto stats = conv_vs_double(p, 150, 112);
  if (!stats.ok()) return CaseResult{"", Outcome::kFailed, stats.status().message()};
  const LsbStats& s = *stats;
  CaseResult r;
  // The seed's bar is > 95 % within 1 LSB; the requantization rounds once (or twice) from exact
  // integer accumulators, so every output must be within 1 LSB.
  r.outcome = s.within1 == s.outputs ? Outcome::kPassed : Outcome::kFailed;
  r.detail = fmt::format(
      "{} shapes, {} outputs: {:.4f} % within 1 LSB, {:.4f} % within 2 LSB, max {:.3f} LSB "
      "(vs the unquantized float operands: {:.2f} % / {:.2f} %, max {:.2f} LSB) (seed 112)",
      s.shapes, s.outputs, 100.0 * s.fraction_within1(), 100.0 * s.fraction_within2(), s.max_lsb,
      100.0 * s.float_fraction_within1(), 100.0 * s.float_fraction_within2(), s.float_max_lsb);
  return r;
}

CaseResult case_pipeline(RequantProfile p) {
  auto stats = end_to_end_pipeline(p, 113);
  if (!stats.ok()) return CaseResult{"", Outcome::kFailed, stats.status().message()};
  CaseResult r;
  // Two 8-bit layers: each quantization adds noise of ~s²/12; 25 dB SQNR and cosine 0.99 leave
  // a wide margin below what 8 bits give (~35–40 dB) while catching any arithmetic error.
  r.outcome = stats->sqnr_db > 25.0 && stats->cosine > 0.99 ? Outcome::kPassed : Outcome::kFailed;
  r.detail = fmt::format(
      "SQNR {:.2f} dB, cosine {:.6f}, max |err| {:.3f} output LSB, MSE {:.3g} (seed 113)",
      stats->sqnr_db, stats->cosine, stats->max_abs_lsb, stats->mse);
  return r;
}

CaseResult case_quant_params() {
  Checker c;
  // u8 [−1, 3]: z = RNE(63.75) = 64; s8: −64; tie z = RNE(0.5) = 0 for [−0.25, 127.25].
  c.expect(quant::choose_qparams(-1.0f, 3.0f, quant::QType::kU8).value().zero_point == 64, "u8 zp");
  c.expect(quant::choose_qparams(-1.0f, 3.0f, quant::QType::kS8).value().zero_point == -64,
           "s8 zp");
  c.expect(quant::choose_qparams(-0.25f, 127.25f, quant::QType::kU8).value().zero_point == 0,
           "zp tie");
  c.expect(quant::choose_qparams(-2.0f, 1.0f, quant::QType::kS8Symmetric).value().zero_point == 0,
           "s8sym zp");
  const quant::QuantParams h{0.5f, 0};
  c.expect(quant::quantize_value(1.25f, h, quant::QType::kS8) == 2 &&
               quant::quantize_value(0.75f, h, quant::QType::kS8) == 2,
           "quantize ties to even");
  return c.result("scale/zero point and QuantizeLinear rounding");
}

CaseResult case_bias_guard() {
  Checker c;
  const std::vector<float> b = {100.0f, 1e-5f}, sw = {1e-6f, 1e-6f};
  const auto q = quant::quantize_bias(b, 1e-5f, sw);
  c.expect(q.ok(), "quantize_bias ran");
  if (q.ok()) {
    c.expect(q->adjusted_channels == std::vector<int64_t>{0} && q->warnings.size() == 1,
             "channel 0 enlarged");
    c.expect(q->values[0] <= kMax32 && q->values[0] > kMax32 - 1000, "bias just fits: {}",
             q->values[0]);
    c.expect(q->values[1] == 1000000, "channel 1 untouched: {}", q->values[1]);
  }
  return c.result("|b/(s_x s_w)| = 1e13 > int32: weight scale enlarged, bias fits");
}

// ---- helpers for the float comparisons ----

// Double-precision convolution (NCHW, OIHW) on real-valued operands.
std::vector<double> conv_double(const ConvGeometry& g, const std::vector<double>& x,
                                const std::vector<double>& w, const std::vector<double>& b) {
  std::vector<double> y(static_cast<size_t>(g.output_numel()));
  const int64_t cig = g.in_channels_per_group(), cog = g.out_channels_per_group();
  for (int64_t n = 0; n < g.batch; ++n)
    for (int64_t oc = 0; oc < g.out_channels; ++oc)
      for (int64_t oh = 0; oh < g.out_h(); ++oh)
        for (int64_t ow = 0; ow < g.out_w(); ++ow) {
          double s = b[static_cast<size_t>(oc)];
          for (int64_t icg = 0; icg < cig; ++icg)
            for (int64_t kh = 0; kh < g.kernel_h; ++kh)
              for (int64_t kw = 0; kw < g.kernel_w; ++kw) {
                const int64_t ih = oh * g.stride_h - g.pad_top + kh * g.dilation_h;
                const int64_t iw = ow * g.stride_w - g.pad_left + kw * g.dilation_w;
                if (ih < 0 || ih >= g.in_h || iw < 0 || iw >= g.in_w) continue;
                const int64_t ic = (oc / cog) * cig + icg;
                s +=
                    x[static_cast<size_t>(((n * g.in_channels + ic) * g.in_h + ih) * g.in_w + iw)] *
                    w[static_cast<size_t>(((oc * cig + icg) * g.kernel_h + kh) * g.kernel_w + kw)];
              }
          y[static_cast<size_t>(((n * g.out_channels + oc) * g.out_h() + oh) * g.out_w() + ow)] = s;
        }
  return y;
}

double apply_act(double v, FusedActivation a) {
  if (a == FusedActivation::kNone) return v;
  v = std::max(v, 0.0);
  return a == FusedActivation::kRelu6 ? std::min(v, 6.0) : v;
}

ConvGeometry random_geometry(Rng& rng) {
  const bool one_d = rng.uniform_int(0, 3) == 0;
  const int64_t groups_choice = rng.uniform_int(0, 3);
  int64_t cin = rng.uniform_int(1, 9), cout = rng.uniform_int(1, 7), groups = 1;
  if (groups_choice == 1) {  // depthwise
    groups = cin;
    cout = cin * rng.uniform_int(1, 2);
  } else if (groups_choice == 2) {
    groups = rng.uniform_int(1, 3);
    cin = groups * rng.uniform_int(1, 3);
    cout = groups * rng.uniform_int(1, 3);
  }
  const int64_t kw = rng.uniform_int(1, 5), kh = one_d ? 1 : rng.uniform_int(1, 5);
  const int64_t dw = rng.uniform_int(1, 2), dh = one_d ? 1 : rng.uniform_int(1, 2);
  const int64_t w = rng.uniform_int(dw * (kw - 1) + 1, 13);
  const int64_t h = one_d ? 1 : rng.uniform_int(dh * (kh - 1) + 1, 11);
  ConvGeometry g = one_d ? ConvGeometry::conv1d(rng.uniform_int(1, 2), cin, w, cout, kw)
                         : ConvGeometry::conv2d(rng.uniform_int(1, 2), cin, h, w, cout, kh, kw);
  g = g.with_groups(groups).with_stride(one_d ? 1 : rng.uniform_int(1, 3), rng.uniform_int(1, 3));
  g = g.with_dilation(dh, dw);
  if (one_d) {
    g = g.with_padding(0, rng.uniform_int(0, 2), 0, rng.uniform_int(0, 2));
  } else {
    g = g.with_padding(rng.uniform_int(0, 2), rng.uniform_int(0, 2), rng.uniform_int(0, 2),
                       rng.uniform_int(0, 2));
  }
  return g;
}

// One quantized layer built from float data: operands, their dequantized values, qparams.
struct QLayer {
  quant::QuantParams xp;
  std::vector<float> w_scales;
  std::vector<int8_t> wq;
  std::vector<int32_t> bq;
  std::vector<double> wd, bd;  // dequantized weights and bias
};

QLayer quantize_layer(const ConvGeometry& g, const std::vector<float>& w,
                      const std::vector<float>& b, quant::QuantParams xp) {
  QLayer l;
  l.xp = xp;
  const auto k = static_cast<size_t>(g.accumulation_count());
  l.wq.resize(w.size());
  l.wd.resize(w.size());
  for (size_t c = 0; c < static_cast<size_t>(g.out_channels); ++c) {
    const std::span<const float> wc(w.data() + c * k, k);
    const quant::QuantParams wp = quant::choose_qparams(wc, quant::QType::kS8Symmetric).value();
    l.w_scales.push_back(wp.scale);
    for (size_t i = 0; i < k; ++i) {
      l.wq[c * k + i] =
          static_cast<int8_t>(quant::quantize_value(wc[i], wp, quant::QType::kS8Symmetric));
    }
  }
  const quant::QuantizedBias qb = quant::quantize_bias(b, xp.scale, l.w_scales).value();
  l.bq = qb.values;
  for (int64_t c : qb.adjusted_channels) {  // the guard enlarged s_w: re-quantize that channel
    const auto cu = static_cast<size_t>(c);
    l.w_scales[cu] = qb.weight_scales[cu];
    for (size_t i = 0; i < k; ++i) {
      l.wq[cu * k + i] = static_cast<int8_t>(quant::quantize_value(
          w[cu * k + i], quant::QuantParams{l.w_scales[cu], 0}, quant::QType::kS8Symmetric));
    }
  }
  for (size_t c = 0; c < static_cast<size_t>(g.out_channels); ++c) {
    const float sw = qb.weight_scales[c];
    for (size_t i = 0; i < k; ++i) l.wd[c * k + i] = double(sw) * l.wq[c * k + i];
    l.bd.push_back(double(xp.scale * sw) * l.bq[c]);
  }
  return l;
}

template <typename TIn, typename TOut>
Status run_one_shape(RequantProfile profile, const ConvGeometry& g, FusedActivation act, Rng& rng,
                     LsbStats& stats) {
  const quant::QType tin = std::is_same_v<TIn, uint8_t> ? quant::QType::kU8 : quant::QType::kS8;
  const quant::QType tout = std::is_same_v<TOut, uint8_t> ? quant::QType::kU8 : quant::QType::kS8;
  std::vector<float> x(static_cast<size_t>(g.input_numel())),
      w(static_cast<size_t>(g.weight_numel())), b(static_cast<size_t>(g.out_channels));
  const float lo = rng.uniform(-2.0f, 0.5f), hi = rng.uniform(0.5f, 3.0f);
  for (float& v : x) v = rng.uniform(lo, hi);
  for (float& v : w) v = rng.normal(0.0f, 0.5f);
  for (float& v : b) v = rng.normal(0.0f, 0.3f);
  EI8_ASSIGN_OR_RETURN(quant::QuantParams xp, quant::choose_qparams(x, tin));
  std::vector<TIn> xq(x.size());
  std::vector<double> xd(x.size());
  for (size_t i = 0; i < x.size(); ++i) {
    xq[i] = static_cast<TIn>(quant::quantize_value(x[i], xp, tin));
    xd[i] = double(xp.scale) * (int32_t{xq[i]} - xp.zero_point);
  }
  const QLayer l = quantize_layer(g, w, b, xp);
  std::vector<double> y = conv_double(g, xd, l.wd, l.bd);
  for (double& v : y) v = apply_act(v, act);
  std::vector<double> yf =
      conv_double(g, std::vector<double>(x.begin(), x.end()),
                  std::vector<double>(w.begin(), w.end()), std::vector<double>(b.begin(), b.end()));
  for (double& v : yf) v = apply_act(v, act);
  const auto [mn, mx] = std::minmax_element(y.begin(), y.end());
  EI8_ASSIGN_OR_RETURN(quant::QuantParams yp, quant::choose_qparams(static_cast<float>(*mn),
                                                                    static_cast<float>(*mx), tout));
  const ClampRange clamp =
      activation_range(act, yp.scale, yp.zero_point, quant::qmin(tout), quant::qmax(tout));
  kernels::ConvS8Params p;
  p.geometry = g;
  p.input_zero_point = xp.zero_point;
  EI8_ASSIGN_OR_RETURN(p.requant, Requantizer::prepare(profile, xp.scale, l.w_scales, yp.scale,
                                                       yp.zero_point, clamp.lo, clamp.hi));
  std::vector<TOut> yq(y.size());
  EI8_RETURN_IF_ERROR((kernels::conv2d_s8_ref<TIn, TOut>(p, xq, l.wq, l.bq, yq)));
  for (size_t i = 0; i < y.size(); ++i) {
    const double ideal =
        std::clamp(yp.zero_point + y[i] / double(yp.scale), double(clamp.lo), double(clamp.hi));
    const double err = std::abs(double(yq[i]) - ideal);
    ++stats.outputs;
    stats.within1 += err <= 1.0;
    stats.within2 += err <= 2.0;
    stats.max_lsb = std::max(stats.max_lsb, err);
    const double ideal_f =
        std::clamp(yp.zero_point + yf[i] / double(yp.scale), double(clamp.lo), double(clamp.hi));
    const double err_f = std::abs(double(yq[i]) - ideal_f);
    stats.float_within1 += err_f <= 1.0;
    stats.float_within2 += err_f <= 2.0;
    stats.float_max_lsb = std::max(stats.float_max_lsb, err_f);
  }
  ++stats.shapes;
  return {};
}

}  // namespace

Result<LsbStats> conv_vs_double(RequantProfile profile, int shapes, uint64_t seed) {
  Rng rng(seed);
  LsbStats stats;
  for (int s = 0; s < shapes; ++s) {
    const ConvGeometry g = random_geometry(rng);
    EI8_RETURN_IF_ERROR((g.validate().with_context(fmt::format("shape {} (seed {})", s, seed))));
    const auto act = static_cast<FusedActivation>(rng.uniform_int(0, 2));
    switch (rng.uniform_int(0, 3)) {
      case 0:
        EI8_RETURN_IF_ERROR((run_one_shape<int8_t, int8_t>(profile, g, act, rng, stats)));
        break;
      case 1:
        EI8_RETURN_IF_ERROR((run_one_shape<uint8_t, uint8_t>(profile, g, act, rng, stats)));
        break;
      case 2:
        EI8_RETURN_IF_ERROR((run_one_shape<int8_t, uint8_t>(profile, g, act, rng, stats)));
        break;
      default:
        EI8_RETURN_IF_ERROR((run_one_shape<uint8_t, int8_t>(profile, g, act, rng, stats)));
        break;
    }
  }
  return stats;
}

Result<PipelineStats> end_to_end_pipeline(RequantProfile profile, uint64_t seed) {
  Rng rng(seed);
  const ConvGeometry g1 = ConvGeometry::conv2d(1, 3, 12, 12, 8, 3, 3).with_padding(1);
  const ConvGeometry g2 = ConvGeometry::conv2d(1, 8, 12, 12, 4, 3, 3).with_padding(1);
  std::vector<float> x(static_cast<size_t>(g1.input_numel())),
      w1(static_cast<size_t>(g1.weight_numel())), w2(static_cast<size_t>(g2.weight_numel())), b1(8),
      b2(4);
  for (float& v : x) v = rng.normal(0.0f, 1.0f);
  for (float& v : w1) v = rng.normal(0.0f, std::sqrt(2.0f / 27.0f));
  for (float& v : w2) v = rng.normal(0.0f, std::sqrt(2.0f / 72.0f));
  for (float& v : b1) v = rng.normal(0.0f, 0.1f);
  for (float& v : b2) v = rng.normal(0.0f, 0.1f);
  // Float reference (double) on the original float data: conv → ReLU → conv.
  auto to_d = [](const std::vector<float>& v) { return std::vector<double>(v.begin(), v.end()); };
  std::vector<double> y1 = conv_double(g1, to_d(x), to_d(w1), to_d(b1));
  for (double& v : y1) v = std::max(v, 0.0);
  const std::vector<double> y2 = conv_double(g2, y1, to_d(w2), to_d(b2));
  // Calibration: activation ranges from the float run.
  EI8_ASSIGN_OR_RETURN(quant::QuantParams xp, quant::choose_qparams(x, quant::QType::kS8));
  const auto [y1min, y1max] = std::minmax_element(y1.begin(), y1.end());
  EI8_ASSIGN_OR_RETURN(quant::QuantParams y1p,
                       quant::choose_qparams(float(*y1min), float(*y1max), quant::QType::kS8));
  const auto [y2min, y2max] = std::minmax_element(y2.begin(), y2.end());
  EI8_ASSIGN_OR_RETURN(quant::QuantParams y2p,
                       quant::choose_qparams(float(*y2min), float(*y2max), quant::QType::kS8));
  // Integer-only pipeline.
  std::vector<int8_t> xq(x.size());
  for (size_t i = 0; i < x.size(); ++i)
    xq[i] = static_cast<int8_t>(quant::quantize_value(x[i], xp, quant::QType::kS8));
  const QLayer l1 = quantize_layer(g1, w1, b1, xp);
  const QLayer l2 = quantize_layer(g2, w2, b2, y1p);
  kernels::ConvS8Params p1, p2;
  p1.geometry = g1;
  p1.input_zero_point = xp.zero_point;
  const ClampRange relu =
      activation_range(FusedActivation::kRelu, y1p.scale, y1p.zero_point, -128, 127);
  EI8_ASSIGN_OR_RETURN(p1.requant, Requantizer::prepare(profile, xp.scale, l1.w_scales, y1p.scale,
                                                        y1p.zero_point, relu.lo, relu.hi));
  p2.geometry = g2;
  p2.input_zero_point = y1p.zero_point;
  EI8_ASSIGN_OR_RETURN(p2.requant, Requantizer::prepare(profile, y1p.scale, l2.w_scales, y2p.scale,
                                                        y2p.zero_point, -128, 127));
  std::vector<int8_t> a1(static_cast<size_t>(g1.output_numel())),
      a2(static_cast<size_t>(g2.output_numel()));
  EI8_RETURN_IF_ERROR((kernels::conv2d_s8_ref<int8_t, int8_t>(p1, xq, l1.wq, l1.bq, a1)));
  EI8_RETURN_IF_ERROR((kernels::conv2d_s8_ref<int8_t, int8_t>(p2, a1, l2.wq, l2.bq, a2)));
  std::vector<float> ref(y2.begin(), y2.end()), got(a2.size());
  for (size_t i = 0; i < a2.size(); ++i) got[i] = quant::dequantize_value(a2[i], y2p);
  EI8_ASSIGN_OR_RETURN(quant::ErrorMetrics e, quant::error_metrics(ref, got));
  PipelineStats s;
  s.mse = e.mse;
  s.max_abs = e.max_abs;
  s.sqnr_db = e.sqnr_db;
  s.cosine = e.cosine;
  s.max_abs_lsb = e.max_abs / double(y2p.scale);
  return s;
}

std::vector<GoldenCase> golden_cases() {
  std::vector<GoldenCase> cases;
  auto add = [&](std::string name, std::function<CaseResult()> fn) {
    cases.push_back({name, [name, fn] { return named(name, fn()); }});
  };
  add("rounding/round-half-even", case_round_half_even);
  add("rounding/round-half-away", case_round_half_away);
  add("rounding/srdhm-oracle", case_srdhm);
  add("rounding/rounding-divide-by-pot-oracle", case_rdbpot);
  add("overflow/saturate-vs-wrap", case_saturate_wrap);
  add("requant/quantize-multiplier", case_quantize_multiplier);
  for (RequantProfile p : kAllProfiles) {
    const std::string n(profile_name(p));
    add("requant/" + n + "/ties", [p] { return case_profile_ties(p); });
    add("requant/" + n + "/oracle-bit-exact", [p] { return case_profile_oracle_exact(p); });
    add("requant/" + n + "/within-1-lsb-of-real", [p] { return case_profile_real(p); });
  }
  add("bitgrowth/formulas", case_bit_growth);
  add("overflow/layer-equals-pixel-simulation", case_overflow_layer_consistency);
  add("overflow/int32-worst-case", case_int32_worst_case);
  add("quant/scale-zero-point", case_quant_params);
  add("quant/bias-overflow-guard", case_bias_guard);
  add("kernels/conv-1x1-by-hand", case_conv_1x1_by_hand);
  add("kernels/fc-equals-1x1-conv", case_fc_equals_conv);
  for (RequantProfile p : kAllProfiles) {
    const std::string n(profile_name(p));
    add("kernels/conv-vs-double/" + n, [p] { return case_conv_vs_double(p); });
  }
  for (RequantProfile p : kAllProfiles) {
    const std::string n(profile_name(p));
    add("pipeline/quantize-conv-relu-conv-dequantize/" + n, [p] { return case_pipeline(p); });
  }
  return cases;
}

std::vector<CaseResult> run_golden_cases(std::string_view filter) {
  std::vector<CaseResult> out;
  for (const GoldenCase& c : golden_cases()) {
    if (!filter.empty() && c.name.find(filter) == std::string::npos) continue;
    out.push_back(c.run());
  }
  return out;
}

}  // namespace ei8::conformance
