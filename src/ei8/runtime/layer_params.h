// ei8/runtime/layer_params.h — the kernels' parameter structs filled from the layer view.
//
// The executor's ops never decode Conv/pool attributes themselves: they call decode_layer()
// (graph/layer_view.h) once in prepare() and copy its fields into the parameter struct of the
// kernel tier they run (FP32 conv, INT8 conv, pools).
//
//   EI8_ASSIGN_OR_RETURN(LayerGeometry l, decode_layer(c.node, c.in_shapes, c.out_shapes));
//   kernels::Conv2dParams p = conv2d_params(l);
#pragma once

#include "ei8/fixedpoint/conv_geometry.h"
#include "ei8/graph/layer_view.h"
#include "ei8/runtime/kernels/conv_f32.h"
#include "ei8/runtime/kernels/ref/pool_params.h"

namespace ei8 {

// FP32 convolution (batch from the layer, activation left at none).
inline kernels::Conv2dParams conv2d_params(const LayerGeometry& l) {
  kernels::Conv2dParams p;
  p.batch = l.batch;
  p.in_c = l.in_channels, p.in_h = l.in_h, p.in_w = l.in_w;
  p.out_c = l.out_channels;
  p.kernel_h = l.kernel_h, p.kernel_w = l.kernel_w;
  p.stride_h = l.stride_h, p.stride_w = l.stride_w;
  p.dilation_h = l.dilation_h, p.dilation_w = l.dilation_w;
  p.pad_top = l.pad_top, p.pad_left = l.pad_left;
  p.pad_bottom = l.pad_bottom, p.pad_right = l.pad_right;
  p.groups = l.groups;
  return p;
}

// The integer arithmetic's view of a conv (INT8 kernels, bit growth, overflow simulation).
inline fixedpoint::ConvGeometry conv_geometry(const LayerGeometry& l) {
  fixedpoint::ConvGeometry g;
  g.kind = l.kind == LayerKind::kFullyConnected ? fixedpoint::LayerKind::kFullyConnected
           : l.spatial_rank == 1                ? fixedpoint::LayerKind::kConv1d
                                                : fixedpoint::LayerKind::kConv2d;
  // A fully connected layer is a 1×1 convolution whose batch is every row of A.
  g.batch = l.kind == LayerKind::kFullyConnected
                ? (l.batch == kDynamic ? 1 : l.batch) * l.rows_per_sample
                : l.batch;
  g.in_channels = l.in_channels, g.in_h = l.in_h, g.in_w = l.in_w;
  g.out_channels = l.out_channels;
  g.kernel_h = l.kernel_h, g.kernel_w = l.kernel_w;
  g.stride_h = l.stride_h, g.stride_w = l.stride_w;
  g.dilation_h = l.dilation_h, g.dilation_w = l.dilation_w;
  g.pad_top = l.pad_top, g.pad_left = l.pad_left;
  g.pad_bottom = l.pad_bottom, g.pad_right = l.pad_right;
  g.groups = l.groups;
  return g;
}

// Pools (FP32 and u8/s8); the batch is the layer's.
inline kernels::Pool2dParams pool2d_params(const LayerGeometry& l) {
  kernels::Pool2dParams p;
  p.channels = l.in_channels;
  p.in_h = l.in_h, p.in_w = l.in_w, p.out_h = l.out_h, p.out_w = l.out_w;
  p.kernel_h = l.kernel_h, p.kernel_w = l.kernel_w;
  p.stride_h = l.stride_h, p.stride_w = l.stride_w;
  p.dilation_h = l.dilation_h, p.dilation_w = l.dilation_w;
  p.pad_top = l.pad_top, p.pad_left = l.pad_left;
  p.pad_bottom = l.pad_bottom, p.pad_right = l.pad_right;
  p.count_include_pad = l.count_include_pad;
  return p;
}

}  // namespace ei8
