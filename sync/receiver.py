"""The receiver: the door HTTPS and AS2 partners post their interchanges to.

A WSGI app (``gunicorn 'sync.receiver:create_app()'``), beside the scheduler, with a
service account of its own that reads and writes only what this needs (migration 0017).
It takes files: what arrives is left, whole, in the partner's spool inbox
``<spool>/edi/<partner id>/inbox``, and the exchange
(:mod:`sync.exchange`) reads it there on its next run, as it reads a folder mailbox, so
everything after arrival (recording, applying, the 997/CONTRL) has one path.

- ``POST /edi/<partner id>``: an HTTPS partner, with ``Authorization: Bearer <key>``,
  the key the operator was shown when setting its profile (``edi_agents`` keeps its
  SHA-256). The body is streamed to disk, never held whole, and is at most what the
  exchange reads (20 MiB). An ``Idempotency-Key`` names the file (by its SHA-256), so a
  retried POST is taken once (201 the first time, 200 after, 409 if it brings other
  content while the first is unread); without one, each POST is a file of its own. A
  wrong key, a partner that is not an active HTTPS partner and an unknown id get the
  same 401.
- ``POST /as2``: an AS2 partner (:class:`sync.as2.Endpoint`): known by its AS2 id and
  certificate, the message decrypted and its signature verified before anything is
  kept (the sender's AS2 id is checked before the body is read); the file is named by
  the Message-ID's SHA-256 (a resend replaces it), and the signed receipt says
  "processed" only once the file is on disk.
- ``POST /as2/receipts``: a partner's asynchronous receipt for a message Tandem sent,
  checked against that message: signed by that partner (else dropped: anyone can post
  here), for its Message-ID and MIC. The message's ``receipt`` then says what it said:
  "processed", or "flagged: …" when it refuses the message or its MIC is not the one
  sent (the exchange then sends the message again after a backoff, under the same
  Message-ID). A partner can only answer its own messages.
- ``GET /health``: 200 once the hub answers.

The partners with a profile and their inbound keys are read from the hub on each
request (files, not rows, arrive here): a profile or key the operator changes applies
from the next request.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
import os
import re
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from directus import HubClient, HubError
from domain import clock
from sync import as2
from sync.config import ConfigError, as2_settings
from sync.exchange import RETRY_FIRST_S, RETRY_MOST_S
from sync.inbound import MAX_FILE_BYTES
from sync.mailbox import Conflict, deliver
from sync.partners import ORG_FIELDS, Org
from sync.runs import iso

log = logging.getLogger(__name__)

MESSAGES = "edi_messages"
#: The largest file either door takes: what the exchange reads (:mod:`sync.inbound`).
MAX_BYTES = MAX_FILE_BYTES
CHUNK = 1 << 20
POST_PATH = re.compile(r"/edi/([1-9][0-9]{0,9})\Z")
FILE_KEY = re.compile(r"[A-Za-z0-9._@:-]{1,120}\Z")
Start = Callable[..., Any]


@dataclass(frozen=True)
class Directory:
    """The partners as the receiver sees them."""

    orgs: Mapping[int, Org]
    inbound_keys: Mapping[int, str]

    def https_partner(self, org_id: int, key: str) -> Org | None:
        """The active HTTPS partner ``org_id`` if ``key`` is its inbound key."""
        org = self.orgs.get(org_id)
        stored = self.inbound_keys.get(org_id, "")
        given = hashlib.sha256(key.encode("utf-8", "surrogateescape")).hexdigest()
        if org is None or not stored or not hmac.compare_digest(given, stored):
            return None
        profile = org.profile or {}
        return org if org.status == "active" and profile.get("transport") == "https" else None

    def as2_partners(self) -> dict[str, tuple[Org, as2.Partner]]:
        """Active AS2 partners by AS2 id (one whose certificate cannot be read is left
        out, and logged: its messages are refused as from an unknown partner)."""
        found = {}
        for org in self.orgs.values():
            profile = org.profile or {}
            if org.status != "active" or profile.get("transport") != "as2":
                continue
            try:
                partner = org.as2_partner()
            except ValueError:
                log.warning("%s's AS2 certificate cannot be read", org.name)
                continue
            found[partner.as2_id] = (org, partner)
        return found


class Receiver:
    """The WSGI app; ``hub`` is the receiver account's client."""

    def __init__(
        self,
        hub: HubClient,
        spool_dir: Path,
        ours: as2.Identity | None,
        *,
        max_bytes: int = MAX_BYTES,
    ) -> None:
        self.hub = hub
        self.spool_dir = spool_dir
        self.ours = ours
        self.max_bytes = max_bytes

    # -- who ------------------------------------------------------------------------
    def directory(self) -> Directory:
        orgs = self.hub.read_items(
            "organizations", filter={"edi_profile": {"_nnull": True}}, fields=ORG_FIELDS,
            limit=-1,
        )  # fmt: skip
        agents = self.hub.read_items("edi_agents", fields=["organization", "inbound_key"], limit=-1)
        return Directory(
            {int(row["id"]): Org.of(row) for row in orgs},
            {int(a["organization"]): str(a["inbound_key"]) for a in agents if a.get("inbound_key")},
        )

    def inbox(self, org_id: int) -> Path:
        return self.spool_dir / "edi" / str(org_id) / "inbox"

    # -- the door -------------------------------------------------------------------
    def __call__(self, environ: dict[str, Any], start: Start) -> list[bytes]:
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD", "")
        if path == "/health" and method == "GET":
            return self._health(start)
        if path in ("/as2", "/as2/receipts"):
            return self._as2(environ, start)
        found = POST_PATH.match(path)
        if found is None:
            return _answer(start, "404 Not Found", "no such door: /edi/<partner id>, /as2")
        if method != "POST":
            return _answer(start, "405 Method Not Allowed", "POST only", {"Allow": "POST"})
        return self._https(environ, start, int(found.group(1)))

    def _health(self, start: Start) -> list[bytes]:
        try:
            self.directory()
        except HubError as error:
            return _answer(start, "503 Service Unavailable", f"the hub: {error}")
        return _answer(start, "200 OK", "ok")

    def _https(self, environ: dict[str, Any], start: Start, org_id: int) -> list[bytes]:
        authorization = str(environ.get("HTTP_AUTHORIZATION", ""))
        scheme, _, key = authorization.partition(" ")
        partner = (
            self.directory().https_partner(org_id, key.strip())
            if scheme.lower() == "bearer"
            else None
        )
        if partner is None:
            return _answer(
                start, "401 Unauthorized", "a partner's inbound key is needed",
                {"WWW-Authenticate": 'Bearer realm="tandem-edi"'},
            )  # fmt: skip
        length = str(environ.get("CONTENT_LENGTH") or "")
        if not (length.isascii() and length.isdigit()):
            return _answer(start, "411 Length Required", "a Content-Length is required")
        if int(length) > self.max_bytes:
            return _answer(
                start, "413 Content Too Large", f"the most this takes is {self.max_bytes:,} bytes"
            )
        if int(length) == 0:
            return _answer(start, "400 Bad Request", "an empty body is not an interchange")
        idempotency = str(environ.get("HTTP_IDEMPOTENCY_KEY", "")).strip()
        if idempotency and not FILE_KEY.match(idempotency):
            return _answer(
                start, "400 Bad Request",
                "Idempotency-Key: 1 to 120 letters, digits and . _ @ : - only",
            )  # fmt: skip
        name = file_name("https", idempotency) if idempotency else f"https-{uuid.uuid4().hex}.edi"
        inbox = self.inbox(partner.id)
        again = (inbox / name).exists()
        try:
            deliver(inbox, name, _chunks(environ["wsgi.input"], int(length)), replace=False)
        except _ShortBody:
            return _answer(start, "400 Bad Request", "the body ended before its Content-Length")
        except Conflict:
            return _answer(
                start, "409 Conflict",
                "this Idempotency-Key came with other content, not yet read: nothing replaced",
            )  # fmt: skip
        log.info("took %s from %s over HTTPS (%s bytes)", name, partner.name, length)
        return _answer(start, "200 OK" if again else "201 Created", name)

    def _as2(self, environ: dict[str, Any], start: Start) -> list[bytes]:
        if self.ours is None:
            return _answer(start, "503 Service Unavailable", "AS2 is not configured here")
        known = self.directory().as2_partners()

        def take(received: as2.Received) -> None:
            org, _partner = known[received.sender]
            # A resend of a Message-ID replaces its own file (the same message, again).
            deliver(self.inbox(org.id), file_name("as2", received.message_id), received.payload)
            log.info("took %s from %s over AS2", received.message_id, org.name)

        def on_receipt(headers: dict[str, str], body: bytes) -> None:
            self._receipt(known, headers, body)

        endpoint = as2.Endpoint(
            self.ours, {as2_id: partner for as2_id, (_o, partner) in known.items()}, take,
            on_receipt, max_bytes=self.max_bytes,
        )  # fmt: skip
        return endpoint(environ, start)

    def _receipt(
        self,
        known: Mapping[str, tuple[Org, as2.Partner]],
        headers: Mapping[str, str],
        body: bytes,
    ) -> None:
        """A partner's asynchronous receipt: what it says goes on the message it answers,
        if that partner was sent it."""
        sender = next((v for k, v in headers.items() if k.lower() == "as2-from"), "").strip()
        if sender not in known:
            log.warning("a receipt from %r, who is not an AS2 partner, was dropped", sender)
            return
        org, partner = known[sender]
        original = as2.receipt_answers(headers, body, partner)
        rows = self.hub.read_items(
            MESSAGES,
            filter={"partner": {"_eq": org.id}, "direction": {"_eq": "out"},
                    "as2_message_id": {"_eq": original}},
            fields=["id", "as2_message_id", "as2_mic", "attempts"],
            limit=1,
        ) if original else []  # fmt: skip
        if not rows:
            log.warning("a receipt from %s for %r answers nothing it was sent", org.name, original)
            return
        row = rows[0]
        sent = as2.Outgoing(str(row["as2_message_id"]), {}, b"", str(row["as2_mic"]))
        receipt = as2.read_receipt(headers, body, partner, sent)
        if receipt.signature != "valid":
            # Anyone may post here naming a partner: what a receipt without the partner's
            # signature says is not the partner's word, and changes nothing.
            log.warning("a receipt for %s without %s's signature was dropped", original, org.name)
            return
        change: dict[str, Any] = {"receipt": as2.receipt_words(receipt)}
        if not receipt.ok:  # refused, or another MIC: sent again, after a backoff
            attempts = int(row.get("attempts") or 1)
            wait = min(RETRY_FIRST_S * 2 ** (attempts - 1), RETRY_MOST_S)
            change["next_attempt_at"] = iso(clock.now() + dt.timedelta(seconds=wait))
        self.hub.update_item(MESSAGES, row["id"], change)


def file_name(door: str, key: str) -> str:
    """The spool file of what came through ``door`` under ``key`` (an Idempotency-Key or
    a Message-ID): named by the key's SHA-256, so no text of the partner's goes into a
    file name and two keys never share one."""
    return f"{door}-{hashlib.sha256(key.encode('utf-8', 'surrogateescape')).hexdigest()[:40]}.edi"


class _ShortBody(Exception):
    pass


def _chunks(stream: Any, length: int) -> Iterator[bytes]:
    left = length
    while left:
        chunk = stream.read(min(CHUNK, left))
        if not chunk:
            raise _ShortBody
        left -= len(chunk)
        yield chunk


def _answer(
    start: Start, status: str, text: str, headers: Mapping[str, str] | None = None
) -> list[bytes]:
    body = f"{text}\n".encode()
    start(status, [("Content-Type", "text/plain; charset=utf-8"),
                   ("Content-Length", str(len(body))), *(headers or {}).items()])  # fmt: skip
    return [body]


def create_app(environ: Mapping[str, str] | None = None) -> Receiver:
    """The receiver from the environment: ``TANDEM_HUB_URL``, ``TANDEM_RECEIVER_TOKEN``
    (its own service account's, migration 0017: never the sync service's, which reads
    the partners' agent tokens), ``TANDEM_SPOOL_DIR`` and, for AS2,
    ``TANDEM_AS2_ID``/``_CERT``/``_KEY``."""
    environ = os.environ if environ is None else environ
    hub_url, token = environ.get("TANDEM_HUB_URL", ""), environ.get("TANDEM_RECEIVER_TOKEN", "")
    spool = environ.get("TANDEM_SPOOL_DIR", "")
    if not hub_url.startswith(("http://", "https://")) or not token or not spool:
        raise ConfigError(
            "the receiver needs TANDEM_HUB_URL, TANDEM_RECEIVER_TOKEN and TANDEM_SPOOL_DIR"
        )
    settings = as2_settings(environ)
    ours = None
    if settings is not None:
        try:
            ours = as2.load_identity(
                settings["as2_id"], settings["as2_certificate"], settings["as2_key"]
            )
        except ValueError as error:
            raise ConfigError(str(error)) from None
    return Receiver(HubClient(hub_url.rstrip("/"), token=token), Path(spool), ours)
