#!/bin/bash
# CPU time per inference of our engine next to ONNX Runtime's on the same ONNX files, batch 1,
# one thread, for a machine shared with other jobs (wall clock there is 2–3× the CPU time):
# `edgeint8 bench --cpu-time` (the thread's CPU clock around each run) and bench/ort/ort_cpu_time.js
# (process.cpuUsage() around each session.run), alternately (ours, ORT, ours, ORT, ...; ROUNDS
# rounds of ITERS runs each). Prints per model: min and median over the rounds of each round's
# min, and ours/ORT of the mins. Needs tests/interop/node_modules (npm ci there).
#
#   bench/ort/cpu_compare.sh /tmp/tv/resnet18.onnx /tmp/tv/mobilenet_v2.onnx ...
#   ROUNDS=5 ITERS=10 EI8_ARGS='--kernel avx2' bench/ort/cpu_compare.sh MODEL.onnx
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
ei8=${EI8:-$root/build/release/apps/edgeint8/edgeint8}
rounds=${ROUNDS:-3}
iters=${ITERS:-5}
[ -x "$ei8" ] || { echo "cpu_compare.sh: $ei8 not built (cmake --build --preset release)" >&2; exit 1; }
[ $# -ge 1 ] || { echo "usage: cpu_compare.sh MODEL.onnx..." >&2; exit 2; }
printf '%-22s %21s %21s %8s\n' model 'ours min/med (ms)' 'ORT min/med (ms)' ours/ORT
for model in "$@"; do
  o=() r=()
  for _ in $(seq "$rounds"); do
    # shellcheck disable=SC2086
    o+=("$("$ei8" bench "$model" --cpu-time --iters "$iters" --warmup 2 --json ${EI8_ARGS:-} |
      python3 -c 'import json,sys; print(json.load(sys.stdin)["us_per_inference"]["min"])')")
    r+=("$(node "$root/bench/ort/ort_cpu_time.js" "$model" 1 "$iters" 2 |
      python3 -c 'import json,sys; print(json.load(sys.stdin)["min"])')")
  done
  python3 - "$(basename "$model" .onnx)" "${o[*]}" "${r[*]}" <<'PY'
import statistics as s, sys
name, o, r = sys.argv[1], [float(x) / 1e3 for x in sys.argv[2].split()], [float(x) / 1e3 for x in sys.argv[3].split()]
print(f"{name:<22} {min(o):9.2f} / {s.median(o):9.2f} {min(r):9.2f} / {s.median(r):9.2f} {min(o) / min(r):8.2f}")
PY
done
