#include "ei8/graph/graph.h"

#include <gtest/gtest.h>

namespace ei8 {
namespace {

Graph chain() {
  Graph g("chain");
  g.add_input("x", DType::kF32, {kDynamic, 4});
  g.add_initializer("w", Tensor::zeros(DType::kF32, {3, 4}));
  g.add_node("Gemm", "fc", {"x", "w"}, {"h"}).set("transB", int64_t{1});
  g.add_node("Relu", "relu", {"h"}, {"y"});
  g.add_output("y");
  return g;
}

TEST(Graph, BuildsAndValidates) {
  Graph g = chain();
  ASSERT_TRUE(g.validate().ok()) << g.validate().message();
  EXPECT_EQ(g.nodes().size(), 2u);
  EXPECT_EQ(g.producer("h")->name, "fc");
  EXPECT_EQ(g.consumers("h"), std::vector<size_t>{1});
  EXPECT_NE(g.constant("w"), nullptr);
  EXPECT_EQ(g.constant("x"), nullptr);
  EXPECT_EQ(g.parameter_count(), 12);
  EXPECT_EQ(g.parameter_bytes(), 48);
  EXPECT_EQ(g.nodes()[0].attr_int("transB"), 1);
  EXPECT_EQ(g.nodes()[0].attr_int("transA", 7), 7);        // absent -> default
  EXPECT_EQ(g.nodes()[0].attr_float("transB", 2.f), 2.f);  // other type -> default
}

TEST(Graph, TopologicalOrderFixesReversedNodes) {
  Graph g = chain();
  std::swap(g.nodes()[0], g.nodes()[1]);
  auto order = g.topological_order();
  ASSERT_EQ(order.size(), 2u);
  EXPECT_EQ(order[0]->name, "fc");
  ASSERT_TRUE(g.sort_topologically().ok());
  EXPECT_EQ(g.nodes()[0].name, "fc");
}

TEST(Graph, ValidateRejectsUndefinedInputDuplicateNamesAndCycles) {
  Graph g = chain();
  g.nodes()[1].inputs[0] = "nope";
  Status s = g.validate();
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("'nope'"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("'relu'"), std::string::npos) << s.message();

  Graph d = chain();
  d.nodes()[1].name = "fc";
  EXPECT_FALSE(d.validate().ok());

  Graph c("cycle");
  c.add_input("x", DType::kF32, {1});
  c.add_node("Add", "a", {"x", "b_out"}, {"a_out"});
  c.add_node("Relu", "b", {"a_out"}, {"b_out"});
  c.add_output("b_out");
  EXPECT_FALSE(c.validate().ok());
  EXPECT_FALSE(c.sort_topologically().ok());
}

TEST(Graph, RemoveDeadNodesAndReplaceUses) {
  Graph g = chain();
  g.add_node("Sigmoid", "unused", {"h"}, {"dead"});
  g.add_initializer("orphan", Tensor::zeros(DType::kF32, {2}));
  g.remove_dead_nodes();
  EXPECT_EQ(g.nodes().size(), 2u);
  EXPECT_EQ(g.find_value("dead"), nullptr);
  EXPECT_EQ(g.find_value("orphan"), nullptr);
  g.replace_uses("h", "x");
  EXPECT_EQ(g.nodes()[1].inputs[0], "x");
  EXPECT_EQ(g.unique_value_name("x"), "x_1");
  EXPECT_EQ(g.unique_node_name("relu"), "relu_1");
}

}  // namespace
}  // namespace ei8
