// ei8/runtime/int8_ops.h — the integer operators of the INT8 runtime, part of the runtime's
// built-in op registry (op.h OpRegistry::builtin()). They run the graphs int8_lowering.h produces
// (and imported QLinearConv / QLinearMatMul models) integer-only: every multiplier is derived in
// prepare(), run() touches only integers (the `ort` profile: one float32 multiply per output, as
// ONNX Runtime).
//
// Ops (inputs as in ONNX / com.microsoft; u8 or s8 activations, s8 or u8 weights, s32 bias;
// every scale and zero point a constant):
//   QuantizeLinear, DequantizeLinear   per tensor or per axis: the only implementation of the
//                    two ops (fixedpoint/quantize.h per element; the FP32 graphs of QDQ
//                    simulation run the same ones)
//   QLinearConv      x, s_x, z_x, w, s_w, z_w, s_y, z_y[, B]   conv1d/conv2d, groups, depthwise
//   QLinearMatMul    a, s_a, z_a, b, s_b, z_b, s_y, z_y        constant B (2-D or batched)
//   QGemm            a, s_a, z_a, b, s_b, z_b[, C][, s_y, z_y] A [M, K], constant B, transB;
//                                                              without s_y, z_y: float output
//   MatMulIntegerToFloat  a, b, s_a, s_b, z_a, z_b             float output (com.microsoft)
//   QLinearAdd, QLinearMul  a, s_a, z_a, b, s_b, z_b, s_c, z_c numpy broadcasting
//   QLinearSigmoid, QLinearLeakyRelu  x, s_x, z_x, s_y, z_y    256-entry tables (attr alpha)
//   QLinearLookup    x, table [256] or [C, 256] of x's type   attr axis (per-channel tables)
//   QLinearConcat    s_y, z_y, (x, s_x, z_x)...                attr axis
//   QLinearAveragePool, QLinearGlobalAveragePool   x, s_x, z_x, s_y, z_y
//   QMaxPool         x (MaxPool attributes; output keeps the input's scale/zero point)
//   QClamp           x; attrs lo, hi (ReLU/Clip in the quantized domain)
// Attributes added by the lowering: "requant_profile" ("ort" default, "tflite",
// "tflite-single") on every requantizing node, "qmin"/"qmax" (output clamp of a fused
// ReLU/Clip) on QLinearConv, QGemm, QLinearMatMul and QLinearAdd.
//
//   EI8_ASSIGN_OR_RETURN(Executor ex, Executor::create(lowered, {.optimize = false}));
#pragma once

#include "ei8/runtime/op.h"

namespace ei8 {

// Adds the ops above to `r` (OpRegistry::builtin() already has them).
void add_int8_ops(OpRegistry& r);

}  // namespace ei8
