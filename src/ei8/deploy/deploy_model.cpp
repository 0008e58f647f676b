#include "ei8/deploy/deploy_model.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <set>
#include <span>

#include "ei8/fixedpoint/quantize.h"
#include "ei8/fixedpoint/requantize.h"
#include "ei8/graph/shape_inference.h"

namespace ei8::deploy {
namespace {

using fixedpoint::Requantizer;
using fixedpoint::RequantProfile;

constexpr std::string_view kIntegerOps[] = {"QLinearConv",
                                            "QGemm",
                                            "QLinearMatMul",
                                            "QLinearAdd",
                                            "QLinearConcat",
                                            "QLinearAveragePool",
                                            "QLinearGlobalAveragePool",
                                            "QMaxPool",
                                            "QClamp",
                                            "QLinearLookup",
                                            "QLinearMul"};
constexpr std::string_view kAliasOps[] = {"Flatten", "Reshape", "Squeeze", "Unsqueeze", "Identity"};
// Float ops of the engine's float regions that the generated code runs with the engine's exact
// float32 expressions (element-wise, one IEEE operation each); with QuantizeLinear,
// DequantizeLinear inside the graph and the float-output fully connected layers.
constexpr std::string_view kFloatOps[] = {"Add", "Sub", "Mul", "Div", "Relu", "Clip"};

bool contains(std::span<const std::string_view> set, std::string_view s) {
  return std::find(set.begin(), set.end(), s) != set.end();
}

// Ops of the integer engine that the generator does not emit (yet; Transpose, which the engine
// runs on integers, included): refused as such, not as float ops. Everything else that is neither
// integer nor alias is a float op.
bool is_quantized_op(std::string_view op) {
  return op == "Transpose" || op.rfind("QLinear", 0) == 0 || op.rfind("Q", 0) == 0 ||
         op == "MatMulIntegerToFloat" || op == "ConvInteger" || op == "MatMulInteger";
}

template <typename... Args>
Status node_error(const Node& n, fmt::format_string<Args...> f, Args&&... args) {
  return unsupported("cannot generate code for node '{}' ({}): {}", n.name, n.op_type,
                     fmt::format(f, std::forward<Args>(args)...));
}

int32_t type_min(bool u8) { return u8 ? 0 : -128; }
int32_t type_max(bool u8) { return u8 ? 255 : 127; }

int32_t load_int(const Tensor& t, int64_t i) {
  const auto k = static_cast<size_t>(i);
  switch (t.dtype()) {
    case DType::kU8:
      return t.span<uint8_t>()[k];
    case DType::kS8:
      return t.span<int8_t>()[k];
    case DType::kS32:
      return t.span<int32_t>()[k];
    case DType::kF32:
      break;
  }
  return 0;
}

// Reads the constant inputs of one node, each failure an error naming the node.
class NodeReader {
 public:
  NodeReader(const Graph& g, const Node& n) : g_(g), n_(n) {}

  Result<const Tensor*> constant(size_t i, std::string_view what) const {
    const Tensor* t =
        i < n_.inputs.size() && !n_.input(i).empty() ? g_.constant(n_.input(i)) : nullptr;
    if (t == nullptr) {
      return node_error(n_, "input {} ({}) = runtime tensor, must be a constant", i, what);
    }
    return t;
  }
  Result<std::vector<float>> scales(size_t i, int64_t count = 1) const {
    EI8_ASSIGN_OR_RETURN(const Tensor* t, constant(i, "scale"));
    if (t->dtype() != DType::kF32 || (t->numel() != 1 && t->numel() != count)) {
      return node_error(n_, "input {} (scale) size = {}, must be 1 or {} f32 values", i, t->numel(),
                        count);
    }
    std::vector<float> s(t->span<float>().begin(), t->span<float>().end());
    for (float v : s) {
      if (!std::isfinite(v) || !(v > 0.0f)) {
        return node_error(n_, "input {} (scale) = {}, must be finite and > 0", i, v);
      }
    }
    return s;
  }
  // One zero point (absent = 0) in the range of an 8-bit type.
  Result<int32_t> zero_point(size_t i, bool u8) const {
    if (i >= n_.inputs.size() || n_.input(i).empty()) return 0;
    EI8_ASSIGN_OR_RETURN(const Tensor* z, constant(i, "zero point"));
    if (z->numel() < 1) return 0;
    const int32_t v = load_int(*z, 0);
    for (int64_t k = 1; k < z->numel(); ++k) {
      if (load_int(*z, k) != v) {
        return node_error(n_, "input {} (zero point) values differ, must be one per tensor", i);
      }
    }
    if (v < type_min(u8) || v > type_max(u8)) {
      return node_error(n_, "input {} (zero point) = {}, must be in [{}, {}]", i, v, type_min(u8),
                        type_max(u8));
    }
    return v;
  }
  Result<RequantProfile> profile(std::string_view target) const {
    const std::string p = n_.attr_string("requant_profile", "ort");
    if (p == "tflite") return RequantProfile::kTflite;
    if (p == "tflite-single") return RequantProfile::kTfliteSingle;
    return node_error(n_,
                      "requant_profile = {}, must be tflite or tflite-single (integer-only "
                      "requantization; {} has no float requantization path)",
                      p, target);
  }
  // The output clamp: the type's range ∩ the lowering's fused activation bounds.
  std::pair<int32_t, int32_t> clamp(bool u8) const {
    return {static_cast<int32_t>(std::max<int64_t>(type_min(u8), n_.attr_int("qmin", INT32_MIN))),
            static_cast<int32_t>(std::min<int64_t>(type_max(u8), n_.attr_int("qmax", INT32_MAX)))};
  }

 private:
  const Graph& g_;
  const Node& n_;
};

// s8 weights: u8 weights w with zero point z become (w − 128, z − 128); the products are equal.
std::vector<int8_t> weights_s8(const Tensor& w, int32_t& zero_point) {
  std::vector<int8_t> out(static_cast<size_t>(w.numel()));
  for (size_t i = 0; i < out.size(); ++i) {
    out[i] = w.dtype() == DType::kU8 ? static_cast<int8_t>(w.span<uint8_t>()[i] - 128)
                                     : w.span<int8_t>()[i];
  }
  if (w.dtype() == DType::kU8) zero_point -= 128;
  return out;
}

RequantDesc requant_desc(const Requantizer& rq) {
  RequantDesc d;
  for (const auto& m : rq.multipliers()) {
    d.multiplier.push_back(m.multiplier);
    d.shift.push_back(m.shift);
  }
  d.zero_point = rq.zero_point();
  d.qmin = rq.qmin();
  d.qmax = rq.qmax();
  d.single_rounding = rq.profile() == RequantProfile::kTfliteSingle;
  return d;
}

// QuantizeLinear(DequantizeLinear(x)) for every code of an 8-bit type, as the engine's
// QLinearConcat tables (runtime/kernels/ref/qlinear_ref.h requantize_table): float32 product
// and division, round half to even, + z, clamp (fixedpoint/quantize.h).
std::vector<uint8_t> requantize_table(bool u8, float in_scale, int32_t in_zero_point,
                                      float out_scale, int32_t out_zero_point) {
  std::vector<uint8_t> t(256);
  const int32_t lo = type_min(u8), hi = type_max(u8);
  for (int32_t x = lo; x <= hi; ++x) {
    const float r = fixedpoint::dequantize(x, in_scale, in_zero_point);
    const int32_t v = fixedpoint::quantize(r, out_scale, out_zero_point, lo, hi);
    t[static_cast<size_t>(x - lo)] = static_cast<uint8_t>(v);
  }
  return t;
}

struct Builder {
  const Graph& g;
  BuildOptions opt;
  DeployModel m;
  std::map<std::string, int, std::less<>> tensor_of;  // value → tensor index
  std::set<std::string, std::less<>> flat;            // values that keep the ONNX order

  bool u8_of(const std::string& v) const {
    const Value* val = g.find_value(v);
    return val != nullptr && val->dtype == DType::kU8;
  }

  Result<int> add_tensor(const Node& n, const std::string& v) {
    const Value* val = g.find_value(v);
    if (val == nullptr || !val->has_shape) {
      return node_error(n, "value '{}' shape = unknown, must be inferred", v);
    }
    if (val->dtype != DType::kU8 && val->dtype != DType::kS8 && val->dtype != DType::kF32) {
      return node_error(n, "value '{}' dtype = {}, must be u8, s8 or f32", v,
                        dtype_name(val->dtype));
    }
    TensorDesc t;
    t.name = v;
    t.shape = val->shape;
    t.u8 = val->dtype == DType::kU8;
    t.f32 = val->dtype == DType::kF32;
    const Shape& s = t.shape;
    if (s.empty() || s.size() > 4 || (s.size() > 1 && s[0] != 1)) {
      return node_error(n, "value '{}' shape = {}, must be [1, C], [1, C, W] or [1, C, H, W]", v,
                        shape_to_string(s));
    }
    if (s.size() == 1) {
      t.c = s[0];
    } else if (s.size() >= 2) {
      t.c = s[1];
      if (s.size() == 3) t.w = s[2];
      if (s.size() == 4) {
        t.h = s[2];
        t.w = s[3];
      }
    }
    if (t.numel() < 1 || t.numel() > (int64_t{1} << 30)) {
      return node_error(n, "value '{}' elements = {}, must be in [1, 2^30]", v, t.numel());
    }
    t.layout = flat.count(v) || t.f32 ? Layout::kFlat : Layout::kChannelsLast;
    m.tensors.push_back(std::move(t));
    const int id = static_cast<int>(m.tensors.size()) - 1;
    tensor_of[v] = id;
    return id;
  }

  Result<int> tensor(const Node& n, size_t input) {
    const std::string& v = n.input(input);
    auto it = tensor_of.find(v);
    if (it == tensor_of.end()) {
      return node_error(n, "input {} '{}' = not produced by an integer node, must be", input, v);
    }
    return it->second;
  }

  int new_buffer(int tensor, BufferKind kind) {
    Buffer b;
    b.name = m.tensors[static_cast<size_t>(tensor)].name;
    b.kind = kind;
    b.bytes = m.tensors[static_cast<size_t>(tensor)].bytes();
    m.buffers.push_back(b);
    m.tensors[static_cast<size_t>(tensor)].buffer = static_cast<int>(m.buffers.size()) - 1;
    return m.tensors[static_cast<size_t>(tensor)].buffer;
  }

  Status conv(const Node& n, Step& s) {
    NodeReader r(g, n);
    if (n.inputs.size() < 8) return node_error(n, "inputs = {}, must be >= 8", n.inputs.size());
    EI8_ASSIGN_OR_RETURN(int x, tensor(n, 0));
    const TensorDesc& xt = m.tensors[static_cast<size_t>(x)];
    EI8_ASSIGN_OR_RETURN(const Tensor* w, r.constant(3, "weight"));
    const bool out_u8 = u8_of(n.outputs[0]);
    if (w->dtype() != DType::kS8 && w->dtype() != DType::kU8) {
      return node_error(n, "weight dtype = {}, must be s8 or u8", dtype_name(w->dtype()));
    }
    const Shape& ws = w->shape();
    const size_t rank = xt.shape.size();
    if ((rank != 3 && rank != 4) || ws.size() != rank) {
      return node_error(n, "input/weight rank = {}/{}, must be 3 or 4 and equal", rank, ws.size());
    }
    const int64_t oc = ws[0];
    EI8_ASSIGN_OR_RETURN(auto sx, r.scales(1));
    EI8_ASSIGN_OR_RETURN(s.input_zero_point, r.zero_point(2, xt.u8));
    EI8_ASSIGN_OR_RETURN(auto sw, r.scales(4, oc));
    EI8_ASSIGN_OR_RETURN(int32_t zw, r.zero_point(5, w->dtype() == DType::kU8));
    EI8_ASSIGN_OR_RETURN(auto sy, r.scales(6));
    EI8_ASSIGN_OR_RETURN(int32_t zy, r.zero_point(7, out_u8));
    EI8_ASSIGN_OR_RETURN(RequantProfile profile, r.profile(target_name(opt.target)));
    std::vector<int8_t> oihw = weights_s8(*w, zw);
    s.weight_zero_point = zw;
    if (n.inputs.size() > 8 && !n.input(8).empty()) {
      EI8_ASSIGN_OR_RETURN(const Tensor* b, r.constant(8, "bias"));
      if (b->dtype() != DType::kS32 || b->numel() != oc) {
        return node_error(n, "bias = {} {} values, must be {} s32 values", b->numel(),
                          dtype_name(b->dtype()), oc);
      }
      s.bias.assign(b->span<int32_t>().begin(), b->span<int32_t>().end());
    }
    std::vector<int64_t> kernel(ws.begin() + 2, ws.end());
    const std::vector<int64_t> pads =
        resolve_pads(n, std::span(xt.shape.data() + 2, rank - 2), kernel);
    const auto strides = n.attr_ints("strides");
    const auto dil = n.attr_ints("dilations");
    auto at = [](const std::vector<int64_t>& v, size_t i) { return i < v.size() ? v[i] : 1; };
    auto pad = [&](size_t i) { return i < pads.size() ? pads[i] : 0; };
    if (rank == 3) {
      s.kernel_w = kernel[0];
      s.stride_w = at(strides, 0);
      s.dilation_w = at(dil, 0);
      s.pad_left = pad(0);
      s.pad_right = pad(1);
    } else {
      s.kernel_h = kernel[0];
      s.kernel_w = kernel[1];
      s.stride_h = at(strides, 0);
      s.stride_w = at(strides, 1);
      s.dilation_h = at(dil, 0);
      s.dilation_w = at(dil, 1);
      s.pad_top = pad(0);
      s.pad_left = pad(1);
      s.pad_bottom = pad(2);
      s.pad_right = pad(3);
    }
    s.groups = n.attr_int("group", 1);
    if (s.groups < 1 || xt.c % s.groups != 0 || oc % s.groups != 0 || ws[1] * s.groups != xt.c) {
      return node_error(n, "group = {}, must divide C_in = {} and C_out = {} (weight C = {})",
                        s.groups, xt.c, oc, ws[1]);
    }
    for (int64_t v : {s.stride_h, s.stride_w, s.dilation_h, s.dilation_w}) {
      if (v < 1) return node_error(n, "stride/dilation = {}, must be >= 1", v);
    }
    const int64_t k = ws[1] * s.kernel_h * s.kernel_w;
    const int64_t kmax = zw == 0 ? 65536 : 32768;  // the engine's int32 accumulator bound
    if (k > kmax) return node_error(n, "K = {}, must be <= {} (int32 accumulator)", k, kmax);
    // OIHW → OHWI (channels innermost, as the channels-last input).
    const int64_t cig = ws[1], khw = s.kernel_h * s.kernel_w;
    s.weights.resize(oihw.size());
    for (int64_t o = 0; o < oc; ++o) {
      for (int64_t i = 0; i < cig; ++i) {
        for (int64_t t = 0; t < khw; ++t) {
          s.weights[static_cast<size_t>((o * khw + t) * cig + i)] =
              oihw[static_cast<size_t>((o * cig + i) * khw + t)];
        }
      }
    }
    const auto [lo, hi] = r.clamp(out_u8);
    auto rq = Requantizer::prepare(profile, sx[0], sw, sy[0], zy, lo, hi);
    if (!rq.ok()) return node_error(n, "{}", rq.status().message());
    s.requant.push_back(requant_desc(*rq));
    s.kind = StepKind::kConv;
    s.inputs = {x};
    return {};
  }

  // QLinearMatMul, QGemm (y_scale absent: float output) and MatMulIntegerToFloat (float
  // output), as the engine's QFullyConnectedOp reads them.
  Status fully_connected(const Node& n, Step& s) {
    NodeReader r(g, n);
    const bool gemm = n.op_type == "QGemm", mitf = n.op_type == "MatMulIntegerToFloat";
    struct {
      size_t a, sa, za, b, sb, zb, sy;
    } ix =
        mitf ? decltype(ix){0, 2, 4, 1, 3, 5, 0} : decltype(ix){0, 1, 2, 3, 4, 5, gemm ? 7u : 6u};
    const bool float_out = mitf || (gemm && (n.inputs.size() <= ix.sy || n.input(ix.sy).empty()));
    const size_t need = float_out ? (mitf ? 4 : 6) : ix.sy + 2;
    if (n.inputs.size() < need) {
      return node_error(n, "inputs = {}, must be >= {}", n.inputs.size(), need);
    }
    if (mitf && n.inputs.size() > 6 && !n.input(6).empty()) {
      return node_error(n, "input 6 (bias) = '{}', must be absent", n.input(6));
    }
    EI8_ASSIGN_OR_RETURN(int x, tensor(n, ix.a));
    const TensorDesc& xt = m.tensors[static_cast<size_t>(x)];
    EI8_ASSIGN_OR_RETURN(const Tensor* b, r.constant(ix.b, "B"));
    if ((b->dtype() != DType::kS8 && b->dtype() != DType::kU8) || b->rank() != 2) {
      return node_error(n, "B = {} {}, must be a 2-D s8/u8 constant", dtype_name(b->dtype()),
                        shape_to_string(b->shape()));
    }
    const bool trans_b = gemm && n.attr_int("transB", 0) != 0;
    if (gemm && n.attr_int("transA", 0) != 0) return node_error(n, "transA = 1, must be 0");
    const int64_t kk = trans_b ? b->dim(1) : b->dim(0), nn = trans_b ? b->dim(0) : b->dim(1);
    if (xt.shape.back() != kk) {
      return node_error(n, "A inner dimension = {}, must be {} (B's)", xt.shape.back(), kk);
    }
    const bool out_u8 = u8_of(n.outputs[0]);
    EI8_ASSIGN_OR_RETURN(auto sa, r.scales(ix.sa));
    EI8_ASSIGN_OR_RETURN(s.input_zero_point, r.zero_point(ix.za, xt.u8));
    EI8_ASSIGN_OR_RETURN(auto sb, r.scales(ix.sb, nn));
    EI8_ASSIGN_OR_RETURN(int32_t zb, r.zero_point(ix.zb, b->dtype() == DType::kU8));
    std::vector<float> sy{1.0f};
    int32_t zy = 0;
    RequantProfile profile = RequantProfile::kTflite;
    if (!float_out) {
      EI8_ASSIGN_OR_RETURN(sy, r.scales(ix.sy));
      EI8_ASSIGN_OR_RETURN(zy, r.zero_point(ix.sy + 1, out_u8));
      EI8_ASSIGN_OR_RETURN(profile, r.profile(target_name(opt.target)));
    }
    std::vector<int8_t> bw = weights_s8(*b, zb);
    s.weight_zero_point = zb;
    if (gemm && !n.input(6).empty()) {
      EI8_ASSIGN_OR_RETURN(const Tensor* c, r.constant(6, "C"));
      if (c->dtype() != DType::kS32 || c->numel() != nn) {
        return node_error(n, "C = {} {} values, must be {} s32 values", c->numel(),
                          dtype_name(c->dtype()), nn);
      }
      s.bias.assign(c->span<int32_t>().begin(), c->span<int32_t>().end());
    }
    const int64_t kmax = zb == 0 ? 65536 : 32768;
    if (kk > kmax) return node_error(n, "K = {}, must be <= {} (int32 accumulator)", kk, kmax);
    s.in_features = kk;
    s.out_features = nn;
    s.rows = xt.numel() / kk;
    s.weights.resize(bw.size());
    for (int64_t o = 0; o < nn; ++o) {
      for (int64_t i = 0; i < kk; ++i) {
        s.weights[static_cast<size_t>(o * kk + i)] =
            bw[static_cast<size_t>(trans_b ? o * kk + i : i * nn + o)];
      }
    }
    if (float_out) {
      // The engine's m_c = fl32(s_a · s_b[c]) (one per output feature here).
      for (int64_t o = 0; o < nn; ++o) s.to_float.push_back(sa[0] * sb[sb.size() == 1 ? 0 : o]);
      s.requant.push_back(RequantDesc{});
    } else {
      const auto [lo, hi] = r.clamp(out_u8);
      auto rq = Requantizer::prepare(profile, sa[0], sb, sy[0], zy, lo, hi);
      if (!rq.ok()) return node_error(n, "{}", rq.status().message());
      s.requant.push_back(requant_desc(*rq));
    }
    s.kind = StepKind::kFullyConnected;
    s.inputs = {x};
    return {};
  }

  Status pool(const Node& n, Step& s, bool average, bool global) {
    NodeReader r(g, n);
    EI8_ASSIGN_OR_RETURN(int x, tensor(n, 0));
    const TensorDesc& xt = m.tensors[static_cast<size_t>(x)];
    const size_t rank = xt.shape.size();
    if (rank != 3 && rank != 4) return node_error(n, "input rank = {}, must be 3 or 4", rank);
    if (global) {
      s.kernel_h = xt.h;
      s.kernel_w = xt.w;
    } else {
      const auto k = n.attr_ints("kernel_shape");
      if (k.size() + 2 != rank) {
        return node_error(n, "kernel_shape rank = {}, must be {}", k.size(), rank - 2);
      }
      const auto pads = resolve_pads(n, std::span(xt.shape.data() + 2, rank - 2), k);
      const auto st = n.attr_ints("strides");
      const auto d = n.attr_ints("dilations");
      auto at = [](const std::vector<int64_t>& v, size_t i) { return i < v.size() ? v[i] : 1; };
      auto pad = [&](size_t i) { return i < pads.size() ? pads[i] : 0; };
      for (size_t i = 0; i < rank - 2; ++i) {
        if (at(d, i) != 1) return node_error(n, "dilation = {}, must be 1", at(d, i));
      }
      if (rank == 4) {
        s.kernel_h = k[0];
        s.kernel_w = k[1];
        s.stride_h = at(st, 0);
        s.stride_w = at(st, 1);
        s.pad_top = pad(0);
        s.pad_left = pad(1);
        s.pad_bottom = pad(2);
        s.pad_right = pad(3);
      } else {
        s.kernel_w = k[0];
        s.stride_w = at(st, 0);
        s.pad_left = pad(0);
        s.pad_right = pad(1);
      }
      s.count_include_pad = n.attr_int("count_include_pad", 0) != 0;
    }
    s.inputs = {x};
    if (!average) {
      s.kind = StepKind::kMaxPool;
      return {};
    }
    s.kind = StepKind::kAvgPool;
    if (n.inputs.size() < 5) return node_error(n, "inputs = {}, must be 5", n.inputs.size());
    const bool out_u8 = u8_of(n.outputs[0]);
    EI8_ASSIGN_OR_RETURN(auto sx, r.scales(1));
    EI8_ASSIGN_OR_RETURN(s.input_zero_point, r.zero_point(2, xt.u8));
    EI8_ASSIGN_OR_RETURN(auto sy, r.scales(3));
    EI8_ASSIGN_OR_RETURN(int32_t zy, r.zero_point(4, out_u8));
    EI8_ASSIGN_OR_RETURN(RequantProfile profile, r.profile(target_name(opt.target)));
    const int64_t taps = s.kernel_h * s.kernel_w;
    if (taps >= (int64_t{1} << 16)) {
      return node_error(n, "window = {} taps, must be < 65536", taps);
    }
    for (int64_t c = 1; c <= taps; ++c) {
      // As the engine (ONNX Runtime): M = s_x / (s_y · float(count)) in float32.
      const float mult = sx[0] / (sy[0] * static_cast<float>(c));
      auto rq = Requantizer::from_multiplier(profile, static_cast<double>(mult), zy,
                                             type_min(out_u8), type_max(out_u8));
      if (!rq.ok()) return node_error(n, "{}", rq.status().message());
      s.requant.push_back(requant_desc(*rq));
    }
    return {};
  }

  Status add(const Node& n, Step& s) {
    NodeReader r(g, n);
    if (n.inputs.size() < 8) return node_error(n, "inputs = {}, must be 8", n.inputs.size());
    EI8_ASSIGN_OR_RETURN(int a, tensor(n, 0));
    EI8_ASSIGN_OR_RETURN(int b, tensor(n, 3));
    const TensorDesc &at = m.tensors[static_cast<size_t>(a)],
                     &bt = m.tensors[static_cast<size_t>(b)];
    EI8_RETURN_IF_ERROR(broadcastable(n, at, bt));
    EI8_ASSIGN_OR_RETURN(auto sa, r.scales(1));
    EI8_ASSIGN_OR_RETURN(int32_t za, r.zero_point(2, at.u8));
    EI8_ASSIGN_OR_RETURN(auto sb, r.scales(4));
    EI8_ASSIGN_OR_RETURN(int32_t zb, r.zero_point(5, at.u8));
    EI8_ASSIGN_OR_RETURN(auto sc, r.scales(6));
    EI8_ASSIGN_OR_RETURN(s.c_zero_point, r.zero_point(7, at.u8));
    // The engine's QLinearAdd (qlinear_ref.h): fl32(s·(q − z)) per input, their float sum
    // divided by s_c. The products are tabulated here; the sum and division run in C.
    for (int32_t q = type_min(at.u8); q <= type_max(at.u8); ++q) {
      s.a_deq.push_back(sa[0] * static_cast<float>(q - za));
      s.b_deq.push_back(sb[0] * static_cast<float>(q - zb));
    }
    s.c_scale = sc[0];
    std::tie(s.qmin, s.qmax) = r.clamp(at.u8);
    s.kind = StepKind::kAdd;
    s.inputs = {a, b};
    return {};
  }

  // A and B of one 8-bit type and rank, each dimension equal or 1 in one of them (the kernels
  // read a dimension of size 1 with stride 0).
  Status broadcastable(const Node& n, const TensorDesc& at, const TensorDesc& bt) const {
    bool ok = at.u8 == bt.u8 && at.shape.size() == bt.shape.size();
    for (size_t i = 0; ok && i < at.shape.size(); ++i) {
      ok = at.shape[i] == bt.shape[i] || at.shape[i] == 1 || bt.shape[i] == 1;
    }
    if (!ok) {
      return node_error(n,
                        "B = {} {}, must broadcast with A's {} {} (same type and rank, each "
                        "dimension equal or 1)",
                        bt.u8 ? "u8" : "s8", shape_to_string(bt.shape), at.u8 ? "u8" : "s8",
                        shape_to_string(at.shape));
    }
    return {};
  }

  // QLinearMul as the engine (qlinear_ref.h qlinear_mul_element): (a − z_a)(b − z_b) in int32,
  // times the float multiplier fl32(fl32(s_a·s_b) / s_c), + z_c, round half to even, clamp.
  Status mul(const Node& n, Step& s) {
    NodeReader r(g, n);
    if (n.inputs.size() < 8) return node_error(n, "inputs = {}, must be 8", n.inputs.size());
    EI8_ASSIGN_OR_RETURN(int a, tensor(n, 0));
    EI8_ASSIGN_OR_RETURN(int b, tensor(n, 3));
    const TensorDesc &at = m.tensors[static_cast<size_t>(a)],
                     &bt = m.tensors[static_cast<size_t>(b)];
    EI8_RETURN_IF_ERROR(broadcastable(n, at, bt));
    EI8_ASSIGN_OR_RETURN(auto sa, r.scales(1));
    EI8_ASSIGN_OR_RETURN(s.input_zero_point, r.zero_point(2, at.u8));
    EI8_ASSIGN_OR_RETURN(auto sb, r.scales(4));
    EI8_ASSIGN_OR_RETURN(s.weight_zero_point, r.zero_point(5, at.u8));
    EI8_ASSIGN_OR_RETURN(auto sc, r.scales(6));
    EI8_ASSIGN_OR_RETURN(s.c_zero_point, r.zero_point(7, at.u8));
    const float ab = sa[0] * sb[0];  // two float32 roundings, in the engine's order
    s.mul_multiplier = ab / sc[0];
    if (!std::isfinite(s.mul_multiplier)) {
      return node_error(n, "multiplier s_a·s_b/s_c = {}, must be finite", s.mul_multiplier);
    }
    std::tie(s.qmin, s.qmax) = r.clamp(at.u8);
    s.kind = StepKind::kMul;
    s.inputs = {a, b};
    return {};
  }

  Status concat(const Node& n, Step& s) {
    NodeReader r(g, n);
    const size_t ni = n.inputs.size();
    if (ni < 5 || (ni - 2) % 3 != 0) return node_error(n, "inputs = {}, must be 2 + 3·k", ni);
    const bool out_u8 = u8_of(n.outputs[0]);
    EI8_ASSIGN_OR_RETURN(auto sy, r.scales(0));
    EI8_ASSIGN_OR_RETURN(int32_t zy, r.zero_point(1, out_u8));
    const Value* yv = g.find_value(n.outputs[0]);
    const int64_t rank = static_cast<int64_t>(yv->shape.size());
    int64_t axis = n.attr_int("axis", 0);
    if (axis < 0) axis += rank;
    // Axis → (c, h, w) of the view.
    int dim = -1;
    if (axis == 1) dim = 0;
    if (rank == 4 && axis == 2) dim = 1;
    if ((rank == 4 && axis == 3) || (rank == 3 && axis == 2)) dim = 2;
    if (dim < 0) return node_error(n, "axis = {}, must be a channel or spatial axis", axis);
    int64_t offset = 0;
    for (size_t i = 2; i < ni; i += 3) {
      EI8_ASSIGN_OR_RETURN(int x, tensor(n, i));
      const TensorDesc& xt = m.tensors[static_cast<size_t>(x)];
      if (xt.u8 != out_u8) return node_error(n, "input {} type differs from the output's", i);
      EI8_ASSIGN_OR_RETURN(auto sx, r.scales(i + 1));
      EI8_ASSIGN_OR_RETURN(int32_t zx, r.zero_point(i + 2, out_u8));
      ConcatPart p;
      p.input = x;
      if (sx[0] != sy[0] || zx != zy) p.table = requantize_table(out_u8, sx[0], zx, sy[0], zy);
      (dim == 0 ? p.c0 : dim == 1 ? p.h0 : p.w0) = offset;
      offset += dim == 0 ? xt.c : dim == 1 ? xt.h : xt.w;
      s.parts.push_back(std::move(p));
      s.inputs.push_back(x);
    }
    s.kind = StepKind::kConcat;
    return {};
  }

  // QLinearLookup (x, table): the table a constant of x's type, 256 entries or 256 per channel
  // along `axis` (default 1, which must be the channel axis of the view).
  Status lookup(const Node& n, Step& s) {
    NodeReader r(g, n);
    EI8_ASSIGN_OR_RETURN(int x, tensor(n, 0));
    const TensorDesc& xt = m.tensors[static_cast<size_t>(x)];
    EI8_ASSIGN_OR_RETURN(const Tensor* t, r.constant(1, "table"));
    const DType want = xt.u8 ? DType::kU8 : DType::kS8;
    if (t->dtype() != want || t->numel() == 0 || t->numel() % 256 != 0) {
      return node_error(n, "input 1 (table) = {} values of {}, must be 256·k values of {}",
                        t->numel(), dtype_name(t->dtype()), dtype_name(want));
    }
    const int64_t k = t->numel() / 256;
    if (k > 1) {
      const int64_t rank = static_cast<int64_t>(xt.shape.size());
      int64_t axis = n.attr_int("axis", 1);
      if (axis < 0) axis += rank;
      if (axis != 1 || k != xt.c) {
        return node_error(n, "table channels = {} along axis {}, must be 1 or {} along axis 1", k,
                          axis, xt.c);
      }
    }
    const auto* raw = reinterpret_cast<const uint8_t*>(t->raw());
    s.tables.assign(raw, raw + t->numel());
    s.kind = StepKind::kLookup;
    s.inputs = {x};
    return {};
  }

  // An input of a step that must be a float (f32) tensor, or an 8-bit one.
  Result<int> typed_tensor(const Node& n, size_t input, bool f32) {
    EI8_ASSIGN_OR_RETURN(int x, tensor(n, input));
    if (m.tensors[static_cast<size_t>(x)].f32 != f32) {
      return node_error(n, "input {} '{}' type = {}, must be {}", input, n.input(input),
                        f32 ? "8-bit" : "f32", f32 ? "f32" : "u8 or s8");
    }
    return x;
  }

  // QuantizeLinear (float → 8-bit) or DequantizeLinear (8-bit → float) inside the graph, per
  // tensor: the engine's fixedpoint::quantize / dequantize (float32 division, round half to
  // even, + z, clamp; s·(q − z)).
  Status qdq(const Node& n, Step& s, bool quantize) {
    NodeReader r(g, n);
    EI8_ASSIGN_OR_RETURN(int x, typed_tensor(n, 0, quantize));
    EI8_ASSIGN_OR_RETURN(auto sc, r.scales(1));
    const bool u8 = quantize ? u8_of(n.outputs[0]) : m.tensors[static_cast<size_t>(x)].u8;
    if (quantize && g.find_value(n.outputs[0]) != nullptr &&
        g.find_value(n.outputs[0])->dtype == DType::kF32) {
      return node_error(n, "output dtype = f32, must be u8 or s8");
    }
    EI8_ASSIGN_OR_RETURN(s.c_zero_point, r.zero_point(2, u8));
    s.c_scale = sc[0];
    s.kind = quantize ? StepKind::kQuantize : StepKind::kDequantize;
    s.inputs = {x};
    return {};
  }

  // Add / Sub / Mul / Div of two float tensors (the engine's BinaryOp: a ∘ b, one rounding).
  Status binary_f32(const Node& n, Step& s) {
    if (n.has("activation")) {
      return node_error(n, "activation = {}, must be absent", n.attr_string("activation", ""));
    }
    if (n.inputs.size() != 2) return node_error(n, "inputs = {}, must be 2", n.inputs.size());
    EI8_ASSIGN_OR_RETURN(int a, typed_tensor(n, 0, true));
    EI8_ASSIGN_OR_RETURN(int b, typed_tensor(n, 1, true));
    EI8_RETURN_IF_ERROR(
        broadcastable(n, m.tensors[static_cast<size_t>(a)], m.tensors[static_cast<size_t>(b)]));
    const std::string_view op = n.op_type;
    s.float_op = op == "Add" ? 0 : op == "Sub" ? 1 : op == "Mul" ? 2 : 3;
    s.kind = StepKind::kBinaryF32;
    s.inputs = {a, b};
    return {};
  }

  // Relu, or Clip with its bounds as attributes min/max (the importer turns constant inputs into
  // them; the engine's UnaryOp reads only those).
  Status unary_f32(const Node& n, Step& s) {
    EI8_ASSIGN_OR_RETURN(int x, typed_tensor(n, 0, true));
    s.float_op = n.op_type == "Relu" ? 0 : 1;
    for (size_t i = 1; i < n.inputs.size(); ++i) {
      if (!n.input(i).empty()) {
        return node_error(n, "input {} = '{}', must be absent (bounds as attributes min/max)", i,
                          n.input(i));
      }
    }
    s.f_lo = n.attr_float("min", -std::numeric_limits<float>::infinity());
    s.f_hi = n.attr_float("max", std::numeric_limits<float>::infinity());
    s.kind = StepKind::kUnaryF32;
    s.inputs = {x};
    return {};
  }

  Status clamp(const Node& n, Step& s) {
    EI8_ASSIGN_OR_RETURN(int x, tensor(n, 0));
    const bool u8 = m.tensors[static_cast<size_t>(x)].u8;
    s.lo = static_cast<int32_t>(std::max<int64_t>(type_min(u8), n.attr_int("lo", INT32_MIN)));
    s.hi = static_cast<int32_t>(std::min<int64_t>(type_max(u8), n.attr_int("hi", INT32_MAX)));
    s.kind = StepKind::kClamp;
    s.inputs = {x};
    return {};
  }
};

// The layout pass: values read by a fully connected layer (directly or through aliases), and
// the model's input and output, keep the ONNX element order.
void mark_flat(const Graph& g, const std::vector<const Node*>& order,
               std::set<std::string, std::less<>>& flat) {
  for (const auto& v : g.inputs()) flat.insert(v);
  for (const auto& v : g.outputs()) flat.insert(v);
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    const Node& n = **it;
    if (n.op_type == "QGemm" || n.op_type == "QLinearMatMul") flat.insert(n.input(0));
    if (n.op_type == "MatMulIntegerToFloat") flat.insert(n.input(0));
    if (n.op_type == "DequantizeLinear" || n.op_type == "QuantizeLinear") {
      for (const auto& v : n.inputs) flat.insert(v);
      for (const auto& v : n.outputs) flat.insert(v);
    }
    if (contains(kAliasOps, n.op_type) && flat.count(n.outputs[0])) flat.insert(n.input(0));
  }
}

}  // namespace

std::string_view target_name(Target t) {
  switch (t) {
    case Target::kHost:
      return "host";
    case Target::kCortexM0:
      return "cortex-m0";
    case Target::kCortexM4:
      return "cortex-m4";
    case Target::kCortexM7:
      return "cortex-m7";
    case Target::kCortexM55:
      return "cortex-m55";
  }
  return "host";
}

Result<Target> parse_target(std::string_view name) {
  for (Target t : kAllTargets) {
    if (target_name(t) == name) return t;
  }
  return invalid_argument(
      "cannot parse --target: value = '{}', must be host, cortex-m0, cortex-m4, cortex-m7 or "
      "cortex-m55",
      name);
}

std::string_view step_kind_name(StepKind k) {
  switch (k) {
    case StepKind::kConv:
      return "conv";
    case StepKind::kFullyConnected:
      return "fc";
    case StepKind::kMaxPool:
      return "maxpool";
    case StepKind::kAvgPool:
      return "avgpool";
    case StepKind::kAdd:
      return "add";
    case StepKind::kConcat:
      return "concat";
    case StepKind::kClamp:
      return "clamp";
    case StepKind::kLookup:
      return "lookup";
    case StepKind::kMul:
      return "mul";
    case StepKind::kQuantize:
      return "quantize";
    case StepKind::kDequantize:
      return "dequantize";
    case StepKind::kBinaryF32:
      return "binary_f32";
    case StepKind::kUnaryF32:
      return "unary_f32";
  }
  return "?";
}

std::array<int64_t, 3> TensorDesc::strides() const {
  if (layout == Layout::kFlat) return {h * w, w, 1};
  return {1, w * c, c};
}

bool TensorDesc::packed_channels_last() const {
  return layout == Layout::kChannelsLast || c == 1 || h * w == 1;
}

int64_t DeployModel::weight_bytes() const {
  int64_t b = 0;
  for (const Step& s : steps) {
    b += static_cast<int64_t>(s.weights.size() + 4 * s.bias.size() +
                              4 * (s.a_deq.size() + s.b_deq.size() + s.to_float.size()));
    for (const RequantDesc& r : s.requant) b += static_cast<int64_t>(8 * r.multiplier.size());
    for (const ConcatPart& p : s.parts) b += static_cast<int64_t>(p.table.size());
    b += static_cast<int64_t>(s.tables.size());
  }
  return b;
}

int64_t DeployModel::macs() const {
  int64_t n = 0;
  for (const Step& s : steps) n += s.macs;
  return n;
}

Result<DeployModel> build_deploy_model(const Graph& lowered, const BuildOptions& options) {
  Graph g = lowered;
  if (g.inputs().size() != 1 || g.outputs().size() != 1) {
    return unsupported("cannot generate code for model '{}': inputs/outputs = {}/{}, must be 1/1",
                       g.name(), g.inputs().size(), g.outputs().size());
  }
  // Every node an op the generator emits, before anything else reads the graph (shape inference
  // does not know every op either).
  for (const Node& n : g.nodes()) {
    if (contains(kIntegerOps, n.op_type) || contains(kAliasOps, n.op_type) ||
        contains(kFloatOps, n.op_type) || n.op_type == "QuantizeLinear" ||
        n.op_type == "DequantizeLinear" || n.op_type == "MatMulIntegerToFloat") {
      continue;
    }
    if (is_quantized_op(n.op_type)) {
      return node_error(n,
                        "op = {}, must be one of QLinearConv, QGemm, QLinearMatMul, "
                        "MatMulIntegerToFloat, QLinearAdd, QLinearConcat, QLinearAveragePool, "
                        "QLinearGlobalAveragePool, QMaxPool, QClamp, QLinearLookup, QLinearMul "
                        "(the generator cannot emit it)",
                        n.op_type);
    }
    return node_error(n,
                      "op = float {}, must be integer or one of Add, Sub, Mul, Div, Relu, Clip (a "
                      "float op left in the graph that the generated code cannot run exactly as "
                      "the engine does)",
                      n.op_type);
  }
  for (const auto& in : g.inputs()) {
    Value* v = g.find_value(in);
    if (v != nullptr && !v->shape.empty() && v->shape[0] == kDynamic) v->shape[0] = 1;
  }
  EI8_RETURN_IF_ERROR(infer_shapes(g));
  Builder b{g, options, {}, {}, {}};
  b.m.name = g.name();
  b.m.target = options.target;
  const std::vector<const Node*> order = g.topological_order();
  mark_flat(g, order, b.flat);

  // The edges: one per-tensor QuantizeLinear of the graph input (else the input is a float
  // tensor read by steps), a per-tensor DequantizeLinear of the graph output (else the output is
  // the float tensor of a step).
  const std::string& gin = g.inputs()[0];
  const std::string& gout = g.outputs()[0];
  auto per_tensor = [&](const Node* e) {
    const Tensor* sc = e->inputs.size() > 1 ? g.constant(e->input(1)) : nullptr;
    return sc != nullptr && sc->numel() == 1;
  };
  const Node* qin = nullptr;
  const Node* dqout = g.producer(gout);
  const std::vector<size_t> readers = g.consumers(gin);
  if (readers.empty()) {
    return unsupported("cannot generate code for model '{}': input '{}' = unused, must be read",
                       g.name(), gin);
  }
  if (readers.size() == 1 && g.nodes()[readers[0]].op_type == "QuantizeLinear" &&
      per_tensor(&g.nodes()[readers[0]])) {
    qin = &g.nodes()[readers[0]];
  }
  if (dqout == nullptr) {
    return unsupported(
        "cannot generate code for model '{}': output '{}' = no node's, must be "
        "computed",
        g.name(), gout);
  }
  if (dqout->op_type != "DequantizeLinear" || !per_tensor(dqout)) dqout = nullptr;
  for (const Node* e : {qin, dqout}) {
    if (e == nullptr) continue;
    NodeReader r(g, *e);
    EI8_ASSIGN_OR_RETURN(auto s, r.scales(1));
    const bool u8 = e == qin ? b.u8_of(e->outputs[0]) : b.u8_of(e->input(0));
    EI8_ASSIGN_OR_RETURN(int32_t z, r.zero_point(2, u8));
    if (e == qin) {
      b.m.input_scale = s[0];
      b.m.input_zero_point = z;
    } else {
      b.m.output_scale = s[0];
      b.m.output_zero_point = z;
    }
  }
  b.m.input_name = gin;
  b.m.output_name = gout;
  b.m.float_input_shape = g.find_value(gin)->shape;
  b.m.float_output_shape = g.find_value(gout)->shape;
  b.m.input_f32 = qin == nullptr;
  b.m.output_f32 = dqout == nullptr;
  if (qin != nullptr) {
    EI8_ASSIGN_OR_RETURN(b.m.input, b.add_tensor(*qin, qin->outputs[0]));
  } else {
    EI8_ASSIGN_OR_RETURN(b.m.input, b.add_tensor(g.nodes()[readers[0]], gin));
  }
  b.new_buffer(b.m.input, BufferKind::kInput);

  for (const Node* np : order) {
    const Node& n = *np;
    if (&n == qin || &n == dqout) continue;
    if (contains(kAliasOps, n.op_type)) {
      EI8_ASSIGN_OR_RETURN(int x, b.tensor(n, 0));
      EI8_ASSIGN_OR_RETURN(int y, b.add_tensor(n, n.outputs[0]));
      const TensorDesc &xt = b.m.tensors[static_cast<size_t>(x)],
                       &yt = b.m.tensors[static_cast<size_t>(y)];
      const bool flat_order = (xt.layout == Layout::kFlat || xt.c == 1 || xt.h * xt.w == 1) &&
                              (yt.layout == Layout::kFlat || yt.c == 1 || yt.h * yt.w == 1);
      const bool same_view =
          xt.c == yt.c && xt.h * xt.w == yt.h * yt.w && xt.w == yt.w && xt.layout == yt.layout;
      if (!flat_order && !same_view) {
        return node_error(n, "reshape {} -> {} = a change of element order, must keep it",
                          shape_to_string(xt.shape), shape_to_string(yt.shape));
      }
      b.m.tensors[static_cast<size_t>(y)].buffer = xt.buffer;
      continue;
    }
    if (n.outputs.size() != 1) return node_error(n, "outputs = {}, must be 1", n.outputs.size());
    Step s;
    s.node = n.name;
    s.op_type = n.op_type;
    if (n.op_type == "QLinearConv") {
      EI8_RETURN_IF_ERROR(b.conv(n, s));
    } else if (n.op_type == "QGemm" || n.op_type == "QLinearMatMul" ||
               n.op_type == "MatMulIntegerToFloat") {
      EI8_RETURN_IF_ERROR(b.fully_connected(n, s));
    } else if (n.op_type == "QuantizeLinear" || n.op_type == "DequantizeLinear") {
      EI8_RETURN_IF_ERROR(b.qdq(n, s, n.op_type == "QuantizeLinear"));
    } else if (n.op_type == "Add" || n.op_type == "Sub" || n.op_type == "Mul" ||
               n.op_type == "Div") {
      EI8_RETURN_IF_ERROR(b.binary_f32(n, s));
    } else if (n.op_type == "Relu" || n.op_type == "Clip") {
      EI8_RETURN_IF_ERROR(b.unary_f32(n, s));
    } else if (n.op_type == "QMaxPool") {
      EI8_RETURN_IF_ERROR(b.pool(n, s, false, false));
    } else if (n.op_type == "QLinearAveragePool" || n.op_type == "QLinearGlobalAveragePool") {
      EI8_RETURN_IF_ERROR(b.pool(n, s, true, n.op_type == "QLinearGlobalAveragePool"));
    } else if (n.op_type == "QLinearAdd") {
      EI8_RETURN_IF_ERROR(b.add(n, s));
    } else if (n.op_type == "QLinearConcat") {
      EI8_RETURN_IF_ERROR(b.concat(n, s));
    } else if (n.op_type == "QLinearLookup") {
      EI8_RETURN_IF_ERROR(b.lookup(n, s));
    } else if (n.op_type == "QLinearMul") {
      EI8_RETURN_IF_ERROR(b.mul(n, s));
    } else if (n.op_type == "QClamp") {
      EI8_RETURN_IF_ERROR(b.clamp(n, s));
    } else {
      return node_error(n, "op = {}, must be an op the generator emits", n.op_type);
    }
    EI8_ASSIGN_OR_RETURN(s.output, b.add_tensor(n, n.outputs[0]));
    const TensorDesc& yt = b.m.tensors[static_cast<size_t>(s.output)];
    if ((s.kind == StepKind::kConv || s.kind == StepKind::kMaxPool ||
         s.kind == StepKind::kAvgPool) &&
        yt.shape.size() != b.m.tensors[static_cast<size_t>(s.inputs[0])].shape.size()) {
      return node_error(n, "output rank = {}, must equal the input's", yt.shape.size());
    }
    if (s.kind == StepKind::kFullyConnected && yt.numel() != s.rows * s.out_features) {
      return node_error(n, "output elements = {}, must be {}", yt.numel(), s.rows * s.out_features);
    }
    if (s.kind == StepKind::kConv) {
      s.macs = yt.numel() * (s.weights.size() / static_cast<size_t>(yt.c));
    } else if (s.kind == StepKind::kFullyConnected) {
      s.macs = s.rows * s.in_features * s.out_features;
    }
    b.new_buffer(s.output, BufferKind::kArena);
    b.m.steps.push_back(std::move(s));
  }
  if (dqout != nullptr) {
    EI8_ASSIGN_OR_RETURN(b.m.output, b.tensor(*dqout, 0));
  } else {
    auto it = b.tensor_of.find(gout);
    if (it == b.tensor_of.end()) {
      return unsupported(
          "cannot generate code for model '{}': output '{}' = not computed by a "
          "step, must be",
          g.name(), gout);
    }
    b.m.output = it->second;
  }

  // The output buffer: the caller's. A model whose output is its input (no step) is refused.
  DeployModel& m = b.m;
  const int out_buffer = m.tensors[static_cast<size_t>(m.output)].buffer;
  if (m.buffers[static_cast<size_t>(out_buffer)].kind == BufferKind::kInput || m.steps.empty()) {
    return unsupported("cannot generate code for model '{}': steps = 0, must be >= 1", g.name());
  }
  m.buffers[static_cast<size_t>(out_buffer)].kind = BufferKind::kOutput;
  if (m.tensors[static_cast<size_t>(m.output)].layout != Layout::kFlat) {
    return unsupported("cannot generate code for model '{}': output layout must be flat", g.name());
  }

  // Lifetimes: from the producing step to the last reading step.
  for (Buffer& buf : m.buffers) buf.first_step = buf.last_step = -1;
  for (size_t i = 0; i < m.steps.size(); ++i) {
    const Step& s = m.steps[i];
    Buffer& out = m.buffers[static_cast<size_t>(m.tensors[static_cast<size_t>(s.output)].buffer)];
    if (out.first_step < 0) out.first_step = static_cast<int>(i);
    out.last_step = std::max(out.last_step, static_cast<int>(i));
    for (int in : s.inputs) {
      Buffer& ib = m.buffers[static_cast<size_t>(m.tensors[static_cast<size_t>(in)].buffer)];
      if (ib.first_step < 0) ib.first_step = static_cast<int>(i);
      ib.last_step = std::max(ib.last_step, static_cast<int>(i));
    }
  }

  // The kernel of every step: the one place that chooses (target features and shapes).
  for (Step& s : m.steps) {
    s.variant = "ref";
    if (options.reference_only) continue;
    const bool dsp = options.target == Target::kCortexM4 || options.target == Target::kCortexM7;
    const bool mve = options.target == Target::kCortexM55;
    if (!dsp && !mve) continue;
    if (s.kind == StepKind::kConv) {
      const TensorDesc& x = m.tensors[static_cast<size_t>(s.inputs[0])];
      const int64_t cig = x.c / s.groups;
      if (x.strides()[0] == 1 && cig >= 4) s.variant = dsp ? "dsp" : "mve";
    } else if (s.kind == StepKind::kFullyConnected && s.in_features >= 4) {
      s.variant = dsp ? "dsp" : "mve";
    }
  }
  return std::move(b.m);
}

}  // namespace ei8::deploy
