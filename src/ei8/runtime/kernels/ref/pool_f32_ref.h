// ei8/runtime/kernels/ref/pool_f32_ref.h — FP32 pooling, the reference tier (the fast tiers:
// pool.h).
//
// Geometry and layout: ref/pool_params.h. Semantics are ONNX MaxPool / AveragePool with
// explicit pads (auto_pad resolved by the caller) and ceil_mode. AveragePool divides by the
// window size including padding when count_include_pad, else by the number of input elements
// in the window (never by elements past the end that ceil_mode adds). No allocation.
//
//   Pool2dParams p{.channels = 16, .in_h = 32, .in_w = 32, .out_h = 16, .out_w = 16,
//                  .kernel_h = 2, .kernel_w = 2, .stride_h = 2, .stride_w = 2};
//   maxpool2d_f32_ref(p, batch, x, y);
#pragma once

#include <cstdint>

#include "ei8/runtime/kernels/ref/pool_params.h"

namespace ei8::kernels {

// x: batch·channels·in_h·in_w floats, y: batch·channels·out_h·out_w floats.
void maxpool2d_f32_ref(const Pool2dParams& p, int64_t batch, const float* x, float* y);
void avgpool2d_f32_ref(const Pool2dParams& p, int64_t batch, const float* x, float* y);
// Mean / max over `spatial` contiguous elements for each of `planes` = batch·channels planes.
void global_avgpool_f32_ref(int64_t planes, int64_t spatial, const float* x, float* y);
void global_maxpool_f32_ref(int64_t planes, int64_t spatial, const float* x, float* y);

}  // namespace ei8::kernels
