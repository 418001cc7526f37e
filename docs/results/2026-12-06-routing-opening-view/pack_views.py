"""pack_views.py DIR OUT: DIR/view-K-S.jsonl (rdic cluster --dump-embeddings) into OUT/view-K.npz
with arrays example (str), turn (int), split (str), vec (float16, L2-normalised)."""
import json
import pathlib
import sys

import numpy as np

src, out = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
for k in ("msg", "prev", "list"):
    ex, turn, split, vec = [], [], [], []
    for s in ("train", "dev", "test"):
        f = src / f"view-{k}-{s}.jsonl"
        if not f.exists():
            continue
        for line in open(f):
            r = json.loads(line)
            v = np.array(r["embedding"], dtype=np.float64)
            ex.append(r["example_id"])
            turn.append(r["turn"])
            split.append(s)
            vec.append((v / np.linalg.norm(v)).astype(np.float16))
    if vec:
        np.savez_compressed(out / f"view-{k}.npz", example=np.array(ex), turn=np.array(turn),
                            split=np.array(split), vec=np.stack(vec))
        print(k, len(vec), "vectors")
