// The oneDNN convolution plans (conv_s8_onednn.cpp) at model level: QDQ files of the corpus
// (tests/data/qdq, the ones with convolutions: u8 and s8 activations, per-channel and
// per-tensor weights, residual adds, SE blocks) run with every INT8 convolution forced to oneDNN (a
// tuning file whose conv plans are rewritten to "onednn") give our default plans' outputs byte for
// byte — and ONNX Runtime's, which the corpus stores — at the whole batch and at batch tiles of 1
// and 2 (varying run() batches). Skipped where oneDNN's int8 is not exact here.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "ei8/core/npy.h"
#include "ei8/graph/onnx/onnx_io.h"
#include "ei8/runtime/int8_lowering.h"
#include "ei8/runtime/kernels/onednn_runtime.h"

namespace ei8 {
namespace {

std::string corpus(const std::string& rel) {
  return std::string(EI8_TEST_DATA_DIR) + "/qdq/" + rel;
}

// Rewrites the plan column of every INT8 convolution entry of a tuning file to `plan`; returns
// how many entries it rewrote.
int force_conv_plans(const std::string& path, const std::string& plan) {
  std::ifstream in(path);
  std::stringstream out;
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    std::vector<std::string> f;
    std::stringstream ls(line);
    for (std::string c; std::getline(ls, c, '\t');) f.push_back(c);
    if (f.size() >= 3 && f[1].starts_with("int8-conv ")) {
      f[2] = plan;
      ++n;
      line.clear();
      for (size_t i = 0; i < f.size(); ++i) line += (i ? "\t" : "") + f[i];
    }
    out << line << "\n";
  }
  in.close();
  std::ofstream(path) << out.str();
  return n;
}

class OnednnModel : public ::testing::TestWithParam<std::string> {};

TEST_P(OnednnModel, ForcedOnednnPlansEqualDefaultPlansAndOrt) {
  if (!kernels::onednn::int8_exact()) {
    GTEST_SKIP() << "oneDNN int8 is not exact here (ISA '" << kernels::onednn::isa_name() << "')";
  }
  const std::string name = GetParam();
  auto g = load_onnx(corpus(name + ".onnx"));
  ASSERT_TRUE(g.ok()) << g.status().message();
  auto x = read_npy(corpus(name + ".input.npy"));
  ASSERT_TRUE(x.ok()) << x.status().message();
  auto want = read_npy(corpus(name + ".ort.npy"));
  ASSERT_TRUE(want.ok()) << want.status().message();
  auto e0 = make_int8_executor(g.value());
  ASSERT_TRUE(e0.ok()) << e0.status().message();
  auto y0 = e0->run({x.value()});
  ASSERT_TRUE(y0.ok()) << y0.status().message();
  ASSERT_EQ(y0.value()[0].nbytes(), want->nbytes());
  EXPECT_EQ(std::memcmp(y0.value()[0].raw(), want->raw(), want->nbytes()), 0) << name;

  // A measured tuning file, its convolution plans then all rewritten to oneDNN's.
  const std::string path =
      (std::filesystem::temp_directory_path() / ("ei8_onednn_model_" + name + ".tsv")).string();
  // (Plans are keyed by the batch a run() sees: tuned at each tile size.)
  auto tuner = std::make_shared<kernels::PlanTuner>(
      kernels::PlanTuner::Options{kernels::PlanTuner::Mode::kMeasure, 1.0});
  for (int64_t tile : {0, 1, 2}) {
    ExecutorOptions opt;
    opt.batch_tile = tile;
    opt.tuner = tuner;
    auto e1 = make_int8_executor(g.value(), {}, opt);
    ASSERT_TRUE(e1.ok()) << e1.status().message();
    ASSERT_TRUE(e1->run({x.value()}).ok());
  }
  ASSERT_TRUE(tuner->save(path).ok());
  const int forced = force_conv_plans(path, "onednn");
  EXPECT_GE(forced, 1) << name << ": no INT8 convolution was tuned";
  for (int64_t tile : {0, 1, 2}) {
    ExecutorOptions opt;
    opt.batch_tile = tile;
    opt.tuner = std::make_shared<kernels::PlanTuner>(
        kernels::PlanTuner::Options{kernels::PlanTuner::Mode::kHeuristic});
    ASSERT_TRUE(opt.tuner->load(path).ok());
    auto e2 = make_int8_executor(g.value(), {}, opt);
    ASSERT_TRUE(e2.ok()) << name << ": " << e2.status().message();
    auto y2 = e2->run({x.value()});
    ASSERT_TRUE(y2.ok()) << y2.status().message();
    int onednn_ops = 0;
    for (const auto& [node, v] : e2->variants()) onednn_ops += v.starts_with("onednn/");
    EXPECT_GE(onednn_ops, 1) << name << " tile " << tile;
    for (const auto& r : opt.tuner->decisions()) {
      EXPECT_TRUE(r.from_file) << r.key;
      if (r.key.starts_with("int8-conv ")) {
        EXPECT_EQ(r.plan, "onednn") << r.key;
      }
    }
    EXPECT_EQ(std::memcmp(y0.value()[0].raw(), y2.value()[0].raw(), want->nbytes()), 0)
        << name << " tile " << tile;
  }
  std::filesystem::remove(path);
}

INSTANTIATE_TEST_SUITE_P(Files, OnednnModel,
                         ::testing::Values("qdq_pertensor", "qdq_perchannel", "ort_u8_gemm",
                                           "ort_s8_gemm", "op_se_mul"));

}  // namespace
}  // namespace ei8
