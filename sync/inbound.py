"""What partners send Tandem: files read from their inboxes, each document recorded once,
applied with the partner's agent, the interchange answered, the file archived.

A document is recorded in ``edi_messages`` under a unique ``dedupe`` key (partner,
interchange, group and set control numbers) *before* it is applied, and marked applied
or rejected after. So:

- a run killed between the two finds the document ``received`` when it reads the same
  file again (the same name, modification time and digest) and applies it then;
- the same interchange sent again (another file, or the same one rewritten) finds its
  documents recorded: it is recorded as a duplicate, never applied, never answered again.

A file that cannot be read at all is recorded as rejected with the reason (segment
position, element, expected and found), moved to ``rejected/`` with the reason beside it,
and answered with a rejecting 997/CONTRL when its envelope can still be read.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

from directus import HubClient
from domain import clock
from domain.edi_orders import (
    GROUP_CODES,
    REPORTS,
    Acknowledgement,
    DocumentError,
    Fault,
    Order,
    Received,
    SetAck,
    peek,
    read,
    read_reports,
)
from domain.edi_reports import holds_nul
from domain.order_documents import purchase_order_row
from domain.orders import OrderError
from sync.applying import REFUSED, Applier, Outcome, chunks
from sync.mailbox import (
    TooLarge,
    deliver,
    move_unique,
    quarantine,
    read_bounded,
    ready_files,
)
from sync.partners import Org
from sync.runs import iso

MESSAGES = "edi_messages"


class Exchange(Protocol):
    """What receiving uses of a run of the exchange (:class:`sync.exchange.Exchange`)."""

    hub: HubClient
    counts: Counter[str]
    spool_dir: Path | None
    settle_s: float

    def agent(self, org_id: int) -> HubClient: ...
    def counterpart(self, standard: str, text: str) -> Org | None: ...
    def emit(
        self,
        partner: Org,
        sender: Org | None,
        items: Sequence[tuple[Any, Mapping[str, Any]]],
        code: str,
        *,
        ours: tuple[str, str] | None = None,
    ) -> None: ...


#: The largest file the exchange reads; a larger one is refused unread.
MAX_FILE_BYTES = 20 * 2**20
#: A received file's text is kept on its message up to this size (else it is archived only).
MAX_KEPT_PAYLOAD = 512 * 2**10
ELEMENT = re.compile(r"([A-Z][A-Z0-9]{1,2})([0-9]{2})")
ACKS = ("997", "CONTRL")


def inbox(run: Exchange, partner: Org) -> Path | None:
    """The partner's mailbox folder: its own for a folder transport; for HTTPS and AS2,
    the spool folder the receiver (:mod:`sync.receiver`) writes what it takes to."""
    profile = partner.profile or {}
    if profile.get("transport") == "folder":
        return Path(profile["address"])
    if run.spool_dir is None:
        return None
    return run.spool_dir / "edi" / str(partner.id)


def receive(run: Exchange, partner: Org, now: float) -> None:
    """Every whole file in the partner's inbox, by name, the operator's replays first
    put there."""
    mailbox = inbox(run, partner)
    if mailbox is None:
        return
    replay(run, partner, mailbox)
    for path in ready_files(mailbox / "inbox", run.settle_s, now):
        run.counts["files"] += 1
        receive_file(run, partner, mailbox, path)


def replay(run: Exchange, partner: Org, mailbox: Path) -> None:
    """The operator's replays of the partner's rejected messages (governance.edi.replay):
    each payload left in the inbox under the replay's own name (atomically, so a run
    stopped halfway leaves it whole or not at all), the replay marked ``replayed``. The
    file is read once it has settled, on this run or the next."""
    rows = run.hub.read_items(
        MESSAGES,
        filter={"partner": {"_eq": partner.id}, "status": {"_eq": "replay"}},
        fields=["id", "payload", "file_name"],
        sort=["id"],
        limit=-1,
    )
    for row in rows:
        deliver(mailbox / "inbox", str(row["file_name"]), str(row["payload"]).encode("latin-1"))
        run.hub.update_item(MESSAGES, row["id"], {"status": "replayed"})
        run.counts["replayed"] += 1


def receive_file(run: Exchange, partner: Org, mailbox: Path, path: Path) -> None:
    try:
        data = read_bounded(path, MAX_FILE_BYTES)
    except TooLarge as error:
        _refuse(run, partner, mailbox, path, None, str(error))
        return
    # This very file (a run that stopped before archiving it reads it again), not the
    # same content sent again: its name, its modification time and its digest.
    identity = f"{path.name}:{path.stat().st_mtime_ns}:{hashlib.sha256(data).hexdigest()}"
    peeked = peek(data)
    if peeked is not None and peeked.code in REPORTS:
        forward_report(run, partner, mailbox, path, data, identity)
        return
    try:
        received = read(data)
        _check_sender(partner, received)
    except DocumentError as error:
        _refuse(run, partner, mailbox, path, data, str(error), error)
        return
    # A file of several documents may hold several buyers' orders, and each message's
    # receiver reads its payload: only a file of one document is kept on its message.
    kept = _kept(data) if len(received) == 1 else None
    rows, states = _record(run, partner, path.name, identity, kept, received)
    todo = [i for i, state in enumerate(states) if state == "apply"]
    outcomes = _apply(run, partner, [received[i] for i in todo])
    finished = []
    for i, outcome in zip(todo, outcomes, strict=True):
        row = rows[i]
        changes: dict[str, Any] = {
            "id": row["id"],
            "status": outcome.status,
            "error": outcome.error,
            "detail": {"file": identity, **outcome.detail},
            "document_number": outcome.number,
        }
        if outcome.related:
            changes["related_collection"] = outcome.related[0]
            changes["related_id"] = str(outcome.related[1])
        if outcome.counterpart is not None:
            changes["receiver"] = outcome.counterpart  # known with its order: it sees it
        finished.append(changes)
        rows[i] = {**row, **changes}
        run.counts[f"{outcome.status}_{received[i].code}"] += 1
    for chunk in chunks(finished):
        run.hub.patch(f"/items/{MESSAGES}", chunk, fields=["id"])
    verdicts: dict[str, list[tuple[Received, bool, str | None]]] = {}
    for document, row, state in zip(received, rows, states, strict=True):
        if state != "duplicate":
            verdicts.setdefault(document.interchange, []).append(
                (document, row["status"] == "applied", row.get("error"))
            )
    for interchange, sets in verdicts.items():
        answer(run, partner, interchange, sets)
    move_unique(path, mailbox / "archive")


#: The profile's document name of each kind of report.
REPORT_DOCUMENTS = {"pos": "sales_report", "inventory": "inventory_report", "forecasts": "forecast"}


def forward_report(
    run: Exchange, partner: Org, mailbox: Path, path: Path, data: bytes, identity: str
) -> None:
    """A distributor's sales (852/SLSRPT), inventory (846/INVRPT) or forecast (830)
    report: its interchanges checked as an order's are (envelopes, counts, control
    numbers, the sender), then handed to the import, the same one a file left in the
    distributor's drop folder gets (``<drop>/<distributor id>/pos|inventory|forecasts``):
    the drop-folder job imports it, and its rows' problems are on that import's page. Each report is
    recorded ``forwarded`` and the interchange answered with a 997/CONTRL; a report
    received before is recorded as a duplicate and not imported again (an import of the
    same file again would change nothing either)."""
    try:
        received = read_reports(data)
        _check_sender(partner, received)
        first = received[0]
        kind = REPORTS[first.code]
        document = REPORT_DOCUMENTS[kind]
        if partner.kind != "distributor" or not partner.sends(document):
            raise DocumentError(
                f"{partner.name}'s profile does not send {document.replace('_', ' ')}s",
                first.position, "ST01" if first.standard == "x12" else "UNH0065", first.code,
            )  # fmt: skip
        if run.drop_dir is None:
            raise DocumentError(
                "this Tandem imports no reports by EDI: it has no drop folders", first.position
            )
    except DocumentError as error:
        _refuse(run, partner, mailbox, path, data, str(error), error)
        return
    rows, states = _record(run, partner, path.name, identity, _kept(data), received)
    if "apply" in states:
        # Named by its message: nothing of the envelope's text goes into a file name.
        first_row = next(r for r, state in zip(rows, states, strict=True) if state == "apply")
        suffix = ".x12" if first.standard == "x12" else ".edi"
        deliver(run.drop_dir / str(partner.id) / kind, f"edi-{first_row['id']}{suffix}", data)
        forwarded = [
            {"id": row["id"], "status": "forwarded",
             "detail": {"file": identity, "import": f"{kind} drop folder"}}
            for row, state in zip(rows, states, strict=True) if state == "apply"
        ]  # fmt: skip
        for chunk in chunks(forwarded):
            run.hub.patch(f"/items/{MESSAGES}", chunk, fields=["id"])
        run.counts[f"forwarded_{first.code}"] += len(forwarded)
    verdicts: dict[str, list[tuple[Received, bool, str | None]]] = {}
    for document, state in zip(received, states, strict=True):
        if state != "duplicate":
            verdicts.setdefault(document.interchange, []).append((document, True, None))
    for interchange, sets in verdicts.items():
        answer(run, partner, interchange, sets)
    move_unique(path, mailbox / "archive")


def _check_sender(partner: Org, received: Sequence[Received]) -> None:
    """Every interchange of a partner's mailbox is from that partner, in its standard."""
    if not received:
        return
    first = received[0]
    if first.standard != partner.standard:
        raise DocumentError(
            f"{partner.name} exchanges {partner.standard}, not {first.standard}", first.position
        )
    strangers = sorted({r.sender for r in received if not partner.is_called(r.standard, r.sender)})
    if strangers:
        raise DocumentError(
            f"sent from {partner.name}'s mailbox, but the envelope names "
            f"{', '.join(strangers)} as its sender, not {partner.envelope_id(first.standard)[1]}",
            first.position,
            "ISA06" if first.standard == "x12" else "UNB0004",
        )


def _record(
    run: Exchange,
    partner: Org,
    name: str,
    identity: str,
    kept: str | None,
    received: Sequence[Received],
) -> tuple[list[dict[str, Any]], list[str]]:
    """Each document's message and what to do with it: ``apply`` (new, or recorded by a
    run that stopped before applying it, whichever file brings it again), ``done``
    (applied or refused from this very file by a run that stopped before archiving it),
    ``duplicate`` (applied or refused from another file: recorded again as a duplicate)."""
    keys = [f"in:{partner.id}:{d.interchange}:{d.group}:{d.control}" for d in received]
    found: dict[str, dict[str, Any]] = {}
    for chunk in chunks(sorted(set(keys))):
        for row in run.hub.read_items(
            MESSAGES,
            filter={"dedupe": {"_in": chunk}},
            fields=["id", "dedupe", "status", "error", "detail"],
            limit=-1,
        ):
            found[row["dedupe"]] = row
    states: list[str] = []
    new: list[dict[str, Any]] = []
    duplicates: list[dict[str, Any]] = []
    seen: set[str] = set()
    for document, key in zip(received, keys, strict=True):
        row = found.get(key)
        base = _message(partner, document, name, identity, kept)
        other_file = row is not None and (row.get("detail") or {}).get("file") != identity
        # A document recorded but never applied (its run stopped) is applied now, from
        # whichever file brings it again; one applied or refused is a duplicate.
        if key in seen or (other_file and row is not None and row["status"] != "received"):
            before = f" (message {row['id']})" if row else " in this file"
            duplicates.append(
                {**base, "status": "duplicate", "error": f"interchange {document.interchange} "
                 f"set {document.control} was received before{before}; not applied again"}
            )  # fmt: skip
            states.append("duplicate")
            run.counts["duplicates"] += 1
        elif row is None:
            new.append({**base, "dedupe": key, "status": "received"})
            states.append("apply")
        else:
            states.append("apply" if row["status"] == "received" else "done")
        seen.add(key)
    for chunk in chunks(new):
        for row in run.hub.post(f"/items/{MESSAGES}", chunk, fields=["id", "dedupe", "detail"]):
            found[row["dedupe"]] = {**row, "status": "received"}
    for chunk in chunks(duplicates):
        run.hub.post(f"/items/{MESSAGES}", chunk, fields=["id"])
    rows = [found.get(key, {}) for key in keys]
    return rows, states


def _message(
    partner: Org, document: Received, name: str, identity: str, kept: str | None
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
        "detail": {"file": identity},
    }


def _apply(run: Exchange, partner: Org, documents: Sequence[Received]) -> list[Outcome]:
    """Acknowledgements against what Tandem sent; the rest with the partner's agent."""
    outcomes: dict[int, Outcome] = {}
    rest: list[int] = []
    for i, document in enumerate(documents):
        if isinstance(document.document, Acknowledgement):
            try:
                outcomes[i] = _acknowledged(run, partner, document)
            except OrderError as error:
                outcomes[i] = Outcome("rejected", str(error), number=_reference(document))
        elif partner.kind == "distributor" and isinstance(document.document, Order):
            outcomes[i] = _ordered(run, partner, document)
        elif partner.kind != "supplier":
            outcomes[i] = Outcome(
                "rejected",
                f"{partner.name} is a {partner.kind}; only suppliers send {document.code}",
            )
        else:
            rest.append(i)
    if rest:

        def buyer_of(document: Received) -> int | None:
            buyer = run.counterpart(document.standard, document.receiver)
            return buyer.id if buyer is not None and buyer.kind != "supplier" else None

        applier = Applier(
            run.agent(partner.id),
            partner.name,
            buyer_of,
            at=iso(clock.now()),
            today=clock.today(),
        )
        for i, outcome in zip(rest, applier.apply([documents[i] for i in rest]), strict=True):
            outcomes[i] = outcome
    return [outcomes[i] for i in range(len(documents))]


def _ordered(run: Exchange, partner: Org, received: Received) -> Outcome:
    """An order from a distributor's own system (850/ORDERS) becomes its purchase order,
    created with its agent as its web users create one (the hub's rules and ownership
    hook apply), for the supplier the envelope names; the order then goes on to the
    supplier as any new order does. Sent again, an order Tandem has is not made twice."""
    order = received.document
    assert isinstance(order, Order)
    if not partner.sends("order"):
        return Outcome(
            "rejected", f"{partner.name}'s profile does not send orders", number=order.number
        )
    if order.purpose != "original":
        return Outcome(
            "rejected",
            f"an order {order.purpose} by EDI is not taken from a distributor: "
            "change or cancel the order on the web",
            number=order.number,
        )
    agent = run.agent(partner.id)
    supplier = run.counterpart(received.standard, received.receiver)
    pairs = agent.read_items(
        "partnerships",
        filter={"supplier": {"_eq": supplier.id if supplier else 0}},
        fields=["id"],
        limit=1,
    )
    if supplier is None or supplier.kind != "supplier" or not pairs:
        return Outcome(
            "rejected",
            f"{received.receiver} is no supplier {partner.name} orders from",
            number=order.number,
        )
    pair = int(pairs[0]["id"])
    gtins = sorted({line.item.gtin for line in order.lines if line.item.gtin})
    skus = {
        str(row["gtin"]): int(row["id"])
        for chunk in chunks(gtins)
        for row in agent.read_items(
            "skus",
            filter={"supplier": {"_eq": supplier.id}, "gtin": {"_in": chunk}},
            fields=["id", "gtin"],
            limit=-1,
        )
    }
    places = agent.read_items(
        "locations",
        filter={"distributor": {"_eq": partner.id}, "gln": {"_eq": order.ship_to or "-"}},
        fields=["id"],
        limit=1,
    )
    try:
        own = agent.read_items(
            "organizations", filter={"id": {"_eq": partner.id}}, fields=["currency"], limit=1
        )
        row = purchase_order_row(
            order, pair, skus, int(places[0]["id"]) if places else None, clock.today(),
            currency=str(own[0].get("currency") or "") if own else "",
        )  # fmt: skip
    except OrderError as error:
        return Outcome("rejected", str(error), number=order.number)
    found = agent.read_items(
        "purchase_orders",
        filter={"partnership": {"_eq": pair}, "number": {"_eq": order.number}},
        fields=["id", "lines.line_no", "lines.sku", "lines.qty_ordered", "lines.unit_cost_minor"],
        limit=1,
    )
    if found:
        # This very order made by a run that stopped before recording it: applied once.
        # Any other order of that number is not replaced by a new one.
        related = ("purchase_orders", int(found[0]["id"]))
        if _same_lines(found[0]["lines"], row["lines"]):
            return Outcome("applied", counterpart=supplier.id, related=related,
                           number=order.number)  # fmt: skip
        return Outcome(
            "rejected",
            f"order {order.number} exists already, with other lines: an order's changes are "
            "made on the web",
            number=order.number,
        )
    try:
        created = agent.create_item("purchase_orders", row, fields=["id"])
    except REFUSED as error:
        return Outcome("rejected", f"the hub refused the order: {error}", number=order.number)
    related = ("purchase_orders", int(created["id"]))
    return Outcome("applied", counterpart=supplier.id, related=related, number=order.number,
                   detail={"lines": len(row["lines"])})  # fmt: skip


def _same_lines(stored: Sequence[Mapping[str, Any]], wanted: Sequence[Mapping[str, Any]]) -> bool:
    fields = ("line_no", "sku", "qty_ordered", "unit_cost_minor")
    return sorted(tuple(int(x[f]) for f in fields) for x in stored) == sorted(
        tuple(int(x[f]) for f in fields) for x in wanted
    )


def _acknowledged(run: Exchange, partner: Org, received: Received) -> Outcome:
    """A 997/CONTRL for an interchange Tandem sent the partner: that message is marked
    acknowledged or rejected, with the faults it reports. Control numbers run per pair
    of envelope parties: the message is found by the acknowledgement's receiver (the
    party Tandem sent it for) and its reference."""
    doc = received.document
    if not isinstance(doc, Acknowledgement):
        raise OrderError(f"a {received.code} is no acknowledgement")
    ours = run.counterpart(received.standard, received.receiver)
    reference = doc.reference.strip().lstrip("0") or "0"
    if not reference.isdigit():
        raise OrderError(f"acknowledges interchange {doc.reference!r}, which Tandem never sends")
    sent = run.hub.read_items(
        MESSAGES,
        filter={
            "direction": {"_eq": "out"},
            "partner": {"_eq": partner.id},
            "sender": {"_eq": ours.id} if ours else {"_null": True},
            "control": {"_eq": int(reference)},
        },
        fields=["id", "related_collection", "related_id", "sender"],
        limit=1,
    )
    if not sent:
        raise OrderError(f"no interchange {doc.reference} was sent to {partner.name}")
    status = {"accepted": "acknowledged", "rejected": "rejected"}.get(
        doc.status, "partially acknowledged"
    )
    faults = [dataclasses.asdict(f) for s in doc.sets for f in s.faults]
    run.hub.update_item(
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


def _refuse(
    run: Exchange,
    partner: Org,
    mailbox: Path,
    path: Path,
    data: bytes | None,
    reason: str,
    error: DocumentError | None = None,
) -> None:
    """A file that cannot be read at all."""
    peeked = peek(data) if data is not None else None
    run.hub.create_item(
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
    run.counts["rejected_files"] += 1
    quarantine(path, mailbox / "rejected", reason)
    if (
        peeked is not None
        and peeked.interchange
        and peeked.code  # a set (message) to name: else there is nothing to answer
        and (peeked.group or peeked.standard != "x12")
        and peeked.standard == partner.standard
        and partner.is_called(peeked.standard, peeked.sender)
    ):
        document = Received(
            peeked.standard, peeked.code, Acknowledgement("", "", "rejected"), peeked.sender,
            peeked.receiver, peeked.interchange, peeked.group, peeked.control, 0,
        )  # fmt: skip
        fault = _fault(peeked.standard, error)
        answer(run, partner, peeked.interchange, [(document, False, reason)], fault)


def answer(
    run: Exchange,
    partner: Org,
    interchange: str,
    sets: Sequence[tuple[Received, bool, str | None]],
    fault: Fault | None = None,
) -> None:
    """The 997/CONTRL for one received interchange, once, if the partner wants them;
    never for an acknowledgement."""
    first = sets[0][0]
    if first.code in ACKS or not (partner.profile or {}).get("acknowledgements"):
        return
    code = "997" if first.standard == "x12" else "CONTRL"
    done = run.hub.read_items(
        MESSAGES,
        filter={
            "direction": {"_eq": "out"},
            "partner": {"_eq": partner.id},
            "message_type": {"_eq": code},
            "document_number": {"_eq": interchange},
        },
        fields=["id"],
        limit=1,
    )
    if done:
        return
    accepted = sum(1 for _d, ok, _e in sets if ok)
    status = "accepted" if accepted == len(sets) else "rejected" if not accepted else "partially"
    faults = (fault,) if fault else ()
    acks = tuple(SetAck(d.code, d.control, ok, () if ok else faults) for d, ok, _e in sets)
    if first.standard == "x12":
        ack = Acknowledgement(
            GROUP_CODES.get(first.code, first.code[:2]), first.group, status, acks
        )  # type: ignore[arg-type]
    else:
        ack = Acknowledgement(first.code, interchange, status, acks)  # type: ignore[arg-type]
    run.emit(
        partner,
        run.counterpart(first.standard, first.receiver),
        [(ack, {"number": interchange,
                "detail": {"answers": interchange, "status": status,
                           "reasons": [e for _d, ok, e in sets if not ok and e]}})],
        code,
        ours=(_qualifier(first.standard, first.receiver), first.receiver),
    )  # fmt: skip


def _reference(document: Received) -> str:
    return str(getattr(document.document, "reference", ""))


def _kept(data: bytes | None) -> str | None:
    """A received file's text as its message keeps it: None past the size kept, or when
    it holds a NUL byte, which no EDI file does and PostgreSQL's text cannot store (the
    file stays in the partner's archive either way)."""
    if data is None or len(data) > MAX_KEPT_PAYLOAD or holds_nul(data):
        return None
    return data.decode("latin-1")


def _qualifier(standard: str, text: str) -> str:
    if standard == "x12":
        return "ZZ"
    return "14" if len(text) == 13 and text.isdigit() else "ZZZ"


def _fault(standard: str, error: DocumentError | None) -> Fault | None:
    """Where a reading error was: for a 997, the segment and element (AK3/AK4, AK403 7:
    invalid value) when the error names one, else the set as a whole (AK501 5: segments
    in error); for a CONTRL, UCM's 0085 12 (invalid value)."""
    if error is None:
        return None
    found = ELEMENT.match(error.element or "")
    if standard != "x12":
        return Fault("12", position=error.position)
    if found is None:
        return Fault("5", position=error.position)
    return Fault("7", found.group(1), error.position, int(found.group(2)))
