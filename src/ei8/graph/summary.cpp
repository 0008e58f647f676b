#include "ei8/graph/summary.h"

#include "ei8/graph/layer_view.h"
#include "ei8/graph/shape_inference.h"

namespace ei8 {

Result<GraphSummary> summarize(const Graph& graph, int64_t batch) {
  Graph g = graph;
  for (const auto& name : g.inputs()) {
    Value* v = g.find_value(name);
    for (int64_t& d : v->shape) {
      if (d < 0) d = batch;
    }
  }
  EI8_RETURN_IF_ERROR(infer_shapes(g));
  GraphSummary s;
  for (const Node* n : g.topological_order()) {
    LayerInfo l;
    l.name = n->name;
    l.op_type = n->op_type;
    for (const auto& in : n->inputs) {
      const Value* v = in.empty() ? nullptr : g.find_value(in);
      l.inputs.push_back(v ? v->shape : Shape{});
      if (v && v->data) l.params += v->data->numel();
    }
    for (const auto& o : n->outputs) {
      const Value* v = o.empty() ? nullptr : g.find_value(o);
      l.outputs.push_back(v ? v->shape : Shape{});
    }
    l.macs = node_macs(*n, l.inputs, l.outputs) / std::max<int64_t>(batch, 1);
    if (is_layer_op(n->op_type)) {
      // The layer view decodes the node once; MACs per sample from its geometry.
      Result<LayerGeometry> geo = decode_layer(g, *n);
      if (geo.ok()) {
        l.k = geo->accumulation_count();
        l.geometry = geo->describe();
        if (geo->is_mac()) l.macs = geo->macs();
      }
    }
    s.macs += l.macs;
    s.op_counts[n->op_type] += 1;
    s.layers.push_back(std::move(l));
  }
  s.params = g.parameter_count();
  s.param_bytes = g.parameter_bytes();
  return s;
}

}  // namespace ei8
