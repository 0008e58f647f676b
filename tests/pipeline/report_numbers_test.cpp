// The report's rule on a small run: every figure of report.md appears in a table file. The
// steps that need no training run for real on a small model (machine, architecture evaluation,
// DSE on a small space, bit growth); the FP32 / PTQ / mixed-precision tables are small ones
// written here, as their steps would. Also: the DSE's comparisons are tables, not prose.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "ei8/core/npy.h"
#include "ei8/graph/onnx/onnx_io.h"
#include "ei8/pipeline/pipeline.h"
#include "ei8/pipeline/report_builder.h"
#include "ei8/pipeline/run_all.h"
#include "ei8/pipeline/steps.h"
#include "ei8/quant/calibration.h"
#include "ei8/quant/ptq.h"
#include "ei8/report/table.h"
#include "report_numbers.h"
#include "test_graphs.h"

namespace ei8::pipeline {
namespace {
namespace fs = std::filesystem;
using report::Table;

// The tables of Parts A and B as their steps write them (columns the report reads), with
// decimals the prose may quote.
void write_small_quant_tables(const fs::path& out) {
  Table fp({"workload", "dataset", "accuracy_ours", "accuracy_torch", "latency_b1_p50_us",
            "latency_b32_p50_us", "ort_b1_p50_us", "ort_b32_p50_us", "params"});
  fp.add_row({"signal1d", "synthetic", 0.9425, 0.9425, 41.27, 612.5, 38.91, 540.33, 13061.0});
  ASSERT_TRUE(fp.write((out / "tables/fp32_baseline").string()).ok());
  Table sw({"method", "weights", "activations", "accuracy_pct", "drop_points", "latency_b1_us",
            "latency_b32_us"});
  sw.set_precision("accuracy_pct", 2);
  sw.set_precision("drop_points", 2);
  sw.add_row({"mse", "per-channel", "asym", 94.1, 0.15, 21.37, 301.9});
  sw.add_row({"minmax", "per-tensor", "sym", 93.35, 0.9, 19.02, 288.4});
  ASSERT_TRUE(sw.write((out / "tables/ptq_sweep_signal1d").string()).ok());
  Table mp({"step", "float_layers", "accuracy_pct", "drop_points", "target_drop_points",
            "within_target"});
  mp.set_precision("target_drop_points", 2);
  mp.add_row({0.0, "", 94.1, 0.15, 0.3, "yes"});
  ASSERT_TRUE(mp.write((out / "tables/mixed_precision_signal1d").string()).ok());
  // recovery_<w> as the recovery step writes it: float, then W8A8 and W4A8 rows (11), then A16W8
  // on the most sensitive layer.
  Table rc({"config", "weight_bits", "weights", "recovery", "accuracy_pct", "drop_points",
            "agreement_pct", "quantize_s"});
  rc.set_precision("drop_points", 2);
  rc.add_row({"float", 32.0, "-", "-", 94.25, 0.0, 100.0, 0.0});
  for (int bits : {8, 4}) {
    for (int k = 0; k < 5; ++k) {
      const double drop = bits == 8 ? 0.35 - 0.05 * k : 7.15 - 1.3 * k;
      rc.add_row({fmt::format("W{}A8 row {}", bits, k), static_cast<double>(bits), "per-tensor",
                  "none", 94.25 - drop, drop, 90.0, 1.0});
    }
  }
  rc.add_row({"W8A8 per-channel, A16W8 on fc (most sensitive)", 8.0, "per-channel", "a16w8:fc",
              94.1, 0.15, 99.2, 0.4});
  ASSERT_TRUE(rc.write((out / "tables/recovery_signal1d").string()).ok());
}

// A model shaped like Workload 1's (x[N,1,128] signals, 5 classes): the fixed-point steps run it on
// calibration samples of the signal1d data set. x → Conv1d(6, k 5, pad 2)+Relu → a →
// Conv1d(6, k 3, pad 1)+Relu → b → Flatten → f[N,768] → Gemm(5) → y.
Graph signal1d_like_model(uint64_t seed) {
  Rng rng(seed);
  Graph g("signal1d_like");
  g.add_input("x", DType::kF32, {kDynamic, 1, 128});
  auto conv = [&](const std::string& name, const std::string& in, const std::string& out,
                  int64_t cin, int64_t k) {
    g.add_initializer(name + "_w", quant::random_tensor(rng, {6, cin, k}, -0.3f, 0.3f));
    g.add_initializer(name + "_b", quant::random_tensor(rng, {6}, -0.05f, 0.05f));
    Node& n = g.add_node("Conv", name, {in, name + "_w", name + "_b"}, {out});
    n.set("kernel_shape", std::vector<int64_t>{k});
    n.set("pads", std::vector<int64_t>{k / 2, k / 2});
    n.set("activation", std::string("Relu"));
  };
  conv("conv1", "x", "a", 1, 5);
  conv("conv2", "a", "b", 6, 3);
  g.add_node("Flatten", "flatten", {"b"}, {"f"}).set("axis", int64_t{1});
  g.add_initializer("fc_w", quant::random_tensor(rng, {5, 768}, -0.1f, 0.1f));
  g.add_initializer("fc_b", quant::random_tensor(rng, {5}, -0.1f, 0.1f));
  g.add_node("Gemm", "fc", {"f", "fc_w", "fc_b"}, {"y"}).set("transB", int64_t{1});
  g.add_output("y");
  return g;
}

TEST(ReportNumbers, EveryFigureOfTheReportIsInATableFile) {
  const fs::path out =
      fs::temp_directory_path() / ("ei8_report_numbers_" + std::to_string(getpid()));
  fs::remove_all(out);
  fs::create_directories(out / "models");
  fs::create_directories(out / "tables");
  fs::create_directories(out / "figures");
  ASSERT_TRUE(save_onnx(signal1d_like_model(3), (out / "models/signal1d.onnx").string()).ok());
  {  // the INT8 model the simulator steps read (run-all's ptq_sweep step writes it)
    Rng rng(4);
    const Graph g = signal1d_like_model(3);
    Result<quant::Statistics> st =
        quant::collect_statistics(g, quant::random_tensor(rng, {8, 1, 128}, -1.0f, 1.0f), {});
    ASSERT_TRUE(st.ok()) << st.status().message();
    Result<quant::CalibTable> table = quant::make_table(*st, quant::CalibParams{});
    ASSERT_TRUE(table.ok()) << table.status().message();
    Result<quant::QuantizedModel> m = quant::quantize_model(g, *table, quant::PtqOptions{});
    ASSERT_TRUE(m.ok()) << m.status().message();
    ASSERT_TRUE(save_onnx(m->qdq, (out / "models/signal1d.int8.onnx").string()).ok());
  }
  // A small design space: 2 arrays x 2 dataflows x 2 SRAMs x 2 bandwidths.
  const std::string space = (out / "space.toml").string();
  ASSERT_TRUE(write_file(space,
                         "name = \"small\"\narrays = [\"4x4\", \"8x8\"]\ndataflows = [\"ws\", "
                         "\"os\"]\nsram_kb = [[8, 8, 4], [32, 32, 16]]\nbandwidths = [4, 10]\n")
                  .ok());
  write_small_quant_tables(out);

  RunAllSettings s;
  s.out_dir = out.string();
  s.quick = true;
  s.workloads = {"signal1d"};
  s.threads = 1;
  s.dse_space = space;
  Pipeline p(s.out_dir);
  p.add({.name = "machine",
         .outputs = {"tables/machine.csv"},
         .run = [](StepContext& c) -> Result<StepOutcome> {
           EI8_RETURN_IF_ERROR(machine_table().write(c.path("tables/machine")));
           return StepOutcome::ok();
         }});
  p.add(fixedpoint_bitgrowth_step(s));
  p.add(arch_sim_step(s, "signal1d"));
  p.add(arch_dse_step(s, "signal1d", space));
  p.add({.name = "report", .run = [s](StepContext& c) -> Result<StepOutcome> {
           EI8_RETURN_IF_ERROR(write_report(c, s));
           return StepOutcome::ok();
         }});
  const PipelineSummary summary = p.run({.quiet = true});
  for (const StepRecord& r : summary.steps) {
    ASSERT_EQ(r.state, StepState::kOk) << r.name << ": " << r.detail;
  }

  // The DSE comparisons are tables with rows (the front of this space has several points).
  for (const char* t : {"dse_overview_signal1d", "dse_neighbours_signal1d", "dse_roofline_signal1d",
                        "dse_energy_share_signal1d", "dse_diminishing_signal1d"}) {
    Result<Table> table = Table::read_csv((out / "tables" / (std::string(t) + ".csv")).string());
    ASSERT_TRUE(table.ok()) << t << ": " << table.status().message();
    EXPECT_GT(table->num_rows(), 0u) << t;
  }
  const std::string md = read_file((out / "report.md").string()).value();
  EXPECT_EQ(md.find("analysis.md"), std::string::npos);
  EXPECT_NE(md.find("tables/dse_best_signal1d.csv`, objective = balanced"), std::string::npos)
      << md;
  EXPECT_NE(md.find("(target drop <= 0.30 points)"), std::string::npos);
  EXPECT_NE(md.find("Per-tensor W4A8 loses 7.15 points against FP32; with CLE, bias correction "
                    "and AdaRound the drop is 1.95 points"),
            std::string::npos)
      << md;
  EXPECT_NE(md.find("A16W8 (int16 activations, int8 weights) on `fc`, the layer the sensitivity "
                    "analysis ranks most sensitive: drop 0.15 points, against 0.30 points"),
            std::string::npos)
      << md;

  size_t seen = 0;
  const std::vector<std::string> missing = testing_report::figures_without_a_table(out, &seen);
  EXPECT_GT(seen, 50u) << "the report should quote many figures";
  EXPECT_TRUE(missing.empty()) << missing.size() << " of " << seen
                               << " figures in report.md are in no table, e.g. " << missing[0];
  fs::remove_all(out);
}

// The check itself catches a figure computed while writing prose.
TEST(ReportNumbers, TheCheckFindsAFigureThatIsInNoTable) {
  const fs::path out =
      fs::temp_directory_path() / ("ei8_report_numbers_neg_" + std::to_string(getpid()));
  fs::remove_all(out);
  fs::create_directories(out / "tables");
  Table t({"design", "cycles_change_pct"});
  t.add_row({"8x8", -12.5});
  ASSERT_TRUE(t.write((out / "tables/x").string()).ok());
  ASSERT_TRUE(write_file((out / "report.md").string(),
                         "Part 2 of 2024: 8x8 is 12.5 % faster, 37 % per mm2, 3.25 per step.\n")
                  .ok());
  size_t seen = 0;
  EXPECT_EQ(testing_report::figures_without_a_table(out, &seen),
            (std::vector<std::string>{"37", "3.25"}));
  EXPECT_EQ(seen, 3u);
  fs::remove_all(out);
}

}  // namespace
}  // namespace ei8::pipeline
