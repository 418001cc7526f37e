"""rdic serve --upstream against calling llama-server directly, at client concurrency 1, 4, 8.
Each client thread runs its own sessions, one topic each, several turns; the same user messages
and max_tokens both ways, greedy. Direct: the client keeps the history and POSTs all of it to
llama-server's /v1/chat/completions. rdic: the client sends only the new turn with a session id
and topic; rdic keeps the history and POSTs the topic's conversation tokens to /v1/completions.
Prints one JSON object (and a markdown table); name the machine when you quote it.

    python bench/upstream_bench.py build/bin/rdic PATH/TO/llama-server [--model FILE]
        [--parallel 8] [--turns 4] [--sessions-per-client 2] [--max-tokens 32]
"""
import argparse
import concurrent.futures
import http.client
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "server"))
from serve_helpers import LlamaServer, RdicServer, model_path  # noqa: E402

# A tag per run in the system prompt: no run reuses another run's cached prefixes.
SYSTEM = "You are a concise assistant (run {tag})."
QUESTIONS = ["Name a fruit that is {c}.", "Why is that fruit {c}?", "Give a recipe using it.",
             "How long does it keep?", "Name another {c} fruit.", "Compare the two."]
COLOURS = ["red", "yellow", "green", "orange", "purple", "blue", "brown", "pink"]


def post(port, path, body):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    conn.request("POST", path, body=json.dumps(body), headers={"Content-Type": "application/json"})
    resp = conn.getresponse()
    data = json.loads(resp.read())
    conn.close()
    if resp.status != 200:
        raise RuntimeError("HTTP %d: %s" % (resp.status, data))
    return data


def client_direct(port, cid, a, tag):
    done = []
    for s in range(a.sessions_per_client):
        colour = COLOURS[(cid + s) % len(COLOURS)]
        msgs = [{"role": "system", "content": SYSTEM.format(tag=tag)}]
        for t in range(a.turns):
            msgs.append({"role": "user", "content": QUESTIONS[t].format(c=colour)})
            t0 = time.perf_counter()
            r = post(port, "/v1/chat/completions",
                     {"model": "m", "messages": msgs, "max_tokens": a.max_tokens,
                      "temperature": 0})
            done.append((time.perf_counter() - t0, r["usage"]["completion_tokens"],
                         r["usage"]["prompt_tokens"]))
            msgs.append({"role": "assistant", "content": r["choices"][0]["message"]["content"]})
    return done


def client_rdic(port, cid, a, tag):
    done = []
    for s in range(a.sessions_per_client):
        colour = COLOURS[(cid + s) % len(COLOURS)]
        sid = "bench-%s-%d-%d" % (tag, cid, s)
        for t in range(a.turns):
            t0 = time.perf_counter()
            r = post(port, "/v1/chat/completions",
                     {"model": "m", "max_tokens": a.max_tokens, "temperature": 0,
                      "session_id": sid, "topic": "fruit",
                      "messages": [{"role": "system", "content": SYSTEM.format(tag=tag)},
                                   {"role": "user", "content": QUESTIONS[t].format(c=colour)}]})
            done.append((time.perf_counter() - t0, r["usage"]["completion_tokens"],
                         r["usage"]["prompt_tokens"]))
    return done


def measure(fn, concurrency):
    t0 = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(concurrency) as pool:
        rows = [x for part in pool.map(fn, range(concurrency)) for x in part]
    wall = time.perf_counter() - t0
    lat = sorted(r[0] for r in rows)
    return {"requests": len(rows), "wall_s": round(wall, 2),
            "requests_per_s": round(len(rows) / wall, 3),
            "completion_tokens_per_s": round(sum(r[1] for r in rows) / wall, 1),
            "completion_tokens": sum(r[1] for r in rows),
            "prompt_tokens": sum(r[2] for r in rows),
            "latency_p50_s": round(lat[len(lat) // 2], 3),
            "latency_max_s": round(lat[-1], 3)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("rdic")
    ap.add_argument("llama_server")
    ap.add_argument("--model", default="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf")
    ap.add_argument("--parallel", type=int, default=8)
    ap.add_argument("--turns", type=int, default=4)
    ap.add_argument("--sessions-per-client", type=int, default=2)
    ap.add_argument("--max-tokens", type=int, default=32)
    ap.add_argument("--concurrency", default="1,4,8")
    a = ap.parse_args()
    levels = [int(x) for x in a.concurrency.split(",")]
    out = {"args": vars(a), "rows": []}
    with LlamaServer(a.llama_server, model_path(a.model), parallel=a.parallel) as llama, \
            RdicServer(a.rdic, args=["--upstream", llama.url, "--upstream-concurrency",
                                     str(max(levels)), "--max-concurrent-per-key",
                                     str(max(levels))]) as srv:
        for c in levels:
            d = measure(lambda cid: client_direct(llama.port, cid, a, "d%d" % c), c)
            r = measure(lambda cid: client_rdic(srv.port, cid, a, "r%d" % c), c)
            out["rows"].append({"concurrency": c, "direct": d, "rdic_upstream": r})
            print(json.dumps(out["rows"][-1]), file=sys.stderr, flush=True)
    print(json.dumps(out, indent=1))
    print("\n| concurrency | path | requests | req/s | completion tok/s | p50 latency s |",
          file=sys.stderr)
    print("|---|---|---|---|---|---|", file=sys.stderr)
    for row in out["rows"]:
        for k in ("direct", "rdic_upstream"):
            m = row[k]
            print("| %d | %s | %d | %.3f | %.1f | %.3f |" %
                  (row["concurrency"], k, m["requests"], m["requests_per_s"],
                   m["completion_tokens_per_s"], m["latency_p50_s"]), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
