// ei8/quant/int8_engine.h — the INT8 runtime (runtime/int8_lowering.h) for a QuantizedModel: an
// executor of its integer graph and its latency, with the model's requantization profile.
//
//   EI8_ASSIGN_OR_RETURN(QuantizedModel m, quantize_model(g, table, options));
//   EI8_ASSIGN_OR_RETURN(Executor ex, make_int8_executor(m));
//   EI8_ASSIGN_OR_RETURN(double us_b32, int8_latency_us(m, 32));
#pragma once

#include "ei8/quant/ptq.h"
#include "ei8/runtime/executor.h"

namespace ei8::quant {

// The profile of the model's integer layers (m.profile).
fixedpoint::RequantProfile model_profile(const QuantizedModel& m);

// Executor of m.qdq lowered to integer ops (one thread unless options say otherwise).
Result<Executor> make_int8_executor(const QuantizedModel& m, ExecutorOptions options = {});

// Median µs per run of the integer engine at `batch` (≥ 1), one thread, `iters` timed runs.
Result<double> int8_latency_us(const QuantizedModel& m, int64_t batch, int iters = 20);

}  // namespace ei8::quant
