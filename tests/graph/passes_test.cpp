#include "ei8/graph/passes.h"

#include <gtest/gtest.h>

#include <cmath>

#include "ei8/core/rng.h"
#include "ei8/graph/shape_inference.h"

namespace ei8 {
namespace {

// Plain 2-D convolution (stride 1, no padding, group 1) + bias: the oracle for BN folding.
std::vector<float> conv2d(const Tensor& x, const Tensor& w, const Tensor* b) {
  const int64_t c = x.dim(1), h = x.dim(2), wd = x.dim(3), o = w.dim(0), k = w.dim(2);
  const int64_t oh = h - k + 1, ow = wd - k + 1;
  std::vector<float> y(static_cast<size_t>(o * oh * ow));
  auto xv = x.span<float>();
  auto wv = w.span<float>();
  for (int64_t oc = 0; oc < o; ++oc)
    for (int64_t i = 0; i < oh; ++i)
      for (int64_t j = 0; j < ow; ++j) {
        double acc = b ? b->span<float>()[static_cast<size_t>(oc)] : 0.0;
        for (int64_t ic = 0; ic < c; ++ic)
          for (int64_t u = 0; u < k; ++u)
            for (int64_t v = 0; v < k; ++v)
              acc += xv[static_cast<size_t>((ic * h + i + u) * wd + j + v)] *
                     wv[static_cast<size_t>(((oc * c + ic) * k + u) * k + v)];
        y[static_cast<size_t>((oc * oh + i) * ow + j)] = static_cast<float>(acc);
      }
  return y;
}

Tensor random_tensor(Rng& rng, Shape s, float lo, float hi) {
  Tensor t = Tensor::zeros(DType::kF32, std::move(s));
  for (float& v : t.span<float>()) v = rng.uniform(lo, hi);
  return t;
}

TEST(Passes, BatchNormFoldsIntoConvAndMatchesBnOfConv) {
  const uint64_t seed = 1234;
  SCOPED_TRACE(testing::Message() << "seed " << seed);
  Rng rng(seed);
  const int64_t c = 3, o = 4;
  Tensor x = random_tensor(rng, {1, c, 5, 5}, -1, 1);
  Tensor w = random_tensor(rng, {o, c, 3, 3}, -1, 1);
  Tensor b = random_tensor(rng, {o}, -1, 1);
  Tensor gamma = random_tensor(rng, {o}, 0.5f, 2), beta = random_tensor(rng, {o}, -1, 1);
  Tensor mean = random_tensor(rng, {o}, -1, 1), var = random_tensor(rng, {o}, 0.1f, 2);
  Graph g;
  g.add_input("x", DType::kF32, {kDynamic, c, 5, 5});
  g.add_initializer("w", w);
  g.add_initializer("b", b);
  g.add_initializer("gamma", gamma);
  g.add_initializer("beta", beta);
  g.add_initializer("mean", mean);
  g.add_initializer("var", var);
  g.add_node("Conv", "conv", {"x", "w", "b"}, {"c"});
  g.add_node("BatchNormalization", "bn", {"c", "gamma", "beta", "mean", "var"}, {"y"})
      .set("epsilon", 1e-3f);
  g.add_output("y");
  auto n = fold_batch_norm(g);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(n.value(), 1);
  ASSERT_EQ(g.nodes().size(), 1u);
  EXPECT_EQ(g.nodes()[0].outputs[0], "y");
  ASSERT_TRUE(g.validate().ok());
  const std::vector<float> folded =
      conv2d(x, *g.constant(g.nodes()[0].inputs[1]), g.constant(g.nodes()[0].inputs[2]));
  const std::vector<float> plain = conv2d(x, w, &b);
  const size_t per = plain.size() / static_cast<size_t>(o);
  for (size_t i = 0; i < plain.size(); ++i) {
    const size_t ch = i / per;
    const float s = gamma.span<float>()[ch] / std::sqrt(var.span<float>()[ch] + 1e-3f);
    const float want = (plain[i] - mean.span<float>()[ch]) * s + beta.span<float>()[ch];
    EXPECT_NEAR(folded[i], want, 1e-4f * (1 + std::abs(want))) << i;
  }
}

TEST(Passes, BatchNormFoldsIntoGemmColumns) {
  Graph g;
  g.add_input("x", DType::kF32, {kDynamic, 2});
  g.add_initializer("w", Tensor::from<float>({2, 3}, {1, 2, 3, 4, 5, 6}));  // [K, N]
  g.add_initializer("c", Tensor::from<float>({3}, {1, 1, 1}));
  g.add_initializer("gamma", Tensor::from<float>({3}, {2, 2, 2}));
  g.add_initializer("beta", Tensor::from<float>({3}, {0, 1, 0}));
  g.add_initializer("mean", Tensor::from<float>({3}, {0, 0, 1}));
  g.add_initializer("var", Tensor::from<float>({3}, {1, 1, 1}));
  g.add_node("Gemm", "fc", {"x", "w", "c"}, {"h"}).set("beta", 0.5f);
  g.add_node("BatchNormalization", "bn", {"h", "gamma", "beta", "mean", "var"}, {"y"})
      .set("epsilon", 0.0f);
  g.add_output("y");
  ASSERT_EQ(fold_batch_norm(g).value(), 1);
  const Node& fc = g.nodes()[0];
  auto w = g.constant(fc.inputs[1])->span<float>();
  auto c = g.constant(fc.inputs[2])->span<float>();
  EXPECT_FLOAT_EQ(w[0], 2);  // column 0 scaled by 2
  EXPECT_FLOAT_EQ(w[5], 12);
  // x = [1, 0]: plain h = [1 + 0.5, 2 + 0.5, 3 + 0.5] -> bn = [3, 6, 5]
  EXPECT_FLOAT_EQ(w[0] + c[0], 3);
  EXPECT_FLOAT_EQ(w[1] + c[1], 6);
  EXPECT_FLOAT_EQ(w[2] + c[2], 5);
  EXPECT_FLOAT_EQ(fc.attr_float("beta"), 1.0f);
}

TEST(Passes, FuseActivationsRemoveNoopsAndFoldConstants) {
  Graph g;
  g.add_input("x", DType::kF32, {kDynamic, 2, 4, 4});
  g.add_initializer("w", Tensor::zeros(DType::kF32, {2, 2, 3, 3}));
  g.add_initializer("k1", Tensor::from<float>({2, 1, 1}, {1, 2}));
  g.add_initializer("k2", Tensor::from<float>({2, 1, 1}, {3, 4}));
  g.add_node("Add", "const_add", {"k1", "k2"}, {"k3"});
  Node& pad = g.add_node("Pad", "pad", {"x"}, {"xp"});
  pad.set("pads", std::vector<int64_t>{0, 0, 1, 1, 0, 0, 1, 1});
  g.add_node("Conv", "conv", {"xp", "w"}, {"c"});
  Node& clip = g.add_node("Clip", "relu6", {"c"}, {"r"});
  clip.set("min", 0.0f);
  clip.set("max", 6.0f);
  g.add_node("Identity", "id", {"r"}, {"i"});
  g.add_node("Add", "add", {"i", "k3"}, {"y"});
  g.add_output("y");
  Status st = optimize(g);
  ASSERT_TRUE(st.ok()) << st.message();
  ASSERT_EQ(g.nodes().size(), 2u);
  const Node& conv = g.nodes()[0];
  EXPECT_EQ(conv.op_type, "Conv");
  EXPECT_EQ(conv.inputs[0], "x");  // Pad merged
  EXPECT_EQ(conv.attr_ints("pads"), (std::vector<int64_t>{1, 1, 1, 1}));
  EXPECT_EQ(conv.attr_string("activation"), "Clip");
  EXPECT_FLOAT_EQ(conv.attr_float("activation_max"), 6.0f);
  const Tensor* k3 = g.constant(g.nodes()[1].inputs[1]);
  ASSERT_NE(k3, nullptr);
  EXPECT_FLOAT_EQ(k3->span<float>()[1], 6.0f);
  EXPECT_EQ(g.find_value("y")->shape, (Shape{kDynamic, 2, 4, 4}));
}

TEST(Passes, IdentityProducingGraphOutputKeepsTheOutputName) {
  Graph g;
  g.add_input("x", DType::kF32, {1, 3});
  g.add_node("Relu", "r", {"x"}, {"t"});
  g.add_node("Identity", "id", {"t"}, {"out"});
  g.add_output("out");
  ASSERT_EQ(remove_noops(g).value(), 1);
  ASSERT_EQ(g.nodes().size(), 1u);
  EXPECT_EQ(g.nodes()[0].outputs[0], "out");
  EXPECT_TRUE(g.validate().ok());
}

}  // namespace
}  // namespace ei8
