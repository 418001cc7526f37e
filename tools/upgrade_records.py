#!/usr/bin/env python3
"""Upgrades a results directory written before record schema 1 (config.json, results.jsonl,
metrics.jsonl; docs/experiment.md) so that `rdic report` and `rdic eval` read it.

    python3 tools/upgrade_records.py DIR [--data-root ROOT]

What changes: every record gets "schema": 1; each results record's "file" (stored relative to the
working directory of the run) becomes relative to DIR, with "file_absolute" added (ROOT, default
the current directory, is the run's working directory); a successful record without "answers" (the
old writer left out an empty list) gets "answers": []; config.json's "data" strings become
{"relative", "absolute"} pairs; a run configuration without "question_wording" (written before
the wording was recorded, when every question offered "unknown") gets "value-or-unknown", in
config.json and in each results record, also in a directory already at schema 1. With
--model-dir DIR, a model identity without "path" (written before the path was recorded) gets
DIR/<its file>, where that run loaded its model from. With --early-config (only for runs made
before 2026-11-26 02:33 UTC, when rdic had no questions, no clustering choice and one KV layout),
a run configuration without those fields gets what that code did: "questions": false,
"answer_tokens": 0, "kv_layout": "unified", "clusters": "labels", "cluster_parameters": {}; and
each results record without them gets "kv": {"layout": "unified"} and "timing": {"questions_ms":
0} (no question was asked). Outputs without "prompt_copy_share" stay without it: rdic reads that
as not measured (the report says n/a).
Nothing else is
filled in: a record that lacks any other field the
reader requires stays as it is, and rdic names it when it reads the directory.
The originals are kept as FILE.pre-schema1 or FILE.pre-wording (--no-backup: not).
"""
import argparse
import gzip
import json
import os
import shutil
import sys


def open_text(path):
    return gzip.open(path, "rt", encoding="utf-8") if path.endswith(".gz") else open(path, encoding="utf-8")


def write_text(path, text):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "wt", encoding="utf-8") as f:
        f.write(text)


def find(d, name):
    for candidate in (name, name + ".gz"):
        p = os.path.join(d, candidate)
        if os.path.exists(p):
            return p
    return None


def stored(d, root, file):
    absolute = os.path.normpath(file if os.path.isabs(file) else os.path.join(root, file))
    return os.path.relpath(absolute, os.path.abspath(d)), absolute


def add_wording(config):
    """Runs before the question wording was recorded all asked with "value-or-unknown"."""
    if isinstance(config, dict) and "question_wording" not in config:
        config["question_wording"] = "value-or-unknown"
        return True
    return False


def add_model_path(record, model_dir):
    """Model identities written before the path was recorded: DIR/file, only when asked."""
    m = record.get("model") if isinstance(record, dict) else None
    if model_dir and isinstance(m, dict) and "path" not in m and isinstance(m.get("file"), str):
        m["path"] = os.path.join(model_dir, m["file"])
        return True
    return False


EARLY_CONFIG = {"questions": False, "answer_tokens": 0, "kv_layout": "unified",
                "clusters": "labels", "cluster_parameters": {}}


def add_early_config(config, early):
    """What the code of 2026-11-26 before 02:33 UTC did, for the fields it did not record."""
    if not early or not isinstance(config, dict):
        return False
    missing = {k: v for k, v in EARLY_CONFIG.items() if k not in config}
    config.update(missing)
    return bool(missing)


def upgrade(d, root, backup, model_dir=None, early=False):
    changed = []
    cfg = find(d, "config.json")
    if cfg:
        c = json.load(open_text(cfg))
        if (add_wording(c.get("config")) | add_model_path(c, model_dir)
                | add_early_config(c.get("config"), early)) and "schema" in c:
            if backup:
                shutil.copy(cfg, cfg + ".pre-wording")
            write_text(cfg, json.dumps(c, indent=2) + "\n")
            changed.append(cfg)
        if "schema" not in c:
            data = []
            for f in c.get("data", []):
                rel, ab = stored(d, root, f) if isinstance(f, str) else (f["relative"], f["absolute"])
                data.append({"relative": rel, "absolute": ab})
            c = {"schema": 1, **c, "data": data}
            if backup:
                shutil.copy(cfg, cfg + ".pre-schema1")
            write_text(cfg, json.dumps(c, indent=2) + "\n")
            changed.append(cfg)
    for name, is_results in (("results.jsonl", True), ("metrics.jsonl", False)):
        p = find(d, name)
        if not p:
            continue
        out, touched = [], False
        for line in open_text(p):
            if not line.strip():
                continue
            try:
                r = json.loads(line)
            except json.JSONDecodeError:
                continue  # a torn line of a killed write: dropped, as the next writer would
            if is_results and add_wording(r.get("config")):
                touched = True
            if add_model_path(r, model_dir):
                touched = True
            if is_results and add_early_config(r.get("config"), early):
                touched = True
            if is_results and early and r.get("status") == "ok":
                kv, timing = r.get("kv"), r.get("timing")
                if isinstance(kv, dict) and "layout" not in kv:
                    kv["layout"] = "unified"
                    touched = True
                if isinstance(timing, dict) and "questions_ms" not in timing:
                    timing["questions_ms"] = 0.0
                    touched = True
            if "schema" not in r:
                touched = True
                r = {"schema": 1, **r}
                if is_results:
                    rel, ab = stored(d, root, r.get("file", ""))
                    r["file"], r["file_absolute"] = rel, ab
                    if r.get("status") == "ok" and "answers" not in r:
                        r["answers"] = []
            out.append(json.dumps(r, ensure_ascii=False, separators=(",", ":")))
        if touched:
            if backup:
                shutil.copy(p, p + ".pre-schema1")
            write_text(p, "\n".join(out) + "\n")
            changed.append(p)
    return changed


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dirs", nargs="+")
    ap.add_argument("--data-root", default=os.getcwd(), help="the run's working directory")
    ap.add_argument("--no-backup", action="store_true", help="do not keep FILE.pre-schema1")
    ap.add_argument("--model-dir", help="fill a model identity's missing path as DIR/<file>")
    ap.add_argument("--early-config", action="store_true",
                    help="runs made before 2026-11-26 02:33 UTC: fill the fields that code lacked")
    a = ap.parse_args()
    for d in a.dirs:
        changed = upgrade(d, os.path.abspath(a.data_root), not a.no_backup, a.model_dir, a.early_config)
        print(f"{d}: " + (", ".join(os.path.basename(c) for c in changed) or "already schema 1"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
