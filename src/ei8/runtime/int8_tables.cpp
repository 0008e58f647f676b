#include "ei8/runtime/int8_tables.h"

#include <algorithm>
#include <array>

#include "ei8/runtime/kernels/ref/qlinear_ref.h"

namespace ei8 {

Status tabulate_unary_ops(Graph& g) {
  for (Node& n : g.nodes()) {
    if (n.op_type != "QLinearSigmoid" && n.op_type != "QLinearLeakyRelu") continue;
    auto scalar = [&](size_t i) -> const Tensor* {
      return i < n.inputs.size() && !n.input(i).empty() ? g.constant(n.input(i)) : nullptr;
    };
    const Tensor *sx = scalar(1), *zx = scalar(2), *sy = scalar(3), *zy = scalar(4);
    if (sx == nullptr || sy == nullptr || sx->dtype() != DType::kF32 ||
        sy->dtype() != DType::kF32 || sx->numel() != 1 || sy->numel() != 1) {
      return unsupported(
          "cannot tabulate node '{}' ({}): inputs 1 and 3 (scales) = not both constant f32 "
          "scalars, must be",
          n.name, n.op_type);
    }
    const bool u8 = zx == nullptr || zx->dtype() == DType::kU8;
    if ((zx != nullptr && zx->dtype() != DType::kU8 && zx->dtype() != DType::kS8) ||
        (zy != nullptr && zy->dtype() != (u8 ? DType::kU8 : DType::kS8))) {
      return unsupported(
          "cannot tabulate node '{}' ({}): zero point types = {}/{}, must be u8/u8 or s8/s8",
          n.name, n.op_type, zx == nullptr ? "absent" : dtype_name(zx->dtype()),
          zy == nullptr ? "absent" : dtype_name(zy->dtype()));
    }
    auto zero = [](const Tensor* z, bool is_u8) -> int32_t {
      if (z == nullptr || z->numel() < 1) return 0;
      return is_u8 ? int32_t{z->span<uint8_t>()[0]} : int32_t{z->span<int8_t>()[0]};
    };
    const float in_scale = sx->span<float>()[0], out_scale = sy->span<float>()[0];
    const bool sigmoid = n.op_type == "QLinearSigmoid";
    const float alpha = n.attr_float("alpha", 0.01f);
    Tensor table = Tensor::zeros(u8 ? DType::kU8 : DType::kS8, {256});
    auto build = [&]<typename T>(T) {
      std::array<float, 256> v = kernels::dequantized_codes<T>(in_scale, zero(zx, u8));
      for (float& r : v) r = sigmoid ? kernels::logistic_ort(r) : (r >= 0.0f ? r : alpha * r);
      const std::array<T, 256> t = kernels::quantize_codes<T>(v, out_scale, zero(zy, u8));
      std::copy(t.begin(), t.end(), table.span<T>().begin());
    };
    if (u8) {
      build(uint8_t{});
    } else {
      build(int8_t{});
    }
    const std::string name = g.unique_value_name(n.name + "_table");
    g.add_initializer(name, std::move(table));
    n.op_type = "QLinearLookup";
    n.inputs = {n.input(0), name};
    n.attrs.clear();
  }
  return {};
}

}  // namespace ei8
