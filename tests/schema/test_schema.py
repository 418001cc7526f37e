#!/usr/bin/env python3
"""The shipped JSON Schemas accept every shipped example and reject broken ones.

Each file is checked against the schema of its own `format` (rdic.dataset/v1 or v2), so the
dataset may hold both while it is being converted. Run by ctest (label unit) with the tools venv
that scripts/setup.sh creates. Prints 'N passed, N failed' and exits non-zero on any failure.
"""
import copy
import glob
import json
import os
import sys

import jsonschema

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MIN_SHIPPED = 50  # examples in data/dev + data/test
MAX_QUESTION_CHARS = 400


def load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


validators = {}
for version in ("v1", "v2"):
    schema = load(os.path.join(ROOT, f"docs/schema/rdic-dataset-{version}.schema.json"))
    jsonschema.Draft202012Validator.check_schema(schema)
    validators[f"rdic.dataset/{version}"] = jsonschema.Draft202012Validator(schema)
V1 = validators["rdic.dataset/v1"]
V2 = validators["rdic.dataset/v2"]

passed = failed = 0


def check(name, ok):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
        print(f"FAILED: {name}")


# ---- the shipped dataset, each file against the schema its format names ------------------------

shipped = sorted(glob.glob(os.path.join(ROOT, "data/dev/*.json")) +
                 glob.glob(os.path.join(ROOT, "data/test/*.json")))
long_variants = sorted(glob.glob(os.path.join(ROOT, "data/test-long/*.json")))
train = sorted(glob.glob(os.path.join(ROOT, "data/train/*.json")))  # routing training data (v1)
check("found the shipped dataset", len(shipped) >= MIN_SHIPPED)
check("found the train split", len(train) >= 35)
for f in shipped + long_variants + train:
    ex = load(f)
    validator = validators.get(ex.get("format"))
    if validator is None:
        check(f"{f} has a known format, not {ex.get('format')!r}", False)
        continue
    errors = list(validator.iter_errors(ex))
    check(f"{f} is valid: {[e.message for e in errors][:3]}", not errors)
for f in long_variants:
    ex = load(f)
    check(f"{f} is a v2 long variant", ex.get("format") == "rdic.dataset/v2" and
          ex.get("length") == "long")

# ---- broken examples: each mutation of a valid base is rejected ---------------------------------

v1_base = load(os.path.join(ROOT, "tests/data/native_small.json"))
v2_base = load(os.path.join(ROOT, "tests/data/native_v2_small.json"))
check("the v1 base is valid v1", V1.is_valid(v1_base))
check("the v2 base is valid v2", V2.is_valid(v2_base))
check("a v1 example is not valid v2", not V2.is_valid(v1_base))
check("a v2 example is not valid v1", not V1.is_valid(v2_base))


def broken(validator, base, name, mutate):
    ex = copy.deepcopy(base)
    mutate(ex)
    check(f"schema rejects {name}", not validator.is_valid(ex))


def accepted(validator, base, name, mutate):
    ex = copy.deepcopy(base)
    mutate(ex)
    errors = [e.message for e in validator.iter_errors(ex)]
    check(f"schema accepts {name}: {errors[:3]}", not errors)


def v1(name, mutate):
    broken(V1, v1_base, f"v1: {name}", mutate)


v1("a wrong format tag", lambda e: e.update(format="rdic.dataset/v2"))
v1("a missing id", lambda e: e.pop("id"))
v1("an upper-case id", lambda e: e.update(id="Bad Id"))
v1("an unknown split", lambda e: e.update(split="validation"))
v1("an unknown order", lambda e: e.update(order="random"))
v1("an unknown top-level field", lambda e: e.update(extra=1))
v1("v2's questions", lambda e: e.update(questions=copy.deepcopy(v2_base["questions"])))
v1("clusters as an object", lambda e: e.update(clusters={}))
v1("an unknown cluster kind", lambda e: e["clusters"][0].update(kind="meta"))
v1("a topic without terminology", lambda e: e["clusters"][0].pop("terminology"))
v1("a synthesis without depends_on", lambda e: e["clusters"][1].pop("depends_on"))
v1("a turn without text", lambda e: e["turns"][0].pop("text"))
v1("a blank turn text", lambda e: e["turns"][0].update(text="   "))
v1("a string turn id", lambda e: e["turns"][0].update(id="1"))
v1("an unknown turn type", lambda e: e["turns"][0].update(type="answer"))
v1("a turn role", lambda e: e["turns"][0].update(role="assistant"))

# In the v2 base, questions 0 (db-budget, lured) and 3 (db-code) are topic questions, 7 is the
# cross question; turn 1 is an assistant turn with a type, turn 5 one without.


def v2(name, mutate):
    broken(V2, v2_base, f"v2: {name}", mutate)


v2("a wrong format tag", lambda e: e.update(format="rdic.dataset/v1"))
v2("an unknown top-level field", lambda e: e.update(extra=1))
v2("a missing questions array", lambda e: e.pop("questions"))
v2("an empty questions array", lambda e: e.update(questions=[]))
v2("an unknown length", lambda e: e.update(length="medium"))
v2("a long variant without variant_of", lambda e: e.pop("variant_of"))
v2("a variant_of that is no id", lambda e: e.update(variant_of="Unit V2"))
v2("shared_entities as a string", lambda e: e.update(shared_entities="Halden Supplies"))
v2("an empty shared entity", lambda e: e["shared_entities"].append(""))
v2("an unknown turn role", lambda e: e["turns"][2].update(role="system"))
v2("an assistant turn of type query", lambda e: e["turns"][1].update(type="query"))
v2("a user turn without type", lambda e: e["turns"][0].pop("type"))
v2("an unknown turn field", lambda e: e["turns"][0].update(speaker="me"))
v2("a question without id", lambda e: e["questions"][3].pop("id"))
v2("an upper-case question id", lambda e: e["questions"][3].update(id="DB code"))
v2("an unknown question kind", lambda e: e["questions"][3].update(kind="fact"))
v2("an unknown question field", lambda e: e["questions"][3].update(note="x"))
v2("an empty question text", lambda e: e["questions"][3].update(text=""))
v2("a blank question text", lambda e: e["questions"][3].update(text="  \t"))
v2("a question text over 400 characters",
   lambda e: e["questions"][3].update(text="x" * (MAX_QUESTION_CHARS + 1)))
v2("an unknown answer_type", lambda e: e["questions"][3].update(answer_type="identifier"))
v2("an empty answers list", lambda e: e["questions"][3].update(answers=[]))
v2("an answer without a letter or digit", lambda e: e["questions"][3]["answers"].append("--"))
v2("a numeric answer", lambda e: e["questions"][3]["answers"].append(4471))
v2("a topic question without cluster", lambda e: e["questions"][3].pop("cluster"))
v2("a topic question with clusters", lambda e: e["questions"][3].update(clusters=["db", "hiring"]))
v2("a lure without answers", lambda e: e["questions"][0]["lures"][0].pop("answers"))
v2("a lure without cluster", lambda e: e["questions"][0]["lures"][0].pop("cluster"))
v2("a lure with an unknown field", lambda e: e["questions"][0]["lures"][0].update(why="x"))
v2("lures as an object", lambda e: e["questions"][0].update(lures={"cluster": "hiring"}))
v2("a cross question without clusters", lambda e: e["questions"][7].pop("clusters"))
v2("a cross question of one cluster", lambda e: e["questions"][7].update(clusters=["db"]))
v2("a cross question naming a cluster twice",
   lambda e: e["questions"][7].update(clusters=["db", "db"]))
v2("a cross question with lures", lambda e: e["questions"][7].update(lures=[]))
v2("a cross question with cluster", lambda e: e["questions"][7].update(cluster="db"))

accepted(V2, v2_base, "a short example without length or variant_of",
         lambda e: [e.pop("length"), e.pop("variant_of")])
accepted(V2, v2_base, "an example without shared_entities", lambda e: e.pop("shared_entities"))
accepted(V2, v2_base, "a question text of exactly 400 characters",
         lambda e: e["questions"][3].update(text="\u00e9" * MAX_QUESTION_CHARS))
accepted(V2, v2_base, "an explicit user role", lambda e: e["turns"][0].update(role="user"))

print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
