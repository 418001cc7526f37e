"""The opening-view experiment (plan.txt): does a 1.5B vector that reads a message with what came
before it (view prev or list) decide openings better than the product's probe, which reads the
message alone (view msg) plus two context cosines?

  analysis.py NPZ_DIR              train CV and dev: AUC and the three ARIs per probe and p
  analysis.py NPZ_DIR --test FEATS LAMBDA P
                                   the one test replay that plan.txt allows (probe on all train)
  analysis.py NPZ_DIR --control FEATS LAMBDA P
                                   the chosen probe trained on labels shuffled within each
                                   conversation (3 seeds), train CV and dev

NPZ_DIR holds view-{msg,prev,list}.npz from `bench/gpu_queue.sh views`. The router is replayed
by tools/route_sweep.py with the product's choice among topics (w 0.5, recency 0.02, mean link,
similarity 0.30, cues on) and its msg vectors; only the opening probe changes. Probes:
  msg      the product's: msg vector + the two context cosines (max with the earlier messages,
           with the previous one)
  msg+K    the same + the view K's vector
  K        the view K's vector + the two context cosines
  msg+K~   control: msg + another message's view vector (a fixed permutation within the split)
"""
import argparse
import collections
import json
import pathlib
import sys

import numpy as np

sys.path.insert(0, "tools")
import opening_probe as op  # noqa: E402
import route_sweep as rs  # noqa: E402

FEATS = ("msg", "msg+prev", "msg+list", "prev", "list")


def load_views(d):
    """view -> split -> example -> turn -> unit vector (float64)."""
    out = {}
    for k in ("msg", "prev", "list"):
        z = np.load(pathlib.Path(d) / f"view-{k}.npz")
        per = collections.defaultdict(lambda: collections.defaultdict(dict))
        for e, t, s, v in zip(z["example"], z["turn"], z["split"], z["vec"]):
            v = v.astype(np.float64)
            per[str(s)][str(e)][int(t)] = v / np.linalg.norm(v)
        out[k] = per
        # The control "K~": each message gets the view vector of another message of the same
        # split (a fixed permutation): as many numbers as the view, none of its information.
        rng = np.random.default_rng(0)
        shuffled = collections.defaultdict(lambda: collections.defaultdict(dict))
        for s, by_ex in per.items():
            keys = [(e, t) for e, ts in by_ex.items() for t in ts]
            vals = [by_ex[e][t] for e, t in keys]
            for (e, t), j in zip(keys, rng.permutation(len(keys))):
                shuffled[s][e][t] = vals[j]
        out[k + "~"] = shuffled
    return out


def parts(views, test=False):
    """name -> (msg vectors per example, examples): tr, tc (train), dev; or test alone."""
    def exs(split, ids):
        return {i: json.load(open(f"data/{split}/{i}.json")) for i in ids}
    msg = views["msg"]
    if test:
        return {"test": (msg["test"], exs("test", sorted(msg["test"])))}
    train = sorted(msg["train"])
    return {"tr": (msg["train"], exs("train", [i for i in train if i.startswith("tr-")])),
            "tc": (msg["train"], exs("train", [i for i in train if i.startswith("tc-")])),
            "dev": (msg["dev"], exs("dev", sorted(msg["dev"])))}


def features(feats, views, split, e, t, v, earlier):
    ctx = op.context_features(v, earlier)
    if feats == "msg":
        return np.concatenate([v, ctx])
    if feats.startswith("msg+"):
        return np.concatenate([v, ctx, views[feats[4:]][split][e][t]])
    return np.concatenate([views[feats][split][e][t], ctx])


def rows(feats, views, sets, split):
    """Each user turn after its conversation's first, the labelled history as context:
    (example id, features, opens), the rows of opening_probe.turn_rows."""
    out = []
    for per, exs in sets.values():
        out += [(e, x, y) for e, _, x, y in op.turn_rows(
            per, exs.values(),
            lambda e, t, v, earlier, *_: features(feats, views, split, e, t, v, earlier))]
    return out


def replay_mean(sets, split, views, feats, weights_of, p):
    """Mean ARI per part, the probe's p >= `p` opening a topic beside the cues."""
    rs.LINK = rs.ELINK = "mean"
    rs.SHIFT_TH = p
    got = {}
    for name, (per, exs) in sets.items():
        a = []
        for e, ex in exs.items():
            w = weights_of(e)
            rs.OPENER = lambda s, e=e, w=w: float(op.score(np.array([features(
                feats, views, split, e, s["turn"]["id"], s["v"], s["earlier"])]), w)[0])
            truth = np.unique([t["cluster"] for t in ex["turns"]], return_inverse=True)[1]
            a.append(rs.ari(truth, rs.replay(ex, per[e], 0.5, 0.30, 0.02, True)))
        got[name] = float(np.mean(a))
    rs.OPENER, rs.SHIFT_TH = None, 2.0
    return got


def fit_train(feats, views, train_sets, lam, shuffle_seed=None):
    """CV weights per fold (train examples) and all-train weights; the CV AUC."""
    r = rows(feats, views, train_sets, "train")
    x = np.array([q[1] for q in r])
    y = np.array([q[2] for q in r], dtype=float)
    g = np.array([q[0] for q in r])
    if shuffle_seed is not None:  # the control: labels permuted within each conversation
        y = op.shuffle_within(y, g, shuffle_seed)
    train_ids = sorted(e for _, (_, exs) in train_sets.items() for e in exs)
    fold = dict(zip(train_ids, op.grouped_folds(train_ids, 10)))
    f = np.array([fold[e] for e in g])
    s, weights = op.cv_fit(x, y, f, lam)
    true_y = np.array([q[2] for q in r], dtype=float)
    return fold, weights, op.fit(x, y, lam), op.auc(s, true_y)


def run(views, feats_list, lams, ps, shuffle_seed=None):
    sets = parts(views)
    train_sets = {k: sets[k] for k in ("tr", "tc")}
    for feats in feats_list:
        for lam in lams:
            fold, weights, all_w, cv_auc = fit_train(feats, views, train_sets, lam, shuffle_seed)
            for p in ps:
                tr = replay_mean(train_sets, "train", views, feats,
                                 lambda e: weights[fold[e]], p)
                dv = replay_mean({"dev": sets["dev"]}, "dev", views, feats, lambda e: all_w, p)
                r = {**tr, **dv}
                print(f"  {feats:9s} lambda {lam:<5} p >= {p}: CV AUC {cv_auc:.3f}  "
                      f"tr {r['tr']:.3f}  tc {r['tc']:.3f}  dev {r['dev']:.3f}  "
                      f"mean {np.mean(list(r.values())):.3f}", flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("npz_dir")
    ap.add_argument("--test", nargs=3, metavar=("FEATS", "LAMBDA", "P"))
    ap.add_argument("--control", nargs=3, metavar=("FEATS", "LAMBDA", "P"))
    ap.add_argument("--feats", default=",".join(FEATS))
    ap.add_argument("--lambdas", default="0.01,0.03,0.1")
    ap.add_argument("--ps", default="0.3,0.5,0.7")
    a = ap.parse_args()
    views = load_views(a.npz_dir)
    if a.control:
        feats, lam, p = a.control[0], float(a.control[1]), float(a.control[2])
        for seed in (1, 2, 3):
            print(f"shuffled labels, seed {seed}:")
            run(views, [feats], [lam], [p], shuffle_seed=seed)
        return
    if a.test:
        feats, lam, p = a.test[0], float(a.test[1]), float(a.test[2])
        sets = parts(views)
        w = fit_train(feats, views, {k: sets[k] for k in ("tr", "tc")}, lam)[2]
        r = replay_mean(parts(views, test=True), "test", views, feats, lambda e: w, p)
        print(f"test, {feats} lambda {lam} p >= {p}: mean ARI {r['test']:.3f}")
        return
    print("train CV (10 folds grouped by conversation) and dev; the product's probe is msg")
    run(views, a.feats.split(","), [float(x) for x in a.lambdas.split(",")],
        [float(x) for x in a.ps.split(",")])


if __name__ == "__main__":
    main()
