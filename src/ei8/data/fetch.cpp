#include "ei8/data/fetch.h"

#include <curl/curl.h>

#include <cstdio>
#include <filesystem>
#include <memory>

#include "ei8/core/progress.h"
#include "ei8/data/archive.h"

namespace ei8::data {
namespace {

struct Sink {
  std::FILE* file = nullptr;
  std::unique_ptr<Progress> progress;
  curl_off_t reported = 0;
};

size_t write_cb(char* data, size_t size, size_t count, void* user) {
  auto* sink = static_cast<Sink*>(user);
  return std::fwrite(data, size, count, sink->file) * size;
}

int progress_cb(void* user, curl_off_t total, curl_off_t now, curl_off_t, curl_off_t) {
  auto* sink = static_cast<Sink*>(user);
  if (total > 0 && !sink->progress) {
    sink->progress = std::make_unique<Progress>("download", total / 1024, "KiB");
  }
  if (sink->progress && now / 1024 > sink->reported) {
    sink->progress->advance(now / 1024 - sink->reported);
    sink->reported = now / 1024;
  }
  return 0;
}

bool all_files_present(const std::filesystem::path& dir) {
  for (const char* f : {"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin",
                        "data_batch_4.bin", "data_batch_5.bin", "test_batch.bin"}) {
    if (!std::filesystem::exists(dir / f)) return false;
  }
  return true;
}

}  // namespace

Status download(const std::string& url, const std::string& path, const FetchOptions& o) {
  static const CURLcode init = curl_global_init(CURL_GLOBAL_DEFAULT);
  if (init != CURLE_OK) return internal_error("cannot initialize libcurl: code {}", int(init));
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), curl_easy_cleanup);
  if (!curl) return internal_error("cannot initialize libcurl: curl_easy_init failed");
  Sink sink;
  sink.file = std::fopen(path.c_str(), "wb");
  if (!sink.file) return io_error("cannot write {}: cannot open the file", path);
  char err[CURL_ERROR_SIZE] = {};
  curl_easy_setopt(curl.get(), CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl.get(), CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(curl.get(), CURLOPT_FAILONERROR, 1L);
  curl_easy_setopt(curl.get(), CURLOPT_CONNECTTIMEOUT, o.connect_timeout_s);
  curl_easy_setopt(curl.get(), CURLOPT_LOW_SPEED_LIMIT, 1024L);
  curl_easy_setopt(curl.get(), CURLOPT_LOW_SPEED_TIME, o.low_speed_timeout_s);
  curl_easy_setopt(curl.get(), CURLOPT_ERRORBUFFER, err);
  curl_easy_setopt(curl.get(), CURLOPT_WRITEFUNCTION, write_cb);
  curl_easy_setopt(curl.get(), CURLOPT_WRITEDATA, &sink);
  curl_easy_setopt(curl.get(), CURLOPT_NOSIGNAL, 1L);
  if (o.progress) {
    curl_easy_setopt(curl.get(), CURLOPT_XFERINFOFUNCTION, progress_cb);
    curl_easy_setopt(curl.get(), CURLOPT_XFERINFODATA, &sink);
    curl_easy_setopt(curl.get(), CURLOPT_NOPROGRESS, 0L);
  }
  const CURLcode rc = curl_easy_perform(curl.get());
  const bool closed = std::fclose(sink.file) == 0;
  if (sink.progress) sink.progress->finish();
  if (rc != CURLE_OK) {
    std::error_code ec;
    std::filesystem::remove(path, ec);
    return io_error("cannot download {}: {}", url, err[0] ? err : curl_easy_strerror(rc));
  }
  if (!closed) return io_error("cannot write {}: close failed (disk full?)", path);
  return {};
}

Status verify_and_unpack_cifar10(const std::string& archive, const std::string& dir) {
  EI8_ASSIGN_OR_RETURN(std::string sum, md5_file_hex(archive));
  if (sum != kCifar10Md5) {
    return data_loss(
        "cannot unpack {}: md5 = {}, must be {} (corrupt or incomplete download; "
        "delete it and fetch again)",
        archive, sum, kCifar10Md5);
  }
  EI8_ASSIGN_OR_RETURN(std::string tar, gunzip_file(archive));
  return untar(tar, dir, archive);
}

Result<std::string> fetch_cifar10(const FetchOptions& o) {
  namespace fs = std::filesystem;
  const fs::path target = fs::path(o.dir) / "cifar-10-batches-bin";
  if (all_files_present(target)) return target.string();
  std::error_code ec;
  fs::create_directories(o.dir, ec);
  if (ec) return io_error("cannot create directory {}: {}", o.dir, ec.message());
  const std::string archive = (fs::path(o.dir) / "cifar-10-binary.tar.gz").string();
  if (!fs::exists(archive)) {
    const Status st = download(o.url, archive + ".part", o);
    if (!st.ok()) {
      return make_status(
          st.code(),
          "{}. Without network, download {} elsewhere (MD5 {}) and either put it at {} and run "
          "this command again, or unpack it so that {}/data_batch_1.bin … test_batch.bin exist",
          st.message(), o.url, kCifar10Md5, archive, target.string());
    }
    fs::rename(archive + ".part", archive, ec);
    if (ec) return io_error("cannot rename {}.part: {}", archive, ec.message());
  }
  EI8_RETURN_IF_ERROR(verify_and_unpack_cifar10(archive, o.dir));
  if (!all_files_present(target)) {
    return data_loss(
        "cannot unpack {}: it does not contain cifar-10-batches-bin/ with the six "
        "batch files",
        archive);
  }
  return target.string();
}

}  // namespace ei8::data
