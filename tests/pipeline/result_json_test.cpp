// pipeline/result_json.h: the JSON the CLI prints and the Python module returns, on hand-built
// results — keys in their order, non-finite numbers as null, the optional parts present exactly
// when they apply.
#include "ei8/pipeline/result_json.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace ei8::pipeline {
namespace {

quant::Comparison comparison(double sqnr, double lsb) {
  quant::Comparison c;
  c.a_source = "float a.onnx";
  c.b_source = "int8 b.onnx";
  quant::TensorComparison t;
  t.name = "conv1";
  t.shape = {1, 4, 2, 2};
  t.elements = 16;
  t.sqnr_db = sqnr;
  t.cosine = 0.5;
  t.max_abs = 0.25;
  t.lsb = lsb;
  t.max_abs_lsb = 2.0;
  t.beyond_1lsb = 0.125;
  t.diverged = true;
  c.tensors.push_back(t);
  c.first_divergence = quant::Divergence{"conv1", 5, {0, 1, 0, 1}, 1.5, 1.25};
  c.only_b = {"extra"};
  return c;
}

TEST(ResultJson, CompareKeysOrderNullsAndTheLayerPart) {
  const double inf = std::numeric_limits<double>::infinity();
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const nlohmann::ordered_json g = compare_json(comparison(inf, nan), std::nullopt, 1.0);
  std::vector<std::string> keys;
  for (const auto& [k, v] : g.items()) keys.push_back(k);
  EXPECT_EQ(keys, (std::vector<std::string>{"a", "b", "tensors", "first_divergence", "only_a",
                                            "only_b", "mode", "tolerance_lsb"}));
  EXPECT_EQ(g["mode"], "graph");
  EXPECT_TRUE(g["tensors"][0]["sqnr_db"].is_null());  // +inf: identical
  EXPECT_TRUE(g["tensors"][0]["lsb"].is_null());      // NaN: float in both
  EXPECT_EQ(g["tensors"][0]["max_abs_lsb"], 2.0);
  EXPECT_EQ(g["tensors"][0]["shape"], nlohmann::ordered_json({1, 4, 2, 2}));
  EXPECT_EQ(g["first_divergence"]["index"], nlohmann::ordered_json({0, 1, 0, 1}));
  EXPECT_EQ(g["first_divergence"]["flat_index"], 5);
  EXPECT_EQ(g["only_b"][0], "extra");
  EXPECT_FALSE(g.contains("layer"));
  // Only layer-wise: its comparison is the document, mode "layer".
  quant::Comparison none = comparison(12.5, 0.1);
  none.first_divergence.reset();
  const nlohmann::ordered_json l = compare_json(std::nullopt, none, 2.0);
  EXPECT_EQ(l["mode"], "layer");
  EXPECT_EQ(l["tensors"][0]["sqnr_db"], 12.5);
  EXPECT_TRUE(l["first_divergence"].is_null());
  EXPECT_EQ(l["tolerance_lsb"], 2.0);
  // Both: graph-wise at the top, layer-wise under "layer".
  const nlohmann::ordered_json b = compare_json(comparison(3.0, 0.1), none, 1.0);
  EXPECT_EQ(b["mode"], "graph");
  EXPECT_EQ(b["tensors"][0]["sqnr_db"], 3.0);
  EXPECT_EQ(b["layer"]["tensors"][0]["sqnr_db"], 12.5);
  EXPECT_FALSE(b["layer"].contains("mode"));
}

TEST(ResultJson, BitGrowthOptionalPartsAndFitsWidth) {
  quant::ModelFixedPoint r;
  r.quantized_here = true;
  r.calib_samples = 24;
  quant::LayerFixedPoint full;
  full.node = "conv";
  full.op_type = "Conv";
  full.k = 27;
  full.operands = fixedpoint::OperandKind::kU8S8;
  full.bound.product_bits = 17;
  full.bound.accumulator_bits = 22;
  full.bound.recommended_width = 32;
  full.has_weight_bound = true;
  full.weight_bound_bits = 19;
  full.has_observed = true;
  full.observed_bits = 15;
  quant::LayerFixedPoint bare = full;
  bare.node = "fc";
  bare.has_weight_bound = bare.has_observed = false;
  bare.note = "no calibration data";
  r.layers = {full, bare};
  r.skipped.push_back({"odd", "MatMul", "rank-3 weights"});
  const nlohmann::json j = bitgrowth_json("m.onnx", r, 20);
  EXPECT_EQ(j["model"], "m.onnx");
  EXPECT_EQ(j["calibration_samples"], 24);
  EXPECT_EQ(j["quantized_from_calibration"], true);
  ASSERT_EQ(j["layers"].size(), 2u);
  EXPECT_EQ(j["layers"][0]["operands"], "u8xs8");
  EXPECT_EQ(j["layers"][0]["K"], 27);
  EXPECT_EQ(j["layers"][0]["weight_bound_bits"], 19);
  EXPECT_EQ(j["layers"][0]["observed_bits"], 15);
  EXPECT_FALSE(j["layers"][0].contains("note"));
  EXPECT_EQ(j["layers"][0]["fits_width"], false);  // 22 bits > 20
  EXPECT_FALSE(j["layers"][1].contains("weight_bound_bits"));
  EXPECT_FALSE(j["layers"][1].contains("observed_bits"));
  EXPECT_EQ(j["layers"][1]["note"], "no calibration data");
  EXPECT_EQ(j["skipped"][0]["reason"], "rank-3 weights");
  EXPECT_FALSE(bitgrowth_json("m.onnx", r, std::nullopt)["layers"][0].contains("fits_width"));
  EXPECT_EQ(bitgrowth_json("m.onnx", r, 22)["layers"][0]["fits_width"], true);
}

TEST(ResultJson, SimLayersInOrder) {
  std::vector<arch::Layer> layers(2);
  layers[0].name = "c1";
  layers[1].name = "c2";
  std::vector<arch::LayerStats> stats(2);
  stats[0].total_cycles = 100;
  stats[1].total_cycles = 250;
  stats[1].overall_util = 37.5;
  stats[1].dram_ofmap_writes = 9;
  const nlohmann::json j = sim_json("run", "out/run", 1, layers, stats);
  EXPECT_EQ(j["run_name"], "run");
  EXPECT_EQ(j["report_dir"], "out/run");
  ASSERT_EQ(j["layers"].size(), 2u);
  EXPECT_EQ(j["layers"][1]["id"], 1);
  EXPECT_EQ(j["layers"][1]["name"], "c2");
  EXPECT_EQ(j["layers"][1]["total_cycles"], 250);
  EXPECT_EQ(j["layers"][1]["overall_util_pct"], 37.5);
  EXPECT_EQ(j["layers"][1]["dram_ofmap_writes"], 9);
}

}  // namespace
}  // namespace ei8::pipeline
