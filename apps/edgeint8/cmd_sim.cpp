// edgeint8 sim — SCALE-Sim v2 compatible systolic-array simulation.
//   edgeint8 sim -c scale.cfg -t topology.csv -p outdir [-i conv|gemm]     (drop-in replacement)
//   edgeint8 sim net.csv --array 32x32 --dataflow ws --sram 64,64,32 --bandwidth 10
//                [--calc] [--emit-scalesim DIR] [-p outdir]
// Reports go to OUTDIR/<run_name>/{COMPUTE,BANDWIDTH,DETAILED_ACCESS}_REPORT.csv; nothing is
// written when any input is bad.
#include <fmt/format.h>

#include <filesystem>

#include "cli.h"
#include "ei8/arch/energy.h"
#include "ei8/arch/roofline.h"
#include "ei8/arch/scalesim_config.h"
#include "ei8/arch/scalesim_report.h"
#include "ei8/arch/scalesim_topology.h"
#include "ei8/arch/systolic_model.h"
#include "ei8/arch/workload.h"
#include "ei8/core/output_files.h"
#include "ei8/pipeline/result_json.h"
#include "ei8/pipeline/workload_io.h"

namespace ei8::cli {
namespace {

struct SimOptions {
  std::string config, topology, outdir = "test_runs", input_type = "conv";
  std::string model;  // positional: a topology CSV (or, with the graph module, an ONNX model)
  std::string array = "32x32", dataflow = "ws", sram = "64,64,32", run_name;
  int64_t bandwidth = 10;
  bool calc = false, json = false, quiet = false;
  std::string emit_scalesim;
  bool energy = false;
  std::string energy_table;
  // The workload-mode options the user typed (refused together with -c).
  std::vector<std::string> flags_given;
};

Result<arch::ScaleSimConfig> config_from_flags(const SimOptions& o) {
  arch::ScaleSimConfig c;
  EI8_ASSIGN_OR_RETURN(std::vector<int64_t> dims, parse_int_list(o.array, "--array"));
  if (dims.size() != 2) {
    return invalid_argument("cannot parse --array: value = '{}', must be ROWSxCOLS", o.array);
  }
  EI8_ASSIGN_OR_RETURN(std::vector<int64_t> kb, parse_int_list(o.sram, "--sram"));
  if (kb.size() != 3) {
    return invalid_argument("cannot parse --sram: value = '{}', must be IFMAP,FILTER,OFMAP kB",
                            o.sram);
  }
  EI8_ASSIGN_OR_RETURN(c.array.dataflow, arch::parse_dataflow(o.dataflow));
  c.array.rows = dims[0];
  c.array.cols = dims[1];
  c.array.ifmap_sram_kb = kb[0];
  c.array.filter_sram_kb = kb[1];
  c.array.ofmap_sram_kb = kb[2];
  c.array.bandwidth = o.bandwidth;
  c.array.mode = o.calc ? arch::BandwidthMode::kCalc : arch::BandwidthMode::kUser;
  c.bandwidths = {o.bandwidth};
  c.run_name = !o.run_name.empty()
                   ? o.run_name
                   : fmt::format("{}_{}x{}_{}", std::filesystem::path(o.model).stem().string(),
                                 dims[0], dims[1], o.dataflow);
  EI8_RETURN_IF_ERROR(c.array.validate());
  return c;
}

Status run_sim(const SimOptions& o) {
  arch::ScaleSimConfig cfg;
  std::vector<arch::Layer> layers;
  EI8_ASSIGN_OR_RETURN(arch::TopologyFormat fmt_in, arch::parse_topology_format(o.input_type));
  std::string source;
  if (!o.model.empty()) {
    if (!o.config.empty() || !o.topology.empty()) {
      return invalid_argument(
          "cannot run sim: both a workload '{}' and -c/-t were given, must be one", o.model);
    }
    if (std::filesystem::path(o.model).extension() != ".onnx") {
      EI8_RETURN_IF_ERROR(check_topology_file(o.model, "workload"));
    } else {
      EI8_RETURN_IF_ERROR(check_input_file(o.model, "workload"));
    }
    EI8_ASSIGN_OR_RETURN(cfg, config_from_flags(o));
    EI8_ASSIGN_OR_RETURN(arch::Workload w, pipeline::load_workload_file(o.model, fmt_in));
    // A model says how wide its operands are (INT8 layers: 1-byte words, FP32: 4): SRAM words
    // and the bytes of energy and roofline follow it. A topology CSV keeps the config's width.
    if (w.operand_bytes > 0) cfg.array.word_bytes = w.operand_bytes;
    layers = w.layers;
    source = o.model;
    for (const std::string& warning : w.warnings) warn(warning);
  } else {
    if (o.config.empty() || o.topology.empty()) {
      return invalid_argument(
          "cannot run sim: -c CONFIG and -t TOPOLOGY are required (or give a workload file and "
          "--array/--dataflow/--sram/--bandwidth)");
    }
    if (!o.flags_given.empty()) {
      return invalid_argument(
          "cannot run sim: {} = given with -c, must be absent (the config file sets the array; "
          "workload-mode options apply only without -c/-t)",
          o.flags_given.front());
    }
    EI8_RETURN_IF_ERROR(check_input_file(o.config, "-c"));
    EI8_RETURN_IF_ERROR(check_topology_file(o.topology, "-t"));
    EI8_ASSIGN_OR_RETURN(cfg, arch::read_scalesim_config(o.config));
    EI8_ASSIGN_OR_RETURN(arch::Topology topo, arch::read_topology_csv(o.topology, fmt_in));
    layers = std::move(topo.layers);
    source = o.topology;
    for (const std::string& warning : topo.warnings) warn(warning);
  }
  for (const std::string& warning : cfg.warnings) warn(warning);
  if (layers.empty()) {
    return invalid_argument("cannot simulate {}: layers = 0, must be >= 1", source);
  }

  EI8_ASSIGN_OR_RETURN(std::vector<arch::LayerStats> stats,
                       arch::simulate_layers(layers, cfg.array));
  arch::EnergyTable table = arch::default_energy_table();
  if (!o.energy_table.empty()) {
    EI8_ASSIGN_OR_RETURN(table, arch::read_energy_table(o.energy_table));
  }
  // Every output is formatted first and written in one transaction: all of them or none.
  OutputFiles out;
  const std::string dir = o.outdir + "/" + cfg.run_name;
  std::error_code ec;
  if (!o.emit_scalesim.empty()) {
    std::filesystem::create_directories(o.emit_scalesim, ec);
    if (ec) return io_error("cannot create directory: path = '{}'", o.emit_scalesim);
    EI8_ASSIGN_OR_RETURN(std::string topo_text, arch::format_topology_csv(layers));
    EI8_RETURN_IF_ERROR(out.add(o.emit_scalesim + "/topology.csv", topo_text));
    EI8_RETURN_IF_ERROR(out.add(o.emit_scalesim + "/scale.cfg", arch::format_scalesim_config(cfg)));
  }
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    return io_error("cannot create output directory: -p = '{}', must be a writable directory: {}",
                    o.outdir, ec.message());
  }
  const bool with_energy = o.energy || !o.energy_table.empty();
  EI8_RETURN_IF_ERROR(pipeline::add_sim_reports(out, dir, layers, stats, cfg.array,
                                                with_energy ? &table : nullptr));
  EI8_RETURN_IF_ERROR(out.commit());

  if (o.json) {
    fmt::print("{}\n",
               pipeline::sim_json(cfg.run_name, dir, cfg.array.word_bytes, layers, stats).dump(2));
  } else if (!o.quiet) {
    const arch::ArrayConfig& a = cfg.array;
    fmt::print(
        "array {}x{} {}, SRAM {}/{}/{} kB, {} bandwidth{}\n", a.rows, a.cols,
        arch::dataflow_name(a.dataflow), a.ifmap_sram_kb, a.filter_sram_kb, a.ofmap_sram_kb,
        a.mode == arch::BandwidthMode::kUser ? "USER" : "CALC",
        a.mode == arch::BandwidthMode::kUser ? fmt::format(" {} words/cycle", a.bandwidth) : "");
    int64_t total = 0, stall = 0;
    for (size_t i = 0; i < stats.size(); ++i) {
      const arch::LayerStats& s = stats[i];
      fmt::print(
          "layer {:3} {:<20} cycles {:>10}  stalls {:>10}  util {:6.2f}%  mapping {:6.2f}%\n", i,
          layers[i].name, s.total_cycles, s.stall_cycles, s.overall_util, s.mapping_efficiency);
      total += s.total_cycles;
      stall += s.stall_cycles;
    }
    fmt::print("total {} cycles, {} stall cycles; reports in {}/\n", total, stall, dir);
  }
  return {};
}

}  // namespace

void register_sim(CLI::App& app) {
  auto o = std::make_shared<SimOptions>();
  CLI::App* sub = app.add_subcommand(
      "sim", "SCALE-Sim v2 compatible systolic-array simulation (cycle-identical reports)");
  sub->add_option("workload", o->model,
                  "Topology CSV (with --array/--dataflow/--sram/--bandwidth instead of -c)");
  sub->add_option("-c", o->config, "SCALE-Sim .cfg config file");
  sub->add_option("-t", o->topology, "SCALE-Sim topology CSV");
  sub->add_option("-p", o->outdir, "Output root; reports go to OUTDIR/<run_name>/")
      ->capture_default_str();
  sub->add_option("-i", o->input_type, "Topology type: conv or gemm (M,N,K rows)")
      ->capture_default_str();
  sub->add_option("--array", o->array, "Array ROWSxCOLS (workload mode)")->capture_default_str();
  sub->add_option("--dataflow", o->dataflow, "ws, os or is (workload mode)")->capture_default_str();
  sub->add_option("--sram", o->sram, "IFMAP,FILTER,OFMAP SRAM kB (workload mode)")
      ->capture_default_str();
  sub->add_option("--bandwidth", o->bandwidth, "DRAM words/cycle, USER mode (workload mode)")
      ->capture_default_str();
  sub->add_flag("--calc", o->calc, "CALC bandwidth mode instead of USER (workload mode)");
  sub->add_option("--run-name", o->run_name, "Run name (workload mode)");
  sub->add_option("--emit-scalesim", o->emit_scalesim,
                  "Also write the equivalent SCALE-Sim topology.csv and scale.cfg into DIR");
  sub->add_flag("--energy", o->energy,
                "Also write ENERGY_REPORT.csv (per layer and per inference, by component) and "
                "ROOFLINE_REPORT.csv next to the SCALE-Sim reports");
  sub->add_option("--energy-table", o->energy_table,
                  "Per-action energy/area table (TOML, default: the built-in INT8 45 nm table); "
                  "implies --energy");
  sub->add_flag("--json", o->json, "Print per-layer results as JSON");
  sub->add_flag("-q,--quiet", o->quiet, "Print nothing on success");
  set_action(sub, [o, sub] {
    o->flags_given.clear();
    for (const char* name :
         {"--array", "--dataflow", "--sram", "--bandwidth", "--calc", "--run-name"}) {
      if (sub->get_option(name)->count() > 0) o->flags_given.emplace_back(name);
    }
    return run_sim(*o);
  });
}

}  // namespace ei8::cli
