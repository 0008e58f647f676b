// ei8/runtime/kernels/ref/conv_s8_ref.h — the INT8 convolution reference kernels: the
// specification every faster tier (generic, AVX-512 VNNI) is tested against bit for bit.
//
// Quantization algebra: a real value is r = s·(q − z). For one output o of channel c,
//   r_o = Σ r_x·r_w + r_b = s_x·s_w[c] · [ Σ (x_q − z_x)(w_q − z_w) + b_q ]      (b_q =
//   r_b/(s_x·s_w[c]))
// so the integer accumulator acc = Σ (x_q − z_x)(w_q − z_w) + b_q carries everything, and
//   y_q = z_y + r_o / s_y = z_y + M_c·acc,   M_c = s_x·s_w[c] / s_y,
// which the Requantizer evaluates with the chosen profile (ort / tflite / tflite-single), then
// clamps to [qmin, qmax] — the fused ReLU / ReLU6 are just those clamp bounds
// (fixedpoint::activation_range).
//
// Layouts: input NCHW (u8 or s8), weights OIHW s8 [out_c, in_c/groups, kh, kw], bias int32
// [out_c] (empty = 0), output NCHW (u8 or s8) or int32 accumulators. conv1d = height 1.
//
//   ConvS8Params p;
//   p.geometry = fixedpoint::ConvGeometry::conv2d(1, 3, 32, 32, 32, 3, 3).with_padding(1);
//   p.input_zero_point = -3;
//   p.requant = Requantizer::prepare(RequantProfile::kOrt, s_x, w_scales, s_y, z_y,
//                                    relu.lo, relu.hi).value();
//   EI8_RETURN_IF_ERROR(conv2d_s8_ref<int8_t, int8_t>(p, x, w, bias, y));
#pragma once

#include <cstdint>
#include <span>

#include "ei8/core/status.h"
#include "ei8/fixedpoint/conv_geometry.h"
#include "ei8/fixedpoint/overflow.h"
#include "ei8/fixedpoint/requantize.h"

namespace ei8::kernels {

// Everything a quantized convolution needs besides its tensors; prepared once, shared by every
// tier (the fast kernels take the same struct).
struct ConvS8Params {
  fixedpoint::ConvGeometry geometry;  // shape, strides, pads (4 sides), dilation, groups
  int32_t input_zero_point = 0;       // z_x, in [0, 255] for u8 input, [−128, 127] for s8
  int32_t weight_zero_point = 0;      // z_w (per tensor); 0 for symmetric weights
  fixedpoint::Requantizer requant;    // per-output-channel M_c, z_y and the clamp [qmin, qmax]
  // A narrower accumulator register to simulate (the reference kernels; the dispatcher runs them
  // whenever this is set): 0 = the exact int32 sum; otherwise 2..64 bits, the bias preloaded and
  // each product added in fixedpoint::accumulate's order (input channel, kernel row, kernel
  // column), `accumulator_policy` applied after every addition.
  int accumulator_bits = 0;
  fixedpoint::OverflowPolicy accumulator_policy = fixedpoint::OverflowPolicy::kSaturate;

  // Geometry valid; K = (C_in/groups)·K_h·K_w ≤ 65536 (so the int32 accumulator cannot overflow,
  // see below); zero points in the operand ranges; requant has 1 or out_channels channels.
  Status validate() const;
};

// Largest K the int32 accumulator is guaranteed to hold: |(x − z_x)(w − z_w)| ≤ 255·255 only
// when z_w ≠ 0; for symmetric weights ≤ 255·128 = 32640 and 65536·32640 < 2^31.
inline constexpr int64_t kMaxAccumulationCount = 65536;

// Raw int32 accumulators acc[n, oc, oh, ow] = bias[oc] + Σ (x − z_x)(w − z_w) (padded taps
// contribute nothing: they hold z_x). TIn is int8_t or uint8_t. Errors on invalid params or spans
// of the wrong size.
template <typename TIn>
Status conv2d_s8s8s32_ref(const ConvS8Params& p, std::span<const TIn> input,
                          std::span<const int8_t> weights, std::span<const int32_t> bias,
                          std::span<int32_t> acc);

// Requantized output y = requant.apply(acc, oc). TOut is int8_t or uint8_t; requant's [qmin, qmax]
// must lie inside TOut's range.
template <typename TIn, typename TOut>
Status conv2d_s8_ref(const ConvS8Params& p, std::span<const TIn> input,
                     std::span<const int8_t> weights, std::span<const int32_t> bias,
                     std::span<TOut> output);

// conv1d: the same with geometry.kind == kConv1d (in_h = kernel_h = 1); layouts NCW / OIW.
template <typename TIn>
Status conv1d_s8s8s32_ref(const ConvS8Params& p, std::span<const TIn> input,
                          std::span<const int8_t> weights, std::span<const int32_t> bias,
                          std::span<int32_t> acc);
template <typename TIn, typename TOut>
Status conv1d_s8_ref(const ConvS8Params& p, std::span<const TIn> input,
                     std::span<const int8_t> weights, std::span<const int32_t> bias,
                     std::span<TOut> output);

}  // namespace ei8::kernels
