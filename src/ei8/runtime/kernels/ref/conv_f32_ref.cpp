// conv2d_f32_ref — the specification of FP32 convolution (see conv_f32.h).
#include "ei8/runtime/kernels/conv_f32.h"

namespace ei8::kernels {

Status conv2d_f32_ref(const Conv2dParams& p, std::span<const float> input,
                      std::span<const float> weight, std::span<const float> bias,
                      std::span<float> output) {
  EI8_RETURN_IF_ERROR(p.validate());
  if (p.batch < 1)
    return invalid_argument("cannot run conv2d_f32_ref: batch = {}, must be >= 1", p.batch);
  const auto need = [](std::string_view what, size_t have, int64_t want) -> Status {
    if (have != static_cast<size_t>(want)) {
      return invalid_argument("cannot run conv2d_f32_ref: {} size = {}, must be {}", what, have,
                              want);
    }
    return {};
  };
  EI8_RETURN_IF_ERROR(need("input", input.size(), p.batch * p.in_size()));
  EI8_RETURN_IF_ERROR(need("weight", weight.size(), p.weight_size()));
  if (!bias.empty()) EI8_RETURN_IF_ERROR(need("bias", bias.size(), p.out_c));
  EI8_RETURN_IF_ERROR(need("output", output.size(), p.batch * p.out_size()));

  const int64_t oh_n = p.out_h(), ow_n = p.out_w();
  const int64_t icg_n = p.in_c_per_group(), ocg_n = p.out_c_per_group();
  for (int64_t n = 0; n < p.batch; ++n) {
    for (int64_t oc = 0; oc < p.out_c; ++oc) {
      const int64_t g = oc / ocg_n;
      for (int64_t oh = 0; oh < oh_n; ++oh) {
        for (int64_t ow = 0; ow < ow_n; ++ow) {
          double acc = bias.empty() ? 0.0 : static_cast<double>(bias[oc]);
          for (int64_t icg = 0; icg < icg_n; ++icg) {
            const int64_t ic = g * icg_n + icg;
            for (int64_t kh = 0; kh < p.kernel_h; ++kh) {
              const int64_t ih = oh * p.stride_h - p.pad_top + kh * p.dilation_h;
              if (ih < 0 || ih >= p.in_h) continue;  // zero padding
              for (int64_t kw = 0; kw < p.kernel_w; ++kw) {
                const int64_t iw = ow * p.stride_w - p.pad_left + kw * p.dilation_w;
                if (iw < 0 || iw >= p.in_w) continue;
                const double x = input[((n * p.in_c + ic) * p.in_h + ih) * p.in_w + iw];
                const double w = weight[((oc * icg_n + icg) * p.kernel_h + kh) * p.kernel_w + kw];
                acc += x * w;
              }
            }
          }
          output[((n * p.out_c + oc) * oh_n + oh) * ow_n + ow] =
              p.act.apply(static_cast<float>(acc));
        }
      }
    }
  }
  return {};
}

}  // namespace ei8::kernels
