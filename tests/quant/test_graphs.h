// Small float graphs shared by the quant tests.
#pragma once

#include "ei8/core/rng.h"
#include "ei8/graph/graph.h"

namespace ei8::quant {

inline Tensor random_tensor(Rng& rng, Shape s, float lo, float hi) {
  Tensor t = Tensor::zeros(DType::kF32, std::move(s));
  for (float& v : t.span<float>()) v = rng.uniform(lo, hi);
  return t;
}

// x[N,3,8,8] → Conv(4, 3×3, pad 1)+Relu → r → MaxPool 2 → p → Flatten → f[N,64] → Gemm(5) → y
inline Graph small_cnn(uint64_t seed, float bias_scale = 0.1f) {
  Rng rng(seed);
  Graph g("small");
  g.add_input("x", DType::kF32, {kDynamic, 3, 8, 8});
  Tensor w = random_tensor(rng, {4, 3, 3, 3}, -0.5f, 0.5f);
  // Channel 2 much smaller than the others: per-channel scales must differ.
  for (int64_t i = 0; i < 27; ++i) w.span<float>()[static_cast<size_t>(2 * 27 + i)] *= 0.01f;
  g.add_initializer("w", w);
  g.add_initializer("b", random_tensor(rng, {4}, -bias_scale, bias_scale));
  Node& conv = g.add_node("Conv", "conv", {"x", "w", "b"}, {"r"});
  conv.set("kernel_shape", std::vector<int64_t>{3, 3});
  conv.set("pads", std::vector<int64_t>{1, 1, 1, 1});
  conv.set("activation", std::string("Relu"));
  Node& pool = g.add_node("MaxPool", "pool", {"r"}, {"p"});
  pool.set("kernel_shape", std::vector<int64_t>{2, 2});
  pool.set("strides", std::vector<int64_t>{2, 2});
  g.add_node("Flatten", "flatten", {"p"}, {"f"}).set("axis", int64_t{1});
  g.add_initializer("fc_w", random_tensor(rng, {5, 64}, -0.2f, 0.2f));
  g.add_initializer("fc_b", random_tensor(rng, {5}, -0.1f, 0.1f));
  g.add_node("Gemm", "fc", {"f", "fc_w", "fc_b"}, {"y"}).set("transB", int64_t{1});
  g.add_output("y");
  return g;
}

// x[N,3,8,8] → conv1(6, 3×3, pad 1)+Relu → a → conv2(6, 3×3, pad 1)+Relu → b → MaxPool 2 → p
// → Flatten → f[N,96] → Gemm(5) "fc" → y. With `outlier` ≠ 0, conv1's channel 5 is dead (bias
// −100: its ReLU output is always 0) and conv2's weight reading that channel is `outlier` (the
// others are in ±0.3). The float function and every activation range are unchanged by the
// outlier, but per-tensor weight quantization of conv2 rounds most of its weights to 0 or ±1
// step — the deliberately sensitive layer of the sensitivity tests.
inline Graph two_conv_cnn(uint64_t seed, float outlier = 0.0f) {
  Rng rng(seed);
  Graph g("two_conv");
  g.add_input("x", DType::kF32, {kDynamic, 3, 8, 8});
  auto conv = [&](const std::string& name, const std::string& in, const std::string& out,
                  int64_t cin, float extreme, bool dead_channel5) {
    Tensor w = random_tensor(rng, {6, cin, 3, 3}, -0.3f, 0.3f);
    if (extreme != 0.0f) w.span<float>()[5 * 9] = extreme;  // [out 0][in 5][0][0]
    Tensor b = random_tensor(rng, {6}, -0.05f, 0.05f);
    if (dead_channel5) b.span<float>()[5] = -100.0f;
    g.add_initializer(name + "_w", w);
    g.add_initializer(name + "_b", b);
    Node& n = g.add_node("Conv", name, {in, name + "_w", name + "_b"}, {out});
    n.set("kernel_shape", std::vector<int64_t>{3, 3});
    n.set("pads", std::vector<int64_t>{1, 1, 1, 1});
    n.set("activation", std::string("Relu"));
  };
  conv("conv1", "x", "a", 3, 0.0f, outlier != 0.0f);
  conv("conv2", "a", "b", 6, outlier, false);
  Node& pool = g.add_node("MaxPool", "pool", {"b"}, {"p"});
  pool.set("kernel_shape", std::vector<int64_t>{2, 2});
  pool.set("strides", std::vector<int64_t>{2, 2});
  g.add_node("Flatten", "flatten", {"p"}, {"f"}).set("axis", int64_t{1});
  g.add_initializer("fc_w", random_tensor(rng, {5, 96}, -0.3f, 0.3f));
  g.add_initializer("fc_b", random_tensor(rng, {5}, -0.1f, 0.1f));
  g.add_node("Gemm", "fc", {"f", "fc_w", "fc_b"}, {"y"}).set("transB", int64_t{1});
  g.add_output("y");
  return g;
}

// two_conv_cnn whose conv1 output channel 5 is an activation outlier: always on (bias
// `magnitude`, about `magnitude` ± 2 after the ReLU) and read by nothing (conv2's weights on it
// are 0). The float function does not depend on it, the weights keep their ranges, but a per-tensor
// int8 scale of conv1's output `a` is set by that channel and crushes the five others to a few
// steps — a layer sensitive to 8-bit activations.
inline Graph activation_outlier_cnn(uint64_t seed, float magnitude = 300.0f) {
  Graph g = two_conv_cnn(seed);
  std::span<float> b1 = g.find_value("conv1_b")->data->span<float>();
  std::span<float> w2 = g.find_value("conv2_w")->data->span<float>();
  b1[5] = magnitude;
  for (size_t o = 0; o < 6; ++o) {
    for (size_t k = 0; k < 9; ++k) w2[(o * 6 + 5) * 9 + k] = 0.0f;
  }
  return g;
}

}  // namespace ei8::quant
