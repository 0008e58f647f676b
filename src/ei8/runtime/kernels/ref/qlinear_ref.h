// ei8/runtime/kernels/ref/qlinear_ref.h — the INT8 reference kernels of the non-MAC ops of the
// integer runtime: Add of two rescaled inputs, Concat requantized to one scale, MaxPool,
// AveragePool / GlobalAveragePool and the clamp (ReLU/Clip after quantization). Plain loops;
// the specification for any faster tier.
//
// Algebra (r = s·(q − z)):
//   add      c = clamp(round_half_even((fl32(s_a·(a − z_a)) + fl32(s_b·(b − z_b))) / s_c) + z_c)
//            in float32 — ONNX Runtime's portable QLinearAdd path (MlasQLinearAddKernelRawHelper);
//            its SSE2/AVX2/NEON paths use a fixed-point multiplier pair instead and can differ
//            by 1 LSB on ties (docs: ARCHITECTURE.md numeric contract; tests allow one step).
//   concat   per input a 256-entry table y = QuantizeLinear(DequantizeLinear(x)) (as ONNX
//            Runtime's QLinearConcat), or a plain copy when (s, z) equal the output's.
//   avgpool  acc = Σ (x − z_x) over the window's counted taps (int32); y = requant_count(acc)
//            with M = fl32(s_x / fl32(s_y·count)) (ort profile, as MLAS QLinearGlobalAveragePool
//            / QLinearAveragePool's requantization) or its Q31 form (tflite profiles).
//   maxpool  max over the window's in-bounds taps (padding never wins); q ↦ r is monotone, so
//            this equals MaxPool of the dequantized values, quantized again.
//   clamp    y = min(max(x, lo), hi): ReLU is lo = z, Clip(a, b) is [Q(a), Q(b)].
// T is uint8_t or int8_t. Layout NCHW (conv1d/pool1d: H = 1).
//
//   QLinearAddParams p{s_a, z_a, s_b, z_b, s_c, z_c, 0, 255};
//   qlinear_add_ref<uint8_t>(p, a, b, c, n);
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "ei8/fixedpoint/requantize.h"
#include "ei8/runtime/kernels/ref/pool_params.h"

namespace ei8::kernels {

struct QLinearAddParams {
  float a_scale = 1.0f;
  int32_t a_zero_point = 0;
  float b_scale = 1.0f;
  int32_t b_zero_point = 0;
  float c_scale = 1.0f;  // > 0
  int32_t c_zero_point = 0;
  int32_t qmin = 0, qmax = 255;  // output clamp (type range)
};

// c[i] = add(a[i], b[i]) for i < n (equal shapes).
template <typename T>
void qlinear_add_ref(const QLinearAddParams& p, const T* a, const T* b, T* c, int64_t n);

// The table mapping every input code of (s_in, z_in) to the output code of (s_out, z_out):
// QuantizeLinear(DequantizeLinear(x)). Index: x − numeric_limits<T>::min().
template <typename T>
std::array<T, 256> requantize_table(float in_scale, int32_t in_zero_point, float out_scale,
                                    int32_t out_zero_point);

// Pools: geometry and layout ref/pool_params.h (dilation must be 1: it is ignored here).
template <typename T>
void maxpool_s8_ref(const Pool2dParams& p, int64_t batch, const T* x, T* y);

// Average pool: `requant[count − 1]` requantizes a window sum of `count` taps (count in
// [1, kh·kw]); input_zero_point z_x. GlobalAveragePool = kernel = input, one requantizer.
template <typename T>
void avgpool_s8_ref(const Pool2dParams& p, int64_t batch, int32_t input_zero_point,
                    const std::vector<fixedpoint::Requantizer>& requant, const T* x, T* y);

template <typename T>
void clamp_s8_ref(const T* x, T* y, int64_t n, int32_t lo, int32_t hi);

}  // namespace ei8::kernels
