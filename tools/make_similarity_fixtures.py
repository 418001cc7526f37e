#!/usr/bin/env python3
"""Reference values for rdic's C++ similarity metrics (ROUGE, BLEU, chrF).

    ~/.cache/rdic/venv-*/bin/python tools/make_similarity_fixtures.py [--out PATH]

Builds (hypothesis, reference) pairs from the shipped dataset (reference outputs and turn texts of
data/dev and data/test) with seeded perturbations plus hand-written edge cases, scores each pair
with the reference implementations (rouge-score's RougeScorer(['rouge1', 'rouge2', 'rougeL'],
use_stemmer=False); sacreBLEU's sentence_bleu, corpus_bleu, sentence_chrf, corpus_chrf with their
defaults), and writes tests/data/similarity_fixtures.json. The output is deterministic: the same
dataset and package versions give the same bytes. The C++ unit test reads the file; it never runs
Python.

Pairs whose texts are not valid UTF-8 (kind "bytes") hold hex strings and set "hex": true; the
reference implementations see them decoded with Python's surrogateescape handler (one code point
per undecodable byte), which is the behaviour rdic documents for ill-formed UTF-8.
"""
import argparse
import glob
import json
import os
import random
import sys
from importlib.metadata import version

import sacrebleu
from rouge_score import rouge_scorer
from rouge_score import tokenize as rouge_tokenize
from sacrebleu.metrics import BLEU, CHRF

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SEED = 20240611
PINNED = {"sacrebleu": "2.6.0", "rouge-score": "0.1.2"}

# Text the perturbations splice in: everything a tokenizer can get wrong.
NON_ASCII = [
    "café — naïve 東京", "Straße", "Ångström", "İstanbul", "\u212Aelvin", "résumé", "🙂",
    "👩\u200d💻", "ＡＢＣ１２３", "٣ apples", "ﬁnal", "Σίσυφος", "e\u0301clair", "Zürich–Genève",
    "“quoted”", "‘single’", "…", "±5 °C", "µs", "naïve\u00a0text", "line\u2028break",
    "東京タワー", "한국어", "Ελληνικά", "ÀÉÎÕÜ",
]
NUMBERS = [
    "3.5%", "$1,200", "1,200.50", "-4", "10-12", "2024-05-01", "3.14", "1.5x", "0.25", "€40",
    "12:30", "v2.6.0", "1e-6", "100,000", "(42)", "#7", "50/50", "5.", ",5", "1.2.3",
]
PUNCT = [",", ".", "!", "?", ";", ":", "...", "(", ")", '"', "'", "-", "--", "/", "[", "]",
         "{", "}", "&", "*", "+", "=", "<", ">", "@", "^", "_", "`", "|", "~", "\\", "%", "$", "#"]
CONTRACTIONS = [("do not", "don't"), ("it is", "it's"), ("cannot", "can't"), ("we will", "we'll"),
                ("they are", "they're"), ("is not", "isn't"), ("will not", "won't")]
ENTITIES = ["&amp;", "&lt;", "&gt;", "&quot;", "&amp;lt;", "AT&T", "<skipped>", "R&D", "&nbsp;"]
SPACES = ["  ", "\t", "\n", "\r\n", " \u00a0", "\u2003", "\u3000", "\x1c", "\x85", "\u2029",
          "-\n", "\u200b"]
SYNONYMS = {"the": "a", "and": "plus", "with": "using", "plan": "proposal", "week": "weeks",
            "data": "information", "should": "must", "each": "every", "risk": "hazard",
            "team": "group", "cost": "price", "first": "initial", "review": "audit"}


def load_texts():
    refs, turns = [], []
    for path in sorted(glob.glob(os.path.join(ROOT, "data", "dev", "*.json"))) + \
            sorted(glob.glob(os.path.join(ROOT, "data", "test", "*.json"))):
        with open(path, encoding="utf-8") as f:
            ex = json.load(f)
        for c in ex["clusters"]:
            refs.append((f"{ex['id']}/{c['id']}", c["reference_output"]))
        for t in ex["turns"]:
            turns.append((f"{ex['id']}/turn-{t['id']}", t["text"]))
    return refs, turns


# ---- perturbations: each takes (rng, list of words, donor words) and returns words -------------

def drop_words(rng, w, donor):
    rate = rng.choice([0.05, 0.15, 0.3, 0.5])
    kept = [x for x in w if rng.random() >= rate]
    return kept or w[:1]


def swap_words(rng, w, donor):
    w = list(w)
    for _ in range(max(1, len(w) // rng.choice([5, 10, 20]))):
        if len(w) < 2:
            break
        i = rng.randrange(len(w) - 1)
        w[i], w[i + 1] = w[i + 1], w[i]
    return w


def insert_words(rng, w, donor):
    w = list(w)
    for _ in range(rng.randint(1, max(1, len(w) // 8))):
        w.insert(rng.randrange(len(w) + 1), rng.choice(donor))
    return w


def change_case(rng, w, donor):
    mode = rng.choice(["upper", "lower", "title", "random"])
    if mode == "upper":
        return [x.upper() for x in w]
    if mode == "lower":
        return [x.lower() for x in w]
    if mode == "title":
        return [x.title() for x in w]
    return [x.upper() if rng.random() < 0.2 else x for x in w]


def punctuation(rng, w, donor):
    out = []
    for x in w:
        r = rng.random()
        if r < 0.1:
            out.append(x + rng.choice(PUNCT))
        elif r < 0.15:
            out.append(rng.choice(PUNCT) + x)
        elif r < 0.25:
            out.append(x.strip(".,;:!?"))
        elif r < 0.28:
            out.append(rng.choice(PUNCT))
            out.append(x)
        else:
            out.append(x)
    return out


def numbers(rng, w, donor):
    w = list(w)
    for _ in range(rng.randint(1, 4)):
        w.insert(rng.randrange(len(w) + 1), rng.choice(NUMBERS))
    digits = [i for i, x in enumerate(w) if any(ch.isdigit() for ch in x)]
    for i in digits[: rng.randint(0, 3)]:
        w[i] = rng.choice(NUMBERS)
    return w


def hyphenate(rng, w, donor):
    out, i = [], 0
    while i < len(w):
        if i + 1 < len(w) and rng.random() < 0.15:
            out.append(w[i] + rng.choice(["-", "–", "-"]) + w[i + 1])
            i += 2
        else:
            out.extend(w[i].split("-") if rng.random() < 0.5 else [w[i]])
            i += 1
    return out


def contractions(rng, w, donor):
    text = " ".join(w)
    for long, short in CONTRACTIONS:
        if rng.random() < 0.5:
            text = text.replace(long, short)
        else:
            text = text.replace(short, long)
    w = text.split(" ")
    for _ in range(rng.randint(1, 3)):
        w.insert(rng.randrange(len(w) + 1), rng.choice([c[1] for c in CONTRACTIONS] + ["O'Brien",
                                                        "rock'n'roll", "'90s", "users'"]))
    return w


def non_ascii(rng, w, donor):
    w = list(w)
    for _ in range(rng.randint(1, 5)):
        w.insert(rng.randrange(len(w) + 1), rng.choice(NON_ASCII))
    return w


def entities(rng, w, donor):
    w = list(w)
    for _ in range(rng.randint(1, 3)):
        w.insert(rng.randrange(len(w) + 1), rng.choice(ENTITIES))
    return w


def synonyms(rng, w, donor):
    return [SYNONYMS.get(x, x) if rng.random() < 0.7 else x for x in w]


def truncate(rng, w, donor):
    return w[: max(1, int(len(w) * rng.choice([0.2, 0.5, 0.8])))]


def extend(rng, w, donor):
    return w + donor[: rng.randint(3, 40)]


def reorder_sentences(rng, w, donor):
    sents, cur = [], []
    for x in w:
        cur.append(x)
        if x.endswith("."):
            sents.append(cur)
            cur = []
    if cur:
        sents.append(cur)
    rng.shuffle(sents)
    return [x for s in sents for x in s]


PERTURBATIONS = [drop_words, swap_words, insert_words, change_case, punctuation, numbers,
                 hyphenate, contractions, non_ascii, entities, synonyms, truncate, extend,
                 reorder_sentences]


def join_words(rng, w):
    """Joins words mostly with spaces, sometimes with other whitespace."""
    if rng.random() < 0.7:
        return " ".join(w)
    out = []
    for i, x in enumerate(w):
        if i:
            out.append(rng.choice(SPACES) if rng.random() < 0.1 else " ")
        out.append(x)
    text = "".join(out)
    if rng.random() < 0.3:
        text = rng.choice(["", " ", "\n", "  \t"]) + text + rng.choice([" ", "\n", "\t\u00a0", ""])
    return text


def perturb(rng, text, donor_text, n_ops):
    words = text.split(" ")
    donor = donor_text.split(" ")
    ops = rng.sample(PERTURBATIONS, n_ops)
    for op in ops:
        words = op(rng, words, donor)
    return join_words(rng, words), [op.__name__ for op in ops]


# Pieces of random strings: every character class the tokenizers treat specially.
RANDOM_PIECES = list("abcAB019.,-&;<>\"'()/:@[]{}~`|_^!?#$%*+= \n\t\r") + [
    "&amp;", "&lt;", "&gt;", "&quot;", "<skipped>", "-\n", "\u00a0", "\x1c", "\x85", "\u2028",
    "\u3000", "é", "東", "İ", "\u212A", "🙂", "\u0307", "ß", "Σ", "٣", "\u200b", "word", "the"]


def random_string(rng):
    return "".join(rng.choice(RANDOM_PIECES) for _ in range(rng.randint(0, 40)))


def edge_cases():
    """Hand-written pairs: (id, hypothesis, reference)."""
    long_a = " ".join(f"word{i % 97} item{i % 13}." for i in range(1500))
    long_b = " ".join(f"word{i % 89} item{i % 13}," for i in range(1400))
    return [
        ("empty-hypothesis", "", "The plan covers three sites."),
        ("empty-reference", "The plan covers three sites.", ""),
        ("both-empty", "", ""),
        ("whitespace-only-hypothesis", " \t\n\u00a0", "The plan covers three sites."),
        ("whitespace-only-reference", "The plan covers three sites.", "\u3000 \n"),
        ("identical", "The plan covers three sites in 2024.", "The plan covers three sites in 2024."),
        ("identical-one-word", "cutover", "cutover"),
        ("one-word-different", "cutover", "rollback"),
        ("one-word-vs-sentence", "plan", "The plan covers three sites."),
        ("sentence-vs-one-word", "The plan covers three sites.", "plan"),
        ("two-words", "cutover window", "window cutover"),
        ("three-words", "the cutover window", "the cutover window closes"),
        ("disjoint", "alpha beta gamma delta", "epsilon zeta eta theta"),
        ("case-only", "THE PLAN COVERS THREE SITES", "the plan covers three sites"),
        ("punctuation-only", "!!! ... ,,, ???", "... !!! ;;;"),
        ("punctuation-vs-words", "... --- !!!", "The plan."),
        ("numbers", "Revenue rose 3.5% to $1,200 on 2024-05-01 (10-12 units).",
         "Revenue rose 3.5 % to $ 1,200 on 2024 - 05 - 01 (10 - 12 units)."),
        ("number-commas", "1,000,000 and 1.000.000 and 1,5 and ,5 and 5, and 5.",
         "1,000,000 and 1.000.000 and 1,5 and 0,5 and 5 , and 5 ."),
        ("decimal-edge", "a.b,c 1.b a.1 1,a a,1 .5 5. ..5 5..", "a . b , c 1.b a.1 1,a a,1"),
        ("hyphens", "state-of-the-art follow-up 10-12 -5 well--known - x-ray",
         "state of the art follow up 10 - 12 - 5 well known x ray"),
        ("contractions", "Don't panic, it's fine; we'll see. O'Brien's rock'n'roll '90s users'",
         "Do not panic, it is fine; we will see. O'Brien's rock'n'roll 90s users"),
        ("non-ascii-mixed", "café — naïve 東京", "cafe - naive Tokyo"),
        ("non-ascii-identical", "café — naïve 東京", "café — naïve 東京"),
        ("cjk-only", "東京タワーは高い", "東京スカイツリーは高い"),
        ("emoji", "ship it 🚀🚀 today 👩\u200d💻", "ship it 🚀 today 👩"),
        ("turkish-dotted-i", "İstanbul İİ Aİb", "istanbul i i ai b"),
        ("kelvin-sign", "\u212Aelvin 5\u212A", "kelvin 5k"),
        ("combining-marks", "e\u0301clair cafe\u0301", "éclair café"),
        ("unicode-whitespace", "a\u00a0b\u2003c\u3000d\u2028e\u2029f\x85g\x1ch\x1di\x1ej\x1fk",
         "a b c d e f g h i j k"),
        ("zero-width-not-space", "a\u200bb c\ufeffd", "ab cd"),
        ("newlines-and-hyphen-break", "the cut-\nover window\nopens\r\nat noon-\n",
         "the cutover window opens at noon"),
        ("skipped-marker", "the <skipped> window <skipped>opens", "the window opens"),
        ("html-entities", "AT&amp;T &lt;b&gt; &quot;q&quot; &amp;lt; &amp;amp; R&D &nbsp;",
         "AT&T <b> \"q\" &lt; &amp; R&D"),
        ("trailing-whitespace", "The plan covers three sites.   \n\t\u00a0",
         "  The plan covers three sites."),
        ("tabs-and-runs", "The\tplan\t\tcovers   three\n\nsites.", "The plan covers three sites."),
        ("repeated-words", "the the the the the the", "the cat sat on the mat the end"),
        ("repeated-bigrams", "a b a b a b a b", "a b a b c"),
        ("short-hyp-brevity", "the plan", "the plan covers three sites across two regions"),
        ("long-hyp", "the plan covers three sites across two regions and then some more words "
         "that go on and on", "the plan covers three sites"),
        ("symbols-13a", "x{y}z[a]b(c)d<e>f@g#h$i%j^k&l*m+n=o|p\\q/r~s`t_u:v;w?\"'!",
         "x y z a b c d e f g h i j k l m n o p q r s t u v w"),
        ("fullwidth", "ＡＢＣ １２３ ａｂｃ", "ABC 123 abc"),
        ("greek-final-sigma", "ΟΔΥΣΣΕΥΣ Σίσυφος", "οδυσσευς σίσυφος"),
        ("ligature", "ﬁnal ﬂow", "final flow"),
        ("long-texts", long_a, long_b),
        ("long-vs-short", long_a, "word1 item1. word2 item2."),
    ]


def byte_cases():
    """Pairs with ill-formed UTF-8: (id, hypothesis bytes, reference bytes)."""
    return [
        ("invalid-lone-continuation", b"caf\xa9 plan \x85x", b"caf\xc3\xa9 plan x"),
        ("invalid-truncated-sequences", b"plan \xe2\x82 week \xf0\x9f\x98 end",
         b"plan week end \xe2\x82"),
        ("invalid-overlong-and-surrogate", b"a\xc0\xaf b \xed\xa0\x80 c \xf4\x90\x80\x80 d",
         b"a/ b c d"),
        ("invalid-lead-before-space-char", b"x\xe2\xe2\x80\x80y \xc2\xc2\xa0z", b"x y z"),
    ]


def build_pairs():
    rng = random.Random(SEED)
    refs, turns = load_texts()
    pairs = []
    # 1. Each reference output against a perturbed copy of itself (1-4 perturbations); a fifth
    #    of the references are perturbed too, so non-ASCII and odd spacing appear on both sides.
    for i, (rid, ref) in enumerate(refs):
        donor = refs[(i + 7) % len(refs)][1]
        hyp, ops = perturb(rng, ref, donor, rng.randint(1, 4))
        kind = "perturbed-reference-output"
        if rng.random() < 0.2:
            ref, rops = perturb(rng, ref, donor, 1)
            ops = ops + ["reference:" + o for o in rops]
            kind = "perturbed-both"
        pairs.append({"id": f"{rid}#{i}", "kind": kind, "perturbations": ops,
                      "hypothesis": hyp, "reference": ref})
    # 2. Turn texts as references (shorter, conversational) with perturbed hypotheses.
    for j in range(40):
        tid, text = turns[rng.randrange(len(turns))]
        donor = turns[rng.randrange(len(turns))][1]
        hyp, ops = perturb(rng, text, donor, rng.randint(1, 3))
        pairs.append({"id": f"{tid}#t{j}", "kind": "perturbed-turn", "perturbations": ops,
                      "hypothesis": hyp, "reference": text})
    # 3. Another cluster's reference output as the hypothesis (wrong topic: low overlap).
    for k in range(25):
        a, b = rng.sample(range(len(refs)), 2)
        pairs.append({"id": f"{refs[a][0]}~{refs[b][0]}", "kind": "other-reference",
                      "perturbations": [], "hypothesis": refs[a][1], "reference": refs[b][1]})
    # 4. Random strings of tokenizer-relevant pieces (half share a prefix).
    for m in range(40):
        hyp, ref = random_string(rng), random_string(rng)
        if m % 2:
            ref = hyp[: len(hyp) // 2] + ref
        pairs.append({"id": f"random-{m}", "kind": "random-symbols", "perturbations": [],
                      "hypothesis": hyp, "reference": ref})
    # 5. Hand-written edge cases.
    for eid, hyp, ref in edge_cases():
        pairs.append({"id": eid, "kind": "edge", "perturbations": [], "hypothesis": hyp,
                      "reference": ref})
    for eid, hyp, ref in byte_cases():
        pairs.append({"id": eid, "kind": "bytes", "perturbations": [], "hex": True,
                      "hypothesis": hyp.hex(), "reference": ref.hex()})
    return pairs


def text_of(pair, key):
    if pair.get("hex"):
        return bytes.fromhex(pair[key]).decode("utf-8", "surrogateescape")
    return pair[key]


def rouge_dict(score):
    return {"precision": score.precision, "recall": score.recall, "fmeasure": score.fmeasure}


def score_pairs(pairs):
    scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"], use_stemmer=False)
    chrf_metric = CHRF()
    for p in pairs:
        hyp, ref = text_of(p, "hypothesis"), text_of(p, "reference")
        r = scorer.score(ref, hyp)  # rouge-score takes (target, prediction)
        p["rouge"] = {k: rouge_dict(r[k]) for k in ("rouge1", "rouge2", "rougeL")}
        b = sacrebleu.sentence_bleu(hyp, [ref])
        p["sentence_bleu"] = {"score": b.score, "counts": b.counts, "totals": b.totals,
                              "sys_len": b.sys_len, "ref_len": b.ref_len}
        p["sentence_chrf"] = {
            "score": sacrebleu.sentence_chrf(hyp, [ref]).score,
            # [hyp n-grams, ref n-grams, matches] per character order 1..6
            "stats": [int(x) for x in chrf_metric._extract_corpus_statistics([hyp], [[ref]])[0]],
        }
    return pairs


def corpus_entry(hyps, refs):
    bleu = BLEU()
    b = bleu.corpus_score(hyps, [refs])
    chrf = CHRF()
    c = chrf.corpus_score(hyps, [refs])
    return {
        "n_pairs": len(hyps),
        "bleu": {"score": b.score, "counts": b.counts, "totals": b.totals, "sys_len": b.sys_len,
                 "ref_len": b.ref_len, "formatted": b.format(signature=str(bleu.get_signature()))},
        "chrf": {"score": c.score, "formatted": c.format(signature=str(chrf.get_signature()))},
    }


def signatures():
    sent = BLEU(effective_order=True)
    sent.sentence_score("a", ["a"])
    corp = BLEU()
    corp.corpus_score(["a"], [["a"]])
    chrf = CHRF()
    chrf.corpus_score(["a"], [["a"]])
    return {"sentence_bleu": str(sent.get_signature()), "corpus_bleu": str(corp.get_signature()),
            "chrf": str(chrf.get_signature())}


def unicode_tables():
    """What the reference implementations do with every code point (checked exhaustively)."""
    scalars = [c for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF]
    return {
        # Python's str.split()/rstrip() whitespace, used by sacreBLEU (13a joins, chrF removal).
        "python_whitespace": [c for c in scalars if chr(c).isspace()],
        # rouge-score's tokens of all non-ASCII scalars separated by spaces: only those whose
        # str.lower() contains ASCII letters or digits survive.
        "rouge_tokens_of_all_non_ascii": rouge_tokenize.tokenize(
            " ".join(chr(c) for c in scalars if c >= 0x80), None),
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=os.path.join(ROOT, "tests", "data",
                                                  "similarity_fixtures.json"))
    args = ap.parse_args()
    versions = {name: version(name) for name in PINNED}
    if versions != PINNED:
        sys.exit(f"need {PINNED} (tools/requirements.txt), found {versions}")

    pairs = score_pairs(build_pairs())
    hyps = [text_of(p, "hypothesis") for p in pairs]
    refs = [text_of(p, "reference") for p in pairs]
    corpus = {"all": corpus_entry(hyps, refs)}
    for kind in sorted({p["kind"] for p in pairs}):
        idx = [i for i, p in enumerate(pairs) if p["kind"] == kind]
        corpus[kind] = corpus_entry([hyps[i] for i in idx], [refs[i] for i in idx])
    out = {
        "generator": "tools/make_similarity_fixtures.py",
        "seed": SEED,
        "versions": versions,
        "settings": {
            "rouge": "RougeScorer(['rouge1', 'rouge2', 'rougeL'], use_stemmer=False)",
            "sentence_bleu": "sacrebleu.sentence_bleu(hyp, [ref]) (defaults)",
            "corpus_bleu": "sacrebleu.metrics.BLEU().corpus_score(hyps, [refs]) (defaults)",
            "chrf": "sacrebleu.sentence_chrf / CHRF().corpus_score (defaults)",
        },
        "signatures": signatures(),
        "unicode": unicode_tables(),
        "corpus": corpus,
        "pairs": pairs,
    }
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump(out, f, ensure_ascii=False, indent=1)
        f.write("\n")
    print(f"{args.out}: {len(pairs)} pairs, corpus BLEU {corpus['all']['bleu']['score']:.4f}, "
          f"chrF {corpus['all']['chrf']['score']:.4f}")


if __name__ == "__main__":
    main()
