// Conv2dParams::validate, Conv2dF32::prepare (plan + weight packing) and the one dispatcher
// that maps a prepared convolution to its tier.
#include "ei8/runtime/kernels/conv_f32.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <span>

#include "ei8/runtime/kernels/eltwise_f32.h"
#include "ei8/runtime/kernels/f32_internal.h"
#include "ei8/runtime/kernels/onednn_runtime.h"

namespace ei8::kernels {
namespace {

constexpr int64_t kMaxElements = int64_t{1} << 30;  // offsets are int32 in the plans

Status check_range(std::string_view name, int64_t v, int64_t lo, int64_t hi) {
  if (v < lo || v > hi) {
    return invalid_argument("cannot prepare conv2d: {} = {}, must be in [{}, {}]", name, v, lo, hi);
  }
  return {};
}

Status validate_activation(std::string_view what, const Activation& a) {
  if (a.kind == ActKind::kClip && !(a.lo <= a.hi)) {
    return invalid_argument("cannot prepare {}: clip min = {}, must be <= max = {}", what, a.lo,
                            a.hi);
  }
  if (a.kind == ActKind::kLeakyRelu && !std::isfinite(a.alpha)) {
    return invalid_argument("cannot prepare {}: leaky_relu alpha = {}, must be finite", what,
                            a.alpha);
  }
  return {};
}

// Tile rows: the MR × NV shape of the tier's register file (direct_tile_nv, f32_internal.h)
// whose tiles waste the fewest lanes on partial row blocks and partial vector groups; the first
// listed on a tie (4 × 3 on 16 registers, 6 × 4 on 32). Small outputs decide it (AVX2, 8×8 =
// 8 vectors: 3+3+2 vs 2+2+2+2; measured 135 → 121 µs for 64→128).
int choose_mr(int64_t out_c_per_group, int64_t n_vec, int regs) {
  if (out_c_per_group <= 3) return static_cast<int>(out_c_per_group);
  const auto used = [&](int64_t mr, int64_t nv) {
    const auto round_up = [](int64_t n, int64_t m) { return (n + m - 1) / m * m; };
    return static_cast<double>(out_c_per_group * n_vec) /
           static_cast<double>(round_up(out_c_per_group, mr) * round_up(n_vec, nv));
  };
  static constexpr int kMr16[] = {4, 6}, kMr32[] = {6, 4, 8};
  const std::span<const int> candidates =
      regs >= 32 ? std::span<const int>(kMr32) : std::span<const int>(kMr16);
  int best = candidates[0];
  for (int mr : candidates) {
    if (used(mr, direct_tile_nv(regs, mr)) > used(best, direct_tile_nv(regs, best))) best = mr;
  }
  return best;
}

}  // namespace

bool im2col_pays_off(const Conv2dParams& p, KernelChoice tier) {
  // Only the 16-lane tier: its row vectors waste lanes on outputs narrower than a multiple of
  // 16 (ResNet's 28/14/7-wide strided layers: 87.5 % / 87.5 % / 44 % of the lanes used). The
  // im2col copy costs K·P floats against K·P·out_c/groups MACs, so it needs several output
  // channels per group, and its buffer should stay in L2 (≤ 4 MiB).
  if (tier != KernelChoice::kAvx512 || p.out_c_per_group() < 8) return false;
  const int64_t lanes = f32_lanes(tier);
  const int64_t oh = p.out_h(), ow = p.out_w(), pixels = oh * ow;
  const int64_t plane = (pixels + lanes - 1) / lanes * lanes;
  const double rows_used =
      static_cast<double>(pixels) / static_cast<double>(oh * ((ow + lanes - 1) / lanes) * lanes);
  const double flat_used = static_cast<double>(pixels) / static_cast<double>(plane);
  // Stride-1 unpadded 1×1 layers read the input in place over the flattened plane (the
  // direct plan's ConvStage::kNone): the same vectors as im2col without its copy.
  const bool pointwise_flat = p.kernel_h == 1 && p.kernel_w == 1 && p.stride_h == 1 &&
                              p.stride_w == 1 && p.pad_top == 0 && p.pad_left == 0 &&
                              p.pad_bottom == 0 && p.pad_right == 0;
  // Measured (bench/kernels_f32_bench, avx512/imagenet/, GMAC/s direct → im2col, Xeon
  // Sapphire Rapids class): 3×3 s2 14×14 outputs 53.6 → 43.7 (the flat operands share no cache
  // lines between taps: the rows' 12.5 % waste is cheaper), 28×28 42 → 46, 7×7 20 → 44; 1×1 s2
  // 14×14 42.5 → 46.6, 7×7 19 → 44. So: 1×1 kernels whenever flattening saves lanes, larger
  // kernels when it saves ≥ 10 % of them.
  const bool one_by_one = p.kernel_h == 1 && p.kernel_w == 1;
  const bool saves = flat_used >= rows_used + 0.1 || (one_by_one && flat_used > rows_used + 1e-9);
  return !pointwise_flat && saves && p.k() * plane <= (int64_t{1} << 20);
}

std::string_view conv_algorithm_name(ConvAlgorithm a) {
  switch (a) {
    case ConvAlgorithm::kAuto:
      return "auto";
    case ConvAlgorithm::kDirect:
      return "direct";
    case ConvAlgorithm::kWinograd:
      return "winograd";
    case ConvAlgorithm::kIm2col:
      return "im2col";
    case ConvAlgorithm::kTransposed:
      return "transposed";
    case ConvAlgorithm::kOnednn:
      return "onednn";
    case ConvAlgorithm::kOnednnNchw:
      return "onednn-nchw";
  }
  return "?";
}

bool pointwise_t_applicable(const Conv2dParams& p) {
  return p.kernel_h == 1 && p.kernel_w == 1 && p.stride_h == 1 && p.stride_w == 1 &&
         p.pad_top == 0 && p.pad_left == 0 && p.pad_bottom == 0 && p.pad_right == 0 &&
         p.groups == 1;
}

// Whether the transposed pointwise plan uses clearly more lanes than the direct plan's pixel
// vectors over the flattened plane (ceil(P/16) vectors of 16): planes below 64 pixels that are
// not a multiple of 16 (7×7: 49 of 64 lanes; 1×1: 1 of 16), its own waste being the partial
// tiles of 7 pixels and of 48 output channels.
bool pointwise_t_pays_off(const Conv2dParams& p, KernelChoice tier) {
  if (tier != KernelChoice::kAvx512 || !pointwise_t_applicable(p)) return false;
  const int64_t plane = p.in_h * p.in_w;
  if (plane >= 64) return false;
  const auto round_up = [](int64_t n, int64_t m) { return (n + m - 1) / m * m; };
  const int64_t mr = plane < 7 ? 1 : 7, oc_w = 16 * kPointwiseTNv;
  const double direct = static_cast<double>(plane) / static_cast<double>(round_up(plane, 16));
  const double transposed = static_cast<double>(plane * p.out_c) /
                            static_cast<double>(round_up(plane, mr) * round_up(p.out_c, oc_w));
  return transposed > direct + 0.05;
}

bool depthwise_flat_applicable(const Conv2dParams& p) {
  const bool square = (p.kernel_h == 3 && p.kernel_w == 3) || (p.kernel_h == 5 && p.kernel_w == 5);
  return square && p.groups == p.in_c && p.out_c == p.in_c && p.stride_h == 1 && p.stride_w == 1 &&
         p.dilation_h == 1 && p.dilation_w == 1 && p.out_h() == p.in_h && p.out_w() == p.in_w;
}

bool depthwise_s2_applicable(const Conv2dParams& p) {
  const bool square = (p.kernel_h == 3 && p.kernel_w == 3) || (p.kernel_h == 5 && p.kernel_w == 5);
  return square && p.groups == p.in_c && p.out_c == p.in_c && p.stride_h == 2 && p.stride_w == 2 &&
         p.dilation_h == 1 && p.dilation_w == 1;
}

bool winograd_applicable(const Conv2dParams& p) {
  return p.kernel_h == 3 && p.kernel_w == 3 && p.stride_h == 1 && p.stride_w == 1 &&
         p.dilation_h == 1 && p.dilation_w == 1 && p.groups == 1;
}

Status Conv2dParams::validate() const {
  constexpr int64_t kBig = kMaxElements;
  EI8_RETURN_IF_ERROR(check_range("batch", batch, 1, kBig));
  EI8_RETURN_IF_ERROR(check_range("in_c", in_c, 1, kBig));
  EI8_RETURN_IF_ERROR(check_range("in_h", in_h, 1, kBig));
  EI8_RETURN_IF_ERROR(check_range("in_w", in_w, 1, kBig));
  EI8_RETURN_IF_ERROR(check_range("out_c", out_c, 1, kBig));
  EI8_RETURN_IF_ERROR(check_range("kernel_h", kernel_h, 1, 1 << 16));
  EI8_RETURN_IF_ERROR(check_range("kernel_w", kernel_w, 1, 1 << 16));
  EI8_RETURN_IF_ERROR(check_range("stride_h", stride_h, 1, 1 << 16));
  EI8_RETURN_IF_ERROR(check_range("stride_w", stride_w, 1, 1 << 16));
  EI8_RETURN_IF_ERROR(check_range("dilation_h", dilation_h, 1, 1 << 16));
  EI8_RETURN_IF_ERROR(check_range("dilation_w", dilation_w, 1, 1 << 16));
  EI8_RETURN_IF_ERROR(check_range("pad_top", pad_top, 0, 1 << 16));
  EI8_RETURN_IF_ERROR(check_range("pad_left", pad_left, 0, 1 << 16));
  EI8_RETURN_IF_ERROR(check_range("pad_bottom", pad_bottom, 0, 1 << 16));
  EI8_RETURN_IF_ERROR(check_range("pad_right", pad_right, 0, 1 << 16));
  EI8_RETURN_IF_ERROR(check_range("groups", groups, 1, in_c));
  if (in_c % groups != 0 || out_c % groups != 0) {
    return invalid_argument(
        "cannot prepare conv2d: groups = {}, must divide in_c = {} and out_c = {}", groups, in_c,
        out_c);
  }
  if (out_h() < 1 || out_w() < 1) {
    return invalid_argument(
        "cannot prepare conv2d: output size = {}x{}, must be at least 1x1 (kernel larger than "
        "the padded input)",
        out_h(), out_w());
  }
  const int64_t padded = in_c * (in_h + pad_top + pad_bottom) * (in_w + pad_left + pad_right);
  if (in_size() > kBig || out_size() > kBig || weight_size() > kBig || padded * kernel_w > kBig) {
    return invalid_argument("cannot prepare conv2d: tensor elements = {}, must be <= 2^30",
                            std::max({in_size(), out_size(), weight_size(), padded * kernel_w}));
  }
  return validate_activation("conv2d", act);
}

Conv2dF32::Conv2dF32(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Conv2dF32::Conv2dF32(Conv2dF32&&) noexcept = default;
Conv2dF32& Conv2dF32::operator=(Conv2dF32&&) noexcept = default;
Conv2dF32::~Conv2dF32() = default;
const Conv2dParams& Conv2dF32::params() const { return impl_->p; }
KernelChoice Conv2dF32::choice() const { return impl_->choice; }
ConvAlgorithm Conv2dF32::algorithm() const { return impl_->algorithm; }
std::string_view Conv2dF32::variant_name() const {
  // "<tier>" for the direct plan, "<tier>/<algorithm>" otherwise (static strings).
  static constexpr std::string_view kNames[3][3] = {
      {"generic", "generic/winograd", "generic/im2col"},
      {"avx2", "avx2/winograd", "avx2/im2col"},
      {"avx512", "avx512/winograd", "avx512/im2col"}};
  if (impl_->choice == KernelChoice::kRef) return "ref";
  if (impl_->dnn) return impl_->dnn_variant;
  if (impl_->dw_flat) return "avx512/depthwise-flat";
  if (impl_->dw_s2) return "avx512/depthwise-s2";
  if (impl_->pw_t) return "avx512/transposed";
  const int tier = impl_->choice == KernelChoice::kAvx512 ? 2
                   : impl_->choice == KernelChoice::kAvx2 ? 1
                                                          : 0;
  const int algo = impl_->algorithm == ConvAlgorithm::kWinograd ? 1
                   : impl_->algorithm == ConvAlgorithm::kIm2col ? 2
                                                                : 0;
  return kNames[tier][algo];
}

Result<Conv2dF32> Conv2dF32::prepare(const Conv2dParams& params, std::span<const float> weight,
                                     std::span<const float> bias, KernelChoice choice,
                                     ConvAlgorithm algorithm) {
  Conv2dParams p = params;
  p.batch = 1;  // prepared objects take the batch per run
  EI8_RETURN_IF_ERROR(p.validate());
  if (weight.size() != static_cast<size_t>(p.weight_size())) {
    return invalid_argument("cannot prepare conv2d: weight size = {}, must be {} ({}x{}x{}x{})",
                            weight.size(), p.weight_size(), p.out_c, p.in_c_per_group(), p.kernel_h,
                            p.kernel_w);
  }
  if (!bias.empty() && bias.size() != static_cast<size_t>(p.out_c)) {
    return invalid_argument("cannot prepare conv2d: bias size = {}, must be 0 or out_c = {}",
                            bias.size(), p.out_c);
  }
  if (choice == KernelChoice::kAvx512Vnni) {
    return unsupported("cannot prepare conv2d: kernel = avx512vnni, must be an FP32 tier");
  }
  if (!kernel_choice_available(choice)) {
    return unsupported("cannot prepare conv2d: kernel = {}, must be one this CPU runs",
                       kernel_choice_name(choice));
  }
  if (algorithm == ConvAlgorithm::kWinograd && !winograd_applicable(p)) {
    return unsupported(
        "cannot prepare conv2d: algorithm = winograd, must be a 3x3, stride 1, dilation 1, "
        "groups 1 convolution (kernel {}x{}, stride {}x{}, dilation {}x{}, groups {})",
        p.kernel_h, p.kernel_w, p.stride_h, p.stride_w, p.dilation_h, p.dilation_w, p.groups);
  }
  if (algorithm == ConvAlgorithm::kTransposed &&
      (!pointwise_t_applicable(p) || resolve_kernel_choice(choice) != KernelChoice::kAvx512)) {
    return unsupported(
        "cannot prepare conv2d: algorithm = transposed, must be a 1x1, stride 1, unpadded, "
        "groups 1 convolution on the avx512 tier (kernel {}x{}, stride {}x{}, groups {}, tier {})",
        p.kernel_h, p.kernel_w, p.stride_h, p.stride_w, p.groups,
        kernel_choice_name(resolve_kernel_choice(choice)));
  }
  if ((algorithm == ConvAlgorithm::kWinograd || algorithm == ConvAlgorithm::kIm2col) &&
      choice == KernelChoice::kRef) {
    return unsupported(
        "cannot prepare conv2d: algorithm = {}, must be direct or auto for kernel = ref",
        conv_algorithm_name(algorithm));
  }
  const bool onednn_plan =
      algorithm == ConvAlgorithm::kOnednn || algorithm == ConvAlgorithm::kOnednnNchw;
  if (onednn_plan && !onednn_conv_available(resolve_kernel_choice(choice))) {
    return unsupported(
        "cannot prepare conv2d: algorithm = {}, must be one this build and CPU run (oneDNN {}, "
        "tier {}: needs oneDNN and tier avx2 or avx512)",
        conv_algorithm_name(algorithm), onednn::available() ? "available" : "not available",
        kernel_choice_name(resolve_kernel_choice(choice)));
  }
  auto impl = std::make_unique<Impl>();
  impl->p = p;
  impl->choice = resolve_kernel_choice(choice);
  if (onednn_plan) {
    impl->algorithm = algorithm;
    EI8_RETURN_IF_ERROR(impl->prepare_onednn(weight, bias));
    return Conv2dF32(std::move(impl));
  }
  if (impl->choice == KernelChoice::kRef) {
    impl->weight.assign(weight.begin(), weight.end());
    impl->bias.assign(bias.begin(), bias.end());
    return Conv2dF32(std::move(impl));
  }
  if (algorithm == ConvAlgorithm::kWinograd ||
      (algorithm == ConvAlgorithm::kAuto && winograd_applicable(p) &&
       winograd_pays_off(p, impl->choice))) {
    EI8_RETURN_IF_ERROR(impl->prepare_winograd(weight, bias));
    return Conv2dF32(std::move(impl));
  }

  // Pointwise on a small plane, output channels in the lanes (PointwiseTArgs).
  if (algorithm == ConvAlgorithm::kTransposed ||
      (algorithm == ConvAlgorithm::kAuto && pointwise_t_pays_off(p, impl->choice))) {
    Impl& m = *impl;
    m.pw_t = true;
    m.algorithm = ConvAlgorithm::kTransposed;
    const int64_t w = 16 * kPointwiseTNv, blocks = (p.out_c + w - 1) / w, k = p.in_c;
    m.wpack.assign(static_cast<size_t>(blocks * k * w), 0.0f);
    m.bpack.assign(static_cast<size_t>(blocks * w), 0.0f);
    for (int64_t oc = 0; oc < p.out_c; ++oc) {
      for (int64_t kk = 0; kk < k; ++kk) {
        m.wpack[static_cast<size_t>((oc / w * k + kk) * w + oc % w)] = weight[oc * k + kk];
      }
      if (!bias.empty()) m.bpack[static_cast<size_t>(oc)] = bias[oc];
    }
    return Conv2dF32(std::move(impl));
  }

  // Depthwise stride-1 "same" 3×3 / 5×5 on AVX-512: in place over the flattened plane
  // (DwFlatArgs, f32_internal.h), no staging. MnasNet's / EfficientNet's 7×7 and 14×14
  // depthwise layers ran at 4–9 GMAC/s through the per-channel staged copy and 8-lane rows.
  if (impl->choice == KernelChoice::kAvx512 && algorithm != ConvAlgorithm::kIm2col &&
      depthwise_flat_applicable(p)) {
    Impl& m = *impl;
    m.dw_flat = true;
    const int64_t plane = p.in_h * p.in_w, taps = p.kernel_h * p.kernel_w;
    const int64_t n_vec = (plane + 15) / 16;
    for (int64_t kh = 0; kh < p.kernel_h; ++kh) {
      for (int64_t kw = 0; kw < p.kernel_w; ++kw) {
        m.dw_off.push_back(static_cast<int32_t>((kh - p.pad_top) * p.in_w + (kw - p.pad_left)));
      }
    }
    m.dw_mask.assign(static_cast<size_t>(n_vec * taps), 0);
    for (int64_t j = 0; j < plane; ++j) {
      const int64_t oh = j / p.in_w, ow = j % p.in_w;
      for (int64_t t = 0; t < taps; ++t) {
        const int64_t ih = oh + t / p.kernel_w - p.pad_top, iw = ow + t % p.kernel_w - p.pad_left;
        if (ih >= 0 && ih < p.in_h && iw >= 0 && iw < p.in_w) {
          m.dw_mask[static_cast<size_t>(j / 16 * taps + t)] |=
              static_cast<uint16_t>(1u << (j % 16));
        }
      }
    }
    m.weight.assign(weight.begin(), weight.end());
    m.bpack.assign(static_cast<size_t>(p.out_c), 0.0f);
    if (!bias.empty()) std::copy(bias.begin(), bias.end(), m.bpack.begin());
    return Conv2dF32(std::move(impl));
  }

  // Depthwise stride-2 3×3 / 5×5 on AVX-512: in place, rows split into column phases in
  // registers (DwS2Args). The staged plan ran these at 2–5 GMAC/s (EfficientNet-B0's four:
  // 2.2 ms).
  if (impl->choice == KernelChoice::kAvx512 && algorithm != ConvAlgorithm::kIm2col &&
      depthwise_s2_applicable(p)) {
    impl->dw_s2 = true;
    impl->weight.assign(weight.begin(), weight.end());
    impl->bpack.assign(static_cast<size_t>(p.out_c), 0.0f);
    if (!bias.empty()) std::copy(bias.begin(), bias.end(), impl->bpack.begin());
    return Conv2dF32(std::move(impl));
  }

  // The direct plan (f32_internal.h, DirectConvArgs).
  Impl& m = *impl;
  const int64_t oh_n = p.out_h(), ow_n = p.out_w(), k = p.k();
  const int64_t icg = p.in_c_per_group(), ocg = p.out_c_per_group();
  const int64_t ph = p.in_h + p.pad_top + p.pad_bottom, pw = p.in_w + p.pad_left + p.pad_right;
  const bool pointwise = p.kernel_h == 1 && p.kernel_w == 1 && p.stride_h == 1 && p.stride_w == 1 &&
                         p.pad_top == 0 && p.pad_left == 0 && p.pad_bottom == 0 && p.pad_right == 0;
  // Depthwise-like layers (≤ 3 output channels per group: one-row tiles, K = taps) and tiny
  // convolutions (< 64 output pixels and < 2^20 MACs, e.g. a 3×3 output) run the AVX-512
  // tier's 8-lane (ymm) plan: 16-lane vectors would waste most lanes and gain no reuse, and
  // zmm instructions lower the clock of what follows for a while
  // (MobileNetV2's 576×14×14 stride-2 depthwise: 276 → 166 µs; a 4-channel 5×5 stride-2 conv
  // with a 3×3 output: 1.00 → 0.83 µs). Large 7×7 layers keep zmm (im2col: 49 of 64 lanes).
  m.zmm = m.choice == KernelChoice::kAvx512 && ocg > 3 &&
          (oh_n * ow_n >= 64 || p.macs() >= (int64_t{1} << 20));
  // Grouped layers whose 16-lane rows waste lanes would take im2col, whose copy is made per
  // group in short rows (RegNetX-400MF's 25 groups of 16 channels at 7×7: 144 taps × 7 rows
  // of 7 floats per group). The 8-lane row plan (7 of 8 lanes, a padded copy) was faster on
  // every such layer of RegNetX-400MF (bench --profile, avx512/im2col vs the AVX2 tier's plan,
  // CPU µs: 400×7×7 g25 150–265 → 131–155, 400×14×14 s2 320 → 199, 32×112×112 s2 g2
  // 1071 → 682, 64×56×56 s2 g4 538 → 387, 64×28×28 g4 331 → 234).
  if (m.zmm && algorithm == ConvAlgorithm::kAuto && p.groups > 1 && im2col_pays_off(p, m.choice)) {
    m.zmm = false;
  }
  const int64_t lanes = m.zmm ? 16 : 8;
  const int regs = m.zmm ? 32 : 16;
  const int64_t ow_vecs = (ow_n + lanes - 1) / lanes;
  if (algorithm == ConvAlgorithm::kIm2col ||
      (algorithm == ConvAlgorithm::kAuto && m.zmm && im2col_pays_off(p, m.choice))) {
    // Pixel vectors over the flattened output (f32_internal.h, ConvStage::kIm2col): koff[k] =
    // k·plane, the output plane is written as it is (NCHW).
    m.algorithm = ConvAlgorithm::kIm2col;
    m.stage = ConvStage::kIm2col;
    const int64_t pixels = oh_n * ow_n;
    m.plane = (pixels + lanes - 1) / lanes * lanes;
    for (int64_t v = 0; v < m.plane / lanes; ++v) {
      m.vin.push_back(static_cast<int32_t>(lanes * v));
      m.vout.push_back(static_cast<int32_t>(lanes * v));
      m.vlen.push_back(static_cast<int32_t>(std::min<int64_t>(lanes, pixels - lanes * v)));
    }
    for (int64_t kk = 0; kk < k; ++kk) m.koff.push_back(static_cast<int32_t>(kk * m.plane));
    m.staged_floats = k * m.plane + Im2colStage::kSlack;
  } else if (pointwise) {
    // The input is already [c][pixels], pixels contiguous: vectors over the flattened plane
    // read it in place. A partial last vector is moved back to end at the last pixel: it
    // recomputes some outputs of the vector before it with the same operands and operations,
    // so it writes the same bits again, and it reads nothing past the plane. Only a plane
    // smaller than one vector runs on a staged copy of its pixels (flat_tail). squeezenet1_1's
    // 55×55 / 27×27 / 13×13 1×1 layers spent most of their time in the im2col copy before
    // (64→16 at 55×55: 778 KB copied for 3.1 MMAC).
    m.stage = ConvStage::kNone;
    m.plane = p.in_h * p.in_w;
    m.row_stride = p.in_w;
    m.flat_tail = m.plane < lanes;
    for (int64_t v = 0; v * lanes < m.plane; ++v) {
      const int64_t first = m.flat_tail ? 0 : std::min(lanes * v, m.plane - lanes);
      m.vin.push_back(static_cast<int32_t>(first));
      m.vout.push_back(static_cast<int32_t>(first));
      m.vlen.push_back(static_cast<int32_t>(std::min(lanes, m.plane)));
    }
    if (m.flat_tail) {
      for (int64_t ic = 0; ic < icg; ++ic) m.tail_koff.push_back(static_cast<int32_t>(ic * lanes));
    }
  } else {
    const int64_t ow_stride = ow_vecs * lanes;
    m.stage = p.stride_w == 1 ? ConvStage::kPadded : ConvStage::kStrided;
    if (m.stage == ConvStage::kStrided) {  // blocks per tap or per column phase (Impl)
      const int64_t reach = (p.kernel_w - 1) * p.dilation_w;
      const bool phases = p.kernel_w > p.stride_w;
      m.gather_taps = phases ? p.stride_w : p.kernel_w;
      m.gather_step = phases ? 1 : p.dilation_w;
      m.gather_n = phases ? (ow_n + reach / p.stride_w + lanes - 1) / lanes * lanes : ow_stride;
    }
    m.row_stride = m.stage == ConvStage::kPadded ? pw : m.gather_taps * m.gather_n;
    m.plane = ph * m.row_stride;
    for (int64_t oh = 0; oh < oh_n; ++oh) {
      for (int64_t ow0 = 0; ow0 < ow_n; ow0 += lanes) {
        m.vin.push_back(static_cast<int32_t>(oh * p.stride_h * m.row_stride + ow0));
        m.vout.push_back(static_cast<int32_t>(oh * ow_n + ow0));
        m.vlen.push_back(static_cast<int32_t>(std::min<int64_t>(lanes, ow_n - ow0)));
      }
    }
  }
  if (m.stage != ConvStage::kIm2col) {
    // Staged rows some output row reads (stride_h > 1 skips the others when staging).
    m.row_used.assign(static_cast<size_t>(ph), 0);
    for (int64_t oh = 0; oh < oh_n; ++oh) {
      for (int64_t kh = 0; kh < p.kernel_h; ++kh) {
        m.row_used[oh * p.stride_h + kh * p.dilation_h] = 1;
      }
    }
    const auto column = [&](int64_t kw) {  // offset of tap kw within a staged row
      if (m.stage != ConvStage::kStrided) return kw * p.dilation_w;
      if (m.gather_step != 1 || m.gather_taps != p.stride_w) return kw * m.gather_n;  // per tap
      const int64_t c = kw * p.dilation_w;                                            // per phase
      return c % p.stride_w * m.gather_n + c / p.stride_w;
    };
    for (int64_t ic = 0; ic < icg; ++ic) {
      for (int64_t kh = 0; kh < p.kernel_h; ++kh) {
        for (int64_t kw = 0; kw < p.kernel_w; ++kw) {
          m.koff.push_back(
              static_cast<int32_t>(ic * m.plane + kh * p.dilation_h * m.row_stride + column(kw)));
        }
      }
    }
    // Largest float index a tail lane may read in the staged group, so that the buffer covers
    // it (kNone reads the input itself: whole vectors only; the partial one from scratch).
    // (The largest tap offset: with phase blocks the last tap need not have it.)
    const int64_t max_read =
        *std::max_element(m.koff.begin(), m.koff.end()) + m.vin.back() + lanes - 1;
    m.staged_floats = m.stage != ConvStage::kNone ? std::max(icg * m.plane, max_read + 1)
                      : m.flat_tail               ? icg * lanes
                                                  : 0;
  }
  if (m.staged_floats > kMaxElements) {
    return invalid_argument("cannot prepare conv2d: staged input = {} floats, must be <= 2^30",
                            m.staged_floats);
  }

  m.mr = choose_mr(ocg, static_cast<int64_t>(m.vin.size()), regs);
  const int64_t blocks = (ocg + m.mr - 1) / m.mr;
  m.wpack_group = blocks * k * m.mr;
  m.bpack_group = blocks * m.mr;
  m.wpack.assign(static_cast<size_t>(p.groups * m.wpack_group), 0.0f);
  m.bpack.assign(static_cast<size_t>(p.groups * m.bpack_group), 0.0f);
  // Packed per K block (DirectConvArgs::wpack): the rows of one K block are one run.
  const int64_t kc = direct_k_block(k, direct_tile_nv(regs, m.mr), static_cast<int>(lanes));
  for (int64_t g = 0; g < p.groups; ++g) {
    for (int64_t oc = 0; oc < ocg; ++oc) {
      const int64_t b = oc / m.mr, r = oc % m.mr;
      for (int64_t kk = 0; kk < k; ++kk) {
        const int64_t k0 = kk / kc * kc, k1 = std::min(k, k0 + kc);
        m.wpack[g * m.wpack_group + (k0 * blocks + b * (k1 - k0) + (kk - k0)) * m.mr + r] =
            weight[(g * ocg + oc) * k + kk];
      }
      if (!bias.empty()) m.bpack[g * m.bpack_group + oc] = bias[g * ocg + oc];
    }
  }
  return Conv2dF32(std::move(impl));
}

size_t Conv2dF32::scratch_bytes(int64_t batch) const {
  const Impl& m = *impl_;
  if (m.dnn) return m.onednn_scratch_bytes();
  if (m.algorithm == ConvAlgorithm::kWinograd) {
    const int64_t images = std::clamp<int64_t>(batch, 1, m.wino_images);
    return static_cast<size_t>(images * m.staged_floats + m.wino_vbuf + m.wino_mbuf) *
           sizeof(float);
  }
  return static_cast<size_t>(m.staged_floats) * sizeof(float);
}

void Conv2dF32::Impl::stage_group(const float* x, float* s) const {
  const int64_t ph = p.in_h + p.pad_top + p.pad_bottom;
  const int64_t channels = p.in_c_per_group();
  if (stage == ConvStage::kIm2col) {
    void (*im2col)(const Im2colStage&) =
        choice == KernelChoice::kGeneric ? stage_im2col_f32_generic : stage_im2col_f32_avx2;
    im2col({x, channels, p.in_h, p.in_w, p.kernel_h, p.kernel_w, p.stride_h, p.stride_w,
            p.dilation_h, p.dilation_w, p.pad_top, p.pad_left, p.out_h(), p.out_w(), plane, s});
    return;  // every staged float is written (taps' tails zeroed; the slack is never read)
  }
  if (stage == ConvStage::kPadded) {
    // The AVX-512 tier stages with the AVX2 routines (memory bound; 8-lane loops).
    void (*padded)(const PaddedStage&) =
        choice == KernelChoice::kGeneric ? stage_padded_f32_generic : stage_padded_f32_avx2;
    padded(
        {x, channels, p.in_h, p.in_w, p.pad_top, p.pad_left, p.pad_bottom, p.pad_right, plane, s});
  } else {  // kStrided: s[c][r][t][j] = padded x[c][r][j·stride_w + t·gather_step]
    // One call per group; the tiers vectorise the column gather of each row for every block.
    void (*gather)(const StridedGather&) =
        choice == KernelChoice::kGeneric ? gather_f32_strided_generic : gather_f32_strided_avx2;
    gather({x, channels, p.in_h, p.in_w, p.pad_top, ph, row_used.data(), p.stride_w, -p.pad_left,
            gather_taps, gather_step, gather_n, row_stride, plane, s});
  }
  // The slack read only by tail lanes (never stored): zeros keep it free of NaN/denormals.
  const int64_t used = channels * plane;
  std::memset(s + used, 0, sizeof(float) * static_cast<size_t>(staged_floats - used));
}

void Conv2dF32::run(const float* input, float* output, int64_t batch, float* scratch,
                    int /*threads*/) const {
  const Impl& m = *impl_;
  const Conv2dParams& p = m.p;
  const int64_t in_size = p.in_size(), out_size = p.out_size();
  if (m.choice == KernelChoice::kRef) {
    Conv2dParams pb = p;
    pb.batch = batch;
    const Status s = conv2d_f32_ref(pb, {input, static_cast<size_t>(batch * in_size)}, m.weight,
                                    m.bias, {output, static_cast<size_t>(batch * out_size)});
    (void)s;  // the shapes were validated by prepare()
    return;
  }
  if (m.dnn) {
    m.run_onednn(input, output, batch, scratch);
    return;
  }
  if (m.algorithm == ConvAlgorithm::kWinograd) {
    m.run_winograd(input, output, batch, scratch);
    // The Winograd tiles apply the clamp activations only (kSilu is the identity there): SiLU
    // runs after, as silu_f32 would after an unfused convolution (the same bits).
    if (p.act.kind == ActKind::kSilu) silu_f32(m.choice, batch * out_size, output, output);
    return;
  }
  if (m.dw_s2) {
    const DwS2Args d{input,     m.weight.data(), m.bpack.data(), output,    p.in_c,
                     p.in_h,    p.in_w,          p.out_h(),      p.out_w(), p.kernel_h,
                     p.pad_top, p.pad_left,      p.act};
    for (int64_t n = 0; n < batch; ++n) {
      DwS2Args dn = d;
      dn.x = input + n * in_size;
      dn.y = output + n * out_size;
      conv2d_f32_depthwise_s2_avx512(dn);
    }
    return;
  }
  if (m.pw_t) {
    PointwiseTArgs t{};
    t.wt = m.wpack.data();
    t.bias = m.bpack.data();
    t.k = p.in_c;
    t.plane = p.in_h * p.in_w;
    t.out_c = p.out_c;
    t.nv = kPointwiseTNv;
    t.act = p.act;
    for (int64_t n = 0; n < batch; ++n) {
      t.x = input + n * in_size;
      t.y = output + n * out_size;
      conv2d_f32_pointwise_t_avx512(t);
    }
    return;
  }
  if (m.dw_flat) {
    DwFlatArgs d{};
    d.w = m.weight.data();
    d.bias = m.bpack.data();
    d.channels = p.in_c;
    d.plane = p.in_h * p.in_w;
    d.k = p.kernel_h * p.kernel_w;
    d.off = m.dw_off.data();
    d.mask = m.dw_mask.data();
    d.n_vec = (d.plane + 15) / 16;
    d.act = p.act;
    for (int64_t n = 0; n < batch; ++n) {
      d.x = input + n * in_size;
      d.y = output + n * out_size;
      conv2d_f32_depthwise_flat_avx512(d);
    }
    return;
  }
  // The one place that maps a tier to its code (STYLE.md 4).
  void (*kernel)(const DirectConvArgs&) = m.zmm ? conv2d_f32_direct_avx512
                                          : m.choice == KernelChoice::kGeneric
                                              ? conv2d_f32_direct_generic
                                              : conv2d_f32_direct_avx2;
  const int64_t ocg = p.out_c_per_group();
  const int64_t out_plane = p.out_h() * p.out_w();
  DirectConvArgs a{};
  a.koff = m.koff.data();
  a.k = p.k();
  a.out_c = ocg;
  a.out_plane = out_plane;
  a.n_vec = static_cast<int64_t>(m.vin.size());
  a.vin = m.vin.data();
  a.vout = m.vout.data();
  a.vlen = m.vlen.data();
  a.mr = m.mr;
  a.act = p.act;
  // Groups are staged one at a time, each just before its kernel call: a depthwise layer's
  // staged channel is still in L1/L2 when it is read (staging every channel first sent
  // MobileNetV2's 96×112×112 stride-2 layer through 8 MB of scratch).
  const int64_t group_in = p.in_c_per_group() * p.in_h * p.in_w;
  for (int64_t n = 0; n < batch; ++n) {
    for (int64_t g = 0; g < p.groups; ++g) {
      const float* src = input + n * in_size + g * group_in;
      if (m.stage != ConvStage::kNone) {
        m.stage_group(src, scratch);
        src = scratch;
      }
      a.src = src;
      a.wpack = m.wpack.data() + g * m.wpack_group;
      a.bias = m.bpack.data() + g * m.bpack_group;
      a.dst = output + n * out_size + g * ocg * out_plane;
      if (m.flat_tail) {  // a plane below one vector: its pixels staged, zeros after them
        const int64_t lanes = m.zmm ? 16 : 8, len = m.vlen[0];
        for (int64_t ic = 0; ic < p.in_c_per_group(); ++ic) {
          float* d = scratch + ic * lanes;
          std::memcpy(d, src + ic * m.plane, sizeof(float) * static_cast<size_t>(len));
          std::fill(d + len, d + lanes, 0.0f);
        }
        a.src = scratch;
        a.koff = m.tail_koff.data();
      }
      kernel(a);
    }
  }
}

}  // namespace ei8::kernels
