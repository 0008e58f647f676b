#include "ei8/runtime/kernels/ref/conv_s8_ref.h"

#include <limits>
#include <type_traits>

namespace ei8::kernels {

Status ConvS8Params::validate() const {
  EI8_RETURN_IF_ERROR(geometry.validate());
  if (accumulator_bits != 0) {
    EI8_RETURN_IF_ERROR(fixedpoint::check_width(accumulator_bits, "simulate int8 accumulator"));
  }
  const int64_t k = geometry.accumulation_count();
  if (k > kMaxAccumulationCount) {
    return invalid_argument(
        "cannot run int8 convolution: accumulation count K = {}, must be <= {} (int32 accumulator)",
        k, kMaxAccumulationCount);
  }
  if (input_zero_point < -128 || input_zero_point > 255) {
    return invalid_argument(
        "cannot run int8 convolution: input zero point = {}, must be in [-128, 255]",
        input_zero_point);
  }
  if (weight_zero_point < -128 || weight_zero_point > 127) {
    return invalid_argument(
        "cannot run int8 convolution: weight zero point = {}, must be in [-128, 127]",
        weight_zero_point);
  }
  if (weight_zero_point != 0 && k > kMaxAccumulationCount / 2) {
    return invalid_argument(
        "cannot run int8 convolution: K = {} with weight zero point {}, must be <= {}", k,
        weight_zero_point, kMaxAccumulationCount / 2);
  }
  return {};
}

namespace {

template <typename T>
constexpr int32_t type_min() {
  return std::numeric_limits<T>::min();
}
template <typename T>
constexpr int32_t type_max() {
  return std::numeric_limits<T>::max();
}

template <typename TIn>
Status check_spans(const ConvS8Params& p, size_t input, size_t weights, size_t bias,
                   size_t output) {
  EI8_RETURN_IF_ERROR(p.validate());
  const fixedpoint::ConvGeometry& g = p.geometry;
  if (p.input_zero_point < type_min<TIn>() || p.input_zero_point > type_max<TIn>()) {
    return invalid_argument(
        "cannot run int8 convolution: input zero point = {}, must be in [{}, {}]",
        p.input_zero_point, type_min<TIn>(), type_max<TIn>());
  }
  const struct {
    const char* name;
    size_t got;
    int64_t want;
  } sizes[] = {{"input size", input, g.input_numel()},
               {"weight size", weights, g.weight_numel()},
               {"output size", output, g.output_numel()}};
  for (const auto& s : sizes) {
    if (static_cast<int64_t>(s.got) != s.want) {
      return invalid_argument("cannot run int8 convolution: {} = {}, must be {}", s.name, s.got,
                              s.want);
    }
  }
  if (bias != 0 && static_cast<int64_t>(bias) != g.out_channels) {
    return invalid_argument("cannot run int8 convolution: bias size = {}, must be 0 or {}", bias,
                            g.out_channels);
  }
  return {};
}

// The specification: seven plain loops. `emit(index, oc, acc)` stores one output.
//
// Why the int32 accumulator cannot overflow: each product (x − z_x)(w − z_w) is at most
// 255·128 = 32640 in magnitude for symmetric weights (z_w = 0, |w| ≤ 128) and 255·255 otherwise,
// and validate() bounds K so that K·32640 < 2^31 (K/2·65025 < 2^31 with a weight zero point).
// The bias is added in int64 and the total saturated to int32: it only differs from a plain
// int32 add when the bias is within K·32640 of the int32 limits, which quantize_bias' guard
// never produces for real layers.
template <typename TIn, typename Emit>
void conv_loops(const ConvS8Params& p, const TIn* input, const int8_t* weights,
                std::span<const int32_t> bias, Emit emit) {
  const fixedpoint::ConvGeometry& g = p.geometry;
  const int64_t cig = g.in_channels_per_group(), cog = g.out_channels_per_group();
  const int64_t out_h = g.out_h(), out_w = g.out_w();
  const int32_t zx = p.input_zero_point, zw = p.weight_zero_point;
  // A simulated narrow register (accumulator_bits > 0): bias first, the policy after each add.
  const int bits = p.accumulator_bits;
  const bool wrap = p.accumulator_policy == fixedpoint::OverflowPolicy::kWrap;
  const auto limit = [bits, wrap](int64_t v) {
    return wrap ? fixedpoint::wrap(v, bits) : fixedpoint::saturate(v, bits);
  };
  for (int64_t n = 0; n < g.batch; ++n) {
    for (int64_t oc = 0; oc < g.out_channels; ++oc) {
      const int64_t group = oc / cog;
      for (int64_t oh = 0; oh < out_h; ++oh) {
        for (int64_t ow = 0; ow < out_w; ++ow) {
          int32_t sum = 0;
          const int64_t b = bias.empty() ? 0 : bias[static_cast<size_t>(oc)];
          int64_t reg = bits > 0 ? limit(b) : 0;
          for (int64_t icg = 0; icg < cig; ++icg) {
            const int64_t ic = group * cig + icg;
            for (int64_t kh = 0; kh < g.kernel_h; ++kh) {
              const int64_t ih = oh * g.stride_h - g.pad_top + kh * g.dilation_h;
              if (ih < 0 || ih >= g.in_h) continue;  // padding = z_x: (z_x − z_x)·w = 0
              for (int64_t kw = 0; kw < g.kernel_w; ++kw) {
                const int64_t iw = ow * g.stride_w - g.pad_left + kw * g.dilation_w;
                if (iw < 0 || iw >= g.in_w) continue;
                const int32_t x = input[((n * g.in_channels + ic) * g.in_h + ih) * g.in_w + iw];
                const int32_t w = weights[((oc * cig + icg) * g.kernel_h + kh) * g.kernel_w + kw];
                if (bits > 0) {
                  reg = limit(reg + int64_t{(x - zx) * (w - zw)});
                } else {
                  sum += (x - zx) * (w - zw);
                }
              }
            }
          }
          const auto acc =
              static_cast<int32_t>(fixedpoint::saturate(bits > 0 ? reg : int64_t{sum} + b, 32));
          emit(((n * g.out_channels + oc) * out_h + oh) * out_w + ow, oc, acc);
        }
      }
    }
  }
}

}  // namespace

template <typename TIn>
Status conv2d_s8s8s32_ref(const ConvS8Params& p, std::span<const TIn> input,
                          std::span<const int8_t> weights, std::span<const int32_t> bias,
                          std::span<int32_t> acc) {
  EI8_RETURN_IF_ERROR(check_spans<TIn>(p, input.size(), weights.size(), bias.size(), acc.size()));
  int32_t* out = acc.data();
  conv_loops(p, input.data(), weights.data(), bias,
             [out](int64_t i, int64_t, int32_t a) { out[i] = a; });
  return {};
}

template <typename TIn, typename TOut>
Status conv2d_s8_ref(const ConvS8Params& p, std::span<const TIn> input,
                     std::span<const int8_t> weights, std::span<const int32_t> bias,
                     std::span<TOut> output) {
  EI8_RETURN_IF_ERROR(
      check_spans<TIn>(p, input.size(), weights.size(), bias.size(), output.size()));
  const fixedpoint::Requantizer& rq = p.requant;
  if (rq.channels() != 1 && rq.channels() != p.geometry.out_channels) {
    return invalid_argument(
        "cannot run int8 convolution: requantizer channels = {}, must be 1 or {}", rq.channels(),
        p.geometry.out_channels);
  }
  if (rq.qmin() < type_min<TOut>() || rq.qmax() > type_max<TOut>()) {
    return invalid_argument(
        "cannot run int8 convolution: output clamp = [{}, {}], must lie inside [{}, {}]", rq.qmin(),
        rq.qmax(), type_min<TOut>(), type_max<TOut>());
  }
  TOut* out = output.data();
  conv_loops(p, input.data(), weights.data(), bias, [out, &rq](int64_t i, int64_t oc, int32_t a) {
    out[i] = static_cast<TOut>(rq.apply(a, oc));
  });
  return {};
}

namespace {
Status check_conv1d(const ConvS8Params& p) {
  if (p.geometry.kind != fixedpoint::LayerKind::kConv1d) {
    return invalid_argument("cannot run int8 conv1d: layer kind = {}, must be conv1d",
                            fixedpoint::layer_kind_name(p.geometry.kind));
  }
  return {};
}
}  // namespace

template <typename TIn>
Status conv1d_s8s8s32_ref(const ConvS8Params& p, std::span<const TIn> input,
                          std::span<const int8_t> weights, std::span<const int32_t> bias,
                          std::span<int32_t> acc) {
  EI8_RETURN_IF_ERROR(check_conv1d(p));
  return conv2d_s8s8s32_ref<TIn>(p, input, weights, bias, acc);
}

template <typename TIn, typename TOut>
Status conv1d_s8_ref(const ConvS8Params& p, std::span<const TIn> input,
                     std::span<const int8_t> weights, std::span<const int32_t> bias,
                     std::span<TOut> output) {
  EI8_RETURN_IF_ERROR(check_conv1d(p));
  return conv2d_s8_ref<TIn, TOut>(p, input, weights, bias, output);
}

#define EI8_INSTANTIATE_CONV_S8(TIn)                                                             \
  template Status conv2d_s8s8s32_ref<TIn>(const ConvS8Params&, std::span<const TIn>,             \
                                          std::span<const int8_t>, std::span<const int32_t>,     \
                                          std::span<int32_t>);                                   \
  template Status conv1d_s8s8s32_ref<TIn>(const ConvS8Params&, std::span<const TIn>,             \
                                          std::span<const int8_t>, std::span<const int32_t>,     \
                                          std::span<int32_t>);                                   \
  template Status conv2d_s8_ref<TIn, int8_t>(const ConvS8Params&, std::span<const TIn>,          \
                                             std::span<const int8_t>, std::span<const int32_t>,  \
                                             std::span<int8_t>);                                 \
  template Status conv2d_s8_ref<TIn, uint8_t>(const ConvS8Params&, std::span<const TIn>,         \
                                              std::span<const int8_t>, std::span<const int32_t>, \
                                              std::span<uint8_t>);                               \
  template Status conv1d_s8_ref<TIn, int8_t>(const ConvS8Params&, std::span<const TIn>,          \
                                             std::span<const int8_t>, std::span<const int32_t>,  \
                                             std::span<int8_t>);                                 \
  template Status conv1d_s8_ref<TIn, uint8_t>(const ConvS8Params&, std::span<const TIn>,         \
                                              std::span<const int8_t>, std::span<const int32_t>, \
                                              std::span<uint8_t>);
EI8_INSTANTIATE_CONV_S8(int8_t)
EI8_INSTANTIATE_CONV_S8(uint8_t)
#undef EI8_INSTANTIATE_CONV_S8

}  // namespace ei8::kernels
