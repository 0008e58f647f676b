/* ei8_kernels.c — see ei8_kernels.h. Generated into every `edgeint8 codegen` output directory. */
#include "ei8_kernels.h"

#include <string.h>

#if defined(__ARM_FEATURE_MVE) && (__ARM_FEATURE_MVE & 1)
#include <arm_mve.h>
#define EI8_HAVE_MVE 1
#endif
#if defined(__ARM_FEATURE_DSP) && defined(__ARM_FEATURE_SIMD32)
#include <arm_acle.h>
#define EI8_HAVE_DSP 1
#endif

#if (-1 >> 1) != -1
#error "ei8_kernels.c needs an arithmetic right shift of negative integers"
#endif

/* ---- fixed-point primitives (src/ei8/fixedpoint/rounding.h, written again in C) ---------- */

/* round_half_up(a·b / 2^31); a = b = INT32_MIN saturates. ARM SQRDMULH. */
static int32_t srdhm(int32_t a, int32_t b) {
  if (a == INT32_MIN && b == INT32_MIN) return INT32_MAX;
  return (int32_t)(((int64_t)a * (int64_t)b + ((int64_t)1 << 30)) >> 31);
}

/* x / 2^e rounded to nearest, ties away from zero; 0 ≤ e ≤ 31. */
static int32_t rounding_divide_by_pot(int32_t x, int e) {
  int64_t mask, remainder, threshold;
  if (e == 0) return x;
  mask = ((int64_t)1 << e) - 1;
  remainder = (int64_t)x & mask;
  threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return (int32_t)(((int64_t)x >> e) + (remainder > threshold ? 1 : 0));
}

static int32_t saturate32(int64_t v) {
  return v < INT32_MIN ? INT32_MIN : (v > INT32_MAX ? INT32_MAX : (int32_t)v);
}

int32_t ei8_requantize(const ei8_requant* rq, int32_t acc, int32_t channel) {
  const int32_t ch = rq->channels == 1 ? 0 : channel;
  const int32_t m0 = rq->multiplier[ch];
  const int shift = (int)rq->shift[ch];
  int32_t v;
  int64_t y;
  if (rq->single_rounding) {
    /* (acc·m0 + 2^(30 − shift)) >> (31 − shift), one rounding, ties toward +inf. */
    const int total_right = 31 - shift;
    const int64_t prod = (int64_t)acc * (int64_t)m0;
    v = saturate32((prod + ((int64_t)1 << (total_right - 1))) >> total_right);
  } else {
    const int left = shift > 0 ? shift : 0;
    const int right = shift > 0 ? 0 : -shift;
    v = rounding_divide_by_pot(srdhm(saturate32((int64_t)acc * ((int64_t)1 << left)), m0), right);
  }
  y = (int64_t)v + rq->zero_point;
  return (int32_t)(y < rq->qmin ? rq->qmin : (y > rq->qmax ? rq->qmax : y));
}

/* ---- element access ---------------------------------------------------------------------- */

static int32_t load(const void* p, int32_t i, int32_t u8) {
  return u8 ? (int32_t)((const uint8_t*)p)[i] : (int32_t)((const int8_t*)p)[i];
}

static void store(void* p, int32_t i, int32_t v, int32_t u8) {
  if (u8) {
    ((uint8_t*)p)[i] = (uint8_t)v;
  } else {
    ((int8_t*)p)[i] = (int8_t)v;
  }
}

static int32_t at(const ei8_view* v, int32_t c, int32_t h, int32_t w) {
  return c * v->cs + h * v->hs + w * v->ws;
}

/* bias + sum in 64 bit, saturated to int32 (conv_s8_ref.cpp). */
static int32_t add_bias(int32_t sum, const int32_t* bias, int32_t oc) {
  return bias == NULL ? sum : saturate32((int64_t)sum + bias[oc]);
}

/* ---- dot products: Σ (x[i] − zx)(w[i] − zw), i < n, x contiguous ---------------------------- */

static int32_t dot_ref(const void* x, int32_t u8, int32_t zx, const int8_t* w, int32_t zw,
                       int32_t n) {
  int32_t i, sum = 0;
  for (i = 0; i < n; ++i) sum += (load(x, i, u8) - zx) * ((int32_t)w[i] - zw);
  return sum;
}

#if defined(EI8_HAVE_DSP)
typedef int16x2_t pair16;
#define sxtb16(v) __sxtb16(v)
#define uxtb16(v) ((pair16)__uxtb16(v))
#define ssub16(a, b) __ssub16(a, b)
#define smlad(a, b, acc) __smlad(a, b, acc)
#else
/* Portable C forms of the ACLE intrinsics the DSP dot product uses, so the host runs (and tests)
 * the same algorithm. Each computes what the instruction computes on the 16-bit halves. */
typedef int32_t pair16;
static int32_t half16(pair16 v, int hi) {
  return (int32_t)(int16_t)(uint16_t)((uint32_t)v >> (hi ? 16 : 0));
}
static pair16 pack16(int32_t lo, int32_t hi) {
  return (pair16)(((uint32_t)(uint16_t)hi << 16) | (uint32_t)(uint16_t)lo);
}
/* SXTB16 / UXTB16: bytes 0 and 2, sign- or zero-extended to the two halves. */
static pair16 sxtb16(uint32_t v) { return pack16((int8_t)(uint8_t)v, (int8_t)(uint8_t)(v >> 16)); }
static pair16 uxtb16(uint32_t v) { return pack16((uint8_t)v, (uint8_t)(v >> 16)); }
/* SSUB16: halves subtracted modulo 2^16. */
static pair16 ssub16(pair16 a, pair16 b) {
  return pack16(half16(a, 0) - half16(b, 0), half16(a, 1) - half16(b, 1));
}
/* SMLAD: acc + lo·lo + hi·hi modulo 2^32 (the generator keeps every sum inside int32). */
static int32_t smlad(pair16 a, pair16 b, int32_t acc) {
  return (int32_t)((uint32_t)acc + (uint32_t)(half16(a, 0) * half16(b, 0)) +
                   (uint32_t)(half16(a, 1) * half16(b, 1)));
}
#endif

static uint32_t load32(const void* p) {
  uint32_t v;
  memcpy(&v, p, 4); /* unaligned-safe; one LDR on Armv7E-M */
  return v;
}

/* Four bytes → the halfword pairs (b0, b2) and (b1, b3), minus the zero point: SXTB16 / UXTB16
 * (ror 8 for the odd bytes) and SSUB16; (x − z) fits 16 bits for every 8-bit x and z. */
static int32_t dot_dsp(const void* x, int32_t u8, int32_t zx, const int8_t* w, int32_t zw,
                       int32_t n) {
  const pair16 zxp = (pair16)(((uint32_t)(uint16_t)zx) * 0x10001u);
  const pair16 zwp = (pair16)(((uint32_t)(uint16_t)zw) * 0x10001u);
  const uint8_t* xb = (const uint8_t*)x;
  int32_t acc = 0, i = 0;
  for (; i + 4 <= n; i += 4) {
    const uint32_t xv = load32(xb + i), wv = load32(w + i);
    const uint32_t xr = (xv >> 8) | (xv << 24), wr = (wv >> 8) | (wv << 24);
    const pair16 x02 = ssub16(u8 ? uxtb16(xv) : sxtb16(xv), zxp);
    const pair16 x13 = ssub16(u8 ? uxtb16(xr) : sxtb16(xr), zxp);
    const pair16 w02 = ssub16(sxtb16(wv), zwp);
    const pair16 w13 = ssub16(sxtb16(wr), zwp);
    acc = smlad(x02, w02, acc);
    acc = smlad(x13, w13, acc);
  }
  return acc + dot_ref(xb + i, u8, zx, w + i, zw, n - i);
}

#if defined(EI8_HAVE_MVE)
/* Eight lanes per step, widened to 16 bit; the tail is predicated (VCTP16). */
static int32_t dot_mve(const void* x, int32_t u8, int32_t zx, const int8_t* w, int32_t zw,
                       int32_t n) {
  int32_t acc = 0, i;
  for (i = 0; i < n; i += 8) {
    const mve_pred16_t p = vctp16q((uint32_t)(n - i));
    const int16x8_t xv = u8 ? vreinterpretq_s16_u16(vldrbq_z_u16((const uint8_t*)x + i, p))
                            : vldrbq_z_s16((const int8_t*)x + i, p);
    const int16x8_t wv = vldrbq_z_s16(w + i, p);
    acc = vmladavaq_p_s16(acc, vsubq_n_s16(xv, (int16_t)zx), vsubq_n_s16(wv, (int16_t)zw), p);
  }
  return acc;
}
#else
static int32_t dot_mve(const void* x, int32_t u8, int32_t zx, const int8_t* w, int32_t zw,
                       int32_t n) {
  return dot_ref(x, u8, zx, w, zw, n);
}
#endif

/* ---- convolution -------------------------------------------------------------------------- */

typedef int32_t (*dot_fn)(const void*, int32_t, int32_t, const int8_t*, int32_t, int32_t);

/* The specification: for each output pixel (in order or reversed) and channel, Σ over the taps
 * inside the input (padded taps hold z_x and add 0), input channels of the group. */
void ei8_conv_ref(const ei8_conv* p, const void* x, void* y) {
  const int32_t cig = p->in.c / p->groups, cog = p->out.c / p->groups;
  const int32_t pixels = p->out.h * p->out.w;
  int32_t pi;
  for (pi = 0; pi < pixels; ++pi) {
    const int32_t px = p->reverse ? pixels - 1 - pi : pi;
    const int32_t oh = px / p->out.w, ow = px % p->out.w;
    int32_t oc;
    for (oc = 0; oc < p->out.c; ++oc) {
      const int32_t g = oc / cog;
      int32_t sum = 0, ky, kx, icg;
      for (ky = 0; ky < p->kernel_h; ++ky) {
        const int32_t ih = oh * p->stride_h - p->pad_top + ky * p->dilation_h;
        if (ih < 0 || ih >= p->in.h) continue;
        for (kx = 0; kx < p->kernel_w; ++kx) {
          const int32_t iw = ow * p->stride_w - p->pad_left + kx * p->dilation_w;
          const int8_t* wp = p->weights + ((oc * p->kernel_h + ky) * p->kernel_w + kx) * cig;
          if (iw < 0 || iw >= p->in.w) continue;
          for (icg = 0; icg < cig; ++icg) {
            const int32_t xv = load(x, at(&p->in, g * cig + icg, ih, iw), p->in.u8);
            sum += (xv - p->input_zero_point) * ((int32_t)wp[icg] - p->weight_zero_point);
          }
        }
      }
      store(y, at(&p->out, oc, oh, ow), ei8_requantize(&p->rq, add_bias(sum, p->bias, oc), oc),
            p->out.u8);
    }
  }
}

/* Channels contiguous (in.cs == 1): per tap one dot product over the group's channels. */
static void conv_dot(const ei8_conv* p, const void* x, void* y, dot_fn dot) {
  const int32_t cig = p->in.c / p->groups, cog = p->out.c / p->groups;
  const int32_t pixels = p->out.h * p->out.w;
  const uint8_t* xb = (const uint8_t*)x;
  int32_t pi;
  for (pi = 0; pi < pixels; ++pi) {
    const int32_t px = p->reverse ? pixels - 1 - pi : pi;
    const int32_t oh = px / p->out.w, ow = px % p->out.w;
    int32_t oc;
    for (oc = 0; oc < p->out.c; ++oc) {
      const int32_t g = oc / cog;
      int32_t sum = 0, ky, kx;
      for (ky = 0; ky < p->kernel_h; ++ky) {
        const int32_t ih = oh * p->stride_h - p->pad_top + ky * p->dilation_h;
        if (ih < 0 || ih >= p->in.h) continue;
        for (kx = 0; kx < p->kernel_w; ++kx) {
          const int32_t iw = ow * p->stride_w - p->pad_left + kx * p->dilation_w;
          if (iw < 0 || iw >= p->in.w) continue;
          sum += dot(xb + at(&p->in, g * cig, ih, iw), p->in.u8, p->input_zero_point,
                     p->weights + ((oc * p->kernel_h + ky) * p->kernel_w + kx) * cig,
                     p->weight_zero_point, cig);
        }
      }
      store(y, at(&p->out, oc, oh, ow), ei8_requantize(&p->rq, add_bias(sum, p->bias, oc), oc),
            p->out.u8);
    }
  }
}

void ei8_conv_dsp(const ei8_conv* p, const void* x, void* y) { conv_dot(p, x, y, dot_dsp); }
void ei8_conv_mve(const ei8_conv* p, const void* x, void* y) { conv_dot(p, x, y, dot_mve); }

/* ---- fully connected ---------------------------------------------------------------------- */

static void fc_dot(const ei8_fc* p, const void* x, void* y, dot_fn dot) {
  const uint8_t* xb = (const uint8_t*)x;
  int32_t r, n;
  for (r = 0; r < p->rows; ++r) {
    for (n = 0; n < p->out_features; ++n) {
      const int32_t sum =
          dot(xb + r * p->in_features, p->in_u8, p->input_zero_point,
              p->weights + n * p->in_features, p->weight_zero_point, p->in_features);
      const int32_t acc = add_bias(sum, p->bias, n);
      if (p->to_float != NULL) {
        const float v = (float)acc * p->to_float[n];
        memcpy((uint8_t*)y + 4 * (r * p->out_features + n), &v, 4);
      } else {
        store(y, r * p->out_features + n, ei8_requantize(&p->rq, acc, n), p->out_u8);
      }
    }
  }
}

void ei8_fc_ref(const ei8_fc* p, const void* x, void* y) { fc_dot(p, x, y, dot_ref); }
void ei8_fc_dsp(const ei8_fc* p, const void* x, void* y) { fc_dot(p, x, y, dot_dsp); }
void ei8_fc_mve(const ei8_fc* p, const void* x, void* y) { fc_dot(p, x, y, dot_mve); }

/* ---- pools -------------------------------------------------------------------------------- */

void ei8_maxpool_ref(const ei8_pool* p, const void* x, void* y) {
  const int32_t pixels = p->out.h * p->out.w;
  int32_t pi;
  for (pi = 0; pi < pixels; ++pi) {
    const int32_t px = p->reverse ? pixels - 1 - pi : pi;
    const int32_t oh = px / p->out.w, ow = px % p->out.w;
    int32_t c;
    for (c = 0; c < p->out.c; ++c) {
      int32_t m = INT32_MIN, ky, kx;
      for (ky = 0; ky < p->kernel_h; ++ky) {
        const int32_t ih = oh * p->stride_h - p->pad_top + ky;
        if (ih < 0 || ih >= p->in.h) continue;
        for (kx = 0; kx < p->kernel_w; ++kx) {
          const int32_t iw = ow * p->stride_w - p->pad_left + kx;
          int32_t v;
          if (iw < 0 || iw >= p->in.w) continue;
          v = load(x, at(&p->in, c, ih, iw), p->in.u8);
          if (v > m) m = v;
        }
      }
      store(y, at(&p->out, c, oh, ow), m, p->out.u8);
    }
  }
}

void ei8_avgpool_ref(const ei8_pool* p, const void* x, void* y) {
  const int32_t pixels = p->out.h * p->out.w;
  int32_t pi;
  for (pi = 0; pi < pixels; ++pi) {
    const int32_t px = p->reverse ? pixels - 1 - pi : pi;
    const int32_t oh = px / p->out.w, ow = px % p->out.w;
    int32_t c;
    for (c = 0; c < p->out.c; ++c) {
      int32_t acc = 0, count = 0, ky, kx;
      for (ky = 0; ky < p->kernel_h; ++ky) {
        const int32_t ih = oh * p->stride_h - p->pad_top + ky;
        for (kx = 0; kx < p->kernel_w; ++kx) {
          const int32_t iw = ow * p->stride_w - p->pad_left + kx;
          if (ih < 0 || ih >= p->in.h || iw < 0 || iw >= p->in.w) {
            /* a padded tap holds z_x (adds 0); taps beyond the padding never count */
            if (p->count_include_pad && ih < p->in.h + p->pad_bottom &&
                iw < p->in.w + p->pad_right) {
              ++count;
            }
            continue;
          }
          acc += load(x, at(&p->in, c, ih, iw), p->in.u8) - p->input_zero_point;
          ++count;
        }
      }
      store(y, at(&p->out, c, oh, ow), ei8_requantize(&p->rq[(count < 1 ? 1 : count) - 1], acc, 0),
            p->out.u8);
    }
  }
}

/* ---- element-wise ------------------------------------------------------------------------- */

/* Round half to even of a finite float, |v| ≤ 2^20 (exact: no float rounding happens). */
static int32_t round_half_even(float v) {
  int32_t i = (int32_t)v; /* toward zero */
  float d;
  if ((float)i > v) --i; /* floor */
  d = v - (float)i;      /* in [0, 1), exact */
  if (d > 0.5f || (d == 0.5f && (i & 1) != 0)) ++i;
  return i;
}

/* Element (c, h, w) of a view in the order of the output's pixels, walked forward or reversed. */
#define EI8_FOR_EACH_ELEMENT(out, reverse, body)          \
  do {                                                    \
    const int32_t n_ = (out).c * (out).h * (out).w;       \
    int32_t i_;                                           \
    for (i_ = 0; i_ < n_; ++i_) {                         \
      const int32_t e_ = (reverse) ? n_ - 1 - i_ : i_;    \
      const int32_t px_ = e_ / (out).c, c = e_ % (out).c; \
      const int32_t h = px_ / (out).w, w = px_ % (out).w; \
      body;                                               \
    }                                                     \
  } while (0)

void ei8_add_ref(const ei8_add* p, const void* a, const void* b, void* y) {
  const int32_t amin = p->a.u8 ? 0 : -128, bmin = p->b.u8 ? 0 : -128;
  EI8_FOR_EACH_ELEMENT(p->out, p->reverse, {
    const float va = p->a_deq[load(a, at(&p->a, c, h, w), p->a.u8) - amin];
    const float vb = p->b_deq[load(b, at(&p->b, c, h, w), p->b.u8) - bmin];
    float v = (va + vb) / p->c_scale;
    int32_t q;
    if (v > 1048576.0f) v = 1048576.0f; /* beyond every clamp: the result is qmin or qmax */
    if (v < -1048576.0f) v = -1048576.0f;
    q = round_half_even(v) + p->c_zero_point;
    store(y, at(&p->out, c, h, w), q < p->qmin ? p->qmin : (q > p->qmax ? p->qmax : q), p->out.u8);
  });
}

void ei8_concat_part_ref(const ei8_concat_part* p, const ei8_view* out, const void* x, void* y) {
  const int32_t tmin = p->in.u8 ? 0 : -128;
  int32_t c, h, w;
  for (h = 0; h < p->in.h; ++h) {
    for (w = 0; w < p->in.w; ++w) {
      for (c = 0; c < p->in.c; ++c) {
        const int32_t v = load(x, at(&p->in, c, h, w), p->in.u8);
        const int32_t o = at(out, p->c0 + c, p->h0 + h, p->w0 + w);
        if (p->table == NULL) {
          store(y, o, v, out->u8);
        } else if (out->u8) {
          ((uint8_t*)y)[o] = p->table[v - tmin];
        } else {
          ((int8_t*)y)[o] = (int8_t)p->table[v - tmin];
        }
      }
    }
  }
}

void ei8_clamp_ref(const ei8_clamp* p, const void* x, void* y) {
  EI8_FOR_EACH_ELEMENT(p->out, p->reverse, {
    const int32_t v = load(x, at(&p->in, c, h, w), p->in.u8);
    store(y, at(&p->out, c, h, w), v < p->lo ? p->lo : (v > p->hi ? p->hi : v), p->out.u8);
  });
}

void ei8_mul_ref(const ei8_mul* p, const void* a, const void* b, void* y) {
  EI8_FOR_EACH_ELEMENT(p->out, p->reverse, {
    const int32_t acc = (load(a, at(&p->a, c, h, w), p->a.u8) - p->a_zero_point) *
                        (load(b, at(&p->b, c, h, w), p->b.u8) - p->b_zero_point);
    const float scaled = (float)acc * p->multiplier;
    const float v = scaled + (float)p->c_zero_point;
    int32_t q = p->qmin;
    if (v > -2147483648.0f && v < 2147483648.0f) {
      q = round_half_even(v);
      q = q < p->qmin ? p->qmin : (q > p->qmax ? p->qmax : q);
    }
    store(y, at(&p->out, c, h, w), q, p->out.u8);
  });
}

void ei8_lookup_ref(const ei8_lookup* p, const void* x, void* y) {
  const int32_t bias = p->in.u8 ? 0 : 128;
  EI8_FOR_EACH_ELEMENT(p->out, p->reverse, {
    const uint8_t* t = p->tables + (p->channels > 1 ? c : 0) * 256;
    const uint8_t v = t[load(x, at(&p->in, c, h, w), p->in.u8) + bias];
    store(y, at(&p->out, c, h, w), p->out.u8 ? (int32_t)v : (int32_t)(int8_t)v, p->out.u8);
  });
}

void ei8_quantize_f32(const float* x, void* q, int32_t n, float scale, int32_t zero_point,
                      int32_t u8) {
  const int32_t lo = u8 ? 0 : -128, hi = u8 ? 255 : 127;
  int32_t i;
  for (i = 0; i < n; ++i) {
    float v = x[i] / scale;
    int32_t r;
    if (v != v) { /* NaN */
      store(q, i, zero_point, u8);
      continue;
    }
    if (v > 1048576.0f) v = 1048576.0f;
    if (v < -1048576.0f) v = -1048576.0f;
    r = round_half_even(v) + zero_point;
    store(q, i, r < lo ? lo : (r > hi ? hi : r), u8);
  }
}

void ei8_dequantize_f32(const void* q, float* y, int32_t n, float scale, int32_t zero_point,
                        int32_t u8) {
  int32_t i;
  for (i = 0; i < n; ++i) y[i] = scale * (float)(load(q, i, u8) - zero_point);
}

/* ---- float regions -------------------------------------------------------------------------- */

static float load_f32(const void* p, int32_t i) {
  float v;
  memcpy(&v, (const uint8_t*)p + 4 * i, 4);
  return v;
}

static void store_f32(void* p, int32_t i, float v) { memcpy((uint8_t*)p + 4 * i, &v, 4); }

void ei8_quantize_ref(const ei8_qdq* p, const void* x, void* y) {
  int32_t i;
  for (i = 0; i < p->n; ++i) {
    const float v = load_f32(x, i);
    ei8_quantize_f32(&v, (uint8_t*)y + i, 1, p->scale, p->zero_point, p->u8);
  }
}

void ei8_dequantize_ref(const ei8_qdq* p, const void* x, void* y) {
  int32_t i;
  for (i = 0; i < p->n; ++i) store_f32(y, i, p->scale * (float)(load(x, i, p->u8) - p->zero_point));
}

void ei8_binary_f32_ref(const ei8_binary_f32* p, const void* a, const void* b, void* y) {
  EI8_FOR_EACH_ELEMENT(p->out, p->reverse, {
    const float u = load_f32(a, at(&p->a, c, h, w));
    const float v = load_f32(b, at(&p->b, c, h, w));
    float r;
    switch (p->op) {
      case EI8_ADD_F32:
        r = u + v;
        break;
      case EI8_SUB_F32:
        r = u - v;
        break;
      case EI8_MUL_F32:
        r = u * v;
        break;
      default:
        r = u / v;
        break;
    }
    store_f32(y, at(&p->out, c, h, w), r);
  });
}

void ei8_unary_f32_ref(const ei8_unary_f32* p, const void* x, void* y) {
  EI8_FOR_EACH_ELEMENT(p->out, p->reverse, {
    const float v = load_f32(x, at(&p->in, c, h, w));
    float r;
    if (p->op == EI8_RELU_F32) {
      r = v > 0.0f ? v : 0.0f;
    } else {
      r = v < p->lo ? p->lo : v; /* std::max(v, lo) */
      r = p->hi < r ? p->hi : r; /* std::min(r, hi) */
    }
    store_f32(y, at(&p->out, c, h, w), r);
  });
}
