"""The exchange over HTTPS and AS2, against a real hub and real processes on loopback:
Tandem's receiver (sync.receiver under gunicorn, as ``make run`` serves it), an HTTPS
partner (tests/partner_http.py) and an AS2 partner (tests/as2_endpoint.py, a Tandem AS2
endpoint with its own certificate).

The order-to-cash choreography (tests/edi_trade.py) runs in X12 over HTTPS and in
EDIFACT over AS2, both ways; then the refusals at the receiver's doors.
"""

from __future__ import annotations

import http.client
import json
import secrets
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
import requests

from directus import ForbiddenOrMissing, HubClient
from directus.process import free_port
from migrations.accounts import RECEIVER_EMAIL, set_service_token
from sync import as2
from sync.exchange import MESSAGES
from sync.https import HttpsSender
from sync.receiver import file_name
from tests.certificates import certificate_pem, make_identity, write_pem
from tests.edi_trade import Peer, Trade, make_trade, order_to_cash, run
from tests.helpers import serving

PARTNER_HTTP = Path(__file__).with_name("partner_http.py")
AS2_ENDPOINT = Path(__file__).with_name("as2_endpoint.py")


@pytest.fixture(scope="module")
def keys(tmp_path_factory) -> dict[str, Any]:
    """Tandem's AS2 identity and the AS2 partner's, as objects and PEM files."""
    folder = tmp_path_factory.mktemp("keys")
    tandem, partner = make_identity("TANDEM-AS2"), make_identity("GROSSO-AS2")
    return {"tandem": tandem, "partner": partner, "tandem_files": write_pem(tandem, folder),
            "partner_files": write_pem(partner, folder)}  # fmt: skip


@pytest.fixture(scope="module")
def spool(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("spool")


@pytest.fixture(scope="module")
def receiver_token(admin) -> str:
    token = secrets.token_urlsafe(32)
    set_service_token(admin, RECEIVER_EMAIL, token)
    return token


@pytest.fixture(scope="module")
def receiver(hub, receiver_token, spool, keys) -> Iterator[str]:
    """Tandem's receiver, served as ``make run`` serves it."""
    port = free_port()
    cert, key = keys["tandem_files"]
    env = {"TANDEM_HUB_URL": hub.url, "TANDEM_RECEIVER_TOKEN": receiver_token,
           "TANDEM_SPOOL_DIR": str(spool), "TANDEM_AS2_ID": "TANDEM-AS2",
           "TANDEM_AS2_CERT": str(cert), "TANDEM_AS2_KEY": str(key)}  # fmt: skip
    argv = [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", "1",
            "--threads", "4", "sync.receiver:create_app()"]  # fmt: skip
    with serving(argv, f"http://127.0.0.1:{port}/health", env):
        yield f"http://127.0.0.1:{port}"


def _as2_settings(keys: dict[str, Any], receiver: str) -> dict[str, str]:
    cert, key = keys["tandem_files"]
    return {"as2_id": "TANDEM-AS2", "as2_certificate": str(cert), "as2_key": str(key),
            "as2_receipt_url": f"{receiver}/as2/receipts"}  # fmt: skip


def test_the_receivers_account_never_reads_a_partners_agent_token(hub, admin, receiver_token):
    """The receiver faces the internet: its account reads what taking files and receipts
    needs, never the agent tokens that act as the partners."""
    own = HubClient(hub.url, token=receiver_token)
    assert own.read_items("edi_agents", fields=["organization", "inbound_key"], limit=1) is not None
    for forbidden in (
        lambda: own.read_items("edi_agents", fields=["token"], limit=1),
        lambda: own.read_items("edi_messages", fields=["payload"], limit=1),
        lambda: own.read_items("purchase_orders", fields=["id"], limit=1),
        lambda: own.create_item("edi_messages", {"direction": "in", "status": "received"}),
    ):
        with pytest.raises(ForbiddenOrMissing):
            forbidden()


# --- HTTPS --------------------------------------------------------------------------------
class HttpsPeer(Peer):
    """An HTTPS partner: Tandem POSTs to its server (which keeps each body by its
    Idempotency-Key); it POSTs to the receiver with its inbound key."""

    def __init__(self, trade: Trade, state: Path, receiver: str) -> None:
        super().__init__(trade)
        self.state = state
        self.receiver = receiver

    def arrived(self) -> list[Path]:
        files = [p for p in self.state.iterdir() if p.name != "requests"]
        return sorted(files, key=lambda p: (p.stat().st_mtime_ns, p.name))

    def put(self, payload: bytes, name: str) -> Path:
        answer = requests.post(
            f"{self.receiver}/edi/{self.trade.supplier['id']}", data=payload, timeout=30,
            headers={"Authorization": f"Bearer {self.trade.inbound_key}",
                     "Idempotency-Key": name},
        )  # fmt: skip
        assert answer.status_code == 201, answer.text
        return self.trade.mailbox / "inbox" / answer.text.strip()


@pytest.fixture
def https_partner(tmp_path) -> Iterator[tuple[str, Path]]:
    port, state = free_port(), tmp_path / "partner-https"
    state.mkdir()
    argv = [sys.executable, str(PARTNER_HTTP), str(port), str(state), "0"]
    with serving(argv, f"http://127.0.0.1:{port}/"):
        yield f"http://127.0.0.1:{port}/edi", state


def _https_trade(admin, hub, tmp_path, spool, address: str) -> Trade:
    return make_trade(
        admin, hub, tmp_path, "x12", {"transport": "https", "address": address}, spool=spool
    )


def test_the_choreography_in_x12_over_https(admin, hub, sync_hub, tmp_path, spool, receiver,
                                            https_partner):  # fmt: skip
    address, state = https_partner
    trade = _https_trade(admin, hub, tmp_path, spool, address)
    assert trade.inbound_key
    peer = HttpsPeer(trade, state, receiver)
    order_to_cash(trade, peer, admin, lambda: run(sync_hub, spool_dir=str(spool)))


def test_the_receivers_https_door_takes_only_a_partners_own_key(admin, hub, tmp_path, spool,
                                                                  receiver):  # fmt: skip
    ours = _https_trade(admin, hub, tmp_path, spool, "http://127.0.0.1:9/edi")
    theirs = _https_trade(admin, hub, tmp_path, spool, "http://127.0.0.1:9/edi")
    folder = make_trade(admin, hub, tmp_path, "x12")  # a folder partner has no door here

    def post(org: dict[str, Any], key: str | None, body: bytes = b"ISA*...", **headers: str):
        if key is not None:
            headers["Authorization"] = f"Bearer {key}"
        return requests.post(f"{receiver}/edi/{org['id']}", data=body, headers=headers,
                             timeout=30)  # fmt: skip

    refused = [
        post(ours.supplier, None),
        post(ours.supplier, "not-the-key"),
        post(theirs.supplier, ours.inbound_key),  # my key, another partner's door
        post(folder.supplier, ours.inbound_key),
        post({"id": 999_999_999}, ours.inbound_key),
    ]
    assert [a.status_code for a in refused] == [401] * 5
    assert len({a.text for a in refused}) == 1  # the same words: nothing to tell apart
    assert not (spool / "edi" / str(theirs.supplier["id"])).exists()

    first = post(ours.supplier, ours.inbound_key, b"ISA*first", **{"Idempotency-Key": "k-1"})
    again = post(ours.supplier, ours.inbound_key, b"ISA*first", **{"Idempotency-Key": "k-1"})
    assert (first.status_code, again.status_code) == (201, 200)
    other = post(ours.supplier, ours.inbound_key, b"ISA*other", **{"Idempotency-Key": "k-1"})
    assert other.status_code == 409  # the first, unread, is never replaced
    assert post(ours.supplier, ours.inbound_key, **{"Idempotency-Key": "../x"}).status_code == 400
    assert post(ours.supplier, ours.inbound_key, b"").status_code == 400
    inbox = spool / "edi" / str(ours.supplier["id"]) / "inbox"
    name = file_name("https", "k-1")
    assert first.text.strip() == name
    assert [p.name for p in inbox.iterdir()] == [name]  # nothing half-written
    assert (inbox / name).read_bytes() == b"ISA*first"
    assert requests.get(f"{receiver}/edi/{ours.supplier['id']}", timeout=5).status_code == 405


def test_a_body_past_the_limit_is_refused_before_it_is_read(admin, hub, tmp_path, spool,
                                                           receiver):  # fmt: skip
    ours = _https_trade(admin, hub, tmp_path, spool, "http://127.0.0.1:9/edi")
    host, port = receiver.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    connection.putrequest("POST", f"/edi/{ours.supplier['id']}")
    connection.putheader("Authorization", f"Bearer {ours.inbound_key}")
    connection.putheader("Content-Length", str(100_000_000))  # announced, never sent
    connection.endheaders(b"ISA*")
    answer = connection.getresponse()
    assert answer.status == 413
    assert "20,971,520 bytes" in answer.read().decode()  # what the exchange reads
    connection.close()


# --- AS2 ----------------------------------------------------------------------------------
class As2Peer(Peer):
    """An AS2 partner: its own AS2 server takes what Tandem sends; it sends to the
    receiver's /as2, signed and encrypted, and checks Tandem's signed receipt."""

    def __init__(self, trade: Trade, server: Server, receiver: str, keys: dict[str, Any]) -> None:
        super().__init__(trade)
        self.server = server
        self.ours = server.identity
        self.tandem = as2.Partner("TANDEM-AS2", keys["tandem"].certificate, receiver + "/as2")

    def arrived(self) -> list[Path]:
        inbox = self.server.folder / "inbox"
        if not inbox.exists():
            return []
        return sorted(inbox.iterdir(), key=lambda p: (p.stat().st_mtime_ns, p.name))

    def put(self, payload: bytes, name: str) -> Path:
        outgoing = as2.build_message(payload, name, self.ours, self.tandem)
        receipt = as2.send(outgoing, self.tandem, HttpsSender(self.tandem.url, attempts=1))
        assert receipt is not None
        assert receipt.ok, receipt.problems
        assert receipt.signature == "valid"
        return self.trade.mailbox / "inbox" / file_name("as2", outgoing.message_id)


@dataclass
class Server:
    """The partner's AS2 server (tests/as2_endpoint.py): it knows Tandem by Tandem's
    certificate and posts asynchronous receipts to the receiver."""

    identity: as2.Identity
    folder: Path
    url: str


@contextmanager
def _as2_server(
    tmp_path: Path, keys: dict[str, Any], receiver: str, tamper_receipts: bool = False
) -> Iterator[Server]:
    identity = replace(keys["partner"], as2_id=f"GROSSO-{secrets.token_hex(4).upper()}")
    folder = tmp_path / identity.as2_id
    cert, key = write_pem(identity, folder)
    tandem_cert, _ = write_pem(keys["tandem"], folder)
    port = free_port()
    config = {
        "port": port, "id": identity.as2_id, "cert": str(cert), "key": str(key),
        "inbox": str(folder / "inbox"), "receipts": str(folder / "receipts"),
        "tamper_receipts": tamper_receipts,
        "partners": [{"id": "TANDEM-AS2", "cert": str(tandem_cert), "sign": True,
                      "encrypt": True, "receipt": "sync",
                      "receipt_url": f"{receiver}/as2/receipts"}],
    }  # fmt: skip
    (folder / "config.json").write_text(json.dumps(config))
    url = f"http://127.0.0.1:{port}/as2"
    with serving([sys.executable, str(AS2_ENDPOINT), str(folder / "config.json")], url):
        yield Server(identity, folder, url)


def _as2_trade(admin, hub, tmp_path, spool, server: Server, receipt: str = "sync") -> Trade:
    transport = {
        "transport": "as2",
        "address": server.url,
        "as2_id": server.identity.as2_id,
        "as2_certificate": certificate_pem(server.identity),
        "as2_receipt": receipt,
    }
    return make_trade(admin, hub, tmp_path, "edifact", transport, spool=spool)


def _sent(admin: HubClient, trade: Trade) -> list[dict[str, Any]]:
    return admin.read_items(
        MESSAGES, filter={"partner": {"_eq": trade.supplier["id"]}, "direction": {"_eq": "out"}},
        fields=["id", "status", "receipt", "as2_message_id", "attempts", "error"], sort=["id"],
        limit=-1,
    )  # fmt: skip


def test_the_choreography_in_edifact_over_as2(admin, hub, sync_hub, tmp_path, spool, keys,
                                              receiver):  # fmt: skip
    with _as2_server(tmp_path, keys, receiver) as server:
        trade = _as2_trade(admin, hub, tmp_path, spool, server)
        peer = As2Peer(trade, server, receiver, keys)
        settings = {"spool_dir": str(spool), **_as2_settings(keys, receiver)}
        order_to_cash(trade, peer, admin, lambda: run(sync_hub, **settings))
    sent = _sent(admin, trade)
    assert sent
    assert {m["status"] for m in sent} <= {"sent", "acknowledged"}
    assert all(m["receipt"] == "processed; signature valid; MIC matches" for m in sent)
    assert len({m["as2_message_id"] for m in sent}) == len(sent)
    # The buyer sees what the receipt said on its order's message; not the exchange's keys.
    seen = trade.buyer.get("edi-messages", sent[0]["id"])
    assert seen["receipt"] == "processed; signature valid; MIC matches"
    assert "as2_mic" not in seen


def test_a_tampered_forged_or_unknown_message_is_refused_and_nothing_is_kept(
    admin, hub, tmp_path, spool, keys, receiver
):
    server = Server(
        replace(keys["partner"], as2_id="GROSSO-TAMPER"), tmp_path, "http://127.0.0.1:9/as2"
    )
    trade = _as2_trade(admin, hub, tmp_path, spool, server)
    tandem = as2.Partner("TANDEM-AS2", keys["tandem"].certificate, receiver + "/as2")
    payload = b"UNB+UNOC:3+GROSSO:ZZZ+TANDEM:ZZZ+261203:1200+1'UNZ+0+1'"

    def post(outgoing: as2.Outgoing, body: bytes | None = None, **headers: str) -> as2.Receipt:
        answer = requests.post(f"{receiver}/as2", data=outgoing.body if body is None else body,
                               headers={**outgoing.headers, **headers}, timeout=30)  # fmt: skip
        assert answer.status_code == 200, answer.text
        return as2.read_receipt(dict(answer.headers), answer.content, tandem, outgoing)

    outgoing = as2.build_message(payload, "x.edi", server.identity, tandem)
    flipped = bytearray(outgoing.body)
    flipped[len(flipped) // 2] ^= 0xFF  # one bit flipped in transit
    tampered = post(outgoing, bytes(flipped))
    assert not tampered.ok
    assert "error" in tampered.disposition
    impostor = replace(server.identity, key=make_identity("IMPOSTOR").key)
    forged = post(as2.build_message(payload, "y.edi", impostor, tandem))
    assert not forged.ok
    assert "authentication-failed" in forged.disposition
    stranger = requests.post(f"{receiver}/as2", data=outgoing.body, timeout=30,
                             headers={**outgoing.headers, "AS2-From": "NOBODY"})  # fmt: skip
    assert stranger.status_code == 403
    assert not (trade.mailbox / "inbox").exists()
    assert post(outgoing).ok  # the same message, untouched, is taken
    assert len(list((trade.mailbox / "inbox").iterdir())) == 1


def test_a_receipt_with_a_bad_signature_is_flagged_and_the_message_resent_as_itself(
    admin, hub, sync_hub, tmp_path, spool, keys, receiver
):
    settings = {"spool_dir": str(spool), **_as2_settings(keys, receiver)}
    # The partner's receipts are changed on their way back: their signature fails.
    with _as2_server(tmp_path, keys, receiver, tamper_receipts=True) as server:
        trade = _as2_trade(admin, hub, tmp_path, spool, server)
        trade.order("PO-FLAGGED-1")
        run(sync_hub, **settings)
        (row,) = _sent(admin, trade)
        assert (row["status"], row["attempts"]) == ("failing", 1)
        assert row["receipt"].startswith("flagged: the receipt's signature"), row["receipt"]
        assert "ReceiptRefused" in row["error"]
        assert list((server.folder / "inbox").iterdir())  # it arrived; the receipt is untrusted
        # Sent again once due, under the same Message-ID: the partner takes it once.
        admin.update_item(MESSAGES, row["id"], {"next_attempt_at": None})
        run(sync_hub, **settings)
        (again,) = _sent(admin, trade)
        assert again["as2_message_id"] == row["as2_message_id"]
        assert again["attempts"] == 2
        assert len(list((server.folder / "inbox").iterdir())) == 1


def test_an_asynchronous_receipt_without_the_partners_signature_changes_nothing(
    admin, hub, sync_hub, tmp_path, spool, keys, receiver
):
    """Anyone may post to /as2/receipts naming a partner: only its signature makes a
    receipt the partner's word."""
    settings = {"spool_dir": str(spool), **_as2_settings(keys, receiver)}
    with _as2_server(tmp_path, keys, receiver, tamper_receipts=True) as server:
        trade = _as2_trade(admin, hub, tmp_path, spool, server, receipt="async")
        trade.order("PO-ASYNC-1")
        run(sync_hub, **settings)  # the partner posts its receipt before it answers
        assert list((server.folder / "inbox").iterdir())
    (row,) = _sent(admin, trade)
    assert (row["status"], row["receipt"]) == ("sent", "awaited (asynchronous)")


def test_a_receipt_for_another_partners_message_changes_nothing(
    admin, hub, sync_hub, tmp_path, spool, keys, receiver
):
    settings = {"spool_dir": str(spool), **_as2_settings(keys, receiver)}
    with _as2_server(tmp_path, keys, receiver) as server:
        trade = _as2_trade(admin, hub, tmp_path, spool, server, receipt="async")
        trade.order("PO-ASYNC-2")
        run(sync_hub, **settings)
        deadline = time.monotonic() + 20
        while _sent(admin, trade)[0]["receipt"] == "awaited (asynchronous)":
            assert time.monotonic() < deadline, "no receipt arrived"
            time.sleep(0.1)
        (theirs,) = _sent(admin, trade)
        assert (theirs["status"], theirs["receipt"]) == (
            "sent", "processed; signature valid; MIC matches")  # fmt: skip
    # Another AS2 partner posts a receipt naming that message: nothing changes.
    with _as2_server(tmp_path, keys, receiver) as other:
        _as2_trade(admin, hub, tmp_path, spool, other)
        asked = {"Message-ID": theirs["as2_message_id"], "AS2-From": "TANDEM-AS2",
                 "Disposition-Notification-Options": "pkcs7-signature"}  # fmt: skip
        headers, body = as2.build_receipt(
            asked, other.identity, None, as2.AS2Error("decryption-failed", "forged")
        )
        answer = requests.post(f"{receiver}/as2/receipts", data=body, headers=headers, timeout=30)
        assert answer.status_code == 200
    assert _sent(admin, trade)[0]["status"] == "sent"
