// ei8/runtime/kernels/cpu_features.h — what the CPU can run, detected once.
//
// Kernels never check CPU features themselves (STYLE.md principle 4): each dispatcher asks
// `cpu_features()` and picks the best tier; tests and benchmarks force a tier by name.
// The environment variable EI8_ISA=portable|avx2|avx512|avx512vnni caps the detected level
// (for reproducing a result of a smaller machine on a bigger one).
//
//   if (cpu_features().avx512vnni) { ... }
//   for (Isa isa : available_isas()) test_variant(isa);
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace ei8::kernels {

// Instruction-set tiers in increasing order; each implies the ones before it.
enum class Isa { kPortable, kAvx2, kAvx512, kAvx512Vnni };

struct CpuFeatures {
  bool avx2 = false;        // AVX2 + FMA
  bool avx512 = false;      // AVX-512 F, BW, VL, DQ
  bool avx512vnni = false;  // AVX-512 VNNI (vpdpbusd)
};

const CpuFeatures& cpu_features();
bool isa_available(Isa isa);
Isa best_isa();
std::vector<Isa> available_isas();   // every tier this CPU runs, portable first
std::string_view isa_name(Isa isa);  // "portable", "avx2", "avx512", "avx512vnni"
// The CPU as a tuning file keys it: brand string, family and model from CPUID, and the tier
// level this process runs (EI8_ISA caps it), e.g.
// "Intel(R) Xeon(R) Processor (GenuineIntel family 6 model 207) avx512vnni". No tabs.
const std::string& cpu_model_id();

}  // namespace ei8::kernels
