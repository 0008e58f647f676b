#include "ei8/core/status.h"

#include <gtest/gtest.h>

namespace ei8 {
namespace {

Result<int> parse_positive(int v) {
  if (v <= 0) return invalid_argument("cannot parse value: v = {}, must be > 0", v);
  return v;
}

Result<int> doubled(int v) {
  EI8_ASSIGN_OR_RETURN(int x, parse_positive(v));
  return 2 * x;
}

Status check(int v) {
  EI8_RETURN_IF_ERROR(parse_positive(v).status());
  return {};
}

TEST(Status, OkByDefault) {
  Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kOk);
}

TEST(Status, ErrorCarriesCodeAndMessageShape) {
  Status s = invalid_argument("cannot set width: bits = {}, must be in [2, 64]", 70);
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "cannot set width: bits = 70, must be in [2, 64]");
  EXPECT_EQ(s.with_context("topo.csv:3").message(),
            "topo.csv:3: cannot set width: bits = 70, must be in [2, 64]");
}

TEST(Result, PropagatesValueAndError) {
  EXPECT_EQ(doubled(4).value(), 8);
  Result<int> bad = doubled(-1);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(), "cannot parse value: v = -1, must be > 0");
  EXPECT_TRUE(check(3).ok());
  EXPECT_EQ(check(0).code(), StatusCode::kInvalidArgument);
}

TEST(Result, OkStatusIsNotAValue) {
  Result<int> r = Status{};
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInternal);
}

TEST(ResultDeathTest, ValueOfErrorAborts) {
  Result<int> r = not_found("cannot find x");
  EXPECT_DEATH((void)r.value(), "cannot find x");
}

}  // namespace
}  // namespace ei8
