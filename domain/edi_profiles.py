"""A partner's EDI profile: which standard it speaks, who it is in an envelope, how its
interchanges travel, which documents it sends and expects, and whether it wants
functional acknowledgements. One per organization, set by the operator.

Pure: :func:`check` turns what the operator entered into a profile, or the problems per
field, in words the operator can act on.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa

STANDARDS = {"x12": "X12 004010", "edifact": "EDIFACT D96A"}
TRANSPORTS = ("folder", "https", "as2")
#: The documents of the order exchange, by what they are, and their names per standard.
DOCUMENTS = {
    "order": ("850", "ORDERS"),
    "order_change": ("860", "ORDCHG"),
    "order_response": ("855", "ORDRSP"),
    "ship_notice": ("856", "DESADV"),
    "invoice": ("810", "INVOIC"),
    "sales_report": ("852", "SLSRPT"),
    "inventory_report": ("846", "INVRPT"),
    "forecast": ("830", "DELFOR"),
}
#: Documents Tandem receives but never sends, and those it reads in X12 only.
RECEIVED_ONLY = frozenset({"sales_report", "inventory_report", "forecast"})
X12_ONLY = frozenset({"forecast"})
PLURALS = {"sales_report": "sales reports", "inventory_report": "inventory reports",
           "forecast": "forecasts"}  # fmt: skip
#: ISA05/ISA07 interchange ID qualifiers (X12 element I05) a retail partner uses.
ISA_QUALIFIERS = {
    "01": "D-U-N-S", "08": "UCC EDI communications ID", "09": "X.121", "12": "phone",
    "14": "D-U-N-S plus suffix", "16": "D-U-N-S plus 4", "20": "HIN", "27": "CMS",
    "28": "FIPS", "29": "AHA", "30": "US federal tax id", "33": "NAIC", "ZZ": "mutually defined",
}  # fmt: skip
#: UNB partner identification code qualifiers (0007) in use: GLN and mutually defined.
UNB_QUALIFIERS = {"14": "EAN location number (GLN)", "ZZZ": "mutually defined", "1": "D-U-N-S"}
#: What may stand in an envelope id: no X12 or EDIFACT delimiter, no control character.
ENVELOPE_TEXT = re.compile(r"[A-Za-z0-9 ._/()&@-]+\Z")
URL = re.compile(r"(https?)://(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+)(:[0-9]{1,5})?(/[^\s]*)?\Z")
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "[::1]"})
AS2_ID = re.compile(r"[A-Za-z0-9._@-]{1,128}\Z")
FIELDS = ("standard", "isa_qualifier", "isa_id", "gs_code", "unb_qualifier", "unb_id",
          "transport", "address", "as2_id", "as2_certificate", "as2_receipt", "sends",
          "expects", "acknowledgements")  # fmt: skip
#: How an AS2 partner returns its receipt (MDN) for what Tandem sends it.
AS2_RECEIPTS = ("sync", "async")


def document_code(standard: str, document: str) -> str:
    """The transaction set or message that carries ``document`` in ``standard``."""
    x12, edifact = DOCUMENTS[document]
    return x12 if standard == "x12" else edifact


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _envelope_id(value: str, field: str, longest: int, problems: dict[str, list[str]]) -> None:
    if not value:
        problems.setdefault(field, []).append("required")
    elif len(value) > longest:
        problems.setdefault(field, []).append(f"at most {longest} characters")
    elif not ENVELOPE_TEXT.match(value):
        problems.setdefault(field, []).append(
            "letters, digits, spaces and . _ / ( ) & @ - only: no EDI delimiter"
        )


def _documents(value: Any, field: str, problems: dict[str, list[str]]) -> list[str]:
    listed = value if isinstance(value, list | tuple) else []
    if not isinstance(value, list | tuple):
        problems.setdefault(field, []).append("a list of documents")
    unknown = [d for d in listed if d not in DOCUMENTS]
    if unknown:
        problems.setdefault(field, []).append(
            f"unknown: {', '.join(map(str, unknown))}; known: {', '.join(DOCUMENTS)}"
        )
    return [d for d in DOCUMENTS if d in listed]


def _is_rsa_certificate(pem: str) -> bool:
    """Whether ``pem`` is one X.509 certificate with an RSA key (what AS2 signs and
    encrypts with here)."""
    if not pem.startswith("-----BEGIN CERTIFICATE-----") or not pem.isascii():
        return False
    try:
        certificate = x509.load_pem_x509_certificate(pem.encode("ascii"))
    except ValueError:
        return False
    return isinstance(certificate.public_key(), rsa.RSAPublicKey)


def check(entered: Mapping[str, Any]) -> tuple[dict[str, Any] | None, dict[str, list[str]]]:
    """The profile the operator entered, normalized, or None and the problems per field.

    - ``standard``: ``x12`` (ISA qualifier and id up to 15, GS code 2 to 15) or
      ``edifact`` (UNB qualifier and id up to 35);
    - ``transport``: ``folder`` (``address`` is the mailbox's folder, an absolute path),
      ``https`` (an https URL; http only to this machine) or ``as2`` (that, the
      partner's ``as2_id``, its certificate ``as2_certificate`` in PEM, and
      ``as2_receipt``: whether it answers ``sync`` on the connection or ``async``);
    - ``sends`` and ``expects``: documents, of :data:`DOCUMENTS`; at least one of them;
      reports (:data:`RECEIVED_ONLY`) are never expected, and a forecast comes as X12;
    - ``acknowledgements``: whether the partner wants a 997/CONTRL for what it is sent.
    """
    problems: dict[str, list[str]] = {}
    unknown = sorted(set(entered) - set(FIELDS))
    if unknown:
        problems["_schema"] = [f"unknown fields: {', '.join(unknown)}"]
    standard = _text(entered.get("standard")).lower()
    profile: dict[str, Any] = {"standard": standard}
    if standard == "x12":
        qualifier = _text(entered.get("isa_qualifier")).upper()
        if qualifier not in ISA_QUALIFIERS:
            problems["isa_qualifier"] = [f"one of {', '.join(ISA_QUALIFIERS)}"]
        isa_id, gs_code = _text(entered.get("isa_id")), _text(entered.get("gs_code"))
        _envelope_id(isa_id, "isa_id", 15, problems)
        _envelope_id(gs_code, "gs_code", 15, problems)
        if gs_code and len(gs_code) < 2:
            problems.setdefault("gs_code", []).append("at least 2 characters")
        profile.update(isa_qualifier=qualifier, isa_id=isa_id, gs_code=gs_code)
    elif standard == "edifact":
        qualifier = _text(entered.get("unb_qualifier")).upper() or "14"
        if qualifier not in UNB_QUALIFIERS:
            problems["unb_qualifier"] = [f"one of {', '.join(UNB_QUALIFIERS)}"]
        unb_id = _text(entered.get("unb_id"))
        _envelope_id(unb_id, "unb_id", 35, problems)
        profile.update(unb_qualifier=qualifier, unb_id=unb_id)
    else:
        problems["standard"] = [f"one of {', '.join(STANDARDS)}"]
    transport = _text(entered.get("transport")).lower()
    address = _text(entered.get("address"))
    profile.update(transport=transport, address=address)
    if transport not in TRANSPORTS:
        problems["transport"] = [f"one of {', '.join(TRANSPORTS)}"]
    elif transport == "folder":
        if not address.startswith("/") or "\x00" in address or "/../" in f"{address}/":
            problems["address"] = ["the mailbox folder, as an absolute path"]
    else:
        url = URL.match(address)
        scheme, host = (url.group(1), url.group(2).lower()) if url else ("", "")
        if not url or not (scheme == "https" or host in LOCAL_HOSTS):
            problems["address"] = ["an https:// URL (http:// only to this machine)"]
    if transport == "as2":
        as2_id = _text(entered.get("as2_id"))
        if not AS2_ID.match(as2_id):
            problems["as2_id"] = ["the partner's AS2 id: letters, digits and . _ @ - only"]
        profile["as2_id"] = as2_id
        certificate = _text(entered.get("as2_certificate"))
        if not _is_rsa_certificate(certificate):
            problems["as2_certificate"] = [
                "the partner's X.509 certificate (RSA), PEM: -----BEGIN CERTIFICATE-----…"
            ]
        profile["as2_certificate"] = certificate
        receipt = _text(entered.get("as2_receipt")).lower() or "sync"
        if receipt not in AS2_RECEIPTS:
            problems["as2_receipt"] = [f"one of {', '.join(AS2_RECEIPTS)}"]
        profile["as2_receipt"] = receipt
    profile["sends"] = _documents(entered.get("sends", []), "sends", problems)
    profile["expects"] = _documents(entered.get("expects", []), "expects", problems)
    sent_to = [PLURALS[d] for d in profile["expects"] if d in RECEIVED_ONLY]
    if sent_to:
        problems.setdefault("expects", []).append(
            f"Tandem receives {', '.join(sent_to)} from distributors; it never sends them"
        )
    if standard == "edifact" and any(d in X12_ONLY for d in profile["sends"]):
        problems.setdefault("sends", []).append(
            "forecasts are read as X12 830 only: EDIFACT DELFOR is not read"
        )
    if not profile["sends"] and not profile["expects"] and "sends" not in problems:
        problems["sends"] = ["name at least one document the partner sends or expects"]
    acknowledgements = entered.get("acknowledgements", True)
    if not isinstance(acknowledgements, bool):
        problems["acknowledgements"] = ["true or false"]
    profile["acknowledgements"] = acknowledgements is True
    return (None, problems) if problems else (profile, {})
