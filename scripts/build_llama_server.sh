#!/usr/bin/env bash
# Builds llama-server from the pinned llama.cpp source into its own directory in the cache, keyed
# by the pinned commit and shared by every clone and worktree (scripts/setup.sh calls it; the
# remote-backend tests start this binary). Only the `llama-server` target; no web UI (nothing is
# downloaded), no curl, no OpenSSL; AMX kernels off as in rdic's own build (they crash on this
# project's VMs); ccache when present. Does nothing when the binary exists.
#
#   ./scripts/build_llama_server.sh LLAMA_CPP_DIR               # build (if missing), print nothing
#   ./scripts/build_llama_server.sh --print-path LLAMA_CPP_DIR  # print where the binary goes
#
# Environment: RDIC_CACHE (default ${XDG_CACHE_HOME:-~/.cache}/rdic), RDIC_JOBS (default nproc).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=pins.env
source "$ROOT/scripts/pins.env"
CACHE="${RDIC_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/rdic}"
BUILD="$CACHE/llama-server-$LLAMA_CPP_COMMIT"
BIN="$BUILD/bin/llama-server"

print_only=0
if [ "${1:-}" = "--print-path" ]; then print_only=1; shift; fi
[ $# -eq 1 ] || { echo "usage: $0 [--print-path] LLAMA_CPP_DIR" >&2; exit 2; }
LLAMA_DIR="$1"
if [ "$print_only" = 1 ]; then echo "$BIN"; exit 0; fi
[ -x "$BIN" ] && exit 0
[ -f "$LLAMA_DIR/tools/server/CMakeLists.txt" ] ||
    { echo "[setup] error: $LLAMA_DIR has no tools/server (not a llama.cpp tree?)" >&2; exit 1; }

echo "[setup] building llama-server (pinned llama.cpp $LLAMA_CPP_COMMIT) in $BUILD" >&2
flags=()
if command -v ccache >/dev/null; then
    flags+=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
fi
no_amx=""
case "$(uname -m)" in
    x86_64 | amd64)
        if echo 'int main(void){return 0;}' | cc -mno-amx-tile -x c -c - -o /dev/null 2>/dev/null; then
            no_amx="-mno-amx-tile -mno-amx-int8 -mno-amx-bf16"
        fi
        ;;
esac
# A tree from an sdist has no git metadata: give the build its pinned commit.
[ -d "$LLAMA_DIR/.git" ] || flags+=(-DLLAMA_BUILD_COMMIT="$LLAMA_CPP_COMMIT")
cmake -S "$LLAMA_DIR" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release \
      -DLLAMA_BUILD_SERVER=ON -DLLAMA_BUILD_COMMON=ON -DLLAMA_BUILD_TOOLS=ON \
      -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_CURL=OFF \
      -DLLAMA_OPENSSL=OFF -DLLAMA_BUILD_UI=OFF -DLLAMA_USE_PREBUILT_UI=OFF \
      -DBUILD_SHARED_LIBS=OFF -DCMAKE_C_FLAGS="$no_amx" -DCMAKE_CXX_FLAGS="$no_amx" \
      "${flags[@]}" >/dev/null
ninja -C "$BUILD" -j"${RDIC_JOBS:-$(nproc)}" llama-server
[ -x "$BIN" ] || { echo "[setup] error: the build did not produce $BIN" >&2; exit 1; }
