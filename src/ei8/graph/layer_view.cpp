#include "ei8/graph/layer_view.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>

#include "ei8/graph/shape_inference.h"

namespace ei8 {
namespace {

template <typename... Args>
Status layer_error(const Node& n, fmt::format_string<Args...> f, Args&&... args) {
  return invalid_argument("cannot decode layer '{}' ({}): {}", n.name, n.op_type,
                          fmt::format(f, std::forward<Args>(args)...));
}

constexpr std::array<std::string_view, 14> kLayerOps = {"Conv",
                                                        "QLinearConv",
                                                        "Gemm",
                                                        "MatMul",
                                                        "QLinearMatMul",
                                                        "QGemm",
                                                        "MatMulIntegerToFloat",
                                                        "MaxPool",
                                                        "AveragePool",
                                                        "QMaxPool",
                                                        "QLinearAveragePool",
                                                        "GlobalAveragePool",
                                                        "QLinearGlobalAveragePool",
                                                        "GlobalMaxPool"};

bool is_conv(std::string_view op) { return op == "Conv" || op == "QLinearConv"; }
bool is_fc(std::string_view op) {
  return op == "Gemm" || op == "MatMul" || op == "QLinearMatMul" || op == "QGemm" ||
         op == "MatMulIntegerToFloat";
}
bool is_global_pool(std::string_view op) {
  return op == "GlobalAveragePool" || op == "QLinearGlobalAveragePool" || op == "GlobalMaxPool";
}

// Input indices of the operands of each layer op.
size_t weight_index(std::string_view op) {
  return op == "QLinearConv" || op == "QLinearMatMul" || op == "QGemm" ? 3 : 1;
}
size_t bias_index(std::string_view op) {
  if (op == "QLinearConv") return 8;
  if (op == "QGemm" || op == "MatMulIntegerToFloat") return 6;
  if (op == "Conv" || op == "Gemm") return 2;
  return SIZE_MAX;
}

const Shape* shape_at(std::span<const Shape> shapes, size_t i) {
  return i < shapes.size() && !shapes[i].empty() ? &shapes[i] : nullptr;
}

Status decode_conv(const Node& n, std::span<const Shape> in, std::span<const Shape> out,
                   LayerGeometry& l) {
  const Shape* xs = shape_at(in, 0);
  const Shape* ws = shape_at(in, weight_index(n.op_type));
  if (xs == nullptr || ws == nullptr) return layer_error(n, "input or weight shape unknown");
  const Shape& x = *xs;
  const Shape& w = *ws;
  if (x.size() != 3 && x.size() != 4) {
    return layer_error(n, "input rank = {}, must be 3 (N,C,L) or 4 (N,C,H,W)", x.size());
  }
  if (w.size() != x.size()) {
    return layer_error(n, "weight rank = {}, must be the input rank {}", w.size(), x.size());
  }
  l.kind = LayerKind::kConv;
  l.spatial_rank = static_cast<int>(x.size()) - 2;
  l.weight_rank = static_cast<int>(w.size());
  l.groups = n.attr_int("group", 1);
  if (l.groups < 1) return layer_error(n, "group = {}, must be >= 1", l.groups);
  l.batch = x[0];
  l.in_channels = x[1];
  l.out_channels = w[0];
  if (l.in_channels != kDynamic && l.in_channels != w[1] * l.groups) {
    return layer_error(n, "input channels = {}, must be weight dim 1 ({}) x group ({})",
                       l.in_channels, w[1], l.groups);
  }
  if (l.out_channels % l.groups != 0) {
    return layer_error(n, "output channels = {}, must be a multiple of group = {}", l.out_channels,
                       l.groups);
  }
  const std::vector<int64_t> kernel(w.begin() + 2, w.end());
  const std::vector<int64_t> kattr = n.attr_ints("kernel_shape");
  if (!kattr.empty() && kattr != kernel) {
    return layer_error(n, "kernel_shape differs from the weight shape");
  }
  EI8_ASSIGN_OR_RETURN(Window win, decode_window(n, std::span(x.data() + 2, x.size() - 2), kernel));
  const size_t k = kernel.size();
  if (l.spatial_rank == 1) {
    l.in_w = x[2];
    l.kernel_w = kernel[0];
    l.stride_w = win.strides[0];
    l.dilation_w = win.dilations[0];
    l.pad_left = win.pads[0];
    l.pad_right = win.pads[k];
  } else {
    l.in_h = x[2], l.in_w = x[3];
    l.kernel_h = kernel[0], l.kernel_w = kernel[1];
    l.stride_h = win.strides[0], l.stride_w = win.strides[1];
    l.dilation_h = win.dilations[0], l.dilation_w = win.dilations[1];
    l.pad_top = win.pads[0], l.pad_left = win.pads[1];
    l.pad_bottom = win.pads[2], l.pad_right = win.pads[3];
  }
  auto out_dim = [](int64_t size, int64_t pb, int64_t pe, int64_t kk, int64_t s, int64_t d) {
    return size == kDynamic ? kDynamic : (size + pb + pe - d * (kk - 1) - 1) / s + 1;
  };
  l.out_h = l.spatial_rank == 1
                ? 1
                : out_dim(l.in_h, l.pad_top, l.pad_bottom, l.kernel_h, l.stride_h, l.dilation_h);
  l.out_w = out_dim(l.in_w, l.pad_left, l.pad_right, l.kernel_w, l.stride_w, l.dilation_w);
  if ((l.out_h != kDynamic && l.out_h < 1) || (l.out_w != kDynamic && l.out_w < 1)) {
    return layer_error(n,
                       "output size = {}x{}, must be at least 1x1 (kernel larger than the "
                       "padded input)",
                       l.out_h, l.out_w);
  }
  if (const Shape* ys = shape_at(out, 0); ys != nullptr && ys->size() == x.size()) {
    const int64_t want_w = ys->back(), want_h = ys->size() == 4 ? (*ys)[2] : 1;
    if ((want_w != kDynamic && l.out_w != kDynamic && want_w != l.out_w) ||
        (want_h != kDynamic && l.out_h != kDynamic && want_h != l.out_h)) {
      return layer_error(n, "output shape = {}, must have spatial size {}x{}", shape_to_string(*ys),
                         l.out_h, l.out_w);
    }
  }
  return {};
}

Status decode_fc(const Node& n, std::span<const Shape> in, LayerGeometry& l) {
  const Shape* as = shape_at(in, 0);
  const Shape* bs = shape_at(in, weight_index(n.op_type));
  if (as == nullptr || bs == nullptr) return layer_error(n, "operand shapes unknown");
  Shape a = *as, b = *bs;
  l.kind = LayerKind::kFullyConnected;
  l.spatial_rank = 0;
  l.weight_rank = static_cast<int>(bs->size());
  const bool gemm = n.op_type == "Gemm" || n.op_type == "QGemm";
  if (gemm) {
    if (a.size() != 2 || b.size() != 2) {
      return layer_error(n, "operand ranks = {}/{}, must be 2", a.size(), b.size());
    }
    const bool ta = n.attr_int("transA", 0) != 0;
    l.trans_a = ta;
    l.trans_b = n.attr_int("transB", 0) != 0;
    l.alpha = n.attr_float("alpha", 1.0f);
    l.beta = n.attr_float("beta", 1.0f);
    if (ta) {
      l.batch = 1, l.rows_per_sample = a[1], l.in_channels = a[0];
    } else {
      l.batch = a[0], l.in_channels = a[1];
    }
    if ((l.trans_b ? b[1] : b[0]) != l.in_channels && l.in_channels != kDynamic) {
      return layer_error(n, "inner dimensions = {} and {}, must be equal", l.in_channels,
                         l.trans_b ? b[1] : b[0]);
    }
    l.out_channels = l.trans_b ? b[0] : b[1];
    return {};
  }
  if (a.empty() || b.empty()) return layer_error(n, "operand rank 0, must be >= 1");
  if (a.size() == 1) a.insert(a.begin(), 1);
  if (b.size() == 1) b = Shape{b[0], 1};
  l.batch = a.size() >= 2 ? a[0] : 1;
  for (size_t i = 1; i + 1 < a.size(); ++i) {
    if (a[i] == kDynamic) return layer_error(n, "A dimension {} is dynamic, must be known", i);
    l.rows_per_sample *= a[i];
  }
  l.in_channels = a.back();
  l.out_channels = b.back();
  for (size_t i = 0; i + 2 < b.size(); ++i) l.weight_batches *= b[i];
  if (b[b.size() - 2] != l.in_channels) {
    return layer_error(n, "inner dimensions = {} and {}, must be equal", l.in_channels,
                       b[b.size() - 2]);
  }
  return {};
}

Status decode_pool(const Node& n, std::span<const Shape> in, std::span<const Shape> out,
                   LayerGeometry& l) {
  const Shape* xs = shape_at(in, 0);
  if (xs == nullptr) return layer_error(n, "input shape unknown");
  const Shape& x = *xs;
  if (x.size() != 3 && x.size() != 4) {
    return layer_error(n, "input rank = {}, must be 3 or 4", x.size());
  }
  const std::string_view op = n.op_type;
  l.kind = op == "MaxPool" || op == "QMaxPool" ? LayerKind::kMaxPool
           : op == "GlobalMaxPool"             ? LayerKind::kGlobalMaxPool
           : is_global_pool(op)                ? LayerKind::kGlobalAvgPool
                                               : LayerKind::kAvgPool;
  l.spatial_rank = static_cast<int>(x.size()) - 2;
  l.batch = x[0];
  l.in_channels = l.out_channels = x[1];
  l.groups = 1;
  l.in_h = x.size() == 4 ? x[2] : 1;
  l.in_w = x.back();
  if (is_global_pool(op)) {
    l.kernel_h = l.in_h, l.kernel_w = l.in_w;
    l.out_h = l.out_w = 1;
    return {};
  }
  const std::vector<int64_t> kernel = n.attr_ints("kernel_shape");
  if (kernel.size() + 2 != x.size()) {
    return layer_error(n, "kernel_shape rank = {}, must be input rank - 2 = {}", kernel.size(),
                       x.size() - 2);
  }
  EI8_ASSIGN_OR_RETURN(Window win, decode_window(n, std::span(x.data() + 2, x.size() - 2), kernel));
  const size_t k = kernel.size();
  if (k == 1) {
    l.kernel_w = kernel[0];
    l.stride_w = win.strides[0];
    l.dilation_w = win.dilations[0];
    l.pad_left = win.pads[0];
    l.pad_right = win.pads[1];
  } else {
    l.kernel_h = kernel[0], l.kernel_w = kernel[1];
    l.stride_h = win.strides[0], l.stride_w = win.strides[1];
    l.dilation_h = win.dilations[0], l.dilation_w = win.dilations[1];
    l.pad_top = win.pads[0], l.pad_left = win.pads[1];
    l.pad_bottom = win.pads[2], l.pad_right = win.pads[3];
  }
  l.ceil_mode = n.attr_int("ceil_mode", 0) != 0;
  l.count_include_pad = n.attr_int("count_include_pad", 0) != 0;
  // The output size from shape inference (it covers ceil_mode).
  const Shape* ys = shape_at(out, 0);
  if (ys == nullptr || ys->size() != x.size()) return layer_error(n, "output shape unknown");
  l.out_h = ys->size() == 4 ? (*ys)[2] : 1;
  l.out_w = ys->back();
  return {};
}

// ---- quantization parameters from the graph ---------------------------------------------------

// Constant scales and zero points of a (scale, zero point) input pair.
Result<OperandQuant> constant_quant(const Graph& g, const Node& n, std::string value,
                                    size_t scale_input, size_t zp_input, DType dtype) {
  OperandQuant q;
  q.value = std::move(value);
  q.dtype = dtype;
  const Tensor* s = g.constant(n.input(scale_input));
  if (s == nullptr || s->dtype() != DType::kF32 || s->numel() < 1) {
    return layer_error(n, "input {} (scale) = '{}', must be a f32 constant", scale_input,
                       n.input(scale_input));
  }
  q.scales.assign(s->span<float>().begin(), s->span<float>().end());
  const Tensor* z = n.input(zp_input).empty() ? nullptr : g.constant(n.input(zp_input));
  if (!n.input(zp_input).empty() && z == nullptr) {
    return layer_error(n, "input {} (zero point) = '{}', must be a constant", zp_input,
                       n.input(zp_input));
  }
  if (z != nullptr) {
    q.dtype = z->dtype();
    for (int64_t i = 0; i < z->numel(); ++i) {
      switch (z->dtype()) {
        case DType::kU8:
          q.zero_points.push_back(z->span<uint8_t>()[static_cast<size_t>(i)]);
          break;
        case DType::kS8:
          q.zero_points.push_back(z->span<int8_t>()[static_cast<size_t>(i)]);
          break;
        case DType::kS32:
          q.zero_points.push_back(z->span<int32_t>()[static_cast<size_t>(i)]);
          break;
        case DType::kS16:
          q.zero_points.push_back(z->span<int16_t>()[static_cast<size_t>(i)]);
          break;
        default:
          return layer_error(n, "zero point '{}' dtype = {}, must be u8, s8 or s32",
                             n.input(zp_input), dtype_name(z->dtype()));
      }
    }
  }
  if (q.zero_points.empty()) q.zero_points.push_back(0);
  if (q.zero_points.size() == 1 && q.scales.size() > 1) {
    q.zero_points.assign(q.scales.size(), q.zero_points[0]);
  }
  if (q.zero_points.size() != q.scales.size()) {
    return layer_error(n, "zero points = {}, must be {} (one per scale)", q.zero_points.size(),
                       q.scales.size());
  }
  return q;
}

bool is_layout_op(std::string_view op) {
  return op == "Flatten" || op == "Reshape" || op == "Identity" || op == "Squeeze" ||
         op == "Unsqueeze";
}

// The DequantizeLinear producing `value`, looking through value-preserving layout ops; or the
// reason there is none.
Result<const Node*> dequantizer_of(const Graph& g, const std::string& value) {
  std::string v = value;
  for (int hops = 0; hops < 16; ++hops) {
    const Node* p = g.producer(v);
    if (p == nullptr) {
      return invalid_argument("'{}' is a float {}, not dequantized from an integer tensor", value,
                              g.constant(v) != nullptr ? "constant" : "graph input");
    }
    if (p->op_type == "DequantizeLinear") return p;
    if (!is_layout_op(p->op_type)) {
      return invalid_argument("'{}' comes from a float {} node '{}', not from DequantizeLinear",
                              value, p->op_type, p->name);
    }
    v = p->input(0);
  }
  return invalid_argument("'{}': more than 16 layout nodes before a DequantizeLinear", value);
}

Result<OperandQuant> dq_operand(const Graph& g, const Node& dq) {
  const Value* src = g.find_value(dq.input(0));
  const DType t = src != nullptr ? src->dtype : DType::kU8;
  return constant_quant(g, dq, dq.input(0), 1, 2, t);
}

// The QuantizeLinear that quantizes `value` (directly, or after one Relu/Clip), if any.
const Node* quantizer_after(const Graph& g, const std::string& value, std::string* activation) {
  const std::vector<size_t> uses = g.consumers(value);
  if (uses.size() != 1 || g.is_graph_output(value)) return nullptr;
  const Node& c = g.nodes()[uses[0]];
  if (c.op_type == "QuantizeLinear") return &c;
  if ((c.op_type == "Relu" || c.op_type == "Clip") && !c.outputs.empty()) {
    const std::vector<size_t> next = g.consumers(c.outputs[0]);
    if (next.size() == 1 && g.nodes()[next[0]].op_type == "QuantizeLinear") {
      *activation = c.op_type;
      return &g.nodes()[next[0]];
    }
  }
  return nullptr;
}

DType value_dtype(const Graph& g, const std::string& v, DType def) {
  const Value* p = v.empty() ? nullptr : g.find_value(v);
  return p != nullptr ? p->dtype : def;
}

// Quantization of a MAC layer; an error says why the layer has none.
Result<LayerQuant> layer_quant(const Graph& g, const Node& n) {
  LayerQuant q;
  const std::string_view op = n.op_type;
  if (op == "QLinearConv" || op == "QLinearMatMul" || op == "QGemm") {
    q.form = "qlinear";
    const size_t ys = op == "QGemm" ? 7 : 6;
    EI8_ASSIGN_OR_RETURN(q.input,
                         constant_quant(g, n, n.input(0), 1, 2, value_dtype(g, n.input(0), {})));
    EI8_ASSIGN_OR_RETURN(q.weight,
                         constant_quant(g, n, n.input(3), 4, 5, value_dtype(g, n.input(3), {})));
    if (n.inputs.size() > ys + 1) {
      EI8_ASSIGN_OR_RETURN(OperandQuant y, constant_quant(g, n, n.outputs[0], ys, ys + 1,
                                                          value_dtype(g, n.outputs[0], {})));
      q.output = std::move(y);
    }
    const size_t bi = bias_index(op);
    if (bi < n.inputs.size() && !n.input(bi).empty()) {
      OperandQuant b;
      b.value = n.input(bi);
      b.dtype = DType::kS32;
      for (size_t c = 0; c < q.weight.scales.size(); ++c) {
        b.scales.push_back(q.input.scales[0] * q.weight.scales[c]);
        b.zero_points.push_back(0);
      }
      q.bias = std::move(b);
    }
    return q;
  }
  if (op == "MatMulIntegerToFloat") {
    // (A, B, a_scale, b_scale, a_zero_point, b_zero_point[, float bias]); the output is float.
    q.form = "qlinear";
    EI8_ASSIGN_OR_RETURN(q.input,
                         constant_quant(g, n, n.input(0), 2, 4, value_dtype(g, n.input(0), {})));
    EI8_ASSIGN_OR_RETURN(q.weight,
                         constant_quant(g, n, n.input(1), 3, 5, value_dtype(g, n.input(1), {})));
    return q;
  }
  q.form = "qdq";
  EI8_ASSIGN_OR_RETURN(const Node* dx, dequantizer_of(g, n.input(0)));
  EI8_ASSIGN_OR_RETURN(q.input, dq_operand(g, *dx));
  const std::string& w = n.input(1);
  const Node* dw = g.producer(w);
  if (dw == nullptr || dw->op_type != "DequantizeLinear" || g.constant(dw->input(0)) == nullptr) {
    return invalid_argument("weight '{}' is not DequantizeLinear of an integer constant", w);
  }
  EI8_ASSIGN_OR_RETURN(q.weight, dq_operand(g, *dw));
  const size_t bi = bias_index(op);
  if (bi < n.inputs.size() && !n.input(bi).empty()) {
    const Node* db = g.producer(n.input(bi));
    if (db == nullptr || db->op_type != "DequantizeLinear" || g.constant(db->input(0)) == nullptr) {
      return invalid_argument("bias '{}' is not DequantizeLinear of an int32 constant",
                              n.input(bi));
    }
    EI8_ASSIGN_OR_RETURN(OperandQuant b, dq_operand(g, *db));
    q.bias = std::move(b);
  }
  if (const std::string fused = n.attr_string("activation"); !fused.empty()) q.activation = fused;
  if (const Node* qy = quantizer_after(g, n.outputs[0], &q.activation); qy != nullptr) {
    const DType t = qy->input(2).empty() ? DType::kU8 : value_dtype(g, qy->input(2), DType::kU8);
    EI8_ASSIGN_OR_RETURN(OperandQuant y, constant_quant(g, *qy, qy->outputs[0], 1, 2, t));
    q.output = std::move(y);
  }
  return q;
}

}  // namespace

std::string_view layer_kind_name(LayerKind k) {
  switch (k) {
    case LayerKind::kConv:
      return "conv";
    case LayerKind::kFullyConnected:
      return "fc";
    case LayerKind::kMaxPool:
      return "maxpool";
    case LayerKind::kAvgPool:
      return "avgpool";
    case LayerKind::kGlobalAvgPool:
      return "global_avgpool";
    case LayerKind::kGlobalMaxPool:
      return "global_maxpool";
  }
  return "?";
}

bool is_layer_op(std::string_view op_type) {
  return std::find(kLayerOps.begin(), kLayerOps.end(), op_type) != kLayerOps.end();
}

bool is_mac_op(std::string_view op_type) { return is_conv(op_type) || is_fc(op_type); }

Result<Window> decode_window(const Node& n, std::span<const int64_t> spatial,
                             std::span<const int64_t> kernel) {
  const size_t k = kernel.size();
  if (spatial.size() != k) {
    return layer_error(n, "kernel rank = {}, must be the spatial rank {}", k, spatial.size());
  }
  Window w;
  w.kernel.assign(kernel.begin(), kernel.end());
  w.strides = n.attr_ints("strides", std::vector<int64_t>(k, 1));
  w.dilations = n.attr_ints("dilations", std::vector<int64_t>(k, 1));
  if (w.strides.size() != k || w.dilations.size() != k) {
    return layer_error(n, "strides/dilations length = {}/{}, must be {}", w.strides.size(),
                       w.dilations.size(), k);
  }
  for (size_t i = 0; i < k; ++i) {
    if (w.strides[i] < 1 || w.dilations[i] < 1 || w.kernel[i] < 1) {
      return layer_error(n, "strides, dilations and kernel sizes = {}/{}/{}, must be >= 1",
                         w.strides[i], w.dilations[i], w.kernel[i]);
    }
  }
  w.pads = resolve_pads(n, spatial, kernel);
  if (w.pads.size() != 2 * k) {
    return layer_error(n, "pads length = {}, must be {}", w.pads.size(), 2 * k);
  }
  for (int64_t p : w.pads) {
    if (p < 0) return layer_error(n, "pads = {}, must be >= 0", p);
  }
  return w;
}

int64_t LayerGeometry::weight_channel_axis() const {
  if (kind == LayerKind::kConv) return 0;
  if (kind != LayerKind::kFullyConnected || weight_rank < 2) return -1;
  return trans_b ? weight_rank - 2 : weight_rank - 1;
}

int64_t LayerGeometry::accumulation_count() const {
  if (kind == LayerKind::kFullyConnected) return in_channels;
  if (kind == LayerKind::kConv) return in_channels_per_group() * kernel_h * kernel_w;
  return kernel_h * kernel_w;
}

int64_t LayerGeometry::macs() const {
  auto d = [](int64_t v) { return v == kDynamic ? 1 : v; };
  if (kind == LayerKind::kFullyConnected) {
    return rows_per_sample * d(in_channels) * out_channels;
  }
  if (kind == LayerKind::kConv) {
    return out_channels * d(out_h) * d(out_w) * accumulation_count();
  }
  return 0;
}

int64_t LayerGeometry::weight_numel() const {
  if (kind == LayerKind::kFullyConnected) return in_channels * out_channels * weight_batches;
  if (kind == LayerKind::kConv) {
    return out_channels * in_channels_per_group() * kernel_h * kernel_w;
  }
  return 0;
}

std::string LayerGeometry::describe() const {
  if (kind == LayerKind::kFullyConnected) {
    return fmt::format("fc {}->{}{}", in_channels, out_channels,
                       rows_per_sample > 1 ? fmt::format(" x{} rows", rows_per_sample) : "");
  }
  const std::string k =
      spatial_rank == 1 ? fmt::format("{}", kernel_w) : fmt::format("{}x{}", kernel_h, kernel_w);
  const std::string s =
      spatial_rank == 1 ? fmt::format("{}", stride_w) : fmt::format("{}x{}", stride_h, stride_w);
  const std::string in =
      spatial_rank == 1 ? fmt::format("{}", in_w) : fmt::format("{}x{}", in_h, in_w);
  const std::string p = spatial_rank == 1
                            ? fmt::format("{}/{}", pad_left, pad_right)
                            : fmt::format("{}/{}/{}/{}", pad_top, pad_left, pad_bottom, pad_right);
  return fmt::format("{}{}d {}->{} k{} s{} p{}{} on {}", layer_kind_name(kind), spatial_rank,
                     in_channels, out_channels, k, s, p,
                     groups > 1 ? fmt::format(" g{}", groups) : "", in);
}

Result<LayerGeometry> decode_layer(const Node& n, std::span<const Shape> in_shapes,
                                   std::span<const Shape> out_shapes) {
  LayerGeometry l;
  l.node = n.name;
  l.op_type = n.op_type;
  l.input = n.input(0);
  l.output = n.outputs.empty() ? std::string() : n.outputs[0];
  if (is_conv(n.op_type)) {
    EI8_RETURN_IF_ERROR(decode_conv(n, in_shapes, out_shapes, l));
  } else if (is_fc(n.op_type)) {
    EI8_RETURN_IF_ERROR(decode_fc(n, in_shapes, l));
  } else if (is_layer_op(n.op_type)) {
    EI8_RETURN_IF_ERROR(decode_pool(n, in_shapes, out_shapes, l));
  } else {
    return layer_error(n, "op type = {}, must be a conv, fully connected or pool op", n.op_type);
  }
  if (l.is_mac()) {
    l.weight = n.input(weight_index(n.op_type));
    const size_t bi = bias_index(n.op_type);
    if (bi < n.inputs.size()) l.bias = n.input(bi);
  }
  return l;
}

Result<LayerGeometry> decode_layer(const Graph& g, const Node& n) {
  std::vector<Shape> in, out;
  for (const std::string& v : n.inputs) {
    const Value* p = v.empty() ? nullptr : g.find_value(v);
    if (!v.empty() && (p == nullptr || !p->has_shape)) {
      return layer_error(n, "input '{}' has no known shape, must be inferred first", v);
    }
    in.push_back(p != nullptr ? p->shape : Shape{});
  }
  for (const std::string& v : n.outputs) {
    const Value* p = v.empty() ? nullptr : g.find_value(v);
    out.push_back(p != nullptr && p->has_shape ? p->shape : Shape{});
  }
  EI8_ASSIGN_OR_RETURN(LayerGeometry l, decode_layer(n, in, out));
  l.input_type = value_dtype(g, l.input, DType::kF32);
  l.weight_type = value_dtype(g, l.weight, DType::kF32);
  l.output_type = value_dtype(g, l.output, DType::kF32);
  if (l.is_mac()) {
    Result<LayerQuant> q = layer_quant(g, n);
    if (q.ok()) {
      l.quant = std::move(q).value();
    } else {
      l.unquantized_reason = q.status().message();
    }
  }
  return l;
}

Result<LayerView> layer_view(const Graph& g) {
  LayerView v;
  for (const Node* n : g.topological_order()) {
    if (!is_layer_op(n->op_type)) continue;
    Result<LayerGeometry> l = decode_layer(g, *n);
    if (l.ok()) {
      v.layers.push_back(std::move(l).value());
    } else {
      v.skipped.push_back({n->name, n->op_type, std::string(l.status().message())});
    }
  }
  return v;
}

}  // namespace ei8
