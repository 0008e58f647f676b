// Runs the built `edgeint8` binary: the requant tool on tie cases, bitgrowth on the project's
// topology, and every bad-input path of the fixedpoint subcommands (message + exit code).
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

namespace {

struct CliRun {
  int rc = -1;
  std::string out;  // stdout
  std::string err;  // stderr
};

std::string slurp(const std::string& path) {
  std::ifstream f(path);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

// Runs `edgeint8 <args>` with `input` on stdin.
CliRun edgeint8(const std::string& args, const std::string& input = "") {
  // Unique files per call: ctest runs the tests of this program in parallel processes.
  static int counter = 0;
  const std::string dir = ::testing::TempDir() + "ei8_cli_" + std::to_string(getpid()) + "_" +
                          std::to_string(counter++);
  const std::string in = dir + "_in.txt", out = dir + "_out.txt", err = dir + "_err.txt";
  std::ofstream(in) << input;
  const std::string cmd = std::string(EI8_BINARY_DIR) + "/apps/edgeint8/edgeint8 " + args + " < " +
                          in + " > " + out + " 2> " + err;
  const int status = std::system(cmd.c_str());
  CliRun r;
  r.rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = slurp(out);
  r.err = slurp(err);
  std::remove(in.c_str());
  std::remove(out.c_str());
  std::remove(err.c_str());
  return r;
}

const std::string kData = std::string(EI8_TEST_DATA_DIR) + "/fixedpoint/";

TEST(RequantCli, TieCasesPerProfile) {
  // M = 0.5: acc/2 = 0.5, 1.5, 2.5, −0.5, −1.5, −2.5.
  const std::string acc = "1\n3\n5\n-1\n-3\n-5\n";
  EXPECT_EQ(edgeint8("fixedpoint requant --profile ort --multiplier 0.5", acc).out,
            "0\n2\n2\n0\n-2\n-2\n");  // half to even
  EXPECT_EQ(edgeint8("fixedpoint requant --profile tflite --multiplier 0.5", acc).out,
            "1\n2\n3\n0\n-1\n-2\n");  // SRDHM: half toward +inf
  EXPECT_EQ(edgeint8("fixedpoint requant --profile tflite-single --multiplier 0.5", acc).out,
            "1\n2\n3\n0\n-1\n-2\n");
  // M = 0.25: acc 1 → 0.25, 5 → 1.25, −2 → −0.5.  tflite double-rounds 0.25 → 0.5 → 1 and
  // 1.25 → 1.5 (2.5/2) → 2; −0.5 → −1 (away); single rounding: 0, 1, 0 (−0.5 toward +inf).
  const std::string acc2 = "1\n5\n-2\n";
  EXPECT_EQ(edgeint8("fixedpoint requant --profile tflite --multiplier 0.25", acc2).out,
            "1\n2\n-1\n");
  EXPECT_EQ(edgeint8("fixedpoint requant --profile tflite-single --multiplier 0.25", acc2).out,
            "0\n1\n0\n");
  EXPECT_EQ(edgeint8("fixedpoint requant --profile ort --multiplier 0.25", acc2).out, "0\n1\n0\n");
  // Zero point and clamp: 1000·0.5 + 3 → clamp 100; −1000·0.5 + 3 → clamp 0 (u8-like range).
  EXPECT_EQ(edgeint8("fixedpoint requant --profile ort --multiplier 0.5 --zero-point 3 --qmin 0 "
                     "--qmax 100",
                     "1000\n-1000\n4\n")
                .out,
            "100\n0\n5\n");
}

TEST(RequantCli, JsonShowsTheQuantizedMultiplier) {
  const CliRun r = edgeint8("fixedpoint requant --profile tflite --multiplier 0.25 --json", "8\n");
  ASSERT_EQ(r.rc, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["m0"], 1 << 30);
  EXPECT_EQ(j["shift"], -1);
  EXPECT_EQ(j["outputs"][0], 2);
}

TEST(RequantCli, BadInputNamesTheLine) {
  CliRun r = edgeint8("fixedpoint requant --profile ort --multiplier 0.5", "5\nabc\n7\n");
  EXPECT_EQ(r.rc, 1);
  EXPECT_EQ(r.out, "");  // nothing printed when any line is bad
  EXPECT_NE(r.err.find("<stdin>:2: cannot read accumulator: value = 'abc'"), std::string::npos)
      << r.err;
  r = edgeint8("fixedpoint requant --profile ort --multiplier 0.5", "1\n2\n2147483648\n");
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.err.find("<stdin>:3:"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("must be in [-2147483648, 2147483647]"), std::string::npos) << r.err;
  r = edgeint8("fixedpoint requant --profile ort --multiplier 0.5", "\n");
  EXPECT_NE(r.err.find("<stdin>:1:"), std::string::npos) << r.err;
  r = edgeint8("fixedpoint requant --profile gemmlowp --multiplier 0.5", "1\n");
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.err.find("must be ort, tflite or tflite-single"), std::string::npos);
  r = edgeint8("fixedpoint requant --profile tflite --multiplier -2", "1\n");
  EXPECT_EQ(r.rc, 1);
  r = edgeint8("fixedpoint requant --profile tflite --multiplier 0.5 --qmin 10 --qmax 5", "1\n");
  EXPECT_EQ(r.rc, 1);
  r = edgeint8("fixedpoint requant --profile tflite --multiplier abc", "1\n");
  EXPECT_EQ(r.rc, 1);
  // Valid extremes are accepted.
  r = edgeint8("fixedpoint requant --profile tflite --multiplier 0.5", "-2147483648\n2147483647\n");
  EXPECT_EQ(r.rc, 0) << r.err;
  EXPECT_EQ(r.out, "-128\n127\n");
}

TEST(BitGrowthCli, ProjectTopologyJson) {
  const CliRun r =
      edgeint8("fixedpoint bitgrowth --topology " + kData + "project_layers.csv --json");
  ASSERT_EQ(r.rc, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  // K = FilterH·FilterW·Channels; bits = 16 + ⌈log2 K⌉.
  const int64_t k[] = {3, 48, 96, 27, 288, 576, 2048};
  const int bits[] = {18, 22, 23, 21, 25, 26, 27};
  ASSERT_EQ(j["layers"].size(), 7u);
  for (size_t i = 0; i < 7; ++i) {
    EXPECT_EQ(j["layers"][i]["K"], k[i]);
    EXPECT_EQ(j["layers"][i]["product_bits"], 16);
    EXPECT_EQ(j["layers"][i]["accumulator_bits"], bits[i]);
    EXPECT_EQ(j["layers"][i]["recommended_width"], 32);
  }
  EXPECT_EQ(j["layers"][0]["name"], "SignalCNN1D_conv1");
  const CliRun u = edgeint8("fixedpoint bitgrowth --operands u8xs8 --json --topology " + kData +
                            "project_layers.csv");
  EXPECT_EQ(nlohmann::json::parse(u.out)["layers"][6]["accumulator_bits"], 28);
}

TEST(BitGrowthCli, MalformedTopologyAndBadWidths) {
  CliRun r = edgeint8("fixedpoint bitgrowth --topology " + kData + "malformed.csv");
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.err.find("malformed.csv:3: "), std::string::npos) << r.err;
  r = edgeint8("fixedpoint bitgrowth --topology " + kData + "does_not_exist.csv");
  EXPECT_EQ(r.rc, 1);
  for (const char* w : {"1", "65", "0"}) {
    r = edgeint8("fixedpoint bitgrowth --width " + std::string(w) + " --topology " + kData +
                 "project_layers.csv");
    EXPECT_EQ(r.rc, 1) << w;
    EXPECT_NE(r.err.find("must be in [2, 64]"), std::string::npos) << r.err;
  }
  r = edgeint8("fixedpoint bitgrowth --width 20 --topology " + kData + "project_layers.csv");
  EXPECT_EQ(r.rc, 0) << r.err;
}

TEST(OverflowCli, RefusesWidthsOutsideTwoToSixtyFour) {
  for (const char* w : {"1..32", "12..65", "16,99", "x"}) {
    const CliRun r = edgeint8(std::string("fixedpoint overflow --widths ") + w);
    EXPECT_EQ(r.rc, 1) << w;
    EXPECT_NE(r.err.find("cannot parse widths"), std::string::npos) << r.err;
  }
  const CliRun r = edgeint8("fixedpoint overflow --regime sometimes");
  EXPECT_EQ(r.rc, 1);
}

TEST(OverflowCli, JsonAndCsvAtTheExtremeWidths) {
  const std::string csv =
      ::testing::TempDir() + "ei8_overflow_" + std::to_string(getpid()) + ".csv";
  const CliRun r =
      edgeint8("fixedpoint overflow --widths 2,64 --regime uniform --json --csv " + csv);
  ASSERT_EQ(r.rc, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  const auto& layers = j["regimes"][0]["layers"];
  ASSERT_EQ(layers.size(), 7u);
  for (const auto& l : layers) {
    // 64 bits: exact for both policies; 2 bits: almost everything changes.
    EXPECT_EQ(l["points"][2]["changed"], 0);
    EXPECT_EQ(l["points"][3]["changed"], 0);
    EXPECT_GT(l["points"][0]["fraction_changed"].get<double>(), 0.5);
  }
  const std::string text = slurp(csv);
  EXPECT_EQ(text.rfind("regime,layer,K,", 0), 0u);
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 1 + 7 * 2 * 2);
}

// ---- the model's real layers ----

const std::string kTestData = std::string(EI8_TEST_DATA_DIR);

TEST(BitGrowthCli, EveryLayerOfAModelWithItsK) {
  // PyTorch's SignalCNN of tests/data/models: Conv1d(1,8,5), Conv1d(8,16,5), Conv1d(16,32,3),
  // Linear(32,5).
  CliRun r = edgeint8("fixedpoint bitgrowth " + kTestData + "/models/signal_cnn1d.onnx --json");
  ASSERT_EQ(r.rc, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j["layers"].size(), 4u);
  const int64_t k[] = {5, 40, 48, 32};
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(j["layers"][i]["K"], k[i]);
    EXPECT_EQ(j["layers"][i]["operands"], "u8xs8");  // a float model: assumed
    EXPECT_FALSE(j["layers"][i].contains("weight_bound_bits"));
  }
  // A QDQ file: the weight-dependent bound from its int8 weights; with calibration data the
  // bits reached too, never above it.
  const std::string qdq = kTestData + "/qdq/qdq_perchannel";
  r = edgeint8("fixedpoint bitgrowth " + qdq + ".onnx --json --calib-data " + qdq + ".input.npy");
  ASSERT_EQ(r.rc, 0) << r.err;
  j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j["layers"].size(), 2u);
  EXPECT_EQ(j["layers"][0]["K"], 36);
  for (const auto& l : j["layers"]) {
    ASSERT_TRUE(l.contains("weight_bound_bits")) << l.dump();
    ASSERT_TRUE(l.contains("observed_bits")) << l.dump();
    EXPECT_LE(l["observed_bits"].get<int>(), l["weight_bound_bits"].get<int>());
    EXPECT_LE(l["weight_bound_bits"].get<int>(), l["worst_case_bits"].get<int>() + 1);
  }
}

TEST(BitGrowthCli, MismatchedCalibrationDataIsOneLineNamingFileAndShape) {
  const std::string npy = kTestData + "/qdq/qdq_perchannel.input.npy";
  const CliRun r = edgeint8("fixedpoint bitgrowth " + kTestData +
                            "/models/signal_cnn1d.onnx --calib-data " + npy);
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.err.find("qdq_perchannel.input.npy"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("128]"), std::string::npos) << r.err;  // the expected sample shape
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  const CliRun missing = edgeint8("fixedpoint bitgrowth " + kTestData +
                                  "/models/signal_cnn1d.onnx --calib-data /nonexistent.npy");
  EXPECT_EQ(missing.rc, 1);
  EXPECT_NE(missing.err.find("/nonexistent.npy"), std::string::npos) << missing.err;
  const CliRun both = edgeint8("fixedpoint bitgrowth " + kTestData +
                               "/models/signal_cnn1d.onnx --topology " + kData +
                               "project_layers.csv");
  EXPECT_EQ(both.rc, 1);
}

TEST(OverflowCli, ModelLayersOnCalibrationData) {
  const std::string qdq = kTestData + "/qdq/qdq_pertensor";
  const CliRun r = edgeint8("fixedpoint overflow " + qdq + ".onnx --calib-data " + qdq +
                            ".input.npy --widths 8,12,32 --json");
  ASSERT_EQ(r.rc, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j["layers"].size(), 2u);
  for (const auto& l : j["layers"]) {
    ASSERT_EQ(l["points"].size(), 6u);
    EXPECT_EQ(l["points"][4]["changed"], 0);  // 32 bits: exact, both policies
    EXPECT_EQ(l["points"][5]["changed"], 0);
    EXPECT_GT(l["points"][0]["changed"].get<int>(), 0);  // 8 bits overflow
  }
  const CliRun no_data = edgeint8("fixedpoint overflow " + qdq + ".onnx");
  EXPECT_EQ(no_data.rc, 1);
  EXPECT_NE(no_data.err.find("--calib-data"), std::string::npos) << no_data.err;
}

TEST(VerifyCli, LastLineCountsAtLeastTwentyPassedNoneFailed) {
  const CliRun r = edgeint8("fixedpoint verify");
  ASSERT_EQ(r.rc, 0) << r.out << r.err;
  const size_t last = r.out.rfind('\n', r.out.size() - 2);
  const std::string line = r.out.substr(last + 1);
  int passed = -1, failed = -1, skipped = -1;
  ASSERT_EQ(
      std::sscanf(line.c_str(), "%d passed, %d failed, %d skipped", &passed, &failed, &skipped), 3)
      << line;
  EXPECT_GE(passed, 20);
  EXPECT_EQ(failed, 0);
  const CliRun none = edgeint8("fixedpoint verify --filter no-such-case");
  EXPECT_EQ(none.rc, 1);
  EXPECT_EQ(edgeint8("fixedpoint verify --help").rc, 0);
}

}  // namespace
