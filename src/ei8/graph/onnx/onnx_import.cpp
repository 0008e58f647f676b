// ONNX → IR. See onnx_io.h for what is accepted.
#include <onnx/onnx_pb.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <set>

#include "ei8/core/npy.h"
#include "ei8/graph/onnx/onnx_io.h"
#include "ei8/graph/shape_inference.h"

namespace ei8 {
namespace {

constexpr int64_t kMaxElements = int64_t{1} << 31;  // per tensor
constexpr int64_t kMinOpset = 7, kMaxOpset = 18;

// A dimension of an int64 vector known at import time: a constant, or dimension `axis` of the
// tensor `of` (from Shape), possibly unknown until the graph runs.
struct SymDim {
  int64_t value = 0;
  std::string of;
  int64_t axis = 0;
  bool is_const() const { return of.empty(); }
};
// A small int64 tensor known at import time (row-major values, shape).
struct Sym {
  std::vector<SymDim> v;
  Shape shape;
};

class Importer {
 public:
  explicit Importer(std::string_view name) : name_(name) {}
  Result<Graph> run(std::string_view bytes);

 private:
  template <typename... Args>
  Status err(StatusCode code, fmt::format_string<Args...> f, Args&&... args) const {
    return Status(code, fmt::format("{}: {}", name_, fmt::format(f, std::forward<Args>(args)...)));
  }
  Status import_tensor(const onnx::TensorProto& t, const std::string& name);
  Status import_node(const onnx::NodeProto& p, size_t index);
  Status import_shape_op(const onnx::NodeProto& p, const Node& n);
  Result<std::vector<int64_t>> const_ints(const Node& n, size_t input, std::string_view what) const;
  Result<std::optional<float>> const_float(const Node& n, size_t input) const;
  Result<Shape> current_shape(const std::string& value);

  std::string name_;
  int64_t opset_ = 13;
  Graph g_;
  std::map<std::string, Sym> syms_;
  std::set<std::string> node_names_;
};

Result<int64_t> checked_numel(const google::protobuf::RepeatedField<int64_t>& dims,
                              std::string_view what) {
  int64_t n = 1;
  for (int64_t d : dims) {
    if (d < 0 || d > kMaxElements) {
      return data_loss("cannot import tensor '{}': dim = {}, must be in [0, 2^31]", what, d);
    }
    n *= d;
    if (n > kMaxElements) {
      return data_loss("cannot import tensor '{}': elements > 2^31, must be smaller", what);
    }
  }
  return n;
}

template <typename Dst, typename Src>
void copy_from_field(std::span<Dst> dst, const Src& field) {
  for (size_t i = 0; i < dst.size(); ++i) dst[i] = static_cast<Dst>(field.Get(static_cast<int>(i)));
}

Status Importer::import_tensor(const onnx::TensorProto& t, const std::string& name) {
  if (t.data_location() == onnx::TensorProto::EXTERNAL) {
    return err(StatusCode::kUnsupported,
               "cannot import tensor '{}': data_location = external, must be stored in the file",
               name);
  }
  auto numel_r = checked_numel(t.dims(), name);
  if (!numel_r.ok()) return numel_r.status().with_context(name_);
  const int64_t numel = numel_r.value();
  const size_t n = static_cast<size_t>(numel);
  Shape shape(t.dims().begin(), t.dims().end());
  const std::string& raw = t.raw_data();
  const bool has_raw = t.has_raw_data();
  auto check_count = [&](size_t elem, int field_size) -> Status {
    if (has_raw ? raw.size() != n * elem : static_cast<size_t>(field_size) != n) {
      return err(StatusCode::kDataLoss,
                 "cannot import tensor '{}': data size = {}, must hold {} elements of shape {}",
                 name, has_raw ? raw.size() : static_cast<size_t>(field_size), n,
                 shape_to_string(shape));
    }
    return {};
  };
  switch (t.data_type()) {
    case onnx::TensorProto::FLOAT: {
      EI8_RETURN_IF_ERROR(check_count(4, t.float_data_size()));
      Tensor x = Tensor::zeros(DType::kF32, shape);
      if (has_raw) {
        std::memcpy(x.raw(), raw.data(), n * 4);
      } else {
        copy_from_field(x.span<float>(), t.float_data());
      }
      g_.add_initializer(name, std::move(x));
      return {};
    }
    case onnx::TensorProto::DOUBLE: {
      EI8_RETURN_IF_ERROR(check_count(8, t.double_data_size()));
      Tensor x = Tensor::zeros(DType::kF32, shape);
      auto v = x.span<float>();
      for (size_t i = 0; i < n; ++i) {
        double d = 0;
        if (has_raw) {
          std::memcpy(&d, raw.data() + 8 * i, 8);
        } else {
          d = t.double_data(static_cast<int>(i));
        }
        v[i] = static_cast<float>(d);
      }
      g_.add_initializer(name, std::move(x));
      return {};
    }
    case onnx::TensorProto::UINT8:
    case onnx::TensorProto::INT8:
    case onnx::TensorProto::INT32: {
      const DType dt = t.data_type() == onnx::TensorProto::UINT8  ? DType::kU8
                       : t.data_type() == onnx::TensorProto::INT8 ? DType::kS8
                                                                  : DType::kS32;
      EI8_RETURN_IF_ERROR(check_count(dtype_size(dt), t.int32_data_size()));
      Tensor x = Tensor::zeros(dt, shape);
      if (has_raw) {
        std::memcpy(x.raw(), raw.data(), n * dtype_size(dt));
      } else if (dt == DType::kU8) {
        copy_from_field(x.span<uint8_t>(), t.int32_data());
      } else if (dt == DType::kS8) {
        copy_from_field(x.span<int8_t>(), t.int32_data());
      } else {
        copy_from_field(x.span<int32_t>(), t.int32_data());
      }
      g_.add_initializer(name, std::move(x));
      return {};
    }
    case onnx::TensorProto::INT64: {
      EI8_RETURN_IF_ERROR(check_count(8, t.int64_data_size()));
      if (numel > 4096) {
        return err(StatusCode::kUnsupported,
                   "cannot import tensor '{}': int64 elements = {}, must be <= 4096 (shape "
                   "parameters only)",
                   name, numel);
      }
      Sym s;
      s.shape = shape;
      for (size_t i = 0; i < n; ++i) {
        int64_t v = 0;
        if (has_raw) {
          std::memcpy(&v, raw.data() + 8 * i, 8);
        } else {
          v = t.int64_data(static_cast<int>(i));
        }
        s.v.push_back(SymDim{v, {}, 0});
      }
      syms_[name] = std::move(s);
      return {};
    }
    default:
      return err(StatusCode::kUnsupported,
                 "cannot import tensor '{}': data_type = {}, must be float, double, uint8, int8, "
                 "int32 or int64",
                 name, t.data_type());
  }
}

Result<std::vector<int64_t>> Importer::const_ints(const Node& n, size_t input,
                                                  std::string_view what) const {
  const std::string& name = n.input(input);
  auto it = syms_.find(name);
  if (it != syms_.end()) {
    std::vector<int64_t> out;
    for (const SymDim& d : it->second.v) {
      if (!d.is_const()) {
        return err(StatusCode::kUnsupported,
                   "cannot import node '{}' ({}): {} depends on a runtime shape, must be constant",
                   n.name, n.op_type, what);
      }
      out.push_back(d.value);
    }
    return out;
  }
  if (const Tensor* t = g_.constant(name); t && t->dtype() == DType::kS32) {
    auto s = t->span<int32_t>();
    return std::vector<int64_t>(s.begin(), s.end());
  }
  return err(StatusCode::kNotFound,
             "cannot import node '{}' ({}): {} input '{}' is not a constant int64 tensor, must be "
             "an initializer or Constant",
             n.name, n.op_type, what, name);
}

Result<std::optional<float>> Importer::const_float(const Node& n, size_t input) const {
  const std::string& name = n.input(input);
  if (name.empty()) return std::optional<float>{};
  const Tensor* t = g_.constant(name);
  if (!t || t->numel() != 1) {
    return err(StatusCode::kNotFound,
               "cannot import node '{}' ({}): input '{}' = not a constant scalar, must be an "
               "initializer or Constant",
               n.name, n.op_type, name);
  }
  switch (t->dtype()) {
    case DType::kF32:
      return std::optional<float>(t->span<float>()[0]);
    case DType::kS32:
      return std::optional<float>(static_cast<float>(t->span<int32_t>()[0]));
    case DType::kS8:
      return std::optional<float>(static_cast<float>(t->span<int8_t>()[0]));
    case DType::kU8:
      return std::optional<float>(static_cast<float>(t->span<uint8_t>()[0]));
  }
  return std::optional<float>{};
}

Result<Shape> Importer::current_shape(const std::string& value) {
  Graph copy = g_;
  Status s = infer_shapes(copy);
  const Value* v = copy.find_value(value);
  if (!s.ok() || !v || !v->has_shape) {
    return err(StatusCode::kUnsupported, "cannot infer the shape of '{}' at import time{}", value,
               s.ok() ? "" : ": " + s.message());
  }
  return v->shape;
}

// Shape arithmetic on small int64 tensors (evaluated now, never executed).
Status Importer::import_shape_op(const onnx::NodeProto& p, const Node& n) {
  const std::string& op = n.op_type;
  auto sym_of = [&](size_t i) -> Result<const Sym*> {
    auto it = syms_.find(n.input(i));
    if (it == syms_.end()) {
      return err(StatusCode::kUnsupported,
                 "cannot import node '{}' ({}): input '{}' = a runtime tensor, must be a constant "
                 "or shape vector (only shape arithmetic is supported for this op)",
                 n.name, op, n.input(i));
    }
    return &it->second;
  };
  auto fail = [&](std::string_view what) {
    return err(StatusCode::kUnsupported, "cannot import node '{}' ({}): {}", n.name, op, what);
  };
  auto strides_of = [](const Shape& sh) {
    std::vector<int64_t> st(sh.size(), 1);
    for (size_t i = sh.size(); i-- > 1;) st[i - 1] = st[i] * sh[i];
    return st;
  };
  if (n.outputs.empty() || n.outputs[0].empty()) return {};
  const std::string& out = n.outputs[0];
  Sym y;
  if (op == "Shape") {
    if (n.inputs.empty() || n.input(0).empty()) return fail("input missing");
    EI8_ASSIGN_OR_RETURN(Shape sh, current_shape(n.input(0)));
    const int64_t r = static_cast<int64_t>(sh.size());
    int64_t start = n.attr_int("start", 0), end = n.attr_int("end", r);
    if (start < 0) start += r;
    if (end < 0) end += r;
    start = std::clamp<int64_t>(start, 0, r);
    end = std::clamp<int64_t>(end, 0, r);
    for (int64_t i = start; i < end; ++i) {
      const int64_t d = sh[static_cast<size_t>(i)];
      y.v.push_back(d >= 0 ? SymDim{d, {}, 0} : SymDim{0, n.input(0), i});
    }
    y.shape = {static_cast<int64_t>(y.v.size())};
  } else if (op == "ConstantOfShape") {
    EI8_ASSIGN_OR_RETURN(const Sym* a, sym_of(0));
    Shape sh;
    for (const SymDim& d : a->v) {
      if (!d.is_const() || d.value < 0 || d.value > 4096)
        return fail("shape must be small and constant");
      sh.push_back(d.value);
    }
    if (shape_numel(sh) > 4096) return fail("more than 4096 elements");
    const onnx::TensorProto* value = nullptr;
    for (const auto& at : p.attribute()) {
      if (at.name() == "value" && at.type() == onnx::AttributeProto::TENSOR) value = &at.t();
    }
    if (value && value->data_type() != onnx::TensorProto::INT64) {
      // A float (or other) fill: an ordinary constant.
      EI8_RETURN_IF_ERROR(import_tensor(*value, out));
      const Tensor* t = g_.constant(out);
      if (!t || t->numel() != 1) return fail("value must hold one element");
      Tensor filled = Tensor::zeros(t->dtype(), sh);
      const size_t es = dtype_size(t->dtype());
      for (int64_t i = 0; i < filled.numel(); ++i) {
        std::memcpy(filled.raw() + static_cast<size_t>(i) * es, t->raw(), es);
      }
      g_.add_initializer(out, std::move(filled));
      return {};
    }
    int64_t fill = 0;
    if (value) {
      if (value->int64_data_size() > 0) {
        fill = value->int64_data(0);
      } else if (value->raw_data().size() >= 8) {
        std::memcpy(&fill, value->raw_data().data(), 8);
      }
    }
    y.shape = sh;
    y.v.assign(static_cast<size_t>(shape_numel(sh)), SymDim{fill, {}, 0});
  } else if (op == "Cast" || op == "Identity") {
    EI8_ASSIGN_OR_RETURN(const Sym* a, sym_of(0));
    y = *a;
  } else if (op == "Gather") {
    EI8_ASSIGN_OR_RETURN(const Sym* a, sym_of(0));
    EI8_ASSIGN_OR_RETURN(const Sym* idx, sym_of(1));
    if (n.attr_int("axis", 0) != 0 || a->shape.size() != 1)
      return fail("must gather from a 1-D vector on axis 0");
    y.shape = idx->shape;
    const int64_t r = static_cast<int64_t>(a->v.size());
    for (const SymDim& d : idx->v) {
      int64_t i = d.value;
      if (i < 0) i += r;
      if (!d.is_const() || i < 0 || i >= r) return fail("index must be constant and in range");
      y.v.push_back(a->v[static_cast<size_t>(i)]);
    }
  } else if (op == "Unsqueeze" || op == "Squeeze") {
    EI8_ASSIGN_OR_RETURN(const Sym* a, sym_of(0));
    std::vector<int64_t> axes = n.attr_ints("axes");
    if (opset_ >= 13 && n.inputs.size() > 1 && !n.input(1).empty()) {
      EI8_ASSIGN_OR_RETURN(axes, const_ints(n, 1, "axes"));
    }
    y.v = a->v;
    if (op == "Unsqueeze") {
      const int64_t r = static_cast<int64_t>(a->shape.size() + axes.size());
      for (int64_t& ax : axes) ax = ax < 0 ? ax + r : ax;
      std::sort(axes.begin(), axes.end());
      y.shape = a->shape;
      for (int64_t ax : axes) {
        if (ax < 0 || ax > static_cast<int64_t>(y.shape.size())) return fail("axis out of range");
        y.shape.insert(y.shape.begin() + ax, 1);
      }
    } else {
      const int64_t r = static_cast<int64_t>(a->shape.size());
      for (int64_t& ax : axes) ax = ax < 0 ? ax + r : ax;
      for (int64_t i = 0; i < r; ++i) {
        const bool drop = axes.empty() ? a->shape[static_cast<size_t>(i)] == 1
                                       : std::find(axes.begin(), axes.end(), i) != axes.end();
        if (!drop) y.shape.push_back(a->shape[static_cast<size_t>(i)]);
      }
    }
  } else if (op == "Concat") {
    std::vector<const Sym*> parts;
    for (size_t i = 0; i < n.inputs.size(); ++i) {
      EI8_ASSIGN_OR_RETURN(const Sym* a, sym_of(i));
      parts.push_back(a);
    }
    if (parts.empty()) return fail("no inputs");
    const int64_t r = static_cast<int64_t>(parts[0]->shape.size());
    int64_t axis = n.attr_int("axis", 0);
    if (axis < 0) axis += r;
    if (axis < 0 || axis >= r) return fail("axis out of range");
    y.shape = parts[0]->shape;
    y.shape[static_cast<size_t>(axis)] = 0;
    int64_t outer = 1;
    for (int64_t i = 0; i < axis; ++i) outer *= parts[0]->shape[static_cast<size_t>(i)];
    for (const Sym* a : parts) {
      if (static_cast<int64_t>(a->shape.size()) != r) return fail("inputs must have equal rank");
      y.shape[static_cast<size_t>(axis)] += a->shape[static_cast<size_t>(axis)];
    }
    for (int64_t o = 0; o < outer; ++o) {
      for (const Sym* a : parts) {
        const size_t chunk = a->v.size() / static_cast<size_t>(std::max<int64_t>(outer, 1));
        for (size_t j = 0; j < chunk; ++j) y.v.push_back(a->v[static_cast<size_t>(o) * chunk + j]);
      }
    }
  } else if (op == "Reshape") {
    EI8_ASSIGN_OR_RETURN(const Sym* a, sym_of(0));
    EI8_ASSIGN_OR_RETURN(auto target, const_ints(n, 1, "shape"));
    Node tmp = n;
    tmp.set("shape", target);
    auto sh = infer_node_shapes(g_, tmp, {a->shape});
    if (!sh.ok()) return sh.status().with_context(name_);
    y.shape = sh.value()[0];
    y.v = a->v;
  } else if (op == "Transpose") {
    EI8_ASSIGN_OR_RETURN(const Sym* a, sym_of(0));
    std::vector<int64_t> perm = n.attr_ints("perm");
    if (perm.empty()) {
      for (size_t i = a->shape.size(); i-- > 0;) perm.push_back(static_cast<int64_t>(i));
    }
    if (perm.size() != a->shape.size()) return fail("perm length must equal the rank");
    const auto st = strides_of(a->shape);
    for (int64_t pi : perm) {
      if (pi < 0 || pi >= static_cast<int64_t>(a->shape.size())) return fail("perm out of range");
      y.shape.push_back(a->shape[static_cast<size_t>(pi)]);
    }
    const auto ost = strides_of(y.shape);
    for (int64_t i = 0; i < shape_numel(y.shape); ++i) {
      int64_t src = 0, rem = i;
      for (size_t d = 0; d < y.shape.size(); ++d) {
        const int64_t c = rem / ost[d];
        rem %= ost[d];
        src += c * st[static_cast<size_t>(perm[d])];
      }
      y.v.push_back(a->v[static_cast<size_t>(src)]);
    }
  } else if (op == "Slice") {
    EI8_ASSIGN_OR_RETURN(const Sym* a, sym_of(0));
    const int64_t r = static_cast<int64_t>(a->shape.size());
    std::vector<int64_t> starts, ends, axes, steps;
    if (opset_ < 10) {
      starts = n.attr_ints("starts");
      ends = n.attr_ints("ends");
      axes = n.attr_ints("axes");
    } else {
      EI8_ASSIGN_OR_RETURN(starts, const_ints(n, 1, "starts"));
      EI8_ASSIGN_OR_RETURN(ends, const_ints(n, 2, "ends"));
      if (n.inputs.size() > 3 && !n.input(3).empty()) {
        EI8_ASSIGN_OR_RETURN(axes, const_ints(n, 3, "axes"));
      }
      if (n.inputs.size() > 4 && !n.input(4).empty()) {
        EI8_ASSIGN_OR_RETURN(steps, const_ints(n, 4, "steps"));
      }
    }
    if (axes.empty()) {
      for (size_t i = 0; i < starts.size(); ++i) axes.push_back(static_cast<int64_t>(i));
    }
    if (steps.empty()) steps.assign(starts.size(), 1);
    if (ends.size() != starts.size() || axes.size() != starts.size() ||
        steps.size() != starts.size()) {
      return fail("starts, ends, axes and steps must have equal lengths");
    }
    std::vector<int64_t> b(static_cast<size_t>(r), 0), st(static_cast<size_t>(r), 1);
    Shape osh = a->shape;
    for (size_t i = 0; i < starts.size(); ++i) {
      int64_t ax = axes[i] < 0 ? axes[i] + r : axes[i];
      if (ax < 0 || ax >= r || steps[i] == 0) return fail("axis out of range or step 0");
      const int64_t dim = a->shape[static_cast<size_t>(ax)];
      int64_t s0 = starts[i], e0 = ends[i];
      if (s0 < 0) s0 += dim;
      if (e0 < 0 && e0 > std::numeric_limits<int64_t>::min() + dim) e0 += dim;
      // Elements taken = ceil(distance / |step|), written so that no step (up to ±2^63)
      // overflows: 1 + (distance − 1) / |step| with |step| unsigned.
      const uint64_t mag = steps[i] > 0 ? static_cast<uint64_t>(steps[i])
                                        : uint64_t{0} - static_cast<uint64_t>(steps[i]);
      auto taken = [mag](int64_t distance) -> int64_t {
        return distance > 0 ? 1 + static_cast<int64_t>(static_cast<uint64_t>(distance - 1) / mag)
                            : 0;
      };
      int64_t cnt = 0;
      if (steps[i] > 0) {
        s0 = std::clamp<int64_t>(s0, 0, dim);
        e0 = std::clamp<int64_t>(e0, 0, dim);
        cnt = taken(e0 - s0);
      } else {
        s0 = std::clamp<int64_t>(s0, 0, dim - 1);
        e0 = std::clamp<int64_t>(e0, -1, dim - 1);
        cnt = taken(s0 - e0);
      }
      b[static_cast<size_t>(ax)] = s0;
      st[static_cast<size_t>(ax)] = steps[i];
      osh[static_cast<size_t>(ax)] = cnt;
    }
    const auto ist = strides_of(a->shape);
    const auto ost = strides_of(osh);
    for (int64_t i = 0; i < shape_numel(osh); ++i) {
      int64_t src = 0, rem = i;
      for (size_t d = 0; d < osh.size(); ++d) {
        const int64_t c = rem / ost[d];
        rem %= ost[d];
        src += (b[d] + c * st[d]) * ist[d];
      }
      y.v.push_back(a->v[static_cast<size_t>(src)]);
    }
    y.shape = osh;
  } else {
    return fail("op is not supported on shape vectors");
  }
  if (static_cast<int64_t>(y.v.size()) != shape_numel(y.shape)) {
    return err(StatusCode::kInternal, "node '{}' ({}): shape arithmetic size mismatch", n.name, op);
  }
  syms_[out] = std::move(y);
  return {};
}

Status Importer::import_node(const onnx::NodeProto& p, size_t index) {
  Node n;
  n.op_type = p.op_type();
  std::string name = p.name().empty() ? fmt::format("{}_{}", p.op_type(), index) : p.name();
  if (node_names_.count(name)) name = fmt::format("{}_{}", name, index);
  n.name = name;
  for (const auto& s : p.input()) n.inputs.push_back(s);
  for (const auto& s : p.output()) n.outputs.push_back(s);
  if (!p.domain().empty() && p.domain() != "ai.onnx") {
    return err(StatusCode::kUnsupported,
               "cannot import node '{}': op_type = {}, domain = '{}', must be the default ONNX "
               "domain",
               n.name, n.op_type, p.domain());
  }
  for (const auto& a : p.attribute()) {
    switch (a.type()) {
      case onnx::AttributeProto::INT:
        n.set(a.name(), a.i());
        break;
      case onnx::AttributeProto::FLOAT:
        n.set(a.name(), a.f());
        break;
      case onnx::AttributeProto::STRING:
        n.set(a.name(), a.s());
        break;
      case onnx::AttributeProto::INTS:
        n.set(a.name(), std::vector<int64_t>(a.ints().begin(), a.ints().end()));
        break;
      case onnx::AttributeProto::FLOATS:
        n.set(a.name(), std::vector<float>(a.floats().begin(), a.floats().end()));
        break;
      case onnx::AttributeProto::TENSOR: {
        // Only Constant uses tensor attributes; imported below.
        break;
      }
      default:
        break;
    }
  }
  const std::string& op = n.op_type;
  for (const auto& o : n.outputs) {
    if (o.empty()) continue;
    if (g_.find_value(o) || syms_.count(o)) {
      return err(StatusCode::kInvalidArgument,
                 "cannot import node '{}' ({}): output '{}' is already defined, must be unique",
                 n.name, op, o);
    }
  }
  // Every non-empty input must be known by now (ONNX requires topological order).
  for (const auto& in : n.inputs) {
    if (!in.empty() && !g_.find_value(in) && !syms_.count(in)) {
      return err(StatusCode::kNotFound,
                 "cannot import node '{}' ({}): input '{}' is not defined, must be a graph input, "
                 "an initializer or an earlier node's output (missing initializer?)",
                 n.name, op, in);
    }
  }
  if (op == "Constant") {
    if (n.outputs.size() != 1 || n.outputs[0].empty()) {
      return err(StatusCode::kInvalidArgument,
                 "cannot import node '{}' (Constant): outputs = {}, must be 1", n.name,
                 n.outputs.size());
    }
    const std::string& out = n.outputs[0];
    for (const auto& a : p.attribute()) {
      if (a.name() == "value" && a.type() == onnx::AttributeProto::TENSOR) {
        return import_tensor(a.t(), out);
      }
      if (a.name() == "value_float") {
        g_.add_initializer(out, Tensor::from<float>({}, {a.f()}));
        return {};
      }
      if (a.name() == "value_floats") {
        std::vector<float> v(a.floats().begin(), a.floats().end());
        g_.add_initializer(
            out, Tensor::from<float>({static_cast<int64_t>(v.size())}, std::span<const float>(v)));
        return {};
      }
      if (a.name() == "value_int" || a.name() == "value_ints") {
        Sym s;
        if (a.name() == "value_int") {
          s.v.push_back(SymDim{a.i(), {}, 0});
        } else {
          for (int64_t v : a.ints()) s.v.push_back(SymDim{v, {}, 0});
          s.shape = {static_cast<int64_t>(s.v.size())};
        }
        syms_[out] = std::move(s);
        return {};
      }
    }
    return err(StatusCode::kUnsupported,
               "cannot import node '{}' (Constant): value = absent, must be a tensor, float(s) or "
               "int(s)",
               n.name);
  }
  // Shape arithmetic on int64 vectors.
  const bool sym_inputs = !n.inputs.empty() && syms_.count(n.input(0));
  if (op == "Shape" || op == "ConstantOfShape" ||
      ((op == "Gather" || op == "Slice" || op == "Cast" || op == "Unsqueeze" || op == "Squeeze" ||
        op == "Concat" || op == "Identity" || op == "Reshape" || op == "Transpose") &&
       sym_inputs)) {
    node_names_.insert(n.name);
    return import_shape_op(p, n);
  }
  if (!is_supported_op(op)) {
    return err(StatusCode::kUnsupported,
               "cannot import node '{}': op_type = {}, must be one of the supported operators "
               "(see `edgeint8 info --help`)",
               n.name, op);
  }
  // An int64 vector flowing into a tensor op means a shape computation we do not model.
  for (size_t i = 0; i < n.inputs.size(); ++i) {
    const bool param = (op == "Reshape" && i == 1) || (op == "Pad" && i >= 1) ||
                       ((op == "Squeeze" || op == "Unsqueeze") && i == 1) ||
                       (op == "Clip" && i >= 1);
    if (!param && syms_.count(n.input(i))) {
      return err(StatusCode::kUnsupported,
                 "cannot import node '{}' ({}): input '{}' = int64 tensor, must be float, int8, "
                 "uint8 or int32",
                 n.name, op, n.input(i));
    }
  }
  // Canonical form: parameters passed as inputs become attributes.
  if (op == "Reshape") {
    if (n.inputs.size() != 2 && opset_ >= 5) {
      return err(StatusCode::kInvalidArgument,
                 "cannot import node '{}' (Reshape): inputs = {}, must be 2", n.name,
                 n.inputs.size());
    }
    if (opset_ >= 5) {
      auto it = syms_.find(n.input(1));
      if (it == syms_.end()) {
        return err(StatusCode::kUnsupported,
                   "cannot import node '{}' (Reshape): shape '{}' = a runtime tensor, must be "
                   "constant or computed from Shape",
                   n.name, n.input(1));
      }
      std::vector<int64_t> shape;
      int64_t unknown = 0;
      for (size_t i = 0; i < it->second.v.size(); ++i) {
        const SymDim& d = it->second.v[i];
        if (d.is_const()) {
          shape.push_back(d.value);
        } else if (d.of == n.input(0) && d.axis == static_cast<int64_t>(i)) {
          shape.push_back(0);  // copies the same dimension of the data
        } else {
          shape.push_back(-1);
          ++unknown;
        }
      }
      if (unknown > 1 || (unknown == 1 && std::count(shape.begin(), shape.end(), -1) > 1)) {
        return err(StatusCode::kUnsupported,
                   "cannot import node '{}' (Reshape): runtime-dependent dims = {}, must be at "
                   "most one",
                   n.name, unknown);
      }
      n.set("shape", shape);
      n.inputs.resize(1);
    }
  } else if (op == "Pad") {
    if (opset_ >= 11) {
      EI8_ASSIGN_OR_RETURN(auto pads, const_ints(n, 1, "pads"));
      n.set("pads", pads);
      EI8_ASSIGN_OR_RETURN(auto value, const_float(n, 2));
      n.set("value", value.value_or(0.0f));
      if (n.inputs.size() > 3 && !n.input(3).empty()) {
        return err(StatusCode::kUnsupported,
                   "cannot import node '{}' (Pad): axes input, must be absent", n.name);
      }
      n.inputs.resize(1);
    } else if (n.has("paddings")) {
      n.set("pads", n.attr_ints("paddings"));
    }
    if (n.attr_string("mode", "constant") != "constant") {
      return err(StatusCode::kUnsupported,
                 "cannot import node '{}' (Pad): mode = {}, must be constant", n.name,
                 n.attr_string("mode"));
    }
  } else if (op == "Clip") {
    if (opset_ >= 11) {
      EI8_ASSIGN_OR_RETURN(auto lo, const_float(n, 1));
      EI8_ASSIGN_OR_RETURN(auto hi, const_float(n, 2));
      if (lo) n.set("min", *lo);
      if (hi) n.set("max", *hi);
      n.inputs.resize(1);
    }
  } else if (op == "Squeeze" || op == "Unsqueeze") {
    if (opset_ >= 13 && n.inputs.size() > 1 && !n.input(1).empty()) {
      EI8_ASSIGN_OR_RETURN(auto axes, const_ints(n, 1, "axes"));
      n.set("axes", axes);
    }
    n.inputs.resize(1);
  } else if (op == "Softmax") {
    if (opset_ < 13) {
      n.set("coerce_2d", int64_t{1});
      if (!n.has("axis")) n.set("axis", int64_t{1});
    }
  } else if (op == "Dropout" || op == "BatchNormalization" || op == "MaxPool") {
    for (size_t i = 1; i < n.outputs.size(); ++i) {
      if (!n.outputs[i].empty()) {
        return err(StatusCode::kUnsupported,
                   "cannot import node '{}' ({}): output {} = '{}', must be absent (training / "
                   "indices outputs are not supported)",
                   n.name, op, i, n.outputs[i]);
      }
    }
    n.outputs.resize(1);
    if (op == "Dropout") {
      n.op_type = "Identity";
      n.inputs.resize(1);
      n.attrs.clear();
    }
    if (op == "MaxPool" && n.attr_int("storage_order", 0) != 0) {
      return err(StatusCode::kUnsupported,
                 "cannot import node '{}' (MaxPool): storage_order = 1, must be 0", n.name);
    }
  }
  if (n.outputs.empty() || n.outputs[0].empty()) {
    return err(StatusCode::kInvalidArgument,
               "cannot import node '{}' ({}): outputs = none, must be at least one", n.name, op);
  }
  if (n.inputs.empty() || n.input(0).empty()) {
    return err(StatusCode::kInvalidArgument,
               "cannot import node '{}' ({}): inputs = none, must be at least one", n.name, op);
  }
  node_names_.insert(n.name);
  g_.add_node(n.op_type, n.name, n.inputs, n.outputs).attrs = std::move(n.attrs);
  return {};
}

Result<Graph> Importer::run(std::string_view bytes) {
  onnx::ModelProto model;
  if (bytes.size() > static_cast<size_t>(std::numeric_limits<int>::max()) ||
      !model.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return err(StatusCode::kDataLoss,
               "cannot parse ONNX model: bytes = {}, must be a complete ModelProto (truncated or "
               "not an ONNX file?)",
               bytes.size());
  }
  if (!model.has_graph()) {
    return err(StatusCode::kDataLoss, "cannot import ONNX model: graph = absent, must be present");
  }
  bool found = false;
  for (const auto& o : model.opset_import()) {
    if (o.domain().empty() || o.domain() == "ai.onnx") {
      opset_ = o.version();
      found = true;
    }
  }
  if (!found && model.opset_import_size() > 0) {
    return err(StatusCode::kUnsupported,
               "cannot import ONNX model: default-domain opset = absent, must be set");
  }
  if (opset_ < kMinOpset || opset_ > kMaxOpset) {
    return err(StatusCode::kUnsupported,
               "cannot import ONNX model: opset = {}, must be in [{}, {}]", opset_, kMinOpset,
               kMaxOpset);
  }
  const onnx::GraphProto& gp = model.graph();
  g_.set_name(gp.name().empty() ? "graph" : gp.name());
  g_.set_opset(opset_);
  for (const auto& t : gp.initializer()) {
    if (t.name().empty())
      return err(StatusCode::kDataLoss, "cannot import initializer: name = '', must be set");
    EI8_RETURN_IF_ERROR(import_tensor(t, t.name()));
  }
  for (const auto& vi : gp.input()) {
    if (g_.constant(vi.name()) || syms_.count(vi.name())) continue;  // initializer listed as input
    if (vi.name().empty())
      return err(StatusCode::kDataLoss, "cannot import graph input: name = '', must be set");
    if (!vi.type().has_tensor_type()) {
      return err(StatusCode::kUnsupported,
                 "cannot import graph input '{}': type = not a tensor, must be a tensor",
                 vi.name());
    }
    const auto& tt = vi.type().tensor_type();
    DType dt = DType::kF32;
    switch (tt.elem_type()) {
      case onnx::TensorProto::FLOAT:
        dt = DType::kF32;
        break;
      case onnx::TensorProto::UINT8:
        dt = DType::kU8;
        break;
      case onnx::TensorProto::INT8:
        dt = DType::kS8;
        break;
      case onnx::TensorProto::INT32:
        dt = DType::kS32;
        break;
      default:
        return err(StatusCode::kUnsupported,
                   "cannot import graph input '{}': elem_type = {}, must be float, uint8, int8 or "
                   "int32",
                   vi.name(), tt.elem_type());
    }
    if (!tt.has_shape()) {
      return err(StatusCode::kUnsupported,
                 "cannot import graph input '{}': shape = absent, must be given", vi.name());
    }
    Shape s;
    for (const auto& d : tt.shape().dim()) {
      if (d.has_dim_value()) {
        if (d.dim_value() < 0 || d.dim_value() > kMaxElements) {
          return err(StatusCode::kDataLoss,
                     "cannot import graph input '{}': dim = {}, must be >= 0", vi.name(),
                     d.dim_value());
        }
        s.push_back(d.dim_value());
      } else {
        s.push_back(kDynamic);
      }
    }
    g_.add_input(vi.name(), dt, s);
  }
  for (int i = 0; i < gp.node_size(); ++i) {
    EI8_RETURN_IF_ERROR(import_node(gp.node(i), static_cast<size_t>(i)));
  }
  for (const auto& vi : gp.output()) {
    if (!g_.find_value(vi.name())) {
      return err(StatusCode::kNotFound,
                 "cannot import graph output '{}': value = undefined, must be produced", vi.name());
    }
    g_.add_output(vi.name());
  }
  if (g_.inputs().empty()) {
    return err(StatusCode::kInvalidArgument,
               "cannot import ONNX model: inputs = none, must be at least one");
  }
  g_.remove_dead_nodes();
  Status s = g_.validate();
  if (!s.ok()) return s.with_context(name_);
  s = infer_shapes(g_);
  if (!s.ok()) return s.with_context(name_);
  // Opset < 13 Softmax over the last axis means the same as opset 13.
  for (Node& n : g_.nodes()) {
    if (n.op_type == "Softmax" && n.has("coerce_2d")) {
      const Value* v = g_.find_value(n.input(0));
      const int64_t r = v ? static_cast<int64_t>(v->shape.size()) : 0;
      int64_t axis = n.attr_int("axis", 1);
      if (axis < 0) axis += r;
      if (axis == r - 1) {
        n.erase("coerce_2d");
        n.set("axis", int64_t{-1});
      }
    }
  }
  return std::move(g_);
}

}  // namespace

Result<Graph> parse_onnx(std::string_view bytes, std::string_view name) {
  try {
    Importer imp(name);
    return imp.run(bytes);
  } catch (const std::exception& e) {
    return data_loss("{}: cannot import ONNX model: {}", name, e.what());
  }
}

Result<Graph> load_onnx(const std::string& path) {
  EI8_ASSIGN_OR_RETURN(std::string bytes, read_file(path));
  return parse_onnx(bytes, path);
}

}  // namespace ei8
