// ei8/report/document.h — a report as a list of blocks, rendered to Markdown and to one
// self-contained HTML file (figures embedded as base64 PNG, no external assets).
//
// Inline text may use **bold** and `code`; both renderers understand them.
//
//   Document d("EdgeINT8-ArchKit report");
//   d.heading(2, "Part B — INT8 quantization");
//   d.paragraph("Entropy calibration loses **0.12** points.");
//   d.table(sweep_table);
//   d.figure("figures/ptq_accuracy.png", "Top-1 accuracy per strategy");
//   EI8_RETURN_IF_ERROR(d.write("results/report"));   // report.md + report.html
#pragma once

#include <string>
#include <vector>

#include "ei8/core/status.h"
#include "ei8/report/table.h"

namespace ei8::report {

class Document {
 public:
  explicit Document(std::string title) : title_(std::move(title)) {}

  void heading(int level, std::string text);
  void paragraph(std::string text);
  void bullets(std::vector<std::string> items);
  void table(const Table& t, std::string caption = {});
  // `path` is relative to the directory the report is written to.
  void figure(std::string path, std::string caption);
  void code(std::string text);

  std::string to_markdown() const;
  // `base_dir` resolves figure paths to embed them.
  Result<std::string> to_html(const std::string& base_dir) const;
  // Writes <stem>.md and <stem>.html.
  Status write(const std::string& stem) const;

 private:
  enum class Kind { kHeading, kParagraph, kBullets, kTable, kFigure, kCode };
  struct Block {
    Kind kind;
    int level = 0;
    std::string text, caption;
    std::vector<std::string> items;
    Table table;
  };
  std::string title_;
  std::vector<Block> blocks_;
};

std::string base64_encode(std::string_view bytes);
std::string html_escape(std::string_view s);

}  // namespace ei8::report
