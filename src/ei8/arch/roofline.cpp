#include "ei8/arch/roofline.h"

#include <fmt/format.h>
#include <algorithm>

namespace ei8::arch {

std::string_view bound_name(Bound b) {
  return b == Bound::kCompute ? "compute-bound" : "memory-bound";
}

Roofline layer_roofline(const LayerStats& s, const ArrayConfig& a) {
  Roofline r;
  r.macs = double(s.macs);
  // Word counts; bytes = words × word_bytes (memory cycles are word counts / words per cycle).
  const double dif = double(s.dram_ifmap_reads), dfl = double(s.dram_filter_reads),
               dof = double(s.dram_ofmap_writes);
  r.dram_bytes = double(s.dram_bytes());
  r.intensity = r.dram_bytes > 0 ? r.macs / r.dram_bytes : 0;
  r.peak = double(a.rows * a.cols);
  r.ideal_cycles = double(s.geometry.demand_rows - 1);
  r.attained = s.total_cycles > 0 ? r.macs / double(s.total_cycles) : 0;
  const double busiest = std::max({dif, dfl, dof});
  const char* busiest_name = busiest == dif ? "ifmap" : busiest == dfl ? "filter" : "ofmap";
  if (a.mode == BandwidthMode::kUser) {
    r.bandwidth = double(a.bandwidth * s.word_bytes);
    r.memory_cycles = busiest / double(a.bandwidth);
    // Each operand has its own interface of `bandwidth` bytes/cycle: the memory roof is set by
    // the busiest one, i.e. attainable = macs / memory_cycles.
    const double words = dif + dfl + dof;
    const double share = words > 0 ? busiest / words : 1;
    r.ridge = r.peak * share / r.bandwidth;
    r.attainable = std::min(r.peak, r.memory_cycles > 0 ? r.macs / r.memory_cycles : r.peak);
  } else {
    r.attainable = r.peak;
  }
  const double mapping = s.mapping_efficiency;
  if (a.mode == BandwidthMode::kUser && r.memory_cycles > r.ideal_cycles) {
    r.bound = Bound::kMemory;
    r.why = fmt::format(
        "memory-bound: the {} DRAM interface needs {:.0f} cycles at {} B/cycle but compute needs "
        "only {:.0f}; stalls ifmap {} / filter {} / ofmap {} cycles",
        busiest_name, r.memory_cycles, r.bandwidth, r.ideal_cycles, s.stall_ifmap, s.stall_filter,
        s.stall_ofmap);
  } else if (s.stall_cycles > s.total_cycles / 10) {
    r.bound = Bound::kMemory;
    const int64_t worst = std::max({s.stall_ifmap, s.stall_filter, s.stall_ofmap});
    const char* who = worst == s.stall_ofmap   ? "ofmap write-buffer drains"
                      : worst == s.stall_ifmap ? "ifmap buffer refills"
                                               : "filter buffer refills";
    r.why = fmt::format(
        "memory-bound by buffering: {} of {} cycles are stalls, mostly {} (SRAM too small for the "
        "reuse pattern, although average DRAM traffic would fit the bandwidth)",
        s.stall_cycles, s.total_cycles, who);
  } else {
    r.bound = Bound::kCompute;
    if (mapping < 75) {
      r.why = fmt::format(
          "compute-bound, limited by mapping: only {:.1f}% of the PEs hold work ({} spatial rows "
          "on "
          "{} PE rows, {} columns on {} PE columns)",
          mapping, s.geometry.sr, a.rows, s.geometry.sc, a.cols);
    } else {
      r.why = fmt::format(
          "compute-bound: {:.1f}% of PEs mapped, {:.1f}% of peak attained; fill/drain of the "
          "pipeline ({} of {} cycles per fold) is the remaining loss",
          mapping, 100 * r.attained / r.peak, s.geometry.fold_rows - s.geometry.t,
          s.geometry.fold_rows);
    }
  }
  return r;
}

std::string format_roofline_report(const std::vector<std::string>& names,
                                   const std::vector<LayerStats>& stats, const ArrayConfig& array) {
  std::string out =
      "LayerID,Layer,MACs,DRAM bytes,MAC per DRAM byte,Peak MAC/cycle,Attainable "
      "MAC/cycle,Attained "
      "MAC/cycle,Stall-free cycles,Memory cycles,Total cycles,Bound,Why\n";
  for (size_t i = 0; i < stats.size(); ++i) {
    const Roofline r = layer_roofline(stats[i], array);
    std::string why = r.why;
    for (char& c : why) {
      if (c == '"') c = '\'';
    }
    out +=
        fmt::format("{},{},{:.0f},{:.0f},{:.4f},{:.0f},{:.3f},{:.3f},{:.0f},{:.0f},{},{},\"{}\"\n",
                    i, i < names.size() ? names[i] : "", r.macs, r.dram_bytes, r.intensity, r.peak,
                    r.attainable, r.attained, r.ideal_cycles, r.memory_cycles,
                    stats[i].total_cycles, bound_name(r.bound), why);
  }
  return out;
}

}  // namespace ei8::arch
