#!/usr/bin/env python3
"""A real HTTP server on loopback that answers the first N requests with an error status, then
forwards every request to an upstream engine (the remote-backend retry tests).

    flaky_proxy.py --upstream http://127.0.0.1:PORT --fail 2 --status 503 [--posts-only]

Prints "listening on http://127.0.0.1:PORT" once bound (port 0 = any free port), then serves
until killed. GET /__stats answers {"failed": F, "proxied": P, "posts": [bodies...], "auth":
[Authorization headers seen]} (so a test can see what rdic sent: cache_salt, prompt, API key).
Standard library only.
"""
import argparse
import json
import sys
import threading
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--upstream", required=True)
    ap.add_argument("--fail", type=int, default=0, help="answer this many requests with --status")
    ap.add_argument("--status", type=int, default=503)
    ap.add_argument("--posts-only", action="store_true", help="fail POST requests only")
    ap.add_argument("--port", type=int, default=0)
    args = ap.parse_args()
    lock = threading.Lock()
    stats = {"failed": 0, "proxied": 0, "posts": [], "auth": []}

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):  # quiet
            pass

        def reply(self, status, body, ctype="application/json"):
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def handle_any(self, method):
            n = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(n) if n else None
            if self.path == "/__stats":
                with lock:
                    return self.reply(200, json.dumps(stats).encode())
            with lock:
                fail = stats["failed"] < args.fail and (method == "POST" or not args.posts_only)
                if fail:
                    stats["failed"] += 1
                if body is not None:
                    stats["posts"].append(json.loads(body))
                auth = self.headers.get("Authorization")
                if auth and auth not in stats["auth"]:
                    stats["auth"].append(auth)
            if fail:
                return self.reply(args.status, b'{"error":{"message":"injected by flaky_proxy"}}')
            req = urllib.request.Request(args.upstream + self.path, data=body, method=method,
                                         headers={"Content-Type": "application/json"})
            try:
                with urllib.request.urlopen(req, timeout=600) as r:
                    status, data = r.status, r.read()
            except urllib.error.HTTPError as e:
                status, data = e.code, e.read()
            with lock:
                stats["proxied"] += 1
            self.reply(status, data)

        def do_GET(self):
            self.handle_any("GET")

        def do_POST(self):
            self.handle_any("POST")

    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    print(f"listening on http://127.0.0.1:{server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
