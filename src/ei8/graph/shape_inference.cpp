#include "ei8/graph/shape_inference.h"

#include "ei8/graph/layer_view.h"

#include <algorithm>
#include <array>

#include <fmt/ranges.h>

namespace ei8 {
namespace {

constexpr auto kOps = std::to_array<std::string_view>({"Conv",
                                                       "Gemm",
                                                       "MatMul",
                                                       "BatchNormalization",
                                                       "Relu",
                                                       "Sigmoid",
                                                       "Tanh",
                                                       "LeakyRelu",
                                                       "Clip",
                                                       "HardSigmoid",
                                                       "HardSwish",
                                                       "Sqrt",
                                                       "Erf",
                                                       "MaxPool",
                                                       "AveragePool",
                                                       "GlobalAveragePool",
                                                       "GlobalMaxPool",
                                                       "Add",
                                                       "Sub",
                                                       "Mul",
                                                       "Div",
                                                       "Pow",
                                                       "ReduceMean",
                                                       "ReduceSum",
                                                       "ReduceMax",
                                                       "Concat",
                                                       "Split",
                                                       "Slice",
                                                       "Gather",
                                                       "Expand",
                                                       "Flatten",
                                                       "Transpose",
                                                       "Identity",
                                                       "Reshape",
                                                       "Squeeze",
                                                       "Unsqueeze",
                                                       "Pad",
                                                       "Softmax",
                                                       "QuantizeLinear",
                                                       "DequantizeLinear",
                                                       "QLinearConv",
                                                       "QLinearMatMul",
                                                       "Dropout",
                                                       "Constant"});

Status node_error(const Node& n, std::string_view what) {
  return invalid_argument("cannot infer shapes of node '{}' ({}): {}", n.name, n.op_type, what);
}

bool is_dyn(int64_t d) { return d < 0; }

// Largest element count of any tensor the IR accepts (2^31). Bounding every shape keeps all
// size and MAC arithmetic (at most two such counts multiplied) inside int64_t, whatever a
// malformed file claims.
constexpr int64_t kMaxElements = int64_t{1} << 31;

// Product of the known dimensions of `s`, or -1 when it exceeds kMaxElements.
int64_t bounded_count(const Shape& s) {
  int64_t count = 1;
  for (int64_t d : s) {
    if (is_dyn(d)) continue;
    if (d > kMaxElements || __builtin_mul_overflow(count, d, &count) || count > kMaxElements) {
      return -1;
    }
  }
  return count;
}

Status check_bounded(const Node& n, const Shape& s, std::string_view role, size_t index) {
  if (bounded_count(s) >= 0) return {};
  return node_error(n, fmt::format("{} {} has shape [{}], more than 2^31 elements", role, index,
                                   fmt::join(s, ", ")));
}

int64_t norm_axis(int64_t axis, int64_t rank) { return axis < 0 ? axis + rank : axis; }

Result<std::vector<Shape>> conv_like(const Node& n, const Shape& x,
                                     const std::vector<int64_t>& kernel, int64_t out_channels,
                                     bool is_pool) {
  const size_t k = kernel.size();
  if (x.size() != k + 2) {
    return node_error(
        n, fmt::format("input rank = {}, must be {} (N, C and {} spatial)", x.size(), k + 2, k));
  }
  // The window attributes are decoded and checked by the layer view (layer_view.h).
  const std::span<const int64_t> spatial(x.data() + 2, k);
  Result<Window> window = decode_window(n, spatial, kernel);
  if (!window.ok()) return window.status();
  const std::vector<int64_t>& strides = window->strides;
  const std::vector<int64_t>& dil = window->dilations;
  const std::vector<int64_t>& pads = window->pads;
  const bool ceil_mode = is_pool && n.attr_int("ceil_mode", 0) != 0;
  Shape out = {x[0], out_channels};
  for (size_t i = 0; i < k; ++i) {
    if (is_dyn(spatial[i])) {
      out.push_back(kDynamic);
      continue;
    }
    const int64_t span = spatial[i] + pads[i] + pads[i + k] - dil[i] * (kernel[i] - 1) - 1;
    if (span < 0) {
      return node_error(
          n, fmt::format("spatial size {} (+ pads) = {}, must be >= the dilated "
                         "kernel {}",
                         i, spatial[i] + pads[i] + pads[i + k], dil[i] * (kernel[i] - 1) + 1));
    }
    int64_t o = span / strides[i] + 1;
    if (ceil_mode) {
      o = (span + strides[i] - 1) / strides[i] + 1;
      // A window starting inside the right padding only is dropped (PyTorch, ONNX Runtime).
      if ((o - 1) * strides[i] >= spatial[i] + pads[i]) --o;
    }
    out.push_back(o);
  }
  return std::vector<Shape>{out};
}

Result<std::vector<int64_t>> node_kernel(const Graph& g, const Node& n, const Shape& w,
                                         size_t spatial_rank) {
  std::vector<int64_t> kernel = n.attr_ints("kernel_shape");
  if (kernel.empty()) {
    if (w.size() < 3) return node_error(n, "kernel_shape missing and weight rank < 3");
    kernel.assign(w.begin() + 2, w.end());
  }
  (void)g;
  if (kernel.size() != spatial_rank) {
    return node_error(n, fmt::format("kernel rank = {}, must be {}", kernel.size(), spatial_rank));
  }
  return kernel;
}

Result<std::vector<Shape>> infer_conv(const Graph& g, const Node& n, const Shape& x,
                                      const Shape& w) {
  if (x.size() < 3 || w.size() != x.size()) {
    return node_error(n, fmt::format("input rank = {}, weight rank = {}, must be equal and >= 3",
                                     x.size(), w.size()));
  }
  const int64_t group = n.attr_int("group", 1);
  if (group < 1) return node_error(n, fmt::format("group = {}, must be >= 1", group));
  if (!is_dyn(x[1]) && x[1] != w[1] * group) {
    return node_error(n, fmt::format("input channels = {}, must be weight dim 1 ({}) x group ({})",
                                     x[1], w[1], group));
  }
  if (w[0] % group != 0) {
    return node_error(
        n, fmt::format("output channels = {}, must be a multiple of group = {}", w[0], group));
  }
  EI8_ASSIGN_OR_RETURN(auto kernel, node_kernel(g, n, w, x.size() - 2));
  for (size_t i = 0; i < kernel.size(); ++i) {
    if (kernel[i] != w[i + 2]) return node_error(n, "kernel_shape differs from the weight shape");
  }
  return conv_like(n, x, kernel, w[0], false);
}

Result<std::vector<Shape>> infer_reshape(const Node& n, const Shape& x) {
  const std::vector<int64_t> target = n.attr_ints("shape");
  if (!n.has("shape")) return node_error(n, "attribute 'shape' is missing");
  Shape out(target.size());
  std::vector<bool> copied(x.size(), false);
  int64_t infer_at = -1;
  for (size_t i = 0; i < target.size(); ++i) {
    if (target[i] == 0) {
      if (i >= x.size()) return node_error(n, "shape has 0 beyond the input rank");
      out[i] = x[i];
      copied[i] = true;
    } else if (target[i] == -1) {
      if (infer_at >= 0) return node_error(n, "shape has more than one -1");
      infer_at = static_cast<int64_t>(i);
    } else if (target[i] < -1) {
      return node_error(n, fmt::format("shape[{}] = {}, must be >= -1", i, target[i]));
    } else {
      out[i] = target[i];
    }
  }
  // Element counts of the input and of the known output dimensions, both without the copied
  // ones; a dynamic input dimension that is not copied makes the inferred one dynamic.
  bool dyn = false;
  int64_t in_count = 1;
  for (size_t i = 0; i < x.size(); ++i) {
    if (copied[i]) continue;
    if (is_dyn(x[i])) {
      dyn = true;
    } else {
      in_count *= x[i];
    }
  }
  Shape known;  // the output dims given explicitly (not copied, not inferred)
  for (size_t i = 0; i < target.size(); ++i) {
    if (target[i] != 0 && static_cast<int64_t>(i) != infer_at) known.push_back(out[i]);
  }
  const int64_t out_count = bounded_count(known);
  if (out_count < 0) {
    return node_error(
        n, fmt::format("shape [{}] has more than 2^31 elements", fmt::join(target, ", ")));
  }
  if (infer_at >= 0) {
    if (dyn) {
      out[static_cast<size_t>(infer_at)] = kDynamic;
    } else if (out_count == 0 || in_count % out_count != 0) {
      return node_error(
          n, fmt::format("cannot infer -1: {} elements into known dims {}", in_count, out_count));
    } else {
      out[static_cast<size_t>(infer_at)] = in_count / out_count;
    }
  } else if (!dyn && in_count != out_count) {
    return node_error(
        n, fmt::format("element count = {}, must equal the input's {}", out_count, in_count));
  }
  return std::vector<Shape>{out};
}

}  // namespace

std::span<const std::string_view> supported_ops() { return kOps; }

bool is_supported_op(std::string_view op_type) {
  return std::find(kOps.begin(), kOps.end(), op_type) != kOps.end();
}

std::vector<int64_t> resolve_pads(const Node& node, std::span<const int64_t> in,
                                  std::span<const int64_t> kernel) {
  const size_t k = kernel.size();
  const std::string auto_pad = node.attr_string("auto_pad", "NOTSET");
  if (auto_pad == "VALID") return std::vector<int64_t>(2 * k, 0);
  if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
    std::vector<int64_t> strides = node.attr_ints("strides", std::vector<int64_t>(k, 1));
    std::vector<int64_t> dil = node.attr_ints("dilations", std::vector<int64_t>(k, 1));
    std::vector<int64_t> pads(2 * k, 0);
    for (size_t i = 0; i < k && i < in.size() && i < strides.size() && i < dil.size(); ++i) {
      if (in[i] < 0 || strides[i] < 1) continue;
      const int64_t out = (in[i] + strides[i] - 1) / strides[i];
      const int64_t total =
          std::max<int64_t>(0, (out - 1) * strides[i] + (kernel[i] - 1) * dil[i] + 1 - in[i]);
      const int64_t small = total / 2;
      pads[i] = auto_pad == "SAME_UPPER" ? small : total - small;
      pads[i + k] = total - pads[i];
    }
    return pads;
  }
  return node.attr_ints("pads", std::vector<int64_t>(2 * k, 0));
}

Result<Shape> broadcast_shapes(const Shape& a, const Shape& b) {
  const size_t r = std::max(a.size(), b.size());
  Shape out(r);
  for (size_t i = 0; i < r; ++i) {
    const int64_t da = i < r - a.size() ? 1 : a[i - (r - a.size())];
    const int64_t db = i < r - b.size() ? 1 : b[i - (r - b.size())];
    if (da == db || db == 1) {
      out[i] = da;
    } else if (da == 1) {
      out[i] = db;
    } else if (is_dyn(da) || is_dyn(db)) {
      out[i] = is_dyn(da) ? db : da;
    } else {
      return invalid_argument(
          "cannot broadcast shapes {} and {}: dim {} = {} vs {}, must be equal "
          "or 1",
          shape_to_string(a), shape_to_string(b), i, da, db);
    }
  }
  return out;
}

Result<SliceWindow> slice_window(const Node& n, const Shape& in) {
  const int64_t r = static_cast<int64_t>(in.size());
  const std::vector<int64_t> starts = n.attr_ints("starts"), ends = n.attr_ints("ends");
  std::vector<int64_t> axes = n.attr_ints("axes"), steps = n.attr_ints("steps");
  if (!n.has("axes")) {
    for (size_t i = 0; i < starts.size(); ++i) axes.push_back(static_cast<int64_t>(i));
  }
  if (!n.has("steps")) steps.assign(starts.size(), 1);
  if (ends.size() != starts.size() || axes.size() != starts.size() ||
      steps.size() != starts.size()) {
    return node_error(n, fmt::format("starts/ends/axes/steps lengths = {}/{}/{}/{}, must be equal",
                                     starts.size(), ends.size(), axes.size(), steps.size()));
  }
  SliceWindow w;
  w.start.assign(in.size(), 0);
  w.step.assign(in.size(), 1);
  w.count = in;
  std::vector<bool> seen(in.size(), false);
  for (size_t i = 0; i < starts.size(); ++i) {
    const int64_t ax = norm_axis(axes[i], r);
    if (ax < 0 || ax >= r) {
      return node_error(n,
                        fmt::format("axes[{}] = {}, must be in [{}, {}]", i, axes[i], -r, r - 1));
    }
    const size_t a = static_cast<size_t>(ax);
    if (seen[a]) return node_error(n, fmt::format("axes[{}] = {}, must not repeat", i, axes[i]));
    seen[a] = true;
    if (steps[i] == 0) return node_error(n, fmt::format("steps[{}] = 0, must be non-zero", i));
    w.step[a] = steps[i];
    const int64_t dim = in[a];
    if (is_dyn(dim)) {
      w.count[a] = kDynamic;
      continue;
    }
    // ONNX: negative start/end count from the end; then clamp to [0, dim] (step > 0) or
    // [-1, dim - 1] (step < 0). Written so that ±(2^63 - 1) and any step cannot overflow.
    int64_t s0 = starts[i], e0 = ends[i];
    if (s0 < 0) s0 = s0 < -dim ? -1 : s0 + dim;
    if (e0 < 0) e0 = e0 < -dim ? -1 : e0 + dim;
    const uint64_t mag = steps[i] > 0 ? static_cast<uint64_t>(steps[i])
                                      : uint64_t{0} - static_cast<uint64_t>(steps[i]);
    auto taken = [mag](int64_t distance) -> int64_t {
      return distance > 0 ? 1 + static_cast<int64_t>(static_cast<uint64_t>(distance - 1) / mag) : 0;
    };
    if (dim == 0) {
      w.count[a] = 0;
    } else if (steps[i] > 0) {
      s0 = std::clamp<int64_t>(s0, 0, dim);
      e0 = std::clamp<int64_t>(e0, 0, dim);
      w.count[a] = taken(e0 - s0);
    } else {
      s0 = std::clamp<int64_t>(s0, 0, dim - 1);
      e0 = std::clamp<int64_t>(e0, -1, dim - 1);
      w.count[a] = taken(s0 - e0);
    }
    w.start[a] = w.count[a] > 0 ? s0 : 0;
  }
  return w;
}

Result<std::vector<int64_t>> reduce_axes(const Node& n, int64_t rank) {
  std::vector<int64_t> axes = n.attr_ints("axes");
  if (axes.empty()) {
    for (int64_t i = 0; i < rank; ++i) axes.push_back(i);
    return axes;
  }
  std::vector<bool> seen(static_cast<size_t>(rank), false);
  for (int64_t& a : axes) {
    const int64_t given = a;
    a = norm_axis(a, rank);
    if (a < 0 || a >= rank) {
      return node_error(
          n, fmt::format("axes entry = {}, must be in [{}, {}]", given, -rank, rank - 1));
    }
    if (seen[static_cast<size_t>(a)]) {
      return node_error(n, fmt::format("axes entry = {}, must not repeat", given));
    }
    seen[static_cast<size_t>(a)] = true;
  }
  std::sort(axes.begin(), axes.end());
  return axes;
}

Result<std::vector<int64_t>> split_sizes(const Node& n, int64_t dim) {
  const int64_t parts = static_cast<int64_t>(n.outputs.size());
  if (parts < 1) return node_error(n, "outputs = 0, must be at least 1");
  if (n.has("split")) {
    std::vector<int64_t> split = n.attr_ints("split");
    if (static_cast<int64_t>(split.size()) != parts) {
      return node_error(n, fmt::format("split length = {}, must be the number of outputs = {}",
                                       split.size(), parts));
    }
    int64_t sum = 0;
    for (int64_t v : split) {
      if (v < 0) return node_error(n, fmt::format("split entry = {}, must be >= 0", v));
      if (v > kMaxElements) return node_error(n, "split entry must be <= 2^31");
      sum += v;
    }
    if (!is_dyn(dim) && sum != dim) {
      return node_error(n, fmt::format("split sizes [{}] add up to {}, must add up to the axis "
                                       "size {}",
                                       fmt::join(split, ", "), sum, dim));
    }
    return split;
  }
  if (is_dyn(dim)) return std::vector<int64_t>(static_cast<size_t>(parts), kDynamic);
  if (dim % parts != 0) {
    return node_error(n, fmt::format("axis size = {}, must divide into {} equal outputs (or give "
                                     "split)",
                                     dim, parts));
  }
  return std::vector<int64_t>(static_cast<size_t>(parts), dim / parts);
}

Result<Shape> expand_shape(const Node& n, const Shape& x, const Shape& like) {
  if (!n.has("shape")) return node_error(n, "attribute 'shape' is missing");
  Shape target = n.attr_ints("shape");
  const std::vector<int64_t> like_axes = n.attr_ints("like_axes");
  if (!like_axes.empty() && like_axes.size() != target.size()) {
    return node_error(n, fmt::format("like_axes length = {}, must be the shape length = {}",
                                     like_axes.size(), target.size()));
  }
  for (size_t i = 0; i < target.size(); ++i) {
    if (i < like_axes.size() && like_axes[i] >= 0) {
      if (like_axes[i] >= static_cast<int64_t>(like.size())) {
        return node_error(n, fmt::format("like_axes[{}] = {}, must be < the rank of input 1 = {}",
                                         i, like_axes[i], like.size()));
      }
      target[i] = like[static_cast<size_t>(like_axes[i])];
    } else if (target[i] < 0) {
      return node_error(n, fmt::format("shape[{}] = {}, must be >= 0", i, target[i]));
    }
  }
  auto out = broadcast_shapes(x, target);
  if (!out.ok()) return node_error(n, out.status().message());
  return out.value();
}

namespace {

Result<std::vector<Shape>> infer_node_shapes_unbounded(const Graph& g, const Node& n,
                                                       const std::vector<Shape>& in) {
  const std::string& op = n.op_type;
  auto need = [&](size_t count) -> Status {
    if (in.size() < count) {
      return node_error(n, fmt::format("inputs = {}, must be at least {}", in.size(), count));
    }
    return {};
  };
  EI8_RETURN_IF_ERROR(need(1));
  const Shape& x = in[0];
  if (op == "Relu" || op == "Sigmoid" || op == "Tanh" || op == "LeakyRelu" || op == "Clip" ||
      op == "Identity" || op == "Dropout" || op == "QuantizeLinear" || op == "DequantizeLinear") {
    return std::vector<Shape>(std::max<size_t>(1, n.outputs.size()), x);
  }
  // Integer ops of the INT8 runtime (runtime/int8_lowering.h): the float op's rule applied to
  // the data inputs (scales and zero points are the other inputs).
  if (op == "QLinearAdd" || op == "QGemm" || op == "QLinearConcat" || op == "QLinearAveragePool" ||
      op == "QLinearGlobalAveragePool" || op == "QMaxPool" || op == "QClamp" ||
      op == "QLinearMul" || op == "QLinearSigmoid" || op == "QLinearLeakyRelu" ||
      op == "QLinearLookup" || op == "MatMulIntegerToFloat") {
    Node f = n;
    std::vector<Shape> data;
    if (op == "QLinearConcat") {
      f.op_type = "Concat";
      for (size_t i = 2; i < in.size(); i += 3) data.push_back(in[i]);
    } else if (op == "QLinearAdd" || op == "QLinearMul" || op == "QGemm") {
      EI8_RETURN_IF_ERROR(need(4));
      f.op_type = op == "QGemm" ? "Gemm" : "Add";
      data = {x, in[3]};
    } else if (op == "MatMulIntegerToFloat") {
      EI8_RETURN_IF_ERROR(need(2));
      f.op_type = "MatMul";
      data = {x, in[1]};
    } else if (op == "QLinearSigmoid" || op == "QLinearLeakyRelu" || op == "QLinearLookup") {
      return std::vector<Shape>{x};
    } else {
      f.op_type = op == "QMaxPool"             ? "MaxPool"
                  : op == "QClamp"             ? "Relu"
                  : op == "QLinearAveragePool" ? "AveragePool"
                                               : "GlobalAveragePool";
      data = {x};
    }
    f.inputs.resize(data.size());
    return infer_node_shapes_unbounded(g, f, data);
  }
  if (op == "HardSigmoid" || op == "HardSwish" || op == "Sqrt" || op == "Erf") {
    return std::vector<Shape>{x};
  }
  if (op == "ReduceMean" || op == "ReduceSum" || op == "ReduceMax") {
    EI8_ASSIGN_OR_RETURN(auto axes, reduce_axes(n, static_cast<int64_t>(x.size())));
    const bool keep = n.attr_int("keepdims", 1) != 0;
    Shape out;
    for (size_t i = 0; i < x.size(); ++i) {
      const bool reduced = std::binary_search(axes.begin(), axes.end(), static_cast<int64_t>(i));
      if (reduced && x[i] == 0 && op == "ReduceMax") {
        return node_error(n, fmt::format("reduced axis {} has size 0, must be >= 1 (max of "
                                         "nothing)",
                                         i));
      }
      if (!reduced) {
        out.push_back(x[i]);
      } else if (keep) {
        out.push_back(1);
      }
    }
    return std::vector<Shape>{out};
  }
  if (op == "Slice") {
    EI8_ASSIGN_OR_RETURN(SliceWindow w, slice_window(n, x));
    return std::vector<Shape>{w.count};
  }
  if (op == "Split") {
    const int64_t axis = norm_axis(n.attr_int("axis", 0), static_cast<int64_t>(x.size()));
    if (axis < 0 || axis >= static_cast<int64_t>(x.size())) {
      return node_error(
          n, fmt::format("axis = {}, must be in [{}, {}]", n.attr_int("axis", 0),
                         -static_cast<int64_t>(x.size()), static_cast<int64_t>(x.size()) - 1));
    }
    EI8_ASSIGN_OR_RETURN(auto sizes, split_sizes(n, x[static_cast<size_t>(axis)]));
    std::vector<Shape> out;
    for (int64_t s : sizes) {
      Shape o = x;
      o[static_cast<size_t>(axis)] = s;
      out.push_back(o);
    }
    return out;
  }
  if (op == "Gather") {
    const int64_t r = static_cast<int64_t>(x.size());
    const int64_t axis = norm_axis(n.attr_int("axis", 0), r);
    if (axis < 0 || axis >= r) {
      return node_error(
          n, fmt::format("axis = {}, must be in [{}, {}]", n.attr_int("axis", 0), -r, r - 1));
    }
    const std::vector<int64_t> idx = n.attr_ints("indices");
    const Shape ishape = n.has("indices_shape") ? n.attr_ints("indices_shape")
                                                : Shape{static_cast<int64_t>(idx.size())};
    if (bounded_count(ishape) != static_cast<int64_t>(idx.size())) {
      return node_error(n, fmt::format("indices_shape = {}, must hold the {} indices",
                                       shape_to_string(ishape), idx.size()));
    }
    const int64_t dim = x[static_cast<size_t>(axis)];
    for (int64_t i : idx) {
      if (!is_dyn(dim) && (i < -dim || i >= dim)) {
        return node_error(n, fmt::format("index = {}, must be in [{}, {}] (axis {} has size {})", i,
                                         -dim, dim - 1, axis, dim));
      }
    }
    Shape out(x.begin(), x.begin() + axis);
    out.insert(out.end(), ishape.begin(), ishape.end());
    out.insert(out.end(), x.begin() + axis + 1, x.end());
    return std::vector<Shape>{out};
  }
  if (op == "Expand") {
    const Shape like = in.size() > 1 ? in[1] : Shape{};
    EI8_ASSIGN_OR_RETURN(Shape out, expand_shape(n, x, like));
    return std::vector<Shape>{out};
  }
  if (op == "Softmax") {
    const int64_t axis = norm_axis(n.attr_int("axis", -1), static_cast<int64_t>(x.size()));
    if (axis < 0 || axis >= static_cast<int64_t>(x.size()))
      return node_error(n, "axis out of range");
    return std::vector<Shape>{x};
  }
  if (op == "Conv") {
    EI8_RETURN_IF_ERROR(need(2));
    return infer_conv(g, n, x, in[1]);
  }
  if (op == "QLinearConv") {
    EI8_RETURN_IF_ERROR(need(8));
    return infer_conv(g, n, x, in[3]);
  }
  if (op == "BatchNormalization") {
    EI8_RETURN_IF_ERROR(need(5));
    if (x.size() < 2) return node_error(n, "input rank must be >= 2");
    for (size_t i = 1; i < 5; ++i) {
      if (in[i].size() != 1 || (!is_dyn(x[1]) && in[i][0] != x[1])) {
        return node_error(n, fmt::format("parameter {} shape = {}, must be [C = {}]", i,
                                         shape_to_string(in[i]), x[1]));
      }
    }
    return std::vector<Shape>{x};
  }
  if (op == "MaxPool" || op == "AveragePool") {
    std::vector<int64_t> kernel = n.attr_ints("kernel_shape");
    if (kernel.empty() || x.size() != kernel.size() + 2) {
      return node_error(n, fmt::format("kernel_shape rank = {}, input rank = {}, must differ by 2",
                                       kernel.size(), x.size()));
    }
    return conv_like(n, x, kernel, x[1], true);
  }
  if (op == "GlobalAveragePool" || op == "GlobalMaxPool") {
    if (x.size() < 3) return node_error(n, "input rank must be >= 3");
    Shape out = x;
    std::fill(out.begin() + 2, out.end(), 1);
    return std::vector<Shape>{out};
  }
  if (op == "Gemm") {
    EI8_RETURN_IF_ERROR(need(2));
    const Shape& b = in[1];
    if (x.size() != 2 || b.size() != 2) return node_error(n, "A and B must be 2-D");
    const bool ta = n.attr_int("transA", 0) != 0, tb = n.attr_int("transB", 0) != 0;
    const int64_t m = ta ? x[1] : x[0], ka = ta ? x[0] : x[1];
    const int64_t kb = tb ? b[1] : b[0], nn = tb ? b[0] : b[1];
    if (!is_dyn(ka) && !is_dyn(kb) && ka != kb) {
      return node_error(n, fmt::format("inner dimensions = {} and {}, must be equal", ka, kb));
    }
    if (in.size() > 2 && !n.input(2).empty()) {
      auto bc = broadcast_shapes(Shape{m, nn}, in[2]);
      if (!bc.ok()) return node_error(n, "C does not broadcast to [M, N]");
    }
    return std::vector<Shape>{Shape{m, nn}};
  }
  if (op == "MatMul" || op == "QLinearMatMul") {
    const size_t bi = op == "MatMul" ? 1 : 3;
    EI8_RETURN_IF_ERROR(need(bi + 1));
    Shape a = x, b = in[bi];
    if (a.empty() || b.empty()) return node_error(n, "operands must have rank >= 1");
    const bool a1 = a.size() == 1, b1 = b.size() == 1;
    if (a1) a.insert(a.begin(), 1);
    if (b1) b.push_back(1);
    const int64_t ka = a.back(), kb = b[b.size() - 2];
    if (!is_dyn(ka) && !is_dyn(kb) && ka != kb) {
      return node_error(n, fmt::format("inner dimensions = {} and {}, must be equal", ka, kb));
    }
    EI8_ASSIGN_OR_RETURN(Shape batch, broadcast_shapes(Shape(a.begin(), a.end() - 2),
                                                       Shape(b.begin(), b.end() - 2)));
    Shape out = batch;
    if (!a1) out.push_back(a[a.size() - 2]);
    if (!b1) out.push_back(b.back());
    return std::vector<Shape>{out};
  }
  if (op == "Add" || op == "Sub" || op == "Mul" || op == "Div" || op == "Pow") {
    EI8_RETURN_IF_ERROR(need(2));
    auto s = broadcast_shapes(x, in[1]);
    if (!s.ok()) return node_error(n, s.status().message());
    return std::vector<Shape>{s.value()};
  }
  if (op == "Concat") {
    const int64_t axis = norm_axis(n.attr_int("axis", 0), static_cast<int64_t>(x.size()));
    if (axis < 0 || axis >= static_cast<int64_t>(x.size()))
      return node_error(n, "axis out of range");
    Shape out = x;
    for (size_t i = 1; i < in.size(); ++i) {
      if (in[i].size() != x.size()) return node_error(n, "inputs must have equal rank");
      for (size_t d = 0; d < x.size(); ++d) {
        if (static_cast<int64_t>(d) == axis) continue;
        if (!is_dyn(in[i][d]) && !is_dyn(x[d]) && in[i][d] != x[d]) {
          return node_error(n,
                            fmt::format("input {} dim {} = {}, must be {}", i, d, in[i][d], x[d]));
        }
      }
      const size_t a = static_cast<size_t>(axis);
      out[a] = is_dyn(out[a]) || is_dyn(in[i][a]) ? kDynamic : out[a] + in[i][a];
    }
    return std::vector<Shape>{out};
  }
  if (op == "Flatten") {
    const int64_t r = static_cast<int64_t>(x.size());
    int64_t axis = n.attr_int("axis", 1);
    axis = norm_axis(axis, r);
    if (axis < 0 || axis > r) return node_error(n, "axis out of range");
    int64_t outer = 1, inner = 1;
    for (int64_t i = 0; i < r; ++i) {
      int64_t& acc = i < axis ? outer : inner;
      acc = (is_dyn(acc) || is_dyn(x[static_cast<size_t>(i)])) ? kDynamic
                                                               : acc * x[static_cast<size_t>(i)];
    }
    return std::vector<Shape>{Shape{outer, inner}};
  }
  if (op == "Transpose") {
    std::vector<int64_t> perm = n.attr_ints("perm");
    if (perm.empty()) {
      for (size_t i = x.size(); i-- > 0;) perm.push_back(static_cast<int64_t>(i));
    }
    if (perm.size() != x.size()) return node_error(n, "perm length must equal the input rank");
    std::vector<bool> seen(x.size(), false);
    Shape out;
    for (int64_t p : perm) {
      if (p < 0 || p >= static_cast<int64_t>(x.size()) || seen[static_cast<size_t>(p)]) {
        return node_error(n, "perm must be a permutation of the axes");
      }
      seen[static_cast<size_t>(p)] = true;
      out.push_back(x[static_cast<size_t>(p)]);
    }
    return std::vector<Shape>{out};
  }
  if (op == "Reshape") return infer_reshape(n, x);
  if (op == "Pad") {
    const std::vector<int64_t> pads = n.attr_ints("pads");
    if (pads.size() != 2 * x.size()) {
      return node_error(
          n, fmt::format("pads length = {}, must be 2 x rank = {}", pads.size(), 2 * x.size()));
    }
    if (n.attr_string("mode", "constant") != "constant") {
      return node_error(n, "mode must be 'constant'");
    }
    Shape out = x;
    for (size_t i = 0; i < x.size(); ++i) {
      if (is_dyn(x[i])) continue;
      out[i] = x[i] + pads[i] + pads[i + x.size()];
      if (out[i] < 0) return node_error(n, "padded size must be >= 0");
    }
    return std::vector<Shape>{out};
  }
  if (op == "Squeeze" || op == "Unsqueeze") {
    const std::vector<int64_t> axes = n.attr_ints("axes");
    Shape out = x;
    if (op == "Squeeze") {
      std::vector<int64_t> ax;
      for (int64_t a : axes) ax.push_back(norm_axis(a, static_cast<int64_t>(x.size())));
      Shape o;
      for (size_t i = 0; i < x.size(); ++i) {
        const bool drop =
            axes.empty() ? x[i] == 1
                         : std::find(ax.begin(), ax.end(), static_cast<int64_t>(i)) != ax.end();
        if (drop && x[i] != 1 && !is_dyn(x[i])) return node_error(n, "squeezed axis must be 1");
        if (!drop) o.push_back(x[i]);
      }
      return std::vector<Shape>{o};
    }
    const int64_t r = static_cast<int64_t>(x.size() + axes.size());
    std::vector<int64_t> ax;
    for (int64_t a : axes) ax.push_back(norm_axis(a, r));
    std::sort(ax.begin(), ax.end());
    for (int64_t a : ax) {
      if (a < 0 || a > static_cast<int64_t>(out.size())) return node_error(n, "axis out of range");
      out.insert(out.begin() + a, 1);
    }
    return std::vector<Shape>{out};
  }
  return unsupported(
      "cannot infer shapes of node '{}': op_type = {}, must be one of the supported "
      "ops",
      n.name, op);
}

}  // namespace

Result<std::vector<Shape>> infer_node_shapes(const Graph& g, const Node& n,
                                             const std::vector<Shape>& in) {
  for (size_t i = 0; i < in.size(); ++i) EI8_RETURN_IF_ERROR(check_bounded(n, in[i], "input", i));
  EI8_ASSIGN_OR_RETURN(std::vector<Shape> out, infer_node_shapes_unbounded(g, n, in));
  for (size_t i = 0; i < out.size(); ++i) {
    EI8_RETURN_IF_ERROR(check_bounded(n, out[i], "output", i));
  }
  return out;
}

Result<std::vector<DType>> infer_node_dtypes(const Graph& g, const Node& n,
                                             const std::vector<DType>& in) {
  (void)g;
  const std::string& op = n.op_type;
  if (op == "QuantizeLinear") {
    DType t = DType::kU8;
    if (in.size() > 2 && !n.input(2).empty()) t = in[2];
    return std::vector<DType>{t};
  }
  if (op == "DequantizeLinear") return std::vector<DType>{DType::kF32};
  if (op == "QLinearConv" || op == "QLinearMatMul") {
    return std::vector<DType>{in.size() > 7 ? in[7] : DType::kU8};
  }
  if (op == "QLinearConcat") return std::vector<DType>{in.size() > 1 ? in[1] : DType::kU8};
  // QGemm without y_scale / y_zero_point and MatMulIntegerToFloat have a float output.
  if (op == "QGemm") {
    return std::vector<DType>{in.size() > 8 ? in[8] : (in.size() > 7 ? in[0] : DType::kF32)};
  }
  if (op == "MatMulIntegerToFloat") return std::vector<DType>{DType::kF32};
  return std::vector<DType>(n.outputs.size(), in.empty() ? DType::kF32 : in[0]);
}

Status infer_shapes(Graph& g) {
  EI8_RETURN_IF_ERROR(g.sort_topologically());
  for (Node& n : g.nodes()) {
    std::vector<Shape> in;
    std::vector<DType> types;
    for (const auto& name : n.inputs) {
      if (name.empty()) {
        in.emplace_back();
        types.push_back(DType::kF32);
        continue;
      }
      const Value* v = g.find_value(name);
      if (!v || !v->has_shape) {
        return not_found(
            "cannot infer shapes of node '{}' ({}): input '{}' has no shape, must be "
            "produced or fed first",
            n.name, n.op_type, name);
      }
      in.push_back(v->shape);
      types.push_back(v->dtype);
    }
    EI8_ASSIGN_OR_RETURN(std::vector<Shape> out, infer_node_shapes(g, n, in));
    EI8_ASSIGN_OR_RETURN(std::vector<DType> out_types, infer_node_dtypes(g, n, types));
    // Resolve auto_pad into explicit pads when the spatial size is known.
    if ((n.op_type == "Conv" || n.op_type == "QLinearConv" || n.op_type == "MaxPool" ||
         n.op_type == "AveragePool") &&
        n.attr_string("auto_pad", "NOTSET") != "NOTSET" && !in.empty() && in[0].size() > 2) {
      const Shape& x = in[0];
      std::vector<int64_t> kernel = n.attr_ints("kernel_shape");
      if (kernel.empty()) {
        const Shape& w = in[n.op_type == "Conv" ? 1 : 3];
        kernel.assign(w.begin() + 2, w.end());
      }
      const std::span<const int64_t> sp(x.data() + 2, x.size() - 2);
      if (std::none_of(sp.begin(), sp.end(), [](int64_t d) { return d < 0; })) {
        n.set("pads", resolve_pads(n, sp, kernel));
        n.erase("auto_pad");
      }
    }
    for (size_t i = 0; i < n.outputs.size() && i < out.size(); ++i) {
      if (n.outputs[i].empty()) continue;
      Value* v = g.find_value(n.outputs[i]);
      if (!v) return internal_error("node '{}' output '{}' has no value", n.name, n.outputs[i]);
      v->shape = out[i];
      v->has_shape = true;
      v->dtype = out_types[std::min(i, out_types.size() - 1)];
    }
  }
  return {};
}

int64_t node_macs(const Node& n, const std::vector<Shape>& in, const std::vector<Shape>& out) {
  auto prod = [](const Shape& s, size_t from) {
    int64_t p = 1;
    for (size_t i = from; i < s.size(); ++i) p *= s[i] < 0 ? 1 : s[i];
    return p;
  };
  if (out.empty() || in.empty()) return 0;
  if (n.op_type == "Conv" || n.op_type == "QLinearConv") {
    const Shape& w = in[n.op_type == "Conv" ? 1 : 3];
    if (w.size() < 2) return 0;
    // out elements x (C_in / group) x kernel size.
    return prod(out[0], 0) * prod(w, 1);
  }
  if (n.op_type == "Gemm") {
    if (in[0].size() != 2) return 0;
    const int64_t k = n.attr_int("transA", 0) ? in[0][0] : in[0][1];
    return prod(out[0], 0) * (k < 0 ? 1 : k);
  }
  if (n.op_type == "MatMul" || n.op_type == "QLinearMatMul") {
    const int64_t k = in[0].empty() ? 1 : in[0].back();
    return prod(out[0], 0) * (k < 0 ? 1 : k);
  }
  return 0;
}

}  // namespace ei8
