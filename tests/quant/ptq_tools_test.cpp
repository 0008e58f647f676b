// The sweep, the sensitivity analysis and the mixed-precision fallback on small graphs
// (test_graphs.h), plus their bad-input paths.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "ei8/core/rng.h"
#include "ei8/quant/calibration.h"
#include "ei8/quant/evaluate.h"
#include "ei8/quant/mixed_precision.h"
#include "ei8/quant/sensitivity.h"
#include "ei8/quant/simulate.h"
#include "ei8/quant/sweep.h"
#include "test_graphs.h"

namespace ei8::quant {
namespace {

constexpr uint64_t kSeed = 20261127;  // every random tensor below derives from it

Tensor random_inputs(uint64_t seed, int64_t n) {
  Rng rng(seed);
  return random_tensor(rng, {n, 3, 8, 8}, -1.0f, 1.0f);
}

Statistics stats_of(const Graph& g, const Tensor& calib) {
  Result<Statistics> st = collect_statistics(g, calib, CalibrationOptions{});
  EXPECT_TRUE(st.ok()) << st.status().message();
  return std::move(st).value();
}

// Labels = the float model's own top-1 on the first `n_true` samples and a different class on
// the rest, so FP32 accuracy is n_true / n exactly.
std::vector<int64_t> labels_for(const Graph& g, const Tensor& x, int64_t n_true) {
  Result<Tensor> y = run_batched(g, x, 16);
  EXPECT_TRUE(y.ok());
  std::vector<int64_t> top = argmax_rows(y.value());
  for (size_t i = static_cast<size_t>(n_true); i < top.size(); ++i) top[i] = (top[i] + 1) % 5;
  return top;
}

EvalSet eval_set(const Graph& g, Tensor x, std::vector<int64_t> labels) {
  Result<EvalSet> ev = make_eval_set(g, std::move(x), std::move(labels));
  EXPECT_TRUE(ev.ok()) << ev.status().message();
  return std::move(ev).value();
}

TEST(Sweep, RowsAreConsistentWithTheFloatModel) {
  SCOPED_TRACE(fmt::format("seed {}", kSeed));
  const Graph g = small_cnn(kSeed);
  const Tensor calib = random_inputs(kSeed + 1, 64);
  const Tensor x = random_inputs(kSeed + 2, 40);
  const std::vector<int64_t> labels = labels_for(g, x, 30);  // FP32 accuracy 0.75 exactly
  const Statistics st = stats_of(g, calib);
  SweepOptions o;
  o.batch = 16;
  Result<SweepResult> r = run_sweep(g, st, eval_set(g, x, labels), o, nullptr);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->rows.size(), 16u);
  EXPECT_EQ(sweep_size(o), 16u);
  EXPECT_DOUBLE_EQ(r->fp32_accuracy, 0.75);
  EXPECT_EQ(r->statistics_samples, 64);
  EXPECT_EQ(r->eval_samples, 40);
  for (const SweepRow& row : r->rows) {
    SCOPED_TRACE(fmt::format("{} {} {}", calib_method_name(row.method),
                             weight_granularity_name(row.weights), row.activations));
    EXPECT_GE(row.accuracy, 0.0);
    EXPECT_LE(row.accuracy, 1.0);
    EXPECT_NEAR(row.drop_points, 100.0 * (0.75 - row.accuracy), 1e-9);
    EXPECT_GE(row.agreement, 0.0);
    EXPECT_LE(row.agreement, 1.0);
    // Agreement and accuracy are both fractions of 40 samples.
    EXPECT_NEAR(row.agreement * 40, std::round(row.agreement * 40), 1e-9);
    // Bytes: s8 weights (4·27 + 5·64) + int32 biases (4 + 5), no float leftovers.
    EXPECT_EQ(row.weight_bytes_int8, 4 * 27 + 5 * 64 + 4 * (4 + 5));
    EXPECT_EQ(row.float_bytes, 0);
    EXPECT_EQ(row.model_bytes, row.weight_bytes_int8);
    EXPECT_TRUE(std::isnan(row.latency_b1_us));
    EXPECT_GE(row.search_seconds, 0.0);
    EXPECT_NE(row.peak_memory_bytes, 0);
  }
  EXPECT_EQ(r->fp32_bytes, 4 * (4 * 27 + 4 + 5 * 64 + 5));
  // One row per configuration (the table is the pipeline's: tests/pipeline).
  ASSERT_EQ(r->rows.size(), 16u);
  EXPECT_GE(r->statistics_seconds, 0.0);
  EXPECT_NE(r->best(), nullptr);
}

TEST(Sweep, WithoutLabelsOnlyAgreementAndLatencyFromTheCallback) {
  const Graph g = small_cnn(kSeed + 3);
  const Tensor x = random_inputs(kSeed + 4, 20);
  const Statistics st = stats_of(g, random_inputs(kSeed + 5, 32));
  SweepOptions o;
  o.methods = {CalibMethod::kMinMax};
  o.act_symmetric = {false};
  int calls = 0;
  o.latency = [&](const QuantizedModel& m, int64_t batch) -> Result<double> {
    ++calls;
    EXPECT_FALSE(m.layers.empty());
    return 10.0 * static_cast<double>(batch);
  };
  Result<SweepResult> r = run_sweep(g, st, eval_set(g, x, {}), o, nullptr);
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r->rows.size(), 2u);
  EXPECT_EQ(calls, 4);
  EXPECT_TRUE(std::isnan(r->fp32_accuracy));
  for (const SweepRow& row : r->rows) {
    EXPECT_TRUE(std::isnan(row.accuracy));
    EXPECT_DOUBLE_EQ(row.latency_b1_us, 10.0);
    EXPECT_DOUBLE_EQ(row.latency_b32_us, 320.0);
  }
}

TEST(Sweep, PerChannelWeightsBeatPerTensorOnUnevenChannels) {
  // small_cnn's conv channel 2 is 100× smaller than the others.
  const Graph g = small_cnn(kSeed + 6);
  const Tensor x = random_inputs(kSeed + 7, 32);
  const Statistics st = stats_of(g, random_inputs(kSeed + 8, 32));
  Result<CalibTable> table = make_table(st, CalibParams{});
  ASSERT_TRUE(table.ok());
  double sqnr[2] = {0, 0};
  for (int k = 0; k < 2; ++k) {
    PtqOptions po;
    po.weights = k == 0 ? WeightGranularity::kPerTensor : WeightGranularity::kPerChannel;
    Result<QuantizedModel> m = quantize_model(g, table.value(), po);
    ASSERT_TRUE(m.ok());
    Result<std::vector<LayerError>> e = layer_errors(g, m.value(), eval_set(g, x, {}), 8);
    ASSERT_TRUE(e.ok()) << e.status().message();
    ASSERT_EQ(e->size(), 2u);
    EXPECT_EQ((*e)[0].node, "conv");
    EXPECT_EQ((*e)[0].elements, 32 * 4 * 8 * 8);
    sqnr[k] = (*e)[0].sqnr_db;
  }
  EXPECT_GE(sqnr[1], sqnr[0]);
}

TEST(Sensitivity, LayerErrorsAgreeWithADirectComparison) {
  const Graph g = small_cnn(kSeed + 9);
  const Tensor x = random_inputs(kSeed + 10, 12);
  const Statistics st = stats_of(g, random_inputs(kSeed + 11, 32));
  Result<QuantizedModel> m = quantize_model(g, make_table(st, CalibParams{}).value(), {});
  ASSERT_TRUE(m.ok());
  Result<std::vector<LayerError>> e = layer_errors(g, m.value(), eval_set(g, x, {}), 5);
  ASSERT_TRUE(e.ok()) << e.status().message();
  // The last layer's output is the graph output: compare the two runs' logits directly.
  const Tensor yf = run_batched(g, x, 12).value();
  const Tensor yq = run_batched(simulation_graph(m->qdq).value(), x, 12).value();
  double s = 0, n = 0, mx = 0;
  for (int64_t i = 0; i < yf.numel(); ++i) {
    const double a = yf.span<float>()[static_cast<size_t>(i)];
    const double d = a - yq.span<float>()[static_cast<size_t>(i)];
    s += a * a;
    n += d * d;
    mx = std::max(mx, std::fabs(d));
  }
  const LayerError& fc = e->back();
  EXPECT_EQ(fc.node, "fc");
  EXPECT_NEAR(fc.sqnr_db, 10 * std::log10(s / n), 1e-6);
  EXPECT_NEAR(fc.max_abs_error, mx, 1e-6);
  EXPECT_GT(fc.cosine, 0.9);
  EXPECT_LE(fc.cosine, 1.0 + 1e-12);
}

TEST(Sensitivity, RanksTheDeliberatelySensitiveLayerFirst) {
  SCOPED_TRACE(fmt::format("seed {}", kSeed + 12));
  const Graph g = two_conv_cnn(kSeed + 12, /*outlier=*/40.0f);
  const Tensor x = random_inputs(kSeed + 13, 48);
  const Statistics st = stats_of(g, random_inputs(kSeed + 14, 48));
  SensitivityOptions o;
  o.ptq.weights = WeightGranularity::kPerTensor;
  o.batch = 16;
  Result<SensitivityReport> r = analyze_sensitivity(g, st, eval_set(g, x, labels_for(g, x, 48)), o);
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r->ranking.size(), 3u);
  EXPECT_EQ(r->ranking[0], "conv2");
  EXPECT_DOUBLE_EQ(r->fp32_accuracy, 1.0);
  const auto find = [&](const std::string& n) {
    return *std::find_if(r->layers.begin(), r->layers.end(),
                         [&](const LayerSensitivity& s) { return s.node == n; });
  };
  const LayerSensitivity c2 = find("conv2"), c1 = find("conv1"), fc = find("fc");
  EXPECT_EQ(c2.rank, 1);
  // Leave-one-out, monotonic: quantizing only conv2 loses more than quantizing only another
  // layer; keeping conv2 float recovers at least what keeping another layer float does, and
  // at least the all-quantized accuracy.
  EXPECT_LT(c2.only_output_sqnr_db, c1.only_output_sqnr_db);
  EXPECT_LT(c2.only_output_sqnr_db, fc.only_output_sqnr_db);
  EXPECT_LE(c2.only_agreement, std::min(c1.only_agreement, fc.only_agreement));
  EXPECT_GE(c2.but_accuracy, std::max(c1.but_accuracy, fc.but_accuracy));
  for (const LayerSensitivity& s : r->layers) {
    EXPECT_GE(s.only_accuracy, r->all_accuracy - 1e-12) << s.node;
  }
  EXPECT_LT(r->all_accuracy, 0.9);  // the outlier really hurts
  // Plain data: one entry per layer; 5 thresholds per tensor, each inside the observed range
  // widened to include 0.
  EXPECT_EQ(r->layers.size(), 3u);
  EXPECT_EQ(r->errors.size(), 3u);
  ASSERT_EQ(r->thresholds.size(), 5u * st.names.size());
  for (const CalibThreshold& t : r->thresholds) {
    EXPECT_LE(t.min, t.max) << t.tensor;
    EXPECT_GE(t.min, std::min(0.0f, t.observed_min) - 1e-6f) << t.tensor;
    EXPECT_LE(t.max, std::max(0.0f, t.observed_max) + 1e-6f) << t.tensor;
  }
}

TEST(Sensitivity, HistogramsKeepEveryCountInAtMostTheRequestedBins) {
  const Graph g = small_cnn(kSeed + 15);
  const Statistics st = stats_of(g, random_inputs(kSeed + 16, 20));
  Result<std::vector<HistogramBin>> t = tensor_histograms(st, 128);
  ASSERT_TRUE(t.ok());
  for (size_t i = 0; i < st.names.size(); ++i) {
    double total = 0, bins = 0, prev_hi = -INFINITY;
    for (const HistogramBin& b : t.value()) {
      if (b.tensor != st.names[i]) continue;
      total += static_cast<double>(b.count);
      bins += 1;
      EXPECT_GE(b.lo, prev_hi - 1e-9);
      prev_hi = b.hi;
    }
    EXPECT_EQ(total, static_cast<double>(st.observers[i].count())) << st.names[i];
    EXPECT_LE(bins, 128) << st.names[i];
  }
  EXPECT_FALSE(tensor_histograms(st, 0).ok());
}

TEST(MixedPrecision, FallsBackTheSensitiveLayerToReachAReachableTarget) {
  const Graph g = two_conv_cnn(kSeed + 17, 40.0f);
  const Tensor x = random_inputs(kSeed + 18, 48);
  const Statistics st = stats_of(g, random_inputs(kSeed + 19, 48));
  const CalibTable table = make_table(st, CalibParams{}).value();
  const EvalSet ev = eval_set(g, x, labels_for(g, x, 48));  // FP32 accuracy 1
  PtqOptions po;
  po.weights = WeightGranularity::kPerTensor;
  // Independently: the drop with everything quantized and with conv2 alone float.
  auto drop_with = [&](std::vector<std::string> excl) {
    PtqOptions p = po;
    p.exclude_nodes = std::move(excl);
    const QuantizedModel m = quantize_model(g, table, p).value();
    return 100.0 * (1.0 - evaluate_model(m, ev, {}, 16).value().accuracy);
  };
  const double all = drop_with({}), without_conv2 = drop_with({"conv2"});
  ASSERT_GT(all, without_conv2);
  MixedPrecisionOptions o;
  o.ptq = po;
  o.max_drop_points = without_conv2;
  o.batch = 16;
  Result<MixedPrecisionResult> r = mixed_precision(g, table, ev, {"conv2", "conv1", "fc"}, o);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_TRUE(r->reached) << r->message;
  ASSERT_EQ(r->steps.size(), 2u);
  EXPECT_NEAR(r->steps[0].drop_points, all, 1e-9);
  EXPECT_NEAR(r->steps[1].drop_points, without_conv2, 1e-9);
  EXPECT_EQ(r->steps[1].float_layers, std::vector<std::string>{"conv2"});
  // conv2's weights (6·6·9) now float: 4 bytes each instead of 1, bias 4 bytes either way.
  EXPECT_EQ(r->steps[1].model_bytes - r->steps[0].model_bytes, 3 * 6 * 6 * 9);
  EXPECT_EQ(r->model.float_nodes, std::vector<std::string>{"conv2"});
  EXPECT_LE(r->steps[1].drop_points, r->target_drop_points);
}

TEST(MixedPrecision, ReportsAnUnreachableTargetClearly) {
  const Graph g = two_conv_cnn(kSeed + 20, 40.0f);
  const Tensor x = random_inputs(kSeed + 21, 48);
  const Statistics st = stats_of(g, random_inputs(kSeed + 22, 48));
  const CalibTable table = make_table(st, CalibParams{}).value();
  const EvalSet ev = eval_set(g, x, labels_for(g, x, 48));
  MixedPrecisionOptions o;
  o.ptq.weights = WeightGranularity::kPerTensor;
  o.max_drop_points = 0.0;
  // Only conv1 may fall back; conv2 (the outlier layer) stays quantized.
  Result<MixedPrecisionResult> r = mixed_precision(g, table, ev, {"conv1"}, o);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_FALSE(r->reached);
  EXPECT_EQ(r->steps.size(), 2u);
  EXPECT_NE(r->message.find("not reached"), std::string::npos) << r->message;
  EXPECT_GT(r->steps[1].drop_points, r->target_drop_points);
}

TEST(PtqTools, BadInputIsAClearError) {
  const Graph g = small_cnn(kSeed + 23);
  const Tensor x = random_inputs(kSeed + 24, 8);
  // Empty and mismatched calibration data.
  EXPECT_FALSE(collect_statistics(g, Tensor::zeros(DType::kF32, {0, 3, 8, 8}), {}).ok());
  Result<Statistics> bad = collect_statistics(g, Tensor::zeros(DType::kF32, {4, 3, 7, 8}), {});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("shape"), std::string::npos);
  // Labels count mismatch, negative labels, wrong eval shape, no samples.
  Result<EvalSet> ev = make_eval_set(g, x, std::vector<int64_t>(5, 0));
  ASSERT_FALSE(ev.ok());
  EXPECT_NE(ev.status().message().find("labels = 5, must be 8"), std::string::npos)
      << ev.status().message();
  EXPECT_FALSE(make_eval_set(g, x, std::vector<int64_t>(8, -1)).ok());
  EXPECT_FALSE(make_eval_set(g, Tensor::zeros(DType::kF32, {8, 3, 8, 9}), {}).ok());
  EXPECT_FALSE(make_eval_set(g, Tensor::zeros(DType::kF32, {0, 3, 8, 8}), {}).ok());
  // Unknown method.
  Result<CalibMethod> m = parse_calib_method("kl-divergence");
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("kl-divergence"), std::string::npos);
  // Sweep: no configurations, bad batch, empty statistics.
  const Statistics st = stats_of(g, random_inputs(kSeed + 25, 16));
  const EvalSet good = eval_set(g, x, {});
  SweepOptions so;
  so.methods.clear();
  EXPECT_FALSE(run_sweep(g, st, good, so, nullptr).ok());
  so = SweepOptions{};
  so.batch = 0;
  EXPECT_FALSE(run_sweep(g, st, good, so, nullptr).ok());
  EXPECT_FALSE(run_sweep(g, Statistics{}, good, SweepOptions{}, nullptr).ok());
  // Mixed precision: no labels, NaN / negative target, unknown ranked layer.
  const CalibTable table = make_table(st, CalibParams{}).value();
  MixedPrecisionOptions mo;
  Result<MixedPrecisionResult> nolab = mixed_precision(g, table, good, {"conv"}, mo);
  ASSERT_FALSE(nolab.ok());
  EXPECT_NE(nolab.status().message().find("labels"), std::string::npos);
  const EvalSet labelled = eval_set(g, x, std::vector<int64_t>(8, 1));
  mo.max_drop_points = NAN;
  EXPECT_FALSE(mixed_precision(g, table, labelled, {"conv"}, mo).ok());
  mo.max_drop_points = -1;
  EXPECT_FALSE(mixed_precision(g, table, labelled, {"conv"}, mo).ok());
  mo.max_drop_points = 0.3;
  Result<MixedPrecisionResult> unk = mixed_precision(g, table, labelled, {"nope"}, mo);
  ASSERT_FALSE(unk.ok());
  EXPECT_NE(unk.status().message().find("'nope'"), std::string::npos);
  // Sensitivity with a bad batch or empty statistics.
  SensitivityOptions sens;
  sens.batch = 0;
  EXPECT_FALSE(analyze_sensitivity(g, st, good, sens).ok());
  EXPECT_FALSE(analyze_sensitivity(g, Statistics{}, good, SensitivityOptions{}).ok());
}

}  // namespace
}  // namespace ei8::quant
