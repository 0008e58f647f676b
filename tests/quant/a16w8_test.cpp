// A16W8 as a per-layer precision (issue 16 item 3): quantize_model with
// PtqOptions::layer_precision puts int16 symmetric activations around the chosen layers (and
// the pass-through ops between them); the integer engine lowers the int16 QDQ graph to integer
// nodes (int64 reference kernels) in every requantization profile and agrees with the float QDQ
// simulation within one output step; the opset-21 export round-trips bit for bit; int16
// activations bring the logits closer to float than int8;
// bad layer names are errors.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>

#include "ei8/core/rng.h"
#include "ei8/graph/onnx/onnx_io.h"
#include "ei8/graph/passes.h"
#include "ei8/quant/calibration.h"
#include "ei8/quant/int8_engine.h"
#include "ei8/quant/simulate.h"
#include "ei8/runtime/int8_lowering.h"
#include "ei8/runtime/kernels/conv_a16.h"
#include "test_graphs.h"

namespace ei8::quant {
namespace {

struct Fixture {
  Graph g;
  CalibTable table;
};

// `calib_outlier` ≠ 1: the first calibration sample is scaled by it, so every activation range
// (min/max) is that much wider than the typical input's — the case 8-bit activations handle
// worst and 16-bit ones absorb (2^8 times finer steps).
Fixture calibrated_two_conv(float calib_outlier) {
  Fixture f;
  f.g = two_conv_cnn(21);
  EXPECT_TRUE(optimize(f.g).ok());
  Rng rng(22);
  Tensor calib = random_tensor(rng, {64, 3, 8, 8}, -1.0f, 1.0f);
  for (int64_t i = 0; i < 3 * 8 * 8; ++i)
    calib.span<float>()[static_cast<size_t>(i)] *= calib_outlier;
  auto st = collect_statistics(f.g, calib, {});
  EXPECT_TRUE(st.ok()) << st.status().message();
  CalibParams cp;
  cp.method = CalibMethod::kMinMax;
  cp = calib_target(PtqOptions{}, cp);
  auto t = make_table(st.value(), cp);
  EXPECT_TRUE(t.ok()) << t.status().message();
  f.table = std::move(t).value();
  return f;
}

// SQNR in dB of `y` against `ref`.
double sqnr_db(const Tensor& ref, const Tensor& y) {
  double s = 0, e = 0;
  for (size_t i = 0; i < ref.span<float>().size(); ++i) {
    const double r = ref.span<float>()[i], d = r - y.span<float>()[i];
    s += r * r;
    e += d * d;
  }
  return 10.0 * std::log10(s / e);
}

TEST(A16W8, Int16LayerLowersToIntegerNodesAndMatchesSimulationInEveryProfile) {
  const Fixture f = calibrated_two_conv(1.0f);
  Rng rng(23);
  const Tensor x = random_tensor(rng, {16, 3, 8, 8}, -1.0f, 1.0f);
  for (fixedpoint::RequantProfile prof : fixedpoint::kAllProfiles) {
    PtqOptions po;
    po.profile = prof;
    po.layer_precision["conv2"] = LayerPrecision::kInt16;
    auto m = quantize_model(f.g, f.table, po);
    ASSERT_TRUE(m.ok()) << m.status().message();
    // conv2's input and output, and the MaxPool/Flatten after it (pass-through), are int16.
    EXPECT_EQ(m->int16_values, (std::vector<std::string>{"a", "b", "p", "f"}));
    for (const QuantizedLayer& L : m->layers) {
      EXPECT_EQ(L.precision, L.node == "conv2" ? LayerPrecision::kInt16 : LayerPrecision::kInt8);
    }
    int s16_q = 0;
    for (const Node& n : m->qdq.nodes()) {
      if (n.op_type != "QuantizeLinear") continue;
      const Tensor* z = m->qdq.constant(n.input(2));
      ASSERT_NE(z, nullptr);
      if (z->dtype() == DType::kS16) {
        ++s16_q;
        EXPECT_EQ(z->span<int16_t>()[0], 0);  // symmetric
      }
    }
    EXPECT_EQ(s16_q, 4);  // one QuantizeLinear per int16 value: a, b, p, f
    auto low = lower_to_int8(m->qdq, {.profile = prof});
    ASSERT_TRUE(low.ok()) << low.status().message();
    EXPECT_TRUE(low->float_nodes.empty()) << fmt::format("{}", fmt::join(low->float_nodes, ", "));
    int convs = 0;
    for (const Node& n : low->graph.nodes()) {
      EXPECT_NE(n.op_type, "Conv");
      EXPECT_NE(n.op_type, "Gemm");
      convs += n.op_type == "QLinearConv";
    }
    EXPECT_EQ(convs, 2);
    auto ex = ei8::make_int8_executor(m->qdq, {.profile = prof});
    ASSERT_TRUE(ex.ok()) << ex.status().message();
    auto y = run_batched(ex.value(), x, 16);
    ASSERT_TRUE(y.ok()) << y.status().message();
    int a16_nodes = 0;  // conv2 (s16 → s16) and fc (s16 input); conv1 (u8 → s16) too
    for (const auto& [node, variant] : ex->variants()) a16_nodes += variant.starts_with("a16w8:");
    EXPECT_EQ(a16_nodes, 3);
    auto sim = simulation_graph(m->qdq);
    ASSERT_TRUE(sim.ok());
    auto ys = run_batched(sim.value(), x, 16);
    ASSERT_TRUE(ys.ok()) << ys.status().message();
    const Node* d = m->qdq.producer(m->qdq.outputs()[0]);
    const float step = m->qdq.constant(d->input(1))->span<float>()[0];
    size_t exact = 0;
    for (size_t i = 0; i < y->span<float>().size(); ++i) {
      ASSERT_LE(std::fabs(y->span<float>()[i] - ys->span<float>()[i]), step * 1.001f)
          << fixedpoint::profile_name(prof) << " output " << i;
      exact += y->span<float>()[i] == ys->span<float>()[i];
    }
    std::printf("A16W8 %s: %zu/%zu outputs equal to the QDQ simulation\n",
                std::string(fixedpoint::profile_name(prof)).c_str(), exact,
                y->span<float>().size());
    // Export (opset 21, int16 Q/DQ) and import: the same bits on the integer engine.
    const auto path = std::filesystem::temp_directory_path() / "ei8_a16w8_test.onnx";
    const Status saved = save_onnx(m->qdq, path.string());
    ASSERT_TRUE(saved.ok()) << saved.message();
    auto back = load_onnx(path.string());
    ASSERT_TRUE(back.ok()) << back.status().message();
    auto ex2 = ei8::make_int8_executor(back.value(), {.profile = prof});
    ASSERT_TRUE(ex2.ok()) << ex2.status().message();
    auto y2 = run_batched(ex2.value(), x, 16);
    ASSERT_TRUE(y2.ok());
    EXPECT_EQ(std::memcmp(y->raw(), y2->raw(), y->nbytes()), 0);
    std::filesystem::remove(path);
  }
}

TEST(A16W8, Int16ActivationsBringTheLogitsCloserToFloat) {
  // Every layer A16W8 against every layer W8A8 (same int8 weights), with activation ranges
  // widened 20× by one outlier calibration sample: at 8 bits the activations' rounding error
  // dominates; at 16 bits it shrinks by 2^8 and the weights' error is what remains.
  const Fixture f = calibrated_two_conv(20.0f);
  Rng rng(24);
  const Tensor x = random_tensor(rng, {64, 3, 8, 8}, -1.0f, 1.0f);
  auto yf = run_batched(f.g, x, 64);
  ASSERT_TRUE(yf.ok());
  auto logits_sqnr = [&](const PtqOptions& po) {
    auto m = quantize_model(f.g, f.table, po);
    EXPECT_TRUE(m.ok()) << m.status().message();
    auto ex = make_int8_executor(m.value());
    EXPECT_TRUE(ex.ok()) << ex.status().message();
    auto y = run_batched(ex.value(), x, 64);
    EXPECT_TRUE(y.ok());
    return sqnr_db(yf.value(), y.value());
  };
  PtqOptions int8;
  PtqOptions a16 = int8;
  a16.layer_precision["conv1"] = LayerPrecision::kInt16;
  a16.layer_precision["conv2"] = LayerPrecision::kInt16;
  a16.layer_precision["fc"] = LayerPrecision::kInt16;
  const double s8 = logits_sqnr(int8), s16 = logits_sqnr(a16);
  std::printf("logits SQNR vs float: all int8 %.2f dB, all A16W8 %.2f dB\n", s8, s16);
  EXPECT_GT(s16, s8 + 6.0);  // 8 more activation bits: a clear gain (weights still 8-bit)
}

TEST(A16W8, FloatPrecisionExcludesAndBadNamesAreErrors) {
  const Fixture f = calibrated_two_conv(1.0f);
  PtqOptions po;
  po.layer_precision["conv2"] = LayerPrecision::kFloat;
  auto m = quantize_model(f.g, f.table, po);
  ASSERT_TRUE(m.ok()) << m.status().message();
  EXPECT_NE(std::find(m->float_nodes.begin(), m->float_nodes.end(), "conv2"), m->float_nodes.end());
  po.layer_precision = {{"nope", LayerPrecision::kInt16}};
  auto bad = quantize_model(f.g, f.table, po);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("layer 'nope'"), std::string::npos)
      << bad.status().message();
  po.layer_precision = {{"pool", LayerPrecision::kInt16}};
  bad = quantize_model(f.g, f.table, po);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("must be a Conv, Gemm or MatMul"), std::string::npos)
      << bad.status().message();
  EXPECT_EQ(parse_layer_precision("int16").value(), LayerPrecision::kInt16);
  EXPECT_FALSE(parse_layer_precision("int4").ok());
}

// Issue 16 item 3 (2): an int16 layer's neighbourhood stays integer. Add (with a Relu) and
// Concat between int16 Q/DQ lower to QLinearAdd / QLinearConcat on s16 tensors (no float node
// left), and the integer engine's outputs equal the float QDQ graph's bit for bit in every
// profile (those ops evaluate the float formula of DQ → op → Q, as ONNX Runtime does for int16).
TEST(A16W8, Int16AddAndConcatStayIntegerAndMatchTheQdqGraphExactly) {
  const Graph g = int16_add_concat_qdq();
  Rng rng(1619);
  Tensor x = random_tensor(rng, {6, 4, 5, 5}, -1.0f, 1.0f);
  x.span<float>()[0] = 5.0f;  // beyond the int16 range of every scale: saturation
  x.span<float>()[1] = -5.0f;
  auto sim = simulation_graph(g);
  ASSERT_TRUE(sim.ok()) << sim.status().message();
  auto want = run_batched(sim.value(), x, 6);
  ASSERT_TRUE(want.ok()) << want.status().message();
  for (fixedpoint::RequantProfile prof : fixedpoint::kAllProfiles) {
    auto low = lower_to_int8(g, {.profile = prof});
    ASSERT_TRUE(low.ok()) << low.status().message();
    EXPECT_TRUE(low->float_nodes.empty()) << fmt::format("{}", fmt::join(low->float_nodes, ", "));
    int adds = 0, concats = 0;
    for (const Node& n : low->graph.nodes()) {
      adds += n.op_type == "QLinearAdd";
      concats += n.op_type == "QLinearConcat";
      EXPECT_NE(n.op_type, "Add");
      EXPECT_NE(n.op_type, "Concat");
    }
    EXPECT_EQ(adds, 1);
    EXPECT_EQ(concats, 1);
    auto ex = ei8::make_int8_executor(g, {.profile = prof});
    ASSERT_TRUE(ex.ok()) << ex.status().message();
    auto y = run_batched(ex.value(), x, 6);
    ASSERT_TRUE(y.ok()) << y.status().message();
    ASSERT_EQ(y->nbytes(), want->nbytes());
    EXPECT_EQ(std::memcmp(y->raw(), want->raw(), y->nbytes()), 0) << fixedpoint::profile_name(prof);
  }
}

// The executor's A16W8 nodes: every forced tier and the measured (tuned) plans give the same
// outputs bit for bit; with a tuner the int16 conv and FC layers are measured (keys "a16-conv",
// "a16-fc") and their variants name the chosen plan.
TEST(A16W8, EveryTierAndTheTunedPlansGiveTheSameOutputs) {
  const Fixture f = calibrated_two_conv(1.0f);
  Rng rng(1621);
  const Tensor x = random_tensor(rng, {5, 3, 8, 8}, -1.0f, 1.0f);
  PtqOptions po;
  po.layer_precision["conv2"] = LayerPrecision::kInt16;
  auto m = quantize_model(f.g, f.table, po);
  ASSERT_TRUE(m.ok()) << m.status().message();
  auto e0 = ei8::make_int8_executor(m->qdq, {}, {.kernel = kernels::KernelChoice::kRef});
  ASSERT_TRUE(e0.ok()) << e0.status().message();
  auto y0 = e0->run({x});
  ASSERT_TRUE(y0.ok()) << y0.status().message();
  for (kernels::KernelChoice c : {kernels::KernelChoice::kGeneric, kernels::KernelChoice::kAvx2,
                                  kernels::KernelChoice::kAuto}) {
    if (!kernels::kernel_choice_available(c)) continue;
    auto e = ei8::make_int8_executor(m->qdq, {}, {.kernel = c});
    ASSERT_TRUE(e.ok()) << e.status().message();
    auto y = e->run({x});
    ASSERT_TRUE(y.ok()) << y.status().message();
    EXPECT_EQ(std::memcmp(y0.value()[0].raw(), y.value()[0].raw(), y0.value()[0].nbytes()), 0)
        << kernels::kernel_choice_name(c);
  }
  ExecutorOptions opt;
  opt.tuner = std::make_shared<kernels::PlanTuner>(
      kernels::PlanTuner::Options{kernels::PlanTuner::Mode::kMeasure, 5.0});
  auto e1 = ei8::make_int8_executor(m->qdq, {}, opt);
  ASSERT_TRUE(e1.ok()) << e1.status().message();
  auto y1 = e1->run({x});
  ASSERT_TRUE(y1.ok()) << y1.status().message();
  EXPECT_EQ(std::memcmp(y0.value()[0].raw(), y1.value()[0].raw(), y0.value()[0].nbytes()), 0);
  if (kernels::ConvA16Kernel::plan_candidates().size() > 1) {
    int conv = 0, fc = 0;
    for (const auto& r : opt.tuner->decisions()) {
      conv += r.key.starts_with("a16-conv");
      fc += r.key.starts_with("a16-fc");
    }
    EXPECT_EQ(conv, 2);  // conv1 (u8 → s16) and conv2 (s16 → s16)
    EXPECT_EQ(fc, 1);    // fc (s16 input)
  }
  int a16 = 0;
  for (const auto& [node, variant] : e1->variants()) {
    if (!variant.starts_with("a16w8:")) continue;
    ++a16;
    // A plan name of a tier this CPU runs: "<tier>/gemm-…" or "<tier>/direct-…".
    const std::string plan = variant.substr(6);
    const std::string tier = plan.substr(0, plan.find('/'));
    bool runs = false;
    for (kernels::KernelChoice c : kernels::registered_a16_kernels()) {
      runs =
          runs || (kernels::kernel_choice_name(c) == tier && kernels::kernel_choice_available(c));
    }
    EXPECT_TRUE(runs) << variant;
    EXPECT_TRUE(plan.find("/gemm-") != std::string::npos ||
                plan.find("/direct-") != std::string::npos)
        << variant;
  }
  EXPECT_EQ(a16, 3);
}

}  // namespace
}  // namespace ei8::quant
