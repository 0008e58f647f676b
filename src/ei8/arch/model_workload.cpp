#include "ei8/arch/model_workload.h"

#include <cctype>
#include <set>

#include "ei8/graph/shape_inference.h"

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

Result<const Shape*> shape_of(const Graph& g, const Node& n, size_t input) {
  const Value* v = g.find_value(n.input(input));
  if (v == nullptr || !v->has_shape) {
    return invalid_argument(
        "cannot map node '{}' ({}): input {} '{}' has no known shape, must be "
        "inferred first",
        n.name, n.op_type, input, n.input(input));
  }
  return &v->shape;
}

Status map_conv(const Graph& g, const Node& n, size_t index, Workload& w) {
  const size_t wi = n.op_type == "Conv" ? 1 : 3;
  EI8_ASSIGN_OR_RETURN(const Shape* xs, shape_of(g, n, 0));
  EI8_ASSIGN_OR_RETURN(const Shape* ws, shape_of(g, n, wi));
  const Shape& x = *xs;
  const Shape& k = *ws;
  if (x.size() != k.size() || (x.size() != 3 && x.size() != 4)) {
    return unsupported(
        "cannot map node '{}' ({}): input rank = {}, must be 3 (1-D conv) or 4 (2-D)", n.name,
        n.op_type, x.size());
  }
  const bool one_d = x.size() == 3;
  ConvOp op;
  op.name = layer_name(n, index);
  op.in_c = dim(x[1]);
  op.out_c = dim(k[0]);
  op.groups = n.attr_int("group", 1);
  const std::vector<int64_t> in_sp(x.begin() + 2, x.end()), ker(k.begin() + 2, k.end());
  const std::vector<int64_t> pads = resolve_pads(n, in_sp, ker);
  const std::vector<int64_t> strides = n.attr_ints("strides", std::vector<int64_t>(ker.size(), 1));
  const std::vector<int64_t> dil = n.attr_ints("dilations", std::vector<int64_t>(ker.size(), 1));
  if (pads.size() != 2 * ker.size() || strides.size() != ker.size() || dil.size() != ker.size()) {
    return invalid_argument(
        "cannot map node '{}': pads/strides/dilations do not match the kernel "
        "rank {}",
        n.name, ker.size());
  }
  if (one_d) {
    op.in_h = 1, op.k_h = 1, op.stride_h = 1;
    op.in_w = dim(x[2]), op.k_w = k[2], op.stride_w = strides[0], op.dilation_w = dil[0];
    op.pad = {0, pads[0], 0, pads[1]};
  } else {
    op.in_h = dim(x[2]), op.in_w = dim(x[3]), op.k_h = k[2], op.k_w = k[3];
    op.stride_h = strides[0], op.stride_w = strides[1];
    op.dilation_h = dil[0], op.dilation_w = dil[1];
    op.pad = {pads[0], pads[1], pads[2], pads[3]};
  }
  return append_conv(w, op);
}

Status map_matmul(const Graph& g, const Node& n, size_t index, Workload& w) {
  EI8_ASSIGN_OR_RETURN(const Shape* as, shape_of(g, n, 0));
  const size_t bi = n.op_type == "QLinearMatMul" ? 3 : 1;
  EI8_ASSIGN_OR_RETURN(const Shape* bs, shape_of(g, n, bi));
  Shape a = *as, b = *bs;
  int64_t m = 1, kk = 0, nn = 0;
  if (n.op_type == "Gemm") {
    if (a.size() != 2 || b.size() != 2)
      return unsupported("cannot map Gemm '{}': operands must be 2-D", n.name);
    const bool ta = n.attr_int("transA", 0) != 0, tb = n.attr_int("transB", 0) != 0;
    m = dim(ta ? a[1] : a[0]);
    kk = dim(ta ? a[0] : a[1]);
    nn = dim(tb ? b[0] : b[1]);
  } else {
    if (a.size() == 1) a.insert(a.begin(), 1);
    if (b.size() == 1) b.push_back(1);
    if (a.size() < 2 || b.size() < 2)
      return unsupported("cannot map '{}': operand rank < 1", n.name);
    for (size_t i = 0; i + 1 < a.size(); ++i) m *= dim(a[i]);  // batch dims fold into M
    kk = dim(a.back());
    nn = dim(b.back());
    int64_t b_batch = 1;
    for (size_t i = 0; i + 2 < b.size(); ++i) b_batch *= dim(b[i]);
    if (b_batch > 1) {
      return unsupported(
          "cannot map MatMul '{}': a batched right operand ({} matrices), must be "
          "a single matrix",
          n.name, b_batch);
    }
  }
  return append_gemm(w, layer_name(n, index), m, nn, kk);
}

}  // namespace

Result<Workload> workload_from_graph(const Graph& graph) {
  Workload w;
  w.name = graph.name();
  std::set<std::string> host_ops;
  size_t index = 0;
  for (const Node* n : graph.topological_order()) {
    ++index;
    const std::string& op = n->op_type;
    Status s;
    if (op == "Conv" || op == "QLinearConv") {
      s = map_conv(graph, *n, index, w);
    } else if (op == "Gemm" || op == "MatMul" || op == "QLinearMatMul") {
      s = map_matmul(graph, *n, index, w);
    } else if (op != "QuantizeLinear" && op != "DequantizeLinear") {
      host_ops.insert(op);
    }
    if (!s.ok()) return s;
  }
  if (w.layers.empty()) {
    return invalid_argument(
        "cannot build a workload from model '{}': it has no Conv, Gemm or "
        "MatMul node",
        graph.name());
  }
  if (!host_ops.empty()) {
    std::string list;
    for (const std::string& o : host_ops) list += (list.empty() ? "" : ", ") + o;
    w.warnings.push_back(
        fmt::format("operators not mapped to the array (run on the host): {}", list));
  }
  return w;
}

}  // namespace ei8::arch
