// Speed of the SCALE-Sim v2 compatible simulator on every reference run of
// tests/data/scalesim/ (SCALE-Sim's own wall time on this machine is in INDEX.csv), plus the
// ResNet-18 32×32 ws 16 kB USER bw 10 run that SCALE-Sim did not finish in 5 minutes, and the
// large workload of issue 15: 50 convs 226×226×64 → 64, 3×3, on a 128×128 array.
// Counters: scalesim_s = SCALE-Sim wall seconds; speedup = scalesim_s / our wall seconds per
// run; speedup_cpu = SCALE-Sim CPU seconds / our CPU seconds (steadier on a shared machine).
//   build/release/bench/arch_sim_bench --benchmark_filter=resnet
#include <benchmark/benchmark.h>

#include <chrono>
#include <ctime>
#include <fstream>
#include <sstream>

#include "ei8/arch/dse.h"
#include "ei8/arch/scalesim_config.h"
#include "ei8/arch/scalesim_report.h"
#include "ei8/arch/scalesim_topology.h"
#include "ei8/arch/systolic_model.h"

namespace ei8::arch {
namespace {

const std::string kDir = std::string(EI8_SCALESIM_DATA_DIR);

// One full run as `edgeint8 sim` does it, minus parsing and the file writes: simulate (one
// LayerSimulator for the workload), format the reports.
void run_once(const ArrayConfig& array, const std::vector<Layer>& layers) {
  Result<std::vector<LayerStats>> stats = simulate_layers(layers, array);
  if (!stats.ok()) std::abort();
  ScaleSimReports r = format_reports(*stats);
  benchmark::DoNotOptimize(r);
}

double cpu_now() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
}

void bench_run(benchmark::State& state, ArrayConfig array, std::vector<Layer> layers,
               double scalesim_s, double scalesim_cpu_s, int64_t demand_rows) {
  double seconds = 0, cpu = 0;
  int64_t n = 0;
  for (auto _ : state) {
    const auto t0 = std::chrono::steady_clock::now();
    const double c0 = cpu_now();
    run_once(array, layers);
    cpu += cpu_now() - c0;
    seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    ++n;
  }
  if (scalesim_s > 0) {
    state.counters["scalesim_s"] = scalesim_s;
    state.counters["speedup"] = scalesim_s / (seconds / double(n));      // wall / wall
    state.counters["speedup_cpu"] = scalesim_cpu_s / (cpu / double(n));  // CPU / CPU
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
    const double wall = std::stod(f[13]), cpu = std::stod(f[14]);
    benchmark::RegisterBenchmark(("scalesim_run/" + run).c_str(), bench_run, cfg->array,
                                 topo->layers, wall, cpu, demand_rows(cfg->array, topo->layers))
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
                                 0.0, demand_rows(a, r18->layers))
        ->Unit(benchmark::kMillisecond);
  }
}

// Issue 15's workload: 50 identical 3×3 convs, 226×226×64 → 224×224×64, on 128×128 with the
// `edgeint8 sim` defaults (SRAM 64/64/32 kB, USER bandwidth 10). `conv50` is the whole
// workload as the CLI runs it; `conv1` is one layer through simulate_layer (a fresh workspace,
// no cache): the cost of a layer shape not seen before.
std::vector<Layer> conv226_layers(int n) {
  std::vector<Layer> out;
  for (int i = 0; i < n; ++i) {
    Layer l;
    l.name = "conv" + std::to_string(i);
    l.ifmap_h = l.ifmap_w = 226;
    l.filter_h = l.filter_w = 3;
    l.channels = l.num_filters = 64;
    out.push_back(l);
  }
  return out;
}

ArrayConfig conv226_array(Dataflow df) {
  ArrayConfig a;
  a.rows = a.cols = 128;
  a.dataflow = df;
  a.ifmap_sram_kb = a.filter_sram_kb = 64;
  a.ofmap_sram_kb = 32;
  return a;
}

void bench_conv226(benchmark::State& state, Dataflow df, int n, bool workload) {
  const std::vector<Layer> layers = conv226_layers(n);
  const ArrayConfig a = conv226_array(df);
  for (auto _ : state) {
    if (workload) {
      run_once(a, layers);
    } else {
      Result<LayerStats> s = simulate_layer(layers[0], a);
      if (!s.ok()) std::abort();
      benchmark::DoNotOptimize(s);
    }
  }
  state.counters["layers/s"] =
      benchmark::Counter(double(n), benchmark::Counter::kIsIterationInvariantRate);
  state.counters["rows/s"] = benchmark::Counter(double(demand_rows(a, layers)),
                                                benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK_CAPTURE(bench_conv226, conv50_128x128_ws, Dataflow::kWs, 50, true)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(bench_conv226, conv50_128x128_os, Dataflow::kOs, 50, true)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(bench_conv226, conv50_128x128_is, Dataflow::kIs, 50, true)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(bench_conv226, conv1_128x128_ws, Dataflow::kWs, 1, false)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(bench_conv226, conv1_128x128_os, Dataflow::kOs, 1, false)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(bench_conv226, conv1_128x128_is, Dataflow::kIs, 1, false)
    ->Unit(benchmark::kMillisecond);

// DSE throughput: the default space (share/dse/default_space.toml) on TinyCNN2D with 2 worker
// threads; `evals/s` counts (feasible point × layer) evaluations of the sweep. verify=1 also
// re-simulates the Pareto front with the exact model (time included, evaluations not).
void bench_dse(benchmark::State& state) {
  Result<DesignSpace> space =
      read_design_space(std::string(EI8_SHARE_DIR) + "/dse/default_space.toml");
  Result<Topology> topo = read_topology_csv(kDir + "/tinycnn2d_8x8_ws_small/topology.csv");
  if (!space.ok() || !topo.ok()) {
    state.SkipWithError("missing default space or TinyCNN2D topology");
    return;
  }
  space->verify_front = state.range(0) != 0;
  Workload w;
  w.name = "tinycnn2d";
  w.layers = topo->layers;
  int64_t evals = 0;
  for (auto _ : state) {
    Result<DseResult> r = run_dse(w, *space, default_energy_table(), 2);
    if (!r.ok()) std::abort();
    evals += r->evaluations;
  }
  state.counters["evals/s"] = benchmark::Counter(double(evals), benchmark::Counter::kIsRate);
  state.counters["points"] = double(space->points().size());
}
BENCHMARK(bench_dse)
    ->Name("dse_tinycnn2d_default_space/verify")
    ->Arg(0)
    ->Arg(1)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

const bool kRegistered = (register_all(), true);

}  // namespace
}  // namespace ei8::arch
