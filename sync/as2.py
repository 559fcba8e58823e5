"""AS2 (RFC 4130): EDI over HTTP, signed (SHA-256) and encrypted (AES-256), with signed
receipts (MDNs), synchronous or asynchronous.

Built on ``cryptography``'s PKCS#7 (signing, encryption, decryption) and ``asn1crypto``
(reading a CMS SignedData so that ``cryptography`` can verify its signature, which its
PKCS#7 module does not do). ``pyas2lib`` does not import here as released: its pinned
``oscrypto`` cannot parse OpenSSL 3.0's two-digit patch version (../shared/notes/edi.md).

A message, as sent (outermost first)::

    application/pkcs7-mime; smime-type=enveloped-data    AES-256-CBC, for the partner's
      multipart/signed; micalg=sha-256                   certificate, signed with ours:
        application/octet-stream  (the interchange)      the signature covers this part's
        application/pkcs7-signature                      exact bytes, headers included

The MIC (message integrity check) is the SHA-256 of the signed part's bytes (of the
payload part when unsigned); the receipt repeats it, which proves what arrived. A
partner is known by its AS2 id and certificate; a signature is checked against that
certificate only, never against one the message brings along.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import logging
import os
import re
import secrets
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email.utils import formatdate
from pathlib import Path
from typing import Any

import requests
from asn1crypto import cms
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers import algorithms
from cryptography.hazmat.primitives.serialization import pkcs7
from cryptography.x509.oid import NameOID

from sync.https import HttpsSender

log = logging.getLogger(__name__)

CRLF = b"\r\n"
AS2_VERSION = "1.2"
MIC_ALGORITHM = "sha-256"
DIGESTS = {"sha256": hashes.SHA256(), "sha384": hashes.SHA384(), "sha512": hashes.SHA512()}
SIGNATURE_OPTIONS = (
    "signed-receipt-protocol=optional, pkcs7-signature; signed-receipt-micalg=optional, sha-256"
)
AS2_ID = re.compile(r"[A-Za-z0-9._@-]{1,128}\Z")
PROCESSED = "processed"


class AS2Error(ValueError):
    """A message that cannot be taken; ``disposition`` is the receipt's error modifier
    (RFC 4130 section 7.4.3): authentication-failed, decryption-failed,
    integrity-check-failed, or unexpected-processing-error."""

    def __init__(self, disposition: str, message: str) -> None:
        self.disposition = disposition
        super().__init__(f"{disposition}: {message}")


class ReceiptRefused(RuntimeError):
    """The partner's receipt refused the message, or cannot be trusted (a bad signature,
    another MIC): the message is to be sent again."""


@dataclass(frozen=True)
class Identity:
    """Tandem's own side of an AS2 relationship: its id, certificate and key."""

    as2_id: str
    certificate: x509.Certificate
    key: rsa.RSAPrivateKey


@dataclass(frozen=True)
class Partner:
    """A trading partner: its AS2 id, its certificate, where it takes messages, and how
    it wants them."""

    as2_id: str
    certificate: x509.Certificate
    url: str = ""
    sign: bool = True
    encrypt: bool = True
    receipt: str = "sync"  # sync | async | none
    #: Where the partner takes asynchronous receipts: the only URL we post one to.
    receipt_url: str = ""


@dataclass(frozen=True)
class Outgoing:
    """A message ready to POST: its headers, body, and the MIC its receipt must return."""

    message_id: str
    headers: dict[str, str]
    body: bytes
    mic: str


@dataclass(frozen=True)
class Received:
    message_id: str
    sender: str
    payload: bytes
    filename: str
    mic: str
    signed: bool
    encrypted: bool


@dataclass(frozen=True)
class Receipt:
    """A partner's receipt (MDN) for one of our messages, checked."""

    original_message_id: str
    disposition: str
    mic: str
    signature: str  # valid | invalid | unsigned
    problems: tuple[str, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return not self.problems


def load_identity(as2_id: str, certificate_path: str, key_path: str) -> Identity:
    """Tandem's AS2 identity from its id and PEM files (an unencrypted RSA key); a
    ValueError saying which file is wrong."""
    if not AS2_ID.match(as2_id):
        raise ValueError(f"{as2_id!r} is not an AS2 id: letters, digits and . _ @ - only")
    try:
        with open(certificate_path, "rb") as file:
            certificate = x509.load_pem_x509_certificate(file.read())
    except (OSError, ValueError) as error:
        raise ValueError(f"the AS2 certificate {certificate_path}: {error}") from None
    try:
        with open(key_path, "rb") as file:
            key = serialization.load_pem_private_key(file.read(), None)
    except (OSError, ValueError, TypeError) as error:
        raise ValueError(f"the AS2 key {key_path}: {error}") from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError(f"the AS2 key {key_path}: an RSA key is needed")
    return Identity(as2_id, certificate, key)


def self_signed(as2_id: str, not_before: dt.datetime, days: int = 3650) -> Identity:
    """A new identity with a 2048-bit RSA key and a self-signed certificate (CN: the AS2
    id): what partners exchange certificates with when no CA signs them, as is usual
    in AS2."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, as2_id)])
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject).issuer_name(subject).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before).not_valid_after(not_before + dt.timedelta(days=days))
        .sign(key, hashes.SHA256())
    )  # fmt: skip
    return Identity(as2_id, certificate, key)


def write_identity(identity: Identity, certificate_path: Path, key_path: Path) -> None:
    """The identity as PEM files; the key readable by its owner only."""
    certificate_path.parent.mkdir(parents=True, exist_ok=True)
    certificate_path.write_bytes(identity.certificate.public_bytes(serialization.Encoding.PEM))
    key = identity.key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )  # fmt: skip
    descriptor = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as out:
        out.write(key)


# --- MIME, exactly ---------------------------------------------------------------------
def _entity(headers: Mapping[str, str], body: bytes) -> bytes:
    head = b"".join(f"{name}: {value}".encode("ascii") + CRLF for name, value in headers.items())
    return head + CRLF + body


def _split(entity: bytes) -> tuple[dict[str, str], bytes]:
    """An entity's headers (names lowercased) and body."""
    for blank in (CRLF, b"\n"):
        if entity.startswith(blank):  # no headers at all: the rest is the body
            return {}, entity[len(blank) :]
    cut = entity.find(CRLF + CRLF)
    size = 4
    if cut < 0:
        cut, size = entity.find(b"\n\n"), 2
    if cut < 0:
        raise AS2Error("unexpected-processing-error", "a MIME part with no blank line")
    headers: dict[str, str] = {}
    for line in re.split(rb"\r?\n(?![ \t])", entity[:cut]):
        name, sep, value = line.decode("latin-1").partition(":")
        if sep:
            headers[name.strip().lower()] = " ".join(value.split())
    return headers, entity[cut + size :]


def _parameter(content_type: str, name: str) -> str:
    match = re.search(rf'(?i)\b{name}\s*=\s*("([^"]*)"|[^;\s]+)', content_type)
    if not match:
        return ""
    return match.group(2) if match.group(2) is not None else match.group(1)


def _multipart(subtype: str, parts: list[bytes], **parameters: str) -> tuple[str, bytes]:
    boundary = f"----=_Tandem_{secrets.token_hex(12)}"
    extra = "".join(f'; {k.replace("_", "-")}="{v}"' for k, v in parameters.items())
    body = b"".join(b"--" + boundary.encode() + CRLF + part + CRLF for part in parts)
    body += b"--" + boundary.encode() + b"--" + CRLF
    return f'multipart/{subtype}; boundary="{boundary}"{extra}', body


def _parts(content_type: str, body: bytes) -> list[bytes]:
    """A multipart body's parts, each exactly as sent (the CRLF before a delimiter is the
    delimiter's, RFC 2046 section 5.1.1)."""
    boundary = _parameter(content_type, "boundary").encode("latin-1", "replace")
    if not boundary:
        raise AS2Error("unexpected-processing-error", "a multipart with no boundary")
    delimiter = b"--" + boundary
    chunks = re.split(rb"(?:^|\r?\n)" + re.escape(delimiter), body)
    parts = []
    for chunk in chunks[1:]:
        if chunk.startswith(b"--"):
            break
        parts.append(chunk[2:] if chunk.startswith(CRLF) else chunk.lstrip(b"\n"))
    return parts


def _mic(data: bytes) -> str:
    return f"{base64.b64encode(hashlib.sha256(data).digest()).decode()}, {MIC_ALGORITHM}"


# --- signing and encrypting ------------------------------------------------------------
def _signed(entity: bytes, ours: Identity) -> tuple[str, bytes]:
    """``entity`` in a multipart/signed with a detached SHA-256 signature over its bytes."""
    signature = (
        pkcs7.PKCS7SignatureBuilder()
        .set_data(entity)
        .add_signer(ours.certificate, ours.key, hashes.SHA256())
        .sign(serialization.Encoding.DER,
              [pkcs7.PKCS7Options.DetachedSignature, pkcs7.PKCS7Options.Binary])
    )  # fmt: skip
    signature_part = _entity(
        {"Content-Type": 'application/pkcs7-signature; name="smime.p7s"',
         "Content-Transfer-Encoding": "base64",
         "Content-Disposition": 'attachment; filename="smime.p7s"'},
        base64.encodebytes(signature).replace(b"\n", CRLF),
    )  # fmt: skip
    return _multipart(
        "signed", [entity, signature_part], protocol="application/pkcs7-signature", micalg="sha-256"
    )


def _verify(content: bytes, signature: bytes, certificate: x509.Certificate) -> None:
    """That ``signature`` (a DER CMS SignedData, detached) signs ``content`` with the key
    of ``certificate``; AS2Error otherwise."""
    try:
        info = cms.ContentInfo.load(signature)
        signer = info["content"]["signer_infos"][0]
        digest_name = signer["digest_algorithm"]["algorithm"].native
        digest = DIGESTS[digest_name]
        attributes = signer["signed_attrs"]
        signed = content
        if attributes.native is not None and len(attributes):
            stated = next(
                a["values"][0].native for a in attributes if a["type"].native == "message_digest"
            )
            if stated != hashlib.new(digest_name, content).digest():
                raise AS2Error("integrity-check-failed", "the content is not what was signed")
            raw = attributes.dump()
            signed = b"\x31" + raw[1:]  # the signed attributes as the SET OF that was signed
        public = certificate.public_key()
        if not isinstance(public, rsa.RSAPublicKey):
            raise AS2Error("authentication-failed", "the partner's key is not RSA")
        public.verify(signer["signature"].native, signed, padding.PKCS1v15(), digest)
    except AS2Error:
        raise
    except InvalidSignature:
        raise AS2Error("authentication-failed", "the signature is not the partner's") from None
    except (ValueError, KeyError, StopIteration, TypeError, IndexError) as error:
        raise AS2Error("authentication-failed", f"an unreadable signature ({error})") from None


def _unsigned_content(content_type: str, body: bytes, partner: Partner) -> tuple[bytes, bool]:
    """The signed part of a multipart/signed (checked against the partner's certificate),
    or the entity itself when it is not signed."""
    if not content_type.lower().startswith("multipart/signed"):
        return body, False
    parts = _parts(content_type, body)
    if len(parts) != 2:
        raise AS2Error("authentication-failed", f"a signed message of {len(parts)} parts")
    content, signature_part = parts
    signature_headers, signature_body = _split(signature_part)
    encoding = signature_headers.get("content-transfer-encoding", "").lower()
    try:
        signature = base64.b64decode(signature_body) if encoding == "base64" else signature_body
    except ValueError:
        raise AS2Error("authentication-failed", "the signature is not base64") from None
    _verify(content, signature, partner.certificate)
    return content, True


# --- sending ---------------------------------------------------------------------------
def build_message(
    payload: bytes,
    filename: str,
    ours: Identity,
    partner: Partner,
    *,
    receipt_url: str = "",
    message_id: str = "",
) -> Outgoing:
    """The message carrying ``payload`` to ``partner``, as the partner wants it; a resend
    passes the first attempt's ``message_id`` so the partner can take it once."""
    disposition = f'attachment; filename="{filename}"'
    if not partner.sign and not partner.encrypt:
        # Plain: the HTTP headers are the entity's (RFC 4130 section 7.3.1's MIC covers them).
        content_type, body = "application/octet-stream", payload
        mic = _mic(_entity({"Content-Type": content_type}, payload))
    else:
        entity = _entity(
            {"Content-Type": "application/octet-stream",
             "Content-Transfer-Encoding": "binary",
             "Content-Disposition": disposition},
            payload,
        )  # fmt: skip
        mic = _mic(entity)
        content_type, body = "application/octet-stream", entity
        if partner.sign:
            content_type, body = _signed(entity, ours)
        if partner.encrypt:
            inner = body if not partner.sign else _entity({"Content-Type": content_type}, body)
            body = (
                pkcs7.PKCS7EnvelopeBuilder()
                .set_data(inner)
                .add_recipient(partner.certificate)
                .set_content_encryption_algorithm(algorithms.AES256)
                .encrypt(serialization.Encoding.DER, [pkcs7.PKCS7Options.Binary])
            )
            content_type = 'application/pkcs7-mime; smime-type=enveloped-data; name="smime.p7m"'
    message_id = message_id or f"<{secrets.token_hex(16)}@{ours.as2_id}>"
    headers = {
        "AS2-Version": AS2_VERSION,
        "AS2-From": ours.as2_id,
        "AS2-To": partner.as2_id,
        "Message-ID": message_id,
        "Subject": f"EDI {filename}",
        "Date": formatdate(usegmt=True),
        "MIME-Version": "1.0",
        "Content-Type": content_type,
        "Content-Disposition": disposition,
    }
    if partner.receipt != "none":
        headers["Disposition-Notification-To"] = receipt_url or ours.as2_id
        headers["Disposition-Notification-Options"] = SIGNATURE_OPTIONS
    if partner.receipt == "async":
        if not receipt_url:
            raise ValueError("an asynchronous receipt needs the URL it is sent to")
        headers["Receipt-Delivery-Option"] = receipt_url
    return Outgoing(message_id, headers, body, mic)


# --- receiving -------------------------------------------------------------------------
def _header(headers: Mapping[str, str], name: str) -> str:
    lowered = {k.lower(): v for k, v in headers.items()}
    return lowered.get(name.lower(), "").strip().strip('"')


def receive(
    headers: Mapping[str, str], body: bytes, ours: Identity, partners: Mapping[str, Partner]
) -> Received:
    """The payload of a message to us from a known partner, decrypted and verified;
    AS2Error naming the receipt's disposition otherwise."""
    sender, to = _header(headers, "AS2-From"), _header(headers, "AS2-To")
    partner = partners.get(sender)
    if partner is None:
        raise AS2Error("authentication-failed", f"{sender!r} is not a known partner")
    if to != ours.as2_id:
        raise AS2Error("authentication-failed", f"the message is for {to!r}, not us")
    content_type = _header(headers, "Content-Type")
    encrypted = content_type.lower().startswith("application/pkcs7-mime")
    if encrypted:
        try:
            entity = pkcs7.pkcs7_decrypt_der(body, ours.certificate, ours.key, [])
        except (ValueError, TypeError) as error:
            raise AS2Error(
                "decryption-failed", f"it cannot be decrypted with our key ({error})"
            ) from None
    elif partner.encrypt:
        raise AS2Error("decryption-failed", "the partner's messages must be encrypted")
    else:
        entity = _entity({"Content-Type": content_type}, body)
    entity_headers, entity_body = _split(entity)
    content, signed = _unsigned_content(entity_headers.get("content-type", ""), entity_body,
                                        partner)  # fmt: skip
    if not signed:
        content = entity
    if partner.sign and not signed:
        raise AS2Error("authentication-failed", "the partner's messages must be signed")
    part_headers, payload = _split(content)
    disposition = part_headers.get("content-disposition") or _header(headers, "Content-Disposition")
    return Received(
        _header(headers, "Message-ID"), sender, payload, _parameter(disposition, "filename"),
        _mic(content), signed, encrypted,
    )  # fmt: skip


def build_receipt(
    headers: Mapping[str, str],
    ours: Identity,
    received: Received | None,
    error: AS2Error | None,
) -> tuple[dict[str, str], bytes]:
    """The MDN answering a message: processed with its MIC, or the error; signed when the
    sender asked for a signed receipt."""
    disposition = PROCESSED if error is None else f"processed/error: {error.disposition}"
    text = (
        "The message was received and verified."
        if error is None
        else f"The message was not processed: {error}"
    )
    fields = {
        "Reporting-UA": "Tandem AS2",
        "Original-Recipient": f"rfc822; {ours.as2_id}",
        "Final-Recipient": f"rfc822; {ours.as2_id}",
        "Original-Message-ID": _header(headers, "Message-ID"),
        "Disposition": f"automatic-action/MDN-sent-automatically; {disposition}",
    }
    if received is not None:
        fields["Received-Content-MIC"] = received.mic
    notification = "".join(f"{k}: {v}\r\n" for k, v in fields.items()).encode("ascii")
    report_type, report = _multipart(
        "report",
        [_entity({"Content-Type": "text/plain"}, text.encode() + CRLF),
         _entity({"Content-Type": "message/disposition-notification"}, notification)],
        report_type="disposition-notification",
    )  # fmt: skip
    options = _header(headers, "Disposition-Notification-Options").lower()
    content_type, body = report_type, report
    if "pkcs7-signature" in options:
        content_type, body = _signed(_entity({"Content-Type": report_type}, report), ours)
    answer = {
        "AS2-Version": AS2_VERSION,
        "AS2-From": ours.as2_id,
        "AS2-To": _header(headers, "AS2-From"),
        "Message-ID": f"<{secrets.token_hex(16)}@{ours.as2_id}>",
        "Subject": "Receipt",
        "MIME-Version": "1.0",
        "Content-Type": content_type,
    }
    return answer, body


def read_receipt(
    headers: Mapping[str, str], body: bytes, partner: Partner, sent: Outgoing
) -> Receipt:
    """A partner's MDN for ``sent``, checked: its signature against the partner's
    certificate, the message it answers, its disposition and its MIC. Whatever is wrong
    is a problem on the receipt (never an exception): the sender shows it as failing."""
    problems: list[str] = []
    signature, fields = "unsigned", {}
    try:
        signature, fields = _receipt_fields(_header(headers, "Content-Type"), body, partner,
                                            problems)  # fmt: skip
    except AS2Error as error:
        problems.append(f"the receipt cannot be read: {error}")
    original = fields.get("original-message-id", "")
    disposition = fields.get("disposition", "").split(";", 1)[-1].strip()
    mic = fields.get("received-content-mic", "")
    if original != sent.message_id:
        problems.append(f"it answers {original or 'no message'}, not {sent.message_id}")
    # "processed/warning: duplicate-document" (RFC 4130 7.4.3) is a message taken before,
    # as a resend under the same Message-ID is: taken, not refused.
    taken = disposition == PROCESSED or disposition.lower().startswith(f"{PROCESSED}/warning")
    if not taken:
        problems.append(f"the partner says: {disposition or 'nothing'}")
    elif mic.replace(" ", "") != sent.mic.replace(" ", ""):
        problems.append("its MIC is not the one sent: what arrived is not what was sent")
    return Receipt(original, disposition, mic, signature, tuple(problems))


def receipt_words(receipt: Receipt | None) -> str:
    """What a receipt said, as the messages page shows it."""
    if receipt is None:
        return "awaited (asynchronous)"
    if receipt.ok:
        return f"{receipt.disposition}; signature {receipt.signature}; MIC matches"
    return "flagged: " + "; ".join(receipt.problems)


def receipt_answers(headers: Mapping[str, str], body: bytes, partner: Partner) -> str:
    """The Message-ID an asynchronous receipt says it answers ("" when it cannot be
    read), to find what was sent; :func:`read_receipt` then checks it against that."""
    try:
        _signature, fields = _receipt_fields(_header(headers, "Content-Type"), body, partner, [])
    except AS2Error:
        return ""
    return fields.get("original-message-id", "")


def _receipt_fields(
    content_type: str, body: bytes, partner: Partner, problems: list[str]
) -> tuple[str, dict[str, str]]:
    """A receipt's signature verdict and its disposition-notification fields."""
    signature = "unsigned"
    report_type, report = content_type, body
    if content_type.lower().startswith("multipart/signed"):
        try:
            content, _signed = _unsigned_content(content_type, body, partner)
            signature = "valid"
        except AS2Error as error:
            signature = "invalid"
            problems.append(f"the receipt's signature: {error}")
            parts = _parts(content_type, body)
            if not parts:
                raise AS2Error(
                    "unexpected-processing-error", "a signed receipt of no parts"
                ) from None
            content = parts[0]
        inner, report = _split(content)
        report_type = inner.get("content-type", "")
    elif partner.sign:
        problems.append("the receipt is not signed")
    fields: dict[str, str] = {}
    for part in _parts(report_type, report) if "multipart" in report_type.lower() else []:
        part_headers, part_body = _split(part)
        kind = part_headers.get("content-type", "").lower()
        if kind.startswith("message/disposition-notification"):
            fields, _ = _split(part_body + CRLF + CRLF)
    return signature, fields


# --- the receiving endpoint ------------------------------------------------------------
@dataclass
class Endpoint:
    """A WSGI app that takes AS2 messages at ``/as2`` and asynchronous receipts at
    ``/as2/receipts``.

    ``deliver(received)`` is called once a message is decrypted and verified (before it
    is acknowledged: a receipt says "processed" only for what was handed on); it must be
    idempotent by message id, since a partner resends what it got no receipt for.
    ``on_receipt(headers, body)`` takes a partner's asynchronous receipt as it came.
    A receipt the partner asked to get asynchronously is POSTed by ``post_receipt``
    after the answer (by default in a thread, so the partner's connection is not held).
    """

    ours: Identity
    partners: Mapping[str, Partner]
    deliver: Callable[[Received], None]
    on_receipt: Callable[[dict[str, str], bytes], None] = lambda _h, _b: None
    post_receipt: Callable[[str, dict[str, str], bytes], None] | None = None
    max_bytes: int = 100_000_000

    def __call__(self, environ: dict[str, Any], start: Callable[..., Any]) -> list[bytes]:
        if environ.get("REQUEST_METHOD") != "POST":
            return _answer(start, "405 Method Not Allowed", {"Allow": "POST"}, b"")
        length = str(environ.get("CONTENT_LENGTH") or "")
        if not (length.isascii() and length.isdigit()):
            return _answer(start, "411 Length Required", {}, b"a Content-Length is required")
        if int(length) > self.max_bytes:
            return _answer(start, "413 Content Too Large", {}, b"the message is too large")
        path = environ.get("PATH_INFO", "")
        if path not in ("/as2", "/as2/receipts"):
            return _answer(start, "404 Not Found", {}, b"")
        sender = str(environ.get("HTTP_AS2_FROM", "")).strip().strip('"')
        partner = self.partners.get(sender)
        if partner is None:  # nobody we know: nothing read, no receipt signed or posted
            return _answer(start, "403 Forbidden", {}, b"not a known partner")
        body = environ["wsgi.input"].read(int(length))
        headers = {
            key[5:].replace("_", "-").title(): value
            for key, value in environ.items()
            if key.startswith("HTTP_")
        }
        headers["Content-Type"] = environ.get("CONTENT_TYPE", "")
        if not all(value.isascii() for value in headers.values()):
            return _answer(start, "400 Bad Request", {}, b"AS2 headers are ASCII")
        if path == "/as2/receipts":
            self.on_receipt(headers, body)
            return _answer(start, "200 OK", {}, b"")
        received, error = None, None
        try:
            received = receive(headers, body, self.ours, self.partners)
            self.deliver(received)
        except AS2Error as refused:
            error = refused
        if not _header(headers, "Disposition-Notification-To"):
            return _answer(start, "200 OK" if error is None else "400 Bad Request", {}, b"")
        receipt_headers, receipt = build_receipt(headers, self.ours, received, error)
        target = _header(headers, "Receipt-Delivery-Option")
        if target and partner.receipt_url and target == partner.receipt_url:
            send = self.post_receipt or _post_in_thread
            send(target, receipt_headers, receipt)
            return _answer(start, "200 OK", {}, b"")
        # No asynchronous receipt asked, or to a URL the partner's profile does not name:
        # the receipt goes back on this connection.
        return _answer(start, "200 OK", receipt_headers, receipt)


def _answer(
    start: Callable[..., Any], status: str, headers: Mapping[str, str], body: bytes
) -> list[bytes]:
    start(status, [*headers.items(), ("Content-Length", str(len(body)))])
    return [body]


#: Asynchronous receipts being posted at once; past that, one is posted before answering.
_POSTING = threading.BoundedSemaphore(8)


def _post_in_thread(url: str, headers: dict[str, str], body: bytes) -> None:
    def post(release: bool) -> None:
        try:
            requests.post(
                url, data=body, headers=headers, timeout=(3.05, 30), allow_redirects=False
            )
        except requests.RequestException:
            log.warning("the asynchronous receipt to %s could not be sent", url, exc_info=True)
        finally:
            if release:
                _POSTING.release()

    if _POSTING.acquire(blocking=False):
        threading.Thread(target=post, args=(True,), daemon=True).start()
    else:
        post(False)


def send(outgoing: Outgoing, partner: Partner, sender: HttpsSender) -> Receipt | None:
    """POST a message; with a synchronous receipt, the receipt checked (None otherwise:
    an asynchronous one arrives at our ``/as2/receipts``)."""
    answer = sender.send(
        outgoing.message_id.strip("<>"), outgoing.body, key=outgoing.message_id,
        headers=outgoing.headers,
    )  # fmt: skip
    if partner.receipt != "sync":
        return None
    return read_receipt(dict(answer.headers), answer.content, partner, outgoing)
