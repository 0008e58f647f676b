#include "ei8/runtime/kernels/cpu_features.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <string>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

#include <fmt/format.h>

namespace ei8::kernels {
namespace {

CpuFeatures detect() {
  CpuFeatures f;
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  f.avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  f.avx512 = f.avx2 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
             __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq");
  f.avx512vnni = f.avx512 && __builtin_cpu_supports("avx512vnni");
#endif
  // EI8_ISA caps the level (never raises it above what the CPU has).
  if (const char* cap = std::getenv("EI8_ISA")) {
    const std::string c(cap);
    if (c == "portable") f = CpuFeatures{};
    if (c == "avx2") f.avx512 = f.avx512vnni = false;
    if (c == "avx512") f.avx512vnni = false;
  }
  return f;
}

}  // namespace

const CpuFeatures& cpu_features() {
  static const CpuFeatures features = detect();
  return features;
}

bool isa_available(Isa isa) {
  const CpuFeatures& f = cpu_features();
  switch (isa) {
    case Isa::kPortable:
      return true;
    case Isa::kAvx2:
      return f.avx2;
    case Isa::kAvx512:
      return f.avx512;
    case Isa::kAvx512Vnni:
      return f.avx512vnni;
  }
  return false;
}

Isa best_isa() {
  for (Isa isa : {Isa::kAvx512Vnni, Isa::kAvx512, Isa::kAvx2}) {
    if (isa_available(isa)) return isa;
  }
  return Isa::kPortable;
}

std::vector<Isa> available_isas() {
  std::vector<Isa> out;
  for (Isa isa : {Isa::kPortable, Isa::kAvx2, Isa::kAvx512, Isa::kAvx512Vnni}) {
    if (isa_available(isa)) out.push_back(isa);
  }
  return out;
}

std::string_view isa_name(Isa isa) {
  switch (isa) {
    case Isa::kPortable:
      return "portable";
    case Isa::kAvx2:
      return "avx2";
    case Isa::kAvx512:
      return "avx512";
    case Isa::kAvx512Vnni:
      return "avx512vnni";
  }
  return "?";
}

const std::string& cpu_model_id() {
  static const std::string id = [] {
    std::string brand = "unknown cpu", vendor = "unknown";
    unsigned family = 0, model = 0;
#if defined(__x86_64__) || defined(__i386__)
    unsigned a = 0, b = 0, c = 0, d = 0;
    if (__get_cpuid(0, &a, &b, &c, &d)) {
      char v[13] = {};
      std::memcpy(v, &b, 4);
      std::memcpy(v + 4, &d, 4);
      std::memcpy(v + 8, &c, 4);
      vendor = v;
    }
    if (__get_cpuid(1, &a, &b, &c, &d)) {
      family = (a >> 8) & 0xf;
      model = (a >> 4) & 0xf;
      if (family == 0xf) family += (a >> 20) & 0xff;
      if (family == 0x6 || family >= 0xf) model |= ((a >> 16) & 0xf) << 4;
    }
    char br[49] = {};
    bool ok = true;
    for (unsigned i = 0; i < 3 && ok; ++i) {
      ok = __get_cpuid(0x80000002 + i, &a, &b, &c, &d) != 0;
      std::memcpy(br + 16 * i, &a, 4);
      std::memcpy(br + 16 * i + 4, &b, 4);
      std::memcpy(br + 16 * i + 8, &c, 4);
      std::memcpy(br + 16 * i + 12, &d, 4);
    }
    if (ok) {
      brand = br;
      brand.erase(0, brand.find_first_not_of(' '));
      brand.erase(brand.find_last_not_of(' ') + 1);
    }
#endif
    std::string s = fmt::format("{} ({} family {} model {}) {}", brand, vendor, family, model,
                                isa_name(best_isa()));
    std::replace(s.begin(), s.end(), '\t', ' ');
    return s;
  }();
  return id;
}

}  // namespace ei8::kernels
