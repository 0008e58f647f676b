#include "ei8/quant/calib_table.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <string>

#include "ei8/core/npy.h"

namespace ei8::quant {
namespace {

CalibTable sample_table() {
  CalibTable t;
  t.samples = 12;
  CalibEntry a;
  a.name = "conv1/relu:0";
  a.method = CalibMethod::kEntropy;
  a.min = 0.0f;
  a.max = 0.1f;  // not a short binary fraction: must survive exactly
  a.observed_min = 0.0f;
  a.observed_max = 3.3333333f;
  a.values = 123456789012ull;
  a.batches = 12;
  a.parameters = {
      {"scheme", std::string("asymmetric")}, {"levels", int64_t{128}}, {"bins", int64_t{2048}}};
  a.diagnostics = {{"kl", 0.0123456789}, {"chosen_bins", int64_t{1733}}, {"bin_width", 1e-7}};
  CalibEntry b;
  b.name = "input \"x\"";
  b.method = CalibMethod::kMinMax;
  b.min = -1.17549435e-38f;
  b.max = 3.40282347e38f;
  b.observed_min = b.min;
  b.observed_max = b.max;
  b.values = 0;
  b.batches = 0;
  t.entries = {a, b};
  return t;
}

TEST(CalibTable, RoundTripIsExact) {
  const CalibTable t = sample_table();
  const std::string text = serialize_calib_table(t);
  Result<CalibTable> back = parse_calib_table(text, "mem.json");
  ASSERT_TRUE(back.ok()) << back.status().message();
  ASSERT_EQ(back->entries.size(), 2u);
  EXPECT_EQ(back->samples, 12);
  for (size_t i = 0; i < 2; ++i) {
    const CalibEntry& want = t.entries[i];
    const CalibEntry& got = back->entries[i];
    EXPECT_EQ(got.name, want.name);
    EXPECT_EQ(got.method, want.method);
    EXPECT_EQ(std::bit_cast<uint32_t>(got.min), std::bit_cast<uint32_t>(want.min));
    EXPECT_EQ(std::bit_cast<uint32_t>(got.max), std::bit_cast<uint32_t>(want.max));
    EXPECT_EQ(got.observed_max, want.observed_max);
    EXPECT_EQ(got.values, want.values);
    EXPECT_EQ(got.batches, want.batches);
    EXPECT_EQ(got.parameters, want.parameters);
    EXPECT_EQ(got.diagnostics, want.diagnostics);
  }
  EXPECT_EQ(serialize_calib_table(back.value()), text);  // stable under a round trip
  ASSERT_NE(back->find("conv1/relu:0"), nullptr);
  EXPECT_EQ(back->find("nope"), nullptr);
}

TEST(CalibTable, WritesAndReadsFiles) {
  const std::string path =
      (std::filesystem::temp_directory_path() / "ei8_calib_table_test.json").string();
  ASSERT_TRUE(write_calib_table(path, sample_table()).ok());
  Result<CalibTable> back = read_calib_table(path);
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(back->entries.size(), 2u);
  std::filesystem::remove(path);
  Result<CalibTable> missing = read_calib_table(path);
  EXPECT_FALSE(missing.ok());
}

// Replaces the first occurrence of `from` in the serialized sample table.
std::string corrupt(std::string_view from, std::string_view to) {
  std::string text = serialize_calib_table(sample_table());
  const size_t pos = text.find(from);
  EXPECT_NE(pos, std::string::npos) << from;
  if (pos != std::string::npos) text.replace(pos, from.size(), to);
  return text;
}

void expect_error(const std::string& text, std::string_view fragment) {
  Result<CalibTable> r = parse_calib_table(text, "calib.json");
  ASSERT_FALSE(r.ok()) << "accepted a table that should fail with: " << fragment;
  EXPECT_NE(r.status().message().find(fragment), std::string::npos) << r.status().message();
  EXPECT_EQ(r.status().message().rfind("calib.json:", 0), 0u) << r.status().message();
}

TEST(CalibTable, BadFilesAreClearErrors) {
  expect_error("{\n  \"format\": \n",
               "calib.json:3: cannot read calibration table: JSON = invalid");
  expect_error("[1, 2]", "document = not an object");
  expect_error(corrupt("edgeint8-calibration-table", "tensorrt-cache"),
               "format = \"tensorrt-cache\", must be \"edgeint8-calibration-table\"");
  expect_error(corrupt("\"version\": 1", "\"version\": 7"), "version = 7, must be 1");
  expect_error(corrupt("\"samples\": 12", "\"samples\": -3"), "samples = -3");
  expect_error(corrupt("\"method\": \"entropy\"", "\"method\": \"kl\""),
               "tensors[0].method = \"kl\", must be one of");
  // min > max: the message points at the tensor's line.
  {
    const std::string text = corrupt("\"max\": 0.10000000149011612", "\"max\": -1.0");
    const size_t line =
        1 +
        std::count(text.begin(), text.begin() + static_cast<long>(text.find("conv1/relu:0")), '\n');
    expect_error(
        text,
        fmt::format(
            "calib.json:{}: cannot read calibration table: tensors[0].min = 0, must be ≤ max = -1",
            line));
  }
  expect_error(corrupt("\"min\": 0.0", "\"min\": \"zero\""),
               "tensors[0].min = \"zero\", must be a finite number");
  expect_error(corrupt("\"values\": 123456789012", "\"values\": -5"), "tensors[0].values = -5");
  expect_error(corrupt("\"name\": \"input \\\"x\\\"\"", "\"name\": \"conv1/relu:0\""),
               "tensors[1].name = \"conv1/relu:0\", must be unique");
  expect_error(corrupt("\"name\": \"conv1/relu:0\",", ""), "tensors[0].name = missing");
  expect_error(corrupt("\"levels\": 128", "\"levels\": [1]"), "tensors[0].parameters.levels = [1]");
  expect_error(corrupt("\"max\": 3.4028234663852886e+38", "\"max\": 1e39"),
               "must be a finite float32");
}

}  // namespace
}  // namespace ei8::quant
