// edgeint8 bench — latency of the FP32 executor on an ONNX model (prepare once, run many); QDQ
// models run on the integer engine (or, with --engine float, the QDQ simulation).
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <ctime>
#include <nlohmann/json.hpp>

#include "cli.h"
#include "ei8/core/rng.h"
#include "ei8/graph/onnx/onnx_io.h"
#include "ei8/graph/summary.h"
#include "ei8/quant/simulate.h"
#include "ei8/runtime/executor.h"
#include "ei8/runtime/int8_lowering.h"
#include "ei8/runtime/kernels/cpu_features.h"

namespace ei8::cli {
namespace {

struct BenchArgs {
  std::string model;
  int64_t batch = 1;
  int threads = 1;
  int64_t batch_tile = 0;
  int iters = 200;
  int warmup = 20;
  std::string kernel = "auto";
  bool json = false;
  bool profile = false;
  std::string engine = "int8";
  std::string requant = "ort";
  std::string tune;  // tuning file: read, measure what it lacks, write back
  bool no_tune = false;
  bool cpu_time = false;  // time the calling thread's CPU clock instead of the wall clock
};

struct Stats {
  double min, mean, std, p50, p90, p95, p99;
};

Stats stats_of(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  Stats s{};
  double sum = 0;
  for (double x : v) sum += x;
  s.mean = sum / static_cast<double>(v.size());
  double var = 0;
  for (double x : v) var += (x - s.mean) * (x - s.mean);
  s.std = std::sqrt(var / static_cast<double>(v.size()));
  auto pct = [&](double p) {
    // nearest rank
    const size_t i = static_cast<size_t>(std::ceil(p / 100.0 * static_cast<double>(v.size())));
    return v[std::min(v.size() - 1, i == 0 ? 0 : i - 1)];
  };
  s.min = v.front();
  s.p50 = pct(50);
  s.p90 = pct(90);
  s.p95 = pct(95);
  s.p99 = pct(99);
  return s;
}

Result<kernels::KernelChoice> parse_kernel(const std::string& k) {
  for (kernels::KernelChoice c :
       {kernels::KernelChoice::kAuto, kernels::KernelChoice::kRef, kernels::KernelChoice::kGeneric,
        kernels::KernelChoice::kAvx2, kernels::KernelChoice::kAvx512,
        kernels::KernelChoice::kAvx512Vnni}) {
    if (kernels::kernel_choice_name(c) == k) return c;
  }
  return invalid_argument(
      "cannot parse --kernel: value = '{}', must be auto, ref, generic, avx2, avx512 (FP32) or "
      "avx512vnni (INT8)",
      k);
}

Status bench(const BenchArgs& a) {
  if (a.batch < 1 || a.iters < 1 || a.warmup < 0 || a.threads < 1 || a.batch_tile < 0) {
    return invalid_argument(
        "cannot bench: batch = {}, iters = {}, warmup = {}, threads = {}, batch-tile = {}, must be "
        ">= 1, >= 1, >= 0, >= 1, >= 0",
        a.batch, a.iters, a.warmup, a.threads, a.batch_tile);
  }
  if (a.cpu_time && a.threads != 1) {
    return invalid_argument("cannot bench with --cpu-time: threads = {}, must be 1", a.threads);
  }
  EI8_ASSIGN_OR_RETURN(Graph g, load_onnx(a.model));
  EI8_ASSIGN_OR_RETURN(GraphSummary summary, summarize(g));
  ExecutorOptions opt;
  opt.threads = a.threads;
  opt.batch_tile = a.batch_tile;
  EI8_ASSIGN_OR_RETURN(opt.kernel, parse_kernel(a.kernel));
  if (a.no_tune && !a.tune.empty()) {
    return invalid_argument("cannot bench: --tune = {}, must be absent with --no-tune", a.tune);
  }
  if (!a.no_tune) {
    opt.tuner = std::make_shared<kernels::PlanTuner>();
    if (!a.tune.empty()) EI8_RETURN_IF_ERROR(opt.tuner->load(a.tune));
  }
  if (a.engine != "int8" && a.engine != "float") {
    return invalid_argument("cannot parse --engine: value = '{}', must be int8 or float", a.engine);
  }
  EI8_ASSIGN_OR_RETURN(fixedpoint::RequantProfile rp, fixedpoint::parse_profile(a.requant));
  const bool quantized =
      is_qdq_graph(g) || std::any_of(g.nodes().begin(), g.nodes().end(), [](const Node& n) {
        return n.op_type.rfind("QLinear", 0) == 0;
      });
  Result<Executor> made = invalid_argument("no executor");
  if (!quantized) {
    made = Executor::create(std::move(g), opt);
  } else if (a.engine == "float") {
    quant::register_qdq_ops();
    EI8_ASSIGN_OR_RETURN(Graph sim, quant::simulation_graph(g));
    opt.optimize = false;
    made = Executor::create(std::move(sim), opt);
  } else {
    made = make_int8_executor(g, {.profile = rp}, opt);
  }
  if (!made.ok()) return made.status();
  Executor ex = std::move(made).value();
  const auto prep0 = std::chrono::steady_clock::now();
  EI8_RETURN_IF_ERROR(ex.prepare_batch(a.batch).with_context(a.model));
  const double prepare_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - prep0).count();
  if (opt.tuner != nullptr && !a.tune.empty()) EI8_RETURN_IF_ERROR(opt.tuner->save(a.tune));
  std::map<std::string, std::string> tuning;
  for (const auto& [node, t] : ex.tuning()) tuning[node] = t;
  Rng rng(42);
  for (size_t i = 0; i < ex.num_inputs(); ++i) {
    if (ex.input(i).dtype() != DType::kF32) continue;
    for (float& v : ex.input(i).span<float>()) v = rng.uniform(-1.0f, 1.0f);
  }
  for (int i = 0; i < a.warmup; ++i) EI8_RETURN_IF_ERROR(ex.run());
  // Wall clock, or with --cpu-time this thread's CPU clock (on a loaded machine the wall clock
  // also counts the time other processes hold the core).
  const auto now_us = [cpu = a.cpu_time] {
    if (!cpu) {
      return std::chrono::duration<double, std::micro>(
                 std::chrono::steady_clock::now().time_since_epoch())
          .count();
    }
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) * 1e6 + static_cast<double>(ts.tv_nsec) * 1e-3;
  };
  std::vector<double> us;
  us.reserve(static_cast<size_t>(a.iters));
  for (int i = 0; i < a.iters; ++i) {
    const double t0 = now_us();
    EI8_RETURN_IF_ERROR(ex.run());
    us.push_back(now_us() - t0);
  }
  const Stats s = stats_of(us);
  const double per = static_cast<double>(a.batch);
  const double gmacs = static_cast<double>(summary.macs) * per / (s.p50 * 1e3);
  std::map<std::string, std::string> variants;
  for (const auto& [node, v] : ex.variants()) variants[node] = v;
  const std::string isa(kernels::isa_name(kernels::best_isa()));
  if (a.json) {
    nlohmann::json j;
    j["model"] = a.model;
    j["batch"] = a.batch;
    j["threads"] = a.threads;
    j["iters"] = a.iters;
    j["warmup"] = a.warmup;
    j["isa"] = isa;
    j["kernel"] = a.kernel;
    j["clock"] = a.cpu_time ? "thread_cpu" : "wall";
    auto put = [&](const char* key, double div) {
      j[key] = {{"min", s.min / div}, {"mean", s.mean / div}, {"std", s.std / div},
                {"p50", s.p50 / div}, {"p90", s.p90 / div},   {"p95", s.p95 / div},
                {"p99", s.p99 / div}};
    };
    put("us_per_inference", 1.0);
    put("us_per_sample", per);
    j["gmac_per_s_p50"] = gmacs;
    j["macs_per_sample"] = summary.macs;
    j["parameters"] = summary.params;
    j["parameter_bytes"] = summary.param_bytes;
    j["activation_arena_bytes"] = ex.arena_bytes();
    j["ops"] = summary.op_counts;
    j["kernel_variants"] = variants;
    j["tuning"] = tuning;
    j["plans"] = a.no_tune ? "heuristic" : "tuned";
    j["prepare_ms"] = prepare_ms;
    fmt::print("{}\n", j.dump(2));
    return {};
  }
  fmt::print("model: {}  batch {}  threads {}  iters {} (warmup {})  isa {}  clock {}\n", a.model,
             a.batch, a.threads, a.iters, a.warmup, isa, a.cpu_time ? "thread CPU" : "wall");
  fmt::print("plans: {}  prepare: {:.1f} ms  cpu: {}\n",
             a.no_tune ? "heuristic (--no-tune)" : (a.tune.empty() ? "tuned" : "tuned, " + a.tune),
             prepare_ms, kernels::cpu_model_id());
  fmt::print("params: {} ({} bytes)  MACs/sample: {:.3f} M  activation arena: {} bytes\n",
             summary.params, summary.param_bytes, static_cast<double>(summary.macs) / 1e6,
             ex.arena_bytes());
  fmt::print("ops:");
  for (const auto& [op, n] : summary.op_counts) fmt::print(" {}={}", op, n);
  fmt::print("\n{:<14} {:>10} {:>10} {:>10} {:>10} {:>10} {:>10} {:>10}\n", "µs", "min", "mean",
             "std", "p50", "p90", "p95", "p99");
  for (double div : {1.0, per}) {
    fmt::print("{:<14} {:>10.2f} {:>10.2f} {:>10.2f} {:>10.2f} {:>10.2f} {:>10.2f} {:>10.2f}\n",
               div == 1.0 ? "per inference" : "per sample", s.min / div, s.mean / div, s.std / div,
               s.p50 / div, s.p90 / div, s.p95 / div, s.p99 / div);
    if (a.batch == 1) break;
  }
  fmt::print("throughput: {:.2f} GMAC/s (p50)\n", gmacs);
  if (a.profile) {
    EI8_ASSIGN_OR_RETURN(auto per_node, ex.profile(a.iters, a.cpu_time));
    fmt::print("\nper node (min µs over {} runs, batch {}):\n", a.iters, a.batch);
    for (const auto& [node, us_node] : per_node) {
      fmt::print("  {:<40} {:>10.2f}  {}{}\n", node, us_node, variants[node],
                 tuning.count(node) != 0 ? "  [" + tuning[node] + "]" : "");
    }
  }
  return {};
}

}  // namespace

void register_bench(CLI::App& app) {
  auto args = std::make_shared<BenchArgs>();
  CLI::App* sub = app.add_subcommand("bench", "Latency of the FP32 executor on an ONNX model");
  sub->add_option("model", args->model, "Model file (.onnx)")->required();
  sub->add_option("--batch", args->batch, "Batch size (the dynamic batch dimension)");
  sub->add_option("--threads", args->threads, "Worker threads (default 1)");
  sub->add_option("--batch-tile", args->batch_tile,
                  "Samples per pass through the graph on one thread (0 = auto: live activations "
                  "within ~256 KiB)");
  sub->add_option("--iters", args->iters, "Timed runs");
  sub->add_option("--warmup", args->warmup, "Untimed runs first");
  sub->add_option("--kernel", args->kernel,
                  "Conv/Gemm tier: auto, ref, generic, avx2, avx512 (FP32), avx512vnni (INT8)");
  sub->add_option("--tune", args->tune,
                  "Tuning file (plans chosen by measurement, keyed by CPU and layer shape): read "
                  "it, measure the layers it lacks, write it back");
  sub->add_flag("--no-tune", args->no_tune,
                "Heuristic plans only (default: each Conv/Gemm times its candidate plans at "
                "prepare)");
  sub->add_flag("--json", args->json, "Machine-readable output");
  sub->add_flag("--profile", args->profile, "Also time every node (min µs over --iters runs)");
  sub->add_flag("--cpu-time", args->cpu_time,
                "Time the thread's CPU clock instead of the wall clock (a loaded machine inflates "
                "it less; --threads 1 only)");
  sub->add_option("--engine", args->engine,
                  "QDQ models: int8 = integer-only engine (default), float = QDQ simulation");
  sub->add_option("--requant-profile", args->requant,
                  "Requantization profile of the integer engine: ort (default), tflite, "
                  "tflite-single");
  set_action(sub, [args] { return bench(*args); });
}

}  // namespace ei8::cli
