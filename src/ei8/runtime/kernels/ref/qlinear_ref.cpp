#include "ei8/runtime/kernels/ref/qlinear_ref.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace ei8::kernels {

template <typename T>
void qlinear_add_ref(const QLinearAddParams& p, const T* a, const T* b, T* c, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const float va = p.a_scale * static_cast<float>(int32_t{a[i]} - p.a_zero_point);
    const float vb = p.b_scale * static_cast<float>(int32_t{b[i]} - p.b_zero_point);
    // Default rounding mode: nearbyint rounds half to even; clamped in float (no int overflow).
    const float q = std::nearbyint((va + vb) / p.c_scale) + static_cast<float>(p.c_zero_point);
    c[i] = static_cast<T>(std::clamp(q, static_cast<float>(p.qmin), static_cast<float>(p.qmax)));
  }
}

template <typename T>
std::array<T, 256> requantize_table(float in_scale, int32_t in_zero_point, float out_scale,
                                    int32_t out_zero_point) {
  constexpr int32_t lo = std::numeric_limits<T>::min(), hi = std::numeric_limits<T>::max();
  std::array<T, 256> t{};
  for (int32_t x = lo; x <= hi; ++x) {
    const float r = in_scale * static_cast<float>(x - in_zero_point);  // DequantizeLinear
    const float q = std::nearbyint(r / out_scale) + static_cast<float>(out_zero_point);
    t[static_cast<size_t>(x - lo)] =
        static_cast<T>(std::clamp(q, static_cast<float>(lo), static_cast<float>(hi)));
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
void clamp_s8_ref(const T* x, T* y, int64_t n, int32_t lo, int32_t hi) {
  for (int64_t i = 0; i < n; ++i) y[i] = static_cast<T>(std::clamp<int32_t>(x[i], lo, hi));
}

#define EI8_INSTANTIATE(T)                                                                    \
  template void qlinear_add_ref<T>(const QLinearAddParams&, const T*, const T*, T*, int64_t); \
  template std::array<T, 256> requantize_table<T>(float, int32_t, float, int32_t);            \
  template void maxpool_s8_ref<T>(const Pool2dParams&, int64_t, const T*, T*);                \
  template void avgpool_s8_ref<T>(const Pool2dParams&, int64_t, int32_t,                      \
                                  const std::vector<fixedpoint::Requantizer>&, const T*, T*); \
  template void clamp_s8_ref<T>(const T*, T*, int64_t, int32_t, int32_t);
EI8_INSTANTIATE(uint8_t)
EI8_INSTANTIATE(int8_t)
#undef EI8_INSTANTIATE

}  // namespace ei8::kernels
