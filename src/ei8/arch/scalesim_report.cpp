#include "ei8/arch/scalesim_report.h"

#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <system_error>

namespace ei8::arch {

std::string python_float_repr(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  if (v == 0) return std::signbit(v) ? "-0.0" : "0.0";
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::scientific);
  std::string_view sci(buf, static_cast<size_t>(end - buf));  // "-d.ddde±XX", shortest digits
  std::string out;
  if (sci.front() == '-') {
    out = "-";
    sci.remove_prefix(1);
  }
  const size_t epos = sci.find('e');
  std::string digits;
  for (char ch : sci.substr(0, epos)) {
    if (ch != '.') digits.push_back(ch);
  }
  int exp10 = 0;
  std::string_view es = sci.substr(epos + 1);
  if (es.front() == '+') es.remove_prefix(1);
  std::from_chars(es.data(), es.data() + es.size(), exp10);
  const int decpt = exp10 + 1;  // value = 0.d1d2… × 10^decpt
  const int nd = static_cast<int>(digits.size());
  if (decpt > -4 && decpt <= 16) {
    if (decpt <= 0) {
      out += "0." + std::string(static_cast<size_t>(-decpt), '0') + digits;
    } else if (decpt >= nd) {
      out += digits + std::string(static_cast<size_t>(decpt - nd), '0') + ".0";
    } else {
      out += digits.substr(0, static_cast<size_t>(decpt)) + "." +
             digits.substr(static_cast<size_t>(decpt));
    }
    return out;
  }
  out += digits.substr(0, 1);
  if (nd > 1) out += "." + digits.substr(1);
  const int e = decpt - 1;
  out += fmt::format("e{}{:02d}", e < 0 ? '-' : '+', e < 0 ? -e : e);
  return out;
}

ScaleSimReports format_reports(const std::vector<LayerStats>& layers) {
  ScaleSimReports r;
  r.compute =
      "LayerID, Total Cycles, Stall Cycles, Overall Util %, Mapping Efficiency %, Compute Util "
      "%,\n";
  r.bandwidth =
      "LayerID, Avg IFMAP SRAM BW, Avg FILTER SRAM BW, Avg OFMAP SRAM BW, Avg IFMAP DRAM BW, Avg "
      "FILTER DRAM BW, Avg OFMAP DRAM BW,\n";
  r.detailed =
      "LayerID, SRAM IFMAP Start Cycle, SRAM IFMAP Stop Cycle, SRAM IFMAP Reads, SRAM Filter Start "
      "Cycle, SRAM Filter Stop Cycle, SRAM Filter Reads, SRAM OFMAP Start Cycle, SRAM OFMAP Stop "
      "Cycle, SRAM OFMAP Writes, DRAM IFMAP Start Cycle, DRAM IFMAP Stop Cycle, DRAM IFMAP Reads, "
      "DRAM Filter Start Cycle, DRAM Filter Stop Cycle, DRAM Filter Reads, DRAM OFMAP Start Cycle, "
      "DRAM OFMAP Stop Cycle, DRAM OFMAP Writes,\n";
  auto f = [](double v) { return python_float_repr(v); };
  auto cyc = [](int64_t v) { return python_float_repr(double(v)); };
  for (size_t id = 0; id < layers.size(); ++id) {
    const LayerStats& s = layers[id];
    r.compute += fmt::format("{}, {}, {}, {}, {}, {},\n", id, s.total_cycles, s.stall_cycles,
                             f(s.overall_util), f(s.mapping_efficiency), f(s.compute_util));
    r.bandwidth +=
        fmt::format("{}, {}, {}, {}, {}, {}, {},\n", id, f(s.avg_ifmap_sram_bw()),
                    f(s.avg_filter_sram_bw()), f(s.avg_ofmap_sram_bw()), f(s.avg_ifmap_dram_bw()),
                    f(s.avg_filter_dram_bw()), f(s.avg_ofmap_dram_bw()));
    r.detailed +=
        fmt::format("{}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {},\n",
                    id, cyc(s.sram_ifmap_start), cyc(s.sram_ifmap_stop), s.sram_ifmap_reads,
                    cyc(s.sram_filter_start), cyc(s.sram_filter_stop), s.sram_filter_reads,
                    cyc(s.sram_ofmap_start), cyc(s.sram_ofmap_stop), s.sram_ofmap_writes,
                    cyc(s.dram_ifmap_start), cyc(s.dram_ifmap_stop), s.dram_ifmap_reads,
                    cyc(s.dram_filter_start), cyc(s.dram_filter_stop), s.dram_filter_reads,
                    cyc(s.dram_ofmap_start), cyc(s.dram_ofmap_stop), s.dram_ofmap_writes);
  }
  return r;
}

Status write_reports(const ScaleSimReports& reports, const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return io_error("cannot create output directory: path = '{}': {}", dir, ec.message());
  const std::pair<const char*, const std::string*> files[] = {
      {"COMPUTE_REPORT.csv", &reports.compute},
      {"BANDWIDTH_REPORT.csv", &reports.bandwidth},
      {"DETAILED_ACCESS_REPORT.csv", &reports.detailed}};
  std::vector<fs::path> tmps;
  auto cleanup = [&] {
    for (const fs::path& p : tmps) fs::remove(p, ec);
  };
  for (const auto& [name, text] : files) {
    const fs::path tmp = fs::path(dir) / (std::string(".") + name + ".tmp");
    tmps.push_back(tmp);
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << *text;
    out.close();
    if (!out) {
      cleanup();
      return io_error("cannot write report: path = '{}'", tmp.string());
    }
  }
  for (size_t i = 0; i < tmps.size(); ++i) {
    fs::rename(tmps[i], fs::path(dir) / files[i].first, ec);
    if (ec) {
      cleanup();
      return io_error("cannot write report: path = '{}': {}",
                      (fs::path(dir) / files[i].first).string(), ec.message());
    }
  }
  return {};
}

}  // namespace ei8::arch
