// The AVX-512 loop of QLinearAdd (conv_s8.h qlinear_add_s8): the reference's float32 operations
// (ref/qlinear_ref.cpp qlinear_add_ref, via fixedpoint::quantize) sixteen lanes at a time —
// (a − z_a) and (b − z_b) converted exactly, one mulps by each scale, addps, divps by s_c (not a
// reciprocal multiply), round half to even (vrndscaleps), + z_c, clamp to [qmin, qmax], vcvtps2dq
// of an integral value (exact), vpmovdb of a value inside the 8-bit type. Built with
// -ffp-contract=off, so no product is fused into an FMA. The caller (qlinear_add_s8) has checked
// that every sum stays finite and far inside int32 after the division, so no lane is NaN (the
// AVX2 loop's NaN blend is not needed). Tails run under a mask (no read or write past n).
#include <immintrin.h>

#include <cstdint>

#include "ei8/runtime/kernels/s8_internal.h"

namespace ei8::kernels {

void qlinear_add_avx512(const QLinearAddParams& p, bool u8, const void* a, const void* b, void* c,
                        int64_t n) {
  const auto* pa = static_cast<const uint8_t*>(a);
  const auto* pb = static_cast<const uint8_t*>(b);
  auto* pc = static_cast<uint8_t*>(c);
  const __m512 sa = _mm512_set1_ps(p.a_scale), sb = _mm512_set1_ps(p.b_scale);
  const __m512 sc = _mm512_set1_ps(p.c_scale);
  const __m512 zc = _mm512_set1_ps(static_cast<float>(p.c_zero_point));
  const __m512 lo = _mm512_set1_ps(static_cast<float>(p.qmin));
  const __m512 hi = _mm512_set1_ps(static_cast<float>(p.qmax));
  const __m512i za = _mm512_set1_epi32(p.a_zero_point), zb = _mm512_set1_epi32(p.b_zero_point);
  const auto widen = [u8](__m128i v) {
    return u8 ? _mm512_cvtepu8_epi32(v) : _mm512_cvtepi8_epi32(v);
  };
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 m =
        n - i >= 16 ? static_cast<__mmask16>(0xFFFF) : static_cast<__mmask16>((1u << (n - i)) - 1);
    const __m512i xa = widen(_mm_maskz_loadu_epi8(m, pa + i));
    const __m512i xb = widen(_mm_maskz_loadu_epi8(m, pb + i));
    const __m512 va = _mm512_mul_ps(sa, _mm512_cvtepi32_ps(_mm512_sub_epi32(xa, za)));
    const __m512 vb = _mm512_mul_ps(sb, _mm512_cvtepi32_ps(_mm512_sub_epi32(xb, zb)));
    const __m512 v = _mm512_div_ps(_mm512_add_ps(va, vb), sc);
    __m512 q =
        _mm512_add_ps(_mm512_roundscale_ps(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC), zc);
    q = _mm512_min_ps(_mm512_max_ps(q, lo), hi);
    _mm_mask_storeu_epi8(pc + i, m, _mm512_cvtepi32_epi8(_mm512_cvtps_epi32(q)));
  }
}

}  // namespace ei8::kernels
