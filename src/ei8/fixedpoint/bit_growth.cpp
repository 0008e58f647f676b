#include "ei8/fixedpoint/bit_growth.h"

#include <fmt/format.h>

#include "ei8/fixedpoint/rounding.h"

namespace ei8::fixedpoint {

std::string_view operand_kind_name(OperandKind k) {
  return k == OperandKind::kS8S8 ? "s8xs8" : "u8xs8";
}

int product_bits(OperandKind k) { return k == OperandKind::kS8S8 ? 16 : 17; }
int64_t max_abs_input(OperandKind k) { return k == OperandKind::kS8S8 ? 128 : 255; }
int64_t max_abs_weight(OperandKind) { return 128; }

Result<int> recommend_width(int accumulator_bits) {
  for (int w : {16, 32, 64}) {
    if (accumulator_bits <= w) return w;
  }
  return out_of_range("cannot recommend accumulator width: accumulator bits = {}, must be <= 64",
                      accumulator_bits);
}

Result<BitGrowth> analyze_bit_growth(std::string name, const ConvGeometry& g, OperandKind kind) {
  EI8_RETURN_IF_ERROR(g.validate().with_context(name));
  BitGrowth b;
  b.name = std::move(name);
  b.k = g.accumulation_count();
  b.product_bits = product_bits(kind);
  b.accumulator_bits = b.product_bits + ceil_log2(b.k);
  auto width = recommend_width(b.accumulator_bits);
  if (!width.ok()) return width.status().with_context(b.name);
  b.recommended_width = *width;
  b.worst_case_abs = b.k * max_abs_input(kind) * max_abs_weight(kind);  // K ≤ 2^40: no overflow
  b.worst_case_bits = signed_bits_for(b.worst_case_abs);
  if (b.recommended_width == 16) {
    b.reason = fmt::format("{} product bits + ceil(log2 {}) = {} bits fit a 16-bit accumulator",
                           b.product_bits, b.k, b.accumulator_bits);
  } else {
    const int smaller = b.recommended_width / 2;
    b.reason = fmt::format(
        "{} product bits + ceil(log2 {}) = {} bits exceed {} bits; {} bits hold the worst case "
        "|acc| <= {} ({} bits needed exactly)",
        b.product_bits, b.k, b.accumulator_bits, smaller, b.recommended_width, b.worst_case_abs,
        b.worst_case_bits);
  }
  return b;
}

namespace {
template <typename T>
ObservedBound observed_bound_impl(std::span<const T> acc) {
  ObservedBound o;
  for (T v : acc) {
    const int64_t a = v < 0 ? -int64_t{v} : int64_t{v};  // |INT64_MIN| cannot come from conv sums
    if (a > o.max_abs) o.max_abs = a;
  }
  o.bits = signed_bits_for(o.max_abs);
  return o;
}
}  // namespace

ObservedBound observed_bound(std::span<const int64_t> accumulators) {
  return observed_bound_impl(accumulators);
}
ObservedBound observed_bound(std::span<const int32_t> accumulators) {
  return observed_bound_impl(accumulators);
}

}  // namespace ei8::fixedpoint
