// Our integer engine (ort profile) vs ONNX Runtime 1.30 (npm onnxruntime-node, one intra-op
// thread, tests/interop/run_ort.mjs) on the same QDQ files: our exported models (quantized by
// quantize_model: u8 asymmetric activations, per-channel/minmax and per-tensor/entropy weights)
// and the QDQ files made elsewhere (tests/data/qdq). Prints the exact-match fractions and the
// largest difference in output steps; checks in ORT's optimized-model dump that ORT ran fused
// integer convolutions (QLinearConv, or its NHWC form) and no float Conv. Asserts top-1
// agreement 100 % and every output within one output quantization step against ORT on hosts
// where ORT's u8×s8 arithmetic is exact (AVX-512 VNNI: vpdpbusd accumulates in int32). On AVX2
// hosts without VNNI, ORT's u8×s8 kernels sum pairs of products in int16 with saturation
// (vpmaddubsw), so ORT itself deviates from the exact integer result whenever
// |x0·w0 + x1·w1| > 32767 (known ORT/MLAS behaviour; ORT's remedy is reduce_range, 7-bit
// weights); there the ORT numbers of full-range weights are reported, not asserted, and our
// engine is asserted against the float QDQ simulation instead (every output within one step).
// A third configuration quantizes with reduce_range (weights in [−63, 63]: 2·255·63 < 2^15, so
// ORT cannot saturate) and asserts ours vs ORT on every host.
// Skipped (not passed) without node or the npm package.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>

#include <fmt/ranges.h>

#include "ei8/core/npy.h"
#include "ei8/core/rng.h"
#include "ei8/graph/onnx/onnx_io.h"
#include "ei8/graph/passes.h"
#include "ei8/quant/calibration.h"
#include "ei8/quant/ptq.h"
#include "ei8/quant/simulate.h"
#include "ei8/runtime/int8_lowering.h"
#include "ei8/runtime/kernels/cpu_features.h"
#include "test_graphs.h"

namespace ei8::quant {
namespace {

namespace fs = std::filesystem;

bool ort_available() {
  return fs::exists(std::string(EI8_INTEROP_DIR) + "/node_modules/onnxruntime-node/package.json") &&
         std::system("node --version >/dev/null 2>&1") == 0;
}

struct OrtRun {
  Tensor y;
  std::string optimized;  // bytes of ORT's optimized model
};

Result<OrtRun> run_ort(const std::string& model, const Tensor& input) {
  const fs::path dir = fs::temp_directory_path() / ("ei8_ort8_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const std::string in = (dir / "in.npy").string(), out = (dir / "out.npy").string(),
                    opt = (dir / "optimized.onnx").string();
  EI8_RETURN_IF_ERROR(write_npy(in, input));
  const std::string cmd = "node " + std::string(EI8_INTEROP_DIR) + "/run_ort.mjs '" + model +
                          "' '" + in + "' '" + out + "' '" + opt + "'";
  const int rc = std::system(cmd.c_str());
  if (rc != 0) return internal_error("cannot run ONNX Runtime: `{}` exit = {}, must be 0", cmd, rc);
  OrtRun r;
  EI8_ASSIGN_OR_RETURN(r.y, read_npy(out));
  EI8_ASSIGN_OR_RETURN(r.optimized, read_file(opt));
  fs::remove_all(dir);
  return r;
}

// Op types in a serialized ModelProto: NodeProto.op_type is field 4 (tag 0x22), length-prefixed.
bool has_op(const std::string& model, const std::string& op) {
  const std::string key = std::string("\x22") + static_cast<char>(op.size()) + op;
  return model.find(key) != std::string::npos;
}

float output_step(const Graph& g) {
  const Node* d = g.producer(g.outputs()[0]);
  return d != nullptr && d->op_type == "DequantizeLinear"
             ? g.constant(d->input(1))->span<float>()[0]
             : 0.0f;
}

struct Agreement {
  size_t exact = 0, total = 0, top1 = 0, rows = 0;
  double worst_steps = 0, worst_abs = 0;
};

Agreement agreement(const Tensor& a, const Tensor& b, float step) {
  Agreement r;
  r.total = a.span<float>().size();
  for (size_t i = 0; i < r.total; ++i) {
    const double d = std::abs(double(a.span<float>()[i]) - double(b.span<float>()[i]));
    r.worst_abs = std::max(r.worst_abs, d);
    if (step > 0) r.worst_steps = std::max(r.worst_steps, d / step);
    r.exact += d == 0.0;
  }
  const auto ta = argmax_rows(a), tb = argmax_rows(b);
  r.rows = ta.size();
  for (size_t i = 0; i < ta.size(); ++i) r.top1 += ta[i] == tb[i];
  return r;
}

// Ours vs ORT (and vs the float QDQ simulation) on `file` (a QDQ model) and input `x`.
// `ort_exact`: ORT's integer arithmetic is exact on this file here (VNNI host, or weights in
// [−63, 63] so that its int16 pair sums cannot saturate) — then ours vs ORT is asserted.
// `s8_act`: the file has s8 activations, whose Conv ORT's x86 QDQ fuser leaves in float
// (QDQIsInt8Allowed() is false on x86: DQ → Conv → Q runs in float there).
void compare(const std::string& file, const Tensor& x, const std::string& what, bool ort_exact,
             Agreement* vs_ort = nullptr, bool s8_act = false, bool check_sim = true) {
  auto g = load_onnx(file);
  ASSERT_TRUE(g.ok()) << g.status().message();
  auto ex = make_int8_executor(g.value());
  ASSERT_TRUE(ex.ok()) << ex.status().message();
  auto ours = ex->run({x});
  ASSERT_TRUE(ours.ok()) << ours.status().message();
  auto sim_graph = simulation_graph(g.value());
  ASSERT_TRUE(sim_graph.ok()) << sim_graph.status().message();
  auto sim = run_batched(sim_graph.value(), x, x.dim(0));
  ASSERT_TRUE(sim.ok()) << sim.status().message();
  auto ort = run_ort(file, x);
  ASSERT_TRUE(ort.ok()) << ort.status().message();
  ASSERT_EQ(ours.value()[0].shape(), ort->y.shape());
  const float step = output_step(g.value());  // 0: the output is not dequantized (float head)
  const Agreement vo = agreement(ours.value()[0], ort->y, step);
  if (vs_ort != nullptr) *vs_ort = vo;
  const Agreement vs = agreement(ours.value()[0], sim.value(), step);
  std::printf(
      "%-44s vs ORT: exact %4zu/%4zu (%.4f) max %.0f step (|d| %.4g) top-1 %zu/%zu | vs float "
      "QDQ sim: exact %.4f max %.0f step top-1 %zu/%zu\n",
      what.c_str(), vo.exact, vo.total, double(vo.exact) / double(vo.total), vo.worst_steps,
      vo.worst_abs, vo.top1, vo.rows, double(vs.exact) / double(vs.total), vs.worst_steps, vs.top1,
      vs.rows);
  if (step > 0 && check_sim) {
    EXPECT_LE(vs.worst_steps, 1.001) << what << ": ours vs the float QDQ simulation";
  }
  if (ort_exact || kernels::cpu_features().avx512vnni) {
    EXPECT_EQ(vo.top1, vo.rows) << what << ": top-1 disagreement with ORT";
    if (step > 0) {
      EXPECT_LE(vo.worst_steps, 1.001) << what << ": ours vs ORT";
    }
  }
  // ORT fused the QDQ convolutions we run as integers into integer kernels too (a Conv we
  // leave float, e.g. with a fused LeakyRelu, may stay float in ORT as well).
  auto low = lower_to_int8(g.value());
  ASSERT_TRUE(low.ok()) << low.status().message();
  bool int_conv = false, float_conv = false;
  for (const Node& n : low->graph.nodes()) {
    int_conv = int_conv || n.op_type == "QLinearConv";
    float_conv = float_conv || n.op_type == "Conv";
  }
  if (int_conv && !s8_act) {
    EXPECT_TRUE(has_op(ort->optimized, "QLinearConv") || has_op(ort->optimized, "NhwcQLinearConv"))
        << what << ": ORT did not fuse QLinearConv";
  }
  if (!float_conv && !s8_act) {
    EXPECT_FALSE(has_op(ort->optimized, "Conv")) << what << ": ORT kept a float Conv";
  }
}

class Int8VsOrt : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (!ort_available()) GTEST_SKIP() << "onnxruntime-node not installed (tests/interop)";
  }
};

TEST_P(Int8VsOrt, OurExportedQdqModelAgrees) {
  const std::string name = GetParam();
  auto g = load_onnx(std::string(EI8_TEST_DATA_DIR) + "/models/" + name + ".onnx");
  ASSERT_TRUE(g.ok()) << g.status().message();
  ASSERT_TRUE(optimize(g.value()).ok());
  Shape in_shape = g->find_value(g->inputs()[0])->shape;
  const uint64_t seed = 1234;
  Rng rng(seed);
  auto random_input = [&](int64_t n) {
    Shape s = in_shape;
    s[0] = n;
    Tensor t = Tensor::zeros(DType::kF32, s);
    for (float& v : t.span<float>()) v = rng.uniform(-1.0f, 1.0f);
    return t;
  };
  const Tensor calib = random_input(64);
  auto st = collect_statistics(g.value(), calib, {});
  ASSERT_TRUE(st.ok()) << st.status().message();
  const Tensor x = random_input(16);
  struct Config {
    WeightGranularity w;
    CalibMethod m;
    bool reduce_range;
  };
  for (Config c : {Config{WeightGranularity::kPerChannel, CalibMethod::kMinMax, false},
                   Config{WeightGranularity::kPerTensor, CalibMethod::kEntropy, false},
                   Config{WeightGranularity::kPerChannel, CalibMethod::kEntropy, true}}) {
    PtqOptions po;
    po.weights = c.w;
    po.reduce_range = c.reduce_range;
    CalibParams cp;
    cp.method = c.m;
    cp = calib_target(po, cp);
    auto table = make_table(st.value(), cp);
    ASSERT_TRUE(table.ok()) << table.status().message();
    auto m = quantize_model(g.value(), table.value(), po);
    ASSERT_TRUE(m.ok()) << m.status().message();
    const fs::path file =
        fs::temp_directory_path() / fmt::format("ei8_int8_{}_{}.onnx", name, ::getpid());
    ASSERT_TRUE(save_onnx(m->qdq, file.string()).ok());
    compare(file.string(), x,
            fmt::format("{} {} {}{} (seed {})", name, weight_granularity_name(c.w),
                        calib_method_name(c.m), c.reduce_range ? " reduce-range" : "", seed),
            c.reduce_range);
    fs::remove(file);
  }
}

INSTANTIATE_TEST_SUITE_P(Models, Int8VsOrt,
                         ::testing::Values("cifar_resnet", "signal_cnn1d", "mobilenetish",
                                           "pools_mix", "hand_gemm_pad"));

class ForeignVsOrt : public Int8VsOrt {};

// The QDQ corpus (tests/data/qdq): on an AVX-512 VNNI host ORT's integer arithmetic is exact and
// every output must be bit-identical (the stored ORT outputs are checked on every host by
// tests/runtime/qdq_corpus_test.cpp).
TEST_P(ForeignVsOrt, QdqFileMadeElsewhereAgrees) {
  const std::string base = std::string(EI8_TEST_DATA_DIR) + "/qdq/" + GetParam();
  auto x = read_npy(base + ".input.npy");
  ASSERT_TRUE(x.ok());
  Agreement vo;
  compare(base + ".onnx", x.value(), GetParam(), false, &vo,
          GetParam().find("_s8") != std::string::npos);
  if (kernels::cpu_features().avx512vnni) {
    EXPECT_EQ(vo.exact, vo.total) << GetParam() << ": outputs not bit-identical to ORT's";
  }
}

INSTANTIATE_TEST_SUITE_P(Script, ForeignVsOrt,
                         ::testing::Values("qdq_pertensor", "qdq_perchannel", "ort_u8_gemm",
                                           "ort_s8_gemm", "ort_u8_matmul", "ort_s8_matmul",
                                           "op_silu_u8", "op_silu_s8", "op_se_mul", "op_add_ties",
                                           "op_leakyrelu", "op_bn", "op_mul_relu_s8",
                                           "op_concat_pool"));

// torchvision architectures (random weights, seed 0, 64×64 inputs; exported by
// tests/data/qdq/export_torchvision_small.py into a temporary folder), quantized as
// `edgeint8 quantize --method minmax --weights per-channel` does: ours and ORT on the same QDQ
// file must be bit-identical (AVX-512 VNNI host; elsewhere reported), and our lowering must leave
// no float compute node. squeezenet1_1 (Concat), efficientnet_b0 (SiLU = Sigmoid·Mul,
// squeeze-excite broadcast Mul), densenet121 (BatchNormalization after Concat: a per-channel table
// here, float in ORT). Skipped without ORT or python3-torchvision.
TEST(TorchvisionVsOrt, QuantizedArchitecturesAreBitIdentical) {
  if (!ort_available()) GTEST_SKIP() << "onnxruntime-node not installed (tests/interop)";
  if (std::system("/usr/bin/python3 -c 'import torchvision' >/dev/null 2>&1") != 0) {
    GTEST_SKIP() << "python3-torchvision not installed";
  }
  const fs::path dir = fs::temp_directory_path() / ("ei8_tv_" + std::to_string(::getpid()));
#ifdef __SANITIZE_ADDRESS__
  // The sanitizer build (-O0) runs the smallest one only: seconds instead of minutes.
  const std::vector<std::string> models = {"squeezenet1_1"};
#else
  const std::vector<std::string> models = {"squeezenet1_1", "efficientnet_b0", "densenet121"};
#endif
  const std::string names = fmt::format("{}", fmt::join(models, ","));
  const std::string cmd = "/usr/bin/python3 " + std::string(EI8_TEST_DATA_DIR) +
                          "/qdq/export_torchvision_small.py '" + dir.string() + "' 64 " + names +
                          " >/dev/null 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  auto calib = read_npy((dir / "calib.npy").string());
  auto x = read_npy((dir / "input.npy").string());
  ASSERT_TRUE(calib.ok() && x.ok());
  for (const std::string& name : models) {
    auto g = load_onnx((dir / (name + ".onnx")).string());
    ASSERT_TRUE(g.ok()) << g.status().message();
    ASSERT_TRUE(optimize(g.value()).ok());
    auto st = collect_statistics(g.value(), calib.value(), {});
    ASSERT_TRUE(st.ok()) << st.status().message();
    PtqOptions po;
    po.weights = WeightGranularity::kPerChannel;
    CalibParams cp;
    cp.method = CalibMethod::kMinMax;
    auto table = make_table(st.value(), calib_target(po, cp));
    ASSERT_TRUE(table.ok()) << table.status().message();
    auto m = quantize_model(g.value(), table.value(), po);
    ASSERT_TRUE(m.ok()) << m.status().message();
    EXPECT_TRUE(m->float_nodes.empty()) << name << ": the quantizer left float nodes";
    const std::string file = (dir / (name + ".int8.onnx")).string();
    ASSERT_TRUE(save_onnx(m->qdq, file).ok());
    auto low = lower_to_int8(m->qdq);
    ASSERT_TRUE(low.ok()) << low.status().message();
    EXPECT_TRUE(low->float_nodes.empty()) << name << ": " << fmt::format("{}", low->warnings);
    Agreement vo;
    // Deep networks drift from the float QDQ simulation by more than a step (its Sigmoid, BN and
    // double rounding are not ORT's); the peer here is ORT itself.
    compare(file, x.value(), name + " 64x64 per-channel minmax", false, &vo, false, false);
    if (kernels::cpu_features().avx512vnni) {
      EXPECT_EQ(vo.exact, vo.total) << name << ": outputs not bit-identical to ORT's";
    }
  }
  fs::remove_all(dir);
}

// A16W8 (issue 16 item 3): a model with int16 QDQ around one layer (opset 21, IR 10), as our
// exporter writes it, runs in ONNX Runtime 1.30. ORT has no int16 integer convolution on CPU:
// it keeps DQ → Conv → Q of the int16 layer in float (checked in its optimized model), so its
// outputs differ from our int64-accumulating integer kernels by float rounding only — asserted
// within one output step and the same top-1, in every profile of ours (the int8 layers of the
// file stay fused integer convolutions in ORT).
TEST(A16W8VsOrt, Int16QdqFileRunsInOnnxRuntimeWithinOneStep) {
  if (!ort_available()) GTEST_SKIP() << "onnxruntime-node not installed (tests/interop)";
  auto g = load_onnx(std::string(EI8_TEST_DATA_DIR) + "/models/cifar_resnet.onnx");
  ASSERT_TRUE(g.ok()) << g.status().message();
  ASSERT_TRUE(optimize(g.value()).ok());
  Shape in_shape = g->find_value(g->inputs()[0])->shape;
  Rng rng(1616);
  auto random_input = [&](int64_t n) {
    Shape s = in_shape;
    s[0] = n;
    Tensor t = Tensor::zeros(DType::kF32, s);
    for (float& v : t.span<float>()) v = rng.uniform(-1.0f, 1.0f);
    return t;
  };
  const Tensor calib = random_input(32);
  const Tensor x = random_input(8);
  auto st = collect_statistics(g.value(), calib, {});
  ASSERT_TRUE(st.ok()) << st.status().message();
  std::string first_conv;
  for (const Node* n : g->topological_order()) {
    if (n->op_type == "Conv") {
      first_conv = n->name;
      break;
    }
  }
  ASSERT_FALSE(first_conv.empty());
  PtqOptions po;
  po.reduce_range = true;  // ORT's u8·s8 int8 layers exact on AVX2 hosts too
  po.layer_precision[first_conv] = LayerPrecision::kInt16;
  CalibParams cp;
  cp.method = CalibMethod::kMinMax;
  cp = calib_target(po, cp);
  auto table = make_table(st.value(), cp);
  ASSERT_TRUE(table.ok()) << table.status().message();
  auto m = quantize_model(g.value(), table.value(), po);
  ASSERT_TRUE(m.ok()) << m.status().message();
  ASSERT_FALSE(m->int16_values.empty());
  const fs::path file =
      fs::temp_directory_path() / ("ei8_a16w8_" + std::to_string(::getpid()) + ".onnx");
  ASSERT_TRUE(save_onnx(m->qdq, file.string()).ok());
  auto ort = run_ort(file.string(), x);
  ASSERT_TRUE(ort.ok()) << ort.status().message();
  // ORT ran the int16 layer's convolution in float; the int8 ones as integer kernels.
  EXPECT_TRUE(has_op(ort->optimized, "Conv"));
  EXPECT_TRUE(has_op(ort->optimized, "QLinearConv") || has_op(ort->optimized, "NhwcQLinearConv"));
  const float step = output_step(m->qdq);
  for (fixedpoint::RequantProfile prof : fixedpoint::kAllProfiles) {
    auto ex = make_int8_executor(m->qdq, {.profile = prof});
    ASSERT_TRUE(ex.ok()) << ex.status().message();
    auto ours = ex->run({x});
    ASSERT_TRUE(ours.ok()) << ours.status().message();
    const Agreement vo = agreement(ours.value()[0], ort->y, step);
    std::printf(
        "A16W8 cifar_resnet (%s int16) %s vs ORT: exact %zu/%zu, max %.0f step, top-1 "
        "%zu/%zu\n",
        first_conv.c_str(), std::string(fixedpoint::profile_name(prof)).c_str(), vo.exact, vo.total,
        vo.worst_steps, vo.top1, vo.rows);
    if (prof == fixedpoint::RequantProfile::kOrt) {
      EXPECT_LE(vo.worst_steps, 1.001);
      EXPECT_EQ(vo.top1, vo.rows);
    }
  }
  fs::remove(file);
}

// Issue 16 item 3 (2): int16 Add (+ Relu) and Concat between int16 Q/DQ (test_graphs.h). ORT
// 1.30 keeps them in float (DQ → Add → Relu → Q, DQ → Concat → Q: checked in its optimized
// model); our engine lowers them to QLinearAdd / QLinearConcat on s16 tensors that evaluate the
// same float32 formula, so the outputs are bit-identical to ORT's in every profile (the profile
// changes only the requantization of weighted layers and pools, of which this graph has none).
TEST(A16W8VsOrt, Int16AddAndConcatAreBitIdenticalToOnnxRuntime) {
  if (!ort_available()) GTEST_SKIP() << "onnxruntime-node not installed (tests/interop)";
  const Graph g = int16_add_concat_qdq();
  Rng rng(1620);
  Tensor x = Tensor::zeros(DType::kF32, {4, 4, 5, 5});
  for (float& v : x.span<float>()) v = rng.uniform(-1.2f, 1.2f);
  const fs::path file =
      fs::temp_directory_path() / ("ei8_a16w8_add_" + std::to_string(::getpid()) + ".onnx");
  ASSERT_TRUE(save_onnx(g, file.string()).ok());
  auto ort = run_ort(file.string(), x);
  ASSERT_TRUE(ort.ok()) << ort.status().message();
  EXPECT_TRUE(has_op(ort->optimized, "Add"));
  EXPECT_TRUE(has_op(ort->optimized, "Concat"));
  for (fixedpoint::RequantProfile prof : fixedpoint::kAllProfiles) {
    auto low = lower_to_int8(g, {.profile = prof});
    ASSERT_TRUE(low.ok()) << low.status().message();
    EXPECT_TRUE(low->float_nodes.empty()) << fmt::format("{}", fmt::join(low->float_nodes, ", "));
    auto ex = make_int8_executor(g, {.profile = prof});
    ASSERT_TRUE(ex.ok()) << ex.status().message();
    auto ours = ex->run({x});
    ASSERT_TRUE(ours.ok()) << ours.status().message();
    const Agreement vo = agreement(ours.value()[0], ort->y, output_step(g));
    std::printf("A16W8 int16 Add/Concat %s vs ORT: exact %zu/%zu\n",
                std::string(fixedpoint::profile_name(prof)).c_str(), vo.exact, vo.total);
    EXPECT_EQ(vo.exact, vo.total) << fixedpoint::profile_name(prof);
  }
  fs::remove(file);
}

}  // namespace
}  // namespace ei8::quant
