#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "ei8/arch/analytic_model.h"
#include "ei8/arch/dse.h"
#include "ei8/arch/energy.h"
#include "ei8/arch/roofline.h"
#include "ei8/core/rng.h"

namespace ei8::arch {
namespace {

const std::string kShare = std::string(EI8_TEST_DATA_DIR) + "/../../share";

Layer conv(std::string name, int64_t hw, int64_t k, int64_t c, int64_t n) {
  return {std::move(name), hw, hw, k, k, c, n, 1, 1, 0};
}

TEST(EnergyTable, ShippedFileEqualsBuiltInDefaults) {
  Result<EnergyTable> t = read_energy_table(kShare + "/energy/int8_edge_45nm.toml");
  ASSERT_TRUE(t.ok()) << t.status().message();
  const EnergyTable d = default_energy_table();
  EXPECT_EQ(t->mac_pj, d.mac_pj);
  EXPECT_EQ(t->dram_per_byte_pj, d.dram_per_byte_pj);
  EXPECT_EQ(t->sram_per_byte_at_8kb_pj, d.sram_per_byte_at_8kb_pj);
  EXPECT_EQ(t->pe_area_mm2, d.pe_area_mm2);
  EXPECT_EQ(t->sram_area_per_kb_mm2, d.sram_area_per_kb_mm2);
  EXPECT_GE(t->sources.size(), 4u);
  // The SRAM law: 1.25 pJ/B at 8 kB, ×2 per 4× size.
  EXPECT_DOUBLE_EQ(t->sram_byte_pj(8), 1.25);
  EXPECT_DOUBLE_EQ(t->sram_byte_pj(32), 2.5);
}

TEST(EnergyTable, UserTablesOverrideAndBadKeysAreErrors) {
  Result<EnergyTable> t =
      parse_energy_table("[energy_pj]\nmac = 1.5\n[area_mm2]\npe = 0.01\n", "u.toml");
  ASSERT_TRUE(t.ok()) << t.status().message();
  EXPECT_EQ(t->mac_pj, 1.5);
  EXPECT_EQ(t->pe_area_mm2, 0.01);
  EXPECT_EQ(t->dram_per_byte_pj, default_energy_table().dram_per_byte_pj);
  Result<EnergyTable> bad = parse_energy_table("[energy_pj]\nmac = 1\nmacc = 2\n", "b.toml");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("b.toml:3:"), std::string::npos) << bad.status().message();
  EXPECT_FALSE(parse_energy_table("[energy_pj]\nmac = -1\n", "n.toml").ok());
  EXPECT_FALSE(parse_energy_table("[energy_pj\n", "s.toml").ok());
}

TEST(Energy, ComponentsAreCountsTimesTable) {
  LayerStats s;
  s.macs = 1000;
  s.sram_ifmap_reads = 100;
  s.dram_ifmap_reads = 10;
  s.sram_filter_reads = 50;
  s.dram_filter_reads = 5;
  s.sram_ofmap_writes = 20;
  s.dram_ofmap_writes = 20;
  s.total_cycles = 77;
  ArrayConfig a;
  a.ifmap_sram_kb = 8;
  a.filter_sram_kb = 32;
  a.ofmap_sram_kb = 8;
  EnergyTable t = default_energy_table();
  t.sram_leakage_per_kb_cycle_pj = 0.5;
  const LayerEnergy e = layer_energy(t, action_counts(s), a);
  EXPECT_DOUBLE_EQ(e.mac, 1000 * 0.30);
  EXPECT_DOUBLE_EQ(e.array, 1000 * 2 * 0.07);
  EXPECT_DOUBLE_EQ(e.ifmap_sram, 110 * 1.25);
  EXPECT_DOUBLE_EQ(e.filter_sram, 55 * 2.5);
  EXPECT_DOUBLE_EQ(e.ofmap_sram, 40 * 1.25);
  EXPECT_DOUBLE_EQ(e.dram, 35 * 64.0);
  EXPECT_DOUBLE_EQ(e.leakage, 77 * 0.5 * 48);
  EXPECT_DOUBLE_EQ(e.total(), e.mac + e.array + e.ifmap_sram + e.filter_sram + e.ofmap_sram +
                                  e.dram + e.leakage);
  EXPECT_DOUBLE_EQ(area_mm2(t, a), 32 * 32 * t.pe_area_mm2 + 48 * t.sram_area_per_kb_mm2);
}

TEST(AnalyticModel, ComputeSideEqualsTheExactModelWhenNothingStalls) {
  // Large SRAMs and CALC mode: the exact model has no stall, so both engines agree on cycles,
  // utilisations and SRAM counts.
  for (Dataflow df : {Dataflow::kWs, Dataflow::kOs, Dataflow::kIs}) {
    ArrayConfig a;
    a.rows = 8;
    a.cols = 16;
    a.dataflow = df;
    a.ifmap_sram_kb = a.filter_sram_kb = a.ofmap_sram_kb = 1024;
    a.mode = BandwidthMode::kCalc;
    const Layer l = conv("c", 13, 3, 5, 19);
    Result<LayerStats> exact = simulate_layer(l, a);
    ASSERT_TRUE(exact.ok());
    const LayerStats est = estimate_layer(l, a);
    EXPECT_EQ(exact->stall_cycles, 0);
    EXPECT_EQ(est.total_cycles, exact->total_cycles);
    EXPECT_EQ(est.sram_ifmap_reads, exact->sram_ifmap_reads);
    EXPECT_EQ(est.sram_filter_reads, exact->sram_filter_reads);
    EXPECT_EQ(est.sram_ofmap_writes, exact->sram_ofmap_writes);
    EXPECT_DOUBLE_EQ(est.mapping_efficiency, exact->mapping_efficiency);
    EXPECT_DOUBLE_EQ(est.compute_util, exact->compute_util);
    // Fetched at least once: every filter word and every touched ifmap word.
    EXPECT_EQ(est.dram_filter_reads, 3 * 3 * 5 * 19);
    EXPECT_EQ(est.dram_ifmap_reads, 13 * 13 * 5);
  }
}

TEST(AnalyticModel, SlowDramMakesTheLayerMemoryBound) {
  ArrayConfig a;
  a.rows = a.cols = 32;
  a.bandwidth = 1;
  a.ifmap_sram_kb = a.filter_sram_kb = a.ofmap_sram_kb = 1024;
  const LayerStats s = estimate_layer(conv("c", 16, 3, 64, 64), a);
  const int64_t ideal = s.geometry.demand_rows - 1;
  // ws, K = 576 on 32 rows: 18 row folds each write the 14·14·64 partial sums, so the ofmap
  // interface (225792 words at 1 word/cycle) dominates the filter (36864) and the ifmap (16384).
  const int64_t ofmap_words = 14 * 14 * 64 * 18;
  EXPECT_EQ(s.dram_ofmap_writes, ofmap_words);
  EXPECT_EQ(s.total_cycles, std::max<int64_t>(ideal, ofmap_words));
  EXPECT_EQ(s.stall_ofmap, s.stall_cycles);
  const Roofline r = layer_roofline(s, a);
  EXPECT_EQ(r.bound, Bound::kMemory);
  EXPECT_NE(r.why.find("ofmap DRAM interface"), std::string::npos) << r.why;
  EXPECT_NEAR(r.intensity, double(s.macs) / double(16 * 16 * 64 + 36864 + ofmap_words), 1e-9);
}

TEST(Roofline, MappingLimitedLayerIsComputeBound) {
  ArrayConfig a;
  a.rows = a.cols = 64;
  a.mode = BandwidthMode::kCalc;
  Result<LayerStats> s = simulate_layer(conv("small_k", 12, 1, 3, 8), a);  // K = 3 of 64 rows
  ASSERT_TRUE(s.ok());
  const Roofline r = layer_roofline(*s, a);
  EXPECT_EQ(r.bound, Bound::kCompute);
  EXPECT_NE(r.why.find("limited by mapping"), std::string::npos) << r.why;
  EXPECT_DOUBLE_EQ(r.peak, 4096);
  EXPECT_NEAR(r.attained, double(s->macs) / double(s->total_cycles), 1e-12);
}

TEST(Pareto, FrontKeepsExactlyTheNonDominatedPoints) {
  auto pt = [](int64_t c, double e, double a) {
    PointResult p;
    p.cycles = c;
    p.energy_pj = e;
    p.area_mm2 = a;
    return p;
  };
  std::vector<PointResult> pts = {pt(10, 5, 1), pt(5, 10, 1), pt(10, 10, 1),
                                  pt(4, 4, 4),  pt(10, 5, 1), pt(3, 20, 0.5)};
  pts.push_back(pt(1, 1, 1));
  pts.back().feasible = false;  // infeasible points never enter the front
  const std::vector<size_t> f = pareto_front(pts);
  EXPECT_EQ(f, (std::vector<size_t>{5, 1, 0, 3}));  // by area, then cycles; duplicate 4 dropped
}

TEST(DesignSpace, ShippedDefaultParsesAndBadFilesAreRejected) {
  Result<DesignSpace> s = read_design_space(kShare + "/dse/default_space.toml");
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_EQ(s->points().size(), s->arrays.size() * 3 * s->srams.size() * s->bandwidths.size());
  EXPECT_EQ(s->evaluator, Evaluator::kAnalytic);
  const std::string ok =
      "arrays=[\"8x8\"]\ndataflows=[\"ws\"]\nsram_kb=[[8,8,4]]\nbandwidths=[10]\n";
  EXPECT_TRUE(parse_design_space(ok, "ok.toml").ok());
  Result<DesignSpace> bad_df = parse_design_space(ok + "dataflows2 = 1\n", "b.toml");
  ASSERT_FALSE(bad_df.ok());
  EXPECT_NE(bad_df.status().message().find("b.toml:5:"), std::string::npos);
  std::string t = ok;
  t.replace(t.find("\"ws\""), 4, "\"rs\"");
  Result<DesignSpace> bad = parse_design_space(t, "d.toml");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("d.toml:2: cannot parse dataflow"), std::string::npos)
      << bad.status().message();
  EXPECT_FALSE(parse_design_space("arrays=[\"8by8\"]\n", "x.toml").ok());
  EXPECT_FALSE(parse_design_space("arrays=[\"8x8\"]\n", "empty.toml").ok());
}

// Every point reads the workload's operand width: an FP32 workload (4-byte operands) gets
// word_bytes = 4 at every point and moves 4x the bytes of the same layers as an INT8 workload
// with the SRAMs holding a quarter of the words; a topology file (operand_bytes 0) means 1 byte.
TEST(Dse, PointsUseTheWorkloadsOperandWidth) {
  Result<DesignSpace> s = parse_design_space(
      "arrays=[\"8x8\"]\ndataflows=[\"ws\"]\nsram_kb=[[32,32,16]]\nbandwidths=[16]\n", "w.toml");
  ASSERT_TRUE(s.ok()) << s.status().message();
  Workload w;
  w.name = "toy";
  w.layers = {conv("c1", 18, 3, 3, 16), conv("c2", 10, 3, 16, 32)};
  for (int64_t bytes : {0, 1, 4}) {
    w.operand_bytes = bytes;
    Result<DseResult> r = run_dse(w, *s, default_energy_table(), 1);
    ASSERT_TRUE(r.ok()) << r.status().message();
    ASSERT_EQ(r->points.size(), 1u);
    const PointResult& p = r->points[0];
    const int64_t want = bytes > 0 ? bytes : 1;
    EXPECT_EQ(p.array.word_bytes, want) << bytes;
    ArrayConfig direct = p.array;
    double dram = 0;
    for (const Layer& l : w.layers) dram += double(simulate_layer(l, direct)->dram_bytes());
    EXPECT_EQ(p.dram_bytes, dram) << bytes;
  }
}

// The O(points · front) front against the definition, checked pair by pair, on random clouds
// with ties and duplicates (small integer objectives), in the published order.
TEST(Pareto, FrontEqualsTheBruteForceDefinitionOnRandomClouds) {
  const uint64_t seed = 1207;
  std::printf("seed %llu\n", static_cast<unsigned long long>(seed));
  Rng rng(seed);
  for (int trial = 0; trial < 300; ++trial) {
    const int n = static_cast<int>(rng.uniform_int(0, 61));
    const int64_t span = rng.uniform_int(1, 6);  // small: many ties and identical points
    std::vector<PointResult> pts(static_cast<size_t>(n));
    for (PointResult& p : pts) {
      p.cycles = rng.uniform_int(0, span);
      p.energy_pj = double(rng.uniform_int(0, span));
      p.area_mm2 = double(rng.uniform_int(0, span)) * 0.5;
      p.feasible = rng.uniform_int(0, 9) != 0;
    }
    std::vector<size_t> brute;
    for (size_t i = 0; i < pts.size(); ++i) {
      if (!pts[i].feasible) continue;
      bool dominated = false;
      for (size_t j = 0; j < pts.size() && !dominated; ++j) {
        if (j == i || !pts[j].feasible) continue;
        const PointResult &a = pts[j], &b = pts[i];
        const bool no_worse =
            a.cycles <= b.cycles && a.energy_pj <= b.energy_pj && a.area_mm2 <= b.area_mm2;
        const bool better =
            a.cycles < b.cycles || a.energy_pj < b.energy_pj || a.area_mm2 < b.area_mm2;
        dominated = no_worse && (better || j < i);
      }
      if (!dominated) brute.push_back(i);
    }
    std::sort(brute.begin(), brute.end(), [&](size_t x, size_t y) {
      return std::tie(pts[x].area_mm2, pts[x].cycles) < std::tie(pts[y].area_mm2, pts[y].cycles);
    });
    ASSERT_EQ(pareto_front(pts), brute) << "trial " << trial << " n " << n;
  }
}

TEST(Dse, PointRecordsRoundTripBitExactAndPiecesEqualRunDse) {
  Workload w;
  w.name = "toy";
  w.layers = {conv("c1", 12, 3, 3, 8), conv("c2", 6, 3, 8, 16)};
  Result<DesignSpace> s = parse_design_space(
      "arrays=[\"4x4\",\"8x8\"]\ndataflows=[\"ws\",\"os\"]\nsram_kb=[[8,8,4]]\n"
      "bandwidths=[4,16]\n[constraints]\nmax_pes=32\n",
      "toy.toml");
  ASSERT_TRUE(s.ok()) << s.status().message();
  const EnergyTable t = default_energy_table();
  Result<DseResult> whole = run_dse(w, *s, t, 2);
  ASSERT_TRUE(whole.ok()) << whole.status().message();
  std::vector<PointResult> pieces;
  for (const ArrayConfig& a : dse_points(w, *s)) {
    const PointResult p = evaluate_design_point(w, *s, t, a);
    PointResult back;
    back.array = a;
    ASSERT_TRUE(decode_point_record(encode_point_record(p), &back).ok());
    EXPECT_EQ(encode_point_record(back), encode_point_record(p));
    EXPECT_EQ(back.reason, p.reason);
    pieces.push_back(back);
  }
  Result<DseResult> r = finish_dse(w, *s, t, pieces, 1, whole->sweep_seconds);
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r->points.size(), whole->points.size());
  for (size_t i = 0; i < r->points.size(); ++i) {
    EXPECT_EQ(encode_point_record(r->points[i]), encode_point_record(whole->points[i])) << i;
  }
  EXPECT_EQ(r->front, whole->front);
  EXPECT_EQ(r->analysis, whole->analysis);
  PointResult bad;
  EXPECT_FALSE(decode_point_record("short", &bad).ok());
}

TEST(Dse, SweepsEveryPointRecordsInfeasibleOnesAndVerifiesTheFront) {
  Workload w;
  w.name = "toy";
  w.layers = {conv("c1", 18, 3, 3, 16), conv("c2", 10, 3, 16, 32)};
  Result<DesignSpace> s = parse_design_space(
      "arrays=[\"4x4\",\"8x8\",\"16x16\"]\ndataflows=[\"ws\",\"os\",\"is\"]\n"
      "sram_kb=[[8,8,4],[32,32,16]]\nbandwidths=[4,16]\n[constraints]\nmax_area_mm2=0.4\n",
      "toy.toml");
  ASSERT_TRUE(s.ok()) << s.status().message();
  Result<DseResult> r = run_dse(w, *s, default_energy_table(), 2);
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r->points.size(), 3u * 3 * 2 * 2);
  int infeasible = 0;
  for (const PointResult& p : r->points) {
    if (!p.feasible) {
      ++infeasible;
      EXPECT_GT(p.area_mm2, 0.4);
      EXPECT_NE(p.reason.find("max_area_mm2"), std::string::npos);
    }
  }
  EXPECT_GT(infeasible, 0);
  ASSERT_TRUE(r->any_feasible);
  EXPECT_EQ(r->evaluations, int64_t(r->points.size() - infeasible) * 2);
  for (size_t i : r->front) {
    const PointResult& p = r->points[i];
    EXPECT_TRUE(p.exact) << "front points are re-simulated exactly";
    // The exact numbers equal a direct simulation.
    int64_t cycles = 0;
    for (const Layer& l : w.layers) cycles += simulate_layer(l, p.array)->total_cycles;
    EXPECT_EQ(p.cycles, cycles);
  }
  // Best-per-objective points are the minima over the front.
  for (size_t i : r->front) {
    EXPECT_LE(r->points[r->best_cycles].cycles, r->points[i].cycles);
    EXPECT_LE(r->points[r->best_energy].energy_pj, r->points[i].energy_pj);
    EXPECT_LE(r->points[r->best_area].area_mm2, r->points[i].area_mm2);
  }
  EXPECT_NE(r->analysis.find("## Diminishing returns"), std::string::npos);
  EXPECT_NE(r->analysis.find("roofline"), std::string::npos);
  const std::filesystem::path dir = std::filesystem::temp_directory_path() / "ei8_dse_test";
  ASSERT_TRUE(write_dse_outputs(*r, dir.string()).ok());
  for (const char* f : {"points.csv", "points.json", "pareto.csv", "best.json", "analysis.md"}) {
    EXPECT_TRUE(std::filesystem::exists(dir / f)) << f;
  }
  // points.json, written element by element, is exactly nlohmann's dump(2) of the whole array.
  std::ifstream in(dir / "points.json");
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const nlohmann::json parsed = nlohmann::json::parse(text);
  ASSERT_EQ(parsed.size(), r->points.size());
  EXPECT_EQ(parsed.dump(2) + "\n", text);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace ei8::arch

namespace ei8::arch {
namespace {

TEST(Reports, EnergyAndRooflineReportsHaveOneRowPerLayerPlusTotal) {
  ArrayConfig a;
  a.rows = a.cols = 8;
  const std::vector<Layer> layers = {conv("a", 10, 3, 4, 8), conv("b", 6, 1, 8, 16)};
  std::vector<LayerStats> stats;
  double total = 0;
  for (const Layer& l : layers) {
    stats.push_back(*simulate_layer(l, a));
    total += layer_energy(default_energy_table(), action_counts(stats.back()), a).total();
  }
  const std::string e = format_energy_report({"a", "b"}, stats, default_energy_table(), a);
  EXPECT_NE(e.find("\n0,a,"), std::string::npos);
  EXPECT_NE(e.find("\n1,b,"), std::string::npos);
  EXPECT_NE(e.find(fmt::format(",{:.3f},", total)), std::string::npos) << e;
  const std::string r = format_roofline_report({"a", "b"}, stats, a);
  EXPECT_EQ(std::count(r.begin(), r.end(), '\n'), 3);
}

}  // namespace
}  // namespace ei8::arch
