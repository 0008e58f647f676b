// The portable pooling tier: the loops of pool_tiles.h with no ISA flags (the compiler
// vectorises the per-chunk loops for the baseline ISA, e.g. SSE2 on x86-64).
#include "ei8/runtime/kernels/pool_tiles.h"

namespace ei8::kernels {

const PoolTierFns& pool_tier_generic() {
  static const PoolTierFns fns = make_pool_tier<NoHook>();
  return fns;
}

}  // namespace ei8::kernels
