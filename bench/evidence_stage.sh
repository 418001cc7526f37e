#!/usr/bin/env bash
# Prepares what bench/evidence_device.sh needs on the lent device machine (docs/gpu.md):
#   bench/evidence_stage.sh [STAGE_DIR]            (default .device/ev, git-ignored)
# STAGE_DIR/base: the pinned llama.cpp (libraries only) and the nlohmann-json and CLI11 headers;
# STAGE_DIR/chunks/chunk.NN: the 0.5B and 1.5B instruct models, concatenated in that order and
# split into pieces that fit one call beside the working tree (a call carries 64 MiB in all; the
# piece is 62 MiB minus the tree, or CHUNK_MIB).
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
tree_mib=$(cd "$here" && git ls-files -co --exclude-standard -z | du -cm --files0-from=- | tail -1 | cut -f1)
chunk=${CHUNK_MIB:-$((62 - tree_mib))}
echo "working tree ${tree_mib} MiB: chunks of ${chunk} MiB"
cat "$MODELS/$QWEN05_FILE" "$MODELS/$QWEN15_FILE" | split -b "${chunk}m" -d - "$S/chunks/chunk."
du -sh "$S/base"; ls "$S/chunks" | wc -l
