#!/usr/bin/env bash
# The evidence runs on the lent device machine (docs/gpu.md, docs/results/README.md), one verb
# per call, run from the root of the tree the device tool sends; bench/evidence_stage.sh prepared
# .device/ev here. State lives under /root/dev and survives while the machine stays warm.
#
#   bench/evidence_device.sh start     # unpack, start the CUDA build in the background (setsid)
#   bench/evidence_device.sh chunk     # keep the carried .device/ev/chunks/chunk.NN
#   bench/evidence_device.sh assemble  # wait for the build, rebuild both GGUFs, check sha256
#   bench/evidence_device.sh launch J..# start runs J (names below) in the background
#   bench/evidence_device.sh wait SECS # show progress until the runs end or SECS pass
#   bench/evidence_device.sh stop      # SIGTERM every run (background jobs ignore SIGINT)
#   bench/evidence_device.sh pack      # results of every run (partial ones too) into $OUT
#
# Each run is `rdic run` (all five conditions, 256 tokens per output, questions, then the
# evaluation with the 1.5B judge) into /root/dev/res/NAME; a killed run continues with --resume.
set -uo pipefail
D=/root/dev
B=$D/build-cuda/bin
M=$D/models
R=$D/res
source scripts/pins.env
mkdir -p $D/chunks $M $R

run_spec() {  # NAME -> model file, data folder, sampling flags
    local name=$1 model data samp=""
    case $name in
    q05-*) model=$M/$QWEN05_FILE ;;
    q15-*) model=$M/$QWEN15_FILE ;;
    *) echo "unknown run $name" >&2; return 1 ;;
    esac
    case $name in
    *-test-long*) data=data/test-long ;;
    *-test*) data=data/test ;;
    *-dev*) data=data/dev ;;
    esac
    case $name in
    *-s[0-9]) samp="--temperature 0.7 --seed ${name##*-s}" ;;
    esac
    echo "$model $data $samp"
}

case ${1:-} in
start)
    nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
    rm -rf $D/src $D/llama.cpp $D/prefix && mkdir -p $D/src $D/llama.cpp
    tar xzf .device/ev/base/llama.tgz -C $D/llama.cpp
    cp -r .device/ev/base/prefix $D/prefix
    git ls-files -co --exclude-standard -z | tar cf - --null -T - | tar xf - -C $D/src
    (cd $D/src && setsid nohup bash -c "cmake -S . -B $D/build-cuda -G Ninja \
        -DCMAKE_BUILD_TYPE=Release -DRDIC_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES=90 \
        -DRDIC_LLAMA_CPP_DIR=$D/llama.cpp -DCMAKE_PREFIX_PATH=$D/prefix -DRDIC_BUILD_TESTS=OFF \
        && ninja -C $D/build-cuda -j16 rdic_cli && echo BUILD_OK" >$D/build.log 2>&1 </dev/null &)
    echo started
    ;;
chunk)
    mv .device/ev/chunks*/chunk.* $D/chunks/ 2>/dev/null
    echo "chunks: $(ls $D/chunks | wc -l); build: $(tail -c 120 $D/build.log | tr '\n' ' ')"
    ;;
assemble)
    for _ in $(seq 120); do grep -q BUILD_OK $D/build.log && break; sleep 5; done
    tail -3 $D/build.log
    if [ "$(cat $D/chunks/chunk.* | wc -c)" = 1117320768 ]; then  # STAGE_MODELS=q15
        cat $D/chunks/chunk.* >$M/$QWEN15_FILE
    else
        cat $D/chunks/chunk.* | { head -c 491400064 >$M/$QWEN05_FILE; cat >$M/$QWEN15_FILE; }
        echo "$QWEN05_SHA256  $M/$QWEN05_FILE" | sha256sum -c
    fi
    # The first chunks alone (0.5B only, when device time is short) leave the 1.5B incomplete.
    echo "$QWEN15_SHA256  $M/$QWEN15_FILE" | sha256sum -c || rm -f $M/$QWEN15_FILE
    $B/rdic --version
    ;;
launch)
    shift
    cd $D/src
    for name in "$@"; do
        read -r model data samp < <(run_spec "$name") || continue
        # Two writers on one results folder duplicate records: never start a second one.
        if pgrep -f "$R/$name " >/dev/null; then echo "$name is still running"; continue; fi
        # shellcheck disable=SC2086
        RDIC_MODELS=$M OMP_WAIT_POLICY=passive setsid nohup $B/rdic run --model "$model" \
            --data "$data" --out $R/$name --max-tokens 256 --threads 1 --resume $samp \
            >$R/$name.log 2>&1 </dev/null &
    done
    sleep 2; ls $R
    ;;
wait)
    end=$(( $(date +%s) + ${2:-60} ))
    while [ "$(date +%s)" -lt "$end" ] && pgrep -x rdic >/dev/null; do sleep 10; done
    for log in $R/*.log; do echo "$(basename "$log"): $(tail -c 160 "$log" | tr '\r\n' '  ')"; done
    nvidia-smi --query-gpu=utilization.gpu,memory.used --format=csv,noheader
    echo "running: $(pgrep -x rdic | wc -l)"
    ;;
stop)
    pkill -TERM -f "$B/rdic run" ; sleep 2; echo "running: $(pgrep -x rdic | wc -l)"
    ;;
pack)
    tar czf "$OUT/evidence.tgz" -C $R . && ls -la "$OUT"
    ;;
*)
    sed -n 2,15p "$0"; exit 2 ;;
esac
