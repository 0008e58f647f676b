// ei8/runtime/kernels/eltwise_f32.h — the fast FP32 elementwise ops the executor calls, in
// three tiers with one dispatcher (STYLE.md 2, 4): the binary ops (Add, Sub, Mul, Div with numpy
// broadcasting and an optional fused Relu), the activations (Relu, Clip, LeakyRelu, Sigmoid and
// SiLU = x·sigmoid(x)) and the per-channel affine of inference BatchNormalization (+ Relu). The
// specifications are binary_f32_ref, unary_f32_ref and channel_affine_f32_ref
// (ref/eltwise_f32_ref.h).
//
// Bit-exact with the reference: every output is the same single IEEE operation on the same two
// operands (a ∘ b, in that order, one rounding), then the reference's relu r > 0 ? r : 0 (NaN
// and −0 give +0). Only the evaluation across outputs changes: the innermost merged dimension
// of the broadcast plan runs as vectors of 8 (vector ∘ vector, vector ∘ scalar, scalar ∘ vector:
// the plan's innermost strides are 0 or 1), the outer dimensions are walked like the reference.
// (Which operand's payload a NaN result carries is not specified, as for the reference.)
//
//   Result<KernelChoice> tier = prepare_eltwise_tier(KernelChoice::kAuto);   // in prepare()
//   BroadcastPlan plan = make_broadcast_plan({1, 16, 1, 1}, {1, 16, 32, 32}, {1, 16, 32, 32});
//   binary_f32(*tier, BinaryOp::kAdd, plan, a, b, y, /*relu=*/true);           // in run()
//   unary_f32(*tier, UnaryOp::kSigmoid, {}, n, x, y);                           // ≤ 3 ulp
//   channel_affine_f32(*tier, 1, 64, 56 * 56, scale, shift, x, y, /*relu=*/true);  // exact
//
// Activations. Relu, Clip and LeakyRelu are bit-exact with unary_f32_ref (the same comparison
// per element; NaN and −0 as there). Sigmoid is not: the reference calls std::exp, the fast
// tiers evaluate exp with their own polynomial. Its contract is an error bound against the
// exact value: |y − σ(x)| ≤ kSigmoidMaxUlp ulps of σ(x) rounded to float, for every float x
// (denormal results included; ±inf → 1 / +0, NaN → NaN). (The reference's 1/(1 + exp(−x)) is
// as close for x > −88.7; below, exp(−x) overflows and it returns 0 where σ(x) is a denormal.)
// silu_f32 gives x · s with s exactly the tier's sigmoid: the bits of
// unary Sigmoid followed by a Mul by x (so fusing the two changes no result).
#pragma once

#include <vector>

#include "ei8/core/status.h"
#include "ei8/runtime/kernels/f32_common.h"
#include "ei8/runtime/kernels/ref/eltwise_f32_ref.h"

namespace ei8::kernels {

// The elementwise tiers (kRef first), available here or not: tests instantiate over this and
// skip the unavailable ones.
std::vector<KernelChoice> registered_eltwise_kernels();
// kAuto → the best tier of this CPU (avx2 > generic; EI8_ISA=portable caps it). A forced tier
// must be available (else kUnsupported); kAvx512Vnni (an executor forcing the INT8 VNNI tier)
// gives kAvx2, the elementwise ops having no VNNI code.
[[nodiscard]] Result<KernelChoice> prepare_eltwise_tier(KernelChoice choice);

// y = a ∘ b (then max(·, 0) when relu) over `plan` (make_broadcast_plan, non-empty); `tier` as
// returned by prepare_eltwise_tier (kRef runs the reference). y may alias a or b when that
// operand has y's shape. No allocation, no validation.
void binary_f32(KernelChoice tier, BinaryOp op, const BroadcastPlan& plan, const float* a,
                const float* b, float* y, bool relu = false);

// The error bound of the fast tiers' Sigmoid in ulps of the correctly rounded result (see above;
// tests/runtime/kernels/unary_f32_test.cpp measures it over every tier).
inline constexpr int kSigmoidMaxUlp = 3;
// Whether the fast tiers compute `op` bit-exactly like unary_f32_ref (Sigmoid: within
// kSigmoidMaxUlp; ops without a fast path run the reference itself, hence exact).
bool unary_f32_exact(UnaryOp op);
// Whether `op` has a fast path (Relu, Clip, LeakyRelu, Sigmoid); the others run the reference.
bool unary_f32_has_fast_path(UnaryOp op);
// y = op(x) over n floats; `tier` as returned by prepare_eltwise_tier (kRef runs the
// reference). Ops without a fast path (Tanh) run the reference on every tier. y may alias x.
void unary_f32(KernelChoice tier, UnaryOp op, const UnaryParams& p, int64_t n, const float* x,
               float* y);
// y = x · sigmoid(x) (SiLU / Swish-1) with the tier's sigmoid; y may alias x.
void silu_f32(KernelChoice tier, int64_t n, const float* x, float* y);
// y[n,c,i] = scale[c]·x[n,c,i] + shift[c] (one multiply, one add: no FMA contraction), then
// r > 0 ? r : 0 when relu — bit-exact with channel_affine_f32_ref followed by the reference relu.
// y may alias x.
void channel_affine_f32(KernelChoice tier, int64_t batch, int64_t channels, int64_t inner,
                        const float* scale, const float* shift, const float* x, float* y,
                        bool relu = false);

}  // namespace ei8::kernels
