#!/bin/bash
# Our INT8 engine ÷ our FP32 engine on the same model, CPU time per inference, one thread:
# `edgeint8 bench --cpu-time` on the FP32 file and on its QDQ file alternately (FP32, INT8,
# FP32, INT8, ...; ROUNDS rounds of ITERS runs each). Prints the min and the median over the
# rounds of each round's min (µs), and INT8/FP32 of the mins and of the medians.
#
#   bench/ort/int8_fp32_ratio.sh M.onnx M.int8.onnx                  (BATCH=32 ROUNDS=5 ITERS=200)
#   EI8_ARGS='--tune /tmp/tune.tsv' bench/ort/int8_fp32_ratio.sh ...  (the same plans every round)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
ei8=${EI8:-$root/build/release/apps/edgeint8/edgeint8}
rounds=${ROUNDS:-5}
iters=${ITERS:-200}
batch=${BATCH:-32}
[ -x "$ei8" ] || { echo "int8_fp32_ratio.sh: $ei8 not built (cmake --build --preset release)" >&2; exit 1; }
[ $# -eq 2 ] || { echo "usage: int8_fp32_ratio.sh FP32.onnx INT8.onnx" >&2; exit 2; }
time_one() {
  # shellcheck disable=SC2086
  "$ei8" bench "$1" --batch "$batch" --cpu-time --iters "$iters" --warmup 10 --json ${EI8_ARGS:-} |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["us_per_inference"]["min"])'
}
f=() q=()
for _ in $(seq "$rounds"); do
  f+=("$(time_one "$1")")
  q+=("$(time_one "$2")")
done
python3 - "$(basename "$1" .onnx)" "$batch" "${f[*]}" "${q[*]}" <<'PY'
import statistics as s, sys
name, batch = sys.argv[1], sys.argv[2]
f, q = ([float(x) for x in a.split()] for a in sys.argv[3:5])
print(f"{name} batch {batch}: FP32 min/med {min(f):.1f} / {s.median(f):.1f} µs  "
      f"INT8 min/med {min(q):.1f} / {s.median(q):.1f} µs  INT8/FP32 min {min(q) / min(f):.2f} "
      f"med {s.median(q) / s.median(f):.2f}  (rounds: FP32 {' '.join(f'{v:.1f}' for v in f)}; "
      f"INT8 {' '.join(f'{v:.1f}' for v in q)})")
PY
