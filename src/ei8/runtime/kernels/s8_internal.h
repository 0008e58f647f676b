// ei8/runtime/kernels/s8_internal.h — internal to ei8_kernels: the plans ConvS8Kernel /
// FullyConnectedS8Kernel::prepare() build and the INT8 tier entry points the one dispatcher
// (conv_s8.cpp) calls. Not a public header: the executor uses conv_s8.h.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ei8/runtime/kernels/conv_s8.h"

namespace ei8::kernels {

// The epilogue of every non-ref tier: acc = sum + bias (int64 + saturation to int32 when
// `saturate`, a plain int32 add when prepare() proved it cannot leave int32), then the output
// type: kS32 stores acc, kU8/kS8 requantize. For the `ort` profile (`ort` = true) the tiers
// vectorise requantize_ort with mult/lo/hi/zy (float32 product, clamp, round half to even,
// + z_y); the tflite profiles go through rq->apply() per element.
struct S8Epilogue {
  IntType out = IntType::kU8;
  bool per_column = false;  // bias/mult indexed by column (fully connected) or by row (conv)
  bool saturate = false;
  bool ort = true;
  const int32_t* bias = nullptr;  // per channel (zeros when the layer has none)
  const float* mult = nullptr;    // per channel ort multipliers (expanded from per-tensor)
  float lo = 0.0f, hi = 0.0f;     // qmin − z_y, qmax − z_y
  int32_t zy = 0, qmin = 0, qmax = 0;
  const fixedpoint::Requantizer* rq = nullptr;
};

// Writes n outputs out[col0 + j] (element offset `dst` of the output tensor, in elements of
// e.out) from int32 sums acc[j]; `chan` is the channel of a row (per_column = false) or the first
// column's channel (per_column = true).
using S8EpilogueFn = void (*)(const S8Epilogue& e, const int32_t* acc, int64_t chan, void* out,
                              int64_t dst, int64_t n);

// C[m][n] = Σ_p A[m][2p..2p+1]·B[p][n][0..1] with int16 operands and int32 accumulators.
//   A: rows of kp int16 pairs (row stride a_stride int16), m rows padded to a multiple of the
//      tier's row block (zero rows), B: panels of kNr columns, [panel][kp][kNr][2] int16.
// Each finished tile row goes through the epilogue: row r writes n columns at element offset
// dst0 + r·dst_row_stride + col of `out`, channel chan0 + r (per-row) or chan0 + col (per-col).
struct S8GemmArgs {
  const int16_t* a = nullptr;
  int64_t a_stride = 0;
  const int16_t* b = nullptr;
  int64_t m = 0, n = 0, kp = 0;
  void* out = nullptr;
  int64_t dst0 = 0, dst_row_stride = 0;
  int64_t chan0 = 0;
  const S8Epilogue* e = nullptr;
};

inline constexpr int kS8Nr = 16;  // columns per B panel (two 8-lane int32 vectors)
inline constexpr int kS8Mr = 4;   // rows per A block

void gemm_s16s16s32_generic(const S8GemmArgs& g);
void gemm_s16s16s32_avx2(const S8GemmArgs& g);
void epilogue_s32_generic(const S8Epilogue& e, const int32_t* acc, int64_t chan, void* out,
                          int64_t dst, int64_t n);
void epilogue_s32_avx2(const S8Epilogue& e, const int32_t* acc, int64_t chan, void* out,
                       int64_t dst, int64_t n);

// AVX-512 VNNI: C[m][n] = Σ_q A[m][4q..4q+3]·B[q][n][0..3] with s8 A (weights, broadcast as
// int32 quads) and u8 B (activations, [panel][kq][16][4]); the epilogue adds corr[chan] (bias −
// z_x·Σw, saturated per S8Epilogue::saturate like the bias) — the caller passes it as e->bias.
struct S8VnniArgs {
  const int8_t* a = nullptr;
  int64_t a_stride = 0;  // bytes per row (kq·4)
  const uint8_t* b = nullptr;
  int64_t m = 0, n = 0, kq = 0;
  void* out = nullptr;
  int64_t dst0 = 0, dst_row_stride = 0;
  int64_t chan0 = 0;
  const S8Epilogue* e = nullptr;
};
inline constexpr int kVnniNr = 16;  // one 16-lane int32 vector per panel
void gemm_u8s8s32_avx512vnni(const S8VnniArgs& g);

}  // namespace ei8::kernels
