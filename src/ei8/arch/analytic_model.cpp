#include "ei8/arch/analytic_model.h"

#include <algorithm>

namespace ei8::arch {

LayerStats estimate_layer(const Layer& layer, const ArrayConfig& a) {
  LayerStats s = compute_side_stats(layer, a);
  const FoldGeometry& f = s.geometry;
  const int64_t K = layer.window(), N = layer.num_filters;
  const int64_t ifmap = ifmap_unique_words(layer), filter = K * N;
  auto fits = [&](int64_t words, int64_t kb) { return words <= (a.sram_words(kb) + 1) / 2; };
  int64_t dif = ifmap, dfl = filter;
  switch (a.dataflow) {
    case Dataflow::kWs:  // ifmap re-streamed for every column fold unless it stays resident
      if (!fits(ifmap, a.ifmap_sram_kb)) dif = ifmap * f.col_folds;
      break;
    case Dataflow::kOs:  // ifmap per column fold, filter per row fold
      if (!fits(ifmap, a.ifmap_sram_kb)) dif = ifmap * f.col_folds;
      if (!fits(filter, a.filter_sram_kb)) dfl = filter * f.row_folds;
      break;
    case Dataflow::kIs:  // filter re-streamed for every column fold unless resident
      if (!fits(filter, a.filter_sram_kb)) dfl = filter * f.col_folds;
      break;
  }
  const int64_t dof = s.sram_ofmap_writes;  // every output (and partial sum) is drained
  s.dram_ifmap_reads = dif;
  s.dram_filter_reads = dfl;
  s.dram_ofmap_writes = dof;
  const int64_t ideal = f.demand_rows - 1;
  int64_t total = ideal;
  if (a.mode == BandwidthMode::kUser) {
    const int64_t bw = a.bandwidth;
    const int64_t t_if = (dif + bw - 1) / bw, t_fl = (dfl + bw - 1) / bw,
                  t_of = (dof + bw - 1) / bw;
    total = std::max({ideal, t_if, t_fl, t_of});
    const int64_t stall = total - ideal;
    if (stall > 0) {
      if (total == t_of) {
        s.stall_ofmap = stall;
      } else if (total == t_if) {
        s.stall_ifmap = stall;
      } else {
        s.stall_filter = stall;
      }
    }
    s.dram_ifmap_start = -std::min((a.sram_words(a.ifmap_sram_kb) + 1) / 2, dif) / bw;
    s.dram_filter_start = -std::min((a.sram_words(a.filter_sram_kb) + 1) / 2, dfl) / bw;
  }
  s.total_cycles = total;
  s.stall_cycles = total - ideal;
  s.overall_util = double(s.macs * 100) / double(total * a.rows * a.cols);
  s.dram_ifmap_stop = s.dram_filter_stop = s.dram_ofmap_stop = total;
  return s;
}

}  // namespace ei8::arch
