"""A loopback stand-in for a remote host the verifier fetches from, which counts its visitors.

    .venv/bin/python bench/_remote_host.py --port P --file credential.json [--delay 0.05]

Every ``GET`` except ``/__events`` answers the file's bytes as ``application/ld+json`` after
``--delay`` seconds (a remote host is never instant, and the delay makes concurrent fetches
visible). ``GET /__events`` answers ``[[start, end], …]`` (epoch seconds) of every request
served so far. Prints ``ready`` once listening. Used by ``bench/drill_verify_abuse.py``.
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


def serve(port: int, body: bytes, delay: float) -> None:
    events: list[tuple[float, float]] = []
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path == "/__events":
                with lock:
                    answer = json.dumps(events).encode()
                self._send(answer, "application/json")
                return
            start = time.time()
            time.sleep(delay)
            self._send(body, "application/ld+json")
            with lock:
                events.append((start, time.time()))

        def _send(self, payload: bytes, media: str) -> None:
            self.send_response(200)
            self.send_header("Content-Type", media)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    print("ready", flush=True)
    server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--file", type=Path, required=True)
    parser.add_argument("--delay", type=float, default=0.05)
    args = parser.parse_args()
    serve(args.port, args.file.read_bytes(), args.delay)


if __name__ == "__main__":
    main()
