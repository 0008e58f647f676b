// The report's rule, as a check: every figure in report.md is copied from a table file under
// tables/. A "figure" is a decimal number ("12.5", "0.30") or a number followed by '%'; integers
// elsewhere (headings, years, "32x32") are not figures. Signs are ignored on both sides.
#pragma once

#include <cctype>
#include <filesystem>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "ei8/core/npy.h"

namespace ei8::testing_report {

struct Number {
  std::string text;  // digits, optionally "." digits
  bool figure;       // decimal, or followed by '%'
};

// Number tokens of `text`: a run of digits (with at most one '.' between digits) that does not
// continue an identifier (preceded by a letter, digit or '_').
inline std::vector<Number> numbers_in(std::string_view text) {
  std::vector<Number> out;
  const auto digit = [](char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; };
  for (size_t i = 0; i < text.size();) {
    if (!digit(text[i])) {
      ++i;
      continue;
    }
    const bool in_word =
        i > 0 && (std::isalnum(static_cast<unsigned char>(text[i - 1])) != 0 || text[i - 1] == '_');
    size_t j = i;
    while (j < text.size() && digit(text[j])) ++j;
    bool decimal = false;
    if (j + 1 < text.size() && text[j] == '.' && digit(text[j + 1])) {
      decimal = true;
      ++j;
      while (j < text.size() && digit(text[j])) ++j;
    }
    size_t k = j;
    while (k < text.size() && text[k] == ' ') ++k;
    const bool percent = k < text.size() && text[k] == '%';
    if (!in_word) out.push_back({std::string(text.substr(i, j - i)), decimal || percent});
    i = j;
  }
  return out;
}

// Every number token of every tables/*.csv under `results` (CSV: the text the report copies).
inline std::set<std::string> table_numbers(const std::filesystem::path& results) {
  std::set<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(results / "tables")) {
    const std::string ext = e.path().extension().string();
    if (ext != ".csv") continue;
    Result<std::string> text = read_file(e.path().string());
    if (!text.ok()) continue;
    for (const Number& n : numbers_in(*text)) out.insert(n.text);
  }
  return out;
}

// The figures of report.md that appear in no table file (empty: the report keeps the rule).
inline std::vector<std::string> figures_without_a_table(const std::filesystem::path& results,
                                                        size_t* figures_seen = nullptr) {
  const std::set<std::string> known = table_numbers(results);
  Result<std::string> md = read_file((results / "report.md").string());
  if (!md.ok()) return {"report.md: " + md.status().message()};
  std::vector<std::string> missing;
  size_t seen = 0;
  for (const Number& n : numbers_in(*md)) {
    if (!n.figure) continue;
    ++seen;
    if (known.count(n.text) == 0) missing.push_back(n.text);
  }
  if (figures_seen != nullptr) *figures_seen = seen;
  return missing;
}

}  // namespace ei8::testing_report
