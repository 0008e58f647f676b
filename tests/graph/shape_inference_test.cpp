#include "ei8/graph/shape_inference.h"

#include <gtest/gtest.h>

#include <limits>

namespace ei8 {
namespace {

// Output shape of one node applied to inputs with the given shapes.
Result<Shape> one(const std::string& op, std::vector<Shape> in,
                  std::map<std::string, AttrValue, std::less<>> attrs = {}) {
  Graph g;
  Node n;
  n.op_type = op;
  n.name = "n";
  for (size_t i = 0; i < in.size(); ++i) n.inputs.push_back(fmt::format("i{}", i));
  n.outputs = {"y"};
  n.attrs = std::move(attrs);
  auto r = infer_node_shapes(g, n, in);
  if (!r.ok()) return r.status();
  return r.value()[0];
}

TEST(ShapeInference, HugeShapesAreRejectedNotOverflowed) {
  // Found by the ONNX importer fuzzer: 3 x 3458764660227145787 overflowed int64_t.
  auto r = one("Reshape", {{2, 3}}, {{"shape", std::vector<int64_t>{3, 3458764660227145787, -1}}});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("more than 2^31 elements"), std::string::npos)
      << r.status().message();
  EXPECT_FALSE(one("Relu", {{1 << 20, 1 << 20}}).ok());
  EXPECT_FALSE(
      one("Reshape", {{2, 3}}, {{"shape", std::vector<int64_t>{int64_t{1} << 62, 0}}}).ok());
  EXPECT_EQ(one("Relu", {{kDynamic, 1 << 15, 1 << 15}}).value(),
            (Shape{kDynamic, 1 << 15, 1 << 15}));
}

TEST(ShapeInference, ConvStridesPadsDilationsGroups) {
  // 32 + 2 - 3 = 31, /2 = 15, +1 = 16
  EXPECT_EQ(
      one("Conv", {{kDynamic, 3, 32, 32}, {8, 3, 3, 3}},
          {{"strides", std::vector<int64_t>{2, 2}}, {"pads", std::vector<int64_t>{1, 1, 1, 1}}})
          .value(),
      (Shape{kDynamic, 8, 16, 16}));
  // dilation 2: effective kernel 5, 10 - 5 + 1 = 6
  EXPECT_EQ(one("Conv", {{1, 4, 10}, {6, 2, 3}},
                {{"dilations", std::vector<int64_t>{2}}, {"group", int64_t{2}}})
                .value(),
            (Shape{1, 6, 6}));
  // depthwise
  EXPECT_EQ(one("Conv", {{2, 5, 7, 7}, {5, 1, 3, 3}}, {{"group", int64_t{5}}}).value(),
            (Shape{2, 5, 5, 5}));
  EXPECT_FALSE(one("Conv", {{2, 4, 7, 7}, {5, 1, 3, 3}}, {{"group", int64_t{5}}}).ok());
  EXPECT_FALSE(one("Conv", {{1, 3, 2, 2}, {8, 3, 3, 3}}).ok());  // kernel larger than input
}

TEST(ShapeInference, AutoPadSameUpperAndLower) {
  Node n;
  n.op_type = "Conv";
  n.set("auto_pad", std::string("SAME_UPPER"));
  n.set("strides", std::vector<int64_t>{2});
  const int64_t in[] = {8};
  const int64_t k[] = {4};
  // out = 4, total = 3*2 + 4 - 8 = 2 -> 1, 1 ; k = 3: total = 6+3-8 = 1 -> upper: 0,1 lower: 1,0
  EXPECT_EQ(resolve_pads(n, in, k), (std::vector<int64_t>{1, 1}));
  const int64_t k3[] = {3};
  EXPECT_EQ(resolve_pads(n, in, k3), (std::vector<int64_t>{0, 1}));
  n.set("auto_pad", std::string("SAME_LOWER"));
  EXPECT_EQ(resolve_pads(n, in, k3), (std::vector<int64_t>{1, 0}));
}

TEST(ShapeInference, PoolCeilModeDropsWindowInPaddingOnly) {
  // floor: (6 - 3)/2 + 1 = 2 ; ceil: ceil(3/2) + 1 = 3
  auto attrs = [](int64_t ceil) {
    return std::map<std::string, AttrValue, std::less<>>{
        {"kernel_shape", std::vector<int64_t>{3, 3}},
        {"strides", std::vector<int64_t>{2, 2}},
        {"ceil_mode", ceil}};
  };
  EXPECT_EQ(one("MaxPool", {{1, 2, 6, 6}}, attrs(0)).value(), (Shape{1, 2, 2, 2}));
  EXPECT_EQ(one("MaxPool", {{1, 2, 6, 6}}, attrs(1)).value(), (Shape{1, 2, 3, 3}));
  // in 5, k 2, s 2, pad 1/1: span = 5; ceil -> 4, but window 3 starts at 6 >= 5 + 1 -> 3.
  auto a = attrs(1);
  a["kernel_shape"] = std::vector<int64_t>{2, 2};
  a["pads"] = std::vector<int64_t>{1, 1, 1, 1};
  EXPECT_EQ(one("AveragePool", {{1, 1, 5, 5}}, a).value(), (Shape{1, 1, 3, 3}));
}

TEST(ShapeInference, ReshapeFlattenWithDynamicBatch) {
  EXPECT_EQ(
      one("Reshape", {{kDynamic, 16, 4, 4}}, {{"shape", std::vector<int64_t>{0, -1}}}).value(),
      (Shape{kDynamic, 256}));
  EXPECT_EQ(one("Reshape", {{2, 16, 4, 4}}, {{"shape", std::vector<int64_t>{-1, 64}}}).value(),
            (Shape{8, 64}));
  EXPECT_EQ(
      one("Reshape", {{kDynamic, 16, 4, 4}}, {{"shape", std::vector<int64_t>{-1, 256}}}).value(),
      (Shape{kDynamic, 256}));
  EXPECT_FALSE(one("Reshape", {{2, 3}}, {{"shape", std::vector<int64_t>{4, -1}}}).ok());
  EXPECT_FALSE(one("Reshape", {{2, 3}}, {{"shape", std::vector<int64_t>{-1, -1}}}).ok());
  EXPECT_EQ(one("Flatten", {{kDynamic, 3, 4, 5}}).value(), (Shape{kDynamic, 60}));
  EXPECT_EQ(one("Flatten", {{2, 3, 4, 5}}, {{"axis", int64_t{0}}}).value(), (Shape{1, 120}));
}

TEST(ShapeInference, GemmMatMulBroadcastConcatTransposePad) {
  EXPECT_EQ(one("Gemm", {{5, 7}, {3, 7}, {3}}, {{"transB", int64_t{1}}}).value(), (Shape{5, 3}));
  EXPECT_EQ(one("Gemm", {{7, 5}, {7, 3}}, {{"transA", int64_t{1}}}).value(), (Shape{5, 3}));
  EXPECT_FALSE(one("Gemm", {{5, 7}, {3, 7}}).ok());
  EXPECT_EQ(one("MatMul", {{2, 1, 4, 5}, {3, 5, 6}}).value(), (Shape{2, 3, 4, 6}));
  EXPECT_EQ(one("MatMul", {{4, 5}, {5}}).value(), (Shape{4}));
  EXPECT_EQ(one("Add", {{kDynamic, 8, 4, 4}, {8, 1, 1}}).value(), (Shape{kDynamic, 8, 4, 4}));
  EXPECT_FALSE(one("Mul", {{2, 3}, {4}}).ok());
  EXPECT_EQ(one("Concat", {{1, 2, 5}, {1, 3, 5}}, {{"axis", int64_t{-2}}}).value(),
            (Shape{1, 5, 5}));
  EXPECT_EQ(one("Transpose", {{1, 2, 3}}, {{"perm", std::vector<int64_t>{2, 0, 1}}}).value(),
            (Shape{3, 1, 2}));
  EXPECT_FALSE(one("Transpose", {{1, 2, 3}}, {{"perm", std::vector<int64_t>{0, 0, 1}}}).ok());
  EXPECT_EQ(
      one("Pad", {{1, 2, 3, 3}}, {{"pads", std::vector<int64_t>{0, 0, 1, 2, 0, 0, 3, 4}}}).value(),
      (Shape{1, 2, 7, 9}));
  EXPECT_EQ(one("GlobalAveragePool", {{kDynamic, 8, 5, 5}}).value(), (Shape{kDynamic, 8, 1, 1}));
}

TEST(ShapeInference, MacsOfConvAndGemm) {
  Node conv;
  conv.op_type = "Conv";
  // out 1x8x16x16 = 2048 elements, each 3*3*3 = 27 MACs
  EXPECT_EQ(node_macs(conv, {{1, 3, 32, 32}, {8, 3, 3, 3}}, {{1, 8, 16, 16}}), 2048 * 27);
  Node gemm;
  gemm.op_type = "Gemm";
  EXPECT_EQ(node_macs(gemm, {{kDynamic, 64}, {64, 10}}, {{kDynamic, 10}}), 640);
}

TEST(ShapeInference, InferShapesFillsValuesAndResolvesAutoPad) {
  Graph g;
  g.add_input("x", DType::kF32, {kDynamic, 1, 9});
  g.add_initializer("w", Tensor::zeros(DType::kF32, {4, 1, 3}));
  g.add_node("Conv", "c", {"x", "w"}, {"y"}).set("auto_pad", std::string("SAME_UPPER"));
  g.add_node("QuantizeLinear", "q", {"y", "s", "z"}, {"yq"});
  g.add_initializer("s", Tensor::from<float>({}, {0.5f}));
  g.add_initializer("z", Tensor::from<int8_t>({}, {int8_t{0}}));
  g.add_output("yq");
  ASSERT_TRUE(infer_shapes(g).ok());
  EXPECT_EQ(g.find_value("y")->shape, (Shape{kDynamic, 4, 9}));
  EXPECT_EQ(g.find_value("yq")->dtype, DType::kS8);
  EXPECT_EQ(g.nodes()[0].attr_ints("pads"), (std::vector<int64_t>{1, 1}));
  EXPECT_FALSE(g.nodes()[0].has("auto_pad"));
}

}  // namespace
}  // namespace ei8

namespace ei8 {
namespace {

using Attrs = std::map<std::string, AttrValue, std::less<>>;
using I = std::vector<int64_t>;

TEST(ShapeInference, ReduceKeepdimsNegativeAxesAndBadAxes) {
  EXPECT_EQ(one("ReduceMean", {{kDynamic, 8, 5, 5}}, {{"axes", I{2, 3}}}).value(),
            (Shape{kDynamic, 8, 1, 1}));
  EXPECT_EQ(
      one("ReduceMean", {{kDynamic, 8, 5, 5}}, {{"axes", I{-1, -2}}, {"keepdims", int64_t{0}}})
          .value(),
      (Shape{kDynamic, 8}));
  EXPECT_EQ(one("ReduceSum", {{2, 3}}, {{"keepdims", int64_t{0}}}).value(), Shape{});  // all
  EXPECT_EQ(one("ReduceMax", {{2, 3, 4}}, {{"axes", I{1}}}).value(), (Shape{2, 1, 4}));
  auto bad = one("ReduceMean", {{2, 3}}, {{"axes", I{2}}});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("axes entry = 2, must be in [-2, 1]"), std::string::npos)
      << bad.status().message();
  EXPECT_FALSE(one("ReduceSum", {{2, 3}}, {{"axes", I{1, -1}}}).ok());  // repeated
  EXPECT_FALSE(one("ReduceMax", {{2, 0}}, {{"axes", I{1}}}).ok());      // max of nothing
}

TEST(ShapeInference, SliceClampsNegativesStepsAndRejectsZeroStep) {
  Attrs a = {{"starts", I{1, -3}},
             {"ends", I{std::numeric_limits<int64_t>::max(), -1}},
             {"axes", I{0, -1}}};
  EXPECT_EQ(one("Slice", {{5, 8}}, a).value(), (Shape{4, 2}));
  a = {{"starts", I{-1}},
       {"ends", I{std::numeric_limits<int64_t>::min()}},
       {"axes", I{1}},
       {"steps", I{-2}}};
  EXPECT_EQ(one("Slice", {{kDynamic, 7}}, a).value(), (Shape{kDynamic, 4}));  // 6, 4, 2, 0
  a = {{"starts", I{0}}, {"ends", I{2}}, {"axes", I{0}}};
  EXPECT_EQ(one("Slice", {{kDynamic, 7}}, a).value(), (Shape{kDynamic, 7}));  // runtime axis
  a = {{"starts", I{0}}, {"ends", I{2}}, {"axes", I{1}}, {"steps", I{0}}};
  auto bad = one("Slice", {{3, 4}}, a);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("steps[0] = 0, must be non-zero"), std::string::npos);
  a = {{"starts", I{0}}, {"ends", I{2}}, {"axes", I{2}}};
  EXPECT_FALSE(one("Slice", {{3, 4}}, a).ok());  // axis out of range
  a = {{"starts", I{0, 1}}, {"ends", I{2}}};
  EXPECT_FALSE(one("Slice", {{3, 4}}, a).ok());  // unequal lengths
}

TEST(ShapeInference, SplitSizesGatherExpandPow) {
  Graph g;
  Node n;
  n.op_type = "Split";
  n.name = "split";
  n.inputs = {"x"};
  n.outputs = {"a", "b"};
  n.set("axis", int64_t{-1});
  n.set("split", I{1, 4});
  auto s = infer_node_shapes(g, n, {{kDynamic, 2, 5}});
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_EQ(s.value()[0], (Shape{kDynamic, 2, 1}));
  EXPECT_EQ(s.value()[1], (Shape{kDynamic, 2, 4}));
  n.set("split", I{2, 2});
  auto bad = infer_node_shapes(g, n, {{kDynamic, 2, 5}});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("add up to 4, must add up to the axis size 5"),
            std::string::npos)
      << bad.status().message();
  n.erase("split");
  EXPECT_FALSE(infer_node_shapes(g, n, {{1, 2, 5}}).ok());  // 5 into 2 equal parts
  EXPECT_EQ(infer_node_shapes(g, n, {{1, 2, 6}}).value()[1], (Shape{1, 2, 3}));

  EXPECT_EQ(one("Gather", {{kDynamic, 197, 768}},
                {{"axis", int64_t{1}}, {"indices", I{0}}, {"indices_shape", I{}}})
                .value(),
            (Shape{kDynamic, 768}));
  EXPECT_EQ(one("Gather", {{4, 5}},
                {{"axis", int64_t{-1}}, {"indices", I{0, -1, 2, 3}}, {"indices_shape", I{2, 2}}})
                .value(),
            (Shape{4, 2, 2}));
  EXPECT_FALSE(one("Gather", {{4, 5}}, {{"indices", I{4}}}).ok());  // index out of range
  EXPECT_FALSE(one("Gather", {{4, 5}}, {{"indices", I{0, 1}}, {"indices_shape", I{3}}}).ok());

  EXPECT_EQ(one("Expand", {{1, 1, 4}}, {{"shape", I{3, 1, 1}}}).value(), (Shape{3, 1, 4}));
  EXPECT_EQ(one("Expand", {{1, 1, 4}, {kDynamic, 9, 4}},
                {{"shape", I{1, 1, 1}}, {"like_axes", I{0, -1, -1}}})
                .value(),
            (Shape{kDynamic, 1, 4}));
  EXPECT_FALSE(one("Expand", {{4}}, {{"shape", I{3}}}).ok());
  EXPECT_FALSE(one("Expand", {{4}}, {{"shape", I{-2}}}).ok());
  EXPECT_FALSE(one("Expand", {{1, 4}, {2}}, {{"shape", I{1, 1}}, {"like_axes", I{3, -1}}}).ok());
  EXPECT_EQ(one("Pow", {{kDynamic, 3, 8}, {}}).value(), (Shape{kDynamic, 3, 8}));
  EXPECT_EQ(one("HardSwish", {{2, 3}}).value(), (Shape{2, 3}));
}

}  // namespace
}  // namespace ei8
