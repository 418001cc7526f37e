#!/usr/bin/env bash
# Builds llama.cpp's own reference tools from the SAME pinned tree rdic links against, for the
# side-by-side benchmarks (docs/performance.md): llama-batched-bench, llama-perplexity,
# llama-server. Never part of setup.sh or CI (the server alone takes minutes on 2 cores).
#
#   bench/build_llama_tools.sh [BUILD_DIR]          # default build-llama-tools/
#   RDIC_CUDA=ON CUDA_ARCH=90 bench/build_llama_tools.sh /root/dev/build-llama-tools
#   LLAMA_TOOLS="llama-batched-bench" bench/build_llama_tools.sh   # a subset
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
source "$here/scripts/pins.env"
L=${RDIC_LLAMA_CPP_DIR:-${RDIC_CACHE:-$HOME/.cache/rdic}/src/llama-cpp-python-${LLAMA_CPP_PYTHON_VERSION}/vendor/llama.cpp}
B=${1:-$here/build-llama-tools}
tools=${LLAMA_TOOLS:-llama-batched-bench llama-perplexity llama-server}
server=OFF
[[ " $tools " == *" llama-server "* ]] && server=ON
jobs=${JOBS:-$(nproc)}
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
cmake -S "$L" -B "$B" -G Ninja -DCMAKE_BUILD_TYPE=Release "${launcher[@]}" \
    -DGGML_CUDA="${RDIC_CUDA:-OFF}" -DCMAKE_CUDA_ARCHITECTURES="${CUDA_ARCH:-90}" \
    -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TOOLS=ON \
    -DLLAMA_BUILD_SERVER=$server -DLLAMA_BUILD_APP=OFF -DLLAMA_BUILD_UI=OFF \
    -DLLAMA_USE_PREBUILT_UI=OFF -DLLAMA_CURL=OFF -DLLAMA_OPENSSL=OFF -DBUILD_SHARED_LIBS=OFF \
    -DLLAMA_BUILD_COMMIT="${LLAMA_CPP_COMMIT:-unknown}" >/dev/null
# shellcheck disable=SC2086
ninja -C "$B" -j"$jobs" $tools
echo "llama.cpp tools in $B/bin: $tools"
