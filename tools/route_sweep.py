#!/usr/bin/env python3
"""Offline sweep of the online turn routers over dumped turn embeddings (analysis only).

rdic's routers are C++ (include/rdic/clustering/turn_router.h); this replays the same decisions
in Python so that thresholds and weights can be chosen on the dev split without re-embedding:
user turns one by one in conversation order (no look-ahead), an assistant turn joins the topic
of the turn before it, synthesis turns (the turns missing from the dump, as `rdic cluster
--method embedding --dump-embeddings` leaves them out) are one extra cluster. Similarities:
cosine to each topic's sum of normalised embeddings, and the incremental TF-IDF of
IncrementalTfidf (lexical.cpp) ported word for word; combined as (1 - w) * emb + w * lex, plus
`recency` for the topic of the previous user turn; a turn opens a new topic when the best is
below `threshold`, or (with --cues) when it starts with a topic-shift cue (router_cues.cpp).
Mean ARI over examples, as rdic cluster reports it.

  tools/route_sweep.py DUMP.jsonl DATA_DIR [--weights 0,0.5,1] [--thresholds ...]
      [--recency 0,0.05] [--cues] [--shift-p RUN.json --shift-th P,...] [--pairs PAIR_RUN.json]
"""
import argparse
import collections
import itertools
import json
import math
import pathlib
import re

import numpy as np

STOP = set("""about after again all also am an and any are as at be been before being both but
by can could did do does for from had has have he her here his how if in into is it its it's just
me more most my no not now of on one only or our out over she should so some than that the their
them then there these they this those to too under up us very was we we're were what when where
which while who why will with would you your i'm i've we've each other""".split())


def words(text):
    out, w = [], ""

    def flush():
        nonlocal w
        w = w.rstrip("-'")
        if len(w) >= 2 and w not in STOP:
            out.append(w)
        w = ""

    for i, c in enumerate(text):
        if c.isascii() and c.isalnum():
            w += c.lower()
        elif c in "-'" and w and i + 1 < len(text) and text[i + 1].isascii() and text[i + 1].isalnum():
            w += c
        else:
            flush()
    flush()
    return out


# Topic-shift cues at the start of a message (the C++ list in router_cues.cpp is the same).
CUE = re.compile(
    r"^\W*(another (issue|project|thing|topic|matter|problem|subject|area|item)|"
    r"different (problem|project|subject|topic|matter|issue|area|thing)|"
    r"separate(ly)?\b|separate (issue|problem|matter)|switching\b|in parallel\b|"
    r"(second|third|fourth|fifth|sixth)\b|the (second|third|fourth|fifth) \w+|"
    r"next (topic|item|issue|area|project|thing)\b|next,|last (topic|area|item|issue)\b|"
    r"(one )?(more|other) (topic|issue|matter|project)\b|new topic\b|unrelated\b|"
    r"on (a|an) (different|separate|unrelated)\b|something (else|different)\b)",
    re.I)


def has_cue(text):
    return bool(CUE.search(text))


class Tfidf:
    def __init__(self):
        self.msgs, self.topics, self.df = [], [], collections.Counter()

    @staticmethod
    def weigh(counts, df, n, extra):
        w = {}
        for word, c in counts.items():
            d = df.get(word, 0) + (1 if word in extra else 0)
            w[word] = (1 + math.log(c)) * (1 + math.log((1 + n) / (1 + d)))
        norm = math.sqrt(sum(x * x for x in w.values()))
        return {k: v / norm for k, v in w.items()} if norm > 0 else w

    def similarity(self, text, link="centroid"):
        counts = collections.Counter(words(text))
        n = len(self.msgs) + 1
        q = self.weigh(counts, self.df, n, counts)
        out = []
        for members in self.topics:
            if link != "centroid":
                s = [sum(v * q.get(k, 0) for k, v in self.weigh(self.msgs[m], self.df, n, counts).items())
                     for m in members]
                out.append(max(s) if link == "max" else
                           float(np.mean(sorted(s)[-2:])) if link == "top2" else float(np.mean(s)))
                continue
            cen = collections.Counter()
            for m in members:
                for k, v in self.weigh(self.msgs[m], self.df, n, counts).items():
                    cen[k] += v
            nc = math.sqrt(sum(v * v for v in cen.values()))
            dot = sum(v * q.get(k, 0) for k, v in cen.items())
            out.append(dot / nc if nc > 0 else 0.0)
        return out

    def add(self, topic, text):
        counts = collections.Counter(words(text))
        self.df.update(counts.keys())
        if topic == len(self.topics):
            self.topics.append([])
        self.topics[topic].append(len(self.msgs))
        self.msgs.append(counts)


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


LINK = "centroid"
ELINK = "centroid"


SHIFT_P = {}  # (example id, turn id) -> llm p(new matter), from `rdic cluster --json` (--shift-p)
SHIFT_TH = 2.0
# (example id, turn id) -> the pair router's p(same matter) with each earlier user turn still in
# its window, oldest first, from `rdic cluster --router pair --json` (--pairs). When given, it
# replaces the embedding similarity: a topic's is the mean (--elink mean) or the max (--elink
# max) over its user turns in the window.
PAIRS = {}
ORACLE_OPEN = False  # --oracle-open: a turn opens a topic exactly when its label is new (analysis)
ORACLE_ASSIGN = False  # analysis: every user turn goes to its labelled topic (teacher forcing)
# Analysis hooks (not options of the C++ routers; docs/results/2026-12-06-routing-state-analysis/):
CENTER = 0.0  # subtract CENTER x the mean of the conversation's vectors so far, renormalise
REPLIES = False  # assistant turns join their topic's members (embedding and lexical)
# OPENER(state) -> p: replaces the shift-p lookup; state has the turn's vector "v", "earlier"
# (the earlier user vectors), "sim" (the combined similarities), "last" (the previous turn's
# topic), "run" (user turns in a row routed to it) and the "turn" itself
OPENER = None
# RETURN(text) -> bool: the message announces a return to an earlier topic ("back to ..."), so
# the previous turn's topic is not a candidate
RETURN = None


def load_dump(path):
    """example id -> turn id -> the L2-normalised vector, from a --dump-embeddings file."""
    per = collections.defaultdict(dict)
    for line in open(path):
        r = json.loads(line)
        v = np.array(r["embedding"], dtype=np.float64)
        per[r["example_id"]][r["turn"]] = v / np.linalg.norm(v)
    return per


def link(vals, how):
    """A topic's similarity from its members' cosines: mean, max, top2 (mean of the best two)."""
    if how == "max":
        return max(vals)
    if how == "top2":
        return float(np.mean(sorted(vals)[-2:]))
    return float(np.mean(vals))


def replay(ex, vecs, w, threshold, recency, cues):
    """vecs: turn id -> normalised vector (missing = synthesis)."""
    sums, members, lex, out, last = [], [], Tfidf(), [], None
    committed = []  # the topic of each committed user turn, in order (for PAIRS)
    seen = {}  # ORACLE_OPEN, ORACLE_ASSIGN: the labels seen so far and their topics
    history, earlier, run = [], [], 0  # CENTER: all vectors so far; OPENER: user vectors, run
    for i, t in enumerate(ex["turns"]):
        if t["id"] not in vecs:
            out.append(-1)
            continue
        v = vecs[t["id"]]
        if CENTER:
            history.append(v)
            v = v - CENTER * np.mean(history, axis=0)
            v = v / max(np.linalg.norm(v), 1e-12)  # a conversation's first at CENTER 1: zero
        if t.get("role") == "assistant" and i > 0:
            out.append(out[-1])
            if REPLIES and out[-1] >= 0:
                sums[out[-1]] = sums[out[-1]] + v
                members[out[-1]].append(v)
                lex.add(out[-1], t["text"])
            continue
        n = len(sums)
        sim = np.zeros(n)
        if n and w < 1 and PAIRS:
            p = PAIRS.get((ex["id"], t["id"]), [])
            by = collections.defaultdict(list)
            for j, x in enumerate(p):
                by[committed[len(committed) - len(p) + j]].append(x)
            sim += (1 - w) * np.array([link(by[k], ELINK) if by[k] else 0.0 for k in range(n)])
        elif n and w < 1:
            if callable(ELINK):  # analysis: a similarity of the vector with a topic's members
                sim += (1 - w) * np.array([ELINK(v, ms) for ms in members])
            elif ELINK == "centroid":
                sim += (1 - w) * np.array([c @ v / np.linalg.norm(c) for c in sums])
            else:
                sim += (1 - w) * np.array([link([m @ v for m in ms], ELINK) for ms in members])
        if n and w > 0:
            sim += w * np.array(lex.similarity(t["text"], LINK))
        if last is not None and n:
            sim[last] += recency
        if RETURN and last is not None and n > 1 and RETURN(t["text"]):
            sim[last] = -np.inf  # analysis: a message that announces a return leaves its topic
        if OPENER and n:
            p_open = OPENER({"v": v, "earlier": earlier, "sim": sim, "last": last, "run": run,
                             "turn": t})
        else:
            p_open = SHIFT_P.get((ex["id"], t["id"]), -1)
        if ORACLE_OPEN or ORACLE_ASSIGN:
            opens = t["cluster"] not in seen
            seen.setdefault(t["cluster"], n)
        else:
            opens = n == 0 or (cues and has_cue(t["text"])) or p_open >= SHIFT_TH \
                or sim.max() < threshold
        if opens:
            topic = n
            sums.append(np.zeros_like(v))
            members.append([])
        elif ORACLE_ASSIGN:
            topic = seen[t["cluster"]]
        else:
            topic = int(np.argmax(sim))
        run = run + 1 if topic == last else 1
        sums[topic] = sums[topic] + v
        members[topic].append(v)
        lex.add(topic, t["text"])
        committed.append(topic)
        earlier.append(v)
        out.append(topic)
        last = topic
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dump")
    ap.add_argument("data")
    ap.add_argument("--weights", default="0,0.25,0.5,0.75,1")
    ap.add_argument("--thresholds", default="0,0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8,0.85,0.9,0.95")
    ap.add_argument("--recency", default="0")
    ap.add_argument("--cues", action="store_true")
    ap.add_argument("--top", type=int, default=15)
    ap.add_argument("--json", action="store_true", help="one JSON object per setting, best first")
    ap.add_argument("--link", default="centroid", help="lexical: centroid, max, mean, top2")
    ap.add_argument("--elink", default="centroid", help="embeddings: centroid, mean, max, top2")
    ap.add_argument("--shift-p", help="rdic cluster --json output with route.shift_p per turn")
    ap.add_argument("--shift-th", default="2", help="open when shift_p >= this (list)")
    ap.add_argument("--oracle-open", action="store_true",
                    help="analysis: open exactly at the labelled openings, route the rest")
    ap.add_argument("--pairs", help="rdic cluster --router pair --json output (route.pair_p): "
                    "the pair judge's p(same matter) replaces the embedding similarity")
    args = ap.parse_args()
    global LINK, ORACLE_OPEN
    LINK = args.link
    ORACLE_OPEN = args.oracle_open
    global ELINK
    ELINK = args.elink
    per = collections.defaultdict(dict)
    if args.dump == "-":  # lexical only: synthesis turns from the labels (the detector finds
        # exactly those on both splits, docs/clustering.md), zero vectors for the others
        for f in sorted(pathlib.Path(args.data).glob("*.json")):
            ex = json.load(open(f))
            synth = {c["id"] for c in ex["clusters"] if c["kind"] == "synthesis"}
            for t in ex["turns"]:
                if t["cluster"] not in synth:
                    per[ex["id"]][t["id"]] = np.zeros(1)
    else:
        per = load_dump(args.dump)
    exs = {i: json.load(open(pathlib.Path(args.data) / f"{i}.json")) for i in per}
    if args.shift_p:
        for e in json.load(open(args.shift_p))["examples"]:
            for t in e["assignment"]:
                if "route" in t:
                    SHIFT_P[(e["example_id"], t["turn"])] = t["route"]["shift_p"]
    if args.pairs:
        run = json.load(open(args.pairs))["examples"]
        exs = {e["example_id"]: exs[e["example_id"]] for e in run}  # the examples it covers
        for e in run:
            for t in e["assignment"]:
                if "route" in t:
                    PAIRS[(e["example_id"], t["turn"])] = t["route"].get("pair_p", [])
    truth = {i: np.unique([t["cluster"] for t in ex["turns"]], return_inverse=True)[1]
             for i, ex in exs.items()}
    rows = []
    global SHIFT_TH
    for w, th, rc, st in itertools.product(*(list(map(float, s.split(","))) for s in
                                              (args.weights, args.thresholds, args.recency,
                                               args.shift_th))):
        SHIFT_TH = st
        a = [ari(truth[i], replay(ex, per[i], w, th, rc, args.cues)) for i, ex in exs.items()]
        rows.append((np.mean(a), w, th, rc, st))
    rows.sort(reverse=True)
    if args.json:
        for m, w, th, rc, st in rows[: args.top]:
            print(json.dumps({"ari": m, "examples": len(exs), "lexical_weight": w,
                              "threshold": th, "recency": rc,
                              "shift_th": st if args.shift_p else None}))
        return
    print(f"{len(exs)} examples, cues {'on' if args.cues else 'off'}; best mean ARI first")
    for m, w, th, rc, st in rows[: args.top]:
        print(f"  ARI {m:.3f}  lexical_weight {w:.2f}  threshold {th:.2f}  recency {rc:.2f}"
              + (f"  shift_llm {st:.2f}" if args.shift_p else ""))


if __name__ == "__main__":
    main()
