// ei8/data/cifar10.h — CIFAR-10 "binary version" batches (cifar-10-batches-bin/).
//
// Each record is 3073 bytes: a label byte in [0, 9], then 1024 red, 1024 green and 1024 blue
// pixels (row-major 32×32). data_batch_1..5.bin are the 50 000 training images, test_batch.bin
// the 10 000 test images. Samples are normalized per channel with the usual statistics
// (mean 0.4914/0.4822/0.4465, std 0.2470/0.2435/0.2616): f32 [N, 3, 32, 32].
// A file whose size is not a multiple of 3073, or a label > 9, is an error naming the file.
//
//   EI8_ASSIGN_OR_RETURN(SplitDataset c, load_cifar10("data/cifar-10-batches-bin"));
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "ei8/data/dataset.h"

namespace ei8::data {

inline constexpr std::array<float, 3> kCifar10Mean = {0.4914f, 0.4822f, 0.4465f};
inline constexpr std::array<float, 3> kCifar10Std = {0.2470f, 0.2435f, 0.2616f};
inline constexpr int64_t kCifar10RecordBytes = 1 + 3 * 32 * 32;
inline constexpr const char* kCifar10DefaultDir = "data/cifar-10-batches-bin";

// Reads one batch file: pixels u8 [N, 3, 32, 32] appended to `pixels`, labels to `labels`.
Status read_cifar10_batch(const std::string& path, std::vector<uint8_t>& pixels,
                          std::vector<int32_t>& labels);

// Reads the five training batches and the test batch from `dir` (0 = all samples).
Result<SplitDataset> load_cifar10(const std::string& dir, int64_t max_train = 0,
                                  int64_t max_test = 0);

}  // namespace ei8::data
