#include "ei8/data/cifar10.h"

#include <filesystem>

#include "ei8/core/npy.h"

namespace ei8::data {

Status read_cifar10_batch(const std::string& path, std::vector<uint8_t>& pixels,
                          std::vector<int32_t>& labels) {
  if (!std::filesystem::exists(path)) {
    return not_found(
        "cannot load cifar10: file {} does not exist (run `edgeint8 data fetch "
        "cifar10`, or unpack cifar-10-binary.tar.gz from "
        "https://www.cs.toronto.edu/~kriz/cifar.html so that this file exists)",
        path);
  }
  EI8_ASSIGN_OR_RETURN(std::string bytes, read_file(path));
  if (bytes.empty() || bytes.size() % kCifar10RecordBytes != 0) {
    return data_loss(
        "cannot read cifar10 batch {}: size = {} bytes, must be a positive multiple "
        "of {} (label + 3×32×32 pixels; truncated or corrupt file)",
        path, bytes.size(), kCifar10RecordBytes);
  }
  const size_t n = bytes.size() / kCifar10RecordBytes;
  for (size_t i = 0; i < n; ++i) {
    const char* rec = bytes.data() + i * kCifar10RecordBytes;
    const uint8_t y = static_cast<uint8_t>(rec[0]);
    if (y > 9) {
      return data_loss(
          "cannot read cifar10 batch {}: record {} has label = {}, must be in "
          "[0, 9] (corrupt file)",
          path, i, y);
    }
    labels.push_back(y);
    pixels.insert(pixels.end(), reinterpret_cast<const uint8_t*>(rec + 1),
                  reinterpret_cast<const uint8_t*>(rec + kCifar10RecordBytes));
  }
  return {};
}

namespace {

Result<Dataset> load_files(const std::string& dir, const std::vector<std::string>& files,
                           const char* split, int64_t limit) {
  std::vector<uint8_t> pixels;
  std::vector<int32_t> labels;
  for (const std::string& f : files) {
    if (limit > 0 && static_cast<int64_t>(labels.size()) >= limit) break;
    EI8_RETURN_IF_ERROR(
        read_cifar10_batch((std::filesystem::path(dir) / f).string(), pixels, labels));
  }
  int64_t n = static_cast<int64_t>(labels.size());
  if (limit > 0) n = std::min(n, limit);
  Dataset d;
  d.name = std::string("cifar10:") + split;
  d.num_classes = 10;
  d.mean.assign(kCifar10Mean.begin(), kCifar10Mean.end());
  d.stddev.assign(kCifar10Std.begin(), kCifar10Std.end());
  labels.resize(static_cast<size_t>(n));
  d.labels = std::move(labels);
  d.samples = normalize_images(pixels, n, 3, 32, 32, 32, 32, d.mean, d.stddev);
  return d;
}

}  // namespace

Result<SplitDataset> load_cifar10(const std::string& dir, int64_t max_train, int64_t max_test) {
  SplitDataset s;
  EI8_ASSIGN_OR_RETURN(s.train,
                       load_files(dir,
                                  {"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin",
                                   "data_batch_4.bin", "data_batch_5.bin"},
                                  "train", max_train));
  EI8_ASSIGN_OR_RETURN(s.test, load_files(dir, {"test_batch.bin"}, "test", max_test));
  return s;
}

}  // namespace ei8::data
