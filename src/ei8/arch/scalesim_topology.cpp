#include "ei8/arch/scalesim_topology.h"

#include <charconv>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "ei8/core/npy.h"

namespace ei8::arch {
namespace {

std::string_view trim(std::string_view s) {
  const char* kSpace = " \t\r\n\f\v";
  const size_t b = s.find_first_not_of(kSpace);
  if (b == std::string_view::npos) return {};
  const size_t e = s.find_last_not_of(kSpace);
  return s.substr(b, e - b + 1);
}

std::vector<std::string_view> split_commas(std::string_view row) {
  std::vector<std::string_view> out;
  while (true) {
    const size_t c = row.find(',');
    out.push_back(row.substr(0, c));
    if (c == std::string_view::npos) break;
    row.remove_prefix(c + 1);
  }
  return out;
}

// Python int() on a stripped field, restricted to what a size can be: optional '+', digits.
Result<int64_t> parse_size(std::string_view field, std::string_view layer, std::string_view what) {
  std::string_view t = trim(field);
  std::string_view digits = t;
  if (!digits.empty() && digits.front() == '+') digits.remove_prefix(1);
  int64_t v = 0;
  auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
  if (digits.empty() || digits.front() == '-' || ec != std::errc() ||
      ptr != digits.data() + digits.size()) {
    if (!t.empty() && t.front() == '-') {
      return invalid_argument("cannot read layer '{}': {} = {}, must be an integer >= 1", layer,
                              what, t);
    }
    return invalid_argument("cannot read layer '{}': {} = '{}', must be an integer", layer, what,
                            t);
  }
  if (v < 1) {
    return invalid_argument("cannot read layer '{}': {} = {}, must be >= 1", layer, what, v);
  }
  return v;
}

constexpr const char* kConvFieldNames[] = {"name",       "IfmapH",  "IfmapW",
                                           "FilterH",    "FilterW", "Channels",
                                           "NumFilters", "StrideH", "StrideW"};
constexpr const char* kGemmFieldNames[] = {"name", "M", "N", "K"};

}  // namespace

Result<TopologyFormat> parse_topology_format(std::string_view text) {
  if (text == "conv") return TopologyFormat::kConv;
  if (text == "gemm") return TopologyFormat::kGemm;
  return invalid_argument("cannot parse topology format: -i = '{}', must be conv or gemm", text);
}

Status validate_layer(const Layer& l) {
  const std::pair<const char*, int64_t> sizes[] = {
      {"IfmapH", l.ifmap_h},   {"IfmapW", l.ifmap_w},    {"FilterH", l.filter_h},
      {"FilterW", l.filter_w}, {"Channels", l.channels}, {"NumFilters", l.num_filters},
      {"StrideH", l.stride_h}, {"StrideW", l.stride_w}};
  for (const auto& [what, v] : sizes) {
    if (v < 1) {
      return invalid_argument("cannot use layer '{}': {} = {}, must be >= 1", l.name, what, v);
    }
  }
  if (l.filter_h > l.ifmap_h) {
    return invalid_argument(
        "cannot use layer '{}': FilterH = {}, must be <= IfmapH = {} (the kernel is taller than "
        "the input; SCALE-Sim has no padding, enlarge the ifmap instead)",
        l.name, l.filter_h, l.ifmap_h);
  }
  if (l.filter_w > l.ifmap_w) {
    return invalid_argument(
        "cannot use layer '{}': FilterW = {}, must be <= IfmapW = {} (the kernel is wider than "
        "the input; SCALE-Sim has no padding, enlarge the ifmap instead)",
        l.name, l.filter_w, l.ifmap_w);
  }
  // Keep every derived count (E·K·N, addresses) far from int64 overflow.
  constexpr int64_t kMaxDim = int64_t{1} << 24;
  for (const auto& [what, v] : sizes) {
    if (v > kMaxDim) {
      return invalid_argument("cannot use layer '{}': {} = {}, must be <= {}", l.name, what, v,
                              kMaxDim);
    }
  }
  if (l.macs() > (int64_t{1} << 50)) {
    return invalid_argument("cannot use layer '{}': MACs = {}, must be <= 2^50", l.name, l.macs());
  }
  return {};
}

Result<Topology> parse_topology_csv(std::string_view text, std::string_view source,
                                    TopologyFormat format) {
  Topology topo;
  topo.name = std::filesystem::path(std::string(source)).stem().string();
  int line_no = 0;
  bool first = true;
  while (!text.empty()) {
    const size_t nl = text.find('\n');
    std::string_view raw = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    ++line_no;
    const std::string_view row = trim(raw);
    if (first) {  // the header, whatever it says (even when blank)
      first = false;
      continue;
    }
    if (row.empty()) continue;

    auto where = [&](const Status& s) {
      return s.with_context(fmt::format("{}:{}", source, line_no));
    };
    std::vector<std::string_view> fields = split_commas(row);
    const bool trailing_comma = fields.back().empty() || trim(fields.back()).empty();
    fields.pop_back();  // SCALE-Sim drops the last field: rows end with a trailing comma
    const std::string name(fields.empty() ? std::string_view{} : trim(fields[0]));

    const size_t need = format == TopologyFormat::kConv ? 8 : 4;
    if (fields.size() < need) {
      return where(invalid_argument(
          "cannot read layer '{}': fields = {}, must be at least {} ({}) followed by a trailing "
          "comma{}",
          name, fields.size(), need,
          format == TopologyFormat::kConv
              ? "name, IfmapH, IfmapW, FilterH, FilterW, Channels, NumFilters, Stride"
              : "name, M, N, K",
          trailing_comma ? "" : " (the row has no trailing comma, so its last value was dropped)"));
    }
    if (!trailing_comma) {
      topo.warnings.push_back(fmt::format(
          "{}:{}: layer '{}' has no trailing comma: its last value '{}' is ignored, as SCALE-Sim "
          "does",
          source, line_no, name, trim(row.substr(row.rfind(',') + 1))));
    }

    Layer layer;
    layer.name = name;
    layer.line = line_no;
    if (format == TopologyFormat::kConv) {
      int64_t v[9] = {};
      for (size_t i = 1; i < fields.size(); ++i) {
        const char* what = i < 9 ? kConvFieldNames[i] : "extra field";
        Result<int64_t> x = parse_size(fields[i], name, what);
        if (!x.ok()) return where(x.status());
        if (i < 9) v[i] = *x;
      }
      if (fields.size() > 9) {
        topo.warnings.push_back(
            fmt::format("{}:{}: layer '{}' has {} fields, only the first 9 are used", source,
                        line_no, name, fields.size()));
      }
      layer.ifmap_h = v[1];
      layer.ifmap_w = v[2];
      layer.filter_h = v[3];
      layer.filter_w = v[4];
      layer.channels = v[5];
      layer.num_filters = v[6];
      layer.stride_h = v[7];
      layer.stride_w = fields.size() >= 9 ? v[8] : v[7];
    } else {
      int64_t v[4] = {};
      for (size_t i = 1; i < 4; ++i) {
        Result<int64_t> x = parse_size(fields[i], name, kGemmFieldNames[i]);
        if (!x.ok()) return where(x.status());
        v[i] = *x;
      }
      if (fields.size() > 4) {
        topo.warnings.push_back(
            fmt::format("{}:{}: layer '{}' has {} fields, only the first 4 are used", source,
                        line_no, name, fields.size()));
      }
      const int64_t m = v[1], n = v[2], k = v[3];
      layer.ifmap_h = m;
      layer.ifmap_w = k;
      layer.filter_h = 1;
      layer.filter_w = k;
      layer.channels = 1;
      layer.num_filters = n;
    }
    if (Status s = validate_layer(layer); !s.ok()) return where(s);

    if (format == TopologyFormat::kConv && name.find("DP") != std::string::npos) {
      const int64_t channels = layer.channels;
      if (channels > 65536) {
        return where(invalid_argument(
            "cannot expand depthwise layer '{}': Channels = {}, must be <= 65536", name, channels));
      }
      layer.channels = 1;
      for (int64_t c = 0; c < channels; ++c) {
        Layer dp = layer;
        dp.name = fmt::format("{}Channel_{}", name, c);
        topo.layers.push_back(std::move(dp));
      }
    } else {
      topo.layers.push_back(std::move(layer));
    }
  }
  return topo;
}

Result<Topology> read_topology_csv(const std::string& path, TopologyFormat format) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return not_found("cannot open topology file: path = '{}', must be a readable file", path);
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return io_error("cannot read topology file: path = '{}'", path);
  return parse_topology_csv(ss.str(), path, format);
}

Result<std::string> format_topology_csv(const std::vector<Layer>& layers) {
  std::string out =
      "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, "
      "Strides Height, Strides Width,\n";
  for (const Layer& l : layers) {
    EI8_RETURN_IF_ERROR(validate_layer(l));
    if (l.name.find("DP") != std::string::npos || l.name.find(',') != std::string::npos ||
        trim(l.name) != l.name || l.name.empty()) {
      return invalid_argument(
          "cannot write layer '{}' to a topology CSV: name = '{}', must be non-empty, without "
          "',', surrounding spaces or \"DP\" (SCALE-Sim would split or expand it)",
          l.name, l.name);
    }
    out += fmt::format("{}, {}, {}, {}, {}, {}, {}, {}, {},\n", l.name, l.ifmap_h, l.ifmap_w,
                       l.filter_h, l.filter_w, l.channels, l.num_filters, l.stride_h, l.stride_w);
  }
  return out;
}

Status write_topology_csv(const std::string& path, const std::vector<Layer>& layers) {
  EI8_ASSIGN_OR_RETURN(std::string text, format_topology_csv(layers));
  return write_file(path, text);  // whole or not at all (core/output_files.h)
}

}  // namespace ei8::arch
