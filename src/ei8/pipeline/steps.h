// ei8/pipeline/steps.h — the steps of run-all, one factory per part of the toolkit. Each step
// writes its tables under tables/ (CSV + JSON) and, where the report shows a figure, the figure
// under figures/; the report reads only those files.
#pragma once

#include "ei8/pipeline/pipeline.h"
#include "ei8/pipeline/run_all.h"

namespace ei8::pipeline {

// Part A — training, export, FP32 baseline (only with libtorch: EI8_HAS_TORCH).
Step train_step(const RunAllSettings& s, const std::string& workload);   // runs/<w>/best.pt
Step export_step(const RunAllSettings& s, const std::string& workload);  // models/<w>.onnx
Step fp32_baseline_step(const RunAllSettings& s);                        // tables/fp32_baseline.csv
std::string dataset_name_for(const RunAllSettings& s, const std::string& workload);

// Part C — fixed point.
Step fixedpoint_verify_step(const RunAllSettings& s);     // tables/fixedpoint_verify.csv
Step fixedpoint_overflow_step(const RunAllSettings& s);   // tables/overflow.csv, figures/overflow
Step fixedpoint_bitgrowth_step(const RunAllSettings& s);  // tables/bitgrowth.csv

// Part D — architecture, on the model exported by export.<workload> (models/<w>.onnx).
Step arch_sim_step(const RunAllSettings& s, const std::string& workload);
Step arch_dse_step(const RunAllSettings& s, const std::string& workload,
                   const std::string& space_path);

}  // namespace ei8::pipeline
