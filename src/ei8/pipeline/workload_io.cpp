#include "ei8/pipeline/workload_io.h"

#include <filesystem>

#include "ei8/arch/model_workload.h"
#include "ei8/graph/onnx/onnx_io.h"
#include "ei8/graph/shape_inference.h"

namespace ei8::pipeline {

Result<arch::Workload> load_workload_file(const std::string& path, arch::TopologyFormat format) {
  if (std::filesystem::path(path).extension() != ".onnx") return arch::load_workload(path, format);
  EI8_ASSIGN_OR_RETURN(Graph g, load_onnx(path));
  EI8_RETURN_IF_ERROR(infer_shapes(g));
  EI8_ASSIGN_OR_RETURN(arch::Workload w, arch::workload_from_graph(g));
  w.name = std::filesystem::path(path).stem().string();
  return w;
}

}  // namespace ei8::pipeline
