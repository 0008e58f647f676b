#include "ei8/quant/recovery.h"

#include <algorithm>
#include <chrono>
#include <climits>
#include <cmath>
#include <cstring>
#include <functional>

#include "ei8/core/rng.h"
#include "ei8/fixedpoint/rounding.h"
#include "ei8/graph/layer_view.h"
#include "ei8/graph/shape_inference.h"
#include "ei8/quant/simulate.h"
#include "ei8/runtime/executor.h"

namespace ei8::quant {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

Node* node_named(Graph& g, std::string_view name) {
  for (Node& n : g.nodes()) {
    if (n.name == name) return &n;
  }
  return nullptr;
}

void drop_activation(Node& n) {
  for (const char* a : {"activation", "activation_min", "activation_max", "activation_alpha"}) {
    n.erase(a);
  }
}

// An executor over `g` reading `names` as outputs, run batch by batch over calibration samples.
class BatchRunner {
 public:
  static Result<BatchRunner> create(Graph g, const std::vector<std::string>& names) {
    for (const std::string& v : names) {
      if (!g.is_graph_output(v)) g.add_output(v);
    }
    ExecutorOptions eo;
    eo.optimize = false;
    EI8_ASSIGN_OR_RETURN(Executor ex, Executor::create(std::move(g), eo));
    BatchRunner r{std::move(ex)};
    for (const std::string& v : names) {
      const auto& outs = r.ex_.graph().outputs();
      r.idx_.push_back(static_cast<size_t>(std::find(outs.begin(), outs.end(), v) - outs.begin()));
    }
    return r;
  }
  // Runs samples [start, start + b) of `x`; output(k) is names[k] of that batch.
  Status run(const Tensor& x, int64_t start, int64_t b) {
    if (b != prepared_) {
      EI8_RETURN_IF_ERROR(ex_.prepare_batch(b));
      prepared_ = b;
    }
    const int64_t per = x.numel() / x.dim(0);
    std::memcpy(ex_.input(0).raw(), x.raw() + static_cast<size_t>(start * per) * sizeof(float),
                static_cast<size_t>(b * per) * sizeof(float));
    return ex_.run();
  }
  const Tensor& output(size_t k) const { return ex_.output(idx_[k]); }

 private:
  explicit BatchRunner(Executor ex) : ex_(std::move(ex)) {}
  Executor ex_;
  std::vector<size_t> idx_;
  int64_t prepared_ = 0;
};

Status check_calib(const Tensor& calib, std::string_view what) {
  if (calib.dtype() != DType::kF32 || calib.rank() < 1 || calib.dim(0) < 1) {
    return invalid_argument("cannot run {}: calibration samples = 0 (or not f32), must be >= 1",
                            what);
  }
  return {};
}

// The int32 bias initializer and the bias scales of node `name` in a QDQ graph (nullptr when it
// has no DequantizeLinear'd int32 bias).
struct QdqBias {
  Tensor* values = nullptr;
  const Tensor* scales = nullptr;
};
QdqBias qdq_bias(Graph& qdq, const std::string& name) {
  Node* n = node_named(qdq, name);
  if (n == nullptr || n->inputs.size() < 3 || n->input(2).empty()) return {};
  const Node* d = qdq.producer(n->input(2));
  if (d == nullptr || d->op_type != "DequantizeLinear") return {};
  Value* v = qdq.find_value(d->input(0));
  const Tensor* s = qdq.constant(d->input(1));
  if (v == nullptr || !v->data || v->data->dtype() != DType::kS32 || s == nullptr) return {};
  return {&*v->data, s};
}

// The s8 weight initializer of node `name` in a QDQ graph.
Tensor* qdq_weight(Graph& qdq, const std::string& name) {
  Node* n = node_named(qdq, name);
  if (n == nullptr || n->inputs.size() < 2) return nullptr;
  const Node* d = qdq.producer(n->input(1));
  if (d == nullptr || d->op_type != "DequantizeLinear") return nullptr;
  Value* v = qdq.find_value(d->input(0));
  return v != nullptr && v->data && v->data->dtype() == DType::kS8 ? &*v->data : nullptr;
}

// Per-channel means (axis 1) of a stream of [b, C, ...] tensors.
struct ChannelMeans {
  std::vector<double> sum;
  int64_t count = 0;  // values per channel
  void add(const Tensor& t) {
    const int64_t b = t.dim(0), c = t.rank() > 1 ? t.dim(1) : 1;
    const int64_t inner = t.numel() / std::max<int64_t>(1, b * c);
    if (sum.empty()) sum.assign(static_cast<size_t>(c), 0.0);
    const auto v = t.span<float>();
    for (int64_t s = 0; s < b; ++s) {
      for (int64_t ch = 0; ch < c; ++ch) {
        double acc = 0;
        for (int64_t i = 0; i < inner; ++i) acc += v[static_cast<size_t>((s * c + ch) * inner + i)];
        sum[static_cast<size_t>(ch)] += acc;
      }
    }
    count += b * inner;
  }
  double mean(size_t ch) const { return count > 0 ? sum[ch] / static_cast<double>(count) : 0.0; }
};

}  // namespace

int add_zero_biases(Graph& g) {
  int added = 0;
  for (size_t i = 0; i < g.nodes().size(); ++i) {
    Node n = g.nodes()[i];
    if (n.op_type != "Conv" && n.op_type != "Gemm") continue;
    if (n.inputs.size() > 2 && !n.input(2).empty()) continue;
    const Tensor* w = g.constant(n.input(1));
    if (w == nullptr || w->rank() < 2) continue;
    if (n.op_type == "Gemm" && n.attr_float("beta", 1.0f) != 1.0f) continue;
    const int64_t c = n.op_type == "Conv" || n.attr_int("transB", 0) != 0 ? w->dim(0) : w->dim(1);
    const std::string name = g.unique_value_name(n.name + "_zero_bias");
    g.add_initializer(name, Tensor::zeros(DType::kF32, {c}));
    Node& m = g.nodes()[i];
    m.inputs.resize(3);
    m.inputs[2] = name;
    ++added;
  }
  return added;
}

Result<BiasCorrectionReport> correct_bias(const Graph& g, QuantizedModel& m, const Tensor& calib,
                                          const BiasCorrectionOptions& o) {
  EI8_RETURN_IF_ERROR(check_calib(calib, "bias correction"));
  if (o.batch < 1 || o.max_samples < 1) {
    return invalid_argument(
        "cannot run bias correction: batch = {}, max_samples = {}, must be >= 1", o.batch,
        o.max_samples);
  }
  const auto t0 = Clock::now();
  BiasCorrectionReport r;
  const int64_t n = std::min(calib.dim(0), o.max_samples);
  for (QuantizedLayer& L : m.layers) {
    QdqBias qb = qdq_bias(m.qdq, L.node);
    if (qb.values == nullptr) {
      r.notes.push_back(fmt::format(
          "bias correction skipped for '{}': no int32 bias (add_zero_biases before quantizing)",
          L.node));
      continue;
    }
    // Pre-activation output of the float layer and of the quantized one (QDQ simulation).
    Graph f = g;
    Node* fn = node_named(f, L.node);
    if (fn == nullptr) {
      return not_found(
          "cannot correct bias of '{}': node = missing from the float graph, must be "
          "the graph the model was quantized from",
          L.node);
    }
    drop_activation(*fn);
    const std::string f_out = fn->outputs[0];
    EI8_ASSIGN_OR_RETURN(Graph s, simulation_graph(m.qdq));
    Node* sn = node_named(s, L.node);
    if (sn == nullptr) return internal_error("cannot find node '{}' in the QDQ graph", L.node);
    drop_activation(*sn);
    const std::string s_out = sn->outputs[0];
    EI8_ASSIGN_OR_RETURN(BatchRunner rf, BatchRunner::create(std::move(f), {f_out}));
    EI8_ASSIGN_OR_RETURN(BatchRunner rs, BatchRunner::create(std::move(s), {s_out}));
    ChannelMeans mf, ms;
    for (int64_t start = 0; start < n; start += o.batch) {
      const int64_t b = std::min(o.batch, n - start);
      EI8_RETURN_IF_ERROR(rf.run(calib, start, b));
      EI8_RETURN_IF_ERROR(rs.run(calib, start, b));
      mf.add(rf.output(0));
      ms.add(rs.output(0));
    }
    auto bias = qb.values->span<int32_t>();
    const auto scales = qb.scales->span<float>();
    if (mf.sum.size() != bias.size() || ms.sum.size() != bias.size()) {
      r.notes.push_back(fmt::format("bias correction skipped for '{}': channels = {}, bias = {}",
                                    L.node, mf.sum.size(), bias.size()));
      continue;
    }
    BiasCorrectionLayer bl{.node = L.node, .channels = static_cast<int64_t>(bias.size())};
    for (size_t c = 0; c < bias.size(); ++c) {
      const double delta = mf.mean(c) - ms.mean(c);
      const double scale = scales[scales.size() > 1 ? c : 0];
      const double steps = fixedpoint::round_half_even(delta / scale);
      const double nb = std::clamp(static_cast<double>(bias[c]) + steps,
                                   static_cast<double>(INT32_MIN), static_cast<double>(INT32_MAX));
      bl.max_shift_steps =
          std::max(bl.max_shift_steps, static_cast<int64_t>(std::fabs(nb - bias[c])));
      bl.mean_abs_shift += std::fabs(delta) / static_cast<double>(bias.size());
      bias[c] = static_cast<int32_t>(nb);
      if (c < L.bias_q.size()) L.bias_q[c] = bias[c];
    }
    r.layers.push_back(bl);
  }
  r.seconds = seconds_since(t0);
  return r;
}

namespace {

// Patch geometry of a layer: how its input tensor [N, C, (H,) W] becomes K-vectors per group.
struct Patches {
  bool conv = false;
  int64_t groups = 1, cpg = 1, kh = 1, kw = 1, sh = 1, sw = 1, dh = 1, dw = 1, ph = 0, pw = 0;
  int64_t c = 0, h = 1, w = 1, oh = 1, ow = 1;
  int64_t features() const { return conv ? cpg * kh * kw : c; }
  int64_t positions() const { return conv ? oh * ow : 1; }
  // Column (sample s of `x`, position p, group g) into `out` [features()].
  void column(const float* x, int64_t s, int64_t p, int64_t g, float* out) const {
    if (!conv) {
      std::memcpy(out, x + s * c, static_cast<size_t>(c) * sizeof(float));
      return;
    }
    const int64_t oy = p / ow, ox = p % ow;
    int64_t j = 0;
    for (int64_t cl = 0; cl < cpg; ++cl) {
      const float* plane = x + ((s * c) + g * cpg + cl) * h * w;
      for (int64_t ky = 0; ky < kh; ++ky) {
        const int64_t iy = oy * sh - ph + ky * dh;
        for (int64_t kx = 0; kx < kw; ++kx, ++j) {
          const int64_t ix = ox * sw - pw + kx * dw;
          out[j] = (iy < 0 || iy >= h || ix < 0 || ix >= w) ? 0.0f : plane[iy * w + ix];
        }
      }
    }
  }
};

// The patches of a layer from its geometry in the layer view (graph/layer_view.h), as the
// runtime's operators read it: strides, dilations, pads (auto_pad resolved), groups.
Result<Patches> patches_of(const LayerGeometry& l) {
  Patches p;
  if (l.kind == LayerKind::kFullyConnected) {
    if (l.rows_per_sample != 1 || l.weight_batches != 1 || l.trans_a) {
      return unsupported(
          "cannot AdaRound '{}': rows per sample = {}, must be 1 (a [N, K] input, one weight "
          "matrix, A not transposed)",
          l.node, l.rows_per_sample);
    }
    p.c = l.in_channels;
    return p;
  }
  if (l.kind != LayerKind::kConv) {
    return unsupported("cannot AdaRound '{}': layer kind = {}, must be conv or fc", l.node,
                       layer_kind_name(l.kind));
  }
  p.conv = true;
  p.groups = l.groups;
  p.cpg = l.in_channels_per_group();
  p.c = l.in_channels;
  p.h = l.in_h;
  p.w = l.in_w;
  p.kh = l.kernel_h;
  p.kw = l.kernel_w;
  p.sh = l.stride_h;
  p.sw = l.stride_w;
  p.dh = l.dilation_h;
  p.dw = l.dilation_w;
  p.ph = l.pad_top;
  p.pw = l.pad_left;
  p.oh = l.out_h;
  p.ow = l.out_w;
  return p;
}

// Index of weight (output channel o, feature j of its group) in the weight tensor.
struct WeightIndex {
  int64_t out = 0, k = 0;  // output channels, features per group
  bool kn = false;         // [K, N] layout (Gemm transB = 0, MatMul)
  size_t operator()(int64_t o, int64_t j) const {
    return static_cast<size_t>(kn ? j * out + o : o * k + j);
  }
};

double rect_sigmoid(double v) {
  constexpr double kZeta = 1.1, kGamma = -0.1;
  return std::clamp(1.0 / (1.0 + std::exp(-v)) * (kZeta - kGamma) + kGamma, 0.0, 1.0);
}

}  // namespace

Result<AdaRoundReport> adaround_weights(const Graph& g, QuantizedModel& m, const Tensor& calib,
                                        const AdaRoundOptions& o) {
  EI8_RETURN_IF_ERROR(check_calib(calib, "AdaRound"));
  if (o.iterations < 1 || !(o.time_budget_s > 0) || !(o.reg >= 0) || !(o.learning_rate > 0) ||
      o.max_columns < 1 || o.max_samples < 1 || o.batch < 1) {
    return invalid_argument(
        "cannot run AdaRound: iterations = {}, time budget = {} s, reg = {}, learning rate = {}, "
        "max columns = {}, must be >= 1, > 0, >= 0, > 0, >= 1",
        o.iterations, o.time_budget_s, o.reg, o.learning_rate, o.max_columns);
  }
  const auto t0 = Clock::now();
  AdaRoundReport r;
  const int64_t n = std::min(calib.dim(0), o.max_samples);
  Rng rng(o.seed);
  const size_t layers = m.layers.size();
  // Layer geometry from the layer view of the float graph (shapes inferred once).
  Graph shaped = g;
  EI8_RETURN_IF_ERROR(infer_shapes(shaped));
  for (size_t li = 0; li < layers; ++li) {
    QuantizedLayer& L = m.layers[li];
    AdaRoundLayer out{.node = L.node};
    // The layer's deadline: an equal share of what is left of the budget.
    const double left = o.time_budget_s - seconds_since(t0);
    const auto deadline =
        Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(
                           std::max(0.0, left) / double(layers - li)));
    Graph f = g;
    const Node* fn = node_named(f, L.node);
    if (fn == nullptr) {
      return not_found(
          "cannot AdaRound '{}': node = missing from the float graph, must be the "
          "graph the model was quantized from",
          L.node);
    }
    const Node node = *fn;
    const Tensor& wf = *g.constant(node.input(1));
    const std::string f_in = node.input(0);
    EI8_ASSIGN_OR_RETURN(Graph s, simulation_graph(m.qdq));
    const Node* sn = node_named(s, L.node);
    if (sn == nullptr) return internal_error("cannot find node '{}' in the QDQ graph", L.node);
    const std::string s_in = sn->input(0);
    Tensor* codes = qdq_weight(m.qdq, L.node);
    if (codes == nullptr || codes->shape() != wf.shape() || L.weight_q.shape() != wf.shape()) {
      out.note = "weights are not an s8 DequantizeLinear of the float weight's shape";
      r.layers.push_back(out);
      continue;
    }
    EI8_ASSIGN_OR_RETURN(BatchRunner rf, BatchRunner::create(std::move(f), {f_in}));
    EI8_ASSIGN_OR_RETURN(BatchRunner rs, BatchRunner::create(std::move(s), {s_in}));
    // Geometry from the first batch.
    EI8_RETURN_IF_ERROR(rf.run(calib, 0, std::min(o.batch, n)));
    EI8_ASSIGN_OR_RETURN(LayerGeometry geo, decode_layer(shaped, *node_named(shaped, L.node)));
    EI8_ASSIGN_OR_RETURN(Patches pg, patches_of(geo));
    if (pg.c != rf.output(0).shape()[1]) {
      return internal_error("cannot AdaRound '{}': input channels = {}, must be {}", L.node,
                            rf.output(0).shape()[1], pg.c);
    }
    const int64_t K = pg.features(), groups = pg.groups;
    // [K, N] weights: a fully connected layer whose output channels run along the last axis.
    const bool kn = geo.kind == LayerKind::kFullyConnected && !geo.trans_b;
    const int64_t cout = geo.out_channels;
    const int64_t opg = cout / groups;
    const WeightIndex wi{.out = cout, .k = K, .kn = kn};
    out.features = K;
    // Accumulate H = X̃X̃ᵀ, M = XX̃ᵀ, R = XXᵀ per group over a seeded subset of the columns.
    const int64_t total = n * pg.positions() * groups;
    const double keep =
        std::min(1.0, static_cast<double>(o.max_columns * groups) / static_cast<double>(total));
    const size_t kk = static_cast<size_t>(K * K);
    std::vector<std::vector<double>> H(static_cast<size_t>(groups), std::vector<double>(kk)), M = H,
                                                                                              R = H;
    std::vector<int64_t> cols(static_cast<size_t>(groups), 0);
    std::vector<float> xf(static_cast<size_t>(K)), xq(static_cast<size_t>(K));
    for (int64_t start = 0; start < n; start += o.batch) {
      const int64_t b = std::min(o.batch, n - start);
      EI8_RETURN_IF_ERROR(rf.run(calib, start, b));
      EI8_RETURN_IF_ERROR(rs.run(calib, start, b));
      const float* af = rf.output(0).data<float>();
      const float* aq = rs.output(0).data<float>();
      for (int64_t sm = 0; sm < b; ++sm) {
        for (int64_t p = 0; p < pg.positions(); ++p) {
          for (int64_t gi = 0; gi < groups; ++gi) {
            if (keep < 1.0 && rng.uniform01() >= keep) continue;
            pg.column(af, sm, p, gi, xf.data());
            pg.column(aq, sm, p, gi, xq.data());
            auto& h = H[static_cast<size_t>(gi)];
            auto& mm = M[static_cast<size_t>(gi)];
            auto& rr = R[static_cast<size_t>(gi)];
            for (int64_t i = 0; i < K; ++i) {
              const double qi = xq[static_cast<size_t>(i)], fi = xf[static_cast<size_t>(i)];
              double* hrow = &h[static_cast<size_t>(i * K)];
              double* mrow = &mm[static_cast<size_t>(i * K)];
              double* rrow = &rr[static_cast<size_t>(i * K)];
              for (int64_t j = 0; j < K; ++j) mrow[j] += fi * xq[static_cast<size_t>(j)];
              for (int64_t j = i; j < K; ++j) {  // symmetric: the upper triangle, mirrored below
                hrow[j] += qi * xq[static_cast<size_t>(j)];
                rrow[j] += fi * xf[static_cast<size_t>(j)];
              }
            }
            ++cols[static_cast<size_t>(gi)];
          }
        }
      }
    }
    for (int64_t gi = 0; gi < groups; ++gi) {
      auto& h = H[static_cast<size_t>(gi)];
      auto& rr = R[static_cast<size_t>(gi)];
      for (int64_t i = 0; i < K; ++i) {
        for (int64_t j = 0; j < i; ++j) {
          h[static_cast<size_t>(i * K + j)] = h[static_cast<size_t>(j * K + i)];
          rr[static_cast<size_t>(i * K + j)] = rr[static_cast<size_t>(j * K + i)];
        }
      }
    }
    const int64_t P = *std::min_element(cols.begin(), cols.end());
    out.columns = P;
    if (P < 2 * K) {
      out.note = fmt::format(
          "too little calibration data: {} columns for {} weights per output channel, must be "
          ">= {}; nearest rounding kept",
          P, K, 2 * K);
      r.layers.push_back(out);
      continue;
    }
    // Per output channel: floor codes, scale, the quadratic form.
    const int32_t q = qmax(L.weight_type);  // 127, 63 (reduce range) or 7 (4-bit)
    const auto w = wf.span<float>();
    std::vector<double> fl(static_cast<size_t>(cout * K)), sc(static_cast<size_t>(cout)),
        V(fl.size()), mom1(fl.size(), 0.0), mom2(fl.size(), 0.0);
    for (int64_t oc = 0; oc < cout; ++oc) {
      sc[static_cast<size_t>(oc)] =
          L.weight_scales[L.weight_scales.size() > 1 ? static_cast<size_t>(oc) : 0];
      for (int64_t j = 0; j < K; ++j) {
        const double x = w[wi(oc, j)] / sc[static_cast<size_t>(oc)];
        const double fx = std::floor(x);
        const size_t k = static_cast<size_t>(oc * K + j);
        fl[k] = fx;
        // V so that h(V) = x − ⌊x⌋ (clamped away from 0 and 1 for a finite logit).
        const double rest = std::clamp(x - fx, 0.01, 0.99);
        V[k] = -std::log((1.1 - (-0.1)) / (rest - (-0.1)) - 1.0);
      }
    }
    auto code_of = [&](size_t k, double h) {
      return std::clamp(fl[k] + h, static_cast<double>(-q), static_cast<double>(q));
    };
    // ‖WX − W̃X̃‖²/P for one channel with weights wt (real units).
    auto channel_loss = [&](int64_t oc, const std::vector<double>& wt) {
      const int64_t gi = oc / opg;
      const auto& h = H[static_cast<size_t>(gi)];
      const auto& mm = M[static_cast<size_t>(gi)];
      const auto& rr = R[static_cast<size_t>(gi)];
      double quad = 0, cross = 0, cst = 0;
      for (int64_t i = 0; i < K; ++i) {
        const double wo = w[wi(oc, i)];
        for (int64_t j = 0; j < K; ++j) {
          const size_t ij = static_cast<size_t>(i * K + j);
          quad += wt[static_cast<size_t>(i)] * h[ij] * wt[static_cast<size_t>(j)];
          cross += wo * mm[ij] * wt[static_cast<size_t>(j)];
          cst += wo * rr[ij] * w[wi(oc, j)];
        }
      }
      return (quad - 2 * cross + cst) / static_cast<double>(P);
    };
    auto total_loss = [&](const std::function<double(size_t)>& h_of) {
      double sum = 0;
      std::vector<double> wt(static_cast<size_t>(K));
      for (int64_t oc = 0; oc < cout; ++oc) {
        for (int64_t j = 0; j < K; ++j) {
          const size_t k = static_cast<size_t>(oc * K + j);
          wt[static_cast<size_t>(j)] = sc[static_cast<size_t>(oc)] * code_of(k, h_of(k));
        }
        sum += channel_loss(oc, wt);
      }
      return sum / static_cast<double>(cout);
    };
    auto nearest_h = [&](size_t k) {
      const int64_t oc = static_cast<int64_t>(k) / K;
      const double x = w[wi(oc, static_cast<int64_t>(k) % K)] / sc[static_cast<size_t>(oc)];
      return fixedpoint::round_half_even(x) - fl[k];
    };
    out.loss_nearest = total_loss(nearest_h);
    // Adam on V.
    constexpr double kB1 = 0.9, kB2 = 0.999, kEps = 1e-8;
    const int warm = o.iterations / 5;
    std::vector<double> wt(static_cast<size_t>(K)), grad(static_cast<size_t>(K));
    // c_o = Mᵀ·w_o: the constant half of the gradient, per output channel.
    std::vector<double> cvec(static_cast<size_t>(cout * K), 0.0);
    for (int64_t oc = 0; oc < cout; ++oc) {
      const auto& mm = M[static_cast<size_t>(oc / opg)];
      for (int64_t i = 0; i < K; ++i) {
        const double wo = w[wi(oc, i)];
        const double* mrow = &mm[static_cast<size_t>(i * K)];
        double* c = &cvec[static_cast<size_t>(oc * K)];
        for (int64_t j = 0; j < K; ++j) c[j] += mrow[j] * wo;
      }
    }
    int it = 0;
    for (; it < o.iterations; ++it) {
      if ((it & 15) == 0 && Clock::now() > deadline) break;
      const double beta = it < warm ? 0.0
                                    : 20.0 - 18.0 * static_cast<double>(it - warm) /
                                                 std::max(1, o.iterations - warm);
      const double lam = it < warm ? 0.0 : o.reg;
      for (int64_t oc = 0; oc < cout; ++oc) {
        const auto& h = H[static_cast<size_t>(oc / opg)];
        const double* c = &cvec[static_cast<size_t>(oc * K)];
        const double s_o = sc[static_cast<size_t>(oc)];
        for (int64_t j = 0; j < K; ++j) {
          const size_t k = static_cast<size_t>(oc * K + j);
          wt[static_cast<size_t>(j)] = s_o * code_of(k, rect_sigmoid(V[k]));
        }
        // d/dw̃ of ‖·‖²/(P·C_out) = 2(H w̃ − Mᵀw)/(P·C_out).
        const double norm = 2.0 / (static_cast<double>(P) * static_cast<double>(cout));
        for (int64_t j = 0; j < K; ++j) {
          const double* hrow = &h[static_cast<size_t>(j * K)];
          double hw = 0;
          for (int64_t i = 0; i < K; ++i) hw += hrow[i] * wt[static_cast<size_t>(i)];
          grad[static_cast<size_t>(j)] = norm * (hw - c[j]);
        }
        for (int64_t j = 0; j < K; ++j) {
          const size_t k = static_cast<size_t>(oc * K + j);
          const double sg = 1.0 / (1.0 + std::exp(-V[k]));
          const double hv = sg * 1.2 - 0.1;
          if (hv <= 0.0 || hv >= 1.0) continue;  // clipped: no gradient
          const double code = fl[k] + hv;
          if (code <= -q || code >= q) continue;  // clamped to the code range
          const double dh = 1.2 * sg * (1.0 - sg);
          double gv = grad[static_cast<size_t>(j)] * s_o * dh;
          if (lam > 0) {
            const double u = 2.0 * hv - 1.0;
            gv += lam * (-beta * std::pow(std::fabs(u), beta - 1.0) * (u >= 0 ? 1.0 : -1.0) * 2.0) *
                  dh;
          }
          mom1[k] = kB1 * mom1[k] + (1 - kB1) * gv;
          mom2[k] = kB2 * mom2[k] + (1 - kB2) * gv * gv;
          const double m1 = mom1[k] / (1 - std::pow(kB1, it + 1));
          const double m2 = mom2[k] / (1 - std::pow(kB2, it + 1));
          V[k] -= o.learning_rate * m1 / (std::sqrt(m2) + kEps);
        }
      }
    }
    out.iterations = it;
    out.loss_adaround = out.loss_nearest;
    if (it < o.iterations / 2) {
      out.note = fmt::format(
          "time budget ran out after {} of {} iterations (budget {} s for all layers); nearest "
          "rounding kept",
          it, o.iterations, o.time_budget_s);
      r.layers.push_back(out);
      continue;
    }
    auto ada_h = [&](size_t k) { return rect_sigmoid(V[k]) >= 0.5 ? 1.0 : 0.0; };
    const double ada_loss = total_loss(ada_h);
    if (!(ada_loss < out.loss_nearest)) {
      out.note = fmt::format(
          "reconstruction error {:.4g} not below nearest rounding's {:.4g}; "
          "nearest rounding kept",
          ada_loss, out.loss_nearest);
      r.layers.push_back(out);
      continue;
    }
    out.loss_adaround = ada_loss;
    // New codes into the model.
    auto cq = codes->span<int8_t>();
    auto lq = L.weight_q.span<int8_t>();
    int64_t flipped = 0;
    for (int64_t oc = 0; oc < cout; ++oc) {
      for (int64_t j = 0; j < K; ++j) {
        const size_t k = static_cast<size_t>(oc * K + j);
        const auto c = static_cast<int8_t>(code_of(k, ada_h(k)));
        const auto nearest = static_cast<int8_t>(code_of(k, nearest_h(k)));
        flipped += c != nearest;
        cq[wi(oc, j)] = c;
        lq[wi(oc, j)] = c;
      }
    }
    out.flipped = static_cast<double>(flipped) / static_cast<double>(cout * K);
    out.applied = true;
    r.layers.push_back(out);
  }
  for (const AdaRoundLayer& l : r.layers) {
    if (!l.note.empty()) r.notes.push_back(fmt::format("AdaRound '{}': {}", l.node, l.note));
  }
  r.seconds = seconds_since(t0);
  return r;
}

}  // namespace ei8::quant

namespace ei8::quant {

std::string recovery_name(const RecoveryOptions& o) {
  std::string s;
  auto add = [&](std::string_view x) { s += (s.empty() ? "" : "+") + std::string(x); };
  if (o.cle) add("cle");
  if (o.bias_correction) add("bc");
  if (o.adaround) add("adaround");
  return s.empty() ? "none" : s;
}

Result<RecoveredModel> quantize_with_recovery(const Graph& g, const Tensor& calib,
                                              const CalibParams& cp, const PtqOptions& po,
                                              const RecoveryOptions& ro,
                                              const CalibrationOptions& co,
                                              const Statistics* stats) {
  RecoveredModel r;
  r.float_graph = g;
  Graph& f = r.float_graph;
  if (ro.cle) {
    EI8_ASSIGN_OR_RETURN(r.equalize, equalize_cross_layer(f, ro.equalize));
    r.notes.insert(r.notes.end(), r.equalize.notes.begin(), r.equalize.notes.end());
    if (ro.bias_absorption) {
      EI8_ASSIGN_OR_RETURN(r.absorb, absorb_high_biases(f, calib, ro.absorb));
      r.notes.insert(r.notes.end(), r.absorb.notes.begin(), r.absorb.notes.end());
    }
  }
  if (ro.bias_correction) add_zero_biases(f);
  Statistics own;
  if (ro.cle || ro.bias_correction || stats == nullptr) {
    EI8_ASSIGN_OR_RETURN(own, collect_statistics(f, calib, co));
    stats = &own;
  }
  EI8_ASSIGN_OR_RETURN(r.table, make_table(*stats, cp));
  EI8_ASSIGN_OR_RETURN(r.model, quantize_model(f, r.table, po));
  if (ro.adaround) {
    EI8_ASSIGN_OR_RETURN(r.ada, adaround_weights(f, r.model, calib, ro.ada));
    r.notes.insert(r.notes.end(), r.ada.notes.begin(), r.ada.notes.end());
  }
  if (ro.bias_correction) {
    EI8_ASSIGN_OR_RETURN(r.correction, correct_bias(f, r.model, calib, ro.correction));
    r.notes.insert(r.notes.end(), r.correction.notes.begin(), r.correction.notes.end());
  }
  return r;
}

}  // namespace ei8::quant
