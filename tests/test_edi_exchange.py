"""The scheduled EDI exchange against a real hub, through a partner's folder mailbox
(tests/edi_trade.py plays the partner, as an SFTP mailbox partner does; the HTTPS and
AS2 doors are tests/test_edi_transports.py's). The order-to-cash choreography runs in
X12 and in EDIFACT: PO -> 997 -> 855 with a changed line -> short-shipped 856 -> 810
whose three-way match flags the short shipment, with a 997/CONTRL for every interchange
both ways.
"""

from __future__ import annotations

import datetime as dt
import secrets
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from directus import ForbiddenOrMissing, HubClient
from domain import clock
from domain.edi_orders import (
    Acknowledgement,
    Envelope,
    Item,
    Order,
    OrderLine,
    OrderResponse,
    ResponseLine,
    read,
    write_x12,
)
from domain.gs1 import with_check_digit
from domain.orders import make_sscc
from governance import GovernanceError
from governance.edi import replay
from governance.partners import ensure_partnership, set_edi_profile
from portal.schemas.purchase_orders import PurchaseOrderCreate
from sync.drops import poll_drop_folders
from sync.exchange import MESSAGES
from sync.runs import run_job
from tests.edi_trade import Peer, Trade, order_to_cash, run
from tests.edi_trade import make_trade as _trade
from tests.edi_trade import messages as _messages
from tests.factories import governed_access, make_org, make_sku, make_store, make_user
from tests.test_edi_imports import WEEK, world, x12_file  # noqa: F401 - world is a fixture


@pytest.fixture(params=["x12", "edifact"])
def trade(request, admin, hub, tmp_path) -> Trade:
    return _trade(admin, hub, tmp_path, request.param)


def _x12_profile(tag: str, transport: str, address: Any, **rest: Any) -> dict[str, Any]:
    """An X12 profile whose ISA and GS ids are both ``tag``."""
    return {"standard": "x12", "isa_qualifier": "ZZ", "isa_id": tag, "gs_code": tag,
            "transport": transport, "address": str(address), **rest}  # fmt: skip


def test_the_order_to_cash_choreography(trade, admin, sync_hub):
    order_to_cash(trade, Peer(trade), admin, lambda: run(sync_hub))


def _answer(trade: Trade, po: dict[str, Any], number: str = "ACK-1") -> OrderResponse:
    promised = clock.today() + dt.timedelta(days=12)
    return OrderResponse(
        order=po["number"], number=number, status="accepted", date=promised,
        lines=tuple(
            ResponseLine(str(n), Item(gtin=sku["gtin"]), "accepted", None, promised)
            for n, sku in enumerate(trade.skus, 1)
        ),
    )  # fmt: skip


@pytest.fixture
def x12_trade(admin, hub, tmp_path) -> Trade:
    return _trade(admin, hub, tmp_path, "x12")


def test_the_same_interchange_again_is_recorded_as_a_duplicate_and_not_applied(
    x12_trade, admin, sync_hub
):
    trade, peer = x12_trade, Peer(x12_trade)
    po = trade.order(f"PO-{secrets.token_hex(3)}")
    run(sync_hub)
    (sent,) = peer.collect()
    first = peer.send(_answer(trade, po), sent.sender, name="answer.edi")
    payload = first.read_bytes()
    run(sync_hub)
    assert trade.buyer.get("purchase-orders", po["id"])["status"] == "acknowledged"
    # The partner cancels on the web meanwhile... no: the distributor cannot; the partner
    # resends the same interchange under another name.
    (trade.mailbox / "inbox" / "answer-resent.edi").write_bytes(payload)
    counts = run(sync_hub)
    assert counts["duplicates"] == 1
    rows = _messages(admin, partner=trade.supplier["id"], direction="in")
    assert [r["status"] for r in rows] == ["applied", "duplicate"]
    assert "received before" in rows[1]["error"]
    # Answered once: the duplicate gets no second 997.
    assert len([d for d in peer.collect() if isinstance(d.document, Acknowledgement)]) == 1


def test_a_document_for_another_partners_order_is_refused_without_saying_it_exists(
    admin, hub, sync_hub, tmp_path
):
    ours, theirs = _trade(admin, hub, tmp_path, "x12"), _trade(admin, hub, tmp_path, "x12")
    their_po = theirs.order(f"PO-{secrets.token_hex(3)}")
    missing = {"number": f"PO-NONE-{secrets.token_hex(3)}"}
    peer = Peer(ours)
    peer.send(_answer(ours, their_po), "TANDEM")
    peer.send(_answer(ours, missing), "TANDEM")
    run(sync_hub)
    rows = _messages(admin, partner=ours.supplier["id"], direction="in")
    assert [r["status"] for r in rows] == ["rejected", "rejected"]
    # The same words whether the order is another partner's or nobody's.
    assert rows[0]["error"].replace(their_po["number"], "N") == rows[1]["error"].replace(
        missing["number"], "N"
    )
    assert theirs.buyer.get("purchase-orders", their_po["id"])["status"] == "open"
    assert all(r["receiver"] is None for r in rows)  # no other partner is told of it
    acks = [d.document for d in peer.collect() if isinstance(d.document, Acknowledgement)]
    assert [a.status for a in acks] == ["rejected", "rejected"]


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("garbage.bin", bytes(range(256)) * 40, "not an EDI file"),
        ("bom.edi", None, ""),
        ("truncated.edi", "truncated", ""),
        ("nul.edi", "NUL in ISA13", "it holds a NUL byte"),
    ],
)
def test_a_file_that_cannot_be_read_is_quarantined_with_its_reason(
    x12_trade, admin, sync_hub, name, content, reason
):
    trade, peer = x12_trade, Peer(x12_trade)
    po = trade.order(f"PO-{secrets.token_hex(3)}")
    good = peer.send(_answer(trade, po), "TANDEM").read_bytes()
    path = trade.mailbox / "inbox" / name
    if content is None:
        path.write_bytes(b"\xef\xbb\xbf" + good[:-40])
    elif content == "truncated":
        path.write_bytes(good[: len(good) // 2])
    elif content == "NUL in ISA13":  # the interchange control number, at its fixed place
        assert good[90:99].isdigit()
        path.write_bytes(good[:92] + b"\0" + good[93:])
    else:
        path.write_bytes(content)
    path_bytes = path.read_bytes()
    run(sync_hub)
    kept = sorted(p.name for p in (trade.mailbox / "rejected").iterdir())
    assert kept == [name, f"{name}.reason.txt"]
    written = (trade.mailbox / "rejected" / f"{name}.reason.txt").read_text()
    assert reason in written
    rejected = _messages(admin, partner=trade.supplier["id"], direction="in", status="rejected")
    assert [r["error"] for r in rejected] == [written.strip()]
    if b"\0" in path_bytes:
        # No EDI file holds a NUL byte, and PostgreSQL's text cannot: the message keeps
        # no payload, and a replay of the same bytes is refused by its field.
        (stored,) = admin.read_items("edi_messages", filter={"id": {"_eq": rejected[0]["id"]}},
                                   fields=["payload"])  # fmt: skip
        assert stored["payload"] is None
        with pytest.raises(GovernanceError, match="NUL byte"):
            replay(admin, rejected[0]["id"], path_bytes)
    # The good file beside it was applied; the job went on.
    assert trade.buyer.get("purchase-orders", po["id"])["status"] == "acknowledged"


def test_a_file_past_the_size_limit_is_refused_unread(x12_trade, admin, sync_hub):
    trade = x12_trade
    inbox = trade.mailbox / "inbox"
    inbox.mkdir(parents=True)
    with (inbox / "huge.edi").open("wb") as out:
        out.truncate(100 * 2**20)  # 100 MB, sparse: refused by its size
    run(sync_hub)
    (row,) = _messages(admin, partner=trade.supplier["id"], direction="in")
    assert row["status"] == "rejected"
    assert "104,857,600 bytes" in row["error"]
    assert (trade.mailbox / "rejected" / "huge.edi").exists()
    with pytest.raises(GovernanceError, match="kept no payload"):
        replay(admin, row["id"])  # its file is only in the mailbox: the operator uploads it


def test_a_cancelled_order_goes_out_as_a_cancellation(x12_trade, admin, sync_hub):
    trade, peer = x12_trade, Peer(x12_trade)
    po = trade.order(f"PO-{secrets.token_hex(3)}")
    run(sync_hub)
    peer.collect()
    trade.buyer.update("purchase-orders", po["id"], {"status": "cancelled"})
    run(sync_hub)
    (cancel,) = peer.collect()
    assert cancel.code == "860"
    assert cancel.document.purpose == "cancel"
    assert cancel.document.number == po["number"]
    run(sync_hub)
    assert peer.collect() == []


def test_an_unreachable_partner_is_retried_later_and_shown_failing(admin, hub, sync_hub, tmp_path):
    trade = _trade(admin, hub, tmp_path, "x12")
    profile = _x12_profile(trade.partner_id, "https", "http://127.0.0.1:9/edi",
                           sends=["order_response"], expects=["order"],
                           acknowledgements=False)  # fmt: skip
    set_edi_profile(admin, trade.supplier["id"], profile, via="test")
    po = trade.order(f"PO-{secrets.token_hex(3)}")
    counts = run(sync_hub)
    assert counts["delivery_failed"] == 1
    (row,) = _messages(admin, related_id=str(po["id"]), direction="out")
    assert row["status"] == "failing"
    assert "ConnectionError" in row["error"] or "Unreachable" in row["error"]
    # Not due yet: the next run leaves it; nothing is recorded twice.
    run(sync_hub)
    assert len(_messages(admin, related_id=str(po["id"]), direction="out")) == 1


KILLER = """
import os, signal, sys, uuid
from directus import ForbiddenOrMissing, HubClient
from sync import applying
from sync.exchange import exchange
from sync.runs import JobContext

def die(self, documents):
    os.kill(os.getpid(), signal.SIGKILL)

applying.Applier.apply = die
hub = HubClient(sys.argv[1], token=sys.argv[2])
exchange(JobContext(hub=hub, job_id="edi.exchange", run_id=str(uuid.uuid4()),
                           settings={"settle_s": 0}))
"""


def test_a_run_killed_midway_resumes_with_nothing_lost_or_applied_twice(
    x12_trade, admin, hub, sync_hub, sync_token
):
    import subprocess
    import sys

    trade, peer = x12_trade, Peer(x12_trade)
    po = trade.order(f"PO-{secrets.token_hex(3)}")
    run(sync_hub)
    (sent,) = peer.collect()
    peer.send(_answer(trade, po), sent.sender)
    killed = subprocess.run(
        [sys.executable, "-c", KILLER, hub.url, sync_token], capture_output=True, timeout=120
    )
    assert killed.returncode == -9, killed.stderr.decode()
    (row,) = _messages(admin, partner=trade.supplier["id"], direction="in")
    assert row["status"] == "received"  # recorded, not applied: the file is still there
    assert len(list((trade.mailbox / "inbox").iterdir())) == 1
    run(sync_hub)
    (row,) = _messages(admin, partner=trade.supplier["id"], direction="in")
    assert row["status"] == "applied"
    assert trade.buyer.get("purchase-orders", po["id"])["status"] == "acknowledged"
    assert len([d for d in peer.collect() if isinstance(d.document, Acknowledgement)]) == 1
    run(sync_hub)
    assert len(_messages(admin, partner=trade.supplier["id"], direction="in")) == 1


def test_agents_tokens_are_the_schedulers_alone_and_messages_their_partners(
    x12_trade, admin, hub, sync_hub
):
    trade, peer = x12_trade, Peer(x12_trade)
    po = trade.order(f"PO-{secrets.token_hex(3)}")
    run(sync_hub)
    (sent,) = peer.collect()
    peer.send(_answer(trade, po), sent.sender)
    run(sync_hub)
    supplier_user = make_user(admin, "supplier_user", trade.supplier)
    stranger = make_user(admin, "distributor_user")
    for member in (supplier_user, stranger):
        client = HubClient.login(hub.url, member.email, member.password)
        with pytest.raises(ForbiddenOrMissing):
            client.read_items("edi_agents", fields=["token"], limit=-1)
    assert sync_hub.read_items("edi_agents", filter={"organization": {"_eq": trade.supplier["id"]}})
    mine = trade.buyer.list("edi-messages", {}).rows
    assert {m["document_number"] for m in mine} >= {po["number"]}
    assert governed_access(hub, stranger).list("edi-messages", {}).rows == []


def test_a_web_suppliers_answer_shipment_and_invoice_go_to_an_edi_distributor(
    admin, hub, sync_hub, tmp_path
):
    supplier, distributor = make_org(admin, "supplier"), make_org(admin, "distributor")
    pair = ensure_partnership(admin, supplier["id"], distributor["id"])
    tag = secrets.token_hex(4).upper()
    mailbox = tmp_path / f"buyer-{tag}"
    set_edi_profile(
        admin, distributor["id"],
        {"standard": "edifact", "unb_qualifier": "ZZZ", "unb_id": f"D{tag}", "transport": "folder",
         "address": str(mailbox), "sends": ["order"],
         "expects": ["order_response", "ship_notice", "invoice"], "acknowledgements": False},
        via="test",
    )  # fmt: skip
    buyer = make_user(admin, "distributor_user", distributor)
    seller = make_user(admin, "supplier_user", supplier)
    skus = [make_sku(admin, supplier), make_sku(admin, supplier)]
    trade = Trade("edifact", supplier, distributor, pair, governed_access(hub, buyer), skus,
                  make_store(admin, distributor, f"S{tag}"), mailbox, f"D{tag}")  # fmt: skip
    peer = Peer(trade)
    po = trade.order(f"PO-{secrets.token_hex(3)}")
    first, second = (line["id"] for line in po["lines"])
    promised = clock.today() + dt.timedelta(days=9)
    web = HubClient.login(hub.url, seller.email, seller.password)
    for line, qty, answer in ((first, 40, "changed"), (second, 12, "accepted")):
        web.update_item("po_lines", line, {
            "qty_promised": qty, "answer": answer, "promised_date": str(promised),
            "original_promised_date": str(promised)})  # fmt: skip
    web.update_item("purchase_orders", po["id"], {
        "status": "acknowledged", "promised_date": str(promised),
        "original_promised_date": str(promised)})  # fmt: skip
    run(sync_hub)
    (sent,) = peer.collect()
    assert sent.code == "ORDRSP"
    assert sent.sender == supplier.get("gln") or sent.sender == f"TANDEM{supplier['id']}"
    assert (sent.document.order, sent.document.status) == (po["number"], "changed")
    assert [(x.line, x.status, x.quantity, x.date) for x in sent.document.lines] == [
        ("1", "changed", Decimal(40), promised),
        ("2", "accepted", Decimal(12), promised),
    ]
    run(sync_hub)
    assert peer.collect() == []  # nothing new, nothing sent again
    later = promised + dt.timedelta(days=3)
    web.update_item("purchase_orders", po["id"], {"promised_date": str(later),
                                                  "revised_date": str(later)})  # fmt: skip
    run(sync_hub)
    (revised,) = peer.collect()
    assert revised.document.date == later  # a changed answer goes out again

    sscc = make_sscc(0, supplier["gs1_prefixes"][0], 7)
    shipped = [{"po_line": first, "qty_shipped": 40, "sscc": sscc, "partnership": pair}]
    web.create_item("shipments", {
        "number": "ASN-9", "status": "shipped", "ship_date": str(clock.today()),
        "purchase_order": po["id"], "partnership": pair, "lines": shipped})  # fmt: skip
    web.update_item("purchase_orders", po["id"], {"status": "partially_shipped"})
    billed = [{"po_line": first, "qty": 40, "unit_price_minor": 118, "amount_minor": 4720,
               "partnership": pair}]  # fmt: skip
    web.create_item("invoices", {
        "number": "INV-9", "invoice_date": str(clock.today()), "total_minor": 4720,
        "currency": "USD", "status": "open", "purchase_order": po["id"], "partnership": pair,
        "lines": billed})  # fmt: skip
    run(sync_hub)
    got = {r.code: r.document for r in peer.collect()}
    assert set(got) == {"DESADV", "INVOIC"}
    assert got["DESADV"].number == "ASN-9"
    assert [(c.sscc, [(x.line, x.quantity) for x in c.lines]) for c in got["DESADV"].cartons] == [
        (sscc, [("1", Decimal(40))])
    ]
    bill = got["INVOIC"]
    assert (bill.number, bill.order, bill.total) == ("INV-9", po["number"], Decimal("47.20"))
    assert [(x.line, x.quantity, x.price) for x in bill.lines] == [
        ("1", Decimal(40), Decimal("1.18"))
    ]
    out = _messages(admin, partner=distributor["id"], direction="out")
    assert [m["message_type"] for m in out] == ["ORDRSP", "ORDRSP", "DESADV", "INVOIC"]
    assert {(m["sender"], m["receiver"]) for m in out} == {(supplier["id"], distributor["id"])}


def test_the_operator_replays_a_rejected_file_corrected_and_it_applies_once(
    x12_trade, admin, sync_hub
):
    trade, peer = x12_trade, Peer(x12_trade)
    po = trade.order(f"PO-{secrets.token_hex(3)}")
    run(sync_hub)
    (sent,) = peer.collect()
    good = peer.send(_answer(trade, po), sent.sender)
    payload = good.read_bytes()
    good.unlink()
    (trade.mailbox / "inbox" / "broken.edi").write_bytes(payload[: len(payload) // 2])
    run(sync_hub)
    (refused,) = _messages(admin, partner=trade.supplier["id"], direction="in")
    assert refused["status"] == "rejected"
    replay(admin, refused["id"], payload)
    for _ in range(2):  # left in the inbox on one run, read once it has settled
        run(sync_hub)
    assert trade.buyer.get("purchase-orders", po["id"])["status"] == "acknowledged"
    rows = _messages(admin, partner=trade.supplier["id"], direction="in")
    assert [r["status"] for r in rows] == ["rejected", "replayed", "applied"]
    with pytest.raises(GovernanceError, match="only a rejected inbound message"):
        replay(admin, rows[-1]["id"])


def test_a_hub_that_fails_midway_leaves_the_documents_to_apply_on_the_next_run(
    x12_trade, admin, sync_hub, monkeypatch
):
    from directus import Unavailable
    from sync import applying

    trade, peer = x12_trade, Peer(x12_trade)
    po = trade.order(f"PO-{secrets.token_hex(3)}")
    run(sync_hub)
    (sent,) = peer.collect()
    peer.send(_answer(trade, po), sent.sender)
    real = applying.Applier._write

    def down(self, plans):
        raise Unavailable("PATCH /items/po_lines: ConnectionError")

    monkeypatch.setattr(applying.Applier, "_write", down)
    counts = run(sync_hub)
    assert counts["failed"] == 1  # the run says so; it is not the document's fault
    (row,) = _messages(admin, partner=trade.supplier["id"], direction="in")
    assert row["status"] == "received"  # not refused: no 997 says it was
    assert trade.buyer.get("purchase-orders", po["id"])["status"] == "open"
    monkeypatch.setattr(applying.Applier, "_write", real)
    run(sync_hub)
    (row,) = _messages(admin, partner=trade.supplier["id"], direction="in")
    assert row["status"] == "applied"
    acks = [d.document for d in peer.collect() if isinstance(d.document, Acknowledgement)]
    assert [a.status for a in acks] == ["accepted"]


def test_a_document_refused_when_applied_is_replayed_corrected_and_applied(
    x12_trade, admin, sync_hub
):
    trade, peer = x12_trade, Peer(x12_trade)
    po = trade.order(f"PO-{secrets.token_hex(3)}")
    run(sync_hub)
    (sent,) = peer.collect()
    wrong = OrderResponse(po["number"], lines=(
        ResponseLine("9", Item(gtin="00000000000000"), "accepted"),))  # fmt: skip
    peer.send(wrong, sent.sender)
    run(sync_hub)
    (refused,) = _messages(admin, partner=trade.supplier["id"], direction="in")
    assert refused["status"] == "rejected"
    assert "no such line" in refused["error"]
    right = peer.send(_answer(trade, po), sent.sender, name="fixed.edi")
    corrected = right.read_bytes()
    right.unlink()
    # The same interchange number, corrected: not a duplicate of the refused one.
    corrected = corrected.replace(
        f"{peer.control:09d}".encode(), f"{peer.control - 1:09d}".encode()
    )
    replay(admin, refused["id"], corrected)
    for _ in range(2):
        run(sync_hub)
    rows = _messages(admin, partner=trade.supplier["id"], direction="in")
    assert [r["status"] for r in rows] == ["rejected", "replayed", "applied"]
    assert trade.buyer.get("purchase-orders", po["id"])["status"] == "acknowledged"


def test_two_answers_to_one_order_in_one_file_end_as_the_later_says(x12_trade, sync_hub):
    trade, peer = x12_trade, Peer(x12_trade)
    po = trade.order(f"PO-{secrets.token_hex(3)}")
    run(sync_hub)
    (sent,) = peer.collect()
    day = clock.today() + dt.timedelta(days=12)
    gtins = [sku["gtin"] for sku in trade.skus]
    first = OrderResponse(po["number"], "A1", "changed", day, (
        ResponseLine("1", Item(gtin=gtins[0]), "accepted", Decimal(48), day),
        ResponseLine("2", Item(gtin=gtins[1]), "rejected", reason="discontinued")))  # fmt: skip
    later = OrderResponse(po["number"], "A2", "accepted", day, (
        ResponseLine("1", Item(gtin=gtins[0]), "accepted", Decimal(48), day),
        ResponseLine("2", Item(gtin=gtins[1]), "accepted", Decimal(12), day)))  # fmt: skip
    envelope = Envelope(sender=trade.partner_id, receiver=sent.sender, control=777)
    inbox = trade.mailbox / "inbox"
    inbox.mkdir(parents=True, exist_ok=True)
    (inbox / "two.edi").write_text(write_x12([first, later], envelope), encoding="latin-1")
    run(sync_hub)
    lines = {x["line_no"]: x for x in trade.buyer.get("purchase-orders", po["id"])["lines"]}
    assert (lines[2]["answer"], lines[2]["qty_promised"]) == ("accepted", 12)


def test_control_numbers_run_per_pair_of_parties(admin, hub, sync_hub, tmp_path):
    trade = _trade(admin, hub, tmp_path, "x12")
    other = make_org(admin, "distributor")
    ensure_partnership(admin, trade.supplier["id"], other["id"])
    other_buyer = governed_access(hub, make_user(admin, "distributor_user", other))
    other_store = make_store(admin, other, f"O{secrets.token_hex(3)}")
    trade.order(f"PO-{secrets.token_hex(3)}")
    trade.order(f"PO-{secrets.token_hex(3)}")
    body = {"partnership": ensure_partnership(admin, trade.supplier["id"], other["id"]),
            "number": f"PO-{secrets.token_hex(3)}", "ordered_on": str(clock.today()),
            "requested_date": str(clock.today() + dt.timedelta(days=5)), "currency": "USD",
            "ship_to": other_store["id"],
            "lines": [{"line_no": 1, "sku": trade.skus[0]["id"], "qty_ordered": 5,
                       "unit_cost_minor": 118}]}  # fmt: skip
    other_buyer.create("purchase-orders", PurchaseOrderCreate(view="distributor_user").load(body))
    run(sync_hub)
    out = _messages(admin, partner=trade.supplier["id"], direction="out")
    by_sender: dict[int, list[int]] = {}
    for m in out:
        by_sender.setdefault(m["sender"], []).append(int(m["control"]))
    assert sorted(by_sender[trade.distributor["id"]]) == [1, 2]
    assert by_sender[other["id"]] == [1]
    # A distributor reads its own messages, but not the exchange's counters.
    mine = trade.buyer.list("edi-messages", {}).rows
    assert mine
    raw = trade.buyer.hub.read_items(MESSAGES, fields=["*"], limit=-1)
    assert raw
    assert all("control" not in m and "dedupe" not in m for m in raw)


def test_a_later_message_waits_behind_an_earlier_one_that_could_not_be_delivered(
    x12_trade, admin, sync_hub
):
    trade = x12_trade
    trade.mailbox.mkdir(parents=True)
    (trade.mailbox / "outbox").write_text("not a folder")  # the mailbox is broken
    po = trade.order(f"PO-{secrets.token_hex(3)}")
    run(sync_hub)
    (order,) = _messages(admin, partner=trade.supplier["id"], direction="out")
    assert order["status"] == "failing"
    (trade.mailbox / "outbox").unlink()  # mended, but the retry is not due yet
    trade.buyer.update("purchase-orders", po["id"], {"status": "cancelled"})
    run(sync_hub)
    order, cancel = _messages(admin, partner=trade.supplier["id"], direction="out")
    assert (order["status"], cancel["status"]) == ("failing", "queued")
    assert not (trade.mailbox / "outbox").exists()  # the cancellation did not overtake
    admin.update_item(MESSAGES, order["id"], {"next_attempt_at": "2000-01-01T00:00:00Z"})
    run(sync_hub)
    order, cancel = _messages(admin, partner=trade.supplier["id"], direction="out")
    assert (order["status"], cancel["status"]) == ("sent", "sent")
    sent = [
        r.code for p in sorted((trade.mailbox / "outbox").iterdir()) for r in read(p.read_bytes())
    ]
    assert sent == ["850", "860"]


def _reports_by_edi(admin: HubClient, world: Any, mailbox: Path, sends: str) -> str:  # noqa: F811
    """The world's distributor sends ``sends`` by X12 through ``mailbox``; a weekly 852
    of its is left in the inbox (and returned)."""
    tag = f"D{secrets.token_hex(3).upper()}"
    profile = _x12_profile(tag, "folder", mailbox, sends=[sends], acknowledgements=True)
    set_edi_profile(admin, world.d, profile, via="test")
    report = x12_file("852", WEEK).replace("ZZ*DIST           ", f"ZZ*{tag:<15}")
    report = report.replace("GS*PD*DIST*", f"GS*PD*{tag}*")
    (mailbox / "inbox").mkdir(parents=True)
    (mailbox / "inbox" / "week.x12").write_text(report, encoding="latin-1")
    return report


def test_a_distributors_852_is_acknowledged_and_imported_as_a_dropped_file_is(
    admin,
    hub,
    sync_hub,
    tmp_path,
    world,  # noqa: F811 - the fixture
):
    mailbox, drop, spool = tmp_path / "mailbox", tmp_path / "drop", tmp_path / "spool"
    report = _reports_by_edi(admin, world, mailbox, "sales_report")

    counts = run(sync_hub, drop_dir=str(drop))
    assert counts["forwarded_852"] == 1
    (row,) = _messages(admin, partner=world.d, direction="in")
    assert (row["status"], row["message_type"], row["error"]) == ("forwarded", "852", None)
    handed = drop / str(world.d) / "pos"
    name = f"edi-{row['id']}.x12"  # named by its message: no envelope text in a file name
    assert [p.name for p in handed.iterdir()] == [name]
    (ack,) = [d for p in (mailbox / "outbox").iterdir() for d in read(p.read_bytes())]
    assert (ack.code, ack.document.status) == ("997", "accepted")

    # The drop-folder job imports it as any file a distributor leaves there.
    settings = {"drop_dir": str(drop), "lane_url": world.hub.lane_url, "spool_dir": str(spool),
                "settle_s": 0}  # fmt: skip
    assert run_job(sync_hub, "test.edi-reports.drops", poll_drop_folders, settings) == "succeeded"
    (imported,) = admin.read_items(
        "imports", filter={"distributor": {"_eq": world.d}},
        fields=["filename", "source", "status", "rows_new"],
    )  # fmt: skip
    assert (imported["filename"], imported["source"], imported["status"]) == (
        name, "drop", "done")  # fmt: skip
    assert world.stored("pos_sales", "units")  # landed

    # The same interchange again: a duplicate, never imported twice.
    (mailbox / "inbox" / "week-again.x12").write_text(report, encoding="latin-1")
    counts = run(sync_hub, drop_dir=str(drop))
    assert counts["duplicates"] == 1
    assert not list(handed.glob("*.x12"))
    assert [r["status"] for r in _messages(admin, partner=world.d, direction="in")] == [
        "forwarded", "duplicate"]  # fmt: skip


def test_a_report_from_a_partner_whose_profile_does_not_send_it_is_refused(
    admin,
    hub,
    sync_hub,
    tmp_path,
    world,  # noqa: F811 - the fixture
):
    mailbox = tmp_path / "mailbox"
    _reports_by_edi(admin, world, mailbox, "inventory_report")  # an 852 is no such report
    run(sync_hub, drop_dir=str(tmp_path / "drop"))
    assert not (tmp_path / "drop").exists()
    reason = (mailbox / "rejected" / "week.x12.reason.txt").read_text()
    assert "does not send sales reports" in reason
    (ack,) = [d for p in (mailbox / "outbox").iterdir() for d in read(p.read_bytes())]
    assert ack.document.status == "rejected"


def test_a_distributors_own_system_orders_by_850_and_the_order_goes_on_to_its_supplier(
    admin, hub, sync_hub, tmp_path
):
    trade = _trade(admin, hub, tmp_path, "x12")  # the supplier takes orders by X12 too
    tag = f"D{secrets.token_hex(3).upper()}"
    erp = tmp_path / "erp"
    profile = _x12_profile(tag, "folder", erp, sends=["order"], expects=["order_response"],
                           acknowledgements=True)  # fmt: skip
    set_edi_profile(admin, trade.distributor["id"], profile, via="test")
    gln = with_check_digit(f"0{secrets.randbelow(10**11):011d}")
    admin.update_item("locations", trade.store["id"], {"gln": gln})
    gtins = [sku["gtin"] for sku in trade.skus]
    (erp / "inbox").mkdir(parents=True)

    def send(number: str, lines: tuple[OrderLine, ...], name: str, to: str = trade.partner_id,
             currency: str = "USD"):  # fmt: skip
        order = Order(number=number, ordered_on=clock.today(), currency=currency, ship_to=gln,
                      requested=clock.today() + dt.timedelta(days=9), lines=lines)  # fmt: skip
        envelope = Envelope(sender=tag, receiver=to, control=secrets.randbelow(10**8) + 1,
                            sender_qualifier="ZZ", receiver_qualifier="ZZ")  # fmt: skip
        (erp / "inbox" / name).write_text(write_x12([order], envelope), encoding="latin-1")

    good = (OrderLine("1", Item(gtin=gtins[0]), Decimal(24), price=Decimal("1.18")),
            OrderLine("2", Item(gtin=gtins[1]), Decimal(6), price=Decimal("2.40")))  # fmt: skip
    send("ERP-1", good, "1.edi")
    foreign = make_sku(admin, make_org(admin, "supplier"))["gtin"]  # another supplier's
    send("ERP-2", (OrderLine("1", Item(gtin=foreign), Decimal(1), price=Decimal(1)),), "2.edi")
    send("ERP-3", good, "3.edi", to="NOSUCHSUPPLIER")
    send("ERP-4", good[:1], "4.edi", currency="")  # X12's CUR is optional: the buyer's own
    run(sync_hub)

    inbound = {m["document_number"]: m for m in _messages(admin, partner=trade.distributor["id"],
                                                          direction="in")}  # fmt: skip
    assert inbound["ERP-1"]["status"] == "applied", inbound["ERP-1"]["error"]
    assert inbound["ERP-1"]["receiver"] == trade.supplier["id"]
    assert inbound["ERP-2"]["status"] == "rejected"
    assert f"GTIN {foreign} is none of the supplier's" in inbound["ERP-2"]["error"]
    assert inbound["ERP-3"]["status"] == "rejected"
    assert "NOSUCHSUPPLIER is no supplier" in inbound["ERP-3"]["error"]
    po = trade.buyer.get("purchase-orders", int(inbound["ERP-1"]["related_id"]))
    assert (po["number"], po["status"], po["ship_to"]) == ("ERP-1", "open", trade.store["id"])
    lines = sorted((x["line_no"], x["qty_ordered"], int(x["unit_cost_minor"])) for x in po["lines"])
    assert lines == [(1, 24, 118), (2, 6, 240)]
    assert inbound["ERP-4"]["status"] == "applied", inbound["ERP-4"]["error"]
    assert trade.buyer.get("purchase-orders", int(inbound["ERP-4"]["related_id"]))[
        "currency"] == trade.distributor.get("currency", "USD")  # fmt: skip
    acks = [d.document for p in (erp / "outbox").iterdir() for d in read(p.read_bytes())]
    assert sorted(a.status for a in acks) == ["accepted", "accepted", "rejected", "rejected"]

    # The order goes on to the supplier as any new order does; sent again, it is not
    # made twice.
    run(sync_hub)
    sent = [d.document.number for d in Peer(trade).collect() if isinstance(d.document, Order)]
    assert sorted(sent) == ["ERP-1", "ERP-4"]
    send("ERP-1", good, "1-again.edi")
    run(sync_hub)
    orders = admin.read_items(
        "purchase_orders", filter={"partnership": {"_eq": trade.pair}}, fields=["number"]
    )
    assert sorted(o["number"] for o in orders) == ["ERP-1", "ERP-4"]
