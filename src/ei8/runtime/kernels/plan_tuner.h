// ei8/runtime/kernels/plan_tuner.h — plans chosen by measurement at prepare time, for any
// engine whose prepared kernels accept a plan by name (ConvS8Kernel / FullyConnectedS8Kernel
// `plan`; the FP32 kernels can do the same with their own names).
//
// A layer asks the tuner for its plan with a key (engine, shape, types, batch: whatever makes two
// layers interchangeable) and its candidates (plan names, the heuristic's first). The tuner
// answers from its table (a tuning file read at start, keyed by CPU model + key) or, in measure
// mode, times every candidate on the layer's real shape with the caller's `measure` function and
// keeps the fastest; in heuristic mode it answers "" (the kernel's own heuristic). Every INT8
// candidate computes the same outputs bit for bit, so the choice changes speed only. For engines
// whose candidates differ within a tolerance (FP32), the recorded plan makes a run reproducible:
// the same tuning file gives the same plans, hence the same bits.
//
//   PlanTuner tuner({.mode = PlanTuner::Mode::kMeasure});
//   EI8_RETURN_IF_ERROR(tuner.load("tune.tsv"));            // a missing file is an empty table
//   EI8_ASSIGN_OR_RETURN(std::string plan, tuner.choose(key, candidates, measure));
//   ... ConvS8Kernel::prepare(p, w, b, in, out, KernelChoice::kAuto, plan) ...
//   EI8_RETURN_IF_ERROR(tuner.save("tune.tsv"));
//
// File format (UTF-8 text, one entry per line, tab-separated; '#' lines are comments):
//   cpu  key  plan  us  runner_up  runner_up_us
// Entries of other CPUs are kept (and written back) but never used here.
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "ei8/core/status.h"

namespace ei8::kernels {

// One decision: the plan for a key, its measured time and the runner-up's (µs; 0 and "" when
// read from a file without them or when there was one candidate).
struct TuneRecord {
  std::string key;
  std::string plan;
  double us = 0.0;
  std::string runner_up;
  double runner_up_us = 0.0;
  bool from_file = false;
  int candidates = 0;
};

class PlanTuner {
 public:
  enum class Mode {
    kHeuristic,  // never measure: the table's plan or "" (the kernel's heuristic)
    kMeasure,    // the table's plan, else measure the candidates
  };
  struct Options {
    Mode mode = Mode::kMeasure;
    // Measurement budget per layer (ms): every candidate is timed once (after one warm-up run);
    // then the fastest four are timed again in turns (min of the runs): one turn always, more
    // while the budget lasts. The first candidate is always timed; the others of the first
    // pass stop when the budget is spent.
    double budget_ms = 25.0;
  };

  PlanTuner() = default;
  explicit PlanTuner(Options o) : opt_(o) {}

  // Reads a tuning file (a missing file is an empty table). Errors name the file and line.
  [[nodiscard]] Status load(const std::string& path);
  // Writes every entry (this CPU's decisions of this process included, sorted by key).
  [[nodiscard]] Status save(const std::string& path) const;

  // measure(plan, runs) → min µs of `runs` timed runs of `plan` (after one untimed warm-up run),
  // or an error (the candidate is then skipped). Returns the plan to prepare ("" = the kernel's
  // heuristic), and records the decision.
  using Measure = std::function<Result<double>(const std::string& plan, int runs)>;
  [[nodiscard]] Result<std::string> choose(const std::string& key,
                                           const std::vector<std::string>& candidates,
                                           const Measure& measure);

  // This process's decisions, in the order they were made (first use of each key).
  std::vector<TuneRecord> decisions() const;
  // The decision for `key`, or nullptr.
  const TuneRecord* find(const std::string& key) const;
  Mode mode() const { return opt_.mode; }

 private:
  Options opt_;
  mutable std::mutex mu_;
  std::map<std::pair<std::string, std::string>, TuneRecord> table_;  // (cpu, key)
  std::vector<std::string> order_;                                   // keys decided here
};

}  // namespace ei8::kernels
