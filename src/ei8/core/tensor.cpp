#include "ei8/core/tensor.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include <fmt/ranges.h>
#include <new>

namespace ei8 {
namespace {
constexpr size_t kAlignment = 64;  // one cache line; the widest SIMD load (AVX-512)

std::byte* aligned_alloc_zeroed(size_t nbytes) {
  const size_t rounded = (nbytes + kAlignment - 1) / kAlignment * kAlignment;
  void* p = std::aligned_alloc(kAlignment, rounded == 0 ? kAlignment : rounded);
  if (p == nullptr) throw std::bad_alloc();
  std::memset(p, 0, rounded == 0 ? kAlignment : rounded);
  return static_cast<std::byte*>(p);
}
}  // namespace

size_t dtype_size(DType t) {
  switch (t) {
    case DType::kF32:
      return 4;
    case DType::kS8:
      return 1;
    case DType::kU8:
      return 1;
    case DType::kS32:
      return 4;
    case DType::kS16:
      return 2;
  }
  return 0;
}

std::string_view dtype_name(DType t) {
  switch (t) {
    case DType::kF32:
      return "f32";
    case DType::kS8:
      return "s8";
    case DType::kU8:
      return "u8";
    case DType::kS32:
      return "s32";
    case DType::kS16:
      return "s16";
  }
  return "?";
}

Result<DType> parse_dtype(std::string_view name) {
  for (DType t : {DType::kF32, DType::kS8, DType::kU8, DType::kS32, DType::kS16}) {
    if (dtype_name(t) == name) return t;
  }
  return invalid_argument("cannot parse dtype: name = '{}', must be f32, s8, u8, s32 or s16", name);
}

int64_t shape_numel(const Shape& s) {
  int64_t n = 1;
  for (int64_t d : s) n *= d;
  return n;
}

std::string shape_to_string(const Shape& s) { return fmt::format("[{}]", fmt::join(s, ", ")); }

void Tensor::AlignedFree::operator()(std::byte* p) const { std::free(p); }

Tensor Tensor::zeros(DType dtype, Shape shape) {
  Tensor t;
  t.dtype_ = dtype;
  t.numel_ = shape_numel(shape);
  t.shape_ = std::move(shape);
  t.data_.reset(aligned_alloc_zeroed(t.nbytes()));
  return t;
}

Tensor::Tensor(const Tensor& other)
    : dtype_(other.dtype_), shape_(other.shape_), numel_(other.numel_) {
  if (other.data_) {
    data_.reset(aligned_alloc_zeroed(nbytes()));
    std::memcpy(data_.get(), other.data_.get(), nbytes());
  }
}

Tensor& Tensor::operator=(const Tensor& other) {
  if (this != &other) *this = Tensor(other);
  return *this;
}

Status Tensor::reshape(Shape shape) {
  if (shape_numel(shape) != numel_) {
    return invalid_argument("cannot reshape tensor {}: shape = {}, must hold {} elements",
                            shape_to_string(shape_), shape_to_string(shape), numel_);
  }
  shape_ = std::move(shape);
  return {};
}

void Tensor::check_type(DType want) const {
  if (want != dtype_) {
    std::fprintf(stderr, "ei8: tensor of dtype %s accessed as %s\n",
                 std::string(dtype_name(dtype_)).c_str(), std::string(dtype_name(want)).c_str());
    std::abort();
  }
}

}  // namespace ei8
