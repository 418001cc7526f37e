"""Nonce-canary isolation harness: N sessions x M topics, each topic told its own random nonce
and then asked for it (several times), from many client threads at once. Any nonce found in the
answer of another session or topic is a leak. Used by the CI test (small) and bench/ (large).

    python tests/server/nonce_harness.py build/bin/rdic --sessions 10 --topics 25 --asks 3
    # upstream mode: a llama-server (--parallel 4, the default model) behind rdic --upstream
    python tests/server/nonce_harness.py build/bin/rdic --llama-server PATH/TO/llama-server

Positive control (--shared-context): every scope's turns go to ONE session and topic, as a
server that mixed its tenants' contexts would answer them, and every nonce is told before any is
asked for; the harness must then count leaks (> 0): a scope asked for its code gets another's.
"""
import argparse
import concurrent.futures
import json
import random
import string
import sys
import time

from serve_helpers import LlamaServer, RdicServer, model_path

# Wordings the 0.5B model answers with the code itself (checked by hand on this model).
TELL = "Please remember my secret code for {topic}: {nonce}."
ASK = "What is my secret code for {topic}? Answer with the code only."
TELL_MAX_TOKENS = 4


def make_nonce(rng):
    letters = "".join(rng.choice(string.ascii_uppercase) for _ in range(3))
    digits = "".join(rng.choice(string.digits) for _ in range(4))
    return letters + digits


def run(srv, n_sessions, n_topics, n_asks, concurrency, max_tokens=12, api_keys=(None,),
        shared_context=False):
    """shared_context: the positive control (module docstring). Scopes stay distinct (own
    nonces); only the context they are sent to is shared."""
    rng = random.SystemRandom()
    scopes = []  # (key, session, topic, nonce)
    seen = set()
    for s in range(n_sessions):
        key = api_keys[s % len(api_keys)]
        session = "nonce-%d-%s" % (s, "".join(rng.choice(string.ascii_lowercase)
                                              for _ in range(6)))
        for t in range(n_topics):
            nonce = make_nonce(rng)
            while nonce in seen:
                nonce = make_nonce(rng)
            seen.add(nonce)
            scopes.append((key, session, "topic%d" % t, nonce))
    all_nonces = {x[3] for x in scopes}

    def one_scope(scope, turns):
        key, session, topic, nonce = scope
        if shared_context:
            key, session, topic = api_keys[0], "shared-context", "shared"
        answers, errors = [], []
        for i in turns:
            content = (TELL if i == 0 else ASK).format(topic=topic, nonce=nonce)
            # The answer to the telling turn is not checked for recall: keep it short.
            status, body, _ = srv.chat([{"role": "user", "content": content}], session, topic,
                                       max_tokens=max_tokens if i else TELL_MAX_TOKENS,
                                       api_key=key)
            if status != 200:
                errors.append((status, body))
                continue
            answers.append((i, body["choices"][0]["message"]["content"]))
        return scope, answers, errors

    t0 = time.monotonic()
    leaks, recalled, asked, n_requests, errors = [], 0, 0, 0, []
    # Every scope's nonce is told first, then every scope asks: under a small KV budget the
    # topics told early are evicted by the time they are asked, so the asks exercise restores.
    phases = [[0], range(1, 1 + n_asks)]
    results = []
    with concurrent.futures.ThreadPoolExecutor(max_workers=concurrency) as pool:
        for turns in phases:
            results.extend(pool.map(lambda sc: one_scope(sc, turns), scopes))
    for scope, answers, errs in results:
        n_requests += len(answers) + len(errs)
        errors.extend(errs)
        own = scope[3]
        for i, text in answers:
            for other in all_nonces - {own}:
                if other in text:
                    leaks.append({"scope": scope[1:3], "answer": text, "foreign": other})
            if i > 0:
                asked += 1
                recalled += own in text
    return {"requests": n_requests, "leaks": len(leaks), "leak_examples": leaks[:5],
            "asked": asked, "recalled": recalled, "errors": len(errors),
            "error_examples": errors[:3], "wall_s": round(time.monotonic() - t0, 1),
            "sessions": n_sessions, "topics": n_topics, "concurrency": concurrency}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("--sessions", type=int, default=10)
    ap.add_argument("--topics", type=int, default=25)
    ap.add_argument("--asks", type=int, default=3)
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--server-arg", action="append", default=[])
    ap.add_argument("--llama-server", help="run rdic serve --upstream in front of this binary")
    ap.add_argument("--model", default="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
                    help="the llama-server's model (file in the model cache)")
    ap.add_argument("--shared-context", action="store_true",
                    help="positive control: succeed only when leaks are counted")
    a = ap.parse_args()
    if a.llama_server:
        with LlamaServer(a.llama_server, model_path(a.model)) as llama, \
                RdicServer(a.binary, args=["--upstream", llama.url, "--max-concurrent-per-key",
                                           str(a.concurrency)] + a.server_arg) as srv:
            r = run(srv, a.sessions, a.topics, a.asks, a.concurrency,
                    shared_context=a.shared_context)
            r["mode"] = "upstream"
    else:
        with RdicServer(a.binary, args=a.server_arg) as srv:
            r = run(srv, a.sessions, a.topics, a.asks, a.concurrency,
                    shared_context=a.shared_context)
    print(json.dumps(r, indent=1))
    if a.shared_context:
        return 0 if r["leaks"] and not r["errors"] else 1
    return 1 if r["leaks"] or r["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
