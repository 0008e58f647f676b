#include "ei8/quant/simulate.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <mutex>

#include "ei8/runtime/executor.h"
#include "ei8/runtime/op.h"

namespace ei8::quant {
namespace {

int32_t type_min(DType t) { return t == DType::kU8 ? 0 : (t == DType::kS8 ? -128 : INT32_MIN); }
int32_t type_max(DType t) { return t == DType::kU8 ? 255 : (t == DType::kS8 ? 127 : INT32_MAX); }

int32_t load_int(const std::byte* p, DType t, int64_t i) {
  switch (t) {
    case DType::kU8:
      return reinterpret_cast<const uint8_t*>(p)[i];
    case DType::kS8:
      return reinterpret_cast<const int8_t*>(p)[i];
    case DType::kS32:
      return reinterpret_cast<const int32_t*>(p)[i];
    case DType::kF32:
      break;
  }
  return 0;
}

// Geometry and parameters shared by both ops: per tensor (one scale) or per axis.
struct QdqPlan {
  int64_t outer = 1, channels = 1, inner = 1;
  std::vector<float> scales;
  std::vector<int32_t> zero_points;
  DType qtype = DType::kU8;

  Status prepare(const Shape& shape, const Tensor* scale, const Tensor* zp, int64_t axis,
                 const std::string& node, DType default_type) {
    if (scale == nullptr || scale->dtype() != DType::kF32) {
      return invalid_argument(
          "cannot prepare node '{}': scale = runtime or non-f32, must be a "
          "float constant",
          node);
    }
    qtype = zp != nullptr ? zp->dtype() : default_type;
    scales.assign(scale->span<float>().begin(), scale->span<float>().end());
    for (float s : scales) {
      if (!std::isfinite(s) || !(s > 0.0f)) {
        return invalid_argument("cannot prepare node '{}': scale = {}, must be finite and > 0",
                                node, s);
      }
    }
    zero_points.assign(scales.size(), 0);
    if (zp != nullptr) {
      if (zp->numel() != scale->numel()) {
        return invalid_argument("cannot prepare node '{}': zero points = {}, must be {}", node,
                                zp->numel(), scale->numel());
      }
      for (int64_t i = 0; i < zp->numel(); ++i) zero_points[i] = load_int(zp->raw(), qtype, i);
    }
    outer = 1;
    inner = 1;
    channels = 1;
    const int64_t total = shape_numel(shape);
    if (scales.size() > 1) {
      const int64_t rank = static_cast<int64_t>(shape.size());
      if (axis < 0) axis += rank;
      if (axis < 0 || axis >= rank ||
          shape[static_cast<size_t>(axis)] != static_cast<int64_t>(scales.size())) {
        return invalid_argument(
            "cannot prepare node '{}': axis = {}, must index a dimension of "
            "size {}",
            node, axis, scales.size());
      }
      for (int64_t d = 0; d < axis; ++d) outer *= shape[static_cast<size_t>(d)];
      channels = shape[static_cast<size_t>(axis)];
      inner = total / (outer * channels);
    } else {
      inner = total;
    }
    return {};
  }
};

class QuantizeOp : public Op {
 public:
  Status prepare(const PrepareContext& c) override {
    if (c.in_dtypes[0] != DType::kF32) {
      return invalid_argument("cannot prepare node '{}': input dtype = {}, must be f32",
                              c.node.name, dtype_name(c.in_dtypes[0]));
    }
    const Tensor* zp = c.constants.size() > 2 ? c.constants[2] : nullptr;
    return plan_.prepare(c.in_shapes[0], c.constants[1], zp, c.node.attr_int("axis", 1),
                         c.node.name, DType::kU8);
  }
  void run(std::span<const std::byte* const> in, std::span<std::byte* const> out,
           std::byte*) const override {
    const float* x = reinterpret_cast<const float*>(in[0]);
    const int32_t lo = type_min(plan_.qtype), hi = type_max(plan_.qtype);
    int64_t i = 0;
    for (int64_t o = 0; o < plan_.outer; ++o) {
      for (int64_t ch = 0; ch < plan_.channels; ++ch) {
        const float s = plan_.scales[static_cast<size_t>(ch)];
        const int32_t z = plan_.zero_points[static_cast<size_t>(ch)];
        for (int64_t k = 0; k < plan_.inner; ++k, ++i) {
          const float v = std::nearbyint(x[i] / s);  // default rounding mode: half to even
          const float q =
              std::clamp(v + static_cast<float>(z), static_cast<float>(lo), static_cast<float>(hi));
          const int32_t qi = std::isnan(q) ? z : static_cast<int32_t>(q);
          if (plan_.qtype == DType::kU8) {
            reinterpret_cast<uint8_t*>(out[0])[i] = static_cast<uint8_t>(qi);
          } else {
            reinterpret_cast<int8_t*>(out[0])[i] = static_cast<int8_t>(qi);
          }
        }
      }
    }
  }

 private:
  QdqPlan plan_;
};

class DequantizeOp : public Op {
 public:
  Status prepare(const PrepareContext& c) override {
    const Tensor* zp = c.constants.size() > 2 ? c.constants[2] : nullptr;
    return plan_.prepare(c.in_shapes[0], c.constants[1], zp, c.node.attr_int("axis", 1),
                         c.node.name, c.in_dtypes[0]);
  }
  void run(std::span<const std::byte* const> in, std::span<std::byte* const> out,
           std::byte*) const override {
    float* y = reinterpret_cast<float*>(out[0]);
    int64_t i = 0;
    for (int64_t o = 0; o < plan_.outer; ++o) {
      for (int64_t ch = 0; ch < plan_.channels; ++ch) {
        const float s = plan_.scales[static_cast<size_t>(ch)];
        const int32_t z = plan_.zero_points[static_cast<size_t>(ch)];
        for (int64_t k = 0; k < plan_.inner; ++k, ++i) {
          y[i] = s * static_cast<float>(load_int(in[0], plan_.qtype, i) - z);
        }
      }
    }
  }

 private:
  QdqPlan plan_;
};

}  // namespace

void register_qdq_ops() {
  static std::once_flag once;
  std::call_once(once, [] {
    register_op("QuantizeLinear", [] { return std::make_unique<QuantizeOp>(); });
    register_op("DequantizeLinear", [] { return std::make_unique<DequantizeOp>(); });
  });
}

Result<Graph> simulation_graph(const Graph& qdq) {
  Graph g = qdq;
  std::vector<size_t> folded;
  for (size_t i = 0; i < g.nodes().size(); ++i) {
    const Node& n = g.nodes()[i];
    if (n.op_type != "DequantizeLinear") continue;
    const Tensor* q = g.constant(n.input(0));
    const Tensor* s = g.constant(n.input(1));
    const Tensor* z = n.inputs.size() > 2 ? g.constant(n.input(2)) : nullptr;
    if (q == nullptr || s == nullptr) continue;
    QdqPlan plan;
    EI8_RETURN_IF_ERROR(plan.prepare(q->shape(), s, z, n.attr_int("axis", 1), n.name, q->dtype()));
    Tensor r = Tensor::zeros(DType::kF32, q->shape());
    auto out = r.span<float>();
    int64_t k = 0;
    for (int64_t o = 0; o < plan.outer; ++o) {
      for (int64_t ch = 0; ch < plan.channels; ++ch) {
        for (int64_t j = 0; j < plan.inner; ++j, ++k) {
          out[static_cast<size_t>(k)] =
              plan.scales[static_cast<size_t>(ch)] *
              static_cast<float>(load_int(q->raw(), plan.qtype, k) -
                                 plan.zero_points[static_cast<size_t>(ch)]);
        }
      }
    }
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
  register_qdq_ops();
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
