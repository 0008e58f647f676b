// Every FP32 pooling tier against the reference (one test body, every variant: STYLE.md 9):
// MaxPool and AveragePool (2-D and 1-D; pads, ceil_mode, dilation for max, count_include_pad,
// batch > 1), GlobalAveragePool and GlobalMaxPool. Every comparison is bit-exact (pool.h says
// why); the one documented exception, the sign of a zero GlobalMaxPool maximum held as both +0
// and −0, is kept out of the GlobalMaxPool inputs. Plus the tier and parameter checks.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "ei8/core/rng.h"
#include "ei8/runtime/kernels/pool.h"

namespace ei8::kernels {
namespace {

enum class PoolKind { kMax, kAvg, kGlobalAvg, kGlobalMax };
enum class Values { kUniform, kHostile };  // hostile: ±0, ±inf, NaN, repeated values

struct PoolCase {
  std::string name;
  PoolKind kind = PoolKind::kMax;
  Pool2dParams p;
  int64_t batch = 1;
  Values values = Values::kUniform;
};

// ONNX output size of one axis (the rule of shape inference, incl. ceil_mode's "the last
// window must start inside the input or its begin padding").
int64_t out_size(int64_t in, int64_t k, int64_t s, int64_t d, int64_t pb, int64_t pe, bool ceil) {
  const int64_t num = in + pb + pe - ((k - 1) * d + 1);
  if (num < 0) return 0;
  int64_t out = (ceil ? (num + s - 1) / s : num / s) + 1;
  if (ceil && (out - 1) * s >= in + pb) --out;
  return out;
}

// Fluent builder (STYLE.md 12): PoolTester("x", kMax).input(16, 32, 32).kernel(2, 2).stride(2)
class PoolTester {
 public:
  PoolTester(std::string name, PoolKind kind) {
    c_.name = std::move(name);
    c_.kind = kind;
  }
  PoolTester& input(int64_t c, int64_t h, int64_t w) {
    c_.p.channels = c;
    c_.p.in_h = h;
    c_.p.in_w = w;
    return *this;
  }
  PoolTester& kernel(int64_t h, int64_t w) {
    c_.p.kernel_h = h;
    c_.p.kernel_w = w;
    return *this;
  }
  PoolTester& stride(int64_t h, int64_t w) {
    c_.p.stride_h = h;
    c_.p.stride_w = w;
    return *this;
  }
  PoolTester& stride(int64_t s) { return stride(s, s); }
  PoolTester& dilation(int64_t h, int64_t w) {
    c_.p.dilation_h = h;
    c_.p.dilation_w = w;
    return *this;
  }
  PoolTester& pad(int64_t t, int64_t l, int64_t b, int64_t r) {
    c_.p.pad_top = t;
    c_.p.pad_left = l;
    c_.p.pad_bottom = b;
    c_.p.pad_right = r;
    return *this;
  }
  PoolTester& ceil_mode() {
    ceil_ = true;
    return *this;
  }
  PoolTester& include_pad() {
    c_.p.count_include_pad = true;
    return *this;
  }
  PoolTester& batch(int64_t b) {
    c_.batch = b;
    return *this;
  }
  PoolTester& hostile() {
    c_.values = Values::kHostile;
    return *this;
  }
  PoolCase build() const {
    PoolCase c = c_;
    Pool2dParams& p = c.p;
    if (c.kind == PoolKind::kGlobalAvg || c.kind == PoolKind::kGlobalMax) return c;
    p.out_h =
        out_size(p.in_h, p.kernel_h, p.stride_h, p.dilation_h, p.pad_top, p.pad_bottom, ceil_);
    p.out_w =
        out_size(p.in_w, p.kernel_w, p.stride_w, p.dilation_w, p.pad_left, p.pad_right, ceil_);
    return c;
  }
  operator PoolCase() const { return build(); }  // NOLINT: fluent builder

 private:
  PoolCase c_;
  bool ceil_ = false;
};

constexpr uint64_t kShapeSeed = 20261127;

std::vector<PoolCase> all_cases() {
  using K = PoolKind;
  std::vector<PoolCase> v = {
      // The TinyCNN2D / signal-CNN pools and their neighbours.
      PoolTester("tiny_pool1", K::kMax).input(32, 32, 32).kernel(2, 2).stride(2),
      PoolTester("tiny_pool2_b3", K::kMax).input(64, 16, 16).kernel(2, 2).stride(2).batch(3),
      PoolTester("tiny_pool3", K::kMax).input(128, 8, 8).kernel(2, 2).stride(2),
      PoolTester("max3x3s2", K::kMax).input(5, 33, 31).kernel(3, 3).stride(2),
      PoolTester("max3x3s2_pad1", K::kMax).input(3, 17, 19).kernel(3, 3).stride(2).pad(1, 1, 1, 1),
      PoolTester("max3x3s1_pad1", K::kMax).input(2, 13, 29).kernel(3, 3).stride(1).pad(1, 1, 1, 1),
      PoolTester("max2x2s2_odd_ceil", K::kMax).input(3, 17, 23).kernel(2, 2).stride(2).ceil_mode(),
      PoolTester("max2x2s2_row_left_over", K::kMax)
          .input(3, 17, 24)
          .kernel(2, 2)
          .stride(2)
          .hostile(),
      PoolTester("max1x2s12_2d", K::kMax).input(2, 5, 10).kernel(1, 2).stride(1, 2).batch(2),
      PoolTester("max2x2s2_wide", K::kMax).input(2, 6, 131).kernel(2, 2).stride(2),
      PoolTester("max2x2s2_pad", K::kMax).input(2, 9, 67).kernel(2, 2).stride(2).pad(1, 1, 0, 0),
      PoolTester("max1d_2s2", K::kMax).input(16, 1, 64).kernel(1, 2).stride(1, 2),
      PoolTester("max1d_2s2_odd", K::kMax).input(7, 1, 129).kernel(1, 2).stride(1, 2),
      PoolTester("max1d_3s2_pad", K::kMax)
          .input(5, 1, 97)
          .kernel(1, 3)
          .stride(1, 2)
          .pad(0, 1, 0, 1),
      PoolTester("max1d_5s3_ceil", K::kMax).input(3, 1, 101).kernel(1, 5).stride(1, 3).ceil_mode(),
      PoolTester("max_dil2", K::kMax).input(2, 19, 23).kernel(3, 3).stride(1).dilation(2, 2),
      PoolTester("max_dil3_pad", K::kMax)
          .input(2, 21, 17)
          .kernel(2, 3)
          .stride(2, 1)
          .dilation(3, 2)
          .pad(2, 1, 2, 3),
      PoolTester("max_k1", K::kMax).input(3, 7, 9).kernel(1, 1).stride(1),
      PoolTester("max_kernel_eq_input", K::kMax).input(4, 5, 7).kernel(5, 7).stride(1),
      // pads ≥ kernel: windows entirely in the padding (the reference's −inf).
      PoolTester("max_pad_ge_kernel", K::kMax)
          .input(2, 3, 4)
          .kernel(2, 2)
          .stride(1)
          .pad(3, 2, 3, 2),
      PoolTester("max_hostile_2x2", K::kMax).input(6, 16, 48).kernel(2, 2).stride(2).hostile(),
      PoolTester("max_hostile_3x3", K::kMax)
          .input(4, 15, 37)
          .kernel(3, 3)
          .stride(2)
          .pad(1, 1, 1, 1)
          .hostile(),
      PoolTester("max_hostile_1d", K::kMax).input(4, 1, 77).kernel(1, 3).stride(1, 1).hostile(),
      // The AVX2 3-wide stride-2 path over many 8-output vectors: ResNet-18's stem pool shape
      // (pad 1) and SqueezeNet's (pad 0, ceil_mode), hostile values.
      PoolTester("max3x3s2_resnet_hostile", K::kMax)
          .input(3, 23, 64)
          .kernel(3, 3)
          .stride(2)
          .pad(1, 1, 1, 1)
          .hostile(),
      PoolTester("max3x3s2_squeezenet_ceil_hostile", K::kMax)
          .input(2, 27, 55)
          .kernel(3, 3)
          .stride(2)
          .ceil_mode()
          .hostile(),
      // The separable max pool (stride 1 or 2 in width): GoogLeNet's 3×3/1 pad 1 ceil-mode
      // inception pools and 3×3/2 ceil-mode stems, a stride 3 in height (rows no window
      // reads), a kernel taller than wide, hostile values (ties of ±0, NaN, ±inf).
      PoolTester("max3x3s1_googlenet_ceil_hostile", K::kMax)
          .input(3, 28, 28)
          .kernel(3, 3)
          .stride(1)
          .pad(1, 1, 1, 1)
          .ceil_mode()
          .hostile(),
      PoolTester("max3x3s1_googlenet_7x7", K::kMax)
          .input(5, 7, 7)
          .kernel(3, 3)
          .stride(1)
          .pad(1, 1, 1, 1)
          .ceil_mode(),
      PoolTester("max3x3s1p1_w4_hostile", K::kMax)
          .input(4, 3, 4)
          .kernel(3, 3)
          .stride(1)
          .pad(1, 1, 1, 1)
          .hostile(),
      PoolTester("max3x3s1p1_w9_hostile", K::kMax)
          .input(3, 5, 9)
          .kernel(3, 3)
          .stride(1)
          .pad(1, 1, 1, 1)
          .batch(2)
          .hostile(),
      PoolTester("max3x3s2_googlenet_ceil", K::kMax)
          .input(2, 57, 57)
          .kernel(3, 3)
          .stride(2)
          .ceil_mode(),
      PoolTester("max5x2_s3x1_hostile", K::kMax)
          .input(2, 23, 19)
          .kernel(5, 2)
          .stride(3, 1)
          .pad(2, 0, 1, 1)
          .hostile(),
      PoolTester("max4x4s2_pad3_hostile", K::kMax)
          .input(3, 9, 13)
          .kernel(4, 4)
          .stride(2)
          .pad(3, 3, 3, 3)
          .hostile(),
      PoolTester("avg2x2s2", K::kAvg).input(32, 32, 32).kernel(2, 2).stride(2),
      PoolTester("avg3x3s1_pad", K::kAvg).input(3, 13, 17).kernel(3, 3).stride(1).pad(1, 1, 1, 1),
      PoolTester("avg3x3s1_pad_incl", K::kAvg)
          .input(3, 13, 17)
          .kernel(3, 3)
          .stride(1)
          .pad(1, 1, 1, 1)
          .include_pad(),
      PoolTester("avg3x3s2_ceil_incl", K::kAvg)
          .input(2, 14, 22)
          .kernel(3, 3)
          .stride(2)
          .pad(1, 0, 1, 1)
          .ceil_mode()
          .include_pad(),
      PoolTester("avg5x5s3_ceil", K::kAvg)
          .input(2, 23, 29)
          .kernel(5, 5)
          .stride(3)
          .pad(2, 2, 2, 2)
          .ceil_mode(),
      PoolTester("avg1d_4s4", K::kAvg).input(8, 1, 128).kernel(1, 4).stride(1, 4),
      PoolTester("avg_pad_ge_kernel", K::kAvg)
          .input(2, 3, 4)
          .kernel(2, 2)
          .stride(1)
          .pad(3, 2, 3, 2)
          .include_pad(),
      PoolTester("gavg_8x8", K::kGlobalAvg).input(128, 8, 8).batch(2),
      PoolTester("gavg_odd", K::kGlobalAvg).input(7, 5, 3),
      PoolTester("gavg_1", K::kGlobalAvg).input(3, 1, 1),
      PoolTester("gmax_8x8", K::kGlobalMax).input(64, 8, 8).batch(2),
      PoolTester("gmax_odd", K::kGlobalMax).input(5, 1, 131),
      PoolTester("gmax_hostile", K::kGlobalMax).input(9, 7, 11).hostile(),
  };
  // Random shapes: prime and 2^k ± 1 sizes, kernels 1–5, strides 1–3, pads up to kernel − 1,
  // ceil_mode, dilation (max), count_include_pad (avg), batch 1–3, 2-D and 1-D.
  Rng rng(kShapeSeed);
  const int64_t sizes[] = {1, 2, 3, 5, 7, 8, 9, 11, 13, 15, 16, 17, 23, 31, 32, 33, 37, 64, 67};
  auto pick = [&](int64_t lo, int64_t hi) { return rng.uniform_int(lo, hi); };
  for (int i = 0; i < 60; ++i) {
    const PoolKind kind = i % 2 == 0 ? K::kMax : K::kAvg;
    const bool one_d = i % 5 == 4;
    PoolTester t("random" + std::to_string(i), kind);
    const int64_t kh = one_d ? 1 : pick(1, 5), kw = pick(1, 5);
    const int64_t dh = kind == K::kMax && !one_d ? pick(1, 2) : 1;
    const int64_t dw = kind == K::kMax ? pick(1, 2) : 1;
    const int64_t eh = (kh - 1) * dh + 1, ew = (kw - 1) * dw + 1;
    int64_t h = one_d ? 1 : sizes[pick(0, 18)], w = sizes[pick(0, 18)];
    h = std::max(h, one_d ? 1 : eh);
    w = std::max(w, ew);
    const int64_t pt = one_d ? 0 : pick(0, kh - 1), pb = one_d ? 0 : pick(0, kh - 1);
    t.input(pick(1, 6), h, w)
        .kernel(kh, kw)
        .stride(one_d ? 1 : pick(1, 3), pick(1, 3))
        .dilation(dh, dw)
        .pad(pt, pick(0, kw - 1), pb, pick(0, kw - 1))
        .batch(pick(1, 3));
    if (pick(0, 1) == 1) t.ceil_mode();
    if (kind == K::kAvg && pick(0, 1) == 1) t.include_pad();
    if (kind == K::kMax && i % 7 == 0) t.hostile();
    v.push_back(t);
  }
  return v;
}

std::vector<float> make_input(Rng& rng, int64_t n, Values values, bool mixed_zero_signs) {
  std::vector<float> x(static_cast<size_t>(n));
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  const float special[] = {0.0f, -0.0f, nan, inf, -inf, 1.0f, -1.0f, 0.5f};
  for (float& v : x) {
    if (values == Values::kUniform) {
      v = rng.uniform(-2.0f, 2.0f);
    } else {
      v = special[rng.uniform_int(0, 7)];
      if (!mixed_zero_signs && v == 0.0f) v = 0.0f;  // only +0
    }
  }
  return x;
}

int64_t input_size(const PoolCase& c) { return c.batch * c.p.channels * c.p.in_h * c.p.in_w; }
int64_t output_size(const PoolCase& c) {
  const bool global = c.kind == PoolKind::kGlobalAvg || c.kind == PoolKind::kGlobalMax;
  return c.batch * c.p.channels * (global ? 1 : c.p.out_h * c.p.out_w);
}

void run_pool(KernelChoice tier, const PoolCase& c, const float* x, float* y) {
  const int64_t planes = c.batch * c.p.channels, spatial = c.p.in_h * c.p.in_w;
  switch (c.kind) {
    case PoolKind::kMax:
      return maxpool2d_f32(tier, c.p, c.batch, x, y);
    case PoolKind::kAvg:
      return avgpool2d_f32(tier, c.p, c.batch, x, y);
    case PoolKind::kGlobalAvg:
      return global_avgpool_f32(tier, planes, spatial, x, y);
    case PoolKind::kGlobalMax:
      return global_maxpool_f32(tier, planes, spatial, x, y);
  }
}

// One case on one prepared tier against the reference, bit for bit.
void check_case(KernelChoice tier, const PoolCase& c) {
  ASSERT_GT(output_size(c), 0) << c.name;
  if (c.kind != PoolKind::kGlobalAvg && c.kind != PoolKind::kGlobalMax) {
    ASSERT_TRUE(check_pool2d_params(c.p, c.batch).ok())
        << check_pool2d_params(c.p, c.batch).message();
  }
  const uint64_t seed = std::hash<std::string>{}(c.name) & 0xffffffffu;
  SCOPED_TRACE("seed " + std::to_string(seed) + ", case " + c.name);
  Rng rng(seed);
  const std::vector<float> x =
      make_input(rng, input_size(c), c.values, c.kind != PoolKind::kGlobalMax);
  std::vector<float> want(static_cast<size_t>(output_size(c)));
  run_pool(KernelChoice::kRef, c, x.data(), want.data());
  // A poisoned output: every element must be written.
  std::vector<float> got(want.size(), std::bit_cast<float>(0x7fbadbadu));
  run_pool(tier, c, x.data(), got.data());
  int64_t mismatches = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    const uint32_t gw = std::bit_cast<uint32_t>(want[i]), gg = std::bit_cast<uint32_t>(got[i]);
    if (gw != gg && ++mismatches <= 5) {
      ADD_FAILURE() << "output " << i << ": got " << got[i] << " (0x" << std::hex << gg
                    << "), want " << want[i] << " (0x" << gw << ")" << std::dec;
    }
  }
  EXPECT_EQ(mismatches, 0) << "of " << want.size() << " outputs";
}

// One test per tier running every case (a ctest process per case made the sanitizer run of
// this suite ~40× slower than its work).
class PoolF32Variants : public ::testing::TestWithParam<KernelChoice> {};

TEST_P(PoolF32Variants, MatchesReferenceBitExactOnEveryCase) {
  const KernelChoice choice = GetParam();
  if (!kernel_choice_available(choice)) {
    GTEST_SKIP() << "variant " << kernel_choice_name(choice) << " needs an ISA this CPU lacks";
  }
  Result<KernelChoice> tier = prepare_pool_tier(choice);
  ASSERT_TRUE(tier.ok()) << tier.status().message();
  EXPECT_EQ(*tier, choice);
  const std::vector<PoolCase> cases = all_cases();
  RecordProperty("cases", static_cast<int>(cases.size()));
  for (const PoolCase& c : cases) check_case(*tier, c);
}

INSTANTIATE_TEST_SUITE_P(AllTiers, PoolF32Variants, ::testing::ValuesIn(registered_pool_kernels()),
                         [](const ::testing::TestParamInfo<KernelChoice>& tp) {
                           return std::string(kernel_choice_name(tp.param));
                         });

// --- The reference against hand-derived values, and the checks -----------------------------

TEST(PoolF32, MaxAndAverageOfAHandMadeImage) {
  // 1×3×4 image 0..11, 2×2 windows stride 2 with pad_bottom 1 (out 2×2): the
  // last row of windows sees only row 2. Max: {5, 7, 9, 11}; average (inputs only):
  // {(0+1+4+5)/4, (2+3+6+7)/4, (8+9)/2, (10+11)/2}.
  Pool2dParams p;
  p.in_h = 3;
  p.in_w = 4;
  p.out_h = 2;
  p.out_w = 2;
  p.kernel_h = p.kernel_w = p.stride_h = p.stride_w = 2;
  p.pad_bottom = 1;
  std::vector<float> x(12);
  for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(i);
  for (KernelChoice tier : registered_pool_kernels()) {
    if (!kernel_choice_available(tier)) continue;
    SCOPED_TRACE(std::string(kernel_choice_name(tier)));
    std::vector<float> y(4);
    maxpool2d_f32(tier, p, 1, x.data(), y.data());
    EXPECT_EQ(y, (std::vector<float>{5, 7, 9, 11}));
    avgpool2d_f32(tier, p, 1, x.data(), y.data());
    EXPECT_EQ(y, (std::vector<float>{2.5f, 4.5f, 8.5f, 10.5f}));
    p.count_include_pad = true;  // the last row of windows now divides by 4
    avgpool2d_f32(tier, p, 1, x.data(), y.data());
    EXPECT_EQ(y, (std::vector<float>{2.5f, 4.5f, 4.25f, 5.25f}));
    p.count_include_pad = false;
  }
}

TEST(PoolF32, TierChoiceAndBadParameters) {
  Result<KernelChoice> a = prepare_pool_tier(KernelChoice::kAuto);
  ASSERT_TRUE(a.ok());
  EXPECT_NE(*a, KernelChoice::kRef);
  EXPECT_TRUE(kernel_choice_available(*a));
  for (KernelChoice c : registered_pool_kernels()) {
    Result<KernelChoice> t = prepare_pool_tier(c);
    EXPECT_EQ(t.ok(), kernel_choice_available(c)) << kernel_choice_name(c);
    if (!t.ok()) {
      EXPECT_EQ(t.status().code(), StatusCode::kUnsupported);
    }
  }
  // The executor may force the INT8 VNNI tier: pooling then runs its AVX2 code.
  Result<KernelChoice> vnni = prepare_pool_tier(KernelChoice::kAvx512Vnni);
  EXPECT_EQ(vnni.ok(), kernel_choice_available(KernelChoice::kAvx512Vnni));
  if (vnni.ok()) {
    EXPECT_EQ(*vnni, KernelChoice::kAvx2);
  }

  Pool2dParams p;
  EXPECT_TRUE(check_pool2d_params(p, 1).ok());
  p.stride_w = 0;
  Status s = check_pool2d_params(p, 1);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "cannot prepare pool: stride_w = 0, must be in [1, 2^31)");
  p = {};
  p.pad_left = -1;
  EXPECT_EQ(check_pool2d_params(p, 1).message(),
            "cannot prepare pool: pad_left = -1, must be in [0, 2^31)");
  p = {};
  p.out_h = 0;
  EXPECT_FALSE(check_pool2d_params(p, 1).ok());
  p = {};
  p.channels = int64_t{1} << 20;
  p.in_h = p.in_w = int64_t{1} << 11;
  EXPECT_FALSE(check_pool2d_params(p, 1).ok());  // 2^42 elements
  p = {};
  p.channels = int64_t{1} << 30;
  EXPECT_FALSE(check_pool2d_params(p, int64_t{1} << 30).ok());  // 2^60 elements: no overflow
  EXPECT_EQ(check_pool2d_params(p, 0).message(),
            "cannot prepare pool: batch = 0, must be in [1, 2^31)");
  // The (dilated) window must fit the padded input.
  p = {};
  p.kernel_w = 2;
  EXPECT_EQ(check_pool2d_params(p, 1).message(),
            "cannot prepare pool: kernel_w = 2 (dilated: 2), must be ≤ in_w + pads = 1");
  p.pad_right = 1;
  EXPECT_TRUE(check_pool2d_params(p, 1).ok());
  p.dilation_w = 2;
  EXPECT_EQ(check_pool2d_params(p, 1).message(),
            "cannot prepare pool: kernel_w = 2 (dilated: 3), must be ≤ in_w + pads = 2");
}

}  // namespace
}  // namespace ei8::kernels
