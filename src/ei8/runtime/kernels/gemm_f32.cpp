// GemmParams::validate, GemmF32::prepare (B packing) and the one dispatcher for Gemm/MatMul.
#include "ei8/runtime/kernels/gemm_f32.h"

#include <algorithm>
#include <cmath>

#include "ei8/runtime/kernels/f32_internal.h"

namespace ei8::kernels {
namespace {

constexpr int64_t kMaxElements = int64_t{1} << 30;

}  // namespace

int64_t GemmParams::c_size() const {
  switch (c_shape) {
    case GemmC::kNone:
      return 0;
    case GemmC::kScalar:
      return 1;
    case GemmC::kRow:
      return n;
    case GemmC::kColumn:
      return m;
    case GemmC::kFull:
      return m * n;
  }
  return 0;
}

Status GemmParams::validate() const {
  for (auto [name, v] : {std::pair{"m", m}, std::pair{"n", n}, std::pair{"k", k}}) {
    if (v < 1 || v > kMaxElements) {
      return invalid_argument("cannot prepare gemm: {} = {}, must be in [1, 2^30]", name, v);
    }
  }
  if (m * k > kMaxElements || k * n > kMaxElements || m * n > kMaxElements) {
    return invalid_argument(
        "cannot prepare gemm: m, n, k = {}, {}, {}, must give <= 2^30 elements per matrix", m, n,
        k);
  }
  if (!std::isfinite(alpha) || !std::isfinite(beta)) {
    return invalid_argument("cannot prepare gemm: alpha, beta = {}, {}, must be finite", alpha,
                            beta);
  }
  if (act.kind == ActKind::kClip && !(act.lo <= act.hi)) {
    return invalid_argument("cannot prepare gemm: clip min = {}, must be <= max = {}", act.lo,
                            act.hi);
  }
  if (act.kind == ActKind::kLeakyRelu && !std::isfinite(act.alpha)) {
    return invalid_argument("cannot prepare gemm: leaky_relu alpha = {}, must be finite",
                            act.alpha);
  }
  if (act.kind == ActKind::kSilu) {  // fused into convolutions only (f32_common.h)
    return invalid_argument(
        "cannot prepare gemm: activation = silu, must be none, relu, clip or leaky_relu");
  }
  return {};
}

GemmF32::GemmF32(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
GemmF32::GemmF32(GemmF32&&) noexcept = default;
GemmF32& GemmF32::operator=(GemmF32&&) noexcept = default;
GemmF32::~GemmF32() = default;
const GemmParams& GemmF32::params() const { return impl_->p; }
KernelChoice GemmF32::choice() const { return impl_->choice; }

Result<GemmF32> GemmF32::prepare(const GemmParams& params, std::span<const float> b,
                                 std::span<const float> c, KernelChoice choice) {
  GemmParams p = params;
  p.m = 1;  // prepared objects take M per run
  EI8_RETURN_IF_ERROR(p.validate());
  if (p.c_shape == GemmC::kColumn || p.c_shape == GemmC::kFull) {
    return unsupported(
        "cannot prepare gemm: C shape = [M,1] or [M,N], must be none, scalar or [N] (use "
        "gemm_f32_ref)");
  }
  if (b.size() != static_cast<size_t>(p.k * p.n)) {
    return invalid_argument("cannot prepare gemm: B size = {}, must be k·n = {}", b.size(),
                            p.k * p.n);
  }
  if (c.size() != static_cast<size_t>(p.c_size())) {
    return invalid_argument("cannot prepare gemm: C size = {}, must be {}", c.size(), p.c_size());
  }
  if (choice == KernelChoice::kAvx512Vnni) {
    return unsupported("cannot prepare gemm: kernel = avx512vnni, must be an FP32 tier");
  }
  if (!kernel_choice_available(choice)) {
    return unsupported("cannot prepare gemm: kernel = {}, must be one this CPU runs",
                       kernel_choice_name(choice));
  }
  auto impl = std::make_unique<Impl>();
  Impl& m = *impl;
  m.p = p;
  m.choice = resolve_kernel_choice(choice);
  if (m.choice == KernelChoice::kRef) {
    m.b.assign(b.begin(), b.end());
    m.c.assign(c.begin(), c.end());
    return GemmF32(std::move(impl));
  }
  // Small products (K·N < 2^16) run the AVX-512 tier's 8-lane (ymm) kernel: on Intel cores zmm
  // instructions lower the clock for a while, which a few hundred MACs do not repay (a
  // 10-node model of tiny ops measured 2.30 → 2.61 µs with zmm in two of its nodes).
  m.zmm = m.choice == KernelChoice::kAvx512 && p.k * p.n >= (int64_t{1} << 16);
  const int64_t lanes = m.zmm ? 16 : 8;
  m.nv = static_cast<int>(std::clamp<int64_t>((p.n + lanes - 1) / lanes, 1, 3));
  const int64_t nr = lanes * m.nv, panels = (p.n + nr - 1) / nr;
  m.bpack.assign(static_cast<size_t>(panels * p.k * nr), 0.0f);
  m.cvec.assign(static_cast<size_t>(panels * nr), 0.0f);
  for (int64_t j = 0; j < p.n; ++j) {
    const int64_t panel = j / nr, col = j % nr;
    for (int64_t kk = 0; kk < p.k; ++kk) {
      const float bv = p.trans_b ? b[j * p.k + kk] : b[kk * p.n + j];
      m.bpack[(panel * p.k + kk) * nr + col] = p.alpha * bv;
    }
    float cv = 0.0f;
    if (p.c_shape == GemmC::kScalar) cv = p.beta * c[0];
    if (p.c_shape == GemmC::kRow) cv = p.beta * c[j];
    m.cvec[j] = cv;
  }
  return GemmF32(std::move(impl));
}

size_t GemmF32::scratch_bytes(int64_t /*m*/) const { return 0; }

void GemmF32::run(const float* a, float* y, int64_t m_rows, float* /*scratch*/,
                  int /*threads*/) const {
  const Impl& m = *impl_;
  const GemmParams& p = m.p;
  if (m.choice == KernelChoice::kRef) {
    GemmParams pm = p;
    pm.m = m_rows;
    const Status s = gemm_f32_ref(pm, {a, static_cast<size_t>(m_rows * p.k)}, m.b, m.c,
                                  {y, static_cast<size_t>(m_rows * p.n)});
    (void)s;  // validated by prepare()
    return;
  }
  PackedGemmArgs g{};
  g.a = a;
  g.a_rs = p.trans_a ? 1 : p.k;
  g.a_ks = p.trans_a ? m_rows : 1;
  g.m = m_rows;
  g.n = p.n;
  g.k = p.k;
  g.bpack = m.bpack.data();
  g.cvec = m.cvec.data();
  g.y = y;
  g.nv = m.nv;
  g.act = p.act;
  // The one place that maps a tier to its code (STYLE.md 4).
  if (m.zmm) {
    gemm_f32_packed_avx512(g);
  } else if (m.choice != KernelChoice::kGeneric) {
    gemm_f32_packed_avx2(g);
  } else {
    gemm_f32_packed_generic(g);
  }
}

}  // namespace ei8::kernels
