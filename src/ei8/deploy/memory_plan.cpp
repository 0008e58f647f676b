#include "ei8/deploy/memory_plan.h"

#include <algorithm>
#include <limits>
#include <numeric>

namespace ei8::deploy {
namespace {

constexpr int64_t kInf = std::numeric_limits<int64_t>::max() / 4;

bool alive_together(const PlanBuffer& a, const PlanBuffer& b) {
  return a.first <= b.last && b.first <= a.last;
}

bool disjoint(int64_t a_off, int64_t a_bytes, int64_t b_off, int64_t b_bytes) {
  return a_off + a_bytes <= b_off || b_off + b_bytes <= a_off;
}

// Directions a rule allows for the offsets given: bit 0 forward, bit 1 backward.
int rule_dirs(const PlanProblem& p, const OverlapRule& r, int64_t in_off, int64_t out_off) {
  const int64_t in_bytes = p.buffers[static_cast<size_t>(r.input)].bytes;
  const int64_t out_bytes = p.buffers[static_cast<size_t>(r.output)].bytes;
  if (disjoint(in_off, in_bytes, out_off, out_bytes)) return 3;
  const int64_t delta = out_off - in_off;
  return (delta <= -r.forward_gap ? 1 : 0) | (delta >= r.backward_gap ? 2 : 0);
}

// Index of the rule between buffers a and b (either role), or −1.
int rule_between(const PlanProblem& p, int a, int b) {
  for (size_t i = 0; i < p.rules.size(); ++i) {
    const OverlapRule& r = p.rules[i];
    if ((r.input == a && r.output == b) || (r.input == b && r.output == a)) {
      return static_cast<int>(i);
    }
  }
  return -1;
}

// The directions every step allows given the placed buffers (3 = both).
std::vector<int> step_dirs(const PlanProblem& p, const std::vector<int64_t>& off,
                           const std::vector<bool>& placed) {
  std::vector<int> dirs(static_cast<size_t>(std::max(p.steps, 1)), 3);
  for (const OverlapRule& r : p.rules) {
    if (!placed[static_cast<size_t>(r.input)] || !placed[static_cast<size_t>(r.output)]) continue;
    dirs[static_cast<size_t>(r.step)] &=
        rule_dirs(p, r, off[static_cast<size_t>(r.input)], off[static_cast<size_t>(r.output)]);
  }
  return dirs;
}

// Can buffer k sit at x given the placed ones (`use_rules`: overlaps the rules allow)?
bool feasible(const PlanProblem& p, const std::vector<int64_t>& off,
              const std::vector<bool>& placed, int k, int64_t x, bool use_rules) {
  const PlanBuffer& bk = p.buffers[static_cast<size_t>(k)];
  std::vector<int> dirs;
  bool rules_touched = false;
  for (size_t j = 0; j < p.buffers.size(); ++j) {
    if (!placed[j] || static_cast<int>(j) == k) continue;
    const PlanBuffer& bj = p.buffers[j];
    if (!alive_together(bk, bj) || disjoint(x, bk.bytes, off[j], bj.bytes)) continue;
    if (!use_rules || rule_between(p, k, static_cast<int>(j)) < 0) return false;
    rules_touched = true;
  }
  if (!rules_touched) return true;
  std::vector<int64_t> off2 = off;
  std::vector<bool> placed2 = placed;
  off2[static_cast<size_t>(k)] = x;
  placed2[static_cast<size_t>(k)] = true;
  dirs = step_dirs(p, off2, placed2);
  return std::all_of(dirs.begin(), dirs.end(), [](int d) { return d != 0; });
}

MemoryPlan finish(const PlanProblem& p, std::string strategy, std::vector<int64_t> off) {
  MemoryPlan plan;
  plan.strategy = std::move(strategy);
  int64_t lo = 0, hi = 0;
  if (!off.empty()) {
    lo = kInf;
    hi = -kInf;
    for (size_t i = 0; i < off.size(); ++i) {
      lo = std::min(lo, off[i]);
      hi = std::max(hi, off[i] + p.buffers[i].bytes);
    }
  }
  for (int64_t& o : off) o -= lo;
  plan.arena_bytes = hi - lo;
  const std::vector<bool> all(off.size(), true);
  const std::vector<int> dirs = step_dirs(p, off, all);
  plan.reverse.assign(static_cast<size_t>(p.steps), false);
  for (int s = 0; s < p.steps; ++s)
    plan.reverse[static_cast<size_t>(s)] = dirs[static_cast<size_t>(s)] == 2;
  plan.offsets = std::move(off);
  return plan;
}

}  // namespace

MemoryPlan plan_greedy_by_size(const PlanProblem& p) {
  std::vector<int> order(p.buffers.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) {
    const PlanBuffer &ba = p.buffers[static_cast<size_t>(a)],
                     &bb = p.buffers[static_cast<size_t>(b)];
    if (ba.bytes != bb.bytes) return ba.bytes > bb.bytes;
    return ba.first < bb.first;
  });
  std::vector<int64_t> off(p.buffers.size(), 0);
  std::vector<bool> placed(p.buffers.size(), false);
  for (int k : order) {
    const PlanBuffer& bk = p.buffers[static_cast<size_t>(k)];
    // Placed buffers alive at the same time, by offset; the first gap that fits.
    std::vector<int> live;
    for (size_t j = 0; j < p.buffers.size(); ++j) {
      if (placed[j] && alive_together(bk, p.buffers[j])) live.push_back(static_cast<int>(j));
    }
    std::sort(live.begin(), live.end(), [&](int a, int b) {
      return off[static_cast<size_t>(a)] < off[static_cast<size_t>(b)];
    });
    int64_t x = 0;
    for (int j : live) {
      if (x + bk.bytes <= off[static_cast<size_t>(j)]) break;
      x = std::max(x, off[static_cast<size_t>(j)] + p.buffers[static_cast<size_t>(j)].bytes);
    }
    off[static_cast<size_t>(k)] = x;
    placed[static_cast<size_t>(k)] = true;
  }
  return finish(p, "greedy-by-size", std::move(off));
}

MemoryPlan plan_inplace_bestfit(const PlanProblem& p) {
  std::vector<int> order(p.buffers.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) {
    const PlanBuffer &ba = p.buffers[static_cast<size_t>(a)],
                     &bb = p.buffers[static_cast<size_t>(b)];
    if (ba.first != bb.first) return ba.first < bb.first;
    return ba.bytes > bb.bytes;
  });
  std::vector<int64_t> off(p.buffers.size(), 0);
  std::vector<bool> placed(p.buffers.size(), false);
  int64_t span_lo = 0, span_hi = 0;
  bool any = false;
  for (int k : order) {
    const int64_t size = p.buffers[static_cast<size_t>(k)].bytes;
    std::vector<int64_t> cand = {0, span_lo, span_hi - size, span_lo - size, span_hi};
    for (size_t j = 0; j < p.buffers.size(); ++j) {
      if (!placed[j]) continue;
      cand.push_back(off[j]);
      cand.push_back(off[j] + p.buffers[j].bytes);
      cand.push_back(off[j] - size);
      cand.push_back(off[j] + p.buffers[j].bytes - size);
    }
    for (const OverlapRule& r : p.rules) {
      if (r.output == k && placed[static_cast<size_t>(r.input)]) {
        cand.push_back(off[static_cast<size_t>(r.input)] - r.forward_gap);
        cand.push_back(off[static_cast<size_t>(r.input)] + r.backward_gap);
      }
    }
    int64_t best = 0, best_cost = kInf;
    for (int64_t x : cand) {
      const int64_t cost = any ? std::max(span_hi, x + size) - std::min(span_lo, x) : size;
      if (cost > best_cost || (cost == best_cost && x >= best)) continue;
      if (!feasible(p, off, placed, k, x, true)) continue;
      best = x;
      best_cost = cost;
    }
    off[static_cast<size_t>(k)] = best;
    placed[static_cast<size_t>(k)] = true;
    span_lo = any ? std::min(span_lo, best) : best;
    span_hi = any ? std::max(span_hi, best + size) : best + size;
    any = true;
  }
  return finish(p, "inplace-bestfit", std::move(off));
}

Status check_plan(const PlanProblem& p, const MemoryPlan& plan) {
  if (plan.offsets.size() != p.buffers.size()) {
    return internal_error("cannot check the memory plan: offsets = {}, must be {}",
                          plan.offsets.size(), p.buffers.size());
  }
  for (size_t i = 0; i < p.buffers.size(); ++i) {
    if (plan.offsets[i] < 0 || plan.offsets[i] + p.buffers[i].bytes > plan.arena_bytes) {
      return internal_error(
          "cannot check the memory plan: buffer '{}' = [{}, {}), must lie in [0, {})",
          p.buffers[i].name, plan.offsets[i], plan.offsets[i] + p.buffers[i].bytes,
          plan.arena_bytes);
    }
    for (size_t j = i + 1; j < p.buffers.size(); ++j) {
      const PlanBuffer &a = p.buffers[i], &b = p.buffers[j];
      if (!alive_together(a, b) || disjoint(plan.offsets[i], a.bytes, plan.offsets[j], b.bytes)) {
        continue;
      }
      const int r = rule_between(p, static_cast<int>(i), static_cast<int>(j));
      bool ok = false;
      if (r >= 0) {
        const OverlapRule& rule = p.rules[static_cast<size_t>(r)];
        const int dirs = rule_dirs(p, rule, plan.offsets[static_cast<size_t>(rule.input)],
                                   plan.offsets[static_cast<size_t>(rule.output)]);
        const bool rev = static_cast<size_t>(rule.step) < plan.reverse.size() &&
                         plan.reverse[static_cast<size_t>(rule.step)];
        ok = (dirs & (rev ? 2 : 1)) != 0;
      }
      if (!ok) {
        return internal_error(
            "cannot check the memory plan: buffers '{}' and '{}' overlap = [{}, {}) and [{}, {}), "
            "must be disjoint or an allowed in-place overlap",
            a.name, b.name, plan.offsets[i], plan.offsets[i] + a.bytes, plan.offsets[j],
            plan.offsets[j] + b.bytes);
      }
    }
  }
  return {};
}

std::vector<int64_t> live_bytes(const PlanProblem& p) {
  std::vector<int64_t> live(static_cast<size_t>(p.steps), 0);
  for (const PlanBuffer& b : p.buffers) {
    for (int s = std::max(b.first, 0); s <= b.last && s < p.steps; ++s) {
      live[static_cast<size_t>(s)] += b.bytes;
    }
  }
  return live;
}

std::pair<int64_t, int64_t> overlap_gaps(const DeployModel& m, const Step& s, size_t input_index) {
  const TensorDesc& in = m.tensors[static_cast<size_t>(s.inputs[input_index])];
  const TensorDesc& out = m.tensors[static_cast<size_t>(s.output)];
  const std::pair<int64_t, int64_t> none = {out.bytes(), in.bytes()};
  const bool same_shape = in.c == out.c && in.h == out.h && in.w == out.w;
  if ((s.kind == StepKind::kBinaryF32 || s.kind == StepKind::kUnaryF32) && same_shape &&
      in.layout == out.layout && in.f32 && out.f32) {
    // Float element e is read, then written at the same address (same layout and size).
    return {0, 0};
  }
  if (in.f32 || out.f32) return none;  // Quantize / Dequantize change the element size
  if (!in.packed_channels_last() || !out.packed_channels_last()) return none;
  if (s.kind == StepKind::kAdd || s.kind == StepKind::kMul || s.kind == StepKind::kClamp ||
      s.kind == StepKind::kLookup) {
    // Element e is read, then written at the same address, in storage order.
    if (!same_shape) return none;
    return {0, 0};
  }
  if (s.kind != StepKind::kConv && s.kind != StepKind::kMaxPool && s.kind != StepKind::kAvgPool) {
    return none;
  }
  // Pixel p of the output writes [p·C_o, (p+1)·C_o) and reads inside [rmin(p), rmax(p)] of the
  // input (the rows and columns of its window inside the input, every channel). A write may
  // come before a read of the same pixel (the channels loop re-reads the window).
  const int64_t pixels = out.h * out.w;
  std::vector<int64_t> rmin(static_cast<size_t>(pixels), kInf),
      rmax(static_cast<size_t>(pixels), -kInf);
  auto range = [](int64_t o, int64_t stride, int64_t pad, int64_t k, int64_t dil, int64_t size,
                  int64_t& lo, int64_t& hi) {
    lo = kInf;
    hi = -kInf;
    for (int64_t t = 0; t < k; ++t) {
      const int64_t i = o * stride - pad + t * dil;
      if (i < 0 || i >= size) continue;
      lo = std::min(lo, i);
      hi = std::max(hi, i);
    }
  };
  for (int64_t oh = 0; oh < out.h; ++oh) {
    int64_t h0 = 0, h1 = 0;
    range(oh, s.stride_h, s.pad_top, s.kernel_h, s.dilation_h, in.h, h0, h1);
    for (int64_t ow = 0; ow < out.w; ++ow) {
      int64_t w0 = 0, w1 = 0;
      range(ow, s.stride_w, s.pad_left, s.kernel_w, s.dilation_w, in.w, w0, w1);
      if (h0 > h1 || w0 > w1) continue;  // the window lies in the padding
      const auto p = static_cast<size_t>(oh * out.w + ow);
      rmin[p] = (h0 * in.w + w0) * in.c;
      rmax[p] = (h1 * in.w + w1) * in.c + in.c - 1;
    }
  }
  // Forward: offset(out) + (p+1)·C_o − 1 < offset(in) + min_{q ≥ p} rmin(q) for every p.
  int64_t forward = -kInf, suffix = kInf;
  for (int64_t p = pixels - 1; p >= 0; --p) {
    suffix = std::min(suffix, rmin[static_cast<size_t>(p)]);
    if (suffix < kInf) forward = std::max(forward, (p + 1) * out.c - suffix);
  }
  // Backward: offset(out) + p·C_o > offset(in) + max_{q ≤ p} rmax(q) for every p.
  int64_t backward = -kInf, prefix = -kInf;
  for (int64_t p = 0; p < pixels; ++p) {
    prefix = std::max(prefix, rmax[static_cast<size_t>(p)]);
    if (prefix > -kInf) backward = std::max(backward, prefix - p * out.c + 1);
  }
  return {std::clamp(forward, -in.numel(), out.numel()),
          std::clamp(backward, -out.numel(), in.numel())};
}

ModelPlanProblem plan_problem(const DeployModel& m) {
  ModelPlanProblem mp;
  mp.arena_index.assign(m.buffers.size(), -1);
  for (size_t b = 0; b < m.buffers.size(); ++b) {
    const Buffer& buf = m.buffers[b];
    if (buf.kind != BufferKind::kArena) continue;
    mp.arena_index[b] = static_cast<int>(mp.problem.buffers.size());
    mp.problem.buffers.push_back({buf.name, buf.bytes, buf.first_step, buf.last_step});
  }
  mp.problem.steps = static_cast<int>(m.steps.size());
  for (size_t si = 0; si < m.steps.size(); ++si) {
    const Step& s = m.steps[si];
    const int ob = m.tensors[static_cast<size_t>(s.output)].buffer;
    const int o = mp.arena_index[static_cast<size_t>(ob)];
    if (o < 0) continue;
    for (size_t i = 0; i < s.inputs.size(); ++i) {
      const int ib = m.tensors[static_cast<size_t>(s.inputs[i])].buffer;
      const int in = mp.arena_index[static_cast<size_t>(ib)];
      if (in < 0 || ib == ob ||
          m.buffers[static_cast<size_t>(ib)].last_step != static_cast<int>(si)) {
        continue;
      }
      // A buffer read twice by the step (x + x) cannot be overwritten by either read's rule.
      if (std::count(s.inputs.begin(), s.inputs.end(), s.inputs[i]) > 1) continue;
      const auto [fwd, bwd] = overlap_gaps(m, s, i);
      if (fwd >= m.buffers[static_cast<size_t>(ob)].bytes &&
          bwd >= m.buffers[static_cast<size_t>(ib)].bytes) {
        continue;  // disjoint only
      }
      mp.problem.rules.push_back({static_cast<int>(si), in, o, fwd, bwd});
    }
  }
  return mp;
}

Result<PlanSet> plan_memory(const DeployModel& m) {
  PlanSet set;
  set.problem = plan_problem(m);
  const PlanProblem& p = set.problem.problem;
  set.greedy = plan_greedy_by_size(p);
  MemoryPlan inplace = plan_inplace_bestfit(p);
  EI8_RETURN_IF_ERROR(check_plan(p, set.greedy));
  EI8_RETURN_IF_ERROR(check_plan(p, inplace));
  set.best = inplace.arena_bytes <= set.greedy.arena_bytes ? std::move(inplace) : set.greedy;
  const std::vector<int64_t> live = live_bytes(p);
  set.lower_bound = live.empty() ? 0 : *std::max_element(live.begin(), live.end());
  return set;
}

}  // namespace ei8::deploy
