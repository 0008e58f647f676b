// ei8/pipeline/pipeline.h — named steps run in order, each reported as ok / failed / skipped
// (with the reason) / cached, with its duration, and a summary table at the end.
//
// A step declares the files it reads and writes and a settings string. Its cache key is a hash
// of its name, version, settings and the contents of its input files; when the key equals the
// one stored under <out>/.cache/ and every output has the size and hash recorded when the step
// succeeded, the step is not re-run (a truncated or edited output re-runs it). Because inputs
// are the outputs of earlier steps, a change anywhere upstream re-runs what depends on it.
//
//   Pipeline p(out_dir);
//   p.add({.name = "fixedpoint.verify", .outputs = {"tables/fixedpoint_verify.csv"},
//          .run = [](StepContext& c) -> Result<StepOutcome> { ...; return StepOutcome::ok(); }});
//   PipelineSummary s = p.run({.continue_on_error = false});
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "ei8/core/status.h"
#include "ei8/report/table.h"

namespace ei8::pipeline {

enum class StepState { kOk, kFailed, kSkipped, kCached };
std::string_view step_state_name(StepState s);  // "ok", "failed", "skipped", "cached"

struct StepOutcome {
  StepState state = StepState::kOk;
  std::string detail;  // one line: what was produced, or why it was skipped
  static StepOutcome ok(std::string detail = {}) { return {StepState::kOk, std::move(detail)}; }
  static StepOutcome skipped(std::string why) { return {StepState::kSkipped, std::move(why)}; }
};

struct StepRecord;

struct StepContext {
  std::string out_dir;  // absolute or relative results directory; paths below are relative to it
  const std::vector<StepRecord>* previous = nullptr;  // the steps before this one, as they ended
  std::string path(std::string_view rel) const;
};

struct Step {
  std::string name;                  // "train.signal1d"
  std::string description;           // one line for --help-like listings
  std::string version = "1";         // bump when the step's code changes what it writes
  std::string settings;              // everything that changes the result (part of the cache key)
  std::vector<std::string> inputs;   // files read (relative to out_dir, or absolute)
  std::vector<std::string> outputs;  // files written (relative to out_dir)
  std::function<Result<StepOutcome>(StepContext&)> run;
};

struct StepRecord {
  std::string name;
  StepState state = StepState::kOk;
  double seconds = 0;
  std::string detail;
};

struct RunOptions {
  bool continue_on_error = false;  // run later steps after a failure
  bool force = false;              // ignore the cache
  bool quiet = false;              // no per-step lines on stdout
};

struct PipelineSummary {
  std::vector<StepRecord> steps;
  double seconds = 0;
  bool all_ok() const;  // no step failed
  report::Table table() const;
};

class Pipeline {
 public:
  explicit Pipeline(std::string out_dir) : out_dir_(std::move(out_dir)) {}
  void add(Step step) { steps_.push_back(std::move(step)); }
  const std::vector<Step>& steps() const { return steps_; }

  // Runs every step in order. Without continue_on_error, the steps after a failure are
  // reported as skipped ("an earlier step failed").
  PipelineSummary run(const RunOptions& options);

  // The cache key of a step given the current contents of its inputs.
  std::string cache_key(const Step& step) const;
  // What .cache/<step>.key holds after a successful run: the key, then one line per output,
  // "<bytes> <fnv1a> <path>" ("missing <path>" when absent). The step is cached only when the
  // stored record equals the current one.
  std::string cache_record(const Step& step) const;

 private:
  std::string out_dir_;
  std::vector<Step> steps_;
};

// 64-bit FNV-1a of bytes, as 16 hex digits (cache keys; not cryptographic).
std::string fnv1a_hex(std::string_view bytes, uint64_t seed = 0xcbf29ce484222325ULL);

}  // namespace ei8::pipeline
