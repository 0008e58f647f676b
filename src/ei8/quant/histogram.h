// ei8/quant/histogram.h — the one streaming histogram engine every calibrator reads.
//
// A `StreamingHistogram` counts float values into equal-width bins laid out symmetrically
// around zero: bin k of the positive side holds [k·w, (k+1)·w), bin k of the negative side
// holds (−(k+1)·w, −k·w]. Zero is always a bin edge, so folding both sides gives the exact
// histogram of |x| (what entropy and symmetric percentile/MSE need) and keeping them apart gives
// the signed histogram (two-sided percentile, asymmetric MSE, ACIQ moments).
//
// Streaming and bounded memory:
//   * the first non-zero value(s) fix the bin width: w = absmax(first batch) / bins, so the
//     first batch fills exactly `bins` bins per side (TensorRT's 2048 over [0, absmax]);
//   * a later value beyond the covered range appends bins of the same width (as NVIDIA's
//     pytorch-quantization does) until `2·bins` bins per side are in use; beyond that,
//     adjacent pairs are merged (w doubles) until the value fits. Merging is exact (integer
//     counts are added) and depends only on the values and their order, so the histogram —
//     and every table computed from it — is deterministic;
//   * hence `bins ≤ bins_used() ≤ 2·bins` once initialised and the memory is
//     2 sides × 2·bins × 8 bytes, allocated once, whatever the number of values.
//   Activations are never stored.
//
//   StreamingHistogram h(2048);
//   h.add(batch_values);                 // any number of times
//   std::vector<uint64_t> a = h.abs_counts();   // bins_used() bins of width bin_width()
//   double w = h.bin_width();
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace ei8::quant {

class StreamingHistogram {
 public:
  // `bins` ≥ 1: bins per side after the first batch (the resolution floor).
  explicit StreamingHistogram(int64_t bins = 2048);

  // Counts finite values; NaN and ±Inf are skipped and counted in nonfinite().
  void add(std::span<const float> values);

  int64_t bins() const { return bins_; }          // resolution parameter
  int64_t capacity() const { return 2 * bins_; }  // bins per side that memory holds
  // Bins per side currently covering data: 0 before the first non-zero value, then in
  // [bins, 2·bins]. The covered range is [−bins_used()·w, bins_used()·w].
  int64_t bins_used() const { return used_; }
  double bin_width() const { return width_; }  // 0 before the first non-zero value
  double range_limit() const { return static_cast<double>(used_) * width_; }

  uint64_t count() const { return count_; }  // finite values counted
  uint64_t zeros() const { return zeros_; }  // values exactly ±0 (also counted in bin 0)
  uint64_t nonfinite() const { return nonfinite_; }
  int64_t merges() const { return merges_; }  // how many times the width doubled

  // Positive side bin k ∈ [0, bins_used()): count of [k·w, (k+1)·w).
  uint64_t positive(int64_t k) const;
  // Negative side bin k ∈ [0, bins_used()): count of (−(k+1)·w, −k·w].
  uint64_t negative(int64_t k) const;
  // |x| histogram: abs_counts()[k] = positive(k) + negative(k), bins_used() entries.
  std::vector<uint64_t> abs_counts() const;
  // Signed histogram, most negative bin first: 2·bins_used() entries; entry j covers
  // [(j − bins_used())·w, (j − bins_used() + 1)·w) (up to which end is closed).
  std::vector<uint64_t> signed_counts() const;

  // Bytes held by the counts (fixed at construction).
  size_t memory_bytes() const { return counts_.size() * sizeof(uint64_t); }

 private:
  void initialise(double absmax);
  void grow_to(double scaled);  // make room for a value at `scaled` = |x| / w
  void merge_pairs();

  int64_t bins_;
  int64_t used_ = 0;
  double width_ = 0.0;
  double inv_width_ = 0.0;
  double top_ = 0.0;  // closed upper edge of the covered |x| range
  uint64_t count_ = 0;
  uint64_t zeros_ = 0;
  uint64_t nonfinite_ = 0;
  uint64_t pending_zeros_ = 0;  // zeros seen before the width was known
  int64_t merges_ = 0;
  // counts_[cap + k] = positive bin k, counts_[cap − 1 − k] = negative bin k (cap = 2·bins).
  std::vector<uint64_t> counts_;
};

}  // namespace ei8::quant
