#include "ei8/quant/calibration.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>

#include "ei8/core/npy.h"
#include "ei8/runtime/executor.h"

namespace ei8::quant {
namespace {

// "[N, 3, 32, 32]" for a sample shape [3, 32, 32].
std::string batched(const Shape& sample) {
  std::string s = "[N";
  for (int64_t d : sample) s += fmt::format(", {}", d);
  return s + "]";
}

// Appends the samples of `t` (one sample, or a batch of them) to `out`.
Status append_samples(const Tensor& t, const Shape& sample, const std::string& file,
                      std::string_view what, std::vector<float>& out, int64_t& count) {
  if (t.dtype() != DType::kF32) {
    return invalid_argument("cannot read {} {}: dtype = {}, must be f32", what, file,
                            dtype_name(t.dtype()));
  }
  int64_t n = 0;
  if (t.shape() == sample) {
    n = 1;
  } else if (t.rank() == static_cast<int64_t>(sample.size()) + 1 &&
             std::equal(sample.begin(), sample.end(), t.shape().begin() + 1)) {
    n = t.dim(0);
  } else {
    return invalid_argument("cannot read {} {}: shape = {}, must be {} or {} (the model input)",
                            what, file, shape_to_string(t.shape()), batched(sample),
                            shape_to_string(sample));
  }
  const auto v = t.span<float>();
  // NaN or Inf would run through the model as a plausible, finite result (ReLU and max-pool
  // drop NaN); refuse them, naming the first.
  const size_t per_sample = n == 0 ? 1 : v.size() / static_cast<size_t>(n);
  for (size_t i = 0; i < v.size(); ++i) {
    if (!std::isfinite(v[i])) {
      return invalid_argument("cannot read {} {}: element {} (sample {}) = {}, must be finite",
                              what, file, i, i / std::max<size_t>(per_sample, 1), v[i]);
    }
  }
  out.insert(out.end(), v.begin(), v.end());
  count += n;
  return {};
}

}  // namespace

Result<Tensor> load_calibration_data(const std::string& path, const Shape& input_shape,
                                     std::string_view what) {
  if (input_shape.empty()) {
    return invalid_argument("cannot read {} {}: model input rank = 0, must be >= 1", what, path);
  }
  const Shape sample(input_shape.begin() + 1, input_shape.end());
  for (int64_t d : sample) {
    if (d < 0) {
      return unsupported(
          "cannot read {} {}: model input shape = {}, must be static except the batch", what, path,
          shape_to_string(input_shape));
    }
  }
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::exists(path, ec)) {
    return not_found(
        "cannot read {} {}: path = missing, must be a .npy file or a directory of .npy files", what,
        path);
  }
  std::vector<std::string> files;
  if (fs::is_directory(path, ec)) {
    for (const auto& e : fs::directory_iterator(path, ec)) {
      if (e.is_regular_file() && e.path().extension() == ".npy") files.push_back(e.path().string());
    }
    std::sort(files.begin(), files.end());
    if (files.empty()) {
      return invalid_argument("cannot read {} {}: .npy files = 0, must be >= 1", what, path);
    }
  } else {
    files.push_back(path);
  }
  std::vector<float> values;
  int64_t count = 0;
  for (const std::string& f : files) {
    EI8_ASSIGN_OR_RETURN(Tensor t, read_npy(f));
    EI8_RETURN_IF_ERROR(append_samples(t, sample, f, what, values, count));
  }
  if (count == 0) {
    return invalid_argument("cannot read {} {}: samples = 0, must be >= 1", what, path);
  }
  Shape shape = sample;
  shape.insert(shape.begin(), count);
  return Tensor::from<float>(shape, std::span<const float>(values));
}

const TensorObserver* Statistics::find(std::string_view name) const {
  for (size_t i = 0; i < names.size(); ++i) {
    if (names[i] == name) return &observers[i];
  }
  return nullptr;
}

Result<Statistics> collect_statistics(const Graph& g, const Tensor& data,
                                      const CalibrationOptions& options) {
  EI8_RETURN_IF_ERROR(validate(options.observer));
  if (options.batch < 1) {
    return invalid_argument("cannot calibrate: batch = {}, must be >= 1", options.batch);
  }
  if (options.max_samples < 0) {
    return invalid_argument("cannot calibrate: max_samples = {}, must be >= 0 (0 = all)",
                            options.max_samples);
  }
  if (g.inputs().size() != 1) {
    return unsupported("cannot calibrate graph '{}': inputs = {}, must be 1", g.name(),
                       g.inputs().size());
  }
  if (data.rank() < 1 || data.dim(0) == 0) {
    return invalid_argument("cannot calibrate graph '{}': calibration samples = 0, must be >= 1",
                            g.name());
  }
  if (data.dtype() != DType::kF32) {
    return invalid_argument("cannot calibrate graph '{}': calibration data dtype = {}, must be f32",
                            g.name(), dtype_name(data.dtype()));
  }
  const std::string& input = g.inputs()[0];
  const Value* in = g.find_value(input);
  if (in == nullptr || in->shape.empty()) {
    return invalid_argument(
        "cannot calibrate graph '{}': input '{}' shape = unknown, must be known", g.name(), input);
  }
  if (in->shape.size() != data.shape().size() ||
      !std::equal(in->shape.begin() + 1, in->shape.end(), data.shape().begin() + 1)) {
    return invalid_argument(
        "cannot calibrate graph '{}': calibration data shape = {}, must be {} (input '{}')",
        g.name(), shape_to_string(data.shape()),
        batched(Shape(in->shape.begin() + (in->shape.empty() ? 0 : 1), in->shape.end())), input);
  }
  // Every float node output becomes a graph output, so the executor keeps it for us.
  Graph aug = g;
  Statistics st;
  st.names.push_back(input);
  for (const Node* n : g.topological_order()) {
    for (const std::string& out : n->outputs) {
      if (out.empty()) continue;
      const Value* v = g.find_value(out);
      if (v != nullptr && v->dtype != DType::kF32) continue;
      if (!aug.is_graph_output(out)) aug.add_output(out);
      st.names.push_back(out);
    }
  }
  // Output i of the executor is aug.outputs()[i]; map it to its observer.
  ExecutorOptions eo;
  eo.optimize = false;
  EI8_ASSIGN_OR_RETURN(Executor ex, Executor::create(std::move(aug), eo));
  std::vector<size_t> obs_of_output;
  for (const std::string& o : ex.graph().outputs()) {
    const auto it = std::find(st.names.begin(), st.names.end(), o);
    obs_of_output.push_back(static_cast<size_t>(it - st.names.begin()));
  }
  st.observers.assign(st.names.size(), TensorObserver(options.observer));
  int64_t total = data.dim(0);
  if (options.max_samples > 0) total = std::min(total, options.max_samples);
  const int64_t per_sample = data.numel() / data.dim(0);
  const auto t0 = std::chrono::steady_clock::now();
  int64_t prepared = 0;
  for (int64_t start = 0; start < total; start += options.batch) {
    const int64_t b = std::min(options.batch, total - start);
    if (b != prepared) {
      EI8_RETURN_IF_ERROR(ex.prepare_batch(b));
      prepared = b;
    }
    const auto src = data.span<float>().subspan(static_cast<size_t>(start * per_sample),
                                                static_cast<size_t>(b * per_sample));
    std::memcpy(ex.input(0).raw(), src.data(), src.size_bytes());
    st.observers[0].observe(src);
    EI8_RETURN_IF_ERROR(ex.run());
    for (size_t i = 0; i < obs_of_output.size(); ++i) {
      if (obs_of_output[i] >= st.observers.size()) continue;
      st.observers[obs_of_output[i]].observe(ex.output(i).span<float>());
    }
  }
  st.samples = total;
  st.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return st;
}

Result<CalibTable> make_table(const Statistics& st, const CalibParams& params) {
  CalibTable t;
  t.samples = st.samples;
  for (size_t i = 0; i < st.names.size(); ++i) {
    Result<CalibResult> r = calibrate(st.observers[i], params);
    if (!r.ok()) return r.status().with_context(fmt::format("tensor '{}'", st.names[i]));
    t.entries.push_back(make_entry(st.names[i], st.observers[i], r.value()));
  }
  return t;
}

}  // namespace ei8::quant
