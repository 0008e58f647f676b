#include "ei8/runtime/kernels/ref/layout_f32_ref.h"

#include <array>
#include <cstring>

namespace ei8::kernels {

void concat_ref(int64_t outer, std::span<const ConcatPart> parts, std::byte* y) {
  for (int64_t o = 0; o < outer; ++o) {
    for (const ConcatPart& p : parts) {
      std::memcpy(y, p.data + static_cast<size_t>(o) * p.chunk_bytes, p.chunk_bytes);
      y += p.chunk_bytes;
    }
  }
}

TransposePlan make_transpose_plan(const Shape& in, const std::vector<int64_t>& perm) {
  TransposePlan t;
  std::vector<int64_t> st(in.size(), 1);
  for (size_t i = in.size(); i-- > 1;) st[i - 1] = st[i] * in[i];
  for (int64_t p : perm) {
    t.out_dims.push_back(in[static_cast<size_t>(p)]);
    t.in_strides.push_back(st[static_cast<size_t>(p)]);
  }
  t.numel = shape_numel(in);
  return t;
}

void transpose_ref(const TransposePlan& t, size_t es, const std::byte* x, std::byte* y) {
  const size_t r = t.out_dims.size();
  if (t.numel == 0) return;
  if (r == 0) {
    std::memcpy(y, x, es);
    return;
  }
  std::array<int64_t, 8> idx{};
  int64_t src = 0;
  for (int64_t i = 0; i < t.numel; ++i) {
    std::memcpy(y + static_cast<size_t>(i) * es, x + static_cast<size_t>(src) * es, es);
    for (size_t d = r; d-- > 0;) {
      ++idx[d];
      src += t.in_strides[d];
      if (idx[d] < t.out_dims[d]) break;
      src -= t.in_strides[d] * t.out_dims[d];
      idx[d] = 0;
    }
  }
}

void pad_f32_ref(const PadPlan& p, float value, const float* x, float* y) {
  const size_t r = p.out.size();
  const int64_t numel = shape_numel(p.out);
  std::array<int64_t, 8> idx{}, in_stride{};
  int64_t s = 1;
  for (size_t d = r; d-- > 0;) {
    in_stride[d] = s;
    s *= p.in[d];
  }
  for (int64_t i = 0; i < numel; ++i) {
    int64_t src = 0;
    bool inside = true;
    for (size_t d = 0; d < r; ++d) {
      const int64_t c = idx[d] - p.begin[d];
      if (c < 0 || c >= p.in[d]) {
        inside = false;
        break;
      }
      src += c * in_stride[d];
    }
    y[i] = inside ? x[src] : value;
    for (size_t d = r; d-- > 0;) {
      if (++idx[d] < p.out[d]) break;
      idx[d] = 0;
    }
  }
}

}  // namespace ei8::kernels
