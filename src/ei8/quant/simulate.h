// ei8/quant/simulate.h — run a QDQ graph on the FP32 executor ("fake quantization"), the
// accuracy oracle of the sweep, the sensitivity analysis and the mixed-precision fallback.
//
// QuantizeLinear / DequantizeLinear are the runtime's own ops (runtime/int8_ops.h, in every
// executor's built-in op registry), with the numeric contract's arithmetic
// (fixedpoint/quantize.h):
//   QuantizeLinear   q = clamp(round_half_even(x / s) + z, qmin, qmax)   (float32 division)
//   DequantizeLinear r = s · float(q − z)                               (float32)
// simulation_graph() evaluates every DequantizeLinear whose inputs are constants (weights,
// biases) into a float initializer (with that same op), so Conv/Gemm see constant (dequantized)
// weights. The result differs from an integer engine only by float summation order inside
// Conv/Gemm before the output QuantizeLinear (ties may round the other way; typically ≤ 1 LSB
// on few elements).
//
//   EI8_ASSIGN_OR_RETURN(Graph sim, simulation_graph(model.qdq));
//   EI8_ASSIGN_OR_RETURN(Executor ex, Executor::create(std::move(sim), {.optimize = false}));
#pragma once

#include <vector>

#include "ei8/core/status.h"
#include "ei8/core/tensor.h"
#include "ei8/graph/graph.h"
#include "ei8/runtime/executor.h"

namespace ei8::quant {

Result<Graph> simulation_graph(const Graph& qdq);

// Top-1 of each row of logits [N, classes].
std::vector<int64_t> argmax_rows(const Tensor& logits);

// Runs `g` (float or QDQ; optimized already) on `x` [N, ...] in batches; returns the first
// output, concatenated over batches.
Result<Tensor> run_batched(const Graph& g, const Tensor& x, int64_t batch);
// The same on an executor created by the caller (e.g. the integer engine's).
Result<Tensor> run_batched(Executor& ex, const Tensor& x, int64_t batch);

}  // namespace ei8::quant
