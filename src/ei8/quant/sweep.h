// ei8/quant/sweep.h — the PTQ strategy sweep: for every calibration method × weight granularity
// × activation scheme, build the INT8 model from one shared statistics pass, evaluate it by
// simulation (QDQ graph on the FP32 executor) against the float model, and tabulate accuracy,
// drop, agreement, bytes, latency, calibration time and peak memory (ptq_sweep.csv / .json).
//
//   EI8_ASSIGN_OR_RETURN(Statistics st, collect_statistics(g, calib, {}));
//   EI8_ASSIGN_OR_RETURN(EvalSet ev, make_eval_set(g, eval_inputs, labels));
//   SweepOptions o;                       // {minmax, percentile, entropy, mse} × 2 × 2
//   o.latency = my_int8_latency;          // optional; else the latency columns are "n/a"
//   EI8_ASSIGN_OR_RETURN(SweepResult r, run_sweep(g, st, ev, o, nullptr));
//   EI8_RETURN_IF_ERROR(r.table().write("results/tables/ptq_sweep"));
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "ei8/core/progress.h"
#include "ei8/core/status.h"
#include "ei8/graph/graph.h"
#include "ei8/quant/calibration.h"
#include "ei8/quant/calibrators.h"
#include "ei8/quant/evaluate.h"
#include "ei8/quant/ptq.h"

namespace ei8::quant {

// Latency of one run of `model` on a batch of `batch` samples, in microseconds (the integer
// engine's; measured by the caller's code). Errors are reported in the row, not fatal.
using LatencyFn = std::function<Result<double>(const QuantizedModel& model, int64_t batch)>;

struct SweepOptions {
  std::vector<CalibMethod> methods = {CalibMethod::kMinMax, CalibMethod::kPercentile,
                                      CalibMethod::kEntropy, CalibMethod::kMse};
  std::vector<WeightGranularity> weights = {WeightGranularity::kPerTensor,
                                            WeightGranularity::kPerChannel};
  std::vector<bool> act_symmetric = {true, false};  // true: s8 symmetric; false: `ptq.act_type`
  PtqOptions ptq;      // act_type of the asymmetric rows (u8 default), profile, exclude_nodes
  CalibParams calib;   // every other calibrator hyper-parameter (percentile, levels, ...)
  int64_t batch = 32;  // evaluation batch, ≥ 1
  LatencyFn latency;   // empty: latency columns say "n/a"
  // false: no clock or memory reading enters the result (search/statistics seconds NaN, peak
  // memory -1; with no `latency` too, every column is a function of the inputs only, so two runs
  // — one process or many — give the same bytes).
  bool timings = true;
};

// Rows the options produce (methods × weights × act_symmetric).
size_t sweep_size(const SweepOptions& o);

struct SweepRow {
  CalibMethod method = CalibMethod::kMinMax;
  WeightGranularity weights = WeightGranularity::kPerChannel;
  std::string activations;        // "u8-asym", "s8-asym", "s8-sym"
  double accuracy = 0.0;          // fraction [0, 1]; NaN without labels
  double drop_points = 0.0;       // 100·(FP32 accuracy − accuracy); NaN without labels
  double agreement = 0.0;         // fraction of top-1 equal to FP32's
  int64_t weight_bytes_int8 = 0;  // s8 weights + int32 biases
  int64_t float_bytes = 0;        // float constants still read by float nodes
  int64_t model_bytes = 0;        // the two above
  double latency_b1_us = 0.0;     // NaN when no latency callback (or it failed)
  double latency_b32_us = 0.0;
  std::string latency_note;       // "" or why latency is missing
  double search_seconds = 0.0;    // threshold search of this method on every tensor
  int64_t peak_memory_bytes = 0;  // process VmHWM while this row ran (-1 unknown)
  int64_t float_nodes = 0;
};

struct SweepResult {
  std::vector<SweepRow> rows;
  double fp32_accuracy = 0.0;       // NaN without labels
  double statistics_seconds = 0.0;  // the shared statistics pass (forward + observers), once
  int64_t statistics_samples = 0;
  int64_t eval_samples = 0;
  int64_t fp32_bytes = 0;             // float model parameters
  int64_t observer_memory_bytes = 0;  // histogram counters of every observer
  fixedpoint::RequantProfile profile = fixedpoint::RequantProfile::kOrt;
  // The best row: highest accuracy (agreement without labels), ties → fewer bytes.
  const SweepRow* best() const;
};

// `g` is the optimized float graph `st` was collected on. Errors: empty options, bad batch, an
// evaluation set that does not fit `g`, a calibration or quantization failure (names the row).
// `progress` (may be null) advances once per row.
Result<SweepResult> run_sweep(const Graph& g, const Statistics& st, const EvalSet& eval,
                              const SweepOptions& options, Progress* progress);

// The sweep in pieces, for sweeps split over processes (core/distribute.h): prepare_sweep checks
// the options and evaluates the float model once (the result's fields without rows);
// sweep_row(plan, i) is row i of run_sweep's order (method, then weights, then activations).
// `g` and `st` must outlive the plan.
struct SweepPlan {
  const Graph* graph = nullptr;
  const Statistics* statistics = nullptr;
  EvalSet eval;
  Evaluation fp32;
  SweepOptions options;
  SweepResult header;  // every field of the result but `rows`
  size_t size() const { return sweep_size(options); }
};
Result<SweepPlan> prepare_sweep(const Graph& g, const Statistics& st, const EvalSet& eval,
                                const SweepOptions& options);
Result<SweepRow> sweep_row(const SweepPlan& plan, size_t index);

// Exact byte records (doubles as their bits) of a row and of the result's fields but rows.
std::string encode_sweep_row(const SweepRow& row);
[[nodiscard]] Status decode_sweep_row(std::string_view bytes, SweepRow* row);
std::string encode_sweep_header(const SweepResult& r);
[[nodiscard]] Status decode_sweep_header(std::string_view bytes, SweepResult* r);

// "u8-asym" / "s8-asym" / "s8-sym" for these options.
std::string activation_scheme_name(const PtqOptions& o);

}  // namespace ei8::quant
