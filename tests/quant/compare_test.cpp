// compare.h on small graphs: the runs it compares (FP32, QDQ simulation, integer engine in each
// profile, dumps), the metrics, the first divergence, layer-wise feeding, and bad input.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>

#include "ei8/core/npy.h"
#include "ei8/core/rng.h"
#include "ei8/graph/onnx/onnx_io.h"
#include "ei8/graph/passes.h"
#include "ei8/quant/calibration.h"
#include "ei8/quant/compare.h"
#include "ei8/quant/ptq.h"
#include "test_graphs.h"

namespace ei8::quant {
namespace {

namespace fs = std::filesystem;
constexpr uint64_t kSeed = 20261208;

Tensor inputs(uint64_t seed, int64_t n) {
  Rng rng(seed);
  return random_tensor(rng, {n, 3, 8, 8}, -1.0f, 1.0f);
}

QuantizedModel quantized(const Graph& g, const Tensor& calib,
                         fixedpoint::RequantProfile profile = fixedpoint::RequantProfile::kOrt) {
  Result<Statistics> st = collect_statistics(g, calib, {});
  EXPECT_TRUE(st.ok()) << st.status().message();
  PtqOptions o;
  o.profile = profile;
  CalibParams cp;
  cp.method = CalibMethod::kMinMax;
  Result<CalibTable> t = make_table(st.value(), calib_target(o, cp));
  EXPECT_TRUE(t.ok());
  Result<QuantizedModel> m = quantize_model(g, t.value(), o);
  EXPECT_TRUE(m.ok()) << m.status().message();
  return std::move(m).value();
}

TensorSet run(const Graph& g, Engine e, const Tensor& x,
              fixedpoint::RequantProfile p = fixedpoint::RequantProfile::kOrt) {
  Result<ProbedModel> m = ProbedModel::create(g, {.engine = e, .profile = p});
  EXPECT_TRUE(m.ok()) << m.status().message();
  Result<TensorSet> s = m->run(x);
  EXPECT_TRUE(s.ok()) << s.status().message();
  return std::move(s).value();
}

Comparison compare(const TensorSet& a, const TensorSet& b, CompareOptions o = {}) {
  Result<Comparison> c = compare_tensor_sets(a, b, o);
  EXPECT_TRUE(c.ok()) << c.status().message();
  return std::move(c).value();
}

const TensorComparison& row(const Comparison& c, const std::string& name) {
  for (const TensorComparison& t : c.tensors) {
    if (t.name == name) return t;
  }
  ADD_FAILURE() << "no tensor " << name;
  return c.tensors.front();
}

Graph model() {
  Graph g = two_conv_cnn(kSeed);
  EXPECT_TRUE(optimize(g).ok());
  return g;
}

TEST(Compare, NamesEveryTensorOfEachRunInTheFloatModelsTerms) {
  const Graph g = model();
  const QuantizedModel m = quantized(g, inputs(kSeed + 1, 64));
  const Tensor x = inputs(kSeed + 2, 8);
  const std::vector<std::string> want = {"x", "a", "b", "p", "f", "y"};
  for (Engine e : {Engine::kFloat, Engine::kInt8}) {
    const TensorSet s = run(m.qdq, e, x);
    std::vector<std::string> names;
    for (const ProbedTensor& t : s.tensors) {
      names.push_back(t.name);
      EXPECT_TRUE(t.q.has_value()) << t.name;  // every tensor of this model is quantized
    }
    EXPECT_EQ(names, want) << engine_name(e);
  }
  const TensorSet f = run(g, Engine::kFloat, x);
  ASSERT_EQ(f.tensors.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) EXPECT_EQ(f.tensors[i].name, want[i]);
}

// The QDQ simulation following a profile (exact accumulator, the profile's requantizer) and the
// integer engine of that profile: 0 LSB on every tensor. Models: the two-conv test model (Conv,
// Relu, MaxPool, Flatten, Gemm) and the exported SignalCNN1D of tests/data (Conv1d + Relu,
// GlobalAveragePool, Gemm), per-tensor and per-channel weights, W8 and W4, 64 seeded inputs.
// The plain simulation (float sums, division by s_y) is not exact: it is measured beside.
TEST(Compare, SimulationFollowingTheProfileMatchesTheIntegerEngineToTheBit) {
  struct Case {
    std::string name;
    Graph g;
    Tensor calib, x;
  };
  std::vector<Case> cases;
  cases.push_back({"two_conv", model(), inputs(kSeed + 3, 64), inputs(kSeed + 4, 64)});
  {
    Result<Graph> sig = load_onnx(std::string(EI8_TEST_DATA_DIR) + "/models/signal_cnn1d.onnx");
    ASSERT_TRUE(sig.ok()) << sig.status().message();
    ASSERT_TRUE(optimize(sig.value()).ok());
    const Value* in = sig->find_value(sig->inputs()[0]);
    Shape s = in->shape;
    Rng rng(kSeed + 40);
    s[0] = 64;
    Tensor calib = random_tensor(rng, s, -2.0f, 2.0f), x = random_tensor(rng, s, -2.0f, 2.0f);
    cases.push_back({"signal_cnn1d", std::move(sig).value(), calib, x});
  }
  std::printf("seed %llu\n", static_cast<unsigned long long>(kSeed));
  double plain_max = 0.0;
  for (const Case& k : cases) {
    for (auto p : fixedpoint::kAllProfiles) {
      for (auto gran : {WeightGranularity::kPerTensor, WeightGranularity::kPerChannel}) {
        for (int bits : {8, 4}) {
          SCOPED_TRACE(k.name + " " + std::string(fixedpoint::profile_name(p)) + " " +
                       std::string(weight_granularity_name(gran)) + " W" + std::to_string(bits));
          Result<Statistics> st = collect_statistics(k.g, k.calib, {});
          ASSERT_TRUE(st.ok());
          PtqOptions o;
          o.profile = p;
          o.weights = gran;
          o.weight_bits = bits;
          CalibParams cp;
          cp.method = CalibMethod::kMinMax;
          Result<CalibTable> t = make_table(st.value(), calib_target(o, cp));
          ASSERT_TRUE(t.ok());
          Result<QuantizedModel> m = quantize_model(k.g, t.value(), o);
          ASSERT_TRUE(m.ok()) << m.status().message();
          Result<ProbedModel> sim_model =
              ProbedModel::create(m->qdq, {.engine = Engine::kFloat, .profile = p});
          ASSERT_TRUE(sim_model.ok()) << sim_model.status().message();
          EXPECT_TRUE(sim_model->notes().empty()) << sim_model->notes().front();
          const TensorSet sim = sim_model->run(k.x).value();
          const TensorSet eng = run(m->qdq, Engine::kInt8, k.x, p);
          const Comparison c = compare(sim, eng);
          EXPECT_TRUE(c.only_a.empty() && c.only_b.empty());
          EXPECT_GE(c.tensors.size(), 5u);
          for (const TensorComparison& r : c.tensors) {
            EXPECT_EQ(r.max_abs_lsb, 0.0) << r.name;
            EXPECT_EQ(r.max_abs, 0.0) << r.name;
          }
          EXPECT_FALSE(c.first_divergence.has_value());
          for (const TensorComparison& r :
               compare(run(m->qdq, Engine::kFloatPlain, k.x), eng).tensors) {
            plain_max = std::max(plain_max, r.max_abs_lsb);
          }
        }
      }
    }
  }
  std::printf("plain simulation vs integer engine: max %.0f LSB\n", plain_max);
  // The same engine twice: bit-identical, SQNR +inf.
  const Graph g = model();
  const QuantizedModel m = quantized(g, inputs(kSeed + 3, 64));
  const TensorSet eng = run(m.qdq, Engine::kInt8, inputs(kSeed + 4, 32));
  const Comparison same = compare(eng, run(m.qdq, Engine::kInt8, inputs(kSeed + 4, 32)));
  for (const TensorComparison& t : same.tensors) {
    EXPECT_EQ(t.max_abs, 0.0) << t.name;
    EXPECT_TRUE(std::isinf(t.sqnr_db) && t.sqnr_db > 0) << t.name;
  }
  EXPECT_FALSE(same.first_divergence.has_value());
}

// FP32 vs the QDQ simulation: the quantization error of each tensor. The input is only rounded
// (calibrated on the same distribution): about half a step; later tensors accumulate error.
TEST(Compare, FloatVersusSimulationMeasuresTheQuantizationError) {
  const Graph g = model();
  const Tensor x = inputs(kSeed + 12, 32);
  const QuantizedModel m = quantized(g, inputs(kSeed + 13, 64));
  const Comparison c = compare(run(g, Engine::kFloat, x), run(m.qdq, Engine::kFloat, x));
  ASSERT_EQ(c.tensors.size(), 6u);
  EXPECT_LE(row(c, "x").max_abs_lsb, 0.6);  // rounding, and x slightly beyond the calib range
  EXPECT_GT(row(c, "x").sqnr_db, 40.0);
  for (const TensorComparison& t : c.tensors) {
    SCOPED_TRACE(t.name);
    EXPECT_TRUE(std::isfinite(t.sqnr_db));
    EXPECT_GT(t.sqnr_db, 15.0);
    EXPECT_GT(t.cosine, 0.98);
    EXPECT_GT(t.max_abs, 0.0);
  }
  // Error grows along the graph: the logits are further off than the input.
  EXPECT_LT(row(c, "y").sqnr_db, row(c, "x").sqnr_db);
}

TEST(Compare, AWrongScaleIsTheFirstDivergence) {
  const Graph g = model();
  const Tensor x = inputs(kSeed + 6, 32);
  QuantizedModel m = quantized(g, inputs(kSeed + 5, 64));
  // conv2's output scale 8x too small: its values clip at 1/8 of their range.
  Tensor& s = *m.qdq.find_value("b_scale")->data;
  s.span<float>()[0] /= 8.0f;
  const TensorSet fp = run(g, Engine::kFloat, x);
  for (Engine e : {Engine::kFloat, Engine::kInt8}) {
    SCOPED_TRACE(engine_name(e));
    Result<ProbedModel> b = ProbedModel::create(m.qdq, {.engine = e});
    ASSERT_TRUE(b.ok());
    for (bool layer_wise : {false, true}) {
      Result<TensorSet> tb = layer_wise ? b->run_fed(x, fp) : b->run(x);
      ASSERT_TRUE(tb.ok()) << tb.status().message();
      const Comparison c = compare(fp, tb.value(), {.tolerance_lsb = 4.0});
      ASSERT_TRUE(c.first_divergence.has_value());
      EXPECT_EQ(c.first_divergence->tensor, "b") << (layer_wise ? "layer-wise" : "graph-wise");
      const Divergence& d = *c.first_divergence;
      ASSERT_EQ(d.index.size(), 4u);
      EXPECT_GT(std::fabs(d.a - d.b), 4.0 * row(c, "b").lsb);
      EXPECT_LT(row(c, "b").sqnr_db, row(c, "a").sqnr_db - 10.0);
    }
  }
}

TEST(Compare, LayerWiseFeedingStopsErrorsFromAccumulating) {
  const Graph g = model();
  const Tensor x = inputs(kSeed + 8, 32);
  const QuantizedModel m = quantized(g, inputs(kSeed + 7, 64));
  const TensorSet fp = run(g, Engine::kFloat, x);
  Result<ProbedModel> b = ProbedModel::create(m.qdq, {.engine = Engine::kInt8});
  ASSERT_TRUE(b.ok());
  const Comparison graph = compare(fp, b->run(x).value());
  const Comparison layer = compare(fp, b->run_fed(x, fp).value());
  // Fed A's own input, the first layer is the same either way; the last one is closer.
  EXPECT_EQ(row(graph, "a").max_abs, row(layer, "a").max_abs);
  EXPECT_GE(row(layer, "y").sqnr_db, row(graph, "y").sqnr_db);
  // Fed its own tensors, B reproduces itself exactly.
  const TensorSet own = b->run(x).value();
  const Comparison self = compare(own, b->run_fed(x, own).value());
  for (const TensorComparison& t : self.tensors) EXPECT_EQ(t.max_abs, 0.0) << t.name;
}

TEST(Compare, DumpsRoundTripAndForeignDumpsAreRead) {
  const Graph g = model();
  const Tensor x = inputs(kSeed + 10, 8);
  const QuantizedModel m = quantized(g, inputs(kSeed + 9, 64));
  const TensorSet eng = run(m.qdq, Engine::kInt8, x);
  const std::string dir = ::testing::TempDir() + "ei8_dump_" + std::to_string(getpid());
  fs::remove_all(dir);
  ASSERT_TRUE(write_dump(eng, dir).ok());
  Result<TensorSet> back = read_dump(dir);
  ASSERT_TRUE(back.ok()) << back.status().message();
  ASSERT_EQ(back->tensors.size(), eng.tensors.size());
  for (size_t i = 0; i < eng.tensors.size(); ++i) {
    EXPECT_EQ(back->tensors[i].name, eng.tensors[i].name);
    ASSERT_TRUE(back->tensors[i].q.has_value());
    EXPECT_EQ(back->tensors[i].q->scale, eng.tensors[i].q->scale);
  }
  for (const TensorComparison& t : compare(eng, back.value()).tensors) {
    EXPECT_EQ(t.max_abs, 0.0) << t.name;
  }
  // Another engine's dump: no manifest, u8 codes of 'b' only, named by tensor.
  const std::string foreign = dir + "_foreign";
  fs::create_directories(foreign);
  const ProbedTensor& b = *eng.find("b");
  Tensor codes = Tensor::zeros(DType::kU8, b.values.shape());
  for (size_t i = 0; i < codes.span<uint8_t>().size(); ++i) {
    codes.span<uint8_t>()[i] =
        static_cast<uint8_t>(quantize_value(b.values.span<float>()[i], *b.q, QType::kU8));
  }
  ASSERT_TRUE(write_npy(foreign + "/b.npy", codes).ok());
  Result<TensorSet> f = read_dump(foreign);
  ASSERT_TRUE(f.ok());
  EXPECT_FALSE(f->ordered);
  const Comparison c = compare(eng, f.value());
  ASSERT_EQ(c.tensors.size(), 1u);
  EXPECT_EQ(c.tensors[0].max_abs, 0.0);
  EXPECT_EQ(c.only_a.size(), eng.tensors.size() - 1);
  fs::remove_all(dir);
  fs::remove_all(foreign);
  EXPECT_EQ(read_dump(foreign).status().code(), StatusCode::kNotFound);
}

TEST(Compare, TensorsOfDifferentShapesAreAnErrorNamingBoth) {
  const Graph g = model();
  const TensorSet a = run(g, Engine::kFloat, inputs(kSeed + 11, 4));
  TensorSet b = a;
  b.source = "other";
  ASSERT_TRUE(b.tensors[1].values.reshape({4, 6 * 8 * 8}).ok());
  Result<Comparison> c = compare_tensor_sets(a, b, {});
  ASSERT_FALSE(c.ok());
  const std::string& msg = c.status().message();
  EXPECT_NE(msg.find("cannot compare tensor 'a'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("[4, 6, 8, 8]"), std::string::npos) << msg;
  EXPECT_NE(msg.find("[4, 384]"), std::string::npos) << msg;
  // Feeding a model with it fails the same way.
  Result<ProbedModel> m = ProbedModel::create(g, {.engine = Engine::kFloat});
  ASSERT_TRUE(m.ok());
  Result<TensorSet> fed = m->run_fed(inputs(kSeed + 11, 4), b);
  ASSERT_FALSE(fed.ok());
  EXPECT_NE(fed.status().message().find("[4, 384]"), std::string::npos);
  // Nothing in common.
  TensorSet none;
  none.source = "empty";
  ProbedTensor t;
  t.name = "zzz";
  t.values = Tensor::zeros(DType::kF32, {1});
  none.tensors.push_back(t);
  EXPECT_FALSE(compare_tensor_sets(a, none, {}).ok());
  EXPECT_FALSE(compare_tensor_sets(a, a, {.tolerance_lsb = -1}).ok());
}

}  // namespace
}  // namespace ei8::quant
