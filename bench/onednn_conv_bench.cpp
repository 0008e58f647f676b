// The same model layers as kernels_f32_bench.cpp through oneDNN 2.6 (Debian libdnnl-dev), to
// choose the FP32 implementation by measurement (docs/kernels.md). One OpenMP thread;
// weights reordered once to the layout oneDNN picks (as production would); two variants:
//   nchw — plain NCHW source/destination (what our executor passes between ops)
//   any  — oneDNN's preferred blocked layout (nChw8c/16c), reorders not timed (its best case)
// onednn_s8/<layer>: oneDNN's INT8 convolution as a candidate plan of our INT8 kernels (below).
// Not part of the product: built only when oneDNN is installed.
#include <benchmark/benchmark.h>
#include <omp.h>

#include <oneapi/dnnl/dnnl.hpp>
#include <string>
#include <unordered_map>
#include <vector>

#include "f32_model_layers.h"

namespace ei8::bench {
namespace {

using tag = dnnl::memory::format_tag;
using dt = dnnl::memory::data_type;

void bm_onednn_conv(benchmark::State& state, kernels::Conv2dParams p, bool blocked) {
  omp_set_num_threads(1);
  const int64_t batch = state.range(0);
  dnnl::engine eng(dnnl::engine::kind::cpu, 0);
  dnnl::stream strm(eng);
  const dnnl::memory::dims src_dims{batch, p.in_c, p.in_h, p.in_w};
  const dnnl::memory::dims w_dims{p.out_c, p.in_c, p.kernel_h, p.kernel_w};
  const dnnl::memory::dims dst_dims{batch, p.out_c, p.out_h(), p.out_w()};
  const tag act_tag = blocked ? tag::any : tag::nchw;
  dnnl::memory::desc src_md(src_dims, dt::f32, act_tag), dst_md(dst_dims, dt::f32, act_tag);
  dnnl::memory::desc w_md(w_dims, dt::f32, tag::any), b_md({p.out_c}, dt::f32, tag::x);
  dnnl::convolution_forward::desc desc(
      dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct, src_md, w_md, b_md,
      dst_md, {p.stride_h, p.stride_w}, {p.dilation_h - 1, p.dilation_w - 1},
      {p.pad_top, p.pad_left}, {p.pad_bottom, p.pad_right});
  dnnl::post_ops ops;
  ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_relu, 0.0f, 0.0f);
  dnnl::primitive_attr attr;
  attr.set_post_ops(ops);
  dnnl::convolution_forward::primitive_desc pd(desc, attr, eng);
  dnnl::memory src(pd.src_desc(), eng), w(pd.weights_desc(), eng), b(b_md, eng),
      dst(pd.dst_desc(), eng);
  auto fill = [](dnnl::memory& m) {
    float* f = static_cast<float*>(m.get_data_handle());
    const size_t n = m.get_desc().get_size() / sizeof(float);
    for (size_t i = 0; i < n; ++i) f[i] = static_cast<float>((i * 7919) % 200) / 100.0f - 1.0f;
  };
  fill(src);
  fill(w);
  fill(b);
  dnnl::convolution_forward conv(pd);
  const std::unordered_map<int, dnnl::memory> args{
      {DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, w}, {DNNL_ARG_BIAS, b}, {DNNL_ARG_DST, dst}};
  for (auto _ : state) {
    conv.execute(strm, args);
    strm.wait();
  }
  state.counters["MAC/s"] = benchmark::Counter(static_cast<double>(p.macs() * batch),
                                               benchmark::Counter::kIsIterationInvariantRate);
  state.counters["s/sample"] =
      benchmark::Counter(static_cast<double>(batch), benchmark::Counter::kIsIterationInvariantRate |
                                                         benchmark::Counter::kInvert);
  state.SetLabel(pd.impl_info_str());
}

// INT8 as a candidate for our INT8 convolutions: u8 source (NCHW, as our executor passes it)
// reordered into oneDNN's preferred layout, s8 weights reordered once (not timed), s32
// destination in oneDNN's layout reordered back to NCHW — both activation reorders timed.
// No zero points and no requantization (ours includes both): a lower bound of what oneDNN
// would cost as a plan of ConvS8Kernel.
void bm_onednn_conv_s8(benchmark::State& state, kernels::Conv2dParams p) {
  omp_set_num_threads(1);
  const int64_t batch = state.range(0);
  dnnl::engine eng(dnnl::engine::kind::cpu, 0);
  dnnl::stream strm(eng);
  const dnnl::memory::dims src_dims{batch, p.in_c, p.in_h, p.in_w};
  const dnnl::memory::dims w_dims{p.out_c, p.in_c, p.kernel_h, p.kernel_w};
  const dnnl::memory::dims dst_dims{batch, p.out_c, p.out_h(), p.out_w()};
  dnnl::memory::desc src_md(src_dims, dt::u8, tag::any), dst_md(dst_dims, dt::s32, tag::any);
  dnnl::memory::desc w_md(w_dims, dt::s8, tag::any), b_md({p.out_c}, dt::s32, tag::x);
  dnnl::convolution_forward::desc desc(
      dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct, src_md, w_md, b_md,
      dst_md, {p.stride_h, p.stride_w}, {p.dilation_h - 1, p.dilation_w - 1},
      {p.pad_top, p.pad_left}, {p.pad_bottom, p.pad_right});
  dnnl::convolution_forward::primitive_desc pd(desc, eng);
  dnnl::memory user_src({src_dims, dt::u8, tag::nchw}, eng),
      user_dst({dst_dims, dt::s32, tag::nchw}, eng);
  dnnl::memory src(pd.src_desc(), eng), w(pd.weights_desc(), eng), b(b_md, eng),
      dst(pd.dst_desc(), eng);
  auto* xs = static_cast<uint8_t*>(user_src.get_data_handle());
  for (size_t i = 0; i < user_src.get_desc().get_size(); ++i) xs[i] = uint8_t((i * 7919) % 251);
  auto* ws = static_cast<int8_t*>(w.get_data_handle());
  for (size_t i = 0; i < w.get_desc().get_size(); ++i) ws[i] = int8_t((i * 31) % 255 - 127);
  auto* bs = static_cast<int32_t*>(b.get_data_handle());
  for (int64_t i = 0; i < p.out_c; ++i) bs[i] = int32_t(i * 17 - 100);
  dnnl::convolution_forward conv(pd);
  dnnl::reorder in_r(user_src, src), out_r(dst, user_dst);
  const std::unordered_map<int, dnnl::memory> args{
      {DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, w}, {DNNL_ARG_BIAS, b}, {DNNL_ARG_DST, dst}};
  for (auto _ : state) {
    in_r.execute(strm, user_src, src);
    conv.execute(strm, args);
    out_r.execute(strm, dst, user_dst);
    strm.wait();
  }
  state.counters["MAC/s"] = benchmark::Counter(static_cast<double>(p.macs() * batch),
                                               benchmark::Counter::kIsIterationInvariantRate);
  state.counters["s/sample"] =
      benchmark::Counter(static_cast<double>(batch), benchmark::Counter::kIsIterationInvariantRate |
                                                         benchmark::Counter::kInvert);
  state.SetLabel(pd.impl_info_str());
}

int register_all() {
  for (const auto& layers :
       {resnet_like_layers(), signal_cnn_layers(), tiny_cnn2d_layers(), arch224_layers()}) {
    for (const ModelLayer& l : layers) {
      auto* b =
          benchmark::RegisterBenchmark(("onednn_s8/" + l.name).c_str(), bm_onednn_conv_s8, l.p);
      b->Arg(1)->Unit(benchmark::kMicrosecond);
      if (l.p.macs() < 50'000'000) b->Arg(32);
    }
  }
  for (bool blocked : {false, true}) {
    const std::string v = blocked ? "onednn_any/" : "onednn_nchw/";
    for (const auto& layers : {resnet_like_layers(), signal_cnn_layers(), tiny_cnn2d_layers()}) {
      for (const ModelLayer& l : layers) {
        benchmark::RegisterBenchmark((v + l.name).c_str(), bm_onednn_conv, l.p, blocked)
            ->Arg(1)
            ->Arg(32)
            ->Unit(benchmark::kMicrosecond);
      }
    }
  }
  return 0;
}

const int registered = register_all();

}  // namespace
}  // namespace ei8::bench
