#include "ei8/quant/simulate.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include <fmt/format.h>

#include "ei8/fixedpoint/quantize.h"
#include "ei8/graph/shape_inference.h"
#include "ei8/runtime/executor.h"
#include "ei8/runtime/kernels/conv_f32.h"
#include "ei8/runtime/layer_params.h"
#include "ei8/runtime/op.h"

namespace ei8::quant {
namespace {

using fixedpoint::Requantizer;
using fixedpoint::RequantProfile;

bool is_q8(DType t) { return t == DType::kU8 || t == DType::kS8; }
int32_t type_min(DType t) { return t == DType::kU8 ? 0 : -128; }
int32_t type_max(DType t) { return t == DType::kU8 ? 255 : 127; }

int64_t int_at(const Tensor& t, int64_t i) {
  const auto k = static_cast<size_t>(i);
  switch (t.dtype()) {
    case DType::kU8:
      return t.span<uint8_t>()[k];
    case DType::kS8:
      return t.span<int8_t>()[k];
    case DType::kS32:
      return t.span<int32_t>()[k];
    default:
      return 0;
  }
}

// A DequantizeLinear of an activation (runtime codes): per-tensor scale, u8/s8 zero point.
struct ActDq {
  const Node* node = nullptr;
  float scale = 1.0f;
  int32_t zero_point = 0;
  DType type = DType::kU8;
};

std::optional<ActDq> activation_dq(const Graph& g, const std::string& v) {
  const Node* d = g.producer(v);
  if (d == nullptr || d->op_type != "DequantizeLinear" || g.constant(d->input(0)) != nullptr) {
    return std::nullopt;
  }
  const Tensor* s = g.constant(d->input(1));
  if (s == nullptr || s->numel() != 1 || s->dtype() != DType::kF32) return std::nullopt;
  const Value* x = g.find_value(d->input(0));
  if (x == nullptr || !is_q8(x->dtype)) return std::nullopt;
  ActDq a{d, s->span<float>()[0], 0, x->dtype};
  if (!d->input(2).empty()) {
    const Tensor* z = g.constant(d->input(2));
    if (z == nullptr || z->numel() != 1) return std::nullopt;
    a.zero_point = static_cast<int32_t>(int_at(*z, 0));
  }
  return a;
}

// The node reading `v`, when it is the only reader and `v` is no graph output.
const Node* sole_reader(const Graph& g, const std::string& v) {
  const auto r = g.consumers(v);
  if (r.size() != 1 || g.is_graph_output(v)) return nullptr;
  return &g.nodes()[r[0]];
}

// Rewrites one requantizing layer ending in the QuantizeLinear `q_name` (see simulate.h), or
// says why not in `why`. Returns true when rewritten.
bool follow_contract(Graph& g, const std::string& q_name, RequantProfile profile,
                     std::vector<std::string>& notes) {
  auto find = [&](const std::string& name) -> Node* {
    for (Node& n : g.nodes()) {
      if (n.name == name) return &n;
    }
    return nullptr;
  };
  const Node* q = find(q_name);
  if (q == nullptr || q->inputs.size() < 3 || q->input(2).empty()) return false;
  const Tensor* sy = g.constant(q->input(1));
  const Tensor* zy = g.constant(q->input(2));
  if (sy == nullptr || zy == nullptr || sy->numel() != 1 || zy->numel() != 1 ||
      !is_q8(zy->dtype())) {
    return false;
  }
  const DType yt = zy->dtype();
  const float s_y = sy->span<float>()[0];
  const int32_t z_y = static_cast<int32_t>(int_at(*zy, 0));
  // [Relu | Clip] → Q
  const Node* p = g.producer(q->input(0));
  const Node* act = nullptr;
  if (p != nullptr && (p->op_type == "Relu" || p->op_type == "Clip")) {
    if (sole_reader(g, p->outputs[0]) != q) return false;
    act = p;
    p = g.producer(act->input(0));
    if (p == nullptr || sole_reader(g, p->outputs[0]) != act) return false;
  }
  if (p == nullptr || p->outputs.size() != 1) return false;
  const bool pool = p->op_type == "GlobalAveragePool";
  if (p->op_type != "Conv" && p->op_type != "Gemm" && p->op_type != "MatMul" && !pool) {
    return false;
  }
  const auto x = activation_dq(g, p->input(0));
  if (!x) return false;
  // The output clamp: the fused activation and the Relu/Clip node, quantized like the bounds of
  // the integer engine (fixedpoint::quantize, float32 division, RNE).
  float lo = -std::numeric_limits<float>::infinity(), hi = std::numeric_limits<float>::infinity();
  const std::string fused = p->attr_string("activation");
  if (fused == "Relu") {
    lo = 0.0f;
  } else if (fused == "Clip") {
    lo = p->attr_float("activation_min", lo);
    hi = p->attr_float("activation_max", hi);
  } else if (!fused.empty()) {
    notes.push_back(
        fmt::format("simulation: layer '{}' left plain: its fused activation {} is "
                    "no output clamp",
                    p->name, fused));
    return false;
  }
  if (act != nullptr) {
    lo = std::max(lo, act->op_type == "Relu" ? 0.0f : act->attr_float("min", lo));
    hi = std::min(hi, act->op_type == "Relu" ? hi : act->attr_float("max", hi));
  }
  const int32_t qmin = fixedpoint::quantize(lo, s_y, z_y, type_min(yt), type_max(yt));
  const int32_t qmax = fixedpoint::quantize(hi, s_y, z_y, type_min(yt), type_max(yt));

  const std::string base = p->name + "/sim";
  // x − z_x: DequantizeLinear with scale 1 (exact for 8-bit codes).
  const std::string one = g.unique_value_name(base + "_one");
  g.add_initializer(one, Tensor::from<float>({}, {1.0f}));
  std::vector<std::string> xin = {x->node->input(0), one};
  if (!x->node->input(2).empty()) xin.push_back(x->node->input(2));
  const std::string xc = g.unique_value_name(base + "_x");
  const std::string acc = g.unique_value_name(base + "_acc");
  std::vector<float> s_w = {1.0f};
  Node accumulate;
  accumulate.name = g.unique_node_name(base + "_acc");
  accumulate.outputs = {acc};
  std::vector<std::string> new_inputs;
  int64_t count = 0;
  if (pool) {
    const Value* xv = g.find_value(p->input(0));
    if (xv == nullptr || !xv->has_shape || xv->shape.size() < 3) return false;
    count = 1;
    std::vector<int64_t> axes;
    for (size_t k = 2; k < xv->shape.size(); ++k) {
      if (xv->shape[k] < 1) return false;
      count *= xv->shape[k];
      axes.push_back(static_cast<int64_t>(k));
    }
    accumulate.op_type = "ReduceSum";
    accumulate.set("axes", axes);
    accumulate.set("keepdims", int64_t{1});
    accumulate.inputs = {xc};
  } else {
    // Weights: a DequantizeLinear of constant 8-bit codes with zero points 0, per tensor or per
    // output channel (Conv axis 0; Gemm axis 0 with transB, else 1; MatMul axis 1).
    const Node* wd = g.producer(p->input(1));
    if (wd == nullptr || wd->op_type != "DequantizeLinear") return false;
    const Tensor* w = g.constant(wd->input(0));
    const Tensor* ws = g.constant(wd->input(1));
    if (w == nullptr || ws == nullptr || !is_q8(w->dtype()) || w->rank() < 2) return false;
    if (!wd->input(2).empty()) {
      const Tensor* wz = g.constant(wd->input(2));
      if (wz == nullptr) return false;
      for (int64_t i = 0; i < wz->numel(); ++i) {
        if (int_at(*wz, i) != 0) return false;
      }
    }
    if (p->op_type == "Gemm" &&
        (p->attr_int("transA", 0) != 0 || p->attr_float("alpha", 1.0f) != 1.0f ||
         p->attr_float("beta", 1.0f) != 1.0f || w->rank() != 2)) {
      return false;
    }
    if (p->op_type == "MatMul" && w->rank() != 2) return false;
    const bool conv = p->op_type == "Conv";
    const bool trans_b = p->op_type == "Gemm" && p->attr_int("transB", 0) != 0;
    const int64_t axis = conv || trans_b ? 0 : 1;
    const int64_t channels = w->dim(axis);
    if (ws->numel() != 1) {
      int64_t a = wd->attr_int("axis", 1);
      if (a < 0) a += w->rank();
      if (a != axis || ws->numel() != channels) return false;
    }
    s_w.assign(ws->span<float>().begin(), ws->span<float>().end());
    // Bias: absent or a DequantizeLinear of constant int32 codes.
    const Tensor* b = nullptr;
    if (!p->input(2).empty()) {
      const Node* bd = g.producer(p->input(2));
      if (bd == nullptr || bd->op_type != "DequantizeLinear") return false;
      b = g.constant(bd->input(0));
      if (b == nullptr || b->dtype() != DType::kS32 || b->numel() != channels) return false;
    }
    // The codes as float32 (exact), and the accumulator bound per output channel.
    Tensor wc = Tensor::zeros(DType::kF32, w->shape());
    std::vector<double> bound(static_cast<size_t>(channels), 0.0);
    const int64_t per = w->numel() / channels;  // elements per channel
    const double xmax =
        std::max(x->zero_point - type_min(x->type), type_max(x->type) - x->zero_point);
    for (int64_t i = 0; i < w->numel(); ++i) {
      const int64_t v = int_at(*w, i);
      wc.span<float>()[static_cast<size_t>(i)] = static_cast<float>(v);
      const int64_t c = axis == 0 ? i / per : i % channels;
      bound[static_cast<size_t>(c)] += static_cast<double>(std::abs(v)) * xmax;
    }
    new_inputs = {xc, g.unique_value_name(base + "_w")};
    g.add_initializer(new_inputs[1], std::move(wc));
    if (b != nullptr) {
      Tensor bc = Tensor::zeros(DType::kF32, b->shape());
      for (int64_t c = 0; c < channels; ++c) {
        const int64_t v = int_at(*b, c);
        bc.span<float>()[static_cast<size_t>(c)] = static_cast<float>(v);
        bound[static_cast<size_t>(c)] += static_cast<double>(std::abs(v));
      }
      new_inputs.push_back(g.unique_value_name(base + "_b"));
      g.add_initializer(new_inputs[2], std::move(bc));
    }
    const double worst = *std::max_element(bound.begin(), bound.end());
    if (worst >= 16777216.0) {
      notes.push_back(fmt::format(
          "simulation: layer '{}': accumulator bound = {:.0f}, must be < 2^24 for the float sum "
          "to be exact (it may round)",
          p->name, worst));
    }
    accumulate.op_type = p->op_type;
    accumulate.attrs = p->attrs;
    for (const char* a : {"activation", "activation_min", "activation_max", "activation_alpha"}) {
      accumulate.erase(a);
    }
    if (conv) accumulate.set("sim_direct", int64_t{1});
    accumulate.inputs = new_inputs;
  }
  // The requantizing QuantizeLinear: scale input 1/M (what a plain QuantizeLinear of the
  // accumulator would divide by), the contract's parameters as attributes.
  const std::string pname(fixedpoint::profile_name(profile));
  std::vector<float> inv_m(s_w.size());
  for (size_t c = 0; c < s_w.size(); ++c) {
    inv_m[c] = pool ? s_y * static_cast<float>(count) / x->scale : s_y / (x->scale * s_w[c]);
  }
  const std::string mscale = g.unique_value_name(base + "_inv_m");
  g.add_initializer(mscale, inv_m.size() == 1
                                ? Tensor::from<float>({}, {inv_m[0]})
                                : Tensor::from<float>({static_cast<int64_t>(inv_m.size())},
                                                      std::span<const float>(inv_m)));
  Node xnode;
  xnode.op_type = "DequantizeLinear";
  xnode.name = g.unique_node_name(base + "_x");
  xnode.inputs = xin;
  xnode.outputs = {xc};
  Node qnew = *q;
  qnew.inputs = {acc, mscale, q->input(2)};
  qnew.set("axis", int64_t{1});
  qnew.set("requant_profile", pname);
  qnew.set("requant_qmin", int64_t{qmin});
  qnew.set("requant_qmax", int64_t{qmax});
  qnew.set("requant_sx", x->scale);
  qnew.set("requant_sy", s_y);
  if (pool) {
    qnew.set("requant_count", count);
  } else {
    qnew.set("requant_sw", s_w);
  }
  // Replace Q in place; the new nodes are appended (the caller sorts the graph).
  auto& nodes = g.nodes();
  const auto at =
      std::find_if(nodes.begin(), nodes.end(), [&](const Node& n) { return n.name == q_name; });
  *at = std::move(qnew);
  Node& xn = g.add_node(xnode.op_type, xnode.name, xnode.inputs, xnode.outputs);
  xn.attrs = xnode.attrs;
  Node& an = g.add_node(accumulate.op_type, accumulate.name, accumulate.inputs, accumulate.outputs);
  an.attrs = accumulate.attrs;
  return true;
}

// QuantizeLinear: the builtin op, or (with `requant_profile`) the profile's requantizer of an
// accumulator given as integer-valued float32, along axis 1.
class SimQuantizeOp : public Op {
 public:
  Status prepare(const PrepareContext& c) override {
    if (!c.node.has("requant_profile")) {
      inner_ = OpRegistry::builtin().create("QuantizeLinear");
      return inner_->prepare(c);
    }
    auto fail = [&](const std::string& what) {
      return invalid_argument("cannot prepare node '{}' (simulated requantization): {}",
                              c.node.name, what);
    };
    if (c.in_dtypes.size() < 3 || c.in_dtypes[0] != DType::kF32 || !is_q8(c.in_dtypes[2]) ||
        c.constants[2] == nullptr) {
      return fail("inputs = acc f32, scale, zero point u8/s8 constant, must be given");
    }
    EI8_ASSIGN_OR_RETURN(RequantProfile profile,
                         fixedpoint::parse_profile(c.node.attr_string("requant_profile")));
    t_ = c.in_dtypes[2];
    const int32_t zy = static_cast<int32_t>(int_at(*c.constants[2], 0));
    const int32_t qmin = static_cast<int32_t>(c.node.attr_int("requant_qmin", type_min(t_)));
    const int32_t qmax = static_cast<int32_t>(c.node.attr_int("requant_qmax", type_max(t_)));
    const float sx = c.node.attr_float("requant_sx"), sy = c.node.attr_float("requant_sy");
    Result<Requantizer> rq = [&]() -> Result<Requantizer> {
      if (c.node.has("requant_count")) {
        // As the integer pool: M = s_x / (s_y · float(n)) in float32.
        const float m = sx / (sy * static_cast<float>(c.node.attr_int("requant_count")));
        return Requantizer::from_multiplier(profile, static_cast<double>(m), zy, qmin, qmax);
      }
      const std::vector<float> sw = c.node.attr_floats("requant_sw");
      return Requantizer::prepare(profile, sx, sw, sy, zy, qmin, qmax);
    }();
    if (!rq.ok()) return fail(std::string(rq.status().message()));
    rq_ = std::move(rq).value();
    const Shape& s = c.in_shapes[0];
    n_ = shape_numel(s);
    channels_ = s.size() > 1 ? s[1] : 1;
    inner_size_ = 1;
    for (size_t k = 2; k < s.size(); ++k) inner_size_ *= s[k];
    if (rq_.channels() != 1 && rq_.channels() != channels_) {
      return fail(fmt::format("channels = {}, must be {}", rq_.channels(), channels_));
    }
    return {};
  }
  size_t scratch_bytes() const override { return inner_ ? inner_->scratch_bytes() : 0; }
  std::string_view variant() const override { return inner_ ? inner_->variant() : "sim/requant"; }
  void run(std::span<const std::byte* const> in, std::span<std::byte* const> out,
           std::byte* scratch) const override {
    if (inner_) {
      inner_->run(in, out, scratch);
      return;
    }
    const auto* a = reinterpret_cast<const float*>(in[0]);
    for (int64_t i = 0; i < n_; ++i) {
      // The accumulator is an integer-valued float (|acc| < 2^24 under the checked bound).
      const double v = std::clamp(static_cast<double>(a[i]), -2147483648.0, 2147483647.0);
      const auto acc = static_cast<int32_t>(std::nearbyint(v));
      const int32_t y = rq_.apply(acc, (i / inner_size_) % channels_);
      if (t_ == DType::kU8) {
        reinterpret_cast<uint8_t*>(out[0])[i] = static_cast<uint8_t>(y);
      } else {
        reinterpret_cast<int8_t*>(out[0])[i] = static_cast<int8_t>(y);
      }
    }
  }

 private:
  std::unique_ptr<Op> inner_;
  Requantizer rq_;
  DType t_ = DType::kU8;
  int64_t n_ = 0, channels_ = 1, inner_size_ = 1;
};

// Conv: the builtin op, or (with `sim_direct`) the FP32 convolution forced to the direct
// algorithm — Winograd's transforms would round a sum of integers.
class SimConvOp : public Op {
 public:
  Status prepare(const PrepareContext& c) override {
    if (!c.node.has("sim_direct")) {
      inner_ = OpRegistry::builtin().create("Conv");
      return inner_->prepare(c);
    }
    const Tensor* w = c.constants.size() > 1 ? c.constants[1] : nullptr;
    const Tensor* b = c.constants.size() > 2 ? c.constants[2] : nullptr;
    if (w == nullptr || c.in_dtypes[0] != DType::kF32) {
      return invalid_argument(
          "cannot prepare node '{}': weight = runtime tensor, must be a "
          "constant f32 initializer",
          c.node.name);
    }
    EI8_ASSIGN_OR_RETURN(LayerGeometry layer, decode_layer(c.node, c.in_shapes, c.out_shapes));
    const kernels::Conv2dParams p = conv2d_params(layer);
    batch_ = c.in_shapes[0][0];
    auto conv = kernels::Conv2dF32::prepare(p, w->span<float>(),
                                            b ? b->span<float>() : std::span<const float>(),
                                            c.kernel, kernels::ConvAlgorithm::kDirect);
    if (!conv.ok()) return conv.status().with_context(fmt::format("node '{}'", c.node.name));
    conv_.emplace(std::move(conv).value());
    return {};
  }
  size_t scratch_bytes() const override {
    return inner_ ? inner_->scratch_bytes() : conv_->scratch_bytes(1);
  }
  std::string_view variant() const override {
    return inner_ ? inner_->variant() : conv_->variant_name();
  }
  void run(std::span<const std::byte* const> in, std::span<std::byte* const> out,
           std::byte* scratch) const override {
    if (inner_) {
      inner_->run(in, out, scratch);
      return;
    }
    const kernels::Conv2dParams& p = conv_->params();
    const auto* x = reinterpret_cast<const float*>(in[0]);
    auto* y = reinterpret_cast<float*>(out[0]);
    for (int64_t n = 0; n < batch_; ++n) {
      conv_->run(x + n * p.in_size(), y + n * p.out_size(), 1, reinterpret_cast<float*>(scratch));
    }
  }

 private:
  std::unique_ptr<Op> inner_;
  std::optional<kernels::Conv2dF32> conv_;
  int64_t batch_ = 1;
};

}  // namespace

std::shared_ptr<const OpRegistry> simulation_ops() {
  static const std::shared_ptr<const OpRegistry> ops = [] {
    auto r = std::make_shared<OpRegistry>(OpRegistry::builtin());
    r->add("QuantizeLinear", [] { return std::make_unique<SimQuantizeOp>(); });
    r->add("Conv", [] { return std::make_unique<SimConvOp>(); });
    return std::shared_ptr<const OpRegistry>(std::move(r));
  }();
  return ops;
}

// Folds every DequantizeLinear of constants (weights, biases) into a float initializer by running
// the runtime's one DequantizeLinear op on it (OpRegistry::builtin(), int8_ops.h).
Result<Graph> simulation_graph(const Graph& qdq, const SimulationOptions& options) {
  Graph g = qdq;
  if (options.profile) {
    EI8_RETURN_IF_ERROR(infer_shapes(g));
    std::vector<std::string> qs, notes;
    for (const Node* n : g.topological_order()) {
      if (n->op_type == "QuantizeLinear") qs.push_back(n->name);
    }
    for (const std::string& q : qs) follow_contract(g, q, *options.profile, notes);
    EI8_RETURN_IF_ERROR(g.sort_topologically());
    g.remove_dead_nodes();
    if (options.notes != nullptr) {
      options.notes->insert(options.notes->end(), notes.begin(), notes.end());
    }
  }
  std::vector<size_t> folded;
  for (size_t i = 0; i < g.nodes().size(); ++i) {
    const Node& n = g.nodes()[i];
    if (n.op_type != "DequantizeLinear") continue;
    const Tensor* q = g.constant(n.input(0));
    const Tensor* s = g.constant(n.input(1));
    const bool has_z = n.inputs.size() > 2 && !n.input(2).empty();
    const Tensor* z = has_z ? g.constant(n.input(2)) : nullptr;
    if (q == nullptr || s == nullptr || (has_z && z == nullptr)) continue;
    PrepareContext ctx{g, n, {q->shape(), s->shape()}, {q->dtype(), s->dtype()}, {q, s}, {}};
    if (n.inputs.size() > 2) {  // "" (absent) keeps its slot: the op reads node inputs by index
      ctx.in_shapes.push_back(z != nullptr ? z->shape() : Shape{});
      ctx.in_dtypes.push_back(z != nullptr ? z->dtype() : DType::kF32);
      ctx.constants.push_back(z);
    }
    ctx.out_shapes = {q->shape()};
    std::unique_ptr<Op> op = OpRegistry::builtin().create("DequantizeLinear");
    EI8_RETURN_IF_ERROR(op->prepare(ctx));
    Tensor r = Tensor::zeros(DType::kF32, q->shape());
    const std::byte* in[] = {q->raw(), s->raw(), z != nullptr ? z->raw() : nullptr};
    std::byte* out[] = {r.raw()};
    std::vector<std::byte> scratch(op->scratch_bytes());
    op->run(std::span<const std::byte* const>(in, ctx.constants.size()), out, scratch.data());
    Value* v = g.find_value(n.outputs[0]);
    v->dtype = DType::kF32;
    v->shape = r.shape();
    v->has_shape = true;
    v->data = std::move(r);
    folded.push_back(i);
  }
  for (size_t j = folded.size(); j-- > 0;) {
    g.nodes().erase(g.nodes().begin() + static_cast<std::ptrdiff_t>(folded[j]));
  }
  g.remove_dead_nodes();
  EI8_RETURN_IF_ERROR(g.validate());
  return g;
}

std::vector<int64_t> argmax_rows(const Tensor& logits) {
  const int64_t n = logits.rank() == 0 ? 1 : logits.dim(0);
  const int64_t c = n == 0 ? 0 : logits.numel() / n;
  std::vector<int64_t> out(static_cast<size_t>(n), 0);
  const auto v = logits.span<float>();
  for (int64_t i = 0; i < n; ++i) {
    int64_t best = 0;
    for (int64_t j = 1; j < c; ++j) {
      if (v[static_cast<size_t>(i * c + j)] > v[static_cast<size_t>(i * c + best)]) best = j;
    }
    out[static_cast<size_t>(i)] = best;
  }
  return out;
}

Result<Tensor> run_batched(const Graph& g, const Tensor& x, int64_t batch) {
  if (batch < 1) return invalid_argument("cannot run: batch = {}, must be >= 1", batch);
  if (x.rank() < 1 || x.dim(0) == 0) {
    return invalid_argument("cannot run graph '{}': samples = 0, must be >= 1", g.name());
  }
  ExecutorOptions eo;
  eo.optimize = false;
  eo.ops = simulation_ops();
  EI8_ASSIGN_OR_RETURN(Executor ex, Executor::create(g, eo));
  return run_batched(ex, x, batch);
}

Result<Tensor> run_batched(Executor& ex, const Tensor& x, int64_t batch) {
  const Graph& g = ex.graph();
  if (batch < 1) return invalid_argument("cannot run: batch = {}, must be >= 1", batch);
  if (x.rank() < 1 || x.dim(0) == 0) {
    return invalid_argument("cannot run graph '{}': samples = 0, must be >= 1", g.name());
  }
  const int64_t total = x.dim(0), per = x.numel() / total;
  std::vector<float> out;
  Shape out_shape;
  int64_t prepared = 0;
  for (int64_t start = 0; start < total; start += batch) {
    const int64_t b = std::min(batch, total - start);
    if (b != prepared) {
      EI8_RETURN_IF_ERROR(ex.prepare_batch(b));
      prepared = b;
    }
    const auto src =
        x.span<float>().subspan(static_cast<size_t>(start * per), static_cast<size_t>(b * per));
    if (static_cast<size_t>(ex.input(0).numel()) != src.size()) {
      return invalid_argument("cannot run graph '{}': sample shape = {}, must match input {}",
                              g.name(), shape_to_string(x.shape()),
                              shape_to_string(ex.input(0).shape()));
    }
    std::memcpy(ex.input(0).raw(), src.data(), src.size_bytes());
    EI8_RETURN_IF_ERROR(ex.run());
    const Tensor& y = ex.output(0);
    out.insert(out.end(), y.span<float>().begin(), y.span<float>().end());
    out_shape = y.shape();
  }
  out_shape[0] = total;
  return Tensor::from<float>(out_shape, std::span<const float>(out));
}

}  // namespace ei8::quant
