#include "ei8/train/export.h"

#include "ei8/graph/onnx/onnx_io.h"
#include "ei8/graph/shape_inference.h"

namespace ei8::train {
namespace {

class Builder {
 public:
  explicit Builder(const ModelWeights& w) : w_(w) {}

  // Adds the checkpoint tensor `name` as an initializer after checking its shape.
  Status weight(const std::string& name, const Shape& shape) {
    const Tensor* t = w_.find(name);
    if (t == nullptr) {
      return not_found("cannot build graph of {}: tensor {} is missing from the checkpoint",
                       workload_name(w_.workload), name);
    }
    if (t->shape() != shape) {
      return invalid_argument("cannot build graph of {}: {} has shape = {}, must be {}",
                              workload_name(w_.workload), name, shape_to_string(t->shape()),
                              shape_to_string(shape));
    }
    g_.add_initializer(name, *t);
    return {};
  }

  // Appends a node reading the current value (then `inputs`); its output becomes current.
  void node(const std::string& op, const std::string& name, std::vector<std::string> inputs,
            const std::string& output = {}) {
    inputs.insert(inputs.begin(), cur_);
    cur_ = output.empty() ? name + "_out" : output;
    last_ = &g_.add_node(op, name, std::move(inputs), {cur_});
  }

  Graph& graph() { return g_; }
  Node& last() { return *last_; }
  std::string cur_ = kInputName;

 private:
  const ModelWeights& w_;
  Graph g_;
  Node* last_ = nullptr;
};

}  // namespace

Result<Graph> build_graph(const ModelWeights& w) {
  Builder b(w);
  Graph& g = b.graph();
  g.set_name(std::string(workload_name(w.workload)));
  if (w.input_shape.empty()) return invalid_argument("cannot build graph: input_shape is empty");
  Shape in = w.input_shape;
  in.insert(in.begin(), kDynamic);
  g.add_input(kInputName, DType::kF32, in);
  int64_t c = w.input_shape[0];
  if (w.workload == Workload::kSignal1D) {
    if (w.input_shape.size() != 2) {
      return invalid_argument("cannot build graph of signal1d: input_shape = {}, must be [C, L]",
                              shape_to_string(w.input_shape));
    }
    const int64_t widths[] = {16, 32, 64};
    for (int i = 0; i < 3; ++i) {
      const std::string conv = fmt::format("conv{}", i + 1);
      EI8_RETURN_IF_ERROR(b.weight(conv + ".weight", {widths[i], c, 9}));
      EI8_RETURN_IF_ERROR(b.weight(conv + ".bias", {widths[i]}));
      b.node("Conv", conv, {conv + ".weight", conv + ".bias"});
      b.last().set("kernel_shape", std::vector<int64_t>{9});
      b.last().set("strides", std::vector<int64_t>{2});
      b.last().set("pads", std::vector<int64_t>{4, 4});
      b.node("Relu", fmt::format("relu{}", i + 1), {});
      c = widths[i];
    }
    b.node("GlobalAveragePool", "avgpool", {});
  } else {
    if (w.input_shape.size() != 3 || w.input_shape[1] != 32 || w.input_shape[2] != 32) {
      return invalid_argument(
          "cannot build graph of tiny2d: input_shape = {}, must be "
          "[C, 32, 32]",
          shape_to_string(w.input_shape));
    }
    const int64_t widths[] = {32, 64, 128};
    for (int i = 0; i < 3; ++i) {
      const std::string conv = fmt::format("conv{}", i + 1), bn = fmt::format("bn{}", i + 1);
      EI8_RETURN_IF_ERROR(b.weight(conv + ".weight", {widths[i], c, 3, 3}));
      EI8_RETURN_IF_ERROR(b.weight(conv + ".bias", {widths[i]}));
      b.node("Conv", conv, {conv + ".weight", conv + ".bias"});
      b.last().set("kernel_shape", std::vector<int64_t>{3, 3});
      b.last().set("strides", std::vector<int64_t>{1, 1});
      b.last().set("pads", std::vector<int64_t>{1, 1, 1, 1});
      for (const char* p : {".weight", ".bias", ".running_mean", ".running_var"}) {
        EI8_RETURN_IF_ERROR(b.weight(bn + p, {widths[i]}));
      }
      b.node("BatchNormalization", bn,
             {bn + ".weight", bn + ".bias", bn + ".running_mean", bn + ".running_var"});
      b.last().set("epsilon", 1e-5f);
      b.node("Relu", fmt::format("relu{}", i + 1), {});
      b.node("MaxPool", fmt::format("pool{}", i + 1), {});
      b.last().set("kernel_shape", std::vector<int64_t>{2, 2});
      b.last().set("strides", std::vector<int64_t>{2, 2});
      b.last().set("pads", std::vector<int64_t>{0, 0, 0, 0});
      c = widths[i];
    }
  }
  b.node("Flatten", "flatten", {});
  b.last().set("axis", int64_t{1});
  const int64_t features = w.workload == Workload::kSignal1D ? c : c * 4 * 4;
  EI8_RETURN_IF_ERROR(b.weight("fc.weight", {w.num_classes, features}));
  EI8_RETURN_IF_ERROR(b.weight("fc.bias", {w.num_classes}));
  b.node("Gemm", "fc", {"fc.weight", "fc.bias"}, kOutputName);
  b.last().set("transB", int64_t{1});
  g.add_output(kOutputName);
  EI8_RETURN_IF_ERROR(g.validate());
  EI8_RETURN_IF_ERROR(infer_shapes(g));
  return g;
}

Status export_checkpoint(const std::string& checkpoint, const std::string& onnx_path) {
  EI8_ASSIGN_OR_RETURN(ModelWeights w, load_checkpoint(checkpoint));
  EI8_ASSIGN_OR_RETURN(Graph g, build_graph(w));
  return save_onnx(g, onnx_path);
}

}  // namespace ei8::train
