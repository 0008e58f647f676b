// ei8/quant/calibration.h — the calibration driver: runs the float graph on calibration data
// through the FP32 executor and feeds every activation tensor (the graph input and every node
// output) to its own TensorObserver, batch by batch. Nothing but the observers' fixed-size
// state is kept, so the table for any calibration method can then be computed without running
// the model again.
//
//   EI8_ASSIGN_OR_RETURN(Tensor data, load_calibration_data("calib/", input_shape));
//   EI8_ASSIGN_OR_RETURN(Statistics st, collect_statistics(optimized_graph, data, {}));
//   EI8_ASSIGN_OR_RETURN(CalibTable t, make_table(st, params));
#pragma once

#include <string>
#include <vector>

#include "ei8/core/status.h"
#include "ei8/core/tensor.h"
#include "ei8/graph/graph.h"
#include "ei8/quant/calib_table.h"
#include "ei8/quant/calibrators.h"
#include "ei8/quant/observer.h"

namespace ei8::quant {

// Reads calibration samples for a model input of shape `input_shape` (kDynamic batch first):
// a `.npy` file holding [N, ...sample] (or a single sample without the batch axis), or a
// directory whose `*.npy` files (sorted by name) hold one sample or a batch each. Samples must
// be float32 (NumPy float64 is converted) and match the sample shape. Returns [N, ...sample].
// Errors: missing path, no samples, wrong shape or dtype, NaN or Inf — each naming the file
// (and the first non-finite element); `what` names the data in messages.
Result<Tensor> load_calibration_data(const std::string& path, const Shape& input_shape,
                                     std::string_view what = "calibration data");

struct CalibrationOptions {
  int64_t batch = 32;        // samples per forward pass (= per observe() call), ≥ 1
  int64_t max_samples = 0;   // use the first N samples (0 = all)
  ObserverOptions observer;  // histogram bins, moving-average constant
};

struct Statistics {
  std::vector<std::string> names;         // graph input first, then node outputs in run order
  std::vector<TensorObserver> observers;  // one per name
  int64_t samples = 0;
  double seconds = 0.0;  // wall time of the forward passes + observation
  const TensorObserver* find(std::string_view name) const;
};

// `g` is the float graph to calibrate, already optimized (BN folded, activations fused), with
// exactly one float input. Errors: no samples, shape mismatch, an op the executor cannot run.
Result<Statistics> collect_statistics(const Graph& g, const Tensor& data,
                                      const CalibrationOptions& options);

// One table entry per observed tensor with `params` (error names the tensor that failed).
Result<CalibTable> make_table(const Statistics& st, const CalibParams& params);

}  // namespace ei8::quant
