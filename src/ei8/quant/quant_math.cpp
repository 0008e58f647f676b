#include "ei8/quant/quant_math.h"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <limits>

#include "ei8/fixedpoint/quantize.h"
#include "ei8/fixedpoint/rounding.h"

namespace ei8::quant {

using fixedpoint::round_half_even;

std::string_view qtype_name(QType t) {
  switch (t) {
    case QType::kU8:
      return "u8";
    case QType::kS8:
      return "s8";
    case QType::kS8Symmetric:
      return "s8sym";
    case QType::kS7Symmetric:
      return "s7sym";
    case QType::kS4Symmetric:
      return "s4sym";
    case QType::kS16Symmetric:
      return "s16sym";
  }
  return "?";
}
bool always_symmetric(QType t) {
  return t == QType::kS8Symmetric || t == QType::kS7Symmetric || t == QType::kS4Symmetric ||
         t == QType::kS16Symmetric;
}
int32_t qmin(QType t) {
  switch (t) {
    case QType::kU8:
      return 0;
    case QType::kS8:
      return -128;
    case QType::kS8Symmetric:
      return -127;
    case QType::kS7Symmetric:
      return -63;
    case QType::kS4Symmetric:
      return -7;
    case QType::kS16Symmetric:
      return -32767;
  }
  return 0;
}
int32_t qmax(QType t) {
  switch (t) {
    case QType::kU8:
      return 255;
    case QType::kS7Symmetric:
      return 63;
    case QType::kS4Symmetric:
      return 7;
    case QType::kS16Symmetric:
      return 32767;
    case QType::kS8:
    case QType::kS8Symmetric:
      break;
  }
  return 127;
}
DType storage_dtype(QType t) {
  return t == QType::kU8 ? DType::kU8 : (t == QType::kS16Symmetric ? DType::kS16 : DType::kS8);
}

Result<QuantParams> choose_qparams(float rmin, float rmax, QType t, bool symmetric) {
  if (!std::isfinite(rmin) || !std::isfinite(rmax) || rmin > rmax) {
    return invalid_argument(
        "cannot choose quantization parameters: range = [{}, {}], must be "
        "finite with min <= max",
        rmin, rmax);
  }
  // Widen to include 0 so that zero (padding, ReLU) is exactly representable.
  rmin = std::min(rmin, 0.0f);
  rmax = std::max(rmax, 0.0f);
  if (symmetric || always_symmetric(t)) {
    const float a = std::max(-rmin, rmax);
    rmin = -a;
    rmax = a;
  }
  const int32_t lo = qmin(t), hi = qmax(t);
  auto scale = static_cast<float>((static_cast<double>(rmax) - static_cast<double>(rmin)) /
                                  static_cast<double>(hi - lo));
  if (!(scale >= FLT_MIN)) scale = 1.0f;
  // Symmetric: the midpoint of the integer range, RNE((qmin + qmax)/2) — 0 for s8, s8sym, s7sym,
  // 128 for u8 — exactly, not through a float quotient that may land on the wrong side of a tie.
  const bool sym = symmetric || always_symmetric(t);
  const double z =
      sym ? round_half_even((static_cast<double>(lo) + hi) / 2.0)
          : round_half_even(static_cast<double>(lo) - static_cast<double>(rmin / scale));
  QuantParams p;
  p.scale = scale;
  p.zero_point =
      static_cast<int32_t>(std::clamp(z, static_cast<double>(lo), static_cast<double>(hi)));
  return p;
}

Result<QuantParams> choose_qparams(std::span<const float> values, QType t, bool symmetric) {
  if (values.empty()) {
    return invalid_argument("cannot choose quantization parameters: value count = 0, must be >= 1");
  }
  auto [mn, mx] = std::minmax_element(values.begin(), values.end());
  return choose_qparams(*mn, *mx, t, symmetric);
}

int32_t quantize_value(float x, QuantParams p, QType t) {
  return fixedpoint::quantize(x, p.scale, p.zero_point, qmin(t), qmax(t));
}

namespace {

Status check_params(QuantParams p, QType t) {
  if (!(p.scale > 0.0f) || !std::isfinite(p.scale)) {
    return invalid_argument("cannot quantize tensor: scale = {}, must be finite and > 0", p.scale);
  }
  if (p.zero_point < qmin(t) || p.zero_point > qmax(t)) {
    return invalid_argument("cannot quantize tensor: zero point = {}, must be in [{}, {}] for {}",
                            p.zero_point, qmin(t), qmax(t), qtype_name(t));
  }
  return {};
}

template <typename TQ>
void quantize_into(std::span<const float> x, QuantParams p, QType t, std::span<TQ> out) {
  for (size_t i = 0; i < x.size(); ++i) out[i] = static_cast<TQ>(quantize_value(x[i], p, t));
}

template <typename TQ>
void dequantize_into(std::span<const TQ> q, QuantParams p, std::span<float> out) {
  for (size_t i = 0; i < q.size(); ++i) out[i] = dequantize_value(q[i], p);
}

// Shape split around `axis`: outer × channels × inner.
struct AxisSplit {
  int64_t outer = 1, channels = 1, inner = 1;
};
Result<AxisSplit> split_axis(const Tensor& x, int64_t axis, size_t params) {
  if (axis < 0 || axis >= x.rank()) {
    return invalid_argument("cannot quantize per channel: axis = {}, must be in [0, {})", axis,
                            x.rank());
  }
  AxisSplit s;
  for (int64_t i = 0; i < axis; ++i) s.outer *= x.dim(i);
  s.channels = x.dim(axis);
  for (int64_t i = axis + 1; i < x.rank(); ++i) s.inner *= x.dim(i);
  if (params != static_cast<size_t>(s.channels) && params != 0) {
    return invalid_argument("cannot quantize per channel: parameter count = {}, must be {}", params,
                            s.channels);
  }
  return s;
}

}  // namespace

Result<Tensor> quantize(const Tensor& x, QuantParams p, QType t) {
  if (x.dtype() != DType::kF32) {
    return invalid_argument("cannot quantize tensor: dtype = {}, must be f32",
                            dtype_name(x.dtype()));
  }
  EI8_RETURN_IF_ERROR(check_params(p, t));
  Tensor q = Tensor::zeros(storage_dtype(t), x.shape());
  if (t == QType::kU8) {
    quantize_into(x.span<float>(), p, t, q.span<uint8_t>());
  } else if (t == QType::kS16Symmetric) {
    quantize_into(x.span<float>(), p, t, q.span<int16_t>());
  } else {
    quantize_into(x.span<float>(), p, t, q.span<int8_t>());
  }
  return q;
}

Result<Tensor> dequantize(const Tensor& q, QuantParams p) {
  if (!(p.scale > 0.0f) || !std::isfinite(p.scale)) {
    return invalid_argument("cannot dequantize tensor: scale = {}, must be finite and > 0",
                            p.scale);
  }
  Tensor y = Tensor::zeros(DType::kF32, q.shape());
  switch (q.dtype()) {
    case DType::kU8:
      dequantize_into(q.span<uint8_t>(), p, y.span<float>());
      break;
    case DType::kS8:
      dequantize_into(q.span<int8_t>(), p, y.span<float>());
      break;
    case DType::kS32:
      dequantize_into(q.span<int32_t>(), p, y.span<float>());
      break;
    case DType::kS16:
      dequantize_into(q.span<int16_t>(), p, y.span<float>());
      break;
    default:
      return invalid_argument("cannot dequantize tensor: dtype = {}, must be u8, s8, s16 or s32",
                              dtype_name(q.dtype()));
  }
  return y;
}

Result<Tensor> quantize_per_channel(const Tensor& x, std::span<const QuantParams> params,
                                    int64_t axis, QType t) {
  if (x.dtype() != DType::kF32) {
    return invalid_argument("cannot quantize tensor: dtype = {}, must be f32",
                            dtype_name(x.dtype()));
  }
  EI8_ASSIGN_OR_RETURN(AxisSplit s, split_axis(x, axis, params.size()));
  if (params.empty())
    return invalid_argument("cannot quantize per channel: parameter count = 0, must be {}",
                            s.channels);
  for (const QuantParams& p : params) EI8_RETURN_IF_ERROR(check_params(p, t));
  Tensor q = Tensor::zeros(storage_dtype(t), x.shape());
  const std::span<const float> in = x.span<float>();
  for (int64_t o = 0; o < s.outer; ++o) {
    for (int64_t c = 0; c < s.channels; ++c) {
      const size_t off = static_cast<size_t>((o * s.channels + c) * s.inner);
      const auto n = static_cast<size_t>(s.inner);
      const QuantParams& p = params[static_cast<size_t>(c)];
      if (t == QType::kU8) {
        quantize_into(in.subspan(off, n), p, t, q.span<uint8_t>().subspan(off, n));
      } else if (t == QType::kS16Symmetric) {
        quantize_into(in.subspan(off, n), p, t, q.span<int16_t>().subspan(off, n));
      } else {
        quantize_into(in.subspan(off, n), p, t, q.span<int8_t>().subspan(off, n));
      }
    }
  }
  return q;
}

Result<Tensor> dequantize_per_channel(const Tensor& q, std::span<const QuantParams> params,
                                      int64_t axis) {
  if (q.dtype() != DType::kU8 && q.dtype() != DType::kS8) {
    return invalid_argument("cannot dequantize tensor: dtype = {}, must be u8 or s8",
                            dtype_name(q.dtype()));
  }
  EI8_ASSIGN_OR_RETURN(AxisSplit s, split_axis(q, axis, params.size()));
  if (params.empty())
    return invalid_argument("cannot dequantize per channel: parameter count = 0, must be {}",
                            s.channels);
  Tensor y = Tensor::zeros(DType::kF32, q.shape());
  for (int64_t o = 0; o < s.outer; ++o) {
    for (int64_t c = 0; c < s.channels; ++c) {
      const size_t off = static_cast<size_t>((o * s.channels + c) * s.inner);
      const auto n = static_cast<size_t>(s.inner);
      const QuantParams& p = params[static_cast<size_t>(c)];
      if (q.dtype() == DType::kU8) {
        dequantize_into(q.span<uint8_t>().subspan(off, n), p, y.span<float>().subspan(off, n));
      } else {
        dequantize_into(q.span<int8_t>().subspan(off, n), p, y.span<float>().subspan(off, n));
      }
    }
  }
  return y;
}

Result<std::vector<QuantParams>> choose_qparams_per_channel(const Tensor& x, int64_t axis, QType t,
                                                            bool symmetric) {
  if (x.dtype() != DType::kF32) {
    return invalid_argument("cannot choose quantization parameters: dtype = {}, must be f32",
                            dtype_name(x.dtype()));
  }
  EI8_ASSIGN_OR_RETURN(AxisSplit s, split_axis(x, axis, 0));
  std::vector<float> mn(static_cast<size_t>(s.channels), std::numeric_limits<float>::infinity());
  std::vector<float> mx(static_cast<size_t>(s.channels), -std::numeric_limits<float>::infinity());
  const std::span<const float> in = x.span<float>();
  for (int64_t o = 0; o < s.outer; ++o) {
    for (int64_t c = 0; c < s.channels; ++c) {
      for (int64_t i = 0; i < s.inner; ++i) {
        const float v = in[static_cast<size_t>((o * s.channels + c) * s.inner + i)];
        mn[static_cast<size_t>(c)] = std::min(mn[static_cast<size_t>(c)], v);
        mx[static_cast<size_t>(c)] = std::max(mx[static_cast<size_t>(c)], v);
      }
    }
  }
  std::vector<QuantParams> out;
  for (size_t c = 0; c < mn.size(); ++c) {
    if (s.outer * s.inner == 0) mn[c] = mx[c] = 0.0f;
    EI8_ASSIGN_OR_RETURN(QuantParams p, choose_qparams(mn[c], mx[c], t, symmetric));
    out.push_back(p);
  }
  return out;
}

Result<ErrorMetrics> error_metrics(std::span<const float> ref, std::span<const float> test) {
  if (ref.size() != test.size()) {
    return invalid_argument("cannot compare tensors: size = {}, must equal reference size {}",
                            test.size(), ref.size());
  }
  ErrorMetrics m;
  double sse = 0.0, ss_ref = 0.0, ss_test = 0.0, dot = 0.0;
  for (size_t i = 0; i < ref.size(); ++i) {
    const double r = ref[i], t = test[i], d = t - r;
    sse += d * d;
    ss_ref += r * r;
    ss_test += t * t;
    dot += r * t;
    m.max_abs = std::max(m.max_abs, std::abs(d));
  }
  m.mse = ref.empty() ? 0.0 : sse / static_cast<double>(ref.size());
  constexpr double kInf = std::numeric_limits<double>::infinity();
  if (sse == 0.0) {
    m.sqnr_db = kInf;
  } else {
    m.sqnr_db = ss_ref == 0.0 ? -kInf : 10.0 * std::log10(ss_ref / sse);
  }
  if (ss_ref == 0.0 && ss_test == 0.0) {
    m.cosine = 1.0;
  } else if (ss_ref == 0.0 || ss_test == 0.0) {
    m.cosine = 0.0;
  } else {
    m.cosine = dot / (std::sqrt(ss_ref) * std::sqrt(ss_test));
  }
  return m;
}

Result<QuantizedBias> quantize_bias(std::span<const float> bias, float input_scale,
                                    std::span<const float> weight_scales) {
  if (!(input_scale > 0.0f) || !std::isfinite(input_scale)) {
    return invalid_argument("cannot quantize bias: input scale = {}, must be finite and > 0",
                            input_scale);
  }
  if (weight_scales.size() != 1 && weight_scales.size() != bias.size()) {
    return invalid_argument("cannot quantize bias: weight scale count = {}, must be 1 or {}",
                            weight_scales.size(), bias.size());
  }
  QuantizedBias out;
  out.weight_scales.assign(weight_scales.begin(), weight_scales.end());
  constexpr double kInt32Max = 2147483647.0;
  auto fits = [&](float b, float sw) {
    return std::abs(static_cast<double>(b) / static_cast<double>(input_scale * sw)) <= kInt32Max;
  };
  // Pass 1: validate, and enlarge every weight scale some bias of its channel(s) needs enlarged
  // (a per-tensor scale is enlarged once for the largest bias, before any bias is quantized).
  for (size_t c = 0; c < bias.size(); ++c) {
    const size_t wc = weight_scales.size() == 1 ? 0 : c;
    const float b = bias[c];
    if (!std::isfinite(b)) {
      return invalid_argument("cannot quantize bias: bias [{}] = {}, must be finite", c, b);
    }
    float& sw = out.weight_scales[wc];
    if (!(sw > 0.0f) || !std::isfinite(sw)) {
      return invalid_argument(
          "cannot quantize bias: weight scale [{}] = {}, must be finite and > 0", wc, sw);
    }
    if (fits(b, sw)) continue;
    float enlarged = static_cast<float>(std::abs(static_cast<double>(b)) /
                                        (static_cast<double>(input_scale) * kInt32Max));
    while (!fits(b, enlarged)) {
      enlarged = std::nextafter(enlarged, std::numeric_limits<float>::infinity());
    }
    out.warnings.push_back(fmt::format(
        "bias [{}] = {} does not fit int32 with bias scale {} (s_x = {}, s_w = {}); weight scale "
        "enlarged to {}: re-quantize the weights of channel {} with it",
        c, b, input_scale * sw, input_scale, sw, enlarged, wc));
    if (std::find(out.adjusted_channels.begin(), out.adjusted_channels.end(),
                  static_cast<int64_t>(wc)) == out.adjusted_channels.end()) {
      out.adjusted_channels.push_back(static_cast<int64_t>(wc));
    }
    sw = enlarged;
  }
  // Pass 2: b_q = round_half_even(b / fl32(s_x·s_w)), the division in double.
  for (size_t c = 0; c < bias.size(); ++c) {
    const float bias_scale = input_scale * out.weight_scales[weight_scales.size() == 1 ? 0 : c];
    out.values.push_back(fixedpoint::quantize(
        static_cast<double>(bias[c]), static_cast<double>(bias_scale), 0,
        std::numeric_limits<int32_t>::min(), std::numeric_limits<int32_t>::max()));
  }
  return out;
}

}  // namespace ei8::quant
