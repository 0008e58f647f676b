// gemm_f32_ref / matmul_f32_ref — the specification of FP32 Gemm and MatMul (gemm_f32.h).
#include "ei8/runtime/kernels/gemm_f32.h"

namespace ei8::kernels {
namespace {

Status need(std::string_view fn, std::string_view what, size_t have, int64_t want) {
  if (have != static_cast<size_t>(want)) {
    return invalid_argument("cannot run {}: {} size = {}, must be {}", fn, what, have, want);
  }
  return {};
}

}  // namespace

Status gemm_f32_ref(const GemmParams& p, std::span<const float> a, std::span<const float> b,
                    std::span<const float> c, std::span<float> y) {
  EI8_RETURN_IF_ERROR(p.validate());
  EI8_RETURN_IF_ERROR(need("gemm_f32_ref", "A", a.size(), p.m * p.k));
  EI8_RETURN_IF_ERROR(need("gemm_f32_ref", "B", b.size(), p.k * p.n));
  EI8_RETURN_IF_ERROR(need("gemm_f32_ref", "C", c.size(), p.c_size()));
  EI8_RETURN_IF_ERROR(need("gemm_f32_ref", "Y", y.size(), p.m * p.n));
  for (int64_t i = 0; i < p.m; ++i) {
    for (int64_t j = 0; j < p.n; ++j) {
      double acc = 0.0;
      for (int64_t kk = 0; kk < p.k; ++kk) {
        const double av = p.trans_a ? a[kk * p.m + i] : a[i * p.k + kk];
        const double bv = p.trans_b ? b[j * p.k + kk] : b[kk * p.n + j];
        acc += av * bv;
      }
      double cv = 0.0;
      switch (p.c_shape) {
        case GemmC::kNone:
          break;
        case GemmC::kScalar:
          cv = c[0];
          break;
        case GemmC::kRow:
          cv = c[j];
          break;
        case GemmC::kColumn:
          cv = c[i];
          break;
        case GemmC::kFull:
          cv = c[i * p.n + j];
          break;
      }
      const double v = static_cast<double>(p.alpha) * acc + static_cast<double>(p.beta) * cv;
      y[i * p.n + j] = p.act.apply(static_cast<float>(v));
    }
  }
  return {};
}

Status matmul_f32_ref(int64_t batch, int64_t m, int64_t k, int64_t n, std::span<const float> a,
                      std::span<const float> b, bool b_batched, std::span<float> y) {
  if (batch < 1 || m < 1 || k < 1 || n < 1) {
    return invalid_argument(
        "cannot run matmul_f32_ref: batch, m, k, n = {}, {}, {}, {}, must be >= 1", batch, m, k, n);
  }
  EI8_RETURN_IF_ERROR(need("matmul_f32_ref", "A", a.size(), batch * m * k));
  EI8_RETURN_IF_ERROR(need("matmul_f32_ref", "B", b.size(), (b_batched ? batch : 1) * k * n));
  EI8_RETURN_IF_ERROR(need("matmul_f32_ref", "Y", y.size(), batch * m * n));
  for (int64_t bi = 0; bi < batch; ++bi) {
    const float* ab = a.data() + bi * m * k;
    const float* bb = b.data() + (b_batched ? bi * k * n : 0);
    float* yb = y.data() + bi * m * n;
    for (int64_t i = 0; i < m; ++i) {
      for (int64_t j = 0; j < n; ++j) {
        double acc = 0.0;
        for (int64_t kk = 0; kk < k; ++kk) {
          acc += static_cast<double>(ab[i * k + kk]) * static_cast<double>(bb[kk * n + j]);
        }
        yb[i * n + j] = static_cast<float>(acc);
      }
    }
  }
  return {};
}

}  // namespace ei8::kernels
