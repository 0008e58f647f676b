// edgeint8 quantize — post-training INT8 quantization of an ONNX model: calibrate on data,
// quantize weights/bias/activations, write a QDQ ONNX model (and the calibration table).
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>

#include "cli.h"
#include "ei8/arch/scalesim_config.h"
#include "ei8/core/distribute.h"
#include "ei8/core/npy.h"
#include "ei8/core/output_files.h"
#include "ei8/graph/onnx/onnx_io.h"
#include "ei8/graph/passes.h"
#include "ei8/pipeline/layer_prices.h"
#include "ei8/pipeline/quant_tables.h"
#include "ei8/quant/calibration.h"
#include "ei8/quant/int8_engine.h"
#include "ei8/quant/mixed_precision.h"
#include "ei8/quant/priced_precision.h"
#include "ei8/quant/ptq.h"
#include "ei8/quant/recovery.h"
#include "ei8/quant/sensitivity.h"
#include "ei8/quant/simulate.h"
#include "ei8/quant/sweep.h"
#include "ei8/report/table.h"

namespace ei8::cli {
namespace {

struct QuantizeArgs {
  std::string model, calib_data, output, table;
  std::string method = "mse", weights = "per-channel", act = "asym", act_type = "u8";
  std::string profile = "ort";
  int64_t batch = 32, max_samples = 0, bins = 2048, levels = 128;
  double percentile = 99.99, ema = 0.01;
  std::string percentile_mode = "auto", zero_bin = "skip-exact-zeros", threshold = "upper-edge";
  std::string prior = "laplace", exclude, a16;
  std::string eval_data, eval_labels, sweep_out = "results/tables";
  double max_drop = -1.0;
  std::string cost, arch_config;  // --cost (priced mixed precision), --arch-config
  bool json = false, sweep = false, max_drop_given = false, reduce_range = false;
  std::string shard;        // --sweep --shard i/N: a part file for `edgeint8 merge`
  bool no_timings = false;  // --sweep: no clock/memory reading, no latency (byte-equal reruns)
  // Accuracy recovery (quant/equalize.h, quant/recovery.h).
  bool cle = false, no_absorb = false, bias_correction = false, adaround = false;
  int weight_bits = 8, adaround_iters = 1000;
  double adaround_time = 60.0;
  uint64_t seed = 1;
  std::vector<std::string> given;  // the method-specific options typed on the command line
};

// Options that only one calibration method reads: given with another method, they would be
// silently ignored.
struct MethodOption {
  const char* option;
  quant::CalibMethod method;
};
constexpr MethodOption kMethodOptions[] = {
    {"--percentile", quant::CalibMethod::kPercentile},
    {"--percentile-mode", quant::CalibMethod::kPercentile},
    {"--levels", quant::CalibMethod::kEntropy},
    {"--zero-bin", quant::CalibMethod::kEntropy},
    {"--threshold", quant::CalibMethod::kEntropy},
    {"--prior", quant::CalibMethod::kAciq},
    {"--ema", quant::CalibMethod::kMovingAverage},
};

std::vector<std::string> split_names(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size() && !s.empty()) {
    const size_t comma = s.find(',', start);
    out.push_back(s.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

// Latency of the INT8 model for the sweep / mixed-precision tables: the integer engine
// (quant/int8_engine.h), median of 20 runs, one thread.
quant::LatencyFn int8_latency_function() {
  return [](const quant::QuantizedModel& m, int64_t batch) {
    return quant::int8_latency_us(m, batch, 20);
  };
}

// Evaluation set from --eval-data / --eval-labels (labels optional unless `need_labels`).
Result<quant::EvalSet> eval_set_from_args(const QuantizeArgs& a, const Graph& g, bool need_labels,
                                          const char* what) {
  if (a.eval_data.empty()) {
    return invalid_argument("cannot {}: --eval-data = absent, must be given", what);
  }
  if (need_labels && a.eval_labels.empty()) {
    return invalid_argument("cannot {}: --eval-labels = absent, must be given", what);
  }
  return quant::load_eval_set(g, a.eval_data, a.eval_labels);
}

uint64_t tensor_fingerprint(const Tensor& t, uint64_t seed) {
  return dist::fingerprint(std::string_view(reinterpret_cast<const char*>(t.raw()), t.nbytes()),
                           seed);
}

// What every shard of one sweep must share: the options that shape the rows, the model file,
// the calibration and evaluation tensors, and the result's fields but rows (without the
// measured statistics time).
Result<std::string> sweep_description(const QuantizeArgs& a, const quant::SweepPlan& plan,
                                      const Tensor& calib) {
  EI8_ASSIGN_OR_RETURN(std::string model_bytes, read_file(a.model));
  quant::SweepResult header = plan.header;
  header.statistics_seconds = 0;  // measured: differs between shards (each part has its own)
  dist::RecordWriter d;
  d.str(quant::encode_sweep_header(header)).boolean(a.no_timings);  // what merge reads back
  d.str(a.method).str(a.weights).str(a.act).str(a.act_type).str(a.profile).i64(a.batch);
  d.i64(a.max_samples).i64(a.bins).i64(a.levels).f64(a.percentile).f64(a.ema);
  d.str(a.percentile_mode).str(a.zero_bin).str(a.threshold).str(a.prior).str(a.exclude);
  d.boolean(a.reduce_range).boolean(a.no_timings).u64(dist::fingerprint(model_bytes));
  d.u64(tensor_fingerprint(calib, 1)).u64(tensor_fingerprint(plan.eval.inputs, 2));
  for (int64_t l : plan.eval.labels) d.i64(l);
  return d.take();
}

Status write_sweep_tables(const QuantizeArgs& a, const quant::SweepResult& r,
                          const std::string& out_dir) {
  std::error_code ec;
  std::filesystem::create_directories(out_dir, ec);
  const report::Table t = pipeline::sweep_table(r);
  EI8_RETURN_IF_ERROR(t.write(out_dir + "/ptq_sweep"));  // .csv and .json, both or neither
  if (a.json) {
    fmt::print("{}\n", t.to_json());
    return {};
  }
  fmt::print("{}", t.to_markdown());
  fmt::print("statistics pass: {} samples in {:.3f} s (shared by every row); eval samples {}\n",
             r.statistics_samples, r.statistics_seconds, r.eval_samples);
  fmt::print("wrote {0}/ptq_sweep.csv and {0}/ptq_sweep.json\n", out_dir);
  return {};
}

// --max-drop with --cost: the priced search (quant/priced_precision.h); writes
// <sweep-out>/mixed_precision_pareto.csv (every point), mixed_precision_prices.csv (per layer)
// and the chosen model to -o.
Status priced_command(const QuantizeArgs& a, const Graph& g, const quant::EvalSet& ev,
                      const quant::CalibTable& table, const quant::PtqOptions& po,
                      const std::vector<std::string>& ranking) {
  using namespace quant;
  PricedOptions o;
  EI8_ASSIGN_OR_RETURN(o.cost, parse_cost_metric(a.cost));
  o.max_drop_points = a.max_drop;
  o.ptq = po;
  o.batch = a.batch;
  o.ranking = ranking;
  o.latency = int8_latency_function();
  arch::ArrayConfig array;
  if (!a.arch_config.empty()) {
    EI8_ASSIGN_OR_RETURN(arch::ScaleSimConfig cfg, arch::read_scalesim_config(a.arch_config));
    array = cfg.array;
  }
  if (o.cost == CostMetric::kCycles || o.cost == CostMetric::kEnergy) {
    o.price = pipeline::arch_layer_prices(o.cost, array);
  }
  EI8_ASSIGN_OR_RETURN(PricedResult r, priced_mixed_precision(g, table, ev, o));
  const report::Table points = pipeline::priced_points_table(r);
  const report::Table prices = pipeline::layer_price_table(r);
  if (!r.reached) {
    if (!a.json) fmt::print("{}", points.to_markdown());
    return out_of_range("cannot reach --max-drop {}: {} (nothing written)", a.max_drop, r.message);
  }
  std::error_code ec;
  std::filesystem::create_directories(a.sweep_out, ec);
  OutputFiles out;
  EI8_RETURN_IF_ERROR(points.add_to(out, a.sweep_out + "/mixed_precision_pareto"));
  EI8_RETURN_IF_ERROR(prices.add_to(out, a.sweep_out + "/mixed_precision_prices"));
  if (!a.output.empty()) {
    EI8_ASSIGN_OR_RETURN(std::string bytes, serialize_onnx(r.model.qdq));
    EI8_RETURN_IF_ERROR(out.add(a.output, bytes));
  }
  EI8_RETURN_IF_ERROR(out.commit());
  if (a.json) {
    nlohmann::ordered_json j;
    j["cost"] = cost_metric_name(r.metric);
    j["unit"] = cost_metric_unit(r.metric);
    j["reached"] = r.reached;
    j["exhaustive"] = r.exhaustive;
    j["message"] = r.message;
    j["chosen"] = nlohmann::ordered_json::parse(points.to_json()).at(r.chosen);
    j["points"] = nlohmann::ordered_json::parse(points.to_json());
    j["layers"] = nlohmann::ordered_json::parse(prices.to_json());
    fmt::print("{}\n", j.dump(2));
  } else {
    fmt::print("per-layer {} ({}):\n{}", cost_metric_name(r.metric), cost_metric_unit(r.metric),
               prices.to_markdown());
    fmt::print("{}", points.to_markdown());
    fmt::print("{}\nwrote {}/mixed_precision_pareto.csv, {}/mixed_precision_prices.csv{}\n",
               r.message, a.sweep_out, a.sweep_out,
               a.output.empty() ? "" : fmt::format(" and {}", a.output));
  }
  return {};
}

// --sweep: the library's sweep (quant/sweep.h), written to <sweep-out>/ptq_sweep.csv + .json.
// Its rows go through core/distribute.h: split over MPI ranks under mpirun, one shard's rows
// into a part file with --shard i/N.
Status sweep_command(const QuantizeArgs& a, const Graph& g, const quant::Statistics& st,
                     const quant::PtqOptions& po, const quant::CalibParams& cp,
                     const Tensor& calib) {
  using namespace quant;
  dist::Shard shard;
  if (!a.shard.empty()) {
    EI8_ASSIGN_OR_RETURN(shard, dist::parse_shard(a.shard));
  }
  EI8_ASSIGN_OR_RETURN(EvalSet ev, eval_set_from_args(a, g, false, "sweep"));
  SweepOptions so;
  so.ptq = po;
  so.ptq.exclude_nodes = split_names(a.exclude);
  so.calib = cp;
  so.batch = a.batch;
  so.timings = !a.no_timings;
  if (!a.no_timings) so.latency = int8_latency_function();
  EI8_ASSIGN_OR_RETURN(SweepPlan plan, prepare_sweep(g, st, ev, so));
  const auto [first, last] = dist::shard_range(plan.size(), shard);
  Progress progress("sweep", static_cast<int64_t>(last - first), "configs");
  std::mutex progress_mu;
  const auto t0 = std::chrono::steady_clock::now();
  EI8_ASSIGN_OR_RETURN(
      std::vector<std::string> records,
      dist::map_points(last - first,
                       [&](size_t i) -> Result<std::string> {
                         EI8_ASSIGN_OR_RETURN(SweepRow row, sweep_row(plan, first + i));
                         std::lock_guard<std::mutex> lock(progress_mu);
                         progress.advance(
                             1, fmt::format("{} {} {} agree {:.1f}%", calib_method_name(row.method),
                                            weight_granularity_name(row.weights), row.activations,
                                            100 * row.agreement));
                         return encode_sweep_row(row);
                       },
                       {.threads = 1}));
  progress.finish();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (!dist::world().root()) return {};  // rank 0 has every row and writes the tables
  if (!a.shard.empty()) {
    EI8_ASSIGN_OR_RETURN(std::string inputs, sweep_description(a, plan, calib));
    dist::PartFile part{"ptq-sweep", std::move(inputs),  shard,
                        plan.size(), std::move(records), a.no_timings ? 0.0 : st.seconds};
    std::error_code ec;
    std::filesystem::create_directories(a.sweep_out, ec);
    const std::string path =
        fmt::format("{}/ptq-sweep-shard-{}-of-{}.part", a.sweep_out, shard.index, shard.count);
    EI8_RETURN_IF_ERROR(write_file(path, dist::encode_part(part)));
    fmt::print("shard {}/{}: rows {}..{} of {} in {:.3f} s -> {}\n", shard.index, shard.count,
               first, last, plan.size(), seconds, path);
    return {};
  }
  SweepResult r = plan.header;
  r.rows.resize(records.size());
  for (size_t i = 0; i < records.size(); ++i) {
    EI8_RETURN_IF_ERROR(decode_sweep_row(records[i], &r.rows[i]));
  }
  return write_sweep_tables(a, r, a.sweep_out);
}

// --max-drop: rank layers (quant/sensitivity.h), fall back to float one at a time
// (quant/mixed_precision.h); writes <sweep-out>/mixed_precision.csv and the model to -o.
Status mixed_precision_command(const QuantizeArgs& a, const Graph& g, const quant::Statistics& st,
                               const quant::PtqOptions& po, const quant::CalibParams& cp) {
  using namespace quant;
  EI8_ASSIGN_OR_RETURN(EvalSet ev, eval_set_from_args(a, g, true, "run --max-drop"));
  SensitivityOptions so;
  so.calib = cp;
  so.ptq = po;
  so.batch = a.batch;
  EI8_ASSIGN_OR_RETURN(SensitivityReport sens, analyze_sensitivity(g, st, ev, so));
  EI8_ASSIGN_OR_RETURN(CalibTable table, make_table(st, cp));
  if (!a.cost.empty()) return priced_command(a, g, ev, table, po, sens.ranking);
  MixedPrecisionOptions mo;
  mo.max_drop_points = a.max_drop;
  mo.ptq = po;
  mo.batch = a.batch;
  mo.latency = int8_latency_function();
  EI8_ASSIGN_OR_RETURN(MixedPrecisionResult r, mixed_precision(g, table, ev, sens.ranking, mo));
  const report::Table t = pipeline::mixed_precision_table(r);
  if (!r.reached) {  // a failure: show what was tried, write nothing
    if (!a.json) fmt::print("{}", t.to_markdown());
    return out_of_range("cannot reach --max-drop {}: {} (nothing written)", a.max_drop, r.message);
  }
  std::error_code ec;
  std::filesystem::create_directories(a.sweep_out, ec);
  // The tables and the model are written together, or (on any error) none of them.
  OutputFiles out;
  EI8_RETURN_IF_ERROR(t.add_to(out, a.sweep_out + "/mixed_precision"));
  if (!a.output.empty()) {
    EI8_ASSIGN_OR_RETURN(std::string bytes, serialize_onnx(r.model.qdq));
    EI8_RETURN_IF_ERROR(out.add(a.output, bytes));
  }
  EI8_RETURN_IF_ERROR(out.commit());
  if (a.json) {
    fmt::print("{}\n", t.to_json());
  } else {
    fmt::print("sensitivity ranking: {}\n", fmt::join(sens.ranking, ", "));
    fmt::print("{}", t.to_markdown());
    fmt::print("{}\nwrote {}/mixed_precision.csv{}\n", r.message, a.sweep_out,
               a.output.empty() ? "" : fmt::format(" and {}", a.output));
  }
  return {};
}

Status quantize_command(const QuantizeArgs& a) {
  using namespace quant;
  // Options first, so a typo fails before any work.
  CalibParams cp;
  EI8_ASSIGN_OR_RETURN(cp.method, parse_calib_method(a.method));
  cp.percentile = a.percentile;
  cp.entropy_levels = a.levels;
  EI8_ASSIGN_OR_RETURN(cp.percentile_mode, parse_percentile_mode(a.percentile_mode));
  EI8_ASSIGN_OR_RETURN(cp.entropy_zero_bin, parse_zero_bin(a.zero_bin));
  EI8_ASSIGN_OR_RETURN(cp.entropy_threshold, parse_kl_threshold(a.threshold));
  EI8_ASSIGN_OR_RETURN(cp.aciq_prior, parse_aciq_prior(a.prior));
  PtqOptions po;
  EI8_ASSIGN_OR_RETURN(po.weights, parse_weight_granularity(a.weights));
  if (a.act != "asym" && a.act != "sym") {
    return invalid_argument("cannot parse --act: act = '{}', must be asym|sym", a.act);
  }
  po.act_symmetric = a.act == "sym";
  if (a.act_type == "u8") {
    po.act_type = QType::kU8;
  } else if (a.act_type == "s8") {
    po.act_type = QType::kS8;
  } else {
    return invalid_argument("cannot parse --act-type: act-type = '{}', must be u8|s8", a.act_type);
  }
  if (po.act_symmetric && po.act_type == QType::kU8) po.act_type = QType::kS8;  // sym ⇒ s8
  EI8_ASSIGN_OR_RETURN(po.profile, fixedpoint::parse_profile(a.profile));
  po.exclude_nodes = split_names(a.exclude);
  po.reduce_range = a.reduce_range;
  if (a.weight_bits != 8 && a.weight_bits != 4) {
    return invalid_argument("cannot parse --weight-bits: bits = {}, must be 8 or 4", a.weight_bits);
  }
  po.weight_bits = a.weight_bits;
  RecoveryOptions ro;
  ro.cle = a.cle;
  ro.bias_absorption = !a.no_absorb;
  ro.bias_correction = a.bias_correction;
  ro.adaround = a.adaround;
  ro.ada.iterations = a.adaround_iters;
  ro.ada.time_budget_s = a.adaround_time;
  ro.ada.seed = a.seed;
  if (a.adaround_iters < 1) {
    return invalid_argument("cannot parse --adaround-iters: iterations = {}, must be >= 1",
                            a.adaround_iters);
  }
  if (!(a.adaround_time > 0) || !std::isfinite(a.adaround_time)) {
    return invalid_argument("cannot parse --adaround-time: seconds = {}, must be finite and > 0",
                            a.adaround_time);
  }
  cp = calib_target(po, cp);
  EI8_RETURN_IF_ERROR(validate(cp));
  CalibrationOptions co;
  co.batch = a.batch;
  co.max_samples = a.max_samples;
  co.observer.bins = a.bins;
  co.observer.ema_constant = a.ema;

  for (const MethodOption& m : kMethodOptions) {
    const bool given = std::find(a.given.begin(), a.given.end(), m.option) != a.given.end();
    if (given && !a.sweep && cp.method != m.method) {
      return invalid_argument(
          "cannot quantize {}: {} = given with --method {}, must come with --method {} (it would "
          "be ignored)",
          a.model, m.option, calib_method_name(cp.method), calib_method_name(m.method));
    }
  }
  if (!a.cost.empty()) {
    EI8_RETURN_IF_ERROR(parse_cost_metric(a.cost).status());
    if (!a.max_drop_given) {
      return invalid_argument(
          "cannot quantize {}: --cost = {} without --max-drop, must come with it", a.model, a.cost);
    }
  }
  if (!a.arch_config.empty() && a.cost != "cycles" && a.cost != "energy") {
    return invalid_argument(
        "cannot quantize {}: --arch-config = given with --cost '{}', must come with --cost cycles "
        "or energy",
        a.model, a.cost);
  }
  if (!a.sweep && (!a.shard.empty() || a.no_timings)) {
    return invalid_argument("cannot quantize {}: {} = given without --sweep, must come with it",
                            a.model, !a.shard.empty() ? "--shard" : "--no-timings");
  }
  if (a.sweep && a.max_drop_given) {
    return invalid_argument("cannot quantize {}: --sweep and --max-drop, must be one of them",
                            a.model);
  }
  if (a.max_drop_given && !(a.max_drop >= 0 && std::isfinite(a.max_drop))) {
    return invalid_argument("cannot parse --max-drop: max-drop = {}, must be finite and >= 0",
                            a.max_drop);
  }
  if (a.output.empty() && !a.sweep && !a.max_drop_given) {
    return invalid_argument("cannot quantize {}: -o = absent, must name the output .onnx", a.model);
  }
  if (a.sweep && !a.output.empty()) {
    return invalid_argument(
        "cannot quantize {}: -o = '{}' with --sweep, must be absent (the sweep writes tables, "
        "no model)",
        a.model, a.output);
  }
  if ((a.sweep || a.max_drop_given) && !a.table.empty()) {
    return invalid_argument(
        "cannot quantize {}: --table = '{}' with {}, must be absent (only a plain quantize "
        "writes a calibration table)",
        a.model, a.table, a.sweep ? "--sweep" : "--max-drop");
  }
  if (!a.sweep && !a.max_drop_given && (!a.eval_data.empty() || !a.eval_labels.empty())) {
    return invalid_argument(
        "cannot quantize {}: {} = given without --sweep or --max-drop, must come with one of them "
        "(a plain quantize evaluates nothing)",
        a.model, a.eval_data.empty() ? "--eval-labels" : "--eval-data");
  }
  if (a.max_samples < 0) {
    return invalid_argument("cannot quantize {}: --max-samples = {}, must be >= 0 (0 = all)",
                            a.model, a.max_samples);
  }
  if (a.batch < 1) {
    return invalid_argument("cannot quantize {}: --batch = {}, must be >= 1", a.model, a.batch);
  }
  EI8_RETURN_IF_ERROR(check_model_file(a.model, "model"));
  if (!a.output.empty()) {
    EI8_RETURN_IF_ERROR(check_output_path(a.output, "-o"));
    if (same_file(a.output, a.model)) {
      return invalid_argument(
          "cannot quantize {}: -o = '{}', must differ from the float model it reads", a.model,
          a.output);
    }
  }
  if (!a.table.empty()) {
    EI8_RETURN_IF_ERROR(check_output_path(a.table, "--table"));
    if (!a.output.empty() && same_file(a.table, a.output)) {
      return invalid_argument("cannot quantize {}: --table = '{}', must differ from -o", a.model,
                              a.table);
    }
  }
  EI8_ASSIGN_OR_RETURN(Graph g, load_onnx(a.model));
  EI8_RETURN_IF_ERROR(check_float_model(g, a.model, "quantize"));
  // Every --exclude name must be a node of the model (before or after BN folding/fusion).
  std::set<std::string> node_names;
  for (const Node& n : g.nodes()) node_names.insert(n.name);
  EI8_RETURN_IF_ERROR(optimize(g).with_context(a.model));  // BN folding + activation fusion
  std::vector<std::string> compute;
  for (const Node& n : g.nodes()) {
    node_names.insert(n.name);
    if (n.op_type == "Conv" || n.op_type == "Gemm" || n.op_type == "MatMul") {
      compute.push_back(n.name);
    }
  }
  // --a16: A16W8 layers (int16 activations around them), names of Conv/Gemm/MatMul nodes.
  for (const std::string& name : split_names(a.a16)) {
    if (std::find(compute.begin(), compute.end(), name) == compute.end()) {
      return invalid_argument(
          "cannot quantize {}: --a16 name = '{}', must name a Conv/Gemm/MatMul node of the "
          "optimized model ({})",
          a.model, name, fmt::join(compute, ", "));
    }
    po.layer_precision[name] = quant::LayerPrecision::kInt16;
  }
  for (const std::string& name : po.exclude_nodes) {
    if (node_names.count(name) == 0) {
      return invalid_argument(
          "cannot quantize {}: --exclude name = '{}', must name a node of the model (its Conv/"
          "Gemm/MatMul nodes: {})",
          a.model, name, fmt::join(compute, ", "));
    }
  }
  if (g.inputs().size() != 1) {
    return unsupported("cannot quantize {}: inputs = {}, must be 1", a.model, g.inputs().size());
  }
  EI8_ASSIGN_OR_RETURN(Tensor data,
                       load_calibration_data(a.calib_data, g.find_value(g.inputs()[0])->shape));
  EI8_ASSIGN_OR_RETURN(Statistics st, collect_statistics(g, data, co));
  if (ro.any() && (a.sweep || a.max_drop_given)) {
    return invalid_argument(
        "cannot quantize {}: --cle/--bias-correction/--adaround with {}, must be used alone "
        "(the sweep has its own recovery rows: run-all's accuracy_recovery table)",
        a.model, a.sweep ? "--sweep" : "--max-drop");
  }
  if (a.sweep) return sweep_command(a, g, st, po, cp, data);
  if (a.max_drop_given) return mixed_precision_command(a, g, st, po, cp);
  EI8_ASSIGN_OR_RETURN(RecoveredModel rec, quantize_with_recovery(g, data, cp, po, ro, co, &st));
  const CalibTable& table = rec.table;
  const QuantizedModel& m = rec.model;
  {  // the model and the calibration table together, or neither
    OutputFiles out;
    EI8_ASSIGN_OR_RETURN(std::string bytes, serialize_onnx(m.qdq));
    EI8_RETURN_IF_ERROR(out.add(a.output, bytes));
    if (!a.table.empty()) EI8_RETURN_IF_ERROR(out.add(a.table, serialize_calib_table(table)));
    EI8_RETURN_IF_ERROR(out.commit());
  }
  for (const std::string& n : rec.notes) fmt::print(stderr, "edgeint8: note: {}\n", n);

  for (const std::string& w : m.warnings) fmt::print(stderr, "edgeint8: warning: {}\n", w);
  // Every hyper-parameter used, as recorded in the table.
  std::vector<std::pair<std::string, std::string>> hp = {
      {"method", std::string(calib_method_name(cp.method))},
      {"weights", std::string(weight_granularity_name(po.weights))},
      {"reduce_range", po.reduce_range ? "yes (weights [-63, 63])" : "no"},
      {"weight_bits", std::to_string(po.weight_bits)},
      {"recovery", recovery_name(ro)},
      {"activations", fmt::format("{} {}", qtype_name(po.act_type),
                                  po.act_symmetric ? "symmetric" : "asymmetric")},
      {"profile", std::string(fixedpoint::profile_name(po.profile))},
      {"batch", std::to_string(co.batch)},
      {"samples", std::to_string(st.samples)},
      {"ema_constant", fmt::format("{}", co.observer.ema_constant)},
  };
  if (!table.entries.empty()) {
    for (const auto& [k, v] : table.entries[0].parameters)
      hp.emplace_back(k, param_value_to_string(v));
  }
  if (a.json) {
    nlohmann::ordered_json j;
    j["model"] = a.model;
    j["output"] = a.output;
    if (!a.table.empty()) j["table"] = a.table;
    for (const auto& [k, v] : hp) j["parameters"][k] = v;
    j["calibration_seconds"] = st.seconds;
    j["tensors"] = nlohmann::ordered_json::array();
    for (const CalibEntry& e : table.entries) {
      j["tensors"].push_back({{"name", e.name},
                              {"min", e.min},
                              {"max", e.max},
                              {"observed_min", e.observed_min},
                              {"observed_max", e.observed_max}});
    }
    j["integer_layers"] = m.layers.size();
    j["float_nodes"] = m.float_nodes;
    j["int16_values"] = m.int16_values;
    j["warnings"] = m.warnings;
    j["int8_weight_bytes"] = m.weight_bytes_int8;
    j["notes"] = rec.notes;
    j["cle_pairs"] = nlohmann::ordered_json::array();
    for (const EqualizedPair& p : rec.equalize.pairs) {
      j["cle_pairs"].push_back({{"first", p.first},
                                {"second", p.second},
                                {"via", p.via},
                                {"first_spread_before", p.first_spread_before},
                                {"first_spread_after", p.first_spread_after}});
    }
    j["adaround"] = nlohmann::ordered_json::array();
    for (const AdaRoundLayer& l : rec.ada.layers) {
      j["adaround"].push_back({{"node", l.node},
                               {"applied", l.applied},
                               {"iterations", l.iterations},
                               {"loss_nearest", l.loss_nearest},
                               {"loss_adaround", l.loss_adaround},
                               {"flipped", l.flipped}});
    }
    j["bias_correction"] = nlohmann::ordered_json::array();
    for (const BiasCorrectionLayer& l : rec.correction.layers) {
      j["bias_correction"].push_back({{"node", l.node},
                                      {"mean_abs_shift", l.mean_abs_shift},
                                      {"max_shift_steps", l.max_shift_steps}});
    }
    fmt::print("{}\n", j.dump(2));
    return {};
  }
  fmt::print("{}: calibrated {} tensors on {} samples in {:.2f} s\n", a.model, st.names.size(),
             st.samples, st.seconds);
  std::string line;
  for (const auto& [k, v] : hp) line += fmt::format(" {}={}", k, v);
  fmt::print("parameters:{}\n", line);
  for (const CalibEntry& e : table.entries) {
    fmt::print("  {:<32} [{:>11.6g}, {:>11.6g}]  observed [{:.6g}, {:.6g}]\n", e.name, e.min, e.max,
               e.observed_min, e.observed_max);
  }
  for (const EqualizedPair& p : rec.equalize.pairs) {
    fmt::print("CLE {} -> {} (via {}): weight range spread {:.3g}x -> {:.3g}x\n", p.first, p.second,
               p.via.empty() ? "-" : p.via, p.first_spread_before, p.first_spread_after);
  }
  if (ro.cle) {
    fmt::print("CLE: {} pairs, {} sweeps{}\n", rec.equalize.pairs.size(), rec.equalize.iterations,
               rec.equalize.converged ? " (converged)" : "");
  }
  for (const AbsorbedLayer& l : rec.absorb.layers) {
    fmt::print("bias absorption {} -> {}: {} channels, max shift {:.4g}\n", l.first, l.second,
               l.channels_absorbed, l.max_shift);
  }
  for (const AdaRoundLayer& l : rec.ada.layers) {
    fmt::print(
        "AdaRound {}: {} ({} iterations, {} columns x {} features), error {:.4g} -> "
        "{:.4g}, {:.1f} % of weights rounded the other way\n",
        l.node, l.applied ? "applied" : "nearest kept", l.iterations, l.columns, l.features,
        l.loss_nearest, l.loss_adaround, 100.0 * l.flipped);
  }
  for (const BiasCorrectionLayer& l : rec.correction.layers) {
    fmt::print("bias correction {}: mean |shift| {:.4g}, max {} bias steps\n", l.node,
               l.mean_abs_shift, l.max_shift_steps);
  }
  if (!m.int16_values.empty()) {
    fmt::print("A16W8: int16 activations {}\n", fmt::join(m.int16_values, ", "));
  }
  fmt::print("{} integer layers, {} float nodes, {} bytes of int8 weights + int32 bias -> {}{}\n",
             m.layers.size(), m.float_nodes.size(), m.weight_bytes_int8, a.output,
             a.table.empty() ? "" : fmt::format(" (table {})", a.table));
  return {};
}

}  // namespace

Status merge_ptq_sweep_parts(const dist::Merged& m, const std::string& out, bool json) {
  dist::RecordReader d(m.inputs, "the run description of a PTQ sweep part");
  const std::string header = d.str();
  const bool no_timings = d.boolean();
  EI8_RETURN_IF_ERROR(d.status(false));
  quant::SweepResult r;
  EI8_RETURN_IF_ERROR(quant::decode_sweep_header(header, &r));
  // The statistics pass of shard 0 (every shard ran its own on the same data).
  r.statistics_seconds = no_timings ? NAN : m.shard_seconds.at(0);
  r.rows.resize(m.records.size());
  for (size_t i = 0; i < m.records.size(); ++i) {
    EI8_RETURN_IF_ERROR(quant::decode_sweep_row(m.records[i], &r.rows[i]));
  }
  QuantizeArgs a;
  a.json = json;
  return write_sweep_tables(a, r, out);
}

void register_quantize(CLI::App& app) {
  auto a = std::make_shared<QuantizeArgs>();
  CLI::App* sub = app.add_subcommand(
      "quantize",
      "Post-training INT8 quantization: calibrate on data, write a QDQ ONNX model.\n"
      "Activations: u8 asymmetric (the default) is what ONNX Runtime runs as fused integer\n"
      "kernels: it folds a Relu before QuantizeLinear only when the zero point is the type's\n"
      "minimum (u8: 0). With --act sym (s8, zero point 0) ORT keeps Conv+Relu in float.\n"
      "Weights are symmetric s8 [-127, 127]; bias int32 (weight scale enlarged, with a warning,\n"
      "when a bias would not fit). Ops that cannot be quantized stay float (warning names them).\n"
      "Calibration defaults to mse: within 0.02 points of FP32 on both workloads, while\n"
      "entropy (TensorRT's KL) clips spiky inputs such as image backgrounds (Fashion-MNIST:\n"
      "-17 points). A range that clips more than 1 % of the calibration values is warned about.");
  sub->add_option("model", a->model, "Float model (.onnx)")->required();
  sub->add_option("--calib-data", a->calib_data,
                  "Calibration samples: X.npy [N, ...input] or a directory of .npy files")
      ->required();
  sub->add_option("-o,--output", a->output, "Output QDQ model (.onnx); required unless --sweep");
  sub->add_option("--table", a->table, "Also write the calibration table (JSON)");
  sub->add_option("--method", a->method, "minmax|moving-average|percentile|entropy|mse|aciq");
  sub->add_option("--weights", a->weights, "per-tensor|per-channel");
  sub->add_option("--act", a->act, "asym|sym activations");
  sub->add_option("--act-type", a->act_type, "u8|s8 (sym implies s8)");
  sub->add_flag("--reduce-range", a->reduce_range,
                "Weights in [-63, 63] (ONNX Runtime's reduce_range): on CPUs without VNNI, ORT's "
                "u8 x s8 kernels saturate pair sums at int16 and drift from the exact result; "
                "7-bit weights keep them exact (one bit of weight precision less)");
  sub->add_option("--profile", a->profile,
                  "Requantization profile of the INT8 layers: ort|tflite|tflite-single");
  sub->add_option("--batch", a->batch, "Calibration batch size");
  sub->add_option("--max-samples", a->max_samples, "Use only the first N samples (0 = all)");
  sub->add_option("--bins", a->bins, "Histogram bins per side (TensorRT's)");
  sub->add_option("--percentile", a->percentile, "Percentile for --method percentile");
  sub->add_option("--percentile-mode", a->percentile_mode, "auto|symmetric|two-sided");
  sub->add_option("--levels", a->levels, "Entropy quantized levels (TensorRT's)");
  sub->add_option("--zero-bin", a->zero_bin, "Entropy zero bin: skip-exact-zeros|keep|copy-next");
  sub->add_option("--threshold", a->threshold, "Entropy threshold: upper-edge|half-bin");
  sub->add_option("--prior", a->prior, "ACIQ prior: laplace|gaussian");
  sub->add_option("--ema", a->ema, "Moving-average constant");
  sub->add_option("--exclude", a->exclude, "Comma-separated node names to keep in float");
  sub->add_option("--a16", a->a16,
                  "Comma-separated Conv/Gemm/MatMul names to run as A16W8: int16 symmetric "
                  "activations around them, int8 weights, int64 accumulation (opset-21 QDQ)");
  sub->add_option("--weight-bits", a->weight_bits,
                  "8 (default) or 4: weights in [-7, 7] (W4A8; stored as int8, same kernels)");
  sub->add_flag("--cle", a->cle,
                "Cross-layer equalization (Conv/Gemm -> ReLU/identity/pool -> Conv/Gemm pairs, "
                "iterated) and high-bias absorption before calibration; function-preserving");
  sub->add_flag("--no-bias-absorption", a->no_absorb, "With --cle: skip the bias absorption");
  sub->add_flag("--bias-correction", a->bias_correction,
                "Empirical bias correction: the mean per-channel output error on the calibration "
                "data folded into the int32 bias, layer by layer");
  sub->add_flag("--adaround", a->adaround,
                "AdaRound: learn each weight's rounding (up/down) per layer on the calibration "
                "data (seeded, time-bounded; nearest rounding kept where it is not better)");
  sub->add_option("--adaround-iters", a->adaround_iters, "AdaRound steps per layer (default 1000)");
  sub->add_option("--adaround-time", a->adaround_time,
                  "AdaRound time budget for all layers, seconds (default 60)");
  sub->add_option("--seed", a->seed, "Seed of AdaRound's column sampling (default 1)");
  sub->add_flag("--json", a->json, "Machine-readable output");
  sub->add_flag("--sweep", a->sweep,
                "Sweep {minmax,percentile,entropy,mse} x {per-tensor,per-channel} x {sym,asym}; "
                "writes <sweep-out>/ptq_sweep.csv and .json (needs --eval-data)");
  sub->add_option("--max-drop", a->max_drop,
                  "Accuracy-aware mixed precision: keep the most sensitive layers in float, one "
                  "at a time, until the drop vs FP32 is <= this many points (needs --eval-data "
                  "and --eval-labels); writes <sweep-out>/mixed_precision.csv and -o")
      ->each([a](const std::string&) { a->max_drop_given = true; })
      ->default_str("");  // no default: absent = no mixed precision
  sub->add_option("--cost", a->cost,
                  "With --max-drop: choose int8/int16 (A16W8)/float per layer (every combination "
                  "up to 4 layers, else greedy by accuracy gain per cost) minimising bytes | "
                  "latency (measured, integer engine, batch 1) | "
                  "cycles | energy (arch simulator, --arch-config); writes "
                  "<sweep-out>/mixed_precision_pareto.csv (Pareto set, chosen point) and "
                  "mixed_precision_prices.csv");
  sub->add_option("--arch-config", a->arch_config,
                  "SCALE-Sim .cfg of the array for --cost cycles|energy (default 32x32 ws)");
  sub->add_option("--eval-data", a->eval_data,
                  "Evaluation samples (.npy or directory) for --sweep / --max-drop");
  sub->add_option("--eval-labels", a->eval_labels, "Evaluation labels (.npy of integers)");
  sub->add_option("--sweep-out", a->sweep_out, "Directory of the sweep / mixed-precision tables");
  sub->add_option("--shard", a->shard,
                  "With --sweep: compute rows of shard i/N only (0 <= i < N) and write "
                  "<sweep-out>/ptq-sweep-shard-i-of-N.part for `edgeint8 merge`");
  sub->add_flag("--no-timings", a->no_timings,
                "With --sweep: no time, memory or latency columns (n/a), so reruns, MPI runs and "
                "merged shards give byte-identical tables");
  set_action(sub, [a, sub] {
    a->given.clear();
    for (const MethodOption& m : kMethodOptions) {
      if (sub->get_option(m.option)->count() > 0) a->given.emplace_back(m.option);
    }
    return quantize_command(*a);
  });
}

}  // namespace ei8::cli
