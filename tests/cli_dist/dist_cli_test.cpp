// Runs the built `edgeint8` under `mpirun -np 2 --oversubscribe` on localhost and as job-array
// shards: `dse` and `quantize --sweep` write the files of the single-process run byte for byte
// (--no-timings: no measured column), `merge` refuses missing, repeated and foreign shards, and
// a failing rank ends the job with its message once and no result file.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "ei8/core/npy.h"
#include "ei8/graph/onnx/onnx_io.h"
#include "test_graphs.h"

namespace ei8 {
namespace {

namespace fs = std::filesystem;

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

size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t p = text.find(what); p != std::string::npos; p = text.find(what, p + 1)) ++n;
  return n;
}

const std::string kBinary = std::string(EI8_BINARY_DIR) + "/apps/edgeint8/edgeint8";

// `env` is prefixed to the command (e.g. "EI8_DIST_FAIL_POINT=3").
CliRun sh(const std::string& command) {
  static int counter = 0;
  const std::string base = ::testing::TempDir() + "ei8_dcli_" + std::to_string(getpid()) + "_" +
                           std::to_string(counter++);
  const std::string out = base + "_out.txt", err = base + "_err.txt";
  const std::string cmd = command + " > " + out + " 2> " + err;
  const int status = std::system(cmd.c_str());
  CliRun r;
  r.rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = slurp(out);
  r.err = slurp(err);
  std::remove(out.c_str());
  std::remove(err.c_str());
  return r;
}

CliRun edgeint8(const std::string& args) { return sh(kBinary + " " + args); }

#ifdef EI8_MPIEXEC
// CI runs as root: OpenMPI refuses that unless both variables are set. -x passes the fault
// injection variable to every rank. In an ASan build the ranks run without LeakSanitizer:
// OpenMPI's plugins, unloaded at MPI_Finalize, leave allocations that cannot be symbolized (so
// not suppressed by library); every other sanitizer check stays on, and the same code paths run
// leak-checked in this file's single-process runs.
CliRun mpirun(int ranks, const std::string& args, const std::string& env = "") {
  return sh(
      fmt::format("{} OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 "
                  "ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 {} -np {} --oversubscribe -x "
                  "EI8_DIST_FAIL_POINT -x ASAN_OPTIONS {} {}",
                  env.empty() ? "EI8_DIST_FAIL_POINT=" : env, EI8_MPIEXEC, ranks, kBinary, args));
}
#define EI8_REQUIRE_MPI() (void)0
#else
CliRun mpirun(int, const std::string&, const std::string& = "") { return {}; }
#define EI8_REQUIRE_MPI() \
  GTEST_SKIP() << "mpirun absent: MPI (libopenmpi-dev, openmpi-bin) not found at configure time"
#endif

class DistCli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "ei8_dcli_" + std::to_string(getpid()) + "_" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    // A three-layer topology and a 48-point space with infeasible points (area, PEs).
    std::ofstream(path("net.csv"))
        << "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num "
           "Filter, Strides,\n"
           "conv1, 18, 18, 3, 3, 3, 16, 1,\nconv2, 10, 10, 3, 3, 16, 32, 1,\n"
           "fc, 1, 1, 1, 1, 128, 10, 1,\n";
    std::ofstream(path("space.toml"))
        << "name = \"test\"\narrays = [\"4x4\", \"8x8\", \"16x16\", \"8x32\"]\n"
           "dataflows = [\"ws\", \"os\", \"is\"]\nsram_kb = [[8, 8, 4], [32, 32, 16]]\n"
           "bandwidths = [4, 16]\n[constraints]\nmax_area_mm2 = 0.5\nmax_pes = 200\n";
    std::ofstream(path("space2.toml")) << "arrays = [\"4x4\", \"8x8\"]\ndataflows = [\"ws\"]\n"
                                          "sram_kb = [[8, 8, 4]]\nbandwidths = [4, 16, 32]\n";
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string& f) const { return dir_ + "/" + f; }
  std::string dse(const std::string& out, const std::string& space = "space.toml") const {
    return "dse " + path("net.csv") + " --space " + path(space) + " --no-timings --out " +
           path(out);
  }
  // Every file of `a` equals the same file of `b`, byte for byte.
  void expect_same_files(const std::string& a, const std::string& b,
                         std::initializer_list<const char*> files) const {
    for (const char* f : files) {
      const std::string x = slurp(path(a + "/" + f)), y = slurp(path(b + "/" + f));
      EXPECT_FALSE(x.empty()) << a << "/" << f;
      EXPECT_TRUE(x == y) << a << "/" << f << " differs from " << b << "/" << f;
    }
  }
  void make_ptq_inputs() {
    ASSERT_TRUE(save_onnx(quant::two_conv_cnn(7, 40.0f), path("model.onnx")).ok());
    Rng rng(7);
    ASSERT_TRUE(write_npy(path("calib.npy"), quant::random_tensor(rng, {16, 3, 8, 8}, -1, 1)).ok());
    ASSERT_TRUE(write_npy(path("eval.npy"), quant::random_tensor(rng, {12, 3, 8, 8}, -1, 1)).ok());
    std::vector<int32_t> labels(12);
    for (size_t i = 0; i < labels.size(); ++i) labels[i] = static_cast<int32_t>(i % 5);
    ASSERT_TRUE(
        write_npy(path("labels.npy"), Tensor::from<int32_t>({12}, std::span<const int32_t>(labels)))
            .ok());
  }
  std::string sweep(const std::string& out) const {
    return "quantize " + path("model.onnx") + " --calib-data " + path("calib.npy") +
           " --eval-data " + path("eval.npy") + " --eval-labels " + path("labels.npy") +
           " --sweep --no-timings --json --sweep-out " + path(out);
  }
  std::string dir_;
};

constexpr std::initializer_list<const char*> kDseFiles = {"points.csv", "points.json", "pareto.csv",
                                                          "best.json", "analysis.md"};

TEST_F(DistCli, DseShardsMergeIntoTheSerialFilesAndBadPartSetsAreRefused) {
  CliRun r = edgeint8(dse("serial") + " --threads 1");
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_EQ(slurp(path("serial/best.json")).find("sweep_seconds"), std::string::npos);
  for (int i = 0; i < 3; ++i) {
    r = edgeint8(dse("parts") + fmt::format(" --shard {}/3 --threads 2", i));
    ASSERT_EQ(r.rc, 0) << r.err;
  }
  const std::string p0 = path("parts/dse-shard-0-of-3.part"),
                    p1 = path("parts/dse-shard-1-of-3.part"),
                    p2 = path("parts/dse-shard-2-of-3.part");
  r = edgeint8("merge " + p2 + " " + p0 + " " + p1 + " --out " + path("merged"));
  ASSERT_EQ(r.rc, 0) << r.err;
  expect_same_files("serial", "merged", kDseFiles);

  // Missing, repeated, foreign shards: one line, exit 1, no output directory.
  r = edgeint8("merge " + p0 + " " + p2 + " --out " + path("bad"));
  EXPECT_EQ(r.rc, 1);
  EXPECT_EQ(r.err, "edgeint8: error: cannot merge shards: shard 1/3 = missing, must be given\n");
  r = edgeint8("merge " + p0 + " " + p1 + " " + p1 + " " + p2 + " --out " + path("bad"));
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.err.find("shard = 1/3, must appear once"), std::string::npos) << r.err;
  ASSERT_EQ(edgeint8(dse("other", "space2.toml") + " --shard 1/3").rc, 0);
  r = edgeint8("merge " + p0 + " " + path("other/dse-shard-1-of-3.part") + " " + p2 + " --out " +
               path("bad"));
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.err.find("(shards of another run)"), std::string::npos) << r.err;
  EXPECT_EQ(count(r.err, "\n"), 1u) << r.err;
  // A space file edited after the shards ran.
  std::ofstream(path("space.toml"), std::ios::app) << "# edited\n";
  r = edgeint8("merge " + p0 + " " + p1 + " " + p2 + " --out " + path("bad"));
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.err.find("changed since the shards ran"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(path("bad/points.csv")));
  r = edgeint8(dse("x") + " --shard 3/3");
  EXPECT_EQ(r.rc, 1);
  EXPECT_EQ(r.err,
            "edgeint8: error: cannot parse --shard: value = '3/3', must be i/N with 0 <= i < N\n");
}

TEST_F(DistCli, DseOnTwoRanksWritesTheSerialFilesByteForByte) {
  EI8_REQUIRE_MPI();
  CliRun r = edgeint8(dse("serial") + " --threads 1");
  ASSERT_EQ(r.rc, 0) << r.err;
  r = mpirun(2, dse("mpi"));
  ASSERT_EQ(r.rc, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("2 rank(s)"), std::string::npos) << r.out;
  EXPECT_EQ(count(r.out, "Pareto front:"), 1u) << "rank 0 prints, once: " << r.out;
  expect_same_files("serial", "mpi", kDseFiles);
  // Shards computed on two ranks each merge into the same files too.
  for (int i = 0; i < 2; ++i) {
    r = mpirun(2, dse("parts") + fmt::format(" --shard {}/2", i));
    ASSERT_EQ(r.rc, 0) << r.err;
  }
  r = edgeint8("merge " + path("parts/dse-shard-0-of-2.part") + " " +
               path("parts/dse-shard-1-of-2.part") + " --out " + path("merged"));
  ASSERT_EQ(r.rc, 0) << r.err;
  expect_same_files("serial", "merged", kDseFiles);
}

TEST_F(DistCli, AFailingRankEndsEveryRankWithOneMessageAndNoResultFile) {
  EI8_REQUIRE_MPI();
  // Point 5 is in rank 0's static block, point 30 among the dynamic chunks, 20 in rank 1's.
  for (int point : {5, 20, 30}) {
    const std::string out = fmt::format("failed{}", point);
    CliRun r = mpirun(2, dse(out), fmt::format("EI8_DIST_FAIL_POINT={}", point));
    EXPECT_NE(r.rc, 0) << r.err;
    EXPECT_EQ(count(r.err, fmt::format("EI8_DIST_FAIL_POINT = {}", point)), 1u) << r.err;
    EXPECT_EQ(count(r.err, "edgeint8: error: rank "), 1u) << r.err;
    EXPECT_FALSE(fs::exists(path(out + "/points.csv"))) << point;
    EXPECT_FALSE(fs::exists(path(out + "/best.json"))) << point;
  }
  // A bad input every rank meets before the sweep: one message (the lowest rank's), no files.
  std::ofstream(path("bad.toml")) << "arrays = [\"4y4\"]\n";
  CliRun r = mpirun(2, dse("badspace", "bad.toml"));
  EXPECT_NE(r.rc, 0);
  EXPECT_EQ(count(r.err, "edgeint8: error: rank 0: "), 1u) << r.err;
  EXPECT_EQ(count(r.err, "must be \"ROWSxCOLS\""), 1u) << r.err;
  EXPECT_FALSE(fs::exists(path("badspace/points.csv")));
  // Without mpirun the same injected failure is the single process's error.
  r = sh("EI8_DIST_FAIL_POINT=3 " + kBinary + " " + dse("single"));
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.err.find("edgeint8: error: cannot compute point 3"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(path("single/points.csv")));
}

TEST_F(DistCli, PtqSweepOnTwoRanksAndFromShardsEqualsTheSerialTables) {
  make_ptq_inputs();
  CliRun r = edgeint8(sweep("serial"));
  ASSERT_EQ(r.rc, 0) << r.err;
  const std::string csv = slurp(path("serial/ptq_sweep.csv"));
  EXPECT_EQ(count(csv, "\n"), 17u) << csv;  // header + 4 methods × 2 weights × 2 activations
  for (int i = 0; i < 3; ++i) {
    r = edgeint8(sweep("parts") + fmt::format(" --shard {}/3", i));
    ASSERT_EQ(r.rc, 0) << r.err;
  }
  r = edgeint8("merge " + path("parts/ptq-sweep-shard-1-of-3.part") + " " +
               path("parts/ptq-sweep-shard-0-of-3.part") + " " +
               path("parts/ptq-sweep-shard-2-of-3.part") + " --json --out " + path("merged"));
  ASSERT_EQ(r.rc, 0) << r.err;
  expect_same_files("serial", "merged", {"ptq_sweep.csv", "ptq_sweep.json"});
  r = edgeint8("quantize " + path("model.onnx") + " --calib-data " + path("calib.npy") + " -o " +
               path("q.onnx") + " --shard 0/2");
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.err.find("--shard = given without --sweep"), std::string::npos) << r.err;
#ifdef EI8_MPIEXEC
  r = mpirun(2, sweep("mpi"));
  ASSERT_EQ(r.rc, 0) << r.err;
  expect_same_files("serial", "mpi", {"ptq_sweep.csv", "ptq_sweep.json"});
  r = mpirun(2, sweep("failed"), "EI8_DIST_FAIL_POINT=6");
  EXPECT_NE(r.rc, 0);
  EXPECT_EQ(count(r.err, "edgeint8: error: rank "), 1u) << r.err;
  EXPECT_FALSE(fs::exists(path("failed/ptq_sweep.csv")));
#else
  GTEST_SKIP() << "mpirun absent: MPI (libopenmpi-dev, openmpi-bin) not found at configure time";
#endif
}

}  // namespace
}  // namespace ei8
