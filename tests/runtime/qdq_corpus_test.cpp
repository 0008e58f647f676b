// The QDQ corpus (tests/data/qdq, make_qdq_models.py): files in the style ONNX Runtime's quantizer
// writes and one small model per integer op. Our integer engine must reproduce ONNX Runtime
// 1.30's outputs (stored beside each file as <name>.ort.npy, PROVENANCE.md) bit for bit, on every
// kernel tier, and run every compute node integer-only except where ORT also keeps it float.
// Then the tie tests: every requantizing op of the `ort` profile on constructed exact .5 cases,
// rounding as ORT's kernels do.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <map>

#include "ei8/core/npy.h"
#include "ei8/graph/onnx/onnx_io.h"
#include "ei8/runtime/int8_lowering.h"
#include "ei8/runtime/kernels/conv_s8.h"
#include "ei8/runtime/kernels/ref/qlinear_ref.h"

namespace ei8 {
namespace {

std::string corpus(const std::string& rel) {
  return std::string(EI8_TEST_DATA_DIR) + "/qdq/" + rel;
}

// Compute nodes each corpus model keeps in float (ONNX Runtime keeps the same ones float).
const std::map<std::string, std::vector<std::string>> kFloatNodes = {
    {"op_bn", {"Add"}},                   // the float sum of the two dequantized outputs
    {"op_mul_relu_s8", {"Mul", "Relu"}},  // Relu not redundant after Q: ORT does not fuse it
};

class QdqCorpus : public ::testing::TestWithParam<std::string> {};

TEST_P(QdqCorpus, EqualsOnnxRuntimeBitForBitOnEveryTier) {
  const std::string name = GetParam();
  auto g = load_onnx(corpus(name + ".onnx"));
  ASSERT_TRUE(g.ok()) << g.status().message();
  auto x = read_npy(corpus(name + ".input.npy"));
  ASSERT_TRUE(x.ok()) << x.status().message();
  auto want = read_npy(corpus(name + ".ort.npy"));
  ASSERT_TRUE(want.ok()) << want.status().message();

  auto low = lower_to_int8(g.value());
  ASSERT_TRUE(low.ok()) << low.status().message();
  std::vector<std::string> float_ops;
  for (const std::string& n : low->float_nodes) {
    for (const Node& node : low->graph.nodes()) {
      if (node.name == n) float_ops.push_back(node.op_type);
    }
  }
  const auto it = kFloatNodes.find(name);
  EXPECT_EQ(float_ops, it == kFloatNodes.end() ? std::vector<std::string>{} : it->second) << name;

  for (kernels::KernelChoice k : {kernels::KernelChoice::kRef, kernels::KernelChoice::kGeneric,
                                  kernels::KernelChoice::kAuto}) {
    ExecutorOptions eo;
    eo.kernel = k;
    auto ex = make_int8_executor(g.value(), {}, eo);
    ASSERT_TRUE(ex.ok()) << ex.status().message();
    auto y = ex->run({x.value()});
    ASSERT_TRUE(y.ok()) << y.status().message();
    const Tensor& got = y.value()[0];
    ASSERT_EQ(got.shape(), want->shape()) << name;
    size_t differ = 0;
    for (size_t i = 0; i < got.span<float>().size(); ++i) {
      differ += std::memcmp(&got.span<float>()[i], &want->span<float>()[i], sizeof(float)) != 0;
    }
    EXPECT_EQ(differ, 0u) << name << " tier " << kernels::kernel_choice_name(k) << ": " << differ
                          << " of " << got.numel() << " outputs differ from ONNX Runtime's";
  }
}

INSTANTIATE_TEST_SUITE_P(Files, QdqCorpus,
                         ::testing::Values("qdq_pertensor", "qdq_perchannel", "ort_u8_gemm",
                                           "ort_s8_gemm", "ort_u8_matmul", "ort_s8_matmul",
                                           "op_silu_u8", "op_silu_s8", "op_se_mul", "op_add_ties",
                                           "op_leakyrelu", "op_bn", "op_mul_relu_s8",
                                           "op_concat_pool"));

// ---- constructed ties, op by op ------------------------------------------------------------

// QLinearAdd (the regnet case): (a − z_a)·s_a + (b − z_b)·s_b over s_c = 44.5 exactly → 44,
// 45.5 → 46 (half to even, as ORT's AVX2 kernel's cvtps2dq), through the op on all three paths:
// AVX2 loop, table, broadcast table.
TEST(OrtTies, QLinearAddRoundsHalfToEven) {
  kernels::QLinearAddParams p{1.0f, 0, 1.0f, 0, 2.0f, 0, 0, 255};
  const uint8_t a[] = {44, 46, 1, 3, 0, 89};
  const uint8_t b[] = {45, 45, 0, 0, 1, 0};
  uint8_t c[6];
  kernels::qlinear_add_ref(p, a, b, c, 6);
  const uint8_t want[] = {44, 46, 0, 2, 0, 44};
  EXPECT_EQ(std::memcmp(c, want, 6), 0);
  // The vector kernel (16 lanes: the first 8 through AVX2 when present).
  uint8_t va[16], vb[16], vc[16], vr[16];
  for (int i = 0; i < 16; ++i) {
    va[i] = static_cast<uint8_t>(40 + i);
    vb[i] = static_cast<uint8_t>(3 + 2 * i);
  }
  kernels::qlinear_add_ref(p, va, vb, vr, 16);
  if (kernels::qlinear_add_s8(p, kernels::IntType::kU8, va, vb, vc, 16)) {
    EXPECT_EQ(std::memcmp(vc, vr, 16), 0);
  }
  for (int i = 0; i < 16; ++i) {
    const int s = va[i] + vb[i];  // even sums are exact, odd ones ties
    EXPECT_EQ(vr[i], s % 4 == 1 ? s / 2 : (s % 4 == 3 ? s / 2 + 1 : s / 2)) << s;
  }
}

// QLinearMul: v = fl32(fl32(acc·M) + z_c) is rounded AFTER adding z_c in float: acc·M = 0.5 +
// 2^-24 with z_c = 200 becomes exactly 200.5 and rounds to 200 (ORT), not 201 (rounding first).
TEST(OrtTies, QLinearMulAddsZeroPointBeforeRounding) {
  const float m = 0.5f + std::ldexp(1.0f, -24);
  kernels::QLinearMulParams p{m, 0, 1.0f, 0, 1.0f, 200, 0, 255};
  ASSERT_EQ(kernels::qlinear_mul_multiplier(p), m);
  EXPECT_EQ(kernels::qlinear_mul_element<uint8_t>(p, m, 1, 1), 200);
  // Plain ties: acc·M = k + 0.5 → even.
  kernels::QLinearMulParams q{0.5f, 0, 1.0f, 0, 1.0f, 0, -128, 127};
  const float mq = kernels::qlinear_mul_multiplier(q);
  EXPECT_EQ(kernels::qlinear_mul_element<int8_t>(q, mq, 89, 1), 44);      // 44.5
  EXPECT_EQ(kernels::qlinear_mul_element<int8_t>(q, mq, 91, 1), 46);      // 45.5
  EXPECT_EQ(kernels::qlinear_mul_element<int8_t>(q, mq, -89, 1), -44);    // −44.5
  EXPECT_EQ(kernels::qlinear_mul_element<int8_t>(q, mq, 127, 127), 127);  // saturates
  EXPECT_EQ(kernels::qlinear_mul_element<int8_t>(q, mq, -128, 127), -128);
}

// The lookup ops: the float value before QuantizeLinear is an exact tie.
TEST(OrtTies, LookupTablesRoundHalfToEven) {
  // Sigmoid(0) = 0.5 exactly in MLAS's rational form; / s_y = 1 → 0.5 → 0; / (1/3) → 1.5 → 2.
  EXPECT_EQ(kernels::logistic_ort(0.0f), 0.5f);
  auto v = kernels::dequantized_codes<uint8_t>(1.0f, 0);
  for (float& r : v) r = kernels::logistic_ort(r);
  EXPECT_EQ(kernels::quantize_codes<uint8_t>(v, 1.0f, 0)[0], 0);
  EXPECT_EQ(kernels::quantize_codes<uint8_t>(v, 1.0f / 3.0f, 0)[0], 2);
  // LeakyRelu(α = 0.5) of −1 = −0.5 → −0 → z_y; of −3 = −1.5 → −2.
  auto l = kernels::dequantized_codes<int8_t>(1.0f, 0);
  for (float& r : l) r = r >= 0.0f ? r : 0.5f * r;
  const auto lt = kernels::quantize_codes<int8_t>(l, 1.0f, 10);
  EXPECT_EQ(lt[static_cast<size_t>(-1 + 128)], 10);
  EXPECT_EQ(lt[static_cast<size_t>(-3 + 128)], 8);
  // Requantization of Concat inputs: x·1 / 2 → 0.5 → 0, 1.5 → 2, 2.5 → 2.
  const auto ct = kernels::requantize_table<uint8_t>(1.0f, 0, 2.0f, 0);
  EXPECT_EQ(ct[1], 0);
  EXPECT_EQ(ct[3], 2);
  EXPECT_EQ(ct[5], 2);
}

// The logistic replica is Eigen's rational approximation (within 2e-7 of the true sigmoid over
// the clamped range) and uses FMA steps (ORT's FMA3 kernel, on every AVX2 CPU).
TEST(OrtTies, LogisticIsMlasRationalApproximation) {
  double worst = 0;
  for (int i = -2000; i <= 2000; ++i) {
    const float x = static_cast<float>(i) / 100.0f;
    worst = std::max(
        worst, std::abs(double{kernels::logistic_ort(x)} - 1.0 / (1.0 + std::exp(-double{x}))));
  }
  EXPECT_LT(worst, 2e-6);
  EXPECT_EQ(kernels::logistic_ort(-100.0f), kernels::logistic_ort(-18.0f));  // clamped input
  EXPECT_GE(kernels::logistic_ort(-18.0f), 0.0f);
}

// AveragePool (ORT's float path for windows that are not the whole image): sums 1, 0, 0, 0 (s_x
// = 1) / 4 = 0.25, / s_y = 0.5 → 0.5 + z_y: z_y = 0 → 0, z_y = 1 → 1.5 → 2.
TEST(OrtTies, AveragePoolFloatPathRoundsAfterAddingZeroPoint) {
  kernels::Pool2dParams pp;
  pp.in_h = pp.in_w = 2;
  pp.kernel_h = pp.kernel_w = 2;
  pp.stride_h = pp.stride_w = 2;
  pp.out_h = pp.out_w = 1;
  const uint8_t x[] = {1, 0, 0, 0};
  uint8_t y = 9;
  kernels::avgpool_s8_float_ref<uint8_t>(pp, 1, 1.0f, 0, 0.5f, 0, x, &y);
  EXPECT_EQ(y, 0);
  kernels::avgpool_s8_float_ref<uint8_t>(pp, 1, 1.0f, 0, 0.5f, 1, x, &y);
  EXPECT_EQ(y, 2);
  // count_include_pad = 0 at a padded corner: one tap counts.
  kernels::Pool2dParams pc = pp;
  pc.in_h = pc.in_w = 1;
  pc.pad_top = pc.pad_left = 1;
  pc.stride_h = pc.stride_w = 1;
  const uint8_t one[] = {3};
  kernels::avgpool_s8_float_ref<uint8_t>(pc, 1, 0.5f, 0, 1.0f, 0, one, &y);
  EXPECT_EQ(y, 2);  // 1.5 → 2
  pc.count_include_pad = true;
  kernels::avgpool_s8_float_ref<uint8_t>(pc, 1, 0.5f, 0, 1.0f, 0, one, &y);
  EXPECT_EQ(y, 0);  // 1.5 / 4 = 0.375 → 0
}

// The float output of QGemm / MatMulIntegerToFloat: one float32 multiply of the converted
// accumulator by fl32(s_a·s_b[c]) — not a double product, not two multiplies.
TEST(OrtTies, AccumulatorsToFloatIsOneFloatMultiply) {
  const float sa = 0.1f, sb = 0.3f;
  const float m = sa * sb;
  const int32_t acc[] = {16777217, -3, 12346};  // 2^24 + 1 converts to 2^24 (RNE)
  float y[3];
  kernels::accumulators_to_float_ref(acc, 1, 3, std::span<const float>(&m, 1), y);
  EXPECT_EQ(y[0], 16777216.0f * m);
  EXPECT_EQ(y[1], -3.0f * m);
  EXPECT_EQ(y[2], 12346.0f * m);
  EXPECT_NE(y[2], static_cast<float>(12346.0 * double{sa} * double{sb}));
}

// BatchNormalization as a table: var + ε = 1, scale 0.5 → y = 0.5·x: 1 → 0.5 → 0, 3 → 1.5 → 2,
// through the lowering (DQ → BN → Q becomes QLinearLookup) and the executor.
TEST(OrtTies, BatchNormTableRoundsHalfToEven) {
  Graph g("bn");
  g.add_input("x", DType::kF32, {1, 2, 1, 3});
  g.add_initializer("s", Tensor::from<float>({}, std::vector<float>{1.0f}));
  g.add_initializer("z", Tensor::from<uint8_t>({}, std::vector<uint8_t>{0}));
  g.add_initializer("gamma", Tensor::from<float>({2}, std::vector<float>{0.5f, 1.5f}));
  g.add_initializer("beta", Tensor::from<float>({2}, std::vector<float>{0.0f, 0.0f}));
  g.add_initializer("mean", Tensor::from<float>({2}, std::vector<float>{0.0f, 0.0f}));
  g.add_initializer("var", Tensor::from<float>({2}, std::vector<float>{0.75f, 0.75f}));
  g.add_node("QuantizeLinear", "q0", {"x", "s", "z"}, {"xq"});
  g.add_node("DequantizeLinear", "dq0", {"xq", "s", "z"}, {"xd"});
  Node& bn = g.add_node("BatchNormalization", "bn", {"xd", "gamma", "beta", "mean", "var"}, {"b"});
  bn.set("epsilon", 0.25f);
  g.add_node("QuantizeLinear", "q1", {"b", "s", "z"}, {"yq"});
  g.add_node("DequantizeLinear", "dq1", {"yq", "s", "z"}, {"y"});
  g.add_output("y");
  auto low = lower_to_int8(g);
  ASSERT_TRUE(low.ok()) << low.status().message();
  EXPECT_TRUE(low->float_nodes.empty());
  auto ex = make_int8_executor(g);
  ASSERT_TRUE(ex.ok()) << ex.status().message();
  auto y = ex->run({Tensor::from<float>({1, 2, 1, 3}, std::vector<float>{1, 3, 5, 1, 3, 5})});
  ASSERT_TRUE(y.ok()) << y.status().message();
  // Channel 0: 0.5, 1.5, 2.5 → 0, 2, 2; channel 1: 1.5, 4.5, 7.5 → 2, 4, 8.
  EXPECT_EQ(y.value()[0].span<float>()[0], 0.0f);
  EXPECT_EQ(y.value()[0].span<float>()[1], 2.0f);
  EXPECT_EQ(y.value()[0].span<float>()[2], 2.0f);
  EXPECT_EQ(y.value()[0].span<float>()[3], 2.0f);
  EXPECT_EQ(y.value()[0].span<float>()[4], 4.0f);
  EXPECT_EQ(y.value()[0].span<float>()[5], 8.0f);
}

// A broadcast QLinearMul through the executor (squeeze-excite shape [1, 2, 2, 2] × [1, 2, 1, 1])
// on ties: x·s with s_a = 0.5, s_b = 1, s_c = 1 → (x·b)/2.
TEST(OrtTies, BroadcastMulThroughTheExecutor) {
  Graph g("se");
  g.add_input("x", DType::kF32, {1, 2, 2, 2});
  g.add_input("s", DType::kF32, {1, 2, 1, 1});
  g.add_initializer("sa", Tensor::from<float>({}, std::vector<float>{0.5f}));
  g.add_initializer("one", Tensor::from<float>({}, std::vector<float>{1.0f}));
  g.add_initializer("z", Tensor::from<uint8_t>({}, std::vector<uint8_t>{0}));
  g.add_node("QuantizeLinear", "qa", {"x", "sa", "z"}, {"xq"});
  g.add_node("DequantizeLinear", "da", {"xq", "sa", "z"}, {"xd"});
  g.add_node("QuantizeLinear", "qb", {"s", "one", "z"}, {"sq"});
  g.add_node("DequantizeLinear", "db", {"sq", "one", "z"}, {"sd"});
  g.add_node("Mul", "mul", {"xd", "sd"}, {"m"});
  g.add_node("QuantizeLinear", "qm", {"m", "one", "z"}, {"mq"});
  g.add_node("DequantizeLinear", "dm", {"mq", "one", "z"}, {"y"});
  g.add_output("y");
  auto low = lower_to_int8(g);
  ASSERT_TRUE(low.ok()) << low.status().message();
  EXPECT_TRUE(low->float_nodes.empty());
  auto ex = make_int8_executor(g);
  ASSERT_TRUE(ex.ok()) << ex.status().message();
  // Codes x = 1, 3, 5, 7 | 1, 3, 5, 7 (x = code·0.5); b = 1 | 3.
  auto y = ex->run({Tensor::from<float>({1, 2, 2, 2}, std::vector<float>{0.5f, 1.5f, 2.5f, 3.5f,
                                                                         0.5f, 1.5f, 2.5f, 3.5f}),
                    Tensor::from<float>({1, 2, 1, 1}, std::vector<float>{1.0f, 3.0f})});
  ASSERT_TRUE(y.ok()) << y.status().message();
  // 0.5, 1.5, 2.5, 3.5 → 0, 2, 2, 4; 1.5, 4.5, 7.5, 10.5 → 2, 4, 8, 10.
  const std::vector<float> want = {0, 2, 2, 4, 2, 4, 8, 10};
  for (size_t i = 0; i < want.size(); ++i) EXPECT_EQ(y.value()[0].span<float>()[i], want[i]) << i;
}

// The same graph with rows of 1280 columns (≥ 1024: each row looks its elements up in a copy
// of its 256-entry column of the pair table, AVX-512 VBMI where the CPU has it): every code of
// x against s codes 1, 3, 0, equal to qlinear_mul_element on each element, on every tier.
TEST(OrtTies, LongBroadcastMulRowsUseTheSameTableEntries) {
  // Both operand orders: x · s (b fixed per row: the copied table column) and s · x (a fixed:
  // the table row, EfficientNet-B0's squeeze-excite); rows of 1280 and of 40 (short rows).
  for (const bool scale_first : {false, true}) {
    for (const int64_t w : {40, 1}) {
      SCOPED_TRACE(std::string(scale_first ? "s·x" : "x·s") + " rows " + std::to_string(32 * w));
      Graph g("se_long");
      g.add_input("x", DType::kF32, {1, 3, 32, w});
      g.add_input("s", DType::kF32, {1, 3, 1, 1});
      g.add_initializer("sa", Tensor::from<float>({}, std::vector<float>{0.5f}));
      g.add_initializer("one", Tensor::from<float>({}, std::vector<float>{1.0f}));
      g.add_initializer("z", Tensor::from<uint8_t>({}, std::vector<uint8_t>{0}));
      g.add_node("QuantizeLinear", "qa", {"x", "sa", "z"}, {"xq"});
      g.add_node("DequantizeLinear", "da", {"xq", "sa", "z"}, {"xd"});
      g.add_node("QuantizeLinear", "qb", {"s", "one", "z"}, {"sq"});
      g.add_node("DequantizeLinear", "db", {"sq", "one", "z"}, {"sd"});
      g.add_node(
          "Mul", "mul",
          scale_first ? std::vector<std::string>{"sd", "xd"} : std::vector<std::string>{"xd", "sd"},
          {"m"});
      g.add_node("QuantizeLinear", "qm", {"m", "one", "z"}, {"mq"});
      g.add_node("DequantizeLinear", "dm", {"mq", "one", "z"}, {"y"});
      g.add_output("y");
      std::vector<float> x(static_cast<size_t>(3 * 32 * w));
      for (size_t i = 0; i < x.size(); ++i) x[i] = 0.5f * static_cast<float>((i * 7) % 256);
      const std::vector<float> s = {1.0f, 3.0f, 0.0f};
      // QLinearMul's parameters in the graph's operand order.
      const kernels::QLinearMulParams p =
          scale_first ? kernels::QLinearMulParams{1.0f, 0, 0.5f, 0, 1.0f, 0, 0, 255}
                      : kernels::QLinearMulParams{0.5f, 0, 1.0f, 0, 1.0f, 0, 0, 255};
      const float m = kernels::qlinear_mul_multiplier(p);
      for (kernels::KernelChoice k : {kernels::KernelChoice::kAuto, kernels::KernelChoice::kRef}) {
        SCOPED_TRACE(kernels::kernel_choice_name(k));
        ExecutorOptions opt;
        opt.kernel = k;
        auto ex = make_int8_executor(g, {}, opt);
        ASSERT_TRUE(ex.ok()) << ex.status().message();
        auto y =
            ex->run({Tensor::from<float>({1, 3, 32, w}, x), Tensor::from<float>({1, 3, 1, 1}, s)});
        ASSERT_TRUE(y.ok()) << y.status().message();
        const std::span<const float> got = y.value()[0].span<float>();
        for (size_t i = 0; i < x.size(); ++i) {
          const auto a = static_cast<uint8_t>((i * 7) % 256);
          const auto b = static_cast<uint8_t>(s[i / static_cast<size_t>(32 * w)]);
          const int32_t want = scale_first ? kernels::qlinear_mul_element<uint8_t>(p, m, b, a)
                                           : kernels::qlinear_mul_element<uint8_t>(p, m, a, b);
          ASSERT_EQ(got[i], static_cast<float>(want)) << i;
        }
      }
    }
  }
}

}  // namespace
}  // namespace ei8
