#include "ei8/data/dataset.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <numeric>

#include "ei8/data/cifar10.h"
#include "ei8/data/idx.h"
#include "ei8/data/synthetic.h"

namespace ei8::data {

Shape Dataset::sample_shape() const {
  const Shape& s = samples.shape();
  return s.empty() ? Shape{} : Shape(s.begin() + 1, s.end());
}

int64_t Dataset::sample_numel() const { return shape_numel(sample_shape()); }

Batch Dataset::batch(int64_t begin, int64_t count) const {
  begin = std::clamp<int64_t>(begin, 0, size());
  count = std::clamp<int64_t>(count, 0, size() - begin);
  std::vector<int64_t> idx(static_cast<size_t>(count));
  std::iota(idx.begin(), idx.end(), begin);
  return gather(idx);
}

Batch Dataset::gather(std::span<const int64_t> indices) const {
  Shape shape = sample_shape();
  const int64_t per = shape_numel(shape);
  shape.insert(shape.begin(), static_cast<int64_t>(indices.size()));
  Batch b{Tensor::zeros(DType::kF32, shape),
          Tensor::zeros(DType::kS32, {static_cast<int64_t>(indices.size())})};
  const float* src = samples.data<float>();
  float* dst = b.x.data<float>();
  int32_t* y = b.y.data<int32_t>();
  for (size_t i = 0; i < indices.size(); ++i) {
    const int64_t k = indices[i];
    std::memcpy(dst + static_cast<int64_t>(i) * per, src + k * per,
                static_cast<size_t>(per) * sizeof(float));
    y[i] = labels[static_cast<size_t>(k)];
  }
  return b;
}

namespace {
constexpr std::array<std::string_view, 3> kNames = {"synthetic", "fashion-mnist", "cifar10"};
}

std::span<const std::string_view> dataset_names() { return kNames; }

std::string default_dataset_dir(std::string_view name) {
  if (name == "fashion-mnist") return kFashionMnistDefaultDir;
  if (name == "cifar10") return kCifar10DefaultDir;
  return "";
}

Result<SplitDataset> load_dataset(const DatasetOptions& o) {
  if (o.train_size < 0 || o.test_size < 0) {
    return invalid_argument("cannot load dataset {}: train_size = {}, test_size = {}, must be ≥ 0",
                            o.name, o.train_size, o.test_size);
  }
  const std::string dir = o.dir.empty() ? default_dataset_dir(o.name) : o.dir;
  if (o.name == "synthetic") {
    SyntheticOptions s;
    s.seed = o.seed;
    if (o.train_size > 0) s.train_size = o.train_size;
    if (o.test_size > 0) s.test_size = o.test_size;
    return make_synthetic(s);
  }
  if (o.name == "fashion-mnist") return load_fashion_mnist(dir, o.train_size, o.test_size);
  if (o.name == "cifar10") return load_cifar10(dir, o.train_size, o.test_size);
  return invalid_argument(
      "cannot load dataset: name = '{}', must be one of synthetic, fashion-mnist, cifar10", o.name);
}

Dataset calibration_subset(const Dataset& d, int64_t count, uint64_t seed) {
  std::vector<int64_t> idx(static_cast<size_t>(d.size()));
  std::iota(idx.begin(), idx.end(), 0);
  Rng rng(seed);
  rng.shuffle(std::span<int64_t>(idx));
  idx.resize(static_cast<size_t>(std::clamp<int64_t>(count, 0, d.size())));
  Batch b = d.gather(idx);
  Dataset out;
  out.name = d.name + ":calib";
  out.samples = std::move(b.x);
  out.labels.assign(b.y.data<int32_t>(), b.y.data<int32_t>() + b.y.numel());
  out.num_classes = d.num_classes;
  out.mean = d.mean;
  out.stddev = d.stddev;
  return out;
}

Status augment_crop_flip(Tensor& x, int pad, bool flip, std::span<const float> fill, Rng& rng) {
  if (x.dtype() != DType::kF32 || x.rank() != 4) {
    return invalid_argument("cannot augment batch: shape = {}, must be f32 [B, C, H, W]",
                            shape_to_string(x.shape()));
  }
  const int64_t b = x.dim(0), c = x.dim(1), h = x.dim(2), w = x.dim(3);
  if (pad < 0 || pad > std::min(h, w)) {
    return invalid_argument("cannot augment batch: pad = {}, must be in [0, {}]", pad,
                            std::min(h, w));
  }
  if (static_cast<int64_t>(fill.size()) != c) {
    return invalid_argument("cannot augment batch: fill values = {}, must be {} (channels)",
                            fill.size(), c);
  }
  std::vector<float> img(static_cast<size_t>(c * h * w));
  float* base = x.data<float>();
  for (int64_t n = 0; n < b; ++n) {
    const int64_t dy = rng.uniform_int(-pad, pad), dx = rng.uniform_int(-pad, pad);
    const bool mirror = flip && rng.uniform_int(0, 1) == 1;
    float* p = base + n * c * h * w;
    std::memcpy(img.data(), p, img.size() * sizeof(float));
    for (int64_t ch = 0; ch < c; ++ch) {
      for (int64_t yy = 0; yy < h; ++yy) {
        for (int64_t xx = 0; xx < w; ++xx) {
          // Output pixel (yy, xx) comes from the padded image at (yy + pad + dy, xx + pad + dx),
          // i.e. from the original at (yy + dy, xx' + dx); xx' is mirrored first when flipping.
          const int64_t sx = (mirror ? w - 1 - xx : xx) + dx, sy = yy + dy;
          const bool inside = sy >= 0 && sy < h && sx >= 0 && sx < w;
          p[(ch * h + yy) * w + xx] = inside ? img[static_cast<size_t>((ch * h + sy) * w + sx)]
                                             : fill[static_cast<size_t>(ch)];
        }
      }
    }
  }
  return {};
}

Tensor normalize_images(std::span<const uint8_t> pixels, int64_t n, int64_t c, int64_t h, int64_t w,
                        int64_t out_h, int64_t out_w, std::span<const float> mean,
                        std::span<const float> stddev) {
  Tensor t = Tensor::zeros(DType::kF32, {n, c, out_h, out_w});
  float* dst = t.data<float>();
  const int64_t oy = (out_h - h) / 2, ox = (out_w - w) / 2;
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t ch = 0; ch < c; ++ch) {
      const float m = mean[static_cast<size_t>(ch)], inv = 1.0f / stddev[static_cast<size_t>(ch)];
      float* plane = dst + (i * c + ch) * out_h * out_w;
      std::fill(plane, plane + out_h * out_w, (0.0f - m) * inv);
      const uint8_t* src = pixels.data() + (i * c + ch) * h * w;
      for (int64_t y = 0; y < h; ++y) {
        for (int64_t x = 0; x < w; ++x) {
          plane[(y + oy) * out_w + x + ox] =
              (static_cast<float>(src[y * w + x]) / 255.0f - m) * inv;
        }
      }
    }
  }
  return t;
}

}  // namespace ei8::data
