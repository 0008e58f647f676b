// edgeint8 train — trains one of the two workloads with libtorch and writes checkpoints.
#include <fmt/format.h>

#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "cli.h"
#ifdef EI8_HAS_TORCH
#include "ei8/train/train.h"
#endif

namespace ei8::cli {

void register_train(CLI::App& app) {
  struct Args {
    std::string workload = "signal1d", dataset, data_dir, out;
    int epochs = 0, threads = 2;
    int64_t batch_size = 0, train_size = 0, test_size = 0, max_steps = 0;
    int stop_after = 0;
    double lr = 0;
    uint64_t seed = 0;
    bool resume = false, json = false;
  };
  auto args = std::make_shared<Args>();
  CLI::App* sub = app.add_subcommand(
      "train",
      "Train SignalCNN1D (signal1d, synthetic signals) or TinyCNN2D (tiny2d, fashion-mnist or "
      "cifar10) with libtorch; writes best.pt/last.pt + .json sidecars and history.csv to --out");
  sub->add_option("--workload", args->workload, "signal1d | tiny2d")
      ->check(CLI::IsMember({"signal1d", "tiny2d"}))
      ->capture_default_str();
  sub->add_option("--dataset", args->dataset,
                  "synthetic | fashion-mnist | cifar10 (default: synthetic for signal1d, "
                  "fashion-mnist for tiny2d)")
      ->check(CLI::IsMember({"synthetic", "fashion-mnist", "cifar10"}));
  sub->add_option("--data-dir", args->data_dir,
                  "dataset directory (default: /usr/share/datasets/fashion-mnist, "
                  "data/cifar-10-batches-bin)");
  sub->add_option("--epochs", args->epochs,
                  "epochs (0 = recipe default: signal1d 8, tiny2d 3 on fashion-mnist, 40 on "
                  "cifar10)");
  sub->add_option("--batch-size", args->batch_size, "batch size (0 = default: 128)");
  sub->add_option("--lr", args->lr,
                  "peak learning rate of the one-cycle schedule (0 = recipe default: 5e-3 "
                  "signal1d, 3e-3 tiny2d)");
  sub->add_option("--seed", args->seed, "seed of initialization, data order, augmentation")
      ->capture_default_str();
  sub->add_option("--out", args->out, "output directory")->required();
  sub->add_option("--threads", args->threads, "libtorch threads")->capture_default_str();
  sub->add_option("--train-size", args->train_size,
                  "synthetic: samples to generate (default 8000); others: use the first N");
  sub->add_option("--test-size", args->test_size, "as --train-size for the test split");
  sub->add_option("--max-steps", args->max_steps,
                  "at most this many batches per epoch (smoke "
                  "runs)");
  sub->add_flag("--resume", args->resume,
                "continue from OUT/last.pt (pass the same --epochs/--batch-size/--lr/--seed)");
  sub->add_option("--stop-after", args->stop_after,
                  "stop after this epoch of the schedule (finish later with --resume)");
  sub->add_flag("--json", args->json, "print the result as JSON on stdout (no progress bar)");
  set_action(sub, [args]() -> Status {
    // Each option checked on its own, before libtorch loads, naming the option.
    const std::pair<const char*, int64_t> counts[] = {
        {"--epochs", args->epochs},         {"--batch-size", args->batch_size},
        {"--train-size", args->train_size}, {"--test-size", args->test_size},
        {"--max-steps", args->max_steps},   {"--stop-after", args->stop_after}};
    for (const auto& [name, v] : counts) {
      if (v < 0) return invalid_argument("cannot train: {} = {}, must be >= 0", name, v);
    }
    if (!(args->lr >= 0) || !std::isfinite(args->lr)) {
      return invalid_argument(
          "cannot train: --lr = {}, must be finite and >= 0 (0 = recipe default)", args->lr);
    }
    if (args->threads < 1) {
      return invalid_argument("cannot train: --threads = {}, must be >= 1", args->threads);
    }
    if (args->epochs > 0 && args->stop_after > args->epochs) {
      return invalid_argument("cannot train: --stop-after = {}, must be <= --epochs = {}",
                              args->stop_after, args->epochs);
    }
    if (args->workload == "signal1d" && !args->dataset.empty() && args->dataset != "synthetic") {
      return invalid_argument(
          "cannot train signal1d: --dataset = '{}', must be synthetic (tiny2d trains on images)",
          args->dataset);
    }
    if (args->resume) {
      const std::filesystem::path last = std::filesystem::path(args->out) / "last.pt";
      if (!std::filesystem::exists(last)) {
        return not_found(
            "cannot resume training: --resume checkpoint {} = missing, must exist (train without "
            "--resume to start over)",
            last.string());
      }
    }
    if (std::filesystem::exists(args->out) && !std::filesystem::is_directory(args->out)) {
      return invalid_argument("cannot train: --out = '{}' is a file, must be a directory",
                              args->out);
    }
#ifdef EI8_HAS_TORCH
    train::TrainOptions o;
    EI8_ASSIGN_OR_RETURN(o.workload, train::parse_workload(args->workload));
    o.data.name = !args->dataset.empty()                     ? args->dataset
                  : o.workload == train::Workload::kSignal1D ? "synthetic"
                                                             : "fashion-mnist";
    o.data.dir = args->data_dir;
    o.data.train_size = args->train_size;
    o.data.test_size = args->test_size;
    o.epochs = args->epochs;
    o.batch_size = args->batch_size;
    o.lr = args->lr;
    o.seed = args->seed;
    o.out_dir = args->out;
    o.threads = args->threads;
    o.resume = args->resume;
    o.progress = !args->json;
    o.max_steps_per_epoch = args->max_steps;
    o.stop_after_epoch = args->stop_after;
    EI8_ASSIGN_OR_RETURN(train::TrainResult r, train::train_model(o));
    if (args->json) {
      nlohmann::json hist = nlohmann::json::array();
      for (const auto& h : r.history) {
        hist.push_back({{"epoch", h.epoch},
                        {"train_loss", h.train_loss},
                        {"train_accuracy", h.train_accuracy},
                        {"test_accuracy", h.test_accuracy},
                        {"seconds", h.seconds}});
      }
      nlohmann::json j = {{"workload", std::string(train::workload_name(r.workload))},
                          {"dataset", r.dataset},
                          {"epochs", r.epochs},
                          {"test_accuracy", r.test_accuracy},
                          {"best_accuracy", r.best_accuracy},
                          {"best_epoch", r.best_epoch},
                          {"train_seconds", r.train_seconds},
                          {"cpu_seconds", r.cpu_seconds},
                          {"data_seconds", r.data_seconds},
                          {"threads", o.threads},
                          {"params", r.params},
                          {"checkpoint", r.checkpoint},
                          {"last_checkpoint", r.last_checkpoint},
                          {"history", hist}};
      fmt::print("{}\n", j.dump(2));
    } else {
      fmt::print(
          "{} on {}: test accuracy {:.2f}% (best {:.2f}% at epoch {}), {} epochs, {} parameters\n"
          "training {:.1f} s wall, {:.1f} s CPU ({} threads); data loading {:.1f} s\n"
          "checkpoint: {}\n",
          train::workload_name(r.workload), r.dataset, 100 * r.test_accuracy, 100 * r.best_accuracy,
          r.best_epoch, r.epochs, r.params, r.train_seconds, r.cpu_seconds, o.threads,
          r.data_seconds, r.checkpoint);
    }
    return Status{};
#else
    return unsupported("cannot train: libtorch = not built in, must be built with "
                       "EI8_WITH_TORCH=ON (the release preset)");
#endif
  });
}

}  // namespace ei8::cli
