// edgeint8 dse — design-space exploration over array shape, SRAM sizes, dataflow and DRAM
// bandwidth for a workload (topology CSV; ONNX models once the graph module is linked).
//   edgeint8 dse net.csv --space share/dse/default_space.toml --out dse/ [--threads 2]
// Writes points.csv/json (every point, infeasible ones with a reason), pareto.csv, best.json and
// analysis.md (why the recommended configuration is better, diminishing returns, roofline).
#include <fmt/format.h>

#include <nlohmann/json.hpp>
#include <thread>

#include "cli.h"
#include "ei8/arch/dse.h"
#include "ei8/arch/energy.h"
#include "ei8/arch/workload.h"
#include "ei8/pipeline/workload_io.h"

namespace ei8::cli {
namespace {

struct DseOptions {
  std::string workload, space, out = "dse_out", input_type = "conv", energy_table, evaluator;
  int threads = 0;
  bool json = false;
};

Status run_dse_cmd(const DseOptions& o) {
  EI8_ASSIGN_OR_RETURN(arch::TopologyFormat fmt_in, arch::parse_topology_format(o.input_type));
  EI8_ASSIGN_OR_RETURN(arch::Workload w, pipeline::load_workload_file(o.workload, fmt_in));
  for (const std::string& warn : w.warnings) fmt::print(stderr, "edgeint8: warning: {}\n", warn);
  const std::string space_path =
      o.space.empty() ? std::string(EI8_SHARE_DIR) + "/dse/default_space.toml" : o.space;
  EI8_ASSIGN_OR_RETURN(arch::DesignSpace space, arch::read_design_space(space_path));
  if (!o.evaluator.empty()) {
    if (o.evaluator != "analytic" && o.evaluator != "exact") {
      return invalid_argument("cannot parse --evaluator: value = '{}', must be analytic or exact",
                              o.evaluator);
    }
    space.evaluator = o.evaluator == "exact" ? arch::Evaluator::kExact : arch::Evaluator::kAnalytic;
  }
  const std::string table_path = !o.energy_table.empty() ? o.energy_table : space.energy_table;
  arch::EnergyTable table = arch::default_energy_table();
  if (!table_path.empty()) {
    EI8_ASSIGN_OR_RETURN(table, arch::read_energy_table(table_path));
  }
  const int threads = o.threads > 0
                          ? o.threads
                          : std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  EI8_ASSIGN_OR_RETURN(arch::DseResult r, arch::run_dse(w, space, table, threads));
  EI8_RETURN_IF_ERROR(arch::write_dse_outputs(r, o.out));
  const double rate = r.sweep_seconds > 0 ? double(r.evaluations) / r.sweep_seconds : 0;
  if (o.json) {
    nlohmann::json j = {{"points", r.points.size()},      {"pareto_points", r.front.size()},
                        {"evaluations", r.evaluations},   {"sweep_seconds", r.sweep_seconds},
                        {"evaluations_per_second", rate}, {"out", o.out}};
    fmt::print("{}\n", j.dump(2));
    return {};
  }
  fmt::print("{} points x {} layers: {} evaluations in {:.3f} s ({:.0f}/s, {} threads)\n",
             r.points.size(), w.layers.size(), r.evaluations, r.sweep_seconds, rate, threads);
  if (!r.any_feasible) {
    fmt::print("no feasible point; see {}/points.csv\n", o.out);
    return {};
  }
  const arch::PointResult& b = r.points[r.balanced];
  fmt::print(
      "Pareto front: {} points; recommended {}x{} {} SRAM {}/{}/{} kB bw {}: {} cycles, "
      "{:.3f} uJ, {:.3f} mm2\n",
      r.front.size(), b.array.rows, b.array.cols, arch::dataflow_name(b.array.dataflow),
      b.array.ifmap_sram_kb, b.array.filter_sram_kb, b.array.ofmap_sram_kb, b.array.bandwidth,
      b.cycles, b.energy_pj * 1e-6, b.area_mm2);
  fmt::print("outputs in {}/ (points.csv, points.json, pareto.csv, best.json, analysis.md)\n",
             o.out);
  return {};
}

}  // namespace

void register_dse(CLI::App& app) {
  auto o = std::make_shared<DseOptions>();
  CLI::App* sub = app.add_subcommand(
      "dse", "Design-space exploration: Pareto front over cycles, energy and area");
  sub->add_option("workload", o->workload, "Topology CSV (conv, or gemm with -i gemm)")->required();
  sub->add_option("--space", o->space, "Design space TOML (default: share/dse/default_space.toml)");
  sub->add_option("--out", o->out, "Output directory")->capture_default_str();
  sub->add_option("-i", o->input_type, "Topology type: conv or gemm")->capture_default_str();
  sub->add_option("--energy-table", o->energy_table, "Per-action energy/area table (TOML)");
  sub->add_option("--evaluator", o->evaluator, "Override the space's evaluator: analytic or exact");
  sub->add_option("--threads", o->threads, "Worker threads (default: all cores)");
  sub->add_flag("--json", o->json, "Print a JSON summary");
  set_action(sub, [o] { return run_dse_cmd(*o); });
}

}  // namespace ei8::cli
