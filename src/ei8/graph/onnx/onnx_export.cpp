// IR → ONNX (opset 13). See onnx_io.h.
#include <onnx/checker.h>
#include <onnx/onnx_pb.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <optional>

#include "ei8/core/npy.h"
#include "ei8/graph/onnx/onnx_io.h"
#include "ei8/graph/shape_inference.h"

namespace ei8 {
namespace {

constexpr int64_t kExportOpset = 13;
constexpr int64_t kInt16Opset = 21;

int onnx_type(DType t) {
  switch (t) {
    case DType::kF32:
      return onnx::TensorProto::FLOAT;
    case DType::kS8:
      return onnx::TensorProto::INT8;
    case DType::kU8:
      return onnx::TensorProto::UINT8;
    case DType::kS32:
      return onnx::TensorProto::INT32;
    case DType::kS16:
      return onnx::TensorProto::INT16;
  }
  return onnx::TensorProto::UNDEFINED;
}

void fill_tensor(onnx::TensorProto* t, const std::string& name, const Tensor& x) {
  t->set_name(name);
  t->set_data_type(onnx_type(x.dtype()));
  for (int64_t d : x.shape()) t->add_dims(d);
  t->set_raw_data(std::string(reinterpret_cast<const char*>(x.raw()), x.nbytes()));
}

void add_int64_initializer(onnx::GraphProto* g, const std::string& name,
                           const std::vector<int64_t>& v, std::optional<Shape> shape = {}) {
  onnx::TensorProto* t = g->add_initializer();
  t->set_name(name);
  t->set_data_type(onnx::TensorProto::INT64);
  if (shape) {
    for (int64_t d : *shape) t->add_dims(d);
  } else {
    t->add_dims(static_cast<int64_t>(v.size()));
  }
  t->set_raw_data(std::string(reinterpret_cast<const char*>(v.data()), v.size() * 8));
}

void add_scalar_initializer(onnx::GraphProto* g, const std::string& name, float v) {
  fill_tensor(g->add_initializer(), name, Tensor::from<float>({}, {v}));
}

void fill_value_info(onnx::ValueInfoProto* vi, const Value& v) {
  vi->set_name(v.name);
  auto* tt = vi->mutable_type()->mutable_tensor_type();
  tt->set_elem_type(onnx_type(v.dtype));
  if (!v.has_shape) return;
  auto* shape = tt->mutable_shape();
  for (int64_t d : v.shape) {
    auto* dim = shape->add_dim();
    if (d < 0) {
      dim->set_dim_param("batch");
    } else {
      dim->set_dim_value(d);
    }
  }
}

void copy_attrs(const Node& n, onnx::NodeProto* p) {
  for (const auto& [name, value] : n.attrs) {
    if (name.rfind("activation", 0) == 0 || name == "coerce_2d") continue;
    onnx::AttributeProto* a = p->add_attribute();
    a->set_name(name);
    if (const auto* i = std::get_if<int64_t>(&value)) {
      a->set_type(onnx::AttributeProto::INT);
      a->set_i(*i);
    } else if (const auto* f = std::get_if<float>(&value)) {
      a->set_type(onnx::AttributeProto::FLOAT);
      a->set_f(*f);
    } else if (const auto* s = std::get_if<std::string>(&value)) {
      a->set_type(onnx::AttributeProto::STRING);
      a->set_s(*s);
    } else if (const auto* is = std::get_if<std::vector<int64_t>>(&value)) {
      a->set_type(onnx::AttributeProto::INTS);
      for (int64_t v : *is) a->add_ints(v);
    } else if (const auto* fs = std::get_if<std::vector<float>>(&value)) {
      a->set_type(onnx::AttributeProto::FLOATS);
      for (float v : *fs) a->add_floats(v);
    } else if (const auto* t = std::get_if<Tensor>(&value)) {
      a->set_type(onnx::AttributeProto::TENSOR);
      fill_tensor(a->mutable_t(), name, *t);
    }
  }
}

Result<onnx::ModelProto> to_model(const Graph& src) {
  Graph g = src;
  EI8_RETURN_IF_ERROR(g.validate());
  EI8_RETURN_IF_ERROR(infer_shapes(g));
  onnx::ModelProto m;
  bool has_int16 = false;
  for (const auto& [name, v] : g.values()) has_int16 = has_int16 || v.dtype == DType::kS16;
  m.set_ir_version(has_int16 ? 10 : 8);  // opset 21 needs IR version 10
  for (const Node& n : g.nodes()) {
    // Reduce* moved `axes` from an attribute to an input in opset 18: not written in 21 form.
    if (has_int16 && n.op_type.rfind("Reduce", 0) == 0) {
      return unsupported(
          "cannot export node '{}' ({}): opset = 21 (int16 tensors), must be 13 for {} (this "
          "exporter writes its opset-13 form)",
          n.name, n.op_type, n.op_type);
    }
  }
  m.set_producer_name("edgeint8");
  m.set_producer_version("0.1.0");
  auto* op = m.add_opset_import();
  op->set_domain("");
  // int16 QuantizeLinear / DequantizeLinear (A16W8 layers) need opset 21; the other ops this
  // exporter writes have the same form in 13 and 21.
  op->set_version(has_int16 ? kInt16Opset : kExportOpset);
  onnx::GraphProto* gp = m.mutable_graph();
  gp->set_name(g.name());
  for (const auto& name : g.inputs()) fill_value_info(gp->add_input(), *g.find_value(name));
  for (const auto& name : g.outputs()) fill_value_info(gp->add_output(), *g.find_value(name));
  for (const auto& [name, v] : g.values()) {
    if (v.data) fill_tensor(gp->add_initializer(), name, *v.data);
  }
  auto fresh = [&](const std::string& base) {
    std::string s = g.unique_value_name(base);
    g.values()[s].name = s;  // reserve
    return s;
  };
  for (const Node* np : g.topological_order()) {
    const Node& n = *np;
    onnx::NodeProto* p = gp->add_node();
    p->set_name(n.name);
    p->set_op_type(n.op_type);
    for (const auto& in : n.inputs) p->add_input(in);
    std::string act_in;
    for (size_t i = 0; i < n.outputs.size(); ++i) {
      if (i == 0 && n.has("activation")) {
        act_in = fresh(n.outputs[0] + "_preact");
        p->add_output(act_in);
      } else {
        p->add_output(n.outputs[i]);
      }
    }
    copy_attrs(n, p);
    // Canonical attributes back to opset-13 inputs.
    auto drop_attr = [&](std::string_view attr) {
      auto* attrs = p->mutable_attribute();
      for (int i = 0; i < attrs->size(); ++i) {
        if (attrs->Get(i).name() == attr) {
          attrs->DeleteSubrange(i, 1);
          return;
        }
      }
    };
    if (n.op_type == "Reshape") {
      const std::string s = fresh(n.name + ".shape");
      add_int64_initializer(gp, s, n.attr_ints("shape"));
      p->add_input(s);
      drop_attr("shape");
    } else if (n.op_type == "Pad") {
      const std::string s = fresh(n.name + ".pads");
      add_int64_initializer(gp, s, n.attr_ints("pads"));
      const std::string v = fresh(n.name + ".value");
      add_scalar_initializer(gp, v, n.attr_float("value", 0.0f));
      p->add_input(s);
      p->add_input(v);
      drop_attr("pads");
      drop_attr("value");
    } else if (n.op_type == "Clip") {
      const std::string lo = n.has("min") ? fresh(n.name + ".min") : "";
      const std::string hi = n.has("max") ? fresh(n.name + ".max") : "";
      if (!lo.empty()) add_scalar_initializer(gp, lo, n.attr_float("min"));
      if (!hi.empty()) add_scalar_initializer(gp, hi, n.attr_float("max"));
      if (!lo.empty() || !hi.empty()) p->add_input(lo);
      if (!hi.empty()) p->add_input(hi);
      drop_attr("min");
      drop_attr("max");
    } else if ((n.op_type == "Squeeze" || n.op_type == "Unsqueeze") && n.has("axes")) {
      const std::string s = fresh(n.name + ".axes");
      add_int64_initializer(gp, s, n.attr_ints("axes"));
      p->add_input(s);
      drop_attr("axes");
    } else if (n.op_type == "Slice") {
      for (const char* k : {"starts", "ends", "axes", "steps"}) {
        if (!n.has(k)) {
          p->add_input("");
          continue;
        }
        const std::string s = fresh(n.name + "." + k);
        add_int64_initializer(gp, s, n.attr_ints(k));
        p->add_input(s);
        drop_attr(k);
      }
      while (p->input_size() > 1 && p->input(p->input_size() - 1).empty()) {
        p->mutable_input()->RemoveLast();
      }
    } else if ((n.op_type == "Split" && n.has("split")) ||
               (n.op_type == "ReduceSum" && n.has("axes"))) {
      const char* k = n.op_type == "Split" ? "split" : "axes";
      const std::string s = fresh(n.name + "." + k);
      add_int64_initializer(gp, s, n.attr_ints(k));
      p->add_input(s);
      drop_attr(k);
    } else if (n.op_type == "Gather") {
      const std::string s = fresh(n.name + ".indices");
      const std::vector<int64_t> idx = n.attr_ints("indices");
      add_int64_initializer(gp, s, idx,
                            n.has("indices_shape") ? n.attr_ints("indices_shape")
                                                   : Shape{static_cast<int64_t>(idx.size())});
      p->add_input(s);
      drop_attr("indices");
      drop_attr("indices_shape");
    } else if (n.op_type == "Expand") {
      if (n.has("like_axes")) {
        return unsupported(
            "cannot export node '{}' (Expand): like_axes = a runtime shape, must be a constant "
            "shape (opset-13 export writes Expand's shape as an initializer)",
            n.name);
      }
      const std::string s = fresh(n.name + ".shape");
      add_int64_initializer(gp, s, n.attr_ints("shape"));
      p->add_input(s);
      drop_attr("shape");
    } else if (n.op_type == "Softmax" && n.attr_int("coerce_2d", 0) != 0) {
      return unsupported(
          "cannot export node '{}' (Softmax): coerce_2d over several axes, must normalize the "
          "last axis only",
          n.name);
    }
    if (!act_in.empty()) {
      const std::string act = n.attr_string("activation");
      onnx::NodeProto* a = gp->add_node();
      a->set_name(n.name + "/" + act);
      a->set_op_type(act);
      a->add_input(act_in);
      a->add_output(n.outputs[0]);
      if (act == "LeakyRelu") {
        auto* at = a->add_attribute();
        at->set_name("alpha");
        at->set_type(onnx::AttributeProto::FLOAT);
        at->set_f(n.attr_float("activation_alpha", 0.01f));
      } else if (act == "Clip") {
        const float lo = n.attr_float("activation_min", -std::numeric_limits<float>::infinity());
        const float hi = n.attr_float("activation_max", std::numeric_limits<float>::infinity());
        std::string lo_name, hi_name;
        if (std::isfinite(lo)) {
          lo_name = fresh(a->name() + ".min");
          add_scalar_initializer(gp, lo_name, lo);
        }
        a->add_input(lo_name);
        if (std::isfinite(hi)) {
          hi_name = fresh(a->name() + ".max");
          add_scalar_initializer(gp, hi_name, hi);
          a->add_input(hi_name);
        }
      } else if (act != "Relu") {
        return unsupported(
            "cannot export node '{}': activation = {}, must be Relu, Clip or "
            "LeakyRelu",
            n.name, act);
      }
    }
  }
  // Debian's libonnx (1.12) knows opsets up to 17 and IR version 8: its checker rejects every
  // opset-21 model, so int16 models are exported unchecked (ONNX Runtime 1.30 loads them:
  // tests/quant/int8_interop_test.cpp A16W8VsOrt).
  if (has_int16) return m;
  try {
    onnx::checker::check_model(m);
  } catch (const std::exception& e) {
    return internal_error("cannot export graph '{}': onnx::checker = {}, must pass", g.name(),
                          e.what());
  }
  return m;
}

}  // namespace

Result<std::string> serialize_onnx(const Graph& graph) {
  EI8_ASSIGN_OR_RETURN(onnx::ModelProto m, to_model(graph));
  std::string out;
  if (!m.SerializeToString(&out)) {
    return internal_error("cannot serialize graph '{}': protobuf failed", graph.name());
  }
  return out;
}

Status save_onnx(const Graph& graph, const std::string& path) {
  EI8_ASSIGN_OR_RETURN(std::string bytes, serialize_onnx(graph));
  return write_file(path, bytes);
}

}  // namespace ei8
