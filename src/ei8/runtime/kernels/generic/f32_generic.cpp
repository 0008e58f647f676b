// The portable tier of the FP32 micro-kernels: the templates of f32_tiles.h over an 8-float
// GCC/Clang vector type (no ISA flags; the compiler lowers it to the baseline ISA, e.g. two
// SSE2 registers on x86-64, one NEON pair on AArch64).
// Every function passing the 32-byte vector type by value has internal linkage (anonymous
// namespace) and is inlined, so GCC's note that such a return "changes the ABI" without AVX
// concerns no interface.
#pragma GCC diagnostic ignored "-Wpsabi"

#include <cstring>

#include "ei8/runtime/kernels/eltwise_math.h"
#include "ei8/runtime/kernels/eltwise_tiles.h"
#include "ei8/runtime/kernels/f32_tiles.h"
#include "ei8/runtime/kernels/f32_tiles_winograd.h"

namespace ei8::kernels {
namespace {

struct PortableOps {
  static constexpr int kL = 8;      // lanes
  static constexpr int kRegs = 16;  // tile sizes as for 16 ymm (two SSE registers each)
  typedef float V __attribute__((vector_size(32)));  // 8 lanes
  typedef int32_t Mask __attribute__((vector_size(32)));

  static V load(const float* p) {
    V v;
    std::memcpy(&v, p, sizeof(V));
    return v;
  }
  static V load_n(const float* p, int n) {
    V v = set1(0.0f);
    for (int i = 0; i < n; ++i) v[i] = p[i];
    return v;
  }
  static V set1(float x) { return V{x, x, x, x, x, x, x, x}; }
  static V bcast(const float* p) { return set1(*p); }
  static V fma(V a, V b, V c) { return a * b + c; }  // two roundings: no FMA in the baseline ISA
  static V add(V a, V b) { return a + b; }
  static V sub(V a, V b) { return a - b; }
  static V mul(V a, V b) { return a * b; }
  static V div(V a, V b) { return a / b; }
  static V relu(V v) { return v > set1(0.0f) ? v : set1(0.0f); }  // the reference's relu
  // (v < lo ? lo : v) like std::max(v, lo) of the reference; likewise min.
  static V max(V v, V lo) { return v < lo ? lo : v; }
  static V min(V v, V hi) { return hi < v ? hi : v; }
  static V leaky(V v, V alpha) { return v < set1(0.0f) ? alpha * v : v; }
  // x·σ(x) per lane with eltwise_generic's scalar Sigmoid (silu_f32's bits; this file is
  // compiled with -ffp-contract=off as that one).
  static V silu(V v) {
    V y;
    for (int i = 0; i < kL; ++i) y[i] = v[i] * sigmoid_poly::sigmoid_scalar(v[i]);
    return y;
  }
  static void store(float* p, V v) { std::memcpy(p, &v, sizeof(V)); }
  static void store_n(float* p, V v, int n) {
    for (int i = 0; i < n; ++i) p[i] = v[i];
  }
  // Winograd (f32_tiles_winograd.h): the same lane permutations as the AVX2 tier's.
  static V load_halves(const float* p0, const float* p1) {
    V v;
    std::memcpy(&v, p0, sizeof(V) / 2);
    std::memcpy(reinterpret_cast<char*>(&v) + sizeof(V) / 2, p1, sizeof(V) / 2);
    return v;
  }
  static void deinterleave(V a, V b, V& even, V& odd) {
    even = __builtin_shufflevector(a, b, 0, 2, 8, 10, 4, 6, 12, 14);
    odd = __builtin_shufflevector(a, b, 1, 3, 9, 11, 5, 7, 13, 15);
  }
  static void zip(V y0, V y1, V& lo, V& hi) {
    lo = __builtin_shufflevector(y0, y1, 0, 8, 1, 9, 4, 12, 5, 13);
    hi = __builtin_shufflevector(y0, y1, 2, 10, 3, 11, 6, 14, 7, 15);
  }
  static void quads_of(V y0, V y1, V& qa, V& qb) {
    qa = __builtin_shufflevector(y0, y1, 0, 8, 1, 9, 2, 10, 3, 11);
    qb = __builtin_shufflevector(y0, y1, 4, 12, 5, 13, 6, 14, 7, 15);
  }
};

}  // namespace

void conv2d_f32_direct_generic(const DirectConvArgs& args) {
  tiles::conv_direct_dispatch<PortableOps>(args);
}

void conv2d_f32_winograd_generic(const WinogradConvArgs& args) {
  tiles::winograd_dispatch<PortableOps, PortableOps>(args);
}

void gemm_f32_packed_generic(const PackedGemmArgs& args) {
  tiles::gemm_packed_dispatch<PortableOps>(args);
}

void stage_padded_f32_generic(const PaddedStage& s) { tiles::stage_padded<PortableOps>(s); }

void binary_f32_generic(const BinaryArgs& args) { tiles::binary_dispatch<PortableOps>(args); }

void gather_f32_strided_generic(const StridedGather& g) {
  tiles::stage_strided<PortableOps>(g, [&g](const float* x, float* row) {
    for (int64_t t = 0; t < g.taps; ++t) {
      const int64_t off = g.off0 + t * g.tap_step;
      float* dst = row + t * g.n;
      for (int64_t i = 0; i < g.n; ++i) {
        const int64_t ix = i * g.stride + off;
        dst[i] = ix >= 0 && ix < g.in_w ? x[ix] : 0.0f;
      }
    }
  });
}

void stage_im2col_f32_generic(const Im2colStage& s) {
  tiles::stage_im2col<PortableOps>(s, [&s](const float* x, float* dst, int64_t off) {
    for (int64_t i = 0; i < s.out_w; ++i) {
      const int64_t ix = i * s.stride_w + off;
      dst[i] = ix >= 0 && ix < s.in_w ? x[ix] : 0.0f;
    }
  });
}

}  // namespace ei8::kernels
