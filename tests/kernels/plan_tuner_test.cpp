// PlanTuner (kernels/plan_tuner.h): the fastest measured candidate wins and the runner-up is
// recorded; a tuning file answers without measuring and round-trips; entries of another CPU are
// kept and ignored; heuristic mode never measures; bad files give a one-line error.
#include "ei8/runtime/kernels/plan_tuner.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "ei8/runtime/kernels/cpu_features.h"

namespace ei8::kernels {
namespace {

std::string temp_file(const std::string& name) {
  return (std::filesystem::temp_directory_path() / name).string();
}

TEST(PlanTuner, PicksTheFastestAndRecordsTheRunnerUp) {
  PlanTuner t;
  const std::map<std::string, double> us = {{"a/x", 30.0}, {"b/y", 10.0}, {"c/z", 20.0}};
  int calls = 0;
  auto measure = [&](const std::string& plan, int runs) -> Result<double> {
    EXPECT_GE(runs, 1);
    ++calls;
    return us.at(plan);
  };
  Result<std::string> p = t.choose("layer 1", {"a/x", "b/y", "c/z"}, measure);
  ASSERT_TRUE(p.ok()) << p.status().message();
  EXPECT_EQ(*p, "b/y");
  EXPECT_GE(calls, 3);
  const TuneRecord* r = t.find("layer 1");
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->runner_up, "c/z");
  EXPECT_DOUBLE_EQ(r->us, 10.0);
  EXPECT_DOUBLE_EQ(r->runner_up_us, 20.0);
  EXPECT_EQ(r->candidates, 3);
  // Asked again: the table answers, nothing is measured.
  calls = 0;
  EXPECT_EQ(t.choose("layer 1", {"a/x", "b/y"}, measure).value(), "b/y");
  EXPECT_EQ(calls, 0);
  // A failing candidate is skipped; one candidate is not measured at all.
  auto failing = [&](const std::string& plan, int) -> Result<double> {
    if (plan == "b/y") return invalid_argument("cannot prepare x: plan = b/y, must be valid");
    return us.at(plan);
  };
  EXPECT_EQ(t.choose("layer 2", {"a/x", "b/y", "c/z"}, failing).value(), "c/z");
  EXPECT_EQ(t.choose("layer 3", {"a/x"}, measure).value(), "");
  EXPECT_EQ(t.decisions().size(), 2u);
}

TEST(PlanTuner, HeuristicModeNeverMeasures) {
  PlanTuner t({.mode = PlanTuner::Mode::kHeuristic});
  auto measure = [&](const std::string&, int) -> Result<double> {
    ADD_FAILURE() << "measured in heuristic mode";
    return 1.0;
  };
  EXPECT_EQ(t.choose("k", {"a/x", "b/y"}, measure).value(), "");
}

TEST(PlanTuner, FileRoundTripAnswersWithoutMeasuringAndKeepsOtherCpus) {
  const std::string path = temp_file("ei8_plan_tuner_test.tsv");
  {
    std::ofstream f(path);
    f << "# comment\n"
      << "Some Other CPU (x family 1 model 2) avx2\tlayer 1\tother/plan\t5.00\t\t0.00\n";
  }
  PlanTuner t;
  ASSERT_TRUE(t.load(path).ok());
  auto measure = [](const std::string& plan, int) -> Result<double> {
    return plan == "b/y" ? 1.0 : 2.0;
  };
  EXPECT_EQ(t.choose("layer 1", {"a/x", "b/y"}, measure).value(), "b/y");  // not the other CPU's
  ASSERT_TRUE(t.save(path).ok());
  PlanTuner u({.mode = PlanTuner::Mode::kHeuristic});
  ASSERT_TRUE(u.load(path).ok());
  EXPECT_EQ(u.choose("layer 1", {"a/x", "b/y"}, measure).value(), "b/y");
  ASSERT_NE(u.find("layer 1"), nullptr);
  EXPECT_TRUE(u.find("layer 1")->from_file);
  EXPECT_EQ(u.find("layer 1")->runner_up, "a/x");
  std::ifstream f(path);
  const std::string all((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  EXPECT_NE(all.find("Some Other CPU"), std::string::npos);
  EXPECT_NE(all.find(cpu_model_id()), std::string::npos);
  std::filesystem::remove(path);
  // A missing file is an empty table.
  EXPECT_TRUE(PlanTuner().load(temp_file("ei8_no_such_tuning_file.tsv")).ok());
}

TEST(PlanTuner, BadLinesGiveFileLineAndShape) {
  const std::string path = temp_file("ei8_plan_tuner_bad.tsv");
  for (const char* line : {"cpu\tkey\tplan\n", "cpu\tkey\tplan\tfast\t\t0\n",
                           "cpu\tkey\tplan\t-1\t\t0\n", "\tkey\tplan\t1\t\t0\n"}) {
    {
      std::ofstream f(path);
      f << "# header\n" << line;
    }
    PlanTuner t;
    const Status s = t.load(path);
    ASSERT_FALSE(s.ok()) << line;
    EXPECT_NE(s.message().find(path + ":2: cannot read tuning entry: columns = "),
              std::string::npos)
        << s.message();
  }
  std::filesystem::remove(path);
}

TEST(CpuModelId, NamesTheIsaAndHasNoTabs) {
  const std::string& id = cpu_model_id();
  EXPECT_FALSE(id.empty());
  EXPECT_EQ(id.find('\t'), std::string::npos);
  EXPECT_NE(id.find(std::string(isa_name(best_isa()))), std::string::npos);
}

}  // namespace
}  // namespace ei8::kernels
