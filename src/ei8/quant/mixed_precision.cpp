#include "ei8/quant/mixed_precision.h"

#include <fmt/ranges.h>
#include <cmath>

#include <set>

namespace ei8::quant {

Result<MixedPrecisionResult> mixed_precision(const Graph& g, const CalibTable& table,
                                             const EvalSet& eval,
                                             const std::vector<std::string>& ranking,
                                             const MixedPrecisionOptions& o) {
  if (!std::isfinite(o.max_drop_points) || o.max_drop_points < 0.0) {
    return invalid_argument(
        "cannot run mixed precision: max drop = {} points, must be finite and >= 0",
        o.max_drop_points);
  }
  if (o.batch < 1) {
    return invalid_argument("cannot run mixed precision: batch = {}, must be >= 1", o.batch);
  }
  if (!eval.has_labels()) {
    return invalid_argument(
        "cannot run mixed precision: evaluation labels = absent, must be given (the target is an "
        "accuracy drop)");
  }
  EI8_ASSIGN_OR_RETURN(EvalSet ev, make_eval_set(g, eval.inputs, eval.labels));
  std::set<std::string> nodes;
  for (const Node& n : g.nodes()) nodes.insert(n.name);
  for (const std::string& r : ranking) {
    if (!nodes.count(r)) {
      return invalid_argument(
          "cannot run mixed precision: ranked layer = '{}', must be a node of graph '{}'", r,
          g.name());
    }
  }
  EI8_ASSIGN_OR_RETURN(Evaluation fp32, evaluate_graph(g, ev, {}, o.batch));
  MixedPrecisionResult res;
  res.fp32_accuracy = fp32.accuracy;
  res.target_drop_points = o.max_drop_points;
  std::vector<std::string> fallen;
  for (size_t k = 0; k <= ranking.size(); ++k) {
    if (k > 0) fallen.push_back(ranking[k - 1]);
    PtqOptions po = o.ptq;
    po.exclude_nodes.insert(po.exclude_nodes.end(), fallen.begin(), fallen.end());
    EI8_ASSIGN_OR_RETURN(QuantizedModel m, quantize_model(g, table, po));
    EI8_ASSIGN_OR_RETURN(Evaluation e, evaluate_model(m, ev, fp32.top1, o.batch));
    MixedPrecisionStep s;
    s.float_layers = fallen;
    s.accuracy = e.accuracy;
    s.drop_points = 100.0 * (fp32.accuracy - e.accuracy);
    s.agreement = e.agreement;
    s.weight_bytes_int8 = m.weight_bytes_int8;
    s.float_bytes = float_leftover_bytes(m);
    s.model_bytes = s.weight_bytes_int8 + s.float_bytes;
    s.latency_b1_us = NAN;
    s.latency_b32_us = NAN;
    if (o.latency) {
      Result<double> l1 = o.latency(m, 1), l32 = o.latency(m, 32);
      if (l1.ok()) s.latency_b1_us = l1.value();
      if (l32.ok()) s.latency_b32_us = l32.value();
    }
    res.steps.push_back(s);
    res.model = std::move(m);
    if (s.drop_points <= o.max_drop_points) {
      res.reached = true;
      res.message = fmt::format("drop {:.2f} points <= target {:.2f} with {} layer(s) in float{}{}",
                                s.drop_points, o.max_drop_points, fallen.size(),
                                fallen.empty() ? "" : ": ", fmt::join(fallen, ", "));
      return res;
    }
  }
  double best = res.steps[0].drop_points;
  for (const MixedPrecisionStep& s : res.steps) best = std::min(best, s.drop_points);
  res.message = fmt::format(
      "target drop <= {:.2f} points not reached: best drop {:.2f} points; with all {} ranked "
      "layer(s) in float the drop is {:.2f} points (activation quantization of the remaining "
      "nodes)",
      o.max_drop_points, best, ranking.size(), res.steps.back().drop_points);
  return res;
}

}  // namespace ei8::quant
