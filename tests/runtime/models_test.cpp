// Every test model, run by our executor, against PyTorch's output stored beside it (the
// interop tests compare against ONNX Runtime as well).
#include <gtest/gtest.h>

#include "ei8/core/npy.h"
#include "ei8/core/rng.h"
#include "ei8/graph/onnx/onnx_io.h"
#include "ei8/runtime/executor.h"
#include "test_util.h"

namespace ei8 {
namespace {

using kernels::KernelChoice;

struct Case {
  std::string model;
  bool optimize;
  KernelChoice kernel;
};

class ModelVsTorch : public ::testing::TestWithParam<Case> {};

TEST_P(ModelVsTorch, MatchesPyTorch) {
  const Case& c = GetParam();
  if (!kernels::kernel_choice_available(c.kernel)) GTEST_SKIP() << "tier not available here";
  auto g = load_onnx(testing::model_path(c.model));
  ASSERT_TRUE(g.ok()) << g.status().message();
  ExecutorOptions opt;
  opt.optimize = c.optimize;
  opt.kernel = c.kernel;
  auto ex = Executor::create(std::move(g).value(), opt);
  ASSERT_TRUE(ex.ok()) << ex.status().message();
  auto x = read_npy(testing::data_path(c.model, ".input.npy"));
  auto want = read_npy(testing::data_path(c.model, ".torch.npy"));
  ASSERT_TRUE(x.ok() && want.ok());
  auto y = ex->run({x.value()});
  ASSERT_TRUE(y.ok()) << y.status().message();
  testing::expect_close_to(y.value()[0], want.value(),
                           c.model + (c.optimize ? " optimized " : " as imported ") +
                               std::string(kernels::kernel_choice_name(c.kernel)));
  // The same executor with batch 1 (re-prepared) gives the first sample's output.
  Tensor x1 = Tensor::zeros(DType::kF32, [&] {
    Shape s = x->shape();
    s[0] = 1;
    return s;
  }());
  std::copy_n(x->span<float>().begin(), x1.numel(), x1.span<float>().begin());
  auto y1 = ex->run({x1});
  ASSERT_TRUE(y1.ok()) << y1.status().message();
  for (int64_t i = 0; i < y1.value()[0].numel(); ++i) {
    EXPECT_NEAR(y1.value()[0].span<float>()[static_cast<size_t>(i)],
                y.value()[0].span<float>()[static_cast<size_t>(i)], 1e-5f);
  }
}

std::vector<Case> cases() {
  std::vector<Case> out;
  for (const char* m : testing::kModels) {
    for (KernelChoice k :
         {KernelChoice::kRef, KernelChoice::kGeneric, KernelChoice::kAvx2, KernelChoice::kAvx512}) {
      out.push_back({m, true, k});
    }
    out.push_back({m, false, KernelChoice::kAuto});
  }
  return out;
}

INSTANTIATE_TEST_SUITE_P(All, ModelVsTorch, ::testing::ValuesIn(cases()), [](const auto& p) {
  return p.param.model + (p.param.optimize ? "_opt_" : "_raw_") +
         std::string(kernels::kernel_choice_name(p.param.kernel));
});

TEST(ModelRoundTrip, ExportedOptimizedGraphRunsTheSame) {
  for (const char* m : testing::kModels) {
    auto g = load_onnx(testing::model_path(m));
    ASSERT_TRUE(g.ok());
    auto ex = Executor::create(g.value());
    ASSERT_TRUE(ex.ok());
    auto bytes = serialize_onnx(ex->graph());  // BN folded, activations fused
    ASSERT_TRUE(bytes.ok()) << m << ": " << bytes.status().message();
    auto back = parse_onnx(bytes.value(), m);
    ASSERT_TRUE(back.ok()) << back.status().message();
    auto ex2 = Executor::create(std::move(back).value());
    ASSERT_TRUE(ex2.ok());
    auto x = read_npy(testing::data_path(m, ".input.npy"));
    ASSERT_TRUE(x.ok());
    auto y1 = ex->run({x.value()});
    auto y2 = ex2->run({x.value()});
    ASSERT_TRUE(y1.ok() && y2.ok());
    EXPECT_EQ(testing::max_abs_diff(y1.value()[0], y2.value()[0]), 0.0f) << m;
  }
}

}  // namespace
}  // namespace ei8

namespace ei8 {
namespace {

TEST(Threads, BatchSplitAcrossWorkersGivesTheSameOutput) {
  auto g = load_onnx(testing::model_path("mobilenetish"));
  ASSERT_TRUE(g.ok());
  const uint64_t seed = 5;
  Rng rng(seed);
  Tensor x = Tensor::zeros(DType::kF32, {5, 3, 32, 32});
  for (float& v : x.span<float>()) v = rng.uniform(-1, 1);
  ExecutorOptions one, three;
  three.threads = 3;
  auto e1 = Executor::create(g.value(), one);
  auto e3 = Executor::create(g.value(), three);
  ASSERT_TRUE(e1.ok() && e3.ok());
  auto y1 = e1->run({x});
  auto y3 = e3->run({x});
  ASSERT_TRUE(y1.ok() && y3.ok()) << y3.status().message();
  for (int rep = 0; rep < 3; ++rep) ASSERT_TRUE(e3->run().ok());  // workers are reused
  EXPECT_EQ(testing::max_abs_diff(y1.value()[0], e3->output(0)), 0.0f);
  EXPECT_EQ(testing::max_abs_diff(y1.value()[0], y3.value()[0]), 0.0f);
}

}  // namespace
}  // namespace ei8

namespace ei8 {
namespace {

// One thread runs a batch in tiles (forced sizes, and the automatic choice); every tiling
// gives the untiled result bit for bit, on every test model.
TEST(BatchTiles, TiledRunsEqualTheWholeBatchRun) {
  for (const char* m : {"cifar_resnet", "signal_cnn1d", "mobilenetish", "pools_mix"}) {
    SCOPED_TRACE(m);
    auto g = load_onnx(testing::model_path(m));
    ASSERT_TRUE(g.ok()) << g.status().message();
    auto whole = Executor::create(g.value(), {.batch_tile = 1 << 20});
    ASSERT_TRUE(whole.ok());
    ASSERT_TRUE(whole->prepare_batch(7).ok());
    Rng rng(11);
    for (float& v : whole->input(0).span<float>()) v = rng.uniform(-1, 1);
    const Tensor x = whole->input(0);
    ASSERT_TRUE(whole->run().ok());
    for (int64_t tile : {0, 1, 3, 7}) {
      auto tiled = Executor::create(g.value(), {.batch_tile = tile});
      ASSERT_TRUE(tiled.ok());
      auto y = tiled->run({x});
      ASSERT_TRUE(y.ok()) << y.status().message();
      EXPECT_EQ(testing::max_abs_diff(whole->output(0), y.value()[0]), 0.0f) << "tile " << tile;
      ASSERT_TRUE(tiled->run().ok());  // the tile plans are reused
      EXPECT_EQ(testing::max_abs_diff(whole->output(0), tiled->output(0)), 0.0f);
      auto prof = tiled->profile(1);
      ASSERT_TRUE(prof.ok());
      EXPECT_FALSE(prof->empty());
    }
  }
}

}  // namespace
}  // namespace ei8
