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
//   Relu, Sigmoid, Tanh, Sqrt, Erf; LeakyRelu alpha; Clip min, max (float attributes; absent =
//                 unbounded); HardSigmoid alpha (0.2), beta (0.5): max(0, min(1, alpha·x + beta));
//                 HardSwish: x · HardSigmoid(x) with alpha = 1/6, beta = 0.5.
//   MaxPool       kernel_shape, strides, pads, dilations, ceil_mode, auto_pad.
//   AveragePool   kernel_shape, strides, pads, ceil_mode, count_include_pad, auto_pad.
//   GlobalAveragePool.
//   Add, Sub, Mul, Div (numpy broadcasting); optional fused activation = "Relu".
//   Pow           X, Y (numpy broadcasting; Y an f32 tensor, usually a constant scalar).
//   ReduceMean, ReduceSum, ReduceMax   axes (int list, negative = from the end; absent or empty
//                 = every axis), keepdims (default 1). ONNX's axes input and
//                 noop_with_empty_axes are converted by the importer.
//   Slice         starts, ends, axes, steps (int lists of equal length; ONNX semantics: negative
//                 = from the end, clamped to the dimension, step != 0, ends may be ±2^63-1).
//   Split         axis, split (int list of part sizes along axis; absent = equal parts, one per
//                 output).
//   Gather        axis; indices (int list, constant), indices_shape (int list; absent = 1-D of
//                 len(indices), [] = scalar): ONNX Gather with constant indices.
//   Expand        shape (int list, numpy broadcasting with the input; 1 keeps the input's dim).
//                 Optional input 1 (`like`) with attribute like_axes (one per shape entry, -1 =
//                 none): entry i is dimension like_axes[i] of `like` (a runtime size such as the
//                 batch: `class_token.expand(x.shape[0], -1, -1)`).
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

// The window a Slice node (canonical attributes) takes from an input of shape `in`: per axis the
// first index, the step and the element count (an axis not sliced: 0, 1, dim; a kDynamic axis
// that is sliced has count kDynamic). Fails (naming the node) on a bad axis, a zero step or
// lists of unequal length.
struct SliceWindow {
  std::vector<int64_t> start, step, count;
};
Result<SliceWindow> slice_window(const Node& node, const Shape& in);

// The axes a Reduce* node reduces over an input of rank `rank`: normalized (0..rank-1), sorted,
// every axis when the attribute is absent or empty. Fails on an out-of-range or repeated axis.
Result<std::vector<int64_t>> reduce_axes(const Node& node, int64_t rank);

// Part sizes of a Split node along its axis of size `dim` (kDynamic allowed when `split` is
// given). Fails when the sizes do not add up to dim or dim does not divide into the outputs.
Result<std::vector<int64_t>> split_sizes(const Node& node, int64_t dim);

// Output shape of an Expand node for input shape `x` and, when it has one, `like` shape.
Result<Shape> expand_shape(const Node& node, const Shape& x, const Shape& like);

}  // namespace ei8
