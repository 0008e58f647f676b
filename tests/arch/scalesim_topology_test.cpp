#include "ei8/arch/scalesim_topology.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace ei8::arch {
namespace {

Topology parse_ok(std::string_view text, TopologyFormat f = TopologyFormat::kConv) {
  Result<Topology> t = parse_topology_csv(text, "t.csv", f);
  EXPECT_TRUE(t.ok()) << t.status().message();
  return t.ok() ? *t : Topology{};
}

std::string parse_error(std::string_view text, TopologyFormat f = TopologyFormat::kConv) {
  Result<Topology> t = parse_topology_csv(text, "t.csv", f);
  EXPECT_FALSE(t.ok());
  return t.ok() ? "" : t.status().message();
}

TEST(Topology, ReadsConvRowsWithOneOrTwoStrides) {
  const Topology t = parse_ok(
      "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, "
      "Strides,\n"
      "Conv1, 224, 224, 11, 11, 3, 96, 4,\n"
      "\n"
      "  Conv2 ,31,31,5,5,96,256,1,2,\n");
  ASSERT_EQ(t.layers.size(), 2u);
  const Layer& a = t.layers[0];
  EXPECT_EQ(a.name, "Conv1");
  EXPECT_EQ(a.line, 2);
  EXPECT_EQ(a.ifmap_h, 224);
  EXPECT_EQ(a.filter_w, 11);
  EXPECT_EQ(a.channels, 3);
  EXPECT_EQ(a.num_filters, 96);
  EXPECT_EQ(a.stride_h, 4);
  EXPECT_EQ(a.stride_w, 4);
  // ceil((224 − 11 + 4) / 4) = ceil(54.25) = 55
  EXPECT_EQ(a.ofmap_h(), 55);
  EXPECT_EQ(a.window(), 11 * 11 * 3);
  EXPECT_EQ(a.macs(), 55 * 55 * 363 * 96);
  const Layer& b = t.layers[1];
  EXPECT_EQ(b.name, "Conv2");
  EXPECT_EQ(b.line, 4);
  EXPECT_EQ(b.stride_h, 1);
  EXPECT_EQ(b.stride_w, 2);
  EXPECT_EQ(b.ofmap_h(), 27);
  EXPECT_EQ(b.ofmap_w(), 14);  // ceil((31 − 5 + 2) / 2) = 14
  EXPECT_TRUE(t.warnings.empty());
}

TEST(Topology, CeilOutputSizeAddsAPartialRow) {
  // (8 − 3) = 5 is not a multiple of 2: floor gives 3 outputs, SCALE-Sim's ceil gives 4.
  const Topology t = parse_ok("h,\nc, 8, 8, 3, 3, 1, 1, 2,\n");
  EXPECT_EQ(t.layers[0].ofmap_h(), 4);
  EXPECT_EQ(t.layers[0].ofmap_w(), 4);
}

TEST(Topology, HeaderIsSkippedEvenWhenItLooksLikeData) {
  const Topology t = parse_ok("c0, 4, 4, 1, 1, 1, 1, 1,\nc1, 5, 5, 1, 1, 1, 1, 1,\n");
  ASSERT_EQ(t.layers.size(), 1u);
  EXPECT_EQ(t.layers[0].name, "c1");
  // A blank first line is the header too, so the next line is already data.
  EXPECT_EQ(parse_ok("\nc1, 5, 5, 1, 1, 1, 1, 1,\n").layers.size(), 1u);
}

TEST(Topology, DepthwiseRowsAreExpandedPerChannel) {
  const Topology t = parse_ok("h,\nConvDP1, 10, 12, 3, 3, 4, 7, 1,\nx, 3, 3, 1, 1, 2, 2, 1,\n");
  ASSERT_EQ(t.layers.size(), 5u);
  for (int c = 0; c < 4; ++c) {
    EXPECT_EQ(t.layers[c].name, "ConvDP1Channel_" + std::to_string(c));
    EXPECT_EQ(t.layers[c].channels, 1);
    EXPECT_EQ(t.layers[c].num_filters, 7);  // SCALE-Sim keeps NumFilters per channel layer
    EXPECT_EQ(t.layers[c].ifmap_w, 12);
    EXPECT_EQ(t.layers[c].line, 2);
  }
  EXPECT_EQ(t.layers[4].name, "x");
  // "dp" in lower case is not a depthwise marker.
  EXPECT_EQ(parse_ok("h,\nConvdp1, 10, 12, 3, 3, 4, 7, 1,\n").layers.size(), 1u);
}

TEST(Topology, GemmRowsMapToOneByKConvolutions) {
  const Topology t = parse_ok("Layer, M, N, K,\nfc1, 196, 64, 288,\n", TopologyFormat::kGemm);
  ASSERT_EQ(t.layers.size(), 1u);
  const Layer& l = t.layers[0];
  EXPECT_EQ(l.ifmap_h, 196);
  EXPECT_EQ(l.ifmap_w, 288);
  EXPECT_EQ(l.filter_h, 1);
  EXPECT_EQ(l.filter_w, 288);
  EXPECT_EQ(l.channels, 1);
  EXPECT_EQ(l.num_filters, 64);
  EXPECT_EQ(l.ofmap_pixels(), 196);  // E = M
  EXPECT_EQ(l.window(), 288);        // K
  EXPECT_EQ(l.macs(), 196 * 64 * 288);
  // In GEMM mode "DP" means nothing.
  EXPECT_EQ(parse_ok("h,\nDP, 2, 3, 4,\n", TopologyFormat::kGemm).layers.size(), 1u);
}

TEST(Topology, MissingTrailingCommaDropsTheLastValueLikeScaleSim) {
  // Nine values without the trailing comma: the width stride is dropped, StrideH is used for both.
  const Topology t = parse_ok("h,\nc, 9, 9, 3, 3, 1, 1, 1, 2\n");
  ASSERT_EQ(t.layers.size(), 1u);
  EXPECT_EQ(t.layers[0].stride_w, 1);
  ASSERT_EQ(t.warnings.size(), 1u);
  EXPECT_NE(t.warnings[0].find("t.csv:2:"), std::string::npos) << t.warnings[0];
  // Eight values without it: the stride is lost, which SCALE-Sim cannot run.
  const std::string e = parse_error("h,\nc, 9, 9, 3, 3, 1, 1, 1\n");
  EXPECT_NE(e.find("t.csv:2: cannot read layer 'c': fields = 7"), std::string::npos) << e;
  EXPECT_NE(e.find("trailing comma"), std::string::npos) << e;
}

TEST(Topology, BadRowsGiveFileLineWhatAndWhy) {
  EXPECT_NE(parse_error("h,\n\nc, 9, x9, 3, 3, 1, 1, 1,\n")
                .find("t.csv:3: cannot read layer 'c': "
                      "IfmapW = 'x9', must be an integer"),
            std::string::npos);
  EXPECT_NE(parse_error("h,\nc, 9, 9, 3, 3, 0, 1, 1,\n").find("Channels = 0, must be >= 1"),
            std::string::npos);
  EXPECT_NE(
      parse_error("h,\nc, 9, 9, 3, 3, -2, 1, 1,\n").find("Channels = -2, must be an integer >= 1"),
      std::string::npos);
  const std::string big = parse_error("h,\nok, 9, 9, 3, 3, 1, 1, 1,\nbig, 4, 9, 5, 3, 1, 1, 1,\n");
  EXPECT_NE(big.find("t.csv:3: cannot use layer 'big': FilterH = 5, must be <= IfmapH = 4"),
            std::string::npos)
      << big;
  EXPECT_NE(parse_error("h,\nc, 9, 2, 1, 3, 1, 1, 1,\n").find("FilterW = 3, must be <= IfmapW = 2"),
            std::string::npos);
  EXPECT_NE(
      parse_error("h,\nfc, 4, 5,\n", TopologyFormat::kGemm).find("fields = 3, must be at least 4"),
      std::string::npos);
  EXPECT_NE(parse_error("h,\nfc, 4, 5, 1.5,\n", TopologyFormat::kGemm).find("K = '1.5'"),
            std::string::npos);
}

TEST(Topology, FileRoundTripAndMissingFile) {
  const std::filesystem::path dir = std::filesystem::temp_directory_path() / "ei8_topology_test";
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "net.csv").string();
  std::vector<Layer> layers = {
      {"conv1", 34, 34, 3, 3, 3, 32, 1, 1, 0},
      {"fc", 1, 1, 1, 1, 2048, 10, 1, 1, 0},
      {"odd", 17, 9, 4, 2, 5, 3, 3, 2, 0},
  };
  ASSERT_TRUE(write_topology_csv(path, layers).ok());
  Result<Topology> back = read_topology_csv(path);
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(back->name, "net");
  ASSERT_EQ(back->layers.size(), layers.size());
  for (size_t i = 0; i < layers.size(); ++i) {
    layers[i].line = static_cast<int>(i) + 2;
    EXPECT_EQ(back->layers[i], layers[i]);
  }
  EXPECT_FALSE(write_topology_csv(path, {{"aDPb", 3, 3, 1, 1, 1, 1, 1, 1, 0}}).ok());
  Result<Topology> missing = read_topology_csv((dir / "nope.csv").string());
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  std::filesystem::remove_all(dir);
}

TEST(Topology, ParsesFormatNames) {
  EXPECT_EQ(*parse_topology_format("conv"), TopologyFormat::kConv);
  EXPECT_EQ(*parse_topology_format("gemm"), TopologyFormat::kGemm);
  EXPECT_FALSE(parse_topology_format("GEMM").ok());
}

}  // namespace
}  // namespace ei8::arch
