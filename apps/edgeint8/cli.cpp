#include "cli.h"

#include <charconv>

namespace ei8::cli {

Status& pending_status() {
  static Status status;
  return status;
}

void set_action(CLI::App* sub, std::function<Status()> action) {
  sub->callback([action = std::move(action)] { pending_status() = action(); });
}

Result<std::vector<int64_t>> parse_int_list(std::string_view text, std::string_view what) {
  std::vector<int64_t> out;
  while (!text.empty()) {
    const size_t comma = text.find_first_of(",x");
    const std::string_view item = text.substr(0, comma);
    int64_t v = 0;
    auto [ptr, ec] = std::from_chars(item.data(), item.data() + item.size(), v);
    if (ec != std::errc() || ptr != item.data() + item.size()) {
      return invalid_argument("cannot parse {}: item = '{}', must be an integer", what, item);
    }
    out.push_back(v);
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  if (out.empty()) return invalid_argument("cannot parse {}: value is empty", what);
  return out;
}

}  // namespace ei8::cli
