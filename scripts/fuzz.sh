#!/usr/bin/env bash
# Builds the libFuzzer target for the ONNX importer (clang-14, ASan + UBSan; CMake preset
# "fuzz") and runs it for a bounded time (default 60 s) on a corpus seeded with the test
# models, with a fixed seed and run count (reproducible: a finding is the code's, not luck). Exit status non-zero when the fuzzer finds a crash, leak or sanitizer report.
#   scripts/fuzz.sh [seconds]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz -j "$(nproc)"
corpus=$(mktemp -d)
trap 'rm -rf "$corpus"' EXIT
cp tests/data/models/*.onnx tests/data/fuzz_regressions/* "$corpus"/
echo "== fuzz: ei8_onnx_fuzz for ${seconds}s"
build/fuzz/fuzz/ei8_onnx_fuzz -seed=20261127 -runs=150000 -max_total_time="$seconds" -max_len=200000 -rss_limit_mb=2048 \
  -timeout=10 -print_final_stats=1 -artifact_prefix=build/fuzz/ "$corpus" 2>&1 | tail -15
rc=${PIPESTATUS[0]}
exit "$rc"
