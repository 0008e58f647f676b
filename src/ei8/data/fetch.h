// ei8/data/fetch.h — `edgeint8 data fetch cifar10`: download the official archive with
// libcurl, check its MD5, unpack it. It never hangs: the connection attempt times out after a
// few seconds and a stalled transfer is abandoned; offline, the error says where to put the
// files by hand.
//
//   FetchOptions o;  o.dir = "data";
//   EI8_ASSIGN_OR_RETURN(std::string where, fetch_cifar10(o));  // "data/cifar-10-batches-bin"
#pragma once

#include <string>

#include "ei8/core/status.h"

namespace ei8::data {

inline constexpr const char* kCifar10Url =
    "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz";
inline constexpr const char* kCifar10Md5 = "c58f30108f718f92721af3b95e74349a";

struct FetchOptions {
  std::string dir = "data";  // the archive unpacks to <dir>/cifar-10-batches-bin/
  std::string url = kCifar10Url;
  long connect_timeout_s = 10;    // seconds to establish the connection
  long low_speed_timeout_s = 30;  // abort when < 1 KB/s for this long
  bool progress = true;
};

// Downloads `url` to `path` (HTTP errors and timeouts are errors naming the URL).
Status download(const std::string& url, const std::string& path, const FetchOptions& o);

// Checks an archive already on disk against kCifar10Md5 and unpacks it into `dir`.
Status verify_and_unpack_cifar10(const std::string& archive, const std::string& dir);

// Fetches CIFAR-10 unless <dir>/cifar-10-batches-bin already holds its six files; returns
// that directory.
Result<std::string> fetch_cifar10(const FetchOptions& o);

}  // namespace ei8::data
