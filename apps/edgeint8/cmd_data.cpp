// edgeint8 data fetch — downloads and unpacks a dataset (CIFAR-10) with its checksum.
// edgeint8 data export — writes samples (and labels) of a dataset as .npy, the format
// `quantize --calib-data/--eval-data` and `analyze` read.
#include <fmt/format.h>

#include "cli.h"
#include "ei8/core/npy.h"
#include "ei8/core/output_files.h"
#include "ei8/data/dataset.h"
#include "ei8/data/fetch.h"

namespace ei8::cli {
namespace {

struct ExportArgs {
  std::string dataset, split = "test", dir, output, labels;
  int64_t count = 0;
  uint64_t seed = 0;
};

Status run_export(const ExportArgs& a) {
  if (a.split != "train" && a.split != "test") {
    return invalid_argument("cannot export dataset: --split = '{}', must be train or test",
                            a.split);
  }
  if (!a.labels.empty() && same_file(a.labels, a.output)) {
    return invalid_argument("cannot export dataset: --labels = '{}', must differ from -o '{}'",
                            a.labels, a.output);
  }
  EI8_RETURN_IF_ERROR(check_output_path(a.output, "-o"));
  if (!a.labels.empty()) EI8_RETURN_IF_ERROR(check_output_path(a.labels, "--labels"));
  if (a.count < 0) {
    return invalid_argument("cannot export dataset: --count = {}, must be >= 0", a.count);
  }
  data::DatasetOptions o;
  o.name = a.dataset;
  o.dir = a.dir;
  o.seed = a.seed;
  EI8_ASSIGN_OR_RETURN(data::SplitDataset ds, data::load_dataset(o));
  const data::Dataset& d = a.split == "train" ? ds.train : ds.test;
  if (a.count > d.size()) {
    return invalid_argument(
        "cannot export dataset: --count = {}, must be <= {} (the {} split's samples; 0 = all)",
        a.count, d.size(), a.split);
  }
  // Same draw as run-all's calibration subset for the same seed; count 0 keeps the whole
  // split in file order.
  const data::Dataset picked = a.count > 0 ? data::calibration_subset(d, a.count, a.seed) : d;
  // Samples and labels are written together or not at all.
  OutputFiles out;
  EI8_RETURN_IF_ERROR(out.add(a.output, serialize_npy(picked.samples)));
  std::string also;
  if (!a.labels.empty()) {
    EI8_RETURN_IF_ERROR(
        out.add(a.labels, serialize_npy(Tensor::from<int32_t>({picked.size()}, picked.labels))));
    also = fmt::format(", labels -> {}", a.labels);
  }
  EI8_RETURN_IF_ERROR(out.commit());
  fmt::print("{} {}: {} samples {} -> {}{}\n", a.dataset, a.split, picked.size(),
             shape_to_string(picked.samples.shape()), a.output, also);
  return Status{};
}

void register_data_export(CLI::App& data) {
  auto a = std::make_shared<ExportArgs>();
  CLI::App* sub = data.add_subcommand(
      "export",
      "Write samples of a dataset (normalized float32 [N, ...], as training saw them) and "
      "optionally their labels (int32 [N]) as .npy: calibration and evaluation data for "
      "quantize and analyze");
  sub->add_option("dataset", a->dataset, "synthetic | fashion-mnist | cifar10")
      ->required()
      ->check(CLI::IsMember({"synthetic", "fashion-mnist", "cifar10"}));
  sub->add_option("-o,--output", a->output, "Samples file (.npy)")->required();
  sub->add_option("--labels", a->labels, "Also write the labels to this .npy file");
  sub->add_option("--split", a->split, "train | test")->capture_default_str();
  sub->add_option("--count", a->count,
                  "Samples drawn at random without replacement (seeded); 0 = the whole split")
      ->capture_default_str();
  sub->add_option("--seed", a->seed, "Seed of the draw (and of the synthetic generator)")
      ->capture_default_str();
  sub->add_option("--dir", a->dir, "Dataset directory (default: where each dataset lives)");
  set_action(sub, [a]() { return run_export(*a); });
}

}  // namespace

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
  register_data_export(*data);
}

}  // namespace ei8::cli
