// Every u8/s8 pooling tier against the INT8 references maxpool_s8_ref / avgpool_s8_ref (one
// test body, every variant: STYLE.md 9), bit-exact: MaxPool and AveragePool (2-D, 1-D,
// global) with pads, ceil_mode, count_include_pad, batch > 1, every requantization profile,
// random codes and the type extremes. Plus the parameter checks.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "ei8/core/rng.h"
#include "ei8/fixedpoint/requantize.h"
#include "ei8/runtime/kernels/pool.h"

namespace ei8::kernels {
namespace {

using fixedpoint::Requantizer;
using fixedpoint::RequantProfile;

enum class Codes { kUniform, kExtremes, kNarrow };  // extremes: only min/max codes

struct PoolS8Case {
  std::string name;
  bool avg = false;
  bool is_signed = false;
  Pool2dParams p;
  int64_t batch = 1;
  Codes codes = Codes::kUniform;
  RequantProfile profile = RequantProfile::kOrt;
  bool equal_scales = false;  // s_x = s_y: M = 1/count, exact halves (rounding ties)
};

int64_t out_size(int64_t in, int64_t k, int64_t s, int64_t pb, int64_t pe, bool ceil) {
  const int64_t num = in + pb + pe - k;
  int64_t out = (ceil ? (num + s - 1) / s : num / s) + 1;
  if (ceil && (out - 1) * s >= in + pb) --out;
  return out;
}

// Fluent builder (STYLE.md 12): PoolS8Tester("x").avg().s8().input(2, 16, 9, 9).kernel(3, 3)
class PoolS8Tester {
 public:
  explicit PoolS8Tester(std::string name) { c_.name = std::move(name); }
  PoolS8Tester& avg() {
    c_.avg = true;
    return *this;
  }
  PoolS8Tester& s8() {
    c_.is_signed = true;
    return *this;
  }
  PoolS8Tester& input(int64_t n, int64_t c, int64_t h, int64_t w) {
    c_.batch = n;
    c_.p.channels = c;
    c_.p.in_h = h;
    c_.p.in_w = w;
    return *this;
  }
  PoolS8Tester& kernel(int64_t h, int64_t w) {
    c_.p.kernel_h = h;
    c_.p.kernel_w = w;
    return *this;
  }
  PoolS8Tester& global() { return kernel(c_.p.in_h, c_.p.in_w); }
  PoolS8Tester& stride(int64_t h, int64_t w) {
    c_.p.stride_h = h;
    c_.p.stride_w = w;
    return *this;
  }
  PoolS8Tester& pad(int64_t t, int64_t l, int64_t b, int64_t r) {
    c_.p.pad_top = t;
    c_.p.pad_left = l;
    c_.p.pad_bottom = b;
    c_.p.pad_right = r;
    return *this;
  }
  PoolS8Tester& ceil_mode() {
    ceil_ = true;
    return *this;
  }
  PoolS8Tester& include_pad() {
    c_.p.count_include_pad = true;
    return *this;
  }
  PoolS8Tester& codes(Codes k) {
    c_.codes = k;
    return *this;
  }
  PoolS8Tester& equal_scales() {
    c_.equal_scales = true;
    return *this;
  }
  PoolS8Tester& profile(RequantProfile r) {
    c_.profile = r;
    return *this;
  }
  operator PoolS8Case() const {  // NOLINT: fluent builder
    PoolS8Case c = c_;
    Pool2dParams& p = c.p;
    p.out_h = out_size(p.in_h, p.kernel_h, p.stride_h, p.pad_top, p.pad_bottom, ceil_);
    p.out_w = out_size(p.in_w, p.kernel_w, p.stride_w, p.pad_left, p.pad_right, ceil_);
    return c;
  }

 private:
  PoolS8Case c_;
  bool ceil_ = false;
};

std::vector<PoolS8Case> all_cases() {
  using T = PoolS8Tester;
  std::vector<PoolS8Case> v = {
      T("tiny_pool1_u8").input(1, 32, 32, 32).kernel(2, 2).stride(2, 2),
      T("tiny_pool2_u8_b2").input(2, 64, 16, 16).kernel(2, 2).stride(2, 2),
      T("tiny_pool3_s8").s8().input(1, 128, 8, 8).kernel(2, 2).stride(2, 2),
      // 2×2/2 with rows of 4 and 8 outputs (AVX2 combine_row_pairs_bytes), remainder rows.
      T("max2x2s2_w8_tail_u8").input(1, 3, 6, 8).kernel(2, 2).stride(2, 2),
      T("max2x2s2_w16_tail_s8").s8().input(1, 5, 2, 16).kernel(2, 2).stride(2, 2),
      T("max2x2s2_w8_extremes_s8")
          .s8()
          .input(3, 7, 8, 8)
          .kernel(2, 2)
          .stride(2, 2)
          .codes(Codes::kExtremes),
      T("max2x2s2_row_left_over_u8").input(2, 3, 17, 24).kernel(2, 2).stride(2, 2),
      T("max1x2s12_2d_s8").s8().input(2, 2, 5, 70).kernel(1, 2).stride(1, 2),
      T("max2x2s2_wide_s8").s8().input(1, 3, 5, 131).kernel(2, 2).stride(2, 2),
      T("max2x2s2_extremes_u8")
          .input(1, 4, 12, 70)
          .kernel(2, 2)
          .stride(2, 2)
          .codes(Codes::kExtremes),
      T("max2x2s2_extremes_s8")
          .s8()
          .input(1, 4, 12, 70)
          .kernel(2, 2)
          .stride(2, 2)
          .codes(Codes::kExtremes),
      T("max2x2s2_pad_ceil_s8")
          .s8()
          .input(1, 3, 17, 67)
          .kernel(2, 2)
          .stride(2, 2)
          .pad(1, 1, 0, 0)
          .ceil_mode(),
      T("max3x3s2_u8").input(1, 5, 33, 31).kernel(3, 3).stride(2, 2),
      T("max3x3s2_pad_s8").s8().input(2, 3, 17, 19).kernel(3, 3).stride(2, 2).pad(1, 1, 1, 1),
      // The 224×224 models' 3×3/2 pools (SqueezeNet 1.1 ceil, ResNet-18 pad 1) and wide rows
      // with extreme codes: the AVX2 byte path's 32-output steps and their tails.
      T("max3x3s2_squeeze_ceil_u8").input(1, 3, 111, 111).kernel(3, 3).stride(2, 2).ceil_mode(),
      T("max3x3s2_resnet_pad_s8")
          .s8()
          .input(2, 2, 112, 112)
          .kernel(3, 3)
          .stride(2, 2)
          .pad(1, 1, 1, 1),
      T("max3x3s2_27wide_u8").input(1, 4, 9, 55).kernel(3, 3).stride(2, 2).ceil_mode(),
      T("max3x3s2_14wide_s8").s8().input(1, 4, 9, 29).kernel(3, 3).stride(2, 2),
      T("max3x3s2_13wide_ceil_u8").input(1, 4, 7, 27).kernel(3, 3).stride(2, 2).ceil_mode(),
      T("max3x3s2_9wide_s8")
          .s8()
          .input(1, 3, 5, 19)
          .kernel(3, 3)
          .stride(2, 2)
          .codes(Codes::kExtremes),
      T("max3x3s2_wide_extremes_u8")
          .input(1, 2, 5, 140)
          .kernel(3, 3)
          .stride(2, 2)
          .codes(Codes::kExtremes),
      T("max3x3s2_wide_extremes_s8")
          .s8()
          .input(1, 2, 5, 141)
          .kernel(3, 3)
          .stride(2, 2)
          .pad(0, 1, 0, 1)
          .codes(Codes::kExtremes),
      // Stride 1 with the output the input's size (pool_tiles.h max_pool_same_bytes): the
      // GoogLeNet inception pools (3×3/1 pad 1, ceil_mode) at 28, 14 and 7 wide, asymmetric
      // pads, 1-wide and 1-high planes, wide kernels; a plane above its 8192-byte limit.
      T("same3x3s1p1_28_ceil_u8").input(1, 6, 28, 28).kernel(3, 3).pad(1, 1, 1, 1).ceil_mode(),
      T("same3x3s1p1_14_s8").s8().input(2, 5, 14, 14).kernel(3, 3).pad(1, 1, 1, 1),
      T("same3x3s1p1_7_extremes_u8")
          .input(1, 9, 7, 7)
          .kernel(3, 3)
          .pad(1, 1, 1, 1)
          .codes(Codes::kExtremes),
      T("same3x3s1p1_extremes_s8")
          .s8()
          .input(1, 4, 13, 45)
          .kernel(3, 3)
          .pad(1, 1, 1, 1)
          .codes(Codes::kExtremes),
      T("same3x3s1p1_narrow_u8")
          .input(1, 3, 9, 33)
          .kernel(3, 3)
          .pad(1, 1, 1, 1)
          .codes(Codes::kNarrow),
      T("same2x2s1_asym_s8").s8().input(1, 3, 9, 33).kernel(2, 2).pad(0, 0, 1, 1),
      T("same2x2s1_asym_left_u8").input(2, 2, 6, 31).kernel(2, 2).pad(1, 1, 0, 0),
      T("same4x3s1_asym_u8").input(1, 3, 11, 17).kernel(4, 3).pad(2, 0, 1, 2),
      T("same5x5s1p2_s8").s8().input(1, 2, 40, 37).kernel(5, 5).pad(2, 2, 2, 2),
      T("same3x3s1p1_1wide_u8").input(1, 3, 11, 1).kernel(3, 3).pad(1, 1, 1, 1),
      T("same3x3s1p1_1high_s8").s8().input(1, 3, 1, 70).kernel(3, 3).pad(1, 1, 1, 1),
      T("same3x3s1p1_big_plane_u8").input(1, 2, 91, 91).kernel(3, 3).pad(1, 1, 1, 1),
      // GoogLeNet's strided ceil_mode pools through the sampled flat path (3×3/2 at 56, 28 and
      // 14 wide, 2×2/2 at 14), stride 2 in one dimension only, and anchors at the last row.
      T("flat3x3s2_ceil_56_u8").input(1, 2, 56, 56).kernel(3, 3).stride(2, 2).ceil_mode(),
      T("flat3x3s2_ceil_28_s8").s8().input(2, 3, 28, 28).kernel(3, 3).stride(2, 2).ceil_mode(),
      T("flat3x3s2_ceil_14_extremes_u8")
          .input(1, 5, 14, 14)
          .kernel(3, 3)
          .stride(2, 2)
          .ceil_mode()
          .codes(Codes::kExtremes),
      T("flat2x2s2_ceil_14_s8").s8().input(1, 6, 14, 14).kernel(2, 2).stride(2, 2).ceil_mode(),
      T("flat3x3s12_pad_u8").input(1, 3, 17, 40).kernel(3, 3).stride(1, 2).pad(1, 1, 1, 0),
      T("flat3x2s31_ceil_s8").s8().input(1, 2, 19, 23).kernel(3, 2).stride(3, 1).ceil_mode(),
      T("max1d_2s2_u8").input(1, 16, 1, 128).kernel(1, 2).stride(1, 2),
      T("max1d_2s2_odd_s8").s8().input(3, 7, 1, 129).kernel(1, 2).stride(1, 2),
      T("max1d_3s1_pad_u8").input(1, 5, 1, 97).kernel(1, 3).stride(1, 1).pad(0, 1, 0, 1),
      T("max_pad_ge_kernel_u8").input(1, 2, 3, 4).kernel(2, 2).stride(1, 1).pad(3, 2, 3, 2),
      T("max_pad_ge_kernel_s8").s8().input(1, 2, 3, 4).kernel(2, 2).stride(1, 1).pad(3, 2, 3, 2),
      T("avg2x2s2_u8").avg().input(1, 32, 32, 32).kernel(2, 2).stride(2, 2),
      T("avg3x3s1_pad_s8").avg().s8().input(1, 3, 13, 17).kernel(3, 3).stride(1, 1).pad(1, 1, 1, 1),
      T("avg3x3s1_pad_incl_u8")
          .avg()
          .input(1, 3, 13, 17)
          .kernel(3, 3)
          .stride(1, 1)
          .pad(1, 1, 1, 1)
          .include_pad(),
      T("avg3x3s2_ceil_incl_s8")
          .avg()
          .s8()
          .input(2, 2, 14, 22)
          .kernel(3, 3)
          .stride(2, 2)
          .pad(1, 0, 1, 1)
          .ceil_mode()
          .include_pad(),
      T("avg5x5s3_ceil_tflite_u8")
          .avg()
          .input(1, 2, 23, 29)
          .kernel(5, 5)
          .stride(3, 3)
          .pad(2, 2, 2, 2)
          .ceil_mode()
          .profile(RequantProfile::kTflite),
      T("avg_extremes_s8")
          .avg()
          .s8()
          .input(1, 3, 11, 13)
          .kernel(3, 3)
          .stride(1, 1)
          .pad(1, 1, 1, 1)
          .codes(Codes::kExtremes),
      T("avg_extremes_u8_single")
          .avg()
          .input(1, 3, 11, 13)
          .kernel(2, 3)
          .stride(1, 2)
          .codes(Codes::kExtremes)
          .profile(RequantProfile::kTfliteSingle),
      T("avg_pad_ge_kernel_incl_u8")
          .avg()
          .input(1, 2, 3, 4)
          .kernel(2, 2)
          .stride(1, 1)
          .pad(3, 2, 3, 2)
          .include_pad(),
      T("avg2x2_ties_ort_u8").avg().input(1, 4, 16, 16).kernel(2, 2).stride(1, 1).equal_scales(),
      T("avg1x2_ties_ort_s8")
          .avg()
          .s8()
          .input(2, 3, 5, 33)
          .kernel(1, 2)
          .stride(1, 1)
          .pad(0, 1, 0, 1)
          .equal_scales(),
      T("avg2x2_ties_tflite_s8")
          .avg()
          .s8()
          .input(1, 4, 16, 16)
          .kernel(2, 2)
          .stride(1, 1)
          .equal_scales()
          .profile(RequantProfile::kTflite),
      T("avg1d_4s4_s8").avg().s8().input(2, 8, 1, 128).kernel(1, 4).stride(1, 4),
      T("gavg_8x8_u8").avg().input(2, 128, 8, 8).global(),
      T("gavg_odd_s8").avg().s8().input(1, 7, 5, 3).global().codes(Codes::kExtremes),
      T("gavg_1d_u8").avg().input(1, 5, 1, 131).global(),
  };
  // Random shapes: prime and 2^k ± 1 sizes, kernels 1–5, strides 1–3, pads up to kernel − 1,
  // ceil_mode, count_include_pad, batch 1–3, 2-D and 1-D, u8 and s8, every profile.
  Rng rng(20261127);
  const int64_t sizes[] = {1, 2, 3, 5, 7, 8, 9, 11, 13, 15, 16, 17, 23, 31, 32, 33, 37, 64, 67};
  auto pick = [&](int64_t lo, int64_t hi) { return rng.uniform_int(lo, hi); };
  const RequantProfile profiles[] = {RequantProfile::kOrt, RequantProfile::kTflite,
                                     RequantProfile::kTfliteSingle};
  for (int i = 0; i < 64; ++i) {
    const bool one_d = i % 5 == 4;
    T t("random" + std::to_string(i) + (i % 4 < 2 ? "_u8" : "_s8"));
    if (i % 2 == 1) t.avg();
    if (i % 4 >= 2) t.s8();
    const int64_t kh = one_d ? 1 : pick(1, 5), kw = pick(1, 5);
    const int64_t h = one_d ? 1 : std::max(kh, sizes[pick(0, 18)]);
    const int64_t w = std::max(kw, sizes[pick(0, 18)]);
    t.input(pick(1, 3), pick(1, 6), h, w)
        .kernel(kh, kw)
        .stride(one_d ? 1 : pick(1, 3), pick(1, 3))
        .pad(one_d ? 0 : pick(0, kh - 1), pick(0, kw - 1), one_d ? 0 : pick(0, kh - 1),
             pick(0, kw - 1))
        .profile(profiles[pick(0, 2)]);
    if (pick(0, 1) == 1) t.ceil_mode();
    if (pick(0, 1) == 1) t.include_pad();
    if (i % 9 == 0) t.codes(Codes::kExtremes);
    if (i % 9 == 5) t.codes(Codes::kNarrow);
    if (i % 3 == 1) t.equal_scales();
    v.push_back(t);
  }
  // Random global averages (the tiers' plane sums: 32- and 8-byte steps, byte tails): planes of
  // 1..200 values, up to 600 planes (several 256-plane blocks), extreme codes every third.
  for (int i = 0; i < 16; ++i) {
    T t("gavg_random" + std::to_string(i) + (i % 2 == 0 ? "_u8" : "_s8"));
    t.avg();
    if (i % 2 == 1) t.s8();
    const bool one_d = i % 4 >= 2;
    const int64_t h = one_d ? 1 : pick(1, 14), w = one_d ? pick(1, 200) : sizes[pick(0, 18)];
    t.input(pick(1, 4), pick(1, 150), h, w).global().profile(profiles[pick(0, 2)]);
    if (i % 3 == 0) t.codes(Codes::kExtremes);
    v.push_back(t);
  }
  return v;
}

template <typename T>
std::vector<T> make_codes(Rng& rng, int64_t n, Codes codes) {
  constexpr int64_t lo = std::numeric_limits<T>::min(), hi = std::numeric_limits<T>::max();
  std::vector<T> x(static_cast<size_t>(n));
  for (T& v : x) {
    switch (codes) {
      case Codes::kUniform:
        v = static_cast<T>(rng.uniform_int(lo, hi));
        break;
      case Codes::kExtremes:
        v = static_cast<T>(rng.uniform_int(0, 1) == 1 ? hi : lo);
        break;
      case Codes::kNarrow:  // many ties
        v = static_cast<T>(rng.uniform_int(lo + 100, lo + 103));
        break;
    }
  }
  return x;
}

// The requantizers of an AveragePool as QAvgPoolOp derives them: M = s_x / (s_y · count).
std::vector<Requantizer> requantizers(const PoolS8Case& c, int32_t zy) {
  const int32_t qmin = c.is_signed ? -128 : 0, qmax = c.is_signed ? 127 : 255;
  const float sx = 0.0173f, sy = c.equal_scales ? sx : 0.0091f;
  std::vector<Requantizer> out;
  for (int64_t n = 1; n <= c.p.kernel_h * c.p.kernel_w; ++n) {
    const float m = sx / (sy * static_cast<float>(n));
    auto rq = Requantizer::from_multiplier(c.profile, static_cast<double>(m), zy, qmin, qmax);
    EXPECT_TRUE(rq.ok()) << rq.status().message();
    out.push_back(std::move(rq).value());
  }
  return out;
}

class PoolS8Variants : public ::testing::TestWithParam<KernelChoice> {
 protected:
  template <typename T>
  void check(KernelChoice tier, const PoolS8Case& c, Rng& rng) {
    const Pool2dParams& p = c.p;
    const int64_t n_in = c.batch * p.channels * p.in_h * p.in_w;
    const int64_t n_out = c.batch * p.channels * p.out_h * p.out_w;
    ASSERT_GT(n_out, 0);
    const std::vector<T> x = make_codes<T>(rng, n_in, c.codes);
    std::vector<T> want(static_cast<size_t>(n_out));
    std::vector<T> got(want.size(), static_cast<T>(0x5a));  // poisoned: all outputs written
    if (c.avg) {
      const int32_t zx = static_cast<int32_t>(
          rng.uniform_int(std::numeric_limits<T>::min(), std::numeric_limits<T>::max()));
      const int32_t zy = c.is_signed ? 3 : 131;
      const std::vector<Requantizer> rq = requantizers(c, zy);
      SCOPED_TRACE("z_x " + std::to_string(zx));
      avgpool_s8_ref<T>(p, c.batch, zx, rq, x.data(), want.data());
      avgpool_s8<T>(tier, p, c.batch, zx, rq, x.data(), got.data());
    } else {
      maxpool_s8_ref<T>(p, c.batch, x.data(), want.data());
      maxpool_s8<T>(tier, p, c.batch, x.data(), got.data());
    }
    int64_t mismatches = 0;
    for (size_t i = 0; i < want.size(); ++i) {
      if (want[i] != got[i] && ++mismatches <= 5) {
        ADD_FAILURE() << "output " << i << ": got " << int{got[i]} << ", want " << int{want[i]};
      }
    }
    EXPECT_EQ(mismatches, 0) << "of " << want.size() << " outputs";
  }
};

// One test per tier running every case (a ctest process per case made the sanitizer run of
// this suite ~40× slower than its work).
TEST_P(PoolS8Variants, MatchesReferenceBitExactOnEveryCase) {
  const KernelChoice choice = GetParam();
  if (!kernel_choice_available(choice)) {
    GTEST_SKIP() << "tier " << kernel_choice_name(choice) << " needs an ISA this CPU lacks";
  }
  Result<KernelChoice> tier = prepare_pool_tier(choice);
  ASSERT_TRUE(tier.ok()) << tier.status().message();
  const std::vector<PoolS8Case> cases = all_cases();
  RecordProperty("cases", static_cast<int>(cases.size()));
  for (const PoolS8Case& c : cases) {
    ASSERT_TRUE(check_pool_s8_params(c.p, c.batch).ok())
        << c.name << ": " << check_pool_s8_params(c.p, c.batch).message();
    const uint64_t seed = std::hash<std::string>{}(c.name) & 0xffffffffu;
    SCOPED_TRACE("seed " + std::to_string(seed) + ", case " + c.name);
    Rng rng(seed);
    if (c.is_signed) {
      check<int8_t>(*tier, c, rng);
    } else {
      check<uint8_t>(*tier, c, rng);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(AllTiers, PoolS8Variants, ::testing::ValuesIn(registered_pool_kernels()),
                         [](const ::testing::TestParamInfo<KernelChoice>& tp) {
                           return std::string(kernel_choice_name(tp.param));
                         });

TEST(PoolS8, MaxOfHandMadeCodesAndBadParameters) {
  // 1×2×4 s8 codes, 2×2 windows stride 2: max of {−128, 127, −1, 0} and {5, −7, 6, −128}.
  Pool2dParams p;
  p.in_h = 2;
  p.in_w = 4;
  p.out_h = 1;
  p.out_w = 2;
  p.kernel_h = p.kernel_w = p.stride_h = p.stride_w = 2;
  const std::vector<int8_t> x = {-128, 127, 5, -7, -1, 0, 6, -128};
  for (KernelChoice tier : registered_pool_kernels()) {
    if (!kernel_choice_available(tier)) continue;
    std::vector<int8_t> y(2);
    maxpool_s8<int8_t>(tier, p, 1, x.data(), y.data());
    EXPECT_EQ(y, (std::vector<int8_t>{127, 6})) << kernel_choice_name(tier);
  }
  EXPECT_TRUE(check_pool_s8_params(p, 1).ok());
  p.stride_h = 0;
  EXPECT_EQ(check_pool_s8_params(p, 1).message(),
            "cannot prepare pool: stride_h = 0, must be in [1, 2^31)");
  p.stride_h = 2;
  p.kernel_w = 9;  // larger than the input: no output column
  EXPECT_EQ(check_pool_s8_params(p, 1).code(), StatusCode::kInvalidArgument);
  p.kernel_w = 2;
  EXPECT_EQ(check_pool_s8_params(p, 0).message(),
            "cannot prepare pool: batch = 0, must be in [1, 2^31)");
  // No dilation in the u8/s8 pools (the FP32 MaxPool has it: the same geometry passes there).
  p.kernel_w = 1;
  p.out_w = 4;
  p.stride_w = 1;
  p.dilation_h = 2;  // the 2-tall window then spans 3 rows:
  p.pad_bottom = 1;  // in_h + pad_bottom
  EXPECT_TRUE(check_pool2d_params(p, 1).ok()) << check_pool2d_params(p, 1).message();
  const Status s = check_pool_s8_params(p, 1);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "cannot prepare pool: dilation_h = 2, must be 1 for u8/s8 pooling");
  p.dilation_h = 1;
  p.dilation_w = 3;
  EXPECT_TRUE(check_pool2d_params(p, 1).ok()) << check_pool2d_params(p, 1).message();
  EXPECT_EQ(check_pool_s8_params(p, 1).message(),
            "cannot prepare pool: dilation_w = 3, must be 1 for u8/s8 pooling");
}

}  // namespace
}  // namespace ei8::kernels
