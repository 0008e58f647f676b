// ei8/runtime/kernels/f32_common.h — what every FP32 kernel shares: the fused activation of
// the epilogue and the names of the kernel variants (tiers) a caller can force.
//
// The epilogue of Conv/Gemm is `y = act(acc + bias)`, applied in float after the accumulation:
//
//   Activation a = Activation::clip(0.0f, 6.0f);   // ReLU6
//   float y = a.apply(acc + bias);
//   Conv2dF32::prepare(params, w, b, KernelChoice::kAvx2);  // force a tier (tests, benchmarks)
#pragma once

#include <algorithm>
#include <cmath>
#include <limits>
#include <string_view>
#include <vector>

namespace ei8::kernels {

// kSilu: x·sigmoid(x), fused only into convolutions (the executor's Conv → Sigmoid·x fusion);
// the fast tiers compute it with silu_f32's expression (eltwise_f32.h), so fusing it changes
// no bit of the tier's result.
enum class ActKind { kNone, kRelu, kClip, kLeakyRelu, kSilu };

// A pointwise activation fused into the producing kernel. Valid ranges: clip needs lo <= hi
// (either may be ±inf); leaky_relu takes any finite alpha (ONNX default 0.01).
struct Activation {
  ActKind kind = ActKind::kNone;
  float lo = -std::numeric_limits<float>::infinity();  // kClip only
  float hi = std::numeric_limits<float>::infinity();   // kClip only
  float alpha = 0.01f;                                 // kLeakyRelu only

  static Activation none() { return {}; }
  static Activation relu() { return {ActKind::kRelu}; }
  static Activation clip(float min, float max) { return {ActKind::kClip, min, max}; }
  static Activation leaky_relu(float a) { return {ActKind::kLeakyRelu, 0, 0, a}; }
  static Activation silu() { return {ActKind::kSilu}; }

  // The specification every tier implements (NaN handling: relu/clip of NaN is unspecified).
  float apply(float x) const {
    switch (kind) {
      case ActKind::kNone:
        return x;
      case ActKind::kRelu:
        return x > 0.0f ? x : 0.0f;
      case ActKind::kClip:
        return std::min(std::max(x, lo), hi);
      case ActKind::kLeakyRelu:
        return x < 0.0f ? alpha * x : x;
      case ActKind::kSilu:  // the reference Sigmoid (unary_f32_ref), then the Mul by x
        return x * (1.0f / (1.0f + std::exp(-x)));
    }
    return x;
  }
};

// The kernel tiers (STYLE.md 2). kAuto lets the one dispatcher pick the best available tier;
// the others force one (tests and benchmarks). Forcing a tier whose ISA this CPU lacks makes
// prepare() fail with kUnsupported.
enum class KernelChoice {
  kAuto,
  kRef,         // the specification: plain loops, double accumulation
  kGeneric,     // portable blocked/packed C++ (no ISA flags)
  kAvx2,        // AVX2 + FMA micro-kernels (x86/, compiled with -mavx2 -mfma)
  kAvx512,      // FP32 only: AVX-512 F/BW/VL/DQ micro-kernels, 16-lane zmm (x86/f32_avx512.cpp)
  kAvx512Vnni,  // INT8 only (conv_s8.h): vpdpbusd micro-kernels; FP32 prepare() rejects it
};

std::string_view kernel_choice_name(KernelChoice c);  // "auto", "ref", "generic", "avx2", ...
bool kernel_choice_available(KernelChoice c);         // the CPU (and EI8_ISA) allows it
// Every registered tier (kRef first), available here or not: tests instantiate over this and
// skip the unavailable ones.
std::vector<KernelChoice> registered_f32_kernels();
// kAuto resolved to the tier the dispatcher uses on this CPU.
KernelChoice resolve_kernel_choice(KernelChoice c);

}  // namespace ei8::kernels
