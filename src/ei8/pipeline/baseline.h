// ei8/pipeline/baseline.h — the FP32 baseline table of Part A (run-all and `edgeint8 baseline`):
// each trained workload exported to ONNX, then measured with OUR runtime on that file.
//
// Per workload: test accuracy (our FP32 executor on the exported ONNX, whole test split; the
// libtorch accuracy of the checkpoint beside it), latency at batch 1 and 32 (one thread,
// warm-up then timed runs: min/mean/std/P50/P95/P99 µs per call), and, when
// tests/interop/run_ort.mjs and onnxruntime-node are installed, ONNX Runtime's P50 on the same
// file; parameters, ONNX bytes, MACs per sample. Written as <out>/tables/fp32_baseline.csv and
// .json, the ONNX files as <out>/models/<workload>.onnx.
//
//   BaselineOptions o;  o.checkpoints = {"runs/signal1d/best.pt", "runs/tiny2d/best.pt"};
//   o.out_dir = "results";
//   EI8_ASSIGN_OR_RETURN(std::vector<BaselineRow> rows, fp32_baseline(o));
#pragma once

#include <string>
#include <vector>

#include "ei8/core/status.h"

namespace ei8::pipeline {

struct LatencyStats {
  int64_t batch = 0, iters = 0;
  double min_us = 0, mean_us = 0, std_us = 0, p50_us = 0, p95_us = 0, p99_us = 0;
};
// Summary statistics of per-call times in µs (sorted copy; empty input gives zeros).
LatencyStats latency_stats(std::vector<double> us, int64_t batch);

struct BaselineOptions {
  std::vector<std::string> checkpoints;
  std::string out_dir = "results";
  std::string data_dir;  // override the dataset directory of every checkpoint
  int64_t iters = 200;   // timed runs per batch size (batch 32: iters / 4, at least 20)
  int64_t warmup = 20;
  int64_t max_test = 0;     // 0 = whole test split
  std::string interop_dir;  // tests/interop (ORT latency); empty or missing = skipped
  bool progress = true;
};

struct BaselineRow {
  std::string workload, dataset, onnx_path;
  double accuracy_ours = 0, accuracy_torch = 0;  // [0, 1]
  int64_t test_samples = 0;
  LatencyStats lat1, lat32;
  double ort_p50_us_b1 = -1, ort_p50_us_b32 = -1;  // -1 = not measured
  int64_t params = 0, onnx_bytes = 0, macs = 0;
};

Result<std::vector<BaselineRow>> fp32_baseline(const BaselineOptions& o);

}  // namespace ei8::pipeline
