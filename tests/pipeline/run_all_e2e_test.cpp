// End to end: `edgeint8 run-all --quick` on the offline data (synthetic signals and Debian's
// Fashion-MNIST) completes, no step fails, and every number of the tables the report shows is
// in report.md exactly as the CSV has it, and every figure of report.md is in a table file.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "ei8/core/npy.h"
#include "ei8/report/html_check.h"
#include "ei8/report/table.h"
#include "report_numbers.h"

namespace ei8 {
namespace {
namespace fs = std::filesystem;

TEST(RunAllQuick, CompletesAndTheReportQuotesTheTables) {
  const fs::path out = fs::temp_directory_path() / fmt::format("ei8_run_all_quick_{}", ::getpid());
  fs::remove_all(out);
  const std::string cmd =
      fmt::format("'{}/apps/edgeint8/edgeint8' run-all --quick --out '{}' > '{}.log' 2>&1",
                  EI8_BINARY_DIR, out.string(), out.string());
  const int rc = std::system(cmd.c_str());
  auto log = read_file(out.string() + ".log");
  ASSERT_EQ(rc, 0) << (log.ok() ? log.value() : "");

  const report::Table steps =
      report::Table::read_csv((out / "tables/pipeline_steps.csv").string()).value();
  for (size_t r = 0; r < steps.num_rows(); ++r) {
    const std::string name = steps.text(r, "step").value();
    const std::string state = steps.text(r, "status").value();
    EXPECT_NE(state, "failed") << name << ": " << steps.text(r, "detail").value();
    // Every part that exists in this build runs for real.
    if (name.rfind("train.", 0) == 0 || name.rfind("export.", 0) == 0 || name == "fp32_baseline" ||
        name.rfind("ptq_sweep.", 0) == 0 || name.rfind("sensitivity.", 0) == 0 ||
        name.rfind("mixed_precision.", 0) == 0 || name.rfind("recovery.", 0) == 0 ||
        name.rfind("fixedpoint.", 0) == 0 || name.rfind("arch.", 0) == 0 ||
        name.rfind("deploy.", 0) == 0 || name == "machine") {
      EXPECT_EQ(state, "ok") << name << ": " << steps.text(r, "detail").value();
    }
    // The simulator evaluates the INT8 model the sweep quantized, in 1-byte words.
    if (name.rfind("arch.sim.", 0) == 0) {
      const std::string w = name.substr(9), detail = steps.text(r, "detail").value();
      EXPECT_TRUE(fs::exists(out / "models" / (w + ".int8.onnx"))) << w;
      EXPECT_NE(detail.find("models/" + w + ".int8.onnx: "), std::string::npos) << detail;
      EXPECT_NE(detail.find("1-byte operands"), std::string::npos) << detail;
    }
  }

  const std::string md = read_file((out / "report.md").string()).value();
  for (const char* t :
       {"summary", "fp32_baseline", "bitgrowth", "int8_conv_lsb", "overflow_summary",
        "arch_signal1d", "arch_tiny2d", "dse_best_signal1d", "dse_best_tiny2d", "deploy_signal1d",
        "deploy_tiny2d", "deploy_arena_signal1d", "deploy_arena_tiny2d", "deploy_vs_sim_signal1d",
        "deploy_vs_sim_tiny2d", "deploy_layers_signal1d", "recovery_signal1d", "recovery_tiny2d"}) {
    const report::Table table =
        report::Table::read_csv((out / "tables" / (std::string(t) + ".csv")).string()).value();
    ASSERT_GT(table.num_rows(), 0u) << t;
    for (size_t r = 0; r < table.num_rows(); ++r) {
      for (const auto& col : table.columns()) {
        std::string cell = table.text(r, col).value();
        if (cell.empty()) continue;
        // Markdown tables escape '|' inside a cell.
        for (size_t p = cell.find('|'); p != std::string::npos; p = cell.find('|', p + 2)) {
          cell.insert(p, "\\");
        }
        EXPECT_NE(md.find(cell), std::string::npos)
            << t << " row " << r << " " << col << " = " << cell;
      }
    }
  }
  // The generated C equals the integer engine on the host, and under QEMU unless the ARM tools
  // are missing (then the row says skipped); the in-place planner never needs more arena.
  for (const char* w : {"signal1d", "tiny2d"}) {
    const report::Table dep =
        report::Table::read_csv((out / "tables" / fmt::format("deploy_{}.csv", w)).string())
            .value();
    for (size_t r = 0; r < dep.num_rows(); ++r) {
      const std::string target = dep.text(r, "target").value();
      const std::string status = dep.text(r, "status").value();
      if (target == "host") {
        EXPECT_EQ(status, "bit-exact") << w;
      }
      if (status != "bit-exact") {
        EXPECT_EQ(status.rfind("skipped: ", 0), 0u) << w << " " << target << ": " << status;
      }
      if (status == "bit-exact") {
        EXPECT_EQ(dep.number(r, "identical_outputs").value(), dep.number(r, "outputs").value());
        EXPECT_GT(dep.number(r, "outputs").value(), 0);
      }
    }
    const report::Table arena =
        report::Table::read_csv((out / "tables" / fmt::format("deploy_arena_{}.csv", w)).string())
            .value();
    EXPECT_LE(arena.number(1, "peak_arena_bytes").value(),
              arena.number(0, "peak_arena_bytes").value())
        << w;
  }
  // Every figure of the report (decimals and percentages, prose included) is in a table file.
  size_t seen = 0;
  const std::vector<std::string> missing = testing_report::figures_without_a_table(out, &seen);
  EXPECT_GT(seen, 100u);
  EXPECT_TRUE(missing.empty()) << missing.size() << " of " << seen
                               << " figures in report.md are in no table, first: " << missing[0];
  if (!report::find_chromium().empty()) {
    Result<report::HtmlCheck> c = report::check_html_in_browser((out / "report.html").string());
    ASSERT_TRUE(c.ok()) << c.status().message();
    EXPECT_GT(c->images, 5);
    EXPECT_EQ(c->images_loaded, c->images);
  }
  if (!::testing::Test::HasFailure()) fs::remove_all(out);  // kept for a look when failing
}

}  // namespace
}  // namespace ei8
