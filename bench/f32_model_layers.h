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

// Layers of the 224×224 architectures (torchvision 0.14): ResNet-18 stages (56, 28, 14, 7) and
// its 7×7 stride-2 stem, MobileNetV2 pointwise layers, SqueezeNet's fire expand 3×3.
inline std::vector<ModelLayer> arch224_layers() {
  return {
      {"r18_stem_3x224x224_64_7x7s2", conv(3, 224, 224, 64, 7, 7, 2, 3, 3)},
      {"r18_l1_64x56x56_64", conv(64, 56, 56, 64, 3, 3, 1, 1, 1)},
      {"r18_l2_128x28x28_128", conv(128, 28, 28, 128, 3, 3, 1, 1, 1)},
      {"r18_l3_256x14x14_256", conv(256, 14, 14, 256, 3, 3, 1, 1, 1)},
      {"r18_l4_512x7x7_512", conv(512, 7, 7, 512, 3, 3, 1, 1, 1)},
      {"mb2_pw_32x112x112_16", conv(32, 112, 112, 16, 1, 1, 1, 0, 0)},
      {"mb2_pw_96x14x14_576", conv(96, 14, 14, 576, 1, 1, 1, 0, 0)},
      {"sq_fire_e3_16x55x55_64", conv(16, 55, 55, 64, 3, 3, 1, 1, 1)},
  };
}

}  // namespace ei8::bench
