#!/bin/bash
# Latency of our engine next to ONNX Runtime's on the same ONNX file, batch by batch, one
# thread, measured alternately (ours, ORT, ours, ORT, ...) so that both see the same machine.
# ORT runs through tests/interop/run_ort.mjs (onnxruntime-node; `npm ci` in tests/interop first).
# ORT's per-call cost through node is measured on a one-Relu model (bench/ort/trivial.onnx)
# and subtracted, as issues 3 and 5 ask.
#
#   bench/ort/compare.sh MODEL.onnx [BATCH...]     (default batches: 1 32; env ROUNDS=3)
#   EI8_ARGS='--tune /tmp/tune.tsv' bench/ort/compare.sh ...   (extra `edgeint8 bench` options:
#   a tuning file keeps our plans the same in every round)
#
# Prints one line per batch: ours min/p50 µs per inference, ORT min/p50, ORT's call overhead
# (p50), and ours ÷ (ORT − overhead) twice: on the p50s, and on the mins (overhead: its min).
# The host's noise moves p50s by up to ±30 % between runs; the mins are the steadier figure.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
ei8=${EI8:-$root/build/release/apps/edgeint8/edgeint8}
interop=$root/tests/interop
model=$(realpath "$1"); shift
batches=${*:-1 32}
rounds=${ROUNDS:-3}
[ -x "$ei8" ] || { echo "compare.sh: $ei8 not built (cmake --build --preset release)" >&2; exit 1; }
[ -d "$interop/node_modules/onnxruntime-node" ] || { echo "compare.sh: run npm ci in $interop" >&2; exit 1; }
ours() {  # batch iters → "min p50"
  # shellcheck disable=SC2086
  "$ei8" bench "$model" --batch "$1" --iters "$2" --warmup 10 --json ${EI8_ARGS:-} |
    python3 -c 'import json,sys; d=json.load(sys.stdin)["us_per_inference"]; print(d["min"], d["p50"])'
}
ort() {  # file batch iters → "min p50"
  (cd "$interop" && node run_ort.mjs "$1" --bench "$2" "$3") |
    python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["min"], d["p50"])'
}
for b in $batches; do
  iters=$((b == 1 ? 300 : 30))
  o_min=1e99 o_p50=() r_min=1e99 r_p50=() c_min=1e99 c_p50=()
  for _ in $(seq "$rounds"); do
    read -r mn p <<<"$(ours "$b" "$iters")"; o_min=$(python3 -c "print(min($o_min,$mn))"); o_p50+=("$p")
    read -r mn p <<<"$(ort "$model" "$b" "$iters")"; r_min=$(python3 -c "print(min($r_min,$mn))"); r_p50+=("$p")
    read -r mn p <<<"$(ort "$root/bench/ort/trivial.onnx" "$b" 300)"; c_min=$(python3 -c "print(min($c_min,$mn))"); c_p50+=("$p")
  done
  python3 - "$(basename "$model")" "$b" "$o_min" "$r_min" "$c_min" "${o_p50[*]}" "${r_p50[*]}" "${c_p50[*]}" <<'PY'
import statistics as s, sys
name, b = sys.argv[1], int(sys.argv[2])
omin, rmin, cmin = (float(a) for a in sys.argv[3:6])
op, rp, cp = (s.median(map(float, a.split())) for a in sys.argv[6:9])
def ratio(ours, ort, overhead):  # n/a when the noise put the overhead above ORT's own time
    return f"{ours / (ort - overhead):.2f}" if ort > overhead else "n/a (overhead >= ORT)"
print(f"{name} batch {b}: ours {omin:.1f}/{op:.1f} µs  ORT {rmin:.1f}/{rp:.1f} µs  "
      f"ORT call overhead {cp:.1f} µs  ours/(ORT-overhead) p50 {ratio(op, rp, cp)}"
      f" min {ratio(omin, rmin, cmin)}")
PY
done
