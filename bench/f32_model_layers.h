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

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <utility>
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

// The layers of an ONNX model at batch 1 (dynamic dimensions set to 1); a file that does not
// load is reported on stderr and has no layers.
inline std::vector<LayerGeometry> model_layer_view(const std::string& path,
                                                   const std::string& prefix) {
  Result<Graph> g = load_onnx(path);
  if (!g.ok()) {
    std::fprintf(stderr, "bench: no layers of %s: %s\n", prefix.c_str(),
                 g.status().message().c_str());
    return {};
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
    return {};
  }
  return std::move(v->layers);
}

// A node name as a benchmark name part: alphanumerics kept, the rest '_', no leading '_'.
inline std::string bench_name(const std::string& node) {
  std::string out;
  for (char c : node) out += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  while (!out.empty() && out.front() == '_') out.erase(out.begin());
  return out;
}

// Every Conv of an ONNX model at batch 1, named "<prefix>_<node>_<c_in>x<h>x<w>_<c_out>", with
// a fused ReLU (the activation every measured layer has had).
inline std::vector<ModelLayer> model_layers(const std::string& path, const std::string& prefix) {
  std::vector<ModelLayer> out;
  for (const LayerGeometry& l : model_layer_view(path, prefix)) {
    if (l.kind != LayerKind::kConv) continue;
    const std::string node = bench_name(l.node);
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

// Every fully connected layer (Gemm / MatMul with a constant weight) of an ONNX model, named
// "<prefix>_<node>_<k>_<n>": k inputs, n outputs per row.
struct FcLayer {
  std::string name;
  int64_t n, k;
};

inline std::vector<FcLayer> model_fc_layers(const std::string& path, const std::string& prefix) {
  std::vector<FcLayer> out;
  for (const LayerGeometry& l : model_layer_view(path, prefix)) {
    if (l.kind != LayerKind::kFullyConnected || l.weight_batches != 1) continue;
    const std::string node = bench_name(l.node);
    out.push_back({prefix + "_" + node + "_" + std::to_string(l.in_channels) + "_" +
                       std::to_string(l.out_channels),
                   l.out_channels, l.in_channels});
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

// The distinct convolution shapes of a torchvision model at 224×224 (batch 1), read from its
// ONNX export in $EI8_BENCH_MODELS (bench/models/export_torchvision.py writes them; they are too
// large to commit): `count` says how often each shape occurs in the model. A missing file is
// reported on stderr and contributes no layer.
struct CountedLayer {
  std::string name;
  kernels::Conv2dParams p;
  int count;
};

inline std::vector<CountedLayer> distinct_layers(const std::string& file,
                                                 const std::string& prefix) {
  std::vector<CountedLayer> out;
  for (ModelLayer& m : model_layers(bench_models_dir() + "/" + file, prefix)) {
    const kernels::Conv2dParams& p = m.p;
    auto same = [&p](const CountedLayer& c) {
      const kernels::Conv2dParams& q = c.p;
      return q.in_c == p.in_c && q.in_h == p.in_h && q.in_w == p.in_w && q.out_c == p.out_c &&
             q.kernel_h == p.kernel_h && q.kernel_w == p.kernel_w && q.stride_h == p.stride_h &&
             q.stride_w == p.stride_w && q.pad_top == p.pad_top && q.pad_left == p.pad_left &&
             q.pad_bottom == p.pad_bottom && q.pad_right == p.pad_right &&
             q.dilation_h == p.dilation_h && q.dilation_w == p.dilation_w && q.groups == p.groups;
    };
    auto it = std::find_if(out.begin(), out.end(), same);
    if (it != out.end()) {
      ++it->count;
    } else {
      out.push_back({std::move(m.name), m.p, 1});
    }
  }
  return out;
}

inline std::vector<CountedLayer> resnet18_layers() {
  return distinct_layers("resnet18.onnx", "r18");
}
inline std::vector<CountedLayer> mobilenet_v2_layers() {
  return distinct_layers("mobilenet_v2.onnx", "mv2");
}

// The distinct conv layers of the 224×224 architectures (torchvision ResNet-18, MobileNetV2,
// SqueezeNet 1.1 exports in $EI8_BENCH_MODELS), each once.
inline std::vector<ModelLayer> arch224_layers() {
  std::vector<ModelLayer> out;
  for (const auto& [file, prefix] : {std::pair<const char*, const char*>{"resnet18.onnx", "r18"},
                                     {"mobilenet_v2.onnx", "mv2"},
                                     {"squeezenet1_1.onnx", "sq"}}) {
    for (CountedLayer& c : distinct_layers(file, prefix)) out.push_back({std::move(c.name), c.p});
  }
  return out;
}

}  // namespace ei8::bench
