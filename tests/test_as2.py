"""AS2 (sync.as2) between two Tandem endpoints on loopback, each a real process with its
own certificate (tests/as2_endpoint.py): signed and encrypted messages with signed
receipts, synchronous and asynchronous; a tampered message refused; a receipt with a
bad signature flagged."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
import requests
from asn1crypto import cms

from directus.process import free_port
from sync.as2 import (
    AS2Error,
    Endpoint,
    Identity,
    Partner,
    build_message,
    build_receipt,
    read_receipt,
    receive,
    send,
)
from sync.https import HttpsSender
from tests.certificates import make_identity, write_pem

ENDPOINT = Path(__file__).with_name("as2_endpoint.py")
INTERCHANGE = b"ISA*00*          *00*...~\r\nST*850*0001~\r\n" + bytes(range(256))


@pytest.fixture(scope="module")
def tandem() -> Identity:
    return make_identity("TANDEM")


@pytest.fixture(scope="module")
def acme() -> Identity:
    return make_identity("ACME")


@dataclass
class Running:
    url: str
    inbox: Path
    receipts: Path

    def payloads(self) -> list[bytes]:
        return [p.read_bytes() for p in sorted(self.inbox.glob("*.payload"))]

    def wait_for_receipt(self, timeout: float = 10) -> tuple[dict[str, str], bytes]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = sorted(self.receipts.glob("*.body"))
            if found:
                headers = json.loads(found[0].with_suffix(".json").read_text())
                return headers, found[0].read_bytes()
            time.sleep(0.05)
        raise AssertionError("no asynchronous receipt arrived")


def _serve(
    ours: Identity, partner: Identity, folder: Path, receipt: str, receipt_url: str = ""
) -> Iterator[Running]:
    folder.mkdir()
    port = free_port()
    cert, key = write_pem(ours, folder)
    partner_cert, _ = write_pem(partner, folder)
    config = {
        "port": port, "id": ours.as2_id, "cert": str(cert), "key": str(key),
        "inbox": str(folder / "inbox"), "receipts": str(folder / "receipts"),
        "partners": [{"id": partner.as2_id, "cert": str(partner_cert), "sign": True,
                      "encrypt": True, "receipt": receipt, "receipt_url": receipt_url}],
    }  # fmt: skip
    (folder / "config.json").write_text(json.dumps(config))
    process = subprocess.Popen([sys.executable, str(ENDPOINT), str(folder / "config.json")])
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 15
        while True:
            try:
                requests.get(url + "/as2", timeout=1)
                break
            except requests.ConnectionError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise
                time.sleep(0.05)
        yield Running(url, folder / "inbox", folder / "receipts")
    finally:
        process.terminate()
        process.wait(10)


@pytest.fixture
def acme_endpoint(tmp_path, acme, tandem) -> Iterator[Running]:
    """ACME's AS2 server, which knows Tandem."""
    yield from _serve(acme, tandem, tmp_path / "acme", "sync")


@pytest.fixture
def tandem_endpoint(tmp_path, tandem, acme) -> Iterator[Running]:
    """Tandem's AS2 server, which takes ACME's asynchronous receipts."""
    yield from _serve(tandem, acme, tmp_path / "tandem", "async")


@pytest.fixture
def acme_posting_receipts(tmp_path, acme, tandem, tandem_endpoint) -> Iterator[Running]:
    """ACME's AS2 server, whose profile of Tandem names Tandem's receipt URL."""
    url = tandem_endpoint.url + "/as2/receipts"
    yield from _serve(acme, tandem, tmp_path / "acme-async", "sync", receipt_url=url)


def _partner(identity: Identity, url: str = "", receipt: str = "sync") -> Partner:
    return Partner(identity.as2_id, identity.certificate, url + "/as2", receipt=receipt)


def _sender(url: str) -> HttpsSender:
    return HttpsSender(url + "/as2", attempts=1)


def test_a_signed_encrypted_message_arrives_and_its_signed_receipt_proves_it(
    tandem, acme, acme_endpoint
):
    partner = _partner(acme, acme_endpoint.url)
    outgoing = build_message(INTERCHANGE, "po.x12", tandem, partner)
    receipt = send(outgoing, partner, _sender(acme_endpoint.url))
    assert receipt is not None
    assert receipt.ok, receipt.problems
    assert (receipt.signature, receipt.disposition) == ("valid", "processed")
    assert receipt.mic == outgoing.mic
    assert acme_endpoint.payloads() == [INTERCHANGE]  # byte for byte, CR/LF and all


def test_the_message_is_aes_256_and_signed_with_sha_256(tandem, acme):
    outgoing = build_message(INTERCHANGE, "po.x12", tandem, _partner(acme))
    envelope = cms.ContentInfo.load(outgoing.body)["content"]
    algorithm = envelope["encrypted_content_info"]["content_encryption_algorithm"]
    assert algorithm["algorithm"].native == "aes256_cbc"
    assert outgoing.headers["Content-Type"].startswith("application/pkcs7-mime")
    received = receive(outgoing.headers, outgoing.body, acme, {"TANDEM": _partner(tandem)})
    assert (received.payload, received.filename) == (INTERCHANGE, "po.x12")
    assert received.signed
    assert received.encrypted
    assert "micalg" not in outgoing.headers["Content-Type"]
    assert received.mic == outgoing.mic


def test_an_asynchronous_receipt_comes_back_to_our_endpoint(
    tandem, acme, acme_posting_receipts, tandem_endpoint
):
    partner = _partner(acme, acme_posting_receipts.url, receipt="async")
    outgoing = build_message(
        INTERCHANGE, "po.x12", tandem, partner, receipt_url=tandem_endpoint.url + "/as2/receipts"
    )
    assert send(outgoing, partner, _sender(acme_posting_receipts.url)) is None
    headers, body = tandem_endpoint.wait_for_receipt()
    receipt = read_receipt(headers, body, partner, outgoing)
    assert receipt.ok, receipt.problems
    assert acme_posting_receipts.payloads() == [INTERCHANGE]


def test_a_tampered_message_is_refused_and_nothing_is_delivered(tandem, acme, acme_endpoint):
    partner = _partner(acme, acme_endpoint.url)
    outgoing = build_message(INTERCHANGE, "po.x12", tandem, partner)
    body = bytearray(outgoing.body)
    body[len(body) // 2] ^= 0x01
    tampered = replace(outgoing, body=bytes(body))
    receipt = send(tampered, partner, _sender(acme_endpoint.url))
    assert receipt is not None
    assert not receipt.ok
    assert receipt.disposition.startswith("processed/error: ")
    assert acme_endpoint.payloads() == []


def test_a_signature_by_anyone_but_the_partner_is_refused(tandem, acme):
    impostor = make_identity("TANDEM")  # same id, another key
    outgoing = build_message(INTERCHANGE, "po.x12", impostor, _partner(acme))
    with pytest.raises(AS2Error, match="authentication-failed: the signature is not the"):
        receive(outgoing.headers, outgoing.body, acme, {"TANDEM": _partner(tandem)})


def test_a_changed_payload_under_a_valid_signature_fails_the_integrity_check(tandem, acme):
    clear = Partner("ACME", acme.certificate, encrypt=False)
    outgoing = build_message(INTERCHANGE, "po.x12", tandem, clear)
    changed = outgoing.body.replace(b"ST*850*0001", b"ST*850*0002")
    known = {"TANDEM": Partner("TANDEM", tandem.certificate, encrypt=False)}
    with pytest.raises(AS2Error, match="integrity-check-failed"):
        receive(outgoing.headers, changed, acme, known)
    assert receive(outgoing.headers, outgoing.body, acme, known).payload == INTERCHANGE


def test_unknown_senders_and_unencrypted_messages_from_encrypting_partners_are_refused(
    tandem, acme
):
    outgoing = build_message(INTERCHANGE, "po.x12", tandem, _partner(acme))
    with pytest.raises(AS2Error, match="'TANDEM' is not a known partner"):
        receive(outgoing.headers, outgoing.body, acme, {})
    clear = build_message(INTERCHANGE, "po.x12", tandem, Partner("ACME", acme.certificate,
                                                                 encrypt=False))  # fmt: skip
    with pytest.raises(AS2Error, match="decryption-failed: the partner's messages must be"):
        receive(clear.headers, clear.body, acme, {"TANDEM": _partner(tandem)})


def test_a_receipt_with_a_bad_signature_is_flagged(tandem, acme):
    partner = _partner(acme)
    outgoing = build_message(INTERCHANGE, "po.x12", tandem, partner)
    received = receive(outgoing.headers, outgoing.body, acme, {"TANDEM": _partner(tandem)})
    impostor = make_identity("ACME")
    headers, body = build_receipt(outgoing.headers, impostor, received, None)
    receipt = read_receipt(headers, body, partner, outgoing)
    assert receipt.signature == "invalid"
    assert not receipt.ok
    assert any("signature" in p for p in receipt.problems)
    good = read_receipt(*build_receipt(outgoing.headers, acme, received, None), partner, outgoing)
    assert good.ok, good.problems


def test_a_receipt_for_another_message_or_another_mic_is_flagged(tandem, acme):
    partner = _partner(acme)
    first = build_message(INTERCHANGE, "a.x12", tandem, partner)
    second = build_message(INTERCHANGE + b"x", "b.x12", tandem, partner)
    received = receive(first.headers, first.body, acme, {"TANDEM": _partner(tandem)})
    headers, body = build_receipt(first.headers, acme, received, None)
    receipt = read_receipt(headers, body, partner, second)
    assert any("it answers" in p for p in receipt.problems)
    wrong_mic = replace(first, mic="AAAA, sha-256")
    assert any("MIC" in p for p in read_receipt(headers, body, partner, wrong_mic).problems)


def test_the_endpoint_takes_only_posts_to_its_paths(acme_endpoint):
    assert requests.get(acme_endpoint.url + "/as2", timeout=5).status_code == 405
    assert requests.post(acme_endpoint.url + "/elsewhere", timeout=5).status_code == 404


def _call(app: Endpoint, headers: dict[str, str], body: bytes, length: str | None = None):
    environ = {
        "REQUEST_METHOD": "POST", "PATH_INFO": "/as2", "wsgi.input": io.BytesIO(body),
        "CONTENT_LENGTH": str(len(body)) if length is None else length,
        "CONTENT_TYPE": headers.get("Content-Type", ""),
        **{f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()
           if k != "Content-Type"},
    }  # fmt: skip
    answered: list[str] = []
    out = b"".join(app(environ, lambda status, _headers: answered.append(status)))
    return answered[0], out


def test_receipts_are_posted_only_for_known_partners_to_the_url_in_their_profile(tandem, acme):
    posted: list[str] = []
    app = Endpoint(
        acme, {"TANDEM": replace(_partner(tandem), receipt_url="https://tandem.example/r")},
        deliver=lambda _r: None, post_receipt=lambda url, _h, _b: posted.append(url),
    )  # fmt: skip
    outgoing = build_message(INTERCHANGE, "po.x12", tandem, _partner(acme))
    probe = {**outgoing.headers, "Receipt-Delivery-Option": "http://169.254.169.254/latest"}
    status, body = _call(app, probe, outgoing.body)
    assert posted == []  # never to a URL the message names itself
    assert status == "200 OK"
    assert b"disposition-notification" in body  # the receipt came back on the connection
    stranger = {**probe, "AS2-From": "MALLORY"}
    assert _call(app, stranger, outgoing.body) == ("403 Forbidden", b"not a known partner")
    assert posted == []
    mine = {**outgoing.headers, "Receipt-Delivery-Option": "https://tandem.example/r"}
    assert _call(app, mine, outgoing.body) == ("200 OK", b"")
    assert posted == ["https://tandem.example/r"]


def test_the_endpoint_refuses_what_it_cannot_read_without_failing(tandem, acme):
    app = Endpoint(acme, {"TANDEM": _partner(tandem)}, deliver=lambda _r: None)
    outgoing = build_message(INTERCHANGE, "po.x12", tandem, _partner(acme))
    for length in ("abc", "-1", ""):
        assert _call(app, outgoing.headers, outgoing.body, length)[0] == "411 Length Required"
    odd = {**outgoing.headers, "Message-ID": "<caf\u00e9@TANDEM>"}
    assert _call(app, odd, outgoing.body)[0] == "400 Bad Request"
    no_boundary = {"Content-Type": "multipart/signed; protocol=x"}
    receipt = read_receipt(no_boundary, b"--x--", _partner(acme), outgoing)
    assert not receipt.ok
