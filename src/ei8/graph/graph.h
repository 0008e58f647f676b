// ei8/graph/graph.h — the intermediate representation every module after training speaks.
//
// A `Graph` is a list of `Node`s connected by named `Value`s (ONNX's model, simplified):
//   - a Value is a tensor edge: name, dtype, shape (`kDynamic` = -1 marks the dynamic batch
//     dimension) and, for weights and constants, its data (an "initializer");
//   - a Node applies an operator, named with its ONNX op type ("Conv", "Relu", "QLinearConv",
//     ...), to input Values and produces output Values; its parameters are typed attributes;
//   - graph inputs are Values without data that the caller feeds; graph outputs are Values.
// Operator parameters that ONNX passes as constant inputs in newer opsets (Reshape's shape,
// Pad's pads/value, Clip's min/max) are attributes in the IR (canonical form, see ops.h); the
// ONNX importer and exporter convert. Activations fused into a Conv/Gemm by `fuse_activations`
// are the attribute "activation" (see ops.h). Quantized tensors: QuantizeLinear /
// DequantizeLinear (per tensor or per axis) and QLinearConv / QLinearMatMul take their scales
// and zero points as ordinary inputs (f32 and s8/u8 initializers), exactly as in ONNX.
//
//   Graph g("tiny");
//   g.add_input("x", DType::kF32, {kDynamic, 3, 32, 32});
//   g.add_initializer("w", Tensor::zeros(DType::kF32, {8, 3, 3, 3}));
//   Node& conv = g.add_node("Conv", "conv1", {"x", "w"}, {"y"});
//   conv.set("pads", std::vector<int64_t>{1, 1, 1, 1});
//   g.add_output("y");
//   EI8_RETURN_IF_ERROR(infer_shapes(g));        // shape_inference.h
//   for (const Node* n : g.topological_order()) { ... n->op_type ... n->attr_ints("pads") ... }
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "ei8/core/status.h"
#include "ei8/core/tensor.h"

namespace ei8 {

// A dimension whose size is known only when the graph runs (the batch dimension).
inline constexpr int64_t kDynamic = -1;

// One typed attribute value: int, float, string, list of ints, list of floats or a tensor.
using AttrValue =
    std::variant<int64_t, float, std::string, std::vector<int64_t>, std::vector<float>, Tensor>;

struct Value {
  std::string name;
  DType dtype = DType::kF32;
  Shape shape;                 // may contain kDynamic; empty with has_shape = false = unknown
  bool has_shape = false;      // false until set by the importer, add_input or infer_shapes
  std::optional<Tensor> data;  // set for initializers (weights, constants)

  bool is_constant() const { return data.has_value(); }
};

struct Node {
  std::string op_type;               // ONNX operator name, e.g. "Conv"
  std::string name;                  // unique within the graph, shown by Netron and `info`
  std::vector<std::string> inputs;   // Value names; "" marks an omitted optional input
  std::vector<std::string> outputs;  // Value names
  std::map<std::string, AttrValue, std::less<>> attrs;

  bool has(std::string_view attr) const { return attrs.find(attr) != attrs.end(); }
  void set(const std::string& attr, AttrValue v) { attrs[attr] = std::move(v); }
  void erase(std::string_view attr);
  // Typed getters returning `def` when the attribute is absent (or of another type).
  int64_t attr_int(std::string_view attr, int64_t def = 0) const;
  float attr_float(std::string_view attr, float def = 0.0f) const;
  std::string attr_string(std::string_view attr, std::string def = {}) const;
  std::vector<int64_t> attr_ints(std::string_view attr, std::vector<int64_t> def = {}) const;
  std::vector<float> attr_floats(std::string_view attr, std::vector<float> def = {}) const;
  const Tensor* attr_tensor(std::string_view attr) const;
  // Input i's name, or "" when absent.
  const std::string& input(size_t i) const;
};

class Graph {
 public:
  Graph() = default;
  explicit Graph(std::string name) : name_(std::move(name)) {}

  const std::string& name() const { return name_; }
  void set_name(std::string name) { name_ = std::move(name); }
  int64_t opset() const { return opset_; }
  void set_opset(int64_t v) { opset_ = v; }

  // --- building -------------------------------------------------------------------------------
  // A graph input fed by the caller; `shape` may contain kDynamic.
  Value& add_input(const std::string& name, DType dtype, Shape shape);
  // A constant tensor (weight, bias, scale, zero point).
  Value& add_initializer(const std::string& name, Tensor data);
  // Marks an existing (or later produced) value as a graph output.
  void add_output(const std::string& name);
  // Appends a node; its output Values are created (dtype f32, shape unknown) when missing.
  Node& add_node(std::string op_type, std::string name, std::vector<std::string> inputs,
                 std::vector<std::string> outputs);
  // A value name not used yet, derived from `base` ("base", "base_1", ...).
  std::string unique_value_name(const std::string& base) const;
  std::string unique_node_name(const std::string& base) const;

  // --- reading --------------------------------------------------------------------------------
  const std::vector<std::string>& inputs() const { return inputs_; }
  const std::vector<std::string>& outputs() const { return outputs_; }
  std::vector<Node>& nodes() { return nodes_; }
  const std::vector<Node>& nodes() const { return nodes_; }
  std::map<std::string, Value>& values() { return values_; }
  const std::map<std::string, Value>& values() const { return values_; }

  Value* find_value(std::string_view name);
  const Value* find_value(std::string_view name) const;
  // The data of a constant value, or nullptr when `name` is not a constant.
  const Tensor* constant(std::string_view name) const;
  // The node producing `value`, or nullptr (graph input, initializer, unknown).
  const Node* producer(std::string_view value) const;
  // Indices into nodes() of every node reading `value`.
  std::vector<size_t> consumers(std::string_view value) const;
  bool is_graph_output(std::string_view value) const;

  // Nodes in an order where every node comes after the producers of its inputs. Precondition:
  // validate() succeeded (acyclic); otherwise nodes on a cycle are left out.
  std::vector<const Node*> topological_order() const;
  // Reorders nodes() topologically (stable for graphs already in order).
  Status sort_topologically();
  // Checks structure: unique node names and output values, every input defined (graph input,
  // initializer or node output), no cycle, every graph output defined.
  Status validate() const;

  // Removes nodes whose outputs nobody reads (and that are not graph outputs) and values that
  // nothing references any more.
  void remove_dead_nodes();
  // Replaces every use of value `from` (node inputs, graph outputs) by `to`.
  void replace_uses(const std::string& from, const std::string& to);

  // Total number of parameters (elements of float/int constants) and their bytes.
  int64_t parameter_count() const;
  int64_t parameter_bytes() const;

 private:
  std::string name_ = "graph";
  int64_t opset_ = 13;
  std::vector<std::string> inputs_;
  std::vector<std::string> outputs_;
  std::vector<Node> nodes_;
  std::map<std::string, Value> values_;
};

}  // namespace ei8
