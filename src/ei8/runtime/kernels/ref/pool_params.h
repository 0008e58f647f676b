// ei8/runtime/kernels/ref/pool_params.h — the geometry of one pooling op, the one struct every
// pooling kernel takes: FP32 MaxPool / AveragePool (ref/pool_f32_ref.h), u8/s8 MaxPool /
// AveragePool / GlobalAveragePool (ref/qlinear_ref.h) and their fast tiers (pool.h).
//
// Layout NCHW contiguous; the batch is a separate argument of every kernel: x holds
// batch·channels planes of in_h·in_w elements, y batch·channels planes of out_h·out_w. 1-D
// pooling: in_h = out_h = kernel_h = stride_h = 1, no top/bottom padding. Output (oh, ow) reads
// input rows oh·stride_h − pad_top + kh·dilation_h (kh < kernel_h), columns likewise; padded
// taps never win a max and count for an average only with count_include_pad. out_h / out_w are
// the caller's (ONNX shape inference, incl. ceil_mode, whose last window may run past the end
// padding: taps beyond the padding never count). Dilation: FP32 MaxPool only (the average pools
// ignore it; u8/s8 pooling requires 1, see check_pool_s8_params in pool.h). Sizes ≥ 1, pads ≥ 0.
//
//   Pool2dParams p{.channels = 16, .in_h = 32, .in_w = 32, .out_h = 16, .out_w = 16,
//                  .kernel_h = 2, .kernel_w = 2, .stride_h = 2, .stride_w = 2};
//   maxpool2d_f32_ref(p, batch, x, y);           // FP32
//   maxpool_s8_ref<uint8_t>(p, batch, xq, yq);   // u8, the same geometry
#pragma once

#include <cstdint>

namespace ei8::kernels {

struct Pool2dParams {
  int64_t channels = 1, in_h = 1, in_w = 1, out_h = 1, out_w = 1;
  int64_t kernel_h = 1, kernel_w = 1, stride_h = 1, stride_w = 1;
  int64_t dilation_h = 1, dilation_w = 1;  // FP32 MaxPool only
  int64_t pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0;
  // AveragePool: divide by the window's taps inside the padded input instead of those inside
  // the input.
  bool count_include_pad = false;
};

}  // namespace ei8::kernels
