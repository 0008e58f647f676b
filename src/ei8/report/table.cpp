#include "ei8/report/table.h"

#include <nlohmann/json.hpp>

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "ei8/core/npy.h"

namespace ei8::report {
namespace {

std::string csv_quote(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string md_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '|') out += '\\';
    out += c;
  }
  return out;
}

}  // namespace

void Table::add_row(std::vector<Cell> cells) {
  if (cells.size() != columns_.size()) {
    std::fprintf(stderr, "ei8: table row has %zu cells for %zu columns\n", cells.size(),
                 columns_.size());
    std::abort();
  }
  rows_.push_back(std::move(cells));
}

void Table::set_precision(std::string_view column, int digits) {
  auto idx = column_index(column);
  if (!idx.ok()) return;
  precision_.resize(columns_.size(), -1);
  precision_[*idx] = digits;
}

Result<size_t> Table::column_index(std::string_view name) const {
  for (size_t i = 0; i < columns_.size(); ++i) {
    if (columns_[i] == name) return i;
  }
  return not_found("cannot find column: name = '{}', must be one of {}", name,
                   fmt::join(columns_, ", "));
}

std::string Table::format_cell(const Cell& c, size_t column) const {
  if (const auto* s = std::get_if<std::string>(&c)) return *s;
  const double v = std::get<double>(c);
  if (std::isnan(v)) return "nan";
  const int p = column < precision_.size() ? precision_[column] : -1;
  if (p >= 0) return fmt::format("{:.{}f}", v, p);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.10g", v);
  return buf;
}

Result<std::string> Table::text(size_t row, std::string_view column) const {
  EI8_ASSIGN_OR_RETURN(size_t c, column_index(column));
  if (row >= rows_.size()) {
    return out_of_range("cannot read table cell: row = {}, must be < {}", row, rows_.size());
  }
  return format_cell(rows_[row][c], c);
}

Result<double> Table::number(size_t row, std::string_view column) const {
  EI8_ASSIGN_OR_RETURN(size_t c, column_index(column));
  if (row >= rows_.size()) {
    return out_of_range("cannot read table cell: row = {}, must be < {}", row, rows_.size());
  }
  const Cell& cell = rows_[row][c];
  if (const auto* d = std::get_if<double>(&cell)) return *d;
  const std::string& s = std::get<std::string>(cell);
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  if (s.empty() || end != s.c_str() + s.size()) {
    return invalid_argument("cannot read number: column '{}' row {} = '{}', must be numeric",
                            column, row, s);
  }
  return v;
}

Result<size_t> Table::find_row(std::string_view column, std::string_view value) const {
  EI8_ASSIGN_OR_RETURN(size_t c, column_index(column));
  for (size_t r = 0; r < rows_.size(); ++r) {
    if (format_cell(rows_[r][c], c) == value) return r;
  }
  return not_found("cannot find row: {} = '{}'", column, value);
}

std::string Table::to_csv() const {
  std::string out;
  for (size_t i = 0; i < columns_.size(); ++i) {
    out += (i ? "," : "") + csv_quote(columns_[i]);
  }
  out += '\n';
  for (const auto& row : rows_) {
    for (size_t i = 0; i < row.size(); ++i)
      out += (i ? "," : "") + csv_quote(format_cell(row[i], i));
    out += '\n';
  }
  return out;
}

std::string Table::to_json() const {
  nlohmann::ordered_json arr = nlohmann::ordered_json::array();
  for (const auto& row : rows_) {
    nlohmann::ordered_json obj;
    for (size_t i = 0; i < row.size(); ++i) {
      if (const auto* d = std::get_if<double>(&row[i])) {
        obj[columns_[i]] =
            std::isfinite(*d) ? nlohmann::ordered_json(*d) : nlohmann::ordered_json();
      } else {
        obj[columns_[i]] = std::get<std::string>(row[i]);
      }
    }
    arr.push_back(std::move(obj));
  }
  return arr.dump(2) + "\n";
}

std::string Table::to_markdown() const {
  std::string out = "|";
  for (const auto& c : columns_) out += " " + md_escape(c) + " |";
  out += "\n|";
  for (size_t i = 0; i < columns_.size(); ++i) {
    const bool numeric = !rows_.empty() && std::holds_alternative<double>(rows_[0][i]);
    out += numeric ? "---:|" : "---|";
  }
  out += '\n';
  for (const auto& row : rows_) {
    out += "|";
    for (size_t i = 0; i < row.size(); ++i) out += " " + md_escape(format_cell(row[i], i)) + " |";
    out += '\n';
  }
  return out;
}

Status Table::write_csv(const std::string& path) const { return write_file(path, to_csv()); }
Status Table::write_json(const std::string& path) const { return write_file(path, to_json()); }
Status Table::add_to(OutputFiles& out, const std::string& stem) const {
  EI8_RETURN_IF_ERROR(out.add(stem + ".csv", to_csv()));
  return out.add(stem + ".json", to_json());
}
Status Table::write(const std::string& stem) const {
  OutputFiles out;  // both files or neither
  EI8_RETURN_IF_ERROR(add_to(out, stem));
  return out.commit();
}

Result<Table> Table::parse_csv(std::string_view text, std::string_view name) {
  // RFC 4180: fields separated by ',', optionally quoted with '"' ("" is a quote).
  std::vector<std::vector<std::string>> records;
  std::vector<std::string> record;
  std::string field;
  bool quoted = false, field_started = false;
  size_t line = 1;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"') {
        if (i + 1 < text.size() && text[i + 1] == '"') {
          field += '"';
          ++i;
        } else {
          quoted = false;
        }
      } else {
        if (c == '\n') ++line;
        field += c;
      }
    } else if (c == '"' && !field_started) {
      quoted = field_started = true;
    } else if (c == ',') {
      record.push_back(std::move(field));
      field.clear();
      field_started = false;
    } else if (c == '\n' || c == '\r') {
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      record.push_back(std::move(field));
      field.clear();
      field_started = false;
      records.push_back(std::move(record));
      record.clear();
      ++line;
    } else {
      field += c;
      field_started = true;
    }
  }
  if (quoted) return data_loss("{}:{}: cannot parse CSV: a quoted field is not closed", name, line);
  if (field_started || !record.empty()) {
    record.push_back(std::move(field));
    records.push_back(std::move(record));
  }
  if (records.empty()) return data_loss("{}:1: cannot parse CSV: the file is empty", name);
  Table t(records[0]);
  for (size_t r = 1; r < records.size(); ++r) {
    if (records[r].size() == 1 && records[r][0].empty()) continue;  // blank line
    if (records[r].size() != t.columns_.size()) {
      return data_loss("{}:{}: cannot parse CSV row: fields = {}, must be {} (the header's count)",
                       name, r + 1, records[r].size(), t.columns_.size());
    }
    std::vector<Cell> cells;
    for (auto& f : records[r]) cells.emplace_back(std::move(f));
    t.rows_.push_back(std::move(cells));
  }
  return t;
}

Result<Table> Table::read_csv(const std::string& path) {
  EI8_ASSIGN_OR_RETURN(std::string text, read_file(path));
  return parse_csv(text, path);
}

}  // namespace ei8::report
