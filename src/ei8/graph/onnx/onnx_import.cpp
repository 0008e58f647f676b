// ONNX → IR. See onnx_io.h for what is accepted.
#include <fmt/ranges.h>
#include <onnx/onnx_pb.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <optional>
#include <set>

#include "ei8/core/npy.h"
#include "ei8/graph/onnx/onnx_io.h"
#include "ei8/graph/shape_inference.h"

namespace ei8 {
namespace {

constexpr int64_t kMaxElements = int64_t{1} << 31;  // per tensor
// 19–21 change nothing this importer reads (21: int16/int4 Q/DQ, which A16W8 files use).
constexpr int64_t kMinOpset = 7, kMaxOpset = 21;

// Shape arithmetic (what exporters write around Reshape, Slice, Expand: Shape, Gather, Concat,
// Add, Div, ...) is evaluated here, at import, on int64 "shape values": small tensors whose
// elements are SymDims. A SymDim is known (a constant) or an expression over runtime
// dimensions: dim(value, axis) of a tensor whose size is known only when the graph runs (the
// dynamic batch), combined with + - * / % min max. Known elements fold as they are computed.
// Where a tensor op consumes a shape value, known elements become its canonical attributes and
// a runtime dimension becomes what the IR can evaluate at prepare from the node's own input
// shapes: Reshape 0 (copy the input's dim) or -1 (infer), a Slice end "to the end", an Expand
// entry taken from a `like` input (shape_inference.h). Anything else is a clear error.
struct SymExpr;
struct SymDim {
  int64_t value = 0;                    // when known
  std::shared_ptr<const SymExpr> expr;  // null when known
  bool is_const() const { return !expr; }
  static SymDim known(int64_t v) { return SymDim{v, nullptr}; }
  static SymDim dim(const std::string& of, int64_t axis);
};
struct SymExpr {
  char op = 'd';  // 'd' = dim(of, axis); else one of + - * / % < (min) > (max)
  std::string of;
  int64_t axis = 0;
  SymDim a, b;
  int64_t size = 1;  // nodes of the expression written out as a tree (bounds every walk)
};
// Largest expression of runtime sizes the importer builds (tree nodes): what exporters write is
// a handful; a file nesting more (say x + x, repeated) is refused before walks get expensive.
constexpr int64_t kMaxSymExprSize = 256;
SymDim SymDim::dim(const std::string& of, int64_t axis) {
  auto e = std::make_shared<SymExpr>();
  e->of = of;
  e->axis = axis;
  return SymDim{0, std::move(e)};
}
// Structural equality (equal expressions have equal values).
bool same(const SymDim& x, const SymDim& y) {
  if (x.is_const() || y.is_const()) return x.is_const() && y.is_const() && x.value == y.value;
  const SymExpr& a = *x.expr;
  const SymExpr& b = *y.expr;
  if (a.op != b.op) return false;
  if (a.op == 'd') return a.of == b.of && a.axis == b.axis;
  return same(a.a, b.a) && same(a.b, b.b);
}
// True when the value is known to be >= 0 (dimensions are).
bool nonneg(const SymDim& x) {
  if (x.is_const()) return x.value >= 0;
  const SymExpr& e = *x.expr;
  switch (e.op) {
    case 'd':
      return true;
    case '+':
    case '*':
    case '/':
    case '<':
    case '>':
      return nonneg(e.a) && nonneg(e.b);
    case '%':
      return e.b.is_const() && e.b.value > 0;
    default:
      return false;
  }
}
std::string to_string(const SymDim& x) {
  if (x.is_const()) return std::to_string(x.value);
  const SymExpr& e = *x.expr;
  if (e.op == 'd') return fmt::format("dim {} of '{}'", e.axis, e.of);
  return fmt::format("({} {} {})", to_string(e.a), e.op, to_string(e.b));
}

// x op y for ONNX int64 semantics (Div truncates, Mod takes the divisor's sign as Python's %).
// Fails on division by zero and overflow.
Result<SymDim> sym_arith(char op, const SymDim& x, const SymDim& y) {
  if (x.is_const() && y.is_const()) {
    const int64_t a = x.value, b = y.value;
    int64_t r = 0;
    bool overflow = false;
    switch (op) {
      case '+':
        overflow = __builtin_add_overflow(a, b, &r);
        break;
      case '-':
        overflow = __builtin_sub_overflow(a, b, &r);
        break;
      case '*':
        overflow = __builtin_mul_overflow(a, b, &r);
        break;
      case '/':
      case '%':
        if (b == 0) return invalid_argument("divisor = 0, must be non-zero");
        if (a == std::numeric_limits<int64_t>::min() && b == -1) {
          overflow = true;
        } else if (op == '/') {
          r = a / b;
        } else {
          r = a % b;
          if (r != 0 && ((r < 0) != (b < 0))) r += b;
        }
        break;
      case '<':
        r = std::min(a, b);
        break;
      case '>':
        r = std::max(a, b);
        break;
      default:
        return internal_error("unknown shape arithmetic '{}'", op);
    }
    if (overflow) return invalid_argument("{} {} {} overflows int64, must fit", a, op, b);
    return SymDim::known(r);
  }
  // Identities that keep a runtime dimension recognisable (x + 0, x * 1, x / 1, ...).
  if (y.is_const() &&
      ((y.value == 0 && (op == '+' || op == '-')) || (y.value == 1 && (op == '*' || op == '/')))) {
    return x;
  }
  if (x.is_const() && ((x.value == 0 && op == '+') || (x.value == 1 && op == '*'))) return y;
  if (y.is_const() && y.value == 0 && (op == '/' || op == '%')) {
    return invalid_argument("divisor = 0, must be non-zero");
  }
  auto e = std::make_shared<SymExpr>();
  e->op = op;
  e->a = x;
  e->b = y;
  e->size = 1 + (x.expr ? x.expr->size : 1) + (y.expr ? y.expr->size : 1);
  if (e->size > kMaxSymExprSize) {
    return unsupported("expression of runtime sizes = {} nodes, must be <= {}", e->size,
                       kMaxSymExprSize);
  }
  return SymDim{0, std::move(e)};
}

// A small int64 tensor of the import: row-major elements and shape.
struct Sym {
  std::vector<SymDim> v;
  Shape shape;
  bool is_const() const {
    return std::all_of(v.begin(), v.end(), [](const SymDim& d) { return d.is_const(); });
  }
};

// Largest shape value the importer builds (elements).
constexpr int64_t kMaxSymElements = 4096;
// Sizes given to the runtime dimensions of the inputs (the j-th one: kProbe[k][j]) to identify
// runtime sizes (Importer::same_size); distinct primes so that unrelated sizes differ.
constexpr std::array<std::array<int64_t, 6>, 2> kProbe = {
    {{5, 11, 17, 23, 31, 41}, {7, 13, 19, 29, 37, 43}}};

// Ops that exist in the importer only, on shape values (never in the IR).
constexpr auto kShapeOnlyOps = std::to_array<std::string_view>(
    {"Shape", "ConstantOfShape", "Range", "Cast", "Equal", "Less", "Greater", "Not", "And", "Or",
     "Mod", "Neg", "Abs", "Min", "Max", "Where"});
// IR ops that, applied to shape values, are evaluated at import too.
constexpr auto kShapeValueOps = std::to_array<std::string_view>(
    {"Gather", "Slice", "Unsqueeze", "Squeeze", "Concat", "Identity", "Reshape", "Transpose",
     "Expand", "Add", "Sub", "Mul", "Div"});
bool is_shape_only_op(std::string_view op) {
  return std::find(kShapeOnlyOps.begin(), kShapeOnlyOps.end(), op) != kShapeOnlyOps.end();
}

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
  Result<Node> slice_attributes(const Node& n) const;
  std::optional<int64_t> eval_probe(const SymDim& d, int k) const;
  bool same_size(const SymDim& a, const SymDim& b) const;
  int64_t rank_of(const std::string& value) const;
  void track_shapes(const Node& n);

  std::string name_;
  int64_t opset_ = 13;
  Graph g_;
  std::map<std::string, Sym> syms_;
  // Shapes of every tensor for two "probe" sizes of the runtime dimensions (dynamic input dim j
  // = kProbe[k][j]): a runtime size is identified with a tensor dimension when both agree in
  // both probes (exact for the sums, products and exact divisions of sizes exporters compute).
  std::map<std::string, Shape> probe_[2];
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
    case onnx::TensorProto::INT16:
    case onnx::TensorProto::INT32: {
      const DType dt = t.data_type() == onnx::TensorProto::UINT8   ? DType::kU8
                       : t.data_type() == onnx::TensorProto::INT8  ? DType::kS8
                       : t.data_type() == onnx::TensorProto::INT16 ? DType::kS16
                                                                   : DType::kS32;
      EI8_RETURN_IF_ERROR(check_count(dtype_size(dt), t.int32_data_size()));
      Tensor x = Tensor::zeros(dt, shape);
      if (has_raw) {
        std::memcpy(x.raw(), raw.data(), n * dtype_size(dt));
      } else if (dt == DType::kU8) {
        copy_from_field(x.span<uint8_t>(), t.int32_data());
      } else if (dt == DType::kS8) {
        copy_from_field(x.span<int8_t>(), t.int32_data());
      } else if (dt == DType::kS16) {
        copy_from_field(x.span<int16_t>(), t.int32_data());
      } else {
        copy_from_field(x.span<int32_t>(), t.int32_data());
      }
      g_.add_initializer(name, std::move(x));
      return {};
    }
    case onnx::TensorProto::INT64: {
      EI8_RETURN_IF_ERROR(check_count(8, t.int64_data_size()));
      if (numel > kMaxSymElements) {
        return err(StatusCode::kUnsupported,
                   "cannot import tensor '{}': int64 elements = {}, must be <= {} (shape "
                   "parameters only)",
                   name, numel, kMaxSymElements);
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
        s.v.push_back(SymDim::known(v));
      }
      syms_[name] = std::move(s);
      return {};
    }
    case onnx::TensorProto::BOOL: {
      // Only as a shape value (masks of shape arithmetic).
      EI8_RETURN_IF_ERROR(check_count(1, t.int32_data_size()));
      if (numel > kMaxSymElements) {
        return err(StatusCode::kUnsupported,
                   "cannot import tensor '{}': bool elements = {}, must be <= {}", name, numel,
                   kMaxSymElements);
      }
      Sym s;
      s.shape = shape;
      for (size_t i = 0; i < n; ++i) {
        const int64_t v = has_raw ? raw[i] != 0 : t.int32_data(static_cast<int>(i)) != 0;
        s.v.push_back(SymDim::known(v));
      }
      syms_[name] = std::move(s);
      return {};
    }
    default:
      return err(StatusCode::kUnsupported,
                 "cannot import tensor '{}': data_type = {}, must be float, double, uint8, int8, "
                 "int32, int64 or bool",
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
                   "cannot import node '{}' ({}): {} entry = {}, must be known at import (not a "
                   "runtime size)",
                   n.name, n.op_type, what, to_string(d));
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
    case DType::kS16:
      return std::optional<float>(static_cast<float>(t->span<int16_t>()[0]));
  }
  return std::optional<float>{};
}

Result<Shape> Importer::current_shape(const std::string& value) {
  const Value* v = g_.find_value(value);
  if (auto it = syms_.find(value); it != syms_.end()) return it->second.shape;
  if (!v || !v->has_shape) {
    // Inference failed on the way here: the full pass names the node and the reason.
    Graph copy = g_;
    Status s = infer_shapes(copy);
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
                 "cannot import node '{}' ({}): input {} '{}' = a float tensor, must be an int64 "
                 "shape value (this op runs on shape arithmetic only)",
                 n.name, op, i, n.input(i));
    }
    return &it->second;
  };
  auto fail = [&](std::string_view what) {
    return err(StatusCode::kUnsupported, "cannot import node '{}' ({}): {}", n.name, op, what);
  };
  auto bad = [&](std::string_view what) {
    return err(StatusCode::kInvalidArgument, "cannot import node '{}' ({}): {}", n.name, op, what);
  };
  auto strides_of = [](const Shape& sh) {
    std::vector<int64_t> st(sh.size(), 1);
    for (size_t i = sh.size(); i-- > 1;) st[i - 1] = st[i] * sh[i];
    return st;
  };
  // Index of input element for output element i of a numpy broadcast to `out`.
  auto bcast_index = [&](const Shape& in, const Shape& out, int64_t i) {
    const auto ost = strides_of(out);
    const auto ist = strides_of(in);
    const size_t lead = out.size() - in.size();
    int64_t src = 0, rem = i;
    for (size_t d = 0; d < out.size(); ++d) {
      const int64_t c = rem / ost[d];
      rem %= ost[d];
      if (d >= lead && in[d - lead] != 1) src += c * ist[d - lead];
    }
    return static_cast<size_t>(src);
  };
  auto small = [&](const Shape& sh) -> Status {
    int64_t count = 1;
    for (int64_t d : sh) {
      if (d < 0 || d > kMaxSymElements) {
        return fail(fmt::format("shape value dims = {}, must be in [0, {}]", shape_to_string(sh),
                                kMaxSymElements));
      }
      count *= d;
      if (count > kMaxSymElements) {
        return fail(fmt::format("shape value shape = {}, must hold <= {} elements",
                                shape_to_string(sh), kMaxSymElements));
      }
    }
    return {};
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
      y.v.push_back(d >= 0 ? SymDim::known(d) : SymDim::dim(n.input(0), i));
    }
    y.shape = {static_cast<int64_t>(y.v.size())};
  } else if (op == "ConstantOfShape") {
    EI8_ASSIGN_OR_RETURN(const Sym* a, sym_of(0));
    Shape sh;
    for (const SymDim& d : a->v) {
      if (!d.is_const()) {
        return fail(fmt::format("shape entry = {}, must be known at import (not a runtime size)",
                                to_string(d)));
      }
      if (d.value < 0) return bad(fmt::format("shape entry = {}, must be >= 0", d.value));
      if (d.value > kMaxSymElements) return fail("shape entry too large (> 4096)");
      sh.push_back(d.value);
    }
    const onnx::TensorProto* value = nullptr;
    for (const auto& at : p.attribute()) {
      if (at.name() == "value" && at.type() == onnx::AttributeProto::TENSOR) value = &at.t();
    }
    if (value && value->data_type() != onnx::TensorProto::INT64 &&
        value->data_type() != onnx::TensorProto::BOOL) {
      // A float (or other) fill: an ordinary constant.
      int64_t count = 1;
      for (int64_t d : sh) {
        count *= d;
        if (count > kMaxElements) return fail("fill of more than 2^31 elements");
      }
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
    EI8_RETURN_IF_ERROR(small(sh));
    int64_t fill = 0;
    if (value) {
      if (value->int64_data_size() > 0) {
        fill = value->int64_data(0);
      } else if (value->int32_data_size() > 0) {
        fill = value->int32_data(0);
      } else if (value->raw_data().size() >= 8) {
        std::memcpy(&fill, value->raw_data().data(), 8);
      } else if (value->raw_data().size() == 1) {
        fill = value->raw_data()[0] != 0;
      }
    }
    y.shape = sh;
    y.v.assign(static_cast<size_t>(shape_numel(sh)), SymDim::known(fill));
  } else if (op == "Cast") {
    EI8_ASSIGN_OR_RETURN(const Sym* a, sym_of(0));
    const int64_t to = n.attr_int("to", onnx::TensorProto::INT64);
    if (to == onnx::TensorProto::FLOAT || to == onnx::TensorProto::DOUBLE) {
      // A shape value turned into floats: an ordinary f32 constant (when known).
      Tensor t = Tensor::zeros(DType::kF32, a->shape);
      for (size_t i = 0; i < a->v.size(); ++i) {
        if (!a->v[i].is_const()) {
          return fail(
              fmt::format("cast to float of {}, must be known at import", to_string(a->v[i])));
        }
        t.span<float>()[i] = static_cast<float>(a->v[i].value);
      }
      g_.add_initializer(out, std::move(t));
      return {};
    }
    y = *a;
    if (to == onnx::TensorProto::BOOL) {
      for (SymDim& d : y.v) {
        if (!d.is_const()) return fail("cast to bool of a runtime size");
        d.value = d.value != 0;
      }
    } else if (to == onnx::TensorProto::INT32) {
      for (SymDim& d : y.v) {
        if (d.is_const()) d.value = static_cast<int32_t>(d.value);
      }
    } else if (to != onnx::TensorProto::INT64) {
      return fail(fmt::format("to = {}, must be int64, int32, bool or float", to));
    }
  } else if (op == "Identity") {
    EI8_ASSIGN_OR_RETURN(const Sym* a, sym_of(0));
    y = *a;
  } else if (op == "Add" || op == "Sub" || op == "Mul" || op == "Div" || op == "Mod" ||
             op == "Min" || op == "Max" || op == "Equal" || op == "Less" || op == "Greater" ||
             op == "And" || op == "Or") {
    if (n.inputs.size() < 2 && op != "Min" && op != "Max") return bad("inputs must be 2");
    EI8_ASSIGN_OR_RETURN(const Sym* a0, sym_of(0));
    Sym acc = *a0;
    for (size_t k = 1; k < n.inputs.size(); ++k) {
      EI8_ASSIGN_OR_RETURN(const Sym* b, sym_of(k));
      auto bs = broadcast_shapes(acc.shape, b->shape);
      if (!bs.ok()) return bad(bs.status().message());
      Sym r;
      r.shape = bs.value();
      EI8_RETURN_IF_ERROR(small(r.shape));
      for (int64_t i = 0; i < shape_numel(r.shape); ++i) {
        const SymDim& u = acc.v[bcast_index(acc.shape, r.shape, i)];
        const SymDim& w = b->v[bcast_index(b->shape, r.shape, i)];
        if (op == "Equal" || op == "Less" || op == "Greater" || op == "And" || op == "Or") {
          // Comparisons: known operands, or facts about sizes (equal expressions; a size is
          // never negative).
          int64_t res = 0;
          if (u.is_const() && w.is_const()) {
            res = op == "Equal"     ? u.value == w.value
                  : op == "Less"    ? u.value < w.value
                  : op == "Greater" ? u.value > w.value
                  : op == "And"     ? (u.value != 0 && w.value != 0)
                                    : (u.value != 0 || w.value != 0);
          } else if (op == "Equal" && same_size(u, w)) {
            res = 1;
          } else if (op == "Equal" && ((w.is_const() && w.value < 0 && nonneg(u)) ||
                                       (u.is_const() && u.value < 0 && nonneg(w)))) {
            res = 0;
          } else {
            return fail(fmt::format("compares {} with {}, must be decidable at import",
                                    to_string(u), to_string(w)));
          }
          r.v.push_back(SymDim::known(res));
          continue;
        }
        if (op == "Mod" && n.attr_int("fmod", 0) != 0) return fail("fmod = 1, must be 0");
        const char c = op == "Add"   ? '+'
                       : op == "Sub" ? '-'
                       : op == "Mul" ? '*'
                       : op == "Div" ? '/'
                       : op == "Mod" ? '%'
                       : op == "Min" ? '<'
                                     : '>';
        auto v = sym_arith(c, u, w);
        if (!v.ok()) return bad(v.status().message());
        r.v.push_back(v.value());
      }
      acc = std::move(r);
    }
    y = std::move(acc);
  } else if (op == "Not" || op == "Neg" || op == "Abs") {
    EI8_ASSIGN_OR_RETURN(const Sym* a, sym_of(0));
    y = *a;
    for (SymDim& d : y.v) {
      if (op == "Abs" && nonneg(d)) continue;
      if (!d.is_const()) return fail(fmt::format("{} of {}, must be known", op, to_string(d)));
      if (d.value == std::numeric_limits<int64_t>::min()) return bad("value overflows int64");
      d.value = op == "Not" ? d.value == 0 : op == "Neg" ? -d.value : std::abs(d.value);
    }
  } else if (op == "Where") {
    EI8_ASSIGN_OR_RETURN(const Sym* c, sym_of(0));
    EI8_ASSIGN_OR_RETURN(const Sym* a, sym_of(1));
    EI8_ASSIGN_OR_RETURN(const Sym* b, sym_of(2));
    auto s1 = broadcast_shapes(c->shape, a->shape);
    if (!s1.ok()) return bad(s1.status().message());
    auto s2 = broadcast_shapes(s1.value(), b->shape);
    if (!s2.ok()) return bad(s2.status().message());
    y.shape = s2.value();
    EI8_RETURN_IF_ERROR(small(y.shape));
    for (int64_t i = 0; i < shape_numel(y.shape); ++i) {
      const SymDim& cond = c->v[bcast_index(c->shape, y.shape, i)];
      if (!cond.is_const()) return fail("condition must be known at import");
      y.v.push_back(cond.value != 0 ? a->v[bcast_index(a->shape, y.shape, i)]
                                    : b->v[bcast_index(b->shape, y.shape, i)]);
    }
  } else if (op == "Range") {
    int64_t v[3] = {0, 0, 0};
    for (size_t k = 0; k < 3; ++k) {
      EI8_ASSIGN_OR_RETURN(const Sym* a, sym_of(k));
      if (a->v.size() != 1 || !a->v[0].is_const())
        return fail("start, limit and delta must be known scalars");
      v[k] = a->v[0].value;
    }
    if (v[2] == 0) return bad("delta = 0, must be non-zero");
    const double count = std::ceil((static_cast<double>(v[1]) - static_cast<double>(v[0])) /
                                   static_cast<double>(v[2]));
    if (count > static_cast<double>(kMaxSymElements)) return fail("more than 4096 elements");
    int64_t value = v[0];
    for (int64_t i = 0; i < static_cast<int64_t>(std::max(0.0, count)); ++i) {
      y.v.push_back(SymDim::known(value));
      if (__builtin_add_overflow(value, v[2], &value)) break;
    }
    y.shape = {static_cast<int64_t>(y.v.size())};
  } else if (op == "Expand") {
    EI8_ASSIGN_OR_RETURN(const Sym* a, sym_of(0));
    EI8_ASSIGN_OR_RETURN(auto target, const_ints(n, 1, "shape"));
    auto bs = broadcast_shapes(a->shape, target);
    if (!bs.ok()) return bad(bs.status().message());
    y.shape = bs.value();
    EI8_RETURN_IF_ERROR(small(y.shape));
    for (int64_t i = 0; i < shape_numel(y.shape); ++i) {
      y.v.push_back(a->v[bcast_index(a->shape, y.shape, i)]);
    }
  } else if (op == "Gather") {
    EI8_ASSIGN_OR_RETURN(const Sym* a, sym_of(0));
    EI8_ASSIGN_OR_RETURN(const Sym* idx, sym_of(1));
    if (n.attr_int("axis", 0) != 0 || a->shape.size() != 1)
      return fail("must gather from a 1-D vector on axis 0");
    y.shape = idx->shape;
    const int64_t r = static_cast<int64_t>(a->v.size());
    for (const SymDim& d : idx->v) {
      if (!d.is_const()) return fail("index must be known at import");
      const int64_t i = d.value < 0 ? d.value + r : d.value;
      if (i < 0 || i >= r) {
        return bad(fmt::format("index = {}, must be in [{}, {}]", d.value, -r, r - 1));
      }
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
        if (ax < 0 || ax > static_cast<int64_t>(y.shape.size())) return bad("axis out of range");
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
    if (parts.empty()) return bad("no inputs");
    const int64_t r = static_cast<int64_t>(parts[0]->shape.size());
    int64_t axis = n.attr_int("axis", 0);
    if (axis < 0) axis += r;
    if (axis < 0 || axis >= r) return bad("axis out of range");
    y.shape = parts[0]->shape;
    y.shape[static_cast<size_t>(axis)] = 0;
    int64_t outer = 1;
    for (int64_t i = 0; i < axis; ++i) outer *= parts[0]->shape[static_cast<size_t>(i)];
    for (const Sym* a : parts) {
      if (static_cast<int64_t>(a->shape.size()) != r) return bad("inputs must have equal rank");
      for (int64_t d = 0; d < r; ++d) {
        if (d != axis &&
            a->shape[static_cast<size_t>(d)] != parts[0]->shape[static_cast<size_t>(d)]) {
          return bad("inputs must have equal dims off the axis");
        }
      }
      y.shape[static_cast<size_t>(axis)] += a->shape[static_cast<size_t>(axis)];
    }
    EI8_RETURN_IF_ERROR(small(y.shape));
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
    if (perm.size() != a->shape.size()) return bad("perm length must equal the rank");
    const auto st = strides_of(a->shape);
    std::vector<bool> seen(a->shape.size(), false);
    for (int64_t pi : perm) {
      if (pi < 0 || pi >= static_cast<int64_t>(a->shape.size()) || seen[static_cast<size_t>(pi)]) {
        return bad("perm must be a permutation of the axes");
      }
      seen[static_cast<size_t>(pi)] = true;
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
    EI8_ASSIGN_OR_RETURN(Node sl, slice_attributes(n));
    auto w = slice_window(sl, a->shape);
    if (!w.ok()) return w.status().with_context(name_);
    Shape osh = w.value().count;
    const auto ist = strides_of(a->shape);
    const auto ost = strides_of(osh);
    for (int64_t i = 0; i < shape_numel(osh); ++i) {
      int64_t src = 0, rem = i;
      for (size_t d = 0; d < osh.size(); ++d) {
        const int64_t c = rem / ost[d];
        rem %= ost[d];
        src += (w.value().start[d] + c * w.value().step[d]) * ist[d];
      }
      y.v.push_back(a->v[static_cast<size_t>(src)]);
    }
    y.shape = osh;
  } else {
    return fail("op is not supported on shape values");
  }
  if (static_cast<int64_t>(y.v.size()) != shape_numel(y.shape)) {
    return err(StatusCode::kInternal, "node '{}' ({}): shape arithmetic size mismatch", n.name, op);
  }
  syms_[out] = std::move(y);
  return {};
}

// The value of `d` in probe k, or nullopt (a probe shape unknown, a division by zero).
std::optional<int64_t> Importer::eval_probe(const SymDim& d, int k) const {
  if (d.is_const()) return d.value;
  const SymExpr& e = *d.expr;
  if (e.op == 'd') {
    auto it = probe_[k].find(e.of);
    if (it == probe_[k].end() || e.axis < 0 || e.axis >= static_cast<int64_t>(it->second.size()))
      return std::nullopt;
    return it->second[static_cast<size_t>(e.axis)];
  }
  const auto a = eval_probe(e.a, k), b = eval_probe(e.b, k);
  if (!a || !b) return std::nullopt;
  auto r = sym_arith(e.op, SymDim::known(*a), SymDim::known(*b));
  if (!r.ok()) return std::nullopt;
  return r.value().value;
}

// True when `a` and `b` are the same size: the same expression, or equal in both probes.
bool Importer::same_size(const SymDim& a, const SymDim& b) const {
  if (same(a, b)) return true;
  for (int k = 0; k < 2; ++k) {
    const auto x = eval_probe(a, k), y = eval_probe(b, k);
    if (!x || !y || *x != *y) return false;
  }
  return true;
}

// Rank of a tensor or shape value of the import (0 when unknown).
int64_t Importer::rank_of(const std::string& value) const {
  if (auto it = syms_.find(value); it != syms_.end()) {
    return static_cast<int64_t>(it->second.shape.size());
  }
  const Value* v = g_.find_value(value);
  return v && v->has_shape ? static_cast<int64_t>(v->shape.size()) : 0;
}

// Slice's starts/ends/axes/steps (inputs from opset 10, attributes before) as canonical
// attributes on a copy of `n`. An end that is the runtime size of the sliced axis of input 0
// (x[:, :x.shape[1]]) means "to the end".
Result<Node> Importer::slice_attributes(const Node& n) const {
  Node s = n;
  if (opset_ < 10) {
    s.inputs.resize(1);
    return s;
  }
  EI8_ASSIGN_OR_RETURN(auto starts, const_ints(n, 1, "starts"));
  std::vector<int64_t> axes;
  if (n.inputs.size() > 3 && !n.input(3).empty()) {
    EI8_ASSIGN_OR_RETURN(axes, const_ints(n, 3, "axes"));
    s.set("axes", axes);
  }
  if (n.inputs.size() > 4 && !n.input(4).empty()) {
    EI8_ASSIGN_OR_RETURN(auto steps, const_ints(n, 4, "steps"));
    s.set("steps", steps);
  }
  std::vector<int64_t> ends;
  auto it = syms_.find(n.input(2));
  if (it != syms_.end()) {
    for (size_t i = 0; i < it->second.v.size(); ++i) {
      const SymDim& d = it->second.v[i];
      int64_t axis = i < axes.size() ? axes[i] : static_cast<int64_t>(i);
      if (axis < 0) axis += rank_of(n.input(0));
      if (d.is_const()) {
        ends.push_back(d.value);
      } else if (same_size(d, SymDim::dim(n.input(0), axis))) {
        ends.push_back(std::numeric_limits<int64_t>::max());
      } else {
        return err(StatusCode::kUnsupported,
                   "cannot import node '{}' (Slice): end {} = {}, must be known at import or the "
                   "size of the sliced axis",
                   n.name, i, to_string(d));
      }
    }
  } else {
    EI8_ASSIGN_OR_RETURN(ends, const_ints(n, 2, "ends"));
  }
  s.set("starts", starts);
  s.set("ends", ends);
  s.inputs.resize(1);
  return s;
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
          s.v.push_back(SymDim::known(a.i()));
        } else {
          for (int64_t v : a.ints()) s.v.push_back(SymDim::known(v));
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
  // Shape arithmetic on int64 values: ops that exist only there, and tensor ops whose data
  // input is a shape value.
  bool any_sym = false;
  for (const auto& in : n.inputs) any_sym = any_sym || (!in.empty() && syms_.count(in));
  const bool data_sym = op == "Where" ? syms_.count(n.input(1)) > 0
                        : op == "Concat" || op == "Add" || op == "Sub" || op == "Mul" || op == "Div"
                            ? any_sym
                            : syms_.count(n.input(0)) > 0;
  if (is_shape_only_op(op) || (data_sym && std::find(kShapeValueOps.begin(), kShapeValueOps.end(),
                                                     op) != kShapeValueOps.end())) {
    node_names_.insert(n.name);
    return import_shape_op(p, n);
  }
  if (!is_supported_op(op)) {
    return err(StatusCode::kUnsupported,
               "cannot import node '{}': op_type = {}, must be one of the supported operators "
               "(see `edgeint8 info --help`)",
               n.name, op);
  }
  // An int64 value flowing into a tensor op means a shape computation we do not model.
  for (size_t i = 0; i < n.inputs.size(); ++i) {
    const bool param =
        (i >= 1 && (op == "Pad" || op == "Clip" || op == "Slice" || op == "Dropout")) ||
        (i == 1 && (op == "Reshape" || op == "Squeeze" || op == "Unsqueeze" || op == "Split" ||
                    op == "Expand" || op == "Gather" || op == "ReduceMean" || op == "ReduceSum" ||
                    op == "ReduceMax"));
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
        } else if (same_size(d, SymDim::dim(n.input(0), static_cast<int64_t>(i)))) {
          shape.push_back(0);  // copies the same dimension of the data
        } else {
          shape.push_back(-1);
          ++unknown;
        }
      }
      if (unknown > 0 && std::count(shape.begin(), shape.end(), -1) > 1) {
        std::vector<std::string> dims;
        for (const SymDim& d : it->second.v) dims.push_back(to_string(d));
        return err(StatusCode::kUnsupported,
                   "cannot import node '{}' (Reshape): shape = [{}], must have at most one entry "
                   "that is -1 or a runtime size other than the input's own dimension",
                   n.name, fmt::join(dims, ", "));
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
  } else if (op == "Slice") {
    EI8_ASSIGN_OR_RETURN(Node sl, slice_attributes(n));
    n.attrs = std::move(sl.attrs);
    n.inputs.resize(1);
  } else if (op == "Split") {
    if (n.inputs.size() > 1 && !n.input(1).empty()) {
      EI8_ASSIGN_OR_RETURN(auto split, const_ints(n, 1, "split"));
      n.set("split", split);
    }
    n.erase("num_outputs");
    n.inputs.resize(1);
  } else if (op == "ReduceMean" || op == "ReduceSum" || op == "ReduceMax") {
    if (n.inputs.size() > 1 && !n.input(1).empty()) {
      EI8_ASSIGN_OR_RETURN(auto axes, const_ints(n, 1, "axes"));
      n.set("axes", axes);
    }
    n.inputs.resize(1);
    if (n.attr_int("noop_with_empty_axes", 0) != 0 && n.attr_ints("axes").empty()) {
      n.op_type = "Identity";
      n.attrs.clear();
    }
    n.erase("noop_with_empty_axes");
  } else if (op == "Gather") {
    auto it = syms_.find(n.input(1));
    const Tensor* t32 = g_.constant(n.input(1));
    if (it == syms_.end() && !(t32 && t32->dtype() == DType::kS32)) {
      return err(StatusCode::kUnsupported,
                 "cannot import node '{}' (Gather): indices '{}' = a runtime tensor, must be a "
                 "constant",
                 n.name, n.input(1));
    }
    EI8_ASSIGN_OR_RETURN(auto idx, const_ints(n, 1, "indices"));
    n.set("indices", idx);
    n.set("indices_shape", it != syms_.end() ? it->second.shape : t32->shape());
    n.inputs.resize(1);
  } else if (op == "Expand") {
    auto it = syms_.find(n.input(1));
    if (it == syms_.end()) {
      return err(StatusCode::kUnsupported,
                 "cannot import node '{}' (Expand): shape '{}' = a runtime tensor, must be "
                 "constant or computed from Shape",
                 n.name, n.input(1));
    }
    std::vector<int64_t> shape, like_axes;
    std::string like;
    for (const SymDim& d : it->second.v) {
      if (d.is_const()) {
        shape.push_back(d.value);
        like_axes.push_back(-1);
      } else if (d.expr->op == 'd' && (like.empty() || like == d.expr->of)) {
        like = d.expr->of;
        shape.push_back(1);
        like_axes.push_back(d.expr->axis);
      } else {
        return err(StatusCode::kUnsupported,
                   "cannot import node '{}' (Expand): shape entry = {}, must be known at import or "
                   "one runtime dimension of one tensor",
                   n.name, to_string(d));
      }
    }
    n.set("shape", shape);
    n.inputs.resize(1);
    if (!like.empty()) {
      n.set("like_axes", like_axes);
      n.inputs.push_back(like);
    }
  } else if (op == "Softmax") {
    if (opset_ < 13) {
      n.set("coerce_2d", int64_t{1});
      if (!n.has("axis")) n.set("axis", int64_t{1});
    }
  } else if (op == "Dropout" || op == "BatchNormalization" || op == "MaxPool") {
    // Dropout's mask: dropped (a later reader fails as "input not defined").
    if (op == "Dropout") n.outputs.resize(1);
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
      // Inference: the identity, unless training_mode = true with a non-zero ratio.
      auto mode = syms_.find(n.input(2));
      const bool training = mode != syms_.end() && !mode->second.v.empty() &&
                            mode->second.v[0].is_const() && mode->second.v[0].value != 0;
      if (training) {
        EI8_ASSIGN_OR_RETURN(auto ratio, const_float(n, 1));
        if (ratio.value_or(0.5f) != 0.0f) {
          return err(StatusCode::kUnsupported,
                     "cannot import node '{}' (Dropout): training_mode = true with ratio = {}, "
                     "must be inference (training_mode false or ratio 0)",
                     n.name, ratio.value_or(0.5f));
        }
      }
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
  Node& added = g_.add_node(n.op_type, n.name, n.inputs, n.outputs);
  added.attrs = std::move(n.attrs);
  track_shapes(added);
  return {};
}

// Shapes of the outputs of a node just added, from its inputs' (so that Shape can read them);
// left unknown when inference fails here (infer_shapes reports it at the end).
void Importer::track_shapes(const Node& n) {
  std::vector<Shape> in;
  std::vector<DType> types;
  for (const auto& name : n.inputs) {
    if (name.empty()) {
      in.emplace_back();
      types.push_back(DType::kF32);
      continue;
    }
    const Value* v = g_.find_value(name);
    if (!v || !v->has_shape) return;
    in.push_back(v->shape);
    types.push_back(v->dtype);
  }
  for (int k = 0; k < 2; ++k) {
    std::vector<Shape> pin;
    for (const auto& name : n.inputs) {
      if (name.empty()) {
        pin.emplace_back();
        continue;
      }
      const Tensor* c = g_.constant(name);
      auto it = probe_[k].find(name);
      if (!c && it == probe_[k].end()) break;
      pin.push_back(c ? c->shape() : it->second);
    }
    if (pin.size() != n.inputs.size()) continue;
    auto ps = infer_node_shapes(g_, n, pin);
    if (!ps.ok()) continue;
    for (size_t i = 0; i < n.outputs.size() && i < ps.value().size(); ++i) {
      if (!n.outputs[i].empty()) probe_[k][n.outputs[i]] = ps.value()[i];
    }
  }
  auto shapes = infer_node_shapes(g_, n, in);
  auto dtypes = infer_node_dtypes(g_, n, types);
  if (!shapes.ok() || !dtypes.ok()) return;
  for (size_t i = 0; i < n.outputs.size() && i < shapes.value().size(); ++i) {
    Value* v = g_.find_value(n.outputs[i]);
    if (!v || n.outputs[i].empty()) continue;
    v->shape = shapes.value()[i];
    v->has_shape = true;
    v->dtype = dtypes.value()[std::min(i, dtypes.value().size() - 1)];
  }
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
  size_t dynamic_dims = 0;  // runtime dimensions of the inputs so far (probe index)
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
      case onnx::TensorProto::INT16:
        dt = DType::kS16;
        break;
      default:
        return err(StatusCode::kUnsupported,
                   "cannot import graph input '{}': elem_type = {}, must be float, uint8, int8, "
                   "int16 or int32",
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
    for (int k = 0; k < 2; ++k) {
      Shape ps = s;
      for (int64_t& d : ps) {
        if (d < 0) d = kProbe[k][std::min<size_t>(dynamic_dims, kProbe[k].size() - 1)];
      }
      probe_[k][vi.name()] = ps;
    }
    for (int64_t d : s) dynamic_dims += d < 0;
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

std::span<const std::string_view> import_time_ops() { return kShapeOnlyOps; }
std::span<const std::string_view> shape_value_ops() { return kShapeValueOps; }

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
