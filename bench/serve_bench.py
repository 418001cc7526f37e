"""TTFT of a new turn in a session topic holding ~4K tokens of history: resident, restored from
its sequence file after a restart, and cold (file removed: re-prefilled from the stored turns).
Prints one JSON object; name the machine when you quote it (docs/serving.md).

    python bench/serve_bench.py build/bin/rdic [--history-tokens 4000] [--repeats 3]

    python bench/serve_bench.py build/bin/rdic --history-tokens 1000 --resident-only \
        --serve-args '--flash-attn off'

bench/serve_vs_llama_server.py runs the side by side with llama-server.
"""
import argparse
import json
import os
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "server"))
from serve_helpers import RdicServer, history_words  # noqa: E402


def ttft_ms(srv, session, text):
    client = srv.openai()
    t0 = time.perf_counter()
    first = None
    source = None
    stream = client.chat.completions.create(
        model="x", max_tokens=8, temperature=0, stream=True,
        messages=[{"role": "user", "content": text}],
        extra_body={"session_id": session, "topic": "long"})
    for chunk in stream:
        if first is None and chunk.choices and chunk.choices[0].delta.content:
            first = (time.perf_counter() - t0) * 1000
        if chunk.model_extra and chunk.model_extra.get("rdic"):
            source = chunk.model_extra["rdic"]["kv_source"]
    return first, source


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("--history-tokens", type=int, default=4000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--serve-args", default="", help="extra rdic serve options, e.g. "
                    "'--flash-attn off'")
    ap.add_argument("--resident-only", action="store_true")
    a = ap.parse_args()
    state = tempfile.mkdtemp(prefix="rdic-serve-bench-")
    args = ["--ctx", "16384", "--max-body-bytes", str(1 << 22), "--max-tokens", "64"]
    args += a.serve_args.split()
    out = {"history_tokens_target": a.history_tokens, "resident_ms": [], "restored_ms": [],
           "cold_ms": []}
    try:
        # Chunks under the per-message byte limit.
        words = history_words(a.history_tokens)
        n_words = len(words)
        chunk = 6000
        with RdicServer(a.binary, state_dir=state, args=args) as srv:
            for i in range(0, n_words, chunk):
                s, b, _ = srv.chat([{"role": "user", "content": " ".join(words[i:i + chunk])}],
                                   "bench", "long", max_tokens=1)
                assert s == 200, b
                out["history_prompt_tokens"] = b["usage"]["prompt_tokens"]
            for r in range(a.repeats):
                ms, src = ttft_ms(srv, "bench", "Question %d: which word came first?" % r)
                out["resident_ms"].append(round(ms, 1))
        for r in range(0 if a.resident_only else a.repeats):
            with RdicServer(a.binary, state_dir=state, args=args) as srv:
                ms, src = ttft_ms(srv, "bench", "Restored question %d?" % r)
                assert src == "file", src
                out["restored_ms"].append(round(ms, 1))
                out.setdefault("restore_log", []).extend(
                    line.strip() for line in srv.log_lines if "restored from its file" in line)
        for r in range(0 if a.resident_only else a.repeats):
            shutil.rmtree(os.path.join(state, "kv"))
            os.makedirs(os.path.join(state, "kv"))
            with RdicServer(a.binary, state_dir=state, args=args) as srv:
                ms, src = ttft_ms(srv, "bench", "Cold question %d?" % r)
                assert src == "reprefill", src
                out["cold_ms"].append(round(ms, 1))
    finally:
        shutil.rmtree(state, ignore_errors=True)
    for k in ("resident_ms", "restored_ms", "cold_ms"):
        v = sorted(out[k])
        if v:
            out[k.replace("_ms", "_median_ms")] = v[len(v) // 2]
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
