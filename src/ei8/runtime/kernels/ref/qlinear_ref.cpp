#include "ei8/runtime/kernels/ref/qlinear_ref.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>

#include "ei8/fixedpoint/quantize.h"
#include "ei8/fixedpoint/rounding.h"
#include "ei8/runtime/kernels/conv_s8.h"

namespace ei8::kernels {

template <typename T>
void qlinear_add_ref(const QLinearAddParams& p, const T* a, const T* b, T* c, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const float va = p.a_scale * static_cast<float>(int32_t{a[i]} - p.a_zero_point);
    const float vb = p.b_scale * static_cast<float>(int32_t{b[i]} - p.b_zero_point);
    c[i] = static_cast<T>(fixedpoint::quantize(va + vb, p.c_scale, p.c_zero_point, p.qmin, p.qmax));
  }
}

template <typename T>
void requantize_ref(float in_scale, int32_t in_zero_point, float out_scale, int32_t out_zero_point,
                    const T* x, T* y, int64_t n) {
  constexpr int32_t lo = std::numeric_limits<T>::min(), hi = std::numeric_limits<T>::max();
  for (int64_t i = 0; i < n; ++i) {
    const float r = fixedpoint::dequantize(x[i], in_scale, in_zero_point);
    y[i] = static_cast<T>(fixedpoint::quantize(r, out_scale, out_zero_point, lo, hi));
  }
}

template <typename T>
std::array<T, 256> requantize_table(float in_scale, int32_t in_zero_point, float out_scale,
                                    int32_t out_zero_point) {
  constexpr int32_t lo = std::numeric_limits<T>::min(), hi = std::numeric_limits<T>::max();
  std::array<T, 256> t{};
  for (int32_t x = lo; x <= hi; ++x) {
    const float r = fixedpoint::dequantize(x, in_scale, in_zero_point);
    t[static_cast<size_t>(x - lo)] =
        static_cast<T>(fixedpoint::quantize(r, out_scale, out_zero_point, lo, hi));
  }
  return t;
}

template <typename T>
void maxpool_s8_ref(const Pool2dParams& p, int64_t batch, const T* x, T* y) {
  const int64_t oh = p.out_h, ow = p.out_w;
  for (int64_t nc = 0; nc < batch * p.channels; ++nc) {
    const T* xp = x + nc * p.in_h * p.in_w;
    for (int64_t i = 0; i < oh; ++i) {
      for (int64_t j = 0; j < ow; ++j) {
        int32_t m = std::numeric_limits<int32_t>::min();
        for (int64_t kh = 0; kh < p.kernel_h; ++kh) {
          const int64_t h = i * p.stride_h - p.pad_top + kh;
          if (h < 0 || h >= p.in_h) continue;
          for (int64_t kw = 0; kw < p.kernel_w; ++kw) {
            const int64_t w = j * p.stride_w - p.pad_left + kw;
            if (w >= 0 && w < p.in_w) m = std::max<int32_t>(m, xp[h * p.in_w + w]);
          }
        }
        *y++ = static_cast<T>(m);
      }
    }
  }
}

template <typename T>
void avgpool_s8_ref(const Pool2dParams& p, int64_t batch, int32_t input_zero_point,
                    const std::vector<fixedpoint::Requantizer>& requant, const T* x, T* y) {
  const int64_t oh = p.out_h, ow = p.out_w;
  for (int64_t nc = 0; nc < batch * p.channels; ++nc) {
    const T* xp = x + nc * p.in_h * p.in_w;
    for (int64_t i = 0; i < oh; ++i) {
      for (int64_t j = 0; j < ow; ++j) {
        // |acc| ≤ 255·kh·kw: int32 holds any window below 2^23 taps.
        int32_t acc = 0, count = 0;
        for (int64_t kh = 0; kh < p.kernel_h; ++kh) {
          const int64_t h = i * p.stride_h - p.pad_top + kh;
          for (int64_t kw = 0; kw < p.kernel_w; ++kw) {
            const int64_t w = j * p.stride_w - p.pad_left + kw;
            if (h < 0 || h >= p.in_h || w < 0 || w >= p.in_w) {
              // A padded tap holds z_x (adds 0); taps beyond the padding (ceil_mode) never count.
              if (p.count_include_pad && h < p.in_h + p.pad_bottom && w < p.in_w + p.pad_right) {
                ++count;
              }
              continue;
            }
            acc += int32_t{xp[h * p.in_w + w]} - input_zero_point;
            ++count;
          }
        }
        *y++ = static_cast<T>(requant[static_cast<size_t>(std::max(count, 1) - 1)].apply(acc, 0));
      }
    }
  }
}

template <typename T>
void avgpool_s8_float_ref(const Pool2dParams& p, int64_t batch, float x_scale, int32_t x_zero_point,
                          float y_scale, int32_t y_zero_point, const T* x, T* y) {
  const std::array<float, 256> dq = dequantized_codes<T>(x_scale, x_zero_point);
  constexpr int32_t lo = std::numeric_limits<T>::min(), hi = std::numeric_limits<T>::max();
  for (int64_t nc = 0; nc < batch * p.channels; ++nc) {
    const T* xp = x + nc * p.in_h * p.in_w;
    for (int64_t i = 0; i < p.out_h; ++i) {
      const int64_t h0 = i * p.stride_h - p.pad_top;
      const int64_t h1 = std::min(h0 + p.kernel_h, p.in_h);
      for (int64_t j = 0; j < p.out_w; ++j) {
        const int64_t w0 = j * p.stride_w - p.pad_left;
        const int64_t w1 = std::min(w0 + p.kernel_w, p.in_w);
        float s = 0.0f;
        for (int64_t h = std::max<int64_t>(h0, 0); h < h1; ++h) {
          for (int64_t w = std::max<int64_t>(w0, 0); w < w1; ++w) {
            s += dq[static_cast<size_t>(int32_t{xp[h * p.in_w + w]} - lo)];
          }
        }
        const int64_t count =
            p.count_include_pad ? p.kernel_h * p.kernel_w
                                : (h1 - std::max<int64_t>(h0, 0)) * (w1 - std::max<int64_t>(w0, 0));
        s /= static_cast<float>(count);
        const float v = s / y_scale + static_cast<float>(y_zero_point);
        const int32_t q = std::isfinite(v) && std::abs(v) < 2147483648.0f
                              ? static_cast<int32_t>(fixedpoint::round_half_even(v))
                              : (v > 0 ? hi : lo);
        *y++ = static_cast<T>(std::clamp(q, lo, hi));
      }
    }
  }
}

template <typename T>
void clamp_s8_ref(const T* x, T* y, int64_t n, int32_t lo, int32_t hi) {
  for (int64_t i = 0; i < n; ++i) y[i] = static_cast<T>(std::clamp<int32_t>(x[i], lo, hi));
}

float qlinear_mul_multiplier(const QLinearMulParams& p) {
  const float ab = p.a_scale * p.b_scale;  // two float32 roundings, in MLAS's order
  return ab / p.c_scale;
}

template <typename T>
int32_t qlinear_mul_element(const QLinearMulParams& p, float multiplier, int32_t a, int32_t b) {
  // |(a − z_a)(b − z_b)| ≤ 255² < 2^24: the int32 product and its float conversion are exact.
  const int32_t acc = (a - p.a_zero_point) * (b - p.b_zero_point);
  const float scaled = static_cast<float>(acc) * multiplier;
  const float v = scaled + static_cast<float>(p.c_zero_point);  // z_c before rounding (MLAS)
  // CVTPS2DQ: round half to even; NaN or |v| ≥ 2^31 gives the "integer indefinite" INT32_MIN,
  // which the saturating packs turn into the type's minimum.
  int32_t q = std::numeric_limits<int32_t>::min();
  if (std::isfinite(v) && std::abs(v) < 2147483648.0f) {
    q = static_cast<int32_t>(fixedpoint::round_half_even(v));
  }
  q = std::clamp<int32_t>(q, std::numeric_limits<T>::min(), std::numeric_limits<T>::max());
  return std::clamp(q, p.qmin, p.qmax);
}

template <typename T>
void qlinear_mul_ref(const QLinearMulParams& p, const T* a, const T* b, T* c, int64_t n) {
  const float m = qlinear_mul_multiplier(p);
  for (int64_t i = 0; i < n; ++i) c[i] = static_cast<T>(qlinear_mul_element<T>(p, m, a[i], b[i]));
}

float logistic_ort(float x) {
  // MLAS logistic.cpp constants (Eigen's rational approximation), float32.
  constexpr float kAlpha9 = 4.37031012579801e-11f, kAlpha7 = 1.15627324459942e-07f,
                  kAlpha5 = 6.08574864600143e-05f, kAlpha3 = 8.51377133304701e-03f,
                  kAlpha1 = 2.48287947061529e-01f;
  constexpr float kBeta10 = 6.10247389755681e-13f, kBeta8 = 5.76102136993427e-09f,
                  kBeta6 = 6.29106785017040e-06f, kBeta4 = 1.70198817374094e-03f,
                  kBeta2 = 1.16817656904453e-01f, kBeta0 = 9.93151921023180e-01f;
  // vmaxps(lower, x), vminps(upper, x): a NaN input passes through both.
  const float v = x < -18.0f ? -18.0f : (x > 18.0f ? 18.0f : x);
  const float v2 = v * v;
  float p = std::fma(v2, kAlpha9, kAlpha7);
  p = std::fma(v2, p, kAlpha5);
  p = std::fma(v2, p, kAlpha3);
  p = std::fma(v2, p, kAlpha1);
  float q = std::fma(v2, kBeta10, kBeta8);
  q = std::fma(v2, q, kBeta6);
  q = std::fma(v2, q, kBeta4);
  q = std::fma(v2, q, kBeta2);
  q = std::fma(v2, q, kBeta0);
  p = v * p;
  const float r = p / q + 0.5f;
  return r > 0.0f ? r : 0.0f;  // vmaxps(0, r): lower bound only (no clamp at 1)
}

template <typename T>
std::array<float, 256> dequantized_codes(float in_scale, int32_t in_zero_point) {
  constexpr int32_t lo = std::numeric_limits<T>::min();
  std::array<float, 256> v{};
  for (int32_t i = 0; i < 256; ++i) {
    v[static_cast<size_t>(i)] = in_scale * static_cast<float>(lo + i - in_zero_point);
  }
  return v;
}

template <typename T>
std::array<T, 256> quantize_codes(const std::array<float, 256>& values, float out_scale,
                                  int32_t out_zero_point) {
  std::array<T, 256> t{};
  quantize_linear_f32_scalar(values.data(), 256, out_scale, out_zero_point,
                             std::is_same_v<T, uint8_t> ? IntType::kU8 : IntType::kS8, t.data());
  return t;
}

template <typename T>
void lookup_s8_ref(const std::array<T, 256>& table, const T* x, T* y, int64_t n) {
  constexpr int32_t lo = std::numeric_limits<T>::min();
  for (int64_t i = 0; i < n; ++i) y[i] = table[static_cast<size_t>(int32_t{x[i]} - lo)];
}

void accumulators_to_float_ref(const int32_t* acc, int64_t rows, int64_t cols,
                               std::span<const float> multipliers, float* y) {
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < cols; ++c) {
      const float m = multipliers[multipliers.size() == 1 ? 0 : static_cast<size_t>(c)];
      y[r * cols + c] = static_cast<float>(acc[r * cols + c]) * m;  // RNE conversion, one mulss
    }
  }
}

#define EI8_INSTANTIATE(T)                                                                      \
  template void qlinear_add_ref<T>(const QLinearAddParams&, const T*, const T*, T*, int64_t);   \
  template std::array<T, 256> requantize_table<T>(float, int32_t, float, int32_t);              \
  template void maxpool_s8_ref<T>(const Pool2dParams&, int64_t, const T*, T*);                  \
  template void avgpool_s8_ref<T>(const Pool2dParams&, int64_t, int32_t,                        \
                                  const std::vector<fixedpoint::Requantizer>&, const T*, T*);   \
  template void clamp_s8_ref<T>(const T*, T*, int64_t, int32_t, int32_t);                       \
  template int32_t qlinear_mul_element<T>(const QLinearMulParams&, float, int32_t, int32_t);    \
  template void qlinear_mul_ref<T>(const QLinearMulParams&, const T*, const T*, T*, int64_t);   \
  template std::array<float, 256> dequantized_codes<T>(float, int32_t);                         \
  template std::array<T, 256> quantize_codes<T>(const std::array<float, 256>&, float, int32_t); \
  template void lookup_s8_ref<T>(const std::array<T, 256>&, const T*, T*, int64_t);             \
  template void avgpool_s8_float_ref<T>(const Pool2dParams&, int64_t, float, int32_t, float,    \
                                        int32_t, const T*, T*);
EI8_INSTANTIATE(uint8_t)
EI8_INSTANTIATE(int8_t)
#undef EI8_INSTANTIATE
// int16 activations of A16W8 models (integer MaxPool, ReLU/Clip, Add and Concat between int16
// layers: the float formulas of DQ → op → Q, which ONNX Runtime runs for int16 QDQ).
template void maxpool_s8_ref<int16_t>(const Pool2dParams&, int64_t, const int16_t*, int16_t*);
template void clamp_s8_ref<int16_t>(const int16_t*, int16_t*, int64_t, int32_t, int32_t);
template void qlinear_add_ref<int16_t>(const QLinearAddParams&, const int16_t*, const int16_t*,
                                       int16_t*, int64_t);
template void requantize_ref<int16_t>(float, int32_t, float, int32_t, const int16_t*, int16_t*,
                                      int64_t);

}  // namespace ei8::kernels
