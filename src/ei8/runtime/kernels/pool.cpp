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
  // The AVX-512 tiers (FP32 kAvx512, INT8 kAvx512Vnni) run these ops on AVX2.
  return choice == KernelChoice::kAvx512Vnni || choice == KernelChoice::kAvx512
             ? KernelChoice::kAvx2
             : choice;
}

namespace {

constexpr int64_t kMaxSize = int64_t{1} << 31;

// Names the sizes for the messages: "cannot prepare pool: <name> = <v>, must be ...".
struct NamedSize {
  const char* name;
  int64_t v;
};

Status check_geometry(const Pool2dParams& p, int64_t batch) {
  const NamedSize sizes[] = {
      {"batch", batch},         {"channels", p.channels},     {"in_h", p.in_h},
      {"in_w", p.in_w},         {"out_h", p.out_h},           {"out_w", p.out_w},
      {"kernel_h", p.kernel_h}, {"kernel_w", p.kernel_w},     {"stride_h", p.stride_h},
      {"stride_w", p.stride_w}, {"dilation_h", p.dilation_h}, {"dilation_w", p.dilation_w}};
  for (const NamedSize& s : sizes) {
    if (s.v < 1 || s.v >= kMaxSize) {
      return invalid_argument("cannot prepare pool: {} = {}, must be in [1, 2^31)", s.name, s.v);
    }
  }
  const NamedSize pads[] = {{"pad_top", p.pad_top},
                            {"pad_left", p.pad_left},
                            {"pad_bottom", p.pad_bottom},
                            {"pad_right", p.pad_right}};
  for (const NamedSize& s : pads) {
    if (s.v < 0 || s.v >= kMaxSize) {
      return invalid_argument("cannot prepare pool: {} = {}, must be in [0, 2^31)", s.name, s.v);
    }
  }
  // The dilated window must fit the padded input (as shape inference requires).
  const int64_t span_h = (p.kernel_h - 1) * p.dilation_h + 1;
  const int64_t span_w = (p.kernel_w - 1) * p.dilation_w + 1;
  if (span_h > p.in_h + p.pad_top + p.pad_bottom) {
    return invalid_argument(
        "cannot prepare pool: kernel_h = {} (dilated: {}), must be ≤ in_h + pads = {}", p.kernel_h,
        span_h, p.in_h + p.pad_top + p.pad_bottom);
  }
  if (span_w > p.in_w + p.pad_left + p.pad_right) {
    return invalid_argument(
        "cannot prepare pool: kernel_w = {} (dilated: {}), must be ≤ in_w + pads = {}", p.kernel_w,
        span_w, p.in_w + p.pad_left + p.pad_right);
  }
  // In double: batch·channels·h·w of sizes < 2^31 overflows int64 (exact below 2^53, and a
  // larger product cannot round below 2^40).
  const double elements = static_cast<double>(batch) * static_cast<double>(p.channels) *
                          static_cast<double>(std::max(p.in_h * p.in_w, p.out_h * p.out_w));
  if (elements >= 0x1p40) {
    return invalid_argument("cannot prepare pool: elements = {:.0f}, must be < 2^40", elements);
  }
  return {};
}

const PoolTierFns& tier_fns(KernelChoice tier) {
  return tier == KernelChoice::kGeneric ? pool_tier_generic() : pool_tier_avx2();
}

}  // namespace

Status check_pool2d_params(const Pool2dParams& p, int64_t batch) {
  return check_geometry(p, batch);
}

Status check_pool_s8_params(const Pool2dParams& p, int64_t batch) {
  if (p.dilation_h != 1) {
    return invalid_argument("cannot prepare pool: dilation_h = {}, must be 1 for u8/s8 pooling",
                            p.dilation_h);
  }
  if (p.dilation_w != 1) {
    return invalid_argument("cannot prepare pool: dilation_w = {}, must be 1 for u8/s8 pooling",
                            p.dilation_w);
  }
  return check_geometry(p, batch);
}

void maxpool2d_f32(KernelChoice tier, const Pool2dParams& p, int64_t batch, const float* x,
                   float* y) {
  if (tier == KernelChoice::kRef) return maxpool2d_f32_ref(p, batch, x, y);
  tier_fns(tier).max_f32(p, batch, x, y);
}

void avgpool2d_f32(KernelChoice tier, const Pool2dParams& p, int64_t batch, const float* x,
                   float* y) {
  if (tier == KernelChoice::kRef) return avgpool2d_f32_ref(p, batch, x, y);
  tier_fns(tier).avg_f32(p, batch, x, y);
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
void maxpool_s8(KernelChoice tier, const Pool2dParams& p, int64_t batch, const T* x, T* y) {
  if (tier == KernelChoice::kRef) return maxpool_s8_ref(p, batch, x, y);
  if constexpr (std::is_signed_v<T>) {
    tier_fns(tier).max_s8(p, batch, x, y);
  } else {
    tier_fns(tier).max_u8(p, batch, x, y);
  }
}

template <typename T>
void avgpool_s8(KernelChoice tier, const Pool2dParams& p, int64_t batch, int32_t input_zero_point,
                const std::vector<fixedpoint::Requantizer>& requant, const T* x, T* y) {
  if (tier == KernelChoice::kRef) return avgpool_s8_ref(p, batch, input_zero_point, requant, x, y);
  if constexpr (std::is_signed_v<T>) {
    tier_fns(tier).avg_s8(p, batch, input_zero_point, requant.data(), x, y);
  } else {
    tier_fns(tier).avg_u8(p, batch, input_zero_point, requant.data(), x, y);
  }
}

#define EI8_INSTANTIATE(T)                                                               \
  template void maxpool_s8<T>(KernelChoice, const Pool2dParams&, int64_t, const T*, T*); \
  template void avgpool_s8<T>(KernelChoice, const Pool2dParams&, int64_t, int32_t,       \
                              const std::vector<fixedpoint::Requantizer>&, const T*, T*);
EI8_INSTANTIATE(uint8_t)
EI8_INSTANTIATE(int8_t)
#undef EI8_INSTANTIATE

}  // namespace ei8::kernels
