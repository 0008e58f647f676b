// ei8/runtime/kernels/ref/layout_f32_ref.h — data movement, the reference tier: Concat,
// Transpose and constant Pad on contiguous row-major buffers of any element size. No
// allocation at run time (plans are built once).
//
//   concat_ref(outer, {{a, a_inner}, {b, b_inner}}, elem_size, y);
//   TransposePlan t = make_transpose_plan({1, 8, 4, 4}, {0, 2, 3, 1});
//   transpose_ref(t, 4, x, y);
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

struct TransposePlan {
  std::vector<int64_t> out_dims;    // output shape
  std::vector<int64_t> in_strides;  // input stride (elements) of each output axis
  int64_t numel = 0;
};
TransposePlan make_transpose_plan(const Shape& in, const std::vector<int64_t>& perm);
// rank(out_dims) <= 8.
void transpose_ref(const TransposePlan& plan, size_t elem_size, const std::byte* x, std::byte* y);

struct PadPlan {
  Shape in, out;
  std::vector<int64_t> begin;  // pads at the start of each axis (may be negative = crop)
};
// Constant pad (f32): y = value outside the input, the input inside; rank <= 8.
void pad_f32_ref(const PadPlan& plan, float value, const float* x, float* y);

}  // namespace ei8::kernels
