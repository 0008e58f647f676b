// Golden test: every SCALE-Sim v2 reference run in tests/data/scalesim/ (see its PROVENANCE)
// must be reproduced column for column — integer columns equal, float columns within 1e-9
// relative — by parsing the same config and topology and formatting the same reports.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "ei8/arch/scalesim_config.h"
#include "ei8/arch/scalesim_report.h"
#include "ei8/arch/scalesim_topology.h"
#include "ei8/arch/systolic_model.h"

namespace ei8::arch {
namespace {

const std::string kDir = std::string(EI8_TEST_DATA_DIR) + "/scalesim";

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s) {
    if (c == sep) {
      out.push_back(cur);
      cur.clear();
    } else {
      cur.push_back(c);
    }
  }
  out.push_back(cur);
  return out;
}

std::vector<std::string> runs() {
  std::vector<std::string> out;
  std::istringstream index(slurp(kDir + "/INDEX.csv"));
  std::string line;
  std::getline(index, line);
  while (std::getline(index, line)) {
    if (!line.empty()) out.push_back(line.substr(0, line.find(',')));
  }
  return out;
}

// Compares one report; returns the number of mismatching fields (each printed).
int compare_report(const std::string& run, const std::string& name, const std::string& ours,
                   const std::string& theirs) {
  const std::vector<std::string> a = split(ours, '\n'), b = split(theirs, '\n');
  int bad = 0;
  if (a.size() != b.size()) {
    ADD_FAILURE() << run << "/" << name << ": " << a.size() << " lines vs " << b.size();
    return 1;
  }
  const std::vector<std::string> header = split(b[0], ',');
  for (size_t l = 0; l < a.size(); ++l) {
    const std::vector<std::string> fa = split(a[l], ','), fb = split(b[l], ',');
    if (fa.size() != fb.size()) {
      ADD_FAILURE() << run << "/" << name << " line " << l + 1 << ": field count differs:\n"
                    << a[l] << "\n"
                    << b[l];
      ++bad;
      continue;
    }
    for (size_t i = 0; i < fa.size(); ++i) {
      if (fa[i] == fb[i]) continue;
      const bool is_float = fb[i].find_first_of(".en") != std::string::npos;
      bool ok = false;
      if (l > 0 && is_float) {
        const double x = std::stod(fa[i]), y = std::stod(fb[i]);
        ok = std::fabs(x - y) <= 1e-9 * std::max(std::fabs(x), std::fabs(y));
      }
      if (!ok) {
        ADD_FAILURE() << run << "/" << name << " layer " << int(l) - 1 << " column '"
                      << (i < header.size() ? header[i] : "?") << "': ours" << fa[i] << " vs"
                      << fb[i];
        ++bad;
      }
    }
  }
  return bad;
}

TEST(ScaleSimGolden, EveryReferenceRunMatches) {
  const std::vector<std::string> all = runs();
  ASSERT_GE(all.size(), 40u) << "INDEX.csv lists too few runs";
  int total_layers = 0, bad_runs = 0;
  for (const std::string& run : all) {
    const std::string dir = kDir + "/" + run;
    Result<ScaleSimConfig> cfg = read_scalesim_config(dir + "/config.cfg");
    ASSERT_TRUE(cfg.ok()) << cfg.status().message();
    Result<Topology> topo = read_topology_csv(dir + "/topology.csv");
    ASSERT_TRUE(topo.ok()) << topo.status().message();
    // The path `edgeint8 sim` takes (LayerSimulator: reused working memory, memoised shapes);
    // tests/arch/systolic_model_test.cpp proves it equal to simulate_layer layer by layer.
    Result<std::vector<LayerStats>> sim = simulate_layers(topo->layers, cfg->array);
    ASSERT_TRUE(sim.ok()) << run << ": " << sim.status().message();
    const std::vector<LayerStats>& stats = *sim;
    total_layers += static_cast<int>(stats.size());
    const ScaleSimReports r = format_reports(stats);
    int bad =
        compare_report(run, "COMPUTE_REPORT.csv", r.compute, slurp(dir + "/COMPUTE_REPORT.csv"));
    bad += compare_report(run, "BANDWIDTH_REPORT.csv", r.bandwidth,
                          slurp(dir + "/BANDWIDTH_REPORT.csv"));
    bad += compare_report(run, "DETAILED_ACCESS_REPORT.csv", r.detailed,
                          slurp(dir + "/DETAILED_ACCESS_REPORT.csv"));
    if (bad) ++bad_runs;
  }
  EXPECT_EQ(bad_runs, 0);
  std::printf("checked %zu runs, %d layers\n", all.size(), total_layers);
}

}  // namespace
}  // namespace ei8::arch
