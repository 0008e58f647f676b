// edgeint8 info — op census, per-layer shapes and MACs of an ONNX model.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "cli.h"
#include "ei8/graph/onnx/onnx_io.h"
#include "ei8/graph/passes.h"
#include "ei8/graph/shape_inference.h"
#include "ei8/graph/summary.h"
#include "ei8/runtime/op.h"

namespace ei8::cli {
namespace {

struct InfoArgs {
  std::string model;
  bool optimize = false;
  bool json = false;
};

std::string shapes_text(const std::vector<Shape>& shapes) {
  std::vector<std::string> parts;
  for (const Shape& s : shapes) {
    if (!s.empty()) parts.push_back(shape_to_string(s));
  }
  return fmt::format("{}", fmt::join(parts, " "));
}

Status info(const InfoArgs& a) {
  EI8_ASSIGN_OR_RETURN(Graph g, load_onnx(a.model));
  if (a.optimize) EI8_RETURN_IF_ERROR(optimize(g));
  EI8_ASSIGN_OR_RETURN(GraphSummary s, summarize(g));
  if (a.json) {
    nlohmann::json j;
    j["model"] = a.model;
    j["opset"] = g.opset();
    j["macs_per_sample"] = s.macs;
    j["parameters"] = s.params;
    j["parameter_bytes"] = s.param_bytes;
    j["ops"] = s.op_counts;
    for (const LayerInfo& l : s.layers) {
      j["layers"].push_back({{"name", l.name},
                             {"op", l.op_type},
                             {"inputs", l.inputs},
                             {"outputs", l.outputs},
                             {"macs", l.macs},
                             {"params", l.params}});
      if (!l.geometry.empty()) {
        j["layers"].back()["K"] = l.k;
        j["layers"].back()["geometry"] = l.geometry;
      }
    }
    fmt::print("{}\n", j.dump(2));
    return {};
  }
  fmt::print("model: {} (graph '{}', opset {})\n", a.model, g.name(), g.opset());
  for (const auto& in : g.inputs()) {
    fmt::print("input:  {} {} {}\n", in, dtype_name(g.find_value(in)->dtype),
               shape_to_string(g.find_value(in)->shape));
  }
  for (const auto& o : g.outputs()) {
    fmt::print("output: {} {}\n", o, shape_to_string(g.find_value(o)->shape));
  }
  fmt::print("parameters: {} ({} bytes)   MACs per sample: {} ({:.3f} M)\n", s.params,
             s.param_bytes, s.macs, static_cast<double>(s.macs) / 1e6);
  fmt::print("ops:");
  for (const auto& [op, n] : s.op_counts) fmt::print(" {}={}", op, n);
  fmt::print("\n\n{:<32} {:<18} {:<40} {:<20} {:>10} {:>8} {:>6}  {}\n", "layer", "op",
             "inputs (batch 1)", "output", "MACs", "params", "K", "geometry");
  for (const LayerInfo& l : s.layers) {
    fmt::print("{:<32} {:<18} {:<40} {:<20} {:>10} {:>8} {:>6}  {}\n", l.name, l.op_type,
               shapes_text(l.inputs), shapes_text(l.outputs), l.macs, l.params,
               l.geometry.empty() ? std::string("-") : std::to_string(l.k), l.geometry);
  }
  return {};
}

}  // namespace

void register_info(CLI::App& app) {
  auto args = std::make_shared<InfoArgs>();
  CLI::App* sub =
      app.add_subcommand("info", "Op census, per-layer shapes and MACs of an ONNX model (batch 1)");
  // Generated from the registries: the IR's operator table (graph/shape_inference), the FP32
  // executor's kernels (runtime/op.h) and the importer's shape-value ops (graph/onnx).
  std::vector<std::string> run, import_only;
  const std::vector<std::string> kernels = registered_ops();
  for (std::string_view op : supported_ops()) {
    const bool runs = std::find(kernels.begin(), kernels.end(), op) != kernels.end();
    (runs || op == "Constant" ? run : import_only).emplace_back(op);
  }
  sub->footer(fmt::format(
      "Supported ONNX operators (opset 7-18):\n  imported and run by the FP32 executor: {}\n"
      "  imported (quantized models, run by the INT8 engine): {}\n"
      "  evaluated at import on int64 shape values (shape arithmetic): {}; and {} applied to "
      "them.",
      fmt::join(run, ", "), fmt::join(import_only, ", "), fmt::join(import_time_ops(), ", "),
      fmt::join(shape_value_ops(), ", ")));
  sub->add_option("model", args->model, "Model file (.onnx)")->required();
  sub->add_flag("--optimize", args->optimize,
                "Show the graph after BN folding, activation fusion and constant folding");
  sub->add_flag("--json", args->json, "Machine-readable output");
  set_action(sub, [args] { return info(*args); });
}

}  // namespace ei8::cli
