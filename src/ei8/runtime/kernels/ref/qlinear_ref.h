// ei8/runtime/kernels/ref/qlinear_ref.h — the INT8 reference kernels of the non-MAC ops of the
// integer runtime: Add of two rescaled inputs, Concat requantized to one scale, MaxPool,
// AveragePool / GlobalAveragePool and the clamp (ReLU/Clip after quantization). Plain loops;
// the specification for any faster tier.
//
// Algebra (r = s·(q − z)):
//   add      c = clamp(round_half_even((fl32(s_a·(a − z_a)) + fl32(s_b·(b − z_b))) / s_c) + z_c)
//            in float32 — ONNX Runtime's x86 kernel on every AVX2 CPU
//            (MlasQLinearAdd{U8,S8}KernelAvx2: vcvtdq2ps, vmulps, vaddps, vdivps, vcvtps2dq,
//            clamp, + z_c), ties included. ORT's other paths differ on near-ties: the portable
//            C++ helper adds z_c before rounding, SSE2-only CPUs evaluate
//            z_c − (r_a·z_a + r_b·z_b) + a·r_a + b·r_b, NEON a fixed-point multiplier pair.
//   concat   per input a 256-entry table y = QuantizeLinear(DequantizeLinear(x)) (as ONNX
//            Runtime's QLinearConcat), or a plain copy when (s, z) equal the output's.
//   avgpool  (tflite profiles, and ORT's global pool, which a window covering the whole
//            unpadded image also is) acc = Σ (x − z_x) over the window's counted taps (int32);
//            y = requant_count(acc) with M = fl32(s_x / fl32(s_y·count)) (ort profile, as MLAS
//            QLinearGlobalAveragePool) or its Q31 form (tflite profiles). Other windows in the
//            ort profile: avgpool_s8_float_ref (ORT's float path).
//   maxpool  max over the window's in-bounds taps (padding never wins); q ↦ r is monotone, so
//            this equals MaxPool of the dequantized values, quantized again.
//   clamp    y = min(max(x, lo), hi): ReLU is lo = z, Clip(a, b) is [Q(a), Q(b)].
//   mul      acc = (a − z_a)(b − z_b) in int32 (exact); M = fl32(fl32(s_a·s_b) / s_c);
//            v = fl32(fl32(float(acc)·M) + float(z_c)) — the zero point is added in float
//            BEFORE rounding; q = round_half_even(v) as x86 CVTPS2DQ (|v| ≥ 2^31 or NaN →
//            INT32_MIN), then saturated to T and clamped to [qmin, qmax]. ONNX Runtime's x86
//            QLinearMul (MLAS qlmul.cpp, SSE2: mullo/mulhi, cvtepi32_ps, mul_ps, add_ps,
//            cvtps_epi32, packs) on every x86 CPU (no AVX2/AVX-512 variant exists).
//   lookup   unary ops of one 8-bit input (QLinearSigmoid, QLinearLeakyRelu, a per-channel
//            BatchNormalization): a 256-entry table per channel built in float exactly as ONNX
//            Runtime evaluates DQ → op → Q (dequantize fl32(s_x·float(x − z_x)), the float op,
//            QuantizeLinear x / s_y round half to even); run time is one load per element.
//   logistic ORT's MLAS logistic on AVX2 CPUs (MlasComputeLogisticF32KernelFma3): x clamped to
//            [−18, 18], x² = x·x, p and q odd/even rational polynomials by FMA (Horner),
//            p·x / q + 0.5, max(·, 0) — each FMA a single rounding (std::fma).
//   to_float y = fl32(float(acc)·m_c): the float output of a QDQ Gemm/MatMul without a trailing
//            QuantizeLinear (ORT QGemm with no y_scale / MatMulIntegerToFloat: MLAS
//            MLAS_QGEMM_SCALE_BIAS_OUTPUT_PROCESSOR, ZeroMode), m_c = fl32(s_a·s_b[c]).
// T is uint8_t or int8_t. Layout NCHW (conv1d/pool1d: H = 1).
//
//   QLinearAddParams p{s_a, z_a, s_b, z_b, s_c, z_c, 0, 255};
//   qlinear_add_ref<uint8_t>(p, a, b, c, n);
#pragma once

#include <array>
#include <cstdint>
#include <limits>
#include <span>
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

// y[i] = QuantizeLinear(DequantizeLinear(x[i], s_x, z_x), s_y, z_y) clamped to T's range, for
// i < n: QLinearConcat's requantization element by element (requantize_table is its 8-bit
// table; int16 inputs of A16W8 models use this, 65536 codes being too many for a table).
template <typename T>
void requantize_ref(float in_scale, int32_t in_zero_point, float out_scale, int32_t out_zero_point,
                    const T* x, T* y, int64_t n);

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

// Average pool as ONNX Runtime's QLinearAveragePool computes it for a window that is not the
// whole image (qlinear_pool.cc; the `ort` profile): in float32, s = Σ fl32(s_x·float(x − z_x))
// over the in-bounds taps, rows then columns; s = fl32(s / float(count)) with count = the
// in-bounds taps, or kernel_h·kernel_w with count_include_pad; q = round_half_even(fl32(s / s_y)
// + float(z_y)) — the zero point added before rounding — saturated to T.
template <typename T>
void avgpool_s8_float_ref(const Pool2dParams& p, int64_t batch, float x_scale, int32_t x_zero_point,
                          float y_scale, int32_t y_zero_point, const T* x, T* y);

struct QLinearMulParams {
  float a_scale = 1.0f;
  int32_t a_zero_point = 0;
  float b_scale = 1.0f;
  int32_t b_zero_point = 0;
  float c_scale = 1.0f;  // > 0
  int32_t c_zero_point = 0;
  int32_t qmin = 0, qmax = 255;  // output clamp (type range)
};

// The float32 multiplier of QLinearMul: fl32(fl32(s_a·s_b) / s_c).
float qlinear_mul_multiplier(const QLinearMulParams& p);

// One output code of QLinearMul for the codes a, b (the algebra above); multiplier =
// qlinear_mul_multiplier(p). T's range bounds the result before [qmin, qmax].
template <typename T>
int32_t qlinear_mul_element(const QLinearMulParams& p, float multiplier, int32_t a, int32_t b);

// c[i] = mul(a[i], b[i]) for i < n (equal shapes; broadcasting is the caller's indexing).
template <typename T>
void qlinear_mul_ref(const QLinearMulParams& p, const T* a, const T* b, T* c, int64_t n);

// ORT's logistic of one float (above).
float logistic_ort(float x);

// Lookup tables of unary ops, in two steps around the float op f:
//   auto v = dequantized_codes<T>(s_x, z_x);        // v[x − min(T)] = fl32(s_x·float(x − z_x))
//   for (float& r : v) r = f(r);                     // the float op, as the peer evaluates it
//   auto table = quantize_codes<T>(v, s_y, z_y);    // QuantizeLinear (conv_s8.h, scalar loop)
template <typename T>
std::array<float, 256> dequantized_codes(float in_scale, int32_t in_zero_point);
template <typename T>
std::array<T, 256> quantize_codes(const std::array<float, 256>& values, float out_scale,
                                  int32_t out_zero_point);

// y[i] = table[x[i] − min(T)] for i < n.
template <typename T>
void lookup_s8_ref(const std::array<T, 256>& table, const T* x, T* y, int64_t n);

// The float output of an integer Gemm/MatMul: y[r, c] = fl32(float(acc[r, c])·m[c or 0]) for
// rows × cols accumulators (m: 1 or cols multipliers).
void accumulators_to_float_ref(const int32_t* acc, int64_t rows, int64_t cols,
                               std::span<const float> multipliers, float* y);

}  // namespace ei8::kernels
