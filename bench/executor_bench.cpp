// The FP32 executor on the test models (tests/data/models), batch 1 and 32, one thread:
// prepare once, time run(). Counters: MAC/s and µs per sample.
#include <benchmark/benchmark.h>

#include <string>

#include "ei8/core/rng.h"
#include "ei8/graph/onnx/onnx_io.h"
#include "ei8/graph/summary.h"
#include "ei8/runtime/executor.h"

namespace {

void BM_Model(benchmark::State& state, const std::string& name) {
  const int64_t batch = state.range(0);
  auto g = ei8::load_onnx(std::string(EI8_MODELS_DIR) + "/" + name + ".onnx");
  if (!g.ok()) {
    state.SkipWithError(g.status().message().c_str());
    return;
  }
  const int64_t macs = ei8::summarize(g.value()).value().macs;
  auto ex = ei8::Executor::create(std::move(g).value());
  if (!ex.ok() || !ex->prepare_batch(batch).ok()) {
    state.SkipWithError("cannot prepare");
    return;
  }
  ei8::Rng rng(1);
  for (float& v : ex->input(0).span<float>()) v = rng.uniform(-1, 1);
  for (auto _ : state) benchmark::DoNotOptimize(ex->run());
  const double samples = static_cast<double>(state.iterations() * batch);
  state.counters["MAC/s"] =
      benchmark::Counter(samples * static_cast<double>(macs), benchmark::Counter::kIsRate);
  state.counters["us/sample"] =
      benchmark::Counter(samples * 1e-6, benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

BENCHMARK_CAPTURE(BM_Model, cifar_resnet, std::string("cifar_resnet"))->Arg(1)->Arg(32);
BENCHMARK_CAPTURE(BM_Model, signal_cnn1d, std::string("signal_cnn1d"))->Arg(1)->Arg(32);
BENCHMARK_CAPTURE(BM_Model, mobilenetish, std::string("mobilenetish"))->Arg(1)->Arg(32);

}  // namespace
