// Hostile and careless input to the `edgeint8` binary (project issue 15): every case is one
// clear line on stderr and a non-zero exit (or a warning where the input is legal but
// suspicious), and no file is written on a failure path. Each test runs the real program on
// small files it makes itself (seconds in total, also under the sanitizers).
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>

#include "ei8/core/npy.h"
#include "ei8/graph/onnx/onnx_io.h"
#include "test_graphs.h"

namespace ei8 {
namespace {

namespace fs = std::filesystem;
using quant::random_tensor;

struct CliRun {
  int rc = -1;
  std::string out, err;
};

std::string slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

void put(const std::string& path, std::string_view bytes) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// One line of stderr: the error or warning, nothing else.
bool one_line(const std::string& s) {
  return !s.empty() && s.back() == '\n' && s.find('\n') == s.size() - 1;
}

class HostileCli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "ei8_hostile_" + std::to_string(getpid()) + "_" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string path(const std::string& f) const { return dir_ + "/" + f; }

  CliRun edgeint8(const std::string& args) const {
    const std::string out = path(".stdout"), err = path(".stderr");
    const std::string cmd = std::string(EI8_BINARY_DIR) + "/apps/edgeint8/edgeint8 " + args +
                            " > '" + out + "' 2> '" + err + "'";
    const int status = std::system(cmd.c_str());
    CliRun r;
    r.rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.out = slurp(out);
    r.err = slurp(err);
    fs::remove(out);
    fs::remove(err);
    return r;
  }

  // The float model (x[N,3,8,8] → 5 classes), calibration/evaluation data and labels 0..4.
  void make_model_and_data() {
    ASSERT_TRUE(save_onnx(quant::two_conv_cnn(7, 40.0f), path("model.onnx")).ok());
    Rng rng(7);
    ASSERT_TRUE(write_npy(path("calib.npy"), random_tensor(rng, {16, 3, 8, 8}, -1, 1)).ok());
    ASSERT_TRUE(write_npy(path("eval.npy"), random_tensor(rng, {10, 3, 8, 8}, -1, 1)).ok());
    std::vector<int32_t> labels(10);
    for (size_t i = 0; i < labels.size(); ++i) labels[i] = static_cast<int32_t>(i % 5);
    ASSERT_TRUE(write_npy(path("labels.npy"), Tensor::from<int32_t>({10}, labels)).ok());
  }

  // x.npy [1,3,8,8] with `bad` (NaN or Inf) at flat index 37.
  std::string input_with(float bad, const std::string& name) {
    Rng rng(3);
    Tensor x = random_tensor(rng, {1, 3, 8, 8}, -1, 1);
    x.span<float>()[37] = bad;
    EXPECT_TRUE(write_npy(path(name), x).ok());
    return path(name);
  }

  // Every file under the test directory except the given inputs.
  std::vector<std::string> files_besides(std::initializer_list<std::string> inputs) const {
    std::vector<std::string> out;
    for (const auto& e : fs::recursive_directory_iterator(dir_)) {
      const std::string name = fs::relative(e.path(), dir_).string();
      if (std::find(inputs.begin(), inputs.end(), name) == inputs.end()) out.push_back(name);
    }
    return out;
  }

  std::string dir_;
};

// ---- the program itself ----------------------------------------------------------------------

TEST_F(HostileCli, VersionFlagPrintsTheVersion) {
  const CliRun r = edgeint8("--version");
  EXPECT_EQ(r.rc, 0) << r.err;
  EXPECT_EQ(r.out, "edgeint8 0.1.0\n");
  EXPECT_EQ(edgeint8("version").out, r.out);
}

TEST_F(HostileCli, UnknownSubcommandIsNamedAndTheValidOnesListed) {
  CliRun r = edgeint8("frobnicate --x 1");
  EXPECT_EQ(r.rc, 2);
  EXPECT_TRUE(one_line(r.err)) << r.err;
  EXPECT_NE(r.err.find("subcommand = 'frobnicate' is unknown, must be one of: version, run-all, "
                       "sim, dse, fixedpoint, run, info, bench, train, data, export, baseline, "
                       "quantize, analyze, compare, codegen"),
            std::string::npos)
      << r.err;
  r = edgeint8("data frob");
  EXPECT_EQ(r.rc, 2);
  EXPECT_NE(r.err.find("cannot run edgeint8 data frob: subcommand = 'frob' is unknown, must be "
                       "one of: fetch, export"),
            std::string::npos)
      << r.err;
  r = edgeint8("fixedpoint nope");
  EXPECT_EQ(r.rc, 2);
  EXPECT_NE(r.err.find("must be one of: bitgrowth, overflow, requant, verify"), std::string::npos)
      << r.err;
}

// Every option with a default shows it ("--batch INT=32"): a sample from every subcommand.
TEST_F(HostileCli, EveryHelpPageShowsDefaults) {
  std::vector<std::pair<const char*, std::vector<const char*>>> pages = {
      {"run", {"--threads INT=1", "--engine TEXT=int8", "--profile,--requant-profile TEXT=ort"}},
      {"quantize",
       {"--method TEXT=mse", "--weights TEXT=per-channel", "--act TEXT=asym", "--batch INT=32",
        "--bins INT=2048", "--percentile FLOAT=99.99", "--max-samples INT=0",
        "--sweep-out TEXT=results/tables"}},
      {"analyze", {"--method TEXT=mse", "--batch INT=32", "--histogram-bins INT=128"}},
      {"bench", {"--batch INT=1", "--iters INT=200", "--warmup INT=20", "--kernel TEXT=auto"}},
      {"train", {"--workload TEXT:{signal1d,tiny2d}=signal1d", "--epochs INT=0", "--lr FLOAT=0"}},
      {"sim", {"-p TEXT=test_runs", "--array TEXT=32x32", "--bandwidth INT=10"}},
      {"dse", {"--out TEXT=dse_out", "--threads INT=0"}},
      {"run-all", {"--out TEXT=results", "--threads INT=2"}},
      {"data export", {"--split TEXT=test", "--count INT=0"}},
      {"fixedpoint overflow", {"--widths TEXT=12..32", "--regime TEXT=realistic", "--seed UINT=7"}},
      {"fixedpoint requant", {"--zero-point INT=0", "--qmin INT=-128", "--qmax INT=127"}},
  };
#ifdef EI8_HAS_TORCH  // without libtorch `baseline` is a stub that says so
  pages.push_back({"baseline", {"--iters INT=", "--out TEXT=results"}});
#endif
  for (const auto& [cmd, wanted] : pages) {
    const CliRun r = edgeint8(std::string(cmd) + " --help");
    EXPECT_EQ(r.rc, 0) << cmd;
    for (const char* w : wanted) {
      EXPECT_NE(r.out.find(w), std::string::npos) << cmd << ": " << w << "\n" << r.out;
    }
  }
}

// ---- run: NaN / Inf, dtype, shape, files ------------------------------------------------------

TEST_F(HostileCli, RunRefusesNanAndInfNamingTheFirstIndexFp32AndInt8) {
  make_model_and_data();
  ASSERT_EQ(edgeint8("quantize " + path("model.onnx") + " --calib-data " + path("calib.npy") +
                     " -o " + path("model.int8.onnx"))
                .rc,
            0);
  const std::string nan = input_with(std::numeric_limits<float>::quiet_NaN(), "nan.npy");
  const std::string inf = input_with(std::numeric_limits<float>::infinity(), "inf.npy");
  for (const char* model : {"model.onnx", "model.int8.onnx"}) {
    CliRun r = edgeint8("run " + path(model) + " -i " + nan + " -o " + path("y.npy"));
    EXPECT_EQ(r.rc, 1) << model;
    EXPECT_TRUE(one_line(r.err)) << r.err;
    EXPECT_NE(r.err.find("element 37 (index [0, 0, 4, 5]) = nan, must be finite"),
              std::string::npos)
        << r.err;
    r = edgeint8("run " + path(model) + " -i " + inf + " -o " + path("y.npy"));
    EXPECT_EQ(r.rc, 1) << model;
    EXPECT_NE(r.err.find("element 37 (index [0, 0, 4, 5]) = inf, must be finite"),
              std::string::npos)
        << r.err;
    EXPECT_FALSE(fs::exists(path("y.npy")));
  }
  // All-NaN input: refused at element 0.
  Tensor all = Tensor::zeros(DType::kF32, {2, 3, 8, 8});
  for (float& v : all.span<float>()) v = std::numeric_limits<float>::quiet_NaN();
  ASSERT_TRUE(write_npy(path("allnan.npy"), all).ok());
  CliRun r =
      edgeint8("run " + path("model.onnx") + " -i " + path("allnan.npy") + " -o " + path("y.npy"));
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.err.find("element 0 (index [0, 0, 0, 0]) = nan"), std::string::npos) << r.err;
  // --allow-nonfinite runs it as asked.
  r = edgeint8("run " + path("model.onnx") + " -i " + nan + " -o " + path("y.npy") +
               " --allow-nonfinite");
  EXPECT_EQ(r.rc, 0) << r.err;
  EXPECT_TRUE(fs::exists(path("y.npy")));
}

TEST_F(HostileCli, RunRefusesWrongDtypeShapeTruncatedFilesDirectoriesAndBadOutputs) {
  make_model_and_data();
  Rng rng(5);
  ASSERT_TRUE(write_npy(path("x.npy"), random_tensor(rng, {1, 3, 8, 8}, -1, 1)).ok());
  ASSERT_TRUE(write_npy(path("s32.npy"), Tensor::zeros(DType::kS32, {1, 3, 8, 8})).ok());
  ASSERT_TRUE(write_npy(path("shape.npy"), random_tensor(rng, {1, 3, 7, 8}, -1, 1)).ok());
  const std::string model = slurp(path("model.onnx"));
  put(path("trunc.onnx"), model.substr(0, model.size() / 2));
  const std::string x = slurp(path("x.npy"));
  put(path("trunc.npy"), x.substr(0, x.size() - 10));
  fs::create_directories(path("adir"));
  const std::string run = "run " + path("model.onnx");
  const struct {
    std::string args, expect;
  } cases[] = {
      {run + " -i " + path("s32.npy") + " -o " + path("y.npy"), "dtype = s32, must be f32"},
      {run + " -i " + path("shape.npy") + " -o " + path("y.npy"), "[1, 3, 7, 8]"},
      {run + " -i " + path("trunc.npy") + " -o " + path("y.npy"), "trunc.npy"},
      {"run " + path("trunc.onnx") + " -i " + path("x.npy") + " -o " + path("y.npy"), "trunc.onnx"},
      {"run " + path("adir") + " -i " + path("x.npy") + " -o " + path("y.npy"),
       "model = a directory, must be a file"},
      {run + " -i " + path("adir") + " -o " + path("y.npy"),
       "--input = a directory, must be a file"},
      {run + " -i " + path("missing.npy") + " -o " + path("y.npy"),
       "--input = missing file, must exist"},
      {run + " -i " + path("x.npy") + " -o " + path("adir"),
       "--output = a directory, must name a file"},
      {run + " -i " + path("x.npy") + " -o " + path("nodir/y.npy"),
       "--output directory '" + path("nodir") + "' = missing, must exist"},
      {run + " -i " + path("x.npy") + " -o " + path("y.npy") + " --threads 0",
       "--threads = 0, must be >= 1"},
      {run + " -i " + path("x.npy") + " -o " + path("y.npy") + " --engine fast",
       "--engine: value = 'fast'"},
  };
  for (const auto& c : cases) {
    const CliRun r = edgeint8(c.args);
    EXPECT_EQ(r.rc, 1) << c.args << "\n" << r.err;
    EXPECT_TRUE(one_line(r.err)) << r.err;
    EXPECT_NE(r.err.find(c.expect), std::string::npos) << c.args << "\n" << r.err;
    EXPECT_FALSE(fs::exists(path("y.npy"))) << c.args;
  }
}

// ---- analyze / quantize: evaluation data, labels, options ------------------------------------

TEST_F(HostileCli, AnalyzeRefusesNonFiniteEvalDataAndLabelsBeyondTheClasses) {
  make_model_and_data();
  Rng rng(9);
  Tensor bad = random_tensor(rng, {10, 3, 8, 8}, -1, 1);
  bad.span<float>()[200] = -std::numeric_limits<float>::infinity();
  ASSERT_TRUE(write_npy(path("bad_eval.npy"), bad).ok());
  const std::string base = "analyze " + path("model.onnx") + " --calib-data " + path("calib.npy") +
                           " --out " + path("t");
  CliRun r = edgeint8(base + " --eval-data " + path("bad_eval.npy"));
  EXPECT_EQ(r.rc, 1);
  EXPECT_TRUE(one_line(r.err)) << r.err;
  EXPECT_NE(r.err.find("cannot read evaluation data " + path("bad_eval.npy") +
                       ": element 200 (sample 1) = -inf, must be finite"),
            std::string::npos)
      << r.err;
  // NaN in the calibration data, too.
  bad.span<float>()[200] = std::numeric_limits<float>::quiet_NaN();
  ASSERT_TRUE(write_npy(path("bad_calib.npy"), bad).ok());
  r = edgeint8("analyze " + path("model.onnx") + " --calib-data " + path("bad_calib.npy") +
               " --eval-data " + path("eval.npy") + " --out " + path("t"));
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.err.find("cannot read calibration data"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("= nan, must be finite"), std::string::npos) << r.err;

  // Labels 0..5 for a 5-class model: label 5 is refused (accuracy would silently be wrong).
  std::vector<int32_t> labels(10, 1);
  labels[6] = 5;
  ASSERT_TRUE(write_npy(path("labels5.npy"), Tensor::from<int32_t>({10}, labels)).ok());
  r = edgeint8(base + " --eval-data " + path("eval.npy") + " --eval-labels " + path("labels5.npy"));
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.err.find("label[6] = 5, must be < 5 (the model's classes)"), std::string::npos)
      << r.err;
  // An empty --eval-data directory is called evaluation data, not calibration data.
  fs::create_directories(path("empty"));
  r = edgeint8(base + " --eval-data " + path("empty"));
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.err.find("cannot read evaluation data " + path("empty") + ": .npy files = 0"),
            std::string::npos)
      << r.err;
  r = edgeint8(base + " --eval-data " + path("eval.npy") + " --max-samples -1");
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.err.find("--max-samples = -1, must be >= 0"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(path("t")));
}

TEST_F(HostileCli, QuantizeRefusesUnknownExcludeNegativeMaxSamplesAndQdqModels) {
  make_model_and_data();
  const std::string base =
      "quantize " + path("model.onnx") + " --calib-data " + path("calib.npy") + " -o ";
  CliRun r = edgeint8(base + path("q.onnx") + " --exclude conv1,nosuchnode");
  EXPECT_EQ(r.rc, 1);
  EXPECT_TRUE(one_line(r.err)) << r.err;
  EXPECT_NE(r.err.find("--exclude name = 'nosuchnode', must name a node of the model (its "
                       "Conv/Gemm/MatMul nodes: conv1, conv2, fc)"),
            std::string::npos)
      << r.err;
  r = edgeint8(base + path("q.onnx") + " --max-samples -1");
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.err.find("--max-samples = -1, must be >= 0"), std::string::npos) << r.err;
  r = edgeint8(base + path("q.onnx") + " --sweep");
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.err.find("with --sweep, must be absent"), std::string::npos) << r.err;
  r = edgeint8(base + path("q.onnx") + " --eval-data " + path("eval.npy"));
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.err.find("--eval-data = given without --sweep or --max-drop"), std::string::npos)
      << r.err;
  r = edgeint8(base + path("model.onnx"));
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.err.find("must differ from the float model it reads"), std::string::npos) << r.err;
  // An option only another method reads would be ignored: refused.
  r = edgeint8(base + path("q.onnx") + " --percentile 99");
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.err.find("--percentile = given with --method mse, must come with --method "
                       "percentile"),
            std::string::npos)
      << r.err;
  r = edgeint8(base + path("q.onnx") + " --method minmax --levels 64");
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.err.find("--levels = given with --method minmax, must come with --method entropy"),
            std::string::npos)
      << r.err;
  r = edgeint8(base + path("q.onnx") + " --table " + path("q.onnx"));
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.err.find("--table = '" + path("q.onnx") + "', must differ from -o"),
            std::string::npos)
      << r.err;
  EXPECT_FALSE(fs::exists(path("q.onnx")));

  // A model that is already QDQ: said so, not an internal node name.
  ASSERT_EQ(edgeint8(base + path("q.onnx")).rc, 0);
  r = edgeint8("quantize " + path("q.onnx") + " --calib-data " + path("calib.npy") + " -o " +
               path("qq.onnx"));
  EXPECT_EQ(r.rc, 1);
  EXPECT_TRUE(one_line(r.err)) << r.err;
  EXPECT_NE(r.err.find("model = already quantized"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("must be a float model"), std::string::npos) << r.err;
  r = edgeint8("analyze " + path("q.onnx") + " --calib-data " + path("calib.npy") +
               " --eval-data " + path("eval.npy") + " --out " + path("t"));
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.err.find("model = already quantized"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(path("qq.onnx")));
}

// --max-drop with an -o that cannot be written: refused before any work, and nothing written
// (before: mixed_precision.csv/.json were left behind).
TEST_F(HostileCli, QuantizeMaxDropWithABadOutputWritesNothing) {
  make_model_and_data();
  const std::string args = "quantize " + path("model.onnx") + " --calib-data " + path("calib.npy") +
                           " --eval-data " + path("eval.npy") + " --eval-labels " +
                           path("labels.npy") + " --weights per-tensor " +
                           "--max-drop 100 --sweep-out " + path("tables");
  fs::create_directories(path("tables"));
  CliRun r = edgeint8(args + " -o " + path("nodir/mixed.onnx"));
  EXPECT_EQ(r.rc, 1);
  EXPECT_TRUE(one_line(r.err)) << r.err;
  EXPECT_NE(r.err.find("-o directory"), std::string::npos) << r.err;
  r = edgeint8(args + " -o " + path("tables"));
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.err.find("-o = a directory"), std::string::npos) << r.err;
  EXPECT_TRUE(fs::is_empty(path("tables")));
  // An unreachable target writes nothing either.
  r = edgeint8("quantize " + path("model.onnx") + " --calib-data " + path("calib.npy") +
               " --eval-data " + path("eval.npy") + " --eval-labels " + path("labels.npy") +
               " --weights per-tensor --max-drop 0 --exclude conv1 --sweep-out " + path("tables") +
               " -o " + path("m.onnx"));
  if (r.rc != 0) {
    EXPECT_NE(r.err.find("nothing written"), std::string::npos) << r.err;
    EXPECT_TRUE(fs::is_empty(path("tables")));
    EXPECT_FALSE(fs::exists(path("m.onnx")));
  }
}

// ---- data export -----------------------------------------------------------------------------

TEST_F(HostileCli, DataExportWritesBothFilesOrNeither) {
  // A bad --labels path: x.npy is not left behind.
  CliRun r = edgeint8("data export synthetic --count 4 -o " + path("x.npy") + " --labels " +
                      path("nodir/y.npy"));
  EXPECT_EQ(r.rc, 1);
  EXPECT_TRUE(one_line(r.err)) << r.err;
  EXPECT_NE(r.err.find("--labels directory"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(path("x.npy")));
  // --labels naming the samples file (also through another spelling): refused, and an existing
  // x.npy keeps its bytes.
  put(path("x.npy"), "precious");
  for (const std::string& labels : {path("x.npy"), dir_ + "/./x.npy"}) {
    r = edgeint8("data export synthetic --count 4 -o " + path("x.npy") + " --labels " + labels);
    EXPECT_EQ(r.rc, 1);
    EXPECT_NE(r.err.find("must differ from -o"), std::string::npos) << r.err;
    EXPECT_EQ(slurp(path("x.npy")), "precious");
  }
  // More samples than the split holds: refused, not silently fewer.
  r = edgeint8("data export synthetic --count 100000 -o " + path("z.npy"));
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.err.find("--count = 100000, must be <= 2000 (the test split's samples; 0 = all)"),
            std::string::npos)
      << r.err;
  r = edgeint8("data export synthetic --count -3 -o " + path("z.npy"));
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.err.find("--count = -3, must be >= 0"), std::string::npos) << r.err;
  EXPECT_EQ(files_besides({"x.npy"}), std::vector<std::string>{});
}

// ---- train (option checks run before libtorch loads) -----------------------------------------

TEST_F(HostileCli, TrainNamesTheWrongOption) {
  const std::string base = "train --out " + path("run");
  CliRun r = edgeint8(base + " --lr nan");
  EXPECT_EQ(r.rc, 1);
  EXPECT_TRUE(one_line(r.err)) << r.err;
  EXPECT_NE(r.err.find("--lr = nan, must be finite and >= 0"), std::string::npos) << r.err;
  r = edgeint8(base + " --lr -1");
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.err.find("cannot train: --lr = -1, must be finite and >= 0"), std::string::npos)
      << r.err;
  EXPECT_EQ(r.err.find("epochs"), std::string::npos) << r.err;  // names only the wrong option
  r = edgeint8(base + " --epochs -2");
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.err.find("--epochs = -2, must be >= 0"), std::string::npos) << r.err;
  r = edgeint8(base + " --resume");
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.err.find("cannot resume training: --resume checkpoint " + path("run") +
                       "/last.pt = missing, must exist"),
            std::string::npos)
      << r.err;
  r = edgeint8(base + " --epochs 2 --stop-after 3");
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.err.find("--stop-after = 3, must be <= --epochs = 2"), std::string::npos) << r.err;
  r = edgeint8(base + " --workload signal1d --dataset cifar10");
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.err.find("--dataset = 'cifar10', must be synthetic"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(path("run")));
}

// ---- sim -------------------------------------------------------------------------------------

class HostileSim : public HostileCli {
 protected:
  void SetUp() override {
    HostileCli::SetUp();
    put(path("scale.cfg"),
        "[general]\nrun_name = t\n\n[architecture_presets]\nArrayHeight: 8\nArrayWidth: 8\n"
        "IfmapSramSzkB: 16\nFilterSramSzkB: 16\nOfmapSramSzkB: 8\nIfmapOffset: 0\n"
        "FilterOffset: 10000000\nOfmapOffset: 20000000\nBandwidth : 10\nDataflow : ws\n"
        "MemoryBanks: 1\n\n[run_presets]\nInterfaceBandwidth: USER\n");
  }
  static constexpr const char* kHeader =
      "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, "
      "Strides,\n";
  static constexpr const char* kLayers =
      "conv1, 12, 12, 3, 3, 4, 8, 1,\nconv2, 10, 10, 3, 3, 8, 8, 1,\n";
  CliRun sim(const std::string& topology, const std::string& extra = "") {
    return edgeint8("sim -c " + path("scale.cfg") + " -t " + topology + " -p " + path("out") +
                    extra);
  }
};

TEST_F(HostileSim, EmptyHeaderOnlyAndBinaryTopologiesAreRefusedAndWriteNothing) {
  put(path("empty.csv"), "");
  put(path("header.csv"), kHeader);
  constexpr char kElf[] =
      "\x7f"
      "ELF\x02\x01\x01\0\0\0\n\x03\0>\0";  // an executable's start
  put(path("binary.csv"), std::string(kElf, sizeof(kElf) - 1));
  fs::create_directories(path("adir"));
  const std::pair<std::string, std::string> cases[] = {
      {"empty.csv",
       "size = 0 bytes, must hold a header line and one row "
       "per layer"},
      {"header.csv", "layers = 0 (a header line only), must be >= 1"},
      {"binary.csv", "byte 0 = 0x7f, must be text"},
      {"adir", "-t = a directory, must be a file"},
      {"missing.csv", "-t = missing file, must exist"},
  };
  for (const auto& [file, expect] : cases) {
    const CliRun r = sim(path(file));
    EXPECT_EQ(r.rc, 1) << file;
    EXPECT_TRUE(one_line(r.err)) << r.err;
    EXPECT_NE(r.err.find(expect), std::string::npos) << file << ": " << r.err;
    EXPECT_EQ(r.out.find("total"), std::string::npos) << r.out;
    EXPECT_FALSE(fs::exists(path("out"))) << file;
  }
}

TEST_F(HostileSim, ATopologyWithoutItsHeaderWarnsThatItsFirstLayerIsLost) {
  put(path("noheader.csv"), kLayers);
  CliRun r = sim(path("noheader.csv"));
  EXPECT_EQ(r.rc, 0) << r.err;  // SCALE-Sim's reading: line 1 is the header
  EXPECT_NE(r.err.find("edgeint8: warning: " + path("noheader.csv") +
                       ":1: 'conv1, 12, 12, 3, 3, 4, 8, 1,' looks like a layer, but line 1 is read "
                       "as the header"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("layer 'conv1' is not simulated"), std::string::npos) << r.err;
  put(path("good.csv"), std::string(kHeader) + kLayers);
  r = sim(path("good.csv"));
  EXPECT_EQ(r.rc, 0) << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_TRUE(fs::exists(path("out/t/COMPUTE_REPORT.csv")));
}

TEST_F(HostileSim, ConfigTogetherWithWorkloadModeOptionsIsRefused) {
  put(path("good.csv"), std::string(kHeader) + kLayers);
  for (const char* extra : {" --array 8x8", " --dataflow os", " --bandwidth 4", " --calc"}) {
    const CliRun r = sim(path("good.csv"), extra);
    EXPECT_EQ(r.rc, 1) << extra;
    EXPECT_TRUE(one_line(r.err)) << r.err;
    EXPECT_NE(r.err.find(std::string(extra).substr(1, std::string(extra).find(' ', 1) - 1) +
                         " = given with -c, must be absent"),
              std::string::npos)
        << r.err;
  }
  EXPECT_FALSE(fs::exists(path("out")));
  // Workload mode: an empty topology is refused there too; an unwritable -p writes nothing.
  put(path("header.csv"), kHeader);
  CliRun r = edgeint8("sim " + path("header.csv") + " --array 8x8 -p " + path("out"));
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.err.find("layers = 0"), std::string::npos) << r.err;
  put(path("afile"), "x");
  r = edgeint8("sim " + path("good.csv") + " --array 8x8 -p " + path("afile"));
  EXPECT_EQ(r.rc, 1);
  EXPECT_TRUE(one_line(r.err)) << r.err;
  EXPECT_NE(r.err.find("-p = '" + path("afile") + "'"), std::string::npos) << r.err;
}

TEST_F(HostileSim, DseAndBitgrowthRefuseEmptyTopologies) {
  put(path("header.csv"), kHeader);
  CliRun r = edgeint8("dse " + path("header.csv") + " --out " + path("dse"));
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.err.find("layers = 0"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(path("dse")));
  r = edgeint8("fixedpoint bitgrowth --topology " + path("header.csv"));
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.err.find("layers = 0"), std::string::npos) << r.err;
  r = edgeint8("fixedpoint overflow --widths 16 --csv " + path("nodir/o.csv"));
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.err.find("--csv directory"), std::string::npos) << r.err;
}

// ---- run-all ---------------------------------------------------------------------------------

// A run whose first training step fails (no CIFAR-10 where it is asked for): the error names
// the failed step, stdout does not point at a report, and the previous run's report is marked.
TEST_F(HostileCli, RunAllThatFailsNamesTheStepAndMarksTheOldReportStale) {
  const std::string out = path("results");
  fs::create_directories(out);
  put(out + "/report.md", "# EdgeINT8-ArchKit — end-to-end report\n\nold numbers\n");
  put(out + "/report.html",
      "<!DOCTYPE html>\n<html><head></head>\n<body>\n<h1>old</h1>\n</body></html>\n");
  const std::string args = "run-all --quick --workloads tiny2d --dataset cifar10 --data-dir " +
                           path("nodata") + " --out " + out;
  CliRun r = edgeint8(args);
  EXPECT_EQ(r.rc, 1) << r.out;
  // The failed steps as the run recorded them: with libtorch the training of tiny2d, without it
  // the first step that needs the model (training is skipped: not in the build).
  std::string failed;
  {
    const std::string steps = slurp(out + "/tables/pipeline_steps.csv");
    for (size_t at = steps.find(",failed,"); at != std::string::npos;
         at = steps.find(",failed,", at + 1)) {
      const size_t begin = steps.rfind('\n', at) + 1;
      failed += (failed.empty() ? "" : ", ") + steps.substr(begin, at - begin);
    }
  }
#ifdef EI8_HAS_TORCH
  EXPECT_EQ(failed, "train.tiny2d");
#endif
  ASSERT_FALSE(failed.empty());
  EXPECT_TRUE(one_line(r.err)) << r.err;
  EXPECT_NE(r.err.find("cannot complete run-all: failed steps = " + failed + ", must be none"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(r.out.find("report: "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("no report written (" + out +
                       "/report.md is from an earlier run and now says so)"),
            std::string::npos)
      << r.out;
  const std::string md = slurp(out + "/report.md");
  EXPECT_EQ(md.rfind("> **Stale report.** The latest `edgeint8 run-all` into this directory did "
                     "not write it (step(s) " +
                         failed + " failed)",
                     0),
            0u)
      << md;
  EXPECT_NE(md.find("old numbers"), std::string::npos);
  EXPECT_NE(slurp(out + "/report.html").find("<p class=\"stale\""), std::string::npos);
  // A second failing run keeps one banner, not two.
  r = edgeint8(args);
  EXPECT_EQ(r.rc, 1);
  const std::string md2 = slurp(out + "/report.md");
  EXPECT_EQ(md2, md);
  // Without an earlier report nothing is invented.
  fs::remove(out + "/report.md");
  fs::remove(out + "/report.html");
  r = edgeint8(args);
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.out.find("no report written\n"), std::string::npos) << r.out;
  EXPECT_FALSE(fs::exists(out + "/report.md"));
}

// ---- the subcommands that came later: fixedpoint on a model, --tune, codegen -------------------

// fixedpoint overflow/bitgrowth on a model: the model is checked before it is parsed, options
// of the synthetic experiment (or --max-samples without a model) are refused, and --csv never
// overwrites an input.
TEST_F(HostileCli, FixedpointOnAModelRefusesConflictsAndNeverOverwritesItsInputs) {
  make_model_and_data();
  const std::string calib_bytes = slurp(path("calib.npy"));
  const std::string base =
      "fixedpoint overflow " + path("model.onnx") + " --calib-data " + path("calib.npy");
  CliRun r = edgeint8(base + " --csv " + path("calib.npy"));
  EXPECT_EQ(r.rc, 1);
  EXPECT_TRUE(one_line(r.err)) << r.err;
  EXPECT_NE(r.err.find("--csv = the same file as --calib-data, must be another file"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(slurp(path("calib.npy")), calib_bytes);
  r = edgeint8(base + " --csv " + path("model.onnx"));
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.err.find("--csv = the same file as MODEL"), std::string::npos) << r.err;
  r = edgeint8(base + " --regime uniform");
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.err.find("--regime = given, must be absent with a MODEL"), std::string::npos)
      << r.err;
  r = edgeint8(base + " --seed 3");
  EXPECT_NE(r.err.find("--seed = given, must be absent with a MODEL"), std::string::npos) << r.err;
  r = edgeint8(base + " --max-samples -3");
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.err.find("--max-samples = -3, must be >= 0 (0 = all)"), std::string::npos) << r.err;
  r = edgeint8("fixedpoint overflow --widths 16 --max-samples 4");
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.err.find("--max-samples = 4 without a MODEL, must come with one"), std::string::npos)
      << r.err;
  r = edgeint8("fixedpoint overflow " + path("nosuch.onnx") + " --calib-data " + path("calib.npy"));
  EXPECT_EQ(r.rc, 1);
  EXPECT_TRUE(one_line(r.err)) << r.err;
  EXPECT_NE(r.err.find("MODEL = missing file, must exist"), std::string::npos) << r.err;
  put(path("empty.onnx"), "");
  r = edgeint8("fixedpoint overflow " + path("empty.onnx") + " --calib-data " + path("calib.npy"));
  EXPECT_NE(r.err.find("MODEL size = 0 bytes"), std::string::npos) << r.err;
  // Calibration data of the wrong shape, or holding NaN: one line each.
  Rng rng(4);
  ASSERT_TRUE(write_npy(path("wide.npy"), random_tensor(rng, {4, 3, 9, 9}, -1, 1)).ok());
  r = edgeint8("fixedpoint overflow " + path("model.onnx") + " --calib-data " + path("wide.npy"));
  EXPECT_EQ(r.rc, 1);
  EXPECT_TRUE(one_line(r.err)) << r.err;
  EXPECT_NE(r.err.find("cannot read calibration data " + path("wide.npy") + ": shape ="),
            std::string::npos)
      << r.err;
  Tensor nan = random_tensor(rng, {4, 3, 8, 8}, -1, 1);
  nan.span<float>()[70] = std::numeric_limits<float>::quiet_NaN();
  ASSERT_TRUE(write_npy(path("nan.npy"), nan).ok());
  r = edgeint8("fixedpoint overflow " + path("model.onnx") + " --calib-data " + path("nan.npy"));
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.err.find("element 70 (sample 0) = nan, must be finite"), std::string::npos) << r.err;
  // bitgrowth: the same checks.
  r = edgeint8("fixedpoint bitgrowth " + path("model.onnx") + " --max-samples -1");
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.err.find("cannot analyze bit growth: --max-samples = -1, must be >= 0"),
            std::string::npos)
      << r.err;
  put(path("topo.csv"),
      "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, "
      "Channels, Num Filter, Strides,\nconv1, 12, 12, 3, 3, 4, 8, 1,\n");
  r = edgeint8("fixedpoint bitgrowth --topology " + path("topo.csv") + " --max-samples 4");
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.err.find("--max-samples = 4 with a topology, must come with a MODEL"),
            std::string::npos)
      << r.err;
  // And the good case writes its CSV.
  r = edgeint8(base + " --max-samples 4 --widths 16,24 --csv " + path("ov.csv"));
  EXPECT_EQ(r.rc, 0) << r.err;
  EXPECT_EQ(slurp(path("ov.csv")).rfind("layer,K,outputs,", 0), 0u);
}

// --tune FILE (run and bench): a directory, a file in a missing directory, a file that is also
// an input or the output, or a malformed tuning file are refused before any work, and nothing
// is written; a good run writes the output and the tuning file together.
TEST_F(HostileCli, TuneFileIsCheckedBeforeWorkAndWrittenWithTheOutput) {
  make_model_and_data();
  Rng rng(5);
  ASSERT_TRUE(write_npy(path("x.npy"), random_tensor(rng, {2, 3, 8, 8}, -1, 1)).ok());
  const std::string run = "run " + path("model.onnx") + " -i " + path("x.npy") + " -o ";
  fs::create_directories(path("tunedir"));
  CliRun r = edgeint8(run + path("y.npy") + " --tune " + path("tunedir"));
  EXPECT_EQ(r.rc, 1);
  EXPECT_TRUE(one_line(r.err)) << r.err;
  EXPECT_NE(r.err.find("--tune = a directory, must be a file"), std::string::npos) << r.err;
  r = edgeint8(run + path("y.npy") + " --tune " + path("nodir/t.tsv"));
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.err.find("--tune directory"), std::string::npos) << r.err;
  r = edgeint8(run + path("y.npy") + " --tune " + path("y.npy"));
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.err.find("--tune = the same file as " + path("y.npy")), std::string::npos) << r.err;
  r = edgeint8(run + path("y.npy") + " --tune " + path("x.npy"));
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.err.find("--tune = the same file as " + path("x.npy")), std::string::npos) << r.err;
  r = edgeint8(run + path("model.onnx"));
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.err.find("--output = the same file as an input"), std::string::npos) << r.err;
  put(path("bad.tsv"), "not a tuning line\n");
  r = edgeint8(run + path("y.npy") + " --tune " + path("bad.tsv"));
  EXPECT_EQ(r.rc, 1);
  EXPECT_TRUE(one_line(r.err)) << r.err;
  EXPECT_NE(r.err.find(path("bad.tsv") + ":1: cannot read tuning entry: columns = 1, must be 6"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(slurp(path("bad.tsv")), "not a tuning line\n");
  EXPECT_FALSE(fs::exists(path("y.npy")));
  // bench: the same checks.
  const std::string bench = "bench " + path("model.onnx") + " --iters 1 --warmup 0 --tune ";
  r = edgeint8(bench + path("tunedir"));
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.err.find("--tune = a directory, must be a file"), std::string::npos) << r.err;
  r = edgeint8(bench + path("model.onnx"));
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.err.find("--tune = the same file as " + path("model.onnx")), std::string::npos)
      << r.err;
  EXPECT_EQ(files_besides({"model.onnx", "calib.npy", "eval.npy", "labels.npy", "x.npy", "bad.tsv",
                           "tunedir"}),
            std::vector<std::string>{});
  // A good run: the output and the tuning file (its header at least).
  r = edgeint8(run + path("y.npy") + " --tune " + path("t.tsv"));
  EXPECT_EQ(r.rc, 0) << r.err;
  EXPECT_TRUE(read_npy(path("y.npy")).ok());
  EXPECT_EQ(slurp(path("t.tsv")).rfind("# edgeint8 plan tuning v1", 0), 0u);
}

// codegen: the model, the options and the run's --input/--output are checked before the
// generated directory is written (no compiler is needed to refuse them).
TEST_F(HostileCli, CodegenChecksItsInputsBeforeWritingAnything) {
  make_model_and_data();
  ASSERT_EQ(edgeint8("quantize " + path("model.onnx") + " --calib-data " + path("calib.npy") +
                     " -o " + path("q.onnx"))
                .rc,
            0);
  Rng rng(6);
  const Tensor x = random_tensor(rng, {2, 3, 8, 8}, -1, 1);  // 192 floats a sample
  put(path("x.bin"), std::string_view(reinterpret_cast<const char*>(x.raw()), x.nbytes()));
  put(path("partial.bin"), std::string_view(reinterpret_cast<const char*>(x.raw()), 200 * 4));
  put(path("odd.bin"), std::string_view(reinterpret_cast<const char*>(x.raw()), 10));
  fs::create_directories(path("adir"));
  const std::string gen = "codegen " + path("q.onnx") + " --out " + path("gen");
  const std::string run = gen + " --run-host --input ";
  struct Case {
    std::string args, error;
  };
  const std::vector<Case> cases = {
      {"codegen " + path("nosuch.onnx") + " --out " + path("gen"), "model = missing file"},
      {"codegen " + path("adir") + " --out " + path("gen"), "model = a directory"},
      {gen + " --timeout 0", "--timeout = 0, must be >= 1"},
      {run + path("calib.npy") + " --output " + path("y.bin"),
       "--input = an .npy file, must be raw little-endian float32"},
      {run + path("partial.bin") + " --output " + path("y.bin"),
       "--input size = 200 floats, must be a multiple of 192 floats"},
      {run + path("odd.bin") + " --output " + path("y.bin"),
       "--input size = 10 bytes, must be a multiple of 4"},
      {run + path("x.bin") + " --output " + path("x.bin"), "--output = the same file as an input"},
      {run + path("x.bin") + " --output " + path("nodir/y.bin"), "--output directory"},
      {run + path("x.bin") + " --output " + dir_, "--output = a directory"},
  };
  for (const Case& c : cases) {
    const CliRun r = edgeint8(c.args);
    EXPECT_EQ(r.rc, 1) << c.args;
    EXPECT_TRUE(one_line(r.err)) << r.err;
    EXPECT_NE(r.err.find(c.error), std::string::npos) << c.args << "\n" << r.err;
  }
  EXPECT_FALSE(fs::exists(path("gen")));
  EXPECT_FALSE(fs::exists(path("y.bin")));
  EXPECT_EQ(slurp(path("x.bin")).size(), x.nbytes());
}

}  // namespace
}  // namespace ei8
