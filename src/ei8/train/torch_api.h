// ei8/train/torch_api.h — internal: the table of entry points the libtorch module
// (libei8_torch.so, built from trainer.cpp) exports, and that train.cpp loads on first use.
//
// Why a module: libtorch costs ~1.7 s of CPU at every process start (relocations and operator
// registration) even for `edgeint8 --help`; loaded with dlopen, only train / export / baseline
// pay it. Both sides are built from this header in one build, so the table is plain C++; the
// version guards against a stale module found on the search path.
#pragma once

#include <string>

#include "ei8/train/train.h"

namespace ei8::train {

inline constexpr int kTorchApiVersion = 1;

struct TorchApi {
  int version;
  Result<TrainResult> (*train_model)(const TrainOptions&);
  Result<ModelWeights> (*load_checkpoint)(const std::string&);
  Result<Tensor> (*torch_forward)(const std::string&, const Tensor&, int);
  Result<double> (*torch_accuracy)(const std::string&, const data::Dataset&, int);
  int64_t (*workload_params)(Workload, int64_t);
};

}  // namespace ei8::train

// The one symbol the module exports.
extern "C" const ei8::train::TorchApi* ei8_torch_api();
