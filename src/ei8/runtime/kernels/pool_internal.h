// ei8/runtime/kernels/pool_internal.h — internal to ei8_kernels: the one pooling geometry the
// FP32 and the u8/s8 parameter structs are converted to, and the table of entry points each
// pooling tier exports (generic/pool_generic.cpp, x86/pool_avx2.cpp); pool.cpp dispatches.
// Not a public header: callers use pool.h.
#pragma once

#include <cstdint>

#include "ei8/fixedpoint/requantize.h"

namespace ei8::kernels {

// planes = batch·channels planes of in_h·in_w elements → out_h·out_w each. Window of output
// (oh, ow): rows oh·stride_h − pad_top + kh·dilation_h, columns likewise. Dilation is 1 for the
// average pools (the references ignore it there).
struct PoolGeom {
  int64_t planes = 1, in_h = 1, in_w = 1, out_h = 1, out_w = 1;
  int64_t kernel_h = 1, kernel_w = 1, stride_h = 1, stride_w = 1;
  int64_t dilation_h = 1, dilation_w = 1;
  int64_t pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0;
  bool count_include_pad = false;
};

struct PoolTierFns {
  void (*max_f32)(const PoolGeom&, const float*, float*);
  void (*avg_f32)(const PoolGeom&, const float*, float*);
  void (*global_avg_f32)(int64_t planes, int64_t spatial, const float*, float*);
  void (*global_max_f32)(int64_t planes, int64_t spatial, const float*, float*);
  void (*max_u8)(const PoolGeom&, const uint8_t*, uint8_t*);
  void (*max_s8)(const PoolGeom&, const int8_t*, int8_t*);
  // requant: kernel_h·kernel_w requantizers, index count − 1.
  void (*avg_u8)(const PoolGeom&, int32_t zx, const fixedpoint::Requantizer*, const uint8_t*,
                 uint8_t*);
  void (*avg_s8)(const PoolGeom&, int32_t zx, const fixedpoint::Requantizer*, const int8_t*,
                 int8_t*);
};

const PoolTierFns& pool_tier_generic();
const PoolTierFns& pool_tier_avx2();  // call only when cpu_features().avx2

}  // namespace ei8::kernels
