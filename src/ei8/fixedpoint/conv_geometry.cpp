#include "ei8/fixedpoint/conv_geometry.h"

#include <algorithm>

namespace ei8::fixedpoint {

std::string_view layer_kind_name(LayerKind k) {
  switch (k) {
    case LayerKind::kConv1d:
      return "conv1d";
    case LayerKind::kConv2d:
      return "conv2d";
    case LayerKind::kFullyConnected:
      return "fc";
  }
  return "?";
}

ConvGeometry ConvGeometry::conv2d(int64_t batch, int64_t in_channels, int64_t in_h, int64_t in_w,
                                  int64_t out_channels, int64_t kernel_h, int64_t kernel_w) {
  ConvGeometry g;
  g.kind = LayerKind::kConv2d;
  g.batch = batch;
  g.in_channels = in_channels;
  g.in_h = in_h;
  g.in_w = in_w;
  g.out_channels = out_channels;
  g.kernel_h = kernel_h;
  g.kernel_w = kernel_w;
  return g;
}

ConvGeometry ConvGeometry::conv1d(int64_t batch, int64_t in_channels, int64_t length,
                                  int64_t out_channels, int64_t kernel_w) {
  ConvGeometry g = conv2d(batch, in_channels, 1, length, out_channels, 1, kernel_w);
  g.kind = LayerKind::kConv1d;
  return g;
}

ConvGeometry ConvGeometry::fully_connected(int64_t batch, int64_t in_features,
                                           int64_t out_features) {
  ConvGeometry g = conv2d(batch, in_features, 1, 1, out_features, 1, 1);
  g.kind = LayerKind::kFullyConnected;
  return g;
}

ConvGeometry ConvGeometry::with_padding(int64_t p) const {
  if (kind == LayerKind::kConv1d) return with_padding(0, p, 0, p);
  return with_padding(p, p, p, p);
}

ConvGeometry ConvGeometry::with_padding(int64_t top, int64_t left, int64_t bottom,
                                        int64_t right) const {
  ConvGeometry g = *this;
  g.pad_top = top;
  g.pad_left = left;
  g.pad_bottom = bottom;
  g.pad_right = right;
  return g;
}

ConvGeometry ConvGeometry::with_stride(int64_t sh, int64_t sw) const {
  ConvGeometry g = *this;
  g.stride_h = sh;
  g.stride_w = sw;
  return g;
}

ConvGeometry ConvGeometry::with_dilation(int64_t dh, int64_t dw) const {
  ConvGeometry g = *this;
  g.dilation_h = dh;
  g.dilation_w = dw;
  return g;
}

ConvGeometry ConvGeometry::with_groups(int64_t gr) const {
  ConvGeometry g = *this;
  g.groups = gr;
  return g;
}

Status ConvGeometry::validate() const {
  constexpr int64_t kMax = int64_t{1} << 40;
  const struct {
    const char* name;
    int64_t value;
  } positive[] = {{"batch", batch},
                  {"in_channels", in_channels},
                  {"in_h", in_h},
                  {"in_w", in_w},
                  {"out_channels", out_channels},
                  {"kernel_h", kernel_h},
                  {"kernel_w", kernel_w},
                  {"stride_h", stride_h},
                  {"stride_w", stride_w},
                  {"dilation_h", dilation_h},
                  {"dilation_w", dilation_w},
                  {"groups", groups}};
  for (const auto& p : positive) {
    if (p.value < 1 || p.value > kMax) {
      return invalid_argument("cannot use {} geometry: {} = {}, must be in [1, 2^40]",
                              layer_kind_name(kind), p.name, p.value);
    }
  }
  const struct {
    const char* name;
    int64_t value;
  } pads[] = {{"pad_top", pad_top},
              {"pad_left", pad_left},
              {"pad_bottom", pad_bottom},
              {"pad_right", pad_right}};
  for (const auto& p : pads) {
    if (p.value < 0 || p.value > kMax) {
      return invalid_argument("cannot use {} geometry: {} = {}, must be in [0, 2^40]",
                              layer_kind_name(kind), p.name, p.value);
    }
  }
  if (in_channels % groups != 0) {
    return invalid_argument(
        "cannot use {} geometry: in_channels = {}, must be divisible by groups = {}",
        layer_kind_name(kind), in_channels, groups);
  }
  if (out_channels % groups != 0) {
    return invalid_argument(
        "cannot use {} geometry: out_channels = {}, must be divisible by groups = {}",
        layer_kind_name(kind), out_channels, groups);
  }
  if (kind == LayerKind::kConv1d &&
      (in_h != 1 || kernel_h != 1 || pad_top != 0 || pad_bottom != 0)) {
    return invalid_argument(
        "cannot use conv1d geometry: in_h = {}, kernel_h = {}, must be 1 with no vertical padding",
        in_h, kernel_h);
  }
  if (in_h + pad_top + pad_bottom < dilation_h * (kernel_h - 1) + 1 ||
      in_w + pad_left + pad_right < dilation_w * (kernel_w - 1) + 1) {
    return invalid_argument(
        "cannot use {} geometry: padded input = {}x{}, must be at least the dilated kernel {}x{}",
        layer_kind_name(kind), in_h + pad_top + pad_bottom, in_w + pad_left + pad_right,
        dilation_h * (kernel_h - 1) + 1, dilation_w * (kernel_w - 1) + 1);
  }
  // Element counts in double first: the int64 products could overflow for hostile input.
  const double dmax = static_cast<double>(kMax);
  const double in_n = double(batch) * double(in_channels) * double(in_h) * double(in_w);
  const double w_n =
      double(out_channels) * double(in_channels / groups) * double(kernel_h) * double(kernel_w);
  const double out_n = double(batch) * double(out_channels) * double(out_h()) * double(out_w());
  if (in_n > dmax || w_n > dmax || out_n > dmax) {
    return invalid_argument("cannot use {} geometry: element count = {:.0f}, must be below 2^40",
                            layer_kind_name(kind), std::max({in_n, w_n, out_n}));
  }
  return {};
}

}  // namespace ei8::fixedpoint
