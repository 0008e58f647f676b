// ei8/runtime/kernels/ref/eltwise_f32_ref.h — FP32 elementwise ops, the reference tier:
// activations and unary math, binary arithmetic and Pow with numpy broadcasting, inference
// BatchNormalization, Softmax and the reductions (ReduceMean/Sum/Max). Contiguous row-major
// buffers; no allocation; y may alias x for the unary ops.
//
//   unary_f32_ref(UnaryOp::kSigmoid, n, x, y);
//   BroadcastPlan plan = make_broadcast_plan({8, 1, 1}, {2, 8, 4, 4});  // once (prepare)
//   binary_f32_ref(BinaryOp::kAdd, plan, a, b, y);                       // many times (run)
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "ei8/core/tensor.h"

namespace ei8::kernels {

// HardSigmoid: max(0, min(1, alpha·x + beta)); HardSwish: x · HardSigmoid(x) with alpha = 1/6,
// beta = 0.5 (ONNX); Sqrt, Erf: std::sqrt, std::erf (float).
enum class UnaryOp {
  kRelu,
  kSigmoid,
  kTanh,
  kLeakyRelu,
  kClip,
  kHardSigmoid,
  kHardSwish,
  kSqrt,
  kErf
};
struct UnaryParams {
  float alpha = 0.01f;         // LeakyRelu, HardSigmoid
  float beta = 0.5f;           // HardSigmoid
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
// The one walk over a plan's outer dimensions (reference and fast tiers): calls
// row(offset_a, offset_b, offset_y, inner) once per innermost row, in output order;
// inner = dims.back(), whose strides stride_a/b.back() the caller applies. Needs dims non-empty.
template <class Row>
void for_each_broadcast_row(const BroadcastPlan& plan, Row row) {
  const size_t r = plan.dims.size();
  const int64_t inner = plan.dims[r - 1];
  std::array<int64_t, kMaxBroadcastRank> idx{};  // r <= kMaxBroadcastRank (make_broadcast_plan)
  int64_t oa = 0, ob = 0;
  for (int64_t done = 0; done < plan.numel; done += inner) {
    row(oa, ob, done, inner);
    for (size_t d = r - 1; d-- > 0;) {
      ++idx[d];
      oa += plan.stride_a[d];
      ob += plan.stride_b[d];
      if (idx[d] < plan.dims[d]) break;
      oa -= plan.stride_a[d] * plan.dims[d];
      ob -= plan.stride_b[d] * plan.dims[d];
      idx[d] = 0;
    }
  }
}
// relu: applies max(·, 0) to the result (a Relu fused into the Add of a residual block).
void binary_f32_ref(BinaryOp op, const BroadcastPlan& plan, const float* a, const float* b,
                    float* y, bool relu = false);

// y = pow(a, b) (std::pow in float) over a broadcast plan.
void pow_f32_ref(const BroadcastPlan& plan, const float* a, const float* b, float* y);

// Reductions over any set of axes. The plan splits the input's axes into kept ones (the output,
// in order) and reduced ones, with their input strides; adjacent axes of the same kind merge.
enum class ReduceOp { kMean, kSum, kMax };
struct ReducePlan {
  std::vector<int64_t> out_dims, out_strides;  // kept axes (input strides)
  std::vector<int64_t> red_dims, red_strides;  // reduced axes (input strides)
  int64_t out_numel = 1, red_numel = 1;
};
// `axes`: sorted, distinct, in [0, rank) (graph/shape_inference.h reduce_axes). Ranks <= 8.
ReducePlan make_reduce_plan(const Shape& in, const std::vector<int64_t>& axes);
// Mean and Sum add in double (one rounding to float at the end; the mean divides the double sum
// by the count); Max keeps the first NaN it meets. An empty reduction gives 0 (Sum, Mean: 0/0
// is NaN as in ONNX Runtime) — Max of nothing is rejected by shape inference.
void reduce_f32_ref(ReduceOp op, const ReducePlan& plan, const float* x, float* y);

// y[n,c,...] = scale[c]·x[n,c,...] + shift[c] with scale = gamma/sqrt(var+eps) and
// shift = beta − scale·mean precomputed by the caller; `inner` = product of spatial dims.
void channel_affine_f32_ref(int64_t batch, int64_t channels, int64_t inner, const float* scale,
                            const float* shift, const float* x, float* y);

// Softmax over the middle dimension of [outer, axis_len, inner] (max-subtracted, double sum).
void softmax_f32_ref(int64_t outer, int64_t axis_len, int64_t inner, const float* x, float* y);

}  // namespace ei8::kernels
