// The one dispatcher of the FP32 elementwise binary ops (eltwise_f32.h): tier choice and the
// call into the tier's translation unit.
#include "ei8/runtime/kernels/eltwise_f32.h"

#include "ei8/runtime/kernels/cpu_features.h"
#include "ei8/runtime/kernels/f32_internal.h"

namespace ei8::kernels {

std::vector<KernelChoice> registered_eltwise_kernels() {
  return {KernelChoice::kRef, KernelChoice::kGeneric, KernelChoice::kAvx2};
}

// The one table that maps the elementwise ops to a tier (STYLE.md 4): AVX2 when the CPU (and
// EI8_ISA) has it, else the portable vectors. AVX-512 adds nothing here (these ops are load /
// store bound on data that lives in L1/L2), so AVX-512 machines use the AVX2 tier.
Result<KernelChoice> prepare_eltwise_tier(KernelChoice choice) {
  if (choice == KernelChoice::kAuto) {
    return isa_available(Isa::kAvx2) ? KernelChoice::kAvx2 : KernelChoice::kGeneric;
  }
  if (!kernel_choice_available(choice)) {
    return unsupported(
        "cannot prepare elementwise op: kernel = {}, must be available on this CPU (isa {})",
        kernel_choice_name(choice), isa_name(best_isa()));
  }
  // The AVX-512 tiers (FP32 kAvx512, INT8 kAvx512Vnni) run these ops on AVX2.
  return choice == KernelChoice::kAvx512Vnni || choice == KernelChoice::kAvx512
             ? KernelChoice::kAvx2
             : choice;
}

void binary_f32(KernelChoice tier, BinaryOp op, const BroadcastPlan& plan, const float* a,
                const float* b, float* y, bool relu) {
  const BinaryArgs args{op, &plan, a, b, y, relu};
  switch (tier) {
    case KernelChoice::kAvx2:
    case KernelChoice::kAvx512:
    case KernelChoice::kAvx512Vnni:
      binary_f32_avx2(args);
      return;
    case KernelChoice::kGeneric:
      binary_f32_generic(args);
      return;
    case KernelChoice::kAuto:
    case KernelChoice::kRef:
      break;
  }
  binary_f32_ref(op, plan, a, b, y, relu);
}

}  // namespace ei8::kernels
