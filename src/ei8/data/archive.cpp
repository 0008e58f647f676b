#include "ei8/data/archive.h"

#include <zlib.h>

#include <array>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "ei8/core/npy.h"

namespace ei8::data {

// ---------------------------------------------------------------------------------- gzip ----

Result<std::string> gunzip(std::string_view bytes, std::string_view name) {
  if (bytes.size() < 2 || static_cast<uint8_t>(bytes[0]) != 0x1f ||
      static_cast<uint8_t>(bytes[1]) != 0x8b) {
    return std::string(bytes);  // not gzip: as zlib's gzread, pass it through
  }
  z_stream zs{};
  if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) {
    return internal_error("cannot decompress {}: inflateInit2 failed", name);
  }
  std::string out;
  out.resize(std::max<size_t>(bytes.size() * 3, 1 << 16));
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data()));
  zs.avail_in = static_cast<uInt>(bytes.size());
  int rc = Z_OK;
  size_t produced = 0;
  while (rc != Z_STREAM_END) {
    if (produced == out.size()) out.resize(out.size() * 2);
    zs.next_out = reinterpret_cast<Bytef*>(out.data() + produced);
    zs.avail_out = static_cast<uInt>(std::min<size_t>(out.size() - produced, 1u << 30));
    const uInt before = zs.avail_out;
    rc = inflate(&zs, Z_NO_FLUSH);
    produced += before - zs.avail_out;
    if (rc == Z_STREAM_END) break;
    if (rc != Z_OK && !(rc == Z_BUF_ERROR && zs.avail_out == 0)) {
      const std::string why = rc == Z_BUF_ERROR ? "the stream ends early (truncated file)"
                                                : (zs.msg ? zs.msg : "corrupt data");
      inflateEnd(&zs);
      return data_loss("cannot decompress {}: {}", name, why);
    }
    if (zs.avail_in == 0 && zs.avail_out != 0) {
      inflateEnd(&zs);
      return data_loss("cannot decompress {}: the stream ends early (truncated file)", name);
    }
  }
  inflateEnd(&zs);
  out.resize(produced);
  return out;
}

Result<std::string> gunzip_file(const std::string& path) {
  EI8_ASSIGN_OR_RETURN(std::string raw, read_file(path));
  return gunzip(raw, path);
}

Result<std::string> gzip(std::string_view bytes) {
  z_stream zs{};
  if (deflateInit2(&zs, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    return internal_error("cannot compress: deflateInit2 failed");
  }
  std::string out(deflateBound(&zs, static_cast<uLong>(bytes.size())) + 64, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data()));
  zs.avail_in = static_cast<uInt>(bytes.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  if (rc != Z_STREAM_END) return internal_error("cannot compress: deflate returned {}", rc);
  return out;
}

// ----------------------------------------------------------------------------------- MD5 ----
// RFC 1321: 64-byte blocks, four rounds of 16 operations on a 128-bit state; the sine table
// K[i] = floor(|sin(i + 1)| · 2^32), message padded with 0x80, zeros and the 64-bit bit length.

namespace {

class Md5 {
 public:
  Md5() {
    for (int i = 0; i < 64; ++i) {
      k_[static_cast<size_t>(i)] =
          static_cast<uint32_t>(std::floor(std::fabs(std::sin(i + 1.0)) * 4294967296.0));
    }
  }
  void update(std::string_view bytes) {
    for (char ch : bytes) {
      block_[fill_++] = static_cast<uint8_t>(ch);
      if (fill_ == 64) {
        transform();
        fill_ = 0;
      }
    }
    length_ += bytes.size();
  }
  std::string hex() {
    const uint64_t bits = length_ * 8;
    const char pad = static_cast<char>(0x80);
    update(std::string_view(&pad, 1));
    while (fill_ != 56) update(std::string_view("\0", 1));
    std::array<char, 8> len{};
    for (int i = 0; i < 8; ++i) len[static_cast<size_t>(i)] = static_cast<char>(bits >> (8 * i));
    update(std::string_view(len.data(), 8));
    std::string out;
    for (uint32_t v : state_) {
      for (int i = 0; i < 4; ++i) out += fmt::format("{:02x}", (v >> (8 * i)) & 0xffu);
    }
    return out;
  }

 private:
  void transform() {
    static constexpr std::array<uint32_t, 16> kShift = {7, 12, 17, 22, 5, 9,  14, 20,
                                                        4, 11, 16, 23, 6, 10, 15, 21};
    std::array<uint32_t, 16> m{};
    for (size_t i = 0; i < 16; ++i) {
      m[i] = uint32_t{block_[4 * i]} | uint32_t{block_[4 * i + 1]} << 8 |
             uint32_t{block_[4 * i + 2]} << 16 | uint32_t{block_[4 * i + 3]} << 24;
    }
    uint32_t a = state_[0], b = state_[1], c = state_[2], d = state_[3];
    for (uint32_t i = 0; i < 64; ++i) {
      uint32_t f = 0, g = 0;
      if (i < 16) {
        f = (b & c) | (~b & d), g = i;
      } else if (i < 32) {
        f = (d & b) | (~d & c), g = (5 * i + 1) % 16;
      } else if (i < 48) {
        f = b ^ c ^ d, g = (3 * i + 5) % 16;
      } else {
        f = c ^ (b | ~d), g = (7 * i) % 16;
      }
      const uint32_t s = kShift[(i / 16) * 4 + i % 4];
      const uint32_t sum = a + f + k_[i] + m[g];
      a = d;
      d = c;
      c = b;
      b = b + ((sum << s) | (sum >> (32 - s)));
    }
    state_[0] += a, state_[1] += b, state_[2] += c, state_[3] += d;
  }

  std::array<uint32_t, 64> k_{};
  std::array<uint32_t, 4> state_ = {0x67452301u, 0xefcdab89u, 0x98badcfeu, 0x10325476u};
  std::array<uint8_t, 64> block_{};
  size_t fill_ = 0;
  uint64_t length_ = 0;
};

}  // namespace

std::string md5_hex(std::string_view bytes) {
  Md5 h;
  h.update(bytes);
  return h.hex();
}

Result<std::string> md5_file_hex(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return not_found("cannot open {}: file does not exist or is not readable", path);
  Md5 h;
  std::string buf(1 << 20, '\0');
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    h.update(std::string_view(buf.data(), static_cast<size_t>(in.gcount())));
  }
  if (in.bad()) return io_error("cannot read {}: read error", path);
  return h.hex();
}

// ----------------------------------------------------------------------------------- tar ----
// 512-byte headers: name[100] at 0, size[12] octal at 124, checksum[8] at 148 (sum of the header
// bytes with the checksum field taken as spaces), typeflag at 156, "ustar" at 257, prefix[155]
// at 345; file data follows, padded to 512 bytes; two zero blocks end the archive.

namespace {

std::string field(std::string_view h, size_t off, size_t len) {
  std::string_view f = h.substr(off, len);
  return std::string(f.substr(0, f.find('\0')));
}

Result<uint64_t> octal(std::string_view h, size_t off, size_t len, std::string_view name,
                       size_t at) {
  uint64_t v = 0;
  bool any = false;
  for (char ch : h.substr(off, len)) {
    if (ch == '\0' || ch == ' ') {
      if (any) break;
      continue;
    }
    if (ch < '0' || ch > '7') {
      return data_loss("cannot read tar {}: header at byte {} has a bad number field", name, at);
    }
    v = v * 8 + static_cast<uint64_t>(ch - '0');
    any = true;
  }
  return v;
}

}  // namespace

Result<std::vector<TarEntry>> parse_tar(std::string_view bytes, std::string_view name) {
  std::vector<TarEntry> out;
  std::string long_name;
  size_t pos = 0;
  while (true) {
    if (pos + 512 > bytes.size()) {
      return data_loss(
          "cannot read tar {}: archive ends inside a header at byte {} "
          "(truncated file)",
          name, pos);
    }
    std::string_view h = bytes.substr(pos, 512);
    if (h.find_first_not_of('\0') == std::string_view::npos) break;  // end-of-archive block
    EI8_ASSIGN_OR_RETURN(uint64_t sum, octal(h, 148, 8, name, pos));
    uint64_t actual = 0;
    for (size_t i = 0; i < 512; ++i) {
      actual += (i >= 148 && i < 156) ? uint64_t{' '} : static_cast<uint8_t>(h[i]);
    }
    if (sum != actual) {
      return data_loss(
          "cannot read tar {}: header at byte {} has checksum = {}, must be {} "
          "(corrupt file or not a tar archive)",
          name, pos, sum, actual);
    }
    EI8_ASSIGN_OR_RETURN(uint64_t size, octal(h, 124, 12, name, pos));
    const char type = h[156];
    pos += 512;
    if (size > bytes.size() - pos) {
      return data_loss(
          "cannot read tar {}: entry '{}' has size = {}, only {} bytes remain "
          "(truncated file)",
          name, field(h, 0, 100), size, bytes.size() - pos);
    }
    std::string_view data = bytes.substr(pos, size);
    pos += (size + 511) / 512 * 512;
    if (type == 'L') {  // GNU long name: the data is the next entry's name
      long_name = std::string(data.substr(0, data.find('\0')));
      continue;
    }
    std::string entry_name = field(h, 0, 100);
    if (h.substr(257, 5) == "ustar") {
      const std::string prefix = field(h, 345, 155);
      if (!prefix.empty()) entry_name = prefix + "/" + entry_name;
    }
    if (!long_name.empty()) entry_name = std::move(long_name), long_name.clear();
    if (type == '0' || type == '\0' || type == '7') {
      out.push_back({entry_name, false, std::string(data)});
    } else if (type == '5') {
      out.push_back({entry_name, true, {}});
    }
    if (pos > bytes.size()) break;
  }
  return out;
}

Status untar(std::string_view bytes, const std::string& dir, std::string_view name) {
  EI8_ASSIGN_OR_RETURN(std::vector<TarEntry> entries, parse_tar(bytes, name));
  namespace fs = std::filesystem;
  for (const TarEntry& e : entries) {
    const fs::path rel(e.name);
    bool unsafe = rel.is_absolute();
    for (const auto& part : rel) unsafe |= part == "..";
    if (unsafe) {
      return invalid_argument(
          "cannot unpack {}: entry = '{}', must be a relative path without "
          "'..'",
          name, e.name);
    }
    const fs::path target = fs::path(dir) / rel;
    std::error_code ec;
    fs::create_directories(e.is_dir ? target : target.parent_path(), ec);
    if (ec) return io_error("cannot create directory {}: {}", target.string(), ec.message());
    if (!e.is_dir) EI8_RETURN_IF_ERROR(write_file(target.string(), e.data));
  }
  return {};
}

std::string make_tar(const std::vector<TarEntry>& entries) {
  std::string out;
  for (const TarEntry& e : entries) {
    std::string h(512, '\0');
    std::memcpy(h.data(), e.name.data(), std::min<size_t>(e.name.size(), 99));
    std::memcpy(h.data() + 100, "0000644", 7);
    std::memcpy(h.data() + 108, "0000000", 7);
    std::memcpy(h.data() + 116, "0000000", 7);
    const std::string size = fmt::format("{:011o}", e.is_dir ? 0 : e.data.size());
    std::memcpy(h.data() + 124, size.data(), 11);
    std::memcpy(h.data() + 136, "00000000000", 11);
    h[156] = e.is_dir ? '5' : '0';
    std::memcpy(h.data() + 257, "ustar", 6);
    std::memcpy(h.data() + 263, "00", 2);
    uint64_t sum = 0;
    for (size_t i = 0; i < 512; ++i)
      sum += (i >= 148 && i < 156) ? uint64_t{' '} : static_cast<uint8_t>(h[i]);
    const std::string chk = fmt::format("{:06o}", sum);
    std::memcpy(h.data() + 148, chk.data(), 6);
    h[154] = '\0';
    h[155] = ' ';
    out += h;
    if (!e.is_dir) {
      out += e.data;
      out.append((512 - e.data.size() % 512) % 512, '\0');
    }
  }
  out.append(1024, '\0');
  return out;
}

}  // namespace ei8::data
