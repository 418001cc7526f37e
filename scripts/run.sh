#!/usr/bin/env bash
# Sets up whatever is missing, then runs rdic's main job on the default model.
# With arguments, runs `rdic ARGS...` instead (e.g. ./scripts/run.sh run --limit 2 --max-tokens 32).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$ROOT/scripts/setup.sh"
RDIC="${RDIC_BUILD_DIR:-$ROOT/build}/bin/rdic"
if [ $# -gt 0 ]; then exec "$RDIC" "$@"; fi

# The main job: the isolation experiment on a representative subset of the test split (the first
# example of each of the five domains, every fact question) under sequential, prompted and
# semantic with the default model (Qwen2.5-Coder-0.5B-Instruct), 32 tokens per output, then the
# evaluation without the LLM judge and the embeddings (to stay within ~10 minutes here), into
# results/<timestamp>/ (results.jsonl, metrics.jsonl, report.md, report.html). The whole split
# with 256 tokens per output and the full evaluation: ./scripts/run.sh run
exec "$RDIC" run --per-domain 1 --conditions sequential,prompted,semantic --max-tokens 32 \
    --answer-tokens 16 --no-judge --no-embed
