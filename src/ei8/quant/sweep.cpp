#include "ei8/quant/sweep.h"

#include <chrono>
#include <cmath>

#include "ei8/core/distribute.h"

namespace ei8::quant {
size_t sweep_size(const SweepOptions& o) {
  return o.methods.size() * o.weights.size() * o.act_symmetric.size();
}

std::string activation_scheme_name(const PtqOptions& o) {
  return fmt::format("{}-{}", o.act_symmetric ? "s8" : qtype_name(o.act_type),
                     o.act_symmetric ? "sym" : "asym");
}

const SweepRow* SweepResult::best() const {
  const SweepRow* b = nullptr;
  for (const SweepRow& r : rows) {
    const double s = std::isnan(r.accuracy) ? r.agreement : r.accuracy;
    const double bs = b == nullptr ? -1.0 : (std::isnan(b->accuracy) ? b->agreement : b->accuracy);
    if (b == nullptr || s > bs || (s == bs && r.model_bytes < b->model_bytes)) b = &r;
  }
  return b;
}

Result<SweepPlan> prepare_sweep(const Graph& g, const Statistics& st, const EvalSet& eval,
                                const SweepOptions& o) {
  if (sweep_size(o) == 0) {
    return invalid_argument(
        "cannot sweep: configurations = 0 (methods {} x weights {} x activations {}), must be >= 1",
        o.methods.size(), o.weights.size(), o.act_symmetric.size());
  }
  if (o.batch < 1) return invalid_argument("cannot sweep: batch = {}, must be >= 1", o.batch);
  if (st.observers.empty() || st.samples < 1) {
    return invalid_argument("cannot sweep: calibration samples = {}, must be >= 1", st.samples);
  }
  SweepPlan plan;
  plan.graph = &g;
  plan.statistics = &st;
  plan.options = o;
  EI8_ASSIGN_OR_RETURN(plan.eval, make_eval_set(g, eval.inputs, eval.labels));
  EI8_ASSIGN_OR_RETURN(plan.fp32, evaluate_graph(g, plan.eval, {}, o.batch));
  SweepResult& res = plan.header;
  res.fp32_accuracy = plan.fp32.accuracy;
  res.statistics_seconds = o.timings ? st.seconds : NAN;
  res.statistics_samples = st.samples;
  res.eval_samples = plan.eval.samples();
  res.fp32_bytes = g.parameter_bytes();
  res.profile = o.ptq.profile;
  for (const TensorObserver& ob : st.observers) {
    res.observer_memory_bytes += static_cast<int64_t>(ob.histogram().memory_bytes());
  }
  return plan;
}

Result<SweepRow> sweep_row(const SweepPlan& plan, size_t index) {
  const SweepOptions& o = plan.options;
  if (index >= sweep_size(o)) {
    return invalid_argument("cannot run sweep row: index = {}, must be < {}", index, sweep_size(o));
  }
  const size_t acts = o.act_symmetric.size(), weights = o.weights.size();
  const CalibMethod method = o.methods[index / (acts * weights)];
  const WeightGranularity wg = o.weights[(index / acts) % weights];
  const bool sym = o.act_symmetric[index % acts];
  if (o.timings) reset_peak_memory();
  PtqOptions po = o.ptq;
  po.weights = wg;
  po.act_symmetric = sym;
  if (sym) po.act_type = QType::kS8;
  CalibParams cp = o.calib;
  cp.method = method;
  cp = calib_target(po, cp);
  SweepRow row;
  row.method = method;
  row.weights = wg;
  row.activations = activation_scheme_name(po);
  const std::string what = fmt::format("sweep row {} {} {}", calib_method_name(method),
                                       weight_granularity_name(wg), row.activations);
  const auto t0 = std::chrono::steady_clock::now();
  Result<CalibTable> table = make_table(*plan.statistics, cp);
  row.search_seconds =
      o.timings ? std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count()
                : NAN;
  if (!table.ok()) return table.status().with_context(what);
  Result<QuantizedModel> m = quantize_model(*plan.graph, table.value(), po);
  if (!m.ok()) return m.status().with_context(what);
  Result<Evaluation> e = evaluate_model(m.value(), plan.eval, plan.fp32.top1, o.batch);
  if (!e.ok()) return e.status().with_context(what);
  row.accuracy = e->accuracy;
  row.drop_points = plan.eval.has_labels() ? 100.0 * (plan.fp32.accuracy - e->accuracy) : NAN;
  row.agreement = e->agreement;
  row.weight_bytes_int8 = m->weight_bytes_int8;
  row.float_bytes = float_leftover_bytes(m.value());
  row.model_bytes = row.weight_bytes_int8 + row.float_bytes;
  row.float_nodes = static_cast<int64_t>(m->float_nodes.size());
  row.latency_b1_us = NAN;
  row.latency_b32_us = NAN;
  if (o.latency) {
    Result<double> l1 = o.latency(m.value(), 1);
    Result<double> l32 = o.latency(m.value(), 32);
    if (l1.ok()) row.latency_b1_us = l1.value();
    if (l32.ok()) row.latency_b32_us = l32.value();
    if (!l1.ok()) row.latency_note = l1.status().message();
    if (!l32.ok()) row.latency_note = l32.status().message();
  } else {
    row.latency_note = "no INT8 latency function given";
  }
  row.peak_memory_bytes = o.timings ? peak_memory_bytes() : -1;
  return row;
}

Result<SweepResult> run_sweep(const Graph& g, const Statistics& st, const EvalSet& eval,
                              const SweepOptions& o, Progress* progress) {
  EI8_ASSIGN_OR_RETURN(SweepPlan plan, prepare_sweep(g, st, eval, o));
  SweepResult res = plan.header;
  for (size_t i = 0; i < plan.size(); ++i) {
    EI8_ASSIGN_OR_RETURN(SweepRow row, sweep_row(plan, i));
    res.rows.push_back(std::move(row));
    if (progress != nullptr) {
      const SweepRow& r = res.rows.back();
      progress->advance(
          1, fmt::format("{} {} {} agree {:.1f}%", calib_method_name(r.method),
                         weight_granularity_name(r.weights), r.activations, 100 * r.agreement));
    }
  }
  return res;
}

std::string encode_sweep_row(const SweepRow& r) {
  dist::RecordWriter o;
  o.i64(static_cast<int64_t>(r.method)).i64(static_cast<int64_t>(r.weights)).str(r.activations);
  o.f64(r.accuracy).f64(r.drop_points).f64(r.agreement).i64(r.weight_bytes_int8);
  o.i64(r.float_bytes).i64(r.model_bytes).f64(r.latency_b1_us).f64(r.latency_b32_us);
  o.str(r.latency_note).f64(r.search_seconds).i64(r.peak_memory_bytes).i64(r.float_nodes);
  return o.take();
}

Status decode_sweep_row(std::string_view bytes, SweepRow* r) {
  dist::RecordReader in(bytes, "a PTQ sweep row record");
  r->method = static_cast<CalibMethod>(in.i64());
  r->weights = static_cast<WeightGranularity>(in.i64());
  r->activations = in.str();
  r->accuracy = in.f64();
  r->drop_points = in.f64();
  r->agreement = in.f64();
  r->weight_bytes_int8 = in.i64();
  r->float_bytes = in.i64();
  r->model_bytes = in.i64();
  r->latency_b1_us = in.f64();
  r->latency_b32_us = in.f64();
  r->latency_note = in.str();
  r->search_seconds = in.f64();
  r->peak_memory_bytes = in.i64();
  r->float_nodes = in.i64();
  EI8_RETURN_IF_ERROR(in.status());
  if (static_cast<int>(r->method) < 0 || r->method > CalibMethod::kAciq ||
      static_cast<int>(r->weights) < 0 || r->weights > WeightGranularity::kPerChannel) {
    return data_loss("cannot read a PTQ sweep row record: method/weights = {}/{}, must be known",
                     static_cast<int>(r->method), static_cast<int>(r->weights));
  }
  return {};
}

std::string encode_sweep_header(const SweepResult& r) {
  dist::RecordWriter o;
  o.f64(r.fp32_accuracy).f64(r.statistics_seconds).i64(r.statistics_samples);
  o.i64(r.eval_samples).i64(r.fp32_bytes).i64(r.observer_memory_bytes);
  o.i64(static_cast<int64_t>(r.profile));
  return o.take();
}

Status decode_sweep_header(std::string_view bytes, SweepResult* r) {
  dist::RecordReader in(bytes, "a PTQ sweep header record");
  r->fp32_accuracy = in.f64();
  r->statistics_seconds = in.f64();
  r->statistics_samples = in.i64();
  r->eval_samples = in.i64();
  r->fp32_bytes = in.i64();
  r->observer_memory_bytes = in.i64();
  const int64_t profile = in.i64();
  EI8_RETURN_IF_ERROR(in.status());
  if (profile < 0 || profile > static_cast<int64_t>(fixedpoint::RequantProfile::kTfliteSingle)) {
    return data_loss("cannot read a PTQ sweep header record: profile = {}, must be known", profile);
  }
  r->profile = static_cast<fixedpoint::RequantProfile>(profile);
  return {};
}

}  // namespace ei8::quant
