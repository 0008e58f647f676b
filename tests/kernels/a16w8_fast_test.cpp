// The prepared A16W8 kernels (conv_a16.h) of every tier this CPU runs (generic, avx2, avx512,
// avx512vnni; ref as a check of the wrapper) against the reference kernels (ref/a16w8_ref.h),
// bit for bit, in all three requantization profiles: seeded random convolution shapes (1-D/2-D,
// groups, depthwise, strides, dilation, padding), a few larger layers whose K exceeds 516 (the
// int32 limit of an int16 sum, so the int64 widening is exercised), odd K, pixel panels and row
// chunks with remainders; fully connected layers with K, N and batch remainders; extreme values
// (±32767 / −32768 activations, ±127 / −128 weights), asymmetric zero points, u8/s8/s16 inputs
// and outputs; every bad-input path an error.
#include "ei8/runtime/kernels/conv_a16.h"

#include <gtest/gtest.h>

#include <climits>

#include "conv_test_support.h"
#include "ei8/core/rng.h"
#include "ei8/runtime/kernels/ref/a16w8_ref.h"

namespace ei8::kernels {
namespace {

using fixedpoint::ConvGeometry;
using fixedpoint::Requantizer;
using fixedpoint::RequantProfile;

template <class F>
void with_types(A16Type in, A16Type out, F&& f) {
  auto with_out = [&](auto ti) {
    if (out == A16Type::kU8) {
      f(ti, uint8_t{});
    } else if (out == A16Type::kS8) {
      f(ti, int8_t{});
    } else {
      f(ti, int16_t{});
    }
  };
  if (in == A16Type::kU8) {
    with_out(uint8_t{});
  } else if (in == A16Type::kS8) {
    with_out(int8_t{});
  } else {
    with_out(int16_t{});
  }
}

// How values are drawn: uniform over the type; only the extremes (min, max, −max) in random
// order; or all equal to the type's minimum (weights −128 and int16 −32768: every product the
// largest positive one, the sum the worst case for int32 — 531 of them exceed 2^31).
enum class Values { kUniform, kExtreme, kAligned };

template <typename T>
std::vector<T> random_values(Rng& rng, int64_t n, Values mode) {
  constexpr int64_t lo = std::numeric_limits<T>::min(), hi = std::numeric_limits<T>::max();
  std::vector<T> v(static_cast<size_t>(n));
  for (auto& x : v) {
    switch (mode) {
      case Values::kUniform:
        x = static_cast<T>(rng.uniform_int(lo, hi));
        break;
      case Values::kExtreme:
        x = static_cast<T>(rng.uniform_int(0, 2) == 0 ? lo : (rng.uniform_int(0, 1) ? hi : -hi));
        break;
      case Values::kAligned:
        x = static_cast<T>(lo);
        break;
    }
  }
  return v;
}

struct LayerSetup {
  A16Type in = A16Type::kS16, out = A16Type::kS16;
  int32_t zx = 0, zw = 0;
  Values values = Values::kUniform;
  bool bias = true;
};

LayerSetup random_setup(Rng& rng, int it) {
  LayerSetup s;
  const A16Type types[] = {A16Type::kU8, A16Type::kS8, A16Type::kS16};
  s.in = it % 3 == 0 ? types[rng.uniform_int(0, 2)] : A16Type::kS16;
  s.out = types[rng.uniform_int(0, 2)];
  s.values = it % 4 == 1 ? Values::kExtreme : Values::kUniform;
  s.bias = it % 5 != 2;
  if (it % 6 == 3) {
    s.zx = static_cast<int32_t>(s.in == A16Type::kU8   ? rng.uniform_int(0, 255)
                                : s.in == A16Type::kS8 ? rng.uniform_int(-128, 127)
                                                       : rng.uniform_int(-32768, 32767));
  }
  if (it % 7 == 4) s.zw = static_cast<int32_t>(rng.uniform_int(-128, 127));
  return s;
}

// The output type's range as the requantizer's clamp, its zero point inside.
std::pair<int32_t, int32_t> type_range(A16Type t) {
  return t == A16Type::kU8   ? std::pair{0, 255}
         : t == A16Type::kS8 ? std::pair{-128, 127}
                             : std::pair{-32768, 32767};
}

Requantizer random_requantizer(Rng& rng, RequantProfile prof, int64_t channels, A16Type in,
                               A16Type out, int64_t k) {
  std::vector<float> sw(static_cast<size_t>(rng.uniform_int(0, 1) ? channels : 1));
  for (auto& s : sw) s = rng.uniform(0.002f, 0.02f);
  const float sx = in == A16Type::kS16 ? rng.uniform(1e-5f, 1e-4f) : rng.uniform(0.005f, 0.05f);
  // s_y near the typical output magnitude (√K·|x|·|w|·s_x·s_w) over the output type's range, so
  // that outputs spread over the type instead of all clamping.
  const float typical = std::sqrt(static_cast<float>(k)) * (in == A16Type::kS16 ? 20000.f : 100.f) *
                        60.f * sx * 0.01f;
  const auto [lo, hi] = type_range(out);
  const float sy = typical / static_cast<float>(hi - lo) * rng.uniform(0.5f, 4.0f);
  const int32_t zy = out == A16Type::kU8 ? static_cast<int32_t>(rng.uniform_int(0, 255)) : 0;
  auto rq = Requantizer::prepare(prof, sx, sw, sy, zy, lo, hi);
  EXPECT_TRUE(rq.ok()) << rq.status().message();
  return std::move(rq).value();
}

int g_checked = 0;  // outputs compared (the tests assert it is not zero)

void check_conv(Rng& rng, const ConvGeometry& g, const LayerSetup& s, const std::string& where) {
  const auto w = [&] {
    std::vector<int8_t> v = random_values<int8_t>(rng, g.weight_numel(), s.values);
    return v;
  }();
  std::vector<int32_t> bias;
  if (s.bias) {
    bias.resize(static_cast<size_t>(g.out_channels));
    for (auto& b : bias) b = static_cast<int32_t>(rng.uniform_int(-2000000, 2000000));
  }
  with_types(s.in, s.out, [&]<typename TI, typename TO>(TI, TO) {
    const std::vector<TI> x = random_values<TI>(rng, g.input_numel(), s.values);
    for (RequantProfile prof : fixedpoint::kAllProfiles) {
      ConvS8Params p;
      p.geometry = g;
      p.input_zero_point = s.zx;
      p.weight_zero_point = s.zw;
      p.requant =
          random_requantizer(rng, prof, g.out_channels, s.in, s.out, g.accumulation_count());
      std::vector<TO> want(static_cast<size_t>(g.output_numel()));
      const Status rs = conv_a16_ref<TI, TO>(p, x, w, bias, want);
      ASSERT_TRUE(rs.ok()) << rs.message();
      for (KernelChoice c : registered_a16_kernels()) {
        if (!kernel_choice_available(c)) continue;
        // Every plan of the tier for this layer (direct and gemm where both apply).
        for (const std::string& plan : ConvA16Kernel::plan_candidates(p, c)) {
          auto k = ConvA16Kernel::prepare(p, w, bias, s.in, s.out, c, plan);
          ASSERT_TRUE(k.ok()) << k.status().message();
          ASSERT_EQ(k->variant(), plan);
          std::vector<std::byte> scratch(k->scratch_bytes(g.batch) + 1);
          std::vector<TO> got(want.size(), TO{0x55});
          // An odd scratch address: run() accepts any alignment.
          k->run(x.data(), got.data(), scratch.data() + 1, g.batch);
          ASSERT_EQ(got, want) << where << " " << k->variant() << " profile "
                               << fixedpoint::profile_name(prof) << " in " << a16_type_name(s.in)
                               << " out " << a16_type_name(s.out) << " zx " << s.zx << " zw "
                               << s.zw;
          g_checked += static_cast<int>(got.size());
        }
      }
    }
  });
}

TEST(A16W8Fast, ConvMatchesTheReferenceOnRandomShapesInEveryTierAndProfile) {
  constexpr uint64_t kSeed = 1616;
  Rng rng(kSeed);
  g_checked = 0;
  for (int it = 0; it < 90; ++it) {
    const ConvGeometry g = test::random_conv_geometry(rng, it, {.depthwise = true, .max_w = 13});
    const LayerSetup s = random_setup(rng, it);
    check_conv(rng, g, s, "seed 1616 iteration " + std::to_string(it));
    if (HasFatalFailure()) return;
  }
  EXPECT_GT(g_checked, 10000);
}

TEST(A16W8Fast, ConvWithLongKPanelAndRowRemaindersMatchesTheReference) {
  // K = 59·3·3 = 531 (odd, > 516: an int32 sum alone would wrap on aligned extremes; five blocks
  // of 128 pairs, the last partial); 64·9 = 576 per group; K = 900 on a strided 1-D layer;
  // 70 output channels per group over 9·33 = 297 pixels (a 64-row chunk + 6, a 256-pixel panel
  // + 41) on a short K. Every value mode, including the aligned worst case.
  constexpr uint64_t kSeed = 1617;
  Rng rng(kSeed);
  const ConvGeometry shapes[] = {
      ConvGeometry::conv2d(1, 59, 4, 5, 9, 3, 3).with_padding(1),
      ConvGeometry::conv2d(2, 128, 5, 6, 8, 3, 3).with_padding(1, 0, 1, 2).with_groups(2),
      ConvGeometry::conv1d(1, 300, 20, 5, 3).with_padding(0, 1, 0, 1).with_stride(1, 2),
      ConvGeometry::conv2d(1, 2, 9, 33, 70, 3, 3).with_padding(1),
  };
  int i = 0;
  for (const ConvGeometry& g : shapes) {
    for (Values v : {Values::kUniform, Values::kExtreme, Values::kAligned}) {
      LayerSetup s;
      s.values = v;
      s.out = v == Values::kUniform ? A16Type::kS8 : A16Type::kS16;
      check_conv(rng, g, s,
                 "seed 1617 shape " + std::to_string(i) + " values " +
                     std::to_string(static_cast<int>(v)));
      if (HasFatalFailure()) return;
    }
    ++i;
  }
  // Asymmetric int16 zero point and weight zero point on a long K.
  LayerSetup s;
  s.zx = 32767;
  s.zw = 127;
  s.values = Values::kAligned;
  check_conv(rng, shapes[0], s, "seed 1617 zero points");
}

void check_fc(Rng& rng, int64_t batch, int64_t k, int64_t n, const LayerSetup& s,
              const std::string& where) {
  const std::vector<int8_t> w = random_values<int8_t>(rng, k * n, s.values);
  std::vector<int32_t> bias;
  if (s.bias) {
    bias.resize(static_cast<size_t>(n));
    for (auto& b : bias) b = static_cast<int32_t>(rng.uniform_int(INT32_MIN / 2, INT32_MAX / 2));
  }
  with_types(s.in, s.out, [&]<typename TI, typename TO>(TI, TO) {
    const std::vector<TI> x = random_values<TI>(rng, batch * k, s.values);
    for (RequantProfile prof : fixedpoint::kAllProfiles) {
      FullyConnectedS8Params p;
      p.batch = batch;
      p.in_features = k;
      p.out_features = n;
      p.input_zero_point = s.zx;
      p.weight_zero_point = s.zw;
      p.requant = random_requantizer(rng, prof, n, s.in, s.out, k);
      std::vector<TO> want(static_cast<size_t>(batch * n));
      const Status rs = fully_connected_a16_ref<TI, TO>(p, x, w, true, bias, want);
      ASSERT_TRUE(rs.ok()) << rs.message();
      for (KernelChoice c : registered_a16_kernels()) {
        if (!kernel_choice_available(c)) continue;
        auto fc = FullyConnectedA16Kernel::prepare(p, w, bias, s.in, s.out, c);
        ASSERT_TRUE(fc.ok()) << fc.status().message();
        std::vector<std::byte> scratch(fc->scratch_bytes(batch) + 3);
        std::vector<TO> got(want.size(), TO{0x55});
        fc->run(x.data(), got.data(), scratch.data() + 3, batch);
        ASSERT_EQ(got, want) << where << " " << fc->variant() << " profile "
                             << fixedpoint::profile_name(prof) << " batch " << batch << " K " << k
                             << " N " << n << " in " << a16_type_name(s.in) << " out "
                             << a16_type_name(s.out) << " zx " << s.zx << " zw " << s.zw;
        g_checked += static_cast<int>(got.size());
      }
    }
  });
}

TEST(A16W8Fast, FullyConnectedMatchesTheReferenceOnRandomShapes) {
  constexpr uint64_t kSeed = 1618;
  Rng rng(kSeed);
  g_checked = 0;
  for (int it = 0; it < 60; ++it) {
    // Every 10th: long K (> 516, int64 widening); every 10th + 5: many rows and columns (a
    // 64-row chunk and a 256-column panel with remainders); every 20th + 10: aligned extremes.
    const bool long_k = it % 10 == 0, wide = it % 10 == 5;
    const int64_t batch = wide ? rng.uniform_int(65, 70) : rng.uniform_int(1, 4);
    const int64_t k = long_k ? rng.uniform_int(517, 1100) : rng.uniform_int(1, wide ? 9 : 80);
    const int64_t n = wide ? rng.uniform_int(257, 300) : rng.uniform_int(1, long_k ? 20 : 70);
    LayerSetup s = random_setup(rng, it);
    if (it % 20 == 10) s.values = Values::kAligned;
    check_fc(rng, batch, k, n, s, "seed 1618 iteration " + std::to_string(it));
    if (HasFatalFailure()) return;
  }
  EXPECT_GT(g_checked, 10000);
}

TEST(A16W8Fast, PlansAreNamedAndSelectable) {
  ConvS8Params p;
  p.geometry = ConvGeometry::conv2d(1, 3, 5, 5, 4, 3, 3);
  p.requant = Requantizer::prepare(RequantProfile::kOrt, 1e-4f, std::vector<float>{0.01f}, 0.01f, 0,
                                   -32768, 32767)
                  .value();
  const std::vector<int8_t> w(static_cast<size_t>(p.geometry.weight_numel()), 3);
  const std::vector<std::string> plans = ConvA16Kernel::plan_candidates(p);
  ASSERT_FALSE(plans.empty());
  // Unit strides and 3 input channels: the direct plan first, then gemm, per tier.
  EXPECT_NE(plans.front().find("/direct-"), std::string::npos) << plans.front();
  for (const std::string& plan : plans) {
    auto k =
        ConvA16Kernel::prepare(p, w, {}, A16Type::kS16, A16Type::kS16, KernelChoice::kAuto, plan);
    ASSERT_TRUE(k.ok()) << k.status().message();
    EXPECT_EQ(k->variant(), plan);
  }
  // The heuristic (kAuto, no plan) is the first candidate.
  auto best = ConvA16Kernel::prepare(p, w, {}, A16Type::kS16, A16Type::kS16);
  ASSERT_TRUE(best.ok());
  EXPECT_EQ(best->variant(), plans.front());
  EXPECT_EQ(ConvA16Kernel::plan_candidates(KernelChoice::kRef), std::vector<std::string>{"ref"});
  // Strided: gemm plans only; asking for direct is an error.
  ConvS8Params strided = p;
  strided.geometry = strided.geometry.with_stride(2, 1);
  for (const std::string& plan : ConvA16Kernel::plan_candidates(strided)) {
    EXPECT_NE(plan.find("/gemm-"), std::string::npos) << plan;
  }
  auto bad = ConvA16Kernel::prepare(strided, w, {}, A16Type::kS16, A16Type::kS16,
                                    KernelChoice::kAuto, "generic/direct-4x16");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("must be a gemm plan"), std::string::npos);
}

TEST(A16W8Fast, BadInputIsAnError) {
  ConvS8Params p;
  p.geometry = ConvGeometry::conv2d(1, 3, 5, 5, 4, 3, 3);
  p.requant = Requantizer::prepare(RequantProfile::kOrt, 1e-4f, std::vector<float>{0.01f}, 0.01f, 0,
                                   -32768, 32767)
                  .value();
  const std::vector<int8_t> w(static_cast<size_t>(p.geometry.weight_numel()), 3);
  auto expect_error = [](const auto& r, std::string_view text) {
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.status().message().find(text), std::string::npos) << r.status().message();
    EXPECT_EQ(r.status().message().rfind("cannot ", 0), 0u) << r.status().message();
  };
  expect_error(ConvA16Kernel::prepare(p, std::span(w).first(5), {}, A16Type::kS16, A16Type::kS16),
               "weight size = 5, must be 108");
  const std::vector<int32_t> bias(3, 0);
  expect_error(ConvA16Kernel::prepare(p, w, bias, A16Type::kS16, A16Type::kS16),
               "bias size = 3, must be 0 or 4");
  expect_error(ConvA16Kernel::prepare(p, w, {}, A16Type::kS16, A16Type::kS16, KernelChoice::kAuto,
                                      "avx9/gemm"),
               "plan = 'avx9/gemm'");
  expect_error(
      ConvA16Kernel::prepare(p, w, {}, A16Type::kS16, A16Type::kS16, KernelChoice::kGeneric, "ref"),
      "must belong to the forced tier generic");
  // The output clamp must lie inside the output type.
  expect_error(ConvA16Kernel::prepare(p, w, {}, A16Type::kS16, A16Type::kS8), "output clamp");
  ConvS8Params q = p;
  q.input_zero_point = 300;
  expect_error(ConvA16Kernel::prepare(q, w, {}, A16Type::kS8, A16Type::kS16), "input zero point");
  // tflite profiles: multipliers ≥ 2^7 have no int64 path.
  q = p;
  q.requant = Requantizer::prepare(RequantProfile::kTflite, 1.0f, std::vector<float>{1.0f}, 1e-3f,
                                   0, -32768, 32767)
                  .value();
  expect_error(ConvA16Kernel::prepare(q, w, {}, A16Type::kS16, A16Type::kS16), "multiplier");
  FullyConnectedS8Params f;
  f.in_features = 8;
  f.out_features = 2;
  f.requant = p.requant;
  expect_error(
      FullyConnectedA16Kernel::prepare(f, std::span(w).first(15), {}, A16Type::kS16, A16Type::kS16),
      "weight size = 15, must be 16");
  f.in_features = int64_t{1} << 23;
  expect_error(FullyConnectedA16Kernel::prepare(f, w, {}, A16Type::kS16, A16Type::kS16),
               "accumulation count");
  for (KernelChoice c : registered_a16_kernels()) {
    if (kernel_choice_available(c)) continue;
    auto r = ConvA16Kernel::prepare(p, w, {}, A16Type::kS16, A16Type::kS16, c);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), StatusCode::kUnsupported) << r.status().message();
  }
}

}  // namespace
}  // namespace ei8::kernels
