#include "ei8/arch/scalesim_config.h"

#include <algorithm>
#include <charconv>
#include <fstream>
#include <map>
#include <sstream>

namespace ei8::arch {
namespace {

std::string_view trim(std::string_view s) {
  const char* kSpace = " \t\r\n\f\v";
  const size_t b = s.find_first_not_of(kSpace);
  if (b == std::string_view::npos) return {};
  return s.substr(b, s.find_last_not_of(kSpace) - b + 1);
}

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

struct Entry {
  std::string value;
  int line = 0;
};
struct Section {
  int line = 0;
  std::map<std::string, Entry> keys;  // lower-case key → value
};

// configparser semantics, restricted to what SCALE-Sim configs use.
struct Ini {
  std::map<std::string, Section> sections;
  int last_line = 0;
};

Result<Ini> parse_ini(std::string_view text, std::string_view source) {
  Ini ini;
  Section* cur = nullptr;
  Entry* last_entry = nullptr;
  int line_no = 0;
  while (!text.empty()) {
    const size_t nl = text.find('\n');
    std::string_view raw = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    ++line_no;
    const std::string_view s = trim(raw);
    auto err = [&](const Status& st) {
      return st.with_context(fmt::format("{}:{}", source, line_no));
    };
    if (s.empty()) {
      last_entry = nullptr;
      continue;
    }
    if (s.front() == '#' || s.front() == ';') continue;
    const bool indented = raw.front() == ' ' || raw.front() == '\t';
    if (indented && last_entry != nullptr) {  // continuation line of a multi-line value
      last_entry->value += "\n";
      last_entry->value += s;
      continue;
    }
    if (s.front() == '[' && s.back() == ']' && s.size() > 2) {
      const std::string name(s.substr(1, s.size() - 2));
      if (ini.sections.count(name)) {
        return err(
            invalid_argument("cannot read config: section = [{}], must appear only once", name));
      }
      cur = &ini.sections[name];
      cur->line = line_no;
      last_entry = nullptr;
      continue;
    }
    if (cur == nullptr) {
      return err(invalid_argument(
          "cannot read config: line = '{}', must follow a section header such as [general]", s));
    }
    const size_t d = s.find_first_of(":=");
    if (d == std::string_view::npos || trim(s.substr(0, d)).empty()) {
      return err(invalid_argument(
          "cannot read config: line = '{}', must be 'key: value' or 'key = value'", s));
    }
    const std::string key = lower(trim(s.substr(0, d)));
    if (cur->keys.count(key)) {
      return err(
          invalid_argument("cannot read config: key = {}, must appear only once per section", key));
    }
    Entry& e = cur->keys[key];
    e.value = std::string(trim(s.substr(d + 1)));
    e.line = line_no;
    last_entry = &e;
  }
  ini.last_line = line_no;
  return ini;
}

struct Getter {
  const Ini& ini;
  std::string_view source;

  Result<const Entry*> get(const std::string& section, std::string_view key) const {
    auto it = ini.sections.find(section);
    if (it == ini.sections.end()) {
      return invalid_argument("{}:{}: cannot read config: section [{}] is missing, must be present",
                              source, std::max(ini.last_line, 1), section);
    }
    auto k = it->second.keys.find(lower(key));
    if (k == it->second.keys.end()) {
      return invalid_argument(
          "{}:{}: cannot read config: key {} in [{}] is missing, must be present (SCALE-Sim has no "
          "defaults)",
          source, it->second.line, key, section);
    }
    return &k->second;
  }

  Result<int64_t> get_int(const std::string& section, std::string_view key, int64_t min) const {
    EI8_ASSIGN_OR_RETURN(const Entry* e, get(section, key));
    return to_int(*e, key, min, e->value);
  }

  Result<int64_t> to_int(const Entry& e, std::string_view key, int64_t min,
                         std::string_view text) const {
    std::string_view t = trim(text);
    std::string_view digits = t;
    if (!digits.empty() && digits.front() == '+') digits.remove_prefix(1);
    int64_t v = 0;
    auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
    if (digits.empty() || ec != std::errc() || ptr != digits.data() + digits.size()) {
      return invalid_argument("{}:{}: cannot read config: {} = '{}', must be an integer", source,
                              e.line, key, t);
    }
    if (v < min) {
      return invalid_argument("{}:{}: cannot read config: {} = {}, must be >= {}", source, e.line,
                              key, v, min);
    }
    return v;
  }
};

}  // namespace

std::string_view dataflow_name(Dataflow d) {
  switch (d) {
    case Dataflow::kWs:
      return "ws";
    case Dataflow::kOs:
      return "os";
    case Dataflow::kIs:
      return "is";
  }
  return "?";
}

Result<Dataflow> parse_dataflow(std::string_view text) {
  if (text == "ws") return Dataflow::kWs;
  if (text == "os") return Dataflow::kOs;
  if (text == "is") return Dataflow::kIs;
  return invalid_argument("cannot parse dataflow: Dataflow = '{}', must be ws, os or is", text);
}

Status ArrayConfig::validate() const {
  const std::pair<const char*, int64_t> v[] = {{"ArrayHeight", rows},
                                               {"ArrayWidth", cols},
                                               {"IfmapSramSzkB", ifmap_sram_kb},
                                               {"FilterSramSzkB", filter_sram_kb},
                                               {"OfmapSramSzkB", ofmap_sram_kb},
                                               {"Bandwidth", bandwidth}};
  for (const auto& [name, x] : v) {
    if (x < 1) return invalid_argument("cannot use array config: {} = {}, must be >= 1", name, x);
  }
  if (rows > 65536 || cols > 65536) {
    return invalid_argument("cannot use array config: array = {}x{}, must be at most 65536x65536",
                            rows, cols);
  }
  for (const auto& [name, x] : v) {
    if (x > (int64_t{1} << 30)) {
      return invalid_argument("cannot use array config: {} = {}, must be <= 2^30", name, x);
    }
  }
  if (word_bytes != 1 && word_bytes != 2 && word_bytes != 4 && word_bytes != 8) {
    return invalid_argument("cannot use array config: word_bytes = {}, must be 1, 2, 4 or 8",
                            word_bytes);
  }
  return {};
}

Result<ScaleSimConfig> parse_scalesim_config(std::string_view text, std::string_view source) {
  EI8_ASSIGN_OR_RETURN(Ini ini, parse_ini(text, source));
  const Getter g{ini, source};
  ScaleSimConfig c;
  EI8_ASSIGN_OR_RETURN(const Entry* name, g.get("general", "run_name"));
  c.run_name = name->value;
  if (c.run_name.empty() || c.run_name.find('/') != std::string::npos || c.run_name == "." ||
      c.run_name == "..") {
    return invalid_argument(
        "{}:{}: cannot read config: run_name = '{}', must be a non-empty "
        "directory name without '/'",
        source, name->line, c.run_name);
  }
  EI8_ASSIGN_OR_RETURN(const Entry* mode, g.get("run_presets", "InterfaceBandwidth"));
  if (mode->value == "USER") {
    c.array.mode = BandwidthMode::kUser;
  } else if (mode->value == "CALC") {
    c.array.mode = BandwidthMode::kCalc;
  } else {
    return invalid_argument(
        "{}:{}: cannot read config: InterfaceBandwidth = '{}', must be USER or "
        "CALC",
        source, mode->line, mode->value);
  }
  const std::string ap = "architecture_presets";
  EI8_ASSIGN_OR_RETURN(c.array.rows, g.get_int(ap, "ArrayHeight", 1));
  EI8_ASSIGN_OR_RETURN(c.array.cols, g.get_int(ap, "ArrayWidth", 1));
  EI8_ASSIGN_OR_RETURN(c.array.ifmap_sram_kb, g.get_int(ap, "IfmapSramSzkB", 1));
  EI8_ASSIGN_OR_RETURN(c.array.filter_sram_kb, g.get_int(ap, "FilterSramSzkB", 1));
  EI8_ASSIGN_OR_RETURN(c.array.ofmap_sram_kb, g.get_int(ap, "OfmapSramSzkB", 1));
  EI8_ASSIGN_OR_RETURN(c.ifmap_offset, g.get_int(ap, "IfmapOffset", 0));
  EI8_ASSIGN_OR_RETURN(c.filter_offset, g.get_int(ap, "FilterOffset", 0));
  EI8_ASSIGN_OR_RETURN(c.ofmap_offset, g.get_int(ap, "OfmapOffset", 0));
  EI8_ASSIGN_OR_RETURN(const Entry* df, g.get(ap, "Dataflow"));
  Result<Dataflow> d = parse_dataflow(df->value);
  if (!d.ok()) {
    return d.status().with_context(fmt::format("{}:{}", source, df->line));
  }
  c.array.dataflow = *d;
  if (c.array.mode == BandwidthMode::kUser) {
    EI8_ASSIGN_OR_RETURN(const Entry* bw, g.get(ap, "Bandwidth"));
    std::string_view rest = trim(bw->value);
    while (true) {
      const size_t comma = rest.find(',');
      EI8_ASSIGN_OR_RETURN(int64_t v, g.to_int(*bw, "Bandwidth", 1, rest.substr(0, comma)));
      c.bandwidths.push_back(v);
      if (comma == std::string_view::npos) break;
      rest = rest.substr(comma + 1);
    }
    c.array.bandwidth = c.bandwidths.front();
    if (c.bandwidths.size() > 1) {
      c.warnings.push_back(fmt::format(
          "{}:{}: Bandwidth lists {} values; SCALE-Sim v2 uses only the first ({}) for all three "
          "DRAM interfaces",
          source, bw->line, c.bandwidths.size(), c.array.bandwidth));
    }
  }
  if (auto it = ini.sections.find("network_presets"); it != ini.sections.end()) {
    auto k = it->second.keys.find("topologycsvloc");
    if (k != it->second.keys.end()) {
      std::string v = k->second.value;
      if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
      c.topology_path = v;
    }
  }
  if (Status s = c.array.validate(); !s.ok()) return s.with_context(std::string(source));
  return c;
}

Result<ScaleSimConfig> read_scalesim_config(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return not_found("cannot open config file: path = '{}', must be a readable file", path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return parse_scalesim_config(ss.str(), path);
}

std::string format_scalesim_config(const ScaleSimConfig& c) {
  const ArrayConfig& a = c.array;
  std::string out = fmt::format("[general]\nrun_name = {}\n\n[architecture_presets]\n", c.run_name);
  out += fmt::format("ArrayHeight:    {}\nArrayWidth:     {}\n", a.rows, a.cols);
  out += fmt::format("IfmapSramSzkB:    {}\nFilterSramSzkB:   {}\nOfmapSramSzkB:    {}\n",
                     a.ifmap_sram_kb, a.filter_sram_kb, a.ofmap_sram_kb);
  out += fmt::format("IfmapOffset:    {}\nFilterOffset:   {}\nOfmapOffset:    {}\n", c.ifmap_offset,
                     c.filter_offset, c.ofmap_offset);
  out += fmt::format("Bandwidth : {}\nDataflow : {}\nMemoryBanks: 1\n\n", a.bandwidth,
                     dataflow_name(a.dataflow));
  out += fmt::format("[run_presets]\nInterfaceBandwidth: {}\n",
                     a.mode == BandwidthMode::kUser ? "USER" : "CALC");
  return out;
}

}  // namespace ei8::arch
