"""Starts the real `rdic serve` on an ephemeral loopback port for a test, and talks to it.

    with RdicServer(binary, state_dir) as srv:
        client = srv.openai()            # the official openai client, pointed at the server
        status, body, headers = srv.http("GET", "/health")
"""
import http.client
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

START_TIMEOUT_S = 120
LISTEN_RE = re.compile(r"listening on http://127\.0\.0\.1:(\d+)")


class RdicServer:
    def __init__(self, binary, state_dir=None, args=(), api_key=None, threads=2):
        self.binary = binary
        self.threads = threads
        self._tmp = None
        if state_dir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="rdic-serve-test-")
            state_dir = self._tmp.name
        self.state_dir = state_dir
        self.args = list(args)
        self.api_key = api_key
        self.proc = None
        self.port = None
        self.log_lines = []

    def start(self):
        env = dict(os.environ, OMP_WAIT_POLICY="passive")
        cmd = [self.binary, "serve", "--host", "127.0.0.1", "--port", "0", "--threads", str(self.threads),
               "--state-dir", self.state_dir] + self.args
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     text=True, env=env)
        deadline = time.monotonic() + START_TIMEOUT_S
        # Read lines until the port is printed (bounded by the process ending or the deadline).
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                raise RuntimeError("rdic serve exited before listening: " +
                                   "".join(self.log_lines[-20:]))
            self.log_lines.append(line)
            m = LISTEN_RE.search(line)
            if m:
                self.port = int(m.group(1))
                break
        if self.port is None:
            self.kill()
            raise RuntimeError("rdic serve did not listen within %d s" % START_TIMEOUT_S)
        # Keep draining its output so that it never blocks on a full pipe.
        threading.Thread(target=self._drain, daemon=True).start()
        return self

    def _drain(self):
        try:
            for line in self.proc.stdout:
                self.log_lines.append(line)
        except (ValueError, OSError):  # closed by kill()
            pass

    def kill(self, sig=signal.SIGKILL):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(timeout=60)
        if self.proc and self.proc.stdout:
            self.proc.stdout.close()

    def stop(self):
        self.kill(signal.SIGTERM)
        if self._tmp:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        try:
            self.kill(signal.SIGTERM)
        except subprocess.TimeoutExpired:
            self.kill()
        if self._tmp:
            self._tmp.cleanup()

    @property
    def base_url(self):
        return "http://127.0.0.1:%d/v1" % self.port

    def openai(self, api_key=None, **kw):
        import openai
        return openai.OpenAI(base_url=self.base_url, api_key=api_key or self.api_key or "none",
                             max_retries=0, timeout=600, **kw)

    def http(self, method, path, body=None, headers=None, api_key=None):
        """One request with http.client; returns (status, parsed JSON or text, headers)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=600)
        h = dict(headers or {})
        key = api_key if api_key is not None else self.api_key
        if key:
            h["Authorization"] = "Bearer " + key
        data = None
        if body is not None:
            data = body if isinstance(body, (bytes, str)) else json.dumps(body)
            h.setdefault("Content-Type", "application/json")
        conn.request(method, path, body=data, headers=h)
        resp = conn.getresponse()
        raw = resp.read().decode("utf-8", "replace")
        conn.close()
        try:
            parsed = json.loads(raw)
        except ValueError:
            parsed = raw
        return resp.status, parsed, dict(resp.getheaders())

    def chat(self, messages, session=None, topic=None, max_tokens=16, api_key=None, **extra):
        body = {"model": "any", "messages": messages, "max_tokens": max_tokens,
                "temperature": 0}
        if session:
            body["session_id"] = session
        if topic:
            body["topic"] = topic
        body.update(extra)
        return self.http("POST", "/v1/chat/completions", body, api_key=api_key)

    def metric(self, name):
        status, text, _ = self.http("GET", "/metrics")
        assert status == 200, text
        total = 0.0
        found = False
        for line in text.splitlines():
            if line.startswith(name + " ") or line.startswith(name + "{"):
                total += float(line.rsplit(" ", 1)[1])
                found = True
        assert found, "no metric " + name
        return total


def assert_error_shape(test, status, body, want_status, param=None):
    test.assertEqual(status, want_status, body)
    test.assertIsInstance(body, dict, body)
    err = body.get("error")
    test.assertIsInstance(err, dict, body)
    test.assertTrue(err.get("message"), body)
    test.assertTrue(err.get("type"), body)
    if param is not None:
        test.assertEqual(err.get("param"), param, body)


def binary_from_argv():
    if len(sys.argv) < 2:
        sys.exit("usage: %s PATH/TO/rdic [unittest args]" % sys.argv[0])
    return sys.argv.pop(1)


def model_path(file_name):
    """The model cache as rdic resolves it (RDIC_MODELS, RDIC_CACHE, XDG_CACHE_HOME, HOME)."""
    if os.environ.get("RDIC_MODELS"):
        d = os.environ["RDIC_MODELS"]
    elif os.environ.get("RDIC_CACHE"):
        d = os.path.join(os.environ["RDIC_CACHE"], "models")
    elif os.environ.get("XDG_CACHE_HOME"):
        d = os.path.join(os.environ["XDG_CACHE_HOME"], "rdic", "models")
    else:
        d = os.path.join(os.path.expanduser("~"), ".cache", "rdic", "models")
    return os.path.join(d, file_name)


# The serve benches' history filler: about 1.3 tokens per word with this vocabulary.
HISTORY_WORDS = ("river stone lantern orchard copper meadow harbor violet canyon ember quartz "
                 "willow falcon summit glacier").split()


def history_words(n_tokens):
    """About n_tokens tokens of history as a list of words (HISTORY_WORDS repeated in order)."""
    n_words = int(n_tokens / 1.3)
    return [HISTORY_WORDS[i % len(HISTORY_WORDS)] for i in range(n_words)]


def free_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LlamaServer:
    """The real llama-server (built by scripts/setup.sh) on a loopback port.

    The defaults are the tests': --parallel 4, --ctx-size 16384, 2 threads for generation and for
    batches, --no-warmup, its output kept in a temporary file (log()). slot_dir adds
    --slot-save-path; warmup=True leaves llama-server's warmup on; `extra` is appended as given
    (the benches pass -fa, --no-webui, --log-disable). start() may be called again after kill()
    (same port). End with the context manager (SIGKILL) or stop() (SIGTERM, then SIGKILL).
    """

    def __init__(self, binary, model, port=None, parallel=4, ctx=16384, threads=2, slot_dir=None,
                 warmup=False, extra=(), start_timeout_s=START_TIMEOUT_S):
        if not binary or not os.path.exists(binary):
            raise RuntimeError("llama-server '%s' is missing: run ./scripts/setup.sh (it builds "
                               "llama-server and configures -DRDIC_LLAMA_SERVER)" % binary)
        self.binary, self.model, self.parallel = binary, model, parallel
        self.ctx, self.threads, self.slot_dir, self.warmup = ctx, threads, slot_dir, warmup
        self.extra = list(extra)
        self.start_timeout_s = start_timeout_s
        self.port = port or free_port()
        self.proc = None
        self._log = tempfile.TemporaryFile("w+")

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    def command(self):
        cmd = [self.binary, "-m", self.model, "--host", "127.0.0.1", "--port", str(self.port),
               "--parallel", str(self.parallel), "--ctx-size", str(self.ctx), "--threads",
               str(self.threads), "--threads-batch", str(self.threads)]
        if not self.warmup:
            cmd.append("--no-warmup")
        if self.slot_dir:
            cmd += ["--slot-save-path", self.slot_dir]
        return cmd + self.extra

    def start(self):
        env = dict(os.environ, OMP_WAIT_POLICY="passive")
        self.proc = subprocess.Popen(self.command(), stdout=self._log, stderr=subprocess.STDOUT,
                                     env=env)
        deadline = time.monotonic() + self.start_timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("llama-server exited: " + self.log()[-2000:])
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                conn.request("GET", "/health")
                ok = conn.getresponse().status == 200
                conn.close()
                if ok:
                    return self
            except OSError:
                pass
            time.sleep(0.5)
        self.kill()
        raise RuntimeError("llama-server not healthy within %d s: %s" %
                           (self.start_timeout_s, self.log()[-2000:]))

    def log(self):
        self._log.seek(0)
        return self._log.read()

    def post(self, path, body, timeout_s=3600):
        """POST a JSON body to `path` (e.g. /slots/0?action=save); the parsed JSON answer. An
        HTTP error status raises urllib.error.HTTPError."""
        req = urllib.request.Request(self.url + path, data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=timeout_s) as r:
            return json.loads(r.read())

    def openai(self, timeout_s=3600):
        import openai
        return openai.OpenAI(base_url=self.url + "/v1", api_key="none", max_retries=0,
                             timeout=timeout_s)

    def kill(self, sig=signal.SIGKILL, timeout_s=60):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(timeout=timeout_s)

    def stop(self):
        """SIGTERM, SIGKILL if it has not ended within 30 s; closes the log."""
        try:
            self.kill(signal.SIGTERM, timeout_s=30)
        except subprocess.TimeoutExpired:
            self.kill()
        self._log.close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.kill()
        self._log.close()


class PostgresServer:
    """A throwaway PostgreSQL server (Debian's postgresql package) on a loopback port, trust
    authentication, data in a temporary directory. As root it runs as the `postgres` user (the
    server refuses root)."""

    BIN_DIRS = ["/usr/lib/postgresql/%d/bin" % v for v in range(20, 12, -1)]

    def __init__(self):
        self.bin = next((d for d in self.BIN_DIRS if os.path.exists(os.path.join(d, "postgres"))),
                        None)
        if self.bin is None:
            raise RuntimeError("PostgreSQL is missing: run ./scripts/setup.sh (it installs the "
                               "postgresql package)")
        self._tmp = tempfile.TemporaryDirectory(prefix="rdic-pg-")
        self.dir = self._tmp.name
        self.port = free_port()
        self.proc = None

    @property
    def url(self):
        return "postgresql://rdic@127.0.0.1:%d/postgres" % self.port

    def _as_owner(self, cmd):
        if os.geteuid() == 0:
            return ["runuser", "-u", "postgres", "--"] + cmd
        return cmd

    def start(self):
        if os.geteuid() == 0:
            import pwd
            pw = pwd.getpwnam("postgres")
            os.chown(self.dir, pw.pw_uid, pw.pw_gid)
        data = os.path.join(self.dir, "data")
        subprocess.run(self._as_owner([os.path.join(self.bin, "initdb"), "-D", data, "-A",
                                       "trust", "-U", "rdic", "--no-sync"]),
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        self.proc = subprocess.Popen(
            self._as_owner([os.path.join(self.bin, "postgres"), "-D", data, "-p", str(self.port),
                            "-k", self.dir, "-c", "listen_addresses=127.0.0.1"]),
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            r = subprocess.run([os.path.join(self.bin, "pg_isready"), "-h", "127.0.0.1", "-p",
                                str(self.port)], stdout=subprocess.DEVNULL)
            if r.returncode == 0:
                return self
            if self.proc.poll() is not None:
                break
            time.sleep(0.3)
        self.stop()
        raise RuntimeError("PostgreSQL did not start on port %d" % self.port)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)  # fast shutdown
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._tmp.cleanup()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
