// Every FP32 Gemm tier against the reference (one test body, every variant), the reference
// against hand-derived values, and the bad-input paths.
#include <gtest/gtest.h>

#include <cmath>
#include <iostream>
#include <limits>
#include <string>
#include <vector>

#include "ei8/core/rng.h"
#include "ei8/runtime/kernels/gemm_f32.h"
#include "f32_tolerance.h"

namespace ei8::kernels {
namespace {

using testing::expect_close;

struct GemmCase {
  std::string name;
  GemmParams p;
  std::vector<int64_t> ms{1};  // M per run of one prepared object (the batch)
};

GemmCase make(std::string name, int64_t n, int64_t k, std::vector<int64_t> ms, bool ta = false,
              bool tb = false, GemmC c = GemmC::kRow, float alpha = 1, float beta = 1,
              Activation act = {}) {
  GemmCase g;
  g.name = std::move(name);
  g.p.n = n;
  g.p.k = k;
  g.p.trans_a = ta;
  g.p.trans_b = tb;
  g.p.c_shape = c;
  g.p.alpha = alpha;
  g.p.beta = beta;
  g.p.act = act;
  g.ms = std::move(ms);
  return g;
}

std::vector<GemmCase> all_cases() {
  std::vector<GemmCase> c = {
      make("resnet_fc", 10, 32, {1, 32}, false, true),
      make("signal_fc", 5, 64, {1, 32}, false, true),
      make("matmul_plain", 24, 24, {4, 5}, false, false, GemmC::kNone),
      make("n1_k1", 1, 1, {1, 3}),
      make("n7_k3", 7, 3, {2, 7}, true, false, GemmC::kScalar, 0.5f, 2.0f),
      make("n8", 8, 9, {8, 9}, false, false, GemmC::kRow, 1, 1, Activation::relu()),
      make("n9", 9, 8, {1, 4, 5}, true, true, GemmC::kRow, -1.5f, 0.25f),
      make("n15", 15, 17, {3}, false, true, GemmC::kNone, 1, 1, Activation::clip(-0.5f, 0.5f)),
      make("n16", 16, 31, {6}),
      make("n17", 17, 33, {7}, true, false, GemmC::kRow, 1, 1, Activation::leaky_relu(0.01f)),
      make("n23", 23, 64, {2}),
      make("n24", 24, 65, {13}, false, true),
      make("n25", 25, 127, {4}),
      make("n33", 33, 129, {3, 1}, true, true, GemmC::kScalar),
      make("n49", 49, 257, {11}),
      // The AVX-512 tier: panels of 16·NV columns (N 31, 32, 47, 48, 97 around 16/32/48), row
      // blocks of 8 (M 7, 8, 9, 15, 17), and an ImageNet-style classifier at batch 1.
      make("z_n31_m8", 31, 20, {8, 9}, false, true),
      make("z_n32_m7", 32, 19, {7, 15}),
      make("z_n47_m17", 47, 40, {17}, true, false, GemmC::kScalar, 0.75f, -1.0f),
      make("z_n48", 48, 33, {1, 16}, false, true, GemmC::kRow, 1, 1, Activation::relu()),
      make("z_n97", 97, 50, {3, 8}, true, true, GemmC::kNone, 1, 1, Activation::leaky_relu(0.2f)),
      make("classifier_1000x512", 1000, 512, {1, 2}, false, true),
      // K·N ≥ 2^16: the AVX-512 tier's 16-lane kernel (smaller products run its 8-lane one).
      make("z16_n47_k1400", 47, 1400, {1, 9}, false, true),
      make("z16_n97_k700", 97, 700, {3, 8, 17}, false, false, GemmC::kScalar, 0.5f, 2.0f,
           Activation::relu()),
      make("z16_n33_k2000", 33, 2000, {2, 7}, true, true, GemmC::kNone, 1, 1,
           Activation::leaky_relu(0.1f)),
      make("z16_n256_k256", 256, 256, {1, 15}, false, false, GemmC::kRow, -1.0f, 1.0f,
           Activation::clip(-0.5f, 0.5f)),
  };
  Rng rng(20261127);
  for (int i = 0; i < 30; ++i) {
    const int64_t n = rng.uniform_int(1, 70), k = rng.uniform_int(1, 300);
    const GemmC cs[] = {GemmC::kNone, GemmC::kScalar, GemmC::kRow};
    const Activation acts[] = {Activation::none(), Activation::relu(), Activation::clip(-1, 1),
                               Activation::leaky_relu(0.3f)};
    c.push_back(
        make("random_" + std::to_string(i), n, k, {rng.uniform_int(1, 9), rng.uniform_int(1, 40)},
             rng.uniform_int(0, 1) == 1, rng.uniform_int(0, 1) == 1, cs[rng.uniform_int(0, 2)],
             rng.uniform(-2.0f, 2.0f), rng.uniform(-2.0f, 2.0f), acts[rng.uniform_int(0, 3)]));
  }
  return c;
}

std::vector<float> random_vector(Rng& rng, int64_t n) {
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v) x = rng.uniform(-1.0f, 1.0f);
  return v;
}

std::vector<float> abs_of(std::vector<float> v) {
  for (float& x : v) x = std::fabs(x);
  return v;
}

// One (tier, case) check.
void check_case(KernelChoice choice, const GemmCase& c) {
  const uint64_t seed = std::hash<std::string>{}(c.name) & 0xffffffffu;
  SCOPED_TRACE("seed " + std::to_string(seed) + ", case " + c.name);
  Rng rng(seed);
  GemmParams p = c.p;
  const std::vector<float> b = random_vector(rng, p.k * p.n);
  const std::vector<float> cv = random_vector(rng, p.c_size());
  Result<GemmF32> gemm = GemmF32::prepare(p, b, cv, choice);
  ASSERT_TRUE(gemm.ok()) << gemm.status().message();
  EXPECT_EQ(gemm->choice(), choice);
  for (int64_t m : c.ms) {
    SCOPED_TRACE("m " + std::to_string(m));
    p.m = m;
    const std::vector<float> a = random_vector(rng, m * p.k);
    std::vector<float> want(static_cast<size_t>(m * p.n));
    ASSERT_TRUE(gemm_f32_ref(p, a, b, cv, want).ok());
    // S = |alpha|·Σ|a·b| + |beta·c|: the reference on absolute values, no activation.
    GemmParams pa = p;
    pa.alpha = std::fabs(p.alpha);
    pa.beta = std::fabs(p.beta);
    pa.act = Activation::none();
    std::vector<float> magnitude(want.size());
    ASSERT_TRUE(gemm_f32_ref(pa, abs_of(a), abs_of(b), abs_of(cv), magnitude).ok());
    std::vector<float> got(want.size(), std::numeric_limits<float>::quiet_NaN());
    std::vector<float> scratch(gemm->scratch_bytes(m) / sizeof(float) + 1);
    gemm->run(a.data(), got.data(), m, scratch.data());
    expect_close(got, want, magnitude, p.k);
  }
}

// One test per tier (a ctest process each, not one per case), over every case.
class GemmF32Variants : public ::testing::TestWithParam<KernelChoice> {};

TEST_P(GemmF32Variants, MatchesReferenceOnEveryCase) {
  const KernelChoice choice = GetParam();
  if (!kernel_choice_available(choice)) {
    GTEST_SKIP() << "variant " << kernel_choice_name(choice) << " needs an ISA this CPU lacks";
  }
  const std::vector<GemmCase> cases = all_cases();
  for (const GemmCase& c : cases) {
    check_case(choice, c);
    if (HasFatalFailure()) return;
  }
  std::cout << "[ cases ] " << cases.size() << "\n";
}

std::string gemm_tier_name(const ::testing::TestParamInfo<KernelChoice>& tier) {
  return std::string(kernel_choice_name(tier.param));
}

INSTANTIATE_TEST_SUITE_P(AllTiers, GemmF32Variants, ::testing::ValuesIn(registered_f32_kernels()),
                         gemm_tier_name);

TEST(GemmF32Dispatch, AutoPicksTheWidestAvailableTier) {
  GemmParams p;
  p.n = 4;
  p.k = 3;
  Result<GemmF32> g = GemmF32::prepare(p, std::vector<float>(12), {});
  ASSERT_TRUE(g.ok());
  const KernelChoice want = kernel_choice_available(KernelChoice::kAvx512) ? KernelChoice::kAvx512
                            : kernel_choice_available(KernelChoice::kAvx2) ? KernelChoice::kAvx2
                                                                           : KernelChoice::kGeneric;
  EXPECT_EQ(g->choice(), want);
  EXPECT_EQ(resolve_kernel_choice(KernelChoice::kAuto), want);
}

TEST(GemmF32Ref, TransposesAlphaBetaAndBroadcastsC) {
  // A = [[1,2],[3,4]] (stored transposed), B = [[5,6],[7,8]] (stored transposed):
  // A·B = [[19,22],[43,50]]; alpha 2, beta −1 with C column [1, 2] → [[37,43],[84,98]].
  GemmParams p;
  p.m = 2;
  p.n = 2;
  p.k = 2;
  p.trans_a = true;
  p.trans_b = true;
  p.alpha = 2;
  p.beta = -1;
  p.c_shape = GemmC::kColumn;
  const std::vector<float> at{1, 3, 2, 4}, bt{5, 7, 6, 8}, c{1, 2};
  std::vector<float> y(4);
  ASSERT_TRUE(gemm_f32_ref(p, at, bt, c, y).ok());
  EXPECT_EQ(y, (std::vector<float>{37, 43, 84, 98}));
  p.c_shape = GemmC::kFull;
  const std::vector<float> cf{1, 0, 0, 1};
  ASSERT_TRUE(gemm_f32_ref(p, at, bt, cf, y).ok());
  EXPECT_EQ(y, (std::vector<float>{37, 44, 86, 99}));
}

TEST(MatMulF32Ref, BatchedAndSharedB) {
  // Two batches of [1,2]·[[1],[1]] style products: a0 = [1,2], a1 = [3,4]; shared b = [1,10]ᵀ.
  const std::vector<float> a{1, 2, 3, 4}, b{1, 10};
  std::vector<float> y(2);
  ASSERT_TRUE(matmul_f32_ref(2, 1, 2, 1, a, b, false, y).ok());
  EXPECT_EQ(y, (std::vector<float>{21, 43}));
  const std::vector<float> b2{1, 10, 2, 0};
  ASSERT_TRUE(matmul_f32_ref(2, 1, 2, 1, a, b2, true, y).ok());
  EXPECT_EQ(y, (std::vector<float>{21, 6}));
  EXPECT_FALSE(matmul_f32_ref(2, 1, 2, 1, a, b, true, y).ok());
  EXPECT_FALSE(matmul_f32_ref(0, 1, 2, 1, a, b, false, y).ok());
}

TEST(GemmF32Prepare, RejectsBadInput) {
  GemmParams p;
  p.n = 4;
  p.k = 3;
  p.c_shape = GemmC::kRow;
  const std::vector<float> b(12), c(4);
  EXPECT_TRUE(GemmF32::prepare(p, b, c).ok());
  Result<GemmF32> r = GemmF32::prepare(p, std::span(b).first(11), c);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("B size = 11, must be k·n = 12"), std::string::npos);
  r = GemmF32::prepare(p, b, std::span(c).first(3));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("C size = 3, must be 4"), std::string::npos);
  p.c_shape = GemmC::kFull;
  r = GemmF32::prepare(p, b, c);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnsupported);
  p.c_shape = GemmC::kNone;
  p.alpha = std::numeric_limits<float>::infinity();
  r = GemmF32::prepare(p, b, {});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("must be finite"), std::string::npos);
  p.alpha = 1;
  p.k = 0;
  r = GemmF32::prepare(p, {}, {});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("k = 0"), std::string::npos);
}

}  // namespace
}  // namespace ei8::kernels
