// ei8/arch/dse.h — design-space exploration: which designs are legal (the space and its
// constraints), how to search them (an exhaustive sweep in parallel over threads), what they
// cost (cycles from the analytic or the exact model, energy and area from a table).
//
//   Result<DesignSpace> space = read_design_space("share/dse/default_space.toml");
//   Result<DseResult> r = run_dse(workload, *space, energy_table, /*threads=*/2);
//   EI8_RETURN_IF_ERROR(write_dse_outputs(*r, workload, "dse_out"));
//
// Every point is evaluated; a point outside the constraints (or one the exact model refuses) is
// kept with `feasible = false` and a reason. The Pareto front is over (cycles, energy, area),
// all minimised. With `verify_front`, front and best points found with the analytic engine are
// re-evaluated with the exact SCALE-Sim-compatible simulator and reported with both numbers.
#pragma once

#include <cstdint>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "ei8/arch/energy.h"
#include "ei8/arch/scalesim_config.h"
#include "ei8/arch/workload.h"
#include "ei8/core/status.h"

namespace ei8::arch {

enum class Evaluator { kAnalytic, kExact };

struct DesignSpace {
  std::string name = "space";
  std::vector<std::pair<int64_t, int64_t>> arrays;  // rows × cols
  std::vector<Dataflow> dataflows;
  std::vector<std::array<int64_t, 3>> srams;  // ifmap, filter, ofmap kB
  std::vector<int64_t> bandwidths;            // words/cycle (USER mode)
  BandwidthMode mode = BandwidthMode::kUser;
  Evaluator evaluator = Evaluator::kAnalytic;
  bool verify_front = true;
  double max_area_mm2 = std::numeric_limits<double>::infinity();
  int64_t max_sram_kb = std::numeric_limits<int64_t>::max();  // sum of the three SRAMs
  int64_t max_pes = std::numeric_limits<int64_t>::max();
  std::string energy_table;  // path, empty = built-in default

  std::vector<ArrayConfig> points() const;  // the full cross product, in a fixed order
};

// TOML; see share/dse/default_space.toml for every key. Errors "<file>:<line>: ...".
[[nodiscard]] Result<DesignSpace> read_design_space(const std::string& path);
[[nodiscard]] Result<DesignSpace> parse_design_space(std::string_view text,
                                                     std::string_view source);

struct PointResult {
  ArrayConfig array;
  bool feasible = true;
  std::string reason;  // why infeasible
  bool exact = false;  // numbers below come from the exact simulator
  int64_t cycles = 0, stall_cycles = 0;
  double energy_pj = 0, area_mm2 = 0;
  LayerEnergy energy;  // by component, whole workload
  double macs = 0, dram_bytes = 0;
  double utilization = 0;       // % of PE-cycles doing MACs
  int64_t analytic_cycles = 0;  // when re-evaluated exactly: the analytic estimate
  double analytic_energy_pj = 0;
  bool on_front = false;
  double edp() const { return energy_pj * double(cycles); }
};

struct DseResult {
  std::string space_name, energy_table_name;
  std::vector<PointResult> points;
  std::vector<size_t> front;  // indices into points, sorted by area
  size_t best_cycles = 0, best_energy = 0, best_area = 0, best_edp = 0, balanced = 0;
  bool any_feasible = false;
  int64_t evaluations = 0;  // (point × layer) evaluations in the sweep
  double sweep_seconds = 0;
  bool timings = true;   // false: best.json leaves sweep_seconds out (files equal run to run)
  std::string analysis;  // Markdown: why the recommended point is better, diminishing returns
};

// Evaluates every point on every layer (threads ≥ 1). Every point reads the workload's operand
// width: ArrayConfig::word_bytes = workload.operand_bytes (1 when the workload does not say,
// e.g. a topology file).
[[nodiscard]] Result<DseResult> run_dse(const Workload& workload, const DesignSpace& space,
                                        const EnergyTable& table, int threads);

// The sweep in pieces, for sweeps split over processes (core/distribute.h): the points in the
// fixed order of DesignSpace::points() with ArrayConfig::word_bytes set as run_dse sets it; one
// point (constraints, then every layer; infeasible points are results with a reason); and what
// follows the sweep (Pareto front, exact re-simulation of the front, selection, analysis).
// run_dse(w, s, t, n) == finish_dse(w, s, t, {evaluate_design_point(w, s, t, p) for p in
// dse_points(w, s)}, n, seconds).
std::vector<ArrayConfig> dse_points(const Workload& workload, const DesignSpace& space);
PointResult evaluate_design_point(const Workload& workload, const DesignSpace& space,
                                  const EnergyTable& table, const ArrayConfig& point);
[[nodiscard]] Result<DseResult> finish_dse(const Workload& workload, const DesignSpace& space,
                                           const EnergyTable& table,
                                           std::vector<PointResult> points, int threads,
                                           double sweep_seconds);
// The record of one evaluated point (every field but `array`, which the point's index gives),
// doubles as their exact bits: decode(encode(p)) == p. `p->array` is left as the caller set it.
std::string encode_point_record(const PointResult& p);
[[nodiscard]] Status decode_point_record(std::string_view bytes, PointResult* p);

// One point as points.json and best.json give it (and the Python module's dse() returns it).
nlohmann::json point_json(const PointResult& p);

// Writes points.csv, points.json, pareto.csv, best.json and analysis.md into `dir`: all five or
// none (core/output_files.h).
[[nodiscard]] Status write_dse_outputs(const DseResult& r, const std::string& dir);

// Pareto-optimal indices over (cycles, energy, area) among feasible points.
std::vector<size_t> pareto_front(const std::vector<PointResult>& points);

}  // namespace ei8::arch
