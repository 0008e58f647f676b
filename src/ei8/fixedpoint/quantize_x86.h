// ei8/fixedpoint/quantize_x86.h — the vector forms of quantize.h and requantize.h's `ort`
// profile for the x86 tiers: the same float32 operations as the scalar functions, 8 lanes (AVX2)
// or 16 lanes (AVX-512), bit-exact with them on every input (tests/fixedpoint/quantize_test.cpp).
//
// Each function carries its ISA in a target attribute and is always inlined, so a kernel
// translation unit includes this header whatever its own flags are (-mavx2, or target
// attributes on its functions) and the code lands in its loops; calling one from a function
// without the ISA is a compile error, never an illegal instruction. No FMA can form: the only
// products are not followed by an addition of their result. Rounding is the MXCSR default
// (nearest even), which the kernels never change.
//
//   const __m256 s = _mm256_set1_ps(scale), z = _mm256_set1_ps(float(zp));
//   const __m256 lo = _mm256_set1_ps(-128.0f), hi = _mm256_set1_ps(127.0f);
//   __m256i q = fixedpoint::quantize_f32x8(_mm256_loadu_ps(x), s, z, lo, hi);  // int32 lanes
//   __m256i y = fixedpoint::requantize_ort_x8(acc, mult, lo_minus_z, hi_minus_z, zy);
#pragma once

#include <immintrin.h>

#define EI8_FP_AVX2 inline __attribute__((always_inline, target("avx2")))
#define EI8_FP_AVX512 inline __attribute__((always_inline, target("avx2,avx512f")))

namespace ei8::fixedpoint {

// ---- AVX2, 8 lanes ---------------------------------------------------------------------------

// quantize_scaled<float> per lane: roundps (nearest even) + z, clamp to [lo, hi] (floats holding
// qmin, qmax), NaN lanes → z, then cvtps2dq of an integer value (exact). Returns int32 lanes in
// [qmin, qmax].
EI8_FP_AVX2 __m256i quantize_scaled_f32x8(__m256 v, __m256 zero_point, __m256 lo, __m256 hi) {
  const __m256 q =
      _mm256_add_ps(_mm256_round_ps(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC), zero_point);
  __m256 c = _mm256_min_ps(_mm256_max_ps(q, lo), hi);
  c = _mm256_blendv_ps(c, zero_point, _mm256_cmp_ps(q, q, _CMP_UNORD_Q));
  return _mm256_cvtps_epi32(c);
}

// quantize<float> per lane: divps by the scale (not a reciprocal multiply), then as above.
EI8_FP_AVX2 __m256i quantize_f32x8(__m256 x, __m256 scale, __m256 zero_point, __m256 lo,
                                   __m256 hi) {
  return quantize_scaled_f32x8(_mm256_div_ps(x, scale), zero_point, lo, hi);
}

// dequantize per lane: s·float(q − z) (vpsubd, cvtdq2ps, mulps).
EI8_FP_AVX2 __m256 dequantize_f32x8(__m256i q, __m256 scale, __m256i zero_point) {
  return _mm256_mul_ps(scale, _mm256_cvtepi32_ps(_mm256_sub_epi32(q, zero_point)));
}

// requantize_ort per lane: cvtdq2ps (nearest even, as static_cast<float>), one mulps by M_c,
// max/min against lo = qmin − z_y and hi = qmax − z_y (floats; the product is finite, so the
// order of the compare-selects does not matter), cvtps2dq (nearest even), + z_y. Returns int32
// lanes in [qmin, qmax].
EI8_FP_AVX2 __m256i requantize_ort_x8(__m256i acc, __m256 multiplier, __m256 lo, __m256 hi,
                                      __m256i zero_point) {
  __m256 f = _mm256_mul_ps(_mm256_cvtepi32_ps(acc), multiplier);
  f = _mm256_min_ps(_mm256_max_ps(f, lo), hi);
  return _mm256_add_epi32(_mm256_cvtps_epi32(f), zero_point);
}

// ---- AVX-512, 16 lanes -----------------------------------------------------------------------

EI8_FP_AVX512 __m512i quantize_scaled_f32x16(__m512 v, __m512 zero_point, __m512 lo, __m512 hi) {
  const __m512 q = _mm512_add_ps(
      _mm512_roundscale_ps(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC), zero_point);
  __m512 c = _mm512_min_ps(_mm512_max_ps(q, lo), hi);
  c = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(q, q, _CMP_UNORD_Q), c, zero_point);
  return _mm512_cvtps_epi32(c);
}

EI8_FP_AVX512 __m512i quantize_f32x16(__m512 x, __m512 scale, __m512 zero_point, __m512 lo,
                                      __m512 hi) {
  return quantize_scaled_f32x16(_mm512_div_ps(x, scale), zero_point, lo, hi);
}

EI8_FP_AVX512 __m512 dequantize_f32x16(__m512i q, __m512 scale, __m512i zero_point) {
  return _mm512_mul_ps(scale, _mm512_cvtepi32_ps(_mm512_sub_epi32(q, zero_point)));
}

EI8_FP_AVX512 __m512i requantize_ort_x16(__m512i acc, __m512 multiplier, __m512 lo, __m512 hi,
                                         __m512i zero_point) {
  __m512 f = _mm512_mul_ps(_mm512_cvtepi32_ps(acc), multiplier);
  f = _mm512_min_ps(_mm512_max_ps(f, lo), hi);
  return _mm512_add_epi32(_mm512_cvtps_epi32(f), zero_point);
}

}  // namespace ei8::fixedpoint

#undef EI8_FP_AVX2
#undef EI8_FP_AVX512
