// ei8/arch/scalesim_config.h — the SCALE-Sim v2 `.cfg` file (INI, Python configparser rules) as
// an immutable architecture description.
//
//   Result<ScaleSimConfig> c = read_scalesim_config("scale.cfg");
//   if (!c.ok()) return c.status();  // "scale.cfg:4: cannot read config: ..."
//   ArrayConfig arch = c->array();   // what the cycle model needs
//
// Keys are case-insensitive, `key: value` or `key = value`, '#'/';' comment lines. Every key of
// research/scalesim.md §2 is required (SCALE-Sim has no file-level defaults); `Bandwidth` only
// in USER mode. Deliberate differences from SCALE-Sim (it would crash later or silently run
// something else): an unknown Dataflow or InterfaceBandwidth is an error (SCALE-Sim simulates
// an unknown dataflow as os), and sizes must be >= 1.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ei8/core/status.h"

namespace ei8::arch {

enum class Dataflow { kWs, kOs, kIs };
enum class BandwidthMode { kUser, kCalc };

std::string_view dataflow_name(Dataflow d);  // "ws", "os", "is"
[[nodiscard]] Result<Dataflow> parse_dataflow(std::string_view text);

// What the systolic model needs to know about the hardware.
struct ArrayConfig {
  int64_t rows = 32;  // AR, PE rows (≥ 1)
  int64_t cols = 32;  // AC, PE columns (≥ 1)
  Dataflow dataflow = Dataflow::kWs;
  int64_t ifmap_sram_kb = 64;  // each SRAM in kB (×1024 words), ≥ 1
  int64_t filter_sram_kb = 64;
  int64_t ofmap_sram_kb = 64;
  BandwidthMode mode = BandwidthMode::kUser;
  int64_t bandwidth = 10;  // USER mode DRAM words/cycle for all three interfaces (≥ 1)
  // Bytes per operand word: 1 for INT8 (SCALE-Sim's word), 2 for INT16/FP16, 4 for FP32, 8.
  // SRAM sizes are in kB, so a buffer holds sram_words(kB) = ⌊kB·1024 / word_bytes⌋ words, as
  // SCALE-Sim's buffers compute from their `word_size` (fixed to 1 byte in SCALE-Sim v2, which
  // has no config key for it: a .cfg always means word_bytes = 1). Everything the simulator
  // counts — cycles, `bandwidth`, every SCALE-Sim report column — stays in words; the width
  // reaches energy, roofline and DSE (which count bytes) through LayerStats::word_bytes.
  int64_t word_bytes = 1;

  int64_t sram_words(int64_t kb) const { return kb * 1024 / word_bytes; }

  [[nodiscard]] Status validate() const;
  bool operator==(const ArrayConfig&) const = default;
};

struct ScaleSimConfig {
  std::string run_name;
  ArrayConfig array;
  int64_t ifmap_offset = 0, filter_offset = 10000000, ofmap_offset = 20000000;
  std::vector<int64_t> bandwidths;  // as listed (USER mode); array.bandwidth = bandwidths[0]
  std::string topology_path;  // [network_presets] TopologyCsvLoc, if given (unused by the CLI)
  std::vector<std::string> warnings;
};

[[nodiscard]] Result<ScaleSimConfig> read_scalesim_config(const std::string& path);
[[nodiscard]] Result<ScaleSimConfig> parse_scalesim_config(std::string_view text,
                                                           std::string_view source);

// A config file SCALE-Sim v2 reads back to the same run (offsets 0/10000000/20000000).
std::string format_scalesim_config(const ScaleSimConfig& config);

}  // namespace ei8::arch
