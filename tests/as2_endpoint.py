"""A Tandem AS2 endpoint as its own process on loopback, for tests: sync.as2.Endpoint
served by wsgiref, with its own certificate and key.

``python tests/as2_endpoint.py <config.json>``; the config names the port, this side's
AS2 id, certificate and key (PEM files), its partners (id, certificate, sign, encrypt,
receipt), and two folders: ``inbox`` gets each delivered payload as
``<message id>.payload`` (a resend overwrites it: delivery is idempotent by id), and
``receipts`` gets each asynchronous receipt as ``<n>.json`` (headers) and ``<n>.body``.
With ``tamper_receipts``, every receipt it gives (on the connection or posted later) is
changed after signing: its signature then fails.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import requests
from cryptography import x509
from cryptography.hazmat.primitives import serialization

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sync.as2 import Endpoint, Identity, Partner, Received
from sync.mailbox import deliver


class Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class Quiet(WSGIRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


def main(path: str) -> None:
    config = json.loads(Path(path).read_text())
    certificate = x509.load_pem_x509_certificate(Path(config["cert"]).read_bytes())
    key = serialization.load_pem_private_key(Path(config["key"]).read_bytes(), None)
    partners = {
        p["id"]: Partner(
            p["id"],
            x509.load_pem_x509_certificate(Path(p["cert"]).read_bytes()),
            sign=p["sign"],
            encrypt=p["encrypt"],
            receipt=p["receipt"],
            receipt_url=p.get("receipt_url", ""),
        )
        for p in config["partners"]
    }
    inbox, receipts = Path(config["inbox"]), Path(config["receipts"])

    def take(received: Received) -> None:
        name = re.sub(r"[^A-Za-z0-9._@-]", "_", received.message_id.strip("<>"))
        deliver(inbox, f"{name}.payload", received.payload)

    def on_receipt(headers: dict[str, str], body: bytes) -> None:
        n = len(list(receipts.glob("*.body"))) + 1
        deliver(receipts, f"{n}.json", json.dumps(headers).encode())
        deliver(receipts, f"{n}.body", body)

    tamper = bool(config.get("tamper_receipts"))

    def tampered(body: bytes) -> bytes:  # changed after signing: the signature fails
        return body.replace(b"received and verified", b"received and verifieD", 1)

    def post_receipt(url: str, headers: dict[str, str], body: bytes) -> None:
        requests.post(url, data=tampered(body) if tamper else body, headers=headers, timeout=30)

    endpoint = Endpoint(Identity(config["id"], certificate, key), partners, take, on_receipt,  # type: ignore[arg-type]
                        post_receipt)  # fmt: skip

    def app(environ: dict, start: object) -> list[bytes]:
        answer = endpoint(environ, start)  # type: ignore[arg-type]
        return [tampered(b"".join(answer))] if tamper else answer

    make_server("127.0.0.1", config["port"], app, Server, Quiet).serve_forever()


if __name__ == "__main__":
    main(sys.argv[1])
