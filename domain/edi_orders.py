"""Orders and what answers them, in EDI: X12 850/860/855/856/810/997 and EDIFACT
ORDERS/ORDCHG/ORDRSP/DESADV/INVOIC/CONTRL, read into documents and written from them.

Pure: bytes in, :class:`Received` documents out, and documents in, text out. The
envelopes are :mod:`domain.x12`'s and :mod:`domain.edifact`'s, checked strictly (counts,
control numbers and references). What the hub does with a document is the order
exchange's business (``sync``), not this module's.

What the readers promise
------------------------
- A file that is not a well-formed document of these kinds raises :class:`DocumentError`
  and nothing else (the fuzz tests hold them to it): its ``position`` is the segment's
  1-based place in the file (X12 as :attr:`domain.x12.Segment.position`; EDIFACT counts
  ``UNA``), its ``element`` the element (``PO102``, ``QTY+21``) when one is to blame,
  with what was expected and what was found.
- Quantities and prices are exact :class:`~decimal.Decimal` values as delivered, in major
  units (``12.50``): turning a price into minor units, or refusing a fractional quantity,
  is for whoever applies the document, which knows the currency. X12 ``TDS01`` is an
  implied-two-decimals amount (``N2``): ``1234579`` is ``12345.79``.
- Dates are :class:`datetime.date`: X12 ``CCYYMMDD`` (or ``YYMMDD`` in the envelopes'
  older versions, 1950-2049), EDIFACT formats ``102``, ``203``, ``101``.
- A line's item is every identifier delivered (:class:`Item`): GTIN (X12 ``UP``/``EN``/
  ``UK``, EDIFACT ``EN``/``SRV``/``UP``), the buyer's item (``IN``) and the vendor's (X12
  ``VN``/``VP``/``VA``, EDIFACT ``SA``). Other qualifiers are ignored.
- Line statuses (855 ``ACK01``, ORDRSP ``LIN`` 1229) become ``accepted``, ``changed`` or
  ``rejected``; a code outside this module's code lists is a DocumentError naming it.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Context, Decimal, DecimalException, Inexact, localcontext
from typing import Any, Literal

from domain import clock, edifact, x12
from domain.edi_reports import holds_nul, sniff
from domain.edifact import BLANKS, Message, Seg, component, write_segment
from domain.ingest import FileError

__all__ = [
    "Acknowledgement",
    "Carton",
    "DocumentError",
    "Envelope",
    "Fault",
    "Invoice",
    "InvoiceLine",
    "Item",
    "Order",
    "OrderLine",
    "OrderResponse",
    "PackedLine",
    "Received",
    "ResponseLine",
    "SetAck",
    "ShipNotice",
    "read",
    "write_edifact",
    "write_x12",
]

Status = Literal["accepted", "changed", "rejected"]


# --- code lists ----------------------------------------------------------------------
def _meaning(**codes: str) -> dict[str, Any]:
    """Codes by what they mean: ``_meaning(accepted="IA AC")`` -> {"IA": "accepted", ...}."""
    return {code: meaning for meaning, listed in codes.items() for code in listed.split()}


X12_GTIN = frozenset({"UP", "EN", "UK"})
X12_BUYER, X12_VENDOR = frozenset({"IN", "BP"}), frozenset({"VN", "VP", "VA"})
# 855 ACK01 (line item status code, 004010): what each means for the line.
X12_LINE_STATUS: dict[str, Status] = _meaning(
    accepted="IA AC IE IF",
    changed="IB IC IH IP IQ IS IW DR SP BP",
    rejected="IR ID R1 R2 R3 R4 R5",
)
# BAK02 (acknowledgement type) -> the answer as a whole.
X12_ANSWER: dict[str, Status] = _meaning(
    accepted="AT AD AK", changed="AC AE AP", rejected="RJ RD RF"
)
# DTM01/SCH05 qualifiers that say when the goods are wanted (delivery or ship dates).
X12_REQUESTED = frozenset({"002", "010", "037", "063", "064", "068"})
# POC02 (line item change code, 004010 element 670) -> what the change does to the line.
X12_CHANGE = _meaning(
    add="AI",
    delete="DI",
    unchanged="NC",
    change="CA CB CE CT MU PC PQ PR QD QI RA RC RE RQ RS",
)
X12_WRITE_CHANGE = {"add": "AI", "delete": "DI", "unchanged": "NC", "change": "CA"}
X12_WRITE_STATUS = {"accepted": "IA", "changed": "IC", "rejected": "IR"}
X12_WRITE_ANSWER = {"accepted": "AD", "changed": "AC", "rejected": "RD"}
# BEG01 / BCH01 transaction set purpose: 00 original, 01 cancellation, 04/05 change.
X12_PURPOSE = _meaning(original="00 06", cancel="01", change="04 05")
EDI_GTIN = frozenset({"EN", "SRV", "UP"})
# ORDRSP LIN 1229 (action request/notification) -> the line's status.
EDI_LINE_STATUS: dict[str, Status] = _meaning(accepted="5 4", changed="3 6 1", rejected="7 2 10")
# ORDCHG LIN 1229 (action request) -> what the change does to the line.
EDI_CHANGE = _meaning(add="1", delete="2", change="3", unchanged="4")
EDI_WRITE_CHANGE = {"add": "1", "delete": "2", "change": "3", "unchanged": "4"}
EDI_WRITE_STATUS = {"accepted": "5", "changed": "3", "rejected": "7"}
# BGM 1225 (message function) on an ORDRSP: the answer as a whole.
EDI_ANSWER: dict[str, Status] = _meaning(accepted="29", changed="4", rejected="27")
# BGM 4343 (response type), read when 1225 is only "original" (9) or absent.
EDI_RESPONSE_TYPE: dict[str, Status] = _meaning(accepted="AP AI", changed="AC CA", rejected="RE")
EDI_WRITE_ANSWER = {"accepted": "29", "changed": "4", "rejected": "27"}
# BGM 1225 (message function) on ORDERS/ORDCHG.
EDI_PURPOSE = _meaning(original="9 7 31 43 46", cancel="1 3", change="4 5")
EANCOM = {
    "ORDERS": ("D", "96A", "UN", "EAN008"),
    "ORDCHG": ("D", "96A", "UN", "EAN004"),
    "ORDRSP": ("D", "96A", "UN", "EAN005"),
    "DESADV": ("D", "96A", "UN", "EAN005"),
    "INVOIC": ("D", "96A", "UN", "EAN008"),
    "CONTRL": ("2", "2", "UN"),
}
PRICES = frozenset({"AAA", "AAB", "INV", "CAL"})  # net, gross, invoice, calculation
FUNCTIONAL_ID = re.compile(r"[A-Z]{2}\Z")
LEADING_DIGITS = re.compile(r"([0-9]+)(?:[^0-9]|\Z)")
#: Division that must be exact (a price per its basis): anything inexact is refused.
EXACT_DIVISION = Context(prec=80, traps=[Inexact])
MAX_NUMBER = 36  # characters: X12 R is 15 digits at most, EDIFACT n..35
NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)\Z")
GROUP_CODES = {"850": "PO", "860": "PC", "855": "PR", "856": "SH", "810": "IN", "997": "FA",
               "852": "PD", "846": "IB", "830": "PS"}  # fmt: skip


class DocumentError(FileError):
    """An order document that cannot be read: where, which element, expected vs found."""

    def __init__(
        self, message: str, position: int = 0, element: str = "", found: str | None = None
    ) -> None:
        self.position = position
        self.element = element
        self.found = found
        where = f"{element}: " if element else ""
        seen = f" (found {found!r})" if found is not None else ""
        super().__init__(f"{where}{message}{seen}", position)


# --- documents --------------------------------------------------------------------------
@dataclass(frozen=True)
class Item:
    """Every identifier a line gives its product."""

    gtin: str = ""
    buyer: str = ""  # the buyer's (distributor's) item number
    vendor: str = ""  # the vendor's (supplier's) item number

    def __bool__(self) -> bool:
        return bool(self.gtin or self.buyer or self.vendor)


@dataclass(frozen=True)
class OrderLine:
    line: str
    item: Item
    quantity: Decimal
    unit: str = "EA"
    price: Decimal | None = None  # per unit, major units
    requested: dt.date | None = None
    position: int = field(default=0, compare=False)
    #: On a change or cancellation: add, change, delete or unchanged ("" on an order).
    action: str = ""


@dataclass(frozen=True)
class Order:
    """A purchase order (850/ORDERS), its change (860/ORDCHG) or its cancellation."""

    number: str
    purpose: Literal["original", "change", "cancel"] = "original"
    ordered_on: dt.date | None = None
    requested: dt.date | None = None
    currency: str = ""
    buyer: str = ""
    seller: str = ""
    ship_to: str = ""
    lines: tuple[OrderLine, ...] = ()


@dataclass(frozen=True)
class ResponseLine:
    line: str
    item: Item
    status: Status
    quantity: Decimal | None = None  # what the supplier commits to
    date: dt.date | None = None  # when (the promised date)
    reason: str = ""
    ordered: Decimal | None = None  # what the line asked for, as the answer repeats it
    position: int = field(default=0, compare=False)


@dataclass(frozen=True)
class OrderResponse:
    """A purchase order acknowledgement (855/ORDRSP), line by line."""

    order: str
    number: str = ""
    status: Status = "accepted"
    date: dt.date | None = None
    lines: tuple[ResponseLine, ...] = ()


@dataclass(frozen=True)
class PackedLine:
    line: str
    item: Item
    quantity: Decimal
    unit: str = "EA"
    order: str = ""  # the PO it ships against
    position: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Carton:
    """A pack with its SSCC (empty for lines not packed in a marked carton)."""

    sscc: str
    lines: tuple[PackedLine, ...] = ()


@dataclass(frozen=True)
class ShipNotice:
    """An advance ship notice (856/DESADV): cartons and what each holds."""

    number: str
    shipped: dt.date | None = None
    expected: dt.date | None = None
    cartons: tuple[Carton, ...] = ()

    @property
    def lines(self) -> list[PackedLine]:
        return [line for carton in self.cartons for line in carton.lines]

    @property
    def orders(self) -> list[str]:
        return sorted({line.order for line in self.lines if line.order})


@dataclass(frozen=True)
class InvoiceLine:
    line: str
    item: Item
    quantity: Decimal
    price: Decimal
    unit: str = "EA"
    position: int = field(default=0, compare=False)

    @property
    def amount(self) -> Decimal:
        return self.quantity * self.price


@dataclass(frozen=True)
class Invoice:
    """An invoice (810/INVOIC) against one PO."""

    number: str
    order: str
    date: dt.date | None = None
    currency: str = ""
    lines: tuple[InvoiceLine, ...] = ()
    total: Decimal | None = None  # as stated; None if the document states none


@dataclass(frozen=True)
class Fault:
    """One error a 997 (CONTRL) reports: the segment (tag and position in the set), the
    element (1-based; 0 for the segment as a whole) and the syntax error code (X12
    AK304/AK403/AK502, EDIFACT 0085). A fault of the set as a whole has no segment."""

    code: str
    segment: str = ""
    position: int = 0
    element: int = 0


@dataclass(frozen=True)
class SetAck:
    """One transaction set's (message's) fate in a 997 (CONTRL)."""

    code: str  # 850, ORDERS ...
    control: str
    accepted: bool
    faults: tuple[Fault, ...] = ()


@dataclass(frozen=True)
class Acknowledgement:
    """A functional acknowledgement (997/CONTRL) of a group (interchange)."""

    functional_id: str  # X12 AK101 (PO, IN...); EDIFACT the acknowledged message type
    reference: str  # X12 AK102 group control number; EDIFACT UCI interchange reference
    status: Literal["accepted", "partially", "rejected"]
    sets: tuple[SetAck, ...] = ()


Document = Order | OrderResponse | ShipNotice | Invoice | Acknowledgement


@dataclass(frozen=True)
class Received:
    """One document read from a file, and its envelope."""

    standard: Literal["x12", "edifact"]
    code: str  # 850, ORDERS ...
    document: Document | Report
    sender: str
    receiver: str
    interchange: str  # control number (reference)
    group: str  # X12 GS06; EDIFACT UNG reference or ""
    control: str  # ST02 / UNH reference
    position: int


@dataclass(frozen=True)
class Envelope:
    """Who sends to whom, and the control numbers of one interchange to write.

    ``control`` is the interchange's (ISA13/UNB 0020) and the group's (GS06); sets
    (messages) are numbered from 1 inside it. The caller keeps them unique and monotonic
    per partner and direction.
    """

    sender: str
    receiver: str
    control: int
    sender_qualifier: str = "ZZ"
    receiver_qualifier: str = "ZZ"
    usage: Literal["P", "T"] = "P"
    created: dt.datetime | None = None
    delimiters: x12.Delimiters = field(default_factory=x12.Delimiters)


# --- shared reading helpers ------------------------------------------------------------
def _number(
    text: str, element: str, position: int, what: str = "a number", *, comma: bool = False
) -> Decimal:
    """A number as the standard writes it: X12's decimal point only; with ``comma``
    (EDIFACT: ISO 9735 takes a comma or a full stop as the decimal mark), either."""
    value = text.strip()
    if comma:
        value = value.replace(",", ".")
    if not NUMBER.match(value) or len(value) > MAX_NUMBER:
        raise DocumentError(f"expected {what}", position, element, text[:40])
    return Decimal(value)


def _maybe_number(text: str, element: str, position: int) -> Decimal | None:
    return _number(text, element, position) if text.strip() else None


def _date(text: str, element: str, position: int, form: str = "") -> dt.date:
    value = text.strip()
    try:
        if form in ("", "102") and len(value) == 8:
            return dt.date(int(value[:4]), int(value[4:6]), int(value[6:8]))
        if form in ("203", "204") and len(value) in (12, 14):
            return dt.date(int(value[:4]), int(value[4:6]), int(value[6:8]))
        if form in ("", "101") and len(value) == 6:
            year = int(value[:2])
            return dt.date(
                2000 + year if year < 50 else 1900 + year, int(value[2:4]), int(value[4:6])
            )
    except ValueError:
        pass
    expected = {
        "": "a date CCYYMMDD",
        "102": "a date CCYYMMDD (format 102)",
        "203": "a date and time CCYYMMDDHHMM (format 203)",
        "101": "a date YYMMDD (format 101)",
    }.get(form, f"a date in format {form}")
    if x12.digits(value) and form not in ("", "102", "203", "204", "101"):
        raise DocumentError(
            f"date format {form} is not one this reader knows", position, element, text
        )
    raise DocumentError(f"expected {expected}", position, element, text)


def _required(text: str, element: str, position: int, what: str) -> str:
    if not text.strip():
        raise DocumentError(f"expected {what}", position, element, text)
    return text.strip()


# --- X12 reading -----------------------------------------------------------------------
def _x12_item(segment: x12.Segment, first: int) -> Item:
    """The product ids in a line's qualifier/id pairs from element ``first`` on."""
    found: dict[str, str] = {}
    for n in range(first, len(segment.elements), 2):
        qualifier, value = segment.get(n), segment.get(n + 1).strip()
        if bool(qualifier) != bool(value):  # the syntax notes pair them (e.g. PO1 P0607)
            missing = n + 1 if qualifier else n
            raise DocumentError(
                f"expected {'the product id' if qualifier else 'the qualifier'} paired with "
                f"{segment.tag}{(n if qualifier else n + 1):02d} (a paired syntax note)",
                segment.position,
                f"{segment.tag}{missing:02d}",
                "",
            )
        if not value:
            continue
        if qualifier in X12_GTIN:
            found.setdefault("gtin", value)
        elif qualifier in X12_BUYER:
            found.setdefault("buyer", value)
        elif qualifier in X12_VENDOR:
            found.setdefault("vendor", value)
    return Item(**found)


def _x12_dtm(segment: x12.Segment) -> tuple[str, dt.date]:
    return segment.get(1), _date(segment.get(2), "DTM02", segment.position)


def _x12_order(transaction: x12.Transaction) -> Order:
    head, *_ = transaction.segments or [None]
    if head is None or head.tag not in ("BEG", "BCH"):
        raise DocumentError(
            "expected BEG (850) or BCH (860) first",
            transaction.position + 1,
            "",
            head.tag if head else "",
        )
    at = head.position
    purpose = X12_PURPOSE.get(head.get(1))
    if purpose is None:
        raise DocumentError(
            "expected a purpose code 00, 01, 04, 05 or 06", at, f"{head.tag}01", head.get(1)
        )
    if transaction.code == "860" and purpose == "original":
        purpose = "change"
    number = _required(head.get(3), f"{head.tag}03", at, "the purchase order number")
    date_at = 5 if head.tag == "BEG" else 6
    dated = head.get(date_at)
    ordered = _date(dated, f"{head.tag}0{date_at}", at) if dated else None
    order = {"currency": "", "requested": None, "ship_to": "", "buyer": "", "seller": ""}
    lines: list[OrderLine] = []
    party = ""
    for segment in transaction.segments[1:]:
        tag, at = segment.tag, segment.position
        if tag == "CUR" and segment.get(1) in ("BY", "SE", "BT"):
            order["currency"] = segment.get(2)
        elif tag == "DTM" and not lines and segment.get(1) in X12_REQUESTED:
            order["requested"] = order["requested"] or _x12_dtm(segment)[1]
        elif tag == "N1":
            party = segment.get(1)
            code = segment.get(4).strip()
            key = {"ST": "ship_to", "BY": "buyer", "SE": "seller", "VN": "seller"}.get(party)
            if key and code:
                order[key] = code
        elif tag in ("PO1", "POC"):
            # PO1: 02 quantity, 03 unit, 04 price, 06.. ids; POC: 03, 05, 06, 08..
            qty_at, unit_at, price_at, ids_at = (2, 3, 4, 6) if tag == "PO1" else (3, 5, 6, 8)
            action = ""
            if tag == "POC":
                action = X12_CHANGE.get(segment.get(2), "")
                if not action:
                    raise DocumentError(
                        f"expected a line item change code, one of {sorted(X12_CHANGE)}",
                        at, "POC02", segment.get(2),
                    )  # fmt: skip
            lines.append(
                OrderLine(
                    line=segment.get(1).strip() or str(len(lines) + 1),
                    item=_x12_item(segment, ids_at),
                    quantity=_number(segment.get(qty_at), f"{tag}0{qty_at}", at, "a quantity"),
                    unit=segment.get(unit_at) or "EA",
                    price=_maybe_number(segment.get(price_at), f"{tag}0{price_at}", at),
                    position=at,
                    action=action,
                )
            )
        elif tag in ("DTM", "SCH") and lines and not lines[-1].requested:
            code, day_at = (segment.get(1), 2) if tag == "DTM" else (segment.get(5), 6)
            if code in X12_REQUESTED:
                day = _date(segment.get(day_at), f"{tag}0{day_at}", at)
                lines[-1] = replace(lines[-1], requested=day)
    return Order(
        number=number,
        purpose=purpose,
        ordered_on=ordered,  # type: ignore[arg-type]
        lines=tuple(lines),
        **order,
    )


def _x12_response(transaction: x12.Transaction) -> OrderResponse:
    head = _x12_head(transaction, "BAK")
    at = head.position
    status = X12_ANSWER.get(head.get(2))
    if status is None:
        raise DocumentError(
            f"expected an acknowledgement type, one of {sorted(X12_ANSWER)}",
            at,
            "BAK02",
            head.get(2),
        )
    order = _required(head.get(3), "BAK03", at, "the purchase order number")
    date = _date(head.get(4), "BAK04", at) if head.get(4) else None
    lines: list[ResponseLine] = []
    pending: x12.Segment | None = None  # a PO1 whose ACKs follow

    def line_of(po1: x12.Segment, ack: x12.Segment | None) -> ResponseLine:
        ordered = _maybe_number(po1.get(2), "PO102", po1.position)
        if ack is None:  # no ACK: the line as the header answers it
            return ResponseLine(
                po1.get(1).strip() or str(len(lines) + 1),
                _x12_item(po1, 6),
                status if status != "changed" else "accepted",
                ordered,
                None,
                "",
                ordered,
                po1.position,
            )
        code = ack.get(1)
        line_status = X12_LINE_STATUS.get(code)
        if line_status is None:
            raise DocumentError(
                f"expected a line item status code, one of {sorted(X12_LINE_STATUS)}",
                ack.position,
                "ACK01",
                code,
            )
        day = _date(ack.get(5), "ACK05", ack.position) if ack.get(5) else None
        return ResponseLine(
            line=po1.get(1).strip() or str(len(lines) + 1),
            item=_x12_item(po1, 6) or _x12_item(ack, 7),
            status=line_status,
            quantity=_maybe_number(ack.get(2), "ACK02", ack.position),
            date=day,
            reason=code if line_status != "accepted" else "",
            ordered=ordered,
            position=ack.position,
        )

    answered = False
    for segment in transaction.segments[1:]:
        if segment.tag == "PO1":
            if pending is not None and not answered:
                lines.append(line_of(pending, None))
            pending, answered = segment, False
        elif segment.tag == "ACK" and pending is not None:
            # One line per ACK: 60 accepted and 40 backordered are two answers.
            lines.append(line_of(pending, segment))
            answered = True
    if pending is not None and not answered:
        lines.append(line_of(pending, None))
    return OrderResponse(order, head.get(8).strip(), status, date, tuple(lines))


def _x12_head(transaction: x12.Transaction, tag: str) -> x12.Segment:
    head = transaction.segments[0] if transaction.segments else None
    if head is None or head.tag != tag:
        raise DocumentError(
            f"expected {tag} first in the {transaction.code}",
            head.position if head else transaction.position,
            "",
            head.tag if head else "",
        )
    return head


def _x12_ship_notice(transaction: x12.Transaction) -> ShipNotice:
    head = _x12_head(transaction, "BSN")
    at = head.position
    number = _required(head.get(2), "BSN02", at, "the shipment identification")
    shipped = _date(head.get(3), "BSN03", at) if head.get(3) else None
    expected = None
    cartons: dict[str, list[PackedLine]] = {}
    levels: dict[str, tuple[str, str]] = {}  # HL01 -> (level code, parent HL01)
    order, sscc, level = "", "", ""
    item: Item | None = None
    line_id = ""
    for segment in transaction.segments[1:]:
        tag, at = segment.tag, segment.position
        if tag == "HL":
            hl, parent, level = segment.get(1), segment.get(2), segment.get(3)
            if not hl or hl in levels:
                raise DocumentError("expected a new hierarchical id", at, "HL01", hl)
            if parent and parent not in levels:
                raise DocumentError("expected the id of an earlier HL", at, "HL02", parent)
            levels[hl] = (level, parent)
            packed = level == "I" and levels.get(parent, ("", ""))[0] in ("P", "T")
            if not packed:  # a new order or pack, or an item in no pack: no carton yet
                sscc = ""
            if level == "O":  # its PRF names its order, if it has one
                order = ""
            item, line_id = None, ""
        elif tag == "DTM" and segment.get(1) == "011":
            shipped = _x12_dtm(segment)[1]
        elif tag == "DTM" and segment.get(1) in ("017", "067"):
            expected = _x12_dtm(segment)[1]
        elif tag == "PRF":
            order = _required(segment.get(1), "PRF01", at, "the purchase order number")
        elif tag == "MAN" and segment.get(1) in ("GM", "W"):
            sscc = segment.get(2).strip()
        elif tag == "LIN":
            item, line_id = _x12_item(segment, 2), segment.get(1).strip()
        elif tag == "SN1":
            if level != "I" and item is None:
                raise DocumentError(
                    "expected SN1 in an item level (HL03 I) after its LIN", at, "SN1", level
                )
            quantity = _number(segment.get(2), "SN102", at, "a quantity")
            cartons.setdefault(sscc, []).append(
                PackedLine(
                    line=segment.get(1).strip()
                    or line_id
                    or str(sum(map(len, cartons.values())) + 1),
                    item=item or Item(),
                    quantity=quantity,
                    unit=segment.get(3) or "EA",
                    order=order,
                    position=at,
                )
            )
    packed = tuple(Carton(code, tuple(lines)) for code, lines in cartons.items())
    return ShipNotice(number, shipped, expected, packed)


def _x12_invoice(transaction: x12.Transaction) -> Invoice:
    head = _x12_head(transaction, "BIG")
    at = head.position
    date = _date(head.get(1), "BIG01", at) if head.get(1) else None
    number = _required(head.get(2), "BIG02", at, "the invoice number")
    order = head.get(4).strip()
    currency, total = "", None
    lines: list[InvoiceLine] = []
    for segment in transaction.segments[1:]:
        tag, at = segment.tag, segment.position
        if tag == "CUR":
            currency = segment.get(2)
        elif tag == "IT1":
            lines.append(
                InvoiceLine(
                    line=segment.get(1).strip() or str(len(lines) + 1),
                    item=_x12_item(segment, 6),
                    quantity=_number(segment.get(2), "IT102", at, "a quantity"),
                    price=_number(segment.get(4), "IT104", at, "a unit price"),
                    unit=segment.get(3) or "EA",
                    position=at,
                )
            )
        elif tag == "TDS":
            cents = segment.get(1).strip()
            if not x12.digits(cents.removeprefix("-")):
                raise DocumentError("expected an amount in cents (N2)", at, "TDS01", cents)
            total = Decimal(cents).scaleb(-2)
    if not order:
        raise DocumentError("expected the purchase order number", head.position, "BIG04", "")
    return Invoice(number, order, date, currency, tuple(lines), total)


def _x12_ack(transaction: x12.Transaction) -> Acknowledgement:
    head = _x12_head(transaction, "AK1")
    if not FUNCTIONAL_ID.match(head.get(1)):
        raise DocumentError(
            "expected a functional identifier code (GS01: 2 letters)",
            head.position,
            "AK101",
            head.get(1),
        )
    if not x12.digits(head.get(2)):
        raise DocumentError(
            "expected the group control number (GS06)", head.position, "AK102", head.get(2)
        )
    sets: list[SetAck] = []
    faults: list[Fault] = []
    opened: x12.Segment | None = None
    context: Fault | None = None  # an AK3 that only locates the AK4s after it
    status = ""
    for segment in transaction.segments[1:]:
        tag, at = segment.tag, segment.position
        if tag == "AK2":
            opened, faults = segment, []
        elif tag == "AK3" and opened is not None:
            where = segment.get(2)
            faults.append(
                Fault(segment.get(4), segment.get(1), int(where) if x12.digits(where) else 0)
            )
            context = faults[-1] if segment.get(4) == "8" else None
        elif tag == "AK4" and opened is not None:
            number = LEADING_DIGITS.match(segment.get(1))
            if number is None:
                raise DocumentError("expected the element's position", at, "AK401", segment.get(1))
            if segment.get(2) and not x12.digits(segment.get(2)):
                raise DocumentError(
                    "expected a data element reference number", at, "AK402", segment.get(2)
                )
            last = faults[-1] if faults else Fault("")
            if context is not None and last is context:
                faults.pop()  # AK3 8 "data element errors" only says where the AK4s are
            context = None
            faults.append(
                Fault(
                    segment.get(3),
                    last.segment,
                    last.position,
                    int(number.group(1)),
                )
            )
        elif tag == "AK5":
            if opened is None:
                raise DocumentError("expected AK2 before AK5", at, "AK5")
            verdict = segment.get(1)
            if verdict not in ("A", "E", "M", "R", "W", "X"):
                raise DocumentError("expected A, E or R", at, "AK501", verdict)
            faults += [Fault(code) for code in segment.elements[1:] if code]
            sets.append(SetAck(opened.get(1), opened.get(2), verdict in ("A", "E"), tuple(faults)))
            opened, faults = None, []
        elif tag == "AK9":
            status = segment.get(1)
            if status not in ("A", "E", "P", "R", "M", "W", "X"):
                raise DocumentError("expected A, E, P or R", at, "AK901", status)
    if not status:
        raise DocumentError("expected AK9 (the group's response)", head.position, "AK9", "")
    verdict = {"A": "accepted", "E": "accepted", "P": "partially"}.get(status, "rejected")
    return Acknowledgement(head.get(1), head.get(2), verdict, tuple(sets))  # type: ignore[arg-type]


X12_READERS = {
    "850": _x12_order,
    "860": _x12_order,
    "855": _x12_response,
    "856": _x12_ship_notice,
    "810": _x12_invoice,
    "997": _x12_ack,
}


def _read_x12(
    data: bytes | str, readers: Mapping[str, Callable[[x12.Transaction], Any]] = X12_READERS
) -> list[Received]:
    try:
        interchanges = x12.parse(data)
    except x12.X12Error as error:
        raise DocumentError(str(error).split(": ", 1)[-1], error.position) from None
    received = []
    for interchange in interchanges:
        for group, transaction in interchange.transactions():
            reader = readers.get(transaction.code)
            if reader is None:
                raise DocumentError(
                    f"expected one of {sorted(readers)}",
                    transaction.position,
                    "ST01",
                    transaction.code,
                )
            received.append(
                Received(
                    "x12",
                    transaction.code,
                    reader(transaction),
                    interchange.sender_id,
                    interchange.receiver_id,
                    interchange.control_number,
                    group.control_number,
                    transaction.control_number,
                    transaction.position,
                )
            )
    return received


# --- EDIFACT reading -------------------------------------------------------------------
def _edi_item(lin: Seg, others: Iterable[Seg]) -> Item:
    """A line's ids: LIN's C212, then each PIA's."""
    found: dict[str, str] = {}

    def add(code: str, kind: str) -> None:
        if not code.strip():
            return
        if kind in EDI_GTIN:
            found.setdefault("gtin", code.strip())
        elif kind == "IN":
            found.setdefault("buyer", code.strip())
        elif kind == "SA":
            found.setdefault("vendor", code.strip())

    add(component(lin, 2), component(lin, 2, 1))
    for pia in others:
        for n in range(1, len(pia.elements)):
            add(component(pia, n), component(pia, n, 1))
    return Item(**found)


def _edi_date(segment: Seg) -> tuple[str, dt.date]:
    """A DTM's qualifier and day; with no format (2379) given, told by the length."""
    qualifier, value, form = (component(segment, 0, n) for n in range(3))
    form = form.strip() or {8: "102", 12: "203", 6: "101"}.get(len(value.strip()), "102")
    return qualifier, _date(value, f"DTM+{qualifier}", segment.position, form)


def _edi_qty(segment: Seg) -> tuple[str, Decimal, str]:
    qualifier = component(segment, 0)
    value = _number(
        component(segment, 0, 1), f"QTY+{qualifier}", segment.position, "a quantity", comma=True
    )
    return qualifier, value, component(segment, 0, 2)


def _edi_lines(segments: Sequence[Seg]) -> tuple[list[Seg], list[list[Seg]]]:
    """The heading (before the first LIN) and each LIN's group (up to the next or UNS)."""
    heading: list[Seg] = []
    lines: list[list[Seg]] = []
    for segment in segments:
        if segment.tag == "UNS":
            break
        if segment.tag == "LIN":
            lines.append([segment])
        elif lines:
            lines[-1].append(segment)
        else:
            heading.append(segment)
    return heading, lines


def _bgm(segments: Sequence[Seg], kind: str, position: int) -> Seg:
    if not segments or segments[0].tag != "BGM":
        found = segments[0].tag if segments else ""
        raise DocumentError(
            f"expected BGM first in the {kind}",
            segments[0].position if segments else position,
            "BGM",
            found,
        )
    return segments[0]


def _edi_ref(segments: Iterable[Seg], qualifier: str = "ON") -> str:
    for segment in segments:
        if segment.tag == "RFF" and component(segment, 0) == qualifier:
            return component(segment, 0, 1).strip()
    return ""


def _edi_price(segment: Seg) -> Decimal:
    qualifier = component(segment, 0)
    element = f"PRI+{qualifier}"
    price = _number(component(segment, 0, 1), element, segment.position, "a price", comma=True)
    basis = component(segment, 0, 4)
    if basis.strip():
        per = _number(basis, element, segment.position, "a unit price basis", comma=True)
        if per <= 0:
            raise DocumentError("expected a positive price basis", segment.position, element, basis)
        with localcontext(EXACT_DIVISION):
            try:
                exact = price / per
            except (Inexact, DecimalException):
                raise DocumentError(
                    "the price per its basis is not exact per unit",
                    segment.position,
                    element,
                    f"{price}/{per}",
                ) from None
        return exact.normalize() if exact == exact.to_integral() else exact
    return price


def _edi_order(message: edifact.Message) -> Order:
    bgm = _bgm(message.segments, message.kind, message.position)
    number = _required(component(bgm, 1), "BGM 1004", bgm.position, "the order number")
    function = component(bgm, 2) or "9"
    purpose = EDI_PURPOSE.get(function)
    if purpose is None:
        raise DocumentError(
            f"expected a message function, one of {sorted(EDI_PURPOSE)}",
            bgm.position,
            "BGM 1225",
            function,
        )
    if message.kind == "ORDCHG" and purpose == "original":
        purpose = "change"
    heading, groups = _edi_lines(message.segments[1:])
    fields: dict[str, object] = {}
    parties = {"DP": "ship_to", "ST": "ship_to", "BY": "buyer", "SU": "seller"}
    for segment in heading:
        if segment.tag == "DTM" and component(segment, 0) == "137":
            fields["ordered_on"] = _edi_date(segment)[1]
        elif segment.tag == "DTM" and component(segment, 0) in ("2", "64", "69"):
            fields.setdefault("requested", _edi_date(segment)[1])
        elif segment.tag == "NAD" and component(segment, 0) in parties:
            fields[parties[component(segment, 0)]] = component(segment, 1).strip()
        elif segment.tag == "CUX":
            fields["currency"] = component(segment, 0, 1)
    lines = []
    for group in groups:
        lin = group[0]
        quantity = unit = price = requested = None
        for segment in group[1:]:
            if segment.tag == "QTY" and component(segment, 0) in ("21", "1"):
                _q, quantity, unit = _edi_qty(segment)
            elif segment.tag == "PRI" and component(segment, 0) in PRICES and price is None:
                price = _edi_price(segment)
            elif segment.tag == "DTM" and component(segment, 0) in ("2", "64", "69"):
                requested = _edi_date(segment)[1]
        if quantity is None:
            raise DocumentError(
                "expected the ordered quantity (QTY+21) in the line", lin.position, "QTY+21", ""
            )
        action = ""
        if message.kind == "ORDCHG":
            action = EDI_CHANGE.get(component(lin, 1) or "3", "")
            if not action:
                raise DocumentError(
                    f"expected an action code, one of {sorted(EDI_CHANGE)}",
                    lin.position, "LIN 1229", component(lin, 1),
                )  # fmt: skip
        lines.append(
            OrderLine(
                component(lin, 0).strip() or str(len(lines) + 1),
                _edi_item(lin, (s for s in group if s.tag == "PIA")),
                quantity,
                unit or "EA",
                price,
                requested,
                lin.position,
                action,
            )
        )
    return Order(number=number, purpose=purpose, lines=tuple(lines), **fields)  # type: ignore[arg-type]


def _edi_response(message: edifact.Message) -> OrderResponse:
    bgm = _bgm(message.segments, message.kind, message.position)
    function, response = component(bgm, 2), component(bgm, 3)
    status = EDI_ANSWER.get(function)
    if status is None and function in ("", "9"):
        status = EDI_RESPONSE_TYPE.get(response or "AP")
        if status is None:
            raise DocumentError(
                f"expected a response type, one of {sorted(EDI_RESPONSE_TYPE)}",
                bgm.position,
                "BGM 4343",
                response,
            )
    elif status is None:
        raise DocumentError(
            f"expected a message function, one of 9 or {sorted(EDI_ANSWER)}",
            bgm.position,
            "BGM 1225",
            function,
        )
    heading, groups = _edi_lines(message.segments[1:])
    order = _edi_ref(heading)
    if not order:
        raise DocumentError(
            "expected the order number (RFF+ON) in the heading", bgm.position, "RFF+ON", ""
        )
    date = next(
        (_edi_date(s)[1] for s in heading if s.tag == "DTM" and component(s, 0) == "137"), None
    )
    lines = []
    for group in groups:
        lin = group[0]
        action = component(lin, 1) or "5"
        line_status = EDI_LINE_STATUS.get(action)
        if line_status is None:
            raise DocumentError(
                f"expected an action code, one of {sorted(EDI_LINE_STATUS)}",
                lin.position,
                "LIN 1229",
                action,
            )
        ordered = committed = day = None
        reason = ""
        for segment in group[1:]:
            if segment.tag == "QTY":
                qualifier, value, _unit = _edi_qty(segment)
                if qualifier == "21":
                    ordered = value
                elif qualifier in ("113", "12", "194"):
                    committed = value
            elif segment.tag == "DTM" and component(segment, 0) in ("2", "67", "69", "17"):
                day = _edi_date(segment)[1]
            elif segment.tag == "FTX":
                reason = component(segment, 3).strip() or reason
        lines.append(
            ResponseLine(
                component(lin, 0).strip() or str(len(lines) + 1),
                _edi_item(lin, (s for s in group if s.tag == "PIA")),
                line_status,
                committed
                if committed is not None
                else (ordered if line_status == "accepted" else None),
                day,
                reason or (action if line_status != "accepted" else ""),
                ordered,
                lin.position,
            )
        )
    return OrderResponse(order, component(bgm, 1).strip(), status, date, tuple(lines))


def _edi_ship_notice(message: edifact.Message) -> ShipNotice:
    bgm = _bgm(message.segments, message.kind, message.position)
    number = _required(component(bgm, 1), "BGM 1004", bgm.position, "the despatch number")
    shipped = expected = None
    order = ""
    cartons: dict[str, list[PackedLine]] = {}
    sscc = ""
    lin: Seg | None = None
    pias: list[Seg] = []
    line_order = ""

    def close_line(quantity: tuple[str, Decimal, str] | None) -> None:
        if lin is None:
            return
        if quantity is None:
            raise DocumentError(
                "expected the despatched quantity (QTY+12) in the line", lin.position, "QTY+12", ""
            )
        cartons.setdefault(sscc, []).append(
            PackedLine(
                component(lin, 0).strip() or str(sum(map(len, cartons.values())) + 1),
                _edi_item(lin, pias),
                quantity[1],
                quantity[2] or "EA",
                line_order or order,
                lin.position,
            )
        )

    quantity: tuple[str, Decimal, str] | None = None
    for segment in message.segments[1:]:
        tag = segment.tag
        if tag in ("CPS", "LIN", "UNS", "GIN", "PAC"):
            if tag in ("CPS", "LIN", "UNS") or (tag == "GIN" and lin is not None):
                close_line(quantity)
                lin, pias, quantity, line_order = None, [], None, ""
            if tag == "CPS":
                sscc = ""
            elif tag == "GIN" and component(segment, 0) == "BJ":
                sscc = component(segment, 1).strip()
            elif tag == "LIN":
                lin = segment
            elif tag == "UNS":
                break
        elif tag == "DTM" and component(segment, 0) == "11":
            shipped = _edi_date(segment)[1]
        elif tag == "DTM" and component(segment, 0) in ("17", "132", "358"):
            expected = _edi_date(segment)[1]
        elif tag == "RFF" and component(segment, 0) == "ON":
            if lin is None:
                order = component(segment, 0, 1).strip()
            else:
                line_order = component(segment, 0, 1).strip()
        elif tag == "PIA" and lin is not None:
            pias.append(segment)
        elif tag == "QTY" and lin is not None and component(segment, 0) == "12":
            quantity = _edi_qty(segment)
    close_line(quantity)
    packed = tuple(Carton(code, tuple(lines)) for code, lines in cartons.items())
    return ShipNotice(number, shipped, expected, packed)


def _edi_invoice(message: edifact.Message) -> Invoice:
    bgm = _bgm(message.segments, message.kind, message.position)
    number = _required(component(bgm, 1), "BGM 1004", bgm.position, "the invoice number")
    heading, groups = _edi_lines(message.segments[1:])
    order = _edi_ref(heading) or _edi_ref(s for group in groups for s in group)
    if not order:
        raise DocumentError("expected the order number (RFF+ON)", bgm.position, "RFF+ON", "")
    date = next(
        (_edi_date(s)[1] for s in heading if s.tag == "DTM" and component(s, 0) == "137"), None
    )
    currency = next((component(s, 0, 1) for s in heading if s.tag == "CUX"), "")
    lines = []
    for group in groups:
        lin = group[0]
        quantity = price = None
        unit = ""
        for segment in group[1:]:
            if segment.tag == "QTY" and component(segment, 0) in ("47", "46", "12"):
                if quantity is None:
                    _q, quantity, unit = _edi_qty(segment)
            elif segment.tag == "PRI" and component(segment, 0) in PRICES and price is None:
                price = _edi_price(segment)
        if quantity is None or price is None:
            missing = "QTY+47" if quantity is None else "PRI+AAA"
            raise DocumentError(
                "expected the invoiced quantity and the unit price in the line",
                lin.position,
                missing,
                "",
            )
        lines.append(
            InvoiceLine(
                component(lin, 0).strip() or str(len(lines) + 1),
                _edi_item(lin, (s for s in group if s.tag == "PIA")),
                quantity,
                price,
                unit or "EA",
                lin.position,
            )
        )
    total = None
    trailer = message.segments[
        message.segments.index(
            next((s for s in message.segments if s.tag == "UNS"), message.segments[-1])
        ) :
    ]
    for wanted in ("86", "77", "39"):
        found = next((s for s in trailer if s.tag == "MOA" and component(s, 0) == wanted), None)
        if found is not None:
            total = _number(
                component(found, 0, 1), f"MOA+{wanted}", found.position, "an amount", comma=True
            )
            break
    return Invoice(number, order, date, currency, tuple(lines), total)


def _edi_ack(message: edifact.Message) -> Acknowledgement:
    uci = next((s for s in message.segments if s.tag == "UCI"), None)
    if uci is None:
        raise DocumentError(
            "expected UCI (the interchange's response)", message.position, "UCI", ""
        )
    action = component(uci, 3)
    if action not in ("4", "7", "8"):
        raise DocumentError(
            "expected 4 (rejected), 7 (acknowledged) or 8 (received)",
            uci.position,
            "UCI 0083",
            action,
        )
    sets = []
    types = set()
    for segment in message.segments:
        if segment.tag == "UCM":
            verdict = component(segment, 2)
            if verdict not in ("4", "7"):
                raise DocumentError(
                    "expected 4 (rejected) or 7 (acknowledged)",
                    segment.position,
                    "UCM 0083",
                    verdict,
                )
            code = component(segment, 3)
            types.add(component(segment, 1))
            sets.append(
                SetAck(
                    component(segment, 1),
                    component(segment, 0),
                    verdict == "7",
                    (Fault(code),) if code else (),
                )
            )
    rejected = action == "4" or any(not s.accepted for s in sets)
    partly = rejected and action != "4" and any(s.accepted for s in sets)
    status = "partially" if partly else "rejected" if rejected else "accepted"
    kind = types.pop() if len(types) == 1 else ""
    return Acknowledgement(kind, component(uci, 0), status, tuple(sets))  # type: ignore[arg-type]


EDIFACT_READERS = {
    "ORDERS": _edi_order,
    "ORDCHG": _edi_order,
    "ORDRSP": _edi_response,
    "DESADV": _edi_ship_notice,
    "INVOIC": _edi_invoice,
    "CONTRL": _edi_ack,
}


def _read_edifact(
    data: bytes | str, readers: Mapping[str, Callable[[Message], Any]] = EDIFACT_READERS
) -> list[Received]:
    try:
        messages = edifact.messages(data, readers)
    except FileError as error:
        raise DocumentError(
            str(error).split(": ", 1)[-1] if error.line else str(error), error.line
        ) from None
    received = []
    for message in messages:
        unb = message.interchange
        received.append(
            Received(
                "edifact",
                message.kind,
                readers[message.kind](message),
                component(unb, 1) if unb else "",
                component(unb, 2) if unb else "",
                component(unb, 4) if unb else "",
                message.group,
                message.reference,
                message.position,
            )
        )
    return received


#: What a distributor's report holds: the data kind it is imported as.
ReportKind = Literal["pos", "inventory", "forecasts"]


@dataclass(frozen=True)
class Report:
    """A distributor's sales, inventory or forecast report (852/SLSRPT, 846/INVRPT, 830):
    its envelope is the exchange's to check and acknowledge, its content the import's
    to read."""

    kind: ReportKind


#: The reports a distributor sends, by transaction set or message, and what they hold.
REPORTS: dict[str, ReportKind] = {
    "852": "pos", "846": "inventory", "830": "forecasts", "SLSRPT": "pos", "INVRPT": "inventory",
}  # fmt: skip


def _report(kind: ReportKind) -> Callable[[Any], Report]:
    return lambda _content: Report(kind)


def read_reports(data: bytes | str) -> list[Received]:
    """Every report in the file, envelopes checked as strictly as :func:`read` checks
    an order's (counts, control numbers, delimiters); all must be reports of one kind.

    Raises :class:`DocumentError` and nothing else for anything that is not that.
    """
    syntax = sniff(data)
    if syntax == "x12":
        found = _read_x12(
            data,
            {"852": _report("pos"), "846": _report("inventory"), "830": _report("forecasts")},
        )
    elif syntax == "edifact":
        found = _read_edifact(data, {"SLSRPT": _report("pos"), "INVRPT": _report("inventory")})
    else:
        raise DocumentError(
            "not an EDI file: it does not start with ISA (X12) or UNA/UNB (EDIFACT)"
        )
    kinds = {REPORTS[r.code] for r in found}
    if len(kinds) > 1:
        raise DocumentError(
            "reports of different kinds (sales, inventory, forecasts) in one file: send each "
            "kind in its own",
            1,
        )
    return found


def read(data: bytes | str) -> list[Received]:
    """Every order document in the file (X12 or EDIFACT, told by its first segment).

    Raises :class:`DocumentError` and nothing else for anything that is not that.
    """
    if holds_nul(data):
        raise DocumentError("not an EDI file: it holds a NUL byte, which no X12 or EDIFACT does")
    syntax = sniff(data)
    if syntax == "x12":
        return _read_x12(data)
    if syntax == "edifact":
        return _read_edifact(data)
    raise DocumentError("not an EDI file: it does not start with ISA (X12) or UNA/UNB (EDIFACT)")


@dataclass(frozen=True)
class Peeked:
    """What a file that could not be read still tells of its envelope: enough to answer
    it with a rejecting 997/CONTRL. Empty strings for what it does not tell."""

    standard: Literal["x12", "edifact"]
    sender: str
    receiver: str
    interchange: str
    group: str = ""
    code: str = ""  # the first transaction set (message) code
    control: str = ""


def peek(data: bytes) -> Peeked | None:
    """The envelope of an interchange read leniently (None if there is none to read):
    X12 from the ISA's fixed width and the first GS and ST; EDIFACT from UNB and the
    first UNH, under its UNA's (or the default) delimiters."""
    syntax = sniff(data)
    text = data[:4096].decode("latin-1").removeprefix("\xef\xbb\xbf").lstrip(BLANKS)
    if syntax == "x12" and len(text) >= 106:
        sep, end = text[3], text[105]
        isa = text[:106].split(sep)
        if len(isa) < 17:
            return None
        found: dict[str, list[str]] = {}
        for raw in text[106:].split(end):
            parts = raw.strip(BLANKS).split(sep)
            if parts[0] in ("GS", "ST") and parts[0] not in found:
                found[parts[0]] = parts
        gs, st = found.get("GS", []), found.get("ST", [])
        return Peeked(
            "x12", isa[6].strip(), isa[8].strip(), isa[13].strip(),
            gs[6].strip() if len(gs) > 6 else "",
            st[1].strip() if len(st) > 1 else "", st[2].strip() if len(st) > 2 else "",
        )  # fmt: skip
    if syntax == "edifact":
        component, element, release, end = ":", "+", "?", "'"
        if text.startswith("UNA") and len(text) >= 9:
            component, element, release, end = text[3], text[4], text[6], text[8]
            text = text[9:]
        segments = [s.strip(BLANKS) for s in text.split(end)]
        unb = next((s for s in segments if s.startswith("UNB")), "")
        unh = next((s for s in segments if s.startswith("UNH")), "")
        if not unb or release in (component, element):
            return None
        parts = unb.split(element)
        first = [p.split(component)[0] for p in parts]
        head = unh.split(element) if unh else []
        return Peeked(
            "edifact", first[2] if len(first) > 2 else "", first[3] if len(first) > 3 else "",
            first[5] if len(first) > 5 else "", "",
            head[2].split(component)[0] if len(head) > 2 else "", head[1] if len(head) > 1 else "",
        )  # fmt: skip
    return None


# --- writing ---------------------------------------------------------------------------
def _plain(value: Decimal) -> str:
    """A decimal as EDI writes it: no exponent, no trailing zeros after the point."""
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _ccyymmdd(day: dt.date | None) -> str:
    return day.strftime("%Y%m%d") if day else ""


def _x12_ids(item: Item) -> tuple[str, ...]:
    """A line's qualifier/id pairs: the GTIN (UP, EN or UK by its length), the buyer's
    item (IN) and the vendor's (VN)."""
    pairs: list[str] = []
    if item.gtin:
        pairs += [{12: "UP", 13: "EN", 14: "UK"}.get(len(item.gtin), "EN"), item.gtin]
    if item.buyer:
        pairs += ["IN", item.buyer]
    if item.vendor:
        pairs += ["VN", item.vendor]
    return tuple(pairs)


def _x12_party(role: str, code: str) -> x12.Segment:
    qualifier = "UL" if len(code) == 13 and x12.digits(code) else "92"
    return x12.Segment("N1", (role, "", qualifier, code))


def _x12_segments(document: Document) -> tuple[str, list[x12.Segment]]:
    """A document's transaction set code and the segments between ST and SE."""
    seg = x12.Segment
    if isinstance(document, Order):
        change = document.purpose != "original"
        out = [
            seg(
                "BCH",
                (
                    {"change": "04", "cancel": "01"}[document.purpose],
                    "SA",
                    document.number,
                    "",
                    "",
                    _ccyymmdd(document.ordered_on),
                ),
            )
            if change
            else seg("BEG", ("00", "SA", document.number, "", _ccyymmdd(document.ordered_on)))
        ]
        if document.currency:
            out.append(seg("CUR", ("BY", document.currency)))
        if document.requested:
            out.append(seg("DTM", ("002", _ccyymmdd(document.requested))))
        for role, code in (
            ("BY", document.buyer),
            ("SE", document.seller),
            ("ST", document.ship_to),
        ):
            if code:
                out.append(_x12_party(role, code))
        for line in document.lines:
            price = _plain(line.price) if line.price is not None else ""
            if change:
                kind = X12_WRITE_CHANGE[_action(document, line)]
                out.append(
                    seg(
                        "POC",
                        (
                            line.line,
                            kind,
                            _plain(line.quantity),
                            "",
                            line.unit,
                            price,
                            "",
                            *_x12_ids(line.item),
                        ),
                    )
                )
            else:
                out.append(
                    seg(
                        "PO1",
                        (
                            line.line,
                            _plain(line.quantity),
                            line.unit,
                            price,
                            "",
                            *_x12_ids(line.item),
                        ),
                    )
                )
            if line.requested:
                out.append(seg("DTM", ("002", _ccyymmdd(line.requested))))
        out.append(seg("CTT", (str(len(document.lines)),)))
        return ("860" if change else "850"), out
    if isinstance(document, OrderResponse):
        out = [
            seg(
                "BAK",
                (
                    "00",
                    X12_WRITE_ANSWER[document.status],
                    document.order,
                    _ccyymmdd(document.date or clock.today()),
                    "",
                    "",
                    "",
                    document.number,
                ),
            )
        ]
        for line in document.lines:
            ordered = _plain(line.ordered) if line.ordered is not None else ""
            out.append(
                seg(
                    "PO1",
                    (line.line, ordered, "EA" if ordered else "", "", "", *_x12_ids(line.item)),
                )
            )
            code = (
                line.reason
                if X12_LINE_STATUS.get(line.reason) == line.status
                else (X12_WRITE_STATUS[line.status])
            )
            quantity = _plain(line.quantity) if line.quantity is not None else ""
            dated = ("068", _ccyymmdd(line.date)) if line.date else ()
            out.append(seg("ACK", (code, quantity, "EA" if quantity else "", *dated)))
        out.append(seg("CTT", (str(len(document.lines)),)))
        return "855", out
    if isinstance(document, ShipNotice):
        out = [
            seg(
                "BSN", ("00", document.number, _ccyymmdd(document.shipped or clock.today()), "0000")
            )
        ]
        if document.shipped:
            out.append(seg("DTM", ("011", _ccyymmdd(document.shipped))))
        if document.expected:
            out.append(seg("DTM", ("017", _ccyymmdd(document.expected))))
        hl = 1
        out.append(seg("HL", ("1", "", "S")))
        unordered = any(not line.order for line in document.lines)
        for order in [*document.orders, *([""] if unordered else [])]:
            hl += 1
            order_hl = str(hl)
            out.append(seg("HL", (order_hl, "1", "O")))
            if order:
                out.append(seg("PRF", (order,)))
            for carton in document.cartons:
                lines = [line for line in carton.lines if line.order == order]
                if not lines:
                    continue
                parent = order_hl
                if carton.sscc:
                    hl += 1
                    parent = str(hl)
                    out += [seg("HL", (parent, order_hl, "P")), seg("MAN", ("GM", carton.sscc))]
                for line in lines:
                    hl += 1
                    out += [
                        seg("HL", (str(hl), parent, "I")),
                        seg("LIN", (line.line, *_x12_ids(line.item))),
                        seg("SN1", (line.line, _plain(line.quantity), line.unit)),
                    ]
        out.append(seg("CTT", (str(hl),)))
        return "856", out
    if isinstance(document, Invoice):
        out = [seg("BIG", (_ccyymmdd(document.date), document.number, "", document.order))]
        if document.currency:
            out.append(seg("CUR", ("SE", document.currency)))
        for line in document.lines:
            out.append(
                seg(
                    "IT1",
                    (
                        line.line,
                        _plain(line.quantity),
                        line.unit,
                        _plain(line.price),
                        "",
                        *_x12_ids(line.item),
                    ),
                )
            )
        if document.total is not None:
            cents = document.total.scaleb(2)
            if cents != cents.to_integral_value():
                raise ValueError(f"TDS01 holds cents: {document.total} is not whole cents")
            out.append(seg("TDS", (str(int(cents)),)))
        out.append(seg("CTT", (str(len(document.lines)),)))
        return "810", out
    out = [seg("AK1", (document.functional_id, document.reference))]
    for done in document.sets:
        out.append(seg("AK2", (done.code, done.control)))
        whole = []
        for fault in done.faults:
            if not fault.segment:
                whole.append(fault.code)
            elif fault.element:  # AK304 8: the segment has data element errors
                out.append(seg("AK3", (fault.segment, str(fault.position), "", "8")))
                out.append(seg("AK4", (str(fault.element), "", fault.code)))
            else:
                out.append(seg("AK3", (fault.segment, str(fault.position), "", fault.code)))
        out.append(seg("AK5", ("A" if done.accepted else "R", *whole[:5])))
    accepted = sum(done.accepted for done in document.sets)
    verdict = {"accepted": "A", "partially": "P", "rejected": "R"}[document.status]
    out.append(
        seg("AK9", (verdict, str(len(document.sets)), str(len(document.sets)), str(accepted)))
    )
    return "997", out


def write_x12(documents: Sequence[Document], envelope: Envelope, *, newline: bool = False) -> str:
    """The documents as one X12 004010 interchange of one functional group (ISA13 and
    GS06 are both ``envelope.control``), a transaction set per document numbered from 1,
    counts and trailers computed. Documents of different groups (850 and 855, say) go
    in interchanges of their own: a second group would need a control number of its own,
    which the caller's counter does not give."""
    if not documents:
        raise ValueError("an interchange holds one document at least")
    when = envelope.created or clock.now()
    sets = [_x12_segments(document) for document in documents]
    kinds = {GROUP_CODES[code] for code, _segments in sets}
    if len(kinds) > 1:
        raise ValueError(f"one functional group per interchange, not {sorted(kinds)}")
    group = x12.Group(
        kinds.pop(),
        envelope.sender,
        envelope.receiver,
        when.strftime("%Y%m%d"),
        when.strftime("%H%M"),
        str(envelope.control),
        "004010",
    )
    for number, (code, segments) in enumerate(sets, 1):
        group.transactions.append(x12.Transaction(code, f"{number:04d}", segments))
    interchange = x12.Interchange(
        envelope.sender_qualifier,
        envelope.sender,
        envelope.receiver_qualifier,
        envelope.receiver,
        when.strftime("%y%m%d"),
        when.strftime("%H%M"),
        "00401",
        f"{envelope.control:09d}",
        envelope.usage,
        envelope.delimiters,
        [group],
    )
    return x12.serialize([interchange], newline=newline)


def _edi_ids(number: int, line: str, item: Item, action: str = "") -> list[str]:
    out = [
        write_segment("LIN", line or str(number), action, (item.gtin, "EN") if item.gtin else "")
    ]
    extra = [(code, kind) for code, kind in ((item.buyer, "IN"), (item.vendor, "SA")) if code]
    if extra:
        out.append(write_segment("PIA", "1" if item.gtin else "5", *extra))
    return out


def _edi_party(role: str, code: str) -> str:
    agency = "9" if len(code) == 13 and x12.digits(code) else "92"
    return write_segment("NAD", role, (code, "", agency))


def _edi_dtm(qualifier: str, day: dt.date) -> str:
    return write_segment("DTM", (qualifier, _ccyymmdd(day), "102"))


def _action(order: Order, line: OrderLine) -> str:
    """What a change or cancellation does to a line: its own action, else the order's."""
    return line.action or ("delete" if order.purpose == "cancel" else "change")


def _edifact_body(document: Document) -> tuple[str, list[str]]:
    """A document's message type and the segments between UNH and UNT."""
    if isinstance(document, Order):
        kind = "ORDERS" if document.purpose == "original" else "ORDCHG"
        function = {"original": "9", "change": "4", "cancel": "1"}[document.purpose]
        out = [
            write_segment("BGM", "230" if kind == "ORDCHG" else "220", document.number, function)
        ]
        if document.ordered_on:
            out.append(_edi_dtm("137", document.ordered_on))
        if document.requested:
            out.append(_edi_dtm("2", document.requested))
        for role, code in (
            ("BY", document.buyer),
            ("SU", document.seller),
            ("DP", document.ship_to),
        ):
            if code:
                out.append(_edi_party(role, code))
        if document.currency:
            out.append(write_segment("CUX", ("2", document.currency, "9")))
        for n, line in enumerate(document.lines, 1):
            action = EDI_WRITE_CHANGE[_action(document, line)] if kind == "ORDCHG" else ""
            out += _edi_ids(n, line.line, line.item, action)
            out.append(write_segment("QTY", ("21", _plain(line.quantity), line.unit)))
            if line.requested:
                out.append(_edi_dtm("2", line.requested))
            if line.price is not None:
                out.append(write_segment("PRI", ("AAA", _plain(line.price))))
        out += [write_segment("UNS", "S"), write_segment("CNT", ("2", str(len(document.lines))))]
        return kind, out
    if isinstance(document, OrderResponse):
        out = [
            write_segment("BGM", "231", document.number, EDI_WRITE_ANSWER[document.status]),
            _edi_dtm("137", document.date or clock.today()),
            write_segment("RFF", ("ON", document.order)),
        ]
        for n, line in enumerate(document.lines, 1):
            out += _edi_ids(n, line.line, line.item, EDI_WRITE_STATUS[line.status])
            if line.ordered is not None:
                out.append(write_segment("QTY", ("21", _plain(line.ordered))))
            if line.quantity is not None:
                out.append(write_segment("QTY", ("113", _plain(line.quantity))))
            if line.date:
                out.append(_edi_dtm("2", line.date))
            if line.reason:
                out.append(write_segment("FTX", "AAO", "", "", line.reason))
        out += [write_segment("UNS", "S"), write_segment("CNT", ("2", str(len(document.lines))))]
        return "ORDRSP", out
    if isinstance(document, ShipNotice):
        out = [write_segment("BGM", "351", document.number, "9")]
        if document.shipped:
            out.append(_edi_dtm("11", document.shipped))
        if document.expected:
            out.append(_edi_dtm("17", document.expected))
        ordered = {line.order for line in document.lines}
        single = ordered.pop() if len(ordered) == 1 else ""  # every line's, named once
        if single:
            out.append(write_segment("RFF", ("ON", single)))
        out.append(write_segment("CPS", "1"))
        n = 0
        for level, carton in enumerate(document.cartons, 2):
            out.append(write_segment("CPS", str(level), "1"))
            if carton.sscc:
                out += [
                    write_segment("PAC", "1", "", "CT"),
                    write_segment("GIN", "BJ", carton.sscc),
                ]
            for line in carton.lines:
                n += 1
                out += _edi_ids(n, line.line, line.item)
                out.append(write_segment("QTY", ("12", _plain(line.quantity), line.unit)))
                if line.order and not single:
                    out.append(write_segment("RFF", ("ON", line.order)))
        out.append(write_segment("CNT", ("2", str(n))))
        return "DESADV", out
    if isinstance(document, Invoice):
        out = [write_segment("BGM", "380", document.number, "9")]
        if document.date:
            out.append(_edi_dtm("137", document.date))
        out.append(write_segment("RFF", ("ON", document.order)))
        if document.currency:
            out.append(write_segment("CUX", ("2", document.currency, "4")))
        for n, line in enumerate(document.lines, 1):
            out += _edi_ids(n, line.line, line.item)
            out += [
                write_segment("QTY", ("47", _plain(line.quantity), line.unit)),
                write_segment("MOA", ("203", _plain(line.amount))),
                write_segment("PRI", ("AAA", _plain(line.price))),
            ]
        out.append(write_segment("UNS", "S"))
        if document.total is not None:
            out.append(write_segment("MOA", ("86", _plain(document.total))))
        out.append(write_segment("CNT", ("2", str(len(document.lines)))))
        return "INVOIC", out
    action = {"accepted": "7", "partially": "7", "rejected": "4"}[document.status]
    out = [write_segment("UCI", document.reference, "", "", action)]
    for done in document.sets:
        code = next((f.code for f in done.faults), "")
        out.append(
            write_segment(
                "UCM",
                done.control,
                (done.code, *EANCOM.get(done.code, ())[:3]),
                "7" if done.accepted else "4",
                code,
            )
        )
    return "CONTRL", out


def write_edifact(
    documents: Sequence[Document],
    envelope: Envelope,
    *,
    syntax: str = "UNOC",
    newline: bool = True,
) -> str:
    """The documents as one EDIFACT D96A (EANCOM) interchange, a message each."""
    messages = []
    for document in documents:
        kind, body = _edifact_body(document)
        messages.append(((kind, *EANCOM[kind]), body))
    return edifact.document(
        messages,
        sender=envelope.sender,
        receiver=envelope.receiver,
        control=envelope.control,
        created=envelope.created,
        syntax=syntax,
        newline=newline,
    )
