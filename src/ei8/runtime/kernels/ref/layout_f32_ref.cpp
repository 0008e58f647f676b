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

TransposePlan make_slice_plan(const Shape& in, const std::vector<int64_t>& start,
                              const std::vector<int64_t>& step, const std::vector<int64_t>& count) {
  TransposePlan t;
  std::vector<int64_t> st(in.size(), 1);
  for (size_t i = in.size(); i-- > 1;) st[i - 1] = st[i] * in[i];
  t.numel = 1;
  for (size_t d = 0; d < in.size(); ++d) {
    t.out_dims.push_back(count[d]);
    t.in_strides.push_back(st[d] * step[d]);
    t.offset += start[d] * st[d];
    t.numel *= count[d];
  }
  return t;
}

TransposePlan make_expand_plan(const Shape& in, const Shape& out) {
  TransposePlan t;
  const size_t lead = out.size() - in.size();
  int64_t s = 1;
  std::vector<int64_t> st(in.size(), 0);
  for (size_t i = in.size(); i-- > 0;) {
    st[i] = in[i] == 1 ? 0 : s;
    s *= in[i];
  }
  t.out_dims = out;
  for (size_t d = 0; d < out.size(); ++d) t.in_strides.push_back(d < lead ? 0 : st[d - lead]);
  t.numel = shape_numel(out);
  return t;
}

void split_ref(int64_t outer, const std::byte* x, std::span<const SplitPart> parts) {
  for (int64_t o = 0; o < outer; ++o) {
    for (const SplitPart& p : parts) {
      std::memcpy(p.data + static_cast<size_t>(o) * p.chunk_bytes, x, p.chunk_bytes);
      x += p.chunk_bytes;
    }
  }
}

void gather_ref(int64_t outer, int64_t axis_len, size_t inner_bytes, std::span<const int64_t> index,
                const std::byte* x, std::byte* y) {
  for (int64_t o = 0; o < outer; ++o) {
    const std::byte* xo = x + static_cast<size_t>(o * axis_len) * inner_bytes;
    for (int64_t j : index) {
      std::memcpy(y, xo + static_cast<size_t>(j) * inner_bytes, inner_bytes);
      y += inner_bytes;
    }
  }
}

void transpose_ref(const TransposePlan& t, size_t es, const std::byte* x, std::byte* y) {
  const size_t r = t.out_dims.size();
  if (t.numel == 0) return;
  if (r == 0) {
    std::memcpy(y, x + static_cast<size_t>(t.offset) * es, es);
    return;
  }
  std::array<int64_t, 8> idx{};
  int64_t src = t.offset;
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
