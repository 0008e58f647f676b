#include "ei8/conformance/overflow_experiment.h"

#include <algorithm>
#include <cmath>

#include "ei8/quant/quant_math.h"
#include "ei8/runtime/kernels/ref/conv_s8_ref.h"

namespace ei8::conformance {

using namespace ei8::fixedpoint;  // NOLINT(google-build-using-namespace): the primitives checked

std::vector<WorkloadLayer> project_layers(int64_t image_channels) {
  std::vector<WorkloadLayer> l;
  l.push_back({"SignalCNN1D/conv1", ConvGeometry::conv1d(1, 1, 128, 16, 3).with_padding(1), false});
  l.push_back({"SignalCNN1D/conv2", ConvGeometry::conv1d(1, 16, 128, 32, 3).with_padding(1), true});
  l.push_back({"SignalCNN1D/conv3", ConvGeometry::conv1d(1, 32, 128, 64, 3).with_padding(1), true});
  l.push_back({"TinyCNN2D/conv1",
               ConvGeometry::conv2d(1, image_channels, 32, 32, 32, 3, 3).with_padding(1), false});
  l.push_back(
      {"TinyCNN2D/conv2", ConvGeometry::conv2d(1, 32, 16, 16, 64, 3, 3).with_padding(1), true});
  l.push_back(
      {"TinyCNN2D/conv3", ConvGeometry::conv2d(1, 64, 8, 8, 128, 3, 3).with_padding(1), true});
  // The fc layer has 10 outputs per image: a batch of 32 images gives its statistics 320 outputs.
  l.push_back({"TinyCNN2D/fc", ConvGeometry::fully_connected(32, 2048, 10), true});
  return l;
}

std::string_view regime_name(DataRegime r) {
  return r == DataRegime::kRealistic ? "realistic" : "uniform";
}

Result<DataRegime> parse_regime(std::string_view name) {
  if (name == "realistic") return DataRegime::kRealistic;
  if (name == "uniform") return DataRegime::kUniform;
  return invalid_argument("cannot parse data regime: regime = '{}', must be realistic or uniform",
                          name);
}

LayerData synthetic_layer_data(const WorkloadLayer& layer, DataRegime regime, Rng& rng) {
  const ConvGeometry& g = layer.geometry;
  LayerData d;
  d.input.resize(static_cast<size_t>(g.input_numel()));
  d.weights.resize(static_cast<size_t>(g.weight_numel()));
  d.bias.assign(static_cast<size_t>(g.out_channels), 0);
  d.weight_scales.assign(static_cast<size_t>(g.out_channels), 1.0f);
  if (regime == DataRegime::kUniform) {
    for (auto& v : d.input) v = static_cast<int8_t>(rng.uniform_int(-128, 127));
    for (auto& v : d.weights) v = static_cast<int8_t>(rng.uniform_int(-127, 127));
    return d;
  }
  // Realistic: float tensors quantized with the project's own quant math.
  std::vector<float> x(d.input.size());
  for (float& v : x) {
    const float r = rng.normal(0.0f, 1.0f);
    v = layer.input_after_relu ? std::max(r, 0.0f) : r;
  }
  const quant::QuantParams xp = quant::choose_qparams(x, quant::QType::kS8).value();
  d.input_zero_point = xp.zero_point;
  for (size_t i = 0; i < x.size(); ++i) {
    d.input[i] = static_cast<int8_t>(quant::quantize_value(x[i], xp, quant::QType::kS8));
  }
  const auto k = static_cast<size_t>(g.accumulation_count());
  const float stddev = std::sqrt(2.0f / static_cast<float>(k));
  std::vector<float> w(d.weights.size()), w_scales(static_cast<size_t>(g.out_channels));
  for (float& v : w) v = rng.normal(0.0f, stddev);
  for (size_t c = 0; c < w_scales.size(); ++c) {
    const std::span<const float> wc(w.data() + c * k, k);
    const quant::QuantParams wp = quant::choose_qparams(wc, quant::QType::kS8Symmetric).value();
    w_scales[c] = wp.scale;
    for (size_t i = 0; i < k; ++i) {
      d.weights[c * k + i] =
          static_cast<int8_t>(quant::quantize_value(wc[i], wp, quant::QType::kS8Symmetric));
    }
  }
  std::vector<float> b(static_cast<size_t>(g.out_channels));
  for (float& v : b) v = rng.normal(0.0f, 0.1f);
  const quant::QuantizedBias qb = quant::quantize_bias(b, xp.scale, w_scales).value();
  d.bias = qb.values;
  d.input_scale = xp.scale;
  d.weight_scales = w_scales;
  return d;
}

Result<LayerExperiment> run_layer_experiment(const WorkloadLayer& layer, const LayerData& d,
                                             std::span<const int> widths) {
  LayerExperiment e;
  // Output calibration: the exact accumulators (int32 reference kernel) give the real range.
  std::vector<float> weight_scales = d.weight_scales;  // empty: unit scales (M from the range)
  if (weight_scales.empty())
    weight_scales.assign(static_cast<size_t>(layer.geometry.out_channels), 1.0f);
  if (weight_scales.size() != static_cast<size_t>(layer.geometry.out_channels)) {
    return invalid_argument("cannot run overflow experiment: weight scales = {}, must be {}",
                            d.weight_scales.size(), layer.geometry.out_channels);
  }
  kernels::ConvS8Params p;
  p.geometry = layer.geometry;
  p.input_zero_point = d.input_zero_point;
  std::vector<int32_t> acc(static_cast<size_t>(layer.geometry.output_numel()));
  EI8_RETURN_IF_ERROR(kernels::conv2d_s8s8s32_ref<int8_t>(p, d.input, d.weights, d.bias, acc));
  float ymin = 0.0f, ymax = 0.0f;
  const int64_t per_channel = layer.geometry.out_h() * layer.geometry.out_w();
  for (size_t i = 0; i < acc.size(); ++i) {
    const auto c =
        static_cast<size_t>((static_cast<int64_t>(i) / per_channel) % layer.geometry.out_channels);
    const float y = d.input_scale * weight_scales[c] * static_cast<float>(acc[i]);
    ymin = std::min(ymin, y);
    ymax = std::max(ymax, y);
  }
  EI8_ASSIGN_OR_RETURN(quant::QuantParams yp, quant::choose_qparams(ymin, ymax, quant::QType::kS8));
  EI8_ASSIGN_OR_RETURN(Requantizer rq,
                       Requantizer::prepare(RequantProfile::kTflite, d.input_scale, weight_scales,
                                            yp.scale, yp.zero_point, -128, 127));
  EI8_ASSIGN_OR_RETURN(
      e.overflow, simulate_layer_overflow<int8_t>(layer.name, layer.geometry, d.input_zero_point, 0,
                                                  d.input, d.weights, d.bias, widths, &rq));
  const LayerOverflow& o = e.overflow;
  EI8_ASSIGN_OR_RETURN(
      e.worst_pixel_terms,
      pixel_terms<int8_t>(layer.geometry, d.input_zero_point, 0, d.input, d.weights, o.worst_n,
                          o.worst_oc, o.worst_oh, o.worst_ow));
  e.worst_pixel_bias = d.bias.empty() ? 0 : d.bias[static_cast<size_t>(o.worst_oc)];
  return e;
}

Result<std::vector<LayerExperiment>> run_overflow_experiment(std::span<const int> widths,
                                                             DataRegime regime, uint64_t seed,
                                                             int64_t image_channels) {
  std::vector<LayerExperiment> out;
  Rng rng(seed);
  for (const WorkloadLayer& layer : project_layers(image_channels)) {
    const LayerData d = synthetic_layer_data(layer, regime, rng);
    EI8_ASSIGN_OR_RETURN(LayerExperiment e, run_layer_experiment(layer, d, widths));
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace ei8::conformance
