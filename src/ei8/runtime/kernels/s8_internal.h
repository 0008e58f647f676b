// ei8/runtime/kernels/s8_internal.h — internal to ei8_kernels: the plans that
// ConvS8Kernel / FullyConnectedS8Kernel::prepare() build and the INT8 tier entry points the one
// dispatcher (conv_s8.cpp) calls. Not a public header: the executor uses conv_s8.h.
//
// The "direct" INT8 plan (every non-ref tier; docs in conv_s8.h):
//   dst[r][lane] = epilogue( Σ_s  dot(apack[r-block][s][r], src[koff[s] + vin[v] + lane]) )
// where memory is seen as 4-byte SLOTS: a slot holds two int16 (x − z_x, the int16 tiers, k
// pairs for vpmaddwd) or four u8 (x + shift, the VNNI tier, k quads for vpdpbusd). For a
// convolution the slots of src are input pixels (the staged, zero-point-padded image with 2 or 4
// input channels interleaved per pixel), rows r are output channels and a vector v is 8
// consecutive output pixels of one output row; for a fully connected layer src is the packed
// weight matrix (8 outputs per vector), rows are batch rows and apack is the staged input.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ei8/runtime/kernels/conv_s8.h"

namespace ei8::kernels {

inline constexpr int kS8Mr = 4;     // rows per register block
inline constexpr int kS8Lanes = 8;  // output lanes (slots) per vector

// The epilogue of every non-ref tier: acc = sum + bias (bias32 with a wrapping int32 add when
// prepare() proved the true value fits int32; otherwise int64 sum + bias64, saturated like the
// reference), then kS32 stores acc, kU8/kS8 requantize (ort: vectorised requantize_ort with
// mult/lo/hi/zy — float32 product, clamp, round half to even, + z_y — in the avx2 tier; tflite
// profiles: rq->apply() per element in every tier).
struct S8Epilogue {
  IntType out = IntType::kU8;
  bool per_column = false;  // channel = column (fully connected) or row (convolution)
  bool saturate = false;
  bool ort = true;
  const int32_t* bias32 = nullptr;  // per channel
  const int64_t* bias64 = nullptr;  // per channel
  const float* mult = nullptr;      // per channel ort multiplier
  float lo = 0.0f, hi = 0.0f;       // qmin − z_y, qmax − z_y (as requantize_ort computes them)
  int32_t zy = 0;
  const fixedpoint::Requantizer* rq = nullptr;
};

// Writes n outputs at element offset `dst` of `out` (element type e.out) from the int32 sums
// acc[0..n): channel `chan` for every element (per-row) or chan + j (per-column).
using S8EpilogueFn = void (*)(const S8Epilogue& e, const int32_t* acc, int64_t chan, void* out,
                              int64_t dst, int64_t n);
void epilogue_s8_generic(const S8Epilogue& e, const int32_t* acc, int64_t chan, void* out,
                         int64_t dst, int64_t n);
void epilogue_s8_avx2(const S8Epilogue& e, const int32_t* acc, int64_t chan, void* out, int64_t dst,
                      int64_t n);

struct S8DirectArgs {
  const int32_t* src = nullptr;   // slots
  const int32_t* koff = nullptr;  // [ks] slot offset of each k-slot
  // Mixed plan (conv_s8.cpp, u8 quads): [blocks + 1] and [blocks]; row block b has its own
  // k-slots, entries [block_start[b], block_start[b + 1]) of koff and of apack (kS8Mr slots
  // each), the pair-safe ones before block_unsafe[b]. nullptr: every block has ks k-slots (koff
  // shared, apack block b at b·ks·kS8Mr), all of them pair-safe for the u8 quad tile.
  const int64_t* block_start = nullptr;
  const int64_t* block_unsafe = nullptr;
  int64_t ks_safe = -1;  // set by the driver per row block: k-slots [0, ks_safe) are pair-safe
  int64_t ks = 0;        // k-slots: ceil(K/2) (int16 tiers) or ceil(K/4) (VNNI)
  const int32_t* apack = nullptr;  // [ceil(m/kS8Mr)][ks][kS8Mr] slots, zero rows past m
  int64_t m = 0;                   // valid rows
  const int32_t* vin = nullptr;    // [n_vec] slot offset of lane 0 in src
  const int32_t* vout = nullptr;   // [n_vec] per-row: output offset of lane 0; per-column: channel
  const int32_t* vlen = nullptr;   // [n_vec] valid lanes 1..8
  int64_t n_vec = 0;
  bool src_unsigned = true;  // quads: the activations are src (conv) or apack (fully connected)
  void* out = nullptr;
  int64_t dst0 = 0;        // element offset of row 0, lane 0
  int64_t row_stride = 0;  // elements between rows
  int64_t chan0 = 0;       // channel of row 0 (per-row epilogue)
  const S8Epilogue* e = nullptr;
};

// ---------------------------------------------------------------- the VNNI tier's own plan
//
// x86/s8_avx512vnni.cpp: register-blocked vpdpbusd micro-kernels on 16-lane zmm or 8-lane ymm
// vectors (AVX-512 VL encoding), MR rows × NV vectors of accumulators, the requantization fused
// into the block's epilogue (`ort`, s32) or the scalar Requantizer otherwise. A plan variant is
// chosen by prepare()'s heuristic or by measurement (runtime/tuning.h): every variant computes
// the same int32 sums, so the outputs are identical bit for bit.
struct VnniPlan {
  int lanes = 16;          // 16: zmm, 8: ymm
  int mr = 4;              // rows per register block: 4 (NV ≤ 6) or 8 (NV ≤ 3)
  int nv = 6;              // vectors per register block
  bool grid = false;       // convolutions: vectors run along the padded output grid (below)
  bool rows_outer = true;  // loop order: row blocks outer (weights stay), or vectors outer
};

// Lanes [lane_begin, lane_end) of a vector go to consecutive outputs from element offset `out`
// (per-row epilogue: offset inside the row's output plane; per-column: the channel of
// lane_begin). A row-mode vector (one output row, ≤ lanes outputs) has one segment; a grid-mode
// vector (consecutive positions j = oh·G + ow of the staged grid, G ≥ out_w; lanes with ow ≥
// out_w are computed and dropped) has one per output row it touches.
struct VnniSeg {
  int32_t lane_begin = 0, lane_end = 0;
  int32_t out = 0;
};

struct VnniArgs {
  VnniPlan plan;
  bool conv = true;  // conv: src = u8 activations, apack = s8 weights (per-row epilogue);
                     // fully connected: src = s8 weights, apack = u8 activations (per-column)
  const int32_t* src = nullptr;
  const int32_t* koff = nullptr;  // [ks]
  int64_t ks = 0;
  const int32_t* apack = nullptr;  // [ceil(m / mr)][ks][mr] slots, zero rows past m
  int64_t m = 0;
  const int32_t* vin = nullptr;        // [n_vec] slot offset of lane 0 in src
  const int32_t* seg_begin = nullptr;  // [n_vec + 1] into segs
  const VnniSeg* segs = nullptr;
  int64_t n_vec = 0;
  void* out = nullptr;
  int64_t dst0 = 0, row_stride = 0, chan0 = 0;  // as S8DirectArgs
  const S8Epilogue* e = nullptr;
};
void direct_u8s8_vnni(const VnniArgs& a);
// The same loops with vpdpbusd emulated in portable C++ and the scalar epilogue: the VNNI plans
// (quad staging, s8 → u8 shift, correction, segments, row blocks) tested without VNNI.
void direct_u8s8_vnni_emulated(const VnniArgs& a);

void direct_s16_generic(const S8DirectArgs& a);
void direct_s16_avx2(const S8DirectArgs& a);
// s8 × s8 quads with |w| ≤ 127: vpmaddubsw(|x|, sign(w, x)) pairs are ≤ 2·128·127 < 2^15, so
// they never saturate; vpmaddwd(·, 1) widens them to int32 quads (the AVX2 "VNNI emulation").
void direct_s8s8_avx2(const S8DirectArgs& a);
// u8 × s8 quads on AVX2. vpmaddubsw(x_u8, w) adds x0·w0 + x1·w1 in int16 with saturation; a
// weight pair is "pair-safe" when its positive weights sum to ≤ 128 and its negative weights to
// ≥ −128 (e.g. every |w| ≤ 64): the pair sums then lie in [−255·128, 255·128] ⊂ int16 and are
// exact without the sign trick (3 instructions per 32 MAC), vpmaddwd(·, 1) widening them into
// int32 quads. K-slots [ks_safe, ks) of a convolution hold some pair that is not safe (the mixed
// plan, full-range weights, |w| ≤ 127): they run with the sign trick on x − 128 (x ^ 0x80),
// whose −128·Σw the bias restores. Fully connected layers (weights are src) use it only when
// every weight is pair-safe.
void direct_u8s8_avx2(const S8DirectArgs& a);

// One row of a convolution's slot image from byte rows (conv_s8.cpp, staging step 2): the slot
// of source column c < n = quads: bytes x[t][c] ^ flip for t = 0..3 (flip 0x80: the ±128 shift
// between u8 and s8), pairs: int16 x[t][c] − z_x for t = 0, 1 (x read as s8 when sign_extend,
// else u8); it goes to dst[c] (split 1) or to dst[(c % split)·plen + c / split] (the column
// phases of a stride-`split` convolution; n ≤ split·plen, or any n for split 1). Writes only
// those n slots but may read each row up to 31 bytes past n (the callers' byte image has slack).
struct S8Interleave {
  const uint8_t* x[4] = {nullptr, nullptr, nullptr, nullptr};
  int64_t n = 0;
  int64_t split = 1, plen = 0;
  bool quads = true;
  uint8_t flip = 0;
  bool sign_extend = false;
  int32_t zx = 0;
  uint32_t* dst = nullptr;
};
void interleave_s8_generic(const S8Interleave& a);
void interleave_s8_avx2(const S8Interleave& a);

// One output row of a depthwise convolution: sum[ow] = Σ_t w[t]·row[tapoff[t] + ow] for
// ow < n (n rounded up to 16 may be written), row = img + row0·row_stride. img is the staged,
// zero-padded channel of int16 x − z_x (padded copy for stride_w = 1, column-gathered blocks
// otherwise; readable 16 past every run); tapoff[t] is tap t's element offset. wpair:
// ceil(kk/2) slots of two int16 w − z_w (taps 2j, 2j + 1; 0 past kk). Exact: vpmaddwd pairs
// of int16 products into int32.
struct S8DwRow {
  const int16_t* img = nullptr;
  int64_t row_stride = 0, row0 = 0;
  const int32_t* tapoff = nullptr;
  int64_t kk = 0;
  const int32_t* wpair = nullptr;
  int64_t n = 0;
  int32_t* sum = nullptr;
};
void dw_row_s16_generic(const S8DwRow& a);
void dw_row_s16_avx2(const S8DwRow& a);

// Depthwise on u8 quads (the VNNI tier's depthwise plan, conv_s8.cpp run_depthwise_quads). The
// channel is staged as a quad image: Q[row'][c] = the 4 bytes B[r][s·c .. s·c + 3] of padded
// row r of the u8 image B (x + shift, padding z_x + shift), s = stride_w, with the rows in
// stride_h phase order (row' = (r % stride_h)·H + r / stride_h). An output position j = oh·G + ow
// (G ≥ out_w quads per row; lanes with ow ≥ out_w are computed and dropped) then reads every
// kernel row kh and quad m of taps 4m..4m+3 at the constant offset qoff[kh, m] + j, so
// sum[j] = Σ_q vpdpbusd(Q[qoff[q] + j], wq[q]) − corr, corr = (z_x + shift)·Σ w: exactly
// Σ (x − z_x)(w − z_w) over the in-bounds taps (padding contributes z·w − z·w = 0).
struct S8DwQuads {
  const uint32_t* img = nullptr;  // quad image, readable up to max(qoff) + n rounded up to 64
  const int32_t* qoff = nullptr;  // [nq] offset of quad q from position j
  const int32_t* wq = nullptr;    // [nq] s8 weight quads (taps past kernel_w: 0)
  int64_t nq = 0;
  int64_t n = 0;     // positions; sums are written for n rounded up to 64
  int32_t corr = 0;  // subtracted from every sum (wrapping)
  int32_t* sum = nullptr;
  // Fused epilogue (e != nullptr; G = out_w, so position j is output element dst + j): the n
  // outputs of channel `chan` are written to `out` instead of the sums (ort bytes or s32 when
  // e->saturate is false; the emulation takes any epilogue).
  const S8Epilogue* e = nullptr;
  int64_t chan = 0;
  void* out = nullptr;
  int64_t dst = 0;
};
void dw_quads_vnni(const S8DwQuads& a);
void dw_quads_emulated(const S8DwQuads& a);
// Stages rows [r0, r1) of a depthwise channel: when x is set, input row r − pad_top (in_w bytes,
// ^ flip) is first copied into the byte image at b + r·brow + pad_left; then every row's quads
// Q[(r % sh)·hr + r / sh][c] = bytes b[r·brow + sw·c .. + 3] for c < g (sw = 1, 2 or 4). Reads
// each byte row up to sw·(g rounded up to 16) + 16 bytes.
struct S8DwStage {
  const uint8_t* x = nullptr;
  int64_t in_w = 0, pad_top = 0, pad_left = 0;
  uint8_t flip = 0, zpad = 0;  // zpad: the padding byte (z_x + shift)
  uint8_t* b = nullptr;
  int64_t brow = 0, r0 = 0, r1 = 0;
  uint32_t* q = nullptr;
  int64_t sh = 1, sw = 1, hr = 0, g = 0;
};
void dw_stage_vnni(const S8DwStage& a);
void dw_stage_generic(const S8DwStage& a);

// The AVX2 QuantizeLinear loop (conv_s8.h quantize_linear_f32); u8 selects the output type.
void quantize_f32_avx2(const float* x, int64_t n, float scale, float zero_point, bool u8,
                       void* out);

// The AVX2 QLinearAdd loop (conv_s8.h qlinear_add_s8); u8 selects the element type.
void qlinear_add_avx2(const QLinearAddParams& p, bool u8, const void* a, const void* b, void* c,
                      int64_t n);
// The same on AVX-512 F/BW, 16 lanes (x86/qlinear_avx512.cpp).
void qlinear_add_avx512(const QLinearAddParams& p, bool u8, const void* a, const void* b, void* c,
                        int64_t n);

// conv_s8.h lookup_table_u8 on AVX-512 VBMI (x86/s8_avx512vnni.cpp).
void lookup_table_u8_vbmi(const uint8_t* table, uint8_t flip, const uint8_t* x, uint8_t* y,
                          int64_t n);

// ---------------------------------------------------------------- the oneDNN plan
//
// conv_s8_onednn.cpp: oneDNN's u8 × s8 → s32 convolution (Debian libdnnl, onednn_runtime.h) as a
// plan of ConvS8Kernel ("onednn/<impl>"): our staging (NCHW → the zero-point-padded NHWC u8 image,
// x ^ 0x80 for s8 inputs), oneDNN's primitive on it (padding 0, its weight layout, scratchpad from
// our scratch), then our epilogue (the quads tier's bias correction and requantization) reading
// its NHWC int32 destination in 64 × 64 tiles. Offered only where oneDNN's int32 sums are exact.
struct S8OnednnConv;
// The short name of oneDNN's implementation for this layer, e.g. "brgconv_amx_int8", when it is
// exact here; empty when oneDNN is absent, inexact, or the layer is not expressible (z_w ≠ 0,
// simulated accumulator). One at most: oneDNN's own first choice.
std::vector<std::string> onednn_s8_impls(const ConvS8Params& p, std::span<const int8_t> w);
// The primitive of oneDNN's implementation (`impl` must name it, or be "") with the weights
// reordered; `plan` names the request in errors.
Result<std::shared_ptr<const S8OnednnConv>> onednn_s8_prepare(const ConvS8Params& p,
                                                              std::span<const int8_t> w, IntType in,
                                                              std::string_view impl,
                                                              std::string_view plan);
std::string_view onednn_s8_name(const S8OnednnConv& c);
size_t onednn_s8_scratch_bytes(const S8OnednnConv& c);  // per run, any batch
void onednn_s8_run(const S8OnednnConv& c, const void* input, void* output, std::byte* scratch,
                   int64_t batch, const S8Epilogue& e, S8EpilogueFn epilogue);

// Test hook: while on, KernelChoice::kAvx512Vnni prepares the VNNI plan with
// direct_u8s8_vnni_emulated (and the scalar epilogue) even when the CPU lacks VNNI. Not
// thread-safe with concurrent prepare() calls; tests only.
void set_s8_vnni_emulation_for_testing(bool on);

}  // namespace ei8::kernels
