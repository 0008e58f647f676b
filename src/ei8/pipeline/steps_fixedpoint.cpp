// Part C of run-all: the golden checks, the overflow experiment and bit growth.
#include <fmt/format.h>

#include <cmath>
#include <map>

#include "ei8/conformance/overflow_experiment.h"
#include "ei8/conformance/verify.h"
#include "ei8/fixedpoint/bit_growth.h"
#include "ei8/fixedpoint/overflow.h"
#include "ei8/pipeline/steps.h"
#include "ei8/report/figure.h"
#include "ei8/report/table.h"

namespace ei8::pipeline {
namespace fp = ei8::fixedpoint;
using report::Table;

namespace {
// TinyCNN2D's input channels for the data set the run uses (CIFAR-10: 3, Fashion-MNIST: 1).
int64_t image_channels(const RunAllSettings& s) { return s.dataset == "cifar10" ? 3 : 1; }
}  // namespace

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

Step fixedpoint_overflow_step(const RunAllSettings& s) {
  const int64_t channels = image_channels(s);
  return {
      .name = "fixedpoint.overflow",
      .description = "accumulator widths 12–32 under saturate and wrap on the workloads' layers",
      .settings = fmt::format("widths=12..32 seed={} channels={}", s.seed, channels),
      .outputs = {"tables/overflow.csv", "tables/overflow_summary.csv", "figures/overflow.png"},
      .run = [seed = s.seed, channels](StepContext& c) -> Result<StepOutcome> {
        EI8_ASSIGN_OR_RETURN(std::vector<int> widths, fp::parse_widths("12..32"));
        EI8_ASSIGN_OR_RETURN(std::vector<conformance::LayerExperiment> rows,
                             conformance::run_overflow_experiment(
                                 widths, conformance::DataRegime::kRealistic, seed + 7, channels));
        Table t({"layer", "K", "bits_needed", "width", "policy", "fraction_changed", "mse",
                 "relative_mse", "max_abs_error"});
        // Per width and policy: the mean over layers of the MSE relative to E[acc²].
        std::map<std::pair<int, std::string>, std::pair<double, int>> mean_rel;
        for (const auto& e : rows) {
          const fp::LayerOverflow& l = e.overflow;
          for (const fp::OverflowPoint& p : l.points) {
            const double rel = l.mean_square_acc > 0 ? p.mse / l.mean_square_acc : 0.0;
            const std::string pol(fp::policy_name(p.policy));
            t.add_row({l.name, static_cast<double>(l.k), static_cast<double>(l.bits_needed),
                       static_cast<double>(p.width), pol, p.fraction_changed, p.mse, rel,
                       p.max_abs_error});
            auto& acc = mean_rel[{p.width, pol}];
            acc.first += rel;
            acc.second += 1;
          }
        }
        EI8_RETURN_IF_ERROR(t.write(c.path("tables/overflow")));
        Table summary(
            {"width", "saturate_relative_mse", "wrap_relative_mse", "wrap_over_saturate"});
        report::Figure f;
        f.title = "Accumulator overflow: error vs width (mean over the workloads' layers)";
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
        return StepOutcome::ok(
            fmt::format("{} layers × {} widths × 2 policies", rows.size(), widths.size()));
      }};
}

Step fixedpoint_bitgrowth_step(const RunAllSettings& s) {
  const int64_t channels = image_channels(s);
  return {
      .name = "fixedpoint.bitgrowth",
      .description = "accumulation count, product and accumulator bits per layer",
      .settings = fmt::format("channels={}", channels),
      .outputs = {"tables/bitgrowth.csv"},
      .run = [channels](StepContext& c) -> Result<StepOutcome> {
        Table t({"layer", "operands", "K", "product_bits", "accumulator_bits", "worst_case_bits",
                 "recommended_width", "reason"});
        int max_bits = 0;
        for (const conformance::WorkloadLayer& l : conformance::project_layers(channels)) {
          const fp::OperandKind kind =
              l.input_after_relu ? fp::OperandKind::kU8S8 : fp::OperandKind::kS8S8;
          EI8_ASSIGN_OR_RETURN(fp::BitGrowth b, fp::analyze_bit_growth(l.name, l.geometry, kind));
          max_bits = std::max(max_bits, b.accumulator_bits);
          t.add_row({b.name, std::string(fp::operand_kind_name(kind)), static_cast<double>(b.k),
                     static_cast<double>(b.product_bits), static_cast<double>(b.accumulator_bits),
                     static_cast<double>(b.worst_case_bits),
                     static_cast<double>(b.recommended_width), b.reason});
        }
        EI8_RETURN_IF_ERROR(t.write(c.path("tables/bitgrowth")));
        return StepOutcome::ok(
            fmt::format("{} layers, widest accumulator {} bits", t.num_rows(), max_bits));
      }};
}

}  // namespace ei8::pipeline
