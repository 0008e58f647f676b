#include "ei8/data/archive.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "ei8/core/npy.h"
#include "ei8/core/rng.h"
#include "ei8/data/dataset.h"
#include "ei8/data/fetch.h"

namespace ei8::data {
namespace {

namespace fs = std::filesystem;

// Test vectors of RFC 1321, appendix A.5.
TEST(Md5, Rfc1321Vectors) {
  EXPECT_EQ(md5_hex(""), "d41d8cd98f00b204e9800998ecf8427e");
  EXPECT_EQ(md5_hex("a"), "0cc175b9c0f1b6a831c399e269772661");
  EXPECT_EQ(md5_hex("abc"), "900150983cd24fb0d6963f7d28e17f72");
  EXPECT_EQ(md5_hex("message digest"), "f96b697d7cb7938d525a2f31aaf161d0");
  EXPECT_EQ(md5_hex("abcdefghijklmnopqrstuvwxyz"), "c3fcd3d76192e4007dfb496cca67e13b");
  EXPECT_EQ(
      md5_hex("12345678901234567890123456789012345678901234567890123456789012345678901234567890"),
      "57edf4a22be3c955ac49da2e2107b67a");
}

TEST(Md5, FileMatchesMemory) {
  const fs::path dir = fs::path(EI8_BINARY_DIR) / "test_tmp" / "data" / "md5";
  fs::create_directories(dir);
  std::string bytes(3'000'017, '\0');
  Rng rng(4);
  for (char& c : bytes) c = static_cast<char>(rng.next_u64());
  ASSERT_TRUE(write_file((dir / "f").string(), bytes).ok());
  auto h = md5_file_hex((dir / "f").string());
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(*h, md5_hex(bytes));
}

TEST(Gzip, RoundTripAndTruncation) {
  std::string bytes;
  for (int i = 0; i < 100000; ++i) bytes += static_cast<char>(i % 251);
  auto z = gzip(bytes);
  ASSERT_TRUE(z.ok());
  auto back = gunzip(*z, "mem");
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(*back, bytes);
  auto cut = gunzip(z->substr(0, z->size() - 20), "cut.gz");
  ASSERT_FALSE(cut.ok());
  EXPECT_NE(cut.status().message().find("cut.gz"), std::string::npos);
  std::string corrupt = *z;
  for (size_t i = 20; i < 60; ++i) corrupt[i] = static_cast<char>(corrupt[i] ^ 0x5a);
  EXPECT_FALSE(gunzip(corrupt, "bad.gz").ok());
  auto plain = gunzip("not gzip", "p");
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(*plain, "not gzip");
}

TEST(Tar, RoundTripUnpackAndRejectUnsafe) {
  std::vector<TarEntry> entries = {{"d", true, {}},
                                   {"d/a.bin", false, std::string(1000, 'x')},
                                   {"d/empty", false, {}},
                                   {"d/b.bin", false, "hello"}};
  const std::string tar = make_tar(entries);
  EXPECT_EQ(tar.size() % 512, 0u);
  auto parsed = parse_tar(tar, "t.tar");
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  ASSERT_EQ(parsed->size(), 4u);
  EXPECT_EQ((*parsed)[1].data, entries[1].data);
  EXPECT_EQ((*parsed)[3].name, "d/b.bin");

  const fs::path dir = fs::path(EI8_BINARY_DIR) / "test_tmp" / "data" / "untar";
  fs::remove_all(dir);
  ASSERT_TRUE(untar(tar, dir.string(), "t.tar").ok());
  auto b = read_file((dir / "d" / "b.bin").string());
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(*b, "hello");

  auto trunc = parse_tar(tar.substr(0, 1200), "t.tar");
  ASSERT_FALSE(trunc.ok());
  EXPECT_NE(trunc.status().message().find("truncated"), std::string::npos);
  std::string bad = tar;
  bad[10] = 'Z';  // header byte changes, checksum does not
  auto corrupt = parse_tar(bad, "t.tar");
  ASSERT_FALSE(corrupt.ok());
  EXPECT_NE(corrupt.status().message().find("checksum"), std::string::npos);
  EXPECT_FALSE(untar(make_tar({{"../evil", false, "x"}}), dir.string(), "e.tar").ok());
}

TEST(Fetch, WrongChecksumIsRefusedBeforeUnpacking) {
  const fs::path dir = fs::path(EI8_BINARY_DIR) / "test_tmp" / "data" / "fetch_md5";
  fs::remove_all(dir);
  fs::create_directories(dir);
  auto z = gzip(make_tar({{"cifar-10-batches-bin/test_batch.bin", false, "x"}}));
  ASSERT_TRUE(z.ok());
  ASSERT_TRUE(write_file((dir / "cifar-10-binary.tar.gz").string(), *z).ok());
  Status st = verify_and_unpack_cifar10((dir / "cifar-10-binary.tar.gz").string(), dir.string());
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find(kCifar10Md5), std::string::npos);
  EXPECT_FALSE(fs::exists(dir / "cifar-10-batches-bin"));
}

// An unreachable address fails quickly with the manual-install hint (no network needed:
// port 9 on localhost refuses the connection).
TEST(Fetch, UnreachableServerFailsFastWithInstructions) {
  const fs::path dir = fs::path(EI8_BINARY_DIR) / "test_tmp" / "data" / "fetch_offline";
  fs::remove_all(dir);
  FetchOptions o;
  o.dir = dir.string();
  o.url = "http://127.0.0.1:9/cifar-10-binary.tar.gz";
  o.connect_timeout_s = 2;
  o.progress = false;
  auto r = fetch_cifar10(o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("cifar-10-batches-bin"), std::string::npos)
      << r.status().message();
  EXPECT_FALSE(fs::exists(dir / "cifar-10-binary.tar.gz"));
}

TEST(Augment, FlipOnlyMirrorsAndCropKeepsPixelsOrFill) {
  Tensor x = Tensor::zeros(DType::kF32, {16, 2, 5, 7});
  auto v = x.span<float>();
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>(i % 70) + 1.0f;
  const Tensor orig = x;
  Rng rng(21);
  const std::vector<float> fill = {-1.0f, -2.0f};
  ASSERT_TRUE(augment_crop_flip(x, 0, true, fill, rng).ok());
  int mirrored = 0;
  for (int64_t n = 0; n < 16; ++n) {
    const float* a = orig.data<float>() + n * 70;
    const float* b = x.data<float>() + n * 70;
    const bool same = std::equal(a, a + 70, b);
    bool mirror = true;
    for (int c = 0; c < 2; ++c)
      for (int y = 0; y < 5; ++y)
        for (int xx = 0; xx < 7; ++xx)
          mirror &= b[(c * 5 + y) * 7 + xx] == a[(c * 5 + y) * 7 + 6 - xx];
    EXPECT_TRUE(same || mirror) << n;
    mirrored += mirror;
  }
  EXPECT_GT(mirrored, 0);
  EXPECT_LT(mirrored, 16);

  x = orig;
  ASSERT_TRUE(augment_crop_flip(x, 2, false, fill, rng).ok());
  for (int64_t n = 0; n < 16; ++n) {
    for (int c = 0; c < 2; ++c) {
      const float* a = orig.data<float>() + (n * 2 + c) * 35;
      const float* b = x.data<float>() + (n * 2 + c) * 35;
      for (int i = 0; i < 35; ++i) {
        EXPECT_TRUE(b[i] == fill[static_cast<size_t>(c)] || std::find(a, a + 35, b[i]) != a + 35);
      }
    }
  }
  EXPECT_FALSE(augment_crop_flip(x, 9, false, fill, rng).ok());
  EXPECT_FALSE(augment_crop_flip(x, 1, false, std::vector<float>{0.0f}, rng).ok());
}

}  // namespace
}  // namespace ei8::data
