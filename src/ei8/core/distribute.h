// ei8/core/distribute.h — sweeps of independent points over MPI ranks, threads and job-array
// shards: "a list of N independent points, a function point → result record, the records
// gathered in index order". `edgeint8 dse` and the PTQ sweep (`quantize --sweep`) use it.
//
//   dist::init(&argc, &argv);                       // main(): MPI only when run by mpirun
//   EI8_ASSIGN_OR_RETURN(std::vector<std::string> recs,
//                        dist::map_points(n, [&](size_t i) -> Result<std::string> {
//                          return encode(evaluate(i));
//                        }, {.threads = 2}));
//   if (!dist::world().root()) return {};            // rank 0 holds the n records, in order
//   ... decode recs[0..n), write the files (OutputFiles: whole or not at all) ...
//   return dist::finish(status);                      // main(): exit code, MPI_Finalize
//
// Work split (MPI): the first half of the points is split into one contiguous static block per
// rank; the rest is handed out in dynamic chunks by a counter on rank 0 that every rank
// increments with MPI_Fetch_and_op (one-sided: rank 0 computes too, it never serves requests).
// Within a rank, `threads` workers take indices from the rank's block, then from its chunks.
// Records are opaque bytes; which rank computed a record never changes it, so rank 0's files
// are byte for byte those of the single-process run.
//
// Failure: a point function that fails on any rank prints "edgeint8: error: rank <r>: <msg>"
// once (that rank only) and calls MPI_Abort, which ends every rank; rank 0 writes its files only
// after all records arrived, so no result file appears. Before the sweep, every rank meets the
// others in one collective check (`map_points` on ranks that reached it, `finish` on ranks whose
// command failed earlier): the lowest failing rank prints its message and aborts the job.
//
// Job arrays: `Shard` ("i/N", 0 ≤ i < N) selects the contiguous range of points a job computes;
// `PartFile` stores its records with the run's description and `merge_parts` rebuilds the full
// list, refusing missing, repeated or mismatched shards.
//
// Built without MPI (EI8_HAVE_MPI undefined), or run without mpirun, there is one rank and
// map_points is the threaded single-process sweep.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ei8/core/status.h"

namespace ei8::dist {

// ---- Records: little-endian fixed-width fields, doubles as their IEEE-754 bits (exact). ----
class RecordWriter {
 public:
  RecordWriter& u64(uint64_t v);
  RecordWriter& i64(int64_t v) { return u64(static_cast<uint64_t>(v)); }
  RecordWriter& f64(double v);
  RecordWriter& boolean(bool v) { return u64(v ? 1 : 0); }
  RecordWriter& str(std::string_view s);  // length, then the bytes
  const std::string& bytes() const { return out_; }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

// Reads what RecordWriter wrote. A read past the end returns 0 / "" and marks the reader
// failed; status() then says which record was truncated or had bytes left over.
class RecordReader {
 public:
  RecordReader(std::string_view bytes, std::string_view what) : in_(bytes), what_(what) {}
  uint64_t u64();
  int64_t i64() { return static_cast<int64_t>(u64()); }
  double f64();
  bool boolean() { return u64() != 0; }
  std::string str();
  bool at_end() const { return pos_ == in_.size(); }
  // Error when a read ran past the end, or when `whole` and bytes are left over.
  [[nodiscard]] Status status(bool whole = true) const;

 private:
  std::string_view in_;
  std::string what_;
  size_t pos_ = 0;
  bool failed_ = false;
};

// FNV-1a 64 of `bytes`: fingerprints of a run's inputs (not a cryptographic hash).
uint64_t fingerprint(std::string_view bytes, uint64_t seed = 0xcbf29ce484222325ull);

// ---- The process group ----
struct Group {
  int rank = 0;
  int size = 1;
  bool mpi = false;  // MPI initialized (launched by mpirun with an MPI build)
  bool root() const { return rank == 0; }
};

// True when this build has MPI (find_package(MPI) found it).
bool built_with_mpi();
// Initializes MPI when built with it and launched by mpirun/srun (OMPI_COMM_WORLD_SIZE,
// PMI_SIZE or PMIX_RANK in the environment); otherwise one rank. Call once, first in main().
void init(int* argc, char*** argv);
const Group& world();
// End of main(): under MPI with several ranks, a rank whose command failed before the
// sweep's collective check meets the others there; the lowest failing rank prints its message
// ("edgeint8: error: rank <r>: ...") and aborts every rank. A failure after the check
// (e.g. rank 0 cannot write) prints and aborts at once. Otherwise MPI_Finalize. Prints the
// single-process error itself. Returns the exit code (0 or 1).
int finish(const Status& status);
// MPI_Finalize without the collective check, for errors every rank meets alike before any
// work (command-line usage errors). No-op without MPI.
void shutdown();

// ---- Points ----
using PointFn = std::function<Result<std::string>(size_t index)>;

struct MapOptions {
  int threads = 1;               // workers per rank, ≥ 1
  double static_fraction = 0.5;  // of the points split statically between ranks, [0, 1]
  size_t chunk = 0;              // dynamic chunk size; 0 = dynamic points / (16 · ranks), ≥ 1
};

struct MapStats {
  size_t points = 0;          // computed on this rank
  size_t chunks = 0;          // dynamic chunks taken by this rank
  uint64_t record_bytes = 0;  // bytes of this rank's records (what it sends to rank 0)
  uint64_t sent_bytes = 0;    // bytes sent to rank 0 (records + 16 per point), 0 on rank 0
  double compute_seconds = 0, gather_seconds = 0;  // wall time of this rank
  double compute_cpu_seconds = 0;    // CPU time of this rank's workers (thread CPU clocks)
  double all_ranks_cpu_seconds = 0;  // on rank 0: compute_cpu_seconds summed over every rank
};

// Computes fn(i) for every i in [0, n) over every rank and `threads` workers per rank. On rank 0
// returns the n records in index order; on other ranks an empty vector. A failing point returns
// its error (one rank) or ends every rank (MPI, see above). `stats` may be null. For the
// failure tests, the environment variable EI8_DIST_FAIL_POINT=<i> makes point i fail.
[[nodiscard]] Result<std::vector<std::string>> map_points(size_t n, const PointFn& fn,
                                                          const MapOptions& options,
                                                          MapStats* stats = nullptr);

// ---- Job-array shards ----
struct Shard {
  uint64_t index = 0;  // 0 ≤ index < count
  uint64_t count = 1;
  bool operator==(const Shard&) const = default;
};
// "i/N" with 0 ≤ i < N, e.g. "3/8" (SLURM_ARRAY_TASK_ID with --array=0-7).
[[nodiscard]] Result<Shard> parse_shard(std::string_view text);
// The contiguous index range [first, second) of shard `s` among n points.
std::pair<uint64_t, uint64_t> shard_range(uint64_t n, const Shard& s);

// One shard's result: the run's description (`inputs`: equal bytes in every shard of one run),
// and the records of [shard_range(total, shard)).
struct PartFile {
  std::string kind;    // "dse", "ptq-sweep"
  std::string inputs;  // what merge needs to finish the run; compared byte for byte
  Shard shard;
  uint64_t total = 0;
  std::vector<std::string> records;
  double seconds = 0;  // measured by the shard (DSE: its sweep; PTQ sweep: statistics pass)
};
std::string encode_part(const PartFile& p);
// `path` names the file in errors.
[[nodiscard]] Result<PartFile> decode_part(std::string_view bytes, const std::string& path);

struct Merged {
  std::string kind, inputs;
  std::vector<double> shard_seconds;  // PartFile::seconds of every shard, by shard index
  std::vector<std::string> records;   // all `total` records, in index order
};
// Reads every part; errors (one line, naming files): unreadable or corrupt part, parts of
// different kinds or runs (inputs, shard count, point count), a shard given twice, a missing one.
[[nodiscard]] Result<Merged> merge_parts(const std::vector<std::string>& paths);

}  // namespace ei8::dist
