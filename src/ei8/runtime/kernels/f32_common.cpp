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
    case KernelChoice::kAvx512Vnni:
      return isa_available(Isa::kAvx512Vnni);
  }
  return false;
}

std::vector<KernelChoice> registered_f32_kernels() {
  return {KernelChoice::kRef, KernelChoice::kGeneric, KernelChoice::kAvx2};
}

// The one table that maps the FP32 ops to the best tier (STYLE.md 4). AVX-512 adds nothing
// for FP32 on the AMD cores we target (Zen 4 executes 512-bit FMAs as two 256-bit halves, the
// same 16 MAC/cycle as AVX2), so the AVX-512 machines use the AVX2 tier; see docs/kernels.md.
KernelChoice resolve_kernel_choice(KernelChoice c) {
  if (c != KernelChoice::kAuto) return c;
  if (isa_available(Isa::kAvx2)) return KernelChoice::kAvx2;
  return KernelChoice::kGeneric;
}

}  // namespace ei8::kernels
