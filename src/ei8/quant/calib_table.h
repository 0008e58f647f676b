// ei8/quant/calib_table.h — the calibration table: tensor name → quantization range, with the
// method, every hyper-parameter it used, what it found, and how much data it saw.
//
// File format (JSON, UTF-8, keys in this order, written byte-identically for identical input):
//   {
//     "format": "edgeint8-calibration-table",
//     "version": 1,
//     "samples": 1000,                      // calibration samples (model inputs) fed
//     "tensors": [
//       {"name": "relu1", "method": "entropy",
//        "min": 0.0, "max": 3.1415927,        // the range to quantize to (float32 values)
//        "observed_min": 0.0, "observed_max": 7.25,
//        "values": 32768000, "batches": 1000,
//        "parameters": {"scheme": "asymmetric", "levels": 128, ...},
//        "diagnostics": {"chosen_bins": 1733, "kl": 0.0123, ...}}
//     ]
//   }
// Floats are written as the shortest decimal that reads back to the same double, so a float32
// range survives a write/read exactly. Reading checks every field and reports the first problem
// as "<file>:<line>: cannot read calibration table: <field> = <value>, must be <constraint>".
//
//   CalibTable t;  t.samples = 1000;
//   t.entries.push_back(make_entry("relu1", observer, calibrate(observer, params).value()));
//   EI8_RETURN_IF_ERROR(write_calib_table("calib.json", t));
//   EI8_ASSIGN_OR_RETURN(CalibTable back, read_calib_table("calib.json"));
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ei8/core/status.h"
#include "ei8/quant/calibrators.h"
#include "ei8/quant/observer.h"

namespace ei8::quant {

struct CalibEntry {
  std::string name;
  CalibMethod method = CalibMethod::kMinMax;
  float min = 0.0f;  // min ≤ max, both finite
  float max = 0.0f;
  float observed_min = 0.0f;
  float observed_max = 0.0f;
  uint64_t values = 0;  // finite values observed
  int64_t batches = 0;  // observe() calls
  ParamList parameters;
  ParamList diagnostics;
};

struct CalibTable {
  int64_t samples = 0;
  std::vector<CalibEntry> entries;  // in the order tensors were calibrated (names unique)
  const CalibEntry* find(std::string_view name) const;
};

CalibEntry make_entry(std::string name, const TensorObserver& obs, const CalibResult& r);

std::string serialize_calib_table(const CalibTable& t);
// `source` names the text in error messages (usually the file path).
Result<CalibTable> parse_calib_table(std::string_view text, std::string_view source);
Status write_calib_table(const std::string& path, const CalibTable& t);
Result<CalibTable> read_calib_table(const std::string& path);

}  // namespace ei8::quant
