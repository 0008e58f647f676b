#include "ei8/quant/calib_table.h"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <set>

#include "ei8/core/npy.h"

namespace ei8::quant {
namespace {

using Json = nlohmann::ordered_json;

constexpr std::string_view kFormat = "edgeint8-calibration-table";
constexpr int64_t kVersion = 1;

Json params_to_json(const ParamList& list) {
  Json j = Json::object();
  for (const auto& [key, value] : list) {
    if (const auto* i = std::get_if<int64_t>(&value)) {
      j[key] = *i;
    } else if (const auto* d = std::get_if<double>(&value)) {
      j[key] = *d;
    } else {
      j[key] = std::get<std::string>(value);
    }
  }
  return j;
}

int64_t line_at(std::string_view text, size_t pos) {
  pos = std::min(pos, text.size());
  return 1 + static_cast<int64_t>(
                 std::count(text.begin(), text.begin() + static_cast<long>(pos), '\n'));
}

// Reads one table from parsed JSON; `where(i)` gives the "<source>:<line>" of tensor i.
class Reader {
 public:
  Reader(std::string_view text, std::string_view source) : text_(text), source_(source) {}

  Result<CalibTable> read(const Json& root) {
    if (!root.is_object()) return error(1, "document", "not an object", "a JSON object");
    const auto fmt_it = root.find("format");
    if (fmt_it == root.end() || !fmt_it->is_string() || fmt_it->get<std::string>() != kFormat) {
      return error(1, "format", fmt_it == root.end() ? "missing" : fmt_it->dump(),
                   fmt::format("\"{}\"", kFormat));
    }
    const auto ver = root.find("version");
    if (ver == root.end() || !ver->is_number_integer() || ver->get<int64_t>() != kVersion) {
      return error(line_of("\"version\""), "version", ver == root.end() ? "missing" : ver->dump(),
                   std::to_string(kVersion));
    }
    CalibTable t;
    const auto samples = root.find("samples");
    if (samples == root.end() || !samples->is_number_integer() || samples->get<int64_t>() < 0) {
      return error(line_of("\"samples\""), "samples",
                   samples == root.end() ? "missing" : samples->dump(), "an integer ≥ 0");
    }
    t.samples = samples->get<int64_t>();
    const auto tensors = root.find("tensors");
    if (tensors == root.end() || !tensors->is_array()) {
      return error(line_of("\"tensors\""), "tensors",
                   tensors == root.end() ? "missing" : "not an array", "an array");
    }
    std::set<std::string> names;
    for (size_t i = 0; i < tensors->size(); ++i) {
      EI8_ASSIGN_OR_RETURN(CalibEntry e, read_entry((*tensors)[i], i));
      if (!names.insert(e.name).second) {
        return error(line_of_name(e.name, 1), fmt::format("tensors[{}].name", i),
                     fmt::format("\"{}\"", e.name), "unique (it appears twice)");
      }
      t.entries.push_back(std::move(e));
    }
    return t;
  }

 private:
  Status error(int64_t line, std::string_view field, std::string_view value,
               std::string_view constraint) const {
    return data_loss("{}:{}: cannot read calibration table: {} = {}, must be {}", source_, line,
                     field, value, constraint);
  }
  int64_t line_of(std::string_view needle, size_t from = 0) const {
    const size_t pos = text_.find(needle, from);
    return pos == std::string_view::npos ? 1 : line_at(text_, pos);
  }
  // Line of the `nth` occurrence of the tensor's name string.
  int64_t line_of_name(const std::string& name, int nth = 0) const {
    const std::string needle = Json(name).dump();
    size_t pos = 0;
    for (int k = 0; k <= nth; ++k) {
      pos = text_.find(needle, k == 0 ? 0 : pos + 1);
      if (pos == std::string_view::npos) return 1;
    }
    return line_at(text_, pos);
  }

  Result<ParamList> read_params(const Json& j, const std::string& field, int64_t line) const {
    ParamList out;
    if (!j.is_object()) return error(line, field, "not an object", "an object");
    for (const auto& [key, value] : j.items()) {
      if (value.is_number_integer()) {
        out.emplace_back(key, value.get<int64_t>());
      } else if (value.is_number_float()) {
        out.emplace_back(key, value.get<double>());
      } else if (value.is_string()) {
        out.emplace_back(key, value.get<std::string>());
      } else {
        return error(line, field + "." + key, value.dump(), "a number or a string");
      }
    }
    return out;
  }

  Result<CalibEntry> read_entry(const Json& j, size_t i) const {
    const std::string at = fmt::format("tensors[{}]", i);
    int64_t line = line_of("\"tensors\"");
    if (!j.is_object()) return error(line, at, j.dump(), "an object");
    CalibEntry e;
    const auto name = j.find("name");
    if (name == j.end() || !name->is_string() || name->get<std::string>().empty()) {
      return error(line, at + ".name", name == j.end() ? "missing" : name->dump(),
                   "a non-empty string");
    }
    e.name = name->get<std::string>();
    line = line_of_name(e.name);
    const auto method = j.find("method");
    if (method == j.end() || !method->is_string()) {
      return error(line, at + ".method", method == j.end() ? "missing" : method->dump(),
                   "a method name");
    }
    Result<CalibMethod> m = parse_calib_method(method->get<std::string>());
    if (!m.ok()) {
      return error(line, at + ".method", method->dump(),
                   "one of minmax|moving-average|percentile|entropy|mse|aciq");
    }
    e.method = m.value();
    auto number = [&](const char* key, float* out) -> Status {
      const auto it = j.find(key);
      if (it == j.end() || !it->is_number()) {
        return error(line, at + "." + key, it == j.end() ? "missing" : it->dump(),
                     "a finite number");
      }
      const double v = it->get<double>();
      if (!std::isfinite(v) || std::fabs(v) > 3.4028234663852886e38) {
        return error(line, at + "." + key, it->dump(), "a finite float32");
      }
      *out = static_cast<float>(v);
      return {};
    };
    EI8_RETURN_IF_ERROR(number("min", &e.min));
    EI8_RETURN_IF_ERROR(number("max", &e.max));
    if (e.min > e.max) {
      return error(line, at + ".min", fmt::format("{}", e.min), fmt::format("≤ max = {}", e.max));
    }
    EI8_RETURN_IF_ERROR(number("observed_min", &e.observed_min));
    EI8_RETURN_IF_ERROR(number("observed_max", &e.observed_max));
    const auto values = j.find("values");
    if (values == j.end() || !values->is_number_unsigned()) {
      return error(line, at + ".values", values == j.end() ? "missing" : values->dump(),
                   "an integer ≥ 0");
    }
    e.values = values->get<uint64_t>();
    const auto batches = j.find("batches");
    if (batches == j.end() || !batches->is_number_unsigned()) {
      return error(line, at + ".batches", batches == j.end() ? "missing" : batches->dump(),
                   "an integer ≥ 0");
    }
    e.batches = batches->get<int64_t>();
    if (const auto p = j.find("parameters"); p != j.end()) {
      EI8_ASSIGN_OR_RETURN(e.parameters, read_params(*p, at + ".parameters", line));
    }
    if (const auto d = j.find("diagnostics"); d != j.end()) {
      EI8_ASSIGN_OR_RETURN(e.diagnostics, read_params(*d, at + ".diagnostics", line));
    }
    return e;
  }

  std::string_view text_;
  std::string_view source_;
};

}  // namespace

const CalibEntry* CalibTable::find(std::string_view name) const {
  for (const CalibEntry& e : entries) {
    if (e.name == name) return &e;
  }
  return nullptr;
}

CalibEntry make_entry(std::string name, const TensorObserver& obs, const CalibResult& r) {
  CalibEntry e;
  e.name = std::move(name);
  e.method = r.method;
  e.min = r.min;
  e.max = r.max;
  e.observed_min = obs.min();
  e.observed_max = obs.max();
  e.values = obs.count();
  e.batches = obs.batches();
  e.parameters = r.parameters;
  e.diagnostics = r.diagnostics;
  return e;
}

std::string serialize_calib_table(const CalibTable& t) {
  Json root = Json::object();
  root["format"] = kFormat;
  root["version"] = kVersion;
  root["samples"] = t.samples;
  Json tensors = Json::array();
  for (const CalibEntry& e : t.entries) {
    Json j = Json::object();
    j["name"] = e.name;
    j["method"] = calib_method_name(e.method);
    j["min"] = static_cast<double>(e.min);
    j["max"] = static_cast<double>(e.max);
    j["observed_min"] = static_cast<double>(e.observed_min);
    j["observed_max"] = static_cast<double>(e.observed_max);
    j["values"] = e.values;
    j["batches"] = e.batches;
    j["parameters"] = params_to_json(e.parameters);
    j["diagnostics"] = params_to_json(e.diagnostics);
    tensors.push_back(std::move(j));
  }
  root["tensors"] = std::move(tensors);
  return root.dump(2) + "\n";
}

Result<CalibTable> parse_calib_table(std::string_view text, std::string_view source) {
  Json root;
  try {
    root = Json::parse(text.begin(), text.end());
  } catch (const Json::parse_error& e) {
    const size_t byte = e.byte > 0 ? e.byte - 1 : 0;
    return data_loss(
        "{}:{}: cannot read calibration table: JSON = invalid ({}), must be "
        "well-formed JSON",
        source, line_at(text, byte), e.what());
  }
  return Reader(text, source).read(root);
}

Status write_calib_table(const std::string& path, const CalibTable& t) {
  return write_file(path, serialize_calib_table(t));
}

Result<CalibTable> read_calib_table(const std::string& path) {
  EI8_ASSIGN_OR_RETURN(std::string text, read_file(path));
  return parse_calib_table(text, path);
}

}  // namespace ei8::quant
