// ei8/runtime/kernels/ref/eltwise_f32_ref.h — FP32 elementwise ops, the reference tier:
// activations, binary arithmetic with numpy broadcasting, inference BatchNormalization and
// Softmax. Contiguous row-major buffers; no allocation; y may alias x for the unary ops.
//
//   unary_f32_ref(UnaryOp::kSigmoid, n, x, y);
//   BroadcastPlan plan = make_broadcast_plan({8, 1, 1}, {2, 8, 4, 4});  // once (prepare)
//   binary_f32_ref(BinaryOp::kAdd, plan, a, b, y);                       // many times (run)
#pragma once

#include <cstdint>
#include <vector>

#include "ei8/core/tensor.h"

namespace ei8::kernels {

enum class UnaryOp { kRelu, kSigmoid, kTanh, kLeakyRelu, kClip };
struct UnaryParams {
  float alpha = 0.01f;         // LeakyRelu
  float lo = 0.0f, hi = 0.0f;  // Clip (±inf allowed)
};
void unary_f32_ref(UnaryOp op, const UnaryParams& p, int64_t n, const float* x, float* y);

enum class BinaryOp { kAdd, kSub, kMul, kDiv };
inline constexpr size_t kMaxBroadcastRank = 8;
// Index arithmetic for y = a ∘ b with numpy broadcasting to `out` (rank ≤ 6 after merging
// adjacent dimensions with the same broadcast pattern; make_broadcast_plan returns dims.size()
// <= kMaxBroadcastRank or an empty plan (dims empty) when the pattern is more complex).
struct BroadcastPlan {
  int64_t numel = 0;
  bool same = false;                        // a, b and y have the same shape: one flat loop
  std::vector<int64_t> dims;                // merged output dims, outermost first
  std::vector<int64_t> stride_a, stride_b;  // 0 where broadcast
};
BroadcastPlan make_broadcast_plan(const Shape& a, const Shape& b, const Shape& out);
void binary_f32_ref(BinaryOp op, const BroadcastPlan& plan, const float* a, const float* b,
                    float* y);

// y[n,c,...] = scale[c]·x[n,c,...] + shift[c] with scale = gamma/sqrt(var+eps) and
// shift = beta − scale·mean precomputed by the caller; `inner` = product of spatial dims.
void channel_affine_f32_ref(int64_t batch, int64_t channels, int64_t inner, const float* scale,
                            const float* shift, const float* x, float* y);

// Softmax over the middle dimension of [outer, axis_len, inner] (max-subtracted, double sum).
void softmax_f32_ref(int64_t outer, int64_t axis_len, int64_t inner, const float* x, float* y);

}  // namespace ei8::kernels
