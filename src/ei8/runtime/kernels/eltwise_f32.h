// ei8/runtime/kernels/eltwise_f32.h — the fast FP32 elementwise binary ops the executor calls
// (Add, Sub, Mul, Div with numpy broadcasting and an optional fused Relu), in three tiers with
// one dispatcher (STYLE.md 2, 4). The specification is binary_f32_ref (ref/eltwise_f32_ref.h).
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

}  // namespace ei8::kernels
