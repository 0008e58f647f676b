// ei8/runtime/int8_tables.h — unary integer ops of the lowered graph as constant lookup tables.
//
// QLinearSigmoid and QLinearLeakyRelu (x, s_x, z_x, s_y, z_y) become QLinearLookup (x, table):
// the 256-entry table the integer engine builds for them (int8_ops.cpp QLookupOp: dequantize
// the 256 codes, the float op as ONNX Runtime evaluates it, QuantizeLinear), so a consumer that
// only reads constants (the C generator, deploy/) computes the same codes without the float op.
//
//   EI8_ASSIGN_OR_RETURN(Int8Lowering low, lower_to_int8(qdq, {.profile = kTflite}));
//   EI8_RETURN_IF_ERROR(tabulate_unary_ops(low.graph));
#pragma once

#include "ei8/core/status.h"
#include "ei8/graph/graph.h"

namespace ei8 {

// Rewrites every QLinearSigmoid / QLinearLeakyRelu node in place; other nodes are untouched.
// Errors (scales or zero points that are not constant scalars of one 8-bit type) name the node.
Status tabulate_unary_ops(Graph& g);

}  // namespace ei8
