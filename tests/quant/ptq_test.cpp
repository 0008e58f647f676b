#include "ei8/quant/ptq.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "ei8/core/rng.h"
#include "ei8/graph/onnx/onnx_io.h"
#include "ei8/graph/passes.h"
#include "ei8/runtime/int8_lowering.h"
#include "test_graphs.h"

namespace ei8::quant {
namespace {

CalibTable table_for(std::initializer_list<std::tuple<const char*, float, float>> ranges) {
  CalibTable t;
  t.samples = 1;
  for (const auto& [name, lo, hi] : ranges) {
    CalibEntry e;
    e.name = name;
    e.min = lo;
    e.max = hi;
    t.entries.push_back(e);
  }
  return t;
}

const CalibTable kTable = table_for({{"x", -1.0f, 1.0f},
                                     {"r", 0.0f, 2.0f},
                                     {"p", 0.0f, 9.0f},
                                     {"f", 0.0f, 9.0f},
                                     {"y", -3.0f, 4.0f}});

int count_op(const Graph& g, std::string_view op) {
  return static_cast<int>(std::count_if(g.nodes().begin(), g.nodes().end(),
                                        [&](const Node& n) { return n.op_type == op; }));
}

TEST(Ptq, BuildsQdqGraphWithSharedPassThroughParams) {
  const Graph g = small_cnn(11);
  Result<QuantizedModel> m = quantize_model(g, kTable, PtqOptions{});
  ASSERT_TRUE(m.ok()) << m.status().message();
  // x, r, p, f, y quantized; weights and biases of both layers dequantized.
  EXPECT_EQ(count_op(m->qdq, "QuantizeLinear"), 5);
  EXPECT_EQ(count_op(m->qdq, "DequantizeLinear"), 5 + 4);
  EXPECT_TRUE(m->qdq.validate().ok());
  EXPECT_EQ(m->qdq.outputs(), std::vector<std::string>{"y"});
  EXPECT_EQ(m->qdq.producer("y")->op_type, "DequantizeLinear");
  // MaxPool and Flatten reuse r's parameters (the table's wider p/f ranges are ignored).
  std::map<std::string, QuantParams> act(m->activations.begin(), m->activations.end());
  EXPECT_EQ(act.at("p").scale, act.at("r").scale);
  EXPECT_EQ(act.at("f").scale, act.at("r").scale);
  EXPECT_EQ(act.at("r").zero_point, 0);  // u8 ReLU output: zero point = type minimum
  EXPECT_FLOAT_EQ(act.at("r").scale, 2.0f / 255.0f);
  EXPECT_TRUE(m->warnings.empty());
  EXPECT_EQ(m->layers.size(), 2u);
  EXPECT_EQ(m->weight_bytes_int8, 4 * 27 + 4 * 4 + 5 * 64 + 4 * 5);
}

// A calibration range that cuts off more than 1 % of the observed values is named in a warning.
TEST(Ptq, WarnsAboutRangesThatClipMoreThanOnePercent) {
  CalibTable t = kTable;
  t.entries[0].method = CalibMethod::kEntropy;
  t.entries[0].diagnostics = {{"clipped_fraction", 0.216}};
  t.entries[1].diagnostics = {{"clipped_fraction", 0.009}};  // under 1 %: no warning
  Result<QuantizedModel> m = quantize_model(small_cnn(11), t, PtqOptions{});
  ASSERT_TRUE(m.ok()) << m.status().message();
  ASSERT_EQ(m->warnings.size(), 1u);
  EXPECT_NE(m->warnings[0].find("value 'x': entropy range [-1, 1] clips 21.6 %"), std::string::npos)
      << m->warnings[0];
}
// The node named `name` of the model's QDQ graph lowered to integer ops with its profile.
const Node* lowered_node(const QuantizedModel& m, const std::string& name) {
  static Graph keep;  // the returned node lives in the last lowered graph
  auto low = lower_to_int8(m.qdq, {.profile = m.profile});
  EXPECT_TRUE(low.ok()) << low.status().message();
  if (!low.ok()) return nullptr;
  keep = std::move(low->graph);
  for (const Node& n : keep.nodes()) {
    if (n.name == name) return &n;
  }
  return nullptr;
}

// Values clipped by less than half a step lose no more than rounding does: however many there
// are (an image background just past the range edge), no warning. The advice never names the
// method already in use (before: "mse range ... clips 60.9 % ... --method mse or percentile").
TEST(Ptq, ClipWarningCountsOnlyValuesBeyondHalfAStepAndNeverAdvisesTheSameMethod) {
  CalibTable t = kTable;
  t.entries[0].method = CalibMethod::kMse;
  t.entries[0].diagnostics = {{"clipped_beyond_half_step", 0.0}, {"clipped_fraction", 0.609}};
  t.entries[1].method = CalibMethod::kMse;
  t.entries[1].diagnostics = {{"clipped_beyond_half_step", 0.05}, {"clipped_fraction", 0.2}};
  Result<QuantizedModel> m = quantize_model(small_cnn(11), t, PtqOptions{});
  ASSERT_TRUE(m.ok()) << m.status().message();
  ASSERT_EQ(m->warnings.size(), 1u);
  const std::string& w = m->warnings[0];
  EXPECT_NE(w.find("value 'r': mse range [0, 2] clips 5.0 % of the calibration values by more "
                   "than half a quantization step"),
            std::string::npos)
      << w;
  EXPECT_NE(w.find("--method percentile or minmax keep more of it"), std::string::npos) << w;
  EXPECT_EQ(w.find("--method mse"), std::string::npos) << w;
}

TEST(Ptq, PerChannelWeightsAndRequantizerAreDerivedOnce) {
  const Graph g = small_cnn(12);
  for (auto gran : {WeightGranularity::kPerChannel, WeightGranularity::kPerTensor}) {
    PtqOptions o;
    o.weights = gran;
    Result<QuantizedModel> m = quantize_model(g, kTable, o);
    ASSERT_TRUE(m.ok()) << m.status().message();
    const QuantizedLayer& conv = m->layers[0];
    ASSERT_EQ(conv.node, "conv");
    const Tensor& w = *g.constant("w");
    const size_t nc = gran == WeightGranularity::kPerChannel ? 4 : 1;
    ASSERT_EQ(conv.weight_scales.size(), nc);
    for (size_t c = 0; c < 4; ++c) {
      float absmax = 0;
      for (size_t i = 0; i < 27; ++i) {
        const size_t k = nc == 4 ? c * 27 + i : i + 27 * c;
        absmax = std::max(absmax, std::fabs(w.span<float>()[k]));
      }
      if (nc == 1) {
        absmax = 0;
        for (float v : w.span<float>()) absmax = std::max(absmax, std::fabs(v));
      }
      const float s = conv.weight_scales[nc == 4 ? c : 0];
      EXPECT_FLOAT_EQ(s, absmax / 127.0f);
      for (size_t i = 0; i < 27; ++i) {
        const float deq = s * conv.weight_q.span<int8_t>()[c * 27 + i];
        EXPECT_LE(std::fabs(deq - w.span<float>()[c * 27 + i]), 0.5f * s * (1 + 1e-5f));
        EXPECT_GE(conv.weight_q.span<int8_t>()[c * 27 + i], -127);
      }
    }
    if (nc == 4) {
      EXPECT_LT(conv.weight_scales[2], 0.05f * conv.weight_scales[0]);
    }
    // The requantizer is derived once, by the integer engine from the QDQ graph: the lowered
    // QLinearConv carries the fused Relu as its output clamp [z_y, 255].
    const Node* qconv = lowered_node(*m, "conv");
    ASSERT_NE(qconv, nullptr);
    EXPECT_EQ(qconv->op_type, "QLinearConv");
    EXPECT_EQ(qconv->attr_int("qmin", -1), conv.output_q.zero_point);
    EXPECT_EQ(qconv->attr_int("qmax", -1), 255);
    // Bias: round(b / (s_x·s_w[c])).
    const Tensor& b = *g.constant("b");
    for (size_t c = 0; c < 4; ++c) {
      const float bs = conv.input_q.scale * conv.weight_scales[nc == 4 ? c : 0];
      EXPECT_EQ(conv.bias_q[c], static_cast<int32_t>(std::nearbyint(b.span<float>()[c] / bs)));
    }
  }
}

TEST(Ptq, SymmetricS8ActivationsAndProfiles) {
  PtqOptions o;
  o.act_type = QType::kS8;
  o.act_symmetric = true;
  o.profile = fixedpoint::RequantProfile::kTfliteSingle;
  Result<QuantizedModel> m = quantize_model(small_cnn(13), kTable, o);
  ASSERT_TRUE(m.ok()) << m.status().message();
  for (const auto& [v, p] : m->activations) {
    EXPECT_EQ(p.zero_point, 0) << v;
  }
  std::map<std::string, QuantParams> act(m->activations.begin(), m->activations.end());
  EXPECT_FLOAT_EQ(act.at("y").scale, 4.0f / 127.0f);
  EXPECT_EQ(m->profile, fixedpoint::RequantProfile::kTfliteSingle);
  const Node* fc = lowered_node(*m, m->layers[1].node);
  ASSERT_NE(fc, nullptr);
  EXPECT_EQ(fc->attr_string("requant_profile"), "tflite-single");
  EXPECT_EQ(fc->attr_int("qmin", 0), -128);
  // u8 cannot be symmetric.
  o.act_type = QType::kU8;
  Result<QuantizedModel> bad = quantize_model(small_cnn(13), kTable, o);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("must be s8"), std::string::npos);
}

TEST(Ptq, BiasBeyondInt32EnlargesTheWeightScaleWithAWarning) {
  Graph g = small_cnn(14);
  // A huge bias on channel 1 of the conv: |b/(s_x·s_w)| ≫ 2^31.
  Tensor b = *g.constant("b");
  b.span<float>()[1] = 1e9f;
  g.find_value("b")->data = b;
  Result<QuantizedModel> m = quantize_model(g, kTable, PtqOptions{});
  ASSERT_TRUE(m.ok()) << m.status().message();
  ASSERT_FALSE(m->warnings.empty());
  EXPECT_NE(m->warnings[0].find("node 'conv'"), std::string::npos) << m->warnings[0];
  const QuantizedLayer& conv = m->layers[0];
  const double ratio = 1e9 / (static_cast<double>(conv.input_q.scale) * conv.weight_scales[1]);
  EXPECT_LE(ratio, 2147483647.0);
  EXPECT_GT(conv.bias_q[1], 2000000000);
}

TEST(Ptq, UnquantizableOpsStayFloatAndAreNamed) {
  Graph with_softmax = small_cnn(15);
  with_softmax.add_node("Softmax", "softmax", {"y"}, {"prob"}).set("axis", int64_t{1});
  with_softmax.add_output("prob");
  Result<QuantizedModel> m = quantize_model(with_softmax, kTable, PtqOptions{});
  ASSERT_TRUE(m.ok()) << m.status().message();
  ASSERT_EQ(m->float_nodes, std::vector<std::string>{"softmax"});
  EXPECT_NE(m->warnings[0].find("node 'softmax' (Softmax) stays float"), std::string::npos);
  EXPECT_EQ(m->qdq.producer("prob")->op_type, "Softmax");
  // Excluding a node keeps it float too.
  PtqOptions o;
  o.exclude_nodes = {"fc"};
  m = quantize_model(small_cnn(15), kTable, o);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->layers.size(), 1u);
  EXPECT_EQ(m->float_nodes, std::vector<std::string>{"fc"});
}

TEST(Ptq, MissingCalibrationRangeIsAClearError) {
  const CalibTable partial = table_for({{"x", -1.0f, 1.0f}, {"r", 0.0f, 2.0f}});
  Result<QuantizedModel> m = quantize_model(small_cnn(16), partial, PtqOptions{});
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("cannot quantize value 'y': calibration range = missing"),
            std::string::npos)
      << m.status().message();
}

TEST(Ptq, QdqGraphExportsToOnnxAndReadsBack) {
  Result<QuantizedModel> m = quantize_model(small_cnn(17), kTable, PtqOptions{});
  ASSERT_TRUE(m.ok()) << m.status().message();
  const std::string path =
      (std::filesystem::temp_directory_path() / "ei8_ptq_test.int8.onnx").string();
  Status s = save_onnx(m->qdq, path);
  ASSERT_TRUE(s.ok()) << s.message();
  Result<Graph> back = load_onnx(path);
  std::filesystem::remove(path);
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(count_op(back.value(), "QuantizeLinear"), 5);
  EXPECT_EQ(count_op(back.value(), "DequantizeLinear"), 9);
  const Tensor* wq = back->constant("conv_weight_quantized");
  ASSERT_NE(wq, nullptr);
  EXPECT_EQ(wq->dtype(), DType::kS8);
  const Tensor* bq = back->constant("conv_bias_quantized");
  ASSERT_NE(bq, nullptr);
  EXPECT_EQ(bq->dtype(), DType::kS32);
}

}  // namespace
}  // namespace ei8::quant
