#include "ei8/pipeline/run_all.h"

#include <algorithm>
#include <filesystem>

#include <fmt/ranges.h>

#include "ei8/core/npy.h"
#include "ei8/pipeline/report_builder.h"
#include "ei8/pipeline/steps.h"

namespace ei8::pipeline {
namespace fs = std::filesystem;
namespace {

constexpr std::string_view kWorkloads[] = {"signal1d", "tiny2d"};
constexpr std::string_view kDatasets[] = {"auto", "fashion-mnist", "cifar10"};

// A step whose part of the toolkit is not in this build yet: it reports skipped with the reason.
[[maybe_unused]] Step not_built(std::string name, std::string what) {
  return {.name = std::move(name),
          .run = [what = std::move(what)](StepContext&) -> Result<StepOutcome> {
            return StepOutcome::skipped(what + " is not in this build");
          }};
}

}  // namespace

// The data set a workload trains on: synthetic signals for signal1d; for tiny2d CIFAR-10 when
// present (or asked for), otherwise Fashion-MNIST from Debian's dataset-fashion-mnist.
data::DatasetOptions dataset_for(const RunAllSettings& s, const std::string& w) {
  data::DatasetOptions d;
  if (w == "signal1d") {
    d.name = "synthetic";
    d.seed = s.seed;
    return d;
  }
  const std::string cifar_dir = (fs::path(s.data_dir) / "cifar-10-batches-bin").string();
  const bool cifar_present = fs::exists(fs::path(cifar_dir) / "test_batch.bin");
  if (s.dataset == "cifar10" || (s.dataset == "auto" && cifar_present)) {
    d.name = "cifar10";
    d.dir = cifar_dir;
  } else {
    d.name = "fashion-mnist";
  }
  if (s.quick) {
    d.train_size = 4096;
    d.test_size = 2000;
  }
  return d;
}

std::string dataset_name_for(const RunAllSettings& s, const std::string& w) {
  return dataset_for(s, w).name;
}

Result<Pipeline> build_run_all(const RunAllSettings& s) {
  for (const auto& w : s.workloads) {
    if (std::find(std::begin(kWorkloads), std::end(kWorkloads), w) == std::end(kWorkloads)) {
      return invalid_argument(
          "cannot run the pipeline: workload = '{}', must be signal1d or tiny2d", w);
    }
  }
  if (std::find(std::begin(kDatasets), std::end(kDatasets), s.dataset) == std::end(kDatasets)) {
    return invalid_argument(
        "cannot run the pipeline: dataset = '{}', must be auto, fashion-mnist or cifar10",
        s.dataset);
  }
  if (s.threads < 1) {
    return invalid_argument("cannot run the pipeline: threads = {}, must be >= 1", s.threads);
  }
  std::error_code ec;
  fs::create_directories(fs::path(s.out_dir) / "tables", ec);
  fs::create_directories(fs::path(s.out_dir) / "figures", ec);
  if (ec) {
    return io_error("cannot create {}: {}", (fs::path(s.out_dir) / "tables").string(),
                    ec.message());
  }

  Pipeline p(s.out_dir);
  p.add({.name = "machine",
         .description = "record the CPU, cores, ISA tiers and compiler for the report",
         .outputs = {"tables/machine.csv"},
         .run = [](StepContext& c) -> Result<StepOutcome> {
           EI8_RETURN_IF_ERROR(machine_table().write(c.path("tables/machine")));
           return StepOutcome::ok("tables/machine.csv");
         }});
#ifdef EI8_HAS_TORCH
  for (const auto& w : s.workloads) {
    p.add(train_step(s, w));
    p.add(export_step(s, w));
  }
  p.add(fp32_baseline_step(s));
#else
  for (const auto& w : s.workloads) {
    p.add(not_built("train." + w, "training (this build has no libtorch)"));
    p.add(not_built("export." + w, "export of trained models (this build has no libtorch)"));
  }
  p.add(not_built("fp32_baseline", "the FP32 baseline of trained models (no libtorch)"));
#endif
  for (const auto& w : s.workloads) {
    p.add(ptq_sweep_step(s, w));
    p.add(sensitivity_step(s, w));
    p.add(mixed_precision_step(s, w));
    p.add(recovery_step(s, w));
  }
  p.add(fixedpoint_verify_step(s));
  p.add(fixedpoint_bitgrowth_step(s));
  p.add(fixedpoint_overflow_step(s));
  for (const auto& w : s.workloads) {
    p.add(arch_sim_step(s, w));
    p.add(arch_dse_step(s, w, s.dse_space));
  }
  for (const auto& w : s.workloads) p.add(deploy_step(s, w));
  p.add({.name = "report",
         .description = "assemble report.md and report.html from the tables and figures",
         .settings = fmt::format("quick={} workloads={} dataset={}", s.quick,
                                 fmt::join(s.workloads, ","), s.dataset),
         .run = [s](StepContext& c) -> Result<StepOutcome> {
           EI8_RETURN_IF_ERROR(write_report(c, s));
           return StepOutcome::ok("report.md, report.html");
         }});
  return p;
}

bool report_written(const PipelineSummary& s) {
  return std::any_of(s.steps.begin(), s.steps.end(), [](const StepRecord& r) {
    return r.name == "report" && r.state == StepState::kOk;
  });
}

std::vector<std::string> failed_steps(const PipelineSummary& s) {
  std::vector<std::string> out;
  for (const StepRecord& r : s.steps) {
    if (r.state == StepState::kFailed) out.push_back(r.name);
  }
  return out;
}

namespace {

constexpr std::string_view kStaleMd = "> **Stale report.**";
constexpr std::string_view kStaleHtml = "<p class=\"stale\"";

// A report.md / report.html left by an earlier run would look current after a run that did not
// write one: each gets a banner (replacing an older banner) saying so and why.
Status mark_stale_report(const std::string& out_dir, const PipelineSummary& s) {
  const std::vector<std::string> failed = failed_steps(s);
  std::string why = failed.empty() ? std::string("the step `report` did not run")
                                   : fmt::format("step(s) {} failed", fmt::join(failed, ", "));
  const std::string text = fmt::format(
      "The latest `edgeint8 run-all` into this directory did not write it ({}); it is from an "
      "earlier run. See tables/pipeline_steps.csv.",
      why);
  const fs::path md = fs::path(out_dir) / "report.md";
  if (fs::exists(md)) {
    EI8_ASSIGN_OR_RETURN(std::string body, read_file(md.string()));
    if (body.rfind(kStaleMd, 0) == 0) body.erase(0, body.find("\n\n") + 2);
    EI8_RETURN_IF_ERROR(write_file(md.string(), fmt::format("{} {}\n\n{}", kStaleMd, text, body)));
  }
  const fs::path html = fs::path(out_dir) / "report.html";
  if (fs::exists(html)) {
    EI8_ASSIGN_OR_RETURN(std::string body, read_file(html.string()));
    const size_t old = body.find(kStaleHtml);
    if (old != std::string::npos) body.erase(old, body.find("</p>\n", old) + 5 - old);
    const size_t at = body.find("<body>\n");
    if (at != std::string::npos) {
      body.insert(at + 7, fmt::format("{} style=\"background:#fdd;border:2px solid #c00;padding:"
                                      "0.6em;font-weight:bold\">Stale report. {}</p>\n",
                                      kStaleHtml, text));
      EI8_RETURN_IF_ERROR(write_file(html.string(), body));
    }
  }
  return {};
}

}  // namespace

Result<PipelineSummary> run_all(const RunAllSettings& s) {
  EI8_ASSIGN_OR_RETURN(Pipeline p, build_run_all(s));
  PipelineSummary summary = p.run({.continue_on_error = s.continue_on_error, .force = s.force});
  EI8_RETURN_IF_ERROR(
      summary.table().write((fs::path(s.out_dir) / "tables" / "pipeline_steps").string()));
  if (!report_written(summary)) EI8_RETURN_IF_ERROR(mark_stale_report(s.out_dir, summary));
  return summary;
}

}  // namespace ei8::pipeline
