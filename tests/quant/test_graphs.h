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

}  // namespace ei8::quant
