// Ours vs ONNX Runtime 1.30 (npm onnxruntime-node, run by tests/interop/run_ort.mjs with one
// intra-op thread) on every test model, and ORT on the files we export. Skipped (not passed)
// when node or the npm package is missing: `npm ci --ignore-scripts --prefix tests/interop`.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>

#include "ei8/core/npy.h"
#include "ei8/core/rng.h"
#include "ei8/graph/onnx/onnx_io.h"
#include "ei8/runtime/executor.h"
#include "test_util.h"

namespace ei8 {
namespace {

namespace fs = std::filesystem;

bool ort_available() {
  return fs::exists(std::string(EI8_INTEROP_DIR) + "/node_modules/onnxruntime-node/package.json") &&
         std::system("node --version >/dev/null 2>&1") == 0;
}

// Runs ORT on `model` and `input`; returns its first output.
Result<Tensor> run_ort(const std::string& model, const Tensor& input) {
  const fs::path dir = fs::temp_directory_path() / ("ei8_ort_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const std::string in = (dir / "in.npy").string(), out = (dir / "out.npy").string();
  EI8_RETURN_IF_ERROR(write_npy(in, input));
  const std::string cmd = "node " + std::string(EI8_INTEROP_DIR) + "/run_ort.mjs '" + model +
                          "' '" + in + "' '" + out + "'";
  const int rc = std::system(cmd.c_str());
  if (rc != 0) return internal_error("cannot run ONNX Runtime: `{}` exit = {}, must be 0", cmd, rc);
  auto y = read_npy(out);
  fs::remove_all(dir);
  return y;
}

class VsOnnxRuntime : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (!ort_available()) GTEST_SKIP() << "onnxruntime-node not installed (tests/interop)";
  }
};

TEST_P(VsOnnxRuntime, ImportedModelMatches) {
  const std::string& m = GetParam();
  auto g = load_onnx(testing::model_path(m));
  ASSERT_TRUE(g.ok()) << g.status().message();
  auto ex = Executor::create(std::move(g).value());
  ASSERT_TRUE(ex.ok()) << ex.status().message();
  auto x = read_npy(testing::data_path(m, ".input.npy"));
  ASSERT_TRUE(x.ok());
  auto ours = ex->run({x.value()});
  ASSERT_TRUE(ours.ok()) << ours.status().message();
  auto ort = run_ort(testing::model_path(m), x.value());
  ASSERT_TRUE(ort.ok()) << ort.status().message();
  testing::expect_close_to(ours.value()[0], ort.value(), m + " vs ORT");
}

TEST_P(VsOnnxRuntime, ExportedModelRunsInOrtWithAnyBatch) {
  const std::string& m = GetParam();
  auto g = load_onnx(testing::model_path(m));
  ASSERT_TRUE(g.ok());
  auto ex = Executor::create(std::move(g).value());  // optimized: BN folded, activations fused
  ASSERT_TRUE(ex.ok());
  const fs::path file =
      fs::temp_directory_path() / ("ei8_export_" + m + "_" + std::to_string(::getpid()) + ".onnx");
  ASSERT_TRUE(save_onnx(ex->graph(), file.string()).ok());
  // A batch of 3 random samples (the exported batch axis is dynamic).
  Shape s = ex->graph().find_value(ex->graph().inputs()[0])->shape;
  s[0] = 3;
  Tensor x = Tensor::zeros(DType::kF32, s);
  Rng rng(11);
  for (float& v : x.span<float>()) v = rng.uniform(-1, 1);
  auto ours = ex->run({x});
  ASSERT_TRUE(ours.ok());
  auto ort = run_ort(file.string(), x);
  ASSERT_TRUE(ort.ok()) << ort.status().message();
  testing::expect_close_to(ours.value()[0], ort.value(), m + " exported, vs ORT");
  fs::remove(file);
}

INSTANTIATE_TEST_SUITE_P(Models, VsOnnxRuntime,
                         ::testing::ValuesIn(std::vector<std::string>(std::begin(testing::kModels),
                                                                      std::end(testing::kModels))));

}  // namespace
}  // namespace ei8
