#!/usr/bin/env sh
# Calibrates a GPU for packages/protocol/src/hardware-profiles.ts: builds pogpu, checks the shared test
# vectors bit for bit (int8 and fp16 paths), then times full-size commits at the GPU challenge shape.
# Usage: apps/cli/native/cuda/calibrate.sh [BATCH] — pick BATCH so that meanMs is about 2000.
set -eu
cd "$(dirname "$0")"
./build.sh >/dev/null
nvidia-smi --query-gpu=name,memory.total,clocks.max.sm,power.limit --format=csv,noheader
fixture=../../../../packages/protocol/src/proof/test-vectors.json
build/pogpu selftest "$fixture" | tail -1
build/pogpu selftest "$fixture" --precision fp16 | tail -1
build/pogpu bench --n 2048 --inner 32768 --batch "${1:-8192}" --reps 5 --reveal 128
