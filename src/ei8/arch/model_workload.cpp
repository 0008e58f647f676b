#include "ei8/arch/model_workload.h"

#include <algorithm>
#include <cctype>
#include <set>

#include "ei8/graph/layer_view.h"

namespace ei8::arch {
namespace {

// A layer name SCALE-Sim can read back: no ',', no spaces, and no "DP" (its depthwise marker).
std::string layer_name(const Node& n, size_t index) {
  std::string s = n.name.empty() ? fmt::format("{}_{}", n.op_type, index) : n.name;
  for (char& c : s) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-' && c != '.') c = '_';
  }
  for (size_t p = s.find("DP"); p != std::string::npos; p = s.find("DP", p)) s[p + 1] = 'p';
  return s;
}

int64_t dim(int64_t d) { return d == kDynamic ? 1 : d; }

Status map_conv(const LayerGeometry& l, const std::string& name, Workload& w) {
  ConvOp op;
  op.name = name;
  op.in_c = dim(l.in_channels);
  op.out_c = l.out_channels;
  op.groups = l.groups;
  op.in_h = dim(l.in_h), op.in_w = dim(l.in_w);
  op.k_h = l.kernel_h, op.k_w = l.kernel_w;
  op.stride_h = l.stride_h, op.stride_w = l.stride_w;
  op.dilation_h = l.dilation_h, op.dilation_w = l.dilation_w;
  op.pad = {l.pad_top, l.pad_left, l.pad_bottom, l.pad_right};
  return append_conv(w, op);
}

Status map_fc(const Node& n, const LayerGeometry& l, const std::string& name, Workload& w) {
  if (l.weight_batches > 1) {
    return unsupported(
        "cannot map MatMul '{}': a batched right operand ({} matrices), must be a single matrix",
        n.name, l.weight_batches);
  }
  // Every row of A (batch and leading dimensions) is one GEMM row.
  return append_gemm(w, name, dim(l.batch) * l.rows_per_sample, l.out_channels, dim(l.in_channels));
}

// Bytes of one operand word of a layer: 1 for 8-bit integer operands (QLinear or QDQ), 4 for
// FP32.
int64_t operand_bytes(const LayerGeometry& l) {
  if (l.quant.has_value()) return 1;
  const bool int8 = l.input_type == DType::kU8 || l.input_type == DType::kS8;
  return int8 ? 1 : 4;
}

}  // namespace

Result<Workload> workload_from_graph(const Graph& graph) {
  Workload w;
  w.name = graph.name();
  std::set<std::string> host_ops;
  size_t index = 0;
  int64_t bytes = 0;
  for (const Node* n : graph.topological_order()) {
    ++index;
    const std::string& op = n->op_type;
    if (!is_mac_op(op)) {
      if (op != "QuantizeLinear" && op != "DequantizeLinear") host_ops.insert(op);
      continue;
    }
    // The layer view decodes the node once (shapes inferred beforehand).
    EI8_ASSIGN_OR_RETURN(LayerGeometry l, decode_layer(graph, *n));
    const std::string name = layer_name(*n, index);
    EI8_RETURN_IF_ERROR(l.kind == LayerKind::kConv ? map_conv(l, name, w) : map_fc(*n, l, name, w));
    bytes = std::max(bytes, operand_bytes(l));
  }
  if (w.layers.empty()) {
    return invalid_argument(
        "cannot build a workload from model '{}': it has no Conv, Gemm or "
        "MatMul node",
        graph.name());
  }
  w.operand_bytes = bytes;
  if (!host_ops.empty()) {
    std::string list;
    for (const std::string& o : host_ops) list += (list.empty() ? "" : ", ") + o;
    w.warnings.push_back(
        fmt::format("operators not mapped to the array (run on the host): {}", list));
  }
  return w;
}

}  // namespace ei8::arch
