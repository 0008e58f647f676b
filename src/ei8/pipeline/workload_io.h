// ei8/pipeline/workload_io.h — the simulator's workload from a file: an ONNX model is loaded
// here (shapes inferred) and mapped from memory by arch/model_workload.h; anything else is a
// SCALE-Sim topology CSV (arch/workload.h). The simulator itself never reads a model file.
//
//   EI8_ASSIGN_OR_RETURN(arch::Workload w, load_workload_file("tiny2d.onnx",
//   TopologyFormat::kConv));
#pragma once

#include <string>

#include "ei8/arch/workload.h"
#include "ei8/core/status.h"

namespace ei8::pipeline {

// `.onnx`: load, infer shapes, workload_from_graph (named after the file's stem); otherwise a
// topology CSV in `format`.
[[nodiscard]] Result<arch::Workload> load_workload_file(const std::string& path,
                                                        arch::TopologyFormat format);

}  // namespace ei8::pipeline
