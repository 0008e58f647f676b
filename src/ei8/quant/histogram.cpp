#include "ei8/quant/histogram.h"

#include <algorithm>
#include <cmath>

namespace ei8::quant {

StreamingHistogram::StreamingHistogram(int64_t bins)
    : bins_(std::max<int64_t>(bins, 1)), counts_(static_cast<size_t>(4 * bins_), 0) {}

uint64_t StreamingHistogram::positive(int64_t k) const {
  return counts_[static_cast<size_t>(capacity() + k)];
}

uint64_t StreamingHistogram::negative(int64_t k) const {
  return counts_[static_cast<size_t>(capacity() - 1 - k)];
}

std::vector<uint64_t> StreamingHistogram::abs_counts() const {
  std::vector<uint64_t> out(static_cast<size_t>(used_));
  for (int64_t k = 0; k < used_; ++k) out[static_cast<size_t>(k)] = positive(k) + negative(k);
  return out;
}

std::vector<uint64_t> StreamingHistogram::signed_counts() const {
  std::vector<uint64_t> out(static_cast<size_t>(2 * used_));
  for (int64_t k = 0; k < used_; ++k) {
    out[static_cast<size_t>(used_ - 1 - k)] = negative(k);
    out[static_cast<size_t>(used_ + k)] = positive(k);
  }
  return out;
}

void StreamingHistogram::initialise(double absmax) {
  used_ = bins_;
  width_ = absmax / static_cast<double>(bins_);
  inv_width_ = 1.0 / width_;
  top_ = absmax;  // the first batch's maximum sits on the closed top edge
  counts_[static_cast<size_t>(capacity())] += pending_zeros_;
  pending_zeros_ = 0;
}

void StreamingHistogram::merge_pairs() {
  const int64_t cap = capacity();
  uint64_t* pos = counts_.data() + cap;
  uint64_t* neg = counts_.data() + cap - 1;  // neg[-k] is negative bin k
  const int64_t half = (used_ + 1) / 2;
  for (int64_t j = 0; j < half; ++j) {
    const int64_t a = 2 * j, b = 2 * j + 1;
    const uint64_t p = pos[a] + (b < used_ ? pos[b] : 0);
    const uint64_t n = neg[-a] + (b < used_ ? neg[-b] : 0);
    pos[a] = 0;
    neg[-a] = 0;
    if (b < used_) pos[b] = neg[-b] = 0;
    pos[j] = p;
    neg[-j] = n;
  }
  used_ = half;
  width_ *= 2.0;
  inv_width_ *= 0.5;
  ++merges_;
}

void StreamingHistogram::grow_to(double scaled) {
  while (scaled >= static_cast<double>(capacity())) {
    merge_pairs();
    scaled *= 0.5;
  }
  used_ = std::max(used_, static_cast<int64_t>(scaled) + 1);
  top_ = static_cast<double>(used_) * width_;
}

void StreamingHistogram::add(std::span<const float> values) {
  if (used_ == 0) {
    // The width is not known yet: the first batch holding a non-zero value fixes it.
    double absmax = 0.0;
    for (float x : values) {
      if (std::isfinite(x)) absmax = std::max(absmax, std::fabs(static_cast<double>(x)));
    }
    if (absmax == 0.0) {
      for (float x : values) {
        if (std::isfinite(x)) {
          ++count_;
          ++zeros_;
          ++pending_zeros_;
        } else {
          ++nonfinite_;
        }
      }
      return;
    }
    initialise(absmax);
  }
  const int64_t cap = capacity();
  for (const float x : values) {
    if (!std::isfinite(x)) {
      ++nonfinite_;
      continue;
    }
    const double a = std::fabs(static_cast<double>(x));
    double scaled = a * inv_width_;
    if (scaled >= static_cast<double>(used_) && a > top_) {
      grow_to(scaled);
      scaled = a * inv_width_;
    }
    const int64_t k = std::min(static_cast<int64_t>(scaled), used_ - 1);
    if (x < 0.0f) {
      ++counts_[static_cast<size_t>(cap - 1 - k)];
    } else {
      ++counts_[static_cast<size_t>(cap + k)];
      if (x == 0.0f) ++zeros_;
    }
    ++count_;
  }
}

}  // namespace ei8::quant
