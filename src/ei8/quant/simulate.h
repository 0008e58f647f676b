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
// weights.
//
// Plain (no profile): a layer's output is round(Σ float products / s_y). That differs from the
// integer engine, which requantizes the exact int32 accumulator with the profile's multiplier
// (fixedpoint/requantize.h): float summation, the division by s_y instead of the multiply by
// M = s_x·s_w/s_y, and the tflite profiles' fixed-point rounding move a few elements per tensor
// by 1 LSB (more graph-wise, as the steps propagate).
//
// Following a profile (SimulationOptions::profile): every layer the integer engine requantizes
// — DQ(x), DQ(w)[, DQ(b)] → Conv | Gemm | MatMul [→ Relu | Clip] → Q and DQ(x) →
// GlobalAveragePool [→ Relu | Clip] → Q — becomes
//   DequantizeLinear(q_x, 1, z_x)        x − z_x, exact in float32
//   Conv | Gemm | MatMul on the codes    weights w − z_w and the int32 bias as float32 values,
//                                        Conv forced to the direct algorithm (no Winograd):
//                                        the float sum of integers is the exact accumulator
//                                        while every partial sum stays below 2^24 (checked per
//                                        layer from Σ|w|·max|x − z_x| + |b|; a layer beyond
//                                        is named in `notes`)
//   | ReduceSum over H, W               (GlobalAveragePool: the window sum)
//   QuantizeLinear + requant attributes  the profile's Requantizer applied to that accumulator
//                                        (M from s_x, s_w[c], s_y as the engine derives it;
//                                        pools: fl32(s_x / (s_y·n))), the activation as the
//                                        output clamp [quantize(lo), quantize(hi)].
// The QuantizeLinear keeps its output name, so every tensor stays where the plain simulation
// has it. Those graphs need the ops of simulation_ops() (the builtin set plus the two forms
// above); run_batched(Graph) uses it.
//
//   EI8_ASSIGN_OR_RETURN(Graph sim, simulation_graph(model.qdq));
//   EI8_ASSIGN_OR_RETURN(Executor ex, Executor::create(std::move(sim), {.optimize = false}));
//   EI8_ASSIGN_OR_RETURN(Graph exact, simulation_graph(model.qdq, {.profile = model.profile}));
//   EI8_ASSIGN_OR_RETURN(Executor ey, Executor::create(std::move(exact),
//                                                       {.optimize = false, .ops =
//                                                       simulation_ops()}));
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ei8/core/status.h"
#include "ei8/core/tensor.h"
#include "ei8/fixedpoint/requantize.h"
#include "ei8/graph/graph.h"
#include "ei8/runtime/executor.h"
#include "ei8/runtime/op.h"

namespace ei8::quant {

struct SimulationOptions {
  // None: the plain simulation. A profile: requantizing layers follow its contract (above).
  std::optional<fixedpoint::RequantProfile> profile;
  // Filled (when not null) with one line per layer whose accumulator bound reaches 2^24 or
  // that is left plain because its pattern is not one the integer engine requantizes.
  std::vector<std::string>* notes = nullptr;
};

Result<Graph> simulation_graph(const Graph& qdq, const SimulationOptions& options = {});

// The builtin ops plus the profile-following forms of QuantizeLinear and Conv (nodes without
// their attributes run the builtin ones).
std::shared_ptr<const OpRegistry> simulation_ops();

// Top-1 of each row of logits [N, classes].
std::vector<int64_t> argmax_rows(const Tensor& logits);

// Runs `g` (float or QDQ; optimized already) on `x` [N, ...] in batches; returns the first
// output, concatenated over batches.
Result<Tensor> run_batched(const Graph& g, const Tensor& x, int64_t batch);
// The same on an executor created by the caller (e.g. the integer engine's).
Result<Tensor> run_batched(Executor& ex, const Tensor& x, int64_t batch);

}  // namespace ei8::quant
