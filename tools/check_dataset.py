#!/usr/bin/env python3
"""Authoring check for rdic dataset files (the C++ `rdic validate` is the authoritative one).

    python3 tools/check_dataset.py data/dev/*.json data/test/*.json data/test-long/*.json
Prints one line per problem and exits 1 if any.

v1 files get the v1 rules. v2 files (docs/dataset.md) add: assistant turns, fact questions with
accepted answers and lures, cross-topic questions, shared entities, long variants. The answer
normalisation here is the same as rdic's (src/evaluation/questions.cpp): lower case, thousands
separators dropped, every other non-alphanumeric character a space, runs of spaces folded; an
answer "occurs" in a text when its normalised form stands there between word boundaries.
"""
import json
import re
import sys

QUESTION_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")
ANSWER_TYPES = ("number", "date", "name", "code", "text")


def words_in(term, text):
    return re.search(r"(?<![\w])" + re.escape(term.lower()) + r"(?![\w])", text.lower()) is not None


def normalise(text):
    t = re.sub(r"[A-Z]+", lambda m: m.group().lower(), text)  # ASCII only, as rdic does
    t = re.sub(r"(?<=[0-9])[,'](?=[0-9]{3}(?![0-9]))", "", t)
    t = re.sub(r"[^0-9a-z]+", " ", t)
    return " ".join(t.split())


def occurs(answer, text):
    a = normalise(answer)
    return bool(a) and f" {a} " in f" {normalise(text)} "


def word_count(text):
    return len(text.split())


def check_questions(ex, bad, topics, text_of):
    questions = ex.get("questions")
    if not isinstance(questions, list) or not questions:
        bad("v2: questions[] missing or empty")
        return
    topic_ids = {c["id"] for c in topics}
    per_topic = {cid: 0 for cid in topic_ids}
    lured = 0
    n_cross = 0
    seen = set()
    for i, q in enumerate(questions):
        where = f"questions/{i} ({q.get('id')})"
        qid = q.get("id", "")
        if not isinstance(qid, str) or not QUESTION_ID.match(qid):
            bad(f"{where}: id must be lowercase letters, digits and '-'")
        if qid in seen:
            bad(f"{where}: duplicate question id")
        seen.add(qid)
        text = q.get("text", "")
        if not isinstance(text, str) or not text.strip() or len(text) > 400:
            bad(f"{where}: text must be 1-400 characters")
        if q.get("answer_type") not in ANSWER_TYPES:
            bad(f"{where}: answer_type must be one of {ANSWER_TYPES}")
        answers = q.get("answers")
        if not isinstance(answers, list) or not answers or \
                not all(isinstance(a, str) and normalise(a) for a in answers):
            bad(f"{where}: answers must be a non-empty list of non-empty strings")
            answers = []
        if any(len(a.split()) > 8 for a in answers):
            bad(f"{where}: an accepted answer is longer than 8 words (keep answers short)")
        kind = q.get("kind")
        if kind == "topic":
            cid = q.get("cluster")
            if cid not in topic_ids:
                bad(f"{where}: cluster {cid!r} is not a topic cluster")
                continue
            per_topic[cid] += 1
            if answers and not any(occurs(a, text_of[cid]) for a in answers):
                bad(f"{where}: no accepted answer occurs in cluster {cid}'s turns")
            lures = q.get("lures", [])
            if not isinstance(lures, list):
                bad(f"{where}: lures must be a list")
                continue
            if lures:
                lured += 1
            for j, lure in enumerate(lures):
                lw = f"{where}/lures/{j}"
                lc = lure.get("cluster")
                if lc not in topic_ids or lc == cid:
                    bad(f"{lw}: cluster {lc!r} must be another topic cluster")
                    continue
                la = lure.get("answers")
                if not isinstance(la, list) or not la or not all(isinstance(a, str) and normalise(a) for a in la):
                    bad(f"{lw}: answers must be a non-empty list of non-empty strings")
                    continue
                if not any(occurs(a, text_of[lc]) for a in la):
                    bad(f"{lw}: no lure answer occurs in cluster {lc}'s turns")
                for a in la:
                    if occurs(a, text_of[cid]):
                        bad(f"{lw}: lure answer '{a}' also occurs in the question's own cluster {cid}")
                    for acc in answers:
                        if occurs(a, acc) or occurs(acc, a):
                            bad(f"{lw}: lure answer '{a}' matches accepted answer '{acc}'")
                for acc in answers:
                    if occurs(acc, text_of[lc]):
                        bad(f"{lw}: accepted answer '{acc}' also occurs in the lure cluster {lc}")
        elif kind == "cross":
            n_cross += 1
            cs = q.get("clusters")
            if not isinstance(cs, list) or len(cs) < 2 or len(set(cs)) != len(cs) or \
                    any(c not in topic_ids for c in cs):
                bad(f"{where}: clusters must name >= 2 distinct topic clusters")
            if "lures" in q:
                bad(f"{where}: cross questions have no lures")
        else:
            bad(f"{where}: kind must be 'topic' or 'cross'")
    for cid, n in per_topic.items():
        if n < 3:
            bad(f"questions: cluster {cid} has {n} topic questions (want >= 3)")
    if n_cross < 1:
        bad("questions: no cross-topic question (want >= 1)")
    n_topic_q = sum(per_topic.values())
    if n_topic_q and lured * 2 < n_topic_q:
        bad(f"questions: only {lured} of {n_topic_q} topic questions have a lure (want >= half)")


def check(path, seen_ids):
    problems = []

    def bad(msg):
        problems.append(f"{path}: {msg}")
    try:
        ex = json.load(open(path, encoding="utf-8"))
    except Exception as e:  # noqa: BLE001
        return [f"{path}: not JSON: {e}"]
    fmt = ex.get("format")
    if fmt not in ("rdic.dataset/v1", "rdic.dataset/v2"):
        bad("format must be rdic.dataset/v1 or rdic.dataset/v2")
    v2 = fmt == "rdic.dataset/v2"
    long_variant = v2 and ex.get("length") == "long"
    if ex.get("id") in seen_ids:
        bad(f"duplicate id {ex.get('id')}")
    seen_ids.add(ex.get("id"))
    if ex.get("split") not in ("train", "dev", "test"):
        bad("split must be train, dev or test")
    if ex.get("order") not in ("block", "interleaved"):
        bad("order must be block or interleaved")
    if v2 and ex.get("length", "short") not in ("short", "long"):
        bad("length must be short or long")
    if long_variant and not ex.get("variant_of"):
        bad("a long variant names its short example in variant_of")
    clusters = {c["id"]: c for c in ex.get("clusters", [])}
    topics = [c for c in clusters.values() if c.get("kind") == "topic"]
    synth = [c for c in clusters.values() if c.get("kind") == "synthesis"]
    if not 2 <= len(topics) <= 4:
        bad(f"{len(topics)} topic clusters (want 2-4)")
    if len(synth) < 1:
        bad("no synthesis cluster")
    turns = ex.get("turns", [])
    lo, hi = (20, 120) if long_variant else (10, 24)
    if not lo <= len(turns) <= hi:
        bad(f"{len(turns)} turns (want {lo}-{hi})")
    text_of = {cid: " ".join(t["text"] for t in turns if t.get("cluster") == cid) for cid in clusters}
    prev_role = None
    for t in turns:
        if t.get("cluster") not in clusters:
            bad(f"turn {t.get('id')} names unknown cluster {t.get('cluster')}")
        default_type = "context" if t.get("role") == "assistant" else None
        if t.get("type", default_type) not in ("instruction", "context", "query"):
            bad(f"turn {t.get('id')} type {t.get('type')}")
        if not t.get("text", "").strip():
            bad(f"turn {t.get('id')} has no text")
        role = t.get("role", "user")
        if role not in ("user", "assistant") or (role == "assistant" and not v2):
            bad(f"turn {t.get('id')} role {role!r} (v1: user only; v2: user or assistant)")
        if role == "assistant":
            if t.get("type", "context") != "context":
                bad(f"turn {t.get('id')}: an assistant turn has type context")
            if prev_role == "assistant":
                bad(f"turn {t.get('id')}: two assistant turns in a row")
            if clusters.get(t.get("cluster"), {}).get("kind") != "topic":
                bad(f"turn {t.get('id')}: assistant turns belong to topic clusters")
        prev_role = role
    if turns and turns[0].get("role", "user") != "user":
        bad("the first turn is the user's")
    all_terms = {}
    for c in topics:
        terms = c.get("terminology", [])
        if not 10 <= len(terms) <= 25:
            bad(f"cluster {c['id']}: {len(terms)} terms (want 10-25)")
        for term in terms:
            key = term.lower()
            if key in all_terms and all_terms[key] != c["id"]:
                bad(f"term '{term}' in clusters {all_terms[key]} and {c['id']}")
            all_terms[key] = c["id"]
            if not words_in(term, text_of[c["id"]]):
                bad(f"cluster {c['id']}: term '{term}' not in its turns")
        canaries = c.get("canaries", [])
        if not 1 <= len(canaries) <= 3:
            bad(f"cluster {c['id']}: {len(canaries)} canaries (want 1-3)")
        for can in canaries:
            if can.lower() not in text_of[c["id"]].lower():
                bad(f"cluster {c['id']}: canary '{can}' not in its turns")
            for other, txt in text_of.items():
                if other != c["id"] and can.lower() in txt.lower():
                    bad(f"canary '{can}' of {c['id']} also in cluster {other}'s turns")
        if not c.get("reference_output", "").strip():
            bad(f"cluster {c['id']}: no reference_output")
    for c in topics:
        for term in c.get("terminology", []):
            for other in topics:
                if other is not c and words_in(term, text_of[other["id"]]):
                    bad(f"term '{term}' of {c['id']} appears in {other['id']}'s turns")
    if v2:
        # The prompted condition lists every topic's name: a name carrying terms would plant
        # them in every output that echoes the preamble.
        for c in clusters.values():
            for term, owner in all_terms.items():
                if words_in(term, c.get("name", "")):
                    bad(f"cluster {c['id']}: name contains term '{term}' (of {owner})")
        for e in ex.get("shared_entities", []):
            holders = [c["id"] for c in topics if e.lower() in text_of[c["id"]].lower()]
            if len(holders) < 2:
                bad(f"shared entity '{e}' occurs in {holders} (want >= 2 topic clusters)")
        check_questions(ex, bad, topics, text_of)
        total_words = sum(word_count(t.get("text", "")) for t in turns)
        if long_variant and total_words < 3300:
            bad(f"long variant has {total_words} words of turns (want >= 3300, about 4K tokens)")
    for s in synth:
        deps = s.get("depends_on", [])
        if not deps or any(d not in clusters for d in deps):
            bad(f"synthesis {s['id']}: depends_on {deps}")
        if not s.get("reference_output", "").strip():
            bad(f"synthesis {s['id']}: no reference_output")
        if not any(t.get("cluster") == s["id"] for t in turns):
            bad(f"synthesis {s['id']}: has no turn")
    for c in topics:
        if not any(t.get("cluster") == c["id"] for t in turns):
            bad(f"cluster {c['id']}: has no turn")
    return problems


def main():
    seen = set()
    problems = []
    for p in sys.argv[1:]:
        problems += check(p, seen)
    for line in problems:
        print(line)
    print(f"{len(sys.argv) - 1} files, {len(problems)} problems")
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
