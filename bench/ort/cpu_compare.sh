#!/bin/bash
# CPU time per inference of our engine next to ONNX Runtime's on the same ONNX files (batch
# BATCH, default 1), one thread, for a machine shared with other jobs (wall clock there is 2–3× the CPU time):
# `edgeint8 bench --cpu-time` (the thread's CPU clock around each run) and bench/ort/ort_cpu_time.js
# (process.cpuUsage() around each session.run), alternately (ours, ORT, ours, ORT, ...; ROUNDS
# rounds of ITERS runs each). Prints per model: min and median over the rounds of each round's
# min, and ours/ORT of the mins. Needs tests/interop/node_modules (npm ci there).
#
#   bench/ort/cpu_compare.sh /tmp/tv/resnet18.onnx /tmp/tv/mobilenet_v2.onnx ...
#   ROUNDS=5 ITERS=10 EI8_ARGS='--kernel avx2' bench/ort/cpu_compare.sh MODEL.onnx
#   EI8_BASE=/tmp/edgeint8_main bench/ort/cpu_compare.sh MODEL.onnx   # + a "before" binary,
#     timed in the same rounds (base, ours, ORT, base, ours, ORT, ...): adds base/ORT
#   BATCH=32 UNIT=us ROUNDS=5 ITERS=100 bench/ort/cpu_compare.sh MODEL.onnx   # µs per call
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
ei8=${EI8:-$root/build/release/apps/edgeint8/edgeint8}
rounds=${ROUNDS:-3}
iters=${ITERS:-5}
batch=${BATCH:-1}
unit=${UNIT:-ms}
[ "$unit" = ms ] || [ "$unit" = us ] || { echo "cpu_compare.sh: UNIT = $unit, must be ms or us" >&2; exit 2; }
[ -x "$ei8" ] || { echo "cpu_compare.sh: $ei8 not built (cmake --build --preset release)" >&2; exit 1; }
[ $# -ge 1 ] || { echo "usage: cpu_compare.sh MODEL.onnx..." >&2; exit 2; }
base=${EI8_BASE:-}
if [ -n "$base" ]; then
  printf '%-22s %21s %21s %21s %8s %8s\n' model "base min/med ($unit)" "ours min/med ($unit)" \
    "ORT min/med ($unit)" base/ORT ours/ORT
else
  printf '%-22s %21s %21s %8s\n' model "ours min/med ($unit)" "ORT min/med ($unit)" ours/ORT
fi
time_ours() {
  # shellcheck disable=SC2086
  "$1" bench "$2" --batch "$batch" --cpu-time --iters "$iters" --warmup 2 --json ${EI8_ARGS:-} |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["us_per_inference"]["min"])'
}
for model in "$@"; do
  o=() r=() b=()
  for _ in $(seq "$rounds"); do
    [ -z "$base" ] || b+=("$(time_ours "$base" "$model")")
    o+=("$(time_ours "$ei8" "$model")")
    r+=("$(node "$root/bench/ort/ort_cpu_time.js" "$model" "$batch" "$iters" 2 |
      python3 -c 'import json,sys; print(json.load(sys.stdin)["min"])')")
  done
  python3 - "$(basename "$model" .onnx)" "${o[*]}" "${r[*]}" "${b[*]:-}" "$unit" <<'PY'
import statistics as s, sys
div = 1e3 if sys.argv[5] == "ms" else 1.0
ms = lambda a: [float(x) / div for x in a.split()]
name, o, r, b = sys.argv[1], ms(sys.argv[2]), ms(sys.argv[3]), ms(sys.argv[4])
cell = lambda v: f"{min(v):9.2f} / {s.median(v):9.2f}"
if b:
    print(f"{name:<22} {cell(b)} {cell(o)} {cell(r)} {min(b) / min(r):8.2f} {min(o) / min(r):8.2f}")
else:
    print(f"{name:<22} {cell(o)} {cell(r)} {min(o) / min(r):8.2f}")
PY
done
