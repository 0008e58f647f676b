// The portable tier of the INT8 micro-kernels: int16 slot pairs (x − z_x, w − z_w) multiplied
// and summed into int32 with plain loops the compiler may vectorise (no ISA flags), and the
// scalar epilogue (Requantizer::apply, the reference's own arithmetic).
#include "ei8/runtime/kernels/s8_driver.h"

namespace ei8::kernels {
namespace {

inline int32_t lo16(int32_t slot) { return static_cast<int16_t>(static_cast<uint32_t>(slot)); }
inline int32_t hi16(int32_t slot) {
  return static_cast<int16_t>(static_cast<uint32_t>(slot) >> 16);
}

struct GenericTile {
  static constexpr int kMaxNv = 2;

  template <int NV>
  static void run_nv(const S8DirectArgs& a, const int32_t* ablk, const int32_t* vin,
                     int32_t (*acc)[kMaxNv][kS8Lanes]) {
    int32_t s[kS8Mr][NV][kS8Lanes] = {};
    for (int64_t k = 0; k < a.ks; ++k) {
      const int32_t* base = a.src + a.koff[k];
      for (int r = 0; r < kS8Mr; ++r) {
        const int32_t w = ablk[k * kS8Mr + r];
        const int32_t wl = lo16(w), wh = hi16(w);
        for (int v = 0; v < NV; ++v) {
          const int32_t* x = base + vin[v];
          for (int l = 0; l < kS8Lanes; ++l) s[r][v][l] += lo16(x[l]) * wl + hi16(x[l]) * wh;
        }
      }
    }
    for (int r = 0; r < kS8Mr; ++r)
      for (int v = 0; v < NV; ++v)
        for (int l = 0; l < kS8Lanes; ++l) acc[r][v][l] = s[r][v][l];
  }

  static void run(const S8DirectArgs& a, const int32_t* ablk, const int32_t* vin, int nv,
                  int32_t (*acc)[kMaxNv][kS8Lanes]) {
    if (nv == 2) {
      run_nv<2>(a, ablk, vin, acc);
    } else {
      run_nv<1>(a, ablk, vin, acc);
    }
  }
};

// vpdpbusd in C++ on one lane: Σ_t u8(byte t of u) · s8(byte t of s).
int32_t dot4(int32_t u, int32_t s) {
  int32_t sum = 0;
  for (int t = 0; t < 4; ++t) {
    const auto ub = static_cast<int32_t>((static_cast<uint32_t>(u) >> (8 * t)) & 0xffu);
    const auto sb = static_cast<int32_t>(
        static_cast<int8_t>(static_cast<uint8_t>(static_cast<uint32_t>(s) >> (8 * t))));
    sum += ub * sb;
  }
  return sum;
}

}  // namespace

void direct_u8s8_vnni_emulated(const VnniArgs& a) {
  const int mr = a.plan.mr, lanes = a.plan.lanes;
  const int64_t blocks = (a.m + mr - 1) / mr;
  int32_t acc[16];
  for (int64_t blk = 0; blk < blocks; ++blk) {
    const int32_t* ablk = a.apack + blk * a.ks * mr;
    for (int64_t v = 0; v < a.n_vec; ++v) {
      for (int r = 0; r < mr && blk * mr + r < a.m; ++r) {
        const int64_t row = blk * mr + r;
        for (int l = 0; l < lanes; ++l) {
          int32_t sum = 0;
          for (int64_t k = 0; k < a.ks; ++k) {
            const int32_t x = a.src[a.vin[v] + a.koff[k] + l], w = ablk[k * mr + r];
            sum += a.conv ? dot4(x, w) : dot4(w, x);
          }
          acc[l] = sum;
        }
        for (int32_t s = a.seg_begin[v]; s < a.seg_begin[v + 1]; ++s) {
          const VnniSeg& g = a.segs[s];
          const int64_t n = g.lane_end - g.lane_begin;
          if (a.conv) {
            s8::epilogue_scalar(*a.e, acc + g.lane_begin, a.chan0 + row, a.out,
                                a.dst0 + row * a.row_stride + g.out, 0, n);
          } else {
            s8::epilogue_scalar(*a.e, acc + g.lane_begin, g.out, a.out,
                                a.dst0 + row * a.row_stride + g.out, 0, n);
          }
        }
      }
    }
  }
}

void epilogue_s8_generic(const S8Epilogue& e, const int32_t* acc, int64_t chan, void* out,
                         int64_t dst, int64_t n) {
  s8::epilogue_scalar(e, acc, chan, out, dst, 0, n);
}

void dw_row_s16_generic(const S8DwRow& a) {
  for (int64_t ow = 0; ow < a.n; ++ow) a.sum[ow] = 0;
  const int16_t* row = a.img + a.row0 * a.row_stride;
  for (int64_t t = 0; t < a.kk; ++t) {
    const int32_t slot = a.wpair[t / 2];
    const int32_t w = t % 2 == 0 ? lo16(slot) : hi16(slot);
    const int16_t* x = row + a.tapoff[t];
    for (int64_t ow = 0; ow < a.n; ++ow) a.sum[ow] += w * int32_t{x[ow]};
  }
}

void interleave_s8_generic(const S8Interleave& a) {
  for (int64_t c = 0; c < a.n; ++c) {
    uint32_t slot = 0;
    if (a.quads) {
      const uint32_t f = a.flip;
      slot = (a.x[0][c] ^ f) | ((a.x[1][c] ^ f) << 8) | ((a.x[2][c] ^ f) << 16) |
             (static_cast<uint32_t>(a.x[3][c] ^ f) << 24);
    } else {
      const int32_t v0 = a.sign_extend ? int32_t{static_cast<int8_t>(a.x[0][c])} : a.x[0][c];
      const int32_t v1 = a.sign_extend ? int32_t{static_cast<int8_t>(a.x[1][c])} : a.x[1][c];
      slot = (static_cast<uint32_t>(v0 - a.zx) & 0xffffu) |
             ((static_cast<uint32_t>(v1 - a.zx) & 0xffffu) << 16);
    }
    a.dst[(c % a.split) * a.plen + c / a.split] = slot;
  }
}

void direct_s16_generic(const S8DirectArgs& a) {
  s8::direct_driver<GenericTile>(a, epilogue_s8_generic);
}

}  // namespace ei8::kernels
