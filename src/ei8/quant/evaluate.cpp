#include "ei8/quant/evaluate.h"

#include "ei8/quant/int8_engine.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <set>
#include <sstream>

#include "ei8/core/npy.h"
#include "ei8/quant/calibration.h"
#include "ei8/quant/int8_engine.h"
#include "ei8/quant/simulate.h"

namespace ei8::quant {

Result<EvalSet> make_eval_set(const Graph& g, Tensor inputs, std::vector<int64_t> labels) {
  if (g.inputs().size() != 1) {
    return unsupported("cannot evaluate graph '{}': inputs = {}, must be 1", g.name(),
                       g.inputs().size());
  }
  if (inputs.rank() < 1 || inputs.dim(0) == 0) {
    return invalid_argument("cannot evaluate graph '{}': evaluation samples = 0, must be >= 1",
                            g.name());
  }
  if (inputs.dtype() != DType::kF32) {
    return invalid_argument("cannot evaluate graph '{}': evaluation data dtype = {}, must be f32",
                            g.name(), dtype_name(inputs.dtype()));
  }
  const Value* in = g.find_value(g.inputs()[0]);
  if (in == nullptr || in->shape.size() != inputs.shape().size() ||
      !std::equal(in->shape.begin() + 1, in->shape.end(), inputs.shape().begin() + 1)) {
    return invalid_argument(
        "cannot evaluate graph '{}': evaluation data shape = {}, must be the input shape {} "
        "with any batch",
        g.name(), shape_to_string(inputs.shape()),
        in == nullptr ? std::string("?") : shape_to_string(in->shape));
  }
  {
    const auto v = inputs.span<float>();
    const size_t per_sample = v.size() / static_cast<size_t>(inputs.dim(0));
    for (size_t i = 0; i < v.size(); ++i) {
      if (!std::isfinite(v[i])) {
        return invalid_argument(
            "cannot evaluate graph '{}': evaluation data element {} (sample {}) = {}, must be "
            "finite",
            g.name(), i, i / std::max<size_t>(per_sample, 1), v[i]);
      }
    }
  }
  if (!labels.empty() && static_cast<int64_t>(labels.size()) != inputs.dim(0)) {
    return invalid_argument("cannot evaluate graph '{}': labels = {}, must be {} (one per sample)",
                            g.name(), labels.size(), inputs.dim(0));
  }
  // Classes = the last dimension of the (first) output, when the graph knows it.
  int64_t classes = 0;
  if (!g.outputs().empty()) {
    const Value* out = g.find_value(g.outputs()[0]);
    if (out != nullptr && !out->shape.empty() && out->shape.back() > 0) {
      classes = out->shape.back();
    }
  }
  for (size_t i = 0; i < labels.size(); ++i) {
    if (labels[i] < 0) {
      return invalid_argument("cannot evaluate graph '{}': label[{}] = {}, must be >= 0", g.name(),
                              i, labels[i]);
    }
    if (classes > 0 && labels[i] >= classes) {
      return invalid_argument(
          "cannot evaluate graph '{}': label[{}] = {}, must be < {} (the model's classes)",
          g.name(), i, labels[i], classes);
    }
  }
  EvalSet ev;
  ev.inputs = std::move(inputs);
  ev.labels = std::move(labels);
  return ev;
}

Result<std::vector<int64_t>> read_labels(const std::string& path, int64_t n) {
  EI8_ASSIGN_OR_RETURN(Tensor t, read_npy(path));
  if (t.numel() != n) {
    return invalid_argument("cannot read labels {}: count = {}, must be {} (evaluation samples)",
                            path, t.numel(), n);
  }
  std::vector<int64_t> out(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    const auto k = static_cast<size_t>(i);
    switch (t.dtype()) {
      case DType::kS32:
        out[k] = t.span<int32_t>()[k];
        break;
      case DType::kS8:
        out[k] = t.span<int8_t>()[k];
        break;
      case DType::kU8:
        out[k] = t.span<uint8_t>()[k];
        break;
      case DType::kS16:
        out[k] = t.span<int16_t>()[k];
        break;
      case DType::kF32: {
        const float v = t.span<float>()[k];
        if (!std::isfinite(v) || v != std::floor(v)) {
          return invalid_argument("cannot read labels {}: label[{}] = {}, must be an integer", path,
                                  i, v);
        }
        out[k] = static_cast<int64_t>(v);
        break;
      }
    }
  }
  return out;
}

Result<EvalSet> load_eval_set(const Graph& g, const std::string& data_path,
                              const std::string& labels_path) {
  if (g.inputs().size() != 1) {
    return unsupported("cannot load evaluation data: model inputs = {}, must be 1",
                       g.inputs().size());
  }
  EI8_ASSIGN_OR_RETURN(
      Tensor x,
      load_calibration_data(data_path, g.find_value(g.inputs()[0])->shape, "evaluation data"));
  std::vector<int64_t> labels;
  if (!labels_path.empty()) {
    EI8_ASSIGN_OR_RETURN(labels, read_labels(labels_path, x.dim(0)));
  }
  return make_eval_set(g, std::move(x), std::move(labels));
}

double fraction_equal(std::span<const int64_t> a, std::span<const int64_t> b) {
  const size_t n = std::min(a.size(), b.size());
  int64_t same = 0;
  for (size_t i = 0; i < n; ++i) same += a[i] == b[i];
  return n == 0 ? 0.0 : static_cast<double>(same) / static_cast<double>(n);
}

namespace {

Evaluation evaluation_of(Tensor logits, const EvalSet& ev, std::span<const int64_t> reference) {
  Evaluation e;
  e.logits = std::move(logits);
  e.top1 = argmax_rows(e.logits);
  e.accuracy = ev.has_labels() ? fraction_equal(e.top1, ev.labels) : NAN;
  e.agreement = reference.empty() ? 1.0 : fraction_equal(e.top1, reference);
  return e;
}

}  // namespace

Result<Evaluation> evaluate_graph(const Graph& g, const EvalSet& ev,
                                  std::span<const int64_t> reference, int64_t batch) {
  EI8_ASSIGN_OR_RETURN(Tensor logits, run_batched(g, ev.inputs, batch));
  return evaluation_of(std::move(logits), ev, reference);
}

Result<Evaluation> evaluate_model(const QuantizedModel& m, const EvalSet& ev,
                                  std::span<const int64_t> reference, int64_t batch) {
  // The integer engine, so that accuracy is what the deployed INT8 model computes.
  EI8_ASSIGN_OR_RETURN(Executor ex, make_int8_executor(m));
  EI8_ASSIGN_OR_RETURN(Tensor logits, run_batched(ex, ev.inputs, batch));
  return evaluation_of(std::move(logits), ev, reference);
}

int64_t float_leftover_bytes(const QuantizedModel& m) {
  const Graph& g = m.qdq;
  std::set<std::string> counted;
  int64_t bytes = 0;
  for (const Node& n : g.nodes()) {
    if (n.op_type == "QuantizeLinear" || n.op_type == "DequantizeLinear") continue;
    for (const std::string& in : n.inputs) {
      if (in.empty() || counted.count(in)) continue;
      const Tensor* t = g.constant(in);
      if (t == nullptr || t->dtype() != DType::kF32) continue;
      counted.insert(in);
      bytes += t->numel() * 4;
    }
  }
  return bytes;
}

int64_t model_bytes(const QuantizedModel& m) {
  return m.weight_bytes_int8 + float_leftover_bytes(m);
}

void reset_peak_memory() {
  std::ofstream f("/proc/self/clear_refs");
  if (f) f << "5";
}

int64_t peak_memory_bytes() {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("VmHWM:", 0) == 0) {
      std::istringstream s(line.substr(6));
      int64_t kb = -1;
      s >> kb;
      return kb < 0 ? -1 : kb * 1024;
    }
  }
  return -1;
}

}  // namespace ei8::quant
