// ei8/runtime/kernels/conv_s8.h — the prepared INT8 convolution and fully connected kernels the
// integer executor calls: u8/s8 activations × s8 weights → s32 accumulators → u8/s8 (requantized
// through the layer's fixedpoint::Requantizer) or raw s32. Every tier is bit-exact with the
// reference kernels (ref/conv_s8_ref.h, ref/fully_connected_s8_ref.h), in every requantization
// profile.
//
// Tiers (KernelChoice, f32_common.h; one dispatcher in conv_s8.cpp picks kAuto's):
//   ref         the reference loops themselves (one sample per call, no packing);
//   generic     portable C++: weights packed once as int16 (w − z_w), activations staged as int16
//               (x − z_x) into K-pair panels (im2col for convolutions), blocked int32 GEMM;
//   avx2        the same plan with a vpmaddwd micro-kernel (int16 pairs → int32) and vectorised
//               `ort` requantization; with symmetric weights in [−127, 127] convolutions take u8
//               quads instead (s8 inputs + 128): vpmaddubsw on the k-slots whose weight pairs
//               cannot saturate its int16 pair sums ("pair-safe", s8_internal.h), the sign trick
//               (vpabsb / vpsignb on x − 128) on the others, each row block's safe slots first
//               (plan suffix "-signN%": the share of sign-trick k-slots); exact either way;
//   avx512vnni  vpdpbusd (u8·s8 quads → int32) on u8 activations (s8 → u8 by +128, z_x + 128)
//               with the correction acc = Σ x·w − z_x·Σ_k w[c][k] folded into the bias;
//               symmetric weights only (z_w = 0), otherwise the avx2 plan. Register blocks of
//               MR rows × NV vectors on zmm (16 lanes) or ymm (8 lanes), requantization fused
//               in the block's epilogue; convolution vectors run along output rows or along the
//               padded output grid ("-grid": several short rows per vector). Plan suffix
//               "-zmm4x6[-grid][-vo]" (s8_internal.h VnniPlan). Compiled with function target
//               attributes and dispatched only when cpu_features().avx512vnni.
//   onednn      (convolutions, a plan rather than a tier: "onednn/<impl>", e.g.
//               "onednn/brgconv_amx_int8") oneDNN's u8 × s8 → s32 convolution between our
//               staging (NCHW → zero-point-padded NHWC u8, s8 inputs + 128) and our epilogue
//               (bias − (z_x + shift)·Σw, the layer's requantization profile); offered by
//               plan_candidates() (kAuto only) where onednn::int8_exact() (VNNI / AMX) and the
//               implementation's int32 sums are exact (conv_s8_onednn.cpp), symmetric weights
//               only; never chosen by the heuristic, only by a plan name (tuning).
// Plans (variant() names them): "direct" stages the zero-point-padded image with 2 (int16) or 4
// (quads) input channels per slot, each padded row split into stride_w column phases (so every
// tap reads 8 consecutive slots for 8 consecutive outputs, any stride); "im2col" (small K =
// C_in·k_h·k_w, e.g. C_in = 1 or 3 stems, when it needs at least 1/8 fewer k-slots) packs
// consecutive k of one output pixel into each slot instead; "depthwise" (C_in per group = 1) stages
// each channel as int16 x − z_x and adds two taps per vpmaddwd (avx2) or per loop step (generic).
// Convolution blocks whose outputs all fit the `ort` (or s32) epilogue are requantized straight
// from the registers (avx2).
//
// Layouts (as the references): convolution input NCHW, weights OIHW [C_out, C_in/groups, K_h,
// K_w], bias int32 [C_out] (empty = 0), output NCHW; conv1d is height 1 (NCW / OIW). Fully
// connected input [batch, in], output [batch, out], weights [out, in] (Gemm transB = 1, PyTorch
// Linear) or [in, out] (MatMul with a constant B) — see WeightLayout.
//
//   ConvS8Params p;                      // geometry (its batch is ignored), z_x, z_w, requant
//   p.geometry = fixedpoint::ConvGeometry::conv2d(1, 32, 16, 16, 64, 3, 3).with_padding(1);
//   p.input_zero_point = 128;
//   p.requant = Requantizer::prepare(RequantProfile::kOrt, s_x, w_scales, s_y, z_y, lo,
//   hi).value(); Result<ConvS8Kernel> conv = ConvS8Kernel::prepare(p, w, bias, IntType::kU8,
//   IntType::kU8); std::vector<std::byte> scratch(conv->scratch_bytes(batch)); conv->run(x_u8,
//   y_u8, scratch.data(), batch);          // allocation-free, any batch
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "ei8/core/status.h"
#include "ei8/runtime/kernels/f32_common.h"
#include "ei8/runtime/kernels/ref/conv_s8_ref.h"
#include "ei8/runtime/kernels/ref/fully_connected_s8_ref.h"
#include "ei8/runtime/kernels/ref/qlinear_ref.h"

namespace ei8::kernels {

// Element type of an activation tensor of an integer kernel. Inputs are kU8 or kS8; outputs
// kU8 / kS8 (requantized, clamped to the requantizer's [qmin, qmax] which must lie inside the
// type) or kS32 (the raw accumulators bias + Σ (x − z_x)(w − z_w), saturated to int32; the
// requantizer is then ignored).
enum class IntType { kU8, kS8, kS32 };
std::string_view int_type_name(IntType t);  // "u8", "s8", "s32"

// The INT8 tiers a caller can force (tests and benchmarks instantiate over this, skipping the
// unavailable ones): ref, generic, avx2, avx512vnni.
std::vector<KernelChoice> registered_s8_kernels();
// kAuto resolved to the INT8 tier the dispatcher uses on this CPU (avx512vnni > avx2 > generic).
KernelChoice resolve_s8_kernel_choice(KernelChoice c);

// A quantized convolution (2-D, or 1-D as height 1) prepared once for its shape, weights and
// requantizer; any batch per run.
//
// prepare(): validates (params, spans, types, requantizer channels and clamp range), picks the
// tier (kAuto = best on this CPU; forcing a tier the CPU lacks → kUnsupported), packs the
// weights. run(): no allocation, no validation; thread-safe with distinct scratch buffers.
class ConvS8Kernel {
 public:
  // `plan` (optional) asks for one plan by name — a variant() string, e.g.
  // "avx512vnni/direct-u8x4-zmm4x6-grid" or "avx2/im2col"; the tier, the algorithm and the VNNI
  // register block are taken from it (what follows from the weights, like "-sign84%", is not a
  // request). Every plan computes the reference's outputs bit for bit. An unknown name, a tier
  // other than a forced `choice` or one this CPU lacks → an error.
  [[nodiscard]] static Result<ConvS8Kernel> prepare(const ConvS8Params& p,
                                                    std::span<const int8_t> weights,
                                                    std::span<const int32_t> bias, IntType input,
                                                    IntType output,
                                                    KernelChoice choice = KernelChoice::kAuto,
                                                    std::string_view plan = {});
  // The plans worth timing for this layer on this CPU (`choice` kAuto: the best tier and AVX2;
  // otherwise that tier's plans), the heuristic's first: the candidates of prepare-time tuning
  // (runtime/tuning.h). Names as variant() reports them, accepted by prepare()'s `plan`.
  [[nodiscard]] static Result<std::vector<std::string>> plan_candidates(
      const ConvS8Params& p, std::span<const int8_t> weights, IntType input, IntType output,
      KernelChoice choice = KernelChoice::kAuto);

  // Bytes of scratch run() needs for `batch` samples (any alignment; may be 0).
  size_t scratch_bytes(int64_t batch) const;
  // input: batch·C_in·H·W elements of the input type; output: batch·C_out·out_h·out_w of the
  // output type (must not alias input); scratch: scratch_bytes(batch) bytes; batch ≥ 1.
  void run(const void* input, void* output, std::byte* scratch, int64_t batch) const;

  // "<tier>/<plan>", e.g. "avx2/im2col", "generic/depthwise", "ref", "avx2/im2col(z_w)".
  std::string_view variant() const;
  KernelChoice choice() const;         // the tier used (never kAuto)
  const ConvS8Params& params() const;  // geometry.batch is 1
  IntType input_type() const;
  IntType output_type() const;

  ConvS8Kernel(ConvS8Kernel&&) noexcept;
  ConvS8Kernel& operator=(ConvS8Kernel&&) noexcept;
  ~ConvS8Kernel();

  struct Impl;  // s8_internal.h

 private:
  explicit ConvS8Kernel(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// How the constant weight matrix of a fully connected layer is stored.
enum class WeightLayout {
  kOutIn,  // [out_features, in_features]: ONNX Gemm with transB = 1, PyTorch Linear
  kInOut,  // [in_features, out_features]: ONNX MatMul / Gemm transB = 0
};

// A quantized fully connected layer (Gemm / MatMul with constant s8 weights), prepared once;
// the batch (rows of the input) varies per run. Same contract as ConvS8Kernel.
class FullyConnectedS8Kernel {
 public:
  // weights: in·out values in `layout`; bias: out or 0 values.
  // p.batch is a hint for the heuristic plan (rows per run); `plan` as for ConvS8Kernel.
  [[nodiscard]] static Result<FullyConnectedS8Kernel> prepare(
      const FullyConnectedS8Params& p, std::span<const int8_t> weights,
      std::span<const int32_t> bias, WeightLayout layout, IntType input, IntType output,
      KernelChoice choice = KernelChoice::kAuto, std::string_view plan = {});
  [[nodiscard]] static Result<std::vector<std::string>> plan_candidates(
      const FullyConnectedS8Params& p, std::span<const int8_t> weights, WeightLayout layout,
      IntType input, IntType output, KernelChoice choice = KernelChoice::kAuto);

  size_t scratch_bytes(int64_t batch) const;
  // input: batch·in elements, output: batch·out elements (no aliasing), batch ≥ 1.
  void run(const void* input, void* output, std::byte* scratch, int64_t batch) const;

  std::string_view variant() const;
  KernelChoice choice() const;
  const FullyConnectedS8Params& params() const;  // batch is 1
  IntType input_type() const;
  IntType output_type() const;

  FullyConnectedS8Kernel(FullyConnectedS8Kernel&&) noexcept;
  FullyConnectedS8Kernel& operator=(FullyConnectedS8Kernel&&) noexcept;
  ~FullyConnectedS8Kernel();

  struct Impl;

 private:
  explicit FullyConnectedS8Kernel(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// QuantizeLinear of n floats with one scale and zero point into out_type (kU8 or kS8):
// fixedpoint::quantize per element (q = clamp(round_half_even(x / scale) + zero_point, type min,
// type max) in float32, NaN → zero_point); the AVX2 loop is its vector form
// (fixedpoint::quantize_f32x8), bit-exact on every input incl. ties, ±Inf and NaN. `choice`
// kAuto picks the AVX2 loop when the CPU has it; kRef / kGeneric force the scalar loop.
void quantize_linear_f32(const float* x, int64_t n, float scale, int32_t zero_point,
                         IntType out_type, void* out, KernelChoice choice = KernelChoice::kAuto);
void quantize_linear_f32_scalar(const float* x, int64_t n, float scale, int32_t zero_point,
                                IntType out_type, void* out);
// The loop quantize_linear_f32 runs for `choice` on this CPU: "avx2" or "scalar".
std::string_view quantize_linear_f32_loop(KernelChoice choice = KernelChoice::kAuto);

// QLinearAdd of n elements of type t (kU8 or kS8): c = qlinear_add_ref(p, a, b) bit for bit —
// the same float32 operations (two products, a sum, a division, round half to even, + z_c,
// clamp) sixteen lanes at a time (AVX-512 F/BW, unless `choice` forces kAvx2) or eight (AVX2).
// Returns false, doing nothing, when `choice` / the CPU gives no vector loop or when the scales
// could take the float values out of the exactly handled range (255·(s_a + s_b) / s_c ≥ 2^30); the
// caller then uses its own path (e.g. a table built from the reference). a, b, c: n elements each
// (c may alias a or b).
bool qlinear_add_s8(const QLinearAddParams& p, IntType t, const void* a, const void* b, void* c,
                    int64_t n, KernelChoice choice = KernelChoice::kAuto);
// The loop qlinear_add_s8 runs for `choice` on this CPU: "avx512", "avx2", or empty (none).
std::string_view qlinear_add_s8_loop(KernelChoice choice = KernelChoice::kAuto);

// y[k] = table[x[k] ^ flip] for k < n (a 256-entry byte table: QLinearConcat's requantization,
// flip 0x80 indexes s8 codes by x + 128). AVX-512 VBMI (two vpermt2b and a blend per 64 bytes)
// when the CPU has it and `choice` allows the VNNI tier; otherwise the scalar loop. y may not
// overlap x unless y == x.
void lookup_table_u8(const uint8_t* table, uint8_t flip, const uint8_t* x, uint8_t* y, int64_t n,
                     KernelChoice choice = KernelChoice::kAuto);

}  // namespace ei8::kernels
