#include "ei8/arch/systolic_model.h"

#include <algorithm>
#include <deque>
#include <vector>

namespace ei8::arch {
namespace {

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// Everything derived from (layer, array) that the walks need.
struct Geo {
  int64_t H, W, C, N, Wo, E, K;
  int64_t R = 1, S = 1, sh = 1, sw = 1, Ho = 1;
  int64_t AR, AC;
  Dataflow df;
  FoldGeometry fg;
  // IFMAP(p, k) = p_base[p] + k_off[k] when p_row[p] + k_y[k] < H and p_col[p] + k_x[k] < W,
  // else −1 (research/scalesim.md §4; the operand offsets never reach a report).
  std::vector<int64_t> p_row, p_col, p_base, k_y, k_x, k_off;

  int64_t ifmap_addr(int64_t p, int64_t k) const {
    if (p_row[p] + k_y[k] >= H || p_col[p] + k_x[k] >= W) return -1;
    return p_base[p] + k_off[k];
  }
  int64_t filter_addr(int64_t k, int64_t n) const { return n * K + k; }
  int64_t rows_used(int64_t fr) const { return std::min(AR, fg.sr - fr * AR); }
  int64_t cols_used(int64_t fc) const { return std::min(AC, fg.sc - fc * AC); }
};

// Sets the scalar fields; the tables keep their capacity (they live in a reused Workspace).
void make_geo(Geo& g, const Layer& l, const ArrayConfig& a) {
  g.H = l.ifmap_h;
  g.W = l.ifmap_w;
  g.C = l.channels;
  g.N = l.num_filters;
  g.Wo = l.ofmap_w();
  g.Ho = l.ofmap_h();
  g.R = l.filter_h;
  g.S = l.filter_w;
  g.sh = l.stride_h;
  g.sw = l.stride_w;
  g.E = l.ofmap_pixels();
  g.K = l.window();
  g.AR = a.rows;
  g.AC = a.cols;
  g.df = a.dataflow;
  g.fg = fold_geometry(l, a);
}

void fill_ifmap_tables(Geo& g, const Layer& l) {
  g.p_row.resize(g.E);
  g.p_col.resize(g.E);
  g.p_base.resize(g.E);
  for (int64_t p = 0; p < g.E; ++p) {
    const int64_t oy = p / g.Wo, ox = p % g.Wo;
    g.p_row[p] = oy * l.stride_h;
    g.p_col[p] = ox * l.stride_w;
    g.p_base[p] = (g.p_row[p] * g.W + g.p_col[p]) * g.C;
  }
  g.k_y.resize(g.K);
  g.k_x.resize(g.K);
  g.k_off.resize(g.K);
  const int64_t sc = l.filter_w * g.C;
  for (int64_t k = 0; k < g.K; ++k) {
    const int64_t ky = k / sc, kx = (k % sc) / g.C, kc = k % g.C;
    g.k_y[k] = ky;
    g.k_x[k] = kx;
    g.k_off[k] = (ky * g.W + kx) * g.C + kc;
  }
}

enum class Op { kIfmap, kFilter, kOfmap };

// How one operand is demanded inside fold (fc, fr) (research/scalesim.md §5):
// skewed — row t, lane j holds stream element q = t − off − j when 0 ≤ q < len and j < lanes;
// flipped — rows t < AR hold element q = AR − 1 − t when q < len, on lanes j < lanes.
// The address of (q, j) is IFMAP(x, y) or FILTER(x, y) with x = x0 + (x_is_q ? q : j) and
// y = y0 + (x_is_q ? j : q).
struct Spec {
  bool skewed = true;
  int64_t off = 0, len = 0, lanes = 0;
  int64_t x0 = 0, y0 = 0;
  bool x_is_q = true;
  int64_t stack_row0 = 0;  // row of element q = 0 in the operand's prefetch stack (USER mode)
};

Spec spec_of(const Geo& g, Op op, int64_t fc, int64_t fr) {
  const int64_t ur = g.rows_used(fr), uc = g.cols_used(fc);
  const int64_t r0 = fr * g.AR, c0 = fc * g.AC;
  switch (g.df) {
    case Dataflow::kWs:
      if (op == Op::kIfmap) return {true, g.AR, g.E, ur, 0, r0, true, fr * g.E};  // IFMAP(q, r0+j)
      if (op == Op::kFilter)
        return {false, 0, ur, uc, r0, c0, true, fc * g.K + r0};  // FILTER(r0+q, c0+j)
      return {true, 2 * g.AR - 1, g.E, uc, 0, 0, true, 0};
    case Dataflow::kOs:
      if (op == Op::kIfmap) return {true, 0, g.K, ur, r0, 0, false, fr * g.K};  // IFMAP(r0+j, q)
      if (op == Op::kFilter) return {true, 0, g.K, uc, 0, c0, true, fc * g.K};  // FILTER(q, c0+j)
      return {true, g.fg.t - 1 + g.AR - ur, ur, uc, 0, 0, true, 0};
    case Dataflow::kIs:
      if (op == Op::kIfmap)
        return {false, 0, ur, uc, c0, r0, false, fc * g.K + r0};  // IFMAP(c0+j, r0+q)
      if (op == Op::kFilter)
        return {true, g.AR, g.N, ur, r0, 0, false, fr * g.N};  // FILTER(r0+j, q)
      return {true, 2 * g.AR - 1, g.N, uc, 0, 0, true, 0};
  }
  return {};
}

int64_t addr_of(const Geo& g, Op op, const Spec& s, int64_t q, int64_t j) {
  const int64_t x = s.x0 + (s.x_is_q ? q : j), y = s.y0 + (s.x_is_q ? j : q);
  return op == Op::kIfmap ? g.ifmap_addr(x, y) : g.filter_addr(x, y);
}

// Lanes of row t that hold an element: [lo, hi] (empty when lo > hi).
struct LaneRange {
  int64_t lo, hi;
};
LaneRange lanes_of(const Geo& g, const Spec& s, int64_t t) {
  if (s.skewed)
    return {std::max<int64_t>(0, t - s.off - s.len + 1), std::min(s.lanes - 1, t - s.off)};
  const int64_t q = g.AR - 1 - t;
  if (t >= g.AR || q >= s.len) return {0, -1};
  return {0, s.lanes - 1};
}

// Calls visit(global_row, address) for every valid read address, in SCALE-Sim's service order:
// folds column-outer/row-inner, rows in time order, lanes left to right.
template <class Visit>
void walk_reads(const Geo& g, Op op, Visit&& visit) {
  const FoldGeometry& f = g.fg;
  for (int64_t fc = 0; fc < f.col_folds; ++fc) {
    for (int64_t fr = 0; fr < f.row_folds; ++fr) {
      const Spec s = spec_of(g, op, fc, fr);
      const int64_t base = (fc * f.row_folds + fr) * f.fold_rows;
      int64_t t_lo, t_hi;
      if (s.skewed) {
        t_lo = s.off;
        t_hi = s.off + s.len - 1 + s.lanes - 1;
      } else {
        t_lo = g.AR - s.len;
        t_hi = g.AR - 1;
      }
      for (int64_t t = t_lo; t <= t_hi; ++t) {
        const LaneRange r = lanes_of(g, s, t);
        const int64_t row = base + t;
        const int64_t qbase = s.skewed ? t - s.off : g.AR - 1 - t;
        for (int64_t j = r.lo; j <= r.hi; ++j) {
          const int64_t q = s.skewed ? qbase - j : qbase;
          const int64_t a = addr_of(g, op, s, q, j);
          if (a >= 0) visit(row, a, s.stack_row0 + q, j);
        }
      }
    }
  }
}

bool row_has_valid(const Geo& g, Op op, int64_t fc, int64_t fr, int64_t t) {
  const Spec s = spec_of(g, op, fc, fr);
  const LaneRange r = lanes_of(g, s, t);
  if (op == Op::kOfmap) return r.lo <= r.hi;
  for (int64_t j = r.lo; j <= r.hi; ++j) {
    const int64_t q = s.skewed ? t - s.off - j : g.AR - 1 - t;
    if (addr_of(g, op, s, q, j) >= 0) return true;
  }
  return false;
}

// First and last global demand rows holding a valid address of `op` (−1 when none). SCALE-Sim
// scans its whole trace from either end, so the scan goes fold by fold: when (H − R) is not a
// multiple of the stride, whole folds can hold only out-of-bounds window entries — is: the
// pixels of the last, partly out-of-bounds output row against the bottom kernel rows; os with a
// stride larger than the kernel: output rows entirely below the ifmap — and then the first or
// last valid row lies in an earlier (later) fold.
std::pair<int64_t, int64_t> valid_row_span(const Geo& g, Op op) {
  const FoldGeometry& f = g.fg;
  const int64_t folds = f.row_folds * f.col_folds;
  int64_t first = -1, last = -1;
  for (int64_t fi = 0; fi < folds && first < 0; ++fi) {
    const int64_t fc = fi / f.row_folds, fr = fi % f.row_folds;
    for (int64_t t = 0; t < f.fold_rows && first < 0; ++t) {
      if (row_has_valid(g, op, fc, fr, t)) first = fi * f.fold_rows + t;
    }
  }
  for (int64_t fi = folds - 1; fi >= 0 && last < 0; --fi) {
    const int64_t fc = fi / f.row_folds, fr = fi % f.row_folds;
    for (int64_t t = f.fold_rows - 1; t >= 0 && last < 0; --t) {
      if (row_has_valid(g, op, fc, fr, t)) last = fi * f.fold_rows + t;
    }
  }
  return {first, last};
}

// ---- Prefetch sequences (USER mode) -------------------------------------------------------
// The operand stacked as blocks × rows_per_block rows × lanes columns, read row-major or along
// anti-diagonals (research/scalesim.md §7.1).
struct Stack {
  int64_t blocks, rows_per_block, lanes, limit;  // lane b·lanes + j valid while < limit
  bool anti_diagonal;
  // element (b, r, j): x = b·lanes + j is the fold-sliced index; which of IFMAP/FILTER indices
  // it is depends on the dataflow (x_is_first: IFMAP(x, r) / FILTER(x, r), else (r, x)).
  bool x_first;
};

Stack stack_of(const Geo& g, Op op) {
  const int64_t rf = g.fg.row_folds, cf = g.fg.col_folds;
  switch (g.df) {
    case Dataflow::kWs:
      return op == Op::kIfmap ? Stack{rf, g.E, g.AR, g.K, true, false}    // IFMAP(r, x)
                              : Stack{cf, g.K, g.AC, g.N, false, false};  // FILTER(r, x)
    case Dataflow::kOs:
      return op == Op::kIfmap ? Stack{rf, g.K, g.AR, g.E, true, true}    // IFMAP(x, r)
                              : Stack{cf, g.K, g.AC, g.N, true, false};  // FILTER(r, x)
    case Dataflow::kIs:
      return op == Op::kIfmap ? Stack{cf, g.K, g.AC, g.E, false, true}  // IFMAP(x, r)
                              : Stack{rf, g.N, g.AR, g.K, true, true};  // FILTER(x, r)
  }
  return {};
}

// The set of every element of the prefetch stack (row-major, −1 for padding): the k-th valid
// element in read order belongs to set k / eps. Every element is written (no pre-fill, so a
// reused buffer costs no memset). Returns the number of valid elements.
int64_t stack_sets(const Geo& g, Op op, int64_t eps, std::vector<int32_t>& sets) {
  const Stack s = stack_of(g, op);
  const int64_t M = s.blocks * s.rows_per_block, n = s.lanes;
  sets.resize(static_cast<size_t>(M * n));
  int64_t v = 0, in_set = 0;
  int32_t set = 0;
  // Element (b, r, j) of the stack: fold-sliced index x = b·lanes + j, the other index r.
  auto visit = [&](int64_t row, int64_t b, int64_t r, int64_t j) {
    const int64_t x = b * n + j;
    int64_t a = -1;
    if (x < s.limit) {
      if (op == Op::kIfmap) {
        a = s.x_first ? g.ifmap_addr(x, r) : g.ifmap_addr(r, x);
      } else {
        a = 0;  // filter elements are always valid
      }
    }
    if (a < 0) {
      sets[row * n + j] = -1;
      return;
    }
    sets[row * n + j] = set;  // = v / eps, without the division
    ++v;
    if (++in_set == eps) {
      ++set;
      in_set = 0;
    }
  };
  if (!s.anti_diagonal) {
    for (int64_t row = 0; row < M; ++row) {
      const int64_t b = row / s.rows_per_block, r = row % s.rows_per_block;
      for (int64_t j = 0; j < n; ++j) visit(row, b, r, j);
    }
    return v;
  }
  for (int64_t d = 0; d < M + n - 1; ++d) {
    const int64_t hi = std::min(d, M - 1), lo = std::max<int64_t>(0, d - n + 1);
    int64_t b = hi / s.rows_per_block, r = hi % s.rows_per_block;
    for (int64_t row = hi; row >= lo; --row) {
      visit(row, b, r, d - row);
      if (--r < 0) {
        --b;
        r = s.rows_per_block - 1;
      }
    }
  }
  return v;
}

// Calls f(stack_row, lane) for every occurrence of ifmap word `a` in the ifmap prefetch stack
// (every output pixel whose window covers it); stops when f returns true.
template <class F>
bool for_each_ifmap_occurrence(const Geo& g, int64_t a, F&& f) {
  const int64_t c = a % g.C, pix = a / g.C, y = pix / g.W, x = pix % g.W;
  // Kernel rows ky ≡ y (mod sh) reach row y from output row oy = (y − ky)/sh, which drops by one
  // per step of ky; the same along x. Only a few divisions per word, none per copy but the
  // stack's own.
  const int64_t ky0 = y % g.sh, kx0 = x % g.sw;
  const int64_t oy0 = (y - ky0) / g.sh, ox0 = (x - kx0) / g.sw;
  for (int64_t ky = ky0, oy = oy0; ky < g.R && oy >= 0; ky += g.sh, --oy) {
    if (oy >= g.Ho) continue;
    for (int64_t kx = kx0, ox = ox0; kx < g.S && ox >= 0; kx += g.sw, --ox) {
      if (ox >= g.Wo) continue;
      const int64_t p = oy * g.Wo + ox, k = (ky * g.S + kx) * g.C + c;
      int64_t row = 0, lane = 0;
      switch (g.df) {
        case Dataflow::kWs:
          row = (k / g.AR) * g.E + p, lane = k % g.AR;
          break;
        case Dataflow::kOs:
          row = (p / g.AR) * g.K + k, lane = p % g.AR;
          break;
        case Dataflow::kIs:
          row = (p / g.AC) * g.K + k, lane = p % g.AC;
          break;
      }
      if (f(row, lane)) return true;
    }
  }
  return false;
}

// Number of in-bounds entries of the IFMAP operand (E × K) and of distinct ifmap words touched.
struct IfmapCounts {
  int64_t valid_entries, unique_words;
};
IfmapCounts ifmap_counts(const Layer& l) {
  auto axis = [](int64_t in, int64_t k, int64_t s, int64_t out, int64_t* touched) {
    int64_t pairs = 0;
    std::vector<char> hit(static_cast<size_t>(in), 0);
    for (int64_t o = 0; o < out; ++o) {
      for (int64_t d = 0; d < k; ++d) {
        const int64_t y = o * s + d;
        if (y < in) {
          ++pairs;
          hit[y] = 1;
        }
      }
    }
    *touched = std::count(hit.begin(), hit.end(), 1);
    return pairs;
  };
  int64_t th = 0, tw = 0;
  const int64_t ph = axis(l.ifmap_h, l.filter_h, l.stride_h, l.ofmap_h(), &th);
  const int64_t pw = axis(l.ifmap_w, l.filter_w, l.stride_w, l.ofmap_w(), &tw);
  return {ph * pw * l.channels, th * tw * l.channels};
}

int64_t operand_space(const Geo& g, Op op) {
  return op == Op::kIfmap ? g.H * g.W * g.C : g.K * g.N;
}

// Read-side events: rows whose service needs the cycle (USER: rows that slid the window, with
// the slide count after the row; CALC: the first request row and every set-group boundary).
struct ReadEvents {
  std::vector<int64_t> rows;
  std::vector<int64_t> value;  // USER: slides after the row
  // USER
  int64_t n0 = 0, npf = 0, slides = 0;
  // CALC
  int64_t items = 0, groups = 0, tail_words = 0, first_row = -1;

  void reset() {  // keeps the vectors' capacity
    rows.clear();
    value.clear();
    n0 = npf = slides = items = groups = tail_words = 0;
    first_row = -1;
  }
};

}  // namespace

// Working memory of one simulation, reused from layer to layer by LayerSimulator so that a
// workload of large layers allocates (and page-faults) once, not once per layer.
struct SimWorkspace {
  Geo geo;                        // scalars + ifmap address tables
  std::vector<int32_t> sets;      // one operand's prefetch-stack sets (USER, materialised)
  std::vector<int64_t> prefix;    // per-diagonal valid counts (USER, closed form)
  std::vector<int32_t> per_word;  // USER: ifmap copy hint per word; CALC: group stamp per word
  ReadEvents ev_if, ev_fl;
  std::vector<int64_t> if_cycles, fl_cycles;  // CALC: cycles of the event rows
};

namespace {

// The set of a prefetch-stack element, read from the materialised stack (stack_sets): the
// reference, and the only way when some window entries fall outside the ifmap.
struct StoredSets {
  const int32_t* sets;
  int64_t lanes;
  int64_t operator()(int64_t row, int64_t j) const { return sets[row * lanes + j]; }
};

// The same sets in closed form, for stacks whose only invalid elements are the lanes past
// `limit` in the last block (filters always; the ifmap whenever no window entry falls outside
// it — every layer of a model workload, whose padding is folded in): the rank of an element in
// read order is arithmetic, so nothing of the stack's size is built or touched.
//   row-major: rank(b·rpb + r, j) = b·rpb·n + r·L_b + j, L_b = valid lanes of block b;
//   anti-diagonal: rank = (valid elements on diagonals < row + j) + (valid elements after it on
//   its own diagonal, which is read from the bottom row up); invalid elements are the rows
//   ≥ R0 (last block) with lane ≥ T, so both counts are interval intersections.
struct ClosedFormSets {
  int64_t lanes, rpb, rows, eps;
  int64_t r0, t;  // first row of the last block, valid lanes in it
  bool anti_diagonal;
  const int64_t* prefix;  // anti-diagonal: valid elements on diagonals < d

  int64_t operator()(int64_t row, int64_t j) const {
    if (row >= r0 && j >= t) return -1;
    int64_t rank;
    if (!anti_diagonal) {
      const int64_t b = row / rpb;
      rank = b * rpb * lanes + (row - b * rpb) * (row >= r0 ? t : lanes) + j;
    } else {
      const int64_t d = row + j, hi = std::min(d, rows - 1);
      const int64_t skip = std::min(hi, d - t) - std::max(row + 1, r0) + 1;
      rank = prefix[d] + (hi - row) - std::max<int64_t>(0, skip);
    }
    return rank / eps;
  }
};

// Builds the closed form for `st`; returns the number of valid elements (= rpb · limit).
int64_t closed_form_sets(const Stack& st, int64_t eps, std::vector<int64_t>& prefix,
                         ClosedFormSets& out) {
  const int64_t n = st.lanes, M = st.blocks * st.rows_per_block;
  out = {n,
         st.rows_per_block,
         M,
         eps,
         (st.blocks - 1) * st.rows_per_block,
         st.limit - (st.blocks - 1) * n,
         st.anti_diagonal,
         nullptr};
  if (!st.anti_diagonal) return st.rows_per_block * st.limit;
  prefix.resize(static_cast<size_t>(M + n));
  prefix[0] = 0;
  for (int64_t d = 0; d < M + n - 1; ++d) {
    const int64_t lo = std::max<int64_t>(0, d - n + 1), hi = std::min(d, M - 1);
    const int64_t invalid =
        std::max<int64_t>(0, std::min(hi, d - out.t) - std::max(lo, out.r0) + 1);
    prefix[d + 1] = prefix[d] + (hi - lo + 1) - invalid;
  }
  out.prefix = prefix.data();
  return prefix[M + n - 1];
}

// The demand walk of one USER-mode read buffer (see user_read_events) over a set lookup.
template <class SetOf>
Status walk_user_demand(const Geo& g, Op op, const SetOf& set_of, int64_t n_sets, int64_t na,
                        int64_t np, bool step_slides, std::vector<int32_t>& hint, ReadEvents& ev) {
  // Walk the demand; the window is sets [s, s + na) on a ring of n_sets. A demanded word hits
  // when any of its copies in the prefetch stack is in the window: its own copy first (almost
  // always), then the copy it was last found through, then (ifmap only — filter words occur
  // once) every other copy.
  int64_t s = 0, k = 0;
  auto in_ring = [&](int64_t set) {
    int64_t d = set - s;
    if (d < 0) d += n_sets;
    return d < na;
  };
  if (op == Op::kIfmap) hint.assign(static_cast<size_t>(operand_space(g, op)), -1);
  auto found_elsewhere = [&](int64_t a) {
    if (op != Op::kIfmap) return false;
    if (hint[a] >= 0 && in_ring(hint[a])) return true;
    return for_each_ifmap_occurrence(g, a, [&](int64_t row, int64_t lane) {
      const int64_t set = set_of(row, lane);
      if (set >= 0 && in_ring(set)) {
        hint[a] = static_cast<int32_t>(set);
        return true;
      }
      return false;
    });
  };
  bool found_all = true;
  auto serve = [&](int64_t row, int64_t a, int64_t own) {
    if (own < 0) {
      found_all = false;
      return;
    }
    if (in_ring(own) || found_elsewhere(a)) return;
    if (step_slides) {  // the reference: SCALE-Sim's loop, one slide at a time
      do {
        s = (s + np) % n_sets;
        ++k;
      } while (!in_ring(own) && !found_elsewhere(a));
    } else {
      // SCALE-Sim slides the window np sets at a time until some copy of `a` is in it. A copy
      // in set X, at ring distance d = (X − s) mod n_sets ≥ na, enters after ⌈(d − na + 1)/np⌉
      // slides and no copy is jumped over (np ≤ na), so the trip ends after the smallest such
      // count over the copies — computed at once instead of slid set by set (the window
      // artifact of research/scalesim.md §7.1 makes trips of thousands of slides).
      auto slides_to = [&](int64_t set) {
        int64_t d = set - s;
        if (d < 0) d += n_sets;
        return ceil_div(d - na + 1, np);
      };
      int64_t m = slides_to(own);
      if (op == Op::kIfmap) {
        int64_t via = own;
        for_each_ifmap_occurrence(g, a, [&](int64_t row_c, int64_t lane) {
          const int64_t set = set_of(row_c, lane);
          if (set >= 0 && slides_to(set) < m) {
            m = slides_to(set);
            via = set;
          }
          return false;
        });
        hint[a] = static_cast<int32_t>(via);
      }
      s = (s + m * np) % n_sets;
      k += m;
    }
    if (!ev.rows.empty() && ev.rows.back() == row) {
      ev.value.back() = k;
    } else {
      ev.rows.push_back(row);
      ev.value.push_back(k);
    }
  };
  // Row by row. Inside a demand row the elements appear in prefetch read order, so their own
  // sets are non-decreasing: when the first and last valid elements' sets are in the window
  // (in ring order), every element of the row hits and the row is skipped.
  const FoldGeometry& f = g.fg;
  for (int64_t fc = 0; fc < f.col_folds; ++fc) {
    for (int64_t fr = 0; fr < f.row_folds; ++fr) {
      const Spec sp = spec_of(g, op, fc, fr);
      const int64_t base = (fc * f.row_folds + fr) * f.fold_rows;
      const int64_t t_lo = sp.skewed ? sp.off : g.AR - sp.len;
      const int64_t t_hi = sp.skewed ? sp.off + sp.len + sp.lanes - 2 : g.AR - 1;
      for (int64_t t = t_lo; t <= t_hi; ++t) {
        const LaneRange r = lanes_of(g, sp, t);
        const int64_t qbase = sp.skewed ? t - sp.off : g.AR - 1 - t;
        auto q_of = [&](int64_t j) { return sp.skewed ? qbase - j : qbase; };
        auto own_set = [&](int64_t j) { return set_of(sp.stack_row0 + q_of(j), j); };
        int64_t jf = r.lo, jl = r.hi;
        while (jf <= jl && addr_of(g, op, sp, q_of(jf), jf) < 0) ++jf;
        while (jl >= jf && addr_of(g, op, sp, q_of(jl), jl) < 0) --jl;
        if (jf > jl) continue;
        const int64_t sf = own_set(jf), sl = own_set(jl);
        if (sf >= 0 && sl >= 0 && in_ring(sf) && in_ring(sl)) {
          int64_t df = sf - s, dl = sl - s;
          if (df < 0) df += n_sets;
          if (dl < 0) dl += n_sets;
          if (df <= dl) continue;
        }
        for (int64_t j = jf; j <= jl; ++j) {
          const int64_t a = addr_of(g, op, sp, q_of(j), j);
          if (a >= 0) serve(base + t, a, own_set(j));
        }
      }
    }
  }
  if (!found_all) return internal_error("a demanded address is missing from the prefetch sequence");
  ev.slides = k;
  return {};
}

// USER-mode read buffer of `words` words: fills `ev` (reset first). The stack's sets come in
// closed form when they can (and `reference` is off), else from the materialised stack; the
// vectors are scratch.
Status user_read_events(const Geo& g, Op op, int64_t words, int64_t bw, int64_t valid_entries,
                        bool reference, SimWorkspace& w, ReadEvents& ev) {
  ev.reset();
  const int64_t tot = words, active = ceil_div(tot, 2), pre = tot - active;
  const Stack st = stack_of(g, op);
  const int64_t seq_len = st.blocks * st.rows_per_block * st.lanes;
  const int64_t rows_f = ceil_div(seq_len, bw);
  ev.n0 = std::min(ceil_div(active, bw), rows_f);
  ev.npf = ceil_div(pre, bw);
  const int64_t eps = ceil_div(tot, 100);
  const int64_t n_sets = valid_entries / eps + 1;
  const int64_t na_max = ceil_div(active, eps), np_max = ceil_div(pre, eps);
  if (n_sets <= na_max) return {};  // the whole operand sits in the active window: no slides
  const int64_t na = na_max, np = std::min(n_sets - na, np_max);

  if (!reference && valid_entries == st.rows_per_block * st.limit) {
    ClosedFormSets sets;
    const int64_t valid = closed_form_sets(st, eps, w.prefix, sets);
    if (valid != valid_entries) {
      return internal_error("prefetch stack has {} valid entries, expected {}", valid,
                            valid_entries);
    }
    return walk_user_demand(g, op, sets, n_sets, na, np, false, w.per_word, ev);
  }
  const int64_t valid = stack_sets(g, op, eps, w.sets);
  if (valid != valid_entries) {
    return internal_error("prefetch stack has {} valid entries, expected {}", valid, valid_entries);
  }
  return walk_user_demand(g, op, StoredSets{w.sets.data(), st.lanes}, n_sets, na, np, reference,
                          w.per_word, ev);
}

// Fills `ev` (reset first); `seen` is scratch.
void calc_read_events(const Geo& g, Op op, int64_t words, int64_t unique_words, int64_t first_row,
                      std::vector<int32_t>& seen, ReadEvents& ev) {
  ev.reset();
  ev.items = words / 100;
  ev.first_row = first_row;
  const int64_t group = 50 * ev.items;
  if (unique_words < group) {  // no set group ever completes: every word is fetched once
    ev.tail_words = unique_words;
    return;
  }
  seen.assign(static_cast<size_t>(operand_space(g, op)), -1);  // group the word was fetched in
  int32_t gid = 0;
  int64_t cnt = 0;
  walk_reads(g, op, [&](int64_t row, int64_t a, int64_t, int64_t) {
    if (seen[a] == gid) return;
    seen[a] = gid;
    if (++cnt == group) {
      ev.rows.push_back(row);
      ++gid;
      cnt = 0;
    }
  });
  ev.groups = gid;
  ev.tail_words = cnt;
}

struct DramSide {
  int64_t start = 0, stop = 0, count = 0;
};

DramSide user_dram(const ReadEvents& ev, int64_t bw) {
  return {-ev.n0, -1 + ev.slides * (ev.npf + 1), ev.n0 * bw + ev.slides * ev.npf * bw};
}

// CALC bookkeeping once the cycles of the event rows are known (research/scalesim.md §7.2).
Result<DramSide> calc_dram(const ReadEvents& ev, int64_t first_cycle,
                           const std::vector<int64_t>& trigger_cycles) {
  DramSide d;
  const int64_t items = ev.items, group = 50 * items;
  int64_t last_start = -2, last_end = -1;
  bool started = false;
  for (size_t i = 0; i < trigger_cycles.size(); ++i) {
    if (i == 0) {
      last_end = first_cycle - 2;
      const int64_t cycles = ceil_div(group, 10);
      last_start = last_end - cycles + 1;
      d.start = last_start + 1;
      started = true;
    } else {
      const int64_t cycles = last_end - last_start + 1;
      if (cycles <= 0) {
        return unsupported(
            "cannot simulate CALC mode: two set groups complete in the same cycle, where SCALE-Sim "
            "v2 divides by zero; use a larger SRAM");
      }
    }
    d.count += group;
    d.stop = last_end + 1;
    last_start = last_end + 1;
    last_end = trigger_cycles[i];
  }
  const int64_t tail_sets = ceil_div(ev.tail_words, items);
  if (!started) {
    const int64_t cycles = ceil_div(tail_sets * items, 10);
    if (cycles == 0) return unsupported("cannot simulate CALC mode: the operand has no address");
    d.start = -2 - cycles + 2;
    d.stop = -1;
    d.count = ev.tail_words;
    return d;
  }
  const int64_t cycles = last_end - last_start + 1;
  if (cycles <= 0 && ev.tail_words > 0) {
    return unsupported(
        "cannot simulate CALC mode: the last set group has no cycles to be fetched in, "
        "where SCALE-Sim v2 divides by zero; use a larger SRAM");
  }
  d.count += ev.tail_words;
  if (cycles > 0) d.stop = last_end + 1;
  return d;
}

// The OFMAP write buffer (research/scalesim.md §8), processed a row at a time with the element
// index of each event computed instead of looped over.
class WriteBuffer {
 public:
  WriteBuffer(int64_t words, int64_t bw)
      : tot_(words),
        active_(ceil_div(tot_, 2)),
        bw_(bw),
        lines_per_drain_(ceil_div(tot_ - active_, bw)),
        free_(tot_) {}

  // Writes `w` words at cycle c; returns the cycle the row is done (≥ c).
  Result<int64_t> write_row(int64_t c, int64_t w) {
    int64_t cur = c;
    while (w > 0) {
      if (cur < drain_end_) {
        const int64_t m = std::max<int64_t>(free_, 1);
        if (w < m) {
          store(w);
          break;
        }
        store(m);
        w -= m;
        cur = drain_end_;
      } else {
        const int64_t m = std::max<int64_t>(free_ - active_ + 1, 1);
        if (w < m) {
          store(w);
          break;
        }
        store(m);
        w -= m;
        close_partial();
        EI8_RETURN_IF_ERROR(drain(cur));
      }
    }
    return cur;
  }

  Status finish(int64_t c) {
    close_partial();
    while (lines_ > 0) {
      EI8_RETURN_IF_ERROR(drain(c));
      c = drain_end_ + 1;
    }
    return {};
  }

  DramSide dram() const { return {first_, last_, accesses_}; }

 private:
  struct Seg {
    int64_t lines, pad;  // `lines` lines, all full except the last, which has `pad` −1 slots
  };
  void store(int64_t m) {
    free_ -= m;
    const int64_t total = fill_ + m;
    push_full(total / bw_);
    fill_ = total % bw_;
  }
  void push_full(int64_t n) {
    if (n == 0) return;
    if (!q_.empty() && q_.back().pad == 0) {
      q_.back().lines += n;
    } else {
      q_.push_back({n, 0});
    }
    lines_ += n;
  }
  void close_partial() {
    if (fill_ == 0) return;
    if (!q_.empty() && q_.back().pad == 0) {
      q_.back().lines += 1;
      q_.back().pad = bw_ - fill_;
    } else {
      q_.push_back({1, bw_ - fill_});
    }
    ++lines_;
    fill_ = 0;
  }
  Status drain(int64_t at) {
    const int64_t n = std::min(lines_per_drain_, lines_);
    if (n <= 0) return internal_error("ofmap drain with no line to write");
    int64_t left = n, pad_last = 0;
    while (left > 0) {
      Seg& s = q_.front();
      if (s.lines <= left) {
        left -= s.lines;
        pad_last = left == 0 ? s.pad : 0;
        q_.pop_front();
      } else {
        s.lines -= left;
        left = 0;
        pad_last = 0;
      }
    }
    lines_ -= n;
    const int64_t words = n * bw_ - pad_last;
    accesses_ += words;
    free_ += words;
    if (!drained_) first_ = at;
    drained_ = true;
    last_ = at + n - 1;
    drain_end_ = last_;
    return {};
  }

  int64_t tot_, active_, bw_, lines_per_drain_;
  int64_t free_;
  int64_t fill_ = 0, lines_ = 0, drain_end_ = 0;
  std::deque<Seg> q_;
  bool drained_ = false;
  int64_t first_ = 0, last_ = 0, accesses_ = 0;
};

}  // namespace

FoldGeometry fold_geometry(const Layer& l, const ArrayConfig& a) {
  FoldGeometry f;
  const int64_t E = l.ofmap_pixels(), K = l.window(), N = l.num_filters;
  switch (a.dataflow) {
    case Dataflow::kWs:
      f.sr = K, f.sc = N, f.t = E;
      break;
    case Dataflow::kIs:
      f.sr = K, f.sc = E, f.t = N;
      break;
    case Dataflow::kOs:
      f.sr = E, f.sc = N, f.t = K;
      break;
  }
  f.row_folds = ceil_div(f.sr, a.rows);
  f.col_folds = ceil_div(f.sc, a.cols);
  f.fold_rows =
      a.dataflow == Dataflow::kOs ? a.rows + a.cols + f.t - 2 : 2 * a.rows + a.cols + f.t - 2;
  f.demand_rows = f.row_folds * f.col_folds * f.fold_rows;
  return f;
}

LayerStats compute_side_stats(const Layer& layer, const ArrayConfig& array) {
  const FoldGeometry f = fold_geometry(layer, array);
  const int64_t AR = array.rows, AC = array.cols;
  const int64_t E = layer.ofmap_pixels(), K = layer.window(), N = layer.num_filters;
  LayerStats st;
  st.geometry = f;
  st.macs = layer.macs();
  st.word_bytes = array.word_bytes;
  // Utilisations: Python float means over folds, summed in fold order (research/scalesim.md §5).
  {
    const int64_t u_rows =
        array.dataflow == Dataflow::kOs ? AR + AC + f.t - 2 : 2 * AR + 2 * AC + f.t - 3;
    double map_sum = 0, util_sum = 0;
    for (int64_t fc = 0; fc < f.col_folds; ++fc) {
      for (int64_t fr = 0; fr < f.row_folds; ++fr) {
        const int64_t used = std::min(AR, f.sr - fr * AR) * std::min(AC, f.sc - fc * AC);
        map_sum += double(used) / double(AR * AC);
        util_sum += double(used * f.t) / double(AR * AC * u_rows);
      }
    }
    const double folds = double(f.row_folds * f.col_folds);
    st.mapping_efficiency = map_sum / folds * 100;
    st.compute_util = util_sum / folds * 100;
  }
  switch (array.dataflow) {
    case Dataflow::kWs:
      st.sram_ifmap_reads = E * K * f.col_folds;
      st.sram_filter_reads = K * N;
      st.sram_ofmap_writes = E * N * f.row_folds;
      break;
    case Dataflow::kIs:
      st.sram_ifmap_reads = E * K;
      st.sram_filter_reads = K * N * f.col_folds;
      st.sram_ofmap_writes = E * N * f.row_folds;
      break;
    case Dataflow::kOs:
      st.sram_ifmap_reads = E * K * f.col_folds;
      st.sram_filter_reads = K * N * f.row_folds;
      st.sram_ofmap_writes = E * N + f.row_folds * f.col_folds * (AR + AC);
      break;
  }
  st.total_cycles = f.demand_rows - 1;  // no stalls
  st.overall_util = double(st.macs * 100) / double(st.total_cycles * AR * AC);
  return st;
}

int64_t ifmap_unique_words(const Layer& layer) { return ifmap_counts(layer).unique_words; }

namespace {

// simulate_layer with the working memory passed in (array already validated).
Result<LayerStats> simulate_in(const Layer& layer, const ArrayConfig& array, SimVariant variant,
                               SimWorkspace& w) {
  const bool reference = variant == SimVariant::kReference;
  EI8_RETURN_IF_ERROR(validate_layer(layer));
  Geo& g = w.geo;
  make_geo(g, layer, array);
  const FoldGeometry& f = g.fg;
  if (g.H * g.W * g.C > (int64_t{1} << 31) - 1 || g.K * g.N > (int64_t{1} << 31) - 1 ||
      f.demand_rows > (int64_t{1} << 40)) {
    return unsupported(
        "cannot simulate layer '{}': operands of {} ifmap and {} filter words, must "
        "be < 2^31 words each",
        layer.name, g.H * g.W * g.C, g.K * g.N);
  }
  fill_ifmap_tables(g, layer);
  LayerStats st = compute_side_stats(layer, array);
  const int64_t AR = g.AR, AC = g.AC, K = g.K, N = g.N;

  // Read-side walks (independent of timing).
  const IfmapCounts ic = ifmap_counts(layer);
  const auto [if_first, if_last] = valid_row_span(g, Op::kIfmap);
  const auto [fl_first, fl_last] = valid_row_span(g, Op::kFilter);
  const auto [of_first, of_last] = valid_row_span(g, Op::kOfmap);
  const bool user = array.mode == BandwidthMode::kUser;
  ReadEvents& ev_if = w.ev_if;
  ReadEvents& ev_fl = w.ev_fl;
  if (user) {
    EI8_RETURN_IF_ERROR(user_read_events(g, Op::kIfmap, array.sram_words(array.ifmap_sram_kb),
                                         array.bandwidth, ic.valid_entries, reference, w, ev_if));
    EI8_RETURN_IF_ERROR(user_read_events(g, Op::kFilter, array.sram_words(array.filter_sram_kb),
                                         array.bandwidth, K * N, reference, w, ev_fl));
  } else {
    calc_read_events(g, Op::kIfmap, array.sram_words(array.ifmap_sram_kb), ic.unique_words,
                     if_first, w.per_word, ev_if);
    calc_read_events(g, Op::kFilter, array.sram_words(array.filter_sram_kb), K * N, fl_first,
                     w.per_word, ev_fl);
  }

  // The time loop: one step per demand row, read stalls from the events, writes per row.
  WriteBuffer wb(array.sram_words(array.ofmap_sram_kb), user ? array.bandwidth : AC);
  std::vector<int64_t>& if_cycles = w.if_cycles;
  std::vector<int64_t>& fl_cycles = w.fl_cycles;
  if_cycles.clear();
  fl_cycles.clear();
  int64_t if_first_cycle = 0, fl_first_cycle = 0;
  size_t ei = 0, ef = 0;
  int64_t S = 0, t_of = 0;
  const int64_t if_step = ev_if.npf + 1, fl_step = ev_fl.npf + 1;
  for (int64_t fc = 0; fc < f.col_folds; ++fc) {
    for (int64_t fr = 0; fr < f.row_folds; ++fr) {
      const Spec os = spec_of(g, Op::kOfmap, fc, fr);
      const int64_t base = (fc * f.row_folds + fr) * f.fold_rows;
      for (int64_t t = 0; t < f.fold_rows; ++t) {
        const int64_t i = base + t, c = i + S;
        int64_t stall_if = 0, stall_fl = 0;
        if (user) {
          if (ei < ev_if.rows.size() && ev_if.rows[ei] == i) {
            stall_if = std::max(c + 1, -1 + ev_if.value[ei] * if_step) - c - 1;
            ++ei;
          }
          if (ef < ev_fl.rows.size() && ev_fl.rows[ef] == i) {
            stall_fl = std::max(c + 1, -1 + ev_fl.value[ef] * fl_step) - c - 1;
            ++ef;
          }
        } else {
          while (ei < ev_if.rows.size() && ev_if.rows[ei] == i) if_cycles.push_back(c), ++ei;
          while (ef < ev_fl.rows.size() && ev_fl.rows[ef] == i) fl_cycles.push_back(c), ++ef;
          if (i == if_first) if_first_cycle = c;
          if (i == fl_first) fl_first_cycle = c;
        }
        const int64_t lo = std::max<int64_t>(0, t - os.off - os.len + 1);
        const int64_t hi = std::min(os.lanes - 1, t - os.off);
        const int64_t writes = hi >= lo ? hi - lo + 1 : 0;
        EI8_ASSIGN_OR_RETURN(t_of, wb.write_row(c, writes));
        const int64_t stall_of = t_of - c;
        if (i == if_first) st.sram_ifmap_start = c + 1 + stall_if;
        if (i == if_last) st.sram_ifmap_stop = c + 1 + stall_if;
        if (i == fl_first) st.sram_filter_start = c + 1 + stall_fl;
        if (i == fl_last) st.sram_filter_stop = c + 1 + stall_fl;
        if (i == of_first) st.sram_ofmap_start = t_of;
        if (i == of_last) st.sram_ofmap_stop = t_of;
        const int64_t stall = std::max({stall_if, stall_fl, stall_of});
        if (stall > 0) {
          if (stall == stall_of) {
            st.stall_ofmap += stall;
          } else if (stall == stall_if) {
            st.stall_ifmap += stall;
          } else {
            st.stall_filter += stall;
          }
        }
        S += stall;
      }
    }
  }
  st.total_cycles = t_of;
  st.stall_cycles = S;
  st.overall_util = double(st.macs * 100) / double(st.total_cycles * AR * AC);
  EI8_RETURN_IF_ERROR(wb.finish(t_of));
  const DramSide dof = wb.dram();
  DramSide dif, dfl;
  if (user) {
    dif = user_dram(ev_if, array.bandwidth);
    dfl = user_dram(ev_fl, array.bandwidth);
  } else {
    EI8_ASSIGN_OR_RETURN(dif, calc_dram(ev_if, if_first_cycle, if_cycles));
    EI8_ASSIGN_OR_RETURN(dfl, calc_dram(ev_fl, fl_first_cycle, fl_cycles));
  }
  st.dram_ifmap_start = dif.start, st.dram_ifmap_stop = dif.stop, st.dram_ifmap_reads = dif.count;
  st.dram_filter_start = dfl.start, st.dram_filter_stop = dfl.stop,
  st.dram_filter_reads = dfl.count;
  st.dram_ofmap_start = dof.start, st.dram_ofmap_stop = dof.stop, st.dram_ofmap_writes = dof.count;
  return st;
}

}  // namespace

Result<LayerStats> simulate_layer(const Layer& layer, const ArrayConfig& array,
                                  SimVariant variant) {
  EI8_RETURN_IF_ERROR(array.validate());
  SimWorkspace w;
  return simulate_in(layer, array, variant, w);
}

LayerSimulator::LayerSimulator(const ArrayConfig& array, SimVariant variant)
    : array_(array),
      variant_(variant),
      status_(array.validate()),
      work_(std::make_unique<SimWorkspace>()) {}

LayerSimulator::~LayerSimulator() = default;
LayerSimulator::LayerSimulator(LayerSimulator&&) noexcept = default;
LayerSimulator& LayerSimulator::operator=(LayerSimulator&&) noexcept = default;

Result<LayerStats> LayerSimulator::simulate(const Layer& layer) {
  EI8_RETURN_IF_ERROR(status_);
  const Shape key{layer.ifmap_h,  layer.ifmap_w,     layer.filter_h, layer.filter_w,
                  layer.channels, layer.num_filters, layer.stride_h, layer.stride_w};
  if (auto it = cache_.find(key); it != cache_.end()) {
    ++hits_;
    return it->second;
  }
  EI8_ASSIGN_OR_RETURN(LayerStats st, simulate_in(layer, array_, variant_, *work_));
  cache_.emplace(key, st);
  return st;
}

Result<std::vector<LayerStats>> simulate_layers(const std::vector<Layer>& layers,
                                                const ArrayConfig& array) {
  LayerSimulator sim(array);
  std::vector<LayerStats> out;
  out.reserve(layers.size());
  for (const Layer& l : layers) {
    Result<LayerStats> s = sim.simulate(l);
    if (!s.ok()) {
      return s.status().with_context(fmt::format("layer {} '{}'", out.size(), l.name));
    }
    out.push_back(*s);
  }
  return out;
}

}  // namespace ei8::arch
