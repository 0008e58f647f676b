// The INT8 runtime: integer ops (int8_ops.h) and the QDQ lowering (int8_lowering.h): the ONNX
// backend node tests (exact), bad Q/DQ parameters, float fallback, reference kernels vs double
// oracles. (Agreement with the float QDQ simulation: tests/quant/int8_engine_test.cpp.)
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "ei8/core/npy.h"
#include "ei8/core/rng.h"
#include "ei8/graph/onnx/onnx_io.h"
#include "ei8/runtime/int8_lowering.h"
#include "ei8/runtime/int8_ops.h"
#include "ei8/runtime/kernels/conv_s8.h"
#include "ei8/runtime/kernels/ref/qlinear_ref.h"

namespace ei8 {
namespace {

std::string data(const std::string& rel) { return std::string(EI8_TEST_DATA_DIR) + "/" + rel; }

class OnnxNodeCase : public ::testing::TestWithParam<std::string> {};

TEST_P(OnnxNodeCase, IntegerEngineReproducesExpectedOutputExactly) {
  const std::string base = data("onnx_node/" + GetParam());
  auto g = load_onnx(base + ".onnx");
  ASSERT_TRUE(g.ok()) << g.status().message();
  auto x = read_npy(base + ".input.npy");
  auto want = read_npy(base + ".expected.npy");
  ASSERT_TRUE(x.ok() && want.ok());
  auto ex = make_int8_executor(g.value());
  ASSERT_TRUE(ex.ok()) << ex.status().message();
  auto y = ex->run({x.value()});
  ASSERT_TRUE(y.ok()) << y.status().message();
  const Tensor& got = y.value()[0];
  ASSERT_EQ(got.dtype(), want->dtype());
  ASSERT_EQ(got.shape(), want->shape());
  EXPECT_EQ(std::memcmp(got.raw(), want->raw(), got.nbytes()), 0) << GetParam();
}

INSTANTIATE_TEST_SUITE_P(Debian, OnnxNodeCase,
                         ::testing::Values("test_qlinearconv", "test_qlinearmatmul_2D",
                                           "test_qlinearmatmul_3D", "test_quantizelinear",
                                           "test_quantizelinear_axis", "test_dequantizelinear",
                                           "test_dequantizelinear_axis"));

// Bad input: each broken Q/DQ parameter is an error naming the node.
Node* first_dq_of_weights(Graph& g) {
  for (Node& n : g.nodes()) {
    if (n.op_type == "DequantizeLinear" && g.constant(n.input(0)) != nullptr) return &n;
  }
  return nullptr;
}

TEST(Int8Lowering, RejectsZeroNanScaleAndBadZeroPoint) {
  auto g0 = load_onnx(data("qdq/qdq_pertensor.onnx"));
  ASSERT_TRUE(g0.ok());
  for (float bad : {0.0f, std::nanf(""), -1.0f, INFINITY}) {
    Graph g = g0.value();
    Node* d = first_dq_of_weights(g);
    ASSERT_NE(d, nullptr);
    const std::string name = d->name;
    g.find_value(d->input(1))->data = Tensor::from<float>({}, std::vector<float>{bad});
    auto low = lower_to_int8(g);
    ASSERT_FALSE(low.ok()) << bad;
    EXPECT_NE(low.status().message().find(name), std::string::npos) << low.status().message();
    EXPECT_NE(low.status().message().find("must be finite and > 0"), std::string::npos);
    EXPECT_FALSE(make_int8_executor(g).ok());
  }
  {
    // An int32 zero point other than 0 on the bias.
    Graph g = g0.value();
    for (Node& n : g.nodes()) {
      const Tensor* c = g.constant(n.input(0));
      if (n.op_type == "DequantizeLinear" && c && c->dtype() == DType::kS32) {
        g.find_value(n.input(2))->data = Tensor::from<int32_t>({}, std::vector<int32_t>{3});
        auto low = lower_to_int8(g);
        ASSERT_FALSE(low.ok());
        EXPECT_NE(low.status().message().find(n.name), std::string::npos);
        break;
      }
    }
  }
  {
    // A zero point whose type differs from the data's (s8 zero point for u8 data).
    Graph g = g0.value();
    for (Node& n : g.nodes()) {
      if (n.op_type == "DequantizeLinear" && g.constant(n.input(0)) == nullptr) {
        g.find_value(n.input(2))->data = Tensor::from<int8_t>({}, std::vector<int8_t>{3});
        auto low = lower_to_int8(g);
        ASSERT_FALSE(low.ok());
        EXPECT_NE(low.status().message().find(n.name), std::string::npos);
        break;
      }
    }
  }
}

TEST(Int8Cli, RunQdqWithZeroScaleFailsNamingTheNode) {
  auto g = load_onnx(data("qdq/qdq_pertensor.onnx"));
  ASSERT_TRUE(g.ok());
  Node* d = first_dq_of_weights(g.value());
  ASSERT_NE(d, nullptr);
  const std::string name = d->name;
  g->find_value(d->input(1))->data = Tensor::from<float>({}, std::vector<float>{0.0f});
  const auto dir = std::filesystem::temp_directory_path() / "ei8_int8_cli_test";
  std::filesystem::create_directories(dir);
  const std::string model = (dir / "bad.onnx").string(), err = (dir / "err.txt").string();
  ASSERT_TRUE(save_onnx(g.value(), model).ok());
  const std::string cmd = std::string(EI8_BINARY_DIR) + "/apps/edgeint8/edgeint8 run " + model +
                          " -i " + data("qdq/qdq_pertensor.input.npy") + " -o " +
                          (dir / "y.npy").string() + " >/dev/null 2>" + err;
  const int rc = std::system(cmd.c_str());
  std::ifstream f(err);
  std::stringstream ss;
  ss << f.rdbuf();
  EXPECT_NE(rc, 0);
  EXPECT_EQ(ss.str().rfind("edgeint8: error: ", 0), 0u) << ss.str();
  EXPECT_NE(ss.str().find(name), std::string::npos) << ss.str();
  EXPECT_NE(ss.str().find("must be finite and > 0"), std::string::npos) << ss.str();
  std::filesystem::remove_all(dir);
}

TEST(Int8Lowering, UnsupportedOpStaysFloatWithAWarning) {
  // Q → DQ → Tanh → Q → DQ: Tanh has no integer form here (nor a QDQ fusion in ONNX Runtime).
  Graph g("tanh");
  g.add_input("x", DType::kF32, {kDynamic, 4});
  g.add_initializer("s", Tensor::from<float>({}, std::vector<float>{0.01f}));
  g.add_initializer("z", Tensor::from<uint8_t>({}, std::vector<uint8_t>{128}));
  g.add_node("QuantizeLinear", "q0", {"x", "s", "z"}, {"xq"});
  g.add_node("DequantizeLinear", "dq0", {"xq", "s", "z"}, {"xd"});
  g.add_node("Tanh", "sig", {"xd"}, {"sg"});
  g.add_node("QuantizeLinear", "q1", {"sg", "s", "z"}, {"yq"});
  g.add_node("DequantizeLinear", "dq1", {"yq", "s", "z"}, {"y"});
  g.add_output("y");
  auto low = lower_to_int8(g);
  ASSERT_TRUE(low.ok()) << low.status().message();
  ASSERT_EQ(low->float_nodes, std::vector<std::string>{"sig"});
  ASSERT_EQ(low->warnings.size(), 1u);
  EXPECT_NE(low->warnings[0].find("'sig'"), std::string::npos);
  auto ex = make_int8_executor(g);
  ASSERT_TRUE(ex.ok()) << ex.status().message();
  auto y = ex->run({Tensor::from<float>({1, 4}, std::vector<float>{-1.0f, 0.0f, 0.3f, 1.0f})});
  ASSERT_TRUE(y.ok()) << y.status().message();
  EXPECT_NEAR(y.value()[0].span<float>()[1], 0.0f, 0.01f);
  EXPECT_NEAR(y.value()[0].span<float>()[3], std::tanh(1.0f), 0.01f);
}

// The lowering checks DQ → Gemm → [Q] against ORT's fusion conditions with the layer view's
// geometry (transA, alpha, beta, the weight's output-channel axis): what it fuses runs, what it
// refuses stays float with a warning.
TEST(Int8Lowering, GemmFusionConditionsComeFromTheLayerView) {
  struct Case {
    std::string name;
    bool trans_a, trans_b;
    float alpha, beta;
    int64_t scale_axis;  // of the weight DQ (3 per-channel scales when >= 0)
    bool output_q;
    std::string want;  // the op the Gemm becomes ("" = stays float)
  };
  const std::vector<Case> cases = {
      {"transB, per-channel on N", false, true, 1.0f, 1.0f, 0, true, "QGemm"},
      {"no transB, per-tensor", false, false, 1.0f, 1.0f, -1, true, "QGemm"},
      {"no transB, per-channel on N", false, false, 1.0f, 1.0f, 1, true, "QGemm"},
      {"float output", false, true, 1.0f, 1.0f, 0, false, "QGemm"},
      {"transA", true, true, 1.0f, 1.0f, 0, true, ""},
      {"alpha 0.5", false, true, 0.5f, 1.0f, 0, true, ""},
      {"beta 2", false, true, 1.0f, 2.0f, 0, true, ""},
      {"per-channel on K", false, true, 1.0f, 1.0f, 1, true, ""},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    Graph g("gemm");
    const int64_t k = 4, n = 3;
    // transB: B is [N, K] (N = 3, K = 4), else [K, N]; per-channel scales along the given axis.
    const Shape wshape = c.trans_b ? Shape{n, k} : Shape{k, n};
    g.add_input("x", DType::kF32, c.trans_a ? Shape{k, 2} : Shape{2, k});
    g.add_initializer("s", Tensor::from<float>({}, std::vector<float>{0.05f}));
    g.add_initializer("z", Tensor::from<uint8_t>({}, std::vector<uint8_t>{128}));
    std::vector<int8_t> w(static_cast<size_t>(k * n));
    for (size_t i = 0; i < w.size(); ++i) w[i] = static_cast<int8_t>(static_cast<int>(i) * 7 - 40);
    g.add_initializer("w", Tensor::from<int8_t>(wshape, w));
    const int64_t nscales = c.scale_axis < 0 ? 1 : wshape[static_cast<size_t>(c.scale_axis)];
    g.add_initializer("ws", Tensor::from<float>(nscales == 1 ? Shape{} : Shape{nscales},
                                                std::vector<float>(nscales, 0.02f)));
    g.add_initializer("wz", Tensor::from<int8_t>(nscales == 1 ? Shape{} : Shape{nscales},
                                                 std::vector<int8_t>(nscales, 0)));
    g.add_initializer("b", Tensor::from<int32_t>({n}, std::vector<int32_t>{5, -7, 11}));
    g.add_initializer("bs", Tensor::from<float>({}, std::vector<float>{0.05f * 0.02f}));
    g.add_node("QuantizeLinear", "qx", {"x", "s", "z"}, {"xq"});
    g.add_node("DequantizeLinear", "dqx", {"xq", "s", "z"}, {"xd"});
    Node& dw = g.add_node("DequantizeLinear", "dqw", {"w", "ws", "wz"}, {"wd"});
    if (c.scale_axis >= 0) dw.set("axis", c.scale_axis);
    g.add_node("DequantizeLinear", "dqb", {"b", "bs"}, {"bd"});
    Node& fc = g.add_node("Gemm", "fc", {"xd", "wd", "bd"}, {c.output_q ? "yf" : "y"});
    if (c.trans_a) fc.set("transA", int64_t{1});
    if (c.trans_b) fc.set("transB", int64_t{1});
    if (c.alpha != 1.0f) fc.set("alpha", c.alpha);
    if (c.beta != 1.0f) fc.set("beta", c.beta);
    if (c.output_q) {
      g.add_initializer("ys", Tensor::from<float>({}, std::vector<float>{0.1f}));
      g.add_node("QuantizeLinear", "qy", {"yf", "ys", "z"}, {"yq"});
      g.add_node("DequantizeLinear", "dqy", {"yq", "ys", "z"}, {"y"});
    }
    g.add_output("y");
    Result<Int8Lowering> low = lower_to_int8(g);
    ASSERT_TRUE(low.ok()) << low.status().message();
    const Node* out = nullptr;
    for (const Node& node : low->graph.nodes()) {
      if (node.name == "fc") out = &node;
    }
    ASSERT_NE(out, nullptr);
    if (c.want.empty()) {
      EXPECT_EQ(out->op_type, "Gemm");
      EXPECT_EQ(low->float_nodes, std::vector<std::string>{"fc"});
    } else {
      EXPECT_EQ(out->op_type, c.want);
      EXPECT_EQ(out->attr_int("transB", 0), c.trans_b ? 1 : 0);
      EXPECT_TRUE(low->float_nodes.empty());
    }
    // Whatever the lowering chose runs (integer or float between DQ and Q).
    Result<Executor> ex = make_int8_executor(g);
    ASSERT_TRUE(ex.ok()) << ex.status().message();
    std::vector<float> x(static_cast<size_t>(2 * k));
    for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(i) * 0.3f - 1.0f;
    Result<std::vector<Tensor>> y =
        ex->run({Tensor::from<float>(c.trans_a ? Shape{k, 2} : Shape{2, k}, x)});
    ASSERT_TRUE(y.ok()) << y.status().message();
    EXPECT_EQ(y.value()[0].numel(), 2 * n);
  }
}

// The QLinearAdd op (DQ→Add→Q lowered; the AVX2 loop of kernels::qlinear_add_s8 or a 256×256
// table built from the reference) equals qlinear_add_ref on every pair of codes, u8 and s8,
// several seeded scale / zero-point sets.
TEST(Int8Ops, QLinearAddEqualsReferenceOnAllCodePairs) {
  const uint64_t seed = 20261128;
  std::printf("seed %llu\n", static_cast<unsigned long long>(seed));
  Rng rng(seed);
  for (bool u8 : {true, false}) {
    for (int trial = 0; trial < 3; ++trial) {
      kernels::QLinearAddParams p;
      p.a_scale = rng.uniform(0.001f, 0.1f);
      p.b_scale = rng.uniform(0.001f, 0.1f);
      p.c_scale = trial == 0 ? p.a_scale + p.b_scale : rng.uniform(0.001f, 0.1f);
      const int32_t lo = u8 ? 0 : -128, hi = u8 ? 255 : 127;
      p.a_zero_point = static_cast<int32_t>(rng.uniform_int(lo, hi));
      p.b_zero_point = static_cast<int32_t>(rng.uniform_int(lo, hi));
      p.c_zero_point = static_cast<int32_t>(rng.uniform_int(lo, hi));
      p.qmin = lo;
      p.qmax = hi;
      // Codes enter as floats through Q(scale 1, zero point 0) and leave through DQ(1, 0).
      Graph g("qadd");
      const DType qt = u8 ? DType::kU8 : DType::kS8;
      g.add_input("x", DType::kF32, {1, 65536});
      g.add_input("y", DType::kF32, {1, 65536});
      auto zp = [&](const std::string& name, int32_t z) {
        if (u8) {
          g.add_initializer(name, Tensor::from<uint8_t>({}, {static_cast<uint8_t>(z)}));
        } else {
          g.add_initializer(name, Tensor::from<int8_t>({}, {static_cast<int8_t>(z)}));
        }
      };
      g.add_initializer("one", Tensor::from<float>({}, std::vector<float>{1.0f}));
      zp("z0", 0);
      g.add_initializer("sa", Tensor::from<float>({}, std::vector<float>{p.a_scale}));
      g.add_initializer("sb", Tensor::from<float>({}, std::vector<float>{p.b_scale}));
      g.add_initializer("sc", Tensor::from<float>({}, std::vector<float>{p.c_scale}));
      zp("za", p.a_zero_point);
      zp("zb", p.b_zero_point);
      zp("zc", p.c_zero_point);
      g.add_node("QuantizeLinear", "qx", {"x", "one", "z0"}, {"xq"});
      g.add_node("QuantizeLinear", "qy", {"y", "one", "z0"}, {"yq"});
      g.add_node("DequantizeLinear", "dqx", {"xq", "sa", "za"}, {"xd"});
      g.add_node("DequantizeLinear", "dqy", {"yq", "sb", "zb"}, {"yd"});
      g.add_node("Add", "add", {"xd", "yd"}, {"s"});
      g.add_node("QuantizeLinear", "qs", {"s", "sc", "zc"}, {"sq"});
      g.add_node("DequantizeLinear", "dqs", {"sq", "one", "z0"}, {"out"});
      g.add_output("out");
      (void)qt;
      auto low = lower_to_int8(g);
      ASSERT_TRUE(low.ok()) << low.status().message();
      EXPECT_EQ(std::count_if(low->graph.nodes().begin(), low->graph.nodes().end(),
                              [](const Node& n) { return n.op_type == "QLinearAdd"; }),
                1);
      std::vector<float> xa(65536), ya(65536);
      std::vector<uint8_t> au(65536), bu(65536), cu(65536);
      std::vector<int8_t> as(65536), bs(65536), cs(65536);
      for (int i = 0; i < 65536; ++i) {
        const int a = lo + i / 256, b = lo + i % 256;
        xa[static_cast<size_t>(i)] = static_cast<float>(a);
        ya[static_cast<size_t>(i)] = static_cast<float>(b);
        au[static_cast<size_t>(i)] = static_cast<uint8_t>(a);
        bu[static_cast<size_t>(i)] = static_cast<uint8_t>(b);
        as[static_cast<size_t>(i)] = static_cast<int8_t>(a);
        bs[static_cast<size_t>(i)] = static_cast<int8_t>(b);
      }
      if (u8) {
        kernels::qlinear_add_ref(p, au.data(), bu.data(), cu.data(), 65536);
      } else {
        kernels::qlinear_add_ref(p, as.data(), bs.data(), cs.data(), 65536);
      }
      // kAuto: the AVX2 loop where the CPU has it; kGeneric: the table.
      for (kernels::KernelChoice kc :
           {kernels::KernelChoice::kAuto, kernels::KernelChoice::kGeneric}) {
        ExecutorOptions opt;
        opt.kernel = kc;
        auto ex = make_int8_executor(g, {}, opt);
        ASSERT_TRUE(ex.ok()) << ex.status().message();
        auto y =
            ex->run({Tensor::from<float>({1, 65536}, xa), Tensor::from<float>({1, 65536}, ya)});
        ASSERT_TRUE(y.ok()) << y.status().message();
        const auto got = y.value()[0].span<float>();
        int64_t diffs = 0;
        for (size_t i = 0; i < 65536; ++i) {
          const float want = u8 ? float(cu[i]) : float(cs[i]);
          if (got[i] != want) ++diffs;
        }
        EXPECT_EQ(diffs, 0) << (u8 ? "u8" : "s8") << " trial " << trial << " kernel "
                            << kernels::kernel_choice_name(kc);
      }
      // The vector kernels themselves (kAuto: AVX-512 where the CPU has it; kAvx2 forces the
      // AVX2 loop) on a misaligned run with a tail (n = 65533 from element 1), and on every
      // length 1..40 (tails of both loops), when this CPU has them.
      const auto it = u8 ? kernels::IntType::kU8 : kernels::IntType::kS8;
      const void* va = u8 ? static_cast<const void*>(au.data() + 1) : as.data() + 1;
      const void* vb = u8 ? static_cast<const void*>(bu.data() + 1) : bs.data() + 1;
      const uint8_t* want = u8 ? cu.data() : reinterpret_cast<const uint8_t*>(cs.data());
      for (kernels::KernelChoice kc :
           {kernels::KernelChoice::kAuto, kernels::KernelChoice::kAvx2}) {
        const std::string what = std::string(u8 ? "u8" : "s8") + " kernel " +
                                 std::string(kernels::kernel_choice_name(kc));
        std::vector<uint8_t> vc(65536, 0x5a);
        if (!kernels::qlinear_add_s8(p, it, va, vb, vc.data() + 1, 65533, kc)) continue;
        EXPECT_EQ(std::memcmp(vc.data() + 1, want + 1, 65533), 0) << what;
        EXPECT_EQ(vc[0], 0x5a) << what;
        EXPECT_EQ(vc[65535], 0x5a) << what;
        for (int64_t len = 1; len <= 40; ++len) {
          const int64_t at = 997 * len % 60000;  // codes from all over the table
          const auto* sa = static_cast<const uint8_t*>(va) + at;
          const auto* sb = static_cast<const uint8_t*>(vb) + at;
          std::fill(vc.begin(), vc.end(), 0x5a);
          ASSERT_TRUE(kernels::qlinear_add_s8(p, it, sa, sb, vc.data(), len, kc)) << what;
          EXPECT_EQ(std::memcmp(vc.data(), want + 1 + at, static_cast<size_t>(len)), 0)
              << what << " n " << len;
          EXPECT_EQ(vc[static_cast<size_t>(len)], 0x5a) << what << " n " << len;
        }
      }
    }
  }
}

// Reference kernels against double-precision oracles on random data (seeded).
TEST(QLinearRef, AddAvgPoolConcatMatchDoubleOracleWithinTies) {
  const uint64_t seed = 20261127;
  std::printf("seed %llu\n", static_cast<unsigned long long>(seed));
  Rng rng(seed);
  for (int trial = 0; trial < 50; ++trial) {
    kernels::QLinearAddParams p;
    p.a_scale = rng.uniform(0.001f, 0.1f);
    p.b_scale = rng.uniform(0.001f, 0.1f);
    p.c_scale = rng.uniform(0.001f, 0.1f);
    p.a_zero_point = static_cast<int32_t>(rng.uniform(0.0f, 255.0f));
    p.b_zero_point = static_cast<int32_t>(rng.uniform(0.0f, 255.0f));
    p.c_zero_point = static_cast<int32_t>(rng.uniform(0.0f, 255.0f));
    const int64_t n = 257;
    std::vector<uint8_t> a(n), b(n), c(n);
    for (int64_t i = 0; i < n; ++i) {
      a[static_cast<size_t>(i)] = static_cast<uint8_t>(rng.uniform(0.0f, 255.99f));
      b[static_cast<size_t>(i)] = static_cast<uint8_t>(rng.uniform(0.0f, 255.99f));
    }
    kernels::qlinear_add_ref(p, a.data(), b.data(), c.data(), n);
    for (size_t i = 0; i < a.size(); ++i) {
      const double r =
          p.a_scale * double(a[i] - p.a_zero_point) + p.b_scale * double(b[i] - p.b_zero_point);
      const double q = std::clamp(r / p.c_scale + p.c_zero_point, 0.0, 255.0);
      EXPECT_LE(std::abs(q - c[i]), 0.5 + 1e-3) << "trial " << trial << " i " << i;
    }
  }
  // Average pool 3x3 stride 2 pad 1 (count excludes padding) against the double average.
  kernels::Pool2dParams pp;
  pp.channels = 3;
  pp.in_h = 7;
  pp.in_w = 5;
  pp.out_h = 4;  // (7 + 2 − 3) / 2 + 1
  pp.out_w = 3;  // (5 + 2 − 3) / 2 + 1
  pp.kernel_h = pp.kernel_w = 3;
  pp.stride_h = pp.stride_w = 2;
  pp.pad_top = pp.pad_left = pp.pad_bottom = pp.pad_right = 1;
  const float sx = 0.02f, sy = 0.015f;
  const int32_t zx = 100, zy = 90;
  std::vector<fixedpoint::Requantizer> rq;
  for (int k = 1; k <= 9; ++k) {
    rq.push_back(fixedpoint::Requantizer::from_multiplier(fixedpoint::RequantProfile::kOrt,
                                                          sx / (sy * static_cast<float>(k)), zy, 0,
                                                          255)
                     .value());
  }
  std::vector<uint8_t> x(static_cast<size_t>(2 * 3 * 7 * 5));
  for (auto& v : x) v = static_cast<uint8_t>(rng.uniform(0.0f, 255.99f));
  std::vector<uint8_t> y(static_cast<size_t>(2 * 3 * pp.out_h * pp.out_w));
  kernels::avgpool_s8_ref(pp, 2, zx, rq, x.data(), y.data());
  size_t k = 0;
  for (int64_t nc = 0; nc < 6; ++nc) {
    for (int64_t i = 0; i < pp.out_h; ++i) {
      for (int64_t j = 0; j < pp.out_w; ++j, ++k) {
        double sum = 0;
        int cnt = 0;
        for (int64_t h = i * 2 - 1; h <= i * 2 + 1; ++h) {
          for (int64_t w = j * 2 - 1; w <= j * 2 + 1; ++w) {
            if (h < 0 || h >= 7 || w < 0 || w >= 5) continue;
            sum += sx * double(x[static_cast<size_t>((nc * 7 + h) * 5 + w)] - zx);
            ++cnt;
          }
        }
        const double q = std::clamp(sum / cnt / sy + zy, 0.0, 255.0);
        EXPECT_LE(std::abs(q - y[k]), 0.5 + 1e-3) << k;
      }
    }
  }
  // Concat table: QuantizeLinear(DequantizeLinear(x)) for every code.
  const auto t = kernels::requantize_table<int8_t>(0.05f, -3, 0.02f, 10);
  for (int v = -128; v <= 127; ++v) {
    const double q = std::clamp(0.05 * (v + 3) / 0.02 + 10, -128.0, 127.0);
    EXPECT_LE(std::abs(q - t[static_cast<size_t>(v + 128)]), 0.5 + 1e-3) << v;
  }
}

}  // namespace
}  // namespace ei8
