#include "ei8/quant/equalize.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <map>
#include <set>

#include "ei8/graph/layer_view.h"
#include "ei8/graph/shape_inference.h"
#include "ei8/runtime/executor.h"

namespace ei8::quant {
namespace {

// Read/write access to the weights of one Conv or Gemm along its output channels and its input
// channels.
struct LayerWeights {
  Node* node = nullptr;
  Tensor* w = nullptr;
  int64_t out_channels = 0, in_features = 0;  // Conv: C_in; Gemm: K
  // Conv geometry.
  bool conv = false;
  int64_t groups = 1, cin_per_group = 1, kernel = 1;
  bool trans_b = false;  // Gemm

  // fn(value) for every weight of output channel o.
  void for_out(int64_t o, const std::function<void(float&)>& fn) const {
    auto v = w->span<float>();
    if (conv) {
      const int64_t row = cin_per_group * kernel;
      for (int64_t k = 0; k < row; ++k) fn(v[static_cast<size_t>(o * row + k)]);
    } else if (trans_b) {  // [N, K]
      for (int64_t k = 0; k < in_features; ++k) fn(v[static_cast<size_t>(o * in_features + k)]);
    } else {  // [K, N]
      for (int64_t k = 0; k < in_features; ++k) fn(v[static_cast<size_t>(k * out_channels + o)]);
    }
  }
  // fn(output channel, value) for every weight reading input feature k.
  void for_in(int64_t k, const std::function<void(int64_t, float&)>& fn) const {
    auto v = w->span<float>();
    if (conv) {
      const int64_t g = k / cin_per_group, local = k % cin_per_group;
      const int64_t opg = out_channels / groups;
      for (int64_t o = g * opg; o < (g + 1) * opg; ++o) {
        for (int64_t t = 0; t < kernel; ++t) {
          fn(o, v[static_cast<size_t>((o * cin_per_group + local) * kernel + t)]);
        }
      }
    } else if (trans_b) {
      for (int64_t o = 0; o < out_channels; ++o) {
        fn(o, v[static_cast<size_t>(o * in_features + k)]);
      }
    } else {
      for (int64_t o = 0; o < out_channels; ++o) {
        fn(o, v[static_cast<size_t>(k * out_channels + o)]);
      }
    }
  }
  double out_range(int64_t o) const {
    double r = 0;
    for_out(o, [&](float& x) { r = std::max(r, static_cast<double>(std::fabs(x))); });
    return r;
  }
  // Range of the weights reading input channel i (features [i·block, (i+1)·block)).
  double in_range(int64_t i, int64_t block) const {
    double r = 0;
    for (int64_t k = i * block; k < (i + 1) * block; ++k) {
      for_in(k, [&](int64_t, float& x) { r = std::max(r, static_cast<double>(std::fabs(x))); });
    }
    return r;
  }
  double spread() const {
    double lo = std::numeric_limits<double>::infinity(), hi = 0;
    for (int64_t o = 0; o < out_channels; ++o) {
      const double r = out_range(o);
      if (r > 0) {
        lo = std::min(lo, r);
        hi = std::max(hi, r);
      }
    }
    return hi > 0 ? hi / lo : 1.0;
  }
};

// The layer view of `g` (graph/layer_view.h; shapes inferred on a copy): every Conv/Gemm's
// geometry as the runtime decodes it, or why it cannot be decoded. Weights change under CLE,
// geometry does not, so it is decoded once per pass.
struct Views {
  Graph shaped;
  std::map<std::string, LayerGeometry, std::less<>> layers;
  std::map<std::string, std::string, std::less<>> skipped;
};

Result<Views> views_of(const Graph& g) {
  Views v{g, {}, {}};
  EI8_RETURN_IF_ERROR(infer_shapes(v.shaped));
  EI8_ASSIGN_OR_RETURN(LayerView lv, layer_view(v.shaped));
  for (LayerGeometry& l : lv.layers) v.layers.emplace(l.node, std::move(l));
  for (const SkippedLayer& sk : lv.skipped) v.skipped.emplace(sk.node, sk.reason);
  return v;
}

// Weights of `n` when it is a Conv/Gemm with a float constant weight used by no other node;
// otherwise the reason it is not. Geometry from the layer view.
std::string layer_weights(Graph& g, const Views& views, Node& n, LayerWeights& out) {
  if (n.op_type != "Conv" && n.op_type != "Gemm") return "not a Conv/Gemm";
  Value* wv = g.find_value(n.input(1));
  if (wv == nullptr || !wv->data || wv->data->dtype() != DType::kF32) {
    return "weight is not a float constant";
  }
  if (g.consumers(n.input(1)).size() != 1) return "weight shared with another node";
  if (n.inputs.size() > 2 && !n.input(2).empty()) {
    const Value* b = g.find_value(n.input(2));
    if (b == nullptr || !b->data || b->data->dtype() != DType::kF32) {
      return "bias is not a float constant";
    }
    if (g.consumers(n.input(2)).size() != 1) return "bias shared with another node";
  }
  const auto it = views.layers.find(n.name);
  if (it == views.layers.end()) {
    const auto sk = views.skipped.find(n.name);
    return fmt::format("layer view: {}", sk != views.skipped.end() ? sk->second : "not decoded");
  }
  const LayerGeometry& l = it->second;
  Tensor& w = *wv->data;
  if (w.numel() != l.weight_numel()) return "weight size differs from the layer view's";
  out = LayerWeights{};
  out.node = &n;
  out.w = &w;
  if (l.kind == LayerKind::kConv) {
    out.conv = true;
    out.groups = l.groups;
    out.out_channels = l.out_channels;
    out.cin_per_group = l.in_channels_per_group();
    out.in_features = l.in_channels;
    out.kernel = l.kernel_h * l.kernel_w;
    return {};
  }
  if (l.weight_rank != 2 || l.trans_a || l.alpha != 1.0f || l.beta != 1.0f) {
    return "Gemm with transA, alpha or beta other than the defaults";
  }
  out.trans_b = l.trans_b;
  out.out_channels = l.out_channels;
  out.in_features = l.in_channels;
  return {};
}

float* bias_data(Graph& g, const Node& n) {
  if (n.inputs.size() < 3 || n.input(2).empty()) return nullptr;
  Value* b = g.find_value(n.input(2));
  return b != nullptr && b->data ? b->data->data<float>() : nullptr;
}

struct Pair {
  std::string first, second;
  std::vector<std::string> via;  // op types between
  int64_t block = 1;             // input features of `second` per channel of `first`
  bool relu = false;             // a ReLU (fused or not) right after `first`
  bool zero_padding_ok = true;   // the shift c survives every op on the way (bias absorption)
};

std::string via_text(const std::vector<std::string>& via) {
  std::string s;
  for (const std::string& v : via) s += (s.empty() ? "" : ",") + v;
  return s;
}

bool has_nonzero_pads(const Views& views, const Node& n) {
  if (const auto it = views.layers.find(n.name); it != views.layers.end()) {
    const LayerGeometry& l = it->second;
    return l.pad_top != 0 || l.pad_left != 0 || l.pad_bottom != 0 || l.pad_right != 0;
  }
  for (int64_t p : n.attr_ints("pads")) {
    if (p != 0) return true;
  }
  const std::string ap = n.attr_string("auto_pad", "NOTSET");
  return ap == "SAME_UPPER" || ap == "SAME_LOWER";
}

Node* node_by_name(Graph& g, const std::string& name) {
  for (Node& n : g.nodes()) {
    if (n.name == name) return &n;
  }
  return nullptr;
}

// True when a Conv/Gemm reads `v` or anything computed from it.
bool reaches_layer(const Graph& g, const std::string& v) {
  std::vector<std::string> todo = {v};
  std::set<std::string> seen;
  while (!todo.empty()) {
    const std::string x = todo.back();
    todo.pop_back();
    if (!seen.insert(x).second) continue;
    for (size_t c : g.consumers(x)) {
      const Node& n = g.nodes()[c];
      if (n.op_type == "Conv" || n.op_type == "Gemm") return true;
      for (const std::string& o : n.outputs) todo.push_back(o);
    }
  }
  return false;
}

// Every Conv/Gemm → (positive-homogeneous ops) → Conv/Gemm pair of `g`; notes for the chains
// that stop on something else.
std::vector<Pair> find_pairs(Graph& g, const Views& views, std::vector<std::string>& notes) {
  std::vector<Pair> pairs;
  for (const Node* n1c : g.topological_order()) {
    Node& n1 = *node_by_name(g, n1c->name);
    LayerWeights l1;
    if (!layer_weights(g, views, n1, l1).empty()) continue;
    Pair p;
    p.first = n1.name;
    const std::string act = n1.attr_string("activation");
    if (!act.empty()) {
      if (act != "Relu" && act != "LeakyRelu") {
        notes.push_back(fmt::format(
            "CLE skipped after '{}': its fused activation {} is not positive-homogeneous "
            "(f(x/s) != f(x)/s; ReLU6/Clip bounds would move per channel)",
            n1.name, act));
        continue;
      }
      p.via.push_back(act);
      p.relu = act == "Relu";
    }
    std::string v = n1.outputs[0];
    std::string stop;
    Node* n2 = nullptr;
    while (stop.empty()) {
      if (g.is_graph_output(v)) {
        stop = "its output is a graph output";
        break;
      }
      const auto readers = g.consumers(v);
      if (readers.empty()) {
        stop = "its output is not read";
        break;
      }
      if (readers.size() != 1) {
        stop = fmt::format("'{}' is read by {} nodes", v, readers.size());
        break;
      }
      Node& c = g.nodes()[readers[0]];
      if ((c.op_type == "Conv" || c.op_type == "Gemm") && c.input(0) == v) {
        n2 = &c;
        break;
      }
      const std::string& op = c.op_type;
      if (op == "Relu" || op == "LeakyRelu" || op == "MaxPool" || op == "GlobalMaxPool" ||
          op == "AveragePool" || op == "GlobalAveragePool") {
        if (op == "Relu" && p.via.empty()) p.relu = true;
        if (op == "AveragePool" && has_nonzero_pads(views, c) &&
            c.attr_int("count_include_pad", 0) != 0) {
          p.zero_padding_ok = false;
        }
        p.via.push_back(op);
        v = c.outputs[0];
        continue;
      }
      if (op == "Flatten") {
        const Value* in = views.shaped.find_value(v);
        if (c.attr_int("axis", 1) != 1 || in == nullptr || !in->has_shape || in->shape.size() < 2) {
          stop = "a Flatten whose axis is not 1 (or of unknown shape)";
          break;
        }
        for (size_t d = 2; d < in->shape.size(); ++d) p.block *= in->shape[d];
        p.via.push_back(op);
        v = c.outputs[0];
        continue;
      }
      stop =
          fmt::format("'{}' ({}) is not positive-homogeneous or not a channel-wise op", c.name, op);
    }
    if (n2 == nullptr) {
      // The network's last layer ends its chain without a note; a chain cut short before
      // another Conv/Gemm is named.
      if (stop.rfind("its output", 0) != 0 && reaches_layer(g, v)) {
        notes.push_back(fmt::format("CLE skipped after '{}': {}", n1.name, stop));
      }
      continue;
    }
    LayerWeights l2;
    const std::string why = layer_weights(g, views, *n2, l2);
    if (!why.empty()) {
      notes.push_back(fmt::format("CLE skipped for '{}' -> '{}': {}", n1.name, n2->name, why));
      continue;
    }
    if (l2.in_features != l1.out_channels * p.block) {
      notes.push_back(
          fmt::format("CLE skipped for '{}' -> '{}': input features = {}, must be {} channels x {}",
                      n1.name, n2->name, l2.in_features, l1.out_channels, p.block));
      continue;
    }
    if (l2.conv && p.block != 1) {
      notes.push_back(
          fmt::format("CLE skipped for '{}' -> '{}': a Flatten before a Conv", n1.name, n2->name));
      continue;
    }
    p.second = n2->name;
    if (l2.conv && has_nonzero_pads(views, *n2)) p.zero_padding_ok = false;
    pairs.push_back(std::move(p));
  }
  return pairs;
}

}  // namespace

Result<EqualizeReport> equalize_cross_layer(Graph& g, const EqualizeOptions& o) {
  if (o.max_iterations < 1 || !(o.tolerance > 0.0)) {
    return invalid_argument(
        "cannot equalize graph '{}': max_iterations = {}, tolerance = {}, must be >= 1 and > 0",
        g.name(), o.max_iterations, o.tolerance);
  }
  EqualizeReport r;
  EI8_ASSIGN_OR_RETURN(const Views views, views_of(g));
  std::vector<Pair> pairs = find_pairs(g, views, r.notes);
  auto weights = [&](const std::string& name) {
    LayerWeights l;
    (void)layer_weights(g, views, *node_by_name(g, name), l);
    return l;
  };
  for (const Pair& p : pairs) {
    EqualizedPair e;
    e.first = p.first;
    e.second = p.second;
    e.via = via_text(p.via);
    e.channels = weights(p.first).out_channels;
    e.first_spread_before = weights(p.first).spread();
    e.second_spread_before = weights(p.second).spread();
    r.pairs.push_back(e);
  }
  for (int it = 0; it < o.max_iterations && !pairs.empty(); ++it) {
    double worst = 0;
    for (const Pair& p : pairs) {
      const LayerWeights l1 = weights(p.first), l2 = weights(p.second);
      float* b1 = bias_data(g, *l1.node);
      for (int64_t i = 0; i < l1.out_channels; ++i) {
        const double r1 = l1.out_range(i), r2 = l2.in_range(i, p.block);
        if (!(r1 > 0) || !(r2 > 0)) continue;
        const double s = std::sqrt(r1 / r2);
        worst = std::max(worst, std::fabs(s - 1.0));
        const float inv = static_cast<float>(1.0 / s), mul = static_cast<float>(s);
        l1.for_out(i, [&](float& x) { x *= inv; });
        if (b1 != nullptr) b1[i] *= inv;
        for (int64_t k = i * p.block; k < (i + 1) * p.block; ++k) {
          l2.for_in(k, [&](int64_t, float& x) { x *= mul; });
        }
      }
    }
    r.iterations = it + 1;
    if (worst <= o.tolerance) {
      r.converged = true;
      break;
    }
  }
  if (pairs.empty()) r.converged = true;
  for (size_t k = 0; k < pairs.size(); ++k) {
    r.pairs[k].first_spread_after = weights(pairs[k].first).spread();
    r.pairs[k].second_spread_after = weights(pairs[k].second).spread();
  }
  if (!r.converged) {
    r.notes.push_back(
        fmt::format("CLE stopped after {} sweeps before every scale settled within "
                    "1 +- {} (the function is preserved either way)",
                    r.iterations, o.tolerance));
  }
  return r;
}

Result<AbsorbReport> absorb_high_biases(Graph& g, const Tensor& calib, const AbsorbOptions& o) {
  if (o.batch < 1) {
    return invalid_argument("cannot absorb biases: batch = {}, must be >= 1", o.batch);
  }
  if (calib.rank() < 1 || calib.dim(0) < 1) {
    return invalid_argument("cannot absorb biases: calibration samples = 0, must be >= 1");
  }
  AbsorbReport r;
  std::vector<std::string> ignored;
  EI8_ASSIGN_OR_RETURN(const Views views, views_of(g));
  std::vector<Pair> pairs = find_pairs(g, views, ignored);
  std::vector<Pair> usable;
  for (const Pair& p : pairs) {
    if (!p.relu) continue;
    if (!p.zero_padding_ok) {
      r.notes.push_back(fmt::format(
          "bias absorption skipped for '{}' -> '{}': '{}' pads with zeros, which would not carry "
          "the shifted bias",
          p.first, p.second, p.second));
      continue;
    }
    usable.push_back(p);
  }
  if (usable.empty()) return r;
  // Smallest value of each channel of every first layer's output on the calibration data.
  Graph probe = g;
  for (const Pair& p : usable) {
    const std::string out = node_by_name(g, p.first)->outputs[0];
    if (!probe.is_graph_output(out)) probe.add_output(out);
  }
  ExecutorOptions eo;
  eo.optimize = false;
  EI8_ASSIGN_OR_RETURN(Executor ex, Executor::create(std::move(probe), eo));
  std::vector<std::vector<double>> mins(usable.size());
  const int64_t n = calib.dim(0), per = calib.numel() / n;
  for (int64_t start = 0; start < n; start += o.batch) {
    const int64_t b = std::min(o.batch, n - start);
    EI8_RETURN_IF_ERROR(ex.prepare_batch(b));
    std::memcpy(ex.input(0).raw(), calib.raw() + static_cast<size_t>(start * per) * sizeof(float),
                static_cast<size_t>(b * per) * sizeof(float));
    EI8_RETURN_IF_ERROR(ex.run());
    for (size_t k = 0; k < usable.size(); ++k) {
      const std::string out = node_by_name(g, usable[k].first)->outputs[0];
      const auto& outs = ex.graph().outputs();
      const size_t idx =
          static_cast<size_t>(std::find(outs.begin(), outs.end(), out) - outs.begin());
      const Tensor& t = ex.output(idx);
      const int64_t c = t.dim(1), inner = t.numel() / (t.dim(0) * c);
      if (mins[k].empty())
        mins[k].assign(static_cast<size_t>(c), std::numeric_limits<double>::infinity());
      const auto v = t.span<float>();
      for (int64_t s = 0; s < t.dim(0); ++s) {
        for (int64_t ch = 0; ch < c; ++ch) {
          double& m = mins[k][static_cast<size_t>(ch)];
          for (int64_t i = 0; i < inner; ++i) {
            m = std::min(m, static_cast<double>(v[static_cast<size_t>((s * c + ch) * inner + i)]));
          }
        }
      }
    }
  }
  for (size_t k = 0; k < usable.size(); ++k) {
    const Pair& p = usable[k];
    LayerWeights l1, l2;
    (void)layer_weights(g, views, *node_by_name(g, p.first), l1);
    (void)layer_weights(g, views, *node_by_name(g, p.second), l2);
    float* b1 = bias_data(g, *l1.node);
    AbsorbedLayer a{.first = p.first, .second = p.second};
    std::vector<double> shift(static_cast<size_t>(l1.out_channels), 0.0);
    for (int64_t i = 0; i < l1.out_channels && b1 != nullptr; ++i) {
      const double c = mins[k][static_cast<size_t>(i)];
      if (!(c > 0) || !std::isfinite(c)) continue;
      shift[static_cast<size_t>(i)] = c;
      ++a.channels_absorbed;
      a.max_shift = std::max(a.max_shift, c);
    }
    if (a.channels_absorbed == 0) continue;
    // b2 += W2·c: every weight reading channel i adds w·c_i to its output's bias.
    std::vector<double> add(static_cast<size_t>(l2.out_channels), 0.0);
    for (int64_t i = 0; i < l1.out_channels; ++i) {
      const double c = shift[static_cast<size_t>(i)];
      if (c == 0) continue;
      b1[i] = static_cast<float>(static_cast<double>(b1[i]) - c);
      for (int64_t f = i * p.block; f < (i + 1) * p.block; ++f) {
        l2.for_in(f, [&](int64_t out, float& w) { add[static_cast<size_t>(out)] += w * c; });
      }
    }
    Node* n2 = node_by_name(g, p.second);
    if (bias_data(g, *n2) == nullptr) {
      const std::string name = g.unique_value_name(n2->name + "_absorbed_bias");
      g.add_initializer(name, Tensor::zeros(DType::kF32, {l2.out_channels}));
      n2 = node_by_name(g, p.second);
      n2->inputs.resize(3);
      n2->inputs[2] = name;
    }
    float* b2 = bias_data(g, *n2);
    for (int64_t out = 0; out < l2.out_channels; ++out) {
      b2[out] = static_cast<float>(static_cast<double>(b2[out]) + add[static_cast<size_t>(out)]);
    }
    r.layers.push_back(a);
  }
  return r;
}

}  // namespace ei8::quant
