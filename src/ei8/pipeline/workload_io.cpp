#include "ei8/pipeline/workload_io.h"

#include <filesystem>

#include "ei8/arch/model_workload.h"
#include "ei8/arch/roofline.h"
#include "ei8/arch/scalesim_report.h"
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

Status add_sim_reports(OutputFiles& out, const std::string& dir,
                       const std::vector<arch::Layer>& layers,
                       const std::vector<arch::LayerStats>& stats, const arch::ArrayConfig& array,
                       const arch::EnergyTable* energy) {
  const arch::ScaleSimReports reports = arch::format_reports(stats);
  EI8_RETURN_IF_ERROR(out.add(dir + "/COMPUTE_REPORT.csv", reports.compute));
  EI8_RETURN_IF_ERROR(out.add(dir + "/BANDWIDTH_REPORT.csv", reports.bandwidth));
  EI8_RETURN_IF_ERROR(out.add(dir + "/DETAILED_ACCESS_REPORT.csv", reports.detailed));
  if (energy != nullptr) {
    std::vector<std::string> names;
    for (const arch::Layer& l : layers) names.push_back(l.name);
    EI8_RETURN_IF_ERROR(out.add(dir + "/ENERGY_REPORT.csv",
                                arch::format_energy_report(names, stats, *energy, array)));
    EI8_RETURN_IF_ERROR(
        out.add(dir + "/ROOFLINE_REPORT.csv", arch::format_roofline_report(names, stats, array)));
  }
  return {};
}

}  // namespace ei8::pipeline
