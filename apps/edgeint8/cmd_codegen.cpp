// edgeint8 codegen — plain C99 for a microcontroller from a QDQ model (ours or foreign): the
// integer graph of the INT8 lowering, a static memory plan, the harness; optionally built and
// run on the host and under QEMU.
#include <fmt/format.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "cli.h"
#include "ei8/deploy/codegen.h"
#include "ei8/deploy/toolchain.h"
#include "ei8/graph/onnx/onnx_io.h"
#include "ei8/runtime/int8_lowering.h"

namespace ei8::cli {
namespace {

struct CodegenArgs {
  std::string model, out, target = "host", profile = "tflite", input, output;
  bool run_qemu = false, run_host = false, json = false;
  int timeout = 300;
};

Status codegen_command(const CodegenArgs& a) {
  EI8_ASSIGN_OR_RETURN(deploy::Target target, deploy::parse_target(a.target));
  if (a.profile != "tflite" && a.profile != "tflite-single") {
    return invalid_argument(
        "cannot parse --profile: value = '{}', must be tflite or tflite-single (integer-only)",
        a.profile);
  }
  const bool run = a.run_qemu || a.run_host;
  if (run && (a.input.empty() || a.output.empty())) {
    return invalid_argument(
        "cannot run the generated model: --input/--output = absent, must "
        "both be given with --run-host or --run-qemu");
  }
  if (!run && (!a.input.empty() || !a.output.empty())) {
    return invalid_argument(
        "cannot use --input/--output: --run-host or --run-qemu = absent, must be given");
  }
  if (a.run_qemu && target == deploy::Target::kHost) {
    return invalid_argument("cannot run under QEMU: --target = host, must be an MCU target");
  }
  if (a.run_host && a.run_qemu) {
    return invalid_argument("cannot run: --run-host and --run-qemu, must be one of them");
  }
  if (run && !std::filesystem::is_regular_file(a.input)) {
    return not_found("cannot read {}: --input = not a file, must exist", a.input);
  }
  if (run) {
    const std::string missing = deploy::missing_tools(target, a.run_qemu);
    if (!missing.empty()) {
      return unsupported(
          "cannot build the generated model: tools = {} missing, must be "
          "installed (scripts/setup.sh)",
          missing);
    }
  }
  EI8_ASSIGN_OR_RETURN(fixedpoint::RequantProfile profile, fixedpoint::parse_profile(a.profile));
  EI8_ASSIGN_OR_RETURN(Graph g, load_onnx(a.model));
  if (!is_qdq_graph(g)) {
    return unsupported(
        "cannot generate code for {}: QuantizeLinear/DequantizeLinear = none, must "
        "be a QDQ model (edgeint8 quantize)",
        a.model);
  }
  EI8_ASSIGN_OR_RETURN(Int8Lowering low, lower_to_int8(g, {.profile = profile}));
  EI8_ASSIGN_OR_RETURN(
      deploy::Codegen c,
      deploy::codegen(low.graph, {.target = target},
                      {.source = std::filesystem::path(a.model).filename(), .profile = a.profile}));
  EI8_RETURN_IF_ERROR(deploy::write_generated(c.code, a.out));

  deploy::FootprintReport fp;
  bool have_fp = false;
  if (a.run_host) {
    EI8_RETURN_IF_ERROR(deploy::build_host(a.out));
    EI8_RETURN_IF_ERROR(deploy::run_host(a.out, a.input, a.output));
  }
  if (a.run_qemu) {
    EI8_RETURN_IF_ERROR(deploy::build_firmware(a.out));
    EI8_RETURN_IF_ERROR(deploy::run_qemu(a.out, target, a.input, a.output, a.timeout));
    EI8_ASSIGN_OR_RETURN(fp, deploy::firmware_footprint(a.out, c.plans.best.arena_bytes));
    have_fp = true;
  }

  const deploy::PlanProblem& prob = c.plans.problem.problem;
  const std::vector<int64_t> live = deploy::live_bytes(prob);
  if (a.json) {
    nlohmann::ordered_json j;
    j["model"] = a.model;
    j["out"] = a.out;
    j["target"] = a.target;
    j["profile"] = a.profile;
    j["steps"] = c.model.steps.size();
    j["macs"] = c.model.macs();
    j["constant_bytes"] = c.model.weight_bytes();
    j["arena_bytes"] = {{"greedy-by-size", c.plans.greedy.arena_bytes},
                        {"inplace-bestfit", c.plans.best.strategy == "inplace-bestfit"
                                                ? c.plans.best.arena_bytes
                                                : c.plans.greedy.arena_bytes},
                        {"used", c.plans.best.arena_bytes},
                        {"used_strategy", c.plans.best.strategy},
                        {"live_set_max", c.plans.lower_bound}};
    j["layers"] = nlohmann::ordered_json::array();
    for (size_t i = 0; i < c.model.steps.size(); ++i) {
      const deploy::Step& s = c.model.steps[i];
      j["layers"].push_back({{"node", s.node},
                             {"op", s.op_type},
                             {"kernel", s.variant},
                             {"macs", s.macs},
                             {"live_bytes", live[i]},
                             {"reverse", c.plans.best.reverse[i]}});
    }
    if (have_fp) {
      j["footprint"] = {{"model_flash", fp.model_flash},
                        {"model_ram", fp.model_ram},
                        {"arena", fp.arena},
                        {"stack_estimate", fp.stack},
                        {"firmware_text", fp.firmware_text},
                        {"firmware_data", fp.firmware_data},
                        {"firmware_bss", fp.firmware_bss}};
    }
    fmt::print("{}\n", j.dump(2));
    return {};
  }
  fmt::print("{}: {} steps, {} MACs, {} bytes of constants -> {}/ (target {}, {})\n", a.model,
             c.model.steps.size(), c.model.macs(), c.model.weight_bytes(), a.out, a.target,
             a.profile);
  fmt::print("arena: greedy-by-size (TFLM) {} B, {} {} B ({:.2f}x), largest live set {} B\n",
             c.plans.greedy.arena_bytes, c.plans.best.strategy, c.plans.best.arena_bytes,
             c.plans.greedy.arena_bytes > 0 ? static_cast<double>(c.plans.best.arena_bytes) /
                                                  static_cast<double>(c.plans.greedy.arena_bytes)
                                            : 1.0,
             c.plans.lower_bound);
  fmt::print("{:>4}  {:<40} {:<16} {:<6} {:>10} {:>8}\n", "step", "node", "op", "kernel", "MACs",
             "live B");
  for (size_t i = 0; i < c.model.steps.size(); ++i) {
    const deploy::Step& s = c.model.steps[i];
    fmt::print("{:>4}  {:<40} {:<16} {:<6} {:>10} {:>8}{}\n", i, s.node.substr(0, 40), s.op_type,
               s.variant, s.macs, live[i], c.plans.best.reverse[i] ? "  (backward)" : "");
  }
  if (a.run_host) fmt::print("host: {} -> {}\n", a.input, a.output);
  if (have_fp) {
    fmt::print("qemu {}: {} -> {}\n", deploy::board_of(target).qemu_machine, a.input, a.output);
    fmt::print(
        "flash: model {} B (code + constants); RAM: model {} B (arena {} + stack ~{}); firmware "
        "text {} data {} bss {} (arm-none-eabi-size)\n",
        fp.model_flash, fp.model_ram, fp.arena, fp.stack, fp.firmware_text, fp.firmware_data,
        fp.firmware_bss);
  }
  return {};
}

}  // namespace

void register_codegen(CLI::App& app) {
  auto args = std::make_shared<CodegenArgs>();
  CLI::App* sub = app.add_subcommand(
      "codegen",
      "Generate plain C99 for a microcontroller from an INT8 QDQ model: model.c/model.h/"
      "weights.c, a static memory plan, main.c + Makefile (make -C DIR builds model_main IN.bin "
      "OUT.bin for the host; MCU targets also `make firmware` for QEMU)");
  sub->add_option("model", args->model, "QDQ model (.onnx), e.g. from edgeint8 quantize")
      ->required();
  sub->add_option("--out", args->out, "Output directory (written whole or not at all)")->required();
  sub->add_option("--target", args->target,
                  "host|cortex-m0|cortex-m4|cortex-m7|cortex-m55 (default host): M4/M7 use the "
                  "DSP extension, M55 Helium (MVE)");
  sub->add_option("--profile", args->profile,
                  "Integer-only requantization: tflite|tflite-single (default tflite)");
  sub->add_flag("--run-host", args->run_host,
                "Build model_main with the host compiler and run it on --input");
  sub->add_flag("--run-qemu", args->run_qemu,
                "Build the semihosting firmware and run it under qemu-system-arm on --input");
  sub->add_option("--input", args->input,
                  "Raw little-endian float32 input, N samples of the model's input shape");
  sub->add_option("--output", args->output, "Raw float32 output of the run");
  sub->add_option("--timeout", args->timeout, "Seconds before QEMU is stopped (default 300)");
  sub->add_flag("--json", args->json, "Machine-readable output");
  set_action(sub, [args] { return codegen_command(*args); });
}

}  // namespace ei8::cli
