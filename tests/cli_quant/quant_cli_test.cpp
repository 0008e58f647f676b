// Runs the built `edgeint8` binary: `analyze` and `quantize --sweep / --max-drop` on a small
// model written by the test, and their bad-input paths (message + exit code).
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "ei8/core/npy.h"
#include "ei8/graph/onnx/onnx_io.h"
#include "test_graphs.h"

namespace ei8::quant {
namespace {

namespace fs = std::filesystem;

struct CliRun {
  int rc = -1;
  std::string out, err;
};

std::string slurp(const std::string& path) {
  std::ifstream f(path);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

CliRun edgeint8(const std::string& args) {
  static int counter = 0;
  const std::string base = ::testing::TempDir() + "ei8_qcli_" + std::to_string(getpid()) + "_" +
                           std::to_string(counter++);
  const std::string out = base + "_out.txt", err = base + "_err.txt";
  const std::string cmd =
      std::string(EI8_BINARY_DIR) + "/apps/edgeint8/edgeint8 " + args + " > " + out + " 2> " + err;
  const int status = std::system(cmd.c_str());
  CliRun r;
  r.rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = slurp(out);
  r.err = slurp(err);
  std::remove(out.c_str());
  std::remove(err.c_str());
  return r;
}

// A model, calibration/eval data and labels in a fresh directory (seed fixed: 7).
class QuantCli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "ei8_qcli_" + std::to_string(getpid()) + "_" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    fs::create_directories(dir_);
    ASSERT_TRUE(save_onnx(two_conv_cnn(7, 40.0f), path("model.onnx")).ok());
    Rng rng(7);
    ASSERT_TRUE(write_npy(path("calib.npy"), random_tensor(rng, {32, 3, 8, 8}, -1, 1)).ok());
    ASSERT_TRUE(write_npy(path("eval.npy"), random_tensor(rng, {24, 3, 8, 8}, -1, 1)).ok());
    std::vector<int32_t> labels(24);
    for (size_t i = 0; i < labels.size(); ++i) labels[i] = static_cast<int32_t>(i % 5);
    ASSERT_TRUE(
        write_npy(path("labels.npy"), Tensor::from<int32_t>({24}, std::span<const int32_t>(labels)))
            .ok());
    ASSERT_TRUE(
        write_npy(path("labels7.npy"), Tensor::from<int32_t>({7}, {0, 1, 2, 3, 4, 0, 1})).ok());
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string& f) const { return dir_ + "/" + f; }
  std::string common() const {
    return path("model.onnx") + " --calib-data " + path("calib.npy") + " --eval-data " +
           path("eval.npy");
  }
  std::string dir_;
};

TEST_F(QuantCli, AnalyzeWritesTheFourTablesAndARanking) {
  const CliRun r = edgeint8("analyze " + common() + " --eval-labels " + path("labels.npy") +
                            " --weights per-tensor --out " + path("tables"));
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find("ranking: conv2"), std::string::npos) << r.out;
  for (const char* f :
       {"sensitivity.csv", "layer_error.csv", "tensor_histograms.csv", "calib_thresholds.csv"}) {
    EXPECT_TRUE(fs::exists(path("tables/") + f)) << f;
  }
  EXPECT_EQ(edgeint8("analyze --help").rc, 0);
  const CliRun j =
      edgeint8("analyze " + common() + " --weights per-tensor --json --out " + path("tables_json"));
  ASSERT_EQ(j.rc, 0) << j.err;
  EXPECT_NE(j.out.find("\"ranking\": [\n    \"conv2\""), std::string::npos) << j.out;
}

TEST_F(QuantCli, AnalyzeBadInput) {
  CliRun r = edgeint8("analyze " + common() + " --eval-labels " + path("labels7.npy") + " --out " +
                      path("t"));
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.err.find("count = 7, must be 24"), std::string::npos) << r.err;
  r = edgeint8("analyze " + common() + " --method kl --out " + path("t"));
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.err.find("edgeint8: error: "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("'kl'"), std::string::npos) << r.err;
  fs::create_directories(path("empty"));
  r = edgeint8("analyze " + path("model.onnx") + " --calib-data " + path("empty") +
               " --eval-data " + path("eval.npy") + " --out " + path("t"));
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.err.find(".npy files = 0"), std::string::npos) << r.err;
  r = edgeint8("analyze " + path("model.onnx") + " --calib-data " + path("labels.npy") +
               " --eval-data " + path("eval.npy") + " --out " + path("t"));
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.err.find("cannot read calibration data"), std::string::npos) << r.err;
}

TEST_F(QuantCli, MaxDropReachableAndBadInput) {
  CliRun r = edgeint8("quantize " + common() + " --eval-labels " + path("labels.npy") +
                      " --weights per-tensor --max-drop 100 --sweep-out " + path("tables") +
                      " -o " + path("mixed.onnx"));
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_TRUE(fs::exists(path("tables/mixed_precision.csv")));
  EXPECT_TRUE(fs::exists(path("mixed.onnx")));
  // No labels; negative and NaN targets; --sweep together with --max-drop.
  r = edgeint8("quantize " + common() + " --max-drop 0.3");
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.err.find("--eval-labels = absent"), std::string::npos) << r.err;
  r = edgeint8("quantize " + common() + " --eval-labels " + path("labels.npy") + " --max-drop -1");
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.err.find("max-drop = -1"), std::string::npos) << r.err;
  r = edgeint8("quantize " + common() + " --eval-labels " + path("labels.npy") + " --max-drop nan");
  EXPECT_EQ(r.rc, 1);
  r = edgeint8("quantize " + common() + " --sweep --max-drop 0.3");
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.err.find("--sweep and --max-drop"), std::string::npos) << r.err;
  r = edgeint8("quantize " + common() + " --eval-labels " + path("labels7.npy") +
               " --max-drop 0.3");
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.err.find("count = 7, must be 24"), std::string::npos) << r.err;
}

// --max-drop with --cost: every int8/float combination of the 3 layers, the Pareto set and the
// chosen point (CSV + JSON); the chosen point is within the target and on the Pareto set.
TEST_F(QuantCli, PricedMixedPrecisionWritesTheParetoSet) {
  for (const char* cost : {"bytes", "cycles", "energy"}) {
    SCOPED_TRACE(cost);
    CliRun r = edgeint8("quantize " + common() + " --eval-labels " + path("labels.npy") +
                        " --weights per-tensor --max-drop 100 --cost " + cost + " --sweep-out " +
                        path("tables") + " -o " + path("mixed.onnx") + " --json");
    ASSERT_EQ(r.rc, 0) << r.err;
    const nlohmann::json j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j["cost"], cost);
    EXPECT_EQ(j["points"].size(), 27u);  // 3^3: int8 / int16 / float per layer
    EXPECT_EQ(j["chosen"]["pareto"], "yes");
    EXPECT_EQ(j["chosen"]["within_target"], "yes");
    EXPECT_EQ(j["chosen"]["chosen"], "yes");
    EXPECT_EQ(j["layers"].size(), 3u);
    // Target 100 points: the cheapest point is chosen (all int8 for bytes and energy; on the
    // default 32x32 array this tiny model's layers take as many cycles in float, and the tie goes
    // to the more accurate point).
    double cheapest = 1e300;
    for (const auto& p : j["points"]) cheapest = std::min(cheapest, p["cost"].get<double>());
    EXPECT_EQ(j["chosen"]["cost"].get<double>(), cheapest);
    if (std::string(cost) != "cycles") {
      EXPECT_EQ(j["chosen"]["config"], "all int8");
    }
    EXPECT_TRUE(fs::exists(path("tables/mixed_precision_pareto.csv")));
    EXPECT_TRUE(fs::exists(path("tables/mixed_precision_prices.csv")));
  }
  CliRun r = edgeint8("quantize " + common() + " --eval-labels " + path("labels.npy") +
                      " --max-drop 1 --cost watts");
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.err.find("cost = 'watts', must be bytes, latency, cycles or energy"),
            std::string::npos)
      << r.err;
  r = edgeint8("quantize " + common() + " -o " + path("q.onnx") + " --cost bytes");
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.err.find("without --max-drop"), std::string::npos) << r.err;
}

TEST_F(QuantCli, SweepWritesSixteenRows) {
  const CliRun r = edgeint8("quantize " + common() + " --eval-labels " + path("labels.npy") +
                            " --sweep --sweep-out " + path("tables"));
  ASSERT_EQ(r.rc, 0) << r.err;
  const std::string csv = slurp(path("tables/ptq_sweep.csv"));
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 17) << csv;
  EXPECT_TRUE(fs::exists(path("tables/ptq_sweep.json")));
  EXPECT_EQ(csv.find("n/a"), std::string::npos) << csv;  // latency from the INT8 engine
}

// `quantize` → `run --dump` → `compare`: model vs model (graph- and layer-wise), model vs dump,
// JSON and CSV output, and the bad input of each (message + exit code).
TEST_F(QuantCli, CompareModelsAndDumps) {
  CliRun r = edgeint8("quantize " + path("model.onnx") + " --calib-data " + path("calib.npy") +
                      " -o " + path("q.onnx"));
  ASSERT_EQ(r.rc, 0) << r.err;
  r = edgeint8("run " + path("q.onnx") + " --input " + path("eval.npy") + " -o " + path("y.npy") +
               " --dump " + path("dump"));
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_TRUE(fs::exists(path("dump/manifest.json")));
  EXPECT_TRUE(fs::exists(path("dump/b.npy")));
  // The integer engine against its own dump: identical, no divergence.
  r = edgeint8("compare " + path("q.onnx") + " " + path("dump") + " --input " + path("eval.npy") +
               " --json");
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find("\"first_divergence\": null"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"max_abs_lsb\": 0.0"), std::string::npos) << r.out;
  // FP32 vs the integer engine: quantization error, a first divergence at 1 LSB.
  r = edgeint8("compare " + path("model.onnx") + " " + path("q.onnx") + " --input " +
               path("eval.npy") + " --mode both --csv " + path("cmp.csv") + " --json");
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find("\"first_divergence\": {"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"layer\": {"), std::string::npos) << r.out;
  const std::string csv = slurp(path("cmp.csv"));
  EXPECT_NE(csv.find("graph,a,"), std::string::npos) << csv;
  EXPECT_NE(csv.find("layer,y,"), std::string::npos) << csv;
  // The text table.
  r = edgeint8("compare " + path("q.onnx") + " " + path("q.onnx") + " --engine-a float --input " +
               path("eval.npy"));
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find("first divergence"), std::string::npos) << r.out;
  // Bad input: a dump tensor of another shape (both named), a dump as B layer-wise, no input,
  // a bad mode.
  fs::create_directories(path("bad"));
  Rng rng(3);
  ASSERT_TRUE(write_npy(path("bad/b.npy"), random_tensor(rng, {24, 6, 4, 4}, -1, 1)).ok());
  r = edgeint8("compare " + path("q.onnx") + " " + path("bad") + " --input " + path("eval.npy"));
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.err.find("cannot compare tensor 'b'"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("[24, 6, 8, 8]"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("[24, 6, 4, 4]"), std::string::npos) << r.err;
  r = edgeint8("compare " + path("q.onnx") + " " + path("dump") + " --mode layer --input " +
               path("eval.npy"));
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.err.find("must be a model"), std::string::npos) << r.err;
  r = edgeint8("compare " + path("model.onnx") + " " + path("q.onnx"));
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.err.find("--input = absent"), std::string::npos) << r.err;
  r = edgeint8("compare " + path("model.onnx") + " " + path("q.onnx") + " --input " +
               path("eval.npy") + " --mode sideways");
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.err.find("'sideways'"), std::string::npos) << r.err;
}

// `quantize --cle --bias-correction --adaround` reports each pass; bad values are one-line errors.
TEST_F(QuantCli, QuantizeWithRecovery) {
  CliRun r = edgeint8("quantize " + path("model.onnx") + " --calib-data " + path("calib.npy") +
                      " --weights per-tensor --weight-bits 4 --cle --bias-correction --adaround "
                      "--adaround-iters 200 -o " +
                      path("rq.onnx"));
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_TRUE(fs::exists(path("rq.onnx")));
  EXPECT_NE(r.out.find("CLE conv1 -> conv2"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("bias correction conv2"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("AdaRound conv1"), std::string::npos) << r.out;
  r = edgeint8("quantize " + common() + " --weight-bits 3 -o " + path("x.onnx"));
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.err.find("bits = 3, must be 8 or 4"), std::string::npos) << r.err;
  r = edgeint8("quantize " + common() + " --adaround --adaround-time 0 -o " + path("x.onnx"));
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.err.find("--adaround-time"), std::string::npos) << r.err;
}

// `quantize --a16 conv2`: an opset-21 file with int16 activations around conv2 that `run` executes
// on the integer engine; a name that is not a Conv/Gemm/MatMul node is a one-line error.
TEST_F(QuantCli, QuantizeA16LayersAndBadNames) {
  CliRun r = edgeint8("quantize " + path("model.onnx") + " --calib-data " + path("calib.npy") +
                      " --a16 conv2 -o " + path("a16.onnx"));
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find("A16W8: int16 activations a, b, p, f"), std::string::npos) << r.out;
  r = edgeint8("run " + path("a16.onnx") + " --input " + path("eval.npy") + " -o " +
               path("y16.npy"));
  ASSERT_EQ(r.rc, 0) << r.err;
  auto y = read_npy(path("y16.npy"));
  ASSERT_TRUE(y.ok()) << y.status().message();
  EXPECT_EQ(y->shape(), (Shape{24, 5}));
  r = edgeint8("quantize " + path("model.onnx") + " --calib-data " + path("calib.npy") +
               " --a16 pool -o " + path("x.onnx"));
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.err.find("--a16 name = 'pool', must name a Conv/Gemm/MatMul node"), std::string::npos)
      << r.err;
  EXPECT_FALSE(fs::exists(path("x.onnx")));
}

// `data export` writes the .npy files quantize and analyze read: samples [N, ...] f32 and
// labels [N] s32, the same draw for the same seed, and a one-line error for a bad split.
TEST_F(QuantCli, DataExportWritesSamplesAndLabels) {
  const std::string x = path("x.npy"), y = path("y.npy"), x2 = path("x2.npy");
  CliRun r = edgeint8("data export synthetic --split train --count 12 --seed 3 -o " + x +
                      " --labels " + y);
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find("synthetic train: 12 samples [12, 1, 128]"), std::string::npos) << r.out;
  Result<Tensor> xs = read_npy(x);
  Result<Tensor> ys = read_npy(y);
  ASSERT_TRUE(xs.ok() && ys.ok());
  EXPECT_EQ(xs->shape(), (Shape{12, 1, 128}));
  EXPECT_EQ(xs->dtype(), DType::kF32);
  ASSERT_EQ(ys->shape(), (Shape{12}));
  ASSERT_EQ(ys->dtype(), DType::kS32);
  for (int32_t label : ys->span<int32_t>()) {
    EXPECT_GE(label, 0);
    EXPECT_LT(label, 5);  // five signal classes
  }
  ASSERT_EQ(edgeint8("data export synthetic --split train --count 12 --seed 3 -o " + x2).rc, 0);
  EXPECT_EQ(slurp(x), slurp(x2));

  r = edgeint8("data export synthetic --split val -o " + x);
  EXPECT_EQ(r.rc, 1);
  EXPECT_EQ(r.err,
            "edgeint8: error: cannot export dataset: --split = 'val', must be train or test\n");
}

// `bench --cpu-time` times the thread's CPU clock (JSON "clock": "thread_cpu", per-node profile
// too) and refuses more than one thread, whose work that clock would not see.
TEST_F(QuantCli, BenchCpuTimeIsOneThreadOnly) {
  CliRun r =
      edgeint8("bench " + path("model.onnx") + " --cpu-time --iters 3 --warmup 1 --no-tune --json");
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find("\"clock\": \"thread_cpu\""), std::string::npos) << r.out;
  r = edgeint8("bench " + path("model.onnx") + " --iters 3 --warmup 1 --no-tune --json");
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find("\"clock\": \"wall\""), std::string::npos) << r.out;
  r = edgeint8("bench " + path("model.onnx") + " --cpu-time --iters 3 --no-tune --profile");
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find("clock thread CPU"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("per node"), std::string::npos) << r.out;
  r = edgeint8("bench " + path("model.onnx") + " --cpu-time --threads 2");
  EXPECT_EQ(r.rc, 1);
  EXPECT_EQ(r.err, "edgeint8: error: cannot bench with --cpu-time: threads = 2, must be 1\n");
}

}  // namespace
}  // namespace ei8::quant
