// The Winograd F(2×2, 3×3) plan of Conv2dF32 (f32_winograd.h): when it pays off, the weight
// transform and packing, the quad tables, and run() (staging + the tier's kernel).
#include <algorithm>
#include <cstring>
#include <span>

#include "ei8/runtime/kernels/f32_internal.h"

namespace ei8::kernels {
namespace {

constexpr int64_t kMaxElements = int64_t{1} << 30;  // offsets are int32 in the plans

// Quads per kernel call below which several images share the tile blocks (a block holds 4 or
// 6 quads; small images would otherwise leave most of the last block empty).
constexpr int64_t kFoldQuads = 24;
constexpr int64_t kMaxFold = 8;

}  // namespace

bool winograd_pays_off(const Conv2dParams& p, KernelChoice tier) {
  // Measured with bench/ei8_kernels_f32_bench (the crossover/ cases: c channels in and out,
  // h×w outputs, one image per call as the executor runs; µs direct → winograd, AVX2 tier):
  //   c4: 4.90 → 6.05 (32×32), 0.445 → 0.470 (4×4); c8: 20.2 → 17.9 (32×32), 1.73 → 1.29
  //   (4×4); c16: 74.9 → 54.7, 4.16 → 3.23; c64: 951 → 486, 31.7 → 22.9. The transforms cost
  //   O(in_c + out_c) per tile against the GEMM's O(in_c·out_c) savings: 8 channels pay on
  //   AVX2. The portable tier's transforms are slower: c8 130 → 167 µs (32×32) but c16
  //   532 → 394, c64 299 → 159 (8×8).
  const int64_t min_channels = tier == KernelChoice::kGeneric ? 16 : 8;
  return p.in_c >= min_channels && p.out_c >= min_channels;
}

void winograd_f23_pack_weights(std::span<const float> weight, int64_t out_c, int64_t in_c, int mr,
                               float* upack) {
  static constexpr double kG[4][3] = {{1, 0, 0}, {0.5, 0.5, 0.5}, {0.5, -0.5, 0.5}, {0, 0, 1}};
  for (int64_t oc = 0; oc < out_c; ++oc) {
    const int64_t b = oc / mr, r = oc % mr;
    for (int64_t ic = 0; ic < in_c; ++ic) {
      const float* g = weight.data() + (oc * in_c + ic) * 9;
      double t[4][3];  // G g
      for (int u = 0; u < 4; ++u) {
        for (int c = 0; c < 3; ++c) {
          t[u][c] = kG[u][0] * g[c] + kG[u][1] * g[3 + c] + kG[u][2] * g[6 + c];
        }
      }
      for (int u = 0; u < 4; ++u) {
        for (int v = 0; v < 4; ++v) {  // (G g) Gᵀ
          const double uv = t[u][0] * kG[v][0] + t[u][1] * kG[v][1] + t[u][2] * kG[v][2];
          upack[((b * 16 + u * 4 + v) * in_c + ic) * mr + r] = static_cast<float>(uv);
        }
      }
    }
  }
}

Status Conv2dF32::Impl::prepare_winograd(std::span<const float> weight_in,
                                         std::span<const float> bias_in) {
  algorithm = ConvAlgorithm::kWinograd;
  stage = ConvStage::kPadded;
  const int64_t oh = p.out_h(), ow = p.out_w();
  const int64_t tiles_y = (oh + 1) / 2, tiles_x = (ow + 1) / 2;
  const int64_t quads_x = (tiles_x + 3) / 4;
  // Staged rows/columns cover every window of every quad: rows up to 2·tiles_y + 1, columns up
  // to 8·quads_x + 1 (the last quad's last tile); outputs of the extension are never stored.
  const int64_t ph = std::max(p.in_h + p.pad_top + p.pad_bottom, 2 * tiles_y + 2);
  const int64_t pw = std::max(p.in_w + p.pad_left + p.pad_right, 8 * quads_x + 2);
  wino_pad_bottom = ph - p.in_h - p.pad_top;
  wino_pad_right = pw - p.in_w - p.pad_left;
  row_stride = pw;
  plane = ph * pw;
  staged_floats = p.in_c * plane;
  if (staged_floats > kMaxElements) {
    return invalid_argument("cannot prepare conv2d: staged input = {} floats, must be <= 2^30",
                            staged_floats);
  }
  for (int64_t ty = 0; ty < tiles_y; ++ty) {
    for (int64_t qx = 0; qx < quads_x; ++qx) {
      qin.push_back(static_cast<int32_t>(2 * ty * pw + 8 * qx));
      qout.push_back(static_cast<int32_t>(2 * ty * ow + 8 * qx));
      qcols.push_back(static_cast<uint8_t>(std::min<int64_t>(8, ow - 8 * qx)));
      qrows.push_back(static_cast<uint8_t>(std::min<int64_t>(2, oh - 2 * ty)));
    }
  }
  const int64_t quads = static_cast<int64_t>(qin.size());
  wino_images = std::clamp<int64_t>((kFoldQuads + quads - 1) / quads, 1, kMaxFold);

  // Tile shape: the one of the tier's register file wasting the fewest rows and quads (the
  // first listed on a tie), as the direct plan.
  const auto used = [&](int64_t rows, int64_t q) {
    const auto round_up = [](int64_t n, int64_t m) { return (n + m - 1) / m * m; };
    const int64_t nq = quads * wino_images;
    return static_cast<double>(p.out_c * nq) /
           static_cast<double>(round_up(p.out_c, rows) * round_up(nq, q));
  };
  const std::span<const WinogradTile> shapes =
      f32_regs(choice) >= 32 ? std::span<const WinogradTile>(kWinogradTiles32)
                             : std::span<const WinogradTile>(kWinogradTiles16);
  WinogradTile best = shapes[0];
  for (const WinogradTile& t : shapes) {
    if (used(t.mr, 2 * t.nv) > used(best.mr, 2 * best.nv)) best = t;
  }
  mr = best.mr;
  nv = best.nv;
  wino_vbuf = 16 * p.in_c * 8 * nv;
  wino_mbuf = 16 * mr * 8 * nv;

  const int64_t blocks = (p.out_c + mr - 1) / mr;
  wpack.assign(static_cast<size_t>(blocks * 16 * p.in_c * mr), 0.0f);
  winograd_f23_pack_weights(weight_in, p.out_c, p.in_c, mr, wpack.data());
  bpack.assign(static_cast<size_t>(blocks * mr), 0.0f);
  std::copy(bias_in.begin(), bias_in.end(), bpack.begin());
  return {};
}

void Conv2dF32::Impl::run_winograd(const float* input, float* output, int64_t batch,
                                   float* scratch) const {
  // The one place that maps a tier to its code (STYLE.md 4).
  const bool generic = choice == KernelChoice::kGeneric;
  void (*padded)(const PaddedStage&) = generic ? stage_padded_f32_generic : stage_padded_f32_avx2;
  void (*kernel)(const WinogradConvArgs&) = choice == KernelChoice::kAvx512
                                                ? conv2d_f32_winograd_avx512
                                            : generic ? conv2d_f32_winograd_generic
                                                      : conv2d_f32_winograd_avx2;
  const int64_t per_call = std::clamp<int64_t>(batch, 1, wino_images);  // as scratch_bytes()
  WinogradConvArgs a{};
  a.src = scratch;
  a.src_image = staged_floats;
  a.plane = plane;
  a.row_stride = row_stride;
  a.in_c = p.in_c;
  a.out_c = p.out_c;
  a.upack = wpack.data();
  a.bias = bpack.data();
  a.dst_image = p.out_size();
  a.out_plane = p.out_h() * p.out_w();
  a.out_w = p.out_w();
  a.quads = static_cast<int64_t>(qin.size());
  a.qin = qin.data();
  a.qout = qout.data();
  a.qcols = qcols.data();
  a.qrows = qrows.data();
  a.vbuf = scratch + per_call * staged_floats;
  a.mbuf = a.vbuf + wino_vbuf;
  a.mr = mr;
  a.nv = nv;
  a.act = p.act;
  for (int64_t n0 = 0; n0 < batch; n0 += per_call) {
    a.images = std::min(per_call, batch - n0);
    for (int64_t i = 0; i < a.images; ++i) {
      padded({input + (n0 + i) * p.in_size(), p.in_c, p.in_h, p.in_w, p.pad_top, p.pad_left,
              wino_pad_bottom, wino_pad_right, plane, scratch + i * staged_floats});
    }
    a.dst = output + n0 * p.out_size();
    kernel(a);
  }
}

}  // namespace ei8::kernels
