// ei8/fixedpoint/overflow.h — what happens when the accumulator is narrower than the sum:
// saturate (clamp at every addition) versus wrap (two's complement, drop the carry), simulated
// at any width 2–64 for one output pixel or for every output of a layer.
//
// The accumulator is preloaded with the int32 bias (as accelerators do) and then adds the
// products (x − z_x)·(w − z_w) in the reference kernel's order (input channel, kernel row,
// kernel column). Errors are measured against the exact (int64) accumulator, in accumulator
// units (LSB of the int32 accumulator).
//
//   auto terms = pixel_terms<int8_t>(g, z_x, 0, input, weights, /*n*/0, /*oc*/3, /*oh*/5, /*ow*/7);
//   PixelAccumulation p = accumulate(terms.value(), bias[3], 16, OverflowPolicy::kSaturate);
//
//   std::vector<int> widths = {12, 16, 20, 24, 32};
//   auto r = simulate_layer_overflow<int8_t>("conv2", g, z_x, 0, input, weights, bias, widths);
//   for (const OverflowPoint& pt : r->points) ...   // one per (width, policy)
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ei8/core/status.h"
#include "ei8/fixedpoint/conv_geometry.h"

namespace ei8::fixedpoint {

enum class OverflowPolicy { kSaturate, kWrap };
std::string_view policy_name(OverflowPolicy p);  // "saturate", "wrap"

// Ok when 2 ≤ bits ≤ 64, otherwise "cannot <what>: width = <bits>, must be in [2, 64]".
Status check_width(int bits, std::string_view what = "simulate accumulator");

// Parses "12..32", "12..32:4" (step) or "16,24,32"; every width is checked with check_width.
Result<std::vector<int>> parse_widths(std::string_view text);

struct PixelAccumulation {
  int64_t exact = 0;                 // the true sum (int64)
  int64_t result = 0;                // what the `width`-bit register holds at the end
  int64_t first_overflow_step = -1;  // index of the first term whose partial sum left the range
                                     // (0 = the preloaded bias); -1 if none
  int64_t overflow_events = 0;       // number of partial sums that left the range
};

// Accumulates init (step 0) then every term, applying `policy` after each addition.
// Precondition: check_width(width) is ok; the exact sum fits int64 (|terms| < 2^62 / count).
PixelAccumulation accumulate(std::span<const int64_t> terms, int64_t init, int width,
                             OverflowPolicy policy);

// The products of one output pixel, in accumulation order; padded taps contribute no term.
// TIn is int8_t or uint8_t. Errors on an invalid geometry, wrong span sizes or indices.
template <typename TIn>
Result<std::vector<int64_t>> pixel_terms(const ConvGeometry& g, int32_t input_zero_point,
                                         int32_t weight_zero_point, std::span<const TIn> input,
                                         std::span<const int8_t> weights, int64_t n, int64_t oc,
                                         int64_t oh, int64_t ow);

struct OverflowPoint {
  int width = 32;
  OverflowPolicy policy = OverflowPolicy::kSaturate;
  int64_t overflowed = 0;         // outputs where some partial sum left the range
  int64_t changed = 0;            // outputs whose final accumulator differs from the exact one
  double fraction_changed = 0.0;  // changed / outputs
  double mse = 0.0;               // mean of (result − exact)² over all outputs
  double max_abs_error = 0.0;     // max |result − exact|
};

struct LayerOverflow {
  std::string name;
  int64_t outputs = 0;
  int64_t k = 0;
  int64_t max_abs_acc = 0;       // data-driven bound: max |exact accumulator| (bias included)
  int64_t max_abs_partial = 0;   // max |partial sum| over every step of every output
  int bits_needed = 2;           // signed bits holding ±max_abs_partial: no overflow at or above
  double mean_square_acc = 0.0;  // mean of exact², to normalise mse
  // The output whose partial sums reach max_abs_partial: (n, oc, oh, ow), for pixel traces.
  int64_t worst_n = 0, worst_oc = 0, worst_oh = 0, worst_ow = 0;
  std::vector<OverflowPoint> points;  // for each width (in order): saturate, then wrap
};

// Simulates every output of a layer. bias may be empty (zero) or hold out_channels values.
template <typename TIn>
Result<LayerOverflow> simulate_layer_overflow(std::string name, const ConvGeometry& g,
                                              int32_t input_zero_point, int32_t weight_zero_point,
                                              std::span<const TIn> input,
                                              std::span<const int8_t> weights,
                                              std::span<const int32_t> bias,
                                              std::span<const int> widths);

}  // namespace ei8::fixedpoint
