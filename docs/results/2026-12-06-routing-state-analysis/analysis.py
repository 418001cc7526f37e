"""Analysis on train (CV) and dev only, never test: can the 1.5B hybrid router's two decisions
be improved with what it already has?

1. Choosing among the open topics (every opening given by the labels, --oracle-open): the
   lexical weight and recency, the link over a topic's members, centring the vectors on the
   conversation's running mean, the assistant's replies as members, and a learned similarity
   (logistic regression on u * v over same/different-topic pairs of train conversations).
2. Opening a topic: the probe's logit (CV) combined, by a second logistic regression, with the
   router's state: the best combined similarity, the one with the previous turn's topic and
   1 / the run of turns in that topic (trained on the labelled history, applied to the
   router's own).
3. More training data: the probe trained on random subsets of train (40 to 100 conversations,
   3 draws each), scored on dev and on 20 tc conversations held out of every subset.
4. A second model's vector for the choice among topics (oracle openings): the 0.5B's instruct
   vector (same template; /tmp/pr/{tr05,tc05,dev05}.jsonl) beside the 1.5B's, cosines mixed.
5. A return cue ("Back to ...", "Following up on ..."): such a message may not stay in the
   previous turn's topic (openings given, and the product's router with its probe).
The setting in the product (w 0.5, recency 0.02, mean link, probe p >= 0.30, similarity 0.30)
is each table's first row. Needs /tmp/pr/{tr15,tc15,dev15}.jsonl (docs/routing.md,
"Reproducing", third part). Run from the repository root; prints the tables of analysis.txt
(arguments: the sections to run, e.g. `5`; all by default).
"""
import collections
import json
import re
import sys

import numpy as np

sys.path.insert(0, "tools")
import opening_probe as op  # noqa: E402
import route_sweep as rs  # noqa: E402

D = "/tmp/pr"
PARTS = {"tr": (f"{D}/tr15.jsonl", "data/train"), "tc": (f"{D}/tc15.jsonl", "data/train"),
         "dev": (f"{D}/dev15.jsonl", "data/dev")}


def load(dump, data):
    per = rs.load_dump(dump)
    return per, {i: json.load(open(f"{data}/{i}.json")) for i in per}


SETS = {k: load(*v) for k, v in PARTS.items()}
TRAIN_IDS = sorted(i for k in ("tr", "tc") for i in SETS[k][1])
FOLD = dict(zip(TRAIN_IDS, op.grouped_folds(TRAIN_IDS, 10)))  # as opening_probe.py cv


def mean_ari(part, w=0.5, th=0.30, rec=0.02, per_example=None):
    """per_example(i) is called before each conversation (to set the hooks for its fold)."""
    per, exs = SETS[part]
    out = []
    for i, ex in exs.items():
        if per_example:
            per_example(i)
        truth = np.unique([t["cluster"] for t in ex["turns"]], return_inverse=True)[1]
        out.append(rs.ari(truth, rs.replay(ex, per[i], w, th, rec, True)))
    return float(np.mean(out))


def row(label, **kw):
    r = {k: mean_ari(k, **kw) for k in SETS}
    print(f"  {label:42s} tr {r['tr']:.3f}  tc {r['tc']:.3f}  dev {r['dev']:.3f}  "
          f"mean {np.mean(list(r.values())):.3f}", flush=True)


def user_turns(part, i):
    per, exs = SETS[part]
    return [(per[i][t["id"]], t) for t in exs[i]["turns"]
            if t["id"] in per[i] and t.get("role") != "assistant"]


def choice_among_topics():
    print("1. Choice among the open topics, every opening given (oracle)")
    rs.ORACLE_OPEN, rs.LINK = True, "mean"
    rs.ELINK = "mean"
    row("product: w 0.5, recency 0.02, mean link")
    for w, rec in ((0.4, 0.02), (0.6, 0.02), (0.5, 0), (0.5, 0.05), (0.7, 0)):
        row(f"w {w}, recency {rec}", w=w, rec=rec)
    for how in ("max", "top2", "centroid"):
        rs.ELINK = how
        row(f"{how} link")
    rs.ELINK = "mean"
    for c in (0.5, 1.0):
        rs.CENTER = c
        row(f"centred on the running mean x {c}")
    rs.CENTER = 0.0
    rs.REPLIES = True
    row("assistant replies as members")
    rs.REPLIES = False
    # a learned similarity: p(same topic) = sigmoid(b + w . (u * v)) from train pairs
    pairs = collections.defaultdict(list)
    for part in ("tr", "tc"):
        for i in SETS[part][1]:
            us = user_turns(part, i)
            for a in range(len(us)):
                for b in range(a):
                    pairs[FOLD[i]].append((us[a][0] * us[b][0],
                                           us[a][1]["cluster"] == us[b][1]["cluster"]))
    for lam in (1.0, 10.0):
        def fit_without(k):
            xs = [x for f, rows in pairs.items() if f != k for x, _ in rows]
            ys = [y for f, rows in pairs.items() if f != k for _, y in rows]
            return op.fit(np.array(xs), np.array(ys, dtype=float), lam)
        weights = {k: fit_without(k) for k in range(10)}
        weights["all"] = fit_without(-1)

        def hook(i, weights=weights):
            wv = weights[FOLD.get(i, "all")]
            rs.ELINK = lambda v, ms: float(np.mean(op.score(np.array(ms) * v, wv)))
        row(f"learned pair similarity, lambda {lam}", per_example=hook)
    rs.ELINK, rs.ORACLE_OPEN = "mean", False


def probe_logit():
    """The product's opening probe (lambda 0.03, context features): logit(i, v, earlier) with
    the weights of example i's CV fold (train) or of all train (dev)."""
    op.CONTEXT = True
    rows = []
    for part in ("tr", "tc"):
        rows += op.turns(*PARTS[part])
    x = np.array([r[2] for r in rows])
    y = np.array([r[3] for r in rows], dtype=float)
    f = np.array([FOLD[r[0]] for r in rows])
    probe = op.cv_fit(x, y, f, 0.03)[1]
    probe["all"] = op.fit(x, y, 0.03)

    def logit(i, v, earlier):
        wv = probe[FOLD.get(i, "all")]
        return float(np.concatenate([v, op.context_features(v, earlier), [1.0]]) @ wv)
    return logit


def opening_with_state():
    print("2. Opening: the probe (lambda 0.03, context) + the router's state, cues on")
    rs.LINK = rs.ELINK = "mean"
    logit = probe_logit()

    def state(s, which):
        out = [s["logit"]]
        if "best" in which:
            out.append(float(s["sim"].max()))
        if "previous" in which:
            out.append(float(s["sim"][s["last"]]))
        if "run" in which:
            out.append(1.0 / s["run"])
        return out

    def teacher_forced(which):
        """Stage-2 rows of the train turns without a cue, the labelled history as the state
        (the replay with every turn in its labelled topic, recording what the opener sees)."""
        xs, ys, fs = [], [], []
        rs.ORACLE_ASSIGN = True
        for part in ("tr", "tc"):
            per, exs = SETS[part]
            for i, ex in exs.items():
                firsts = {}  # each label's first turn among those routed (as opening_probe.py)
                for t in ex["turns"]:
                    if t["id"] in per[i]:
                        firsts.setdefault(t["cluster"], t["id"])

                def record(s, i=i, firsts=firsts):
                    t = s["turn"]
                    if not rs.has_cue(t["text"]):
                        xs.append(state({**s, "logit": logit(i, s["v"], s["earlier"])}, which))
                        ys.append(firsts[t["cluster"]] == t["id"])
                        fs.append(FOLD[i])
                    return -1.0
                rs.OPENER = record
                rs.replay(ex, per[i], 0.5, 0.3, 0.02, True)
        rs.OPENER, rs.ORACLE_ASSIGN = None, False
        return np.array(xs), np.array(ys, dtype=float), np.array(fs)

    current = {}

    def product(i):  # the probe's own p, as rdic cluster applies it
        current["i"] = i
        rs.OPENER = lambda s: 1 / (1 + np.exp(-logit(current["i"], s["v"], s["earlier"])))
    rs.SHIFT_TH = 0.3
    row("product: the probe's p >= 0.3", per_example=product)
    for which in ("probe alone", "best", "best previous", "best previous run"):
        xs, ys, fs = teacher_forced(which)
        stage2 = op.cv_fit(xs, ys, fs, 0.01)[1]
        stage2["all"] = op.fit(xs, ys, 0.01)
        print(f" {which}: stage-2 weights (all train) {np.round(stage2['all'], 2).tolist()}")
        for p in (0.3, 0.5, 0.7):
            rs.SHIFT_TH = p

            def hook(i):
                current["i"] = i
                rs.OPENER = lambda s: float(op.score(np.array([state(
                    {**s, "logit": logit(current["i"], s["v"], s["earlier"])}, which)]),
                    stage2[FOLD.get(current["i"], "all")])[0])
            row(f"p >= {p}", per_example=hook)
    rs.OPENER, rs.SHIFT_TH = None, 2.0


def learning_curve():
    print("3. More training data (p >= 0.30): mean over 3 random subsets of the other 100")
    rs.LINK = rs.ELINK = "mean"
    rs.SHIFT_TH, rs.OPENER = 0.3, None
    op.CONTEXT = True
    rng = np.random.default_rng(0)
    rows = op.turns(*PARTS["tr"]) + op.turns(*PARTS["tc"])
    x = np.array([r[2] for r in rows])
    y = np.array([r[3] for r in rows], dtype=float)
    g = np.array([r[0] for r in rows])
    held = set(rng.choice(sorted(SETS["tc"][1]), 20, replace=False))
    pool = [i for i in TRAIN_IDS if i not in held]
    scored = {"dev": op.turns(*PARTS["dev"]), "tc held": [r for r in rows if r[0] in held]}
    for n in (40, 60, 80, 100):
        got = collections.defaultdict(list)
        for _ in range(3):
            chosen = set(rng.choice(pool, n, replace=False))
            keep = np.array([e in chosen for e in g])
            w = op.fit(x[keep], y[keep], 0.03)
            for name, part in (("dev", "dev"), ("tc held", "tc")):
                s = op.score(np.array([r[2] for r in scored[name]]), w)
                rs.SHIFT_P.clear()
                rs.SHIFT_P.update({(r[0], r[1]): p for r, p in zip(scored[name], s)})
                per, exs = SETS[part]
                a = [rs.ari(np.unique([t["cluster"] for t in exs[i]["turns"]],
                                      return_inverse=True)[1],
                            rs.replay(exs[i], per[i], 0.5, 0.3, 0.02, True))
                     for i in exs if part == "dev" or i in held]
                got[name].append(np.mean(a))
        print(f"  {n:3d} train conversations: dev {np.mean(got['dev']):.3f}  "
              f"tc held {np.mean(got['tc held']):.3f}", flush=True)
    rs.SHIFT_P.clear()


def second_model():
    print("4. The 0.5B's vector beside the 1.5B's, every opening given: a x cos(1.5B) + (1 - a) x cos(0.5B)")
    rs.ORACLE_OPEN, rs.LINK, rs.ELINK = True, "mean", "mean"
    small = {k: load(f"{D}/{k}05.jsonl", data)[0] for k, (_, data) in PARTS.items()}
    big = {k: SETS[k][0] for k in PARTS}
    for a in (0.75, 0.5, 0.0):
        for k in PARTS:  # unit vectors whose dot product mixes the two cosines
            SETS[k] = ({i: {t: np.concatenate([np.sqrt(a) * v, np.sqrt(1 - a) * small[k][i][t]])
                            for t, v in big[k][i].items()} for i in big[k]}, SETS[k][1])
        row(f"a = {a}")
    for k in PARTS:
        SETS[k] = (big[k], SETS[k][1])
    rs.ORACLE_OPEN = False


# A message that starts by announcing a return ("Back to the lease: ...", "Following up on ...")
RETURN_CUE = re.compile(r"^\W*(back (to|on)\b|going back\b|coming back\b|returning to\b|"
                        r"to return to\b|following up on\b|(a )?follow-up on\b|"
                        r"circling back\b|again on\b|once more on\b)", re.I)


def return_cue():
    print("5. A return cue: a message that announces a return skips the previous turn's topic")
    counts = collections.Counter()  # what the messages starting with the cue are, by label
    for part in PARTS:
        per, exs = SETS[part]
        for i, ex in exs.items():
            seen, prev = set(), None
            for v, t in user_turns(part, i):
                if RETURN_CUE.search(t["text"]):
                    counts[(part, "opening" if t["cluster"] not in seen else
                            "same topic" if t["cluster"] == prev else "return")] += 1
                seen.add(t["cluster"])
                prev = t["cluster"]
    for part in PARTS:
        print(f"  {part}: messages with the cue: " + ", ".join(
            f"{k} {counts[(part, k)]}" for k in ("return", "same topic", "opening")))
    rs.LINK = rs.ELINK = "mean"
    logit = probe_logit()
    current = {}

    def product(i):
        current["i"] = i
        rs.OPENER = lambda s: 1 / (1 + np.exp(-logit(current["i"], s["v"], s["earlier"])))
    for oracle in (True, False):
        rs.ORACLE_OPEN = oracle
        rs.SHIFT_TH = 0.3
        for cue in (None, lambda text: bool(RETURN_CUE.search(text))):
            rs.RETURN = cue
            row(("openings given" if oracle else "product, probe p >= 0.3") +
                (", return cue" if cue else ""), per_example=product)
    rs.RETURN, rs.ORACLE_OPEN, rs.OPENER, rs.SHIFT_TH = None, False, None, 2.0


if __name__ == "__main__":
    sections = {"1": choice_among_topics, "2": opening_with_state, "3": learning_curve,
                "4": second_model, "5": return_cue}
    for s in sys.argv[1:] or sorted(sections):
        sections[s]()
