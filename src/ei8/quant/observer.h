// ei8/quant/observer.h — per-tensor statistics collected while the float model runs on the
// calibration data: exact min/max, moving-average min/max and the streaming histogram.
//
// One observer per activation tensor; one observe() call per batch (the moving average is taken
// over batches, exactly as ONNX Runtime's and PyTorch's MovingAverageMinMax observers do, with
// their constant 0.01). Memory is fixed at construction (the histogram's 4·bins counters plus a
// few scalars); activations are never stored. Same values in the same order → identical state.
//
//   TensorObserver obs;                       // 2048 bins, EMA constant 0.01
//   for (const Tensor& batch : activations) obs.observe(batch.span<float>());
//   CalibResult r = calibrate(obs, params).value();   // ei8/quant/calibrators.h
#pragma once

#include <cstdint>
#include <limits>
#include <span>

#include "ei8/core/status.h"
#include "ei8/quant/histogram.h"

namespace ei8::quant {

struct ObserverOptions {
  int64_t bins = 2048;         // histogram bins per side after the first batch (≥ 1)
  double ema_constant = 0.01;  // moving-average weight of a new batch, in (0, 1]
};

// Checks the option ranges; the message names the bad field.
Status validate(const ObserverOptions& o);

class TensorObserver {
 public:
  explicit TensorObserver(ObserverOptions options = {});

  // Adds one batch. Non-finite values are counted (nonfinite()) and otherwise ignored.
  void observe(std::span<const float> batch);

  const ObserverOptions& options() const { return options_; }
  const StreamingHistogram& histogram() const { return hist_; }
  int64_t batches() const { return batches_; }      // observe() calls holding a finite value
  uint64_t count() const { return hist_.count(); }  // finite values seen
  uint64_t nonfinite() const { return hist_.nonfinite(); }
  bool empty() const { return count() == 0; }
  // Exact extremes over every finite value (0 when empty).
  float min() const { return empty() ? 0.0f : min_; }
  float max() const { return empty() ? 0.0f : max_; }
  // Exponential moving average over batches: m ← m + c·(batch_m − m), first batch sets m.
  double ema_min() const { return ema_min_; }
  double ema_max() const { return ema_max_; }

 private:
  ObserverOptions options_;
  StreamingHistogram hist_;
  int64_t batches_ = 0;
  float min_ = std::numeric_limits<float>::infinity();
  float max_ = -std::numeric_limits<float>::infinity();
  double ema_min_ = 0.0;
  double ema_max_ = 0.0;
};

}  // namespace ei8::quant
