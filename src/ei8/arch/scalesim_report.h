// ei8/arch/scalesim_report.h — SCALE-Sim v2's three report files, byte-compatible:
// COMPUTE_REPORT.csv, BANDWIDTH_REPORT.csv, DETAILED_ACCESS_REPORT.csv under OUTDIR/<run_name>/.
//
//   std::vector<LayerStats> layers = ...;              // simulate_layer per topology row
//   ScaleSimReports r = format_reports(layers);
//   EI8_RETURN_IF_ERROR(write_reports(r, "out/" + config.run_name));
//
// Format (research/scalesim.md §9): values joined by ", ", every line ends with ",". Floats are
// printed as Python's repr() prints them (shortest round-trip digits, "9.0", "1e-05"); cycle
// columns of DETAILED_ACCESS_REPORT are floats there, counts are integers.
#pragma once

#include <string>
#include <vector>

#include "ei8/arch/systolic_model.h"
#include "ei8/core/status.h"

namespace ei8::arch {

// Python's repr(float) for finite values (and 'inf', '-inf', 'nan').
std::string python_float_repr(double v);

struct ScaleSimReports {
  std::string compute, bandwidth, detailed;
};

ScaleSimReports format_reports(const std::vector<LayerStats>& layers);

// Writes the three files into `dir` (created, with its parent, if missing). Each file is written
// to a temporary name first and renamed, so a failure leaves no partial report behind.
[[nodiscard]] Status write_reports(const ScaleSimReports& reports, const std::string& dir);

}  // namespace ei8::arch
