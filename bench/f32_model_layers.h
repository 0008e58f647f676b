// The convolution layers of the small models the FP32 kernels are measured on (shared by the
// benchmarks of bench/): each is a Conv2dParams as the executor prepares it.
//
//   for (const ModelLayer& l : resnet_like_layers()) bench(l.p);
#pragma once

#include <string>
#include <vector>

#include "ei8/runtime/kernels/conv_f32.h"

namespace ei8::bench {

struct ModelLayer {
  std::string name;
  kernels::Conv2dParams p;
};

inline kernels::Conv2dParams conv(int64_t in_c, int64_t h, int64_t w, int64_t out_c, int64_t kh,
                                  int64_t kw, int64_t stride, int64_t pad_h, int64_t pad_w) {
  kernels::Conv2dParams p;
  p.in_c = in_c;
  p.in_h = h;
  p.in_w = w;
  p.out_c = out_c;
  p.kernel_h = kh;
  p.kernel_w = kw;
  p.stride_h = p.stride_w = stride;
  p.pad_top = p.pad_bottom = pad_h;
  p.pad_left = p.pad_right = pad_w;
  p.act = kernels::Activation::relu();
  return p;
}

// CIFAR ResNet-like, 3×32×32, stem + two residual blocks (the second downsamples with a 1×1
// stride-2 shortcut): 8.83 MMAC per sample, the model of research/ort_baseline.md.
inline std::vector<ModelLayer> resnet_like_layers() {
  return {
      {"stem_3x32x32_16", conv(3, 32, 32, 16, 3, 3, 1, 1, 1)},
      {"b1c1_16x32x32_16", conv(16, 32, 32, 16, 3, 3, 1, 1, 1)},
      {"b1c2_16x32x32_16", conv(16, 32, 32, 16, 3, 3, 1, 1, 1)},
      {"b2c1_16x32x32_32_s2", conv(16, 32, 32, 32, 3, 3, 2, 1, 1)},
      {"b2c2_32x16x16_32", conv(32, 16, 16, 32, 3, 3, 1, 1, 1)},
      {"b2sc_16x32x32_32_1x1s2", conv(16, 32, 32, 32, 1, 1, 2, 0, 0)},
  };
}

// 1-D signal CNN, 1×128: Conv1d 1→16→32→64, kernel 3, pad 1, MaxPool 2 after each
// (0.30 MMAC per sample).
inline std::vector<ModelLayer> signal_cnn_layers() {
  return {
      {"sig_c1_1x128_16_k3", conv(1, 1, 128, 16, 1, 3, 1, 0, 1)},
      {"sig_c2_16x64_32_k3", conv(16, 1, 64, 32, 1, 3, 1, 0, 1)},
      {"sig_c3_32x32_64_k3", conv(32, 1, 32, 64, 1, 3, 1, 0, 1)},
  };
}

// TinyCNN2D of the training issue (3×[conv 3×3 + BN + ReLU + MaxPool 2], 32→64→128 on
// 3×32×32): 10.3 MMAC per sample.
inline std::vector<ModelLayer> tiny_cnn2d_layers() {
  return {
      {"tiny_c1_3x32x32_32", conv(3, 32, 32, 32, 3, 3, 1, 1, 1)},
      {"tiny_c2_32x16x16_64", conv(32, 16, 16, 64, 3, 3, 1, 1, 1)},
      {"tiny_c3_64x8x8_128", conv(64, 8, 8, 128, 3, 3, 1, 1, 1)},
  };
}

// The distinct convolution shapes of torchvision's ResNet-18 at 224×224 (batch 1): 1.81 GMAC
// per image; the count says how often each shape occurs in the model.
struct CountedLayer {
  std::string name;
  kernels::Conv2dParams p;
  int count;
};

inline std::vector<CountedLayer> resnet18_layers() {
  return {
      {"r18_conv1_3x224_64_7x7s2", conv(3, 224, 224, 64, 7, 7, 2, 3, 3), 1},
      {"r18_l1_64x56_64", conv(64, 56, 56, 64, 3, 3, 1, 1, 1), 4},
      {"r18_l2a_64x56_128_s2", conv(64, 56, 56, 128, 3, 3, 2, 1, 1), 1},
      {"r18_l2ds_64x56_128_1x1s2", conv(64, 56, 56, 128, 1, 1, 2, 0, 0), 1},
      {"r18_l2_128x28_128", conv(128, 28, 28, 128, 3, 3, 1, 1, 1), 3},
      {"r18_l3a_128x28_256_s2", conv(128, 28, 28, 256, 3, 3, 2, 1, 1), 1},
      {"r18_l3ds_128x28_256_1x1s2", conv(128, 28, 28, 256, 1, 1, 2, 0, 0), 1},
      {"r18_l3_256x14_256", conv(256, 14, 14, 256, 3, 3, 1, 1, 1), 3},
      {"r18_l4a_256x14_512_s2", conv(256, 14, 14, 512, 3, 3, 2, 1, 1), 1},
      {"r18_l4ds_256x14_512_1x1s2", conv(256, 14, 14, 512, 1, 1, 2, 0, 0), 1},
      {"r18_l4_512x7_512", conv(512, 7, 7, 512, 3, 3, 1, 1, 1), 3},
  };
}

// Depthwise 3×3 (ReLU6) and pointwise 1×1 shapes of torchvision's MobileNetV2 at 224×224.
inline std::vector<CountedLayer> mobilenet_v2_layers() {
  const auto dw = [](int64_t c, int64_t hw, int64_t stride) {
    kernels::Conv2dParams p = conv(c, hw, hw, c, 3, 3, stride, 1, 1);
    p.groups = c;
    p.act = kernels::Activation::clip(0.0f, 6.0f);
    return p;
  };
  const auto pw = [](int64_t c, int64_t hw, int64_t out, bool relu6) {
    kernels::Conv2dParams p = conv(c, hw, hw, out, 1, 1, 1, 0, 0);
    p.act = relu6 ? kernels::Activation::clip(0.0f, 6.0f) : kernels::Activation::none();
    return p;
  };
  return {
      {"mv2_stem_3x224_32_s2", conv(3, 224, 224, 32, 3, 3, 2, 1, 1), 1},
      {"mv2_dw_32x112_s1", dw(32, 112, 1), 1},
      {"mv2_pw_32x112_16", pw(32, 112, 16, false), 1},
      {"mv2_pw_16x112_96", pw(16, 112, 96, true), 1},
      {"mv2_dw_96x112_s2", dw(96, 112, 2), 1},
      {"mv2_pw_96x56_24", pw(96, 56, 24, false), 1},
      {"mv2_pw_24x56_144", pw(24, 56, 144, true), 2},
      {"mv2_dw_144x56_s1", dw(144, 56, 1), 1},
      {"mv2_pw_144x56_24", pw(144, 56, 24, false), 1},
      {"mv2_dw_192x28_s1", dw(192, 28, 1), 2},
      {"mv2_pw_192x28_32", pw(192, 28, 32, false), 2},
      {"mv2_dw_384x14_s1", dw(384, 14, 1), 4},
      {"mv2_pw_384x14_64", pw(384, 14, 64, false), 3},
      {"mv2_pw_64x14_384", pw(64, 14, 384, true), 4},
      {"mv2_dw_576x14_s2", dw(576, 14, 2), 1},
      {"mv2_dw_960x7_s1", dw(960, 7, 1), 3},
      {"mv2_pw_960x7_320", pw(960, 7, 320, false), 1},
      {"mv2_pw_320x7_1280", pw(320, 7, 1280, true), 1},
  };
}

}  // namespace ei8::bench
