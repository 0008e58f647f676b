#include "ei8/report/table.h"

#include <gtest/gtest.h>

namespace ei8::report {
namespace {

Table sample() {
  Table t({"method", "accuracy", "note"});
  t.add_row({std::string("minmax"), 98.25, std::string("plain")});
  t.add_row({std::string("entropy"), 1.0 / 3.0, std::string("has, comma and \"quotes\"")});
  return t;
}

TEST(Table, CsvRoundTripKeepsTextExactly) {
  const Table t = sample();
  const std::string csv = t.to_csv();
  EXPECT_EQ(csv,
            "method,accuracy,note\nminmax,98.25,plain\n"
            "entropy,0.3333333333,\"has, comma and \"\"quotes\"\"\"\n");
  Result<Table> back = Table::parse_csv(csv, "mem.csv");
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(back->columns(), t.columns());
  ASSERT_EQ(back->num_rows(), 2u);
  EXPECT_EQ(back->text(1, "note").value(), "has, comma and \"quotes\"");
  EXPECT_EQ(back->text(1, "accuracy").value(), t.text(1, "accuracy").value());
  EXPECT_DOUBLE_EQ(back->number(0, "accuracy").value(), 98.25);
  EXPECT_EQ(back->find_row("method", "entropy").value(), 1u);
}

TEST(Table, PrecisionAppliesToCsvAndMarkdown) {
  Table t = sample();
  t.set_precision("accuracy", 2);
  EXPECT_EQ(t.text(1, "accuracy").value(), "0.33");
  const std::string md = t.to_markdown();
  EXPECT_NE(md.find("| method | accuracy | note |"), std::string::npos);
  EXPECT_NE(md.find("|---|---:|---|"), std::string::npos);
  EXPECT_NE(md.find("| entropy | 0.33 |"), std::string::npos);
}

TEST(Table, JsonHasNumbersAsNumbers) {
  const std::string js = sample().to_json();
  EXPECT_NE(js.find("\"accuracy\": 98.25"), std::string::npos);
  EXPECT_NE(js.find("\"method\": \"minmax\""), std::string::npos);
}

TEST(Table, BadCsvNamesFileAndLine) {
  Result<Table> t = Table::parse_csv("a,b\n1,2\n3\n", "x.csv");
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().message(),
            "x.csv:3: cannot parse CSV row: fields = 1, must be 2 (the header's count)");
  EXPECT_FALSE(Table::parse_csv("", "e.csv").ok());
  EXPECT_FALSE(Table::parse_csv("a\n\"open", "q.csv").ok());
  Table ok = Table::parse_csv("a,b\r\n1,x\r\n", "crlf.csv").value();
  EXPECT_EQ(ok.text(0, "b").value(), "x");
  EXPECT_FALSE(ok.number(0, "b").ok());
  EXPECT_FALSE(ok.column_index("c").ok());
}

}  // namespace
}  // namespace ei8::report
