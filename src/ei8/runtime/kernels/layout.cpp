// Transpose / Slice / Expand as runs (layout.h). Portable: the contiguous runs go through
// memcpy (the C library's vector copy), the strided innermost axes through typed loops for
// 1-, 2-, 4- and 8-byte elements.
#include "ei8/runtime/kernels/layout.h"

#include <array>
#include <cstring>

namespace ei8::kernels {
namespace {

// The innermost axis: n elements from x (stride `s` elements) to contiguous y.
template <class T>
void copy_row(int64_t n, int64_t s, const std::byte* x, std::byte* y) {
  T* yt = reinterpret_cast<T*>(y);
  if (s == 0) {
    T v;
    std::memcpy(&v, x, sizeof(T));
    for (int64_t i = 0; i < n; ++i) yt[i] = v;
    return;
  }
  for (int64_t i = 0; i < n; ++i) std::memcpy(yt + i, x + i * s * sizeof(T), sizeof(T));
}

void row(int64_t n, int64_t s, size_t es, const std::byte* x, std::byte* y) {
  if (s == 1) {
    std::memcpy(y, x, static_cast<size_t>(n) * es);
    return;
  }
  switch (es) {
    case 1:
      return copy_row<uint8_t>(n, s, x, y);
    case 2:
      return copy_row<uint16_t>(n, s, x, y);
    case 4:
      return copy_row<uint32_t>(n, s, x, y);
    case 8:
      return copy_row<uint64_t>(n, s, x, y);
    default:
      for (int64_t i = 0; i < n; ++i) {
        std::memcpy(y + static_cast<size_t>(i) * es, x + static_cast<size_t>(i * s) * es, es);
      }
  }
}

}  // namespace

StridedCopyPlan make_strided_copy_plan(const TransposePlan& t) {
  StridedCopyPlan p;
  p.numel = t.numel;
  p.offset = t.offset;
  for (size_t d = 0; d < t.out_dims.size(); ++d) {
    if (t.out_dims[d] == 1) continue;  // contributes no index
    if (!p.dims.empty() && p.strides.back() == t.in_strides[d] * t.out_dims[d]) {
      p.dims.back() *= t.out_dims[d];  // the previous axis steps over exactly this one
      p.strides.back() = t.in_strides[d];
      continue;
    }
    p.dims.push_back(t.out_dims[d]);
    p.strides.push_back(t.in_strides[d]);
  }
  return p;
}

void strided_copy(const StridedCopyPlan& p, size_t es, const std::byte* x, std::byte* y) {
  if (p.numel == 0) return;
  x += static_cast<size_t>(p.offset) * es;
  if (p.dims.empty()) {
    std::memcpy(y, x, es);
    return;
  }
  const size_t outer_rank = p.dims.size() - 1;
  const int64_t n = p.dims.back(), s = p.strides.back();
  const int64_t rows = p.numel / n;
  std::array<int64_t, 8> idx{};
  int64_t src = 0;
  for (int64_t r = 0; r < rows; ++r) {
    row(n, s, es, x + static_cast<size_t>(src) * es, y);
    y += static_cast<size_t>(n) * es;
    for (size_t d = outer_rank; d-- > 0;) {  // odometer over the outer axes
      ++idx[d];
      src += p.strides[d];
      if (idx[d] < p.dims[d]) break;
      src -= p.strides[d] * p.dims[d];
      idx[d] = 0;
    }
  }
}

}  // namespace ei8::kernels
