// ei8/runtime/kernels/ref/pool_f32_ref.h — FP32 pooling, the reference (and only) tier.
//
// Layout NCHW contiguous (1-D pooling: in_h = kernel_h = 1). Semantics are ONNX MaxPool /
// AveragePool with explicit pads (auto_pad resolved by the caller) and ceil_mode; out_h/out_w
// come from the caller (shape inference). AveragePool divides by the window size including
// padding when count_include_pad, else by the number of input elements in the window (never
// by elements past the end that ceil_mode adds). No allocation.
//
//   Pool2dParams p{.channels = 16, .in_h = 32, .in_w = 32, .out_h = 16, .out_w = 16,
//                  .kernel_h = 2, .kernel_w = 2, .stride_h = 2, .stride_w = 2};
//   maxpool2d_f32_ref(p, batch, x, y);
#pragma once

#include <cstdint>

namespace ei8::kernels {

struct Pool2dParams {
  int64_t channels = 1, in_h = 1, in_w = 1, out_h = 1, out_w = 1;
  int64_t kernel_h = 1, kernel_w = 1, stride_h = 1, stride_w = 1;
  int64_t dilation_h = 1, dilation_w = 1;  // MaxPool only
  int64_t pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0;
  bool count_include_pad = false;  // AveragePool only
};

// x: batch·channels·in_h·in_w floats, y: batch·channels·out_h·out_w floats.
void maxpool2d_f32_ref(const Pool2dParams& p, int64_t batch, const float* x, float* y);
void avgpool2d_f32_ref(const Pool2dParams& p, int64_t batch, const float* x, float* y);
// Mean / max over `spatial` contiguous elements for each of `planes` = batch·channels planes.
void global_avgpool_f32_ref(int64_t planes, int64_t spatial, const float* x, float* y);
void global_maxpool_f32_ref(int64_t planes, int64_t spatial, const float* x, float* y);

}  // namespace ei8::kernels
