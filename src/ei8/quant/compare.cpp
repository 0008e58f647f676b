#include "ei8/quant/compare.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "ei8/core/npy.h"
#include "ei8/graph/passes.h"
#include "ei8/graph/shape_inference.h"
#include "ei8/quant/simulate.h"
#include "ei8/runtime/executor.h"
#include "ei8/runtime/int8_lowering.h"
#include "ei8/runtime/int8_ops.h"

namespace ei8::quant {
namespace fs = std::filesystem;
namespace {

using Json = nlohmann::ordered_json;

constexpr std::string_view kDumpFormat = "edgeint8-tensor-dump";
constexpr int64_t kDumpVersion = 1;

bool is_q(const Node* n) { return n != nullptr && n->op_type == "QuantizeLinear"; }
bool is_dq(const Node* n) { return n != nullptr && n->op_type == "DequantizeLinear"; }

bool has_qdq(const Graph& g) {
  return std::any_of(g.nodes().begin(), g.nodes().end(),
                     [](const Node& n) { return is_q(&n) || is_dq(&n); });
}

QType code_qtype(DType t) { return t == DType::kU8 ? QType::kU8 : QType::kS8; }

// Per-tensor parameters of an activation QuantizeLinear (nullopt: per axis, runtime scale, or
// a constant input).
std::optional<std::pair<QuantParams, DType>> q_params(const Graph& g, const Node& q) {
  if (g.constant(q.input(0)) != nullptr) return std::nullopt;
  const Tensor* s = g.constant(q.input(1));
  if (s == nullptr || s->dtype() != DType::kF32 || s->numel() != 1) return std::nullopt;
  QuantParams p;
  p.scale = s->span<float>()[0];
  DType type = DType::kU8;
  if (q.inputs.size() > 2 && !q.input(2).empty()) {
    const Tensor* z = g.constant(q.input(2));
    if (z == nullptr || z->numel() != 1 || z->dtype() == DType::kF32 || z->dtype() == DType::kS32) {
      return std::nullopt;
    }
    type = z->dtype();
    p.zero_point = z->dtype() == DType::kU8 ? z->span<uint8_t>()[0] : z->span<int8_t>()[0];
  }
  return std::make_pair(p, type);
}

// The canonical name of the tensor a QuantizeLinear produces: the value it quantizes, or the
// graph output a DequantizeLinear of its code writes (ptq.h renames the producer's output).
std::string q_canonical_name(const Graph& g, const Node& q) {
  for (size_t c : g.consumers(q.outputs[0])) {
    const Node& d = g.nodes()[c];
    if (is_dq(&d) && g.is_graph_output(d.outputs[0])) return d.outputs[0];
  }
  return q.input(0);
}

bool produced(const Graph& g, const std::string& v) {
  if (g.producer(v) != nullptr) return true;
  return std::find(g.inputs().begin(), g.inputs().end(), v) != g.inputs().end();
}

DType value_dtype(const Graph& g, const std::string& v) {
  const Value* val = g.find_value(v);
  return val != nullptr ? val->dtype : DType::kF32;
}

const Node* node_named(const Graph& g, std::string_view name) {
  for (const Node& n : g.nodes()) {
    if (n.name == name) return &n;
  }
  return nullptr;
}

// Flat index → per-dimension index.
std::vector<int64_t> unravel(int64_t flat, const Shape& shape) {
  std::vector<int64_t> idx(shape.size(), 0);
  for (size_t d = shape.size(); d-- > 0;) {
    const int64_t n = std::max<int64_t>(shape[d], 1);
    idx[d] = flat % n;
    flat /= n;
  }
  return idx;
}

// Real values of a tensor read from a dump as raw integer codes, with the other run's
// parameters (unchanged when it is not raw codes or `other` has none).
Tensor resolve_codes(const ProbedTensor& t, const ProbedTensor* other) {
  if (t.q || t.code_type == DType::kF32 || other == nullptr || !other->q) return t.values;
  Tensor r = t.values;
  for (float& v : r.span<float>()) {
    v = dequantize_value(static_cast<int32_t>(v), *other->q);
  }
  return r;
}

}  // namespace

const ProbedTensor* TensorSet::find(std::string_view name) const {
  for (const ProbedTensor& t : tensors) {
    if (t.name == name) return &t;
  }
  const std::string stem = dump_file_stem(name);
  for (const ProbedTensor& t : tensors) {
    if (dump_file_stem(t.name) == stem) return &t;
  }
  return nullptr;
}

std::string_view engine_name(Engine e) {
  return e == Engine::kFloat ? "float" : e == Engine::kFloatPlain ? "float-plain" : "int8";
}

Result<Engine> parse_engine(std::string_view name) {
  if (name == "float") return Engine::kFloat;
  if (name == "float-plain") return Engine::kFloatPlain;
  if (name == "int8") return Engine::kInt8;
  return invalid_argument("cannot parse engine: engine = '{}', must be float, float-plain or int8",
                          name);
}

Result<ProbedModel> ProbedModel::create(const Graph& model, const ProbeOptions& o) {
  EI8_RETURN_IF_ERROR(model.validate());
  if (model.inputs().size() != 1) {
    return unsupported("cannot probe model '{}': inputs = {}, must be 1", model.name(),
                       model.inputs().size());
  }
  ProbedModel m;
  if (!has_qdq(model)) {
    // A float graph, optimized as PTQ optimizes it, so that its value names are the ones the
    // QDQ model of it quantizes.
    Graph g = model;
    EI8_RETURN_IF_ERROR(optimize(g));
    m.label_ = o.label.empty() ? "fp32" : o.label;
    for (const std::string& in : g.inputs()) m.probes_.push_back({in, in, std::nullopt});
    for (const Node* n : g.topological_order()) {
      if (n->outputs.empty() || value_dtype(g, n->outputs[0]) != DType::kF32) continue;
      m.probes_.push_back({n->outputs[0], n->outputs[0], std::nullopt});
    }
    m.graph_ = std::move(g);
    return m;
  }
  // A QDQ graph: canonical tensors from its QuantizeLinear nodes and its float nodes.
  struct Canon {
    std::string name, q_output;
    const Node* source = nullptr;  // the node producing the quantized value (nullptr: input)
    std::optional<QuantParams> q;
    DType type = DType::kF32;
  };
  std::vector<Canon> canon;
  std::set<std::string> covered;  // float values represented by a code
  for (const Node* n : model.topological_order()) {
    if (!is_q(n)) continue;
    const auto p = q_params(model, *n);
    if (!p) continue;
    covered.insert(n->input(0));
  }
  for (const std::string& in : model.inputs()) {
    if (!covered.count(in)) canon.push_back({in, in, nullptr, std::nullopt, DType::kF32});
  }
  for (const Node* n : model.topological_order()) {
    if (is_dq(n) || n->outputs.empty()) continue;
    if (is_q(n)) {
      const auto p = q_params(model, *n);
      if (!p) continue;
      canon.push_back({q_canonical_name(model, *n), n->outputs[0], model.producer(n->input(0)),
                       p->first, p->second});
      continue;
    }
    const std::string& out = n->outputs[0];
    if (covered.count(out)) continue;
    // A pre-activation value whose only readers are a Relu/Clip that is quantized (the exporter
    // writes Conv → "<v>_preact" → Relu → Q): the integer engine folds it, so it is no tensor.
    const auto readers = model.consumers(out);
    const bool preact =
        !readers.empty() && !model.is_graph_output(out) &&
        std::all_of(readers.begin(), readers.end(), [&](size_t r) {
          const Node& c = model.nodes()[r];
          return (c.op_type == "Relu" || c.op_type == "Clip") && covered.count(c.outputs[0]) > 0;
        });
    if (preact) continue;
    canon.push_back({out, out, n, std::nullopt, DType::kF32});
  }
  // The executed graph and where each canonical tensor lives in it.
  if (o.engine == Engine::kFloat || o.engine == Engine::kFloatPlain) {
    SimulationOptions so;
    if (o.engine == Engine::kFloat) so.profile = o.profile;
    so.notes = &m.notes_;
    EI8_ASSIGN_OR_RETURN(m.graph_, simulation_graph(model, so));
    EI8_RETURN_IF_ERROR(infer_shapes(m.graph_));
    m.label_ = !o.label.empty() ? o.label
               : o.engine == Engine::kFloat
                   ? fmt::format("qdq-sim ({})", fixedpoint::profile_name(o.profile))
                   : "qdq-sim (plain)";
    for (const Canon& c : canon) {
      if (produced(m.graph_, c.q_output)) m.probes_.push_back({c.name, c.q_output, c.q, c.type});
    }
    return m;
  }
  EI8_ASSIGN_OR_RETURN(Int8Lowering low, lower_to_int8(model, {.profile = o.profile}));
  m.graph_ = std::move(low.graph);
  m.integer_ = true;
  m.label_ =
      o.label.empty() ? fmt::format("int8 ({})", fixedpoint::profile_name(o.profile)) : o.label;
  const Graph& g = m.graph_;
  for (const Canon& c : canon) {
    if (!c.q) {
      if (produced(g, c.q_output) && value_dtype(g, c.q_output) == DType::kF32) {
        m.probes_.push_back({c.name, c.q_output, std::nullopt, DType::kF32});
      }
      continue;
    }
    std::string where;
    if (produced(g, c.q_output)) {
      where = c.q_output;
    } else {
      // The quantized value was renamed by a fusion: the lowered node keeps the name of the
      // QDQ node it came from (through a Relu/Clip the lowering folded into it).
      for (const Node* s = c.source; s != nullptr && where.empty();) {
        const Node* l = node_named(g, s->name);
        if (l != nullptr && !l->outputs.empty()) {
          const DType t = value_dtype(g, l->outputs[0]);
          if (t == c.type) where = l->outputs[0];
          break;
        }
        if (s->op_type != "Relu" && s->op_type != "Clip") break;
        s = model.producer(s->input(0));
      }
    }
    if (!where.empty() && value_dtype(g, where) == c.type) {
      m.probes_.push_back({c.name, where, c.q, c.type});
    }
  }
  return m;
}

Result<TensorSet> ProbedModel::execute(Graph g, const std::vector<Tensor>& inputs) const {
  const std::set<std::string> graph_inputs(g.inputs().begin(), g.inputs().end());
  for (const Probe& p : probes_) {
    if (!graph_inputs.count(p.value) && !g.is_graph_output(p.value)) g.add_output(p.value);
  }
  ExecutorOptions eo;
  eo.optimize = false;
  eo.ops = simulation_ops();
  EI8_ASSIGN_OR_RETURN(Executor ex, Executor::create(std::move(g), eo));
  EI8_ASSIGN_OR_RETURN(std::vector<Tensor> out, ex.run(inputs));
  const Graph& eg = ex.graph();
  TensorSet s;
  s.source = label_;
  for (const Probe& p : probes_) {
    const Tensor* t = nullptr;
    for (size_t i = 0; i < eg.inputs().size(); ++i) {
      if (eg.inputs()[i] == p.value) t = &inputs[i];
    }
    for (size_t i = 0; t == nullptr && i < eg.outputs().size(); ++i) {
      if (eg.outputs()[i] == p.value) t = &out[i];
    }
    if (t == nullptr) {
      return internal_error("cannot read tensor '{}': value '{}' = missing, must be an output",
                            p.name, p.value);
    }
    ProbedTensor pt;
    pt.name = p.name;
    pt.q = p.q;
    pt.code_type = p.q ? p.type : DType::kF32;
    pt.values = Tensor::zeros(DType::kF32, t->shape());
    auto dst = pt.values.span<float>();
    if (t->dtype() == DType::kF32) {
      std::copy(t->span<float>().begin(), t->span<float>().end(), dst.begin());
    } else if (p.q && (t->dtype() == DType::kU8 || t->dtype() == DType::kS8)) {
      for (int64_t i = 0; i < t->numel(); ++i) {
        const int32_t c = t->dtype() == DType::kU8 ? t->span<uint8_t>()[static_cast<size_t>(i)]
                                                   : t->span<int8_t>()[static_cast<size_t>(i)];
        dst[static_cast<size_t>(i)] = dequantize_value(c, *p.q);
      }
    } else {
      continue;  // an integer value without parameters: nothing to compare it with
    }
    s.tensors.push_back(std::move(pt));
  }
  return s;
}

Result<TensorSet> ProbedModel::run(const Tensor& x) const {
  if (x.dtype() != DType::kF32) {
    return invalid_argument("cannot run model '{}': input dtype = {}, must be f32", graph_.name(),
                            dtype_name(x.dtype()));
  }
  return execute(graph_, {x});
}

Result<TensorSet> ProbedModel::run_fed(const Tensor& x, const TensorSet& feed) const {
  if (x.dtype() != DType::kF32) {
    return invalid_argument("cannot run model '{}': input dtype = {}, must be f32", graph_.name(),
                            dtype_name(x.dtype()));
  }
  Graph g = graph_;
  std::vector<Tensor> inputs = {x};
  const std::set<std::string> graph_inputs(g.inputs().begin(), g.inputs().end());
  std::set<std::string> cut;
  for (const Probe& p : probes_) {
    if (graph_inputs.count(p.value) || cut.count(p.value)) continue;
    const ProbedTensor* f = feed.find(p.name);
    if (f == nullptr) continue;
    const Value* v = g.find_value(p.value);
    if (v == nullptr || !v->has_shape || v->shape.empty()) continue;
    Shape want = v->shape;
    want[0] = x.dim(0);
    if (f->values.shape() != want) {
      return invalid_argument(
          "cannot feed tensor '{}': shape in {} = {} and in {} = {}, must be equal", p.name,
          feed.source, shape_to_string(f->values.shape()), label_, shape_to_string(want));
    }
    ProbedTensor own;
    own.q = p.q;
    const Tensor real = resolve_codes(*f, p.q ? &own : nullptr);
    Tensor data = Tensor::zeros(p.q ? p.type : DType::kF32, want);
    const auto src = real.span<float>();
    if (!p.q) {
      std::copy(src.begin(), src.end(), data.span<float>().begin());
    } else {
      for (size_t i = 0; i < src.size(); ++i) {
        const int32_t c = quantize_value(src[i], *p.q, code_qtype(p.type));
        if (p.type == DType::kU8) {
          data.span<uint8_t>()[i] = static_cast<uint8_t>(c);
        } else {
          data.span<int8_t>()[i] = static_cast<int8_t>(c);
        }
      }
    }
    const std::string fed = g.unique_value_name(p.value + "__fed");
    Shape in_shape = v->shape;
    in_shape[0] = kDynamic;
    for (Node& n : g.nodes()) {
      for (std::string& in : n.inputs) {
        if (in == p.value) in = fed;
      }
    }
    g.add_input(fed, data.dtype(), in_shape);
    inputs.push_back(std::move(data));
    cut.insert(p.value);
  }
  EI8_ASSIGN_OR_RETURN(TensorSet s, execute(std::move(g), inputs));
  s.source = label_ + " (layer-wise, fed from " + feed.source + ")";
  return s;
}

std::string dump_file_stem(std::string_view name) {
  std::string s(name);
  for (char& ch : s) {
    const bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                    (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '-';
    if (!ok) ch = '_';
  }
  if (s.empty() || s == "." || s == "..") s = "_" + s;
  return s;
}

Status write_dump(const TensorSet& s, const std::string& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return io_error("cannot create directory {}: {}", dir, ec.message());
  Json manifest;
  manifest["format"] = kDumpFormat;
  manifest["version"] = kDumpVersion;
  manifest["source"] = s.source;
  Json list = Json::array();
  std::set<std::string> used;
  for (const ProbedTensor& t : s.tensors) {
    std::string stem = dump_file_stem(t.name);
    for (int k = 1; !used.insert(stem).second; ++k)
      stem = dump_file_stem(t.name) + "_" + std::to_string(k);
    const std::string file = stem + ".npy";
    EI8_RETURN_IF_ERROR(write_npy((fs::path(dir) / file).string(), t.values));
    Json e;
    e["name"] = t.name;
    e["file"] = file;
    e["shape"] = t.values.shape();
    if (t.q) {
      e["scale"] = t.q->scale;
      e["zero_point"] = t.q->zero_point;
      e["type"] = std::string(dtype_name(t.code_type));
    }
    list.push_back(std::move(e));
  }
  manifest["tensors"] = std::move(list);
  return write_file((fs::path(dir) / "manifest.json").string(), manifest.dump(1) + "\n");
}

Result<TensorSet> read_dump(const std::string& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    return not_found("cannot read dump {}: directory = missing, must exist", dir);
  }
  TensorSet s;
  s.source = "dump " + dir;
  const fs::path manifest = fs::path(dir) / "manifest.json";
  if (fs::exists(manifest, ec)) {
    EI8_ASSIGN_OR_RETURN(std::string text, read_file(manifest.string()));
    Json root = Json::parse(text, nullptr, false);
    const std::string where = manifest.string();
    if (root.is_discarded() || !root.is_object()) {
      return data_loss("cannot read {}: document = not JSON, must be a JSON object", where);
    }
    if (root.value("format", std::string()) != kDumpFormat) {
      return data_loss("cannot read {}: format = {}, must be \"{}\"", where,
                       root.contains("format") ? root["format"].dump() : "missing", kDumpFormat);
    }
    const auto tensors = root.find("tensors");
    if (tensors == root.end() || !tensors->is_array()) {
      return data_loss("cannot read {}: tensors = missing, must be an array", where);
    }
    for (size_t i = 0; i < tensors->size(); ++i) {
      const Json& e = (*tensors)[i];
      if (!e.is_object() || !e.contains("name") || !e["name"].is_string() || !e.contains("file") ||
          !e["file"].is_string()) {
        return data_loss("cannot read {}: tensors[{}] = {}, must have string name and file", where,
                         i, e.dump());
      }
      ProbedTensor t;
      t.name = e["name"].get<std::string>();
      const std::string file = e["file"].get<std::string>();
      if (file.find('/') != std::string::npos || file.find("..") != std::string::npos) {
        return data_loss("cannot read {}: tensors[{}].file = '{}', must be a file name in {}",
                         where, i, file, dir);
      }
      EI8_ASSIGN_OR_RETURN(Tensor v, read_npy((fs::path(dir) / file).string()));
      if (v.dtype() != DType::kF32) {
        return data_loss("cannot read {}: dtype = {}, must be f32 (dumps hold real values)",
                         (fs::path(dir) / file).string(), dtype_name(v.dtype()));
      }
      t.values = std::move(v);
      if (e.contains("scale")) {
        if (!e["scale"].is_number() || !e.contains("zero_point") ||
            !e["zero_point"].is_number_integer()) {
          return data_loss("cannot read {}: tensors[{}] scale/zero_point = {}, must be numbers",
                           where, i, e.dump());
        }
        QuantParams p;
        p.scale = e["scale"].get<float>();
        p.zero_point = e["zero_point"].get<int32_t>();
        if (!std::isfinite(p.scale) || !(p.scale > 0.0f)) {
          return data_loss("cannot read {}: tensors[{}].scale = {}, must be finite and > 0", where,
                           i, p.scale);
        }
        t.q = p;
        t.code_type = e.value("type", std::string("u8")) == "s8" ? DType::kS8 : DType::kU8;
      }
      s.tensors.push_back(std::move(t));
    }
  } else {
    s.ordered = false;
    std::vector<fs::path> files;
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
      if (entry.is_regular_file() && entry.path().extension() == ".npy")
        files.push_back(entry.path());
    }
    std::sort(files.begin(), files.end());
    for (const fs::path& f : files) {
      EI8_ASSIGN_OR_RETURN(Tensor v, read_npy(f.string()));
      ProbedTensor t;
      t.name = f.stem().string();
      t.values = Tensor::zeros(DType::kF32, v.shape());
      auto dst = t.values.span<float>();
      for (int64_t i = 0; i < v.numel(); ++i) {
        const size_t k = static_cast<size_t>(i);
        switch (v.dtype()) {
          case DType::kF32:
            dst[k] = v.span<float>()[k];
            break;
          case DType::kU8:
            dst[k] = v.span<uint8_t>()[k];
            break;
          case DType::kS8:
            dst[k] = v.span<int8_t>()[k];
            break;
          case DType::kS32:
            dst[k] = static_cast<float>(v.span<int32_t>()[k]);
            break;
          case DType::kS16:
            dst[k] = v.span<int16_t>()[k];
            break;
        }
      }
      if (v.dtype() == DType::kU8 || v.dtype() == DType::kS8) t.code_type = v.dtype();
      s.tensors.push_back(std::move(t));
    }
  }
  if (s.tensors.empty()) {
    return not_found("cannot read dump {}: tensors = 0, must be >= 1 .npy file", dir);
  }
  return s;
}

Result<Comparison> compare_tensor_sets(const TensorSet& a, const TensorSet& b,
                                       const CompareOptions& o) {
  if (!(o.tolerance_lsb >= 0.0) || !(o.rel_tolerance >= 0.0) || std::isnan(o.min_sqnr_db)) {
    return invalid_argument(
        "cannot compare runs: tolerance_lsb = {}, rel_tolerance = {}, must be >= 0",
        o.tolerance_lsb, o.rel_tolerance);
  }
  Comparison c;
  c.a_source = a.source;
  c.b_source = b.source;
  // Pairs in A's order, or in B's when A is a dump without a manifest (no order of its own).
  std::vector<std::pair<const ProbedTensor*, const ProbedTensor*>> pairs;
  std::set<const ProbedTensor*> matched_a, matched_b;
  if (a.ordered || !b.ordered) {
    for (const ProbedTensor& ta : a.tensors) {
      if (const ProbedTensor* tb = b.find(ta.name); tb != nullptr) pairs.emplace_back(&ta, tb);
    }
  } else {
    for (const ProbedTensor& tb : b.tensors) {
      if (const ProbedTensor* ta = a.find(tb.name); ta != nullptr) pairs.emplace_back(ta, &tb);
    }
  }
  for (const auto& [pa, pb] : pairs) {
    matched_a.insert(pa);
    matched_b.insert(pb);
  }
  for (const ProbedTensor& ta : a.tensors) {
    if (!matched_a.count(&ta)) c.only_a.push_back(ta.name);
  }
  for (const auto& [pa, tb] : pairs) {
    const ProbedTensor& ta = *pa;
    if (ta.values.shape() != tb->values.shape()) {
      return invalid_argument(
          "cannot compare tensor '{}': shape in A ({}) = {} and in B ({}) = {}, must be equal",
          ta.name, a.source, shape_to_string(ta.values.shape()), b.source,
          shape_to_string(tb->values.shape()));
    }
    const Tensor va = resolve_codes(ta, tb), vb = resolve_codes(*tb, &ta);
    const std::optional<QuantParams> q = tb->q ? tb->q : ta.q;
    const auto x = va.span<float>(), y = vb.span<float>();
    TensorComparison r;
    r.name = ta.name;
    r.shape = ta.values.shape();
    r.elements = ta.values.numel();
    r.lsb = q ? static_cast<double>(q->scale) : std::numeric_limits<double>::quiet_NaN();
    double signal = 0, noise = 0, dot = 0, bsq = 0, amax = 0;
    int64_t beyond = 0, argmax = 0;
    for (size_t i = 0; i < x.size(); ++i) {
      const double u = x[i], v = y[i], d = std::fabs(u - v);
      signal += u * u;
      noise += (u - v) * (u - v);
      dot += u * v;
      bsq += v * v;
      amax = std::max(amax, std::fabs(u));
      if (d > r.max_abs || std::isnan(d)) {
        r.max_abs = std::isnan(d) ? std::numeric_limits<double>::infinity() : d;
        argmax = static_cast<int64_t>(i);
      }
      if (q && d / r.lsb > 1.0 + 1e-4) ++beyond;
    }
    r.sqnr_db = noise == 0.0    ? std::numeric_limits<double>::infinity()
                : signal == 0.0 ? -std::numeric_limits<double>::infinity()
                                : 10.0 * std::log10(signal / noise);
    r.cosine = (signal == 0.0 && bsq == 0.0)   ? 1.0
               : (signal == 0.0 || bsq == 0.0) ? 0.0
                                               : dot / std::sqrt(signal * bsq);
    if (q) {
      r.max_abs_lsb = r.max_abs / r.lsb;
      r.beyond_1lsb = x.empty() ? 0.0 : static_cast<double>(beyond) / static_cast<double>(x.size());
    } else {
      r.max_abs_lsb = std::numeric_limits<double>::quiet_NaN();
      r.beyond_1lsb = std::numeric_limits<double>::quiet_NaN();
    }
    // The tolerance in real units (a relative slack keeps exact 1-step differences at 1 LSB).
    const double limit =
        q ? o.tolerance_lsb * r.lsb * (1.0 + 1e-4) : o.rel_tolerance * std::max(amax, 1.0);
    const bool over = r.max_abs > limit;
    const bool low_sqnr = r.sqnr_db < o.min_sqnr_db;
    r.diverged = over || low_sqnr;
    if (r.diverged && !c.first_divergence) {
      int64_t at = argmax;
      if (over) {
        for (size_t i = 0; i < x.size(); ++i) {
          const double d = std::fabs(static_cast<double>(x[i]) - y[i]);
          if (d > limit || std::isnan(d)) {
            at = static_cast<int64_t>(i);
            break;
          }
        }
      }
      Divergence dv;
      dv.tensor = ta.name;
      dv.flat_index = at;
      dv.index = unravel(at, r.shape);
      dv.a = x.empty() ? 0.0 : x[static_cast<size_t>(at)];
      dv.b = y.empty() ? 0.0 : y[static_cast<size_t>(at)];
      c.first_divergence = dv;
    }
    c.tensors.push_back(std::move(r));
  }
  for (const ProbedTensor& tb : b.tensors) {
    if (!matched_b.count(&tb)) c.only_b.push_back(tb.name);
  }
  if (c.tensors.empty()) {
    return invalid_argument(
        "cannot compare {} with {}: tensors in common = 0, must be >= 1 (names differ)", a.source,
        b.source);
  }
  return c;
}

}  // namespace ei8::quant
