#!/usr/bin/env bash
# The main command of README's Quick start: installs what is missing, builds the optimised
# program and runs the whole loop on the offline default data. Extra arguments go to run-all.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)" --target edgeint8
exec ./build/release/apps/edgeint8/edgeint8 run-all --out results "$@"
