// ei8/conformance/overflow_experiment.h — the accumulator-width experiment on the layers of
// the project's two workloads (SignalCNN1D, TinyCNN2D), with seeded synthetic int8 data of
// realistic distribution or with the caller's own (trained) weights and activations.
//
//   std::vector<int> widths = parse_widths("12..32").value();
//   auto rows = run_overflow_experiment(widths, DataRegime::kRealistic, 7).value();
//   for (const LayerExperiment& l : rows) use(l.overflow.points);   // fixedpoint/overflow.h
//
// Layers (batch 1, except fc: batch 32 so that it has 320 outputs):
//   SignalCNN1D  conv1 1→16, conv2 16→32, conv3 32→64: Conv1d kernel 3, padding 1, length 128
//   TinyCNN2D    conv1 C→32 on 32×32, conv2 32→64 on 16×16, conv3 64→128 on 8×8 (3×3, pad 1;
//                maxpool 2 between), fc 2048→10
// Data regimes:
//   realistic  float weights ~ N(0, 2/K) quantized per channel to s8 symmetric; first-layer input
//              ~ N(0, 1) quantized to s8 asymmetric (z ≈ 0); later inputs are ReLU outputs
//              max(0, N(0, 1)) quantized to s8 asymmetric (z = −128, so x − z ∈ [0, 255]);
//              bias ~ N(0, 0.1) quantized to int32 with scale s_x·s_w[c].
//   uniform    x and w uniform over [−128, 127] / [−127, 127], z = 0, no bias: a stress test far
//              beyond what trained layers produce.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "ei8/core/rng.h"
#include "ei8/core/status.h"
#include "ei8/fixedpoint/conv_geometry.h"
#include "ei8/fixedpoint/overflow.h"

namespace ei8::conformance {

using fixedpoint::ConvGeometry;
using fixedpoint::LayerOverflow;

struct WorkloadLayer {
  std::string name;  // "SignalCNN1D/conv2"
  ConvGeometry geometry;
  bool input_after_relu = false;  // its input is a ReLU output (asymmetric, z = −128)
};

// The seven layers above. `image_channels` is TinyCNN2D's input channels (3 CIFAR-10, 1
// Fashion-MNIST).
std::vector<WorkloadLayer> project_layers(int64_t image_channels = 3);

enum class DataRegime { kRealistic, kUniform };
std::string_view regime_name(DataRegime r);  // "realistic", "uniform"
Result<DataRegime> parse_regime(std::string_view name);

// One layer's integer operands.
struct LayerData {
  int32_t input_zero_point = 0;
  std::vector<int8_t> input;         // NCHW, geometry.input_numel()
  std::vector<int8_t> weights;       // OIHW, geometry.weight_numel()
  std::vector<int32_t> bias;         // out_channels
  float input_scale = 1.0f;          // s_x (uniform regime: 1)
  std::vector<float> weight_scales;  // s_w[c] (uniform regime: 1 per channel)
};
LayerData synthetic_layer_data(const WorkloadLayer& layer, DataRegime regime, Rng& rng);

// One layer's result plus the products of its worst output pixel (largest partial sum), for
// the single-pixel accumulation trace (accumulate() at any width).
struct LayerExperiment {
  LayerOverflow overflow;
  std::vector<int64_t> worst_pixel_terms;
  int64_t worst_pixel_bias = 0;
};

// Runs simulate_layer_overflow on one layer's operands (synthetic or trained). The output-level
// error uses a `tflite` requantizer to s8 whose output scale covers the layer's exact real
// outputs y = s_x·s_w[c]·acc (min/max calibration, no activation). The output-level
// error uses a `tflite` requantizer to s8 whose output scale covers the layer's exact real
// outputs y = s_x·s_w[c]·acc (min/max calibration, no activation).
Result<LayerExperiment> run_layer_experiment(const WorkloadLayer& layer, const LayerData& data,
                                             std::span<const int> widths);

// Runs it on every project layer with synthetic data (seeded).
Result<std::vector<LayerExperiment>> run_overflow_experiment(std::span<const int> widths,
                                                             DataRegime regime, uint64_t seed,
                                                             int64_t image_channels = 3);

}  // namespace ei8::conformance
