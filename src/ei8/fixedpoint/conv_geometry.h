// ei8/fixedpoint/conv_geometry.h — the shape of a convolution or fully connected layer as the
// integer arithmetic sees it: what the reference kernels loop over, what bit growth counts and
// what the overflow simulation replays.
//
// Layouts: input NCHW [batch, in_channels, in_h, in_w]; weights OIHW
// [out_channels, in_channels/groups, kernel_h, kernel_w]; output NCHW
// [batch, out_channels, out_h, out_w]. conv1d is height 1 (in_h = kernel_h = 1, no vertical
// padding); a fully connected layer is a 1×1 convolution on a 1×1 image.
//
//   ConvGeometry g = ConvGeometry::conv2d(1, 3, 32, 32, 32, 3, 3).with_padding(1);
//   EI8_RETURN_IF_ERROR(g.validate());
//   int64_t k = g.accumulation_count();   // (3/1)·3·3 = 27
#pragma once

#include <cstdint>
#include <string_view>

#include "ei8/core/status.h"

namespace ei8::fixedpoint {

enum class LayerKind { kConv1d, kConv2d, kFullyConnected };
std::string_view layer_kind_name(LayerKind k);  // "conv1d", "conv2d", "fc"

struct ConvGeometry {
  LayerKind kind = LayerKind::kConv2d;
  int64_t batch = 1;
  int64_t in_channels = 1, in_h = 1, in_w = 1;
  int64_t out_channels = 1;
  int64_t kernel_h = 1, kernel_w = 1;
  int64_t stride_h = 1, stride_w = 1;
  int64_t dilation_h = 1, dilation_w = 1;
  int64_t pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0;  // zero-point padding
  int64_t groups = 1;  // in_channels and out_channels divisible by groups; depthwise: groups = C_in

  static ConvGeometry conv2d(int64_t batch, int64_t in_channels, int64_t in_h, int64_t in_w,
                             int64_t out_channels, int64_t kernel_h, int64_t kernel_w);
  static ConvGeometry conv1d(int64_t batch, int64_t in_channels, int64_t length,
                             int64_t out_channels, int64_t kernel_w);
  static ConvGeometry fully_connected(int64_t batch, int64_t in_features, int64_t out_features);

  // Builders (return a modified copy). with_padding(p): p on every side that has a kernel extent
  // (conv1d: left/right only).
  ConvGeometry with_padding(int64_t p) const;
  ConvGeometry with_padding(int64_t top, int64_t left, int64_t bottom, int64_t right) const;
  ConvGeometry with_stride(int64_t sh, int64_t sw) const;
  ConvGeometry with_dilation(int64_t dh, int64_t dw) const;
  ConvGeometry with_groups(int64_t g) const;

  int64_t out_h() const {
    return (in_h + pad_top + pad_bottom - dilation_h * (kernel_h - 1) - 1) / stride_h + 1;
  }
  int64_t out_w() const {
    return (in_w + pad_left + pad_right - dilation_w * (kernel_w - 1) - 1) / stride_w + 1;
  }
  int64_t in_channels_per_group() const { return in_channels / groups; }
  int64_t out_channels_per_group() const { return out_channels / groups; }
  // Number of products summed into one accumulator: (C_in/groups)·K_h·K_w (conv2d),
  // (C_in/groups)·K_w (conv1d, K_h = 1), C_in (fully connected).
  int64_t accumulation_count() const { return in_channels_per_group() * kernel_h * kernel_w; }

  int64_t input_numel() const { return batch * in_channels * in_h * in_w; }
  int64_t weight_numel() const {
    return out_channels * in_channels_per_group() * kernel_h * kernel_w;
  }
  int64_t output_numel() const { return batch * out_channels * out_h() * out_w(); }

  // Every dimension ≥ 1 (pads ≥ 0), channels divisible by groups, output at least 1×1, conv1d has
  // height 1, every count below 2^40.
  Status validate() const;
};

}  // namespace ei8::fixedpoint
