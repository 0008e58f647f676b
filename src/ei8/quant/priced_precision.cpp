#include "ei8/quant/priced_precision.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <set>

namespace ei8::quant {

int64_t precision_word_bytes(LayerPrecision p) {
  switch (p) {
    case LayerPrecision::kInt8:
      return 1;
    case LayerPrecision::kInt16:
      return 2;
    case LayerPrecision::kFloat:
      return 4;
  }
  return 4;
}

std::string_view cost_metric_name(CostMetric c) {
  switch (c) {
    case CostMetric::kBytes:
      return "bytes";
    case CostMetric::kLatency:
      return "latency";
    case CostMetric::kCycles:
      return "cycles";
    case CostMetric::kEnergy:
      return "energy";
  }
  return "?";
}

std::string_view cost_metric_unit(CostMetric c) {
  switch (c) {
    case CostMetric::kBytes:
      return "B";
    case CostMetric::kLatency:
      return "us";
    case CostMetric::kCycles:
      return "cycles";
    case CostMetric::kEnergy:
      return "nJ";
  }
  return "?";
}

Result<CostMetric> parse_cost_metric(std::string_view name) {
  for (CostMetric c :
       {CostMetric::kBytes, CostMetric::kLatency, CostMetric::kCycles, CostMetric::kEnergy}) {
    if (cost_metric_name(c) == name) return c;
  }
  return invalid_argument(
      "cannot parse cost: cost = '{}', must be bytes, latency, cycles or energy", name);
}

namespace {

constexpr size_t kPrecisions = kPrecisionSlots;

size_t index_of(LayerPrecision p) { return static_cast<size_t>(p); }

const Node* node_named(const Graph& g, const std::string& name) {
  for (const Node& n : g.nodes()) {
    if (n.name == name) return &n;
  }
  return nullptr;
}

// Parameter bytes of a layer in precision p.
double layer_bytes(const Graph& g, const Node& n, LayerPrecision p, int weight_bits) {
  const Tensor* w = n.inputs.size() > 1 ? g.constant(n.input(1)) : nullptr;
  const Tensor* b = n.inputs.size() > 2 ? g.constant(n.input(2)) : nullptr;
  const double wn = w != nullptr ? static_cast<double>(w->numel()) : 0.0;
  const double bn = b != nullptr ? static_cast<double>(b->numel()) : 0.0;
  if (p == LayerPrecision::kFloat) return 4.0 * (wn + bn);
  // Every int8 layer gets an int32 bias (one per output channel) from the quantizer.
  const double channels = w != nullptr && w->rank() > 0 ? static_cast<double>(w->dim(0)) : 0.0;
  return std::ceil(wn * weight_bits / 8.0) + 4.0 * std::max(bn, channels);
}

}  // namespace

Result<std::vector<LayerPrice>> byte_prices(const Graph& g, const std::vector<std::string>& layers,
                                            int weight_bits) {
  std::vector<LayerPrice> prices;
  for (const std::string& name : layers) {
    const Node* n = node_named(g, name);
    if (n == nullptr) {
      return invalid_argument("cannot price layer '{}': node = absent, must be in graph '{}'", name,
                              g.name());
    }
    LayerPrice lp{name, std::vector<double>(kPrecisions, NAN), std::vector<int64_t>(kPrecisions)};
    for (LayerPrecision p : kSearchPrecisions) {
      lp.cost[index_of(p)] = layer_bytes(g, *n, p, weight_bits);
    }
    prices.push_back(std::move(lp));
  }
  return prices;
}

Result<PricedResult> priced_mixed_precision(const Graph& g, const CalibTable& table,
                                            const EvalSet& eval, const PricedOptions& o) {
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
  if ((o.cost == CostMetric::kCycles || o.cost == CostMetric::kEnergy) && !o.price) {
    return invalid_argument(
        "cannot run mixed precision: price function = absent, must be given for cost {}",
        cost_metric_name(o.cost));
  }
  if (o.cost == CostMetric::kLatency && !o.latency) {
    return invalid_argument(
        "cannot run mixed precision: latency function = absent, must be given for cost latency");
  }
  if (o.max_exhaustive_layers < 0 || o.max_exhaustive_layers > 16) {
    return invalid_argument(
        "cannot run mixed precision: max exhaustive layers = {}, must be in [0, 16]",
        o.max_exhaustive_layers);
  }
  EI8_ASSIGN_OR_RETURN(EvalSet ev, make_eval_set(g, eval.inputs, eval.labels));
  EI8_ASSIGN_OR_RETURN(Evaluation fp32, evaluate_graph(g, ev, {}, o.batch));
  PricedResult res;
  res.metric = o.cost;
  res.fp32_accuracy = fp32.accuracy;
  res.target_drop_points = o.max_drop_points;
  {
    EI8_ASSIGN_OR_RETURN(QuantizedModel all, quantize_model(g, table, o.ptq));
    for (const QuantizedLayer& l : all.layers) res.layers.push_back(l.node);
  }
  if (res.layers.empty()) {
    return invalid_argument("cannot run mixed precision: quantized layers = 0, must be >= 1");
  }
  if (o.cost == CostMetric::kCycles || o.cost == CostMetric::kEnergy) {
    EI8_ASSIGN_OR_RETURN(res.prices, o.price(g, res.layers));
  } else {
    EI8_ASSIGN_OR_RETURN(res.prices, byte_prices(g, res.layers, o.ptq.weight_bits));
    if (o.cost == CostMetric::kLatency) {
      for (LayerPrice& lp : res.prices) std::fill(lp.cost.begin(), lp.cost.end(), NAN);
    }
  }
  if (res.prices.size() != res.layers.size()) {
    return internal_error("cannot price layers: prices = {}, must be {}", res.prices.size(),
                          res.layers.size());
  }
  const size_t L = res.layers.size();
  // The configurations: every subset of float layers, or the prefixes of the ranking.
  std::vector<std::vector<LayerPrecision>> configs;
  res.exhaustive = static_cast<int>(L) <= o.max_exhaustive_layers;
  if (res.exhaustive) {
    for (uint64_t mask = 0; mask < (uint64_t{1} << L); ++mask) {
      std::vector<LayerPrecision> c(L, LayerPrecision::kInt8);
      for (size_t i = 0; i < L; ++i) {
        if ((mask >> i) & 1) c[i] = LayerPrecision::kFloat;
      }
      configs.push_back(std::move(c));
    }
  } else {
    std::vector<std::string> order = o.ranking.empty() ? res.layers : o.ranking;
    std::vector<LayerPrecision> c(L, LayerPrecision::kInt8);
    configs.push_back(c);
    for (const std::string& r : order) {
      const auto it = std::find(res.layers.begin(), res.layers.end(), r);
      if (it == res.layers.end()) {
        return invalid_argument(
            "cannot run mixed precision: ranked layer = '{}', must be a quantized layer", r);
      }
      c[static_cast<size_t>(it - res.layers.begin())] = LayerPrecision::kFloat;
      configs.push_back(c);
    }
  }
  std::vector<QuantizedModel> models;
  for (const std::vector<LayerPrecision>& c : configs) {
    PricedPoint pt;
    pt.precision = c;
    PtqOptions po = o.ptq;
    std::string names;
    for (size_t i = 0; i < L; ++i) {
      if (c[i] != LayerPrecision::kFloat) continue;
      po.exclude_nodes.push_back(res.layers[i]);
      names += (names.empty() ? "" : ";") + res.layers[i];
    }
    pt.label = names.empty() ? "all int8" : "float: " + names;
    EI8_ASSIGN_OR_RETURN(QuantizedModel m, quantize_model(g, table, po));
    EI8_ASSIGN_OR_RETURN(Evaluation e, evaluate_model(m, ev, fp32.top1, o.batch));
    pt.accuracy = e.accuracy;
    pt.agreement = e.agreement;
    pt.drop_points = 100.0 * (fp32.accuracy - e.accuracy);
    pt.within_target = pt.drop_points <= o.max_drop_points + 1e-9;
    if (o.cost == CostMetric::kLatency) {
      EI8_ASSIGN_OR_RETURN(pt.cost, o.latency(m, 1));
    } else {
      pt.cost = 0.0;
      for (size_t i = 0; i < L; ++i) pt.cost += res.prices[i].cost[index_of(c[i])];
    }
    res.points.push_back(std::move(pt));
    models.push_back(std::move(m));
  }
  // Pareto flags: no other point at most as costly and at least as accurate, one strictly.
  for (PricedPoint& p : res.points) {
    p.pareto = std::none_of(res.points.begin(), res.points.end(), [&](const PricedPoint& q) {
      return q.cost <= p.cost && q.accuracy >= p.accuracy &&
             (q.cost < p.cost || q.accuracy > p.accuracy);
    });
  }
  // The choice: the cheapest within the target (ties: more accurate, then fewer float layers);
  // none within: the most accurate (ties: cheaper).
  auto floats = [](const PricedPoint& p) {
    return std::count(p.precision.begin(), p.precision.end(), LayerPrecision::kFloat);
  };
  std::optional<size_t> best;
  for (size_t i = 0; i < res.points.size(); ++i) {
    const PricedPoint& p = res.points[i];
    if (!p.within_target) continue;
    if (!best) {
      best = i;
      continue;
    }
    const PricedPoint& b = res.points[*best];
    if (p.cost < b.cost ||
        (p.cost == b.cost &&
         (p.accuracy > b.accuracy || (p.accuracy == b.accuracy && floats(p) < floats(b))))) {
      best = i;
    }
  }
  res.reached = best.has_value();
  if (!best) {
    best = 0;
    for (size_t i = 1; i < res.points.size(); ++i) {
      const PricedPoint& p = res.points[i];
      const PricedPoint& b = res.points[*best];
      if (p.accuracy > b.accuracy || (p.accuracy == b.accuracy && p.cost < b.cost)) best = i;
    }
  }
  res.chosen = *best;
  const PricedPoint& c = res.points[res.chosen];
  const std::string unit(cost_metric_unit(o.cost));
  res.message =
      res.reached
          ? fmt::format(
                "chosen {}: drop {:.2f} points <= target {:.2f} at {} {:.6g} {} ({} of "
                "{} configurations evaluated{})",
                c.label, c.drop_points, o.max_drop_points, cost_metric_name(o.cost), c.cost, unit,
                res.points.size(), res.points.size(),
                res.exhaustive ? ", exhaustive" : ", ranking prefixes")
          : fmt::format(
                "target drop <= {:.2f} points not reached: best {} with drop {:.2f} "
                "points at {} {:.6g} {}",
                o.max_drop_points, c.label, c.drop_points, cost_metric_name(o.cost), c.cost, unit);
  res.model = std::move(models[res.chosen]);
  return res;
}

}  // namespace ei8::quant
