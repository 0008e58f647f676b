// ei8/data/archive.h — the small pieces `data fetch` needs, each usable alone: gzip
// decompression (zlib), MD5 (RFC 1321) and a reader for POSIX ustar / GNU tar archives.
//
//   EI8_ASSIGN_OR_RETURN(std::string raw, gunzip_file("cifar-10-binary.tar.gz"));
//   std::string sum = md5_hex(bytes);                     // 32 lowercase hex digits
//   EI8_RETURN_IF_ERROR(untar(raw, "data/", "cifar-10-binary.tar.gz"));
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "ei8/core/status.h"

namespace ei8::data {

// Decompresses a whole gzip file (a file that is not gzip is returned as it is, as zlib's
// gzread does). A truncated or corrupt stream is an error naming `path`.
Result<std::string> gunzip_file(const std::string& path);
// Decompresses gzip bytes held in memory; `name` is used in error messages.
Result<std::string> gunzip(std::string_view bytes, std::string_view name);
// gzip-compresses `bytes` (level 6).
Result<std::string> gzip(std::string_view bytes);

std::string md5_hex(std::string_view bytes);
// MD5 of a file read in chunks (no whole-file copy).
Result<std::string> md5_file_hex(const std::string& path);

struct TarEntry {
  std::string name;  // path inside the archive
  bool is_dir = false;
  std::string data;  // regular files only
};
// Parses an uncompressed tar archive (ustar, GNU long names). Entries that are neither
// regular files nor directories are skipped. `name` is used in error messages.
Result<std::vector<TarEntry>> parse_tar(std::string_view bytes, std::string_view name);
// Extracts regular files and directories under `dir`, refusing absolute paths and "..".
Status untar(std::string_view bytes, const std::string& dir, std::string_view name);
// Builds a ustar archive (tests and tools).
std::string make_tar(const std::vector<TarEntry>& entries);

}  // namespace ei8::data
