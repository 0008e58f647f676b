// ei8/report/table.h — the tables every step writes to results/tables/ and the report reads.
//
// A Table is a list of named columns and rows of cells; a cell is text or a number. The same
// table is written as CSV (RFC 4180 quoting), JSON (an array of objects, numbers as numbers)
// and Markdown, and read back from CSV, so that every number in the report comes from a file
// that the step which measured it wrote.
//
//   Table t({"method", "accuracy"});
//   t.add_row({"minmax", 98.25});
//   EI8_RETURN_IF_ERROR(t.write_csv("results/tables/ptq_sweep.csv"));
//   EI8_ASSIGN_OR_RETURN(Table back, Table::read_csv("results/tables/ptq_sweep.csv"));
//   double acc = back.number(0, "accuracy").value();
#pragma once

#include <string>
#include <variant>
#include <vector>

#include "ei8/core/output_files.h"
#include "ei8/core/status.h"

namespace ei8::report {

// A cell holds text or a number; numbers are written with up to 10 significant digits
// (%.10g) unless a column precision is set.
using Cell = std::variant<std::string, double>;

class Table {
 public:
  Table() = default;
  explicit Table(std::vector<std::string> columns) : columns_(std::move(columns)) {}

  const std::vector<std::string>& columns() const { return columns_; }
  size_t num_rows() const { return rows_.size(); }
  const std::vector<Cell>& row(size_t r) const { return rows_[r]; }

  // Precondition: one cell per column (checked: a wrong count aborts; it is a bug).
  void add_row(std::vector<Cell> cells);
  // Digits after the decimal point for a numeric column in CSV/Markdown (default: %.10g).
  void set_precision(std::string_view column, int digits);

  Result<size_t> column_index(std::string_view name) const;
  // The cell as text (numbers formatted as in the CSV) or as a number (text parsed).
  Result<std::string> text(size_t row, std::string_view column) const;
  Result<double> number(size_t row, std::string_view column) const;
  // First row whose `column` equals `value` (as text).
  Result<size_t> find_row(std::string_view column, std::string_view value) const;

  std::string to_csv() const;
  std::string to_json() const;  // [{"col": value, ...}, ...]
  std::string to_markdown() const;
  Status write_csv(const std::string& path) const;
  Status write_json(const std::string& path) const;
  // Writes <stem>.csv and <stem>.json (both or neither).
  Status write(const std::string& stem) const;
  // Adds <stem>.csv and <stem>.json to a transaction (written at out.commit()).
  Status add_to(OutputFiles& out, const std::string& stem) const;

  static Result<Table> parse_csv(std::string_view text, std::string_view name);
  static Result<Table> read_csv(const std::string& path);

  std::string format_cell(const Cell& c, size_t column) const;

 private:
  std::vector<std::string> columns_;
  std::vector<int> precision_;  // per column, -1 = default
  std::vector<std::vector<Cell>> rows_;
};

}  // namespace ei8::report
