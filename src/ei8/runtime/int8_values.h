// ei8/runtime/int8_values.h — the integer value ranges and element reads shared by the INT8
// lowering (which reads constant zero points) and the INT8 ops (which prepare from them).
//
//   int32_t lo = int8_type_min(DType::kU8);          // 0
//   int32_t z = load_int(zero_point_tensor, 0);     // u8 / s8 / s32 element as int32
#pragma once

#include <climits>
#include <cstdint>

#include "ei8/core/tensor.h"

namespace ei8 {

// Range of a quantized element type: u8 [0, 255], s8 [−128, 127], s16 [−32768, 32767],
// otherwise the int32 range.
inline int32_t int8_type_min(DType t) {
  return t == DType::kU8 ? 0 : (t == DType::kS8 ? -128 : (t == DType::kS16 ? -32768 : INT32_MIN));
}
inline int32_t int8_type_max(DType t) {
  return t == DType::kU8 ? 255 : (t == DType::kS8 ? 127 : (t == DType::kS16 ? 32767 : INT32_MAX));
}

// Element i of an integer tensor (u8, s8, s16, s32) as int32; 0 for f32.
inline int32_t load_int(const Tensor& t, int64_t i) {
  const size_t k = static_cast<size_t>(i);
  switch (t.dtype()) {
    case DType::kU8:
      return t.span<uint8_t>()[k];
    case DType::kS8:
      return t.span<int8_t>()[k];
    case DType::kS32:
      return t.span<int32_t>()[k];
    case DType::kS16:
      return t.span<int16_t>()[k];
    case DType::kF32:
      break;
  }
  return 0;
}

}  // namespace ei8
