#!/usr/bin/env python3
"""A linear probe that predicts whether a user turn opens a new topic: trains, evaluates and
writes the opening probe files the routers load (`--opening-probe`, models/probes/).

Reads the router's message embeddings as `rdic cluster --method embedding --dump-embeddings`
writes them (the same template and pooling as the `hybrid` router) and the labelled data; the
examples are the user turns after each conversation's first (assistant and synthesis turns are
left out, as the router leaves them out); the label is "its topic has not been seen yet".
Model: L2-regularised logistic regression (Newton steps) on the L2-normalised vectors.

  opening_probe.py loeo DEV.jsonl data/dev --lambdas 0.01,0.03,0.1 --out-prefix /tmp/dev-probe
      held-out scores, one example (conversation) left out at a time, as rdic cluster --json
      (route.shift_p per turn): tools/route_sweep.py --shift-p FILE replays them
  opening_probe.py apply DEV.jsonl data/dev TEST.jsonl data/test --lambda 0.01 --out FILE
      trained on every dev turn, scores for the other split (same format)
  opening_probe.py save TRAIN.jsonl data/train --model-info INFO.json --template TPL.txt \
          --lambda 0.01 --threshold 0.6 --out models/probes/NAME.json
      trained on every turn given, written as an opening probe file (rdic.opening_probe/v1,
      include/rdic/records/opening_probe.h: its one writer) for `rdic cluster|serve
      --opening-probe`. INFO.json is `rdic info --model M --json`; TPL.txt the exact embedding
      template of the dump (the router's default instruction unless --embed-template).
Prints the AUC (openings against the other turns) of the scores it writes.

Controls: --position (a probe that sees only where the turn stands) and --shuffle-labels SEED
(cv, apply: the training labels permuted within each conversation, so each keeps its number of
openings; the AUC it reports is still against the true labels).
"""
import argparse
import glob
import json

import numpy as np

from route_sweep import has_cue, load_dump


# --context: add two cosines of the message's vector, the largest with the conversation's
# earlier user messages and the one with the previous user message (the router computes the
# same; "context" in the probe file)
CONTEXT = False
POSITION = False  # --position: the control, a probe that sees only the turn's position


def context_features(v, earlier):
    """Max cosine with the conversation's earlier user messages, cosine with the previous one."""
    cos = [float(v @ e) for e in earlier]
    return [max(cos), cos[-1]]


def turns(dump, data):
    """(example id, turn id, x, opens) for each user turn after a conversation's first."""
    exs = [json.load(open(f)) for f in sorted(glob.glob(data + "/*.json"))]
    return turn_rows(load_dump(dump), exs, probe_features)


def probe_features(e, t, v, earlier, i, n_user):
    """The probe's input for turn t (id) of example e: its vector (+ CONTEXT's two cosines), or
    only its position for the POSITION control (i-th of n_user user turns)."""
    if POSITION:
        return np.array([i / 20, i / n_user])
    return np.concatenate([v, context_features(v, earlier)]) if CONTEXT else v


def turn_rows(per, exs, features):
    """(example id, turn id, features(...), opens) for each user turn after its conversation's
    first; per: example id -> turn id -> vector (a turn missing there, a synthesis turn, is left
    out); exs: the examples in order; the labelled history is the context."""
    rows = []
    for ex in exs:
        vec = per.get(ex["id"], {})
        users = [t for t in ex["turns"] if t.get("role") != "assistant"]
        seen, earlier = set(), []
        for i, t in enumerate(users):
            if t["id"] not in vec:
                continue
            v = vec[t["id"]]
            if seen:
                rows.append((ex["id"], t["id"], features(ex["id"], t["id"], v, earlier, i,
                                                         len(users)),
                             t["cluster"] not in seen))
            seen.add(t["cluster"])
            earlier.append(v)
    return rows


def shuffle_within(y, groups, seed):
    """The labels permuted within each group (conversation), so each keeps its number of
    openings: the shuffled-label control."""
    y = y.copy()
    rng = np.random.default_rng(seed)
    for e in np.unique(groups):
        idx = np.flatnonzero(groups == e)
        y[idx] = y[rng.permutation(idx)]
    return y


def no_cue_mask(rows, data):
    """True for the rows whose message does not start with a topic-shift cue."""
    text = {}
    for f in glob.glob(data + "/*.json"):
        ex = json.load(open(f))
        for t in ex["turns"]:
            text[(ex["id"], t["id"])] = t["text"]
    return np.array([not has_cue(text[(e, t)]) for e, t, _, _ in rows])


def fit(x, y, lam):
    xb = np.hstack([x, np.ones((len(x), 1))])
    w = np.zeros(xb.shape[1])
    reg = lam * np.r_[np.ones(len(w) - 1), 0.0]  # the bias is not regularised
    for _ in range(30):
        p = 1 / (1 + np.exp(-xb @ w))
        grad = xb.T @ (p - y) + reg * w
        hess = (xb.T * (p * (1 - p))) @ xb + np.diag(reg)
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.max(np.abs(step)) < 1e-7:  # converged (Newton: a few steps)
            break
    return w


def score(x, w):
    return 1 / (1 + np.exp(-(np.hstack([x, np.ones((len(x), 1))]) @ w)))


def grouped_folds(groups, folds):
    """Each row's fold: conversations (sorted ids) dealt round-robin into `folds` folds."""
    fold = {e: i % folds for i, e in enumerate(sorted(set(groups)))}
    return np.array([fold[e] for e in groups])


def cv_fit(x, y, f, lam):
    """Held-out scores (each fold scored by a probe fit on the others) and the fold's weights."""
    s, weights = np.zeros(len(y)), {}
    for k in np.unique(f):
        held = f == k
        weights[int(k)] = fit(x[~held], y[~held], lam)
        s[held] = score(x[held], weights[int(k)])
    return s, weights


def auc(s, y):
    pos, neg = s[y == 1], s[y == 0]
    return float((np.sum(pos[:, None] > neg[None, :]) + 0.5 * np.sum(pos[:, None] == neg[None, :]))
                 / (len(pos) * len(neg)))


def write(rows, s, path):
    by = {}
    for (e, t, _, _), p in zip(rows, s):
        by.setdefault(e, []).append({"turn": t, "route": {"shift_p": float(p)}})
    json.dump({"examples": [{"example_id": e, "assignment": a} for e, a in by.items()]},
              open(path, "w"))


def save(a):
    if len(a.files) % 2:
        raise SystemExit("save: give DUMP DATA pairs")
    rows, datas, examples = [], [], set()
    for dump, data in zip(a.files[0::2], a.files[1::2]):
        r = turns(dump, data)
        rows += r
        datas.append(data)
        examples |= {e for e, _, _, _ in r}
    x = np.array([r[2] for r in rows])
    y = np.array([r[3] for r in rows], dtype=float)
    w = fit(x, y, a.lam)
    info = json.load(open(a.model_info))
    template = open(a.template).read()
    n = info["n_embd"]
    if len(w) - 1 - (2 if CONTEXT else 0) != n:
        raise SystemExit(f"save: the dump's vectors do not have the model's n_embd ({n}) numbers")
    probe = {
        "format": "rdic.opening_probe/v1",
        "model": {k: info[k] for k in ("name", "description", "n_params", "n_embd")},
        "embedding": {"pooling": "last", "template": template},
        "threshold": a.threshold,
        "bias": float(w[-1]),
        "weights": [float(v) for v in w[:n]],
        **({"context": {"max_cosine": float(w[n]), "previous_cosine": float(w[n + 1])}}
           if CONTEXT else {}),
        "training": {"data": " + ".join(datas), "examples": len(examples), "turns": len(y),
                     "openings": int(y.sum()), "lambda": a.lam},
    }
    with open(a.out, "w") as f:
        json.dump(probe, f)
        f.write("\n")
    print(f"trained on {len(examples)} examples, {len(y)} turns, {int(y.sum())} openings "
          f"(lambda {a.lam}); training AUC {auc(score(x, w), y):.3f} -> {a.out}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["loeo", "cv", "apply", "save"])
    ap.add_argument("files", nargs="+",
                    help="loeo, save: DUMP DATA [DUMP DATA ...]; apply: DUMP DATA DUMP2 DATA2")
    ap.add_argument("--model-info", help="save: rdic info --model M --json output")
    ap.add_argument("--template", help="save: file holding the embedding template")
    ap.add_argument("--threshold", type=float, default=0.6, help="save: p >= this opens")
    ap.add_argument("--lambdas", default="0.01,0.03,0.1")
    ap.add_argument("--lambda", dest="lam", type=float, default=0.01)
    ap.add_argument("--folds", type=int, default=10, help="cv: folds, grouped by conversation")
    ap.add_argument("--out-prefix", default="/tmp/probe-loeo")
    ap.add_argument("--out", default="/tmp/probe-apply.json")
    ap.add_argument("--context", action="store_true",
                    help="add the cosines with the earlier messages as features")
    ap.add_argument("--shuffle-labels", type=int, metavar="SEED",
                    help="control (cv, apply): train on labels permuted within each conversation")
    ap.add_argument("--position", action="store_true",
                    help="control: features are the turn's position only (no content)")
    a = ap.parse_args()
    global CONTEXT, POSITION
    CONTEXT = a.context
    POSITION = a.position
    if a.shuffle_labels is not None and a.mode not in ("cv", "apply"):
        ap.error("--shuffle-labels is a control for cv and apply")
    if a.mode == "save":
        save(a)
        return
    rows = turns(a.files[0], a.files[1])
    x = np.array([r[2] for r in rows])
    y = np.array([r[3] for r in rows], dtype=float)
    g = np.array([r[0] for r in rows])  # each turn's conversation
    # the labels the probe is trained on (shuffled for the control)
    y_fit = y if a.shuffle_labels is None else shuffle_within(y, g, a.shuffle_labels)
    if a.mode == "cv":
        f = grouped_folds(g, a.folds)
        nocue = no_cue_mask(rows, a.files[1])
        for lam in map(float, a.lambdas.split(",")):
            s = cv_fit(x, y_fit, f, lam)[0]
            path = f"{a.out_prefix}-{lam}.json"
            write(rows, s, path)
            print(f"lambda {lam}: {a.folds}-fold AUC {auc(s, y):.3f}, without a cue "
                  f"{auc(s[nocue], y[nocue]):.3f} ({int(y[nocue].sum())} of {int(y.sum())} "
                  f"openings) -> {path}", flush=True)
        return
    if a.mode == "loeo":
        for lam in map(float, a.lambdas.split(",")):
            s = np.zeros(len(y))
            for e in np.unique(g):
                held = g == e
                s[held] = score(x[held], fit(x[~held], y[~held], lam))
            path = f"{a.out_prefix}-{lam}.json"
            write(rows, s, path)
            print(f"lambda {lam}: held-out AUC {auc(s, y):.3f} ({int(y.sum())} openings of "
                  f"{len(y)} turns) -> {path}", flush=True)
    else:
        w = fit(x, y_fit, a.lam)
        other = turns(a.files[2], a.files[3])
        xo = np.array([r[2] for r in other])
        yo = np.array([r[3] for r in other], dtype=float)
        s = score(xo, w)
        write(other, s, a.out)
        nocue = no_cue_mask(other, a.files[3])
        print(f"lambda {a.lam}: AUC {auc(s, yo):.3f} ({int(yo.sum())} openings of {len(yo)} "
              f"turns), without a cue {auc(s[nocue], yo[nocue]):.3f} "
              f"({int(yo[nocue].sum())} openings) -> {a.out}")


if __name__ == "__main__":
    main()
