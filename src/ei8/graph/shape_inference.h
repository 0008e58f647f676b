// ei8/graph/shape_inference.h — the operator set of the IR, its canonical attributes, output
// shapes/dtypes and MAC counts.
//
// Canonical IR form of each operator (ONNX semantics unless noted; shapes NCHW / NCW):
//   Conv          X, W, [B]; kernel_shape, strides, pads [b1..bk, e1..ek], dilations, group,
//                 auto_pad ("NOTSET" | "SAME_UPPER" | "SAME_LOWER" | "VALID", resolved into pads
//                 by infer_shapes once the spatial size is known); optional fused activation:
//                 activation = "Relu" | "Clip" | "LeakyRelu", activation_min/_max (Clip),
//                 activation_alpha (LeakyRelu).
//   Gemm          A, B, [C]; transA, transB, alpha, beta; optional fused activation as Conv.
//   MatMul        A, B (numpy-style batched).
//   BatchNormalization X, scale, B, mean, var; epsilon (inference form).
//   Relu, Sigmoid, Tanh; LeakyRelu alpha; Clip min, max (float attributes; absent = unbounded).
//   MaxPool       kernel_shape, strides, pads, dilations, ceil_mode, auto_pad.
//   AveragePool   kernel_shape, strides, pads, ceil_mode, count_include_pad, auto_pad.
//   GlobalAveragePool.
//   Add, Sub, Mul, Div (numpy broadcasting).
//   Concat axis; Flatten axis; Transpose perm; Identity.
//   Reshape       shape (int list attribute; 0 copies the input dimension, -1 is inferred).
//   Pad           pads (int list, [b1..bk, e1..ek] over all axes), value (float), mode
//                 "constant" only.
//   Softmax       axis (opset-13 semantics: along one axis); coerce_2d = 1 keeps the opset < 13
//                 meaning (normalize over all axes from `axis` on).
//   QuantizeLinear / DequantizeLinear   x, scale, [zero_point]; axis (per-axis when scale is 1-D).
//   QLinearConv   x, x_scale, x_zp, w, w_scale, w_zp, y_scale, y_zp, [B s32]; Conv attributes.
//   QLinearMatMul a, a_scale, a_zp, b, b_scale, b_zp, y_scale, y_zp.
//
//   EI8_RETURN_IF_ERROR(infer_shapes(graph));                 // dynamic batch kept as kDynamic
//   Result<std::vector<Shape>> s = infer_node_shapes(graph, node, {{4, 3, 32, 32}, ...});
//   int64_t macs = node_macs(graph, node, in_shapes, out_shapes);
#pragma once

#include <span>
#include <string_view>
#include <vector>

#include "ei8/graph/graph.h"

namespace ei8 {

// Every op type the IR knows (import accepts these; the executor runs the float ones).
std::span<const std::string_view> supported_ops();
bool is_supported_op(std::string_view op_type);

// Output shapes of `node` given its input shapes (same order as node.inputs; an omitted
// optional input has an empty shape). Dimensions may be kDynamic; any output dimension that
// depends on one is kDynamic. Constant inputs are read from `graph` when needed.
Result<std::vector<Shape>> infer_node_shapes(const Graph& graph, const Node& node,
                                             const std::vector<Shape>& input_shapes);
// Output dtypes of `node`.
Result<std::vector<DType>> infer_node_dtypes(const Graph& graph, const Node& node,
                                             const std::vector<DType>& input_dtypes);

// Fills shape/dtype of every node output in topological order, resolves Conv/pool auto_pad
// into explicit pads. Fails with a message naming the node on inconsistent shapes.
Status infer_shapes(Graph& graph);

// Multiply-accumulates of one node (Conv, QLinearConv, Gemm, MatMul, QLinearMatMul; 0 for
// other ops). kDynamic dimensions count as 1 (i.e. per sample).
int64_t node_macs(const Node& node, const std::vector<Shape>& input_shapes,
                  const std::vector<Shape>& output_shapes);

// Effective pads [b1..bk, e1..ek] of a Conv/pool node for spatial input size `in` (handles
// auto_pad).
std::vector<int64_t> resolve_pads(const Node& node, std::span<const int64_t> in_spatial,
                                  std::span<const int64_t> kernel);

// Numpy broadcasting of two shapes; fails when incompatible.
Result<Shape> broadcast_shapes(const Shape& a, const Shape& b);

}  // namespace ei8
