// The ten torchvision architectures of issue 15 (resnet18, mobilenet_v2/v3_small, squeezenet1_1,
// mnasnet1_0, shufflenet_v2_x1_0, regnet_x_400mf, efficientnet_b0, densenet121, googlenet),
// exported by torch (bench/models/export_torchvision.py: random weights from seed 0, opset 13,
// dynamic batch, 64x64) in the ctest fixture `torchvision.export`, imported and run by us and by
// ONNX Runtime 1.30 (tests/interop/run_ort.mjs): max |ours - ORT| / max |ORT| <= 1e-4 on a batch
// of 2. Also: batch 1 gives the first row of batch 2 (the batch is dynamic). Skipped (not passed)
// when python3-torchvision or onnxruntime-node is missing.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>

#include "ei8/core/npy.h"
#include "ei8/graph/onnx/onnx_io.h"
#include "ei8/runtime/executor.h"

namespace ei8 {
namespace {

namespace fs = std::filesystem;

const fs::path kDir = fs::path(EI8_TORCHVISION_DIR);

bool ort_available() {
  return fs::exists(std::string(EI8_INTEROP_DIR) + "/node_modules/onnxruntime-node/package.json") &&
         std::system("node --version >/dev/null 2>&1") == 0;
}

Result<Tensor> run_ort(const std::string& model, const std::string& input) {
  const fs::path out = fs::temp_directory_path() / ("ei8_tv_" + std::to_string(::getpid()) + "_" +
                                                    fs::path(model).stem().string() + ".npy");
  const std::string cmd = "node " + std::string(EI8_INTEROP_DIR) + "/run_ort.mjs '" + model +
                          "' '" + input + "' '" + out.string() + "'";
  if (const int rc = std::system(cmd.c_str()); rc != 0) {
    return internal_error("cannot run ONNX Runtime: `{}` exit = {}, must be 0", cmd, rc);
  }
  auto y = read_npy(out.string());
  fs::remove(out);
  return y;
}

float max_abs(std::span<const float> v) {
  float m = 0;
  for (float x : v) m = std::max(m, std::abs(x));
  return m;
}

class TorchvisionVsOrt : public ::testing::TestWithParam<std::string> {};

TEST_P(TorchvisionVsOrt, Fp32MatchesOnnxRuntime) {
  const std::string& name = GetParam();
  const fs::path model = kDir / (name + ".onnx"), input = kDir / (name + ".input.npy");
  if (!fs::exists(model) || !fs::exists(input)) {
    GTEST_SKIP() << model << " absent: python3-torchvision missing (fixture torchvision.export)";
  }
  if (!ort_available()) GTEST_SKIP() << "onnxruntime-node not installed (tests/interop)";
  auto g = load_onnx(model.string());
  ASSERT_TRUE(g.ok()) << g.status().message();
  auto ex = Executor::create(std::move(g).value());
  ASSERT_TRUE(ex.ok()) << ex.status().message();
  auto x = read_npy(input.string());
  ASSERT_TRUE(x.ok()) << x.status().message();
  ASSERT_EQ(x->dim(0), 2);
  auto ours = ex->run({x.value()});
  ASSERT_TRUE(ours.ok()) << ours.status().message();
  auto ort = run_ort(model.string(), input.string());
  ASSERT_TRUE(ort.ok()) << ort.status().message();
  const Tensor& a = ours.value()[0];
  const Tensor& b = ort.value();
  ASSERT_EQ(a.shape(), b.shape());
  float diff = 0;
  for (size_t i = 0; i < a.span<float>().size(); ++i) {
    diff = std::max(diff, std::abs(a.span<float>()[i] - b.span<float>()[i]));
  }
  const float ref = max_abs(b.span<float>());
  ASSERT_GT(ref, 0.0f) << "ORT's output is all zero: the comparison would be empty";
  // The two samples must give different logits (else the check compares a constant).
  const int64_t row = b.numel() / 2;
  float spread = 0;
  for (int64_t i = 0; i < row; ++i) {
    spread = std::max(spread, std::abs(b.span<float>()[i] - b.span<float>()[row + i]));
  }
  EXPECT_GT(spread, 1e-3f * ref) << "logits do not depend on the input";
  EXPECT_LE(diff / ref, 1e-4f) << name << ": max |ours - ORT| = " << diff
                               << ", max |ORT| = " << ref;
  std::printf("[ diff ] %s: max |ours - ORT| / max |ORT| = %.3g (max |ORT| %.3g)\n", name.c_str(),
              diff / ref, ref);
  // Dynamic batch: batch 1 = the first sample of batch 2.
  Shape s1 = x->shape();
  s1[0] = 1;
  Tensor x1 = Tensor::zeros(DType::kF32, s1);
  std::memcpy(x1.raw(), x->raw(), x1.nbytes());
  auto one = ex->run({x1});
  ASSERT_TRUE(one.ok()) << one.status().message();
  float d1 = 0;
  for (int64_t i = 0; i < row; ++i) {
    d1 = std::max(d1, std::abs(one.value()[0].span<float>()[i] - a.span<float>()[i]));
  }
  EXPECT_LE(d1, 1e-5f * ref) << name << ": batch 1 vs row 0 of batch 2";
}

INSTANTIATE_TEST_SUITE_P(Ten, TorchvisionVsOrt,
                         ::testing::Values("resnet18", "mobilenet_v2", "mobilenet_v3_small",
                                           "squeezenet1_1", "mnasnet1_0", "shufflenet_v2_x1_0",
                                           "regnet_x_400mf", "efficientnet_b0", "densenet121",
                                           "googlenet"));

}  // namespace
}  // namespace ei8
