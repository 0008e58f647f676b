// ei8/arch/scalesim_topology.h — SCALE-Sim v2 topology CSV files: conv layers and GEMM (M,N,K)
// layers, read with SCALE-Sim's exact rules and written back in its format.
//
//   Result<Topology> t = read_topology_csv("resnet18.csv", TopologyFormat::kConv);
//   if (!t.ok()) return t.status();   // "resnet18.csv:7: cannot read layer ...: ..."
//   for (const Layer& l : t->layers) use(l.name, l.ofmap_h(), l.macs());
//
// Rules (research/scalesim.md §3, as SCALE-Sim v2 commit 22f88b1 reads the file):
// * The first line is a header and is skipped whatever it says; blank lines are skipped.
// * Every other line is split on ',' and the LAST field is dropped, so a data row must end with
//   a trailing comma. Fields are integers after trimming spaces.
// * Conv: `name, IfmapH, IfmapW, FilterH, FilterW, Channels, NumFilters, StrideH[, StrideW],`
//   (one stride is used for both directions). A layer whose name contains "DP" (case-sensitive)
//   is expanded into Channels layers "<name>Channel_<i>" with Channels = 1 and the same
//   NumFilters (SCALE-Sim's depthwise emulation).
// * GEMM: `name, M, N, K,` becomes IfmapH = M, IfmapW = K, FilterH = 1, FilterW = K,
//   Channels = 1, NumFilters = N, strides 1.
// * FilterH ≤ IfmapH and FilterW ≤ IfmapW. No padding: pad by enlarging the ifmap.
// Where SCALE-Sim would crash (short row, non-integer field, kernel larger than the ifmap) we
// return an error "<file>:<line>: cannot read layer '<name>': <what> = <value>, must be <why>".
// Where it silently accepts something odd (extra integer fields are ignored) we accept it too
// and record a warning, so reports stay identical.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ei8/core/status.h"

namespace ei8::arch {

// One convolution layer as SCALE-Sim sees it (batch 1, NHWC, no padding, word = 1 byte).
// All sizes are ≥ 1; filter_h ≤ ifmap_h, filter_w ≤ ifmap_w.
struct Layer {
  std::string name;
  int64_t ifmap_h = 1;      // input rows (padding already folded in)
  int64_t ifmap_w = 1;      // input columns
  int64_t filter_h = 1;     // kernel rows R
  int64_t filter_w = 1;     // kernel columns S
  int64_t channels = 1;     // input channels C (per group)
  int64_t num_filters = 1;  // output channels N
  int64_t stride_h = 1;
  int64_t stride_w = 1;
  int line = 0;  // 1-based line in the source file (0 when built in memory)

  // SCALE-Sim's output size: ceil((H − R + s) / s). Note the ceil: when (H − R) is not a multiple
  // of the stride an extra, partly out-of-bounds output row/column exists.
  int64_t ofmap_h() const { return (ifmap_h - filter_h + stride_h + stride_h - 1) / stride_h; }
  int64_t ofmap_w() const { return (ifmap_w - filter_w + stride_w + stride_w - 1) / stride_w; }
  int64_t ofmap_pixels() const { return ofmap_h() * ofmap_w(); }            // E
  int64_t window() const { return filter_h * filter_w * channels; }         // K
  int64_t macs() const { return ofmap_pixels() * window() * num_filters; }  // E·K·N
  bool operator==(const Layer&) const = default;
};

enum class TopologyFormat { kConv, kGemm };

struct Topology {
  std::string name;  // file stem, as SCALE-Sim names the topology
  std::vector<Layer> layers;
  std::vector<std::string> warnings;  // "<file>:<line>: ..." notes on accepted oddities
};

// Parses "conv" / "gemm" (SCALE-Sim's -i values).
[[nodiscard]] Result<TopologyFormat> parse_topology_format(std::string_view text);

// Reads a topology CSV file. Errors are prefixed "<path>:<line>: ".
[[nodiscard]] Result<Topology> read_topology_csv(const std::string& path,
                                                 TopologyFormat format = TopologyFormat::kConv);

// Same rules on text already in memory; `source` names it in error messages.
[[nodiscard]] Result<Topology> parse_topology_csv(std::string_view text, std::string_view source,
                                                  TopologyFormat format = TopologyFormat::kConv);

// Checks one layer (sizes ≥ 1, kernel fits in the ifmap); the message names the layer.
[[nodiscard]] Status validate_layer(const Layer& layer);

// Writes layers as a conv topology CSV that SCALE-Sim v2 reads back to the same layers
// (header line, 9 fields, trailing comma). A name containing "DP" or ',' is rejected: SCALE-Sim
// would re-expand or split it.
[[nodiscard]] Result<std::string> format_topology_csv(const std::vector<Layer>& layers);
[[nodiscard]] Status write_topology_csv(const std::string& path, const std::vector<Layer>& layers);

}  // namespace ei8::arch
