"""Trading partners for the EDI exchange's tests against a real hub, and the
order-to-cash choreography every transport runs.

The partner's side is played with Tandem's own writer (a real protocol peer of the
reader): it picks up what Tandem sent it and sends its documents back, by the
transport its profile names.
"""

from __future__ import annotations

import datetime as dt
import secrets
import uuid
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from directus import HubClient
from domain import clock
from domain.edi_orders import (
    Acknowledgement,
    Carton,
    Envelope,
    Invoice,
    InvoiceLine,
    Item,
    Order,
    OrderResponse,
    PackedLine,
    ResponseLine,
    SetAck,
    ShipNotice,
    read,
    write_edifact,
    write_x12,
)
from domain.orders import make_sscc
from governance.partners import ensure_partnership, set_edi_profile
from portal.schemas.purchase_orders import PurchaseOrderCreate
from sync.exchange import MESSAGES, exchange
from sync.runs import JobContext
from tests.factories import governed_access, make_org, make_sku, make_store, make_user

MESSAGE_FIELDS = ["id", "direction", "message_type", "status", "error", "related_id",
                  "sender", "receiver", "detail", "document_number", "control"]  # fmt: skip


@dataclass
class Trade:
    """A supplier with an EDI profile, a distributor ordering on the web, their SKUs."""

    standard: str
    supplier: dict[str, Any]
    distributor: dict[str, Any]
    pair: int
    buyer: Any  # the distributor user's governed access
    skus: list[dict[str, Any]]
    store: dict[str, Any]
    mailbox: Path
    partner_id: str
    inbound_key: str | None = None  # an HTTPS partner's key to post to the receiver

    def order(self, number: str, quantities: tuple[int, ...] = (48, 12)) -> dict[str, Any]:
        body = {
            "partnership": self.pair,
            "number": number,
            "ordered_on": str(clock.today()),
            "requested_date": str(clock.today() + dt.timedelta(days=10)),
            "currency": "USD",
            "ship_to": self.store["id"],
            "lines": [
                {"line_no": n, "sku": sku["id"], "qty_ordered": q, "unit_cost_minor": price}
                for n, (sku, q, price) in enumerate(
                    zip(self.skus, quantities, (118, 240), strict=True), 1
                )
            ],
        }
        return self.buyer.create(
            "purchase-orders", PurchaseOrderCreate(view="distributor_user").load(body)
        )


def make_trade(
    admin: HubClient,
    hub: Any,
    tmp: Path,
    standard: str,
    transport: Mapping[str, Any] | None = None,
    spool: Path | None = None,
) -> Trade:
    """A supplier with a profile of ``standard``, its distributor, SKUs and a store. The
    supplier's interchanges travel by a folder mailbox under ``tmp``, or by ``transport``
    (the profile's transport fields), and then its mailbox is its folder in ``spool``."""
    supplier = make_org(admin, "supplier")
    distributor = make_org(admin, "distributor")
    pair = ensure_partnership(admin, supplier["id"], distributor["id"])
    tag = secrets.token_hex(4).upper()
    mailbox = tmp / f"mailbox-{standard}-{tag}"
    if spool is not None:
        mailbox = spool / "edi" / str(supplier["id"])
    common = {
        "transport": "folder",
        "address": str(mailbox),
        **(transport or {}),
        "sends": ["order_response", "ship_notice", "invoice"],
        "expects": ["order", "order_change"],
        "acknowledgements": True,
    }
    if standard == "x12":
        partner_id = f"S{tag}"
        profile = {"standard": "x12", "isa_qualifier": "ZZ", "isa_id": partner_id,
                   "gs_code": partner_id, **common}  # fmt: skip
    else:
        partner_id = f"U{tag}"
        profile = {"standard": "edifact", "unb_qualifier": "ZZZ", "unb_id": partner_id, **common}
    saved = set_edi_profile(admin, supplier["id"], profile, via="test")
    member = make_user(admin, "distributor_user", distributor)
    skus = [make_sku(admin, supplier), make_sku(admin, supplier)]
    store = make_store(admin, distributor, f"S{tag}")
    return Trade(standard, supplier, distributor, pair, governed_access(hub, member), skus,
                 store, mailbox, partner_id, saved.get("inbound_key"))  # fmt: skip


def run(sync_hub: HubClient, **settings: Any) -> Counter[str]:
    """One run of the exchange job, as the scheduler makes it."""
    context = JobContext(
        hub=sync_hub, job_id="edi.exchange", run_id=str(uuid.uuid4()),
        settings={"settle_s": 0, **settings},
    )  # fmt: skip
    exchange(context)
    return context.counts


class Peer:
    """The partner's side of a folder mailbox: reads Tandem's outbox, writes the inbox.
    Other transports' peers say where Tandem's files arrive (:meth:`arrived`) and how
    the partner's reach Tandem (:meth:`put`)."""

    def __init__(self, trade: Trade) -> None:
        self.trade = trade
        self.control = 500
        self.seen: set[str] = set()

    def arrived(self) -> list[Path]:
        """The files Tandem sent this partner, in the order they arrived."""
        outbox = self.trade.mailbox / "outbox"
        return sorted(outbox.iterdir(), key=lambda p: (p.stat().st_mtime_ns, p.name))

    def put(self, payload: bytes, name: str) -> Path:
        """The partner's interchange, left where Tandem reads it."""
        inbox = self.trade.mailbox / "inbox"
        inbox.mkdir(parents=True, exist_ok=True)
        path = inbox / name
        path.write_bytes(payload)
        return path

    def collect(self) -> list[Any]:
        """The documents Tandem sent since the last collect, in the order they arrived."""
        out = []
        for path in self.arrived():
            if path.name in self.seen:
                continue
            self.seen.add(path.name)
            out.extend(read(path.read_bytes()))
        return out

    def send(self, document: Any, tandem_id: str, name: str | None = None) -> Path:
        self.control += 1
        envelope = Envelope(
            sender=self.trade.partner_id, receiver=tandem_id, control=self.control,
            sender_qualifier="ZZ" if self.trade.standard == "x12" else "ZZZ",
            receiver_qualifier="ZZ" if self.trade.standard == "x12" else "ZZZ",
        )  # fmt: skip
        if self.trade.standard == "x12":
            payload = write_x12([document], envelope)
        else:
            payload = write_edifact([document], envelope)
        return self.put(payload.encode("latin-1"), name or f"{self.control}.edi")


def messages(admin: HubClient, **where: Any) -> list[dict[str, Any]]:
    query = {name: {"_eq": value} for name, value in where.items()}
    return admin.read_items(MESSAGES, filter=query, fields=MESSAGE_FIELDS, sort=["id"], limit=-1)


def order_to_cash(
    trade: Trade, peer: Peer, admin: HubClient, run_once: Callable[[], Counter[str]]
) -> None:
    """PO -> 997 -> 855 with a changed line -> short-shipped 856 -> 810 whose three-way
    match flags the short shipment, with a 997/CONTRL for every interchange both ways."""
    po = trade.order(f"PO-{secrets.token_hex(3)}")
    lines = {line["line_no"]: line for line in po["lines"]}
    gtins = [sku["gtin"] for sku in trade.skus]

    counts = run_once()
    (sent,) = peer.collect()
    order = sent.document
    assert isinstance(order, Order)
    assert order.purpose == "original"
    assert sent.code == ("850" if trade.standard == "x12" else "ORDERS")
    assert sent.receiver == trade.partner_id
    assert order.number == po["number"]
    assert [(x.line, x.item.gtin, x.quantity, x.price) for x in order.lines] == [
        ("1", gtins[0], Decimal(48), Decimal("1.18")),
        ("2", gtins[1], Decimal(12), Decimal("2.40")),
    ]
    assert counts[f"sent_{sent.code}"] == 1
    (record,) = messages(admin, related_id=str(po["id"]), direction="out")
    assert (record["status"], record["sender"], record["receiver"]) == (
        "sent", trade.distributor["id"], trade.supplier["id"])  # fmt: skip
    tandem = sent.sender  # who Tandem is, for this buyer, in the partner's envelopes

    # A second run sends nothing again.
    run_once()
    assert peer.collect() == []

    # The partner acknowledges the order's interchange, and answers it: line 1 changed.
    promised = clock.today() + dt.timedelta(days=12)
    if trade.standard == "x12":
        ack = Acknowledgement("PO", sent.group, "accepted", (SetAck("850", sent.control, True),))
    else:
        ack = Acknowledgement("ORDERS", sent.interchange, "accepted",
                              (SetAck("ORDERS", sent.control, True),))  # fmt: skip
    peer.send(ack, tandem)
    answer = OrderResponse(
        order=po["number"], number="ACK-1", status="changed", date=promised,
        lines=(
            ResponseLine("1", Item(gtin=gtins[0]), "changed", Decimal(40), promised),
            ResponseLine("2", Item(gtin=gtins[1]), "accepted", Decimal(12), promised),
        ),
    )  # fmt: skip
    peer.send(answer, tandem)
    run_once()
    assert messages(admin, id=record["id"])[0]["status"] == "acknowledged"
    now = trade.buyer.get("purchase-orders", po["id"])
    assert now["status"] == "acknowledged"
    assert now["original_promised_date"] == str(promised)
    by_line = {line["line_no"]: line for line in now["lines"]}
    assert (by_line[1]["qty_promised"], by_line[1]["answer"]) == (40, "changed")
    assert by_line[1]["original_promised_date"] == str(promised)
    assert (by_line[2]["qty_promised"], by_line[2]["answer"]) == (12, "accepted")
    acks = [d for d in peer.collect() if isinstance(d.document, Acknowledgement)]
    assert len(acks) == 1  # the 855 is answered; the partner's own 997 is not
    assert acks[0].document.status == "accepted"

    # A short shipment: 30 of line 1's 40 in one carton, all of line 2 in another.
    prefix = trade.supplier["gs1_prefixes"][0]
    notice = ShipNotice(
        number="ASN-1", shipped=clock.today(), expected=clock.today() + dt.timedelta(days=2),
        cartons=(
            Carton(make_sscc(0, prefix, 1), (PackedLine("1", Item(gtin=gtins[0]), Decimal(30),
                                                        order=po["number"]),)),
            Carton(make_sscc(0, prefix, 2), (PackedLine("2", Item(gtin=gtins[1]), Decimal(12),
                                                        order=po["number"]),)),
        ),
    )  # fmt: skip
    peer.send(notice, tandem)
    run_once()
    now = trade.buyer.get("purchase-orders", po["id"])
    assert now["status"] == "partially_shipped"
    shipments = admin.read_items(
        "shipments", filter={"purchase_order": {"_eq": po["id"]}},
        fields=["number", "lines.po_line", "lines.qty_shipped", "lines.sscc"],
    )  # fmt: skip
    assert [s["number"] for s in shipments] == ["ASN-1"]
    assert sorted((x["po_line"], x["qty_shipped"], x["sscc"]) for x in shipments[0]["lines"]) == [
        (lines[1]["id"], 30, make_sscc(0, prefix, 1)),
        (lines[2]["id"], 12, make_sscc(0, prefix, 2)),
    ]

    # The invoice bills the promised 40 of line 1: the match flags the short shipment.
    invoice = Invoice(
        number="INV-1", order=po["number"], date=clock.today(), currency="USD",
        lines=(InvoiceLine("1", Item(gtin=gtins[0]), Decimal(40), Decimal("1.18")),
               InvoiceLine("2", Item(gtin=gtins[1]), Decimal(12), Decimal("2.40"))),
    )  # fmt: skip
    peer.send(invoice, tandem)
    run_once()
    stored = admin.read_items(
        "invoices", filter={"purchase_order": {"_eq": po["id"]}},
        fields=["number", "total_minor", "lines.qty", "lines.amount_minor"],
    )  # fmt: skip
    totals = [(i["number"], int(i["total_minor"])) for i in stored]
    assert totals == [("INV-1", 40 * 118 + 12 * 240)]
    inbound = messages(admin, related_id=str(po["id"]), direction="in")
    assert [m["status"] for m in inbound] == ["applied"] * 4, [m["error"] for m in inbound]
    matched = {row["line"]: row["flags"] for row in inbound[-1]["detail"]["match"]}
    assert matched == {"1": ["short_received", "invoiced_over_received"], "2": []}
    assert all(m["receiver"] == trade.distributor["id"] for m in inbound)

    answered = [d for d in peer.collect() if isinstance(d.document, Acknowledgement)]
    assert [d.document.status for d in answered] == ["accepted", "accepted"]
    # Every interchange both ways is on record; the archive keeps what arrived.
    assert len(list((trade.mailbox / "archive").iterdir())) == 4
    assert not list((trade.mailbox / "inbox").iterdir())
