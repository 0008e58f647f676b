// ei8/runtime/kernels/layout.h — the fast tier of Transpose, Slice and Expand (any element
// size): the strided view of a TransposePlan (ref/layout_f32_ref.h, the specification) copied
// run by run. Pure data movement, so bit-exact with transpose_ref by construction; tested
// against it (tests/runtime/kernels/layout_test.cpp).
//
//   TransposePlan t = make_transpose_plan({1, 2, 58, 28, 28}, {0, 2, 1, 3, 4});
//   StridedCopyPlan p = make_strided_copy_plan(t);   // once, at prepare
//   strided_copy(p, 4, x, y);                        // 116 memcpy of 784 floats
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "ei8/runtime/kernels/ref/layout_f32_ref.h"

namespace ei8::kernels {

// The view simplified: axes of extent 1 dropped, output axes that are also adjacent and
// contiguous in the input merged (in_stride[d] = in_stride[d + 1]·dim[d + 1]). The innermost
// axis then is a contiguous run (stride 1: one memcpy), a broadcast (stride 0: a fill) or a
// gather with a constant stride.
struct StridedCopyPlan {
  std::vector<int64_t> dims;     // merged output axes (outermost first); empty = one element
  std::vector<int64_t> strides;  // input stride (elements) of each merged axis
  int64_t numel = 0;
  int64_t offset = 0;
};
StridedCopyPlan make_strided_copy_plan(const TransposePlan& t);
// y = the view of x (the same bytes transpose_ref writes).
void strided_copy(const StridedCopyPlan& p, size_t elem_size, const std::byte* x, std::byte* y);

}  // namespace ei8::kernels
