// ei8/arch/analytic_model.h — the fast, approximate timing engine for design-space sweeps.
// Compute side identical to the exact model (same folds, same stall-free cycles, same SRAM
// counts); memory side from tiling: each operand is fetched from DRAM once when it fits the
// active half of its SRAM, otherwise once per fold that re-reads it, and every DRAM interface
// moves `bandwidth` words/cycle. Total cycles = max(stall-free cycles, busiest interface's
// transfer cycles). It does not reproduce SCALE-Sim's USER-mode window artifact
// (research/scalesim.md §7.1): DRAM traffic here depends on SRAM size and tiling only.
//
//   LayerStats e = estimate_layer(layer, array);   // O(folds), no allocation
#pragma once

#include "ei8/arch/systolic_model.h"

namespace ei8::arch {

LayerStats estimate_layer(const Layer& layer, const ArrayConfig& array);

}  // namespace ei8::arch
