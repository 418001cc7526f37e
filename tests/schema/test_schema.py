#!/usr/bin/env python3
"""The shipped JSON Schema accepts every shipped example and rejects broken ones.

Run by ctest (label unit) with the tools venv that scripts/setup.sh creates.
Prints 'N passed, N failed' and exits non-zero on any failure.
"""
import copy
import glob
import json
import os
import sys

import jsonschema

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
schema = json.load(open(os.path.join(ROOT, "docs/schema/rdic-dataset-v1.schema.json")))
jsonschema.Draft202012Validator.check_schema(schema)
validator = jsonschema.Draft202012Validator(schema)

passed = failed = 0


def check(name, ok):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
        print(f"FAILED: {name}")


files = sorted(glob.glob(os.path.join(ROOT, "data/dev/*.json")) +
               glob.glob(os.path.join(ROOT, "data/test/*.json")))
check("found the shipped dataset", len(files) >= 50)
for f in files:
    errors = list(validator.iter_errors(json.load(open(f, encoding="utf-8"))))
    check(f"{f} is valid: {[e.message for e in errors][:3]}", not errors)

base = json.load(open(files[0], encoding="utf-8"))


def broken(name, mutate):
    ex = copy.deepcopy(base)
    mutate(ex)
    check(f"schema rejects {name}", not validator.is_valid(ex))


broken("a wrong format tag", lambda e: e.update(format="rdic.dataset/v2"))
broken("a missing id", lambda e: e.pop("id"))
broken("an upper-case id", lambda e: e.update(id="Bad Id"))
broken("an unknown split", lambda e: e.update(split="train"))
broken("an unknown order", lambda e: e.update(order="random"))
broken("an unknown top-level field", lambda e: e.update(extra=1))
broken("clusters as an object", lambda e: e.update(clusters={}))
broken("an unknown cluster kind", lambda e: e["clusters"][0].update(kind="meta"))
broken("a topic without terminology", lambda e: e["clusters"][0].pop("terminology"))
broken("a synthesis without depends_on", lambda e: e["clusters"][-1].pop("depends_on"))
broken("a turn without text", lambda e: e["turns"][0].pop("text"))
broken("a blank turn text", lambda e: e["turns"][0].update(text="   "))
broken("a string turn id", lambda e: e["turns"][0].update(id="1"))
broken("an unknown turn type", lambda e: e["turns"][0].update(type="answer"))

print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
