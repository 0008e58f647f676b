// tests/kernels/conv_test_support.h — helpers shared by the integer convolution tests: a seeded
// random convolution shape (1-D / 2-D, groups, optional depthwise, strides, dilation, padding,
// remainder sizes) and an independent formulation of the raw accumulators (the input padded
// with its zero point explicitly, then a valid convolution).
#pragma once

#include <cstdint>
#include <vector>

#include "ei8/core/rng.h"
#include "ei8/fixedpoint/conv_geometry.h"

namespace ei8::kernels::test {

struct RandomConvOptions {
  bool depthwise = false;  // every fifth iteration (it % 5 == 1) depthwise, up to 6 groups
  int64_t max_w = 11;      // input width drawn up to this
};

// Iteration `it` picks the form: it % 4 == 0 is a conv1d.
inline fixedpoint::ConvGeometry random_conv_geometry(Rng& rng, int it, RandomConvOptions o = {}) {
  using fixedpoint::ConvGeometry;
  const bool one_d = it % 4 == 0;
  const bool depthwise = o.depthwise && it % 5 == 1;
  const int64_t groups = depthwise ? rng.uniform_int(1, 6) : rng.uniform_int(1, 3);
  const int64_t cin = depthwise ? groups : groups * rng.uniform_int(1, 3);
  const int64_t cout = depthwise ? groups : groups * rng.uniform_int(1, 3);
  const int64_t kh = one_d ? 1 : rng.uniform_int(1, 4), kw = rng.uniform_int(1, 4);
  const int64_t dh = one_d ? 1 : rng.uniform_int(1, 2), dw = rng.uniform_int(1, 2);
  const int64_t h = one_d ? 1 : rng.uniform_int(dh * (kh - 1) + 1, 9);
  const int64_t w = rng.uniform_int(dw * (kw - 1) + 1, o.max_w);
  ConvGeometry g = one_d ? ConvGeometry::conv1d(rng.uniform_int(1, 2), cin, w, cout, kw)
                         : ConvGeometry::conv2d(rng.uniform_int(1, 2), cin, h, w, cout, kh, kw);
  g = g.with_groups(groups)
          .with_stride(one_d ? 1 : rng.uniform_int(1, 3), rng.uniform_int(1, 3))
          .with_dilation(dh, dw);
  return one_d ? g.with_padding(0, rng.uniform_int(0, 3), 0, rng.uniform_int(0, 3))
               : g.with_padding(rng.uniform_int(0, 3), rng.uniform_int(0, 3), rng.uniform_int(0, 3),
                                rng.uniform_int(0, 3));
}

// bias + Σ (x − z_x)(w − z_w) per output (NCHW), computed in int64 and returned as Acc: the
// input materialized with its zero-point padding, then a valid convolution where tap (kh, kw)
// of output (oh, ow) reads padded[oh·sh + kh·dh][ow·sw + kw·dw].
template <typename Acc, typename TIn>
std::vector<Acc> padded_conv_reference(const fixedpoint::ConvGeometry& g, const std::vector<TIn>& x,
                                       int64_t zx, const std::vector<int8_t>& w, int64_t zw,
                                       const std::vector<int32_t>& b) {
  const int64_t ph = g.in_h + g.pad_top + g.pad_bottom, pw = g.in_w + g.pad_left + g.pad_right;
  std::vector<int64_t> padded(static_cast<size_t>(g.batch * g.in_channels * ph * pw), zx);
  for (int64_t n = 0; n < g.batch; ++n)
    for (int64_t c = 0; c < g.in_channels; ++c)
      for (int64_t h = 0; h < g.in_h; ++h)
        for (int64_t ww = 0; ww < g.in_w; ++ww)
          padded[static_cast<size_t>(((n * g.in_channels + c) * ph + h + g.pad_top) * pw + ww +
                                     g.pad_left)] =
              x[static_cast<size_t>(((n * g.in_channels + c) * g.in_h + h) * g.in_w + ww)];
  std::vector<Acc> y;
  const int64_t cig = g.in_channels / g.groups, cog = g.out_channels / g.groups;
  for (int64_t n = 0; n < g.batch; ++n)
    for (int64_t oc = 0; oc < g.out_channels; ++oc)
      for (int64_t oh = 0; oh < g.out_h(); ++oh)
        for (int64_t ow = 0; ow < g.out_w(); ++ow) {
          int64_t s = b.empty() ? 0 : b[static_cast<size_t>(oc)];
          for (int64_t i = 0; i < cig; ++i)
            for (int64_t kh = 0; kh < g.kernel_h; ++kh)
              for (int64_t kw = 0; kw < g.kernel_w; ++kw) {
                const int64_t ic = (oc / cog) * cig + i;
                const int64_t xv = padded[static_cast<size_t>(
                    ((n * g.in_channels + ic) * ph + oh * g.stride_h + kh * g.dilation_h) * pw +
                    ow * g.stride_w + kw * g.dilation_w)];
                s += (xv - zx) *
                     (w[static_cast<size_t>(((oc * cig + i) * g.kernel_h + kh) * g.kernel_w + kw)] -
                      zw);
              }
          y.push_back(static_cast<Acc>(s));
        }
  return y;
}

}  // namespace ei8::kernels::test
