#!/usr/bin/env python3
"""Writes the shipped dataset's turn texts as one plain-text file (conversation order, a blank
line between turns), for llama-perplexity's KV-type sweep (docs/performance.md).

    python3 bench/dataset_text.py data/test data/dev > /tmp/dataset.txt
"""
import json
import pathlib
import sys

for root in sys.argv[1:]:
    for f in sorted(pathlib.Path(root).rglob("*.json")):
        for turn in json.loads(f.read_text())["turns"]:
            print(turn["text"].strip() + "\n")
