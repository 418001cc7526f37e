#!/bin/bash
# usage: sweep.sh LAMBDA [MODEL_TAG [RECENCY]]  -> the threshold grid on tr (CV), tc (CV) and dev
# (MODEL_TAG 15, the default, with recency 0.02; the 0.5B: 05 0, its default recency)
set -e
cd "$(dirname "$0")/../../.."  # the repository root
PY=~/.cache/rdic/venv-d4b857cd6050/bin/python
l=$1; M=${2:-15}; REC=${3:-0.02}; D=/tmp/pr; O=$D/sel$M; export O
A="--cues --link mean --elink mean --weights 0.5 --thresholds 0.25,0.3,0.35 --recency $REC --shift-th 0.3,0.4,0.5,0.6,0.7,0.8,0.9,2 --top 100 --json"
$PY tools/route_sweep.py $D/tr$M.jsonl data/train $A --shift-p $O/cv-$l.json > $O/sweep-tr.txt
$PY tools/route_sweep.py $D/tc$M.jsonl data/train $A --shift-p $O/cv-$l.json > $O/sweep-tc.txt
$PY tools/route_sweep.py $D/dev$M.jsonl data/dev $A --shift-p $O/dev-$l.json > $O/sweep-dev.txt
$PY - <<'PY'
import collections, json, os
O = os.environ["O"]
vals = collections.defaultdict(dict)
for part in ("tr", "tc", "dev"):
    for line in open(f"{O}/sweep-{part}.txt"):
        r = json.loads(line)
        # three decimals, as the rule's ties were read (sel15-sweep.txt)
        vals[(r["shift_th"], r["threshold"])][part] = round(r["ari"], 3)
rows = []
for (p, th), v in vals.items():
    rows.append((round((v["tr"] + v["tc"] + v["dev"]) / 3, 6), p, -abs(th - 0.30), th, v))
# ties -> the higher probe threshold, then 0.30
rows.sort(key=lambda r: (r[0], r[1], r[2]), reverse=True)
print("mean(tr CV, tc CV, dev)  probe_p>=  similarity>=   tr     tc     dev")
for m, p, _, th, v in rows:
    print(f"  {m:.3f}   {p:.2f}   {th:.2f}   {v['tr']:.3f}  {v['tc']:.3f}  {v['dev']:.3f}")
PY
