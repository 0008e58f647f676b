// The portable tier of the FP32 activations and the per-channel affine (eltwise_f32.h): plain
// loops the compiler vectorises for the baseline ISA (compiled with -ffp-contract=off and the
// dynamic vectoriser cost model, CMakeLists.txt). Relu, Clip, LeakyRelu and the affine are the
// reference's expressions element by element (bit-exact); Sigmoid is eltwise_math.h's scalar
// form.
#include <cstdint>

#include "ei8/runtime/kernels/eltwise_math.h"
#include "ei8/runtime/kernels/f32_internal.h"

namespace ei8::kernels {

void unary_f32_generic(const UnaryArgs& a) {
  const float* x = a.x;
  float* y = a.y;
  switch (a.op) {
    case FastUnary::kRelu:
      for (int64_t i = 0; i < a.n; ++i) y[i] = x[i] > 0.0f ? x[i] : 0.0f;
      return;
    case FastUnary::kClip:
      for (int64_t i = 0; i < a.n; ++i) {
        const float m = x[i] < a.lo ? a.lo : x[i];  // std::max(x, lo)
        y[i] = a.hi < m ? a.hi : m;                 // std::min(m, hi)
      }
      return;
    case FastUnary::kLeakyRelu:
      for (int64_t i = 0; i < a.n; ++i) y[i] = x[i] < 0.0f ? a.alpha * x[i] : x[i];
      return;
    case FastUnary::kSigmoid:
      for (int64_t i = 0; i < a.n; ++i) y[i] = sigmoid_poly::sigmoid_scalar(x[i]);
      return;
    case FastUnary::kSilu:
      for (int64_t i = 0; i < a.n; ++i) y[i] = x[i] * sigmoid_poly::sigmoid_scalar(x[i]);
      return;
    case FastUnary::kHardSigmoid:  // std::max(0, std::min(1, alpha·x + beta)), two roundings
      for (int64_t i = 0; i < a.n; ++i) {
        const float v = a.alpha * x[i] + a.beta;
        const float m = v < 1.0f ? v : 1.0f;
        y[i] = 0.0f < m ? m : 0.0f;
      }
      return;
    case FastUnary::kHardSwish:  // x · HardSigmoid(x) with alpha = 1/6, beta = 1/2
      for (int64_t i = 0; i < a.n; ++i) {
        const float v = x[i] * (1.0f / 6.0f) + 0.5f;
        const float m = v < 1.0f ? v : 1.0f;
        y[i] = x[i] * (0.0f < m ? m : 0.0f);
      }
      return;
  }
}

void channel_affine_f32_generic(const AffineArgs& a) {
  for (int64_t pl = 0; pl < a.planes; ++pl) {
    const float s = a.scale[pl % a.channels], t = a.shift[pl % a.channels];
    const float* x = a.x + pl * a.inner;
    float* y = a.y + pl * a.inner;
    if (a.relu) {
      for (int64_t i = 0; i < a.inner; ++i) {
        const float v = s * x[i] + t;
        y[i] = v > 0.0f ? v : 0.0f;
      }
    } else {
      for (int64_t i = 0; i < a.inner; ++i) y[i] = s * x[i] + t;
    }
  }
}

}  // namespace ei8::kernels
