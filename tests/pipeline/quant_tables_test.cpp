// The quant module's plain results turned into tables (pipeline/quant_tables.h).
#include "ei8/pipeline/quant_tables.h"

#include <gtest/gtest.h>

#include <unistd.h>
#include <cmath>

#include <filesystem>

namespace ei8::pipeline {
namespace {

TEST(QuantTables, SweepRowsWithMissingValuesSayNa) {
  quant::SweepResult r;
  r.fp32_accuracy = NAN;
  r.statistics_seconds = 0.5;
  quant::SweepRow row;
  row.accuracy = NAN;
  row.drop_points = NAN;
  row.agreement = 0.75;
  row.latency_b1_us = NAN;
  row.latency_b32_us = 12.0;
  row.search_seconds = 0.25;
  row.peak_memory_bytes = -1;
  r.rows = {row, row};
  const report::Table t = sweep_table(r);
  ASSERT_EQ(t.num_rows(), 2u);
  EXPECT_EQ(t.text(0, "accuracy_pct").value(), "n/a");
  EXPECT_EQ(t.text(0, "latency_b1_us").value(), "n/a");
  EXPECT_EQ(t.text(0, "peak_memory_mb").value(), "n/a");
  EXPECT_DOUBLE_EQ(t.number(1, "agreement_pct").value(), 75.0);
  EXPECT_DOUBLE_EQ(t.number(1, "calibration_seconds").value(), 0.75);  // statistics + search
}

TEST(QuantTables, MixedPrecisionMarksTheStepsWithinTarget) {
  quant::MixedPrecisionResult r;
  r.target_drop_points = 0.3;
  r.steps.resize(2);
  r.steps[0].drop_points = 1.0;
  r.steps[0].model_bytes = 100;
  r.steps[1].drop_points = 0.2;
  r.steps[1].float_layers = {"conv2"};
  r.steps[1].model_bytes = 150;
  const report::Table t = mixed_precision_table(r);
  ASSERT_EQ(t.num_rows(), 2u);
  EXPECT_EQ(t.text(0, "within_target").value(), "no");
  EXPECT_EQ(t.text(1, "within_target").value(), "yes");
  EXPECT_EQ(t.text(1, "added_layer").value(), "conv2");
  EXPECT_DOUBLE_EQ(t.number(1, "bytes_vs_all_int8").value(), 1.5);
}

TEST(QuantTables, SensitivityIsSortedByRankAndWrittenAsFourFiles) {
  quant::SensitivityReport r;
  r.fp32_accuracy = NAN;
  r.layers = {{.node = "a", .op_type = "Conv", .rank = 2},
              {.node = "b", .op_type = "Gemm", .rank = 1}};
  r.errors = {{.node = "a", .op_type = "Conv", .output = "y", .sqnr_db = INFINITY}};
  r.histograms = {{.tensor = "x", .bin = 0, .lo = -1, .hi = 1, .count = 7}};
  r.thresholds = {{.tensor = "x", .method = quant::CalibMethod::kMse, .min = -1, .max = 1}};
  const report::Table s = sensitivity_table(r);
  ASSERT_EQ(s.num_rows(), 2u);
  EXPECT_EQ(s.text(0, "node").value(), "b");
  EXPECT_EQ(s.text(0, "fp32_accuracy_pct").value(), "n/a");
  EXPECT_EQ(layer_error_table(r).text(0, "sqnr_db").value(), "inf");
  EXPECT_DOUBLE_EQ(histogram_table(r.histograms).number(0, "count").value(), 7.0);
  EXPECT_EQ(threshold_table(r.thresholds).text(0, "method").value(), "mse");
  const std::string dir = ::testing::TempDir() + "ei8_quant_tables_" + std::to_string(getpid());
  ASSERT_TRUE(write_sensitivity(r, dir).ok());
  for (const char* f : {"sensitivity.csv", "layer_error.csv", "tensor_histograms.csv",
                        "calib_thresholds.csv", "sensitivity.json"}) {
    EXPECT_TRUE(std::filesystem::exists(dir + "/" + f)) << f;
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace ei8::pipeline
