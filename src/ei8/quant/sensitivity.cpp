#include "ei8/quant/sensitivity.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>
#include <set>

#include "ei8/quant/simulate.h"
#include "ei8/runtime/executor.h"

namespace ei8::quant {
namespace {

// Running comparison of a reference tensor y and an approximation ŷ.
struct ErrorAccumulator {
  double signal = 0.0, noise = 0.0, dot = 0.0, approx_sq = 0.0, max_abs = 0.0;
  int64_t n = 0;
  void add(std::span<const float> y, std::span<const float> yq) {
    for (size_t i = 0; i < y.size(); ++i) {
      const double a = y[i], b = yq[i], d = a - b;
      signal += a * a;
      noise += d * d;
      dot += a * b;
      approx_sq += b * b;
      max_abs = std::max(max_abs, std::fabs(d));
    }
    n += static_cast<int64_t>(y.size());
  }
  double sqnr_db() const {
    if (noise == 0.0) return std::numeric_limits<double>::infinity();
    if (signal == 0.0) return -std::numeric_limits<double>::infinity();
    return 10.0 * std::log10(signal / noise);
  }
  double cosine() const {
    if (signal == 0.0 && approx_sq == 0.0) return 1.0;
    if (signal == 0.0 || approx_sq == 0.0) return 0.0;
    return dot / std::sqrt(signal * approx_sq);
  }
};

// An executor over `g` whose outputs include `names`; idx[k] = executor output of names[k].
struct Probe {
  Executor ex;
  std::vector<size_t> idx;
};

Result<Probe> make_probe(Graph g, const std::vector<std::string>& names) {
  for (const std::string& v : names) {
    if (!g.is_graph_output(v)) g.add_output(v);
  }
  ExecutorOptions eo;
  eo.optimize = false;
  EI8_ASSIGN_OR_RETURN(Executor ex, Executor::create(std::move(g), eo));
  std::vector<size_t> idx;
  for (const std::string& v : names) {
    const auto& outs = ex.graph().outputs();
    const auto it = std::find(outs.begin(), outs.end(), v);
    if (it == outs.end()) {
      return internal_error("cannot probe value '{}': output = missing, must exist", v);
    }
    idx.push_back(static_cast<size_t>(it - outs.begin()));
  }
  return Probe{std::move(ex), std::move(idx)};
}

// The value of the QDQ graph that holds the dequantized (INT8-rounded) version of float value v.
std::string dequantized_name(const Graph& qdq, const std::string& v) {
  if (qdq.is_graph_output(v)) {
    const Node* p = qdq.producer(v);
    if (p != nullptr && p->op_type == "DequantizeLinear") return v;
  }
  for (const Node& q : qdq.nodes()) {
    if (q.op_type != "QuantizeLinear" || q.input(0) != v) continue;
    for (const Node& dq : qdq.nodes()) {
      if (dq.op_type == "DequantizeLinear" && dq.input(0) == q.outputs[0]) return dq.outputs[0];
    }
  }
  return v;  // not quantized: the float value itself
}

double output_sqnr_db(const Tensor& ref, const Tensor& approx) {
  ErrorAccumulator acc;
  acc.add(ref.span<float>(), approx.span<float>());
  return acc.sqnr_db();
}

}  // namespace

Result<std::vector<LayerError>> layer_errors(const Graph& g, const QuantizedModel& model,
                                             const EvalSet& ev, int64_t batch) {
  register_qdq_ops();
  if (batch < 1) return invalid_argument("cannot compare layers: batch = {}, must be >= 1", batch);
  EI8_ASSIGN_OR_RETURN(EvalSet checked, make_eval_set(g, ev.inputs, ev.labels));
  std::vector<std::string> ref_names, q_names;
  for (const QuantizedLayer& L : model.layers) {
    ref_names.push_back(L.output);
    q_names.push_back(dequantized_name(model.qdq, L.output));
  }
  std::vector<LayerError> out;
  if (model.layers.empty()) return out;
  EI8_ASSIGN_OR_RETURN(Graph sim, simulation_graph(model.qdq));
  EI8_ASSIGN_OR_RETURN(Probe pf, make_probe(g, ref_names));
  EI8_ASSIGN_OR_RETURN(Probe pq, make_probe(std::move(sim), q_names));
  std::vector<ErrorAccumulator> acc(ref_names.size());
  const Tensor& x = checked.inputs;
  const int64_t total = x.dim(0), per = x.numel() / total;
  int64_t prepared = 0;
  for (int64_t start = 0; start < total; start += batch) {
    const int64_t b = std::min(batch, total - start);
    if (b != prepared) {
      EI8_RETURN_IF_ERROR(pf.ex.prepare_batch(b));
      EI8_RETURN_IF_ERROR(pq.ex.prepare_batch(b));
      prepared = b;
    }
    const auto src =
        x.span<float>().subspan(static_cast<size_t>(start * per), static_cast<size_t>(b * per));
    std::memcpy(pf.ex.input(0).raw(), src.data(), src.size_bytes());
    std::memcpy(pq.ex.input(0).raw(), src.data(), src.size_bytes());
    EI8_RETURN_IF_ERROR(pf.ex.run());
    EI8_RETURN_IF_ERROR(pq.ex.run());
    for (size_t k = 0; k < acc.size(); ++k) {
      const Tensor& yf = pf.ex.output(pf.idx[k]);
      const Tensor& yq = pq.ex.output(pq.idx[k]);
      if (yf.numel() != yq.numel()) {
        return internal_error("cannot compare value '{}': elements = {}, must be {}", ref_names[k],
                              yq.numel(), yf.numel());
      }
      acc[k].add(yf.span<float>(), yq.span<float>());
    }
  }
  for (size_t k = 0; k < acc.size(); ++k) {
    const QuantizedLayer& L = model.layers[k];
    out.push_back(
        {L.node, L.op_type, L.output, acc[k].sqnr_db(), acc[k].cosine(), acc[k].max_abs, acc[k].n});
  }
  return out;
}

Result<std::vector<HistogramBin>> tensor_histograms(const Statistics& st, int64_t bins) {
  if (bins < 1) {
    return invalid_argument("cannot write histograms: bins = {}, must be >= 1", bins);
  }
  std::vector<HistogramBin> t;
  for (size_t i = 0; i < st.names.size(); ++i) {
    const StreamingHistogram& h = st.observers[i].histogram();
    const std::vector<uint64_t> c = h.signed_counts();
    const int64_t used = h.bins_used();
    int64_t first = -1, last = -1;
    for (int64_t j = 0; j < static_cast<int64_t>(c.size()); ++j) {
      if (c[static_cast<size_t>(j)] == 0) continue;
      if (first < 0) first = j;
      last = j;
    }
    if (first < 0) {  // nothing but (or not even) zeros
      t.push_back({st.names[i], 0, 0.0, 0.0, h.zeros()});
      continue;
    }
    const int64_t span = last - first + 1;
    const int64_t group = (span + bins - 1) / bins;
    const double w = h.bin_width();
    for (int64_t k = 0; first + k * group <= last; ++k) {
      const int64_t a = first + k * group, e = std::min(a + group, last + 1);
      uint64_t sum = 0;
      for (int64_t j = a; j < e; ++j) sum += c[static_cast<size_t>(j)];
      t.push_back({st.names[i], k, static_cast<double>(a - used) * w,
                   static_cast<double>(e - used) * w, sum});
    }
  }
  return t;
}

Result<std::vector<CalibThreshold>> calib_thresholds(const Statistics& st, const PtqOptions& ptq,
                                                     const CalibParams& base) {
  std::vector<CalibThreshold> t;
  for (size_t i = 0; i < st.names.size(); ++i) {
    for (CalibMethod m : {CalibMethod::kMinMax, CalibMethod::kPercentile, CalibMethod::kEntropy,
                          CalibMethod::kMse, CalibMethod::kAciq}) {
      CalibParams p = calib_target(ptq, base);
      p.method = m;
      Result<CalibResult> r = calibrate(st.observers[i], p);
      if (!r.ok()) return r.status().with_context(fmt::format("tensor '{}'", st.names[i]));
      t.push_back({st.names[i], m, r->min, r->max, st.observers[i].min(), st.observers[i].max()});
    }
  }
  return t;
}

Result<SensitivityReport> analyze_sensitivity(const Graph& g, const Statistics& st,
                                              const EvalSet& eval, const SensitivityOptions& o,
                                              Progress* progress) {
  if (o.batch < 1) {
    return invalid_argument("cannot analyze sensitivity: batch = {}, must be >= 1", o.batch);
  }
  if (st.observers.empty() || st.samples < 1) {
    return invalid_argument("cannot analyze sensitivity: calibration samples = {}, must be >= 1",
                            st.samples);
  }
  EI8_ASSIGN_OR_RETURN(EvalSet ev, make_eval_set(g, eval.inputs, eval.labels));
  CalibParams cp = calib_target(o.ptq, o.calib);
  EI8_RETURN_IF_ERROR(validate(cp));
  EI8_ASSIGN_OR_RETURN(CalibTable table, make_table(st, cp));
  SensitivityReport r;
  EI8_ASSIGN_OR_RETURN(Evaluation fp32, evaluate_graph(g, ev, {}, o.batch));
  r.fp32_accuracy = fp32.accuracy;
  PtqOptions po = o.ptq;
  po.exclude_nodes.clear();
  EI8_ASSIGN_OR_RETURN(QuantizedModel all, quantize_model(g, table, po));
  EI8_ASSIGN_OR_RETURN(Evaluation e_all, evaluate_model(all, ev, fp32.top1, o.batch));
  r.all_accuracy = e_all.accuracy;
  r.all_agreement = e_all.agreement;
  EI8_ASSIGN_OR_RETURN(r.errors, layer_errors(g, all, ev, o.batch));
  if (progress != nullptr) progress->advance(1, "all layers");

  std::vector<std::string> all_nodes;
  for (const Node& n : g.nodes()) all_nodes.push_back(n.name);
  for (const QuantizedLayer& L : all.layers) {
    LayerSensitivity s;
    s.node = L.node;
    s.op_type = L.op_type;
    PtqOptions only = o.ptq;
    for (const std::string& n : all_nodes) {
      if (n != L.node) only.exclude_nodes.push_back(n);
    }
    EI8_ASSIGN_OR_RETURN(QuantizedModel m_only, quantize_model(g, table, only));
    EI8_ASSIGN_OR_RETURN(Evaluation e_only, evaluate_model(m_only, ev, fp32.top1, o.batch));
    s.only_accuracy = e_only.accuracy;
    s.only_agreement = e_only.agreement;
    s.only_output_sqnr_db = output_sqnr_db(fp32.logits, e_only.logits);
    PtqOptions but = o.ptq;
    but.exclude_nodes = {L.node};
    EI8_ASSIGN_OR_RETURN(QuantizedModel m_but, quantize_model(g, table, but));
    EI8_ASSIGN_OR_RETURN(Evaluation e_but, evaluate_model(m_but, ev, fp32.top1, o.batch));
    s.but_accuracy = e_but.accuracy;
    s.but_agreement = e_but.agreement;
    r.layers.push_back(std::move(s));
    if (progress != nullptr) progress->advance(1, L.node);
  }
  std::vector<size_t> order(r.layers.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    const LayerSensitivity &x = r.layers[a], &y = r.layers[b];
    if (x.only_output_sqnr_db != y.only_output_sqnr_db) {
      return x.only_output_sqnr_db < y.only_output_sqnr_db;
    }
    if (x.only_agreement != y.only_agreement) return x.only_agreement < y.only_agreement;
    return x.but_agreement > y.but_agreement;
  });
  for (size_t k = 0; k < order.size(); ++k) {
    r.layers[order[k]].rank = static_cast<int>(k + 1);
    r.ranking.push_back(r.layers[order[k]].node);
  }
  EI8_ASSIGN_OR_RETURN(r.histograms, tensor_histograms(st, o.histogram_bins));
  EI8_ASSIGN_OR_RETURN(r.thresholds, calib_thresholds(st, o.ptq, o.calib));
  return r;
}

}  // namespace ei8::quant
