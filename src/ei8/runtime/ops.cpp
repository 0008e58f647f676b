// The built-in FP32 operators of the executor (op.h). Conv/Gemm/MatMul call the prepared
// kernels of ei8/runtime/kernels, the pools and the elementwise ops their tiered kernels; the
// rest call the reference kernels in kernels/ref/.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <limits>
#include <map>

#include "ei8/graph/shape_inference.h"
#include "ei8/runtime/int8_ops.h"
#include "ei8/runtime/kernels/conv_f32.h"
#include "ei8/runtime/kernels/eltwise_f32.h"
#include "ei8/runtime/kernels/gemm_f32.h"
#include "ei8/runtime/kernels/layout.h"
#include "ei8/runtime/kernels/pool.h"
#include "ei8/runtime/kernels/ref/eltwise_f32_ref.h"
#include "ei8/runtime/kernels/ref/layout_f32_ref.h"
#include "ei8/runtime/kernels/ref/pool_f32_ref.h"
#include "ei8/runtime/layer_params.h"
#include "ei8/runtime/op.h"

namespace ei8 {
namespace {

using kernels::Activation;

template <typename... Args>
Status op_error(const PrepareContext& c, fmt::format_string<Args...> f, Args&&... args) {
  return invalid_argument("cannot prepare node '{}' ({}): {}", c.node.name, c.node.op_type,
                          fmt::format(f, std::forward<Args>(args)...));
}

Status need_f32(const PrepareContext& c) {
  for (size_t i = 0; i < c.in_dtypes.size(); ++i) {
    if (!c.node.input(i).empty() && c.in_dtypes[i] != DType::kF32) {
      return unsupported(
          "cannot prepare node '{}' ({}): input {} dtype = {}, must be f32 (the "
          "FP32 executor)",
          c.node.name, c.node.op_type, i, dtype_name(c.in_dtypes[i]));
    }
  }
  return {};
}

const float* f(const std::byte* p) { return reinterpret_cast<const float*>(p); }
float* f(std::byte* p) { return reinterpret_cast<float*>(p); }

Activation fused_activation(const Node& n) {
  const std::string a = n.attr_string("activation");
  if (a == "Relu") return Activation::relu();
  if (a == "Clip") {
    return Activation::clip(n.attr_float("activation_min", -std::numeric_limits<float>::infinity()),
                            n.attr_float("activation_max", std::numeric_limits<float>::infinity()));
  }
  if (a == "LeakyRelu") return Activation::leaky_relu(n.attr_float("activation_alpha", 0.01f));
  if (a == "Silu") return Activation::silu();  // Conv only (passes.h fuse_runtime_f32)
  return Activation::none();
}

std::string_view choice_name(kernels::KernelChoice c) { return kernels::kernel_choice_name(c); }

// ---- Conv ---------------------------------------------------------------------------------
class ConvOp : public Op {
 public:
  Status prepare(const PrepareContext& c) override {
    EI8_RETURN_IF_ERROR(need_f32(c));
    const Shape& x = c.in_shapes[0];
    const Tensor* w = c.constants.size() > 1 ? c.constants[1] : nullptr;
    if (!w) return op_error(c, "weight = runtime tensor, must be a constant initializer");
    const Tensor* b = c.constants.size() > 2 ? c.constants[2] : nullptr;
    if (!c.node.input(2).empty() && !b) return op_error(c, "bias must be a constant initializer");
    if (x.size() != 3 && x.size() != 4) {
      return op_error(c, "input rank = {}, must be 3 (N,C,L) or 4 (N,C,H,W)", x.size());
    }
    EI8_ASSIGN_OR_RETURN(LayerGeometry layer, decode_layer(c.node, c.in_shapes, c.out_shapes));
    kernels::Conv2dParams p = conv2d_params(layer);
    p.act = fused_activation(c.node);
    batch_ = x[0];
    if (shape_numel(c.out_shapes[0]) != batch_ * p.out_size()) {
      return op_error(c, "output size = {}, must be {} (kernel geometry)",
                      shape_numel(c.out_shapes[0]), batch_ * p.out_size());
    }
    const std::span<const float> ws = w->span<float>();
    const std::span<const float> bs = b ? b->span<float>() : std::span<const float>();
    auto conv = kernels::Conv2dF32::prepare(p, ws, bs, c.kernel);
    if (!conv.ok()) return conv.status().with_context(fmt::format("node '{}'", c.node.name));
    if (c.tuner != nullptr && conv->choice() != kernels::KernelChoice::kRef) {
      EI8_ASSIGN_OR_RETURN(kernels::ConvAlgorithm algo, tune_algorithm(c, p, ws, bs, *conv));
      if (algo != conv->algorithm()) {
        conv = kernels::Conv2dF32::prepare(p, ws, bs, c.kernel, algo);
        if (!conv.ok()) return conv.status().with_context(fmt::format("node '{}'", c.node.name));
      }
    }
    conv_.emplace(std::move(conv).value());
    return {};
  }
  std::string tuning() const override { return tuning_; }
  // One sample per kernel call: the per-sample working set stays in cache (measured faster
  // than whole-batch calls for batch 32 on the test models).
  size_t scratch_bytes() const override { return conv_->scratch_bytes(1); }
  std::string_view variant() const override { return conv_->variant_name(); }
  void run(std::span<const std::byte* const> in, std::span<std::byte* const> out,
           std::byte* scratch) const override {
    const kernels::Conv2dParams& p = conv_->params();
    for (int64_t n = 0; n < batch_; ++n) {
      conv_->run(f(in[0]) + n * p.in_size(), f(out[0]) + n * p.out_size(), 1,
                 reinterpret_cast<float*>(scratch));
    }
  }

 private:
  // The plan by measurement (kernels/plan_tuner.h): the algorithms the layer's tier runs
  // (the heuristic's first), each timed on one sample of the layer's shape, the fastest kept
  // and recorded under a key of shape, activation and tier. FP32 plans differ within the
  // documented tolerance (docs/kernels.md), so the recorded plan is what makes two runs with
  // the same tuning file give the same bits.
  Result<kernels::ConvAlgorithm> tune_algorithm(const PrepareContext& c,
                                                const kernels::Conv2dParams& p,
                                                std::span<const float> w, std::span<const float> b,
                                                const kernels::Conv2dF32& heuristic) {
    using kernels::ConvAlgorithm;
    std::vector<std::string> candidates{
        std::string(kernels::conv_algorithm_name(heuristic.algorithm()))};
    // oneDNN's blocked plan (its reorders counted) where oneDNN is compiled in and runs on
    // this tier (kernels/conv_f32.h). Its NCHW plan is not offered (only read from a file):
    // its GEMM ran 1.5–2× slower in the models than in the tuner's loop (docs/kernels.md).
    constexpr ConvAlgorithm kPlans[] = {ConvAlgorithm::kDirect, ConvAlgorithm::kWinograd,
                                        ConvAlgorithm::kIm2col, ConvAlgorithm::kTransposed,
                                        ConvAlgorithm::kOnednn, ConvAlgorithm::kOnednnNchw};
    // oneDNN's times count kOnednnWeight times in the comparison: it must win by 10 % in the
    // tuner's hot loop to be kept (docs/kernels.md, "oneDNN plans": in the model its reorders
    // meet activations no longer in L1/L2, and it lost there layers it had won by less).
    constexpr double kOnednnWeight = 1.25;
    for (ConvAlgorithm a : kPlans) {
      const bool applies = a == ConvAlgorithm::kWinograd ? kernels::winograd_applicable(p)
                           : a == ConvAlgorithm::kTransposed
                               ? heuristic.choice() == kernels::KernelChoice::kAvx512 &&
                                     kernels::pointwise_t_applicable(p)
                           : a == ConvAlgorithm::kOnednn
                               ? kernels::onednn_conv_available(heuristic.choice())
                               : a != ConvAlgorithm::kOnednnNchw;
      if (a != heuristic.algorithm() && applies) {
        candidates.emplace_back(kernels::conv_algorithm_name(a));
      }
    }
    const auto parse = [&](const std::string& name) -> Result<ConvAlgorithm> {
      for (ConvAlgorithm a : kPlans) {
        if (name == kernels::conv_algorithm_name(a)) return a;
      }
      return invalid_argument(
          "cannot read plan: name = '{}', must be direct, winograd, im2col, transposed, onednn "
          "or onednn-nchw",
          name);
    };
    const std::string key = fmt::format(
        "f32-conv n1 c{} {}x{} oc{} k{}x{} s{}x{} d{}x{} p{},{},{},{} g{} act{} {}", p.in_c, p.in_h,
        p.in_w, p.out_c, p.kernel_h, p.kernel_w, p.stride_h, p.stride_w, p.dilation_h, p.dilation_w,
        p.pad_top, p.pad_left, p.pad_bottom, p.pad_right, p.groups, static_cast<int>(p.act.kind),
        kernels::kernel_choice_name(heuristic.choice()));
    std::vector<float> x(static_cast<size_t>(p.in_size()), 0.5f);
    std::vector<float> y(static_cast<size_t>(p.out_size()));
    std::vector<float> scratch;
    auto measure = [&](const std::string& plan, int runs) -> Result<double> {
      EI8_ASSIGN_OR_RETURN(ConvAlgorithm a, parse(plan));
      EI8_ASSIGN_OR_RETURN(kernels::Conv2dF32 k,
                           kernels::Conv2dF32::prepare(p, w, b, heuristic.choice(), a));
      scratch.resize(k.scratch_bytes(1) / sizeof(float) + 16);
      k.run(x.data(), y.data(), 1, scratch.data());  // warm-up: caches, first touch
      double best = std::numeric_limits<double>::infinity();
      for (int i = 0; i < runs; ++i) {
        const auto t0 = std::chrono::steady_clock::now();
        k.run(x.data(), y.data(), 1, scratch.data());
        best = std::min(
            best, std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0)
                      .count());
      }
      return a == ConvAlgorithm::kOnednn || a == ConvAlgorithm::kOnednnNchw ? best * kOnednnWeight
                                                                            : best;
    };
    Result<std::string> chosen = c.tuner->choose(key, candidates, measure);
    if (!chosen.ok()) return op_error(c, "{}", chosen.status().message());
    if (const kernels::TuneRecord* r = c.tuner->find(key)) {
      tuning_ = r->from_file ? fmt::format("from tuning file ({:.1f} µs)", r->us)
                             : fmt::format("tuned {:.1f} µs, best of {}", r->us, r->candidates);
      if (!r->runner_up.empty()) {
        tuning_ += fmt::format("; runner-up {} {:.1f} µs", r->runner_up, r->runner_up_us);
      }
    }
    if (chosen->empty()) return heuristic.algorithm();  // heuristic mode, no recorded plan
    Result<ConvAlgorithm> a = parse(*chosen);
    if (!a.ok()) return op_error(c, "{}", a.status().message());
    return *a;
  }

  std::optional<kernels::Conv2dF32> conv_;
  int64_t batch_ = 1;
  std::string tuning_;
};

// ---- Gemm / MatMul ------------------------------------------------------------------------
class GemmOp : public Op {
 public:
  explicit GemmOp(bool matmul) : matmul_(matmul) {}
  Status prepare(const PrepareContext& c) override {
    EI8_RETURN_IF_ERROR(need_f32(c));
    const Shape& a = c.in_shapes[0];
    const Shape& bs = c.in_shapes[1];
    const Tensor* b = c.constants[1];
    kernels::GemmParams p;
    if (matmul_) {
      if (a.size() < 2 || bs.size() < 2) return op_error(c, "operands must have rank >= 2");
      p.k = a.back();
      p.n = bs.back();
      m_ = shape_numel(a) / std::max<int64_t>(p.k, 1);
      if (b && bs.size() == 2) {
        // Constant 2-D B: one Gemm over all leading dims of A.
        return prepare_fast(c, p, b, nullptr);
      }
      // Runtime (or batched) B: numpy-batched reference; batch dims must match or B be 2-D.
      mm_m_ = a[a.size() - 2];
      const Shape ab(a.begin(), a.end() - 2), bb(bs.begin(), bs.end() - 2);
      mm_batch_ = shape_numel(ab);
      mm_b_batched_ = !bb.empty() && shape_numel(bb) > 1;
      if (mm_b_batched_ && ab != bb) {
        return unsupported(
            "cannot prepare node '{}' (MatMul): batch dims {} vs {}, must be equal "
            "(or B 2-D)",
            c.node.name, shape_to_string(ab), shape_to_string(bb));
      }
      p.m = mm_m_;
      p_ = p;
      return {};
    }
    // Transposes and factors from the layer view (graph/layer_view.h), as the integer ops.
    EI8_ASSIGN_OR_RETURN(LayerGeometry layer, decode_layer(c.node, c.in_shapes, c.out_shapes));
    p.trans_a = layer.trans_a;
    p.trans_b = layer.trans_b;
    p.alpha = layer.alpha;
    p.beta = layer.beta;
    p.act = fused_activation(c.node);
    m_ = p.trans_a ? a[1] : a[0];
    p.k = p.trans_a ? a[0] : a[1];
    p.n = p.trans_b ? bs[0] : bs[1];
    p.m = m_;
    const Tensor* cc = c.node.input(2).empty() ? nullptr : c.constants[2];
    if (!c.node.input(2).empty() && !cc) return op_error(c, "C must be a constant initializer");
    if (cc && p.beta != 0.0f) {
      const Shape& cs = cc->shape();
      if (cc->numel() == 1) {
        p.c_shape = kernels::GemmC::kScalar;
      } else if (cc->numel() == p.n && (cs.size() == 1 || cs[0] == 1)) {
        p.c_shape = kernels::GemmC::kRow;
      } else if (cs.size() == 2 && cs[0] == m_ && cs[1] == 1) {
        p.c_shape = kernels::GemmC::kColumn;
      } else if (cs.size() == 2 && cs[0] == m_ && cs[1] == p.n) {
        p.c_shape = kernels::GemmC::kFull;
      } else {
        return op_error(c, "C shape = {}, must broadcast to [{}, {}]", shape_to_string(cs), m_,
                        p.n);
      }
    }
    if (b && p.c_shape != kernels::GemmC::kColumn && p.c_shape != kernels::GemmC::kFull) {
      return prepare_fast(c, p, b, cc);
    }
    // Reference path: runtime B or an M-dependent C.
    p_ = p;
    if (cc) c_.assign(cc->span<float>().begin(), cc->span<float>().end());
    return {};
  }
  size_t scratch_bytes() const override { return gemm_ ? gemm_->scratch_bytes(m_) : 0; }
  std::string_view variant() const override {
    return gemm_ ? choice_name(gemm_->choice()) : std::string_view("ref");
  }
  void run(std::span<const std::byte* const> in, std::span<std::byte* const> out,
           std::byte* scratch) const override {
    if (gemm_) {
      gemm_->run(f(in[0]), f(out[0]), m_, reinterpret_cast<float*>(scratch));
      return;
    }
    const size_t a_n = static_cast<size_t>(p_.m * p_.k), b_n = static_cast<size_t>(p_.k * p_.n);
    if (matmul_) {
      (void)kernels::matmul_f32_ref(
          mm_batch_, mm_m_, p_.k, p_.n, {f(in[0]), a_n * static_cast<size_t>(mm_batch_)},
          {f(in[1]), b_n * static_cast<size_t>(mm_b_batched_ ? mm_batch_ : 1)}, mm_b_batched_,
          {f(out[0]), static_cast<size_t>(mm_batch_ * p_.m * p_.n)});
      return;
    }
    (void)kernels::gemm_f32_ref(p_, {f(in[0]), a_n}, {f(in[1]), b_n}, c_,
                                {f(out[0]), static_cast<size_t>(p_.m * p_.n)});
  }

 private:
  Status prepare_fast(const PrepareContext& c, kernels::GemmParams p, const Tensor* b,
                      const Tensor* cc) {
    p.m = m_;
    auto g = kernels::GemmF32::prepare(
        p, b->span<float>(),
        cc && p.c_shape != kernels::GemmC::kNone ? cc->span<float>() : std::span<const float>(),
        c.kernel);
    if (!g.ok()) return g.status().with_context(fmt::format("node '{}'", c.node.name));
    gemm_.emplace(std::move(g).value());
    return {};
  }
  bool matmul_;
  std::optional<kernels::GemmF32> gemm_;
  kernels::GemmParams p_;
  std::vector<float> c_;
  int64_t m_ = 1, mm_m_ = 1, mm_batch_ = 1;
  bool mm_b_batched_ = false;
};

// ---- elementwise --------------------------------------------------------------------------
class UnaryOp : public Op {
 public:
  explicit UnaryOp(kernels::UnaryOp op) : op_(op) {}
  Status prepare(const PrepareContext& c) override {
    EI8_RETURN_IF_ERROR(need_f32(c));
    n_ = shape_numel(c.in_shapes[0]);
    p_.alpha = c.node.attr_float("alpha", op_ == kernels::UnaryOp::kHardSigmoid ? 0.2f : 0.01f);
    p_.beta = c.node.attr_float("beta", 0.5f);
    p_.lo = c.node.attr_float("min", -std::numeric_limits<float>::infinity());
    p_.hi = c.node.attr_float("max", std::numeric_limits<float>::infinity());
    if (op_ == kernels::UnaryOp::kClip && c.node.inputs.size() > 1) {
      return op_error(c, "min/max inputs must have been converted to attributes");
    }
    // Sigmoid with multiply_input = 1: y = x·sigmoid(x), the fused Sigmoid → Mul of SiLU
    // (passes.h fuse_runtime_f32).
    silu_ = op_ == kernels::UnaryOp::kSigmoid && c.node.attr_int("multiply_input", 0) != 0;
    EI8_ASSIGN_OR_RETURN(tier_, kernels::prepare_eltwise_tier(c.kernel));
    if (!kernels::unary_f32_has_fast_path(op_)) tier_ = kernels::KernelChoice::kRef;
    return {};
  }
  void run(std::span<const std::byte* const> in, std::span<std::byte* const> out,
           std::byte*) const override {
    if (silu_) {
      kernels::silu_f32(tier_, n_, f(in[0]), f(out[0]));
    } else {
      kernels::unary_f32(tier_, op_, p_, n_, f(in[0]), f(out[0]));
    }
  }
  std::string_view variant() const override { return choice_name(tier_); }

 private:
  kernels::UnaryOp op_;
  kernels::UnaryParams p_;
  kernels::KernelChoice tier_ = kernels::KernelChoice::kRef;
  bool silu_ = false;
  int64_t n_ = 0;
};

class BinaryOp : public Op {
 public:
  explicit BinaryOp(kernels::BinaryOp op) : op_(op) {}
  Status prepare(const PrepareContext& c) override {
    EI8_RETURN_IF_ERROR(need_f32(c));
    plan_ = kernels::make_broadcast_plan(c.in_shapes[0], c.in_shapes[1], c.out_shapes[0]);
    if (plan_.dims.empty()) return op_error(c, "broadcast pattern too complex (> 8 merged dims)");
    const std::string act = c.node.attr_string("activation");
    if (!act.empty() && act != "Relu")
      return op_error(c, "fused activation = {}, must be Relu", act);
    relu_ = act == "Relu";
    EI8_ASSIGN_OR_RETURN(tier_, kernels::prepare_eltwise_tier(c.kernel));
    return {};
  }
  void run(std::span<const std::byte* const> in, std::span<std::byte* const> out,
           std::byte*) const override {
    kernels::binary_f32(tier_, op_, plan_, f(in[0]), f(in[1]), f(out[0]), relu_);
  }
  std::string_view variant() const override { return choice_name(tier_); }

 private:
  bool relu_ = false;
  kernels::KernelChoice tier_ = kernels::KernelChoice::kRef;
  kernels::BinaryOp op_;
  kernels::BroadcastPlan plan_;
};

// Pow: the reference kernel over a broadcast plan (no fast tier; LayerNorm's x^2 is small).
class PowOp : public Op {
 public:
  Status prepare(const PrepareContext& c) override {
    EI8_RETURN_IF_ERROR(need_f32(c));
    plan_ = kernels::make_broadcast_plan(c.in_shapes[0], c.in_shapes[1], c.out_shapes[0]);
    if (plan_.dims.empty()) return op_error(c, "broadcast pattern too complex (> 8 merged dims)");
    return {};
  }
  void run(std::span<const std::byte* const> in, std::span<std::byte* const> out,
           std::byte*) const override {
    kernels::pow_f32_ref(plan_, f(in[0]), f(in[1]), f(out[0]));
  }

 private:
  kernels::BroadcastPlan plan_;
};

class ReduceOp : public Op {
 public:
  explicit ReduceOp(kernels::ReduceOp op) : op_(op) {}
  Status prepare(const PrepareContext& c) override {
    EI8_RETURN_IF_ERROR(need_f32(c));
    const Shape& x = c.in_shapes[0];
    if (x.size() > 8) return op_error(c, "rank = {}, must be <= 8", x.size());
    EI8_ASSIGN_OR_RETURN(auto axes, reduce_axes(c.node, static_cast<int64_t>(x.size())));
    plan_ = kernels::make_reduce_plan(x, axes);
    return {};
  }
  void run(std::span<const std::byte* const> in, std::span<std::byte* const> out,
           std::byte*) const override {
    kernels::reduce_f32_ref(op_, plan_, f(in[0]), f(out[0]));
  }

 private:
  kernels::ReduceOp op_;
  kernels::ReducePlan plan_;
};

class BatchNormOp : public Op {
 public:
  Status prepare(const PrepareContext& c) override {
    EI8_RETURN_IF_ERROR(need_f32(c));
    const Shape& x = c.in_shapes[0];
    for (size_t i = 1; i < 5; ++i) {
      if (!c.constants[i]) return op_error(c, "parameter {} must be a constant initializer", i);
    }
    batch_ = x[0];
    ch_ = x[1];
    inner_ = shape_numel(x) / std::max<int64_t>(1, batch_ * ch_);
    const float eps = c.node.attr_float("epsilon", 1e-5f);
    scale_.resize(static_cast<size_t>(ch_));
    shift_.resize(static_cast<size_t>(ch_));
    for (size_t i = 0; i < scale_.size(); ++i) {
      scale_[i] =
          c.constants[1]->span<float>()[i] / std::sqrt(c.constants[4]->span<float>()[i] + eps);
      shift_[i] = c.constants[2]->span<float>()[i] - scale_[i] * c.constants[3]->span<float>()[i];
    }
    // A Relu fused by passes.h fuse_runtime_f32 (pre-activation BN → ReLU, e.g. DenseNet).
    const std::string act = c.node.attr_string("activation");
    if (!act.empty() && act != "Relu") {
      return op_error(c, "fused activation = {}, must be Relu", act);
    }
    relu_ = act == "Relu";
    EI8_ASSIGN_OR_RETURN(tier_, kernels::prepare_eltwise_tier(c.kernel));
    return {};
  }
  void run(std::span<const std::byte* const> in, std::span<std::byte* const> out,
           std::byte*) const override {
    kernels::channel_affine_f32(tier_, batch_, ch_, inner_, scale_.data(), shift_.data(), f(in[0]),
                                f(out[0]), relu_);
  }
  std::string_view variant() const override { return choice_name(tier_); }

 private:
  kernels::KernelChoice tier_ = kernels::KernelChoice::kRef;
  bool relu_ = false;
  int64_t batch_ = 1, ch_ = 1, inner_ = 1;
  std::vector<float> scale_, shift_;
};

class SoftmaxOp : public Op {
 public:
  Status prepare(const PrepareContext& c) override {
    EI8_RETURN_IF_ERROR(need_f32(c));
    const Shape& x = c.in_shapes[0];
    const int64_t r = static_cast<int64_t>(x.size());
    int64_t axis = c.node.attr_int("axis", -1);
    if (axis < 0) axis += r;
    outer_ = 1;
    len_ = 1;
    inner_ = 1;
    for (int64_t i = 0; i < r; ++i) {
      const int64_t d = x[static_cast<size_t>(i)];
      if (i < axis) {
        outer_ *= d;
      } else if (i == axis || c.node.attr_int("coerce_2d", 0) != 0) {
        len_ *= d;  // opset < 13: all axes from `axis` on form one
      } else {
        inner_ *= d;
      }
    }
    return {};
  }
  void run(std::span<const std::byte* const> in, std::span<std::byte* const> out,
           std::byte*) const override {
    kernels::softmax_f32_ref(outer_, len_, inner_, f(in[0]), f(out[0]));
  }

 private:
  int64_t outer_ = 1, len_ = 1, inner_ = 1;
};

// ---- pooling ------------------------------------------------------------------------------
class PoolOp : public Op {
 public:
  enum Kind { kMax, kAvg, kGlobalAvg, kGlobalMax };
  explicit PoolOp(Kind kind) : kind_(kind) {}
  Status prepare(const PrepareContext& c) override {
    EI8_RETURN_IF_ERROR(need_f32(c));
    EI8_ASSIGN_OR_RETURN(tier_, kernels::prepare_pool_tier(c.kernel));
    const Shape& x = c.in_shapes[0];
    batch_ = x[0];
    if (kind_ == kGlobalAvg || kind_ == kGlobalMax) {
      planes_ = x[0] * x[1];
      spatial_ = shape_numel(x) / std::max<int64_t>(planes_, 1);
      return {};
    }
    if (x.size() != 3 && x.size() != 4)
      return op_error(c, "input rank = {}, must be 3 or 4", x.size());
    EI8_ASSIGN_OR_RETURN(LayerGeometry layer, decode_layer(c.node, c.in_shapes, c.out_shapes));
    p_ = pool2d_params(layer);
    if (kind_ == kAvg && (p_.dilation_h != 1 || p_.dilation_w != 1)) {
      return op_error(c, "dilations must be 1 for AveragePool");
    }
    if (Status s = kernels::check_pool2d_params(p_, batch_); !s.ok()) {
      return op_error(c, "{}", s.message());
    }
    return {};
  }
  void run(std::span<const std::byte* const> in, std::span<std::byte* const> out,
           std::byte*) const override {
    switch (kind_) {
      case kMax:
        kernels::maxpool2d_f32(tier_, p_, batch_, f(in[0]), f(out[0]));
        break;
      case kAvg:
        kernels::avgpool2d_f32(tier_, p_, batch_, f(in[0]), f(out[0]));
        break;
      case kGlobalAvg:
        kernels::global_avgpool_f32(tier_, planes_, spatial_, f(in[0]), f(out[0]));
        break;
      case kGlobalMax:
        kernels::global_maxpool_f32(tier_, planes_, spatial_, f(in[0]), f(out[0]));
        break;
    }
  }
  std::string_view variant() const override { return choice_name(tier_); }

 private:
  Kind kind_;
  kernels::KernelChoice tier_ = kernels::KernelChoice::kRef;
  kernels::Pool2dParams p_;
  int64_t batch_ = 1, planes_ = 1, spatial_ = 1;
};

// ---- layout -------------------------------------------------------------------------------
class AliasOp : public Op {
 public:
  Status prepare(const PrepareContext& c) override {
    if (shape_numel(c.in_shapes[0]) != shape_numel(c.out_shapes[0])) {
      return op_error(c, "element count changes from {} to {}", shape_numel(c.in_shapes[0]),
                      shape_numel(c.out_shapes[0]));
    }
    return {};
  }
  bool is_alias() const override { return true; }
  void run(std::span<const std::byte* const>, std::span<std::byte* const>,
           std::byte*) const override {}
};

class ConcatOp : public Op {
 public:
  Status prepare(const PrepareContext& c) override {
    const Shape& y = c.out_shapes[0];
    int64_t axis = c.node.attr_int("axis", 0);
    if (axis < 0) axis += static_cast<int64_t>(y.size());
    outer_ = 1;
    for (int64_t i = 0; i < axis; ++i) outer_ *= y[static_cast<size_t>(i)];
    es_ = dtype_size(c.in_dtypes[0]);
    chunks_.clear();
    for (size_t i = 0; i < c.in_shapes.size(); ++i) {
      if (c.in_dtypes[i] != c.in_dtypes[0]) return op_error(c, "inputs must share one dtype");
      chunks_.push_back(
          static_cast<size_t>(shape_numel(c.in_shapes[i]) / std::max<int64_t>(outer_, 1)) * es_);
    }
    parts_.resize(chunks_.size());
    return {};
  }
  void run(std::span<const std::byte* const> in, std::span<std::byte* const> out,
           std::byte*) const override {
    for (size_t i = 0; i < chunks_.size(); ++i) parts_[i] = {in[i], chunks_[i]};
    kernels::concat_ref(outer_, parts_, out[0]);
  }

 private:
  int64_t outer_ = 1;
  size_t es_ = 4;
  std::vector<size_t> chunks_;
  mutable std::vector<kernels::ConcatPart> parts_;  // sized in prepare; no allocation in run
};

// Transpose, Slice and Expand: one strided copy over a transposed / sliced / broadcast view
// (kernels::strided_copy, or transpose_ref on the reference tier).
class StridedViewOp : public Op {
 public:
  enum class Kind { kTranspose, kSlice, kExpand };
  explicit StridedViewOp(Kind kind) : kind_(kind) {}
  Status prepare(const PrepareContext& c) override {
    const Shape& x = c.in_shapes[0];
    if (x.size() > 8 || c.out_shapes[0].size() > 8) {
      return op_error(c, "rank = {}, must be <= 8", std::max(x.size(), c.out_shapes[0].size()));
    }
    switch (kind_) {
      case Kind::kTranspose: {
        std::vector<int64_t> perm = c.node.attr_ints("perm");
        if (perm.empty()) {
          for (size_t i = x.size(); i-- > 0;) perm.push_back(static_cast<int64_t>(i));
        }
        plan_ = kernels::make_transpose_plan(x, perm);
        break;
      }
      case Kind::kSlice: {
        EI8_ASSIGN_OR_RETURN(SliceWindow w, slice_window(c.node, x));
        plan_ = kernels::make_slice_plan(x, w.start, w.step, w.count);
        break;
      }
      case Kind::kExpand:
        plan_ = kernels::make_expand_plan(x, c.out_shapes[0]);
        break;
    }
    fast_ = kernels::make_strided_copy_plan(plan_);
    ref_ = c.kernel == kernels::KernelChoice::kRef;
    es_ = dtype_size(c.in_dtypes[0]);
    return {};
  }
  void run(std::span<const std::byte* const> in, std::span<std::byte* const> out,
           std::byte*) const override {
    if (ref_) {
      kernels::transpose_ref(plan_, es_, in[0], out[0]);
    } else {
      kernels::strided_copy(fast_, es_, in[0], out[0]);  // the same bytes, run by run
    }
  }
  std::string_view variant() const override { return ref_ ? "ref" : "generic"; }

 private:
  Kind kind_;
  kernels::TransposePlan plan_;
  kernels::StridedCopyPlan fast_;
  bool ref_ = false;
  size_t es_ = 4;
};

class SplitOp : public Op {
 public:
  Status prepare(const PrepareContext& c) override {
    const Shape& x = c.in_shapes[0];
    const int64_t axis = c.node.attr_int("axis", 0) < 0
                             ? c.node.attr_int("axis", 0) + static_cast<int64_t>(x.size())
                             : c.node.attr_int("axis", 0);
    outer_ = 1;
    for (int64_t i = 0; i < axis; ++i) outer_ *= x[static_cast<size_t>(i)];
    const size_t es = dtype_size(c.in_dtypes[0]);
    chunks_.clear();
    for (const Shape& o : c.out_shapes) {
      chunks_.push_back(static_cast<size_t>(shape_numel(o) / std::max<int64_t>(outer_, 1)) * es);
    }
    parts_.resize(chunks_.size());
    return {};
  }
  void run(std::span<const std::byte* const> in, std::span<std::byte* const> out,
           std::byte*) const override {
    for (size_t i = 0; i < chunks_.size(); ++i) parts_[i] = {out[i], chunks_[i]};
    kernels::split_ref(outer_, in[0], parts_);
  }

 private:
  int64_t outer_ = 1;
  std::vector<size_t> chunks_;
  mutable std::vector<kernels::SplitPart> parts_;  // sized in prepare; no allocation in run
};

class GatherOp : public Op {
 public:
  Status prepare(const PrepareContext& c) override {
    const Shape& x = c.in_shapes[0];
    const int64_t r = static_cast<int64_t>(x.size());
    int64_t axis = c.node.attr_int("axis", 0);
    if (axis < 0) axis += r;
    outer_ = 1;
    int64_t inner = 1;
    for (int64_t i = 0; i < r; ++i) {
      if (i < axis) outer_ *= x[static_cast<size_t>(i)];
      if (i > axis) inner *= x[static_cast<size_t>(i)];
    }
    len_ = x[static_cast<size_t>(axis)];
    inner_bytes_ = static_cast<size_t>(inner) * dtype_size(c.in_dtypes[0]);
    index_ = c.node.attr_ints("indices");
    for (int64_t& i : index_) {
      if (i < -len_ || i >= len_) {
        return op_error(c, "index = {}, must be in [{}, {}]", i, -len_, len_ - 1);
      }
      if (i < 0) i += len_;
    }
    return {};
  }
  void run(std::span<const std::byte* const> in, std::span<std::byte* const> out,
           std::byte*) const override {
    kernels::gather_ref(outer_, len_, inner_bytes_, index_, in[0], out[0]);
  }

 private:
  int64_t outer_ = 1, len_ = 1;
  size_t inner_bytes_ = 4;
  std::vector<int64_t> index_;
};

class PadOp : public Op {
 public:
  Status prepare(const PrepareContext& c) override {
    EI8_RETURN_IF_ERROR(need_f32(c));
    const Shape& x = c.in_shapes[0];
    if (x.size() > 8) return op_error(c, "rank = {}, must be <= 8", x.size());
    const auto pads = c.node.attr_ints("pads");
    plan_.in = x;
    plan_.out = c.out_shapes[0];
    plan_.begin.assign(pads.begin(), pads.begin() + static_cast<std::ptrdiff_t>(x.size()));
    value_ = c.node.attr_float("value", 0.0f);
    return {};
  }
  void run(std::span<const std::byte* const> in, std::span<std::byte* const> out,
           std::byte*) const override {
    kernels::pad_f32_ref(plan_, value_, f(in[0]), f(out[0]));
  }

 private:
  kernels::PadPlan plan_;
  float value_ = 0.0f;
};

void add_builtins(OpRegistry& r) {
  r.add("Conv", [] { return std::make_unique<ConvOp>(); });
  r.add("Gemm", [] { return std::make_unique<GemmOp>(false); });
  r.add("MatMul", [] { return std::make_unique<GemmOp>(true); });
  r.add("Relu", [] { return std::make_unique<UnaryOp>(kernels::UnaryOp::kRelu); });
  r.add("Sigmoid", [] { return std::make_unique<UnaryOp>(kernels::UnaryOp::kSigmoid); });
  r.add("Tanh", [] { return std::make_unique<UnaryOp>(kernels::UnaryOp::kTanh); });
  r.add("LeakyRelu", [] { return std::make_unique<UnaryOp>(kernels::UnaryOp::kLeakyRelu); });
  r.add("Clip", [] { return std::make_unique<UnaryOp>(kernels::UnaryOp::kClip); });
  r.add("HardSigmoid", [] { return std::make_unique<UnaryOp>(kernels::UnaryOp::kHardSigmoid); });
  r.add("HardSwish", [] { return std::make_unique<UnaryOp>(kernels::UnaryOp::kHardSwish); });
  r.add("Sqrt", [] { return std::make_unique<UnaryOp>(kernels::UnaryOp::kSqrt); });
  r.add("Erf", [] { return std::make_unique<UnaryOp>(kernels::UnaryOp::kErf); });
  r.add("Pow", [] { return std::make_unique<PowOp>(); });
  r.add("ReduceMean", [] { return std::make_unique<ReduceOp>(kernels::ReduceOp::kMean); });
  r.add("ReduceSum", [] { return std::make_unique<ReduceOp>(kernels::ReduceOp::kSum); });
  r.add("ReduceMax", [] { return std::make_unique<ReduceOp>(kernels::ReduceOp::kMax); });
  r.add("Slice", [] { return std::make_unique<StridedViewOp>(StridedViewOp::Kind::kSlice); });
  r.add("Expand", [] { return std::make_unique<StridedViewOp>(StridedViewOp::Kind::kExpand); });
  r.add("Split", [] { return std::make_unique<SplitOp>(); });
  r.add("Gather", [] { return std::make_unique<GatherOp>(); });
  r.add("Add", [] { return std::make_unique<BinaryOp>(kernels::BinaryOp::kAdd); });
  r.add("Sub", [] { return std::make_unique<BinaryOp>(kernels::BinaryOp::kSub); });
  r.add("Mul", [] { return std::make_unique<BinaryOp>(kernels::BinaryOp::kMul); });
  r.add("Div", [] { return std::make_unique<BinaryOp>(kernels::BinaryOp::kDiv); });
  r.add("BatchNormalization", [] { return std::make_unique<BatchNormOp>(); });
  r.add("Softmax", [] { return std::make_unique<SoftmaxOp>(); });
  r.add("MaxPool", [] { return std::make_unique<PoolOp>(PoolOp::kMax); });
  r.add("AveragePool", [] { return std::make_unique<PoolOp>(PoolOp::kAvg); });
  r.add("GlobalAveragePool", [] { return std::make_unique<PoolOp>(PoolOp::kGlobalAvg); });
  r.add("GlobalMaxPool", [] { return std::make_unique<PoolOp>(PoolOp::kGlobalMax); });
  for (const char* a : {"Reshape", "Flatten", "Identity", "Dropout", "Squeeze", "Unsqueeze"}) {
    r.add(a, [] { return std::make_unique<AliasOp>(); });
  }
  r.add("Concat", [] { return std::make_unique<ConcatOp>(); });
  r.add("Transpose",
        [] { return std::make_unique<StridedViewOp>(StridedViewOp::Kind::kTranspose); });
  r.add("Pad", [] { return std::make_unique<PadOp>(); });
}

}  // namespace

const OpRegistry& OpRegistry::builtin() {
  static const OpRegistry r = [] {
    OpRegistry b;
    add_builtins(b);
    add_int8_ops(b);  // QuantizeLinear, DequantizeLinear and the integer ops (int8_ops.h)
    return b;
  }();
  return r;
}

void OpRegistry::add(std::string_view op_type, OpFactory factory) {
  factories_[std::string(op_type)] = std::move(factory);
}

std::unique_ptr<Op> OpRegistry::create(std::string_view op_type) const {
  auto it = factories_.find(op_type);
  return it == factories_.end() ? nullptr : it->second();
}

bool OpRegistry::contains(std::string_view op_type) const {
  return factories_.find(op_type) != factories_.end();
}

std::vector<std::string> OpRegistry::names() const {
  std::vector<std::string> out;
  for (const auto& [k, v] : factories_) out.push_back(k);
  return out;
}

}  // namespace ei8
