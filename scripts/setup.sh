#!/usr/bin/env bash
# Installs every Debian package EdgeINT8-ArchKit needs. Idempotent and non-interactive:
# packages already present are not reinstalled, and apt's index is refreshed only when
# something is missing. Works as root or through sudo.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git clang-format
  clang-14 libclang-rt-14-dev                                  # libFuzzer + sanitizers
  libcli11-dev libfmt-dev nlohmann-json3-dev libtomlplusplus-dev zlib1g-dev libcurl4-openssl-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libonnx-dev libprotobuf-dev protobuf-compiler
  libtorch-dev
  libdnnl-dev libhwy-dev
  gnuplot-nox
  chromium                                                     # headless check of report.html
  dataset-fashion-mnist
  nodejs
  python3-onnx libonnx-testdata                               # regenerate tests/data/{qdq,onnx_node}
  python3-torchvision                                          # bench/models/export_torchvision.py, torchvision interop test
  pybind11-dev python3-dev python3-numpy python3-pytest        # the Python module edgeint8 + its tests
  python3-pandas                                               # edgeint8.*(pandas=True) DataFrames
  python3-setuptools python3-wheel python3-venv python3-pip    # pip install --no-build-isolation .
  gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm    # edgeint8 codegen: MCU firmware + QEMU
  libopenmpi-dev openmpi-bin                                   # mpirun -np N edgeint8 dse / quantize --sweep
)

if [ "$(id -u)" -eq 0 ]; then sudo=(); else sudo=(sudo); fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# nodejs may come from another repository that also provides npm; only ask for Debian's npm
# when no npm is on the PATH.
command -v npm >/dev/null 2>&1 || missing+=(npm)

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#packages[@]} packages present"
  exit 0
fi
echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
echo "setup: done"
