#include "ei8/core/output_files.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "ei8/core/npy.h"

namespace ei8 {
namespace {
namespace fs = std::filesystem;

class OutputFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("ei8_output_files_" + std::to_string(getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string& f) const { return (dir_ / f).string(); }
  size_t entries() const {
    return static_cast<size_t>(std::distance(fs::directory_iterator(dir_), {}));
  }
  fs::path dir_;
};

TEST_F(OutputFilesTest, NothingIsVisibleUntilCommitThenEveryFileIs) {
  ASSERT_TRUE(write_file(path("a.txt"), "old").ok());
  {
    OutputFiles out;
    ASSERT_TRUE(out.add(path("a.txt"), "new a").ok());
    ASSERT_TRUE(out.add(path("b.txt"), "new b").ok());
    EXPECT_EQ(read_file(path("a.txt")).value(), "old");  // the old bytes until commit
    EXPECT_FALSE(fs::exists(path("b.txt")));
    ASSERT_TRUE(out.commit().ok());
  }
  EXPECT_EQ(read_file(path("a.txt")).value(), "new a");
  EXPECT_EQ(read_file(path("b.txt")).value(), "new b");
  EXPECT_EQ(entries(), 2u);  // no temporaries left
}

TEST_F(OutputFilesTest, AFailedAddLeavesNothingBehind) {
  {
    OutputFiles out;
    ASSERT_TRUE(out.add(path("x.npy"), "samples").ok());
    const Status s = out.add(path("nodir/y.npy"), "labels");
    EXPECT_FALSE(s.ok());
    EXPECT_NE(s.message().find("nodir"), std::string::npos) << s.message();
  }  // not committed: the temporary of x.npy is removed
  EXPECT_EQ(entries(), 0u);
}

TEST_F(OutputFilesTest, TheSameFileTwiceAndDirectoriesAreRefused) {
  OutputFiles out;
  ASSERT_TRUE(out.add(path("x.npy"), "1").ok());
  Status s = out.add(dir_.string() + "/./sub/../x.npy", "2");
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("must differ"), std::string::npos) << s.message();
  fs::create_directories(path("d"));
  s = out.add(path("d"), "3");
  EXPECT_NE(s.message().find("path = a directory, must name a file"), std::string::npos);
  EXPECT_FALSE(out.add("", "4").ok());
  out.discard();
  EXPECT_EQ(entries(), 1u);  // only d/
}

TEST_F(OutputFilesTest, SpecialFilesAreWrittenDirectlyAtCommit) {
  OutputFiles out;
  ASSERT_TRUE(out.add("/dev/null", "discarded").ok());
  ASSERT_TRUE(out.commit().ok());
  EXPECT_EQ(entries(), 0u);
  EXPECT_TRUE(fs::is_character_file("/dev/null"));
}

}  // namespace
}  // namespace ei8
