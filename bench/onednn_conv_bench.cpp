// The same model layers as kernels_f32_bench.cpp through oneDNN 2.6 (Debian libdnnl-dev), to
// choose the FP32 implementation by measurement (docs/kernels.md). One OpenMP thread;
// weights reordered once to the layout oneDNN picks (as production would); two variants:
//   nchw — plain NCHW source/destination (what our executor passes between ops)
//   any  — oneDNN's preferred blocked layout (nChw8c/16c), reorders not timed (its best case)
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

int register_all() {
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
