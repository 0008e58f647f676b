// `edgeint8 codegen` end to end: the suite's models quantized with the integer-only profiles
// (ours: signal_cnn1d, mobilenetish, cifar_resnet; all 15 foreign QDQ files of tests/data/qdq:
// table ops, broadcasting and the float regions the engine runs in float included) → generated C
// → host compiler (-std=c99 -Wall -Wextra -Werror -pedantic) → outputs equal to the integer
// engine bit for bit; the Cortex-M4 firmware compiles; five small models run under QEMU (M4 with
// the DSP kernels, M55 with MVE); the C kernel tests run on the host and under QEMU; bad input
// is refused with one line and nothing in --out. Tools absent → skipped, not passed.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <fstream>
#include <map>
#include <sstream>

#include "deploy_util.h"
#include "ei8/core/npy.h"
#include "ei8/core/rng.h"
#include "ei8/deploy/codegen.h"
#include "ei8/graph/onnx/onnx_io.h"
#include "ei8/runtime/int8_lowering.h"
#include "ei8/runtime/int8_tables.h"

namespace ei8::deploy {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

struct CliResult {
  int exit_code = -1;
  std::string out, err;
};

CliResult edgeint8(const std::string& args, const TempDir& dir) {
  const std::string cmd = std::string(EI8_BINARY_DIR) + "/apps/edgeint8/edgeint8 " + args + " >" +
                          (dir / "stdout.txt") + " 2>" + (dir / "stderr.txt");
  const int rc = std::system(cmd.c_str());
  CliResult r;
  r.exit_code = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  auto slurp = [](const std::string& p) {
    std::ifstream f(p);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
  };
  r.out = slurp(dir / "stdout.txt");
  r.err = slurp(dir / "stderr.txt");
  return r;
}

struct ModelCase {
  std::string name, onnx, input_npy;
  std::string quantize_args;  // empty: already a QDQ file
  std::string profile;
  // Ours and the first foreign files: also the M4 variant on the host and the M4 firmware
  // build; the element-wise op files (reference kernels only) just the host (CI time).
  bool mcu = true;
};

std::string data(const std::string& rel) { return std::string(EI8_TEST_DATA_DIR) + "/" + rel; }

std::vector<ModelCase> model_cases() {
  return {
      {"signal_cnn1d", data("models/signal_cnn1d.onnx"), data("models/signal_cnn1d.input.npy"),
       "--method minmax --act-type s8", "tflite"},
      {"mobilenetish", data("models/mobilenetish.onnx"), data("models/mobilenetish.input.npy"),
       "--method minmax", "tflite-single"},
      {"cifar_resnet", data("models/cifar_resnet.onnx"), data("models/cifar_resnet.input.npy"),
       "--method minmax --act-type s8 --weights per-tensor", "tflite"},
      {"qdq_pertensor", data("qdq/qdq_pertensor.onnx"), data("qdq/qdq_pertensor.input.npy"), "",
       "tflite"},
      {"qdq_perchannel", data("qdq/qdq_perchannel.onnx"), data("qdq/qdq_perchannel.input.npy"), "",
       "tflite-single"},
      // Table ops (QLinearSigmoid, QLinearLeakyRelu → QLinearLookup), QLinearMul, broadcasting.
      {"op_silu_u8", data("qdq/op_silu_u8.onnx"), data("qdq/op_silu_u8.input.npy"), "", "tflite",
       false},
      {"op_se_mul", data("qdq/op_se_mul.onnx"), data("qdq/op_se_mul.input.npy"), "", "tflite",
       true},
      {"op_add_ties", data("qdq/op_add_ties.onnx"), data("qdq/op_add_ties.input.npy"), "", "tflite",
       false},
      {"op_leakyrelu", data("qdq/op_leakyrelu.onnx"), data("qdq/op_leakyrelu.input.npy"), "",
       "tflite-single", false},
      {"op_silu_s8", data("qdq/op_silu_s8.onnx"), data("qdq/op_silu_s8.input.npy"), "", "tflite",
       false},
      // Float regions (what the engine runs in float): QGemm / MatMulIntegerToFloat with float
      // output, float Add of two lookup tables with a float input read by two QuantizeLinear,
      // DQ → Relu → Q, float Mul → Relu.
      {"ort_u8_gemm", data("qdq/ort_u8_gemm.onnx"), data("qdq/ort_u8_gemm.input.npy"), "", "tflite",
       true},
      {"ort_s8_gemm", data("qdq/ort_s8_gemm.onnx"), data("qdq/ort_s8_gemm.input.npy"), "",
       "tflite-single", false},
      {"ort_u8_matmul", data("qdq/ort_u8_matmul.onnx"), data("qdq/ort_u8_matmul.input.npy"), "",
       "tflite", false},
      {"ort_s8_matmul", data("qdq/ort_s8_matmul.onnx"), data("qdq/ort_s8_matmul.input.npy"), "",
       "tflite", false},
      {"op_bn", data("qdq/op_bn.onnx"), data("qdq/op_bn.input.npy"), "", "tflite", false},
      {"op_concat_pool", data("qdq/op_concat_pool.onnx"), data("qdq/op_concat_pool.input.npy"), "",
       "tflite", false},
      {"op_mul_relu_s8", data("qdq/op_mul_relu_s8.onnx"), data("qdq/op_mul_relu_s8.input.npy"), "",
       "tflite", false},
  };
}

// The QDQ model of a case (quantized once per process into `dir`), its input as a raw .bin
// (the .npy samples plus seeded random ones), and the engine's outputs.
struct Prepared {
  std::string qdq, input_bin;
  std::vector<float> engine;
  int64_t samples = 0;
};

Prepared prepare(const ModelCase& c, const TempDir& dir) {
  Prepared p;
  p.qdq = c.onnx;
  if (!c.quantize_args.empty()) {
    p.qdq = dir / (c.name + ".int8.onnx");
    const CliResult q = edgeint8("quantize " + c.onnx + " --calib-data " + c.input_npy + " " +
                                     c.quantize_args + " --profile " + c.profile + " -o " + p.qdq,
                                 dir);
    EXPECT_EQ(q.exit_code, 0) << q.err;
  }
  auto x0 = read_npy(c.input_npy);
  EXPECT_TRUE(x0.ok());
  // Two more samples: seeded normal values (outside the calibration range at times).
  Shape s = x0->shape();
  const int64_t per = x0->numel() / s[0];
  s[0] += 2;
  Tensor x = Tensor::zeros(DType::kF32, s);
  std::copy(x0->span<float>().begin(), x0->span<float>().end(), x.span<float>().begin());
  Rng rng(20261204);
  for (int64_t i = x0->numel(); i < x.numel(); ++i)
    x.span<float>()[static_cast<size_t>(i)] = rng.normal(0.0f, 1.5f);
  p.samples = s[0];
  p.input_bin = dir / (c.name + ".in.bin");
  testing::write_f32(p.input_bin, x.span<float>());
  auto g = load_onnx(p.qdq);
  EXPECT_TRUE(g.ok());
  auto profile = fixedpoint::parse_profile(c.profile);
  auto low = lower_to_int8(*g, {.profile = *profile});
  EXPECT_TRUE(low.ok()) << low.status().message();
  auto y = testing::engine_output(low->graph, x);
  EXPECT_TRUE(y.ok()) << y.status().message();
  p.engine.assign(y->span<float>().begin(), y->span<float>().end());
  (void)per;
  return p;
}

class CodegenModels : public ::testing::TestWithParam<ModelCase> {};

TEST_P(CodegenModels, HostBuildEqualsTheIntegerEngine) {
  if (!testing::host_tools()) GTEST_SKIP() << "missing: " << missing_tools(Target::kHost, false);
  const ModelCase& c = GetParam();
  TempDir dir("model");
  const Prepared p = prepare(c, dir);
  if (HasFailure()) return;
  // The M4 code on the host runs the DSP kernels through their portable intrinsics (M55's MVE
  // kernels are the reference there: QEMU and CodegenKernels test them).
  for (const std::string target : {"host", "cortex-m4"}) {
    if (target != "host" && !c.mcu) continue;
    const std::string out = dir / ("gen_" + target);
    const CliResult r = edgeint8("codegen " + p.qdq + " --out " + out + " --target " + target +
                                     " --profile " + c.profile + " --run-host --input " +
                                     p.input_bin + " --output " + (dir / "out.bin"),
                                 dir);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const std::vector<float> got = testing::read_f32(dir / "out.bin");
    EXPECT_EQ(got.size(), p.engine.size());
    EXPECT_EQ(testing::count_bit_differences(got, p.engine), 0)
        << c.name << " " << target << ": generated code differs from the engine";
    std::printf("[ %s %s ] %zu outputs of %lld samples identical; %s", c.name.c_str(),
                target.c_str(), got.size(), static_cast<long long>(p.samples),
                r.out
                    .substr(r.out.find("arena:"),
                            r.out.find('\n', r.out.find("arena:")) - r.out.find("arena:") + 1)
                    .c_str());
  }
}

std::vector<ModelCase> mcu_cases() {
  std::vector<ModelCase> v;
  for (const ModelCase& c : model_cases()) {
    if (c.mcu) v.push_back(c);
  }
  return v;
}

class CodegenFirmware : public ::testing::TestWithParam<ModelCase> {};

TEST_P(CodegenFirmware, Cortex_M4FirmwareCompiles) {
  if (!testing::arm_tools(false)) {
    GTEST_SKIP() << "missing: " << missing_tools(Target::kCortexM4, false);
  }
  const ModelCase& c = GetParam();
  TempDir dir("fw");
  const Prepared p = prepare(c, dir);
  auto g = load_onnx(p.qdq);
  ASSERT_TRUE(g.ok());
  auto low = lower_to_int8(*g, {.profile = *fixedpoint::parse_profile(c.profile)});
  ASSERT_TRUE(low.ok());
  ASSERT_TRUE(tabulate_unary_ops(low->graph).ok());
  auto code = codegen(low->graph, {.target = Target::kCortexM4}, {.source = c.name});
  ASSERT_TRUE(code.ok()) << code.status().message();
  ASSERT_TRUE(write_generated(code->code, dir / "gen").ok());
  // -mcpu=cortex-m4 -mthumb (+ hard float), -std=c99 -Wall -Wextra -Werror -pedantic.
  const Status s = build_firmware(dir / "gen");
  ASSERT_TRUE(s.ok()) << s.message();
  auto fp = firmware_footprint(dir / "gen", code->plans.best.arena_bytes);
  ASSERT_TRUE(fp.ok()) << fp.status().message();
  EXPECT_GT(fp->model_flash, code->model.weight_bytes());  // constants + code
  EXPECT_GT(fp->stack, 0);
  std::printf("[ %s cortex-m4 ] flash %lld B, RAM %lld B (arena %lld + stack ~%lld)\n",
              c.name.c_str(), static_cast<long long>(fp->model_flash),
              static_cast<long long>(fp->model_ram), static_cast<long long>(fp->arena),
              static_cast<long long>(fp->stack));
}

INSTANTIATE_TEST_SUITE_P(Models, CodegenModels, ::testing::ValuesIn(model_cases()),
                         [](const auto& p) { return p.param.name; });
INSTANTIATE_TEST_SUITE_P(Models, CodegenFirmware, ::testing::ValuesIn(mcu_cases()),
                         [](const auto& p) { return p.param.name; });

// Under QEMU: one 1-D model on the M4 board (DSP kernels), one 2-D on the M55 (MVE), the
// squeeze-excitation file (lookup table, QLinearMul with broadcasting) on the M4, and two files
// with float regions.
TEST(CodegenQemu, FirmwareOutputsEqualTheIntegerEngine) {
  if (!testing::arm_tools(true)) {
    GTEST_SKIP() << "missing: " << missing_tools(Target::kCortexM4, true);
  }
  // Float regions: op_bn (float input and output, Q/DQ inside, float Add) on the M4's FPU,
  // ort_s8_matmul (MatMulIntegerToFloat, MVE) on the M55.
  auto find = [](const std::string& name) {
    for (const ModelCase& c : model_cases()) {
      if (c.name == name) return c;
    }
    ADD_FAILURE() << name;
    return ModelCase{};
  };
  const std::vector<std::pair<ModelCase, std::string>> runs = {
      {find("signal_cnn1d"), "cortex-m4"},
      {find("qdq_perchannel"), "cortex-m55"},
      {find("op_se_mul"), "cortex-m4"},
      {find("op_bn"), "cortex-m4"},
      {find("ort_s8_matmul"), "cortex-m55"}};
  for (const auto& [c, target] : runs) {
    TempDir dir("qemu_" + c.name);
    const Prepared p = prepare(c, dir);
    const CliResult r =
        edgeint8("codegen " + p.qdq + " --out " + (dir / "gen") + " --target " + target +
                     " --profile " + c.profile + " --run-qemu --input " + p.input_bin +
                     " --output " + (dir / "out.bin") + " --timeout 120",
                 dir);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const std::vector<float> got = testing::read_f32(dir / "out.bin");
    EXPECT_EQ(testing::count_bit_differences(got, p.engine), 0) << c.name << " on " << target;
    EXPECT_NE(r.out.find("flash: model"), std::string::npos) << r.out;
    std::printf("[ %s %s qemu ] %zu outputs identical\n", c.name.c_str(), target.c_str(),
                got.size());
  }
}

// The C kernel tests (fast kernels = reference over random shapes): host and QEMU M4/M55.
TEST(CodegenKernels, FastKernelsEqualTheReferenceOnHostAndQemu) {
  if (!testing::host_tools()) GTEST_SKIP() << "missing: " << missing_tools(Target::kHost, false);
  TempDir dir("kernels");
  for (const char* f : {"ei8_kernels.h", "ei8_kernels.c", "startup.c"}) {
    std::ofstream(dir / f) << embedded_source(f);
  }
  const std::string test_c = std::string(EI8_SOURCE_DIR) + "/tests/deploy/c/kernel_test.c";
  auto host = run_process(
      {"cc", "-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic", "-O2",
       "-I" + dir.path().string(), test_c, dir / "ei8_kernels.c", "-o", dir / "kernel_test"},
      "", 120);
  ASSERT_TRUE(host.ok() && host->exit_code == 0) << host->output;
  auto run = run_process({dir / "kernel_test", "20261205", "300"}, "", 120);
  ASSERT_TRUE(run.ok());
  EXPECT_EQ(run->exit_code, 0) << run->output;
  std::printf("[ host ] %s", run->output.c_str());
  if (!testing::arm_tools(true)) {
    GTEST_SKIP() << "missing: " << missing_tools(Target::kCortexM4, true);
  }
  for (Target t : {Target::kCortexM4, Target::kCortexM55}) {
    const Board b = board_of(t);
    std::ofstream(dir / "board.ld") << linker_script(b);
    std::vector<std::string> argv = {"arm-none-eabi-gcc", "-std=c99",  "-Wall", "-Wextra",
                                     "-Werror",           "-pedantic", "-O2"};
    std::istringstream flags{std::string(b.cpu_flags)};
    for (std::string f; flags >> f;) argv.push_back(f);
    for (const std::string& a :
         {std::string("--specs=rdimon.specs"), std::string("-nostartfiles"),
          "-T" + (dir / "board.ld"), "-I" + dir.path().string(), dir / "startup.c", test_c,
          dir / "ei8_kernels.c", std::string("-o"), dir / "kernel_test.elf"}) {
      argv.push_back(a);
    }
    auto fw = run_process(argv, "", 120);
    ASSERT_TRUE(fw.ok() && fw->exit_code == 0) << fw->output;
    auto q = run_process({"qemu-system-arm", "-M", std::string(b.qemu_machine), "-nographic",
                          "-monitor", "none", "-serial", "none", "-semihosting-config",
                          "enable=on,target=native,arg=kernel_test,arg=20261205,arg=300", "-kernel",
                          dir / "kernel_test.elf"},
                         dir.path().string(), 120);
    ASSERT_TRUE(q.ok());
    EXPECT_EQ(q->exit_code, 0) << target_name(t) << ": " << q->output;
    std::printf("[ %s qemu ] %s", std::string(target_name(t)).c_str(), q->output.c_str());
  }
}

// ---- bad input through the CLI: one line, exit 1, nothing in --out ----------------------------

class CodegenBadInput : public ::testing::Test {
 protected:
  void expect_refused(const std::string& args, const std::string& needle) {
    const CliResult r = edgeint8("codegen " + args + " --out " + (dir_ / "out"), dir_);
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_EQ(r.err.rfind("edgeint8: error: ", 0), 0u) << r.err;
    EXPECT_NE(r.err.find(needle), std::string::npos) << r.err;
    EXPECT_FALSE(fs::exists(dir_ / "out")) << "--out was written for: " << args;
    for (const auto& e : fs::directory_iterator(dir_.path())) {
      EXPECT_EQ(e.path().filename().string().find(".out.tmp"), std::string::npos) << e.path();
    }
  }
  TempDir dir_{"bad"};
};

TEST_F(CodegenBadInput, FloatOpLeftInTheGraph) {
  // mobilenetish with its first conv kept float: DQ → Conv → Q stays float in the lowering.
  const CliResult q = edgeint8("quantize " + data("models/mobilenetish.onnx") + " --calib-data " +
                                   data("models/mobilenetish.input.npy") +
                                   " --method minmax --profile tflite --exclude /f/f.0/Conv -o " +
                                   (dir_ / "float_conv.onnx"),
                               dir_);
  ASSERT_EQ(q.exit_code, 0) << q.err;
  expect_refused(dir_ / "float_conv.onnx", "float op left in the graph");
  expect_refused(dir_ / "float_conv.onnx", "node '/f/f.0/Conv' (Conv)");
}

TEST_F(CodegenBadInput, ModelWithOpsTheGeneratorRefuses) {
  // pools_mix keeps LeakyRelu/Sigmoid/Tanh/Transpose/Softmax: the first one met is named.
  const CliResult q = edgeint8("quantize " + data("models/pools_mix.onnx") + " --calib-data " +
                                   data("models/pools_mix.input.npy") +
                                   " --method minmax --profile tflite -o " + (dir_ / "mix.onnx"),
                               dir_);
  ASSERT_EQ(q.exit_code, 0) << q.err;
  expect_refused(dir_ / "mix.onnx", "cannot generate code for node '");
}

TEST_F(CodegenBadInput, ProfilesAndOptions) {
  const std::string m = data("qdq/qdq_pertensor.onnx");
  expect_refused(m + " --profile ort", "--profile: value = 'ort', must be tflite or tflite-single");
  expect_refused(m + " --target cortex-m9", "--target: value = 'cortex-m9'");
  expect_refused(m + " --run-qemu --input x.bin --output y.bin",
                 "--target = host, must be an MCU target");
  expect_refused(m + " --target cortex-m4 --run-qemu", "--input/--output = absent");
  expect_refused(m + " --run-host --input " + (dir_ / "missing.bin") + " --output y.bin",
                 "--input = not a file");
  expect_refused(data("models/signal_cnn1d.onnx"), "must be a QDQ model");
  expect_refused(dir_ / "no_such.onnx", "no_such.onnx");
}

TEST_F(CodegenBadInput, HarnessRejectsAPartialSample) {
  if (!testing::host_tools()) GTEST_SKIP() << "missing: " << missing_tools(Target::kHost, false);
  const std::string m = data("qdq/qdq_pertensor.onnx");
  const std::vector<float> x(3 * 8 * 8 + 5, 0.5f);  // one sample and 5 floats
  testing::write_f32(dir_ / "partial.bin", x);
  const CliResult r =
      edgeint8("codegen " + m + " --out " + (dir_ / "gen") + " --run-host --input " +
                   (dir_ / "partial.bin") + " --output " + (dir_ / "y.bin"),
               dir_);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("must be a multiple of 192 floats"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace ei8::deploy
