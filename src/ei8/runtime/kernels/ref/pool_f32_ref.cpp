#include "ei8/runtime/kernels/ref/pool_f32_ref.h"

#include <algorithm>
#include <limits>

namespace ei8::kernels {

void maxpool2d_f32_ref(const Pool2dParams& p, int64_t batch, const float* x, float* y) {
  for (int64_t plane = 0; plane < batch * p.channels; ++plane) {
    const float* xp = x + plane * p.in_h * p.in_w;
    float* yp = y + plane * p.out_h * p.out_w;
    for (int64_t oh = 0; oh < p.out_h; ++oh) {
      const int64_t h0 = oh * p.stride_h - p.pad_top;
      // Kernel rows whose input row is inside [0, in_h) (padding never wins a max).
      int64_t kh_lo = 0, kh_hi = p.kernel_h;
      while (kh_lo < kh_hi && h0 + kh_lo * p.dilation_h < 0) ++kh_lo;
      while (kh_hi > kh_lo && h0 + (kh_hi - 1) * p.dilation_h >= p.in_h) --kh_hi;
      for (int64_t ow = 0; ow < p.out_w; ++ow) {
        const int64_t w0 = ow * p.stride_w - p.pad_left;
        int64_t kw_lo = 0, kw_hi = p.kernel_w;
        while (kw_lo < kw_hi && w0 + kw_lo * p.dilation_w < 0) ++kw_lo;
        while (kw_hi > kw_lo && w0 + (kw_hi - 1) * p.dilation_w >= p.in_w) --kw_hi;
        float m = -std::numeric_limits<float>::infinity();
        for (int64_t kh = kh_lo; kh < kh_hi; ++kh) {
          const float* row = xp + (h0 + kh * p.dilation_h) * p.in_w + w0;
          for (int64_t kw = kw_lo; kw < kw_hi; ++kw) m = std::max(m, row[kw * p.dilation_w]);
        }
        yp[oh * p.out_w + ow] = m;
      }
    }
  }
}

void avgpool2d_f32_ref(const Pool2dParams& p, int64_t batch, const float* x, float* y) {
  for (int64_t plane = 0; plane < batch * p.channels; ++plane) {
    const float* xp = x + plane * p.in_h * p.in_w;
    float* yp = y + plane * p.out_h * p.out_w;
    for (int64_t oh = 0; oh < p.out_h; ++oh) {
      const int64_t h0 = oh * p.stride_h - p.pad_top;
      // The window clipped to the padded input (ceil_mode may run past the end padding).
      const int64_t h_lo = std::max<int64_t>(h0, -p.pad_top);
      const int64_t h_hi = std::min(h0 + p.kernel_h, p.in_h + p.pad_bottom);
      for (int64_t ow = 0; ow < p.out_w; ++ow) {
        const int64_t w0 = ow * p.stride_w - p.pad_left;
        const int64_t w_lo = std::max<int64_t>(w0, -p.pad_left);
        const int64_t w_hi = std::min(w0 + p.kernel_w, p.in_w + p.pad_right);
        double sum = 0.0;
        int64_t inside = 0;
        for (int64_t ih = std::max<int64_t>(h0, 0); ih < std::min(h0 + p.kernel_h, p.in_h); ++ih) {
          for (int64_t iw = std::max<int64_t>(w0, 0); iw < std::min(w0 + p.kernel_w, p.in_w);
               ++iw) {
            sum += xp[ih * p.in_w + iw];
            ++inside;
          }
        }
        const int64_t count = p.count_include_pad ? (h_hi - h_lo) * (w_hi - w_lo) : inside;
        yp[oh * p.out_w + ow] =
            count > 0 ? static_cast<float>(sum / static_cast<double>(count)) : 0.0f;
      }
    }
  }
}

void global_avgpool_f32_ref(int64_t planes, int64_t spatial, const float* x, float* y) {
  for (int64_t i = 0; i < planes; ++i) {
    // Eight partial sums in double (independent chains), added in a fixed order.
    const float* xp = x + i * spatial;
    double part[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    int64_t j = 0;
    for (; j + 8 <= spatial; j += 8) {
      for (int k = 0; k < 8; ++k) part[k] += xp[j + k];
    }
    double s = 0.0;
    for (; j < spatial; ++j) s += xp[j];
    for (double v : part) s += v;
    y[i] = static_cast<float>(s / static_cast<double>(spatial));
  }
}

void global_maxpool_f32_ref(int64_t planes, int64_t spatial, const float* x, float* y) {
  for (int64_t i = 0; i < planes; ++i) {
    float m = -std::numeric_limits<float>::infinity();
    for (int64_t j = 0; j < spatial; ++j) m = std::max(m, x[i * spatial + j]);
    y[i] = m;
  }
}

}  // namespace ei8::kernels
