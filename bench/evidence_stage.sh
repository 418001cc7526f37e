#!/usr/bin/env bash
# Prepares what bench/evidence_device.sh needs on the lent device machine (docs/gpu.md):
#   bench/evidence_stage.sh [STAGE_DIR]            (default .device/ev, git-ignored)
# STAGE_DIR/base: the pinned llama.cpp (libraries only) and the nlohmann-json and CLI11 headers;
# STAGE_DIR/chunks/chunk.NN: the 0.5B and 1.5B instruct models, concatenated in that order and
# split into pieces that fit one call beside the working tree (a call carries 64 MiB in all; the
# piece is 62 MiB minus the tree, or CHUNK_MIB; STAGE_MODELS=q15 stages the 1.5B alone).
# STAGE_DIR/base also gets what bench/gpu_queue.sh needs: llama-tools.tgz (llama.cpp's common/ and
# tools/ for llama-server, no web UI sources) and wheels/ (the pinned openai client and its
# dependencies for the device's Python 3.12; the image has no package index). A call carries
# 64 MiB: base/llama.tgz + base/prefix travel with chunk.00, llama-tools.tgz with chunk.01, the
# wheels with chunk.02 (docs/gpu.md).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
S=${1:-$here/.device/ev}
source "$here/scripts/pins.env"
L=${RDIC_LLAMA_CPP_DIR:-$HOME/.cache/rdic/src/llama-cpp-python-${LLAMA_CPP_PYTHON_VERSION}/vendor/llama.cpp}
MODELS=${RDIC_MODELS:-$HOME/.cache/rdic/models}
rm -rf "$S" && mkdir -p "$S/base/prefix/include" "$S/base/prefix/share/cmake" "$S/chunks"
tar czf "$S/base/llama.tgz" -C "$L" CMakeLists.txt cmake ggml src include vendor licenses LICENSE
cp -r /usr/include/nlohmann /usr/include/CLI "$S/base/prefix/include/"
cp -r /usr/share/cmake/nlohmann_json /usr/share/cmake/CLI11 "$S/base/prefix/share/cmake/"
# rdic serve's store needs SQLite, which the device image lacks: its header and static library.
mkdir -p "$S/base/prefix/lib"
cp /usr/include/sqlite3.h /usr/include/sqlite3ext.h "$S/base/prefix/include/"
cp /usr/lib/x86_64-linux-gnu/libsqlite3.a "$S/base/prefix/lib/"
tar czf "$S/base/llama-tools.tgz" -C "$L" --exclude=tools/ui/static --exclude=tools/ui/src \
    --exclude=tools/ui/tests --exclude='tools/server/public*' --exclude=tools/server/tests \
    --exclude=tools/mtmd/legacy-models common tools scripts/ui-assets.cmake
PY=${RDIC_PYTHON:-$(ls -d "${RDIC_CACHE:-$HOME/.cache/rdic}"/venv-*/bin/python 2>/dev/null | head -1)}
"${PY:-python3}" -m pip download -q "openai==$(sed -n 's/^openai==//p' "$here/tools/requirements.txt")" \
    --only-binary=:all: --python-version 3.12 --implementation cp \
    --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 \
    --platform manylinux2014_x86_64 -d "$S/base/wheels"
tree_mib=$(cd "$here" && git ls-files -co --exclude-standard -z | du -cm --files0-from=- | tail -1 | cut -f1)
chunk=${CHUNK_MIB:-$((62 - tree_mib))}
echo "working tree ${tree_mib} MiB: chunks of ${chunk} MiB"
# STAGE_MODELS=q15: the 1.5B alone (the routing runs need no 0.5B): fewer calls.
case ${STAGE_MODELS:-both} in
both) cat "$MODELS/$QWEN05_FILE" "$MODELS/$QWEN15_FILE" ;;
q15) cat "$MODELS/$QWEN15_FILE" ;;
*) echo "STAGE_MODELS must be both or q15" >&2; exit 2 ;;
esac | split -b "${chunk}m" -d - "$S/chunks/chunk."
du -sh "$S/base"; ls "$S/chunks" | wc -l
