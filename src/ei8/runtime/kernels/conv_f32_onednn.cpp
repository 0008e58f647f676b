// The oneDNN plans of Conv2dF32 (ConvAlgorithm::kOnednn / kOnednnNchw, conv_f32.h): one oneDNN
// direct convolution primitive per prepared layer (batch 1: run() loops over the samples),
// weights reordered once into the primitive's layout, and for kOnednn the NCHW ↔ blocked
// reorders of the activations executed inside run() (so the tuner's timing counts them).
//
// Scratch (user-mode scratchpad, from the caller's scratch, 64-byte aligned):
//   [blocked input][blocked output][convolution scratchpad][reorder scratchpads]
// run() allocates nothing of ours; oneDNN's memory objects (a few small handles per sample)
// are the only allocations, as the C++ API has no way to rebind a shared one thread-safely.
#include <cstring>

#include "ei8/runtime/kernels/eltwise_f32.h"
#include "ei8/runtime/kernels/f32_internal.h"
#include "ei8/runtime/kernels/onednn_runtime.h"

namespace ei8::kernels {

#ifdef EI8_HAVE_ONEDNN

struct OnednnConvPlan {
  dnnl::convolution_forward conv;
  dnnl::memory::desc src_user, dst_user;  // NCHW, batch 1
  dnnl::memory::desc src, dst;            // the primitive's (== the user ones for kOnednnNchw)
  bool reorder_src = false, reorder_dst = false;
  dnnl::reorder to_blocked, to_plain;
  dnnl::memory weights, bias;  // packed at prepare; read-only afterwards
  std::vector<float> weight_buf;
  std::vector<float> bias_buf;
  dnnl::memory::desc conv_pad, src_pad, dst_pad;  // scratchpads
  // Byte offsets in the (aligned) scratch, and its size.
  size_t off_src = 0, off_dst = 0, off_conv_pad = 0, off_src_pad = 0, off_dst_pad = 0, bytes = 0;
  bool silu_after = false;
};

namespace {

constexpr size_t kAlign = 64;

size_t round_up(size_t n) { return (n + kAlign - 1) / kAlign * kAlign; }

float* aligned_in(std::vector<float>& v, size_t floats) {
  v.assign(floats + kAlign / sizeof(float), 0.0f);
  const auto addr = reinterpret_cast<uintptr_t>(v.data());
  return reinterpret_cast<float*>((addr + kAlign - 1) / kAlign * kAlign);
}

dnnl::primitive_attr plan_attr() {
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  // Float products and sums only (no implicit bf16/f16 down-conversion, whatever
  // DNNL_DEFAULT_FPMATH_MODE says).
  attr.set_fpmath_mode(dnnl::fpmath_mode::strict);
  return attr;
}

// A primitive's arguments as the C entry point takes them (an array: no std::unordered_map per
// call); empty memories (no bias, no scratchpad) are left out.
struct Args {
  dnnl_exec_arg_t a[5]{};
  int n = 0;
  Args& add(int arg, const dnnl::memory& m) {
    if (m) a[n++] = {arg, m.get()};
    return *this;
  }
  void execute(const dnnl::primitive& prim) const {
    (void)dnnl_primitive_execute(prim.get(), onednn::stream().get(), n, a);
  }
};

}  // namespace

Status Conv2dF32::Impl::prepare_onednn(std::span<const float> weight_in,
                                       std::span<const float> bias_in) {
  using dnnl::memory;
  using tag = memory::format_tag;
  const bool plain = algorithm == ConvAlgorithm::kOnednnNchw;
  try {
    dnnl::engine& eng = onednn::engine();
    (void)onednn::stream();  // this thread: one OpenMP thread, before the primitive is made
    auto d = std::make_shared<OnednnConvPlan>();
    const memory::dims src_dims{1, p.in_c, p.in_h, p.in_w};
    const memory::dims dst_dims{1, p.out_c, p.out_h(), p.out_w()};
    const memory::dims w_dims = p.groups == 1
                                    ? memory::dims{p.out_c, p.in_c, p.kernel_h, p.kernel_w}
                                    : memory::dims{p.groups, p.out_c_per_group(),
                                                   p.in_c_per_group(), p.kernel_h, p.kernel_w};
    const memory::data_type f32 = memory::data_type::f32;
    d->src_user = memory::desc(src_dims, f32, tag::nchw);
    d->dst_user = memory::desc(dst_dims, f32, tag::nchw);
    const memory::desc w_user(w_dims, f32, p.groups == 1 ? tag::oihw : tag::goihw);
    const memory::desc w_any(w_dims, f32, tag::any);
    const memory::desc b_md({p.out_c}, f32, tag::x);
    const memory::desc src_md = plain ? d->src_user : memory::desc(src_dims, f32, tag::any);
    const memory::desc dst_md = plain ? d->dst_user : memory::desc(dst_dims, f32, tag::any);

    dnnl::primitive_attr attr = plan_attr();
    dnnl::post_ops po;
    switch (p.act.kind) {
      case ActKind::kNone:
      case ActKind::kSilu:  // silu_f32 after (run_onednn)
        break;
      case ActKind::kRelu:
        po.append_eltwise(1.0f, dnnl::algorithm::eltwise_relu, 0.0f, 0.0f);
        break;
      case ActKind::kLeakyRelu:
        po.append_eltwise(1.0f, dnnl::algorithm::eltwise_relu, p.act.alpha, 0.0f);
        break;
      case ActKind::kClip:
        po.append_eltwise(1.0f, dnnl::algorithm::eltwise_clip_v2, p.act.lo, p.act.hi);
        break;
    }
    attr.set_post_ops(po);
    d->silu_after = p.act.kind == ActKind::kSilu;
    const dnnl::convolution_forward::desc cd(
        dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct, src_md, w_any,
        bias_in.empty() ? memory::desc() : b_md, dst_md, {p.stride_h, p.stride_w},
        {p.dilation_h - 1, p.dilation_w - 1}, {p.pad_top, p.pad_left}, {p.pad_bottom, p.pad_right});
    const dnnl::convolution_forward::primitive_desc pd(cd, attr, eng);
    d->conv = dnnl::convolution_forward(pd);
    d->src = pd.src_desc();
    d->dst = pd.dst_desc();
    d->conv_pad = pd.scratchpad_desc();

    // Weights (and bias) into the primitive's layout, once.
    const memory::desc w_md = pd.weights_desc();
    float* wp = aligned_in(d->weight_buf, w_md.get_size() / sizeof(float) + 1);
    d->weights = memory(w_md, eng, wp);
    memory w_src(w_user, eng, const_cast<float*>(weight_in.data()));
    dnnl::reorder(w_src, d->weights).execute(onednn::stream(), w_src, d->weights);
    if (!bias_in.empty()) {
      d->bias_buf.assign(bias_in.begin(), bias_in.end());
      d->bias = memory(b_md, eng, d->bias_buf.data());
    }
    onednn::stream().wait();

    // Activation reorders (kOnednn, when oneDNN's layout is not NCHW).
    dnnl::primitive_attr rattr;
    rattr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
    d->reorder_src = d->src != d->src_user;
    d->reorder_dst = d->dst != d->dst_user;
    if (d->reorder_src) {
      const dnnl::reorder::primitive_desc rpd(eng, d->src_user, eng, d->src, rattr);
      d->to_blocked = dnnl::reorder(rpd);
      d->src_pad = rpd.scratchpad_desc();
    }
    if (d->reorder_dst) {
      const dnnl::reorder::primitive_desc rpd(eng, d->dst, eng, d->dst_user, rattr);
      d->to_plain = dnnl::reorder(rpd);
      d->dst_pad = rpd.scratchpad_desc();
    }
    size_t at = 0;
    const auto take = [&](size_t bytes) {
      const size_t off = at;
      at += round_up(bytes);
      return off;
    };
    d->off_src = take(d->reorder_src ? d->src.get_size() : 0);
    d->off_dst = take(d->reorder_dst ? d->dst.get_size() : 0);
    d->off_conv_pad = take(d->conv_pad.get_size());
    d->off_src_pad = take(d->reorder_src ? d->src_pad.get_size() : 0);
    d->off_dst_pad = take(d->reorder_dst ? d->dst_pad.get_size() : 0);
    d->bytes = at == 0 ? 0 : at + kAlign;  // + room to align the caller's pointer

    const char* impl_name = pd.impl_info_str();
    dnn_variant = std::string(conv_algorithm_name(algorithm)) + "/" +
                  (impl_name != nullptr ? impl_name : "?");
    dnn = std::move(d);
  } catch (const dnnl::error& e) {
    return unsupported(
        "cannot prepare conv2d: algorithm = {}, must be a convolution oneDNN runs ({}: {})",
        conv_algorithm_name(algorithm), static_cast<int>(e.status), e.what());
  }
  return {};
}

size_t Conv2dF32::Impl::onednn_scratch_bytes() const { return dnn->bytes; }

void Conv2dF32::Impl::run_onednn(const float* input, float* output, int64_t batch,
                                 float* scratch) const {
  using dnnl::memory;
  const OnednnConvPlan& d = *dnn;
  dnnl::engine& eng = onednn::engine();
  const auto addr = reinterpret_cast<uintptr_t>(scratch);
  char* base = reinterpret_cast<char*>((addr + kAlign - 1) / kAlign * kAlign);
  const int64_t in_size = p.in_size(), out_size = p.out_size();
  const auto pad_memory = [&](const memory::desc& md, size_t off) {
    return md.get_size() == 0 ? memory() : memory(md, eng, base + off);
  };
  const memory conv_pad = pad_memory(d.conv_pad, d.off_conv_pad);
  const memory src_pad = d.reorder_src ? pad_memory(d.src_pad, d.off_src_pad) : memory();
  const memory dst_pad = d.reorder_dst ? pad_memory(d.dst_pad, d.off_dst_pad) : memory();
  const memory src_blk = d.reorder_src ? memory(d.src, eng, base + d.off_src) : memory();
  const memory dst_blk = d.reorder_dst ? memory(d.dst, eng, base + d.off_dst) : memory();
  for (int64_t n = 0; n < batch; ++n) {
    const memory x(d.src_user, eng, const_cast<float*>(input + n * in_size));
    const memory y(d.dst_user, eng, output + n * out_size);
    const memory& src = d.reorder_src ? src_blk : x;
    const memory& dst = d.reorder_dst ? dst_blk : y;
    if (d.reorder_src) {
      Args()
          .add(DNNL_ARG_FROM, x)
          .add(DNNL_ARG_TO, src)
          .add(DNNL_ARG_SCRATCHPAD, src_pad)
          .execute(d.to_blocked);
    }
    Args()
        .add(DNNL_ARG_SRC, src)
        .add(DNNL_ARG_WEIGHTS, d.weights)
        .add(DNNL_ARG_BIAS, d.bias)
        .add(DNNL_ARG_DST, dst)
        .add(DNNL_ARG_SCRATCHPAD, conv_pad)
        .execute(d.conv);
    if (d.reorder_dst) {
      Args()
          .add(DNNL_ARG_FROM, dst)
          .add(DNNL_ARG_TO, y)
          .add(DNNL_ARG_SCRATCHPAD, dst_pad)
          .execute(d.to_plain);
    }
    // SiLU after the convolution, as our plans' fused epilogue computes it (the same bits).
    if (d.silu_after) silu_f32(choice, out_size, output + n * out_size, output + n * out_size);
  }
  onednn::stream().wait();
}

#else  // !EI8_HAVE_ONEDNN

struct OnednnConvPlan {};

Status Conv2dF32::Impl::prepare_onednn(std::span<const float>, std::span<const float>) {
  return unsupported(
      "cannot prepare conv2d: algorithm = {}, must be one this build runs "
      "(built without oneDNN)",
      conv_algorithm_name(algorithm));
}
size_t Conv2dF32::Impl::onednn_scratch_bytes() const { return 0; }
void Conv2dF32::Impl::run_onednn(const float*, float*, int64_t, float*) const {}

#endif

bool onednn_conv_available(KernelChoice tier) {
  // Only on the tier the process runs by default: oneDNN's ISA is process-wide (capped by
  // EI8_ISA, onednn_runtime.cpp), so a lower tier forced per call (--kernel avx2) would run
  // oneDNN's code for a wider ISA under that tier's tuning key.
  return (tier == KernelChoice::kAvx2 || tier == KernelChoice::kAvx512) &&
         tier == resolve_kernel_choice(KernelChoice::kAuto) && onednn::available();
}

}  // namespace ei8::kernels
