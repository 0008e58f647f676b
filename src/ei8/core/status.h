// ei8/core/status.h — error values for every public API of EdgeINT8-ArchKit.
//
// Functions that can fail return `Status` or `Result<T>`; nothing throws across module
// boundaries. Messages have one shape (STYLE.md):
//   "cannot <action> <object>: <param> = <value>, must be <constraint>"
// and a file position is prefixed as "<file>:<line>: " when the error comes from a file.
//
//   Result<Tensor> t = read_npy("x.npy");
//   if (!t.ok()) { fmt::print(stderr, "{}\n", t.status().message()); return 1; }
//   use(t.value());
#pragma once

#include <fmt/format.h>

#include <cstdlib>
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace ei8 {

enum class StatusCode {
  kOk,
  kInvalidArgument,  // the caller passed something outside the documented domain
  kNotFound,         // a file, tensor, node or key does not exist
  kIoError,          // reading or writing failed
  kDataLoss,         // a file is truncated or corrupt
  kUnsupported,      // valid input we do not implement (e.g. an ONNX op)
  kOutOfRange,       // a value does not fit (e.g. bias beyond int32)
  kInternal,         // a bug in EdgeINT8-ArchKit
};

std::string_view status_code_name(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status ok_status() { return {}; }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

  // Returns a copy whose message is prefixed by `context` and ": ", e.g. a file name.
  Status with_context(std::string_view context) const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

// Builders, e.g. invalid_argument("cannot read {}: dtype = {}, must be f32", path, name).
template <typename... Args>
Status make_status(StatusCode code, fmt::format_string<Args...> f, Args&&... args) {
  return Status(code, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
Status invalid_argument(fmt::format_string<Args...> f, Args&&... args) {
  return make_status(StatusCode::kInvalidArgument, f, std::forward<Args>(args)...);
}
template <typename... Args>
Status not_found(fmt::format_string<Args...> f, Args&&... args) {
  return make_status(StatusCode::kNotFound, f, std::forward<Args>(args)...);
}
template <typename... Args>
Status io_error(fmt::format_string<Args...> f, Args&&... args) {
  return make_status(StatusCode::kIoError, f, std::forward<Args>(args)...);
}
template <typename... Args>
Status data_loss(fmt::format_string<Args...> f, Args&&... args) {
  return make_status(StatusCode::kDataLoss, f, std::forward<Args>(args)...);
}
template <typename... Args>
Status unsupported(fmt::format_string<Args...> f, Args&&... args) {
  return make_status(StatusCode::kUnsupported, f, std::forward<Args>(args)...);
}
template <typename... Args>
Status out_of_range(fmt::format_string<Args...> f, Args&&... args) {
  return make_status(StatusCode::kOutOfRange, f, std::forward<Args>(args)...);
}
template <typename... Args>
Status internal_error(fmt::format_string<Args...> f, Args&&... args) {
  return make_status(StatusCode::kInternal, f, std::forward<Args>(args)...);
}

// A value or the Status explaining why there is none.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}        // NOLINT(google-explicit-constructor)
  Result(Status status) : v_(std::move(status)) {  // NOLINT(google-explicit-constructor)
    if (std::get<Status>(v_).ok()) v_ = Status(StatusCode::kInternal, "Result from an ok Status");
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }
  // Precondition: ok(). Calling value() on an error aborts with the error message.
  T& value() & { return check(), std::get<T>(v_); }
  const T& value() const& { return check(), std::get<T>(v_); }
  T&& value() && { return check(), std::move(std::get<T>(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  void check() const {
    if (!ok()) {
      fmt::print(stderr, "ei8: value() of an error Result: {}\n", std::get<Status>(v_).message());
      std::abort();
    }
  }
  std::variant<T, Status> v_;
};

}  // namespace ei8

#define EI8_CONCAT_IMPL(a, b) a##b
#define EI8_CONCAT(a, b) EI8_CONCAT_IMPL(a, b)

// Returns the Status of `expr` from the enclosing function when it is an error.
#define EI8_RETURN_IF_ERROR(expr)              \
  do {                                         \
    ::ei8::Status ei8_status_ = (expr);        \
    if (!ei8_status_.ok()) return ei8_status_; \
  } while (0)

// `EI8_ASSIGN_OR_RETURN(auto x, make_x());` — unwraps a Result or returns its Status.
#define EI8_ASSIGN_OR_RETURN(lhs, expr) \
  EI8_ASSIGN_OR_RETURN_IMPL(EI8_CONCAT(ei8_result_, __LINE__), lhs, expr)
#define EI8_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                              \
  if (!tmp.ok()) return tmp.status();             \
  lhs = std::move(tmp).value()
