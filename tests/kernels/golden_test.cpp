// Every built-in golden case of `edgeint8 fixedpoint verify` as one test each.
#include "ei8/conformance/verify.h"

#include <gtest/gtest.h>

#include <cctype>

namespace ei8::conformance {
namespace {

using fixedpoint::kAllProfiles;
using fixedpoint::profile_name;

class GoldenCaseTest : public ::testing::TestWithParam<size_t> {};

TEST_P(GoldenCaseTest, Passes) {
  const GoldenCase c = golden_cases()[GetParam()];
  const CaseResult r = c.run();
  std::printf("[ info ] %s: %s\n", r.name.c_str(), r.detail.c_str());
  EXPECT_EQ(r.outcome, Outcome::kPassed) << r.name << ": " << r.detail;
}

INSTANTIATE_TEST_SUITE_P(All, GoldenCaseTest, ::testing::Range<size_t>(0, golden_cases().size()),
                         [](const ::testing::TestParamInfo<size_t>& param_info) {
                           std::string n = golden_cases()[param_info.param].name;
                           for (char& ch : n) {
                             if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           }
                           return n;
                         });

TEST(Golden, AtLeastTwentyCasesAndAllPass) {
  const auto results = run_golden_cases();
  const Summary s = summarize(results);
  EXPECT_GE(s.passed + s.failed + s.skipped, 20);
  EXPECT_EQ(s.failed, 0);
}

TEST(Golden, LsbFractionsMeetTheSeedBar) {
  for (RequantProfile p : kAllProfiles) {
    const LsbStats s = conv_vs_double(p, 300, 2024).value();
    std::printf(
        "[ info ] %s: %lld shapes, %lld outputs, %.4f%% within 1 LSB, %.4f%% within 2 LSB, max "
        "%.3f LSB (seed 2024)\n",
        std::string(profile_name(p)).c_str(), static_cast<long long>(s.shapes),
        static_cast<long long>(s.outputs), 100 * s.fraction_within1(), 100 * s.fraction_within2(),
        s.max_lsb);
    std::printf(
        "[ info ] %s vs unquantized float operands: %.4f%% within 1 LSB, %.4f%% within 2 LSB, max "
        "%.3f LSB\n",
        std::string(profile_name(p)).c_str(), 100 * s.float_fraction_within1(),
        100 * s.float_fraction_within2(), s.float_max_lsb);
    EXPECT_GT(s.fraction_within1(), 0.95);  // the seed's acceptance bar
    EXPECT_EQ(s.within1, s.outputs);        // what exact integer accumulation guarantees
  }
}

}  // namespace
}  // namespace ei8::conformance
