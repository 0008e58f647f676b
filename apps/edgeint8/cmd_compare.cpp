// edgeint8 compare — where two runs of a model part ways: every named tensor of A against B
// (SQNR, cosine, max |Δ| in output LSB, share beyond 1 LSB), graph-wise and/or layer-wise, and
// the first tensor beyond a tolerance. A and B are ONNX models (each run by the engine chosen
// for it) or tensor dumps (`edgeint8 run --dump DIR`, or any directory of .npy files named by
// tensor).
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cmath>
#include <filesystem>
#include <optional>

#include "cli.h"
#include "ei8/core/npy.h"
#include "ei8/graph/onnx/onnx_io.h"
#include "ei8/pipeline/result_json.h"
#include "ei8/quant/compare.h"
#include "ei8/report/table.h"

namespace ei8::cli {
namespace {

struct CompareArgs {
  std::string a, b, input, mode = "graph", engine_a = "int8", engine_b = "int8";
  std::string profile_a = "ort", profile_b = "ort", csv;
  double tolerance_lsb = 1.0, rel_tolerance = 1e-5, min_sqnr_db = -INFINITY;
  bool json = false;
};

bool is_dump(const std::string& path) { return std::filesystem::is_directory(path); }

Result<quant::ProbedModel> load_model(const std::string& path, const std::string& engine,
                                      const std::string& profile) {
  quant::ProbeOptions o;
  EI8_ASSIGN_OR_RETURN(o.engine, quant::parse_engine(engine));
  EI8_ASSIGN_OR_RETURN(o.profile, fixedpoint::parse_profile(profile));
  EI8_ASSIGN_OR_RETURN(Graph g, load_onnx(path));
  Result<quant::ProbedModel> m = quant::ProbedModel::create(g, o);
  if (!m.ok()) return m.status().with_context(path);
  return m;
}

report::Table comparison_table(const quant::Comparison& c, const std::string& mode) {
  report::Table t({"mode", "tensor", "shape", "sqnr_db", "cosine", "max_abs", "lsb", "max_abs_lsb",
                   "beyond_1lsb_pct", "diverged"});
  auto num = [](double v) -> report::Cell {
    if (std::isnan(v)) return std::string("n/a");
    if (std::isinf(v)) return std::string(v > 0 ? "inf" : "-inf");
    return v;
  };
  for (const quant::TensorComparison& r : c.tensors) {
    t.add_row({mode, r.name, shape_to_string(r.shape), num(r.sqnr_db), num(r.cosine),
               num(r.max_abs), num(r.lsb), num(r.max_abs_lsb), num(100.0 * r.beyond_1lsb),
               std::string(r.diverged ? "yes" : "no")});
  }
  t.set_precision("sqnr_db", 2);
  t.set_precision("cosine", 6);
  t.set_precision("max_abs_lsb", 2);
  t.set_precision("beyond_1lsb_pct", 4);
  return t;
}

void print_comparison(const quant::Comparison& c, const std::string& mode) {
  fmt::print("{} comparison: A = {}, B = {}\n", mode, c.a_source, c.b_source);
  fmt::print("  {:<40} {:>16} {:>9} {:>10} {:>12} {:>10} {:>9}\n", "tensor", "shape", "SQNR dB",
             "cosine", "max |d|", "max LSB", ">1 LSB %");
  for (const quant::TensorComparison& r : c.tensors) {
    auto f = [](double v, int digits) {
      return std::isnan(v) ? std::string("n/a") : fmt::format("{:.{}f}", v, digits);
    };
    fmt::print("  {:<40} {:>16} {:>9} {:>10.6f} {:>12.6g} {:>10} {:>9}{}\n", r.name,
               shape_to_string(r.shape), f(r.sqnr_db, 2), r.cosine, r.max_abs, f(r.max_abs_lsb, 2),
               f(100.0 * r.beyond_1lsb, 4), r.diverged ? "  <-" : "");
  }
  if (c.first_divergence) {
    const quant::Divergence& d = *c.first_divergence;
    fmt::print("  first divergence: tensor '{}' at [{}] (flat {}): A = {:.9g}, B = {:.9g}\n",
               d.tensor, fmt::join(d.index, ", "), d.flat_index, d.a, d.b);
  } else {
    fmt::print("  first divergence: none (every tensor within the tolerance)\n");
  }
  if (!c.only_a.empty()) fmt::print("  only in A: {}\n", fmt::join(c.only_a, ", "));
  if (!c.only_b.empty()) fmt::print("  only in B: {}\n", fmt::join(c.only_b, ", "));
}

Status compare_command(const CompareArgs& a) {
  if (a.mode != "graph" && a.mode != "layer" && a.mode != "both") {
    return invalid_argument("cannot parse --mode: mode = '{}', must be graph, layer or both",
                            a.mode);
  }
  quant::CompareOptions co;
  co.tolerance_lsb = a.tolerance_lsb;
  co.rel_tolerance = a.rel_tolerance;
  co.min_sqnr_db = a.min_sqnr_db;
  if (!(a.tolerance_lsb >= 0.0) || !std::isfinite(a.tolerance_lsb)) {
    return invalid_argument("cannot parse --tolerance-lsb: value = {}, must be finite and >= 0",
                            a.tolerance_lsb);
  }
  if (!(a.rel_tolerance >= 0.0) || !std::isfinite(a.rel_tolerance)) {
    return invalid_argument("cannot parse --rel-tolerance: value = {}, must be finite and >= 0",
                            a.rel_tolerance);
  }
  const bool a_dump = is_dump(a.a), b_dump = is_dump(a.b);
  if (b_dump && a.mode != "graph") {
    return invalid_argument(
        "cannot compare layer-wise: B = {} (a dump), must be a model (its layers are re-run on "
        "A's tensors)",
        a.b);
  }
  Tensor x;
  if (!a_dump || !b_dump) {
    if (a.input.empty()) {
      return invalid_argument(
          "cannot compare {} with {}: --input = absent, must be given when A "
          "or B is a model",
          a.a, a.b);
    }
    EI8_ASSIGN_OR_RETURN(x, read_npy(a.input));
  }
  quant::TensorSet ta;
  if (a_dump) {
    EI8_ASSIGN_OR_RETURN(ta, quant::read_dump(a.a));
  } else {
    EI8_ASSIGN_OR_RETURN(quant::ProbedModel ma, load_model(a.a, a.engine_a, a.profile_a));
    for (const std::string& n : ma.notes()) fmt::print(stderr, "note: {}\n", n);
    Result<quant::TensorSet> r = ma.run(x);
    if (!r.ok()) return r.status().with_context(a.a);
    ta = std::move(r).value();
    ta.source = fmt::format("{} {}", ta.source, a.a);
  }
  std::optional<quant::Comparison> graph_c, layer_c;
  if (b_dump) {
    EI8_ASSIGN_OR_RETURN(quant::TensorSet tb, quant::read_dump(a.b));
    EI8_ASSIGN_OR_RETURN(graph_c, quant::compare_tensor_sets(ta, tb, co));
  } else {
    EI8_ASSIGN_OR_RETURN(quant::ProbedModel mb, load_model(a.b, a.engine_b, a.profile_b));
    for (const std::string& n : mb.notes()) fmt::print(stderr, "note: {}\n", n);
    if (a.mode != "layer") {
      Result<quant::TensorSet> r = mb.run(x);
      if (!r.ok()) return r.status().with_context(a.b);
      quant::TensorSet tb = std::move(r).value();
      tb.source = fmt::format("{} {}", tb.source, a.b);
      EI8_ASSIGN_OR_RETURN(graph_c, quant::compare_tensor_sets(ta, tb, co));
    }
    if (a.mode != "graph") {
      Result<quant::TensorSet> r = mb.run_fed(x, ta);
      if (!r.ok()) return r.status().with_context(a.b);
      quant::TensorSet tb = std::move(r).value();
      EI8_ASSIGN_OR_RETURN(layer_c, quant::compare_tensor_sets(ta, tb, co));
    }
  }
  if (!a.csv.empty()) {
    report::Table t =
        graph_c ? comparison_table(*graph_c, "graph") : comparison_table(*layer_c, "layer");
    if (graph_c && layer_c) {
      const report::Table l = comparison_table(*layer_c, "layer");
      for (size_t r = 0; r < l.num_rows(); ++r) t.add_row(l.row(r));
    }
    EI8_RETURN_IF_ERROR(t.write_csv(a.csv));
  }
  if (a.json) {
    fmt::print("{}\n", pipeline::compare_json(graph_c, layer_c, a.tolerance_lsb).dump(2));
    return {};
  }
  if (graph_c) print_comparison(*graph_c, "graph-wise");
  if (graph_c && layer_c) fmt::print("\n");
  if (layer_c) print_comparison(*layer_c, "layer-wise");
  return {};
}

}  // namespace

void register_compare(CLI::App& app) {
  auto args = std::make_shared<CompareArgs>();
  CLI::App* sub = app.add_subcommand(
      "compare",
      "Compare every tensor of two runs (models or tensor dumps): SQNR, cosine, max |d| in LSB, "
      "the first divergence; graph-wise and layer-wise");
  sub->add_option("a", args->a, "Run A: a model (.onnx) or a dump directory (reference side)")
      ->required();
  sub->add_option("b", args->b, "Run B: a model (.onnx) or a dump directory")->required();
  sub->add_option("--input,-i", args->input, "Input .npy [N, ...] fed to the model(s)");
  sub->add_option("--mode", args->mode,
                  "graph = both run end to end (default); layer = each layer of B fed A's input "
                  "to that layer; both");
  sub->add_option("--engine-a", args->engine_a,
                  "QDQ model A: int8 = integer engine (default), float = QDQ simulation following "
                  "the profile (exact accumulator, the profile's requantizer), float-plain = "
                  "QDQ simulation with float sums");
  sub->add_option("--engine-b", args->engine_b,
                  "QDQ model B: int8 (default), float or float-plain");
  sub->add_option("--profile-a", args->profile_a,
                  "Requantization profile of A's integer engine or simulation: ort (default), "
                  "tflite, tflite-single");
  sub->add_option("--profile-b", args->profile_b,
                  "Requantization profile of B's integer engine or simulation");
  sub->add_option("--tolerance-lsb", args->tolerance_lsb,
                  "A quantized tensor diverges when max |d| > this many LSB (default 1)");
  sub->add_option("--rel-tolerance", args->rel_tolerance,
                  "A float tensor diverges when max |d| > this x max|A| (default 1e-5)");
  sub->add_option("--min-sqnr", args->min_sqnr_db,
                  "Also diverged: a tensor whose SQNR is below this (dB; default off)");
  sub->add_option("--csv", args->csv, "Write the per-tensor table as CSV");
  sub->add_flag("--json", args->json,
                "Print JSON: tensors[] {name, sqnr_db, cosine, max_abs_lsb, ...}, "
                "first_divergence {tensor, index, a, b} or null; with --mode both, layer {...}");
  set_action(sub, [args] { return compare_command(*args); });
}

}  // namespace ei8::cli
