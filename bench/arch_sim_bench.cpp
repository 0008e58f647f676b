// Speed of the SCALE-Sim v2 compatible simulator on every reference run of
// tests/data/scalesim/ (SCALE-Sim's own wall time on this machine is in INDEX.csv), plus the
// ResNet-18 32×32 ws 16 kB USER bw 10 run that SCALE-Sim did not finish in 5 minutes.
// Counters: scalesim_s = SCALE-Sim wall seconds; speedup = scalesim_s / our seconds per run.
//   build/release/bench/arch_sim_bench --benchmark_filter=resnet
#include <benchmark/benchmark.h>

#include <chrono>
#include <fstream>
#include <sstream>

#include "ei8/arch/scalesim_config.h"
#include "ei8/arch/scalesim_report.h"
#include "ei8/arch/scalesim_topology.h"
#include "ei8/arch/systolic_model.h"

namespace ei8::arch {
namespace {

const std::string kDir = std::string(EI8_SCALESIM_DATA_DIR);

// One full run as `edgeint8 sim` does it, minus the file writes: parse, simulate, format.
void run_once(const ArrayConfig& array, const std::vector<Layer>& layers) {
  std::vector<LayerStats> stats;
  stats.reserve(layers.size());
  for (const Layer& l : layers) {
    Result<LayerStats> s = simulate_layer(l, array);
    if (!s.ok()) std::abort();
    stats.push_back(*s);
  }
  ScaleSimReports r = format_reports(stats);
  benchmark::DoNotOptimize(r);
}

void bench_run(benchmark::State& state, ArrayConfig array, std::vector<Layer> layers,
               double scalesim_s, int64_t demand_rows) {
  double seconds = 0;
  int64_t n = 0;
  for (auto _ : state) {
    const auto t0 = std::chrono::steady_clock::now();
    run_once(array, layers);
    seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    ++n;
  }
  if (scalesim_s > 0) {
    state.counters["scalesim_s"] = scalesim_s;
    state.counters["speedup"] = scalesim_s / (seconds / double(n));
  }
  state.counters["rows/s"] =
      benchmark::Counter(double(demand_rows), benchmark::Counter::kIsIterationInvariantRate);
}

int64_t demand_rows(const ArrayConfig& a, const std::vector<Layer>& layers) {
  int64_t rows = 0;
  for (const Layer& l : layers) rows += fold_geometry(l, a).demand_rows;
  return rows;
}

void register_all() {
  std::ifstream index(kDir + "/INDEX.csv");
  std::string line;
  std::getline(index, line);  // header
  while (std::getline(index, line)) {
    std::vector<std::string> f;
    std::stringstream ss(line);
    std::string item;
    while (std::getline(ss, item, ',')) f.push_back(item);
    if (f.size() < 15) continue;
    const std::string run = f[0];
    Result<ScaleSimConfig> cfg = read_scalesim_config(kDir + "/" + run + "/config.cfg");
    Result<Topology> topo = read_topology_csv(kDir + "/" + run + "/topology.csv");
    if (!cfg.ok() || !topo.ok()) continue;
    const double wall = std::stod(f[13]);
    benchmark::RegisterBenchmark(("scalesim_run/" + run).c_str(), bench_run, cfg->array,
                                 topo->layers, wall, demand_rows(cfg->array, topo->layers))
        ->Unit(benchmark::kMillisecond);
  }
  // ResNet-18 (SCALE-Sim's shipped Resnet18.csv), 32×32 ws, 16/16/8 kB, USER bandwidth 10:
  // SCALE-Sim was stopped after 293 s at ~29 % of its demand rows (TIMEOUTS.csv).
  Result<Topology> r18 = read_topology_csv(kDir + "/resnet18_128x128_ws_large/topology.csv");
  if (r18.ok()) {
    ArrayConfig a;
    a.rows = a.cols = 32;
    a.dataflow = Dataflow::kWs;
    a.ifmap_sram_kb = a.filter_sram_kb = 16;
    a.ofmap_sram_kb = 8;
    a.mode = BandwidthMode::kUser;
    a.bandwidth = 10;
    benchmark::RegisterBenchmark("resnet18_32x32_ws_16kB_user_bw10", bench_run, a, r18->layers, 0.0,
                                 demand_rows(a, r18->layers))
        ->Unit(benchmark::kMillisecond);
  }
}

const bool kRegistered = (register_all(), true);

}  // namespace
}  // namespace ei8::arch
