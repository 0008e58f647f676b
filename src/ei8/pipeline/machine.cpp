#include <sys/utsname.h>

#include <fstream>
#include <string>
#include <thread>

#include "ei8/pipeline/run_all.h"
#include "ei8/runtime/kernels/cpu_features.h"

namespace ei8::pipeline {

report::Table machine_table() {
  std::string cpu = "unknown";
  std::ifstream info("/proc/cpuinfo");
  for (std::string line; std::getline(info, line);) {
    if (line.rfind("model name", 0) == 0) {
      cpu = line.substr(line.find(':') + 2);
      break;
    }
  }
  std::string isas;
  for (kernels::Isa isa : kernels::available_isas()) {
    isas += (isas.empty() ? "" : " ") + std::string(kernels::isa_name(isa));
  }
  utsname u{};
  uname(&u);
  report::Table t({"key", "value"});
  t.add_row({std::string("cpu"), cpu});
  t.add_row(
      {std::string("logical_cores"), static_cast<double>(std::thread::hardware_concurrency())});
  t.add_row({std::string("isa_tiers"), isas});
  t.add_row({std::string("os"), fmt::format("{} {} {}", u.sysname, u.release, u.machine)});
#if defined(__clang__)
  t.add_row({std::string("compiler"), fmt::format("clang {}", __clang_version__)});
#elif defined(__GNUC__)
  t.add_row({std::string("compiler"), fmt::format("gcc {}", __VERSION__)});
#endif
  return t;
}

}  // namespace ei8::pipeline
