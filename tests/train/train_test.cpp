#include <gtest/gtest.h>

#include <filesystem>

#include "ei8/core/npy.h"
#include "ei8/train/train.h"

namespace ei8::train {
namespace {

namespace fs = std::filesystem;

std::string out_dir(const std::string& name) {
  const fs::path p = fs::path(EI8_BINARY_DIR) / "test_tmp" / "train" / name;
  fs::remove_all(p);
  return p.string();
}

TrainOptions tiny_signal(const std::string& dir, int epochs) {
  TrainOptions o;
  o.workload = Workload::kSignal1D;
  o.data.name = "synthetic";
  o.data.train_size = 96;
  o.data.test_size = 40;
  o.epochs = epochs;
  o.batch_size = 16;
  o.seed = 5;
  o.threads = 1;
  o.progress = false;
  o.out_dir = dir;
  return o;
}

// Parameter counts derived layer by layer: conv (out·in·k + out), BN (2·C), linear (out·in + out).
TEST(Models, ParameterCountsMatchTheLayerFormulas) {
  const int64_t signal = (16 * 1 * 9 + 16) + (32 * 16 * 9 + 32) + (64 * 32 * 9 + 64) + (5 * 64 + 5);
  EXPECT_EQ(workload_params(Workload::kSignal1D, 1), signal);
  for (int64_t c : {1, 3}) {
    const int64_t tiny = (32 * c * 9 + 32) + 64 + (64 * 32 * 9 + 64) + 128 + (128 * 64 * 9 + 128) +
                         256 + (10 * 2048 + 10);
    EXPECT_EQ(workload_params(Workload::kTiny2D, c), tiny) << c;
  }
}

TEST(Train, FewStepsWriteCheckpointsAndLearn) {
  const std::string dir = out_dir("signal");
  TrainOptions o = tiny_signal(dir, 3);
  auto r = train_model(o);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->history.size(), 3u);
  EXPECT_EQ(r->params, workload_params(Workload::kSignal1D, 1));
  for (const char* f :
       {"best.pt", "best.json", "last.pt", "last.json", "last.optim.pt", "history.csv"}) {
    EXPECT_TRUE(fs::exists(fs::path(dir) / f)) << f;
  }
  // The loss goes down over three short epochs on an easy task.
  EXPECT_LT(r->history.back().train_loss, r->history.front().train_loss);
  auto w = load_checkpoint(r->checkpoint);
  ASSERT_TRUE(w.ok()) << w.status().message();
  EXPECT_EQ(w->workload, Workload::kSignal1D);
  EXPECT_EQ(w->input_shape, (Shape{1, 128}));
  EXPECT_EQ(w->params(), r->params);
  EXPECT_EQ(w->epoch, r->best_epoch);
  EXPECT_DOUBLE_EQ(w->accuracy, r->best_accuracy);
  ASSERT_NE(w->find("conv2.weight"), nullptr);
  EXPECT_EQ(w->find("conv2.weight")->shape(), (Shape{32, 16, 9}));
}

TEST(Train, SameSeedSameWeightsAndResumeContinuesExactly) {
  const std::string a = out_dir("det_a"), b = out_dir("det_b"), c = out_dir("det_c");
  auto ra = train_model(tiny_signal(a, 2));
  auto rb = train_model(tiny_signal(b, 2));
  ASSERT_TRUE(ra.ok() && rb.ok());
  // Resume: stop after epoch 1 of the 2-epoch schedule, then resume to finish it.
  TrainOptions first = tiny_signal(c, 2);
  first.stop_after_epoch = 1;
  auto r1 = train_model(first);
  ASSERT_TRUE(r1.ok()) << r1.status().message();
  EXPECT_EQ(r1->history.size(), 1u);
  TrainOptions second = tiny_signal(c, 2);
  second.resume = true;
  auto r2 = train_model(second);
  ASSERT_TRUE(r2.ok()) << r2.status().message();
  ASSERT_EQ(r2->history.size(), 2u);
  EXPECT_DOUBLE_EQ(r2->history[0].train_loss, ra->history[0].train_loss);
  EXPECT_DOUBLE_EQ(r2->history[1].train_loss, ra->history[1].train_loss);
  auto wc = load_checkpoint(r2->last_checkpoint);
  ASSERT_TRUE(wc.ok());
  auto wa = load_checkpoint(ra->last_checkpoint), wb = load_checkpoint(rb->last_checkpoint);
  ASSERT_TRUE(wa.ok() && wb.ok());
  for (size_t i = 0; i < wa->tensors.size(); ++i) {
    auto x = wa->tensors[i].second.span<float>(), y = wb->tensors[i].second.span<float>();
    auto v = wc->tensors[i].second.span<float>();
    EXPECT_TRUE(std::equal(x.begin(), x.end(), y.begin())) << wa->tensors[i].first;
    EXPECT_TRUE(std::equal(x.begin(), x.end(), v.begin())) << "resumed " << wa->tensors[i].first;
  }
  TrainOptions other = tiny_signal(out_dir("det_d"), 2);
  other.seed = 6;
  auto rd = train_model(other);
  ASSERT_TRUE(rd.ok());
  auto wd = load_checkpoint(rd->last_checkpoint);
  ASSERT_TRUE(wd.ok());
  auto x = wa->find("conv1.weight")->span<float>(), z = wd->find("conv1.weight")->span<float>();
  EXPECT_FALSE(std::equal(x.begin(), x.end(), z.begin()));
}

TEST(Train, BadOptionsAndFilesAreErrors) {
  TrainOptions o = tiny_signal(out_dir("bad"), 1);
  o.data.name = "fashion-mnist";
  auto r = train_model(o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("must be synthetic"), std::string::npos);
  o = tiny_signal("", 1);
  EXPECT_FALSE(train_model(o).ok());
  o = tiny_signal(out_dir("bad2"), 1);
  o.threads = 0;
  EXPECT_FALSE(train_model(o).ok());

  const std::string dir = out_dir("bad_ckpt");
  fs::create_directories(dir);
  EXPECT_FALSE(load_checkpoint(dir + "/missing.pt").ok());
  ASSERT_TRUE(write_file(dir + "/x.json",
                         R"({"workload":"signal1d","input_shape":[1,128],"num_classes":5})")
                  .ok());
  ASSERT_TRUE(write_file(dir + "/x.pt", "this is not a torch archive").ok());
  auto w = load_checkpoint(dir + "/x.pt");
  ASSERT_FALSE(w.ok());
  EXPECT_NE(w.status().message().find("x.pt"), std::string::npos) << w.status().message();
  ASSERT_TRUE(write_file(dir + "/y.json", "{not json").ok());
  ASSERT_TRUE(write_file(dir + "/y.pt", "").ok());
  EXPECT_FALSE(load_checkpoint(dir + "/y.pt").ok());
  EXPECT_FALSE(parse_workload("resnet").ok());
}

}  // namespace
}  // namespace ei8::train
