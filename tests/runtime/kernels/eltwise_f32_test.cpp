// Every FP32 elementwise binary tier (eltwise_f32.h) against the reference binary_f32_ref, bit
// for bit (one test body per tier running every case: STYLE.md 9): Add/Sub/Mul/Div, with and
// without the fused Relu, over same-shape, per-channel, scalar and two-sided broadcasts, prime
// and odd sizes, rows shorter / longer than a vector, ±0 / ±inf / NaN / denormal operands.
// A NaN result must be NaN in both (x86 picks which operand's NaN payload propagates by operand
// order, which the compiler may swap for the commutative + and ×); every other bit must match.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "ei8/core/rng.h"
#include "ei8/runtime/kernels/eltwise_f32.h"

namespace ei8::kernels {
namespace {

constexpr uint64_t kShapeSeed = 20261127;

struct BinCase {
  std::string name;
  Shape a, b;
  bool hostile = false;
};

Shape out_shape(const Shape& a, const Shape& b) {
  const size_t r = std::max(a.size(), b.size());
  Shape o(r, 1);
  for (size_t i = 0; i < r; ++i) {
    const int64_t da = i + a.size() >= r ? a[i + a.size() - r] : 1;
    const int64_t db = i + b.size() >= r ? b[i + b.size() - r] : 1;
    o[i] = std::max(da, db);
  }
  return o;
}

std::vector<BinCase> all_cases() {
  std::vector<BinCase> v = {
      {"same_resnet_l1", {1, 16, 32, 32}, {1, 16, 32, 32}},
      {"same_prime", {3, 7, 11, 13}, {3, 7, 11, 13}},
      {"same_1", {1}, {1}},
      {"same_7", {7}, {7}},
      {"same_33", {33}, {33}},
      {"same_hostile", {2, 5, 67}, {2, 5, 67}, true},
      {"per_channel_b", {2, 16, 8, 8}, {16, 1, 1}},
      {"per_channel_a", {1, 5, 1, 1}, {3, 5, 7, 3}},
      {"per_channel_hostile", {2, 9, 5, 5}, {1, 9, 1, 1}, true},
      {"scalar_b", {2, 3, 17}, {}},
      {"scalar_b1", {1, 31}, {1}},
      {"scalar_a", {1}, {4, 129}},
      {"scalar_hostile", {}, {3, 37}, true},
      {"row_bias", {5, 10}, {10}},
      {"column", {6, 1}, {6, 9}},
      {"two_sided", {4, 1, 9}, {1, 3, 1}},
      {"two_sided_hostile", {1, 8, 1, 17}, {3, 1, 5, 1}, true},
      {"inner_1_vs_vec", {2, 3, 1}, {2, 3, 2}},
  };
  // Random: rank 1–5 outputs of prime / 2^k ± 1 sizes, each input dimension kept or 1, leading
  // dimensions dropped now and then.
  Rng rng(kShapeSeed);
  const int64_t sizes[] = {1, 2, 3, 5, 7, 8, 9, 11, 13, 15, 16, 17, 23, 31, 32, 33, 37, 64, 67};
  auto pick = [&](int64_t lo, int64_t hi) { return rng.uniform_int(lo, hi); };
  for (int i = 0; i < 80; ++i) {
    const int64_t rank = pick(1, 5);
    Shape out;
    int64_t numel = 1;
    for (int64_t d = 0; d < rank; ++d) {
      const int64_t s = numel > 3000 ? 1 : sizes[pick(0, 18)];
      out.push_back(s);
      numel *= s;
    }
    auto input = [&]() {
      Shape s = out;
      for (int64_t& d : s) {
        if (pick(0, 2) == 0) d = 1;
      }
      const int64_t drop = pick(0, 3) == 0 ? pick(0, rank) : 0;
      s.erase(s.begin(), s.begin() + drop);
      return s;
    };
    BinCase c{"random" + std::to_string(i), input(), input(), i % 6 == 5};
    if (i % 4 == 0) c.b = c.a = out;  // same shape more often: the common residual Add
    if (i % 4 == 1) c.b = out;
    v.push_back(c);
  }
  return v;
}

std::vector<float> make_values(Rng& rng, int64_t n, bool hostile) {
  std::vector<float> x(static_cast<size_t>(n));
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  const float den = std::numeric_limits<float>::denorm_min();
  const float special[] = {0.0f, -0.0f, nan, inf, -inf, 1.0f, -1.0f, 3.0f, den, -1e-39f, 1e38f};
  for (float& v : x) {
    v = hostile && rng.uniform_int(0, 1) == 0 ? special[rng.uniform_int(0, 10)]
                                              : rng.uniform(-2.0f, 2.0f);
  }
  return x;
}

bool same_result(float want, float got) {
  if (std::isnan(want) || std::isnan(got)) return std::isnan(want) && std::isnan(got);
  return std::bit_cast<uint32_t>(want) == std::bit_cast<uint32_t>(got);
}

const char* op_name(BinaryOp op) {
  switch (op) {
    case BinaryOp::kAdd:
      return "Add";
    case BinaryOp::kSub:
      return "Sub";
    case BinaryOp::kMul:
      return "Mul";
    case BinaryOp::kDiv:
      return "Div";
  }
  return "?";
}

// One case, every op with and without relu, on one tier against the reference.
void check_case(KernelChoice tier, const BinCase& c) {
  const Shape out = out_shape(c.a, c.b);
  const BroadcastPlan plan = make_broadcast_plan(c.a, c.b, out);
  ASSERT_FALSE(plan.dims.empty()) << c.name;
  const uint64_t seed = std::hash<std::string>{}(c.name) & 0xffffffffu;
  SCOPED_TRACE("seed " + std::to_string(seed) + ", case " + c.name);
  Rng rng(seed);
  const std::vector<float> a = make_values(rng, shape_numel(c.a), c.hostile);
  const std::vector<float> b = make_values(rng, shape_numel(c.b), c.hostile);
  std::vector<float> want(static_cast<size_t>(shape_numel(out)));
  for (BinaryOp op : {BinaryOp::kAdd, BinaryOp::kSub, BinaryOp::kMul, BinaryOp::kDiv}) {
    for (bool relu : {false, true}) {
      SCOPED_TRACE(std::string(op_name(op)) + (relu ? "+Relu" : ""));
      binary_f32_ref(op, plan, a.data(), b.data(), want.data(), relu);
      // A poisoned output: every element must be written.
      std::vector<float> got(want.size(), std::bit_cast<float>(0x7fbadbadu));
      binary_f32(tier, op, plan, a.data(), b.data(), got.data(), relu);
      int64_t mismatches = 0;
      for (size_t i = 0; i < want.size(); ++i) {
        if (!same_result(want[i], got[i]) && ++mismatches <= 5) {
          ADD_FAILURE() << "output " << i << ": got " << got[i] << " (0x" << std::hex
                        << std::bit_cast<uint32_t>(got[i]) << "), want " << want[i] << " (0x"
                        << std::bit_cast<uint32_t>(want[i]) << ")" << std::dec;
        }
      }
      EXPECT_EQ(mismatches, 0) << "of " << want.size() << " outputs";
      if (plan.same) {  // y aliasing a (the executor may reuse a dead operand's buffer)
        std::vector<float> inplace = a;
        binary_f32(tier, op, plan, inplace.data(), b.data(), inplace.data(), relu);
        for (size_t i = 0; i < want.size(); ++i) {
          ASSERT_TRUE(same_result(want[i], inplace[i])) << "in place, output " << i;
        }
      }
    }
  }
}

class BinaryF32Variants : public ::testing::TestWithParam<KernelChoice> {};

TEST_P(BinaryF32Variants, MatchesReferenceBitExactOnEveryCase) {
  const KernelChoice choice = GetParam();
  if (!kernel_choice_available(choice)) {
    GTEST_SKIP() << "variant " << kernel_choice_name(choice) << " needs an ISA this CPU lacks";
  }
  Result<KernelChoice> tier = prepare_eltwise_tier(choice);
  ASSERT_TRUE(tier.ok()) << tier.status().message();
  EXPECT_EQ(*tier, choice);
  const std::vector<BinCase> cases = all_cases();
  RecordProperty("cases", static_cast<int>(cases.size()));
  for (const BinCase& c : cases) check_case(*tier, c);
}

INSTANTIATE_TEST_SUITE_P(AllTiers, BinaryF32Variants,
                         ::testing::ValuesIn(registered_eltwise_kernels()),
                         [](const ::testing::TestParamInfo<KernelChoice>& tp) {
                           return std::string(kernel_choice_name(tp.param));
                         });

// The reference and every tier against hand-derived values: per-channel Sub with the fused Relu,
// scalar Div (1/0 = inf, 0/0 = NaN), and the relu of NaN and −0 (+0, the reference's r > 0 ? r :
// 0).
TEST(BinaryF32, HandDerivedValuesOnEveryTier) {
  const float inf = std::numeric_limits<float>::infinity();
  // a [2,3] − b [2,1] = {{1,2,3} − 2, {4,5,6} − 5} = {{−1,0,1},{−1,0,1}} → relu {0,0,1,0,0,1}.
  const std::vector<float> a = {1, 2, 3, 4, 5, 6}, b = {2, 5};
  const BroadcastPlan col = make_broadcast_plan({2, 3}, {2, 1}, {2, 3});
  // x [9] / 0 (scalar): {1,−1,0,2,...}/0 = {inf,−inf,NaN,inf,...}.
  const std::vector<float> x = {1, -1, 0, 2, 2, 2, 2, 2, -0.0f}, zero = {0.0f};
  const BroadcastPlan scal = make_broadcast_plan({9}, {}, {9});
  for (KernelChoice tier : registered_eltwise_kernels()) {
    if (!kernel_choice_available(tier)) continue;
    SCOPED_TRACE(std::string(kernel_choice_name(tier)));
    std::vector<float> y(6);
    binary_f32(tier, BinaryOp::kSub, col, a.data(), b.data(), y.data(), true);
    EXPECT_EQ(y, (std::vector<float>{0, 0, 1, 0, 0, 1}));
    binary_f32(tier, BinaryOp::kSub, col, a.data(), b.data(), y.data(), false);
    EXPECT_EQ(y, (std::vector<float>{-1, 0, 1, -1, 0, 1}));
    std::vector<float> q(9);
    binary_f32(tier, BinaryOp::kDiv, scal, x.data(), zero.data(), q.data(), false);
    EXPECT_EQ(q[0], inf);
    EXPECT_EQ(q[1], -inf);
    EXPECT_TRUE(std::isnan(q[2]));
    EXPECT_TRUE(std::isnan(q[8]));
    binary_f32(tier, BinaryOp::kDiv, scal, x.data(), zero.data(), q.data(), true);
    EXPECT_EQ(q[0], inf);
    EXPECT_EQ(std::bit_cast<uint32_t>(q[1]), 0u);  // relu(−inf) = +0
    EXPECT_EQ(std::bit_cast<uint32_t>(q[2]), 0u);  // relu(NaN) = +0
    const std::vector<float> m0 = {-0.0f}, one = {1.0f};
    const BroadcastPlan p1 = make_broadcast_plan({1}, {1}, {1});
    binary_f32(tier, BinaryOp::kMul, p1, m0.data(), one.data(), q.data(), true);
    EXPECT_EQ(std::bit_cast<uint32_t>(q[0]), 0u);  // relu(−0) = +0
  }
}

TEST(BinaryF32, TierChoice) {
  Result<KernelChoice> a = prepare_eltwise_tier(KernelChoice::kAuto);
  ASSERT_TRUE(a.ok());
  EXPECT_NE(*a, KernelChoice::kRef);
  EXPECT_TRUE(kernel_choice_available(*a));
  for (KernelChoice c : registered_eltwise_kernels()) {
    Result<KernelChoice> t = prepare_eltwise_tier(c);
    EXPECT_EQ(t.ok(), kernel_choice_available(c)) << kernel_choice_name(c);
    if (!t.ok()) {
      EXPECT_EQ(t.status().code(), StatusCode::kUnsupported);
      EXPECT_NE(t.status().message().find("cannot prepare elementwise op: kernel = "),
                std::string::npos);
    }
  }
  Result<KernelChoice> vnni = prepare_eltwise_tier(KernelChoice::kAvx512Vnni);
  EXPECT_EQ(vnni.ok(), kernel_choice_available(KernelChoice::kAvx512Vnni));
  if (vnni.ok()) {
    EXPECT_EQ(*vnni, KernelChoice::kAvx2);
  }
}

}  // namespace
}  // namespace ei8::kernels
