/* kernel_test.c — the fast kernels of generated code (DSP: SMLAD; MVE: VMLADAVA) against the
 * reference kernels, bit for bit, over seeded random shapes: conv 1-D/2-D, grouped, depthwise,
 * strided, dilated, padded, prime and 2^k±1 channel counts (the 4-wide and 8-wide loops' tails),
 * u8/s8 inputs and outputs, non-zero weight zero points, both requantization profiles and both
 * pixel directions; fully connected likewise, one case in four with a float output (to_float:
 * QGemm without y_scale / MatMulIntegerToFloat).
 *   kernel_test [SEED [CASES]]
 * Built for the host (the DSP form with its portable intrinsics; MVE = the reference there) and
 * as a semihosting firmware for QEMU (the real instructions). Prints the seed; exit 0 when every
 * case matches. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ei8_kernels.h"

static uint32_t state;
static uint32_t next(void) { /* xorshift32 */
  state ^= state << 13;
  state ^= state >> 17;
  state ^= state << 5;
  return state;
}
static int32_t uniform(int32_t lo, int32_t hi) {
  return lo + (int32_t)(next() % (uint32_t)(hi - lo + 1));
}
static const int32_t kChannels[] = {1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 33};

#define MAX_BYTES 65536
static uint8_t x[MAX_BYTES], y_ref[MAX_BYTES], y_fast[MAX_BYTES];
static int8_t w[MAX_BYTES];
static int32_t bias[256], mult[256], shift[256];

static void fill_requant(ei8_requant* rq, int32_t channels, int32_t out_u8) {
  int32_t c;
  for (c = 0; c < channels; ++c) {
    mult[c] = (int32_t)(0x40000000u + (next() & 0x3fffffffu)); /* [2^30, 2^31) */
    shift[c] = uniform(-14, -4);
  }
  rq->multiplier = mult;
  rq->shift = shift;
  rq->channels = uniform(0, 1) ? channels : 1;
  rq->zero_point = out_u8 ? uniform(0, 255) : uniform(-128, 127);
  rq->qmin = out_u8 ? uniform(0, 20) : uniform(-128, -100);
  rq->qmax = out_u8 ? uniform(200, 255) : uniform(100, 127);
  if (rq->zero_point < rq->qmin) rq->zero_point = rq->qmin;
  if (rq->zero_point > rq->qmax) rq->zero_point = rq->qmax;
  rq->single_rounding = uniform(0, 1);
}

static void fill_bytes(void* p, int32_t n) {
  int32_t i;
  for (i = 0; i < n; ++i) ((uint8_t*)p)[i] = (uint8_t)next();
}

static ei8_view packed(int32_t c, int32_t h, int32_t wd, int32_t u8) {
  ei8_view v;
  v.c = c;
  v.h = h;
  v.w = wd;
  v.cs = 1;
  v.ws = c;
  v.hs = wd * c;
  v.u8 = u8;
  return v;
}

static int conv_case(int n) {
  ei8_conv p;
  const int32_t one_d = uniform(0, 1);
  const int32_t depthwise = uniform(0, 3) == 0;
  int32_t groups, cig, cog, in_c, out_c, in_h, in_w, bytes_in, bytes_out, i;
  memset(&p, 0, sizeof p);
  groups = depthwise ? kChannels[uniform(0, 12)] : (uniform(0, 3) == 0 ? uniform(2, 3) : 1);
  cig = depthwise ? 1 : kChannels[uniform(0, 12)];
  cog = depthwise ? 1 : kChannels[uniform(0, 10)];
  in_c = cig * groups;
  out_c = cog * groups;
  p.kernel_h = one_d ? 1 : uniform(1, 3);
  p.kernel_w = uniform(1, one_d ? 7 : 3);
  p.stride_h = one_d ? 1 : uniform(1, 2);
  p.stride_w = uniform(1, 2);
  p.dilation_h = one_d ? 1 : uniform(1, 2);
  p.dilation_w = uniform(1, 2);
  p.pad_top = one_d ? 0 : uniform(0, p.kernel_h);
  p.pad_left = uniform(0, p.kernel_w);
  in_h = one_d ? 1 : uniform(1, 9);
  in_w = uniform(1, one_d ? 40 : 9);
  {
    const int32_t eh = in_h + 2 * p.pad_top - p.dilation_h * (p.kernel_h - 1) - 1;
    const int32_t ew = in_w + 2 * p.pad_left - p.dilation_w * (p.kernel_w - 1) - 1;
    if (eh < 0 || ew < 0) return conv_case(n); /* redraw: empty output */
    p.in = packed(in_c, in_h, in_w, uniform(0, 1));
    p.out = packed(out_c, eh / p.stride_h + 1, ew / p.stride_w + 1, uniform(0, 1));
  }
  p.groups = groups;
  p.input_zero_point = p.in.u8 ? uniform(0, 255) : uniform(-128, 127);
  p.weight_zero_point = uniform(0, 2) == 0 ? uniform(-128, 127) : 0;
  bytes_in = in_c * in_h * in_w;
  bytes_out = out_c * p.out.h * p.out.w;
  if (bytes_in > MAX_BYTES || bytes_out > MAX_BYTES ||
      out_c * p.kernel_h * p.kernel_w * cig > MAX_BYTES) {
    return conv_case(n);
  }
  fill_bytes(x, bytes_in);
  fill_bytes(w, out_c * p.kernel_h * p.kernel_w * cig);
  for (i = 0; i < out_c; ++i) bias[i] = uniform(-20000, 20000);
  p.weights = w;
  p.bias = uniform(0, 3) == 0 ? NULL : bias;
  fill_requant(&p.rq, out_c, p.out.u8);
  p.reverse = uniform(0, 1);
  ei8_conv_ref(&p, x, y_ref);
  ei8_conv_dsp(&p, x, y_fast);
  if (memcmp(y_ref, y_fast, (size_t)bytes_out) != 0) {
    printf("conv case %d: dsp differs (C %d->%d g%d k%dx%d s%d,%d d%d,%d on %dx%d)\n", n, (int)in_c,
           (int)out_c, (int)groups, (int)p.kernel_h, (int)p.kernel_w, (int)p.stride_h,
           (int)p.stride_w, (int)p.dilation_h, (int)p.dilation_w, (int)in_h, (int)in_w);
    return 1;
  }
  ei8_conv_mve(&p, x, y_fast);
  if (memcmp(y_ref, y_fast, (size_t)bytes_out) != 0) {
    printf("conv case %d: mve differs (C %d->%d g%d k%dx%d on %dx%d)\n", n, (int)in_c, (int)out_c,
           (int)groups, (int)p.kernel_h, (int)p.kernel_w, (int)in_h, (int)in_w);
    return 1;
  }
  return 0;
}

static int fc_case(int n) {
  ei8_fc p;
  int32_t bytes_out;
  memset(&p, 0, sizeof p);
  p.rows = uniform(1, 3);
  p.in_features = uniform(0, 1) ? kChannels[uniform(0, 12)] : uniform(1, 300);
  p.out_features = uniform(1, 40);
  p.in_u8 = uniform(0, 1);
  p.out_u8 = uniform(0, 1);
  p.input_zero_point = p.in_u8 ? uniform(0, 255) : uniform(-128, 127);
  p.weight_zero_point = uniform(0, 2) == 0 ? uniform(-128, 127) : 0;
  fill_bytes(x, p.rows * p.in_features);
  fill_bytes(w, p.in_features * p.out_features);
  p.weights = w;
  p.bias = uniform(0, 1) ? bias : NULL;
  fill_requant(&p.rq, p.out_features, p.out_u8);
  bytes_out = p.rows * p.out_features;
  if (uniform(0, 3) == 0) { /* float output: fl32(float(acc) * to_float[n]) */
    static float to_float[40];
    int32_t k;
    for (k = 0; k < p.out_features; ++k) to_float[k] = (float)uniform(1, 1 << 20) * 1.0e-9f;
    p.to_float = to_float;
    bytes_out *= 4;
  }
  ei8_fc_ref(&p, x, y_ref);
  ei8_fc_dsp(&p, x, y_fast);
  if (memcmp(y_ref, y_fast, (size_t)bytes_out) != 0) {
    printf("fc case %d: dsp differs (K %d N %d float %d)\n", n, (int)p.in_features,
           (int)p.out_features, p.to_float != NULL);
    return 1;
  }
  ei8_fc_mve(&p, x, y_fast);
  if (memcmp(y_ref, y_fast, (size_t)bytes_out) != 0) {
    printf("fc case %d: mve differs (K %d N %d float %d)\n", n, (int)p.in_features,
           (int)p.out_features, p.to_float != NULL);
    return 1;
  }
  return 0;
}

int main(int argc, char** argv) {
  const unsigned long seed = argc > 1 ? strtoul(argv[1], NULL, 10) : 20261127ul;
  const int cases = argc > 2 ? atoi(argv[2]) : 200;
  int n, failed = 0;
  state = (uint32_t)seed | 1u;
  printf("kernel_test: seed %lu, %d conv + %d fc cases\n", seed, cases, cases);
  for (n = 0; n < cases; ++n) failed += conv_case(n);
  for (n = 0; n < cases; ++n) failed += fc_case(n);
  printf("kernel_test: %d failed\n", failed);
  return failed == 0 ? 0 : 1;
}
