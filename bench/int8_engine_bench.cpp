// The INT8 integer engine (runtime/int8_lowering.h) vs our FP32 executor on the test models
// (tests/data/models), batch 1 and 32, one thread. Each model is quantized once (seeded random
// calibration data, min/max, per-channel s8 weights, u8 asymmetric activations, ort profile) and
// the QDQ file is written to $EI8_BENCH_OUT (default /tmp/ei8_int8_bench/<model>.int8.onnx) so
// ONNX Runtime can time the very same file:
//   node tests/interop/run_ort.mjs /tmp/ei8_int8_bench/cifar_resnet.int8.onnx --bench 32 200
// Counters: MAC/s and µs per sample.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>

#include "ei8/core/rng.h"
#include "ei8/graph/onnx/onnx_io.h"
#include "ei8/graph/passes.h"
#include "ei8/graph/summary.h"
#include "ei8/quant/calibration.h"
#include "ei8/quant/int8_engine.h"
#include "ei8/quant/ptq.h"
#include "ei8/runtime/int8_lowering.h"

namespace {

struct Prepared {
  ei8::Graph fp32;
  ei8::quant::QuantizedModel int8;
  int64_t macs = 0;
};

const Prepared* prepared(const std::string& name, std::string* error) {
  static std::map<std::string, Prepared> cache;
  if (auto it = cache.find(name); it != cache.end()) return &it->second;
  auto g = ei8::load_onnx(std::string(EI8_MODELS_DIR) + "/" + name + ".onnx");
  if (!g.ok()) {
    *error = g.status().message();
    return nullptr;
  }
  Prepared p;
  p.macs = ei8::summarize(g.value()).value().macs;
  p.fp32 = g.value();
  if (!ei8::optimize(g.value()).ok()) return nullptr;
  ei8::Shape s = g->find_value(g->inputs()[0])->shape;
  s[0] = 64;
  ei8::Tensor calib = ei8::Tensor::zeros(ei8::DType::kF32, s);
  ei8::Rng rng(7);
  for (float& v : calib.span<float>()) v = rng.uniform(-1.0f, 1.0f);
  auto st = ei8::quant::collect_statistics(g.value(), calib, {});
  ei8::quant::PtqOptions po;
  ei8::quant::CalibParams cp = ei8::quant::calib_target(po, {});
  if (!st.ok()) {
    *error = st.status().message();
    return nullptr;
  }
  auto table = ei8::quant::make_table(st.value(), cp);
  auto m = ei8::quant::quantize_model(g.value(), table.value(), po);
  if (!m.ok()) {
    *error = m.status().message();
    return nullptr;
  }
  p.int8 = std::move(m).value();
  const char* out = std::getenv("EI8_BENCH_OUT");
  const std::filesystem::path dir = out ? out : "/tmp/ei8_int8_bench";
  std::filesystem::create_directories(dir);
  (void)ei8::save_onnx(p.int8.qdq, (dir / (name + ".int8.onnx")).string());
  return &cache.emplace(name, std::move(p)).first->second;
}

void run(benchmark::State& state, ei8::Executor& ex, int64_t batch, int64_t macs) {
  if (!ex.prepare_batch(batch).ok()) {
    state.SkipWithError("cannot prepare");
    return;
  }
  ei8::Rng rng(1);
  for (float& v : ex.input(0).span<float>()) v = rng.uniform(-1, 1);
  for (auto _ : state) benchmark::DoNotOptimize(ex.run());
  const double samples = static_cast<double>(state.iterations() * batch);
  state.counters["MAC/s"] =
      benchmark::Counter(samples * static_cast<double>(macs), benchmark::Counter::kIsRate);
  state.counters["us/sample"] =
      benchmark::Counter(samples * 1e-6, benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

void BM_Int8(benchmark::State& state, const std::string& name) {
  std::string error = "cannot quantize";
  const Prepared* p = prepared(name, &error);
  if (p == nullptr) {
    state.SkipWithError(error.c_str());
    return;
  }
  auto ex = ei8::quant::make_int8_executor(p->int8);
  if (!ex.ok()) {
    state.SkipWithError(ex.status().message().c_str());
    return;
  }
  run(state, ex.value(), state.range(0), p->macs);
}

void BM_Fp32(benchmark::State& state, const std::string& name) {
  std::string error = "cannot load";
  const Prepared* p = prepared(name, &error);
  if (p == nullptr) {
    state.SkipWithError(error.c_str());
    return;
  }
  auto ex = ei8::Executor::create(p->fp32);
  if (!ex.ok()) {
    state.SkipWithError(ex.status().message().c_str());
    return;
  }
  run(state, ex.value(), state.range(0), p->macs);
}

// QDQ files made elsewhere (e.g. `edgeint8 quantize ... -o /tmp/t2.int8.onnx`), benchmarked as
// BM_Int8File/<stem>: EI8_INT8_BENCH_FILES=/tmp/t2.int8.onnx:/tmp/other.int8.onnx
void BM_Int8File(benchmark::State& state, const std::string& path) {
  auto g = ei8::load_onnx(path);
  if (!g.ok()) {
    state.SkipWithError(g.status().message().c_str());
    return;
  }
  const int64_t macs = ei8::summarize(g.value()).value().macs;
  auto ex = ei8::make_int8_executor(g.value());
  if (!ex.ok()) {
    state.SkipWithError(ex.status().message().c_str());
    return;
  }
  run(state, ex.value(), state.range(0), macs);
}

const int kFiles = [] {
  const char* env = std::getenv("EI8_INT8_BENCH_FILES");
  std::string list = env ? env : "";
  for (size_t pos = 0; pos < list.size();) {
    const size_t end = std::min(list.find(':', pos), list.size());
    const std::string path = list.substr(pos, end - pos);
    if (!path.empty()) {
      benchmark::RegisterBenchmark(
          ("BM_Int8File/" + std::filesystem::path(path).stem().stem().string()).c_str(),
          BM_Int8File, path)
          ->Arg(1)
          ->Arg(32);
    }
    pos = end + 1;
  }
  return 0;
}();

BENCHMARK_CAPTURE(BM_Int8, cifar_resnet, std::string("cifar_resnet"))->Arg(1)->Arg(32);
BENCHMARK_CAPTURE(BM_Fp32, cifar_resnet, std::string("cifar_resnet"))->Arg(1)->Arg(32);
BENCHMARK_CAPTURE(BM_Int8, signal_cnn1d, std::string("signal_cnn1d"))->Arg(1)->Arg(32);
BENCHMARK_CAPTURE(BM_Fp32, signal_cnn1d, std::string("signal_cnn1d"))->Arg(1)->Arg(32);
BENCHMARK_CAPTURE(BM_Int8, mobilenetish, std::string("mobilenetish"))->Arg(1)->Arg(32);
BENCHMARK_CAPTURE(BM_Fp32, mobilenetish, std::string("mobilenetish"))->Arg(1)->Arg(32);

}  // namespace
