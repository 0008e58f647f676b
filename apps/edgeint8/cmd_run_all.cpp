// edgeint8 run-all — the whole loop on the offline defaults (README's main command).
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <filesystem>

#include "cli.h"
#include "ei8/pipeline/run_all.h"

namespace ei8::cli {

void register_run_all(CLI::App& app) {
  auto s = std::make_shared<pipeline::RunAllSettings>();
  auto workloads = std::make_shared<std::string>("signal1d,tiny2d");
  CLI::App* sub = app.add_subcommand(
      "run-all",
      "Run the whole loop: train, export, FP32 baseline, PTQ sweep, sensitivity, mixed precision, "
      "fixed-point checks, architecture evaluation, DSE, figures and report. Steps whose inputs "
      "and settings are unchanged since the last run are not repeated.");
  sub->add_option("--out", s->out_dir, "Results directory")->capture_default_str();
  sub->add_flag("--quick", s->quick, "Tiny epochs and a reduced sweep (minutes, for a first look)");
  sub->add_option("--workloads", *workloads, "Comma-separated: signal1d, tiny2d")
      ->capture_default_str();
  sub->add_option("--dataset", s->dataset,
                  "tiny2d's dataset: auto (CIFAR-10 if present, else Fashion-MNIST), "
                  "fashion-mnist, cifar10")
      ->capture_default_str();
  sub->add_option("--data-dir", s->data_dir, "Where cifar-10-batches-bin/ is looked for")
      ->capture_default_str();
  sub->add_flag("--continue-on-error", s->continue_on_error,
                "Run the remaining steps after a step fails");
  sub->add_flag("--force", s->force, "Re-run every step even when cached");
  sub->add_option("--threads", s->threads, "Threads for training and DSE")->capture_default_str();
  sub->add_option("--seed", s->seed, "Seed for data, training and calibration")
      ->capture_default_str();
  set_action(sub, [s, workloads]() -> Status {
    s->workloads.clear();
    for (size_t start = 0; start <= workloads->size();) {
      const size_t comma = std::min(workloads->find(',', start), workloads->size());
      if (comma > start) s->workloads.push_back(workloads->substr(start, comma - start));
      start = comma + 1;
    }
    if (s->workloads.empty()) {
      return invalid_argument(
          "cannot run run-all: --workloads = '{}', must name signal1d and/or "
          "tiny2d",
          *workloads);
    }
    for (size_t i = 0; i < s->workloads.size(); ++i) {
      for (size_t j = 0; j < i; ++j) {
        if (s->workloads[i] == s->workloads[j]) {
          return invalid_argument(
              "cannot run run-all: --workloads = '{}', must name each "
              "workload once ('{}' twice)",
              *workloads, s->workloads[i]);
        }
      }
    }
    std::error_code ec;
    if (std::filesystem::exists(s->out_dir, ec) && !std::filesystem::is_directory(s->out_dir, ec)) {
      return invalid_argument("cannot run run-all: --out = '{}' is a file, must be a directory",
                              s->out_dir);
    }
    EI8_ASSIGN_OR_RETURN(pipeline::PipelineSummary summary, pipeline::run_all(*s));
    fmt::print("\n{}\n", summary.table().to_markdown());
    const bool written = pipeline::report_written(summary);
    if (written) {
      fmt::print("run-all: {:.1f} s; report: {}/report.md and {}/report.html\n", summary.seconds,
                 s->out_dir, s->out_dir);
    } else {
      const bool stale = std::filesystem::exists(std::filesystem::path(s->out_dir) / "report.md");
      fmt::print(
          "run-all: {:.1f} s; no report written{}\n", summary.seconds,
          stale ? fmt::format(" ({}/report.md is from an earlier run and now says so)", s->out_dir)
                : "");
    }
    const std::vector<std::string> failed = pipeline::failed_steps(summary);
    if (!failed.empty()) {
      return internal_error(
          "cannot complete run-all: failed steps = {}, must be none (details: {}/"
          "tables/pipeline_steps.csv)",
          fmt::join(failed, ", "), s->out_dir);
    }
    return {};
  });
}

}  // namespace ei8::cli
