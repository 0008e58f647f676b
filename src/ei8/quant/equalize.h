// ei8/quant/equalize.h — graph passes before calibration that make a float model easier to
// quantize without changing what it computes: cross-layer equalization (CLE) and high-bias
// absorption (Nagel et al., "Data-Free Quantization Through Weight Equalization and Bias
// Correction", ICCV 2019).
//
// CLE. For two layers joined by a positive-homogeneous function (f(x/s) = f(x)/s for s > 0:
// identity, ReLU, LeakyRelu, MaxPool, AveragePool, GlobalAveragePool, Flatten), output channel
// i of the first layer can be divided by s_i and the matching input channel of the second
// multiplied by s_i: the function is unchanged. With r1_i = max|W1[i, ·]| and r2_i = max|W2[·,
// i, ·]|, s_i = √(r1_i / r2_i) makes both ranges √(r1_i·r2_i), which maximises the precision of
// per-tensor weight quantization of both layers. Pairs: Conv/Gemm → [fused Relu/LeakyRelu |
// Relu | LeakyRelu | MaxPool | AveragePool | GlobalAveragePool | Flatten]* → Conv/Gemm, grouped
// and depthwise convolutions included (a channel maps to its group's weights), a Flatten
// mapping each channel to its H·W block of the Gemm's inputs. Chains of several layers are
// iterated pair by pair until no scale moves by more than `tolerance` (relative). A pair that
// cannot be equalized is left unchanged and named in `notes`: an activation that is not
// positive-homogeneous (Clip/ReLU6, Sigmoid, ...), a layer output read by more than one node, a
// shared weight.
//
// Bias absorption. After CLE some channels carry large biases, which widen the activation
// range. Where a ReLU output h_i = max(z_i, 0) is at least c_i > 0 on every calibration sample,
// h_i = max(z_i − c_i, 0) + c_i there, so c_i moves from the first layer's bias into the second
// one's (b2 += W2·c). c_i is the smallest value of channel i on the calibration data, so the
// function is unchanged on that data (and wherever z_i ≥ c_i); pairs whose second layer pads
// with zeros (the padding would not carry c) are skipped with a note.
//
//   EI8_RETURN_IF_ERROR(optimize(g));
//   EI8_ASSIGN_OR_RETURN(EqualizeReport r, equalize_cross_layer(g, {}));
//   EI8_ASSIGN_OR_RETURN(AbsorbReport a, absorb_high_biases(g, calib, {}));
//   for (const auto& n : r.notes) fmt::print("note: {}\n", n);
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ei8/core/status.h"
#include "ei8/core/tensor.h"
#include "ei8/graph/graph.h"

namespace ei8::quant {

struct EqualizeOptions {
  int max_iterations = 100;  // sweeps over every pair, ≥ 1
  double tolerance = 1e-6;   // stop when every scale of a sweep is within 1 ± tolerance
};

// One equalized pair: the per-channel weight range spread (max channel range / min channel
// range over the non-zero channels) of each layer before and after.
struct EqualizedPair {
  std::string first, second;  // node names
  std::string via;            // ops between them, e.g. "Relu,MaxPool,Flatten" ("" = none)
  int64_t channels = 0;
  double first_spread_before = 0, first_spread_after = 0;
  double second_spread_before = 0, second_spread_after = 0;
};

struct EqualizeReport {
  std::vector<EqualizedPair> pairs;
  int iterations = 0;  // sweeps run
  bool converged = false;
  std::vector<std::string> notes;  // pairs skipped, and why
};

// `g`: an optimized float graph (BN folded, activations fused) with shapes inferred. Changes
// weights and biases in place. Errors: bad options, a graph without shapes.
Result<EqualizeReport> equalize_cross_layer(Graph& g, const EqualizeOptions& options);

struct AbsorbOptions {
  int64_t batch = 32;  // samples per forward pass over the calibration data, ≥ 1
};

struct AbsorbedLayer {
  std::string first, second;
  int64_t channels_absorbed = 0;  // channels with c_i > 0
  double max_shift = 0;           // max c_i
};

struct AbsorbReport {
  std::vector<AbsorbedLayer> layers;
  std::vector<std::string> notes;
};

// High-bias absorption over the same pairs as CLE (ReLU between them), with c_i measured on
// `calib` [N, ...input]. Errors: no samples, a graph the FP32 executor cannot run.
Result<AbsorbReport> absorb_high_biases(Graph& g, const Tensor& calib,
                                        const AbsorbOptions& options);

}  // namespace ei8::quant
