// edgeint8 data fetch — downloads and unpacks a dataset (CIFAR-10) with its checksum.
#include <fmt/format.h>

#include "cli.h"
#include "ei8/data/fetch.h"

namespace ei8::cli {

void register_data(CLI::App& app) {
  CLI::App* data = app.add_subcommand("data", "Dataset tools");
  data->require_subcommand(1);
  auto dir = std::make_shared<std::string>("data");
  auto timeout = std::make_shared<long>(10);
  CLI::App* fetch = data->add_subcommand(
      "fetch",
      "Download cifar10 (cifar-10-binary.tar.gz, 162 MB), check its MD5 and unpack it to "
      "DIR/cifar-10-batches-bin. Offline, put the archive at DIR/cifar-10-binary.tar.gz and run "
      "the command again");
  auto name = std::make_shared<std::string>();
  fetch->add_option("dataset", *name, "cifar10")->required()->check(CLI::IsMember({"cifar10"}));
  fetch->add_option("--dir", *dir, "where to put the data")->capture_default_str();
  fetch->add_option("--connect-timeout", *timeout, "seconds to wait for the server")
      ->capture_default_str();
  set_action(fetch, [dir, timeout]() -> Status {
    data::FetchOptions o;
    o.dir = *dir;
    o.connect_timeout_s = *timeout;
    EI8_ASSIGN_OR_RETURN(std::string where, data::fetch_cifar10(o));
    fmt::print("cifar10: {}\n", where);
    return Status{};
  });
}

}  // namespace ei8::cli
