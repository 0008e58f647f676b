#include "ei8/quant/model_fixedpoint.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>

#include "ei8/fixedpoint/requantize.h"
#include "ei8/fixedpoint/rounding.h"
#include "ei8/graph/passes.h"
#include "ei8/graph/shape_inference.h"
#include "ei8/quant/calibration.h"
#include "ei8/quant/simulate.h"
#include "ei8/runtime/executor.h"
#include "ei8/runtime/int8_lowering.h"
#include "ei8/runtime/int8_ops.h"
#include "ei8/runtime/layer_params.h"

namespace ei8::quant {
namespace fp = ei8::fixedpoint;
namespace {

bool is_quantized_graph(const Graph& g) {
  for (const Node& n : g.nodes()) {
    if (n.op_type == "QuantizeLinear" || n.op_type == "DequantizeLinear" ||
        n.op_type.rfind("QLinear", 0) == 0) {
      return true;
    }
  }
  return false;
}

int32_t type_min(DType t) { return t == DType::kU8 ? 0 : -128; }
int32_t type_max(DType t) { return t == DType::kU8 ? 255 : 127; }

// Integer values of a u8/s8/s32 constant.
std::vector<int32_t> int_values(const Tensor& t) {
  std::vector<int32_t> v(static_cast<size_t>(t.numel()));
  for (size_t i = 0; i < v.size(); ++i) {
    switch (t.dtype()) {
      case DType::kU8:
        v[i] = t.span<uint8_t>()[i];
        break;
      case DType::kS8:
        v[i] = t.span<int8_t>()[i];
        break;
      case DType::kS32:
        v[i] = t.span<int32_t>()[i];
        break;
      case DType::kS16:
        v[i] = t.span<int16_t>()[i];
        break;
      default:
        v[i] = 0;
    }
  }
  return v;
}

// The integer operands of one quantized MAC layer, in the layout the fixedpoint primitives
// take: weights [out][K] as s8 (u8 weights shifted by −128 with their zero point: same
// products), one weight zero point, int32 bias per output channel.
struct IntLayer {
  DType input_type = DType::kU8;
  int32_t input_zero_point = 0;
  std::vector<int8_t> weights;  // [weight_batches][out][K]
  int32_t weight_zero_point = 0;
  std::vector<int32_t> bias;  // out_channels or empty
  std::vector<int32_t> abs_weight_rows;
};

Result<IntLayer> integer_operands(const Graph& g, const LayerGeometry& l) {
  const LayerQuant& q = *l.quant;
  IntLayer r;
  r.input_type = q.input.dtype;
  if (r.input_type != DType::kU8 && r.input_type != DType::kS8) {
    return invalid_argument("input '{}' dtype = {}, must be u8 or s8", q.input.value,
                            dtype_name(r.input_type));
  }
  r.input_zero_point = q.input.zero_points[0];
  const Tensor* w = g.constant(q.weight.value);
  if (w == nullptr || (w->dtype() != DType::kU8 && w->dtype() != DType::kS8)) {
    return invalid_argument("weight '{}' is not a u8/s8 constant", q.weight.value);
  }
  const std::vector<int32_t>& zw = q.weight.zero_points;
  if (std::any_of(zw.begin(), zw.end(), [&](int32_t z) { return z != zw[0]; })) {
    return invalid_argument("weight '{}' zero points differ per channel, must be one value",
                            q.weight.value);
  }
  if (w->numel() != l.weight_numel()) {
    return invalid_argument("weight '{}' elements = {}, must be {}", q.weight.value, w->numel(),
                            l.weight_numel());
  }
  const std::vector<int32_t> wv = int_values(*w);
  const int32_t shift = w->dtype() == DType::kU8 ? 128 : 0;
  r.weight_zero_point = zw[0] - shift;
  const int64_t k = l.accumulation_count(), n = l.out_channels;
  r.weights.resize(wv.size());
  if (l.kind == LayerKind::kConv || l.trans_b) {  // already [out][K]
    for (size_t i = 0; i < wv.size(); ++i) r.weights[i] = static_cast<int8_t>(wv[i] - shift);
  } else {  // B [batches][K][N] -> [batches][N][K]
    for (int64_t b = 0; b < l.weight_batches; ++b) {
      for (int64_t j = 0; j < n; ++j) {
        for (int64_t i = 0; i < k; ++i) {
          r.weights[static_cast<size_t>((b * n + j) * k + i)] =
              static_cast<int8_t>(wv[static_cast<size_t>((b * k + i) * n + j)] - shift);
        }
      }
    }
  }
  if (q.bias.has_value()) {
    const Tensor* b = g.constant(q.bias->value);
    if (b == nullptr || b->dtype() != DType::kS32 || b->numel() != n) {
      return invalid_argument("bias '{}' is not an s32 constant of {} values", q.bias->value, n);
    }
    r.bias = int_values(*b);
  }
  return r;
}

// max_c Σ_k |w[c,k] − z_w|·max|x − z_x| + |b[c]|.
int64_t weight_bound(const LayerGeometry& l, const IntLayer& op) {
  const int64_t k = l.accumulation_count();
  const int64_t mx = std::max<int64_t>(op.input_zero_point - type_min(op.input_type),
                                       type_max(op.input_type) - op.input_zero_point);
  const int64_t rows = static_cast<int64_t>(op.weights.size()) / std::max<int64_t>(k, 1);
  int64_t best = 0;
  for (int64_t r = 0; r < rows; ++r) {
    int64_t s = 0;
    for (int64_t i = 0; i < k; ++i) {
      const int64_t w = op.weights[static_cast<size_t>(r * k + i)] - op.weight_zero_point;
      s += w < 0 ? -w : w;
    }
    const int64_t c = r % l.out_channels;
    const int64_t b = op.bias.empty() ? 0 : op.bias[static_cast<size_t>(c)];
    best = std::max(best, s * mx + (b < 0 ? -b : b));
  }
  return best;
}

// The layer's own output requantizer (ort profile; clamp of its type and fused ReLU), or none.
std::optional<fp::Requantizer> output_requantizer(const LayerGeometry& l) {
  const LayerQuant& q = *l.quant;
  if (!q.output.has_value()) return std::nullopt;
  const DType t = q.output->dtype;
  if (t != DType::kU8 && t != DType::kS8) return std::nullopt;
  const int32_t zy = q.output->zero_points[0];
  int32_t lo = type_min(t);
  if (q.activation == "Relu") lo = std::max(lo, zy);
  auto rq = fp::Requantizer::prepare(fp::RequantProfile::kOrt, q.input.scales[0], q.weight.scales,
                                     q.output->scales[0], zy, lo, type_max(t));
  if (!rq.ok()) return std::nullopt;
  return std::move(rq).value();
}

// Runs `g` on the calibration samples and returns the bytes of each requested integer value,
// concatenated over the samples.
Result<std::map<std::string, std::vector<std::byte>>> capture(const Graph& g,
                                                              const std::vector<std::string>& names,
                                                              const Tensor& x, int64_t batch) {
  EI8_ASSIGN_OR_RETURN(Graph sim, simulation_graph(g));
  std::vector<size_t> index;
  for (const std::string& n : names) {
    index.push_back(sim.outputs().size());
    sim.add_output(n);
  }
  EI8_ASSIGN_OR_RETURN(Executor ex, Executor::create(std::move(sim), {.optimize = false}));
  std::map<std::string, std::vector<std::byte>> out;
  const int64_t total = x.dim(0), per = x.numel() / std::max<int64_t>(total, 1);
  int64_t prepared = 0;
  for (int64_t start = 0; start < total; start += batch) {
    const int64_t b = std::min(batch, total - start);
    if (b != prepared) {
      EI8_RETURN_IF_ERROR(ex.prepare_batch(b));
      prepared = b;
    }
    std::memcpy(ex.input(0).raw(), x.data<float>() + start * per,
                static_cast<size_t>(b * per) * sizeof(float));
    EI8_RETURN_IF_ERROR(ex.run());
    for (size_t i = 0; i < names.size(); ++i) {
      const Tensor& t = ex.output(index[i]);
      const auto* p = static_cast<const std::byte*>(t.raw());
      std::vector<std::byte>& dst = out[names[i]];
      dst.insert(dst.end(), p, p + t.nbytes());
    }
  }
  return out;
}

template <typename T>
Result<fp::LayerOverflow> simulate(const LayerGeometry& l, const IntLayer& op,
                                   const std::vector<std::byte>& bytes, int64_t samples,
                                   std::span<const int> widths, const fp::Requantizer* rq) {
  fp::ConvGeometry geo = conv_geometry(l);
  const int64_t per_sample = l.kind == LayerKind::kFullyConnected ? l.rows_per_sample : 1;
  geo.batch = samples * per_sample;
  if (l.weight_batches > 1) {
    return invalid_argument("a batched right operand ({} matrices) is not simulated",
                            l.weight_batches);
  }
  const std::span<const T> in(reinterpret_cast<const T*>(bytes.data()), bytes.size() / sizeof(T));
  return fp::simulate_layer_overflow<T>(l.node, geo, op.input_zero_point, op.weight_zero_point, in,
                                        op.weights, op.bias, widths, rq);
}

}  // namespace

Result<ModelFixedPoint> analyze_model_fixed_point(const Graph& model, const Tensor* calib,
                                                  const ModelFixedPointOptions& o) {
  if (o.batch < 1 || o.max_samples < 0) {
    return invalid_argument(
        "cannot analyze fixed point: batch = {}, max_samples = {}, must be >= 1 and >= 0", o.batch,
        o.max_samples);
  }
  for (int w : o.widths) EI8_RETURN_IF_ERROR(fp::check_width(w, "simulate accumulator"));
  ModelFixedPoint r;
  r.model = model.name();
  r.quantized = is_quantized_graph(model);
  Graph g = model;
  EI8_RETURN_IF_ERROR(infer_shapes(g));
  Tensor x;
  if (calib != nullptr) {
    const Value* in = g.inputs().empty() ? nullptr : g.find_value(g.inputs()[0]);
    if (in == nullptr)
      return invalid_argument("cannot analyze fixed point: the model has no input");
    Shape want = in->shape;
    Shape got = calib->shape();
    bool fits = calib->dtype() == DType::kF32 && got.size() == want.size() && !got.empty();
    for (size_t i = 1; fits && i < got.size(); ++i) fits = want[i] == kDynamic || want[i] == got[i];
    if (!fits) {
      want[0] = kDynamic;
      return invalid_argument(
          "cannot read calibration data: shape = {} {}, must be f32 {} (N samples of the model "
          "input '{}')",
          dtype_name(calib->dtype()), shape_to_string(got), shape_to_string(want), in->name);
    }
    int64_t n = calib->dim(0);
    if (o.max_samples > 0) n = std::min(n, o.max_samples);
    if (n < 1)
      return invalid_argument("cannot analyze fixed point: calibration samples = 0, must be >= 1");
    Shape s = got;
    s[0] = n;
    x = Tensor::zeros(DType::kF32, s);
    std::memcpy(x.raw(), calib->raw(), static_cast<size_t>(x.nbytes()));
    r.calib_samples = n;
    if (!r.quantized) {  // quantize the float model on these samples (PTQ of this module)
      EI8_RETURN_IF_ERROR(optimize(g));
      CalibrationOptions co;
      co.batch = o.batch;
      EI8_ASSIGN_OR_RETURN(Statistics st, collect_statistics(g, x, co));
      EI8_ASSIGN_OR_RETURN(CalibTable table, make_table(st, calib_target(o.ptq, o.calib)));
      EI8_ASSIGN_OR_RETURN(QuantizedModel qm, quantize_model(g, table, o.ptq));
      g = std::move(qm.qdq);
      EI8_RETURN_IF_ERROR(infer_shapes(g));
      r.quantized_here = true;
    }
  }
  if (r.quantized || r.quantized_here) r.integer_model = g;
  EI8_ASSIGN_OR_RETURN(LayerView view, layer_view(g));
  r.skipped = view.skipped;
  std::vector<const LayerGeometry*> mac;
  for (const LayerGeometry& l : view.layers) {
    if (l.is_mac()) mac.push_back(&l);
  }
  if (mac.empty() && r.skipped.empty()) {
    return invalid_argument(
        "cannot analyze fixed point of model '{}': Conv/Gemm/MatMul layers = 0, must be >= 1",
        model.name());
  }
  // Integer inputs of every quantized layer on the calibration data, in one pass.
  std::map<std::string, std::vector<std::byte>> inputs;
  if (r.calib_samples > 0) {
    std::vector<std::string> names;
    for (const LayerGeometry* l : mac) {
      if (l->quant.has_value() &&
          std::find(names.begin(), names.end(), l->quant->input.value) == names.end()) {
        names.push_back(l->quant->input.value);
      }
    }
    if (!names.empty()) {
      EI8_ASSIGN_OR_RETURN(inputs, capture(g, names, x, o.batch));
    }
  }
  for (const LayerGeometry* lp : mac) {
    const LayerGeometry& l = *lp;
    LayerFixedPoint f;
    f.node = l.node;
    f.op_type = l.op_type;
    f.geometry = l.describe();
    f.k = l.accumulation_count();
    f.operands = o.float_operands;
    std::optional<IntLayer> op;
    if (l.quant.has_value()) {
      Result<IntLayer> ops = integer_operands(g, l);
      if (ops.ok()) {
        op = std::move(ops).value();
        f.integer_operands = true;
        f.operands = op->input_type == DType::kU8 || op->input_zero_point != 0
                         ? fp::OperandKind::kU8S8
                         : fp::OperandKind::kS8S8;
      } else {
        f.note = std::string(ops.status().message());
      }
    } else if (r.quantized || r.quantized_here) {
      f.note = l.unquantized_reason.empty() ? "the layer is not quantized" : l.unquantized_reason;
    } else {
      f.note = fmt::format("float model: operands assumed {}; give calibration data for the rest",
                           fp::operand_kind_name(o.float_operands));
    }
    fp::ConvGeometry geo = conv_geometry(l);
    geo.batch = 1;
    Result<fp::BitGrowth> b = fp::analyze_bit_growth(l.node, geo, f.operands);
    if (!b.ok()) {
      r.skipped.push_back({l.node, l.op_type, std::string(b.status().message())});
      continue;
    }
    f.bound = std::move(b).value();
    if (op.has_value()) {
      f.has_weight_bound = true;
      f.weight_bound_abs = weight_bound(l, *op);
      f.weight_bound_bits = fp::signed_bits_for(f.weight_bound_abs);
      const auto it = inputs.find(l.quant->input.value);
      if (it != inputs.end()) {
        const std::optional<fp::Requantizer> rq = output_requantizer(l);
        const fp::Requantizer* rqp = rq.has_value() ? &*rq : nullptr;
        Result<fp::LayerOverflow> ov =
            op->input_type == DType::kU8
                ? simulate<uint8_t>(l, *op, it->second, r.calib_samples, o.widths, rqp)
                : simulate<int8_t>(l, *op, it->second, r.calib_samples, o.widths, rqp);
        if (ov.ok()) {
          f.has_observed = true;
          f.observed_abs = ov->max_abs_acc;
          f.observed_partial_abs = ov->max_abs_partial;
          f.observed_bits = ov->bits_needed;
          if (!o.widths.empty()) f.overflow = std::move(ov).value();
        } else {
          f.note = std::string(ov.status().message());
        }
      }
    }
    r.layers.push_back(std::move(f));
  }
  return r;
}

namespace {

// Top-1 of the integer engine lowered with `lowering`, kernels forced to the reference tier when
// a narrow accumulator is simulated (the only tier that has one; the exact run uses it too, so
// the comparison is between the same kernels).
Result<std::vector<int64_t>> engine_top1(const Graph& g, const Tensor& x,
                                         const Int8LoweringOptions& lowering, int64_t batch) {
  ExecutorOptions eo;
  eo.kernel = kernels::KernelChoice::kRef;
  EI8_ASSIGN_OR_RETURN(Executor ex, make_int8_executor(g, lowering, eo));
  EI8_ASSIGN_OR_RETURN(Tensor logits, run_batched(ex, x, batch));
  return argmax_rows(logits);
}

}  // namespace

Result<AccumulatorAccuracy> accuracy_at_accumulator_widths(const Graph& integer_model,
                                                           const EvalSet& ev,
                                                           std::span<const int> widths,
                                                           fixedpoint::RequantProfile profile,
                                                           int64_t batch) {
  if (batch < 1) {
    return invalid_argument("cannot measure accuracy at widths: batch = {}, must be >= 1", batch);
  }
  if (ev.samples() < 1) {
    return invalid_argument("cannot measure accuracy at widths: samples = 0, must be >= 1");
  }
  for (int w : widths) EI8_RETURN_IF_ERROR(fixedpoint::check_width(w, "measure accuracy"));
  AccumulatorAccuracy r;
  r.samples = ev.samples();
  EI8_ASSIGN_OR_RETURN(std::vector<int64_t> exact,
                       engine_top1(integer_model, ev.inputs, {.profile = profile}, batch));
  r.exact_accuracy = ev.has_labels() ? fraction_equal(exact, ev.labels) : NAN;
  for (int w : widths) {
    for (fixedpoint::OverflowPolicy p :
         {fixedpoint::OverflowPolicy::kSaturate, fixedpoint::OverflowPolicy::kWrap}) {
      EI8_ASSIGN_OR_RETURN(
          std::vector<int64_t> top1,
          engine_top1(integer_model, ev.inputs,
                      {.profile = profile, .accumulator_bits = w, .accumulator_policy = p}, batch));
      r.points.push_back({.width = w,
                          .policy = p,
                          .accuracy = ev.has_labels() ? fraction_equal(top1, ev.labels) : NAN,
                          .agreement = fraction_equal(top1, exact)});
    }
  }
  return r;
}

}  // namespace ei8::quant
