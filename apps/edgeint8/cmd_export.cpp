// edgeint8 export — a trained checkpoint (best.pt / last.pt) to ONNX with a dynamic batch.
#include <fmt/format.h>

#include "cli.h"
#ifdef EI8_HAS_TORCH
#include "ei8/graph/onnx/onnx_io.h"
#include "ei8/pipeline/baseline.h"
#include "ei8/train/export.h"
#endif

namespace ei8::cli {

void register_export(CLI::App& app) {
  auto checkpoint = std::make_shared<std::string>();
  auto out = std::make_shared<std::string>();
  CLI::App* sub = app.add_subcommand(
      "export",
      "Convert a checkpoint written by `edgeint8 train` (best.pt or last.pt, with its .json "
      "sidecar) into our IR and write ONNX (opset 13, dynamic batch, input 'input', output "
      "'logits')");
  sub->add_option("checkpoint", *checkpoint, "checkpoint file (.pt)")->required();
  sub->add_option("-o,--output", *out, "ONNX file to write")->required();
  set_action(sub, [checkpoint, out]() -> Status {
#ifdef EI8_HAS_TORCH
    EI8_ASSIGN_OR_RETURN(train::ModelWeights w, train::load_checkpoint(*checkpoint));
    EI8_ASSIGN_OR_RETURN(Graph g, train::build_graph(w));
    EI8_RETURN_IF_ERROR(save_onnx(g, *out));
    fmt::print("{}: {} (trained on {}, epoch {}, test accuracy {:.2f}%), {} nodes, {} parameters\n",
               *out, train::workload_name(w.workload), w.dataset, w.epoch, 100 * w.accuracy,
               g.nodes().size(), g.parameter_count());
    return Status{};
#else
    return unsupported("cannot export {}: libtorch = not built in, must be built with "
                       "EI8_WITH_TORCH=ON (the release preset)",
                       *checkpoint);
#endif
  });
}

#ifndef EI8_HAS_TORCH
void register_baseline(CLI::App& app) {
  CLI::App* sub = app.add_subcommand("baseline", "FP32 baseline of trained checkpoints");
  sub->allow_extras();
  set_action(sub, []() -> Status {
    return unsupported(
        "cannot run baseline: libtorch = not built in, must be built with "
        "EI8_WITH_TORCH=ON (the release preset)");
  });
}
#else
void register_baseline(CLI::App& app) {
  auto o = std::make_shared<pipeline::BaselineOptions>();
  CLI::App* sub = app.add_subcommand(
      "baseline",
      "FP32 baseline of trained checkpoints: export each to OUT/models/<workload>.onnx, then "
      "measure that file with our runtime (test accuracy, latency at batch 1 and 32 on one "
      "thread, ONNX Runtime P50 when tests/interop is installed, parameters, ONNX bytes, MACs); "
      "writes OUT/tables/fp32_baseline.csv and .json");
  sub->add_option("checkpoints", o->checkpoints, "best.pt files written by `edgeint8 train`")
      ->required();
  sub->add_option("--out", o->out_dir, "results directory")->capture_default_str();
  sub->add_option("--data-dir", o->data_dir, "dataset directory (default: as for train)");
  sub->add_option("--iters", o->iters, "timed runs at batch 1 (batch 32: iters/4)")
      ->capture_default_str();
  sub->add_option("--warmup", o->warmup, "untimed runs first")->capture_default_str();
  sub->add_option("--max-test", o->max_test, "evaluate the first N test samples (0 = all)");
  o->interop_dir = "tests/interop";
  sub->add_option("--interop-dir", o->interop_dir,
                  "directory of run_ort.mjs with onnxruntime-node installed (ORT latency)")
      ->capture_default_str();
  set_action(sub, [o]() -> Status {
    EI8_ASSIGN_OR_RETURN(std::vector<pipeline::BaselineRow> rows, pipeline::fp32_baseline(*o));
    fmt::print("{:<9} {:<14} {:>9} {:>9} {:>10} {:>11} {:>10} {:>11} {:>8} {:>9} {:>9}\n",
               "workload", "dataset", "acc ours", "acc torch", "b1 p50 us", "b32 p50 us",
               "ORT b1 us", "ORT b32 us", "params", "bytes", "MACs");
    for (const auto& r : rows) {
      const auto opt = [](double v) { return v < 0 ? std::string("-") : fmt::format("{:.1f}", v); };
      fmt::print(
          "{:<9} {:<14} {:>8.2f}% {:>8.2f}% {:>10.1f} {:>11.1f} {:>10} {:>11} {:>8} {:>9} "
          "{:>9}\n",
          r.workload, r.dataset, 100 * r.accuracy_ours, 100 * r.accuracy_torch, r.lat1.p50_us,
          r.lat32.p50_us, opt(r.ort_p50_us_b1), opt(r.ort_p50_us_b32), r.params, r.onnx_bytes,
          r.macs);
    }
    fmt::print("wrote {}/tables/fp32_baseline.csv and .json\n", o->out_dir);
    return Status{};
  });
}
#endif

}  // namespace ei8::cli
