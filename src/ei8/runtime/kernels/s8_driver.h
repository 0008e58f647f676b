// ei8/runtime/kernels/s8_driver.h — internal: the loop nest around the INT8 micro-kernels
// (row blocks × vector groups), shared by every non-ref tier's translation unit, and the scalar
// epilogue (the exact Requantizer::apply of the reference). Each tier supplies
//   Tile::run<NV>(args, apack_block, const int32_t* vin, int32_t acc[kS8Mr][NV][8])
// and optionally bool Tile::run_fused(args, apack_block, v0, r0, rows, nv), which computes the
// block and writes its outputs itself when it can (returns false otherwise, doing nothing).
#pragma once

#include <algorithm>
#include <cstdint>

#include "ei8/fixedpoint/rounding.h"
#include "ei8/runtime/kernels/s8_internal.h"

namespace ei8::kernels::s8 {

inline int32_t add_bias(const S8Epilogue& e, int32_t sum, int64_t c) {
  if (e.saturate) {
    return static_cast<int32_t>(fixedpoint::saturate(int64_t{sum} + e.bias64[c], 32));
  }
  // Wrapping add: prepare() proved the true value fits int32.
  return static_cast<int32_t>(static_cast<uint32_t>(sum) + static_cast<uint32_t>(e.bias32[c]));
}

inline void epilogue_scalar(const S8Epilogue& e, const int32_t* acc, int64_t chan, void* out,
                            int64_t dst, int64_t j0, int64_t n) {
  for (int64_t j = j0; j < n; ++j) {
    const int64_t c = e.per_column ? chan + j : chan;
    const int32_t a = add_bias(e, acc[j], c);
    switch (e.out) {
      case IntType::kS32:
        static_cast<int32_t*>(out)[dst + j] = a;
        break;
      case IntType::kU8:
        static_cast<uint8_t*>(out)[dst + j] = static_cast<uint8_t>(e.rq->apply(a, c));
        break;
      case IntType::kS8:
        static_cast<int8_t*>(out)[dst + j] = static_cast<int8_t>(e.rq->apply(a, c));
        break;
    }
  }
}

// `epilogue` is a function pointer or a lambda (inlined into the loop nest when the tier's own
// epilogue is compiled in the same translation unit).
template <class Tile, class Epilogue>
void direct_driver(const S8DirectArgs& a, Epilogue epilogue) {
  constexpr int kMaxNv = Tile::kMaxNv;
  alignas(64) int32_t acc[kS8Mr][kMaxNv][kS8Lanes];
  const S8Epilogue& e = *a.e;
  S8DirectArgs split = a;  // a row block's own k-slots (block_start)
  split.ks_safe = a.ks;
  for (int64_t r0 = 0; r0 < a.m; r0 += kS8Mr) {
    const int64_t blk = r0 / kS8Mr;
    const int32_t* ablk = a.apack + blk * a.ks * kS8Mr;
    if (a.block_start != nullptr) {
      split.koff = a.koff + a.block_start[blk];
      split.ks = a.block_start[blk + 1] - a.block_start[blk];
      split.ks_safe = a.block_unsafe[blk] - a.block_start[blk];
      ablk = a.apack + a.block_start[blk] * kS8Mr;
    }
    const S8DirectArgs& ab = split;
    const int rows = static_cast<int>(std::min<int64_t>(kS8Mr, a.m - r0));
    for (int64_t v0 = 0; v0 < a.n_vec; v0 += kMaxNv) {
      const int nv = static_cast<int>(std::min<int64_t>(kMaxNv, a.n_vec - v0));
      if constexpr (requires { Tile::run_fused(a, ablk, v0, r0, rows, nv); }) {
        // The tier's fused epilogue (requantizes from registers) when the block allows it.
        if (Tile::run_fused(ab, ablk, v0, r0, rows, nv)) continue;
      }
      Tile::run(ab, ablk, a.vin + v0, nv, acc);
      for (int r = 0; r < rows; ++r) {
        for (int v = 0; v < nv; ++v) {
          const int64_t vo = a.vout[v0 + v];
          const int64_t row = r0 + r;
          if (e.per_column) {
            epilogue(e, acc[r][v], vo, a.out, a.dst0 + row * a.row_stride + vo, a.vlen[v0 + v]);
          } else {
            epilogue(e, acc[r][v], a.chan0 + row, a.out, a.dst0 + row * a.row_stride + vo,
                     a.vlen[v0 + v]);
          }
        }
      }
    }
  }
}

}  // namespace ei8::kernels::s8
