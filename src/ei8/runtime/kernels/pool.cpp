#include "ei8/runtime/kernels/pool.h"

#include <algorithm>
#include <type_traits>

#include "ei8/runtime/kernels/cpu_features.h"
#include "ei8/runtime/kernels/pool_internal.h"

namespace ei8::kernels {

std::vector<KernelChoice> registered_pool_kernels() {
  return {KernelChoice::kRef, KernelChoice::kGeneric, KernelChoice::kAvx2};
}

// The one table that maps pooling to a tier (STYLE.md 4): AVX2 when the CPU (and EI8_ISA) has
// it, else the portable loops. AVX-512 adds nothing here (the pools are load/store bound on
// data that fits L1/L2), so AVX-512 machines use the AVX2 tier.
Result<KernelChoice> prepare_pool_tier(KernelChoice choice) {
  if (choice == KernelChoice::kAuto) {
    return isa_available(Isa::kAvx2) ? KernelChoice::kAvx2 : KernelChoice::kGeneric;
  }
  if (!kernel_choice_available(choice)) {
    return unsupported("cannot prepare pool: kernel = {}, must be available on this CPU (isa {})",
                       kernel_choice_name(choice), isa_name(best_isa()));
  }
  return choice == KernelChoice::kAvx512Vnni ? KernelChoice::kAvx2 : choice;
}

namespace {

constexpr int64_t kMaxSize = int64_t{1} << 31;

Status check_geometry(int64_t planes, int64_t in_h, int64_t in_w, int64_t out_h, int64_t out_w,
                      int64_t kh, int64_t kw, int64_t sh, int64_t sw, int64_t dh, int64_t dw,
                      const int64_t (&pads)[4]) {
  const struct {
    const char* name;
    int64_t v;
  } sizes[] = {{"planes", planes}, {"in_h", in_h},     {"in_w", in_w},    {"out_h", out_h},
               {"out_w", out_w},   {"kernel_h", kh},   {"kernel_w", kw},  {"stride_h", sh},
               {"stride_w", sw},   {"dilation_h", dh}, {"dilation_w", dw}};
  for (const auto& s : sizes) {
    if (s.v < 1 || s.v >= kMaxSize) {
      return invalid_argument("cannot prepare pool: {} = {}, must be in [1, 2^31)", s.name, s.v);
    }
  }
  const char* pad_names[] = {"pad_top", "pad_left", "pad_bottom", "pad_right"};
  for (int i = 0; i < 4; ++i) {
    if (pads[i] < 0 || pads[i] >= kMaxSize) {
      return invalid_argument("cannot prepare pool: {} = {}, must be in [0, 2^31)", pad_names[i],
                              pads[i]);
    }
  }
  if (planes * in_h * in_w >= (int64_t{1} << 40) || planes * out_h * out_w >= (int64_t{1} << 40)) {
    return invalid_argument("cannot prepare pool: elements = {}, must be < 2^40",
                            planes * std::max(in_h * in_w, out_h * out_w));
  }
  return {};
}

PoolGeom geom_of(const Pool2dParams& p, int64_t batch, bool dilated) {
  PoolGeom g;
  g.planes = batch * p.channels;
  g.in_h = p.in_h;
  g.in_w = p.in_w;
  g.out_h = p.out_h;
  g.out_w = p.out_w;
  g.kernel_h = p.kernel_h;
  g.kernel_w = p.kernel_w;
  g.stride_h = p.stride_h;
  g.stride_w = p.stride_w;
  g.dilation_h = dilated ? p.dilation_h : 1;
  g.dilation_w = dilated ? p.dilation_w : 1;
  g.pad_top = p.pad_top;
  g.pad_left = p.pad_left;
  g.pad_bottom = p.pad_bottom;
  g.pad_right = p.pad_right;
  g.count_include_pad = p.count_include_pad;
  return g;
}

PoolGeom geom_of(const PoolS8Params& p) {
  PoolGeom g;
  g.planes = p.batch * p.channels;
  g.in_h = p.in_h;
  g.in_w = p.in_w;
  g.out_h = p.out_h();
  g.out_w = p.out_w();
  g.kernel_h = p.kernel_h;
  g.kernel_w = p.kernel_w;
  g.stride_h = p.stride_h;
  g.stride_w = p.stride_w;
  g.pad_top = p.pad_top;
  g.pad_left = p.pad_left;
  g.pad_bottom = p.pad_bottom;
  g.pad_right = p.pad_right;
  g.count_include_pad = p.count_include_pad;
  return g;
}

const PoolTierFns& tier_fns(KernelChoice tier) {
  return tier == KernelChoice::kAvx2 ? pool_tier_avx2() : pool_tier_generic();
}

}  // namespace

Status check_pool2d_params(const Pool2dParams& p) {
  return check_geometry(p.channels, p.in_h, p.in_w, p.out_h, p.out_w, p.kernel_h, p.kernel_w,
                        p.stride_h, p.stride_w, p.dilation_h, p.dilation_w,
                        {p.pad_top, p.pad_left, p.pad_bottom, p.pad_right});
}

Status check_pool_s8_params(const PoolS8Params& p) {
  if (p.batch < 1 || p.batch >= kMaxSize) {
    return invalid_argument("cannot prepare pool: batch = {}, must be in [1, 2^31)", p.batch);
  }
  if (p.stride_h < 1 || p.stride_w < 1) {  // out_h() / out_w() divide by the strides
    return invalid_argument("cannot prepare pool: stride = {}x{}, must be ≥ 1", p.stride_h,
                            p.stride_w);
  }
  return check_geometry(p.batch * p.channels, p.in_h, p.in_w, p.out_h(), p.out_w(), p.kernel_h,
                        p.kernel_w, p.stride_h, p.stride_w, 1, 1,
                        {p.pad_top, p.pad_left, p.pad_bottom, p.pad_right});
}

void maxpool2d_f32(KernelChoice tier, const Pool2dParams& p, int64_t batch, const float* x,
                   float* y) {
  if (tier == KernelChoice::kRef) return maxpool2d_f32_ref(p, batch, x, y);
  tier_fns(tier).max_f32(geom_of(p, batch, true), x, y);
}

void avgpool2d_f32(KernelChoice tier, const Pool2dParams& p, int64_t batch, const float* x,
                   float* y) {
  if (tier == KernelChoice::kRef) return avgpool2d_f32_ref(p, batch, x, y);
  tier_fns(tier).avg_f32(geom_of(p, batch, false), x, y);
}

void global_avgpool_f32(KernelChoice tier, int64_t planes, int64_t spatial, const float* x,
                        float* y) {
  if (tier == KernelChoice::kRef) return global_avgpool_f32_ref(planes, spatial, x, y);
  tier_fns(tier).global_avg_f32(planes, spatial, x, y);
}

void global_maxpool_f32(KernelChoice tier, int64_t planes, int64_t spatial, const float* x,
                        float* y) {
  if (tier == KernelChoice::kRef) return global_maxpool_f32_ref(planes, spatial, x, y);
  tier_fns(tier).global_max_f32(planes, spatial, x, y);
}

template <typename T>
void maxpool_s8(KernelChoice tier, const PoolS8Params& p, const T* x, T* y) {
  if (tier == KernelChoice::kRef) return maxpool_s8_ref(p, x, y);
  if constexpr (std::is_signed_v<T>) {
    tier_fns(tier).max_s8(geom_of(p), x, y);
  } else {
    tier_fns(tier).max_u8(geom_of(p), x, y);
  }
}

template <typename T>
void avgpool_s8(KernelChoice tier, const PoolS8Params& p, int32_t input_zero_point,
                const std::vector<fixedpoint::Requantizer>& requant, const T* x, T* y) {
  if (tier == KernelChoice::kRef) return avgpool_s8_ref(p, input_zero_point, requant, x, y);
  if constexpr (std::is_signed_v<T>) {
    tier_fns(tier).avg_s8(geom_of(p), input_zero_point, requant.data(), x, y);
  } else {
    tier_fns(tier).avg_u8(geom_of(p), input_zero_point, requant.data(), x, y);
  }
}

#define EI8_INSTANTIATE(T)                                                      \
  template void maxpool_s8<T>(KernelChoice, const PoolS8Params&, const T*, T*); \
  template void avgpool_s8<T>(KernelChoice, const PoolS8Params&, int32_t,       \
                              const std::vector<fixedpoint::Requantizer>&, const T*, T*);
EI8_INSTANTIATE(uint8_t)
EI8_INSTANTIATE(int8_t)
#undef EI8_INSTANTIATE

}  // namespace ei8::kernels
