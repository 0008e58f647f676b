// libFuzzer target: arbitrary bytes into the ONNX importer, then shape inference, the graph
// passes and the summary. Nothing may crash, leak, or trip ASan/UBSan; errors are fine.
// Build and run: scripts/fuzz.sh [seconds]
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "ei8/graph/onnx/onnx_io.h"
#include "ei8/graph/passes.h"
#include "ei8/graph/summary.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto g = ei8::parse_onnx(std::string_view(reinterpret_cast<const char*>(data), size), "fuzz");
  if (!g.ok()) return 0;
  ei8::Graph copy = g.value();
  (void)ei8::summarize(copy);
  if (ei8::optimize(copy).ok()) (void)ei8::summarize(copy, 2);
  return 0;
}
