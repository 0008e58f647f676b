// Part E of run-all: each workload on a microcontroller. The sweep's most accurate
// configuration is quantized again with the integer-only tflite profile, lowered to the integer
// graph and turned into C (deploy/codegen.h); the generated code runs on test samples on the
// host (make + cc) and, when the ARM toolchain and QEMU are installed, as a semihosting firmware
// on an emulated Cortex-M4 (mps2-an386, DSP kernels); both are compared bit for bit with the
// integer engine. The tables give the peak arena per memory planner, flash/RAM from
// arm-none-eabi-size, the per-layer live set and the simulator's estimate of the same model.
#include <fmt/format.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include "ei8/deploy/codegen.h"
#include "ei8/deploy/toolchain.h"
#include "ei8/graph/onnx/onnx_io.h"
#include "ei8/graph/passes.h"
#include "ei8/pipeline/steps.h"
#include "ei8/quant/calibration.h"
#include "ei8/quant/ptq.h"
#include "ei8/report/table.h"
#include "ei8/runtime/executor.h"
#include "ei8/runtime/int8_lowering.h"
#include "ei8/runtime/int8_ops.h"
#include "ei8/runtime/int8_tables.h"

namespace ei8::pipeline {
namespace fs = std::filesystem;
using report::Table;

namespace {

constexpr fixedpoint::RequantProfile kProfile = fixedpoint::RequantProfile::kTflite;
constexpr deploy::Target kMcu = deploy::Target::kCortexM4;

// Test samples run through the generated code: the host is cheap; QEMU runs few.
struct DeploySizes {
  int64_t calib = 1000, host = 256, qemu = 16;
};
DeploySizes deploy_sizes(const RunAllSettings& s) {
  return s.quick ? DeploySizes{.calib = 256, .host = 64, .qemu = 4} : DeploySizes{};
}

Status write_raw_f32(const std::string& path, std::span<const float> v) {
  std::ofstream os(path, std::ios::binary);
  os.write(reinterpret_cast<const char*>(v.data()), static_cast<std::streamsize>(v.size() * 4));
  if (!os) return io_error("cannot write {}: stream error", path);
  return {};
}

Result<std::vector<float>> read_raw_f32(const std::string& path) {
  std::ifstream is(path, std::ios::binary | std::ios::ate);
  if (!is) return not_found("cannot read {}: file = absent, must exist", path);
  const auto n = static_cast<size_t>(is.tellg());
  std::vector<float> v(n / 4);
  is.seekg(0);
  is.read(reinterpret_cast<char*>(v.data()), static_cast<std::streamsize>(v.size() * 4));
  return v;
}

// Outputs whose bit patterns equal the engine's (−1 when the counts differ).
int64_t identical_outputs(std::span<const float> got, std::span<const float> want) {
  if (got.size() != want.size()) return -1;
  int64_t same = 0;
  for (size_t i = 0; i < got.size(); ++i) same += std::memcmp(&got[i], &want[i], 4) == 0;
  return same;
}

// The integer engine's outputs on `x` [N, ...] (the reference the generated code must equal).
Result<std::vector<float>> engine_outputs(const Graph& lowered, const Tensor& x) {
  EI8_ASSIGN_OR_RETURN(Executor ex, Executor::create(lowered, {.optimize = false}));
  EI8_RETURN_IF_ERROR(ex.prepare({x.shape()}));
  EI8_ASSIGN_OR_RETURN(std::vector<Tensor> out, ex.run({x}));
  return std::vector<float>(out[0].span<float>().begin(), out[0].span<float>().end());
}

// The first `n` samples of the workload's test split.
Result<Tensor> test_samples(const RunAllSettings& s, const std::string& w, int64_t n) {
  data::DatasetOptions d = dataset_for(s, w);
  d.test_size = n;
  EI8_ASSIGN_OR_RETURN(data::SplitDataset ds, data::load_dataset(d));
  return ds.test.batch(0, n).x;
}

// The sum of a column of tables/arch_<w>.csv (the simulator's per-layer table); empty when
// the table or a value is absent.
report::Cell arch_total(const Result<Table>& arch, const std::string& col) {
  if (!arch.ok()) return std::string();
  double sum = 0;
  for (size_t r = 0; r < arch->num_rows(); ++r) {
    Result<double> v = arch->number(r, col);
    if (!v.ok()) return std::string();
    sum += *v;
  }
  return sum;
}

}  // namespace

Step deploy_step(const RunAllSettings& s, const std::string& w) {
  const DeploySizes n = deploy_sizes(s);
  const std::string qemu_missing = deploy::missing_tools(kMcu, true);
  return {
      .name = "deploy." + w,
      .description = "generated C for a microcontroller: host + QEMU Cortex-M4 = engine, arena",
      .settings = fmt::format("calib={} host={} qemu={} seed={} profile=tflite target=cortex-m4 "
                              "tools={}",
                              n.calib, n.host, n.qemu, s.seed,
                              qemu_missing.empty() ? "all" : "missing " + qemu_missing),
      .inputs = {"models/" + w + ".onnx", "tables/ptq_sweep_" + w + ".csv",
                 "tables/arch_" + w + ".csv"},
      .outputs = {"tables/deploy_" + w + ".csv", "tables/deploy_arena_" + w + ".csv",
                  "tables/deploy_layers_" + w + ".csv", "tables/deploy_vs_sim_" + w + ".csv"},
      .run = [s, w, n, qemu_missing](StepContext& c) -> Result<StepOutcome> {
        // The sweep's best configuration, quantized with the integer-only profile.
        EI8_ASSIGN_OR_RETURN(SweepChoice ch, best_sweep_config(c, w));
        ch.ptq.profile = kProfile;
        EI8_ASSIGN_OR_RETURN(Graph g, load_onnx(c.path("models/" + w + ".onnx")));
        EI8_RETURN_IF_ERROR(optimize(g));
        data::DatasetOptions d = dataset_for(s, w);
        d.test_size = 1;
        EI8_ASSIGN_OR_RETURN(data::SplitDataset ds, data::load_dataset(d));
        const data::Dataset calib = data::calibration_subset(ds.train, n.calib, s.seed);
        EI8_ASSIGN_OR_RETURN(quant::Statistics st, quant::collect_statistics(g, calib.samples, {}));
        EI8_ASSIGN_OR_RETURN(quant::CalibTable table,
                             quant::make_table(st, quant::calib_target(ch.ptq, ch.calib)));
        EI8_ASSIGN_OR_RETURN(quant::QuantizedModel qm, quant::quantize_model(g, table, ch.ptq));
        EI8_ASSIGN_OR_RETURN(Int8Lowering low, lower_to_int8(qm.qdq, {.profile = kProfile}));
        Graph tabulated = low.graph;  // the engine runs low.graph; the generator reads tables
        EI8_RETURN_IF_ERROR(tabulate_unary_ops(tabulated));
        const fs::path dir = fs::path(c.path("deploy")) / w;
        std::error_code ec;
        fs::create_directories(dir, ec);
        if (ec) return io_error("cannot create {}: {}", dir.string(), ec.message());
        EI8_RETURN_IF_ERROR(save_onnx(qm.qdq, (dir / (w + ".int8.onnx")).string()));

        EI8_ASSIGN_OR_RETURN(Tensor x, test_samples(s, w, n.host));
        EI8_ASSIGN_OR_RETURN(std::vector<float> want, engine_outputs(low.graph, x));
        const int64_t samples = x.dim(0);
        const auto per_sample = static_cast<size_t>(static_cast<int64_t>(want.size()) / samples);
        const std::string in_bin = (dir / "test_input.bin").string();
        EI8_RETURN_IF_ERROR(write_raw_f32(in_bin, x.span<float>()));
        const int64_t qemu_samples = std::min(n.qemu, samples);
        const std::string qemu_in = (dir / "test_input_qemu.bin").string();
        EI8_RETURN_IF_ERROR(write_raw_f32(qemu_in, x.span<float>().first(static_cast<size_t>(
                                                       qemu_samples * x.numel() / samples))));

        Table runs({"target", "kernels", "runs_on", "samples", "outputs", "identical_outputs",
                    "model_flash_bytes", "model_ram_bytes", "arena_bytes", "stack_bytes",
                    "firmware_text_bytes", "status"});
        const auto source = w + ".int8.onnx (" + ch.label + ", tflite profile)";
        // Host: the reference kernels, built by the harness's Makefile.
        EI8_ASSIGN_OR_RETURN(deploy::Codegen host,
                             deploy::codegen(tabulated, {.target = deploy::Target::kHost},
                                             {.source = source, .profile = "tflite"}));
        const std::string host_dir = (dir / "host").string();
        EI8_RETURN_IF_ERROR(deploy::write_generated(host.code, host_dir));
        const std::string host_missing = deploy::missing_tools(deploy::Target::kHost, false);
        int64_t host_same = -1;
        if (host_missing.empty()) {
          EI8_RETURN_IF_ERROR(deploy::build_host(host_dir));
          const std::string out_bin = (dir / "host_output.bin").string();
          EI8_RETURN_IF_ERROR(deploy::run_host(host_dir, in_bin, out_bin));
          EI8_ASSIGN_OR_RETURN(std::vector<float> got, read_raw_f32(out_bin));
          host_same = identical_outputs(got, want);
          runs.add_row({"host", "ref", "host cc (model_main)", static_cast<double>(samples),
                        static_cast<double>(want.size()), static_cast<double>(host_same), "", "",
                        static_cast<double>(host.plans.best.arena_bytes), "", "",
                        host_same == static_cast<int64_t>(want.size()) ? "bit-exact" : "DIFFERS"});
        } else {
          runs.add_row({"host", "ref", "host cc (model_main)", "", "", "", "", "", "", "", "",
                        "skipped: " + host_missing + " missing"});
        }
        // Cortex-M4: the DSP kernels, the semihosting firmware under QEMU.
        EI8_ASSIGN_OR_RETURN(
            deploy::Codegen mcu,
            deploy::codegen(tabulated, {.target = kMcu}, {.source = source, .profile = "tflite"}));
        const std::string mcu_dir = (dir / "cortex-m4").string();
        EI8_RETURN_IF_ERROR(deploy::write_generated(mcu.code, mcu_dir));
        int64_t qemu_same = -1;
        const auto qemu_outputs = static_cast<int64_t>(per_sample) * qemu_samples;
        deploy::FootprintReport fp;
        if (qemu_missing.empty()) {
          EI8_RETURN_IF_ERROR(deploy::build_firmware(mcu_dir));
          EI8_ASSIGN_OR_RETURN(fp, deploy::firmware_footprint(mcu_dir, mcu.plans.best.arena_bytes));
          const std::string out_bin = (dir / "qemu_output.bin").string();
          EI8_RETURN_IF_ERROR(deploy::run_qemu(mcu_dir, kMcu, qemu_in, out_bin, 300));
          EI8_ASSIGN_OR_RETURN(std::vector<float> got, read_raw_f32(out_bin));
          qemu_same = identical_outputs(
              got, std::span<const float>(want).first(static_cast<size_t>(qemu_outputs)));
          std::string kernels;
          for (const deploy::Step& step : mcu.model.steps) {
            if (kernels.find(step.variant) == std::string::npos) {
              kernels += (kernels.empty() ? "" : "+") + step.variant;
            }
          }
          runs.add_row({"cortex-m4", kernels,
                        fmt::format("qemu-system-arm {}", deploy::board_of(kMcu).qemu_machine),
                        static_cast<double>(qemu_samples), static_cast<double>(qemu_outputs),
                        static_cast<double>(qemu_same), static_cast<double>(fp.model_flash),
                        static_cast<double>(fp.model_ram), static_cast<double>(fp.arena),
                        static_cast<double>(fp.stack), static_cast<double>(fp.firmware_text),
                        qemu_same == qemu_outputs ? "bit-exact" : "DIFFERS"});
        } else {
          runs.add_row({"cortex-m4", "", "qemu-system-arm", "", "", "", "", "", "", "", "",
                        "skipped: " + qemu_missing + " missing (scripts/setup.sh installs them)"});
        }
        EI8_RETURN_IF_ERROR(runs.write(c.path("tables/deploy_" + w)));

        // Peak arena per planner (the code uses the smaller), and the bound without overlap.
        const deploy::PlanSet& plans = mcu.plans;
        const auto greedy = static_cast<double>(plans.greedy.arena_bytes);
        const deploy::MemoryPlan bestfit =
            deploy::plan_inplace_bestfit(plans.problem.problem);  // before the fallback
        Table arena({"planner", "peak_arena_bytes", "vs_greedy_by_size", "used_by_the_code"});
        arena.set_precision("vs_greedy_by_size", 3);
        auto ratio = [&](int64_t b) { return greedy > 0 ? static_cast<double>(b) / greedy : 1.0; };
        arena.add_row({"greedy-by-size (TFLM)", greedy, 1.0,
                       plans.best.strategy == "greedy-by-size" ? "yes" : "no"});
        arena.add_row({"inplace-bestfit", static_cast<double>(bestfit.arena_bytes),
                       ratio(bestfit.arena_bytes),
                       plans.best.strategy == "inplace-bestfit" ? "yes" : "no"});
        arena.add_row({"largest live set (bound without overlap)",
                       static_cast<double>(plans.lower_bound), ratio(plans.lower_bound), "-"});
        EI8_RETURN_IF_ERROR(arena.write(c.path("tables/deploy_arena_" + w)));

        const std::vector<int64_t> live = deploy::live_bytes(plans.problem.problem);
        Table layers({"step", "node", "op", "kernel", "macs", "live_bytes", "pixel_order"});
        for (size_t i = 0; i < mcu.model.steps.size(); ++i) {
          const deploy::Step& step = mcu.model.steps[i];
          layers.add_row({static_cast<double>(i), step.node, step.op_type, step.variant,
                          static_cast<double>(step.macs), static_cast<double>(live[i]),
                          plans.best.reverse[i] ? "backward" : "forward"});
        }
        EI8_RETURN_IF_ERROR(layers.write(c.path("tables/deploy_layers_" + w)));

        // Beside the simulator: the same model's work and memory on the MCU and on the array.
        Result<Table> arch = Table::read_csv(c.path("tables/arch_" + w + ".csv"));
        Table vs({"quantity", "microcontroller (generated C)", "systolic array (simulator)"});
        vs.add_row({"MACs per inference", static_cast<double>(mcu.model.macs()),
                    arch_total(arch, "macs")});
        vs.add_row({"constant bytes (weights, bias, requantization)",
                    static_cast<double>(mcu.model.weight_bytes()), ""});
        vs.add_row(
            {"peak activation memory (bytes)", static_cast<double>(plans.best.arena_bytes), ""});
        vs.add_row({"cycles per inference (32x32 WS array)", "", arch_total(arch, "cycles")});
        EI8_RETURN_IF_ERROR(vs.write(c.path("tables/deploy_vs_sim_" + w)));

        const bool host_ok = host_same == static_cast<int64_t>(want.size());
        const bool qemu_ok = qemu_same == qemu_outputs;
        if ((host_missing.empty() && !host_ok) || (qemu_missing.empty() && !qemu_ok)) {
          return internal_error(
              "cannot deploy {}: identical outputs = host {}/{}, qemu {}/{}, must be all", w,
              host_same, want.size(), qemu_same, qemu_outputs);
        }
        return StepOutcome::ok(fmt::format(
            "{}: arena greedy {} B, {} {} B; host {}; qemu {}", ch.label, plans.greedy.arena_bytes,
            plans.best.strategy, plans.best.arena_bytes,
            host_missing.empty() ? fmt::format("{}/{} identical", host_same, want.size())
                                 : "skipped",
            qemu_missing.empty() ? fmt::format("{}/{} identical, flash {} B, RAM {} B", qemu_same,
                                               qemu_outputs, fp.model_flash, fp.model_ram)
                                 : "skipped (" + qemu_missing + " missing)"));
      }};
}

}  // namespace ei8::pipeline
