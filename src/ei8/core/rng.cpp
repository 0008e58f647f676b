#include "ei8/core/rng.h"

#include <cmath>
#include <numbers>

namespace ei8 {

int64_t Rng::uniform_int(int64_t lo, int64_t hi) {
  if (hi <= lo) return lo;
  const uint64_t range = static_cast<uint64_t>(hi - lo) + 1;  // 0 means all 2^64 values
  if (range == 0) return static_cast<int64_t>(engine_());
  // Reject the top partial bucket so every value is equally likely.
  const uint64_t limit = UINT64_MAX - (UINT64_MAX % range + 1) % range;
  uint64_t x;
  do {
    x = engine_();
  } while (x > limit);
  return lo + static_cast<int64_t>(x % range);
}

double Rng::normal() {
  double u1;
  do {
    u1 = uniform01();
  } while (u1 <= 0.0);
  const double u2 = uniform01();
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
}

}  // namespace ei8
