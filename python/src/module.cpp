// python/src/module.cpp — edgeint8._core: the library's calls for Python (pybind11). The thin
// Python package python/edgeint8/__init__.py gives them their signatures and docstrings; this
// file checks numpy arguments, releases the GIL around the library calls and turns a failed
// Status into a Python exception carrying the library's one-line message.
//
// Each function does what the matching `edgeint8 <command>` does (apps/edgeint8/cmd_*.cpp), on
// the same library calls, so that its results equal the CLI's (tests/python/ proves it).
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "ei8/arch/dse.h"
#include "ei8/arch/energy.h"
#include "ei8/arch/roofline.h"
#include "ei8/arch/scalesim_config.h"
#include "ei8/arch/scalesim_report.h"
#include "ei8/arch/scalesim_topology.h"
#include "ei8/arch/systolic_model.h"
#include "ei8/arch/workload.h"
#include "ei8/core/npy.h"
#include "ei8/core/output_files.h"
#include "ei8/fixedpoint/bit_growth.h"
#include "ei8/graph/onnx/onnx_io.h"
#include "ei8/graph/passes.h"
#include "ei8/pipeline/quant_tables.h"
#include "ei8/pipeline/result_json.h"
#include "ei8/pipeline/workload_io.h"
#include "ei8/quant/calibration.h"
#include "ei8/quant/compare.h"
#include "ei8/quant/evaluate.h"
#include "ei8/quant/int8_engine.h"
#include "ei8/quant/mixed_precision.h"
#include "ei8/quant/model_fixedpoint.h"
#include "ei8/quant/ptq.h"
#include "ei8/quant/recovery.h"
#include "ei8/quant/sensitivity.h"
#include "ei8/quant/simulate.h"
#include "ei8/quant/sweep.h"
#include "ei8/report/table.h"
#include "ei8/runtime/executor.h"
#include "ei8/runtime/int8_lowering.h"

namespace py = pybind11;

namespace ei8::python {
namespace {

// ---- errors ----

// A failed Status on its way to Python (translated in PYBIND11_MODULE below).
struct StatusError : std::exception {
  StatusCode code;
  std::string message;
  StatusError(StatusCode c, std::string m) : code(c), message(std::move(m)) {}
  const char* what() const noexcept override { return message.c_str(); }
};

[[noreturn]] void raise(const Status& s) { throw StatusError(s.code(), s.message()); }
void check(const Status& s) {
  if (!s.ok()) raise(s);
}
template <typename T>
T take(Result<T> r) {
  if (!r.ok()) raise(r.status());
  return std::move(r).value();
}
template <typename... Args>
[[noreturn]] void value_error(fmt::format_string<Args...> f, Args&&... args) {
  raise(invalid_argument(f, std::forward<Args>(args)...));
}

// Python warnings (UserWarning) for the library's warnings; needs the GIL.
void warn_all(const std::vector<std::string>& warnings) {
  for (const std::string& w : warnings) {
    if (PyErr_WarnEx(PyExc_UserWarning, w.c_str(), 1) != 0) throw py::error_already_set();
  }
}

py::object from_json(const nlohmann::json& j) {
  return py::module_::import("json").attr("loads")(j.dump());
}
py::object from_json_text(const std::string& text) {
  return py::module_::import("json").attr("loads")(text);
}

// ---- numpy <-> Tensor ----

const char* numpy_dtype(DType t) {
  switch (t) {
    case DType::kF32:
      return "float32";
    case DType::kS8:
      return "int8";
    case DType::kS16:
      return "int16";
    case DType::kU8:
      return "uint8";
    case DType::kS32:
      return "int32";
  }
  return "?";
}

std::string dtype_str(const py::array& a) { return py::str(a.dtype()).cast<std::string>(); }

std::string shape_str(const std::vector<int64_t>& s, bool dynamic_as_n = true) {
  std::string out = "(";
  for (size_t i = 0; i < s.size(); ++i) {
    if (i > 0) out += ", ";
    out += (s[i] < 0 && dynamic_as_n) ? std::string("N") : std::to_string(s[i]);
  }
  return out + (s.size() == 1 ? ",)" : ")");
}

std::vector<int64_t> array_shape(const py::array& a) {
  return std::vector<int64_t>(a.shape(), a.shape() + a.ndim());
}

// Checks `obj` is a numpy array of `want` dtype whose shape matches `model_shape` (kDynamic =
// any size >= 1), and returns it C-contiguous and aligned (the same object when it already is;
// otherwise numpy's one copy).
py::array checked_array(const py::handle& obj, DType want, const Shape& model_shape,
                        const std::string& action, const std::string& what) {
  if (!py::isinstance<py::array>(obj)) {
    value_error("cannot {}: {} type = {}, must be a numpy.ndarray of {} with shape {}", action,
                what, py::str(py::type::of(obj).attr("__name__")).cast<std::string>(),
                numpy_dtype(want), shape_str(model_shape));
  }
  py::array a = py::reinterpret_borrow<py::array>(obj);
  if (dtype_str(a) != numpy_dtype(want)) {
    value_error("cannot {}: {} dtype = {}, must be {} (convert with .astype(numpy.{}))", action,
                what, dtype_str(a), numpy_dtype(want), numpy_dtype(want));
  }
  const std::vector<int64_t> got = array_shape(a);
  bool ok = got.size() == model_shape.size();
  for (size_t i = 0; ok && i < got.size(); ++i) {
    ok = model_shape[i] < 0 ? got[i] >= 1 : got[i] == model_shape[i];
  }
  if (!ok) {
    value_error("cannot {}: {} shape = {}, must be {}{}", action, what, shape_str(got, false),
                shape_str(model_shape),
                std::count(model_shape.begin(), model_shape.end(), kDynamic) > 0
                    ? " (N = any batch >= 1)"
                    : "");
  }
  if (!(a.flags() & py::array::c_style) || !a.attr("flags").attr("aligned").cast<bool>()) {
    a = py::module_::import("numpy").attr("array")(a, py::arg("order") = "C");  // one copy
  }
  return a;
}

// Refuses NaN/Inf in a float32 array, naming the first one (as `edgeint8 run` does).
void check_finite(const py::array& a, const std::string& action, const std::string& what,
                  std::string_view hint) {
  if (dtype_str(a) != "float32") return;
  const auto* p = static_cast<const float*>(a.data());
  const auto n = static_cast<size_t>(a.size());
  for (size_t i = 0; i < n; ++i) {
    if (std::isfinite(p[i])) continue;
    std::vector<int64_t> index(static_cast<size_t>(a.ndim()));
    size_t rest = i;
    for (auto d = static_cast<ssize_t>(a.ndim()) - 1; d >= 0; --d) {
      const auto dim = static_cast<size_t>(a.shape(d));
      index[static_cast<size_t>(d)] = static_cast<int64_t>(rest % dim);
      rest /= dim;
    }
    value_error("cannot {}: {} element {} [{}] = {}, must be finite{}", action, what, i,
                fmt::join(index, ", "), p[i], hint);
  }
}

Tensor to_tensor(const py::array& a, DType t) {
  Tensor out = Tensor::zeros(t, array_shape(a));
  std::memcpy(out.raw(), a.data(), out.nbytes());
  return out;
}

py::array to_numpy(const Tensor& t) {
  py::array a(py::dtype(numpy_dtype(t.dtype())),
              std::vector<ssize_t>(t.shape().begin(), t.shape().end()));
  std::memcpy(a.mutable_data(), t.raw(), t.nbytes());
  return a;
}

// Calibration / evaluation samples: a path (as the CLI reads it) or a float32 array [N, ...].
Tensor samples_from(const py::object& obj, const Shape& input_shape, const std::string& action,
                    const std::string& what) {
  if (py::isinstance<py::str>(obj)) {
    const std::string path = obj.cast<std::string>();
    py::gil_scoped_release nogil;
    return take(quant::load_calibration_data(path, input_shape, what));
  }
  Shape want = input_shape;
  if (!want.empty()) want[0] = kDynamic;
  py::array a = checked_array(obj, DType::kF32, want, action, what);
  check_finite(a, action, what, "");
  return to_tensor(a, DType::kF32);
}

bool has_quantized_ops(const Graph& g) {
  return std::any_of(g.nodes().begin(), g.nodes().end(), [](const Node& n) {
    return n.op_type == "QuantizeLinear" || n.op_type == "DequantizeLinear" ||
           n.op_type == "QLinearConv" || n.op_type == "QLinearMatMul";
  });
}

Status check_model_path(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    return not_found("cannot read model: path = '{}', must be an existing ONNX file", path);
  }
  return {};
}

py::list table_rows(const report::Table& t) { return py::list(from_json_text(t.to_json())); }

// ---- Model ----

class Model {
 public:
  Model(std::string path, std::string engine, std::string profile, int threads, bool optimize)
      : path_(std::move(path)) {
    if (engine != "int8" && engine != "float") {
      value_error("cannot parse engine: value = '{}', must be int8 or float", engine);
    }
    if (threads < 1) value_error("cannot load {}: threads = {}, must be >= 1", path_, threads);
    std::vector<std::string> warnings;
    {
      py::gil_scoped_release nogil;
      check(check_model_path(path_));
      const fixedpoint::RequantProfile prof = take(fixedpoint::parse_profile(profile));
      Graph g = take(load_onnx(path_));
      for (const std::string& name : g.inputs()) {
        const Value* v = g.find_value(name);
        inputs_.push_back({name, v->dtype, v->has_shape ? v->shape : Shape{}});
      }
      for (const std::string& name : g.outputs()) {
        const Value* v = g.find_value(name);
        outputs_.push_back({name, v->dtype, v->has_shape ? v->shape : Shape{}});
      }
      ExecutorOptions opt;
      opt.threads = threads;
      opt.optimize = optimize;
      quantized_ = has_quantized_ops(g);
      Result<Executor> ex = [&]() -> Result<Executor> {
        if (!quantized_) return Executor::create(std::move(g), opt);
        if (engine == "float") {
          EI8_ASSIGN_OR_RETURN(Graph sim, quant::simulation_graph(g));
          opt.optimize = false;
          return Executor::create(std::move(sim), opt);
        }
        EI8_ASSIGN_OR_RETURN(Int8Lowering low, lower_to_int8(g, {.profile = prof}));
        warnings = low.warnings;
        return make_int8_executor(g, {.profile = prof}, opt);
      }();
      if (!ex.ok()) raise(ex.status().with_context(path_));
      ex_.emplace(std::move(ex).value());
    }
    engine_ = quantized_ ? engine : "float32";
    warn_all(warnings);
  }

  py::object run(const py::object& x, bool allow_nonfinite) {
    std::vector<py::object> arrays;
    if (py::isinstance<py::list>(x) || py::isinstance<py::tuple>(x)) {
      for (const py::handle& h : x) arrays.push_back(py::reinterpret_borrow<py::object>(h));
      if (arrays.size() != inputs_.size()) {
        value_error("cannot run {}: inputs = {}, must be {} ({})", path_, arrays.size(),
                    inputs_.size(), input_names());
      }
    } else {
      if (inputs_.size() != 1) {
        value_error("cannot run {}: inputs = 1, must be {} (a list of arrays for {})", path_,
                    inputs_.size(), input_names());
      }
    }
    std::vector<py::array> checked;
    for (size_t i = 0; i < inputs_.size(); ++i) {
      const py::handle h = arrays.empty() ? py::handle(x) : py::handle(arrays[i]);
      const std::string what = fmt::format("input '{}'", inputs_[i].name);
      const std::string action = fmt::format("run {}", path_);
      checked.push_back(checked_array(h, inputs_[i].dtype, inputs_[i].shape, action, what));
      if (!allow_nonfinite) {
        check_finite(checked.back(), action, what, " (allow_nonfinite=True runs it anyway)");
      }
    }
    std::vector<Tensor> outs;
    {
      py::gil_scoped_release nogil;
      std::lock_guard<std::mutex> lock(mutex_);
      Executor& ex = *ex_;
      bool same = ex.prepared();
      for (size_t i = 0; same && i < checked.size(); ++i) {
        same = array_shape(checked[i]) == ex.input(i).shape();
      }
      if (!same) {
        std::vector<Shape> shapes;
        for (const py::array& a : checked) shapes.push_back(array_shape(a));
        Status s = ex.prepare(shapes);
        if (!s.ok()) raise(s.with_context(path_));
      }
      // The executor reads the arrays' buffers in place (Executor::run_on): no copy.
      std::vector<const void*> data;
      for (const py::array& a : checked) data.push_back(a.data());
      check(ex.run_on(data));
      last_inputs_.assign(data.begin(), data.end());
      for (size_t i = 0; i < ex.num_outputs(); ++i) outs.push_back(ex.output(i));
    }
    if (outs.size() == 1) return to_numpy(outs[0]);
    py::list l;
    for (const Tensor& t : outs) l.append(to_numpy(t));
    return l;
  }

  py::list describe(bool outputs) const {
    py::list l;
    for (const Io& io : outputs ? outputs_ : inputs_) {
      py::dict d;
      d["name"] = io.name;
      py::list shape;
      for (int64_t s : io.shape) shape.append(s < 0 ? py::object(py::none()) : py::int_(s));
      d["shape"] = py::tuple(shape);
      d["dtype"] = numpy_dtype(io.dtype);
      l.append(d);
    }
    return l;
  }

  const std::string& path() const { return path_; }
  // Where the last run read each input (the address of the array it was given, or of numpy's
  // contiguous copy): what the tests check zero-copy with.
  std::vector<uintptr_t> last_input_addresses() {
    std::lock_guard<std::mutex> lock(mutex_);
    std::vector<uintptr_t> a;
    for (const void* p : last_inputs_) a.push_back(reinterpret_cast<uintptr_t>(p));
    return a;
  }
  const std::string& engine() const { return engine_; }

 private:
  struct Io {
    std::string name;
    DType dtype;
    Shape shape;
  };
  std::string input_names() const {
    std::vector<std::string> names;
    for (const Io& io : inputs_) names.push_back(io.name);
    return fmt::format("{}", fmt::join(names, ", "));
  }

  std::string path_, engine_;
  bool quantized_ = false;
  std::vector<Io> inputs_, outputs_;
  std::optional<Executor> ex_;
  std::vector<const void*> last_inputs_;
  std::mutex mutex_;  // one run at a time per Model (the GIL is released while it runs)
};

// ---- quantize, sweep, mixed precision (edgeint8 quantize [--sweep | --max-drop]) ----

// The options every quantize form shares, parsed and checked as `edgeint8 quantize` does.
struct QuantSetup {
  quant::CalibParams cp;
  quant::PtqOptions po;
  quant::CalibrationOptions co;
};

QuantSetup quant_setup(const std::string& model, const std::string& method,
                       const std::string& weights, const std::string& act,
                       const std::string& act_type, const std::string& profile, int64_t batch,
                       int64_t max_samples, int64_t bins, const py::dict& method_options,
                       const std::vector<std::string>& exclude, bool reduce_range, int weight_bits,
                       bool check_method_options) {
  using namespace quant;
  QuantSetup q;
  CalibParams& cp = q.cp;
  cp.method = take(parse_calib_method(method));
  // Options that only one method reads: given with another, they would be silently ignored.
  struct MethodOption {
    const char* name;
    CalibMethod method;
  };
  constexpr MethodOption kMethodOptions[] = {
      {"percentile", CalibMethod::kPercentile}, {"percentile_mode", CalibMethod::kPercentile},
      {"levels", CalibMethod::kEntropy},        {"zero_bin", CalibMethod::kEntropy},
      {"threshold", CalibMethod::kEntropy},     {"prior", CalibMethod::kAciq},
      {"ema", CalibMethod::kMovingAverage},
  };
  for (const MethodOption& m : kMethodOptions) {
    if (check_method_options && method_options.contains(m.name) && cp.method != m.method) {
      value_error(
          "cannot quantize {}: {} = given with method '{}', must come with method '{}' (it would "
          "be ignored)",
          model, m.name, calib_method_name(cp.method), calib_method_name(m.method));
    }
  }
  auto opt = [&](const char* name, auto fallback) {
    using T = decltype(fallback);
    return method_options.contains(name) ? method_options[name].cast<T>() : fallback;
  };
  cp.percentile = opt("percentile", 99.99);
  cp.entropy_levels = opt("levels", int64_t{128});
  cp.percentile_mode = take(parse_percentile_mode(opt("percentile_mode", std::string("auto"))));
  cp.entropy_zero_bin = take(parse_zero_bin(opt("zero_bin", std::string("skip-exact-zeros"))));
  cp.entropy_threshold = take(parse_kl_threshold(opt("threshold", std::string("upper-edge"))));
  cp.aciq_prior = take(parse_aciq_prior(opt("prior", std::string("laplace"))));
  PtqOptions& po = q.po;
  po.weights = take(parse_weight_granularity(weights));
  if (act != "asym" && act != "sym") {
    value_error("cannot parse act: act = '{}', must be asym|sym", act);
  }
  po.act_symmetric = act == "sym";
  if (act_type == "u8") {
    po.act_type = QType::kU8;
  } else if (act_type == "s8") {
    po.act_type = QType::kS8;
  } else {
    value_error("cannot parse act_type: act_type = '{}', must be u8|s8", act_type);
  }
  if (po.act_symmetric && po.act_type == QType::kU8) po.act_type = QType::kS8;  // sym ⇒ s8
  po.profile = take(fixedpoint::parse_profile(profile));
  po.exclude_nodes = exclude;
  po.reduce_range = reduce_range;
  if (weight_bits != 8 && weight_bits != 4) {
    value_error("cannot parse weight_bits: bits = {}, must be 8 or 4", weight_bits);
  }
  po.weight_bits = weight_bits;
  cp = calib_target(po, cp);
  check(validate(cp));
  q.co.batch = batch;
  q.co.max_samples = max_samples;
  q.co.observer.bins = bins;
  q.co.observer.ema_constant = opt("ema", 0.01);
  if (max_samples < 0) {
    value_error("cannot quantize {}: max_samples = {}, must be >= 0 (0 = all)", model, max_samples);
  }
  if (batch < 1) value_error("cannot quantize {}: batch = {}, must be >= 1", model, batch);
  check(check_model_path(model));
  return q;
}

// The float model, optimized (BN folding + activation fusion) as `edgeint8 quantize` reads it;
// every `exclude` name is a node of it (before or after the optimization).
Graph load_float_model(const std::string& model, const std::vector<std::string>& exclude) {
  py::gil_scoped_release nogil;
  Graph g = take(load_onnx(model));
  if (has_quantized_ops(g)) {
    value_error(
        "cannot quantize {}: model = already quantized (QDQ/QLinear), must be a float "
        "model",
        model);
  }
  std::set<std::string> node_names;
  for (const Node& n : g.nodes()) node_names.insert(n.name);
  Status s = optimize(g);
  if (!s.ok()) raise(s.with_context(model));
  std::vector<std::string> compute;
  for (const Node& n : g.nodes()) {
    node_names.insert(n.name);
    if (n.op_type == "Conv" || n.op_type == "Gemm" || n.op_type == "MatMul") {
      compute.push_back(n.name);
    }
  }
  for (const std::string& name : exclude) {
    if (node_names.count(name) == 0) {
      value_error(
          "cannot quantize {}: exclude name = '{}', must name a node of the model (its Conv/"
          "Gemm/MatMul nodes: {})",
          model, name, fmt::join(compute, ", "));
    }
  }
  if (g.inputs().size() != 1) {
    raise(unsupported("cannot quantize {}: inputs = {}, must be 1", model, g.inputs().size()));
  }
  return g;
}

// Evaluation samples and labels (arrays or the paths the CLI reads), checked against `g`.
quant::EvalSet eval_set_from(const Graph& g, const py::object& eval, const py::object& labels,
                             const std::string& action) {
  using namespace quant;
  if (py::isinstance<py::str>(eval) && (labels.is_none() || py::isinstance<py::str>(labels))) {
    const std::string data_path = eval.cast<std::string>();
    const std::string labels_path = labels.is_none() ? "" : labels.cast<std::string>();
    py::gil_scoped_release nogil;
    return take(load_eval_set(g, data_path, labels_path));
  }
  const Shape& in_shape = g.find_value(g.inputs()[0])->shape;
  Tensor x = samples_from(eval, in_shape, action, "evaluation data");
  std::vector<int64_t> y;
  if (!labels.is_none()) {
    py::array l = py::module_::import("numpy").attr("asarray")(labels);
    const std::string dt = dtype_str(l);
    if (l.ndim() != 1 || (dt.rfind("int", 0) != 0 && dt.rfind("uint", 0) != 0)) {
      value_error("cannot {}: labels dtype/shape = {} {}, must be integers of shape ({},)", action,
                  dt, shape_str(array_shape(l), false), x.dim(0));
    }
    auto l64 = l.attr("astype")("int64").cast<py::array_t<int64_t>>();
    y.assign(l64.data(), l64.data() + l64.size());
  }
  py::gil_scoped_release nogil;
  return take(make_eval_set(g, std::move(x), std::move(y)));
}

quant::LatencyFn int8_latency_function() {
  return [](const quant::QuantizedModel& m, int64_t batch) {
    return quant::int8_latency_us(m, batch, 20);
  };
}

py::tuple quantize(const std::string& model, const py::object& calib, const std::string& method,
                   const std::string& weights, const std::optional<std::string>& output,
                   const std::optional<std::string>& table_path, const std::string& act,
                   const std::string& act_type, const std::string& profile, int64_t batch,
                   int64_t max_samples, int64_t bins, const py::dict& method_options,
                   const std::vector<std::string>& exclude, bool reduce_range, int weight_bits,
                   bool cle, bool bias_absorption, bool bias_correction, bool adaround,
                   int adaround_iters, double adaround_time, uint64_t seed) {
  using namespace quant;
  const QuantSetup q =
      quant_setup(model, method, weights, act, act_type, profile, batch, max_samples, bins,
                  method_options, exclude, reduce_range, weight_bits, true);
  RecoveryOptions ro;
  ro.cle = cle;
  ro.bias_absorption = bias_absorption;
  ro.bias_correction = bias_correction;
  ro.adaround = adaround;
  ro.ada.iterations = adaround_iters;
  ro.ada.time_budget_s = adaround_time;
  ro.ada.seed = seed;
  if (adaround_iters < 1) {
    value_error("cannot parse adaround_iters: iterations = {}, must be >= 1", adaround_iters);
  }
  if (!(adaround_time > 0) || !std::isfinite(adaround_time)) {
    value_error("cannot parse adaround_time: seconds = {}, must be finite and > 0", adaround_time);
  }
  if (output && table_path && *output == *table_path) {
    value_error("cannot quantize {}: table = '{}', must differ from output", model, *table_path);
  }
  std::error_code same_ec;
  if (output && std::filesystem::equivalent(*output, model, same_ec)) {
    value_error("cannot quantize {}: output = '{}', must differ from the float model it reads",
                model, *output);
  }
  const Graph g = load_float_model(model, q.po.exclude_nodes);
  const Tensor data = samples_from(calib, g.find_value(g.inputs()[0])->shape,
                                   fmt::format("quantize {}", model), "calibration data");
  std::string bytes, table_text;
  std::vector<std::string> warnings;
  {
    py::gil_scoped_release nogil;
    Statistics st = take(collect_statistics(g, data, q.co));
    RecoveredModel rec = take(quantize_with_recovery(g, data, q.cp, q.po, ro, q.co, &st));
    bytes = take(serialize_onnx(rec.model.qdq));
    table_text = serialize_calib_table(rec.table);
    if (output) {  // the model and the calibration table together, or neither
      OutputFiles out;
      check(out.add(*output, bytes));
      if (table_path) check(out.add(*table_path, table_text));
      check(out.commit());
    }
    warnings = rec.notes;
    warnings.insert(warnings.end(), rec.model.warnings.begin(), rec.model.warnings.end());
  }
  warn_all(warnings);
  py::object model_out = output ? py::object(py::str(*output)) : py::object(py::bytes(bytes));
  return py::make_tuple(model_out, from_json_text(table_text));
}

py::dict sweep(const std::string& model, const py::object& calib, const py::object& eval,
               const py::object& labels, const std::string& act_type, const std::string& profile,
               int64_t batch, int64_t max_samples, int64_t bins, const py::dict& method_options,
               const std::vector<std::string>& exclude, bool latency,
               const std::optional<std::string>& out) {
  using namespace quant;
  const QuantSetup q = quant_setup(model, "mse", "per-channel", "asym", act_type, profile, batch,
                                   max_samples, bins, method_options, exclude, false, 8, false);
  const Graph g = load_float_model(model, q.po.exclude_nodes);
  const std::string action = fmt::format("sweep {}", model);
  const Tensor data =
      samples_from(calib, g.find_value(g.inputs()[0])->shape, action, "calibration data");
  const EvalSet ev = eval_set_from(g, eval, labels, action);
  SweepResult r;
  {
    py::gil_scoped_release nogil;
    Statistics st = take(collect_statistics(g, data, q.co));
    SweepOptions so;
    so.ptq = q.po;
    so.calib = q.cp;
    so.batch = batch;
    if (latency) so.latency = int8_latency_function();
    r = take(run_sweep(g, st, ev, so, nullptr));
    if (out) {
      std::error_code ec;
      std::filesystem::create_directories(*out, ec);
      check(pipeline::sweep_table(r).write(*out + "/ptq_sweep"));
    }
  }
  py::dict d;
  d["rows"] = table_rows(pipeline::sweep_table(r));
  d["fp32_accuracy"] = r.fp32_accuracy;
  d["statistics_samples"] = r.statistics_samples;
  d["eval_samples"] = r.eval_samples;
  return d;
}

py::dict mixed_precision(const std::string& model, const py::object& calib, const py::object& eval,
                         const py::object& labels, double max_drop,
                         const std::optional<std::string>& output, const std::string& method,
                         const std::string& weights, const std::string& act,
                         const std::string& act_type, const std::string& profile, int64_t batch,
                         int64_t max_samples, int64_t bins, const py::dict& method_options,
                         const std::vector<std::string>& exclude, bool latency,
                         const std::optional<std::string>& out) {
  using namespace quant;
  if (!(max_drop >= 0 && std::isfinite(max_drop))) {
    value_error("cannot parse max_drop: max_drop = {}, must be finite and >= 0", max_drop);
  }
  if (labels.is_none()) {
    value_error("cannot run mixed precision on {}: eval_labels = None, must be given", model);
  }
  const QuantSetup q = quant_setup(model, method, weights, act, act_type, profile, batch,
                                   max_samples, bins, method_options, exclude, false, 8, true);
  std::error_code same_ec;
  if (output && std::filesystem::equivalent(*output, model, same_ec)) {
    value_error("cannot quantize {}: output = '{}', must differ from the float model it reads",
                model, *output);
  }
  const Graph g = load_float_model(model, q.po.exclude_nodes);
  const std::string action = fmt::format("run mixed precision on {}", model);
  const Tensor data =
      samples_from(calib, g.find_value(g.inputs()[0])->shape, action, "calibration data");
  const EvalSet ev = eval_set_from(g, eval, labels, action);
  MixedPrecisionResult r;
  std::vector<std::string> ranking;
  std::string bytes;
  {
    py::gil_scoped_release nogil;
    Statistics st = take(collect_statistics(g, data, q.co));
    SensitivityOptions so;
    so.calib = q.cp;
    so.ptq = q.po;
    so.batch = batch;
    SensitivityReport sens = take(analyze_sensitivity(g, st, ev, so));
    ranking = sens.ranking;
    CalibTable table = take(make_table(st, q.cp));
    MixedPrecisionOptions mo;
    mo.max_drop_points = max_drop;
    mo.ptq = q.po;
    mo.batch = batch;
    if (latency) mo.latency = int8_latency_function();
    r = take(quant::mixed_precision(g, table, ev, sens.ranking, mo));
    if (!r.reached) {
      raise(out_of_range("cannot reach max_drop {}: {} (nothing written)", max_drop, r.message));
    }
    bytes = take(serialize_onnx(r.model.qdq));
    OutputFiles files;  // the tables and the model together, or none of them
    if (out) {
      std::error_code ec;
      std::filesystem::create_directories(*out, ec);
      check(pipeline::mixed_precision_table(r).add_to(files, *out + "/mixed_precision"));
    }
    if (output) check(files.add(*output, bytes));
    check(files.commit());
  }
  py::dict d;
  d["model"] = output ? py::object(py::str(*output)) : py::object(py::bytes(bytes));
  d["ranking"] = ranking;
  d["steps"] = table_rows(pipeline::mixed_precision_table(r));
  d["message"] = r.message;
  d["fp32_accuracy"] = r.fp32_accuracy;
  return d;
}

// ---- sensitivity (edgeint8 analyze) ----

py::object sensitivity(const std::string& model, const py::object& calib, const py::object& eval,
                       const py::object& labels, const std::string& method,
                       const std::string& weights, const std::string& act,
                       const std::string& profile, int64_t batch, int64_t max_samples,
                       int64_t histogram_bins, const std::optional<std::string>& out) {
  using namespace quant;
  SensitivityOptions so;
  so.calib.method = take(parse_calib_method(method));
  so.ptq.weights = take(parse_weight_granularity(weights));
  if (act != "asym" && act != "sym") {
    value_error("cannot parse act: act = '{}', must be asym|sym", act);
  }
  so.ptq.act_symmetric = act == "sym";
  so.ptq.act_type = so.ptq.act_symmetric ? QType::kS8 : QType::kU8;
  so.ptq.profile = take(fixedpoint::parse_profile(profile));
  so.batch = batch;
  so.histogram_bins = histogram_bins;
  if (batch < 1) value_error("cannot analyze: batch = {}, must be >= 1", batch);
  if (max_samples < 0) {
    value_error("cannot analyze: max_samples = {}, must be >= 0 (0 = all)", max_samples);
  }
  if (histogram_bins < 1) {
    value_error("cannot analyze: histogram_bins = {}, must be >= 1", histogram_bins);
  }
  check(check_model_path(model));
  Graph g;
  {
    py::gil_scoped_release nogil;
    g = take(load_onnx(model));
    if (has_quantized_ops(g)) {
      value_error(
          "cannot analyze {}: model = already quantized (QDQ/QLinear), must be a float "
          "model",
          model);
    }
    Status s = optimize(g);
    if (!s.ok()) raise(s.with_context(model));
    if (g.inputs().size() != 1) {
      raise(unsupported("cannot analyze {}: inputs = {}, must be 1", model, g.inputs().size()));
    }
  }
  const Shape in_shape = g.find_value(g.inputs()[0])->shape;
  const std::string action = fmt::format("analyze {}", model);
  Tensor calib_t = samples_from(calib, in_shape, action, "calibration data");
  EvalSet ev = eval_set_from(g, eval, labels, action);
  CalibrationOptions co;
  co.batch = batch;
  co.max_samples = max_samples;
  SensitivityReport r;
  {
    py::gil_scoped_release nogil;
    Statistics st = take(collect_statistics(g, calib_t, co));
    r = take(analyze_sensitivity(g, st, ev, so));
    if (out) check(pipeline::write_sensitivity(r, *out));
  }
  return from_json_text(pipeline::sensitivity_json(model, r).dump());
}

// ---- compare ----

quant::ProbedModel probed(const std::string& path, const std::string& engine,
                          const std::string& profile) {
  quant::ProbeOptions o;
  o.engine = take(quant::parse_engine(engine));
  o.profile = take(fixedpoint::parse_profile(profile));
  check(check_model_path(path));
  Graph g = take(load_onnx(path));
  Result<quant::ProbedModel> m = quant::ProbedModel::create(g, o);
  if (!m.ok()) raise(m.status().with_context(path));
  return std::move(m).value();
}

py::object compare(const std::string& a, const std::string& b, const py::object& input,
                   const std::string& mode, const std::string& engine_a,
                   const std::string& engine_b, const std::string& profile_a,
                   const std::string& profile_b, double tolerance_lsb, double rel_tolerance,
                   double min_sqnr_db) {
  if (mode != "graph" && mode != "layer" && mode != "both") {
    value_error("cannot parse mode: mode = '{}', must be graph, layer or both", mode);
  }
  if (!(tolerance_lsb >= 0.0) || !std::isfinite(tolerance_lsb)) {
    value_error("cannot parse tolerance_lsb: value = {}, must be finite and >= 0", tolerance_lsb);
  }
  if (!(rel_tolerance >= 0.0) || !std::isfinite(rel_tolerance)) {
    value_error("cannot parse rel_tolerance: value = {}, must be finite and >= 0", rel_tolerance);
  }
  quant::CompareOptions co;
  co.tolerance_lsb = tolerance_lsb;
  co.rel_tolerance = rel_tolerance;
  co.min_sqnr_db = min_sqnr_db;
  const bool a_dump = std::filesystem::is_directory(a), b_dump = std::filesystem::is_directory(b);
  if (b_dump && mode != "graph") {
    value_error(
        "cannot compare layer-wise: B = {} (a dump), must be a model (its layers are re-run on "
        "A's tensors)",
        b);
  }
  Tensor x;
  if (!a_dump || !b_dump) {
    if (input.is_none()) {
      value_error("cannot compare {} with {}: input = None, must be given when A or B is a model",
                  a, b);
    }
    if (py::isinstance<py::str>(input)) {
      const std::string path = input.cast<std::string>();
      py::gil_scoped_release nogil;
      x = take(read_npy(path));
    } else {
      if (!py::isinstance<py::array>(input)) {
        value_error(
            "cannot compare {} with {}: input type = {}, must be a numpy.ndarray or a "
            ".npy path",
            a, b, py::str(py::type::of(input).attr("__name__")).cast<std::string>());
      }
      py::array arr = py::module_::import("numpy").attr("ascontiguousarray")(input);
      const std::string dt = dtype_str(arr);
      if (dt != "float32") {
        value_error("cannot compare {} with {}: input dtype = {}, must be float32", a, b, dt);
      }
      x = to_tensor(arr, DType::kF32);
    }
  }
  std::optional<quant::Comparison> graph_c, layer_c;
  {
    py::gil_scoped_release nogil;
    quant::TensorSet ta;
    if (a_dump) {
      ta = take(quant::read_dump(a));
    } else {
      quant::ProbedModel ma = probed(a, engine_a, profile_a);
      Result<quant::TensorSet> r = ma.run(x);
      if (!r.ok()) raise(r.status().with_context(a));
      ta = std::move(r).value();
      ta.source = fmt::format("{} {}", ta.source, a);
    }
    if (b_dump) {
      quant::TensorSet tb = take(quant::read_dump(b));
      graph_c = take(quant::compare_tensor_sets(ta, tb, co));
    } else {
      quant::ProbedModel mb = probed(b, engine_b, profile_b);
      if (mode != "layer") {
        Result<quant::TensorSet> r = mb.run(x);
        if (!r.ok()) raise(r.status().with_context(b));
        quant::TensorSet tb = std::move(r).value();
        tb.source = fmt::format("{} {}", tb.source, b);
        graph_c = take(quant::compare_tensor_sets(ta, tb, co));
      }
      if (mode != "graph") {
        Result<quant::TensorSet> r = mb.run_fed(x, ta);
        if (!r.ok()) raise(r.status().with_context(b));
        quant::TensorSet tb = std::move(r).value();
        layer_c = take(quant::compare_tensor_sets(ta, tb, co));
      }
    }
  }
  return from_json_text(pipeline::compare_json(graph_c, layer_c, tolerance_lsb).dump());
}

// ---- simulator (edgeint8 sim) ----

py::object simulate(const std::string& config, const std::string& topology,
                    const std::string& workload, const std::string& outdir,
                    const std::string& input_type, const std::string& array,
                    const std::string& dataflow, const std::string& sram, int64_t bandwidth,
                    bool calc, const std::string& run_name, bool energy,
                    const std::string& energy_table) {
  arch::ScaleSimConfig cfg;
  std::vector<arch::Layer> layers;
  std::vector<std::string> warnings;
  std::vector<arch::LayerStats> stats;
  std::string dir;
  {
    py::gil_scoped_release nogil;
    const arch::TopologyFormat fmt_in = take(arch::parse_topology_format(input_type));
    std::string source;
    if (!workload.empty()) {
      if (!std::filesystem::is_regular_file(workload)) {
        raise(
            not_found("cannot read workload: path = '{}', must be an existing topology CSV or "
                      "ONNX model",
                      workload));
      }
      std::vector<int64_t> dims;
      if (const size_t x = array.find('x'); x != std::string::npos) {
        try {
          size_t used_r = 0, used_c = 0;
          const int64_t r = std::stoll(array.substr(0, x), &used_r);
          const int64_t c = std::stoll(array.substr(x + 1), &used_c);
          if (used_r == x && used_c == array.size() - x - 1) dims = {r, c};
        } catch (const std::exception&) {
          dims.clear();
        }
      }
      if (dims.size() != 2) {
        value_error("cannot parse array: value = '{}', must be ROWSxCOLS", array);
      }
      std::vector<int64_t> kb;
      {
        size_t start = 0;
        while (start <= sram.size()) {
          const size_t comma = sram.find(',', start);
          const std::string part =
              sram.substr(start, comma == std::string::npos ? comma : comma - start);
          try {
            size_t used = 0;
            kb.push_back(std::stoll(part, &used));
            if (used != part.size()) kb.clear();
          } catch (const std::exception&) {
            kb.clear();
          }
          if (kb.empty() || comma == std::string::npos) break;
          start = comma + 1;
        }
      }
      if (kb.size() != 3) {
        value_error("cannot parse sram: value = '{}', must be IFMAP,FILTER,OFMAP kB", sram);
      }
      cfg.array.dataflow = take(arch::parse_dataflow(dataflow));
      cfg.array.rows = dims[0];
      cfg.array.cols = dims[1];
      cfg.array.ifmap_sram_kb = kb[0];
      cfg.array.filter_sram_kb = kb[1];
      cfg.array.ofmap_sram_kb = kb[2];
      cfg.array.bandwidth = bandwidth;
      cfg.array.mode = calc ? arch::BandwidthMode::kCalc : arch::BandwidthMode::kUser;
      cfg.bandwidths = {bandwidth};
      cfg.run_name =
          !run_name.empty()
              ? run_name
              : fmt::format("{}_{}x{}_{}", std::filesystem::path(workload).stem().string(), dims[0],
                            dims[1], dataflow);
      check(cfg.array.validate());
      arch::Workload w = take(pipeline::load_workload_file(workload, fmt_in));
      if (w.operand_bytes > 0) cfg.array.word_bytes = w.operand_bytes;
      layers = w.layers;
      source = workload;
      warnings = w.warnings;
    } else {
      if (!std::filesystem::is_regular_file(config)) {
        raise(not_found("cannot read config: path = '{}', must be an existing SCALE-Sim .cfg file",
                        config));
      }
      if (!std::filesystem::is_regular_file(topology)) {
        raise(not_found("cannot read topology: path = '{}', must be an existing SCALE-Sim CSV",
                        topology));
      }
      cfg = take(arch::read_scalesim_config(config));
      arch::Topology topo = take(arch::read_topology_csv(topology, fmt_in));
      layers = std::move(topo.layers);
      source = topology;
      warnings = topo.warnings;
    }
    warnings.insert(warnings.end(), cfg.warnings.begin(), cfg.warnings.end());
    if (layers.empty()) {
      value_error("cannot simulate {}: layers = 0, must be >= 1", source);
    }
    stats = take(arch::simulate_layers(layers, cfg.array));
    arch::EnergyTable table = arch::default_energy_table();
    if (!energy_table.empty()) table = take(arch::read_energy_table(energy_table));
    OutputFiles out;  // every report, or none
    dir = outdir + "/" + cfg.run_name;
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) {
      raise(
          io_error("cannot create output directory: out_dir = '{}', must be a writable "
                   "directory: {}",
                   outdir, ec.message()));
    }
    const bool with_energy = energy || !energy_table.empty();
    check(pipeline::add_sim_reports(out, dir, layers, stats, cfg.array,
                                    with_energy ? &table : nullptr));
    check(out.commit());
  }
  warn_all(warnings);
  return from_json(pipeline::sim_json(cfg.run_name, dir, cfg.array.word_bytes, layers, stats));
}

// ---- DSE (edgeint8 dse) ----

py::dict dse(const std::string& workload, const std::string& space_path_in, const std::string& out,
             const std::string& input_type, const std::string& energy_table,
             const std::string& evaluator, int threads_in) {
  if (threads_in < 0) {
    value_error("cannot run dse: threads = {}, must be >= 0 (0 = all cores)", threads_in);
  }
  arch::DseResult r;
  arch::Workload w;
  int threads = 0;
  {
    py::gil_scoped_release nogil;
    const arch::TopologyFormat fmt_in = take(arch::parse_topology_format(input_type));
    if (!std::filesystem::is_regular_file(workload)) {
      raise(not_found(
          "cannot read workload: path = '{}', must be an existing topology CSV or ONNX model",
          workload));
    }
    w = take(pipeline::load_workload_file(workload, fmt_in));
    if (w.layers.empty()) value_error("cannot explore {}: layers = 0, must be >= 1", workload);
    const std::string space_path = space_path_in.empty()
                                       ? std::string(EI8_SHARE_DIR) + "/dse/default_space.toml"
                                       : space_path_in;
    arch::DesignSpace space = take(arch::read_design_space(space_path));
    if (!evaluator.empty()) {
      if (evaluator != "analytic" && evaluator != "exact") {
        value_error("cannot parse evaluator: value = '{}', must be analytic or exact", evaluator);
      }
      space.evaluator = evaluator == "exact" ? arch::Evaluator::kExact : arch::Evaluator::kAnalytic;
    }
    const std::string table_path = !energy_table.empty() ? energy_table : space.energy_table;
    arch::EnergyTable table = arch::default_energy_table();
    if (!table_path.empty()) table = take(arch::read_energy_table(table_path));
    threads = threads_in > 0 ? threads_in
                             : std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
    r = take(arch::run_dse(w, space, table, threads));
    check(arch::write_dse_outputs(r, out));
  }
  warn_all(w.warnings);
  // The points as points.json has them (arch::point_json), parsed once.
  std::string points = "[";
  for (const arch::PointResult& p : r.points) {
    if (&p != &r.points.front()) points += ",";
    points += arch::point_json(p).dump();
  }
  points += "]";
  py::dict d;
  d["points"] = from_json_text(points);
  d["pareto"] = py::cast(r.front);
  d["recommended"] = r.any_feasible ? py::object(py::int_(r.balanced)) : py::object(py::none());
  d["evaluations"] = r.evaluations;
  d["sweep_seconds"] = r.sweep_seconds;
  d["threads"] = threads;
  d["out"] = out;
  d["word_bytes"] = r.points.empty() ? 1 : r.points[0].array.word_bytes;
  return d;
}

// ---- fixed point (edgeint8 fixedpoint bitgrowth MODEL) ----

py::object bitgrowth(const std::string& model, const py::object& calib,
                     const std::optional<std::string>& operands, int64_t max_samples,
                     std::optional<int> width) {
  if (max_samples < 0) {
    value_error("cannot analyze bit growth: max_samples = {}, must be >= 0 (0 = all)", max_samples);
  }
  quant::ModelFixedPointOptions mo;
  mo.max_samples = max_samples;
  if (operands) {
    if (*operands == "u8xs8") {
      mo.float_operands = fixedpoint::OperandKind::kU8S8;
    } else if (*operands == "s8xs8") {
      mo.float_operands = fixedpoint::OperandKind::kS8S8;
    } else {
      value_error("cannot analyze bit growth: operands = '{}', must be s8xs8 or u8xs8", *operands);
    }
  }
  check(check_model_path(model));
  Graph g;
  {
    py::gil_scoped_release nogil;
    g = take(load_onnx(model));
  }
  std::optional<Tensor> calib_t;
  if (!calib.is_none()) {
    if (g.inputs().empty()) value_error("cannot read model {}: inputs = 0, must be 1", model);
    calib_t = samples_from(calib, g.find_value(g.inputs()[0])->shape,
                           fmt::format("analyze bit growth of {}", model), "calibration data");
  }
  quant::ModelFixedPoint r;
  {
    py::gil_scoped_release nogil;
    r = take(quant::analyze_model_fixed_point(g, calib_t ? &*calib_t : nullptr, mo));
  }
  return from_json(pipeline::bitgrowth_json(model, r, width));
}

}  // namespace
}  // namespace ei8::python

PYBIND11_MODULE(_core, m) {
  using namespace ei8::python;
  m.doc() = "EdgeINT8-ArchKit's library for Python (see the package edgeint8)";

  // Error (RuntimeError) and its kinds; the message is the library's one line.
  static PyObject* error = PyErr_NewException("edgeint8.Error", PyExc_RuntimeError, nullptr);
  auto kind = [&](const char* name, PyObject* base) {
    py::tuple bases = py::make_tuple(py::handle(error), py::handle(base));
    return PyErr_NewException(name, bases.ptr(), nullptr);
  };
  static PyObject* invalid = kind("edgeint8.InvalidArgumentError", PyExc_ValueError);
  static PyObject* file = kind("edgeint8.FileError", PyExc_OSError);
  static PyObject* unsupported = kind("edgeint8.UnsupportedError", PyExc_NotImplementedError);
  m.attr("Error") = py::handle(error);
  m.attr("InvalidArgumentError") = py::handle(invalid);
  m.attr("FileError") = py::handle(file);
  m.attr("UnsupportedError") = py::handle(unsupported);
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const StatusError& e) {
      PyObject* type = error;
      switch (e.code) {
        case ei8::StatusCode::kInvalidArgument:
        case ei8::StatusCode::kOutOfRange:
          type = invalid;
          break;
        case ei8::StatusCode::kNotFound:
        case ei8::StatusCode::kIoError:
        case ei8::StatusCode::kDataLoss:
          type = file;
          break;
        case ei8::StatusCode::kUnsupported:
          type = unsupported;
          break;
        default:
          break;
      }
      PyErr_SetString(type, e.message.c_str());
    }
  });

  py::class_<Model>(m, "Model")
      .def(py::init<std::string, std::string, std::string, int, bool>(), py::arg("path"),
           py::arg("engine") = "int8", py::arg("profile") = "ort", py::arg("threads") = 1,
           py::arg("optimize") = true)
      .def("run", &Model::run, py::arg("x"), py::arg("allow_nonfinite") = false)
      .def_property_readonly("inputs", [](const Model& self) { return self.describe(false); })
      .def_property_readonly("outputs", [](const Model& self) { return self.describe(true); })
      .def_property_readonly("path", &Model::path)
      .def_property_readonly("engine", &Model::engine)
      .def_property_readonly("last_input_addresses", &Model::last_input_addresses);

  m.def("quantize", &quantize);
  m.def("sweep", &sweep);
  m.def("mixed_precision", &mixed_precision);
  m.def("sensitivity", &sensitivity);
  m.def("compare", &compare);
  m.def("simulate", &simulate);
  m.def("dse", &dse);
  m.def("bitgrowth", &bitgrowth);
}
