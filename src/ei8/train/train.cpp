// train.h's libtorch entry points: forwarded to the module libei8_torch.so (torch_api.h),
// loaded on first use.
#include <dlfcn.h>
#include <unistd.h>

#include <array>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <vector>

#include "ei8/train/torch_api.h"
#include "ei8/train/train.h"

namespace ei8::train {
namespace {

constexpr const char* kModuleName = "libei8_torch.so";

// Where the module may be: $EI8_TORCH_MODULE, beside the program, the build tree.
std::vector<std::string> module_candidates() {
  std::vector<std::string> out;
  if (const char* env = std::getenv("EI8_TORCH_MODULE"); env != nullptr && *env != '\0') {
    out.emplace_back(env);
  }
  std::array<char, 4096> self{};
  if (const ssize_t n = readlink("/proc/self/exe", self.data(), self.size() - 1); n > 0) {
    out.push_back(
        (std::filesystem::path(std::string(self.data(), static_cast<size_t>(n))).parent_path() /
         kModuleName)
            .string());
  }
#ifdef EI8_TORCH_MODULE_PATH
  out.emplace_back(EI8_TORCH_MODULE_PATH);
#endif
  return out;
}

struct Loaded {
  const TorchApi* api = nullptr;
  Status error;
};

const Loaded& load_module() {
  static Loaded loaded;
  static std::once_flag once;
  std::call_once(once, [] {
    // libtorch's OpenMP workers busy-wait between parallel regions by default; on a machine
    // shared with other work that made training steps 10-40× slower. libgomp reads the policy
    // when it loads, i.e. with the module: an explicit OMP_WAIT_POLICY is respected.
    setenv("OMP_WAIT_POLICY", "PASSIVE", /*overwrite=*/0);
    std::string tried;
    for (const std::string& path : module_candidates()) {
      if (!std::filesystem::exists(path)) {
        tried += fmt::format("{}{} (missing)", tried.empty() ? "" : ", ", path);
        continue;
      }
      void* h = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
      if (h == nullptr) {
        tried += fmt::format("{}{} ({})", tried.empty() ? "" : ", ", path, dlerror());
        continue;
      }
      auto* entry = reinterpret_cast<const TorchApi* (*)()>(dlsym(h, "ei8_torch_api"));
      const TorchApi* api = entry != nullptr ? entry() : nullptr;
      if (api == nullptr || api->version != kTorchApiVersion) {
        tried += fmt::format("{}{} (not this build's module)", tried.empty() ? "" : ", ", path);
        continue;  // the handle stays open: unloading libtorch is not safe
      }
      loaded.api = api;
      return;
    }
    loaded.error = unsupported(
        "cannot load the libtorch module {}: tried {}; build with EI8_WITH_TORCH=ON (the "
        "release preset) or set EI8_TORCH_MODULE",
        kModuleName, tried.empty() ? "nothing" : tried);
  });
  return loaded;
}

Result<const TorchApi*> api() {
  const Loaded& l = load_module();
  if (l.api == nullptr) return l.error;
  return l.api;
}

}  // namespace

Result<TrainResult> train_model(const TrainOptions& options) {
  EI8_ASSIGN_OR_RETURN(const TorchApi* a, api());
  return a->train_model(options);
}

Result<ModelWeights> load_checkpoint(const std::string& path) {
  EI8_ASSIGN_OR_RETURN(const TorchApi* a, api());
  return a->load_checkpoint(path);
}

Result<Tensor> torch_forward(const std::string& checkpoint, const Tensor& x, int threads) {
  EI8_ASSIGN_OR_RETURN(const TorchApi* a, api());
  return a->torch_forward(checkpoint, x, threads);
}

Result<double> torch_accuracy(const std::string& checkpoint, const data::Dataset& d, int threads) {
  EI8_ASSIGN_OR_RETURN(const TorchApi* a, api());
  return a->torch_accuracy(checkpoint, d, threads);
}

int64_t workload_params(Workload w, int64_t in_channels) {
  auto a = api();
  return a.ok() ? a.value()->workload_params(w, in_channels) : -1;
}

}  // namespace ei8::train
