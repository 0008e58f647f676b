// ei8/fixedpoint/bit_growth.h — how many bits a MAC accumulator needs (ARCHITECTURE.md,
// "Accumulator"): K products of two 8-bit operands, summed.
//
//   product bits      16 for s8×s8, 17 for (u8 − z)×s8 (the zero-point difference needs 9 bits)
//   accumulator bits  product bits + ⌈log2 K⌉
//   recommended width the smallest of 16/32/64 bits ≥ accumulator bits
//   worst-case bound  K · max|x − z_x| · max|w − z_w| (exact, usually below the formula)
//   data-driven bound the largest |acc| observed on given data
//
//   BitGrowth b = analyze_bit_growth("conv2", geometry, OperandKind::kS8S8).value();
//   fmt::print("{}: K={} acc={} bits → {}-bit ({})\n", b.name, b.k, b.accumulator_bits,
//              b.recommended_width, b.reason);
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "ei8/core/status.h"
#include "ei8/fixedpoint/conv_geometry.h"

namespace ei8::fixedpoint {

enum class OperandKind {
  kS8S8,  // s8 activations (zero point folded or 0) × s8 weights: |x|, |w| ≤ 128
  kU8S8,  // (u8 − z_x) or (s8 − z_x) with z_x ≠ 0 × s8 weights: |x − z| ≤ 255, |w| ≤ 128
};
std::string_view operand_kind_name(OperandKind k);  // "s8xs8", "u8xs8"

// 16 for kS8S8, 17 for kU8S8.
int product_bits(OperandKind k);
// Largest |x − z_x| and |w − z_w| the operands can take: (128, 128) or (255, 128).
int64_t max_abs_input(OperandKind k);
int64_t max_abs_weight(OperandKind k);

struct BitGrowth {
  std::string name;
  int64_t k = 0;               // accumulation count
  int product_bits = 0;        // 16 or 17
  int accumulator_bits = 0;    // product_bits + ⌈log2 K⌉
  int recommended_width = 0;   // 16, 32 or 64
  std::string reason;          // one sentence: why this width
  int64_t worst_case_abs = 0;  // K · max|x − z| · max|w| (no bias)
  int worst_case_bits = 0;     // signed bits holding ±worst_case_abs
};

// Smallest of 16/32/64 holding `accumulator_bits`, or an error above 64.
Result<int> recommend_width(int accumulator_bits);

// Bit growth of one layer; errors when the geometry is invalid or the accumulator exceeds 64 bits.
Result<BitGrowth> analyze_bit_growth(std::string name, const ConvGeometry& g, OperandKind k);

// Data-driven bound: the largest |acc| of `accumulators` and the signed bits it needs.
struct ObservedBound {
  int64_t max_abs = 0;
  int bits = 2;
};
ObservedBound observed_bound(std::span<const int64_t> accumulators);
ObservedBound observed_bound(std::span<const int32_t> accumulators);

}  // namespace ei8::fixedpoint
