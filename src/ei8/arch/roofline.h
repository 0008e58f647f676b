// ei8/arch/roofline.h — per-layer roofline and bottleneck verdict from a layer's statistics:
// operational intensity (MACs per DRAM byte), attained throughput against the array's peak and
// the DRAM-bandwidth roof, compute- vs memory-bound, and which resource limits the layer.
//
//   Roofline r = layer_roofline(stats, array);
//   fmt::print("{}: {:.1f} MAC/B, {} — {}\n", name, r.intensity, bound_name(r.bound), r.why);
#pragma once

#include <string>

#include "ei8/arch/scalesim_config.h"
#include "ei8/arch/systolic_model.h"

namespace ei8::arch {

enum class Bound { kCompute, kMemory };
std::string_view bound_name(Bound b);  // "compute-bound" / "memory-bound"

struct Roofline {
  double macs = 0;
  double dram_bytes = 0;     // ifmap + filter reads + ofmap writes
  double intensity = 0;      // MACs per DRAM byte
  double peak = 0;           // MACs/cycle = rows · cols
  double bandwidth = 0;      // DRAM bytes/cycle per interface (USER); 0 = unlimited (CALC)
  double ridge = 0;          // intensity where the roofs meet, using the busiest interface
  double attainable = 0;     // MACs/cycle allowed by the roofs
  double attained = 0;       // MACs/cycle achieved = macs / Total Cycles
  double ideal_cycles = 0;   // cycles without any stall (compute roof incl. mapping)
  double memory_cycles = 0;  // cycles the busiest DRAM interface needs at `bandwidth`
  Bound bound = Bound::kCompute;
  std::string why;  // one sentence naming the limiting resource
};

Roofline layer_roofline(const LayerStats& s, const ArrayConfig& array);

}  // namespace ei8::arch
