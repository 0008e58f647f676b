#include "ei8/runtime/kernels/plan_tuner.h"

#include <algorithm>
#include <chrono>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "ei8/runtime/kernels/cpu_features.h"

namespace ei8::kernels {
namespace {

std::vector<std::string> split_tabs(const std::string& line) {
  std::vector<std::string> out;
  size_t b = 0;
  while (true) {
    const size_t e = line.find('\t', b);
    out.push_back(line.substr(b, e == std::string::npos ? std::string::npos : e - b));
    if (e == std::string::npos) break;
    b = e + 1;
  }
  return out;
}

bool parse_double(const std::string& s, double& v) {
  std::istringstream in(s);
  in >> v;
  return !in.fail() && in.eof() && v >= 0.0;
}

}  // namespace

Status PlanTuner::load(const std::string& path) {
  std::ifstream f(path);
  if (!f) return {};  // no file yet: an empty table
  std::string line;
  int64_t n = 0;
  std::lock_guard<std::mutex> lock(mu_);
  while (std::getline(f, line)) {
    ++n;
    if (line.empty() || line[0] == '#') continue;
    const std::vector<std::string> cols = split_tabs(line);
    TuneRecord r;
    if (cols.size() != 6 || cols[0].empty() || cols[1].empty() || cols[2].empty() ||
        !parse_double(cols[3], r.us) || !parse_double(cols[5], r.runner_up_us)) {
      return invalid_argument(
          "{}:{}: cannot read tuning entry: columns = {}, must be 6 (cpu, key, plan, us, "
          "runner_up, runner_up_us; us >= 0)",
          path, n, cols.size());
    }
    r.key = cols[1];
    r.plan = cols[2];
    r.runner_up = cols[4];
    r.from_file = true;
    table_[{cols[0], r.key}] = std::move(r);
  }
  return {};
}

Status PlanTuner::save(const std::string& path) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::ofstream f(path, std::ios::trunc);
  if (!f) return io_error("cannot write tuning file: path = {}, must be writable", path);
  f << "# edgeint8 plan tuning v1 (docs/int8_runtime.md): cpu\tkey\tplan\tus\trunner_up\t"
       "runner_up_us\n";
  for (const auto& [ck, r] : table_) {
    f << ck.first << '\t' << r.key << '\t' << r.plan << '\t' << fmt::format("{:.2f}", r.us) << '\t'
      << r.runner_up << '\t' << fmt::format("{:.2f}", r.runner_up_us) << '\n';
  }
  if (!f) return io_error("cannot write tuning file: path = {}, must be writable", path);
  return {};
}

Result<std::string> PlanTuner::choose(const std::string& key,
                                      const std::vector<std::string>& candidates,
                                      const Measure& measure) {
  const std::string cpu = cpu_model_id();
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = table_.find({cpu, key});
    if (it != table_.end()) {
      if (std::find(order_.begin(), order_.end(), key) == order_.end()) order_.push_back(key);
      return it->second.plan;
    }
  }
  if (opt_.mode == Mode::kHeuristic || candidates.size() < 2) return std::string();
  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  auto spent_ms = [&] {
    return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
  };
  std::vector<std::pair<double, std::string>> timed;
  for (size_t i = 0; i < candidates.size(); ++i) {
    if (i > 0 && spent_ms() > opt_.budget_ms) break;
    Result<double> us = measure(candidates[i], 1);
    if (us.ok()) timed.emplace_back(*us, candidates[i]);
  }
  if (timed.empty()) return std::string();
  std::stable_sort(timed.begin(), timed.end());
  // Again for the fastest four, in turns, while the budget lasts: the first pass's single runs
  // are noisy (preemption, and the first wide-vector instructions after scalar code may run
  // slowly until the core's power state changes), the minimum of several turns is not.
  // The first turn always runs (a single preempted run must not decide a layer, however long
  // it is: at most 3·4 more runs); the others while the budget lasts.
  for (size_t round = 0; round < 4 && (round == 0 || spent_ms() < opt_.budget_ms); ++round) {
    for (size_t i = 0; i < std::min<size_t>(4, timed.size()); ++i) {
      Result<double> us = measure(timed[i].second, 3);
      if (us.ok()) timed[i].first = std::min(timed[i].first, *us);
    }
    std::stable_sort(timed.begin(), timed.end());
  }
  TuneRecord r;
  r.key = key;
  r.plan = timed[0].second;
  r.us = timed[0].first;
  if (timed.size() > 1) {
    r.runner_up = timed[1].second;
    r.runner_up_us = timed[1].first;
  }
  r.candidates = static_cast<int>(timed.size());
  std::lock_guard<std::mutex> lock(mu_);
  table_[{cpu, key}] = r;
  if (std::find(order_.begin(), order_.end(), key) == order_.end()) order_.push_back(key);
  return r.plan;
}

std::vector<TuneRecord> PlanTuner::decisions() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<TuneRecord> out;
  const std::string cpu = cpu_model_id();
  for (const std::string& k : order_) {
    auto it = table_.find({cpu, k});
    if (it != table_.end()) out.push_back(it->second);
  }
  return out;
}

const TuneRecord* PlanTuner::find(const std::string& key) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = table_.find({cpu_model_id(), key});
  return it == table_.end() ? nullptr : &it->second;
}

}  // namespace ei8::kernels
