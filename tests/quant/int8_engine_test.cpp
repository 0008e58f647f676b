// The integer engine on QDQ graphs: ours (quantize_model) and made elsewhere
// (tests/data/qdq/make_qdq_models.py) agree with the float QDQ simulation within one output
// quantization step, and the exported-then-imported file runs bit-identically to the in-memory
// graph.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>

#include "ei8/core/npy.h"
#include "ei8/core/rng.h"
#include "ei8/graph/onnx/onnx_io.h"
#include "ei8/graph/passes.h"
#include "ei8/quant/calibration.h"
#include "ei8/quant/int8_engine.h"
#include "ei8/quant/simulate.h"
#include "ei8/runtime/int8_lowering.h"
#include "test_graphs.h"

namespace ei8::quant {
namespace {

std::string data(const std::string& rel) { return std::string(EI8_TEST_DATA_DIR) + "/" + rel; }

// Scale of the graph output's DequantizeLinear (one output step).
float output_step(const Graph& g) {
  const Node* d = g.producer(g.outputs()[0]);
  return d != nullptr && d->op_type == "DequantizeLinear"
             ? g.constant(d->input(1))->span<float>()[0]
             : 0.0f;
}

// Integer engine vs simulation: every output within one step; returns the exact fraction.
double expect_within_one_step(const Graph& qdq, const Tensor& x, const std::string& what) {
  auto ex = ei8::make_int8_executor(qdq);
  EXPECT_TRUE(ex.ok()) << ex.status().message();
  if (!ex.ok()) return 0;
  auto y = ex->run({x});
  EXPECT_TRUE(y.ok()) << y.status().message();
  auto sim = simulation_graph(qdq);
  EXPECT_TRUE(sim.ok()) << sim.status().message();
  auto ys = run_batched(sim.value(), x, x.dim(0));
  EXPECT_TRUE(ys.ok()) << ys.status().message();
  if (!y.ok() || !ys.ok()) return 0;
  const float step = output_step(qdq);
  EXPECT_GT(step, 0.0f);
  const auto a = y.value()[0].span<float>(), b = ys->span<float>();
  EXPECT_EQ(a.size(), b.size());
  size_t exact = 0;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) {
    EXPECT_LE(std::abs(a[i] - b[i]), step * 1.001f) << what << " output " << i;
    exact += a[i] == b[i];
  }
  const auto ta = argmax_rows(y.value()[0]), tb = argmax_rows(ys.value());
  size_t same = 0;
  for (size_t i = 0; i < ta.size(); ++i) same += ta[i] == tb[i];
  std::printf("%s: %zu/%zu outputs equal to the float QDQ simulation, top-1 %zu/%zu\n",
              what.c_str(), exact, a.size(), same, ta.size());
  return a.empty() ? 0.0 : double(exact) / double(a.size());
}

class ForeignQdq : public ::testing::TestWithParam<std::string> {};

TEST_P(ForeignQdq, LowersEveryOpAndAgreesWithSimulationWithinOneStep) {
  const std::string base = data("qdq/" + GetParam());
  auto g = load_onnx(base + ".onnx");
  ASSERT_TRUE(g.ok()) << g.status().message();
  auto low = lower_to_int8(g.value());
  ASSERT_TRUE(low.ok()) << low.status().message();
  EXPECT_TRUE(low->float_nodes.empty()) << fmt::format("{}", fmt::join(low->float_nodes, ", "));
  for (const Node& n : low->graph.nodes()) {
    EXPECT_TRUE(n.op_type == "QuantizeLinear" || n.op_type == "DequantizeLinear" ||
                n.op_type == "Flatten" || n.op_type.rfind("Q", 0) == 0)
        << n.name << " " << n.op_type;
  }
  auto x = read_npy(base + ".input.npy");
  ASSERT_TRUE(x.ok());
  expect_within_one_step(g.value(), x.value(), GetParam());
}

INSTANTIATE_TEST_SUITE_P(Script, ForeignQdq, ::testing::Values("qdq_pertensor", "qdq_perchannel"));

QuantizedModel quantized_small_cnn(WeightGranularity w, CalibMethod method) {
  Graph g = small_cnn(5);
  EXPECT_TRUE(optimize(g).ok());
  Rng rng(11);
  Tensor calib = random_tensor(rng, {64, 3, 8, 8}, -1.0f, 1.0f);
  auto st = collect_statistics(g, calib, {});
  EXPECT_TRUE(st.ok()) << st.status().message();
  PtqOptions po;
  po.weights = w;
  CalibParams cp;
  cp.method = method;
  cp = calib_target(po, cp);
  auto table = make_table(st.value(), cp);
  EXPECT_TRUE(table.ok()) << table.status().message();
  auto m = quantize_model(g, table.value(), po);
  EXPECT_TRUE(m.ok()) << m.status().message();
  return std::move(m).value();
}

TEST(Int8Engine, OurQuantizedModelLowersFullyAndAgreesWithSimulation) {
  for (WeightGranularity w : {WeightGranularity::kPerTensor, WeightGranularity::kPerChannel}) {
    for (CalibMethod method : {CalibMethod::kMinMax, CalibMethod::kEntropy}) {
      QuantizedModel m = quantized_small_cnn(w, method);
      auto low = lower_to_int8(m.qdq);
      ASSERT_TRUE(low.ok()) << low.status().message();
      std::vector<std::string> types;
      for (const Node& n : low->graph.nodes()) types.push_back(n.op_type);
      EXPECT_NE(std::find(types.begin(), types.end(), "QLinearConv"), types.end());
      EXPECT_NE(std::find(types.begin(), types.end(), "QGemm"), types.end());
      EXPECT_EQ(std::find(types.begin(), types.end(), "Conv"), types.end());
      EXPECT_TRUE(low->float_nodes.empty());
      Rng rng(3);
      const Tensor x = random_tensor(rng, {16, 3, 8, 8}, -1.0f, 1.0f);
      const std::string what =
          fmt::format("small_cnn {} {}", weight_granularity_name(w), calib_method_name(method));
      expect_within_one_step(m.qdq, x, what);
      // The exported file, imported again, runs exactly like the in-memory graph.
      const auto path = std::filesystem::temp_directory_path() / "ei8_int8_engine_test.onnx";
      ASSERT_TRUE(save_onnx(m.qdq, path.string()).ok());
      auto back = load_onnx(path.string());
      ASSERT_TRUE(back.ok()) << back.status().message();
      auto e1 = make_int8_executor(m);
      auto e2 = ei8::make_int8_executor(back.value());
      ASSERT_TRUE(e1.ok() && e2.ok());
      auto y1 = e1->run({x});
      auto y2 = e2->run({x});
      ASSERT_TRUE(y1.ok() && y2.ok());
      EXPECT_EQ(std::memcmp(y1.value()[0].raw(), y2.value()[0].raw(), y1.value()[0].nbytes()), 0);
      std::filesystem::remove(path);
    }
  }
}

TEST(Int8Engine, LatencyFunctionReportsPositiveTimes) {
  QuantizedModel m = quantized_small_cnn(WeightGranularity::kPerChannel, CalibMethod::kMinMax);
  for (int64_t b : {1, 32}) {
    auto us = int8_latency_us(m, b, 3);
    ASSERT_TRUE(us.ok()) << us.status().message();
    EXPECT_GT(us.value(), 0.0);
  }
  EXPECT_FALSE(int8_latency_us(m, 0, 3).ok());
}

TEST(Int8Engine, TfliteProfilesRunAndStayWithinOneStepOfOrt) {
  QuantizedModel m = quantized_small_cnn(WeightGranularity::kPerChannel, CalibMethod::kMinMax);
  Rng rng(4);
  const Tensor x = random_tensor(rng, {8, 3, 8, 8}, -1.0f, 1.0f);
  auto ort = ei8::make_int8_executor(m.qdq);
  ASSERT_TRUE(ort.ok());
  auto yo = ort->run({x});
  ASSERT_TRUE(yo.ok());
  for (auto p : {fixedpoint::RequantProfile::kTflite, fixedpoint::RequantProfile::kTfliteSingle}) {
    auto ex = ei8::make_int8_executor(m.qdq, {.profile = p});
    ASSERT_TRUE(ex.ok()) << ex.status().message();
    auto y = ex->run({x});
    ASSERT_TRUE(y.ok());
    // Per layer the profiles differ by at most one LSB on ties; after the last layer that is
    // at most a couple of output steps on this 2-layer model.
    const float step = output_step(m.qdq);
    const auto a = y.value()[0].span<float>(), b = yo.value()[0].span<float>();
    for (size_t i = 0; i < a.size(); ++i) EXPECT_LE(std::abs(a[i] - b[i]), 2.001f * step);
  }
}

}  // namespace
}  // namespace ei8::quant
