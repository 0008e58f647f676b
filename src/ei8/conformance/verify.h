// ei8/conformance/verify.h — the golden checks of the fixed-point closed loop, as a
// library: `edgeint8 fixedpoint verify`, the test suite and the end-to-end pipeline all run the
// same built-in cases (rounding primitives, requantization profiles against oracles, bit growth,
// saturate vs wrap, reference INT8 kernels against hand results and against a double-precision
// convolution of the dequantized operands, an integer-only two-layer pipeline against float).
//
//   for (const CaseResult& r : run_golden_cases()) fmt::print("{} {}\n", outcome_name(r.outcome),
//   r.name); LsbStats s = conv_vs_double(RequantProfile::kOrt, 200, 1).value(); fmt::print("{:.4f}
//   within 1 LSB\n", s.fraction_within1());
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "ei8/core/status.h"
#include "ei8/fixedpoint/requantize.h"

namespace ei8::conformance {

using fixedpoint::RequantProfile;

enum class Outcome { kPassed, kFailed, kSkipped };
std::string_view outcome_name(Outcome o);  // "passed", "failed", "skipped"

struct CaseResult {
  std::string name;
  Outcome outcome = Outcome::kPassed;
  std::string detail;  // what was checked and the measured numbers (or why it failed)
};

struct GoldenCase {
  std::string name;  // "<area>/<what>", e.g. "requant/tflite/ties"
  std::function<CaseResult()> run;
};

// Every built-in case (more than 20), in a fixed order; each is deterministic (fixed seeds).
std::vector<GoldenCase> golden_cases();
// Runs the cases whose name contains `filter` (all when empty).
std::vector<CaseResult> run_golden_cases(std::string_view filter = {});

struct Summary {
  int passed = 0, failed = 0, skipped = 0;
};
Summary summarize(const std::vector<CaseResult>& results);

// INT8 reference convolution (requantized through `profile`) vs a double-precision convolution
// of the dequantized operands, over `shapes` random conv1d/conv2d shapes (strides, 4-side pads,
// dilation, groups incl. depthwise, u8/s8 input and output, none/ReLU/ReLU6). Errors are in
// output LSB: |y_q − (z_y + y_real/s_y)| with y_real clamped like the output.
struct LsbStats {
  int64_t shapes = 0;
  int64_t outputs = 0;
  int64_t within1 = 0;  // |error| ≤ 1 LSB
  int64_t within2 = 0;  // |error| ≤ 2 LSB
  double max_lsb = 0.0;
  // The same against the double-precision convolution of the ORIGINAL float operands (before
  // quantization): adds the input/weight/bias quantization error (information, no bar).
  int64_t float_within1 = 0, float_within2 = 0;
  double float_max_lsb = 0.0;
  double fraction_within1() const { return outputs ? double(within1) / double(outputs) : 0.0; }
  double fraction_within2() const { return outputs ? double(within2) / double(outputs) : 0.0; }
  double float_fraction_within1() const {
    return outputs ? double(float_within1) / double(outputs) : 0.0;
  }
  double float_fraction_within2() const {
    return outputs ? double(float_within2) / double(outputs) : 0.0;
  }
};
Result<LsbStats> conv_vs_double(RequantProfile profile, int shapes, uint64_t seed);

// quantize → conv(3→8, 3×3, ReLU) → conv(8→4, 3×3) → dequantize, integer-only in between, vs the
// same network in double on the float input.
struct PipelineStats {
  double mse = 0.0, max_abs = 0.0, sqnr_db = 0.0, cosine = 0.0;
  double max_abs_lsb = 0.0;  // max_abs in units of the output scale
};
Result<PipelineStats> end_to_end_pipeline(RequantProfile profile, uint64_t seed);

}  // namespace ei8::conformance
