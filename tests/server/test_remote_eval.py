"""`rdic eval --embed-url` and `--judge-url`: the embedding-similarity records from a real
llama-server's /v1/embeddings (started with --embeddings --pooling mean, the default model)
instead of the in-process Embedder, and the judge's scores from its /v1/completions under the
judge's GBNF grammar; printed side by side with the in-process ones.

    python tests/server/test_remote_eval.py build/bin/rdic PATH/TO/llama-server MODEL_FILE DATA_DIR
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

from serve_helpers import LlamaServer, model_path

BINARY = LLAMA_SERVER = MODEL = DATA = None


def rdic(*args):
    r = subprocess.run([BINARY] + list(args), capture_output=True, text=True, timeout=900,
                       env=dict(os.environ, OMP_WAIT_POLICY="passive"))
    return r.returncode, r.stdout, r.stderr


def records(run_dir, metric_set):
    out = {}
    with open(os.path.join(run_dir, "metrics.jsonl")) as f:
        for line in f:
            rec = json.loads(line)
            if rec.get("metric_set") == metric_set:
                out[(rec["condition"], rec["cluster"])] = rec
    return out


def one_run(tmp):
    run = os.path.join(tmp, "run")
    st, out, err = rdic("run", "--model", MODEL, "--threads", "2", "--no-eval", "--max-tokens",
                        "8", "--no-questions", "--conditions", "sequential", "--data",
                        os.path.join(DATA, "dev", "edu-02.json"), "--out", run)
    assert st == 0, err
    return run


def cosines(run_dir):
    out = {}
    with open(os.path.join(run_dir, "metrics.jsonl")) as f:
        for line in f:
            rec = json.loads(line)
            if rec.get("metric_set") == "embedding/v1":
                out[(rec["condition"], rec["cluster"])] = rec
    return out


class RemoteEval(unittest.TestCase):
    def test_embeddings_from_a_remote_engine(self):
        with tempfile.TemporaryDirectory() as tmp:
            run = os.path.join(tmp, "run")
            st, out, err = rdic("run", "--model", MODEL, "--threads", "2", "--no-eval",
                                "--max-tokens", "8", "--no-questions", "--conditions",
                                "sequential", "--data", os.path.join(DATA, "dev", "edu-02.json"),
                                "--out", run)
            self.assertEqual(st, 0, err)
            local = os.path.join(tmp, "local")
            shutil.copytree(run, local)
            st, out, err = rdic("eval", "--results", local, "--no-judge", "--threads", "2")
            self.assertEqual(st, 0, err)
            with LlamaServer(LLAMA_SERVER, MODEL, extra=["--embeddings", "--pooling",
                                                         "mean"]) as llama:
                st, out, err = rdic("eval", "--results", run, "--no-judge", "--embed-url",
                                    llama.url)
                self.assertEqual(st, 0, err)
                # Another engine URL that does not answer: one clear error, no hang.
                st2, _, err2 = rdic("eval", "--results", local, "--no-judge", "--embed-url",
                                    "http://127.0.0.1:1")
            a, b = cosines(local), cosines(run)
            self.assertEqual(len(a), 3, a)
            self.assertEqual(set(a), set(b))
            for k, rec in b.items():
                self.assertEqual(rec["embed_model"]["sha256_prefix"], "remote", rec)
                self.assertIn(llama.url, rec["embed_model"]["file"], rec)
                self.assertEqual(rec["pooling"], "server")
                self.assertTrue(-1.0 <= rec["cosine"] <= 1.0, rec)
                print("cosine in-process %.6f, llama-server %.6f  (%s)" %
                      (a[k]["cosine"], rec["cosine"], k[1]))
                # Same model, mean pooling both ways: measured equal to 4 decimals here.
                self.assertAlmostEqual(a[k]["cosine"], rec["cosine"], delta=0.01)
            # --embed-url to a closed port: nothing new to embed in `local` (all present), so
            # the error shows only where work remains; run it on a copy without the records.
            self.assertEqual(st2, 0, err2)
            fresh = os.path.join(tmp, "fresh")
            shutil.copytree(os.path.join(tmp, "run"), fresh)
            os.remove(os.path.join(fresh, "metrics.jsonl"))
            st3, _, err3 = rdic("eval", "--results", fresh, "--no-judge", "--embed-url",
                                "http://127.0.0.1:1")
            self.assertNotEqual(st3, 0)
            self.assertIn("127.0.0.1:1/v1/embeddings", err3)

    def test_judge_on_a_remote_engine(self):
        with tempfile.TemporaryDirectory() as tmp:
            run = one_run(tmp)
            local = os.path.join(tmp, "local")
            shutil.copytree(run, local)
            st, out, err = rdic("eval", "--results", local, "--no-embed", "--judge", MODEL,
                                "--threads", "2")
            self.assertEqual(st, 0, err)
            with LlamaServer(LLAMA_SERVER, MODEL) as llama:
                st, out, err = rdic("eval", "--results", run, "--no-embed", "--judge", MODEL,
                                    "--judge-url", llama.url)
                self.assertEqual(st, 0, err)
            a, b = records(local, "judge/v1"), records(run, "judge/v1")
            self.assertEqual(len(b), 3, b)
            self.assertEqual(set(a), set(b))
            for k, rec in b.items():
                self.assertEqual(rec["decoder"], "gbnf-remote", rec)
                self.assertEqual(rec["judge_model"]["sha256_prefix"], "remote", rec)
                for c in ("relevance", "coherence"):
                    self.assertIn(rec[c], range(1, 6), rec)
                self.assertIn(rec.get("focus", rec.get("integration")), range(1, 6), rec)
                print("judge in-process (template) %s, remote (gbnf) %s  (%s)" %
                      ({c: a[k].get(c) for c in ("relevance", "focus", "coherence", "integration")
                        if c in a[k]},
                       {c: rec.get(c) for c in ("relevance", "focus", "coherence", "integration")
                        if c in rec}, k[1]))


if __name__ == "__main__":
    if len(sys.argv) < 5:
        sys.exit("usage: %s RDIC LLAMA_SERVER MODEL_FILE DATA_DIR" % sys.argv[0])
    BINARY, LLAMA_SERVER, DATA = sys.argv[1], sys.argv[2], sys.argv[4]
    MODEL = model_path(sys.argv[3])
    del sys.argv[1:5]
    unittest.main(verbosity=2)
