// edgeint8 run-all — the whole loop on the offline defaults (README's main command).
#include <fmt/format.h>

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
    EI8_ASSIGN_OR_RETURN(pipeline::PipelineSummary summary, pipeline::run_all(*s));
    fmt::print("\n{}\n", summary.table().to_markdown());
    fmt::print("run-all: {:.1f} s; report: {}/report.md and {}/report.html\n", summary.seconds,
               s->out_dir, s->out_dir);
    if (!summary.all_ok())
      return internal_error("cannot complete run-all: a step failed (see above)");
    return {};
  });
}

}  // namespace ei8::cli
