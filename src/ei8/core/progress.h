// ei8/core/progress.h — progress reporting for long work (training, calibration, sweeps).
//
// On a terminal it redraws one line: label, bar, count, rate, ETA and a caller-supplied
// status ("loss 0.213 acc 91.2%"). When stderr is not a terminal (CI, pipes) it prints a
// plain line at most every few seconds and at the end, so logs stay short.
//
//   Progress p("epoch 3/10", batches);
//   for (...) { ...; p.advance(1, fmt::format("loss {:.3f}", loss)); }
//   p.finish();
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace ei8 {

class Progress {
 public:
  Progress(std::string label, int64_t total, std::string unit = "it");
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  void advance(int64_t n = 1, std::string_view status = {});
  void finish(std::string_view status = {});

  // Silences every Progress in the process (e.g. for --json output or tests).
  static void set_enabled(bool enabled);

 private:
  void draw(bool final_line);

  std::string label_, unit_, status_;
  int64_t total_, done_ = 0;
  bool tty_, finished_ = false;
  std::chrono::steady_clock::time_point start_, last_draw_;
};

}  // namespace ei8
