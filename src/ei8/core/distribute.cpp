#include "ei8/core/distribute.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include "ei8/core/npy.h"
#include "ei8/core/progress.h"

#ifdef EI8_HAVE_MPI
#include <mpi.h>
#endif

namespace ei8::dist {
namespace {

Group g_world;
std::string g_program = "edgeint8";
constexpr char kPartMagic[] = "EI8PART1";

#ifdef EI8_HAVE_MPI
bool g_gate_passed = false;  // this rank took part in a successful collective check

bool launched_by_mpirun() {
  for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK", "PMI_RANK"}) {
    if (std::getenv(v) != nullptr) return true;
  }
  return false;
}

// Prints `message` as this rank's error and ends every rank.
[[noreturn]] void abort_all(const std::string& message) {
  fmt::print(stderr, "{}: error: rank {}: {}\n", g_program, g_world.rank, message);
  std::fflush(stderr);
  MPI_Abort(MPI_COMM_WORLD, 1);
  std::_Exit(1);
}

// The collective check: every rank passes its status; when one failed, the lowest failing rank
// prints its message and aborts the job, the others wait to be ended. Returns on success only.
void gate(const Status& local) {
  struct {
    int ok;
    int rank;
  } in{local.ok() ? 1 : 0, g_world.rank}, out{1, 0};
  MPI_Allreduce(&in, &out, 1, MPI_2INT, MPI_MINLOC, MPI_COMM_WORLD);
  if (out.ok == 1) {
    g_gate_passed = true;
    return;
  }
  if (out.rank == g_world.rank) abort_all(local.message());
  MPI_Barrier(MPI_COMM_WORLD);  // never completes: the failing rank aborts the job
  std::_Exit(1);
}

// A counter on rank 0 that every rank advances with MPI_Fetch_and_op (passive target).
class ChunkCounter {
 public:
  explicit ChunkCounter(uint64_t start) {
    const MPI_Aint bytes = g_world.root() ? MPI_Aint(sizeof(uint64_t)) : 0;
    MPI_Win_allocate(bytes, sizeof(uint64_t), MPI_INFO_NULL, MPI_COMM_WORLD, &base_, &win_);
    if (g_world.root()) {
      MPI_Win_lock(MPI_LOCK_EXCLUSIVE, 0, 0, win_);
      *base_ = start;
      MPI_Win_unlock(0, win_);
    }
    MPI_Barrier(MPI_COMM_WORLD);
  }
  ~ChunkCounter() { MPI_Win_free(&win_); }  // collective: after every rank's last fetch
  ChunkCounter(const ChunkCounter&) = delete;
  ChunkCounter& operator=(const ChunkCounter&) = delete;
  uint64_t fetch_add(uint64_t n) {
    uint64_t old = 0;
    MPI_Win_lock(MPI_LOCK_SHARED, 0, 0, win_);
    MPI_Fetch_and_op(&n, &old, MPI_UINT64_T, 0, 0, MPI_SUM, win_);
    MPI_Win_unlock(0, win_);
    return old;
  }

 private:
  uint64_t* base_ = nullptr;
  MPI_Win win_ = MPI_WIN_NULL;
};

constexpr int kTagSize = 1, kTagBytes = 2;
constexpr uint64_t kMaxMessage = uint64_t{1} << 30;  // MPI counts are int: send in pieces

void send_bytes(const std::string& b) {
  const uint64_t size = b.size();
  MPI_Send(&size, 1, MPI_UINT64_T, 0, kTagSize, MPI_COMM_WORLD);
  for (uint64_t off = 0; off < size; off += kMaxMessage) {
    const int len = static_cast<int>(std::min(kMaxMessage, size - off));
    MPI_Send(b.data() + off, len, MPI_BYTE, 0, kTagBytes, MPI_COMM_WORLD);
  }
}

std::string recv_bytes(int from) {
  uint64_t size = 0;
  MPI_Recv(&size, 1, MPI_UINT64_T, from, kTagSize, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
  std::string b(size, '\0');
  for (uint64_t off = 0; off < size; off += kMaxMessage) {
    const int len = static_cast<int>(std::min(kMaxMessage, size - off));
    MPI_Recv(b.data() + off, len, MPI_BYTE, from, kTagBytes, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
  }
  return b;
}
#endif

// Where a rank's workers take their next index: the rank's static block, then dynamic chunks.
class IndexSource {
 public:
  IndexSource(uint64_t begin, uint64_t end, uint64_t n, uint64_t chunk, void* counter)
      : next_(begin), end_(end), n_(n), chunk_(chunk), counter_(counter) {}
  // Next index to compute, or n when every point is taken.
  uint64_t next([[maybe_unused]] size_t* chunks) {
    std::lock_guard<std::mutex> lock(mu_);
    if (next_ < end_) return next_++;
#ifdef EI8_HAVE_MPI
    if (counter_ != nullptr && !exhausted_) {
      const uint64_t first = static_cast<ChunkCounter*>(counter_)->fetch_add(chunk_);
      if (first < n_) {
        next_ = first;
        end_ = std::min(n_, first + chunk_);
        ++*chunks;
        return next_++;
      }
      exhausted_ = true;
    }
#endif
    return n_;
  }

 private:
  std::mutex mu_;
  uint64_t next_, end_, n_, chunk_;
  [[maybe_unused]] void* counter_;
  bool exhausted_ = false;
};

}  // namespace

// ---- Records ----
RecordWriter& RecordWriter::u64(uint64_t v) {
  char b[8];
  for (int i = 0; i < 8; ++i) b[i] = static_cast<char>((v >> (8 * i)) & 0xff);
  out_.append(b, 8);
  return *this;
}

RecordWriter& RecordWriter::f64(double v) {
  uint64_t bits = 0;
  std::memcpy(&bits, &v, sizeof bits);
  return u64(bits);
}

RecordWriter& RecordWriter::str(std::string_view s) {
  u64(s.size());
  out_.append(s);
  return *this;
}

uint64_t RecordReader::u64() {
  if (failed_ || in_.size() - pos_ < 8) {
    failed_ = true;
    return 0;
  }
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) {
    v |= uint64_t(static_cast<unsigned char>(in_[pos_ + size_t(i)])) << (8 * i);
  }
  pos_ += 8;
  return v;
}

double RecordReader::f64() {
  const uint64_t bits = u64();
  double v = 0;
  std::memcpy(&v, &bits, sizeof v);
  return v;
}

std::string RecordReader::str() {
  const uint64_t len = u64();
  if (failed_ || in_.size() - pos_ < len) {
    failed_ = true;
    return {};
  }
  std::string s(in_.substr(pos_, len));
  pos_ += len;
  return s;
}

Status RecordReader::status(bool whole) const {
  if (failed_) {
    return data_loss("cannot read {}: bytes = {}, must hold every field (truncated or corrupt)",
                     what_, in_.size());
  }
  if (whole && pos_ != in_.size()) {
    return data_loss("cannot read {}: bytes = {}, must be {} (trailing bytes: corrupt)", what_,
                     in_.size(), pos_);
  }
  return {};
}

uint64_t fingerprint(std::string_view bytes, uint64_t seed) {
  uint64_t h = seed;
  for (char c : bytes) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ull;
  }
  return h;
}

// ---- The process group ----
bool built_with_mpi() {
#ifdef EI8_HAVE_MPI
  return true;
#else
  return false;
#endif
}

void init(int* argc, char*** argv) {
  if (argc != nullptr && *argc > 0 && argv != nullptr && (*argv)[0] != nullptr) {
    std::string p = (*argv)[0];
    const size_t slash = p.rfind('/');
    g_program = slash == std::string::npos ? p : p.substr(slash + 1);
  }
#ifdef EI8_HAVE_MPI
  if (!launched_by_mpirun()) return;
  int provided = 0;
  MPI_Init_thread(argc, argv, MPI_THREAD_SERIALIZED, &provided);
  MPI_Comm_rank(MPI_COMM_WORLD, &g_world.rank);
  MPI_Comm_size(MPI_COMM_WORLD, &g_world.size);
  g_world.mpi = true;
  if (!g_world.root()) Progress::set_enabled(false);  // one progress line: rank 0's
#else
  (void)argc;
  (void)argv;
#endif
}

const Group& world() { return g_world; }

void shutdown() {
#ifdef EI8_HAVE_MPI
  if (g_world.mpi) MPI_Finalize();
#endif
}

int finish(const Status& status) {
#ifdef EI8_HAVE_MPI
  if (g_world.mpi) {
    if (g_world.size > 1) {
      if (!g_gate_passed) gate(status);  // returns only when every rank succeeded
      if (!status.ok()) abort_all(status.message());
    } else if (!status.ok()) {
      fmt::print(stderr, "{}: error: {}\n", g_program, status.message());
    }
    MPI_Finalize();
    return status.ok() ? 0 : 1;
  }
#endif
  if (status.ok()) return 0;
  fmt::print(stderr, "{}: error: {}\n", g_program, status.message());
  return 1;
}

// ---- Points ----
Result<std::vector<std::string>> map_points(size_t n, const PointFn& fn, const MapOptions& o,
                                            MapStats* stats) {
  if (o.threads < 1) {
    return invalid_argument("cannot map points: threads = {}, must be >= 1", o.threads);
  }
  if (!(o.static_fraction >= 0.0 && o.static_fraction <= 1.0)) {
    return invalid_argument("cannot map points: static_fraction = {}, must be in [0, 1]",
                            o.static_fraction);
  }
  MapStats local_stats;
  MapStats& st = stats != nullptr ? *stats : local_stats;
  st = {};
  const uint64_t ranks = static_cast<uint64_t>(g_world.size);
  const bool distributed = g_world.mpi && g_world.size > 1;
#ifdef EI8_HAVE_MPI
  if (distributed) gate(Status{});  // ranks whose command failed before this point end the job
#endif
  const uint64_t static_end =
      distributed ? static_cast<uint64_t>(std::floor(double(n) * o.static_fraction)) : n;
  const auto [begin, end] = shard_range(static_end, {static_cast<uint64_t>(g_world.rank), ranks});
  const uint64_t chunk =
      o.chunk > 0 ? o.chunk : std::max<uint64_t>(1, (n - static_end) / (16 * ranks));
  void* counter = nullptr;
#ifdef EI8_HAVE_MPI
  std::unique_ptr<ChunkCounter> chunk_counter;
  if (distributed) {
    chunk_counter = std::make_unique<ChunkCounter>(static_end);
    counter = chunk_counter.get();
  }
#endif
  IndexSource source(begin, end, n, chunk, counter);
  // Fault injection for the failure tests: the point named by EI8_DIST_FAIL_POINT fails.
  const char* fail_env = std::getenv("EI8_DIST_FAIL_POINT");
  const long long fail_at = fail_env != nullptr && *fail_env != '\0' ? std::atoll(fail_env) : -1;
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<std::vector<std::pair<uint64_t, std::string>>> done(size_t(o.threads));
  std::atomic<bool> stop{false};
  std::mutex err_mu;
  Status first_error;
  uint64_t first_error_index = n;
  std::mutex cpu_mu;
  auto thread_cpu = [] {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
  };
  auto work = [&](size_t t) {
    while (!stop.load(std::memory_order_relaxed)) {
      const uint64_t i = source.next(&st.chunks);
      if (i >= n) return;
      Result<std::string> r =
          static_cast<long long>(i) == fail_at
              ? Result<std::string>(internal_error(
                    "cannot compute point {}: EI8_DIST_FAIL_POINT = {}, must not name a point "
                    "(injected failure)",
                    i, fail_at))
              : fn(size_t(i));
      if (!r.ok()) {
        std::lock_guard<std::mutex> lock(err_mu);
        if (i < first_error_index) first_error = r.status(), first_error_index = i;
        stop = true;
        return;
      }
      done[t].emplace_back(i, std::move(r).value());
    }
  };
  auto worker = [&](size_t t) {
    const double cpu0 = thread_cpu();
    work(t);
    const double used = thread_cpu() - cpu0;
    std::lock_guard<std::mutex> lock(cpu_mu);
    st.compute_cpu_seconds += used;
  };
  std::vector<std::thread> pool;
  for (size_t t = 1; t < size_t(o.threads); ++t) pool.emplace_back(worker, t);
  worker(0);
  for (std::thread& t : pool) t.join();
  st.compute_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (!first_error.ok()) {
#ifdef EI8_HAVE_MPI
    if (distributed) abort_all(first_error.message());
#endif
    return first_error;
  }
  for (const auto& d : done) {
    st.points += d.size();
    for (const auto& [i, rec] : d) st.record_bytes += rec.size();
  }
  const auto t1 = std::chrono::steady_clock::now();
  std::vector<std::string> records(g_world.root() ? n : 0);
  std::vector<char> filled(records.size(), 0);
  auto place = [&](uint64_t i, std::string rec) -> Status {
    if (i >= n || filled[i]) {
      return internal_error("cannot gather point {}: index = {}, must be < {} and unique", i, i, n);
    }
    filled[i] = 1;
    records[i] = std::move(rec);
    return {};
  };
  if (g_world.root()) {
    for (auto& d : done) {
      for (auto& [i, rec] : d) EI8_RETURN_IF_ERROR(place(i, std::move(rec)));
    }
  }
  st.all_ranks_cpu_seconds = st.compute_cpu_seconds;
#ifdef EI8_HAVE_MPI
  chunk_counter.reset();  // collective: every rank has finished computing
  if (distributed) {
    MPI_Reduce(&st.compute_cpu_seconds, &st.all_ranks_cpu_seconds, 1, MPI_DOUBLE, MPI_SUM, 0,
               MPI_COMM_WORLD);
  }
  if (distributed && !g_world.root()) {
    RecordWriter w;
    for (const auto& d : done) {
      for (const auto& [i, rec] : d) w.u64(i).str(rec);
    }
    st.sent_bytes = w.bytes().size();
    send_bytes(w.bytes());
  } else if (distributed) {
    for (int r = 1; r < g_world.size; ++r) {
      const std::string b = recv_bytes(r);
      RecordReader rd(b, fmt::format("the records of rank {}", r));
      while (!rd.at_end()) {
        const uint64_t i = rd.u64();
        std::string rec = rd.str();
        EI8_RETURN_IF_ERROR(rd.status(false));
        EI8_RETURN_IF_ERROR(place(i, std::move(rec)));
      }
    }
  }
#endif
  if (g_world.root()) {
    const size_t missing = size_t(std::count(filled.begin(), filled.end(), 0));
    if (missing != 0) {
      return internal_error("cannot gather points: missing = {}, must be 0", missing);
    }
  }
  st.gather_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count();
  return records;
}

// ---- Shards ----
Result<Shard> parse_shard(std::string_view text) {
  const size_t slash = text.find('/');
  auto number = [](std::string_view s, uint64_t* v) {
    if (s.empty() || s.size() > 9) return false;
    uint64_t x = 0;
    for (char c : s) {
      if (c < '0' || c > '9') return false;
      x = x * 10 + uint64_t(c - '0');
    }
    *v = x;
    return true;
  };
  Shard s;
  if (slash == std::string_view::npos || !number(text.substr(0, slash), &s.index) ||
      !number(text.substr(slash + 1), &s.count) || s.count < 1 || s.index >= s.count) {
    return invalid_argument("cannot parse --shard: value = '{}', must be i/N with 0 <= i < N",
                            text);
  }
  return s;
}

std::pair<uint64_t, uint64_t> shard_range(uint64_t n, const Shard& s) {
  // n · i / N without overflow for any n < 2^64 / 2^30.
  const auto at = [&](uint64_t i) { return n / s.count * i + (n % s.count) * i / s.count; };
  return {at(s.index), at(s.index + 1)};
}

std::string encode_part(const PartFile& p) {
  RecordWriter w;
  w.str(kPartMagic).str(p.kind).str(p.inputs).u64(p.shard.index).u64(p.shard.count).u64(p.total);
  w.u64(p.records.size());
  for (const std::string& r : p.records) w.str(r);
  w.f64(p.seconds);
  return w.take();
}

Result<PartFile> decode_part(std::string_view bytes, const std::string& path) {
  RecordReader rd(bytes, fmt::format("shard part '{}'", path));
  if (rd.str() != kPartMagic) {
    return data_loss("cannot read shard part '{}': magic = absent, must be {} (not a part file)",
                     path, kPartMagic);
  }
  PartFile p;
  p.kind = rd.str();
  p.inputs = rd.str();
  p.shard.index = rd.u64();
  p.shard.count = rd.u64();
  p.total = rd.u64();
  const uint64_t count = rd.u64();
  EI8_RETURN_IF_ERROR(rd.status(false));
  if (p.shard.count < 1 || p.shard.count > (uint64_t{1} << 30) || p.shard.index >= p.shard.count) {
    return data_loss(
        "cannot read shard part '{}': shard = {}/{}, must be i/N with 0 <= i < N <= 2^30", path,
        p.shard.index, p.shard.count);
  }
  const auto [b, e] = shard_range(p.total, p.shard);
  if (count != e - b) {
    return data_loss("cannot read shard part '{}': records = {}, must be {} (shard {}/{} of {})",
                     path, count, e - b, p.shard.index, p.shard.count, p.total);
  }
  // Every record takes ≥ 8 bytes, and shards differ in size by one point at most: a corrupt
  // count or total cannot make the reader allocate more than the file can hold.
  if (count > bytes.size() / 8 || p.total / p.shard.count > count + 1) {
    return data_loss(
        "cannot read shard part '{}': records = {} of {}, must fit the file's {} bytes", path,
        count, p.total, bytes.size());
  }
  p.records.reserve(count);
  for (uint64_t i = 0; i < count && !rd.at_end(); ++i) p.records.push_back(rd.str());
  p.seconds = rd.f64();
  EI8_RETURN_IF_ERROR(rd.status());
  return p;
}

Result<Merged> merge_parts(const std::vector<std::string>& paths) {
  if (paths.empty()) return invalid_argument("cannot merge shards: parts = 0, must be >= 1");
  Merged m;
  std::map<uint64_t, std::string> seen;  // shard index → path
  PartFile first;
  for (size_t k = 0; k < paths.size(); ++k) {
    EI8_ASSIGN_OR_RETURN(std::string bytes, read_file(paths[k]));
    EI8_ASSIGN_OR_RETURN(PartFile p, decode_part(bytes, paths[k]));
    if (k == 0) {
      m.kind = p.kind;
      m.inputs = p.inputs;
      m.records.resize(p.total);
      m.shard_seconds.resize(p.shard.count);
      first = PartFile{p.kind, {}, p.shard, p.total, {}};
    } else if (p.kind != m.kind) {
      return invalid_argument("cannot merge '{}': kind = {}, must be {} (the kind of '{}')",
                              paths[k], p.kind, m.kind, paths[0]);
    } else if (p.inputs != m.inputs || p.total != first.total) {
      return invalid_argument(
          "cannot merge '{}': inputs = {:016x} ({} points), must be {:016x} ({} points) as in "
          "'{}' (shards of another run)",
          paths[k], fingerprint(p.inputs), p.total, fingerprint(m.inputs), first.total, paths[0]);
    } else if (p.shard.count != first.shard.count) {
      return invalid_argument("cannot merge '{}': shard count = {}, must be {} as in '{}'",
                              paths[k], p.shard.count, first.shard.count, paths[0]);
    }
    if (auto it = seen.find(p.shard.index); it != seen.end()) {
      return invalid_argument("cannot merge '{}': shard = {}/{}, must appear once (also in '{}')",
                              paths[k], p.shard.index, p.shard.count, it->second);
    }
    seen[p.shard.index] = paths[k];
    m.shard_seconds[p.shard.index] = p.seconds;
    const uint64_t b = shard_range(p.total, p.shard).first;
    for (size_t i = 0; i < p.records.size(); ++i) m.records[b + i] = std::move(p.records[i]);
  }
  for (uint64_t i = 0; i < first.shard.count; ++i) {
    if (!seen.count(i)) {
      return invalid_argument("cannot merge shards: shard {}/{} = missing, must be given", i,
                              first.shard.count);
    }
  }
  return m;
}

}  // namespace ei8::dist
