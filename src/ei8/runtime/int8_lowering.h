// ei8/runtime/int8_lowering.h — from a QDQ graph (QuantizeLinear/DequantizeLinear pairs around
// float ops: ours from quant/ptq.h, or imported from elsewhere) to an integer graph the INT8
// runtime (int8_ops.h) executes integer-only, and an executor factory for it.
//
// Rewrites (every scale and zero point a constant, activations per tensor) — the patterns ONNX
// Runtime's QDQ optimizer fuses, with its conditions, so that a file runs the same integer (or
// float) arithmetic here as there:
//   DQ(x), DQ(w)[, DQ(b s32)] → Conv (+Relu/Clip) → Q     QLinearConv  (int32 bias; the
//                                                          activation becomes the output clamp)
//   DQ(x), DQ(B)[, DQ(C s32)] → Gemm (+Relu/Clip) → Q      QGemm        (com.microsoft layout)
//   DQ(x), DQ(B 2-D) → MatMul (+Relu/Clip) → Q             QLinearMatMul
//   DQ(x), DQ(B)[, DQ(C s32)] → Gemm, no Q after it        QGemm without y_scale: float output
//   DQ(x), DQ(B 2-D) → MatMul, no Q after it               MatMulIntegerToFloat: float output
//                                                          (y = fl32(float(acc)·fl32(s_x·s_w[c])))
//   DQ(a), DQ(b) → Add (+Relu/Clip) → Q                   QLinearAdd   (numpy broadcasting)
//   DQ(a), DQ(b) → Mul [+ redundant Relu/Clip] → Q        QLinearMul   (numpy broadcasting; a
//                                                          Relu that Q does not make redundant
//                                                          keeps the Mul float, as in ORT)
//   DQ(x) → Sigmoid | LeakyRelu → Q                        QLinearSigmoid | QLinearLeakyRelu
//   DQ(x) → Sigmoid | LeakyRelu | BatchNormalization [→ Relu/Clip] → Q
//                                                          QLinearLookup: a table per channel,
//                                                          the float path as ORT runs it (ORT
//                                                          keeps BatchNormalization float)
//   QLinearSigmoid(x) → s, QLinearMul(x, s) (s read only there: the SiLU, after the rules
//   above)                                                 QLinearLookup(x, table): the pair
//                                                          evaluated on all 256 codes of x
//   DQ(x_i)... → Concat → Q                                QLinearConcat
//   DQ(x) → AveragePool / GlobalAveragePool → Q            QLinearAveragePool / ...Global...
//   DQ(x) → MaxPool | Flatten | Reshape | Squeeze | Unsqueeze | Identity | Transpose
//         → becomes the op on the integers, then DQ        (QMaxPool; the others stay aliases)
//   DQ(x) → Relu | Clip  → the clamp on the integers (QClamp), then DQ
//   Q(DQ(x)) with equal parameters → x
// A ReLU/Clip before Q is exact as a clamp of the quantized output (quantization is monotone).
// DequantizeLinear of constants that a float op still reads becomes a float initializer
// (constant folding). Everything else stays float between its DQ and Q nodes, each such compute
// node named in `warnings`; QuantizeLinear/DequantizeLinear remain at the graph edges. The
// requantization profile (ort default, tflite, tflite-single) is recorded on every integer node;
// all multipliers/shifts/tables are derived once in the executor's prepare().
// Bad input: a Q/DQ scale of 0, negative, NaN or Inf, a zero point of another type than its
// data, a non-zero int32 zero point, or a runtime (non-constant) scale → an error naming the node.
//
//   EI8_ASSIGN_OR_RETURN(Graph qdq, load_onnx("model.int8.onnx"));
//   EI8_ASSIGN_OR_RETURN(Int8Lowering low, lower_to_int8(qdq));
//   for (const auto& w : low.warnings) fmt::print(stderr, "warning: {}\n", w);
//   EI8_ASSIGN_OR_RETURN(Executor ex, make_int8_executor(qdq));   // lowers + registers the ops
#pragma once

#include <string>
#include <vector>

#include "ei8/core/status.h"
#include "ei8/fixedpoint/overflow.h"
#include "ei8/fixedpoint/requantize.h"
#include "ei8/graph/graph.h"
#include "ei8/runtime/executor.h"

namespace ei8 {

struct Int8LoweringOptions {
  fixedpoint::RequantProfile profile = fixedpoint::RequantProfile::kOrt;
  // A narrower accumulator to simulate in every QLinearConv / QLinearMatMul / QGemm /
  // MatMulIntegerToFloat (attributes "accumulator_bits", "accumulator_policy"; those nodes then
  // run the reference kernels): 0 = the exact int32 sum, else 2..64 bits.
  int accumulator_bits = 0;
  fixedpoint::OverflowPolicy accumulator_policy = fixedpoint::OverflowPolicy::kSaturate;
  // QLinearSigmoid(x) → QLinearMul(x, ·) (the SiLU) → one QLinearLookup table of the two ops'
  // results for every code of x (bit-exact with the pair; false keeps the pair, for tests).
  bool fuse_silu = true;
};

struct Int8Lowering {
  Graph graph;                             // the integer graph (shapes and dtypes inferred)
  std::vector<std::string> integer_nodes;  // names of the new integer compute nodes
  std::vector<std::string> float_nodes;    // compute nodes left in float
  std::vector<std::string> warnings;
};

// True when `g` has at least one QuantizeLinear or DequantizeLinear node.
bool is_qdq_graph(const Graph& g);

// Checks every QuantizeLinear/DequantizeLinear: constant scale, finite and > 0; zero point of
// the data's type (u8/s8) and, for int32 data, 0; per-axis sizes consistent.
Status validate_qdq(const Graph& g);

// `qdq` need not be optimized; its shapes are inferred on a copy.
Result<Int8Lowering> lower_to_int8(const Graph& qdq, const Int8LoweringOptions& options = {});

// Lowers `qdq`, registers the integer ops and creates an executor of the integer graph
// (options.optimize is ignored: the integer graph is not re-optimized).
Result<Executor> make_int8_executor(const Graph& qdq, const Int8LoweringOptions& lowering = {},
                                    ExecutorOptions options = {});

// Median latency in µs of the integer engine on `qdq` at `batch` (inputs filled with a fixed
// pattern), over `iters` timed runs after `warmup` runs, one thread. For the PTQ sweep; speed
// claims in reports come from bench/ (Google Benchmark).
Result<double> int8_latency_us(const Graph& qdq, int64_t batch, int iters = 20, int warmup = 3,
                               const Int8LoweringOptions& lowering = {});

}  // namespace ei8
