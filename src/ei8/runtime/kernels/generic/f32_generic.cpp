// The portable tier of the FP32 micro-kernels: the templates of f32_tiles.h over plain
// 8-float arrays (no ISA flags; the compiler vectorises them for the baseline ISA).
#include <algorithm>

#include "ei8/runtime/kernels/f32_tiles.h"

namespace ei8::kernels {
namespace {

struct PortableOps {
  struct V {
    float f[8];
  };
  static V load(const float* p) {
    V v;
    for (int i = 0; i < 8; ++i) v.f[i] = p[i];
    return v;
  }
  static V load_n(const float* p, int n) {
    V v{};
    for (int i = 0; i < n; ++i) v.f[i] = p[i];
    return v;
  }
  static V bcast(const float* p) {
    V v;
    for (int i = 0; i < 8; ++i) v.f[i] = *p;
    return v;
  }
  static V set1(float x) {
    V v;
    for (int i = 0; i < 8; ++i) v.f[i] = x;
    return v;
  }
  static V max(V v, const V& lo) {
    for (int i = 0; i < 8; ++i) v.f[i] = std::max(v.f[i], lo.f[i]);
    return v;
  }
  static V min(V v, const V& hi) {
    for (int i = 0; i < 8; ++i) v.f[i] = std::min(v.f[i], hi.f[i]);
    return v;
  }
  static V leaky(V v, const V& alpha) {
    for (int i = 0; i < 8; ++i) v.f[i] = v.f[i] < 0.0f ? alpha.f[i] * v.f[i] : v.f[i];
    return v;
  }
  static V fma(const V& a, const V& b, V c) {
    for (int i = 0; i < 8; ++i) c.f[i] += a.f[i] * b.f[i];
    return c;
  }
  static void store(float* p, const V& v) {
    for (int i = 0; i < 8; ++i) p[i] = v.f[i];
  }
  static void store_n(float* p, const V& v, int n) {
    for (int i = 0; i < n; ++i) p[i] = v.f[i];
  }
  static V activate(V v, const Activation& act) {
    if (act.kind == ActKind::kNone) return v;
    for (int i = 0; i < 8; ++i) v.f[i] = act.apply(v.f[i]);
    return v;
  }
};

}  // namespace

void conv2d_f32_direct_generic(const DirectConvArgs& args) {
  tiles::conv_direct_dispatch<PortableOps>(args);
}

void gemm_f32_packed_generic(const PackedGemmArgs& args) {
  tiles::gemm_packed_dispatch<PortableOps>(args);
}

}  // namespace ei8::kernels
