// The AVX-512 VNNI tier of the INT8 micro-kernels: vpdpbusd on 256-bit vectors (AVX512VL)
// multiplies four u8 activations by four s8 weights per int32 lane and adds them to the lane —
// no intermediate saturation (that is vpdpbusds). Only the micro-kernel carries the ISA, through
// a function target attribute, so no inline function of this file is ever emitted with AVX-512
// instructions; the dispatcher calls it only when cpu_features().avx512vnni.
//
// Operands: activations as u8 (s8 inputs + 128, z_x + 128; padding holds z_x), symmetric s8
// weights (z_w = 0), so Σ x·w ∈ [−K·255·128, K·255·127] fits int32 for K ≤ 65536; the epilogue
// (the AVX2 one) adds bias − z_x·Σ_k w[c][k], precomputed per channel by prepare().
#include <immintrin.h>

#include "ei8/runtime/kernels/s8_driver.h"

#define EI8_TARGET_VNNI __attribute__((target("avx2,avx512f,avx512vl,avx512bw,avx512vnni")))

namespace ei8::kernels {
namespace {

struct VnniTile {
  static constexpr int kMaxNv = 3;

  template <int NV, bool kSrcUnsigned>
  EI8_TARGET_VNNI static void run_nv(const S8DirectArgs& a, const int32_t* ablk, const int32_t* vin,
                                     int32_t (*acc)[kMaxNv][kS8Lanes]) {
    __m256i c[kS8Mr][NV];
    for (int r = 0; r < kS8Mr; ++r)
      for (int v = 0; v < NV; ++v) c[r][v] = _mm256_setzero_si256();
    for (int64_t k = 0; k < a.ks; ++k) {
      const int32_t* base = a.src + a.koff[k];
      __m256i x[NV];
      for (int v = 0; v < NV; ++v) {
        x[v] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(base + vin[v]));
      }
      const int32_t* w = ablk + k * kS8Mr;
      for (int r = 0; r < kS8Mr; ++r) {
        const __m256i wr = _mm256_set1_epi32(w[r]);
        for (int v = 0; v < NV; ++v) {
          c[r][v] = kSrcUnsigned ? _mm256_dpbusd_epi32(c[r][v], x[v], wr)
                                 : _mm256_dpbusd_epi32(c[r][v], wr, x[v]);
        }
      }
    }
    for (int r = 0; r < kS8Mr; ++r)
      for (int v = 0; v < NV; ++v)
        _mm256_store_si256(reinterpret_cast<__m256i*>(acc[r][v]), c[r][v]);
  }

  template <bool kSrcUnsigned>
  static void run_sign(const S8DirectArgs& a, const int32_t* ablk, const int32_t* vin, int nv,
                       int32_t (*acc)[kMaxNv][kS8Lanes]) {
    switch (nv) {
      case 3:
        run_nv<3, kSrcUnsigned>(a, ablk, vin, acc);
        break;
      case 2:
        run_nv<2, kSrcUnsigned>(a, ablk, vin, acc);
        break;
      default:
        run_nv<1, kSrcUnsigned>(a, ablk, vin, acc);
        break;
    }
  }

  static void run(const S8DirectArgs& a, const int32_t* ablk, const int32_t* vin, int nv,
                  int32_t (*acc)[kMaxNv][kS8Lanes]) {
    if (a.src_unsigned) {
      run_sign<true>(a, ablk, vin, nv, acc);
    } else {
      run_sign<false>(a, ablk, vin, nv, acc);
    }
  }
};

}  // namespace

void direct_u8s8_avx512vnni(const S8DirectArgs& a) {
  s8::direct_driver<VnniTile>(a, epilogue_s8_avx2);
}

}  // namespace ei8::kernels
