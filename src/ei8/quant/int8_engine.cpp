#include "ei8/quant/int8_engine.h"

#include "ei8/runtime/int8_lowering.h"

namespace ei8::quant {

fixedpoint::RequantProfile model_profile(const QuantizedModel& m) { return m.profile; }

Result<Executor> make_int8_executor(const QuantizedModel& m, ExecutorOptions options) {
  return ei8::make_int8_executor(m.qdq, {.profile = model_profile(m)}, options);
}

Result<double> int8_latency_us(const QuantizedModel& m, int64_t batch, int iters) {
  return ei8::int8_latency_us(m.qdq, batch, iters, 3, {.profile = model_profile(m)});
}

}  // namespace ei8::quant
