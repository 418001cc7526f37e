#!/usr/bin/env python3
"""Quick authoring check for rdic.dataset/v1 files (the C++ `rdic validate` is the real one).

    python3 tools/check_dataset.py data/dev/*.json data/test/*.json
Prints one line per problem and exits 1 if any.
"""
import json
import re
import sys


def words_in(term, text):
    return re.search(r"(?<![\w])" + re.escape(term.lower()) + r"(?![\w])", text.lower()) is not None


def check(path, seen_ids):
    problems = []
    def bad(msg):
        problems.append(f"{path}: {msg}")
    try:
        ex = json.load(open(path, encoding="utf-8"))
    except Exception as e:  # noqa: BLE001
        return [f"{path}: not JSON: {e}"]
    if ex.get("format") != "rdic.dataset/v1":
        bad("format must be rdic.dataset/v1")
    if ex.get("id") in seen_ids:
        bad(f"duplicate id {ex.get('id')}")
    seen_ids.add(ex.get("id"))
    if ex.get("split") not in ("dev", "test"):
        bad("split must be dev or test")
    if ex.get("order") not in ("block", "interleaved"):
        bad("order must be block or interleaved")
    clusters = {c["id"]: c for c in ex.get("clusters", [])}
    topics = [c for c in clusters.values() if c.get("kind") == "topic"]
    synth = [c for c in clusters.values() if c.get("kind") == "synthesis"]
    if not 2 <= len(topics) <= 4:
        bad(f"{len(topics)} topic clusters (want 2-4)")
    if len(synth) < 1:
        bad("no synthesis cluster")
    turns = ex.get("turns", [])
    if not 10 <= len(turns) <= 20:
        bad(f"{len(turns)} turns (want 10-20)")
    text_of = {cid: " ".join(t["text"] for t in turns if t.get("cluster") == cid) for cid in clusters}
    for t in turns:
        if t.get("cluster") not in clusters:
            bad(f"turn {t.get('id')} names unknown cluster {t.get('cluster')}")
        if t.get("type") not in ("instruction", "context", "query"):
            bad(f"turn {t.get('id')} type {t.get('type')}")
        if not t.get("text", "").strip():
            bad(f"turn {t.get('id')} has no text")
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
