// The AVX2 + FMA tier of the FP32 activations and the per-channel affine (eltwise_f32.h),
// compiled with -mavx2 -mfma -ffp-contract=off (this file only): the exact ops stay one IEEE
// operation each, the Sigmoid polynomial uses explicit FMAs (eltwise_math.h). 8 floats per
// vector, 4 vectors per step, a masked tail. The AVX-512 tier calls these too (load/store
// bound, and zmm instructions would lower the clock of what follows).
#include <immintrin.h>

#include <cstdint>

#include "ei8/runtime/kernels/eltwise_math.h"
#include "ei8/runtime/kernels/f32_internal.h"

namespace ei8::kernels {
namespace {

namespace sp = sigmoid_poly;

inline __m256i lanes_below(int64_t n) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int32_t>(n)),
                            _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

// σ(x) per lane (eltwise_math.h).
[[gnu::always_inline]] inline __m256 sigmoid8(__m256 x) {
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
  const __m256 e = _mm256_mul_ps(_mm256_mul_ps(p, s1), s2);
  const __m256 one = _mm256_set1_ps(1.0f);
  // x < 0 (the sign bit; −0 gives e/(1+e) = 1/2 as well): e / (1 + e), else 1 / (1 + e).
  const __m256 num = _mm256_blendv_ps(one, e, x);
  const __m256 y = _mm256_div_ps(num, _mm256_add_ps(one, e));
  return _mm256_blendv_ps(y, x, _mm256_cmp_ps(x, x, _CMP_UNORD_Q));
}

template <FastUnary kOp>
[[gnu::always_inline]] inline __m256 apply8(__m256 x, __m256 lo, __m256 hi, __m256 alpha) {
  const __m256 zero = _mm256_setzero_ps();
  if constexpr (kOp == FastUnary::kRelu) {
    return _mm256_max_ps(x, zero);  // x > 0 ? x : 0 (NaN, −0 → +0)
  } else if constexpr (kOp == FastUnary::kClip) {
    // std::min(std::max(x, lo), hi) = (hi < m ? hi : m) of (x < lo ? lo : x): vmaxps(lo, x)
    // returns x on ties and NaN, as std::max(x, lo); likewise vminps(hi, m).
    return _mm256_min_ps(hi, _mm256_max_ps(lo, x));
  } else if constexpr (kOp == FastUnary::kLeakyRelu) {
    return _mm256_blendv_ps(x, _mm256_mul_ps(alpha, x), _mm256_cmp_ps(x, zero, _CMP_LT_OQ));
  } else if constexpr (kOp == FastUnary::kSigmoid) {
    return sigmoid8(x);
  } else if constexpr (kOp == FastUnary::kHardSigmoid || kOp == FastUnary::kHardSwish) {
    // std::max(0, std::min(1, v)) = (0 < m ? m : 0) of (v < 1 ? v : 1): vminps(v, 1) returns
    // 1 for NaN as std::min(1, v) does, vmaxps(m, 0) gives +0 for ±0 as std::max(0, m).
    // HardSigmoid's v = alpha·x + beta (lo = alpha, hi = beta here); HardSwish's x·(1/6) + 1/2.
    const __m256 v = _mm256_add_ps(_mm256_mul_ps(lo, x), hi);
    const __m256 h = _mm256_max_ps(_mm256_min_ps(v, _mm256_set1_ps(1.0f)), zero);
    return kOp == FastUnary::kHardSigmoid ? h : _mm256_mul_ps(x, h);
  } else {
    return _mm256_mul_ps(x, sigmoid8(x));
  }
}

template <FastUnary kOp>
void unary_loop(const UnaryArgs& a) {
  const __m256 lo = _mm256_set1_ps(a.lo), hi = _mm256_set1_ps(a.hi);
  const __m256 alpha = _mm256_set1_ps(a.alpha);
  const float* x = a.x;
  float* y = a.y;
  int64_t i = 0;
  for (; i + 32 <= a.n; i += 32) {
    const __m256 v0 = _mm256_loadu_ps(x + i), v1 = _mm256_loadu_ps(x + i + 8),
                 v2 = _mm256_loadu_ps(x + i + 16), v3 = _mm256_loadu_ps(x + i + 24);
    _mm256_storeu_ps(y + i, apply8<kOp>(v0, lo, hi, alpha));
    _mm256_storeu_ps(y + i + 8, apply8<kOp>(v1, lo, hi, alpha));
    _mm256_storeu_ps(y + i + 16, apply8<kOp>(v2, lo, hi, alpha));
    _mm256_storeu_ps(y + i + 24, apply8<kOp>(v3, lo, hi, alpha));
  }
  for (; i + 8 <= a.n; i += 8) {
    _mm256_storeu_ps(y + i, apply8<kOp>(_mm256_loadu_ps(x + i), lo, hi, alpha));
  }
  if (i < a.n) {  // lanes ≥ n − i read 0 and are never stored
    const __m256i m = lanes_below(a.n - i);
    _mm256_maskstore_ps(y + i, m, apply8<kOp>(_mm256_maskload_ps(x + i, m), lo, hi, alpha));
  }
}

template <bool kRelu>
void affine_loop(const AffineArgs& a) {
  const __m256 zero = _mm256_setzero_ps();
  const auto one = [&](__m256 x, __m256 s, __m256 t) {
    const __m256 v = _mm256_add_ps(_mm256_mul_ps(s, x), t);  // scale·x + shift, two roundings
    return kRelu ? _mm256_max_ps(v, zero) : v;
  };
  for (int64_t pl = 0; pl < a.planes; ++pl) {
    const __m256 s = _mm256_set1_ps(a.scale[pl % a.channels]);
    const __m256 t = _mm256_set1_ps(a.shift[pl % a.channels]);
    const float* x = a.x + pl * a.inner;
    float* y = a.y + pl * a.inner;
    int64_t i = 0;
    for (; i + 32 <= a.inner; i += 32) {
      const __m256 v0 = _mm256_loadu_ps(x + i), v1 = _mm256_loadu_ps(x + i + 8),
                   v2 = _mm256_loadu_ps(x + i + 16), v3 = _mm256_loadu_ps(x + i + 24);
      _mm256_storeu_ps(y + i, one(v0, s, t));
      _mm256_storeu_ps(y + i + 8, one(v1, s, t));
      _mm256_storeu_ps(y + i + 16, one(v2, s, t));
      _mm256_storeu_ps(y + i + 24, one(v3, s, t));
    }
    for (; i + 8 <= a.inner; i += 8) _mm256_storeu_ps(y + i, one(_mm256_loadu_ps(x + i), s, t));
    if (i < a.inner) {
      const __m256i m = lanes_below(a.inner - i);
      _mm256_maskstore_ps(y + i, m, one(_mm256_maskload_ps(x + i, m), s, t));
    }
  }
}

}  // namespace

void unary_f32_avx2(const UnaryArgs& a) {
  switch (a.op) {
    case FastUnary::kRelu:
      return unary_loop<FastUnary::kRelu>(a);
    case FastUnary::kClip:
      return unary_loop<FastUnary::kClip>(a);
    case FastUnary::kLeakyRelu:
      return unary_loop<FastUnary::kLeakyRelu>(a);
    case FastUnary::kSigmoid:
      return unary_loop<FastUnary::kSigmoid>(a);
    case FastUnary::kSilu:
      return unary_loop<FastUnary::kSilu>(a);
    case FastUnary::kHardSigmoid: {
      UnaryArgs h = a;  // apply8 takes the slope and the offset in its lo / hi operands
      h.lo = a.alpha;
      h.hi = a.beta;
      return unary_loop<FastUnary::kHardSigmoid>(h);
    }
    case FastUnary::kHardSwish: {
      UnaryArgs h = a;
      h.lo = 1.0f / 6.0f;
      h.hi = 0.5f;
      return unary_loop<FastUnary::kHardSwish>(h);
    }
  }
}

void channel_affine_f32_avx2(const AffineArgs& a) {
  if (a.relu) {
    affine_loop<true>(a);
  } else {
    affine_loop<false>(a);
  }
}

}  // namespace ei8::kernels
