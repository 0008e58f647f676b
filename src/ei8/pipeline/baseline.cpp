#include "ei8/pipeline/baseline.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "ei8/core/npy.h"
#include "ei8/core/progress.h"
#include "ei8/data/dataset.h"
#include "ei8/graph/onnx/onnx_io.h"
#include "ei8/graph/summary.h"
#include "ei8/runtime/executor.h"
#include "ei8/train/export.h"
#include "ei8/train/train.h"

namespace ei8::pipeline {
namespace fs = std::filesystem;
using train::build_graph;
using train::load_checkpoint;
using train::ModelWeights;
using train::torch_accuracy;
using train::workload_name;
using json = nlohmann::json;

LatencyStats latency_stats(std::vector<double> us, int64_t batch) {
  LatencyStats s;
  s.batch = batch;
  s.iters = static_cast<int64_t>(us.size());
  if (us.empty()) return s;
  std::sort(us.begin(), us.end());
  const auto pct = [&](double p) {
    const size_t i = static_cast<size_t>(std::ceil(p / 100.0 * static_cast<double>(us.size()))) - 1;
    return us[std::min(i, us.size() - 1)];
  };
  double sum = 0, sq = 0;
  for (double v : us) sum += v;
  s.mean_us = sum / static_cast<double>(us.size());
  for (double v : us) sq += (v - s.mean_us) * (v - s.mean_us);
  s.std_us = std::sqrt(sq / static_cast<double>(us.size()));
  s.min_us = us.front();
  s.p50_us = pct(50), s.p95_us = pct(95), s.p99_us = pct(99);
  return s;
}

namespace {

Result<LatencyStats> time_runs(Executor& ex, int64_t batch, int64_t warmup, int64_t iters) {
  EI8_RETURN_IF_ERROR(ex.prepare_batch(batch));
  Rng rng(batch);
  for (float& v : ex.input(0).span<float>()) v = rng.uniform(-1.0f, 1.0f);
  for (int64_t i = 0; i < warmup; ++i) EI8_RETURN_IF_ERROR(ex.run());
  std::vector<double> us;
  for (int64_t i = 0; i < iters; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    EI8_RETURN_IF_ERROR(ex.run());
    us.push_back(
        std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count());
  }
  return latency_stats(std::move(us), batch);
}

// P50 µs of ONNX Runtime through the interop script, or -1 when unavailable.
double ort_p50(const std::string& interop, const std::string& model, int64_t batch, int64_t iters) {
  if (interop.empty() ||
      !fs::exists(fs::path(interop) / "node_modules/onnxruntime-node/package.json")) {
    return -1;
  }
  const std::string cmd = fmt::format("node '{}/run_ort.mjs' '{}' --bench {} {} 2>/dev/null",
                                      interop, model, batch, iters);
  std::FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return -1;
  std::string out;
  char buf[512];
  while (std::fgets(buf, sizeof buf, p) != nullptr) out += buf;
  if (pclose(p) != 0) return -1;
  json j = json::parse(out, nullptr, false);
  return j.is_object() && j.contains("p50") ? j["p50"].get<double>() : -1;
}

Result<double> accuracy(Executor& ex, const data::Dataset& d) {
  const int64_t batch = 256;
  int64_t correct = 0;
  Progress bar("accuracy " + d.name, (d.size() + batch - 1) / batch, "batch");
  for (int64_t i = 0; i < d.size(); i += batch) {
    data::Batch b = d.batch(i, batch);
    EI8_ASSIGN_OR_RETURN(std::vector<Tensor> out, ex.run({b.x}));
    const Tensor& logits = out[0];
    const int64_t k = logits.dim(1);
    const float* z = logits.data<float>();
    for (int64_t r = 0; r < b.x.dim(0); ++r) {
      const int64_t arg = std::max_element(z + r * k, z + (r + 1) * k) - (z + r * k);
      correct += arg == b.y.data<int32_t>()[r];
    }
    bar.advance(1);
  }
  bar.finish();
  return static_cast<double>(correct) / static_cast<double>(std::max<int64_t>(1, d.size()));
}

json stats_json(const LatencyStats& s) {
  return {{"batch", s.batch},   {"iters", s.iters},   {"min_us", s.min_us}, {"mean_us", s.mean_us},
          {"std_us", s.std_us}, {"p50_us", s.p50_us}, {"p95_us", s.p95_us}, {"p99_us", s.p99_us}};
}

}  // namespace

Result<std::vector<BaselineRow>> fp32_baseline(const BaselineOptions& o) {
  if (o.checkpoints.empty()) return invalid_argument("cannot run baseline: no checkpoint given");
  if (o.iters < 1 || o.warmup < 0) {
    return invalid_argument("cannot run baseline: iters = {}, warmup = {}, must be ≥ 1, ≥ 0",
                            o.iters, o.warmup);
  }
  Progress::set_enabled(o.progress);
  const fs::path models = fs::path(o.out_dir) / "models", tables = fs::path(o.out_dir) / "tables";
  std::error_code ec;
  fs::create_directories(models, ec);
  fs::create_directories(tables, ec);
  if (ec) return io_error("cannot create directory {}: {}", tables.string(), ec.message());

  std::vector<BaselineRow> rows;
  for (const std::string& ckpt : o.checkpoints) {
    EI8_ASSIGN_OR_RETURN(ModelWeights w, load_checkpoint(ckpt));
    BaselineRow row;
    row.workload = std::string(workload_name(w.workload));
    row.dataset = w.dataset;
    row.onnx_path = (models / (row.workload + ".onnx")).string();
    {
      EI8_ASSIGN_OR_RETURN(Graph built, build_graph(w));
      EI8_RETURN_IF_ERROR(save_onnx(built, row.onnx_path));
    }
    // Everything below measures the exported file, as a user of the ONNX model would.
    EI8_ASSIGN_OR_RETURN(Graph g, load_onnx(row.onnx_path));
    row.onnx_bytes = static_cast<int64_t>(fs::file_size(row.onnx_path));
    EI8_ASSIGN_OR_RETURN(GraphSummary summary, summarize(g, 1));
    row.macs = summary.macs;
    row.params = w.params();

    data::DatasetOptions dopt;
    dopt.name = w.dataset;
    dopt.dir = o.data_dir;
    dopt.test_size = o.max_test;
    dopt.train_size = w.dataset == "synthetic" ? 0 : 1;  // the test split is what we need
    if (w.dataset == "synthetic") {
      // The synthetic split is regenerated from the seed recorded in the sidecar.
      fs::path side(ckpt);
      side.replace_extension(".json");
      EI8_ASSIGN_OR_RETURN(std::string text, read_file(side.string()));
      json j = json::parse(text, nullptr, false);
      if (j.is_object()) {
        dopt.seed = j.value("data_seed", uint64_t{0});
        if (o.max_test == 0) dopt.test_size = j.value("test_size", int64_t{0});
        dopt.train_size = 1;
      }
    }
    EI8_ASSIGN_OR_RETURN(data::SplitDataset ds, data::load_dataset(dopt));
    row.test_samples = ds.test.size();

    ExecutorOptions eo;
    eo.threads = 1;
    EI8_ASSIGN_OR_RETURN(Executor ex, Executor::create(g, eo));
    EI8_ASSIGN_OR_RETURN(row.accuracy_ours, accuracy(ex, ds.test));
    EI8_ASSIGN_OR_RETURN(row.accuracy_torch, torch_accuracy(ckpt, ds.test, 1));
    EI8_ASSIGN_OR_RETURN(row.lat1, time_runs(ex, 1, o.warmup, o.iters));
    EI8_ASSIGN_OR_RETURN(row.lat32, time_runs(ex, 32, std::max<int64_t>(2, o.warmup / 4),
                                              std::max<int64_t>(20, o.iters / 4)));
    row.ort_p50_us_b1 = ort_p50(o.interop_dir, row.onnx_path, 1, o.iters);
    row.ort_p50_us_b32 =
        ort_p50(o.interop_dir, row.onnx_path, 32, std::max<int64_t>(20, o.iters / 4));
    rows.push_back(std::move(row));
  }
  Progress::set_enabled(true);

  std::string csv =
      "workload,dataset,test_samples,accuracy_ours,accuracy_libtorch,latency_b1_p50_us,"
      "latency_b1_mean_us,latency_b32_p50_us,latency_b32_mean_us,ort_b1_p50_us,ort_b32_p50_us,"
      "params,onnx_bytes,macs\n";
  json rows_json = json::array();
  for (const BaselineRow& r : rows) {
    const auto opt = [](double v) { return v < 0 ? std::string() : fmt::format("{:.1f}", v); };
    csv += fmt::format("{},{},{},{:.6f},{:.6f},{:.1f},{:.1f},{:.1f},{:.1f},{},{},{},{},{}\n",
                       r.workload, r.dataset, r.test_samples, r.accuracy_ours, r.accuracy_torch,
                       r.lat1.p50_us, r.lat1.mean_us, r.lat32.p50_us, r.lat32.mean_us,
                       opt(r.ort_p50_us_b1), opt(r.ort_p50_us_b32), r.params, r.onnx_bytes, r.macs);
    rows_json.push_back(
        {{"workload", r.workload},
         {"dataset", r.dataset},
         {"onnx", r.onnx_path},
         {"test_samples", r.test_samples},
         {"accuracy_ours", r.accuracy_ours},
         {"accuracy_libtorch", r.accuracy_torch},
         {"latency_batch1", stats_json(r.lat1)},
         {"latency_batch32", stats_json(r.lat32)},
         {"ort_p50_us_batch1", r.ort_p50_us_b1 < 0 ? json(nullptr) : json(r.ort_p50_us_b1)},
         {"ort_p50_us_batch32", r.ort_p50_us_b32 < 0 ? json(nullptr) : json(r.ort_p50_us_b32)},
         {"params", r.params},
         {"onnx_bytes", r.onnx_bytes},
         {"macs", r.macs}});
  }
  EI8_RETURN_IF_ERROR(write_file((tables / "fp32_baseline.csv").string(), csv));
  json doc = {{"table", "fp32_baseline"},
              {"runtime", "edgeint8 FP32 executor, 1 thread"},
              {"rows", rows_json}};
  EI8_RETURN_IF_ERROR(write_file((tables / "fp32_baseline.json").string(), doc.dump(2) + "\n"));
  return rows;
}

}  // namespace ei8::pipeline
