// The SiLU fusion of the INT8 lowering (int8_lowering.h, Int8LoweringOptions::fuse_silu):
// QLinearSigmoid(x) → QLinearMul(x, σ) becomes one QLinearLookup table whose entries are the two
// ops evaluated on every code. Proven against the unfused pair run by the same engine: all 256
// codes of u8 and s8, random scales and zero points, both operand orders, a Mul whose x operand
// has its own DequantizeLinear parameters, every requantization profile and every INT8 tier;
// a Conv → Sigmoid → Mul QDQ model on random inputs; and no fusion when σ has another reader.
// (Against ONNX Runtime: the QDQ corpus files op_silu_u8 / op_silu_s8, qdq_corpus_test.cpp and
// tests/quant/int8_interop_test.cpp, now run through the fused table.)
#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "ei8/core/rng.h"
#include "ei8/runtime/int8_lowering.h"
#include "ei8/runtime/kernels/conv_s8.h"

namespace ei8 {
namespace {

int count_ops(const Graph& g, const std::string& op) {
  int n = 0;
  for (const Node& node : g.nodes()) n += node.op_type == op;
  return n;
}

void add_zero_point(Graph& g, const std::string& name, bool u8, int32_t z) {
  if (u8) {
    g.add_initializer(name, Tensor::from<uint8_t>({}, {static_cast<uint8_t>(z)}));
  } else {
    g.add_initializer(name, Tensor::from<int8_t>({}, {static_cast<int8_t>(z)}));
  }
}
void add_scale(Graph& g, const std::string& name, float s) {
  g.add_initializer(name, Tensor::from<float>({}, std::vector<float>{s}));
}

// Q → DQ → Sigmoid → Q → DQ → Mul(x, σ) → Q → DQ with the data entering as codes (Q with scale 1,
// zero point 0) and leaving as codes (DQ 1, 0). own_dq: the Mul reads x through its own
// DequantizeLinear with other parameters (same codes, other interpretation).
Graph silu_graph(Rng& rng, bool u8, bool x_first, bool own_dq, int64_t n) {
  Graph g("silu");
  g.add_input("x", DType::kF32, {1, n});
  const int32_t lo = u8 ? 0 : -128, hi = u8 ? 255 : 127;
  auto zp = [&] { return static_cast<int32_t>(rng.uniform_int(lo, hi)); };
  add_scale(g, "one", 1.0f);
  add_zero_point(g, "z0", u8, 0);
  add_scale(g, "sx", rng.uniform(0.002f, 0.2f));
  add_zero_point(g, "zx", u8, zp());
  add_scale(g, "sx2", rng.uniform(0.002f, 0.2f));
  add_zero_point(g, "zx2", u8, zp());
  add_scale(g, "ss", rng.uniform(0.5f, 1.5f) / 256.0f);  // σ ∈ (0, 1)
  add_zero_point(g, "zs", u8, rng.uniform_int(0, 1) == 0 ? lo : zp());
  add_scale(g, "sy", rng.uniform(0.002f, 0.2f));
  add_zero_point(g, "zy", u8, zp());
  g.add_node("QuantizeLinear", "qin", {"x", "one", "z0"}, {"xq"});
  g.add_node("DequantizeLinear", "dqx", {"xq", "sx", "zx"}, {"xd"});
  std::string xm = "xd";
  if (own_dq) {
    g.add_node("DequantizeLinear", "dqx2", {"xq", "sx2", "zx2"}, {"xd2"});
    xm = "xd2";
  }
  g.add_node("Sigmoid", "sig", {"xd"}, {"s"});
  g.add_node("QuantizeLinear", "qs", {"s", "ss", "zs"}, {"sq"});
  g.add_node("DequantizeLinear", "dqs", {"sq", "ss", "zs"}, {"sd"});
  g.add_node("Mul", "mul",
             x_first ? std::vector<std::string>{xm, "sd"} : std::vector<std::string>{"sd", xm},
             {"m"});
  g.add_node("QuantizeLinear", "qm", {"m", "sy", "zy"}, {"mq"});
  g.add_node("DequantizeLinear", "dqout", {"mq", "one", "z0"}, {"out"});
  g.add_output("out");
  return g;
}

std::vector<float> run(const Graph& g, const Int8LoweringOptions& lo, kernels::KernelChoice k,
                       const std::vector<Tensor>& inputs) {
  ExecutorOptions opt;
  opt.kernel = k;
  auto ex = make_int8_executor(g, lo, opt);
  EXPECT_TRUE(ex.ok()) << ex.status().message();
  if (!ex.ok()) return {};
  auto y = ex->run(inputs);
  EXPECT_TRUE(y.ok()) << y.status().message();
  if (!y.ok()) return {};
  const auto s = y.value()[0].span<float>();
  return {s.begin(), s.end()};
}

int64_t differing(const std::vector<float>& a, const std::vector<float>& b) {
  if (a.size() != b.size()) return -1;
  int64_t d = 0;
  for (size_t i = 0; i < a.size(); ++i) d += std::memcmp(&a[i], &b[i], sizeof(float)) != 0;
  return d;
}

const kernels::KernelChoice kTiers[] = {
    kernels::KernelChoice::kAuto, kernels::KernelChoice::kRef, kernels::KernelChoice::kGeneric,
    kernels::KernelChoice::kAvx2, kernels::KernelChoice::kAvx512Vnni};

TEST(SiluTable, EqualsTheSigmoidMulPairOnEveryCode) {
  const uint64_t seed = 20261208;
  std::printf("seed %llu\n", static_cast<unsigned long long>(seed));
  Rng rng(seed);
  int trial = 0;
  for (bool u8 : {true, false}) {
    for (int variant = 0; variant < 8; ++variant, ++trial) {
      const bool x_first = variant % 2 == 0, own_dq = variant % 4 >= 2;
      const fixedpoint::RequantProfile profile =
          fixedpoint::kAllProfiles[static_cast<size_t>(variant % 3)];
      SCOPED_TRACE(::testing::Message() << (u8 ? "u8" : "s8") << " variant " << variant
                                        << (x_first ? " x·σ" : " σ·x") << (own_dq ? " own DQ" : "")
                                        << " profile " << fixedpoint::profile_name(profile));
      const Graph g = silu_graph(rng, u8, x_first, own_dq, 256);
      Int8LoweringOptions fused, pair;
      fused.profile = pair.profile = profile;
      pair.fuse_silu = false;
      auto lf = lower_to_int8(g, fused);
      auto lp = lower_to_int8(g, pair);
      ASSERT_TRUE(lf.ok() && lp.ok());
      EXPECT_EQ(count_ops(lf->graph, "QLinearLookup"), 1);
      EXPECT_EQ(count_ops(lf->graph, "QLinearSigmoid") + count_ops(lf->graph, "QLinearMul"), 0);
      EXPECT_EQ(count_ops(lp->graph, "QLinearSigmoid"), 1);
      EXPECT_EQ(count_ops(lp->graph, "QLinearMul"), 1);
      EXPECT_TRUE(lf->float_nodes.empty());
      // All 256 codes, in order.
      std::vector<float> codes(256);
      for (int i = 0; i < 256; ++i) codes[static_cast<size_t>(i)] = float((u8 ? 0 : -128) + i);
      const std::vector<Tensor> in = {Tensor::from<float>({1, 256}, codes)};
      const std::vector<float> want = run(g, pair, kernels::KernelChoice::kRef, in);
      ASSERT_EQ(want.size(), 256u);
      for (kernels::KernelChoice k : kTiers) {
        if (!kernels::kernel_choice_available(k)) continue;
        EXPECT_EQ(differing(run(g, fused, k, in), want), 0) << kernels::kernel_choice_name(k);
        EXPECT_EQ(differing(run(g, pair, k, in), want), 0) << kernels::kernel_choice_name(k);
      }
    }
  }
  EXPECT_EQ(trial, 16);
}

// A σ that another node also reads (here: a graph output) keeps the pair.
TEST(SiluTable, SigmoidWithAnotherReaderIsNotFused) {
  Rng rng(7);
  Graph g = silu_graph(rng, true, true, false, 16);
  g.add_output("sq");
  auto low = lower_to_int8(g);
  ASSERT_TRUE(low.ok()) << low.status().message();
  EXPECT_EQ(count_ops(low->graph, "QLinearSigmoid"), 1);
  EXPECT_EQ(count_ops(low->graph, "QLinearMul"), 1);
  EXPECT_EQ(count_ops(low->graph, "QLinearLookup"), 0);
}

// Conv → Sigmoid → Mul (EfficientNet's block shape) as a QDQ model: per-channel s8 weights, an
// int32 bias, u8 activations; fused and unfused give the same outputs on random inputs, on every
// tier, remainder sizes included (8 channels of 7×5).
TEST(SiluTable, ConvSigmoidMulModelMatchesTheUnfusedRun) {
  const uint64_t seed = 4242;
  std::printf("seed %llu\n", static_cast<unsigned long long>(seed));
  Rng rng(seed);
  for (bool u8 : {true, false}) {
    SCOPED_TRACE(u8 ? "u8" : "s8");
    const int64_t cin = 3, cout = 8, h = 7, w = 5;
    Graph g("conv_silu");
    g.add_input("x", DType::kF32, {2, cin, h, w});
    const float sx = 0.02f, sw = 0.01f;
    add_scale(g, "sx", sx);
    add_zero_point(g, "zx", u8, u8 ? 128 : 0);
    std::vector<int8_t> wq(static_cast<size_t>(cout * cin * 9));
    for (int8_t& v : wq) v = static_cast<int8_t>(rng.uniform_int(-127, 127));
    g.add_initializer("wq", Tensor::from<int8_t>({cout, cin, 3, 3}, wq));
    std::vector<float> wsc(static_cast<size_t>(cout));
    for (float& v : wsc) v = sw * rng.uniform(0.5f, 1.5f);
    g.add_initializer("ws", Tensor::from<float>({cout}, wsc));
    g.add_initializer("wz", Tensor::from<int8_t>({cout}, std::vector<int8_t>(cout, 0)));
    std::vector<int32_t> bq(static_cast<size_t>(cout));
    std::vector<float> bs(static_cast<size_t>(cout));
    for (size_t c = 0; c < bq.size(); ++c) {
      bq[c] = static_cast<int32_t>(rng.uniform_int(-500, 500));
      bs[c] = sx * wsc[c];
    }
    g.add_initializer("bq", Tensor::from<int32_t>({cout}, bq));
    g.add_initializer("bs", Tensor::from<float>({cout}, bs));
    g.add_initializer("bz", Tensor::from<int32_t>({cout}, std::vector<int32_t>(cout, 0)));
    add_scale(g, "sc", 0.05f);
    add_zero_point(g, "zc", u8, u8 ? 100 : -20);
    add_scale(g, "ss", 1.0f / 255.0f);
    add_zero_point(g, "zs", u8, u8 ? 0 : -128);
    add_scale(g, "sy", 0.03f);
    add_zero_point(g, "zy", u8, u8 ? 10 : -100);
    g.add_node("QuantizeLinear", "qx", {"x", "sx", "zx"}, {"xq"});
    g.add_node("DequantizeLinear", "dqx", {"xq", "sx", "zx"}, {"xd"});
    g.add_node("DequantizeLinear", "dqw", {"wq", "ws", "wz"}, {"wd"}).set("axis", int64_t{0});
    g.add_node("DequantizeLinear", "dqb", {"bq", "bs", "bz"}, {"bd"}).set("axis", int64_t{0});
    g.add_node("Conv", "conv", {"xd", "wd", "bd"}, {"c"})
        .set("pads", std::vector<int64_t>{1, 1, 1, 1});
    g.add_node("QuantizeLinear", "qc", {"c", "sc", "zc"}, {"cq"});
    g.add_node("DequantizeLinear", "dqc", {"cq", "sc", "zc"}, {"cd"});
    g.add_node("Sigmoid", "sig", {"cd"}, {"s"});
    g.add_node("QuantizeLinear", "qs", {"s", "ss", "zs"}, {"sq"});
    g.add_node("DequantizeLinear", "dqs", {"sq", "ss", "zs"}, {"sd"});
    g.add_node("Mul", "silu", {"cd", "sd"}, {"m"});
    g.add_node("QuantizeLinear", "qm", {"m", "sy", "zy"}, {"mq"});
    g.add_node("DequantizeLinear", "dqm", {"mq", "sy", "zy"}, {"y"});
    g.add_output("y");
    Int8LoweringOptions pair;
    pair.fuse_silu = false;
    auto lf = lower_to_int8(g);
    ASSERT_TRUE(lf.ok()) << lf.status().message();
    EXPECT_EQ(count_ops(lf->graph, "QLinearConv"), 1);
    EXPECT_EQ(count_ops(lf->graph, "QLinearLookup"), 1);
    EXPECT_EQ(count_ops(lf->graph, "QLinearSigmoid") + count_ops(lf->graph, "QLinearMul"), 0);
    std::vector<float> x(static_cast<size_t>(2 * cin * h * w));
    for (float& v : x) v = rng.normal(0.0f, 1.5f);
    const std::vector<Tensor> in = {Tensor::from<float>({2, cin, h, w}, x)};
    const std::vector<float> want = run(g, pair, kernels::KernelChoice::kRef, in);
    ASSERT_EQ(want.size(), static_cast<size_t>(2 * cout * h * w));
    for (kernels::KernelChoice k : kTiers) {
      if (!kernels::kernel_choice_available(k)) continue;
      EXPECT_EQ(differing(run(g, {}, k, in), want), 0) << kernels::kernel_choice_name(k);
    }
  }
}

}  // namespace
}  // namespace ei8
