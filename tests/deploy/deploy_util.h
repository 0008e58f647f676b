// Helpers of the deploy tests: temporary directories, raw float files, the engine's output.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "ei8/core/tensor.h"
#include "ei8/deploy/toolchain.h"
#include "ei8/graph/graph.h"
#include "ei8/runtime/executor.h"
#include "ei8/runtime/int8_ops.h"

namespace ei8::deploy::testing {

namespace fs = std::filesystem;

// A fresh directory under the system temp dir, removed with the object.
class TempDir {
 public:
  explicit TempDir(const std::string& tag) {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    std::string name = info != nullptr ? info->name() : "suite";
    for (char& c : name) {
      if (c == '/') c = '_';
    }
    path_ = fs::temp_directory_path() /
            ("ei8_deploy_" + std::to_string(::getpid()) + "_" + tag + "_" + name);
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  std::string operator/(const std::string& name) const { return (path_ / name).string(); }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

inline void write_f32(const std::string& path, std::span<const float> v) {
  std::ofstream os(path, std::ios::binary);
  os.write(reinterpret_cast<const char*>(v.data()), static_cast<std::streamsize>(v.size() * 4));
}

inline std::vector<float> read_f32(const std::string& path) {
  std::ifstream is(path, std::ios::binary | std::ios::ate);
  const auto n = static_cast<size_t>(is.tellg());
  std::vector<float> v(n / 4);
  is.seekg(0);
  is.read(reinterpret_cast<char*>(v.data()), static_cast<std::streamsize>(v.size() * 4));
  return v;
}

// Outputs of the integer engine on `lowered` (the integer graph) for `x` [N, ...].
inline Result<Tensor> engine_output(const Graph& lowered, const Tensor& x) {
  register_int8_ops();
  EI8_ASSIGN_OR_RETURN(Executor ex, Executor::create(lowered, {.optimize = false}));
  EI8_RETURN_IF_ERROR(ex.prepare({x.shape()}));
  EI8_ASSIGN_OR_RETURN(std::vector<Tensor> out, ex.run({x}));
  return std::move(out[0]);
}

// Bit patterns equal, element by element; counts differences.
inline int64_t count_bit_differences(std::span<const float> a, std::span<const float> b) {
  if (a.size() != b.size()) return -1;
  int64_t d = 0;
  for (size_t i = 0; i < a.size(); ++i) d += std::memcmp(&a[i], &b[i], 4) != 0;
  return d;
}

inline bool host_tools() { return missing_tools(Target::kHost, false).empty(); }
inline bool arm_tools(bool qemu) { return missing_tools(Target::kCortexM4, qemu).empty(); }

}  // namespace ei8::deploy::testing
