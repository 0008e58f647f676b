// ei8/runtime/kernels/ref/fully_connected_s8_ref.h — the INT8 fully connected (Gemm with
// transposed weights, PyTorch Linear) reference kernels: the specification for faster tiers.
//
// Algebra as for convolution (conv_s8_ref.h): with r = s·(q − z),
//   acc[n, o] = b_q[o] + Σ_i (x[n, i] − z_x)(w[o, i] − z_w),   y = z_y + M_o·acc  (requantizer),
// clamped to the requantizer's [qmin, qmax] (fused ReLU/ReLU6 bounds).
// Layouts: input [batch, in_features] (u8 or s8), weights [out_features, in_features] s8, bias
// int32 [out_features] (empty = 0), output [batch, out_features].
//
//   FullyConnectedS8Params p;
//   p.in_features = 2048;
//   p.out_features = 10;
//   p.input_zero_point = -128;
//   p.requant = Requantizer::prepare(RequantProfile::kTflite, s_x, w_scales, s_y, z_y, -128,
//   127).value(); EI8_RETURN_IF_ERROR(fully_connected_s8_ref<int8_t, int8_t>(p, x, w, bias, y));
#pragma once

#include <cstdint>
#include <span>

#include "ei8/core/status.h"
#include "ei8/fixedpoint/overflow.h"
#include "ei8/fixedpoint/requantize.h"

namespace ei8::kernels {

struct FullyConnectedS8Params {
  int64_t batch = 1;
  int64_t in_features = 1;  // K: 1 ≤ K ≤ 65536 (int32 accumulator bound, see conv_s8_ref.h)
  int64_t out_features = 1;
  int32_t input_zero_point = 0;     // z_x
  int32_t weight_zero_point = 0;    // z_w, 0 for symmetric weights
  fixedpoint::Requantizer requant;  // 1 or out_features channels; clamp [qmin, qmax]
  // Simulated accumulator register, as ConvS8Params (0 = exact int32; else 2..64 bits, bias
  // first, then the products in input order, the policy after every addition).
  int accumulator_bits = 0;
  fixedpoint::OverflowPolicy accumulator_policy = fixedpoint::OverflowPolicy::kSaturate;

  Status validate() const;
};

template <typename TIn>
Status fully_connected_s8s8s32_ref(const FullyConnectedS8Params& p, std::span<const TIn> input,
                                   std::span<const int8_t> weights, std::span<const int32_t> bias,
                                   std::span<int32_t> acc);

template <typename TIn, typename TOut>
Status fully_connected_s8_ref(const FullyConnectedS8Params& p, std::span<const TIn> input,
                              std::span<const int8_t> weights, std::span<const int32_t> bias,
                              std::span<TOut> output);

}  // namespace ei8::kernels
