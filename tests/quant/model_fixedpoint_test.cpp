// Fixed-point analysis of a model's real layers (quant/model_fixedpoint.h): K and bounds from
// the layer view and the quantized weights, bits reached on calibration data checked against an
// independent accumulation written here.
#include "ei8/quant/model_fixedpoint.h"

#include <gtest/gtest.h>

#include <cmath>

#include "ei8/graph/onnx/onnx_io.h"
#include "ei8/graph/passes.h"
#include "ei8/graph/shape_inference.h"
#include "ei8/quant/calibration.h"
#include "test_graphs.h"

namespace ei8::quant {
namespace {

constexpr uint64_t kSeed = 20260611;

Tensor calib_data(uint64_t seed, int64_t n) {
  Rng rng(seed);
  return random_tensor(rng, {n, 3, 8, 8}, -1.0f, 1.0f);
}

TEST(ModelFixedPoint, FloatModelWithoutDataGivesKAndTheFormulaOnly) {
  const Graph g = small_cnn(kSeed);
  Result<ModelFixedPoint> r = analyze_model_fixed_point(g, nullptr, {});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_FALSE(r->quantized);
  ASSERT_EQ(r->layers.size(), 2u);
  EXPECT_EQ(r->layers[0].k, 27);  // 3 channels · 3×3
  EXPECT_EQ(r->layers[1].k, 64);  // Gemm over 4·4·4 features
  for (const LayerFixedPoint& l : r->layers) {
    EXPECT_EQ(l.operands, fixedpoint::OperandKind::kU8S8);
    EXPECT_EQ(l.bound.accumulator_bits, 17 + fixedpoint::ceil_log2(l.k));
    EXPECT_FALSE(l.has_weight_bound);
    EXPECT_FALSE(l.has_observed);
    EXPECT_NE(l.note.find("float model"), std::string::npos) << l.note;
  }
}

// max |Σ (x_q − z_x)(w_q − z_w) + b_q| of the first conv, written independently: plain loops
// over the quantized calibration input of the QDQ model PTQ makes from the same data.
int64_t first_conv_max_acc(const Graph& float_graph, const Tensor& x) {
  Graph g = float_graph;
  EXPECT_TRUE(optimize(g).ok());
  const Statistics st = collect_statistics(g, x, {}).value();
  const PtqOptions po;
  const CalibTable table = make_table(st, calib_target(po, CalibParams{})).value();
  Graph q = quantize_model(g, table, po).value().qdq;
  EXPECT_TRUE(infer_shapes(q).ok());
  const LayerView v = layer_view(q).value();
  const LayerGeometry& c = v.layers.front();
  EXPECT_EQ(c.op_type, "Conv");
  const LayerQuant& lq = c.quant.value();
  const float sx = lq.input.scales[0];
  const int32_t zx = lq.input.zero_points[0];
  const Tensor& w = *q.constant(lq.weight.value);
  const Tensor& b = *q.constant(lq.bias->value);
  const int64_t n = x.dim(0);
  int64_t best = 0;
  for (int64_t s = 0; s < n; ++s) {
    for (int64_t oc = 0; oc < 4; ++oc) {
      for (int64_t oh = 0; oh < 8; ++oh) {
        for (int64_t ow = 0; ow < 8; ++ow) {
          int64_t acc = b.span<int32_t>()[static_cast<size_t>(oc)];
          for (int64_t ic = 0; ic < 3; ++ic) {
            for (int64_t kh = 0; kh < 3; ++kh) {
              for (int64_t kw = 0; kw < 3; ++kw) {
                const int64_t ih = oh + kh - 1, iw = ow + kw - 1;
                if (ih < 0 || ih >= 8 || iw < 0 || iw >= 8) continue;
                const float xv =
                    x.span<float>()[static_cast<size_t>(((s * 3 + ic) * 8 + ih) * 8 + iw)];
                // QuantizeLinear: round half to even of x / s, + z, clamp to u8.
                const int64_t xq =
                    std::clamp<int64_t>(static_cast<int64_t>(std::nearbyint(xv / sx)) + zx, 0, 255);
                const int64_t wq =
                    w.span<int8_t>()[static_cast<size_t>(((oc * 3 + ic) * 3 + kh) * 3 + kw)];
                acc += (xq - zx) * wq;
              }
            }
          }
          best = std::max(best, std::abs(acc));
        }
      }
    }
  }
  return best;
}

TEST(ModelFixedPoint, CalibrationDataGivesWeightBoundAndReachedBits) {
  const Graph g = small_cnn(kSeed + 1);
  const Tensor x = calib_data(kSeed + 2, 24);
  ModelFixedPointOptions o;
  o.widths = {8, 12, 16, 32};
  Result<ModelFixedPoint> r = analyze_model_fixed_point(g, &x, o);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_TRUE(r->quantized_here);
  EXPECT_EQ(r->calib_samples, 24);
  ASSERT_EQ(r->layers.size(), 2u);
  for (const LayerFixedPoint& l : r->layers) {
    ASSERT_TRUE(l.integer_operands) << l.node << ": " << l.note;
    ASSERT_TRUE(l.has_weight_bound) << l.node;
    ASSERT_TRUE(l.has_observed) << l.node;
    // What the data reaches ≤ what these weights can reach ≤ the bits of the data-free bound
    // (plus one bit for the bias, which the data-free bound leaves out).
    EXPECT_LE(l.observed_partial_abs, l.weight_bound_abs) << l.node;
    EXPECT_LE(l.observed_bits, l.weight_bound_bits) << l.node;
    EXPECT_LE(l.weight_bound_bits, l.bound.worst_case_bits + 1) << l.node;
    EXPECT_GT(l.observed_abs, 0) << l.node;
    std::printf("[ info ] %s K=%lld formula %d exact %d weights %d reached %d bits\n",
                l.node.c_str(), static_cast<long long>(l.k), l.bound.accumulator_bits,
                l.bound.worst_case_bits, l.weight_bound_bits, l.observed_bits);
    // Widths at or above the bits reached change nothing; one bit less overflows somewhere.
    ASSERT_TRUE(l.overflow.has_value());
    for (const fixedpoint::OverflowPoint& p : l.overflow->points) {
      if (p.width >= l.observed_bits) {
        EXPECT_EQ(p.overflowed, 0) << l.node << " " << p.width;
      }
      if (p.width < l.observed_bits) {
        EXPECT_GT(p.overflowed, 0) << l.node << " " << p.width;
      }
    }
  }
  EXPECT_EQ(r->layers[0].observed_abs, first_conv_max_acc(g, x));
}

TEST(ModelFixedPoint, QdqFileFromAnotherProducer) {
  Result<Graph> g = load_onnx(std::string(EI8_TEST_DATA_DIR) + "/qdq/qdq_pertensor.onnx");
  ASSERT_TRUE(g.ok());
  const Tensor x = calib_data(kSeed + 3, 8);
  Result<ModelFixedPoint> r = analyze_model_fixed_point(*g, &x, {});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_TRUE(r->quantized);
  EXPECT_FALSE(r->quantized_here);
  ASSERT_EQ(r->layers.size(), 2u);
  EXPECT_EQ(r->layers[0].k, 27);
  for (const LayerFixedPoint& l : r->layers) {
    EXPECT_TRUE(l.has_weight_bound) << l.note;
    EXPECT_TRUE(l.has_observed) << l.note;
    EXPECT_LE(l.observed_partial_abs, l.weight_bound_abs);
  }
}

TEST(ModelFixedPoint, BadInputIsOneClearError) {
  const Graph g = small_cnn(kSeed + 4);
  Rng rng(kSeed + 5);
  const Tensor wrong = random_tensor(rng, {4, 1, 8, 8}, -1.0f, 1.0f);
  Result<ModelFixedPoint> r = analyze_model_fixed_point(g, &wrong, {});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("cannot read calibration data"), std::string::npos)
      << r.status().message();
  EXPECT_NE(r.status().message().find("[4, 1, 8, 8]"), std::string::npos) << r.status().message();
  ModelFixedPointOptions o;
  o.widths = {1};
  EXPECT_FALSE(analyze_model_fixed_point(g, nullptr, o).ok());
  o.widths = {};
  o.batch = 0;
  EXPECT_FALSE(analyze_model_fixed_point(g, nullptr, o).ok());
}

}  // namespace
}  // namespace ei8::quant
