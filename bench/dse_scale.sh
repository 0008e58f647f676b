#!/usr/bin/env bash
# Scale figures of `edgeint8 dse` (issue 18 item 3): a space of 1 012 500 design points
# (25 row counts x 25 column counts x 3 dataflows x 36 SRAM triples x 15 bandwidths) on the
# layers of a workload, run alternately as 1 process (1 thread) and as `mpirun -np 2` ranks
# (1 thread each), REPS times each; prints one JSON summary per run (points, sweep seconds,
# rank 0's compute/gather/finish seconds, gather bytes per point) and the wall time.
#
#   bench/dse_scale.sh build/release/apps/edgeint8/edgeint8 both.csv   # or model.onnx files
# both.csv: the layers of TinyCNN2D and SignalCNN1D as INT8 (`edgeint8 sim M.onnx --array 8x8
# --emit-scalesim DIR` for each model, the two topology.csv files concatenated, one header).
#   REPS=3 OUT=/tmp/dse_scale bench/dse_scale.sh ...
#
# The space file is written to $OUT/space_1m.toml. Files of the 1-process and 2-rank runs are
# compared byte for byte (--no-timings). Needs openmpi-bin for the 2-rank runs.
set -euo pipefail
bin=${1:?usage: dse_scale.sh EDGEINT8 WORKLOAD...}
shift
reps=${REPS:-2}
out=${OUT:-/tmp/ei8_dse_scale}
mkdir -p "$out"
space="$out/space_1m.toml"
{
  echo 'name = "scale-1m"'
  printf 'arrays = ['
  sep=''
  for r in 2 4 6 8 10 12 16 20 24 28 32 40 48 56 64 72 80 88 96 104 112 120 128 192 256; do
    for c in 2 4 6 8 10 12 16 20 24 28 32 40 48 56 64 72 80 88 96 104 112 120 128 192 256; do
      printf '%s"%sx%s"' "$sep" "$r" "$c"
      sep=', '
    done
  done
  echo ']'
  echo 'dataflows = ["ws", "os", "is"]'
  printf 'sram_kb = ['
  sep=''
  for i in 8 16 32 64; do for f in 8 16 32; do for o in 4 8 16; do
    printf '%s[%s, %s, %s]' "$sep" "$i" "$f" "$o"
    sep=', '
  done; done; done
  echo ']'
  echo 'bandwidths = [1, 2, 3, 4, 5, 6, 8, 10, 12, 16, 20, 24, 32, 48, 64]'
  # The exact re-simulation of the front runs on rank 0 alone after the sweep; with a million
  # points the front holds thousands of points (more than 8 min of CPU here): measured apart.
  echo "verify_front = ${VERIFY_FRONT:-false}"
} > "$space"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs) (family $(grep -m1 'cpu family' /proc/cpuinfo | cut -d: -f2 | xargs) model $(grep -m1 '^model' /proc/cpuinfo | cut -d: -f2 | xargs)), $(nproc) cores"
for w in "$@"; do
  name=$(basename "${w%.*}")
  for rep in $(seq 1 "$reps"); do
    for mode in serial mpi2; do
      echo "== $name rep $rep $mode, load: $(cut -d' ' -f1-3 /proc/loadavg)"
      args=(dse "$w" --space "$space" --no-timings --json --threads 1 --out "$out/$name.$mode")
      start=$(date +%s.%N)
      if [ "$mode" = serial ]; then
        /usr/bin/time -f 'rss %M kB, cpu %U+%S s' "$bin" "${args[@]}"
      else
        /usr/bin/time -f 'rss %M kB (mpirun), cpu %U+%S s' mpirun -np 2 --oversubscribe "$bin" "${args[@]}"
      fi
      echo "wall $(echo "$(date +%s.%N) - $start" | bc) s"
    done
    for f in points.csv points.json pareto.csv best.json analysis.md; do
      cmp -s "$out/$name.serial/$f" "$out/$name.mpi2/$f" || echo "DIFFERENT: $name $f"
    done
  done
done
