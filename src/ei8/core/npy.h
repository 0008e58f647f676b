// ei8/core/npy.h — NumPy `.npy` files (format versions 1.0, 2.0 and 3.0), C order only.
//
// Read: '<f4' '|i1' '|u1' '<i4' map to f32/s8/u8/s32 exactly; '<f8' and '<i8' are converted to
// f32 and s32 (values outside int32 are an error), because NumPy writes float64 and int64 by
// default. Write: the four native dtypes, format 1.0.
//
//   EI8_ASSIGN_OR_RETURN(Tensor x, read_npy("x.npy"));
//   EI8_RETURN_IF_ERROR(write_npy("y.npy", y));
#pragma once

#include <string>

#include "ei8/core/status.h"
#include "ei8/core/tensor.h"

namespace ei8 {

Result<Tensor> read_npy(const std::string& path);
// Parses a whole .npy file held in memory; `name` is used in error messages.
Result<Tensor> parse_npy(std::string_view bytes, std::string_view name);
Status write_npy(const std::string& path, const Tensor& t);
std::string serialize_npy(const Tensor& t);

// Raw little-endian float32, as `edgeint8 run --input x.bin --shape N,C,H,W` reads it.
Result<Tensor> read_raw_f32(const std::string& path, const Shape& shape);
Status write_raw(const std::string& path, const Tensor& t);

// Whole-file helpers shared by every reader (errors name the path).
Result<std::string> read_file(const std::string& path);
Status write_file(const std::string& path, std::string_view bytes);

}  // namespace ei8
