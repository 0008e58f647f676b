// ei8/runtime/kernels/onednn_runtime.h — oneDNN (Debian libdnnl) as a source of plan candidates.
//
// oneDNN's convolutions are offered to the plan tuner beside our own tiers, never chosen blindly:
// a layer runs oneDNN only where it measured faster, and only where its results are ours (INT8:
// exact integer products and sums, i.e. VNNI or AMX; see int8_exact()). This header is the one
// place that knows whether oneDNN was compiled in (EI8_HAVE_ONEDNN, CMake option
// EI8_WITH_ONEDNN) and how it is driven: one CPU engine, one stream per calling thread, and one
// OpenMP thread per call (the executor owns the threads; oneDNN must not start its own team).
// oneDNN's ISA is capped like ours: EI8_ISA=avx2 makes oneDNN run AVX2 code too.
//
//   if (onednn::int8_exact()) { auto& eng = onednn::engine(); ... prim.execute(onednn::stream(),
//   args); }
#pragma once

#include <string>

#ifdef EI8_HAVE_ONEDNN
#include <oneapi/dnnl/dnnl.hpp>
#endif

namespace ei8::kernels::onednn {

// oneDNN was compiled in and runs on this CPU at (at least) AVX2.
bool available();
// oneDNN's u8 × s8 convolutions are exact here: its kernels for this ISA (AVX-512 VNNI,
// AVX-VNNI or AMX-INT8) sum products in int32 without the int16 saturation of vpmaddubsw.
bool int8_exact();
// oneDNN's effective ISA, e.g. "avx512_core_amx" ("" when oneDNN is not compiled in).
std::string isa_name();

#ifdef EI8_HAVE_ONEDNN
// The process's CPU engine (created on first use, after the ISA cap is applied).
dnnl::engine& engine();
// The calling thread's stream on engine(); every call also sets the calling thread's OpenMP team
// to one thread (call it before creating or executing a primitive), so oneDNN computes on the
// caller's thread only and picks the same implementation whatever ran on the thread before.
dnnl::stream& stream();
#endif

}  // namespace ei8::kernels::onednn
