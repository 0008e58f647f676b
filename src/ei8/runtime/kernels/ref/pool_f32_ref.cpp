#include "ei8/runtime/kernels/ref/pool_f32_ref.h"

#include <algorithm>
#include <limits>

namespace ei8::kernels {

void maxpool2d_f32_ref(const Pool2dParams& p, int64_t batch, const float* x, float* y) {
  for (int64_t plane = 0; plane < batch * p.channels; ++plane) {
    const float* xp = x + plane * p.in_h * p.in_w;
    float* yp = y + plane * p.out_h * p.out_w;
    for (int64_t oh = 0; oh < p.out_h; ++oh) {
      for (int64_t ow = 0; ow < p.out_w; ++ow) {
        float m = -std::numeric_limits<float>::infinity();
        for (int64_t kh = 0; kh < p.kernel_h; ++kh) {
          const int64_t ih = oh * p.stride_h - p.pad_top + kh * p.dilation_h;
          if (ih < 0 || ih >= p.in_h) continue;  // padding never wins a max
          for (int64_t kw = 0; kw < p.kernel_w; ++kw) {
            const int64_t iw = ow * p.stride_w - p.pad_left + kw * p.dilation_w;
            if (iw < 0 || iw >= p.in_w) continue;
            m = std::max(m, xp[ih * p.in_w + iw]);
          }
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
    double s = 0.0;
    for (int64_t j = 0; j < spatial; ++j) s += x[i * spatial + j];
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
