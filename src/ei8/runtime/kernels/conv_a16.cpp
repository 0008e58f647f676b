// The A16W8 dispatcher (conv_a16.h): validation, tier choice, weight packing, im2col staging of
// int16 K-pair panels, the loop over groups / pixel panels / row chunks around the tier's
// micro-kernel (a16_internal.h), and the epilogue (corr + Requantizer::apply64 / apply).
#include "ei8/runtime/kernels/conv_a16.h"

#include <algorithm>
#include <cstring>
#include <type_traits>

#include "ei8/fixedpoint/rounding.h"
#include "ei8/runtime/kernels/a16_internal.h"
#include "ei8/runtime/kernels/cpu_features.h"
#include "ei8/runtime/kernels/ref/a16w8_ref.h"

namespace ei8::kernels {
namespace {

// Output pixels (conv) / output columns (FC) per staged panel, and C rows per micro-kernel call:
// the panel of B (≤ K/2 · 256 · 4 bytes) and the int64 tile of C (64 · 256 · 8 = 128 KiB) stay in
// L2 while the rows of A stream through.
constexpr int64_t kPanel = 256;
constexpr int64_t kRowChunk = 64;

struct Tier {
  KernelChoice choice;
  std::string_view name;   // kernel_choice_name(choice)
  std::string_view block;  // register block "<rows>x<columns>"
  a16::BlockFn fn;
  a16::RequantOrtFn ort = nullptr;  // vector `ort` epilogue (nullptr: scalar)
};

// Best first (the heuristic's order).
constexpr Tier kTiers[] = {
    {KernelChoice::kAvx512Vnni, "avx512vnni", "8x32", a16::block_avx512vnni,
     a16::requant_ort_avx512},
    {KernelChoice::kAvx512, "avx512", "8x32", a16::block_avx512, a16::requant_ort_avx512},
    {KernelChoice::kAvx2, "avx2", "6x16", a16::block_avx2},
    {KernelChoice::kGeneric, "generic", "4x16", a16::block_generic},
};

// "<tier>/gemm-<block>" (im2col panels; FC) or "<tier>/direct-<block>" (padded image).
std::string plan_name(const Tier& t, bool direct) {
  return fmt::format("{}/{}-{}", t.name, direct ? "direct" : "gemm", t.block);
}

// The direct plan needs unit strides (each tap's B row is then a contiguous run of the padded
// image) and pays off with at least two input channels per group (pairs of channels).
bool direct_applies(const ConvS8Params& p) {
  const fixedpoint::ConvGeometry& g = p.geometry;
  return g.stride_h == 1 && g.stride_w == 1 && g.in_channels_per_group() >= 2;
}

int64_t round_up(int64_t v, int64_t m) { return (v + m - 1) / m * m; }

// Calls f(TIn{}, TOut{}) for the element types.
template <class F>
void with_types(A16Type in, A16Type out, F&& f) {
  auto with_out = [&](auto ti) {
    switch (out) {
      case A16Type::kU8:
        f(ti, uint8_t{});
        break;
      case A16Type::kS8:
        f(ti, int8_t{});
        break;
      case A16Type::kS16:
        f(ti, int16_t{});
        break;
    }
  };
  switch (in) {
    case A16Type::kU8:
      with_out(uint8_t{});
      break;
    case A16Type::kS8:
      with_out(int8_t{});
      break;
    case A16Type::kS16:
      with_out(int16_t{});
      break;
  }
}

// The reference's requantization: int64 for an int16 input, int32 for an 8-bit one.
template <typename TIn>
int32_t requant(const fixedpoint::Requantizer& rq, int64_t acc, int64_t channel) {
  if constexpr (std::is_same_v<TIn, int16_t>) {
    return rq.apply64(acc, channel);
  } else {
    return rq.apply(static_cast<int32_t>(acc), channel);
  }
}

// y[j] = requant<TIn>(rq, c[j] + corr[j·corr_step], channel ch + j·ch_step) for j < n: one row of
// a conv channel (steps 0) or of an FC output row (steps 1). The `ort` profile is
// requantize_ort64 / requantize_ort inlined with the channel's constants hoisted: float(acc) (RNE;
// an 8-bit input's sum through int32 as the reference), one float32 multiply, the clamp to
// [qmin − z, qmax − z] (integers below 2^22), round half to even by the 1.5·2^23 shifter
// (round_half_even_small: exact there, no libm call), + z — the same operations, bit for bit.
// The tflite profiles call the requantizer (integer-only, inline).
template <typename TIn, typename TOut>
void epilogue_row(const fixedpoint::Requantizer& rq, const int64_t* c, const int64_t* corr,
                  int64_t corr_step, int64_t ch, int64_t ch_step, TOut* y, int64_t n,
                  a16::RequantOrtFn vec) {
  if (rq.profile() == fixedpoint::RequantProfile::kOrt) {
    const int32_t z = rq.zero_point(), qmin = rq.qmin(), qmax = rq.qmax();
    const auto lo = static_cast<float>(int64_t{qmin} - z);
    const auto hi = static_cast<float>(int64_t{qmax} - z);
    const std::span<const float> ms = rq.ort_multipliers();
    const bool per_channel = ms.size() > 1;
    if (vec != nullptr && n <= kPanel) {  // the tier's vector form of the loop below
      int32_t r[kPanel];
      vec(c, corr, corr_step, per_channel ? &ms[static_cast<size_t>(ch)] : ms.data(),
          per_channel ? ch_step : 0, !std::is_same_v<TIn, int16_t>, lo, hi, z, r, n);
      for (int64_t j = 0; j < n; ++j) {
        y[j] = static_cast<TOut>(r[j] < qmin ? qmin : (r[j] > qmax ? qmax : r[j]));
      }
      return;
    }
    for (int64_t j = 0; j < n; ++j) {
      const int64_t acc = c[j] + corr[j * corr_step];
      const float m = ms[per_channel ? static_cast<size_t>(ch + j * ch_step) : 0];
      float v;
      if constexpr (std::is_same_v<TIn, int16_t>) {
        v = static_cast<float>(acc) * m;
      } else {
        v = static_cast<float>(static_cast<int32_t>(acc)) * m;
      }
      v = v < lo ? lo : (v > hi ? hi : v);
      const int32_t r = static_cast<int32_t>(fixedpoint::round_half_even_small(v)) + z;
      y[j] = static_cast<TOut>(r < qmin ? qmin : (r > qmax ? qmax : r));
    }
    return;
  }
  for (int64_t j = 0; j < n; ++j) {
    y[j] = static_cast<TOut>(requant<TIn>(rq, c[j] + corr[j * corr_step], ch + j * ch_step));
  }
}

// The tier (nullptr = ref) and algorithm from choice and plan; `direct_ok`: the layer allows
// the direct plan (the heuristic then takes it).
struct Pick {
  const Tier* tier = nullptr;
  bool direct = false;
};
Result<Pick> pick_tier(std::string_view what, KernelChoice choice, std::string_view plan,
                       bool direct_ok) {
  if (choice != KernelChoice::kAuto && choice != KernelChoice::kRef &&
      std::none_of(std::begin(kTiers), std::end(kTiers),
                   [&](const Tier& t) { return t.choice == choice; })) {
    return invalid_argument("cannot prepare {}: kernel = {}, must be one of {}", what,
                            kernel_choice_name(choice),
                            "auto, ref, generic, avx2, avx512, avx512vnni");
  }
  if (!kernel_choice_available(choice)) {
    return unsupported("cannot prepare {}: kernel = {}, must be one this CPU runs", what,
                       kernel_choice_name(choice));
  }
  if (!plan.empty()) {
    Pick found;
    bool known = plan == "ref";
    for (const Tier& t : kTiers) {
      if (plan == plan_name(t, false)) found = {&t, false};
      if (plan == plan_name(t, true)) found = {&t, true};
    }
    if (found.tier == nullptr && !known) {
      return invalid_argument(
          "cannot prepare {}: plan = '{}', must be 'ref' or <tier>/gemm-... (<tier>/direct-... "
          "for a convolution) as plan_candidates() names them",
          what, plan);
    }
    if (found.direct && !direct_ok) {
      return invalid_argument(
          "cannot prepare {}: plan = '{}', must be a gemm plan for this layer (direct needs a "
          "convolution with unit strides and >= 2 input channels per group)",
          what, plan);
    }
    const KernelChoice tc = found.tier == nullptr ? KernelChoice::kRef : found.tier->choice;
    if (choice != KernelChoice::kAuto && choice != tc) {
      return invalid_argument("cannot prepare {}: plan = '{}', must belong to the forced tier {}",
                              what, plan, kernel_choice_name(choice));
    }
    if (!kernel_choice_available(tc)) {
      return unsupported("cannot prepare {}: plan = '{}', must use a tier this CPU runs", what,
                         plan);
    }
    return found;
  }
  const KernelChoice c = resolve_a16_kernel_choice(choice);
  for (const Tier& t : kTiers) {
    if (t.choice == c) return Pick{&t, direct_ok};
  }
  return Pick{};
}

std::vector<std::string> candidates(KernelChoice choice, bool direct_ok) {
  if (choice == KernelChoice::kRef) return {"ref"};
  std::vector<std::string> out;
  for (const Tier& t : kTiers) {
    if ((choice == KernelChoice::kAuto || choice == t.choice) &&
        kernel_choice_available(t.choice)) {
      if (direct_ok) out.push_back(plan_name(t, true));
      out.push_back(plan_name(t, false));
    }
  }
  return out;
}

template <typename TIn, typename TOut>
Status check_conv_types(const ConvS8Params& p) {
  return conv_a16_check<TIn, TOut>(p);
}

}  // namespace

std::string_view a16_type_name(A16Type t) {
  switch (t) {
    case A16Type::kU8:
      return "u8";
    case A16Type::kS8:
      return "s8";
    case A16Type::kS16:
      return "s16";
  }
  return "?";
}

std::vector<KernelChoice> registered_a16_kernels() {
  return {KernelChoice::kRef, KernelChoice::kGeneric, KernelChoice::kAvx2, KernelChoice::kAvx512,
          KernelChoice::kAvx512Vnni};
}

KernelChoice resolve_a16_kernel_choice(KernelChoice c) {
  if (c != KernelChoice::kAuto) return c;
  if (isa_available(Isa::kAvx512Vnni)) return KernelChoice::kAvx512Vnni;
  if (isa_available(Isa::kAvx512)) return KernelChoice::kAvx512;
  if (isa_available(Isa::kAvx2)) return KernelChoice::kAvx2;
  return KernelChoice::kGeneric;
}

// ---- Convolution ------------------------------------------------------------------------------

struct ConvA16Kernel::Impl {
  ConvS8Params p;  // geometry.batch = 1
  A16Type in = A16Type::kS16, out = A16Type::kS16;
  const Tier* tier = nullptr;  // nullptr: ref
  bool direct = false;         // the direct plan (else im2col panels)
  KernelChoice choice = KernelChoice::kRef;
  std::string variant;
  std::vector<int8_t> w;       // ref tier
  std::vector<int32_t> bias;   // ref tier
  std::vector<int16_t> apack;  // [C_out][kp] pairs of w − z_w (odd K / channels: a zero half)
  std::vector<int64_t> boff;   // [kp]: pair offset of B's row k (panel row / tap in the image)
  std::vector<int64_t> corr;   // bias − z_x·Σ_k (w − z_w), per output channel
  int64_t k = 0, kp = 0, cig = 0, cog = 0, pixels = 0, ldb = 0;
  // direct: padded image [cpairs][ph][pw] of channel pairs; columns q = oh·pw + ow over
  // q < out_h·pw (the columns ow ≥ out_w are computed and dropped); image pairs incl. slack.
  int64_t cpairs = 0, ph = 0, pw = 0, qn = 0, image_pairs = 0;

  // The group's channels as pairs (x[2i], x[2i+1]) (odd count: a zero second half) of the
  // z_x-padded image, and zero slack after it (the last columns' reads).
  template <typename TIn>
  void stage_image(const TIn* x, int64_t group, int16_t* img) const {
    const fixedpoint::ConvGeometry& g = p.geometry;
    const auto zx = static_cast<int16_t>(p.input_zero_point);
    const int64_t hw = g.in_h * g.in_w;
    for (int64_t cp = 0; cp < cpairs; ++cp) {
      const int64_t c0 = group * cig + 2 * cp;
      const bool two = 2 * cp + 1 < cig;
      const TIn* x0 = x + c0 * hw;
      const TIn* x1 = two ? x0 + hw : x0;
      const int16_t z1 = two ? zx : int16_t{0};
      int16_t* dst = img + 2 * cp * ph * pw;
      for (int64_t r = 0; r < ph; ++r) {
        int16_t* d = dst + 2 * r * pw;
        const int64_t ih = r - g.pad_top;
        if (ih < 0 || ih >= g.in_h) {
          for (int64_t c = 0; c < pw; ++c) {
            d[2 * c] = zx;
            d[2 * c + 1] = z1;
          }
          continue;
        }
        for (int64_t c = 0; c < g.pad_left; ++c) {
          d[2 * c] = zx;
          d[2 * c + 1] = z1;
        }
        int16_t* di = d + 2 * g.pad_left;
        const TIn* r0 = x0 + ih * g.in_w;
        const TIn* r1 = x1 + ih * g.in_w;
        if (two) {
          for (int64_t c = 0; c < g.in_w; ++c) {
            di[2 * c] = static_cast<int16_t>(r0[c]);
            di[2 * c + 1] = static_cast<int16_t>(r1[c]);
          }
        } else {
          for (int64_t c = 0; c < g.in_w; ++c) {
            di[2 * c] = static_cast<int16_t>(r0[c]);
            di[2 * c + 1] = 0;
          }
        }
        for (int64_t c = g.pad_left + g.in_w; c < pw; ++c) {
          d[2 * c] = zx;
          d[2 * c + 1] = z1;
        }
      }
    }
    std::fill(img + 2 * cpairs * ph * pw, img + 2 * image_pairs, int16_t{0});
  }

  // Tap kk of output pixels [p0, p0 + np) of group `group` as contiguous int16: x[ic][ih][iw],
  // z_x where the tap falls in the padding. Per output row: the padded columns on each side, then
  // a strided copy (no bounds test per element; a widening copy the compiler vectorises when the
  // stride is 1).
  template <typename TIn>
  void stage_tap(const TIn* x, int64_t group, int64_t kk, int64_t p0, int64_t np,
                 int16_t* t) const {
    const fixedpoint::ConvGeometry& g = p.geometry;
    const int64_t taps = g.kernel_h * g.kernel_w, ow_n = g.out_w(), sw = g.stride_w;
    const auto zx = static_cast<int16_t>(p.input_zero_point);
    const int64_t ic = group * cig + kk / taps, tap = kk % taps;
    const int64_t ky = tap / g.kernel_w, kx = tap % g.kernel_w;
    const TIn* xc = x + ic * g.in_h * g.in_w;
    // iw = ow·s_w + off is inside [0, in_w) for ow in [ow_lo, ow_hi).
    const int64_t off = kx * g.dilation_w - g.pad_left;
    const int64_t ow_lo = std::min(ow_n, off >= 0 ? 0 : (-off + sw - 1) / sw);
    const int64_t ow_hi =
        std::max(ow_lo, std::min(ow_n, g.in_w - off <= 0 ? 0 : (g.in_w - off - 1) / sw + 1));
    int64_t j = 0, oh = p0 / ow_n, ow0 = p0 % ow_n;  // then row by row: no division per row
    for (; j < np; ++oh, ow0 = 0) {
      const int64_t run = std::min(ow_n - ow0, np - j), ow1 = ow0 + run;
      const int64_t ih = oh * g.stride_h - g.pad_top + ky * g.dilation_h;
      if (ih < 0 || ih >= g.in_h) {
        std::fill(t + j, t + j + run, zx);
      } else {
        const int64_t a = std::clamp(ow_lo, ow0, ow1), e = std::clamp(ow_hi, a, ow1);
        std::fill(t + j, t + j + (a - ow0), zx);
        if (e > a) {
          int16_t* d = t + j + (a - ow0);                    // output column a
          const TIn* src = xc + ih * g.in_w + a * sw + off;  // its input column
          const int64_t len = e - a;
          if (sw == 1) {
            for (int64_t i = 0; i < len; ++i) d[i] = static_cast<int16_t>(src[i]);
          } else {
            for (int64_t i = 0; i < len; ++i) d[i] = static_cast<int16_t>(src[i * sw]);
          }
        }
        std::fill(t + j + (e - ow0), t + j + run, zx);
      }
      j += run;
    }
  }

  // im2col of one pixel panel into int16 K-pairs: B[k/2][j] half k&1 = tap k of pixel j; columns
  // np..ldb and an odd K's last half are 0. Two taps are staged contiguously into t (2·kPanel
  // int16), then interleaved.
  template <typename TIn>
  void stage(const TIn* x, int64_t group, int64_t p0, int64_t np, int16_t* b, int16_t* t) const {
    int16_t* t0 = t;
    int16_t* t1 = t + kPanel;
    for (int64_t q = 0; q < kp; ++q) {
      stage_tap(x, group, 2 * q, p0, np, t0);
      if (2 * q + 1 < k) {
        stage_tap(x, group, 2 * q + 1, p0, np, t1);
      } else {
        std::fill(t1, t1 + np, int16_t{0});
      }
      int16_t* dst = b + 2 * q * ldb;
      for (int64_t j = 0; j < np; ++j) {
        dst[2 * j] = t0[j];
        dst[2 * j + 1] = t1[j];
      }
      std::fill(dst + 2 * np, dst + 2 * ldb, int16_t{0});
    }
  }

  template <typename TIn, typename TOut>
  void run_t(const TIn* x, TOut* y, std::byte* scratch, int64_t batch) const {
    const fixedpoint::ConvGeometry& g = p.geometry;
    if (tier == nullptr) {
      for (int64_t n = 0; n < batch; ++n) {
        (void)conv_a16_ref<TIn, TOut>(
            p, {x + n * g.input_numel(), static_cast<size_t>(g.input_numel())}, w, bias,
            {y + n * g.output_numel(), static_cast<size_t>(g.output_numel())});
      }
      return;
    }
    if (direct) {
      run_direct<TIn, TOut>(x, y, scratch, batch);
      return;
    }
    auto* bpanel = reinterpret_cast<int16_t*>(scratch);
    auto* c = reinterpret_cast<int64_t*>(scratch + static_cast<size_t>(kp * ldb * 4));
    auto* taps = reinterpret_cast<int16_t*>(
        scratch + static_cast<size_t>(kp * ldb * 4 + kRowChunk * ldb * 8));
    const fixedpoint::Requantizer& rq = p.requant;
    for (int64_t n = 0; n < batch; ++n) {
      const TIn* xn = x + n * g.input_numel();
      TOut* yn = y + n * g.output_numel();
      for (int64_t grp = 0; grp < g.groups; ++grp) {
        for (int64_t p0 = 0; p0 < pixels; p0 += kPanel) {
          const int64_t np = std::min(kPanel, pixels - p0);
          const int64_t cols = round_up(np, a16::kColAlign);
          stage(xn, grp, p0, np, bpanel, taps);
          for (int64_t r0 = 0; r0 < cog; r0 += kRowChunk) {
            const int64_t rows = std::min(kRowChunk, cog - r0);
            const int64_t oc0 = grp * cog + r0;
            tier->fn(apack.data() + 2 * oc0 * kp, kp, rows, bpanel, boff.data(), cols, kp, c, cols);
            for (int64_t r = 0; r < rows; ++r) {
              const int64_t oc = oc0 + r;
              epilogue_row<TIn, TOut>(rq, c + r * cols, &corr[static_cast<size_t>(oc)], 0, oc, 0,
                                      yn + oc * pixels + p0, np, tier->ort);
            }
          }
        }
      }
    }
  }

  // The direct plan: per sample and group, the padded pair image once, then panels of ≤ 256
  // columns q of the padded output grid; each output row keeps its first out_w columns.
  template <typename TIn, typename TOut>
  void run_direct(const TIn* x, TOut* y, std::byte* scratch, int64_t batch) const {
    const fixedpoint::ConvGeometry& g = p.geometry;
    const int64_t ow_n = g.out_w();
    auto* img = reinterpret_cast<int16_t*>(scratch);
    auto* c =
        reinterpret_cast<int64_t*>(scratch + static_cast<size_t>(round_up(image_pairs, 16) * 4));
    const fixedpoint::Requantizer& rq = p.requant;
    for (int64_t n = 0; n < batch; ++n) {
      const TIn* xn = x + n * g.input_numel();
      TOut* yn = y + n * g.output_numel();
      for (int64_t grp = 0; grp < g.groups; ++grp) {
        stage_image(xn, grp, img);
        for (int64_t q0 = 0; q0 < qn; q0 += kPanel) {
          const int64_t nq = std::min(kPanel, qn - q0);
          const int64_t cols = round_up(nq, a16::kColAlign);
          for (int64_t r0 = 0; r0 < cog; r0 += kRowChunk) {
            const int64_t rows = std::min(kRowChunk, cog - r0);
            const int64_t oc0 = grp * cog + r0;
            tier->fn(apack.data() + 2 * oc0 * kp, kp, rows, img + 2 * q0, boff.data(), cols, kp, c,
                     cols);
            for (int64_t r = 0; r < rows; ++r) {
              const int64_t oc = oc0 + r;
              // Output rows oh met by [q0, q0 + nq): their columns [oh·pw, oh·pw + out_w).
              for (int64_t oh = q0 / pw; oh * pw < q0 + nq; ++oh) {
                const int64_t qs = std::max(q0, oh * pw), qe = std::min(q0 + nq, oh * pw + ow_n);
                if (qe <= qs) continue;
                epilogue_row<TIn, TOut>(
                    rq, c + r * cols + (qs - q0), &corr[static_cast<size_t>(oc)], 0, oc, 0,
                    yn + (oc * g.out_h() + oh) * ow_n + (qs - oh * pw), qe - qs, tier->ort);
              }
            }
          }
        }
      }
    }
  }
};

Result<ConvA16Kernel> ConvA16Kernel::prepare(const ConvS8Params& p, std::span<const int8_t> weights,
                                             std::span<const int32_t> bias, A16Type input,
                                             A16Type output, KernelChoice choice,
                                             std::string_view plan) {
  EI8_ASSIGN_OR_RETURN(const Pick pick,
                       pick_tier("A16W8 convolution", choice, plan, direct_applies(p)));
  ConvS8Params q = p;
  q.geometry.batch = 1;
  Status s;
  with_types(input, output,
             [&]<typename TI, typename TO>(TI, TO) { s = check_conv_types<TI, TO>(q); });
  EI8_RETURN_IF_ERROR(s);
  const fixedpoint::ConvGeometry& g = q.geometry;
  if (static_cast<int64_t>(weights.size()) != g.weight_numel()) {
    return invalid_argument("cannot prepare A16W8 convolution: weight size = {}, must be {}",
                            weights.size(), g.weight_numel());
  }
  if (!bias.empty() && static_cast<int64_t>(bias.size()) != g.out_channels) {
    return invalid_argument("cannot prepare A16W8 convolution: bias size = {}, must be 0 or {}",
                            bias.size(), g.out_channels);
  }
  auto impl = std::make_unique<Impl>();
  impl->p = std::move(q);
  impl->in = input;
  impl->out = output;
  impl->tier = pick.tier;
  impl->direct = pick.direct;
  impl->choice = pick.tier == nullptr ? KernelChoice::kRef : pick.tier->choice;
  impl->variant = pick.tier == nullptr ? std::string("ref") : plan_name(*pick.tier, pick.direct);
  impl->w.assign(weights.begin(), weights.end());
  impl->bias.assign(bias.begin(), bias.end());
  impl->cig = g.in_channels_per_group();
  impl->cog = g.out_channels_per_group();
  impl->k = impl->cig * g.kernel_h * g.kernel_w;
  impl->pixels = g.out_h() * g.out_w();
  const int64_t k = impl->k, taps = g.kernel_h * g.kernel_w;
  const int64_t zw = impl->p.weight_zero_point, zx = impl->p.input_zero_point;
  // w − z_w of output channel oc, input channel i (in the group), tap t.
  auto wv = [&](int64_t oc, int64_t i, int64_t t) -> int64_t {
    return weights[static_cast<size_t>((oc * impl->cig + i) * taps + t)] - zw;
  };
  if (impl->direct) {
    // K-pairs (tap, channel pair): pair index t·cpairs + cp; B row offset cp·ph·pw + tap shift.
    impl->cpairs = (impl->cig + 1) / 2;
    impl->ph = g.in_h + g.pad_top + g.pad_bottom;
    impl->pw = g.in_w + g.pad_left + g.pad_right;
    impl->qn = g.out_h() * impl->pw;
    impl->kp = taps * impl->cpairs;
    // Reads reach column round_up(qn, 32) − 1 + the largest tap shift.
    impl->image_pairs =
        impl->cpairs * impl->ph * impl->pw + (g.kernel_w - 1) * g.dilation_w + 2 * a16::kColAlign;
    impl->boff.resize(static_cast<size_t>(impl->kp));
    impl->apack.assign(static_cast<size_t>(g.out_channels * impl->kp * 2), 0);
    for (int64_t t = 0; t < taps; ++t) {
      const int64_t ky = t / g.kernel_w, kx = t % g.kernel_w;
      for (int64_t cp = 0; cp < impl->cpairs; ++cp) {
        const int64_t kq = t * impl->cpairs + cp;
        impl->boff[static_cast<size_t>(kq)] =
            cp * impl->ph * impl->pw + ky * g.dilation_h * impl->pw + kx * g.dilation_w;
        for (int64_t oc = 0; oc < g.out_channels; ++oc) {
          int16_t* a = &impl->apack[static_cast<size_t>((oc * impl->kp + kq) * 2)];
          a[0] = static_cast<int16_t>(wv(oc, 2 * cp, t));
          a[1] = 2 * cp + 1 < impl->cig ? static_cast<int16_t>(wv(oc, 2 * cp + 1, t)) : 0;
        }
      }
    }
  } else {
    impl->kp = (k + 1) / 2;
    impl->ldb = round_up(std::min(kPanel, impl->pixels), a16::kColAlign);
    impl->boff.resize(static_cast<size_t>(impl->kp));
    for (int64_t i = 0; i < impl->kp; ++i) impl->boff[static_cast<size_t>(i)] = i * impl->ldb;
    impl->apack.assign(static_cast<size_t>(g.out_channels * impl->kp * 2), 0);
    for (int64_t oc = 0; oc < g.out_channels; ++oc) {
      for (int64_t kk = 0; kk < k; ++kk) {
        impl->apack[static_cast<size_t>(oc * impl->kp * 2 + kk)] =
            static_cast<int16_t>(wv(oc, kk / taps, kk % taps));
      }
    }
  }
  impl->corr.resize(static_cast<size_t>(g.out_channels));
  for (int64_t oc = 0; oc < g.out_channels; ++oc) {
    int64_t sum = 0;
    for (int64_t kk = 0; kk < k; ++kk) sum += wv(oc, kk / taps, kk % taps);
    impl->corr[static_cast<size_t>(oc)] =
        (bias.empty() ? 0 : int64_t{bias[static_cast<size_t>(oc)]}) - zx * sum;
  }
  return ConvA16Kernel(std::move(impl));
}

std::vector<std::string> ConvA16Kernel::plan_candidates(KernelChoice choice) {
  return candidates(choice, false);
}

std::vector<std::string> ConvA16Kernel::plan_candidates(const ConvS8Params& p,
                                                        KernelChoice choice) {
  return candidates(choice, direct_applies(p));
}

size_t ConvA16Kernel::scratch_bytes(int64_t) const {
  if (impl_->tier == nullptr) return 0;
  if (impl_->direct) {
    return static_cast<size_t>(round_up(impl_->image_pairs, 16) * 4 + kRowChunk * kPanel * 8) + 64;
  }
  return static_cast<size_t>(impl_->kp * impl_->ldb * 4 + kRowChunk * impl_->ldb * 8 +
                             2 * kPanel * 2) +
         64;
}

void ConvA16Kernel::run(const void* input, void* output, std::byte* scratch, int64_t batch) const {
  // 64-byte alignment of the panel (any scratch alignment is accepted).
  const auto addr = reinterpret_cast<uintptr_t>(scratch);
  std::byte* s = scratch == nullptr ? nullptr : scratch + ((64 - addr % 64) % 64);
  with_types(impl_->in, impl_->out, [&]<typename TI, typename TO>(TI, TO) {
    impl_->run_t(static_cast<const TI*>(input), static_cast<TO*>(output), s, batch);
  });
}

std::string_view ConvA16Kernel::variant() const { return impl_->variant; }
KernelChoice ConvA16Kernel::choice() const { return impl_->choice; }
const ConvS8Params& ConvA16Kernel::params() const { return impl_->p; }
ConvA16Kernel::ConvA16Kernel(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ConvA16Kernel::ConvA16Kernel(ConvA16Kernel&&) noexcept = default;
ConvA16Kernel& ConvA16Kernel::operator=(ConvA16Kernel&&) noexcept = default;
ConvA16Kernel::~ConvA16Kernel() = default;

// ---- Fully connected --------------------------------------------------------------------------

struct FullyConnectedA16Kernel::Impl {
  FullyConnectedS8Params p;  // batch = 1
  A16Type in = A16Type::kS16, out = A16Type::kS16;
  const Tier* tier = nullptr;
  KernelChoice choice = KernelChoice::kRef;
  std::string variant;
  std::vector<int64_t> boff;   // [kp]: k·ldb
  std::vector<int8_t> w;       // ref tier: [out][in]
  std::vector<int32_t> bias;   // ref tier
  std::vector<int16_t> bpack;  // [kp][ldb] pairs of w − z_w (odd K: a zero last half)
  std::vector<int64_t> corr;
  int64_t k = 0, kp = 0, n = 0, ldb = 0;

  // The input as int16 K-pairs (the input itself when it already is: int16 with an even K).
  template <typename TIn>
  const int16_t* stage(const TIn* x, int64_t batch, int16_t* a) const {
    if constexpr (std::is_same_v<TIn, int16_t>) {
      if (k % 2 == 0) return x;
    }
    for (int64_t r = 0; r < batch; ++r) {
      for (int64_t i = 0; i < k; ++i) a[r * kp * 2 + i] = static_cast<int16_t>(x[r * k + i]);
      if (k % 2 != 0) a[r * kp * 2 + k] = 0;
    }
    return a;
  }

  template <typename TIn, typename TOut>
  void run_t(const TIn* x, TOut* y, std::byte* scratch, int64_t batch) const {
    if (tier == nullptr) {
      for (int64_t r = 0; r < batch; ++r) {
        (void)fully_connected_a16_ref<TIn, TOut>(p, {x + r * k, static_cast<size_t>(k)}, w, true,
                                                 bias, {y + r * n, static_cast<size_t>(n)});
      }
      return;
    }
    auto* c = reinterpret_cast<int64_t*>(scratch);
    auto* astage =
        reinterpret_cast<int16_t*>(scratch + static_cast<size_t>(kRowChunk * kPanel * 8));
    const int16_t* a = stage(x, batch, astage);
    const fixedpoint::Requantizer& rq = p.requant;
    for (int64_t j0 = 0; j0 < n; j0 += kPanel) {
      const int64_t nj = std::min(kPanel, n - j0);
      const int64_t cols = round_up(nj, a16::kColAlign);
      for (int64_t r0 = 0; r0 < batch; r0 += kRowChunk) {
        const int64_t rows = std::min(kRowChunk, batch - r0);
        tier->fn(a + 2 * r0 * kp, kp, rows, bpack.data() + 2 * j0, boff.data(), cols, kp, c, cols);
        for (int64_t r = 0; r < rows; ++r) {
          epilogue_row<TIn, TOut>(rq, c + r * cols, &corr[static_cast<size_t>(j0)], 1, j0, 1,
                                  y + (r0 + r) * n + j0, nj, tier->ort);
        }
      }
    }
  }
};

Result<FullyConnectedA16Kernel> FullyConnectedA16Kernel::prepare(
    const FullyConnectedS8Params& p, std::span<const int8_t> weights, std::span<const int32_t> bias,
    A16Type input, A16Type output, KernelChoice choice, std::string_view plan) {
  EI8_ASSIGN_OR_RETURN(const Pick pick, pick_tier("A16W8 fully connected", choice, plan, false));
  const Tier* tier = pick.tier;
  FullyConnectedS8Params q = p;
  q.batch = 1;
  Status s;
  with_types(input, output,
             [&]<typename TI, typename TO>(TI, TO) { s = fully_connected_a16_check<TI, TO>(q); });
  EI8_RETURN_IF_ERROR(s);
  const int64_t k = q.in_features, n = q.out_features;
  if (static_cast<int64_t>(weights.size()) != k * n) {
    return invalid_argument("cannot prepare A16W8 fully connected: weight size = {}, must be {}",
                            weights.size(), k * n);
  }
  if (!bias.empty() && static_cast<int64_t>(bias.size()) != n) {
    return invalid_argument("cannot prepare A16W8 fully connected: bias size = {}, must be 0 or {}",
                            bias.size(), n);
  }
  auto impl = std::make_unique<Impl>();
  impl->p = std::move(q);
  impl->in = input;
  impl->out = output;
  impl->tier = tier;
  impl->choice = tier == nullptr ? KernelChoice::kRef : tier->choice;
  impl->w.assign(weights.begin(), weights.end());
  impl->bias.assign(bias.begin(), bias.end());
  impl->k = k;
  impl->n = n;
  impl->kp = (k + 1) / 2;
  impl->ldb = round_up(n, a16::kColAlign);
  impl->variant = tier == nullptr ? std::string("ref") : plan_name(*tier, false);
  const int64_t kp = impl->kp, ldb = impl->ldb;
  impl->boff.resize(static_cast<size_t>(kp));
  for (int64_t i = 0; i < kp; ++i) impl->boff[static_cast<size_t>(i)] = i * ldb;
  impl->bpack.assign(static_cast<size_t>(kp * ldb * 2), 0);
  impl->corr.resize(static_cast<size_t>(n));
  const int64_t zw = impl->p.weight_zero_point, zx = impl->p.input_zero_point;
  for (int64_t o = 0; o < n; ++o) {
    int64_t sum = 0;
    for (int64_t i = 0; i < k; ++i) {
      const int64_t v = weights[static_cast<size_t>(o * k + i)] - zw;
      impl->bpack[static_cast<size_t>(2 * ((i / 2) * ldb + o) + (i & 1))] = static_cast<int16_t>(v);
      sum += v;
    }
    impl->corr[static_cast<size_t>(o)] =
        (bias.empty() ? 0 : int64_t{bias[static_cast<size_t>(o)]}) - zx * sum;
  }
  return FullyConnectedA16Kernel(std::move(impl));
}

size_t FullyConnectedA16Kernel::scratch_bytes(int64_t batch) const {
  if (impl_->tier == nullptr) return 0;
  return static_cast<size_t>(kRowChunk * kPanel * 8 + batch * impl_->kp * 4) + 64;
}

void FullyConnectedA16Kernel::run(const void* input, void* output, std::byte* scratch,
                                  int64_t batch) const {
  const auto addr = reinterpret_cast<uintptr_t>(scratch);
  std::byte* s = scratch == nullptr ? nullptr : scratch + ((64 - addr % 64) % 64);
  with_types(impl_->in, impl_->out, [&]<typename TI, typename TO>(TI, TO) {
    impl_->run_t(static_cast<const TI*>(input), static_cast<TO*>(output), s, batch);
  });
}

std::string_view FullyConnectedA16Kernel::variant() const { return impl_->variant; }
KernelChoice FullyConnectedA16Kernel::choice() const { return impl_->choice; }
const FullyConnectedS8Params& FullyConnectedA16Kernel::params() const { return impl_->p; }
FullyConnectedA16Kernel::FullyConnectedA16Kernel(std::unique_ptr<Impl> impl)
    : impl_(std::move(impl)) {}
FullyConnectedA16Kernel::FullyConnectedA16Kernel(FullyConnectedA16Kernel&&) noexcept = default;
FullyConnectedA16Kernel& FullyConnectedA16Kernel::operator=(FullyConnectedA16Kernel&&) noexcept =
    default;
FullyConnectedA16Kernel::~FullyConnectedA16Kernel() = default;

}  // namespace ei8::kernels
