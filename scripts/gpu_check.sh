#!/usr/bin/env bash
# Builds rdic with llama.cpp's CUDA backend and runs the unit and model tests on the GPU.
#
#   RDIC_LLAMA_CPP_DIR=/path/to/llama.cpp RDIC_MODELS=/path/to/models ./scripts/gpu_check.sh
#
# Needs: CUDA toolkit (nvcc), cmake >= 3.25, ninja, g++, GoogleTest, nlohmann-json, CLI11 (point
# CMAKE_PREFIX_PATH at any that are not installed system-wide). Writes build and test logs to
# $RDIC_GPU_LOGS (default: build-cuda/logs). Does not download anything.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${RDIC_BUILD_DIR:-$ROOT/build-cuda}"
LOGS="${RDIC_GPU_LOGS:-$BUILD/logs}"
ARCH="${CUDA_ARCH:-native}"
mkdir -p "$BUILD" "$LOGS"
: "${RDIC_LLAMA_CPP_DIR:?set RDIC_LLAMA_CPP_DIR to a llama.cpp source tree}"

if [ ! -f "$BUILD/build.ninja" ]; then
    cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DRDIC_CUDA=ON \
          -DCMAKE_CUDA_ARCHITECTURES="$ARCH" -DRDIC_LLAMA_CPP_DIR="$RDIC_LLAMA_CPP_DIR" \
          ${CMAKE_PREFIX_PATH:+-DCMAKE_PREFIX_PATH="$CMAKE_PREFIX_PATH"} | tee "$LOGS/configure.log"
fi
start=$(date +%s)
ninja -C "$BUILD" -j "$(nproc)" 2>&1 | tail -5 | tee "$LOGS/build.log"
echo "build_seconds=$(( $(date +%s) - start ))" | tee -a "$LOGS/build.log"

"$BUILD/bin/rdic" --version | tee "$LOGS/version.txt"
ctest --test-dir "$BUILD" -L 'unit|model' --output-on-failure 2>&1 | tee "$LOGS/ctest.log"
