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

// The simulated model: the INT8 model the PTQ sweep quantized (its best configuration), the
// model the report's simulator section is about; its layers read 1-byte operands.
std::string model_path(const std::string& w) { return int8_model_path(w); }

std::string design_name(const arch::ArrayConfig& a) {
  return fmt::format("{}x{} {} SRAM {},{},{} kB bw {}", a.rows, a.cols,
                     arch::dataflow_name(a.dataflow), a.ifmap_sram_kb, a.filter_sram_kb,
                     a.ofmap_sram_kb, a.bandwidth);
}

double pct_change(double from, double to) { return from != 0 ? 100 * (to - from) / from : 0; }

// The DSE's comparisons as tables (the report's prose quotes their cells; nothing is computed
// while writing Markdown): the workload and space, diminishing returns along the Pareto front,
// one-parameter neighbours of the recommended point, its per-layer roofline (exact simulation)
// and its energy by component.
struct DseTables {
  Table overview{{"key", "value"}};
  Table diminishing{{"step", "from", "to", "cycles_from", "cycles_to", "cycle_reduction_pct",
                     "area_added_mm2", "reduction_pct_per_mm2", "vs_first_step", "knee"}};
  Table neighbours{{"change", "design", "cycles", "energy_nj", "area_mm2", "cycles_change_pct",
                    "energy_change_pct", "area_change_pct", "note"}};
  Table roofline{{"layer", "macs", "intensity_mac_per_byte", "attained_mac_per_cycle",
                  "peak_mac_per_cycle", "bound", "verdict"}};
  Table energy_share{{"component", "energy_nj", "share_pct"}};
};

Result<DseTables> dse_tables(const arch::Workload& wl, const arch::DesignSpace& space,
                             const arch::DseResult& r) {
  DseTables t;
  int64_t feasible = 0;
  for (const auto& p : r.points) feasible += p.feasible;
  double macs = 0;
  for (const arch::Layer& l : wl.layers) macs += static_cast<double>(l.macs());
  const std::pair<std::string, report::Cell> overview[] = {
      {"layers", static_cast<double>(wl.layers.size())},
      {"macs", macs},
      {"space", space.name},
      {"points", static_cast<double>(r.points.size())},
      {"feasible_points", static_cast<double>(feasible)},
      {"pareto_points", static_cast<double>(r.front.size())},
      {"sweep_engine",
       std::string(space.evaluator == arch::Evaluator::kExact ? "exact (SCALE-Sim v2 compatible)"
                                                              : "analytic")},
      {"front_resimulated_exactly",
       std::string(space.evaluator == arch::Evaluator::kAnalytic && space.verify_front ? "yes"
                                                                                       : "no")},
      {"energy_table", r.energy_table_name},
      {"recommended", r.any_feasible ? design_name(r.points[r.balanced].array) : "none"}};
  for (const auto& [k, v] : overview) t.overview.add_row({k, v});
  if (!r.any_feasible) return t;

  // Diminishing returns: each step to the next Pareto point (by area) that is faster, the
  // fraction of cycles saved per added mm²; the knee is the first step that buys less than a
  // quarter of what the first step bought.
  for (const char* c : {"cycle_reduction_pct", "reduction_pct_per_mm2"}) {
    t.diminishing.set_precision(c, 1);
  }
  t.diminishing.set_precision("vs_first_step", 3);
  t.diminishing.set_precision("area_added_mm2", 3);
  {
    const arch::PointResult* prev = nullptr;
    double first_gain = 0;
    bool knee_found = false;
    int step = 0;
    for (size_t i : r.front) {
      const arch::PointResult& p = r.points[i];
      if (prev != nullptr && p.cycles < prev->cycles) {
        const double reduction = 100.0 * double(prev->cycles - p.cycles) / double(prev->cycles);
        const double area = p.area_mm2 - prev->area_mm2;
        const double per_mm2 = reduction / std::max(area, 1e-9);
        if (first_gain == 0) first_gain = per_mm2;
        const bool knee = !knee_found && per_mm2 < first_gain / 4;
        knee_found = knee_found || knee;
        t.diminishing.add_row({static_cast<double>(++step), design_name(prev->array),
                               design_name(p.array), static_cast<double>(prev->cycles),
                               static_cast<double>(p.cycles), reduction, area, per_mm2,
                               per_mm2 / first_gain, std::string(knee ? "yes" : "no")});
      }
      if (prev == nullptr || p.cycles < prev->cycles) prev = &p;
    }
  }

  // One parameter of the recommended point changed at a time.
  const arch::PointResult& rec = r.points[r.balanced];
  for (const char* c : {"cycles_change_pct", "energy_change_pct", "area_change_pct"}) {
    t.neighbours.set_precision(c, 1);
  }
  t.neighbours.set_precision("energy_nj", 2);
  t.neighbours.set_precision("area_mm2", 3);
  for (const arch::PointResult& p : r.points) {
    if (!p.feasible || &p == &rec) continue;
    const arch::ArrayConfig &a = p.array, &b = rec.array;
    const bool array = a.rows != b.rows || a.cols != b.cols, df = a.dataflow != b.dataflow,
               sram = a.ifmap_sram_kb != b.ifmap_sram_kb || a.filter_sram_kb != b.filter_sram_kb ||
                      a.ofmap_sram_kb != b.ofmap_sram_kb,
               bw = a.bandwidth != b.bandwidth;
    if (int(array) + int(df) + int(sram) + int(bw) != 1) continue;
    const std::string change =
        array  ? fmt::format("array {}x{}", a.rows, a.cols)
        : df   ? fmt::format("dataflow {}", arch::dataflow_name(a.dataflow))
        : sram ? fmt::format("SRAM {},{},{} kB", a.ifmap_sram_kb, a.filter_sram_kb, a.ofmap_sram_kb)
               : fmt::format("bandwidth {}", a.bandwidth);
    const double dc = pct_change(double(rec.cycles), double(p.cycles));
    const double de = pct_change(rec.energy_pj, p.energy_pj);
    const double da = pct_change(rec.area_mm2, p.area_mm2);
    std::string note;
    if (p.cycles < rec.cycles && p.energy_pj > rec.energy_pj) note = "faster but costs energy";
    if (p.cycles >= rec.cycles && p.energy_pj >= rec.energy_pj && p.area_mm2 >= rec.area_mm2) {
      note = "worse on every axis";
    }
    if (p.cycles < rec.cycles && p.area_mm2 > rec.area_mm2 && dc > -0.5 * da) {
      note = "diminishing return: speed-up smaller than half the area growth";
    }
    t.neighbours.add_row({change, design_name(a), static_cast<double>(p.cycles), p.energy_pj / 1e3,
                          p.area_mm2, dc, de, da, note});
  }

  // The recommended point, every layer simulated exactly: roofline and energy by component.
  t.roofline.set_precision("intensity_mac_per_byte", 2);
  t.roofline.set_precision("attained_mac_per_cycle", 1);
  EI8_ASSIGN_OR_RETURN(std::vector<arch::LayerStats> stats,
                       arch::simulate_layers(wl.layers, rec.array));
  for (size_t i = 0; i < stats.size(); ++i) {
    const arch::LayerStats& st = stats[i];
    const arch::Roofline rf = arch::layer_roofline(st, rec.array);
    t.roofline.add_row({wl.layers[i].name, static_cast<double>(st.macs), rf.intensity, rf.attained,
                        static_cast<double>(rec.array.rows * rec.array.cols),
                        std::string(arch::bound_name(rf.bound)), rf.why});
  }
  t.energy_share.set_precision("energy_nj", 2);
  t.energy_share.set_precision("share_pct", 1);
  const arch::LayerEnergy& e = rec.energy;
  const double total = rec.energy_pj > 0 ? rec.energy_pj : 1;
  for (const auto& [name, pj] : {std::pair<const char*, double>{"MAC", e.mac},
                                 {"array", e.array},
                                 {"ifmap SRAM", e.ifmap_sram},
                                 {"filter SRAM", e.filter_sram},
                                 {"ofmap SRAM", e.ofmap_sram},
                                 {"DRAM", e.dram},
                                 {"leakage", e.leakage}}) {
    t.energy_share.add_row({std::string(name), pj / 1e3, 100 * pj / total});
  }
  return t;
}

Result<arch::Workload> load_model_workload(const StepContext& c, const std::string& w) {
  const std::string path = c.path(model_path(w));
  if (!fs::exists(path)) {
    return not_found("cannot evaluate {}: {} does not exist (the ptq_sweep step makes it)", w,
                     model_path(w));
  }
  return load_workload_file(path, arch::TopologyFormat::kConv);
}

// The array of `base` with the workload's operand width (1 byte for INT8 layers, 4 for FP32).
arch::ArrayConfig with_operand_width(arch::ArrayConfig base, const arch::Workload& wl) {
  if (wl.operand_bytes > 0) base.word_bytes = wl.operand_bytes;
  return base;
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
        const arch::ArrayConfig array = with_operand_width(default_array(), wl);
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
        return StepOutcome::ok(
            fmt::format("{}: {} layers, {}-byte operands, {:.0f} cycles, {:.1f} nJ per inference",
                        model_path(w), wl.layers.size(), array.word_bytes, total_cycles, total_nj));
      }};
}

Step arch_dse_step(const RunAllSettings& s, const std::string& w, const std::string& space_path) {
  return {
      .name = "arch.dse." + w,
      .description = "design-space exploration: every point, Pareto front, best per objective",
      .version = "2",  // + dse_overview/diminishing/neighbours/roofline/energy_share tables
      .settings = fmt::format("space={} threads={}", space_path, s.threads),
      .inputs = {model_path(w), space_path},
      .outputs = {"tables/dse_points_" + w + ".csv", "tables/dse_pareto_" + w + ".csv",
                  "tables/dse_best_" + w + ".csv", "tables/dse_overview_" + w + ".csv",
                  "tables/dse_diminishing_" + w + ".csv", "tables/dse_neighbours_" + w + ".csv",
                  "tables/dse_roofline_" + w + ".csv", "tables/dse_energy_share_" + w + ".csv",
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
        EI8_ASSIGN_OR_RETURN(DseTables at, dse_tables(wl, space, r));
        EI8_RETURN_IF_ERROR(at.overview.write(c.path("tables/dse_overview_" + w)));
        EI8_RETURN_IF_ERROR(at.diminishing.write(c.path("tables/dse_diminishing_" + w)));
        EI8_RETURN_IF_ERROR(at.neighbours.write(c.path("tables/dse_neighbours_" + w)));
        EI8_RETURN_IF_ERROR(at.roofline.write(c.path("tables/dse_roofline_" + w)));
        EI8_RETURN_IF_ERROR(at.energy_share.write(c.path("tables/dse_energy_share_" + w)));

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
