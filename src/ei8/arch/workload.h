// ei8/arch/workload.h — what the simulator and the DSE evaluate: a list of SCALE-Sim layers,
// built from a topology CSV or from model operators (conv with padding/groups/1-D, GEMM/FC).
//
//   Workload w;
//   EI8_RETURN_IF_ERROR(append_conv(w, ConvOp{.name = "conv1", .in_h = 32, .in_w = 32,
//                                             .in_c = 3, .k_h = 3, .k_w = 3, .out_c = 32,
//                                             .pad = {1, 1, 1, 1}}));
//   EI8_RETURN_IF_ERROR(append_gemm(w, "fc", /*m=*/1, /*n=*/10, /*k=*/2048));
//   Result<Workload> t = load_workload("net.csv", TopologyFormat::kConv);
//
// Mapping rules (the graph importer calls these per node):
// * padding is folded into the ifmap (SCALE-Sim has no padding parameter), and the padded
//   ifmap is trimmed to (Ho−1)·s + k rows/columns so that SCALE-Sim's ceil-based output size
//   equals the model's floor-based one (no phantom output row, MACs exact);
// * a 1-D conv (length L) is a height-1 layer (1 × L);
// * a grouped conv becomes one layer per group (C/g channels, N/g filters), named
//   "<name>_g<i>" — depthwise is the case g = C;
// * a fully connected layer / MatMul is a GEMM (M, N, K) mapped as SCALE-Sim maps `-i gemm` rows.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "ei8/arch/scalesim_topology.h"
#include "ei8/core/status.h"

namespace ei8::arch {

struct Workload {
  std::string name;
  std::vector<Layer> layers;
  std::vector<std::string> warnings;
  // Bytes of one operand word (ifmap, filter, ofmap) in SRAM/DRAM: 1 for an INT8 model
  // (QLinear or QDQ layers), 4 for an FP32 one; 0 = unknown (topology CSV: the config decides).
  int64_t operand_bytes = 0;
};

// One convolution of a model, NCHW semantics (batch 1). For 1-D convs set in_h = k_h = 1.
struct ConvOp {
  std::string name;
  int64_t in_h = 1, in_w = 1, in_c = 1;
  int64_t k_h = 1, k_w = 1;
  int64_t out_c = 1;
  int64_t stride_h = 1, stride_w = 1;
  std::array<int64_t, 4> pad = {0, 0, 0, 0};  // top, left, bottom, right
  int64_t groups = 1;
  int64_t dilation_h = 1, dilation_w = 1;
};

[[nodiscard]] Status append_conv(Workload& w, const ConvOp& op);
[[nodiscard]] Status append_gemm(Workload& w, const std::string& name, int64_t m, int64_t n,
                                 int64_t k);

// A topology CSV (conv or gemm rules of scalesim_topology.h). Models are read by the caller
// (CLI, pipeline) and mapped from memory with model_workload.h.
[[nodiscard]] Result<Workload> load_workload(const std::string& path, TopologyFormat format);

// Writes `text` to `path` (whole file, binary).
[[nodiscard]] Status write_text_file(const std::string& path, const std::string& text);

}  // namespace ei8::arch
