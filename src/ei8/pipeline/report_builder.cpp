#include "ei8/pipeline/report_builder.h"

#include <fmt/ranges.h>

#include <filesystem>

#include "ei8/core/npy.h"
#include "ei8/report/document.h"
#include "ei8/report/figure.h"
#include "ei8/report/table.h"

namespace ei8::pipeline {
namespace fs = std::filesystem;
using report::Document;
using report::Table;

namespace {

// Why a table is absent: the state of the step that should have written it.
std::string absent_reason(const StepContext& ctx, std::string_view step_prefix) {
  if (ctx.previous != nullptr) {
    for (const auto& r : *ctx.previous) {
      if (r.name.rfind(step_prefix, 0) == 0 && r.state != StepState::kOk &&
          r.state != StepState::kCached) {
        return fmt::format("step `{}` {}: {}", r.name, step_state_name(r.state), r.detail);
      }
    }
  }
  return fmt::format("no step `{}` produced it in this run", step_prefix);
}

// Adds the table at tables/<name>.csv, or a sentence saying why it is missing.
void add_table(Document& d, const StepContext& ctx, std::string_view name,
               std::string_view step_prefix, std::string caption) {
  const std::string path = ctx.path(fmt::format("tables/{}.csv", name));
  if (fs::exists(path)) {
    Result<Table> t = Table::read_csv(path);
    if (t.ok()) {
      d.table(t.value(), fmt::format("{} (`tables/{}.csv`)", caption, name));
      return;
    }
    d.paragraph(fmt::format("*`tables/{}.csv` could not be read: {}*", name, t.status().message()));
    return;
  }
  d.paragraph(fmt::format("*Not measured in this run — {}.*", absent_reason(ctx, step_prefix)));
}

void add_figure(Document& d, const StepContext& ctx, std::string_view stem, std::string caption) {
  const std::string rel = fmt::format("figures/{}.png", stem);
  if (fs::exists(ctx.path(rel))) d.figure(rel, std::move(caption));
}

// Latency per sample, FP32 (ours, ONNX Runtime) vs INT8 (ours, the sweep's fastest config),
// batch 1 and 32, from fp32_baseline.csv and ptq_sweep_<w>.csv. Returns false when either
// table or a value is missing (no figure).
Result<bool> latency_figure(const StepContext& ctx, const std::string& w) {
  Result<Table> fp = Table::read_csv(ctx.path("tables/fp32_baseline.csv"));
  Result<Table> sw = Table::read_csv(ctx.path(fmt::format("tables/ptq_sweep_{}.csv", w)));
  if (!fp.ok() || !sw.ok()) return false;
  Result<size_t> row = fp->find_row("workload", w);
  if (!row.ok()) return false;
  // The INT8 configuration with the lowest batch-1 latency.
  size_t best = sw->num_rows();
  for (size_t r = 0; r < sw->num_rows(); ++r) {
    Result<double> v = sw->number(r, "latency_b1_us");
    if (v.ok() && (best == sw->num_rows() || *v < sw->number(best, "latency_b1_us").value())) {
      best = r;
    }
  }
  if (best == sw->num_rows()) return false;
  report::Figure f{.kind = report::FigureKind::kGroupedBars,
                   .title = fmt::format("Latency per sample, FP32 vs INT8, one thread, {}", w),
                   .xlabel = "batch size",
                   .ylabel = "latency per sample (us)",
                   .categories = {"batch 1", "batch 32"}};
  auto series = [&](const Table& t, size_t r, const std::string& b1, const std::string& b32,
                    const std::string& label) {
    Result<double> v1 = t.number(r, b1), v32 = t.number(r, b32);
    if (v1.ok() && v32.ok()) f.series.push_back({.label = label, .y = {*v1, *v32 / 32}});
  };
  series(*fp, *row, "latency_b1_p50_us", "latency_b32_p50_us", "FP32, our runtime");
  series(*fp, *row, "ort_b1_p50_us", "ort_b32_p50_us", "FP32, ONNX Runtime 1.30");
  series(*sw, best, "latency_b1_us", "latency_b32_us",
         fmt::format("INT8, our integer engine ({}, {}, {})", sw->text(best, "method").value(),
                     sw->text(best, "weights").value(), sw->text(best, "activations").value()));
  if (f.series.size() < 2) return false;
  f.ymin = 0;
  EI8_RETURN_IF_ERROR(report::render(f, ctx.path("figures/ptq_latency_" + w)));
  return true;
}

// The executive summary: headline findings, each value copied (as text, exactly as written)
// from the CSV cell that the step which measured it wrote, with that cell's address.
class Summary {
 public:
  explicit Summary(const StepContext& ctx) : ctx_(ctx) {}

  // Adds `finding` = tables/<name>.csv [row where key_col == key][col] when present.
  void cell(const std::string& workload, const std::string& finding, const std::string& name,
            const std::string& key_col, const std::string& key, const std::string& col,
            const std::string& unit) {
    const Table* t = table(name);
    if (t == nullptr) return;
    Result<size_t> r = t->find_row(key_col, key);
    if (!r.ok()) return;
    add(workload, finding, *t, *r, col, unit,
        fmt::format("tables/{}.csv, {} = {}, {}", name, key_col, key, col));
  }

  // Adds the row of tables/<name>.csv with the best (max or min) value of `col` among the rows
  // whose `where.first` column equals `where.second` (all rows when empty); `label_cols` name
  // the row in the finding.
  void best(const std::string& workload, const std::string& finding, const std::string& name,
            const std::string& col, bool maximize, const std::vector<std::string>& label_cols,
            const std::string& unit, const std::pair<std::string, std::string>& where = {}) {
    const Table* t = table(name);
    if (t == nullptr || t->num_rows() == 0) return;
    size_t best_row = 0;
    double best_value = 0;
    bool found = false;
    for (size_t r = 0; r < t->num_rows(); ++r) {
      if (!where.first.empty()) {
        Result<std::string> k = t->text(r, where.first);
        if (!k.ok() || *k != where.second) continue;
      }
      Result<double> v = t->number(r, col);
      if (!v.ok()) continue;
      if (!found || (maximize ? *v > best_value : *v < best_value)) {
        best_row = r;
        best_value = *v;
        found = true;
      }
    }
    if (!found) return;
    std::vector<std::string> labels;
    for (const auto& c : label_cols) {
      Result<std::string> l = t->text(best_row, c);
      if (l.ok()) labels.push_back(*l);
    }
    add(workload, fmt::format("{} ({})", finding, fmt::join(labels, ", ")), *t, best_row, col, unit,
        fmt::format("tables/{}.csv, row {}, {}", name, best_row + 1, col));
  }

  const Table& result() const { return out_; }

 private:
  const Table* table(const std::string& name) {
    for (auto& [n, t] : cache_) {
      if (n == name) return &t;
    }
    Result<Table> t = Table::read_csv(ctx_.path(fmt::format("tables/{}.csv", name)));
    if (!t.ok()) return nullptr;
    cache_.emplace_back(name, std::move(t.value()));
    return &cache_.back().second;
  }
  void add(const std::string& workload, const std::string& finding, const Table& t, size_t row,
           const std::string& col, const std::string& unit, const std::string& source) {
    Result<std::string> v = t.text(row, col);
    if (!v.ok() || v->empty()) return;
    out_.add_row({workload, finding, *v, unit, source});
  }

  const StepContext& ctx_;
  std::vector<std::pair<std::string, Table>> cache_;
  Table out_{{"workload", "finding", "value", "unit", "source"}};
};

Table summary_table(const StepContext& ctx, const RunAllSettings& s) {
  Summary sum(ctx);
  for (const auto& w : s.workloads) {
    sum.cell(w, "FP32 test accuracy (our runtime)", "fp32_baseline", "workload", w, "accuracy_ours",
             "fraction");
    sum.cell(w, "FP32 latency, batch 1, p50 (ours)", "fp32_baseline", "workload", w,
             "latency_b1_p50_us", "us");
    sum.cell(w, "FP32 latency, batch 1, p50 (ONNX Runtime)", "fp32_baseline", "workload", w,
             "ort_b1_p50_us", "us");
    sum.best(w, "best INT8 accuracy", "ptq_sweep_" + w, "accuracy_pct", true,
             {"method", "weights", "activations"}, "%");
    sum.best(w, "smallest INT8 accuracy drop vs FP32", "ptq_sweep_" + w, "drop_points", false,
             {"method", "weights", "activations"}, "points");
    sum.best(w, "fastest INT8 configuration, batch 1", "ptq_sweep_" + w, "latency_b1_us", false,
             {"method", "weights", "activations"}, "us");
    sum.cell(w, "most sensitive layer (leave-one-out rank 1)", "sensitivity_" + w, "rank", "1",
             "node", "");
    sum.best(w, "lowest per-layer activation SQNR", "layer_error_" + w, "sqnr_db", false, {"node"},
             "dB");
    sum.best(w, "fewest cycles in the DSE", "dse_points_" + w, "cycles", false,
             {"array", "dataflow", "sram_kb", "bandwidth"}, "cycles", {"feasible", "yes"});
    sum.best(w, "least energy in the DSE", "dse_points_" + w, "energy_nj", false,
             {"array", "dataflow", "sram_kb", "bandwidth"}, "nJ", {"feasible", "yes"});
  }
  for (const auto& w : s.workloads) {
    sum.cell(w, "peak arena of the generated C, TFLM greedy-by-size", "deploy_arena_" + w,
             "planner", "greedy-by-size (TFLM)", "peak_arena_bytes", "bytes");
    sum.cell(w, "peak arena of the generated C, in-place best fit", "deploy_arena_" + w, "planner",
             "inplace-bestfit", "peak_arena_bytes", "bytes");
    sum.cell(w, "generated C on the host vs the integer engine", "deploy_" + w, "target", "host",
             "status", "");
    sum.cell(w, "generated C under QEMU (Cortex-M4) vs the integer engine", "deploy_" + w, "target",
             "cortex-m4", "status", "");
    sum.cell(w, "flash of the model on a Cortex-M4 (code + constants)", "deploy_" + w, "target",
             "cortex-m4", "model_flash_bytes", "bytes");
  }
  sum.best("all", "widest exact accumulator any layer needs", "bitgrowth", "worst_case_bits", true,
           {"layer"}, "bits");
  sum.best("all", "largest wrap / saturate error ratio", "overflow_summary", "wrap_over_saturate",
           true, {"width"}, "ratio");
  return sum.result();
}

// Text of tables/<name>.csv [row][col], or "" when absent: the prose below quotes cells, exactly
// as the CSV has them, and computes nothing.
std::string cell(const Table& t, size_t row, const std::string& col) {
  Result<std::string> v = t.text(row, col);
  return v.ok() ? *v : std::string();
}

// Part D's DSE analysis for workload `w`: the recommended point, diminishing returns along the
// Pareto front, the one-parameter neighbours of the recommended point, its roofline and energy
// split — each a table written by the arch.dse step, the sentences quoting their cells.
void add_dse_analysis(Document& d, const StepContext& ctx, const std::string& w) {
  const auto read = [&](const std::string& name) {
    return Table::read_csv(ctx.path(fmt::format("tables/{}_{}.csv", name, w)));
  };
  Result<Table> overview = read("dse_overview");
  Result<Table> best = read("dse_best");
  if (overview.ok() && best.ok()) {
    const auto ov = [&](const std::string& key) {
      Result<size_t> r = overview->find_row("key", key);
      return r.ok() ? cell(*overview, *r, "value") : std::string();
    };
    std::string text = fmt::format(
        "The design space `{}` has {} points, {} of them feasible, {} on the Pareto front "
        "(sweep engine: {}; front re-simulated exactly: {}; energy table: {}).",
        ov("space"), ov("points"), ov("feasible_points"), ov("pareto_points"), ov("sweep_engine"),
        ov("front_resimulated_exactly"), ov("energy_table"));
    if (Result<size_t> r = best->find_row("objective", "balanced"); r.ok()) {
      text += fmt::format(
          " Recommended (balanced: the front point minimising the product of its cycles, energy "
          "and area relative to the best of each): {} {}, SRAM {} kB, bandwidth {} — {} cycles, "
          "{} nJ, {} mm2 (`tables/dse_best_{}.csv`, objective = balanced).",
          cell(*best, *r, "array"), cell(*best, *r, "dataflow"), cell(*best, *r, "sram_kb"),
          cell(*best, *r, "bandwidth"), cell(*best, *r, "cycles"), cell(*best, *r, "energy_nj"),
          cell(*best, *r, "area_mm2"), w);
    }
    d.paragraph(text);
  }
  add_table(d, ctx, "dse_diminishing_" + w, "arch.dse." + w,
            "DSE: diminishing returns along the Pareto front — each step to the next faster front "
            "point, cycles saved per added mm2, and that rate relative to the first step; the "
            "knee is the first step below a quarter of it, " +
                w);
  if (Result<Table> dim = read("dse_diminishing"); dim.ok() && dim->num_rows() > 0) {
    Result<size_t> knee = dim->find_row("knee", "yes");
    if (knee.ok()) {
      d.paragraph(fmt::format(
          "Knee of the front: the step from {} to {} saves {} % of the cycles for {} mm2 more, "
          "{} % per mm2 against {} % per mm2 for the first step (`tables/dse_diminishing_{}.csv`, "
          "step {}).",
          cell(*dim, *knee, "from"), cell(*dim, *knee, "to"),
          cell(*dim, *knee, "cycle_reduction_pct"), cell(*dim, *knee, "area_added_mm2"),
          cell(*dim, *knee, "reduction_pct_per_mm2"), cell(*dim, 0, "reduction_pct_per_mm2"), w,
          cell(*dim, *knee, "step")));
    } else {
      d.paragraph(fmt::format(
          "No knee along the front: no step buys less than a quarter of the first step's {} % "
          "per mm2 (`tables/dse_diminishing_{}.csv`).",
          cell(*dim, 0, "reduction_pct_per_mm2"), w));
    }
  }
  add_table(d, ctx, "dse_neighbours_" + w, "arch.dse." + w,
            "DSE: the recommended point with one parameter changed (changes in % of the "
            "recommended point's cycles, energy and area), " +
                w);
  add_table(d, ctx, "dse_roofline_" + w, "arch.dse." + w,
            "DSE: per-layer roofline at the recommended point (exact simulation), " + w);
  add_table(d, ctx, "dse_energy_share_" + w, "arch.dse." + w,
            "DSE: energy of the recommended point by component, " + w);
}
}  // namespace

Status write_report(const StepContext& ctx, const RunAllSettings& s) {
  Document d("EdgeINT8-ArchKit — end-to-end report");
  Result<Table> machine = Table::read_csv(ctx.path("tables/machine.csv"));
  std::string where = "an unrecorded machine";
  if (machine.ok()) {
    auto cpu = machine->find_row("key", "cpu");
    auto cores = machine->find_row("key", "logical_cores");
    auto isa = machine->find_row("key", "isa_tiers");
    if (cpu.ok() && cores.ok() && isa.ok()) {
      where =
          fmt::format("{} ({} logical cores; ISA tiers: {})", machine->text(*cpu, "value").value(),
                      machine->text(*cores, "value").value(), machine->text(*isa, "value").value());
    }
  }
  d.paragraph(fmt::format(
      "Generated by `edgeint8 run-all{}` on {}. Workloads: {}. Image dataset setting: `{}`.",
      s.quick ? " --quick" : "", where, fmt::join(s.workloads, ", "), s.dataset));
  if (s.quick) {
    d.paragraph(
        "**Quick mode**: tiny epochs and a reduced sweep. The numbers show that the loop works; "
        "they are not the toolkit's accuracy or speed results.");
  }

  d.heading(2, "Executive summary");
  const Table summary = summary_table(ctx, s);
  EI8_RETURN_IF_ERROR(summary.write(ctx.path("tables/summary")));
  add_table(d, ctx, "summary", "report",
            "Headline numbers, each copied from the table named in `source`");

  d.heading(2, "Part A — End-to-end inference (FP32)");
  add_table(d, ctx, "fp32_baseline", "fp32_baseline", "FP32 baseline per workload");

  d.heading(2, "Part B — INT8 post-training quantization");
  for (const auto& w : s.workloads) {
    EI8_RETURN_IF_ERROR(latency_figure(ctx, w).status());
    d.heading(3, "Workload " + w);
    add_table(d, ctx, "ptq_sweep_" + w, "ptq_sweep." + w,
              "PTQ sweep, " + w +
                  " (accuracy of the QDQ model; latency of the integer engine, one thread)");
    add_figure(d, ctx, "ptq_accuracy_" + w, "Accuracy per quantization strategy, " + w);
    add_figure(d, ctx, "ptq_latency_" + w, "Latency FP32 vs INT8, " + w);
    add_figure(d, ctx, "ptq_acc_latency_" + w, "Accuracy vs INT8 latency, " + w);
    add_table(d, ctx, "sensitivity_" + w, "sensitivity." + w,
              "Per-layer sensitivity (leave-one-out both ways) of the sweep's most accurate "
              "configuration, most sensitive first, " +
                  w);
    add_table(d, ctx, "layer_error_" + w, "sensitivity." + w,
              "Per-layer error of the INT8 activations vs FP32, " + w);
    add_figure(d, ctx, "layer_error_" + w, "Per-layer quantization error, " + w);
    add_figure(d, ctx, "calib_thresholds_" + w,
               "Activation histogram of the most sensitive layer's input with each calibrator's "
               "clip range, " +
                   w);
    std::string target;
    if (Result<Table> mp = Table::read_csv(ctx.path("tables/mixed_precision_" + w + ".csv"));
        mp.ok() && mp->num_rows() > 0) {
      Result<std::string> v = mp->text(0, "target_drop_points");
      if (v.ok()) target = fmt::format(" (target drop <= {} points)", *v);
    }
    add_table(d, ctx, "mixed_precision_" + w, "mixed_precision." + w,
              "Mixed-precision fallback" + target + ", " + w);
    add_table(d, ctx, "recovery_" + w, "recovery." + w,
              "Accuracy recovery without retraining: each pass added in turn (CLE = cross-layer "
              "equalization + bias absorption, bc = empirical bias correction, AdaRound), and "
              "A16W8 on the most sensitive layer; accuracy on the integer engine, " +
                  w);
    if (Result<Table> rc = Table::read_csv(ctx.path("tables/recovery_" + w + ".csv"));
        rc.ok() && rc->num_rows() >= 11) {
      d.paragraph(fmt::format(
          "Per-tensor W4A8 loses {} points against FP32; with CLE, bias correction and AdaRound "
          "the drop is {} points (W8A8 per-tensor: {} → {} points; `tables/recovery_{}.csv`).",
          cell(*rc, 6, "drop_points"), cell(*rc, 10, "drop_points"), cell(*rc, 1, "drop_points"),
          cell(*rc, 5, "drop_points"), w));
      if (rc->num_rows() >= 12) {
        Result<std::string> rec = rc->text(11, "recovery");
        if (rec.ok() && rec->rfind("a16w8:", 0) == 0) {
          d.paragraph(fmt::format(
              "A16W8 (int16 activations, int8 weights) on `{}`, the layer the sensitivity "
              "analysis ranks most sensitive: drop {} points, against {} points for W8A8 "
              "per-channel.",
              rec->substr(6), cell(*rc, 11, "drop_points"), cell(*rc, 2, "drop_points")));
        }
      }
    }
    add_figure(d, ctx, "recovery_" + w, "Accuracy recovery per pass, " + w);
  }

  d.heading(2, "Part C — Fixed-point closed loop");
  add_table(d, ctx, "fixedpoint_verify", "fixedpoint.verify", "Golden checks");
  add_table(d, ctx, "int8_conv_lsb", "fixedpoint.verify",
            "INT8 reference convolution vs double-precision convolution of the dequantized "
            "operands, per requantization profile");
  add_table(d, ctx, "bitgrowth", "fixedpoint.bitgrowth", "Bit growth per layer");
  add_table(d, ctx, "overflow_summary", "fixedpoint.overflow",
            "Overflow error per accumulator width, mean over the layers (per-layer rows: "
            "`tables/overflow.csv`)");
  add_figure(d, ctx, "overflow", "Overflow error vs accumulator width (saturate vs wrap)");

  d.heading(2, "Part D — Architecture evaluation");
  d.paragraph(
      "The simulated model of each workload is the INT8 model the PTQ sweep quantized with its "
      "most accurate configuration (`models/<workload>.int8.onnx`; every operand is one byte, "
      "so reports count 1-byte words). It is mapped onto a SCALE-Sim v2 compatible systolic "
      "array (cycle-exact with SCALE-Sim 22f88b1, `docs/simulator.md`): a 32×32 "
      "weight-stationary array, 64/64/32 kB SRAMs, 10 words/cycle of DRAM bandwidth per "
      "interface. Energy is action "
      "counts × the per-action table `share/energy/int8_edge_45nm.toml`. The SCALE-Sim topology "
      "and config of each model are in `scalesim/<workload>/` for a cross-check with SCALE-Sim.");
  for (const auto& w : s.workloads) {
    d.heading(3, "Workload " + w);
    add_table(d, ctx, "arch_" + w, "arch.sim." + w, "Per-layer evaluation, " + w);
    add_figure(d, ctx, "roofline_" + w, "Roofline with each layer placed, " + w);
    add_figure(d, ctx, "energy_" + w, "Energy per layer by component, " + w);
    add_table(d, ctx, "dse_best_" + w, "arch.dse." + w, "DSE: best point per objective, " + w);
    add_table(d, ctx, "dse_pareto_" + w, "arch.dse." + w,
              "DSE: Pareto front over (cycles, energy, area), " + w);
    add_figure(d, ctx, "dse_cycles_" + w, "Cycles vs array size per dataflow, " + w);
    add_figure(d, ctx, "pe_util_" + w, "PE utilization vs array size per dataflow, " + w);
    add_figure(d, ctx, "pareto_" + w, "Energy vs cycles of every feasible point, " + w);
    add_dse_analysis(d, ctx, w);
  }

  d.heading(2, "Part E — Deployment to a microcontroller");
  d.paragraph(
      "The sweep's most accurate configuration of each model, quantized with the integer-only "
      "`tflite` requantization profile, turned into plain C99 by `edgeint8 codegen` (static "
      "memory plan, no malloc; `docs/deploy.md`). The generated code runs on test samples with "
      "the host compiler and, when the ARM toolchain and QEMU are installed, as a semihosting "
      "firmware on an emulated Cortex-M4 (QEMU `mps2-an386`, DSP kernels); both are compared bit "
      "for bit with the integer engine. Flash and RAM come from `arm-none-eabi-size` and "
      "`-fstack-usage`. The generated sources are in `deploy/<workload>/`.");
  for (const auto& w : s.workloads) {
    d.heading(3, "Workload " + w);
    add_table(d, ctx, "deploy_" + w, "deploy." + w,
              "Generated C vs the integer engine, and its footprint, " + w);
    add_table(d, ctx, "deploy_arena_" + w, "deploy." + w, "Peak arena per memory planner, " + w);
    add_table(d, ctx, "deploy_vs_sim_" + w, "deploy." + w,
              "The microcontroller beside the simulator's estimate (Part D), " + w);
    add_table(d, ctx, "deploy_layers_" + w, "deploy." + w,
              "Per-layer kernel and live set (bytes of buffers alive at each step), " + w);
  }

  d.heading(2, "Conclusions");
  d.paragraph(
      "What this run measured, per workload (values from the executive summary, each with its "
      "source table):");
  std::vector<std::string> findings;
  for (size_t r = 0; r < summary.num_rows(); ++r) {
    findings.push_back(fmt::format(
        "{}: {} — {} {}", summary.text(r, "workload").value(), summary.text(r, "finding").value(),
        summary.text(r, "value").value(), summary.text(r, "unit").value()));
  }
  if (findings.empty()) findings.push_back("no step produced a headline number in this run");
  d.bullets(findings);

  d.heading(2, "Pipeline steps");
  if (ctx.previous != nullptr) {
    // Written first, so that the durations shown are a table file's (run-all rewrites it with
    // the report step added at the end).
    const PipelineSummary so_far{.steps = *ctx.previous};
    EI8_RETURN_IF_ERROR(so_far.table().write(ctx.path("tables/pipeline_steps")));
    add_table(d, ctx, "pipeline_steps", "report",
              "Status and duration of every step before the report");
  }

  d.heading(2, "References");
  d.bullets({
      "Y.-H. Chen, J. Emer, V. Sze. Eyeriss: a spatial architecture for energy-efficient dataflow "
      "for convolutional neural networks. ISCA 2016.",
      "A. Parashar et al. Timeloop: a systematic approach to DNN accelerator evaluation. ISPASS "
      "2019.",
      "H. Genc et al. Gemmini: enabling systematic deep-learning architecture evaluation via "
      "full-stack integration. DAC 2021.",
      "NVIDIA Deep Learning Accelerator (NVDLA), http://nvdla.org.",
      "A. Samajdar et al. A systematic methodology for characterizing scalability of DNN "
      "accelerators using SCALE-Sim. ISPASS 2020.",
      "B. Jacob et al. Quantization and training of neural networks for efficient "
      "integer-arithmetic-only inference. CVPR 2018.",
      "S. Migacz. 8-bit inference with TensorRT. GTC 2017.",
  });
  return d.write(ctx.path("report"));
}

}  // namespace ei8::pipeline
