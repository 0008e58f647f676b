#include "ei8/fixedpoint/overflow.h"

#include <algorithm>
#include <charconv>

#include "ei8/fixedpoint/rounding.h"

namespace ei8::fixedpoint {

std::string_view policy_name(OverflowPolicy p) {
  return p == OverflowPolicy::kSaturate ? "saturate" : "wrap";
}

Status check_width(int bits, std::string_view what) {
  if (bits < 2 || bits > 64) {
    return invalid_argument("cannot {}: width = {}, must be in [2, 64]", what, bits);
  }
  return {};
}

namespace {
Result<int> parse_one_width(std::string_view s) {
  int v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size() || s.empty()) {
    return invalid_argument("cannot parse widths: item = '{}', must be an integer", s);
  }
  EI8_RETURN_IF_ERROR(check_width(v, "parse widths"));
  return v;
}
}  // namespace

Result<std::vector<int>> parse_widths(std::string_view text) {
  std::vector<int> out;
  const size_t dots = text.find("..");
  if (dots != std::string_view::npos) {
    std::string_view rest = text.substr(dots + 2);
    int step = 1;
    const size_t colon = rest.find(':');
    if (colon != std::string_view::npos) {
      EI8_ASSIGN_OR_RETURN(step, parse_one_width(rest.substr(colon + 1)));
      rest = rest.substr(0, colon);
    }
    EI8_ASSIGN_OR_RETURN(int lo, parse_one_width(text.substr(0, dots)));
    EI8_ASSIGN_OR_RETURN(int hi, parse_one_width(rest));
    if (lo > hi) {
      return invalid_argument("cannot parse widths: range = '{}', must have low <= high", text);
    }
    for (int w = lo; w <= hi; w += step) out.push_back(w);
    return out;
  }
  while (!text.empty()) {
    const size_t comma = text.find(',');
    EI8_ASSIGN_OR_RETURN(int w, parse_one_width(text.substr(0, comma)));
    out.push_back(w);
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  if (out.empty()) return invalid_argument("cannot parse widths: value is empty");
  return out;
}

PixelAccumulation accumulate(std::span<const int64_t> terms, int64_t init, int width,
                             OverflowPolicy policy) {
  const IntRange r = int_range(width);
  PixelAccumulation p;
  auto step = [&](int64_t exact_partial, int64_t reg_before, int64_t term, int64_t index) {
    if (exact_partial < r.min || exact_partial > r.max) {
      if (p.first_overflow_step < 0) p.first_overflow_step = index;
    }
    // The register: previous register value + term, then the policy at this width. For wrap the
    // register equals wrap(exact partial) at every step (modular arithmetic); for saturate it
    // can differ from the clamped exact sum once it has stuck.
    const int64_t sum = reg_before + term;
    const int64_t reg =
        policy == OverflowPolicy::kSaturate ? saturate(sum, width) : wrap(sum, width);
    if (sum < r.min || sum > r.max) ++p.overflow_events;
    return reg;
  };
  p.exact = init;
  p.result = step(init, 0, init, 0);
  for (size_t i = 0; i < terms.size(); ++i) {
    p.exact += terms[i];
    p.result = step(p.exact, p.result, terms[i], static_cast<int64_t>(i) + 1);
  }
  return p;
}

namespace {

Status check_sizes(const ConvGeometry& g, size_t input, size_t weights, size_t bias) {
  EI8_RETURN_IF_ERROR(g.validate());
  if (static_cast<int64_t>(input) != g.input_numel()) {
    return invalid_argument("cannot simulate layer: input size = {}, must be {}", input,
                            g.input_numel());
  }
  if (static_cast<int64_t>(weights) != g.weight_numel()) {
    return invalid_argument("cannot simulate layer: weight size = {}, must be {}", weights,
                            g.weight_numel());
  }
  if (bias != 0 && static_cast<int64_t>(bias) != g.out_channels) {
    return invalid_argument("cannot simulate layer: bias size = {}, must be 0 or {}", bias,
                            g.out_channels);
  }
  return {};
}

// Appends the products of output (n, oc, oh, ow) to `terms` (same loop order as the reference
// kernel: input channel of the group, kernel row, kernel column; padded taps skipped).
template <typename TIn>
void collect_terms(const ConvGeometry& g, int32_t zx, int32_t zw, const TIn* input,
                   const int8_t* weights, int64_t n, int64_t oc, int64_t oh, int64_t ow,
                   std::vector<int64_t>& terms) {
  terms.clear();
  const int64_t cig = g.in_channels_per_group();
  const int64_t group = oc / g.out_channels_per_group();
  for (int64_t icg = 0; icg < cig; ++icg) {
    const int64_t ic = group * cig + icg;
    for (int64_t kh = 0; kh < g.kernel_h; ++kh) {
      const int64_t ih = oh * g.stride_h - g.pad_top + kh * g.dilation_h;
      if (ih < 0 || ih >= g.in_h) continue;
      for (int64_t kw = 0; kw < g.kernel_w; ++kw) {
        const int64_t iw = ow * g.stride_w - g.pad_left + kw * g.dilation_w;
        if (iw < 0 || iw >= g.in_w) continue;
        const int64_t x = input[((n * g.in_channels + ic) * g.in_h + ih) * g.in_w + iw];
        const int64_t w = weights[((oc * cig + icg) * g.kernel_h + kh) * g.kernel_w + kw];
        terms.push_back((x - zx) * (w - zw));
      }
    }
  }
}

}  // namespace

template <typename TIn>
Result<std::vector<int64_t>> pixel_terms(const ConvGeometry& g, int32_t input_zero_point,
                                         int32_t weight_zero_point, std::span<const TIn> input,
                                         std::span<const int8_t> weights, int64_t n, int64_t oc,
                                         int64_t oh, int64_t ow) {
  EI8_RETURN_IF_ERROR(check_sizes(g, input.size(), weights.size(), 0));
  if (n < 0 || n >= g.batch || oc < 0 || oc >= g.out_channels || oh < 0 || oh >= g.out_h() ||
      ow < 0 || ow >= g.out_w()) {
    return invalid_argument(
        "cannot select output pixel: (n, oc, oh, ow) = ({}, {}, {}, {}), must be inside [{}, {}, "
        "{}, {}]",
        n, oc, oh, ow, g.batch, g.out_channels, g.out_h(), g.out_w());
  }
  std::vector<int64_t> terms;
  collect_terms(g, input_zero_point, weight_zero_point, input.data(), weights.data(), n, oc, oh, ow,
                terms);
  return terms;
}

template <typename TIn>
Result<LayerOverflow> simulate_layer_overflow(std::string name, const ConvGeometry& g,
                                              int32_t input_zero_point, int32_t weight_zero_point,
                                              std::span<const TIn> input,
                                              std::span<const int8_t> weights,
                                              std::span<const int32_t> bias,
                                              std::span<const int> widths) {
  EI8_RETURN_IF_ERROR(check_sizes(g, input.size(), weights.size(), bias.size()).with_context(name));
  for (int w : widths) EI8_RETURN_IF_ERROR(check_width(w, "simulate layer overflow"));

  LayerOverflow r;
  r.name = std::move(name);
  r.outputs = g.output_numel();
  r.k = g.accumulation_count();
  const size_t nw = widths.size();
  std::vector<double> sse(2 * nw, 0.0), max_err(2 * nw, 0.0);
  std::vector<int64_t> changed(2 * nw, 0), overflowed(nw, 0);
  double sum_sq = 0.0;

  std::vector<int64_t> terms;
  const int64_t oh_n = g.out_h(), ow_n = g.out_w();
  for (int64_t n = 0; n < g.batch; ++n) {
    for (int64_t oc = 0; oc < g.out_channels; ++oc) {
      const int64_t b = bias.empty() ? 0 : bias[static_cast<size_t>(oc)];
      for (int64_t oh = 0; oh < oh_n; ++oh) {
        for (int64_t ow = 0; ow < ow_n; ++ow) {
          collect_terms(g, input_zero_point, weight_zero_point, input.data(), weights.data(), n, oc,
                        oh, ow, terms);
          // Exact sum and the extremes of its partial sums (bias preloaded as step 0).
          int64_t exact = b, lo = b, hi = b;
          for (int64_t t : terms) {
            exact += t;
            lo = std::min(lo, exact);
            hi = std::max(hi, exact);
          }
          r.max_abs_acc = std::max(r.max_abs_acc, exact < 0 ? -exact : exact);
          if (std::max(-lo, hi) > r.max_abs_partial) {
            r.max_abs_partial = std::max(-lo, hi);
            r.worst_n = n;
            r.worst_oc = oc;
            r.worst_oh = oh;
            r.worst_ow = ow;
          }
          sum_sq += static_cast<double>(exact) * static_cast<double>(exact);
          for (size_t i = 0; i < nw; ++i) {
            const IntRange range = int_range(widths[i]);
            const bool inside = lo >= range.min && hi <= range.max;
            if (!inside) ++overflowed[i];
            for (int p = 0; p < 2; ++p) {
              const auto policy = p == 0 ? OverflowPolicy::kSaturate : OverflowPolicy::kWrap;
              int64_t result = exact;  // no partial sum left the range: both policies are exact
              if (!inside) {
                result = policy == OverflowPolicy::kWrap
                             ? wrap(exact, widths[i])  // modular: order does not matter
                             : accumulate(terms, b, widths[i], policy).result;
              }
              const double err = static_cast<double>(result - exact);
              const size_t j = 2 * i + static_cast<size_t>(p);
              if (result != exact) ++changed[j];
              sse[j] += err * err;
              max_err[j] = std::max(max_err[j], std::abs(err));
            }
          }
        }
      }
    }
  }
  r.bits_needed = signed_bits_for(r.max_abs_partial);
  const double outputs = static_cast<double>(std::max<int64_t>(r.outputs, 1));
  r.mean_square_acc = sum_sq / outputs;
  for (size_t i = 0; i < nw; ++i) {
    for (int p = 0; p < 2; ++p) {
      const size_t j = 2 * i + static_cast<size_t>(p);
      OverflowPoint pt;
      pt.width = widths[i];
      pt.policy = p == 0 ? OverflowPolicy::kSaturate : OverflowPolicy::kWrap;
      pt.overflowed = overflowed[i];
      pt.changed = changed[j];
      pt.fraction_changed = static_cast<double>(changed[j]) / outputs;
      pt.mse = sse[j] / outputs;
      pt.max_abs_error = max_err[j];
      r.points.push_back(pt);
    }
  }
  return r;
}

template Result<std::vector<int64_t>> pixel_terms<int8_t>(const ConvGeometry&, int32_t, int32_t,
                                                          std::span<const int8_t>,
                                                          std::span<const int8_t>, int64_t, int64_t,
                                                          int64_t, int64_t);
template Result<std::vector<int64_t>> pixel_terms<uint8_t>(const ConvGeometry&, int32_t, int32_t,
                                                           std::span<const uint8_t>,
                                                           std::span<const int8_t>, int64_t,
                                                           int64_t, int64_t, int64_t);
template Result<LayerOverflow> simulate_layer_overflow<int8_t>(
    std::string, const ConvGeometry&, int32_t, int32_t, std::span<const int8_t>,
    std::span<const int8_t>, std::span<const int32_t>, std::span<const int>);
template Result<LayerOverflow> simulate_layer_overflow<uint8_t>(
    std::string, const ConvGeometry&, int32_t, int32_t, std::span<const uint8_t>,
    std::span<const int8_t>, std::span<const int32_t>, std::span<const int>);

}  // namespace ei8::fixedpoint
