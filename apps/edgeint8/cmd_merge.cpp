// edgeint8 merge — the files of a whole sweep from the part files of its shards (job arrays:
// `edgeint8 dse ... --shard i/N`, `edgeint8 quantize ... --sweep --shard i/N`).
//   edgeint8 merge parts/dse-shard-*-of-8.part --out dse/
//   edgeint8 merge tables/ptq-sweep-shard-*-of-4.part --out results/tables
// Writes exactly the files, byte for byte, of the single-process run (with --no-timings on the
// shards; otherwise the measured columns differ as between any two runs). Missing, repeated or
// foreign shards are errors (core/distribute.h, merge_parts).
#include <fmt/format.h>

#include "cli.h"
#include "ei8/core/distribute.h"

namespace ei8::cli {

// Defined beside their sweeps (cmd_dse.cpp, cmd_quantize.cpp).
Status merge_dse_parts(const dist::Merged& m, const std::string& out, int threads, bool json);
Status merge_ptq_sweep_parts(const dist::Merged& m, const std::string& out, bool json);

namespace {

struct MergeOptions {
  std::vector<std::string> parts;
  std::string out;
  int threads = 0;
  bool json = false;
};

Status run_merge(const MergeOptions& o) {
  if (o.threads < 0) {
    return invalid_argument("cannot merge shards: --threads = {}, must be >= 0 (0 = all cores)",
                            o.threads);
  }
  EI8_ASSIGN_OR_RETURN(dist::Merged m, dist::merge_parts(o.parts));
  if (m.kind == "dse") return merge_dse_parts(m, o.out, o.threads, o.json);
  if (m.kind == "ptq-sweep") return merge_ptq_sweep_parts(m, o.out, o.json);
  return invalid_argument("cannot merge '{}': kind = '{}', must be dse or ptq-sweep", o.parts[0],
                          m.kind);
}

}  // namespace

void register_merge(CLI::App& app) {
  auto o = std::make_shared<MergeOptions>();
  CLI::App* sub = app.add_subcommand(
      "merge", "Rebuild a sweep's files (dse, quantize --sweep) from the part files of its shards");
  sub->add_option("parts", o->parts, "Part files written with --shard i/N (every i once)")
      ->required();
  sub->add_option("--out", o->out, "Output directory (dse files, or ptq_sweep.csv/.json)")
      ->required();
  sub->add_option("--threads", o->threads, "Threads for the DSE's exact front check (0 = all)");
  sub->add_flag("--json", o->json, "Print a JSON summary");
  set_action(sub, [o] { return run_merge(*o); });
}

}  // namespace ei8::cli
