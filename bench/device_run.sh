#!/usr/bin/env bash
# The GPU side of docs/performance.md, one step list per call on the lent device machine (no
# network, 10 minutes a call; build outputs survive only while the machine stays warm).
#
#   bench/device_run.sh STAGE_DIR OUT_DIR STEP...
#
# STAGE_DIR holds what bench/device_stage.sh prepared here: src.tgz (this tree), llama.tgz
# (the pinned llama.cpp, trimmed), prefix/ (nlohmann-json, CLI11), vocab.gguf (tokenizer of
# Gemma 3 270M) and, for `hf`, rdic-batched.json from an earlier call.
# Steps: build, rebuild, model, rdic, naive, together, layouts, llama, sweep, profile, dataset,
# hf, hfcompile, hfcompile2. Each is time-boxed; every result
# lands in OUT_DIR/results/ and OUT_DIR/results.tgz is refreshed after each step.
set -uo pipefail
S=$(cd "$1" && pwd); OUT=$2; shift 2
D=/root/dev
M=$D/models/gemma3-12b-shape.gguf
R=$OUT/results
mkdir -p $D/models "$R"
B=$D/build-cuda/bin
log() { echo "[$(date +%T)] $*" | tee -a "$R/steps.log"; }
pack() { tar czf "$OUT/results.tgz" -C "$OUT" results; }
# Context of the POC's shared conversation (rdic bench measures it; ~1,090 tokens + template).
NPP=${NPP:-1110}

for step in "$@"; do
    log "step $step"
    case $step in
    build)
        if [ -x $B/rdic ] && [ -x $B/rdic_shape_gguf ] && [ -x $B/llama-batched-bench ]; then
            log "build outputs present (warm machine)"; continue
        fi
        nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.sm,clocks.max.mem \
            --format=csv | tee "$R/gpu.txt"
        rm -rf $D/src $D/llama.cpp $D/prefix && mkdir -p $D/src $D/llama.cpp
        tar xzf "$S/src.tgz" -C $D/src && tar xzf "$S/llama.tgz" -C $D/llama.cpp
        cp -r "$S/prefix" $D/prefix
        t0=$(date +%s)
        cmake -S $D/src -B $D/build-cuda -G Ninja -DCMAKE_BUILD_TYPE=Release -DRDIC_CUDA=ON \
            -DCMAKE_CUDA_ARCHITECTURES=90 -DRDIC_LLAMA_CPP_DIR=$D/llama.cpp \
            -DCMAKE_PREFIX_PATH=$D/prefix -DRDIC_BUILD_TESTS=OFF -DRDIC_BENCH_TOOLS=ON \
            -DRDIC_LLAMA_TOOLS=ON -DLLAMA_BUILD_SERVER=OFF >"$R/cmake.log" 2>&1 || { tail -30 "$R/cmake.log"; exit 1; }
        ninja -C $D/build-cuda -j16 rdic_cli rdic_shape_gguf llama-batched-bench llama-perplexity \
            >"$R/ninja.log" 2>&1 || { tail -40 "$R/ninja.log"; exit 1; }
        log "build $(( $(date +%s) - t0 )) s"
        $B/rdic --version | tee -a "$R/steps.log"
        ;;
    rebuild)  # warm machine: this tree's changes over the existing build
        tar xzf "$S/src.tgz" -C $D/src && ninja -C $D/build-cuda -j16 rdic_cli rdic_shape_gguf \
            2>&1 | tail -3
        ;;
    model)
        [ -s $M ] || timeout 300 $B/rdic_shape_gguf write --vocab "$S/vocab.gguf" --out $M \
            2>&1 | tee -a "$R/steps.log"
        $B/rdic info --model $M 2>&1 | tee "$R/rdic-info.txt"
        ;;
    rdic)
        timeout 300 $B/rdic bench --model $M --repeats 3 --machine "lent device" \
            --decode-batches 1,3 --decode-steps 128 --dump-prompts "$R/prompts.json" \
            --out "$R/rdic-batched.json" 2>&1 | tee "$R/rdic-batched.txt"
        ;;
    naive)
        timeout 330 $B/rdic bench --model $M --naive --repeats 2 --machine "lent device" \
            --decode-batches "" --out "$R/rdic-naive.json" 2>&1 | tee "$R/rdic-naive.txt"
        ;;
    together)  # the four POC conditions in one session, and decode scaling up to batch 8
        timeout 240 $B/rdic bench --model $M --together --repeats 3 \
            --conditions sequential,prompted,turn_based,semantic --decode-batches 1,2,4,8 \
            --decode-steps 64 --machine "lent device" --out "$R/rdic-together.json" 2>&1 \
            | tee "$R/rdic-together.txt"
        ;;
    layouts)  # one KV pool vs one stream per sequence, and decode scaling in both
        for layout in unified per_sequence; do
            timeout 200 $B/rdic bench --model $M --conditions semantic,sequential --repeats 3 \
                --kv-layout $layout --decode-batches 1,3,8 --decode-steps 64 \
                --machine "lent device" --out "$R/layout-$layout.json" 2>&1 \
                | tee "$R/layout-$layout.txt"
        done
        ;;
    llama)
        for fa in on off; do
            timeout 120 $B/llama-batched-bench -m $M -c 8192 -b 2048 -ub 512 -ngl 99 -fa $fa \
                -npp $NPP -ntg 300 -npl 1,3 --output-format jsonl 2>&1 \
                | grep -v "^llama_\|^load\|^print_info\|^ggml_\|^\.\|^common\|^build" \
                | tee "$R/llama-batched-bench-fa-$fa.txt"
        done
        ;;
    sweep)
        for cfg in "on f16" "off f16" "on q8_0" "on q4_0"; do
            set -- $cfg
            timeout 120 $B/rdic bench --model $M --conditions semantic,sequential --repeats 2 \
                --flash-attn $1 --kv-type $2 --decode-batches 1,3 --decode-steps 64 \
                --decode-context 4096 --machine "lent device" --out "$R/sweep-fa-$1-kv-$2.json" \
                2>&1 | tee "$R/sweep-fa-$1-kv-$2.txt"
        done
        ;;
    profile)  # one decode step's kernels at batch 1 (ncu; nsys cannot report on this image)
        NCU=$(command -v ncu || ls /opt/nvidia/nsight-compute/*/ncu 2>/dev/null | head -1)
        timeout 200 $NCU --csv --metrics gpu__time_duration.sum,dram__bytes_read.sum \
            --launch-skip 6000 --launch-count 1500 $B/rdic bench --model $M --conditions "" \
            --repeats 1 --warmup 0 --decode-batches 1 --decode-steps 12 --out /tmp/p.json \
            >"$R/ncu.csv" 2>"$R/ncu.err"
        python3 "$D/src/bench/ncu_summary.py" "$R/ncu.csv" | tee "$R/ncu-summary.txt"
        gzip -f "$R/ncu.csv"
        ;;
    dataset)
        for mode in "" --naive; do
            timeout 150 $B/rdic bench --model $M $mode --data $D/src/data/test --limit 3 \
                --conditions sequential,prompted,turn_based,semantic --repeats 1 \
                --decode-batches "" --machine "lent device" \
                --out "$R/rdic-dataset${mode:+-naive}.json" 2>&1 | tail -8
        done
        ;;
    hf)
        [ -f $D/src/bench/hf_poc.py ] || { mkdir -p $D/src && tar xzf "$S/src.tgz" -C $D/src; }
        J="$R/rdic-batched.json"; [ -s "$J" ] || J="$S/rdic-batched.json"
        PYTHONUNBUFFERED=1 timeout 480 python3 "$D/src/bench/hf_poc.py" --rdic-json "$J" \
            --out "$R/hf-eager.json" 2>&1 | grep -v Warning | tee "$R/hf-eager.txt"
        ;;
    hfcompile)
        [ -f $D/src/bench/hf_poc.py ] || { mkdir -p $D/src && tar xzf "$S/src.tgz" -C $D/src; }
        J="$R/rdic-batched.json"; [ -s "$J" ] || J="$S/rdic-batched.json"
        PYTHONUNBUFFERED=1 timeout 300 python3 "$D/src/bench/hf_poc.py" --rdic-json "$J" \
            --compile --conditions semantic --out "$R/hf-compile.json" 2>&1 \
            | grep -v Warning | tee "$R/hf-compile.txt"
        ;;
    hfcompile2)  # static cache compiled without CUDA graphs, two ways; two passes each
        [ -f $D/src/bench/hf_poc.py ] || { mkdir -p $D/src && tar xzf "$S/src.tgz" -C $D/src; }
        J="$R/rdic-batched.json"; [ -s "$J" ] || J="$S/rdic-batched.json"
        for mode in generate default; do
            PYTHONUNBUFFERED=1 timeout 270 python3 "$D/src/bench/hf_poc.py" --rdic-json "$J" \
                --compile --compile-mode $mode --passes 2 --conditions semantic \
                --out "$R/hf-compile-$mode.json" 2>&1 | grep -v Warning | tail -25 \
                | tee "$R/hf-compile-$mode.txt"
        done
        ;;
    *) log "unknown step $step" ;;
    esac
    pack
done
pack
log "done"
