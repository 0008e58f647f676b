#include "ei8/arch/workload.h"

#include <filesystem>
#include <fstream>

#include "ei8/arch/model_workload.h"

namespace ei8::arch {

Status append_conv(Workload& w, const ConvOp& op) {
  const std::pair<const char*, int64_t> pos[] = {
      {"in_h", op.in_h},         {"in_w", op.in_w},         {"in_c", op.in_c},
      {"k_h", op.k_h},           {"k_w", op.k_w},           {"out_c", op.out_c},
      {"stride_h", op.stride_h}, {"stride_w", op.stride_w}, {"groups", op.groups}};
  for (const auto& [what, v] : pos) {
    if (v < 1)
      return invalid_argument("cannot map conv '{}': {} = {}, must be >= 1", op.name, what, v);
  }
  for (int64_t p : op.pad) {
    if (p < 0) return invalid_argument("cannot map conv '{}': pad = {}, must be >= 0", op.name, p);
  }
  if (op.dilation_h != 1 || op.dilation_w != 1) {
    return unsupported(
        "cannot map conv '{}': dilation = {}x{}, must be 1 (a systolic SCALE-Sim "
        "layer has no dilation)",
        op.name, op.dilation_h, op.dilation_w);
  }
  if (op.in_c % op.groups != 0 || op.out_c % op.groups != 0) {
    return invalid_argument(
        "cannot map conv '{}': groups = {}, must divide in_c = {} and out_c = {}", op.name,
        op.groups, op.in_c, op.out_c);
  }
  const int64_t ph = op.in_h + op.pad[0] + op.pad[2], pw = op.in_w + op.pad[1] + op.pad[3];
  if (op.k_h > ph || op.k_w > pw) {
    return invalid_argument("cannot map conv '{}': kernel = {}x{}, must fit the padded input {}x{}",
                            op.name, op.k_h, op.k_w, ph, pw);
  }
  const int64_t oh = (ph - op.k_h) / op.stride_h + 1, ow = (pw - op.k_w) / op.stride_w + 1;
  Layer l;
  l.ifmap_h = (oh - 1) * op.stride_h + op.k_h;  // trimmed: SCALE-Sim's ceil gives exactly oh
  l.ifmap_w = (ow - 1) * op.stride_w + op.k_w;
  l.filter_h = op.k_h;
  l.filter_w = op.k_w;
  l.channels = op.in_c / op.groups;
  l.num_filters = op.out_c / op.groups;
  l.stride_h = op.stride_h;
  l.stride_w = op.stride_w;
  for (int64_t g = 0; g < op.groups; ++g) {
    l.name = op.groups == 1 ? op.name : fmt::format("{}_g{}", op.name, g);
    EI8_RETURN_IF_ERROR(validate_layer(l));
    w.layers.push_back(l);
  }
  return {};
}

Status append_gemm(Workload& w, const std::string& name, int64_t m, int64_t n, int64_t k) {
  Layer l;
  l.name = name;
  l.ifmap_h = m;
  l.ifmap_w = k;
  l.filter_h = 1;
  l.filter_w = k;
  l.channels = 1;
  l.num_filters = n;
  EI8_RETURN_IF_ERROR(validate_layer(l));
  w.layers.push_back(l);
  return {};
}

Result<Workload> load_workload(const std::string& path, TopologyFormat format) {
  EI8_ASSIGN_OR_RETURN(Topology t, read_topology_csv(path, format));
  Workload w;
  w.name = t.name;
  w.layers = std::move(t.layers);
  w.warnings = std::move(t.warnings);
  return w;
}

Status write_text_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) return io_error("cannot write file: path = '{}'", path);
  return {};
}

}  // namespace ei8::arch
