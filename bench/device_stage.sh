#!/usr/bin/env bash
# Prepares what bench/device_run.sh needs on the lent device machine (docs/performance.md):
#   bench/device_stage.sh STAGE_DIR [BUILD_DIR]
# STAGE_DIR must be a git-ignored folder inside the checkout the device tool sends (it travels
# with `carry`, 64 MiB at most). BUILD_DIR is a local build with -DRDIC_BENCH_TOOLS=ON (for
# rdic_shape_gguf extract-vocab; default build/).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
S=$1; BUILD=${2:-$here/build}
source "$here/scripts/pins.env"
L=${RDIC_LLAMA_CPP_DIR:-$HOME/.cache/rdic/src/llama-cpp-python-${LLAMA_CPP_PYTHON_VERSION}/vendor/llama.cpp}
MODELS=${RDIC_MODELS:-$HOME/.cache/rdic/models}
mkdir -p "$S/prefix/include" "$S/prefix/share/cmake"
# This tree as it is now (tracked and new files, not ignored ones).
(cd "$here" && git ls-files -co --exclude-standard -z | tar czf "$S/src.tgz" --null -T -)
# llama.cpp: libraries, common/ and the tools (no web UI, no multimodal assets).
tar czf "$S/llama.tgz" -C "$L" --exclude=tools/ui --exclude='tools/server/public*' \
    --exclude=tools/mtmd/legacy-models CMakeLists.txt cmake ggml src include vendor licenses \
    LICENSE common tools
cp -r /usr/include/nlohmann "$S/prefix/include/"
cp -r /usr/share/cmake/nlohmann_json "$S/prefix/share/cmake/"
cp -r /usr/include/CLI "$S/prefix/include/"
cp -r /usr/share/cmake/CLI11 "$S/prefix/share/cmake/"
[ -s "$S/vocab.gguf" ] || "$BUILD/bin/rdic_shape_gguf" extract-vocab "$MODELS/$GEMMA_FILE" "$S/vocab.gguf"
du -sh "$S"/*
