"""docs/serving.md's examples, run as written: every ```sh block of its "Use it" section that
calls curl, and its ```python block, against a real rdic serve on loopback (the port in the text,
8080, replaced by the one the server took). A changed API or a stale example fails here.

    python tests/server/test_docs_examples.py build/bin/rdic
"""
import json
import os
import re
import subprocess
import sys
import unittest

from serve_helpers import RdicServer, binary_from_argv

BINARY = None
DOC = os.path.join(os.path.dirname(__file__), "..", "..", "docs", "serving.md")


def use_it_blocks():
    text = open(DOC, encoding="utf-8").read()
    section = text.split("\n## Use it\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```(sh|python)\n(.*?)```", section, flags=re.S)


def curl_commands(block):
    """The curl commands of a shell block, continuation lines joined, comments dropped."""
    joined = re.sub(r"\\\n\s*", " ", block)
    return [line.strip() for line in joined.splitlines() if line.strip().startswith("curl ")]


class DocsExamples(unittest.TestCase):
    def test_the_use_it_section_works_as_written(self):
        blocks = use_it_blocks()
        self.assertGreaterEqual(len([b for b in blocks if b[0] == "sh"]), 3, blocks)
        self.assertEqual(len([b for b in blocks if b[0] == "python"]), 1, blocks)
        with RdicServer(BINARY) as srv:
            port = str(srv.port)
            replies = []
            for kind, body in blocks:
                code = body.replace("127.0.0.1:8080", "127.0.0.1:" + port)
                if kind == "sh":
                    for cmd in curl_commands(code):
                        out = subprocess.run(["bash", "-c", cmd], capture_output=True, text=True,
                                             timeout=600, check=True).stdout
                        reply = json.loads(out)
                        self.assertNotIn("error", reply, (cmd, reply))
                        self.assertTrue(reply["choices"][0]["message"]["content"], reply)
                        replies.append(reply)
                else:
                    r = subprocess.run([sys.executable, "-c", code], capture_output=True,
                                       text=True, timeout=600)
                    self.assertEqual(r.returncode, 0, r.stderr)
                    self.assertTrue(r.stdout.strip(), "the python example printed nothing")
            # The comment in the text: the second garden turn reports the first exchange cached.
            self.assertEqual(len(replies), 4, [r.get("usage") for r in replies])
            cached = replies[2]["usage"]["prompt_tokens_details"]["cached_tokens"]
            self.assertGreater(cached, 0, replies[2]["usage"])
            print("docs examples: %d curl replies, second session turn cached %d tokens"
                  % (len(replies), cached))


if __name__ == "__main__":
    BINARY = binary_from_argv()
    unittest.main(verbosity=2)
