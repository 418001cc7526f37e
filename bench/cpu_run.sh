#!/usr/bin/env bash
# The CPU side of docs/performance.md with the real Gemma 3 270M model: rdic batched and
# --naive on the POC-shaped workload (a) and a slice of the shipped dataset (b), llama-server
# (3 slots, over HTTP) on the same prompts, and the flash-attention / KV-type sweep with
# llama-perplexity on the dataset's text. Results and logs go to OUT_DIR.
#
#   bench/cpu_run.sh OUT_DIR [STEP...]     steps: rdic naive server layouts dataset sweep
#                                          (default: all)
# Needs build/bin/rdic and bench/build_llama_tools.sh's build-llama-tools/bin.
set -uo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
OUT=$1; shift
steps=${*:-rdic naive server layouts dataset sweep}
source "$here/scripts/pins.env"
M=${RDIC_MODELS:-$HOME/.cache/rdic/models}/$GEMMA_FILE
RDIC=${RDIC:-$here/build/bin/rdic}
T=${LLAMA_TOOLS_BIN:-$here/build-llama-tools/bin}
PY=${PYTHON:-python3}
mkdir -p "$OUT"
# ggml's OpenMP threads spin while waiting; on a shared 2-core machine with other work running
# that makes every step 50-100x slower (docs/performance.md). Passive waiting for every engine.
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
note() { echo "[$(date -u +%FT%TZ)] $* | load $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$OUT/steps.log"; }
for s in $steps; do
    note "start $s"
    case $s in
    rdic)
        "$RDIC" bench --model "$M" --repeats 3 --machine "2-core CPU" --decode-batches 1,2,3 \
            --decode-steps 32 --dump-prompts "$OUT/prompts.json" --out "$OUT/rdic-batched.json" \
            | tee "$OUT/rdic-batched.txt" ;;
    naive)
        "$RDIC" bench --model "$M" --naive --repeats 3 --machine "2-core CPU" --decode-batches "" \
            --out "$OUT/rdic-naive.json" | tee "$OUT/rdic-naive.txt" ;;
    layouts)  # the same conditions with one KV pool and with one stream per sequence
        for layout in unified per_sequence; do
            "$RDIC" bench --model "$M" --conditions semantic,sequential --repeats 3 \
                --kv-layout $layout --decode-batches 1,2,3 --decode-steps 32 \
                --machine "2-core CPU" --out "$OUT/layout-$layout.json" | tee "$OUT/layout-$layout.txt"
        done ;;
    dataset)
        for mode in "" --naive; do
            "$RDIC" bench --model "$M" $mode --data "$here/data/test" --limit 3 --max-tokens 128 \
                --repeats 1 --machine "2-core CPU" --decode-batches "" \
                --out "$OUT/rdic-dataset${mode:+-naive}.json" | tee "$OUT/rdic-dataset${mode:+-naive}.txt"
        done ;;
    server)
        $PY "$here/bench/llama_server_bench.py" --server "$T/llama-server" --model "$M" \
            --prompts "$OUT/prompts.json" --repeats 3 --threads "$(nproc)" \
            --out "$OUT/llama-server.json" | tee "$OUT/llama-server.txt" ;;
    sweep)
        $PY "$here/bench/dataset_text.py" "$here/data/test" "$here/data/dev" >"$OUT/dataset.txt"
        for cfg in "off f16" "on f16" "on q8_0" "on q4_0"; do
            set -- $cfg
            "$RDIC" bench --model "$M" --conditions semantic,sequential --repeats 2 \
                --flash-attn "$1" --kv-type "$2" --decode-batches 1,3 --decode-steps 32 \
                --machine "2-core CPU" --out "$OUT/sweep-fa-$1-kv-$2.json" \
                | tee "$OUT/sweep-fa-$1-kv-$2.txt"
            "$T/llama-perplexity" -m "$M" -f "$OUT/dataset.txt" -c 512 --chunks 20 -fa "$1" \
                -ctk "$2" -ctv "$2" -t "$(nproc)" 2>&1 | grep -E "^\[|Final estimate|chunks" \
                | tee "$OUT/ppl-fa-$1-kv-$2.txt"
        done ;;
    esac
    note "end $s"
done
