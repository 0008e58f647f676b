#include "ei8/graph/onnx/onnx_io.h"

#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>

#include <filesystem>
#include <limits>

#include "ei8/core/npy.h"
#include "ei8/core/rng.h"
#include "ei8/graph/passes.h"
#include "ei8/graph/shape_inference.h"
#include "ei8/graph/summary.h"

namespace ei8 {
namespace {

// A ModelProto builder for hand-made ONNX files (what PyTorch's exporter writes).
struct ModelBuilder {
  onnx::ModelProto m;
  onnx::GraphProto* g;
  explicit ModelBuilder(int64_t opset) {
    m.set_ir_version(7);
    auto* o = m.add_opset_import();
    o->set_version(opset);
    g = m.mutable_graph();
    g->set_name("hand");
  }
  void input(const std::string& name, std::vector<int64_t> dims) {
    auto* vi = g->add_input();
    vi->set_name(name);
    auto* tt = vi->mutable_type()->mutable_tensor_type();
    tt->set_elem_type(onnx::TensorProto::FLOAT);
    for (int64_t d : dims) {
      auto* dim = tt->mutable_shape()->add_dim();
      if (d < 0) {
        dim->set_dim_param("N");
      } else {
        dim->set_dim_value(d);
      }
    }
  }
  void output(const std::string& name) { g->add_output()->set_name(name); }
  onnx::TensorProto* floats(const std::string& name, std::vector<int64_t> dims,
                            std::vector<float> v) {
    auto* t = g->add_initializer();
    t->set_name(name);
    t->set_data_type(onnx::TensorProto::FLOAT);
    for (int64_t d : dims) t->add_dims(d);
    for (float f : v) t->add_float_data(f);
    return t;
  }
  onnx::NodeProto* node(const std::string& op, const std::string& name, std::vector<std::string> in,
                        std::vector<std::string> out) {
    auto* n = g->add_node();
    n->set_op_type(op);
    n->set_name(name);
    for (auto& s : in) n->add_input(s);
    for (auto& s : out) n->add_output(s);
    return n;
  }
  // Constant node holding an int64 vector (or scalar when `scalar`).
  void const_ints(const std::string& out, std::vector<int64_t> v, bool scalar = false) {
    auto* n = node("Constant", out + "_node", {}, {out});
    auto* a = n->add_attribute();
    a->set_name("value");
    a->set_type(onnx::AttributeProto::TENSOR);
    auto* t = a->mutable_t();
    t->set_data_type(onnx::TensorProto::INT64);
    if (!scalar) t->add_dims(static_cast<int64_t>(v.size()));
    for (int64_t x : v) t->add_int64_data(x);
  }
  void const_float(const std::string& out, float v) {
    auto* n = node("Constant", out + "_node", {}, {out});
    auto* a = n->add_attribute();
    a->set_name("value");
    a->set_type(onnx::AttributeProto::TENSOR);
    auto* t = a->mutable_t();
    t->set_data_type(onnx::TensorProto::FLOAT);
    t->add_float_data(v);
  }
  std::string bytes() const { return m.SerializeAsString(); }
};

void set_ints(onnx::NodeProto* n, const std::string& name, std::vector<int64_t> v) {
  auto* a = n->add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INTS);
  for (int64_t x : v) a->add_ints(x);
}

TEST(OnnxImport, PyTorchViewPatternBecomesReshapeZeroMinusOne) {
  ModelBuilder b(13);
  b.input("x", {-1, 4, 2, 2});
  b.node("Shape", "/Shape", {"x"}, {"s"});
  b.const_ints("zero", {0}, true);
  b.node("Gather", "/Gather", {"s", "zero"}, {"n"});
  b.const_ints("axes", {0});
  b.node("Unsqueeze", "/Unsqueeze", {"n", "axes"}, {"n1"});
  b.const_ints("minus1", {-1});
  b.node("Concat", "/Concat", {"n1", "minus1"}, {"shape"})->add_attribute()->set_name("axis");
  b.node("Reshape", "/Reshape", {"x", "shape"}, {"y"});
  b.output("y");
  auto g = parse_onnx(b.bytes(), "view.onnx");
  ASSERT_TRUE(g.ok()) << g.status().message();
  ASSERT_EQ(g->nodes().size(), 1u);
  EXPECT_EQ(g->nodes()[0].op_type, "Reshape");
  EXPECT_EQ(g->nodes()[0].attr_ints("shape"), (std::vector<int64_t>{0, -1}));
  EXPECT_EQ(g->find_value("y")->shape, (Shape{kDynamic, 16}));
}

onnx::TensorProto* typed(ModelBuilder& b, const std::string& name, int type,
                         std::vector<int64_t> dims, std::vector<int32_t> v) {
  auto* t = b.g->add_initializer();
  t->set_name(name);
  t->set_data_type(type);
  for (int64_t d : dims) t->add_dims(d);
  for (int32_t x : v) t->add_int32_data(x);
  return t;
}

TEST(OnnxImport, QdqPerAxisAndQLinearOpsAreRepresented) {
  ModelBuilder b(13);
  b.input("x", {-1, 2, 3, 3});
  b.floats("xs", {}, {0.05f});
  typed(b, "xz", onnx::TensorProto::UINT8, {}, {128});
  typed(b, "wq", onnx::TensorProto::INT8, {4, 2, 1, 1}, {1, -2, 3, -4, 5, -6, 7, -127});
  b.floats("ws", {4}, {0.1f, 0.2f, 0.3f, 0.4f});
  typed(b, "wz", onnx::TensorProto::INT8, {4}, {0, 0, 0, 0});
  b.floats("ys", {}, {0.2f});
  typed(b, "yz", onnx::TensorProto::UINT8, {}, {3});
  typed(b, "bias", onnx::TensorProto::INT32, {4}, {10, -20, 30, -40});
  b.node("QuantizeLinear", "q", {"x", "xs", "xz"}, {"xq"});
  b.node("QLinearConv", "qconv", {"xq", "xs", "xz", "wq", "ws", "wz", "ys", "yz", "bias"}, {"yq"});
  auto* dq = b.node("DequantizeLinear", "dq_w", {"wq", "ws", "wz"}, {"wf"});
  auto* ax = dq->add_attribute();
  ax->set_name("axis");
  ax->set_type(onnx::AttributeProto::INT);
  ax->set_i(0);
  b.node("DequantizeLinear", "dq", {"yq", "ys", "yz"}, {"y"});
  b.node("Conv", "fconv", {"x", "wf"}, {"z"});
  b.output("y");
  b.output("z");
  auto g = parse_onnx(b.bytes(), "qdq.onnx");
  ASSERT_TRUE(g.ok()) << g.status().message();
  EXPECT_EQ(g->find_value("xq")->dtype, DType::kU8);
  EXPECT_EQ(g->find_value("yq")->dtype, DType::kU8);
  EXPECT_EQ(g->find_value("yq")->shape, (Shape{kDynamic, 4, 3, 3}));
  EXPECT_EQ(g->find_value("y")->dtype, DType::kF32);
  EXPECT_EQ(g->constant("wq")->dtype(), DType::kS8);
  EXPECT_EQ(g->constant("wq")->span<int8_t>()[7], -127);
  EXPECT_EQ(g->constant("bias")->dtype(), DType::kS32);
  EXPECT_EQ(g->constant("xz")->span<uint8_t>()[0], 128);
  EXPECT_EQ(g->producer("wf")->attr_int("axis", -1), 0);
  // Constant folding must keep the QDQ weight pattern.
  Graph opt = g.value();
  ASSERT_TRUE(fold_constants(opt).ok());
  EXPECT_NE(opt.producer("wf"), nullptr);
  // And it exports (opset 13 QDQ, onnx::checker) and comes back the same.
  auto bytes = serialize_onnx(g.value());
  ASSERT_TRUE(bytes.ok()) << bytes.status().message();
  auto back = parse_onnx(bytes.value());
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(back->nodes().size(), g->nodes().size());
  EXPECT_EQ(back->constant("bias")->span<int32_t>()[3], -40);
}

TEST(OnnxImport, ClipFromConstantNodesAndOpset10Attributes) {
  ModelBuilder b(13);
  b.input("x", {1, 3});
  b.const_float("lo", 0.0f);
  b.const_float("hi", 6.0f);
  b.node("Clip", "relu6", {"x", "lo", "hi"}, {"y"});
  b.output("y");
  auto g = parse_onnx(b.bytes());
  ASSERT_TRUE(g.ok()) << g.status().message();
  EXPECT_EQ(g->nodes()[0].inputs.size(), 1u);
  EXPECT_FLOAT_EQ(g->nodes()[0].attr_float("min", -1), 0.0f);
  EXPECT_FLOAT_EQ(g->nodes()[0].attr_float("max", -1), 6.0f);

  ModelBuilder old(10);
  old.input("x", {1, 1, 3, 3});
  auto* pad = old.node("Pad", "pad", {"x"}, {"y"});
  set_ints(pad, "pads", {0, 0, 1, 1, 0, 0, 1, 1});
  old.output("y");
  auto go = parse_onnx(old.bytes());
  ASSERT_TRUE(go.ok()) << go.status().message();
  EXPECT_EQ(go->find_value("y")->shape, (Shape{1, 1, 5, 5}));
}

Graph sample_graph() {
  Graph g("sample");
  g.add_input("input", DType::kF32, {kDynamic, 2, 6, 6});
  g.add_initializer("w", Tensor::from<float>({3, 2, 1, 1}, {1, 2, 3, 4, 5, 6}));
  Node& c = g.add_node("Conv", "conv1", {"input", "w"}, {"c"});
  c.set("activation", std::string("Clip"));
  c.set("activation_min", 0.0f);
  c.set("activation_max", 6.0f);
  g.add_node("Pad", "pad", {"c"}, {"p"}).set("pads", std::vector<int64_t>{0, 0, 1, 0, 0, 0, 0, 1});
  Node& pool = g.add_node("MaxPool", "pool", {"p"}, {"m"});
  pool.set("kernel_shape", std::vector<int64_t>{2, 2});
  pool.set("strides", std::vector<int64_t>{2, 2});
  pool.set("ceil_mode", int64_t{1});
  g.add_node("Reshape", "flat", {"m"}, {"f"}).set("shape", std::vector<int64_t>{0, -1});
  Node& clip = g.add_node("Clip", "clip", {"f"}, {"cl"});
  clip.set("max", 1.0f);
  g.add_node("Softmax", "softmax", {"cl"}, {"prob"}).set("axis", int64_t{-1});
  g.add_initializer("qs", Tensor::from<float>({3}, {0.1f, 0.2f, 0.3f}));
  g.add_initializer("qz", Tensor::from<uint8_t>({3}, {1, 2, 3}));
  Node& q = g.add_node("QuantizeLinear", "q", {"c", "qs", "qz"}, {"cq"});
  q.set("axis", int64_t{1});
  g.add_node("DequantizeLinear", "dq", {"cq", "qs", "qz"}, {"cdq"}).set("axis", int64_t{1});
  g.add_output("prob");
  g.add_output("cdq");
  return g;
}

TEST(OnnxExport, RoundTripKeepsOpsAttributesDynamicBatchAndNames) {
  const Graph g = sample_graph();
  auto bytes = serialize_onnx(g);
  ASSERT_TRUE(bytes.ok()) << bytes.status().message();
  // What ONNX sees: the fused Clip is its own node with a readable name, dims are "batch".
  onnx::ModelProto m;
  ASSERT_TRUE(m.ParseFromString(bytes.value()));
  EXPECT_EQ(m.graph().input(0).type().tensor_type().shape().dim(0).dim_param(), "batch");
  bool found = false;
  for (const auto& n : m.graph().node()) found = found || n.name() == "conv1/Clip";
  EXPECT_TRUE(found);

  auto back = parse_onnx(bytes.value(), "roundtrip");
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(back->nodes().size(), g.nodes().size() + 1);  // + the unfused Clip
  ASSERT_TRUE(fuse_activations(back.value()).ok());
  ASSERT_EQ(back->nodes().size(), g.nodes().size());
  for (const Node& n : g.nodes()) {
    const auto it = std::find_if(back->nodes().begin(), back->nodes().end(),
                                 [&](const Node& o) { return o.name == n.name; });
    ASSERT_NE(it, back->nodes().end()) << n.name;
    EXPECT_EQ(it->op_type, n.op_type);
    for (const auto& [k, v] : n.attrs) {
      ASSERT_TRUE(it->has(k)) << n.name << "." << k;
      EXPECT_TRUE(it->attrs.at(k).index() == v.index()) << n.name << "." << k;
    }
  }
  // [N,3,6,6] padded to 7x7, 2x2/2 ceil pool -> 4x4: 3 * 16 features.
  EXPECT_EQ(back->find_value("prob")->shape, (Shape{kDynamic, 48}));
  EXPECT_EQ(back->find_value("cdq")->dtype, DType::kF32);
  EXPECT_EQ(back->constant("qz")->dtype(), DType::kU8);
  EXPECT_EQ(back->constant("w")->span<float>()[5], 6.0f);
}

TEST(OnnxExport, InvalidGraphIsAnErrorNotAnException) {
  Graph g("bad");
  g.add_input("x", DType::kF32, {1, 2});
  g.add_node("Relu", "r", {"missing"}, {"y"});
  g.add_output("y");
  EXPECT_FALSE(serialize_onnx(g).ok());
}

TEST(OnnxImport, TruncatedFileAndRandomBytesAreErrors) {
  auto bytes = serialize_onnx(sample_graph());
  ASSERT_TRUE(bytes.ok());
  const std::string& full = bytes.value();
  for (size_t cut : {size_t{0}, size_t{1}, full.size() / 3, full.size() / 2, full.size() - 1}) {
    auto r = parse_onnx(std::string_view(full).substr(0, cut), "cut.onnx");
    EXPECT_FALSE(r.ok()) << "cut at " << cut;
    if (!r.ok()) {
      EXPECT_EQ(r.status().message().rfind("cut.onnx: ", 0), 0u) << r.status().message();
    }
  }
  const uint64_t seed = 99;
  Rng rng(seed);
  for (int trial = 0; trial < 200; ++trial) {
    std::string junk(static_cast<size_t>(rng.uniform_int(0, 400)), '\0');
    for (char& ch : junk) ch = static_cast<char>(rng.uniform_int(0, 255));
    auto r = parse_onnx(junk, "junk");  // must return, never crash
    (void)r;
  }
  EXPECT_FALSE(load_onnx("/nonexistent/model.onnx").ok());
}

TEST(OnnxImport, UnsupportedOpNamesOpAndNode) {
  ModelBuilder b(13);
  b.input("x", {1, 3});
  b.node("Relu", "ok", {"x"}, {"r"});
  b.node("Einsum", "/layer3/Einsum_7", {"r"}, {"y"});
  b.output("y");
  auto g = parse_onnx(b.bytes(), "m.onnx");
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.status().code(), StatusCode::kUnsupported);
  EXPECT_NE(g.status().message().find("Einsum"), std::string::npos) << g.status().message();
  EXPECT_NE(g.status().message().find("/layer3/Einsum_7"), std::string::npos);
}

TEST(OnnxImport, MissingInitializerAndBadTensorSizesAreErrors) {
  ModelBuilder b(13);
  b.input("x", {1, 2, 4, 4});
  b.node("Conv", "conv", {"x", "conv.weight"}, {"y"});
  b.output("y");
  auto g = parse_onnx(b.bytes(), "m.onnx");
  ASSERT_FALSE(g.ok());
  EXPECT_NE(g.status().message().find("conv.weight"), std::string::npos) << g.status().message();

  ModelBuilder s(13);
  s.input("x", {1, 2, 4, 4});
  s.floats("w", {3, 2, 1, 1}, {1, 2, 3});  // 3 values for 6 elements
  s.node("Conv", "conv", {"x", "w"}, {"y"});
  s.output("y");
  auto gs = parse_onnx(s.bytes(), "m.onnx");
  ASSERT_FALSE(gs.ok());
  EXPECT_EQ(gs.status().code(), StatusCode::kDataLoss);

  ModelBuilder w(13);
  w.input("x", {1, 5, 4, 4});  // 5 channels into a 2-channel conv
  w.floats("w", {3, 2, 1, 1}, {1, 2, 3, 4, 5, 6});
  w.node("Conv", "conv", {"x", "w"}, {"y"});
  w.output("y");
  auto gw = parse_onnx(w.bytes(), "m.onnx");
  ASSERT_FALSE(gw.ok());
  EXPECT_NE(gw.status().message().find("'conv'"), std::string::npos) << gw.status().message();
}

}  // namespace
}  // namespace ei8

namespace ei8 {
namespace {

// Every input the ONNX importer fuzzer ever failed on (tests/data/fuzz_regressions/) goes
// through the fuzz target's path again: import, summary, optimize, summary. Under ASan+UBSan
// (the CI's second suite) any overflow or bad access fails this test; errors are fine.
TEST(OnnxImport, FuzzerFindingsStayFixed) {
  const std::filesystem::path dir = std::string(EI8_TEST_DATA_DIR) + "/fuzz_regressions";
  int files = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    SCOPED_TRACE(e.path().string());
    auto bytes = read_file(e.path().string());
    ASSERT_TRUE(bytes.ok());
    auto g = parse_onnx(bytes.value(), e.path().filename().string());
    ++files;
    if (!g.ok()) continue;
    Graph copy = g.value();
    (void)summarize(copy);
    if (optimize(copy).ok()) (void)summarize(copy, 2);
  }
  EXPECT_GE(files, 1);
}

}  // namespace
}  // namespace ei8

namespace ei8 {
namespace {

// Shape arithmetic with a runtime size: folded where known, errors where it cannot be evaluated.
TEST(OnnxImport, ShapeArithmeticFoldsKnownSizesAndRefusesWhatItCannotEvaluate) {
  // batch * 4 feeds a Reshape with one more runtime entry: two "-1"s would be needed.
  {
    ModelBuilder b(13);
    b.input("x", {-1, 4, 2, 2});
    b.node("Shape", "/Shape", {"x"}, {"s"});
    b.const_ints("zero", {0}, true);
    b.node("Gather", "/Gather", {"s", "zero"}, {"n"});
    b.const_ints("four", {4}, true);
    b.node("Mul", "/Mul", {"n", "four"}, {"n4"});
    b.const_ints("axes", {0});
    b.node("Unsqueeze", "/U1", {"n4", "axes"}, {"a"});
    b.node("Unsqueeze", "/U2", {"n", "axes"}, {"c"});
    b.node("Concat", "/Concat", {"c", "a"}, {"shape"})->add_attribute()->set_name("axis");
    b.node("Reshape", "/Reshape", {"x", "shape"}, {"y"});
    b.output("y");
    auto g = parse_onnx(b.bytes(), "two.onnx");  // [N, N*4]: N copies dim 0, N*4 is the -1
    ASSERT_TRUE(g.ok()) << g.status().message();
    EXPECT_EQ(g->nodes()[0].attr_ints("shape"), (std::vector<int64_t>{0, -1}));
  }
  {
    ModelBuilder b(13);
    b.input("x", {-1, 4, 2, 2});
    b.node("Shape", "/Shape", {"x"}, {"s"});
    b.const_ints("zero", {0}, true);
    b.node("Gather", "/Gather", {"s", "zero"}, {"n"});
    b.const_ints("four", {4}, true);
    b.node("Mul", "/Mul", {"n", "four"}, {"n4"});
    b.const_ints("axes", {0});
    b.node("Unsqueeze", "/U1", {"n4", "axes"}, {"a"});
    b.const_ints("minus1", {-1});
    b.node("Concat", "/Concat", {"a", "minus1"}, {"shape"})->add_attribute()->set_name("axis");
    b.node("Reshape", "/Reshape", {"x", "shape"}, {"y"});
    b.output("y");
    auto g = parse_onnx(b.bytes(), "minus.onnx");  // [N*4, -1]: two unknowns
    ASSERT_FALSE(g.ok());
    EXPECT_NE(g.status().message().find("/Reshape"), std::string::npos) << g.status().message();
    EXPECT_NE(g.status().message().find("(dim 0 of 'x' * 4)"), std::string::npos)
        << g.status().message();
  }
  // Known sizes fold; a division by zero in them is an error, not a crash.
  {
    ModelBuilder b(13);
    b.input("x", {-1, 6});
    b.node("Shape", "/Shape", {"x"}, {"s"});
    b.const_ints("one", {1}, true);
    b.node("Gather", "/Gather", {"s", "one"}, {"c"});
    b.const_ints("zero", {0}, true);
    b.node("Div", "/Div", {"c", "zero"}, {"q"});
    b.node("Relu", "/Relu", {"x"}, {"y"});
    b.output("y");
    auto g = parse_onnx(b.bytes(), "div0.onnx");
    ASSERT_FALSE(g.ok());
    EXPECT_NE(g.status().message().find("'/Div' (Div): divisor = 0, must be non-zero"),
              std::string::npos)
        << g.status().message();
  }
  // x + x nested 20 deep on the runtime batch: refused before expressions explode.
  {
    ModelBuilder b(13);
    b.input("x", {-1, 6});
    b.node("Shape", "/Shape", {"x"}, {"s0"});
    for (int i = 0; i < 20; ++i) {
      b.node("Add", "/Add" + std::to_string(i), {"s" + std::to_string(i), "s" + std::to_string(i)},
             {"s" + std::to_string(i + 1)});
    }
    b.node("Relu", "/Relu", {"x"}, {"y"});
    b.output("y");
    auto g = parse_onnx(b.bytes(), "deep.onnx");
    ASSERT_FALSE(g.ok());
    EXPECT_NE(g.status().message().find("must be <= 256"), std::string::npos)
        << g.status().message();
  }
}

}  // namespace
}  // namespace ei8
