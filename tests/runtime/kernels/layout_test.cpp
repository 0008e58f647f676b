// The run-by-run strided copy (layout.h) against the reference transpose_ref, byte for byte:
// transposes (every permutation of ranks 1–4, random ones of ranks 5–8), slices with positive
// and negative steps, broadcasts (Expand), element sizes 1, 2, 3, 4, 8; ShuffleNet's channel
// shuffle and channel split as named cases; plus the plan's merging of axes.
#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <string>
#include <vector>

#include "ei8/core/rng.h"
#include "ei8/runtime/kernels/layout.h"

namespace ei8::kernels {
namespace {

constexpr uint64_t kSeed = 20261207;

std::string str(const std::vector<int64_t>& v) {
  std::string s = "[";
  for (int64_t x : v) s += std::to_string(x) + ",";
  return s + "]";
}

// Fills x with distinct-ish bytes, runs both, compares every output byte (and the bytes past
// the output: neither may write beyond numel elements).
void expect_same(const TransposePlan& t, int64_t in_numel, size_t es, uint64_t seed) {
  Rng rng(seed);
  std::vector<std::byte> x(static_cast<size_t>(in_numel) * es);
  for (std::byte& b : x) b = static_cast<std::byte>(rng.uniform_int(0, 255));
  const size_t out_bytes = static_cast<size_t>(t.numel) * es;
  std::vector<std::byte> want(out_bytes + 16, std::byte{0xAB}),
      got(out_bytes + 16, std::byte{0xAB});
  transpose_ref(t, es, x.data(), want.data());
  strided_copy(make_strided_copy_plan(t), es, x.data(), got.data());
  ASSERT_EQ(want, got) << "out_dims " << str(t.out_dims) << " in_strides " << str(t.in_strides)
                       << " offset " << t.offset << " elem_size " << es << " seed " << seed;
}

Shape random_shape(Rng& rng, size_t rank, int64_t max_dim) {
  Shape s;
  for (size_t i = 0; i < rank; ++i) s.push_back(rng.uniform_int(1, max_dim));
  return s;
}

TEST(StridedCopy, ShuffleNetChannelShuffleAndSplit) {
  // Transpose [1, 2, 58, 28, 28] → [1, 58, 2, 28, 28]: 116 runs of 784 elements.
  const TransposePlan t = make_transpose_plan({1, 2, 58, 28, 28}, {0, 2, 1, 3, 4});
  const StridedCopyPlan p = make_strided_copy_plan(t);
  EXPECT_EQ(p.dims, (std::vector<int64_t>{58, 2, 784}));
  EXPECT_EQ(p.strides, (std::vector<int64_t>{784, 58 * 784, 1}));
  expect_same(t, 2 * 58 * 28 * 28, 4, kSeed);
  // Slice [1, 116, 28, 28] → channels 58..115: one run of 58·784 elements from offset 58·784.
  const TransposePlan s =
      make_slice_plan({1, 116, 28, 28}, {0, 58, 0, 0}, {1, 1, 1, 1}, {1, 58, 28, 28});
  const StridedCopyPlan q = make_strided_copy_plan(s);
  EXPECT_EQ(q.dims, (std::vector<int64_t>{58 * 784}));
  EXPECT_EQ(q.offset, 58 * 784);
  expect_same(s, 116 * 784, 4, kSeed + 1);
}

TEST(StridedCopy, EveryPermutationOfSmallRanks) {
  Rng rng(kSeed);
  SCOPED_TRACE("seed " + std::to_string(kSeed));
  for (size_t rank = 1; rank <= 4; ++rank) {
    for (int rep = 0; rep < 4; ++rep) {
      const Shape in = random_shape(rng, rank, 6);
      std::vector<int64_t> perm(rank);
      std::iota(perm.begin(), perm.end(), 0);
      do {
        for (size_t es : {1u, 2u, 3u, 4u, 8u}) {
          expect_same(make_transpose_plan(in, perm), shape_numel(in), es, rng.next_u64());
        }
      } while (std::next_permutation(perm.begin(), perm.end()));
    }
  }
}

TEST(StridedCopy, RandomTransposesSlicesAndBroadcasts) {
  Rng rng(kSeed + 7);
  SCOPED_TRACE("seed " + std::to_string(kSeed + 7));
  for (int rep = 0; rep < 300; ++rep) {
    const size_t rank = static_cast<size_t>(rng.uniform_int(1, 8));
    const Shape in = random_shape(rng, rank, rank > 5 ? 3 : 7);
    const size_t es =
        std::vector<size_t>{1, 2, 3, 4, 4, 8}[static_cast<size_t>(rng.uniform_int(0, 5))];
    // Transpose.
    std::vector<int64_t> perm(rank);
    std::iota(perm.begin(), perm.end(), 0);
    rng.shuffle(std::span<int64_t>(perm));
    expect_same(make_transpose_plan(in, perm), shape_numel(in), es, rng.next_u64());
    // Slice: per axis a start, a step of ±1..3 (0 never) and a count that stays inside.
    std::vector<int64_t> start(rank), step(rank), count(rank);
    for (size_t d = 0; d < rank; ++d) {
      const int64_t n = in[d];
      step[d] = rng.uniform_int(1, 3) * (rng.uniform_int(0, 2) == 0 ? -1 : 1);
      start[d] = rng.uniform_int(0, n - 1);
      const int64_t room = step[d] > 0 ? (n - 1 - start[d]) / step[d] : start[d] / -step[d];
      count[d] = rng.uniform_int(rng.uniform_int(0, 9) == 0 ? 0 : 1, room + 1);
    }
    expect_same(make_slice_plan(in, start, step, count), shape_numel(in), es, rng.next_u64());
    // Expand: dims of 1 in `in` repeat, plus up to two new leading axes.
    Shape small = in, out;
    for (int64_t& d : small) {
      if (rng.uniform_int(0, 1) == 0) d = 1;
    }
    const int64_t lead = rng.uniform_int(0, std::min<int64_t>(2, 8 - static_cast<int64_t>(rank)));
    for (int64_t i = 0; i < lead; ++i) out.push_back(rng.uniform_int(1, 3));
    for (size_t d = 0; d < rank; ++d)
      out.push_back(small[d] == 1 ? rng.uniform_int(1, 4) : small[d]);
    expect_same(make_expand_plan(small, out), shape_numel(small), es, rng.next_u64());
  }
}

TEST(StridedCopy, ScalarAndEmptyViews) {
  expect_same(make_transpose_plan({}, {}), 1, 4, kSeed);
  expect_same(make_transpose_plan({1, 1, 1}, {2, 0, 1}), 1, 4, kSeed);
  expect_same(make_slice_plan({4, 5}, {1, 0}, {1, 1}, {0, 5}), 20, 4, kSeed);
  expect_same(make_expand_plan({1}, {3, 1, 5}), 1, 8, kSeed);
}

}  // namespace
}  // namespace ei8::kernels
