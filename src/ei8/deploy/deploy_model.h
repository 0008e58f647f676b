// ei8/deploy/deploy_model.h — what a microcontroller has to execute, read once from the integer
// graph of the INT8 lowering (runtime/int8_lowering.h, called by the CLI or the pipeline; this
// module does not depend on the runtime): a list of integer steps over 8-bit tensors, every
// multiplier, shift, table and weight already derived, and the buffers the memory plan places.
//
//   EI8_ASSIGN_OR_RETURN(Int8Lowering low, lower_to_int8(qdq, {.profile = kTflite}));
//   EI8_ASSIGN_OR_RETURN(deploy::DeployModel m, deploy::build_deploy_model(low.graph, {}));
//   for (const deploy::Step& s : m.steps) fmt::print("{} {}\n", s.node, s.variant);
//
// Supported nodes (batch 1): QLinearConv (1-D/2-D, groups, depthwise), QGemm, QLinearMatMul
// (constant 2-D B), QLinearAdd and QLinearMul (equal ranks; a dimension 1 broadcasts),
// QLinearConcat, QLinearAveragePool,
// QLinearGlobalAveragePool, QMaxPool, QClamp, QLinearLookup (constant tables, one or one per
// channel: what the lowering makes of BatchNormalization, and what the CLI makes of
// QLinearSigmoid / QLinearLeakyRelu with the engine's tables), the alias ops
// Flatten/Reshape/Squeeze/Unsqueeze/ Identity, QuantizeLinear on the graph input and
// DequantizeLinear on the graph output (per tensor). Float regions — what the engine itself runs
// in float, reproduced with its exact float32 expressions: QuantizeLinear / DequantizeLinear
// inside the graph (per tensor), float Add / Sub / Mul / Div (same rank, a dimension of 1
// broadcasts), Relu, Clip (constant bounds), and QGemm / MatMulIntegerToFloat with a float
// output. Requantizing nodes must carry an integer-only profile (tflite, tflite-single). Anything
// else (a float Conv, Sigmoid, ...) is refused with one line naming the node and why:
//   cannot generate code for node '<name>' (<op>): <param> = <value>, must be <constraint>
//
// Layout: tensors in the arena are channels-last (element (c, h, w) at (h·W + w)·C + c); the
// model's input and output, and the inputs of fully connected layers, keep the ONNX order
// (NCHW flattened). Every kernel takes views (strides), so no layout copy is needed.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ei8/core/status.h"
#include "ei8/graph/graph.h"

namespace ei8::deploy {

enum class Target { kHost, kCortexM0, kCortexM4, kCortexM7, kCortexM55 };
std::string_view target_name(Target t);  // "host", "cortex-m0", ...
Result<Target> parse_target(std::string_view name);
inline constexpr Target kAllTargets[] = {Target::kHost, Target::kCortexM4, Target::kCortexM7,
                                         Target::kCortexM55, Target::kCortexM0};

enum class Layout { kChannelsLast, kFlat };

// A tensor of the model (batch 1) seen as (C, H, W): rank 2 [1, K] is (K, 1, 1), rank 3
// [1, C, W] is (C, 1, W), rank 4 [1, C, H, W] is (C, H, W).
struct TensorDesc {
  std::string name;  // the graph value
  Shape shape;       // logical shape, batch 1
  int64_t c = 1, h = 1, w = 1;
  bool u8 = false;
  bool f32 = false;  // a float tensor of a float region (4 bytes per element, always flat)
  Layout layout = Layout::kChannelsLast;
  int buffer = -1;  // index into DeployModel::buffers

  int64_t numel() const { return c * h * w; }
  int64_t elem_bytes() const { return f32 ? 4 : 1; }
  int64_t bytes() const { return numel() * elem_bytes(); }
  // Element strides of (c, h, w) in its buffer.
  std::array<int64_t, 3> strides() const;
  // Channels-last with c contiguous (or a layout where both orders coincide).
  bool packed_channels_last() const;
};

enum class BufferKind { kInput, kOutput, kArena };

// Storage shared by a tensor and its aliases (Flatten, Reshape, ...).
struct Buffer {
  std::string name;  // the first tensor's name
  BufferKind kind = BufferKind::kArena;
  int64_t bytes = 0;
  int first_step = 0, last_step = 0;  // lifetime in steps (inclusive)
};

// Requantization of one output (per channel or per tensor), integer-only.
struct RequantDesc {
  std::vector<int32_t> multiplier, shift;  // Q31 m0 and shift per channel (size 1: per tensor)
  int32_t zero_point = 0, qmin = -128, qmax = 127;
  bool single_rounding = false;  // tflite-single
};

enum class StepKind {
  kConv,
  kFullyConnected,
  kMaxPool,
  kAvgPool,
  kAdd,
  kConcat,
  kClamp,
  kLookup,
  kMul,
  // Float regions: the nodes the engine itself runs in float, with its exact expressions.
  kQuantize,    // QuantizeLinear inside the graph (float → 8-bit, per tensor)
  kDequantize,  // DequantizeLinear inside the graph (8-bit → float, per tensor)
  kBinaryF32,   // Add, Sub, Mul, Div on floats (a dimension of 1 broadcasts)
  kUnaryF32     // Relu, Clip on floats
};
std::string_view step_kind_name(StepKind k);

struct ConcatPart {
  int input = -1;              // tensor index
  std::vector<uint8_t> table;  // 256 output bit patterns (index q − min(type)); empty: copy
  int64_t c0 = 0, h0 = 0, w0 = 0;
};

struct Step {
  StepKind kind = StepKind::kConv;
  std::string node, op_type;
  std::vector<int> inputs;  // tensor indices (data inputs only)
  int output = -1;
  // Conv / pools. Weights: conv OHWI, fully connected [out_features][in_features].
  int64_t kernel_h = 1, kernel_w = 1, stride_h = 1, stride_w = 1, dilation_h = 1, dilation_w = 1;
  int64_t pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0, groups = 1;
  bool count_include_pad = false;
  int32_t input_zero_point = 0, weight_zero_point = 0;
  std::vector<int8_t> weights;
  std::vector<int32_t> bias;
  std::vector<RequantDesc> requant;  // conv/fc: 1; average pool: one per window count
  int64_t rows = 1, in_features = 0, out_features = 0;
  // QLinearAdd: the dequantized codes of both inputs, the output scale and clamp. QLinearMul:
  // the float multiplier fl32(fl32(s_a·s_b) / s_c), the input zero points (input/weight_zero_point)
  // and the output zero point and clamp. Both broadcast an input whose dimension is 1.
  std::vector<float> a_deq, b_deq;
  float c_scale = 1.0f, mul_multiplier = 1.0f;
  int32_t c_zero_point = 0, qmin = -128, qmax = 127;
  std::vector<ConcatPart> parts;
  int32_t lo = -128, hi = 127;  // QClamp
  // QLinearLookup: 256 output bit patterns per channel (one table, or one per channel c),
  // entry q − min(type) of the input code q.
  std::vector<uint8_t> tables;
  // Fully connected with a float output (QGemm without y_scale, MatMulIntegerToFloat):
  // y = fl32(float(acc) · to_float[n]), to_float[n] = fl32(s_a · s_b[n]); empty otherwise.
  std::vector<float> to_float;
  // Float regions: Q/DQ scale and zero point (c_scale, c_zero_point; the 8-bit side's type is
  // the tensor's), the binary op (0 +, 1 −, 2 ×, 3 ÷) or unary op (0 Relu, 1 Clip [f_lo, f_hi]).
  int32_t float_op = 0;
  float f_lo = 0.0f, f_hi = 0.0f;
  std::string variant = "ref";  // "ref", "dsp", "mve": the kernel the generated code calls
  int64_t macs = 0;
};

struct DeployModel {
  std::string name;
  std::vector<TensorDesc> tensors;
  std::vector<Buffer> buffers;
  std::vector<Step> steps;
  int input = -1, output = -1;  // tensor indices of the model's input and output
  // The edges: QuantizeLinear of the float input, DequantizeLinear of the float output — when
  // the input feeds exactly one per-tensor QuantizeLinear (else the input is a float tensor and
  // its consumers are steps), and the output comes from a per-tensor DequantizeLinear of an
  // 8-bit step output (else the output is the float tensor of a step: a float region's last op
  // or a fully connected layer with float output).
  Shape float_input_shape, float_output_shape;
  float input_scale = 1.0f, output_scale = 1.0f;
  int32_t input_zero_point = 0, output_zero_point = 0;
  bool input_f32 = false, output_f32 = false;  // model_run reads / writes floats
  std::string input_name, output_name;         // the graph's float input and output values
  Target target = Target::kHost;

  int64_t weight_bytes() const;  // int8 weights + int32 bias + multipliers/shifts + tables
  int64_t macs() const;
};

struct BuildOptions {
  Target target = Target::kHost;
  // Force the reference kernels everywhere (tests compare the variants).
  bool reference_only = false;
};

// `lowered` is the integer graph of lower_to_int8 (shapes are inferred again at batch 1).
Result<DeployModel> build_deploy_model(const Graph& lowered, const BuildOptions& options = {});

}  // namespace ei8::deploy
