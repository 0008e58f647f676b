// The one dispatcher of the FP32 elementwise ops (eltwise_f32.h): tier choice and the
// call into the tier's translation unit.
#include "ei8/runtime/kernels/eltwise_f32.h"

#include <algorithm>

#include "ei8/runtime/kernels/cpu_features.h"
#include "ei8/runtime/kernels/f32_internal.h"

namespace ei8::kernels {

std::vector<KernelChoice> registered_eltwise_kernels() {
  return {KernelChoice::kRef, KernelChoice::kGeneric, KernelChoice::kAvx2};
}

// The one table that maps the elementwise ops to a tier (STYLE.md 4): AVX2 when the CPU (and
// EI8_ISA) has it, else the portable vectors. AVX-512 adds nothing here (these ops are load /
// store bound on data that lives in L1/L2), so AVX-512 machines use the AVX2 tier.
Result<KernelChoice> prepare_eltwise_tier(KernelChoice choice) {
  if (choice == KernelChoice::kAuto) {
    return isa_available(Isa::kAvx2) ? KernelChoice::kAvx2 : KernelChoice::kGeneric;
  }
  if (!kernel_choice_available(choice)) {
    return unsupported(
        "cannot prepare elementwise op: kernel = {}, must be available on this CPU (isa {})",
        kernel_choice_name(choice), isa_name(best_isa()));
  }
  // The AVX-512 tiers (FP32 kAvx512, INT8 kAvx512Vnni) run these ops on AVX2.
  return choice == KernelChoice::kAvx512Vnni || choice == KernelChoice::kAvx512
             ? KernelChoice::kAvx2
             : choice;
}

void binary_f32(KernelChoice tier, BinaryOp op, const BroadcastPlan& plan, const float* a,
                const float* b, float* y, bool relu) {
  const BinaryArgs args{op, &plan, a, b, y, relu};
  switch (tier) {
    case KernelChoice::kAvx2:
    case KernelChoice::kAvx512:
    case KernelChoice::kAvx512Vnni:
      binary_f32_avx2(args);
      return;
    case KernelChoice::kGeneric:
      binary_f32_generic(args);
      return;
    case KernelChoice::kAuto:
    case KernelChoice::kRef:
      break;
  }
  binary_f32_ref(op, plan, a, b, y, relu);
}

}  // namespace ei8::kernels

namespace ei8::kernels {
namespace {

// The activations with a fast path; the others (Tanh, ...) run the reference on every tier.
bool fast_unary(UnaryOp op, FastUnary& out) {
  switch (op) {
    case UnaryOp::kRelu:
      out = FastUnary::kRelu;
      return true;
    case UnaryOp::kClip:
      out = FastUnary::kClip;
      return true;
    case UnaryOp::kLeakyRelu:
      out = FastUnary::kLeakyRelu;
      return true;
    case UnaryOp::kSigmoid:
      out = FastUnary::kSigmoid;
      return true;
    case UnaryOp::kHardSigmoid:
      out = FastUnary::kHardSigmoid;
      return true;
    case UnaryOp::kHardSwish:
      out = FastUnary::kHardSwish;
      return true;
    default:
      return false;
  }
}

void run_unary(KernelChoice tier, const UnaryArgs& args) {
  switch (tier) {
    case KernelChoice::kAvx2:
    case KernelChoice::kAvx512:
    case KernelChoice::kAvx512Vnni:
      unary_f32_avx2(args);
      return;
    default:
      unary_f32_generic(args);
      return;
  }
}

}  // namespace

bool unary_f32_exact(UnaryOp op) { return op != UnaryOp::kSigmoid; }

bool unary_f32_has_fast_path(UnaryOp op) {
  FastUnary fast{};
  return fast_unary(op, fast);
}

void unary_f32(KernelChoice tier, UnaryOp op, const UnaryParams& p, int64_t n, const float* x,
               float* y) {
  FastUnary fast{};
  if (tier == KernelChoice::kRef || tier == KernelChoice::kAuto || !fast_unary(op, fast)) {
    unary_f32_ref(op, p, n, x, y);
    return;
  }
  run_unary(tier, {fast, p.lo, p.hi, p.alpha, p.beta, n, x, y});
}

void silu_f32(KernelChoice tier, int64_t n, const float* x, float* y) {
  if (tier == KernelChoice::kRef || tier == KernelChoice::kAuto) {
    // The reference pair: Sigmoid, then the Mul by x (binary_f32_ref's x · s).
    const UnaryParams p;
    for (int64_t i = 0; i < n;) {  // in blocks through a small buffer: y may alias x
      float s[256];
      const int64_t m = std::min<int64_t>(256, n - i);
      unary_f32_ref(UnaryOp::kSigmoid, p, m, x + i, s);
      for (int64_t j = 0; j < m; ++j) y[i + j] = x[i + j] * s[j];
      i += m;
    }
    return;
  }
  run_unary(tier, {FastUnary::kSilu, 0.0f, 0.0f, 0.0f, 0.0f, n, x, y});
}

void channel_affine_f32(KernelChoice tier, int64_t batch, int64_t channels, int64_t inner,
                        const float* scale, const float* shift, const float* x, float* y,
                        bool relu) {
  const AffineArgs args{batch * channels, channels, inner, scale, shift, x, y, relu};
  switch (tier) {
    case KernelChoice::kAvx2:
    case KernelChoice::kAvx512:
    case KernelChoice::kAvx512Vnni:
      channel_affine_f32_avx2(args);
      return;
    case KernelChoice::kGeneric:
      channel_affine_f32_generic(args);
      return;
    case KernelChoice::kAuto:
    case KernelChoice::kRef:
      break;
  }
  channel_affine_f32_ref(batch, channels, inner, scale, shift, x, y);
  if (relu) unary_f32_ref(UnaryOp::kRelu, {}, batch * channels * inner, y, y);
}

}  // namespace ei8::kernels
