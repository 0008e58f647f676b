#include "ei8/pipeline/pipeline.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "ei8/core/npy.h"

namespace ei8::pipeline {
namespace {
namespace fs = std::filesystem;

class PipelineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Per process and test: ctest -j and other checkouts run these at the same time.
    dir_ = (fs::temp_directory_path() /
            fmt::format("ei8_pipeline_test_{}_{}", ::getpid(),
                        ::testing::UnitTest::GetInstance()->current_test_info()->name()))
               .string();
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // A two-step chain: "make" writes a.txt from its settings; "copy" reads a.txt into b.txt.
  Pipeline chain(const std::string& text, int* make_runs, int* copy_runs) {
    Pipeline p(dir_);
    p.add({.name = "make",
           .settings = text,
           .outputs = {"a.txt"},
           .run = [text, make_runs](StepContext& c) -> Result<StepOutcome> {
             ++*make_runs;
             EI8_RETURN_IF_ERROR(write_file(c.path("a.txt"), text));
             return StepOutcome::ok("wrote a.txt");
           }});
    p.add({.name = "copy",
           .inputs = {"a.txt"},
           .outputs = {"b.txt"},
           .run = [copy_runs](StepContext& c) -> Result<StepOutcome> {
             ++*copy_runs;
             EI8_ASSIGN_OR_RETURN(std::string a, read_file(c.path("a.txt")));
             EI8_RETURN_IF_ERROR(write_file(c.path("b.txt"), a));
             return StepOutcome::ok();
           }});
    return p;
  }

  std::string dir_;
};

TEST_F(PipelineTest, RunsInOrderThenCachesUntilSomethingChanges) {
  int make = 0, copy = 0;
  PipelineSummary s1 = chain("v1", &make, &copy).run({.quiet = true});
  ASSERT_TRUE(s1.all_ok());
  EXPECT_EQ(s1.steps[0].state, StepState::kOk);
  EXPECT_EQ(read_file(dir_ + "/b.txt").value(), "v1");
  EXPECT_EQ(make, 1);
  EXPECT_EQ(copy, 1);

  PipelineSummary s2 = chain("v1", &make, &copy).run({.quiet = true});
  EXPECT_EQ(s2.steps[0].state, StepState::kCached);
  EXPECT_EQ(s2.steps[1].state, StepState::kCached);
  EXPECT_EQ(make, 1);

  // New settings upstream re-run both steps (the copy's input changed).
  chain("v2", &make, &copy).run({.quiet = true});
  EXPECT_EQ(make, 2);
  EXPECT_EQ(copy, 2);
  EXPECT_EQ(read_file(dir_ + "/b.txt").value(), "v2");

  // A deleted output re-runs only that step; --force re-runs all.
  fs::remove(dir_ + "/b.txt");
  chain("v2", &make, &copy).run({.quiet = true});
  EXPECT_EQ(make, 2);
  EXPECT_EQ(copy, 3);
  chain("v2", &make, &copy).run({.force = true, .quiet = true});
  EXPECT_EQ(make, 3);
  EXPECT_EQ(copy, 4);
}

// The cache checks what a step wrote, not only that it exists: an output truncated or edited
// since the step succeeded (same name, different bytes) re-runs the step.
TEST_F(PipelineTest, ATruncatedOrEditedOutputIsNotCached) {
  int make = 0, copy = 0;
  ASSERT_TRUE(chain("a model of 28 bytes, say", &make, &copy).run({.quiet = true}).all_ok());
  ASSERT_EQ(make, 1);
  // Truncated (as a killed export leaves models/signal1d.onnx): "make" re-runs; "copy" reads
  // the same bytes again afterwards and its own output is intact, so it stays cached.
  ASSERT_TRUE(write_file(dir_ + "/a.txt", "a model of").ok());
  PipelineSummary s = chain("a model of 28 bytes, say", &make, &copy).run({.quiet = true});
  EXPECT_EQ(s.steps[0].state, StepState::kOk);
  EXPECT_EQ(s.steps[1].state, StepState::kCached);
  EXPECT_EQ(make, 2);
  EXPECT_EQ(copy, 1);
  EXPECT_EQ(read_file(dir_ + "/a.txt").value(), "a model of 28 bytes, say");
  // Edited with the same size: the hash differs, "copy" re-runs.
  ASSERT_TRUE(write_file(dir_ + "/b.txt", "A MODEL OF 28 BYTES, SAY").ok());
  s = chain("a model of 28 bytes, say", &make, &copy).run({.quiet = true});
  EXPECT_EQ(s.steps[0].state, StepState::kCached);
  EXPECT_EQ(s.steps[1].state, StepState::kOk);
  EXPECT_EQ(copy, 2);
  EXPECT_EQ(read_file(dir_ + "/b.txt").value(), "a model of 28 bytes, say");
  // The record names each output with its size and hash.
  const std::string record = read_file(dir_ + "/.cache/copy.key").value();
  EXPECT_NE(record.find(fmt::format("24 {} b.txt\n", fnv1a_hex("a model of 28 bytes, say"))),
            std::string::npos)
      << record;
}

TEST_F(PipelineTest, FailureSkipsLaterStepsUnlessContinuing) {
  auto build = [this](int* ran) {
    Pipeline p(dir_);
    p.add({.name = "bad", .run = [](StepContext&) -> Result<StepOutcome> {
             return invalid_argument("cannot train model: epochs = 0, must be > 0");
           }});
    p.add({.name = "missing-part", .run = [](StepContext&) -> Result<StepOutcome> {
             return StepOutcome::skipped("the simulator is not built in");
           }});
    p.add({.name = "after", .run = [ran](StepContext&) -> Result<StepOutcome> {
             ++*ran;
             return StepOutcome::ok();
           }});
    return p;
  };
  int ran = 0;
  PipelineSummary s = build(&ran).run({.quiet = true});
  EXPECT_FALSE(s.all_ok());
  EXPECT_EQ(s.steps[0].state, StepState::kFailed);
  EXPECT_EQ(s.steps[0].detail, "cannot train model: epochs = 0, must be > 0");
  EXPECT_EQ(s.steps[2].state, StepState::kSkipped);
  EXPECT_EQ(ran, 0);

  s = build(&ran).run({.continue_on_error = true, .quiet = true});
  EXPECT_EQ(s.steps[1].state, StepState::kSkipped);
  EXPECT_EQ(s.steps[1].detail, "the simulator is not built in");
  EXPECT_EQ(s.steps[2].state, StepState::kOk);
  EXPECT_EQ(ran, 1);
  const report::Table t = s.table();
  EXPECT_EQ(t.num_rows(), 3u);
  EXPECT_EQ(t.text(0, "status").value(), "failed");
}

TEST(Fnv1a, KnownVectors) {
  EXPECT_EQ(fnv1a_hex(""), "cbf29ce484222325");
  EXPECT_EQ(fnv1a_hex("a"), "af63dc4c8601ec8c");
}

}  // namespace
}  // namespace ei8::pipeline
