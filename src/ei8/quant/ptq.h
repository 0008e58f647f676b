// ei8/quant/ptq.h — post-training quantization: a float graph (BN folded, activations fused) and
// a calibration table in; a QDQ graph (for ONNX export) and the INT8 layer plan (quantized
// weights, int32 bias, the chosen requantization profile) out. The per-channel multipliers and
// output clamps are derived once, by the integer engine that runs the QDQ graph
// (int8_engine.h, runtime/int8_lowering.h).
//
// Scheme (ARCHITECTURE.md, "Numeric contract"):
//   weights      symmetric s8 [−127, 127], zero point 0, per tensor or per output channel
//                (Conv: axis 0; Gemm transB=1: axis 0 of B; Gemm transB=0 / MatMul: axis 1);
//   activations  u8 asymmetric (default), s8 asymmetric, or s8 symmetric ([−127, 127] scale,
//                zero point 0), per tensor, from the calibration range widened to include 0;
//                pass-through ops (MaxPool, Flatten, Reshape, Transpose, Squeeze, Unsqueeze,
//                Identity) give their output the input's parameters, so no requantization is
//                needed and ONNX Runtime drops their Q/DQ pairs;
//   bias         int32, scale fl32(s_x·s_w[c]), zero point 0, with the overflow guard
//                (quant_math.h quantize_bias: the weight scale of a channel grows until the bias
//                fits, and a warning names the node and channel).
// Wrapped in Q/DQ as ONNX Runtime's quantizer wraps them (and as its optimizer fuses them):
// Conv/Gemm/MatMul, Add, Mul, Concat, the pools, Sigmoid, LeakyRelu, Relu/Clip, an unfolded
// BatchNormalization (input and output only; ORT runs it in float, our engine as a per-channel
// table), the pass-through ops. A Relu after such an op (not Conv/Gemm/MatMul/Add/Sub/Mul/Div,
// whose Relu is fused) that is the only reader of its output is removed and the op's output
// takes the Relu's range, as ORT's quantizer does (asymmetric activations only: the zero point
// is the type's minimum, so QuantizeLinear clamps the negatives exactly). Ops that cannot be
// quantized (Softmax, Tanh, HardSigmoid, HardSwish, Sub/Div, a Mul by a constant, Gemm with
// alpha/beta ≠ 1 or a non-constant weight, ...) stay float; each such node is named in
// `warnings`. ONNX Runtime fuses DQ→Conv→Relu→Q into an integer
// QLinearConv only when the output zero point is the type's minimum (u8: 0) — u8 asymmetric
// activations, the default, satisfy that for every ReLU output.
//
//   PtqOptions o;  o.weights = WeightGranularity::kPerChannel;  o.act_type = QType::kU8;
//   EI8_ASSIGN_OR_RETURN(QuantizedModel m, quantize_model(optimized_float_graph, table, o));
//   EI8_RETURN_IF_ERROR(save_onnx(m.qdq, "model.int8.onnx"));
#pragma once

#include <map>
#include <string>
#include <vector>

#include "ei8/core/status.h"
#include "ei8/fixedpoint/requantize.h"
#include "ei8/graph/graph.h"
#include "ei8/quant/calib_table.h"
#include "ei8/quant/quant_math.h"

namespace ei8::quant {

enum class WeightGranularity { kPerTensor, kPerChannel };
std::string_view weight_granularity_name(WeightGranularity g);  // "per-tensor", "per-channel"
Result<WeightGranularity> parse_weight_granularity(std::string_view name);

// Precision of one weighted layer (Conv / Gemm / MatMul): int8 activations (the default, W8A8 or
// W4A8), int16 activations (A16W8: the layer's input and output are symmetric int16, zero point
// 0, scale max|r|/32767; weights as the other layers; int64 accumulation in the integer engine),
// or float (the same as listing it in exclude_nodes). Pass-through ops (MaxPool, Flatten, ...)
// between an int16 value and its readers carry int16 too.
enum class LayerPrecision { kInt8, kInt16, kFloat };
std::string_view layer_precision_name(LayerPrecision p);  // "int8", "int16", "float"
Result<LayerPrecision> parse_layer_precision(std::string_view name);

struct PtqOptions {
  WeightGranularity weights = WeightGranularity::kPerChannel;
  QType act_type = QType::kU8;  // kU8 or kS8
  bool act_symmetric = false;   // s8 only: [−127, 127], zero point 0
  fixedpoint::RequantProfile profile = fixedpoint::RequantProfile::kOrt;
  // Weights in [−63, 63] (ONNX Runtime's reduce_range): exact on CPUs without VNNI, whose
  // u8·s8 kernels saturate pair sums at int16; costs one bit of weight precision.
  bool reduce_range = false;
  // Weight precision: 8 (s8 [−127, 127]) or 4 (s4 [−7, 7], stored in s8 tensors and run by the
  // same integer kernels: W4A8). reduce_range applies to 8 only.
  int weight_bits = 8;
  std::vector<std::string> exclude_nodes;  // node names kept float (mixed precision)
  // Per-layer precision (node name → precision); layers not listed are int8. Names must be
  // weighted nodes of the graph (else an error); kFloat adds to exclude_nodes.
  std::map<std::string, LayerPrecision> layer_precision;
};

// What the calibrators must target for these options: symmetric or not, and the steps.
CalibParams calib_target(const PtqOptions& o, CalibParams base);

// One integer Conv / Gemm / MatMul of the INT8 plan.
struct QuantizedLayer {
  std::string node;     // node name in the float graph
  std::string op_type;  // "Conv", "Gemm", "MatMul"
  std::string input, output;
  QuantParams input_q, output_q;
  QType act_type = QType::kU8;  // of the input: u8 / s8 / s8sym, or s16sym (A16W8)
  LayerPrecision precision = LayerPrecision::kInt8;  // kInt16: input and output are s16
  Tensor weight_q;                                   // s8, the float weight's shape
  QType weight_type = QType::kS8Symmetric;           // code range of weight_q (s8sym, s7sym, s4sym)
  std::vector<float> weight_scales;                  // one (per tensor) or one per output channel
  int64_t weight_axis = 0;                           // channel axis of weight_q
  std::vector<int32_t> bias_q;  // one per output channel (zeros when the node has none)
};

struct QuantizedModel {
  Graph qdq;                           // float graph with QuantizeLinear/DequantizeLinear pairs
  std::vector<QuantizedLayer> layers;  // in topological order
  std::vector<std::pair<std::string, QuantParams>> activations;  // every quantized value
  std::vector<std::string> int16_values;  // the activations quantized as s16 (A16W8 layers)
  QType act_type = QType::kU8;
  // The requantization profile the integer engine runs qdq with (int8_engine.h); its
  // multipliers and output clamps are derived there, once, from the QDQ graph.
  fixedpoint::RequantProfile profile = fixedpoint::RequantProfile::kOrt;
  std::vector<std::string> float_nodes;  // nodes left in float
  std::vector<std::string> warnings;     // float nodes, bias adjustments, ...
  int64_t weight_bytes_int8 = 0;         // bytes of quantized weights + int32 biases
};

// `g` must be the optimized float graph the table was calibrated on (BN folded, activations
// fused: optimize() of passes.h). Errors: a quantized value missing from the table, a NaN/zero
// scale, invalid options (message names the value or node).
Result<QuantizedModel> quantize_model(const Graph& g, const CalibTable& table,
                                      const PtqOptions& options);

}  // namespace ei8::quant
