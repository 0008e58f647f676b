// ei8/runtime/kernels/pool.h — the fast pooling kernels the executors call: FP32 MaxPool /
// AveragePool / GlobalAveragePool / GlobalMaxPool (ref/pool_f32_ref.h) and u8/s8 MaxPool /
// AveragePool (ref/qlinear_ref.h), each in three tiers with one dispatcher (STYLE.md 2, 4).
//
// Every tier computes each output with the reference's own operation sequence, so the results
// are bit-exact with the references:
//   max pools    per output m = max(m, x) from −inf (float) / the type minimum (int), taps in
//                the reference order (rows, then columns): the same ties (±0) and the same NaN
//                behaviour (a NaN tap never wins). Exception: GlobalMaxPool reduces in 8 lanes,
//                then across lanes, so when the maximum is a zero held as both +0 and −0 the
//                sign may differ (NaN still never wins).
//   float avg    the double sum in the reference's tap order, the same double division and one
//                rounding to float; GlobalAveragePool the reference's 8 partial double sums.
//   int8 avg     the exact int32 window sum Σ(x − z_x), then the same requantizer[count − 1].
// A window with no tap inside the input gives what the reference gives (−inf, or code 0 for
// u8/s8; only reachable with pads ≥ kernel or ceil_mode overhang).
//
// How: per output row, the outputs whose window lies inside the input in width (the interior)
// are computed by a row kernel vectorised across outputs (fixed kernel width 1–3 and stride
// 1–2 specialised, others by a runtime loop; AVX2 intrinsics for the 2×2/2 float and byte max
// pool); the border outputs (padding, ceil_mode, dilation reaching past the edge) by a
// per-output loop with the window clipped to the input. Rows are clipped once per output row.
// u8/s8 max pools whose planes fit 4 KiB (pool_tiles.h max_pool_flat_bytes: GoogLeNet's 3×3/1
// pad-1 and 3×3/2, 2×2/2 ceil_mode pools) run separably over chunks of whole planes as flat
// streams with a byte mask per tap, then sample the strided windows; 2×2/2 pools with rows of 4
// or 8 outputs combine row pairs as 32/64-bit lanes (TinyCNN2D's 8×8 pool).
// Tiers: kRef = the reference functions, kGeneric = portable C++ (compiler-vectorised, no ISA
// flags), kAvx2 = the same source compiled with -mavx2 plus the intrinsics.
//
//   Result<KernelChoice> tier = prepare_pool_tier(KernelChoice::kAuto);   // once, in prepare()
//   maxpool2d_f32(*tier, params, batch, x, y);                            // run(): no allocation
//   maxpool_s8<uint8_t>(*tier, params, batch, x_u8, y_u8);
#pragma once

#include <cstdint>
#include <vector>

#include "ei8/core/status.h"
#include "ei8/fixedpoint/requantize.h"
#include "ei8/runtime/kernels/f32_common.h"
#include "ei8/runtime/kernels/ref/pool_f32_ref.h"
#include "ei8/runtime/kernels/ref/qlinear_ref.h"

namespace ei8::kernels {

// The pooling tiers (kRef first), available here or not: tests instantiate over this and skip
// the unavailable ones.
std::vector<KernelChoice> registered_pool_kernels();
// kAuto → the best pooling tier of this CPU (avx2 > generic; EI8_ISA=portable caps it). A
// forced tier must be available (else kUnsupported). Pooling has no VNNI code: kAvx512Vnni (an
// executor forcing the INT8 VNNI tier) gives kAvx2 when the CPU has VNNI.
[[nodiscard]] Result<KernelChoice> prepare_pool_tier(KernelChoice choice);

// Geometry checks of the prepare step (ref/pool_params.h): batch and sizes ≥ 1 (pads ≥ 0),
// every size < 2^31, the (dilated) window no larger than the padded input, output sizes as
// given; u8/s8 pooling also needs dilation 1. Message shape "cannot prepare pool: <field> =
// <v>, must be <constraint>".
[[nodiscard]] Status check_pool2d_params(const Pool2dParams& p, int64_t batch);
[[nodiscard]] Status check_pool_s8_params(const Pool2dParams& p, int64_t batch);

// The run functions: `tier` as returned by prepare_pool_tier; arguments as the references
// (layouts NCHW, y must not alias x). No allocation, no validation.
void maxpool2d_f32(KernelChoice tier, const Pool2dParams& p, int64_t batch, const float* x,
                   float* y);
void avgpool2d_f32(KernelChoice tier, const Pool2dParams& p, int64_t batch, const float* x,
                   float* y);
void global_avgpool_f32(KernelChoice tier, int64_t planes, int64_t spatial, const float* x,
                        float* y);
void global_maxpool_f32(KernelChoice tier, int64_t planes, int64_t spatial, const float* x,
                        float* y);
// T = uint8_t or int8_t. requant: kernel_h·kernel_w requantizers (index count − 1).
template <typename T>
void maxpool_s8(KernelChoice tier, const Pool2dParams& p, int64_t batch, const T* x, T* y);
template <typename T>
void avgpool_s8(KernelChoice tier, const Pool2dParams& p, int64_t batch, int32_t input_zero_point,
                const std::vector<fixedpoint::Requantizer>& requant, const T* x, T* y);

}  // namespace ei8::kernels
