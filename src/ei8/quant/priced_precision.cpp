#include "ei8/quant/priced_precision.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <optional>
#include <set>

#include "ei8/graph/shape_inference.h"
#include "ei8/quant/quant_math.h"

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

// Parameter bytes of a layer in precision p, plus the activation bytes it reads and writes per
// sample (its input and output values at the precision's width: int8 1, int16 2, float 4 B).
double layer_bytes(const Graph& g, const Node& n, LayerPrecision p, int weight_bits) {
  const Tensor* w = n.inputs.size() > 1 ? g.constant(n.input(1)) : nullptr;
  const Tensor* b = n.inputs.size() > 2 ? g.constant(n.input(2)) : nullptr;
  const double wn = w != nullptr ? static_cast<double>(w->numel()) : 0.0;
  const double bn = b != nullptr ? static_cast<double>(b->numel()) : 0.0;
  double act = 0.0;
  for (const std::string* v : {&n.inputs[0], &n.outputs[0]}) {
    const Value* val = g.find_value(*v);
    if (val == nullptr || !val->has_shape) continue;
    double e = 1.0;
    for (size_t d = 0; d < val->shape.size(); ++d) {
      // The batch dimension (dynamic or not) is one sample.
      if (d > 0 || val->shape.size() == 1)
        e *= static_cast<double>(std::max<int64_t>(1, val->shape[d]));
    }
    act += e * static_cast<double>(precision_word_bytes(p));
  }
  if (p == LayerPrecision::kFloat) return 4.0 * (wn + bn) + act;
  // Every int8 or A16W8 layer has int8 weights and an int32 bias (one per output channel).
  const double channels = w != nullptr && w->rank() > 0 ? static_cast<double>(w->dim(0)) : 0.0;
  return std::ceil(wn * weight_bits / 8.0) + 4.0 * std::max(bn, channels) + act;
}

}  // namespace

Result<std::vector<LayerPrice>> byte_prices(const Graph& g, const std::vector<std::string>& layers,
                                            int weight_bits) {
  Graph shaped = g;
  EI8_RETURN_IF_ERROR(infer_shapes(shaped));
  std::vector<LayerPrice> prices;
  for (const std::string& name : layers) {
    const Node* n = node_named(shaped, name);
    if (n == nullptr) {
      return invalid_argument("cannot price layer '{}': node = absent, must be in graph '{}'", name,
                              g.name());
    }
    LayerPrice lp{name, std::vector<double>(kPrecisions, NAN), std::vector<int64_t>(kPrecisions)};
    for (LayerPrecision p : kSearchPrecisions) {
      lp.cost[index_of(p)] = layer_bytes(shaped, *n, p, weight_bits);
    }
    prices.push_back(std::move(lp));
  }
  return prices;
}

namespace {

// One configuration's label: "all int8", or "int16: a;b" and/or "float: c" (graph order).
std::string config_label(const std::vector<std::string>& layers,
                         const std::vector<LayerPrecision>& c) {
  std::string i16, fl;
  for (size_t i = 0; i < layers.size(); ++i) {
    std::string& s = c[i] == LayerPrecision::kInt16 ? i16 : fl;
    if (c[i] == LayerPrecision::kInt8) continue;
    s += (s.empty() ? "" : ";") + layers[i];
  }
  if (i16.empty() && fl.empty()) return "all int8";
  std::string out = i16.empty() ? "" : "int16: " + i16;
  if (!fl.empty()) out += (out.empty() ? "" : " ") + std::string("float: ") + fl;
  return out;
}

}  // namespace

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
  if (o.max_exhaustive_layers < 0 || o.max_exhaustive_layers > 8) {
    return invalid_argument(
        "cannot run mixed precision: max exhaustive layers = {}, must be in [0, 8]",
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
  for (const std::string& r : o.ranking) {
    if (std::find(res.layers.begin(), res.layers.end(), r) == res.layers.end()) {
      return invalid_argument(
          "cannot run mixed precision: ranked layer = '{}', must be a quantized layer", r);
    }
  }
  const size_t L = res.layers.size();
  // Every configuration is evaluated once (cache by precision vector).
  std::vector<QuantizedModel> models;
  std::map<std::vector<LayerPrecision>, size_t> seen;
  auto evaluate = [&](const std::vector<LayerPrecision>& c) -> Result<size_t> {
    if (const auto it = seen.find(c); it != seen.end()) return it->second;
    PricedPoint pt;
    pt.precision = c;
    pt.label = config_label(res.layers, c);
    PtqOptions po = o.ptq;
    for (size_t i = 0; i < L; ++i) {
      if (c[i] == LayerPrecision::kFloat) po.exclude_nodes.push_back(res.layers[i]);
      if (c[i] == LayerPrecision::kInt16) po.layer_precision[res.layers[i]] = c[i];
    }
    EI8_ASSIGN_OR_RETURN(QuantizedModel m, quantize_model(g, table, po));
    EI8_ASSIGN_OR_RETURN(Evaluation e, evaluate_model(m, ev, fp32.top1, o.batch));
    pt.accuracy = e.accuracy;
    pt.agreement = e.agreement;
    pt.drop_points = 100.0 * (fp32.accuracy - e.accuracy);
    pt.within_target = pt.drop_points <= o.max_drop_points + 1e-9;
    EI8_ASSIGN_OR_RETURN(ErrorMetrics em,
                         error_metrics(fp32.logits.span<float>(), e.logits.span<float>()));
    pt.logits_sqnr_db = em.sqnr_db;
    if (o.cost == CostMetric::kLatency) {
      EI8_ASSIGN_OR_RETURN(pt.cost, o.latency(m, 1));
    } else {
      pt.cost = 0.0;
      for (size_t i = 0; i < L; ++i) pt.cost += res.prices[i].cost[index_of(c[i])];
    }
    res.points.push_back(std::move(pt));
    models.push_back(std::move(m));
    seen.emplace(c, res.points.size() - 1);
    return res.points.size() - 1;
  };
  res.exhaustive = static_cast<int>(L) <= o.max_exhaustive_layers;
  if (res.exhaustive) {
    // Every one of the 3^L configurations, in base-3 order (layer 0 the lowest digit).
    size_t n = 1;
    for (size_t i = 0; i < L; ++i) n *= std::size(kSearchPrecisions);
    for (size_t k = 0; k < n; ++k) {
      std::vector<LayerPrecision> c(L);
      size_t r = k;
      for (size_t i = 0; i < L; ++i) {
        c[i] = kSearchPrecisions[r % std::size(kSearchPrecisions)];
        r /= std::size(kSearchPrecisions);
      }
      EI8_RETURN_IF_ERROR(evaluate(c).status());
    }
  } else {
    // Greedy by accuracy gain per cost (a multiple-choice knapsack heuristic): from all int8,
    // each step evaluates every one-layer upgrade (int8 → int16 | float, int16 → float) and
    // takes the one with the largest accuracy gain per added cost; when no upgrade gains
    // accuracy (top-1 is coarse), the largest logits-SQNR gain per cost; when none gains either,
    // the most accurate upgrade. At most 2L steps of at most 2L evaluations: O(L²), not 3^L.
    // Then a pruning pass lowers layers again while the target still holds (cheapest first).
    std::vector<LayerPrecision> cur(L, LayerPrecision::kInt8);
    EI8_ASSIGN_OR_RETURN(size_t ci, evaluate(cur));
    auto rank_of = [&](size_t i) {
      const auto it = std::find(o.ranking.begin(), o.ranking.end(), res.layers[i]);
      return static_cast<size_t>(it - o.ranking.begin());
    };
    while (!res.points[ci].within_target) {
      struct Cand {
        size_t point;
        std::vector<LayerPrecision> c;
        size_t rank;
      };
      std::vector<Cand> cands;
      for (size_t i = 0; i < L; ++i) {
        for (LayerPrecision q : kSearchPrecisions) {
          if (index_of(q) <= index_of(cur[i])) continue;
          std::vector<LayerPrecision> c = cur;
          c[i] = q;
          EI8_ASSIGN_OR_RETURN(size_t k, evaluate(c));
          cands.push_back({k, std::move(c), rank_of(i)});
        }
      }
      if (cands.empty()) break;
      const PricedPoint base = res.points[ci];
      auto per_cost = [&](double gain, const PricedPoint& p) {
        const double dc = p.cost - base.cost;
        return dc > 0 ? gain / dc : gain * 1e300;  // free or cheaper and better: best
      };
      auto pick = [&](auto gain) -> std::optional<size_t> {
        std::optional<size_t> best;
        double best_score = 0.0;
        for (size_t k = 0; k < cands.size(); ++k) {
          const PricedPoint& p = res.points[cands[k].point];
          const double gn = gain(p);
          if (!(gn > 0.0)) continue;
          const double sc = per_cost(gn, p);
          if (!best || sc > best_score || (sc == best_score && cands[k].rank < cands[*best].rank)) {
            best = k;
            best_score = sc;
          }
        }
        return best;
      };
      std::optional<size_t> k =
          pick([&](const PricedPoint& p) { return p.accuracy - base.accuracy; });
      if (!k) {
        k = pick([&](const PricedPoint& p) {
          const double a = std::isinf(p.logits_sqnr_db) ? 1e9 : p.logits_sqnr_db;
          const double b = std::isinf(base.logits_sqnr_db) ? 1e9 : base.logits_sqnr_db;
          return a - b;
        });
      }
      if (!k) {
        k = 0;
        for (size_t j = 1; j < cands.size(); ++j) {
          const PricedPoint& p = res.points[cands[j].point];
          const PricedPoint& b = res.points[cands[*k].point];
          if (p.accuracy > b.accuracy || (p.accuracy == b.accuracy && p.cost < b.cost)) k = j;
        }
      }
      cur = cands[*k].c;
      ci = cands[*k].point;
    }
    // Pruning: lower one layer (to int8, or float → int16) while the target holds, cheapest
    // result first, until no lowering keeps it.
    while (res.points[ci].within_target) {
      std::optional<size_t> best;
      std::vector<LayerPrecision> best_c;
      for (size_t i = 0; i < L; ++i) {
        for (LayerPrecision q : kSearchPrecisions) {
          if (index_of(q) >= index_of(cur[i])) continue;
          std::vector<LayerPrecision> c = cur;
          c[i] = q;
          EI8_ASSIGN_OR_RETURN(size_t k, evaluate(c));
          const PricedPoint& p = res.points[k];
          if (p.within_target && p.cost < res.points[ci].cost &&
              (!best || p.cost < res.points[*best].cost)) {
            best = k;
            best_c = c;
          }
        }
      }
      if (!best) break;
      cur = best_c;
      ci = *best;
    }
  }
  // Pareto flags: no other point at most as costly and at least as accurate, one strictly.
  for (PricedPoint& p : res.points) {
    p.pareto = std::none_of(res.points.begin(), res.points.end(), [&](const PricedPoint& q) {
      return q.cost <= p.cost && q.accuracy >= p.accuracy &&
             (q.cost < p.cost || q.accuracy > p.accuracy);
    });
  }
  // The choice: the cheapest within the target (ties: more accurate, then fewer wide layers);
  // none within: the most accurate (ties: cheaper).
  auto width = [](const PricedPoint& p) {
    size_t w = 0;
    for (LayerPrecision q : p.precision) w += index_of(q);
    return w;
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
         (p.accuracy > b.accuracy || (p.accuracy == b.accuracy && width(p) < width(b))))) {
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
                "chosen {}: drop {:.2f} points <= target {:.2f} at {} {:.6g} {} ({} "
                "configurations evaluated{})",
                c.label, c.drop_points, o.max_drop_points, cost_metric_name(o.cost), c.cost, unit,
                res.points.size(),
                res.exhaustive ? ", exhaustive over int8/int16/float" : ", greedy gain per cost")
          : fmt::format(
                "target drop <= {:.2f} points not reached: best {} with drop {:.2f} "
                "points at {} {:.6g} {}",
                o.max_drop_points, c.label, c.drop_points, cost_metric_name(o.cost), c.cost, unit);
  res.model = std::move(models[res.chosen]);
  return res;
}

}  // namespace ei8::quant
