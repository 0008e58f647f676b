// The torch-free part of train.h: workload names, recipes, checkpoint tensors. Linked into
// both the program (through ei8_train) and the libtorch module.
#include "ei8/train/train.h"

namespace ei8::train {

std::string_view workload_name(Workload w) {
  return w == Workload::kSignal1D ? "signal1d" : "tiny2d";
}

Result<Workload> parse_workload(std::string_view name) {
  if (name == "signal1d") return Workload::kSignal1D;
  if (name == "tiny2d") return Workload::kTiny2D;
  return invalid_argument("cannot select workload: name = '{}', must be signal1d or tiny2d", name);
}

Recipe default_recipe(Workload w, std::string_view dataset) {
  if (w == Workload::kSignal1D) return {8, 128, 5e-3, 1e-4, 0.0, false};
  if (dataset == "cifar10") return {40, 128, 3e-3, 5e-4, 0.05, true};
  return {3, 128, 3e-3, 1e-4, 0.05, false};
}

const Tensor* ModelWeights::find(std::string_view name) const {
  for (const auto& [n, t] : tensors) {
    if (n == name) return &t;
  }
  return nullptr;
}

int64_t ModelWeights::params() const {
  int64_t n = 0;
  for (const auto& [name, t] : tensors) {
    if (name.ends_with(".weight") || name.ends_with(".bias")) n += t.numel();
  }
  return n;
}

}  // namespace ei8::train
