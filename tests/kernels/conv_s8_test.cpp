// The prepared INT8 convolution / fully connected kernels (conv_s8.h): ONE test body per layer
// kind, instantiated over every registered tier (ref, generic, avx2, avx512vnni); a tier this CPU
// lacks is skipped with the reason. Integer outputs must equal the reference kernels
// (ref/conv_s8_ref.h, ref/fully_connected_s8_ref.h) bit for bit (STYLE.md 10: no tolerance for
// integers) over seeded random shapes — odd/prime channels and sizes, groups and depthwise,
// strides 1–3, dilations 1–2, asymmetric pads, conv1d, batch 1–5, u8/s8 inputs with random zero
// points, weight zero points, u8/s8/s32 outputs, all three requantization profiles, ReLU/ReLU6
// clamps — and on extreme values (all 255 × ±127 at K = 65536, bias at the int32 limits).
#include "ei8/runtime/kernels/conv_s8.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <iostream>
#include <string>
#include <vector>

#include "conv_test_support.h"
#include "ei8/core/rng.h"
#include "ei8/runtime/kernels/conv_f32.h"
#include "ei8/runtime/kernels/cpu_features.h"
#include "ei8/runtime/kernels/s8_internal.h"

namespace ei8::kernels {
namespace {

using fixedpoint::ConvGeometry;
using fixedpoint::FusedActivation;
using fixedpoint::Requantizer;
using fixedpoint::RequantProfile;
using test::conv_reference;
using test::first_difference;
using test::hi_of;
using test::lo_of;
using test::random_values;

constexpr uint64_t kSeed = 20261127;

struct Types {
  IntType in, out;
};

// A requantizer whose multipliers put typical accumulators of a K-long sum inside the 8-bit
// range (or saturate them on purpose), sometimes exactly 2^-j so that round-half-even ties occur.
Requantizer random_requantizer(Rng& rng, int64_t channels, int64_t k, IntType out) {
  const auto prof = fixedpoint::kAllProfiles[rng.uniform_int(0, 2)];
  const int64_t nch = rng.uniform_int(0, 1) == 0 ? 1 : channels;
  std::vector<float> sw;
  const int mode = static_cast<int>(rng.uniform_int(0, 3));
  for (int64_t c = 0; c < nch; ++c) {
    float m = 0.0f;
    if (mode == 0)
      m = std::ldexp(1.0f, -static_cast<int>(rng.uniform_int(1, 14)));
    else if (mode == 1)
      m = rng.uniform(0.1f, 2.0f);  // mostly clamped
    else
      m = rng.uniform(0.2f, 5.0f) * 0.01f / std::sqrt(static_cast<float>(k));
    sw.push_back(m);
  }
  const int32_t qlo = lo_of(out), qhi = hi_of(out);
  const auto zy = static_cast<int32_t>(rng.uniform_int(qlo, qhi));
  const auto act = static_cast<FusedActivation>(rng.uniform_int(0, 2));
  const auto clamp = fixedpoint::activation_range(act, 0.05f, zy, qlo, qhi);
  return Requantizer::prepare(prof, 1.0f, sw, 1.0f, zy, clamp.lo, clamp.hi).value();
}

// Bell-shaped weights with a few at the ends of the range, like per-channel quantized trained
// weights: most k-slots are pair-safe, some are not (the AVX2 mixed plan). One case in four also
// has −128 (the int16 plan on AVX2).
std::vector<int8_t> trained_like_weights(Rng& rng, int64_t n) {
  std::vector<int8_t> v(static_cast<size_t>(n));
  for (auto& x : v) {
    const int64_t r = rng.uniform_int(0, 99);
    if (r == 0) {
      x = static_cast<int8_t>(rng.uniform_int(0, 1) == 0 ? -127 : 127);
    } else if (r < 4) {
      x = static_cast<int8_t>(rng.uniform_int(-127, 127));
    } else {
      float s = 0.0f;
      for (int i = 0; i < 4; ++i) s += rng.uniform(-1.0f, 1.0f);
      x = static_cast<int8_t>(std::lround(std::clamp(s * 24.0f, -127.0f, 127.0f)));
    }
  }
  if (rng.uniform_int(0, 3) == 0) v[static_cast<size_t>(rng.uniform_int(0, n - 1))] = -128;
  return v;
}

template <typename TIn>
std::vector<std::byte> fc_reference(const FullyConnectedS8Params& p, IntType out,
                                    const std::vector<TIn>& x, const std::vector<int8_t>& w,
                                    const std::vector<int32_t>& b) {
  const auto on = static_cast<size_t>(p.batch * p.out_features);
  std::vector<std::byte> y(on * (out == IntType::kS32 ? 4 : 1));
  Status s;
  if (out == IntType::kU8)
    s = fully_connected_s8_ref<TIn, uint8_t>(p, x, w, b,
                                             {reinterpret_cast<uint8_t*>(y.data()), on});
  if (out == IntType::kS8)
    s = fully_connected_s8_ref<TIn, int8_t>(p, x, w, b, {reinterpret_cast<int8_t*>(y.data()), on});
  if (out == IntType::kS32)
    s = fully_connected_s8s8s32_ref<TIn>(p, x, w, b, {reinterpret_cast<int32_t*>(y.data()), on});
  EXPECT_TRUE(s.ok()) << s.message();
  return y;
}

// A tier to test; `emulate_vnni` runs the VNNI plan (quad staging, s8 → u8 shift, zero-point
// correction) with vpdpbusd emulated in C++, so it is checked on machines without VNNI too.
struct TierParam {
  KernelChoice choice;
  bool emulate_vnni = false;
};

std::vector<TierParam> tier_params() {
  std::vector<TierParam> out;
  for (KernelChoice c : registered_s8_kernels()) out.push_back({c, false});
  out.push_back({KernelChoice::kAvx512Vnni, true});
  return out;
}

class S8KernelTest : public ::testing::TestWithParam<TierParam> {
 public:
  // Convolutions check_conv saw prepared with the AVX2 mixed plan: some k-slots plain
  // vpmaddubsw, some with the sign trick (variant "-signN%", 0 < N < 100).
  int mixed_plans_ = 0;
  // When set, check_conv / check_fc also run every plan the tuner may pick for this tier
  // (plan_candidates) and count them here.
  bool all_plans_ = false;
  int plans_checked_ = 0, grid_plans_ = 0;

  // The AVX2 tier must have taken the mixed plan often enough for the test to cover it.
  void expect_mixed_plans_covered(int at_least) const {
    std::cout << "[ mixed plans ] " << mixed_plans_ << "\n";
    if (choice() == KernelChoice::kAvx2) {
      EXPECT_GE(mixed_plans_, at_least);
    }
  }

  KernelChoice choice() const { return GetParam().choice; }

  void TearDown() override { set_s8_vnni_emulation_for_testing(false); }

  void SetUp() override {
    if (GetParam().emulate_vnni) {
      set_s8_vnni_emulation_for_testing(true);
      return;
    }
    if (!kernel_choice_available(choice())) {
      GTEST_SKIP() << "tier " << kernel_choice_name(choice())
                   << " needs an ISA this CPU lacks (avx512vnni: AVX-512 F/BW/VL + VNNI; this "
                      "machine reports avx2="
                   << cpu_features().avx2 << " avx512=" << cpu_features().avx512
                   << " avx512vnni=" << cpu_features().avx512vnni << ")";
    }
  }

  // Runs the prepared conv on `batch` samples (with scratch poisoned) and compares with the ref.
  template <typename TIn>
  void check_conv(const ConvS8Params& p, Types t, const std::vector<TIn>& x,
                  const std::vector<int8_t>& w, const std::vector<int32_t>& b,
                  const std::string& what) {
    Result<ConvS8Kernel> k = ConvS8Kernel::prepare(p, w, b, t.in, t.out, choice());
    ASSERT_TRUE(k.ok()) << what << ": " << k.status().message();
    const int64_t batch = p.geometry.batch;
    const std::vector<std::byte> want = conv_reference(p, t.out, x, w, b);
    std::vector<std::byte> got(want.size(), std::byte{0x5a});
    std::vector<std::byte> scratch(k->scratch_bytes(batch) + 1, std::byte{0xa5});
    k->run(x.data(), got.data(), scratch.data() + 1, batch);  // misaligned scratch on purpose
    const int64_t diff = first_difference(want, got, t.out);
    ASSERT_EQ(diff, -1) << what << " variant " << k->variant() << ": first difference at output "
                        << diff;
    if (all_plans_) {
      Result<std::vector<std::string>> plans =
          ConvS8Kernel::plan_candidates(p, w, t.in, t.out, choice());
      ASSERT_TRUE(plans.ok()) << what << ": " << plans.status().message();
      ASSERT_FALSE(plans->empty());
      for (const std::string& plan : *plans) {
        Result<ConvS8Kernel> kp = ConvS8Kernel::prepare(p, w, b, t.in, t.out, choice(), plan);
        ASSERT_TRUE(kp.ok()) << what << " plan " << plan << ": " << kp.status().message();
        // The plan's name asks for the same plan again (what a tuning file stores).
        Result<ConvS8Kernel> again =
            ConvS8Kernel::prepare(p, w, b, t.in, t.out, choice(), kp->variant());
        ASSERT_TRUE(again.ok()) << kp->variant() << ": " << again.status().message();
        EXPECT_EQ(again->variant(), kp->variant());
        std::vector<std::byte> gp(want.size(), std::byte{0x5a});
        std::vector<std::byte> sp(kp->scratch_bytes(batch) + 1, std::byte{0xa5});
        kp->run(x.data(), gp.data(), sp.data() + 1, batch);
        const int64_t dp = first_difference(want, gp, t.out);
        ASSERT_EQ(dp, -1) << what << " plan " << plan << " (" << kp->variant()
                          << "): first difference at output " << dp;
        ++plans_checked_;
        grid_plans_ += kp->variant().find("-grid") != std::string_view::npos;
      }
    }
    if (choice() != KernelChoice::kRef) {  // the plan the shape should take
      const fixedpoint::ConvGeometry& g = p.geometry;
      const std::string v(k->variant());
      if (g.in_channels_per_group() == 1 && g.groups > 1) {
        EXPECT_NE(v.find("/depthwise"), std::string::npos) << what << ": " << v;
      } else if (g.in_channels_per_group() == 1 && g.kernel_h * g.kernel_w >= 3) {
        EXPECT_NE(v.find("/im2col"), std::string::npos) << what << ": " << v;
      }
      // AVX2, symmetric weights in [−127, 127]: u8 quads (pair-safe k-slots plain, the others
      // with the sign trick; all plain when |w| ≤ 63).
      const bool small_w =
          std::all_of(w.begin(), w.end(), [](int8_t q) { return q >= -63 && q <= 63; });
      const bool has_min = std::find(w.begin(), w.end(), int8_t{-128}) != w.end();
      if (choice() == KernelChoice::kAvx2 && p.weight_zero_point == 0 && !has_min &&
          v.find("/depthwise") == std::string::npos) {
        EXPECT_NE(v.find("-u8x4"), std::string::npos) << what << ": " << v;
      }
      if (small_w) {
        EXPECT_EQ(v.find("-sign"), std::string::npos) << what << ": " << v;
      }
      if (v.find("-sign") != std::string::npos && v.find("-sign100%") == std::string::npos) {
        ++mixed_plans_;
      }
    }
  }

  template <typename TIn>
  void check_fc(const FullyConnectedS8Params& p, Types t, const std::vector<TIn>& x,
                const std::vector<int8_t>& w_oi, const std::vector<int32_t>& b, WeightLayout layout,
                const std::string& what) {
    std::vector<int8_t> w = w_oi;
    if (layout == WeightLayout::kInOut) {
      for (int64_t o = 0; o < p.out_features; ++o)
        for (int64_t i = 0; i < p.in_features; ++i)
          w[static_cast<size_t>(i * p.out_features + o)] =
              w_oi[static_cast<size_t>(o * p.in_features + i)];
    }
    Result<FullyConnectedS8Kernel> k =
        FullyConnectedS8Kernel::prepare(p, w, b, layout, t.in, t.out, choice());
    ASSERT_TRUE(k.ok()) << what << ": " << k.status().message();
    const std::vector<std::byte> want = fc_reference(p, t.out, x, w_oi, b);
    std::vector<std::byte> got(want.size(), std::byte{0x5a});
    std::vector<std::byte> scratch(k->scratch_bytes(p.batch) + 3, std::byte{0xa5});
    k->run(x.data(), got.data(), scratch.data() + 3, p.batch);
    const int64_t diff = first_difference(want, got, t.out);
    ASSERT_EQ(diff, -1) << what << " variant " << k->variant() << ": first difference at output "
                        << diff;
    if (!all_plans_) return;
    Result<std::vector<std::string>> plans =
        FullyConnectedS8Kernel::plan_candidates(p, w, layout, t.in, t.out, choice());
    ASSERT_TRUE(plans.ok()) << what << ": " << plans.status().message();
    for (const std::string& plan : *plans) {
      Result<FullyConnectedS8Kernel> kp =
          FullyConnectedS8Kernel::prepare(p, w, b, layout, t.in, t.out, choice(), plan);
      ASSERT_TRUE(kp.ok()) << what << " plan " << plan << ": " << kp.status().message();
      std::vector<std::byte> gp(want.size(), std::byte{0x5a});
      std::vector<std::byte> sp(kp->scratch_bytes(p.batch) + 3, std::byte{0xa5});
      kp->run(x.data(), gp.data(), sp.data() + 3, p.batch);
      const int64_t dp = first_difference(want, gp, t.out);
      ASSERT_EQ(dp, -1) << what << " plan " << plan << " (" << kp->variant()
                        << "): first difference at output " << dp;
      ++plans_checked_;
    }
  }
};

std::string describe(const ConvGeometry& g, Types t, const ConvS8Params& p) {
  return fmt::format(
      "conv{} N{} C{} {}x{} -> {} k{}x{} s{}x{} d{}x{} pads({},{},{},{}) groups {} {}->{} zx {} "
      "zw {} profile {} clamp [{}, {}]",
      g.kind == fixedpoint::LayerKind::kConv1d ? "1d" : "2d", g.batch, g.in_channels, g.in_h,
      g.in_w, g.out_channels, g.kernel_h, g.kernel_w, g.stride_h, g.stride_w, g.dilation_h,
      g.dilation_w, g.pad_top, g.pad_left, g.pad_bottom, g.pad_right, g.groups, int_type_name(t.in),
      int_type_name(t.out), p.input_zero_point, p.weight_zero_point,
      fixedpoint::profile_name(p.requant.profile()), p.requant.qmin(), p.requant.qmax());
}

template <typename TIn>
void random_conv_case(S8KernelTest& test, Rng& rng, int it, Types t) {
  const bool one_d = it % 4 == 0;
  const int shape = static_cast<int>(rng.uniform_int(0, 3));  // 0 depthwise, 1 grouped, else dense
  const int64_t groups =
      shape == 0 ? rng.uniform_int(2, 13) : (shape == 1 ? rng.uniform_int(2, 3) : 1);
  const int64_t cig = shape == 0 ? 1 : rng.uniform_int(1, 37);
  const int64_t cog = shape == 0 ? rng.uniform_int(1, 2) : rng.uniform_int(1, 23);
  const int64_t kh = one_d ? 1 : rng.uniform_int(1, 5), kw = rng.uniform_int(1, 5);
  const int64_t dh = one_d ? 1 : rng.uniform_int(1, 2), dw = rng.uniform_int(1, 2);
  const int64_t h = one_d ? 1 : rng.uniform_int(std::max<int64_t>(1, dh * (kh - 1) - 1), 19);
  const int64_t w = rng.uniform_int(std::max<int64_t>(1, dw * (kw - 1) - 1), one_d ? 131 : 23);
  const int64_t batch = rng.uniform_int(1, 5);
  ConvGeometry g = one_d ? ConvGeometry::conv1d(batch, groups * cig, w, groups * cog, kw)
                         : ConvGeometry::conv2d(batch, groups * cig, h, w, groups * cog, kh, kw);
  g = g.with_groups(groups)
          .with_stride(one_d ? 1 : rng.uniform_int(1, 3), rng.uniform_int(1, 3))
          .with_dilation(dh, dw);
  g = one_d ? g.with_padding(0, rng.uniform_int(0, 3), 0, rng.uniform_int(0, 3))
            : g.with_padding(rng.uniform_int(0, 3), rng.uniform_int(0, 3), rng.uniform_int(0, 3),
                             rng.uniform_int(0, 3));
  if (!g.validate().ok()) return;  // kernel larger than the padded input: draw again next time
  ConvS8Params p;
  p.geometry = g;
  p.input_zero_point = static_cast<int32_t>(rng.uniform_int(lo_of(t.in), hi_of(t.in)));
  p.weight_zero_point =
      rng.uniform_int(0, 5) == 0 ? static_cast<int32_t>(rng.uniform_int(-128, 127)) : 0;
  p.requant = random_requantizer(rng, g.out_channels, g.accumulation_count(), t.out);
  const auto x = random_values<TIn>(rng, g.input_numel(), lo_of(t.in), hi_of(t.in));
  // A third of the cases with |w| ≤ 63 (reduce-range weights: the avx2 u8x4 plan), a third
  // uniform in [−127, 127], a third bell-shaped like trained per-channel weights (the split plan).
  const int dist = static_cast<int>(rng.uniform_int(0, 2));
  const int32_t wmax = dist == 0 ? 63 : 127;
  const auto wt = dist == 2 && p.weight_zero_point == 0
                      ? trained_like_weights(rng, g.weight_numel())
                      : random_values<int8_t>(rng, g.weight_numel(),
                                              p.weight_zero_point != 0 ? -128 : -wmax, wmax);
  std::vector<int32_t> b;
  if (rng.uniform_int(0, 3) != 0) b = random_values<int32_t>(rng, g.out_channels, -100000, 100000);
  test.check_conv(p, t, x, wt, b, describe(g, t, p));
}

Types random_types(Rng& rng) {
  const IntType in = rng.uniform_int(0, 1) == 0 ? IntType::kU8 : IntType::kS8;
  const IntType outs[] = {IntType::kU8, IntType::kS8, IntType::kS32};
  return {in, outs[rng.uniform_int(0, 2)]};
}

TEST_P(S8KernelTest, ConvMatchesReferenceOnRandomShapes) {
  std::cout << "[ seed ] " << kSeed << "\n";
  Rng rng(kSeed);
  for (int it = 0; it < 400; ++it) {
    const Types t = random_types(rng);
    if (t.in == IntType::kU8) {
      random_conv_case<uint8_t>(*this, rng, it, t);
    } else {
      random_conv_case<int8_t>(*this, rng, it, t);
    }
    if (HasFatalFailure()) return;
  }
  expect_mixed_plans_covered(40);
}

// Depthwise layers, every plan of the tier (VNNI: u8 quads and int16 pairs): random planes
// (1..30, 7×7 and 14×14 grids among them), kernels 1..7 (5×5 of efficientnet: two quads per
// kernel row), strides 1..4 (u8 quads take stride_w 1, 2, 4), dilation, channel multiplier 2,
// z_w ≠ 0 with w − z_w inside s8 and outside it, batch up to 3.
// A convolution of one input channel (groups 1: TinyCNN2D's first layer) is a depthwise one
// with multiplier out_channels: plan_candidates adds the depthwise plans (u8 quads on the VNNI
// tier, int16 pairs), and every candidate must equal the reference (random shapes, strides,
// dilations, pads, zero points, batch 1–3, both input types; 24 shapes, 10 under ASan).
TEST_P(S8KernelTest, SingleInputChannelConvRunsTheDepthwisePlansExactly) {
  std::cout << "[ seed ] " << kSeed + 23 << "\n";
  Rng rng(kSeed + 23);
  all_plans_ = true;
  int dw_plans = 0;
#ifdef __SANITIZE_ADDRESS__
  constexpr int kShapes = 10;  // the -O0 sanitizer build: the same checks on fewer shapes
#else
  constexpr int kShapes = 24;
#endif
  for (int it = 0; it < kShapes; ++it) {
    const Types t = random_types(rng);
    const int64_t kh = rng.uniform_int(1, 5), kw = rng.uniform_int(1, 5);
    const int64_t h = it % 4 == 0 ? 32 : rng.uniform_int(1, 24);
    const int64_t w = it % 4 == 0 ? 32 : rng.uniform_int(1, 40);
    ConvGeometry g = ConvGeometry::conv2d(rng.uniform_int(1, 3), 1, h, w,
                                          it % 4 == 0 ? 32 : rng.uniform_int(1, 40), kh, kw)
                         .with_stride(rng.uniform_int(1, 2), rng.uniform_int(1, 3))
                         .with_dilation(rng.uniform_int(0, 4) == 0 ? 2 : 1, 1)
                         .with_padding(rng.uniform_int(0, 2), rng.uniform_int(0, 2),
                                       rng.uniform_int(0, 2), rng.uniform_int(0, 2));
    if (!g.validate().ok()) continue;
    ConvS8Params p;
    p.geometry = g;
    p.input_zero_point = static_cast<int32_t>(rng.uniform_int(lo_of(t.in), hi_of(t.in)));
    p.weight_zero_point = it % 3 == 1 ? static_cast<int32_t>(rng.uniform_int(-20, 20)) : 0;
    p.requant = random_requantizer(rng, g.out_channels, g.accumulation_count(), t.out);
    const auto wt = random_values<int8_t>(rng, g.weight_numel(), -100, 100);
    std::vector<int32_t> b;
    if (rng.uniform_int(0, 3) != 0) b = random_values<int32_t>(rng, g.out_channels, -1000, 1000);
    if (t.in == IntType::kU8) {
      check_conv(p, t, random_values<uint8_t>(rng, g.input_numel(), 0, 255), wt, b,
                 describe(g, t, p));
    } else {
      check_conv(p, t, random_values<int8_t>(rng, g.input_numel(), -128, 127), wt, b,
                 describe(g, t, p));
    }
    if (HasFatalFailure()) return;
    Result<std::vector<std::string>> plans =
        ConvS8Kernel::plan_candidates(p, wt, t.in, t.out, choice());
    ASSERT_TRUE(plans.ok());
    for (const std::string& plan : *plans) dw_plans += plan.find("/depthwise") != std::string::npos;
  }
  std::cout << "[ depthwise plans of 1-channel convs ] " << dw_plans << "\n";
  if (choice() != KernelChoice::kGeneric && choice() != KernelChoice::kRef) {
    EXPECT_GE(dw_plans, kShapes * 3 / 4);
  }
}

TEST_P(S8KernelTest, DepthwisePlansMatchReference) {
  std::cout << "[ seed ] " << kSeed + 11 << "\n";
  Rng rng(kSeed + 11);
  all_plans_ = true;
  int quad_plans = 0;
  for (int it = 0; it < 90; ++it) {
    const Types t = random_types(rng);
    const int64_t c = rng.uniform_int(1, 19), cog = rng.uniform_int(0, 4) == 0 ? 2 : 1;
    const int64_t kh = rng.uniform_int(1, 7), kw = rng.uniform_int(1, 7);
    const int64_t dh = rng.uniform_int(0, 4) == 0 ? 2 : 1, dw = rng.uniform_int(0, 4) == 0 ? 2 : 1;
    // Every third plane 7×7 or 14×14; every fifth a few rows 60..150 wide (rows of more than
    // 128 padded bytes and strided rows wider than two registers: the byte-image staging).
    const bool wide = it % 5 == 1;
    const int64_t h = it % 3 == 0 ? 7 * rng.uniform_int(1, 2)
                                  : (wide ? rng.uniform_int(1, 8) : rng.uniform_int(1, 30));
    const int64_t w = it % 3 == 0 ? h : (wide ? rng.uniform_int(60, 150) : rng.uniform_int(1, 30));
    ConvGeometry g = ConvGeometry::conv2d(rng.uniform_int(1, 3), c, h, w, c * cog, kh, kw)
                         .with_groups(c)
                         .with_stride(rng.uniform_int(1, 3), rng.uniform_int(1, 4))
                         .with_dilation(dh, dw)
                         .with_padding(rng.uniform_int(0, 3), rng.uniform_int(0, 3),
                                       rng.uniform_int(0, 3), rng.uniform_int(0, 3));
    if (!g.validate().ok()) continue;
    ConvS8Params p;
    p.geometry = g;
    p.input_zero_point = static_cast<int32_t>(rng.uniform_int(lo_of(t.in), hi_of(t.in)));
    const int zkind = static_cast<int>(rng.uniform_int(0, 3));  // 1: small z_w, 2: any z_w
    p.weight_zero_point = zkind == 1   ? static_cast<int32_t>(rng.uniform_int(-20, 20))
                          : zkind == 2 ? static_cast<int32_t>(rng.uniform_int(-128, 127))
                                       : 0;
    p.requant = random_requantizer(rng, g.out_channels, g.accumulation_count(), t.out);
    const int32_t wlo = zkind == 1 ? -100 : -128, whi = zkind == 1 ? 100 : 127;
    const auto wt = random_values<int8_t>(rng, g.weight_numel(), wlo, whi);
    std::vector<int32_t> b;
    if (rng.uniform_int(0, 3) != 0) b = random_values<int32_t>(rng, g.out_channels, -1000, 1000);
    const int before = plans_checked_;
    if (t.in == IntType::kU8) {
      check_conv(p, t, random_values<uint8_t>(rng, g.input_numel(), 0, 255), wt, b,
                 describe(g, t, p));
    } else {
      check_conv(p, t, random_values<int8_t>(rng, g.input_numel(), -128, 127), wt, b,
                 describe(g, t, p));
    }
    if (HasFatalFailure()) return;
    Result<std::vector<std::string>> plans =
        ConvS8Kernel::plan_candidates(p, wt, t.in, t.out, choice());
    ASSERT_TRUE(plans.ok());
    for (const std::string& plan : *plans) quad_plans += plan.ends_with("/depthwise-u8x4");
    EXPECT_GT(plans_checked_, before);
  }
  std::cout << "[ u8x4 depthwise plans ] " << quad_plans << "\n";
  if (choice() == KernelChoice::kAvx512Vnni) {
    EXPECT_GE(quad_plans, 15);
  }
  // A quad plan asked of a layer that cannot take it (stride_w 3) is refused, one line.
  ConvS8Params p;
  p.geometry = ConvGeometry::conv2d(1, 4, 9, 9, 4, 3, 3).with_groups(4).with_stride(1, 3);
  p.requant =
      Requantizer::prepare(RequantProfile::kOrt, 1.0f, std::vector<float>{0.01f}, 1.0f, 0, 0, 255)
          .value();
  const std::vector<int8_t> w(static_cast<size_t>(p.geometry.weight_numel()), 3);
  if (choice() == KernelChoice::kAvx512Vnni) {
    Result<ConvS8Kernel> k = ConvS8Kernel::prepare(p, w, {}, IntType::kU8, IntType::kU8, choice(),
                                                   "avx512vnni/depthwise-u8x4");
    ASSERT_FALSE(k.ok());
    EXPECT_NE(k.status().message().find(
                  "cannot prepare int8 convolution: plan = 'avx512vnni/depthwise-u8x4', must be"),
              std::string::npos)
        << k.status().message();
  }
}

// The byte-table lookup (QLinearConcat): the VBMI loop (on CPUs with it) equals the scalar loop
// for random tables, both flips, every length 0..200 (tails) and in place.
TEST(LookupTableU8, VectorLoopEqualsScalarLoop) {
  std::cout << "[ seed ] " << kSeed + 12 << " vbmi " << cpu_features().avx512vbmi << "\n";
  Rng rng(kSeed + 12);
  for (int it = 0; it < 4; ++it) {
    const auto table = random_values<uint8_t>(rng, 256, 0, 255);
    for (uint8_t flip : {uint8_t{0}, uint8_t{0x80}}) {
      for (int64_t n = 0; n <= 200; n += it == 0 ? 1 : 37) {
        const auto x = random_values<uint8_t>(rng, n + 1, 0, 255);
        std::vector<uint8_t> want(static_cast<size_t>(n + 1), 7), got = want, inplace = x;
        lookup_table_u8(table.data(), flip, x.data() + 1, want.data() + 1, n, KernelChoice::kRef);
        lookup_table_u8(table.data(), flip, x.data() + 1, got.data() + 1, n);
        lookup_table_u8(table.data(), flip, inplace.data() + 1, inplace.data() + 1, n);
        ASSERT_EQ(want, got) << "n " << n << " flip " << int{flip};
        inplace[0] = 7;
        ASSERT_EQ(want, inplace) << "in place, n " << n;
      }
    }
  }
}

// Plan names prepare() refuses, with the one-line error shape.
TEST_P(S8KernelTest, BadPlanNamesGiveAClearStatus) {
  ConvS8Params p;
  p.geometry = ConvGeometry::conv2d(1, 8, 6, 6, 8, 3, 3).with_padding(1);
  p.requant =
      Requantizer::prepare(RequantProfile::kOrt, 1.0f, std::vector<float>{0.01f}, 1.0f, 0, 0, 255)
          .value();
  const std::vector<int8_t> w(static_cast<size_t>(p.geometry.weight_numel()), 3);
  for (const char* plan : {"bogus", "avx512vnni/winograd", "avx512vnni/direct-u8x4-zmm9x9",
                           "avx512vnni/direct-zmm8x6"}) {
    Result<ConvS8Kernel> k =
        ConvS8Kernel::prepare(p, w, {}, IntType::kU8, IntType::kU8, KernelChoice::kAuto, plan);
    ASSERT_FALSE(k.ok()) << plan;
    EXPECT_NE(k.status().message().find("cannot prepare int8 convolution: plan = '"),
              std::string::npos)
        << k.status().message();
  }
  // A plan of another tier than the forced one.
  const KernelChoice other =
      choice() == KernelChoice::kGeneric ? KernelChoice::kRef : KernelChoice::kGeneric;
  Result<ConvS8Kernel> k =
      ConvS8Kernel::prepare(p, w, {}, IntType::kU8, IntType::kU8, choice(),
                            std::string(kernel_choice_name(other)) + "/direct");
  ASSERT_FALSE(k.ok());
  EXPECT_NE(k.status().message().find("must be of the forced tier"), std::string::npos)
      << k.status().message();
}

// The workloads' layer shapes (SignalCNN1D, TinyCNN2D, a ResNet 3×3 64→64) at batch 1 and 3.
TEST_P(S8KernelTest, ConvMatchesReferenceOnModelLayers) {
  Rng rng(kSeed + 1);
  const ConvGeometry layers[] = {
      ConvGeometry::conv1d(3, 1, 128, 16, 3).with_padding(1),
      ConvGeometry::conv1d(1, 16, 64, 32, 3).with_padding(1),
      ConvGeometry::conv1d(2, 32, 32, 64, 3).with_padding(1),
      ConvGeometry::conv2d(1, 3, 32, 32, 32, 3, 3).with_padding(1),
      ConvGeometry::conv2d(2, 32, 16, 16, 64, 3, 3).with_padding(1),
      ConvGeometry::conv2d(1, 64, 8, 8, 128, 3, 3).with_padding(1),
      ConvGeometry::conv2d(1, 64, 16, 16, 64, 3, 3).with_padding(1),
      ConvGeometry::conv2d(1, 16, 32, 32, 32, 1, 1).with_stride(2, 2),
      // Stride 2 in the direct plan (column phases split by the interleave), batch 2.
      ConvGeometry::conv2d(2, 16, 32, 32, 32, 3, 3).with_padding(1).with_stride(2, 2),
      ConvGeometry::conv2d(1, 8, 33, 67, 8, 3, 3).with_padding(1).with_stride(2, 2),
      // Small-K stems (im2col plan): C_in 1–4, stride 2, the 1-D signal stem at batch 3 above.
      ConvGeometry::conv2d(2, 1, 32, 32, 32, 3, 3).with_padding(1),
      ConvGeometry::conv2d(1, 2, 17, 19, 8, 3, 3).with_padding(1),
      ConvGeometry::conv2d(1, 3, 32, 32, 16, 3, 3).with_padding(1).with_stride(2, 2),
      ConvGeometry::conv2d(1, 4, 15, 13, 5, 5, 5).with_padding(2),
      // MobileNet-like depthwise layers (depthwise plan): stride 1 and 2, 8×8 planes.
      ConvGeometry::conv2d(2, 16, 16, 16, 16, 3, 3).with_padding(1).with_groups(16),
      ConvGeometry::conv2d(1, 32, 16, 16, 32, 3, 3)
          .with_padding(1)
          .with_stride(2, 2)
          .with_groups(32),
      ConvGeometry::conv2d(1, 64, 8, 8, 64, 3, 3).with_padding(1).with_groups(64),
  };
  for (const ConvGeometry& g : layers) {
    for (Types t : {Types{IntType::kU8, IntType::kU8}, Types{IntType::kS8, IntType::kS8}}) {
      ConvS8Params p;
      p.geometry = g;
      p.input_zero_point = static_cast<int32_t>(rng.uniform_int(lo_of(t.in), hi_of(t.in)));
      p.requant = random_requantizer(rng, g.out_channels, g.accumulation_count(), t.out);
      // u8 activations with trained-like weights (the split plan on AVX2), s8 with uniform ones.
      const auto wt = t.in == IntType::kU8
                          ? trained_like_weights(rng, g.weight_numel())
                          : random_values<int8_t>(rng, g.weight_numel(), -127, 127);
      const auto b = random_values<int32_t>(rng, g.out_channels, -5000, 5000);
      if (t.in == IntType::kU8) {
        check_conv(p, t, random_values<uint8_t>(rng, g.input_numel(), 0, 255), wt, b,
                   describe(g, t, p));
      } else {
        check_conv(p, t, random_values<int8_t>(rng, g.input_numel(), -128, 127), wt, b,
                   describe(g, t, p));
      }
      if (HasFatalFailure()) return;
    }
  }
  expect_mixed_plans_covered(5);
}

template <typename TIn>
void random_fc_case(S8KernelTest& test, Rng& rng, int it, Types t) {
  FullyConnectedS8Params p;
  p.batch = rng.uniform_int(1, 5);
  p.in_features = it % 5 == 0 ? rng.uniform_int(1000, 3001) : rng.uniform_int(1, 67);
  p.out_features = rng.uniform_int(1, 41);
  p.input_zero_point = static_cast<int32_t>(rng.uniform_int(lo_of(t.in), hi_of(t.in)));
  p.weight_zero_point =
      rng.uniform_int(0, 5) == 0 ? static_cast<int32_t>(rng.uniform_int(-128, 127)) : 0;
  p.requant = random_requantizer(rng, p.out_features, p.in_features, t.out);
  const auto x = random_values<TIn>(rng, p.batch * p.in_features, lo_of(t.in), hi_of(t.in));
  const int32_t wmax = rng.uniform_int(0, 2) == 0 ? 63 : 127;  // 63: the avx2 u8x4 plan
  const auto w = random_values<int8_t>(rng, p.out_features * p.in_features, -wmax, wmax);
  std::vector<int32_t> b;
  if (rng.uniform_int(0, 3) != 0) b = random_values<int32_t>(rng, p.out_features, -100000, 100000);
  const WeightLayout layout = it % 2 == 0 ? WeightLayout::kOutIn : WeightLayout::kInOut;
  test.check_fc(
      p, t, x, w, b, layout,
      fmt::format("fc N{} {}->{} {}->{} zx {} zw {} profile {} layout {}", p.batch, p.in_features,
                  p.out_features, int_type_name(t.in), int_type_name(t.out), p.input_zero_point,
                  p.weight_zero_point, fixedpoint::profile_name(p.requant.profile()),
                  layout == WeightLayout::kOutIn ? "[out,in]" : "[in,out]"));
}

TEST_P(S8KernelTest, FullyConnectedMatchesReferenceOnRandomShapes) {
  std::cout << "[ seed ] " << kSeed + 2 << "\n";
  Rng rng(kSeed + 2);
  for (int it = 0; it < 300; ++it) {
    const Types t = random_types(rng);
    if (t.in == IntType::kU8) {
      random_fc_case<uint8_t>(*this, rng, it, t);
    } else {
      random_fc_case<int8_t>(*this, rng, it, t);
    }
    if (HasFatalFailure()) return;
  }
}

// Every plan prepare-time tuning may choose (plan_candidates: tiers, direct / im2col, the VNNI
// register blocks, zmm / ymm, grid / row vectors, loop orders) equals the reference bit for bit
// on random shapes and layers, and its name prepares the same plan again (tuning files).
TEST_P(S8KernelTest, EveryTunablePlanMatchesReference) {
  std::cout << "[ seed ] " << kSeed + 7 << "\n";
  Rng rng(kSeed + 7);
  all_plans_ = true;
  for (int it = 0; it < 30; ++it) {  // × ~12 plans each: small enough for the sanitizer run
    const Types t = random_types(rng);
    if (t.in == IntType::kU8) {
      random_conv_case<uint8_t>(*this, rng, it, t);
    } else {
      random_conv_case<int8_t>(*this, rng, it, t);
    }
    if (HasFatalFailure()) return;
  }
  for (int it = 0; it < 15; ++it) {
    const Types t = random_types(rng);
    if (t.in == IntType::kU8) {
      random_fc_case<uint8_t>(*this, rng, it, t);
    } else {
      random_fc_case<int8_t>(*this, rng, it, t);
    }
    if (HasFatalFailure()) return;
  }
  std::cout << "[ plans ] " << plans_checked_ << ", grid " << grid_plans_ << "\n";
  EXPECT_GE(plans_checked_, 35);
  if (choice() == KernelChoice::kAvx512Vnni) {
    EXPECT_GE(plans_checked_, 250);  // register blocks, zmm / ymm, orders
    EXPECT_GE(grid_plans_, 20);
  }
}

// Small fully connected heads at batch 1 (one-row blocks) and 2, 5: TinyCNN2D's 2048 → 10,
// the signal head 1024 → 5, and K = 1, 3, 5 (partial slots only).
TEST_P(S8KernelTest, SmallFullyConnectedHeads) {
  Rng rng(kSeed + 6);
  const int64_t shapes[][2] = {{2048, 10}, {1024, 5}, {1, 3}, {3, 1}, {5, 17}, {64, 10}};
  for (const auto& sh : shapes) {
    for (int64_t batch : {1, 2, 5}) {
      FullyConnectedS8Params p;
      p.batch = batch;
      p.in_features = sh[0];
      p.out_features = sh[1];
      p.input_zero_point = static_cast<int32_t>(rng.uniform_int(0, 255));
      p.requant = random_requantizer(rng, p.out_features, p.in_features, IntType::kU8);
      const auto x = random_values<uint8_t>(rng, batch * p.in_features, 0, 255);
      const auto w = random_values<int8_t>(rng, p.out_features * p.in_features, -127, 127);
      const auto b = random_values<int32_t>(rng, p.out_features, -5000, 5000);
      check_fc(p, {IntType::kU8, IntType::kU8}, x, w, b, WeightLayout::kOutIn,
               fmt::format("fc head N{} {}->{}", batch, p.in_features, p.out_features));
      if (HasFatalFailure()) return;
    }
  }
}

// All 255 (or −128 for s8 input, z_x at the other end) × ±127 at the accumulator bound
// K = 65536, and biases at the int32 limits (the saturating path).
TEST_P(S8KernelTest, ExtremeValuesAtTheAccumulatorBound) {
  Rng rng(kSeed + 3);
  for (int64_t wv : {127, -127, -128, 63, -63}) {
    for (Types t : {Types{IntType::kU8, IntType::kS32}, Types{IntType::kS8, IntType::kS32},
                    Types{IntType::kU8, IntType::kU8}, Types{IntType::kS8, IntType::kS8}}) {
      FullyConnectedS8Params p;
      p.batch = 2;
      p.in_features = kMaxAccumulationCount;
      p.out_features = 3;
      p.input_zero_point = t.in == IntType::kU8 ? 0 : 127;
      p.requant = Requantizer::prepare(RequantProfile::kOrt, 1.0f, std::vector<float>{1e-7f}, 1.0f,
                                       lo_of(t.out == IntType::kS32 ? t.in : t.out),
                                       lo_of(t.out == IntType::kS32 ? t.in : t.out),
                                       hi_of(t.out == IntType::kS32 ? t.in : t.out))
                      .value();
      const int32_t xv = t.in == IntType::kU8 ? 255 : -128;
      if (t.in == IntType::kU8) {
        const std::vector<uint8_t> x(static_cast<size_t>(2 * p.in_features),
                                     static_cast<uint8_t>(xv));
        check_fc(
            p, t, x,
            std::vector<int8_t>(static_cast<size_t>(3 * p.in_features), static_cast<int8_t>(wv)),
            {0, std::numeric_limits<int32_t>::max(), std::numeric_limits<int32_t>::min()},
            WeightLayout::kOutIn, fmt::format("fc extreme w {}", wv));
      } else {
        const std::vector<int8_t> x(static_cast<size_t>(2 * p.in_features),
                                    static_cast<int8_t>(xv));
        check_fc(
            p, t, x,
            std::vector<int8_t>(static_cast<size_t>(3 * p.in_features), static_cast<int8_t>(wv)),
            {0, std::numeric_limits<int32_t>::max(), std::numeric_limits<int32_t>::min()},
            WeightLayout::kOutIn, fmt::format("fc extreme w {}", wv));
      }
      if (HasFatalFailure()) return;
    }
    // A convolution at K = 4096·4·4 = 65536 with every input 255 and padding.
    ConvS8Params p;
    p.geometry = ConvGeometry::conv2d(1, 4096, 3, 3, 2, 4, 4).with_padding(1);
    p.input_zero_point = 0;
    p.requant = Requantizer::prepare(RequantProfile::kTflite, 1.0f,
                                     std::vector<float>{3e-7f, 1e-9f}, 1.0f, 0, 0, 255)
                    .value();
    const std::vector<uint8_t> x(static_cast<size_t>(p.geometry.input_numel()), 255);
    const std::vector<int8_t> w(static_cast<size_t>(p.geometry.weight_numel()),
                                static_cast<int8_t>(wv));
    check_conv(p, {IntType::kU8, IntType::kS32}, x, w, {std::numeric_limits<int32_t>::max(), -1},
               "conv extreme K = 65536 s32");
    check_conv(p, {IntType::kU8, IntType::kU8}, x, w, {-7, std::numeric_limits<int32_t>::min()},
               "conv extreme K = 65536 u8");
    if (HasFatalFailure()) return;
  }
}

// The batch given to run() is independent of the geometry's, and a prepared kernel can be
// reused for several batches.
TEST_P(S8KernelTest, OnePreparedKernelServesAnyBatch) {
  Rng rng(kSeed + 4);
  ConvS8Params p;
  p.geometry = ConvGeometry::conv2d(1, 5, 7, 9, 6, 3, 3).with_padding(1);
  p.input_zero_point = 3;
  p.requant = random_requantizer(rng, 6, 45, IntType::kU8);
  const auto w = random_values<int8_t>(rng, p.geometry.weight_numel(), -127, 127);
  Result<ConvS8Kernel> k = ConvS8Kernel::prepare(p, w, {}, IntType::kU8, IntType::kU8, choice());
  ASSERT_TRUE(k.ok()) << k.status().message();
  EXPECT_EQ(k->params().geometry.batch, 1);
  EXPECT_EQ(k->choice(), choice());
  EXPECT_FALSE(k->variant().empty());
  for (int64_t batch : {4, 1, 3}) {
    ConvS8Params pb = p;
    pb.geometry.batch = batch;
    const auto x = random_values<uint8_t>(rng, pb.geometry.input_numel(), 0, 255);
    const std::vector<std::byte> want = conv_reference(pb, IntType::kU8, x, w, {});
    std::vector<std::byte> got(want.size());
    std::vector<std::byte> scratch(k->scratch_bytes(batch));
    k->run(x.data(), got.data(), scratch.data(), batch);
    EXPECT_EQ(first_difference(want, got, IntType::kU8), -1) << "batch " << batch;
  }
}

TEST_P(S8KernelTest, BadParametersGiveAClearStatus) {
  ConvS8Params p;
  p.geometry = ConvGeometry::conv2d(1, 4, 5, 5, 6, 3, 3);
  p.requant = Requantizer::prepare(RequantProfile::kOrt, 1.0f, std::vector<float>{0.01f}, 1.0f, 0,
                                   -128, 127)
                  .value();
  const std::vector<int8_t> w(static_cast<size_t>(p.geometry.weight_numel()), 1);
  const KernelChoice c = choice();
  auto conv_error = [&](const ConvS8Params& q, std::span<const int8_t> wq,
                        std::span<const int32_t> b, IntType in, IntType out) {
    Result<ConvS8Kernel> k = ConvS8Kernel::prepare(q, wq, b, in, out, c);
    EXPECT_FALSE(k.ok());
    return k.ok() ? std::string() : std::string(k.status().message());
  };
  EXPECT_NE(
      conv_error(p, std::span(w).first(5), {}, IntType::kS8, IntType::kS8).find("weight size = 5"),
      std::string::npos);
  const std::vector<int32_t> b3(3, 0);
  EXPECT_NE(conv_error(p, w, b3, IntType::kS8, IntType::kS8).find("bias size = 3"),
            std::string::npos);
  EXPECT_NE(conv_error(p, w, {}, IntType::kS32, IntType::kS8).find("input type = s32"),
            std::string::npos);
  EXPECT_NE(conv_error(p, w, {}, IntType::kS8, IntType::kU8).find("output clamp"),
            std::string::npos);
  ConvS8Params q = p;
  q.input_zero_point = 200;
  EXPECT_NE(conv_error(q, w, {}, IntType::kS8, IntType::kS8).find("input zero point = 200"),
            std::string::npos);
  q = p;
  q.requant = Requantizer::prepare(RequantProfile::kOrt, 1.0f, std::vector<float>(4, 0.01f), 1.0f,
                                   0, -128, 127)
                  .value();
  EXPECT_NE(conv_error(q, w, {}, IntType::kS8, IntType::kS8).find("requantizer channels = 4"),
            std::string::npos);
  q = p;
  q.geometry = ConvGeometry::conv2d(1, 8192, 3, 3, 1, 3, 3);  // K = 73728 > 65536
  const std::vector<int8_t> wbig(static_cast<size_t>(q.geometry.weight_numel()), 1);
  EXPECT_NE(conv_error(q, wbig, {}, IntType::kS8, IntType::kS8).find("accumulation count"),
            std::string::npos);
  q = p;
  q.geometry.kernel_h = 9;  // larger than the unpadded input
  EXPECT_FALSE(ConvS8Kernel::prepare(q, w, {}, IntType::kS8, IntType::kS8, c).ok());

  FullyConnectedS8Params f;
  f.in_features = 10;
  f.out_features = 3;
  f.requant = p.requant;
  const std::vector<int8_t> fw(30, 1);
  Result<FullyConnectedS8Kernel> fk = FullyConnectedS8Kernel::prepare(
      f, std::span(fw).first(29), {}, WeightLayout::kInOut, IntType::kS8, IntType::kS8, c);
  ASSERT_FALSE(fk.ok());
  EXPECT_NE(fk.status().message().find("weight size = 29"), std::string::npos)
      << fk.status().message();
  f.in_features = 0;
  EXPECT_FALSE(FullyConnectedS8Kernel::prepare(f, {}, {}, WeightLayout::kOutIn, IntType::kS8,
                                               IntType::kS8, c)
                   .ok());
}

// QuantizeLinear: every tier (the AVX2 loop when available) equals the scalar loop on random
// values, exact ties (k + 0.5)·s, ±0, ±Inf, NaN, huge and denormal values, for u8 and s8 and
// lengths around the 8-lane vector (tails).
TEST(QuantizeLinearF32, AvxLoopEqualsScalarLoopOnTiesAndSpecialValues) {
  std::cout << "[ seed ] " << kSeed + 5 << "\n";
  Rng rng(kSeed + 5);
  for (IntType t : {IntType::kU8, IntType::kS8}) {
    for (int trial = 0; trial < 20; ++trial) {
      const float s = trial % 3 == 0 ? std::ldexp(1.0f, -static_cast<int>(rng.uniform_int(0, 8)))
                                     : rng.uniform(0.001f, 0.5f);
      const auto z = static_cast<int32_t>(rng.uniform_int(lo_of(t), hi_of(t)));
      const int64_t n = rng.uniform_int(0, 77);
      std::vector<float> x(static_cast<size_t>(n));
      for (auto& v : x) {
        switch (rng.uniform_int(0, 7)) {
          case 0:
            v = (static_cast<float>(rng.uniform_int(-300, 300)) + 0.5f) * s;  // ties
            break;
          case 1:
            v = std::numeric_limits<float>::quiet_NaN();
            break;
          case 2:
            v = rng.uniform_int(0, 1) == 0 ? std::numeric_limits<float>::infinity()
                                           : -std::numeric_limits<float>::infinity();
            break;
          case 3:
            v = rng.uniform_int(0, 1) == 0 ? 0.0f : -0.0f;
            break;
          case 4:
            v = rng.uniform(-3e38f, 3e38f);
            break;
          case 5:
            v = std::numeric_limits<float>::denorm_min() *
                static_cast<float>(rng.uniform_int(-9, 9));
            break;
          default:
            v = rng.uniform(-300.0f, 300.0f) * s;
            break;
        }
      }
      std::vector<int8_t> want(x.size() + 1, 0x5a), got(x.size() + 1, 0x5a);
      quantize_linear_f32_scalar(x.data(), n, s, z, t, want.data());
      for (KernelChoice c : {KernelChoice::kAuto, KernelChoice::kGeneric}) {
        quantize_linear_f32(x.data(), n, s, z, t, got.data(), c);
        EXPECT_EQ(want, got) << "trial " << trial << " n " << n << " " << int_type_name(t) << " "
                             << kernel_choice_name(c);
      }
      // The scalar loop itself: ties to even, NaN → z, clamped.
      for (size_t i = 0; i < x.size(); ++i) {
        const int32_t q = t == IntType::kU8 ? int32_t{static_cast<uint8_t>(want[i])} : want[i];
        if (std::isnan(x[i])) {
          EXPECT_EQ(q, z);
          continue;
        }
        const double r = std::nearbyint(static_cast<double>(x[i] / s)) + z;
        EXPECT_EQ(q, static_cast<int32_t>(std::clamp<double>(r, lo_of(t), hi_of(t))));
      }
    }
  }
}

TEST(S8KernelDispatch, UnavailableTierIsUnsupportedAndAutoResolves) {
  EXPECT_NE(resolve_s8_kernel_choice(KernelChoice::kAuto), KernelChoice::kAuto);
  EXPECT_TRUE(kernel_choice_available(resolve_s8_kernel_choice(KernelChoice::kAuto)));
  ConvS8Params p;
  p.geometry = ConvGeometry::conv1d(1, 2, 8, 2, 3);
  p.requant = Requantizer::prepare(RequantProfile::kOrt, 1.0f, std::vector<float>{0.01f}, 1.0f, 0,
                                   -128, 127)
                  .value();
  const std::vector<int8_t> w(12, 1);
  for (KernelChoice c : registered_s8_kernels()) {
    Result<ConvS8Kernel> k = ConvS8Kernel::prepare(p, w, {}, IntType::kS8, IntType::kS8, c);
    EXPECT_EQ(k.ok(), kernel_choice_available(c)) << kernel_choice_name(c);
    if (!k.ok()) {
      EXPECT_EQ(k.status().code(), StatusCode::kUnsupported);
    }
  }
  // FP32 kernels have no avx512vnni tier.
  EXPECT_FALSE(
      Conv2dF32::prepare(Conv2dParams{}, std::vector<float>{1.0f}, {}, KernelChoice::kAvx512Vnni)
          .ok());
}

INSTANTIATE_TEST_SUITE_P(Tiers, S8KernelTest, ::testing::ValuesIn(tier_params()),
                         [](const ::testing::TestParamInfo<TierParam>& tier) {
                           return std::string(kernel_choice_name(tier.param.choice)) +
                                  (tier.param.emulate_vnni ? "_emulated" : "");
                         });

}  // namespace
}  // namespace ei8::kernels
