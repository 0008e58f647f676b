// `edgeint8 run/info/bench` on bad input: one line on stderr, exit code 1, never a crash.
#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>
#include <sys/wait.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "ei8/core/npy.h"
#include "ei8/core/rng.h"
#include "test_util.h"

namespace ei8 {
namespace {

namespace fs = std::filesystem;

struct CliResult {
  int exit_code;
  std::string err;
};

class CliBadInput : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("ei8_cli_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  CliResult cli(const std::string& args) const {
    const std::string err = path("stderr.txt");
    const std::string cmd =
        std::string(EI8_BINARY_DIR) + "/apps/edgeint8/edgeint8 " + args + " >/dev/null 2>" + err;
    const int rc = std::system(cmd.c_str());
    std::ifstream f(err);
    std::stringstream ss;
    ss << f.rdbuf();
    return {WIFEXITED(rc) ? WEXITSTATUS(rc) : -1, ss.str()};
  }

  // Exit code 1 and exactly one stderr line "edgeint8: error: ..." containing `needle`.
  void expect_one_line_error(const CliResult& r, const std::string& needle) const {
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_EQ(r.err.rfind("edgeint8: error: ", 0), 0u) << r.err;
    EXPECT_NE(r.err.find(needle), std::string::npos) << r.err;
  }

  void write(const std::string& name, std::string_view bytes) const {
    ASSERT_TRUE(write_file(path(name), bytes).ok());
  }

  static std::string model_with(const std::string& op, const std::string& node,
                                const std::vector<std::string>& inputs) {
    onnx::ModelProto m;
    m.set_ir_version(7);
    m.add_opset_import()->set_version(13);
    auto* g = m.mutable_graph();
    auto* in = g->add_input();
    in->set_name("x");
    auto* tt = in->mutable_type()->mutable_tensor_type();
    tt->set_elem_type(onnx::TensorProto::FLOAT);
    for (int64_t d : {1, 2, 4, 4}) tt->mutable_shape()->add_dim()->set_dim_value(d);
    auto* n = g->add_node();
    n->set_op_type(op);
    n->set_name(node);
    for (const auto& s : inputs) n->add_input(s);
    n->add_output("y");
    g->add_output()->set_name("y");
    return m.SerializeAsString();
  }

  fs::path dir_;
};

TEST_F(CliBadInput, TruncatedModel) {
  auto full = read_file(testing::model_path("cifar_resnet"));
  ASSERT_TRUE(full.ok());
  write("cut.onnx", std::string_view(full.value()).substr(0, full->size() / 2));
  expect_one_line_error(cli("info " + path("cut.onnx")), "cut.onnx");
  expect_one_line_error(
      cli("run " + path("cut.onnx") + " --input " +
          testing::data_path("cifar_resnet", ".input.npy") + " --output " + path("y.npy")),
      "truncated");
}

TEST_F(CliBadInput, RandomBytes) {
  const uint64_t seed = 2026;
  Rng rng(seed);
  for (int trial = 0; trial < 5; ++trial) {
    std::string junk(static_cast<size_t>(rng.uniform_int(1, 5000)), '\0');
    for (char& c : junk) c = static_cast<char>(rng.uniform_int(0, 255));
    write("junk.onnx", junk);
    expect_one_line_error(cli("bench " + path("junk.onnx") + " --iters 1 --warmup 0"), "junk.onnx");
  }
}

TEST_F(CliBadInput, UnsupportedOpNamesOpAndNode) {
  write("einsum.onnx", model_with("Einsum", "/block3/Einsum_12", {"x"}));
  const CliResult r = cli("info " + path("einsum.onnx"));
  expect_one_line_error(r, "Einsum");
  EXPECT_NE(r.err.find("/block3/Einsum_12"), std::string::npos) << r.err;
}

TEST_F(CliBadInput, MissingInitializer) {
  write("noweight.onnx", model_with("Conv", "conv1", {"x", "conv1.weight"}));
  const CliResult r = cli("info " + path("noweight.onnx"));
  expect_one_line_error(r, "conv1.weight");
}

TEST_F(CliBadInput, WrongInputShape) {
  // A CIFAR image into the 1-D signal model.
  expect_one_line_error(
      cli("run " + testing::model_path("signal_cnn1d") + " --input " +
          testing::data_path("cifar_resnet", ".input.npy") + " --output " + path("y.npy")),
      "shape");
  // Raw .bin without --shape, and with a shape that does not match the file size.
  write("x.bin", std::string(16, '\0'));
  expect_one_line_error(cli("run " + testing::model_path("signal_cnn1d") + " --input " +
                            path("x.bin") + " --output " + path("y.bin")),
                        "--shape");
  expect_one_line_error(cli("run " + testing::model_path("signal_cnn1d") + " --input " +
                            path("x.bin") + " --shape 1,1,128 --output " + path("y.bin")),
                        "x.bin");
}

TEST_F(CliBadInput, GoodRunWritesOutputAndBinRoundTrips) {
  const CliResult r =
      cli("run " + testing::model_path("signal_cnn1d") + " --input " +
          testing::data_path("signal_cnn1d", ".input.npy") + " --output " + path("y.npy"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto y = read_npy(path("y.npy"));
  auto want = read_npy(testing::data_path("signal_cnn1d", ".torch.npy"));
  ASSERT_TRUE(y.ok() && want.ok());
  testing::expect_close_to(y.value(), want.value(), "cli run signal_cnn1d");
  // The same input as raw f32 with --shape, output as raw f32.
  auto x = read_npy(testing::data_path("signal_cnn1d", ".input.npy"));
  ASSERT_TRUE(write_raw(path("x.bin"), x.value()).ok());
  const CliResult rb = cli("run " + testing::model_path("signal_cnn1d") + " --input " +
                           path("x.bin") + " --shape 2,1,128 --output " + path("y.bin"));
  ASSERT_EQ(rb.exit_code, 0) << rb.err;
  auto yb = read_raw_f32(path("y.bin"), {2, 5});
  ASSERT_TRUE(yb.ok());
  EXPECT_EQ(testing::max_abs_diff(yb.value(), y.value()), 0.0f);
}

}  // namespace
}  // namespace ei8
