// ei8/train/export.h — a trained checkpoint as an IR graph and an ONNX file (dynamic batch).
//
// The graph mirrors the libtorch module layer by layer, with the state-dict names as
// initializer names and the layer names as node names (conv1, bn1, relu1, pool1, ..., fc), so a
// user finds each layer in Netron:
//   signal1d: input [N,1,128] → 3× (Conv k9 s2 p4 → Relu) → GlobalAveragePool → Flatten → Gemm
//   tiny2d:   input [N,C,32,32] → 3× (Conv 3×3 p1 → BatchNormalization → Relu → MaxPool 2)
//             → Flatten → Gemm
// BatchNormalization stays a node (inference form, epsilon 1e-5); optimize() folds it.
//
//   EI8_ASSIGN_OR_RETURN(ModelWeights w, load_checkpoint("runs/tiny2d/best.pt"));
//   EI8_ASSIGN_OR_RETURN(Graph g, build_graph(w));
//   EI8_RETURN_IF_ERROR(export_checkpoint("runs/tiny2d/best.pt", "tiny2d.onnx"));
#pragma once

#include <string>

#include "ei8/core/status.h"
#include "ei8/graph/graph.h"
#include "ei8/train/train.h"

namespace ei8::train {

inline constexpr const char* kInputName = "input";
inline constexpr const char* kOutputName = "logits";

// Builds the IR of a checkpoint's weights (torch-free). Fails when a tensor is missing or has
// the wrong shape.
Result<Graph> build_graph(const ModelWeights& w);

// load_checkpoint + build_graph + save_onnx.
Status export_checkpoint(const std::string& checkpoint, const std::string& onnx_path);

}  // namespace ei8::train
