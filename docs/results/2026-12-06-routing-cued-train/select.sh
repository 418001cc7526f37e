#!/bin/bash
# The pre-registered selection (docs/results/2026-12-06-routing-cued-train/choice-made-on-dev.txt)
set -e
cd "$(dirname "$0")/../../.."  # the repository root
PY=~/.cache/rdic/venv-d4b857cd6050/bin/python
D=/tmp/pr; O=$D/sel; mkdir -p $O
cat $D/tr15.jsonl $D/tc15.jsonl > $D/train15.jsonl
grep '"example_id": *"tr-' $D/train15.jsonl > $D/tr-only.jsonl || true
grep '"example_id": *"tc-' $D/train15.jsonl > $D/tc-only.jsonl || true
wc -l $D/tr-only.jsonl $D/tc-only.jsonl $D/dev15.jsonl
L="0.003,0.01,0.03,0.1"
{ echo "== context: train (tr + tc) 10-fold CV"
  $PY tools/opening_probe.py cv $D/train15.jsonl data/train --lambdas $L --context --out-prefix $O/cv
  echo "== context: dev, probe trained on train (tr + tc)"
  for l in ${L//,/ }; do
    $PY tools/opening_probe.py apply $D/train15.jsonl data/train $D/dev15.jsonl data/dev --lambda $l --context --out $O/dev-$l.json
  done; } | tee $O/auc.txt
