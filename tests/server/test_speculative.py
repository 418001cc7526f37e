"""`rdic serve --draft`: speculative decoding through the server (issue #15). The same greedy
requests, in the same order — three turns of one session topic, a stateless request, then the
same one streamed — answered by `rdic serve` without and with a draft model give the same replies
and token counts, and only the server with the draft counts drafted and accepted tokens on
/metrics (a server that ignored --draft would fail here).

The pair: Qwen2.5-Coder-0.5B-Instruct as model and draft (the same model, as the speculative
model tests pair SmolLM2 with itself: it shares its vocabulary and keeps nearly every proposal).
Greedy speculation keeps the model's own argmax, but its verification decodes several tokens per
call, which the CPU backend rounds differently from one-token steps, and those cells stay in the
topic's KV; at a near-tie of the two best tokens that can flip a reply (tests/model's
test_speculative allows it where it sees the logits; a server does not show them). SmolLM2-135M
flips on these prompts, the 0.5B does not, so the prompts ask for confident answers. About 40 s
on a 2-core machine.

    python tests/server/test_speculative.py build/bin/rdic qwen2.5-coder-0.5b-instruct-q4_k_m.gguf
"""
import sys
import unittest

from serve_helpers import RdicServer, binary_from_argv, model_path

BINARY = None
MODEL = None
MAX_TOKENS = 24
TURNS = [
    "Count from 1 to 12, separated by commas.",
    "Now count from 13 to 20 the same way.",
    "What is the capital of France? Answer in one word.",
]
STATELESS = [{"role": "user", "content": "List the days of the week, separated by commas."}]

def converse(args):
    """Serves TURNS in one session topic, STATELESS plainly and streamed; returns the replies,
    the completion token counts and the draft counters from /metrics."""
    with RdicServer(BINARY, args=["--model", MODEL] + args) as srv:
        replies, tokens = [], []
        history = []
        for turn in TURNS:
            history.append({"role": "user", "content": turn})
            s, b, _ = srv.chat(history, session="s1", topic="colours", max_tokens=MAX_TOKENS)
            assert s == 200, b
            text = b["choices"][0]["message"]["content"]
            history.append({"role": "assistant", "content": text})
            replies.append(text)
            tokens.append(b["usage"]["completion_tokens"])
        s, b, _ = srv.chat(STATELESS, max_tokens=MAX_TOKENS)
        assert s == 200, b
        replies.append(b["choices"][0]["message"]["content"])
        tokens.append(b["usage"]["completion_tokens"])
        stream = srv.openai().chat.completions.create(model="x", messages=STATELESS,
                                                      max_tokens=MAX_TOKENS, temperature=0,
                                                      stream=True)
        replies.append("".join(c.choices[0].delta.content or ""
                               for c in stream if c.choices))
        return (replies, tokens, srv.metric("rdic_draft_tokens_total"),
                srv.metric("rdic_draft_accepted_tokens_total"))


class ServeWithDraft(unittest.TestCase):
    def test_draft_keeps_greedy_replies_and_reports_its_work(self):
        plain, plain_tokens, plain_drafted, plain_accepted = converse([])
        spec, spec_tokens, drafted, accepted = converse(["--draft", MODEL, "--draft-max", "4"])
        for text in plain:
            self.assertTrue(text.strip(), plain)
        self.assertEqual(spec, plain, "--draft changed greedy replies")
        self.assertEqual(spec_tokens, plain_tokens)
        self.assertEqual((plain_drafted, plain_accepted), (0, 0))
        self.assertGreater(drafted, 0, "--draft proposed nothing: speculation did not run")
        self.assertGreater(accepted, 0)
        self.assertLessEqual(accepted, drafted)
        # The model agrees with itself: nearly every proposal is kept (the model tests' bound).
        self.assertGreaterEqual(accepted * 10, drafted * 8, (accepted, drafted))


if __name__ == "__main__":
    BINARY = binary_from_argv()
    if len(sys.argv) < 2:
        sys.exit("usage: %s PATH/TO/rdic MODEL_FILE [unittest args]" % sys.argv[0])
    MODEL = model_path(sys.argv.pop(1))
    unittest.main(verbosity=2)
