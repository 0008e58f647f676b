// ei8/runtime/kernels/gemm_f32.h — FP32 Gemm (ONNX Gemm) and MatMul: the reference kernels
// (the specification) and the prepared kernel with a constant, pre-packed B.
//
// Row-major, contiguous: A is [M, K] ([K, M] if trans_a), B is [K, N] ([N, K] if trans_b),
// Y is [M, N]. Y = act(alpha·op(A)·op(B) + beta·C), C broadcast from the shape `c_shape` says.
// MatMul with a constant 2-D B is the same object with alpha = 1 and no C; flatten the
// leading dimensions of A into M.
//
//   GemmParams p{.n = 10, .k = 32, .trans_b = true, .c_shape = GemmC::kRow};
//   Result<GemmF32> fc = GemmF32::prepare(p, weight_n_by_k, bias_n);   // packs alpha·op(B)
//   fc->run(x, y, /*m=*/batch, scratch.data());                         // allocation-free
//   gemm_f32_ref(p_with_m, x, weight_n_by_k, bias_n, y_ref);            // the spec
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "ei8/core/status.h"
#include "ei8/runtime/kernels/f32_common.h"

namespace ei8::kernels {

// How C broadcasts to [M, N] (ONNX unidirectional broadcasting).
enum class GemmC {
  kNone,    // no C (or beta = 0)
  kScalar,  // 1 value
  kRow,     // N values: shape [N] or [1, N]
  kColumn,  // M values: shape [M, 1]
  kFull,    // M·N values: shape [M, N]
};

struct GemmParams {
  int64_t m = 1;  // used by the reference only; GemmF32::run takes M per call
  int64_t n = 1, k = 1;
  bool trans_a = false, trans_b = false;
  float alpha = 1.0f, beta = 1.0f;
  GemmC c_shape = GemmC::kNone;
  Activation act;  // fused epilogue (Relu/Clip/LeakyRelu after Gemm)

  int64_t c_size() const;  // floats C must hold for this c_shape
  int64_t macs() const { return m * n * k; }
  Status validate() const;  // positive sizes below 2^31, finite alpha/beta, clip lo <= hi
};

// The specification: y[i][j] = act(fl32(alpha·Σ_k a(i,k)·b(k,j) + beta·c(i,j))) with the sum
// in double in k order. Spans: a M·K, b K·N, c c_size(), y M·N floats.
Status gemm_f32_ref(const GemmParams& p, std::span<const float> a, std::span<const float> b,
                    std::span<const float> c, std::span<float> y);

// Batched MatMul with both operands at run time (numpy semantics after the caller has
// broadcast the batch): y[b] = a[b]·b[b], a [batch, M, K], b [batch, K, N] (or one [K, N]
// shared when b_batched = false), y [batch, M, N]; double accumulation.
Status matmul_f32_ref(int64_t batch, int64_t m, int64_t k, int64_t n, std::span<const float> a,
                      std::span<const float> b, bool b_batched, std::span<float> y);

// Gemm with constant B and C, prepared once; M (rows of A, i.e. the batch) varies per run.
// prepare() supports c_shape kNone, kScalar and kRow (the bias of a fully connected layer);
// kColumn/kFull depend on M and get kUnsupported (use gemm_f32_ref for those).
class GemmF32 {
 public:
  [[nodiscard]] static Result<GemmF32> prepare(const GemmParams& p, std::span<const float> b,
                                               std::span<const float> c,
                                               KernelChoice choice = KernelChoice::kAuto);

  size_t scratch_bytes(int64_t m) const;
  // a: M·K floats ([K, M] if trans_a), y: M·N floats (must not alias a).
  void run(const float* a, float* y, int64_t m, float* scratch, int threads = 1) const;

  const GemmParams& params() const;
  KernelChoice choice() const;

  GemmF32(GemmF32&&) noexcept;
  GemmF32& operator=(GemmF32&&) noexcept;
  ~GemmF32();

  struct Impl;

 private:
  explicit GemmF32(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace ei8::kernels
