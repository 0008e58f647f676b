#include "ei8/runtime/kernels/ref/eltwise_f32_ref.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>

namespace ei8::kernels {

void unary_f32_ref(UnaryOp op, const UnaryParams& p, int64_t n, const float* x, float* y) {
  switch (op) {
    case UnaryOp::kRelu:
      for (int64_t i = 0; i < n; ++i) y[i] = x[i] > 0.0f ? x[i] : 0.0f;
      return;
    case UnaryOp::kSigmoid:
      for (int64_t i = 0; i < n; ++i) y[i] = 1.0f / (1.0f + std::exp(-x[i]));
      return;
    case UnaryOp::kTanh:
      for (int64_t i = 0; i < n; ++i) y[i] = std::tanh(x[i]);
      return;
    case UnaryOp::kLeakyRelu:
      for (int64_t i = 0; i < n; ++i) y[i] = x[i] < 0.0f ? p.alpha * x[i] : x[i];
      return;
    case UnaryOp::kClip:
      for (int64_t i = 0; i < n; ++i) y[i] = std::min(std::max(x[i], p.lo), p.hi);
      return;
    case UnaryOp::kHardSigmoid:
      for (int64_t i = 0; i < n; ++i) {
        y[i] = std::max(0.0f, std::min(1.0f, p.alpha * x[i] + p.beta));
      }
      return;
    case UnaryOp::kHardSwish:
      for (int64_t i = 0; i < n; ++i) {
        y[i] = x[i] * std::max(0.0f, std::min(1.0f, x[i] * (1.0f / 6.0f) + 0.5f));
      }
      return;
    case UnaryOp::kSqrt:
      for (int64_t i = 0; i < n; ++i) y[i] = std::sqrt(x[i]);
      return;
    case UnaryOp::kErf:
      for (int64_t i = 0; i < n; ++i) y[i] = std::erf(x[i]);
      return;
  }
}

BroadcastPlan make_broadcast_plan(const Shape& a, const Shape& b, const Shape& out) {
  BroadcastPlan plan;
  plan.numel = shape_numel(out);
  plan.same = a == out && b == out;
  const size_t r = out.size();
  auto padded = [&](const Shape& s) {
    Shape p(r - s.size(), 1);
    p.insert(p.end(), s.begin(), s.end());
    return p;
  };
  const Shape pa = padded(a), pb = padded(b);
  // Merge adjacent dims whose broadcast pattern (a broadcast?, b broadcast?) is equal.
  std::vector<int64_t> dims;
  std::vector<bool> ba, bb;
  for (size_t i = 0; i < r; ++i) {
    if (out[i] == 1) continue;
    const bool xa = pa[i] == 1, xb = pb[i] == 1;
    if (!dims.empty() && ba.back() == xa && bb.back() == xb) {
      dims.back() *= out[i];
    } else {
      dims.push_back(out[i]);
      ba.push_back(xa);
      bb.push_back(xb);
    }
  }
  if (dims.empty()) {
    dims.push_back(1);
    ba.push_back(false);
    bb.push_back(false);
  }
  if (dims.size() > kMaxBroadcastRank) return BroadcastPlan{};
  plan.dims = dims;
  plan.stride_a.assign(dims.size(), 0);
  plan.stride_b.assign(dims.size(), 0);
  int64_t sa = 1, sb = 1;
  for (size_t i = dims.size(); i-- > 0;) {
    if (!ba[i]) {
      plan.stride_a[i] = sa;
      sa *= dims[i];
    }
    if (!bb[i]) {
      plan.stride_b[i] = sb;
      sb *= dims[i];
    }
  }
  return plan;
}

namespace {
inline float apply(BinaryOp op, float u, float v) {
  switch (op) {
    case BinaryOp::kAdd:
      return u + v;
    case BinaryOp::kSub:
      return u - v;
    case BinaryOp::kMul:
      return u * v;
    case BinaryOp::kDiv:
      return u / v;
  }
  return 0.0f;
}

template <BinaryOp kOp, bool kRelu>
inline float apply_act(float u, float v) {
  const float r = apply(kOp, u, v);
  if constexpr (kRelu) return r > 0.0f ? r : 0.0f;
  return r;
}

template <BinaryOp kOp, bool kRelu>
void run_plan(const BroadcastPlan& plan, const float* a, const float* b, float* y) {
  if (plan.same) {
    for (int64_t i = 0; i < plan.numel; ++i) y[i] = apply_act<kOp, kRelu>(a[i], b[i]);
    return;
  }
  const int64_t ia = plan.stride_a.back(), ib = plan.stride_b.back();
  for_each_broadcast_row(plan, [&](int64_t oa, int64_t ob, int64_t oy, int64_t inner) {
    for (int64_t j = 0; j < inner; ++j)
      y[oy + j] = apply_act<kOp, kRelu>(a[oa + j * ia], b[ob + j * ib]);
  });
}
template <bool kRelu>
void dispatch(BinaryOp op, const BroadcastPlan& plan, const float* a, const float* b, float* y) {
  switch (op) {
    case BinaryOp::kAdd:
      return run_plan<BinaryOp::kAdd, kRelu>(plan, a, b, y);
    case BinaryOp::kSub:
      return run_plan<BinaryOp::kSub, kRelu>(plan, a, b, y);
    case BinaryOp::kMul:
      return run_plan<BinaryOp::kMul, kRelu>(plan, a, b, y);
    case BinaryOp::kDiv:
      return run_plan<BinaryOp::kDiv, kRelu>(plan, a, b, y);
  }
}
}  // namespace

void binary_f32_ref(BinaryOp op, const BroadcastPlan& plan, const float* a, const float* b,
                    float* y, bool relu) {
  if (relu) {
    dispatch<true>(op, plan, a, b, y);
  } else {
    dispatch<false>(op, plan, a, b, y);
  }
}

void pow_f32_ref(const BroadcastPlan& plan, const float* a, const float* b, float* y) {
  if (plan.same) {
    for (int64_t i = 0; i < plan.numel; ++i) y[i] = std::pow(a[i], b[i]);
    return;
  }
  const int64_t ia = plan.stride_a.back(), ib = plan.stride_b.back();
  for_each_broadcast_row(plan, [&](int64_t oa, int64_t ob, int64_t oy, int64_t inner) {
    for (int64_t j = 0; j < inner; ++j) y[oy + j] = std::pow(a[oa + j * ia], b[ob + j * ib]);
  });
}

ReducePlan make_reduce_plan(const Shape& in, const std::vector<int64_t>& axes) {
  ReducePlan p;
  std::vector<int64_t> st(in.size(), 1);
  for (size_t i = in.size(); i-- > 1;) st[i - 1] = st[i] * in[i];
  int last = -1;  // 0 = kept, 1 = reduced: kind of the previous axis
  for (size_t d = 0; d < in.size(); ++d) {
    const bool red = std::binary_search(axes.begin(), axes.end(), static_cast<int64_t>(d));
    auto& dims = red ? p.red_dims : p.out_dims;
    auto& strides = red ? p.red_strides : p.out_strides;
    (red ? p.red_numel : p.out_numel) *= in[d];
    if (in[d] == 1) continue;
    if (last == static_cast<int>(red) && !dims.empty() && strides.back() == st[d] * in[d]) {
      dims.back() *= in[d];  // adjacent axes of one kind: one axis
      strides.back() = st[d];
    } else {
      dims.push_back(in[d]);
      strides.push_back(st[d]);
    }
    last = static_cast<int>(red);
  }
  return p;
}

namespace {
// Calls f(offset) for every index of the odometer over (dims, strides), in row-major order.
template <class F>
void walk(const std::vector<int64_t>& dims, const std::vector<int64_t>& strides, int64_t base,
          F f) {
  const size_t r = dims.size();
  for (int64_t d : dims) {
    if (d == 0) return;
  }
  std::array<int64_t, 8> idx{};
  int64_t off = base;
  for (;;) {
    f(off);
    size_t d = r;
    for (; d-- > 0;) {
      ++idx[d];
      off += strides[d];
      if (idx[d] < dims[d]) break;
      off -= strides[d] * dims[d];
      idx[d] = 0;
    }
    if (d == static_cast<size_t>(-1)) return;
  }
}
}  // namespace

void reduce_f32_ref(ReduceOp op, const ReducePlan& p, const float* x, float* y) {
  int64_t o = 0;
  walk(p.out_dims, p.out_strides, 0, [&](int64_t base) {
    if (op == ReduceOp::kMax) {
      float m = -std::numeric_limits<float>::infinity();
      bool nan = false;
      walk(p.red_dims, p.red_strides, base, [&](int64_t i) {
        if (nan) return;
        if (std::isnan(x[i])) {
          m = x[i];
          nan = true;
        } else {
          m = std::max(m, x[i]);
        }
      });
      y[o++] = m;
      return;
    }
    double s = 0.0;
    walk(p.red_dims, p.red_strides, base, [&](int64_t i) { s += x[i]; });
    if (op == ReduceOp::kMean) s /= static_cast<double>(p.red_numel);
    y[o++] = static_cast<float>(s);
  });
}

void channel_affine_f32_ref(int64_t batch, int64_t channels, int64_t inner, const float* scale,
                            const float* shift, const float* x, float* y) {
  for (int64_t n = 0; n < batch; ++n) {
    for (int64_t c = 0; c < channels; ++c) {
      const int64_t base = (n * channels + c) * inner;
      for (int64_t i = 0; i < inner; ++i) y[base + i] = scale[c] * x[base + i] + shift[c];
    }
  }
}

void softmax_f32_ref(int64_t outer, int64_t axis_len, int64_t inner, const float* x, float* y) {
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t i = 0; i < inner; ++i) {
      const float* xp = x + o * axis_len * inner + i;
      float* yp = y + o * axis_len * inner + i;
      float m = xp[0];
      for (int64_t k = 1; k < axis_len; ++k) m = std::max(m, xp[k * inner]);
      double s = 0.0;
      for (int64_t k = 0; k < axis_len; ++k) {
        const float e = std::exp(xp[k * inner] - m);
        yp[k * inner] = e;
        s += e;
      }
      const float inv = static_cast<float>(1.0 / s);
      for (int64_t k = 0; k < axis_len; ++k) yp[k * inner] *= inv;
    }
  }
}

}  // namespace ei8::kernels
