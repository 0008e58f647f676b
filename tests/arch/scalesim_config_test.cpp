#include "ei8/arch/scalesim_config.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "ei8/arch/scalesim_report.h"
#include "ei8/arch/workload.h"

namespace ei8::arch {
namespace {

constexpr const char* kUser = R"([general]
run_name = my_run

[architecture_presets]
ArrayHeight:    8
arraywidth =    16
IfmapSramSzkB:    16
FilterSramSzkB:   32
OfmapSramSzkB:    8
IfmapOffset:    0
FilterOffset:   10000000
OfmapOffset:    20000000
Bandwidth : 10, 20
Dataflow : is
MemoryBanks: 1
# a comment
[run_presets]
InterfaceBandwidth: USER
)";

TEST(ScaleSimConfig, ReadsKeysCaseInsensitivelyWithColonOrEquals) {
  Result<ScaleSimConfig> c = parse_scalesim_config(kUser, "u.cfg");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->run_name, "my_run");
  EXPECT_EQ(c->array.rows, 8);
  EXPECT_EQ(c->array.cols, 16);
  EXPECT_EQ(c->array.ifmap_sram_kb, 16);
  EXPECT_EQ(c->array.filter_sram_kb, 32);
  EXPECT_EQ(c->array.ofmap_sram_kb, 8);
  EXPECT_EQ(c->array.dataflow, Dataflow::kIs);
  EXPECT_EQ(c->array.mode, BandwidthMode::kUser);
  EXPECT_EQ(c->bandwidths, (std::vector<int64_t>{10, 20}));
  EXPECT_EQ(c->array.bandwidth, 10);  // only the first value is used, as in SCALE-Sim v2
  EXPECT_EQ(c->filter_offset, 10000000);
  ASSERT_EQ(c->warnings.size(), 1u);
}

TEST(ScaleSimConfig, CalcModeNeedsNoBandwidthAndRoundTrips) {
  std::string text = kUser;
  text.replace(text.find("Bandwidth : 10, 20\n"), 19, "");
  text.replace(text.find("USER"), 4, "CALC");
  Result<ScaleSimConfig> c = parse_scalesim_config(text, "c.cfg");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->array.mode, BandwidthMode::kCalc);
  Result<ScaleSimConfig> back = parse_scalesim_config(format_scalesim_config(*c), "back.cfg");
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(back->array, c->array);
  EXPECT_EQ(back->run_name, c->run_name);
}

std::string error_of(std::string text, const std::string& from, const std::string& to) {
  text.replace(text.find(from), from.size(), to);
  Result<ScaleSimConfig> c = parse_scalesim_config(text, "x.cfg");
  EXPECT_FALSE(c.ok());
  return c.ok() ? "" : c.status().message();
}

TEST(ScaleSimConfig, BadInputGivesFileLineWhatAndWhy) {
  EXPECT_EQ(error_of(kUser, "Dataflow : is", "Dataflow : rs"),
            "x.cfg:14: cannot parse dataflow: Dataflow = 'rs', must be ws, os or is");
  EXPECT_EQ(error_of(kUser, "Dataflow : is\n", ""),
            "x.cfg:4: cannot read config: key Dataflow in [architecture_presets] is missing, must "
            "be present (SCALE-Sim has no defaults)");
  EXPECT_EQ(error_of(kUser, "USER", "FAST"),
            "x.cfg:18: cannot read config: InterfaceBandwidth = 'FAST', must be USER or CALC");
  EXPECT_EQ(error_of(kUser, "ArrayHeight:    8", "ArrayHeight:    0"),
            "x.cfg:5: cannot read config: ArrayHeight = 0, must be >= 1");
  EXPECT_EQ(error_of(kUser, "16\nFilterSramSzkB", "16kB\nFilterSramSzkB"),
            "x.cfg:7: cannot read config: IfmapSramSzkB = '16kB', must be an integer");
  EXPECT_EQ(error_of(kUser, "Bandwidth : 10, 20", "Bandwidth : 10,,20"),
            "x.cfg:13: cannot read config: Bandwidth = '', must be an integer");
  EXPECT_NE(error_of(kUser, "[general]", "[genera]").find("section [general] is missing"),
            std::string::npos);
  EXPECT_NE(error_of(kUser, "[general]\n", "")
                .find("x.cfg:1: cannot read config: line = "
                      "'run_name = my_run', must follow a section"),
            std::string::npos);
  EXPECT_NE(error_of(kUser, "MemoryBanks: 1", "MemoryBanks: 1\nmemorybanks: 2")
                .find("x.cfg:16: cannot read config: key = memorybanks, must appear only once"),
            std::string::npos);
  EXPECT_FALSE(read_scalesim_config("/nonexistent/dir/x.cfg").ok());
}

TEST(PythonFloatRepr, MatchesPythonRepr) {
  // Expected strings printed by CPython 3.11 repr().
  const std::pair<double, const char*> cases[] = {
      {100.0, "100.0"},
      {94.53125, "94.53125"},
      {90.78000992063485, "90.78000992063485"},
      {1e-05, "1e-05"},
      {0.0001, "0.0001"},
      {1e16, "1e+16"},
      {1234567890123456.0, "1234567890123456.0"},
      {-820.0, "-820.0"},
      {2.083333333333306, "2.083333333333306"},
      {5e-324, "5e-324"},
      {1.7976931348623157e308, "1.7976931348623157e+308"},
      {0.1, "0.1"},
      {123456789.125, "123456789.125"},
      {1e22, "1e+22"},
      {0.00012345, "0.00012345"},
      {0.0, "0.0"},
  };
  for (const auto& [v, s] : cases) EXPECT_EQ(python_float_repr(v), s);
}

TEST(Reports, WriteCreatesDirectoriesAndAllThreeFiles) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / "ei8_report_test" / "a" / "run";
  fs::remove_all(dir.parent_path().parent_path());
  LayerStats s;
  s.total_cycles = 10;
  s.dram_ifmap_stop = 1;
  s.dram_filter_stop = 1;
  s.dram_ofmap_stop = 1;
  ASSERT_TRUE(write_reports(format_reports({s}), dir.string()).ok());
  for (const char* f :
       {"COMPUTE_REPORT.csv", "BANDWIDTH_REPORT.csv", "DETAILED_ACCESS_REPORT.csv"}) {
    EXPECT_TRUE(fs::exists(dir / f)) << f;
  }
  EXPECT_FALSE(fs::exists(dir / ".COMPUTE_REPORT.csv.tmp"));
  fs::remove_all(dir.parent_path().parent_path());
}

TEST(Workload, ConvPaddingIsFoldedAndTrimmedToTheModelOutputSize) {
  Workload w;
  // 32×32, 3×3, stride 2, pad 1: model output 16×16; padded 34 → trimmed to 33 so that
  // SCALE-Sim's ceil((33 − 3 + 2) / 2) = 16 (untrimmed 34 would give 17).
  ASSERT_TRUE(append_conv(w, {.name = "c",
                              .in_h = 32,
                              .in_w = 32,
                              .in_c = 3,
                              .k_h = 3,
                              .k_w = 3,
                              .out_c = 8,
                              .stride_h = 2,
                              .stride_w = 2,
                              .pad = {1, 1, 1, 1}})
                  .ok());
  ASSERT_EQ(w.layers.size(), 1u);
  EXPECT_EQ(w.layers[0].ifmap_h, 33);
  EXPECT_EQ(w.layers[0].ofmap_h(), 16);
  EXPECT_EQ(w.layers[0].ofmap_w(), 16);
  EXPECT_EQ(w.layers[0].macs(), 16 * 16 * 27 * 8);
}

TEST(Workload, GroupedDepthwiseOneDimensionalAndGemm) {
  Workload w;
  ASSERT_TRUE(append_conv(w, {.name = "dw",
                              .in_h = 8,
                              .in_w = 8,
                              .in_c = 4,
                              .k_h = 3,
                              .k_w = 3,
                              .out_c = 8,
                              .pad = {1, 1, 1, 1},
                              .groups = 4})
                  .ok());
  ASSERT_EQ(w.layers.size(), 4u);
  EXPECT_EQ(w.layers[3].name, "dw_g3");
  EXPECT_EQ(w.layers[3].channels, 1);
  EXPECT_EQ(w.layers[3].num_filters, 2);
  EXPECT_EQ(w.layers[3].ofmap_pixels(), 64);
  ASSERT_TRUE(append_conv(w, {.name = "c1d",
                              .in_h = 1,
                              .in_w = 128,
                              .in_c = 1,
                              .k_h = 1,
                              .k_w = 5,
                              .out_c = 16,
                              .stride_w = 2,
                              .pad = {0, 2, 0, 2}})
                  .ok());
  EXPECT_EQ(w.layers[4].ifmap_h, 1);
  EXPECT_EQ(w.layers[4].ofmap_w(), 64);  // floor((132 − 5) / 2) + 1
  ASSERT_TRUE(append_gemm(w, "fc", 1, 10, 2048).ok());
  EXPECT_EQ(w.layers[5].window(), 2048);
  EXPECT_EQ(w.layers[5].ofmap_pixels(), 1);
  EXPECT_EQ(w.layers[5].macs(), 20480);
  EXPECT_FALSE(append_conv(w, {.name = "g", .in_c = 3, .out_c = 4, .groups = 2}).ok());
  EXPECT_FALSE(
      append_conv(w, {.name = "d", .in_h = 9, .in_w = 9, .k_h = 3, .k_w = 3, .dilation_h = 2})
          .ok());
  EXPECT_FALSE(append_conv(w, {.name = "k", .in_h = 2, .in_w = 9, .k_h = 3, .k_w = 3}).ok());
  EXPECT_EQ(load_workload("model.onnx", TopologyFormat::kConv).status().code(),
            StatusCode::kUnsupported);
}

}  // namespace
}  // namespace ei8::arch
