#!/usr/bin/env sh
# Builds apps/cli/native/cuda/build/pogpu with nvcc + cuBLAS; prints the reason and exits 1 without nvcc.
set -eu
cd "$(dirname "$0")"
if ! command -v "${NVCC:-nvcc}" >/dev/null 2>&1; then
  echo "nvcc not found: the CUDA prover is optional; workers without it use the CPU prover" >&2
  exit 1
fi
make "$@"
