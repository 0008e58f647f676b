#include "ei8/quant/simulate.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "ei8/runtime/executor.h"
#include "ei8/runtime/op.h"

namespace ei8::quant {

// Folds every DequantizeLinear of constants (weights, biases) into a float initializer by running
// the runtime's one DequantizeLinear op on it (OpRegistry::builtin(), int8_ops.h).
Result<Graph> simulation_graph(const Graph& qdq) {
  Graph g = qdq;
  std::vector<size_t> folded;
  for (size_t i = 0; i < g.nodes().size(); ++i) {
    const Node& n = g.nodes()[i];
    if (n.op_type != "DequantizeLinear") continue;
    const Tensor* q = g.constant(n.input(0));
    const Tensor* s = g.constant(n.input(1));
    const bool has_z = n.inputs.size() > 2 && !n.input(2).empty();
    const Tensor* z = has_z ? g.constant(n.input(2)) : nullptr;
    if (q == nullptr || s == nullptr || (has_z && z == nullptr)) continue;
    PrepareContext ctx{g, n, {q->shape(), s->shape()}, {q->dtype(), s->dtype()}, {q, s}, {}};
    if (n.inputs.size() > 2) {  // "" (absent) keeps its slot: the op reads node inputs by index
      ctx.in_shapes.push_back(z != nullptr ? z->shape() : Shape{});
      ctx.in_dtypes.push_back(z != nullptr ? z->dtype() : DType::kF32);
      ctx.constants.push_back(z);
    }
    ctx.out_shapes = {q->shape()};
    std::unique_ptr<Op> op = OpRegistry::builtin().create("DequantizeLinear");
    EI8_RETURN_IF_ERROR(op->prepare(ctx));
    Tensor r = Tensor::zeros(DType::kF32, q->shape());
    const std::byte* in[] = {q->raw(), s->raw(), z != nullptr ? z->raw() : nullptr};
    std::byte* out[] = {r.raw()};
    std::vector<std::byte> scratch(op->scratch_bytes());
    op->run(std::span<const std::byte* const>(in, ctx.constants.size()), out, scratch.data());
    Value* v = g.find_value(n.outputs[0]);
    v->dtype = DType::kF32;
    v->shape = r.shape();
    v->has_shape = true;
    v->data = std::move(r);
    folded.push_back(i);
  }
  for (size_t j = folded.size(); j-- > 0;) {
    g.nodes().erase(g.nodes().begin() + static_cast<std::ptrdiff_t>(folded[j]));
  }
  g.remove_dead_nodes();
  EI8_RETURN_IF_ERROR(g.validate());
  return g;
}

std::vector<int64_t> argmax_rows(const Tensor& logits) {
  const int64_t n = logits.rank() == 0 ? 1 : logits.dim(0);
  const int64_t c = n == 0 ? 0 : logits.numel() / n;
  std::vector<int64_t> out(static_cast<size_t>(n), 0);
  const auto v = logits.span<float>();
  for (int64_t i = 0; i < n; ++i) {
    int64_t best = 0;
    for (int64_t j = 1; j < c; ++j) {
      if (v[static_cast<size_t>(i * c + j)] > v[static_cast<size_t>(i * c + best)]) best = j;
    }
    out[static_cast<size_t>(i)] = best;
  }
  return out;
}

Result<Tensor> run_batched(const Graph& g, const Tensor& x, int64_t batch) {
  if (batch < 1) return invalid_argument("cannot run: batch = {}, must be >= 1", batch);
  if (x.rank() < 1 || x.dim(0) == 0) {
    return invalid_argument("cannot run graph '{}': samples = 0, must be >= 1", g.name());
  }
  ExecutorOptions eo;
  eo.optimize = false;
  EI8_ASSIGN_OR_RETURN(Executor ex, Executor::create(g, eo));
  return run_batched(ex, x, batch);
}

Result<Tensor> run_batched(Executor& ex, const Tensor& x, int64_t batch) {
  const Graph& g = ex.graph();
  if (batch < 1) return invalid_argument("cannot run: batch = {}, must be >= 1", batch);
  if (x.rank() < 1 || x.dim(0) == 0) {
    return invalid_argument("cannot run graph '{}': samples = 0, must be >= 1", g.name());
  }
  const int64_t total = x.dim(0), per = x.numel() / total;
  std::vector<float> out;
  Shape out_shape;
  int64_t prepared = 0;
  for (int64_t start = 0; start < total; start += batch) {
    const int64_t b = std::min(batch, total - start);
    if (b != prepared) {
      EI8_RETURN_IF_ERROR(ex.prepare_batch(b));
      prepared = b;
    }
    const auto src =
        x.span<float>().subspan(static_cast<size_t>(start * per), static_cast<size_t>(b * per));
    if (static_cast<size_t>(ex.input(0).numel()) != src.size()) {
      return invalid_argument("cannot run graph '{}': sample shape = {}, must match input {}",
                              g.name(), shape_to_string(x.shape()),
                              shape_to_string(ex.input(0).shape()));
    }
    std::memcpy(ex.input(0).raw(), src.data(), src.size_bytes());
    EI8_RETURN_IF_ERROR(ex.run());
    const Tensor& y = ex.output(0);
    out.insert(out.end(), y.span<float>().begin(), y.span<float>().end());
    out_shape = y.shape();
  }
  out_shape[0] = total;
  return Tensor::from<float>(out_shape, std::span<const float>(out));
}

}  // namespace ei8::quant
