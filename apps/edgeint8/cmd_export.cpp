// edgeint8 export — a trained checkpoint (best.pt / last.pt) to ONNX with a dynamic batch.
#include <fmt/format.h>

#include "cli.h"
#ifdef EI8_HAS_TORCH
#include "ei8/graph/onnx/onnx_io.h"
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

}  // namespace ei8::cli
