// ei8/pipeline/layer_prices.h — the hardware price of a layer for the priced mixed-precision
// search (quant/priced_precision.h): cycles or energy of the systolic simulator (arch/), each
// layer through the layer view `edgeint8 arch` uses (workload_from_graph: grouped convs per group
// as "<node>_g<i>", FC as GEMM), with the operand width of its precision. Here because quant
// does not depend on arch.
//
//   quant::PricedOptions o;  o.cost = quant::CostMetric::kCycles;
//   o.price = arch_layer_prices(o.cost, array);
#pragma once

#include "ei8/arch/energy.h"
#include "ei8/arch/scalesim_config.h"
#include "ei8/quant/priced_precision.h"

namespace ei8::pipeline {

// The array a layer of precision p runs on: `array` describes the INT8 configuration; p's
// operand width (word_bytes int8 1, int16 2, float 4) and the same DRAM interface width in bytes,
// max(1, ⌊bandwidth / word_bytes⌋) words per cycle. PEs do one MAC per cycle either way. int16
// (A16W8) is 2-byte words for every operand: the simulator has one word width per array, so
// the int8 weights of an A16W8 layer are priced as 2-byte words (an upper bound).
arch::ArrayConfig array_for(const arch::ArrayConfig& array, quant::LayerPrecision p);

// The INT8 table with mac_pj ×16 and array_bytes_per_mac ×4: an FP32 MAC taken as ~16× an INT8
// one (Horowitz, ISSCC 2014, 45 nm: 0.2 pJ 8-bit integer vs 3.7 pJ 32-bit float multiply).
arch::EnergyTable default_float_energy_table();

// The INT8 table with mac_pj ×2 and array_bytes_per_mac ×2 for an A16W8 layer (16-bit
// activation × 8-bit weight into a wide accumulator): Horowitz, ISSCC 2014, 45 nm, gives 0.2 pJ
// for an 8-bit and 3.1 pJ for a 32-bit integer multiply (×15.5 for ×16 the width product, i.e.
// multiply energy ∝ product of operand widths) and 0.03 / 0.05 / 0.1 pJ for 8/16/32-bit adds;
// a 16×8 multiply has twice the width product of an 8×8 one (0.4 pJ) and its accumulator is
// twice as wide (0.2 pJ): 0.6 vs 0.3 pJ per MAC. Operands forwarded between PEs: 2 B each.
arch::EnergyTable default_int16_energy_table();

// Prices per layer and precision: total cycles (kCycles) or energy in nJ (kEnergy) of every
// simulator layer of the node; LayerPrice::cycles holds the cycles for both metrics. Errors: an
// invalid array, a layer the workload does not map.
quant::LayerPriceFn arch_layer_prices(
    quant::CostMetric metric, const arch::ArrayConfig& array,
    const arch::EnergyTable& int8_energy = arch::default_energy_table(),
    const arch::EnergyTable& float_energy = default_float_energy_table(),
    const arch::EnergyTable& int16_energy = default_int16_energy_table());

}  // namespace ei8::pipeline
