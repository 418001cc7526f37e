#!/usr/bin/env python3
"""Writes tests/data/questions_fixtures.json: the authoring checker's answer matching, as data.

    python3 tools/make_questions_fixtures.py [--out PATH]

tools/check_dataset.py decides whether a fact question's accepted answers and lures occur in a
dataset's turns with its normalise() and occurs(); rdic scores model replies with the C++
normalise_answer() and answer_occurs() (src/evaluation/questions.cpp). The two must agree, or a
question the checker passed could never be scored correct. This script applies the checker's own
functions to hand-picked (answer, text) pairs (thousands separators, decimals, dates, codes,
apostrophes, word boundaries, non-ASCII bytes) and stores what they return;
tests/unit/test_questions.cpp asserts the C++ gives the same. Standard library only; the output
is deterministic.

Known differences, left out of the pairs on purpose: check_dataset.py lower-cases with Python's
Unicode str.lower() and its regex \\d matches any Unicode digit, while the C++ is ASCII-only. So
U+0130 ('İ' -> "i"), U+212A (Kelvin sign -> "k") and a non-ASCII digit next to a ',' or '\\''
between digits ("1,23٤") normalise differently.
"""
import argparse
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tools"))
from check_dataset import normalise, occurs  # noqa: E402

# (answer, text, why the pair is here)
PAIRS = [
    ("47,200", "The budget is GBP 47,200.", "thousands separator on both sides"),
    ("47200", "budget of 47,200 pounds", "separator dropped in the text only"),
    ("47,200", "budget of 47200 pounds", "separator dropped in the answer only"),
    ("1,234,567", "a total of 1234567 units", "two separators"),
    ("1'234", "cost CHF 1'234 in total", "apostrophe as thousands separator"),
    ("1,234'567", "1234567", "mixed separators"),
    ("5'000", "it's 5'000 francs", "apostrophe separator beside an elision"),
    ("3,14", "pi is about 3,14", "decimal comma: two digits follow, kept as a space"),
    ("3.14", "pi is about 3,14", "decimal point and decimal comma both become a space"),
    ("12,3456", "code 12 3456", "four digits follow: not a separator"),
    ("12,345,6789", "12345 6789", "second group too long, first group fine"),
    ("1,200", "1,2000 items", "group of four digits is not a thousands group"),
    ("2,000", "x2,000y", "separator dropped inside a longer word"),
    ("2,000", "2,000,00", "first comma dropped, second kept"),
    ("1,234", "1,,234", "doubled comma is not a separator"),
    ("1,234", "1, 234", "comma then space is not a separator"),
    ("1 234", "1, 234", "comma then space normalises to one space"),
    ("x,123", "x 123", "comma after a letter is a space"),
    ("$1,200.50", "paid $1200.50 yesterday", "currency with decimals"),
    ("12 400", "GBP 12,400", "the text's number is one word"),
    ("400", "GBP 12,400", "a thousands group alone does not occur"),
    ("12", "123 units", "word boundary: 12 is not in 123"),
    ("12", "12-3 units", "hyphen is a boundary"),
    ("IR-0419", "see report IR-0419.", "code with hyphen"),
    ("ir 0419", "see report IR-0419.", "code answer written with a space"),
    ("0419", "IR-0419", "the number part of a code"),
    ("DBM-4471", "dbm4471", "a joined code is one word"),
    ("Q3", "the q3-2024 report", "case and hyphen"),
    ("v2.6.0", "version v2 6 0", "dots become spaces"),
    ("3 March", "on March 3rd", "date order differs"),
    ("March 3", "on March 3rd", "ordinal suffix makes another word"),
    ("3 March 2024", "due 3 March, 2024", "comma after a month"),
    ("2024-05-01", "on 2024/05/01", "date separators"),
    ("O'Brien", "Dr. O'Brien said so", "apostrophe in a name"),
    ("don't", "DON\u2019T", "curly apostrophe is a non-ASCII separator"),
    ("A&B", "a & b", "ampersand"),
    ("e-mail", "E\u2010mail", "Unicode hyphen"),
    ("new york", "New\n\tYork", "whitespace runs"),
    ("10 km", "10\u00a0km", "no-break space"),
    ("Z\u00fcrich", "in Z\u00fcrich today", "non-ASCII letter is a separator on both sides"),
    ("caf\u00e9", "cafe", "accented letter is not its base letter"),
    ("na\u00efve", "na ve", "non-ASCII byte splits a word"),
    ("\u6771\u4eac", "Tokyo \u6771\u4eac", "all non-ASCII: empty answer never occurs"),
    ("\u0663 apples", "3 apples", "an Arabic-Indic digit is a separator"),
    ("\uff11,\uff12\uff13\uff14", "1234", "full-width digits are separators"),
    ("ok", "ok\U0001f642", "emoji after a word"),
    ("UNKNOWN", "status: unknown.", "case"),
    ("", "anything at all", "empty answer"),
    ("...", "...", "punctuation-only answer"),
    ("a", "", "empty text"),
    ("b", "a b c", "single letter word"),
]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=os.path.join(ROOT, "tests", "data", "questions_fixtures.json"))
    args = ap.parse_args()
    cases = []
    for answer, text, why in PAIRS:
        cases.append({
            "answer": answer,
            "text": text,
            "why": why,
            "answer_normalised": normalise(answer),
            "text_normalised": normalise(text),
            "occurs": occurs(answer, text),
        })
    out = {
        "generator": "tools/make_questions_fixtures.py",
        "reference": "tools/check_dataset.py normalise() and occurs()",
        "cases": cases,
    }
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump(out, f, ensure_ascii=False, indent=1)
        f.write("\n")
    n_true = sum(c["occurs"] for c in cases)
    print(f"wrote {args.out}: {len(cases)} pairs, {n_true} occur")


if __name__ == "__main__":
    main()
