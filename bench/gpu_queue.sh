#!/usr/bin/env bash
# The GPU work still queued for issues #15 and #16 (docs/gpu.md, "Queued for the next device
# session"), as verbs on the warm device machine, run from the root of the tree the device tool
# sends, after `bench/evidence_device.sh start`, `chunk` x38 and `assemble` (the CUDA build of
# rdic and both Qwen models under /root/dev). Prepared and checked on the CPU only: the first
# device session that runs it may need to fix a path.
#
#   bench/gpu_queue.sh tools    # llama-server (CUDA) from the staged llama.cpp with common/ tools/
#   bench/gpu_queue.sh wheels   # the staged openai client wheels into /root/dev/py (no pip index)
#   bench/gpu_queue.sh spec     # #15: the 1.5B with and without the 0.5B draft: rdic bench on the
#                               #      POC workload; bench/spec_bench.py beside llama-server
#   bench/gpu_queue.sh serve    # #16: rdic serve beside llama-server at 1, 16, 64 sessions; a new
#                               #      turn after 4K and 32K tokens; the nonce harness at 64
#   bench/gpu_queue.sh pack     # everything under /root/dev/queue into $OUT/queue.tgz
#
# Staging here: bench/evidence_stage.sh (models, base) and, for tools/wheels,
#   L=~/.cache/rdic/src/llama-cpp-python-0.3.36/vendor/llama.cpp
#   tar czf .device/ev/base/llama-tools.tgz -C $L --exclude=tools/ui \
#       --exclude='tools/server/public*' --exclude=tools/mtmd/legacy-models common tools
#   pip download openai==$(sed -n 's/^openai==//p' tools/requirements.txt) \
#       --only-binary=:all: --python-version "$DEVICE_PY" --platform manylinux2014_x86_64 \
#       -d .device/ev/base/wheels       # DEVICE_PY: `python3 -V` on the device (3.x)
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
    RDIC_LLAMA_CPP_DIR=$D/llama.cpp RDIC_CUDA=ON CUDA_ARCH=90 LLAMA_TOOLS=llama-server \
        JOBS=16 bash bench/build_llama_tools.sh $D/build-llama-tools 2>&1 | tail -3
    $LS --version 2>&1 | tail -2
    ;;
wheels)
    python3 -V
    python3 -m pip install --no-index --target $D/py .device/ev/base/wheels/*.whl 2>&1 | tail -2
    python3 -c "import openai; print('openai', openai.__version__)"
    ;;
spec)
    nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee $Q/gpu.txt
    for d in "" "--draft $S"; do
        name=spec-bench-$([ -z "$d" ] && echo off || echo on)
        # shellcheck disable=SC2086
        timeout 280 $B/rdic bench --model $T $d --conditions sequential,prompted,turn_based,semantic \
            --together --repeats 3 --machine "$(cat $Q/gpu.txt)" --out $Q/$name.json \
            >$Q/$name.txt 2>&1
        tail -12 "$Q/$name.txt"
    done
    timeout 280 python3 bench/spec_bench.py --rdic $B/rdic --server $LS --target $T --draft $S \
        --threads 8 --prompts 3 --out $Q/spec_bench.json --markdown $Q/spec_bench.md \
        >$Q/spec_bench.log 2>&1
    cat $Q/spec_bench.md
    ;;
serve)
    for h in 4000 32000; do
        timeout 280 python3 bench/serve_vs_llama_server.py $B/rdic --llama-server $LS --model $T \
            --threads 8 --concurrency "$([ $h = 4000 ] && echo 1,16,64 || echo 1)" \
            --history-tokens $h --max-tokens 64 --out $Q/serve-$h.json >$Q/serve-$h.log 2>&1
        python3 bench/serve_vs_llama_server.py x --llama-server x --model x \
            --markdown-from $Q/serve-$h.json
    done
    timeout 280 python3 tests/server/nonce_harness.py $B/rdic --sessions 16 --topics 8 --asks 3 \
        --concurrency 64 >$Q/nonce-64.json 2>&1
    tail -12 $Q/nonce-64.json
    ;;
pack)
    tar czf "$OUT/queue.tgz" -C $D queue && ls -la "$OUT"
    ;;
*)
    sed -n 2,22p "$0"; exit 2 ;;
esac
