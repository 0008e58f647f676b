// ei8/deploy/toolchain.h — building and running generated code: `make` for the host,
// arm-none-eabi-gcc + newlib (rdimon semihosting) for the MCU firmware, qemu-system-arm for the
// emulated board, arm-none-eabi-size and -fstack-usage for flash/RAM.
//
//   if (!have_program("qemu-system-arm")) ... skip
//   EI8_RETURN_IF_ERROR(build_host(dir));
//   EI8_RETURN_IF_ERROR(run_host(dir, "in.bin", "out.bin"));
//   EI8_RETURN_IF_ERROR(build_firmware(dir));
//   EI8_RETURN_IF_ERROR(run_qemu(dir, Target::kCortexM4, "in.bin", "out_qemu.bin"));
//   EI8_ASSIGN_OR_RETURN(FootprintReport f, firmware_footprint(dir, arena_bytes));
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ei8/core/status.h"
#include "ei8/deploy/deploy_model.h"

namespace ei8::deploy {

// True when `name` is an executable in PATH.
bool have_program(const std::string& name);

// The tools a target needs that are missing ("" when none): make and cc for the host; plus
// arm-none-eabi-gcc, newlib's rdimon specs and qemu-system-arm for an MCU target.
std::string missing_tools(Target t, bool run_qemu);

struct ProcessResult {
  int exit_code = -1;
  bool timed_out = false;
  std::string output;  // stdout and stderr, interleaved
};

// Runs argv[0] (looked up in PATH) in `cwd`, killing it after `timeout_s` seconds.
Result<ProcessResult> run_process(const std::vector<std::string>& argv, const std::string& cwd,
                                  int timeout_s);

// make -C dir model_main / firmware; the compiler's output is in the error.
Status build_host(const std::string& dir);
Status build_firmware(const std::string& dir);

// dir/model_main IN OUT.
Status run_host(const std::string& dir, const std::string& input, const std::string& output);

// dir/firmware.elf under qemu-system-arm on the target's board (semihosting), on IN; writes
// OUT. Runs in a temporary directory (the semihosting files), killed after `timeout_s`.
Status run_qemu(const std::string& dir, Target t, const std::string& input,
                const std::string& output, int timeout_s = 300);

// Flash and RAM of the firmware (arm-none-eabi-size): the model alone (model.o, weights.o,
// ei8_kernels.o: code + constants; no libc) and the whole firmware (with newlib's stdio and
// the harness); the stack of model_run estimated from -fstack-usage (its frame plus the four
// largest kernel frames: the deepest call chain is model_run → kernel → dot → helper).
struct FootprintReport {
  int64_t model_flash = 0;  // text + rodata + data of the model objects
  int64_t model_ram = 0;    // arena + stack estimate (+ data/bss of the model objects)
  int64_t arena = 0, stack = 0;
  int64_t firmware_text = 0, firmware_data = 0, firmware_bss = 0;
};
Result<FootprintReport> firmware_footprint(const std::string& dir, int64_t arena_bytes);

}  // namespace ei8::deploy
