#include "ei8/runtime/kernels/ref/a16w8_ref.h"

#include <limits>
#include <type_traits>

namespace ei8::kernels {
namespace {

template <typename T>
constexpr int32_t tmin() {
  return std::numeric_limits<T>::min();
}
template <typename T>
constexpr int32_t tmax() {
  return std::numeric_limits<T>::max();
}

template <typename... Args>
Status a16_error(fmt::format_string<Args...> f, Args&&... args) {
  return invalid_argument(f, std::forward<Args>(args)...);
}

// Checks shared by conv and FC: K, zero points, no simulated register, the output clamp.
template <typename TIn, typename TOut>
Status check_common(std::string_view what, int64_t k, int32_t zx, int32_t zw, int bits,
                    const fixedpoint::Requantizer* rq, int64_t out_channels) {
  const int64_t max_k = std::is_same_v<TIn, int16_t> ? kMaxA16AccumulationCount : 65536;
  if (k < 1 || k > max_k) {
    return a16_error("cannot run A16W8 {}: accumulation count K = {}, must be in [1, {}]", what, k,
                     max_k);
  }
  if (zx < tmin<TIn>() || zx > tmax<TIn>()) {
    return a16_error("cannot run A16W8 {}: input zero point = {}, must be in [{}, {}]", what, zx,
                     tmin<TIn>(), tmax<TIn>());
  }
  if (zw < -128 || zw > 127) {
    return a16_error("cannot run A16W8 {}: weight zero point = {}, must be in [-128, 127]", what,
                     zw);
  }
  if (bits != 0) {
    return a16_error("cannot run A16W8 {}: accumulator_bits = {}, must be 0 (exact int64)", what,
                     bits);
  }
  if (rq == nullptr) return {};
  if (rq->channels() != 1 && rq->channels() != out_channels) {
    return a16_error("cannot run A16W8 {}: requantizer channels = {}, must be 1 or {}", what,
                     rq->channels(), out_channels);
  }
  if (rq->qmin() < tmin<TOut>() || rq->qmax() > tmax<TOut>()) {
    return a16_error("cannot run A16W8 {}: output clamp = [{}, {}], must lie inside [{}, {}]", what,
                     rq->qmin(), rq->qmax(), tmin<TOut>(), tmax<TOut>());
  }
  if constexpr (std::is_same_v<TIn, int16_t>) {
    EI8_RETURN_IF_ERROR(rq->check_int64());
  }
  return {};
}

Status check_sizes(std::string_view what, size_t input, int64_t want_in, size_t weights,
                   int64_t want_w, size_t bias, int64_t channels, size_t output, int64_t want_out) {
  const struct {
    const char* name;
    size_t got;
    int64_t want;
  } sizes[] = {{"input size", input, want_in},
               {"weight size", weights, want_w},
               {"output size", output, want_out}};
  for (const auto& s : sizes) {
    if (static_cast<int64_t>(s.got) != s.want) {
      return a16_error("cannot run A16W8 {}: {} = {}, must be {}", what, s.name, s.got, s.want);
    }
  }
  if (bias != 0 && static_cast<int64_t>(bias) != channels) {
    return a16_error("cannot run A16W8 {}: bias size = {}, must be 0 or {}", what, bias, channels);
  }
  return {};
}

// The specification: plain loops, int64 sum, padded taps skipped ((z_x − z_x)·w = 0).
template <typename TIn, typename Emit>
void conv_loops(const ConvS8Params& p, const TIn* input, const int8_t* weights,
                std::span<const int32_t> bias, Emit emit) {
  const fixedpoint::ConvGeometry& g = p.geometry;
  const int64_t cig = g.in_channels_per_group(), cog = g.out_channels_per_group();
  const int64_t out_h = g.out_h(), out_w = g.out_w();
  const int64_t zx = p.input_zero_point, zw = p.weight_zero_point;
  for (int64_t n = 0; n < g.batch; ++n) {
    for (int64_t oc = 0; oc < g.out_channels; ++oc) {
      const int64_t group = oc / cog;
      for (int64_t oh = 0; oh < out_h; ++oh) {
        for (int64_t ow = 0; ow < out_w; ++ow) {
          int64_t acc = bias.empty() ? 0 : bias[static_cast<size_t>(oc)];
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
                acc += (x - zx) * (w - zw);
              }
            }
          }
          emit(((n * g.out_channels + oc) * out_h + oh) * out_w + ow, oc, acc);
        }
      }
    }
  }
}

template <typename TIn, typename TOut>
Status check_conv(const ConvS8Params& p, size_t in, size_t w, size_t b, size_t out,
                  const fixedpoint::Requantizer* rq) {
  EI8_RETURN_IF_ERROR(p.geometry.validate());
  const fixedpoint::ConvGeometry& g = p.geometry;
  EI8_RETURN_IF_ERROR(
      (check_common<TIn, TOut>("convolution", g.accumulation_count(), p.input_zero_point,
                               p.weight_zero_point, p.accumulator_bits, rq, g.out_channels)));
  return check_sizes("convolution", in, g.input_numel(), w, g.weight_numel(), b, g.out_channels,
                     out, g.output_numel());
}

// One requantization: the int32 path for 8-bit inputs (their sum is exact in int32 by the
// K ≤ 65536 bound), the int64 path for int16 inputs.
template <typename TIn>
int32_t requant(const fixedpoint::Requantizer& rq, int64_t acc, int64_t channel) {
  if constexpr (std::is_same_v<TIn, int16_t>) {
    return rq.apply64(acc, channel);
  } else {
    return rq.apply(static_cast<int32_t>(acc), channel);
  }
}

template <typename TIn, typename Emit>
void fc_loops(const FullyConnectedS8Params& p, const TIn* x, const int8_t* w, bool out_in,
              std::span<const int32_t> bias, Emit emit) {
  const int64_t k = p.in_features, n = p.out_features;
  const int64_t zx = p.input_zero_point, zw = p.weight_zero_point;
  for (int64_t r = 0; r < p.batch; ++r) {
    for (int64_t o = 0; o < n; ++o) {
      int64_t acc = bias.empty() ? 0 : bias[static_cast<size_t>(o)];
      for (int64_t i = 0; i < k; ++i) {
        const int64_t wv = out_in ? w[o * k + i] : w[i * n + o];
        acc += (int64_t{x[r * k + i]} - zx) * (wv - zw);
      }
      emit(r * n + o, o, acc);
    }
  }
}

template <typename TIn, typename TOut>
Status check_fc(const FullyConnectedS8Params& p, size_t in, size_t w, size_t b, size_t out,
                const fixedpoint::Requantizer* rq) {
  if (p.batch < 1 || p.out_features < 1) {
    return a16_error(
        "cannot run A16W8 fully connected: batch = {}, out_features = {}, must be >= 1", p.batch,
        p.out_features);
  }
  EI8_RETURN_IF_ERROR(
      (check_common<TIn, TOut>("fully connected", p.in_features, p.input_zero_point,
                               p.weight_zero_point, p.accumulator_bits, rq, p.out_features)));
  return check_sizes("fully connected", in, p.batch * p.in_features, w,
                     p.in_features * p.out_features, b, p.out_features, out,
                     p.batch * p.out_features);
}

}  // namespace

template <typename TIn, typename TOut>
Status conv_a16_check(const ConvS8Params& p) {
  EI8_RETURN_IF_ERROR(p.geometry.validate());
  const fixedpoint::ConvGeometry& g = p.geometry;
  return check_common<TIn, TOut>("convolution", g.accumulation_count(), p.input_zero_point,
                                 p.weight_zero_point, p.accumulator_bits, &p.requant,
                                 g.out_channels);
}

template <typename TIn, typename TOut>
Status fully_connected_a16_check(const FullyConnectedS8Params& p) {
  return check_fc<TIn, TOut>(p, static_cast<size_t>(p.batch * p.in_features),
                             static_cast<size_t>(p.in_features * p.out_features), 0,
                             static_cast<size_t>(p.batch * p.out_features), &p.requant);
}

template <typename TIn>
Status conv_a16_acc_ref(const ConvS8Params& p, std::span<const TIn> input,
                        std::span<const int8_t> weights, std::span<const int32_t> bias,
                        std::span<int64_t> acc) {
  EI8_RETURN_IF_ERROR((
      check_conv<TIn, int16_t>(p, input.size(), weights.size(), bias.size(), acc.size(), nullptr)));
  int64_t* out = acc.data();
  conv_loops(p, input.data(), weights.data(), bias,
             [out](int64_t i, int64_t, int64_t a) { out[i] = a; });
  return {};
}

template <typename TIn, typename TOut>
Status conv_a16_ref(const ConvS8Params& p, std::span<const TIn> input,
                    std::span<const int8_t> weights, std::span<const int32_t> bias,
                    std::span<TOut> output) {
  EI8_RETURN_IF_ERROR((check_conv<TIn, TOut>(p, input.size(), weights.size(), bias.size(),
                                             output.size(), &p.requant)));
  TOut* out = output.data();
  const fixedpoint::Requantizer& rq = p.requant;
  conv_loops(p, input.data(), weights.data(), bias, [out, &rq](int64_t i, int64_t oc, int64_t a) {
    out[i] = static_cast<TOut>(requant<TIn>(rq, a, oc));
  });
  return {};
}

template <typename TIn>
Status fully_connected_a16_acc_ref(const FullyConnectedS8Params& p, std::span<const TIn> input,
                                   std::span<const int8_t> weights, bool out_in,
                                   std::span<const int32_t> bias, std::span<int64_t> acc) {
  EI8_RETURN_IF_ERROR(
      (check_fc<TIn, int16_t>(p, input.size(), weights.size(), bias.size(), acc.size(), nullptr)));
  int64_t* out = acc.data();
  fc_loops(p, input.data(), weights.data(), out_in, bias,
           [out](int64_t i, int64_t, int64_t a) { out[i] = a; });
  return {};
}

template <typename TIn, typename TOut>
Status fully_connected_a16_ref(const FullyConnectedS8Params& p, std::span<const TIn> input,
                               std::span<const int8_t> weights, bool out_in,
                               std::span<const int32_t> bias, std::span<TOut> output) {
  EI8_RETURN_IF_ERROR((check_fc<TIn, TOut>(p, input.size(), weights.size(), bias.size(),
                                           output.size(), &p.requant)));
  TOut* out = output.data();
  const fixedpoint::Requantizer& rq = p.requant;
  fc_loops(p, input.data(), weights.data(), out_in, bias,
           [out, &rq](int64_t i, int64_t o, int64_t a) {
             out[i] = static_cast<TOut>(requant<TIn>(rq, a, o));
           });
  return {};
}

#define EI8_A16_ACC(TIn)                                                                   \
  template Status conv_a16_acc_ref<TIn>(const ConvS8Params&, std::span<const TIn>,         \
                                        std::span<const int8_t>, std::span<const int32_t>, \
                                        std::span<int64_t>);                               \
  template Status fully_connected_a16_acc_ref<TIn>(                                        \
      const FullyConnectedS8Params&, std::span<const TIn>, std::span<const int8_t>, bool,  \
      std::span<const int32_t>, std::span<int64_t>);
#define EI8_A16_OUT(TIn, TOut)                                                               \
  template Status conv_a16_check<TIn, TOut>(const ConvS8Params&);                            \
  template Status fully_connected_a16_check<TIn, TOut>(const FullyConnectedS8Params&);       \
  template Status conv_a16_ref<TIn, TOut>(const ConvS8Params&, std::span<const TIn>,         \
                                          std::span<const int8_t>, std::span<const int32_t>, \
                                          std::span<TOut>);                                  \
  template Status fully_connected_a16_ref<TIn, TOut>(                                        \
      const FullyConnectedS8Params&, std::span<const TIn>, std::span<const int8_t>, bool,    \
      std::span<const int32_t>, std::span<TOut>);
#define EI8_A16_IN(TIn)     \
  EI8_A16_ACC(TIn)          \
  EI8_A16_OUT(TIn, uint8_t) \
  EI8_A16_OUT(TIn, int8_t)  \
  EI8_A16_OUT(TIn, int16_t)
EI8_A16_IN(uint8_t)
EI8_A16_IN(int8_t)
EI8_A16_IN(int16_t)
#undef EI8_A16_IN
#undef EI8_A16_OUT
#undef EI8_A16_ACC

}  // namespace ei8::kernels
