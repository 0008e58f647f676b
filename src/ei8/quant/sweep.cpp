#include "ei8/quant/sweep.h"

#include <chrono>
#include <cmath>

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

Result<SweepResult> run_sweep(const Graph& g, const Statistics& st, const EvalSet& eval,
                              const SweepOptions& o, Progress* progress) {
  if (sweep_size(o) == 0) {
    return invalid_argument(
        "cannot sweep: configurations = 0 (methods {} x weights {} x activations {}), must be >= 1",
        o.methods.size(), o.weights.size(), o.act_symmetric.size());
  }
  if (o.batch < 1) return invalid_argument("cannot sweep: batch = {}, must be >= 1", o.batch);
  if (st.observers.empty() || st.samples < 1) {
    return invalid_argument("cannot sweep: calibration samples = {}, must be >= 1", st.samples);
  }
  EI8_ASSIGN_OR_RETURN(EvalSet ev, make_eval_set(g, eval.inputs, eval.labels));
  EI8_ASSIGN_OR_RETURN(Evaluation fp32, evaluate_graph(g, ev, {}, o.batch));
  SweepResult res;
  res.fp32_accuracy = fp32.accuracy;
  res.statistics_seconds = st.seconds;
  res.statistics_samples = st.samples;
  res.eval_samples = ev.samples();
  res.fp32_bytes = g.parameter_bytes();
  res.profile = o.ptq.profile;
  for (const TensorObserver& ob : st.observers) {
    res.observer_memory_bytes += static_cast<int64_t>(ob.histogram().memory_bytes());
  }
  for (CalibMethod method : o.methods) {
    for (WeightGranularity wg : o.weights) {
      for (bool sym : o.act_symmetric) {
        reset_peak_memory();
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
        Result<CalibTable> table = make_table(st, cp);
        row.search_seconds =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        if (!table.ok()) return table.status().with_context(what);
        Result<QuantizedModel> m = quantize_model(g, table.value(), po);
        if (!m.ok()) return m.status().with_context(what);
        Result<Evaluation> e = evaluate_model(m.value(), ev, fp32.top1, o.batch);
        if (!e.ok()) return e.status().with_context(what);
        row.accuracy = e->accuracy;
        row.drop_points = ev.has_labels() ? 100.0 * (fp32.accuracy - e->accuracy) : NAN;
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
        row.peak_memory_bytes = peak_memory_bytes();
        res.rows.push_back(std::move(row));
        if (progress != nullptr) {
          const SweepRow& r = res.rows.back();
          progress->advance(
              1, fmt::format("{} {} {} agree {:.1f}%", calib_method_name(method),
                             weight_granularity_name(wg), r.activations, 100 * r.agreement));
        }
      }
    }
  }
  return res;
}

}  // namespace ei8::quant
