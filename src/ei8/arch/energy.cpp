#include "ei8/arch/energy.h"

#include <toml++/toml.h>
#include <cmath>
#include <fstream>
#include <sstream>

namespace ei8::arch {

double EnergyTable::sram_byte_pj(double kb) const {
  return sram_per_byte_at_8kb_pj * std::pow(kb / 8.0, sram_size_exponent);
}

EnergyTable default_energy_table() {
  EnergyTable t;
  t.name = "int8-edge-45nm (built-in)";
  t.sources = {"see share/energy/int8_edge_45nm.toml"};
  return t;
}

Result<EnergyTable> parse_energy_table(std::string_view text, std::string_view source) {
  toml::table root;
  try {
    root = toml::parse(text, source);
  } catch (const toml::parse_error& e) {
    return invalid_argument("{}:{}: cannot read energy table: {}", source, e.source().begin.line,
                            e.description());
  }
  EnergyTable t = default_energy_table();
  t.sources.clear();
  auto where = [&](const toml::node& n) { return n.source().begin.line; };
  for (const auto& [section, node] : root) {
    const toml::table* tab = node.as_table();
    if (tab == nullptr) {
      return invalid_argument("{}:{}: cannot read energy table: key = {}, must be a [section]",
                              source, where(node), section.str());
    }
    for (const auto& [key, value] : *tab) {
      const std::string k(key.str());
      if (section == "meta") {
        if (k == "name") {
          t.name = value.value_or(std::string());
        } else if (k == "sources" && value.is_array()) {
          for (const toml::node& s : *value.as_array())
            t.sources.push_back(s.value_or(std::string()));
        }
        continue;  // other meta keys are documentation
      }
      double* dst = nullptr;
      if (section == "energy_pj") {
        if (k == "mac") dst = &t.mac_pj;
        if (k == "array_per_byte") dst = &t.array_per_byte_pj;
        if (k == "array_bytes_per_mac") dst = &t.array_bytes_per_mac;
        if (k == "sram_per_byte_at_8kb") dst = &t.sram_per_byte_at_8kb_pj;
        if (k == "sram_size_exponent") dst = &t.sram_size_exponent;
        if (k == "dram_per_byte") dst = &t.dram_per_byte_pj;
        if (k == "sram_leakage_per_kb_cycle") dst = &t.sram_leakage_per_kb_cycle_pj;
      } else if (section == "area_mm2") {
        if (k == "pe") dst = &t.pe_area_mm2;
        if (k == "sram_per_kb") dst = &t.sram_area_per_kb_mm2;
      }
      if (dst == nullptr) {
        return invalid_argument(
            "{}:{}: cannot read energy table: key = {}.{}, must be one of the "
            "keys of share/energy/int8_edge_45nm.toml",
            source, where(value), section.str(), k);
      }
      std::optional<double> v = value.value<double>();
      if (!v || !std::isfinite(*v) || *v < 0) {
        return invalid_argument(
            "{}:{}: cannot read energy table: {}.{} = {}, must be a number >= 0", source,
            where(value), section.str(), k, value.is_string() ? *value.value<std::string>() : "?");
      }
      *dst = *v;
    }
  }
  return t;
}

Result<EnergyTable> read_energy_table(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return not_found("cannot open energy table: path = '{}', must be a readable file", path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return parse_energy_table(ss.str(), path);
}

ActionCounts action_counts(const LayerStats& s) {
  ActionCounts a;
  a.macs = double(s.macs);
  // Every DRAM word read is also written into its SRAM; every drained word is read from it.
  // Words → bytes with the simulated array's word width.
  const double b = double(s.word_bytes);
  a.ifmap_sram = b * double(s.sram_ifmap_reads + s.dram_ifmap_reads);
  a.filter_sram = b * double(s.sram_filter_reads + s.dram_filter_reads);
  a.ofmap_sram = b * double(s.sram_ofmap_writes + s.dram_ofmap_writes);
  a.dram = double(s.dram_bytes());
  a.cycles = double(s.total_cycles);
  return a;
}

LayerEnergy& LayerEnergy::operator+=(const LayerEnergy& o) {
  mac += o.mac;
  array += o.array;
  ifmap_sram += o.ifmap_sram;
  filter_sram += o.filter_sram;
  ofmap_sram += o.ofmap_sram;
  dram += o.dram;
  leakage += o.leakage;
  return *this;
}

LayerEnergy layer_energy(const EnergyTable& t, const ActionCounts& a, const ArrayConfig& array) {
  LayerEnergy e;
  e.mac = a.macs * t.mac_pj;
  e.array = a.macs * t.array_bytes_per_mac * t.array_per_byte_pj;
  e.ifmap_sram = a.ifmap_sram * t.sram_byte_pj(double(array.ifmap_sram_kb));
  e.filter_sram = a.filter_sram * t.sram_byte_pj(double(array.filter_sram_kb));
  e.ofmap_sram = a.ofmap_sram * t.sram_byte_pj(double(array.ofmap_sram_kb));
  e.dram = a.dram * t.dram_per_byte_pj;
  e.leakage = a.cycles * t.sram_leakage_per_kb_cycle_pj *
              double(array.ifmap_sram_kb + array.filter_sram_kb + array.ofmap_sram_kb);
  return e;
}

double area_mm2(const EnergyTable& t, const ArrayConfig& a) {
  return double(a.rows * a.cols) * t.pe_area_mm2 +
         double(a.ifmap_sram_kb + a.filter_sram_kb + a.ofmap_sram_kb) * t.sram_area_per_kb_mm2;
}

std::string format_energy_report(const std::vector<std::string>& names,
                                 const std::vector<LayerStats>& stats, const EnergyTable& t,
                                 const ArrayConfig& array) {
  std::string out =
      fmt::format("# energy table: {}; area proxy: {:.6f} mm2\n", t.name, area_mm2(t, array));
  out +=
      "LayerID,Layer,MACs,Cycles,MAC pJ,Array pJ,IFMAP SRAM pJ,FILTER SRAM pJ,OFMAP SRAM pJ,DRAM "
      "pJ,Leakage pJ,Total pJ,pJ per MAC\n";
  LayerEnergy total;
  int64_t macs = 0, cycles = 0;
  auto line = [&](const std::string& id, const std::string& name, int64_t m, int64_t c,
                  const LayerEnergy& e) {
    out +=
        fmt::format("{},{},{},{},{:.3f},{:.3f},{:.3f},{:.3f},{:.3f},{:.3f},{:.3f},{:.3f},{:.4f}\n",
                    id, name, m, c, e.mac, e.array, e.ifmap_sram, e.filter_sram, e.ofmap_sram,
                    e.dram, e.leakage, e.total(), m > 0 ? e.total() / double(m) : 0.0);
  };
  for (size_t i = 0; i < stats.size(); ++i) {
    const LayerEnergy e = layer_energy(t, action_counts(stats[i]), array);
    line(std::to_string(i), i < names.size() ? names[i] : "", stats[i].macs, stats[i].total_cycles,
         e);
    total += e;
    macs += stats[i].macs;
    cycles += stats[i].total_cycles;
  }
  line("total", "inference", macs, cycles, total);
  return out;
}

}  // namespace ei8::arch
