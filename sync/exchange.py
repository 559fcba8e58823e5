"""The scheduled EDI exchange between Tandem and partners with an EDI profile.

Each run, for every active partner with a profile:

1. **Inbound.** The files in the partner's inbox (its mailbox's ``inbox/``; for HTTPS
   and AS2, the spool folder the receiving endpoint writes to) are read
   (:func:`domain.edi_orders.read`), each document recorded in ``edi_messages`` under a
   unique ``dedupe`` key *before* it is applied, then applied with the partner's EDI
   agent (so the hub's rules for that partner decide), then marked applied or rejected
   with the reason. The interchange is answered with a 997/CONTRL when the partner wants
   them; the file moves to ``archive/`` (or ``rejected/`` with its reason beside it).
2. **Outbound.** Orders the partner's agent can see and that the partner has not been
   sent become an 850/ORDERS (a cancellation or change, an 860/ORDCHG, when its profile
   expects them); each is recorded with its payload and control number first, then
   delivered. A delivery that fails is retried on later runs with backoff and shown as
   ``failing``; nothing is dropped.

A run killed at any point resumes on the next: a document recorded but not applied is
applied from the file again (every apply is idempotent: promises are set to values, a
shipment or invoice whose number the order already has is not created twice), and a
message recorded but not delivered is delivered again under the same file name. The
same interchange received again (a different file with documents already recorded) is
recorded as a duplicate and not applied.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from directus import HubClient, HubError
from domain import clock
from domain.edi_orders import (
    GROUP_CODES,
    Acknowledgement,
    DocumentError,
    Envelope,
    Fault,
    Invoice,
    Order,
    OrderResponse,
    Received,
    SetAck,
    ShipNotice,
    peek,
    read,
    write_edifact,
    write_x12,
)
from domain.edi_profiles import document_code
from domain.order_documents import (
    digest,
    invoice_row,
    order_document,
    response_changes,
    shipment_row,
)
from domain.orders import InvoicedLine, OrderError, three_way_match
from sync.https import HttpsSender, Undeliverable, Unreachable
from sync.mailbox import TooLarge, deliver, move_unique, quarantine, read_bounded, ready_files
from sync.runs import JobContext, iso

MESSAGES = "edi_messages"
ORG_FIELDS = ["id", "name", "kind", "status", "gln", "x12_qualifier", "x12_id", "edifact_id",
              "edi_profile"]  # fmt: skip
#: The largest file the exchange reads; a larger one is refused unread.
MAX_FILE_BYTES = 20 * 2**20
#: A received file's text is kept on its messages up to this size (else it is archived only).
MAX_KEPT_PAYLOAD = 512 * 2**10
#: Backoff between delivery attempts: doubling from a minute up to an hour.
RETRY_FIRST_S, RETRY_MOST_S = 60, 3600
PO_FIELDS = ["id", "number", "status", "ordered_on", "requested_date", "currency",
             "partnership", "ship_to", "promised_date", "original_promised_date",
             "revised_date", "acknowledged_at"]  # fmt: skip
LINE_FIELDS = ["id", "line_no", "sku", "qty_ordered", "unit_cost_minor", "qty_promised",
               "promised_date", "original_promised_date", "revised_date", "answer"]  # fmt: skip
ELEMENT = re.compile(r"([A-Z][A-Z0-9]{1,2})([0-9]{2})")


@dataclass(frozen=True)
class Org:
    """An organization as the exchange sees it; ``profile`` is None without one."""

    id: int
    name: str
    kind: str
    status: str
    gln: str
    x12_qualifier: str
    x12_id: str
    edifact_id: str
    profile: Mapping[str, Any] | None

    @classmethod
    def of(cls, row: Mapping[str, Any]) -> Org:
        return cls(
            int(row["id"]),
            str(row["name"]),
            str(row["kind"]),
            str(row["status"]),
            row.get("gln") or "",
            row.get("x12_qualifier") or "",
            row.get("x12_id") or "",
            row.get("edifact_id") or "",
            row.get("edi_profile") or None,
        )

    def envelope_id(self, standard: str) -> tuple[str, str]:
        """Who this organization is in an envelope of ``standard``: its own id, else its
        GLN, else a Tandem id (``TANDEM<id>``) the partner's map can be told."""
        if standard == "x12":
            if self.x12_id:
                return self.x12_qualifier or "ZZ", self.x12_id
            return "ZZ", self.gln or f"TANDEM{self.id}"
        return (
            ("14", self.edifact_id or self.gln)
            if (self.edifact_id or self.gln)
            else ("ZZZ", f"TANDEM{self.id}")
        )

    def is_called(self, standard: str, text: str) -> bool:
        return text.strip().upper() == self.envelope_id(standard)[1].upper()

    def expects(self, document: str) -> bool:
        return bool(self.profile) and document in (self.profile or {}).get("expects", ())

    @property
    def standard(self) -> str:
        return str((self.profile or {}).get("standard", ""))


@dataclass
class Outcome:
    """What applying one received document came to."""

    status: str  # applied | rejected
    error: str | None = None
    counterpart: int | None = None
    related: tuple[str, int] | None = None
    number: str = ""
    detail: dict[str, Any] = dataclasses.field(default_factory=dict)


class Exchange:
    """One run's view: the organizations, the agents' tokens, and the run's counters."""

    def __init__(
        self,
        hub: HubClient,
        counts: Counter[str],
        *,
        spool_dir: Path | None = None,
        settle_s: float = 5.0,
        log: Any = None,
    ) -> None:
        self.hub = hub
        self.counts = counts
        self.spool_dir = spool_dir
        self.settle_s = settle_s
        self.log = log
        self.orgs = {
            org.id: org
            for org in map(Org.of, hub.read_items("organizations", fields=ORG_FIELDS, limit=-1))
        }
        self.tokens = {
            int(row["organization"]): str(row["token"])
            for row in hub.read_items("edi_agents", fields=["organization", "token"], limit=-1)
        }
        self._agents: dict[int, HubClient] = {}
        self._controls: dict[int, int] = {}

    # -- who ------------------------------------------------------------------------
    def partners(self) -> list[Org]:
        """Active partners with a profile and an agent, by id."""
        return [
            org
            for org in sorted(self.orgs.values(), key=lambda o: o.id)
            if org.profile and org.status == "active" and org.id in self.tokens
        ]

    def agent(self, org_id: int) -> HubClient:
        if org_id not in self._agents:
            self._agents[org_id] = HubClient(self.hub.base_url, token=self.tokens[org_id])
        return self._agents[org_id]

    def counterpart(self, standard: str, text: str) -> Org | None:
        """The distributor or supplier an envelope names (for whom Tandem answers)."""
        found = [o for o in self.orgs.values() if o.is_called(standard, text)]
        return found[0] if len(found) == 1 else None

    # -- outbound -------------------------------------------------------------------
    def _next_control(self, partner: Org) -> int:
        if partner.id not in self._controls:
            last = self.hub.read_items(
                MESSAGES,
                filter={"direction": {"_eq": "out"}, "partner": {"_eq": partner.id}},
                fields=["control"],
                sort=["-control"],
                limit=1,
            )
            self._controls[partner.id] = int(last[0]["control"] or 0) if last else 0
        self._controls[partner.id] += 1
        return self._controls[partner.id]

    def emit(
        self,
        partner: Org,
        sender: Org | None,
        document: Order | OrderResponse | ShipNotice | Invoice | Acknowledgement,
        code: str,
        *,
        ours: tuple[str, str] | None = None,
        number: str = "",
        related: tuple[str, int] | None = None,
        detail: Mapping[str, Any] | None = None,
        document_digest: str | None = None,
    ) -> dict[str, Any]:
        """Record one outbound interchange (one document), then deliver it."""
        standard = partner.standard
        control = self._next_control(partner)
        ours = ours or (sender.envelope_id(standard) if sender else ("ZZ", "TANDEM"))
        theirs = partner.envelope_id(standard)
        envelope = Envelope(
            sender=ours[1],
            receiver=theirs[1],
            control=control,
            sender_qualifier=ours[0],
            receiver_qualifier=theirs[0],
            created=clock.now(),
        )
        if standard == "x12":
            payload = write_x12([document], envelope)
            interchange, group, unit = f"{control:09d}", str(control), "0001"
        else:
            payload = write_edifact([document], envelope)
            interchange, group, unit = str(control), "", "1"
        row = self.hub.create_item(
            MESSAGES,
            {
                "direction": "out",
                "standard": standard,
                "message_type": code,
                "control_number": interchange,
                "interchange": interchange,
                "group_control": group,
                "set_control": unit,
                "control": control,
                "dedupe": f"out:{partner.id}:{control}",
                "partner": partner.id,
                "sender": sender.id if sender else None,
                "receiver": partner.id,
                "document_number": number,
                "related_collection": related[0] if related else None,
                "related_id": str(related[1]) if related else None,
                "status": "queued",
                "received_at": iso(clock.now()),
                "payload": payload,
                "file_name": f"{interchange}.{code}.{'x12' if standard == 'x12' else 'edi'}",
                "detail": dict(detail or {}),
                "digest": document_digest,
                "attempts": 0,
            },
        )
        return self.deliver(partner, row)

    def deliver(self, partner: Org, row: Mapping[str, Any]) -> dict[str, Any]:
        """Put one recorded message on the partner's transport; ``sent``, or ``failing``
        with the reason and when to try again."""
        profile = partner.profile or {}
        payload = str(row["payload"]).encode("latin-1")
        attempts = int(row.get("attempts") or 0) + 1
        try:
            if profile.get("transport") == "folder":
                deliver(Path(profile["address"]) / "outbox", str(row["file_name"]), payload)
            elif profile.get("transport") == "https":
                HttpsSender(str(profile["address"]), attempts=1).send(
                    str(row["file_name"]), payload, str(row["dedupe"])
                )
            else:
                raise Unreachable(0, "AS2 sending needs the exchange's certificates configured")
        except (OSError, Undeliverable, Unreachable) as error:
            wait = min(RETRY_FIRST_S * 2 ** (attempts - 1), RETRY_MOST_S)
            changes = {
                "status": "failing",
                "attempts": attempts,
                "error": f"{type(error).__name__}: {error}",
                "next_attempt_at": iso(clock.now() + dt.timedelta(seconds=wait)),
            }
            self.counts["delivery_failed"] += 1
        else:
            changes = {
                "status": "sent",
                "attempts": attempts,
                "error": None,
                "next_attempt_at": None,
            }
            self.counts[f"sent_{row['message_type']}"] += 1
        self.hub.update_item(MESSAGES, row["id"], changes)
        return {**row, **changes}

    def deliver_pending(self, partner: Org) -> None:
        """Messages recorded but not delivered (a run stopped between the two, or the
        partner was unreachable) whose next attempt is due."""
        due = self.hub.read_items(
            MESSAGES,
            filter={
                "_and": [
                    {"direction": {"_eq": "out"}},
                    {"partner": {"_eq": partner.id}},
                    {"status": {"_in": ["queued", "failing"]}},
                    {
                        "_or": [
                            {"next_attempt_at": {"_null": True}},
                            {"next_attempt_at": {"_lte": iso(clock.now())}},
                        ]
                    },
                ]
            },
            fields=["id", "payload", "file_name", "dedupe", "attempts", "message_type"],
            sort=["control"],
            limit=-1,
        )
        for row in due:
            self.deliver(partner, row)

    def send_orders(self, partner: Org) -> None:
        """New orders to a supplier that expects them; cancellations and changes of
        orders it was sent, if it expects order changes."""
        if partner.kind != "supplier" or not partner.expects("order"):
            return
        agent = self.agent(partner.id)
        orders = agent.read_items(
            "purchase_orders",
            filter={"status": {"_in": ["open", "cancelled"]}},
            fields=PO_FIELDS,
            sort=["id"],
            limit=-1,
        )
        if not orders:
            return
        codes = [document_code(partner.standard, d) for d in ("order", "order_change")]
        history: dict[int, list[Mapping[str, Any]]] = {}
        for row in self.hub.read_items(
            MESSAGES,
            filter={
                "direction": {"_eq": "out"},
                "partner": {"_eq": partner.id},
                "related_collection": {"_eq": "purchase_orders"},
                "message_type": {"_in": codes},
            },
            fields=["related_id", "digest", "detail"],
            sort=["id"],
            limit=-1,
        ):
            history.setdefault(int(row["related_id"]), []).append(row)
        todo: list[tuple[Mapping[str, Any], str]] = []
        for po in orders:
            sent = history.get(int(po["id"]), [])
            purposes = {(m.get("detail") or {}).get("purpose") for m in sent}
            if not sent and po["status"] == "open":
                todo.append((po, "original"))
            elif sent and po["status"] == "cancelled" and "cancel" not in purposes:
                todo.append((po, "cancel"))
            elif sent and po["status"] == "open":
                todo.append((po, "check"))
        if not todo:
            return
        lines, gtins, glns, distributors = self._order_context(agent, [po for po, _ in todo])
        for po, purpose in todo:
            sent = history.get(int(po["id"]), [])
            document = order_document(
                po,
                lines.get(int(po["id"]), []),
                gtins,
                buyer=self.orgs[distributors[int(po["partnership"])]].gln,
                seller=partner.gln,
                ship_to=glns.get(int(po["ship_to"] or 0), ""),
                purpose="original" if purpose == "check" else purpose,
            )
            said = digest(document)
            if purpose == "check":
                if said == sent[-1].get("digest") or not partner.expects("order_change"):
                    continue
                document = dataclasses.replace(
                    document,
                    purpose="change",
                    lines=tuple(dataclasses.replace(x, action="change") for x in document.lines),
                )
                purpose = "change"
            if purpose == "cancel" and not partner.expects("order_change"):
                continue
            kind = "order" if purpose == "original" else "order_change"
            self.emit(
                partner,
                self.orgs[distributors[int(po["partnership"])]],
                document,
                document_code(partner.standard, kind),
                number=str(po["number"]),
                related=("purchase_orders", int(po["id"])),
                detail={"purpose": purpose},
                document_digest=said,
            )

    def _order_context(
        self, agent: HubClient, orders: Sequence[Mapping[str, Any]]
    ) -> tuple[dict[int, list[dict[str, Any]]], dict[int, str], dict[int, str], dict[int, int]]:
        """The orders' lines, their SKUs' GTINs, ship-to GLNs and each pair's distributor."""
        ids = [int(po["id"]) for po in orders]
        lines: dict[int, list[dict[str, Any]]] = {}
        for chunk in _chunks(ids, 200):
            for line in agent.read_items(
                "po_lines",
                filter={"purchase_order": {"_in": chunk}},
                fields=[*LINE_FIELDS, "purchase_order"],
                limit=-1,
            ):
                lines.setdefault(int(line["purchase_order"]), []).append(line)
        skus = sorted({int(x["sku"]) for rows in lines.values() for x in rows})
        gtins = _lookup(agent, "skus", skus, "gtin")
        glns = _lookup(
            agent, "locations", sorted({int(po["ship_to"] or 0) for po in orders}), "gln"
        )
        pairs = sorted({int(po["partnership"]) for po in orders})
        distributors = {
            int(k): int(v) for k, v in _lookup(agent, "partnerships", pairs, "distributor").items()
        }
        return lines, gtins, glns, distributors

    # -- inbound --------------------------------------------------------------------
    def inbox(self, partner: Org) -> Path | None:
        profile = partner.profile or {}
        if profile.get("transport") == "folder":
            return Path(profile["address"])
        if self.spool_dir is None:
            return None
        return self.spool_dir / "edi" / str(partner.id)

    def receive(self, partner: Org, now: float) -> None:
        """Every whole file in the partner's inbox, oldest name first."""
        mailbox = self.inbox(partner)
        if mailbox is None:
            return
        for path in ready_files(mailbox / "inbox", self.settle_s, now):
            self.counts["files"] += 1
            self.receive_file(partner, mailbox, path)

    def receive_file(self, partner: Org, mailbox: Path, path: Path) -> None:
        try:
            data = read_bounded(path, MAX_FILE_BYTES)
        except TooLarge as error:
            self._refuse(partner, mailbox, path, None, str(error))
            return
        # This very file (a run that stopped before archiving it reads it again), not
        # the same content sent again: its name, its modification time and its digest.
        file_digest = f"{path.name}:{path.stat().st_mtime_ns}:{hashlib.sha256(data).hexdigest()}"
        try:
            received = read(data)
            strangers = sorted(
                {r.sender for r in received if not partner.is_called(r.standard, r.sender)}
            )
            if strangers:
                raise DocumentError(
                    f"sent from {partner.name}'s mailbox, but the envelope names "
                    f"{', '.join(strangers)} as its sender, not "
                    f"{partner.envelope_id(received[0].standard)[1]}",
                    received[0].position,
                    "ISA06" if received[0].standard == "x12" else "UNB0004",
                )
            if received and received[0].standard != partner.standard:
                raise DocumentError(
                    f"{partner.name} exchanges {partner.standard}, not {received[0].standard}",
                    received[0].position,
                )
        except DocumentError as error:
            self._refuse(partner, mailbox, path, data, str(error), error)
            return
        # A file of several documents may hold several buyers' orders: each message's
        # receiver reads its payload, so only a file of one document is kept on it.
        kept = _kept(data) if len(received) == 1 else None
        verdicts: dict[tuple[str, str], list[tuple[Received, bool, str | None]]] = {}
        for document in received:
            accepted, error = self._receive_document(
                partner, path.name, file_digest, kept, document
            )
            if accepted is not None:
                verdicts.setdefault((document.interchange, document.group), []).append(
                    (document, accepted, error)
                )
        for (interchange, _group), sets in verdicts.items():
            self._answer(partner, interchange, sets)
        move_unique(path, mailbox / "archive")

    def _receive_document(
        self, partner: Org, name: str, file_digest: str, kept: str | None, document: Received
    ) -> tuple[bool | None, str | None]:
        """Record, then apply, one document. Returns whether it was accepted (None for a
        duplicate, which is answered no more than it was the first time) and why not."""
        key = f"in:{partner.id}:{document.interchange}:{document.group}:{document.control}"
        found = self.hub.read_items(
            MESSAGES, filter={"dedupe": {"_eq": key}}, fields=["id", "status", "detail"], limit=1
        )
        if found and (found[0].get("detail") or {}).get("file") != file_digest:
            self.hub.create_item(
                MESSAGES,
                {
                    **self._inbound(partner, document, name, file_digest, kept),
                    "status": "duplicate",
                    "error": f"interchange {document.interchange} was received before "
                    f"(message {found[0]['id']}); not applied again",
                },
            )
            self.counts["duplicates"] += 1
            return None, None
        if found and found[0]["status"] != "received":
            return found[0]["status"] == "applied", None  # done before a stop: resume
        row = (
            found[0]
            if found
            else self.hub.create_item(
                MESSAGES,
                {
                    **self._inbound(partner, document, name, file_digest, kept),
                    "dedupe": key,
                    "status": "received",
                },
            )
        )
        outcome = self.apply(partner, document)
        changes: dict[str, Any] = {
            "status": outcome.status,
            "error": outcome.error,
            "detail": {**(row.get("detail") or {}), "file": file_digest, **outcome.detail},
            "document_number": outcome.number,
        }
        if outcome.related:
            changes["related_collection"], changes["related_id"] = (
                outcome.related[0],
                str(outcome.related[1]),
            )
        if outcome.counterpart is not None:
            changes["receiver"] = outcome.counterpart  # known once its order is: it sees it
        self.hub.update_item(MESSAGES, row["id"], changes)
        self.counts[f"{outcome.status}_{document.code}"] += 1
        return outcome.status == "applied", outcome.error

    def _inbound(
        self, partner: Org, document: Received, name: str, file_digest: str, kept: str | None
    ) -> dict[str, Any]:
        return {
            "direction": "in",
            "standard": document.standard,
            "message_type": document.code,
            "control_number": document.interchange,
            "interchange": document.interchange,
            "group_control": document.group,
            "set_control": document.control,
            "partner": partner.id,
            "sender": partner.id,
            "receiver": None,
            "received_at": iso(clock.now()),
            "payload": kept,
            "file_name": name,
            "detail": {"file": file_digest},
        }

    def _refuse(
        self,
        partner: Org,
        mailbox: Path,
        path: Path,
        data: bytes | None,
        reason: str,
        error: DocumentError | None = None,
    ) -> None:
        """A file that cannot be read at all: recorded as rejected with the reason, moved
        to ``rejected/`` with the reason beside it, answered with a rejection when its
        envelope can still be read."""
        peeked = peek(data) if data is not None else None
        self.hub.create_item(
            MESSAGES,
            {
                "direction": "in",
                "standard": peeked.standard if peeked else partner.standard,
                "message_type": peeked.code if peeked and peeked.code else "unknown",
                "control_number": peeked.interchange if peeked else None,
                "interchange": peeked.interchange if peeked else None,
                "partner": partner.id,
                "sender": partner.id,
                "status": "rejected",
                "error": reason,
                "received_at": iso(clock.now()),
                "payload": _kept(data),
                "file_name": path.name,
                "detail": {
                    "position": getattr(error, "position", 0),
                    "element": getattr(error, "element", ""),
                },
            },
        )
        self.counts["rejected_files"] += 1
        quarantine(path, mailbox / "rejected", reason)
        if (
            peeked is not None
            and peeked.interchange
            and peeked.code not in ("997", "CONTRL")
            and partner.profile
            and partner.profile.get("acknowledgements")
            and peeked.standard == partner.standard
            and partner.is_called(peeked.standard, peeked.sender)
        ):
            fault = _fault(peeked.standard, error)
            document = Received(
                peeked.standard,
                peeked.code,
                Acknowledgement("", "", "rejected"),
                peeked.sender,
                peeked.receiver,
                peeked.interchange,
                peeked.group,
                peeked.control,
                0,
            )
            self._answer(partner, peeked.interchange, [(document, False, reason)], fault)

    def _answer(
        self,
        partner: Org,
        interchange: str,
        sets: Sequence[tuple[Received, bool, str | None]],
        fault: Fault | None = None,
    ) -> None:
        """The 997/CONTRL for one received interchange (never for an acknowledgement)."""
        first = sets[0][0]
        if first.code in ("997", "CONTRL") or not (partner.profile or {}).get("acknowledgements"):
            return
        done = self.hub.read_items(
            MESSAGES,
            filter={
                "direction": {"_eq": "out"},
                "partner": {"_eq": partner.id},
                "message_type": {"_in": ["997", "CONTRL"]},
                "document_number": {"_eq": interchange},
            },
            fields=["id"],
            limit=1,
        )
        if done:
            return
        accepted = sum(1 for _d, ok, _e in sets if ok)
        status = (
            "accepted" if accepted == len(sets) else "rejected" if not accepted else "partially"
        )
        faults = (fault,) if fault else ()
        acks = tuple(SetAck(d.code, d.control, ok, () if ok else faults) for d, ok, _e in sets)
        if first.standard == "x12":
            ack = Acknowledgement(
                GROUP_CODES.get(first.code, first.code[:2]), first.group, status, acks
            )  # type: ignore[arg-type]
        else:
            ack = Acknowledgement(first.code, interchange, status, acks)  # type: ignore[arg-type]
        counterpart = self.counterpart(first.standard, first.receiver)
        self.emit(
            partner,
            counterpart,
            ack,
            "997" if first.standard == "x12" else "CONTRL",
            ours=(_qualifier(first.standard, first.receiver), first.receiver),
            number=interchange,
            detail={
                "answers": interchange,
                "status": status,
                "reasons": [e for _d, ok, e in sets if not ok and e],
            },
        )

    # -- applying -------------------------------------------------------------------
    def apply(self, partner: Org, document: Received) -> Outcome:
        """One document applied with the partner's agent, or refused with the reason."""
        doc = document.document
        try:
            if isinstance(doc, Acknowledgement):
                return self._acknowledged(partner, doc)
            if isinstance(doc, Order):
                raise OrderError(
                    f"{partner.name} is a {partner.kind}: Tandem takes orders by EDI only "
                    "from its partners' buyers' portal, not from a mailbox"
                )
            if partner.kind != "supplier":
                raise OrderError(
                    f"{partner.name} is a {partner.kind}; only suppliers send {document.code}"
                )
            if isinstance(doc, OrderResponse):
                return self._answered(partner, document, doc)
            if isinstance(doc, ShipNotice):
                return self._shipped(partner, document, doc)
            return self._invoiced(partner, document, doc)
        except OrderError as error:
            return Outcome("rejected", str(error), number=_number_of(doc))
        except HubError as error:
            return Outcome("rejected", f"the hub refused it: {error}", number=_number_of(doc))

    def _order(
        self, partner: Org, document: Received, number: str
    ) -> tuple[dict[str, Any], list[dict[str, Any]], dict[int, str]]:
        """The partner's order of this number (the envelope's receiver telling two
        buyers' orders apart), its lines and their GTINs; or OrderError, which never says
        whether another partner has an order of that number."""
        agent = self.agent(partner.id)
        where: dict[str, Any] = {"number": {"_eq": number}}
        buyer = self.counterpart(document.standard, document.receiver)
        if buyer is not None and buyer.kind != "supplier":
            where = {"_and": [where, {"partnership": {"distributor": {"_eq": buyer.id}}}]}
        found = agent.read_items("purchase_orders", filter=where, fields=PO_FIELDS, limit=2)
        if not found:
            raise OrderError(f"{partner.name} has no order {number}")
        if len(found) > 1:
            raise OrderError(
                f"{partner.name} has several orders {number}; "
                "the envelope's receiver does not say whose"
            )
        po = found[0]
        lines = agent.read_items(
            "po_lines", filter={"purchase_order": {"_eq": po["id"]}}, fields=LINE_FIELDS, limit=-1
        )
        gtins = _lookup(agent, "skus", sorted({int(x["sku"]) for x in lines}), "gtin")
        return po, lines, gtins

    def _distributor(self, partner: Org, po: Mapping[str, Any]) -> int:
        pair = _lookup(
            self.agent(partner.id), "partnerships", [int(po["partnership"])], "distributor"
        )
        return int(pair[int(po["partnership"])])

    def _answered(self, partner: Org, document: Received, doc: OrderResponse) -> Outcome:
        po, lines, gtins = self._order(partner, document, doc.order)
        agent = self.agent(partner.id)
        order, line_changes = response_changes(po, lines, gtins, doc, iso(clock.now()))
        if line_changes:
            agent.patch(
                "/items/po_lines", [{"id": k, **v} for k, v in line_changes.items()], fields=["id"]
            )
        if order:
            agent.update_item("purchase_orders", po["id"], order, fields=["id"])
        return Outcome(
            "applied",
            counterpart=self._distributor(partner, po),
            related=("purchase_orders", int(po["id"])),
            number=doc.order,
            detail={"status": order.get("status", po["status"])},
        )

    def _shipped(self, partner: Org, document: Received, doc: ShipNotice) -> Outcome:
        numbers = doc.orders
        if len(numbers) != 1:
            raise OrderError(
                f"ship notice {doc.number} ships against {len(numbers)} orders; "
                "Tandem takes one order per notice"
            )
        po, lines, gtins = self._order(partner, document, numbers[0])
        agent = self.agent(partner.id)
        have = agent.read_items(
            "shipments",
            filter={"purchase_order": {"_eq": po["id"]}},
            fields=["id", "number", "lines.po_line", "lines.qty_shipped"],
            limit=-1,
        )
        if any(s["number"] == doc.number for s in have):
            return Outcome(
                "applied",
                counterpart=self._distributor(partner, po),
                related=("purchase_orders", int(po["id"])),
                number=doc.number,
            )
        before: Counter[int] = Counter()
        for shipment in have:
            for line in shipment.get("lines") or []:
                before[int(line["po_line"])] += int(line["qty_shipped"])
        shipment, status = shipment_row(po, lines, gtins, before, doc, clock.today())
        agent.create_item("shipments", shipment, fields=["id"])
        if po["status"] == "open":
            agent.update_item(
                "purchase_orders",
                po["id"],
                {"status": "acknowledged", "acknowledged_at": iso(clock.now())},
                fields=["id"],
            )
        if status != po["status"]:
            agent.update_item("purchase_orders", po["id"], {"status": status}, fields=["id"])
        return Outcome(
            "applied",
            counterpart=self._distributor(partner, po),
            related=("purchase_orders", int(po["id"])),
            number=doc.number,
            detail={"status": status},
        )

    def _invoiced(self, partner: Org, document: Received, doc: Invoice) -> Outcome:
        po, lines, gtins = self._order(partner, document, doc.order)
        agent = self.agent(partner.id)
        related = ("purchase_orders", int(po["id"]))
        have = agent.read_items(
            "invoices",
            filter={"purchase_order": {"_eq": po["id"]}},
            fields=["id", "number", "lines.po_line", "lines.qty", "lines.unit_price_minor"],
            limit=-1,
        )
        if not any(i["number"] == doc.number for i in have):
            agent.create_item(
                "invoices", invoice_row(po, lines, gtins, doc, clock.today()), fields=["id"]
            )
            have = agent.read_items(
                "invoices",
                filter={"purchase_order": {"_eq": po["id"]}},
                fields=["id", "number", "lines.po_line", "lines.qty", "lines.unit_price_minor"],
                limit=-1,
            )
        flags = match(agent, po, lines, have)
        return Outcome(
            "applied",
            counterpart=self._distributor(partner, po),
            related=related,
            number=doc.number,
            detail={"match": flags},
        )

    def _acknowledged(self, partner: Org, doc: Acknowledgement) -> Outcome:
        """A 997/CONTRL for an interchange Tandem sent the partner: that message is
        marked acknowledged or rejected, with the faults it reports."""
        reference = doc.reference.strip().lstrip("0") or "0"
        if not reference.isdigit():
            raise OrderError(
                f"acknowledges interchange {doc.reference!r}, which Tandem never sends"
            )
        sent = self.hub.read_items(
            MESSAGES,
            filter={
                "direction": {"_eq": "out"},
                "partner": {"_eq": partner.id},
                "control": {"_eq": int(reference)},
            },
            fields=["id", "related_collection", "related_id", "sender"],
            limit=1,
        )
        if not sent:
            raise OrderError(f"no interchange {doc.reference} was sent to {partner.name}")
        status = (
            "acknowledged"
            if doc.status == "accepted"
            else "rejected"
            if doc.status == "rejected"
            else "partially acknowledged"
        )
        faults = [dataclasses.asdict(f) for s in doc.sets for f in s.faults]
        self.hub.update_item(
            MESSAGES,
            sent[0]["id"],
            {"status": status, "detail": {"acknowledged": doc.status, "faults": faults}},
        )
        related = sent[0]
        return Outcome(
            "applied",
            counterpart=related.get("sender"),
            number=doc.reference,
            related=(
                (related["related_collection"], int(related["related_id"]))
                if related.get("related_id")
                else None
            ),
            detail={"acknowledges": doc.reference, "verdict": doc.status},
        )


def match(
    agent: HubClient,
    po: Mapping[str, Any],
    lines: Sequence[Mapping[str, Any]],
    invoices: Iterable[Mapping[str, Any]],
) -> list[dict[str, Any]]:
    """The order's three-way match, as its flags per line (PO line number)."""
    shipped: Counter[str] = Counter()
    received: Counter[str] = Counter()
    number = {int(x["id"]): str(x["line_no"]) for x in lines}
    any_receipt = False
    for line in agent.read_items(
        "shipment_lines",
        filter={"shipment": {"purchase_order": {"_eq": po["id"]}}},
        fields=["po_line", "qty_shipped", "qty_received"],
        limit=-1,
    ):
        shipped[number[int(line["po_line"])]] += int(line["qty_shipped"])
        if line.get("qty_received") is not None:
            any_receipt = True
            received[number[int(line["po_line"])]] += int(line["qty_received"])
    billed = [
        InvoicedLine(number.get(int(x["po_line"]), "?"), int(x["qty"]), int(x["unit_price_minor"]))
        for invoice in invoices
        for x in invoice.get("lines") or []
    ]
    ordered = [(str(x["line_no"]), int(x["qty_ordered"]), int(x["unit_cost_minor"])) for x in lines]
    result = three_way_match(ordered, received if any_receipt else {}, billed, shipped=shipped)
    return [
        {
            "line": m.line,
            "ordered": m.ordered,
            "received": m.received,
            "invoiced": m.invoiced,
            "flags": list(m.flags),
        }
        for m in result
    ]


def _lookup(agent: HubClient, collection: str, ids: Sequence[int], field: str) -> dict[int, Any]:
    out: dict[int, Any] = {}
    for chunk in _chunks([i for i in ids if i], 200):
        for row in agent.read_items(
            collection, filter={"id": {"_in": chunk}}, fields=["id", field], limit=-1
        ):
            out[int(row["id"])] = row.get(field) or ""
    return out


def _chunks(items: Sequence[int], size: int) -> Iterable[list[int]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


def _kept(data: bytes | None) -> str | None:
    """A received file's text as its messages keep it (None past the size kept)."""
    return data.decode("latin-1") if data is not None and len(data) <= MAX_KEPT_PAYLOAD else None


def _number_of(doc: Any) -> str:
    return str(
        getattr(doc, "number", "") or getattr(doc, "order", "") or getattr(doc, "reference", "")
    )


def _qualifier(standard: str, text: str) -> str:
    if standard == "x12":
        return "ZZ"
    return "14" if len(text) == 13 and text.isdigit() else "ZZZ"


def _fault(standard: str, error: DocumentError | None) -> Fault | None:
    """Where a reading error was, as a 997's AK3/AK4 or a CONTRL's UCS/UCD."""
    if error is None:
        return None
    found = ELEMENT.match(error.element or "")
    if found is None:
        return Fault("5" if standard == "x12" else "12", position=error.position)
    return Fault(
        "8" if standard == "x12" else "12", found.group(1), error.position, int(found.group(2))
    )


def exchange(ctx: JobContext) -> None:
    """The ``edi.exchange`` job: every partner's inbox, then what is due to it."""
    spool = ctx.settings.get("spool_dir")
    run = Exchange(
        ctx.hub,
        ctx.counts,
        spool_dir=Path(spool) if spool else None,
        settle_s=float(ctx.settings.get("settle_s", 5)),
        log=ctx.log,
    )
    now = clock.now().timestamp()
    for partner in run.partners():
        for step, call in (
            ("inbox", lambda p=partner: run.receive(p, now)),
            ("orders", lambda p=partner: run.send_orders(p)),
            ("deliveries", lambda p=partner: run.deliver_pending(p)),
        ):
            try:
                call()
            except (HubError, OSError) as error:
                ctx.item_failed(f"{partner.name} {step}", error)
