// ei8/report/figure.h — figures for the report, drawn by gnuplot (Debian's gnuplot-nox).
//
// A Figure is data plus labels; `render` writes <stem>.png (cairo), <stem>.svg and the gnuplot
// script <stem>.gp that drew them, so a user can restyle a figure and re-run gnuplot on it.
// Every figure has a title, axis labels with units and a legend (STYLE of the report).
//
//   Figure f;
//   f.kind = FigureKind::kGroupedBars;
//   f.title = "Top-1 accuracy per calibration"; f.ylabel = "accuracy (%)";
//   f.categories = {"minmax", "entropy"};
//   f.series = {{.label = "per-tensor", .y = {97.1, 98.0}}, {.label = "per-channel", .y = {...}}};
//   f.hlines = {{.label = "FP32", .y = 98.4}};
//   EI8_RETURN_IF_ERROR(render(f, "results/figures/ptq_accuracy"));
#pragma once

#include <cmath>
#include <string>
#include <vector>

#include "ei8/core/status.h"

namespace ei8::report {

enum class FigureKind {
  kLines,        // y(x) per series, lines with points
  kScatter,      // points; optional per-point labels
  kGroupedBars,  // one bar per (category, series)
  kStackedBars,  // series stacked per category
};

struct Series {
  std::string label;
  std::vector<double> x;  // unused for bars
  std::vector<double> y;
  std::vector<std::string> point_labels;  // scatter: text next to each point (optional)
  bool line = true;                       // kLines: draw the connecting line
};

struct HLine {
  std::string label;
  double y = 0;
};

struct Figure {
  FigureKind kind = FigureKind::kLines;
  std::string title, xlabel, ylabel;
  bool logx = false, logy = false;
  double ymin = NAN, ymax = NAN;        // NaN: automatic
  std::vector<std::string> categories;  // bars: one per group, in order
  std::vector<Series> series;
  std::vector<HLine> hlines;  // horizontal reference lines (e.g. the FP32 accuracy)
  int width = 960, height = 600;
};

// The gnuplot script that draws `f` into `png_path` and `svg_path`.
std::string gnuplot_script(const Figure& f, const std::string& png_path,
                           const std::string& svg_path);

// Writes <stem>.png, <stem>.svg and <stem>.gp. Fails with a clear message when gnuplot is not
// installed or rejects the script.
Status render(const Figure& f, const std::string& stem);

// Whether `gnuplot` is on the PATH.
bool gnuplot_available();

}  // namespace ei8::report
