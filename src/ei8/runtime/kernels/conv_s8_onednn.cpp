// The `onednn` plan of ConvS8Kernel (s8_internal.h S8OnednnConv): oneDNN's u8 × s8 → s32
// convolution between our own staging and our own requantization epilogue.
//
// Exactness (measured with oneDNN 2.6.3, tests/kernels/conv_s8_onednn_test.cpp):
//  - the brgemm convolutions ("brgconv*": AVX-512 VNNI, AMX-INT8) store the int32 sums as they
//    are; the other int8 kernels ("jit_int8", "jit:avx512_core_amx_int8", "jit_uni_int8") pass
//    every sum through float32 on its way to an s32 destination (the output-scale step), exact only
//    while |sum| < 2^24. A non-brgemm implementation is therefore offered only when 255·Σ|w| of
//    every output channel stays below 2^24;
//  - oneDNN's runtime source zero points select those float32 kernels even for brgemm shapes, so
//    they are not used: we pad the image ourselves with z_x (+128 for s8 inputs, which become u8 by
//    x ^ 0x80) and give oneDNN padding 0; the correction −(z_x + shift)·Σw is in the bias of our
//    epilogue (build_epilogue with the quads tier), as for the VNNI tier. The sums are then the
//    VNNI tier's Σ x_q·w bit for bit, and K ≤ 65536 keeps them inside int32.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include <fmt/format.h>

#include "ei8/runtime/kernels/onednn_runtime.h"
#include "ei8/runtime/kernels/s8_internal.h"

#ifdef EI8_HAVE_ONEDNN
#include <emmintrin.h>
#endif

namespace ei8::kernels {

#ifdef EI8_HAVE_ONEDNN

namespace {

using tag = dnnl::memory::format_tag;
using dt = dnnl::memory::data_type;

constexpr int64_t kTile = 64;  // epilogue tile: 64 output pixels × 64 channels of int32

int64_t padded_h(const fixedpoint::ConvGeometry& g) { return g.in_h + g.pad_top + g.pad_bottom; }
int64_t padded_w(const fixedpoint::ConvGeometry& g) { return g.in_w + g.pad_left + g.pad_right; }

// "brgconv:avx512_core_amx_int8" → "brgconv_amx_int8" (a plan-name token: no ':' or '/').
std::string short_impl_name(std::string s) {
  for (const std::string_view drop : {"avx512_core_", "x64:"}) {
    for (size_t at = s.find(drop); at != std::string::npos; at = s.find(drop)) {
      s.erase(at, drop.size());
    }
  }
  for (char& c : s)
    if (c == ':' || c == '/' || c == '-' || c == ' ' || c == '\t') c = '_';
  return s;
}

// oneDNN's primitive descriptor for one sample of the layer on the padded image (padding 0): u8
// source and s32 destination in NHWC (what our staging writes and our epilogue reads), weights in
// whatever layout the implementation prefers.
dnnl::convolution_forward::primitive_desc make_pd(const fixedpoint::ConvGeometry& g) {
  // oneDNN's implementation list depends on the OpenMP team size of the calling thread: the
  // stream sets it to one thread, as when the primitive runs.
  (void)onednn::stream();
  const dnnl::memory::dims src{1, g.in_channels, padded_h(g), padded_w(g)};
  const dnnl::memory::dims dst{1, g.out_channels, g.out_h(), g.out_w()};
  const dnnl::memory::dims w =
      g.groups == 1 ? dnnl::memory::dims{g.out_channels, g.in_channels, g.kernel_h, g.kernel_w}
                    : dnnl::memory::dims{g.groups, g.out_channels_per_group(),
                                         g.in_channels_per_group(), g.kernel_h, g.kernel_w};
  const dnnl::memory::desc src_md(src, dt::u8, tag::nhwc), dst_md(dst, dt::s32, tag::nhwc),
      w_md(w, dt::s8, tag::any);
  const dnnl::convolution_forward::desc d(
      dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct, src_md, w_md, dst_md,
      {g.stride_h, g.stride_w}, {g.dilation_h - 1, g.dilation_w - 1}, {0, 0}, {0, 0});
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  return {d, attr, onednn::engine(), true};
}

// The implementations worth offering: exact int32 products (an ISA with vpdpbusd or AMX in the
// name: oneDNN's sse41 / avx2 / avx512_core int8 kernels add u8·s8 pairs in saturating int16 with
// vpmaddubsw; "gemm_s8u8s32:jit" names no ISA), and exact sums (above).
bool usable(const std::string& impl, int64_t max_abs_wsum) {
  if (impl.find("vnni") == std::string::npos && impl.find("amx") == std::string::npos) {
    return false;
  }
  if (impl.starts_with("brg")) return true;
  return 255 * max_abs_wsum < (int64_t{1} << 24);
}

int64_t max_abs_wsum(const fixedpoint::ConvGeometry& g, std::span<const int8_t> w) {
  const int64_t k = g.in_channels_per_group() * g.kernel_h * g.kernel_w;
  int64_t best = 0;
  for (int64_t oc = 0; oc < g.out_channels; ++oc) {
    int64_t s = 0;
    for (int64_t i = 0; i < k; ++i) {
      const int32_t v = w[static_cast<size_t>(oc * k + i)];
      s += v < 0 ? -v : v;
    }
    best = std::max(best, s);
  }
  return best;
}

// The layers this plan takes: symmetric weights, the exact int32 sum (no simulated accumulator).
bool expressible(const ConvS8Params& p) {
  return onednn::int8_exact() && p.weight_zero_point == 0 && p.accumulator_bits == 0;
}

// 16 rows of 16 bytes → 16 columns (four rounds of byte interleaving), each byte ^ flip.
inline void transpose16(const uint8_t* const (&src)[16], uint8_t* const (&dst)[16], __m128i flip) {
  __m128i a[16], b[16];
  for (int i = 0; i < 16; ++i) a[i] = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src[i]));
  for (int round = 0; round < 4; ++round) {
    for (int i = 0; i < 8; ++i) {
      b[2 * i] = _mm_unpacklo_epi8(a[i], a[i + 8]);
      b[2 * i + 1] = _mm_unpackhi_epi8(a[i], a[i + 8]);
    }
    for (int i = 0; i < 16; ++i) a[i] = b[i];
  }
  for (int i = 0; i < 16; ++i) {
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst[i]), _mm_xor_si128(a[i], flip));
  }
}

}  // namespace

struct S8OnednnConv {
  fixedpoint::ConvGeometry g;
  uint8_t flip = 0;  // 0x80 for s8 inputs (x + 128 as a byte)
  uint8_t zpad = 0;  // the padding byte: z_x + shift
  std::string impl;  // short name
  dnnl::convolution_forward prim;
  dnnl::memory::desc src_md, dst_md, scratch_md;
  dnnl::memory weights;  // in the implementation's layout, reordered once
  size_t src_bytes = 0, dst_bytes = 0, scratch_bytes = 0;
};

std::vector<std::string> onednn_s8_impls(const ConvS8Params& p, std::span<const int8_t> w) {
  std::vector<std::string> out;
  if (!expressible(p)) return out;
  try {
    auto pd = make_pd(p.geometry);
    if (!pd) return out;
    const std::string impl = pd.impl_info_str();
    if (usable(impl, max_abs_wsum(p.geometry, w))) out.push_back(short_impl_name(impl));
  } catch (const dnnl::error&) {
    out.clear();  // not expressible for oneDNN: no candidates
  }
  return out;
}

Result<std::shared_ptr<const S8OnednnConv>> onednn_s8_prepare(const ConvS8Params& p,
                                                              std::span<const int8_t> w, IntType in,
                                                              std::string_view impl,
                                                              std::string_view plan) {
  constexpr std::string_view kWhat = "int8 convolution";
  if (!expressible(p)) {
    return invalid_argument(
        "cannot prepare {}: plan = '{}', must be a plan of this CPU (onednn needs oneDNN with "
        "exact int8 (VNNI or AMX), z_w = 0 and no simulated accumulator)",
        kWhat, plan);
  }
  const fixedpoint::ConvGeometry& g = p.geometry;
  auto c = std::make_shared<S8OnednnConv>();
  c->g = g;
  c->flip = in == IntType::kS8 ? 0x80 : 0;
  c->zpad = static_cast<uint8_t>(p.input_zero_point + (in == IntType::kS8 ? 128 : 0));
  std::vector<std::string> seen;
  try {
    auto pd = make_pd(g);
    if (!pd)
      return unsupported("cannot prepare {}: plan = '{}', must be a layer oneDNN takes", kWhat,
                         plan);
    // oneDNN's own choice only: iterating its other implementations (next_impl) crashes inside
    // oneDNN 2.6 on some shapes (SIGFPE in an implementation's init, e.g. one output channel with a
    // dilated 4×5 kernel), so they are not offered.
    const std::string full = pd.impl_info_str();
    const std::string name = short_impl_name(full);
    const bool exact = usable(full, max_abs_wsum(g, w));
    if (!exact || (!impl.empty() && name != impl)) {
      return invalid_argument(
          "cannot prepare {}: plan = '{}', must be onednn/{} (oneDNN's implementation for this "
          "layer{})",
          kWhat, plan, name, exact ? "" : ", which is not exact here");
    }
    seen.push_back(name);
    c->impl = seen.back();
    c->prim = dnnl::convolution_forward(pd);
    c->src_md = pd.src_desc();
    c->dst_md = pd.dst_desc();
    c->scratch_md = pd.scratchpad_desc();
    c->src_bytes = c->src_md.get_size();
    c->dst_bytes = c->dst_md.get_size();
    c->scratch_bytes = c->scratch_md.get_size();
    const dnnl::memory::dims wd =
        g.groups == 1 ? dnnl::memory::dims{g.out_channels, g.in_channels, g.kernel_h, g.kernel_w}
                      : dnnl::memory::dims{g.groups, g.out_channels_per_group(),
                                           g.in_channels_per_group(), g.kernel_h, g.kernel_w};
    dnnl::memory user_w({wd, dt::s8, g.groups == 1 ? tag::oihw : tag::goihw}, onednn::engine(),
                        const_cast<int8_t*>(w.data()));
    c->weights = dnnl::memory(pd.weights_desc(), onednn::engine());
    dnnl::stream& s = onednn::stream();
    dnnl::reorder(user_w, c->weights).execute(s, user_w, c->weights);
    s.wait();
  } catch (const dnnl::error& e) {
    return unsupported("cannot prepare {}: plan = '{}', must be a layer oneDNN takes ({})", kWhat,
                       plan, e.what());
  }
  return std::shared_ptr<const S8OnednnConv>(std::move(c));
}

std::string_view onednn_s8_name(const S8OnednnConv& c) { return c.impl; }

namespace {
size_t up64(size_t n) { return (n + 63) / 64 * 64; }
}  // namespace

size_t onednn_s8_scratch_bytes(const S8OnednnConv& c) {
  // The epilogue tile: 64 × 64 int32 (s32 output) or 64 pixels × C_out bytes.
  const size_t tile = static_cast<size_t>(kTile * std::max<int64_t>(4 * kTile, c.g.out_channels));
  return up64(c.src_bytes + 16) + up64(c.dst_bytes) + up64(c.scratch_bytes) + tile + 64;
}

namespace {

// NCHW sample x (C planes of H·W bytes) → the padded NHWC u8 image b ([Hp][Wp][C], x ^ flip,
// padding zpad).
void stage_nhwc(const S8OnednnConv& c, const uint8_t* x, uint8_t* b) {
  const fixedpoint::ConvGeometry& g = c.g;
  const int64_t C = g.in_channels, H = g.in_h, W = g.in_w, Wp = padded_w(g);
  const int64_t row = Wp * C;
  std::memset(b, c.zpad, static_cast<size_t>(g.pad_top * row));
  std::memset(b + (g.pad_top + H) * row, c.zpad, static_cast<size_t>(g.pad_bottom * row));
  for (int64_t h = 0; h < H; ++h) {
    uint8_t* r = b + (g.pad_top + h) * row;
    std::memset(r, c.zpad, static_cast<size_t>(g.pad_left * C));
    std::memset(r + (g.pad_left + W) * C, c.zpad, static_cast<size_t>(g.pad_right * C));
  }
  const __m128i flip = _mm_set1_epi8(static_cast<char>(c.flip));
  const int64_t hw = H * W;
  if (W >= 16) {  // 16 channels × 16 pixels of one row per transpose
    for (int64_t h = 0; h < H; ++h) {
      uint8_t* d = b + (g.pad_top + h) * row + g.pad_left * C;
      const uint8_t* xs = x + h * W;
      int64_t c0 = 0;
      for (; c0 + 16 <= C; c0 += 16) {
        int64_t w0 = 0;
        for (; w0 + 16 <= W; w0 += 16) {
          const uint8_t* src[16];
          uint8_t* dst[16];
          for (int i = 0; i < 16; ++i) {
            src[i] = xs + (c0 + i) * hw + w0;
            dst[i] = d + (w0 + i) * C + c0;
          }
          transpose16(src, dst, flip);
        }
        for (; w0 < W; ++w0)
          for (int64_t i = 0; i < 16; ++i)
            d[w0 * C + c0 + i] = static_cast<uint8_t>(xs[(c0 + i) * hw + w0] ^ c.flip);
      }
      for (; c0 < C; ++c0)
        for (int64_t w0 = 0; w0 < W; ++w0)
          d[w0 * C + c0] = static_cast<uint8_t>(xs[c0 * hw + w0] ^ c.flip);
    }
    return;
  }
  // Short rows (7×7, 8×8, 14×14 planes, 1-D): 16 channels × 16 consecutive pixels of the plane
  // (across rows: every destination pixel has its own address) per transpose.
  auto at = [&](int64_t q) { return b + ((g.pad_top + q / W) * Wp + g.pad_left + q % W) * C; };
  int64_t c0 = 0;
  for (; c0 + 16 <= C; c0 += 16) {
    int64_t q0 = 0;
    for (; q0 + 16 <= hw; q0 += 16) {
      const uint8_t* src[16];
      uint8_t* dst[16];
      for (int i = 0; i < 16; ++i) {
        src[i] = x + (c0 + i) * hw + q0;
        dst[i] = at(q0 + i) + c0;
      }
      transpose16(src, dst, flip);
    }
    for (; q0 < hw; ++q0) {
      uint8_t* d = at(q0) + c0;
      for (int64_t i = 0; i < 16; ++i) d[i] = static_cast<uint8_t>(x[(c0 + i) * hw + q0] ^ c.flip);
    }
  }
  for (int64_t q = 0; q < hw && c0 < C; ++q) {
    uint8_t* d = at(q);
    for (int64_t i = c0; i < C; ++i) d[i] = static_cast<uint8_t>(x[i * hw + q] ^ c.flip);
  }
}

}  // namespace

void onednn_s8_run(const S8OnednnConv& c, const void* input, void* output, std::byte* scratch,
                   int64_t batch, const S8Epilogue& e, S8EpilogueFn epilogue) {
  const fixedpoint::ConvGeometry& g = c.g;
  auto* base = reinterpret_cast<std::byte*>((reinterpret_cast<uintptr_t>(scratch) + 63) / 64 * 64);
  auto* src = reinterpret_cast<uint8_t*>(base);
  auto* dst = reinterpret_cast<int32_t*>(base + up64(c.src_bytes + 16));
  std::byte* pad = base + up64(c.src_bytes + 16) + up64(c.dst_bytes);
  auto* tile = reinterpret_cast<int32_t*>(pad + up64(c.scratch_bytes));
  const dnnl::engine& eng = onednn::engine();
  dnnl::stream& s = onednn::stream();
  // Memory handles over our scratch (oneDNN allocates their small descriptors, never buffers).
  dnnl::memory src_m(c.src_md, eng, src), dst_m(c.dst_md, eng, dst), w_m = c.weights,
                                                                     pad_m(c.scratch_md, eng, pad);
  const std::unordered_map<int, dnnl::memory> args{{DNNL_ARG_SRC, src_m},
                                                   {DNNL_ARG_WEIGHTS, w_m},
                                                   {DNNL_ARG_DST, dst_m},
                                                   {DNNL_ARG_SCRATCHPAD, pad_m}};
  S8Epilogue ecol = e;  // the same tables, channel = column
  ecol.per_column = true;
  const int64_t in_n = g.input_numel(), oc_n = g.out_channels;
  const int64_t plane = g.out_h() * g.out_w();
  for (int64_t n = 0; n < batch; ++n) {
    stage_nhwc(c, static_cast<const uint8_t*>(input) + n * in_n, src);
    c.prim.execute(s, args);
    s.wait();
    if (e.out != IntType::kS32) {
      // Requantized per pixel along its C_out channels (the epilogue's per-column mode) into a
      // byte tile [64 pixels][C_out], then transposed 16 × 16 into the NCHW planes.
      auto* bytes = reinterpret_cast<uint8_t*>(tile);
      uint8_t* y = static_cast<uint8_t*>(output) + n * oc_n * plane;
      for (int64_t p0 = 0; p0 < plane; p0 += kTile) {
        const int64_t np = std::min(kTile, plane - p0);
        for (int64_t p = 0; p < np; ++p) {
          epilogue(ecol, dst + (p0 + p) * oc_n, 0, bytes, p * oc_n, oc_n);
        }
        int64_t q = 0;
        for (; q + 16 <= np; q += 16) {
          int64_t c0 = 0;
          for (; c0 + 16 <= oc_n; c0 += 16) {
            const uint8_t* from[16];
            uint8_t* to[16];
            for (int i = 0; i < 16; ++i) {
              from[i] = bytes + (q + i) * oc_n + c0;
              to[i] = y + (c0 + i) * plane + p0 + q;
            }
            transpose16(from, to, _mm_setzero_si128());
          }
          for (; c0 < oc_n; ++c0)
            for (int64_t i = 0; i < 16; ++i)
              y[c0 * plane + p0 + q + i] = bytes[(q + i) * oc_n + c0];
        }
        for (; q < np; ++q)
          for (int64_t c0 = 0; c0 < oc_n; ++c0) y[c0 * plane + p0 + q] = bytes[q * oc_n + c0];
      }
      continue;
    }
    // s32 output: tiles of 64 pixels × 64 channels transposed into `tile` ([channel][pixel]),
    // each channel's run then written by the epilogue into the NCHW output.
    for (int64_t p0 = 0; p0 < plane; p0 += kTile) {
      const int64_t np = std::min(kTile, plane - p0);
      for (int64_t c0 = 0; c0 < oc_n; c0 += kTile) {
        const int64_t nc = std::min(kTile, oc_n - c0);
        for (int64_t p = 0; p < np; ++p) {
          const int32_t* r = dst + (p0 + p) * oc_n + c0;
          for (int64_t j = 0; j < nc; ++j) tile[j * kTile + p] = r[j];
        }
        for (int64_t j = 0; j < nc; ++j) {
          epilogue(e, tile + j * kTile, c0 + j, output, (n * oc_n + c0 + j) * plane + p0, np);
        }
      }
    }
  }
}

#else  // no oneDNN

struct S8OnednnConv {};

std::vector<std::string> onednn_s8_impls(const ConvS8Params&, std::span<const int8_t>) {
  return {};
}
Result<std::shared_ptr<const S8OnednnConv>> onednn_s8_prepare(const ConvS8Params&,
                                                              std::span<const int8_t>, IntType,
                                                              std::string_view,
                                                              std::string_view plan) {
  return unsupported(
      "cannot prepare int8 convolution: plan = '{}', must be a plan of this build "
      "(oneDNN is not compiled in)",
      plan);
}
std::string_view onednn_s8_name(const S8OnednnConv&) { return {}; }
size_t onednn_s8_scratch_bytes(const S8OnednnConv&) { return 0; }
void onednn_s8_run(const S8OnednnConv&, const void*, void*, std::byte*, int64_t, const S8Epilogue&,
                   S8EpilogueFn) {}

#endif

}  // namespace ei8::kernels
