#include "ei8/deploy/toolchain.h"

#include <fmt/format.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "ei8/deploy/codegen.h"

namespace ei8::deploy {
namespace fs = std::filesystem;
namespace {

// The last `lines` non-empty lines of a process's output, on one line ("a; b").
std::string tail(const std::string& s, size_t lines) {
  std::vector<std::string> all;
  std::istringstream is(s);
  for (std::string l; std::getline(is, l);) {
    if (!l.empty()) all.push_back(l);
  }
  const size_t from = all.size() > lines ? all.size() - lines : 0;
  std::string out;
  for (size_t i = from; i < all.size(); ++i) out += (i > from ? "; " : "") + all[i];
  return out;
}

// The first line of a process's output that says what went wrong.
std::string first_error(const std::string& out) {
  std::istringstream is(out);
  for (std::string line; std::getline(is, line);) {
    if (line.find("error") != std::string::npos || line.find("cannot") != std::string::npos) {
      return line;
    }
  }
  return tail(out, 2);
}

}  // namespace

bool have_program(const std::string& name) {
  const char* path = std::getenv("PATH");
  if (path == nullptr) return false;
  std::istringstream is(path);
  for (std::string dir; std::getline(is, dir, ':');) {
    const fs::path p = fs::path(dir.empty() ? "." : dir) / name;
    if (access(p.c_str(), X_OK) == 0) return true;
  }
  return false;
}

std::string missing_tools(Target t, bool run_qemu) {
  std::vector<std::string> missing;
  for (const char* p : {"make", "cc"}) {
    if (!have_program(p)) missing.emplace_back(p);
  }
  if (t != Target::kHost) {
    if (!have_program("arm-none-eabi-gcc")) missing.emplace_back("arm-none-eabi-gcc");
    if (!have_program("arm-none-eabi-size")) missing.emplace_back("arm-none-eabi-size");
    if (!fs::exists("/usr/lib/arm-none-eabi/lib/rdimon.specs") &&
        !fs::exists("/usr/arm-none-eabi/lib/rdimon.specs")) {
      missing.emplace_back("libnewlib-arm-none-eabi (rdimon.specs)");
    }
    if (run_qemu && !have_program("qemu-system-arm")) missing.emplace_back("qemu-system-arm");
  }
  return fmt::format("{}", fmt::join(missing, ", "));
}

Result<ProcessResult> run_process(const std::vector<std::string>& argv, const std::string& cwd,
                                  int timeout_s) {
  if (argv.empty()) return invalid_argument("cannot run a process: argv = empty, must name one");
  int fds[2];
  if (pipe(fds) != 0) return io_error("cannot run {}: pipe failed", argv[0]);
  const pid_t pid = fork();
  if (pid < 0) {
    close(fds[0]);
    close(fds[1]);
    return io_error("cannot run {}: fork failed", argv[0]);
  }
  if (pid == 0) {
    setpgid(0, 0);  // its own group: a timeout ends it and its children
    dup2(fds[1], 1);
    dup2(fds[1], 2);
    close(fds[0]);
    close(fds[1]);
    if (!cwd.empty() && chdir(cwd.c_str()) != 0) _exit(126);
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execvp(args[0], args.data());
    _exit(127);
  }
  close(fds[1]);
  ProcessResult r;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
  char buf[4096];
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                          deadline - std::chrono::steady_clock::now())
                          .count();
    if (left <= 0) {
      r.timed_out = true;
      kill(-pid, SIGKILL);
      break;
    }
    pollfd p{fds[0], POLLIN, 0};
    const int ready = poll(&p, 1, static_cast<int>(std::min<int64_t>(left, 1000)));
    if (ready < 0) break;
    if (ready == 0) continue;
    const ssize_t n = read(fds[0], buf, sizeof buf);
    if (n <= 0) break;
    if (r.output.size() < (1u << 20)) r.output.append(buf, static_cast<size_t>(n));
  }
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return r;
}

namespace {

Status make_target(const std::string& dir, const std::string& target) {
  EI8_ASSIGN_OR_RETURN(ProcessResult r, run_process({"make", "-C", dir, target}, "", 600));
  if (r.exit_code != 0 || r.timed_out) {
    return unsupported("cannot build {} in {}: make exit code = {}, must be 0: {}", target, dir,
                       r.exit_code, first_error(r.output));
  }
  return {};
}

}  // namespace

Status build_host(const std::string& dir) { return make_target(dir, "model_main"); }
Status build_firmware(const std::string& dir) { return make_target(dir, "firmware"); }

Status run_host(const std::string& dir, const std::string& input, const std::string& output) {
  const std::string exe = fs::absolute(fs::path(dir) / "model_main").string();
  EI8_ASSIGN_OR_RETURN(ProcessResult r, run_process({exe, input, output}, "", 600));
  if (r.exit_code != 0 || r.timed_out) {
    return unsupported("cannot run {}: exit code = {}, must be 0: {}", exe, r.exit_code,
                       tail(r.output, 2));
  }
  return {};
}

Status run_qemu(const std::string& dir, Target t, const std::string& input,
                const std::string& output, int timeout_s) {
  const Board b = board_of(t);
  if (b.qemu_machine.empty()) {
    return invalid_argument("cannot run under QEMU: target = {}, must be an MCU target",
                            target_name(t));
  }
  std::error_code ec;
  const fs::path elf = fs::absolute(fs::path(dir) / "firmware.elf");
  const fs::path tmp = fs::temp_directory_path() /
                       fmt::format("ei8_qemu_{}_{}", static_cast<long>(getpid()),
                                   std::chrono::steady_clock::now().time_since_epoch().count());
  fs::create_directories(tmp, ec);
  if (ec) return io_error("cannot create {}: {}", tmp.string(), ec.message());
  fs::copy_file(input, tmp / "in.bin", ec);
  if (ec) {
    fs::remove_all(tmp, ec);
    return io_error("cannot read {}: cannot copy it", input);
  }
  auto r = run_process(
      {"qemu-system-arm", "-M", std::string(b.qemu_machine), "-nographic", "-monitor", "none",
       "-serial", "none", "-semihosting-config",
       "enable=on,target=native,arg=model_main,arg=in.bin,arg=out.bin", "-kernel", elf.string()},
      tmp.string(), timeout_s);
  Status s;
  if (!r.ok()) {
    s = r.status();
  } else if (r->timed_out) {
    s = unsupported("cannot run {} under QEMU {}: time = over {} s, must finish", elf.string(),
                    b.qemu_machine, timeout_s);
  } else if (r->exit_code != 0) {
    s = unsupported("cannot run {} under QEMU {}: exit code = {}, must be 0: {}", elf.string(),
                    b.qemu_machine, r->exit_code, tail(r->output, 2));
  } else {
    fs::copy_file(tmp / "out.bin", output, fs::copy_options::overwrite_existing, ec);
    if (ec) s = io_error("cannot write {}: {}", output, ec.message());
  }
  fs::remove_all(tmp, ec);
  return s;
}

Result<FootprintReport> firmware_footprint(const std::string& dir, int64_t arena_bytes) {
  const fs::path d(dir);
  EI8_ASSIGN_OR_RETURN(
      ProcessResult r,
      run_process({"arm-none-eabi-size", (d / "fw/model.o").string(), (d / "fw/weights.o").string(),
                   (d / "fw/ei8_kernels.o").string(), (d / "firmware.elf").string()},
                  "", 60));
  if (r.exit_code != 0) {
    return unsupported("cannot size the firmware in {}: arm-none-eabi-size exit code = {}: {}", dir,
                       r.exit_code, tail(r.output, 2));
  }
  // Berkeley format: "text data bss dec hex filename".
  FootprintReport f;
  f.arena = arena_bytes;
  std::istringstream is(r.output);
  std::string line;
  std::getline(is, line);  // header
  for (int row = 0; row < 4 && std::getline(is, line); ++row) {
    std::istringstream ls(line);
    int64_t text = 0, data = 0, bss = 0;
    ls >> text >> data >> bss;
    if (row < 3) {
      f.model_flash += text + data;
      f.model_ram += data + bss;
    } else {
      f.firmware_text = text;
      f.firmware_data = data;
      f.firmware_bss = bss;
    }
  }
  // Stack: model_run's frame + the four largest frames of the kernels.
  int64_t run_frame = 0;
  std::vector<int64_t> kernel_frames;
  for (const char* su : {"fw/model.su", "fw/ei8_kernels.su"}) {
    std::ifstream in(d / su);
    for (std::string l; std::getline(in, l);) {
      const size_t tab = l.find('\t');
      if (tab == std::string::npos) continue;
      const int64_t bytes = std::atoll(l.c_str() + tab + 1);
      if (l.rfind(":model_run", tab) != std::string::npos) {
        run_frame = bytes;
      } else if (std::string_view(su) == "fw/ei8_kernels.su") {
        kernel_frames.push_back(bytes);
      }
    }
  }
  std::sort(kernel_frames.rbegin(), kernel_frames.rend());
  f.stack = run_frame;
  for (size_t i = 0; i < kernel_frames.size() && i < 4; ++i) f.stack += kernel_frames[i];
  f.model_ram += f.arena + f.stack;
  return f;
}

}  // namespace ei8::deploy
