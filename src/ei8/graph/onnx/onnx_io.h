// ei8/graph/onnx/onnx_io.h — ONNX files in and out of the IR (the only code that sees protobuf).
//
// Import reads opset 7–18 models of the default domain using the operators listed in
// shape_inference.h, plus Constant, Dropout and the shape arithmetic exporters emit around
// Reshape, Slice, Expand and friends (Shape, Gather, Unsqueeze, Squeeze, Concat, Cast, Slice,
// Add/Sub/Mul/Div/Mod, Equal, Where, Range, ConstantOfShape, ... on int64 "shape values"; list:
// import_time_ops()), which is evaluated at import time. A shape value element is known (folded
// to a constant) or depends on a runtime size (the dynamic batch): then it becomes what the IR
// evaluates at prepare from the node's input shapes — `x.view(x.size(0), -1)` becomes Reshape
// with shape [0, -1], `t.expand(x.shape[0], -1, -1)` an Expand reading x's dim 0, `x[:, :n]`
// with n = x.shape[1] a Slice to the end — and anything else is an error naming the node.
// Int64 tensors exist only as such values; tensors become f32/s8/u8/s32 (float64 is converted
// to f32). The result has shapes inferred (dynamic dims = kDynamic) and
// is not optimized (call optimize() from passes.h).
// Export writes opset 13 (IR version 8): canonical attributes back to ONNX inputs, fused
// activations as separate nodes named "<conv>/<Act>", dynamic dims as dim_param "batch", and
// the model is checked with onnx::checker before it is written.
// Every failure (truncated or corrupt file, unsupported op — the message names op and node —,
// missing initializer, inconsistent shapes) is a Status, never an exception or a crash.
//
//   EI8_ASSIGN_OR_RETURN(Graph g, load_onnx("model.onnx"));
//   EI8_RETURN_IF_ERROR(save_onnx(g, "copy.onnx"));
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "ei8/core/status.h"
#include "ei8/graph/graph.h"

namespace ei8 {

// Reads and imports an ONNX model file; errors are prefixed with the path.
Result<Graph> load_onnx(const std::string& path);
// Imports a serialized ModelProto held in memory; `name` prefixes error messages.
Result<Graph> parse_onnx(std::string_view bytes, std::string_view name = "<memory>");

// Ops the importer evaluates on int64 shape values only (they never reach the IR).
std::span<const std::string_view> import_time_ops();
// IR ops the importer also evaluates when their data input is an int64 shape value.
std::span<const std::string_view> shape_value_ops();

// Exports `graph` (shapes inferred on a copy first) as ONNX, checked by onnx::checker.
Status save_onnx(const Graph& graph, const std::string& path);
Result<std::string> serialize_onnx(const Graph& graph);

}  // namespace ei8
