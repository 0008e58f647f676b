// Helpers shared by the runtime tests.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>

#include "ei8/core/tensor.h"

namespace ei8::testing {

inline std::string model_path(const std::string& name) {
  return std::string(EI8_TEST_DATA_DIR) + "/models/" + name + ".onnx";
}
inline std::string data_path(const std::string& name, const std::string& suffix) {
  return std::string(EI8_TEST_DATA_DIR) + "/models/" + name + suffix;
}

// The FP32 comparison policy against another runtime: max |a - b| <= 1e-4 · max(1, max |b|)
// (ISSUE 3: "relative to output magnitude"). Returns the max absolute difference.
inline float max_abs_diff(const Tensor& a, const Tensor& b) {
  float d = 0;
  auto x = a.span<float>();
  auto y = b.span<float>();
  for (size_t i = 0; i < std::min(x.size(), y.size()); ++i) d = std::max(d, std::abs(x[i] - y[i]));
  return d;
}
inline float max_abs(const Tensor& a) {
  float m = 0;
  for (float v : a.span<float>()) m = std::max(m, std::abs(v));
  return m;
}
inline void expect_close_to(const Tensor& ours, const Tensor& theirs, const std::string& what) {
  ASSERT_EQ(ours.shape(), theirs.shape()) << what;
  const float d = max_abs_diff(ours, theirs);
  const float tol = 1e-4f * std::max(1.0f, max_abs(theirs));
  EXPECT_LE(d, tol) << what << ": max |diff| = " << d;
  std::printf("[ diff ] %s: max |ours - ref| = %.3g (|ref| max %.3g)\n", what.c_str(), d,
              max_abs(theirs));
}

inline const char* const kModels[] = {"cifar_resnet", "signal_cnn1d", "mobilenetish", "pools_mix",
                                      "hand_gemm_pad"};

}  // namespace ei8::testing
