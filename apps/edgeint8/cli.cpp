#include "cli.h"

#include <fmt/ranges.h>

#include "ei8/core/npy.h"

#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <filesystem>

namespace ei8::cli {

Status& pending_status() {
  static Status status;
  return status;
}

void set_action(CLI::App* sub, std::function<Status()> action) {
  sub->callback([action = std::move(action)] { pending_status() = action(); });
}

void warn(std::string_view message) { fmt::print(stderr, "edgeint8: warning: {}\n", message); }

bool same_file(const std::string& a, const std::string& b) {
  namespace fs = std::filesystem;
  std::error_code ea, eb;
  const fs::path pa = fs::weakly_canonical(fs::absolute(a, ea), ea);
  const fs::path pb = fs::weakly_canonical(fs::absolute(b, eb), eb);
  if (ea || eb) return a == b;
  return pa == pb;
}

Status check_output_path(const std::string& path, std::string_view option) {
  namespace fs = std::filesystem;
  if (path.empty()) {
    return invalid_argument("cannot write output: {} = '', must name a file", option);
  }
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    return invalid_argument("cannot write {}: {} = a directory, must name a file", path, option);
  }
  const fs::path p(path);
  const fs::path dir = p.has_parent_path() ? p.parent_path() : fs::path(".");
  if (!fs::is_directory(dir, ec)) {
    return invalid_argument("cannot write {}: {} directory '{}' = missing, must exist", path,
                            option, dir.string());
  }
  if (::access(dir.c_str(), W_OK) != 0) {
    return invalid_argument("cannot write {}: {} directory '{}' = not writable, must be writable",
                            path, option, dir.string());
  }
  return {};
}

Status check_input_file(const std::string& path, std::string_view option) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (path.empty()) return invalid_argument("cannot read input: {} = '', must name a file", option);
  if (!fs::exists(path, ec)) {
    return not_found("cannot read {}: {} = missing file, must exist", path, option);
  }
  if (fs::is_directory(path, ec)) {
    return invalid_argument("cannot read {}: {} = a directory, must be a file", path, option);
  }
  if (::access(path.c_str(), R_OK) != 0) {
    return invalid_argument("cannot read {}: {} = not readable, must be readable", path, option);
  }
  return {};
}

Status check_tune_file(const std::string& path, std::initializer_list<std::string> others) {
  std::error_code ec;
  if (!path.empty() && std::filesystem::exists(path, ec)) {
    EI8_RETURN_IF_ERROR(check_input_file(path, "--tune"));
  }
  EI8_RETURN_IF_ERROR(check_output_path(path, "--tune"));
  for (const std::string& other : others) {
    if (!other.empty() && same_file(path, other)) {
      return invalid_argument(
          "cannot use tuning file {}: --tune = the same file as {}, must be "
          "another file",
          path, other);
    }
  }
  return {};
}

Status check_model_file(const std::string& path, std::string_view option) {
  EI8_RETURN_IF_ERROR(check_input_file(path, option));
  std::error_code ec;
  if (std::filesystem::file_size(path, ec) == 0 && !ec) {
    return invalid_argument("cannot read {}: {} size = 0 bytes, must be an ONNX model", path,
                            option);
  }
  return {};
}

Status check_finite(const Tensor& t, std::string_view what, std::string_view hint) {
  if (t.dtype() != DType::kF32) return {};
  const std::span<const float> v = t.span<float>();
  for (size_t i = 0; i < v.size(); ++i) {
    if (std::isfinite(v[i])) continue;
    // The index per dimension, row-major.
    std::vector<int64_t> idx(t.shape().size());
    size_t rest = i;
    for (size_t d = idx.size(); d-- > 0;) {
      const auto n = static_cast<size_t>(t.shape()[d]);
      idx[d] = static_cast<int64_t>(n == 0 ? 0 : rest % n);
      rest = n == 0 ? 0 : rest / n;
    }
    return invalid_argument("cannot use {}: element {} (index [{}]) = {}, must be finite{}", what,
                            i, fmt::join(idx, ", "), v[i], hint);
  }
  return {};
}

Status check_topology_file(const std::string& path, std::string_view option) {
  EI8_RETURN_IF_ERROR(check_input_file(path, option));
  EI8_ASSIGN_OR_RETURN(std::string text, read_file(path));
  if (text.empty()) {
    return invalid_argument(
        "cannot read topology {}: size = 0 bytes, must hold a header line and one row per layer",
        path);
  }
  for (size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == 0 || c == 0x7f ||
        (c < 0x20 && c != '\n' && c != '\r' && c != '\t' && c != '\f' && c != '\v')) {
      return invalid_argument("cannot read topology {}: byte {} = 0x{:02x}, must be text (a CSV)",
                              path, i, c);
    }
  }
  auto trim = [](std::string_view v) {
    const size_t b = v.find_first_not_of(" \t\r\f\v");
    if (b == std::string_view::npos) return std::string_view{};
    return v.substr(b, v.find_last_not_of(" \t\r\f\v") - b + 1);
  };
  std::vector<std::string_view> lines;
  for (std::string_view rest = text; !rest.empty();) {
    const size_t nl = rest.find('\n');
    lines.push_back(rest.substr(0, nl));
    rest = nl == std::string_view::npos ? std::string_view{} : rest.substr(nl + 1);
  }
  const bool any_layer = std::any_of(lines.begin() + 1, lines.end(),
                                     [&](std::string_view l) { return !trim(l).empty(); });
  if (!any_layer) {
    return invalid_argument(
        "cannot read topology {}: layers = 0 (a header line only), must be >= 1 (one row per "
        "layer after the header)",
        path);
  }
  // SCALE-Sim reads line 1 as the header whatever it holds: a layer there is silently lost.
  std::vector<std::string_view> fields;
  for (std::string_view rest = lines[0];;) {
    const size_t comma = rest.find(',');
    fields.push_back(trim(rest.substr(0, comma)));
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  int numeric = 0;
  for (size_t i = 1; i < fields.size(); ++i) {
    int64_t v = 0;
    const std::string_view f = fields[i];
    auto [ptr, ec] = std::from_chars(f.data(), f.data() + f.size(), v);
    numeric += !f.empty() && ec == std::errc() && ptr == f.data() + f.size();
  }
  if (numeric >= 3) {
    warn(fmt::format(
        "{}:1: '{}' looks like a layer, but line 1 is read as the header (as SCALE-Sim does), so "
        "layer '{}' is not simulated; add a header line above it",
        path, trim(lines[0]), fields[0]));
  }
  return {};
}

Status check_float_model(const Graph& g, const std::string& path, std::string_view action) {
  for (const Node& n : g.nodes()) {
    const std::string& op = n.op_type;
    if (op == "QuantizeLinear" || op == "DequantizeLinear" || op.rfind("QLinear", 0) == 0 ||
        op == "ConvInteger" || op == "MatMulInteger") {
      return invalid_argument(
          "cannot {} {}: model = already quantized (it has {} nodes), must be a float model (give "
          "the FP32 model it was made from)",
          action, path, op);
    }
  }
  return {};
}

Result<std::vector<int64_t>> parse_int_list(std::string_view text, std::string_view what) {
  std::vector<int64_t> out;
  while (!text.empty()) {
    const size_t comma = text.find_first_of(",x");
    const std::string_view item = text.substr(0, comma);
    int64_t v = 0;
    auto [ptr, ec] = std::from_chars(item.data(), item.data() + item.size(), v);
    if (ec != std::errc() || ptr != item.data() + item.size()) {
      return invalid_argument("cannot parse {}: item = '{}', must be an integer", what, item);
    }
    out.push_back(v);
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  if (out.empty()) return invalid_argument("cannot parse {}: value is empty", what);
  return out;
}

}  // namespace ei8::cli
