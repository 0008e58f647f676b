#include "ei8/report/figure.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "ei8/core/npy.h"

namespace ei8::report {
namespace {

Figure bars() {
  Figure f;
  f.kind = FigureKind::kGroupedBars;
  f.title = "Accuracy per calibration";
  f.xlabel = "calibration";
  f.ylabel = "top-1 accuracy (%)";
  f.categories = {"minmax", "entropy's"};
  f.series = {{.label = "per-tensor", .y = {97.5, 98.0}},
              {.label = "per-channel", .y = {98.1, 98.2}}};
  f.hlines = {{.label = "FP32", .y = 98.4}};
  return f;
}

TEST(Figure, ScriptCarriesLabelsDataAndBothTerminals) {
  const std::string s = gnuplot_script(bars(), "a.png", "a.svg");
  EXPECT_NE(s.find("set title 'Accuracy per calibration'"), std::string::npos);
  EXPECT_NE(s.find("set ylabel 'top-1 accuracy (%)'"), std::string::npos);
  EXPECT_NE(s.find("\"entropy's\" 98 98.2"), std::string::npos);
  EXPECT_NE(s.find("title 'FP32'"), std::string::npos);
  EXPECT_NE(s.find("set terminal pngcairo"), std::string::npos);
  EXPECT_NE(s.find("set terminal svg"), std::string::npos);
}

TEST(Figure, RendersPngAndSvgThroughGnuplot) {
  if (!gnuplot_available()) GTEST_SKIP() << "gnuplot not installed (scripts/setup.sh installs it)";
  const auto dir = std::filesystem::temp_directory_path() / "ei8_figure_test";
  std::filesystem::create_directories(dir);
  Figure lines;
  lines.title = "Overflow error vs accumulator width";
  lines.xlabel = "accumulator width (bits)";
  lines.ylabel = "MSE (LSB^2)";
  lines.logy = true;
  lines.series = {{.label = "wrap", .x = {12, 16, 20}, .y = {1e6, 1e3, 1}},
                  {.label = "saturate", .x = {12, 16, 20}, .y = {1e3, 10, 1}}};
  for (const auto& [name, fig] : {std::pair{"bars", bars()}, std::pair{"lines", lines}}) {
    const std::string stem = (dir / name).string();
    Status s = render(fig, stem);
    ASSERT_TRUE(s.ok()) << s.message();
    const std::string png = read_file(stem + ".png").value();
    EXPECT_EQ(png.substr(1, 3), "PNG");
    EXPECT_GT(png.size(), 2000u);
    const std::string svg = read_file(stem + ".svg").value();
    EXPECT_NE(svg.find("<svg"), std::string::npos);
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace ei8::report
