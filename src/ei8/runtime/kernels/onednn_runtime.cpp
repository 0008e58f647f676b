// ei8/runtime/kernels/onednn_runtime.cpp — see onednn_runtime.h.
#include "ei8/runtime/kernels/onednn_runtime.h"

#include "ei8/runtime/kernels/cpu_features.h"

#ifdef EI8_HAVE_ONEDNN
#include <omp.h>

#include <mutex>
#endif

namespace ei8::kernels::onednn {

#ifdef EI8_HAVE_ONEDNN
namespace {

// Caps oneDNN at our tier (EI8_ISA) before its first primitive; returns its effective ISA.
dnnl::cpu_isa effective_isa() {
  static const dnnl::cpu_isa isa = [] {
    dnnl::cpu_isa cap = dnnl::cpu_isa::all;
    switch (best_isa()) {
      case Isa::kPortable:
        cap = dnnl::cpu_isa::sse41;
        break;
      case Isa::kAvx2:
        cap = dnnl::cpu_isa::avx2_vnni;
        break;  // AVX2 (+ AVX-VNNI if present)
      case Isa::kAvx512:
        cap = dnnl::cpu_isa::avx512_core;
        break;
      case Isa::kAvx512Vnni:
        break;  // everything oneDNN finds, AMX included
    }
    // Fails only if a primitive was created before (then the first cap stays).
    (void)dnnl::set_max_cpu_isa(cap);
    return dnnl::get_effective_cpu_isa();
  }();
  return isa;
}

}  // namespace

bool available() {
  const dnnl::cpu_isa isa = effective_isa();
  return isa != dnnl::cpu_isa::sse41 && isa != dnnl::cpu_isa::avx;
}

bool int8_exact() {
  switch (effective_isa()) {
    case dnnl::cpu_isa::avx2_vnni:
    case dnnl::cpu_isa::avx512_core_vnni:
    case dnnl::cpu_isa::avx512_core_bf16:
    case dnnl::cpu_isa::avx512_core_amx:
      return true;
    default:
      return false;
  }
}

std::string isa_name() {
  switch (effective_isa()) {
    case dnnl::cpu_isa::sse41:
      return "sse41";
    case dnnl::cpu_isa::avx:
      return "avx";
    case dnnl::cpu_isa::avx2:
      return "avx2";
    case dnnl::cpu_isa::avx2_vnni:
      return "avx2_vnni";
    case dnnl::cpu_isa::avx512_core:
      return "avx512_core";
    case dnnl::cpu_isa::avx512_core_vnni:
      return "avx512_core_vnni";
    case dnnl::cpu_isa::avx512_core_bf16:
      return "avx512_core_bf16";
    case dnnl::cpu_isa::avx512_core_amx:
      return "avx512_core_amx";
    default:
      return "other";
  }
}

dnnl::engine& engine() {
  static dnnl::engine* eng = [] {
    (void)effective_isa();
    return new dnnl::engine(dnnl::engine::kind::cpu, 0);  // lives as long as the process
  }();
  return *eng;
}

dnnl::stream& stream() {
  // On every call, not once per thread: a libtorch training on this thread (train/trainer.cpp
  // sets its own team size) may have raised the OpenMP ICV since the last oneDNN call, and
  // oneDNN's choice of implementation depends on the team size.
  if (omp_get_max_threads() != 1) omp_set_num_threads(1);
  thread_local dnnl::stream s(engine());
  return s;
}

#else

bool available() { return false; }
bool int8_exact() { return false; }
std::string isa_name() { return ""; }

#endif

}  // namespace ei8::kernels::onednn
