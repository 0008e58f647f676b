#!/usr/bin/env bash
# The test command of README's Quick start (and the only thing .ci/run calls):
# installs what is missing, builds, and runs the whole suite twice — an optimised build with
# every module (libtorch included) and an ASan+UBSan build of every module without libtorch.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh

jobs=$(nproc)
total_pass=0
total_fail=0
run_suite() {  # run_suite <preset>
  local preset=$1 log
  log=$(mktemp)
  echo "== [$preset] configure + build"
  local t0=$SECONDS
  cmake --preset "$preset" >/dev/null
  cmake --build --preset "$preset" -j "$jobs"
  echo "== [$preset] built in $((SECONDS - t0)) s; tests"
  t0=$SECONDS
  set +e
  ctest --preset "$preset" -j "$jobs" 2>&1 | tee "$log"
  local rc=${PIPESTATUS[0]}
  set -e
  local line pass fail
  line=$(grep -E '^[0-9]+% tests passed, [0-9]+ tests failed out of [0-9]+' "$log" | tail -1)
  fail=$(sed -E 's/.* ([0-9]+) tests failed.*/\1/' <<<"$line")
  pass=$(( $(sed -E 's/.*out of ([0-9]+).*/\1/' <<<"$line") - fail ))
  total_pass=$((total_pass + pass))
  total_fail=$((total_fail + fail))
  rm -f "$log"
  echo "== [$preset] tests ran in $((SECONDS - t0)) s"
  return "$rc"
}

# ONNX Runtime for the interop tests (ctest label "interop"); they skip themselves without it.
echo "== interop: npm ci tests/interop (onnxruntime-node, pinned)"
if timeout 600 npm ci --ignore-scripts --no-audit --no-fund --prefix tests/interop >/dev/null 2>&1; then
  echo "interop: onnxruntime-node installed"
else
  echo "interop: npm registry unreachable or install failed; ORT interop tests will be skipped"
fi

status=0
run_suite release || status=1
run_suite asan-ubsan || status=1

# A bounded libFuzzer run of the ONNX importer (clang-14, ASan + UBSan); must find nothing.
if bash scripts/fuzz.sh 60; then
  echo "fuzz: ONNX importer, 60 s, nothing found"
else
  echo "fuzz: the ONNX importer fuzzer found a problem (artifact under build/fuzz/)"
  status=1
fi

echo "suite: ${total_pass} passed, ${total_fail} failed (${SECONDS} s in all)"
exit "$status"
