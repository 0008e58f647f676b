#include "ei8/report/document.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "ei8/core/npy.h"
#include "ei8/report/figure.h"
#include "ei8/report/html_check.h"

namespace ei8::report {
namespace {

TEST(Document, Base64MatchesRfc4648Vectors) {
  EXPECT_EQ(base64_encode(""), "");
  EXPECT_EQ(base64_encode("f"), "Zg==");
  EXPECT_EQ(base64_encode("fo"), "Zm8=");
  EXPECT_EQ(base64_encode("foo"), "Zm9v");
  EXPECT_EQ(base64_encode("foobar"), "Zm9vYmFy");
}

TEST(Document, RendersMarkdownAndSelfContainedHtml) {
  const auto dir = std::filesystem::temp_directory_path() / "ei8_document_test";
  std::filesystem::create_directories(dir / "figures");
  ASSERT_TRUE(write_file((dir / "figures" / "f.png").string(), "\x89PNG fake").ok());
  Table t({"layer", "K"});
  t.add_row({std::string("conv1"), 27.0});
  Document d("Report <1>");
  d.heading(2, "Part C");
  d.paragraph("Accumulator needs **21** bits for `conv2`.");
  d.bullets({"one", "two"});
  d.table(t, "bit growth");
  d.figure("figures/f.png", "a figure");
  ASSERT_TRUE(d.write((dir / "report").string()).ok());
  const std::string md = read_file((dir / "report.md").string()).value();
  EXPECT_NE(md.find("## Part C"), std::string::npos);
  EXPECT_NE(md.find("| conv1 | 27 |"), std::string::npos);
  EXPECT_NE(md.find("![a figure](figures/f.png)"), std::string::npos);
  const std::string html = read_file((dir / "report.html").string()).value();
  EXPECT_NE(html.find("<title>Report &lt;1&gt;</title>"), std::string::npos);
  EXPECT_NE(html.find("<strong>21</strong>"), std::string::npos);
  EXPECT_NE(html.find("<code>conv2</code>"), std::string::npos);
  EXPECT_NE(html.find("src=\"data:image/png;base64," + base64_encode("\x89PNG fake") + "\""),
            std::string::npos);
  EXPECT_NE(html.find("<td class=\"num\">27</td>"), std::string::npos);
  // A missing figure is an error naming the file, not a broken image.
  Document bad("x");
  bad.figure("figures/missing.png", "gone");
  Result<std::string> h = bad.to_html(dir.string());
  ASSERT_FALSE(h.ok());
  EXPECT_NE(h.status().message().find("missing.png"), std::string::npos);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace ei8::report

namespace ei8::report {
namespace {

// The report opens in a real browser and every embedded figure decodes.
TEST(Document, HtmlRendersInHeadlessChromiumWithAllImages) {
  if (find_chromium().empty()) GTEST_SKIP() << "chromium not installed (scripts/setup.sh does it)";
  if (!gnuplot_available()) GTEST_SKIP() << "gnuplot not installed";
  const auto dir = std::filesystem::temp_directory_path() / "ei8_html_test";
  std::filesystem::create_directories(dir / "figures");
  Figure f;
  f.title = "PE utilization";
  f.xlabel = "array size";
  f.ylabel = "utilization (%)";
  f.series = {{.label = "ws", .x = {8, 16, 32}, .y = {95, 80, 40}}};
  ASSERT_TRUE(render(f, (dir / "figures" / "util").string()).ok());
  Document d("Browser check");
  d.figure("figures/util.png", "utilization");
  d.figure("figures/util.png", "the same figure twice");
  ASSERT_TRUE(d.write((dir / "report").string()).ok());
  Result<HtmlCheck> c = check_html_in_browser((dir / "report.html").string());
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->images, 2);
  EXPECT_EQ(c->images_loaded, 2);
  EXPECT_EQ(c->title, "Browser check");
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace ei8::report
