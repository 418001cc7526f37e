"""Persistence of the real `rdic serve`: kill -9 under load and a restart keep every acknowledged
turn (answered from history, from the sequence file or re-prefilled when it is unusable); under
a tiny KV budget eviction and restore give the same greedy outputs as no eviction.

    python tests/server/test_persistence.py build/bin/rdic
"""
import concurrent.futures
import os
import random
import string
import tempfile
import threading
import time
import unittest

from serve_helpers import RdicServer, binary_from_argv

BINARY = None


def nonce(rng):
    return "".join(rng.choice(string.ascii_uppercase) for _ in range(3)) + \
        "".join(rng.choice(string.digits) for _ in range(4))


class KillAndRestart(unittest.TestCase):
    def test_kill_9_under_load_then_every_acknowledged_turn_is_history(self):
        rng = random.SystemRandom()
        state = tempfile.TemporaryDirectory(prefix="rdic-kill-")
        acked = {}  # (session, topic) -> nonce, only for acknowledged turns
        lock = threading.Lock()
        srv = RdicServer(BINARY, state_dir=state.name).start()
        stop = threading.Event()

        def client(i):
            n = 0
            while not stop.is_set() and n < 50:  # bounded
                sid, topic, code = "kill-%d" % i, "t%d" % n, nonce(rng)
                try:
                    s, b, _ = srv.chat([{"role": "user", "content":
                                         "Please remember my secret code: %s." % code}],
                                       sid, topic, max_tokens=4)
                except OSError:
                    return
                if s == 200:
                    with lock:
                        acked[(sid, topic)] = code
                n += 1

        threads = [threading.Thread(target=client, args=(i,)) for i in range(6)]
        for t in threads:
            t.start()
        deadline = time.monotonic() + 300
        while len(acked) < 12 and time.monotonic() < deadline:
            time.sleep(0.2)
        srv.kill()  # SIGKILL while requests are in flight
        stop.set()
        for t in threads:
            t.join(timeout=120)
        self.assertGreaterEqual(len(acked), 12, "too few turns before the kill")

        srv2 = RdicServer(BINARY, state_dir=state.name).start()
        try:
            # Every acknowledged turn is stored.
            for (sid, topic), code in acked.items():
                s, b, _ = srv2.http("GET", "/v1/sessions/" + sid)
                self.assertEqual(s, 200, (sid, b))
                turns = {t["topic"]: t for t in b["topics"]}
                self.assertIn(topic, turns, (sid, topic))
                self.assertGreaterEqual(turns[topic]["n_turns"], 2)
            # And answered from history: a new turn continues the stored context.
            recalled = 0
            sample = sorted(acked.items())[:12]
            for (sid, topic), code in sample:
                s, b, _ = srv2.chat([{"role": "user", "content": "What is my secret code? "
                                      "Answer with the code only."}], sid, topic, max_tokens=12)
                self.assertEqual(s, 200, b)
                self.assertIn(b["rdic"]["kv_source"], ("file", "reprefill"), b)
                self.assertFalse(b["rdic"]["opened"], b)
                recalled += code in b["choices"][0]["message"]["content"]
            print("after kill -9: %d acknowledged topics, %d/%d recalled, restores file=%d "
                  "reprefill=%d" % (len(acked), recalled, len(sample),
                                    srv2.metric('rdic_kv_restores_total{source="file"}'),
                                    srv2.metric('rdic_kv_restores_total{source="reprefill"}')))
            self.assertGreaterEqual(recalled, len(sample) * 3 // 4)

            # A corrupt sequence file: refused, re-prefilled from the stored turns, same answer.
            (sid, topic), code = sample[0]
            kv = os.path.join(state.name, "kv")
            srv2.kill()
            for f in os.listdir(kv):
                with open(os.path.join(kv, f), "r+b") as fh:
                    fh.seek(200)
                    fh.write(b"\xff" * 16)
            srv3 = RdicServer(BINARY, state_dir=state.name).start()
            try:
                s, b, _ = srv3.chat([{"role": "user", "content": "What is my secret code? "
                                      "Answer with the code only."}], sid, topic, max_tokens=12)
                self.assertEqual(s, 200, b)
                self.assertEqual(b["rdic"]["kv_source"], "reprefill", b)
                self.assertGreaterEqual(srv3.metric("rdic_kv_restore_failures_total"), 1)
                self.assertTrue(any("re-prefilling" in l for l in srv3.log_lines),
                                srv3.log_lines[-5:])
            finally:
                srv3.stop()
        finally:
            srv2.kill()
            state.cleanup()


SCRIPT = [  # (session, topic, message): interleaved so that topics go idle between turns
    ("a", "cats", "My cat is called Pepper and she is 4 years old."),
    ("a", "cars", "I drive a blue 2012 Honda Civic."),
    ("b", "cats", "My cat Tofu hates the vacuum cleaner."),
    ("a", "cats", "How old is my cat? Answer briefly."),
    ("b", "code", "Write a Python one-liner that reverses a string."),
    ("a", "cars", "What colour is my car?"),
    ("b", "cats", "What does my cat hate?"),
    ("b", "code", "Now make it a function."),
    ("a", "cats", "What is her name?"),
]


def play(srv):
    out = []
    for sid, topic, msg in SCRIPT:
        s, b, _ = srv.chat([{"role": "system", "content": "Be brief."},
                            {"role": "user", "content": msg}], "evict-" + sid, topic,
                           max_tokens=24)
        assert s == 200, b
        out.append((b["choices"][0]["message"]["content"], b["rdic"]["kv_source"],
                    b["usage"]["prompt_tokens"]))
    return out


class EvictionRestore(unittest.TestCase):
    # One KV stream per sequence: attention kernels see the same shapes whatever else is
    # resident, so resident and restored sequences must decode bit-identically. (In the unified
    # pool the attention span depends on what else the cache holds, and CPU kernels round
    # differently per shape: near-ties may flip; tests/model/test_isolation.cpp measures that.)
    LAYOUT = ["--kv-layout", "per_sequence", "--max-sequences", "16"]

    def test_tiny_budget_gives_the_same_greedy_outputs(self):
        with RdicServer(BINARY, args=self.LAYOUT) as big:
            resident = play(big)
            self.assertEqual(big.metric("rdic_kv_evictions_total"), 0)
        with RdicServer(BINARY, args=self.LAYOUT + ["--kv-budget-mib", "1"]) as tiny:
            evicted = play(tiny)
            n_evict = tiny.metric("rdic_kv_evictions_total")
            n_file = tiny.metric('rdic_kv_restores_total{source="file"}')
        print("evictions %d, restores from file %d" % (n_evict, n_file))
        self.assertGreater(n_evict, 0)
        self.assertGreater(n_file, 0)
        self.assertIn("file", [x[1] for x in evicted])
        self.assertEqual([x[0] for x in evicted], [x[0] for x in resident])
        self.assertEqual([x[2] for x in evicted], [x[2] for x in resident])


if __name__ == "__main__":
    BINARY = binary_from_argv()
    unittest.main(verbosity=2)
