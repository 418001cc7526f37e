#!/usr/bin/env bash
# Sets up whatever is missing, then runs rdic's main job on the default model.
# With arguments, runs `rdic ARGS...` instead (e.g. ./scripts/run.sh run --limit 2 --max-tokens 32).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$ROOT/scripts/setup.sh"
RDIC="${RDIC_BUILD_DIR:-$ROOT/build}/bin/rdic"
if [ $# -gt 0 ]; then exec "$RDIC" "$@"; fi

# The main job: the isolation experiment on the shipped test split (25 examples x 5 conditions)
# with the default model, into results/<timestamp>/ (results.jsonl, config.json, summary.txt).
exec "$RDIC" run
