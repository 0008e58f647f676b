// ei8/data/idx.h — the idx format of MNIST / Fashion-MNIST (optionally gzip-compressed, read
// through zlib) and the Fashion-MNIST dataset built on it.
//
// idx: big-endian magic 0x0000 <type> <rank>, then `rank` big-endian u32 dimensions, then the
// data. We read type 0x08 (u8): images have rank 3 (magic 0x00000803), labels rank 1
// (0x00000801). A wrong magic, a truncated body or a label ≥ 10 is an error naming the file.
//
//   EI8_ASSIGN_OR_RETURN(IdxArray a, read_idx_u8("train-labels-idx1-ubyte.gz"));
//   EI8_ASSIGN_OR_RETURN(SplitDataset fm, load_fashion_mnist("/usr/share/datasets/fashion-mnist"));
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ei8/data/dataset.h"

namespace ei8::data {

// Fashion-MNIST normalization (mean and std of the training pixels in [0, 1]).
inline constexpr float kFashionMnistMean = 0.2860f;
inline constexpr float kFashionMnistStd = 0.3530f;
inline constexpr const char* kFashionMnistDefaultDir = "/usr/share/datasets/fashion-mnist";

struct IdxArray {
  std::vector<int64_t> dims;
  std::vector<uint8_t> data;
};

// Reads a u8 idx file; a name ending in ".gz" (or any gzip stream) is decompressed.
Result<IdxArray> read_idx_u8(const std::string& path);
// Serializes an idx u8 array (for tests and tools); gzip-compressed when `gzip`.
Status write_idx_u8(const std::string& path, const IdxArray& a, bool gzip);

// Reads {train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz] from `dir`, pads the 28×28 images
// to 32×32 with black pixels and normalizes them: samples f32 [N, 1, 32, 32]. `max_train`
// and `max_test` (0 = all) keep the first samples only.
Result<SplitDataset> load_fashion_mnist(const std::string& dir, int64_t max_train = 0,
                                        int64_t max_test = 0);

}  // namespace ei8::data
