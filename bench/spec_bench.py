#!/usr/bin/env python3
"""Speculative decoding on this machine: `rdic generate` without and with --draft, and llama.cpp's
llama-server without and with --model-draft, on the same prompts (greedy, fixed length, the same
system message and chat template, the same thread count and draft length). One table: decode
tokens/s, acceptance rate (accepted / drafted) and speedup over the same engine without a draft.
Benchmark tooling only (docs/performance.md, "Speculative decoding").

    python3 bench/spec_bench.py --rdic build/bin/rdic \
        --server ~/.cache/rdic/llama-server-0c1e57098/bin/llama-server \
        --target ~/.cache/rdic/models/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf \
        --draft ~/.cache/rdic/models/qwen2.5-coder-0.5b-instruct-q4_k_m.gguf \
        --threads 2 --prompts 3 --out bench/results/spec.json --markdown bench/results/spec.md
"""
import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "server"))
from serve_helpers import free_port  # noqa: E402

SYSTEM = "You are a helpful assistant."
# POC-style requests: a topic thread to continue, a summary of turns, code.
PROMPTS = [
    "Here is our conversation about the payments service incident so far: the primary PostgreSQL "
    "node ran out of disk space at 02:14 and replication to the standby stopped. Write the "
    "incident report's timeline and next steps.",
    "Summarise the following discussion in a short list: Alice wants the marketing budget moved "
    "from podcasts to social media; Bob says podcasts bring better subscribers; Carol asks for "
    "the cost per subscriber of each channel before deciding.",
    "Write a Python function that parses a CSV file of orders (id, customer, amount, date) and "
    "returns the total amount per customer, with a short docstring.",
    "Explain, step by step, how to keep a sourdough starter healthy when baking only once a week.",
]


def post(url, body):
    req = urllib.request.Request(url, data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=3600) as r:
        return json.loads(r.read())


def rdic_generate(args, prompt, draft, p_min=0.0):
    cmd = [args.rdic, "generate", "--model", args.target, "--system", SYSTEM, "-p", prompt,
           "-n", str(args.max_tokens), "--ignore-eos", "--threads", str(args.threads)]
    if draft:
        cmd += ["--draft", args.draft, "--draft-max", str(args.draft_max),
                "--draft-p-min", str(p_min)]
    env = dict(os.environ, OMP_WAIT_POLICY="passive")
    p = subprocess.run(cmd, capture_output=True, text=True, env=env, check=True)
    m = re.search(r"(\d+) tokens at ([\d.]+) tok/s", p.stderr)
    row = {"n_tokens": int(m.group(1)), "decode_tokens_per_s": float(m.group(2))}
    d = re.search(r"drafted (\d+), accepted (\d+) .*?, (\d+) target decode calls", p.stderr)
    if d:
        row.update(drafted=int(d.group(1)), accepted=int(d.group(2)),
                   target_calls=int(d.group(3)))
    row["text"] = p.stdout
    return row


def llama_server_runs(args, prompts, draft):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    cmd = [args.server, "-m", args.target, "--port", str(port), "-t", str(args.threads),
           "-tb", str(args.threads), "-c", "4096", "-np", "1", "--no-warmup"]
    if draft:
        cmd += ["--spec-type", "draft-simple", "--model-draft", args.draft,
                "--spec-draft-n-max", str(args.draft_max), "--threads-draft", str(args.threads)]
    log = open(args.server_log, "a")
    env = dict(os.environ, OMP_WAIT_POLICY="passive")
    proc = subprocess.Popen(cmd + ["--poll", "0"], stdout=log, stderr=subprocess.STDOUT, env=env)
    try:
        t_end = time.time() + 300
        while True:
            if proc.poll() is not None:
                raise SystemExit(f"llama-server exited early (see {args.server_log})")
            try:
                with urllib.request.urlopen(base + "/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except Exception:
                pass
            if time.time() > t_end:
                raise SystemExit("llama-server did not become ready")
            time.sleep(0.5)
        rows = []
        for prompt in prompts:
            msgs = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": prompt}]
            text = post(base + "/apply-template", {"messages": msgs})["prompt"]
            r = post(base + "/completion", {"prompt": text, "n_predict": args.max_tokens,
                                            "ignore_eos": True, "temperature": 0,
                                            "cache_prompt": False})
            tm = r["timings"]
            row = {"n_tokens": tm["predicted_n"],
                   "decode_tokens_per_s": tm["predicted_per_second"], "text": r["content"]}
            if "draft_n" in tm:
                row.update(drafted=tm["draft_n"], accepted=tm["draft_n_accepted"])
            rows.append(row)
        return rows
    finally:
        proc.terminate()
        proc.wait(timeout=60)


def rate(row):
    return row["accepted"] / row["drafted"] if row.get("drafted") else None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rdic", required=True)
    ap.add_argument("--server", required=True, help="llama-server binary")
    ap.add_argument("--target", required=True)
    ap.add_argument("--draft", required=True)
    ap.add_argument("--prompts", type=int, default=3, help=f"how many (1-{len(PROMPTS)})")
    ap.add_argument("--max-tokens", type=int, default=128)
    ap.add_argument("--draft-max", type=int, default=8)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--p-min", type=float, default=0.0,
                    help="also run rdic with --draft-p-min P (an extra column; 0 = not)")
    ap.add_argument("--machine", default=platform.node())
    ap.add_argument("--out", required=True, help="JSON results")
    ap.add_argument("--markdown", help="also write the table here")
    ap.add_argument("--server-log", default="/tmp/spec_bench_llama_server.log")
    args = ap.parse_args()
    prompts = PROMPTS[:max(1, min(args.prompts, len(PROMPTS)))]

    t0 = time.time()
    results = {"rdic": [], "rdic_draft": [], "rdic_draft_p_min": []}
    for i, p in enumerate(prompts):
        print(f"rdic prompt {i + 1}/{len(prompts)}", file=sys.stderr)
        results["rdic"].append(rdic_generate(args, p, False))
        results["rdic_draft"].append(rdic_generate(args, p, True))
        if args.p_min > 0:
            results["rdic_draft_p_min"].append(rdic_generate(args, p, True, args.p_min))
    print("llama-server", file=sys.stderr)
    results["llama"] = llama_server_runs(args, prompts, False)
    results["llama_draft"] = llama_server_runs(args, prompts, True)

    pm = args.p_min > 0
    lines = ["| prompt | rdic tok/s | rdic + draft tok/s | rdic acceptance | rdic speedup | " +
             (f"rdic + draft, p-min {args.p_min} tok/s (acceptance) | " if pm else "") +
             "llama-server tok/s | llama-server + draft tok/s | llama-server acceptance | "
             "llama-server speedup |",
             "|---|---|---|---|---|---|---|---|---|" + ("---|" if pm else "")]
    fmt = lambda x: "n/a" if x is None else f"{x:.1%}"
    for i in range(len(prompts)):
        a, b = results["rdic"][i], results["rdic_draft"][i]
        c, d = results["llama"][i], results["llama_draft"][i]
        e = results["rdic_draft_p_min"][i] if pm else None
        extra = f"{e['decode_tokens_per_s']:.2f} ({fmt(rate(e))}) | " if pm else ""
        lines.append(
            f"| {i + 1} | {a['decode_tokens_per_s']:.2f} | {b['decode_tokens_per_s']:.2f} | "
            f"{fmt(rate(b))} | {b['decode_tokens_per_s'] / a['decode_tokens_per_s']:.2f}x | "
            f"{extra}{c['decode_tokens_per_s']:.2f} | {d['decode_tokens_per_s']:.2f} | {fmt(rate(d))} | "
            f"{d['decode_tokens_per_s'] / c['decode_tokens_per_s']:.2f}x |")
    med = lambda k: statistics.median(r["decode_tokens_per_s"] for r in results[k])
    extra = f"{med('rdic_draft_p_min'):.2f} | " if pm else ""
    lines.append(f"| median | {med('rdic'):.2f} | {med('rdic_draft'):.2f} | | "
                 f"{med('rdic_draft') / med('rdic'):.2f}x | {extra}{med('llama'):.2f} | "
                 f"{med('llama_draft'):.2f} | | {med('llama_draft') / med('llama'):.2f}x |")
    same = sum(results["rdic"][i]["text"] == results["rdic_draft"][i]["text"]
               for i in range(len(prompts)))
    head = (f"machine {args.machine} ({platform.processor() or platform.machine()}, "
            f"{os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f} at the end), "
            f"target {os.path.basename(args.target)}, draft {os.path.basename(args.draft)}, "
            f"{args.max_tokens} tokens greedy fixed-length, draft max {args.draft_max}, "
            f"{args.threads} threads; rdic outputs identical with and without the draft: "
            f"{same}/{len(prompts)}")
    table = head + "\n\n" + "\n".join(lines) + "\n"
    print(table)
    doc = {"machine": args.machine, "cpu_count": os.cpu_count(), "load_end": os.getloadavg(),
           "finished_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
           "wall_s": time.time() - t0, "config": {k: v for k, v in vars(args).items()},
           "prompts": prompts, "results": results, "table": table}
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(doc, f, indent=1)
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(table)


if __name__ == "__main__":
    main()
