"""Two `rdic serve --upstream` instances share one PostgreSQL store (--store): a session started
on one continues on the other with its history, and both may write one session at once. Real
llama-server (--parallel 4, the default model) and a real PostgreSQL server on loopback.

    python tests/server/test_shared_store.py build/bin/rdic PATH/TO/llama-server MODEL_FILE_NAME
"""
import concurrent.futures
import json
import sys
import unittest

from nonce_harness import ASK, TELL
from serve_helpers import LlamaServer, PostgresServer, RdicServer, model_path

BINARY = LLAMA_SERVER = MODEL = None
ARGS = ["--upstream-timeout", "60", "--request-timeout", "120", "--upstream-concurrency", "4"]


class SharedStore(unittest.TestCase):
    def test_a_session_moves_between_instances(self):
        with PostgresServer() as pg, LlamaServer(LLAMA_SERVER, MODEL) as llama:
            args = ["--upstream", llama.url, "--store", pg.url] + ARGS
            with RdicServer(BINARY, args=args) as a, RdicServer(BINARY, args=args) as b:
                self.assertIn("store postgresql://", "".join(a.log_lines))
                nonce = "WKP5903"
                tell = [{"role": "user", "content": TELL.format(topic="alpha", nonce=nonce)}]
                ask = [{"role": "user", "content": ASK.format(topic="alpha")}]
                st, r, _ = a.chat(tell, "moving", "alpha", max_tokens=4)
                self.assertEqual(st, 200, r)
                told = r["usage"]["prompt_tokens"] + r["usage"]["completion_tokens"]
                # The other instance continues the session: the told exchange is in its prompt.
                st, r, _ = b.chat(ask, "moving", "alpha", max_tokens=12)
                self.assertEqual(st, 200, r)
                self.assertGreater(r["usage"]["prompt_tokens"], told, r)
                self.assertFalse(r["rdic"]["opened"], r)
                print("instance B's answer: %r (code told on A: %s)" %
                      (r["choices"][0]["message"]["content"], nonce))
                # And back: the first instance sees the turns the second stored.
                st, r, _ = a.chat(ask, "moving", "alpha", max_tokens=12)
                self.assertEqual(st, 200, r)
                self.assertGreater(r["usage"]["prompt_tokens"], 60, r)
                for srv in (a, b):
                    st, s, _ = srv.http("GET", "/v1/sessions/moving?turns=true")
                    self.assertEqual(st, 200, s)
                    turns = s["topics"][0]["turns"]
                    self.assertEqual(len(turns), 6, s)
                    self.assertEqual([t["role"] for t in turns], ["user", "assistant"] * 3)

                # Routed turns (no topic) alternate instances; each routes with every turn.
                for i, srv in enumerate([a, b, a, b]):
                    st, r, _ = srv.chat([{"role": "user", "content": "Question %d about "
                                          "sourdough bread baking." % i}], "routed")
                    self.assertEqual(st, 200, r)
                    self.assertTrue(r["rdic"]["routed"], r)
                st, s, _ = b.http("GET", "/v1/sessions/routed")
                self.assertEqual(s["n_turns"], 8, s)

                # Both instances write one session at once (8 requests, 4 topics).
                def one(i):
                    srv = (a, b)[i % 2]
                    return srv.chat([{"role": "user", "content": "Say %d." % i}], "both",
                                    "t%d" % (i % 4), max_tokens=6)

                with concurrent.futures.ThreadPoolExecutor(8) as pool:
                    results = list(pool.map(one, range(8)))
                self.assertEqual([x[0] for x in results], [200] * 8, results)
                st, s, _ = a.http("GET", "/v1/sessions/both?turns=true")
                self.assertEqual(sorted(t["n_turns"] for t in s["topics"]), [4] * 4, s)
                for t in s["topics"]:
                    self.assertEqual([x["role"] for x in t["turns"]], ["user", "assistant"] * 2)
                print("shared store:", json.dumps({"moving": 6, "routed": 8, "both": 16}))


if __name__ == "__main__":
    if len(sys.argv) < 4:
        sys.exit("usage: %s RDIC LLAMA_SERVER MODEL_FILE_NAME [unittest args]" % sys.argv[0])
    BINARY, LLAMA_SERVER, MODEL = sys.argv[1], sys.argv[2], model_path(sys.argv[3])
    del sys.argv[1:4]
    unittest.main(verbosity=2)
