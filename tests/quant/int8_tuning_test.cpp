// Plans chosen by measurement (ExecutorOptions::tuner, kernels/plan_tuner.h) on the integer
// engine: tuning on and off give the same outputs bit for bit (whole batch, tiles), the tuner
// measured real candidates, and a tuning file written by one executor makes another prepare the
// very same plans without measuring.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <map>

#include "ei8/core/rng.h"
#include "ei8/graph/passes.h"
#include "ei8/quant/calibration.h"
#include "ei8/quant/int8_engine.h"
#include "ei8/runtime/int8_lowering.h"
#include "ei8/runtime/kernels/cpu_features.h"
#include "test_graphs.h"

namespace ei8::quant {
namespace {

QuantizedModel quantized_cnn() {
  Graph g = small_cnn(5);
  EXPECT_TRUE(optimize(g).ok());
  Rng rng(12);
  Tensor calib = random_tensor(rng, {32, 3, 8, 8}, -1.0f, 1.0f);
  auto st = collect_statistics(g, calib, {});
  EXPECT_TRUE(st.ok()) << st.status().message();
  PtqOptions po;
  po.weights = WeightGranularity::kPerChannel;
  CalibParams cp;
  cp = calib_target(po, cp);
  auto table = make_table(st.value(), cp);
  EXPECT_TRUE(table.ok()) << table.status().message();
  auto m = quantize_model(g, table.value(), po);
  EXPECT_TRUE(m.ok()) << m.status().message();
  return std::move(m).value();
}

std::map<std::string, std::string> variants_of(const Executor& ex) {
  std::map<std::string, std::string> v;
  for (const auto& [n, s] : ex.variants()) v[n] = s;
  return v;
}

TEST(Int8Tuning, TunedPlansGiveTheSameOutputsAndTheFileReproducesThem) {
  const QuantizedModel m = quantized_cnn();
  Rng rng(5);
  const Tensor x = random_tensor(rng, {7, 3, 8, 8}, -1.0f, 1.0f);
  auto e0 = make_int8_executor(m.qdq);
  ASSERT_TRUE(e0.ok()) << e0.status().message();
  auto y0 = e0->run({x});
  ASSERT_TRUE(y0.ok()) << y0.status().message();
  const std::string path =
      (std::filesystem::temp_directory_path() / "ei8_int8_tuning_test.tsv").string();
  std::map<std::string, std::string> tuned_variants;
  for (int64_t tile : {0, 3, 7}) {  // auto tiles, 3 + 3 + 1, the whole batch
    ExecutorOptions opt;
    opt.batch_tile = tile;
    opt.tuner = std::make_shared<kernels::PlanTuner>(
        kernels::PlanTuner::Options{kernels::PlanTuner::Mode::kMeasure, 5.0});
    auto e1 = make_int8_executor(m.qdq, {}, opt);
    ASSERT_TRUE(e1.ok()) << e1.status().message();
    auto y1 = e1->run({x});
    ASSERT_TRUE(y1.ok()) << y1.status().message();
    EXPECT_EQ(std::memcmp(y0.value()[0].raw(), y1.value()[0].raw(), y0.value()[0].nbytes()), 0)
        << "tile " << tile;
    if (kernels::isa_available(kernels::Isa::kAvx2)) {
      // At least one layer had several candidates (tiers or plans) and was measured.
      EXPECT_FALSE(opt.tuner->decisions().empty()) << "tile " << tile;
      EXPECT_FALSE(e1->tuning().empty());
    }
    if (tile == 7) {
      ASSERT_TRUE(opt.tuner->save(path).ok());
      tuned_variants = variants_of(*e1);
    }
  }
  // A fresh executor with the file and no measuring prepares the same plans, same outputs.
  ExecutorOptions opt;
  opt.batch_tile = 7;
  opt.tuner = std::make_shared<kernels::PlanTuner>(
      kernels::PlanTuner::Options{kernels::PlanTuner::Mode::kHeuristic});
  ASSERT_TRUE(opt.tuner->load(path).ok());
  auto e2 = make_int8_executor(m.qdq, {}, opt);
  ASSERT_TRUE(e2.ok()) << e2.status().message();
  auto y2 = e2->run({x});
  ASSERT_TRUE(y2.ok()) << y2.status().message();
  EXPECT_EQ(variants_of(*e2), tuned_variants);
  EXPECT_EQ(std::memcmp(y0.value()[0].raw(), y2.value()[0].raw(), y0.value()[0].nbytes()), 0);
  for (const auto& r : opt.tuner->decisions()) EXPECT_TRUE(r.from_file) << r.key;
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace ei8::quant
