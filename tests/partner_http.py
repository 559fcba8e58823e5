"""A partner's HTTPS-style endpoint for tests, as a real process on loopback (plain HTTP:
TLS is the connection's business, not the sender's logic).

``python tests/partner_http.py <port> <state dir> <fail first n>``: answers the first n
POSTs with 503, then stores each body once per ``Idempotency-Key`` as
``<state dir>/<key>`` (201; 200 for a key it already has). ``POST /refuse`` answers 400,
``POST /moved`` a redirect to ``/login``. Every POST is counted in ``<state dir>/requests``,
and so is every GET but the start-up probe's (``GET /``).
"""

from __future__ import annotations

import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

PORT, STATE, FAIL_FIRST = int(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
LOCK = threading.Lock()
SEEN = {"requests": 0}


class Partner(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path != "/":  # not the start-up probe
            with LOCK:
                SEEN["requests"] += 1
                (STATE / "requests").write_text(str(SEEN["requests"]))
        self._answer(200, b"a login page")

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        with LOCK:
            SEEN["requests"] += 1
            (STATE / "requests").write_text(str(SEEN["requests"]))
            if SEEN["requests"] <= FAIL_FIRST:
                return self._answer(503, b"busy", {"Retry-After": "7"})
            if self.path == "/refuse":
                return self._answer(400, b"not a document we take")
            if self.path == "/moved":
                return self._answer(302, b"", {"Location": "/login"})
            key = self.headers.get("Idempotency-Key", "")
            if not key or "/" in key or key.startswith("."):
                return self._answer(400, b"no idempotency key")
            target = STATE / key
            if target.exists():
                return self._answer(200, b"duplicate")
            target.write_bytes(body)
            return self._answer(201, b"stored")

    def _answer(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


if __name__ == "__main__":
    ThreadingHTTPServer(("127.0.0.1", PORT), Partner).serve_forever()
