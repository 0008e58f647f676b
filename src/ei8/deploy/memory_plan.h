// ei8/deploy/memory_plan.h — the static memory plan of generated code: every arena buffer gets
// a byte offset inside one caller-provided arena, fixed at generation time.
//
// Lifetimes come from the step order (a buffer lives from the step that writes it to the last
// step that reads it). Two strategies:
//   greedy-by-size   TensorFlow Lite Micro's GreedyMemoryPlanner: buffers in decreasing size,
//                    each at the lowest offset where it overlaps no buffer alive at the same time.
//   inplace-bestfit  buffers in step order, each at the offset that grows the arena least, and an
//                    output may overlap the input its step reads for the last time when the
//                    step's access order allows it ("in-place" and partial overlap): running the
//                    output pixels forward, the output may start `forward_gap` bytes below the
//                    input or lower; running them backward, `backward_gap` bytes above or higher.
//                    The gaps come from the kernel's exact read and write order (overlap_gaps).
//                    The result is never worse than greedy-by-size: if it were, that plan is used.
// check_plan() verifies any plan independently (tests, and the generator before writing code).
//
//   EI8_ASSIGN_OR_RETURN(PlanSet plans, plan_memory(model));
//   fmt::print("greedy {} B, in-place {} B\n", plans.greedy.arena_bytes, plans.best.arena_bytes);
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ei8/core/status.h"
#include "ei8/deploy/deploy_model.h"

namespace ei8::deploy {

struct PlanBuffer {
  std::string name;
  int64_t bytes = 0;
  int first = 0, last = 0;  // steps, inclusive
};

// The output of step `step` (buffer `output`) may overlap `input`, which that step reads for
// the last time: offset(output) − offset(input) ≤ −forward_gap with the pixels run forward, or
// ≥ backward_gap run backward (any disjoint placement satisfies both).
struct OverlapRule {
  int step = 0, input = 0, output = 0;
  int64_t forward_gap = 0, backward_gap = 0;
};

struct PlanProblem {
  std::vector<PlanBuffer> buffers;
  std::vector<OverlapRule> rules;
  int steps = 0;
};

struct MemoryPlan {
  std::string strategy;          // "greedy-by-size" or "inplace-bestfit"
  std::vector<int64_t> offsets;  // per buffer of the problem
  std::vector<bool> reverse;     // per step: run the output pixels backward
  int64_t arena_bytes = 0;
};

MemoryPlan plan_greedy_by_size(const PlanProblem& p);
MemoryPlan plan_inplace_bestfit(const PlanProblem& p);

// Every pair of buffers alive at the same step is disjoint, or overlaps as a rule of that step
// allows in the step's direction; offsets ≥ 0; arena_bytes covers every buffer.
Status check_plan(const PlanProblem& p, const MemoryPlan& plan);

// Bytes alive at each step (without overlap: the sum of the live buffers' sizes); the largest
// is a lower bound for any plan without overlap.
std::vector<int64_t> live_bytes(const PlanProblem& p);

// The overlap a step allows between its output and input `input_index` (both arena tensors
// with a packed channels-last layout), from the exact order in which the kernel reads and
// writes: {forward_gap, backward_gap}. Disjoint-only steps return {|output|, |input|}.
std::pair<int64_t, int64_t> overlap_gaps(const DeployModel& m, const Step& s, size_t input_index);

// The problem of a model: its arena buffers (the model's input and output are the caller's)
// and the overlap rules of its steps. `arena_index[b]` maps model buffer b to the problem's
// buffer (−1 for the input and output).
struct ModelPlanProblem {
  PlanProblem problem;
  std::vector<int> arena_index;
};
ModelPlanProblem plan_problem(const DeployModel& m);

struct PlanSet {
  ModelPlanProblem problem;
  MemoryPlan greedy;        // TFLM-style, for comparison
  MemoryPlan best;          // the plan the generated code uses
  int64_t lower_bound = 0;  // max live bytes without overlap
};
Result<PlanSet> plan_memory(const DeployModel& m);

}  // namespace ei8::deploy
