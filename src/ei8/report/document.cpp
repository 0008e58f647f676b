#include "ei8/report/document.h"

#include <filesystem>

#include "ei8/core/npy.h"
#include "ei8/core/output_files.h"

namespace ei8::report {
namespace {

// **bold** and `code` to HTML (after escaping).
std::string inline_html(std::string_view text) {
  std::string s = html_escape(text), out;
  bool bold = false, code = false;
  for (size_t i = 0; i < s.size(); ++i) {
    if (!code && s.compare(i, 2, "**") == 0) {
      out += bold ? "</strong>" : "<strong>";
      bold = !bold;
      ++i;
    } else if (s[i] == '`') {
      out += code ? "</code>" : "<code>";
      code = !code;
    } else {
      out += s[i];
    }
  }
  if (bold) out += "</strong>";
  if (code) out += "</code>";
  return out;
}

constexpr std::string_view kStyle = R"(
body{font-family:-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;max-width:1100px;margin:2em auto;
padding:0 1em;color:#222;line-height:1.5}
h1,h2,h3{color:#123}h2{border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:2em}
table{border-collapse:collapse;margin:1em 0;font-size:.9em}th,td{border:1px solid #bbb;padding:.25em .6em}
th{background:#eef2f7}td.num{text-align:right;font-variant-numeric:tabular-nums}
figure{margin:1.5em 0}figure img{max-width:100%;border:1px solid #ddd}figcaption{color:#555;font-size:.9em}
code{background:#f3f3f3;padding:0 .2em}pre{background:#f6f8fa;padding:.8em;overflow-x:auto}
)";

}  // namespace

std::string html_escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string base64_encode(std::string_view bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const uint32_t v = static_cast<uint32_t>(static_cast<uint8_t>(bytes[i])) << 16 |
                       static_cast<uint32_t>(static_cast<uint8_t>(bytes[i + 1])) << 8 |
                       static_cast<uint8_t>(bytes[i + 2]);
    for (int k = 18; k >= 0; k -= 6) out += kAlphabet[(v >> k) & 63];
  }
  if (i < bytes.size()) {
    uint32_t v = static_cast<uint32_t>(static_cast<uint8_t>(bytes[i])) << 16;
    if (i + 1 < bytes.size()) v |= static_cast<uint32_t>(static_cast<uint8_t>(bytes[i + 1])) << 8;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += i + 1 < bytes.size() ? kAlphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

void Document::heading(int level, std::string text) {
  blocks_.push_back({.kind = Kind::kHeading, .level = level, .text = std::move(text)});
}
void Document::paragraph(std::string text) {
  blocks_.push_back({.kind = Kind::kParagraph, .text = std::move(text)});
}
void Document::bullets(std::vector<std::string> items) {
  blocks_.push_back({.kind = Kind::kBullets, .items = std::move(items)});
}
void Document::table(const Table& t, std::string caption) {
  blocks_.push_back({.kind = Kind::kTable, .caption = std::move(caption), .table = t});
}
void Document::figure(std::string path, std::string caption) {
  blocks_.push_back(
      {.kind = Kind::kFigure, .text = std::move(path), .caption = std::move(caption)});
}
void Document::code(std::string text) {
  blocks_.push_back({.kind = Kind::kCode, .text = std::move(text)});
}

void Document::markdown(std::string_view text, int heading_shift) {
  std::vector<std::string> lines;
  for (size_t start = 0; start <= text.size();) {
    const size_t nl = std::min(text.find('\n', start), text.size());
    lines.emplace_back(text.substr(start, nl - start));
    start = nl + 1;
  }
  auto trim = [](std::string_view v) {
    while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
    while (!v.empty() && (v.back() == ' ' || v.back() == '\r')) v.remove_suffix(1);
    return std::string(v);
  };
  auto cells = [&trim](const std::string& row) {
    std::vector<std::string> out;
    std::string_view v = row;
    if (!v.empty() && v.front() == '|') v.remove_prefix(1);
    if (!v.empty() && v.back() == '|') v.remove_suffix(1);
    for (size_t start = 0; start <= v.size();) {
      const size_t bar = std::min(v.find('|', start), v.size());
      out.push_back(trim(v.substr(start, bar - start)));
      start = bar + 1;
    }
    return out;
  };
  std::string para;
  auto flush = [&] {
    if (!para.empty()) paragraph(std::move(para));
    para.clear();
  };
  for (size_t i = 0; i < lines.size(); ++i) {
    const std::string line = trim(lines[i]);
    if (line.empty()) {
      flush();
    } else if (line[0] == '#') {
      flush();
      const size_t level = line.find_first_not_of('#');
      heading(static_cast<int>(level) + heading_shift, trim(std::string_view(line).substr(level)));
    } else if (line[0] == '|') {
      flush();
      Table t(cells(line));
      if (i + 1 < lines.size() && trim(lines[i + 1]).rfind("|-", 0) == 0) ++i;  // separator
      while (i + 1 < lines.size() && trim(lines[i + 1]).rfind("|", 0) == 0) {
        std::vector<std::string> row = cells(trim(lines[++i]));
        row.resize(t.columns().size());
        t.add_row(std::vector<Cell>(row.begin(), row.end()));
      }
      table(t);
    } else if (line.rfind("- ", 0) == 0) {
      flush();
      std::vector<std::string> items{line.substr(2)};
      while (i + 1 < lines.size() && trim(lines[i + 1]).rfind("- ", 0) == 0) {
        items.push_back(trim(lines[++i]).substr(2));
      }
      bullets(std::move(items));
    } else {
      para += (para.empty() ? "" : " ") + line;
    }
  }
  flush();
}

std::string Document::to_markdown() const {
  std::string out = "# " + title_ + "\n\n";
  for (const Block& b : blocks_) {
    switch (b.kind) {
      case Kind::kHeading:
        out += std::string(static_cast<size_t>(b.level), '#') + " " + b.text + "\n\n";
        break;
      case Kind::kParagraph:
        out += b.text + "\n\n";
        break;
      case Kind::kBullets:
        for (const auto& it : b.items) out += "- " + it + "\n";
        out += "\n";
        break;
      case Kind::kTable:
        if (!b.caption.empty()) out += "*" + b.caption + "*\n\n";
        out += b.table.to_markdown() + "\n";
        break;
      case Kind::kFigure:
        out += "![" + b.caption + "](" + b.text + ")\n\n*" + b.caption + "*\n\n";
        break;
      case Kind::kCode:
        out += "```\n" + b.text + "\n```\n\n";
        break;
    }
  }
  return out;
}

Result<std::string> Document::to_html(const std::string& base_dir) const {
  std::string out = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>" +
                    html_escape(title_) + "</title>\n<style>" + std::string(kStyle) +
                    "</style></head>\n<body>\n<h1>" + html_escape(title_) + "</h1>\n";
  for (const Block& b : blocks_) {
    switch (b.kind) {
      case Kind::kHeading:
        out += fmt::format("<h{0}>{1}</h{0}>\n", b.level, inline_html(b.text));
        break;
      case Kind::kParagraph:
        out += "<p>" + inline_html(b.text) + "</p>\n";
        break;
      case Kind::kBullets:
        out += "<ul>\n";
        for (const auto& it : b.items) out += "<li>" + inline_html(it) + "</li>\n";
        out += "</ul>\n";
        break;
      case Kind::kTable: {
        out += "<table>\n";
        if (!b.caption.empty()) out += "<caption>" + inline_html(b.caption) + "</caption>\n";
        out += "<tr>";
        for (const auto& c : b.table.columns()) out += "<th>" + html_escape(c) + "</th>";
        out += "</tr>\n";
        for (size_t r = 0; r < b.table.num_rows(); ++r) {
          out += "<tr>";
          const auto& row = b.table.row(r);
          for (size_t c = 0; c < row.size(); ++c) {
            const bool numeric = std::holds_alternative<double>(row[c]);
            out += numeric ? "<td class=\"num\">" : "<td>";
            out += html_escape(b.table.format_cell(row[c], c)) + "</td>";
          }
          out += "</tr>\n";
        }
        out += "</table>\n";
        break;
      }
      case Kind::kFigure: {
        const std::string path = (std::filesystem::path(base_dir) / b.text).string();
        EI8_ASSIGN_OR_RETURN(std::string png, read_file(path));
        out += "<figure><img alt=\"" + html_escape(b.caption) + "\" src=\"data:image/png;base64," +
               base64_encode(png) + "\"><figcaption>" + inline_html(b.caption) +
               "</figcaption></figure>\n";
        break;
      }
      case Kind::kCode:
        out += "<pre>" + html_escape(b.text) + "</pre>\n";
        break;
    }
  }
  out += "</body></html>\n";
  return out;
}

Status Document::write(const std::string& stem) const {
  const std::string dir = std::filesystem::path(stem).parent_path().string();
  EI8_ASSIGN_OR_RETURN(std::string html, to_html(dir.empty() ? "." : dir));
  OutputFiles out;  // .md and .html together: never one new and one from an earlier run
  EI8_RETURN_IF_ERROR(out.add(stem + ".md", to_markdown()));
  EI8_RETURN_IF_ERROR(out.add(stem + ".html", html));
  return out.commit();
}

}  // namespace ei8::report
