#include "ei8/core/npy.h"

#include <bit>
#include <charconv>
#include <cstring>
#include <fstream>
#include <limits>
#include <sstream>

#include <fmt/ranges.h>

#include "ei8/core/output_files.h"

namespace ei8 {
namespace {

static_assert(std::endian::native == std::endian::little, "ei8 assumes a little-endian host");

constexpr std::string_view kMagic = "\x93NUMPY";

// Finds `'key':` in the header dict and returns the text after the colon, trimmed.
std::optional<std::string_view> dict_value(std::string_view header, std::string_view key) {
  const std::string quoted = fmt::format("'{}'", key);
  size_t p = header.find(quoted);
  if (p == std::string_view::npos) return std::nullopt;
  p = header.find(':', p + quoted.size());
  if (p == std::string_view::npos) return std::nullopt;
  ++p;
  while (p < header.size() && header[p] == ' ') ++p;
  return header.substr(p);
}

struct Descr {
  DType dtype;
  size_t file_elem_size;
  enum Kind { kNative, kF64, kI64 } kind;
};

Result<Descr> parse_descr(std::string_view d, std::string_view name) {
  if (d == "<f4" || d == "=f4") return Descr{DType::kF32, 4, Descr::kNative};
  if (d == "|i1" || d == "<i1" || d == "=i1") return Descr{DType::kS8, 1, Descr::kNative};
  if (d == "|u1" || d == "<u1" || d == "=u1") return Descr{DType::kU8, 1, Descr::kNative};
  if (d == "<i4" || d == "=i4") return Descr{DType::kS32, 4, Descr::kNative};
  if (d == "<i2" || d == "=i2") return Descr{DType::kS16, 2, Descr::kNative};
  if (d == "<f8" || d == "=f8") return Descr{DType::kF32, 8, Descr::kF64};
  if (d == "<i8" || d == "=i8") return Descr{DType::kS32, 8, Descr::kI64};
  return unsupported(
      "cannot read {}: descr = '{}', must be one of <f4 |i1 |u1 <i2 <i4 <f8 <i8 (little-endian)",
      name, d);
}

std::string_view descr_of(DType t) {
  switch (t) {
    case DType::kF32:
      return "<f4";
    case DType::kS8:
      return "|i1";
    case DType::kU8:
      return "|u1";
    case DType::kS32:
      return "<i4";
    case DType::kS16:
      return "<i2";
  }
  return "?";
}

}  // namespace

Result<std::string> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return io_error("cannot open {}: {}", path, std::strerror(errno));
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return io_error("cannot read {}: read error", path);
  return std::move(ss).str();
}

Status write_file(const std::string& path, std::string_view bytes) {
  OutputFiles out;  // a temporary beside `path`, renamed over it: whole or not at all
  EI8_RETURN_IF_ERROR(out.add(path, bytes));
  return out.commit();
}

Result<Tensor> parse_npy(std::string_view bytes, std::string_view name) {
  if (bytes.size() < 10 || bytes.substr(0, 6) != kMagic) {
    return data_loss("cannot read {}: magic = not \\x93NUMPY, must be a .npy file", name);
  }
  const auto major = static_cast<uint8_t>(bytes[6]);
  size_t header_len = 0;
  size_t header_start = 0;
  if (major == 1) {
    header_len =
        static_cast<uint8_t>(bytes[8]) | (static_cast<size_t>(static_cast<uint8_t>(bytes[9])) << 8);
    header_start = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12)
      return data_loss("cannot read {}: file is truncated in its header", name);
    uint32_t len32;
    std::memcpy(&len32, bytes.data() + 8, 4);
    header_len = len32;
    header_start = 12;
  } else {
    return unsupported("cannot read {}: format version = {}, must be 1, 2 or 3", name, major);
  }
  if (bytes.size() < header_start + header_len) {
    return data_loss("cannot read {}: header length = {}, but the file has only {} bytes", name,
                     header_len, bytes.size());
  }
  const std::string_view header = bytes.substr(header_start, header_len);

  auto descr_v = dict_value(header, "descr");
  auto order_v = dict_value(header, "fortran_order");
  auto shape_v = dict_value(header, "shape");
  if (!descr_v || !order_v || !shape_v) {
    return data_loss("cannot read {}: header lacks 'descr', 'fortran_order' or 'shape'", name);
  }
  if (descr_v->empty() || ((*descr_v)[0] != '\'' && (*descr_v)[0] != '"')) {
    return data_loss("cannot read {}: 'descr' is not a string", name);
  }
  const char quote = (*descr_v)[0];
  const size_t dend = descr_v->find(quote, 1);
  if (dend == std::string_view::npos)
    return data_loss("cannot read {}: unterminated 'descr'", name);
  EI8_ASSIGN_OR_RETURN(Descr descr, parse_descr(descr_v->substr(1, dend - 1), name));
  if (order_v->substr(0, 4) == "True") {
    return unsupported("cannot read {}: fortran_order = True, must be False (C order)", name);
  }
  if (shape_v->empty() || (*shape_v)[0] != '(') {
    return data_loss("cannot read {}: 'shape' is not a tuple", name);
  }
  const size_t send = shape_v->find(')');
  if (send == std::string_view::npos)
    return data_loss("cannot read {}: unterminated 'shape'", name);
  Shape shape;
  std::string_view dims = shape_v->substr(1, send - 1);
  while (!dims.empty()) {
    while (!dims.empty() && (dims[0] == ' ' || dims[0] == ',')) dims.remove_prefix(1);
    if (dims.empty()) break;
    int64_t d = 0;
    auto [ptr, ec] = std::from_chars(dims.data(), dims.data() + dims.size(), d);
    if (ec != std::errc() || d < 0 || d > (int64_t{1} << 40)) {
      return data_loss("cannot read {}: shape = ({}), must be non-negative integers", name,
                       shape_v->substr(1, send - 1));
    }
    shape.push_back(d);
    dims.remove_prefix(static_cast<size_t>(ptr - dims.data()));
  }
  // Guard the product against overflow before trusting it.
  int64_t numel = 1;
  for (int64_t d : shape) {
    if (d != 0 && numel > (int64_t{1} << 40) / d) {
      return data_loss("cannot read {}: shape = {}, too many elements", name,
                       shape_to_string(shape));
    }
    numel *= d;
  }
  const size_t data_start = header_start + header_len;
  const size_t want = static_cast<size_t>(numel) * descr.file_elem_size;
  if (bytes.size() - data_start < want) {
    return data_loss("cannot read {}: data = {} bytes, must be {} for shape {}", name,
                     bytes.size() - data_start, want, shape_to_string(shape));
  }
  Tensor t = Tensor::zeros(descr.dtype, shape);
  const char* src = bytes.data() + data_start;
  switch (descr.kind) {
    case Descr::kNative:
      std::memcpy(t.raw(), src, want);
      break;
    case Descr::kF64: {
      auto dst = t.span<float>();
      for (size_t i = 0; i < dst.size(); ++i) {
        double v;
        std::memcpy(&v, src + 8 * i, 8);
        dst[i] = static_cast<float>(v);
      }
      break;
    }
    case Descr::kI64: {
      auto dst = t.span<int32_t>();
      for (size_t i = 0; i < dst.size(); ++i) {
        int64_t v;
        std::memcpy(&v, src + 8 * i, 8);
        if (v < std::numeric_limits<int32_t>::min() || v > std::numeric_limits<int32_t>::max()) {
          return out_of_range("cannot read {}: element {} = {}, must fit int32", name, i, v);
        }
        dst[i] = static_cast<int32_t>(v);
      }
      break;
    }
  }
  return t;
}

Result<Tensor> read_npy(const std::string& path) {
  EI8_ASSIGN_OR_RETURN(std::string bytes, read_file(path));
  return parse_npy(bytes, path);
}

std::string serialize_npy(const Tensor& t) {
  // Python tuple syntax: "()", "(3,)", "(2, 3)".
  std::string shape = fmt::format("{}", fmt::join(t.shape(), ", "));
  if (t.rank() == 1) shape += ",";
  std::string header = fmt::format("{{'descr': '{}', 'fortran_order': False, 'shape': ({}), }}",
                                   descr_of(t.dtype()), shape);
  // Pad with spaces so that magic + version + length + header + '\n' is a multiple of 64.
  const size_t unpadded = 10 + header.size() + 1;
  header.append((64 - unpadded % 64) % 64, ' ');
  header.push_back('\n');
  std::string out(kMagic);
  out.push_back('\x01');
  out.push_back('\x00');
  out.push_back(static_cast<char>(header.size() & 0xff));
  out.push_back(static_cast<char>(header.size() >> 8));
  out += header;
  out.append(reinterpret_cast<const char*>(t.raw()), t.nbytes());
  return out;
}

Status write_npy(const std::string& path, const Tensor& t) {
  return write_file(path, serialize_npy(t));
}

Result<Tensor> read_raw_f32(const std::string& path, const Shape& shape) {
  EI8_ASSIGN_OR_RETURN(std::string bytes, read_file(path));
  for (int64_t d : shape) {
    if (d <= 0) {
      return invalid_argument("cannot read {}: shape = {}, every dimension must be positive", path,
                              shape_to_string(shape));
    }
  }
  const size_t want = static_cast<size_t>(shape_numel(shape)) * 4;
  if (bytes.size() != want) {
    return invalid_argument("cannot read {}: size = {} bytes, must be {} for float32 shape {}",
                            path, bytes.size(), want, shape_to_string(shape));
  }
  Tensor t = Tensor::zeros(DType::kF32, shape);
  std::memcpy(t.raw(), bytes.data(), want);
  return t;
}

Status write_raw(const std::string& path, const Tensor& t) {
  return write_file(path, std::string_view(reinterpret_cast<const char*>(t.raw()), t.nbytes()));
}

}  // namespace ei8
