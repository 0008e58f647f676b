#include "ei8/quant/calibration.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "ei8/core/npy.h"
#include "ei8/core/rng.h"
#include "ei8/quant/ptq.h"
#include "ei8/quant/simulate.h"
#include "test_graphs.h"

namespace ei8::quant {
namespace {

namespace fs = std::filesystem;

Tensor random_data(uint64_t seed, int64_t n) {
  Rng rng(seed);
  return random_tensor(rng, {n, 3, 8, 8}, -1.0f, 1.0f);
}

float min_of(std::span<const float> v) { return *std::min_element(v.begin(), v.end()); }
float max_of(std::span<const float> v) { return *std::max_element(v.begin(), v.end()); }

TEST(Calibration, ObservesEveryActivationBatchByBatch) {
  const Graph g = small_cnn(21);
  const Tensor data = random_data(22, 37);  // 4 full batches of 8 + 5
  CalibrationOptions o;
  o.batch = 8;
  Result<Statistics> st = collect_statistics(g, data, o);
  ASSERT_TRUE(st.ok()) << st.status().message();
  EXPECT_EQ(st->names, (std::vector<std::string>{"x", "r", "p", "f", "y"}));
  EXPECT_EQ(st->samples, 37);
  const TensorObserver& x = *st->find("x");
  EXPECT_EQ(x.count(), 37u * 192u);
  EXPECT_EQ(x.batches(), 5);
  EXPECT_EQ(x.min(), min_of(data.span<float>()));
  EXPECT_EQ(x.max(), max_of(data.span<float>()));
  EXPECT_GE(st->find("r")->min(), 0.0f);                  // ReLU output
  EXPECT_EQ(st->find("p")->max(), st->find("r")->max());  // MaxPool keeps the maximum
  EXPECT_EQ(st->find("f")->count(), 37u * 64u);
  // The logits' range equals what a plain forward pass over all samples gives.
  Result<Tensor> y = run_batched(g, data, 37);
  ASSERT_TRUE(y.ok()) << y.status().message();
  EXPECT_NEAR(st->find("y")->min(), min_of(y->span<float>()), 1e-5);
  EXPECT_NEAR(st->find("y")->max(), max_of(y->span<float>()), 1e-5);
  EXPECT_EQ(st->find("y")->count(), 37u * 5u);
}

TEST(Calibration, SameDataGivesByteIdenticalTables) {
  const Graph g = small_cnn(23);
  const Tensor data = random_data(24, 50);
  CalibParams p;
  p.method = CalibMethod::kEntropy;
  std::string first;
  for (int run = 0; run < 2; ++run) {
    Result<Statistics> st = collect_statistics(g, data, CalibrationOptions{});
    ASSERT_TRUE(st.ok()) << st.status().message();
    Result<CalibTable> t = make_table(st.value(), p);
    ASSERT_TRUE(t.ok()) << t.status().message();
    const std::string text = serialize_calib_table(t.value());
    if (run == 0) first = text;
    EXPECT_EQ(text, first);
  }
}

TEST(Calibration, BadDataIsAClearError) {
  const Graph g = small_cnn(25);
  Result<Statistics> st = collect_statistics(g, Tensor::zeros(DType::kF32, {0, 3, 8, 8}), {});
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.status().message().find("calibration samples = 0, must be >= 1"), std::string::npos);
  st = collect_statistics(g, Tensor::zeros(DType::kF32, {4, 3, 9, 8}), {});
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.status().message().find("shape = [4, 3, 9, 8], must be [N, 3, 8, 8]"),
            std::string::npos)
      << st.status().message();
  CalibrationOptions o;
  o.batch = 0;
  EXPECT_FALSE(collect_statistics(g, random_data(1, 2), o).ok());
}

TEST(Calibration, LoadsNpyFilesAndDirectories) {
  const fs::path dir = fs::temp_directory_path() / "ei8_calib_data_test";
  fs::remove_all(dir);
  fs::create_directories(dir);
  const Shape input = {kDynamic, 3, 8, 8};
  // A directory: one sample without batch axis, then a batch of 3 (sorted by file name).
  const Tensor one = random_data(31, 1), three = random_data(32, 3);
  Tensor one_unbatched = one;
  ASSERT_TRUE(one_unbatched.reshape({3, 8, 8}).ok());
  ASSERT_TRUE(write_npy((dir / "a.npy").string(), one_unbatched).ok());
  ASSERT_TRUE(write_npy((dir / "b.npy").string(), three).ok());
  Result<Tensor> d = load_calibration_data(dir.string(), input);
  ASSERT_TRUE(d.ok()) << d.status().message();
  EXPECT_EQ(d->shape(), (Shape{4, 3, 8, 8}));
  EXPECT_EQ(d->span<float>()[0], one.span<float>()[0]);
  EXPECT_EQ(d->span<float>()[192], three.span<float>()[0]);
  // A single file.
  d = load_calibration_data((dir / "b.npy").string(), input);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->dim(0), 3);
  // Mismatched shape, names the file.
  ASSERT_TRUE(write_npy((dir / "c.npy").string(), Tensor::zeros(DType::kF32, {2, 1, 8, 8})).ok());
  d = load_calibration_data(dir.string(), input);
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.status().message().find("c.npy: shape = [2, 1, 8, 8], must be [N, 3, 8, 8] or "
                                      "[3, 8, 8]"),
            std::string::npos)
      << d.status().message();
  // Wrong dtype.
  ASSERT_TRUE(write_npy((dir / "c.npy").string(), Tensor::zeros(DType::kU8, {3, 8, 8})).ok());
  d = load_calibration_data(dir.string(), input);
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.status().message().find("dtype = u8, must be f32"), std::string::npos);
  // Empty directory and missing path.
  fs::remove_all(dir);
  fs::create_directories(dir);
  d = load_calibration_data(dir.string(), input);
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.status().message().find(".npy files = 0"), std::string::npos);
  fs::remove_all(dir);
  EXPECT_EQ(load_calibration_data(dir.string(), input).status().code(), StatusCode::kNotFound);
}

// QuantizeLinear/DequantizeLinear of the executor against quant_math (the numeric contract's
// reference implementation), element by element, per tensor.
TEST(Simulation, QdqOpsMatchQuantMath) {
  for (QType t : {QType::kU8, QType::kS8}) {
    const QuantParams p = choose_qparams(-0.7f, 1.3f, t).value();
    Graph g("qdq");
    g.add_input("x", DType::kF32, {kDynamic, 3, 8, 8});
    g.add_initializer("s", Tensor::from<float>(Shape{}, {p.scale}));
    g.add_initializer(
        "z", t == QType::kU8 ? Tensor::from<uint8_t>(Shape{}, {static_cast<uint8_t>(p.zero_point)})
                             : Tensor::from<int8_t>(Shape{}, {static_cast<int8_t>(p.zero_point)}));
    g.add_node("QuantizeLinear", "q", {"x", "s", "z"}, {"xq"});
    g.add_node("DequantizeLinear", "dq", {"xq", "s", "z"}, {"y"});
    g.add_output("y");
    Tensor x = random_data(41, 6);
    for (float& v : x.span<float>()) v *= 2.0f;  // exercise saturation
    x.span<float>()[0] = 0.5f * p.scale;         // ties
    x.span<float>()[1] = 1.5f * p.scale;
    Result<Tensor> y = run_batched(g, x, 4);
    ASSERT_TRUE(y.ok()) << y.status().message();
    for (int64_t i = 0; i < x.numel(); ++i) {
      const int32_t q = quantize_value(x.span<float>()[i], p, t);
      ASSERT_EQ(y->span<float>()[i], dequantize_value(q, p)) << "element " << i;
    }
  }
}

TEST(Simulation, QuantizedModelTracksTheFloatModel) {
  const Graph g = small_cnn(51);
  const Tensor calib = random_data(52, 64), eval = random_data(53, 40);
  Result<Statistics> st = collect_statistics(g, calib, {});
  ASSERT_TRUE(st.ok()) << st.status().message();
  CalibParams cp;
  Result<CalibTable> t = make_table(st.value(), cp);  // minmax
  ASSERT_TRUE(t.ok());
  Result<QuantizedModel> m = quantize_model(g, t.value(), PtqOptions{});
  ASSERT_TRUE(m.ok()) << m.status().message();
  Result<Graph> sim = simulation_graph(m->qdq);
  ASSERT_TRUE(sim.ok()) << sim.status().message();
  // Weights were folded: no DequantizeLinear of constants remains.
  for (const Node& n : sim->nodes()) {
    if (n.op_type == "DequantizeLinear") {
      EXPECT_EQ(sim->constant(n.input(0)), nullptr);
    }
  }
  const Tensor* w = sim->constant("conv_weight_dequantized");
  ASSERT_NE(w, nullptr);
  Result<Tensor> w_ref = dequantize_per_channel(
      m->layers[0].weight_q,
      [&] {
        std::vector<QuantParams> ps;
        for (float s : m->layers[0].weight_scales) {
          ps.push_back({s, 0});
        }
        return ps;
      }(),
      0);
  ASSERT_TRUE(w_ref.ok());
  for (int64_t i = 0; i < w->numel(); ++i) ASSERT_EQ(w->span<float>()[i], w_ref->span<float>()[i]);
  Result<Tensor> yf = run_batched(g, eval, 16);
  Result<Tensor> yq = run_batched(sim.value(), eval, 16);
  ASSERT_TRUE(yf.ok() && yq.ok()) << yq.status().message();
  // Every simulated logit sits on the output grid s_y·(q − z_y).
  const QuantParams py = m->layers[1].output_q;
  for (float v : yq->span<float>()) {
    const float k = v / py.scale + static_cast<float>(py.zero_point);
    EXPECT_NEAR(k, std::nearbyint(k), 1e-3f);
  }
  // and close to the float logit: input, weight and output rounding, a few steps at most.
  double max_err = 0.0;
  for (int64_t i = 0; i < yf->numel(); ++i) {
    max_err = std::max(max_err, double{std::fabs(yf->span<float>()[i] - yq->span<float>()[i])});
  }
  EXPECT_LT(max_err, 6.0 * py.scale) << "max |float − int8| = " << max_err;
  const auto af = argmax_rows(yf.value()), aq = argmax_rows(yq.value());
  int agree = 0;
  for (size_t i = 0; i < af.size(); ++i) agree += af[i] == aq[i];
  EXPECT_GE(agree, 36) << "top-1 agreement " << agree << "/40";
}

}  // namespace
}  // namespace ei8::quant
