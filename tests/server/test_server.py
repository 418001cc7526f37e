"""The real `rdic serve` with the default model, through the official openai client and raw HTTP:
plain and streaming chat, cached tokens on a topic's second turn, topic override and routing,
synthesis, the session endpoints, auth and limits (every error in OpenAI's shape).

    python tests/server/test_server.py build/bin/rdic
"""
import os
import tempfile
import threading
import unittest

from serve_helpers import RdicServer, assert_error_shape, binary_from_argv

BINARY = None


class ServerChat(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = RdicServer(BINARY, args=["--max-tokens", "64"]).start()

    @classmethod
    def tearDownClass(cls):
        cls.srv.stop()

    def test_plain_and_streaming_with_the_openai_client(self):
        client = self.srv.openai()
        models = client.models.list()
        self.assertEqual(len(models.data), 1)
        msgs = [{"role": "user", "content": "Say hello in one short sentence."}]
        r = client.chat.completions.create(model=models.data[0].id, messages=msgs, max_tokens=16,
                                           temperature=0)
        text = r.choices[0].message.content
        self.assertTrue(text.strip(), r)
        self.assertEqual(r.choices[0].message.role, "assistant")
        self.assertIn(r.choices[0].finish_reason, ("stop", "length"))
        self.assertGreater(r.usage.prompt_tokens, 0)
        self.assertEqual(r.usage.completion_tokens > 0, True)

        pieces, usage, finish = [], None, None
        stream = client.chat.completions.create(model="x", messages=msgs, max_tokens=16,
                                                temperature=0, stream=True,
                                                stream_options={"include_usage": True})
        for chunk in stream:
            if chunk.usage is not None:
                usage = chunk.usage
            for c in chunk.choices:
                if c.delta.content:
                    pieces.append(c.delta.content)
                if c.finish_reason:
                    finish = c.finish_reason
        self.assertGreater(len(pieces), 1, "the answer came in one piece, not streamed")
        self.assertEqual("".join(pieces), text, "greedy streaming differs from non-streaming")
        self.assertEqual(finish, r.choices[0].finish_reason)
        self.assertIsNotNone(usage, "no final usage chunk")
        self.assertEqual(usage.completion_tokens, r.usage.completion_tokens)
        # The same stateless conversation again: found by prefix, only the tail prefilled.
        self.assertGreater(usage.prompt_tokens_details.cached_tokens, 0)

    def test_cached_tokens_grow_on_a_topics_second_turn_and_topic_override(self):
        client = self.srv.openai()
        sid = "cache-" + os.urandom(4).hex()
        extra = {"session_id": sid, "topic": "garden"}
        r1 = client.chat.completions.create(
            model="x", max_tokens=24, temperature=0, extra_body=extra,
            messages=[{"role": "user", "content": "I grow tomatoes on my balcony. Any tip?"}])
        self.assertEqual(r1.model_extra["rdic"]["topic"], "garden")
        self.assertTrue(r1.model_extra["rdic"]["opened"])
        r2 = client.chat.completions.create(
            model="x", max_tokens=24, temperature=0, extra_body=extra,
            messages=[{"role": "user", "content": "How often should I water them?"}])
        c1 = r1.usage.prompt_tokens_details.cached_tokens
        c2 = r2.usage.prompt_tokens_details.cached_tokens
        # The second turn reuses the first turn's prompt and answer.
        self.assertGreaterEqual(c2, r1.usage.prompt_tokens + r1.usage.completion_tokens - 2)
        self.assertGreater(c2, c1)
        self.assertGreater(r2.usage.prompt_tokens, r1.usage.prompt_tokens)
        self.assertEqual(r2.model_extra["rdic"]["kv_source"], "resident")
        self.assertFalse(r2.model_extra["rdic"]["opened"])
        # Another topic of the same session starts from the shared system prefix only.
        r3 = client.chat.completions.create(
            model="x", max_tokens=8, temperature=0,
            extra_body={"session_id": sid, "rdic": {"topic": "taxes"}},
            messages=[{"role": "user", "content": "When is the tax deadline?"}])
        self.assertEqual(r3.model_extra["rdic"]["topic"], "taxes")
        self.assertTrue(r3.model_extra["rdic"]["opened"])
        self.assertLess(r3.usage.prompt_tokens_details.cached_tokens, c2)
        self.assertLess(r3.usage.prompt_tokens, r2.usage.prompt_tokens)
        # The session endpoint shows both topics with their token counts.
        status, body, _ = self.srv.http("GET", "/v1/sessions/" + sid)
        self.assertEqual(status, 200, body)
        topics = {t["topic"]: t for t in body["topics"]}
        self.assertEqual(set(topics), {"garden", "taxes"})
        self.assertEqual(topics["garden"]["n_turns"], 4)
        self.assertEqual(topics["garden"]["cached_tokens"], c1 + c2)
        self.assertTrue(topics["garden"]["kv_on_disk"])

    def test_router_picks_a_topic_and_synthesis_reads_every_topic(self):
        sid = "route-" + os.urandom(4).hex()
        s, b, _ = self.srv.chat([{"role": "user", "content": "My cat Miso likes tuna."}], sid)
        self.assertEqual(s, 200, b)
        self.assertTrue(b["rdic"]["routed"])
        self.assertTrue(b["rdic"]["opened"])
        self.assertNotIn("opening_p", b["rdic"], "no opening probe configured")
        first = b["rdic"]["topic"]
        s, b, _ = self.srv.chat([{"role": "user", "content": "My cat Miso likes tuna a lot."}],
                                sid)
        self.assertEqual(s, 200, b)
        self.assertEqual(b["rdic"]["topic"], first, "a near-identical turn left its topic")
        s, b, _ = self.srv.chat([{"role": "user", "content": "Summarise what you know."}], sid,
                                max_tokens=24, rdic={"synthesis": True})
        self.assertEqual(s, 200, b)
        self.assertIsNone(b["rdic"]["topic"])
        self.assertTrue(b["choices"][0]["message"]["content"].strip())
        # A synthesis needs a session with answers.
        s, b, _ = self.srv.chat([{"role": "user", "content": "x"}], "empty-" + sid,
                                synthesis=True)
        assert_error_shape(self, s, b, 400, "synthesis")

    def test_session_list_inspect_delete(self):
        sid = "del-" + os.urandom(4).hex()
        s, b, _ = self.srv.chat([{"role": "user", "content": "Remember 42."}], sid, topic="t")
        self.assertEqual(s, 200, b)
        s, b, _ = self.srv.http("GET", "/v1/sessions")
        self.assertIn(sid, [x["id"] for x in b["data"]])
        kv_files = os.listdir(os.path.join(self.srv.state_dir, "kv"))
        s, b, _ = self.srv.http("DELETE", "/v1/sessions/" + sid)
        self.assertEqual(s, 200, b)
        self.assertTrue(b["deleted"])
        self.assertLess(len(os.listdir(os.path.join(self.srv.state_dir, "kv"))), len(kv_files))
        s, b, _ = self.srv.http("GET", "/v1/sessions/" + sid)
        assert_error_shape(self, s, b, 404, "session_id")
        s, b, _ = self.srv.http("DELETE", "/v1/sessions/" + sid)
        assert_error_shape(self, s, b, 404, "session_id")
        # The same id starts empty again: the new turn sees nothing of the deleted one.
        s, b, _ = self.srv.chat([{"role": "user", "content": "Hi."}], sid, topic="t")
        self.assertTrue(b["rdic"]["opened"])

    def test_bad_requests_get_the_error_shape_naming_the_field(self):
        s, b, _ = self.srv.http("POST", "/v1/chat/completions", "{not json")
        assert_error_shape(self, s, b, 400)
        s, b, _ = self.srv.chat([{"role": "user", "content": "x"}], max_tokens=65)
        assert_error_shape(self, s, b, 400, "max_tokens")
        s, b, _ = self.srv.chat([{"role": "tool", "content": "x"}])
        assert_error_shape(self, s, b, 400, "messages[0].role")
        s, b, _ = self.srv.http("GET", "/v1/nothing")
        assert_error_shape(self, s, b, 404)
        s, b, _ = self.srv.http("GET", "/health")
        self.assertEqual((s, b), (200, {"status": "ok"}))
        s, text, _ = self.srv.http("GET", "/metrics")
        self.assertIn("rdic_time_to_first_token_seconds_bucket", text)
        self.assertGreater(self.srv.metric("rdic_requests_total"), 0)


class ServerAuthAndLimits(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.keys = tempfile.NamedTemporaryFile("w", suffix=".keys", delete=False)
        cls.keys.write("# test keys\nkey-alice\nkey-bob\n")
        cls.keys.close()
        cls.srv = RdicServer(BINARY, api_key="key-alice",
                             args=["--api-key-file", cls.keys.name, "--max-body-bytes", "4096",
                                   "--max-concurrent-per-key", "1"]).start()

    @classmethod
    def tearDownClass(cls):
        cls.srv.stop()
        os.unlink(cls.keys.name)

    def test_missing_and_wrong_keys_are_refused(self):
        import openai
        s, b, _ = self.srv.http("GET", "/v1/models", api_key="")
        assert_error_shape(self, s, b, 401, "Authorization")
        s, b, _ = self.srv.http("GET", "/v1/models", api_key="key-mallory")
        assert_error_shape(self, s, b, 401, "Authorization")
        with self.assertRaises(openai.AuthenticationError):
            self.srv.openai(api_key="wrong").chat.completions.create(
                model="x", messages=[{"role": "user", "content": "hi"}], max_tokens=2)
        s, _, _ = self.srv.http("GET", "/health", api_key="")
        self.assertEqual(s, 200)

    def test_sessions_are_scoped_by_key(self):
        sid = "shared-name"
        s, b, _ = self.srv.chat([{"role": "user", "content": "The vault code is 7312."}], sid,
                                topic="t", api_key="key-alice")
        self.assertEqual(s, 200, b)
        # Bob's session of the same name is another session: new topic, nothing cached beyond
        # the system prefix, alice's session invisible.
        s, b, _ = self.srv.chat([{"role": "user", "content": "Hello."}], sid, topic="t",
                                api_key="key-bob")
        self.assertEqual(s, 200, b)
        self.assertTrue(b["rdic"]["opened"])
        s, b, _ = self.srv.http("GET", "/v1/sessions/" + sid + "?turns=true", api_key="key-bob")
        self.assertEqual(s, 200)
        self.assertIn("Hello.", str(b))
        self.assertNotIn("7312", str(b))
        s, b, _ = self.srv.http("GET", "/v1/sessions", api_key="key-bob")
        self.assertEqual([x["id"] for x in b["data"]], [sid])
        s, b, _ = self.srv.http("DELETE", "/v1/sessions/" + sid, api_key="key-bob")
        self.assertEqual(s, 200)
        s, b, _ = self.srv.http("GET", "/v1/sessions/" + sid + "?turns=true",
                                api_key="key-alice")
        self.assertEqual(s, 200, "bob's delete removed alice's session")
        self.assertNotIn("Hello.", str(b))
        self.assertIn("7312", str(b))

    def test_body_limit_413(self):
        big = "x" * 8000
        s, b, _ = self.srv.chat([{"role": "user", "content": big}])
        assert_error_shape(self, s, b, 413)
        self.assertIn("4096", b["error"]["message"])

    def test_concurrency_per_key_429_with_retry_after(self):
        import http.client
        import json
        # Alice's first request streams for a while; her second is refused meanwhile, bob's not.
        conn = http.client.HTTPConnection("127.0.0.1", self.srv.port, timeout=600)
        body = {"messages": [{"role": "user", "content": "Count from 1 to 300, one per line."}],
                "max_tokens": 200, "temperature": 0, "stream": True}
        conn.request("POST", "/v1/chat/completions", json.dumps(body),
                     {"Authorization": "Bearer key-alice", "Content-Type": "application/json"})
        resp = conn.getresponse()
        self.assertEqual(resp.status, 200)
        first = resp.readline()  # the first event: alice's request is generating
        self.assertTrue(first.startswith(b"data: "), first)
        s, b, h = self.srv.chat([{"role": "user", "content": "hi"}], max_tokens=2)
        assert_error_shape(self, s, b, 429)
        self.assertEqual(h.get("Retry-After"), "1")
        s, b, _ = self.srv.chat([{"role": "user", "content": "hi"}], max_tokens=2,
                                api_key="key-bob")
        self.assertEqual(s, 200, b)
        rest = resp.read()
        conn.close()
        self.assertIn(b"data: [DONE]", rest)


PROBE_05 = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "models", "probes",
                        "opening-qwen2.5-coder-0.5b-hybrid.json")


class ServerOpeningProbe(unittest.TestCase):
    """`--router hybrid --opening-probe F`: the response reports the probe's p (docs/serving.md)."""

    def test_routed_turns_report_the_probes_p_and_named_topics_do_not(self):
        args = ["--max-tokens", "4", "--router", "hybrid", "--opening-probe", PROBE_05]
        with RdicServer(BINARY, args=args) as srv:
            sid = "probe-" + os.urandom(4).hex()
            turns = ["Our school trip to the coast needs a coach booked for 40 pupils in May.",
                     "The coach company wants a deposit for the coast trip by Friday.",
                     "Separately, the science lab needs new fume cupboards before the inspection."]
            ps = []
            for text in turns:
                s, b, _ = srv.chat([{"role": "user", "content": text}], sid, max_tokens=4)
                self.assertEqual(s, 200, b)
                self.assertTrue(b["rdic"]["routed"], b)
                ps.append(b["rdic"].get("opening_p"))
            self.assertIsNone(ps[0], "a session's first turn opens without asking the probe")
            for p in ps[1:]:
                self.assertIsInstance(p, float)
                self.assertTrue(0.0 <= p <= 1.0, ps)
            s, b, _ = srv.chat([{"role": "user", "content": "And the packed lunches?"}], sid,
                               topic="topic-1", max_tokens=4)
            self.assertEqual(s, 200, b)
            self.assertFalse(b["rdic"]["routed"], b)
            self.assertNotIn("opening_p", b["rdic"], "a named topic asks no probe")


if __name__ == "__main__":
    BINARY = binary_from_argv()
    unittest.main(verbosity=2)
