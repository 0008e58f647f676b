#include "ei8/runtime/kernels/f32_common.h"

#include "ei8/runtime/kernels/cpu_features.h"

namespace ei8::kernels {

std::string_view kernel_choice_name(KernelChoice c) {
  switch (c) {
    case KernelChoice::kAuto:
      return "auto";
    case KernelChoice::kRef:
      return "ref";
    case KernelChoice::kGeneric:
      return "generic";
    case KernelChoice::kAvx2:
      return "avx2";
    case KernelChoice::kAvx512:
      return "avx512";
    case KernelChoice::kAvx512Vnni:
      return "avx512vnni";
  }
  return "?";
}

bool kernel_choice_available(KernelChoice c) {
  switch (c) {
    case KernelChoice::kAuto:
    case KernelChoice::kRef:
    case KernelChoice::kGeneric:
      return true;
    case KernelChoice::kAvx2:
      return isa_available(Isa::kAvx2);
    case KernelChoice::kAvx512:
      return isa_available(Isa::kAvx512);
    case KernelChoice::kAvx512Vnni:
      return isa_available(Isa::kAvx512Vnni);
  }
  return false;
}

std::vector<KernelChoice> registered_f32_kernels() {
  return {KernelChoice::kRef, KernelChoice::kGeneric, KernelChoice::kAvx2, KernelChoice::kAvx512};
}

// The one table that maps the FP32 Conv/Gemm to the best tier (STYLE.md 4): AVX-512 (16-lane
// zmm, 32 registers) > AVX2 > portable. Zen 4 executes a zmm FMA as two 256-bit halves (the
// same FMA peak as AVX2) but keeps the 32 registers and half the instructions; Intel cores
// and Zen 5 double the peak. docs/kernels.md has the measurements.
KernelChoice resolve_kernel_choice(KernelChoice c) {
  if (c != KernelChoice::kAuto) return c;
  if (isa_available(Isa::kAvx512)) return KernelChoice::kAvx512;
  if (isa_available(Isa::kAvx2)) return KernelChoice::kAvx2;
  return KernelChoice::kGeneric;
}

}  // namespace ei8::kernels
