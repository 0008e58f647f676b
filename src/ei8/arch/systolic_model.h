// ei8/arch/systolic_model.h — the SCALE-Sim v2 (commit 22f88b1) compatible systolic-array model:
// one conv/GEMM layer on an AR×AC array with three double-buffered SRAMs in front of DRAM.
//
//   ArrayConfig arch{.rows = 32, .cols = 32, .dataflow = Dataflow::kWs};
//   Result<LayerStats> s = simulate_layer(layer, arch);
//   s->total_cycles, s->stall_cycles, s->dram_ifmap_reads, ...   // every report column
//
//   Result<std::vector<LayerStats>> all = simulate_layers(topology.layers, arch);  // a workload
//
// How (docs/simulator.md, research/scalesim.md): compute-side quantities (fold counts, cycles
// without stalls, utilisations, SRAM access counts) come from closed forms over folds. The
// memory side walks only what must be walked — the read-buffer set windows (USER mode: slides
// of the prefetch ring; CALC mode: the unique-address set groups) and the write-buffer drains —
// with index arithmetic; SCALE-Sim's demand and prefetch matrices are never materialised.
// Memory is O(ifmap + filter words), plus one operand's prefetch sequence only when some
// window entry falls outside the ifmap (otherwise the sets of the sequence are arithmetic);
// time O(demand rows + demanded addresses) in the worst case and O(demand rows) when every
// operand fits its active buffer.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <vector>

#include "ei8/arch/scalesim_config.h"
#include "ei8/arch/scalesim_topology.h"
#include "ei8/core/status.h"

namespace ei8::arch {

// How a layer is laid onto the array (research/scalesim.md §5). Pure index arithmetic.
struct FoldGeometry {
  int64_t sr = 0;  // spatial rows mapped on AR (ws/is: K, os: E)
  int64_t sc = 0;  // spatial columns mapped on AC (ws: N, is: E, os: N)
  int64_t t = 0;   // temporal dimension (ws: E, is: N, os: K)
  int64_t row_folds = 0, col_folds = 0;
  int64_t fold_rows = 0;    // demand rows per fold (ws/is: 2AR+AC+T−2, os: AR+AC+T−2)
  int64_t demand_rows = 0;  // row_folds · col_folds · fold_rows
  bool operator==(const FoldGeometry&) const = default;
};
FoldGeometry fold_geometry(const Layer& layer, const ArrayConfig& array);

// One row of SCALE-Sim's three reports (cycles are 0-based cycle numbers; DRAM start cycles are
// usually negative because the first fill happens before compute starts).
struct LayerStats {
  int64_t total_cycles = 0;
  int64_t stall_cycles = 0;
  double overall_util = 0;        // % of PE-cycles doing a MAC over Total Cycles
  double mapping_efficiency = 0;  // % of PEs mapped, mean over folds
  double compute_util = 0;        // % mean over folds of used PE-cycles in the fold
  int64_t macs = 0;               // E·K·N
  int64_t word_bytes = 1;         // the array's ArrayConfig::word_bytes: bytes = words × this
  int64_t sram_ifmap_start = 0, sram_ifmap_stop = 0, sram_ifmap_reads = 0;
  int64_t sram_filter_start = 0, sram_filter_stop = 0, sram_filter_reads = 0;
  int64_t sram_ofmap_start = 0, sram_ofmap_stop = 0, sram_ofmap_writes = 0;
  int64_t dram_ifmap_start = 0, dram_ifmap_stop = 0, dram_ifmap_reads = 0;
  int64_t dram_filter_start = 0, dram_filter_stop = 0, dram_filter_reads = 0;
  int64_t dram_ofmap_start = 0, dram_ofmap_stop = 0, dram_ofmap_writes = 0;
  // Stall attribution (not in SCALE-Sim's reports): per row the largest of the three stalls is
  // charged, ties to the ofmap first, then ifmap.
  int64_t stall_ifmap = 0, stall_filter = 0, stall_ofmap = 0;
  FoldGeometry geometry;

  // The BANDWIDTH_REPORT values (words/cycle), computed as SCALE-Sim does.
  double avg_ifmap_sram_bw() const { return double(sram_ifmap_reads) / double(total_cycles); }
  double avg_filter_sram_bw() const { return double(sram_filter_reads) / double(total_cycles); }
  double avg_ofmap_sram_bw() const { return double(sram_ofmap_writes) / double(total_cycles); }
  double avg_ifmap_dram_bw() const {
    return double(dram_ifmap_reads) / double(dram_ifmap_stop - dram_ifmap_start + 1);
  }
  double avg_filter_dram_bw() const {
    return double(dram_filter_reads) / double(dram_filter_stop - dram_filter_start + 1);
  }
  double avg_ofmap_dram_bw() const {
    return double(dram_ofmap_writes) / double(dram_ofmap_stop - dram_ofmap_start + 1);
  }
  // DRAM traffic in bytes (reads of both operands + ofmap writes) × word_bytes.
  int64_t dram_bytes() const {
    return (dram_ifmap_reads + dram_filter_reads + dram_ofmap_writes) * word_bytes;
  }
  bool operator==(const LayerStats&) const = default;
};

// The compute side alone (research/scalesim.md §5 closed forms): fold geometry, utilisations,
// SRAM access counts, and Total Cycles = demand rows − 1 as if no stall happened. Memory-side
// fields stay 0. O(folds).
LayerStats compute_side_stats(const Layer& layer, const ArrayConfig& array);

// Distinct ifmap words any output window touches (what must come from DRAM at least once).
int64_t ifmap_unique_words(const Layer& layer);

// How the USER-mode read buffers are walked. Both give identical results (tested); kReference
// is the plain form the fast one is checked against: every prefetch-stack element's set
// materialised, and the window slid one step at a time as SCALE-Sim does. kFast computes the
// sets in closed form when no window entry falls outside the ifmap, and jumps over a whole
// trip of slides at once.
enum class SimVariant { kFast, kReference };

// Simulates one layer exactly as SCALE-Sim v2 does. Errors: invalid layer or array (message
// names the value), or a configuration on which SCALE-Sim itself would fail.
[[nodiscard]] Result<LayerStats> simulate_layer(const Layer& layer, const ArrayConfig& array,
                                                SimVariant variant = SimVariant::kFast);

struct SimWorkspace;  // working memory (address tables, prefetch-stack sets, events)

// Simulates the layers of a workload on one array: the working memory is kept from layer to
// layer (allocated and page-faulted once, at the size of the largest layer), and identical
// layers are simulated once — the result is a pure function of the layer's shape (ifmap H×W,
// kernel, channels, filters, strides; not its name) and the array, so the cache is exact.
//
//   LayerSimulator sim(arch);
//   for (const Layer& l : layers) { EI8_ASSIGN_OR_RETURN(LayerStats s, sim.simulate(l)); ... }
class LayerSimulator {
 public:
  // An invalid array fails every simulate().
  explicit LayerSimulator(const ArrayConfig& array, SimVariant variant = SimVariant::kFast);
  ~LayerSimulator();
  LayerSimulator(LayerSimulator&&) noexcept;
  LayerSimulator& operator=(LayerSimulator&&) noexcept;

  // Same result as simulate_layer(layer, array).
  [[nodiscard]] Result<LayerStats> simulate(const Layer& layer);

  const ArrayConfig& array() const { return array_; }
  int64_t cache_hits() const { return hits_; }                   // layers answered from the cache
  int64_t cache_size() const { return int64_t(cache_.size()); }  // distinct shapes simulated

 private:
  using Shape = std::array<int64_t, 8>;
  ArrayConfig array_;
  SimVariant variant_;
  Status status_;
  std::unique_ptr<SimWorkspace> work_;
  std::map<Shape, LayerStats> cache_;
  int64_t hits_ = 0;
};

// Every layer through one LayerSimulator; errors name the layer ("layer 3 'conv2': ...").
[[nodiscard]] Result<std::vector<LayerStats>> simulate_layers(const std::vector<Layer>& layers,
                                                              const ArrayConfig& array);

}  // namespace ei8::arch
