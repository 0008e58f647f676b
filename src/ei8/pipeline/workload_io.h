// ei8/pipeline/workload_io.h — the simulator's workload from a file: an ONNX model is loaded
// here (shapes inferred) and mapped from memory by arch/model_workload.h; anything else is a
// SCALE-Sim topology CSV (arch/workload.h). The simulator itself never reads a model file.
//
//   EI8_ASSIGN_OR_RETURN(arch::Workload w, load_workload_file("tiny2d.onnx",
//   TopologyFormat::kConv));
#pragma once

#include <string>
#include <vector>

#include "ei8/arch/energy.h"
#include "ei8/arch/systolic_model.h"
#include "ei8/arch/workload.h"
#include "ei8/core/output_files.h"
#include "ei8/core/status.h"

namespace ei8::pipeline {

// `.onnx`: load, infer shapes, workload_from_graph (named after the file's stem); otherwise a
// topology CSV in `format`.
[[nodiscard]] Result<arch::Workload> load_workload_file(const std::string& path,
                                                        arch::TopologyFormat format);

// Adds the reports of `edgeint8 sim` (and edgeint8.simulate) to `out`: dir/COMPUTE_REPORT.csv,
// BANDWIDTH_REPORT.csv, DETAILED_ACCESS_REPORT.csv, and with `energy` (non-null)
// ENERGY_REPORT.csv and ROOFLINE_REPORT.csv.
[[nodiscard]] Status add_sim_reports(OutputFiles& out, const std::string& dir,
                                     const std::vector<arch::Layer>& layers,
                                     const std::vector<arch::LayerStats>& stats,
                                     const arch::ArrayConfig& array,
                                     const arch::EnergyTable* energy);

}  // namespace ei8::pipeline
