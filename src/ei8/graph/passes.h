// ei8/graph/passes.h — graph rewrites that keep the function computed (up to float rounding).
//
//   fold_constants       evaluates nodes whose inputs are all constants (layout ops and float
//                        elementwise arithmetic) into initializers; QDQ nodes are kept.
//   remove_noops         drops Identity, Dropout and all-zero Pad; merges a zero-valued constant
//                        Pad of spatial axes into the following Conv's pads.
//   fold_batch_norm      folds BatchNormalization that follows a Conv (per output channel) or a
//                        Gemm (per column) into the weights and bias.
//   fuse_activations     moves Relu, Clip (ReLU6 and others) and LeakyRelu that follow a Conv or
//                        Gemm, and Relu that follows Add/Sub/Mul/Div (residual blocks), into
//                        the producer's "activation" attribute (see shape_inference.h).
// `optimize` runs them in that order, then infer_shapes. Every pass returns how many rewrites it
// made; a graph output name is never changed.
//
//   fuse_runtime_f32     fusions only the FP32 executor understands (Executor::create runs it
//                        after optimize; quantization and export never see them): a Relu after
//                        BatchNormalization into its "activation" attribute (pre-activation BN,
//                        DenseNet), and Sigmoid(x) multiplied by x (SiLU / Swish: EfficientNet)
//                        into the Sigmoid with multiply_input = 1, y = x·sigmoid(x); then
//                        such a SiLU whose input is a Conv's output read by nothing else into
//                        the Conv's "activation" = "Silu" (its epilogue: the same bits).
//
//   EI8_ASSIGN_OR_RETURN(Graph g, load_onnx("m.onnx"));
//   EI8_RETURN_IF_ERROR(optimize(g));
#pragma once

#include "ei8/graph/graph.h"

namespace ei8 {

struct OptimizeOptions {
  bool fold_constants = true;
  bool remove_noops = true;
  bool fold_batch_norm = true;
  bool fuse_activations = true;
};

Result<int> fold_constants(Graph& g);
Result<int> remove_noops(Graph& g);
Result<int> fold_batch_norm(Graph& g);
Result<int> fuse_activations(Graph& g);
Result<int> fuse_runtime_f32(Graph& g);
Status optimize(Graph& g, const OptimizeOptions& options = {});

}  // namespace ei8
