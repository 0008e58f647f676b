// quant/priced_precision.h with pipeline/layer_prices.h: the mixed-precision search with a hardware
// price, on a model with a deliberately sensitive layer (two_conv_cnn with conv1's output channels
// 100x apart, conv2's inputs unscaled: the same float function, per-tensor quantization breaks it).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "ei8/arch/energy.h"
#include "ei8/arch/model_workload.h"
#include "ei8/arch/systolic_model.h"
#include "ei8/core/rng.h"
#include "ei8/graph/passes.h"
#include "ei8/graph/shape_inference.h"
#include "ei8/pipeline/layer_prices.h"
#include "ei8/quant/calibration.h"
#include "ei8/quant/priced_precision.h"
#include "ei8/quant/simulate.h"
#include "test_graphs.h"

namespace ei8::quant {
namespace {

constexpr uint64_t kSeed = 20261209;

// The sanitizer build (-O0) evaluates one cost metric per search test and fewer samples: every
// configuration is a quantization and an integer-engine run (int16 layers on reference loops).
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kSanitized = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif
#else
constexpr bool kSanitized = false;
#endif
const std::vector<CostMetric> kSearchMetrics =
    kSanitized
        ? std::vector<CostMetric>{CostMetric::kEnergy}
        : std::vector<CostMetric>{CostMetric::kBytes, CostMetric::kCycles, CostMetric::kEnergy};

Tensor inputs(uint64_t seed, int64_t n) {
  Rng rng(seed);
  return random_tensor(rng, {n, 3, 8, 8}, -1.0f, 1.0f);
}

Graph sensitive_model() {
  Graph g = two_conv_cnn(kSeed);
  const float f[6] = {1.0f, 100.0f, 0.03f, 30.0f, 0.1f, 3.0f};
  Tensor& w1 = *g.find_value("conv1_w")->data;
  Tensor& b1 = *g.find_value("conv1_b")->data;
  Tensor& w2 = *g.find_value("conv2_w")->data;
  for (int64_t c = 0; c < 6; ++c) {
    for (int64_t k = 0; k < 27; ++k) w1.span<float>()[static_cast<size_t>(c * 27 + k)] *= f[c];
    b1.span<float>()[static_cast<size_t>(c)] *= f[c];
    for (int64_t o = 0; o < 6; ++o) {
      for (int64_t k = 0; k < 9; ++k) {
        w2.span<float>()[static_cast<size_t>((o * 6 + c) * 9 + k)] /= f[c];
      }
    }
  }
  EXPECT_TRUE(optimize(g).ok());
  return g;
}

struct Problem {
  Graph g;
  CalibTable table;
  EvalSet ev;
};

Problem problem(Graph g = sensitive_model(),
                WeightGranularity weights = WeightGranularity::kPerTensor) {
  Problem s{std::move(g), {}, {}};
  const Tensor calib = inputs(kSeed + 1, 128), x = inputs(kSeed + 2, kSanitized ? 120 : 240);
  Result<Statistics> st = collect_statistics(s.g, calib, {});
  EXPECT_TRUE(st.ok());
  PtqOptions po;
  po.weights = weights;
  CalibParams cp;
  cp.method = CalibMethod::kMinMax;
  s.table = make_table(st.value(), calib_target(po, cp)).value();
  // Labels: the float model's top-1 (its accuracy is 100 %).
  const std::vector<int64_t> labels = argmax_rows(run_batched(s.g, x, 64).value());
  s.ev = make_eval_set(s.g, x, labels).value();
  return s;
}

arch::ArrayConfig small_array() {
  arch::ArrayConfig a;
  a.rows = 8;
  a.cols = 8;
  a.ifmap_sram_kb = 1;
  a.filter_sram_kb = 1;
  a.ofmap_sram_kb = 1;
  a.bandwidth = 4;
  return a;
}

PricedOptions options(CostMetric c) {
  PricedOptions o;
  o.cost = c;
  o.max_drop_points = 1.0;
  o.ptq.weights = WeightGranularity::kPerTensor;
  // A small array with little SRAM and a narrow DRAM interface, so that operand bytes show.
  if (c == CostMetric::kCycles || c == CostMetric::kEnergy) {
    o.price = pipeline::arch_layer_prices(c, small_array());
  }
  return o;
}

TEST(PricedPrecision, ChosenPointMeetsTheDropIsOnTheParetoSetAndIsTheCheapest) {
  std::printf("seed %llu\n", static_cast<unsigned long long>(kSeed));
  const Problem s = problem();
  for (CostMetric c : kSearchMetrics) {
    SCOPED_TRACE(cost_metric_name(c));
    Result<PricedResult> r = priced_mixed_precision(s.g, s.table, s.ev, options(c));
    ASSERT_TRUE(r.ok()) << r.status().message();
    ASSERT_EQ(r->layers, (std::vector<std::string>{"conv1", "conv2", "fc"}));
    EXPECT_TRUE(r->exhaustive);
    ASSERT_EQ(r->points.size(), 27u);  // 3^3: int8 / int16 / float per layer
    // The all-int8 point is deliberately off target: the search has something to do.
    EXPECT_EQ(r->points[0].label, "all int8");
    EXPECT_GT(r->points[0].drop_points, 5.0) << r->points[0].drop_points;
    ASSERT_TRUE(r->reached) << r->message;
    const PricedPoint& ch = r->points[r->chosen];
    EXPECT_TRUE(ch.within_target);
    EXPECT_LE(ch.drop_points, 1.0);
    EXPECT_TRUE(ch.pareto);
    for (const PricedPoint& p : r->points) {
      if (p.within_target) {
        EXPECT_GE(p.cost, ch.cost) << p.label;
      }
      // Pareto: recomputed here.
      bool dominated = false;
      for (const PricedPoint& q : r->points) {
        dominated = dominated || (q.cost <= p.cost && q.accuracy >= p.accuracy &&
                                  (q.cost < p.cost || q.accuracy > p.accuracy));
      }
      EXPECT_EQ(p.pareto, !dominated) << p.label;
    }
    // A float layer never costs less than its int16 form, nor int16 less than int8 (cycles:
    // the same on a compute-bound layer), and in total float costs more.
    for (const LayerPrice& lp : r->prices) {
      EXPECT_GE(lp.cost[static_cast<size_t>(LayerPrecision::kFloat)],
                lp.cost[static_cast<size_t>(LayerPrecision::kInt16)])
          << lp.node;
      EXPECT_GE(lp.cost[static_cast<size_t>(LayerPrecision::kInt16)],
                lp.cost[static_cast<size_t>(LayerPrecision::kInt8)])
          << lp.node;
    }
    if (c != CostMetric::kCycles) {
      // Bytes and energy: int16 is strictly cheaper than float, dearer than int8, per layer.
      for (const LayerPrice& lp : r->prices) {
        EXPECT_LT(lp.cost[static_cast<size_t>(LayerPrecision::kInt16)],
                  lp.cost[static_cast<size_t>(LayerPrecision::kFloat)])
            << lp.node;
        EXPECT_GT(lp.cost[static_cast<size_t>(LayerPrecision::kInt16)],
                  lp.cost[static_cast<size_t>(LayerPrecision::kInt8)])
            << lp.node;
      }
    }
    EXPECT_GT(r->points.back().cost, r->points[0].cost);
    std::printf("%s: chosen '%s' drop %.2f cost %.6g (all int8 %.6g, all float %.6g)\n",
                std::string(cost_metric_name(c)).c_str(), ch.label.c_str(), ch.drop_points, ch.cost,
                r->points[0].cost, r->points.back().cost);
    // The chosen model is the chosen configuration.
    EXPECT_EQ(r->model.layers.size(),
              static_cast<size_t>(
                  std::count_if(ch.precision.begin(), ch.precision.end(),
                                [](LayerPrecision p) { return p != LayerPrecision::kFloat; })));
    for (size_t i = 0; i < r->layers.size(); ++i) {
      if (ch.precision[i] != LayerPrecision::kInt16) continue;
      const auto it = std::find_if(r->model.layers.begin(), r->model.layers.end(),
                                   [&](const QuantizedLayer& l) { return l.node == r->layers[i]; });
      ASSERT_NE(it, r->model.layers.end());
      EXPECT_EQ(it->precision, LayerPrecision::kInt16) << r->layers[i];
    }
  }
}

// activation_outlier_cnn (test_graphs.h), per-channel weights: conv1's output holds an unread
// channel near 300, so int8 activations crush the others and int16 keeps them; the weights are
// fine. On every metric where int16 is cheaper than float (bytes, energy), the chosen point uses
// int16 and no float layer. The greedy search (not exhaustive) meets the same target with fewer
// evaluations and a chosen point on the Pareto set of what it evaluated, never cheaper than the
// exhaustive optimum.
TEST(PricedPrecision, Int16IsChosenWhereItIsCheaperAndTheGreedySearchMeetsTheTarget) {
  Graph g = activation_outlier_cnn(kSeed);
  ASSERT_TRUE(optimize(g).ok());
  const Problem s = problem(std::move(g), WeightGranularity::kPerChannel);
  for (CostMetric c : kSearchMetrics) {
    SCOPED_TRACE(cost_metric_name(c));
    PricedOptions eo = options(c);
    eo.ptq.weights = WeightGranularity::kPerChannel;
    Result<PricedResult> ex = priced_mixed_precision(s.g, s.table, s.ev, eo);
    ASSERT_TRUE(ex.ok()) << ex.status().message();
    const PricedPoint& ec = ex->points[ex->chosen];
    if (c != CostMetric::kCycles) {
      EXPECT_EQ(std::count(ec.precision.begin(), ec.precision.end(), LayerPrecision::kFloat), 0)
          << ec.label;
      EXPECT_GE(std::count(ec.precision.begin(), ec.precision.end(), LayerPrecision::kInt16), 1)
          << ec.label;
    }
    EXPECT_GE(ex->points[0].drop_points, 1.0);  // all int8 (4.5 points with this seed)
    PricedOptions o = eo;
    o.max_exhaustive_layers = 0;
    o.ranking = {"conv2", "conv1", "fc"};
    Result<PricedResult> gr = priced_mixed_precision(s.g, s.table, s.ev, o);
    ASSERT_TRUE(gr.ok()) << gr.status().message();
    EXPECT_FALSE(gr->exhaustive);
    ASSERT_TRUE(gr->reached) << gr->message;
    const PricedPoint& gc = gr->points[gr->chosen];
    EXPECT_TRUE(gc.within_target);
    EXPECT_TRUE(gc.pareto);
    EXPECT_LT(gr->points.size(), ex->points.size());
    EXPECT_GE(gc.cost, ec.cost);
    // The same configuration costs the same in both searches.
    for (const PricedPoint& p : ex->points) {
      if (p.precision == gc.precision) {
        EXPECT_DOUBLE_EQ(p.cost, gc.cost);
        EXPECT_DOUBLE_EQ(p.accuracy, gc.accuracy);
      }
    }
    std::printf("%s: exhaustive chose '%s' at %.6g (%zu points); greedy '%s' at %.6g (%zu)\n",
                std::string(cost_metric_name(c)).c_str(), ec.label.c_str(), ec.cost,
                ex->points.size(), gc.label.c_str(), gc.cost, gr->points.size());
  }
}

// Cycles and energy are the simulator's per-layer numbers (same layer view as `edgeint8 arch`),
// with the operand width of each precision; a configuration's cost is their sum.
TEST(PricedPrecision, CostsAreTheSimulatorsPerLayerNumbers) {
  const Problem s = problem();
  Graph shaped = s.g;
  ASSERT_TRUE(infer_shapes(shaped).ok());
  const arch::Workload w = arch::workload_from_graph(shaped).value();
  const std::vector<std::string> layers = {"conv1", "conv2", "fc"};
  for (CostMetric c : {CostMetric::kCycles, CostMetric::kEnergy}) {
    const PricedOptions o = options(c);
    // The prices the search uses (its price function), checked layer by layer; one search (energy)
    // checks that a point's cost is their sum.
    Result<std::vector<LayerPrice>> prices = o.price(s.g, layers);
    ASSERT_TRUE(prices.ok()) << prices.status().message();
    ASSERT_EQ(prices->size(), 3u);
    for (const LayerPrice& lp : *prices) {
      for (LayerPrecision p : kSearchPrecisions) {
        arch::ArrayConfig a = small_array();
        a.word_bytes = precision_word_bytes(p);
        a.bandwidth = std::max<int64_t>(1, small_array().bandwidth / a.word_bytes);
        double cycles = 0, energy = 0;
        for (const arch::Layer& l : w.layers) {
          if (l.name != lp.node) continue;
          const arch::LayerStats st = arch::simulate_layer(l, a).value();
          cycles += static_cast<double>(st.total_cycles);
          energy += arch::layer_energy(p == LayerPrecision::kInt8 ? arch::default_energy_table()
                                       : p == LayerPrecision::kInt16
                                           ? pipeline::default_int16_energy_table()
                                           : pipeline::default_float_energy_table(),
                                       arch::action_counts(st), a)
                        .total() /
                    1000.0;
        }
        ASSERT_GT(cycles, 0.0) << lp.node;
        const double want = c == CostMetric::kCycles ? cycles : energy;
        EXPECT_DOUBLE_EQ(lp.cost[static_cast<size_t>(p)], want)
            << lp.node << " " << layer_precision_name(p);
      }
    }
    if (c != CostMetric::kEnergy) continue;
    PricedOptions so = o;
    if (kSanitized) so.max_exhaustive_layers = 0;  // greedy: fewer configurations
    Result<PricedResult> r = priced_mixed_precision(s.g, s.table, s.ev, so);
    ASSERT_TRUE(r.ok()) << r.status().message();
    ASSERT_EQ(r->layers, layers);
    for (size_t i = 0; i < layers.size(); ++i) {
      EXPECT_EQ(r->prices[i].cost, (*prices)[i].cost) << layers[i];
    }
    for (const PricedPoint& pt : r->points) {
      double sum = 0;
      for (size_t i = 0; i < r->layers.size(); ++i) {
        sum += r->prices[i].cost[static_cast<size_t>(pt.precision[i])];
      }
      EXPECT_DOUBLE_EQ(pt.cost, sum) << pt.label;
    }
  }
}

TEST(PricedPrecision, BadInputIsAClearError) {
  EXPECT_EQ(parse_cost_metric("watts").status().message(),
            "cannot parse cost: cost = 'watts', must be bytes, latency, cycles or energy");
  const Problem s = problem();
  Result<PricedResult> r =
      priced_mixed_precision(s.g, s.table, s.ev, options(CostMetric::kLatency));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(),
            "cannot run mixed precision: latency function = absent, must be given for cost "
            "latency");
  PricedOptions np = options(CostMetric::kCycles);
  np.price = nullptr;
  r = priced_mixed_precision(s.g, s.table, s.ev, np);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(),
            "cannot run mixed precision: price function = absent, must be given for cost cycles");
  PricedOptions o = options(CostMetric::kBytes);
  o.max_drop_points = -1;
  EXPECT_FALSE(priced_mixed_precision(s.g, s.table, s.ev, o).ok());
  EvalSet unlabelled = s.ev;
  unlabelled.labels.clear();
  EXPECT_FALSE(priced_mixed_precision(s.g, s.table, unlabelled, options(CostMetric::kBytes)).ok());
}

}  // namespace
}  // namespace ei8::quant
