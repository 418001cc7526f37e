"""rdic serve side by side with llama-server (built from the same pinned llama.cpp), one run on
one machine, same model, same threads, same flash-attention setting (off: rdic serve's default). Prints one JSON object (and writes it with --out).

Part 1, concurrency: at each of --concurrency (default 1,4,16) sessions, each session sends
--turns user turns one after another (every session at once). rdic serve keeps the history
(each request carries only the new message, X-Session-ID); llama-server gets the whole history
each time, as a stateless OpenAI client sends it, with --parallel = the session count and the
session pinned to its slot (id_slot) so its prompt cache is reused. Three servers per level:
  rdic         rdic serve (every turn written to disk before its response completes)
  llama        llama-server
  llama+save   llama-server --slot-save-path, saving the session's slot after every turn
               (POST /slots/{id}?action=save, counted in the session's time): durability like
               rdic's
Reported per server and level: wall seconds, completion tokens per second (all sessions), and
TTFT p50/p99 (streamed, first content chunk; with few samples p99 is the slowest).

Part 2, a new turn after ~--history-tokens of history (one topic / one slot): resident, restored
from disk after a restart (rdic: its sequence file; llama-server: /slots/0?action=restore, the
restore call's time included), cold (rdic: file removed, re-prefilled; llama-server: restarted,
no restore).

    python bench/serve_vs_llama_server.py build/bin/rdic \
        --llama-server /root/.cache/rdic/llama-server-0c1e57098/bin/llama-server \
        --model ~/.cache/rdic/models/qwen2.5-coder-0.5b-instruct-q4_k_m.gguf --out r.json
"""
import argparse
import concurrent.futures as cf
import json
import os
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "server"))
from serve_helpers import LlamaServer, RdicServer, history_words  # noqa: E402

TOPICS = ["gardening", "sailing", "baking bread", "chess openings", "bicycle repair",
          "astronomy", "pottery", "beekeeping"]


def llama_server(a, parallel, ctx, slot_dir=None):
    """llama-server started as this bench always has: a.threads for generation and batches,
    -fa as --llama-flash-attn, its warmup on, no web UI, no log; up to 300 s to load."""
    return LlamaServer(a.llama_server, a.model, parallel=parallel, ctx=ctx, threads=a.threads,
                       slot_dir=slot_dir, warmup=True, start_timeout_s=300,
                       extra=["-fa", a.llama_flash_attn, "--no-webui", "--log-disable"]).start()


def stream_turn(client, messages, max_tokens, extra):
    """One streamed chat turn: (ttft ms, text, completion tokens, final rdic object)."""
    t0 = time.perf_counter()
    first, text, usage, rdic = None, "", None, None
    for chunk in client.chat.completions.create(
            model="x", max_tokens=max_tokens, temperature=0, stream=True, messages=messages,
            stream_options={"include_usage": True}, extra_body=extra):
        if chunk.choices and chunk.choices[0].delta.content:
            if first is None:
                first = (time.perf_counter() - t0) * 1000
            text += chunk.choices[0].delta.content
        if chunk.usage:
            usage = chunk.usage.completion_tokens
        if chunk.model_extra and chunk.model_extra.get("rdic"):
            rdic = chunk.model_extra["rdic"]
    if first is None:
        first = (time.perf_counter() - t0) * 1000
    return first, text, usage or 0, rdic


def pct(values, p):
    v = sorted(values)
    return v[min(len(v) - 1, int(round(p / 100 * (len(v) - 1))))]


def run_sessions(kind, client, n, turns, max_tokens, save=None):
    """n sessions at once, `turns` turns each; returns the level's numbers."""
    def session(i):
        ttfts, tokens, history = [], 0, []
        for k in range(turns):
            user = "Tell me one short fact about %s (part %d)." % (TOPICS[i % len(TOPICS)], k)
            if kind == "rdic":
                ms, text, nt, _ = stream_turn(client, [{"role": "user", "content": user}],
                                              max_tokens, {"session_id": "s%d" % i,
                                                           "topic": "t"})
            else:
                history.append({"role": "user", "content": user})
                ms, text, nt, _ = stream_turn(client, history, max_tokens,
                                              {"id_slot": i, "cache_prompt": True})
                history.append({"role": "assistant", "content": text})
                if save:
                    save(i)
            ttfts.append(ms)
            tokens += nt
        return ttfts, tokens

    t0 = time.perf_counter()
    with cf.ThreadPoolExecutor(n) as ex:
        results = list(ex.map(session, range(n)))
    wall = time.perf_counter() - t0
    ttfts = [t for r in results for t in r[0]]
    tokens = sum(r[1] for r in results)
    return {"sessions": n, "requests": len(ttfts), "wall_s": round(wall, 2),
            "completion_tokens": tokens, "tok_per_s": round(tokens / wall, 2),
            "ttft_p50_ms": round(pct(ttfts, 50), 1), "ttft_p99_ms": round(pct(ttfts, 99), 1)}


def concurrency(a):
    out = []
    for n in a.concurrency:
        state = tempfile.mkdtemp(prefix="rdic-vs-")
        try:
            with RdicServer(a.rdic, state_dir=state, threads=a.threads,
                            args=["--model", a.model, "--ctx", str(max(4096, 1024 * n)),
                                  "--max-concurrent-per-key", "64"]) as srv:
                out.append(dict(run_sessions("rdic", srv.openai(), n, a.turns, a.max_tokens),
                                server="rdic"))
        finally:
            shutil.rmtree(state, ignore_errors=True)
        print(json.dumps(out[-1]), file=sys.stderr, flush=True)
        for save in (False, True):
            slots = tempfile.mkdtemp(prefix="llama-slots-") if save else None
            ls = llama_server(a, n, 1024 * n, slots)
            try:
                saver = (lambda i: ls.post("/slots/%d?action=save" % i,
                                           {"filename": "s%d.bin" % i})) if save else None
                r = run_sessions("llama", ls.openai(), n, a.turns, a.max_tokens, saver)
                out.append(dict(r, server="llama+save" if save else "llama"))
            finally:
                ls.stop()
                if slots:
                    shutil.rmtree(slots, ignore_errors=True)
            print(json.dumps(out[-1]), file=sys.stderr, flush=True)
    return out


def history_ctx(a):
    """Context for the history part: the history, its answer and the new turn, at least 16K."""
    return max(16384, (a.history_tokens + 2048 + 255) // 256 * 256)


def rdic_history(a):
    state = tempfile.mkdtemp(prefix="rdic-vs-hist-")
    args = ["--model", a.model, "--ctx", str(history_ctx(a)), "--max-body-bytes", str(1 << 22),
            "--max-tokens", "64"]
    r = {"server": "rdic"}
    q = [{"role": "user", "content": "Which word came first?"}]
    extra = {"session_id": "h", "topic": "long"}
    try:
        with RdicServer(a.rdic, state_dir=state, args=args, threads=a.threads) as srv:
            c = srv.openai()
            history = " ".join(history_words(a.history_tokens))
            _, _, _, info = stream_turn(c, [{"role": "user", "content": history}], 1, extra)
            r["history_tokens"] = info and info.get("cached_tokens")
            r["resident_ms"] = round(stream_turn(c, q, a.max_tokens, extra)[0], 1)
            ms, _, _, info = stream_turn(c, q, a.max_tokens, extra)
            r["resident2_ms"] = round(ms, 1)
            r["history_tokens"] = info["cached_tokens"]
        with RdicServer(a.rdic, state_dir=state, args=args, threads=a.threads) as srv:
            ms, _, _, info = stream_turn(srv.openai(), q, a.max_tokens, extra)
            assert info["kv_source"] == "file", info
            r["restored_ms"] = round(ms, 1)
        shutil.rmtree(os.path.join(state, "kv"))
        os.makedirs(os.path.join(state, "kv"))
        with RdicServer(a.rdic, state_dir=state, args=args, threads=a.threads) as srv:
            ms, _, _, info = stream_turn(srv.openai(), q, a.max_tokens, extra)
            assert info["kv_source"] == "reprefill", info
            r["cold_ms"] = round(ms, 1)
    finally:
        shutil.rmtree(state, ignore_errors=True)
    return r


def llama_history(a):
    slots = tempfile.mkdtemp(prefix="llama-slots-hist-")
    hist = [{"role": "user", "content": " ".join(history_words(a.history_tokens))}]
    extra = {"id_slot": 0, "cache_prompt": True}
    r = {"server": "llama-server"}
    try:
        ls = llama_server(a, 1, history_ctx(a), slots)
        try:
            c = ls.openai()
            _, text, _, _ = stream_turn(c, hist, 1, extra)
            hist.append({"role": "assistant", "content": text})
            q = hist + [{"role": "user", "content": "Which word came first?"}]
            r["resident_ms"] = round(stream_turn(c, q, a.max_tokens, extra)[0], 1)
            r["resident2_ms"] = round(stream_turn(c, q, a.max_tokens, extra)[0], 1)
            t0 = time.perf_counter()
            saved = ls.post("/slots/0?action=save", {"filename": "h.bin"})
            r["save_ms"] = round((time.perf_counter() - t0) * 1000, 1)
            r["history_tokens"] = saved.get("n_saved")
        finally:
            ls.stop()
        ls = llama_server(a, 1, history_ctx(a), slots)
        try:
            t0 = time.perf_counter()
            ls.post("/slots/0?action=restore", {"filename": "h.bin"})
            restore = (time.perf_counter() - t0) * 1000
            ms = stream_turn(ls.openai(), q, a.max_tokens, extra)[0]
            r["restore_call_ms"] = round(restore, 1)
            r["restored_ms"] = round(restore + ms, 1)
        finally:
            ls.stop()
        ls = llama_server(a, 1, history_ctx(a))
        try:
            r["cold_ms"] = round(stream_turn(ls.openai(), q, a.max_tokens, extra)[0], 1)
        finally:
            ls.stop()
    finally:
        shutil.rmtree(slots, ignore_errors=True)
    return r


def markdown(out):
    """The tables of docs/serving.md from one run's JSON."""
    rows = ["| sessions | server | requests | wall s | completion tok/s | TTFT p50 ms | "
            "TTFT p99 ms |", "|---|---|---|---|---|---|---|"]
    for r in out["concurrency"]:
        rows.append("| %d | %s | %d | %.1f | %.1f | %.0f | %.0f |" % (
            r["sessions"], r["server"], r["requests"], r["wall_s"], r["tok_per_s"],
            r["ttft_p50_ms"], r["ttft_p99_ms"]))
    if out.get("history"):
        rows += ["", "| server | history tokens | resident ms | restored ms | cold ms | "
                 "cold / restored |", "|---|---|---|---|---|---|"]
        for h in out["history"]:
            rows.append("| %s | %s | %.0f (then %.0f) | %.0f | %.0f | %.1f× |" % (
                h["server"], h.get("history_tokens"), h["resident_ms"], h["resident2_ms"],
                h["restored_ms"], h["cold_ms"], h["cold_over_restored"]))
    return "\n".join(rows) + "\n"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("rdic")
    ap.add_argument("--llama-server", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--concurrency", type=lambda s: [int(x) for x in s.split(",") if x],
                    default=[1, 4, 16])
    ap.add_argument("--turns", type=int, default=3)
    ap.add_argument("--max-tokens", type=int, default=16)
    ap.add_argument("--history-tokens", type=int, default=4000)
    ap.add_argument("--skip-history", action="store_true")
    ap.add_argument("--llama-flash-attn", default="off",
                    help="llama-server -fa (default off, as rdic serve's default)")
    ap.add_argument("--out")
    ap.add_argument("--markdown-from", help="print the tables of an earlier --out file; no run")
    a = ap.parse_args()
    if a.markdown_from:
        with open(a.markdown_from) as f:
            print(markdown(json.load(f)), end="")
        return
    t0 = time.time()
    out = {"started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t0)),
           "machine": {"cpus": os.cpu_count(), "load_avg_start": os.getloadavg()},
           "args": vars(a), "concurrency": concurrency(a)}
    if not a.skip_history:
        out["history"] = [rdic_history(a), llama_history(a)]
        for h in out["history"]:
            h["cold_over_restored"] = round(h["cold_ms"] / h["restored_ms"], 1)
            print(json.dumps(h), file=sys.stderr, flush=True)
    out["machine"]["load_avg_end"] = os.getloadavg()
    out["wall_s"] = round(time.time() - t0, 1)
    text = json.dumps(out, indent=1)
    print(text)
    if a.out:
        with open(a.out, "w") as f:
            f.write(text + "\n")


if __name__ == "__main__":
    main()
