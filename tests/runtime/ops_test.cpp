// Reference kernels of the non-Conv/Gemm ops and executor behaviour, on hand-derived values.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <numeric>

#include "ei8/core/rng.h"
#include "ei8/graph/shape_inference.h"
#include "ei8/runtime/executor.h"
#include "ei8/runtime/kernels/conv_f32.h"
#include "ei8/runtime/kernels/cpu_features.h"
#include "ei8/runtime/kernels/ref/eltwise_f32_ref.h"
#include "ei8/runtime/kernels/ref/layout_f32_ref.h"
#include "ei8/runtime/kernels/ref/pool_f32_ref.h"

namespace ei8 {
namespace {

// Runs a one-node graph on `x` (optimize off so the node runs as written).
Result<Tensor> run_one(const std::string& op, const Tensor& x,
                       std::map<std::string, AttrValue, std::less<>> attrs,
                       std::vector<std::pair<std::string, Tensor>> consts = {}) {
  Graph g("one");
  g.add_input("x", DType::kF32, x.shape());
  std::vector<std::string> ins = {"x"};
  for (auto& [name, t] : consts) {
    g.add_initializer(name, t);
    ins.push_back(name);
  }
  g.add_node(op, "node", ins, {"y"}).attrs = std::move(attrs);
  g.add_output("y");
  ExecutorOptions o;
  o.optimize = false;
  EI8_ASSIGN_OR_RETURN(Executor ex, Executor::create(std::move(g), o));
  EI8_ASSIGN_OR_RETURN(std::vector<Tensor> y, ex.run({x}));
  return y[0];
}

Tensor ones(Shape s) {
  Tensor t = Tensor::zeros(DType::kF32, std::move(s));
  for (float& v : t.span<float>()) v = 1.0f;
  return t;
}

TEST(PoolRef, AveragePoolCountIncludePad) {
  // 3x3 of ones, kernel 3, pad 1: the corner window holds 4 inputs and 5 padding zeros.
  std::map<std::string, AttrValue, std::less<>> a = {{"kernel_shape", std::vector<int64_t>{3, 3}},
                                                     {"pads", std::vector<int64_t>{1, 1, 1, 1}}};
  auto excl = run_one("AveragePool", ones({1, 1, 3, 3}), a);
  ASSERT_TRUE(excl.ok()) << excl.status().message();
  for (float v : excl->span<float>()) EXPECT_FLOAT_EQ(v, 1.0f);
  a["count_include_pad"] = int64_t{1};
  auto incl = run_one("AveragePool", ones({1, 1, 3, 3}), a);
  ASSERT_TRUE(incl.ok());
  EXPECT_FLOAT_EQ(incl->span<float>()[0], 4.0f / 9.0f);  // corner
  EXPECT_FLOAT_EQ(incl->span<float>()[1], 6.0f / 9.0f);  // edge
  EXPECT_FLOAT_EQ(incl->span<float>()[4], 1.0f);         // centre
}

TEST(PoolRef, MaxPoolPaddingNeverWinsAndCeilMode) {
  Tensor x = Tensor::from<float>({1, 1, 1, 5}, {-5, -4, -3, -2, -1});
  auto y = run_one("MaxPool", x,
                   {{"kernel_shape", std::vector<int64_t>{1, 2}},
                    {"strides", std::vector<int64_t>{1, 2}},
                    {"pads", std::vector<int64_t>{0, 1, 0, 0}},
                    {"ceil_mode", int64_t{1}}});
  ASSERT_TRUE(y.ok()) << y.status().message();
  // windows start at -1, 1, 3: {-5}, {-4,-3}, {-2,-1}
  ASSERT_EQ(y->shape(), (Shape{1, 1, 1, 3}));
  EXPECT_EQ(std::vector<float>(y->span<float>().begin(), y->span<float>().end()),
            (std::vector<float>{-5, -3, -1}));
  auto g = run_one("GlobalAveragePool", Tensor::from<float>({1, 2, 1, 2}, {1, 3, -2, 6}), {});
  ASSERT_TRUE(g.ok());
  EXPECT_FLOAT_EQ(g->span<float>()[0], 2.0f);
  EXPECT_FLOAT_EQ(g->span<float>()[1], 2.0f);
}

TEST(EltwiseRef, BroadcastMatchesIndexArithmetic) {
  const uint64_t seed = 7;
  SCOPED_TRACE(::testing::Message() << "seed " << seed);
  Rng rng(seed);
  const std::vector<std::pair<Shape, Shape>> cases = {{{2, 3, 4, 5}, {3, 1, 1}},
                                                      {{2, 3, 4, 5}, {2, 3, 4, 5}},
                                                      {{1, 3, 1, 5}, {2, 1, 7, 1}},
                                                      {{5}, {3, 1}},
                                                      {{2, 1, 3}, {}},
                                                      {{7, 1, 11}, {1, 13, 1}}};
  for (const auto& [sa, sb] : cases) {
    auto so = broadcast_shapes(sa, sb).value();
    Tensor a = Tensor::zeros(DType::kF32, sa), b = Tensor::zeros(DType::kF32, sb);
    for (float& v : a.span<float>()) v = rng.uniform(-1, 1);
    for (float& v : b.span<float>()) v = rng.uniform(-1, 1);
    Tensor y = Tensor::zeros(DType::kF32, so);
    auto plan = kernels::make_broadcast_plan(sa, sb, so);
    kernels::binary_f32_ref(kernels::BinaryOp::kSub, plan, a.data<float>(), b.data<float>(),
                            y.data<float>());
    const size_t r = so.size();
    for (int64_t i = 0; i < y.numel(); ++i) {
      // Decompose i into output coordinates and map them into a and b.
      std::vector<int64_t> c(r);
      int64_t rem = i;
      for (size_t d = r; d-- > 0;) {
        c[d] = rem % so[d];
        rem /= so[d];
      }
      auto index = [&](const Shape& s) {
        int64_t idx = 0;
        for (size_t d = 0; d < s.size(); ++d) {
          const int64_t cd = c[r - s.size() + d];
          idx = idx * s[d] + (s[d] == 1 ? 0 : cd);
        }
        return static_cast<size_t>(idx);
      };
      EXPECT_FLOAT_EQ(y.span<float>()[static_cast<size_t>(i)],
                      a.span<float>()[index(sa)] - b.span<float>()[index(sb)])
          << shape_to_string(sa) << " - " << shape_to_string(sb) << " at " << i;
    }
  }
}

TEST(EltwiseRef, ActivationsAndSoftmax) {
  Tensor x = Tensor::from<float>({1, 4}, {-2, -0.5f, 0.5f, 8});
  auto lr = run_one("LeakyRelu", x, {{"alpha", 0.1f}});
  auto cl = run_one("Clip", x, {{"min", 0.0f}, {"max", 6.0f}});
  auto sm = run_one("Softmax", x, {{"axis", int64_t{1}}});
  ASSERT_TRUE(lr.ok() && cl.ok() && sm.ok());
  EXPECT_FLOAT_EQ(lr->span<float>()[0], -0.2f);
  EXPECT_FLOAT_EQ(lr->span<float>()[3], 8.0f);
  EXPECT_FLOAT_EQ(cl->span<float>()[0], 0.0f);
  EXPECT_FLOAT_EQ(cl->span<float>()[3], 6.0f);
  float sum = 0;
  for (float v : sm->span<float>()) sum += v;
  EXPECT_NEAR(sum, 1.0f, 1e-6f);
  EXPECT_NEAR(sm->span<float>()[3] / sm->span<float>()[2], std::exp(7.5f), 1e-2f);
  // opset < 13 Softmax normalizes over all axes from `axis` on.
  auto sm2 = run_one("Softmax", ones({2, 2, 2}), {{"axis", int64_t{1}}, {"coerce_2d", int64_t{1}}});
  ASSERT_TRUE(sm2.ok());
  for (float v : sm2->span<float>()) EXPECT_FLOAT_EQ(v, 0.25f);
  // BatchNormalization unfused: y = (x - mean) / sqrt(var + eps) * gamma + beta
  auto bn =
      run_one("BatchNormalization", Tensor::from<float>({1, 2, 1, 1}, {3, 3}), {{"epsilon", 0.0f}},
              {{"g", Tensor::from<float>({2}, {2, 1})},
               {"b", Tensor::from<float>({2}, {1, 0})},
               {"m", Tensor::from<float>({2}, {1, 3})},
               {"v", Tensor::from<float>({2}, {4, 1})}});
  ASSERT_TRUE(bn.ok()) << bn.status().message();
  EXPECT_FLOAT_EQ(bn->span<float>()[0], 3.0f);
  EXPECT_FLOAT_EQ(bn->span<float>()[1], 0.0f);
}

TEST(LayoutRef, TransposeConcatPad) {
  Tensor x = Tensor::from<float>({2, 3}, {0, 1, 2, 3, 4, 5});
  auto t = run_one("Transpose", x, {{"perm", std::vector<int64_t>{1, 0}}});
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(std::vector<float>(t->span<float>().begin(), t->span<float>().end()),
            (std::vector<float>{0, 3, 1, 4, 2, 5}));
  auto c =
      run_one("Concat", x, {{"axis", int64_t{1}}}, {{"k", Tensor::from<float>({2, 1}, {9, 8})}});
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(std::vector<float>(c->span<float>().begin(), c->span<float>().end()),
            (std::vector<float>{0, 1, 2, 9, 3, 4, 5, 8}));
  auto p = run_one("Pad", x, {{"pads", std::vector<int64_t>{0, 1, 1, 0}}, {"value", 7.0f}});
  ASSERT_TRUE(p.ok());
  ASSERT_EQ(p->shape(), (Shape{3, 4}));
  EXPECT_EQ(std::vector<float>(p->span<float>().begin(), p->span<float>().end()),
            (std::vector<float>{7, 0, 1, 2, 7, 3, 4, 5, 7, 7, 7, 7}));
}

TEST(Executor, WrongShapeUnsupportedOpAndNonFloatAreErrors) {
  Graph g("g");
  g.add_input("x", DType::kF32, {kDynamic, 3});
  g.add_node("Relu", "r", {"x"}, {"y"});
  g.add_output("y");
  auto ex = Executor::create(g);
  ASSERT_TRUE(ex.ok());
  Status s = ex->prepare({{2, 4}});
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("'x'"), std::string::npos) << s.message();
  EXPECT_FALSE(ex->run().ok());  // not prepared
  EXPECT_TRUE(ex->prepare_batch(5).ok());
  EXPECT_EQ(ex->input(0).shape(), (Shape{5, 3}));

  Graph q("q");
  q.add_input("x", DType::kF32, {1, 3});
  q.add_initializer("s", Tensor::from<float>({}, {0.1f}));
  q.add_node("QuantizeLinear", "quant", {"x", "s"}, {"y"});
  q.add_output("y");
  // The op set is the executor's: the built-in registry runs QuantizeLinear, an executor given
  // a registry without it refuses the graph, naming the node and the op.
  EXPECT_TRUE(Executor::create(q).ok());
  auto eq = Executor::create(q, {.ops = std::make_shared<OpRegistry>()});
  ASSERT_FALSE(eq.ok());
  EXPECT_NE(eq.status().message().find("QuantizeLinear"), std::string::npos);
  EXPECT_NE(eq.status().message().find("'quant'"), std::string::npos);
}

TEST(Executor, AliasOutputsAndArenaReuse) {
  Graph g("chain");
  g.add_input("x", DType::kF32, {kDynamic, 1000});
  std::string prev = "x";
  for (int i = 0; i < 10; ++i) {
    const std::string out = fmt::format("h{}", i);
    g.add_node(i % 2 ? "Sigmoid" : "Tanh", fmt::format("n{}", i), {prev}, {out});
    prev = out;
  }
  g.add_node("Reshape", "flat", {prev}, {"y"}).set("shape", std::vector<int64_t>{0, 10, 100});
  g.add_output("y");
  auto ex = Executor::create(g);
  ASSERT_TRUE(ex.ok()) << ex.status().message();
  ASSERT_TRUE(ex->prepare_batch(2).ok());
  // Ten 8000-byte activations alive one or two at a time: at most three buffers.
  EXPECT_LE(ex->arena_bytes(), 3u * 8000u + 192u);
  Tensor x = Tensor::zeros(DType::kF32, {2, 1000});
  x.span<float>()[1] = 1.0f;
  auto y = ex->run({x});
  ASSERT_TRUE(y.ok());
  ASSERT_EQ(y.value()[0].shape(), (Shape{2, 10, 100}));
  float v0 = 0.0f, v1 = 1.0f;
  for (int i = 0; i < 10; ++i) {
    v0 = i % 2 ? 1.0f / (1.0f + std::exp(-v0)) : std::tanh(v0);
    v1 = i % 2 ? 1.0f / (1.0f + std::exp(-v1)) : std::tanh(v1);
  }
  EXPECT_FLOAT_EQ(y.value()[0].span<float>()[0], v0);
  EXPECT_FLOAT_EQ(y.value()[0].span<float>()[1], v1);
}

// The executor's own fusions (passes.h fuse_runtime_f32): Conv → Sigmoid·x (SiLU, both operand
// orders; the first into the Conv's epilogue) and BatchNormalization → Relu collapse into one
// node each, and give the same bits as the unfused graph on the same tier (the fused SiLU is
// the tier's sigmoid times x; the fused BN + Relu is the affine then the relu). A Sigmoid whose
// output is also a graph output, or read by a second node, is not fused.
TEST(Executor, RuntimeFusionsSiluAndBatchNormReluKeepTheBits) {
  Graph g("fuse");
  g.add_input("x", DType::kF32, {kDynamic, 4, 9, 11});
  Rng rng(20261207);
  auto random = [&](Shape s, float lo, float hi) {
    Tensor t = Tensor::zeros(DType::kF32, std::move(s));
    for (float& v : t.span<float>()) v = rng.uniform(lo, hi);
    return t;
  };
  g.add_initializer("w", random({4, 4, 3, 3}, -0.5f, 0.5f));
  g.add_initializer("b", random({4}, -0.5f, 0.5f));
  for (const char* p : {"gamma", "beta", "mean"}) g.add_initializer(p, random({4}, -1.0f, 1.0f));
  g.add_initializer("var", random({4}, 0.5f, 2.0f));
  g.add_node("Conv", "conv", {"x", "w", "b"}, {"c"}).set("pads", std::vector<int64_t>{1, 1, 1, 1});
  g.add_node("Sigmoid", "sig", {"c"}, {"s"});
  g.add_node("Mul", "silu", {"c", "s"}, {"m"});  // x · σ(x)
  g.add_node("Sigmoid", "sig2", {"m"}, {"s2"});
  g.add_node("Mul", "silu2", {"s2", "m"}, {"m2"});  // σ(x) · x
  g.add_node("BatchNormalization", "bn", {"m2", "gamma", "beta", "mean", "var"}, {"n"});
  g.add_node("Relu", "relu", {"n"}, {"r"});
  g.add_node("Sigmoid", "sig3", {"r"}, {"s3"});  // s3 is also a graph output: not fused
  g.add_node("Mul", "mul3", {"r", "s3"}, {"y"});
  g.add_output("y");
  g.add_output("s3");
  ExecutorOptions on, off;
  off.optimize = false;
  auto fused = Executor::create(g, on);
  auto plain = Executor::create(g, off);
  ASSERT_TRUE(fused.ok()) << fused.status().message();
  ASSERT_TRUE(plain.ok()) << plain.status().message();
  std::map<std::string, int> ops;
  for (const Node& n : fused->graph().nodes()) ++ops[n.op_type];
  EXPECT_EQ(ops["Mul"], 1);   // only mul3
  EXPECT_EQ(ops["Relu"], 0);  // into the BatchNormalization
  // The first SiLU into the Conv's epilogue (the Conv's output has no other reader); the
  // second (after a Conv that already has it) stays a Sigmoid with multiply_input = 1.
  EXPECT_EQ(ops["Sigmoid"], 2);
  int silu = 0, conv_silu = 0;
  for (const Node& n : fused->graph().nodes()) {
    silu += n.attr_int("multiply_input", 0) != 0;
    conv_silu += n.op_type == "Conv" && n.attr_string("activation") == "Silu";
  }
  EXPECT_EQ(silu, 1);
  EXPECT_EQ(conv_silu, 1);
  Tensor x = random({2, 4, 9, 11}, -4.0f, 4.0f);
  auto a = fused->run({x});
  auto b = plain->run({x});
  ASSERT_TRUE(a.ok()) << a.status().message();
  ASSERT_TRUE(b.ok()) << b.status().message();
  for (size_t o = 0; o < 2; ++o) {
    ASSERT_EQ(a.value()[o].shape(), b.value()[o].shape());
    for (int64_t i = 0; i < a.value()[o].numel(); ++i) {
      ASSERT_EQ(a.value()[o].span<float>()[static_cast<size_t>(i)],
                b.value()[o].span<float>()[static_cast<size_t>(i)])
          << "output " << o << " element " << i;
    }
  }
  // Against the reference kernels (kernel = ref, unfused): the fast Sigmoid's ≤ 3 ulp, through
  // a conv and two SiLUs, stays well below 1e-5 here.
  ExecutorOptions ref;
  ref.optimize = false;
  ref.kernel = kernels::KernelChoice::kRef;
  auto r = Executor::create(g, ref);
  ASSERT_TRUE(r.ok());
  auto c = r->run({x});
  ASSERT_TRUE(c.ok());
  for (int64_t i = 0; i < a.value()[0].numel(); ++i) {
    const size_t u = static_cast<size_t>(i);
    EXPECT_NEAR(a.value()[0].span<float>()[u], c.value()[0].span<float>()[u], 1e-5f);
  }
}

// FP32 plans by measurement (ConvOp with a PlanTuner): every fast Conv records its plan
// (direct / winograd / im2col) under an "f32-conv" key; a tuning file read back reproduces the
// plans, hence the outputs byte for byte, twice; a file that forces other plans changes the
// variants and keeps the outputs within the FP32 tolerance of the heuristic plans.
TEST(Executor, Fp32TuningFileReproducesPlansAndOutputs) {
  if (!kernels::kernel_choice_available(kernels::KernelChoice::kAvx2)) {
    GTEST_SKIP() << "needs a tier with several FP32 plans (AVX2 or AVX-512)";
  }
  Graph g("tune");
  g.add_input("x", DType::kF32, {kDynamic, 16, 14, 14});
  Rng rng(20261211);
  auto random = [&](Shape s, float lo, float hi) {
    Tensor t = Tensor::zeros(DType::kF32, std::move(s));
    for (float& v : t.span<float>()) v = rng.uniform(lo, hi);
    return t;
  };
  const Tensor w1 = random({16, 16, 3, 3}, -0.3f, 0.3f), b1 = random({16}, -0.5f, 0.5f);
  const Tensor w2 = random({24, 16, 1, 1}, -0.3f, 0.3f);
  g.add_initializer("w1", w1);
  g.add_initializer("b1", b1);
  g.add_initializer("w2", w2);
  g.add_node("Conv", "c3x3", {"x", "w1", "b1"}, {"a"})
      .set("pads", std::vector<int64_t>{1, 1, 1, 1});
  g.add_node("Conv", "c1x1", {"a", "w2"}, {"y"});
  g.add_output("y");
  const Tensor x = random({2, 16, 14, 14}, -1.0f, 1.0f);
  const auto run = [&](std::shared_ptr<kernels::PlanTuner> tuner,
                       std::map<std::string, std::string>* variants) {
    ExecutorOptions o;
    o.tuner = std::move(tuner);
    Result<Executor> ex = Executor::create(g, o);
    EXPECT_TRUE(ex.ok()) << ex.status().message();
    Result<std::vector<Tensor>> y = ex->run({x});
    EXPECT_TRUE(y.ok()) << y.status().message();
    if (variants != nullptr) {
      for (const auto& [node, v] : ex->variants()) (*variants)[node] = v;
    }
    return y.ok() ? y.value()[0] : Tensor();
  };
  const auto same_bits = [](const Tensor& a, const Tensor& b) {
    return a.shape() == b.shape() &&
           std::memcmp(a.span<float>().data(), b.span<float>().data(),
                       sizeof(float) * static_cast<size_t>(a.numel())) == 0;
  };
  const Tensor heuristic = run(nullptr, nullptr);

  auto measured = std::make_shared<kernels::PlanTuner>();
  const Tensor tuned = run(measured, nullptr);
  std::vector<kernels::TuneRecord> rec = measured->decisions();
  ASSERT_EQ(rec.size(), 2u);
  for (const kernels::TuneRecord& r : rec) {
    EXPECT_EQ(r.key.rfind("f32-conv ", 0), 0u) << r.key;
    EXPECT_FALSE(r.plan.empty());
  }
  const std::filesystem::path dir = std::filesystem::temp_directory_path() / "ei8_f32_tune_test";
  std::filesystem::create_directories(dir);
  const std::string file = (dir / "tune.tsv").string();
  ASSERT_TRUE(measured->save(file).ok());
  std::map<std::string, std::string> v1, v2;
  for (int i = 0; i < 2; ++i) {
    auto from_file = std::make_shared<kernels::PlanTuner>(
        kernels::PlanTuner::Options{kernels::PlanTuner::Mode::kHeuristic});
    ASSERT_TRUE(from_file->load(file).ok());
    const Tensor again = run(from_file, i == 0 ? &v1 : &v2);
    EXPECT_TRUE(same_bits(again, tuned)) << "run " << i << " with the tuning file";
    EXPECT_EQ(from_file->decisions().size(), 2u);
  }
  EXPECT_EQ(v1, v2);

  // Every plan the 3×3 layer has, forced through a file: the variant follows the file, the
  // outputs stay within the tolerance of the heuristic plans.
  const std::string key3 = rec[0].key.find(" k3x3 ") != std::string::npos ? rec[0].key : rec[1].key;
  const std::string key1 = key3 == rec[0].key ? rec[1].key : rec[0].key;
  std::vector<std::string> plans{"direct", "winograd", "im2col"};
  const std::string tier = key3.substr(key3.rfind(' ') + 1);
  const kernels::KernelChoice tier_choice =
      tier == "avx512" ? kernels::KernelChoice::kAvx512 : kernels::KernelChoice::kAvx2;
  if (kernels::onednn_conv_available(tier_choice)) {
    plans.insert(plans.end(), {"onednn", "onednn-nchw"});
  } else {
    std::cout << "[ note ] oneDNN plans not offered here (no oneDNN in this build)\n";
  }
  for (const std::string& plan : plans) {
    SCOPED_TRACE(plan);
    const std::string forced = (dir / (std::string(plan) + ".tsv")).string();
    {
      std::ofstream f(forced);
      f << kernels::cpu_model_id() << "\t" << key3 << "\t" << plan << "\t1.00\t\t0.00\n";
      f << kernels::cpu_model_id() << "\t" << key1 << "\tdirect\t1.00\t\t0.00\n";
    }
    auto t = std::make_shared<kernels::PlanTuner>(
        kernels::PlanTuner::Options{kernels::PlanTuner::Mode::kHeuristic});
    ASSERT_TRUE(t->load(forced).ok());
    std::map<std::string, std::string> v;
    const Tensor y = run(t, &v);
    const std::string_view variant = v["c3x3"];
    std::cout << "[ plan ] " << plan << ": " << variant << "\n";
    if (plan == "direct") {
      EXPECT_EQ(variant.find('/'), std::string_view::npos) << variant;
    } else {
      const bool onednn = plan.rfind("onednn", 0) == 0;  // "onednn/<impl>", "<tier>/<plan>"
      EXPECT_TRUE(onednn ? variant.rfind(plan + "/", 0) == 0
                         : variant.find("/" + plan) != std::string_view::npos)
          << variant;
    }
    ASSERT_EQ(y.shape(), heuristic.shape());
    if (plan.rfind("onednn", 0) == 0) {
      // The plan the file names is the kernel's forced plan, bit for bit: the 3×3 layer on
      // oneDNN, then the 1×1 on the direct plan, sample by sample.
      const kernels::ConvAlgorithm algo =
          plan == "onednn" ? kernels::ConvAlgorithm::kOnednn : kernels::ConvAlgorithm::kOnednnNchw;
      kernels::Conv2dParams p3;
      p3.in_c = p3.out_c = 16;
      p3.in_h = p3.in_w = 14;
      p3.kernel_h = p3.kernel_w = 3;
      p3.pad_top = p3.pad_left = p3.pad_bottom = p3.pad_right = 1;
      kernels::Conv2dParams p1;
      p1.in_c = 16;
      p1.out_c = 24;
      p1.in_h = p1.in_w = 14;
      auto c3 =
          kernels::Conv2dF32::prepare(p3, w1.span<float>(), b1.span<float>(), tier_choice, algo);
      auto c1 = kernels::Conv2dF32::prepare(p1, w2.span<float>(), {}, tier_choice,
                                            kernels::ConvAlgorithm::kDirect);
      ASSERT_TRUE(c3.ok()) << c3.status().message();
      ASSERT_TRUE(c1.ok()) << c1.status().message();
      EXPECT_EQ(c3->variant_name(), variant);
      std::vector<float> mid(static_cast<size_t>(p3.out_size())), out(y.span<float>().size());
      std::vector<float> scratch(
          std::max(c3->scratch_bytes(1), c1->scratch_bytes(1)) / sizeof(float) + 1);
      for (int64_t n = 0; n < 2; ++n) {
        c3->run(x.span<float>().data() + n * p3.in_size(), mid.data(), 1, scratch.data());
        c1->run(mid.data(), out.data() + n * p1.out_size(), 1, scratch.data());
      }
      EXPECT_EQ(0, std::memcmp(out.data(), y.span<float>().data(), sizeof(float) * out.size()));
      EXPECT_TRUE(same_bits(run(t, nullptr), y)) << "the oneDNN plan, run again";
    }
    for (int64_t i = 0; i < y.numel(); ++i) {
      const size_t u = static_cast<size_t>(i);
      ASSERT_NEAR(y.span<float>()[u], heuristic.span<float>()[u], 1e-4f) << "element " << i;
    }
  }
  // A plan the layer does not have: one line naming the node.
  const std::string bad = (dir / "bad.tsv").string();
  {
    std::ofstream f(bad);
    f << kernels::cpu_model_id() << "\t" << key1 << "\twinograd\t1.00\t\t0.00\n";
  }
  auto t = std::make_shared<kernels::PlanTuner>(
      kernels::PlanTuner::Options{kernels::PlanTuner::Mode::kHeuristic});
  ASSERT_TRUE(t->load(bad).ok());
  ExecutorOptions o;
  o.tuner = t;
  Result<Executor> ex = Executor::create(g, o);
  Status s = ex.ok() ? ex->prepare({{1, 16, 14, 14}}) : ex.status();
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("c1x1"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("winograd"), std::string::npos) << s.message();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace ei8
