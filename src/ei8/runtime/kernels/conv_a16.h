// ei8/runtime/kernels/conv_a16.h — the prepared A16W8 convolution and fully connected kernels
// the integer executor calls for int16 layers (issue 16 item 3): u8, s8 or int16 activations ×
// s8 weights → exact int64 accumulators → u8 / s8 / int16 through the layer's
// fixedpoint::Requantizer (Requantizer::apply64 for an int16 input, Requantizer::apply for an
// 8-bit one, exactly as the reference). Every tier is bit-exact with the reference kernels
// (ref/a16w8_ref.h) in every requantization profile.
//
// One algorithm, a GEMM C[M×N] = A[M×K]·B[K×N] on int16 K-pairs:
//   convolution     per group, A = weights w − z_w (int16, packed once, [C_out/group][K/2]
//                   pairs), C's rows are output channels, and B either
//                   "gemm":   im2col of the raw input (int16 pairs, padded taps hold z_x),
//                             staged per panel of ≤ 256 output pixels, or
//                   "direct": (unit strides, ≥ 2 input channels per group) the z_x-padded image
//                             staged once per sample as pairs of channels; the K-pairs are
//                             (tap, channel pair), B's row for one is the image shifted by the
//                             tap, and the columns run over the padded output grid
//                             q = oh·padded_w + ow (the padded_w − out_w extra columns per
//                             row are computed and dropped) — no im2col;
//   fully connected A = the input rows (raw, as int16 pairs), B = weights w − z_w packed once
//                   as [K/2][N] pairs; C's columns are output channels.
// Because the raw x is multiplied (not x − z_x, which needs 17 bits for an int16 input), each
// channel's epilogue adds corr[c] = bias[c] − z_x·Σ_k (w[c][k] − z_w) (int64, prepare()).
//
// Exact int32 blocks, int64 totals. Each product |x·(w − z_w)| ≤ 2^15·255 = 8 355 840; a block
// of kA16PairsPerBlock = 128 K-pairs (256 products) sums to at most 256·8 355 840 =
// 2 139 095 040 < 2^31 − 1, so the int32 lanes (vpmaddwd pair sums ≤ 2·8 355 840, never the
// one saturating case −2^15·−2^15·2; vpdpwssd, the non-saturating form) cannot overflow inside a
// block. After each block the lanes are sign-extended to int64 and added to the tile's int64
// sums, exact for |acc| < 2^63 (the reference bounds K ≤ 2^22: |acc| < 2^47).
//
// Tiers (registered_a16_kernels(); kAuto = avx512vnni > avx512 > avx2 > generic, or the plan a
// tuner measured fastest, runtime/tuning.h):
//   ref         the reference loops (one sample per call);
//   generic     portable C++ micro-kernel, 4 rows × 16 columns;
//   avx2        vpmaddwd (int16 pairs → int32) + vpaddd, 6 rows × 2 ymm (16 columns);
//   avx512      the same on zmm (AVX-512 BW), 8 rows × 2 zmm (32 columns);
//   avx512vnni  vpdpwssd (pair products and the add in one instruction), 8 rows × 2 zmm.
// Plans (variant()): "<tier>/gemm-<MR>x<columns>" or "<tier>/direct-<MR>x<columns>", e.g.
// "avx512vnni/direct-8x32"; "ref". kAuto takes direct where it applies.
// The epilogue (int64 + corr → requantize → store) is Requantizer::apply64 / apply per element.
//
//   ConvS8Params p;  p.geometry = ...;  p.requant = Requantizer::prepare(...).value();
//   auto k = ConvA16Kernel::prepare(p, w, bias, A16Type::kS16, A16Type::kS16);
//   std::vector<std::byte> scratch(k->scratch_bytes(batch));
//   k->run(x_s16, y_s16, scratch.data(), batch);  // allocation-free, any batch
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ei8/core/status.h"
#include "ei8/runtime/kernels/f32_common.h"
#include "ei8/runtime/kernels/ref/conv_s8_ref.h"
#include "ei8/runtime/kernels/ref/fully_connected_s8_ref.h"

namespace ei8::kernels {

// Activation element type of an A16W8 kernel's input or output.
enum class A16Type { kU8, kS8, kS16 };
std::string_view a16_type_name(A16Type t);  // "u8", "s8", "s16"

// K-pairs summed in int32 before widening to int64 (see the bound above).
inline constexpr int64_t kA16PairsPerBlock = 128;

// The A16W8 tiers a caller can force (tests and benchmarks skip the unavailable ones).
std::vector<KernelChoice> registered_a16_kernels();
// kAuto resolved to the tier the heuristic uses on this CPU.
KernelChoice resolve_a16_kernel_choice(KernelChoice c);

// A prepared A16W8 convolution (2-D, or 1-D as height 1; groups and depthwise included).
// prepare() validates as conv_a16_check and the spans (weights OIHW, bias empty or C_out),
// picks the tier (kAuto: the best on this CPU; a forced tier this CPU lacks → kUnsupported) or
// the named `plan` (a variant() string), packs the weights. run(): no allocation, no validation.
class ConvA16Kernel {
 public:
  [[nodiscard]] static Result<ConvA16Kernel> prepare(const ConvS8Params& p,
                                                     std::span<const int8_t> weights,
                                                     std::span<const int32_t> bias, A16Type input,
                                                     A16Type output,
                                                     KernelChoice choice = KernelChoice::kAuto,
                                                     std::string_view plan = {});
  // The plans worth timing for this layer on this CPU (kAuto: every available non-ref tier, best
  // first; per tier "direct" first where it applies, then "gemm"); the first is kAuto's choice.
  [[nodiscard]] static std::vector<std::string> plan_candidates(
      const ConvS8Params& p, KernelChoice choice = KernelChoice::kAuto);
  // The gemm plans only (any layer; the fully connected kernel's candidates).
  [[nodiscard]] static std::vector<std::string> plan_candidates(
      KernelChoice choice = KernelChoice::kAuto);

  size_t scratch_bytes(int64_t batch) const;
  // input: batch·C_in·H·W elements of the input type, output: batch·C_out·out_h·out_w of the
  // output type (no aliasing), scratch: scratch_bytes(batch) bytes (any alignment), batch ≥ 1.
  void run(const void* input, void* output, std::byte* scratch, int64_t batch) const;

  std::string_view variant() const;
  KernelChoice choice() const;
  const ConvS8Params& params() const;  // geometry.batch is 1

  ConvA16Kernel(ConvA16Kernel&&) noexcept;
  ConvA16Kernel& operator=(ConvA16Kernel&&) noexcept;
  ~ConvA16Kernel();

  struct Impl;

 private:
  explicit ConvA16Kernel(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// A prepared A16W8 fully connected layer: input [batch, in], weights [out, in] (out-in, as the
// executor stores them), bias empty or [out], output [batch, out]. p.batch is ignored (any
// batch per run). Same contract as ConvA16Kernel.
class FullyConnectedA16Kernel {
 public:
  [[nodiscard]] static Result<FullyConnectedA16Kernel> prepare(
      const FullyConnectedS8Params& p, std::span<const int8_t> weights,
      std::span<const int32_t> bias, A16Type input, A16Type output,
      KernelChoice choice = KernelChoice::kAuto, std::string_view plan = {});

  size_t scratch_bytes(int64_t batch) const;
  void run(const void* input, void* output, std::byte* scratch, int64_t batch) const;

  std::string_view variant() const;
  KernelChoice choice() const;
  const FullyConnectedS8Params& params() const;  // batch is 1

  FullyConnectedA16Kernel(FullyConnectedA16Kernel&&) noexcept;
  FullyConnectedA16Kernel& operator=(FullyConnectedA16Kernel&&) noexcept;
  ~FullyConnectedA16Kernel();

  struct Impl;

 private:
  explicit FullyConnectedA16Kernel(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace ei8::kernels
