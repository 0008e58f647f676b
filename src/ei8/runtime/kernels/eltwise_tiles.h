// ei8/runtime/kernels/eltwise_tiles.h — internal: the FP32 elementwise binary loops written once
// over the 8-lane vector type `Ops` of f32_tiles.h (extended by add/sub/mul/div and relu), and
// instantiated by each tier's translation unit (generic/f32_generic.cpp, x86/f32_avx2.cpp).
//
// Ops must also provide: add/sub/mul/div(u, v) = one IEEE operation per lane (u first), and
// relu(v) = v > 0 ? v : 0 per lane (NaN and −0 → +0), the reference's fused relu.
#pragma once

#include <array>
#include <cstdint>

#include "ei8/runtime/kernels/f32_internal.h"

namespace ei8::kernels::tiles {

template <class Ops, BinaryOp kOp, bool kRelu>
[[gnu::always_inline]] inline typename Ops::V binary_v(typename Ops::V u, typename Ops::V v) {
  typename Ops::V r;
  if constexpr (kOp == BinaryOp::kAdd) r = Ops::add(u, v);
  if constexpr (kOp == BinaryOp::kSub) r = Ops::sub(u, v);
  if constexpr (kOp == BinaryOp::kMul) r = Ops::mul(u, v);
  if constexpr (kOp == BinaryOp::kDiv) r = Ops::div(u, v);
  if constexpr (kRelu) r = Ops::relu(r);
  return r;
}

template <class Ops, bool kVec>
[[gnu::always_inline]] inline typename Ops::V operand(const float* p, int64_t j,
                                                      typename Ops::V scalar) {
  if constexpr (kVec) return Ops::load(p + j);
  return scalar;
}

// One row of n outputs: y[j] = a[j·kA] ∘ b[j·kB] with kA, kB ∈ {0, 1} (0 = a scalar operand).
template <class Ops, BinaryOp kOp, bool kRelu, bool kA, bool kB>
void binary_row(const float* a, const float* b, float* y, int64_t n) {
  using V = typename Ops::V;
  const V sa = kA ? Ops::set1(0.0f) : Ops::bcast(a);
  const V sb = kB ? Ops::set1(0.0f) : Ops::bcast(b);
  int64_t j = 0;
  for (; j + 32 <= n; j += 32) {
    const V u0 = operand<Ops, kA>(a, j, sa), u1 = operand<Ops, kA>(a, j + 8, sa),
            u2 = operand<Ops, kA>(a, j + 16, sa), u3 = operand<Ops, kA>(a, j + 24, sa);
    const V v0 = operand<Ops, kB>(b, j, sb), v1 = operand<Ops, kB>(b, j + 8, sb),
            v2 = operand<Ops, kB>(b, j + 16, sb), v3 = operand<Ops, kB>(b, j + 24, sb);
    Ops::store(y + j, binary_v<Ops, kOp, kRelu>(u0, v0));
    Ops::store(y + j + 8, binary_v<Ops, kOp, kRelu>(u1, v1));
    Ops::store(y + j + 16, binary_v<Ops, kOp, kRelu>(u2, v2));
    Ops::store(y + j + 24, binary_v<Ops, kOp, kRelu>(u3, v3));
  }
  for (; j + 8 <= n; j += 8) {
    Ops::store(y + j,
               binary_v<Ops, kOp, kRelu>(operand<Ops, kA>(a, j, sa), operand<Ops, kB>(b, j, sb)));
  }
  if (j < n) {
    const int rest = static_cast<int>(n - j);
    // Lanes ≥ rest read 0 (a 0/0 there is never stored).
    const V u = kA ? Ops::load_n(a + j, rest) : sa, v = kB ? Ops::load_n(b + j, rest) : sb;
    Ops::store_n(y + j, binary_v<Ops, kOp, kRelu>(u, v), rest);
  }
}

template <class Ops, BinaryOp kOp, bool kRelu>
void binary_plan(const BinaryArgs& g) {
  const BroadcastPlan& plan = *g.plan;
  if (plan.same) {
    binary_row<Ops, kOp, kRelu, true, true>(g.a, g.b, g.y, plan.numel);
    return;
  }
  const bool va = plan.stride_a.back() != 0, vb = plan.stride_b.back() != 0;
  void (*row)(const float*, const float*, float*, int64_t) =
      va && vb ? binary_row<Ops, kOp, kRelu, true, true>
      : va     ? binary_row<Ops, kOp, kRelu, true, false>
               : binary_row<Ops, kOp, kRelu, false, true>;
  for_each_broadcast_row(plan, [&](int64_t oa, int64_t ob, int64_t oy, int64_t n) {
    row(g.a + oa, g.b + ob, g.y + oy, n);
  });
}

template <class Ops, bool kRelu>
void binary_op(const BinaryArgs& g) {
  switch (g.op) {
    case BinaryOp::kAdd:
      return binary_plan<Ops, BinaryOp::kAdd, kRelu>(g);
    case BinaryOp::kSub:
      return binary_plan<Ops, BinaryOp::kSub, kRelu>(g);
    case BinaryOp::kMul:
      return binary_plan<Ops, BinaryOp::kMul, kRelu>(g);
    case BinaryOp::kDiv:
      return binary_plan<Ops, BinaryOp::kDiv, kRelu>(g);
  }
}

template <class Ops>
void binary_dispatch(const BinaryArgs& g) {
  if (g.relu) {
    binary_op<Ops, true>(g);
  } else {
    binary_op<Ops, false>(g);
  }
}

}  // namespace ei8::kernels::tiles
