// ei8/graph/layer_view.h — every compute layer of a graph decoded ONCE into one geometry type.
//
// A Conv (1-D or 2-D, grouped, depthwise), a fully connected layer (Gemm, MatMul) and a pool
// (MaxPool, AveragePool, GlobalAveragePool, GlobalMaxPool), in float, QDQ or QLinear form, is
// described by a LayerGeometry: shapes, strides, pads, dilations, groups, the accumulation
// count K, MACs, operand types and, when the graph carries them, the quantization parameters
// of its operands. The FP32 and INT8 operators, the int8 lowering, `edgeint8 info`, the
// simulator's workload and the fixed-point analysis all read this struct instead of decoding
// node attributes themselves.
//
//   EI8_RETURN_IF_ERROR(infer_shapes(g));
//   EI8_ASSIGN_OR_RETURN(LayerView v, layer_view(g));
//   for (const LayerGeometry& l : v.layers) fmt::print("{} K={}\n", l.node,
//   l.accumulation_count()); for (const SkippedLayer& s : v.skipped) fmt::print("{} skipped: {}\n",
//   s.node, s.reason);
//
//   // From concrete shapes (the executor's prepare):
//   EI8_ASSIGN_OR_RETURN(LayerGeometry l, decode_layer(node, in_shapes, out_shapes));
//
// Conventions (NCHW / NCW): a 1-D layer has spatial_rank 1 with in_h = out_h = kernel_h = 1 and
// no vertical padding. A fully connected layer computes Y[rows, N] = A[rows, K] · B[K, N]:
// in_channels = K, out_channels = N, rows_per_sample the rows of one sample (A's dimensions
// between the batch and K), 1×1 spatial. `batch` is the input's first dimension and may be
// kDynamic.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ei8/core/status.h"
#include "ei8/graph/graph.h"

namespace ei8 {

enum class LayerKind { kConv, kFullyConnected, kMaxPool, kAvgPool, kGlobalAvgPool, kGlobalMaxPool };
std::string_view layer_kind_name(LayerKind k);  // "conv", "fc", "maxpool", ...

// True for the op types the layer view decodes (Conv, QLinearConv, Gemm, QGemm, MatMul,
// QLinearMatMul, MatMulIntegerToFloat, MaxPool, AveragePool, GlobalAveragePool, GlobalMaxPool and
// their integer forms).
bool is_layer_op(std::string_view op_type);
// True for the ones that multiply-accumulate (conv and fully connected).
bool is_mac_op(std::string_view op_type);

// The sliding window of a Conv or pool node for a given input: every attribute decoded and
// checked once (kernel, strides, dilations ≥ 1, pads ≥ 0, auto_pad resolved, lengths equal to
// the spatial rank). pads = [begin..., end...].
struct Window {
  std::vector<int64_t> kernel, strides, dilations, pads;
};
Result<Window> decode_window(const Node& n, std::span<const int64_t> spatial,
                             std::span<const int64_t> kernel);

// Quantization of one operand (per tensor: one scale; per channel: one per output channel).
struct OperandQuant {
  std::string value;  // the integer tensor (x_q, w_q, b_q or y_q)
  DType dtype = DType::kU8;
  std::vector<float> scales;
  std::vector<int32_t> zero_points;  // as many as scales
};

// The integer operands of a quantized layer: QLinearConv/QLinearMatMul inputs, or the
// DequantizeLinear nodes feeding a float layer and the QuantizeLinear after it (QDQ).
struct LayerQuant {
  std::string form;  // "qlinear" or "qdq"
  OperandQuant input, weight;
  std::optional<OperandQuant> bias;    // s32 with scale s_x·s_w[c]
  std::optional<OperandQuant> output;  // absent when no QuantizeLinear follows
  // QDQ: the activation between the layer and its output QuantizeLinear ("" or "Relu", "Clip").
  std::string activation;
};

struct LayerGeometry {
  std::string node, op_type;
  LayerKind kind = LayerKind::kConv;
  int spatial_rank = 2;  // conv/pool: 1 or 2; fully connected: 0
  int64_t batch = 1;     // may be kDynamic
  int64_t in_channels = 1, in_h = 1, in_w = 1;
  int64_t out_channels = 1, out_h = 1, out_w = 1;
  int64_t kernel_h = 1, kernel_w = 1;
  int64_t stride_h = 1, stride_w = 1;
  int64_t dilation_h = 1, dilation_w = 1;
  int64_t pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0;
  int64_t groups = 1;  // conv: C_in and C_out divisible by it; depthwise: groups = C_in
  bool ceil_mode = false, count_include_pad = false;  // pools
  // Fully connected: rows of one sample, B transposed (Gemm transB), matrices in B (> 1: a
  // batched MatMul whose right operand has leading dimensions).
  int64_t rows_per_sample = 1;
  bool trans_b = false;
  int64_t weight_batches = 1;
  // Gemm/QGemm: A transposed, and the factors of Y = alpha·A·B + beta·C (1 for the others).
  bool trans_a = false;
  float alpha = 1.0f, beta = 1.0f;
  // Rank of the weight tensor as the graph holds it (conv: spatial rank + 2; fc: B's rank).
  int weight_rank = 0;

  // Value names: the node's data input, weight and bias (may be "") and output.
  std::string input, weight, bias, output;
  DType input_type = DType::kF32, weight_type = DType::kF32, output_type = DType::kF32;
  std::optional<LayerQuant> quant;
  std::string unquantized_reason;  // MAC layer without `quant`: why (e.g. a float op before it)

  bool is_mac() const { return kind == LayerKind::kConv || kind == LayerKind::kFullyConnected; }
  int64_t in_channels_per_group() const { return in_channels / groups; }
  // The axis of the weight tensor that indexes output channels (per-channel scales run along
  // it): 0 for a conv; for a fully connected layer the N axis of B (0 for Gemm transB, else the
  // last); -1 when the weight has no such axis (a 1-D B).
  int64_t weight_channel_axis() const;
  // Products summed into one accumulator: (C_in/groups)·K_h·K_w (conv), K (fully connected);
  // window taps K_h·K_w for pools.
  int64_t accumulation_count() const;
  // Multiply-accumulates of one sample (pools: 0).
  int64_t macs() const;
  // Weight elements: out_channels·(C_in/groups)·K_h·K_w, or K·N·weight_batches.
  int64_t weight_numel() const;
  // One line: "conv2d 16->32 k9 s2 p4/4 g1 on 1x64" etc.
  std::string describe() const;
};

// Decodes `n` from concrete input and output shapes (the order of node.inputs/outputs; an
// omitted optional input has an empty shape). The weight shape comes from in_shapes (conv:
// input 1, QLinearConv: 3; fully connected: B). Errors name the node and the attribute.
Result<LayerGeometry> decode_layer(const Node& n, std::span<const Shape> in_shapes,
                                   std::span<const Shape> out_shapes);

// Decodes `n` from the graph's inferred shapes and dtypes, and its quantization parameters
// from the graph (QLinear inputs, or the DQ/Q nodes around a float layer).
Result<LayerGeometry> decode_layer(const Graph& g, const Node& n);

struct SkippedLayer {
  std::string node, op_type, reason;
};

struct LayerView {
  std::vector<LayerGeometry> layers;  // topological order
  std::vector<SkippedLayer> skipped;  // layers whose shapes or attributes cannot be described
};

// Every layer op of `g` (shapes inferred: infer_shapes). A layer that cannot be decoded is
// listed in `skipped` with the reason instead of failing the whole graph.
Result<LayerView> layer_view(const Graph& g);

}  // namespace ei8
