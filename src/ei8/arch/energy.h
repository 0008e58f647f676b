// ei8/arch/energy.h — what a design costs: energy = action counts × a per-action table loaded
// from a data file (share/energy/int8_edge_45nm.toml is the default), and an area proxy
// (PEs + SRAM kB). Independent of how the counts were obtained (exact simulator or analytic).
//
//   Result<EnergyTable> t = read_energy_table("share/energy/int8_edge_45nm.toml");
//   LayerEnergy e = layer_energy(*t, stats, array);   // pJ per component
//   double mm2 = area_mm2(*t, array);
#pragma once

#include <string>
#include <vector>

#include "ei8/arch/scalesim_config.h"
#include "ei8/arch/systolic_model.h"
#include "ei8/core/status.h"

namespace ei8::arch {

// Per-action energies (pJ) and areas (mm²); see the default data file for the sources.
struct EnergyTable {
  std::string name;
  std::vector<std::string> sources;
  double mac_pj = 0.30;
  double array_per_byte_pj = 0.07;
  double array_bytes_per_mac = 2;
  double sram_per_byte_at_8kb_pj = 1.25;
  double sram_size_exponent = 0.5;
  double dram_per_byte_pj = 64;
  double sram_leakage_per_kb_cycle_pj = 0;
  double pe_area_mm2 = 0.000635;
  double sram_area_per_kb_mm2 = 0.0047;

  // Energy of one byte read or written in an SRAM of `kb` kB.
  double sram_byte_pj(double kb) const;
};

// Reads a table (TOML, the keys of share/energy/int8_edge_45nm.toml; missing keys keep the
// built-in defaults, unknown keys are errors). Errors: "<file>:<line>: ...".
[[nodiscard]] Result<EnergyTable> read_energy_table(const std::string& path);
[[nodiscard]] Result<EnergyTable> parse_energy_table(std::string_view text,
                                                     std::string_view source);
// The built-in defaults (identical to the shipped file).
EnergyTable default_energy_table();

// Actions of one layer; SRAM and DRAM traffic in bytes (the simulator's word counts ×
// LayerStats::word_bytes). MAC and array-forwarding energies are per MAC: a table for another
// precision than INT8 sets them (mac_pj, array_bytes_per_mac).
struct ActionCounts {
  double macs = 0;
  double ifmap_sram = 0, filter_sram = 0, ofmap_sram = 0;  // SRAM bytes incl. DRAM fills/drains
  double dram = 0;                                         // DRAM bytes read + written
  double cycles = 0;
};
ActionCounts action_counts(const LayerStats& s);

// Energy of one layer by component, pJ.
struct LayerEnergy {
  double mac = 0, array = 0, ifmap_sram = 0, filter_sram = 0, ofmap_sram = 0, dram = 0, leakage = 0;
  double total() const {
    return mac + array + ifmap_sram + filter_sram + ofmap_sram + dram + leakage;
  }
  LayerEnergy& operator+=(const LayerEnergy& o);
};
LayerEnergy layer_energy(const EnergyTable& t, const ActionCounts& a, const ArrayConfig& array);

// Area proxy, mm²: rows·cols PEs + the three SRAMs.
double area_mm2(const EnergyTable& t, const ArrayConfig& array);

// ENERGY_REPORT.csv (not a SCALE-Sim file): one row per layer and a final "total" row (one
// inference), energies in pJ by component, plus the table's name and the area in the header.
std::string format_energy_report(const std::vector<std::string>& names,
                                 const std::vector<LayerStats>& stats, const EnergyTable& t,
                                 const ArrayConfig& array);

}  // namespace ei8::arch
