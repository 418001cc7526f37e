#!/usr/bin/env python3
"""Drives llama.cpp's llama-server (same pinned tree, bench/build_llama_tools.sh) with the same
workload `rdic bench` runs, over HTTP: per condition the topic outputs are sent at once (3
parallel slots, continuous batching), then each synthesis output with the topic outputs rendered
into its prompt exactly as rdic renders them. Fixed length (ignore_eos), greedy. Benchmark
tooling only (docs/performance.md).

    rdic bench ... --dump-prompts prompts.json
    python3 bench/llama_server_bench.py --server build-llama-tools/bin/llama-server \
        --model M.gguf --prompts prompts.json --out server.json [--repeats 3]
"""
import argparse
import concurrent.futures as cf
import json
import os
import statistics
import subprocess
import sys
import time
import urllib.request


def post(url, body):
    req = urllib.request.Request(url, data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=3600) as r:
        return json.loads(r.read())


def wait_ready(base, proc, seconds=300):
    t_end = time.time() + seconds
    while time.time() < t_end:
        if proc.poll() is not None:
            raise SystemExit("llama-server exited early (see its log)")
        try:
            with urllib.request.urlopen(base + "/health", timeout=2) as r:
                if r.status == 200:
                    return
        except Exception:
            pass
        time.sleep(0.5)
    raise SystemExit("llama-server did not become ready")


def run_condition(base, entry, n_predict, cache_prompt):
    outputs = {o["cluster"]: o for o in entry["outputs"]}
    texts, rows = {}, []
    t0 = time.time()

    def one(o):
        msgs = "".join(f"Output {i['label']}:\n{texts[i['cluster']]}\n\n"
                       for i in o["message_inputs"])
        prompt = o["prefix"] + msgs + o["request"]
        if prompt.startswith("<bos>"):
            prompt = prompt[len("<bos>"):]  # the server adds BOS itself
        t = time.time()
        r = post(base + "/completion", {"prompt": prompt, "n_predict": n_predict,
                                        "ignore_eos": True, "temperature": 0,
                                        "cache_prompt": cache_prompt})
        tm = r["timings"]
        return o["cluster"], r["content"], {
            "cluster": o["cluster"], "kind": o["kind"], "prompt_n": tm["prompt_n"],
            "prompt_ms": tm["prompt_ms"], "predicted_n": tm["predicted_n"],
            "predicted_ms": tm["predicted_ms"],
            "ttft_ms": (t - t0) * 1000 + tm["prompt_ms"]}

    topics = [o for o in outputs.values() if o["kind"] == "topic"]
    with cf.ThreadPoolExecutor(max_workers=len(topics)) as ex:
        for cluster, text, row in ex.map(one, topics):
            texts[cluster] = text
            rows.append(row)
    for o in outputs.values():
        if o["kind"] == "synthesis":
            cluster, text, row = one(o)
            texts[cluster] = text
            rows.append(row)
    return (time.time() - t0) * 1000, rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--server", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--prompts", required=True, help="rdic bench --dump-prompts output")
    ap.add_argument("--out", required=True)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--n-predict", type=int, default=300)
    ap.add_argument("--parallel", type=int, default=3)
    ap.add_argument("--ctx", type=int, default=12288, help="total KV cells (all slots)")
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--port", type=int, default=18089)
    ap.add_argument("--cache-prompt", action="store_true",
                    help="let the server reuse a slot's cached prefix (default: off)")
    args = ap.parse_args()

    prompts = json.load(open(args.prompts))
    cmd = [args.server, "-m", args.model, "-np", str(args.parallel), "-c", str(args.ctx),
           "--port", str(args.port), "--host", "127.0.0.1", "-ngl", "99", "--no-webui"]
    if args.threads:
        cmd += ["-t", str(args.threads)]
    log = open(args.out + ".server.log", "w")
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{args.port}"
    try:
        wait_ready(base, proc)
        run_condition(base, prompts[0], 16, args.cache_prompt)  # warm-up
        results = []
        for entry in prompts:
            walls, runs = [], []
            for _ in range(args.repeats):
                wall, rows = run_condition(base, entry, args.n_predict, args.cache_prompt)
                walls.append(wall)
                runs.append({"wall_ms": wall, "outputs": rows})
            results.append({"example": entry["example"], "condition": entry["condition"],
                            "wall_ms": {"median": statistics.median(walls), "min": min(walls),
                                        "max": max(walls)}, "runs": runs})
            print(f"{entry['condition']:<18} {statistics.median(walls) / 1000:8.3f} s "
                  f"[{min(walls) / 1000:.3f}-{max(walls) / 1000:.3f}]", flush=True)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    doc = {"format": "rdic.llama-server-bench/v1", "command": cmd,
           "cache_prompt": args.cache_prompt, "repeats": args.repeats,
           "n_predict": args.n_predict, "load_average": os.getloadavg(),
           "conditions": results}
    json.dump(doc, open(args.out, "w"), indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
