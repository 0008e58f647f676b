// ei8/runtime/kernels/x86/sigmoid_x86.h — internal: the fast tiers' Sigmoid (eltwise_math.h)
// on 8 (ymm) and 16 (zmm) lanes, for the elementwise ops (x86/eltwise_avx2.cpp) and for the
// SiLU epilogue of the convolution tiles (x86/f32_avx2_ops.h, x86/f32_avx512.cpp). Both forms
// run the same operations lane by lane, so a lane's result does not depend on the width.
//
// The including file's flags decide the instructions (sigmoid16 needs AVX-512 F/DQ); each
// file gets a private copy (anonymous namespace). The files of the convolution tiles are
// compiled without -ffp-contract=off: the one product followed by a sum (1 + e) goes through
// an empty asm barrier, so no compiler fuses it into an FMA and every file rounds it alike.
#pragma once

#include <immintrin.h>

#include "ei8/runtime/kernels/eltwise_math.h"

namespace ei8::kernels {
namespace {  // NOLINT(google-build-namespaces): one private copy per tier translation unit

// σ(x) per lane (eltwise_math.h).
[[gnu::always_inline]] inline __m256 sigmoid8(__m256 x) {
  namespace sp = sigmoid_poly;
  const __m256 sign = _mm256_set1_ps(-0.0f);
  // t = max(−|x|, −104); a NaN x gives −104 here (vmaxps returns its second operand) and is put
  // back at the end.
  const __m256 t = _mm256_max_ps(_mm256_or_ps(x, sign), _mm256_set1_ps(sp::kMinT));
  const __m256 kf = _mm256_round_ps(_mm256_mul_ps(t, _mm256_set1_ps(sp::kLog2e)),
                                    _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmadd_ps(kf, _mm256_set1_ps(sp::kLn2Hi), t);
  r = _mm256_fnmadd_ps(kf, _mm256_set1_ps(sp::kLn2Lo), r);
  __m256 p = _mm256_set1_ps(sp::kC[7]);
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(sp::kC[6]));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(sp::kC[5]));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(sp::kC[4]));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(sp::kC[3]));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(sp::kC[2]));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(sp::kC[1]));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(sp::kC[0]));
  // 2^k1 · 2^k2, k1 = floor(k / 2) (as the scalar form), k2 = k − k1, both in [−75, 0].
  const __m256i k = _mm256_cvtps_epi32(kf);
  const __m256i k1 = _mm256_srai_epi32(k, 1);
  const __m256i k2 = _mm256_sub_epi32(k, k1);
  const __m256i bias = _mm256_set1_epi32(127);
  const __m256 s1 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(k1, bias), 23));
  const __m256 s2 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(k2, bias), 23));
  __m256 e = _mm256_mul_ps(_mm256_mul_ps(p, s1), s2);
  asm("" : "+x"(e));  // e is rounded before the sum below (no contraction into an FMA)
  const __m256 one = _mm256_set1_ps(1.0f);
  // x < 0 (the sign bit; −0 gives e/(1+e) = 1/2 as well): e / (1 + e), else 1 / (1 + e).
  const __m256 num = _mm256_blendv_ps(one, e, x);
  const __m256 y = _mm256_div_ps(num, _mm256_add_ps(one, e));
  return _mm256_blendv_ps(y, x, _mm256_cmp_ps(x, x, _CMP_UNORD_Q));
}

#ifdef __AVX512DQ__
// sigmoid8's operations on 16 lanes (AVX-512 F/DQ): the same result in every lane.
[[gnu::always_inline]] inline __m512 sigmoid16(__m512 x) {
  namespace sp = sigmoid_poly;
  // The zero-masking forms with every lane selected are the plain instructions; GCC 12's
  // unmasked intrinsics trip -Wmaybe-uninitialized (their _mm512_undefined_* source).
  constexpr __mmask16 kAll = 0xffff;
  const __m512 sign = _mm512_set1_ps(-0.0f);
  // A NaN first operand of vmaxps gives the second, as above.
  const __m512 t = _mm512_maskz_max_ps(kAll, _mm512_or_ps(x, sign), _mm512_set1_ps(sp::kMinT));
  const __m512 kf = _mm512_maskz_roundscale_ps(kAll, _mm512_mul_ps(t, _mm512_set1_ps(sp::kLog2e)),
                                               _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(kf, _mm512_set1_ps(sp::kLn2Hi), t);
  r = _mm512_fnmadd_ps(kf, _mm512_set1_ps(sp::kLn2Lo), r);
  __m512 p = _mm512_set1_ps(sp::kC[7]);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(sp::kC[6]));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(sp::kC[5]));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(sp::kC[4]));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(sp::kC[3]));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(sp::kC[2]));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(sp::kC[1]));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(sp::kC[0]));
  const __m512i k = _mm512_maskz_cvtps_epi32(kAll, kf);
  const __m512i k1 = _mm512_maskz_srai_epi32(kAll, k, 1);
  const __m512i k2 = _mm512_maskz_sub_epi32(kAll, k, k1);
  const __m512i bias = _mm512_set1_epi32(127);
  const __m512 s1 = _mm512_castsi512_ps(
      _mm512_maskz_slli_epi32(kAll, _mm512_maskz_add_epi32(kAll, k1, bias), 23));
  const __m512 s2 = _mm512_castsi512_ps(
      _mm512_maskz_slli_epi32(kAll, _mm512_maskz_add_epi32(kAll, k2, bias), 23));
  __m512 e = _mm512_mul_ps(_mm512_mul_ps(p, s1), s2);
  asm("" : "+v"(e));
  const __m512 one = _mm512_set1_ps(1.0f);
  const __mmask16 neg = _mm512_movepi32_mask(_mm512_castps_si512(x));  // the sign bits
  const __m512 num = _mm512_mask_blend_ps(neg, one, e);
  const __m512 y = _mm512_div_ps(num, _mm512_add_ps(one, e));
  return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(x, x, _CMP_UNORD_Q), y, x);
}
#endif

}  // namespace
}  // namespace ei8::kernels
