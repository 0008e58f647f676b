// `compare` against a tensor dump made by another engine: ONNX Runtime 1.30 (npm
// onnxruntime-node, tests/interop/run_ort.mjs --dump) runs our QDQ model with one extra
// DequantizeLinear per activation code made a graph output (a second reader of the code, so ORT
// still fuses every DQ → Conv → Q into its integer kernels), and writes each as <tensor>.npy: a
// dump without manifest, as any engine would write it. Our integer engine (ort profile) must
// match it on every tensor, and a deliberately wrong scale in ORT's model must be named as the
// first divergence. Weights are quantized with reduce_range, so ORT's u8·s8 arithmetic is exact
// on hosts without VNNI too (int8_interop_test.cpp explains why). Skipped without node/ORT.
#include <gtest/gtest.h>
#include <unistd.h>

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
constexpr uint64_t kSeed = 20261209;

bool ort_available() {
  return fs::exists(std::string(EI8_INTEROP_DIR) + "/node_modules/onnxruntime-node/package.json") &&
         std::system("node --version >/dev/null 2>&1") == 0;
}

// `qdq` with every activation QuantizeLinear's code also dequantized into a graph output
// "<tensor>__ort", where <tensor> is the float value the code quantizes.
Graph with_probes(const Graph& qdq) {
  Graph g = qdq;
  std::vector<Node> add;
  for (const Node& n : g.nodes()) {
    if (n.op_type != "QuantizeLinear" || g.constant(n.input(0)) != nullptr) continue;
    bool feeds_output = false;
    for (size_t c : g.consumers(n.outputs[0])) {
      feeds_output = feeds_output || g.is_graph_output(g.nodes()[c].outputs[0]);
    }
    if (feeds_output) continue;  // the graph output itself ("y") is already dumped
    Node d = n;
    d.op_type = "DequantizeLinear";
    d.name = n.name + "__probe";
    d.inputs[0] = n.outputs[0];
    d.outputs = {n.input(0) + "__ort"};
    add.push_back(std::move(d));
  }
  for (const Node& d : add) {
    g.add_node(d.op_type, d.name, d.inputs, d.outputs);
    g.add_output(d.outputs[0]);
  }
  return g;
}

// Runs ORT on `model` and returns its dump directory (files renamed "<tensor>.npy").
std::string ort_dump(const Graph& model, const Tensor& x, const std::string& dir) {
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string file = dir + ".onnx", in = dir + ".input.npy";
  EXPECT_TRUE(save_onnx(model, file).ok());
  EXPECT_TRUE(write_npy(in, x).ok());
  const std::string cmd = "node " + std::string(EI8_INTEROP_DIR) + "/run_ort.mjs '" + file + "' '" +
                          in + "' --dump '" + dir + "'";
  EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string stem = e.path().stem().string();
    const size_t at = stem.rfind("__ort");
    if (at != std::string::npos && at + 5 == stem.size()) {
      fs::rename(e.path(), fs::path(dir) / (stem.substr(0, at) + ".npy"));
    }
  }
  fs::remove(file);
  fs::remove(in);
  return dir;
}

TEST(CompareInterop, OurIntegerEngineMatchesAnOnnxRuntimeDumpOnEveryTensor) {
  if (!ort_available()) GTEST_SKIP() << "node or onnxruntime-node not installed";
  SCOPED_TRACE(fmt::format("seed {}", kSeed));
  Graph g = two_conv_cnn(kSeed);
  ASSERT_TRUE(optimize(g).ok());
  Rng rng(kSeed);
  const Tensor calib = random_tensor(rng, {64, 3, 8, 8}, -1, 1);
  const Tensor x = random_tensor(rng, {16, 3, 8, 8}, -1, 1);
  PtqOptions po;
  po.reduce_range = true;
  CalibParams cp;
  cp.method = CalibMethod::kMinMax;
  Result<Statistics> st = collect_statistics(g, calib, {});
  ASSERT_TRUE(st.ok());
  Result<CalibTable> table = make_table(st.value(), calib_target(po, cp));
  ASSERT_TRUE(table.ok());
  Result<QuantizedModel> m = quantize_model(g, table.value(), po);
  ASSERT_TRUE(m.ok()) << m.status().message();

  Result<ProbedModel> ours = ProbedModel::create(m->qdq, {.engine = Engine::kInt8});
  ASSERT_TRUE(ours.ok()) << ours.status().message();
  Result<TensorSet> a = ours->run(x);
  ASSERT_TRUE(a.ok()) << a.status().message();

  const std::string base = ::testing::TempDir() + "ei8_ortdump_" + std::to_string(getpid());
  Result<TensorSet> b = read_dump(ort_dump(with_probes(m->qdq), x, base));
  ASSERT_TRUE(b.ok()) << b.status().message();
  Result<Comparison> c = compare_tensor_sets(a.value(), b.value(), {.tolerance_lsb = 0.0});
  ASSERT_TRUE(c.ok()) << c.status().message();
  // x (quantized input), a, b (conv outputs), p (pool), f (flatten), y: every tensor.
  EXPECT_EQ(c->tensors.size(), 6u);
  for (const TensorComparison& t : c->tensors) {
    EXPECT_EQ(t.max_abs_lsb, 0.0) << t.name;  // bit-identical codes
  }
  EXPECT_FALSE(c->first_divergence.has_value());

  // ORT given conv2's output scale 8x too small: 'b' is the first tensor to differ.
  Graph wrong = m->qdq;
  wrong.find_value("b_scale")->data->span<float>()[0] /= 8.0f;
  Result<TensorSet> w = read_dump(ort_dump(with_probes(wrong), x, base + "_wrong"));
  ASSERT_TRUE(w.ok()) << w.status().message();
  Result<Comparison> cw = compare_tensor_sets(a.value(), w.value(), {});
  ASSERT_TRUE(cw.ok()) << cw.status().message();
  ASSERT_TRUE(cw->first_divergence.has_value());
  EXPECT_EQ(cw->first_divergence->tensor, "b");
  fs::remove_all(base);
  fs::remove_all(base + "_wrong");
}

}  // namespace
}  // namespace ei8::quant
