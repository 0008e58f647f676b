// The AVX2 + FMA tier of the FP32 activations and the per-channel affine (eltwise_f32.h),
// compiled with -mavx2 -mfma -ffp-contract=off (this file only): the exact ops stay one IEEE
// operation each, the Sigmoid polynomial uses explicit FMAs (eltwise_math.h). 8 floats per
// vector, 4 vectors per step, a masked tail. The AVX-512 tier calls these too (load/store
// bound, and zmm instructions would lower the clock of what follows).
#include <immintrin.h>

#include <cstdint>

#include "ei8/runtime/kernels/f32_internal.h"
#include "ei8/runtime/kernels/x86/sigmoid_x86.h"

namespace ei8::kernels {
namespace {

inline __m256i lanes_below(int64_t n) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int32_t>(n)),
                            _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
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
