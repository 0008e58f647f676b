// ei8/runtime/executor.h — runs an IR graph on the CPU (FP32).
//
// create() validates and (by default) optimizes the graph (BN folding, activation fusion,
// constant folding, no-op removal) and builds one Op per node; prepare() plans for concrete
// input shapes once (shape inference, weight packing, buffers with lifetime-based reuse,
// scratch); run() executes the plan without allocating. Change the batch by calling prepare()
// again. Conv/Gemm/MatMul use the prepared kernels of ei8/runtime/kernels (fastest tier this
// CPU runs unless `kernel` forces one); every other op runs its reference kernel.
//
//   EI8_ASSIGN_OR_RETURN(Graph g, load_onnx("m.onnx"));
//   EI8_ASSIGN_OR_RETURN(Executor ex, Executor::create(std::move(g)));
//   EI8_RETURN_IF_ERROR(ex.prepare_batch(8));            // dynamic batch dimension = 8
//   fill(ex.input(0));                                    // [8, 3, 32, 32] f32
//   EI8_RETURN_IF_ERROR(ex.run());
//   const Tensor& y = ex.output(0);
#pragma once

#include <memory>
#include <span>
#include <vector>

#include "ei8/graph/graph.h"
#include "ei8/runtime/kernels/f32_common.h"
#include "ei8/runtime/kernels/plan_tuner.h"
#include "ei8/runtime/op.h"

namespace ei8 {

struct ExecutorOptions {
  // Worker threads (1 = the calling thread only). With T > 1 and a batch N >= 2, the batch is
  // split into min(T, N) slices, each run by its own prepared plan on a persistent worker;
  // a batch of 1 always runs on the calling thread.
  int threads = 1;
  // Samples per pass through the graph when one thread runs a batch: the batch is run in tiles
  // so that the live activations of a tile stay in cache (results are identical; every op is
  // per-sample). 0 = auto (about 256 KiB of activations per tile); >= batch = no tiling.
  int64_t batch_tile = 0;
  kernels::KernelChoice kernel = kernels::KernelChoice::kAuto;
  bool optimize = true;  // run passes.h optimize() in create()
  // Plans chosen by measurement (kernels/plan_tuner.h): ops with plan candidates (INT8 Conv /
  // Gemm / MatMul) ask it at prepare, for the batch they run (tiles, slices). nullptr: every
  // kernel's heuristic plan. Shared by the lanes; outputs are the same either way.
  std::shared_ptr<kernels::PlanTuner> tuner;
  // The op set the executor creates its ops from (op.h); nullptr: OpRegistry::builtin().
  std::shared_ptr<const OpRegistry> ops;
};

class Executor {
 public:
  static Result<Executor> create(Graph graph, const ExecutorOptions& options = {});

  // Plans for these input shapes (one per graph input; kDynamic dims of the graph may take any
  // size, other dims must match). Fails, naming the input, on a wrong shape.
  Status prepare(const std::vector<Shape>& input_shapes);
  // prepare() with every kDynamic input dimension set to `batch`.
  Status prepare_batch(int64_t batch);
  bool prepared() const { return prepared_; }

  size_t num_inputs() const { return graph_.inputs().size(); }
  size_t num_outputs() const { return graph_.outputs().size(); }
  // Input buffers (shaped by prepare) to fill before run().
  Tensor& input(size_t i) { return inputs_[i]; }
  // Outputs of the last run().
  const Tensor& output(size_t i) const { return outputs_[i]; }

  // Runs the prepared plan on input(i). Allocation-free.
  Status run();
  // Runs the prepared plan on the caller's buffers instead of input(i), without copying them:
  // data[i] holds input(i).nbytes() bytes of input i (its prepared shape and dtype, row-major,
  // aligned to its element size), read in place; a batch run in tiles or thread slices copies
  // each slice from it as run() does from input(i). The buffers must not change during the
  // call; input(i) is neither read nor written. Fails on a count, null or misaligned buffer.
  Status run_on(std::span<const void* const> data);
  // Convenience: prepares when the shapes changed, copies the inputs, runs, returns copies.
  Result<std::vector<Tensor>> run(const std::vector<Tensor>& inputs);

  const Graph& graph() const { return graph_; }
  // Concrete shape of every value after prepare().
  const Shape* value_shape(const std::string& value) const;
  // Kernel variant chosen per node (after prepare), e.g. {"conv1", "avx2"}.
  std::vector<std::pair<std::string, std::string>> variants() const;
  // Per tuned node (after prepare): how its plan was chosen, e.g. "tuned 41.2 µs of 14;
  // runner-up avx2/direct-u8x4 80.1 µs" (Op::tuning()).
  std::vector<std::pair<std::string, std::string>> tuning() const;
  size_t arena_bytes() const { return arena_bytes_; }
  // Runs the plan `iters` times on the calling thread, timing each node; returns the minimum
  // µs per node over the runs, in execution order (alias nodes do not run and are absent).
  // `cpu_time`: the calling thread's CPU time (CLOCK_THREAD_CPUTIME_ID) instead of wall time.
  Result<std::vector<std::pair<std::string, double>>> profile(int iters, bool cpu_time = false);

  Executor(Executor&&) noexcept;
  Executor& operator=(Executor&&) noexcept;
  ~Executor();

 private:
  Executor() = default;
  struct Step;
  class Pool;
  Status prepare_lanes(const std::vector<Shape>& input_shapes);
  void scatter(size_t lane, int64_t row);  // input rows [row, row + lane rows) -> lane inputs
  void gather(size_t lane, int64_t row);   // lane outputs -> output rows
  Graph graph_;
  ExecutorOptions options_;
  bool prepared_ = false;
  bool tune_whole_batch_ = false;  // prepare(): tune this plan even for a batch > 1
  std::vector<Tensor> inputs_, outputs_;
  std::vector<const std::byte*> bound_;  // run_on: where input i is read (empty: inputs_)
  // Every place the plan reads an input buffer (built by prepare for run_on): step `step`'s
  // argument `arg` (or, with step = kOutputSlot, output_src_[arg]) reads inputs_[input].
  struct InputSlot {
    static constexpr size_t kOutputSlot = ~size_t{0};
    size_t step, arg, input;
  };
  std::vector<InputSlot> input_slots_;
  std::vector<Step> steps_;
  std::vector<std::pair<std::string, Shape>> shapes_;
  std::vector<std::pair<const std::byte*, size_t>> output_src_;  // where each output lives
  Tensor arena_;    // every intermediate buffer (byte offsets), reused by lifetime
  Tensor scratch_;  // shared scratch of the ops
  size_t arena_bytes_ = 0;
  std::vector<std::unique_ptr<Executor>> lanes_;      // batch slices when threads > 1
  std::vector<int64_t> lane_rows_;                    // samples per lane
  std::vector<std::pair<size_t, int64_t>> schedule_;  // one thread: (lane, first row) per tile
  std::unique_ptr<Pool> pool_;
};

}  // namespace ei8
