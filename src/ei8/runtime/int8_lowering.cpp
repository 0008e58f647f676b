// QDQ graph → integer graph (int8_lowering.h).

#include "ei8/runtime/int8_lowering.h"
#include "ei8/runtime/int8_values.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <limits>
#include <optional>
#include <set>

#include "ei8/fixedpoint/quantize.h"
#include "ei8/graph/layer_view.h"
#include "ei8/graph/shape_inference.h"
#include "ei8/runtime/int8_ops.h"
#include "ei8/runtime/kernels/ref/qlinear_ref.h"

namespace ei8 {
namespace {

template <typename... Args>
Status node_error(const Node& n, fmt::format_string<Args...> f, Args&&... args) {
  return invalid_argument("cannot lower node '{}' ({}): {}", n.name, n.op_type,
                          fmt::format(f, std::forward<Args>(args)...));
}

bool is_q(const Node* n) { return n != nullptr && n->op_type == "QuantizeLinear"; }
bool is_dq(const Node* n) { return n != nullptr && n->op_type == "DequantizeLinear"; }

// Per-tensor parameters of a Q or DQ node (nullopt when per axis or not constant).
struct TensorQ {
  float scale = 1.0f;
  int32_t zero_point = 0;
  DType type = DType::kU8;
  bool operator==(const TensorQ& o) const {
    return scale == o.scale && zero_point == o.zero_point && type == o.type;
  }
};

std::optional<TensorQ> tensor_q(const Graph& g, const Node& n) {
  const Tensor* s = g.constant(n.input(1));
  if (s == nullptr || s->numel() != 1) return std::nullopt;
  TensorQ q;
  q.scale = s->span<float>()[0];
  const Tensor* z = n.inputs.size() > 2 && !n.input(2).empty() ? g.constant(n.input(2)) : nullptr;
  if (n.inputs.size() > 2 && !n.input(2).empty() && z == nullptr) return std::nullopt;
  if (z != nullptr) {
    if (z->numel() != 1) return std::nullopt;
    q.zero_point = load_int(*z, 0);
    q.type = z->dtype();
  } else if (is_dq(&n)) {
    const Value* v = g.find_value(n.input(0));
    q.type = v != nullptr ? v->dtype : DType::kU8;
  }
  return q;
}

// A DequantizeLinear of a runtime activation, per tensor.
const Node* act_dq(const Graph& g, const std::string& value) {
  const Node* d = g.producer(value);
  if (!is_dq(d) || g.constant(d->input(0)) != nullptr || !tensor_q(g, *d)) return nullptr;
  return d;
}

// A DequantizeLinear of a constant (weights or bias).
const Node* const_dq(const Graph& g, const std::string& value) {
  const Node* d = g.producer(value);
  if (!is_dq(d) || g.constant(d->input(0)) == nullptr || g.constant(d->input(1)) == nullptr)
    return nullptr;
  return d;
}

// The only reader of `value` (nullptr when none, several, or `value` is a graph output).
const Node* sole_consumer(const Graph& g, const std::string& value) {
  if (g.is_graph_output(value)) return nullptr;
  const auto c = g.consumers(value);
  return c.size() == 1 ? &g.nodes()[c[0]] : nullptr;
}

int32_t quantize_bound(float v, const TensorQ& q) {
  return fixedpoint::quantize(v, q.scale, q.zero_point, int8_type_min(q.type),
                              int8_type_max(q.type));
}

bool is_alias_op(const std::string& op) {
  return op == "Flatten" || op == "Reshape" || op == "Squeeze" || op == "Unsqueeze" ||
         op == "Identity" || op == "Transpose" || op == "Dropout";
}

constexpr std::string_view kIntegerOps[] = {"QLinearConv",
                                            "QLinearMatMul",
                                            "QGemm",
                                            "MatMulIntegerToFloat",
                                            "QLinearAdd",
                                            "QLinearMul",
                                            "QLinearSigmoid",
                                            "QLinearLeakyRelu",
                                            "QLinearLookup",
                                            "QLinearConcat",
                                            "QLinearAveragePool",
                                            "QLinearGlobalAveragePool",
                                            "QMaxPool",
                                            "QClamp"};

bool is_integer_op(std::string_view op) {
  return std::find(std::begin(kIntegerOps), std::end(kIntegerOps), op) != std::end(kIntegerOps);
}

// Zero-point input name of a Q/DQ node, creating a zero initializer of `type` when absent.
std::string zero_point_input(Graph& g, const Node& n, DType type) {
  if (n.inputs.size() > 2 && !n.input(2).empty()) return n.input(2);
  const std::string name = g.unique_value_name(n.name + "_zero_point");
  g.add_initializer(name, Tensor::zeros(type, {}));
  return name;
}

// Step 2: move per-tensor activation DQs below data-movement ops (and Relu/Clip), so those run
// on the integers. Returns true when something changed.
bool push_dq_down(Graph& g) {
  for (size_t i = 0; i < g.nodes().size(); ++i) {
    const Node p = g.nodes()[i];
    const bool alias = is_alias_op(p.op_type);
    if (!alias && p.op_type != "MaxPool" && p.op_type != "Relu" && p.op_type != "Clip") continue;
    if (p.inputs.empty() || p.outputs.size() != 1) continue;
    if (p.op_type == "MaxPool" && p.outputs.size() > 1) continue;
    const Node* d = act_dq(g, p.input(0));
    if (d == nullptr) continue;
    const Node dq = *d;
    const TensorQ q = *tensor_q(g, dq);
    if (q.type != DType::kU8 && q.type != DType::kS8 && q.type != DType::kS16) continue;
    if (p.op_type == "Transpose" && false) continue;
    const std::string vq = g.unique_value_name(p.outputs[0] + "_quantized");
    Node& np = g.nodes()[i];
    np.inputs[0] = dq.input(0);
    np.outputs[0] = vq;
    if (p.op_type == "MaxPool") np.op_type = "QMaxPool";
    if (p.op_type == "Relu" || p.op_type == "Clip") {
      np.op_type = "QClamp";
      const float lo =
          p.op_type == "Relu" ? 0.0f : p.attr_float("min", -std::numeric_limits<float>::infinity());
      const float hi = p.op_type == "Relu"
                           ? std::numeric_limits<float>::infinity()
                           : p.attr_float("max", std::numeric_limits<float>::infinity());
      np.attrs.clear();
      np.set("lo", int64_t{quantize_bound(lo, q)});
      np.set("hi", int64_t{quantize_bound(hi, q)});
      np.inputs.resize(1);
    }
    g.values()[vq].name = vq;
    g.values()[vq].dtype = q.type;
    std::vector<std::string> dq_in = {vq, dq.input(1)};
    if (dq.inputs.size() > 2) dq_in.push_back(dq.input(2));
    g.add_node("DequantizeLinear", g.unique_node_name(p.name + "_DequantizeLinear"), dq_in,
               {p.outputs[0]});
    return true;
  }
  return false;
}

// Step 3: Q(DQ(x)) with equal per-tensor parameters is x.
bool drop_identity_pairs(Graph& g) {
  for (const Node& n : g.nodes()) {
    if (!is_q(&n)) continue;
    const Node* d = act_dq(g, n.input(0));
    if (d == nullptr) continue;
    const auto qa = tensor_q(g, *d), qb = tensor_q(g, n);
    if (!qa || !qb || !(*qa == *qb)) continue;
    const std::string from = n.outputs[0], to = d->input(0);
    if (g.is_graph_output(from) || g.is_graph_output(to)) continue;
    g.replace_uses(from, to);
    g.remove_dead_nodes();
    return true;
  }
  return false;
}

// The float value of a constant input: an initializer, or a DequantizeLinear of constants
// (s[c]·float(q − z[c]) along `axis`, as DequantizeLinear computes it). nullopt otherwise.
std::optional<Tensor> float_constant(const Graph& g, const std::string& name) {
  if (const Tensor* t = g.constant(name); t != nullptr) {
    if (t->dtype() != DType::kF32) return std::nullopt;
    return *t;
  }
  const Node* d = g.producer(name);
  if (!is_dq(d)) return std::nullopt;
  const Tensor* q = g.constant(d->input(0));
  const Tensor* sc = g.constant(d->input(1));
  const Tensor* z =
      d->inputs.size() > 2 && !d->input(2).empty() ? g.constant(d->input(2)) : nullptr;
  if (q == nullptr || sc == nullptr || sc->dtype() != DType::kF32 || q->dtype() == DType::kF32 ||
      (d->inputs.size() > 2 && !d->input(2).empty() && z == nullptr)) {
    return std::nullopt;
  }
  const int64_t ns = sc->numel();
  int64_t inner = q->numel(), channels = 1;
  if (ns > 1) {
    int64_t axis = d->attr_int("axis", 1);
    if (axis < 0) axis += q->rank();
    if (axis < 0 || axis >= q->rank() || q->dim(axis) != ns) return std::nullopt;
    channels = ns;
    inner = 1;
    for (int64_t k = axis + 1; k < q->rank(); ++k) inner *= q->dim(k);
  }
  Tensor out = Tensor::zeros(DType::kF32, q->shape());
  auto y = out.span<float>();
  for (int64_t i = 0; i < q->numel(); ++i) {
    const int64_t ch = ns > 1 ? (i / inner) % channels : 0;
    const int32_t zp = z != nullptr ? load_int(*z, z->numel() > 1 ? ch : 0) : 0;
    y[static_cast<size_t>(i)] =
        static_cast<float>(load_int(*q, i) - zp) * sc->span<float>()[static_cast<size_t>(ch)];
  }
  return out;
}

// ORT drops a Relu/Clip between an op and its QuantizeLinear (fusing the op) only when Q makes it
// redundant: Relu with the type's minimum as zero point, Clip whose range holds Q's range.
bool activation_redundant(const Node& act, const TensorQ& yq) {
  const int32_t lo = int8_type_min(yq.type), hi = int8_type_max(yq.type);
  if (act.op_type == "Relu") return yq.zero_point == lo;
  const float qlo = yq.scale * static_cast<float>(lo - yq.zero_point);
  const float qhi = yq.scale * static_cast<float>(hi - yq.zero_point);
  return act.attr_float("min", -std::numeric_limits<float>::infinity()) <= qlo &&
         act.attr_float("max", std::numeric_limits<float>::infinity()) >= qhi;
}

// The table of DQ → p (Sigmoid, LeakyRelu, BatchNormalization) [→ act] → Q: [256], or [C, 256]
// for BatchNormalization (channel axis 1), of the output type. Each entry is the float path as
// ONNX Runtime runs it: Sigmoid = MLAS logistic (qlinear_ref.h), LeakyRelu v ≥ 0 ? v : α·v,
// BatchNormalization = its CPU kernel's inv_std = 1 / sqrt(var + ε), scale' = inv_std·scale,
// bias' = bias − mean·scale', y = x·scale' + bias' (float32, no FMA); Relu max(v, 0), Clip.
std::optional<Tensor> lookup_table(const Graph& g, const Node& p, const Node* act,
                                   const TensorQ& xq, const TensorQ& yq) {
  std::vector<float> scale{1.0f}, shift{0.0f};
  bool affine = false;
  if (p.op_type == "BatchNormalization") {
    if (p.inputs.size() < 5) return std::nullopt;
    std::optional<Tensor> t[4];
    for (size_t i = 0; i < 4; ++i) {
      t[i] = float_constant(g, p.input(i + 1));
      if (!t[i] || t[i]->numel() != t[0]->numel()) return std::nullopt;
    }
    const Value* xv = g.find_value(p.input(0));
    if (xv == nullptr || xv->shape.size() < 2 || xv->shape[1] != t[0]->numel()) return std::nullopt;
    const float eps = p.attr_float("epsilon", 1e-5f);
    const size_t c = static_cast<size_t>(t[0]->numel());
    scale.assign(c, 0.0f);
    shift.assign(c, 0.0f);
    for (size_t k = 0; k < c; ++k) {
      const float inv_std = 1.0f / std::sqrt(t[3]->span<float>()[k] + eps);
      scale[k] = inv_std * t[0]->span<float>()[k];
      const float mean_scaled = t[2]->span<float>()[k] * scale[k];
      shift[k] = t[1]->span<float>()[k] - mean_scaled;
    }
    affine = true;
  }
  float lo = -std::numeric_limits<float>::infinity(), hi = std::numeric_limits<float>::infinity();
  if (act != nullptr) {
    lo = act->op_type == "Relu" ? 0.0f : act->attr_float("min", lo);
    hi = act->op_type == "Relu" ? hi : act->attr_float("max", hi);
  }
  const float alpha = p.attr_float("alpha", 0.01f);
  const int64_t c = static_cast<int64_t>(scale.size());
  Tensor out = Tensor::zeros(yq.type, affine ? Shape{c, 256} : Shape{256});
  auto fill = [&]<typename T>(T) {
    for (int64_t k = 0; k < c; ++k) {
      std::array<float, 256> v = kernels::dequantized_codes<T>(xq.scale, xq.zero_point);
      for (float& r : v) {
        if (affine) {
          const float xs = r * scale[static_cast<size_t>(k)];
          r = xs + shift[static_cast<size_t>(k)];
        } else if (p.op_type == "Sigmoid") {
          r = kernels::logistic_ort(r);
        } else {
          r = r >= 0.0f ? r : alpha * r;
        }
        if (act != nullptr) r = std::min(std::max(r, lo), hi);
      }
      const std::array<T, 256> t = kernels::quantize_codes<T>(v, yq.scale, yq.zero_point);
      std::memcpy(out.raw() + k * 256, t.data(), 256);
    }
  };
  if (yq.type == DType::kU8) {
    fill(uint8_t{});
  } else {
    fill(int8_t{});
  }
  return out;
}

struct Lowered {
  Node node;
  std::vector<std::string> erase;  // names of the replaced nodes
};

// DQ(x), DQ(B)[, DQ(C s32)] → Gemm / MatMul with a float output (no QuantizeLinear after it):
// QGemm without y_scale / y_zero_point, or MatMulIntegerToFloat — ONNX Runtime's fusions, with
// its conditions (B a constant of rank 2 here; s8 A needs s8 B; Gemm: C an int32 DQ, β = 1).
std::optional<Lowered> lower_float_output(Graph& g, const Node& p) {
  if (p.has("activation")) return std::nullopt;
  const Node* dx = act_dq(g, p.input(0));
  const Node* db = const_dq(g, p.input(1));
  if (dx == nullptr || db == nullptr) return std::nullopt;
  const TensorQ xq = *tensor_q(g, *dx);
  if (xq.type != DType::kU8 && xq.type != DType::kS8) return std::nullopt;
  // The geometry (ranks, transposes, alpha/beta, N) from the layer view (Gemm: A and B 2-D).
  const Result<LayerGeometry> layer = decode_layer(g, p);
  if (!layer.ok()) return std::nullopt;
  const LayerGeometry& l = layer.value();
  const Tensor* bt = g.constant(db->input(0));
  const Tensor* bs = g.constant(db->input(1));
  if (l.weight_rank != 2 || (bt->dtype() != DType::kS8 && bt->dtype() != DType::kU8)) {
    return std::nullopt;
  }
  if (xq.type == DType::kS8 && bt->dtype() != DType::kS8) return std::nullopt;
  const bool gemm = p.op_type == "Gemm";
  if (l.trans_a || l.alpha != 1.0f) return std::nullopt;
  if (bs->numel() != 1) {
    int64_t a = db->attr_int("axis", 1);
    if (a < 0) a += 2;
    if (a != l.weight_channel_axis() || bs->numel() != l.out_channels) return std::nullopt;
  }
  std::string bias;
  if (!l.bias.empty()) {
    const Node* dc = const_dq(g, l.bias);
    if (dc == nullptr || g.constant(dc->input(0))->dtype() != DType::kS32 || l.beta != 1.0f) {
      return std::nullopt;
    }
    bias = dc->input(0);
  }
  Lowered out;
  out.erase = {p.name};
  Node& n = out.node;
  n.name = p.name;
  n.outputs = {p.outputs[0]};
  const std::string za = zero_point_input(g, *dx, xq.type);
  const std::string zb = zero_point_input(g, *db, bt->dtype());
  if (gemm) {
    n.op_type = "QGemm";
    n.inputs = {dx->input(0), dx->input(1), za, db->input(0), db->input(1), zb};
    if (!bias.empty()) n.inputs.push_back(bias);
    n.set("transB", int64_t{l.trans_b ? 1 : 0});
  } else {
    n.op_type = "MatMulIntegerToFloat";
    n.inputs = {dx->input(0), db->input(0), dx->input(1), db->input(1), za, zb};
  }
  return out;
}

// DequantizeLinear of constants that float ops still consume (weights of a float Conv, a
// BatchNormalization's parameters, ...) become float initializers: constant folding, with the
// values DequantizeLinear computes. Returns true when something changed.
bool fold_constant_dq(Graph& g) {
  for (size_t i = 0; i < g.nodes().size(); ++i) {
    const Node& d = g.nodes()[i];
    if (!is_dq(&d) || g.constant(d.input(0)) == nullptr || g.is_graph_output(d.outputs[0])) {
      continue;
    }
    std::optional<Tensor> v = float_constant(g, d.outputs[0]);
    if (!v) continue;
    const std::string name = d.outputs[0];
    g.nodes().erase(g.nodes().begin() + static_cast<std::ptrdiff_t>(i));
    g.add_initializer(name, std::move(*v));
    return true;
  }
  return false;
}

// Step 4: one compute node with its output Q (and a Relu/Clip between) → integer node.
std::optional<Lowered> lower_compute(Graph& g, const Node& p, fixedpoint::RequantProfile profile) {
  static const std::set<std::string, std::less<>> kCompute = {"Conv",
                                                              "Gemm",
                                                              "MatMul",
                                                              "Add",
                                                              "Mul",
                                                              "Concat",
                                                              "AveragePool",
                                                              "GlobalAveragePool",
                                                              "Sigmoid",
                                                              "LeakyRelu",
                                                              "BatchNormalization"};
  if (!kCompute.count(p.op_type) || p.outputs.size() != 1) return std::nullopt;
  // Tail: [Relu | Clip] → Q.
  const Node* c1 = sole_consumer(g, p.outputs[0]);
  const Node* act = nullptr;
  if (c1 != nullptr && (c1->op_type == "Relu" || c1->op_type == "Clip")) {
    act = c1;
    c1 = sole_consumer(g, act->outputs[0]);
  }
  if (!is_q(c1)) {
    // DQ → Gemm / MatMul without a QuantizeLinear: the integer product with a float output,
    // as ONNX Runtime fuses it (QGemm without y_scale, MatMulIntegerToFloat).
    if (p.op_type == "Gemm" || p.op_type == "MatMul") return lower_float_output(g, p);
    return std::nullopt;
  }
  const Node q = *c1;
  const auto yq = tensor_q(g, q);
  if (!yq || (yq->type != DType::kU8 && yq->type != DType::kS8 && yq->type != DType::kS16)) {
    return std::nullopt;
  }
  // int16 activations (A16W8): integer in Conv / Gemm / MatMul (int64-accumulating kernels),
  // Add and Concat (the float formula of DQ → op → Q, which ONNX Runtime runs for int16 QDQ,
  // evaluated per element: QLinearAdd / QLinearConcat with s16 tensors); MaxPool and Relu/Clip
  // already became QMaxPool / QClamp (push_dq_down). The other ops keep their float path
  // between DQ and Q for int16 inputs or outputs.
  const bool s16_ok = p.op_type == "Conv" || p.op_type == "Gemm" || p.op_type == "MatMul" ||
                      p.op_type == "Add" || p.op_type == "Concat";
  if (!s16_ok) {
    if (yq->type == DType::kS16) return std::nullopt;
    for (const std::string& in : p.inputs) {
      const Node* d = in.empty() ? nullptr : act_dq(g, in);
      if (d != nullptr && tensor_q(g, *d)->type == DType::kS16) return std::nullopt;
    }
  }
  // Output clamp of the fused activation (attribute from fuse_activations, or the node).
  float lo = -std::numeric_limits<float>::infinity(), hi = std::numeric_limits<float>::infinity();
  const std::string fused = p.attr_string("activation");
  if (!fused.empty()) {
    if (fused == "Relu") {
      lo = 0.0f;
    } else if (fused == "Clip") {
      lo = p.attr_float("activation_min", lo);
      hi = p.attr_float("activation_max", hi);
    } else {
      return std::nullopt;
    }
  }
  if (act != nullptr) {
    lo = std::max(lo, act->op_type == "Relu" ? 0.0f : act->attr_float("min", lo));
    hi = std::min(hi, act->op_type == "Relu" ? hi : act->attr_float("max", hi));
  }
  const bool clamped = !std::isinf(lo) || !std::isinf(hi);
  const int32_t qmin = quantize_bound(lo, *yq), qmax = quantize_bound(hi, *yq);

  Lowered out;
  out.erase = {p.name, q.name};
  if (act != nullptr) out.erase.push_back(act->name);
  Node& n = out.node;
  n.name = p.name;
  n.outputs = {q.outputs[0]};
  const std::string pname(fixedpoint::profile_name(profile));
  auto add_data = [&](const Node& d) {
    n.inputs.push_back(d.input(0));
    n.inputs.push_back(d.input(1));
    n.inputs.push_back(zero_point_input(g, d, tensor_q(g, d)->type));
  };
  auto add_output_q = [&] {
    n.inputs.push_back(q.input(1));
    n.inputs.push_back(zero_point_input(g, q, DType::kU8));
  };
  auto set_clamp = [&] {
    n.set("requant_profile", pname);
    n.set("qmin", int64_t{qmin});
    n.set("qmax", int64_t{qmax});
  };
  // The weight DQ: constant s8/u8 data, per tensor or along `axis` with `channels` scales.
  auto weight_dq = [&](const std::string& v, int64_t axis, int64_t channels) -> const Node* {
    const Node* d = const_dq(g, v);
    if (d == nullptr) return nullptr;
    const Tensor* w = g.constant(d->input(0));
    const Tensor* s = g.constant(d->input(1));
    if (w->dtype() != DType::kS8 && w->dtype() != DType::kU8) return nullptr;
    if (s->numel() != 1) {
      const int64_t r = w->rank();
      int64_t a = d->attr_int("axis", 1);
      if (a < 0) a += r;
      if (a != axis || s->numel() != channels) return nullptr;
    }
    return d;
  };
  auto add_weight = [&](const Node& d) {
    n.inputs.push_back(d.input(0));
    n.inputs.push_back(d.input(1));
    n.inputs.push_back(zero_point_input(g, d, g.constant(d.input(0))->dtype()));
  };
  // Bias: absent, or a DQ of constant int32 data (used as is: ONNX Runtime does the same).
  auto bias = [&](const std::string& v, bool& ok) -> std::string {
    ok = true;
    if (v.empty()) return {};
    const Node* d = const_dq(g, v);
    if (d == nullptr || g.constant(d->input(0))->dtype() != DType::kS32) {
      ok = false;
      return {};
    }
    return d->input(0);
  };

  // Conv, Gemm and MatMul read their geometry from the layer view (graph/layer_view.h); the
  // integer node keeps the float node's attributes, which its prepare() decodes the same way.
  if (p.op_type == "Conv") {
    const Node* dx = act_dq(g, p.input(0));
    const Result<LayerGeometry> layer = decode_layer(g, p);
    if (dx == nullptr || !layer.ok()) return std::nullopt;
    const LayerGeometry& l = layer.value();
    const Node* dw = weight_dq(l.weight, l.weight_channel_axis(), l.out_channels);
    bool ok = false;
    const std::string b = bias(l.bias, ok);
    if (dw == nullptr || !ok) return std::nullopt;
    n.op_type = "QLinearConv";
    add_data(*dx);
    add_weight(*dw);
    add_output_q();
    if (!b.empty()) n.inputs.push_back(b);
    for (const auto& [k, v] : p.attrs) {
      if (k.rfind("activation", 0) != 0) n.attrs[k] = v;
    }
    set_clamp();
    return out;
  }
  if (p.op_type == "Gemm" || p.op_type == "MatMul") {
    const Node* dx = act_dq(g, p.input(0));
    const Result<LayerGeometry> layer = decode_layer(g, p);
    if (dx == nullptr || !layer.ok()) return std::nullopt;
    const LayerGeometry& l = layer.value();  // Gemm: A and B 2-D
    if (l.weight_rank != 2 || l.trans_a || l.alpha != 1.0f || l.beta != 1.0f) return std::nullopt;
    const bool gemm = p.op_type == "Gemm";
    const Node* db = weight_dq(l.weight, l.weight_channel_axis(), l.out_channels);
    bool ok = true;
    const std::string b = bias(l.bias, ok);
    if (db == nullptr || !ok) return std::nullopt;
    n.op_type = gemm ? "QGemm" : "QLinearMatMul";
    add_data(*dx);
    add_weight(*db);
    if (gemm) n.inputs.push_back(b);
    add_output_q();
    if (gemm) n.set("transB", int64_t{l.trans_b ? 1 : 0});
    set_clamp();
    return out;
  }
  if (p.op_type == "Add") {
    const Node* da = act_dq(g, p.input(0));
    const Node* db = act_dq(g, p.input(1));
    if (da == nullptr || db == nullptr) return std::nullopt;
    const Value* va = g.find_value(da->input(0));
    const Value* vb = g.find_value(db->input(0));
    if (va == nullptr || vb == nullptr || va->dtype != vb->dtype || va->dtype != yq->type) {
      return std::nullopt;
    }
    n.op_type = "QLinearAdd";
    add_data(*da);
    add_data(*db);
    add_output_q();
    set_clamp();
    return out;
  }
  if (p.op_type == "Mul") {
    // ORT fuses DQ → Mul [→ Relu/Clip] → Q into QLinearMul only when the activation is
    // redundant after Q (it then changes nothing); otherwise the float path stays, whose
    // rounding differs from QLinearMul's: leave it float, as ORT does.
    if (act != nullptr && !activation_redundant(*act, *yq)) return std::nullopt;
    const Node* da = act_dq(g, p.input(0));
    const Node* db = act_dq(g, p.input(1));
    if (da == nullptr || db == nullptr) return std::nullopt;
    if (tensor_q(g, *da)->type != yq->type || tensor_q(g, *db)->type != yq->type) {
      return std::nullopt;
    }
    n.op_type = "QLinearMul";
    add_data(*da);
    add_data(*db);
    add_output_q();
    set_clamp();
    return out;
  }
  if (p.op_type == "Sigmoid" || p.op_type == "LeakyRelu" || p.op_type == "BatchNormalization") {
    // Functions of one 8-bit code (per channel for BatchNormalization): a table built in float
    // as ORT evaluates the op, the activation (if any) applied in float before Q.
    const Node* dx = act_dq(g, p.input(0));
    if (dx == nullptr || tensor_q(g, *dx)->type != yq->type) return std::nullopt;
    if (!fused.empty()) return std::nullopt;
    const TensorQ xq = *tensor_q(g, *dx);
    if (p.op_type != "BatchNormalization" && act == nullptr) {
      n.op_type = p.op_type == "Sigmoid" ? "QLinearSigmoid" : "QLinearLeakyRelu";
      add_data(*dx);
      add_output_q();
      if (p.op_type == "LeakyRelu") n.set("alpha", p.attr_float("alpha", 0.01f));
      return out;
    }
    auto table = lookup_table(g, p, act, xq, *yq);
    if (!table) return std::nullopt;
    const std::string tname = g.unique_value_name(p.name + "_table");
    g.add_initializer(tname, std::move(*table));
    n.op_type = "QLinearLookup";
    n.inputs = {dx->input(0), tname};
    n.set("axis", int64_t{1});
    return out;
  }
  if (clamped) return std::nullopt;  // the ops below take no fused activation
  if (p.op_type == "Concat") {
    n.op_type = "QLinearConcat";
    add_output_q();
    for (const std::string& in : p.inputs) {
      const Node* d = act_dq(g, in);
      if (d == nullptr || tensor_q(g, *d)->type != yq->type) return std::nullopt;
      add_data(*d);
    }
    n.set("axis", p.attr_int("axis", 0));
    return out;
  }
  // AveragePool / GlobalAveragePool.
  const Node* dx = act_dq(g, p.input(0));
  if (dx == nullptr || tensor_q(g, *dx)->type != yq->type) return std::nullopt;
  n.op_type = p.op_type == "AveragePool" ? "QLinearAveragePool" : "QLinearGlobalAveragePool";
  add_data(*dx);
  add_output_q();
  for (const auto& [k, v] : p.attrs) n.attrs[k] = v;
  n.set("requant_profile", pname);
  return out;
}

// A constant scalar input of an integer node: a float scale, or a zero point of type `t`.
std::optional<float> const_scale(const Graph& g, const std::string& name) {
  const Tensor* t = name.empty() ? nullptr : g.constant(name);
  if (t == nullptr || t->numel() != 1 || t->dtype() != DType::kF32) return std::nullopt;
  return t->span<float>()[0];
}
std::optional<int32_t> const_zero_point(const Graph& g, const std::string& name, DType type) {
  const Tensor* t = name.empty() ? nullptr : g.constant(name);
  if (t == nullptr || t->numel() != 1 || t->dtype() != type) return std::nullopt;
  return load_int(*t, 0);
}

// The table of the SiLU x·σ(x) as the engine runs it unfused: for every code x, the
// QLinearSigmoid table entry s = Q(logistic_ort(DQ(x))) (int8_ops.cpp QLookupOp: the same three
// kernels calls), then QLinearMul's element (int8_ops.cpp QLinearBinaryOp: qlinear_mul_ref with
// the Mul's own scales, zero points and output clamp) of (x, s) in the Mul's operand order.
template <typename T>
Tensor silu_table(float sx, int32_t zx, float sy, int32_t zy, const kernels::QLinearMulParams& p,
                  bool x_first, DType type) {
  std::array<float, 256> v = kernels::dequantized_codes<T>(sx, zx);
  for (float& r : v) r = kernels::logistic_ort(r);
  const std::array<T, 256> sig = kernels::quantize_codes<T>(v, sy, zy);
  std::array<T, 256> codes{};
  for (int i = 0; i < 256; ++i) {
    codes[static_cast<size_t>(i)] = static_cast<T>(std::numeric_limits<T>::min() + i);
  }
  std::array<T, 256> out{};
  if (x_first) {
    kernels::qlinear_mul_ref<T>(p, codes.data(), sig.data(), out.data(), 256);
  } else {
    kernels::qlinear_mul_ref<T>(p, sig.data(), codes.data(), out.data(), 256);
  }
  Tensor t = Tensor::zeros(type, Shape{256});
  std::memcpy(t.raw(), out.data(), 256);
  return t;
}

// QLinearSigmoid(x) → s, QLinearMul(x, s) or (s, x), s read by that Mul only (EfficientNet's and
// MnasNet's SiLU, lowered): the Mul's output is a function of x's code alone, so both nodes
// become one QLinearLookup(x, table) whose 256 entries are the two ops evaluated on every code
// (silu_table) — bit-exact with the unfused pair by construction, one byte lookup per element
// instead of a lookup and a 64 KiB pair-table gather. Every scale and zero point must be a
// constant scalar of the ops' type (else the ops' prepare() decides, unfused). Returns the
// names of the removed QLinearSigmoid nodes.
std::vector<std::string> fuse_silu_tables(Graph& g) {
  std::vector<std::string> removed;
  std::set<std::string> erase;
  std::vector<Node> added;
  for (const Node& m : g.nodes()) {
    if (m.op_type != "QLinearMul" || m.inputs.size() < 8) continue;
    const Node* sig = nullptr;
    bool x_first = false;
    for (int side = 0; side < 2 && sig == nullptr; ++side) {
      const Node* p = g.producer(m.input(side == 0 ? 3 : 0));
      if (p != nullptr && p->op_type == "QLinearSigmoid" && p->inputs.size() >= 5 &&
          p->input(0) == m.input(side == 0 ? 0 : 3) && sole_consumer(g, p->outputs[0]) == &m &&
          erase.count(p->name) == 0) {
        sig = p;
        x_first = side == 0;
      }
    }
    if (sig == nullptr) continue;
    const Value* xv = g.find_value(sig->input(0));
    if (xv == nullptr || (xv->dtype != DType::kU8 && xv->dtype != DType::kS8)) continue;
    const DType t = xv->dtype;
    const auto sx = const_scale(g, sig->input(1)), sy = const_scale(g, sig->input(3));
    const auto zx = const_zero_point(g, sig->input(2), t),
               zy = const_zero_point(g, sig->input(4), t);
    const auto sa = const_scale(g, m.input(1)), sb = const_scale(g, m.input(4));
    const auto sc = const_scale(g, m.input(6));
    const auto za = const_zero_point(g, m.input(2), t), zb = const_zero_point(g, m.input(5), t);
    const auto zc = const_zero_point(g, m.input(7), t);
    if (!sx || !sy || !zx || !zy || !sa || !sb || !sc || !za || !zb || !zc) continue;
    // QLinearBinaryOp's clamp (int8_ops.cpp out_clamp): the type range ∩ [qmin, qmax].
    const int32_t qmin =
        std::max<int32_t>(int8_type_min(t), static_cast<int32_t>(m.attr_int("qmin", INT32_MIN)));
    const int32_t qmax =
        std::min<int32_t>(int8_type_max(t), static_cast<int32_t>(m.attr_int("qmax", INT32_MAX)));
    const kernels::QLinearMulParams p{*sa, *za, *sb, *zb, *sc, *zc, qmin, qmax};
    Tensor table = t == DType::kU8 ? silu_table<uint8_t>(*sx, *zx, *sy, *zy, p, x_first, t)
                                   : silu_table<int8_t>(*sx, *zx, *sy, *zy, p, x_first, t);
    const std::string tname = g.unique_value_name(m.name + "_silu_table");
    g.add_initializer(tname, std::move(table));
    Node n;
    n.op_type = "QLinearLookup";
    n.name = m.name;
    n.inputs = {sig->input(0), tname};
    n.outputs = m.outputs;
    n.set("axis", int64_t{1});
    added.push_back(std::move(n));
    erase.insert(m.name);
    erase.insert(sig->name);
    removed.push_back(sig->name);
  }
  std::erase_if(g.nodes(), [&](const Node& n) { return erase.count(n.name) > 0; });
  for (const Node& n : added) {
    Node& k = g.add_node(n.op_type, n.name, n.inputs, n.outputs);
    k.attrs = n.attrs;
  }
  return removed;
}

}  // namespace

bool is_qdq_graph(const Graph& g) {
  return std::any_of(g.nodes().begin(), g.nodes().end(), [](const Node& n) {
    return n.op_type == "QuantizeLinear" || n.op_type == "DequantizeLinear";
  });
}

Status validate_qdq(const Graph& g) {
  for (const Node& n : g.nodes()) {
    if (!is_q(&n) && !is_dq(&n)) continue;
    if (n.inputs.size() < 2 || n.input(1).empty()) return node_error(n, "scale input missing");
    const Tensor* s = g.constant(n.input(1));
    if (s == nullptr || s->dtype() != DType::kF32) {
      return node_error(n, "scale '{}' = runtime or non-f32 tensor, must be a f32 constant",
                        n.input(1));
    }
    if (s->numel() == 0) return node_error(n, "scale '{}' is empty", n.input(1));
    for (float v : s->span<float>()) {
      if (!std::isfinite(v) || !(v > 0.0f)) {
        return node_error(n, "scale '{}' = {}, must be finite and > 0", n.input(1), v);
      }
    }
    const Value* data = g.find_value(n.input(0));
    const bool has_zp = n.inputs.size() > 2 && !n.input(2).empty();
    if (!has_zp) continue;
    const Tensor* z = g.constant(n.input(2));
    if (z == nullptr) {
      return node_error(n, "zero point '{}' = runtime tensor, must be a constant", n.input(2));
    }
    if (z->numel() != s->numel()) {
      return node_error(n, "zero point '{}' size = {}, must be {} (the scale's)", n.input(2),
                        z->numel(), s->numel());
    }
    if (is_q(&n) && z->dtype() != DType::kU8 && z->dtype() != DType::kS8 &&
        z->dtype() != DType::kS16) {
      return node_error(n, "zero point '{}' dtype = {}, must be u8, s8 or s16", n.input(2),
                        dtype_name(z->dtype()));
    }
    if (is_dq(&n) && data != nullptr && data->dtype != z->dtype()) {
      return node_error(n, "zero point '{}' dtype = {}, must be {} (the data's)", n.input(2),
                        dtype_name(z->dtype()), dtype_name(data->dtype));
    }
    if (z->dtype() == DType::kS32) {
      for (int64_t i = 0; i < z->numel(); ++i) {
        if (load_int(*z, i) != 0) {
          return node_error(n, "zero point '{}' = {}, must be 0 for int32 data", n.input(2),
                            load_int(*z, i));
        }
      }
    }
  }
  return {};
}

Result<Int8Lowering> lower_to_int8(const Graph& qdq, const Int8LoweringOptions& options) {
  if (options.accumulator_bits != 0) {
    EI8_RETURN_IF_ERROR(
        fixedpoint::check_width(options.accumulator_bits, "lower to a simulated accumulator"));
  }
  Int8Lowering out;
  Graph& g = out.graph;
  g = qdq;
  EI8_RETURN_IF_ERROR(g.validate());
  EI8_RETURN_IF_ERROR(infer_shapes(g));
  EI8_RETURN_IF_ERROR(validate_qdq(g));
  while (push_dq_down(g)) EI8_RETURN_IF_ERROR(infer_shapes(g));
  while (drop_identity_pairs(g)) {
  }
  EI8_RETURN_IF_ERROR(infer_shapes(g));
  std::vector<Lowered> lowered;
  std::set<std::string> taken;
  for (const Node* p : g.topological_order()) {
    auto l = lower_compute(g, *p, options.profile);
    if (!l) continue;
    lowered.push_back(std::move(*l));
  }
  std::set<std::string> erase;
  for (const Lowered& l : lowered) erase.insert(l.erase.begin(), l.erase.end());
  std::erase_if(g.nodes(), [&](const Node& n) { return erase.count(n.name) > 0; });
  for (Lowered& l : lowered) {
    Node& n = g.add_node(l.node.op_type, l.node.name, l.node.inputs, l.node.outputs);
    n.attrs = l.node.attrs;
    out.integer_nodes.push_back(l.node.name);
  }
  g.remove_dead_nodes();
  if (options.fuse_silu) {
    EI8_RETURN_IF_ERROR(infer_shapes(g));  // the fusion reads the integer values' types
    const std::vector<std::string> gone = fuse_silu_tables(g);
    std::erase_if(out.integer_nodes, [&](const std::string& name) {
      return std::find(gone.begin(), gone.end(), name) != gone.end();
    });
  }
  while (fold_constant_dq(g)) {
  }
  g.remove_dead_nodes();
  EI8_RETURN_IF_ERROR(g.validate());
  EI8_RETURN_IF_ERROR(infer_shapes(g));
  for (Node& n : g.nodes()) {
    const bool mac = n.op_type == "QLinearConv" || n.op_type == "QLinearMatMul" ||
                     n.op_type == "QGemm" || n.op_type == "MatMulIntegerToFloat";
    if (mac && options.accumulator_bits != 0) {
      n.set("accumulator_bits", int64_t{options.accumulator_bits});
      n.set("accumulator_policy", std::string(fixedpoint::policy_name(options.accumulator_policy)));
    }
  }
  for (const Node& n : g.nodes()) {
    if (n.op_type == "QMaxPool" || n.op_type == "QClamp") out.integer_nodes.push_back(n.name);
    if (is_q(&n) || is_dq(&n) || is_integer_op(n.op_type) || is_alias_op(n.op_type)) continue;
    out.float_nodes.push_back(n.name);
    out.warnings.push_back(fmt::format(
        "node '{}' ({}) stays float between DequantizeLinear/QuantizeLinear (no integer "
        "lowering for it here)",
        n.name, n.op_type));
  }
  return out;
}

Result<Executor> make_int8_executor(const Graph& qdq, const Int8LoweringOptions& lowering,
                                    ExecutorOptions options) {
  EI8_ASSIGN_OR_RETURN(Int8Lowering low, lower_to_int8(qdq, lowering));
  options.optimize = false;
  return Executor::create(std::move(low.graph), options);
}

Result<double> int8_latency_us(const Graph& qdq, int64_t batch, int iters, int warmup,
                               const Int8LoweringOptions& lowering) {
  if (iters < 1)
    return invalid_argument("cannot time the int8 engine: iters = {}, must be >= 1", iters);
  EI8_ASSIGN_OR_RETURN(Executor ex, make_int8_executor(qdq, lowering));
  EI8_RETURN_IF_ERROR(ex.prepare_batch(batch));
  for (size_t i = 0; i < ex.num_inputs(); ++i) {
    Tensor& t = ex.input(i);
    if (t.dtype() == DType::kF32) {
      auto v = t.span<float>();
      for (size_t k = 0; k < v.size(); ++k) v[k] = static_cast<float>(k % 17) / 8.0f - 1.0f;
    }
  }
  for (int i = 0; i < warmup; ++i) EI8_RETURN_IF_ERROR(ex.run());
  std::vector<double> us;
  for (int i = 0; i < iters; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    EI8_RETURN_IF_ERROR(ex.run());
    us.push_back(
        std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(us.begin(), us.end());
  return us[us.size() / 2];
}

}  // namespace ei8
