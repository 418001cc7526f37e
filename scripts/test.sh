#!/usr/bin/env bash
# Sets up whatever is missing, then runs the whole test suite: unit tests, model tests with the
# real GGUF models, the CLI tests, an address+undefined sanitizer build of the unit tests and of
# the CLI tests of records, limits and refusals (the real binary, sanitized), the
# libFuzzer targets for a bounded time (RDIC_FUZZ_SECONDS each, default 30: five targets, 2.5
# minutes), and the clang-format check.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$ROOT/scripts/setup.sh"
BUILD_DIR="${RDIC_BUILD_DIR:-$ROOT/build}"

echo "== unit, model and cli tests =="
# Model tests use every core themselves: run them one at a time.
ctest --test-dir "$BUILD_DIR" --output-on-failure -L 'unit|model|cli|server'

echo "== sanitizers (address, undefined) on the unit tests =="
SAN_DIR="${BUILD_DIR}-asan"
if [ ! -f "$SAN_DIR/build.ninja" ]; then
    cmake -S "$ROOT" -B "$SAN_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DRDIC_UNIT_ONLY=ON \
          -DRDIC_SANITIZE=address,undefined >/dev/null
fi
ninja -C "$SAN_DIR" rdic_unit_tests
ctest --test-dir "$SAN_DIR" --output-on-failure -L unit

echo "== sanitizers (address, undefined) on the CLI tests of the records, limits and refusals =="
# rdic's own code sanitized, llama.cpp not (it keeps its own flags); the real binary and models.
SAN_CLI_DIR="${BUILD_DIR}-asan-cli"
if [ ! -f "$SAN_CLI_DIR/build.ninja" ]; then
    cmake -S "$ROOT" -B "$SAN_CLI_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release \
          -DRDIC_SANITIZE=address,undefined \
          -DRDIC_LLAMA_CPP_DIR="$(sed -n 's/^RDIC_LLAMA_CPP_DIR:PATH=//p' "$BUILD_DIR/CMakeCache.txt")" \
          >/dev/null
fi
ninja -C "$SAN_CLI_DIR" rdic_cli rdic_cli_tests
"$SAN_CLI_DIR/bin/rdic_cli_tests" --gtest_filter='RecordsCli.*:Cli.Validate*:Cli.EvalAfterAKilledEval*'

echo "== fuzzing (libFuzzer; longer: ./scripts/fuzz.sh SECONDS) =="
RDIC_FUZZ_SEED="${RDIC_FUZZ_SEED:-1}" "$ROOT/scripts/fuzz.sh" "${RDIC_FUZZ_SECONDS:-30}"

echo "== format check (clang-format, pinned .clang-format) =="
"$ROOT/scripts/format.sh" --check
