// Part C of run-all: the golden checks, and bit growth and overflow of the trained models'
// real layers (quant/model_fixedpoint.h), the same layers the simulator evaluates.
#include <fmt/format.h>

#include <cmath>
#include <map>

#include <filesystem>
#include "ei8/conformance/verify.h"

#include "ei8/data/dataset.h"
#include "ei8/fixedpoint/bit_growth.h"
#include "ei8/fixedpoint/overflow.h"
#include "ei8/graph/onnx/onnx_io.h"
#include "ei8/pipeline/steps.h"
#include "ei8/quant/model_fixedpoint.h"
#include "ei8/report/figure.h"
#include "ei8/report/table.h"

namespace ei8::pipeline {
namespace fp = ei8::fixedpoint;
using report::Table;

Step fixedpoint_verify_step(const RunAllSettings& s) {
  const int shapes = s.quick ? 60 : 300;
  return {.name = "fixedpoint.verify",
          .description = "golden checks of rounding, requantization profiles and INT8 kernels",
          .settings = fmt::format("shapes={} seed={}", shapes, s.seed),
          .outputs = {"tables/fixedpoint_verify.csv", "tables/int8_conv_lsb.csv"},
          .run = [shapes, seed = s.seed](StepContext& c) -> Result<StepOutcome> {
            const std::vector<conformance::CaseResult> results = conformance::run_golden_cases();
            Table cases({"case", "outcome", "detail"});
            for (const auto& r : results) {
              cases.add_row({r.name, std::string(conformance::outcome_name(r.outcome)), r.detail});
            }
            EI8_RETURN_IF_ERROR(cases.write(c.path("tables/fixedpoint_verify")));
            // INT8 conv vs a double-precision conv of the dequantized operands, per profile.
            Table lsb({"profile", "shapes", "outputs", "within_1_lsb_pct", "within_2_lsb_pct",
                       "max_error_lsb"});
            lsb.set_precision("within_1_lsb_pct", 3);
            lsb.set_precision("within_2_lsb_pct", 3);
            for (fp::RequantProfile p : {fp::RequantProfile::kOrt, fp::RequantProfile::kTflite,
                                         fp::RequantProfile::kTfliteSingle}) {
              EI8_ASSIGN_OR_RETURN(conformance::LsbStats st,
                                   conformance::conv_vs_double(p, shapes, seed + 1));
              lsb.add_row({std::string(fp::profile_name(p)), static_cast<double>(st.shapes),
                           static_cast<double>(st.outputs), 100.0 * st.fraction_within1(),
                           100.0 * st.fraction_within2(), st.max_lsb});
            }
            EI8_RETURN_IF_ERROR(lsb.write(c.path("tables/int8_conv_lsb")));
            const conformance::Summary sum = conformance::summarize(results);
            if (sum.failed > 0) {
              return internal_error("cannot pass the fixed-point golden checks: {} of {} failed",
                                    sum.failed, results.size());
            }
            return StepOutcome::ok(fmt::format("{} passed, {} failed, {} skipped", sum.passed,
                                               sum.failed, sum.skipped));
          }};
}

namespace {

// Calibration samples of the fixed-point steps (per workload): the integer inputs every layer
// receives come from these.
int64_t fixedpoint_samples(const RunAllSettings& s) { return s.quick ? 16 : 64; }

struct ModelRun {
  std::string workload;
  quant::ModelFixedPoint result;
};

// The fixed-point analysis of every trained model (models/<w>.onnx, written by export.<w>) on
// calibration samples of its own data set; the float model is quantized on them with the
// default PTQ options (u8 asymmetric activations, per-channel s8 weights).
Result<std::vector<ModelRun>> analyze_trained_models(const StepContext& c, const RunAllSettings& s,
                                                     const std::vector<int>& widths) {
  std::vector<ModelRun> runs;
  for (const std::string& w : s.workloads) {
    const std::string path = c.path("models/" + w + ".onnx");
    if (!std::filesystem::exists(path)) {
      return not_found(
          "cannot analyze {}: models/{}.onnx does not exist (the export step makes it)", w, w);
    }
    EI8_ASSIGN_OR_RETURN(Graph g, load_onnx(path));
    data::DatasetOptions d = dataset_for(s, w);
    d.test_size = 1;
    EI8_ASSIGN_OR_RETURN(data::SplitDataset ds, data::load_dataset(d));
    const data::Dataset calib = data::calibration_subset(ds.train, fixedpoint_samples(s), s.seed);
    quant::ModelFixedPointOptions o;
    o.max_samples = fixedpoint_samples(s);
    o.widths = widths;
    EI8_ASSIGN_OR_RETURN(quant::ModelFixedPoint r,
                         quant::analyze_model_fixed_point(g, &calib.samples, o));
    runs.push_back({w, std::move(r)});
  }
  return runs;
}

std::vector<std::string> model_inputs(const RunAllSettings& s) {
  std::vector<std::string> in;
  for (const std::string& w : s.workloads) in.push_back("models/" + w + ".onnx");
  return in;
}

}  // namespace

Step fixedpoint_overflow_step(const RunAllSettings& s) {
  return {
      .name = "fixedpoint.overflow",
      .description =
          "accumulator widths 12–32 under saturate and wrap on the trained models' int8 operands",
      .settings = fmt::format("widths=12..32 seed={} samples={}", s.seed, fixedpoint_samples(s)),
      .inputs = model_inputs(s),
      .outputs = {"tables/overflow.csv", "tables/overflow_summary.csv", "figures/overflow.png"},
      .run = [s](StepContext& c) -> Result<StepOutcome> {
        EI8_ASSIGN_OR_RETURN(std::vector<int> widths, fp::parse_widths("12..32"));
        EI8_ASSIGN_OR_RETURN(std::vector<ModelRun> runs, analyze_trained_models(c, s, widths));
        Table t({"workload", "layer", "K", "bits_needed", "width", "policy", "fraction_changed",
                 "mse", "relative_mse", "max_abs_error", "output_fraction_changed",
                 "output_max_abs_error"});
        // Per width and policy: the mean over layers of the MSE relative to E[acc²].
        std::map<std::pair<int, std::string>, std::pair<double, int>> mean_rel;
        size_t layers = 0;
        for (const ModelRun& run : runs) {
          for (const quant::LayerFixedPoint& lf : run.result.layers) {
            if (!lf.overflow.has_value()) continue;
            ++layers;
            const fp::LayerOverflow& l = *lf.overflow;
            for (const fp::OverflowPoint& p : l.points) {
              const double rel = l.mean_square_acc > 0 ? p.mse / l.mean_square_acc : 0.0;
              const std::string pol(fp::policy_name(p.policy));
              t.add_row({run.workload, l.name, static_cast<double>(l.k),
                         static_cast<double>(l.bits_needed), static_cast<double>(p.width), pol,
                         p.fraction_changed, p.mse, rel, p.max_abs_error, p.output_fraction_changed,
                         p.output_max_abs_error});
              auto& acc = mean_rel[{p.width, pol}];
              acc.first += rel;
              acc.second += 1;
            }
          }
        }
        EI8_RETURN_IF_ERROR(t.write(c.path("tables/overflow")));
        Table summary(
            {"width", "saturate_relative_mse", "wrap_relative_mse", "wrap_over_saturate"});
        report::Figure f;
        f.title = "Accumulator overflow: error vs width (mean over the trained models' layers)";
        f.xlabel = "accumulator width (bits)";
        f.ylabel = "MSE / E[acc²] (log scale)";
        f.logy = true;
        report::Series sat{.label = "saturate"}, wrap{.label = "wrap"};
        for (int w : widths) {
          const auto& [ss, sn] = mean_rel[{w, "saturate"}];
          const auto& [ws, wn] = mean_rel[{w, "wrap"}];
          const double sm = sn ? ss / sn : 0, wm = wn ? ws / wn : 0;
          summary.add_row({static_cast<double>(w), sm, wm, sm > 0 ? wm / sm : NAN});
          // Zero error cannot sit on a log axis: those widths are simply not drawn.
          if (sm > 0) {
            sat.x.push_back(w);
            sat.y.push_back(sm);
          }
          if (wm > 0) {
            wrap.x.push_back(w);
            wrap.y.push_back(wm);
          }
        }
        EI8_RETURN_IF_ERROR(summary.write(c.path("tables/overflow_summary")));
        f.series = {sat, wrap};
        EI8_RETURN_IF_ERROR(report::render(f, c.path("figures/overflow")));
        return StepOutcome::ok(fmt::format("{} layers of {} models × {} widths × 2 policies",
                                           layers, runs.size(), widths.size()));
      }};
}

Step fixedpoint_bitgrowth_step(const RunAllSettings& s) {
  return {
      .name = "fixedpoint.bitgrowth",
      .description = "K, formula, weight-dependent and reached accumulator bits per trained layer",
      .settings = fmt::format("seed={} samples={}", s.seed, fixedpoint_samples(s)),
      .inputs = model_inputs(s),
      .outputs = {"tables/bitgrowth.csv"},
      .run = [s](StepContext& c) -> Result<StepOutcome> {
        EI8_ASSIGN_OR_RETURN(std::vector<ModelRun> runs, analyze_trained_models(c, s, {}));
        Table t({"workload", "layer", "geometry", "operands", "K", "product_bits",
                 "accumulator_bits", "worst_case_bits", "weight_bound_bits", "observed_bits",
                 "recommended_width", "note"});
        int max_bits = 0;
        for (const ModelRun& run : runs) {
          for (const quant::LayerFixedPoint& l : run.result.layers) {
            const fp::BitGrowth& b = l.bound;
            max_bits = std::max(max_bits, b.accumulator_bits);
            auto opt = [](bool has, int v) {
              return has ? report::Cell(static_cast<double>(v)) : report::Cell(std::string("n/a"));
            };
            t.add_row(
                {run.workload, l.node, l.geometry, std::string(fp::operand_kind_name(l.operands)),
                 static_cast<double>(l.k), static_cast<double>(b.product_bits),
                 static_cast<double>(b.accumulator_bits), static_cast<double>(b.worst_case_bits),
                 opt(l.has_weight_bound, l.weight_bound_bits), opt(l.has_observed, l.observed_bits),
                 static_cast<double>(b.recommended_width), l.note});
          }
          for (const SkippedLayer& sk : run.result.skipped) {
            t.add_row({run.workload, sk.node, std::string("skipped"), std::string("-"), 0.0, 0.0,
                       0.0, 0.0, std::string("n/a"), std::string("n/a"), 0.0, sk.reason});
          }
        }
        EI8_RETURN_IF_ERROR(t.write(c.path("tables/bitgrowth")));
        return StepOutcome::ok(
            fmt::format("{} layers, widest accumulator formula {} bits", t.num_rows(), max_bits));
      }};
}

}  // namespace ei8::pipeline
