// The ops exporters write around torchvision's classification models, end to end: tiny ONNX files
// (tests/data/onnx_ops, written by make_onnx_ops.py with numpy expectations) imported, optimized
// and run at batch 2 and 3 (dynamic batch); malformed files give one clear error naming the node.
// Then the reference kernels of the reductions, Slice, Expand, Split and Gather against naive
// index arithmetic over many random shapes (seeded; the seed is printed).
#include <gtest/gtest.h>

#include <filesystem>
#include <set>

#include "ei8/core/npy.h"
#include "ei8/core/rng.h"
#include "ei8/graph/onnx/onnx_io.h"
#include "ei8/graph/shape_inference.h"
#include "ei8/runtime/executor.h"
#include "ei8/runtime/kernels/ref/eltwise_f32_ref.h"
#include "ei8/runtime/kernels/ref/layout_f32_ref.h"

namespace ei8 {
namespace {

std::string case_path(const std::string& name, const std::string& suffix) {
  return std::string(EI8_TEST_DATA_DIR) + "/onnx_ops/" + name + suffix;
}

class OnnxOpCase : public ::testing::TestWithParam<std::string> {};

TEST_P(OnnxOpCase, MatchesNumpyAtBatch2And3) {
  const std::string& name = GetParam();
  auto g = load_onnx(case_path(name, ".onnx"));
  ASSERT_TRUE(g.ok()) << g.status().message();
  // Shape arithmetic is gone: every node is an IR op with a kernel.
  for (const Node& n : g->nodes()) {
    EXPECT_TRUE(is_supported_op(n.op_type)) << n.name << " " << n.op_type;
  }
  EXPECT_EQ(g->find_value(g->inputs()[0])->shape[0], kDynamic);
  auto ex = Executor::create(std::move(g).value());
  ASSERT_TRUE(ex.ok()) << ex.status().message();
  for (const char* b : {".b2", ".b3"}) {
    auto x = read_npy(case_path(name, std::string(b) + ".input.npy"));
    auto want = read_npy(case_path(name, std::string(b) + ".expected.npy"));
    ASSERT_TRUE(x.ok() && want.ok());
    auto y = ex->run({x.value()});
    ASSERT_TRUE(y.ok()) << y.status().message();
    const Tensor& got = y.value()[0];
    ASSERT_EQ(got.shape(), want->shape()) << name << b;
    float ref = 1.0f, diff = 0.0f;
    for (float v : want->span<float>()) ref = std::max(ref, std::abs(v));
    for (size_t i = 0; i < got.span<float>().size(); ++i) {
      diff = std::max(diff, std::abs(got.span<float>()[i] - want->span<float>()[i]));
    }
    // numpy computed in float64: float32 rounding of a handful of operations.
    EXPECT_LE(diff, 2e-6f * ref) << name << b;
  }
}

INSTANTIATE_TEST_SUITE_P(Cases, OnnxOpCase,
                         ::testing::Values("hardsigmoid_mul", "hardsigmoid_default", "hardswish",
                                           "reducemean_keepdims0", "reducesum_axes_input",
                                           "reducemax_middle", "reducemean_noncontiguous",
                                           "channel_split_shuffle", "expand_batch_token",
                                           "slice_mixed", "split_sizes", "gather_scalar",
                                           "gather_2d_negative", "layernorm_gelu"));

struct BadCase {
  const char* name;
  const char* node;    // the message names it
  const char* phrase;  // and says what is wrong
  bool at_import;      // false: import succeeds, the executor refuses at prepare
};

TEST(OnnxOpBadInput, OneClearErrorNamingTheNode) {
  const BadCase cases[] = {
      {"bad_slice_zero_step", "slice0", "steps[0] = 0, must be non-zero", true},
      {"bad_split_sum", "split5", "add up to 4, must add up to the axis size 5", true},
      {"bad_reduce_axis", "mean4", "axes entry = 4, must be in [-4, 3]", true},
      {"bad_gather_index", "gather9", "index = 9, must be in [-4, 3]", true},
      {"bad_expand_shape", "expand3", "must be equal or 1", true},
      {"bad_runtime_fill", "fill", "must be known at import", true},
      {"bad_split_runtime_sizes", "split_n", "must be known at import", true},
  };
  for (const BadCase& c : cases) {
    auto g = load_onnx(case_path(c.name, ".onnx"));
    ASSERT_FALSE(g.ok()) << c.name;
    const std::string& m = g.status().message();
    EXPECT_NE(m.find(c.node), std::string::npos) << c.name << ": " << m;
    EXPECT_NE(m.find(c.phrase), std::string::npos) << c.name << ": " << m;
    EXPECT_EQ(m.find('\n'), std::string::npos) << m;
    EXPECT_EQ(m.rfind("cannot ", 0) == 0 || m.find(": cannot ") != std::string::npos, true) << m;
  }
}

// ---- reference kernels vs naive index arithmetic ------------------------------------------

// Row-major strides.
std::vector<int64_t> strides(const Shape& s) {
  std::vector<int64_t> st(s.size(), 1);
  for (size_t i = s.size(); i-- > 1;) st[i - 1] = st[i] * s[i];
  return st;
}
// Multi-index of flat index i.
std::vector<int64_t> unflatten(int64_t i, const Shape& s) {
  std::vector<int64_t> idx(s.size());
  for (size_t d = s.size(); d-- > 0;) {
    idx[d] = s[d] == 0 ? 0 : i % s[d];
    i = s[d] == 0 ? 0 : i / s[d];
  }
  return idx;
}

Shape random_shape(Rng& rng, int64_t rank) {
  Shape s;
  for (int64_t d = 0; d < rank; ++d) s.push_back(rng.uniform_int(1, 7));
  return s;
}

TEST(ReduceRef, MeanSumMaxOverRandomAxesMatchNaive) {
  const uint64_t seed = 20240615;
  std::printf("[ seed ] %llu\n", static_cast<unsigned long long>(seed));
  Rng rng(seed);
  for (int t = 0; t < 300; ++t) {
    const Shape in = random_shape(rng, rng.uniform_int(1, 5));
    const int64_t r = static_cast<int64_t>(in.size());
    std::vector<int64_t> axes;
    for (int64_t d = 0; d < r; ++d) {
      if (rng.uniform_int(0, 1)) axes.push_back(d);
    }
    Tensor x = Tensor::zeros(DType::kF32, in);
    for (float& v : x.span<float>()) v = rng.uniform(-3, 3);
    const std::vector<int64_t> used = axes.empty() ? [&] {
      std::vector<int64_t> all;
      for (int64_t d = 0; d < r; ++d) all.push_back(d);
      return all;
    }()
                                                   : axes;
    Shape out = in;
    int64_t count = 1;
    for (int64_t a : used) {
      count *= in[static_cast<size_t>(a)];
      out[static_cast<size_t>(a)] = 1;
    }
    const kernels::ReducePlan plan = kernels::make_reduce_plan(in, used);
    for (auto op : {kernels::ReduceOp::kMean, kernels::ReduceOp::kSum, kernels::ReduceOp::kMax}) {
      std::vector<double> sum(static_cast<size_t>(shape_numel(out)), 0.0);
      std::vector<float> mx(sum.size(), -std::numeric_limits<float>::infinity());
      const auto ost = strides(out);
      for (int64_t i = 0; i < x.numel(); ++i) {
        auto idx = unflatten(i, in);
        int64_t o = 0;
        for (size_t d = 0; d < idx.size(); ++d) o += (out[d] == 1 ? 0 : idx[d]) * ost[d];
        sum[static_cast<size_t>(o)] += x.span<float>()[static_cast<size_t>(i)];
        mx[static_cast<size_t>(o)] =
            std::max(mx[static_cast<size_t>(o)], x.span<float>()[static_cast<size_t>(i)]);
      }
      std::vector<float> y(sum.size(), 0.0f);
      kernels::reduce_f32_ref(op, plan, x.span<float>().data(), y.data());
      for (size_t o = 0; o < y.size(); ++o) {
        const float want = op == kernels::ReduceOp::kMax ? mx[o]
                           : op == kernels::ReduceOp::kSum
                               ? static_cast<float>(sum[o])
                               : static_cast<float>(sum[o] / static_cast<double>(count));
        // Same double sum in the same order is not required: 1 ulp of float.
        ASSERT_NEAR(y[o], want, 1e-6f * std::max(1.0f, std::abs(want)))
            << "seed " << seed << " case " << t << " shape " << shape_to_string(in);
      }
    }
  }
}

TEST(LayoutRef, SliceExpandGatherSplitMatchNaive) {
  const uint64_t seed = 7717;
  std::printf("[ seed ] %llu\n", static_cast<unsigned long long>(seed));
  Rng rng(seed);
  for (int t = 0; t < 300; ++t) {
    const Shape in = random_shape(rng, rng.uniform_int(1, 5));
    const size_t r = in.size();
    Tensor x = Tensor::zeros(DType::kF32, in);
    for (float& v : x.span<float>()) v = rng.uniform(-3, 3);
    const auto xs = x.span<float>();
    const auto ist = strides(in);
    // Slice with random start/end/step per axis through the node's canonical attributes.
    Node n;
    n.op_type = "Slice";
    n.name = "s";
    std::vector<int64_t> starts, ends, axes, steps;
    for (size_t d = 0; d < r; ++d) {
      if (rng.uniform_int(0, 2) == 0) continue;
      axes.push_back(rng.uniform_int(0, 1) ? static_cast<int64_t>(d)
                                           : static_cast<int64_t>(d) - static_cast<int64_t>(r));
      starts.push_back(rng.uniform_int(-9, 9));
      ends.push_back(rng.uniform_int(0, 3) == 0 ? std::numeric_limits<int64_t>::max()
                                                : rng.uniform_int(-9, 9));
      int64_t st = rng.uniform_int(-3, 3);
      steps.push_back(st == 0 ? 1 : st);
    }
    n.set("starts", starts);
    n.set("ends", ends);
    n.set("axes", axes);
    n.set("steps", steps);
    auto w = slice_window(n, in);
    ASSERT_TRUE(w.ok()) << w.status().message();
    // Naive: per axis the list of taken indices, python semantics.
    std::vector<std::vector<int64_t>> take(r);
    for (size_t d = 0; d < r; ++d) {
      for (int64_t i = 0; i < in[d]; ++i) take[d].push_back(i);
    }
    for (size_t k = 0; k < axes.size(); ++k) {
      const size_t d =
          static_cast<size_t>(axes[k] < 0 ? axes[k] + static_cast<int64_t>(r) : axes[k]);
      const int64_t dim = in[d];
      int64_t s0 = starts[k] < 0 ? starts[k] + dim : starts[k];
      int64_t e0 = ends[k] == std::numeric_limits<int64_t>::max() ? dim
                   : ends[k] < 0                                  ? ends[k] + dim
                                                                  : ends[k];
      take[d].clear();
      if (steps[k] > 0) {
        s0 = std::clamp<int64_t>(s0, 0, dim);
        e0 = std::clamp<int64_t>(e0, 0, dim);
        for (int64_t i = s0; i < e0; i += steps[k]) take[d].push_back(i);
      } else {
        s0 = std::clamp<int64_t>(s0, 0, dim - 1);
        e0 = std::clamp<int64_t>(e0, -1, dim - 1);
        for (int64_t i = s0; i > e0; i += steps[k]) take[d].push_back(i);
      }
    }
    Shape out;
    for (size_t d = 0; d < r; ++d) out.push_back(static_cast<int64_t>(take[d].size()));
    ASSERT_EQ(w->count, out) << "seed " << seed << " case " << t;
    const auto plan = kernels::make_slice_plan(in, w->start, w->step, w->count);
    std::vector<float> y(static_cast<size_t>(shape_numel(out)));
    kernels::transpose_ref(plan, 4, reinterpret_cast<const std::byte*>(xs.data()),
                           reinterpret_cast<std::byte*>(y.data()));
    for (int64_t i = 0; i < shape_numel(out); ++i) {
      auto idx = unflatten(i, out);
      int64_t src = 0;
      for (size_t d = 0; d < r; ++d) src += take[d][static_cast<size_t>(idx[d])] * ist[d];
      ASSERT_EQ(y[static_cast<size_t>(i)], xs[static_cast<size_t>(src)])
          << "seed " << seed << " case " << t;
    }
    // Expand: random dims of 1 in a copy of the shape, broadcast back (plus a leading axis).
    Shape small = in;
    for (int64_t& d : small) {
      if (rng.uniform_int(0, 1)) d = 1;
    }
    Tensor xsm = Tensor::zeros(DType::kF32, small);
    for (float& v : xsm.span<float>()) v = rng.uniform(-3, 3);
    Shape big = in;
    big.insert(big.begin(), 2);
    const auto eplan = kernels::make_expand_plan(small, big);
    std::vector<float> e(static_cast<size_t>(shape_numel(big)));
    kernels::transpose_ref(eplan, 4, reinterpret_cast<const std::byte*>(xsm.raw()),
                           reinterpret_cast<std::byte*>(e.data()));
    const auto sst = strides(small);
    for (int64_t i = 0; i < shape_numel(big); ++i) {
      auto idx = unflatten(i, big);
      int64_t src = 0;
      for (size_t d = 0; d < r; ++d) src += (small[d] == 1 ? 0 : idx[d + 1]) * sst[d];
      ASSERT_EQ(e[static_cast<size_t>(i)], xsm.span<float>()[static_cast<size_t>(src)]);
    }
    // Gather on a random axis with random (negative too) indices, through the executor.
    const int64_t axis = rng.uniform_int(0, static_cast<int64_t>(r) - 1);
    const int64_t len = in[static_cast<size_t>(axis)];
    std::vector<int64_t> index;
    for (int64_t k = rng.uniform_int(1, 4); k-- > 0;)
      index.push_back(rng.uniform_int(-len, len - 1));
    Graph g("gather");
    g.add_input("x", DType::kF32, in);
    Node& gn = g.add_node("Gather", "g", {"x"}, {"y"});
    gn.set("axis", axis);
    gn.set("indices", index);
    g.add_output("y");
    auto ex = Executor::create(std::move(g));
    ASSERT_TRUE(ex.ok()) << ex.status().message();
    auto gy = ex->run({x});
    ASSERT_TRUE(gy.ok()) << gy.status().message();
    const Tensor& gt = gy.value()[0];
    for (int64_t i = 0; i < gt.numel(); ++i) {
      auto idx = unflatten(i, gt.shape());  // [..axis, j, axis+1..]
      int64_t src = 0;
      for (size_t d = 0; d < r; ++d) {
        int64_t v = idx[d];
        if (static_cast<int64_t>(d) == axis) {
          v = index[static_cast<size_t>(v)];
          if (v < 0) v += len;
        }
        src += v * ist[d];
      }
      ASSERT_EQ(gt.span<float>()[static_cast<size_t>(i)], xs[static_cast<size_t>(src)]);
    }
    // Split on the same axis into random sizes, concatenated back = the input.
    std::vector<int64_t> sizes;
    for (int64_t left = len; left > 0;) {
      sizes.push_back(rng.uniform_int(1, left));
      left -= sizes.back();
    }
    Graph sg("split");
    sg.add_input("x", DType::kF32, in);
    std::vector<std::string> parts;
    for (size_t k = 0; k < sizes.size(); ++k) parts.push_back("p" + std::to_string(k));
    Node& sn = sg.add_node("Split", "split", {"x"}, parts);
    sn.set("axis", axis - static_cast<int64_t>(r));  // negative axis
    sn.set("split", sizes);
    sg.add_node("Concat", "cat", parts, {"y"}).set("axis", axis);
    sg.add_output("y");
    ExecutorOptions o;
    o.optimize = false;
    auto sex = Executor::create(std::move(sg), o);
    ASSERT_TRUE(sex.ok()) << sex.status().message();
    auto sy = sex->run({x});
    ASSERT_TRUE(sy.ok()) << sy.status().message();
    ASSERT_EQ(sy.value()[0].shape(), in);
    for (int64_t i = 0; i < x.numel(); ++i) {
      ASSERT_EQ(sy.value()[0].span<float>()[static_cast<size_t>(i)], xs[static_cast<size_t>(i)]);
    }
  }
}

TEST(UnaryRef, HardSigmoidHardSwishSqrtErfPowOnConstructedValues) {
  Tensor x = Tensor::from<float>({1, 7}, {-4.0f, -3.0f, -1.0f, 0.0f, 1.0f, 3.0f, 4.0f});
  auto run = [&](const std::string& op, std::map<std::string, AttrValue, std::less<>> attrs,
                 std::vector<std::pair<std::string, Tensor>> consts = {}) {
    Graph g("u");
    g.add_input("x", DType::kF32, x.shape());
    std::vector<std::string> in = {"x"};
    for (auto& [name, t] : consts) {
      g.add_initializer(name, t);
      in.push_back(name);
    }
    g.add_node(op, "n", in, {"y"}).attrs = std::move(attrs);
    g.add_output("y");
    ExecutorOptions o;
    o.optimize = false;
    auto ex = Executor::create(std::move(g), o);
    EXPECT_TRUE(ex.ok()) << ex.status().message();
    auto y = ex->run({x});
    EXPECT_TRUE(y.ok()) << y.status().message();
    return y.value()[0];
  };
  // HardSigmoid default alpha 0.2, beta 0.5: clamp(0.2x + 0.5, 0, 1).
  const float hs[] = {0.0f, 0.0f, 0.3f, 0.5f, 0.7f, 1.0f, 1.0f};
  Tensor y = run("HardSigmoid", {});
  for (int i = 0; i < 7; ++i) EXPECT_FLOAT_EQ(y.span<float>()[i], hs[i]) << i;
  // HardSwish: x · clamp(x/6 + 0.5): 0 below -3, x above 3.
  const float hw[] = {0.0f, 0.0f, -1.0f / 3.0f, 0.0f, 2.0f / 3.0f, 3.0f, 4.0f};
  y = run("HardSwish", {});
  for (int i = 0; i < 7; ++i) EXPECT_FLOAT_EQ(y.span<float>()[i], hw[i]) << i;
  y = run("Sqrt", {});
  EXPECT_TRUE(std::isnan(y.span<float>()[0]));
  EXPECT_FLOAT_EQ(y.span<float>()[6], 2.0f);
  y = run("Erf", {});
  EXPECT_FLOAT_EQ(y.span<float>()[3], 0.0f);
  EXPECT_FLOAT_EQ(y.span<float>()[4], std::erf(1.0f));
  EXPECT_FLOAT_EQ(y.span<float>()[2], -std::erf(1.0f));
  // Pow with a broadcast scalar exponent and with a per-element exponent.
  y = run("Pow", {}, {{"p", Tensor::from<float>({}, {2.0f})}});
  for (int i = 0; i < 7; ++i) {
    EXPECT_EQ(y.span<float>()[i], x.span<float>()[i] * x.span<float>()[i]) << i;
  }
  y = run("Pow", {}, {{"p", Tensor::from<float>({7}, {0, 1, 2, 3, 0.5f, -1, 0})}});
  EXPECT_FLOAT_EQ(y.span<float>()[0], 1.0f);
  EXPECT_FLOAT_EQ(y.span<float>()[1], -3.0f);
  EXPECT_FLOAT_EQ(y.span<float>()[3], 0.0f);
  EXPECT_FLOAT_EQ(y.span<float>()[4], 1.0f);
  EXPECT_FLOAT_EQ(y.span<float>()[5], 1.0f / 3.0f);
}

}  // namespace
}  // namespace ei8

namespace ei8 {
namespace {

// Bad input to the element-wise ops: not f32, shapes that do not broadcast, ranks past the
// kernels' limit; each a Status naming the node, never a crash.
TEST(UnaryRef, BadInputIsAnErrorNamingTheNode) {
  auto prepare = [](const std::string& op, DType dt, Shape x, Shape p = {}) -> Status {
    Graph g("bad");
    g.add_input("x", dt, x);
    std::vector<std::string> in = {"x"};
    if (!p.empty()) {
      g.add_initializer("p", Tensor::zeros(DType::kF32, p));
      in.push_back("p");
    }
    Node& n = g.add_node(op, "bad_" + op, in, {"y"});
    if (op == "ReduceSum") n.set("axes", std::vector<int64_t>{0});
    g.add_output("y");
    ExecutorOptions o;
    o.optimize = false;
    EI8_ASSIGN_OR_RETURN(Executor ex, Executor::create(std::move(g), o));
    return ex.prepare(std::vector<Shape>{x});
  };
  for (const char* op : {"HardSigmoid", "HardSwish", "Sqrt", "Erf"}) {
    const Status s = prepare(op, DType::kS8, {2, 3});
    ASSERT_FALSE(s.ok()) << op;
    EXPECT_NE(s.message().find(std::string("bad_") + op), std::string::npos) << s.message();
    EXPECT_NE(s.message().find("must be f32"), std::string::npos) << s.message();
  }
  const Status pow = prepare("Pow", DType::kF32, {2, 3}, {4});
  ASSERT_FALSE(pow.ok());
  EXPECT_NE(pow.message().find("bad_Pow"), std::string::npos) << pow.message();
  EXPECT_NE(pow.message().find("must be equal or 1"), std::string::npos) << pow.message();
  const Status deep = prepare("ReduceSum", DType::kF32, Shape(9, 1));
  ASSERT_FALSE(deep.ok());
  EXPECT_NE(deep.message().find("rank = 9, must be <= 8"), std::string::npos) << deep.message();
}

}  // namespace
}  // namespace ei8
