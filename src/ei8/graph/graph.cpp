#include "ei8/graph/graph.h"

#include <algorithm>
#include <set>
#include <unordered_map>

namespace ei8 {

void Node::erase(std::string_view attr) {
  auto it = attrs.find(attr);
  if (it != attrs.end()) attrs.erase(it);
}

namespace {
template <typename T>
const T* get_attr(const Node& n, std::string_view attr) {
  auto it = n.attrs.find(attr);
  if (it == n.attrs.end()) return nullptr;
  return std::get_if<T>(&it->second);
}
}  // namespace

int64_t Node::attr_int(std::string_view attr, int64_t def) const {
  const auto* v = get_attr<int64_t>(*this, attr);
  return v ? *v : def;
}
float Node::attr_float(std::string_view attr, float def) const {
  const auto* v = get_attr<float>(*this, attr);
  return v ? *v : def;
}
std::string Node::attr_string(std::string_view attr, std::string def) const {
  const auto* v = get_attr<std::string>(*this, attr);
  return v ? *v : def;
}
std::vector<int64_t> Node::attr_ints(std::string_view attr, std::vector<int64_t> def) const {
  const auto* v = get_attr<std::vector<int64_t>>(*this, attr);
  return v ? *v : def;
}
std::vector<float> Node::attr_floats(std::string_view attr, std::vector<float> def) const {
  const auto* v = get_attr<std::vector<float>>(*this, attr);
  return v ? *v : def;
}
const Tensor* Node::attr_tensor(std::string_view attr) const {
  return get_attr<Tensor>(*this, attr);
}

const std::string& Node::input(size_t i) const {
  static const std::string kEmpty;
  return i < inputs.size() ? inputs[i] : kEmpty;
}

Value& Graph::add_input(const std::string& name, DType dtype, Shape shape) {
  Value& v = values_[name];
  v.name = name;
  v.dtype = dtype;
  v.shape = std::move(shape);
  v.has_shape = true;
  v.data.reset();
  if (std::find(inputs_.begin(), inputs_.end(), name) == inputs_.end()) inputs_.push_back(name);
  return v;
}

Value& Graph::add_initializer(const std::string& name, Tensor data) {
  Value& v = values_[name];
  v.name = name;
  v.dtype = data.dtype();
  v.shape = data.shape();
  v.has_shape = true;
  v.data = std::move(data);
  return v;
}

void Graph::add_output(const std::string& name) {
  if (!values_.count(name)) values_[name].name = name;
  if (std::find(outputs_.begin(), outputs_.end(), name) == outputs_.end()) outputs_.push_back(name);
}

Node& Graph::add_node(std::string op_type, std::string name, std::vector<std::string> inputs,
                      std::vector<std::string> outputs) {
  for (const auto& o : outputs) {
    if (!o.empty() && !values_.count(o)) values_[o].name = o;
  }
  Node n;
  n.op_type = std::move(op_type);
  n.name = std::move(name);
  n.inputs = std::move(inputs);
  n.outputs = std::move(outputs);
  nodes_.push_back(std::move(n));
  return nodes_.back();
}

std::string Graph::unique_value_name(const std::string& base) const {
  if (!values_.count(base)) return base;
  for (int i = 1;; ++i) {
    std::string s = fmt::format("{}_{}", base, i);
    if (!values_.count(s)) return s;
  }
}

std::string Graph::unique_node_name(const std::string& base) const {
  std::set<std::string_view> names;
  for (const Node& n : nodes_) names.insert(n.name);
  if (!names.count(base)) return base;
  for (int i = 1;; ++i) {
    std::string s = fmt::format("{}_{}", base, i);
    if (!names.count(s)) return s;
  }
}

Value* Graph::find_value(std::string_view name) {
  auto it = values_.find(std::string(name));
  return it == values_.end() ? nullptr : &it->second;
}
const Value* Graph::find_value(std::string_view name) const {
  auto it = values_.find(std::string(name));
  return it == values_.end() ? nullptr : &it->second;
}

const Tensor* Graph::constant(std::string_view name) const {
  const Value* v = find_value(name);
  return v && v->data ? &*v->data : nullptr;
}

const Node* Graph::producer(std::string_view value) const {
  if (value.empty()) return nullptr;
  for (const Node& n : nodes_) {
    for (const auto& o : n.outputs) {
      if (o == value) return &n;
    }
  }
  return nullptr;
}

std::vector<size_t> Graph::consumers(std::string_view value) const {
  std::vector<size_t> out;
  if (value.empty()) return out;
  for (size_t i = 0; i < nodes_.size(); ++i) {
    for (const auto& in : nodes_[i].inputs) {
      if (in == value) {
        out.push_back(i);
        break;
      }
    }
  }
  return out;
}

bool Graph::is_graph_output(std::string_view value) const {
  return std::find(outputs_.begin(), outputs_.end(), value) != outputs_.end();
}

namespace {
// Kahn's algorithm over node indices; stable (ties broken by original position).
std::vector<size_t> topo_indices(const std::vector<Node>& nodes) {
  std::unordered_map<std::string_view, size_t> producer;
  for (size_t i = 0; i < nodes.size(); ++i) {
    for (const auto& o : nodes[i].outputs) {
      if (!o.empty()) producer.emplace(o, i);
    }
  }
  std::vector<int> pending(nodes.size(), 0);
  std::vector<std::vector<size_t>> users(nodes.size());
  for (size_t i = 0; i < nodes.size(); ++i) {
    std::set<size_t> deps;
    for (const auto& in : nodes[i].inputs) {
      auto it = producer.find(in);
      if (it != producer.end() && it->second != i) deps.insert(it->second);
      if (it != producer.end() && it->second == i) pending[i] += 1'000'000;  // self loop
    }
    for (size_t d : deps) users[d].push_back(i);
    pending[i] += static_cast<int>(deps.size());
  }
  std::set<size_t> ready;
  for (size_t i = 0; i < nodes.size(); ++i) {
    if (pending[i] == 0) ready.insert(i);
  }
  std::vector<size_t> order;
  while (!ready.empty()) {
    const size_t i = *ready.begin();
    ready.erase(ready.begin());
    order.push_back(i);
    for (size_t u : users[i]) {
      if (--pending[u] == 0) ready.insert(u);
    }
  }
  return order;
}
}  // namespace

std::vector<const Node*> Graph::topological_order() const {
  std::vector<const Node*> out;
  for (size_t i : topo_indices(nodes_)) out.push_back(&nodes_[i]);
  return out;
}

Status Graph::sort_topologically() {
  const std::vector<size_t> order = topo_indices(nodes_);
  if (order.size() != nodes_.size()) {
    for (size_t i = 0; i < nodes_.size(); ++i) {
      if (std::find(order.begin(), order.end(), i) == order.end()) {
        return invalid_argument("cannot order graph '{}': node = '{}', must not be on a cycle",
                                name_, nodes_[i].name);
      }
    }
  }
  std::vector<Node> sorted;
  sorted.reserve(nodes_.size());
  for (size_t i : order) sorted.push_back(std::move(nodes_[i]));
  nodes_ = std::move(sorted);
  return {};
}

Status Graph::validate() const {
  std::set<std::string_view> node_names;
  std::set<std::string_view> defined;
  for (const auto& in : inputs_) {
    const Value* v = find_value(in);
    if (!v)
      return invalid_argument("cannot validate graph '{}': input = '{}', must have a value", name_,
                              in);
    defined.insert(in);
  }
  for (const auto& [name, v] : values_) {
    if (v.data) defined.insert(name);
  }
  for (const Node& n : nodes_) {
    if (n.name.empty()) {
      return invalid_argument("cannot validate graph '{}': node name of a {} = '', must be set",
                              name_, n.op_type);
    }
    if (!node_names.insert(n.name).second) {
      return invalid_argument("cannot validate graph '{}': node name = '{}', must be unique", name_,
                              n.name);
    }
    for (const auto& o : n.outputs) {
      if (o.empty()) continue;
      if (defined.count(o)) {
        return invalid_argument(
            "cannot validate graph '{}': output '{}' of node '{}' is defined twice, must be "
            "produced once",
            name_, o, n.name);
      }
      if (!find_value(o)) {
        return invalid_argument(
            "cannot validate graph '{}': output = '{}' of node '{}', must have a value", name_, o,
            n.name);
      }
      defined.insert(o);
    }
  }
  for (const Node& n : nodes_) {
    for (const auto& in : n.inputs) {
      if (!in.empty() && !defined.count(in)) {
        return not_found(
            "cannot validate graph '{}': input '{}' of node '{}' ({}) is not defined, must be a "
            "graph input, an initializer or a node output",
            name_, in, n.name, n.op_type);
      }
    }
  }
  if (topo_indices(nodes_).size() != nodes_.size()) {
    return invalid_argument("cannot validate graph '{}': nodes = cyclic, must form a DAG", name_);
  }
  if (outputs_.empty()) {
    return invalid_argument("cannot validate graph '{}': outputs = none, must be at least one",
                            name_);
  }
  for (const auto& o : outputs_) {
    if (!defined.count(o)) {
      return not_found("cannot validate graph '{}': output '{}' is not produced, must be defined",
                       name_, o);
    }
  }
  return {};
}

void Graph::remove_dead_nodes() {
  bool changed = true;
  while (changed) {
    changed = false;
    std::set<std::string_view> used(outputs_.begin(), outputs_.end());
    for (const Node& n : nodes_) {
      for (const auto& in : n.inputs) used.insert(in);
    }
    for (size_t i = nodes_.size(); i-- > 0;) {
      bool live = false;
      for (const auto& o : nodes_[i].outputs) live = live || used.count(o);
      if (!live) {
        nodes_.erase(nodes_.begin() + static_cast<std::ptrdiff_t>(i));
        changed = true;
        break;
      }
    }
  }
  std::set<std::string> referenced(inputs_.begin(), inputs_.end());
  referenced.insert(outputs_.begin(), outputs_.end());
  for (const Node& n : nodes_) {
    referenced.insert(n.inputs.begin(), n.inputs.end());
    referenced.insert(n.outputs.begin(), n.outputs.end());
  }
  for (auto it = values_.begin(); it != values_.end();) {
    it = referenced.count(it->first) ? std::next(it) : values_.erase(it);
  }
}

void Graph::replace_uses(const std::string& from, const std::string& to) {
  for (Node& n : nodes_) {
    for (auto& in : n.inputs) {
      if (in == from) in = to;
    }
  }
  for (auto& o : outputs_) {
    if (o == from) o = to;
  }
}

int64_t Graph::parameter_count() const {
  int64_t n = 0;
  for (const auto& [name, v] : values_) {
    if (v.data) n += v.data->numel();
  }
  return n;
}

int64_t Graph::parameter_bytes() const {
  int64_t n = 0;
  for (const auto& [name, v] : values_) {
    if (v.data) n += static_cast<int64_t>(v.data->nbytes());
  }
  return n;
}

}  // namespace ei8
