// The only translation unit that includes libtorch: models, training loop, checkpoints. It is
// built as the loadable module libei8_torch.so (torch_api.h): programs load libtorch only when
// they train or read a checkpoint, not at every start.
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <ctime>
#include <filesystem>
#include <fstream>
#if defined(__GLIBC__)
#include <malloc.h>
#endif
#include <nlohmann/json.hpp>
#include <numbers>
#include <numeric>

#include "ei8/core/npy.h"
#include "ei8/core/progress.h"
#include "ei8/core/rng.h"
#include "ei8/train/torch_api.h"
#include "ei8/train/train.h"

namespace ei8::train {
namespace fs = std::filesystem;
using json = nlohmann::json;

// ------------------------------------------------------------------------------- models ----

struct SignalCNN1DImpl : torch::nn::Module {
  explicit SignalCNN1DImpl(int64_t in_channels, int64_t classes)
      : conv1(register_module("conv1", torch::nn::Conv1d(opts(in_channels, 16)))),
        conv2(register_module("conv2", torch::nn::Conv1d(opts(16, 32)))),
        conv3(register_module("conv3", torch::nn::Conv1d(opts(32, 64)))),
        fc(register_module("fc", torch::nn::Linear(64, classes))) {}
  static torch::nn::Conv1dOptions opts(int64_t in, int64_t out) {
    return torch::nn::Conv1dOptions(in, out, 9).stride(2).padding(4);
  }
  torch::Tensor forward(torch::Tensor x) {
    x = torch::relu(conv1(x));
    x = torch::relu(conv2(x));
    x = torch::relu(conv3(x));
    x = x.mean(2);  // AdaptiveAvgPool1d(1) + flatten
    return fc(x);
  }
  torch::nn::Conv1d conv1, conv2, conv3;
  torch::nn::Linear fc;
};
TORCH_MODULE(SignalCNN1D);

struct TinyCNN2DImpl : torch::nn::Module {
  explicit TinyCNN2DImpl(int64_t in_channels, int64_t classes)
      : conv1(register_module("conv1", torch::nn::Conv2d(opts(in_channels, 32)))),
        bn1(register_module("bn1", torch::nn::BatchNorm2d(32))),
        conv2(register_module("conv2", torch::nn::Conv2d(opts(32, 64)))),
        bn2(register_module("bn2", torch::nn::BatchNorm2d(64))),
        conv3(register_module("conv3", torch::nn::Conv2d(opts(64, 128)))),
        bn3(register_module("bn3", torch::nn::BatchNorm2d(128))),
        fc(register_module("fc", torch::nn::Linear(128 * 4 * 4, classes))) {}
  static torch::nn::Conv2dOptions opts(int64_t in, int64_t out) {
    return torch::nn::Conv2dOptions(in, out, 3).padding(1);
  }
  // Conv → BN → ReLU → MaxPool; ReLU and max pooling commute, so ReLU runs on the pooled
  // (4× smaller) tensor: the same function, 2 % cheaper per step.
  torch::Tensor forward(torch::Tensor x) {
    x = torch::relu(torch::max_pool2d(bn1(conv1(x)), 2));
    x = torch::relu(torch::max_pool2d(bn2(conv2(x)), 2));
    x = torch::relu(torch::max_pool2d(bn3(conv3(x)), 2));
    return fc(x.flatten(1));
  }
  torch::nn::Conv2d conv1;
  torch::nn::BatchNorm2d bn1;
  torch::nn::Conv2d conv2;
  torch::nn::BatchNorm2d bn2;
  torch::nn::Conv2d conv3;
  torch::nn::BatchNorm2d bn3;
  torch::nn::Linear fc;
};
TORCH_MODULE(TinyCNN2D);

namespace {

// One type for both workloads so the loop does not care which it trains.
struct Net {
  Workload workload;
  std::shared_ptr<torch::nn::Module> module;
  std::function<torch::Tensor(torch::Tensor)> forward;
};

Net make_net(Workload w, int64_t in_channels, int64_t classes) {
  if (w == Workload::kSignal1D) {
    SignalCNN1D m(in_channels, classes);
    return {w, m.ptr(), [m](torch::Tensor x) mutable { return m->forward(std::move(x)); }};
  }
  TinyCNN2D m(in_channels, classes);
  return {w, m.ptr(), [m](torch::Tensor x) mutable { return m->forward(std::move(x)); }};
}

int64_t count_params(const torch::nn::Module& m) {
  int64_t n = 0;
  for (const auto& p : m.parameters()) n += p.numel();
  return n;
}

torch::Tensor to_torch(const Tensor& t) {
  std::vector<int64_t> shape(t.shape().begin(), t.shape().end());
  if (t.dtype() == DType::kS32) {
    return torch::from_blob(const_cast<int32_t*>(t.data<int32_t>()), shape, torch::kInt32)
        .to(torch::kInt64);
  }
  return torch::from_blob(const_cast<float*>(t.data<float>()), shape, torch::kFloat32).clone();
}

Tensor from_torch(const torch::Tensor& t) {
  torch::Tensor c = t.detach().to(torch::kFloat32).contiguous();
  Shape shape(c.sizes().begin(), c.sizes().end());
  return Tensor::from<float>(
      shape, std::span<const float>(c.data_ptr<float>(), static_cast<size_t>(c.numel())));
}

// Wraps libtorch calls: its errors are exceptions, ours are Status values.
template <typename F>
Status guard(std::string_view what, F&& f) {
  try {
    return f();
  } catch (const std::exception& e) {
    std::string msg = e.what();
    if (const size_t nl = msg.find('\n'); nl != std::string::npos) msg.resize(nl);
    return io_error("cannot {}: libtorch: {}", what, msg);
  }
}

// One-cycle learning rate at `step` of `total` (cosine warm-up then cosine decay).
double one_cycle_lr(double peak, int64_t step, int64_t total) {
  const double pct_start = 0.25, div = 25.0, final_div = 1e4;
  const double warm = std::max(1.0, pct_start * static_cast<double>(total));
  const double s = static_cast<double>(step);
  const auto cos_interp = [](double a, double b, double t) {
    return b + (a - b) * 0.5 * (1.0 + std::cos(std::numbers::pi * std::clamp(t, 0.0, 1.0)));
  };
  if (s < warm) return cos_interp(peak / div, peak, s / warm);
  return cos_interp(peak, peak / final_div,
                    (s - warm) / std::max(1.0, static_cast<double>(total) - warm));
}

void set_lr(torch::optim::AdamW& opt, double lr) {
  for (auto& g : opt.param_groups()) static_cast<torch::optim::AdamWOptions&>(g.options()).lr(lr);
}

struct EvalStats {
  double loss = 0, accuracy = 0;
};

EvalStats evaluate(Net& net, const data::Dataset& d, int64_t batch) {
  torch::NoGradGuard no_grad;
  net.module->eval();
  double loss = 0;
  int64_t correct = 0;
  for (int64_t i = 0; i < d.size(); i += batch) {
    data::Batch b = d.batch(i, batch);
    torch::Tensor logits = net.forward(to_torch(b.x));
    torch::Tensor y = to_torch(b.y);
    loss += torch::nn::functional::cross_entropy(
                logits, y, torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum))
                .item<double>();
    correct += logits.argmax(1).eq(y).sum().item<int64_t>();
  }
  const double n = static_cast<double>(std::max<int64_t>(1, d.size()));
  return {loss / n, static_cast<double>(correct) / n};
}

json sidecar(Workload w, const data::Dataset& d, int epoch, double accuracy, int64_t params) {
  return json{{"format", "ei8-checkpoint-1"},
              {"workload", std::string(workload_name(w))},
              {"dataset", d.name.substr(0, d.name.find(':'))},
              {"input_shape", d.sample_shape()},
              {"num_classes", d.num_classes},
              {"epoch", epoch},
              {"test_accuracy", accuracy},
              {"params", params},
              {"mean", d.mean},
              {"std", d.stddev}};
}

Status write_json(const fs::path& p, const json& j) {
  return write_file(p.string(), j.dump(2) + "\n");
}

Result<json> read_sidecar(const std::string& checkpoint) {
  fs::path p(checkpoint);
  p.replace_extension(".json");
  EI8_ASSIGN_OR_RETURN(std::string text, read_file(p.string()));
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.contains("workload") || !j.contains("input_shape")) {
    return data_loss(
        "cannot read checkpoint sidecar {}: not a JSON object with workload and "
        "input_shape",
        p.string());
  }
  return j;
}

double cpu_seconds() { return static_cast<double>(std::clock()) / CLOCKS_PER_SEC; }

struct LoadedNet {
  Net net;
  json meta;
};

Result<LoadedNet> load_net(const std::string& path) {
  EI8_ASSIGN_OR_RETURN(json meta, read_sidecar(path));
  auto w = parse_workload(meta.value("workload", std::string()));
  if (!w.ok()) return w.status().with_context(path);
  const auto shape = meta["input_shape"].get<std::vector<int64_t>>();
  if (shape.empty()) return data_loss("cannot read checkpoint {}: input_shape is empty", path);
  LoadedNet out{make_net(*w, shape[0], meta.value("num_classes", 10)), meta};
  EI8_RETURN_IF_ERROR(guard("load checkpoint " + path, [&] {
    torch::serialize::InputArchive in;
    in.load_from(path);
    out.net.module->load(in);
    return Status{};
  }));
  out.net.module->eval();
  return out;
}

}  // namespace

// ----------------------------------------------------- the module's API (torch_api.h) ----

namespace {

int64_t workload_params_impl(Workload w, int64_t in_channels) {
  torch::NoGradGuard g;
  Net n = make_net(w, in_channels, w == Workload::kSignal1D ? 5 : 10);
  return count_params(*n.module);
}

Result<ModelWeights> load_checkpoint_impl(const std::string& path) {
  EI8_ASSIGN_OR_RETURN(LoadedNet ln, load_net(path));
  ModelWeights w;
  w.workload = ln.net.workload;
  w.dataset = ln.meta.value("dataset", std::string());
  w.input_shape = ln.meta["input_shape"].get<std::vector<int64_t>>();
  w.num_classes = ln.meta.value("num_classes", 0);
  w.epoch = ln.meta.value("epoch", 0);
  w.accuracy = ln.meta.value("test_accuracy", 0.0);
  w.mean = ln.meta.value("mean", std::vector<float>{});
  w.stddev = ln.meta.value("std", std::vector<float>{});
  for (const auto& item : ln.net.module->named_parameters()) {
    w.tensors.emplace_back(item.key(), from_torch(item.value()));
  }
  for (const auto& item : ln.net.module->named_buffers()) {
    if (item.value().scalar_type() != torch::kFloat32) continue;  // num_batches_tracked
    w.tensors.emplace_back(item.key(), from_torch(item.value()));
  }
  return w;
}

Result<Tensor> torch_forward_impl(const std::string& checkpoint, const Tensor& x, int threads) {
  EI8_ASSIGN_OR_RETURN(LoadedNet ln, load_net(checkpoint));
  torch::set_num_threads(std::max(1, threads));
  Tensor out;
  EI8_RETURN_IF_ERROR(guard("run checkpoint " + checkpoint, [&] {
    torch::NoGradGuard g;
    out = from_torch(ln.net.forward(to_torch(x)));
    return Status{};
  }));
  return out;
}

Result<double> torch_accuracy_impl(const std::string& checkpoint, const data::Dataset& d,
                                   int threads) {
  EI8_ASSIGN_OR_RETURN(LoadedNet ln, load_net(checkpoint));
  torch::set_num_threads(std::max(1, threads));
  double acc = 0;
  EI8_RETURN_IF_ERROR(guard("evaluate checkpoint " + checkpoint, [&] {
    acc = evaluate(ln.net, d, 256).accuracy;
    return Status{};
  }));
  return acc;
}

Result<TrainResult> train_model_impl(const TrainOptions& o) {
  const Recipe recipe = default_recipe(o.workload, o.data.name);
  const int epochs = o.epochs > 0 ? o.epochs : recipe.epochs;
  const int64_t batch = o.batch_size > 0 ? o.batch_size : recipe.batch_size;
  const double peak_lr = o.lr > 0 ? o.lr : recipe.lr;
  // One check per option, so the message names the one that is wrong.
  if (o.epochs < 0) return invalid_argument("cannot train: epochs = {}, must be >= 0", o.epochs);
  if (o.batch_size < 0) {
    return invalid_argument("cannot train: batch_size = {}, must be >= 0", o.batch_size);
  }
  if (!(o.lr >= 0) || !std::isfinite(o.lr)) {  // NaN fails `>= 0`
    return invalid_argument("cannot train: lr = {}, must be finite and >= 0 (0 = recipe default)",
                            o.lr);
  }
  if (o.threads < 1) return invalid_argument("cannot train: threads = {}, must be >= 1", o.threads);
  if (o.out_dir.empty()) return invalid_argument("cannot train: out_dir is empty, must be a path");
  if (o.workload == Workload::kSignal1D && o.data.name != "synthetic") {
    return invalid_argument("cannot train signal1d: dataset = '{}', must be synthetic",
                            o.data.name);
  }
  if (o.workload == Workload::kTiny2D && o.data.name == "synthetic") {
    return invalid_argument(
        "cannot train tiny2d: dataset = 'synthetic', must be fashion-mnist "
        "or cifar10");
  }
  const auto data_start = std::chrono::steady_clock::now();
  data::DatasetOptions dopt = o.data;
  if (dopt.name == "synthetic" && dopt.seed == 0) dopt.seed = o.seed;
  EI8_ASSIGN_OR_RETURN(data::SplitDataset ds, data::load_dataset(dopt));
  TrainResult r;
  r.workload = o.workload;
  r.dataset = o.data.name;
  r.epochs = epochs;
  r.data_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - data_start).count();
  if (ds.train.size() == 0 || ds.test.size() == 0) {
    return invalid_argument("cannot train on {}: train size = {}, test size = {}, must be > 0",
                            o.data.name, ds.train.size(), ds.test.size());
  }

  std::error_code ec;
  fs::create_directories(o.out_dir, ec);
  if (ec) return io_error("cannot create directory {}: {}", o.out_dir, ec.message());
  const fs::path dir(o.out_dir);
  r.checkpoint = (dir / "best.pt").string();
  r.last_checkpoint = (dir / "last.pt").string();

#if defined(__GLIBC__)
  // glibc serves every block above 128 KiB-32 MiB with a fresh mmap and returns freed heap tops to
  // the kernel, so each step's 16 MB activations fault their pages in again: measured 23 % of a
  // TinyCNN2D step (1.82 → 1.40 ms per sample, batch 128, 2 threads). Keep freed blocks instead.
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
#endif
  torch::set_num_threads(o.threads);
  torch::manual_seed(o.seed);
  Net net = make_net(o.workload, ds.train.sample_shape()[0], ds.train.num_classes);
  r.params = count_params(*net.module);
  torch::optim::AdamW opt(net.module->parameters(),
                          torch::optim::AdamWOptions(peak_lr).weight_decay(recipe.weight_decay));

  const int64_t n = ds.train.size();
  int64_t steps = (n + batch - 1) / batch;
  if (o.max_steps_per_epoch > 0) steps = std::min(steps, o.max_steps_per_epoch);
  const int64_t total_steps = steps * epochs;

  int start_epoch = 1;
  if (o.resume && !fs::exists(r.last_checkpoint)) {
    return not_found(
        "cannot resume training: checkpoint = {} (missing), must exist (train without "
        "--resume to start over)",
        r.last_checkpoint);
  }
  if (o.resume) {
    EI8_ASSIGN_OR_RETURN(json meta, read_sidecar(r.last_checkpoint));
    if (meta.value("workload", "") != workload_name(o.workload)) {
      return invalid_argument("cannot resume {}: workload = {}, must be {}", r.last_checkpoint,
                              meta.value("workload", ""), workload_name(o.workload));
    }
    EI8_RETURN_IF_ERROR(guard("resume from " + r.last_checkpoint, [&] {
      torch::serialize::InputArchive in;
      in.load_from(r.last_checkpoint);
      net.module->load(in);
      torch::serialize::InputArchive oin;
      oin.load_from((dir / "last.optim.pt").string());
      opt.load(oin);
      return Status{};
    }));
    start_epoch = meta.value("epoch", 0) + 1;
    for (const auto& h : meta.value("history", json::array())) {
      r.history.push_back({h.value("epoch", 0), h.value("lr", 0.0), h.value("train_loss", 0.0),
                           h.value("train_accuracy", 0.0), h.value("test_loss", 0.0),
                           h.value("test_accuracy", 0.0), h.value("seconds", 0.0)});
    }
    for (const auto& h : r.history) {
      if (h.test_accuracy > r.best_accuracy)
        r.best_accuracy = h.test_accuracy, r.best_epoch = h.epoch;
    }
    r.test_accuracy = r.history.empty() ? 0.0 : r.history.back().test_accuracy;
  }

  // Per-channel fill for augmentation: the normalized value of a black pixel.
  std::vector<float> fill;
  for (size_t c = 0; c < ds.train.mean.size(); ++c)
    fill.push_back(-ds.train.mean[c] / ds.train.stddev[c]);

  const auto wall0 = std::chrono::steady_clock::now();
  const double cpu0 = cpu_seconds();
  Progress::set_enabled(o.progress);
  Status loop = guard("train " + std::string(workload_name(o.workload)), [&]() -> Status {
    torch::nn::functional::CrossEntropyFuncOptions ce;
    ce.label_smoothing(recipe.label_smoothing);
    const int end_epoch = o.stop_after_epoch > 0 ? std::min(epochs, o.stop_after_epoch) : epochs;
    for (int epoch = start_epoch; epoch <= end_epoch; ++epoch) {
      const auto t0 = std::chrono::steady_clock::now();
      // Data order and augmentation depend only on (seed, epoch): resuming reproduces them.
      Rng rng(o.seed * 1000003ULL + static_cast<uint64_t>(epoch));
      std::vector<int64_t> order(static_cast<size_t>(n));
      std::iota(order.begin(), order.end(), 0);
      rng.shuffle(std::span<int64_t>(order));
      net.module->train();
      Progress bar(fmt::format("epoch {}/{}", epoch, epochs), steps, "batch");
      double loss_sum = 0;
      int64_t correct = 0, seen = 0;
      double lr = peak_lr;
      for (int64_t s = 0; s < steps; ++s) {
        const int64_t begin = s * batch, count = std::min(batch, n - begin);
        data::Batch b = ds.train.gather(std::span<const int64_t>(order).subspan(
            static_cast<size_t>(begin), static_cast<size_t>(count)));
        if (recipe.augment && b.x.rank() == 4) {
          EI8_RETURN_IF_ERROR(data::augment_crop_flip(b.x, 4, true, fill, rng));
        }
        lr = one_cycle_lr(peak_lr, (epoch - 1) * steps + s, total_steps);
        set_lr(opt, lr);
        torch::Tensor x = to_torch(b.x), y = to_torch(b.y);
        opt.zero_grad();
        torch::Tensor logits = net.forward(x);
        torch::Tensor loss = torch::nn::functional::cross_entropy(logits, y, ce);
        loss.backward();
        opt.step();
        loss_sum += loss.item<double>() * static_cast<double>(count);
        correct += logits.argmax(1).eq(y).sum().item<int64_t>();
        seen += count;
        bar.advance(
            1,
            fmt::format("loss {:.4f} acc {:.2f}% lr {:.2e}", loss_sum / static_cast<double>(seen),
                        100.0 * static_cast<double>(correct) / static_cast<double>(seen), lr));
      }
      const EvalStats ev = evaluate(net, ds.test, 256);
      EpochStats st{epoch,
                    lr,
                    loss_sum / static_cast<double>(std::max<int64_t>(1, seen)),
                    static_cast<double>(correct) / static_cast<double>(std::max<int64_t>(1, seen)),
                    ev.loss,
                    ev.accuracy,
                    std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count()};
      bar.finish(fmt::format("loss {:.4f} train {:.2f}% test {:.2f}%", st.train_loss,
                             100 * st.train_accuracy, 100 * st.test_accuracy));
      r.history.push_back(st);
      r.test_accuracy = st.test_accuracy;

      json hist = json::array();
      for (const auto& h : r.history) {
        hist.push_back({{"epoch", h.epoch},
                        {"lr", h.lr_end},
                        {"train_loss", h.train_loss},
                        {"train_accuracy", h.train_accuracy},
                        {"test_loss", h.test_loss},
                        {"test_accuracy", h.test_accuracy},
                        {"seconds", h.seconds}});
      }
      json meta = sidecar(o.workload, ds.test, epoch, st.test_accuracy, r.params);
      meta["data_seed"] = dopt.seed;  // regenerates the synthetic splits
      meta["train_size"] = ds.train.size();
      meta["test_size"] = ds.test.size();
      torch::serialize::OutputArchive out;
      net.module->save(out);
      out.save_to(r.last_checkpoint);
      torch::serialize::OutputArchive oout;
      opt.save(oout);
      oout.save_to((dir / "last.optim.pt").string());
      meta["history"] = hist;
      EI8_RETURN_IF_ERROR(write_json(dir / "last.json", meta));
      if (st.test_accuracy > r.best_accuracy || r.best_epoch == 0) {
        r.best_accuracy = st.test_accuracy;
        r.best_epoch = epoch;
        out.save_to(r.checkpoint);
        meta.erase("history");
        EI8_RETURN_IF_ERROR(write_json(dir / "best.json", meta));
      }
    }
    return Status{};
  });
  Progress::set_enabled(true);
  EI8_RETURN_IF_ERROR(loop);
  r.train_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
  r.cpu_seconds = cpu_seconds() - cpu0;

  std::string csv = "epoch,lr,train_loss,train_accuracy,test_loss,test_accuracy,seconds\n";
  for (const auto& h : r.history) {
    csv += fmt::format("{},{:.6g},{:.6f},{:.6f},{:.6f},{:.6f},{:.3f}\n", h.epoch, h.lr_end,
                       h.train_loss, h.train_accuracy, h.test_loss, h.test_accuracy, h.seconds);
  }
  EI8_RETURN_IF_ERROR(write_file((dir / "history.csv").string(), csv));
  return r;
}

const TorchApi kApi{kTorchApiVersion,   train_model_impl,    load_checkpoint_impl,
                    torch_forward_impl, torch_accuracy_impl, workload_params_impl};

}  // namespace
}  // namespace ei8::train

extern "C" [[gnu::visibility("default")]] const ei8::train::TorchApi* ei8_torch_api() {
  return &ei8::train::kApi;
}
