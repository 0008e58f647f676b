// ei8/runtime/kernels/pool_internal.h — internal to ei8_kernels: the table of entry points each
// pooling tier exports (generic/pool_generic.cpp, x86/pool_avx2.cpp); pool.cpp dispatches.
// Every entry takes the geometry of ref/pool_params.h and the batch, as the references.
// Not a public header: callers use pool.h.
#pragma once

#include <cstdint>

#include "ei8/fixedpoint/requantize.h"
#include "ei8/runtime/kernels/ref/pool_params.h"

namespace ei8::kernels {

struct PoolTierFns {
  void (*max_f32)(const Pool2dParams&, int64_t batch, const float*, float*);
  void (*avg_f32)(const Pool2dParams&, int64_t batch, const float*, float*);
  void (*global_avg_f32)(int64_t planes, int64_t spatial, const float*, float*);
  void (*global_max_f32)(int64_t planes, int64_t spatial, const float*, float*);
  void (*max_u8)(const Pool2dParams&, int64_t batch, const uint8_t*, uint8_t*);
  void (*max_s8)(const Pool2dParams&, int64_t batch, const int8_t*, int8_t*);
  // requant: kernel_h·kernel_w requantizers, index count − 1.
  void (*avg_u8)(const Pool2dParams&, int64_t batch, int32_t zx, const fixedpoint::Requantizer*,
                 const uint8_t*, uint8_t*);
  void (*avg_s8)(const Pool2dParams&, int64_t batch, int32_t zx, const fixedpoint::Requantizer*,
                 const int8_t*, int8_t*);
};

const PoolTierFns& pool_tier_generic();
const PoolTierFns& pool_tier_avx2();  // call only when cpu_features().avx2

}  // namespace ei8::kernels
