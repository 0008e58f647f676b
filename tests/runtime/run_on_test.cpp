// Executor::run_on: the plan reads the caller's input buffers in place (no copy into input(i))
// and gives the bits run() gives on the same inputs, on one thread, in tiles and in thread
// slices, over random batch sizes; input(i) is neither read nor written, and run() reads it
// again afterwards. Bad buffers are refused.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>

#include "ei8/core/rng.h"
#include "ei8/runtime/executor.h"

namespace ei8 {
namespace {

// Two inputs (a conv on x plus z broadcast), and a graph output that is input x itself
// (through a Reshape, an alias: its bytes are read from the input buffer).
Graph two_input_graph(Rng& rng) {
  Graph g("bound");
  g.add_input("x", DType::kF32, {kDynamic, 3, 7, 5});
  g.add_input("z", DType::kF32, {kDynamic, 4, 1, 1});
  Tensor w = Tensor::zeros(DType::kF32, {4, 3, 3, 3});
  for (float& v : w.span<float>()) v = rng.uniform(-0.5f, 0.5f);
  g.add_initializer("w", w);
  g.add_node("Conv", "conv", {"x", "w"}, {"c"}).set("pads", std::vector<int64_t>{1, 1, 1, 1});
  g.add_node("Add", "add", {"c", "z"}, {"a"});
  g.add_node("Relu", "relu", {"a"}, {"y"});
  g.add_node("Reshape", "flat", {"x"}, {"xr"}).set("shape", std::vector<int64_t>{0, -1});
  g.add_output("y");
  g.add_output("xr");
  return g;
}

Tensor random_tensor(Rng& rng, Shape s) {
  Tensor t = Tensor::zeros(DType::kF32, std::move(s));
  for (float& v : t.span<float>()) v = rng.uniform(-2.0f, 2.0f);
  return t;
}

void fill_nan(Tensor& t) {
  for (float& v : t.span<float>()) v = std::numeric_limits<float>::quiet_NaN();
}

bool all_nan(const Tensor& t) {
  for (float v : t.span<float>()) {
    if (!std::isnan(v)) return false;
  }
  return true;
}

void expect_same_bits(const Tensor& a, const Tensor& b, const std::string& what) {
  ASSERT_EQ(a.shape(), b.shape()) << what;
  ASSERT_EQ(std::memcmp(a.raw(), b.raw(), a.nbytes()), 0) << what;
}

TEST(ExecutorRunOn, ReadsTheCallersBuffersInPlaceWithTheSameBits) {
  const uint64_t seed = 20261208;
  std::printf("seed %llu\n", static_cast<unsigned long long>(seed));
  Rng rng(seed);
  const Graph g = two_input_graph(rng);
  struct Mode {
    int threads;
    int64_t batch_tile;
  };
  for (const Mode m : {Mode{1, 0}, Mode{1, 1}, Mode{1, 2}, Mode{2, 0}, Mode{2, 1}}) {
    ExecutorOptions o;
    o.threads = m.threads;
    o.batch_tile = m.batch_tile;
    auto copied = Executor::create(g, o);
    auto bound = Executor::create(g, o);
    ASSERT_TRUE(copied.ok()) << copied.status().message();
    ASSERT_TRUE(bound.ok()) << bound.status().message();
    for (int trial = 0; trial < 6; ++trial) {
      const int64_t n = 1 + static_cast<int64_t>(rng.next_u64() % 5);  // 1..5: remainders
      const std::string what =
          fmt::format("threads {} tile {} batch {} trial {}", m.threads, m.batch_tile, n, trial);
      const Tensor x = random_tensor(rng, {n, 3, 7, 5}), z = random_tensor(rng, {n, 4, 1, 1});
      auto want = copied->run({x, z});
      ASSERT_TRUE(want.ok()) << want.status().message();
      ASSERT_TRUE(bound->prepare({x.shape(), z.shape()}).ok()) << what;
      // The executor's own input buffers hold NaN: any read of them would show in y.
      fill_nan(bound->input(0));
      fill_nan(bound->input(1));
      const void* data[] = {x.raw(), z.raw()};
      ASSERT_TRUE(bound->run_on(data).ok()) << what;
      expect_same_bits(bound->output(0), want.value()[0], what + " y");
      expect_same_bits(bound->output(1), want.value()[1], what + " xr (an alias of x)");
      EXPECT_TRUE(all_nan(bound->input(0)) && all_nan(bound->input(1))) << what << ": written";
      // Unbound again: run() reads input(i).
      std::memcpy(bound->input(0).raw(), x.raw(), x.nbytes());
      std::memcpy(bound->input(1).raw(), z.raw(), z.nbytes());
      ASSERT_TRUE(bound->run().ok()) << what;
      expect_same_bits(bound->output(0), want.value()[0], what + " y after run_on");
      expect_same_bits(bound->output(1), want.value()[1], what + " xr after run_on");
    }
  }
}

TEST(ExecutorRunOn, RefusesBadBuffers) {
  Rng rng(7);
  auto ex = Executor::create(two_input_graph(rng));
  ASSERT_TRUE(ex.ok()) << ex.status().message();
  const Tensor x = random_tensor(rng, {2, 3, 7, 5}), z = random_tensor(rng, {2, 4, 1, 1});
  const void* both[] = {x.raw(), z.raw()};
  Status s = ex->run_on(both);
  EXPECT_NE(s.message().find("prepared = false, must call prepare()"), std::string::npos)
      << s.message();
  ASSERT_TRUE(ex->prepare({x.shape(), z.shape()}).ok());
  const void* one[] = {x.raw()};
  s = ex->run_on(one);
  EXPECT_NE(s.message().find("input buffers = 1, must be 2"), std::string::npos) << s.message();
  const void* null[] = {x.raw(), nullptr};
  s = ex->run_on(null);
  EXPECT_NE(s.message().find("input 'z' buffer = "), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("must be non-null and aligned to 4 bytes"), std::string::npos);
  const void* odd[] = {reinterpret_cast<const std::byte*>(x.raw()) + 1, z.raw()};
  s = ex->run_on(odd);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("input 'x' buffer = "), std::string::npos) << s.message();
  // Refused calls leave the plan usable.
  EXPECT_TRUE(ex->run_on(both).ok());
}

}  // namespace
}  // namespace ei8
