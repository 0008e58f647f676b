// ConvS8Kernel / FullyConnectedS8Kernel: validation, the plans prepare() builds (weight packing,
// epilogue tables) and the one dispatcher that maps a prepared layer to its INT8 tier.
#include "ei8/runtime/kernels/conv_s8.h"

#include <algorithm>
#include <cstring>
#include <limits>

#include "ei8/runtime/kernels/cpu_features.h"
#include "ei8/runtime/kernels/s8_internal.h"

namespace ei8::kernels {

std::string_view int_type_name(IntType t) {
  switch (t) {
    case IntType::kU8:
      return "u8";
    case IntType::kS8:
      return "s8";
    case IntType::kS32:
      return "s32";
  }
  return "?";
}

std::vector<KernelChoice> registered_s8_kernels() {
  return {KernelChoice::kRef, KernelChoice::kGeneric, KernelChoice::kAvx2,
          KernelChoice::kAvx512Vnni};
}

// The one table that maps the INT8 ops to the best tier (STYLE.md 4).
KernelChoice resolve_s8_kernel_choice(KernelChoice c) {
  if (c != KernelChoice::kAuto) return c;
  if (isa_available(Isa::kAvx512Vnni)) return KernelChoice::kAvx512Vnni;
  if (isa_available(Isa::kAvx2)) return KernelChoice::kAvx2;
  return KernelChoice::kGeneric;
}

namespace {

Status check_types(std::string_view what, IntType input, IntType output, int32_t zx,
                   const fixedpoint::Requantizer& rq, int64_t channels) {
  if (input == IntType::kS32) {
    return invalid_argument("cannot prepare {}: input type = s32, must be u8 or s8", what);
  }
  const int32_t in_lo = input == IntType::kU8 ? 0 : -128;
  const int32_t in_hi = input == IntType::kU8 ? 255 : 127;
  if (zx < in_lo || zx > in_hi) {
    return invalid_argument("cannot prepare {}: input zero point = {}, must be in [{}, {}] ({})",
                            what, zx, in_lo, in_hi, int_type_name(input));
  }
  if (output == IntType::kS32) return {};
  if (rq.channels() != 1 && rq.channels() != channels) {
    return invalid_argument("cannot prepare {}: requantizer channels = {}, must be 1 or {}", what,
                            rq.channels(), channels);
  }
  const int32_t out_lo = output == IntType::kU8 ? 0 : -128;
  const int32_t out_hi = output == IntType::kU8 ? 255 : 127;
  if (rq.qmin() < out_lo || rq.qmax() > out_hi) {
    return invalid_argument(
        "cannot prepare {}: output clamp = [{}, {}], must lie inside [{}, {}] ({})", what,
        rq.qmin(), rq.qmax(), out_lo, out_hi, int_type_name(output));
  }
  return {};
}

Status check_choice(std::string_view what, KernelChoice choice) {
  if (!kernel_choice_available(choice)) {
    return unsupported("cannot prepare {}: kernel = {}, must be one this CPU runs", what,
                       kernel_choice_name(choice));
  }
  return {};
}

template <typename TIn>
void conv_ref_sample(const ConvS8Params& p, IntType out_t, const void* in, void* out,
                     std::span<const int8_t> w, std::span<const int32_t> bias) {
  const fixedpoint::ConvGeometry& g = p.geometry;
  const std::span<const TIn> x(static_cast<const TIn*>(in), static_cast<size_t>(g.input_numel()));
  const auto on = static_cast<size_t>(g.output_numel());
  Status s;
  switch (out_t) {
    case IntType::kU8:
      s = conv2d_s8_ref<TIn, uint8_t>(p, x, w, bias, {static_cast<uint8_t*>(out), on});
      break;
    case IntType::kS8:
      s = conv2d_s8_ref<TIn, int8_t>(p, x, w, bias, {static_cast<int8_t*>(out), on});
      break;
    case IntType::kS32:
      s = conv2d_s8s8s32_ref<TIn>(p, x, w, bias, {static_cast<int32_t*>(out), on});
      break;
  }
  (void)s;  // validated by prepare()
}

template <typename TIn>
void fc_ref(const FullyConnectedS8Params& p, IntType out_t, const void* in, void* out,
            std::span<const int8_t> w, std::span<const int32_t> bias) {
  const std::span<const TIn> x(static_cast<const TIn*>(in),
                               static_cast<size_t>(p.batch * p.in_features));
  const auto on = static_cast<size_t>(p.batch * p.out_features);
  Status s;
  switch (out_t) {
    case IntType::kU8:
      s = fully_connected_s8_ref<TIn, uint8_t>(p, x, w, bias, {static_cast<uint8_t*>(out), on});
      break;
    case IntType::kS8:
      s = fully_connected_s8_ref<TIn, int8_t>(p, x, w, bias, {static_cast<int8_t*>(out), on});
      break;
    case IntType::kS32:
      s = fully_connected_s8s8s32_ref<TIn>(p, x, w, bias, {static_cast<int32_t*>(out), on});
      break;
  }
  (void)s;
}

size_t type_size(IntType t) { return t == IntType::kS32 ? 4 : 1; }

}  // namespace

// ---------------------------------------------------------------- convolution

struct ConvS8Kernel::Impl {
  ConvS8Params p;  // geometry.batch = 1
  IntType in = IntType::kU8, out = IntType::kU8;
  KernelChoice choice = KernelChoice::kRef;
  std::string variant;
  std::vector<int8_t> weights;  // kRef: the original tensors
  std::vector<int32_t> bias;
};

ConvS8Kernel::ConvS8Kernel(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ConvS8Kernel::ConvS8Kernel(ConvS8Kernel&&) noexcept = default;
ConvS8Kernel& ConvS8Kernel::operator=(ConvS8Kernel&&) noexcept = default;
ConvS8Kernel::~ConvS8Kernel() = default;
std::string_view ConvS8Kernel::variant() const { return impl_->variant; }
KernelChoice ConvS8Kernel::choice() const { return impl_->choice; }
const ConvS8Params& ConvS8Kernel::params() const { return impl_->p; }
IntType ConvS8Kernel::input_type() const { return impl_->in; }
IntType ConvS8Kernel::output_type() const { return impl_->out; }

Result<ConvS8Kernel> ConvS8Kernel::prepare(const ConvS8Params& params,
                                           std::span<const int8_t> weights,
                                           std::span<const int32_t> bias, IntType input,
                                           IntType output, KernelChoice choice) {
  constexpr std::string_view kWhat = "int8 convolution";
  ConvS8Params p = params;
  p.geometry.batch = 1;
  EI8_RETURN_IF_ERROR(p.validate());
  const fixedpoint::ConvGeometry& g = p.geometry;
  EI8_RETURN_IF_ERROR(
      check_types(kWhat, input, output, p.input_zero_point, p.requant, g.out_channels));
  if (static_cast<int64_t>(weights.size()) != g.weight_numel()) {
    return invalid_argument("cannot prepare {}: weight size = {}, must be {}", kWhat,
                            weights.size(), g.weight_numel());
  }
  if (!bias.empty() && static_cast<int64_t>(bias.size()) != g.out_channels) {
    return invalid_argument("cannot prepare {}: bias size = {}, must be 0 or {}", kWhat,
                            bias.size(), g.out_channels);
  }
  EI8_RETURN_IF_ERROR(check_choice(kWhat, choice));
  auto impl = std::make_unique<Impl>();
  Impl& m = *impl;
  m.p = std::move(p);
  m.in = input;
  m.out = output;
  m.choice = KernelChoice::kRef;  // the fast tiers follow in the next commits
  m.variant = "ref";
  m.weights.assign(weights.begin(), weights.end());
  m.bias.assign(bias.begin(), bias.end());
  return ConvS8Kernel(std::move(impl));
}

size_t ConvS8Kernel::scratch_bytes(int64_t /*batch*/) const { return 0; }

void ConvS8Kernel::run(const void* input, void* output, std::byte* /*scratch*/,
                       int64_t batch) const {
  const Impl& m = *impl_;
  const fixedpoint::ConvGeometry& g = m.p.geometry;
  const int64_t in_elems = g.input_numel(), out_elems = g.output_numel();
  for (int64_t n = 0; n < batch; ++n) {
    const void* x = static_cast<const std::byte*>(input) + n * in_elems;
    void* y =
        static_cast<std::byte*>(output) + n * out_elems * static_cast<int64_t>(type_size(m.out));
    if (m.in == IntType::kU8) {
      conv_ref_sample<uint8_t>(m.p, m.out, x, y, m.weights, m.bias);
    } else {
      conv_ref_sample<int8_t>(m.p, m.out, x, y, m.weights, m.bias);
    }
  }
}

// ---------------------------------------------------------------- fully connected

struct FullyConnectedS8Kernel::Impl {
  FullyConnectedS8Params p;  // batch = 1
  IntType in = IntType::kU8, out = IntType::kU8;
  KernelChoice choice = KernelChoice::kRef;
  std::string variant;
  std::vector<int8_t> weights;  // [out, in]
  std::vector<int32_t> bias;
};

FullyConnectedS8Kernel::FullyConnectedS8Kernel(std::unique_ptr<Impl> impl)
    : impl_(std::move(impl)) {}
FullyConnectedS8Kernel::FullyConnectedS8Kernel(FullyConnectedS8Kernel&&) noexcept = default;
FullyConnectedS8Kernel& FullyConnectedS8Kernel::operator=(FullyConnectedS8Kernel&&) noexcept =
    default;
FullyConnectedS8Kernel::~FullyConnectedS8Kernel() = default;
std::string_view FullyConnectedS8Kernel::variant() const { return impl_->variant; }
KernelChoice FullyConnectedS8Kernel::choice() const { return impl_->choice; }
const FullyConnectedS8Params& FullyConnectedS8Kernel::params() const { return impl_->p; }
IntType FullyConnectedS8Kernel::input_type() const { return impl_->in; }
IntType FullyConnectedS8Kernel::output_type() const { return impl_->out; }

Result<FullyConnectedS8Kernel> FullyConnectedS8Kernel::prepare(const FullyConnectedS8Params& params,
                                                               std::span<const int8_t> weights,
                                                               std::span<const int32_t> bias,
                                                               WeightLayout layout, IntType input,
                                                               IntType output,
                                                               KernelChoice choice) {
  constexpr std::string_view kWhat = "int8 fully connected";
  FullyConnectedS8Params p = params;
  p.batch = 1;
  EI8_RETURN_IF_ERROR(p.validate());
  EI8_RETURN_IF_ERROR(
      check_types(kWhat, input, output, p.input_zero_point, p.requant, p.out_features));
  const int64_t k = p.in_features, n_out = p.out_features;
  if (static_cast<int64_t>(weights.size()) != k * n_out) {
    return invalid_argument("cannot prepare {}: weight size = {}, must be {}", kWhat,
                            weights.size(), k * n_out);
  }
  if (!bias.empty() && static_cast<int64_t>(bias.size()) != n_out) {
    return invalid_argument("cannot prepare {}: bias size = {}, must be 0 or {}", kWhat,
                            bias.size(), n_out);
  }
  EI8_RETURN_IF_ERROR(check_choice(kWhat, choice));
  auto impl = std::make_unique<Impl>();
  Impl& m = *impl;
  m.p = std::move(p);
  m.in = input;
  m.out = output;
  m.choice = KernelChoice::kRef;
  m.variant = "ref";
  m.weights.resize(weights.size());
  for (int64_t o = 0; o < n_out; ++o) {
    for (int64_t i = 0; i < k; ++i) {
      m.weights[static_cast<size_t>(o * k + i)] = layout == WeightLayout::kOutIn
                                                      ? weights[static_cast<size_t>(o * k + i)]
                                                      : weights[static_cast<size_t>(i * n_out + o)];
    }
  }
  m.bias.assign(bias.begin(), bias.end());
  return FullyConnectedS8Kernel(std::move(impl));
}

size_t FullyConnectedS8Kernel::scratch_bytes(int64_t /*batch*/) const { return 0; }

void FullyConnectedS8Kernel::run(const void* input, void* output, std::byte* /*scratch*/,
                                 int64_t batch) const {
  const Impl& m = *impl_;
  const int64_t in_row = m.p.in_features,
                out_row = m.p.out_features * static_cast<int64_t>(type_size(m.out));
  for (int64_t n = 0; n < batch; ++n) {  // one row per call: m.p.batch = 1, nothing to copy
    const void* x = static_cast<const std::byte*>(input) + n * in_row;
    void* y = static_cast<std::byte*>(output) + n * out_row;
    if (m.in == IntType::kU8) {
      fc_ref<uint8_t>(m.p, m.out, x, y, m.weights, m.bias);
    } else {
      fc_ref<int8_t>(m.p, m.out, x, y, m.weights, m.bias);
    }
  }
}

}  // namespace ei8::kernels
