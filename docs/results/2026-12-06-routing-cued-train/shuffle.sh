#!/bin/bash
# The shuffled-label control at the chosen setting (lambda 0.03; probe p >= 0.30, similarity 0.30)
set -e
cd "$(dirname "$0")/../../.."  # the repository root
PY=~/.cache/rdic/venv-d4b857cd6050/bin/python
D=/tmp/pr; O=$D/shuf; mkdir -p $O
for seed in 1 2 3; do
  $PY tools/opening_probe.py cv $D/train15.jsonl data/train --lambdas 0.03 --context --shuffle-labels $seed --out-prefix $O/cv-s$seed
  $PY tools/opening_probe.py apply $D/train15.jsonl data/train $D/dev15.jsonl data/dev --lambda 0.03 --context --shuffle-labels $seed --out $O/dev-s$seed.json
  A="--cues --link mean --elink mean --weights 0.5 --thresholds 0.3 --recency 0.02 --shift-th 0.3"
  echo "seed $seed tr:  $($PY tools/route_sweep.py $D/tr15.jsonl data/train $A --shift-p $O/cv-s$seed-0.03.json | tail -1)"
  echo "seed $seed tc:  $($PY tools/route_sweep.py $D/tc15.jsonl data/train $A --shift-p $O/cv-s$seed-0.03.json | tail -1)"
  echo "seed $seed dev: $($PY tools/route_sweep.py $D/dev15.jsonl data/dev $A --shift-p $O/dev-s$seed.json | tail -1)"
done
