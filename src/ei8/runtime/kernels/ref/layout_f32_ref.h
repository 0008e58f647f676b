// ei8/runtime/kernels/ref/layout_f32_ref.h — data movement, the reference tier: Concat, Split,
// Transpose, Slice, Expand, Gather and constant Pad on contiguous row-major buffers of any
// element size. No allocation at run time (plans are built once).
//
//   concat_ref(outer, {{a, a_inner}, {b, b_inner}}, elem_size, y);
//   TransposePlan t = make_transpose_plan({1, 8, 4, 4}, {0, 2, 3, 1});
//   transpose_ref(t, 4, x, y);
//   TransposePlan s = make_slice_plan({1, 8, 4, 4}, {0, 4, 0, 0}, {1, 1, 1, 1}, {1, 4, 4, 4});
//   transpose_ref(s, 4, x, y);                       // y = x[:, 4:8]
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "ei8/core/tensor.h"

namespace ei8::kernels {

// One Concat input: its data and its bytes per `outer` slice (dim(axis)·inner·elem_size).
struct ConcatPart {
  const std::byte* data;
  size_t chunk_bytes;
};
// For each of `outer` slices, copies every part's chunk in order into y.
void concat_ref(int64_t outer, std::span<const ConcatPart> parts, std::byte* y);

// One output axis per entry: y[i0, i1, ...] = x[offset + i0·in_strides[0] + i1·in_strides[1] ...]
// (any strided view of x: a transpose, a slice, a broadcast with stride 0).
struct TransposePlan {
  std::vector<int64_t> out_dims;    // output shape
  std::vector<int64_t> in_strides;  // input stride (elements) of each output axis
  int64_t numel = 0;                // elements of the output
  int64_t offset = 0;               // input element of output element 0
};
TransposePlan make_transpose_plan(const Shape& in, const std::vector<int64_t>& perm);
// Slice: output axis d takes count[d] elements from start[d] in steps of step[d] (any sign).
// Precondition: the window lies inside `in` (slice_window in graph/shape_inference.h).
TransposePlan make_slice_plan(const Shape& in, const std::vector<int64_t>& start,
                              const std::vector<int64_t>& step, const std::vector<int64_t>& count);
// Expand: `in` broadcast to `out` (numpy rules, `in` right-aligned; dims of 1 repeat).
TransposePlan make_expand_plan(const Shape& in, const Shape& out);
// Copies the view; rank(out_dims) <= 8.
void transpose_ref(const TransposePlan& plan, size_t elem_size, const std::byte* x, std::byte* y);

// Split: for each of `outer` slices, x's next part.chunk_bytes go to part i (concat reversed).
struct SplitPart {
  std::byte* data;
  size_t chunk_bytes;
};
void split_ref(int64_t outer, const std::byte* x, std::span<const SplitPart> parts);

// Gather along one axis of x viewed as [outer, axis_len, inner·elem_size bytes]:
// y[o, j, :] = x[o, index[j], :] with index[j] in [0, axis_len) (normalized by the caller).
void gather_ref(int64_t outer, int64_t axis_len, size_t inner_bytes, std::span<const int64_t> index,
                const std::byte* x, std::byte* y);

struct PadPlan {
  Shape in, out;
  std::vector<int64_t> begin;  // pads at the start of each axis (may be negative = crop)
};
// Constant pad (f32): y = value outside the input, the input inside; rank <= 8.
void pad_f32_ref(const PadPlan& plan, float value, const float* x, float* y);

}  // namespace ei8::kernels
