"""The scheduled EDI exchange between Tandem and partners with an EDI profile.

Each run of the ``edi.exchange`` job, for every active partner with a profile and an
agent:

1. **Deliveries** recorded but not yet made (a run that stopped, a partner that was
   unreachable) go first, oldest first, once their next attempt is due (backoff
   doubling from a minute to an hour, ``failing`` meanwhile). While one waits, the
   partner's later messages are recorded and wait behind it: a cancellation never
   overtakes its order. Nothing is dropped.
2. **Inbound** (:mod:`sync.inbound`): the files in the partner's inbox, each document
   recorded before it is applied with the partner's agent (:mod:`sync.applying`), the
   interchange answered with a 997/CONTRL, the file archived or quarantined.
3. **Outbound** (here): orders the partner's agent can see and that it has not been sent
   become an 850/ORDERS; a cancellation or a change of one it was sent, an 860/ORDCHG
   when its profile expects order changes; to a distributor that expects them, what
   suppliers answered, shipped and invoiced. Each message is recorded with its payload
   and its control number (per pair of envelope parties) *before* it is delivered,
   under a file name of its own; a run killed between the two delivers it on the next,
   and writing the same name again leaves one whole file. A document that cannot be
   written (a value no EDI delimiter set can carry) is recorded ``unsendable`` with why.

Transports: a folder mailbox; HTTPS POST (under an idempotency key); AS2
(:mod:`sync.as2`: signed and encrypted with Tandem's identity, its Message-ID and MIC
recorded before the POST so that a resend is the same message; a synchronous receipt
that refuses it or cannot be trusted makes it ``failing``; an asynchronous one is the
receiver's (:mod:`sync.receiver`) to check, and a flagged one is sent again here once
due). What HTTPS and AS2 partners send, the receiver leaves in the spool folder
``<spool>/edi/<partner id>/inbox``, read here like a mailbox.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from directus import HubClient
from domain import clock
from domain.edi_orders import (
    Acknowledgement,
    Envelope,
    Invoice,
    Order,
    OrderResponse,
    ShipNotice,
    write_edifact,
    write_x12,
)
from domain.edi_profiles import document_code
from domain.order_documents import (
    digest,
    invoice_document,
    order_document,
    response_document,
    ship_notice_document,
)
from sync import as2, inbound
from sync.applying import LINE_FIELDS, PO_FIELDS, chunks, lookup
from sync.https import HttpsSender, Undeliverable, Unreachable
from sync.mailbox import deliver
from sync.partners import ORG_FIELDS, Org
from sync.runs import JobContext, iso

MESSAGES = "edi_messages"
SHIPMENT_FIELDS = ["id", "number", "ship_date", "expected_delivery", "lines.po_line",
                   "lines.qty_shipped", "lines.sscc"]  # fmt: skip
INVOICE_FIELDS = ["id", "number", "invoice_date", "currency", "total_minor", "lines.po_line",
                  "lines.qty", "lines.unit_price_minor"]  # fmt: skip
#: Backoff between delivery attempts: doubling from a minute up to an hour.
RETRY_FIRST_S, RETRY_MOST_S = 60, 3600
Document = Order | OrderResponse | ShipNotice | Invoice | Acknowledgement


class Exchange:
    """One run's view: the organizations, the agents' tokens, and the run's counters."""

    def __init__(
        self,
        hub: HubClient,
        counts: Counter[str],
        *,
        spool_dir: Path | None = None,
        settle_s: float = 5.0,
        as2_identity: as2.Identity | str | None = None,
        as2_receipt_url: str = "",
        drop_dir: Path | None = None,
    ) -> None:
        self.hub = hub
        self.counts = counts
        self.spool_dir = spool_dir
        self.settle_s = settle_s
        #: Tandem's AS2 identity, or why there is none (AS2 partners then wait, failing).
        self.as2_identity = as2_identity or "Tandem's AS2 identity is not configured"
        self.as2_receipt_url = as2_receipt_url
        #: Distributors' drop folders, where sales and inventory reports go to be imported.
        self.drop_dir = drop_dir
        self.orgs = {
            org.id: org
            for org in map(Org.of, hub.read_items("organizations", fields=ORG_FIELDS, limit=-1))
        }
        self.tokens = {
            int(row["organization"]): str(row["token"])
            for row in hub.read_items("edi_agents", fields=["organization", "token"], limit=-1)
        }
        self._agents: dict[int, HubClient] = {}
        self._controls: dict[tuple[int, int], int] = {}
        #: Partners with an earlier message still undelivered: later ones wait behind it,
        #: so that a cancellation never overtakes its order.
        self._waiting: set[int] = set()

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
    def _next_control(self, partner: Org, sender: Org | None) -> int:
        """The next interchange control number from this sender to the partner: one more
        than the last one recorded. Unique and monotonic per pair of envelope parties
        and direction, as X12 expects; a partner's sequence with one sender tells
        nothing of its exchanges with another."""
        key = (partner.id, sender.id if sender else 0)
        if key not in self._controls:
            who = {"_eq": sender.id} if sender else {"_null": True}
            last = self.hub.read_items(
                MESSAGES,
                filter={"direction": {"_eq": "out"}, "partner": {"_eq": partner.id},
                        "sender": who, "control": {"_nnull": True}},
                fields=["control"],
                sort=["-control"],
                limit=1,
            )  # fmt: skip
            self._controls[key] = int(last[0]["control"] or 0) if last else 0
        self._controls[key] += 1
        return self._controls[key]

    def emit(
        self,
        partner: Org,
        sender: Org | None,
        items: Sequence[tuple[Document, Mapping[str, Any]]],
        code: str,
        *,
        ours: tuple[str, str] | None = None,
    ) -> None:
        """Record these documents, an interchange each, then deliver them. Each item's
        mapping may give its ``number``, ``related`` (collection, id), ``detail`` and
        ``digest``."""
        standard = partner.standard
        ours = ours or (sender.envelope_id(standard) if sender else ("ZZ", "TANDEM"))
        theirs = partner.envelope_id(standard)
        rows = []
        unsendable = []
        for document, meta in items:
            control = self._next_control(partner, sender)
            envelope = Envelope(
                sender=ours[1],
                receiver=theirs[1],
                control=control,
                sender_qualifier=ours[0],
                receiver_qualifier=theirs[0],
                created=clock.now(),
            )
            related = meta.get("related")
            common = {
                "direction": "out",
                "standard": standard,
                "message_type": code,
                "partner": partner.id,
                "sender": sender.id if sender else None,
                "receiver": partner.id,
                "document_number": meta.get("number", ""),
                "related_collection": related[0] if related else None,
                "related_id": str(related[1]) if related else None,
                "received_at": iso(clock.now()),
                "detail": dict(meta.get("detail") or {}),
                "digest": meta.get("digest"),
            }
            try:
                if standard == "x12":
                    payload = write_x12([document], envelope)
                    interchange, group, unit = f"{control:09d}", str(control), "0001"
                else:
                    payload = write_edifact([document], envelope)
                    interchange, group, unit = str(control), "", "1"
                payload.encode("latin-1")  # what a mailbox or a POST carries
            except (ValueError, UnicodeEncodeError) as error:
                # Recorded once, with why, where the partners see it; never retried, and
                # never in the way of the next document.
                self._controls[(partner.id, sender.id if sender else 0)] -= 1
                unsendable.append(
                    {
                        **common,
                        "status": "unsendable",
                        "error": f"cannot be written as {code}: {error}",
                    }
                )
                self.counts["unsendable"] += 1
                continue
            rows.append(
                {
                    **common,
                    "control_number": interchange,
                    "interchange": interchange,
                    "group_control": group,
                    "set_control": unit,
                    "control": control,
                    "dedupe": f"out:{partner.id}:{sender.id if sender else 0}:{control}",
                    "status": "queued",
                    "payload": payload,
                    # Control numbers run per pair of parties: the name says whose it is.
                    "file_name": f"{sender.id if sender else 0}-{interchange}.{code}."
                    + ("x12" if standard == "x12" else "edi"),
                    "attempts": 0,
                }
            )
        for chunk in chunks(unsendable, 100):
            self.hub.post(f"/items/{MESSAGES}", chunk, fields=["id"])
        recorded = []
        for chunk in chunks(rows, 100):
            ids = {r["dedupe"]: r["id"] for r in self.hub.post(
                f"/items/{MESSAGES}", chunk, fields=["id", "dedupe"])}  # fmt: skip
            recorded.extend({**row, "id": ids[row["dedupe"]]} for row in chunk)
        if partner.id in self._waiting:
            self.counts["queued"] += len(recorded)  # behind an earlier one, in order
        else:
            self.deliver(partner, recorded)

    def deliver(self, partner: Org, rows: Sequence[Mapping[str, Any]]) -> None:
        """Put recorded messages on the partner's transport, in order; each ``sent``, or
        ``failing`` with the reason and when to try again (and the rest wait with it)."""
        profile = partner.profile or {}
        outcomes = []
        failed: str | None = None
        for row in rows:
            attempts = int(row.get("attempts") or 0) + 1
            said: dict[str, Any] = {}  # what the transport says of it (AS2: id, receipt)
            try:
                if failed is not None:
                    raise Unreachable(0, failed)
                payload = str(row["payload"]).encode("latin-1")
                if profile.get("transport") == "folder":
                    deliver(Path(profile["address"]) / "outbox", str(row["file_name"]), payload)
                elif profile.get("transport") == "https":
                    HttpsSender(str(profile["address"]), attempts=1).send(
                        str(row["file_name"]), payload, str(row["dedupe"])
                    )
                else:
                    self._send_as2(partner, row, payload, said)
            except (OSError, ValueError, Undeliverable, Unreachable, as2.ReceiptRefused) as error:
                failed = failed or f"{type(error).__name__}: {error}"
                self._waiting.add(partner.id)
                wait = min(RETRY_FIRST_S * 2 ** (attempts - 1), RETRY_MOST_S)
                outcomes.append(
                    {
                        **said,
                        "id": row["id"],
                        "status": "failing",
                        "attempts": attempts,
                        "error": failed,
                        "next_attempt_at": iso(clock.now() + dt.timedelta(seconds=wait)),
                    }
                )
                self.counts["delivery_failed"] += 1
            else:
                asynchronous = said.pop("async", False)
                outcome = {**said, "id": row["id"], "status": "sent", "attempts": attempts,
                           "error": None}  # fmt: skip
                if not asynchronous:  # else the receiver's, with the receipt's verdict
                    outcome["next_attempt_at"] = None
                outcomes.append(outcome)
                self.counts[f"sent_{row['message_type']}"] += 1
        for chunk in chunks(outcomes):
            self.hub.patch(f"/items/{MESSAGES}", chunk, fields=["id"])

    def _send_as2(
        self, partner: Org, row: Mapping[str, Any], payload: bytes, said: dict[str, Any]
    ) -> None:
        """Send one message by AS2 and check a synchronous receipt; ``said`` gets its
        Message-ID and MIC (kept, so that a resend is the same message to the partner)
        and what the receipt said. ReceiptRefused when the receipt refuses the message or
        cannot be trusted. An asynchronous receipt may come back before this returns:
        the Message-ID is recorded before sending, and the receiver alone writes what
        that receipt says (a flagged one is sent again by :meth:`deliver_pending`)."""
        if isinstance(self.as2_identity, str):
            raise Unreachable(0, self.as2_identity)
        peer = partner.as2_partner()
        outgoing = as2.build_message(
            payload, str(row["file_name"]), self.as2_identity, peer,
            receipt_url=self.as2_receipt_url if peer.receipt == "async" else "",
            message_id=str(row.get("as2_message_id") or ""),
        )  # fmt: skip
        said.update(as2_message_id=outgoing.message_id, as2_mic=outgoing.mic)
        # Recorded before the POST: a run that dies after it resends the same Message-ID
        # (the partner takes it once), and an asynchronous receipt finds its message.
        self.hub.update_item(
            MESSAGES, row["id"],
            {**said, "receipt": as2.receipt_words(None) if peer.receipt == "async" else None,
             "next_attempt_at": None},
            fields=["id"],
        )  # fmt: skip
        receipt = as2.send(outgoing, peer, HttpsSender(peer.url, attempts=1))
        if receipt is None:
            said["async"] = True  # the receiver writes what the receipt says, and when again
            return
        said["receipt"] = as2.receipt_words(receipt)
        if not receipt.ok:
            raise as2.ReceiptRefused(said["receipt"])

    def deliver_pending(self, partner: Org) -> None:
        """Messages recorded but not delivered (a run stopped between the two, or the
        partner was unreachable), oldest first, if the next attempt is due; while one
        waits for its next attempt, the partner's later messages wait behind it."""
        pending = self.hub.read_items(
            MESSAGES,
            filter={
                "direction": {"_eq": "out"},
                "partner": {"_eq": partner.id},
                "_or": [
                    {"status": {"_in": ["queued", "failing"]}},
                    # sent, but its asynchronous receipt was refused or flagged: again
                    {"status": {"_eq": "sent"}, "receipt": {"_starts_with": "flagged"}},
                ],
            },
            fields=["id", "status", "payload", "file_name", "dedupe", "attempts",
                    "message_type", "next_attempt_at", "as2_message_id", "receipt"],
            sort=["id"],
            limit=-1,
        )  # fmt: skip
        # Failing only for want of an answer, but the partner's asynchronous receipt says
        # it took the message: sent, not sent again.
        taken = [r for r in pending if str(r.get("receipt") or "").startswith(as2.PROCESSED)]
        if taken:
            done = {"status": "sent", "error": None, "next_attempt_at": None}
            self.hub.patch(f"/items/{MESSAGES}", {"keys": [r["id"] for r in taken], "data": done},
                           fields=["id"])  # fmt: skip
            pending = [r for r in pending if r not in taken]
        now = clock.now()
        due = []
        for row in pending:
            wait = row.get("next_attempt_at")
            if wait and dt.datetime.fromisoformat(str(wait).replace("Z", "+00:00")) > now:
                self._waiting.add(partner.id)  # not yet: everything after it waits
                break
            due.append(row)
        if due:
            self.deliver(partner, due)

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
        changes = partner.expects("order_change")
        for po in orders:
            sent = history.get(int(po["id"]), [])
            purposes = {(m.get("detail") or {}).get("purpose") for m in sent}
            if not sent and po["status"] == "open":
                todo.append((po, "original"))
            elif sent and changes and po["status"] == "cancelled" and "cancel" not in purposes:
                todo.append((po, "cancel"))
            elif sent and changes and po["status"] == "open":
                todo.append((po, "change"))
        if not todo:
            return
        lines, gtins, glns, distributors = self._order_context(agent, [po for po, _ in todo])
        batches: dict[tuple[int, str], list[tuple[Document, Mapping[str, Any]]]] = {}
        for po, purpose in todo:
            buyer = self.orgs[distributors[int(po["partnership"])]]
            document = order_document(
                po,
                lines.get(int(po["id"]), []),
                gtins,
                buyer=buyer.gln,
                seller=partner.gln,
                ship_to=glns.get(int(po["ship_to"] or 0), ""),
                purpose="cancel" if purpose == "cancel" else "original",
            )
            said = digest(document)
            if purpose == "change":
                if said == history[int(po["id"])][-1].get("digest"):
                    continue
                document = dataclasses.replace(
                    document,
                    purpose="change",
                    lines=tuple(dataclasses.replace(x, action="change") for x in document.lines),
                )
            kind = "order" if purpose == "original" else "order_change"
            batches.setdefault((buyer.id, kind), []).append(
                (
                    document,
                    {
                        "number": str(po["number"]),
                        "related": ("purchase_orders", int(po["id"])),
                        "detail": {"purpose": purpose},
                        "digest": said,
                    },
                )
            )
        for (buyer_id, kind), items in batches.items():
            self.emit(partner, self.orgs[buyer_id], items, document_code(partner.standard, kind))

    def send_answers(self, partner: Org) -> None:
        """What suppliers answered, shipped and invoiced on the distributor's orders (on
        the web, or by EDI from their own systems), to a distributor that expects it: an
        855/ORDRSP per answer (again when the answer changes), an 856/DESADV per
        shipment, an 810/INVOIC per invoice."""
        wanted = [d for d in ("order_response", "ship_notice", "invoice") if partner.expects(d)]
        if partner.kind == "supplier" or not wanted:
            return
        agent = self.agent(partner.id)
        orders = agent.read_items(
            "purchase_orders",
            filter={"status": {"_nin": ["open", "cancelled"]}},
            fields=PO_FIELDS,
            sort=["id"],
            limit=-1,
        )
        if not orders:
            return
        codes = {d: document_code(partner.standard, d) for d in wanted}
        sent: dict[tuple[str, int], list[Mapping[str, Any]]] = {}
        for row in self.hub.read_items(
            MESSAGES,
            filter={
                "direction": {"_eq": "out"},
                "partner": {"_eq": partner.id},
                "related_collection": {"_eq": "purchase_orders"},
                "message_type": {"_in": list(codes.values())},
            },
            fields=["related_id", "message_type", "document_number", "digest"],
            sort=["id"],
            limit=-1,
        ):
            sent.setdefault((row["message_type"], int(row["related_id"])), []).append(row)
        lines, gtins, _glns, _distributors = self._order_context(agent, orders)
        ids = [int(po["id"]) for po in orders]
        shipments = self._children(agent, "shipments", ids, SHIPMENT_FIELDS)
        invoices = self._children(agent, "invoices", ids, INVOICE_FIELDS)
        suppliers = lookup(
            agent, "partnerships", {int(po["partnership"]) for po in orders}, "supplier"
        )
        batches: dict[tuple[int, str], list[tuple[Document, Mapping[str, Any]]]] = {}
        for po in orders:
            key = int(po["id"])
            rows = lines.get(key, [])
            supplier = int(suppliers[int(po["partnership"])])
            related = ("purchase_orders", key)
            if "order_response" in codes:
                document = response_document(po, rows, gtins)
                said = digest(document)
                before = sent.get((codes["order_response"], key), [])
                if not before or before[-1].get("digest") != said:
                    batches.setdefault((supplier, "order_response"), []).append(
                        (
                            document,
                            {"number": str(po["number"]), "related": related, "digest": said},
                        )
                    )
            for name, children, build in (
                ("ship_notice", shipments, ship_notice_document),
                ("invoice", invoices, invoice_document),
            ):
                if name not in codes:
                    continue
                done = {str(m["document_number"]) for m in sent.get((codes[name], key), [])}
                for child in children.get(key, []):
                    if str(child["number"]) not in done:
                        batches.setdefault((supplier, name), []).append(
                            (build(po, child, rows, gtins),
                             {"number": str(child["number"]), "related": related})
                        )  # fmt: skip
        for (supplier, name), items in batches.items():
            self.emit(partner, self.orgs.get(supplier), items, codes[name])

    @staticmethod
    def _children(
        agent: HubClient, collection: str, orders: Sequence[int], fields: list[str]
    ) -> dict[int, list[dict[str, Any]]]:
        """The orders' shipments or invoices, with their lines, by order."""
        found: dict[int, list[dict[str, Any]]] = {}
        for chunk in chunks(list(orders)):
            for row in agent.read_items(
                collection,
                filter={"purchase_order": {"_in": chunk}},
                fields=[*fields, "purchase_order"],
                sort=["id"],
                limit=-1,
            ):
                found.setdefault(int(row["purchase_order"]), []).append(row)
        return found

    def _order_context(
        self, agent: HubClient, orders: Sequence[Mapping[str, Any]]
    ) -> tuple[dict[int, list[dict[str, Any]]], dict[int, str], dict[int, str], dict[int, int]]:
        """The orders' lines, their SKUs' GTINs, ship-to GLNs and each pair's distributor."""
        lines: dict[int, list[dict[str, Any]]] = {}
        for chunk in chunks([int(po["id"]) for po in orders]):
            for line in agent.read_items(
                "po_lines", filter={"purchase_order": {"_in": chunk}}, fields=LINE_FIELDS, limit=-1
            ):
                lines.setdefault(int(line["purchase_order"]), []).append(line)
        gtins = lookup(
            agent, "skus", (int(x["sku"]) for rows in lines.values() for x in rows), "gtin"
        )
        glns = lookup(agent, "locations", (int(po["ship_to"] or 0) for po in orders), "gln")
        pairs = lookup(
            agent, "partnerships", (int(po["partnership"]) for po in orders), "distributor"
        )
        return lines, gtins, glns, {k: int(v) for k, v in pairs.items()}


def exchange(ctx: JobContext) -> None:
    """The ``edi.exchange`` job: every partner's inbox, then what is due to it."""
    spool = ctx.settings.get("spool_dir")
    settings = ctx.settings
    identity: as2.Identity | str | None = None
    if settings.get("as2_id"):
        try:
            identity = as2.load_identity(
                settings["as2_id"], settings["as2_certificate"], settings["as2_key"]
            )
        except ValueError as error:
            identity = str(error)
    run = Exchange(
        ctx.hub,
        ctx.counts,
        spool_dir=Path(spool) if spool else None,
        settle_s=float(settings.get("settle_s", 5)),
        as2_identity=identity,
        as2_receipt_url=str(settings.get("as2_receipt_url") or ""),
        drop_dir=Path(settings["drop_dir"]) if settings.get("drop_dir") else None,
    )
    now = clock.now().timestamp()
    for partner in run.partners():
        for step, call in (
            ("deliveries", lambda p=partner: run.deliver_pending(p)),  # the oldest first
            ("inbox", lambda p=partner: inbound.receive(run, p, now)),
            ("orders", lambda p=partner: run.send_orders(p)),
            ("answers", lambda p=partner: run.send_answers(p)),
        ):
            try:
                call()
            except Exception as error:  # one partner's failure never stops the others
                ctx.item_failed(f"{partner.name} {step}", error)
