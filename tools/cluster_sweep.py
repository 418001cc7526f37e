#!/usr/bin/env python3
"""Offline sweep over turn embeddings dumped by `rdic cluster --dump-embeddings FILE`.

Analysis tooling only (rdic's clustering is C++): given the vectors of one embedding variant,
compares without re-embedding what the clustering stage does with them: average linkage with k
chosen by silhouette or given by the labels, with and without mean-centering, and the online
router at several thresholds. Linkage is scipy's (method='average', metric='cosine'), so the
"raw, silhouette" row also cross-checks the C++ result. Turns that are not in the dump (the
detected synthesis turns) are one extra cluster, as in rdic.

  tools/cluster_sweep.py DUMP.jsonl DATA_DIR [--thresholds 0.01,0.02,...]
"""
import argparse
import collections
import json
import pathlib

import numpy as np
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.spatial.distance import pdist, squareform


def ari(a, b):
    a, b = np.unique(a, return_inverse=True)[1], np.unique(b, return_inverse=True)[1]
    c = np.zeros((a.max() + 1, b.max() + 1))
    np.add.at(c, (a, b), 1)
    comb = lambda x: x * (x - 1) / 2
    s, sa, sb, n = comb(c).sum(), comb(c.sum(1)).sum(), comb(c.sum(0)).sum(), comb(len(a))
    if sa == sb == s:
        return 1.0
    e = sa * sb / n
    return (s - e) / ((sa + sb) / 2 - e)


def silhouette(d, labels):
    ks = np.unique(labels)
    if not 2 <= len(ks) <= len(labels) - 1:
        return 0.0
    s = []
    for i in range(len(labels)):
        own = labels == labels[i]
        if own.sum() == 1:
            s.append(0.0)
            continue
        a = d[i, own].sum() / (own.sum() - 1)
        b = min(d[i, labels == k].mean() for k in ks if k != labels[i])
        s.append((b - a) / max(a, b))
    return float(np.mean(s))


def cluster(v, k=None, k_max=8):
    z = linkage(v, method="average", metric="cosine")
    if k is None:
        d = squareform(pdist(v, "cosine"))
        best, k = -np.inf, 2
        for kk in range(2, min(k_max, len(v) - 1) + 1):
            s = silhouette(d, fcluster(z, kk, "maxclust"))
            if s > best + 1e-12:
                best, k = s, kk
    return fcluster(z, min(k, len(v)), "maxclust")


def route(v, threshold):
    sums, out = [], []
    for x in v:
        x = x / np.linalg.norm(x)
        ds = [1 - (c @ x) / np.linalg.norm(c) for c in sums]
        if not ds or min(ds) > threshold:
            sums.append(x.copy())
            out.append(len(sums) - 1)
        else:
            i = int(np.argmin(ds))
            sums[i] += x
            out.append(i)
    return np.array(out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dump")
    ap.add_argument("data")
    ap.add_argument("--thresholds", default="0.005,0.01,0.02,0.03,0.05,0.1,0.15,0.2,0.3")
    args = ap.parse_args()
    per = collections.defaultdict(list)
    for line in open(args.dump):
        r = json.loads(line)
        per[r["example_id"]].append(r)
    rows = collections.defaultdict(list)
    for ex_id, turns in sorted(per.items()):
        ex = json.load(open(pathlib.Path(args.data) / f"{ex_id}.json"))
        labels = [t["cluster"] for t in ex["turns"]]
        truth = np.unique(labels, return_inverse=True)[1]
        embedded = {t["turn"]: i for i, t in enumerate(turns)}
        v = np.array([t["embedding"] for t in turns], dtype=np.float64)
        n_topics = sum(c["kind"] == "topic" for c in ex["clusters"])

        def full(found):  # synthesis (not embedded) turns as cluster -1
            return np.array([found[embedded[t["id"]]] if t["id"] in embedded else -1
                             for t in ex["turns"]])

        centered = v - v.mean(0)
        mean_cos = 1 - pdist(v, "cosine").mean()
        rows["mean pairwise cosine (raw)"].append(mean_cos)
        rows["raw, silhouette k"].append(ari(truth, full(cluster(v))))
        rows["raw, labelled k"].append(ari(truth, full(cluster(v, n_topics))))
        rows["centered, silhouette k"].append(ari(truth, full(cluster(centered))))
        rows["centered, labelled k"].append(ari(truth, full(cluster(centered, n_topics))))
        for th in args.thresholds.split(","):
            rows[f"online, threshold {th}"].append(ari(truth, full(route(v, float(th)))))
    print(f"{len(per)} examples; mean ARI over examples")
    for name, vals in rows.items():
        print(f"  {name:32s} {np.mean(vals):7.3f}")


if __name__ == "__main__":
    main()
