#!/usr/bin/env bash
# The GPU work still queued for issues #15 and #16 (docs/gpu.md, "Queued for the next device
# session"), as verbs on the warm device machine, run from the root of the tree the device tool
# sends, after `bench/evidence_device.sh start`, `chunk` x38 and `assemble` (the CUDA build of
# rdic and both Qwen models under /root/dev). Prepared and checked on the CPU only: the first
# device session that runs it may need to fix a path.
#
#   bench/gpu_queue.sh tools      # start building llama-server (CUDA) in the background from the
#                                 # staged llama.cpp + llama-tools.tgz (common/, tools/)
#   bench/gpu_queue.sh tools-wait # wait for that build
#   bench/gpu_queue.sh wheels     # the staged openai client wheels into /root/dev/py (no pip index)
#   bench/gpu_queue.sh route      # #12: the 1.5B as router: instruct embeddings (dumped for
#                                 #      tools/route_sweep.py), p(new matter), hybrid; dev and test
#   bench/gpu_queue.sh views      # #12: the 1.5B's vector of each message alone, with the previous
#                                 #      message and with the earlier ones (train, dev, test)
#   bench/gpu_queue.sh serve-conc # #16: rdic serve beside llama-server at 1, 16, 64 sessions
#   bench/gpu_queue.sh serve-hist # #16: a new turn after ~4K and ~30K tokens (resident, restored,
#                                 #      cold), rdic and llama-server
#   bench/gpu_queue.sh nonce      # #16: the nonce harness at concurrency 64 (1.5B)
#   bench/gpu_queue.sh spec       # #15: the 1.5B with and without the 0.5B draft: rdic bench on the
#                                 #      POC workload; bench/spec_bench.py beside llama-server
#   bench/gpu_queue.sh pack       # everything under /root/dev/queue into $OUT/queue.tgz
#
# Staging here: bench/evidence_stage.sh (models, base, llama-tools.tgz, wheels).
# the wheels with chunk.02 (each beside the ~13 MiB tree and a 41 MiB chunk).
set -uo pipefail
D=/root/dev
B=$D/build-cuda/bin
M=$D/models
Q=$D/queue
source scripts/pins.env
T=$M/$QWEN15_FILE
S=$M/$QWEN05_FILE
LS=$D/build-llama-tools/bin/llama-server
mkdir -p "$Q"
export PYTHONPATH=$D/py${PYTHONPATH:+:$PYTHONPATH}
export RDIC_MODELS=$M OMP_WAIT_POLICY=passive

case ${1:-} in
tools)
    tar xzf .device/ev/base/llama-tools.tgz -C $D/llama.cpp
    (RDIC_LLAMA_CPP_DIR=$D/llama.cpp RDIC_CUDA=ON CUDA_ARCH=90 LLAMA_TOOLS=llama-server JOBS=16 \
        setsid nohup bash -c "bash bench/build_llama_tools.sh $D/build-llama-tools && echo TOOLS_OK" \
        >$D/tools.log 2>&1 </dev/null &)
    echo "llama-server build started"
    ;;
tools-wait)
    for _ in $(seq 100); do grep -q TOOLS_OK $D/tools.log && break; sleep 5; done
    tail -3 $D/tools.log
    $LS --version 2>&1 | tail -2
    ;;
wheels)
    python3 -V
    python3 -m pip install -q --no-index --no-deps --no-compile --target $D/py \
        .device/ev/base/wheels/*.whl 2>&1 | tail -2
    python3 -c "import openai; print('openai', openai.__version__)"
    ;;
route)
    # Every routing run of the 1.5B for docs/routing.md, dev and test at once (one process each,
    # all on the GPU): the instruct embeddings (dumped for tools/route_sweep.py), p(new matter)
    # from the message alone and with the earlier messages (dumped), the pair judge (pair_p
    # dumped), and the routers' ARI: hybrid, llm, hybrid-llm, pair. Choose on dev, here.
    tpl=$'<|im_start|>system\nYou name the subject of a message.<|im_end|>\n<|im_start|>user\nMessage: {text}<|im_end|>\n<|im_start|>assistant\nThe project or case this message is about, in one word:'
    nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee $Q/gpu.txt
    C="$B/rdic cluster --method online --model $T --threads 2"
    for s in dev test; do
        timeout 400 $B/rdic cluster --data data/$s --method embedding --pooling last \
            --embed-template "$tpl" --no-center --model $T --threads 2 \
            --dump-embeddings $Q/route-$s-instruct15.jsonl >$Q/route-$s-embed15.txt 2>&1 &
        timeout 400 $C --data data/$s --router lexical --shift-llm 0.5 --json \
            >$Q/route-$s-lexical-shiftllm15.json 2>$Q/route-$s-lexical-shiftllm15.err &
        timeout 400 $C --data data/$s --router lexical --shift-llm 0.5 --shift-llm-context 1 \
            --json >$Q/route-$s-lexical-shiftctx15.json 2>$Q/route-$s-lexical-shiftctx15.err &
        timeout 400 $C --data data/$s --router pair --json >$Q/route-$s-pair15.json \
            2>$Q/route-$s-pair15.err &
        for r in hybrid llm hybrid-llm; do
            timeout 400 $C --data data/$s --router $r >$Q/route-$s-$r-15.txt 2>&1 &
        done
    done
    wait
    for f in $Q/route-*-15.txt $Q/route-*-embed15.txt; do echo "== $f"; tail -2 "$f"; done
    tail -n 3 $Q/route-*.err
    gzip -f $Q/route-*-instruct15.jsonl $Q/route-*.json
    ls -la $Q
    ;;
views)
    # #12, 2026-12-06 (tenth session): the 1.5B's last-token vector of every user message under
    # three views (docs/results/2026-12-06-routing-opening-view/: views.txt, make_views.py):
    # msg (the router's own template, the message alone), prev (with the previous message) and
    # list (with the earlier messages), train, dev and test; each view into $OUT/view-K.npz
    # (float16). Reads $D/views (make_views.py .device/views here, copied there by the first call).
    V=docs/results/2026-12-06-routing-opening-view
    nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee $Q/gpu.txt
    while IFS=$'\t' read -r k tpl; do
        tpl=$(printf '%b' "$tpl")
        (for s in train dev test; do
            # A view's text quotes earlier messages, which can trip the synthesis detector: its
            # every message is dumped (looked up by turn id); msg detects as the router does.
            if [ "$k" = msg ]; then data=data/$s x=""; else data=$D/views/$k/$s x=--no-synthesis-detection; fi
            timeout 500 $B/rdic cluster --data $data --method embedding --pooling last $x \
                --embed-template "$tpl" --no-center --model $T --threads 2 \
                --dump-embeddings $Q/view-$k-$s.jsonl >$Q/view-$k-$s.txt 2>&1
            echo "$k $s rc=$? $(wc -l <$Q/view-$k-$s.jsonl) vectors"
        done) &
    done <$V/views.txt
    wait
    python3 $V/pack_views.py $Q "$OUT"
    ls -la "$OUT"
    ;;
serve-conc)
    nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee $Q/gpu.txt
    timeout 560 python3 bench/serve_vs_llama_server.py $B/rdic --llama-server $LS --model $T \
        --threads 8 --concurrency 1,16,64 --skip-history --max-tokens 64 \
        --out $Q/serve-conc.json >$Q/serve-conc.log 2>&1
    python3 bench/serve_vs_llama_server.py x --llama-server x --model x \
        --markdown-from $Q/serve-conc.json
    tail -3 $Q/serve-conc.log
    ;;
serve-hist)
    for h in 4000 30000; do
        timeout 270 python3 bench/serve_vs_llama_server.py $B/rdic --llama-server $LS \
            --model $T --threads 8 --concurrency "" --history-tokens $h --max-tokens 64 \
            --out $Q/serve-$h.json >$Q/serve-$h.log 2>&1
        python3 bench/serve_vs_llama_server.py x --llama-server x --model x \
            --markdown-from $Q/serve-$h.json
        tail -2 $Q/serve-$h.log
    done
    ;;
nonce)
    timeout 560 python3 tests/server/nonce_harness.py $B/rdic --sessions 16 --topics 8 --asks 3 \
        --concurrency 64 --server-arg=--model --server-arg=$T >$Q/nonce-64.json 2>$Q/nonce-64.err
    tail -12 $Q/nonce-64.json; tail -3 $Q/nonce-64.err
    ;;
spec)
    nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee $Q/gpu.txt
    for d in "" "--draft $S"; do
        name=spec-bench-$([ -z "$d" ] && echo off || echo on)
        # shellcheck disable=SC2086
        timeout 200 $B/rdic bench --model $T $d --conditions sequential,prompted,turn_based,semantic \
            --together --repeats 3 --machine "$(cat $Q/gpu.txt)" --out $Q/$name.json \
            >$Q/$name.txt 2>&1
        tail -12 "$Q/$name.txt"
    done
    timeout 180 python3 bench/spec_bench.py --rdic $B/rdic --server $LS --target $T --draft $S \
        --threads 8 --prompts 3 --out $Q/spec_bench.json --markdown $Q/spec_bench.md \
        >$Q/spec_bench.log 2>&1
    cat $Q/spec_bench.md; tail -3 $Q/spec_bench.log
    ;;
pack)
    tar czf "$OUT/queue.tgz" -C $D queue && ls -la "$OUT"
    ;;
*)
    sed -n 2,30p "$0"; exit 2 ;;
esac
