// The integer operators of the INT8 runtime (int8_ops.h).

#include "ei8/runtime/int8_ops.h"
#include "ei8/runtime/int8_values.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <limits>
#include <optional>
#include <tuple>

#include "ei8/fixedpoint/quantize.h"
#include "ei8/fixedpoint/requantize.h"
#include "ei8/graph/shape_inference.h"
#include "ei8/runtime/kernels/conv_a16.h"
#include "ei8/runtime/kernels/conv_s8.h"
#include "ei8/runtime/kernels/pool.h"
#include "ei8/runtime/kernels/ref/a16w8_ref.h"
#include "ei8/runtime/kernels/ref/conv_s8_ref.h"
#include "ei8/runtime/kernels/ref/fully_connected_s8_ref.h"
#include "ei8/runtime/kernels/ref/qlinear_ref.h"
#include "ei8/runtime/layer_params.h"
#include "ei8/runtime/op.h"

namespace ei8 {
namespace {

using fixedpoint::Requantizer;
using fixedpoint::RequantProfile;

template <typename... Args>
Status op_error(const PrepareContext& c, fmt::format_string<Args...> f, Args&&... args) {
  return invalid_argument("cannot prepare node '{}' ({}): {}", c.node.name, c.node.op_type,
                          fmt::format(f, std::forward<Args>(args)...));
}

bool is_q8(DType t) { return t == DType::kU8 || t == DType::kS8; }
// Activation types of QLinearConv / QGemm / QLinearMatMul: 8-bit, or int16 (A16W8 layers).
bool is_q8_or_16(DType t) { return is_q8(t) || t == DType::kS16; }

// Calls f(TIn{}, TOut{}) for the activation types of an A16W8 node (u8, s8 or s16 each).
template <class F>
void a16_dispatch(DType in, DType out, F&& f) {
  auto with_out = [&](auto ti) {
    if (out == DType::kU8) {
      f(ti, uint8_t{});
    } else if (out == DType::kS8) {
      f(ti, int8_t{});
    } else {
      f(ti, int16_t{});
    }
  };
  if (in == DType::kU8) {
    with_out(uint8_t{});
  } else if (in == DType::kS8) {
    with_out(int8_t{});
  } else {
    with_out(int16_t{});
  }
}

// The plan of a prepared INT8 kernel (ConvS8Kernel / FullyConnectedS8Kernel) by measurement:
// every candidate prepared with `prep(plan)` and run on `batch` samples of a constant input of
// the layer's real shape (the kernels' time does not depend on the values). Returns the plan to
// prepare ("" = the heuristic) and the note Op::tuning() reports.
template <class Kernel, class Prep>
Result<std::string> tune_plan(const PrepareContext& c, const std::string& key,
                              const std::vector<std::string>& candidates, Prep prep,
                              size_t in_bytes, size_t out_bytes, int64_t batch, std::string& note) {
  std::vector<std::byte> x(in_bytes, std::byte{0x5b}), y(out_bytes), scratch;
  auto measure = [&](const std::string& plan, int runs) -> Result<double> {
    EI8_ASSIGN_OR_RETURN(Kernel k, prep(plan));
    scratch.resize(k.scratch_bytes(batch) + 64);
    k.run(x.data(), y.data(), scratch.data(), batch);  // warm-up: caches, first touch
    double best = std::numeric_limits<double>::infinity();
    for (int i = 0; i < runs; ++i) {
      const auto t0 = std::chrono::steady_clock::now();
      k.run(x.data(), y.data(), scratch.data(), batch);
      best = std::min(
          best,
          std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count());
    }
    return best;
  };
  EI8_ASSIGN_OR_RETURN(std::string plan, c.tuner->choose(key, candidates, measure));
  if (const kernels::TuneRecord* r = c.tuner->find(key)) {
    note = r->from_file ? fmt::format("from tuning file ({:.1f} µs)", r->us)
                        : fmt::format("tuned {:.1f} µs, best of {}", r->us, r->candidates);
    if (!r->runner_up.empty()) {
      note += fmt::format("; runner-up {} {:.1f} µs", r->runner_up, r->runner_up_us);
    }
  }
  return plan;
}

// Constant scales of input `i`: finite and > 0, 1 or `count` (0 = any) values.
Result<std::vector<float>> scales_of(const PrepareContext& c, size_t i, int64_t count = 1) {
  const Tensor* t = i < c.constants.size() ? c.constants[i] : nullptr;
  if (t == nullptr || t->dtype() != DType::kF32) {
    return op_error(c, "input {} (scale) = runtime or non-f32 tensor, must be a f32 constant", i);
  }
  if (t->numel() != 1 && count != 0 && t->numel() != count) {
    return op_error(c, "input {} (scale) size = {}, must be 1 or {}", i, t->numel(), count);
  }
  std::vector<float> s(t->span<float>().begin(), t->span<float>().end());
  for (float v : s) {
    if (!std::isfinite(v) || !(v > 0.0f)) {
      return op_error(c, "input {} (scale) = {}, must be finite and > 0", i, v);
    }
  }
  return s;
}

// Constant zero points of input `i` (absent = 0) for data of type `t`; in t's range.
Result<std::vector<int32_t>> zero_points_of(const PrepareContext& c, size_t i, DType t) {
  if (i >= c.node.inputs.size() || c.node.input(i).empty()) return std::vector<int32_t>{0};
  const Tensor* z = c.constants[i];
  if (z == nullptr) return op_error(c, "input {} (zero point) must be a constant", i);
  std::vector<int32_t> out;
  for (int64_t k = 0; k < z->numel(); ++k) {
    const int32_t v = load_int(*z, k);
    if (v < int8_type_min(t) || v > int8_type_max(t)) {
      return op_error(c, "input {} (zero point) = {}, must be in [{}, {}]", i, v, int8_type_min(t),
                      int8_type_max(t));
    }
    out.push_back(v);
  }
  if (out.empty()) out.push_back(0);
  return out;
}

Result<int32_t> zero_point_of(const PrepareContext& c, size_t i, DType t) {
  EI8_ASSIGN_OR_RETURN(std::vector<int32_t> z, zero_points_of(c, i, t));
  if (std::any_of(z.begin(), z.end(), [&](int32_t v) { return v != z[0]; })) {
    return op_error(c, "input {} (zero point) values differ, must be one per tensor", i);
  }
  return z[0];
}

// The simulated accumulator register of a MAC node (attributes "accumulator_bits",
// "accumulator_policy", set by Int8LoweringOptions); absent = the exact int32 sum.
Status accumulator_of(const PrepareContext& c, int& bits, fixedpoint::OverflowPolicy& policy) {
  const int64_t b = c.node.attr_int("accumulator_bits", 0);
  bits = 0;
  if (b == 0) return {};
  if (b < 2 || b > 64) return op_error(c, "accumulator_bits = {}, must be 0 or in [2, 64]", b);
  const std::string p = c.node.attr_string("accumulator_policy", "saturate");
  if (p != "saturate" && p != "wrap") {
    return op_error(c, "accumulator_policy = '{}', must be saturate or wrap", p);
  }
  bits = static_cast<int>(b);
  policy = p == "wrap" ? fixedpoint::OverflowPolicy::kWrap : fixedpoint::OverflowPolicy::kSaturate;
  return {};
}

Result<RequantProfile> profile_of(const PrepareContext& c) {
  auto p = fixedpoint::parse_profile(c.node.attr_string("requant_profile", "ort"));
  if (!p.ok()) return op_error(c, "{}", p.status().message());
  return p.value();
}

// Output clamp: the type's range ∩ the lowering's fused activation bounds.
std::pair<int32_t, int32_t> out_clamp(const PrepareContext& c, DType y) {
  return {
      std::max<int32_t>(int8_type_min(y), static_cast<int32_t>(c.node.attr_int("qmin", INT32_MIN))),
      std::min<int32_t>(int8_type_max(y),
                        static_cast<int32_t>(c.node.attr_int("qmax", INT32_MAX)))};
}

// s8 weights: u8 weights w with zero point z become (w − 128, z − 128); the products are equal.
std::vector<int8_t> weights_s8(const Tensor& w, int32_t& zero_point) {
  std::vector<int8_t> out(static_cast<size_t>(w.numel()));
  if (w.dtype() == DType::kU8) {
    for (size_t i = 0; i < out.size(); ++i)
      out[i] = static_cast<int8_t>(w.span<uint8_t>()[i] - 128);
    zero_point -= 128;
  } else {
    std::copy(w.span<int8_t>().begin(), w.span<int8_t>().end(), out.begin());
  }
  return out;
}

Status need_q8(const PrepareContext& c, size_t i) {
  if (!is_q8(c.in_dtypes[i])) {
    return op_error(c, "input {} dtype = {}, must be u8 or s8", i, dtype_name(c.in_dtypes[i]));
  }
  return {};
}

kernels::IntType int_type(DType t) {
  return t == DType::kU8 ? kernels::IntType::kU8 : kernels::IntType::kS8;
}
kernels::A16Type a16_type(DType t) {
  return t == DType::kU8   ? kernels::A16Type::kU8
         : t == DType::kS8 ? kernels::A16Type::kS8
                           : kernels::A16Type::kS16;
}

// ---- QuantizeLinear / DequantizeLinear ------------------------------------------------------
struct AxisPlan {
  int64_t outer = 1, channels = 1, inner = 1;
  std::vector<float> scales;
  std::vector<int32_t> zero_points;
  Status prepare(const PrepareContext& c, const Shape& shape, DType qtype) {
    EI8_ASSIGN_OR_RETURN(scales, scales_of(c, 1, 0));
    EI8_ASSIGN_OR_RETURN(zero_points, zero_points_of(c, 2, qtype));
    if (zero_points.size() != scales.size()) {
      if (zero_points.size() != 1 || c.node.inputs.size() > 2) {
        return op_error(c, "zero points = {}, must be {}", zero_points.size(), scales.size());
      }
      zero_points.assign(scales.size(), zero_points[0]);
    }
    if (qtype == DType::kS32 &&
        std::any_of(zero_points.begin(), zero_points.end(), [](int32_t z) { return z != 0; })) {
      return op_error(c, "int32 zero point must be 0");
    }
    const int64_t total = shape_numel(shape);
    outer = 1;
    channels = 1;
    inner = total;
    if (scales.size() > 1) {
      const int64_t rank = static_cast<int64_t>(shape.size());
      int64_t axis = c.node.attr_int("axis", 1);
      if (axis < 0) axis += rank;
      if (axis < 0 || axis >= rank ||
          shape[static_cast<size_t>(axis)] != static_cast<int64_t>(scales.size())) {
        return op_error(c, "axis = {}, must index a dimension of size {}", axis, scales.size());
      }
      for (int64_t d = 0; d < axis; ++d) outer *= shape[static_cast<size_t>(d)];
      channels = shape[static_cast<size_t>(axis)];
      inner = total / std::max<int64_t>(1, outer * channels);
    }
    return {};
  }
};

class QuantizeLinearOp : public Op {
 public:
  Status prepare(const PrepareContext& c) override {
    if (c.in_dtypes[0] != DType::kF32) return op_error(c, "input dtype must be f32");
    qtype_ = c.node.inputs.size() > 2 && !c.node.input(2).empty() ? c.in_dtypes[2] : DType::kU8;
    if (!is_q8_or_16(qtype_)) return op_error(c, "zero point dtype must be u8, s8 or s16");
    choice_ = c.kernel;
    return plan_.prepare(c, c.in_shapes[0], qtype_);
  }
  std::string_view variant() const override {
    return qtype_ == DType::kS16 ? "ref-s16" : kernels::quantize_linear_f32_loop(choice_);
  }
  void run(std::span<const std::byte* const> in, std::span<std::byte* const> out,
           std::byte*) const override {
    // fixedpoint::quantize per element, per run of `inner` elements (conv_s8.h; the
    // AVX2 loop is bit-exact with the scalar one).
    const float* x = reinterpret_cast<const float*>(in[0]);
    if (qtype_ == DType::kS16) {  // int16 (A16W8): fixedpoint::quantize per element
      auto* y16 = reinterpret_cast<int16_t*>(out[0]);
      int64_t i = 0;
      for (int64_t o = 0; o < plan_.outer; ++o) {
        for (int64_t ch = 0; ch < plan_.channels; ++ch) {
          const float s = plan_.scales[static_cast<size_t>(ch)];
          const int32_t z = plan_.zero_points[static_cast<size_t>(ch)];
          for (int64_t k = 0; k < plan_.inner; ++k, ++i) {
            y16[i] = static_cast<int16_t>(fixedpoint::quantize(x[i], s, z, -32768, 32767));
          }
        }
      }
      return;
    }
    auto* y = reinterpret_cast<int8_t*>(out[0]);
    int64_t i = 0;
    for (int64_t o = 0; o < plan_.outer; ++o) {
      for (int64_t ch = 0; ch < plan_.channels; ++ch, i += plan_.inner) {
        kernels::quantize_linear_f32(x + i, plan_.inner, plan_.scales[static_cast<size_t>(ch)],
                                     plan_.zero_points[static_cast<size_t>(ch)], int_type(qtype_),
                                     y + i, choice_);
      }
    }
  }

 private:
  AxisPlan plan_;
  DType qtype_ = DType::kU8;
  kernels::KernelChoice choice_ = kernels::KernelChoice::kAuto;
};

class DequantizeLinearOp : public Op {
 public:
  Status prepare(const PrepareContext& c) override {
    qtype_ = c.in_dtypes[0];
    if (qtype_ == DType::kF32) return op_error(c, "input dtype must be u8, s8, s16 or s32");
    return plan_.prepare(c, c.in_shapes[0], qtype_);
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
          int32_t q = 0;
          if (qtype_ == DType::kU8) {
            q = reinterpret_cast<const uint8_t*>(in[0])[i];
          } else if (qtype_ == DType::kS8) {
            q = reinterpret_cast<const int8_t*>(in[0])[i];
          } else if (qtype_ == DType::kS16) {
            q = reinterpret_cast<const int16_t*>(in[0])[i];
          } else {
            q = reinterpret_cast<const int32_t*>(in[0])[i];
          }
          y[i] = fixedpoint::dequantize(q, s, z);
        }
      }
    }
  }

 private:
  AxisPlan plan_;
  DType qtype_ = DType::kU8;
};

// ---- QLinearConv ----------------------------------------------------------------------------
class QLinearConvOp : public Op {
 public:
  Status prepare(const PrepareContext& c) override {
    if (c.node.inputs.size() < 8)
      return op_error(c, "inputs = {}, must be >= 8", c.node.inputs.size());
    in_ = c.in_dtypes[0];
    out_ = c.in_dtypes[7];
    if (!is_q8_or_16(in_)) {
      return op_error(c, "input 0 dtype = {}, must be u8, s8 or s16", dtype_name(in_));
    }
    if (!is_q8_or_16(out_)) return op_error(c, "output zero point dtype must be u8, s8 or s16");
    a16_ = in_ == DType::kS16 || out_ == DType::kS16;
    const Tensor* w = c.constants[3];
    if (w == nullptr || !is_q8(w->dtype())) return op_error(c, "weight must be a u8/s8 constant");
    // The geometry (ranks, channels, window) from the layer view.
    EI8_ASSIGN_OR_RETURN(LayerGeometry layer, decode_layer(c.node, c.in_shapes, c.out_shapes));
    const int64_t oc = layer.out_channels;
    EI8_ASSIGN_OR_RETURN(std::vector<float> sx, scales_of(c, 1));
    EI8_ASSIGN_OR_RETURN(int32_t zx, zero_point_of(c, 2, in_));
    EI8_ASSIGN_OR_RETURN(std::vector<float> sw, scales_of(c, 4, oc));
    EI8_ASSIGN_OR_RETURN(int32_t zw, zero_point_of(c, 5, w->dtype()));
    EI8_ASSIGN_OR_RETURN(std::vector<float> sy, scales_of(c, 6));
    EI8_ASSIGN_OR_RETURN(int32_t zy, zero_point_of(c, 7, out_));
    weights_ = weights_s8(*w, zw);
    if (c.node.inputs.size() > 8 && !c.node.input(8).empty()) {
      const Tensor* b = c.constants[8];
      if (b == nullptr || b->dtype() != DType::kS32 || b->numel() != oc) {
        return op_error(c, "bias must be an s32 constant of {} values", oc);
      }
      bias_.assign(b->span<int32_t>().begin(), b->span<int32_t>().end());
    }
    const fixedpoint::ConvGeometry g = conv_geometry(layer);
    EI8_ASSIGN_OR_RETURN(RequantProfile profile, profile_of(c));
    const auto [lo, hi] = out_clamp(c, out_);
    auto rq = Requantizer::prepare(profile, sx[0], sw, sy[0], zy, lo, hi);
    if (!rq.ok()) return op_error(c, "{}", rq.status().message());
    p_.geometry = g;
    p_.input_zero_point = zx;
    p_.weight_zero_point = zw;
    p_.requant = std::move(rq).value();
    EI8_RETURN_IF_ERROR(accumulator_of(c, p_.accumulator_bits, p_.accumulator_policy));
    if (shape_numel(c.out_shapes[0]) != g.output_numel()) {
      return op_error(c, "output size = {}, must be {}", shape_numel(c.out_shapes[0]),
                      g.output_numel());
    }
    batch_ = g.batch;
    if (a16_) {
      // A16W8 (an int16 input or output): the prepared A16W8 kernel (kernels/conv_a16.h),
      // bit-exact with the int64 reference kernels (kernels/ref/a16w8_ref.h) in every profile;
      // its tier by measurement when a tuner is given.
      Status s;
      a16_dispatch(in_, out_, [&]<typename TI, typename TO>(TI, TO) {
        s = kernels::conv_a16_check<TI, TO>(p_);
      });
      if (!s.ok()) return op_error(c, "{}", s.message());
      auto prep = [&](const std::string& pl) {
        return kernels::ConvA16Kernel::prepare(p_, weights_, bias_, a16_type(in_), a16_type(out_),
                                               c.kernel, pl);
      };
      std::string plan;
      if (c.tuner != nullptr) {
        const std::string key = fmt::format(
            "a16-conv {}->{} n{} c{} {}x{} oc{} k{}x{} s{}x{} d{}x{} p{},{},{},{} g{} {} {}",
            dtype_name(in_), dtype_name(out_), g.batch, g.in_channels, g.in_h, g.in_w,
            g.out_channels, g.kernel_h, g.kernel_w, g.stride_h, g.stride_w, g.dilation_h,
            g.dilation_w, g.pad_top, g.pad_left, g.pad_bottom, g.pad_right, g.groups,
            fixedpoint::profile_name(profile), kernels::kernel_choice_name(c.kernel));
        auto chosen = tune_plan<kernels::ConvA16Kernel>(
            c, key, kernels::ConvA16Kernel::plan_candidates(p_, c.kernel), prep,
            static_cast<size_t>(g.input_numel()) * 2, static_cast<size_t>(g.output_numel()) * 2,
            g.batch, tuning_);
        if (!chosen.ok()) return op_error(c, "{}", chosen.status().message());
        plan = *chosen;
      }
      auto k16 = prep(plan);
      if (!k16.ok()) return op_error(c, "{}", k16.status().message());
      conv16_.emplace(std::move(k16).value());
      variant_ = fmt::format("a16w8:{}", conv16_->variant());
      return {};
    }
    if (Status s = p_.validate(); !s.ok()) return op_error(c, "{}", s.message());
    // The prepared kernel of the fastest INT8 tier (or the forced one), bit-exact with the
    // reference kernels in every profile; its plan by measurement when a tuner is given.
    std::string plan;
    if (c.tuner != nullptr) {
      auto cands = kernels::ConvS8Kernel::plan_candidates(p_, weights_, int_type(in_),
                                                          int_type(out_), c.kernel);
      if (!cands.ok()) return op_error(c, "{}", cands.status().message());
      const std::string key = fmt::format(
          "int8-conv {}->{} n{} c{} {}x{} oc{} k{}x{} s{}x{} d{}x{} p{},{},{},{} g{} zw{} {} {}",
          dtype_name(in_), dtype_name(out_), g.batch, g.in_channels, g.in_h, g.in_w, g.out_channels,
          g.kernel_h, g.kernel_w, g.stride_h, g.stride_w, g.dilation_h, g.dilation_w, g.pad_top,
          g.pad_left, g.pad_bottom, g.pad_right, g.groups, zw, fixedpoint::profile_name(profile),
          kernels::kernel_choice_name(c.kernel));
      auto prep = [&](const std::string& pl) {
        return kernels::ConvS8Kernel::prepare(p_, weights_, bias_, int_type(in_), int_type(out_),
                                              c.kernel, pl);
      };
      auto chosen = tune_plan<kernels::ConvS8Kernel>(
          c, key, *cands, prep, static_cast<size_t>(g.input_numel()),
          static_cast<size_t>(g.output_numel()) * 4, g.batch, tuning_);
      if (!chosen.ok()) return op_error(c, "{}", chosen.status().message());
      plan = *chosen;
    }
    auto conv = kernels::ConvS8Kernel::prepare(p_, weights_, bias_, int_type(in_), int_type(out_),
                                               c.kernel, plan);
    if (!conv.ok()) return op_error(c, "{}", conv.status().message());
    conv_.emplace(std::move(conv).value());
    return {};
  }
  size_t scratch_bytes() const override {
    return a16_ ? conv16_->scratch_bytes(batch_) : conv_->scratch_bytes(batch_);
  }
  std::string_view variant() const override { return a16_ ? variant_ : conv_->variant(); }
  std::string tuning() const override { return tuning_; }
  void run(std::span<const std::byte* const> in, std::span<std::byte* const> out,
           std::byte* scratch) const override {
    if (a16_) {
      conv16_->run(in[0], out[0], scratch, batch_);
      return;
    }
    conv_->run(in[0], out[0], scratch, batch_);
  }

 private:
  bool a16_ = false;
  kernels::ConvS8Params p_;
  std::vector<int8_t> weights_;
  std::vector<int32_t> bias_;
  DType in_ = DType::kU8, out_ = DType::kU8;
  std::optional<kernels::ConvS8Kernel> conv_;
  std::optional<kernels::ConvA16Kernel> conv16_;  // A16W8
  std::string variant_;                           // A16W8: "a16w8:<plan>"
  int64_t batch_ = 1;
  std::string tuning_;
};

// ---- QLinearMatMul / QGemm / MatMulIntegerToFloat: fully connected over constant weights -----
// Input positions of the three node forms (ONNX / com.microsoft); -1 = absent. QGemm without
// y_scale / y_zero_point and MatMulIntegerToFloat give a float output: y = fl32(float(acc)·m_c),
// m_c = fl32(s_a·s_b[c]) (ORT's QGemm and MatMulIntegerToFloat, qlinear_ref.h "to_float").
enum class FcForm { kQLinearMatMul, kQGemm, kMatMulIntegerToFloat };
struct FcInputs {
  int a, sa, za, b, sb, zb, bias, sy, zy;
};
FcInputs fc_inputs(FcForm f) {
  switch (f) {
    case FcForm::kQLinearMatMul:
      return {0, 1, 2, 3, 4, 5, -1, 6, 7};
    case FcForm::kQGemm:
      return {0, 1, 2, 3, 4, 5, 6, 7, 8};
    case FcForm::kMatMulIntegerToFloat:
      return {0, 2, 4, 1, 3, 5, -1, -1, -1};
  }
  return {};
}

class QFullyConnectedOp : public Op {
 public:
  explicit QFullyConnectedOp(FcForm form) : form_(form) {}
  Status prepare(const PrepareContext& c) override {
    const FcInputs ix = fc_inputs(form_);
    const size_t ni = c.node.inputs.size();
    auto has = [&](int i) {
      return i >= 0 && static_cast<size_t>(i) < ni && !c.node.input(i).empty();
    };
    float_out_ = !has(ix.sy);
    const size_t need = form_ == FcForm::kQGemm ? 6 : (form_ == FcForm::kQLinearMatMul ? 8 : 4);
    if (ni < need) return op_error(c, "inputs = {}, must be >= {}", ni, need);
    in_ = c.in_dtypes[static_cast<size_t>(ix.a)];
    if (!is_q8_or_16(in_)) {
      return op_error(c, "input {} dtype = {}, must be u8, s8 or s16", ix.a, dtype_name(in_));
    }
    out_ = float_out_ ? DType::kF32 : (has(ix.zy) ? c.in_dtypes[static_cast<size_t>(ix.zy)] : in_);
    if (!float_out_ && !is_q8_or_16(out_)) {
      return op_error(c, "output zero point dtype must be u8, s8 or s16");
    }
    a16_ = in_ == DType::kS16 || out_ == DType::kS16;
    if (a16_ && float_out_) {
      return op_error(c, "int16 input with a float output = unsupported, must have y_scale");
    }
    const Shape& a = c.in_shapes[static_cast<size_t>(ix.a)];
    const Tensor* b = c.constants[static_cast<size_t>(ix.b)];
    if (b == nullptr || !is_q8(b->dtype()) || b->rank() < 2) {
      return op_error(c, "B must be a u8/s8 constant of rank >= 2");
    }
    if (a.size() < 2) return op_error(c, "A rank = {}, must be >= 2", a.size());
    // Transposes, alpha, K, N and B's batches from the layer view (Gemm: A and B 2-D, equal
    // inner dimensions).
    EI8_ASSIGN_OR_RETURN(LayerGeometry layer, decode_layer(c.node, c.in_shapes, c.out_shapes));
    if (layer.trans_a) return op_error(c, "transA = 1, must be 0");
    if (layer.alpha != 1.0f) return op_error(c, "alpha = {}, must be 1", layer.alpha);
    const bool trans_b = layer.trans_b;
    const int64_t k = layer.in_channels, n = layer.out_channels;
    if (k < 1 || n < 1) return op_error(c, "K = {}, N = {}, must be >= 1", k, n);
    b_batches_ = layer.weight_batches;
    rows_ = a[a.size() - 2];
    a_batches_ = shape_numel(a) / (rows_ * k);
    if (b_batches_ > 1 && b_batches_ != a_batches_) {
      return op_error(c, "B batches = {}, must be 1 or A's {}", b_batches_, a_batches_);
    }
    if (b_batches_ == 1) {
      rows_ *= a_batches_;
      a_batches_ = 1;
    }
    EI8_ASSIGN_OR_RETURN(std::vector<float> sa, scales_of(c, static_cast<size_t>(ix.sa)));
    EI8_ASSIGN_OR_RETURN(int32_t za, zero_point_of(c, static_cast<size_t>(ix.za), in_));
    EI8_ASSIGN_OR_RETURN(std::vector<float> sb, scales_of(c, static_cast<size_t>(ix.sb), n));
    EI8_ASSIGN_OR_RETURN(int32_t zb, zero_point_of(c, static_cast<size_t>(ix.zb), b->dtype()));
    std::vector<float> sy{1.0f};
    int32_t zy = 0;
    if (!float_out_) {
      EI8_ASSIGN_OR_RETURN(sy, scales_of(c, static_cast<size_t>(ix.sy)));
      EI8_ASSIGN_OR_RETURN(zy, zero_point_of(c, static_cast<size_t>(ix.zy), out_));
    }
    std::vector<int8_t> w = weights_s8(*b, zb);
    // Weights as [batch][n][k] (fully connected layout).
    weights_.resize(w.size());
    for (int64_t bb = 0; bb < b_batches_; ++bb) {
      for (int64_t j = 0; j < n; ++j) {
        for (int64_t i = 0; i < k; ++i) {
          const int64_t src = trans_b ? j * k + i : i * n + j;
          weights_[static_cast<size_t>((bb * n + j) * k + i)] =
              w[static_cast<size_t>(bb * k * n + src)];
        }
      }
    }
    bias_.clear();
    if (has(ix.bias)) {
      const Tensor* bias = c.constants[static_cast<size_t>(ix.bias)];
      if (bias == nullptr || bias->dtype() != DType::kS32 || bias->numel() != n) {
        return op_error(c, "C must be an s32 constant of {} values", n);
      }
      bias_.assign(bias->span<int32_t>().begin(), bias->span<int32_t>().end());
    }
    // Float output: m_c = fl32(s_a·s_b[c]) (ORT: alpha·a_scale·b_scale[c] with alpha = 1).
    multipliers_.clear();
    for (float s : sb) multipliers_.push_back(sa[0] * s);
    EI8_ASSIGN_OR_RETURN(RequantProfile profile, profile_of(c));
    const auto [lo, hi] = float_out_ ? std::pair<int32_t, int32_t>{-128, 127} : out_clamp(c, out_);
    auto rq = Requantizer::prepare(profile, sa[0], sb, sy[0], float_out_ ? 0 : zy, lo, hi);
    if (!rq.ok()) return op_error(c, "{}", rq.status().message());
    p_.batch = rows_;
    p_.in_features = k;
    p_.out_features = n;
    p_.input_zero_point = za;
    p_.weight_zero_point = zb;
    p_.requant = std::move(rq).value();
    EI8_RETURN_IF_ERROR(accumulator_of(c, p_.accumulator_bits, p_.accumulator_policy));
    if (a16_) {
      // A16W8: the prepared A16W8 kernel (kernels/conv_a16.h) per B batch, weights
      // [b_batches][n][k] (out-in); its tier by measurement when a tuner is given.
      Status s;
      a16_dispatch(in_, out_, [&]<typename TI, typename TO>(TI, TO) {
        s = kernels::fully_connected_a16_check<TI, TO>(p_);
      });
      if (!s.ok()) return op_error(c, "{}", s.message());
      auto prep_b = [&](int64_t bb, const std::string& pl) {
        const std::span<const int8_t> wb(weights_.data() + bb * n * k, static_cast<size_t>(n * k));
        return kernels::FullyConnectedA16Kernel::prepare(p_, wb, bias_, a16_type(in_),
                                                         a16_type(out_), c.kernel, pl);
      };
      std::string plan;
      if (c.tuner != nullptr) {
        const std::string key = fmt::format(
            "a16-fc {}->{} m{} k{} n{} {} {}", dtype_name(in_), dtype_name(out_), rows_, k, n,
            fixedpoint::profile_name(profile), kernels::kernel_choice_name(c.kernel));
        auto chosen = tune_plan<kernels::FullyConnectedA16Kernel>(
            c, key, kernels::ConvA16Kernel::plan_candidates(c.kernel),
            [&](const std::string& pl) { return prep_b(0, pl); },
            static_cast<size_t>(rows_ * k) * 2, static_cast<size_t>(rows_ * n) * 2, rows_, tuning_);
        if (!chosen.ok()) return op_error(c, "{}", chosen.status().message());
        plan = *chosen;
      }
      fc16_.clear();
      for (int64_t bb = 0; bb < b_batches_; ++bb) {
        auto fc = prep_b(bb, plan);
        if (!fc.ok()) return op_error(c, "{}", fc.status().message());
        fc16_.push_back(std::move(fc).value());
      }
      variant_ = fmt::format("a16w8:{}", fc16_.front().variant());
      return {};
    }
    if (Status s = p_.validate(); !s.ok()) return op_error(c, "{}", s.message());
    fc_.clear();
    const kernels::IntType kout = float_out_ ? kernels::IntType::kS32 : int_type(out_);
    std::string plan;
    if (c.tuner != nullptr) {
      const std::span<const int8_t> w0(weights_.data(), static_cast<size_t>(n * k));
      auto cands = kernels::FullyConnectedS8Kernel::plan_candidates(
          p_, w0, kernels::WeightLayout::kOutIn, int_type(in_), kout, c.kernel);
      if (!cands.ok()) return op_error(c, "{}", cands.status().message());
      const std::string key = fmt::format(
          "int8-fc {}->{} m{} k{} n{} zw{} {} {}", dtype_name(in_), dtype_name(out_), rows_, k, n,
          zb, fixedpoint::profile_name(profile), kernels::kernel_choice_name(c.kernel));
      auto prep = [&](const std::string& pl) {
        return kernels::FullyConnectedS8Kernel::prepare(
            p_, w0, bias_, kernels::WeightLayout::kOutIn, int_type(in_), kout, c.kernel, pl);
      };
      auto chosen = tune_plan<kernels::FullyConnectedS8Kernel>(
          c, key, *cands, prep, static_cast<size_t>(rows_ * k), static_cast<size_t>(rows_ * n) * 4,
          rows_, tuning_);
      if (!chosen.ok()) return op_error(c, "{}", chosen.status().message());
      plan = *chosen;
    }
    for (int64_t bb = 0; bb < b_batches_; ++bb) {
      const std::span<const int8_t> wb(weights_.data() + bb * n * k, static_cast<size_t>(n * k));
      auto fc = kernels::FullyConnectedS8Kernel::prepare(
          p_, wb, bias_, kernels::WeightLayout::kOutIn, int_type(in_), kout, c.kernel, plan);
      if (!fc.ok()) return op_error(c, "{}", fc.status().message());
      fc_.push_back(std::move(fc).value());
    }
    return {};
  }
  size_t scratch_bytes() const override {
    if (a16_) return fc16_.front().scratch_bytes(rows_);
    // Float output: the int32 accumulators of one A batch first (64-byte aligned size).
    return acc_bytes() + fc_.front().scratch_bytes(rows_);
  }
  std::string_view variant() const override { return a16_ ? variant_ : fc_.front().variant(); }
  std::string tuning() const override { return tuning_; }
  void run(std::span<const std::byte* const> in, std::span<std::byte* const> out,
           std::byte* scratch) const override {
    const FcInputs ix = fc_inputs(form_);
    const int64_t k = p_.in_features, n = p_.out_features;
    if (a16_) {
      const size_t in_size = in_ == DType::kS16 ? 2 : 1, out_size = out_ == DType::kS16 ? 2 : 1;
      for (int64_t bb = 0; bb < a_batches_; ++bb) {
        fc16_[static_cast<size_t>(b_batches_ > 1 ? bb : 0)].run(
            in[static_cast<size_t>(ix.a)] + static_cast<size_t>(bb * rows_ * k) * in_size,
            out[0] + static_cast<size_t>(bb * rows_ * n) * out_size, scratch, rows_);
      }
      return;
    }
    const size_t in_size = 1;
    const size_t out_size = out_ == DType::kF32 ? sizeof(float) : 1;
    for (int64_t bb = 0; bb < a_batches_; ++bb) {
      const std::byte* a =
          in[static_cast<size_t>(ix.a)] + static_cast<size_t>(bb * rows_ * k) * in_size;
      std::byte* y = out[0] + static_cast<size_t>(bb * rows_ * n) * out_size;
      const auto& fc = fc_[static_cast<size_t>(b_batches_ > 1 ? bb : 0)];
      if (!float_out_) {
        fc.run(a, y, scratch, rows_);
        continue;
      }
      auto* acc = reinterpret_cast<int32_t*>(scratch);
      fc.run(a, acc, scratch + acc_bytes(), rows_);
      kernels::accumulators_to_float_ref(acc, rows_, n, multipliers_, reinterpret_cast<float*>(y));
    }
  }

 private:
  size_t acc_bytes() const {
    if (!float_out_) return 0;
    const size_t b = static_cast<size_t>(rows_ * p_.out_features) * sizeof(int32_t);
    return (b + 63) / 64 * 64;
  }
  FcForm form_;
  bool a16_ = false;
  bool float_out_ = false;
  kernels::FullyConnectedS8Params p_;
  std::vector<kernels::FullyConnectedS8Kernel> fc_;
  std::vector<kernels::FullyConnectedA16Kernel> fc16_;  // A16W8, one per B batch
  std::string variant_;                                 // A16W8: "a16w8:<plan>"
  std::vector<int8_t> weights_;
  std::vector<int32_t> bias_;
  std::vector<float> multipliers_;
  int64_t rows_ = 1, a_batches_ = 1, b_batches_ = 1;
  DType in_ = DType::kU8, out_ = DType::kU8;
  std::string tuning_;
};

// ---- broadcasting of two 8-bit inputs -------------------------------------------------------
// Numpy broadcasting as rows × cols: per output row the element offsets of A and B, and the
// column strides (1, or 0 where an input repeats along the merged innermost dimensions). A
// squeeze-excite scale [N, C, 1, 1] against [N, C, H, W] is N·C rows of H·W columns, B's column
// stride 0.
struct Broadcast2 {
  int64_t rows = 1, cols = 1, a_stride = 1, b_stride = 1;
  std::vector<int64_t> a_row, b_row;

  Status plan(const PrepareContext& c, const Shape& a, const Shape& b, const Shape& y) {
    const size_t r = y.size();
    std::vector<int64_t> sa(r, 0), sb(r, 0);
    auto strides = [&](const Shape& x, std::vector<int64_t>& st) -> Status {
      if (x.size() > r) return op_error(c, "input rank = {}, must be <= {}", x.size(), r);
      int64_t run = 1;
      for (size_t i = 0; i < x.size(); ++i) {
        const size_t xi = x.size() - 1 - i, yi = r - 1 - i;
        if (x[xi] != y[yi] && x[xi] != 1) {
          return op_error(c, "input shape {} does not broadcast to {}", shape_to_string(x),
                          shape_to_string(y));
        }
        st[yi] = x[xi] == 1 && y[yi] != 1 ? 0 : run;
        run *= x[xi];
      }
      return {};
    };
    EI8_RETURN_IF_ERROR(strides(a, sa));
    EI8_RETURN_IF_ERROR(strides(b, sb));
    // Merge innermost dimensions while both inputs stay contiguous (or both stay repeated).
    std::vector<int64_t> dims(y.begin(), y.end());
    cols = r == 0 ? 1 : dims[r - 1];
    a_stride = r == 0 ? 1 : sa[r - 1];
    b_stride = r == 0 ? 1 : sb[r - 1];
    size_t inner = r == 0 ? 0 : r - 1;
    while (inner > 0) {
      const size_t d = inner - 1;
      if (sa[d] != a_stride * cols || sb[d] != b_stride * cols) break;
      cols *= dims[d];
      inner = d;
    }
    rows = 1;
    for (size_t d = 0; d < inner; ++d) rows *= dims[d];
    a_row.assign(static_cast<size_t>(rows), 0);
    b_row.assign(static_cast<size_t>(rows), 0);
    std::vector<int64_t> idx(inner, 0);
    for (int64_t row = 0; row < rows; ++row) {
      int64_t oa = 0, ob = 0;
      for (size_t d = 0; d < inner; ++d) {
        oa += idx[d] * sa[d];
        ob += idx[d] * sb[d];
      }
      a_row[static_cast<size_t>(row)] = oa;
      b_row[static_cast<size_t>(row)] = ob;
      for (size_t d = inner; d-- > 0;) {
        if (++idx[d] < dims[d]) break;
        idx[d] = 0;
      }
    }
    return {};
  }
  bool elementwise() const { return rows == 1 && a_stride == 1 && b_stride == 1; }
  // c = table[(byte(a) << 8) | byte(b)] over the broadcast. A long contiguous row with b fixed
  // (a squeeze-excite scale: Mul [N, C, H, W] × [N, C, 1, 1]) first copies its 256-entry column
  // of the table, then looks the row up in it (AVX-512 VBMI when `choice` and the CPU allow,
  // conv_s8.h lookup_table_u8); a contiguous row with a fixed (EfficientNet-B0's Mul(scale, x))
  // looks up in row a of the table directly: the same table entries either way.
  void run_table(const uint8_t* t, const uint8_t* a, const uint8_t* b, uint8_t* c,
                 kernels::KernelChoice choice) const {
    for (int64_t row = 0; row < rows; ++row) {
      const uint8_t* pa = a + a_row[static_cast<size_t>(row)];
      const uint8_t* pb = b + b_row[static_cast<size_t>(row)];
      uint8_t* pc = c + row * cols;
      if (b_stride == 0 && a_stride == 1 && cols >= 1024) {
        uint8_t column[256];
        for (unsigned k = 0; k < 256; ++k) column[k] = t[(k << 8) | pb[0]];
        kernels::lookup_table_u8(column, 0, pa, pc, cols, choice);
      } else if (a_stride == 0 && b_stride == 1 && cols >= 32) {
        // a fixed (torchvision's squeeze-excite computes scale · x): row a of the table is
        // contiguous, the lookup table itself.
        kernels::lookup_table_u8(t + (unsigned{pa[0]} << 8), 0, pb, pc, cols, choice);
      } else if (b_stride == 0) {
        const uint8_t* tb = t + pb[0];  // column b fixed: t[(a << 8) | b]
        for (int64_t j = 0; j < cols; ++j) pc[j] = tb[unsigned{pa[j * a_stride]} << 8];
      } else {
        for (int64_t j = 0; j < cols; ++j) {
          pc[j] = t[(unsigned{pa[j * a_stride]} << 8) | pb[j * b_stride]];
        }
      }
    }
  }
};

// A 256 × 256 table of a binary op of two 8-bit codes, indexed by (byte(a) << 8) | byte(b):
// the reference evaluated once on every pair is bit-exact by construction (64 KiB).
template <typename T, typename F>
std::vector<uint8_t> pair_table(F ref) {
  std::vector<T> a(65536), b(65536), c(65536);
  for (uint32_t i = 0; i < 65536; ++i) {
    a[i] = static_cast<T>(static_cast<uint8_t>(i >> 8));
    b[i] = static_cast<T>(static_cast<uint8_t>(i & 0xffu));
  }
  ref(a.data(), b.data(), c.data(), int64_t{65536});
  std::vector<uint8_t> t(65536);
  std::memcpy(t.data(), c.data(), 65536);
  return t;
}

// ---- QLinearAdd / QLinearMul ----------------------------------------------------------------
// Inputs a, s_a, z_a, b, s_b, z_b, s_c, z_c (com.microsoft), numpy broadcasting of a and b.
class QLinearBinaryOp : public Op {
 public:
  explicit QLinearBinaryOp(bool mul) : mul_(mul) {}
  Status prepare(const PrepareContext& c) override {
    if (c.node.inputs.size() < 7)
      return op_error(c, "inputs = {}, must be 8", c.node.inputs.size());
    t_ = c.in_dtypes[0];
    // int16 (A16W8 models): Add only, the reference's float formula per element.
    s16_ = !mul_ && t_ == DType::kS16;
    if (!s16_) EI8_RETURN_IF_ERROR(need_q8(c, 0));
    if (c.in_dtypes[3] != t_) return op_error(c, "A and B dtypes differ, must be equal");
    EI8_ASSIGN_OR_RETURN(std::vector<float> sa, scales_of(c, 1));
    EI8_ASSIGN_OR_RETURN(std::vector<float> sb, scales_of(c, 4));
    EI8_ASSIGN_OR_RETURN(std::vector<float> sc, scales_of(c, 6));
    EI8_ASSIGN_OR_RETURN(int32_t za, zero_point_of(c, 2, t_));
    EI8_ASSIGN_OR_RETURN(int32_t zb, zero_point_of(c, 5, t_));
    EI8_ASSIGN_OR_RETURN(int32_t zc, zero_point_of(c, 7, t_));
    const auto [qmin, qmax] = out_clamp(c, t_);
    EI8_RETURN_IF_ERROR(bc_.plan(c, c.in_shapes[0], c.in_shapes[3], c.out_shapes[0]));
    n_ = shape_numel(c.out_shapes[0]);
    choice_ = c.kernel;
    vec_ = false;
    if (mul_) {
      const kernels::QLinearMulParams p{sa[0], za, sb[0], zb, sc[0], zc, qmin, qmax};
      table_ = t_ == DType::kU8
                   ? pair_table<uint8_t>([&](auto... x) { kernels::qlinear_mul_ref(p, x...); })
                   : pair_table<int8_t>([&](auto... x) { kernels::qlinear_mul_ref(p, x...); });
      return {};
    }
    add_ = kernels::QLinearAddParams{sa[0], za, sb[0], zb, sc[0], zc, qmin, qmax};
    if (s16_) return {};  // no table (2^32 pairs), no vector loop: qlinear_add_ref per row
    // Equal shapes: kernels::qlinear_add_s8 (the reference's float ops, 16 / 8 lanes a step)
    // when the kernel choice and CPU allow it (n = 0: only asks); otherwise the table.
    if (bc_.elementwise()) {
      vec_ = kernels::qlinear_add_s8(add_, int_type(t_), nullptr, nullptr, nullptr, 0, choice_);
    }
    if (vec_) return {};
    table_ = t_ == DType::kU8
                 ? pair_table<uint8_t>([&](auto... x) { kernels::qlinear_add_ref(add_, x...); })
                 : pair_table<int8_t>([&](auto... x) { kernels::qlinear_add_ref(add_, x...); });
    return {};
  }
  std::string_view variant() const override {
    return s16_ ? "ref-s16" : (vec_ ? kernels::qlinear_add_s8_loop(choice_) : "table");
  }
  void run(std::span<const std::byte* const> in, std::span<std::byte* const> out,
           std::byte*) const override {
    if (s16_) {
      run_s16(reinterpret_cast<const int16_t*>(in[0]), reinterpret_cast<const int16_t*>(in[3]),
              reinterpret_cast<int16_t*>(out[0]));
      return;
    }
    const auto* a = reinterpret_cast<const uint8_t*>(in[0]);
    const auto* b = reinterpret_cast<const uint8_t*>(in[3]);
    auto* c = reinterpret_cast<uint8_t*>(out[0]);
    if (vec_) {  // AVX-512 / AVX2: the reference's float ops, 16 / 8 lanes
      (void)kernels::qlinear_add_s8(add_, int_type(t_), a, b, c, n_, choice_);
      return;
    }
    bc_.run_table(table_.data(), a, b, c, choice_);
  }

 private:
  // int16: c = qlinear_add_ref (DQ → Add → Q in float32) over the broadcast rows.
  void run_s16(const int16_t* a, const int16_t* b, int16_t* c) const {
    for (int64_t row = 0; row < bc_.rows; ++row) {
      const int16_t* pa = a + bc_.a_row[static_cast<size_t>(row)];
      const int16_t* pb = b + bc_.b_row[static_cast<size_t>(row)];
      int16_t* pc = c + row * bc_.cols;
      if (bc_.a_stride == 1 && bc_.b_stride == 1) {
        kernels::qlinear_add_ref(add_, pa, pb, pc, bc_.cols);
        continue;
      }
      for (int64_t j = 0; j < bc_.cols; ++j) {
        kernels::qlinear_add_ref(add_, pa + j * bc_.a_stride, pb + j * bc_.b_stride, pc + j, 1);
      }
    }
  }
  bool mul_;
  bool s16_ = false;
  Broadcast2 bc_;
  std::vector<uint8_t> table_;
  kernels::KernelChoice choice_ = kernels::KernelChoice::kAuto;
  bool vec_ = false;
  kernels::QLinearAddParams add_;
  DType t_ = DType::kU8;
  int64_t n_ = 0;
};

// ---- QLinearSigmoid / QLinearLeakyRelu / QLinearLookup: one table load per element ----------
// QLinearSigmoid, QLinearLeakyRelu: x, s_x, z_x, s_y, z_y (com.microsoft); the table is built
// as ORT builds it (qlinear_ref.h "lookup": dequantize the 256 codes, MLAS logistic / the leaky
// ReLU v ≥ 0 ? v : alpha·v in float, QuantizeLinear). QLinearLookup (ours): x and a constant
// table of x's type, [256] or [C, 256] per channel along attribute `axis` (default 1), entry
// x − min(type) — what the lowering builds for DQ → BatchNormalization [→ Relu] → Q.
class QLookupOp : public Op {
 public:
  enum Kind { kSigmoid, kLeakyRelu, kTable };
  explicit QLookupOp(Kind kind) : kind_(kind) {}
  Status prepare(const PrepareContext& c) override {
    EI8_RETURN_IF_ERROR(need_q8(c, 0));
    t_ = c.in_dtypes[0];
    choice_ = c.kernel;
    const Shape& x = c.in_shapes[0];
    outer_ = 1;
    channels_ = 1;
    inner_ = shape_numel(x);
    tables_.clear();
    if (kind_ == kTable) {
      const Tensor* t = c.node.inputs.size() > 1 ? c.constants[1] : nullptr;
      if (t == nullptr || t->dtype() != t_ || t->numel() % 256 != 0 || t->numel() == 0) {
        return op_error(c, "input 1 (table) must be a constant of the input's type, 256·k values");
      }
      const int64_t k = t->numel() / 256;
      if (k > 1) {
        int64_t axis = c.node.attr_int("axis", 1);
        if (axis < 0) axis += static_cast<int64_t>(x.size());
        if (axis < 0 || axis >= static_cast<int64_t>(x.size()) ||
            x[static_cast<size_t>(axis)] != k) {
          return op_error(c, "table channels = {}, must equal dimension axis = {} of {}", k, axis,
                          shape_to_string(x));
        }
        for (int64_t d = 0; d < axis; ++d) outer_ *= x[static_cast<size_t>(d)];
        channels_ = k;
        inner_ = shape_numel(x) / std::max<int64_t>(1, outer_ * k);
      }
      const auto* raw = reinterpret_cast<const uint8_t*>(t->raw());
      tables_.assign(raw, raw + t->numel());
      return {};
    }
    if (c.node.inputs.size() < 4)
      return op_error(c, "inputs = {}, must be 5", c.node.inputs.size());
    EI8_ASSIGN_OR_RETURN(std::vector<float> sx, scales_of(c, 1));
    EI8_ASSIGN_OR_RETURN(int32_t zx, zero_point_of(c, 2, t_));
    EI8_ASSIGN_OR_RETURN(std::vector<float> sy, scales_of(c, 3));
    EI8_ASSIGN_OR_RETURN(int32_t zy, zero_point_of(c, 4, t_));
    const float alpha = c.node.attr_float("alpha", 0.01f);
    auto build = [&]<typename T>(T) {
      std::array<float, 256> v = kernels::dequantized_codes<T>(sx[0], zx);
      for (float& r : v)
        r = kind_ == kSigmoid ? kernels::logistic_ort(r) : (r >= 0.0f ? r : alpha * r);
      const std::array<T, 256> t = kernels::quantize_codes<T>(v, sy[0], zy);
      tables_.resize(256);
      std::memcpy(tables_.data(), t.data(), 256);
    };
    if (t_ == DType::kU8) {
      build(uint8_t{});
    } else {
      build(int8_t{});
    }
    return {};
  }
  void run(std::span<const std::byte* const> in, std::span<std::byte* const> out,
           std::byte*) const override {
    // Index by x − min(type): u8 by x, s8 by the bit pattern XOR 0x80.
    const uint8_t flip = t_ == DType::kS8 ? 0x80 : 0;
    const auto* x = reinterpret_cast<const uint8_t*>(in[0]);
    auto* y = reinterpret_cast<uint8_t*>(out[0]);
    for (int64_t o = 0; o < outer_; ++o) {
      for (int64_t ch = 0; ch < channels_; ++ch) {
        // The same table loads (AVX-512 VBMI when the CPU and choice_ allow: conv_s8.h);
        // EfficientNet-B0's 65 QLinearSigmoids took 3.2 ms as a scalar loop.
        kernels::lookup_table_u8(tables_.data() + ch * 256, flip, x, y, inner_, choice_);
        x += inner_;
        y += inner_;
      }
    }
  }

 private:
  Kind kind_;
  std::vector<uint8_t> tables_;  // channels_ × 256 output bit patterns
  kernels::KernelChoice choice_ = kernels::KernelChoice::kAuto;
  int64_t outer_ = 1, channels_ = 1, inner_ = 0;
  DType t_ = DType::kU8;
};

// ---- QLinearConcat -------------------------------------------------------------------------
class QLinearConcatOp : public Op {
 public:
  Status prepare(const PrepareContext& c) override {
    const size_t ni = c.node.inputs.size();
    if (ni < 5 || (ni - 2) % 3 != 0) return op_error(c, "inputs = {}, must be 2 + 3·k", ni);
    EI8_ASSIGN_OR_RETURN(std::vector<float> sy, scales_of(c, 0));
    t_ = c.in_dtypes[1];
    if (!is_q8_or_16(t_)) return op_error(c, "output zero point dtype must be u8, s8 or s16");
    EI8_ASSIGN_OR_RETURN(int32_t zy, zero_point_of(c, 1, t_));
    out_scale_ = sy[0];
    out_zero_point_ = zy;
    const Shape& y = c.out_shapes[0];
    int64_t axis = c.node.attr_int("axis", 0);
    if (axis < 0) axis += static_cast<int64_t>(y.size());
    outer_ = 1;
    for (int64_t d = 0; d < axis; ++d) outer_ *= y[static_cast<size_t>(d)];
    parts_.clear();
    for (size_t i = 2; i < ni; i += 3) {
      if (c.in_dtypes[i] != t_) return op_error(c, "input {} dtype differs from the output's", i);
      EI8_ASSIGN_OR_RETURN(std::vector<float> s, scales_of(c, i + 1));
      EI8_ASSIGN_OR_RETURN(int32_t z, zero_point_of(c, i + 2, t_));
      Part p;
      p.chunk = shape_numel(c.in_shapes[i]) / std::max<int64_t>(1, outer_);
      p.copy = s[0] == sy[0] && z == zy;
      p.scale = s[0];
      p.zero_point = z;
      if (t_ == DType::kS16) {
        // int16: requantize_ref per element (DQ → Concat → Q in float32), no table.
      } else if (t_ == DType::kU8) {
        const auto tab = kernels::requantize_table<uint8_t>(s[0], z, sy[0], zy);
        for (size_t k = 0; k < 256; ++k) p.table[k] = tab[k];
      } else {
        const auto tab = kernels::requantize_table<int8_t>(s[0], z, sy[0], zy);
        for (size_t k = 0; k < 256; ++k) p.table[k] = static_cast<uint8_t>(tab[k]);
      }
      parts_.push_back(p);
    }
    return {};
  }
  void run(std::span<const std::byte* const> in, std::span<std::byte* const> out,
           std::byte*) const override {
    if (t_ == DType::kS16) {
      auto* y = reinterpret_cast<int16_t*>(out[0]);
      for (int64_t o = 0; o < outer_; ++o) {
        for (size_t i = 0; i < parts_.size(); ++i) {
          const Part& p = parts_[i];
          const auto* x = reinterpret_cast<const int16_t*>(in[2 + 3 * i]) + o * p.chunk;
          if (p.copy) {
            std::memcpy(y, x, static_cast<size_t>(p.chunk) * sizeof(int16_t));
          } else {
            kernels::requantize_ref(p.scale, p.zero_point, out_scale_, out_zero_point_, x, y,
                                    p.chunk);
          }
          y += p.chunk;
        }
      }
      return;
    }
    // Bytes: u8 indexes the table by x, s8 by x + 128 (= the uint8 bit pattern XOR 0x80).
    const uint8_t flip = t_ == DType::kS8 ? 0x80 : 0;
    auto* y = reinterpret_cast<uint8_t*>(out[0]);
    for (int64_t o = 0; o < outer_; ++o) {
      for (size_t i = 0; i < parts_.size(); ++i) {
        const Part& p = parts_[i];
        const auto* x = reinterpret_cast<const uint8_t*>(in[2 + 3 * i]) + o * p.chunk;
        if (p.copy) {
          std::memcpy(y, x, static_cast<size_t>(p.chunk));
        } else {
          kernels::lookup_table_u8(p.table.data(), flip, x, y, p.chunk);
        }
        y += p.chunk;
      }
    }
  }

 private:
  struct Part {
    int64_t chunk = 0;
    bool copy = false;
    float scale = 1.0f;  // int16: the input's (s, z)
    int32_t zero_point = 0;
    std::array<uint8_t, 256> table{};  // 8-bit: output bit patterns
  };
  std::vector<Part> parts_;
  float out_scale_ = 1.0f;
  int32_t out_zero_point_ = 0;
  int64_t outer_ = 1;
  DType t_ = DType::kU8;
};

// ---- pools ---------------------------------------------------------------------------------
// The pool geometry of the node from the layer view (the batch is x[0]; the output size from
// shape inference covers ceil_mode).
Result<kernels::Pool2dParams> pool_params(const PrepareContext& c) {
  Result<LayerGeometry> layer = decode_layer(c.node, c.in_shapes, c.out_shapes);
  if (!layer.ok()) return layer.status();
  const LayerGeometry& l = layer.value();
  const int64_t want = l.batch * l.out_channels * l.out_h * l.out_w;
  if (want != shape_numel(c.out_shapes[0])) {
    return op_error(c, "output size = {}, must be {}", shape_numel(c.out_shapes[0]), want);
  }
  return pool2d_params(l);
}

// The pooling tier (pool.h) of the executor's kernel choice, after the geometry checks (which
// reject a dilation ≠ 1).
Result<kernels::KernelChoice> pool_tier(const PrepareContext& c, const kernels::Pool2dParams& p,
                                        int64_t batch) {
  if (Status s = kernels::check_pool_s8_params(p, batch); !s.ok()) {
    return op_error(c, "{}", s.message());
  }
  Result<kernels::KernelChoice> tier = kernels::prepare_pool_tier(c.kernel);
  if (!tier.ok()) return op_error(c, "{}", tier.status().message());
  return tier;
}

class QMaxPoolOp : public Op {
 public:
  Status prepare(const PrepareContext& c) override {
    t_ = c.in_dtypes[0];
    if (t_ != DType::kS16) EI8_RETURN_IF_ERROR(need_q8(c, 0));
    EI8_ASSIGN_OR_RETURN(p_, pool_params(c));
    batch_ = c.in_shapes[0][0];
    EI8_ASSIGN_OR_RETURN(tier_, pool_tier(c, p_, batch_));
    if (t_ == DType::kS16) tier_ = kernels::KernelChoice::kRef;  // int16: the reference loop
    return {};
  }
  std::string_view variant() const override { return kernels::kernel_choice_name(tier_); }
  void run(std::span<const std::byte* const> in, std::span<std::byte* const> out,
           std::byte*) const override {
    if (t_ == DType::kS16) {
      kernels::maxpool_s8_ref(p_, batch_, reinterpret_cast<const int16_t*>(in[0]),
                              reinterpret_cast<int16_t*>(out[0]));
    } else if (t_ == DType::kU8) {
      kernels::maxpool_s8(tier_, p_, batch_, reinterpret_cast<const uint8_t*>(in[0]),
                          reinterpret_cast<uint8_t*>(out[0]));
    } else {
      kernels::maxpool_s8(tier_, p_, batch_, reinterpret_cast<const int8_t*>(in[0]),
                          reinterpret_cast<int8_t*>(out[0]));
    }
  }

 private:
  kernels::Pool2dParams p_;
  int64_t batch_ = 1;
  kernels::KernelChoice tier_ = kernels::KernelChoice::kRef;
  DType t_ = DType::kU8;
};

class QAvgPoolOp : public Op {
 public:
  // Global or windowed: the layer view tells them apart by op type.
  QAvgPoolOp() = default;
  Status prepare(const PrepareContext& c) override {
    if (c.node.inputs.size() < 5)
      return op_error(c, "inputs = {}, must be 5", c.node.inputs.size());
    EI8_RETURN_IF_ERROR(need_q8(c, 0));
    t_ = c.in_dtypes[0];
    if (c.in_dtypes[4] != t_) return op_error(c, "output zero point dtype must equal the input's");
    EI8_ASSIGN_OR_RETURN(p_, pool_params(c));
    batch_ = c.in_shapes[0][0];
    EI8_ASSIGN_OR_RETURN(tier_, pool_tier(c, p_, batch_));
    EI8_ASSIGN_OR_RETURN(std::vector<float> sx, scales_of(c, 1));
    EI8_ASSIGN_OR_RETURN(zx_, zero_point_of(c, 2, t_));
    EI8_ASSIGN_OR_RETURN(std::vector<float> sy, scales_of(c, 3));
    EI8_ASSIGN_OR_RETURN(int32_t zy, zero_point_of(c, 4, t_));
    EI8_ASSIGN_OR_RETURN(RequantProfile profile, profile_of(c));
    // ONNX Runtime averages a window that is not the whole unpadded image in float32
    // (qlinear_ref.h avgpool_s8_float_ref); the whole image is its integer global pool.
    const bool whole = p_.kernel_h == p_.in_h && p_.kernel_w == p_.in_w && p_.pad_top == 0 &&
                       p_.pad_left == 0 && p_.pad_bottom == 0 && p_.pad_right == 0;
    const bool global = c.node.op_type == "QLinearGlobalAveragePool";
    float_path_ = profile == RequantProfile::kOrt && !global && !whole;
    sx_ = sx[0];
    sy_ = sy[0];
    zy_ = zy;
    if (float_path_) return {};
    const int64_t taps = p_.kernel_h * p_.kernel_w;
    if (taps >= (int64_t{1} << 23)) return op_error(c, "window = {} taps, must be < 2^23", taps);
    requant_.clear();
    for (int64_t n = 1; n <= taps; ++n) {
      // ONNX Runtime: scale = s_x / (s_y · float(count)) in float32.
      const float m = sx[0] / (sy[0] * static_cast<float>(n));
      auto rq = Requantizer::from_multiplier(profile, static_cast<double>(m), zy, int8_type_min(t_),
                                             int8_type_max(t_));
      if (!rq.ok()) return op_error(c, "{}", rq.status().message());
      requant_.push_back(std::move(rq).value());
    }
    return {};
  }
  std::string_view variant() const override {
    return float_path_ ? "ref/float" : kernels::kernel_choice_name(tier_);
  }
  void run(std::span<const std::byte* const> in, std::span<std::byte* const> out,
           std::byte*) const override {
    if (float_path_) {
      if (t_ == DType::kU8) {
        kernels::avgpool_s8_float_ref(p_, batch_, sx_, zx_, sy_, zy_,
                                      reinterpret_cast<const uint8_t*>(in[0]),
                                      reinterpret_cast<uint8_t*>(out[0]));
      } else {
        kernels::avgpool_s8_float_ref(p_, batch_, sx_, zx_, sy_, zy_,
                                      reinterpret_cast<const int8_t*>(in[0]),
                                      reinterpret_cast<int8_t*>(out[0]));
      }
      return;
    }
    if (t_ == DType::kU8) {
      kernels::avgpool_s8(tier_, p_, batch_, zx_, requant_, reinterpret_cast<const uint8_t*>(in[0]),
                          reinterpret_cast<uint8_t*>(out[0]));
    } else {
      kernels::avgpool_s8(tier_, p_, batch_, zx_, requant_, reinterpret_cast<const int8_t*>(in[0]),
                          reinterpret_cast<int8_t*>(out[0]));
    }
  }

 private:
  kernels::Pool2dParams p_;
  int64_t batch_ = 1;
  kernels::KernelChoice tier_ = kernels::KernelChoice::kRef;
  std::vector<Requantizer> requant_;
  int32_t zx_ = 0, zy_ = 0;
  float sx_ = 1.0f, sy_ = 1.0f;
  bool float_path_ = false;
  DType t_ = DType::kU8;
};

class QClampOp : public Op {
 public:
  Status prepare(const PrepareContext& c) override {
    t_ = c.in_dtypes[0];
    if (t_ != DType::kS16) EI8_RETURN_IF_ERROR(need_q8(c, 0));
    lo_ = static_cast<int32_t>(
        std::max<int64_t>(int8_type_min(t_), c.node.attr_int("lo", INT32_MIN)));
    hi_ = static_cast<int32_t>(
        std::min<int64_t>(int8_type_max(t_), c.node.attr_int("hi", INT32_MAX)));
    n_ = shape_numel(c.in_shapes[0]);
    return {};
  }
  void run(std::span<const std::byte* const> in, std::span<std::byte* const> out,
           std::byte*) const override {
    if (t_ == DType::kS16) {
      kernels::clamp_s8_ref(reinterpret_cast<const int16_t*>(in[0]),
                            reinterpret_cast<int16_t*>(out[0]), n_, lo_, hi_);
    } else if (t_ == DType::kU8) {
      kernels::clamp_s8_ref(reinterpret_cast<const uint8_t*>(in[0]),
                            reinterpret_cast<uint8_t*>(out[0]), n_, lo_, hi_);
    } else {
      kernels::clamp_s8_ref(reinterpret_cast<const int8_t*>(in[0]),
                            reinterpret_cast<int8_t*>(out[0]), n_, lo_, hi_);
    }
  }

 private:
  DType t_ = DType::kU8;
  int32_t lo_ = 0, hi_ = 0;
  int64_t n_ = 0;
};

}  // namespace

void add_int8_ops(OpRegistry& r) {
  r.add("QuantizeLinear", [] { return std::make_unique<QuantizeLinearOp>(); });
  r.add("DequantizeLinear", [] { return std::make_unique<DequantizeLinearOp>(); });
  r.add("QLinearConv", [] { return std::make_unique<QLinearConvOp>(); });
  r.add("QLinearMatMul",
        [] { return std::make_unique<QFullyConnectedOp>(FcForm::kQLinearMatMul); });
  r.add("QGemm", [] { return std::make_unique<QFullyConnectedOp>(FcForm::kQGemm); });
  r.add("MatMulIntegerToFloat",
        [] { return std::make_unique<QFullyConnectedOp>(FcForm::kMatMulIntegerToFloat); });
  r.add("QLinearAdd", [] { return std::make_unique<QLinearBinaryOp>(false); });
  r.add("QLinearMul", [] { return std::make_unique<QLinearBinaryOp>(true); });
  r.add("QLinearSigmoid", [] { return std::make_unique<QLookupOp>(QLookupOp::kSigmoid); });
  r.add("QLinearLeakyRelu", [] { return std::make_unique<QLookupOp>(QLookupOp::kLeakyRelu); });
  r.add("QLinearLookup", [] { return std::make_unique<QLookupOp>(QLookupOp::kTable); });
  r.add("QLinearConcat", [] { return std::make_unique<QLinearConcatOp>(); });
  r.add("QLinearAveragePool", [] { return std::make_unique<QAvgPoolOp>(); });
  r.add("QLinearGlobalAveragePool", [] { return std::make_unique<QAvgPoolOp>(); });
  r.add("QMaxPool", [] { return std::make_unique<QMaxPoolOp>(); });
  r.add("QClamp", [] { return std::make_unique<QClampOp>(); });
}

}  // namespace ei8
