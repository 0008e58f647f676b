// ei8/arch/model_workload.h — the simulator's workload taken straight from a model: every
// Conv / QLinearConv becomes SCALE-Sim conv layers and every Gemm / MatMul / QLinearMatMul a GEMM
// layer, with the rules of workload.h (padding folded into the ifmap, 1-D convs as height-1
// layers, grouped and depthwise convs per group, fully connected as GEMM). Other operators
// (pooling, activations, element-wise) run on the host and are listed in `warnings` once.
//
//   EI8_ASSIGN_OR_RETURN(Workload w, workload_from_graph(graph));   // shapes inferred
// The simulator never reads a file: the CLI and the pipeline load the model
// (pipeline/workload_io.h).
// A dynamic batch dimension is taken as 1.
#pragma once

#include <string>

#include "ei8/arch/workload.h"
#include "ei8/core/status.h"
#include "ei8/graph/graph.h"

namespace ei8::arch {

[[nodiscard]] Result<Workload> workload_from_graph(const Graph& graph);

}  // namespace ei8::arch
