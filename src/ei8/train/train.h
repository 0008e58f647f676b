// ei8/train/train.h — the two workloads, trained with libtorch behind a torch-free API (the
// functions that need libtorch load the module libei8_torch.so on first use; torch_api.h).
//
// Workloads (the seed's Part A):
//   signal1d  SignalCNN1D: 3× [Conv1d k=9 s=2 p=4 + ReLU] (1→16→32→64 channels, length
//             128→64→32→16), AdaptiveAvgPool1d(1), Linear 64→5.  23 621 parameters.
//   tiny2d    TinyCNN2D: 3× [Conv2d 3×3 p=1 + BatchNorm + ReLU + MaxPool 2] (C→32→64→128,
//             32×32→16→8→4), Flatten, Linear 128·4·4→10.  114 186 parameters for C = 3,
//             113 610 for C = 1 (Fashion-MNIST).
// The trainer uses AdamW with a one-cycle learning-rate schedule (cosine warm-up over the
// first 25 % of the steps from lr/25 to lr, cosine decay to lr/10⁴), label smoothing 0.05 for
// tiny2d, random-crop + flip augmentation on CIFAR-10. Every random choice (initialization,
// shuffling, augmentation) follows --seed; resuming continues the same schedule and data order.
//
// Output directory: best.pt / last.pt (libtorch archives of the module), best.json / last.json
// (sidecar: workload, dataset, input shape, classes, epoch, accuracy, normalization),
// last.optim.pt (optimizer state for --resume) and history.csv (one row per epoch).
//
//   TrainOptions o;  o.workload = Workload::kSignal1D;  o.data.name = "synthetic";
//   o.out_dir = "runs/signal1d";
//   EI8_ASSIGN_OR_RETURN(TrainResult r, train_model(o));   // r.test_accuracy in [0, 1]
//   EI8_ASSIGN_OR_RETURN(ModelWeights w, load_checkpoint(r.checkpoint));
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "ei8/core/status.h"
#include "ei8/core/tensor.h"
#include "ei8/data/dataset.h"

namespace ei8::train {

enum class Workload { kSignal1D, kTiny2D };
std::string_view workload_name(Workload w);  // "signal1d" / "tiny2d"
Result<Workload> parse_workload(std::string_view name);

// Per-workload defaults (used where TrainOptions leaves 0).
struct Recipe {
  int epochs;
  int64_t batch_size;
  double lr;
  double weight_decay;
  double label_smoothing;
  bool augment;  // random crop (pad 4) + horizontal flip
};
Recipe default_recipe(Workload w, std::string_view dataset);

struct TrainOptions {
  Workload workload = Workload::kSignal1D;
  data::DatasetOptions data;  // name, dir, seed (synthetic), size limits
  int epochs = 0;             // 0 = recipe default
  int64_t batch_size = 0;     // 0 = recipe default
  double lr = 0.0;            // peak learning rate; 0 = recipe default
  uint64_t seed = 0;
  std::string out_dir;       // created if missing
  int threads = 2;           // intra-op threads of libtorch, ≥ 1
  bool resume = false;       // continue from out_dir/last.pt (same epochs, batch, lr, seed)
  int stop_after_epoch = 0;  // stop after this epoch (0 = run to `epochs`); finish with resume
  bool progress = true;      // progress bar on stderr
  int64_t max_steps_per_epoch = 0;  // 0 = whole epoch (tests use a few steps)
};

struct EpochStats {
  int epoch = 0;  // 1-based
  double lr_end = 0, train_loss = 0, train_accuracy = 0, test_loss = 0, test_accuracy = 0;
  double seconds = 0;  // wall time of the epoch (training + evaluation)
};

struct TrainResult {
  Workload workload = Workload::kSignal1D;
  std::string dataset;
  int epochs = 0;
  double test_accuracy = 0;  // of the last epoch, in [0, 1]
  double best_accuracy = 0;
  int best_epoch = 0;
  double train_seconds = 0;  // wall time of this run (excluding data loading)
  double cpu_seconds = 0;    // process CPU time over the same span
  double data_seconds = 0;   // wall time spent loading the dataset
  int64_t params = 0;
  std::string checkpoint;  // best.pt
  std::string last_checkpoint;
  std::vector<EpochStats> history;  // every epoch, including those of a resumed run
};

Result<TrainResult> train_model(const TrainOptions& options);

// A checkpoint as plain tensors: the state dict in module order, names as in libtorch
// ("conv1.weight", "bn1.running_mean", "fc.bias", ...).
struct ModelWeights {
  Workload workload = Workload::kSignal1D;
  std::string dataset;
  Shape input_shape;  // one sample, e.g. {1, 128} or {1, 32, 32}
  int num_classes = 0;
  int epoch = 0;
  double accuracy = 0;
  std::vector<float> mean, stddev;  // normalization the inputs must have
  std::vector<std::pair<std::string, Tensor>> tensors;

  const Tensor* find(std::string_view name) const;
  int64_t params() const;  // learnable parameters (excludes BN running statistics)
};

// Reads best.pt/last.pt (and its .json sidecar).
Result<ModelWeights> load_checkpoint(const std::string& path);
// libtorch's forward pass (eval mode) of a checkpoint on x [N, ...input_shape]: logits [N, K].
Result<Tensor> torch_forward(const std::string& checkpoint, const Tensor& x, int threads = 1);
// Accuracy in [0, 1] of a checkpoint with libtorch on a dataset split.
Result<double> torch_accuracy(const std::string& checkpoint, const data::Dataset& d,
                              int threads = 1);
// Parameter count of a workload for `in_channels` input channels (without training it); −1
// when the libtorch module cannot be loaded.
int64_t workload_params(Workload w, int64_t in_channels);

}  // namespace ei8::train
