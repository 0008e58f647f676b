// ConvS8Kernel / FullyConnectedS8Kernel: validation, the plans prepare() builds (weight packing,
// epilogue tables) and the one dispatcher that maps a prepared layer to its INT8 tier.
#include "ei8/runtime/kernels/conv_s8.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <limits>

#include <fmt/format.h>

#include "ei8/fixedpoint/quantize.h"

#include "ei8/runtime/kernels/cpu_features.h"
#include "ei8/runtime/kernels/s8_internal.h"

namespace ei8::kernels {

std::string_view int_type_name(IntType t) {
  switch (t) {
    case IntType::kU8:
      return "u8";
    case IntType::kS8:
      return "s8";
    case IntType::kS32:
      return "s32";
  }
  return "?";
}

std::vector<KernelChoice> registered_s8_kernels() {
  return {KernelChoice::kRef, KernelChoice::kGeneric, KernelChoice::kAvx2,
          KernelChoice::kAvx512Vnni};
}

// The one table that maps the INT8 ops to the best tier (STYLE.md 4).
KernelChoice resolve_s8_kernel_choice(KernelChoice c) {
  if (c != KernelChoice::kAuto) return c;
  if (isa_available(Isa::kAvx512Vnni)) return KernelChoice::kAvx512Vnni;
  if (isa_available(Isa::kAvx2)) return KernelChoice::kAvx2;
  return KernelChoice::kGeneric;
}

namespace {
std::atomic<bool> g_emulate_vnni{false};
}  // namespace

void set_s8_vnni_emulation_for_testing(bool on) { g_emulate_vnni = on; }

namespace {

Status check_types(std::string_view what, IntType input, IntType output, int32_t zx,
                   const fixedpoint::Requantizer& rq, int64_t channels) {
  if (input == IntType::kS32) {
    return invalid_argument("cannot prepare {}: input type = s32, must be u8 or s8", what);
  }
  const int32_t in_lo = input == IntType::kU8 ? 0 : -128;
  const int32_t in_hi = input == IntType::kU8 ? 255 : 127;
  if (zx < in_lo || zx > in_hi) {
    return invalid_argument("cannot prepare {}: input zero point = {}, must be in [{}, {}] ({})",
                            what, zx, in_lo, in_hi, int_type_name(input));
  }
  if (output == IntType::kS32) return {};
  if (rq.channels() != 1 && rq.channels() != channels) {
    return invalid_argument("cannot prepare {}: requantizer channels = {}, must be 1 or {}", what,
                            rq.channels(), channels);
  }
  const int32_t out_lo = output == IntType::kU8 ? 0 : -128;
  const int32_t out_hi = output == IntType::kU8 ? 255 : 127;
  if (rq.qmin() < out_lo || rq.qmax() > out_hi) {
    return invalid_argument(
        "cannot prepare {}: output clamp = [{}, {}], must lie inside [{}, {}] ({})", what,
        rq.qmin(), rq.qmax(), out_lo, out_hi, int_type_name(output));
  }
  return {};
}

Status check_choice(std::string_view what, KernelChoice choice) {
  if (choice == KernelChoice::kAvx512Vnni && g_emulate_vnni) return {};
  if (!kernel_choice_available(choice)) {
    return unsupported("cannot prepare {}: kernel = {}, must be one this CPU runs", what,
                       kernel_choice_name(choice));
  }
  return {};
}

template <typename TIn>
void conv_ref_sample(const ConvS8Params& p, IntType out_t, const void* in, void* out,
                     std::span<const int8_t> w, std::span<const int32_t> bias) {
  const fixedpoint::ConvGeometry& g = p.geometry;
  const std::span<const TIn> x(static_cast<const TIn*>(in), static_cast<size_t>(g.input_numel()));
  const auto on = static_cast<size_t>(g.output_numel());
  Status s;
  switch (out_t) {
    case IntType::kU8:
      s = conv2d_s8_ref<TIn, uint8_t>(p, x, w, bias, {static_cast<uint8_t*>(out), on});
      break;
    case IntType::kS8:
      s = conv2d_s8_ref<TIn, int8_t>(p, x, w, bias, {static_cast<int8_t*>(out), on});
      break;
    case IntType::kS32:
      s = conv2d_s8s8s32_ref<TIn>(p, x, w, bias, {static_cast<int32_t*>(out), on});
      break;
  }
  (void)s;  // validated by prepare()
}

template <typename TIn>
void fc_ref(const FullyConnectedS8Params& p, IntType out_t, const void* in, void* out,
            std::span<const int8_t> w, std::span<const int32_t> bias) {
  const std::span<const TIn> x(static_cast<const TIn*>(in),
                               static_cast<size_t>(p.batch * p.in_features));
  const auto on = static_cast<size_t>(p.batch * p.out_features);
  Status s;
  switch (out_t) {
    case IntType::kU8:
      s = fully_connected_s8_ref<TIn, uint8_t>(p, x, w, bias, {static_cast<uint8_t*>(out), on});
      break;
    case IntType::kS8:
      s = fully_connected_s8_ref<TIn, int8_t>(p, x, w, bias, {static_cast<int8_t*>(out), on});
      break;
    case IntType::kS32:
      s = fully_connected_s8s8s32_ref<TIn>(p, x, w, bias, {static_cast<int32_t*>(out), on});
      break;
  }
  (void)s;
}

size_t type_size(IntType t) { return t == IntType::kS32 ? 4 : 1; }

// One 4-byte slot from two int16 (the int16 tiers) or four bytes (VNNI), lowest first; the
// generic tier splits slots the same way, so the layout does not depend on the byte order.
int32_t slot16(int32_t a, int32_t b) {
  return static_cast<int32_t>((static_cast<uint32_t>(a) & 0xffffu) |
                              ((static_cast<uint32_t>(b) & 0xffffu) << 16));
}
int32_t slot8(const int32_t (&v)[4]) {
  uint32_t s = 0;
  for (int i = 0; i < 4; ++i) s |= (static_cast<uint32_t>(v[i]) & 0xffu) << (8 * i);
  return static_cast<int32_t>(s);
}

// What the plans of both layers share: the tier functions, the epilogue tables and the
// decision whether the bias add may leave int32.
struct Tier {
  KernelChoice choice = KernelChoice::kRef;
  std::string name;  // "generic", "avx2", "avx512vnni"
  bool quads = false;  // 4 bytes per slot (x + shift, s8 w) instead of two int16 (x − z_x, w − z_w)
  bool signed_x = false;  // quads hold x as s8 (the AVX2 sign trick) rather than u8 (VNNI)
  void (*direct)(const S8DirectArgs&) = nullptr;
  // The VNNI tier's own plan (s8_internal.h VnniPlan; the 8-lane direct tables are not used).
  void (*vnni)(const VnniArgs&) = nullptr;
  void (*dw_row)(const S8DwRow&) = nullptr;
  // The depthwise plan on u8 quads (VNNI tier; s8_internal.h S8DwQuads), nullptr elsewhere.
  void (*dw_quads)(const S8DwQuads&) = nullptr;
  void (*dw_stage)(const S8DwStage&) = nullptr;
  void (*interleave)(const S8Interleave&) = nullptr;
  S8EpilogueFn epilogue = nullptr;
  int per_slot() const { return quads ? 4 : 2; }
  // What the quads add to an input value (and to z_x): s8 → u8 for VNNI, u8 → s8 for AVX2.
  int32_t shift(IntType in) const {
    if (!quads) return 0;
    if (signed_x) return in == IntType::kU8 ? -128 : 0;
    return in == IntType::kS8 ? 128 : 0;
  }
  std::string plan(std::string_view what) const {
    return name + "/" + std::string(what) + (quads ? (signed_x ? "-s8x4" : "-u8x4") : "-s16x2");
  }
};

Tier int16_tier(KernelChoice resolved) {
  Tier t;
  t.choice = resolved;
  if (resolved == KernelChoice::kGeneric) {
    t.name = "generic";
    t.direct = direct_s16_generic;
    t.dw_row = dw_row_s16_generic;
    t.interleave = interleave_s8_generic;
    t.epilogue = epilogue_s8_generic;
  } else {
    t.name = resolved == KernelChoice::kAvx512Vnni ? "avx512vnni" : "avx2";
    t.direct = direct_s16_avx2;
    t.dw_row = dw_row_s16_avx2;
    t.interleave = interleave_s8_avx2;
    t.epilogue = epilogue_s8_avx2;
  }
  return t;
}

// The AVX2 u8 quads (x + 128 for s8 inputs, like VNNI) for pair-safe weights (s8_internal.h).
Tier u8_quads_avx2() {
  Tier t = int16_tier(KernelChoice::kAvx2);
  t.quads = true;
  t.direct = direct_u8s8_avx2;
  return t;
}

// The plan per tier: byte quads need symmetric weights (z_w = 0); the AVX2 sign trick also
// needs w ≠ −128 (|w| ≤ 127 keeps vpmaddubsw's pair sums ≤ 2·128·127 < 2^15). Otherwise the
// int16 pairs, exact for every z_w.
Tier pick_tier(KernelChoice resolved, int32_t weight_zero_point, std::span<const int8_t> w) {
  const bool has_w_min = std::find(w.begin(), w.end(), int8_t{-128}) != w.end();
  // |w| ≤ 63 (e.g. quantize --reduce-range): u8·s8 vpmaddubsw pairs ≤ 2·255·63 = 32130 < 2^15
  // cannot saturate, so the AVX2 tier multiplies u8 activations directly (no vpsignb / vpabsb).
  const bool small_w =
      std::all_of(w.begin(), w.end(), [](int8_t v) { return v >= -63 && v <= 63; });
  Tier t = int16_tier(resolved);
  if (weight_zero_point != 0 || resolved == KernelChoice::kGeneric) return t;
  if (resolved == KernelChoice::kAvx512Vnni) {
    t.quads = true;
    t.vnni = direct_u8s8_vnni;
    if (g_emulate_vnni) {
      t.name = "avx512vnni-emulated";
      t.vnni = direct_u8s8_vnni_emulated;
      t.interleave = interleave_s8_generic;
      t.epilogue = epilogue_s8_generic;
    }
  } else if (small_w) {
    t = u8_quads_avx2();
  } else if (!has_w_min) {
    t.quads = true;
    t.signed_x = true;
    t.direct = direct_s8s8_avx2;
  }
  return t;
}

struct EpilogueTables {
  std::vector<int32_t> bias32;
  std::vector<int64_t> bias64;
  std::vector<float> mult;
  S8Epilogue e;
};

// sum_abs_w[c] = Σ_k |w[c][k] − z_w|, wsum[c] = Σ_k w[c][k]. The true accumulator
// Σ (x − z_x)(w − z_w) + b is bounded by max|x − z_x|·sum_abs_w[c] + |b|; when that fits int32
// for every channel a wrapping int32 add of the bias is exact (no saturation can happen).
// `extra` (per channel, or empty) is added to the bias the kernels see: the correction of the
// mixed plan's sign-trick k-slots (ConvS8Kernel::Impl::order_unsafe_slots).
void build_epilogue(EpilogueTables& t, const fixedpoint::Requantizer& rq, IntType in, IntType out,
                    int32_t zx, std::span<const int32_t> bias,
                    const std::vector<int64_t>& sum_abs_w, const std::vector<int64_t>& wsum,
                    const Tier& tier, bool per_column, std::span<const int64_t> extra = {}) {
  const auto channels = static_cast<int64_t>(sum_abs_w.size());
  const int32_t in_lo = in == IntType::kU8 ? 0 : -128, in_hi = in == IntType::kU8 ? 255 : 127;
  const int64_t max_x = std::max(zx - in_lo, in_hi - zx);
  const int32_t zx_q = zx + tier.shift(in);  // quads: the correction Σ x_q·w − z_q·Σ w
  bool saturate = false;
  for (int64_t c = 0; c < channels; ++c) {
    const auto sc = static_cast<size_t>(c);
    const int64_t b = bias.empty() ? 0 : bias[sc];
    const int64_t b64 =
        (tier.quads ? b - int64_t{zx_q} * wsum[sc] : b) + (extra.empty() ? 0 : extra[sc]);
    t.bias64.push_back(b64);
    t.bias32.push_back(static_cast<int32_t>(static_cast<uint32_t>(static_cast<uint64_t>(b64))));
    if (max_x * sum_abs_w[sc] + (b < 0 ? -b : b) > std::numeric_limits<int32_t>::max()) {
      saturate = true;
    }
    if (out != IntType::kS32) {
      t.mult.push_back(rq.ort_multipliers()[rq.channels() == 1 ? 0 : sc]);
    }
  }
  S8Epilogue& e = t.e;
  e.out = out;
  e.per_column = per_column;
  e.saturate = saturate;
  e.ort = rq.profile() == fixedpoint::RequantProfile::kOrt;
  if (out != IntType::kS32) {
    e.lo = static_cast<float>(int64_t{rq.qmin()} - rq.zero_point());
    e.hi = static_cast<float>(int64_t{rq.qmax()} - rq.zero_point());
    e.zy = rq.zero_point();
  }
  e.rq = &rq;
  e.bias32 = t.bias32.data();
  e.bias64 = t.bias64.data();
  e.mult = t.mult.data();
}

// Staging loops with non-aliasing pointers (a uint8_t/int8_t source may alias anything, which
// otherwise stops the compiler from vectorising them).
template <typename TIn>
void widen_minus_zp(const TIn* __restrict x, int16_t* __restrict d, int64_t n, int32_t zx) {
  for (int64_t i = 0; i < n; ++i) d[i] = static_cast<int16_t>(int32_t{x[i]} - zx);
}
template <typename TIn>
void widen_strided(const TIn* __restrict x, int16_t* __restrict d, int64_t n, int64_t stride,
                   int32_t zx) {
  if (stride == 2) {  // a constant stride the vectoriser turns into shuffles
    for (int64_t i = 0; i < n; ++i) d[i] = static_cast<int16_t>(int32_t{x[2 * i]} - zx);
    return;
  }
  for (int64_t i = 0; i < n; ++i) d[i] = static_cast<int16_t>(int32_t{x[i * stride]} - zx);
}
template <typename TIn>
void or_shifted(const TIn* __restrict x, uint32_t* __restrict d, int64_t n, int32_t off,
                uint32_t mask, int64_t bits) {
  for (int64_t i = 0; i < n; ++i)
    d[i] |= (static_cast<uint32_t>(int32_t{x[i]} + off) & mask) << bits;
}

// Fully connected staging of one input row into slots kS8Mr apart: n whole quads of x + shift
// (as bytes) or pairs of x − z_x (as int16), the same values slot8 / slot16 pack.
template <typename TIn>
void stage_quads(const TIn* __restrict x, int32_t* __restrict d, int64_t n, int32_t shift,
                 int64_t stride) {
  for (int64_t i = 0; i < n; ++i) {
    const TIn* q = x + 4 * i;
    d[i * stride] = static_cast<int32_t>((static_cast<uint32_t>(q[0] + shift) & 0xffu) |
                                         ((static_cast<uint32_t>(q[1] + shift) & 0xffu) << 8) |
                                         ((static_cast<uint32_t>(q[2] + shift) & 0xffu) << 16) |
                                         ((static_cast<uint32_t>(q[3] + shift) & 0xffu) << 24));
  }
}
template <typename TIn>
void stage_pairs(const TIn* __restrict x, int32_t* __restrict d, int64_t n, int32_t zx) {
  for (int64_t i = 0; i < n; ++i) {
    d[i * kS8Mr] =
        static_cast<int32_t>((static_cast<uint32_t>(x[2 * i] - zx) & 0xffffu) |
                             ((static_cast<uint32_t>(x[2 * i + 1] - zx) & 0xffffu) << 16));
  }
}

std::byte* align64(std::byte* p) {
  const auto u = reinterpret_cast<uintptr_t>(p);
  return reinterpret_cast<std::byte*>((u + 63) & ~uintptr_t{63});
}

// vpmaddubsw(x_u8, w) adds x0·w0 + x1·w1 in int16 with saturation. Over x ∈ [0, 255] the sum
// spans [−255·N, 255·P] (P, N: the sums of the pair's positive weights and of its negative
// weights' magnitudes), inside int16 iff P ≤ 128 and N ≤ 128 (255·128 = 32640).
bool pair_safe(int32_t w0, int32_t w1) {
  return std::max(w0, 0) + std::max(w1, 0) <= 128 && std::max(-w0, 0) + std::max(-w1, 0) <= 128;
}
int32_t quad_byte(int32_t slot, int t) {
  return static_cast<int8_t>(static_cast<uint8_t>(static_cast<uint32_t>(slot) >> (8 * t)));
}
bool quad_safe(int32_t slot) {
  return pair_safe(quad_byte(slot, 0), quad_byte(slot, 1)) &&
         pair_safe(quad_byte(slot, 2), quad_byte(slot, 3));
}

// The mixed plan's cost is its unsafe k-slots (a slot = 4 input columns: 4 input channels × 1
// tap for the direct plan, 4 k for im2col; unsafe when a pair of them is not pair-safe in some
// row of its block of kS8Mr output channels). Which columns share a quad is free (the staging
// reads any column into any position), so this searches an order with fewer of them: swaps of
// two positions in different quads, kept when they lower the count, in passes until one keeps
// nothing (deterministic; bounded work). `order` maps positions to columns (−1: none, weight 0);
// the weight of (oc, column c, tap t) is w[(oc·cols + c)·kk + t] (direct: cols = C_in per group,
// kk = k_h·k_w; im2col: cols = K, kk = 1). Trained layers drop a lot (SignalCNN1D: 67 → 39 %
// and 63 → 24 % of the k-slots, TinyCNN2D 24 → 12 % and 16 → 8 %).
std::vector<int32_t> pair_safe_column_order(std::span<const int8_t> w,
                                            const fixedpoint::ConvGeometry& g, int64_t cols,
                                            int64_t kk, std::vector<int32_t> order) {
  const int64_t cog = g.out_channels_per_group(), quads = static_cast<int64_t>(order.size()) / 4;
  // wc[c + 1][oc·kk + t]: weight of column c (row 0: no column, zeros), column-major.
  const int64_t n = g.groups * cog * kk;
  std::vector<int8_t> wc(static_cast<size_t>((cols + 1) * n), 0);
  for (int64_t grp = 0; grp < g.groups; ++grp)
    for (int64_t r = 0; r < cog; ++r)
      for (int64_t c = 0; c < cols; ++c)
        for (int64_t t = 0; t < kk; ++t)
          wc[static_cast<size_t>((c + 1) * n + ((grp * cog + r) * kk + t))] =
              w[static_cast<size_t>(((grp * cog + r) * cols + c) * kk + t)];
  auto quad_cost = [&](int64_t q) {
    const int8_t* x[4];
    for (int j = 0; j < 4; ++j) x[j] = wc.data() + (order[static_cast<size_t>(4 * q + j)] + 1) * n;
    int64_t unsafe = 0;
    for (int64_t grp = 0; grp < g.groups; ++grp) {
      for (int64_t r0 = 0; r0 < cog; r0 += kS8Mr) {
        for (int64_t t = 0; t < kk; ++t) {
          for (int64_t r = r0; r < std::min(cog, r0 + kS8Mr); ++r) {
            const int64_t i = (grp * cog + r) * kk + t;
            if (!pair_safe(x[0][i], x[1][i]) || !pair_safe(x[2][i], x[3][i])) {
              ++unsafe;
              break;
            }
          }
        }
      }
    }
    return unsafe;
  };
  std::vector<int64_t> cost(static_cast<size_t>(quads));
  for (int64_t q = 0; q < quads; ++q) cost[static_cast<size_t>(q)] = quad_cost(q);
  // Each quad_cost reads ≤ 4·n weights; stop after ~2^24 of them (budget: quad_cost calls).
  int64_t budget = (int64_t{1} << 24) / std::max<int64_t>(1, 4 * n);
  for (bool kept = true; kept && budget > 0;) {
    kept = false;
    for (int64_t i = 0; i < 4 * quads && budget > 0; ++i) {
      for (int64_t j = (i / 4 + 1) * 4; j < 4 * quads && budget > 0; ++j, budget -= 2) {
        const auto qi = static_cast<size_t>(i / 4), qj = static_cast<size_t>(j / 4);
        std::swap(order[static_cast<size_t>(i)], order[static_cast<size_t>(j)]);
        const int64_t ci = quad_cost(i / 4), cj = quad_cost(j / 4);
        if (ci + cj < cost[qi] + cost[qj]) {
          cost[qi] = ci;
          cost[qj] = cj;
          kept = true;
        } else {
          std::swap(order[static_cast<size_t>(i)], order[static_cast<size_t>(j)]);
        }
      }
    }
  }
  return order;
}
}  // namespace

// ---------------------------------------------------------------- plan requests

// What a plan name (variant()) asks prepare() for: the tier, the algorithm and the VNNI
// register-block plan; other parts of the name (-u8x4, -sign84%) describe what follows from the
// weights and are not requests.
struct PlanRequest {
  KernelChoice tier = KernelChoice::kAuto;
  int algo = 0;  // 0: the heuristic's, 1: direct (or packed), 2: im2col
  bool vnni_set = false;
  VnniPlan vnni;
  int dw = 0;  // depthwise: 0 the heuristic's, 1 int16 pairs ("depthwise"), 2 u8 quads ("-u8x4")
  // "onednn[/<impl>]": oneDNN's convolution (s8_internal.h S8OnednnConv); impl "" = its first.
  bool onednn = false;
  std::string onednn_impl;
};

std::string vnni_suffix(const VnniPlan& v) {
  return fmt::format("-{}{}x{}{}{}", v.lanes == 16 ? "zmm" : "ymm", v.mr, v.nv,
                     v.grid ? "-grid" : "", v.rows_outer ? "" : "-vo");
}

Result<PlanRequest> parse_plan(std::string_view what, std::string_view plan) {
  auto bad = [&](std::string_view why) -> Status {
    return invalid_argument("cannot prepare {}: plan = '{}', must be {}", what, plan, why);
  };
  PlanRequest r;
  const size_t slash = plan.find('/');
  std::string_view tier = plan.substr(0, slash);
  if (tier == "avx512vnni-emulated") tier = "avx512vnni";
  if (tier == "onednn") {
    r.onednn = true;
    if (slash != std::string_view::npos) r.onednn_impl = std::string(plan.substr(slash + 1));
    return r;
  }
  bool found = false;
  for (KernelChoice c : registered_s8_kernels()) {
    if (kernel_choice_name(c) == tier) {
      r.tier = c;
      found = true;
    }
  }
  if (!found) return bad("<tier>/<algorithm>... with a tier of registered_s8_kernels()");
  if (slash == std::string_view::npos) return r;
  std::string_view rest = plan.substr(slash + 1);
  bool first = true;
  while (!rest.empty()) {
    const size_t dash = rest.find('-');
    const std::string_view tok = rest.substr(0, dash);
    rest = dash == std::string_view::npos ? std::string_view() : rest.substr(dash + 1);
    if (first) {
      first = false;
      if (tok == "direct" || tok == "packed") {
        r.algo = 1;
      } else if (tok == "im2col") {
        r.algo = 2;
      } else if (tok == "depthwise") {
        r.dw = 1;
      } else {
        return bad("an algorithm of direct, im2col, depthwise or packed after the tier");
      }
      continue;
    }
    if (r.dw != 0) {
      if (tok != "u8x4") return bad("depthwise or depthwise-u8x4 after the tier");
      r.dw = 2;
      continue;
    }
    int mr = 0, nv = 0;
    char x = 0;
    if ((tok.starts_with("zmm") || tok.starts_with("ymm")) && tok.size() >= 6 &&
        std::sscanf(std::string(tok.substr(3)).c_str(), "%d%c%d", &mr, &x, &nv) == 3 && x == 'x') {
      if (!((mr == 1 && nv >= 1 && nv <= 6) || (mr == 4 && nv >= 1 && nv <= 6) ||
            (mr == 8 && nv >= 1 && nv <= 3))) {
        return bad("a VNNI block of 1x1..6, 4x1..6 or 8x1..3");
      }
      r.vnni_set = true;
      r.vnni.lanes = tok.starts_with("zmm") ? 16 : 8;
      r.vnni.mr = mr;
      r.vnni.nv = nv;
    } else if (tok == "grid") {
      r.vnni.grid = true;
    } else if (tok == "vo") {
      r.vnni.rows_outer = false;
    }
  }
  return r;
}

// Every tier's heuristic plan first (the best tier's leading), then the other variants: a tuning
// budget that runs out still compares the tiers.
std::vector<std::string> merge_candidates(const std::vector<std::vector<std::string>>& per_tier) {
  std::vector<std::string> out;
  for (const auto& t : per_tier)
    if (!t.empty()) out.push_back(t.front());
  for (const auto& t : per_tier) out.insert(out.end(), t.begin() + (t.empty() ? 0 : 1), t.end());
  return out;
}

// ---------------------------------------------------------------- convolution

enum class ConvPlan { kRef, kDirect, kDepthwise, kOnednn };

struct ConvS8Kernel::Impl {
  ConvS8Params p;  // geometry.batch = 1
  IntType in = IntType::kU8, out = IntType::kU8;
  KernelChoice choice = KernelChoice::kRef;
  std::string variant;
  ConvPlan plan = ConvPlan::kRef;
  std::vector<int8_t> weights;  // kRef: the original tensors
  std::vector<int32_t> bias;
  Tier tier;
  EpilogueTables ep;
  // Staging, in two steps. (1) The byte image: every input channel of the group, zero-point
  // padded, [cig][ph][prow] bytes with prow = stride_w·plen ≥ pw (the padded row, then z_x);
  // for im2col with stride_w > 1 each padded row is split into stride_w column phases of plen
  // bytes (phase q holds padded columns q, q + stride_w, ...). Rows no output reads
  // (row_used[h] = 0) are skipped. (2) The slot image the micro-kernels read, interleaved from
  // byte rows by the tier's interleave(): direct: [cslots][ph][prow] slots, slot (cs, h, j)
  // holding channels per·cs + t of padded row h, the row split into stride_w column phases as
  // above (so a tap's 8 lanes, 8 consecutive outputs, are 8 consecutive slots for every
  // stride); im2col (small K = C_in·k_h·k_w packed into the slots instead of C_in alone):
  // [k-slot][out_h][owp] slots, slot s of output pixel (oh, ow) holding k = per·s + t
  // (k = ic·k_h·k_w + kh·k_w + kw, the weights' own order). Slot parts whose weight is 0
  // (channels past C_in, k ≥ K) hold some other real value of the image.
  bool im2col = false;
  int64_t cslots = 0, ph = 0, pw = 0, owp = 0, row_stride = 0, plane = 0, staged_slots = 0;
  int64_t plen = 0, prow = 0, pbytes = 0;  // byte image: phase length, row, total (+ slack)
  std::vector<uint8_t> row_used;           // [ph]
  int64_t ks = 0;                          // k-slots of the staged image
  std::vector<int32_t> koff, vin, vout, vlen, apack;
  int64_t apack_group = 0;  // slots per group
  // Mixed plan (order_unsafe_slots): each row block's k-slots reordered, the pair-safe ones
  // first; [groups][row blocks + 1] starts in koff and apack and [groups][row blocks] first
  // unsafe k-slot (S8DirectArgs::block_start, block_unsafe); the bias correction of the
  // sign-trick slots per output channel. Empty otherwise.
  std::vector<int64_t> block_start, block_unsafe, unsafe_bias;
  // The input column at slot position per·s + t: direct plan an input channel (slot s = cs·kk +
  // tap), im2col a k (slot s); −1: none, weight 0. In order unless pair_safe_column_order()
  // found one with fewer unsafe k-slots (mixed plan).
  std::vector<int32_t> col_at;
  // Depthwise plan: w − z_w per [oc][tap pair] as int16 pairs (S8DwRow::wpair); the staged
  // channel is int16 x − z_x, zero-padded, each padded row split into stride_w column phases:
  // [ph][stride_w][dw_row] (dw_row a multiple of 16 with room for the last vector's reads);
  // dw_tapoff[t] = offset of tap t from its output row's start.
  std::vector<int32_t> wdw, dw_tapoff;
  std::vector<int32_t> dw_phase;  // [stride_w][2]: elements [lo, hi) of a phase holding input
  int64_t dw_pairs = 0, dw_row = 0, dw_img = 0;
  // Depthwise plan on u8 quads (tier.dw_quads; s8_internal.h S8DwQuads): the byte image B
  // [ph][dwq_brow] (x + shift, padding z_x + shift), the quad image [stride_h][dwq_hr][dwq_g]
  // (+ slack), dwq_n positions (out_h·dwq_g rounded up to 64), per quad of taps its offset and
  // per output channel its weight quads [oc][nq] and correction (z_x + shift)·Σ w.
  bool dw_quads = false;
  int64_t dwq_g = 0, dwq_hr = 0, dwq_brow = 0, dwq_bytes = 0, dwq_img = 0, dwq_n = 0, dwq_nq = 0;
  std::vector<int32_t> dwq_off, dwq_w, dwq_corr;
  // Requested algorithm (PlanRequest::algo): 0 heuristic, 1 direct, 2 im2col.
  int force_algo = 0;
  // VNNI plan (tier.vnni; s8_internal.h): the register-block plan, the weights packed
  // [group][row block of mr][ks][mr] from apack, the vectors (vplan.lanes slots from vvin) and
  // their output segments.
  VnniPlan vplan;
  std::vector<int32_t> vapack, vvin, vseg_begin;
  std::vector<VnniSeg> vsegs;
  int64_t vapack_group = 0;
  // Vectors of each mode for `lanes`: per output row, or along the grid (vnni_grid_len slots per
  // output row).
  int64_t vnni_grid_len() const { return im2col ? owp : p.geometry.stride_h * row_stride; }
  int64_t vnni_vectors(int lanes, bool grid) const {
    const int64_t oh_n = p.geometry.out_h(), ow_n = p.geometry.out_w();
    if (!grid) return oh_n * ((ow_n + lanes - 1) / lanes);
    return ((oh_n - 1) * vnni_grid_len() + ow_n + lanes - 1) / lanes;
  }
  VnniPlan vnni_heuristic() const;
  void build_vnni(const VnniPlan& vp);
  // The oneDNN plan (s8_internal.h): its primitive and reordered weights.
  std::shared_ptr<const S8OnednnConv> dnn;

  // The tier's interleave mode: quads x + shift as bytes (a flip of the top bit), int16 pairs
  // x − z_x.
  S8Interleave interleave_args() const {
    S8Interleave a;
    a.quads = tier.quads;
    a.flip = tier.shift(in) != 0 ? 0x80 : 0;
    a.sign_extend = in == IntType::kS8;
    a.zx = p.input_zero_point;
    return a;
  }
  void build_direct(std::span<const int8_t> w);
  // The mixed plan for u8 quads with full-range weights: reorders each row block's k-slots so
  // that the pair-safe ones (s8_internal.h) come first, the others after, run with the sign
  // trick on x − 128; unsafe_bias[c] = 128·Σ (weights of c in its unsafe k-slots) restores Σ x·w.
  void order_unsafe_slots();
  template <typename TIn>
  void stage_bytes(const TIn* x, uint8_t* b) const;
  void stage(const uint8_t* b, int32_t* s) const;
  void stage_im2col(const uint8_t* b, int32_t* s) const;
  template <typename TIn>
  void run_direct(const TIn* x, void* y, int32_t* s, int64_t batch) const;
  template <typename TIn>
  void run_depthwise(const TIn* x, void* y, std::byte* scratch, int64_t batch) const;
  template <typename TIn>
  void run_depthwise_quads(const TIn* x, void* y, std::byte* scratch, int64_t batch) const;
  bool build_dw_quads(std::span<const int8_t> w);
};

// n bytes with fixed-size (inlined) copies, the last one overlapping the previous: the rows are
// short, a memcpy call (or the byte loop GCC turns into one) per row is not.
inline void copy_row(uint8_t* __restrict d, const uint8_t* __restrict x, int64_t n) {
  if (n >= 16) {
    for (int64_t i = 0; i + 16 < n; i += 16) std::memcpy(d + i, x + i, 16);
    std::memcpy(d + n - 16, x + n - 16, 16);
  } else if (n >= 8) {
    std::memcpy(d, x, 8);
    std::memcpy(d + n - 8, x + n - 8, 8);
  } else if (n >= 4) {
    std::memcpy(d, x, 4);
    std::memcpy(d + n - 4, x + n - 4, 4);
  } else {
    for (int64_t i = 0; i < n; ++i) d[i] = x[i];
  }
}

// Step 1 of the staging (see Impl): the zero-point padded byte image (column phases for im2col).
// Padding never changes: run() fills the whole image with z_x once (pad_bytes), this writes
// the input bytes of the used rows.
template <typename TIn>
void ConvS8Kernel::Impl::stage_bytes(const TIn* x, uint8_t* b) const {
  const fixedpoint::ConvGeometry& g = p.geometry;
  const int64_t cig = g.in_channels_per_group(), sw = g.stride_w;
  const bool phases = sw > 1 && im2col;
  for (int64_t c = 0; c < cig; ++c) {
    for (int64_t ih = 0; ih < g.in_h; ++ih) {
      const int64_t h = ih + g.pad_top;
      if (row_used[static_cast<size_t>(h)] == 0) continue;
      uint8_t* d = b + (c * ph + h) * prow;
      const auto* xr = reinterpret_cast<const uint8_t*>(x + (c * g.in_h + ih) * g.in_w);
      if (!phases) {
        copy_row(d + g.pad_left, xr, g.in_w);
        continue;
      }
      for (int64_t q = 0; q < sw; ++q) {
        // Phase q, byte j = padded column j·sw + q = input column j·sw + q − pad_left.
        uint8_t* dq = d + q * plen;
        const int64_t c0 = q - g.pad_left;
        const int64_t lo = std::min(plen, c0 >= 0 ? 0 : (-c0 + sw - 1) / sw);
        const int64_t hi =
            std::clamp<int64_t>(c0 >= g.in_w ? 0 : (g.in_w - c0 + sw - 1) / sw, lo, plen);
        for (int64_t j = lo; j < hi; ++j) dq[j] = xr[j * sw + c0];
      }
    }
  }
}

// Step 2, direct plan: slot row (cs, h) interleaves the byte rows of channels col_at[per·cs + t]
// and splits it into the column phases. Stride 1: consecutive used rows in one call (the byte
// and slot rows have the same length).
void ConvS8Kernel::Impl::stage(const uint8_t* b, int32_t* s) const {
  const int64_t per = tier.per_slot();
  const int64_t sw = p.geometry.stride_w;
  S8Interleave a = interleave_args();
  a.split = sw;
  a.plen = plen;
  for (int64_t cs = 0; cs < cslots; ++cs) {
    for (int64_t h = 0; h < ph;) {
      if (row_used[static_cast<size_t>(h)] == 0) {
        ++h;
        continue;
      }
      int64_t rows = 1;
      if (sw == 1) {
        while (h + rows < ph && row_used[static_cast<size_t>(h + rows)] != 0) ++rows;
      }
      for (int64_t t = 0; t < per; ++t) {
        const int32_t c = col_at[static_cast<size_t>(cs * per + t)];
        a.x[t] = b + (std::max(c, 0) * ph + h) * prow;  // no channel: weight 0, any real row
      }
      a.n = rows * prow;
      a.dst = reinterpret_cast<uint32_t*>(s + cs * plane + h * row_stride);
      tier.interleave(a);
      h += rows;
    }
  }
}

// Step 2, im2col plan: slot row (sl, oh) interleaves, for k = col_at[per·sl + t], the bytes of
// input channel ic, padded row oh·sh + kh·dh, from padded column kw·dw on (in its phase).
void ConvS8Kernel::Impl::stage_im2col(const uint8_t* b, int32_t* s) const {
  const fixedpoint::ConvGeometry& g = p.geometry;
  const int64_t kk = g.kernel_h * g.kernel_w;
  const int64_t per = tier.per_slot(), oh_n = g.out_h(), sw = g.stride_w;
  S8Interleave a = interleave_args();
  a.n = owp;
  for (int64_t sl = 0; sl < ks; ++sl) {
    const uint8_t* base[4] = {};
    for (int64_t t = 0; t < per; ++t) {
      const int64_t k = std::max(col_at[static_cast<size_t>(sl * per + t)], 0);  // −1: weight 0
      const int64_t ic = k / kk, kh = (k % kk) / g.kernel_w, kw = k % g.kernel_w;
      const int64_t col = kw * g.dilation_w;
      base[t] = b + (ic * ph + kh * g.dilation_h) * prow + (col % sw) * plen + col / sw;
    }
    for (int64_t oh = 0; oh < oh_n; ++oh) {
      for (int64_t t = 0; t < per; ++t) a.x[t] = base[t] + oh * g.stride_h * prow;
      a.dst = reinterpret_cast<uint32_t*>(s + (sl * oh_n + oh) * owp);
      tier.interleave(a);
    }
  }
}

template <typename TIn>
void ConvS8Kernel::Impl::run_direct(const TIn* x, void* y, int32_t* s, int64_t batch) const {
  const fixedpoint::ConvGeometry& g = p.geometry;
  const int64_t cig = g.in_channels_per_group(), cog = g.out_channels_per_group();
  const int64_t in_plane = g.in_h * g.in_w, out_plane = g.out_h() * g.out_w();
  auto* b = reinterpret_cast<uint8_t*>(s + (staged_slots + 15) / 16 * 16);
  S8DirectArgs a;
  a.src = s;
  a.koff = koff.data();
  a.ks = ks;
  a.m = cog;
  a.vin = vin.data();
  a.vout = vout.data();
  a.vlen = vlen.data();
  a.n_vec = static_cast<int64_t>(vin.size());
  a.src_unsigned = true;
  a.out = y;
  a.row_stride = out_plane;
  a.e = &ep.e;
  std::memset(b, static_cast<uint8_t>(p.input_zero_point), static_cast<size_t>(pbytes));
  for (int64_t n = 0; n < batch; ++n) {
    for (int64_t grp = 0; grp < g.groups; ++grp) {
      stage_bytes(x + (n * g.in_channels + grp * cig) * in_plane, b);
      if (im2col) {
        stage_im2col(b, s);
      } else {
        stage(b, s);
      }
      a.apack = apack.data() + grp * apack_group;
      if (!block_start.empty()) {
        const int64_t blocks = apack_group / (ks * kS8Mr);
        a.apack = apack.data();
        a.block_start = block_start.data() + grp * (blocks + 1);
        a.block_unsafe = block_unsafe.data() + grp * blocks;
      }
      a.dst0 = (n * g.out_channels + grp * cog) * out_plane;
      a.chan0 = grp * cog;
      if (tier.vnni != nullptr) {
        VnniArgs v;
        v.plan = vplan;
        v.conv = true;
        v.src = s;
        v.koff = koff.data();
        v.ks = ks;
        v.apack = vapack.data() + grp * vapack_group;
        v.m = cog;
        v.vin = vvin.data();
        v.seg_begin = vseg_begin.data();
        v.segs = vsegs.data();
        v.n_vec = static_cast<int64_t>(vvin.size());
        v.out = y;
        v.dst0 = a.dst0;
        v.row_stride = out_plane;
        v.chan0 = a.chan0;
        v.e = &ep.e;
        tier.vnni(v);
      } else {
        tier.direct(a);
      }
    }
  }
}

// The heuristic VNNI plan (prepare without a plan request): zmm; vectors along the grid when that
// needs fewer of them; 8 rows × 3 vectors when a row block has at most 3 vectors, else 4 × 6.
VnniPlan ConvS8Kernel::Impl::vnni_heuristic() const {
  VnniPlan v;
  v.lanes = 16;
  v.grid = vnni_vectors(16, true) < vnni_vectors(16, false);
  const int64_t n = vnni_vectors(16, v.grid);
  if (n <= 3) {
    v.mr = 8;
    v.nv = 3;
  }
  return v;
}

void ConvS8Kernel::Impl::build_vnni(const VnniPlan& vp) {
  const fixedpoint::ConvGeometry& g = p.geometry;
  const int64_t cog = g.out_channels_per_group(), oh_n = g.out_h(), ow_n = g.out_w();
  const int lanes = vp.lanes, mr = vp.mr;
  vplan = vp;
  vvin.clear();
  vseg_begin.clear();
  vsegs.clear();
  int64_t max_vin = 0;
  auto seg = [](int64_t b, int64_t e, int64_t o) {
    return VnniSeg{static_cast<int32_t>(b), static_cast<int32_t>(e), static_cast<int32_t>(o)};
  };
  const int64_t gl = vnni_grid_len();  // slots between output rows
  if (vp.grid) {
    const int64_t j_end = (oh_n - 1) * gl + ow_n;
    for (int64_t j0 = 0; j0 < j_end; j0 += lanes) {
      vvin.push_back(static_cast<int32_t>(j0));
      vseg_begin.push_back(static_cast<int32_t>(vsegs.size()));
      for (int64_t oh = j0 / gl; oh < oh_n && oh * gl < j0 + lanes; ++oh) {
        const int64_t b = std::max(j0, oh * gl), e = std::min(j0 + lanes, oh * gl + ow_n);
        if (b < e) vsegs.push_back(seg(b - j0, e - j0, oh * ow_n + (b - oh * gl)));
      }
      max_vin = j0;
    }
  } else {
    for (int64_t oh = 0; oh < oh_n; ++oh) {
      for (int64_t ow0 = 0; ow0 < ow_n; ow0 += lanes) {
        const int64_t vi = oh * gl + ow0;
        vvin.push_back(static_cast<int32_t>(vi));
        vseg_begin.push_back(static_cast<int32_t>(vsegs.size()));
        vsegs.push_back(seg(0, std::min<int64_t>(lanes, ow_n - ow0), oh * ow_n + ow0));
        max_vin = std::max(max_vin, vi);
      }
    }
  }
  vseg_begin.push_back(static_cast<int32_t>(vsegs.size()));
  const int64_t max_koff = *std::max_element(koff.begin(), koff.end());
  // Every lane's read stays inside the slot image (lanes past a row read other real slots).
  staged_slots = std::max(staged_slots, max_vin + max_koff + lanes);
  const int64_t blocks = (cog + mr - 1) / mr;
  vapack_group = blocks * ks * mr;
  vapack.assign(static_cast<size_t>(g.groups * vapack_group), 0);
  for (int64_t grp = 0; grp < g.groups; ++grp)
    for (int64_t r = 0; r < cog; ++r)
      for (int64_t k = 0; k < ks; ++k)
        vapack[static_cast<size_t>(grp * vapack_group + ((r / mr) * ks + k) * mr + r % mr)] =
            apack[static_cast<size_t>(grp * apack_group + ((r / kS8Mr) * ks + k) * kS8Mr +
                                      r % kS8Mr)];
  variant += vnni_suffix(vp);
}

template <typename TIn>
void ConvS8Kernel::Impl::run_depthwise(const TIn* x, void* y, std::byte* scratch,
                                       int64_t batch) const {
  const fixedpoint::ConvGeometry& g = p.geometry;
  const int64_t cog = g.out_channels_per_group();
  const int64_t oh_n = g.out_h(), ow_n = g.out_w(), out_plane = oh_n * ow_n;
  auto* img = reinterpret_cast<int16_t*>(scratch);
  auto* sum = reinterpret_cast<int32_t*>(scratch + (dw_img * 2 + 63) / 64 * 64);
  const int32_t zx = p.input_zero_point;
  const int64_t sw = g.stride_w;
  S8DwRow a;
  a.img = img;
  a.row_stride = sw * dw_row;  // one padded row = sw column phases
  a.tapoff = dw_tapoff.data();
  a.kk = g.kernel_h * g.kernel_w;
  a.n = ow_n;
  a.sum = sum;
  for (int64_t i = 0; i < dw_img; ++i) img[i] = 0;  // padding (never rewritten)
  for (int64_t n = 0; n < batch; ++n) {
    for (int64_t oc = 0; oc < g.out_channels; ++oc) {
      const TIn* xc = x + (n * g.in_channels + oc / cog) * g.in_h * g.in_w;
      if (oc % cog == 0) {
        for (int64_t ih = 0; ih < g.in_h; ++ih) {
          const TIn* xr = xc + ih * g.in_w;
          int16_t* d = img + (ih + g.pad_top) * sw * dw_row;
          if (sw == 1) {
            widen_minus_zp(xr, d + g.pad_left, g.in_w, zx);
            continue;
          }
          for (int64_t q = 0; q < sw; ++q) {
            const int64_t lo = dw_phase[static_cast<size_t>(2 * q)];
            const int64_t hi = dw_phase[static_cast<size_t>(2 * q + 1)];
            const int64_t c0 = q - g.pad_left;  // input column of element 0 of phase q
            if (hi > lo) widen_strided(xr + c0 + lo * sw, d + q * dw_row + lo, hi - lo, sw, zx);
          }
        }
      }
      a.wpair = wdw.data() + oc * dw_pairs;
      // Rows are summed into one plane (each row's 16-lane tail is overwritten by the next row)
      // and requantized by one epilogue call per channel.
      for (int64_t oh = 0; oh < oh_n; ++oh) {
        a.row0 = oh * g.stride_h;
        a.sum = sum + oh * ow_n;
        tier.dw_row(a);
      }
      tier.epilogue(ep.e, sum, oc, y, (n * g.out_channels + oc) * out_plane, out_plane);
    }
  }
}

// The u8-quad depthwise plan of the VNNI tier (s8_internal.h S8DwQuads): false when the layer
// cannot take it (stride_w not 1, 2 or 4, dilation_w > 1, some w − z_w outside s8).
bool ConvS8Kernel::Impl::build_dw_quads(std::span<const int8_t> w) {
  const fixedpoint::ConvGeometry& g = p.geometry;
  const int64_t sw = g.stride_w, sh = g.stride_h, kk = g.kernel_h * g.kernel_w;
  const int32_t zw = p.weight_zero_point;
  if (!(sw == 1 || sw == 2 || sw == 4) || g.dilation_w != 1) return false;
  for (int8_t v : w)
    if (v - zw < -128 || v - zw > 127) return false;
  const int64_t nm = (g.kernel_w + 3) / 4;  // quads per kernel row
  const int64_t oh_n = g.out_h(), ow_n = g.out_w();
  dwq_nq = g.kernel_h * nm;
  // A valid output's quads m read columns ow + 4m / s < G of its row.
  dwq_g = ow_n + (nm - 1) * 4 / sw;
  dwq_hr = (ph + sh - 1) / sh;
  dwq_n = (oh_n * dwq_g + 63) / 64 * 64;
  const int64_t g16 = (dwq_g + 15) / 16 * 16;
  dwq_brow = (std::max(pw, sw * g16 + 16) + 63) / 64 * 64;
  dwq_bytes = ph * dwq_brow + 64;
  dwq_off.clear();
  int64_t max_off = 0;
  for (int64_t kh = 0; kh < g.kernel_h; ++kh) {
    const int64_t r = kh * g.dilation_h;
    for (int64_t m = 0; m < nm; ++m) {
      const int64_t off = ((r % sh) * dwq_hr + r / sh) * dwq_g + m * 4 / sw;
      dwq_off.push_back(static_cast<int32_t>(off));
      max_off = std::max(max_off, off);
    }
  }
  dwq_img = std::max(sh * dwq_hr * dwq_g, max_off + dwq_n) + 16;
  if (dwq_img > std::numeric_limits<int32_t>::max() / 4) return false;
  const int32_t zq = p.input_zero_point + (in == IntType::kS8 ? 128 : 0);
  dwq_w.clear();
  dwq_corr.clear();
  for (int64_t oc = 0; oc < g.out_channels; ++oc) {
    int64_t wsum = 0;
    for (int64_t kh = 0; kh < g.kernel_h; ++kh) {
      for (int64_t m = 0; m < nm; ++m) {
        int32_t q[4] = {0, 0, 0, 0};
        for (int64_t t = 0; t < 4 && 4 * m + t < g.kernel_w; ++t) {
          q[t] = w[static_cast<size_t>(oc * kk + kh * g.kernel_w + 4 * m + t)] - zw;
          wsum += q[t];
        }
        dwq_w.push_back(slot8(q));
      }
    }
    dwq_corr.push_back(static_cast<int32_t>(static_cast<uint32_t>(zq * wsum)));
  }
  dw_quads = true;
  return true;
}

template <typename TIn>
void ConvS8Kernel::Impl::run_depthwise_quads(const TIn* x, void* y, std::byte* scratch,
                                             int64_t batch) const {
  const fixedpoint::ConvGeometry& g = p.geometry;
  const int64_t cog = g.out_channels_per_group();
  const int64_t oh_n = g.out_h(), ow_n = g.out_w(), out_plane = oh_n * ow_n;
  const int64_t sw = g.stride_w, sh = g.stride_h;
  auto* bimg = reinterpret_cast<uint8_t*>(scratch);
  auto* qimg = reinterpret_cast<uint32_t*>(scratch + (dwq_bytes + 63) / 64 * 64);
  auto* sum =
      reinterpret_cast<int32_t*>(reinterpret_cast<std::byte*>(qimg) + (dwq_img * 4 + 63) / 64 * 64);
  const uint8_t flip = in == IntType::kS8 ? 0x80 : 0;
  const auto zq = static_cast<uint8_t>(p.input_zero_point ^ flip);
  // Padding (never rewritten): every byte z_x + shift, the padding rows staged once.
  std::memset(bimg, zq, static_cast<size_t>(dwq_bytes));
  std::memset(qimg, 0, static_cast<size_t>(dwq_img * 4));
  S8DwStage st;
  st.in_w = g.in_w;
  st.pad_top = g.pad_top;
  st.pad_left = g.pad_left;
  st.flip = flip;
  st.zpad = zq;
  st.b = bimg;
  st.brow = dwq_brow;
  st.q = qimg;
  st.sh = sh;
  st.sw = sw;
  st.hr = dwq_hr;
  st.g = dwq_g;
  st.r0 = 0;
  st.r1 = g.pad_top;
  tier.dw_stage(st);
  st.r0 = g.pad_top + g.in_h;
  st.r1 = ph;
  tier.dw_stage(st);
  st.r0 = g.pad_top;
  st.r1 = g.pad_top + g.in_h;
  S8DwQuads a;
  a.img = qimg;
  a.qoff = dwq_off.data();
  a.nq = dwq_nq;
  a.n = oh_n * dwq_g;
  a.sum = sum;
  // The kernel's own epilogue: `ort` bytes or s32 without the saturating bias path (any
  // epilogue in the emulation, which calls the scalar one).
  const bool fuse = dwq_g == ow_n && (tier.dw_quads == dw_quads_emulated ||
                                      (!ep.e.saturate && (ep.e.out == IntType::kS32 || ep.e.ort)));
  if (fuse) {
    a.e = &ep.e;
    a.out = y;
  }
  for (int64_t n = 0; n < batch; ++n) {
    for (int64_t oc = 0; oc < g.out_channels; ++oc) {
      if (oc % cog == 0) {
        st.x =
            reinterpret_cast<const uint8_t*>(x + (n * g.in_channels + oc / cog) * g.in_h * g.in_w);
        tier.dw_stage(st);
      }
      a.wq = dwq_w.data() + oc * dwq_nq;
      a.corr = dwq_corr[static_cast<size_t>(oc)];
      if (fuse) {  // outputs written by the kernel (G = out_w: positions are output elements)
        a.chan = oc;
        a.dst = (n * g.out_channels + oc) * out_plane;
        tier.dw_quads(a);
        continue;
      }
      tier.dw_quads(a);
      if (dwq_g != ow_n) {  // drop the lanes ow ≥ out_w (rows move down, in order)
        for (int64_t oh = 1; oh < oh_n; ++oh) {
          std::memmove(sum + oh * ow_n, sum + oh * dwq_g, static_cast<size_t>(ow_n) * 4);
        }
      }
      tier.epilogue(ep.e, sum, oc, y, (n * g.out_channels + oc) * out_plane, out_plane);
    }
  }
}

ConvS8Kernel::ConvS8Kernel(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ConvS8Kernel::ConvS8Kernel(ConvS8Kernel&&) noexcept = default;
ConvS8Kernel& ConvS8Kernel::operator=(ConvS8Kernel&&) noexcept = default;
ConvS8Kernel::~ConvS8Kernel() = default;
std::string_view ConvS8Kernel::variant() const { return impl_->variant; }
KernelChoice ConvS8Kernel::choice() const { return impl_->choice; }
const ConvS8Params& ConvS8Kernel::params() const { return impl_->p; }
IntType ConvS8Kernel::input_type() const { return impl_->in; }
IntType ConvS8Kernel::output_type() const { return impl_->out; }

Result<ConvS8Kernel> ConvS8Kernel::prepare(const ConvS8Params& params,
                                           std::span<const int8_t> weights,
                                           std::span<const int32_t> bias, IntType input,
                                           IntType output, KernelChoice choice,
                                           std::string_view plan) {
  constexpr std::string_view kWhat = "int8 convolution";
  PlanRequest req;
  if (!plan.empty()) {
    EI8_ASSIGN_OR_RETURN(req, parse_plan(kWhat, plan));
    if (req.onednn) {
      // oneDNN runs at the CPU's best tier (its ISA capped by EI8_ISA like ours).
      if (choice != KernelChoice::kAuto &&
          choice != resolve_s8_kernel_choice(KernelChoice::kAuto)) {
        return invalid_argument(
            "cannot prepare {}: plan = '{}', must be of the forced tier {} (onednn runs with auto "
            "or the best tier only)",
            kWhat, plan, kernel_choice_name(choice));
      }
    } else {
      if (choice != KernelChoice::kAuto && choice != req.tier) {
        return invalid_argument("cannot prepare {}: plan = '{}', must be of the forced tier {}",
                                kWhat, plan, kernel_choice_name(choice));
      }
      choice = req.tier;
    }
  }
  ConvS8Params p = params;
  p.geometry.batch = 1;
  EI8_RETURN_IF_ERROR(p.validate());
  const fixedpoint::ConvGeometry& g = p.geometry;
  EI8_RETURN_IF_ERROR(
      check_types(kWhat, input, output, p.input_zero_point, p.requant, g.out_channels));
  if (static_cast<int64_t>(weights.size()) != g.weight_numel()) {
    return invalid_argument("cannot prepare {}: weight size = {}, must be {}", kWhat,
                            weights.size(), g.weight_numel());
  }
  if (!bias.empty() && static_cast<int64_t>(bias.size()) != g.out_channels) {
    return invalid_argument("cannot prepare {}: bias size = {}, must be 0 or {}", kWhat,
                            bias.size(), g.out_channels);
  }
  EI8_RETURN_IF_ERROR(check_choice(kWhat, choice));
  auto impl = std::make_unique<Impl>();
  Impl& m = *impl;
  m.p = std::move(p);
  m.in = input;
  m.out = output;
  // A simulated narrow accumulator exists only in the reference kernel.
  m.choice = m.p.accumulator_bits != 0 ? KernelChoice::kRef : resolve_s8_kernel_choice(choice);
  m.variant = "ref";
  if (m.choice == KernelChoice::kRef) {
    m.weights.assign(weights.begin(), weights.end());
    m.bias.assign(bias.begin(), bias.end());
    return ConvS8Kernel(std::move(impl));
  }
  m.tier = pick_tier(m.choice, m.p.weight_zero_point, weights);
  if (req.onednn) {
    EI8_ASSIGN_OR_RETURN(m.dnn, onednn_s8_prepare(m.p, weights, input, req.onednn_impl, plan));
    m.plan = ConvPlan::kOnednn;
    // The epilogue of the u8 quads (bias − (z_x + shift)·Σw, as the VNNI tier) on AVX2 code: the
    // CPU has it (oneDNN is exact only with VNNI or AMX).
    m.tier = int16_tier(KernelChoice::kAvx2);
    m.tier.quads = true;
    m.tier.name = "onednn";
    m.variant = "onednn/" + std::string(onednn_s8_name(*m.dnn));
  }
  const int64_t cig = g.in_channels_per_group();
  const int64_t kk = g.kernel_h * g.kernel_w, k = cig * kk;
  const int32_t zw = m.p.weight_zero_point;
  auto wat = [&](int64_t oc, int64_t ic, int64_t t) -> int32_t {  // weight of (oc, ic, tap t)
    return weights[static_cast<size_t>((oc * cig + ic) * kk + t)];
  };
  std::vector<int64_t> sum_abs_w(static_cast<size_t>(g.out_channels), 0),
      wsum(static_cast<size_t>(g.out_channels), 0);
  for (int64_t oc = 0; oc < g.out_channels; ++oc) {
    for (int64_t i = 0; i < k; ++i) {
      const int32_t w = weights[static_cast<size_t>(oc * k + i)];
      sum_abs_w[static_cast<size_t>(oc)] += w - zw < 0 ? zw - w : w - zw;
      wsum[static_cast<size_t>(oc)] += w;
    }
  }
  if (m.plan == ConvPlan::kOnednn) {
    build_epilogue(m.ep, m.p.requant, input, output, m.p.input_zero_point, bias, sum_abs_w, wsum,
                   m.tier, false);
    return ConvS8Kernel(std::move(impl));
  }
  m.ph = g.in_h + g.pad_top + g.pad_bottom;
  m.pw = g.in_w + g.pad_left + g.pad_right;
  // Depthwise (channel multiplier cog): a direct loop. A convolution of one input channel is
  // the same computation (one group, multiplier = out_channels): the depthwise plans are then
  // candidates the tuner times (plan_candidates), taken only when a plan name asks for them.
  if (cig == 1 && (g.groups > 1 || req.dw != 0)) {
    m.plan = ConvPlan::kDepthwise;
    m.tier = int16_tier(m.choice);  // int16 arithmetic, or u8 quads on the VNNI tier
    m.variant = m.tier.name + "/depthwise";
    if (m.choice == KernelChoice::kAvx512Vnni && req.dw != 1 && m.build_dw_quads(weights)) {
      m.tier.dw_quads = dw_quads_vnni;
      m.tier.dw_stage = dw_stage_vnni;
      if (g_emulate_vnni) {
        m.tier.name = "avx512vnni-emulated";
        m.tier.dw_quads = dw_quads_emulated;
        m.tier.dw_stage = dw_stage_generic;
        m.tier.epilogue = epilogue_s8_generic;
      }
      m.variant = m.tier.name + "/depthwise-u8x4";
    } else if (req.dw == 2) {
      return invalid_argument(
          "cannot prepare {}: plan = '{}', must be depthwise (u8x4 needs the avx512vnni tier, "
          "stride_w 1, 2 or 4, dilation_w 1 and w - z_w in [-128, 127])",
          kWhat, plan);
    }
    m.dw_pairs = (kk + 1) / 2;
    const int64_t ow16 = (g.out_w() + 15) / 16 * 16, sw = g.stride_w;
    // Each padded row split into sw column phases of dw_row elements (phase q holds padded
    // columns q, q + sw, ...): tap kw of output ow reads phase (kw·dw) % sw at ow + (kw·dw) / sw,
    // so every tap reads consecutive elements for any stride. Every tap's 16-wide reads of the
    // last vector stay inside the phase row.
    const int64_t plen = (m.pw + sw - 1) / sw;
    m.dw_row = (std::max(plen, ow16 + (g.kernel_w - 1) * g.dilation_w / sw) + 15) / 16 * 16;
    m.dw_img = (m.ph * sw + 1) * m.dw_row;
    for (int64_t q = 0; q < sw; ++q) {
      // Phase q, element j = padded column j·sw + q = input column j·sw + q − pad_left: the
      // elements [lo, hi) that hold input columns.
      const int64_t c0 = q - g.pad_left;
      const int64_t lo = c0 >= 0 ? 0 : (-c0 + sw - 1) / sw;
      const int64_t hi = c0 >= g.in_w ? 0 : (g.in_w - c0 + sw - 1) / sw;
      m.dw_phase.push_back(static_cast<int32_t>(lo));
      m.dw_phase.push_back(static_cast<int32_t>(std::max(lo, hi)));
    }
    for (int64_t kh = 0; kh < g.kernel_h; ++kh) {
      for (int64_t kw = 0; kw < g.kernel_w; ++kw) {
        const int64_t col = kw * g.dilation_w;
        const int64_t off = (kh * g.dilation_h * sw + col % sw) * m.dw_row + col / sw;
        m.dw_tapoff.push_back(static_cast<int32_t>(off));
      }
    }
    for (int64_t oc = 0; oc < g.out_channels; ++oc) {
      for (int64_t j = 0; j < m.dw_pairs; ++j) {
        const int32_t w0 = wat(oc, 0, 2 * j) - zw;
        const int32_t w1 = 2 * j + 1 < kk ? wat(oc, 0, 2 * j + 1) - zw : 0;
        m.wdw.push_back(slot16(w0, w1));
      }
    }
    build_epilogue(m.ep, m.p.requant, input, output, m.p.input_zero_point, bias, sum_abs_w, wsum,
                   m.tier, false);
    return ConvS8Kernel(std::move(impl));
  }
  m.plan = ConvPlan::kDirect;
  m.force_algo = req.algo;
  // Full-range symmetric weights on AVX2: u8 quads in the mixed plan (pair-safe k-slots with
  // plain vpmaddubsw, the others with the sign trick) instead of the sign trick everywhere.
  const bool mixed = m.tier.choice == KernelChoice::kAvx2 && m.tier.signed_x;
  if (mixed) m.tier = u8_quads_avx2();
  m.build_direct(weights);
  if (mixed && m.ks > 1) {
    m.col_at = m.im2col ? pair_safe_column_order(weights, g, cig * kk, 1, m.col_at)
                        : pair_safe_column_order(weights, g, cig, kk, m.col_at);
    m.build_direct(weights);
  }
  if (mixed) m.order_unsafe_slots();
  if (m.tier.vnni != nullptr) m.build_vnni(req.vnni_set ? req.vnni : m.vnni_heuristic());
  build_epilogue(m.ep, m.p.requant, input, output, m.p.input_zero_point, bias, sum_abs_w, wsum,
                 m.tier, false, m.unsafe_bias);
  return ConvS8Kernel(std::move(impl));
}

Result<std::vector<std::string>> ConvS8Kernel::plan_candidates(const ConvS8Params& params,
                                                               std::span<const int8_t> weights,
                                                               IntType input, IntType output,
                                                               KernelChoice choice) {
  std::vector<KernelChoice> tiers;
  if (choice != KernelChoice::kAuto) {
    tiers.push_back(choice);
  } else {
    // The tiers worth timing on this CPU: the best one and AVX2 (generic never beats AVX2).
    tiers.push_back(resolve_s8_kernel_choice(KernelChoice::kAuto));
    if (tiers.front() == KernelChoice::kAvx512Vnni) tiers.push_back(KernelChoice::kAvx2);
  }
  std::vector<std::vector<std::string>> per_tier;
  for (KernelChoice t : tiers) {
    std::vector<std::string>& out = per_tier.emplace_back();
    EI8_ASSIGN_OR_RETURN(ConvS8Kernel h, prepare(params, weights, {}, input, output, t));
    const Impl& m = *h.impl_;
    const std::string name = kernel_choice_name(m.choice).data();
    std::vector<std::string> algos;
    if (m.plan == ConvPlan::kDepthwise && m.dw_quads) {
      algos.push_back("");  // u8 quads (the heuristic's), then int16 pairs
      algos.push_back("depthwise");
    } else if (m.plan != ConvPlan::kDirect) {
      algos.push_back("");  // ref, depthwise: one plan
    } else {
      algos.push_back(m.im2col ? "im2col" : "direct");
      // The other algorithm when it packs K into fewer k-slots (im2col) and stays small.
      const fixedpoint::ConvGeometry& g = m.p.geometry;
      const int64_t per = m.tier.per_slot(), kk = g.kernel_h * g.kernel_w;
      const int64_t k = g.in_channels_per_group() * kk;
      const int64_t ks_i2c = (k + per - 1) / per,
                    ks_dir = (g.in_channels_per_group() + per - 1) / per * kk;
      if (ks_i2c < ks_dir && ks_i2c * g.out_h() * m.owp <= (int64_t{1} << 20)) {
        algos.push_back(m.im2col ? "direct" : "im2col");
      }
    }
    if (m.plan == ConvPlan::kDirect && m.p.geometry.groups == 1 && m.p.geometry.in_channels == 1) {
      // One input channel (a network's first layer on one-channel images): the depthwise plans
      // with multiplier = out_channels, u8 quads (VNNI) and int16 pairs.
      for (const char* dw : {"/depthwise-u8x4", "/depthwise"}) {
        if (std::string_view(dw) == "/depthwise-u8x4" && m.choice != KernelChoice::kAvx512Vnni) {
          continue;
        }
        auto d = prepare(params, weights, {}, input, output, t, name + dw);
        if (d.ok()) out.push_back(std::string(d->variant()));
      }
    }
    for (const std::string& algo : algos) {
      const std::string base = algo.empty() ? std::string(h.variant()) : name + "/" + algo;
      if (m.tier.vnni == nullptr || algo.empty()) {
        out.push_back(base);
        continue;
      }
      ConvS8Params q = params;
      EI8_ASSIGN_OR_RETURN(ConvS8Kernel a, prepare(q, weights, {}, input, output, t, base));
      const Impl& ma = *a.impl_;
      const bool grid = ma.vnni_vectors(16, true) < ma.vnni_vectors(16, false);
      const VnniPlan first = ma.vplan;
      out.push_back(base + vnni_suffix(first));
      for (int lanes : {16, 8}) {
        for (auto [mr, nv] : {std::pair{4, 6}, std::pair{8, 3}}) {
          for (bool gr : {false, true}) {
            if (gr && !grid) continue;
            for (bool ro : {true, false}) {
              if (!ro && lanes == 8) continue;
              const VnniPlan v{lanes, mr, nv, gr, ro};
              const std::string n = base + vnni_suffix(v);
              if (n != out.back() && std::find(out.begin(), out.end(), n) == out.end()) {
                out.push_back(n);
              }
            }
          }
        }
      }
    }
  }
  // oneDNN's implementation when it is exact (with kAuto only: it runs at the best tier),
  // second after the best tier's heuristic plan: the tuner's budget may end the first pass after
  // two candidates on large layers (the AVX2 plans' preparation is the slow one).
  if (choice == KernelChoice::kAuto) {
    std::vector<std::string> dnn;
    for (const std::string& impl : onednn_s8_impls(params, weights)) {
      dnn.push_back("onednn/" + impl);
    }
    per_tier.insert(per_tier.begin() + 1, std::move(dnn));
  }
  return merge_candidates(per_tier);
}

// The direct / im2col plan for m.tier: index tables (koff, vin, vout, vlen), the staging
// geometry and apack (the weights, w − z_w, in the tier's slots).
void ConvS8Kernel::Impl::build_direct(std::span<const int8_t> w) {
  Impl& m = *this;
  const fixedpoint::ConvGeometry& g = m.p.geometry;
  const int64_t cig = g.in_channels_per_group(), cog = g.out_channels_per_group();
  const int64_t kk = g.kernel_h * g.kernel_w, k = cig * kk;
  const int32_t zw = m.p.weight_zero_point;
  auto wat = [&](int64_t oc, int64_t ic, int64_t t) -> int32_t {  // weight of (oc, ic, tap t)
    return w[static_cast<size_t>((oc * cig + ic) * kk + t)];
  };
  m.koff.clear();
  m.vin.clear();
  m.vout.clear();
  m.vlen.clear();
  m.block_start.clear();
  m.block_unsafe.clear();
  m.unsafe_bias.clear();
  const int64_t per = m.tier.per_slot();
  const int64_t oh_n = g.out_h(), ow_n = g.out_w();
  m.cslots = (cig + per - 1) / per;
  m.ks = m.cslots * kk;
  m.owp = (ow_n + kS8Lanes - 1) / kS8Lanes * kS8Lanes;
  // im2col when packing K = C_in·k_h·k_w into the slots saves at least an eighth of the k-slots
  // of the per-channel slots (C_in not a multiple of 2 or 4: C_in = 1 wastes 3/4 of every quad)
  // and the image stays small (≤ 1 MiB).
  const int64_t ks_i2c = (k + per - 1) / per;
  m.im2col = m.force_algo == 2 || (m.force_algo == 0 && ks_i2c * 8 <= m.ks * 7 &&
                                   ks_i2c * oh_n * m.owp <= (int64_t{1} << 18));
  m.variant = m.tier.plan(m.im2col ? "im2col" : "direct");
  // The column order (kept from a previous call for the same plan).
  const int64_t cols = m.im2col ? k : cig, positions = (m.im2col ? ks_i2c : m.cslots) * per;
  if (static_cast<int64_t>(m.col_at.size()) != positions) {
    m.col_at.resize(static_cast<size_t>(positions));
    for (int64_t i = 0; i < positions; ++i) {
      m.col_at[static_cast<size_t>(i)] = i < cols ? static_cast<int32_t>(i) : -1;
    }
  }
  // The byte image (step 1 of the staging): rows of stride_w·plen ≥ pw bytes (phases: Impl); only
  // the rows some output reads. im2col reads owp bytes from a tap's first column, up to owp
  // bytes past its row: slack.
  m.plen = (m.pw + g.stride_w - 1) / g.stride_w;
  m.prow = g.stride_w * m.plen;
  m.row_used.assign(static_cast<size_t>(m.ph), 0);
  for (int64_t oh = 0; oh < oh_n; ++oh)
    for (int64_t kh = 0; kh < g.kernel_h; ++kh)
      m.row_used[static_cast<size_t>(oh * g.stride_h + kh * g.dilation_h)] = 1;
  m.pbytes = cig * m.ph * m.prow + m.owp + 64;
  if (m.im2col) {
    m.ks = ks_i2c;
    m.cslots = 0;
    m.plane = oh_n * m.owp;
    for (int64_t sl = 0; sl < m.ks; ++sl) m.koff.push_back(static_cast<int32_t>(sl * m.plane));
    for (int64_t oh = 0; oh < oh_n; ++oh) {
      for (int64_t ow0 = 0; ow0 < ow_n; ow0 += kS8Lanes) {
        m.vin.push_back(static_cast<int32_t>(oh * m.owp + ow0));
        m.vout.push_back(static_cast<int32_t>(oh * ow_n + ow0));
        m.vlen.push_back(static_cast<int32_t>(std::min<int64_t>(kS8Lanes, ow_n - ow0)));
      }
    }
    m.staged_slots = m.ks * m.plane;
    const int64_t blocks = (cog + kS8Mr - 1) / kS8Mr;
    m.apack_group = blocks * m.ks * kS8Mr;
    m.apack.assign(static_cast<size_t>(g.groups * m.apack_group), 0);
    for (int64_t grp = 0; grp < g.groups; ++grp) {
      for (int64_t r = 0; r < cog; ++r) {
        const int64_t oc = grp * cog + r;
        for (int64_t sl = 0; sl < m.ks; ++sl) {
          int32_t v[4] = {0, 0, 0, 0};
          for (int64_t j = 0; j < per; ++j) {
            const int32_t i = m.col_at[static_cast<size_t>(sl * per + j)];
            if (i >= 0) v[j] = wat(oc, i / kk, i % kk) - zw;
          }
          m.apack[static_cast<size_t>(grp * m.apack_group + ((r / kS8Mr) * m.ks + sl) * kS8Mr +
                                      r % kS8Mr)] = m.tier.quads ? slot8(v) : slot16(v[0], v[1]);
        }
      }
    }
    return;
  }
  m.row_stride = m.prow;
  m.plane = m.ph * m.row_stride;
  int64_t max_koff = 0, max_vin = 0;
  for (int64_t cs = 0; cs < m.cslots; ++cs) {
    for (int64_t kh = 0; kh < g.kernel_h; ++kh) {
      for (int64_t kw = 0; kw < g.kernel_w; ++kw) {
        const int64_t col = kw * g.dilation_w;  // in its phase (Impl: step 1)
        const int64_t off = cs * m.plane + kh * g.dilation_h * m.row_stride +
                            (col % g.stride_w) * m.plen + col / g.stride_w;
        m.koff.push_back(static_cast<int32_t>(off));
        max_koff = std::max(max_koff, off);
      }
    }
  }
  for (int64_t oh = 0; oh < oh_n; ++oh) {
    for (int64_t ow0 = 0; ow0 < ow_n; ow0 += kS8Lanes) {
      const int64_t vi = oh * g.stride_h * m.row_stride + ow0;
      m.vin.push_back(static_cast<int32_t>(vi));
      m.vout.push_back(static_cast<int32_t>(oh * ow_n + ow0));
      m.vlen.push_back(static_cast<int32_t>(std::min<int64_t>(kS8Lanes, ow_n - ow0)));
      max_vin = std::max(max_vin, vi);
    }
  }
  m.staged_slots = std::max(m.cslots * m.plane, max_vin + max_koff + kS8Lanes);
  // apack[group][oc block][k-slot][row]: weights of channels per·cs + t, tap (kh, kw).
  const int64_t blocks = (cog + kS8Mr - 1) / kS8Mr;
  m.apack_group = blocks * m.ks * kS8Mr;
  m.apack.assign(static_cast<size_t>(g.groups * m.apack_group), 0);
  for (int64_t grp = 0; grp < g.groups; ++grp) {
    for (int64_t r = 0; r < cog; ++r) {
      const int64_t oc = grp * cog + r;
      for (int64_t cs = 0; cs < m.cslots; ++cs) {
        for (int64_t t = 0; t < kk; ++t) {
          int32_t v[4] = {0, 0, 0, 0};
          for (int64_t j = 0; j < per; ++j) {
            const int32_t ic = m.col_at[static_cast<size_t>(cs * per + j)];
            if (ic >= 0) v[j] = wat(oc, ic, t) - zw;
          }
          const int64_t slot = cs * kk + t;
          m.apack[static_cast<size_t>(grp * m.apack_group + ((r / kS8Mr) * m.ks + slot) * kS8Mr +
                                      r % kS8Mr)] = m.tier.quads ? slot8(v) : slot16(v[0], v[1]);
        }
      }
    }
  }
}

void ConvS8Kernel::Impl::order_unsafe_slots() {
  const int64_t groups = p.geometry.groups, cog = p.geometry.out_channels_per_group();
  const int64_t blocks = apack_group / (ks * kS8Mr);
  std::vector<int32_t> ap2, koff2;
  ap2.reserve(apack.size());
  koff2.reserve(static_cast<size_t>(groups * blocks * ks));
  block_start.clear();
  block_unsafe.clear();
  unsafe_bias.assign(static_cast<size_t>(p.geometry.out_channels), 0);
  int64_t unsafe_slots = 0;
  for (int64_t grp = 0; grp < groups; ++grp) {
    for (int64_t b = 0; b < blocks; ++b) {
      const int32_t* blk = apack.data() + (grp * blocks + b) * ks * kS8Mr;
      auto safe = [&](int64_t sl) {
        const int32_t* q = blk + sl * kS8Mr;
        return quad_safe(q[0]) && quad_safe(q[1]) && quad_safe(q[2]) && quad_safe(q[3]);
      };
      block_start.push_back(static_cast<int64_t>(koff2.size()));
      for (int pass = 0; pass < 2; ++pass) {  // the safe k-slots, then the unsafe ones
        if (pass == 1) block_unsafe.push_back(static_cast<int64_t>(koff2.size()));
        for (int64_t sl = 0; sl < ks; ++sl) {
          if (safe(sl) != (pass == 0)) continue;
          for (int r = 0; r < kS8Mr; ++r) {
            const int32_t q = blk[sl * kS8Mr + r];
            ap2.push_back(q);
            const int64_t row = b * kS8Mr + r;
            if (pass == 1 && row < cog) {
              int64_t sum = 0;
              for (int t = 0; t < 4; ++t) sum += quad_byte(q, t);
              unsafe_bias[static_cast<size_t>(grp * cog + row)] += 128 * sum;
            }
          }
          koff2.push_back(koff[static_cast<size_t>(sl)]);
          unsafe_slots += pass;
        }
      }
    }
    block_start.push_back(static_cast<int64_t>(koff2.size()));
  }
  apack = std::move(ap2);
  koff = std::move(koff2);
  if (unsafe_slots > 0) {
    variant += fmt::format("-sign{:.0f}%", 100.0 * static_cast<double>(unsafe_slots) /
                                               static_cast<double>(groups * blocks * ks));
  }
}

size_t ConvS8Kernel::scratch_bytes(int64_t /*batch*/) const {
  const Impl& m = *impl_;
  switch (m.plan) {
    case ConvPlan::kRef:
      return 0;
    case ConvPlan::kOnednn:
      return onednn_s8_scratch_bytes(*m.dnn);
    case ConvPlan::kDirect:  // slots, then the byte image 64-byte aligned (run_direct)
      return static_cast<size_t>((m.staged_slots + 15) / 16 * 16 * 4 + m.pbytes) + 64;
    case ConvPlan::kDepthwise:
      if (m.dw_quads) {  // byte image, quad image, sums (each 64-byte aligned)
        return static_cast<size_t>((m.dwq_bytes + 63) / 64 * 64 + (m.dwq_img * 4 + 63) / 64 * 64 +
                                   (m.dwq_n + 16) * 4) +
               64;
      }
      return static_cast<size_t>((m.dw_img * 2 + 63) / 64 * 64 +
                                 (m.p.geometry.out_h() * m.p.geometry.out_w() + m.dw_row + 16) *
                                     4) +
             64;
  }
  return 0;
}

void ConvS8Kernel::run(const void* input, void* output, std::byte* scratch, int64_t batch) const {
  const Impl& m = *impl_;
  const fixedpoint::ConvGeometry& g = m.p.geometry;
  if (m.plan == ConvPlan::kOnednn) {
    onednn_s8_run(*m.dnn, input, output, scratch, batch, m.ep.e, m.tier.epilogue);
    return;
  }
  if (m.plan == ConvPlan::kDirect) {
    auto* s = reinterpret_cast<int32_t*>(align64(scratch));
    if (m.in == IntType::kU8) {
      m.run_direct(static_cast<const uint8_t*>(input), output, s, batch);
    } else {
      m.run_direct(static_cast<const int8_t*>(input), output, s, batch);
    }
    return;
  }
  if (m.plan == ConvPlan::kDepthwise) {
    if (m.dw_quads) {
      if (m.in == IntType::kU8) {
        m.run_depthwise_quads(static_cast<const uint8_t*>(input), output, align64(scratch), batch);
      } else {
        m.run_depthwise_quads(static_cast<const int8_t*>(input), output, align64(scratch), batch);
      }
      return;
    }
    if (m.in == IntType::kU8) {
      m.run_depthwise(static_cast<const uint8_t*>(input), output, align64(scratch), batch);
    } else {
      m.run_depthwise(static_cast<const int8_t*>(input), output, align64(scratch), batch);
    }
    return;
  }
  const int64_t in_elems = g.input_numel(), out_elems = g.output_numel();
  for (int64_t n = 0; n < batch; ++n) {
    const void* x = static_cast<const std::byte*>(input) + n * in_elems;
    void* y =
        static_cast<std::byte*>(output) + n * out_elems * static_cast<int64_t>(type_size(m.out));
    if (m.in == IntType::kU8) {
      conv_ref_sample<uint8_t>(m.p, m.out, x, y, m.weights, m.bias);
    } else {
      conv_ref_sample<int8_t>(m.p, m.out, x, y, m.weights, m.bias);
    }
  }
}

// ---------------------------------------------------------------- QuantizeLinear

void quantize_linear_f32_scalar(const float* x, int64_t n, float scale, int32_t zero_point,
                                IntType out_type, void* out) {
  const bool u8 = out_type == IntType::kU8;
  const int32_t lo = u8 ? 0 : -128, hi = u8 ? 255 : 127;
  for (int64_t i = 0; i < n; ++i) {
    const int32_t v = fixedpoint::quantize(x[i], scale, zero_point, lo, hi);
    if (u8) {
      static_cast<uint8_t*>(out)[i] = static_cast<uint8_t>(v);
    } else {
      static_cast<int8_t*>(out)[i] = static_cast<int8_t>(v);
    }
  }
}

std::string_view quantize_linear_f32_loop(KernelChoice choice) {
  const bool avx2 = (choice == KernelChoice::kAuto || choice == KernelChoice::kAvx2 ||
                     choice == KernelChoice::kAvx512Vnni) &&
                    isa_available(Isa::kAvx2);
  return avx2 ? "avx2" : "scalar";
}

void quantize_linear_f32(const float* x, int64_t n, float scale, int32_t zero_point,
                         IntType out_type, void* out, KernelChoice choice) {
  if (quantize_linear_f32_loop(choice) == "avx2") {
    quantize_f32_avx2(x, n, scale, static_cast<float>(zero_point), out_type == IntType::kU8, out);
  } else {
    quantize_linear_f32_scalar(x, n, scale, zero_point, out_type, out);
  }
}

// ---------------------------------------------------------------- QLinearAdd

std::string_view qlinear_add_s8_loop(KernelChoice choice) {
  if ((choice != KernelChoice::kAuto && choice != KernelChoice::kAvx2 &&
       choice != KernelChoice::kAvx512Vnni) ||
      !isa_available(Isa::kAvx2)) {
    return {};
  }
  // AVX-512 (16 lanes; the same operations) unless the AVX2 tier is forced.
  return choice != KernelChoice::kAvx2 && isa_available(Isa::kAvx512) ? "avx512" : "avx2";
}

bool qlinear_add_s8(const QLinearAddParams& p, IntType t, const void* a, const void* b, void* c,
                    int64_t n, KernelChoice choice) {
  const std::string_view loop = qlinear_add_s8_loop(choice);
  if (loop.empty() || t == IntType::kS32) return false;
  // Finite, well inside int32 after the division: no Inf / NaN lanes whose clamp and
  // conversion the scalar reference would treat differently.
  const double bound = 255.0 * (double{p.a_scale} + double{p.b_scale}) / double{p.c_scale};
  if (!(bound < 1073741824.0) || !(p.c_scale > 0.0f)) return false;
  if (loop == "avx512") {
    qlinear_add_avx512(p, t == IntType::kU8, a, b, c, n);
  } else {
    qlinear_add_avx2(p, t == IntType::kU8, a, b, c, n);
  }
  return true;
}

void lookup_table_u8(const uint8_t* table, uint8_t flip, const uint8_t* x, uint8_t* y, int64_t n,
                     KernelChoice choice) {
  if ((choice == KernelChoice::kAuto || choice == KernelChoice::kAvx512Vnni) &&
      cpu_features().avx512vbmi) {
    lookup_table_u8_vbmi(table, flip, x, y, n);
    return;
  }
  for (int64_t k = 0; k < n; ++k) y[k] = table[static_cast<uint8_t>(x[k] ^ flip)];
}

// ---------------------------------------------------------------- fully connected

struct FullyConnectedS8Kernel::Impl {
  FullyConnectedS8Params p;  // batch = 1
  IntType in = IntType::kU8, out = IntType::kU8;
  KernelChoice choice = KernelChoice::kRef;
  std::string variant;
  std::vector<int8_t> weights;  // kRef: [out, in]
  std::vector<int32_t> bias;
  Tier tier;
  EpilogueTables ep;
  // Packed plan: wpack [out panel of 8][k-slot][8] slots (src of the micro-kernel), the staged
  // input rows are apack [row block][k-slot][kS8Mr] (per run, in scratch).
  int64_t ks = 0;
  std::vector<int32_t> wpack, koff, vin, vout, vlen;
  // VNNI plan (tier.vnni): wpack is [panel of vplan.lanes][k-slot][lanes], the staged rows
  // [row block of vplan.mr][k-slot][mr]; one segment per panel.
  VnniPlan vplan;
  std::vector<int32_t> vseg_begin;
  std::vector<VnniSeg> vsegs;
  int64_t rows_per_block() const { return tier.vnni != nullptr ? vplan.mr : kS8Mr; }

  template <typename TIn>
  void run_packed(const TIn* x, void* y, int32_t* s, int64_t batch) const;
};

template <typename TIn>
void FullyConnectedS8Kernel::Impl::run_packed(const TIn* x, void* y, int32_t* s,
                                              int64_t batch) const {
  const int64_t k = p.in_features, per = tier.per_slot();
  const int32_t zx = p.input_zero_point;
  const int32_t shift = tier.shift(in);
  const int64_t mr = rows_per_block();
  const int64_t blocks = (batch + mr - 1) / mr;
  for (int64_t blk = 0; blk < blocks; ++blk) {
    for (int64_t r = 0; r < mr; ++r) {
      const int64_t row = blk * mr + r;
      int32_t* dst = s + blk * ks * mr + r;
      int64_t sl = 0;
      if (row < batch) {  // whole slots without per-element tests (staging is O(K) per row)
        sl = k / per;
        if (tier.quads) {
          stage_quads(x + row * k, dst, sl, shift, mr);
        } else {
          stage_pairs(x + row * k, dst, sl, zx);
        }
      }
      for (; sl < ks; ++sl) {
        int32_t v[4] = {0, 0, 0, 0};
        if (row < batch) {
          for (int64_t t = 0; t < per; ++t) {
            const int64_t i = sl * per + t;
            if (i >= k) break;
            const int32_t xv = x[row * k + i];
            v[t] = tier.quads ? xv + shift : xv - zx;
          }
        }
        dst[sl * mr] = tier.quads ? slot8(v) : slot16(v[0], v[1]);
      }
    }
  }
  if (tier.vnni != nullptr) {
    VnniArgs v;
    v.plan = vplan;
    v.conv = false;
    v.src = wpack.data();
    v.koff = koff.data();
    v.ks = ks;
    v.apack = s;
    v.m = batch;
    v.vin = vin.data();
    v.seg_begin = vseg_begin.data();
    v.segs = vsegs.data();
    v.n_vec = static_cast<int64_t>(vin.size());
    v.out = y;
    v.dst0 = 0;
    v.row_stride = p.out_features;
    v.e = &ep.e;
    tier.vnni(v);
    return;
  }
  S8DirectArgs a;
  a.src = wpack.data();
  a.koff = koff.data();
  a.ks = ks;
  a.apack = s;
  a.m = batch;
  a.vin = vin.data();
  a.vout = vout.data();
  a.vlen = vlen.data();
  a.n_vec = static_cast<int64_t>(vin.size());
  a.src_unsigned = false;  // VNNI: the activations are the broadcast operand
  a.out = y;
  a.dst0 = 0;
  a.row_stride = p.out_features;
  a.e = &ep.e;
  tier.direct(a);
}

FullyConnectedS8Kernel::FullyConnectedS8Kernel(std::unique_ptr<Impl> impl)
    : impl_(std::move(impl)) {}
FullyConnectedS8Kernel::FullyConnectedS8Kernel(FullyConnectedS8Kernel&&) noexcept = default;
FullyConnectedS8Kernel& FullyConnectedS8Kernel::operator=(FullyConnectedS8Kernel&&) noexcept =
    default;
FullyConnectedS8Kernel::~FullyConnectedS8Kernel() = default;
std::string_view FullyConnectedS8Kernel::variant() const { return impl_->variant; }
KernelChoice FullyConnectedS8Kernel::choice() const { return impl_->choice; }
const FullyConnectedS8Params& FullyConnectedS8Kernel::params() const { return impl_->p; }
IntType FullyConnectedS8Kernel::input_type() const { return impl_->in; }
IntType FullyConnectedS8Kernel::output_type() const { return impl_->out; }

Result<FullyConnectedS8Kernel> FullyConnectedS8Kernel::prepare(const FullyConnectedS8Params& params,
                                                               std::span<const int8_t> weights,
                                                               std::span<const int32_t> bias,
                                                               WeightLayout layout, IntType input,
                                                               IntType output, KernelChoice choice,
                                                               std::string_view plan) {
  constexpr std::string_view kWhat = "int8 fully connected";
  PlanRequest req;
  if (!plan.empty()) {
    EI8_ASSIGN_OR_RETURN(req, parse_plan(kWhat, plan));
    if (req.onednn) {
      return invalid_argument("cannot prepare {}: plan = '{}', must be a plan of a convolution",
                              kWhat, plan);
    }
    if (choice != KernelChoice::kAuto && choice != req.tier) {
      return invalid_argument("cannot prepare {}: plan = '{}', must be of the forced tier {}",
                              kWhat, plan, kernel_choice_name(choice));
    }
    choice = req.tier;
  }
  const int64_t rows_hint = std::max<int64_t>(1, params.batch);
  FullyConnectedS8Params p = params;
  p.batch = 1;
  EI8_RETURN_IF_ERROR(p.validate());
  EI8_RETURN_IF_ERROR(
      check_types(kWhat, input, output, p.input_zero_point, p.requant, p.out_features));
  const int64_t k = p.in_features, n_out = p.out_features;
  if (static_cast<int64_t>(weights.size()) != k * n_out) {
    return invalid_argument("cannot prepare {}: weight size = {}, must be {}", kWhat,
                            weights.size(), k * n_out);
  }
  if (!bias.empty() && static_cast<int64_t>(bias.size()) != n_out) {
    return invalid_argument("cannot prepare {}: bias size = {}, must be 0 or {}", kWhat,
                            bias.size(), n_out);
  }
  EI8_RETURN_IF_ERROR(check_choice(kWhat, choice));
  auto impl = std::make_unique<Impl>();
  Impl& m = *impl;
  m.p = std::move(p);
  m.in = input;
  m.out = output;
  // A simulated narrow accumulator exists only in the reference kernel.
  m.choice = m.p.accumulator_bits != 0 ? KernelChoice::kRef : resolve_s8_kernel_choice(choice);
  m.variant = "ref";
  auto wat = [&](int64_t o, int64_t i) -> int32_t {
    return layout == WeightLayout::kOutIn ? weights[static_cast<size_t>(o * k + i)]
                                          : weights[static_cast<size_t>(i * n_out + o)];
  };
  if (m.choice == KernelChoice::kRef) {
    m.weights.resize(weights.size());
    for (int64_t o = 0; o < n_out; ++o)
      for (int64_t i = 0; i < k; ++i)
        m.weights[static_cast<size_t>(o * k + i)] = static_cast<int8_t>(wat(o, i));
    m.bias.assign(bias.begin(), bias.end());
    return FullyConnectedS8Kernel(std::move(impl));
  }
  m.tier = pick_tier(m.choice, m.p.weight_zero_point, weights);
  const int32_t zw = m.p.weight_zero_point;
  const int64_t per = m.tier.per_slot();
  m.variant = m.tier.plan("packed");
  m.ks = (k + per - 1) / per;
  int64_t lanes = kS8Lanes;
  if (m.tier.vnni != nullptr) {
    // Heuristic: zmm panels, one register row per input row up to 8 (a block's rows past the
    // batch are computed for nothing).
    VnniPlan v;
    v.mr = rows_hint == 1 ? 1 : (rows_hint >= 8 ? 8 : 4);
    v.nv = v.mr == 8 ? 3 : 6;
    m.vplan = req.vnni_set ? req.vnni : v;
    m.vplan.grid = false;
    lanes = m.vplan.lanes;
    m.variant += vnni_suffix(m.vplan);
  }
  const int64_t panels = (n_out + lanes - 1) / lanes;
  m.wpack.assign(static_cast<size_t>(panels * m.ks * lanes), 0);
  std::vector<int64_t> sum_abs_w(static_cast<size_t>(n_out), 0),
      wsum(static_cast<size_t>(n_out), 0);
  for (int64_t o = 0; o < n_out; ++o) {
    for (int64_t sl = 0; sl < m.ks; ++sl) {
      int32_t v[4] = {0, 0, 0, 0};
      for (int64_t t = 0; t < per; ++t) {
        const int64_t i = sl * per + t;
        if (i >= k) break;
        const int32_t w = wat(o, i);
        v[t] = w - zw;
        sum_abs_w[static_cast<size_t>(o)] += w - zw < 0 ? zw - w : w - zw;
        wsum[static_cast<size_t>(o)] += w;
      }
      m.wpack[static_cast<size_t>(((o / lanes) * m.ks + sl) * lanes + o % lanes)] =
          m.tier.quads ? slot8(v) : slot16(v[0], v[1]);
    }
  }
  for (int64_t sl = 0; sl < m.ks; ++sl) m.koff.push_back(static_cast<int32_t>(sl * lanes));
  for (int64_t v = 0; v < panels; ++v) {
    const auto len = static_cast<int32_t>(std::min<int64_t>(lanes, n_out - v * lanes));
    m.vin.push_back(static_cast<int32_t>(v * m.ks * lanes));
    m.vout.push_back(static_cast<int32_t>(v * lanes));
    m.vlen.push_back(len);
    m.vseg_begin.push_back(static_cast<int32_t>(m.vsegs.size()));
    m.vsegs.push_back(VnniSeg{0, len, static_cast<int32_t>(v * lanes)});
  }
  m.vseg_begin.push_back(static_cast<int32_t>(m.vsegs.size()));
  build_epilogue(m.ep, m.p.requant, input, output, m.p.input_zero_point, bias, sum_abs_w, wsum,
                 m.tier, true);
  return FullyConnectedS8Kernel(std::move(impl));
}

size_t FullyConnectedS8Kernel::scratch_bytes(int64_t batch) const {
  const Impl& m = *impl_;
  if (m.choice == KernelChoice::kRef) return 0;
  const int64_t mr = m.rows_per_block();
  const int64_t blocks = (batch + mr - 1) / mr;
  return static_cast<size_t>(blocks * m.ks * mr) * 4 + 64;
}

Result<std::vector<std::string>> FullyConnectedS8Kernel::plan_candidates(
    const FullyConnectedS8Params& p, std::span<const int8_t> weights, WeightLayout layout,
    IntType input, IntType output, KernelChoice choice) {
  std::vector<KernelChoice> tiers;
  if (choice != KernelChoice::kAuto) {
    tiers.push_back(choice);
  } else {
    tiers.push_back(resolve_s8_kernel_choice(KernelChoice::kAuto));
    if (tiers.front() == KernelChoice::kAvx512Vnni) tiers.push_back(KernelChoice::kAvx2);
  }
  std::vector<std::vector<std::string>> per_tier;
  for (KernelChoice t : tiers) {
    std::vector<std::string>& out = per_tier.emplace_back();
    EI8_ASSIGN_OR_RETURN(FullyConnectedS8Kernel h,
                         prepare(p, weights, {}, layout, input, output, t));
    out.emplace_back(h.variant());
    if (h.impl_->tier.vnni == nullptr) continue;
    const std::string base = std::string(kernel_choice_name(t)) + "/packed";
    for (int lanes : {16, 8}) {
      for (auto [mr, nv] : {std::pair{1, 6}, std::pair{4, 6}, std::pair{8, 3}}) {
        const std::string n = base + vnni_suffix(VnniPlan{lanes, mr, nv, false, true});
        if (std::find(out.begin(), out.end(), n) == out.end() &&
            out.front().find(vnni_suffix(VnniPlan{lanes, mr, nv, false, true})) ==
                std::string::npos) {
          out.push_back(n);
        }
      }
    }
  }
  return merge_candidates(per_tier);
}

void FullyConnectedS8Kernel::run(const void* input, void* output, std::byte* scratch,
                                 int64_t batch) const {
  const Impl& m = *impl_;
  if (m.choice != KernelChoice::kRef) {
    auto* s = reinterpret_cast<int32_t*>(align64(scratch));
    if (m.in == IntType::kU8) {
      m.run_packed(static_cast<const uint8_t*>(input), output, s, batch);
    } else {
      m.run_packed(static_cast<const int8_t*>(input), output, s, batch);
    }
    return;
  }
  const int64_t in_row = m.p.in_features,
                out_row = m.p.out_features * static_cast<int64_t>(type_size(m.out));
  for (int64_t n = 0; n < batch; ++n) {  // one row per call: m.p.batch = 1, nothing to copy
    const void* x = static_cast<const std::byte*>(input) + n * in_row;
    void* y = static_cast<std::byte*>(output) + n * out_row;
    if (m.in == IntType::kU8) {
      fc_ref<uint8_t>(m.p, m.out, x, y, m.weights, m.bias);
    } else {
      fc_ref<int8_t>(m.p, m.out, x, y, m.weights, m.bias);
    }
  }
}

}  // namespace ei8::kernels
