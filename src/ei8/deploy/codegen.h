// ei8/deploy/codegen.h — plain C99 for a microcontroller from a DeployModel and its memory plan.
//
// The output directory holds:
//   model.h        MODEL_* sizes, model_run(in, out, arena) and the float wrappers
//   model.c        one kernel call per step at fixed arena offsets; the plan as a comment table
//   weights.c      const int8 weights, int32 bias, multipliers/shifts, tables (flash)
//   ei8_kernels.h/.c  the integer kernels (reference, DSP, MVE)
//   main.c         the fixed harness: model_main IN.bin OUT.bin (raw float32, N samples)
//   Makefile       `make` → model_main for the host; MCU targets: `make firmware` → firmware.elf
//   startup.c, board.ld (MCU targets)  semihosting firmware for the target's QEMU board
// No malloc: one caller-provided arena of MODEL_ARENA_BYTES.
//
//   EI8_ASSIGN_OR_RETURN(DeployModel m, build_deploy_model(lowered, {.target =
//   Target::kCortexM4})); EI8_ASSIGN_OR_RETURN(PlanSet plans, plan_memory(m));
//   EI8_ASSIGN_OR_RETURN(GeneratedCode code, generate_c(m, plans, {.source = "model.int8.onnx"}));
//   EI8_RETURN_IF_ERROR(write_generated(code, "out/"));   // all files appear together
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "ei8/core/status.h"
#include "ei8/deploy/deploy_model.h"
#include "ei8/deploy/memory_plan.h"

namespace ei8::deploy {

// The emulated board of an MCU target (QEMU 7.2 machine) and its compiler flags.
struct Board {
  std::string_view qemu_machine;  // "" for the host
  std::string_view cpu_flags;     // arm-none-eabi-gcc -mcpu=... -mthumb ...
  uint32_t flash_origin = 0, flash_bytes = 0, ram_origin = 0, ram_bytes = 0;
};
Board board_of(Target t);
// The board's linker script (board.ld of generated firmware).
std::string linker_script(const Board& b);

struct CodegenOptions {
  std::string source;   // the model file named in the headers
  std::string profile;  // the requantization profile named in the headers
};

struct GeneratedFile {
  std::string name;
  std::string text;
};

struct GeneratedCode {
  std::vector<GeneratedFile> files;
  int64_t arena_bytes = 0;
};

Result<GeneratedCode> generate_c(const DeployModel& m, const PlanSet& plans,
                                 const CodegenOptions& options);

// Writes every file into `dir` (created when absent): first into a temporary directory beside
// it, then moved into place, so an error leaves nothing half-written.
Status write_generated(const GeneratedCode& code, const std::string& dir);

// The whole generator: the integer graph → steps → memory plans → C files (nothing written).
struct Codegen {
  DeployModel model;
  PlanSet plans;
  GeneratedCode code;
};
Result<Codegen> codegen(const Graph& lowered, const BuildOptions& build,
                        const CodegenOptions& options);

// The C sources shipped with every output (embedded at build time from src/ei8/deploy/c/).
std::string_view embedded_source(std::string_view name);

}  // namespace ei8::deploy
