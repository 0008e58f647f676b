// ei8/pipeline/steps.h — the steps of run-all, one factory per part of the toolkit. Each step
// writes its tables under tables/ (CSV + JSON) and, where the report shows a figure, the figure
// under figures/; the report reads only those files.
#pragma once

#include "ei8/data/dataset.h"
#include "ei8/pipeline/pipeline.h"
#include "ei8/pipeline/run_all.h"
#include "ei8/quant/sweep.h"

namespace ei8::pipeline {

// Part A — training, export, FP32 baseline (only with libtorch: EI8_HAS_TORCH).
Step train_step(const RunAllSettings& s, const std::string& workload);   // runs/<w>/best.pt
Step export_step(const RunAllSettings& s, const std::string& workload);  // models/<w>.onnx
Step fp32_baseline_step(const RunAllSettings& s);                        // tables/fp32_baseline.csv

// The data set of a workload: synthetic signals for signal1d; for tiny2d CIFAR-10 when present
// (or asked for), otherwise Fashion-MNIST from Debian's dataset-fashion-mnist.
data::DatasetOptions dataset_for(const RunAllSettings& s, const std::string& workload);
std::string dataset_name_for(const RunAllSettings& s, const std::string& workload);

// Part B — INT8 PTQ on models/<w>.onnx: the sweep (tables/ptq_sweep_<w>.csv, figures
// ptq_accuracy_<w>, ptq_acc_latency_<w>), the sensitivity analysis (sensitivity_<w>,
// layer_error_<w>, tensor_histograms_<w>, calib_thresholds_<w>; figures layer_error_<w>,
// calib_thresholds_<w>) and the mixed-precision fallback (mixed_precision_<w>). The sweep also
// writes the QDQ model of its best configuration, int8_model_path(w) = models/<w>.int8.onnx.
std::string int8_model_path(const std::string& workload);
Step ptq_sweep_step(const RunAllSettings& s, const std::string& workload);
Step sensitivity_step(const RunAllSettings& s, const std::string& workload);
Step mixed_precision_step(const RunAllSettings& s, const std::string& workload);
// Accuracy recovery (issue 16): float, W8A8 and W4A8 per-tensor / per-channel, then + CLE, + bias
// correction, + AdaRound in turn (tables/recovery_<w>.csv, figures/recovery_<w>).
Step recovery_step(const RunAllSettings& s, const std::string& workload);
// The sweep's most accurate configuration (ties: the first row) in tables/ptq_sweep_<w>.csv,
// which the sensitivity analysis, the mixed-precision fallback and the deploy step refine.
struct SweepChoice {
  quant::CalibParams calib;
  quant::PtqOptions ptq;
  std::string label;
};
Result<SweepChoice> best_sweep_config(const StepContext& c, const std::string& workload);
// INT8 latency of a quantized model for the sweep and mixed-precision tables.
quant::LatencyFn int8_latency_function();

// Part C — fixed point.
Step fixedpoint_verify_step(const RunAllSettings& s);     // tables/fixedpoint_verify.csv
Step fixedpoint_overflow_step(const RunAllSettings& s);   // tables/overflow.csv, figures/overflow
Step fixedpoint_bitgrowth_step(const RunAllSettings& s);  // tables/bitgrowth.csv

// Part D — architecture, on the INT8 model the sweep quantized (models/<w>.int8.onnx: 1-byte
// operands, ArrayConfig::word_bytes = the workload's operand width).
Step arch_sim_step(const RunAllSettings& s, const std::string& workload);
Step arch_dse_step(const RunAllSettings& s, const std::string& workload,
                   const std::string& space_path);

// Part E — deployment to a microcontroller, on the sweep's best configuration quantized with the
// integer-only tflite profile: generated C on the host and (with the ARM toolchain) under QEMU
// on a Cortex-M4, bit for bit against the integer engine; peak arena per memory planner,
// flash/RAM (arm-none-eabi-size) and the per-layer live set, beside the simulator's estimate.
// tables/deploy_<w>.csv, deploy_arena_<w>.csv, deploy_layers_<w>.csv, deploy_vs_sim_<w>.csv;
// the generated code under deploy/<w>/<target>/.
Step deploy_step(const RunAllSettings& s, const std::string& workload);

}  // namespace ei8::pipeline
