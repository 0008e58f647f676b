// ei8/quant/evaluate.h — what the sweep, the sensitivity analysis and the mixed-precision
// fallback share: an evaluation set (inputs + optional labels), top-1 accuracy and agreement of
// a simulated QDQ model with the float model, the model's byte count and the process's peak
// memory.
//
//   EI8_ASSIGN_OR_RETURN(EvalSet ev, make_eval_set(float_graph, inputs, labels));
//   EI8_ASSIGN_OR_RETURN(Evaluation fp32, evaluate_graph(float_graph, ev, {}, 32));
//   EI8_ASSIGN_OR_RETURN(Evaluation q, evaluate_model(model, ev, fp32.top1, 32));
//   // q.accuracy (fraction, NaN without labels), q.agreement (fraction of top-1 equal to fp32)
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "ei8/core/status.h"
#include "ei8/core/tensor.h"
#include "ei8/graph/graph.h"
#include "ei8/quant/ptq.h"

namespace ei8::quant {

// Evaluation samples [N, ...model input] (f32) and N integer class labels (empty = no labels:
// only agreement with FP32 is measured).
struct EvalSet {
  Tensor inputs;
  std::vector<int64_t> labels;
  bool has_labels() const { return !labels.empty(); }
  int64_t samples() const { return inputs.rank() == 0 ? 0 : inputs.dim(0); }
};

// Checks the set against the float graph `g` (one input): samples ≥ 1, f32, the sample shape of
// the input, labels either empty or one per sample and ≥ 0. Errors name the mismatch.
Result<EvalSet> make_eval_set(const Graph& g, Tensor inputs, std::vector<int64_t> labels);

// Labels as int64 from an .npy of integers (s8/u8/s32) or floats holding integers; `n` samples.
Result<std::vector<int64_t>> read_labels(const std::string& path, int64_t n);

// The evaluation set of the float graph `g` from files: samples as load_calibration_data reads
// them (.npy or a directory of .npy), labels from `labels_path` unless it is empty.
Result<EvalSet> load_eval_set(const Graph& g, const std::string& data_path,
                              const std::string& labels_path);

struct Evaluation {
  std::vector<int64_t> top1;  // per sample
  Tensor logits;              // the first output, [N, classes]
  double accuracy = 0.0;      // fraction in [0, 1] of top1 == label; NaN without labels
  double agreement = 1.0;     // fraction of top1 equal to `reference` (1 when none given)
};

// Runs a float or QDQ graph (already simulation-ready: simulation_graph()) on the set.
Result<Evaluation> evaluate_graph(const Graph& g, const EvalSet& ev,
                                  std::span<const int64_t> reference, int64_t batch);
// The INT8 model on the integer engine (int8_engine.h, the model's requantization profile).
Result<Evaluation> evaluate_model(const QuantizedModel& m, const EvalSet& ev,
                                  std::span<const int64_t> reference, int64_t batch);

double fraction_equal(std::span<const int64_t> a, std::span<const int64_t> b);

// Bytes of the model's parameters as an INT8 deployment stores them: s8 weights + int32 biases
// (QuantizedModel::weight_bytes_int8) + every float constant a float node still reads
// ("leftovers": layers kept float, Add/Mul constants, ...). Scales and zero points not counted.
int64_t float_leftover_bytes(const QuantizedModel& m);
int64_t model_bytes(const QuantizedModel& m);

// Peak resident memory of this process (Linux): reset_peak_memory() writes "5" to
// /proc/self/clear_refs, which resets VmHWM to the current RSS; peak_memory_bytes() reads VmHWM
// from /proc/self/status. So a reset before a piece of work and a read after it give the peak
// RSS of the whole process while that work ran (everything else resident included). Returns
// -1 when /proc is unavailable.
void reset_peak_memory();
int64_t peak_memory_bytes();

}  // namespace ei8::quant
