// ei8/pipeline/run_all.h — the whole loop behind `edgeint8 run-all`: train → export → FP32
// baseline → PTQ sweep → sensitivity → mixed precision → fixed-point checks → architecture
// evaluation and DSE → deploy (generated C, host + QEMU) → figures → report, on the offline
// default data.
//
//   RunAllSettings s{.out_dir = "results", .quick = true};
//   EI8_ASSIGN_OR_RETURN(PipelineSummary summary, run_all(s));
#pragma once

#include <string>
#include <vector>

#include "ei8/core/status.h"
#include "ei8/pipeline/pipeline.h"

namespace ei8::pipeline {

struct RunAllSettings {
  std::string out_dir = "results";
  bool quick = false;  // tiny epochs and sweep: the whole loop in minutes, for tests and demos
  std::vector<std::string> workloads = {"signal1d", "tiny2d"};
  std::string dataset = "auto";   // tiny2d's data: auto (CIFAR-10 if present, else Fashion-MNIST)
  std::string data_dir = "data";  // where CIFAR-10 is looked for (cifar-10-batches-bin/)
  bool continue_on_error = false;
  bool force = false;
  int threads = 2;
  uint64_t seed = 0;
  std::string dse_space = EI8_SHARE_DIR "/dse/default_space.toml";  // the DSE's design space
};

// Checks the settings (unknown workload or dataset → error) and builds the pipeline.
Result<Pipeline> build_run_all(const RunAllSettings& settings);
// Builds and runs it; writes <out>/tables/pipeline_steps.csv. When the run did not write the
// report (a step failed), a report.md/.html left by an earlier run gets a "Stale report" banner.
Result<PipelineSummary> run_all(const RunAllSettings& settings);

// True when this run wrote <out>/report.md and report.html (the step `report` ended ok).
bool report_written(const PipelineSummary& summary);
// The names of the steps that failed, in order.
std::vector<std::string> failed_steps(const PipelineSummary& summary);

// What this machine is, for the report: CPU model, cores, ISA tiers, compiler, OS.
report::Table machine_table();

}  // namespace ei8::pipeline
