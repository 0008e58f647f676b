#include "ei8/core/output_files.h"

#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

namespace ei8 {
namespace fs = std::filesystem;

namespace {

std::atomic<uint64_t> g_counter{0};

std::string normalized(const std::string& path) {
  std::error_code ec;
  fs::path p = fs::weakly_canonical(fs::absolute(path, ec), ec);
  return ec ? path : p.string();
}

Status write_bytes(const std::string& path, const std::string& shown, std::string_view bytes) {
  errno = 0;
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) {
    return io_error("cannot create {}: {}", shown, errno != 0 ? std::strerror(errno) : "error");
  }
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  out.close();
  if (!out) {
    return io_error("cannot write {}: {}", shown, errno != 0 ? std::strerror(errno) : "error");
  }
  return {};
}

}  // namespace

OutputFiles::OutputFiles(OutputFiles&& other) noexcept
    : pending_(std::move(other.pending_)), committed_(other.committed_) {
  other.pending_.clear();
}

OutputFiles::~OutputFiles() {
  if (!committed_) discard();
}

void OutputFiles::discard() {
  std::error_code ec;
  for (const Pending& p : pending_) {
    if (!p.temp.empty()) fs::remove(p.temp, ec);
  }
  pending_.clear();
}

Status OutputFiles::add(const std::string& path, std::string_view bytes) {
  if (committed_) {
    return internal_error("cannot add {} to an output transaction: state = committed, must be open",
                          path);
  }
  if (path.empty()) return invalid_argument("cannot write file: path = '', must name a file");
  std::error_code ec;
  const fs::file_status st = fs::status(path, ec);
  if (fs::is_directory(st)) {
    return invalid_argument("cannot write {}: path = a directory, must name a file", path);
  }
  const std::string key = normalized(path);
  for (const Pending& p : pending_) {
    if (p.key == key) {
      return invalid_argument(
          "cannot write {}: path = the same file as another output ({}), "
          "must differ",
          path, p.path);
    }
  }
  Pending p{.path = path, .key = key};
  if (fs::exists(st) && !fs::is_regular_file(st)) {
    p.direct.assign(bytes);  // /dev/null, /dev/stdout, a FIFO: written at commit
    pending_.push_back(std::move(p));
    return {};
  }
  const fs::path dest(path);
  const fs::path dir = dest.has_parent_path() ? dest.parent_path() : fs::path(".");
  if (!fs::is_directory(dir, ec)) {
    return io_error("cannot create {}: directory = '{}', must exist", path, dir.string());
  }
  p.temp = (dir / fmt::format(".{}.tmp-{}-{}", dest.filename().string(),
                              static_cast<long>(::getpid()), g_counter++))
               .string();
  Status s = write_bytes(p.temp, path, bytes);
  if (!s.ok()) {
    fs::remove(p.temp, ec);
    return s;
  }
  pending_.push_back(std::move(p));
  return {};
}

Status OutputFiles::commit() {
  for (size_t i = 0; i < pending_.size(); ++i) {
    Pending& p = pending_[i];
    Status s;
    if (p.temp.empty()) {
      s = write_bytes(p.path, p.path, p.direct);
    } else {
      std::error_code ec;
      fs::rename(p.temp, p.path, ec);
      if (ec)
        s = io_error("cannot write {}: {}", p.path, ec.message());
      else
        p.temp.clear();
    }
    if (!s.ok()) {
      // The files renamed so far stay (they are whole); the rest are removed.
      discard();
      committed_ = true;
      return s;
    }
  }
  pending_.clear();
  committed_ = true;
  return {};
}

}  // namespace ei8
