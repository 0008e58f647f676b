// ei8/graph/summary.h — what a graph computes, layer by layer (for `edgeint8 info`/`bench`
// and the architecture simulator's workloads).
//
//   EI8_ASSIGN_OR_RETURN(GraphSummary s, summarize(graph));   // per sample (batch 1)
//   for (const LayerInfo& l : s.layers) if (l.op_type == "Conv") use(l.inputs[1], l.macs);
#pragma once

#include <map>
#include <string>
#include <vector>

#include "ei8/graph/graph.h"

namespace ei8 {

struct LayerInfo {
  std::string name, op_type;
  std::vector<Shape> inputs;  // concrete shapes with batch = 1 (omitted optional input: [])
  std::vector<Shape> outputs;
  int64_t macs = 0;    // multiply-accumulates per sample (Conv, Gemm, MatMul, QLinear*)
  int64_t params = 0;  // elements of the node's constant inputs
  // Conv / fully connected / pool layers, from the layer view (layer_view.h): products per
  // accumulator (pools: window taps; 0 for other ops) and a one-line geometry.
  int64_t k = 0;
  std::string geometry;
};

struct GraphSummary {
  std::vector<LayerInfo> layers;         // topological order
  std::map<std::string, int> op_counts;  // op type -> number of nodes
  int64_t macs = 0;                      // per sample
  int64_t params = 0, param_bytes = 0;   // every initializer
};

// Shapes are inferred on a copy with every kDynamic input dimension set to `batch`.
Result<GraphSummary> summarize(const Graph& graph, int64_t batch = 1);

}  // namespace ei8
