// ei8/runtime/op.h — the operator interface of the executor and the op registry.
//
// An Op is created per graph node, prepared once for concrete input shapes (it validates,
// reads constant inputs such as weights, packs them, and reports the scratch it needs) and
// then run many times on raw buffers without allocating or validating. Layout/alias ops
// (Reshape, Flatten, Identity, Squeeze, Unsqueeze) do not run at all: their output shares the
// input's buffer.
//
//   register_op("MyOp", [] { return std::make_unique<MyOp>(); });
//   std::unique_ptr<Op> op = create_op("Conv");   // nullptr when unknown
#pragma once

#include <functional>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "ei8/graph/graph.h"
#include "ei8/runtime/kernels/f32_common.h"
#include "ei8/runtime/kernels/plan_tuner.h"

namespace ei8 {

struct PrepareContext {
  const Graph& graph;
  const Node& node;
  std::vector<Shape> in_shapes;  // concrete, one per node input ("" -> empty)
  std::vector<DType> in_dtypes;
  std::vector<const Tensor*> constants;  // per input: the constant's data or nullptr
  std::vector<Shape> out_shapes;         // concrete, from shape inference
  kernels::KernelChoice kernel = kernels::KernelChoice::kAuto;
  kernels::PlanTuner* tuner = nullptr;  // plans by measurement (ExecutorOptions::tuner) or none
};

class Op {
 public:
  virtual ~Op() = default;
  // Validates and precomputes everything run() needs. Errors name the node.
  virtual Status prepare(const PrepareContext& ctx) = 0;
  // Bytes of scratch run() needs (shared between ops; valid after prepare).
  virtual size_t scratch_bytes() const { return 0; }
  // True when output 0 is input 0 with another shape (no run()).
  virtual bool is_alias() const { return false; }
  // in/out: one buffer per node input/output (nullptr for an omitted optional input).
  virtual void run(std::span<const std::byte* const> in, std::span<std::byte* const> out,
                   std::byte* scratch) const = 0;
  // Name of the kernel variant used (for `bench`/`info`), e.g. "avx2".
  virtual std::string_view variant() const { return "ref"; }
  // How the plan was chosen when a tuner chose it (for `bench --profile`), else "".
  virtual std::string tuning() const { return {}; }
};

using OpFactory = std::function<std::unique_ptr<Op>()>;
void register_op(std::string_view op_type, OpFactory factory);
std::unique_ptr<Op> create_op(std::string_view op_type);
std::vector<std::string> registered_ops();

}  // namespace ei8
