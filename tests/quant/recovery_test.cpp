// Accuracy recovery on small graphs (test_graphs.h): cross-layer equalization and bias
// absorption keep the float function; bias correction and AdaRound lower the quantization error
// they target; bad input (chains CLE cannot equalize, too little data or time) is reported.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "ei8/core/rng.h"
#include "ei8/graph/passes.h"
#include "ei8/quant/calibration.h"
#include "ei8/quant/equalize.h"
#include "ei8/quant/recovery.h"
#include "ei8/quant/sensitivity.h"
#include "ei8/quant/simulate.h"
#include "test_graphs.h"

namespace ei8::quant {
namespace {

constexpr uint64_t kSeed = 20261207;  // every random tensor below derives from it

Tensor inputs(uint64_t seed, int64_t n) {
  Rng rng(seed);
  return random_tensor(rng, {n, 3, 8, 8}, -1.0f, 1.0f);
}

Tensor run(const Graph& g, const Tensor& x) {
  Result<Tensor> y = run_batched(g, x, 16);
  EXPECT_TRUE(y.ok()) << y.status().message();
  return y.ok() ? std::move(y).value() : Tensor();
}

// max |a − b| / max |a|.
double rel_diff(const Tensor& a, const Tensor& b) {
  double d = 0, m = 0;
  for (size_t i = 0; i < a.span<float>().size(); ++i) {
    d = std::max(d, static_cast<double>(std::fabs(a.span<float>()[i] - b.span<float>()[i])));
    m = std::max(m, static_cast<double>(std::fabs(a.span<float>()[i])));
  }
  return d / m;
}

double sqnr_db(const Tensor& ref, const Tensor& test) {
  double s = 0, n = 0;
  for (size_t i = 0; i < ref.span<float>().size(); ++i) {
    const double a = ref.span<float>()[i], e = a - test.span<float>()[i];
    s += a * a;
    n += e * e;
  }
  return 10 * std::log10(s / n);
}

Tensor* weight(Graph& g, const std::string& name) { return &*g.find_value(name)->data; }

// two_conv_cnn with conv1's output channel c multiplied by f_c and conv2's input channel c by
// 1/f_c (f_c from 0.03 to 30 and one at 100): the same function across the ReLU, per-channel
// weight ranges 100x or more apart.
Graph scaled_two_conv(uint64_t seed) {
  Graph g = two_conv_cnn(seed);
  const float f[6] = {1.0f, 100.0f, 0.03f, 30.0f, 0.1f, 3.0f};
  Tensor& w1 = *weight(g, "conv1_w");
  Tensor& b1 = *weight(g, "conv1_b");
  Tensor& w2 = *weight(g, "conv2_w");
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

Graph optimized(Graph g) {
  EXPECT_TRUE(optimize(g).ok());
  return g;
}

QuantizedModel quantized(const Graph& g, const Tensor& calib, WeightGranularity w, int bits = 8) {
  Result<Statistics> st = collect_statistics(g, calib, {});
  EXPECT_TRUE(st.ok()) << st.status().message();
  PtqOptions o;
  o.weights = w;
  o.weight_bits = bits;
  CalibParams cp;
  cp.method = CalibMethod::kMinMax;
  Result<CalibTable> t = make_table(st.value(), calib_target(o, cp));
  EXPECT_TRUE(t.ok());
  Result<QuantizedModel> m = quantize_model(g, t.value(), o);
  EXPECT_TRUE(m.ok()) << m.status().message();
  return std::move(m).value();
}

Tensor simulate(const QuantizedModel& m, const Tensor& x) {
  Result<Graph> s = simulation_graph(m.qdq);
  EXPECT_TRUE(s.ok());
  return run(s.value(), x);
}

TEST(Equalize, KeepsTheFunctionAndEvensTheChannelRanges) {
  SCOPED_TRACE(fmt::format("seed {}", kSeed));
  Graph g = scaled_two_conv(kSeed);
  const Tensor x = inputs(kSeed + 1, 40);
  const Tensor before = run(g, x);
  Result<EqualizeReport> r = equalize_cross_layer(g, {});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_TRUE(r->converged);
  ASSERT_EQ(r->pairs.size(), 2u);  // conv1 -> conv2, conv2 -> (Relu, MaxPool, Flatten) -> fc
  EXPECT_EQ(r->pairs[0].first, "conv1");
  EXPECT_EQ(r->pairs[0].second, "conv2");
  EXPECT_EQ(r->pairs[1].second, "fc");
  EXPECT_EQ(r->pairs[1].via, "Relu,MaxPool,Flatten");
  EXPECT_GE(r->pairs[0].first_spread_before, 100.0);
  EXPECT_LT(r->pairs[0].first_spread_after, 10.0);
  EXPECT_LE(rel_diff(before, run(g, x)), 1e-5);
}

TEST(Equalize, PerTensorWeightsRecoverAfterEqualization) {
  SCOPED_TRACE(fmt::format("seed {}", kSeed));
  const Graph g = scaled_two_conv(kSeed);
  const Tensor calib = inputs(kSeed + 2, 64), x = inputs(kSeed + 3, 40);
  const Tensor ref = run(g, x);
  const double plain =
      sqnr_db(ref, simulate(quantized(g, calib, WeightGranularity::kPerTensor), x));
  Graph e = g;
  ASSERT_TRUE(equalize_cross_layer(e, {}).ok());
  const double cle = sqnr_db(ref, simulate(quantized(e, calib, WeightGranularity::kPerTensor), x));
  EXPECT_GT(cle, plain + 10.0) << "per-tensor SQNR " << plain << " dB -> " << cle << " dB";
}

// The target, with the float model's top-1 as the label (no labelled data): per-channel
// weight ranges >= 100x apart lose >= 5 points with per-tensor weights (per-channel weights do
// not help: conv1's output channels, one activation tensor, are 100x apart too); after CLE the
// drop is within 0.5 points of the unscaled network's own per-tensor drop (the floor this random
// 5-class model has: 0.6 points here, so "<= 0.5 absolute" is not reachable on it).
TEST(Equalize, PerTensorTop1DropRecoversToTheUnscaledModelsAfterCle) {
  SCOPED_TRACE(fmt::format("seed {}", kSeed));
  const Graph g = scaled_two_conv(kSeed);
  const Tensor calib = inputs(kSeed + 20, 128), x = inputs(kSeed + 21, 1000);
  auto drop = [&](const Graph& f, const QuantizedModel& m) {
    const std::vector<int64_t> ref = argmax_rows(run(f, x)), t = argmax_rows(simulate(m, x));
    int64_t same = 0;
    for (size_t i = 0; i < t.size(); ++i) same += t[i] == ref[i];
    return 100.0 - 100.0 * static_cast<double>(same) / static_cast<double>(t.size());
  };
  const double plain = drop(g, quantized(g, calib, WeightGranularity::kPerTensor));
  const double channel = drop(g, quantized(g, calib, WeightGranularity::kPerChannel));
  Graph e = g;
  ASSERT_TRUE(equalize_cross_layer(e, {}).ok());
  const double cle = drop(g, quantized(e, calib, WeightGranularity::kPerTensor));
  const Graph u = optimized(two_conv_cnn(kSeed));
  const double floor = drop(u, quantized(u, calib, WeightGranularity::kPerTensor));
  fmt::print(
      "top-1 drop vs float (1000 inputs): per-tensor {:.1f} points, per-channel {:.1f}, "
      "per-tensor after CLE {:.1f}; unscaled network per-tensor {:.1f}\n",
      plain, channel, cle, floor);
  EXPECT_GE(plain, 5.0);
  EXPECT_LE(cle, floor + 0.5);
}

TEST(Equalize, DepthwiseChainsAreEqualizedAndFunctionPreserved) {
  SCOPED_TRACE(fmt::format("seed {}", kSeed));
  Rng rng(kSeed);
  Graph g("dw");
  g.add_input("x", DType::kF32, {kDynamic, 3, 8, 8});
  auto conv = [&](const std::string& name, const std::string& in, const std::string& out, Shape w,
                  int64_t group, bool relu) {
    Tensor wt = random_tensor(rng, w, -0.5f, 0.5f);
    for (int64_t o = 0; o < w[0]; ++o) {  // channel ranges 1x .. 64x apart
      const float f = static_cast<float>(1 << (o % 7));
      const int64_t per = wt.numel() / w[0];
      for (int64_t k = 0; k < per; ++k) wt.span<float>()[static_cast<size_t>(o * per + k)] *= f;
    }
    g.add_initializer(name + "_w", wt);
    g.add_initializer(name + "_b", random_tensor(rng, {w[0]}, -0.1f, 0.1f));
    Node& n = g.add_node("Conv", name, {in, name + "_w", name + "_b"}, {out});
    n.set("kernel_shape", std::vector<int64_t>{w[2], w[3]});
    n.set("pads", std::vector<int64_t>(4, w[2] / 2));
    n.set("group", group);
    if (relu) n.set("activation", std::string("Relu"));
  };
  conv("pw1", "x", "a", {8, 3, 1, 1}, 1, true);
  conv("dw", "a", "b", {8, 1, 3, 3}, 8, true);
  conv("pw2", "b", "y", {4, 8, 1, 1}, 1, false);
  g.add_output("y");
  g = optimized(g);
  const Tensor x = inputs(kSeed + 4, 16);
  const Tensor before = run(g, x);
  Result<EqualizeReport> r = equalize_cross_layer(g, {});
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r->pairs.size(), 2u);
  EXPECT_EQ(r->pairs[0].second, "dw");
  EXPECT_EQ(r->pairs[1].first, "dw");
  EXPECT_LE(rel_diff(before, run(g, x)), 1e-5);
  EXPECT_LT(r->pairs[0].first_spread_after, r->pairs[0].first_spread_before);
}

TEST(Equalize, NonHomogeneousActivationsAreSkippedWithANote) {
  SCOPED_TRACE(fmt::format("seed {}", kSeed));
  // conv1 + ReLU6 (Clip 0..6) -> conv2: scaling would move the bound 6 per channel.
  Graph g = two_conv_cnn(kSeed);
  for (Node& n : g.nodes()) {
    if (n.name == "conv1") {
      n.set("activation", std::string("Clip"));
      n.set("activation_min", 0.0f);
      n.set("activation_max", 6.0f);
    }
  }
  g = optimized(g);
  const Tensor x = inputs(kSeed + 5, 8);
  const Tensor before = run(g, x);
  Result<EqualizeReport> r = equalize_cross_layer(g, {});
  ASSERT_TRUE(r.ok());
  ASSERT_FALSE(r->notes.empty());
  EXPECT_NE(r->notes[0].find("conv1"), std::string::npos) << r->notes[0];
  EXPECT_NE(r->notes[0].find("not positive-homogeneous"), std::string::npos) << r->notes[0];
  for (const EqualizedPair& p : r->pairs) EXPECT_NE(p.first, "conv1");
  EXPECT_LE(rel_diff(before, run(g, x)), 1e-5);

  // A Sigmoid between two convolutions: named too.
  Graph s = two_conv_cnn(kSeed);
  for (Node& n : s.nodes()) {
    if (n.name == "conv2") n.inputs[0] = "a_squashed";
    if (n.name == "conv1") n.erase("activation");
  }
  s.add_node("Sigmoid", "squash", {"a"}, {"a_squashed"});
  ASSERT_TRUE(s.sort_topologically().ok());
  s = optimized(s);
  Result<EqualizeReport> rs = equalize_cross_layer(s, {});
  ASSERT_TRUE(rs.ok());
  ASSERT_FALSE(rs->notes.empty());
  EXPECT_NE(rs->notes[0].find("'squash' (Sigmoid)"), std::string::npos) << rs->notes[0];
}

TEST(Equalize, BadOptionsAreErrors) {
  Graph g = optimized(small_cnn(kSeed));
  Result<EqualizeReport> r = equalize_cross_layer(g, {.max_iterations = 0});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("max_iterations = 0"), std::string::npos);
}

TEST(BiasAbsorption, MovesLargeBiasesAndKeepsTheFunctionOnTheData) {
  SCOPED_TRACE(fmt::format("seed {}", kSeed));
  Graph g = two_conv_cnn(kSeed);
  // conv2's channels 0..2 always well above zero: their bias moves into fc's.
  for (int64_t c = 0; c < 3; ++c)
    weight(g, "conv2_b")->span<float>()[static_cast<size_t>(c)] = 4.0f;
  g = optimized(g);
  const Tensor calib = inputs(kSeed + 6, 48);
  const Tensor before = run(g, calib);
  Result<AbsorbReport> r = absorb_high_biases(g, calib, {});
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r->layers.size(), 1u);
  EXPECT_EQ(r->layers[0].first, "conv2");
  EXPECT_EQ(r->layers[0].second, "fc");
  EXPECT_GE(r->layers[0].channels_absorbed, 3);
  EXPECT_GT(r->layers[0].max_shift, 1.0);
  // conv1 -> conv2 is not absorbed: conv2 pads with zeros.
  ASSERT_FALSE(r->notes.empty());
  EXPECT_NE(r->notes[0].find("'conv2' pads with zeros"), std::string::npos) << r->notes[0];
  EXPECT_LE(rel_diff(before, run(g, calib)), 1e-5);
  EXPECT_FALSE(absorb_high_biases(g, Tensor::zeros(DType::kF32, {0, 3, 8, 8}), {}).ok());
}

// Σ_c |mean over the data of (y_fp − y_q)_c| for the logits.
double mean_error(const Tensor& ref, const Tensor& test) {
  const int64_t n = ref.dim(0), c = ref.dim(1);
  double total = 0;
  for (int64_t j = 0; j < c; ++j) {
    double s = 0;
    for (int64_t i = 0; i < n; ++i) {
      s += ref.span<float>()[static_cast<size_t>(i * c + j)] -
           test.span<float>()[static_cast<size_t>(i * c + j)];
    }
    total += std::fabs(s / static_cast<double>(n));
  }
  return total;
}

TEST(BiasCorrection, RemovesTheMeanOutputError) {
  SCOPED_TRACE(fmt::format("seed {}", kSeed));
  Graph g = optimized(small_cnn(kSeed, 0.5f));
  add_zero_biases(g);
  const Tensor calib = inputs(kSeed + 7, 96);
  const Tensor ref = run(g, calib);
  QuantizedModel m = quantized(g, calib, WeightGranularity::kPerTensor, 4);
  const double before = mean_error(ref, simulate(m, calib));
  const std::vector<int32_t> bias_before = m.layers.back().bias_q;
  Result<BiasCorrectionReport> r = correct_bias(g, m, calib, {});
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r->layers.size(), m.layers.size());
  EXPECT_NE(m.layers.back().bias_q, bias_before);
  const double after = mean_error(ref, simulate(m, calib));
  EXPECT_LT(after, 0.5 * before) << "sum |mean error| " << before << " -> " << after;
  // The int8 engine reads the same corrected biases (QDQ graph and layer plan agree).
  Result<Graph> sim = simulation_graph(m.qdq);
  ASSERT_TRUE(sim.ok());
}

TEST(BiasCorrection, LayersWithoutBiasAreNamed) {
  Graph g = optimized(small_cnn(kSeed));
  for (Node& n : g.nodes()) {
    if (n.name == "conv") n.inputs.resize(2);
  }
  g.remove_dead_nodes();
  const Tensor calib = inputs(kSeed + 8, 16);
  QuantizedModel m = quantized(g, calib, WeightGranularity::kPerChannel);
  Result<BiasCorrectionReport> r = correct_bias(g, m, calib, {});
  ASSERT_TRUE(r.ok());
  ASSERT_FALSE(r->notes.empty());
  EXPECT_NE(r->notes[0].find("'conv': no int32 bias"), std::string::npos) << r->notes[0];
}

TEST(AdaRound, LowersTheLayerErrorAndIsDeterministic) {
  SCOPED_TRACE(fmt::format("seed {}", kSeed));
  const Graph g = optimized(two_conv_cnn(kSeed));
  const Tensor calib = inputs(kSeed + 9, 64);
  AdaRoundOptions o;
  o.iterations = 1000;  // the default; 300 steps at this learning rate leave V unconverged
  o.time_budget_s = 120;
  QuantizedModel a = quantized(g, calib, WeightGranularity::kPerTensor, 4);
  QuantizedModel b = a;
  const QuantizedModel nearest = a;
  Result<AdaRoundReport> ra = adaround_weights(g, a, calib, o);
  ASSERT_TRUE(ra.ok()) << ra.status().message();
  ASSERT_EQ(ra->layers.size(), 3u);
  int applied = 0;
  for (const AdaRoundLayer& l : ra->layers) {
    SCOPED_TRACE(l.node + ": " + l.note);
    EXPECT_LE(l.loss_adaround, l.loss_nearest);
    if (l.applied) {
      ++applied;
      EXPECT_LT(l.loss_adaround, l.loss_nearest);
      EXPECT_GT(l.flipped, 0.0);
    }
  }
  EXPECT_GE(applied, 2);
  // Codes stay within the 4-bit range and the output error does not grow.
  for (const QuantizedLayer& L : a.layers) {
    for (int8_t v : L.weight_q.span<int8_t>()) ASSERT_LE(std::abs(v), 7);
  }
  // On held-out inputs, not the calibration data AdaRound fitted.
  const Tensor x = inputs(kSeed + 14, 64);
  const Tensor ref = run(g, x);
  EXPECT_GT(sqnr_db(ref, simulate(a, x)), sqnr_db(ref, simulate(nearest, x)));
  // Same seed, same codes.
  ASSERT_TRUE(adaround_weights(g, b, calib, o).ok());
  for (size_t i = 0; i < a.layers.size(); ++i) {
    EXPECT_TRUE(std::equal(a.layers[i].weight_q.span<int8_t>().begin(),
                           a.layers[i].weight_q.span<int8_t>().end(),
                           b.layers[i].weight_q.span<int8_t>().begin()));
  }
}

TEST(AdaRound, TooLittleDataOrTimeKeepsNearestRoundingAndSaysSo) {
  const Graph g = optimized(small_cnn(kSeed));
  // One sample: the Gemm sees 1 column for 64 weights per output.
  const Tensor one = inputs(kSeed + 10, 1);
  QuantizedModel m = quantized(g, inputs(kSeed + 11, 16), WeightGranularity::kPerTensor);
  const QuantizedModel before = m;
  Result<AdaRoundReport> r = adaround_weights(g, m, one, {});
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r->layers.size(), 2u);
  EXPECT_FALSE(r->layers[1].applied);
  EXPECT_NE(r->layers[1].note.find("too little calibration data"), std::string::npos)
      << r->layers[1].note;
  EXPECT_TRUE(std::equal(m.layers[1].weight_q.span<int8_t>().begin(),
                         m.layers[1].weight_q.span<int8_t>().end(),
                         before.layers[1].weight_q.span<int8_t>().begin()));
  // A budget of a microsecond: no layer gets half its iterations.
  AdaRoundOptions o;
  o.time_budget_s = 1e-6;
  Result<AdaRoundReport> t = adaround_weights(g, m, inputs(kSeed + 12, 160), o);
  ASSERT_TRUE(t.ok());
  for (const AdaRoundLayer& l : t->layers) {
    EXPECT_FALSE(l.applied);
    EXPECT_NE(l.note.find("time budget ran out"), std::string::npos) << l.note;
  }
  EXPECT_FALSE(adaround_weights(g, m, one, {.iterations = 0}).ok());
}

TEST(Recovery, TheRecipeRunsEveryPassAndNamesItself) {
  SCOPED_TRACE(fmt::format("seed {}", kSeed));
  const Graph g = scaled_two_conv(kSeed);
  const Tensor calib = inputs(kSeed + 13, 48);
  RecoveryOptions ro;
  ro.cle = ro.bias_correction = ro.adaround = true;
  ro.ada.iterations = 200;
  EXPECT_EQ(recovery_name(ro), "cle+bc+adaround");
  EXPECT_EQ(recovery_name({}), "none");
  PtqOptions po;
  po.weights = WeightGranularity::kPerTensor;
  CalibParams cp;
  cp.method = CalibMethod::kMinMax;
  Result<RecoveredModel> r =
      quantize_with_recovery(g, calib, calib_target(po, cp), po, ro, CalibrationOptions{});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->equalize.pairs.size(), 2u);
  EXPECT_EQ(r->correction.layers.size(), 3u);
  EXPECT_EQ(r->ada.layers.size(), 3u);
  // The equalized float graph computes what the original does.
  EXPECT_LE(rel_diff(run(g, calib), run(r->float_graph, calib)), 1e-5);
}

}  // namespace
}  // namespace ei8::quant

namespace ei8::quant {
namespace {

// Issue 16's A16W8 target: a model whose int8 activations are the loss — activation_outlier_cnn:
// conv1's output holds one always-on channel near 300 that nothing reads, so one per-tensor int8
// scale of it (minmax) crushes the other channels (≈ 0–2) to a few steps; per-channel weights, so
// the weights are not the loss. (scaled_two_conv is no such case: its conv2 weights are 3000×
// apart within each output channel, which int16 activations cannot repair.) Labels: the
// float model's top-1 (a synthetic 5-class task the float model solves by construction). The
// most sensitive layer is the sensitivity analysis' first (lowest logits SQNR with only that layer
// quantized), not chosen by hand; A16W8 on it must recover >= 80 % of the W8A8 drop, which must
// be >= 1 point. Integer engine, ort profile.
TEST(A16W8Recovery, TheMostSensitiveLayerInInt16RecoversMostOfTheInt8Drop) {
  SCOPED_TRACE(fmt::format("seed {}", kSeed));
#ifdef __SANITIZE_ADDRESS__
  constexpr bool kSanitized = true;  // -O0: fewer samples, no extra rows for the note
#else
  constexpr bool kSanitized = false;
#endif
  const Graph g = optimized(activation_outlier_cnn(kSeed));
  const Tensor calib = inputs(kSeed + 30, 128), x = inputs(kSeed + 31, kSanitized ? 200 : 600);
  const std::vector<int64_t> labels = argmax_rows(run(g, x));
  Result<EvalSet> ev = make_eval_set(g, x, labels);
  ASSERT_TRUE(ev.ok()) << ev.status().message();
  Result<Statistics> st = collect_statistics(g, calib, {});
  ASSERT_TRUE(st.ok()) << st.status().message();
  PtqOptions po;
  po.weights = WeightGranularity::kPerChannel;
  CalibParams cp;
  cp.method = CalibMethod::kMinMax;
  SensitivityOptions so;
  so.calib = cp;
  so.ptq = po;
  so.histogram_bins = 8;
  Result<SensitivityReport> sens = analyze_sensitivity(g, st.value(), ev.value(), so);
  ASSERT_TRUE(sens.ok()) << sens.status().message();
  ASSERT_EQ(sens->ranking.size(), 3u);
  Result<CalibTable> table = make_table(st.value(), calib_target(po, cp));
  ASSERT_TRUE(table.ok()) << table.status().message();
  Result<Evaluation> fp32 = evaluate_graph(g, ev.value(), {}, 64);
  ASSERT_TRUE(fp32.ok());
  ASSERT_DOUBLE_EQ(fp32->accuracy, 1.0);
  auto drop_with = [&](const std::string& a16) {
    PtqOptions p = po;
    if (!a16.empty()) p.layer_precision[a16] = LayerPrecision::kInt16;
    Result<QuantizedModel> m = quantize_model(g, table.value(), p);
    EXPECT_TRUE(m.ok()) << m.status().message();
    Result<Evaluation> e = evaluate_model(m.value(), ev.value(), fp32->top1, 64);
    EXPECT_TRUE(e.ok()) << e.status().message();
    return 100.0 * (fp32->accuracy - e->accuracy);
  };
  const double int8 = drop_with("");
  const std::string top = sens->ranking[0];
  const double a16 = drop_with(top);
  const double recovered = (int8 - a16) / int8;
  fmt::print(
      "W8A8 per-channel: drop {:.2f} points; sensitivity ranking {}, {}, {}; A16W8 on {}: drop "
      "{:.2f} points, {:.1f} % of the int8 drop recovered\n",
      int8, sens->ranking[0], sens->ranking[1], sens->ranking[2], top, a16, 100.0 * recovered);
  EXPECT_GE(int8, 1.0);
  EXPECT_GE(recovered, 0.8);
  if (kSanitized) return;
  // For the note: the other ranks.
  fmt::print("A16W8 on {}: drop {:.2f} points; on {}: drop {:.2f} points\n", sens->ranking[1],
             drop_with(sens->ranking[1]), sens->ranking[2], drop_with(sens->ranking[2]));
}

}  // namespace
}  // namespace ei8::quant
