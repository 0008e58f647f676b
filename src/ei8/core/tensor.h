// ei8/core/tensor.h — a dense, contiguous, row-major (NCHW for images, NCW for signals) tensor.
//
// A Tensor owns its bytes (64-byte aligned so SIMD kernels may use aligned loads) and copies
// deeply. The element type is one of the four types INT8 inference needs:
//   f32 — float activations and weights;  s8/u8 — quantized values;  s32 — accumulators, bias.
//
//   Tensor x = Tensor::zeros(DType::kF32, {1, 3, 32, 32});
//   std::span<float> v = x.span<float>();   // checked against dtype()
//   v[0] = 1.0f;
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include "ei8/core/status.h"

namespace ei8 {

// kS16: int16 activations of A16W8 layers (appended: the other values keep their numbers).
enum class DType : uint8_t { kF32, kS8, kU8, kS32, kS16 };

size_t dtype_size(DType t);
std::string_view dtype_name(DType t);  // "f32", "s8", "u8", "s32", "s16"
Result<DType> parse_dtype(std::string_view name);

template <typename T>
constexpr DType dtype_of() {
  if constexpr (std::is_same_v<T, float>) return DType::kF32;
  if constexpr (std::is_same_v<T, int8_t>) return DType::kS8;
  if constexpr (std::is_same_v<T, uint8_t>) return DType::kU8;
  if constexpr (std::is_same_v<T, int32_t>) return DType::kS32;
  if constexpr (std::is_same_v<T, int16_t>) return DType::kS16;
  static_assert(std::is_same_v<T, float> || std::is_same_v<T, int8_t> ||
                    std::is_same_v<T, uint8_t> || std::is_same_v<T, int32_t> ||
                    std::is_same_v<T, int16_t>,
                "Tensor element type must be float, int8_t, uint8_t, int32_t or int16_t");
}

// Dimensions, outermost first. Every dimension is ≥ 0.
using Shape = std::vector<int64_t>;
int64_t shape_numel(const Shape& s);
std::string shape_to_string(const Shape& s);  // "[1, 3, 32, 32]"

class Tensor {
 public:
  Tensor() = default;
  // A zero-filled tensor. Precondition: every dimension ≥ 0.
  static Tensor zeros(DType dtype, Shape shape);
  // A tensor holding a copy of `values`.
  template <typename T>
  static Tensor from(Shape shape, std::span<const T> values);
  template <typename T>
  static Tensor from(Shape shape, std::initializer_list<T> values) {
    return from<T>(std::move(shape), std::span<const T>(values.begin(), values.size()));
  }

  Tensor(const Tensor& other);
  Tensor& operator=(const Tensor& other);
  Tensor(Tensor&&) noexcept = default;
  Tensor& operator=(Tensor&&) noexcept = default;
  ~Tensor() = default;

  DType dtype() const { return dtype_; }
  const Shape& shape() const { return shape_; }
  int64_t rank() const { return static_cast<int64_t>(shape_.size()); }
  int64_t dim(int64_t i) const { return shape_[static_cast<size_t>(i)]; }
  int64_t numel() const { return numel_; }
  size_t nbytes() const { return static_cast<size_t>(numel_) * dtype_size(dtype_); }
  bool empty() const { return numel_ == 0; }

  // Typed views. Precondition: T matches dtype() (checked; a mismatch aborts).
  template <typename T>
  std::span<T> span() {
    check_type(dtype_of<T>());
    return {reinterpret_cast<T*>(data_.get()), static_cast<size_t>(numel_)};
  }
  template <typename T>
  std::span<const T> span() const {
    check_type(dtype_of<T>());
    return {reinterpret_cast<const T*>(data_.get()), static_cast<size_t>(numel_)};
  }
  template <typename T>
  T* data() {
    return span<T>().data();
  }
  template <typename T>
  const T* data() const {
    return span<T>().data();
  }
  std::byte* raw() { return data_.get(); }
  const std::byte* raw() const { return data_.get(); }

  // Same bytes, new shape. Fails when the element counts differ.
  Status reshape(Shape shape);

 private:
  struct AlignedFree {
    void operator()(std::byte* p) const;
  };
  void check_type(DType want) const;

  DType dtype_ = DType::kF32;
  Shape shape_;
  int64_t numel_ = 0;
  std::unique_ptr<std::byte[], AlignedFree> data_;
};

template <typename T>
Tensor Tensor::from(Shape shape, std::span<const T> values) {
  Tensor t = zeros(dtype_of<T>(), std::move(shape));
  t.check_type(dtype_of<T>());
  auto dst = t.span<T>();
  const size_t n = std::min(dst.size(), values.size());
  for (size_t i = 0; i < n; ++i) dst[i] = values[i];
  return t;
}

}  // namespace ei8
