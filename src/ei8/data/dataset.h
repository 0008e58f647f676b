// ei8/data/dataset.h — labelled in-memory datasets as ei8::Tensor batches, free of libtorch, so
// training, calibration (INT8) and accuracy evaluation with our own runtime share one API.
//
// A Dataset holds every sample already normalized: f32 [N, C, H, W] for images, [N, C, L] for
// signals, and one label per sample in [0, num_classes). Three sources exist:
//   "synthetic"      5-class sine signals, [N, 1, 128] (synthetic.h)
//   "fashion-mnist"  Debian's dataset-fashion-mnist, padded to [N, 1, 32, 32] (idx.h)
//   "cifar10"        CIFAR-10 binary batches, [N, 3, 32, 32] (cifar10.h)
//
//   EI8_ASSIGN_OR_RETURN(SplitDataset d, load_dataset({.name = "synthetic", .seed = 1}));
//   Batch b = d.test.batch(0, 32);                    // b.x: [32, 1, 128], b.y: [32] s32
//   Dataset calib = calibration_subset(d.train, 256, /*seed=*/7);
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "ei8/core/rng.h"
#include "ei8/core/status.h"
#include "ei8/core/tensor.h"

namespace ei8::data {

// A mini-batch: x is f32 [B, ...sample shape], y is s32 [B].
struct Batch {
  Tensor x;
  Tensor y;
};

struct Dataset {
  std::string name;             // "synthetic", "fashion-mnist" or "cifar10" (+ ":train"/":test")
  Tensor samples;               // f32 [N, ...], normalized
  std::vector<int32_t> labels;  // N labels in [0, num_classes)
  int num_classes = 0;
  std::vector<float> mean;  // per-channel normalization applied: (v - mean[c]) / std[c]
  std::vector<float> stddev;

  int64_t size() const { return samples.rank() == 0 ? 0 : samples.dim(0); }
  // Shape of one sample, e.g. {1, 128} or {3, 32, 32}.
  Shape sample_shape() const;
  int64_t sample_numel() const;
  // Samples [begin, begin + count) clipped to size(); count ≥ 0.
  Batch batch(int64_t begin, int64_t count) const;
  // The samples at `indices` (each in [0, size())), in that order.
  Batch gather(std::span<const int64_t> indices) const;
};

struct SplitDataset {
  Dataset train;
  Dataset test;
};

// What load_dataset reads. `dir` empty means the default place of each source:
// fashion-mnist: /usr/share/datasets/fashion-mnist; cifar10: data/cifar-10-batches-bin.
struct DatasetOptions {
  std::string name = "synthetic";
  std::string dir;
  uint64_t seed = 0;       // synthetic only: generator seed
  int64_t train_size = 0;  // synthetic: number of samples (0 = default); others: a limit
  int64_t test_size = 0;   // (0 = all); limits keep the first samples of each split
};

Result<SplitDataset> load_dataset(const DatasetOptions& options);

// The dataset names load_dataset accepts.
std::span<const std::string_view> dataset_names();
// Default directory of a dataset ("" for synthetic).
std::string default_dataset_dir(std::string_view name);

// `count` samples drawn without replacement with a seeded shuffle (count ≥ size() → all
// samples, shuffled). Used for INT8 calibration; the same seed gives the same subset.
Dataset calibration_subset(const Dataset& d, int64_t count, uint64_t seed);

// Training augmentation for images, in place: per sample, a random H×W crop of the image
// padded by `pad` pixels on every side (the padding holds fill[c], the normalized value of a
// black pixel of channel c), then a horizontal flip with probability 1/2 when `flip`.
// x: f32 [B, C, H, W]; pad in [0, min(H, W)]; fill has C values.
Status augment_crop_flip(Tensor& x, int pad, bool flip, std::span<const float> fill, Rng& rng);

// Normalizes u8 pixels (value/255 - mean[c]) / std[c] into f32 [N, C, H, W]; `pixels` is
// [N, C, h, w] u8 and the result is zero-pixel-padded to [N, C, out_h, out_w] (centered).
Tensor normalize_images(std::span<const uint8_t> pixels, int64_t n, int64_t c, int64_t h, int64_t w,
                        int64_t out_h, int64_t out_w, std::span<const float> mean,
                        std::span<const float> stddev);

}  // namespace ei8::data
