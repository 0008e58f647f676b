// Every FP32 convolution tier against the reference (one test body, every variant: STYLE.md 9),
// the reference against hand-derived values, and the bad-input paths.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <initializer_list>
#include <iostream>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "ei8/core/rng.h"
#include "ei8/runtime/kernels/conv_f32.h"
#include "ei8/runtime/kernels/eltwise_f32.h"
#include "ei8/runtime/kernels/f32_winograd.h"
#include "ei8/runtime/kernels/gemm_f32.h"
#include "ei8/runtime/kernels/onednn_runtime.h"
#include "f32_tolerance.h"

namespace ei8::kernels {
namespace {

using testing::expect_close;

// A convolution case: params + the batches to run with one prepared object.
struct ConvCase {
  std::string name;
  Conv2dParams p;
  std::vector<int64_t> batches{1};
  bool with_bias = true;
};

// Fluent builder (STYLE.md 12): ConvTester("x").input(3, 32, 32).out(16).kernel(3, 3).pad(1)
class ConvTester {
 public:
  explicit ConvTester(std::string name) { c_.name = std::move(name); }
  ConvTester& input(int64_t c, int64_t h, int64_t w) {
    c_.p.in_c = c;
    c_.p.in_h = h;
    c_.p.in_w = w;
    return *this;
  }
  ConvTester& out(int64_t c) {
    c_.p.out_c = c;
    return *this;
  }
  ConvTester& kernel(int64_t h, int64_t w) {
    c_.p.kernel_h = h;
    c_.p.kernel_w = w;
    return *this;
  }
  ConvTester& stride(int64_t h, int64_t w) {
    c_.p.stride_h = h;
    c_.p.stride_w = w;
    return *this;
  }
  ConvTester& dilation(int64_t h, int64_t w) {
    c_.p.dilation_h = h;
    c_.p.dilation_w = w;
    return *this;
  }
  ConvTester& pad(int64_t t, int64_t l, int64_t b, int64_t r) {
    c_.p.pad_top = t;
    c_.p.pad_left = l;
    c_.p.pad_bottom = b;
    c_.p.pad_right = r;
    return *this;
  }
  ConvTester& pad(int64_t all) { return pad(all, all, all, all); }
  ConvTester& groups(int64_t g) {
    c_.p.groups = g;
    return *this;
  }
  ConvTester& act(Activation a) {
    c_.p.act = a;
    return *this;
  }
  ConvTester& batches(std::vector<int64_t> b) {
    c_.batches = std::move(b);
    return *this;
  }
  ConvTester& no_bias() {
    c_.with_bias = false;
    return *this;
  }
  operator ConvCase() const { return c_; }  // NOLINT(google-explicit-constructor)

 private:
  ConvCase c_;
};

std::vector<ConvCase> hand_cases() {
  const Activation relu = Activation::relu(), relu6 = Activation::clip(0, 6),
                   leaky = Activation::leaky_relu(0.1f), band = Activation::clip(-0.5f, 0.25f);
  return {
      // The CIFAR ResNet-like model's layers (3×32×32, two residual blocks).
      ConvTester("resnet_stem")
          .input(3, 32, 32)
          .out(16)
          .kernel(3, 3)
          .pad(1)
          .act(relu)
          .batches({1, 2}),
      ConvTester("resnet_b1").input(16, 32, 32).out(16).kernel(3, 3).pad(1).act(relu),
      ConvTester("resnet_b2_s2")
          .input(16, 32, 32)
          .out(32)
          .kernel(3, 3)
          .stride(2, 2)
          .pad(1)
          .act(relu),
      ConvTester("resnet_b2").input(32, 16, 16).out(32).kernel(3, 3).pad(1).batches({3}),
      ConvTester("resnet_short_1x1_s2").input(16, 32, 32).out(32).kernel(1, 1).stride(2, 2),
      // The 1-D signal CNN (height 1).
      ConvTester("signal_c1")
          .input(1, 1, 128)
          .out(16)
          .kernel(1, 3)
          .pad(0, 1, 0, 1)
          .act(relu)
          .batches({1, 5}),
      ConvTester("signal_c2").input(16, 1, 64).out(32).kernel(1, 3).pad(0, 1, 0, 1).act(relu),
      ConvTester("signal_c3").input(32, 1, 32).out(64).kernel(1, 3).pad(0, 1, 0, 1).act(relu),
      ConvTester("conv1d_valid_prime").input(7, 1, 131).out(11).kernel(1, 5),
      ConvTester("conv1d_stride3_dil2")
          .input(5, 1, 97)
          .out(9)
          .kernel(1, 3)
          .stride(1, 3)
          .dilation(1, 2)
          .pad(0, 2, 0, 1),
      // Depthwise and grouped.
      ConvTester("depthwise_3x3").input(8, 9, 11).out(8).kernel(3, 3).pad(1).groups(8).act(relu6),
      ConvTester("depthwise_s2_mult2")
          .input(6, 13, 13)
          .out(12)
          .kernel(3, 3)
          .stride(2, 2)
          .pad(1)
          .groups(6),
      ConvTester("grouped_3").input(12, 7, 9).out(15).kernel(3, 3).pad(1).groups(3).act(leaky),
      ConvTester("grouped_2_5x5").input(10, 17, 17).out(10).kernel(5, 5).pad(2).groups(2),
      // Strides, dilations, asymmetric padding, kernels wider than the input.
      ConvTester("dilated_2").input(4, 15, 15).out(5).kernel(3, 3).dilation(2, 2).pad(2),
      ConvTester("asym_pad").input(3, 10, 12).out(7).kernel(3, 2).pad(0, 1, 2, 0).act(band),
      ConvTester("stride_2x3").input(5, 17, 23).out(6).kernel(3, 3).stride(2, 3).pad(1),
      ConvTester("kernel_larger_than_input").input(2, 3, 3).out(3).kernel(5, 5).pad(2),
      ConvTester("one_pixel_out").input(9, 4, 4).out(5).kernel(4, 4),
      ConvTester("huge_pad").input(2, 2, 3).out(2).kernel(1, 1).pad(3, 2, 1, 4),
      // Pointwise: the no-staging path (H·W multiple of 8) and the padded one.
      ConvTester("pointwise_hw16").input(13, 4, 4).out(17).kernel(1, 1).no_bias(),
      ConvTester("pointwise_hw15").input(13, 3, 5).out(17).kernel(1, 1),
      ConvTester("pointwise_s2").input(8, 9, 9).out(4).kernel(1, 1).stride(2, 2),
      // Output channels around the tile heights (1..7, 12, 13, 24, 25) and widths around 8·NV.
      ConvTester("oc1").input(3, 5, 5).out(1).kernel(3, 3).pad(1),
      ConvTester("oc2").input(3, 5, 7).out(2).kernel(3, 3).pad(1),
      ConvTester("oc3").input(3, 5, 8).out(3).kernel(3, 3).pad(1),
      ConvTester("oc5").input(3, 5, 9).out(5).kernel(3, 3).pad(1),
      ConvTester("oc6").input(3, 6, 16).out(6).kernel(3, 3).pad(1),
      ConvTester("oc7").input(3, 6, 17).out(7).kernel(3, 3).pad(1),
      ConvTester("oc12").input(2, 4, 24).out(12).kernel(3, 3).pad(1),
      ConvTester("oc13").input(2, 4, 25).out(13).kernel(3, 3).pad(1),
      ConvTester("oc24_w31").input(2, 3, 31).out(24).kernel(3, 3).pad(1),
      ConvTester("oc25_w33").input(2, 3, 33).out(25).kernel(3, 3).pad(1),
      ConvTester("w1").input(3, 9, 1).out(4).kernel(3, 1).pad(1, 0, 1, 0),
      // K around the K-block size of the tiles (f32_tiles.h: 32768 / (NV·32) taps: 341 for
      // the 4×3 tile, 512 for 6×2): one block exactly, one more tap, two blocks and one.
      ConvTester("k170").input(170, 3, 5).out(8).kernel(1, 1),
      ConvTester("k171").input(19, 4, 6).out(8).kernel(3, 3).pad(1),
      ConvTester("k341_one_block").input(341, 2, 4).out(9).kernel(1, 1),
      ConvTester("k342_block_plus1").input(38, 4, 6).out(8).kernel(3, 3).pad(1),
      ConvTester("k683_two_blocks_plus1").input(683, 2, 4).out(8).kernel(1, 1),
      ConvTester("k512_mr6").input(512, 3, 3).out(6).kernel(1, 1),
      ConvTester("k513_mr6").input(513, 3, 3).out(18).kernel(1, 1).act(Activation::relu()),
      ConvTester("large_k").input(67, 5, 5).out(9).kernel(3, 3).pad(1),
      // The AVX-512 tier (its 16-lane plans need ≥ 64 output pixels or ≥ 2^20 MACs, else it
      // runs its 8-lane plan): 16-lane vectors (output widths 15, 16, 17, 31, 33, 47, 49),
      // the 32-register tile heights 6, 8, 12 (output channels 8, 11, 12, 23, 24, 25), and its
      // K blocks (32768 / (NV·64) taps: 64, 85, 128, 170, 256; one block, one tap more).
      ConvTester("z_w15_oc8").input(3, 5, 15).out(8).kernel(3, 3).pad(1),
      ConvTester("z_w16_oc11").input(2, 4, 16).out(11).kernel(3, 3).pad(1),
      ConvTester("z_w17_oc12").input(2, 4, 17).out(12).kernel(3, 3).pad(1).act(relu),
      ConvTester("z_w31_oc23").input(2, 3, 31).out(23).kernel(1, 3).pad(0, 1, 0, 1),
      ConvTester("z_w33_oc24").input(2, 2, 33).out(24).kernel(3, 3).pad(1),
      ConvTester("z_w47_oc25").input(1, 3, 47).out(25).kernel(3, 3).pad(1).act(leaky),
      ConvTester("z_w49_oc48").input(2, 2, 49).out(48).kernel(1, 1),
      ConvTester("z_k85").input(85, 4, 16).out(12).kernel(1, 1),
      ConvTester("z_k86").input(86, 4, 16).out(12).kernel(1, 1),
      ConvTester("z_k128").input(128, 8, 8).out(6).kernel(1, 1),
      ConvTester("z_k129").input(129, 8, 8).out(6).kernel(1, 1),
      ConvTester("z_k256").input(256, 4, 16).out(24).kernel(1, 1),
      ConvTester("z_k257").input(257, 4, 16).out(24).kernel(1, 1).act(relu),
      // The layer kinds of ResNet-18 / MobileNetV2 / SqueezeNet at small sizes: a strided 7×7
      // stem, depthwise 3×3 at stride 1 and 2 (ReLU6), pointwise 1×1 over 7×7 and 14×14 maps
      // (H·W not a multiple of 8 or 16), a strided 3×3 with a 7-wide output.
      ConvTester("stem_7x7_s2")
          .input(3, 29, 31)
          .out(16)
          .kernel(7, 7)
          .stride(2, 2)
          .pad(3)
          .act(relu)
          .batches({1, 2}),
      ConvTester("dw3x3_s1_24ch")
          .input(24, 14, 14)
          .out(24)
          .kernel(3, 3)
          .pad(1)
          .groups(24)
          .act(relu6),
      ConvTester("dw3x3_s2_32ch")
          .input(32, 15, 15)
          .out(32)
          .kernel(3, 3)
          .stride(2, 2)
          .pad(1)
          .groups(32)
          .act(relu6),
      // The compile-time-K depthwise tile (K = 9, 25): EfficientNet's 5×5 at stride 1 and 2,
      // widths around 4 vectors (33: a group of 4 then a tail of one), leaky / no bias, 3×3
      // without padding, a one-pixel-wide output, batch 2.
      ConvTester("dw5x5_s1_effnet")
          .input(12, 14, 14)
          .out(12)
          .kernel(5, 5)
          .pad(2)
          .groups(12)
          .act(relu)
          .batches({1, 2}),
      ConvTester("dw5x5_s2_effnet")
          .input(9, 29, 33)
          .out(9)
          .kernel(5, 5)
          .stride(2, 2)
          .pad(2)
          .groups(9),
      ConvTester("dw3x3_w33_leaky").input(5, 6, 33).out(5).kernel(3, 3).pad(1).groups(5).act(leaky),
      ConvTester("dw3x3_nopad_nobias").input(7, 11, 35).out(7).kernel(3, 3).groups(7).no_bias(),
      ConvTester("dw3x3_w1").input(3, 9, 1).out(3).kernel(3, 3).pad(1, 1, 1, 1).groups(3),
      ConvTester("pw_7x7_384_to_80").input(384, 7, 7).out(80).kernel(1, 1),
      ConvTester("pw_14x14_24_to_64").input(24, 14, 14).out(64).kernel(1, 1).act(relu6),
      ConvTester("s2_3x3_out7")
          .input(64, 14, 14)
          .out(40)
          .kernel(3, 3)
          .stride(2, 2)
          .pad(1)
          .act(relu),
  };
}

// One of `acts`, drawn uniformly (one rng draw).
Activation random_activation(Rng& rng, std::initializer_list<Activation> acts) {
  return acts.begin()[rng.uniform_int(0, static_cast<int64_t>(acts.size()) - 1)];
}

// Seeded random shapes: prime and 2^k±1 sizes, every feature mixed.
std::vector<ConvCase> random_cases(uint64_t seed, int count) {
  Rng rng(seed);
  const int64_t sizes[] = {1, 2, 3, 5, 7, 8, 9, 11, 13, 15, 16, 17, 23, 31, 32, 33};
  auto pick = [&](int64_t lo_idx, int64_t hi_idx) {
    return sizes[rng.uniform_int(lo_idx, hi_idx)];
  };
  std::vector<ConvCase> out;
  for (int i = 0; i < count; ++i) {
    ConvCase c;
    c.name = "random_" + std::to_string(seed) + "_" + std::to_string(i);
    Conv2dParams& p = c.p;
    p.groups = rng.uniform_int(0, 3) == 0 ? pick(1, 4) : 1;
    p.in_c = p.groups * pick(0, 9);
    p.out_c = p.groups * pick(0, 10);
    const bool one_d = rng.uniform_int(0, 3) == 0;
    p.in_h = one_d ? 1 : pick(0, 15);
    p.in_w = pick(0, 15);
    p.kernel_h = one_d ? 1 : rng.uniform_int(1, 4);
    p.kernel_w = rng.uniform_int(1, 5);
    p.stride_h = rng.uniform_int(1, 3);
    p.stride_w = rng.uniform_int(1, 3);
    p.dilation_h = rng.uniform_int(1, 2);
    p.dilation_w = rng.uniform_int(1, 2);
    p.pad_top = one_d ? 0 : rng.uniform_int(0, 2);
    p.pad_bottom = one_d ? 0 : rng.uniform_int(0, 2);
    p.pad_left = rng.uniform_int(0, 2);
    p.pad_right = rng.uniform_int(0, 2);
    // Grow the input until the kernel fits.
    while (p.out_h() < 1) ++p.in_h;
    while (p.out_w() < 1) ++p.in_w;
    p.act = random_activation(rng, {Activation::none(), Activation::relu(),
                                    Activation::clip(-1.0f, 1.5f), Activation::leaky_relu(0.2f)});
    c.with_bias = rng.uniform_int(0, 4) != 0;
    c.batches = {rng.uniform_int(1, 5), rng.uniform_int(1, 3)};
    out.push_back(c);
  }
  return out;
}

// Seeded random shapes large enough (≥ 64 output pixels) for the AVX-512 tier's 16-lane
// plans: prime / 2^k±1 widths around 16·NV, 4..31 output channels per group (the 6/8-row
// tiles), kernels 1..5, strides 1..2, pads 0..2, groups 1..2, every activation.
std::vector<ConvCase> zmm_random_cases(uint64_t seed, int count) {
  Rng rng(seed);
  const int64_t widths[] = {9, 13, 15, 16, 17, 23, 31, 32, 33, 47, 49};
  const int64_t chans[] = {4, 5, 7, 8, 9, 12, 13, 17, 24, 31};
  std::vector<ConvCase> out;
  for (int i = 0; i < count; ++i) {
    ConvCase c;
    c.name = "zmm_random_" + std::to_string(seed) + "_" + std::to_string(i);
    Conv2dParams& p = c.p;
    p.groups = rng.uniform_int(0, 3) == 0 ? 2 : 1;
    p.in_c = p.groups * chans[rng.uniform_int(0, 9)];
    p.out_c = p.groups * chans[rng.uniform_int(0, 9)];
    p.in_w = widths[rng.uniform_int(0, 10)];
    p.kernel_h = rng.uniform_int(1, 5);
    p.kernel_w = rng.uniform_int(1, 5);
    p.stride_h = p.stride_w = rng.uniform_int(1, 2);
    p.pad_top = p.pad_bottom = rng.uniform_int(0, 2);
    p.pad_left = p.pad_right = rng.uniform_int(0, 2);
    p.in_h = 4;
    while (p.out_w() < 1) ++p.in_w;
    while (p.out_h() * p.out_w() < 64) ++p.in_h;
    p.act = random_activation(rng, {Activation::none(), Activation::relu(),
                                    Activation::clip(-1.0f, 1.5f), Activation::leaky_relu(0.2f)});
    c.with_bias = rng.uniform_int(0, 4) != 0;
    c.batches = {rng.uniform_int(1, 2)};
    out.push_back(c);
  }
  return out;
}

constexpr uint64_t kRandomSeed = 20261127;

std::vector<ConvCase> all_cases() {
  std::vector<ConvCase> c = hand_cases();
  for (ConvCase& r : random_cases(kRandomSeed, 60)) c.push_back(r);
  for (ConvCase& r : zmm_random_cases(kRandomSeed, 24)) c.push_back(r);
  return c;
}

std::vector<float> random_vector(Rng& rng, int64_t n, float lo, float hi) {
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v) x = rng.uniform(lo, hi);
  return v;
}

std::vector<float> abs_of(std::vector<float> v) {
  for (float& x : v) x = std::fabs(x);
  return v;
}

// The reference output of `p` on `batch` samples and the magnitude of the tolerance policy
// (f32_tolerance.h): S = Σ|w·x| + |b| per output, the reference on absolute values without
// activation. Call under ASSERT_NO_FATAL_FAILURE.
void reference_and_magnitude(const Conv2dParams& p, int64_t batch, const std::vector<float>& x,
                             const std::vector<float>& w, const std::vector<float>& b,
                             std::vector<float>& want, std::vector<float>& magnitude) {
  Conv2dParams pb = p;
  pb.batch = batch;
  want.assign(static_cast<size_t>(batch * p.out_size()), 0.0f);
  magnitude.assign(want.size(), 0.0f);
  ASSERT_TRUE(conv2d_f32_ref(pb, x, w, b, want).ok());
  pb.act = Activation::none();
  ASSERT_TRUE(conv2d_f32_ref(pb, abs_of(x), abs_of(w), abs_of(b), magnitude).ok());
}

// A kernel variant: a tier and, for the fast tiers, a convolution algorithm (kAuto on the
// reference tier, which has only its own).
struct Variant {
  KernelChoice tier;
  ConvAlgorithm algorithm;
};

std::vector<Variant> all_variants() {
  std::vector<Variant> v;
  for (KernelChoice k : registered_f32_kernels()) {
    if (k == KernelChoice::kRef) {
      v.push_back({k, ConvAlgorithm::kAuto});
    } else {
      v.push_back({k, ConvAlgorithm::kDirect});
      v.push_back({k, ConvAlgorithm::kWinograd});
      v.push_back({k, ConvAlgorithm::kIm2col});
    }
    // oneDNN's blocked plan, the one the tuner offers (skipped with the reason where oneDNN is
    // not compiled in or `k` is not the process's tier); its NCHW plan, never offered, is
    // checked by Conv2dF32Onednn below (each variant here costs ≈ 7 s under ASan).
    if (k == KernelChoice::kAvx2 || k == KernelChoice::kAvx512) {
      v.push_back({k, ConvAlgorithm::kOnednn});
    }
  }
  return v;
}

// Winograd F(2×2, 3×3)'s own cases: seeded random 3×3 stride-1 shapes (prime/odd channels,
// 1×1 to 33×33 outputs, paddings 0..2 on each side independently, every activation, bias or
// not, batches that fold several images into one tile block, and partial folds).
std::vector<ConvCase> winograd_random_cases(uint64_t seed, int count) {
  Rng rng(seed);
  const int64_t channels[] = {1, 2, 3, 4, 5, 6, 7, 8, 11, 13, 16, 17, 23, 31, 32, 37};
  const int64_t sizes[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 16, 17, 31, 33};
  std::vector<ConvCase> out;
  for (int i = 0; i < count; ++i) {
    ConvCase c;
    c.name = "wino_random_" + std::to_string(seed) + "_" + std::to_string(i);
    Conv2dParams& p = c.p;
    p.kernel_h = p.kernel_w = 3;
    p.in_c = channels[rng.uniform_int(0, 15)];
    p.out_c = channels[rng.uniform_int(0, 15)];
    p.pad_top = rng.uniform_int(0, 2);
    p.pad_left = rng.uniform_int(0, 2);
    p.pad_bottom = rng.uniform_int(0, 2);
    p.pad_right = rng.uniform_int(0, 2);
    // The output size is drawn (1×1, 2×2, 3×3 outputs included) and the input derived from it.
    const int64_t oh = sizes[rng.uniform_int(0, 15)], ow = sizes[rng.uniform_int(0, 15)];
    p.in_h = std::max<int64_t>(1, oh + 2 - p.pad_top - p.pad_bottom);
    p.in_w = std::max<int64_t>(1, ow + 2 - p.pad_left - p.pad_right);
    while (p.out_h() < 1) ++p.in_h;
    while (p.out_w() < 1) ++p.in_w;
    p.act = random_activation(rng,
                              {Activation::none(), Activation::relu(), Activation::clip(0.0f, 6.0f),
                               Activation::clip(-1.0f, 1.5f), Activation::leaky_relu(0.2f)});
    c.with_bias = rng.uniform_int(0, 2) != 0;
    // Batches up to 11 fold several small images into one tile block (and leave a partial
    // fold); large images keep to small batches so that the suite stays fast under ASan.
    c.batches = {rng.uniform_int(1, 3), rng.uniform_int(1, p.out_h() * p.out_w() <= 64 ? 11 : 2)};
    out.push_back(c);
  }
  return out;
}

std::vector<ConvCase> winograd_hand_cases() {
  const Activation relu = Activation::relu();
  return {
      // The CIFAR ResNet's and TinyCNN2D's stride-1 3×3 layers, full size.
      ConvTester("wino_resnet_16x32x32").input(16, 32, 32).out(16).kernel(3, 3).pad(1).act(relu),
      ConvTester("wino_resnet_32x16x16").input(32, 16, 16).out(32).kernel(3, 3).pad(1),
      ConvTester("wino_tiny_64x8x8_128").input(64, 8, 8).out(128).kernel(3, 3).pad(1).act(relu),
      // Folded batches: 4×4 output = 2 quads per image, 2×2 = 1 quad; batch 11 = 8 + 3.
      ConvTester("wino_fold_4x4").input(5, 4, 4).out(7).kernel(3, 3).pad(1).batches({7, 11, 1}),
      ConvTester("wino_fold_1x1_out").input(3, 3, 3).out(5).kernel(3, 3).batches({11, 2}),
      // Quads cut by the right edge (tiles_x = 5, 9) and odd heights; rows of 6 (mr = 6).
      ConvTester("wino_w9_h7")
          .input(4, 7, 9)
          .out(6)
          .kernel(3, 3)
          .pad(1)
          .act(Activation::leaky_relu(0.1f)),
      ConvTester("wino_w17_valid").input(9, 5, 19).out(13).kernel(3, 3).no_bias(),
      ConvTester("wino_asym_pad")
          .input(7, 6, 10)
          .out(12)
          .kernel(3, 3)
          .pad(2, 0, 0, 2)
          .act(Activation::clip(-0.5f, 0.25f)),
      // in_c = 1 and large in_c (K_W = in_c + 9 on both ends).
      ConvTester("wino_ic1").input(1, 12, 12).out(4).kernel(3, 3).pad(1),
      ConvTester("wino_ic97").input(97, 5, 6).out(5).kernel(3, 3).pad(1),
  };
}

std::vector<ConvCase> winograd_cases() {
  std::vector<ConvCase> c = winograd_hand_cases();
  for (const ConvCase& h : hand_cases()) {  // the general cases Winograd covers
    if (winograd_applicable(h.p)) c.push_back(h);
  }
  for (ConvCase& r : winograd_random_cases(kRandomSeed, 60)) c.push_back(r);
  return c;
}

// One (variant, case) check; `worst_vs_direct` collects Winograd's error against the direct
// sum's bound, for the record.
void check_case(const Variant& variant, const ConvCase& c, double& worst_vs_direct) {
  const uint64_t seed = std::hash<std::string>{}(c.name) & 0xffffffffu;
  SCOPED_TRACE("seed " + std::to_string(seed) + ", case " + c.name);
  Rng rng(seed);
  const Conv2dParams& p = c.p;
  const std::vector<float> w = random_vector(rng, p.weight_size(), -1.0f, 1.0f);
  const std::vector<float> b =
      c.with_bias ? random_vector(rng, p.out_c, -1.0f, 1.0f) : std::vector<float>{};
  const KernelChoice choice = variant.tier;
  Result<Conv2dF32> conv = Conv2dF32::prepare(p, w, b, choice, variant.algorithm);
  ASSERT_TRUE(conv.ok()) << conv.status().message();
  EXPECT_EQ(conv->choice(), choice);
  if (variant.algorithm != ConvAlgorithm::kAuto) {
    EXPECT_EQ(conv->algorithm(), variant.algorithm);
  }
  const bool winograd = conv->algorithm() == ConvAlgorithm::kWinograd;

  for (int64_t batch : c.batches) {
    SCOPED_TRACE("batch " + std::to_string(batch));
    const std::vector<float> x = random_vector(rng, batch * p.in_size(), -2.0f, 2.0f);
    Conv2dParams pb = p;
    pb.batch = batch;
    std::vector<float> want(static_cast<size_t>(batch * p.out_size()));
    ASSERT_TRUE(conv2d_f32_ref(pb, x, w, b, want).ok());
    // The magnitude of the tolerance policy (f32_tolerance.h): S = Σ|w·x| + |b| per output
    // (the reference on absolute values without activation) for the direct sum, S_W for
    // Winograd.
    std::vector<float> magnitude(want.size());
    if (winograd) {
      magnitude = testing::winograd_f23_magnitude(p, batch, x, w, b);
    } else {
      pb.act = Activation::none();
      ASSERT_TRUE(conv2d_f32_ref(pb, abs_of(x), abs_of(w), abs_of(b), magnitude).ok());
    }

    // NaN-filled output and scratch: every output must be written, no scratch read unwritten.
    std::vector<float> got(want.size(), std::numeric_limits<float>::quiet_NaN());
    std::vector<float> scratch(conv->scratch_bytes(batch) / sizeof(float),
                               std::numeric_limits<float>::quiet_NaN());
    conv->run(x.data(), got.data(), batch, scratch.data());
    expect_close(got, want, magnitude, winograd ? testing::winograd_f23_k(p.in_c) : p.k());
    if (winograd) {  // for the record: the error measured against the direct sum's bound
      pb.act = Activation::none();
      std::vector<float> s(want.size());
      ASSERT_TRUE(conv2d_f32_ref(pb, abs_of(x), abs_of(w), abs_of(b), s).ok());
      for (size_t i = 0; i < s.size(); ++i) {
        const double tol = testing::f32_tolerance(p.k(), s[i]);
        if (tol > 0)
          worst_vs_direct = std::max(worst_vs_direct, std::fabs(double{got[i]} - want[i]) / tol);
      }
    }
  }
}

// One test per variant (a ctest process each, not one per case: the sanitizer run pays for
// every process start), over every case the variant covers: Winograd only on its shapes.
class ConvF32Variants : public ::testing::TestWithParam<Variant> {};

TEST_P(ConvF32Variants, MatchesReferenceOnEveryCase) {
  const Variant& variant = GetParam();
  if (!kernel_choice_available(variant.tier)) {
    GTEST_SKIP() << "variant " << kernel_choice_name(variant.tier)
                 << " needs an ISA this CPU lacks";
  }
  if ((variant.algorithm == ConvAlgorithm::kOnednn ||
       variant.algorithm == ConvAlgorithm::kOnednnNchw) &&
      !onednn_conv_available(variant.tier)) {
    GTEST_SKIP() << "oneDNN plans need oneDNN (CMake EI8_WITH_ONEDNN, Debian libdnnl-dev; "
                 << (onednn::available() ? "present" : "absent")
                 << " here) and run on the process's own tier only (here "
                 << kernel_choice_name(resolve_kernel_choice(KernelChoice::kAuto)) << ")";
  }
  const std::vector<ConvCase> cases =
      variant.algorithm == ConvAlgorithm::kWinograd ? winograd_cases() : all_cases();
  double worst_vs_direct = 0.0;
  for (const ConvCase& c : cases) {
    check_case(variant, c, worst_vs_direct);
    if (HasFatalFailure()) return;
  }
  std::cout << "[ cases ] " << cases.size() << "\n";
  if (variant.algorithm == ConvAlgorithm::kWinograd) {
    RecordProperty("worst_diff_over_direct_tol", std::to_string(worst_vs_direct));
  }
}

std::string conv_variant_name(const ::testing::TestParamInfo<Variant>& info) {
  std::string name(kernel_choice_name(info.param.tier));
  if (info.param.algorithm == ConvAlgorithm::kWinograd) name += "_winograd";
  if (info.param.algorithm == ConvAlgorithm::kIm2col) name += "_im2col";
  if (info.param.algorithm == ConvAlgorithm::kOnednn) name += "_onednn";
  if (info.param.algorithm == ConvAlgorithm::kOnednnNchw) name += "_onednn_nchw";
  return name;
}

INSTANTIATE_TEST_SUITE_P(AllTiers, ConvF32Variants, ::testing::ValuesIn(all_variants()),
                         conv_variant_name);

// --- The reference against values derived by hand -----------------------------------------

TEST(Conv2dF32Ref, BoxFilterCountsTheTapsInsideThePaddedImage) {
  // All-ones 1×4×5 image, all-ones 3×3 kernel, pad 1: each output counts the taps that land
  // inside the image: 4 at corners, 6 on edges, 9 inside; bias 0.5 is added.
  Conv2dParams p;
  p.in_c = 1;
  p.in_h = 4;
  p.in_w = 5;
  p.out_c = 1;
  p.kernel_h = 3;
  p.kernel_w = 3;
  p.pad_top = p.pad_left = p.pad_bottom = p.pad_right = 1;
  std::vector<float> x(20, 1.0f), w(9, 1.0f), b{0.5f}, y(20);
  ASSERT_TRUE(conv2d_f32_ref(p, x, w, b, y).ok());
  const float want[4][5] = {{4, 6, 6, 6, 4}, {6, 9, 9, 9, 6}, {6, 9, 9, 9, 6}, {4, 6, 6, 6, 4}};
  for (int i = 0; i < 4; ++i) {
    for (int j = 0; j < 5; ++j) EXPECT_EQ(y[i * 5 + j], want[i][j] + 0.5f) << i << "," << j;
  }
}

TEST(Conv2dF32Ref, StrideDilationAndGroupsSelectTheRightTaps) {
  // 2 groups, 1 channel each; x[c][i] = 10·c + i on a 1×7 row; kernel [1, 0, -1] dilated by 2,
  // stride 2: y[g][o] = x[g][2o] − x[g][2o+4] = −4 for every o (o = 0, 1); second group's
  // weight is doubled → −8; then relu → 0 and leaky(0.5) → half.
  Conv2dParams p;
  p.in_c = 2;
  p.in_h = 1;
  p.in_w = 7;
  p.out_c = 2;
  p.kernel_w = 3;
  p.stride_w = 2;
  p.dilation_w = 2;
  p.groups = 2;
  std::vector<float> x(14), w{1, 0, -1, 2, 0, -2}, y(4);
  for (int c = 0; c < 2; ++c)
    for (int i = 0; i < 7; ++i) x[c * 7 + i] = static_cast<float>(10 * c + i);
  ASSERT_EQ(p.out_w(), 2);
  ASSERT_TRUE(conv2d_f32_ref(p, x, w, {}, y).ok());
  EXPECT_EQ(y, (std::vector<float>{-4, -4, -8, -8}));
  p.act = Activation::relu();
  ASSERT_TRUE(conv2d_f32_ref(p, x, w, {}, y).ok());
  EXPECT_EQ(y, (std::vector<float>{0, 0, 0, 0}));
  p.act = Activation::leaky_relu(0.5f);
  ASSERT_TRUE(conv2d_f32_ref(p, x, w, {}, y).ok());
  EXPECT_EQ(y, (std::vector<float>{-2, -2, -4, -4}));
}

TEST(Conv2dF32Ref, ClipActivationBoundsTheOutput) {
  EXPECT_EQ(Activation::clip(0, 6).apply(7.5f), 6.0f);
  EXPECT_EQ(Activation::clip(0, 6).apply(-1.0f), 0.0f);
  EXPECT_EQ(Activation::clip(0, 6).apply(3.0f), 3.0f);
  EXPECT_EQ(Activation::relu().apply(-0.0f), 0.0f);
}

// --- Bad input ------------------------------------------------------------------------------

Conv2dParams small_params() {
  Conv2dParams p;
  p.in_c = 4;
  p.in_h = 5;
  p.in_w = 5;
  p.out_c = 6;
  p.kernel_h = 3;
  p.kernel_w = 3;
  return p;
}

TEST(Conv2dF32Prepare, RejectsInvalidParamsWithAClearMessage) {
  struct Bad {
    const char* what;
    void (*mutate)(Conv2dParams&);
    const char* needle;
  };
  const Bad bad[] = {
      {"groups", [](Conv2dParams& p) { p.groups = 3; }, "groups = 3"},
      {"kernel", [](Conv2dParams& p) { p.kernel_h = 9; }, "output size"},
      // Padded extent 5 < kernel 6: (5 − 6)/2 truncates to 0, which must not make a 1-row output.
      {"kernel_strided",
       [](Conv2dParams& p) {
         p.kernel_h = 6;
         p.stride_h = 2;
       },
       "output size"},
      {"stride", [](Conv2dParams& p) { p.stride_w = 0; }, "stride_w = 0"},
      {"pad", [](Conv2dParams& p) { p.pad_left = -1; }, "pad_left = -1"},
      {"in_c", [](Conv2dParams& p) { p.in_c = 0; }, "in_c = 0"},
      {"clip", [](Conv2dParams& p) { p.act = Activation::clip(1, 0); }, "clip min = 1"},
      {"huge", [](Conv2dParams& p) { p.in_h = p.in_w = 1 << 20; }, "must be <= 2^30"},
  };
  for (const Bad& b : bad) {
    Conv2dParams p = small_params();
    b.mutate(p);
    const std::vector<float> w(static_cast<size_t>(std::max<int64_t>(0, p.weight_size()) % 100000));
    Result<Conv2dF32> r = Conv2dF32::prepare(p, w, {});
    ASSERT_FALSE(r.ok()) << b.what;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << b.what;
    EXPECT_NE(r.status().message().find(b.needle), std::string::npos) << r.status().message();
    EXPECT_EQ(r.status().message().rfind("cannot prepare conv2d: ", 0), 0u) << r.status().message();
  }
}

TEST(Conv2dF32Prepare, RejectsWrongWeightAndBiasSizes) {
  const Conv2dParams p = small_params();
  const std::vector<float> w(static_cast<size_t>(p.weight_size()));
  Result<Conv2dF32> r1 = Conv2dF32::prepare(p, std::span(w).first(w.size() - 1), {});
  ASSERT_FALSE(r1.ok());
  EXPECT_NE(r1.status().message().find("weight size = 215, must be 216"), std::string::npos)
      << r1.status().message();
  const std::vector<float> b(5);
  Result<Conv2dF32> r2 = Conv2dF32::prepare(p, w, b);
  ASSERT_FALSE(r2.ok());
  EXPECT_NE(r2.status().message().find("bias size = 5"), std::string::npos)
      << r2.status().message();
}

TEST(Conv2dF32Ref, RejectsMismatchedSpans) {
  Conv2dParams p = small_params();
  p.batch = 2;
  std::vector<float> x(static_cast<size_t>(p.in_size())), w(static_cast<size_t>(p.weight_size())),
      y(static_cast<size_t>(2 * p.out_size()));
  const Status s = conv2d_f32_ref(p, x, w, {}, y);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("input size = 100, must be 200"), std::string::npos) << s.message();
}

TEST(Conv2dF32Prepare, RejectsWinogradWhereItDoesNotApply) {
  struct Bad {
    const char* what;
    void (*mutate)(Conv2dParams&);
  };
  const Bad bad[] = {
      {"5x5", [](Conv2dParams& p) { p.kernel_h = p.kernel_w = 5; }},
      {"3x1", [](Conv2dParams& p) { p.kernel_w = 1; }},
      {"stride 2", [](Conv2dParams& p) { p.stride_w = 2; }},
      {"dilation 2", [](Conv2dParams& p) { p.dilation_h = 2; }},
      {"groups 2", [](Conv2dParams& p) { p.groups = 2; }},
  };
  for (const Bad& b : bad) {
    Conv2dParams p = small_params();
    p.pad_top = p.pad_left = p.pad_bottom = p.pad_right = 2;
    b.mutate(p);
    ASSERT_TRUE(p.validate().ok()) << b.what;
    EXPECT_FALSE(winograd_applicable(p)) << b.what;
    const std::vector<float> w(static_cast<size_t>(p.weight_size()));
    Result<Conv2dF32> r =
        Conv2dF32::prepare(p, w, {}, KernelChoice::kGeneric, ConvAlgorithm::kWinograd);
    ASSERT_FALSE(r.ok()) << b.what;
    EXPECT_EQ(r.status().code(), StatusCode::kUnsupported) << b.what;
    EXPECT_NE(r.status().message().find("algorithm = winograd, must be a 3x3, stride 1"),
              std::string::npos)
        << r.status().message();
    // kAuto falls back to the direct plan.
    Result<Conv2dF32> a = Conv2dF32::prepare(p, w, {}, KernelChoice::kGeneric);
    ASSERT_TRUE(a.ok()) << a.status().message();
    EXPECT_EQ(a->algorithm(), ConvAlgorithm::kDirect) << b.what;
  }
  const Conv2dParams p = small_params();
  Result<Conv2dF32> r = Conv2dF32::prepare(p, std::vector<float>(216), {}, KernelChoice::kRef,
                                           ConvAlgorithm::kWinograd);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("kernel = ref"), std::string::npos) << r.status().message();
}

TEST(Conv2dF32Winograd, DocumentedCoefficientsMatchTheTransformMatrices) {
  // f32_winograd.h states C[i][a][p] of the error bound; the test helper derives it from
  // Aᵀ, G and Bᵀ. Both must agree, the direct taps (p = i + a) must have weight 1 and each
  // C[i] must sum to 8 (the 64/9 amplification quoted in both places).
  const testing::WinogradAbsCoeff c = testing::winograd_f23_abs_coeff();
  for (int i = 0; i < 2; ++i) {
    double sum = 0;
    for (int a = 0; a < 3; ++a) {
      EXPECT_EQ(c[i][a][i + a], 1.0) << i << "," << a;
      for (int p = 0; p < 4; ++p) {
        EXPECT_EQ(c[i][a][p], kWinogradF23AbsCoeff[i][a][p]) << i << "," << a << "," << p;
        sum += c[i][a][p];
      }
    }
    EXPECT_EQ(sum, 8.0) << i;
  }
}

TEST(Conv2dF32Winograd, TransformedWeightsAreGgGt) {
  // A kernel with one non-zero tap (a, b) = 1: U[u][v] = G[u][a]·G[v][b], packed at
  // upack[(block·16 + 4u + v)·in_c + ic][r].
  const double kG[4][3] = {{1, 0, 0}, {0.5, 0.5, 0.5}, {0.5, -0.5, 0.5}, {0, 0, 1}};
  for (int tap = 0; tap < 9; ++tap) {
    const int ta = tap / 3, tb = tap % 3;
    std::vector<float> w(2 * 1 * 9, 0.0f);  // out_c 2, in_c 1; oc 1 carries the tap
    w[9 + tap] = 1.0f;
    std::vector<float> upack(16 * 4, -1.0f);  // mr = 4: one block
    winograd_f23_pack_weights(w, 2, 1, 4, upack.data());
    for (int u = 0; u < 4; ++u) {
      for (int v = 0; v < 4; ++v) {
        EXPECT_EQ(upack[(u * 4 + v) * 4 + 0], 0.0f) << tap;
        EXPECT_EQ(upack[(u * 4 + v) * 4 + 1], static_cast<float>(kG[u][ta] * kG[v][tb]))
            << tap << " " << u << v;
      }
    }
  }
}

TEST(Conv2dF32Dispatch, AutoPicksWinogradWhereItPaysOff) {
  for (KernelChoice k : {KernelChoice::kGeneric, KernelChoice::kAvx2, KernelChoice::kAvx512}) {
    if (!kernel_choice_available(k)) continue;
    Conv2dParams p;
    p.in_c = p.out_c = 16;
    p.in_h = p.in_w = 32;
    p.kernel_h = p.kernel_w = 3;
    p.pad_top = p.pad_left = p.pad_bottom = p.pad_right = 1;
    const std::vector<float> w(static_cast<size_t>(p.weight_size()));
    Result<Conv2dF32> r = Conv2dF32::prepare(p, w, {}, k);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->algorithm(), ConvAlgorithm::kWinograd);
    EXPECT_EQ(r->variant_name(), std::string(kernel_choice_name(k)) + "/winograd");
    p.in_c = 3;  // the stem: too few channels for the transforms to pay
    Result<Conv2dF32> stem = Conv2dF32::prepare(p, std::vector<float>(16 * 27), {}, k);
    ASSERT_TRUE(stem.ok());
    EXPECT_EQ(stem->algorithm(), ConvAlgorithm::kDirect);
    EXPECT_EQ(stem->variant_name(), kernel_choice_name(k));
  }
}

TEST(Conv2dF32Dispatch, AutoPicksIm2colForNarrowOutputsOnAvx512Only) {
  // Like ResNet-18's layer4.0.conv1 at a small channel count: 3×3 stride 2 to a 7-wide output
  // (10×7: 7 of 16 lanes per row vector; 70 of 80 lanes flattened).
  Conv2dParams p;
  p.in_c = 16;
  p.out_c = 32;
  p.in_h = 20;
  p.in_w = 14;
  p.kernel_h = p.kernel_w = 3;
  p.stride_h = p.stride_w = 2;
  p.pad_top = p.pad_left = p.pad_bottom = p.pad_right = 1;
  const std::vector<float> w(static_cast<size_t>(p.weight_size()));
  for (KernelChoice k : {KernelChoice::kGeneric, KernelChoice::kAvx2, KernelChoice::kAvx512}) {
    if (!kernel_choice_available(k)) continue;
    Result<Conv2dF32> r = Conv2dF32::prepare(p, w, {}, k);
    ASSERT_TRUE(r.ok());
    const bool want = k == KernelChoice::kAvx512;
    EXPECT_EQ(r->algorithm() == ConvAlgorithm::kIm2col, want) << kernel_choice_name(k);
    EXPECT_EQ(r->variant_name(),
              std::string(kernel_choice_name(k)) + (want ? "/im2col" : std::string()));
    // Forced, it is available on every fast tier; not on the reference.
    Result<Conv2dF32> forced = Conv2dF32::prepare(p, w, {}, k, ConvAlgorithm::kIm2col);
    ASSERT_TRUE(forced.ok());
    EXPECT_EQ(forced->algorithm(), ConvAlgorithm::kIm2col);
  }
  Result<Conv2dF32> ref = Conv2dF32::prepare(p, w, {}, KernelChoice::kRef, ConvAlgorithm::kIm2col);
  ASSERT_FALSE(ref.ok());
  EXPECT_NE(ref.status().message().find("algorithm = im2col, must be direct or auto"),
            std::string::npos)
      << ref.status().message();
}

// Stride-1 unpadded 1×1 layers read the input in place over the flattened plane; when the
// pixel count is not a multiple of the lanes, the partial last vector runs on a staged copy of
// its lanes. Seeded random pixel counts (remainders 0..15 of 16 and 0..7 of 8, planes smaller
// than one vector, 1-row and 1-column planes), channels 1..37, groups 1..3, every activation:
// bit-exact with the forced im2col plan (the same micro-kernels and sums in the same order)
// and within the tolerance of the reference; NaN-filled output and scratch.
TEST(Conv2dF32Pointwise, FlatPlanWithStagedTailIsBitExactWithIm2col) {
  constexpr uint64_t kSeed = 20261207;
  std::cout << "[ seed ] " << kSeed << "\n";
  Rng rng(kSeed);
  const int64_t sides[] = {1, 2, 3, 5, 7, 9, 13, 14, 15, 16, 17, 27, 31, 33, 55};
  const int64_t chans[] = {1, 2, 3, 4, 5, 8, 13, 16, 17, 24, 37};
  int checked = 0;
  for (int i = 0; i < 40; ++i) {
    Conv2dParams p;
    p.groups = rng.uniform_int(0, 3) == 0 ? rng.uniform_int(2, 3) : 1;
    p.in_c = p.groups * chans[rng.uniform_int(0, 10)];
    p.out_c = p.groups * chans[rng.uniform_int(0, 10)];
    p.in_h = sides[rng.uniform_int(0, 14)];
    p.in_w = sides[rng.uniform_int(0, 14)];
    if (p.in_h * p.in_w > 1024) p.in_h = 7;  // keep the sanitizer run short
    p.act = random_activation(rng, {Activation::none(), Activation::relu(),
                                    Activation::clip(0.0f, 6.0f), Activation::leaky_relu(0.2f)});
    const int64_t batch = rng.uniform_int(1, 3);
    SCOPED_TRACE(::testing::Message()
                 << "seed " << kSeed << ", case " << i << ": " << p.in_c << "x" << p.in_h << "x"
                 << p.in_w << " -> " << p.out_c << " groups " << p.groups << ", batch " << batch);
    const std::vector<float> w = random_vector(rng, p.weight_size(), -1.0f, 1.0f);
    const std::vector<float> b = random_vector(rng, p.out_c, -1.0f, 1.0f);
    const std::vector<float> x = random_vector(rng, batch * p.in_size(), -2.0f, 2.0f);
    std::vector<float> want, magnitude;
    ASSERT_NO_FATAL_FAILURE(reference_and_magnitude(p, batch, x, w, b, want, magnitude));
    for (KernelChoice k : {KernelChoice::kGeneric, KernelChoice::kAvx2, KernelChoice::kAvx512}) {
      if (!kernel_choice_available(k)) continue;
      SCOPED_TRACE(kernel_choice_name(k));
      const auto run = [&](ConvAlgorithm algo, std::vector<float>& y) {
        Result<Conv2dF32> conv = Conv2dF32::prepare(p, w, b, k, algo);
        ASSERT_TRUE(conv.ok()) << conv.status().message();
        y.assign(want.size(), std::numeric_limits<float>::quiet_NaN());
        std::vector<float> scratch(conv->scratch_bytes(batch) / sizeof(float),
                                   std::numeric_limits<float>::quiet_NaN());
        conv->run(x.data(), y.data(), batch, scratch.data());
        if (algo == ConvAlgorithm::kAuto) {  // in place: the flat direct or transposed plan
          EXPECT_TRUE(conv->algorithm() == ConvAlgorithm::kDirect ||
                      conv->algorithm() == ConvAlgorithm::kTransposed)
              << conv_algorithm_name(conv->algorithm());
        }
      };
      std::vector<float> flat, im2col;
      run(ConvAlgorithm::kAuto, flat);
      run(ConvAlgorithm::kIm2col, im2col);
      if (HasFatalFailure()) return;
      expect_close(flat, want, magnitude, p.k());
      ASSERT_EQ(0, std::memcmp(flat.data(), im2col.data(), sizeof(float) * flat.size()));
      ++checked;
    }
  }
  EXPECT_GE(checked, 40);  // the generic tier runs everywhere
}

// One random depthwise layer `p` (weights, bias when `with_bias`, a batch of inputs drawn from
// `rng` in that order) on the AVX-512 tier, which must take `plan`, and on the AVX2 tier's staged
// kernel: within the reference's tolerance, and bit-exact with each other (NaN-filled outputs).
void expect_avx512_plan_bit_exact_with_avx2(const Conv2dParams& p, bool with_bias, int64_t batch,
                                            Rng& rng, const std::string& plan) {
  const std::vector<float> w = random_vector(rng, p.weight_size(), -1.0f, 1.0f);
  const std::vector<float> b =
      with_bias ? random_vector(rng, p.out_c, -1.0f, 1.0f) : std::vector<float>{};
  const std::vector<float> x = random_vector(rng, batch * p.in_size(), -2.0f, 2.0f);
  std::vector<float> want, magnitude;
  ASSERT_NO_FATAL_FAILURE(reference_and_magnitude(p, batch, x, w, b, want, magnitude));
  std::vector<float> got[2];
  for (int t = 0; t < 2; ++t) {
    const KernelChoice k = t == 0 ? KernelChoice::kAvx512 : KernelChoice::kAvx2;
    Result<Conv2dF32> conv = Conv2dF32::prepare(p, w, b, k);
    ASSERT_TRUE(conv.ok()) << conv.status().message();
    EXPECT_EQ(conv->variant_name(), t == 0 ? plan : "avx2");
    got[t].assign(want.size(), std::numeric_limits<float>::quiet_NaN());
    std::vector<float> scratch(conv->scratch_bytes(batch) / sizeof(float),
                               std::numeric_limits<float>::quiet_NaN());
    conv->run(x.data(), got[t].data(), batch, scratch.data());
  }
  expect_close(got[0], want, magnitude, p.k());
  ASSERT_EQ(0, std::memcmp(got[0].data(), got[1].data(), sizeof(float) * want.size()));
}

// The AVX-512 depthwise plan over the flattened plane (stride 1, "same" padding, 3×3 / 5×5):
// lanes whose input pixel is outside the image are masked to 0, so every output is the staged
// plan's sum (bias, then the taps in order by FMA): bit-exact with the AVX2 tier's staged
// depthwise kernel, and within the tolerance of the reference. Seeded random planes (1..40
// wide, 1..23 high: planes below, at and around multiples of 16), channels 1..13, asymmetric
// pads, every activation, batches 1..3; NaN-filled outputs.
TEST(Conv2dF32Depthwise, FlatPlanIsBitExactWithTheStagedPlan) {
  if (!kernel_choice_available(KernelChoice::kAvx512) ||
      !kernel_choice_available(KernelChoice::kAvx2)) {
    GTEST_SKIP() << "needs AVX-512 (the plan) and AVX2 (the staged plan to compare with)";
  }
  constexpr uint64_t kSeed = 20261208;
  std::cout << "[ seed ] " << kSeed << "\n";
  Rng rng(kSeed);
  for (int i = 0; i < 40; ++i) {
    Conv2dParams p;
    p.in_c = p.out_c = p.groups = rng.uniform_int(1, 13);
    p.kernel_h = p.kernel_w = rng.uniform_int(0, 1) == 0 ? 3 : 5;
    p.in_h = rng.uniform_int(1, 23);
    p.in_w = rng.uniform_int(1, 40);
    p.pad_top = rng.uniform_int(0, p.kernel_h - 1);
    p.pad_bottom = p.kernel_h - 1 - p.pad_top;
    p.pad_left = rng.uniform_int(0, p.kernel_w - 1);
    p.pad_right = p.kernel_w - 1 - p.pad_left;
    p.act = random_activation(rng, {Activation::none(), Activation::relu(),
                                    Activation::clip(0.0f, 6.0f), Activation::leaky_relu(0.2f)});
    const bool with_bias = rng.uniform_int(0, 3) != 0;
    const int64_t batch = rng.uniform_int(1, 3);
    SCOPED_TRACE(::testing::Message() << "seed " << kSeed << ", case " << i << ": " << p.in_c << "x"
                                      << p.in_h << "x" << p.in_w << " k" << p.kernel_h << " pads "
                                      << p.pad_top << "," << p.pad_left << ", batch " << batch);
    ASSERT_NO_FATAL_FAILURE(
        expect_avx512_plan_bit_exact_with_avx2(p, with_bias, batch, rng, "avx512/depthwise-flat"));
  }
}

// The AVX-512 stride-2 depthwise plan (3×3 / 5×5, any pads): rows read in place, even / odd
// columns split in registers, padding read as 0: bit-exact with the AVX2 tier's staged
// depthwise kernel and within the tolerance of the reference. Seeded random rows 1..70 wide
// (1..35 outputs: 1, 2 and 3 vectors, partial ones), heights 1..23, pads 0..4 on each side
// independently, every activation, batches 1..3.
TEST(Conv2dF32Depthwise, StrideTwoPlanIsBitExactWithTheStagedPlan) {
  if (!kernel_choice_available(KernelChoice::kAvx512) ||
      !kernel_choice_available(KernelChoice::kAvx2)) {
    GTEST_SKIP() << "needs AVX-512 (the plan) and AVX2 (the staged plan to compare with)";
  }
  constexpr uint64_t kSeed = 20261209;
  std::cout << "[ seed ] " << kSeed << "\n";
  Rng rng(kSeed);
  for (int i = 0; i < 60; ++i) {
    Conv2dParams p;
    p.in_c = p.out_c = p.groups = rng.uniform_int(1, 19);
    p.kernel_h = p.kernel_w = rng.uniform_int(0, 1) == 0 ? 3 : 5;
    p.stride_h = p.stride_w = 2;
    p.in_h = rng.uniform_int(1, 23);
    p.in_w = rng.uniform_int(1, 70);
    p.pad_top = rng.uniform_int(0, p.kernel_h - 1);
    p.pad_bottom = rng.uniform_int(0, p.kernel_h - 1);
    p.pad_left = rng.uniform_int(0, p.kernel_w - 1);
    p.pad_right = rng.uniform_int(0, p.kernel_w - 1);
    while (p.out_h() < 1) ++p.in_h;
    while (p.out_w() < 1) ++p.in_w;
    p.act = random_activation(rng, {Activation::none(), Activation::relu(),
                                    Activation::clip(0.0f, 6.0f), Activation::leaky_relu(0.2f)});
    const bool with_bias = rng.uniform_int(0, 3) != 0;
    const int64_t batch = rng.uniform_int(1, 3);
    SCOPED_TRACE(::testing::Message()
                 << "seed " << kSeed << ", case " << i << ": " << p.in_c << "x" << p.in_h << "x"
                 << p.in_w << " k" << p.kernel_h << " pads " << p.pad_top << "," << p.pad_left
                 << "," << p.pad_bottom << "," << p.pad_right << ", batch " << batch);
    ASSERT_NO_FATAL_FAILURE(
        expect_avx512_plan_bit_exact_with_avx2(p, with_bias, batch, rng, "avx512/depthwise-s2"));
  }
}

// The transposed pointwise plan (AVX-512: output channels in the lanes, pixels broadcast):
// bit-exact with the direct plan (its K blocks included) and with the AVX2 tier, within the
// reference's tolerance. Seeded random 1×1 layers: planes 1..81 (below, at and above 7 and
// 16·k), out_c 1..110 (remainders of the 48-channel blocks), K 1..300 (across the direct
// plan's K blocks), every activation incl. SiLU, bias or not, batches 1..3; NaN-filled outputs.
TEST(Conv2dF32Pointwise, TransposedPlanIsBitExactWithTheDirectPlan) {
  if (!kernel_choice_available(KernelChoice::kAvx512)) GTEST_SKIP() << "needs AVX-512";
  constexpr uint64_t kSeed = 20261212;
  std::cout << "[ seed ] " << kSeed << "\n";
  Rng rng(kSeed);
  const float nan = std::numeric_limits<float>::quiet_NaN();
  for (int i = 0; i < 40; ++i) {
    Conv2dParams p;
    p.in_c = rng.uniform_int(0, 3) == 0 ? rng.uniform_int(129, 300) : rng.uniform_int(1, 70);
    p.out_c = rng.uniform_int(1, 110);
    p.in_h = rng.uniform_int(1, 9);
    p.in_w = rng.uniform_int(1, 9);
    p.act = random_activation(rng,
                              {Activation::none(), Activation::relu(), Activation::clip(0.0f, 6.0f),
                               Activation::leaky_relu(0.2f), Activation::silu()});
    const bool with_bias = rng.uniform_int(0, 3) != 0;
    const int64_t batch = rng.uniform_int(1, 3);
    SCOPED_TRACE(::testing::Message() << "seed " << kSeed << ", case " << i << ": " << p.in_c << "x"
                                      << p.in_h << "x" << p.in_w << " -> " << p.out_c << ", act "
                                      << static_cast<int>(p.act.kind) << ", batch " << batch);
    const std::vector<float> w = random_vector(rng, p.weight_size(), -1.0f, 1.0f);
    const std::vector<float> b =
        with_bias ? random_vector(rng, p.out_c, -1.0f, 1.0f) : std::vector<float>{};
    const std::vector<float> x = random_vector(rng, batch * p.in_size(), -2.0f, 2.0f);
    const size_t n = static_cast<size_t>(batch * p.out_size());
    std::vector<float> got[3];
    const struct {
      KernelChoice tier;
      ConvAlgorithm algo;
      const char* variant;
    } plans[3] = {{KernelChoice::kAvx512, ConvAlgorithm::kTransposed, "avx512/transposed"},
                  {KernelChoice::kAvx512, ConvAlgorithm::kDirect, nullptr},
                  {KernelChoice::kAvx2, ConvAlgorithm::kDirect, "avx2"}};
    for (int t = 0; t < 3; ++t) {
      Result<Conv2dF32> conv = Conv2dF32::prepare(p, w, b, plans[t].tier, plans[t].algo);
      ASSERT_TRUE(conv.ok()) << conv.status().message();
      if (plans[t].variant != nullptr) {
        EXPECT_EQ(conv->variant_name(), plans[t].variant);
      }
      got[t].assign(n, nan);
      std::vector<float> scratch(conv->scratch_bytes(batch) / sizeof(float) + 1, nan);
      conv->run(x.data(), got[t].data(), batch, scratch.data());
    }
    ASSERT_EQ(0, std::memcmp(got[0].data(), got[1].data(), sizeof(float) * n)) << "vs direct";
    ASSERT_EQ(0, std::memcmp(got[0].data(), got[2].data(), sizeof(float) * n)) << "vs avx2";
    if (p.act.kind != ActKind::kSilu) {  // SiLU's bound: Conv2dF32Silu
      std::vector<float> want, magnitude;
      ASSERT_NO_FATAL_FAILURE(reference_and_magnitude(p, batch, x, w, b, want, magnitude));
      expect_close(got[0], want, magnitude, p.k());
    }
  }
}

// Auto takes the transposed plan for pointwise layers on small planes that waste pixel lanes
// (7×7, 1×1) on AVX-512 only; not where the plane fills the vectors (4×8 = 32) or is large.
TEST(Conv2dF32Dispatch, AutoPicksTheTransposedPlanForSmallPointwisePlanes) {
  const std::vector<float> w(320 * 1280, 0.01f);
  const auto variant = [&](int64_t in_c, int64_t h, int64_t wd, int64_t out_c, KernelChoice k) {
    Conv2dParams p;
    p.in_c = in_c;
    p.in_h = h;
    p.in_w = wd;
    p.out_c = out_c;
    Result<Conv2dF32> c = Conv2dF32::prepare(p, std::span(w).first(in_c * out_c), {}, k);
    EXPECT_TRUE(c.ok()) << c.status().message();
    return c.ok() ? std::string(c->variant_name()) : std::string();
  };
  if (kernel_choice_available(KernelChoice::kAvx512)) {
    EXPECT_EQ(variant(320, 7, 7, 1280, KernelChoice::kAuto), "avx512/transposed");
    EXPECT_EQ(variant(1152, 1, 1, 48, KernelChoice::kAuto), "avx512/transposed");
    EXPECT_NE(variant(64, 4, 8, 96, KernelChoice::kAuto), "avx512/transposed");
    EXPECT_NE(variant(64, 14, 14, 96, KernelChoice::kAuto), "avx512/transposed");
  }
  if (kernel_choice_available(KernelChoice::kAvx2)) {
    EXPECT_EQ(variant(320, 7, 7, 1280, KernelChoice::kAvx2), "avx2");
  }
  // Forced where it does not apply: one line, kUnsupported.
  Conv2dParams p3 = small_params();
  Result<Conv2dF32> c = Conv2dF32::prepare(p3, std::vector<float>(p3.weight_size(), 1.0f), {},
                                           KernelChoice::kAuto, ConvAlgorithm::kTransposed);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kUnsupported);
  EXPECT_NE(c.status().message().find("algorithm = transposed, must be a 1x1"), std::string::npos)
      << c.status().message();
}

// The SiLU epilogue (Activation::silu(), the executor's Conv → Sigmoid·x fusion) gives, on
// every fast tier and plan, the bits of the same convolution without activation followed by
// silu_f32 on that tier: fusing changes no result. And it is within the reference's tolerance
// (the conv's, times SiLU's Lipschitz constant 1.1, plus the fast Sigmoid's 3 ulp and the
// product's rounding; non-Winograd plans). Seeded random layers of the shapes EfficientNet's SiLUs
// follow — pointwise (flat plane, staged tail), depthwise 3×3 / 5×5 stride 1 "same" and stride 2, a
// 3×3 stride-2 stem, 3×3 stride 1 (Winograd) — and general ones; widths around 8 and 16
// lanes; batches 1..2; NaN-filled outputs and scratch.
TEST(Conv2dF32Silu, FusedEpilogueIsTheConvolutionThenSiluBitForBit) {
  constexpr uint64_t kSeed = 20261210;
  std::cout << "[ seed ] " << kSeed << "\n";
  Rng rng(kSeed);
  const float nan = std::numeric_limits<float>::quiet_NaN();
  int compared = 0;
  for (int i = 0; i < 48; ++i) {
    Conv2dParams p;
    const int kind = i % 6;
    const int64_t c = rng.uniform_int(1, 20);
    p.in_h = rng.uniform_int(1, 19);
    p.in_w = rng.uniform_int(1, 37);
    if (kind == 0) {  // pointwise
      p.in_c = c;
      p.out_c = rng.uniform_int(1, 24);
    } else if (kind == 1 || kind == 2) {  // depthwise, stride 1 "same" / stride 2
      p.in_c = p.out_c = p.groups = c;
      p.kernel_h = p.kernel_w = rng.uniform_int(0, 1) == 0 ? 3 : 5;
      p.stride_h = p.stride_w = kind == 1 ? 1 : 2;
      p.pad_top = p.pad_bottom = p.pad_left = p.pad_right = p.kernel_h / 2;
    } else if (kind == 3 || kind == 4) {  // 3×3 stride 2 (stem) / stride 1 (Winograd)
      p.in_c = rng.uniform_int(1, 5);
      p.out_c = rng.uniform_int(1, 33);
      p.kernel_h = p.kernel_w = 3;
      p.stride_h = p.stride_w = kind == 3 ? 2 : 1;
      p.pad_top = p.pad_bottom = p.pad_left = p.pad_right = 1;
    } else {  // general
      p.groups = rng.uniform_int(1, 2);
      p.in_c = p.groups * rng.uniform_int(1, 6);
      p.out_c = p.groups * rng.uniform_int(1, 12);
      p.kernel_h = rng.uniform_int(1, 4);
      p.kernel_w = rng.uniform_int(1, 4);
      p.stride_h = rng.uniform_int(1, 2);
      p.stride_w = rng.uniform_int(1, 2);
      p.pad_top = rng.uniform_int(0, 1);
      p.pad_left = rng.uniform_int(0, 1);
    }
    while (p.out_h() < 1) ++p.in_h;
    while (p.out_w() < 1) ++p.in_w;
    p.act = Activation::silu();
    const int64_t batch = rng.uniform_int(1, 2);
    SCOPED_TRACE(::testing::Message()
                 << "seed " << kSeed << ", case " << i << ": " << p.in_c << "x" << p.in_h << "x"
                 << p.in_w << " -> " << p.out_c << " k" << p.kernel_h << "x" << p.kernel_w << " s"
                 << p.stride_h << "x" << p.stride_w << " g" << p.groups << ", batch " << batch);
    const std::vector<float> w = random_vector(rng, p.weight_size(), -1.0f, 1.0f);
    const std::vector<float> b = random_vector(rng, p.out_c, -1.0f, 1.0f);
    const std::vector<float> x = random_vector(rng, batch * p.in_size(), -2.0f, 2.0f);
    const size_t n = static_cast<size_t>(batch * p.out_size());
    std::vector<float> want, magnitude;
    ASSERT_NO_FATAL_FAILURE(reference_and_magnitude(p, batch, x, w, b, want, magnitude));
    for (KernelChoice tier : registered_f32_kernels()) {
      if (tier == KernelChoice::kRef || !kernel_choice_available(tier)) continue;
      for (ConvAlgorithm algo :
           {ConvAlgorithm::kAuto, ConvAlgorithm::kDirect, ConvAlgorithm::kIm2col,
            ConvAlgorithm::kWinograd, ConvAlgorithm::kOnednn, ConvAlgorithm::kOnednnNchw}) {
        if (algo == ConvAlgorithm::kWinograd && !winograd_applicable(p)) continue;
        if ((algo == ConvAlgorithm::kOnednn || algo == ConvAlgorithm::kOnednnNchw) &&
            !onednn_conv_available(tier)) {
          continue;
        }
        Result<Conv2dF32> fused = Conv2dF32::prepare(p, w, b, tier, algo);
        Conv2dParams plain_p = p;
        plain_p.act = Activation::none();
        Result<Conv2dF32> plain = Conv2dF32::prepare(plain_p, w, b, tier, algo);
        ASSERT_TRUE(fused.ok()) << fused.status().message();
        ASSERT_TRUE(plain.ok()) << plain.status().message();
        ASSERT_EQ(fused->variant_name(), plain->variant_name());
        SCOPED_TRACE(std::string(fused->variant_name()));
        std::vector<float> got(n, nan), sep(n, nan);
        std::vector<float> scratch(
            std::max(fused->scratch_bytes(batch), plain->scratch_bytes(batch)) / sizeof(float) + 1,
            nan);
        fused->run(x.data(), got.data(), batch, scratch.data());
        std::fill(scratch.begin(), scratch.end(), nan);
        plain->run(x.data(), sep.data(), batch, scratch.data());
        silu_f32(tier, static_cast<int64_t>(n), sep.data(), sep.data());
        ASSERT_EQ(0, std::memcmp(got.data(), sep.data(), sizeof(float) * n));
        // Winograd's own bound is checked by ConvF32Variants; here the direct-sum bound.
        for (size_t e = 0; e < n && fused->algorithm() != ConvAlgorithm::kWinograd; ++e) {
          const double tol = 1.1 * testing::f32_tolerance(p.k(), magnitude[e]) +
                             4.0 * std::numeric_limits<float>::epsilon() * std::fabs(want[e]) +
                             1e-37;
          ASSERT_LE(std::fabs(static_cast<double>(got[e]) - want[e]), tol)
              << "element " << e << ": got " << got[e] << ", want " << want[e];
        }
        ++compared;
      }
    }
  }
  std::cout << "[ compared ] " << compared << " tier/plan/layer combinations\n";
  EXPECT_GT(compared, 48);
}

// SiLU is a convolution epilogue only: the Gemm refuses it with one line.
TEST(GemmF32Prepare, RefusesTheSiluEpilogue) {
  GemmParams p;
  p.m = 2;
  p.n = 3;
  p.k = 4;
  p.act = Activation::silu();
  const std::vector<float> b(12, 1.0f);
  Result<GemmF32> g = GemmF32::prepare(p, b, {});
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.status().message(),
            "cannot prepare gemm: activation = silu, must be none, relu, clip or leaky_relu");
}

TEST(Conv2dF32Dispatch, GroupedNarrowLayersTakeTheEightLaneRowsNotIm2col) {
  // Like RegNetX-400MF's groups of 16 channels, stride 2 to a narrow (9×9) output: im2col
  // would pay on the lanes but copies per group; auto takes the 8-lane row plan, the AVX2
  // tier's exactly.
  if (!kernel_choice_available(KernelChoice::kAvx512)) GTEST_SKIP() << "needs AVX-512";
  Conv2dParams p;
  p.in_c = p.out_c = 32;
  p.groups = 2;
  p.in_h = p.in_w = 18;
  p.kernel_h = p.kernel_w = 3;
  p.stride_h = p.stride_w = 2;
  p.pad_top = p.pad_left = p.pad_bottom = p.pad_right = 1;
  p.act = Activation::relu();
  Rng rng(20261210);
  const std::vector<float> w = random_vector(rng, p.weight_size(), -1.0f, 1.0f);
  const std::vector<float> b = random_vector(rng, p.out_c, -1.0f, 1.0f);
  const std::vector<float> x = random_vector(rng, 2 * p.in_size(), -2.0f, 2.0f);
  std::vector<float> got[2];
  for (int t = 0; t < 2; ++t) {
    const KernelChoice k = t == 0 ? KernelChoice::kAvx512 : KernelChoice::kAvx2;
    Result<Conv2dF32> conv = Conv2dF32::prepare(p, w, b, k);
    ASSERT_TRUE(conv.ok()) << conv.status().message();
    EXPECT_EQ(conv->algorithm(), ConvAlgorithm::kDirect);
    got[t].assign(static_cast<size_t>(2 * p.out_size()), 0.0f);
    std::vector<float> scratch(conv->scratch_bytes(2) / sizeof(float));
    conv->run(x.data(), got[t].data(), 2, scratch.data());
  }
  ASSERT_EQ(0, std::memcmp(got[0].data(), got[1].data(), sizeof(float) * got[0].size()));
  // Ungrouped, the same shape keeps im2col (AutoPicksIm2colForNarrowOutputsOnAvx512Only).
  p.groups = 1;
  Result<Conv2dF32> dense =
      Conv2dF32::prepare(p, std::vector<float>(static_cast<size_t>(p.weight_size())), {},
                         KernelChoice::kAvx512, ConvAlgorithm::kAuto);
  ASSERT_TRUE(dense.ok());
  EXPECT_EQ(dense->algorithm(), ConvAlgorithm::kIm2col);
}

TEST(Conv2dF32Dispatch, AutoPicksAnAvailableFastTier) {
  Result<Conv2dF32> r = Conv2dF32::prepare(small_params(), std::vector<float>(216), {});
  ASSERT_TRUE(r.ok());
  EXPECT_NE(r->choice(), KernelChoice::kAuto);
  EXPECT_NE(r->choice(), KernelChoice::kRef);
  EXPECT_TRUE(kernel_choice_available(r->choice()));
}

// --- oneDNN plans (ConvAlgorithm::kOnednn / kOnednnNchw) -------------------------------------

// Seeded random layers of every kind oneDNN's plans must cover (grouped, depthwise with and
// without a channel multiplier, strides 1–3, dilations, asymmetric pads, 1-D, channel counts
// off its 8/16 blocks) with every epilogue (Clip with infinite bounds included): within the
// direct-sum tolerance of the reference; NaN-filled output and scratch, so every output is
// written and no scratch is read before it is written (the blocked layouts' channel padding).
TEST(Conv2dF32Onednn, BothPlansMatchTheReferenceOnRandomLayersAndEveryEpilogue) {
  if (!onednn_conv_available(resolve_kernel_choice(KernelChoice::kAuto))) {
    GTEST_SKIP() << "oneDNN plans need oneDNN (EI8_WITH_ONEDNN, Debian libdnnl-dev) and AVX2";
  }
  constexpr uint64_t kSeed = 20261208;
  std::cout << "[ seed ] " << kSeed << "\n";
  Rng rng(kSeed);
  const float inf = std::numeric_limits<float>::infinity();
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const Activation acts[] = {Activation::none(),
                             Activation::relu(),
                             Activation::clip(0.0f, 6.0f),
                             Activation::clip(-inf, 0.5f),
                             Activation::clip(-0.5f, inf),
                             Activation::leaky_relu(0.1f),
                             Activation::leaky_relu(-0.5f),
                             Activation::silu()};
  const KernelChoice tier = resolve_kernel_choice(KernelChoice::kAuto);
  int checked = 0;
  for (int i = 0; i < 40; ++i) {
    Conv2dParams p;
    const int kind = i % 5;
    const bool one_d = kind == 4;
    if (kind == 0) {  // depthwise (channel multiplier 1 or 2)
      p.groups = rng.uniform_int(1, 37);
      p.in_c = p.groups;
      p.out_c = p.groups * rng.uniform_int(1, 2);
    } else if (kind == 1) {  // grouped
      p.groups = rng.uniform_int(2, 5);
      p.in_c = p.groups * rng.uniform_int(1, 9);
      p.out_c = p.groups * rng.uniform_int(1, 9);
    } else {  // dense, 2-D or 1-D
      p.in_c = rng.uniform_int(1, 40);
      p.out_c = rng.uniform_int(1, 40);
    }
    p.kernel_h = one_d ? 1 : rng.uniform_int(1, 5);
    p.kernel_w = rng.uniform_int(1, 5);
    p.stride_h = one_d ? 1 : rng.uniform_int(1, 3);
    p.stride_w = rng.uniform_int(1, 3);
    p.dilation_h = one_d ? 1 : rng.uniform_int(1, 2);
    p.dilation_w = rng.uniform_int(1, 2);
    p.pad_top = one_d ? 0 : rng.uniform_int(0, 2);
    p.pad_bottom = one_d ? 0 : rng.uniform_int(0, 2);
    p.pad_left = rng.uniform_int(0, 2);
    p.pad_right = rng.uniform_int(0, 2);
    p.in_h = one_d ? 1 : rng.uniform_int(1, 19);
    p.in_w = rng.uniform_int(1, one_d ? 70 : 23);
    while (p.out_h() < 1) ++p.in_h;
    while (p.out_w() < 1) ++p.in_w;
    p.act = acts[rng.uniform_int(0, 7)];
    const bool with_bias = rng.uniform_int(0, 3) != 0;
    const int64_t batch = rng.uniform_int(1, 3);
    SCOPED_TRACE(::testing::Message()
                 << "seed " << kSeed << ", case " << i << ": " << p.in_c << "x" << p.in_h << "x"
                 << p.in_w << " -> " << p.out_c << " k" << p.kernel_h << "x" << p.kernel_w << " s"
                 << p.stride_h << "x" << p.stride_w << " d" << p.dilation_h << "x" << p.dilation_w
                 << " p" << p.pad_top << "," << p.pad_left << "," << p.pad_bottom << ","
                 << p.pad_right << " g" << p.groups << " act " << static_cast<int>(p.act.kind)
                 << ", batch " << batch);
    const std::vector<float> w = random_vector(rng, p.weight_size(), -1.0f, 1.0f);
    const std::vector<float> b =
        with_bias ? random_vector(rng, p.out_c, -1.0f, 1.0f) : std::vector<float>{};
    const std::vector<float> x = random_vector(rng, batch * p.in_size(), -2.0f, 2.0f);
    const size_t n = static_cast<size_t>(batch * p.out_size());
    std::vector<float> want, magnitude;
    ASSERT_NO_FATAL_FAILURE(reference_and_magnitude(p, batch, x, w, b, want, magnitude));
    for (ConvAlgorithm algo : {ConvAlgorithm::kOnednn, ConvAlgorithm::kOnednnNchw}) {
      Result<Conv2dF32> conv = Conv2dF32::prepare(p, w, b, tier, algo);
      ASSERT_TRUE(conv.ok()) << conv.status().message();
      EXPECT_EQ(conv->algorithm(), algo);
      EXPECT_EQ(conv->variant_name().rfind(std::string(conv_algorithm_name(algo)) + "/", 0), 0u)
          << conv->variant_name();
      std::vector<float> got(n, nan);
      std::vector<float> scratch(conv->scratch_bytes(batch) / sizeof(float) + 1, nan);
      conv->run(x.data(), got.data(), batch, scratch.data());
      if (p.act.kind == ActKind::kSilu) {
        // SiLU's own rounding on top of the sum's (as Conv2dF32Silu checks for our plans).
        for (size_t e = 0; e < n; ++e) {
          const double tol = 1.1 * testing::f32_tolerance(p.k(), magnitude[e]) +
                             4.0 * std::numeric_limits<float>::epsilon() * std::fabs(want[e]) +
                             1e-37;
          ASSERT_LE(std::fabs(static_cast<double>(got[e]) - want[e]), tol)
              << "element " << e << ": got " << got[e] << ", want " << want[e];
        }
      } else {
        expect_close(got, want, magnitude, p.k());
      }
      // Deterministic: a second run gives the same bits.
      std::vector<float> again(n, nan);
      conv->run(x.data(), again.data(), batch, scratch.data());
      ASSERT_EQ(0, std::memcmp(got.data(), again.data(), sizeof(float) * n));
      ++checked;
    }
    if (HasFatalFailure()) return;
  }
  std::cout << "[ checked ] " << checked << " layer/plan pairs on tier " << kernel_choice_name(tier)
            << "\n";
}

// Where the oneDNN plans cannot run (the reference and generic tiers; a build without oneDNN)
// forcing them fails with one line naming the plan.
TEST(Conv2dF32Onednn, ForcingItWhereItCannotRunFailsWithAClearMessage) {
  const Conv2dParams p = small_params();
  const std::vector<float> w(static_cast<size_t>(p.weight_size()), 0.5f);
  for (KernelChoice tier : {KernelChoice::kRef, KernelChoice::kGeneric}) {
    for (ConvAlgorithm algo : {ConvAlgorithm::kOnednn, ConvAlgorithm::kOnednnNchw}) {
      Result<Conv2dF32> r = Conv2dF32::prepare(p, w, {}, tier, algo);
      ASSERT_FALSE(r.ok());
      EXPECT_EQ(r.status().code(), StatusCode::kUnsupported);
      EXPECT_EQ(r.status().message().rfind("cannot prepare conv2d: algorithm = onednn", 0), 0u)
          << r.status().message();
    }
  }
  // A fast tier where they are not offered (no oneDNN, or a tier below the process's own).
  for (KernelChoice tier : {KernelChoice::kAvx2, KernelChoice::kAvx512}) {
    if (!kernel_choice_available(tier) || onednn_conv_available(tier)) continue;
    Result<Conv2dF32> r = Conv2dF32::prepare(p, w, {}, tier, ConvAlgorithm::kOnednn);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.status().message().find("oneDNN"), std::string::npos) << r.status().message();
  }
}

}  // namespace
}  // namespace ei8::kernels
