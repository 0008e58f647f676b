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
// (constant 2-D B), QLinearAdd (equal shapes), QLinearConcat, QLinearAveragePool,
// QLinearGlobalAveragePool, QMaxPool, QClamp, the alias ops Flatten/Reshape/Squeeze/Unsqueeze/
// Identity, QuantizeLinear on the graph input and DequantizeLinear on the graph output (per
// tensor). Requantizing nodes must carry an integer-only profile (tflite, tflite-single).
// Anything else is refused with one line naming the node and why:
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
  Layout layout = Layout::kChannelsLast;
  int buffer = -1;  // index into DeployModel::buffers

  int64_t numel() const { return c * h * w; }
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

enum class StepKind { kConv, kFullyConnected, kMaxPool, kAvgPool, kAdd, kConcat, kClamp };
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
  // QLinearAdd: the dequantized codes of both inputs, the output scale and clamp.
  std::vector<float> a_deq, b_deq;
  float c_scale = 1.0f;
  int32_t c_zero_point = 0, qmin = -128, qmax = 127;
  std::vector<ConcatPart> parts;
  int32_t lo = -128, hi = 127;  // QClamp
  std::string variant = "ref";  // "ref", "dsp", "mve": the kernel the generated code calls
  int64_t macs = 0;
};

struct DeployModel {
  std::string name;
  std::vector<TensorDesc> tensors;
  std::vector<Buffer> buffers;
  std::vector<Step> steps;
  int input = -1, output = -1;  // tensor indices of the model's int8 input and output
  // The edges: QuantizeLinear of the float input, DequantizeLinear of the float output.
  Shape float_input_shape, float_output_shape;
  float input_scale = 1.0f, output_scale = 1.0f;
  int32_t input_zero_point = 0, output_zero_point = 0;
  std::string input_name, output_name;  // the graph's float input and output values
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
