// The deploy module in-process: the memory planners, the overlap rules against a simulation of
// the kernels' accesses, random integer layer chains compiled by the host compiler and compared
// with the integer engine bit for bit, and the refusals.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <functional>
#include <map>
#include <set>

#include "deploy_util.h"
#include "ei8/core/rng.h"
#include "ei8/deploy/codegen.h"
#include "ei8/deploy/memory_plan.h"
#include "ei8/graph/shape_inference.h"
#include "ei8/runtime/int8_tables.h"

namespace ei8::deploy {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

// ---- planners ------------------------------------------------------------------------------

TEST(MemoryPlan, GreedyBySizePlacesLikeTflm) {
  PlanProblem p;
  p.steps = 4;
  p.buffers = {{"a", 100, 0, 1}, {"b", 50, 1, 2}, {"c", 100, 2, 3}};
  const MemoryPlan g = plan_greedy_by_size(p);
  // Largest first: a at 0, c at 0 (a is dead by then), b above both.
  EXPECT_EQ(g.offsets, (std::vector<int64_t>{0, 100, 0}));
  EXPECT_EQ(g.arena_bytes, 150);
  EXPECT_TRUE(check_plan(p, g).ok());
}

TEST(MemoryPlan, CheckRejectsOverlapOfLiveBuffers) {
  PlanProblem p;
  p.steps = 2;
  p.buffers = {{"a", 64, 0, 1}, {"b", 64, 1, 1}};
  MemoryPlan bad{"hand", {0, 32}, {false, false}, 96};
  const Status s = check_plan(p, bad);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("overlap"), std::string::npos) << s.message();
  // The same overlap is fine when a rule of step 1 allows it in the step's direction.
  p.rules = {{1, 0, 1, 0, 0}};  // b may start at or below a (forward), or at or above (backward)
  EXPECT_TRUE(check_plan(p, MemoryPlan{"hand", {32, 0}, {false, false}, 96}).ok());
  EXPECT_FALSE(check_plan(p, MemoryPlan{"hand", {0, 32}, {false, false}, 96}).ok());
  EXPECT_TRUE(check_plan(p, MemoryPlan{"hand", {0, 32}, {false, true}, 96}).ok());
}

// Random problems: both planners give valid plans; greedy-by-size never goes below the largest
// live set (no overlap); the in-place planner only goes below it through rules.
TEST(MemoryPlan, RandomProblemsGiveValidPlans) {
  const uint64_t seed = 20261201;
  std::printf("[ seed ] %llu\n", static_cast<unsigned long long>(seed));
  Rng rng(seed);
  for (int t = 0; t < 300; ++t) {
    PlanProblem p;
    p.steps = static_cast<int>(rng.uniform_int(1, 12));
    const int64_t n = rng.uniform_int(1, 14);
    for (int64_t i = 0; i < n; ++i) {
      const int first = static_cast<int>(rng.uniform_int(0, p.steps - 1));
      const int last = static_cast<int>(rng.uniform_int(first, p.steps - 1));
      p.buffers.push_back({"b" + std::to_string(i), rng.uniform_int(1, 1000), first, last});
    }
    for (size_t o = 0; o < p.buffers.size(); ++o) {
      for (size_t i = 0; i < p.buffers.size(); ++i) {
        if (i != o && p.buffers[i].last == p.buffers[o].first && rng.uniform_int(0, 2) == 0) {
          p.rules.push_back({p.buffers[o].first, static_cast<int>(i), static_cast<int>(o),
                             rng.uniform_int(-p.buffers[i].bytes, p.buffers[o].bytes),
                             rng.uniform_int(-p.buffers[o].bytes, p.buffers[i].bytes)});
        }
      }
    }
    const MemoryPlan g = plan_greedy_by_size(p);
    const MemoryPlan b = plan_inplace_bestfit(p);
    ASSERT_TRUE(check_plan(p, g).ok()) << "problem " << t << ": " << check_plan(p, g).message();
    ASSERT_TRUE(check_plan(p, b).ok()) << "problem " << t << ": " << check_plan(p, b).message();
    const auto live = live_bytes(p);
    EXPECT_GE(g.arena_bytes, *std::max_element(live.begin(), live.end())) << "problem " << t;
    if (p.rules.empty()) {
      EXPECT_GE(b.arena_bytes, *std::max_element(live.begin(), live.end())) << "problem " << t;
    }
  }
}

// ---- overlap rules vs the kernels' real access order ------------------------------------------

// Replays the reference conv/pool kernel's reads and writes (ei8_kernels.c: output pixels in
// order or reversed; per pixel every output channel, each reading its window) with the output
// at offset `delta` from the input, and reports a read of an input byte already overwritten.
bool replay_is_safe(const Step& s, const TensorDesc& in, const TensorDesc& out, int64_t delta,
                    bool reverse) {
  std::vector<bool> clobbered(static_cast<size_t>(in.numel()), false);
  const int64_t pixels = out.h * out.w;
  const int64_t cig = s.kind == StepKind::kConv ? in.c / s.groups : 1;
  const int64_t cog = s.kind == StepKind::kConv ? out.c / s.groups : 1;
  for (int64_t pi = 0; pi < pixels; ++pi) {
    const int64_t px = reverse ? pixels - 1 - pi : pi;
    const int64_t oh = px / out.w, ow = px % out.w;
    for (int64_t oc = 0; oc < out.c; ++oc) {
      for (int64_t ky = 0; ky < s.kernel_h; ++ky) {
        const int64_t ih = oh * s.stride_h - s.pad_top + ky * s.dilation_h;
        if (ih < 0 || ih >= in.h) continue;
        for (int64_t kx = 0; kx < s.kernel_w; ++kx) {
          const int64_t iw = ow * s.stride_w - s.pad_left + kx * s.dilation_w;
          if (iw < 0 || iw >= in.w) continue;
          for (int64_t i = 0; i < cig; ++i) {
            const int64_t c = s.kind == StepKind::kConv ? (oc / cog) * cig + i : oc;
            if (clobbered[static_cast<size_t>((ih * in.w + iw) * in.c + c)]) return false;
          }
        }
      }
      const int64_t addr = delta + px * out.c + oc;  // relative to the input's start
      if (addr >= 0 && addr < in.numel()) clobbered[static_cast<size_t>(addr)] = true;
    }
  }
  return true;
}

TEST(MemoryPlan, OverlapGapsAreSafeForRandomConvAndPoolShapes) {
  const uint64_t seed = 20261202;
  std::printf("[ seed ] %llu\n", static_cast<unsigned long long>(seed));
  Rng rng(seed);
  int overlapping = 0;
  for (int t = 0; t < 400; ++t) {
    DeployModel m;
    Step s;
    const int kind = static_cast<int>(rng.uniform_int(0, 2));
    s.kind = kind == 0 ? StepKind::kConv : (kind == 1 ? StepKind::kMaxPool : StepKind::kAvgPool);
    const bool one_d = rng.uniform_int(0, 1) == 1;
    TensorDesc in, out;
    in.c = rng.uniform_int(1, 9);
    in.h = one_d ? 1 : rng.uniform_int(1, 9);
    in.w = rng.uniform_int(1, 12);
    s.kernel_h = one_d ? 1 : rng.uniform_int(1, 3);
    s.kernel_w = rng.uniform_int(1, 4);
    s.stride_h = one_d ? 1 : rng.uniform_int(1, 2);
    s.stride_w = rng.uniform_int(1, 3);
    if (s.kind == StepKind::kConv) {
      s.dilation_h = one_d ? 1 : rng.uniform_int(1, 2);
      s.dilation_w = rng.uniform_int(1, 2);
      s.groups = rng.uniform_int(0, 2) == 0 ? in.c : 1;
    }
    s.pad_top = one_d ? 0 : rng.uniform_int(0, s.kernel_h - 1);
    s.pad_left = rng.uniform_int(0, s.kernel_w - 1);
    const int64_t eh = in.h + 2 * s.pad_top - s.dilation_h * (s.kernel_h - 1) - 1;
    const int64_t ew = in.w + 2 * s.pad_left - s.dilation_w * (s.kernel_w - 1) - 1;
    if (eh < 0 || ew < 0) continue;
    out.c = s.kind == StepKind::kConv ? s.groups * rng.uniform_int(1, 3) : in.c;
    out.h = eh / s.stride_h + 1;
    out.w = ew / s.stride_w + 1;
    m.tensors = {in, out};
    s.inputs = {0};
    s.output = 1;
    const auto [fwd, bwd] = overlap_gaps(m, s, 0);
    overlapping += fwd < out.numel() || bwd < in.numel();
    EXPECT_TRUE(replay_is_safe(s, in, out, -fwd, false))
        << "case " << t << " forward gap " << fwd << " " << step_kind_name(s.kind);
    EXPECT_TRUE(replay_is_safe(s, in, out, bwd, true))
        << "case " << t << " backward gap " << bwd << " " << step_kind_name(s.kind);
  }
  EXPECT_GT(overlapping, 100);  // the rules do allow overlap on many shapes
}

// ---- random integer layer chains: generated C (host compiler) = the engine ---------------------

// Builds x → QuantizeLinear → 2..4 random integer layers → Flatten → QGemm → DequantizeLinear.
struct ChainBuilder {
  Rng& rng;
  Graph g{"chain"};
  bool u8 = false;
  std::string profile = "tflite";
  bool elementwise = false;    // also QLinearLookup and QLinearMul layers
  bool float_regions = false;  // every second layer a float region (DQ → float ops → Q)
  bool float_output = false;   // the last QGemm without y_scale: float output
  int n = 0;

  std::string name(const std::string& base) { return base + std::to_string(n++); }
  std::string scale(float lo, float hi) {
    const std::string v = name("s");
    g.add_initializer(v, Tensor::from<float>({}, {rng.uniform(lo, hi)}));
    return v;
  }
  std::string zero_point() {
    const std::string v = name("z");
    if (u8) {
      g.add_initializer(
          v, Tensor::from<uint8_t>({}, {static_cast<uint8_t>(rng.uniform_int(60, 190))}));
    } else {
      g.add_initializer(v,
                        Tensor::from<int8_t>({}, {static_cast<int8_t>(rng.uniform_int(-60, 60))}));
    }
    return v;
  }
  std::vector<int64_t> shape(const std::string& v) {
    EXPECT_TRUE(infer_shapes(g).ok());
    return g.find_value(v)->shape;
  }

  std::string conv(const std::string& x) {
    const Shape xs = shape(x);
    const bool one_d = xs.size() == 3;
    const int64_t c = xs[1];
    const bool dw = rng.uniform_int(0, 2) == 0;
    const int64_t groups = dw ? c : 1;
    const int64_t oc = dw ? c : rng.uniform_int(1, 9);
    const int64_t kh = one_d ? 1 : rng.uniform_int(1, 3), kw = rng.uniform_int(1, one_d ? 5 : 3);
    Shape ws = {oc, c / groups, kh, kw};
    if (one_d) ws = {oc, c / groups, kw};
    Tensor w = Tensor::zeros(DType::kS8, ws);
    for (auto& v : w.span<int8_t>()) v = static_cast<int8_t>(rng.uniform_int(-127, 127));
    const std::string wn = name("w");
    g.add_initializer(wn, w);
    std::vector<float> sw(static_cast<size_t>(rng.uniform_int(0, 1) ? oc : 1));
    for (float& v : sw) v = rng.uniform(0.002f, 0.02f);
    const std::string swn = name("sw");
    g.add_initializer(swn, Tensor::from<float>({static_cast<int64_t>(sw.size())}, sw));
    const std::string zw = name("zw");
    g.add_initializer(
        zw, Tensor::from<int8_t>(
                {}, {static_cast<int8_t>(rng.uniform_int(0, 1) ? 0 : rng.uniform_int(-5, 5))}));
    Tensor b = Tensor::zeros(DType::kS32, {oc});
    for (auto& v : b.span<int32_t>()) v = static_cast<int32_t>(rng.uniform_int(-3000, 3000));
    const std::string bn = name("b");
    g.add_initializer(bn, b);
    const std::string y = name("conv");
    const std::string zy = zero_point();
    const Tensor* zt = g.constant(zy);
    const int64_t zy_value = u8 ? zt->span<uint8_t>()[0] : zt->span<int8_t>()[0];
    Node& nd =
        g.add_node("QLinearConv", y,
                   {x, scale(0.01f, 0.05f), zero_point(), wn, swn, zw, scale(0.02f, 0.2f), zy, bn},
                   {y + "_y"});
    const int64_t s = rng.uniform_int(1, 2), d = one_d ? rng.uniform_int(1, 2) : 1;
    const int64_t p = rng.uniform_int(0, kw - 1), ph = one_d ? 0 : rng.uniform_int(0, kh - 1);
    nd.set("group", groups);
    nd.set("strides", one_d ? std::vector<int64_t>{s} : std::vector<int64_t>{s, 1});
    nd.set("dilations", one_d ? std::vector<int64_t>{d} : std::vector<int64_t>{1, 1});
    nd.set("pads", one_d ? std::vector<int64_t>{p, p} : std::vector<int64_t>{ph, p, ph, p});
    nd.set("requant_profile", profile);
    if (rng.uniform_int(0, 1)) nd.set("qmin", zy_value);  // a fused ReLU
    return y + "_y";
  }
  std::string pool(const std::string& x) {
    const Shape xs = shape(x);
    const bool one_d = xs.size() == 3;
    const int kind = static_cast<int>(rng.uniform_int(0, 2));
    const std::string y = name("pool");
    const int64_t k = rng.uniform_int(1, 3), s = rng.uniform_int(1, 2),
                  p = rng.uniform_int(0, k - 1);
    if (kind == 2) {
      g.add_node("QLinearGlobalAveragePool", y,
                 {x, scale(0.02f, 0.2f), zero_point(), scale(0.02f, 0.2f), zero_point()},
                 {y + "_y"})
          .set("requant_profile", profile);
      return y + "_y";
    }
    Node* nd = nullptr;
    if (kind == 0) {
      nd = &g.add_node("QMaxPool", y, {x}, {y + "_y"});
    } else {
      nd = &g.add_node("QLinearAveragePool", y,
                       {x, scale(0.02f, 0.2f), zero_point(), scale(0.02f, 0.2f), zero_point()},
                       {y + "_y"});
      nd->set("requant_profile", profile);
      nd->set("count_include_pad", rng.uniform_int(0, 1));
    }
    nd->set("kernel_shape", one_d ? std::vector<int64_t>{k} : std::vector<int64_t>{k, k});
    nd->set("strides", one_d ? std::vector<int64_t>{s} : std::vector<int64_t>{s, s});
    nd->set("pads", one_d ? std::vector<int64_t>{p, p} : std::vector<int64_t>{p, p, p, p});
    nd->set("ceil_mode", rng.uniform_int(0, 1));
    return y + "_y";
  }
  std::string clamp(const std::string& x) {
    const std::string y = name("clamp");
    Node& nd = g.add_node("QClamp", y, {x}, {y + "_y"});
    nd.set("lo", int64_t{u8 ? 90 : -30});
    nd.set("hi", int64_t{u8 ? 200 : 90});
    return y + "_y";
  }
  std::string add(const std::string& x) {
    // x + clamp(x): two inputs of one shape, one dying at the add.
    const std::string c = clamp(x);
    const std::string y = name("add");
    g.add_node("QLinearAdd", y,
               {c, scale(0.02f, 0.1f), zero_point(), x, scale(0.02f, 0.1f), zero_point(),
                scale(0.05f, 0.2f), zero_point()},
               {y + "_y"})
        .set("requant_profile", profile);
    return y + "_y";
  }
  std::string concat(const std::string& x) {
    const std::string c = clamp(x);
    const std::string y = name("concat");
    const std::string sy = scale(0.02f, 0.1f), zy = zero_point();
    Node& nd =
        g.add_node("QLinearConcat", y,
                   {sy, zy, x, rng.uniform_int(0, 1) ? sy : scale(0.02f, 0.1f),
                    rng.uniform_int(0, 1) ? zy : zero_point(), c, scale(0.02f, 0.1f), zero_point()},
                   {y + "_y"});
    nd.set("axis", rng.uniform_int(0, 1) ? int64_t{1} : int64_t{-1});
    return y + "_y";
  }

  // QLinearLookup: random output codes, one table or one per channel (axis 1).
  std::string lookup(const std::string& x) {
    const int64_t c = shape(x)[1];
    const bool per_channel = rng.uniform_int(0, 1) == 1;
    Tensor t = Tensor::zeros(u8 ? DType::kU8 : DType::kS8, {per_channel ? c : 1, 256});
    if (u8) {
      for (auto& v : t.span<uint8_t>()) v = static_cast<uint8_t>(rng.uniform_int(0, 255));
    } else {
      for (auto& v : t.span<int8_t>()) v = static_cast<int8_t>(rng.uniform_int(-128, 127));
    }
    const std::string tn = name("table");
    g.add_initializer(tn, t);
    const std::string y = name("lookup");
    g.add_node("QLinearLookup", y, {x, tn}, {y + "_y"}).set("axis", int64_t{1});
    return y + "_y";
  }
  // QLinearMul of x and its global average pool [N, C, 1(, 1)] (broadcast), or of clamp(x).
  std::string mul(const std::string& x) {
    std::string b;
    if (rng.uniform_int(0, 1) == 1) {
      b = name("gap");
      g.add_node("QLinearGlobalAveragePool", b,
                 {x, scale(0.02f, 0.2f), zero_point(), scale(0.02f, 0.2f), zero_point()},
                 {b + "_y"})
          .set("requant_profile", profile);
      b += "_y";
    } else {
      b = clamp(x);
    }
    const std::string y = name("mul");
    g.add_node("QLinearMul", y,
               {x, scale(0.02f, 0.1f), zero_point(), b, scale(0.02f, 0.1f), zero_point(),
                scale(0.05f, 0.4f), zero_point()},
               {y + "_y"});
    return y + "_y";
  }

  // A float region, as the lowering leaves one: DQ(x) ∘ Clip(DQ(b)) with ∘ one of + − × ÷ and
  // b = x (other scale and zero point) or its global average pool [N, C, 1(, 1)] (broadcast),
  // then Relu or Clip (constant bounds) or nothing, then Q.
  std::string float_region(const std::string& x) {
    auto dq = [&](const std::string& v) {
      const std::string y = name("dq");
      g.add_node("DequantizeLinear", y, {v, scale(0.01f, 0.1f), zero_point()}, {y + "_y"});
      return y + "_y";
    };
    std::string b = x;
    if (rng.uniform_int(0, 1) == 1) {
      b = name("gap");
      g.add_node("QLinearGlobalAveragePool", b,
                 {x, scale(0.02f, 0.2f), zero_point(), scale(0.02f, 0.2f), zero_point()},
                 {b + "_y"})
          .set("requant_profile", profile);
      b += "_y";
    }
    const int op = static_cast<int>(rng.uniform_int(0, 3));
    const char* ops[] = {"Add", "Sub", "Mul", "Div"};
    // The divisor in [0.25, 4] (Clip), any other operand in [-3, 3].
    const std::string bc = name("clip");
    Node& clip = g.add_node("Clip", bc, {dq(b)}, {bc + "_y"});
    clip.set("min", op == 3 ? 0.25f : -3.0f);
    clip.set("max", op == 3 ? 4.0f : 3.0f);
    const std::string r = name("f32");
    g.add_node(ops[op], r, {dq(x), bc + "_y"}, {r + "_y"});
    std::string v = r + "_y";
    const int act = static_cast<int>(rng.uniform_int(0, 2));
    if (act < 2) {
      const std::string a = name(act == 0 ? "relu" : "clip");
      if (act == 0) {
        g.add_node("Relu", a, {v}, {a + "_y"});
      } else {
        Node& c = g.add_node("Clip", a, {v}, {a + "_y"});
        c.set("min", -0.5f);
        c.set("max", 1.5f);
      }
      v = a + "_y";
    }
    const std::string q = name("q");
    g.add_node("QuantizeLinear", q, {v, scale(0.01f, 0.1f), zero_point()}, {q + "_y"});
    return q + "_y";
  }

  Graph build(bool one_d) {
    const int64_t c = rng.uniform_int(1, 6);
    const Shape in = one_d ? Shape{kDynamic, c, rng.uniform_int(8, 40)}
                           : Shape{kDynamic, c, rng.uniform_int(4, 10), rng.uniform_int(4, 10)};
    g.add_input("x", DType::kF32, in);
    std::string v = name("xq");
    const std::string sx = scale(0.01f, 0.05f), zx = zero_point();
    g.add_node("QuantizeLinear", "quantize", {"x", sx, zx}, {v});
    const int layers = static_cast<int>(rng.uniform_int(2, 4));
    for (int l = 0; l < layers; ++l) {
      // With `elementwise`, every second layer a lookup or a mul.
      const int op = float_regions && l % 2 == 1 ? 7
                     : elementwise && l % 2 == 1 ? static_cast<int>(rng.uniform_int(5, 6))
                                                 : static_cast<int>(rng.uniform_int(0, 4));
      v = op == 7              ? float_region(v)
          : op == 0 || op == 1 ? conv(v)
          : op == 2            ? pool(v)
          : op == 3            ? add(v)
          : op == 4            ? concat(v)
          : op == 5            ? lookup(v)
                               : mul(v);
    }
    g.add_node("Flatten", "flatten", {v}, {"flat"}).set("axis", int64_t{1});
    const int64_t k = shape("flat")[1], nout = rng.uniform_int(1, 7);
    Tensor w = Tensor::zeros(DType::kS8, {nout, k});
    for (auto& e : w.span<int8_t>()) e = static_cast<int8_t>(rng.uniform_int(-127, 127));
    g.add_initializer("fc_w", w);
    g.add_initializer("fc_ws", Tensor::from<float>({}, {0.01f}));
    g.add_initializer("fc_wz", Tensor::from<int8_t>({}, {0}));
    g.add_initializer("fc_b", Tensor::zeros(DType::kS32, {nout}));
    const std::string sy = scale(0.05f, 0.3f), zy = zero_point();
    if (float_output) {  // QGemm without y_scale: float logits (ONNX Runtime's fusion)
      g.add_node("QGemm", "fc",
                 {"flat", scale(0.02f, 0.1f), zero_point(), "fc_w", "fc_ws", "fc_wz", "fc_b"},
                 {"y"})
          .set("transB", int64_t{1});
      g.add_output("y");
      return g;
    }
    Node& fc = g.add_node(
        "QGemm", "fc",
        {"flat", scale(0.02f, 0.1f), zero_point(), "fc_w", "fc_ws", "fc_wz", "fc_b", sy, zy},
        {"yq"});
    fc.set("transB", int64_t{1});
    fc.set("requant_profile", profile);
    g.add_node("DequantizeLinear", "dequantize", {"yq", sy, zy}, {"y"});
    g.add_output("y");
    return g;
  }
};

// Host compiler + the generated Makefile: output bits equal the engine's on `x`.
void expect_generated_equals_engine(const Graph& lowered, const Tensor& x, Target target,
                                    const std::string& what) {
  auto code = codegen(lowered, {.target = target}, {.source = what, .profile = "test"});
  ASSERT_TRUE(code.ok()) << what << ": " << code.status().message();
  TempDir dir("chain");
  ASSERT_TRUE(write_generated(code->code, dir / "gen").ok());
  ASSERT_TRUE(check_plan(code->plans.problem.problem, code->plans.best).ok());
  const Status built = build_host(dir / "gen");
  ASSERT_TRUE(built.ok()) << what << ": " << built.message();
  testing::write_f32(dir / "in.bin", x.span<float>());
  const Status ran = run_host(dir / "gen", dir / "in.bin", dir / "out.bin");
  ASSERT_TRUE(ran.ok()) << what << ": " << ran.message();
  auto want = testing::engine_output(lowered, x);
  ASSERT_TRUE(want.ok()) << what << ": " << want.status().message();
  const std::vector<float> got = testing::read_f32(dir / "out.bin");
  EXPECT_EQ(testing::count_bit_differences(got, want->span<float>()), 0)
      << what << ": generated code and engine differ (" << got.size() << " outputs)";
  std::printf("[ plan ] %s: arena %lld B (%s), greedy-by-size %lld B\n", what.c_str(),
              static_cast<long long>(code->plans.best.arena_bytes),
              code->plans.best.strategy.c_str(),
              static_cast<long long>(code->plans.greedy.arena_bytes));
}

TEST(Codegen, RandomLayerChainsEqualTheEngineOnTheHost) {
  if (!testing::host_tools()) GTEST_SKIP() << "missing: " << missing_tools(Target::kHost, false);
  const uint64_t seed = 20261203;
  std::printf("[ seed ] %llu\n", static_cast<unsigned long long>(seed));
  Rng rng(seed);
  for (int t = 0; t < 10; ++t) {
    ChainBuilder b{rng};
    b.u8 = t % 2 == 1;
    b.profile = t % 3 == 2 ? "tflite-single" : "tflite";
    Graph g = b.build(t % 4 < 2);
    ASSERT_TRUE(infer_shapes(g).ok());
    Shape xs = g.find_value("x")->shape;
    xs[0] = 3;
    Tensor x = Tensor::zeros(DType::kF32, xs);
    for (float& v : x.span<float>()) v = rng.uniform(-2.0f, 2.0f);
    // M4's DSP kernels (portable intrinsics on the host) on even cases, the reference on odd.
    expect_generated_equals_engine(g, x, t % 2 == 0 ? Target::kCortexM4 : Target::kHost,
                                   "chain " + std::to_string(t));
    if (HasFatalFailure()) return;
  }
}

TEST(Codegen, RandomChainsWithLookupAndMulEqualTheEngineOnTheHost) {
  if (!testing::host_tools()) GTEST_SKIP() << "missing: " << missing_tools(Target::kHost, false);
  const uint64_t seed = 20261209;
  std::printf("[ seed ] %llu\n", static_cast<unsigned long long>(seed));
  Rng rng(seed);
  int lookups = 0, muls = 0, broadcasts = 0;
  for (int t = 0; t < 4; ++t) {
    ChainBuilder b{rng};
    b.u8 = t % 2 == 1;
    b.elementwise = true;
    Graph g = b.build(t >= 2);
    ASSERT_TRUE(infer_shapes(g).ok());
    Shape xs = g.find_value("x")->shape;
    xs[0] = 2;
    Tensor x = Tensor::zeros(DType::kF32, xs);
    for (float& v : x.span<float>()) v = rng.uniform(-2.0f, 2.0f);
    for (const Node& n : g.nodes()) {
      lookups += n.op_type == "QLinearLookup";
      muls += n.op_type == "QLinearMul";
      const Node* p = n.op_type == "QLinearMul" ? g.producer(n.input(3)) : nullptr;
      broadcasts += p != nullptr && p->op_type == "QLinearGlobalAveragePool";
    }
    expect_generated_equals_engine(g, x, t % 2 == 0 ? Target::kCortexM4 : Target::kHost,
                                   "lookup/mul chain " + std::to_string(t));
    if (HasFatalFailure()) return;
  }
  EXPECT_GT(lookups, 0);  // the seed exercises both new layers and broadcasting
  EXPECT_GT(broadcasts, 0);
  EXPECT_GT(muls, broadcasts);
  std::printf("[ layers ] %d QLinearLookup, %d QLinearMul (%d broadcast)\n", lookups, muls,
              broadcasts);
}

TEST(Codegen, RandomChainsWithFloatRegionsEqualTheEngineOnTheHost) {
  if (!testing::host_tools()) GTEST_SKIP() << "missing: " << missing_tools(Target::kHost, false);
  const uint64_t seed = 20261207;
  std::printf("[ seed ] %llu\n", static_cast<unsigned long long>(seed));
  Rng rng(seed);
  std::map<std::string, int> ops;
  for (int t = 0; t < 4; ++t) {
    ChainBuilder b{rng};
    b.u8 = t % 2 == 1;
    b.float_regions = true;
    b.float_output = t < 2;
    Graph g = b.build(t % 2 == 0);
    ASSERT_TRUE(infer_shapes(g).ok());
    Shape xs = g.find_value("x")->shape;
    xs[0] = 2;
    Tensor x = Tensor::zeros(DType::kF32, xs);
    for (float& v : x.span<float>()) v = rng.uniform(-2.0f, 2.0f);
    for (const Node& n : g.nodes()) ++ops[n.op_type];
    expect_generated_equals_engine(g, x, t % 2 == 0 ? Target::kCortexM4 : Target::kHost,
                                   "float-region chain " + std::to_string(t));
    if (HasFatalFailure()) return;
  }
  EXPECT_GT(ops["DequantizeLinear"], 0);
  EXPECT_GT(ops["Clip"], 0);
  std::printf("[ float ops ] Add %d, Sub %d, Mul %d, Div %d, Relu %d, Clip %d, inner Q %d\n",
              ops["Add"], ops["Sub"], ops["Mul"], ops["Div"], ops["Relu"], ops["Clip"],
              ops["QuantizeLinear"] - 4);
}

// ---- refusals ------------------------------------------------------------------------------

Graph one_conv_graph(const std::string& profile) {
  Rng rng(5);
  ChainBuilder b{rng};
  b.profile = profile;
  b.g.add_input("x", DType::kF32, {kDynamic, 2, 6, 6});
  const std::string sx = b.scale(0.01f, 0.05f), zx = b.zero_point();
  b.g.add_node("QuantizeLinear", "quantize", {"x", sx, zx}, {"xq"});
  const std::string y = b.conv("xq");
  const std::string sy = b.scale(0.1f, 0.2f), zy = b.zero_point();
  b.g.add_node("DequantizeLinear", "dequantize", {y, sy, zy}, {"y"});
  b.g.add_output("y");
  return b.g;
}

TEST(Codegen, RefusesAFloatRequantizationProfile) {
  const Graph g = one_conv_graph("ort");
  auto m = build_deploy_model(g, {.target = Target::kCortexM4});
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().message().rfind("cannot generate code for node 'conv", 0), 0u)
      << m.status().message();
  EXPECT_NE(m.status().message().find("requant_profile = ort, must be tflite or tflite-single"),
            std::string::npos)
      << m.status().message();
  EXPECT_TRUE(build_deploy_model(one_conv_graph("tflite-single")).ok());
}

TEST(Codegen, RefusesFloatOpsAndOpsItCannotEmit) {
  for (const std::string op : {"Sigmoid", "QLinearSigmoid", "Transpose"}) {
    Graph g = one_conv_graph("tflite");
    // Insert `op` between the conv and the output DequantizeLinear.
    Node* dq = nullptr;
    for (Node& n : g.nodes()) {
      if (n.op_type == "DequantizeLinear") dq = &n;
    }
    ASSERT_NE(dq, nullptr);
    const std::string in = dq->inputs[0];
    dq->inputs[0] = "extra_y";
    g.add_node(op, "extra", {in}, {"extra_y"});
    auto m = build_deploy_model(g);
    ASSERT_FALSE(m.ok()) << op;
    const std::string msg(m.status().message());
    EXPECT_EQ(msg.rfind("cannot generate code for node 'extra' (" + op + ")", 0), 0u) << msg;
    EXPECT_EQ(std::count(msg.begin(), msg.end(), '\n'), 0) << msg;
    if (op == "Sigmoid") {
      EXPECT_NE(msg.find("float op left in the graph"), std::string::npos) << msg;
    } else {
      EXPECT_NE(msg.find("cannot emit"), std::string::npos) << msg;
    }
  }
}

// Float regions the generated code cannot run as the engine does: one line naming the node.
TEST(Codegen, RefusesFloatRegionsItCannotReproduce) {
  struct Case {
    std::string what, node, needle;
  };
  // Conv → DQ → <float op> → Q → DQ → output.
  auto graph = [](const std::function<void(Graph&, const std::string&)>& region) {
    Graph g = one_conv_graph("tflite");
    Node* dq = nullptr;
    for (Node& n : g.nodes()) {
      if (n.op_type == "DequantizeLinear") dq = &n;
    }
    const std::string conv_y = dq->inputs[0];
    dq->inputs[0] = "rq_y";
    g.add_initializer("fs", Tensor::from<float>({}, {0.05f}));
    g.add_initializer("fz", Tensor::from<int8_t>({}, {3}));
    g.add_node("DequantizeLinear", "rdq", {conv_y, "fs", "fz"}, {"rdq_y"});
    region(g, "rdq_y");  // writes "f_y"
    g.add_node("QuantizeLinear", "rq", {"f_y", "fs", "fz"}, {"rq_y"});
    return g;
  };
  const std::vector<std::pair<Graph, Case>> cases = {
      {graph([](Graph& g, const std::string& x) { g.add_node("Tanh", "f", {x}, {"f_y"}); }),
       {"float Tanh", "'f' (Tanh)", "op = float Tanh, must be integer or one of Add, Sub"}},
      {graph([](Graph& g, const std::string& x) {
         g.add_initializer("lo", Tensor::from<float>({}, {0.0f}));
         g.add_node("Clip", "f", {x, "lo"}, {"f_y"});
       }),
       {"Clip with an input bound", "'f' (Clip)", "input 1 = 'lo', must be absent"}},
      {graph([](Graph& g, const std::string& x) {
         g.add_initializer("k", Tensor::from<float>({}, {2.0f}));
         g.add_node("Mul", "f", {x, "k"}, {"f_y"});
       }),
       {"Mul by a constant", "'f' (Mul)", "input 1 'k' = not produced by"}},
      {graph([](Graph& g, const std::string& x) {
         g.add_node("Add", "f", {x, x}, {"f_y"}).set("activation", std::string("Relu"));
       }),
       {"fused activation", "'f' (Add)", "activation = Relu, must be absent"}},
  };
  for (const auto& [g0, c] : cases) {
    auto m = build_deploy_model(g0);
    ASSERT_FALSE(m.ok()) << c.what;
    const std::string msg(m.status().message());
    EXPECT_EQ(msg.rfind("cannot generate code for node " + c.node, 0), 0u) << c.what << ": " << msg;
    EXPECT_NE(msg.find(c.needle), std::string::npos) << c.what << ": " << msg;
    EXPECT_EQ(std::count(msg.begin(), msg.end(), '\n'), 0) << msg;
  }
  // A per-axis QuantizeLinear inside the graph.
  Graph g = graph([](Graph& gg, const std::string& x) { gg.add_node("Relu", "f", {x}, {"f_y"}); });
  g.add_initializer("fs2", Tensor::from<float>({2}, {0.05f, 0.1f}));
  for (Node& n : g.nodes()) {
    if (n.name == "rq") n.inputs[1] = "fs2";
  }
  auto m = build_deploy_model(g);
  ASSERT_FALSE(m.ok());
  const std::string msg(m.status().message());
  EXPECT_EQ(msg.rfind("cannot generate code for node 'rq' (QuantizeLinear)", 0), 0u) << msg;
}

TEST(Codegen, TabulationOfUnaryOpsRefusesNonConstantScales) {
  Rng rng(9);
  ChainBuilder b{rng};
  b.g.add_input("x", DType::kF32, {1, 2, 4});
  b.g.add_input("runtime_scale", DType::kF32, {});
  const std::string sx = b.scale(0.01f, 0.05f), zx = b.zero_point();
  b.g.add_node("QuantizeLinear", "quantize", {"x", sx, zx}, {"xq"});
  b.g.add_node("QLinearSigmoid", "sig", {"xq", "runtime_scale", zx, sx, zx}, {"yq"});
  b.g.add_node("DequantizeLinear", "dequantize", {"yq", sx, zx}, {"y"});
  b.g.add_output("y");
  const Status st = tabulate_unary_ops(b.g);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.message().rfind("cannot tabulate node 'sig' (QLinearSigmoid): inputs 1 and 3", 0),
            0u)
      << st.message();
  // A constant scale: the node becomes a QLinearLookup with a 256-entry table of x's type.
  b.g.nodes()[1].inputs[1] = sx;
  ASSERT_TRUE(tabulate_unary_ops(b.g).ok());
  EXPECT_EQ(b.g.nodes()[1].op_type, "QLinearLookup");
  const Tensor* t = b.g.constant(b.g.nodes()[1].inputs[1]);
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->numel(), 256);
  EXPECT_EQ(t->dtype(), DType::kS8);
}

TEST(Codegen, NothingIsWrittenWhenGenerationFails) {
  TempDir dir("refuse");
  auto code = codegen(one_conv_graph("ort"), {}, {});
  ASSERT_FALSE(code.ok());
  // The generator writes only a complete result; a failed write leaves no temporary behind.
  GeneratedCode partial;
  partial.files = {{"model.h", "x"}, {"sub/dir/no.c", "y"}};  // a name that cannot be created
  EXPECT_FALSE(write_generated(partial, dir / "out").ok());
  EXPECT_FALSE(fs::exists(dir / "out"));
  for (const auto& e : fs::directory_iterator(dir.path())) ADD_FAILURE() << "left: " << e.path();
}

}  // namespace
}  // namespace ei8::deploy
