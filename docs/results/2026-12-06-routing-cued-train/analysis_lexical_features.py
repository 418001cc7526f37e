"""Analysis: does a lexical context feature help the opening probe? (train CV, dev)"""
import glob
import json
import sys
import numpy as np
sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parents[3] / "tools"))
import opening_probe as op
from route_sweep import Tfidf

def lex_feats(data):
    out = {}
    for f in sorted(glob.glob(data + "/*.json")):
        ex = json.load(open(f))
        tf = Tfidf()
        for t in ex["turns"]:
            if t.get("role") == "assistant":
                continue
            if tf.topics:
                s = tf.similarity(t["text"], "max")  # each earlier message its own "topic"
                out[(ex["id"], t["id"])] = (max(s), s[-1])
            tf.add(len(tf.topics), t["text"])
    return out

def rows_with_lex(dump, data, lex):
    op.CONTEXT = True
    rows = op.turns(dump, data)
    L = lex_feats(data) if lex else None
    out = []
    for e, t, x, y in rows:
        if lex:
            x = np.concatenate([x, np.array(L[(e, t)]) * 4.0])
        out.append((e, t, x, y))
    return out


for lex in (False, True):
    tr = rows_with_lex("/tmp/pr/train15.jsonl", "data/train", lex)
    x = np.array([r[2] for r in tr]); y = np.array([r[3] for r in tr], float)
    f = op.grouped_folds([r[0] for r in tr], 10); nocue = op.no_cue_mask(tr, "data/train")
    s = op.cv_fit(x, y, f, 0.03)[0]
    tag = "lex" if lex else "base"
    op.write(tr, s, f"/tmp/pr/lex/cv-{tag}.json")
    dv = rows_with_lex("/tmp/pr/dev15.jsonl", "data/dev", lex)
    xd = np.array([r[2] for r in dv]); yd = np.array([r[3] for r in dv], float)
    sd = op.score(xd, op.fit(x, y, 0.03))
    op.write(dv, sd, f"/tmp/pr/lex/dev-{tag}.json")
    nd = op.no_cue_mask(dv, "data/dev")
    print(tag, "train CV AUC %.4f no-cue %.4f | dev AUC %.4f no-cue %.4f" % (
        op.auc(s, y), op.auc(s[nocue], y[nocue]), op.auc(sd, yd), op.auc(sd[nd], yd[nd])), flush=True)
