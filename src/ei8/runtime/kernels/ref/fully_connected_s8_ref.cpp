#include "ei8/runtime/kernels/ref/fully_connected_s8_ref.h"

#include <limits>

#include "ei8/runtime/kernels/ref/conv_s8_ref.h"

namespace ei8::kernels {

Status FullyConnectedS8Params::validate() const {
  if (accumulator_bits != 0) {
    EI8_RETURN_IF_ERROR(fixedpoint::check_width(accumulator_bits, "simulate int8 accumulator"));
  }
  if (batch < 1 || batch > (int64_t{1} << 31)) {
    return invalid_argument("cannot run int8 fully connected: batch = {}, must be in [1, 2^31]",
                            batch);
  }
  if (out_features < 1 || out_features > (int64_t{1} << 31)) {
    return invalid_argument(
        "cannot run int8 fully connected: out_features = {}, must be in [1, 2^31]", out_features);
  }
  const int64_t kmax = weight_zero_point == 0 ? kMaxAccumulationCount : kMaxAccumulationCount / 2;
  if (in_features < 1 || in_features > kmax) {
    return invalid_argument("cannot run int8 fully connected: in_features = {}, must be in [1, {}]",
                            in_features, kmax);
  }
  if (input_zero_point < -128 || input_zero_point > 255) {
    return invalid_argument(
        "cannot run int8 fully connected: input zero point = {}, must be in [-128, 255]",
        input_zero_point);
  }
  if (weight_zero_point < -128 || weight_zero_point > 127) {
    return invalid_argument(
        "cannot run int8 fully connected: weight zero point = {}, must be in [-128, 127]",
        weight_zero_point);
  }
  return {};
}

namespace {

template <typename TIn>
Status check_fc(const FullyConnectedS8Params& p, size_t input, size_t weights, size_t bias,
                size_t output) {
  EI8_RETURN_IF_ERROR(p.validate());
  if (p.input_zero_point < std::numeric_limits<TIn>::min() ||
      p.input_zero_point > std::numeric_limits<TIn>::max()) {
    return invalid_argument(
        "cannot run int8 fully connected: input zero point = {}, must fit the input type",
        p.input_zero_point);
  }
  const struct {
    const char* name;
    size_t got;
    int64_t want;
  } sizes[] = {{"input size", input, p.batch * p.in_features},
               {"weight size", weights, p.out_features * p.in_features},
               {"output size", output, p.batch * p.out_features}};
  for (const auto& s : sizes) {
    if (static_cast<int64_t>(s.got) != s.want) {
      return invalid_argument("cannot run int8 fully connected: {} = {}, must be {}", s.name, s.got,
                              s.want);
    }
  }
  if (bias != 0 && static_cast<int64_t>(bias) != p.out_features) {
    return invalid_argument("cannot run int8 fully connected: bias size = {}, must be 0 or {}",
                            bias, p.out_features);
  }
  return {};
}

// Three plain loops. The int32 sum cannot overflow: |(x − z_x)(w − z_w)| ≤ 255·128 for
// symmetric weights and K ≤ 65536 (K ≤ 32768 with a weight zero point, |·| ≤ 255·255), so
// |Σ| < 2^31; the bias is added in int64 and saturated to int32 (see conv_s8_ref.cpp).
template <typename TIn, typename Emit>
void fc_loops(const FullyConnectedS8Params& p, const TIn* x, const int8_t* w,
              std::span<const int32_t> bias, Emit emit) {
  const int bits = p.accumulator_bits;
  const bool wrap = p.accumulator_policy == fixedpoint::OverflowPolicy::kWrap;
  const auto limit = [bits, wrap](int64_t v) {
    return wrap ? fixedpoint::wrap(v, bits) : fixedpoint::saturate(v, bits);
  };
  for (int64_t n = 0; n < p.batch; ++n) {
    for (int64_t o = 0; o < p.out_features; ++o) {
      const int64_t b = bias.empty() ? 0 : bias[static_cast<size_t>(o)];
      if (bits > 0) {  // simulated narrow register: bias first, the policy after each addition
        int64_t reg = limit(b);
        for (int64_t i = 0; i < p.in_features; ++i) {
          reg = limit(reg + int64_t{(int32_t{x[n * p.in_features + i]} - p.input_zero_point) *
                                    (int32_t{w[o * p.in_features + i]} - p.weight_zero_point)});
        }
        emit(n * p.out_features + o, o, static_cast<int32_t>(fixedpoint::saturate(reg, 32)));
        continue;
      }
      int32_t sum = 0;
      for (int64_t i = 0; i < p.in_features; ++i) {
        sum += (int32_t{x[n * p.in_features + i]} - p.input_zero_point) *
               (int32_t{w[o * p.in_features + i]} - p.weight_zero_point);
      }
      emit(n * p.out_features + o, o, static_cast<int32_t>(fixedpoint::saturate(sum + b, 32)));
    }
  }
}

}  // namespace

template <typename TIn>
Status fully_connected_s8s8s32_ref(const FullyConnectedS8Params& p, std::span<const TIn> input,
                                   std::span<const int8_t> weights, std::span<const int32_t> bias,
                                   std::span<int32_t> acc) {
  EI8_RETURN_IF_ERROR(check_fc<TIn>(p, input.size(), weights.size(), bias.size(), acc.size()));
  int32_t* out = acc.data();
  fc_loops(p, input.data(), weights.data(), bias,
           [out](int64_t i, int64_t, int32_t a) { out[i] = a; });
  return {};
}

template <typename TIn, typename TOut>
Status fully_connected_s8_ref(const FullyConnectedS8Params& p, std::span<const TIn> input,
                              std::span<const int8_t> weights, std::span<const int32_t> bias,
                              std::span<TOut> output) {
  EI8_RETURN_IF_ERROR(check_fc<TIn>(p, input.size(), weights.size(), bias.size(), output.size()));
  const fixedpoint::Requantizer& rq = p.requant;
  if (rq.channels() != 1 && rq.channels() != p.out_features) {
    return invalid_argument(
        "cannot run int8 fully connected: requantizer channels = {}, must be 1 or {}",
        rq.channels(), p.out_features);
  }
  if (rq.qmin() < std::numeric_limits<TOut>::min() ||
      rq.qmax() > std::numeric_limits<TOut>::max()) {
    return invalid_argument(
        "cannot run int8 fully connected: output clamp = [{}, {}], must lie inside the output type",
        rq.qmin(), rq.qmax());
  }
  TOut* out = output.data();
  fc_loops(p, input.data(), weights.data(), bias, [out, &rq](int64_t i, int64_t o, int32_t a) {
    out[i] = static_cast<TOut>(rq.apply(a, o));
  });
  return {};
}

#define EI8_INSTANTIATE_FC_S8(TIn)                                                                \
  template Status fully_connected_s8s8s32_ref<TIn>(const FullyConnectedS8Params&,                 \
                                                   std::span<const TIn>, std::span<const int8_t>, \
                                                   std::span<const int32_t>, std::span<int32_t>); \
  template Status fully_connected_s8_ref<TIn, int8_t>(                                            \
      const FullyConnectedS8Params&, std::span<const TIn>, std::span<const int8_t>,               \
      std::span<const int32_t>, std::span<int8_t>);                                               \
  template Status fully_connected_s8_ref<TIn, uint8_t>(                                           \
      const FullyConnectedS8Params&, std::span<const TIn>, std::span<const int8_t>,               \
      std::span<const int32_t>, std::span<uint8_t>);
EI8_INSTANTIATE_FC_S8(int8_t)
EI8_INSTANTIATE_FC_S8(uint8_t)
#undef EI8_INSTANTIATE_FC_S8

}  // namespace ei8::kernels
