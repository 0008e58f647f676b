#include "ei8/quant/observer.h"

#include <algorithm>
#include <cmath>

namespace ei8::quant {

Status validate(const ObserverOptions& o) {
  if (o.bins < 1 || o.bins > (int64_t{1} << 24)) {
    return invalid_argument("cannot create observer: bins = {}, must be in [1, 16777216]", o.bins);
  }
  if (!(o.ema_constant > 0.0 && o.ema_constant <= 1.0)) {
    return invalid_argument("cannot create observer: ema_constant = {}, must be in (0, 1]",
                            o.ema_constant);
  }
  return {};
}

TensorObserver::TensorObserver(ObserverOptions options) : options_(options), hist_(options.bins) {}

void TensorObserver::observe(std::span<const float> batch) {
  float lo = std::numeric_limits<float>::infinity();
  float hi = -std::numeric_limits<float>::infinity();
  bool any = false;
  for (float x : batch) {
    if (!std::isfinite(x)) continue;
    lo = std::min(lo, x);
    hi = std::max(hi, x);
    any = true;
  }
  hist_.add(batch);
  if (!any) return;
  min_ = std::min(min_, lo);
  max_ = std::max(max_, hi);
  if (batches_ == 0) {
    ema_min_ = lo;
    ema_max_ = hi;
  } else {
    const double c = options_.ema_constant;
    ema_min_ += c * (static_cast<double>(lo) - ema_min_);
    ema_max_ += c * (static_cast<double>(hi) - ema_max_);
  }
  ++batches_;
}

}  // namespace ei8::quant
