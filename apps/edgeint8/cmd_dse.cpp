// edgeint8 dse — design-space exploration over array shape, SRAM sizes, dataflow and DRAM
// bandwidth for a workload (topology CSV or ONNX model).
//   edgeint8 dse net.csv --space share/dse/default_space.toml --out dse/ [--threads 2]
//   mpirun -np 4 edgeint8 dse net.csv --out dse/          # points split over 4 ranks
//   edgeint8 dse net.csv --shard 3/8 --out parts/         # one job of an array: a part file
//   edgeint8 merge parts/dse-shard-*-of-8.part --out dse/ # the files of the whole run
// Writes points.csv/json (every point, infeasible ones with a reason), pareto.csv, best.json and
// analysis.md (why the recommended configuration is better, diminishing returns, roofline).
// The points go through core/distribute.h, so every way of splitting them writes the same bytes
// (--no-timings leaves the one measured field, best.json's sweep_seconds, out).
#include <fmt/format.h>

#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <thread>

#include "cli.h"
#include "ei8/arch/dse.h"
#include "ei8/arch/energy.h"
#include "ei8/arch/workload.h"
#include "ei8/core/distribute.h"
#include "ei8/core/npy.h"
#include "ei8/pipeline/workload_io.h"

namespace ei8::cli {
namespace {

struct DseOptions {
  std::string workload, space, out = "dse_out", input_type = "conv", energy_table, evaluator;
  std::string shard;
  int threads = 0;
  bool json = false, no_timings = false;
};

// What a run computes from: its options, and the fingerprint of every file they read (a part
// file carries it; merge re-reads the files and refuses changed ones).
struct DseInputs {
  arch::Workload workload;
  arch::DesignSpace space;
  arch::EnergyTable table;
  std::string description;  // DseOptions fields that shape the result + file fingerprints
};

Result<uint64_t> file_fingerprint(const std::string& path) {
  EI8_ASSIGN_OR_RETURN(std::string bytes, read_file(path));
  return dist::fingerprint(bytes);
}

Result<DseInputs> load_inputs(const DseOptions& o) {
  EI8_ASSIGN_OR_RETURN(arch::TopologyFormat fmt_in, arch::parse_topology_format(o.input_type));
  if (o.threads < 0) {
    return invalid_argument("cannot run dse: --threads = {}, must be >= 0 (0 = all cores)",
                            o.threads);
  }
  if (std::filesystem::path(o.workload).extension() == ".onnx") {
    EI8_RETURN_IF_ERROR(check_input_file(o.workload, "workload"));
  } else {
    EI8_RETURN_IF_ERROR(check_topology_file(o.workload, "workload"));
  }
  DseInputs in;
  EI8_ASSIGN_OR_RETURN(in.workload, pipeline::load_workload_file(o.workload, fmt_in));
  if (in.workload.layers.empty()) {
    return invalid_argument("cannot explore {}: layers = 0, must be >= 1", o.workload);
  }
  if (dist::world().root()) {
    for (const std::string& warn : in.workload.warnings) {
      fmt::print(stderr, "edgeint8: warning: {}\n", warn);
    }
  }
  const std::string space_path =
      o.space.empty() ? std::string(EI8_SHARE_DIR) + "/dse/default_space.toml" : o.space;
  EI8_ASSIGN_OR_RETURN(in.space, arch::read_design_space(space_path));
  if (!o.evaluator.empty()) {
    if (o.evaluator != "analytic" && o.evaluator != "exact") {
      return invalid_argument("cannot parse --evaluator: value = '{}', must be analytic or exact",
                              o.evaluator);
    }
    in.space.evaluator =
        o.evaluator == "exact" ? arch::Evaluator::kExact : arch::Evaluator::kAnalytic;
  }
  const std::string table_path = !o.energy_table.empty() ? o.energy_table : in.space.energy_table;
  in.table = arch::default_energy_table();
  uint64_t table_fp = 0;
  if (!table_path.empty()) {
    EI8_ASSIGN_OR_RETURN(in.table, arch::read_energy_table(table_path));
    EI8_ASSIGN_OR_RETURN(table_fp, file_fingerprint(table_path));
  }
  EI8_ASSIGN_OR_RETURN(uint64_t workload_fp, file_fingerprint(o.workload));
  EI8_ASSIGN_OR_RETURN(uint64_t space_fp, file_fingerprint(space_path));
  dist::RecordWriter d;
  // Absolute paths: `edgeint8 merge` may run in another directory than the shards.
  auto abs = [](const std::string& p) {
    return p.empty() ? p : std::filesystem::absolute(p).lexically_normal().string();
  };
  d.str(abs(o.workload)).str(abs(o.space)).str(o.input_type).str(abs(o.energy_table));
  d.str(o.evaluator);
  d.boolean(o.no_timings).u64(workload_fp).u64(space_fp).u64(table_fp);
  in.description = d.take();
  return in;
}

// The options a part file recorded (the inverse of the first fields of load_inputs' record).
Result<DseOptions> options_from_description(std::string_view bytes, const DseOptions& given) {
  dist::RecordReader rd(bytes, "the run description of a DSE part");
  DseOptions o = given;
  o.workload = rd.str();
  o.space = rd.str();
  o.input_type = rd.str();
  o.energy_table = rd.str();
  o.evaluator = rd.str();
  o.no_timings = rd.boolean();
  EI8_RETURN_IF_ERROR(rd.status(false));
  return o;
}

int worker_threads(int requested) {
  if (requested > 0) return requested;
  if (dist::world().size > 1) return 1;  // one rank per core: ranks, not threads, fill them
  return std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
}

// After the sweep (one process, rank 0 of an MPI run, or a merge): front, analysis, files.
Status finish_and_write(const DseOptions& o, const DseInputs& in,
                        std::vector<arch::PointResult> points, double seconds, int threads,
                        const dist::MapStats& stats = {}, double record_bytes = 0) {
  const auto t_finish = std::chrono::steady_clock::now();
  EI8_ASSIGN_OR_RETURN(arch::DseResult r, arch::finish_dse(in.workload, in.space, in.table,
                                                           std::move(points), threads, seconds));
  r.timings = !o.no_timings;
  EI8_RETURN_IF_ERROR(arch::write_dse_outputs(r, o.out));
  const double finish_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t_finish).count();
  const arch::Workload& w = in.workload;
  const double rate = r.sweep_seconds > 0 ? double(r.evaluations) / r.sweep_seconds : 0;
  if (o.json) {
    nlohmann::json j = {{"points", r.points.size()},
                        {"pareto_points", r.front.size()},
                        {"evaluations", r.evaluations},
                        {"sweep_seconds", r.sweep_seconds},
                        {"evaluations_per_second", rate},
                        {"ranks", dist::world().size},
                        {"threads_per_rank", threads},
                        // Where rank 0's time went: its own points, receiving the others'
                        // records, then front + exact verification + analysis + files.
                        {"compute_seconds", stats.compute_seconds},
                        // CPU seconds of the sweep's workers, every rank: the per-point cost.
                        {"compute_cpu_seconds_all_ranks", stats.all_ranks_cpu_seconds},
                        {"gather_seconds", stats.gather_seconds},
                        {"finish_seconds", finish_seconds},
                        {"rank0_points", stats.points},
                        // Bytes a point costs to gather: its record + index and length (16).
                        {"gather_bytes_per_point", record_bytes},
                        {"out", o.out},
                        {"word_bytes", r.points.empty() ? 1 : r.points[0].array.word_bytes}};
    fmt::print("{}\n", j.dump(2));
    return {};
  }
  fmt::print(
      "{} points x {} layers ({}-byte operands): {} evaluations in {:.3f} s ({:.0f}/s, {} "
      "rank(s) x {} threads)\n",
      r.points.size(), w.layers.size(), r.points.empty() ? 1 : r.points[0].array.word_bytes,
      r.evaluations, r.sweep_seconds, rate, dist::world().size, threads);
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

// Decodes record i into the point cfgs[first + i].
Result<std::vector<arch::PointResult>> decode_points(const std::vector<std::string>& records,
                                                     const std::vector<arch::ArrayConfig>& cfgs,
                                                     size_t first) {
  std::vector<arch::PointResult> points(records.size());
  for (size_t i = 0; i < records.size(); ++i) {
    points[i].array = cfgs[first + i];
    EI8_RETURN_IF_ERROR(arch::decode_point_record(records[i], &points[i]));
  }
  return points;
}

Status run_dse_cmd(const DseOptions& o) {
  dist::Shard shard;
  if (!o.shard.empty()) {
    EI8_ASSIGN_OR_RETURN(shard, dist::parse_shard(o.shard));
  }
  EI8_ASSIGN_OR_RETURN(DseInputs in, load_inputs(o));
  const std::vector<arch::ArrayConfig> cfgs = arch::dse_points(in.workload, in.space);
  const auto [first, last] = dist::shard_range(cfgs.size(), shard);
  const int threads = worker_threads(o.threads);
  const auto t0 = std::chrono::steady_clock::now();
  dist::MapStats stats;
  EI8_ASSIGN_OR_RETURN(std::vector<std::string> records,
                       dist::map_points(
                           last - first,
                           [&](size_t i) -> Result<std::string> {
                             return arch::encode_point_record(arch::evaluate_design_point(
                                 in.workload, in.space, in.table, cfgs[first + i]));
                           },
                           {.threads = threads}, &stats));
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (!dist::world().root()) return {};  // rank 0 has every record and writes the files
  if (!o.shard.empty()) {
    dist::PartFile part{"dse",       in.description,     shard,
                        cfgs.size(), std::move(records), o.no_timings ? 0.0 : seconds};
    std::error_code ec;
    std::filesystem::create_directories(o.out, ec);
    const std::string path =
        fmt::format("{}/dse-shard-{}-of-{}.part", o.out, shard.index, shard.count);
    EI8_RETURN_IF_ERROR(write_file(path, dist::encode_part(part)));
    fmt::print("shard {}/{}: points {}..{} of {} -> {}\n", shard.index, shard.count, first, last,
               cfgs.size(), path);
    return {};
  }
  double record_bytes = 0;
  for (const std::string& rec : records) record_bytes += double(rec.size() + 16);
  record_bytes /= double(std::max<size_t>(records.size(), 1));
  EI8_ASSIGN_OR_RETURN(std::vector<arch::PointResult> points, decode_points(records, cfgs, 0));
  return finish_and_write(o, in, std::move(points), seconds, threads, stats, record_bytes);
}

}  // namespace

Status merge_dse_parts(const dist::Merged& m, const std::string& out, int threads, bool json) {
  DseOptions given;
  given.out = out;
  given.json = json;
  EI8_ASSIGN_OR_RETURN(DseOptions o, options_from_description(m.inputs, given));
  EI8_ASSIGN_OR_RETURN(DseInputs in, load_inputs(o));
  if (in.description != m.inputs) {
    return invalid_argument(
        "cannot merge DSE shards: inputs = changed since the shards ran, must be the files they "
        "read ({}, its space and energy table)",
        o.workload);
  }
  const std::vector<arch::ArrayConfig> cfgs = arch::dse_points(in.workload, in.space);
  if (cfgs.size() != m.records.size()) {
    return invalid_argument("cannot merge DSE shards: points = {}, must be {} (the space's)",
                            m.records.size(), cfgs.size());
  }
  EI8_ASSIGN_OR_RETURN(std::vector<arch::PointResult> points, decode_points(m.records, cfgs, 0));
  double seconds = 0;  // CPU-side sum over the shards
  for (double t : m.shard_seconds) seconds += t;
  return finish_and_write(o, in, std::move(points), seconds, worker_threads(threads));
}

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
  sub->add_option("--threads", o->threads, "Worker threads (0 = all cores)");
  sub->add_option("--shard", o->shard,
                  "Compute shard i/N of the points only (0 <= i < N) and write "
                  "<out>/dse-shard-i-of-N.part for `edgeint8 merge`");
  sub->add_flag("--no-timings", o->no_timings,
                "Leave the measured sweep time out of best.json (byte-identical reruns)");
  sub->add_flag("--json", o->json, "Print a JSON summary");
  set_action(sub, [o] { return run_dse_cmd(*o); });
}

}  // namespace ei8::cli
