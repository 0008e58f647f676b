// edgeint8 fixedpoint — the fixed-point closed loop from the command line:
//   edgeint8 fixedpoint bitgrowth MODEL.onnx [--calib-data X.npy] [--operands s8xs8|u8xs8]
//                                 [--width N] [--json]          (the model's real layers)
//   edgeint8 fixedpoint bitgrowth --topology net.csv [--operands s8xs8|u8xs8] [--width N] [--json]
//   edgeint8 fixedpoint overflow MODEL.onnx --calib-data X.npy [--widths 12..32] [--csv FILE]
//                                [--eval-data X.npy --eval-labels y.npy] [--profile P]
//                                [--json]                       (the model's real operands; with
//                                eval data, the end-to-end accuracy at each width and policy)
//   edgeint8 fixedpoint overflow [--widths 12..32] [--regime realistic|uniform|both] [--seed S]
//                                [--csv FILE] [--json]          (synthetic stress layers)
//   edgeint8 fixedpoint requant --profile ort|tflite|tflite-single --multiplier M
//                               [--zero-point Z] [--qmin A --qmax B] [--json]   < acc.txt
//   edgeint8 fixedpoint verify [--filter TEXT] [--json]
#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>

#include "cli.h"
#include "ei8/arch/scalesim_topology.h"
#include "ei8/conformance/overflow_experiment.h"
#include "ei8/conformance/verify.h"
#include "ei8/core/npy.h"
#include "ei8/fixedpoint/bit_growth.h"
#include "ei8/fixedpoint/overflow.h"
#include "ei8/fixedpoint/requantize.h"
#include "ei8/graph/onnx/onnx_io.h"
#include "ei8/pipeline/result_json.h"
#include "ei8/quant/calibration.h"
#include "ei8/quant/model_fixedpoint.h"

namespace ei8::cli {
namespace {

using namespace ei8::fixedpoint;   // NOLINT(google-build-using-namespace): one command's file
using namespace ei8::conformance;  // NOLINT(google-build-using-namespace)

// ---- bitgrowth ----

// The checks of a model and its calibration data before any work: the model is a readable file,
// --max-samples >= 0, and an output file is neither of the inputs.
Status check_model_inputs(const std::string& action, const std::string& model,
                          const std::string& calib, int64_t max_samples, const std::string& csv) {
  EI8_RETURN_IF_ERROR(check_model_file(model, "MODEL"));
  if (max_samples < 0) {
    return invalid_argument("cannot {}: --max-samples = {}, must be >= 0 (0 = all)", action,
                            max_samples);
  }
  if (csv.empty()) return {};
  for (const auto& [input, option] :
       {std::pair{model, "MODEL"}, std::pair{calib, "--calib-data"}}) {
    if (!input.empty() && same_file(csv, input)) {
      return invalid_argument("cannot write {}: --csv = the same file as {}, must be another file",
                              csv, option);
    }
  }
  return {};
}

struct BitGrowthOptions {
  std::string model, topology, operands = "s8xs8", calib_data;
  int width = 0;
  int64_t max_samples = 64;
  bool width_given = false, operands_given = false, max_samples_given = false;
  bool json = false;
};

Result<OperandKind> parse_operands(const std::string& s) {
  if (s == "u8xs8") return OperandKind::kU8S8;
  if (s == "s8xs8") return OperandKind::kS8S8;
  return invalid_argument("cannot analyze bit growth: --operands = '{}', must be s8xs8 or u8xs8",
                          s);
}

// The model and its calibration samples (checked against the model's input shape).
struct LoadedModel {
  Graph graph;
  std::optional<Tensor> calib;
};

Result<LoadedModel> load_model_and_calib(const std::string& model, const std::string& calib) {
  LoadedModel m;
  EI8_ASSIGN_OR_RETURN(m.graph, load_onnx(model));
  if (!calib.empty()) {
    const Value* in = m.graph.inputs().empty() ? nullptr : m.graph.find_value(m.graph.inputs()[0]);
    if (in == nullptr)
      return invalid_argument("cannot read model {}: inputs = 0, must be 1", model);
    EI8_ASSIGN_OR_RETURN(Tensor x, quant::load_calibration_data(calib, in->shape));
    m.calib = std::move(x);
  }
  return m;
}

// bitgrowth on a model: every Conv/Gemm/MatMul from the layer view.
Status run_model_bitgrowth(const BitGrowthOptions& o) {
  EI8_ASSIGN_OR_RETURN(LoadedModel m, load_model_and_calib(o.model, o.calib_data));
  quant::ModelFixedPointOptions mo;
  mo.max_samples = o.max_samples;
  if (o.operands_given) {
    EI8_ASSIGN_OR_RETURN(mo.float_operands, parse_operands(o.operands));
  }
  EI8_ASSIGN_OR_RETURN(quant::ModelFixedPoint r, quant::analyze_model_fixed_point(
                                                     m.graph, m.calib ? &*m.calib : nullptr, mo));
  if (o.json) {
    const std::optional<int> width = o.width_given ? std::optional<int>(o.width) : std::nullopt;
    const nlohmann::json j = pipeline::bitgrowth_json(o.model, r, width);
    fmt::print("{}\n", j.dump(2));
    return {};
  }
  fmt::print("{}: {}{}\n", o.model,
             r.quantized        ? "quantized model"
             : r.quantized_here ? "float model, quantized (u8 asym, per-channel s8) on the "
                                  "calibration data"
                                : "float model",
             r.calib_samples > 0 ? fmt::format(", {} calibration samples", r.calib_samples) : "");
  fmt::print("{:<28} {:<34} {:>6} {:>6} {:>8} {:>6} {:>8} {:>8} {:>9}{}\n", "layer", "geometry",
             "K", "ops", "formula", "exact", "weights", "reached", "recommend",
             o.width_given ? fmt::format("  fits {}-bit", o.width) : "");
  for (const quant::LayerFixedPoint& l : r.layers) {
    fmt::print("{:<28} {:<34} {:>6} {:>6} {:>8} {:>6} {:>8} {:>8} {:>9}{}\n", l.node, l.geometry,
               l.k, operand_kind_name(l.operands), l.bound.accumulator_bits,
               l.bound.worst_case_bits,
               l.has_weight_bound ? std::to_string(l.weight_bound_bits) : std::string("-"),
               l.has_observed ? std::to_string(l.observed_bits) : std::string("-"),
               l.bound.recommended_width,
               o.width_given ? (l.bound.accumulator_bits <= o.width ? "  yes" : "  NO") : "");
    if (!l.note.empty()) fmt::print("  ({}: {})\n", l.node, l.note);
  }
  for (const SkippedLayer& s : r.skipped) {
    fmt::print("{:<28} skipped: {}\n", s.node, s.reason);
  }
  fmt::print(
      "(formula = product + ceil(log2 K); exact = signed bits of K*max|x-z|*max|w|; weights = "
      "bits of max_c sum|w_q|*max|x_q-z_x| + |b_q|; reached = bits of the largest partial sum on "
      "the calibration data)\n");
  return {};
}

Status run_bitgrowth(const BitGrowthOptions& o) {
  if (o.width_given) EI8_RETURN_IF_ERROR(check_width(o.width, "check accumulator width"));
  if (!o.model.empty() && !o.topology.empty()) {
    return invalid_argument(
        "cannot analyze bit growth: both MODEL = '{}' and --topology = '{}' given, must be one",
        o.model, o.topology);
  }
  if (!o.model.empty()) {
    EI8_RETURN_IF_ERROR(
        check_model_inputs("analyze bit growth", o.model, o.calib_data, o.max_samples, ""));
    return run_model_bitgrowth(o);
  }
  if (o.topology.empty()) {
    return invalid_argument(
        "cannot analyze bit growth: MODEL and --topology = absent, must name an ONNX model or a "
        "topology CSV");
  }
  if (!o.calib_data.empty()) {
    return invalid_argument(
        "cannot analyze bit growth: --calib-data = '{}' with a topology, must come with a MODEL",
        o.calib_data);
  }
  if (o.max_samples_given) {
    return invalid_argument(
        "cannot analyze bit growth: --max-samples = {} with a topology, must come with a MODEL",
        o.max_samples);
  }
  EI8_RETURN_IF_ERROR(check_topology_file(o.topology, "--topology"));
  EI8_ASSIGN_OR_RETURN(OperandKind kind, parse_operands(o.operands));
  EI8_ASSIGN_OR_RETURN(arch::Topology topo, arch::read_topology_csv(o.topology));
  std::vector<BitGrowth> rows;
  for (const arch::Layer& l : topo.layers) {
    // SCALE-Sim layers are unpadded (padding is folded into the ifmap), batch 1, groups 1.
    const ConvGeometry g = ConvGeometry::conv2d(1, l.channels, l.ifmap_h, l.ifmap_w, l.num_filters,
                                                l.filter_h, l.filter_w)
                               .with_stride(l.stride_h, l.stride_w);
    auto b = analyze_bit_growth(l.name, g, kind);
    if (!b.ok()) return b.status().with_context(fmt::format("{}:{}", o.topology, l.line));
    rows.push_back(std::move(b).value());
  }
  for (const std::string& w : topo.warnings) fmt::print(stderr, "edgeint8: warning: {}\n", w);
  if (o.json) {
    nlohmann::json j;
    j["operands"] = operand_kind_name(kind);
    j["layers"] = nlohmann::json::array();
    for (const BitGrowth& b : rows) {
      nlohmann::json l = {{"name", b.name},
                          {"K", b.k},
                          {"product_bits", b.product_bits},
                          {"accumulator_bits", b.accumulator_bits},
                          {"recommended_width", b.recommended_width},
                          {"worst_case_abs", b.worst_case_abs},
                          {"worst_case_bits", b.worst_case_bits},
                          {"reason", b.reason}};
      if (o.width_given) l["fits_width"] = b.accumulator_bits <= o.width;
      j["layers"].push_back(l);
    }
    fmt::print("{}\n", j.dump(2));
    return {};
  }
  fmt::print("{:<20} {:>8} {:>8} {:>8} {:>8} {:>10}{}\n", "layer", "K", "product", "acc_bits",
             "exact", "recommend", o.width_given ? fmt::format("  fits {}-bit", o.width) : "");
  for (const BitGrowth& b : rows) {
    fmt::print("{:<20} {:>8} {:>8} {:>8} {:>8} {:>10}{}\n", b.name, b.k, b.product_bits,
               b.accumulator_bits, b.worst_case_bits, b.recommended_width,
               o.width_given ? (b.accumulator_bits <= o.width ? "  yes" : "  NO") : "");
  }
  fmt::print(
      "({} operands; acc_bits = product + ceil(log2 K); exact = signed bits of K*max|x|*max|w|)\n",
      operand_kind_name(kind));
  return {};
}

// ---- overflow ----

struct OverflowOptions {
  std::string model, calib_data, eval_data, eval_labels, profile = "ort";
  std::string widths = "12..32", regime = "realistic", csv;
  uint64_t seed = 7;
  int64_t image_channels = 3;
  int64_t max_samples = 64;
  bool json = false;
  bool max_samples_given = false;
  std::string synthetic_option;  // the first of --regime/--seed/--image-channels given, or ""
};

// overflow on a model: the real int8 operands of every quantized layer on calibration data.
Status run_model_overflow(const OverflowOptions& o, const std::vector<int>& widths) {
  if (o.calib_data.empty()) {
    return invalid_argument(
        "cannot simulate overflow of model {}: --calib-data = absent, must give the samples the "
        "layers' integer inputs come from",
        o.model);
  }
  EI8_ASSIGN_OR_RETURN(LoadedModel m, load_model_and_calib(o.model, o.calib_data));
  quant::ModelFixedPointOptions mo;
  mo.max_samples = o.max_samples;
  mo.widths = widths;
  EI8_ASSIGN_OR_RETURN(quant::ModelFixedPoint r,
                       quant::analyze_model_fixed_point(m.graph, &*m.calib, mo));
  std::string csv =
      "layer,K,outputs,max_abs_acc,bits_needed,width,policy,overflowed,changed,"
      "fraction_changed,mse,max_abs_error,output_changed,output_fraction_changed,"
      "output_max_abs_error\n";
  nlohmann::json j = {{"model", o.model},
                      {"calibration_samples", r.calib_samples},
                      {"quantized_from_calibration", r.quantized_here},
                      {"widths", widths},
                      {"layers", nlohmann::json::array()},
                      {"skipped", nlohmann::json::array()}};
  if (!o.json) {
    fmt::print(
        "{}: {} calibration samples{}; chg% = accumulators that differ from the exact sum, out "
        "chg% / out max = outputs changed after the layer's own requantizer (ort) and the "
        "largest change in output LSB\n",
        o.model, r.calib_samples, r.quantized_here ? " (float model quantized on them)" : "");
  }
  for (const quant::LayerFixedPoint& l : r.layers) {
    nlohmann::json jl = pipeline::bitgrowth_layer_json(l);
    if (!l.overflow.has_value()) {
      if (!o.json) fmt::print("\n{}  K={}  skipped: {}\n", l.node, l.k, l.note);
      j["skipped"].push_back({{"name", l.node}, {"op", l.op_type}, {"reason", l.note}});
      continue;
    }
    const LayerOverflow& ov = *l.overflow;
    if (!o.json) {
      fmt::print("\n{}  {}  K={}  outputs={}  max|acc|={}  needs {} bits\n", l.node, l.geometry,
                 l.k, ov.outputs, ov.max_abs_acc, ov.bits_needed);
      fmt::print("  {:>5} | {:>9} {:>9} {:>7} | {:>9} {:>9} {:>7}\n", "width", "sat chg%",
                 "out chg%", "out max", "wrap chg%", "out chg%", "out max");
    }
    jl["points"] = nlohmann::json::array();
    for (size_t i = 0; i + 1 < ov.points.size(); i += 2) {
      const OverflowPoint& s = ov.points[i];
      const OverflowPoint& w = ov.points[i + 1];
      for (const OverflowPoint* pt : {&s, &w}) {
        csv += fmt::format("{},{},{},{},{},{},{},{},{},{:.6g},{:.6g},{:.6g},{},{:.6g},{:.6g}\n",
                           l.node, l.k, ov.outputs, ov.max_abs_acc, ov.bits_needed, pt->width,
                           policy_name(pt->policy), pt->overflowed, pt->changed,
                           pt->fraction_changed, pt->mse, pt->max_abs_error, pt->output_changed,
                           pt->output_fraction_changed, pt->output_max_abs_error);
        jl["points"].push_back({{"width", pt->width},
                                {"policy", policy_name(pt->policy)},
                                {"overflowed", pt->overflowed},
                                {"changed", pt->changed},
                                {"fraction_changed", pt->fraction_changed},
                                {"mse", pt->mse},
                                {"output_changed", pt->output_changed},
                                {"output_fraction_changed", pt->output_fraction_changed},
                                {"output_max_abs_error", pt->output_max_abs_error}});
      }
      if (o.json) continue;
      if (s.overflowed == 0) {
        if (i == 0 || ov.points[i - 2].overflowed != 0) {
          fmt::print("  {:>5} | no partial sum leaves the range: both policies exact\n",
                     fmt::format(">={}", s.width));
        }
      } else {
        fmt::print("  {:>5} | {:>9.4f} {:>9.4f} {:>7.0f} | {:>9.4f} {:>9.4f} {:>7.0f}\n", s.width,
                   100 * s.fraction_changed, 100 * s.output_fraction_changed,
                   s.output_max_abs_error, 100 * w.fraction_changed,
                   100 * w.output_fraction_changed, w.output_max_abs_error);
      }
    }
    j["layers"].push_back(jl);
  }
  for (const SkippedLayer& s : r.skipped) {
    if (!o.json) fmt::print("\n{}  skipped: {}\n", s.node, s.reason);
    j["skipped"].push_back({{"name", s.node}, {"op", s.op_type}, {"reason", s.reason}});
  }
  if (!o.eval_data.empty()) {
    // End to end: the integer engine with every MAC layer's accumulator at each width.
    EI8_ASSIGN_OR_RETURN(fixedpoint::RequantProfile profile, fixedpoint::parse_profile(o.profile));
    EI8_ASSIGN_OR_RETURN(quant::EvalSet ev,
                         quant::load_eval_set(r.integer_model, o.eval_data, o.eval_labels));
    EI8_ASSIGN_OR_RETURN(quant::AccumulatorAccuracy acc, quant::accuracy_at_accumulator_widths(
                                                             r.integer_model, ev, widths, profile));
    nlohmann::json ja = {{"samples", acc.samples},
                         {"profile", o.profile},
                         {"exact_int32_accuracy", acc.exact_accuracy},
                         {"points", nlohmann::json::array()}};
    if (!o.json) {
      fmt::print(
          "\nend-to-end on {} samples ({} profile, reference kernels): exact int32 accuracy "
          "{}\n  {:>5} | {:>9} {:>9} | {:>9} {:>9}\n",
          acc.samples, o.profile,
          std::isnan(acc.exact_accuracy) ? "n/a (no labels)"
                                         : fmt::format("{:.2f} %", 100 * acc.exact_accuracy),
          "width", "sat acc%", "sat agr%", "wrap acc%", "wrap agr%");
    }
    for (size_t i = 0; i + 1 < acc.points.size(); i += 2) {
      const quant::WidthAccuracy& s = acc.points[i];
      const quant::WidthAccuracy& w = acc.points[i + 1];
      for (const quant::WidthAccuracy* p : {&s, &w}) {
        ja["points"].push_back({{"width", p->width},
                                {"policy", policy_name(p->policy)},
                                {"accuracy", p->accuracy},
                                {"agreement_with_int32", p->agreement}});
      }
      if (!o.json) {
        fmt::print("  {:>5} | {:>9.2f} {:>9.2f} | {:>9.2f} {:>9.2f}\n", s.width, 100 * s.accuracy,
                   100 * s.agreement, 100 * w.accuracy, 100 * w.agreement);
      }
    }
    j["accuracy"] = ja;
  } else if (!o.eval_labels.empty()) {
    return invalid_argument(
        "cannot measure accuracy of model {}: --eval-data = absent, must come with --eval-labels",
        o.model);
  }
  if (!o.csv.empty()) {
    EI8_RETURN_IF_ERROR(write_file(o.csv, csv));
    if (!o.json) fmt::print("wrote {}\n", o.csv);
  }
  if (o.json) fmt::print("{}\n", j.dump(2));
  return {};
}

Status run_overflow(const OverflowOptions& o) {
  if (!o.csv.empty()) EI8_RETURN_IF_ERROR(check_output_path(o.csv, "--csv"));
  EI8_ASSIGN_OR_RETURN(std::vector<int> widths, parse_widths(o.widths));
  if (!o.model.empty()) {
    const std::string action = fmt::format("simulate overflow of model {}", o.model);
    if (!o.synthetic_option.empty()) {
      return invalid_argument(
          "cannot {}: {} = given, must be absent with a MODEL (it sets the synthetic layers)",
          action, o.synthetic_option);
    }
    EI8_RETURN_IF_ERROR(check_model_inputs(action, o.model, o.calib_data, o.max_samples, o.csv));
    return run_model_overflow(o, widths);
  }
  if (o.max_samples_given) {
    return invalid_argument(
        "cannot run overflow experiment: --max-samples = {} without a MODEL, must come with one",
        o.max_samples);
  }
  if (!o.calib_data.empty()) {
    return invalid_argument(
        "cannot run overflow experiment: --calib-data = '{}' without a MODEL, must come with one",
        o.calib_data);
  }
  if (!o.eval_data.empty() || !o.eval_labels.empty()) {
    return invalid_argument(
        "cannot run overflow experiment: --eval-data = '{}' without a MODEL, must come with one",
        o.eval_data.empty() ? o.eval_labels : o.eval_data);
  }
  std::vector<DataRegime> regimes;
  if (o.regime == "both") {
    regimes = {DataRegime::kRealistic, DataRegime::kUniform};
  } else {
    EI8_ASSIGN_OR_RETURN(DataRegime r, parse_regime(o.regime));
    regimes = {r};
  }
  if (o.image_channels != 1 && o.image_channels != 3) {
    return invalid_argument("cannot run overflow experiment: --image-channels = {}, must be 1 or 3",
                            o.image_channels);
  }
  std::string csv =
      "regime,layer,K,outputs,max_abs_acc,bits_needed,width,policy,overflowed,changed,"
      "fraction_changed,mse,max_abs_error,relative_mse,output_fraction_changed,output_mse,"
      "output_max_abs_error\n";
  nlohmann::json j = {{"seed", o.seed}, {"widths", widths}, {"regimes", nlohmann::json::array()}};
  for (DataRegime regime : regimes) {
    EI8_ASSIGN_OR_RETURN(std::vector<LayerExperiment> rows,
                         run_overflow_experiment(widths, regime, o.seed, o.image_channels));
    nlohmann::json jr = {{"regime", regime_name(regime)}, {"layers", nlohmann::json::array()}};
    if (!o.json) {
      fmt::print(
          "== regime {} (seed {}): chg% = outputs whose accumulator differs from the exact sum; "
          "MSE in accumulator LSB^2;\n   out chg% / out max = int8 outputs changed after "
          "requantization (tflite, min/max-calibrated s8 output) and the largest change in "
          "output LSB\n",
          regime_name(regime), o.seed);
    }
    for (const LayerExperiment& e : rows) {
      const LayerOverflow& l = e.overflow;
      nlohmann::json jl = {{"name", l.name},
                           {"K", l.k},
                           {"outputs", l.outputs},
                           {"max_abs_acc", l.max_abs_acc},
                           {"max_abs_partial", l.max_abs_partial},
                           {"bits_needed", l.bits_needed},
                           {"points", nlohmann::json::array()},
                           {"worst_pixel", nlohmann::json::array()}};
      if (!o.json) {
        fmt::print("\n{}  K={}  outputs={}  max|acc|={}  max|partial|={}  needs {} bits\n", l.name,
                   l.k, l.outputs, l.max_abs_acc, l.max_abs_partial, l.bits_needed);
        fmt::print("  {:>5} | {:>9} {:>10} {:>9} {:>7} | {:>9} {:>10} {:>9} {:>7} | {:>8}\n",
                   "width", "sat chg%", "sat MSE", "out chg%", "out max", "wrap chg%", "wrap MSE",
                   "out chg%", "out max", "wrap/sat");
      }
      for (size_t i = 0; i + 1 < l.points.size(); i += 2) {
        const OverflowPoint& s = l.points[i];
        const OverflowPoint& w = l.points[i + 1];
        for (const OverflowPoint* pt : {&s, &w}) {
          const double rel = l.mean_square_acc > 0 ? pt->mse / l.mean_square_acc : 0.0;
          csv += fmt::format(
              "{},{},{},{},{},{},{},{},{},{},{:.6g},{:.6g},{:.6g},{:.6g},{:.6g},{:.6g},{:.6g}\n",
              regime_name(regime), l.name, l.k, l.outputs, l.max_abs_acc, l.bits_needed, pt->width,
              policy_name(pt->policy), pt->overflowed, pt->changed, pt->fraction_changed, pt->mse,
              pt->max_abs_error, rel, pt->output_fraction_changed, pt->output_mse,
              pt->output_max_abs_error);
          jl["points"].push_back({{"width", pt->width},
                                  {"policy", policy_name(pt->policy)},
                                  {"overflowed", pt->overflowed},
                                  {"changed", pt->changed},
                                  {"fraction_changed", pt->fraction_changed},
                                  {"mse", pt->mse},
                                  {"max_abs_error", pt->max_abs_error},
                                  {"relative_mse", rel},
                                  {"output_fraction_changed", pt->output_fraction_changed},
                                  {"output_mse", pt->output_mse},
                                  {"output_max_abs_error", pt->output_max_abs_error}});
        }
        if (!o.json && s.overflowed == 0) {
          // From here on no partial sum leaves the range (widths ascend): one summary line.
          if (i == 0 || l.points[i - 2].overflowed != 0) {
            fmt::print("  {:>5} | no partial sum leaves the range: both policies exact\n",
                       fmt::format(">={}", s.width));
          }
        } else if (!o.json) {
          const std::string ratio =
              s.mse > 0 ? fmt::format("{:.3g}", w.mse / s.mse) : (w.mse > 0 ? "inf" : "-");
          fmt::print(
              "  {:>5} | {:>9.4f} {:>10.3g} {:>9.4f} {:>7.0f} | {:>9.4f} {:>10.3g} {:>9.4f} "
              "{:>7.0f} | "
              "{:>8}\n",
              s.width, 100 * s.fraction_changed, s.mse, 100 * s.output_fraction_changed,
              s.output_max_abs_error, 100 * w.fraction_changed, w.mse,
              100 * w.output_fraction_changed, w.output_max_abs_error, ratio);
        }
      }
      // One output pixel: the one with the largest partial sum, accumulated step by step.
      if (!o.json) {
        fmt::print(
            "  worst pixel (oc {}, oh {}, ow {}): {} terms, exact {}\n", l.worst_oc, l.worst_oh,
            l.worst_ow, e.worst_pixel_terms.size(),
            accumulate(e.worst_pixel_terms, e.worst_pixel_bias, 64, OverflowPolicy::kWrap).exact);
      }
      for (int width : widths) {
        const PixelAccumulation ps =
            accumulate(e.worst_pixel_terms, e.worst_pixel_bias, width, OverflowPolicy::kSaturate);
        const PixelAccumulation pw =
            accumulate(e.worst_pixel_terms, e.worst_pixel_bias, width, OverflowPolicy::kWrap);
        jl["worst_pixel"].push_back({{"width", width},
                                     {"exact", ps.exact},
                                     {"saturate", ps.result},
                                     {"wrap", pw.result},
                                     {"first_overflow_step", ps.first_overflow_step}});
        if (!o.json && ps.first_overflow_step >= 0) {
          fmt::print(
              "    {:>2}-bit: saturate {} (err {}), wrap {} (err {}), first overflow at step {}\n",
              width, ps.result, ps.result - ps.exact, pw.result, pw.result - pw.exact,
              ps.first_overflow_step);
        }
      }
      jr["layers"].push_back(jl);
    }
    j["regimes"].push_back(jr);
    if (!o.json) fmt::print("\n");
  }
  if (!o.csv.empty()) {
    EI8_RETURN_IF_ERROR(write_file(o.csv, csv));
    if (!o.json) fmt::print("wrote {}\n", o.csv);
  }
  if (o.json) fmt::print("{}\n", j.dump(2));
  return {};
}

// ---- requant ----

struct RequantOptions {
  std::string profile, multiplier;
  int64_t zero_point = 0, qmin = -128, qmax = 127;
  bool json = false;
};

Result<int32_t> parse_accumulator(std::string_view line, int64_t line_no) {
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) {
    line.remove_suffix(1);
  }
  while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
  if (!line.empty() && line.front() == '+') line.remove_prefix(1);
  int64_t v = 0;
  auto [ptr, ec] = std::from_chars(line.data(), line.data() + line.size(), v);
  if (line.empty() || ec == std::errc::invalid_argument || ptr != line.data() + line.size()) {
    return invalid_argument("<stdin>:{}: cannot read accumulator: value = '{}', must be an integer",
                            line_no, line);
  }
  if (ec == std::errc::result_out_of_range || v < INT32_MIN || v > INT32_MAX) {
    return out_of_range(
        "<stdin>:{}: cannot read accumulator: value = {}, must be in [-2147483648, 2147483647]",
        line_no, line);
  }
  return static_cast<int32_t>(v);
}

Status run_requant(const RequantOptions& o) {
  EI8_ASSIGN_OR_RETURN(RequantProfile profile, parse_profile(o.profile));
  double m = 0.0;
  {
    const std::string& t = o.multiplier;
    auto [ptr, ec] = std::from_chars(t.data(), t.data() + t.size(), m);
    if (t.empty() || ec != std::errc() || ptr != t.data() + t.size()) {
      return invalid_argument("cannot parse --multiplier: value = '{}', must be a number", t);
    }
  }
  const struct {
    const char* name;
    int64_t v;
  } ints[] = {{"--zero-point", o.zero_point}, {"--qmin", o.qmin}, {"--qmax", o.qmax}};
  for (const auto& i : ints) {
    if (i.v < INT32_MIN || i.v > INT32_MAX) {
      return invalid_argument("cannot requantize: {} = {}, must fit int32", i.name, i.v);
    }
  }
  EI8_ASSIGN_OR_RETURN(
      Requantizer rq,
      Requantizer::from_multiplier(profile, m, static_cast<int32_t>(o.zero_point),
                                   static_cast<int32_t>(o.qmin), static_cast<int32_t>(o.qmax)));
  // Read everything first: a bad line produces an error and no output at all.
  std::vector<int32_t> out;
  std::string line;
  int64_t line_no = 0;
  while (std::getline(std::cin, line)) {
    ++line_no;
    EI8_ASSIGN_OR_RETURN(int32_t acc, parse_accumulator(line, line_no));
    out.push_back(rq.apply(acc, 0));
  }
  if (o.json) {
    const QuantizedMultiplier qm = rq.multipliers()[0];
    nlohmann::json j = {{"profile", profile_name(profile)},
                        {"multiplier", m},
                        {"multiplier_f32", rq.ort_multipliers()[0]},
                        {"m0", qm.multiplier},
                        {"shift", qm.shift},
                        {"zero_point", o.zero_point},
                        {"qmin", o.qmin},
                        {"qmax", o.qmax},
                        {"outputs", out}};
    fmt::print("{}\n", j.dump());
    return {};
  }
  std::string text;
  for (int32_t v : out) text += fmt::format("{}\n", v);
  fmt::print("{}", text);
  return {};
}

// ---- verify ----

Status run_verify(const std::string& filter, bool json) {
  const std::vector<conformance::CaseResult> results = conformance::run_golden_cases(filter);
  const conformance::Summary s = conformance::summarize(results);
  if (json) {
    nlohmann::json j = {{"passed", s.passed},
                        {"failed", s.failed},
                        {"skipped", s.skipped},
                        {"cases", nlohmann::json::array()}};
    for (const conformance::CaseResult& r : results) {
      j["cases"].push_back({{"name", r.name},
                            {"outcome", conformance::outcome_name(r.outcome)},
                            {"detail", r.detail}});
    }
    fmt::print("{}\n", j.dump(2));
  } else {
    for (const conformance::CaseResult& r : results) {
      fmt::print("{:<8} {:<52} {}\n", conformance::outcome_name(r.outcome), r.name, r.detail);
    }
    fmt::print("{} passed, {} failed, {} skipped\n", s.passed, s.failed, s.skipped);
  }
  if (results.empty()) {
    return invalid_argument("cannot verify: --filter = '{}', must match at least one case", filter);
  }
  if (s.failed > 0) {
    return internal_error("cannot verify fixed point: failed cases = {}, must be 0", s.failed);
  }
  return {};
}

}  // namespace

void register_fixedpoint(CLI::App& app) {
  CLI::App* fp = app.add_subcommand(
      "fixedpoint", "Fixed-point analysis: bit growth, overflow, requantization, golden checks");
  fp->require_subcommand(1);

  auto bg = std::make_shared<BitGrowthOptions>();
  CLI::App* b = fp->add_subcommand(
      "bitgrowth",
      "Accumulation count K and accumulator bits per layer of an ONNX model (float, QDQ or "
      "QLinear) or of a SCALE-Sim topology");
  b->add_option("model", bg->model, "ONNX model (.onnx); or give --topology");
  b->add_option("--topology", bg->topology, "SCALE-Sim conv topology CSV");
  b->add_option("--calib-data", bg->calib_data,
                "model input samples (.npy [N, ...] or a directory of them): bits reached; a "
                "float model is quantized on them first");
  b->add_option("--max-samples", bg->max_samples, "calibration samples used (default 64, 0 = all)");
  CLI::Option* operands = b->add_option(
      "--operands", bg->operands,
      "s8xs8 (16-bit products) or u8xs8 (17-bit); for a model: what its float layers assume "
      "(default u8xs8)");
  CLI::Option* width =
      b->add_option("--width", bg->width,
                    "also check whether an N-bit accumulator (2..64) holds each layer")
          ->default_str("");  // absent = no check
  b->add_flag("--json", bg->json, "machine-readable output");
  CLI::Option* bg_samples = b->get_option("--max-samples");
  set_action(b, [bg, width, operands, bg_samples] {
    bg->width_given = width->count() > 0;
    bg->operands_given = operands->count() > 0;
    bg->max_samples_given = bg_samples->count() > 0;
    return run_bitgrowth(*bg);
  });

  auto ov = std::make_shared<OverflowOptions>();
  CLI::App* v = fp->add_subcommand(
      "overflow",
      "Saturate vs wrap accumulators at several widths: on a model's real int8 operands "
      "(MODEL --calib-data), or on synthetic stress layers (no MODEL)");
  v->add_option("model", ov->model, "ONNX model (.onnx)");
  v->add_option("--calib-data", ov->calib_data, "model input samples (.npy [N, ...])");
  v->add_option("--max-samples", ov->max_samples, "calibration samples used (default 64)");
  v->add_option("--widths", ov->widths, "widths: A..B, A..B:STEP or A,B,C (each 2..64)");
  v->add_option("--regime", ov->regime, "data: realistic, uniform or both");
  v->add_option("--seed", ov->seed, "random seed of the synthetic data");
  v->add_option("--image-channels", ov->image_channels, "TinyCNN2D input channels (1 or 3)");
  v->add_option("--csv", ov->csv, "also write the table as CSV to this file");
  v->add_option("--eval-data", ov->eval_data,
                "with MODEL: evaluation samples (.npy [N, ...]); adds the end-to-end accuracy of "
                "the integer engine with every accumulator at each width (saturate and wrap)");
  v->add_option("--eval-labels", ov->eval_labels, "labels of --eval-data (.npy of integers)");
  v->add_option("--profile", ov->profile,
                "requantization profile of the end-to-end runs: ort, tflite or tflite-single");
  v->add_flag("--json", ov->json, "machine-readable output");
  set_action(v, [ov, v] {
    ov->max_samples_given = v->get_option("--max-samples")->count() > 0;
    ov->synthetic_option.clear();
    for (const char* name : {"--regime", "--seed", "--image-channels"}) {
      if (v->get_option(name)->count() > 0) {
        ov->synthetic_option = name;
        break;
      }
    }
    return run_overflow(*ov);
  });

  auto rq = std::make_shared<RequantOptions>();
  CLI::App* r = fp->add_subcommand(
      "requant", "Requantize int32 accumulators from stdin (one per line) through a profile");
  r->add_option("--profile", rq->profile, "ort, tflite or tflite-single")->required();
  r->add_option("--multiplier", rq->multiplier,
                "real multiplier M = s_x*s_w/s_y (ort: rounded to float32; tflite: double)")
      ->required();
  r->add_option("--zero-point", rq->zero_point, "output zero point");
  r->add_option("--qmin", rq->qmin, "lowest output");
  r->add_option("--qmax", rq->qmax, "highest output");
  r->add_flag("--json", rq->json, "machine-readable output");
  set_action(r, [rq] { return run_requant(*rq); });

  auto vf = std::make_shared<std::pair<std::string, bool>>();
  CLI::App* c =
      fp->add_subcommand("verify", "Run the built-in golden checks of the fixed-point loop");
  c->add_option("--filter", vf->first, "only cases whose name contains this text");
  c->add_flag("--json", vf->second, "machine-readable output");
  set_action(c, [vf] { return run_verify(vf->first, vf->second); });
}

}  // namespace ei8::cli
