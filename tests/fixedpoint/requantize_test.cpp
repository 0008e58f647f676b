// QuantizeMultiplier and the three requantization profiles: hand-made tie cases (each expected
// value derived in the comment next to it) and gemmlowp-style boundary values checked against
// the long-double oracles of oracle.h (bit-exact) and the real-valued oracle (within 1 LSB).
#include "ei8/fixedpoint/requantize.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "ei8/core/rng.h"
#include "ei8/fixedpoint/oracle.h"

namespace ei8::fixedpoint {
namespace {

constexpr int32_t kMin32 = std::numeric_limits<int32_t>::min();
constexpr int32_t kMax32 = std::numeric_limits<int32_t>::max();

QuantizedMultiplier qm(double m, bool single = false) {
  return quantize_multiplier(m, single).value();
}

TEST(QuantizeMultiplier, PowersOfTwoAndRules) {
  EXPECT_EQ(qm(0.5).multiplier, 1 << 30);
  EXPECT_EQ(qm(0.5).shift, 0);
  EXPECT_EQ(qm(0.25).multiplier, 1 << 30);
  EXPECT_EQ(qm(0.25).shift, -1);
  EXPECT_EQ(qm(1.0).multiplier, 1 << 30);
  EXPECT_EQ(qm(1.0).shift, 1);
  EXPECT_EQ(qm(0.75).multiplier, 3 << 29);
  EXPECT_EQ(qm(0.0).multiplier, 0);
  // q·2^31 rounds up to 2^31: halved, shift incremented.
  const QuantizedMultiplier up = qm(1.0 - std::ldexp(1.0, -33));
  EXPECT_EQ(up.multiplier, 1 << 30);
  EXPECT_EQ(up.shift, 1);
  // Flush: frexp exponent below −31.
  EXPECT_EQ(qm(std::ldexp(1.0, -33)).multiplier, 0);
  EXPECT_EQ(qm(std::ldexp(1.0, -33)).shift, 0);
  EXPECT_EQ(qm(std::ldexp(1.0, -32)).multiplier, 1 << 30);  // exponent −31 is kept
  EXPECT_EQ(qm(std::ldexp(1.0, -32)).shift, -31);
  // Single rounding caps the shift at 30 (M just below 2^30 rounds to shift 31).
  const QuantizedMultiplier capped = qm(std::ldexp(1.0 - std::ldexp(1.0, -33), 30), true);
  EXPECT_EQ(capped.multiplier, kMax32);
  EXPECT_EQ(capped.shift, 30);
  // Tie of the mantissa rounding goes away from zero (std::round): q·2^31 = 2^30 + 0.5.
  const double tie = (std::ldexp(1.0, 30) + 0.5) / std::ldexp(1.0, 31);
  EXPECT_EQ(qm(tie).multiplier, (1 << 30) + 1);
}

TEST(QuantizeMultiplier, RepresentsMWithinHalfAnLsb) {
  Rng rng(21);
  for (int i = 0; i < 20000; ++i) {
    const double m =
        std::ldexp(0.5 + 0.5 * rng.uniform01(), static_cast<int>(rng.uniform_int(-30, 20)));
    const QuantizedMultiplier q = qm(m);
    ASSERT_GE(q.multiplier, 1 << 30);
    const double back = std::ldexp(static_cast<double>(q.multiplier), q.shift - 31);
    ASSERT_LE(std::abs(back - m), std::ldexp(1.0, q.shift - 32)) << m << " (seed 21)";
  }
}

TEST(QuantizeMultiplier, RejectsBadMultipliers) {
  EXPECT_FALSE(quantize_multiplier(-0.5, false).ok());
  EXPECT_FALSE(quantize_multiplier(std::nan(""), false).ok());
  EXPECT_FALSE(quantize_multiplier(INFINITY, false).ok());
  EXPECT_FALSE(quantize_multiplier(std::ldexp(1.0, 30), false).ok());
  EXPECT_NE(quantize_multiplier(-0.5, false).status().message().find("must be finite"),
            std::string::npos);
}

struct Tie {
  int32_t acc;
  int32_t want;
};

void expect_profile(RequantProfile p, double m, int32_t z, std::initializer_list<Tie> ties) {
  const Requantizer rq = Requantizer::from_multiplier(p, m, z, -128, 127).value();
  for (const Tie& t : ties) {
    EXPECT_EQ(rq.apply(t.acc, 0), t.want) << profile_name(p) << " M=" << m << " acc=" << t.acc;
  }
}

TEST(Profiles, OrtTiesToEven) {
  // M = 0.5: acc/2 exactly; ties .5 go to the even integer.
  expect_profile(RequantProfile::kOrt, 0.5, 0,
                 {{1, 0}, {3, 2}, {5, 2}, {7, 4}, {-1, 0}, {-3, -2}, {-5, -2}, {4, 2}});
  // M = 0.25: 2 → 0.5 → 0; 6 → 1.5 → 2; 10 → 2.5 → 2; 5 → 1.25 → 1.
  expect_profile(RequantProfile::kOrt, 0.25, 0, {{2, 0}, {6, 2}, {10, 2}, {-10, -2}, {5, 1}});
  // Zero point added after rounding; clamp to [−128, 127].
  expect_profile(RequantProfile::kOrt, 0.5, 10, {{5, 12}, {1000, 127}, {-1000, -128}});
}

TEST(Profiles, TfliteDoubleRounding) {
  // M = 0.5 (m0 = 2^30, shift 0): SRDHM = round_half_up(acc/2); nothing left to divide.
  expect_profile(RequantProfile::kTflite, 0.5, 0,
                 {{1, 1}, {3, 2}, {5, 3}, {-1, 0}, {-3, -1}, {-5, -2}});
  // M = 0.25 (m0 = 2^30, shift −1): SRDHM ties up, then divide by 2 ties away from zero.
  //   acc 2: 1 → 0.5 → 1;  acc −2: −1 → −0.5 → −1;  acc 6: 3 → 1.5 → 2;  acc −6: −3 → −2;
  //   acc 1: 0.5 → 1 → 0.5 → 1 (double rounding: true 0.25 gives 1);
  //   acc 5: 2.5 → 3 → 1.5 → 2 (double rounding: true 1.25 gives 2);  acc −1: −0.5 → 0 → 0.
  expect_profile(RequantProfile::kTflite, 0.25, 0,
                 {{2, 1}, {-2, -1}, {6, 2}, {-6, -2}, {1, 1}, {5, 2}, {-1, 0}, {3, 1}});
  expect_profile(RequantProfile::kTflite, 0.25, -3, {{6, -1}, {10000, 127}, {-10000, -128}});
}

TEST(Profiles, TfliteSingleRounding) {
  // M = 0.25: floor(acc/4 + 1/2): ties toward +∞, no double rounding.
  //   2 → 1; −2 → 0; 6 → 2; −6 → −1; 1 → 0; 5 → 1; −1 → 0; 3 → 1; −3 → −1.
  expect_profile(RequantProfile::kTfliteSingle, 0.25, 0,
                 {{2, 1}, {-2, 0}, {6, 2}, {-6, -1}, {1, 0}, {5, 1}, {-1, 0}, {3, 1}, {-3, -1}});
  expect_profile(RequantProfile::kTfliteSingle, 0.5, 0, {{1, 1}, {-1, 0}, {-3, -1}, {5, 3}});
}

// gemmlowp-style operand set.
std::vector<int32_t> accumulators(uint64_t seed) {
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

std::vector<double> multipliers(uint64_t seed) {
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

TEST(Profiles, BitExactAgainstLongDoubleOracle) {
  const auto acc = accumulators(22);
  for (double m : multipliers(23)) {
    const QuantizedMultiplier d = qm(m), s = qm(m, true);
    const auto m32 = static_cast<float>(m);
    for (int32_t a : acc) {
      ASSERT_EQ(multiply_by_quantized_multiplier(a, d.multiplier, d.shift), oracle::tflite(a, d))
          << "tflite acc=" << a << " M=" << m << " (seeds 22/23)";
      ASSERT_EQ(multiply_by_quantized_multiplier_single(a, s.multiplier, s.shift),
                std::clamp<int64_t>(oracle::tflite_single(a, s), kMin32, kMax32))
          << "tflite-single acc=" << a << " M=" << m;
      ASSERT_EQ(requantize_ort(a, m32, 0, kMin32, kMax32),
                std::clamp<int64_t>(oracle::ort(a, m32), kMin32, kMax32))
          << "ort acc=" << a << " M=" << m;
    }
  }
}

TEST(Profiles, WithinOneLsbOfTheRealValue) {
  const auto acc = accumulators(24);
  for (RequantProfile p : kAllProfiles) {
    int64_t checked = 0, exact = 0;
    for (double m : multipliers(25)) {
      const Requantizer rq = Requantizer::from_multiplier(p, m, 0, kMin32, kMax32).value();
      for (int32_t a : acc) {
        const long double real = oracle::real(a, m);
        if (std::fabs(static_cast<double>(real)) > oracle::kRealOracleMaxMagnitude) continue;
        const auto want = static_cast<int64_t>(std::nearbyint(real));
        const int64_t got = rq.apply(a, 0);
        ASSERT_LE(std::abs(got - want), oracle::kRealOracleToleranceLsb)
            << profile_name(p) << " acc=" << a << " M=" << m
            << " real=" << static_cast<double>(real);
        ++checked;
        exact += got == want;
      }
    }
    EXPECT_GT(checked, 10000);
    std::printf("[ info ] %s: %lld of %lld within 0 LSB of round(acc*M)\n",
                std::string(profile_name(p)).c_str(), static_cast<long long>(exact),
                static_cast<long long>(checked));
  }
}

TEST(Requantizer, PreparePerChannelFromScales) {
  const std::vector<float> sw = {0.01f, 0.02f, 0.005f};
  const float sx = 0.05f, sy = 0.1f;
  for (RequantProfile p : kAllProfiles) {
    const Requantizer rq = Requantizer::prepare(p, sx, sw, sy, 3, -128, 127).value();
    ASSERT_EQ(rq.channels(), 3);
    for (size_t c = 0; c < sw.size(); ++c) {
      // The ORT multiplier is two float32 operations in this order.
      const float want32 = (sx * sw[c]) / sy;
      EXPECT_EQ(rq.ort_multipliers()[c], want32);
      EXPECT_NEAR(rq.real_multipliers()[c], double(sx) * double(sw[c]) / double(sy), 1e-15);
      // acc = 1000 in channel c: real 1000·M_c = 5, 10, 2.5 (+3).
      const int64_t want = std::llround(1000.0 * rq.real_multipliers()[c]) + 3;
      if (c != 2) {  // channel 2 is the tie 2.5, where the profiles differ on purpose
        EXPECT_EQ(rq.apply(1000, static_cast<int64_t>(c)), want) << profile_name(p);
      }
    }
  }
}

TEST(Requantizer, RejectsBadScalesAndRanges) {
  const std::vector<float> sw = {0.01f};
  EXPECT_FALSE(Requantizer::prepare(RequantProfile::kOrt, 0.0f, sw, 0.1f, 0, -128, 127).ok());
  EXPECT_FALSE(Requantizer::prepare(RequantProfile::kOrt, 0.1f, sw, -1.0f, 0, -128, 127).ok());
  EXPECT_FALSE(Requantizer::prepare(RequantProfile::kOrt, 0.1f, {}, 0.1f, 0, -128, 127).ok());
  const std::vector<float> bad = {0.01f, NAN};
  EXPECT_FALSE(Requantizer::prepare(RequantProfile::kTflite, 0.1f, bad, 0.1f, 0, -128, 127).ok());
  EXPECT_FALSE(Requantizer::from_multiplier(RequantProfile::kTflite, 0.5, 200, -128, 127).ok());
  EXPECT_FALSE(Requantizer::from_multiplier(RequantProfile::kTflite, 0.5, 0, 5, 4).ok());
  EXPECT_TRUE(parse_profile("tflite-single").ok());
  EXPECT_FALSE(parse_profile("gemmlowp").ok());
}

}  // namespace
}  // namespace ei8::fixedpoint
