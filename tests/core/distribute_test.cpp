// core/distribute.h in one process: exact records, shards that tile every range, part files
// and their merge (and its refusals), and map_points' order and failures over threads.
#include "ei8/core/distribute.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <limits>

#include "ei8/core/npy.h"
#include "ei8/core/rng.h"

namespace ei8::dist {
namespace {

namespace fs = std::filesystem;

uint64_t bits(double v) {
  uint64_t b = 0;
  std::memcpy(&b, &v, sizeof b);
  return b;
}

TEST(Record, RoundTripsEveryFieldExactly) {
  const double doubles[] = {0.0,
                            -0.0,
                            1.0 / 3.0,
                            std::numeric_limits<double>::quiet_NaN(),
                            std::numeric_limits<double>::infinity(),
                            std::numeric_limits<double>::denorm_min(),
                            -std::numeric_limits<double>::max()};
  RecordWriter w;
  for (double d : doubles) w.f64(d);
  w.i64(std::numeric_limits<int64_t>::min()).u64(~uint64_t{0}).boolean(true);
  w.str("").str(std::string("a\0b", 3));
  RecordReader r(w.bytes(), "test record");
  for (double d : doubles) EXPECT_EQ(bits(r.f64()), bits(d));
  EXPECT_EQ(r.i64(), std::numeric_limits<int64_t>::min());
  EXPECT_EQ(r.u64(), ~uint64_t{0});
  EXPECT_TRUE(r.boolean());
  EXPECT_EQ(r.str(), "");
  EXPECT_EQ(r.str(), std::string("a\0b", 3));
  EXPECT_TRUE(r.at_end());
  EXPECT_TRUE(r.status().ok());
}

TEST(Record, TruncatedOrTrailingBytesAreErrors) {
  RecordWriter w;
  w.u64(7).str("hello");
  for (size_t cut = 0; cut < w.bytes().size(); ++cut) {
    RecordReader r(std::string_view(w.bytes()).substr(0, cut), "cut record");
    (void)r.u64();
    (void)r.str();
    const Status st = r.status();
    ASSERT_FALSE(st.ok()) << "cut at " << cut;
    EXPECT_NE(st.message().find("cannot read cut record"), std::string::npos) << st.message();
  }
  const std::string longer = w.bytes() + "x";
  RecordReader r(longer, "long record");
  (void)r.u64();
  (void)r.str();
  EXPECT_FALSE(r.status().ok());
  EXPECT_TRUE(r.status(/*whole=*/false).ok());
  // A length field larger than the record does not allocate or read past the end.
  RecordWriter huge;
  huge.u64(~uint64_t{0} - 3);
  RecordReader h(huge.bytes(), "huge");
  EXPECT_EQ(h.str(), "");
  EXPECT_FALSE(h.status().ok());
}

TEST(Shard, ParsesIOverNAndRejectsTheRest) {
  Result<Shard> s = parse_shard("3/8");
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_EQ(s->index, 3u);
  EXPECT_EQ(s->count, 8u);
  for (const char* bad : {"", "3", "8/8", "9/8", "0/0", "-1/4", "1/-4", "a/4", "1/4x", "1//4", "/4",
                          "1/", "1/9999999999"}) {
    Result<Shard> b = parse_shard(bad);
    ASSERT_FALSE(b.ok()) << bad;
    EXPECT_EQ(b.status().message(),
              fmt::format("cannot parse --shard: value = '{}', must be i/N with 0 <= i < N", bad));
  }
}

TEST(Shard, RangesTileEveryPointCountOnce) {
  const uint64_t seed = 20261207;
  std::printf("seed %llu\n", static_cast<unsigned long long>(seed));
  Rng rng(seed);
  std::vector<std::pair<uint64_t, uint64_t>> cases = {
      {0, 1}, {0, 5}, {1, 1}, {1, 7}, {7, 7}, {8, 3}, {1000003, 17}, {uint64_t{1} << 40, 12}};
  for (int i = 0; i < 200; ++i) {
    cases.emplace_back(rng.uniform_int(0, 5000), rng.uniform_int(1, 67));
  }
  for (const auto& [n, count] : cases) {
    uint64_t expect = 0;
    for (uint64_t i = 0; i < count; ++i) {
      const auto [b, e] = shard_range(n, {i, count});
      ASSERT_EQ(b, expect) << n << " " << i << "/" << count;
      ASSERT_LE(e - b, n / count + 1);
      ASSERT_GE(e - b, n / count);
      expect = e;
    }
    ASSERT_EQ(expect, n) << n << " points in " << count;
  }
}

class Parts : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "ei8_parts_" + std::to_string(getpid()) + "_" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  // Shard i/count of a run of n points whose record j is "r<j>".
  std::string write_part(uint64_t i, uint64_t count, uint64_t n, std::string inputs = "run A",
                         std::string kind = "dse") {
    PartFile p{kind, inputs, {i, count}, n, {}, double(i)};
    const auto [b, e] = shard_range(n, p.shard);
    for (uint64_t j = b; j < e; ++j) p.records.push_back("r" + std::to_string(j));
    const std::string path = fmt::format("{}/p{}-{}-{}.part", dir_, i, count, inputs.size());
    EXPECT_TRUE(write_file(path, encode_part(p)).ok());
    return path;
  }
  std::string dir_;
};

TEST_F(Parts, MergeRebuildsTheRecordsInIndexOrderWhateverTheOrderOfTheFiles) {
  const std::vector<std::string> parts = {write_part(2, 3, 11), write_part(0, 3, 11),
                                          write_part(1, 3, 11)};
  Result<Merged> m = merge_parts(parts);
  ASSERT_TRUE(m.ok()) << m.status().message();
  EXPECT_EQ(m->kind, "dse");
  EXPECT_EQ(m->inputs, "run A");
  ASSERT_EQ(m->records.size(), 11u);
  for (size_t j = 0; j < 11; ++j) EXPECT_EQ(m->records[j], "r" + std::to_string(j));
  EXPECT_EQ(m->shard_seconds, (std::vector<double>{0, 1, 2}));
  // More shards than points: empty shards are parts too.
  std::vector<std::string> tiny;
  for (uint64_t i = 0; i < 5; ++i) tiny.push_back(write_part(i, 5, 2));
  Result<Merged> t = merge_parts(tiny);
  ASSERT_TRUE(t.ok()) << t.status().message();
  EXPECT_EQ(t->records, (std::vector<std::string>{"r0", "r1"}));
}

TEST_F(Parts, MissingRepeatedForeignAndCorruptPartsAreOneLineErrors) {
  const std::string p0 = write_part(0, 3, 11), p1 = write_part(1, 3, 11), p2 = write_part(2, 3, 11);
  auto error = [](const std::vector<std::string>& paths) {
    Result<Merged> m = merge_parts(paths);
    EXPECT_FALSE(m.ok());
    const std::string msg = m.ok() ? "" : m.status().message();
    EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
    return msg;
  };
  EXPECT_EQ(error({p0, p2}), "cannot merge shards: shard 1/3 = missing, must be given");
  EXPECT_NE(error({p0, p1, p1, p2}).find("shard = 1/3, must appear once (also in '" + p1 + "')"),
            std::string::npos);
  EXPECT_NE(error({p0, p1, write_part(2, 3, 11, "run B")}).find("(shards of another run)"),
            std::string::npos);
  EXPECT_NE(error({p0, p1, write_part(2, 4, 11)}).find("shard count = 4, must be 3"),
            std::string::npos);
  EXPECT_NE(error({p0, p1, write_part(2, 3, 11, "run A", "ptq-sweep")}).find("kind = ptq-sweep"),
            std::string::npos);
  EXPECT_NE(error({}).find("parts = 0"), std::string::npos);
  EXPECT_NE(error({dir_ + "/absent.part"}).find("absent.part"), std::string::npos);
  // Every truncation of a valid part, and a file that is not a part.
  Result<std::string> bytes = read_file(p1);
  ASSERT_TRUE(bytes.ok());
  for (size_t cut = 0; cut < bytes->size(); cut += 3) {
    const std::string cut_path = dir_ + "/cut.part";
    ASSERT_TRUE(write_file(cut_path, bytes->substr(0, cut)).ok());
    EXPECT_NE(error({p0, cut_path, p2}).find("cut.part"), std::string::npos) << cut;
  }
  ASSERT_TRUE(write_file(dir_ + "/text.part", "rows,cols\n1,2\n").ok());
  EXPECT_NE(error({dir_ + "/text.part"}).find("not a part file"), std::string::npos);
}

TEST(MapPoints, OneProcessReturnsEveryRecordInIndexOrderForAnyThreadCount) {
  ASSERT_FALSE(world().mpi);
  for (int threads : {1, 2, 3, 7}) {
    for (size_t n : {size_t{0}, size_t{1}, size_t{5}, size_t{257}}) {
      MapStats st;
      Result<std::vector<std::string>> r = map_points(
          n, [](size_t i) -> Result<std::string> { return std::to_string(i * i); },
          {.threads = threads}, &st);
      ASSERT_TRUE(r.ok()) << r.status().message();
      ASSERT_EQ(r->size(), n);
      for (size_t i = 0; i < n; ++i) ASSERT_EQ((*r)[i], std::to_string(i * i));
      EXPECT_EQ(st.points, n);
      EXPECT_EQ(st.sent_bytes, 0u);
    }
  }
}

TEST(MapPoints, AFailingPointIsTheResultAndBadOptionsAreErrors) {
  Result<std::vector<std::string>> r = map_points(
      100,
      [](size_t i) -> Result<std::string> {
        if (i == 42)
          return invalid_argument("cannot evaluate point: index = {}, must not be 42", i);
        return std::string("ok");
      },
      {.threads = 3});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "cannot evaluate point: index = 42, must not be 42");
  ASSERT_EQ(setenv("EI8_DIST_FAIL_POINT", "7", 1), 0);
  r = map_points(10, [](size_t) -> Result<std::string> { return std::string("ok"); },
                 {.threads = 2});
  unsetenv("EI8_DIST_FAIL_POINT");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("EI8_DIST_FAIL_POINT = 7"), std::string::npos);
  auto any = [](size_t) -> Result<std::string> { return std::string(); };
  EXPECT_EQ(map_points(3, any, {.threads = 0}).status().message(),
            "cannot map points: threads = 0, must be >= 1");
  EXPECT_FALSE(map_points(3, any, {.threads = 1, .static_fraction = 1.5}).ok());
}

}  // namespace
}  // namespace ei8::dist
