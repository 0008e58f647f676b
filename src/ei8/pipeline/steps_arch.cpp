// Part D of run-all: each exported model on the default systolic array (SCALE-Sim-compatible
// cycles, energy, roofline) and a design-space exploration with its Pareto front.
#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <map>

#include "ei8/arch/dse.h"
#include "ei8/arch/energy.h"
#include "ei8/arch/model_workload.h"
#include "ei8/arch/roofline.h"
#include "ei8/arch/scalesim_config.h"
#include "ei8/arch/systolic_model.h"
#include "ei8/pipeline/steps.h"
#include "ei8/pipeline/workload_io.h"
#include "ei8/report/figure.h"
#include "ei8/report/table.h"

namespace ei8::pipeline {
namespace fs = std::filesystem;
using report::Figure;
using report::Series;
using report::Table;

namespace {

// The evaluation point the per-layer tables use: a 32×32 weight-stationary array with
// 64/64/32 kB SRAMs and 10 words/cycle of DRAM bandwidth (the example configuration).
arch::ArrayConfig default_array() {
  return {.rows = 32,
          .cols = 32,
          .dataflow = arch::Dataflow::kWs,
          .ifmap_sram_kb = 64,
          .filter_sram_kb = 64,
          .ofmap_sram_kb = 32,
          .mode = arch::BandwidthMode::kUser,
          .bandwidth = 10};
}

std::string model_path(const std::string& w) { return "models/" + w + ".onnx"; }

Result<arch::Workload> load_model_workload(const StepContext& c, const std::string& w) {
  const std::string path = c.path(model_path(w));
  if (!fs::exists(path)) {
    return not_found("cannot evaluate {}: {} does not exist (the export step makes it)", w,
                     model_path(w));
  }
  return load_workload_file(path, arch::TopologyFormat::kConv);
}

}  // namespace

Step arch_sim_step(const RunAllSettings&, const std::string& w) {
  return {
      .name = "arch.sim." + w,
      .description = "per-layer cycles, utilization, energy and roofline on a 32x32 WS array",
      .settings = "32x32 ws sram=64,64,32 bw=10 energy=default",
      .inputs = {model_path(w)},
      .outputs = {"tables/arch_" + w + ".csv", "tables/arch_energy_" + w + ".csv",
                  "figures/roofline_" + w + ".png", "figures/energy_" + w + ".png"},
      .run = [w](StepContext& c) -> Result<StepOutcome> {
        EI8_ASSIGN_OR_RETURN(arch::Workload wl, load_model_workload(c, w));
        const arch::ArrayConfig array = default_array();
        const arch::EnergyTable et = arch::default_energy_table();
        Table t({"layer", "macs", "cycles", "stall_cycles", "utilization_pct", "dram_bytes",
                 "intensity_mac_per_byte", "attained_mac_per_cycle", "bound", "energy_nj",
                 "limited_by"});
        for (const char* col :
             {"utilization_pct", "intensity_mac_per_byte", "attained_mac_per_cycle", "energy_nj"}) {
          t.set_precision(col, 3);
        }
        Table e({"layer", "mac_nj", "array_nj", "ifmap_sram_nj", "filter_sram_nj", "ofmap_sram_nj",
                 "dram_nj", "leakage_nj"});
        Figure roof{.kind = report::FigureKind::kScatter,
                    .title = "Roofline, " + w + " on 32x32 WS, 10 B/cycle DRAM",
                    .xlabel = "operational intensity (MAC per DRAM byte)",
                    .ylabel = "throughput (MAC per cycle)",
                    .logx = true,
                    .logy = true};
        Series points{.label = "layers (attained)"};
        Figure energy{.kind = report::FigureKind::kStackedBars,
                      .title = "Energy per layer by component, " + w,
                      .xlabel = "layer",
                      .ylabel = "energy (nJ)"};
        std::vector<Series> comp = {{.label = "MAC"},        {.label = "array"},
                                    {.label = "ifmap SRAM"}, {.label = "filter SRAM"},
                                    {.label = "ofmap SRAM"}, {.label = "DRAM"}};
        double max_i = 1, min_i = 1e9, total_cycles = 0, total_nj = 0;
        for (const arch::Layer& l : wl.layers) {
          EI8_ASSIGN_OR_RETURN(arch::LayerStats st, arch::simulate_layer(l, array));
          const arch::Roofline r = arch::layer_roofline(st, array);
          const arch::LayerEnergy en = arch::layer_energy(et, arch::action_counts(st), array);
          t.add_row({l.name, static_cast<double>(st.macs), static_cast<double>(st.total_cycles),
                     static_cast<double>(st.stall_cycles), st.overall_util, r.dram_bytes,
                     r.intensity, r.attained, std::string(arch::bound_name(r.bound)),
                     en.total() / 1e3, r.why});
          e.add_row({l.name, en.mac / 1e3, en.array / 1e3, en.ifmap_sram / 1e3,
                     en.filter_sram / 1e3, en.ofmap_sram / 1e3, en.dram / 1e3, en.leakage / 1e3});
          energy.categories.push_back(l.name);
          const double parts[] = {en.mac,         en.array,      en.ifmap_sram,
                                  en.filter_sram, en.ofmap_sram, en.dram};
          for (size_t k = 0; k < comp.size(); ++k) comp[k].y.push_back(parts[k] / 1e3);
          if (r.intensity > 0 && r.attained > 0) {
            points.x.push_back(r.intensity);
            points.y.push_back(r.attained);
            points.point_labels.push_back(l.name);
            max_i = std::max(max_i, r.intensity);
            min_i = std::min(min_i, r.intensity);
          }
          total_cycles += static_cast<double>(st.total_cycles);
          total_nj += en.total() / 1e3;
        }
        EI8_RETURN_IF_ERROR(t.write(c.path("tables/arch_" + w)));
        EI8_RETURN_IF_ERROR(e.write(c.path("tables/arch_energy_" + w)));
        // The roofs: min(peak, bandwidth · intensity), drawn over the layers' intensity range.
        const double peak = static_cast<double>(array.rows * array.cols);
        const double bw = static_cast<double>(array.bandwidth);
        Series roof_line{.label = fmt::format("roof: min({} MAC/cycle, {} B/cycle x I)", peak, bw),
                         .markers = false};
        for (double i = min_i / 4; i <= max_i * 4; i *= 1.25) {
          roof_line.x.push_back(i);
          roof_line.y.push_back(std::min(peak, bw * i));
        }
        roof.kind = report::FigureKind::kLines;
        points.line = false;
        roof.series = {roof_line, points};
        EI8_RETURN_IF_ERROR(report::render(roof, c.path("figures/roofline_" + w)));
        energy.series = comp;
        EI8_RETURN_IF_ERROR(report::render(energy, c.path("figures/energy_" + w)));
        // The SCALE-Sim inputs for a cross-check with SCALE-Sim itself.
        const fs::path dir = fs::path(c.path("scalesim")) / w;
        fs::create_directories(dir);
        EI8_RETURN_IF_ERROR(arch::write_topology_csv((dir / "topology.csv").string(), wl.layers));
        arch::ScaleSimConfig cfg{.run_name = w, .array = array, .bandwidths = {array.bandwidth}};
        EI8_RETURN_IF_ERROR(arch::write_text_file((dir / "config.cfg").string(),
                                                  arch::format_scalesim_config(cfg)));
        return StepOutcome::ok(fmt::format("{} layers, {:.0f} cycles, {:.1f} nJ per inference",
                                           wl.layers.size(), total_cycles, total_nj));
      }};
}

Step arch_dse_step(const RunAllSettings& s, const std::string& w, const std::string& space_path) {
  return {
      .name = "arch.dse." + w,
      .description = "design-space exploration: every point, Pareto front, best per objective",
      .settings = fmt::format("space={} threads={}", space_path, s.threads),
      .inputs = {model_path(w), space_path},
      .outputs = {"tables/dse_points_" + w + ".csv", "tables/dse_pareto_" + w + ".csv",
                  "figures/dse_cycles_" + w + ".png", "figures/pe_util_" + w + ".png",
                  "figures/pareto_" + w + ".png"},
      .run = [w, space_path, threads = s.threads](StepContext& c) -> Result<StepOutcome> {
        EI8_ASSIGN_OR_RETURN(arch::Workload wl, load_model_workload(c, w));
        EI8_ASSIGN_OR_RETURN(arch::DesignSpace space, arch::read_design_space(space_path));
        arch::EnergyTable et = arch::default_energy_table();
        if (!space.energy_table.empty()) {
          EI8_ASSIGN_OR_RETURN(et, arch::read_energy_table(space.energy_table));
        }
        EI8_ASSIGN_OR_RETURN(arch::DseResult r, arch::run_dse(wl, space, et, threads));
        const std::string dir = c.path("dse/" + w);
        fs::create_directories(dir);
        EI8_RETURN_IF_ERROR(arch::write_dse_outputs(r, dir));

        auto row_of = [](const arch::PointResult& p) {
          return std::vector<report::Cell>{
              fmt::format("{}x{}", p.array.rows, p.array.cols),
              std::string(arch::dataflow_name(p.array.dataflow)),
              fmt::format("{},{},{}", p.array.ifmap_sram_kb, p.array.filter_sram_kb,
                          p.array.ofmap_sram_kb),
              static_cast<double>(p.array.bandwidth),
              std::string(p.feasible ? "yes" : "no"),
              static_cast<double>(p.cycles),
              p.energy_pj / 1e3,
              p.area_mm2,
              p.utilization,
              p.reason};
        };
        const std::vector<std::string> cols = {
            "array",  "dataflow",  "sram_kb",  "bandwidth",       "feasible",
            "cycles", "energy_nj", "area_mm2", "utilization_pct", "reason"};
        Table all(cols), front(cols);
        for (Table* t : {&all, &front}) {
          t->set_precision("energy_nj", 2);
          t->set_precision("area_mm2", 3);
          t->set_precision("utilization_pct", 2);
        }
        for (const auto& p : r.points) all.add_row(row_of(p));
        for (size_t i : r.front) front.add_row(row_of(r.points[i]));
        EI8_RETURN_IF_ERROR(all.write(c.path("tables/dse_points_" + w)));
        EI8_RETURN_IF_ERROR(front.write(c.path("tables/dse_pareto_" + w)));
        Table best({"objective", "array", "dataflow", "sram_kb", "bandwidth", "cycles", "energy_nj",
                    "area_mm2"});
        for (const auto& [name, idx] : {std::pair<std::string, size_t>{"cycles", r.best_cycles},
                                        {"energy", r.best_energy},
                                        {"area", r.best_area},
                                        {"energy-delay product", r.best_edp},
                                        {"balanced", r.balanced}}) {
          if (!r.any_feasible) break;
          const auto& p = r.points[idx];
          best.add_row({name, fmt::format("{}x{}", p.array.rows, p.array.cols),
                        std::string(arch::dataflow_name(p.array.dataflow)),
                        fmt::format("{},{},{}", p.array.ifmap_sram_kb, p.array.filter_sram_kb,
                                    p.array.ofmap_sram_kb),
                        static_cast<double>(p.array.bandwidth), static_cast<double>(p.cycles),
                        p.energy_pj / 1e3, p.area_mm2});
        }
        best.set_precision("energy_nj", 2);
        best.set_precision("area_mm2", 3);
        EI8_RETURN_IF_ERROR(best.write(c.path("tables/dse_best_" + w)));

        // Cycles and utilization vs array size per dataflow, square arrays, at the space's
        // largest SRAM and bandwidth (so the curves show the array, not the memory).
        const auto max_sram = *std::max_element(
            space.srams.begin(), space.srams.end(),
            [](const auto& a, const auto& b) { return a[0] + a[1] + a[2] < b[0] + b[1] + b[2]; });
        const int64_t max_bw = *std::max_element(space.bandwidths.begin(), space.bandwidths.end());
        Figure cyc{
            .title = fmt::format("DSE: cycles vs array size, {} (SRAM {},{},{} kB, {} B/cycle)", w,
                                 max_sram[0], max_sram[1], max_sram[2], max_bw),
            .xlabel = "processing elements (square arrays)",
            .ylabel = "cycles per inference",
            .logx = true,
            .logy = true};
        Figure util{.title = "PE utilization vs array size, " + w,
                    .xlabel = "processing elements (square arrays)",
                    .ylabel = "PE utilization (%)",
                    .logx = true};
        for (arch::Dataflow df : space.dataflows) {
          Series sc{.label = std::string(arch::dataflow_name(df))};
          Series su{.label = std::string(arch::dataflow_name(df))};
          for (const auto& p : r.points) {
            const arch::ArrayConfig& a = p.array;
            if (!p.feasible || a.dataflow != df || a.rows != a.cols || a.bandwidth != max_bw ||
                a.ifmap_sram_kb != max_sram[0] || a.filter_sram_kb != max_sram[1] ||
                a.ofmap_sram_kb != max_sram[2]) {
              continue;
            }
            sc.x.push_back(static_cast<double>(a.rows * a.cols));
            sc.y.push_back(static_cast<double>(p.cycles));
            su.x.push_back(static_cast<double>(a.rows * a.cols));
            su.y.push_back(p.utilization);
          }
          cyc.series.push_back(sc);
          util.series.push_back(su);
        }
        EI8_RETURN_IF_ERROR(report::render(cyc, c.path("figures/dse_cycles_" + w)));
        EI8_RETURN_IF_ERROR(report::render(util, c.path("figures/pe_util_" + w)));
        Figure par{
            .kind = report::FigureKind::kScatter,
            .title = "DSE: energy vs cycles, " + w + " (Pareto front over cycles, energy, area)",
            .xlabel = "cycles per inference",
            .ylabel = "energy per inference (nJ)",
            .logx = true,
            .logy = true};
        Series feas{.label = "feasible points"}, fr{.label = "Pareto front"};
        for (const auto& p : r.points) {
          if (!p.feasible) continue;
          Series& dst = p.on_front ? fr : feas;
          dst.x.push_back(static_cast<double>(p.cycles));
          dst.y.push_back(p.energy_pj / 1e3);
        }
        par.series = {feas, fr};
        EI8_RETURN_IF_ERROR(report::render(par, c.path("figures/pareto_" + w)));
        return StepOutcome::ok(
            fmt::format("{} points ({} evaluations in {:.2f} s), {} on the front", r.points.size(),
                        r.evaluations, r.sweep_seconds, r.front.size()));
      }};
}

}  // namespace ei8::pipeline
