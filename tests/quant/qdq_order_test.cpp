// The op set belongs to an executor, not to process state: running a QDQ model gives the same
// bits whatever ran before it in the process. Each TEST is its own process (gtest_discover_tests),
// so the two orders below each start from a fresh process: the QDQ simulation first, then every
// other command that creates ops (integer engine with each profile, model fixed-point analysis,
// an FP32 model, a caller-extended registry), then the simulation again — and the reverse.
#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <string>

#include "ei8/core/npy.h"
#include "ei8/graph/onnx/onnx_io.h"
#include "ei8/quant/model_fixedpoint.h"
#include "ei8/quant/simulate.h"
#include "ei8/runtime/int8_lowering.h"
#include "ei8/runtime/op.h"
#include "test_graphs.h"

namespace ei8::quant {
namespace {

std::string data(const std::string& rel) { return std::string(EI8_TEST_DATA_DIR) + "/" + rel; }

struct Model {
  Graph g;
  Tensor x;
};

Model load(const std::string& name) {
  auto g = load_onnx(data("qdq/" + name + ".onnx"));
  EXPECT_TRUE(g.ok()) << g.status().message();
  auto x = read_npy(data("qdq/" + name + ".input.npy"));
  EXPECT_TRUE(x.ok()) << x.status().message();
  return {std::move(g).value(), std::move(x).value()};
}

Tensor simulate(const Model& m, std::shared_ptr<const OpRegistry> ops = nullptr) {
  auto sim = simulation_graph(m.g);
  EXPECT_TRUE(sim.ok()) << sim.status().message();
  auto ex = Executor::create(std::move(sim).value(), {.optimize = false, .ops = std::move(ops)});
  EXPECT_TRUE(ex.ok()) << ex.status().message();
  auto y = ex->run({m.x});
  EXPECT_TRUE(y.ok()) << y.status().message();
  return std::move(y).value()[0];
}

Tensor engine(const Model& m, fixedpoint::RequantProfile p) {
  auto ex = make_int8_executor(m.g, {.profile = p});
  EXPECT_TRUE(ex.ok()) << ex.status().message();
  auto y = ex->run({m.x});
  EXPECT_TRUE(y.ok()) << y.status().message();
  return std::move(y).value()[0];
}

bool same_bits(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() && a.dtype() == b.dtype() &&
         std::memcmp(a.raw(), b.raw(), a.nbytes()) == 0;
}

// Everything else a process may run before or after a QDQ model: the integer engine (each
// profile), the model-level fixed-point analysis (it runs the simulation graph with integer
// values exposed), an FP32 model, and an executor with a caller-extended registry.
void other_commands(const Model& m) {
  for (fixedpoint::RequantProfile p : fixedpoint::kAllProfiles) (void)engine(m, p);
  auto fp = analyze_model_fixed_point(m.g, &m.x, {});
  EXPECT_TRUE(fp.ok()) << fp.status().message();
  auto f = Executor::create(small_cnn(1));
  ASSERT_TRUE(f.ok()) << f.status().message();
  auto extended = std::make_shared<OpRegistry>(OpRegistry::builtin());
  // A caller's own "QuantizeLinear" (here: always zero) stays in its own registry.
  struct Zero : Op {
    Status prepare(const PrepareContext&) override { return {}; }
    void run(std::span<const std::byte* const>, std::span<std::byte* const> out,
             std::byte*) const override {
      (void)out;
    }
  };
  extended->add("QuantizeLinear", [] { return std::make_unique<Zero>(); });
  EXPECT_TRUE(extended->contains("QuantizeLinear"));
  auto sim = simulation_graph(m.g);
  ASSERT_TRUE(sim.ok());
  auto ex = Executor::create(std::move(sim).value(), {.optimize = false, .ops = extended});
  EXPECT_TRUE(ex.ok()) << ex.status().message();
}

constexpr const char* kModels[] = {"qdq_perchannel", "qdq_pertensor", "ort_s8_gemm",
                                   "ort_u8_matmul"};

TEST(QdqOrder, SimulationFirstThenEveryOtherCommandThenSimulationAgain) {
  for (const char* name : kModels) {
    const Model m = load(name);
    const Tensor before = simulate(m);
    const Tensor engine_before = engine(m, fixedpoint::RequantProfile::kOrt);
    other_commands(m);
    EXPECT_TRUE(same_bits(simulate(m), before)) << name;
    EXPECT_TRUE(same_bits(engine(m, fixedpoint::RequantProfile::kOrt), engine_before)) << name;
    // The built-in set passed explicitly is the default.
    EXPECT_TRUE(same_bits(simulate(m, std::make_shared<OpRegistry>(OpRegistry::builtin())), before))
        << name;
  }
}

TEST(QdqOrder, EveryOtherCommandFirstThenSimulation) {
  for (const char* name : kModels) {
    const Model m = load(name);
    const Tensor engine_first = engine(m, fixedpoint::RequantProfile::kOrt);
    other_commands(m);
    const Tensor sim = simulate(m);
    // The same simulation on a registry built here from nothing but the runtime's own ops.
    auto own = std::make_shared<OpRegistry>(OpRegistry::builtin());
    EXPECT_TRUE(same_bits(simulate(m, own), sim)) << name;
    other_commands(m);
    EXPECT_TRUE(same_bits(simulate(m), sim)) << name;
    EXPECT_TRUE(same_bits(engine(m, fixedpoint::RequantProfile::kOrt), engine_first)) << name;
  }
}

// The integer engine after the simulation reproduces ONNX Runtime's own output of the file
// (tests/data/qdq PROVENANCE: ORT 1.30), so the op set the simulation used cannot have leaked
// into the engine's QuantizeLinear.
TEST(QdqOrder, EngineAfterSimulationStillMatchesOnnxRuntime) {
  for (const char* name : kModels) {
    const Model m = load(name);
    (void)simulate(m);
    auto ort = read_npy(data(std::string("qdq/") + name + ".ort.npy"));
    ASSERT_TRUE(ort.ok()) << ort.status().message();
    const Tensor y = engine(m, fixedpoint::RequantProfile::kOrt);
    EXPECT_TRUE(same_bits(y, ort.value())) << name;
  }
}

}  // namespace
}  // namespace ei8::quant
