#include "ei8/pipeline/pipeline.h"

#include <chrono>
#include <filesystem>

#include "ei8/core/npy.h"

namespace ei8::pipeline {
namespace fs = std::filesystem;

std::string_view step_state_name(StepState s) {
  switch (s) {
    case StepState::kOk:
      return "ok";
    case StepState::kFailed:
      return "failed";
    case StepState::kSkipped:
      return "skipped";
    case StepState::kCached:
      return "cached";
  }
  return "?";
}

std::string StepContext::path(std::string_view rel) const {
  const fs::path p(rel);
  return p.is_absolute() ? p.string() : (fs::path(out_dir) / p).string();
}

std::string fnv1a_hex(std::string_view bytes, uint64_t seed) {
  uint64_t h = seed;
  for (char c : bytes) {
    h ^= static_cast<uint8_t>(c);
    h *= 1099511628211ULL;
  }
  return fmt::format("{:016x}", h);
}

bool PipelineSummary::all_ok() const {
  for (const auto& s : steps) {
    if (s.state == StepState::kFailed) return false;
  }
  return true;
}

report::Table PipelineSummary::table() const {
  report::Table t({"step", "status", "seconds", "detail"});
  t.set_precision("seconds", 2);
  for (const auto& s : steps) {
    t.add_row({s.name, std::string(step_state_name(s.state)), s.seconds, s.detail});
  }
  return t;
}

std::string Pipeline::cache_key(const Step& step) const {
  StepContext ctx{out_dir_};
  std::string material = step.name + '\n' + step.version + '\n' + step.settings + '\n';
  for (const auto& in : step.inputs) {
    auto bytes = read_file(ctx.path(in));
    material += in + '=' + (bytes.ok() ? fnv1a_hex(bytes.value()) : "missing") + '\n';
  }
  return fnv1a_hex(material);
}

std::string Pipeline::cache_record(const Step& step) const {
  StepContext ctx{out_dir_};
  std::string record = cache_key(step) + '\n';
  for (const auto& out : step.outputs) {
    auto bytes = read_file(ctx.path(out));
    record += bytes.ok() ? fmt::format("{} {} {}\n", bytes->size(), fnv1a_hex(*bytes), out)
                         : fmt::format("missing {}\n", out);
  }
  return record;
}

PipelineSummary Pipeline::run(const RunOptions& options) {
  using Clock = std::chrono::steady_clock;
  PipelineSummary summary;
  const auto start = Clock::now();
  StepContext ctx{out_dir_};
  std::error_code ec;
  fs::create_directories(fs::path(out_dir_) / ".cache", ec);
  bool failed_before = false;
  const size_t n = steps_.size();
  for (size_t i = 0; i < n; ++i) {
    const Step& step = steps_[i];
    StepRecord rec{.name = step.name};
    const auto t0 = Clock::now();
    const std::string key_path = ctx.path(".cache/" + step.name + ".key");
    const std::string key = cache_key(step);
    if (failed_before && !options.continue_on_error) {
      rec.state = StepState::kSkipped;
      rec.detail = "an earlier step failed (use --continue-on-error to run it anyway)";
    } else {
      // Cached when the inputs and settings are those of the last successful run and every
      // output still has the size and hash recorded then (a truncated or edited output re-runs
      // the step).
      bool cached = !options.force && !step.outputs.empty();
      if (cached) {
        auto stored = read_file(key_path);
        cached = stored.ok() && stored->rfind(key + '\n', 0) == 0 &&
                 stored.value() == cache_record(step);
      }
      if (cached) {
        rec.state = StepState::kCached;
        rec.detail = "inputs and settings unchanged";
      } else {
        if (!options.quiet) fmt::print("[{}/{}] {} ...\n", i + 1, n, step.name);
        std::fflush(stdout);
        ctx.previous = &summary.steps;
        Result<StepOutcome> r = step.run(ctx);
        if (!r.ok()) {
          rec.state = StepState::kFailed;
          rec.detail = r.status().message();
          failed_before = true;
          fs::remove(key_path, ec);
        } else {
          rec.state = r->state;
          rec.detail = r->detail;
          if (rec.state == StepState::kFailed) failed_before = true;
          if (rec.state == StepState::kOk) {
            // The key is taken after the run: a step may have created its own inputs' parents.
            (void)write_file(key_path, cache_record(step));
          } else {
            fs::remove(key_path, ec);
          }
        }
      }
    }
    rec.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    if (!options.quiet) {
      fmt::print("[{}/{}] {:<28} {:<8} {:7.2f} s  {}\n", i + 1, n, step.name,
                 step_state_name(rec.state), rec.seconds, rec.detail);
      std::fflush(stdout);
    }
    summary.steps.push_back(std::move(rec));
  }
  summary.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return summary;
}

}  // namespace ei8::pipeline
