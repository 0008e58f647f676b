// The convolution layers the kernels are measured on, read from real models through the layer
// view (graph/layer_view.h): each is a Conv2dParams exactly as the executor prepares it.
//
//   for (const ModelLayer& l : resnet_like_layers()) bench(l.p);
//
// Models: the ONNX files of tests/data/models (PyTorch exports, tests/data/models/make_models.py)
// and the project's trained SignalCNN1D / TinyCNN2D as `edgeint8 run-all` or `edgeint8 export`
// write them: $EI8_BENCH_MODELS/{signal1d,tiny2d}.onnx (default results/models). A missing
// trained model is reported on stderr and contributes no layer (no hand-written stand-in).
#pragma once

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "ei8/graph/layer_view.h"
#include "ei8/graph/onnx/onnx_io.h"
#include "ei8/graph/shape_inference.h"
#include "ei8/runtime/kernels/conv_f32.h"
#include "ei8/runtime/layer_params.h"

namespace ei8::bench {

struct ModelLayer {
  std::string name;
  kernels::Conv2dParams p;
};

// Every Conv of an ONNX model at batch 1, named "<prefix>_<node>_<c_in>x<h>x<w>_<c_out>", with
// a fused ReLU (the activation every measured layer has had).
inline std::vector<ModelLayer> model_layers(const std::string& path, const std::string& prefix) {
  std::vector<ModelLayer> out;
  Result<Graph> g = load_onnx(path);
  if (!g.ok()) {
    std::fprintf(stderr, "bench: no layers of %s: %s\n", prefix.c_str(),
                 g.status().message().c_str());
    return out;
  }
  for (const std::string& in : g->inputs()) {
    for (int64_t& d : g->find_value(in)->shape) {
      if (d == kDynamic) d = 1;
    }
  }
  Result<LayerView> v =
      infer_shapes(*g).ok() ? layer_view(*g) : Result<LayerView>(invalid_argument("shapes"));
  if (!v.ok()) {
    std::fprintf(stderr, "bench: no layers of %s: %s\n", prefix.c_str(),
                 v.status().message().c_str());
    return out;
  }
  for (const LayerGeometry& l : v->layers) {
    if (l.kind != LayerKind::kConv) continue;
    std::string node;
    for (char c : l.node) node += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
    while (!node.empty() && node.front() == '_') node.erase(node.begin());
    ModelLayer m{
        prefix + "_" + node + "_" +
            (l.spatial_rank == 1 ? std::to_string(l.in_channels) + "x" + std::to_string(l.in_w)
                                 : std::to_string(l.in_channels) + "x" + std::to_string(l.in_h) +
                                       "x" + std::to_string(l.in_w)) +
            "_" + std::to_string(l.out_channels),
        conv2d_params(l)};
    m.p.batch = 1;
    m.p.act = kernels::Activation::relu();
    out.push_back(m);
  }
  return out;
}

inline std::string bench_models_dir() {
  const char* e = std::getenv("EI8_BENCH_MODELS");
  return e != nullptr ? e : "results/models";
}

// CIFAR ResNet-like, 3×32×32, stem + two residual blocks (8.83 MMAC per sample, the model of
// research/ort_baseline.md): tests/data/models/cifar_resnet.onnx.
inline std::vector<ModelLayer> resnet_like_layers() {
  return model_layers(std::string(EI8_MODELS_DIR) + "/cifar_resnet.onnx", "resnet");
}

// MobileNet-like (strided stem, depthwise 3×3 and pointwise 1×1): tests/data/models.
inline std::vector<ModelLayer> mobilenetish_layers() {
  return model_layers(std::string(EI8_MODELS_DIR) + "/mobilenetish.onnx", "mb");
}

// The trained SignalCNN1D (Conv1d k9 s2 p4, 1→16→32→64 on 1×128) as exported.
inline std::vector<ModelLayer> signal_cnn_layers() {
  return model_layers(bench_models_dir() + "/signal1d.onnx", "sig");
}

// The trained TinyCNN2D (3×[conv 3×3 + BN + ReLU + MaxPool 2], 32→64→128 on C×32×32).
inline std::vector<ModelLayer> tiny_cnn2d_layers() {
  return model_layers(bench_models_dir() + "/tiny2d.onnx", "tiny");
}

// The distinct convolution shapes of torchvision's ResNet-18 at 224×224 (batch 1): 1.81 GMAC
// per image; the count says how often each shape occurs in the model.
struct CountedLayer {
  std::string name;
  kernels::Conv2dParams p;
  int count;
};

inline std::vector<CountedLayer> resnet18_layers() {
  return {
      {"r18_conv1_3x224_64_7x7s2", conv(3, 224, 224, 64, 7, 7, 2, 3, 3), 1},
      {"r18_l1_64x56_64", conv(64, 56, 56, 64, 3, 3, 1, 1, 1), 4},
      {"r18_l2a_64x56_128_s2", conv(64, 56, 56, 128, 3, 3, 2, 1, 1), 1},
      {"r18_l2ds_64x56_128_1x1s2", conv(64, 56, 56, 128, 1, 1, 2, 0, 0), 1},
      {"r18_l2_128x28_128", conv(128, 28, 28, 128, 3, 3, 1, 1, 1), 3},
      {"r18_l3a_128x28_256_s2", conv(128, 28, 28, 256, 3, 3, 2, 1, 1), 1},
      {"r18_l3ds_128x28_256_1x1s2", conv(128, 28, 28, 256, 1, 1, 2, 0, 0), 1},
      {"r18_l3_256x14_256", conv(256, 14, 14, 256, 3, 3, 1, 1, 1), 3},
      {"r18_l4a_256x14_512_s2", conv(256, 14, 14, 512, 3, 3, 2, 1, 1), 1},
      {"r18_l4ds_256x14_512_1x1s2", conv(256, 14, 14, 512, 1, 1, 2, 0, 0), 1},
      {"r18_l4_512x7_512", conv(512, 7, 7, 512, 3, 3, 1, 1, 1), 3},
  };
}

// Depthwise 3×3 (ReLU6) and pointwise 1×1 shapes of torchvision's MobileNetV2 at 224×224.
inline std::vector<CountedLayer> mobilenet_v2_layers() {
  const auto dw = [](int64_t c, int64_t hw, int64_t stride) {
    kernels::Conv2dParams p = conv(c, hw, hw, c, 3, 3, stride, 1, 1);
    p.groups = c;
    p.act = kernels::Activation::clip(0.0f, 6.0f);
    return p;
  };
  const auto pw = [](int64_t c, int64_t hw, int64_t out, bool relu6) {
    kernels::Conv2dParams p = conv(c, hw, hw, out, 1, 1, 1, 0, 0);
    p.act = relu6 ? kernels::Activation::clip(0.0f, 6.0f) : kernels::Activation::none();
    return p;
  };
  return {
      {"mv2_stem_3x224_32_s2", conv(3, 224, 224, 32, 3, 3, 2, 1, 1), 1},
      {"mv2_dw_32x112_s1", dw(32, 112, 1), 1},
      {"mv2_pw_32x112_16", pw(32, 112, 16, false), 1},
      {"mv2_pw_16x112_96", pw(16, 112, 96, true), 1},
      {"mv2_dw_96x112_s2", dw(96, 112, 2), 1},
      {"mv2_pw_96x56_24", pw(96, 56, 24, false), 1},
      {"mv2_pw_24x56_144", pw(24, 56, 144, true), 2},
      {"mv2_dw_144x56_s1", dw(144, 56, 1), 1},
      {"mv2_pw_144x56_24", pw(144, 56, 24, false), 1},
      {"mv2_dw_192x28_s1", dw(192, 28, 1), 2},
      {"mv2_pw_192x28_32", pw(192, 28, 32, false), 2},
      {"mv2_dw_384x14_s1", dw(384, 14, 1), 4},
      {"mv2_pw_384x14_64", pw(384, 14, 64, false), 3},
      {"mv2_pw_64x14_384", pw(64, 14, 384, true), 4},
      {"mv2_dw_576x14_s2", dw(576, 14, 2), 1},
      {"mv2_dw_960x7_s1", dw(960, 7, 1), 3},
      {"mv2_pw_960x7_320", pw(960, 7, 320, false), 1},
      {"mv2_pw_320x7_1280", pw(320, 7, 1280, true), 1},
  };
}

}  // namespace ei8::bench
