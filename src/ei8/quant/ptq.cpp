#include "ei8/quant/ptq.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <variant>

#include "ei8/graph/layer_view.h"
#include "ei8/graph/shape_inference.h"

namespace ei8::quant {
namespace {

const Node* node_named(const Graph& g, std::string_view name) {
  for (const Node& n : g.nodes()) {
    if (n.name == name) return &n;
  }
  return nullptr;
}

bool is_weighted(std::string_view op) { return op == "Conv" || op == "Gemm" || op == "MatMul"; }

// Output = a selection/rearrangement of the input's values: same quantization parameters.
bool is_pass_through(std::string_view op) {
  return op == "MaxPool" || op == "GlobalMaxPool" || op == "Flatten" || op == "Reshape" ||
         op == "Transpose" || op == "Squeeze" || op == "Unsqueeze" || op == "Identity";
}

// Ops wrapped in QuantizeLinear/DequantizeLinear, as ONNX Runtime's quantizer wraps them and its
// graph optimizer fuses them (QLinearSigmoid, QLinearMul, QLinearLeakyRelu, ...). A
// BatchNormalization that could not be folded (after a Concat) is wrapped too: ORT runs it in
// float between its Q/DQ pair, our engine as a per-channel table (runtime/int8_lowering.h).
bool is_quantizable(std::string_view op) {
  return is_weighted(op) || is_pass_through(op) || op == "AveragePool" ||
         op == "GlobalAveragePool" || op == "Add" || op == "Mul" || op == "Concat" ||
         op == "Relu" || op == "Clip" || op == "Sigmoid" || op == "LeakyRelu" ||
         op == "BatchNormalization";
}

// Inputs of a quantizable node that are parameters, not activations.
bool is_parameter_input(std::string_view op, size_t i) {
  return op == "BatchNormalization" && i >= 1;
}

// Why a node of a quantizable type must still stay float ("" when it can be quantized).
std::string float_reason(const Graph& g, const Node& n) {
  if (!is_quantizable(n.op_type)) return "op not quantizable";
  if (n.has("activation")) {
    const std::string a = n.attr_string("activation");
    if (a != "Relu" && a != "Clip") return fmt::format("fused activation {} not quantizable", a);
  }
  if (is_weighted(n.op_type)) {
    const Tensor* w = g.constant(n.input(1));
    if (w == nullptr || w->dtype() != DType::kF32) return "weight is not a float constant";
    if (n.op_type == "Gemm") {
      if (n.attr_int("transA", 0) != 0) return "Gemm transA = 1";
      if (n.attr_float("alpha", 1.0f) != 1.0f || n.attr_float("beta", 1.0f) != 1.0f) {
        return "Gemm alpha/beta != 1";
      }
      if (w->rank() != 2) return "Gemm weight rank != 2";
    }
    if (n.op_type == "MatMul" && w->rank() != 2) return "MatMul weight rank != 2";
    if (n.inputs.size() > 2 && !n.input(2).empty()) {
      const Tensor* b = g.constant(n.input(2));
      if (b == nullptr || b->dtype() != DType::kF32) return "bias is not a float constant";
    }
  } else {
    for (size_t i = 0; i < n.inputs.size(); ++i) {
      const std::string& in = n.inputs[i];
      if (in.empty() || is_parameter_input(n.op_type, i)) continue;
      if (g.constant(in) != nullptr && !is_pass_through(n.op_type)) {
        return "constant activation operand";
      }
    }
    if (n.op_type == "BatchNormalization") {
      for (size_t i = 1; i < 5; ++i) {
        if (i >= n.inputs.size() || g.constant(n.input(i)) == nullptr) {
          return "BatchNormalization parameters are not constants";
        }
      }
    }
  }
  return {};
}

// Non-constant inputs of a quantized node that carry activations.
std::vector<std::string> activation_inputs(const Graph& g, const Node& n) {
  if (is_weighted(n.op_type)) return {n.input(0)};
  std::vector<std::string> out;
  for (size_t i = 0; i < n.inputs.size(); ++i) {
    const std::string& in = n.inputs[i];
    if (!in.empty() && g.constant(in) == nullptr && !is_parameter_input(n.op_type, i)) {
      out.push_back(in);
    }
    if (is_pass_through(n.op_type)) break;  // Reshape's shape etc. are parameters
  }
  return out;
}

Tensor scalar_f32(float v) { return Tensor::from<float>(Shape{}, {v}); }
Tensor scalar_zero_point(int32_t z, QType t) {
  if (storage_dtype(t) == DType::kS16) {
    return Tensor::from<int16_t>(Shape{}, {static_cast<int16_t>(z)});
  }
  if (storage_dtype(t) == DType::kU8)
    return Tensor::from<uint8_t>(Shape{}, {static_cast<uint8_t>(z)});
  return Tensor::from<int8_t>(Shape{}, {static_cast<int8_t>(z)});
}

struct Names {
  std::string q, dq, scale, zp;
};

// A range that cuts off more than 1 % of what calibration saw, by more than half a step, loses
// information no later layer can restore (e.g. entropy on an image input whose background is one
// spike of values). Values clipped by less than half a step cost no more than rounding does, so
// they do not count (a spike just beyond the range edge is not worth a warning).
void warn_if_clipped(const CalibEntry& e, std::vector<std::string>& warnings) {
  constexpr double kWarnAbove = 0.01;
  const double* all = nullptr;
  const double* far = nullptr;
  for (const auto& [key, value] : e.diagnostics) {
    if (key == "clipped_fraction") all = std::get_if<double>(&value);
    if (key == "clipped_beyond_half_step") far = std::get_if<double>(&value);
  }
  const double* f = far != nullptr ? far : all;
  if (f == nullptr || *f <= kWarnAbove) return;
  // Methods that clip less than this one, this one left out.
  std::vector<std::string_view> other;
  for (CalibMethod m : {CalibMethod::kMse, CalibMethod::kPercentile, CalibMethod::kMinMax}) {
    if (m != e.method && other.size() < 2) other.push_back(calib_method_name(m));
  }
  warnings.push_back(fmt::format(
      "value '{}': {} range [{:.6g}, {:.6g}] clips {:.1f} % of the calibration values{} "
      "(observed [{:.6g}, {:.6g}]); --method {} or {} keep more of it",
      e.name, calib_method_name(e.method), e.min, e.max, 100.0 * *f,
      far != nullptr ? " by more than half a quantization step" : "", e.observed_min,
      e.observed_max, other[0], other[1]));
}

// ONNX Runtime's quantizer removes a Relu whose input is the only use of a quantized op's output
// (QDQRemovableActivation): the op's output takes the Relu's range, whose zero point is the
// type's minimum (asymmetric activations), so QuantizeLinear clamps the negatives to the value
// 0 exactly. ORT's fusions then see op → Q. Applied to ops other than Conv/Gemm/MatMul/Add/Sub/
// Mul/Div (those carry a fused activation after optimize()), e.g. a BatchNormalization after a
// Concat. Returns the number of Relus removed.
int remove_redundant_relus(Graph& g, const CalibTable& table, const PtqOptions& o) {
  if (o.act_symmetric) return 0;
  // int16 values are symmetric (zero point 0): a Relu feeding one must stay. Keep them all.
  for (const auto& [name, p] : o.layer_precision) {
    if (p == LayerPrecision::kInt16) return 0;
  }
  int removed = 0;
  for (bool changed = true; changed;) {
    changed = false;
    for (size_t i = 0; i < g.nodes().size(); ++i) {
      const Node r = g.nodes()[i];
      if (r.op_type != "Relu" || r.inputs.empty() || g.is_graph_output(r.input(0))) continue;
      const Node* p = g.producer(r.input(0));
      if (p == nullptr || p->outputs.size() != 1 || g.consumers(r.input(0)).size() != 1) continue;
      if (!is_quantizable(p->op_type) || is_weighted(p->op_type) || is_pass_through(p->op_type) ||
          p->op_type == "Relu" || p->op_type == "Clip" || p->has("activation")) {
        continue;
      }
      if (!float_reason(g, *p).empty() || table.find(r.outputs[0]) == nullptr) continue;
      const std::string out = r.outputs[0];
      for (Node& n : g.nodes()) {
        if (n.name == p->name) n.outputs[0] = out;
      }
      g.nodes().erase(g.nodes().begin() + static_cast<std::ptrdiff_t>(i));
      ++removed;
      changed = true;
      break;
    }
  }
  if (removed > 0) g.remove_dead_nodes();
  return removed;
}

}  // namespace

std::string_view weight_granularity_name(WeightGranularity g) {
  return g == WeightGranularity::kPerTensor ? "per-tensor" : "per-channel";
}

Result<WeightGranularity> parse_weight_granularity(std::string_view name) {
  if (name == "per-tensor") return WeightGranularity::kPerTensor;
  if (name == "per-channel") return WeightGranularity::kPerChannel;
  return invalid_argument("cannot parse weights: weights = '{}', must be per-tensor|per-channel",
                          name);
}

std::string_view layer_precision_name(LayerPrecision p) {
  switch (p) {
    case LayerPrecision::kInt8:
      return "int8";
    case LayerPrecision::kInt16:
      return "int16";
    case LayerPrecision::kFloat:
      return "float";
  }
  return "?";
}

Result<LayerPrecision> parse_layer_precision(std::string_view name) {
  for (LayerPrecision p : {LayerPrecision::kInt8, LayerPrecision::kInt16, LayerPrecision::kFloat}) {
    if (layer_precision_name(p) == name) return p;
  }
  return invalid_argument(
      "cannot parse layer precision: precision = '{}', must be int8|int16|float", name);
}

CalibParams calib_target(const PtqOptions& o, CalibParams base) {
  base.symmetric = o.act_symmetric;
  base.steps = o.act_symmetric ? 254 : 255;
  return base;
}

Result<QuantizedModel> quantize_model(const Graph& float_graph, const CalibTable& table,
                                      const PtqOptions& o) {
  if (o.act_type != QType::kU8 && o.act_type != QType::kS8) {
    return invalid_argument("cannot quantize model: activation type = {}, must be u8 or s8",
                            qtype_name(o.act_type));
  }
  if (o.act_symmetric && o.act_type != QType::kS8) {
    return invalid_argument(
        "cannot quantize model: symmetric activations with type = u8, must be s8 (u8 activations "
        "are asymmetric)");
  }
  if (o.weight_bits != 8 && o.weight_bits != 4) {
    return invalid_argument("cannot quantize model: weight bits = {}, must be 8 or 4",
                            o.weight_bits);
  }
  EI8_RETURN_IF_ERROR(float_graph.validate());
  for (const auto& [name, prec] : o.layer_precision) {
    const Node* n = node_named(float_graph, name);
    if (n == nullptr || !is_weighted(n->op_type)) {
      return invalid_argument(
          "cannot quantize model: layer '{}' (precision {}) = {}, must be a Conv, Gemm or MatMul "
          "node of the graph",
          name, layer_precision_name(prec),
          n == nullptr ? std::string("not a node") : fmt::format("a {} node", n->op_type));
    }
  }
  Graph work = float_graph;
  remove_redundant_relus(work, table, o);
  const Graph& g = work;
  QuantizedModel m;
  m.act_type = o.act_type;
  m.profile = o.profile;
  const QType act_q = o.act_symmetric ? QType::kS8Symmetric : o.act_type;
  std::set<std::string> excluded(o.exclude_nodes.begin(), o.exclude_nodes.end());
  for (const auto& [name, prec] : o.layer_precision) {
    if (prec == LayerPrecision::kFloat) excluded.insert(name);
  }

  // 1. Which nodes are quantized, and which values carry quantized activations (in order).
  std::vector<const Node*> order = g.topological_order();
  std::set<std::string> quantized_nodes;
  std::vector<std::string> act_values;
  std::set<std::string> act_seen;
  auto add_act = [&](const std::string& v) {
    if (act_seen.insert(v).second) act_values.push_back(v);
  };
  for (const Node* n : order) {
    std::string why = excluded.count(n->name) ? "excluded (kept float)" : float_reason(g, *n);
    if (!why.empty()) {
      m.float_nodes.push_back(n->name);
      m.warnings.push_back(fmt::format("node '{}' ({}) stays float: {}", n->name, n->op_type, why));
      continue;
    }
    quantized_nodes.insert(n->name);
    for (const std::string& in : activation_inputs(g, *n)) add_act(in);
    add_act(n->outputs[0]);
  }

  // 1b. int16 values: the input and output of every int16 layer, closed over the pass-through
  // ops between them (their input and output share parameters, hence the type).
  std::set<std::string> int16;
  for (const auto& [name, prec] : o.layer_precision) {
    if (prec != LayerPrecision::kInt16 || !quantized_nodes.count(name)) continue;
    const Node* n = node_named(g, name);
    int16.insert(n->input(0));
    int16.insert(n->outputs[0]);
  }
  for (bool grew = !int16.empty(); grew;) {
    grew = false;
    for (const Node* n : order) {
      if (!quantized_nodes.count(n->name) || !is_pass_through(n->op_type)) continue;
      const bool in16 = int16.count(n->input(0)) > 0, out16 = int16.count(n->outputs[0]) > 0;
      if (in16 != out16) {
        int16.insert(n->input(0));
        int16.insert(n->outputs[0]);
        grew = true;
      }
    }
  }
  auto value_qtype = [&](const std::string& v) {
    return int16.count(v) ? QType::kS16Symmetric : act_q;
  };

  // 2. Quantization parameters of every activation value.
  std::map<std::string, QuantParams> qp;
  for (const std::string& v : act_values) {
    const Node* p = g.producer(v);
    if (p != nullptr && quantized_nodes.count(p->name) && is_pass_through(p->op_type)) {
      const auto it = qp.find(p->input(0));
      if (it != qp.end()) {
        qp[v] = it->second;
        continue;
      }
    }
    const CalibEntry* e = table.find(v);
    if (e == nullptr) {
      return not_found(
          "cannot quantize value '{}': calibration range = missing, must be in the table "
          "(calibrate the same optimized graph)",
          v);
    }
    const QType vt = value_qtype(v);
    if (vt != QType::kS16Symmetric) warn_if_clipped(*e, m.warnings);
    // int16: the observed range (min/max, as TFLite's 16x8 calibration), not the 8-bit
    // calibrator's clipped one; 65535 steps make clipping cost more than it saves.
    // (The union with the calibrated range, in case a table carries no observed range.)
    const bool observed = vt == QType::kS16Symmetric && std::isfinite(e->observed_min) &&
                          std::isfinite(e->observed_max);
    Result<QuantParams> r =
        choose_qparams(observed ? std::min(e->min, e->observed_min) : e->min,
                       observed ? std::max(e->max, e->observed_max) : e->max, vt);
    if (!r.ok()) return r.status().with_context(fmt::format("value '{}'", v));
    if (!std::isfinite(r->scale) || !(r->scale > 0.0f)) {
      return out_of_range("cannot quantize value '{}': scale = {}, must be finite and > 0", v,
                          r->scale);
    }
    qp[v] = r.value();
  }
  for (const std::string& v : act_values) {
    m.activations.emplace_back(v, qp[v]);
    if (int16.count(v)) m.int16_values.push_back(v);
  }

  // 3. Weighted layers: weights and bias with the overflow guard. The requantizer (multipliers,
  // output clamp of the fused activation) is derived once, by the integer engine's prepare from
  // the QDQ graph (runtime/int8_lowering.h), not here.
  Graph q = g;
  // Geometry of every weighted layer from the layer view (graph/layer_view.h), as the runtime
  // decodes it: the weight axis of output channels and their count.
  Graph shaped = g;
  EI8_RETURN_IF_ERROR(infer_shapes(shaped));
  struct WeightEdit {
    std::string node, w_name, b_name;
    size_t layer;
  };
  std::vector<WeightEdit> edits;
  for (const Node* n : order) {
    if (!quantized_nodes.count(n->name) || !is_weighted(n->op_type)) continue;
    QuantizedLayer L;
    L.node = n->name;
    L.op_type = n->op_type;
    L.input = n->input(0);
    L.output = n->outputs[0];
    L.input_q = qp.at(L.input);
    L.output_q = qp.at(L.output);
    L.act_type = value_qtype(L.input);
    const auto pit = o.layer_precision.find(n->name);
    if (pit != o.layer_precision.end()) L.precision = pit->second;
    const Tensor& w = *g.constant(n->input(1));
    const Node* sn = node_named(shaped, n->name);
    if (sn == nullptr) return internal_error("cannot find node '{}' in the shaped graph", n->name);
    EI8_ASSIGN_OR_RETURN(LayerGeometry geo, decode_layer(shaped, *sn));
    L.weight_axis = geo.weight_channel_axis();
    if (L.weight_axis < 0 || L.weight_axis >= w.rank() ||
        w.dim(L.weight_axis) != geo.out_channels) {
      return invalid_argument(
          "cannot quantize layer '{}': weight channel axis = {}, must index its {} output "
          "channels",
          n->name, L.weight_axis, geo.out_channels);
    }
    const int64_t channels = geo.out_channels;
    const QType w_type = o.weight_bits == 4 ? QType::kS4Symmetric
                         : o.reduce_range   ? QType::kS7Symmetric
                                            : QType::kS8Symmetric;
    L.weight_type = w_type;
    std::vector<QuantParams> wq;
    if (o.weights == WeightGranularity::kPerChannel) {
      EI8_ASSIGN_OR_RETURN(wq, choose_qparams_per_channel(w, L.weight_axis, w_type));
    } else {
      EI8_ASSIGN_OR_RETURN(QuantParams p, choose_qparams(w.span<float>(), w_type));
      wq.assign(1, p);
    }
    for (const QuantParams& p : wq) L.weight_scales.push_back(p.scale);
    // Bias (zeros when absent) with the int32 overflow guard.
    std::vector<float> bias(static_cast<size_t>(channels), 0.0f);
    const bool has_bias = n->inputs.size() > 2 && !n->input(2).empty();
    if (has_bias) {
      const Tensor& b = *g.constant(n->input(2));
      if (b.numel() != channels) {
        return invalid_argument("cannot quantize node '{}': bias size = {}, must be {}", n->name,
                                b.numel(), channels);
      }
      std::copy(b.span<float>().begin(), b.span<float>().end(), bias.begin());
    }
    Result<QuantizedBias> qb = quantize_bias(bias, L.input_q.scale, L.weight_scales);
    if (!qb.ok()) return qb.status().with_context(fmt::format("node '{}'", n->name));
    L.bias_q = qb->values;
    if (!qb->adjusted_channels.empty()) {
      L.weight_scales = qb->weight_scales;
      for (size_t c = 0; c < wq.size(); ++c) wq[c].scale = L.weight_scales[c];
      for (const std::string& s : qb->warnings) {
        m.warnings.push_back(fmt::format("node '{}': {}", n->name, s));
      }
    }
    if (wq.size() == 1) {
      EI8_ASSIGN_OR_RETURN(L.weight_q, quantize(w, wq[0], w_type));
    } else {
      EI8_ASSIGN_OR_RETURN(L.weight_q, quantize_per_channel(w, wq, L.weight_axis, w_type));
    }
    m.weight_bytes_int8 += L.weight_q.numel() + 4 * static_cast<int64_t>(L.bias_q.size());
    edits.push_back(
        {n->name, n->input(1), has_bias ? n->input(2) : std::string(), m.layers.size()});
    m.layers.push_back(std::move(L));
  }

  // 4. The QDQ graph. Weights: s8 initializer → DequantizeLinear (per axis when per channel).
  auto find_node = [&](const std::string& name) -> Node* {
    for (Node& n : q.nodes()) {
      if (n.name == name) return &n;
    }
    return nullptr;
  };
  for (const WeightEdit& e : edits) {
    const QuantizedLayer& L = m.layers[e.layer];
    const bool per_channel = L.weight_scales.size() > 1;
    const std::string base = e.node;
    const std::string wq_name = q.unique_value_name(base + "_weight_quantized");
    q.add_initializer(wq_name, L.weight_q);
    const std::string ws_name = q.unique_value_name(base + "_weight_scale");
    const std::string wz_name = q.unique_value_name(base + "_weight_zero_point");
    const int64_t nc = static_cast<int64_t>(L.weight_scales.size());
    if (per_channel) {
      q.add_initializer(ws_name,
                        Tensor::from<float>(Shape{nc}, std::span<const float>(L.weight_scales)));
      q.add_initializer(wz_name, Tensor::zeros(DType::kS8, Shape{nc}));
    } else {
      q.add_initializer(ws_name, scalar_f32(L.weight_scales[0]));
      q.add_initializer(wz_name, Tensor::zeros(DType::kS8, Shape{}));
    }
    const std::string wdq = q.unique_value_name(base + "_weight_dequantized");
    Node& dqw =
        q.add_node("DequantizeLinear", q.unique_node_name(base + "_weight_DequantizeLinear"),
                   {wq_name, ws_name, wz_name}, {wdq});
    if (per_channel) dqw.set("axis", L.weight_axis);
    Node* n = find_node(e.node);
    n->inputs[1] = wdq;
    if (!e.b_name.empty()) {
      // Bias: int32, scale fl32(s_x·s_w[c]) per output channel, zero point 0.
      const int64_t channels = static_cast<int64_t>(L.bias_q.size());
      std::vector<float> bs(static_cast<size_t>(channels));
      for (int64_t c = 0; c < channels; ++c) {
        bs[static_cast<size_t>(c)] =
            L.input_q.scale * L.weight_scales[per_channel ? static_cast<size_t>(c) : 0];
      }
      const std::string bq_name = q.unique_value_name(base + "_bias_quantized");
      const std::string bs_name = q.unique_value_name(base + "_bias_scale");
      const std::string bz_name = q.unique_value_name(base + "_bias_zero_point");
      const std::string bdq = q.unique_value_name(base + "_bias_dequantized");
      q.add_initializer(bq_name,
                        Tensor::from<int32_t>(Shape{channels}, std::span<const int32_t>(L.bias_q)));
      q.add_initializer(bs_name, Tensor::from<float>(Shape{channels}, std::span<const float>(bs)));
      q.add_initializer(bz_name, Tensor::zeros(DType::kS32, Shape{channels}));
      Node& dqb =
          q.add_node("DequantizeLinear", q.unique_node_name(base + "_bias_DequantizeLinear"),
                     {bq_name, bs_name, bz_name}, {bdq});
      dqb.set("axis", int64_t{0});
      n = find_node(e.node);  // add_node may have moved nodes
      n->inputs[2] = bdq;
    }
  }
  // Activations: v → QuantizeLinear → DequantizeLinear → consumers. A graph output keeps its
  // name: its producer writes "<v>_float" instead, and the DequantizeLinear produces v.
  for (const std::string& v : act_values) {
    const QuantParams p = qp.at(v);
    const std::string scale = q.unique_value_name(v + "_scale");
    const std::string zp = q.unique_value_name(v + "_zero_point");
    q.add_initializer(scale, scalar_f32(p.scale));
    q.add_initializer(zp, scalar_zero_point(p.zero_point, value_qtype(v)));
    const std::string vq = q.unique_value_name(v + "_quantized");
    std::string src = v, dst;
    if (q.is_graph_output(v)) {
      src = q.unique_value_name(v + "_float");
      for (Node& n : q.nodes()) {
        for (std::string& out : n.outputs) {
          if (out == v) out = src;
        }
      }
      Value moved = q.values().at(v);
      moved.name = src;
      q.values()[src] = moved;
      dst = v;
    } else {
      dst = q.unique_value_name(v + "_dequantized");
      q.replace_uses(v, dst);
    }
    q.add_node("QuantizeLinear", q.unique_node_name(v + "_QuantizeLinear"), {src, scale, zp}, {vq});
    q.add_node("DequantizeLinear", q.unique_node_name(v + "_DequantizeLinear"), {vq, scale, zp},
               {dst});
  }
  q.remove_dead_nodes();
  EI8_RETURN_IF_ERROR(q.sort_topologically());
  EI8_RETURN_IF_ERROR(q.validate());
  m.qdq = std::move(q);
  return m;
}

}  // namespace ei8::quant
