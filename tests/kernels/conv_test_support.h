// tests/kernels/conv_test_support.h — helpers shared by the integer convolution tests: a seeded
// random convolution shape (1-D / 2-D, groups, optional depthwise, strides, dilation, padding,
// remainder sizes), an independent formulation of the raw accumulators (the input padded
// with its zero point explicitly, then a valid convolution), and the int8 reference kernel's
// output as bytes of the output type, with the first element where two such outputs differ.
#pragma once

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "ei8/core/rng.h"
#include "ei8/fixedpoint/conv_geometry.h"
#include "ei8/runtime/kernels/conv_s8.h"
#include "ei8/runtime/kernels/ref/conv_s8_ref.h"

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

// The code range of an int8 output type.
inline int32_t lo_of(IntType t) { return t == IntType::kU8 ? 0 : -128; }
inline int32_t hi_of(IntType t) { return t == IntType::kU8 ? 255 : 127; }

// n values drawn uniformly from [lo, hi].
template <typename T>
std::vector<T> random_values(Rng& rng, int64_t n, int32_t lo, int32_t hi) {
  std::vector<T> v(static_cast<size_t>(n));
  for (auto& x : v) x = static_cast<T>(rng.uniform_int(lo, hi));
  return v;
}

// The reference on the whole batch, into bytes of the output type.
template <typename TIn>
std::vector<std::byte> conv_reference(const ConvS8Params& p, IntType out, const std::vector<TIn>& x,
                                      const std::vector<int8_t>& w, const std::vector<int32_t>& b) {
  const auto on = static_cast<size_t>(p.geometry.output_numel());
  std::vector<std::byte> y(on * (out == IntType::kS32 ? 4 : 1));
  Status s;
  if (out == IntType::kU8)
    s = conv2d_s8_ref<TIn, uint8_t>(p, x, w, b, {reinterpret_cast<uint8_t*>(y.data()), on});
  if (out == IntType::kS8)
    s = conv2d_s8_ref<TIn, int8_t>(p, x, w, b, {reinterpret_cast<int8_t*>(y.data()), on});
  if (out == IntType::kS32)
    s = conv2d_s8s8s32_ref<TIn>(p, x, w, b, {reinterpret_cast<int32_t*>(y.data()), on});
  EXPECT_TRUE(s.ok()) << s.message();
  return y;
}

// Index of the first differing output element (or -1), for a readable failure.
inline int64_t first_difference(const std::vector<std::byte>& a, const std::vector<std::byte>& b,
                                IntType t) {
  const size_t es = t == IntType::kS32 ? 4 : 1;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i] != b[i]) return static_cast<int64_t>(i / es);
  }
  return -1;
}

}  // namespace ei8::kernels::test
