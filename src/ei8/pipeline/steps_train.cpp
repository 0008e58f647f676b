// Part A of run-all: train each workload with libtorch, export it to ONNX, and measure the FP32
// baseline with our runtime on the exported file. Built only with EI8_WITH_TORCH.
#include <fmt/format.h>

#include <filesystem>

#include "ei8/data/dataset.h"
#include "ei8/pipeline/baseline.h"
#include "ei8/pipeline/steps.h"
#include "ei8/train/export.h"
#include "ei8/train/train.h"

namespace ei8::pipeline {
namespace fs = std::filesystem;

namespace {

std::string checkpoint_path(const std::string& w) { return "runs/" + w + "/best.pt"; }

}  // namespace

Step train_step(const RunAllSettings& s, const std::string& w) {
  const data::DatasetOptions d = dataset_for(s, w);
  // Quick mode: a few epochs on a subset — the loop works, accuracy is not the point.
  const int epochs = s.quick ? (w == "signal1d" ? 3 : 1) : 0;
  return {
      .name = "train." + w,
      .description = "train the workload with libtorch (checkpoints best/last)",
      .settings = fmt::format("dataset={} dir={} train={} test={} epochs={} seed={} threads={}",
                              d.name, d.dir, d.train_size, d.test_size, epochs, s.seed, s.threads),
      .outputs = {checkpoint_path(w)},
      .run = [s, w, d, epochs](StepContext& c) -> Result<StepOutcome> {
        EI8_ASSIGN_OR_RETURN(train::Workload wl, train::parse_workload(w));
        train::TrainOptions o;
        o.workload = wl;
        o.data = d;
        o.epochs = epochs;
        o.seed = s.seed;
        o.out_dir = c.path("runs/" + w);
        o.threads = s.threads;
        EI8_ASSIGN_OR_RETURN(train::TrainResult r, train::train_model(o));
        return StepOutcome::ok(fmt::format("{} on {}: {} epochs, test accuracy {:.2f} %, {:.0f} s",
                                           w, r.dataset, r.epochs, 100 * r.best_accuracy,
                                           r.train_seconds));
      }};
}

Step export_step(const RunAllSettings&, const std::string& w) {
  return {.name = "export." + w,
          .description = "export the best checkpoint to ONNX (dynamic batch)",
          .inputs = {checkpoint_path(w)},
          .outputs = {"models/" + w + ".onnx"},
          .run = [w](StepContext& c) -> Result<StepOutcome> {
            fs::create_directories(c.path("models"));
            EI8_RETURN_IF_ERROR(train::export_checkpoint(c.path(checkpoint_path(w)),
                                                         c.path("models/" + w + ".onnx")));
            return StepOutcome::ok("models/" + w + ".onnx, " +
                                   std::to_string(fs::file_size(c.path("models/" + w + ".onnx"))) +
                                   " bytes");
          }};
}

Step fp32_baseline_step(const RunAllSettings& s) {
  std::vector<std::string> inputs;
  for (const auto& w : s.workloads) inputs.push_back(checkpoint_path(w));
  const int64_t iters = s.quick ? 40 : 200;
  const int64_t max_test = s.quick ? 2000 : 0;
  return {.name = "fp32_baseline",
          .description = "accuracy (our runtime, exported ONNX), latency b1/b32, size, MACs",
          .settings = fmt::format("iters={} max_test={}", iters, max_test),
          .inputs = inputs,
          .outputs = {"tables/fp32_baseline.csv"},
          .run = [s, iters, max_test](StepContext& c) -> Result<StepOutcome> {
            pipeline::BaselineOptions o;
            for (const auto& w : s.workloads) o.checkpoints.push_back(c.path(checkpoint_path(w)));
            o.out_dir = c.out_dir;
            o.iters = iters;
            o.max_test = max_test;
            o.interop_dir = EI8_SOURCE_DIR "/tests/interop";
            EI8_ASSIGN_OR_RETURN(std::vector<pipeline::BaselineRow> rows,
                                 pipeline::fp32_baseline(o));
            std::string detail;
            for (const auto& r : rows) {
              detail += fmt::format("{}{} {:.2f} % ({:.0f} us b1)", detail.empty() ? "" : "; ",
                                    r.workload, 100 * r.accuracy_ours, r.lat1.p50_us);
            }
            return StepOutcome::ok(detail);
          }};
}

}  // namespace ei8::pipeline
