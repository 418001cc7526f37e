#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, address + undefined sanitizers) and runs each for SECONDS
# (default 30), seeded from data/ and the tests' fixtures. A crash, a hang (> 10 s on one input)
# or a sanitizer report fails the script and leaves the input in $RDIC_FUZZ_DIR/crashes/TARGET.
#
#   ./scripts/fuzz.sh              # every target, 30 s each (what ./scripts/test.sh runs)
#   ./scripts/fuzz.sh 3600         # an hour each
#   ./scripts/fuzz.sh 600 fuzz_dataset   # one target (fuzz_plan: prompts of every condition)
#
# Environment: RDIC_FUZZ_BUILD_DIR (default build-fuzz), RDIC_FUZZ_DIR (corpora and crashes,
# default $RDIC_FUZZ_BUILD_DIR/work).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SECONDS_EACH="${1:-30}"
shift || true
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=(fuzz_dataset fuzz_plan fuzz_result_record fuzz_metric_record fuzz_config fuzz_gguf_probe fuzz_chat)
BUILD="${RDIC_FUZZ_BUILD_DIR:-$ROOT/build-fuzz}"
WORK="${RDIC_FUZZ_DIR:-$BUILD/work}"

command -v clang++ >/dev/null || { echo "fuzz: clang++ is missing (./scripts/setup.sh installs it)" >&2; exit 1; }
# fuzz_chat needs llama.cpp's chat templates: the tree the main build uses (or RDIC_LLAMA_CPP_DIR).
LLAMA_DIR="${RDIC_LLAMA_CPP_DIR:-$(sed -n 's/^RDIC_LLAMA_CPP_DIR:PATH=//p' \
    "${RDIC_BUILD_DIR:-$ROOT/build}/CMakeCache.txt" 2>/dev/null || true)}"
[ -n "$LLAMA_DIR" ] || { echo "fuzz: no llama.cpp tree (run ./scripts/setup.sh)" >&2; exit 1; }
if [ ! -f "$BUILD/build.ninja" ] || ! grep -q "^RDIC_LLAMA_CPP_DIR:PATH=$LLAMA_DIR$" "$BUILD/CMakeCache.txt"; then
    # Only the named targets are built: rdic_core and, for fuzz_chat, llama.cpp's libraries.
    CC=clang CXX=clang++ cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        -DRDIC_UNIT_ONLY=OFF -DRDIC_LLAMA_CPP_DIR="$LLAMA_DIR" -DRDIC_BUILD_TESTS=OFF -DRDIC_FUZZ=ON \
        -DRDIC_SANITIZE=fuzzer-no-link,address,undefined >/dev/null
fi
ninja -C "$BUILD" "${TARGETS[@]}"

# Seeds: shipped examples and fixtures, the results/metrics/config records of the report fixture
# (one file per line), and a tiny valid GGUF.
seed() {  # seed TARGET
    local d="$WORK/seeds/$1"
    rm -rf "$d"; mkdir -p "$d"
    case "$1" in
        fuzz_dataset | fuzz_plan)
            # Names made unique by their directory (dev/ and test-long/ share file names).
            find "$ROOT/data" "$ROOT/tests/data" -maxdepth 2 -name '*.json' \
                ! -name '*fixtures.json' -size -200k -print0 |
                while IFS= read -r -d '' f; do
                    rel="${f#"$ROOT"/}"; cp "$f" "$d/${rel//\//_}"
                done ;;
        fuzz_result_record) split -l 1 "$ROOT/tests/data/report_run/results.jsonl" "$d/line-" ;;
        fuzz_metric_record) split -l 1 "$ROOT/tests/data/report_run/metrics.jsonl" "$d/line-" ;;
        fuzz_config) cp "$ROOT/tests/data/report_run/config.json" "$d/" ;;
        fuzz_chat)  # template byte, then role byte + content, messages separated by 0x1e
            printf '\x00\x00You are brief.\x1e\x01Hello\x1e\x02Hi!\x1e\x01Budget?' >"$d/chatml"
            printf '\x05\x01one\x1e\x01two' >"$d/users"
            printf '\xff{%% for m in messages %%}<|im_start|>{{ m.role }}\n\x01hi' >"$d/text" ;;
        fuzz_gguf_probe)
            python3 - "$d/tiny.gguf" <<'PY'
import struct, sys
def s(x): b = x.encode(); return struct.pack('<Q', len(b)) + b
kv = s('general.architecture') + struct.pack('<I', 8) + s('llama')
kv += s('general.name') + struct.pack('<I', 8) + s('seed')
kv += s('general.alignment') + struct.pack('<I', 4) + struct.pack('<I', 32)
ti = s('t') + struct.pack('<I', 1) + struct.pack('<Q', 4) + struct.pack('<I', 0) + struct.pack('<Q', 0)
head = b'GGUF' + struct.pack('<IQQ', 3, 1, 3) + kv + ti
head += b'\0' * (-len(head) % 32)
open(sys.argv[1], 'wb').write(head + b'\0' * 16)
PY
            ;;
    esac
}

status=0
for t in "${TARGETS[@]}"; do
    seed "$t"
    corpus="$WORK/corpus/$t"; crashes="$WORK/crashes/$t"
    mkdir -p "$corpus" "$crashes"
    log="$WORK/$t.log"
    # RDIC_FUZZ_SEED: libFuzzer's seed; 0 (the default) lets it choose. test.sh fixes it so that
    # CI explores the same inputs each time; the long runs should vary it.
    if "$BUILD/bin/$t" -seed="${RDIC_FUZZ_SEED:-0}" -max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb=2048 \
            -max_len=65536 -print_final_stats=1 -artifact_prefix="$crashes/" \
            "$corpus" "$WORK/seeds/$t" >"$log" 2>&1; then
        execs="$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo '?')"
        rate="$(grep -o 'exec/s: *[0-9]*' "$log" | tail -1 | grep -o '[0-9]*$' || echo '?')"
        echo "fuzz: $t ok: $execs inputs in ${SECONDS_EACH}s (~$rate exec/s)"
    else
        echo "fuzz: $t FAILED (input in $crashes, log $log):" >&2
        grep -E 'ERROR|SUMMARY|==[0-9]+==|deadly|Test unit written' "$log" | head -20 >&2
        status=1
    fi
done
exit $status
