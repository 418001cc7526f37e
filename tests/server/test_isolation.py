"""Nonce-canary isolation under concurrency: 1,000+ requests from 16 client threads over
10 sessions x 25 topics (two API keys), small max_tokens, a tight KV budget so that topics are
evicted and restored while others generate. Prints the leak count; fails on any leak, any
error, or when the model recalls too few of its own nonces for a leak to have been visible.

    python tests/server/test_isolation.py build/bin/rdic
"""
import json
import os
import tempfile
import unittest

from nonce_harness import run
from serve_helpers import RdicServer, binary_from_argv

BINARY = None
MIN_RECALL = 0.5  # below this the answers carry too few codes for the leak count to mean much


class NonceIsolation(unittest.TestCase):
    def test_no_nonce_crosses_a_session_topic_or_key(self):
        with tempfile.NamedTemporaryFile("w", suffix=".keys", delete=False) as f:
            f.write("key-one\nkey-two\n")
        try:
            with RdicServer(BINARY, api_key="key-one",
                            args=["--api-key-file", f.name, "--kv-budget-mib", "48",
                                  "--max-concurrent-per-key", "16"]) as srv:
                r = run(srv, n_sessions=10, n_topics=25, n_asks=3, concurrency=16,
                        api_keys=("key-one", "key-two"))
                r["evictions"] = srv.metric("rdic_kv_evictions_total")
                r["restores"] = srv.metric("rdic_kv_restores_total")
        finally:
            os.unlink(f.name)
        print("nonce harness:", json.dumps(r))
        self.assertGreaterEqual(r["requests"], 1000)
        self.assertEqual(r["errors"], 0, r["error_examples"])
        self.assertEqual(r["leaks"], 0, r["leak_examples"])
        self.assertGreaterEqual(r["recalled"], MIN_RECALL * r["asked"], r)
        self.assertGreater(r["evictions"], 0, "the budget never evicted: restore not exercised")


if __name__ == "__main__":
    BINARY = binary_from_argv()
    unittest.main(verbosity=2)
