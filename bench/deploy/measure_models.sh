#!/usr/bin/env bash
# Every model the deploy tests use (ours quantized with the integer-only profiles, and every
# foreign QDQ file of tests/data/qdq) through `edgeint8 codegen`: refused or generated; the
# generated C on the host and under QEMU (Cortex-M4 mps2-an386 with the DSP kernels, Cortex-M55
# mps3-an547 with MVE, Cortex-M7 mps2-an500, Cortex-M0 = M3 board mps2-an385 with the reference
# kernels) compared bit for bit with the integer engine (`edgeint8 run --engine int8`); peak
# arena per planner, flash/RAM. Prints one Markdown row per model and target (docs/deploy.md).
#
#   bash bench/deploy/measure_models.sh [BUILD_DIR] [TARGETS] [NAME_REGEX]
#   e.g. bash bench/deploy/measure_models.sh build/release "cortex-m4 cortex-m55"
#        bash bench/deploy/measure_models.sh build/release cortex-m4 '^op_bn$'   (one model)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build/release}
targets=${2:-"cortex-m4 cortex-m55"}
only=${3:-}
ei8="$build/apps/edgeint8/edgeint8"
data="$root/tests/data"
work=$(mktemp -d /tmp/ei8_deploy_measure.XXXXXX)
trap 'rm -rf "$work"' EXIT

npy_to_bin() {  # .npy float32 → raw .bin, prints the shape N,C,H,W
  /usr/bin/python3 - "$1" "$2" <<'PY'
import sys, numpy as np
a = np.load(sys.argv[1]).astype('<f4')
a.tofile(sys.argv[2])
print(','.join(str(d) for d in a.shape))
PY
}

# name | source .onnx | input .npy | quantize args ('' = already QDQ) | profile
cases=(
  "signal_cnn1d|$data/models/signal_cnn1d.onnx|$data/models/signal_cnn1d.input.npy|--method minmax --act-type s8|tflite"
  "mobilenetish|$data/models/mobilenetish.onnx|$data/models/mobilenetish.input.npy|--method minmax|tflite-single"
  "cifar_resnet|$data/models/cifar_resnet.onnx|$data/models/cifar_resnet.input.npy|--method minmax --act-type s8 --weights per-tensor|tflite"
  "pools_mix|$data/models/pools_mix.onnx|$data/models/pools_mix.input.npy|--method minmax --act-type s8|tflite"
)
for f in "$data"/qdq/*.onnx; do
  n=$(basename "$f" .onnx)
  cases+=("$n|$f|$data/qdq/$n.input.npy||tflite")
done

echo "| model | profile | target | samples | identical / outputs | greedy-by-size B | in-place best fit B | ratio | flash B | RAM B | note |"
echo "|---|---|---|---|---|---|---|---|---|---|---|"
for c in "${cases[@]}"; do
  IFS='|' read -r name onnx npy qargs profile <<<"$c"
  [[ -n "$only" && ! "$name" =~ $only ]] && continue
  qdq="$onnx"
  if [[ -n "$qargs" ]]; then
    qdq="$work/$name.int8.onnx"
    # shellcheck disable=SC2086
    "$ei8" quantize "$onnx" --calib-data "$npy" $qargs --profile "$profile" -o "$qdq" >/dev/null
  fi
  shape=$(npy_to_bin "$npy" "$work/$name.in.bin")
  samples=${shape%%,*}
  if ! "$ei8" run "$qdq" --engine int8 --profile "$profile" -i "$work/$name.in.bin" \
      --shape "$shape" -o "$work/$name.engine.bin" >/dev/null 2>"$work/err.txt"; then
    echo "| $name | $profile | - | | | | | | | | engine: $(head -1 "$work/err.txt") |"
    continue
  fi
  for t in host $targets; do
    run=--run-host
    [[ $t != host ]] && run=--run-qemu
    if ! "$ei8" codegen "$qdq" --out "$work/gen_${name}_$t" --target "$t" --profile "$profile" \
        $run --input "$work/$name.in.bin" --output "$work/$name.$t.bin" --json \
        >"$work/out.json" 2>"$work/err.txt"; then
      echo "| $name | $profile | $t | | | | | | | | refused: $(head -1 "$work/err.txt" | sed 's/|/\\|/g') |"
      break
    fi
    /usr/bin/python3 - "$work/out.json" "$work/$name.engine.bin" "$work/$name.$t.bin" \
        "$name" "$profile" "$t" "$samples" <<'PY'
import json, sys, numpy as np
j = json.load(open(sys.argv[1]))
e = np.fromfile(sys.argv[2], dtype='<u4'); g = np.fromfile(sys.argv[3], dtype='<u4')
same = int((e == g).sum()) if e.size == g.size else -1
a = j['arena_bytes']; fp = j.get('footprint', {})
print(f"| {sys.argv[4]} | {sys.argv[5]} | {sys.argv[6]} | {sys.argv[7]} | {same} / {e.size} | "
      f"{a['greedy-by-size']} | {a['inplace-bestfit']} | {a['inplace-bestfit'] / max(1, a['greedy-by-size']):.2f} | "
      f"{fp.get('model_flash', '')} | {fp.get('model_ram', '')} | {'bit-exact' if same == e.size else 'DIFFERS'} |")
PY
  done
done
