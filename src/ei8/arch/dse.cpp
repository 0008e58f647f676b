#include "ei8/arch/dse.h"

#include <toml++/toml.h>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "ei8/arch/analytic_model.h"
#include "ei8/arch/roofline.h"
#include "ei8/core/distribute.h"
#include "ei8/core/output_files.h"

namespace ei8::arch {
namespace {

std::string array_name(const ArrayConfig& a) { return fmt::format("{}x{}", a.rows, a.cols); }
std::string sram_name(const ArrayConfig& a) {
  return fmt::format("{}/{}/{}", a.ifmap_sram_kb, a.filter_sram_kb, a.ofmap_sram_kb);
}
std::string point_name(const ArrayConfig& a) {
  return fmt::format("{} {} SRAM {} kB bw {}", array_name(a), dataflow_name(a.dataflow),
                     sram_name(a), a.bandwidth);
}

Status check_point(const DesignSpace& s, const ArrayConfig& a, double area, std::string* reason) {
  if (area > s.max_area_mm2) {
    *reason = fmt::format("area = {:.3f} mm2, must be <= max_area_mm2 = {}", area, s.max_area_mm2);
  } else if (a.ifmap_sram_kb + a.filter_sram_kb + a.ofmap_sram_kb > s.max_sram_kb) {
    *reason = fmt::format("SRAM = {} kB, must be <= max_sram_kb = {}",
                          a.ifmap_sram_kb + a.filter_sram_kb + a.ofmap_sram_kb, s.max_sram_kb);
  } else if (a.rows * a.cols > s.max_pes) {
    *reason = fmt::format("PEs = {}, must be <= max_pes = {}", a.rows * a.cols, s.max_pes);
  }
  return {};
}

// Evaluates one point on every layer with the chosen engine.
PointResult evaluate(const Workload& w, const ArrayConfig& a, Evaluator ev, const EnergyTable& t,
                     std::vector<LayerStats>* keep = nullptr) {
  PointResult p;
  p.array = a;
  p.exact = ev == Evaluator::kExact;
  LayerSimulator sim(a);  // repeated layer shapes are simulated once
  for (const Layer& l : w.layers) {
    LayerStats s;
    if (ev == Evaluator::kExact) {
      Result<LayerStats> r = sim.simulate(l);
      if (!r.ok()) {
        p.feasible = false;
        p.reason = fmt::format("layer '{}': {}", l.name, r.status().message());
        return p;
      }
      s = *r;
    } else {
      s = estimate_layer(l, a);
    }
    p.cycles += s.total_cycles;
    p.stall_cycles += s.stall_cycles;
    p.macs += double(s.macs);
    p.dram_bytes += double(s.dram_bytes());
    p.energy += layer_energy(t, action_counts(s), a);
    if (keep) keep->push_back(s);
  }
  p.energy_pj = p.energy.total();
  p.area_mm2 = area_mm2(t, a);
  p.utilization = p.cycles > 0 ? 100 * p.macs / (double(p.cycles) * double(a.rows * a.cols)) : 0;
  return p;
}

double pct(double from, double to) { return from != 0 ? 100 * (to - from) / from : 0; }

}  // namespace

std::vector<ArrayConfig> DesignSpace::points() const {
  std::vector<ArrayConfig> out;
  for (const auto& [r, c] : arrays) {
    for (Dataflow d : dataflows) {
      for (const auto& kb : srams) {
        for (int64_t bw : bandwidths) {
          ArrayConfig a;
          a.rows = r;
          a.cols = c;
          a.dataflow = d;
          a.ifmap_sram_kb = kb[0];
          a.filter_sram_kb = kb[1];
          a.ofmap_sram_kb = kb[2];
          a.bandwidth = bw;
          a.mode = mode;
          out.push_back(a);
        }
      }
    }
  }
  return out;
}

Result<DesignSpace> parse_design_space(std::string_view text, std::string_view source) {
  toml::table root;
  try {
    root = toml::parse(text, source);
  } catch (const toml::parse_error& e) {
    return invalid_argument("{}:{}: cannot read design space: {}", source, e.source().begin.line,
                            e.description());
  }
  DesignSpace s;
  auto line = [](const toml::node& n) { return n.source().begin.line; };
  auto err = [&](const toml::node& n, std::string what) {
    return invalid_argument("{}:{}: cannot read design space: {}", source, line(n), what);
  };
  auto positive = [&](const toml::node& n, std::string_view key) -> Result<int64_t> {
    std::optional<int64_t> v = n.value<int64_t>();
    if (!v || *v < 1) return err(n, fmt::format("{} entry must be an integer >= 1", key));
    return *v;
  };
  for (const auto& [k, node] : root) {
    const std::string key(k.str());
    if (key == "name") {
      s.name = node.value_or(std::string("space"));
    } else if (key == "arrays" && node.is_array()) {
      for (const toml::node& e : *node.as_array()) {
        const std::string v = e.value_or(std::string());
        const size_t x = v.find('x');
        int64_t r = 0, c = 0;
        if (x == std::string::npos || std::sscanf(v.c_str(), "%ldx%ld", &r, &c) != 2 || r < 1 ||
            c < 1) {
          return err(e, fmt::format("arrays entry = '{}', must be \"ROWSxCOLS\"", v));
        }
        s.arrays.emplace_back(r, c);
      }
    } else if (key == "dataflows" && node.is_array()) {
      for (const toml::node& e : *node.as_array()) {
        Result<Dataflow> d = parse_dataflow(e.value_or(std::string()));
        if (!d.ok()) return d.status().with_context(fmt::format("{}:{}", source, line(e)));
        s.dataflows.push_back(*d);
      }
    } else if (key == "sram_kb" && node.is_array()) {
      for (const toml::node& e : *node.as_array()) {
        const toml::array* tri = e.as_array();
        if (tri == nullptr || tri->size() != 3) {
          return err(e, "sram_kb entry must be [ifmap_kb, filter_kb, ofmap_kb]");
        }
        std::array<int64_t, 3> kb{};
        for (size_t i = 0; i < 3; ++i) {
          EI8_ASSIGN_OR_RETURN(kb[i], positive((*tri)[i], "sram_kb"));
        }
        s.srams.push_back(kb);
      }
    } else if (key == "bandwidths" && node.is_array()) {
      for (const toml::node& e : *node.as_array()) {
        EI8_ASSIGN_OR_RETURN(int64_t bw, positive(e, "bandwidths"));
        s.bandwidths.push_back(bw);
      }
    } else if (key == "bandwidth_mode") {
      const std::string v = node.value_or(std::string());
      if (v != "USER" && v != "CALC")
        return err(node, fmt::format("bandwidth_mode = '{}', must be USER or CALC", v));
      s.mode = v == "USER" ? BandwidthMode::kUser : BandwidthMode::kCalc;
    } else if (key == "evaluator") {
      const std::string v = node.value_or(std::string());
      if (v != "analytic" && v != "exact") {
        return err(node, fmt::format("evaluator = '{}', must be analytic or exact", v));
      }
      s.evaluator = v == "exact" ? Evaluator::kExact : Evaluator::kAnalytic;
    } else if (key == "verify_front") {
      s.verify_front = node.value_or(true);
    } else if (key == "energy_table") {
      s.energy_table = node.value_or(std::string());
    } else if (key == "constraints" && node.is_table()) {
      for (const auto& [ck, cv] : *node.as_table()) {
        const std::string c(ck.str());
        if (c == "max_area_mm2") {
          std::optional<double> v = cv.value<double>();
          if (!v || *v <= 0) return err(cv, "max_area_mm2 must be a number > 0");
          s.max_area_mm2 = *v;
        } else if (c == "max_sram_kb") {
          EI8_ASSIGN_OR_RETURN(s.max_sram_kb, positive(cv, "max_sram_kb"));
        } else if (c == "max_pes") {
          EI8_ASSIGN_OR_RETURN(s.max_pes, positive(cv, "max_pes"));
        } else {
          return err(cv, fmt::format("constraints.{} is unknown, must be max_area_mm2, "
                                     "max_sram_kb or max_pes",
                                     c));
        }
      }
    } else {
      return err(node, fmt::format("key = {}, must be one of name, arrays, dataflows, sram_kb, "
                                   "bandwidths, bandwidth_mode, evaluator, verify_front, "
                                   "energy_table, [constraints]",
                                   key));
    }
  }
  if (s.arrays.empty() || s.dataflows.empty() || s.srams.empty() || s.bandwidths.empty()) {
    return invalid_argument(
        "{}: cannot read design space: arrays, dataflows, sram_kb and "
        "bandwidths must each list at least one value",
        source);
  }
  for (const ArrayConfig& a : s.points()) {
    Status st = a.validate();
    if (!st.ok()) return st.with_context(std::string(source));
  }
  return s;
}

Result<DesignSpace> read_design_space(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return not_found("cannot open design space: path = '{}', must be a readable file", path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return parse_design_space(ss.str(), path);
}

std::vector<size_t> pareto_front(const std::vector<PointResult>& pts) {
  // Point j dominates point i when it is no worse on the three objectives and better on one,
  // or identical with j < i (identical points: the first one stays). That relation is a strict
  // order, so a dominated point is dominated by a front point: visiting the feasible points by
  // (cycles, energy, area, index), where a dominator always comes first, each point is checked
  // against the front found so far only — O(points · front) instead of O(points²).
  std::vector<size_t> order;
  for (size_t i = 0; i < pts.size(); ++i) {
    if (pts[i].feasible) order.push_back(i);
  }
  std::sort(order.begin(), order.end(), [&](size_t x, size_t y) {
    return std::tie(pts[x].cycles, pts[x].energy_pj, pts[x].area_mm2, x) <
           std::tie(pts[y].cycles, pts[y].energy_pj, pts[y].area_mm2, y);
  });
  std::vector<size_t> front;
  for (size_t i : order) {
    const PointResult& b = pts[i];
    bool dominated = false;
    for (size_t j : front) {
      const PointResult& a = pts[j];
      if (a.cycles <= b.cycles && a.energy_pj <= b.energy_pj && a.area_mm2 <= b.area_mm2) {
        dominated = true;  // better on one axis, or identical and earlier (j < i by the order)
        break;
      }
    }
    if (!dominated) front.push_back(i);
  }
  // The published order: by area, then cycles (from index order, as before).
  std::sort(front.begin(), front.end());
  std::sort(front.begin(), front.end(), [&](size_t x, size_t y) {
    return std::tie(pts[x].area_mm2, pts[x].cycles) < std::tie(pts[y].area_mm2, pts[y].cycles);
  });
  return front;
}

std::vector<ArrayConfig> dse_points(const Workload& w, const DesignSpace& space) {
  std::vector<ArrayConfig> cfgs = space.points();
  // The model's operand width (Workload::operand_bytes: 1 for INT8 layers, 4 for FP32; 0 for a
  // topology file, whose words are SCALE-Sim's 1 byte).
  for (ArrayConfig& a : cfgs) a.word_bytes = w.operand_bytes > 0 ? w.operand_bytes : 1;
  return cfgs;
}

PointResult evaluate_design_point(const Workload& w, const DesignSpace& space,
                                  const EnergyTable& table, const ArrayConfig& cfg) {
  const double area = area_mm2(table, cfg);
  std::string reason;
  (void)check_point(space, cfg, area, &reason);
  if (!reason.empty()) {
    PointResult p;
    p.array = cfg;
    p.feasible = false;
    p.reason = reason;
    p.area_mm2 = area;
    return p;
  }
  return evaluate(w, cfg, space.evaluator, table);
}

std::string encode_point_record(const PointResult& p) {
  dist::RecordWriter o;
  o.boolean(p.feasible).str(p.reason).boolean(p.exact).i64(p.cycles).i64(p.stall_cycles);
  o.f64(p.energy_pj).f64(p.area_mm2);
  const LayerEnergy& e = p.energy;
  o.f64(e.mac).f64(e.array).f64(e.ifmap_sram).f64(e.filter_sram).f64(e.ofmap_sram).f64(e.dram);
  o.f64(e.leakage).f64(p.macs).f64(p.dram_bytes).f64(p.utilization).i64(p.analytic_cycles);
  o.f64(p.analytic_energy_pj).boolean(p.on_front);
  return o.take();
}

Status decode_point_record(std::string_view bytes, PointResult* p) {
  dist::RecordReader in(bytes, "a DSE point record");
  p->feasible = in.boolean();
  p->reason = in.str();
  p->exact = in.boolean();
  p->cycles = in.i64();
  p->stall_cycles = in.i64();
  p->energy_pj = in.f64();
  p->area_mm2 = in.f64();
  LayerEnergy& e = p->energy;
  e.mac = in.f64();
  e.array = in.f64();
  e.ifmap_sram = in.f64();
  e.filter_sram = in.f64();
  e.ofmap_sram = in.f64();
  e.dram = in.f64();
  e.leakage = in.f64();
  p->macs = in.f64();
  p->dram_bytes = in.f64();
  p->utilization = in.f64();
  p->analytic_cycles = in.i64();
  p->analytic_energy_pj = in.f64();
  p->on_front = in.boolean();
  return in.status();
}

Result<DseResult> run_dse(const Workload& w, const DesignSpace& space, const EnergyTable& table,
                          int threads) {
  if (w.layers.empty())
    return invalid_argument("cannot run DSE: workload '{}' has no layer", w.name);
  const std::vector<ArrayConfig> cfgs = dse_points(w, space);
  std::vector<PointResult> points(cfgs.size());
  std::atomic<size_t> next{0};
  const auto t0 = std::chrono::steady_clock::now();
  auto worker = [&] {
    for (size_t i = next++; i < cfgs.size(); i = next++) {
      points[i] = evaluate_design_point(w, space, table, cfgs[i]);
    }
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < std::max(threads, 1); ++t) pool.emplace_back(worker);
  worker();
  for (std::thread& t : pool) t.join();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return finish_dse(w, space, table, std::move(points), threads, seconds);
}

Result<DseResult> finish_dse(const Workload& w, const DesignSpace& space, const EnergyTable& table,
                             std::vector<PointResult> points, int threads, double sweep_seconds) {
  if (w.layers.empty())
    return invalid_argument("cannot run DSE: workload '{}' has no layer", w.name);
  DseResult r;
  r.space_name = space.name;
  r.energy_table_name = table.name;
  r.points = std::move(points);
  r.sweep_seconds = sweep_seconds;
  for (const PointResult& p : r.points) {
    if (p.feasible) r.evaluations += static_cast<int64_t>(w.layers.size());
  }

  auto pick = [&](auto key) {
    size_t best = 0;
    bool found = false;
    for (size_t i : r.front) {  // each objective's minimum lies on the front
      if (!found || key(r.points[i]) < key(r.points[best])) best = i, found = true;
    }
    return std::pair{best, found};
  };
  r.front = pareto_front(r.points);
  r.any_feasible = !r.front.empty();
  if (!r.any_feasible) {
    r.analysis =
        "# DSE analysis\n\nNo feasible design point: every point violates a constraint "
        "(see `reason` in points.csv).\n";
    return r;
  }
  // Re-evaluate front points with the exact simulator, then recompute the selection on the
  // verified numbers (other points keep their analytic estimates).
  // Until every front point is exact: re-simulate the unverified ones, recompute the front.
  while (space.evaluator == Evaluator::kAnalytic && space.verify_front) {
    std::vector<size_t> todo;
    for (size_t i : r.front) {
      if (!r.points[i].exact) todo.push_back(i);
    }
    if (todo.empty()) break;
    std::atomic<size_t> k{0};
    auto verify = [&] {
      for (size_t j = k++; j < todo.size(); j = k++) {
        PointResult& p = r.points[todo[j]];
        PointResult e = evaluate(w, p.array, Evaluator::kExact, table);
        e.analytic_cycles = p.cycles;
        e.analytic_energy_pj = p.energy_pj;
        p = e;
      }
    };
    std::vector<std::thread> vpool;
    for (int t = 1; t < std::max(threads, 1); ++t) vpool.emplace_back(verify);
    verify();
    for (std::thread& t : vpool) t.join();
    r.front = pareto_front(r.points);
    r.any_feasible = !r.front.empty();
    if (!r.any_feasible) break;
  }
  for (size_t i : r.front) r.points[i].on_front = true;
  r.best_cycles = pick([](const PointResult& p) { return double(p.cycles); }).first;
  r.best_energy = pick([](const PointResult& p) { return p.energy_pj; }).first;
  r.best_area = pick([](const PointResult& p) { return p.area_mm2; }).first;
  r.best_edp = pick([](const PointResult& p) { return p.edp(); }).first;
  const PointResult &c0 = r.points[r.best_cycles], &e0 = r.points[r.best_energy],
                    &a0 = r.points[r.best_area];
  // Balanced: on the front, minimise the product of the three ratios to their best values.
  double best_score = 0;
  for (size_t i : r.front) {
    const PointResult& p = r.points[i];
    const double score = (double(p.cycles) / double(c0.cycles)) * (p.energy_pj / e0.energy_pj) *
                         (p.area_mm2 / a0.area_mm2);
    if (i == r.front.front() || score < best_score) best_score = score, r.balanced = i;
  }

  // ---- Analysis (Markdown) ----
  const PointResult& rec = r.points[r.balanced];
  std::string md = "# Design-space exploration: why this configuration\n\n";
  int64_t feasible = 0;
  for (const PointResult& p : r.points) feasible += p.feasible;
  md += fmt::format(
      "Workload `{}`: {} layers, {:.3g} MACs. Space `{}`: {} points, {} feasible. Sweep engine: "
      "{}{}; energy table: {}.\n\n",
      w.name, w.layers.size(), rec.macs, space.name, r.points.size(), feasible,
      space.evaluator == Evaluator::kExact ? "exact (SCALE-Sim v2 compatible)" : "analytic",
      space.evaluator == Evaluator::kAnalytic && space.verify_front
          ? ", Pareto-front points re-simulated exactly"
          : "",
      table.name);
  md +=
      "## Best point per objective\n\n| objective | design | cycles | energy (uJ) | area (mm2) | "
      "utilization |\n|---|---|---:|---:|---:|---:|\n";
  auto row = [&](const char* what, const PointResult& p) {
    md += fmt::format("| {} | {} | {} | {:.3f} | {:.3f} | {:.1f}% |\n", what, point_name(p.array),
                      p.cycles, p.energy_pj * 1e-6, p.area_mm2, p.utilization);
  };
  row("fewest cycles", c0);
  row("least energy", e0);
  row("smallest area", a0);
  row("lowest energy-delay", r.points[r.best_edp]);
  row("**recommended (balanced)**", rec);
  md += fmt::format(
      "\n## Pareto front ({} points, by area)\n\n| design | cycles | energy (uJ) | "
      "area (mm2) | exact |\n|---|---:|---:|---:|---|\n",
      r.front.size());
  for (size_t i : r.front) {
    const PointResult& p = r.points[i];
    md += fmt::format("| {} | {} | {:.3f} | {:.3f} | {} |\n", point_name(p.array), p.cycles,
                      p.energy_pj * 1e-6, p.area_mm2, p.exact ? "yes" : "no");
  }
  // Diminishing returns along the front: marginal cycle reduction per added mm².
  md += "\n## Diminishing returns along the front\n\n";
  {
    int64_t prev_cycles = -1;
    double prev_area = 0, first_gain = 0;
    bool knee_reported = false;
    for (size_t i : r.front) {
      const PointResult& p = r.points[i];
      if (prev_cycles > 0 && p.cycles < prev_cycles) {
        const double gain = double(prev_cycles - p.cycles) / double(prev_cycles) /
                            std::max(p.area_mm2 - prev_area, 1e-9);  // fraction per mm²
        if (first_gain == 0) first_gain = gain;
        md += fmt::format("- to {}: {:.1f}% fewer cycles for +{:.3f} mm2 ({:.1f}% per mm2)\n",
                          point_name(p.array),
                          100.0 * double(prev_cycles - p.cycles) / double(prev_cycles),
                          p.area_mm2 - prev_area, 100 * gain);
        if (!knee_reported && gain < first_gain / 4) {
          md += fmt::format(
              "  - **knee**: from here each mm2 buys less than a quarter of what the "
              "first step bought\n");
          knee_reported = true;
        }
      }
      if (prev_cycles < 0 || p.cycles < prev_cycles) prev_cycles = p.cycles, prev_area = p.area_mm2;
    }
  }
  // One-parameter neighbours of the recommended point.
  md += fmt::format("\n## Why {} — changing one parameter at a time\n\n", point_name(rec.array));
  md +=
      "Neighbours use the sweep engine's numbers (exact where marked on the front).\n\n| change | "
      "cycles | energy | area | note |\n|---|---:|---:|---:|---|\n";
  for (const PointResult& p : r.points) {
    if (!p.feasible || &p == &rec) continue;
    const ArrayConfig &a = p.array, &b = rec.array;
    const int diffs = (a.rows != b.rows || a.cols != b.cols) + (a.dataflow != b.dataflow) +
                      (sram_name(a) != sram_name(b)) + (a.bandwidth != b.bandwidth);
    if (diffs != 1) continue;
    std::string change;
    if (a.rows != b.rows || a.cols != b.cols) change = "array " + array_name(a);
    if (a.dataflow != b.dataflow) change = fmt::format("dataflow {}", dataflow_name(a.dataflow));
    if (sram_name(a) != sram_name(b)) change = "SRAM " + sram_name(a) + " kB";
    if (a.bandwidth != b.bandwidth) change = fmt::format("bandwidth {}", a.bandwidth);
    std::string note;
    if (p.cycles < rec.cycles && p.energy_pj > rec.energy_pj) note = "faster but costs energy";
    if (p.cycles >= rec.cycles && p.energy_pj >= rec.energy_pj && p.area_mm2 >= rec.area_mm2) {
      note = "worse on every axis";
    }
    if (p.cycles < rec.cycles && p.area_mm2 > rec.area_mm2 &&
        pct(double(rec.cycles), double(p.cycles)) > -0.5 * pct(rec.area_mm2, p.area_mm2)) {
      note = "diminishing return: speed-up smaller than half the area growth";
    }
    md += fmt::format("| {} | {:+.1f}% | {:+.1f}% | {:+.1f}% | {} |\n", change,
                      pct(double(rec.cycles), double(p.cycles)), pct(rec.energy_pj, p.energy_pj),
                      pct(rec.area_mm2, p.area_mm2), note);
  }
  // Roofline of the recommended point, exactly simulated.
  std::vector<LayerStats> stats;
  const PointResult exact = evaluate(w, rec.array, Evaluator::kExact, table, &stats);
  if (exact.feasible) {
    md += fmt::format(
        "\n## Per-layer roofline at {} (exact simulation)\n\n| layer | MACs | MAC per "
        "DRAM byte | attained MAC/cycle (peak {}) | verdict |\n|---|---:|---:|---:|---|\n",
        point_name(rec.array), rec.array.rows * rec.array.cols);
    for (size_t i = 0; i < stats.size(); ++i) {
      const Roofline rf = layer_roofline(stats[i], rec.array);
      md += fmt::format("| {} | {} | {:.2f} | {:.1f} | {} |\n", w.layers[i].name, stats[i].macs,
                        rf.intensity, rf.attained, rf.why);
    }
    md += fmt::format(
        "\nEnergy of the recommended point by component: MAC {:.1f}%, array {:.1f}%, "
        "ifmap SRAM {:.1f}%, filter SRAM {:.1f}%, ofmap SRAM {:.1f}%, DRAM {:.1f}%.\n",
        100 * exact.energy.mac / exact.energy_pj, 100 * exact.energy.array / exact.energy_pj,
        100 * exact.energy.ifmap_sram / exact.energy_pj,
        100 * exact.energy.filter_sram / exact.energy_pj,
        100 * exact.energy.ofmap_sram / exact.energy_pj, 100 * exact.energy.dram / exact.energy_pj);
  }
  r.analysis = md;
  return r;
}

nlohmann::json point_json(const PointResult& p) {
  nlohmann::json j = {{"array", array_name(p.array)},
                      {"rows", p.array.rows},
                      {"cols", p.array.cols},
                      {"dataflow", dataflow_name(p.array.dataflow)},
                      {"ifmap_sram_kb", p.array.ifmap_sram_kb},
                      {"filter_sram_kb", p.array.filter_sram_kb},
                      {"ofmap_sram_kb", p.array.ofmap_sram_kb},
                      {"bandwidth", p.array.bandwidth},
                      {"feasible", p.feasible},
                      {"area_mm2", p.area_mm2}};
  if (!p.feasible) {
    j["reason"] = p.reason;
    return j;
  }
  j["exact"] = p.exact;
  j["cycles"] = p.cycles;
  j["stall_cycles"] = p.stall_cycles;
  j["energy_uj"] = p.energy_pj * 1e-6;
  j["energy_breakdown_uj"] = {{"mac", p.energy.mac * 1e-6},
                              {"array", p.energy.array * 1e-6},
                              {"ifmap_sram", p.energy.ifmap_sram * 1e-6},
                              {"filter_sram", p.energy.filter_sram * 1e-6},
                              {"ofmap_sram", p.energy.ofmap_sram * 1e-6},
                              {"dram", p.energy.dram * 1e-6},
                              {"leakage", p.energy.leakage * 1e-6}};
  j["utilization_pct"] = p.utilization;
  j["dram_bytes"] = p.dram_bytes;
  j["on_front"] = p.on_front;
  if (p.analytic_cycles > 0) {
    j["analytic_cycles"] = p.analytic_cycles;
    j["analytic_energy_uj"] = p.analytic_energy_pj * 1e-6;
  }
  return j;
}

Status write_dse_outputs(const DseResult& r, const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return io_error("cannot create output directory: path = '{}': {}", dir, ec.message());
  std::string csv =
      "rows,cols,dataflow,ifmap_sram_kb,filter_sram_kb,ofmap_sram_kb,bandwidth,feasible,reason,"
      "exact,cycles,stall_cycles,energy_uj,area_mm2,utilization_pct,dram_bytes,on_front\n";
  // points.json is the text of nlohmann's dump(2) of the array of every point, written one
  // element at a time (a million points would otherwise hold gigabytes of json objects): each
  // element's dump(2) indented by two more spaces (values have no raw newline: JSON escapes it).
  std::string all = r.points.empty() ? "[]" : "[\n";
  for (const PointResult& p : r.points) {
    csv += fmt::format("{},{},{},{},{},{},{},{},\"{}\",{},{},{},{:.6f},{:.6f},{:.3f},{:.0f},{}\n",
                       p.array.rows, p.array.cols, dataflow_name(p.array.dataflow),
                       p.array.ifmap_sram_kb, p.array.filter_sram_kb, p.array.ofmap_sram_kb,
                       p.array.bandwidth, p.feasible ? 1 : 0, p.reason, p.exact ? 1 : 0, p.cycles,
                       p.stall_cycles, p.energy_pj * 1e-6, p.area_mm2, p.utilization, p.dram_bytes,
                       p.on_front ? 1 : 0);
    const std::string element = point_json(p).dump(2);
    if (&p != &r.points.front()) all += ",\n";
    all += "  ";
    for (char c : element) {
      all += c;
      if (c == '\n') all += "  ";
    }
  }
  if (!r.points.empty()) all += "\n]";
  std::string front_csv =
      "rows,cols,dataflow,ifmap_sram_kb,filter_sram_kb,ofmap_sram_kb,bandwidth,"
      "exact,cycles,energy_uj,area_mm2\n";
  nlohmann::json front = nlohmann::json::array();
  for (size_t i : r.front) {
    const PointResult& p = r.points[i];
    front_csv += fmt::format("{},{},{},{},{},{},{},{},{},{:.6f},{:.6f}\n", p.array.rows,
                             p.array.cols, dataflow_name(p.array.dataflow), p.array.ifmap_sram_kb,
                             p.array.filter_sram_kb, p.array.ofmap_sram_kb, p.array.bandwidth,
                             p.exact ? 1 : 0, p.cycles, p.energy_pj * 1e-6, p.area_mm2);
    front.push_back(point_json(p));
  }
  nlohmann::json best = {{"space", r.space_name},
                         {"energy_table", r.energy_table_name},
                         {"evaluations", r.evaluations},
                         {"pareto_front", front}};
  if (r.timings) best["sweep_seconds"] = r.sweep_seconds;
  if (r.any_feasible) {
    best["best"] = {{"cycles", point_json(r.points[r.best_cycles])},
                    {"energy", point_json(r.points[r.best_energy])},
                    {"area", point_json(r.points[r.best_area])},
                    {"edp", point_json(r.points[r.best_edp])},
                    {"balanced", point_json(r.points[r.balanced])}};
  }
  const std::pair<const char*, std::string> files[] = {{"points.csv", csv},
                                                       {"points.json", all + "\n"},
                                                       {"pareto.csv", front_csv},
                                                       {"best.json", best.dump(2) + "\n"},
                                                       {"analysis.md", r.analysis}};
  OutputFiles out;  // all five files or none
  for (const auto& [name, text] : files) {
    EI8_RETURN_IF_ERROR(out.add((std::filesystem::path(dir) / name).string(), text));
  }
  return out.commit();
}

}  // namespace ei8::arch
