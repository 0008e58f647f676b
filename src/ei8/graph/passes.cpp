#include "ei8/graph/passes.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "ei8/graph/shape_inference.h"

namespace ei8 {
namespace {

// Index of the node producing `value` in g.nodes(), or -1.
int64_t producer_index(const Graph& g, const std::string& value) {
  const auto& nodes = g.nodes();
  for (size_t i = 0; i < nodes.size(); ++i) {
    for (const auto& o : nodes[i].outputs) {
      if (o == value) return static_cast<int64_t>(i);
    }
  }
  return -1;
}

// True when `value` is read by exactly one node and is not a graph output.
bool single_use(const Graph& g, const std::string& value) {
  return !g.is_graph_output(value) && g.consumers(value).size() == 1;
}

// Makes node `keep` produce `value_out` in place of `value_in` and drops node `drop`
// (which mapped value_in -> value_out). Precondition: single_use(value_in).
void bypass(Graph& g, size_t keep, const std::string& value_in, size_t drop) {
  const std::string out = g.nodes()[drop].outputs[0];
  for (auto& o : g.nodes()[keep].outputs) {
    if (o == value_in) o = out;
  }
  g.nodes().erase(g.nodes().begin() + static_cast<std::ptrdiff_t>(drop));
  g.values().erase(value_in);
}

// Strides of a contiguous shape.
std::vector<int64_t> strides_of(const Shape& s) {
  std::vector<int64_t> st(s.size(), 1);
  for (size_t i = s.size(); i-- > 1;) st[i - 1] = st[i] * s[i];
  return st;
}

// f32 elementwise with numpy broadcasting.
Result<Tensor> broadcast_binary(const Tensor& a, const Tensor& b, const std::string& op) {
  EI8_ASSIGN_OR_RETURN(Shape out, broadcast_shapes(a.shape(), b.shape()));
  Tensor y = Tensor::zeros(DType::kF32, out);
  const size_t r = out.size();
  auto padded = [&](const Shape& s) {
    Shape p(r - s.size(), 1);
    p.insert(p.end(), s.begin(), s.end());
    return p;
  };
  const Shape sa = padded(a.shape()), sb = padded(b.shape());
  const auto sta = strides_of(sa), stb = strides_of(sb), sto = strides_of(out);
  auto pa = a.span<float>();
  auto pb = b.span<float>();
  auto py = y.span<float>();
  for (int64_t i = 0; i < y.numel(); ++i) {
    int64_t ia = 0, ib = 0, rem = i;
    for (size_t d = 0; d < r; ++d) {
      const int64_t c = rem / sto[d];
      rem %= sto[d];
      if (sa[d] != 1) ia += c * sta[d];
      if (sb[d] != 1) ib += c * stb[d];
    }
    const float u = pa[static_cast<size_t>(ia)], v = pb[static_cast<size_t>(ib)];
    float res = 0;
    if (op == "Add") res = u + v;
    if (op == "Sub") res = u - v;
    if (op == "Mul") res = u * v;
    if (op == "Div") res = u / v;
    py[static_cast<size_t>(i)] = res;
  }
  return y;
}

Tensor transpose(const Tensor& x, const std::vector<int64_t>& perm) {
  Shape out;
  for (int64_t p : perm) out.push_back(x.dim(p));
  Tensor y = Tensor::zeros(x.dtype(), out);
  const auto stx = strides_of(x.shape()), sto = strides_of(out);
  const size_t es = dtype_size(x.dtype());
  for (int64_t i = 0; i < y.numel(); ++i) {
    int64_t src = 0, rem = i;
    for (size_t d = 0; d < out.size(); ++d) {
      const int64_t c = rem / sto[d];
      rem %= sto[d];
      src += c * stx[static_cast<size_t>(perm[d])];
    }
    std::copy_n(x.raw() + static_cast<size_t>(src) * es, es, y.raw() + static_cast<size_t>(i) * es);
  }
  return y;
}

Result<Tensor> concat(const std::vector<const Tensor*>& xs, int64_t axis) {
  Shape out = xs[0]->shape();
  const size_t a = static_cast<size_t>(axis);
  out[a] = 0;
  for (const Tensor* t : xs) out[a] += t->dim(axis);
  Tensor y = Tensor::zeros(xs[0]->dtype(), out);
  int64_t outer = 1;
  for (size_t d = 0; d < a; ++d) outer *= out[d];
  const size_t es = dtype_size(y.dtype());
  std::byte* dst = y.raw();
  for (int64_t o = 0; o < outer; ++o) {
    for (const Tensor* t : xs) {
      const size_t chunk = static_cast<size_t>(t->numel() / std::max<int64_t>(outer, 1)) * es;
      std::copy_n(t->raw() + static_cast<size_t>(o) * chunk, chunk, dst);
      dst += chunk;
    }
  }
  return y;
}

// Evaluates node `n` whose inputs are all constants; nullopt when we do not fold this op.
Result<std::optional<Tensor>> evaluate(const Graph& g, const Node& n) {
  std::vector<const Tensor*> in;
  for (const auto& name : n.inputs) {
    if (name.empty()) continue;
    in.push_back(g.constant(name));
  }
  if (in.empty() || n.outputs.size() != 1) return std::optional<Tensor>{};
  const std::string& op = n.op_type;
  std::vector<Shape> shapes;
  for (const Tensor* t : in) shapes.push_back(t->shape());
  if (op == "Identity" || op == "Reshape" || op == "Flatten" || op == "Squeeze" ||
      op == "Unsqueeze" || op == "Dropout") {
    EI8_ASSIGN_OR_RETURN(auto out, infer_node_shapes(g, n, shapes));
    Tensor y = *in[0];
    EI8_RETURN_IF_ERROR(y.reshape(out[0]));
    return std::optional<Tensor>(std::move(y));
  }
  if (op == "Transpose") {
    EI8_ASSIGN_OR_RETURN(auto out, infer_node_shapes(g, n, shapes));
    std::vector<int64_t> perm = n.attr_ints("perm");
    if (perm.empty()) {
      for (int64_t i = in[0]->rank(); i-- > 0;) perm.push_back(i);
    }
    return std::optional<Tensor>(transpose(*in[0], perm));
  }
  if (op == "Concat") {
    EI8_ASSIGN_OR_RETURN(auto out, infer_node_shapes(g, n, shapes));
    int64_t axis = n.attr_int("axis", 0);
    if (axis < 0) axis += in[0]->rank();
    for (const Tensor* t : in) {
      if (t->dtype() != in[0]->dtype()) return std::optional<Tensor>{};
    }
    EI8_ASSIGN_OR_RETURN(Tensor y, concat(in, axis));
    return std::optional<Tensor>(std::move(y));
  }
  if ((op == "Add" || op == "Sub" || op == "Mul" || op == "Div") && in.size() == 2 &&
      in[0]->dtype() == DType::kF32 && in[1]->dtype() == DType::kF32) {
    EI8_ASSIGN_OR_RETURN(Tensor y, broadcast_binary(*in[0], *in[1], op));
    return std::optional<Tensor>(std::move(y));
  }
  if ((op == "Relu" || op == "Sigmoid" || op == "Tanh") && in[0]->dtype() == DType::kF32) {
    Tensor y = *in[0];
    for (float& v : y.span<float>()) {
      v = op == "Relu"   ? std::max(v, 0.0f)
          : op == "Tanh" ? std::tanh(v)
                         : 1.0f / (1.0f + std::exp(-v));
    }
    return std::optional<Tensor>(std::move(y));
  }
  return std::optional<Tensor>{};
}

}  // namespace

Result<int> fold_constants(Graph& g) {
  int count = 0;
  EI8_RETURN_IF_ERROR(g.sort_topologically());
  for (size_t i = 0; i < g.nodes().size();) {
    const Node& n = g.nodes()[i];
    const bool all_const =
        !n.inputs.empty() && std::all_of(n.inputs.begin(), n.inputs.end(), [&](const auto& s) {
          return s.empty() || g.constant(s) != nullptr;
        });
    if (!all_const) {
      ++i;
      continue;
    }
    EI8_ASSIGN_OR_RETURN(std::optional<Tensor> y, evaluate(g, n));
    if (!y) {
      ++i;
      continue;
    }
    const std::string out = n.outputs[0];
    g.nodes().erase(g.nodes().begin() + static_cast<std::ptrdiff_t>(i));
    g.add_initializer(out, std::move(*y));
    ++count;
  }
  if (count) g.remove_dead_nodes();
  return count;
}

Result<int> remove_noops(Graph& g) {
  int count = 0;
  for (size_t i = 0; i < g.nodes().size();) {
    Node& n = g.nodes()[i];
    bool noop = n.op_type == "Identity" || n.op_type == "Dropout";
    if (n.op_type == "Pad") {
      const auto pads = n.attr_ints("pads");
      noop = std::all_of(pads.begin(), pads.end(), [](int64_t p) { return p == 0; });
    }
    if (!noop || n.inputs.empty() || n.outputs.empty()) {
      // Zero constant Pad of the spatial axes followed by a Conv: merge into the Conv's pads.
      if (n.op_type == "Pad" && n.attr_float("value", 0.0f) == 0.0f &&
          n.attr_string("mode", "constant") == "constant" && single_use(g, n.outputs[0])) {
        const size_t ci = g.consumers(n.outputs[0])[0];
        Node& conv = g.nodes()[ci];
        const auto pads = n.attr_ints("pads");
        const size_t r = pads.size() / 2;
        if (conv.op_type == "Conv" && conv.input(0) == n.outputs[0] && r >= 3 &&
            conv.attr_string("auto_pad", "NOTSET") == "NOTSET" && pads[0] == 0 && pads[1] == 0 &&
            pads[r] == 0 && pads[r + 1] == 0 &&
            std::all_of(pads.begin(), pads.end(), [](int64_t p) { return p >= 0; })) {
          const size_t k = r - 2;
          std::vector<int64_t> cp = conv.attr_ints("pads", std::vector<int64_t>(2 * k, 0));
          if (cp.size() == 2 * k) {
            for (size_t d = 0; d < k; ++d) {
              cp[d] += pads[2 + d];
              cp[k + d] += pads[r + 2 + d];
            }
            conv.set("pads", cp);
            const std::string dead = n.outputs[0];
            conv.inputs[0] = n.inputs[0];
            g.nodes().erase(g.nodes().begin() + static_cast<std::ptrdiff_t>(i));
            g.values().erase(dead);
            ++count;
            continue;
          }
        }
      }
      ++i;
      continue;
    }
    const std::string in = n.inputs[0], out = n.outputs[0];
    if (!g.is_graph_output(out)) {
      g.replace_uses(out, in);
      g.nodes().erase(g.nodes().begin() + static_cast<std::ptrdiff_t>(i));
      g.values().erase(out);
      ++count;
      continue;
    }
    // The output name must survive: rename the producer's output when it is private.
    const int64_t p = producer_index(g, in);
    if (p >= 0 && single_use(g, in)) {
      bypass(g, static_cast<size_t>(p), in, i);
      ++count;
      continue;
    }
    ++i;
  }
  if (count) g.remove_dead_nodes();
  return count;
}

Result<int> fold_batch_norm(Graph& g) {
  int count = 0;
  for (size_t bi = 0; bi < g.nodes().size();) {
    const Node bn = g.nodes()[bi];
    if (bn.op_type != "BatchNormalization" || bn.inputs.size() < 5) {
      ++bi;
      continue;
    }
    const int64_t pi = producer_index(g, bn.inputs[0]);
    const Tensor* gamma = g.constant(bn.inputs[1]);
    const Tensor* beta = g.constant(bn.inputs[2]);
    const Tensor* mean = g.constant(bn.inputs[3]);
    const Tensor* var = g.constant(bn.inputs[4]);
    if (pi < 0 || !single_use(g, bn.inputs[0]) || !gamma || !beta || !mean || !var ||
        gamma->dtype() != DType::kF32) {
      ++bi;
      continue;
    }
    Node& p = g.nodes()[static_cast<size_t>(pi)];
    const Tensor* w = g.constant(p.input(1));
    const int64_t c = gamma->numel();
    bool ok = w && w->dtype() == DType::kF32 && !p.has("activation") && beta->numel() == c &&
              mean->numel() == c && var->numel() == c;
    const bool is_conv = p.op_type == "Conv";
    const bool is_gemm = p.op_type == "Gemm";
    if (ok && is_conv) ok = w->rank() >= 3 && w->dim(0) == c;
    if (ok && is_gemm) {
      const bool tb = p.attr_int("transB", 0) != 0;
      ok = w->rank() == 2 && (tb ? w->dim(0) : w->dim(1)) == c;
    }
    const Tensor* bias = p.input(2).empty() ? nullptr : g.constant(p.input(2));
    if (ok && !p.input(2).empty()) ok = bias && bias->dtype() == DType::kF32 && bias->numel() == c;
    if (!ok || !(is_conv || is_gemm)) {
      ++bi;
      continue;
    }
    const float eps = bn.attr_float("epsilon", 1e-5f);
    std::vector<float> s(static_cast<size_t>(c)), t(static_cast<size_t>(c));
    for (size_t i = 0; i < s.size(); ++i) {
      // y = gamma (x - mean) / sqrt(var + eps) + beta = s x + (beta - s mean)
      s[i] = gamma->span<float>()[i] / std::sqrt(var->span<float>()[i] + eps);
      t[i] = beta->span<float>()[i] - s[i] * mean->span<float>()[i];
    }
    Tensor nw = *w;
    auto wv = nw.span<float>();
    const float alpha = is_gemm ? p.attr_float("alpha", 1.0f) : 1.0f;
    const float gbeta = is_gemm ? p.attr_float("beta", 1.0f) : 1.0f;
    if (is_conv || p.attr_int("transB", 0) != 0) {
      const int64_t per = nw.numel() / c;
      for (int64_t o = 0; o < c; ++o) {
        for (int64_t j = 0; j < per; ++j)
          wv[static_cast<size_t>(o * per + j)] *= s[static_cast<size_t>(o)];
      }
    } else {
      const int64_t k = nw.dim(0);
      for (int64_t r = 0; r < k; ++r) {
        for (int64_t o = 0; o < c; ++o)
          wv[static_cast<size_t>(r * c + o)] *= s[static_cast<size_t>(o)];
      }
    }
    Tensor nb = Tensor::zeros(DType::kF32, {c});
    for (int64_t o = 0; o < c; ++o) {
      const size_t u = static_cast<size_t>(o);
      const float b0 = bias ? gbeta * bias->span<float>()[u] : 0.0f;
      nb.span<float>()[u] = s[u] * b0 + t[u];
    }
    (void)alpha;
    const std::string wname = g.unique_value_name(p.name + ".weight_bn");
    const std::string bname = g.unique_value_name(p.name + ".bias_bn");
    g.add_initializer(wname, std::move(nw));
    g.add_initializer(bname, std::move(nb));
    Node& pp = g.nodes()[static_cast<size_t>(pi)];
    pp.inputs.resize(std::max<size_t>(pp.inputs.size(), 3));
    pp.inputs[1] = wname;
    pp.inputs[2] = bname;
    if (is_gemm) pp.set("beta", 1.0f);
    bypass(g, static_cast<size_t>(pi), bn.inputs[0], bi);
    ++count;
  }
  if (count) g.remove_dead_nodes();
  return count;
}

Result<int> fuse_activations(Graph& g) {
  int count = 0;
  for (size_t ai = 0; ai < g.nodes().size();) {
    const Node act = g.nodes()[ai];
    const bool is_act =
        act.op_type == "Relu" || act.op_type == "Clip" || act.op_type == "LeakyRelu";
    const int64_t pi = is_act && !act.inputs.empty() ? producer_index(g, act.inputs[0]) : -1;
    if (pi < 0 || !single_use(g, act.inputs[0])) {
      ++ai;
      continue;
    }
    Node& p = g.nodes()[static_cast<size_t>(pi)];
    // Conv/Gemm take Relu, Clip and LeakyRelu; elementwise arithmetic (a residual Add) Relu.
    const bool binary =
        p.op_type == "Add" || p.op_type == "Sub" || p.op_type == "Mul" || p.op_type == "Div";
    const bool fits =
        p.op_type == "Conv" || p.op_type == "Gemm" || (binary && act.op_type == "Relu");
    if (!fits || p.has("activation") || (act.op_type == "Clip" && act.inputs.size() > 1)) {
      ++ai;
      continue;
    }
    p.set("activation", act.op_type);
    if (act.op_type == "Clip") {
      p.set("activation_min", act.attr_float("min", -std::numeric_limits<float>::infinity()));
      p.set("activation_max", act.attr_float("max", std::numeric_limits<float>::infinity()));
    }
    if (act.op_type == "LeakyRelu") p.set("activation_alpha", act.attr_float("alpha", 0.01f));
    bypass(g, static_cast<size_t>(pi), act.inputs[0], ai);
    ++count;
  }
  return count;
}

Result<int> fuse_runtime_f32(Graph& g) {
  int count = 0;
  for (size_t i = 0; i < g.nodes().size();) {
    const Node n = g.nodes()[i];
    // BatchNormalization → Relu.
    if (n.op_type == "Relu" && n.inputs.size() == 1) {
      const int64_t pi = producer_index(g, n.inputs[0]);
      if (pi >= 0 && single_use(g, n.inputs[0])) {
        Node& p = g.nodes()[static_cast<size_t>(pi)];
        if (p.op_type == "BatchNormalization" && p.outputs.size() == 1 && !p.has("activation")) {
          p.set("activation", std::string("Relu"));
          bypass(g, static_cast<size_t>(pi), n.inputs[0], i);
          ++count;
          continue;  // node i is gone; the next one moved into its place
        }
      }
    }
    // Mul(x, Sigmoid(x)) or Mul(Sigmoid(x), x), the Sigmoid's output read by that Mul only.
    bool fused = false;
    if (n.op_type == "Mul" && n.inputs.size() == 2 && !n.has("activation")) {
      for (int side = 0; side < 2 && !fused; ++side) {
        const std::string& s_val = n.inputs[static_cast<size_t>(side)];
        const std::string& x_val = n.inputs[static_cast<size_t>(1 - side)];
        const int64_t si = producer_index(g, s_val);
        if (si < 0 || !single_use(g, s_val)) continue;
        Node& sig = g.nodes()[static_cast<size_t>(si)];
        if (sig.op_type != "Sigmoid" || sig.inputs.size() != 1 || sig.inputs[0] != x_val ||
            sig.has("multiply_input")) {
          continue;
        }
        sig.set("multiply_input", int64_t{1});
        bypass(g, static_cast<size_t>(si), s_val, i);  // the Sigmoid takes over the Mul's output
        ++count;
        fused = true;
      }
    }
    if (!fused) ++i;  // else node i is gone and the next one moved into its place
  }
  // Conv → SiLU (a Sigmoid with multiply_input, above): the convolution's epilogue, when the
  // Sigmoid is the conv output's only reader (the kernels compute silu_f32's bits there).
  for (size_t i = 0; i < g.nodes().size();) {
    const Node n = g.nodes()[i];
    if (n.op_type == "Sigmoid" && n.inputs.size() == 1 && n.attr_int("multiply_input", 0) != 0) {
      const int64_t pi = producer_index(g, n.inputs[0]);
      if (pi >= 0 && single_use(g, n.inputs[0])) {
        Node& p = g.nodes()[static_cast<size_t>(pi)];
        if (p.op_type == "Conv" && p.outputs.size() == 1 && !p.has("activation")) {
          p.set("activation", std::string("Silu"));
          bypass(g, static_cast<size_t>(pi), n.inputs[0], i);
          ++count;
          continue;
        }
      }
    }
    ++i;
  }
  return count;
}

Status optimize(Graph& g, const OptimizeOptions& o) {
  EI8_RETURN_IF_ERROR(g.validate());
  if (o.fold_constants) EI8_RETURN_IF_ERROR(fold_constants(g).status());
  if (o.remove_noops) EI8_RETURN_IF_ERROR(remove_noops(g).status());
  if (o.fold_batch_norm) EI8_RETURN_IF_ERROR(fold_batch_norm(g).status());
  if (o.fuse_activations) EI8_RETURN_IF_ERROR(fuse_activations(g).status());
  EI8_RETURN_IF_ERROR(g.sort_topologically());
  return infer_shapes(g);
}

}  // namespace ei8
