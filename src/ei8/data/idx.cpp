#include "ei8/data/idx.h"

#include <filesystem>

#include "ei8/core/npy.h"
#include "ei8/data/archive.h"

namespace ei8::data {

Result<IdxArray> read_idx_u8(const std::string& path) {
  EI8_ASSIGN_OR_RETURN(std::string bytes, gunzip_file(path));
  if (bytes.size() < 4) {
    return data_loss("cannot read idx {}: size = {} bytes, must be ≥ 4 (truncated file)", path,
                     bytes.size());
  }
  const auto byte = [&](size_t i) { return static_cast<uint8_t>(bytes[i]); };
  if (byte(0) != 0 || byte(1) != 0 || byte(2) != 0x08 || byte(3) < 1 || byte(3) > 4) {
    return data_loss(
        "cannot read idx {}: magic = 0x{:02x}{:02x}{:02x}{:02x}, must be "
        "0x000008NN with NN in 01..04 (u8 idx data)",
        path, byte(0), byte(1), byte(2), byte(3));
  }
  const size_t rank = byte(3);
  const size_t header = 4 + 4 * rank;
  if (bytes.size() < header) {
    return data_loss("cannot read idx {}: header needs {} bytes, file has {} (truncated file)",
                     path, header, bytes.size());
  }
  IdxArray a;
  uint64_t count = 1;
  for (size_t d = 0; d < rank; ++d) {
    const size_t o = 4 + 4 * d;
    const uint32_t v = uint32_t{byte(o)} << 24 | uint32_t{byte(o + 1)} << 16 |
                       uint32_t{byte(o + 2)} << 8 | uint32_t{byte(o + 3)};
    a.dims.push_back(v);
    count *= v;
  }
  if (bytes.size() - header != count) {
    return data_loss("cannot read idx {}: body = {} bytes, must be {} for dims {}{}", path,
                     bytes.size() - header, count, shape_to_string(a.dims),
                     bytes.size() - header < count ? " (truncated file)" : "");
  }
  a.data.assign(bytes.begin() + static_cast<std::ptrdiff_t>(header), bytes.end());
  return a;
}

Status write_idx_u8(const std::string& path, const IdxArray& a, bool compress) {
  std::string bytes = {0, 0, 0x08, static_cast<char>(a.dims.size())};
  for (int64_t d : a.dims) {
    for (int s = 24; s >= 0; s -= 8) bytes += static_cast<char>((d >> s) & 0xff);
  }
  bytes.append(a.data.begin(), a.data.end());
  if (compress) {
    EI8_ASSIGN_OR_RETURN(bytes, gzip(bytes));
  }
  return write_file(path, bytes);
}

namespace {

// Finds `stem` or `stem`.gz in dir.
std::string find_file(const std::string& dir, const std::string& stem) {
  namespace fs = std::filesystem;
  const fs::path plain = fs::path(dir) / stem;
  if (fs::exists(plain)) return plain.string();
  return plain.string() + ".gz";
}

Result<Dataset> load_split(const std::string& dir, const std::string& prefix, int64_t limit) {
  const std::string images_path = find_file(dir, prefix + "-images-idx3-ubyte");
  const std::string labels_path = find_file(dir, prefix + "-labels-idx1-ubyte");
  if (!std::filesystem::exists(images_path)) {
    return not_found(
        "cannot load fashion-mnist: file {} does not exist (install the Debian "
        "package dataset-fashion-mnist, or pass the directory holding the idx files)",
        images_path);
  }
  EI8_ASSIGN_OR_RETURN(IdxArray images, read_idx_u8(images_path));
  EI8_ASSIGN_OR_RETURN(IdxArray labels, read_idx_u8(labels_path));
  if (images.dims.size() != 3) {
    return data_loss("cannot read idx {}: rank = {}, must be 3 (images)", images_path,
                     images.dims.size());
  }
  if (labels.dims.size() != 1) {
    return data_loss("cannot read idx {}: rank = {}, must be 1 (labels)", labels_path,
                     labels.dims.size());
  }
  if (labels.dims[0] != images.dims[0]) {
    return data_loss("cannot load fashion-mnist: {} holds {} labels, must be {} (the images in {})",
                     labels_path, labels.dims[0], images.dims[0], images_path);
  }
  const int64_t h = images.dims[1], w = images.dims[2];
  if (h > 32 || w > 32) {
    return data_loss("cannot read idx {}: image size = {}×{}, must be ≤ 32×32", images_path, h, w);
  }
  int64_t n = images.dims[0];
  if (limit > 0) n = std::min(n, limit);
  Dataset d;
  d.name = "fashion-mnist:" + prefix;
  d.num_classes = 10;
  d.mean = {kFashionMnistMean};
  d.stddev = {kFashionMnistStd};
  d.labels.resize(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    const uint8_t y = labels.data[static_cast<size_t>(i)];
    if (y >= 10) {
      return data_loss("cannot read idx {}: label[{}] = {}, must be in [0, 9]", labels_path, i, y);
    }
    d.labels[static_cast<size_t>(i)] = y;
  }
  d.samples = normalize_images(images.data, n, 1, h, w, 32, 32, d.mean, d.stddev);
  return d;
}

}  // namespace

Result<SplitDataset> load_fashion_mnist(const std::string& dir, int64_t max_train,
                                        int64_t max_test) {
  SplitDataset s;
  EI8_ASSIGN_OR_RETURN(s.train, load_split(dir, "train", max_train));
  EI8_ASSIGN_OR_RETURN(s.test, load_split(dir, "t10k", max_test));
  return s;
}

}  // namespace ei8::data
