#!/bin/bash
# The pre-registered selection (docs/results/2026-12-06-routing-cued-train/choice-made-on-dev.txt)
# usage: select.sh [MODEL_TAG]   (15 = the 1.5B's dumps, the default; 05 = the 0.5B's)
set -e
cd "$(dirname "$0")/../../.."  # the repository root
PY=~/.cache/rdic/venv-d4b857cd6050/bin/python
M=${1:-15}; D=/tmp/pr; O=$D/sel$M; mkdir -p $O
cat $D/tr$M.jsonl $D/tc$M.jsonl > $D/train$M.jsonl
wc -l $D/tr$M.jsonl $D/tc$M.jsonl $D/dev$M.jsonl
L="0.003,0.01,0.03,0.1"
{ echo "== context: train (tr + tc) 10-fold CV"
  $PY tools/opening_probe.py cv $D/train$M.jsonl data/train --lambdas $L --context --out-prefix $O/cv
  echo "== context: dev, probe trained on train (tr + tc)"
  for l in ${L//,/ }; do
    $PY tools/opening_probe.py apply $D/train$M.jsonl data/train $D/dev$M.jsonl data/dev --lambda $l --context --out $O/dev-$l.json
  done; } | tee $O/auc.txt
