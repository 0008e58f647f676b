// The layer view (graph/layer_view.h): geometry of every compute layer decoded once, checked on
// ONNX files made by other producers (PyTorch exports, onnx.helper QDQ and node-test files) and
// on hand-built graphs for the corner cases (groups, 1-D, auto_pad, ceil_mode, QDQ patterns).
#include "ei8/graph/layer_view.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "ei8/graph/onnx/onnx_io.h"
#include "ei8/graph/shape_inference.h"

namespace ei8 {
namespace {

const std::string kData = EI8_TEST_DATA_DIR;

// K computed independently of the layer view: ONNX weights are [M, C/group, k...] for Conv, so
// K = W[1]·Π W[2:]; Gemm/MatMul: K is B's reduction dimension.
int64_t k_from_weight_shape(const Graph& g, const Node& n) {
  const bool qlinear = n.op_type.rfind("QLinear", 0) == 0;
  const Shape& w = g.find_value(n.input(qlinear ? 3 : 1))->shape;
  if (n.op_type == "Conv" || n.op_type == "QLinearConv") {
    int64_t k = w[1];
    for (size_t i = 2; i < w.size(); ++i) k *= w[i];
    return k;
  }
  if (n.op_type == "Gemm") return n.attr_int("transB", 0) != 0 ? w[1] : w[0];
  return w.size() == 1 ? w[0] : w[w.size() - 2];
}

TEST(LayerView, KOfEveryLayerOfForeignModelsMatchesTheWeightShape) {
  int files = 0, layers = 0;
  for (const char* dir : {"models", "qdq", "onnx_node"}) {
    for (const auto& e : std::filesystem::directory_iterator(kData + "/" + dir)) {
      if (e.path().extension() != ".onnx") continue;
      Result<Graph> g = load_onnx(e.path().string());
      ASSERT_TRUE(g.ok()) << g.status().message();
      ASSERT_TRUE(infer_shapes(*g).ok()) << e.path();
      Result<LayerView> v = layer_view(*g);
      ASSERT_TRUE(v.ok()) << v.status().message();
      EXPECT_TRUE(v->skipped.empty()) << e.path() << ": " << v->skipped.front().reason;
      ++files;
      for (const LayerGeometry& l : v->layers) {
        if (!l.is_mac()) continue;
        const Node* n = nullptr;
        for (const Node& node : g->nodes()) {
          if (node.name == l.node) n = &node;
        }
        ASSERT_NE(n, nullptr);
        EXPECT_EQ(l.accumulation_count(), k_from_weight_shape(*g, *n)) << e.path() << " " << l.node;
        // Output spatial size agrees with shape inference.
        const Shape& y = g->find_value(l.output)->shape;
        if (l.kind == LayerKind::kConv) {
          EXPECT_EQ(l.out_w, y.back()) << l.node;
          EXPECT_EQ(l.out_channels, y[1]) << l.node;
        }
        ++layers;
      }
    }
  }
  std::printf("[ info ] %d files, %d MAC layers checked\n", files, layers);
  EXPECT_GE(files, 10);
  EXPECT_GE(layers, 15);
}

TEST(LayerView, PyTorchSignalCnnHasTheLayersOfItsDefinition) {
  // make_models.py: Conv1d(1,8,5,p2) → pool → Conv1d(8,16,5,p2) → pool → Conv1d(16,32,3,p1) →
  // Linear.
  Result<Graph> g = load_onnx(kData + "/models/signal_cnn1d.onnx");
  ASSERT_TRUE(g.ok());
  ASSERT_TRUE(infer_shapes(*g).ok());
  const LayerView v = layer_view(*g).value();
  std::vector<const LayerGeometry*> mac;
  for (const LayerGeometry& l : v.layers) {
    if (l.is_mac()) mac.push_back(&l);
  }
  ASSERT_EQ(mac.size(), 4u);
  EXPECT_EQ(mac[0]->spatial_rank, 1);
  EXPECT_EQ(mac[0]->kernel_w, 5);
  EXPECT_EQ(mac[0]->pad_left, 2);
  EXPECT_EQ(mac[0]->accumulation_count(), 5);
  EXPECT_EQ(mac[1]->accumulation_count(), 8 * 5);
  EXPECT_EQ(mac[2]->accumulation_count(), 16 * 3);
  EXPECT_EQ(mac[1]->macs(), 16 * 64 * 40);
  EXPECT_EQ(mac[3]->kind, LayerKind::kFullyConnected);
  EXPECT_EQ(mac[3]->batch, kDynamic);
  // Pools are in the view too, with the output size of shape inference.
  int pools = 0;
  for (const LayerGeometry& l : v.layers) pools += l.kind == LayerKind::kMaxPool;
  EXPECT_EQ(pools, 2);
}

Graph conv_graph(int64_t c_in, int64_t c_out, int64_t group, Shape x, Shape w) {
  Graph g("conv");
  g.add_input("x", DType::kF32, std::move(x));
  g.add_initializer("w", Tensor::zeros(DType::kF32, std::move(w)));
  Node& n = g.add_node("Conv", "c", {"x", "w"}, {"y"});
  n.set("group", group);
  (void)c_in;
  (void)c_out;
  g.add_output("y");
  return g;
}

TEST(LayerView, GroupedDepthwiseAndOneDimensional) {
  Graph dw = conv_graph(8, 8, 8, {1, 8, 10, 10}, {8, 1, 3, 3});
  dw.nodes()[0].set("pads", std::vector<int64_t>{1, 1, 1, 1});
  dw.nodes()[0].set("strides", std::vector<int64_t>{2, 2});
  ASSERT_TRUE(infer_shapes(dw).ok());
  const LayerGeometry d = decode_layer(dw, dw.nodes()[0]).value();
  EXPECT_EQ(d.groups, 8);
  EXPECT_EQ(d.accumulation_count(), 9);
  EXPECT_EQ(d.out_h, 5);
  EXPECT_EQ(d.out_w, 5);
  EXPECT_EQ(d.macs(), 8 * 25 * 9);
  EXPECT_EQ(d.weight_numel(), 72);

  Graph one = conv_graph(4, 6, 2, {kDynamic, 4, 31}, {6, 2, 5});
  one.nodes()[0].set("auto_pad", std::string("SAME_UPPER"));
  one.nodes()[0].set("dilations", std::vector<int64_t>{2});
  ASSERT_TRUE(infer_shapes(one).ok());
  const LayerGeometry o = decode_layer(one, one.nodes()[0]).value();
  EXPECT_EQ(o.spatial_rank, 1);
  EXPECT_EQ(o.batch, kDynamic);
  EXPECT_EQ(o.accumulation_count(), 2 * 5);
  EXPECT_EQ(o.pad_left + o.pad_right, 8);  // SAME: (5-1)·2 padding in total
  EXPECT_EQ(o.out_w, 31);
  EXPECT_EQ(o.in_h, 1);
  EXPECT_EQ(o.kernel_h, 1);
}

TEST(LayerView, BadAttributesAreSkippedWithTheReasonNotFatal) {
  Graph g = conv_graph(3, 4, 1, {1, 3, 8, 8}, {4, 3, 3, 3});
  ASSERT_TRUE(infer_shapes(g).ok());
  g.nodes()[0].set("strides", std::vector<int64_t>{0, 1});
  Result<LayerView> v = layer_view(g);
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(v->layers.empty());
  ASSERT_EQ(v->skipped.size(), 1u);
  EXPECT_NE(v->skipped[0].reason.find("must be >= 1"), std::string::npos) << v->skipped[0].reason;
  // decode_layer itself is a clear error, and so is a wrong kernel rank.
  EXPECT_FALSE(decode_layer(g, g.nodes()[0]).ok());
  const Shape x = {1, 3, 8, 8}, w3 = {4, 3, 3};
  const std::vector<Shape> in = {x, w3};
  EXPECT_FALSE(decode_layer(g.nodes()[0], in, {}).ok());
}

TEST(LayerView, QdqModelCarriesItsIntegerOperands) {
  Result<Graph> g = load_onnx(kData + "/qdq/qdq_pertensor.onnx");
  ASSERT_TRUE(g.ok());
  ASSERT_TRUE(infer_shapes(*g).ok());
  const LayerView v = layer_view(*g).value();
  const LayerGeometry* conv = nullptr;
  const LayerGeometry* gemm = nullptr;
  for (const LayerGeometry& l : v.layers) {
    if (l.op_type == "Conv") conv = &l;
    if (l.op_type == "Gemm") gemm = &l;
  }
  ASSERT_NE(conv, nullptr);
  ASSERT_TRUE(conv->quant.has_value()) << conv->unquantized_reason;
  EXPECT_EQ(conv->quant->form, "qdq");
  EXPECT_EQ(conv->quant->weight.dtype, DType::kS8);
  ASSERT_TRUE(conv->quant->bias.has_value());
  EXPECT_EQ(conv->quant->bias->dtype, DType::kS32);
  ASSERT_TRUE(conv->quant->output.has_value());
  EXPECT_EQ(conv->quant->activation, "Relu");  // Conv → Relu → QuantizeLinear
  // The Gemm reads Flatten(DequantizeLinear(...)): the view looks through the layout op.
  ASSERT_NE(gemm, nullptr);
  ASSERT_TRUE(gemm->quant.has_value()) << gemm->unquantized_reason;
  EXPECT_TRUE(gemm->trans_b);
  EXPECT_EQ(gemm->quant->input.scales.size(), 1u);
}

TEST(LayerView, AFloatOpBeforeTheLayerLeavesItUnquantizedWithAReason) {
  Result<Graph> g = load_onnx(kData + "/qdq/qdq_pertensor.onnx");
  ASSERT_TRUE(g.ok());
  // Put a float Sigmoid between the first DequantizeLinear and the Conv.
  for (Node& n : g->nodes()) {
    if (n.op_type == "Conv") {
      const std::string x = n.inputs[0];
      n.inputs[0] = "sig";
      g->add_node("Sigmoid", "float_op", {x}, {"sig"});
      break;
    }
  }
  ASSERT_TRUE(g->sort_topologically().ok());
  ASSERT_TRUE(infer_shapes(*g).ok());
  const LayerView v = layer_view(*g).value();
  for (const LayerGeometry& l : v.layers) {
    if (l.op_type != "Conv") continue;
    EXPECT_FALSE(l.quant.has_value());
    EXPECT_NE(l.unquantized_reason.find("Sigmoid"), std::string::npos) << l.unquantized_reason;
    EXPECT_EQ(l.accumulation_count(), 27);  // the geometry is still there
  }
}

TEST(LayerView, PoolCeilModeTakesTheInferredOutput) {
  Graph g("pool");
  g.add_input("x", DType::kF32, {1, 2, 7, 7});
  Node& n = g.add_node("MaxPool", "p", {"x"}, {"y"});
  n.set("kernel_shape", std::vector<int64_t>{2, 2});
  n.set("strides", std::vector<int64_t>{2, 2});
  n.set("ceil_mode", int64_t{1});
  g.add_output("y");
  ASSERT_TRUE(infer_shapes(g).ok());
  const LayerGeometry l = decode_layer(g, g.nodes()[0]).value();
  EXPECT_EQ(l.kind, LayerKind::kMaxPool);
  EXPECT_EQ(l.out_h, 4);
  EXPECT_TRUE(l.ceil_mode);
  EXPECT_EQ(l.accumulation_count(), 4);
  EXPECT_EQ(l.macs(), 0);
}

}  // namespace
}  // namespace ei8

namespace ei8 {
namespace {

Tensor scalar_f32(float v) {
  Tensor t = Tensor::zeros(DType::kF32, {});
  t.span<float>()[0] = v;
  return t;
}

// What the int8 lowering and the integer FC op read from the view instead of the attributes:
// Gemm's transposes, alpha and beta, the weight rank and the axis of its output channels.
TEST(LayerView, GemmTransposesAlphaBetaAndWeightChannelAxis) {
  Graph g("gemm");
  g.add_input("a", DType::kF32, {6, 3});                       // transA: A is [K = 6, M = 3]
  g.add_initializer("b", Tensor::zeros(DType::kF32, {4, 6}));  // transB: [N = 4, K = 6]
  g.add_initializer("c", Tensor::zeros(DType::kF32, {4}));
  Node& n = g.add_node("Gemm", "fc", {"a", "b", "c"}, {"y"});
  n.set("transA", int64_t{1});
  n.set("transB", int64_t{1});
  n.set("alpha", 0.5f);
  n.set("beta", 2.0f);
  g.add_output("y");
  ASSERT_TRUE(infer_shapes(g).ok());
  const LayerGeometry l = decode_layer(g, g.nodes()[0]).value();
  EXPECT_TRUE(l.trans_a);
  EXPECT_TRUE(l.trans_b);
  EXPECT_EQ(l.alpha, 0.5f);
  EXPECT_EQ(l.beta, 2.0f);
  EXPECT_EQ(l.weight_rank, 2);
  EXPECT_EQ(l.weight_channel_axis(), 0);
  EXPECT_EQ(l.in_channels, 6);
  EXPECT_EQ(l.out_channels, 4);
  EXPECT_EQ(l.bias, "c");

  // Defaults, a batched MatMul (N is B's last axis) and a 1-D B (no channel axis).
  std::vector<Shape> in = {{2, 5, 6}, {2, 6, 7}};
  Node mm;
  mm.name = "mm";
  mm.op_type = "MatMul";
  mm.inputs = {"x", "w"};
  mm.outputs = {"y"};
  const LayerGeometry m = decode_layer(mm, in, {}).value();
  EXPECT_FALSE(m.trans_a);
  EXPECT_FALSE(m.trans_b);
  EXPECT_EQ(m.alpha, 1.0f);
  EXPECT_EQ(m.beta, 1.0f);
  EXPECT_EQ(m.weight_rank, 3);
  EXPECT_EQ(m.weight_batches, 2);
  EXPECT_EQ(m.weight_channel_axis(), 2);
  in[1] = {6};
  EXPECT_EQ(decode_layer(mm, in, {}).value().weight_channel_axis(), -1);

  std::vector<Shape> conv_in = {{1, 4, 8, 8}, {6, 2, 3, 3}};
  Node cv;
  cv.name = "cv";
  cv.op_type = "Conv";
  cv.inputs = {"x", "w"};
  cv.outputs = {"y"};
  cv.set("group", int64_t{2});
  const LayerGeometry c = decode_layer(cv, conv_in, {}).value();
  EXPECT_EQ(c.weight_rank, 4);
  EXPECT_EQ(c.weight_channel_axis(), 0);
  EXPECT_EQ(c.accumulation_count(), 18);
}

// MatMulIntegerToFloat (what the lowering makes of DQ → MatMul without a Q after it) is a fully
// connected layer with its integer operands' scales and zero points.
TEST(LayerView, MatMulIntegerToFloatIsAQuantizedFullyConnectedLayer) {
  Graph g("mmitf");
  g.add_input("a", DType::kU8, {3, 5});
  g.add_initializer("b", Tensor::zeros(DType::kS8, {5, 4}));
  g.add_initializer("sa", scalar_f32(0.25f));
  g.add_initializer("sb", scalar_f32(0.125f));
  Tensor za = Tensor::zeros(DType::kU8, {});
  za.span<uint8_t>()[0] = 7;
  g.add_initializer("za", za);
  g.add_initializer("zb", Tensor::zeros(DType::kS8, {}));
  g.add_node("MatMulIntegerToFloat", "mm", {"a", "b", "sa", "sb", "za", "zb"}, {"y"});
  g.add_output("y");
  ASSERT_TRUE(infer_shapes(g).ok());
  const LayerView v = layer_view(g).value();
  ASSERT_EQ(v.layers.size(), 1u);
  const LayerGeometry& l = v.layers[0];
  EXPECT_EQ(l.kind, LayerKind::kFullyConnected);
  EXPECT_EQ(l.accumulation_count(), 5);
  EXPECT_EQ(l.out_channels, 4);
  EXPECT_EQ(l.macs(), 5 * 4);  // per sample (a row of A)
  ASSERT_TRUE(l.quant.has_value()) << l.unquantized_reason;
  EXPECT_EQ(l.quant->form, "qlinear");
  EXPECT_EQ(l.quant->input.scales, std::vector<float>{0.25f});
  EXPECT_EQ(l.quant->input.zero_points, std::vector<int32_t>{7});
  EXPECT_EQ(l.quant->input.dtype, DType::kU8);
  EXPECT_EQ(l.quant->weight.scales, std::vector<float>{0.125f});
  EXPECT_EQ(l.quant->weight.dtype, DType::kS8);
  EXPECT_FALSE(l.quant->output.has_value());
}

}  // namespace
}  // namespace ei8
