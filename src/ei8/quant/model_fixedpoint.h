// ei8/quant/model_fixedpoint.h — fixed-point analysis of a MODEL's real layers: bit growth and
// accumulator overflow of every Conv / Gemm / MatMul with its actual geometry (the layer view,
// graph/layer_view.h), its actual quantized weights and biases and, given calibration data, the
// integer activations it actually receives. fixedpoint/ supplies the primitives (bit growth
// formula, saturate/wrap simulation, requantizers); this file only feeds them the model.
//
// Per MAC layer:
//   K                   (C_in/groups)·Π kernel (conv), K (fully connected)
//   data-independent    product bits + ⌈log2 K⌉, and the exact K·max|x − z_x|·max|w − z_w| for
//                       the layer's operand types (u8 or s8 with z ≠ 0: |x − z| ≤ 255)
//   weight-dependent    (QDQ / QLinear) max over output channels c of
//                       Σ_k |w_q[c,k] − z_w[c]|·max|x_q − z_x| + |b_q[c]|  (what these weights can
//                       reach for ANY input of the layer's type)
//   observed            (calibration data) the largest |partial sum| the layer reaches on the
//                       integer inputs it receives, bias preloaded, in the reference order
//   overflow            (widths given) saturate vs wrap at each width on those inputs: changed
//                       accumulators and, through the layer's own requantizer (ort profile),
//                       changed outputs in output LSB.
// A float model given calibration data is first quantized with `ptq` / `calib` (PTQ of this
// module), so its layers get real integer operands too. A layer the analysis cannot describe
// (e.g. a float op between DequantizeLinear and the layer) keeps K and the data-independent
// bound and says why the rest is missing (`note`); a layer whose geometry cannot be decoded is
// listed in `skipped`.
//
//   EI8_ASSIGN_OR_RETURN(Graph g, load_onnx("tiny2d.int8.onnx"));
//   EI8_ASSIGN_OR_RETURN(Tensor x, load_calibration_data("calib.npy", input_shape));
//   EI8_ASSIGN_OR_RETURN(ModelFixedPoint r, analyze_model_fixed_point(g, &x, {}));
//   for (const LayerFixedPoint& l : r.layers) use(l.k, l.bound.accumulator_bits, l.observed_bits);
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "ei8/core/status.h"
#include "ei8/core/tensor.h"
#include "ei8/fixedpoint/bit_growth.h"
#include "ei8/fixedpoint/overflow.h"
#include "ei8/graph/graph.h"
#include "ei8/graph/layer_view.h"
#include "ei8/quant/calibrators.h"
#include "ei8/quant/ptq.h"

namespace ei8::quant {

struct ModelFixedPointOptions {
  // Operands assumed for the layers of a float model analysed without calibration data.
  fixedpoint::OperandKind float_operands = fixedpoint::OperandKind::kU8S8;
  int64_t max_samples = 64;  // calibration samples used (0 = all)
  int64_t batch = 16;        // samples per forward pass, ≥ 1
  std::vector<int> widths;   // accumulator widths to simulate (each 2..64); empty = none
  PtqOptions ptq;            // how a float model is quantized when calibration data is given
  CalibParams calib;
};

struct LayerFixedPoint {
  std::string node, op_type, geometry;
  int64_t k = 0;
  fixedpoint::OperandKind operands = fixedpoint::OperandKind::kS8S8;
  bool integer_operands = false;  // operands from the model (false: assumed, float layer)
  fixedpoint::BitGrowth bound;    // data-independent: formula and exact worst case
  bool has_weight_bound = false;
  int64_t weight_bound_abs = 0;  // max_c Σ|w_q − z_w|·max|x_q − z_x| + |b_q|
  int weight_bound_bits = 0;
  bool has_observed = false;
  int64_t observed_abs = 0;          // max |final accumulator| on the calibration data
  int64_t observed_partial_abs = 0;  // max |partial sum|
  int observed_bits = 0;             // signed bits holding observed_partial_abs
  std::optional<fixedpoint::LayerOverflow> overflow;  // with widths and calibration data
  std::string note;  // why a bound or the observation is missing ("" when complete)
};

struct ModelFixedPoint {
  std::string model;
  bool quantized = false;       // the model as given has integer layers (QDQ or QLinear)
  bool quantized_here = false;  // a float model quantized from the calibration data
  int64_t calib_samples = 0;
  std::vector<LayerFixedPoint> layers;  // every Conv / Gemm / MatMul, topological order
  std::vector<SkippedLayer> skipped;    // layers whose geometry could not be decoded
};

// `g`: the model as loaded (float, QDQ or QLinear); `calib` (may be null): samples [N, ...] of
// its first input. Errors: bad options, calibration data of the wrong shape, a model without
// any decodable MAC layer.
Result<ModelFixedPoint> analyze_model_fixed_point(const Graph& g, const Tensor* calib,
                                                  const ModelFixedPointOptions& o);

}  // namespace ei8::quant
