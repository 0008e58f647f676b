// ei8/runtime/kernels/f32_internal.h — internal to ei8_kernels: the plans that prepare()
// builds and the tier entry points the one dispatcher (conv_f32.cpp, gemm_f32.cpp) calls.
// Not a public header: the executor uses conv_f32.h / gemm_f32.h.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "ei8/runtime/kernels/conv_f32.h"
#include "ei8/runtime/kernels/f32_winograd.h"
#include "ei8/runtime/kernels/gemm_f32.h"
#include "ei8/runtime/kernels/ref/eltwise_f32_ref.h"

namespace ei8::kernels {

// Float lanes of a tier's vectors: 16 for AVX-512 (zmm), 8 otherwise (ymm, portable).
constexpr int f32_lanes(KernelChoice tier) { return tier == KernelChoice::kAvx512 ? 16 : 8; }
// Vector registers a tier's tiles may fill: 32 with AVX-512, 16 otherwise.
constexpr int f32_regs(KernelChoice tier) { return tier == KernelChoice::kAvx512 ? 32 : 16; }

// The direct tile shapes MR × NV (output channels × pixel vectors) per register file: MR·NV
// accumulators + NV operands + 1 broadcast ≤ the registers. 16 registers: 1×4, 2×4, 3×3, 4×3,
// 6×2; 32 registers: 1×8, 2×8, 3×6, 4×6, 6×4, 8×3 (12×2, 12 broadcasts per 2 loads, ran at a
// third of 6×4's speed on 256-channel layers). 0 = not a shape of that file.
constexpr int direct_tile_nv(int regs, int mr) {
  if (regs >= 32) {
    switch (mr) {
      case 1:
      case 2:
        return 8;
      case 3:
      case 4:
        return 6;
      case 6:
        return 4;
      case 8:
        return 3;
      default:
        return 0;
    }
  }
  switch (mr) {
    case 1:
    case 2:
      return 4;
    case 3:
    case 4:
      return 3;
    case 6:
      return 2;
    default:
      return 0;
  }
}

// The K block of a direct tile with NV vectors of `lanes` floats: blocks of ≤ 32 KiB of staged
// operands (kc·NV·lanes·4 bytes), the taps split evenly. The taps of a k×k window overlap
// (neighbouring columns and rows), so the distinct lines are fewer. 32 rather than 16 KiB: one
// block instead of two for K = 288 (AVX2, 32→32 3×3: 62.8 → 56.8 µs; 32→64 at 16×16:
// 117 → 106).
constexpr int64_t direct_k_block(int64_t k, int nv, int lanes) {
  const int64_t max_kc = 32768 / (int64_t{nv} * lanes * 4);
  const int64_t blocks = (k + max_kc - 1) / max_kc;
  return (k + blocks - 1) / blocks;
}

// One call computes one group of one image of a convolution as a "direct" GEMM:
//   dst[oc][p] = act(bias[oc] + Σ_k wpack[oc][k] · src[koff[k] + vin[v] + lane])
// where output pixels are taken in vectors of L = f32_lanes(tier) lanes (vector v = L
// consecutive output pixels starting at out offset vout[v], vlen[v] of them valid) and k runs
// over (ic, kh, kw). The staged source makes every (k, v) operand L consecutive floats, so the
// micro-kernel never packs the input (see docs/kernels.md, "direct convolution").
struct DirectConvArgs {
  const float* src;     // staged input of this group
  const int32_t* koff;  // [k] offsets of each (ic, kh, kw) tap in src
  int64_t k;            // (in_c/groups)·kernel_h·kernel_w
  const float* wpack;   // per K block [k0, k1) of direct_k_block taps, every row block b:
                       // wpack[(k0·blocks + b·(k1 − k0) + (kk − k0))·mr + r] = w[b·mr + r][kk],
                       // zero rows past out_c (blocks = ceil(out_c/mr))
  const float* bias;    // [ceil(out_c/mr)·mr], zero-padded
  int64_t out_c;        // output channels of this group
  float* dst;           // output channel 0 of this group
  int64_t out_plane;    // out_h·out_w (channel stride of dst)
  int64_t n_vec;        // vectors of output pixels
  const int32_t* vin;   // [n_vec] source offset of the vector's lane 0
  const int32_t* vout;  // [n_vec] destination offset of the vector's lane 0
  const int32_t* vlen;  // [n_vec] valid lanes, 1..L
  int mr;               // rows per tile: a shape of direct_tile_nv for the tier's registers
  Activation act;
};

// Y[m][n] = act(Σ_k a(m,k)·bpack + cvec[n]) with a(m,k) = a[m·a_rs + k·a_ks] and B packed in
// panels of L·nv columns (L = f32_lanes(tier)): bpack[panel][k][L·nv] (alpha folded in,
// zero-padded columns).
struct PackedGemmArgs {
  const float* a;
  int64_t a_rs, a_ks;
  int64_t m, n, k;
  const float* bpack;
  const float* cvec;  // [n_panels·L·nv]: beta·C broadcast over the columns, zero-padded
  float* y;           // row stride n
  int nv;             // vectors per panel (panel width L·nv), 1..3
  Activation act;
};

// A pointwise convolution (1×1, stride 1, no padding, groups 1) on a small plane, with the
// output channels in the vector lanes ("transposed" plan, AVX-512): a tile of MR pixels × NV
// vectors of 16 output channels; per tap k the pixel values are broadcast and the packed
// weights wt[block][k][16·NV] loaded; the results are stored lane by lane to y[oc][pixel].
// Per output: bias, then the taps k = 0..K−1 in order by FMA, then the activation — the
// direct plan's operations (its K blocks store and reload the exact partial sums), so the same
// bits, with no lanes wasted on a plane that is not a multiple of 16 (7×7: 49 of 64 lanes in
// the direct plan; 1×1, the squeeze-excitation convs: 1 of 16).
struct PointwiseTArgs {
  const float* x;     // [k][plane] (one image)
  const float* wt;    // [ceil(out_c / (16·NV))][k][16·NV], zero past out_c
  const float* bias;  // [ceil(out_c / (16·NV))·16·NV], zero-padded
  float* y;           // [out_c][plane]
  int64_t k, plane, out_c;
  int nv;  // vectors of output channels per tile (kPointwiseTNv)
  Activation act;
};
inline constexpr int kPointwiseTNv = 3;  // 7 pixels × 3 zmm = 21 accumulators + 3 + 1 of 32
void conv2d_f32_pointwise_t_avx512(const PointwiseTArgs& args);

// A depthwise stride-1 "same" convolution (groups = in_c = out_c, 3×3 or 5×5, dilation 1,
// output plane = input plane) on the AVX-512 tier, read in place: vectors of 16 outputs run
// over the flattened plane (position j = oh·W + ow) and tap t reads x[j + off[t]] with the lanes
// whose input pixel is outside the image masked to 0 (mask[v·k + t], bit l = lane l of vector v
// reads a pixel). Per lane: bias, then the taps in order by FMA, then the activation — the
// same operations as the staged direct plan (conv_depthwise on zero-padded rows), so the same
// bits, without the per-channel staging copy.
struct DwFlatArgs {
  const float* x;              // [channels][plane]
  const float* w;              // [channels][k]
  const float* bias;           // [channels]
  float* y;                    // [channels][plane]
  int64_t channels, plane, k;  // k = 9 or 25
  const int32_t* off;          // [k]
  const uint16_t* mask;        // [n_vec][k]
  int64_t n_vec;               // ceil(plane / 16)
  Activation act;
};
void conv2d_f32_depthwise_flat_avx512(const DwFlatArgs& args);

// A depthwise stride-2 convolution (groups = in_c = out_c, 3×3 or 5×5, dilation 1, any pads)
// on the AVX-512 tier, read in place: 16 outputs of a row per vector; for each kernel row, 32
// input columns are loaded from 2·ow0 − pad_left + 2p (p = 0, 1, 2; masked to 0 outside the
// row, rows outside the image read as 0) and split into even / odd columns by vpermt2ps, which
// are taps kw = 2p and 2p + 1. Per lane: bias, then the taps in order by FMA, then the
// activation: the staged direct plan's operations, so the same bits, without the per-channel
// column-phase gather.
struct DwS2Args {
  const float* x;  // [channels][in_h][in_w]
  const float* w;  // [channels][k·k]
  const float* bias;
  float* y;  // [channels][out_h][out_w]
  int64_t channels, in_h, in_w, out_h, out_w, k, pad_top, pad_left;
  Activation act;
};
void conv2d_f32_depthwise_s2_avx512(const DwS2Args& args);
bool depthwise_s2_applicable(const Conv2dParams& p);
bool depthwise_flat_applicable(const Conv2dParams& p);

// Whether Winograd F(2×2, 3×3) is faster than the direct plan for an applicable shape
// (measured; conv_f32_winograd.cpp).
bool winograd_pays_off(const Conv2dParams& p, KernelChoice tier);
// Whether the im2col plan beats the direct plan's row vectors for a shape (conv_f32.cpp).
bool im2col_pays_off(const Conv2dParams& p, KernelChoice tier);

// Tier entry points (STYLE.md 5: each in its own translation unit with its own flags).
void conv2d_f32_direct_generic(const DirectConvArgs& args);
void conv2d_f32_direct_avx2(const DirectConvArgs& args);
void conv2d_f32_direct_avx512(const DirectConvArgs& args);
void gemm_f32_packed_generic(const PackedGemmArgs& args);
void gemm_f32_packed_avx2(const PackedGemmArgs& args);
void gemm_f32_packed_avx512(const PackedGemmArgs& args);
// The staging of a strided convolution (ConvStage::kStrided), one image, every channel c and
// every staged row r with row_used[r] (the others are never read): the column gather of input
// row ih = r − pad_top for every tap t in [0, taps),
//   dst[c·plane + r·row_stride + t·n + i] = x[c][ih][i·stride + off0 + t·tap_step],
// 0 where ih or that column is outside the input (padding). Reads only inside the input.
struct StridedGather {
  const float* x;
  int64_t channels, in_h, in_w, pad_top, rows;
  const uint8_t* row_used;  // [rows]
  int64_t stride, off0, taps, tap_step, n;
  int64_t row_stride, plane;  // of dst
  float* dst;
};
void gather_f32_strided_generic(const StridedGather& g);
void gather_f32_strided_avx2(const StridedGather& g);

// The zero-padded copy of a stride-1 convolution's staging (ConvStage::kPadded), every channel:
// dst[c][r][j] = x[c][r − pad_top][j − pad_left] inside the input, 0 in the padding; rows of
// row_stride = pad_left + in_w + pad_right floats, planes of `plane` floats.
struct PaddedStage {
  const float* x;
  int64_t channels, in_h, in_w, pad_top, pad_left, pad_bottom, pad_right, plane;
  float* dst;
};
void stage_padded_f32_generic(const PaddedStage& s);
void stage_padded_f32_avx2(const PaddedStage& s);

// The im2col staging of one image (ConvStage::kIm2col), every channel of one group: for tap
// k = (c·kernel_h + kh)·kernel_w + kw, dst[k·plane + oh·out_w + ow] = x[c][ih][iw] with
// ih = oh·stride_h + kh·dilation_h − pad_top, iw = ow·stride_w + kw·dilation_w − pad_left, 0 in
// the padding and in dst[k·plane + out_h·out_w .. (k+1)·plane) (plane: the pixels rounded up
// to the vector width). dst must have kSlack floats of room past channels·kh·kw·plane.
struct Im2colStage {
  static constexpr int64_t kSlack = 8;
  const float* x;
  int64_t channels, in_h, in_w;
  int64_t kernel_h, kernel_w, stride_h, stride_w, dilation_h, dilation_w, pad_top, pad_left;
  int64_t out_h, out_w, plane;
  float* dst;
};
void stage_im2col_f32_generic(const Im2colStage& s);
void stage_im2col_f32_avx2(const Im2colStage& s);

// y = a ∘ b (relu: then r > 0 ? r : 0) over a non-empty broadcast plan (eltwise_f32.h).
struct BinaryArgs {
  BinaryOp op;
  const BroadcastPlan* plan;
  const float* a;
  const float* b;
  float* y;
  bool relu;
};
void binary_f32_generic(const BinaryArgs& args);
void binary_f32_avx2(const BinaryArgs& args);

// The activations with a fast path (eltwise_f32.h: unary_f32, silu_f32) and the per-channel
// affine (channel_affine_f32), per tier (generic/eltwise_generic.cpp, x86/eltwise_avx2.cpp;
// both compiled with -ffp-contract=off so that the exact ops stay one IEEE operation each).
enum class FastUnary { kRelu, kClip, kLeakyRelu, kSigmoid, kSilu, kHardSigmoid, kHardSwish };
struct UnaryArgs {
  FastUnary op;
  float lo, hi, alpha;  // Clip bounds, LeakyRelu / HardSigmoid slope
  float beta;           // HardSigmoid offset
  int64_t n;
  const float* x;
  float* y;
};
void unary_f32_generic(const UnaryArgs& args);
void unary_f32_avx2(const UnaryArgs& args);
struct AffineArgs {
  int64_t planes, channels, inner;  // planes = batch·channels
  const float* scale;
  const float* shift;
  const float* x;
  float* y;
  bool relu;
};
void channel_affine_f32_generic(const AffineArgs& args);
void channel_affine_f32_avx2(const AffineArgs& args);

// How the input of a direct convolution is staged in scratch before the micro-kernels run.
enum class ConvStage {
  kNone,     // 1×1, stride 1, no padding: the input itself (flat_tail: a staged copy)
  kPadded,   // stride_w = 1: zero-padded copy [c][in_h+pads][in_w+pads]
  kStrided,  // stride_w > 1: [c][in_h+pads][blocks][n], column-gathered (Impl::gather_*)
  kIm2col,   // [k][out_h·out_w rounded to L]: pixel vectors cross output rows
};

// The oneDNN plan's primitives and packed weights (conv_f32_onednn.cpp; opaque here so that
// this header does not need oneDNN's).
struct OnednnConvPlan;

struct Conv2dF32::Impl {
  Conv2dParams p;
  KernelChoice choice = KernelChoice::kRef;
  std::vector<float> weight, bias;  // kRef: the original tensors
  // Direct plan (kGeneric, kAvx2).
  ConvStage stage = ConvStage::kNone;
  int64_t plane = 0;          // floats per staged channel
  int64_t row_stride = 0;     // floats per staged row
  int64_t staged_floats = 0;  // scratch floats: staged image + slack read by the tail lanes
  int mr = 4;
  bool zmm = false;  // kAvx512 with 16-lane vectors (false: its 8-lane plan, see prepare())
  std::vector<int32_t> koff, vin, vout, vlen;
  std::vector<uint8_t> row_used;  // [staged rows]: read by some output row
  // kNone with H·W below the lanes: the one vector (vlen < lanes) would read past the input,
  // so run() copies its lanes of every channel into scratch ([in_c/groups][lanes], zeros after
  // the valid lanes) and runs it with tail_koff[ic] = ic·lanes. Same micro-kernel, same sums
  // in the same order as every other direct plan. (Larger planes end with a vector moved back
  // to overlap the one before: prepare().)
  bool flat_tail = false;
  std::vector<int32_t> tail_koff;
  // The AVX-512 depthwise plan over the flattened plane (DwFlatArgs): tap offsets, lane masks.
  bool dw_flat = false, dw_s2 = false;  // dw_s2: DwS2Args (weights in `weight`, bias in bpack)
  bool pw_t = false;  // PointwiseTArgs (algorithm kTransposed): weights in wpack, bias in bpack
  std::vector<int32_t> dw_off;
  std::vector<uint16_t> dw_mask;
  // kStrided: each staged row holds gather_taps blocks of gather_n floats (a multiple of 8),
  // block t = the padded row's columns j·stride_w + t·gather_step. Either one block per tap
  // (gather_step = dilation_w), or, when kernel_w > stride_w, one per column phase
  // (gather_step = 1, stride_w blocks): tap kw then reads block (kw·dilation_w) mod stride_w
  // from element (kw·dilation_w) div stride_w on, so a 3-wide stride-2 window stages every
  // input column once instead of 1.5 times (3 gathers of half a row → 2).
  int64_t gather_taps = 0, gather_step = 0, gather_n = 0;
  std::vector<float> wpack, bpack;
  int64_t wpack_group = 0, bpack_group = 0;  // floats per group
  // Winograd plan (algorithm == kWinograd; f32_winograd.h): wpack holds U, bpack the bias,
  // the input is staged kPadded with the bottom/right padding extended to whole quads.
  ConvAlgorithm algorithm = ConvAlgorithm::kDirect;
  int nv = 3;
  int64_t wino_pad_bottom = 0, wino_pad_right = 0;  // staged padding (≥ the real one)
  int64_t wino_images = 1;                          // images per kernel call
  int64_t wino_vbuf = 0, wino_mbuf = 0;             // scratch floats after the staged images
  std::vector<int32_t> qin, qout;
  std::vector<uint8_t> qcols, qrows;

  // oneDNN plan (algorithm kOnednn / kOnednnNchw): its primitives, and "onednn/<impl>".
  std::shared_ptr<const OnednnConvPlan> dnn;
  std::string dnn_variant;

  // Stages the input channels of one group (x: its first channel) into s.
  void stage_group(const float* x, float* s) const;
  Status prepare_onednn(std::span<const float> weight, std::span<const float> bias);
  size_t onednn_scratch_bytes() const;
  void run_onednn(const float* input, float* output, int64_t batch, float* scratch) const;
  Status prepare_winograd(std::span<const float> weight, std::span<const float> bias);
  void run_winograd(const float* input, float* output, int64_t batch, float* scratch) const;
};

struct GemmF32::Impl {
  GemmParams p;
  KernelChoice choice = KernelChoice::kRef;
  std::vector<float> b, c;  // kRef: the original tensors
  int nv = 2;
  bool zmm = false;  // kAvx512 with 16-lane panels (false: its 8-lane kernel, see prepare())
  std::vector<float> bpack, cvec;
};

}  // namespace ei8::kernels
