#include "ei8/runtime/executor.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <ctime>
#include <limits>
#include <map>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "ei8/graph/passes.h"
#include "ei8/graph/shape_inference.h"

namespace ei8 {

struct Executor::Step {
  std::unique_ptr<Op> op;
  std::string name;
  std::vector<const std::byte*> in;
  std::vector<std::byte*> out;
};

// Persistent workers: run(f) calls f(i) for i in [0, n) with i = 0 on the calling thread and
// the others on workers; no allocation per call.
class Executor::Pool {
 public:
  explicit Pool(int n) : n_(n) {
    for (int i = 1; i < n; ++i) threads_.emplace_back([this, i] { loop(i); });
  }
  ~Pool() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    for (auto& t : threads_) t.join();
  }
  void run(void (*fn)(void*, int), void* ctx) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      fn_ = fn;
      ctx_ = ctx;
      pending_ = n_ - 1;
      ++generation_;
    }
    cv_.notify_all();
    fn(ctx, 0);
    std::unique_lock<std::mutex> lock(mu_);
    done_.wait(lock, [this] { return pending_ == 0; });
  }

 private:
  void loop(int i) {
    uint64_t seen = 0;
    for (;;) {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return stop_ || generation_ != seen; });
      if (stop_) return;
      seen = generation_;
      auto* fn = fn_;
      void* ctx = ctx_;
      lock.unlock();
      fn(ctx, i);
      lock.lock();
      if (--pending_ == 0) done_.notify_one();
    }
  }
  int n_;
  std::vector<std::thread> threads_;
  std::mutex mu_;
  std::condition_variable cv_, done_;
  void (*fn_)(void*, int) = nullptr;
  void* ctx_ = nullptr;
  int pending_ = 0;
  uint64_t generation_ = 0;
  bool stop_ = false;
};

Executor::Executor(Executor&&) noexcept = default;
Executor& Executor::operator=(Executor&&) noexcept = default;
Executor::~Executor() = default;

Result<Executor> Executor::create(Graph graph, const ExecutorOptions& options) {
  EI8_RETURN_IF_ERROR(graph.validate());
  if (options.optimize) {
    EI8_RETURN_IF_ERROR(optimize(graph));
    EI8_RETURN_IF_ERROR(fuse_runtime_f32(graph).status());  // fusions only this executor runs
  } else {
    EI8_RETURN_IF_ERROR(infer_shapes(graph));
  }
  const OpRegistry& ops = options.ops ? *options.ops : OpRegistry::builtin();
  for (const Node& n : graph.nodes()) {
    if (!ops.contains(n.op_type)) {
      return unsupported(
          "cannot run node '{}': op_type = {}, must be one of the executor's ops ({})", n.name,
          n.op_type, fmt::join(ops.names(), ", "));
    }
  }
  if (options.threads < 1) {
    return invalid_argument("cannot create executor: threads = {}, must be >= 1", options.threads);
  }
  Executor ex;
  ex.graph_ = std::move(graph);
  ex.options_ = options;
  return ex;
}

Status Executor::prepare_batch(int64_t batch) {
  if (batch < 1) return invalid_argument("cannot prepare: batch = {}, must be >= 1", batch);
  std::vector<Shape> shapes;
  for (const auto& name : graph_.inputs()) {
    Shape s = graph_.find_value(name)->shape;
    for (int64_t& d : s) {
      if (d < 0) d = batch;
    }
    shapes.push_back(s);
  }
  return prepare(shapes);
}

const Shape* Executor::value_shape(const std::string& value) const {
  for (const auto& [n, s] : shapes_) {
    if (n == value) return &s;
  }
  return nullptr;
}

std::vector<std::pair<std::string, std::string>> Executor::tuning() const {
  if (!lanes_.empty()) return lanes_[0]->tuning();
  std::vector<std::pair<std::string, std::string>> out;
  for (const Step& s : steps_) {
    std::string t = s.op->tuning();
    if (!t.empty()) out.emplace_back(s.name, std::move(t));
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> Executor::variants() const {
  if (!lanes_.empty()) return lanes_[0]->variants();  // batch split into lanes: same kernels
  std::vector<std::pair<std::string, std::string>> out;
  for (const Step& s : steps_) out.emplace_back(s.name, std::string(s.op->variant()));
  return out;
}

Status Executor::prepare(const std::vector<Shape>& input_shapes) {
  prepared_ = false;
  steps_.clear();
  shapes_.clear();
  const auto& gin = graph_.inputs();
  // Plans are tuned (options_.tuner) for the batch the ops will run: when this batch may be
  // split into tiles or thread slices, the lanes tune theirs and this plan is prepared with the
  // heuristics; prepared again with tuning if no lane was made.
  const int64_t batch0 = input_shapes.empty() || input_shapes[0].empty() ? 1 : input_shapes[0][0];
  const bool defer_tuning = options_.tuner != nullptr && !tune_whole_batch_ && batch0 > 1 &&
                            !(options_.threads == 1 && options_.batch_tile >= batch0);
  if (input_shapes.size() != gin.size()) {
    return invalid_argument("cannot prepare graph '{}': inputs = {}, must be {}", graph_.name(),
                            input_shapes.size(), gin.size());
  }
  std::unordered_map<std::string, Shape> shape;
  std::unordered_map<std::string, DType> dtype;
  inputs_.clear();
  for (size_t i = 0; i < gin.size(); ++i) {
    const Value& v = *graph_.find_value(gin[i]);
    const Shape& want = v.shape;
    const Shape& got = input_shapes[i];
    bool ok = want.size() == got.size();
    for (size_t d = 0; ok && d < want.size(); ++d) {
      ok = got[d] >= 1 && (want[d] < 0 || want[d] == got[d]);
    }
    if (!ok) {
      return invalid_argument(
          "cannot prepare graph '{}': input '{}' shape = {}, must be {} (-1 = "
          "any size)",
          graph_.name(), gin[i], shape_to_string(got), shape_to_string(want));
    }
    shape[gin[i]] = got;
    dtype[gin[i]] = v.dtype;
    inputs_.push_back(Tensor::zeros(v.dtype, got));
  }
  for (const auto& [name, v] : graph_.values()) {
    if (v.data) {
      shape[name] = v.data->shape();
      dtype[name] = v.data->dtype();
    }
  }
  // 1. Shapes and ops.
  std::vector<const Node*> order = graph_.topological_order();
  struct Planned {
    const Node* node;
    std::vector<Shape> out;
  };
  std::vector<Planned> planned;
  for (const Node* n : order) {
    PrepareContext ctx{graph_, *n, {}, {}, {}, {}, options_.kernel};
    ctx.tuner = defer_tuning ? nullptr : options_.tuner.get();
    for (const auto& in : n->inputs) {
      if (in.empty()) {
        ctx.in_shapes.emplace_back();
        ctx.in_dtypes.push_back(DType::kF32);
        ctx.constants.push_back(nullptr);
        continue;
      }
      ctx.in_shapes.push_back(shape.at(in));
      ctx.in_dtypes.push_back(dtype.at(in));
      ctx.constants.push_back(graph_.constant(in));
    }
    auto out = infer_node_shapes(graph_, *n, ctx.in_shapes);
    if (!out.ok()) return out.status();
    auto types = infer_node_dtypes(graph_, *n, ctx.in_dtypes);
    if (!types.ok()) return types.status();
    ctx.out_shapes = out.value();
    for (size_t i = 0; i < n->outputs.size() && i < ctx.out_shapes.size(); ++i) {
      shape[n->outputs[i]] = ctx.out_shapes[i];
      dtype[n->outputs[i]] = types.value()[std::min(i, types.value().size() - 1)];
    }
    Step step;
    step.op = (options_.ops ? *options_.ops : OpRegistry::builtin()).create(n->op_type);
    step.name = n->name;
    if (!step.op) return unsupported("cannot run node '{}': op_type = {}", n->name, n->op_type);
    EI8_RETURN_IF_ERROR(step.op->prepare(ctx));
    steps_.push_back(std::move(step));
    planned.push_back({n, ctx.out_shapes});
  }
  // 2. Buffers: alias roots, lifetimes, offsets in one arena (best-fit reuse).
  std::unordered_map<std::string, std::string> root;
  auto root_of = [&](const std::string& v) {
    auto it = root.find(v);
    return it == root.end() ? v : it->second;
  };
  for (size_t s = 0; s < planned.size(); ++s) {
    if (steps_[s].op->is_alias())
      root[planned[s].node->outputs[0]] = root_of(planned[s].node->inputs[0]);
  }
  constexpr size_t kNever = std::numeric_limits<size_t>::max();
  std::unordered_map<std::string, size_t> last_use;
  for (size_t s = 0; s < planned.size(); ++s) {
    for (const auto& in : planned[s].node->inputs) {
      if (!in.empty()) last_use[root_of(in)] = s;
    }
  }
  for (const auto& o : graph_.outputs()) last_use[root_of(o)] = kNever;
  struct Block {
    size_t offset, size;
  };
  std::vector<Block> free_blocks;
  std::unordered_map<std::string, Block> placed;
  size_t arena = 0;
  auto align = [](size_t n) { return (n + 63) / 64 * 64; };
  for (size_t s = 0; s < planned.size(); ++s) {
    const Node& n = *planned[s].node;
    if (!steps_[s].op->is_alias()) {
      for (size_t i = 0; i < n.outputs.size(); ++i) {
        const std::string& o = n.outputs[i];
        if (o.empty()) continue;
        const size_t need = align(
            std::max<size_t>(1, static_cast<size_t>(shape_numel(shape[o])) * dtype_size(dtype[o])));
        auto best = free_blocks.end();
        for (auto it = free_blocks.begin(); it != free_blocks.end(); ++it) {
          if (it->size >= need && (best == free_blocks.end() || it->size < best->size)) best = it;
        }
        if (best != free_blocks.end()) {
          placed[o] = *best;
          free_blocks.erase(best);
        } else {
          placed[o] = {arena, need};
          arena += need;
        }
      }
    }
    // Release every buffer whose last reader was this step.
    for (const auto& in : n.inputs) {
      if (in.empty()) continue;
      const std::string r = root_of(in);
      auto p = placed.find(r);
      if (p != placed.end() && last_use[r] == s) {
        free_blocks.push_back(p->second);
        last_use[r] = kNever - 1;  // freed once
      }
    }
    // Outputs nobody reads are released at once.
    for (const auto& o : n.outputs) {
      if (!o.empty() && !steps_[s].op->is_alias() && !last_use.count(o))
        free_blocks.push_back(placed[o]);
    }
  }
  arena_ = Tensor::zeros(DType::kU8, {static_cast<int64_t>(std::max<size_t>(arena, 64))});
  arena_bytes_ = arena;
  auto buffer = [&](const std::string& v) -> std::byte* {
    if (const Tensor* c = graph_.constant(v)) return const_cast<std::byte*>(c->raw());
    for (size_t i = 0; i < gin.size(); ++i) {
      if (gin[i] == v) return inputs_[i].raw();
    }
    const std::string r = root_of(v);
    if (r != v) {
      for (size_t i = 0; i < gin.size(); ++i) {
        if (gin[i] == r) return inputs_[i].raw();
      }
      if (const Tensor* c = graph_.constant(r)) return const_cast<std::byte*>(c->raw());
    }
    return arena_.raw() + placed.at(r).offset;
  };
  size_t scratch = 0;
  for (size_t s = 0; s < planned.size(); ++s) {
    const Node& n = *planned[s].node;
    for (const auto& in : n.inputs) steps_[s].in.push_back(in.empty() ? nullptr : buffer(in));
    for (const auto& o : n.outputs) steps_[s].out.push_back(o.empty() ? nullptr : buffer(o));
    scratch = std::max(scratch, steps_[s].op->scratch_bytes());
  }
  scratch_ = Tensor::zeros(DType::kU8, {static_cast<int64_t>(std::max<size_t>(scratch, 64))});
  // Alias steps do no work: drop them from the run list.
  std::erase_if(steps_, [](const Step& s) { return s.op->is_alias(); });
  outputs_.clear();
  output_src_.clear();
  for (const auto& o : graph_.outputs()) {
    outputs_.push_back(Tensor::zeros(dtype.at(o), shape.at(o)));
    output_src_.emplace_back(buffer(o), outputs_.back().nbytes());
  }
  for (const auto& [name, s] : shape) shapes_.emplace_back(name, s);
  EI8_RETURN_IF_ERROR(prepare_lanes(input_shapes));
  // run_on's slots: every step argument and output that is an input buffer (with lanes there is
  // no step and scatter() reads the bound buffers).
  input_slots_.clear();
  auto input_of = [this](const std::byte* p) {
    for (size_t i = 0; i < inputs_.size(); ++i) {
      if (p == inputs_[i].raw()) return i;
    }
    return inputs_.size();
  };
  for (size_t s = 0; s < steps_.size(); ++s) {
    for (size_t a = 0; a < steps_[s].in.size(); ++a) {
      const size_t i = input_of(steps_[s].in[a]);
      if (i < inputs_.size()) input_slots_.push_back({s, a, i});
    }
  }
  if (lanes_.empty()) {
    for (size_t o = 0; o < output_src_.size(); ++o) {
      const size_t i = input_of(output_src_[o].first);
      if (i < inputs_.size()) input_slots_.push_back({InputSlot::kOutputSlot, o, i});
    }
  }
  if (defer_tuning && lanes_.empty()) {
    tune_whole_batch_ = true;
    const Status s = prepare(input_shapes);
    tune_whole_batch_ = false;
    return s;
  }
  prepared_ = true;
  return {};
}

// The samples of one pass through the graph so that its live activations stay in L2: the
// whole-batch plan's arena per sample against a budget of half of a typical 512 KiB L2.
int64_t auto_batch_tile(size_t arena_bytes, int64_t batch) {
  constexpr size_t kBudget = 256 * 1024;
  const size_t per_sample = std::max<size_t>(1, arena_bytes / static_cast<size_t>(batch));
  return std::clamp<int64_t>(static_cast<int64_t>(kBudget / per_sample), 1, batch);
}

Status Executor::prepare_lanes(const std::vector<Shape>& input_shapes) {
  lanes_.clear();
  lane_rows_.clear();
  schedule_.clear();
  pool_.reset();
  if (input_shapes.empty() || input_shapes[0].empty()) return {};
  const int64_t batch = input_shapes[0][0];
  // Every input and output must carry the batch as a dynamic leading dimension.
  for (size_t i = 0; i < input_shapes.size(); ++i) {
    const Shape& declared = graph_.find_value(graph_.inputs()[i])->shape;
    if (declared.empty() || declared[0] != kDynamic || input_shapes[i][0] != batch) return {};
  }
  for (const Tensor& o : outputs_) {
    if (o.rank() == 0 || o.dim(0) != batch) return {};
  }
  // ... and every intermediate value (no op mixes samples: a Reshape folding the batch away
  // would make slices wrong).
  for (const auto& [name, sh] : shapes_) {
    if (graph_.constant(name) == nullptr && (sh.empty() || sh[0] != batch)) return {};
  }
  ExecutorOptions lane_opt = options_;
  lane_opt.threads = 1;
  lane_opt.optimize = false;  // graph_ is already optimized
  auto add_lane = [&](int64_t rows) -> Status {
    std::vector<Shape> shapes = input_shapes;
    for (Shape& sh : shapes) sh[0] = rows;
    EI8_ASSIGN_OR_RETURN(Executor lane, Executor::create(graph_, lane_opt));
    EI8_RETURN_IF_ERROR(lane.prepare(shapes));
    lanes_.push_back(std::make_unique<Executor>(std::move(lane)));
    lane_rows_.push_back(rows);
    return {};
  };
  const int64_t lanes = std::min<int64_t>(options_.threads, batch);
  if (lanes >= 2) {
    // Threads: one slice of the batch per worker (each lane tiles its slice itself).
    for (int64_t l = 0; l < lanes; ++l) {
      EI8_RETURN_IF_ERROR(add_lane(batch / lanes + (l < batch % lanes ? 1 : 0)));
    }
    pool_ = std::make_unique<Pool>(static_cast<int>(lanes));
  } else {
    // One thread: run the batch through the graph in tiles (same arithmetic per sample).
    const int64_t tile = options_.batch_tile > 0 ? std::min(options_.batch_tile, batch)
                                                 : auto_batch_tile(arena_bytes_, batch);
    if (tile >= batch) return {};
    lane_opt.batch_tile = tile;
    EI8_RETURN_IF_ERROR(add_lane(tile));
    if (batch % tile != 0) EI8_RETURN_IF_ERROR(add_lane(batch % tile));
    for (int64_t row = 0; row < batch; row += tile) {
      schedule_.emplace_back(row + tile <= batch ? 0 : 1, row);
    }
  }
  // The whole-batch plan is not run: release its buffers.
  arena_bytes_ = 0;
  for (const auto& lane : lanes_) arena_bytes_ += lane->arena_bytes();
  arena_ = Tensor::zeros(DType::kU8, {64});
  scratch_ = Tensor::zeros(DType::kU8, {64});
  steps_.clear();
  return {};
}

void Executor::scatter(size_t lane, int64_t row) {
  for (size_t i = 0; i < inputs_.size(); ++i) {
    const size_t per = inputs_[i].nbytes() / static_cast<size_t>(inputs_[i].dim(0));
    const std::byte* src = bound_.empty() ? inputs_[i].raw() : bound_[i];
    std::memcpy(lanes_[lane]->inputs_[i].raw(), src + static_cast<size_t>(row) * per,
                static_cast<size_t>(lane_rows_[lane]) * per);
  }
}

void Executor::gather(size_t lane, int64_t row) {
  for (size_t o = 0; o < outputs_.size(); ++o) {
    const size_t per = outputs_[o].nbytes() / static_cast<size_t>(outputs_[o].dim(0));
    std::memcpy(outputs_[o].raw() + static_cast<size_t>(row) * per, lanes_[lane]->outputs_[o].raw(),
                static_cast<size_t>(lane_rows_[lane]) * per);
  }
}

Status Executor::run() {
  if (!prepared_)
    return invalid_argument("cannot run graph '{}': prepared = false, must call prepare()",
                            graph_.name());
  if (!schedule_.empty()) {
    for (const auto& [lane, row] : schedule_) {
      scatter(lane, row);
      EI8_RETURN_IF_ERROR(lanes_[lane]->run());
      gather(lane, row);
    }
    return {};
  }
  if (!lanes_.empty()) {
    // Scatter the batch, run every slice on its worker, gather the outputs.
    int64_t row = 0;
    for (size_t l = 0; l < lanes_.size(); ++l) {
      scatter(l, row);
      row += lane_rows_[l];
    }
    pool_->run(
        [](void* ctx, int l) {
          (void)static_cast<Executor*>(ctx)->lanes_[static_cast<size_t>(l)]->run();
        },
        this);
    row = 0;
    for (size_t l = 0; l < lanes_.size(); ++l) {
      gather(l, row);
      row += lane_rows_[l];
    }
    return {};
  }
  std::byte* scratch = scratch_.raw();
  for (const Step& s : steps_) s.op->run(s.in, s.out, scratch);
  for (size_t i = 0; i < outputs_.size(); ++i) {
    std::memcpy(outputs_[i].raw(), output_src_[i].first, output_src_[i].second);
  }
  return {};
}

Result<std::vector<std::pair<std::string, double>>> Executor::profile(int iters, bool cpu_time) {
  if (!prepared_)
    return invalid_argument("cannot profile graph '{}': prepared = false", graph_.name());
  if (!lanes_.empty()) return lanes_[0]->profile(iters, cpu_time);  // per tile / per slice
  const auto now_us = [cpu_time] {
    if (!cpu_time) {
      return std::chrono::duration<double, std::micro>(
                 std::chrono::steady_clock::now().time_since_epoch())
          .count();
    }
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) * 1e6 + static_cast<double>(ts.tv_nsec) * 1e-3;
  };
  std::vector<std::pair<std::string, double>> out;
  for (const Step& s : steps_) out.emplace_back(s.name, std::numeric_limits<double>::infinity());
  std::byte* scratch = scratch_.raw();
  for (int it = 0; it < iters; ++it) {
    for (size_t i = 0; i < steps_.size(); ++i) {
      const double t0 = now_us();
      steps_[i].op->run(steps_[i].in, steps_[i].out, scratch);
      out[i].second = std::min(out[i].second, now_us() - t0);
    }
  }
  return out;
}

Status Executor::run_on(std::span<const void* const> data) {
  if (!prepared_) {
    return invalid_argument("cannot run graph '{}': prepared = false, must call prepare()",
                            graph_.name());
  }
  if (data.size() != inputs_.size()) {
    return invalid_argument("cannot run graph '{}': input buffers = {}, must be {}", graph_.name(),
                            data.size(), inputs_.size());
  }
  for (size_t i = 0; i < data.size(); ++i) {
    const size_t align = dtype_size(inputs_[i].dtype());
    if (data[i] == nullptr || reinterpret_cast<uintptr_t>(data[i]) % align != 0) {
      return invalid_argument(
          "cannot run graph '{}': input '{}' buffer = {}, must be non-null and aligned to {} "
          "bytes",
          graph_.name(), graph_.inputs()[i], data[i], align);
    }
  }
  bound_.resize(inputs_.size());
  for (size_t i = 0; i < inputs_.size(); ++i) bound_[i] = static_cast<const std::byte*>(data[i]);
  // Every place the plan reads input i (input_slots_, listed by prepare: ops only read their
  // inputs, so an input buffer, or an alias of it, is never an op's output; a graph output may be
  // an input) now reads bound_[i]; with lanes there is no step and scatter() reads bound_.
  auto slot = [this](const InputSlot& s) -> const std::byte*& {
    if (s.step == InputSlot::kOutputSlot) return output_src_[s.arg].first;
    return steps_[s.step].in[s.arg];
  };
  for (const InputSlot& s : input_slots_) slot(s) = bound_[s.input];
  Status st = run();
  for (const InputSlot& s : input_slots_) slot(s) = inputs_[s.input].raw();
  bound_.clear();
  return st;
}

Result<std::vector<Tensor>> Executor::run(const std::vector<Tensor>& inputs) {
  if (inputs.size() != num_inputs()) {
    return invalid_argument("cannot run graph '{}': inputs = {}, must be {}", graph_.name(),
                            inputs.size(), num_inputs());
  }
  bool same = prepared_;
  for (size_t i = 0; same && i < inputs.size(); ++i) same = inputs[i].shape() == inputs_[i].shape();
  if (!same) {
    std::vector<Shape> shapes;
    for (const Tensor& t : inputs) shapes.push_back(t.shape());
    EI8_RETURN_IF_ERROR(prepare(shapes));
  }
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (inputs[i].dtype() != inputs_[i].dtype()) {
      return invalid_argument("cannot run graph '{}': input '{}' dtype = {}, must be {}",
                              graph_.name(), graph_.inputs()[i], dtype_name(inputs[i].dtype()),
                              dtype_name(inputs_[i].dtype()));
    }
    std::memcpy(inputs_[i].raw(), inputs[i].raw(), inputs[i].nbytes());
  }
  EI8_RETURN_IF_ERROR(run());
  return outputs_;
}

}  // namespace ei8
