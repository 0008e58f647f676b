// ei8/runtime/kernels/ref/a16w8_ref.h — reference kernels of A16W8 layers: int16 activations ×
// int8 weights, int64 accumulators (issue 16 item 3). They are the specification of the
// integer engine's A16W8 convolution and fully connected nodes, and also serve the boundary
// layers of a mixed-precision model (an int8 input with an int16 output, or the reverse).
//
// Same algebra and layouts as conv_s8_ref.h / fully_connected_s8_ref.h (the params structs are
// shared), with:
//   input  u8, s8 or s16 (zero point in the input type's range; 0 for our symmetric int16);
//   output u8, s8 or s16 (requant's [qmin, qmax] inside the output type);
//   acc    int64: bias[oc] + Σ (x − z_x)(w − z_w). |x − z_x| ≤ 65535 and |w − z_w| ≤ 255, so
//          |acc| ≤ K·2^24 + 2^31 < 2^47 for K ≤ 2^22 (kMaxA16AccumulationCount), the range of
//          fixedpoint::Requantizer::apply64.
// Requantization: an 8-bit input (exact int32 sum, K ≤ 65536 as validated) uses the int32
// Requantizer::apply, exactly as the int8 kernels; an int16 input uses apply64 (`ort`: the same
// float formula; tflite profiles: TFLite's 16x8 int64 path, reduced Q15 multiplier).
// When is int32 enough for an int16 input? With symmetric operands (z_x = z_w = 0, |x| ≤ 2^15,
// |w| ≤ 127): |Σ| ≤ K·2^15·127, so K·4161536 + |b| < 2^31 — K ≤ 516 without bias, fewer with
// one; a 3×3×64 convolution (K = 576) already exceeds it, hence int64 throughout
// (a16w8_ref_test.cpp shows such a layer whose int32 sum would wrap).
//
//   ConvS8Params p;  p.geometry = ...;  p.requant = Requantizer::prepare(...).value();
//   EI8_RETURN_IF_ERROR(conv_a16_ref<int16_t, int16_t>(p, x, w, bias, y));
#pragma once

#include <cstdint>
#include <span>

#include "ei8/core/status.h"
#include "ei8/runtime/kernels/ref/conv_s8_ref.h"
#include "ei8/runtime/kernels/ref/fully_connected_s8_ref.h"

namespace ei8::kernels {

inline constexpr int64_t kMaxA16AccumulationCount = int64_t{1} << 22;

// The checks the functions below make, without the spans (for prepare-time validation): K, zero
// points, requantizer channels, output clamp inside TOut, int64 multipliers (int16 input).
template <typename TIn, typename TOut>
Status conv_a16_check(const ConvS8Params& p);
template <typename TIn, typename TOut>
Status fully_connected_a16_check(const FullyConnectedS8Params& p);

// Raw int64 accumulators acc[n, oc, oh, ow] (conv2d, or conv1d as height 1; groups/depthwise).
// TIn: uint8_t, int8_t or int16_t. p.accumulator_bits must be 0 (no narrow-register simulation).
template <typename TIn>
Status conv_a16_acc_ref(const ConvS8Params& p, std::span<const TIn> input,
                        std::span<const int8_t> weights, std::span<const int32_t> bias,
                        std::span<int64_t> acc);

// Requantized outputs. TIn, TOut: uint8_t, int8_t or int16_t.
template <typename TIn, typename TOut>
Status conv_a16_ref(const ConvS8Params& p, std::span<const TIn> input,
                    std::span<const int8_t> weights, std::span<const int32_t> bias,
                    std::span<TOut> output);

// Fully connected: input [batch, in], weights [out, in] (out_in = true) or [in, out].
template <typename TIn>
Status fully_connected_a16_acc_ref(const FullyConnectedS8Params& p, std::span<const TIn> input,
                                   std::span<const int8_t> weights, bool out_in,
                                   std::span<const int32_t> bias, std::span<int64_t> acc);
template <typename TIn, typename TOut>
Status fully_connected_a16_ref(const FullyConnectedS8Params& p, std::span<const TIn> input,
                               std::span<const int8_t> weights, bool out_in,
                               std::span<const int32_t> bias, std::span<TOut> output);

}  // namespace ei8::kernels
