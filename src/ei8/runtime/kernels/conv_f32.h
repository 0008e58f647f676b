// ei8/runtime/kernels/conv_f32.h — FP32 2-D convolution (1-D as height 1): the reference
// kernel (the specification) and the prepared fast kernel the executor calls.
//
// Layouts: input NCHW [batch, in_c, in_h, in_w], weight OIHW [out_c, in_c/groups, kernel_h,
// kernel_w], bias [out_c] (or empty = zeros), output NCHW [batch, out_c, out_h, out_w], all
// contiguous float32. Semantics are ONNX Conv (explicit pads; auto_pad resolved by the caller)
// followed by the fused epilogue `act(acc + bias)`.
//
//   Conv2dParams p{.in_c = 16, .in_h = 32, .in_w = 32, .out_c = 16, .kernel_h = 3, .kernel_w = 3,
//                  .pad_top = 1, .pad_left = 1, .pad_bottom = 1, .pad_right = 1,
//                  .act = Activation::relu()};
//   Result<Conv2dF32> conv = Conv2dF32::prepare(p, weight, bias);   // validates, packs weights
//   std::vector<float> scratch(conv->scratch_bytes(batch) / sizeof(float));
//   conv->run(x, y, batch, scratch.data());                         // allocation-free, any batch
//   conv2d_f32_ref(p_with_batch, x, weight, bias, y_ref);           // the spec, for tests
//   conv->algorithm();  // kDirect, kWinograd or kIm2col (chosen by prepare(); forceable)
//
// Algorithms (plans) of the fast tiers: "direct" (a GEMM over the staged input, every shape)
// and Winograd F(2×2, 3×3) for 3×3, stride-1, dilation-1, ungrouped convolutions (2.25× fewer
// multiplications; not bit-identical to the direct sum, see the tolerance in f32_winograd.h).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>

#include "ei8/core/status.h"
#include "ei8/runtime/kernels/f32_common.h"

namespace ei8::kernels {

struct Conv2dParams {
  int64_t batch = 1;  // used by conv2d_f32_ref only; Conv2dF32::run takes the batch per call
  int64_t in_c = 1, in_h = 1, in_w = 1;
  int64_t out_c = 1;
  int64_t kernel_h = 1, kernel_w = 1;
  int64_t stride_h = 1, stride_w = 1;
  int64_t dilation_h = 1, dilation_w = 1;
  int64_t pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0;
  int64_t groups = 1;  // in_c and out_c divisible by groups; depthwise: groups = in_c
  Activation act;      // fused epilogue after the bias

  // Output size; 0 when the dilated kernel is larger than the padded input (the division
  // must not truncate a negative numerator toward zero).
  int64_t out_h() const {
    return out_size_1d(in_h + pad_top + pad_bottom, kernel_h, dilation_h, stride_h);
  }
  int64_t out_w() const {
    return out_size_1d(in_w + pad_left + pad_right, kernel_w, dilation_w, stride_w);
  }
  static int64_t out_size_1d(int64_t padded, int64_t kernel, int64_t dilation, int64_t stride) {
    const int64_t room = padded - dilation * (kernel - 1) - 1;
    return room < 0 || stride < 1 ? 0 : room / stride + 1;
  }
  int64_t in_c_per_group() const { return in_c / groups; }
  int64_t out_c_per_group() const { return out_c / groups; }
  // Accumulation length of one output: (in_c/groups)·kernel_h·kernel_w.
  int64_t k() const { return in_c_per_group() * kernel_h * kernel_w; }
  int64_t weight_size() const { return out_c * k(); }
  int64_t in_size() const { return in_c * in_h * in_w; }          // per sample
  int64_t out_size() const { return out_c * out_h() * out_w(); }  // per sample
  int64_t macs() const { return out_size() * k(); }               // per sample

  // Checks every field (positive sizes, divisibility by groups, non-negative pads, output at
  // least 1×1, sizes below 2^31 elements, clip lo <= hi). Message shape of STYLE.md.
  Status validate() const;
};

// The specification: plain loops, accumulation in double (bias first, then ic, kh, kw in
// order), rounded once to float, then the activation in float. Spans must hold
// batch·in_size(), weight_size(), out_c or 0, batch·out_size() floats.
Status conv2d_f32_ref(const Conv2dParams& p, std::span<const float> input,
                      std::span<const float> weight, std::span<const float> bias,
                      std::span<float> output);

// The convolution algorithm (plan) of a prepared fast tier. kAuto: prepare() picks the faster
// one for the shape (measured, see winograd_pays_off / im2col_pays_off); kWinograd on a shape
// it does not cover (kernel ≠ 3×3, stride or dilation ≠ 1, groups > 1) fails with
// kUnsupported. kDirect and kIm2col cover every shape: both run the same micro-kernels, direct
// over vectors of pixels within one output row of a padded / column-gathered copy of the
// input, im2col over vectors of the flattened output (an im2col copy: K·out_h·out_w floats),
// which wastes no lanes on narrow outputs. Every value can be forced (tests, tuning).
//
// kTransposed (AVX-512 tier; 1×1, stride 1, no padding, groups 1): output channels in the
// vector lanes and pixels broadcast, for small planes whose pixel vectors would waste lanes
// (7×7, the 1×1 planes of squeeze-excitation blocks); bit-exact with kDirect.
//
// kOnednn / kOnednnNchw (tiers avx2 and avx512, when onednn_conv_available()): oneDNN's direct
// FP32 convolution (kernels/onednn_runtime.h; fpmath mode strict: float products and sums,
// no bf16), every shape. kOnednn lets oneDNN choose its layouts (nChw16c / nChw8c blocked
// activations) and reorders the NCHW input and output around it in run(), inside the timed
// call; kOnednnNchw keeps the activations NCHW (oneDNN's own plan for plain layouts). Weights
// are reordered once at prepare. Bias, ReLU, LeakyRelu and Clip run as oneDNN post-ops (exact
// operations); SiLU runs after as silu_f32 (the same bits as our plans' fused SiLU). Sums in
// another order than ours: within the direct tolerance (f32_tolerance.h). Never chosen by
// kAuto: the plan tuner measures it (ops.cpp) and a tuning file records it.
enum class ConvAlgorithm { kAuto, kDirect, kWinograd, kIm2col, kTransposed, kOnednn, kOnednnNchw };
// "auto", "direct", "winograd", "im2col", "transposed", "onednn", "onednn-nchw"
std::string_view conv_algorithm_name(ConvAlgorithm a);
// Whether the oneDNN plans exist here: oneDNN compiled in and running on this CPU, and `tier`
// (avx2 or avx512) is the tier the process runs by default (EI8_ISA caps both; oneDNN's ISA is
// process-wide, so a lower tier forced per call gets no oneDNN plan).
bool onednn_conv_available(KernelChoice tier);
// Whether Winograd F(2×2, 3×3) covers the shape (not whether it is faster).
bool winograd_applicable(const Conv2dParams& p);
// Whether the transposed pointwise plan covers the shape (on the avx512 tier).
bool pointwise_t_applicable(const Conv2dParams& p);

// A convolution prepared once for its shape and weights (any batch per run).
//
// prepare(): validates, picks the tier (KernelChoice::kAuto: the best one this CPU runs),
// packs the weights for that tier and precomputes every index table. run(): no allocation,
// no validation, no feature checks. Thread-safe to run() concurrently with distinct
// scratch buffers.
class Conv2dF32 {
 public:
  [[nodiscard]] static Result<Conv2dF32> prepare(const Conv2dParams& p,
                                                 std::span<const float> weight,
                                                 std::span<const float> bias,
                                                 KernelChoice choice = KernelChoice::kAuto,
                                                 ConvAlgorithm algorithm = ConvAlgorithm::kAuto);

  // Bytes of scratch run() needs for `batch` samples (0 is possible); 64-byte alignment of the
  // scratch is recommended but not required.
  size_t scratch_bytes(int64_t batch) const;
  // input: batch·in_size() floats, output: batch·out_size() floats (must not alias input),
  // scratch: scratch_bytes(batch) bytes. threads: reserved; the kernels run on the calling
  // thread (the executor parallelises across ops/samples if it wants).
  void run(const float* input, float* output, int64_t batch, float* scratch, int threads = 1) const;

  const Conv2dParams& params() const;
  KernelChoice choice() const;  // the tier actually used (never kAuto)
  // The algorithm actually used (never kAuto; kDirect for the kRef tier).
  ConvAlgorithm algorithm() const;
  // Tier and algorithm for profiles: "ref", "<tier>" (direct), "<tier>/winograd",
  // "<tier>/im2col" with <tier> = generic, avx2 or avx512; "avx512/depthwise-flat",
  // "avx512/depthwise-s2", "avx512/transposed"; "onednn/<oneDNN's implementation>" and
  // "onednn-nchw/<implementation>" (e.g. "onednn/jit:avx512_core").
  std::string_view variant_name() const;

  Conv2dF32(Conv2dF32&&) noexcept;
  Conv2dF32& operator=(Conv2dF32&&) noexcept;
  ~Conv2dF32();

  struct Impl;  // defined in conv_f32_internal.h

 private:
  explicit Conv2dF32(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace ei8::kernels
