#!/usr/bin/env bash
# Sets up whatever is missing, then runs rdic's main job on the default model.
# With arguments, runs `rdic ARGS...` instead (e.g. ./scripts/run.sh info --json).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$ROOT/scripts/setup.sh"
RDIC="${RDIC_BUILD_DIR:-$ROOT/build}/bin/rdic"
if [ $# -gt 0 ]; then exec "$RDIC" "$@"; fi

# Until the isolation experiment (`rdic run`) lands, the main job is a short demo of the engine.
"$RDIC" --version
"$RDIC" info
echo
echo "== rdic generate (Gemma 3 270M base model, raw text continuation) =="
"$RDIC" generate --raw --max-tokens 48 \
    --prompt "Isolating each topic of a conversation in its own KV cache means that"
