// ei8/pipeline/report_builder.h — assembles results/report.md and results/report.html from the
// tables in results/tables/ and the figures in results/figures/, following the seed's outline
// (executive summary; Parts A–D; conclusions; references). Every number in the report is read
// from a CSV that the step which measured it wrote; a missing table is reported as such.
#pragma once

#include "ei8/core/status.h"
#include "ei8/pipeline/pipeline.h"
#include "ei8/pipeline/run_all.h"

namespace ei8::pipeline {

Status write_report(const StepContext& ctx, const RunAllSettings& settings);

}  // namespace ei8::pipeline
