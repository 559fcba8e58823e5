"""Sales (POS), inventory and forecast reports in EDI: X12 852/846/830, EDIFACT SLSRPT/INVRPT.

Pure: text or bytes in, :class:`~domain.ingest.PosLine` / :class:`~domain.ingest.StockLine`
rows out (and back, for the writers). No file, network or clock is touched, except that
a writer stamps ``created`` (default: now, UTC) into its envelope.

What the readers promise
------------------------
- Every row is *text as delivered*; :mod:`domain.ingest` decides whether it is good.
  A bad value in one row (a non-numeric quantity, an impossible date) is passed through
  untouched so that the validator rejects that row alone, naming ``line``. (EDIFACT
  numbers only have a decimal comma turned into a point: EDIFACT has no thousands mark.)
- ``line`` is the 1-based position in the file of the segment that carries the
  quantity. X12: :attr:`domain.x12.Segment.position`. EDIFACT: segments counted from 1
  with ``UNA`` counted, so a file written one segment per line (the usual layout) has
  ``line`` equal to its physical line number.
- ``day`` is ISO ``YYYY-MM-DD`` when the delivered date is a valid calendar date in the
  declared format, otherwise the delivered text.
- ``net_sales`` is the delivered line amount (EDIFACT ``MOA+203``), else quantity x unit
  price computed exactly with :class:`~decimal.Decimal` and written as a plain decimal,
  else ``""``. The currency is the document's (``CUR02`` / ``CUX``), else ``""``.
- A structurally wrong file raises :class:`~domain.ingest.FileError` before any row is
  returned: not X12/EDIFACT at all; an envelope error (counts, control numbers, ``UNT`` /
  ``UNZ`` references, which pydifact does not check); the wrong transaction set or
  message type for the reader (an 850 given to :func:`read_852`); a quantity with no
  location, item or date in scope; a report that is neither daily nor weekly.

Code lists accepted
-------------------
Items (``gtin`` / ``item``):
  X12 ``LIN`` pairs: ``UP`` (UPC-A), ``EN`` (EAN-13), ``UK`` (GTIN-14) -> ``gtin``;
  ``IN`` (buyer's item number: the distributor's own code) -> ``item``.
  EDIFACT ``LIN`` C212 / ``PIA``: 7143 ``EN`` (EAN, EANCOM 1997), ``SRV`` (GTIN, EANCOM
  2002), ``UP`` (UPC) -> ``gtin``; ``IN`` (buyer's item number) -> ``item``. ``SA`` (the
  supplier's article number) is the supplier's code, not the distributor's, and is not read.
Locations (``store`` / ``gln``):
  X12 ``SDQ02`` / ``N103``: ``92`` (assigned by buyer) or empty -> ``store``; ``UL``
  (GLN) -> ``gln``. Location parties in ``N1``: ``N101`` = ``RL`` (reporting location),
  ``SN`` (store) or ``WH`` (warehouse). An ``N103`` may be any code of element 66 in
  004010 (``1`` D-U-N-S, ``9`` D-U-N-S+4, ...; anything else is a FileError): one that is
  not ``92``/``UL``/empty names the party, not a location, and is a FileError only where
  a quantity needs that party's location (an 852 ``ZA02`` with no ``SDQ``; an 846 with no
  other location and not exactly one DC). An ``SDQ02`` other than ``92``/``UL``/empty is
  a FileError: its quantities need it.
  EDIFACT ``LOC`` C517 agency 3055: ``9`` (GS1) -> ``gln``; ``92`` (assigned by buyer)
  or empty -> ``store``; anything else is a FileError. (An INVRPT ``NAD+GY`` is a
  location only with agency ``9`` or ``92``.)
852 (004010 VICS): dates per activity from ``ZA05`` (any ``ZA04``), else from ``XQ``
  (``XQ02`` start, ``XQ03`` end): a single day when they agree or ``XQ03`` is empty; a week
  (seven days, e.g. Sunday to Saturday) is stored as the week's figures on its last day
  (``XQ03``), so a restated week replaces them; any other period with no ``ZA05`` is a
  FileError. Activity ``ZA01`` = ``QS`` (quantity sold; negative = returns) less ``QU``
  (quantity returned by consumer) of the same item, location and day, one row each (a
  ``QU`` with no ``QS``: a negative row; a retail price on one side only is a FileError);
  every other activity (``QA`` on hand, ``QP`` on order...) is ignored. Quantities: ``SDQ``
  pairs after the ``ZA``, else ``ZA02`` at the location of a header ``N1*RL`` (or
  ``SN``/``WH``). Unit price: ``CTP02`` = ``RES`` (retail selling price) in the ``ZA``
  loop, else in the ``LIN`` loop; other ``CTP`` (e.g. ``UCP``, cost) are ignored. ``CUR``
  is not part of the 004010 852 but is read when a partner sends it in the heading; the
  writer does not write it, so an 852 round trip returns ``currency=""``.
846 (004010): one transaction set per location and day: ``BIA04`` (else the heading
  ``DTM02``) is the day, a heading ``N1*RL`` (``92``/``UL``) the location (a ``N1`` inside
  the ``LIN`` loop overrides it for that item), else the sender's DC when the caller passes
  exactly one (``dcs``), else a FileError naming the ``N1`` to add; per ``LIN`` the
  ``QTY01`` codes ``17`` (quantity on hand; ``33`` quantity available for sale when there
  is no ``17``) -> ``on_hand``, ``IQ`` (in-transit quantity) -> ``in_transit``, ``63`` (on
  order quantity) -> ``on_order``. ``SDQ`` in the 846 ``LIN`` loop carries no quantity type
  and is ignored.
830 (004010 UCS planning schedule): per ``LIN`` (items as above, plus ``PI``, the
  purchaser's item code, read as the distributor's own; ``UA``, a U.P.C. case code, as a
  GTIN), each ``FST`` (``FST02`` A, C or D) is one week: ``FST04``-``FST05`` seven days
  (e.g. Sunday to Saturday) are the ISO week holding most of them, ``FST03`` ``W`` with
  no ``FST05`` the week from ``FST04``; any other bucket is a FileError. Its ``SDQ`` pairs
  give the quantity per location (``SDQ02`` 92, UL, or 9: a D-U-N-S+4 read as the
  distributor's store code) and must add up to ``FST01``; with no ``SDQ`` the ``FST`` is at
  the heading's location party, else at the distributor's one DC. ``SDQ01``/``UIT01``
  ``CA`` are cases (the import multiplies by the SKU's case pack), ``EA``/``UN`` units.
SLSRPT (EANCOM D96A EAN004 / D01B): ``LOC+162`` (sales location; another LOC qualifier
  is a FileError) with ``DTM+356`` (sales date; formats 102, 101, 203, 204, and 718 when
  it is one day), else the heading ``DTM+356`` or ``DTM+90`` = ``DTM+91``; ``QTY+153``
  (sales quantity, negative = returns); ``MOA+203`` (line amount) when the ``LIN`` has
  exactly one ``QTY+153``, else ``PRI`` with qualifier ``AAA`` or ``NTP`` (unit price,
  divided by its unit price basis when given) x quantity; ``CUX`` (the first currency,
  or the ``MOA``'s own).
INVRPT (EANCOM D96A EAN004 / D01B): per ``LIN``, quantity groups ``QTY+145`` (actual stock)
  -> ``on_hand``, ``QTY+198`` (quantity in transit) -> ``in_transit``, ``QTY+21`` (ordered
  quantity; ``73`` outstanding quantity when there is no ``21``) -> ``on_order``. A quantity's
  location is the ``LOC`` (``14``, ``18``, ``19`` or ``162``) in its own group, else one
  between ``LIN`` and the first ``QTY``, else the ``NAD+GY`` party (EANCOM's "simple
  report, one stock location"); its day the ``DTM+366`` (inventory report date) in the
  same way, else the heading ``DTM+366``, else ``DTM+137``. EANCOM breaks a total down into
  sub-quantities with the same qualifier: the first quantity per location and day wins.
  ``INV`` is read past. (``DTM+179`` is "booking date/time" in UNTDID 2005, not an
  inventory date, so it is not read.)

Bytes: X12 is decoded by :func:`domain.x12.decode`; EDIFACT by the first ``UNB``'s syntax
identifier (``UNOA``/``UNOB``/``UNOC`` as ISO 8859-1, ``UNOD``..``UNOK`` as the matching
ISO 8859 part, ``UNOW``/``UNOY`` as UTF-8). Without ``UNA`` the EDIFACT level A default
separators ``:+.? '`` are assumed.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
from decimal import Context, Decimal, Inexact
from typing import NamedTuple, TypeVar

from domain import clock, edifact, x12
from domain.edifact import BLANKS, BOM, Message, Seg, component, is_gln, write_segment
from domain.ingest import FileError, ForecastLine, PosLine, StockLine

__all__ = [
    "read_830",
    "read_846",
    "read_852",
    "read_invrpt",
    "read_slsrpt",
    "sniff",
    "write_846",
    "write_852",
    "write_invrpt",
    "write_slsrpt",
]

# --- code lists (see the module docstring) -------------------------------------------
X12_GTIN = frozenset({"UP", "EN", "UK"})
X12_BUYER_ITEM = "IN"
X12_STORE, X12_GLN = "92", "UL"
X12_LOCATION_PARTIES = frozenset({"RL", "SN", "WH"})
# Element 66 (Identification Code Qualifier) in X12 004010: what an N103 may be.
ELEMENT_66_004010 = """
    1 2 3 4 5 6 7 8 9 A C D E F G I J K L N S 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24
    25 26 27 28 29 30 31 32 33 34 35 36 37 38 39 40 41 42 43 44 45 46 47 48 49 50 53 54 55
    56 57 58 59 61 62 63 64 71 72 73 74 75 76 77 78 81 82 90 91 92 93 94 95 96 97 98 99 A1
    A2 A3 A4 A5 A6 AA AB AC AD AE AL AP BC BD BE BG BP BS C1 C2 C5 CA CB CC CD CE CF CI CL
    CM CP CR CS CT DG DL DN DP DS EC EH EI EP EQ ER ES FA FB FC FD FI FJ FN GA GC HC HN LC
    LD LE LI LN M3 M4 M5 M6 MA MB MC MD MI MK ML MN MP MR NA ND NI NO OC OP PA PB PC PI PP
    PR RA RB RC RD RE RT SA SB SD SF SI SJ SL SP ST SV SW TA TC TZ UC UL UM UP UR US WR XV
    XX ZC ZN ZY ZZ
"""
X12_ID_QUALIFIERS = frozenset(ELEMENT_66_004010.split())
X12_ID_NAMES = {"1": "D-U-N-S number", "9": "D-U-N-S+4", "91": "assigned by seller"}
X12_SOLD, X12_RETURNED = "QS", "QU"
WEEK = 7  # days in a weekly 852 period (XQ02..XQ03)
X12_RETAIL_PRICE = "RES"
X12_ON_HAND, X12_AVAILABLE, X12_IN_TRANSIT, X12_ON_ORDER = "17", "33", "IQ", "63"
# 830: the purchaser's item code (UCS's LIN qualifier) is the distributor's own code, as
# IN is; UA (U.P.C./EAN case code) is a GTIN. FST02 forecasts read: A immediate, C firm,
# D planning. A D-U-N-S+4 (SDQ02 9) names a store by the distributor's 13-digit code.
X12_830_ITEMS = frozenset({"IN", "PI"})
X12_830_GTIN = X12_GTIN | {"UA"}
X12_FORECASTS = frozenset({"A", "C", "D"})
X12_DUNS4 = "9"
X12_UNITS = {"EA": "", "UN": "", "CA": "CA"}

EANCOM_D96A = ("D", "96A", "UN", "EAN004")  # UNH's message version for both reports
EDI_GTIN = frozenset({"EN", "SRV", "UP"})
EDI_BUYER_ITEM = "IN"
EDI_GLN_AGENCY, EDI_STORE_AGENCY = "9", "92"
SALES_LOCATION, SALES_DATE, PERIOD_START, PERIOD_END = "162", "356", "90", "91"
SALES_QTY, LINE_AMOUNT = "153", "203"
UNIT_PRICES = frozenset({"AAA", "NTP"})
STOCK_LOCATIONS = frozenset({"14", "18", "19", "162"})
STOCK_DATE, DOCUMENT_DATE = "366", "137"
ON_HAND, IN_TRANSIT, ON_ORDER, OUTSTANDING = "145", "198", "21", "73"
INVENTORY_PARTY = "GY"

# EDIFACT syntax identifiers -> Python codecs (UNOA/UNOB are subsets of ISO 8859-1).
NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)\Z")
EXACT = Context(prec=60)
EXACT_DIVISION = Context(prec=40, traps=[Inexact])
K = TypeVar("K", bound=Hashable)
T = TypeVar("T")


# --- sniffing ---------------------------------------------------------------------------
def holds_nul(data: bytes | str) -> bool:
    """Whether the file holds a NUL byte: no X12 or EDIFACT file does (and PostgreSQL's
    text, where a message keeps its payload and header values, cannot store one)."""
    return (b"\0" if isinstance(data, bytes) else "\0") in data


def sniff(data: bytes | str) -> str | None:
    """Which EDI syntax the file starts with: ``"x12"``, ``"edifact"`` or ``None``.

    Looks at the first non-blank characters after an optional UTF-8 byte-order mark; a
    file holding a NUL byte anywhere is neither.
    """
    if holds_nul(data):
        return None
    head = data[:64]
    text = head.decode("latin-1") if isinstance(head, bytes) else head
    text = text.removeprefix("\xef\xbb\xbf").removeprefix(BOM).lstrip(BLANKS)
    if len(text) < 4:
        return None
    separator = text[3]
    if text.startswith("ISA") and not separator.isalnum() and separator not in BLANKS:
        return "x12"
    if text.startswith("UNA") or (text.startswith("UNB") and not separator.isalnum()):
        return "edifact"
    return None


def _require(data: bytes | str, syntax: str, wanted: str) -> None:
    """FileError unless the file starts as ``syntax`` ("x12" or "edifact") does."""
    found = sniff(data)
    if found == syntax:
        return
    name = {"x12": "X12", "edifact": "EDIFACT"}
    if found is None:
        start = "ISA" if syntax == "x12" else "UNA or UNB"
        raise FileError(
            f"not an {name[syntax]} file ({wanted} expected): it does not start with {start}"
        )
    raise FileError(f"this is an {name[found]} file, but an {name[syntax]} {wanted} was expected")


# --- small shared helpers -----------------------------------------------------------------
def _edifact_messages(data: bytes | str, kind: str) -> list[Message]:
    """Every message of the file, envelopes checked strictly; all must be ``kind``."""
    _require(data, "edifact", kind)
    return edifact.messages(data, {kind})


def _grouped(items: Iterable[T], key: Callable[[T], K]) -> dict[K, list[T]]:
    """Items by key, keys in order of first appearance."""
    groups: dict[K, list[T]] = {}
    for item in items:
        groups.setdefault(key(item), []).append(item)
    return groups


def _decimal(text: str) -> Decimal | None:
    value = text.strip()
    return Decimal(value) if NUMBER.match(value) else None


def _plain(amount: Decimal) -> str:
    """A decimal without exponent; no negative zero."""
    return format(abs(amount) if amount == 0 else amount, "f")


def _times(quantity: str, price: str, basis: str = "") -> str:
    """``quantity x price / basis`` exactly; the price text if it is not a number (so the
    row is rejected on ``net_sales``), ``""`` if the quantity is not (it is rejected on
    ``units``)."""
    unit_price = _decimal(price)
    if unit_price is None:
        return price
    units = _decimal(quantity)
    if units is None:
        return ""
    amount = EXACT.multiply(units, unit_price)
    per = _decimal(basis) if basis.strip() else None
    if per is not None and per != 0:
        amount = EXACT.divide(amount, per)
    return _plain(amount)


def _iso(year: int, month: int, day: int) -> str | None:
    try:
        return dt.date(year, month, day).isoformat()
    except ValueError:
        return None


def _ccyymmdd(text: str) -> str | None:
    value = text.strip()
    if len(value) == 8 and x12.digits(value):
        return _iso(int(value[:4]), int(value[4:6]), int(value[6:]))
    return None


def _yymmdd(text: str) -> str | None:
    value = text.strip()
    if len(value) == 6 and x12.digits(value):
        yy = int(value[:2])  # the window of Python's %y: 00-68 -> 20xx, 69-99 -> 19xx
        return _iso((2000 if yy < 69 else 1900) + yy, int(value[2:4]), int(value[4:]))
    return None


def _edi_date(day: str) -> str:
    """An ISO day as CCYYMMDD for writing; anything else as given."""
    try:
        return dt.date.fromisoformat(day).strftime("%Y%m%d")
    except ValueError:
        return day


# --- X12 reading --------------------------------------------------------------------------
def _x12_transactions(data: bytes | str, code: str) -> list[x12.Transaction]:
    _require(data, "x12", code)
    try:
        interchanges = x12.parse(data)
    except x12.X12Error as error:
        message = str(error).removeprefix(f"segment {error.position}: ")
        raise FileError(message, error.position) from None
    transactions = []
    for interchange in interchanges:
        for _, transaction in interchange.transactions():
            if transaction.code != code:
                raise FileError(
                    f"expected X12 {code} transaction sets, found a {transaction.code}",
                    transaction.position,
                )
            transactions.append(transaction)
    return transactions


def _x12_day(text: str) -> str:
    return _ccyymmdd(text) or text


def _x12_item(segment: x12.Segment) -> tuple[str, str]:
    """(gtin, item) from a LIN's qualifier/id pairs (LIN02/03, LIN04/05, ...)."""
    gtin = item = ""
    for number in range(2, len(segment.elements), 2):
        qualifier, value = segment.get(number), segment.get(number + 1)
        if qualifier in X12_GTIN and not gtin:
            gtin = value
        elif qualifier == X12_BUYER_ITEM and not item:
            item = value
    return gtin, item


def _x12_location(qualifier: str, value: str, what: str, position: int) -> tuple[str, str]:
    """(store, gln) from an X12 identification code qualifier and code."""
    if qualifier in (X12_STORE, ""):
        return value, ""
    if qualifier == X12_GLN:
        return "", value
    raise FileError(
        f"{what} {qualifier!r} is not a location qualifier: use 92 (store code) or UL (GLN)",
        position,
    )


class _Party(NamedTuple):
    """A location party (``N1*RL``, ``SN``, ``WH``) and the location it names: ``None``
    when its ``N103`` identifies the party another way (a D-U-N-S number, say), which
    is fine until a quantity needs the location."""

    segment: x12.Segment
    where: tuple[str, str] | None


def _x12_party(segment: x12.Segment) -> _Party | None:
    """The location party an ``N1`` is, if it is one with a code; FileError if its
    ``N103`` is not an 004010 identification code qualifier."""
    if segment.get(1) not in X12_LOCATION_PARTIES or not segment.get(4):
        return None
    qualifier = segment.get(3)
    if qualifier in (X12_STORE, X12_GLN, ""):
        return _Party(segment, _x12_location(qualifier, segment.get(4), "N103", segment.position))
    if qualifier not in X12_ID_QUALIFIERS:
        raise FileError(
            f"N103 {qualifier!r} is not an X12 004010 identification code qualifier",
            segment.position,
        )
    return _Party(segment, None)


def _in_scope(party: _Party | None, new: _Party | None) -> _Party | None:
    """The party in scope after ``new``: one that names a location replaces any other;
    one that does not replaces only another such."""
    if new is None:
        return party
    if new.where is not None or party is None or party.where is None:
        return new
    return party


def _unplaced(party: _Party) -> str:
    """Why a party gives no location, for an error message."""
    n1 = party.segment
    qualifier = n1.get(3)
    name = f" ({X12_ID_NAMES[qualifier]})" if qualifier in X12_ID_NAMES else ""
    return (
        f"N1*{n1.get(1)} (segment {n1.position}) names {n1.get(4)!r} by N103 "
        f"{qualifier!r}{name}, not by store code (92) or GLN (UL)"
    )


def _x12_item_in_scope(item: tuple[str, str] | None, segment: x12.Segment) -> tuple[str, str]:
    if item is None:
        raise FileError(
            f"{segment.tag} carries a quantity but no LIN precedes it", segment.position
        )
    if not any(item):
        raise FileError(
            f"{segment.tag} carries a quantity but its LIN has no GTIN (UP/EN/UK) "
            "nor buyer's item number (IN)",
            segment.position,
        )
    return item


class _Activity:
    """One ZA loop of an 852 being read."""

    def __init__(self, segment: x12.Segment) -> None:
        self.segment = segment
        self.code = segment.get(1)
        self.read = self.code in (X12_SOLD, X12_RETURNED)
        self.price: str | None = None
        self.detailed = False  # an SDQ followed


def _rows_852(transaction: x12.Transaction) -> list[PosLine]:
    rows: list[PosLine] = []
    returns: list[PosLine] = []
    start = end = None
    currency = ""
    party: _Party | None = None
    item: tuple[str, str] | None = None
    lin_price: str | None = None
    activity: _Activity | None = None
    in_detail = False

    def day_of(za: x12.Segment) -> str:
        if za.get(5):
            return _x12_day(za.get(5))
        if start is None:
            raise FileError("no reporting date: no XQ, and the ZA gives none (ZA05)", za.position)
        if not end or end == start:
            return _x12_day(start)
        first, last = _ccyymmdd(start), _ccyymmdd(end)
        if first is None or last is None:
            span = "not a period of valid dates"
        else:
            days = (dt.date.fromisoformat(last) - dt.date.fromisoformat(first)).days + 1
            if days == WEEK:
                return last  # a week's figures are stored on its last day
            span = f"{days} days" if days > 0 else "ending before it starts"
        raise FileError(
            f"the 852 covers {start} to {end} (XQ02-XQ03), {span}: not one day nor a week "
            f"(seven days), and its ZA*{za.get(1)} gives no date (ZA04/ZA05)",
            za.position,
        )

    def row(at: x12.Segment, where: tuple[str, str], quantity: str, act: _Activity) -> PosLine:
        gtin, code = _x12_item_in_scope(item, at)
        price = act.price if act.price is not None else lin_price
        net = _times(quantity, price) if price is not None else ""
        day = day_of(act.segment)
        return PosLine(at.position, code, gtin, where[0], where[1], day, quantity, net, currency)

    def add(at: x12.Segment, where: tuple[str, str], quantity: str, act: _Activity) -> None:
        (rows if act.code == X12_SOLD else returns).append(row(at, where, quantity, act))

    def close(act: _Activity | None) -> None:
        if act is None or not act.read or act.detailed or not act.segment.get(2):
            return
        if party is None:
            raise FileError(
                f"ZA*{act.code} carries a quantity (ZA02) but no location is in scope: "
                "no SDQ follows it and no N1*RL names one",
                act.segment.position,
            )
        if party.where is None:
            raise FileError(
                f"ZA*{act.code} carries a quantity (ZA02) for the reporting location, but "
                f"{_unplaced(party)}: give the quantities per store in SDQ, or name the "
                "location with 92 or UL",
                act.segment.position,
            )
        add(act.segment, party.where, act.segment.get(2), act)

    for segment in transaction.segments:
        tag = segment.tag
        if tag == "XQ":
            start, end = segment.get(2), segment.get(3)
        elif tag == "CUR" and not in_detail:
            currency = segment.get(2)
        elif tag == "N1" and not in_detail:
            party = _in_scope(party, _x12_party(segment))
        elif tag == "LIN":
            close(activity)
            in_detail, activity, lin_price = True, None, None
            item = _x12_item(segment)
        elif tag == "CTP" and segment.get(2) == X12_RETAIL_PRICE:
            if activity is not None:
                activity.price = segment.get(3)
            else:
                lin_price = segment.get(3)
        elif tag == "ZA":
            close(activity)
            activity = _Activity(segment)
        elif tag == "SDQ":
            if activity is None:
                raise FileError(
                    "SDQ outside a ZA loop: which activity it reports is unknown", segment.position
                )
            activity.detailed = True
            if activity.read:
                for store, gln, quantity in _sdq_pairs(segment):
                    add(segment, (store, gln), quantity, activity)
        elif tag == "CTT":
            close(activity)
            activity = None
    close(activity)
    return _net(rows, returns)


def _negated(text: str) -> str:
    """A number's negation; any other text as it is (the validator rejects it)."""
    value = _decimal(text)
    return text if value is None else _plain(-value)


def _less(sold: str, returned: str) -> str:
    """``sold - returned``; a text that is not a number passes through (the validator
    rejects it)."""
    a, b = _decimal(sold), _decimal(returned)
    if a is None:
        return sold
    if b is None:
        return returned
    return _plain(a - b)


def _net(sold: list[PosLine], returned: list[PosLine]) -> list[PosLine]:
    """Sales less the consumer returns (``ZA*QU``) of the same item, location and day:
    one row each, on the sale's line (a return with no sale: a row of its own)."""
    if not returned:
        return sold
    rows = list(sold)
    at = {(r.item, r.gtin, r.store, r.gln, r.day): n for n, r in enumerate(rows)}
    for back in returned:
        key = (back.item, back.gtin, back.store, back.gln, back.day)
        if key not in at:
            at[key] = len(rows)
            rows.append(
                back._replace(units=_negated(back.units), net_sales=_negated(back.net_sales))
            )
            continue
        sale = rows[at[key]]
        if bool(sale.net_sales) != bool(back.net_sales):
            raise FileError(
                "the consumer returns (ZA*QU) and the sales (ZA*QS) of one item, location "
                "and day have a retail price (CTP*RES) on one side only: the net amount "
                "is unknown",
                back.line,
            )
        net = _less(sale.net_sales, back.net_sales) if sale.net_sales else ""
        rows[at[key]] = sale._replace(units=_less(sale.units, back.units), net_sales=net)
    return rows


def _sdq_location(qualifier: str, code: str, position: int) -> tuple[str, str]:
    return _x12_location(qualifier, code, "SDQ02", position)


def _sdq_pairs(
    segment: x12.Segment,
    locate: Callable[[str, str, int], tuple[str, str]] = _sdq_location,
    paired: bool = False,
) -> Iterator[tuple[str, str, str]]:
    """(store, gln, quantity) for each of an SDQ's up to ten location/quantity pairs, the
    location read by ``locate`` from SDQ02 and the code. ``paired``: a location without
    its quantity is a FileError too (an 852's is left to the validator to reject)."""
    for number in range(3, 23, 2):
        code, quantity = segment.get(number), segment.get(number + 1)
        if not code and not quantity:
            continue
        if not code:
            raise FileError(
                f"SDQ{number + 1:02d} carries a quantity but SDQ{number:02d} names no location",
                segment.position,
            )
        if paired and not quantity:
            raise FileError(
                f"SDQ{number:02d} has no SDQ{number + 1:02d}: a location and its quantity "
                "come in pairs",
                segment.position,
            )
        store, gln = locate(segment.get(2), code, segment.position)
        yield store, gln, quantity


def read_852(data: bytes | str) -> Iterator[PosLine]:
    """The sales rows (``ZA*QS``) of every 852 in an X12 file.

    Raises :class:`FileError` (before returning anything) for a structural problem.
    """
    rows: list[PosLine] = []
    for transaction in _x12_transactions(data, "852"):
        rows.extend(_rows_852(transaction))
    return iter(rows)


class _Stock:
    """The quantities of one 846 LIN loop being read."""

    def __init__(self, segment: x12.Segment) -> None:
        self.segment = segment
        self.item = _x12_item(segment)
        self.location: tuple[str, str] | None = None
        self.party: _Party | None = None  # an N1 in the loop that names no location
        self.quantities: dict[str, x12.Segment] = {}


def _no_location(qualifier: str, seen: _Party | None, dcs: Sequence[str]) -> str:
    """Why an 846 quantity has no location, and which N1 would give it one."""
    found = _unplaced(seen) if seen else "no N1*RL or N1*WH names one"
    if dcs:
        whose = f"the distributor has {len(dcs)} DCs ({', '.join(dcs)}), so the 846 must say which"
    else:
        whose = "the distributor has no DC to assume"
    return (
        f"QTY*{qualifier} has no location in scope: {found}, and {whose}: add "
        "N1*WH**92*<DC code> (or N1*RL, or N103 UL and the GLN) to the heading or the LIN loop"
    )


def _rows_846(transaction: x12.Transaction, dcs: Sequence[str]) -> list[StockLine]:
    rows: list[StockLine] = []
    day: str | None = None
    dtm_day: str | None = None
    party: _Party | None = None
    stock: _Stock | None = None

    def close(lin: _Stock | None) -> None:
        if lin is None or not lin.quantities:
            return
        first = min(lin.quantities.values(), key=lambda s: s.position)
        gtin, code = _x12_item_in_scope(lin.item, first)
        where = lin.location or (party.where if party else None)
        if where is None and len(dcs) == 1:
            where = (dcs[0], "")  # the sender's one DC
        if where is None:
            raise FileError(_no_location(first.get(1), lin.party or party, dcs), first.position)
        when = day or dtm_day
        if when is None:
            raise FileError(
                f"QTY*{first.get(1)} has no date in scope: no BIA04 nor DTM", first.position
            )
        held = lin.quantities.get(X12_ON_HAND) or lin.quantities.get(X12_AVAILABLE)
        at = held or first

        def value(qualifier: str) -> str:
            segment = lin.quantities.get(qualifier)
            return segment.get(2) if segment else ""

        rows.append(
            StockLine(
                at.position, code, gtin, where[0], where[1], _x12_day(when),
                held.get(2) if held else "", value(X12_IN_TRANSIT), value(X12_ON_ORDER),
            )
        )  # fmt: skip

    for segment in transaction.segments:
        tag = segment.tag
        if tag == "BIA":
            day = segment.get(4) or None
        elif tag == "DTM" and stock is None:
            dtm_day = dtm_day or segment.get(2) or None
        elif tag == "N1":
            found = _x12_party(segment)
            if stock is None:
                party = _in_scope(party, found)
            elif found is not None and found.where is None:
                stock.party = stock.party or found
            elif found is not None:
                if stock.location is not None:
                    raise FileError(
                        "a second location N1 in one LIN loop: which quantity is whose is unknown",
                        segment.position,
                    )
                stock.location = found.where
        elif tag == "LIN":
            close(stock)
            stock = _Stock(segment)
        elif tag == "QTY":
            if stock is None:
                raise FileError("QTY carries a quantity but no LIN precedes it", segment.position)
            code = segment.get(1)
            if code in (X12_ON_HAND, X12_AVAILABLE, X12_IN_TRANSIT, X12_ON_ORDER):
                if code in stock.quantities:
                    raise FileError(f"QTY*{code} twice in one LIN loop", segment.position)
                stock.quantities[code] = segment
        elif tag == "CTT":
            close(stock)
            stock = None
    close(stock)
    return rows


def read_846(data: bytes | str, *, dcs: Sequence[str] = ()) -> Iterator[StockLine]:
    """The stock rows of every 846 in an X12 file (one row per LIN loop with quantities).

    ``dcs`` are the codes of the sending distributor's DCs: when no ``N1`` names a
    quantity's location and there is exactly one, it is that DC's.

    Raises :class:`FileError` (before returning anything) for a structural problem.
    """
    rows: list[StockLine] = []
    for transaction in _x12_transactions(data, "846"):
        rows.extend(_rows_846(transaction, dcs))
    return iter(rows)


class _Demand:
    """One 830 LIN loop being read: its item, unit (None until a UIT or SDQ gives one),
    location (an N1 in the loop), the weeks it has forecast, and the FST in scope."""

    def __init__(self, segment: x12.Segment) -> None:
        self.item = _x12_830_item(segment)
        self.uom: str | None = None
        self.location: tuple[str, str] | None = None
        self.weeks: set[str] = set()
        self.fst: x12.Segment | None = None
        self.week = ""
        self.split: list[tuple[x12.Segment, str, str, str]] = []  # SDQ pairs of the FST

    def unit(self, code: str, segment: x12.Segment, element: str) -> None:
        unit = X12_UNITS.get(code)
        if unit is None:
            raise FileError(
                f"{element} {code!r}: forecasts are read in units (EA, UN) or cases (CA)",
                segment.position,
            )
        if self.uom is not None and unit != self.uom:
            raise FileError(
                f"{element} {code!r} differs from the unit this LIN loop already gave",
                segment.position,
            )
        self.uom = unit


def _x12_830_item(segment: x12.Segment) -> tuple[str, str]:
    """(gtin, item) of an 830 LIN: UP/EN/UK/UA a GTIN, IN/PI the distributor's code."""
    gtin = item = ""
    for number in range(2, len(segment.elements), 2):
        qualifier, value = segment.get(number), segment.get(number + 1)
        if qualifier in X12_830_GTIN and not gtin:
            gtin = value
        elif qualifier in X12_830_ITEMS and not item:
            item = value
    return gtin, item


def _830_week(fst: x12.Segment) -> str:
    """The ISO week's Monday of an FST bucket: seven days (FST04-FST05, any weekday to
    the same weekday less one, e.g. Sunday to Saturday) are the ISO week holding most
    of them (their fourth day); FST03 ``W`` with no end date is the week from FST04."""
    first = _ccyymmdd(fst.get(4))
    if first is None:
        raise FileError(f"FST04 {fst.get(4)!r} is not a date (CCYYMMDD)", fst.position)
    last = _ccyymmdd(fst.get(5)) if fst.get(5) else None
    if fst.get(5) and last is None:
        raise FileError(f"FST05 {fst.get(5)!r} is not a date (CCYYMMDD)", fst.position)
    start = dt.date.fromisoformat(first)
    if last is None and fst.get(3) == "W":
        days = WEEK
    elif last is None:
        raise FileError(
            f"FST*{fst.get(1)} gives one date and timing {fst.get(3)!r}: a weekly bucket "
            "needs FST05 (its last day) or FST03 W",
            fst.position,
        )
    else:
        days = (dt.date.fromisoformat(last) - start).days + 1
    if days != WEEK:
        span = f"{days} days" if days > 0 else "ending before it starts"
        raise FileError(
            f"the FST bucket {fst.get(4)}-{fst.get(5)} is {span}: forecasts are weekly "
            "(seven days)",
            fst.position,
        )
    middle = start + dt.timedelta(days=3)
    return (middle - dt.timedelta(days=middle.weekday())).isoformat()


def _830_location(qualifier: str, code: str, position: int) -> tuple[str, str]:
    if qualifier == X12_DUNS4:
        return code, ""
    return _x12_location(qualifier, code, "SDQ02", position)


def _rows_830(transaction: x12.Transaction, dcs: Sequence[str]) -> list[ForecastLine]:
    rows: list[ForecastLine] = []
    party: _Party | None = None
    demand: _Demand | None = None

    def number(text: str, segment: x12.Segment, element: str) -> Decimal:
        value = _decimal(text)
        if value is None:
            raise FileError(f"{element} {text!r} is not a quantity", segment.position)
        return value

    def close_fst(lin: _Demand | None) -> None:
        if lin is None or lin.fst is None:
            return
        fst = lin.fst
        gtin, code = _x12_item_in_scope(lin.item, fst)
        stated = number(fst.get(1), fst, "FST01")
        if lin.split:
            total = sum((number(q, s, "SDQ quantity") for s, _st, _g, q in lin.split), Decimal(0))
            if total != stated:
                raise FileError(
                    f"the SDQ quantities of FST*{fst.get(1)} add up to {_plain(total)}, "
                    f"not {fst.get(1)}: which is the forecast is unknown",
                    fst.position,
                )
            seen: set[tuple[str, str]] = set()
            for sdq, store, gln, quantity in lin.split:
                if (store, gln) in seen:
                    raise FileError(
                        f"FST*{fst.get(1)} gives {store or gln} two quantities: which is the "
                        "forecast is unknown",
                        sdq.position,
                    )
                seen.add((store, gln))
                rows.append(ForecastLine(sdq.position, code, gtin, store, gln, lin.week,
                                         quantity, lin.uom or ""))  # fmt: skip
        else:
            where = lin.location or (party.where if party else None)
            if where is None and len(dcs) == 1:
                where = (dcs[0], "")
            if where is None:
                raise FileError(
                    f"FST*{fst.get(1)} has no location: no SDQ follows it, no N1*RL, SN or "
                    "WH names one (92 or UL), and the distributor has not exactly one DC",
                    fst.position,
                )
            rows.append(ForecastLine(fst.position, code, gtin, where[0], where[1], lin.week,
                                     fst.get(1), lin.uom or ""))  # fmt: skip
        lin.fst, lin.split = None, []

    for segment in transaction.segments:
        tag = segment.tag
        if tag == "N1":
            found = _x12_party(segment)
            if demand is None:
                party = _in_scope(party, found)
            elif found is not None and found.where is not None:
                if demand.location is not None or demand.weeks or demand.fst is not None:
                    raise FileError(
                        "a location N1 in a LIN loop must come once, before its FST: which "
                        "forecast is whose is unknown",
                        segment.position,
                    )
                demand.location = found.where
        elif tag == "LIN":
            close_fst(demand)
            demand = _Demand(segment)
        elif tag == "UIT" and demand is not None:
            demand.unit(segment.get(1).split(">")[0].split(":")[0], segment, "UIT01")
        elif tag == "FST":
            if demand is None:
                raise FileError("FST carries a quantity but no LIN precedes it", segment.position)
            close_fst(demand)
            if segment.get(2) not in X12_FORECASTS:
                raise FileError(
                    f"FST02 {segment.get(2)!r} is not a forecast read here: A (immediate), "
                    "C (firm) or D (planning)",
                    segment.position,
                )
            week = _830_week(segment)
            if week in demand.weeks:
                raise FileError(
                    f"a second FST for the week of {week} in one LIN loop: which is the "
                    "forecast is unknown",
                    segment.position,
                )
            demand.weeks.add(week)
            demand.fst, demand.week = segment, week
        elif tag == "SDQ":
            if demand is None or demand.fst is None:
                raise FileError(
                    "SDQ outside an FST: which week it forecasts is unknown", segment.position
                )
            demand.unit(segment.get(1), segment, "SDQ01")
            for store, gln, quantity in _sdq_pairs(segment, _830_location, paired=True):
                demand.split.append((segment, store, gln, quantity))
        elif tag == "CTT":
            close_fst(demand)
            demand = None
    close_fst(demand)
    return rows


def read_830(data: bytes | str, *, dcs: Sequence[str] = ()) -> Iterator[ForecastLine]:
    """The weekly forecast rows of every 830 (planning schedule) in an X12 file: one per
    location of each ``FST`` (its ``SDQ`` pairs, which must add up to it), or one at the
    heading's location (else the distributor's one DC) when no ``SDQ`` follows.

    Raises :class:`FileError` (before returning anything) for a structural problem: a
    bucket that is not a week, a forecast type not read, a unit other than units or
    cases, ``SDQ`` quantities that do not add up to their ``FST``.
    """
    rows: list[ForecastLine] = []
    for transaction in _x12_transactions(data, "830"):
        rows.extend(_rows_830(transaction, dcs))
    return iter(rows)


# --- EDIFACT reading ----------------------------------------------------------------------
def _edifact_day(segment: Seg) -> str:
    """The ISO day of a DTM (formats 102, 101, 203, 204, 718 of one day), else its text."""
    value, form = component(segment, 0, 1), component(segment, 0, 2).strip()
    text = value.strip()
    if form == "718" or (not form and len(text) == 17 and text[8] == "-"):
        first, _, last = text.partition("-")
        if _ccyymmdd(first) and _ccyymmdd(last) and first != last:
            raise FileError(
                f"DTM period {value!r} spans several days; the report must be daily",
                segment.position,
            )
        text, form = first, "102"
    if form in ("203", "204") and len(text) >= 8:
        text, form = text[:8], "102"
    if form == "101" or (not form and len(text) == 6):
        return _yymmdd(text) or value
    if form in ("102", ""):
        return _ccyymmdd(text) or value
    return value


def _edifact_number(text: str) -> str:
    """EDIFACT allows a comma as decimal mark (and no thousands separator)."""
    return text.replace(",", ".")


def _edifact_location(code: str, agency: str, what: str, position: int) -> tuple[str, str]:
    if agency == EDI_GLN_AGENCY:
        return "", code
    if agency in (EDI_STORE_AGENCY, ""):
        return code, ""
    raise FileError(
        f"{what} {code!r} is identified by agency {agency!r}: use 9 (GLN) or 92 (store code)",
        position,
    )


def _edifact_item(line: list[Seg]) -> tuple[str, str]:
    """(gtin, item) from a LIN segment group: LIN C212 first, then the PIAs."""
    gtin = item = ""
    lin = line[0]
    if component(lin, 2, 1) in EDI_GTIN:
        gtin = component(lin, 2)
    elif component(lin, 2, 1) == EDI_BUYER_ITEM:
        item = component(lin, 2)
    for segment in line[1:]:
        if segment.tag != "PIA":
            continue
        for index in range(1, len(segment.elements)):
            code, kind = component(segment, index), component(segment, index, 1)
            if kind in EDI_GTIN and not gtin:
                gtin = code
            elif kind == EDI_BUYER_ITEM and not item:
                item = code
    return gtin, item


def _edifact_item_in_scope(line: list[Seg], quantity: Seg) -> tuple[str, str]:
    gtin, item = _edifact_item(line)
    if not gtin and not item:
        raise FileError(
            "QTY carries a quantity but its LIN has no GTIN (EN/SRV/UP) "
            "nor buyer's item number (IN)",
            quantity.position,
        )
    return gtin, item


def _line_groups(
    segments: Sequence[Seg], stops: frozenset[str]
) -> Iterator[tuple[list[Seg], list[Seg]]]:
    """(segments before, LIN group) pairs: each LIN group runs to the next LIN or a stop tag."""
    before: list[Seg] = []
    line: list[Seg] | None = None
    for segment in segments:
        if segment.tag == "LIN" or segment.tag in stops:
            if line is not None:
                yield before, line
                before, line = [], None
            if segment.tag == "LIN":
                line = [segment]
                continue
        if line is None:
            before.append(segment)
        else:
            line.append(segment)
    if line is not None:
        yield before, line
    elif before:
        yield before, []


def _rows_slsrpt(message: Message) -> list[PosLine]:
    rows: list[PosLine] = []
    currency = ""
    header: dict[str, Seg] = {}
    location: tuple[str, str] | None = None
    day: str | None = None
    for before, line in _line_groups(message.segments, frozenset({"LOC"})):
        for segment in before:
            if segment.tag == "CUX" and not currency:
                currency = component(segment, 0, 1)
            elif segment.tag == "LOC":
                if component(segment, 0) != SALES_LOCATION:
                    raise FileError(
                        f"LOC+{component(segment, 0)}: a sales report's locations are "
                        f"LOC+{SALES_LOCATION}",
                        segment.position,
                    )
                location = _edifact_location(
                    component(segment, 1), component(segment, 1, 2), "LOC", segment.position
                )
                day = None
            elif segment.tag == "DTM" and location is None:
                header.setdefault(component(segment, 0), segment)
            elif segment.tag == "DTM" and component(segment, 0) == SALES_DATE:
                day = _edifact_day(segment)
        if line:
            rows.extend(_sales_of(line, location, day, header, currency))
    return rows


def _header_sales_day(header: dict[str, Seg]) -> str | None:
    if SALES_DATE in header:
        return _edifact_day(header[SALES_DATE])
    start, end = header.get(PERIOD_START), header.get(PERIOD_END)
    if start is not None and (end is None or component(end, 0, 1) == component(start, 0, 1)):
        return _edifact_day(start)
    return None


def _sales_of(
    line: list[Seg],
    location: tuple[str, str] | None,
    day: str | None,
    header: dict[str, Seg],
    currency: str,
) -> list[PosLine]:
    quantities = [s for s in line if s.tag == "QTY" and component(s, 0) == SALES_QTY]
    if not quantities:
        return []
    first = quantities[0]
    if location is None:
        raise FileError("QTY+153 has no location in scope: no LOC+162 precedes it", first.position)
    when = day or _header_sales_day(header)
    if when is None:
        raise FileError(
            "QTY+153 has no date in scope: no DTM+356 in its LOC group, and the heading "
            "neither gives one nor reports a single day (DTM+90 = DTM+91)",
            first.position,
        )
    gtin, item = _edifact_item_in_scope(line, first)
    amount = next((s for s in line if s.tag == "MOA" and component(s, 0) == LINE_AMOUNT), None)
    price = next((s for s in line if s.tag == "PRI" and component(s, 0) in UNIT_PRICES), None)
    if amount is not None and len(quantities) > 1:
        raise FileError(
            "one MOA+203 for several QTY+153: the amount cannot be split", amount.position
        )
    rows = []
    for quantity in quantities:
        units = _edifact_number(component(quantity, 0, 1))
        money = currency
        if amount is not None:
            net = _edifact_number(component(amount, 0, 1))
            money = component(amount, 0, 2) or currency
        elif price is not None:
            net = _times(
                units,
                _edifact_number(component(price, 0, 1)),
                _edifact_number(component(price, 0, 4)),
            )
        else:
            net = ""
        rows.append(
            PosLine(
                quantity.position, item, gtin, location[0], location[1], when, units, net, money
            )
        )
    return rows


def read_slsrpt(data: bytes | str) -> Iterator[PosLine]:
    """The sales rows (``QTY+153``) of every SLSRPT in an EDIFACT file.

    Raises :class:`FileError` (before returning anything) for a structural problem.
    """
    rows: list[PosLine] = []
    for message in _edifact_messages(data, "SLSRPT"):
        rows.extend(_rows_slsrpt(message))
    return iter(rows)


def _stock_location(segment: Seg) -> tuple[str, str] | None:
    if component(segment, 0) not in STOCK_LOCATIONS:
        raise FileError(
            f"LOC+{component(segment, 0)} is not a stock location (use 14, 18, 19 or 162)",
            segment.position,
        )
    return _edifact_location(
        component(segment, 1), component(segment, 1, 2), "LOC", segment.position
    )


def _rows_invrpt(message: Message) -> list[StockLine]:
    rows: list[StockLine] = []
    header_day: str | None = None
    document_day: str | None = None
    party: tuple[str, str] | None = None
    for before, line in _line_groups(message.segments, frozenset()):
        for segment in before:
            if segment.tag == "DTM" and component(segment, 0) == STOCK_DATE:
                header_day = _edifact_day(segment)
            elif segment.tag == "DTM" and component(segment, 0) == DOCUMENT_DATE:
                document_day = _edifact_day(segment)
            elif segment.tag == "NAD" and component(segment, 0) == INVENTORY_PARTY:
                agency = component(segment, 1, 2)
                if agency in (EDI_GLN_AGENCY, EDI_STORE_AGENCY):
                    party = _edifact_location(
                        component(segment, 1), agency, "NAD", segment.position
                    )
        if line:
            rows.extend(_stock_of(line, party, header_day or document_day))
    return rows


def _stock_of(
    line: list[Seg], party: tuple[str, str] | None, header_day: str | None
) -> list[StockLine]:
    # Split the LIN group into its own segments and its quantity groups (QTY ... to the next QTY).
    lin_location: tuple[str, str] | None = None
    lin_day: str | None = None
    groups: list[list[Seg]] = []
    for segment in line[1:]:
        if segment.tag == "QTY":
            groups.append([segment])
        elif groups:
            groups[-1].append(segment)
        elif segment.tag == "LOC":
            lin_location = _stock_location(segment)
        elif segment.tag == "DTM" and component(segment, 0) == STOCK_DATE:
            lin_day = _edifact_day(segment)
    fields = {
        ON_HAND: "on_hand",
        IN_TRANSIT: "in_transit",
        ON_ORDER: "on_order",
        OUTSTANDING: "outstanding",
    }
    held: dict[tuple[tuple[str, str], str], dict[str, Seg]] = {}
    for group in groups:
        quantity = group[0]
        field = fields.get(component(quantity, 0))
        if field is None:
            continue
        location = next((_stock_location(s) for s in group if s.tag == "LOC"), None)
        location = location or lin_location or party
        if location is None:
            raise FileError(
                f"QTY+{component(quantity, 0)} has no location in scope: no LOC in its group "
                "or LIN, and no NAD+GY with a GLN",
                quantity.position,
            )
        dated = next((s for s in group if s.tag == "DTM" and component(s, 0) == STOCK_DATE), None)
        day = _edifact_day(dated) if dated is not None else lin_day or header_day
        if day is None:
            raise FileError(
                f"QTY+{component(quantity, 0)} has no date in scope: no DTM+366 nor DTM+137",
                quantity.position,
            )
        held.setdefault((location, day), {}).setdefault(field, quantity)  # the first one wins
    rows = []
    for ((store, gln), day), values in held.items():
        first = min(values.values(), key=lambda s: s.position)
        gtin, item = _edifact_item_in_scope(line, first)
        on_order = values.get("on_order") or values.get("outstanding")

        def text(segment: Seg | None) -> str:
            return _edifact_number(component(segment, 0, 1)) if segment is not None else ""

        at = values.get("on_hand") or first
        rows.append(
            StockLine(
                at.position, item, gtin, store, gln, day,
                text(values.get("on_hand")), text(values.get("in_transit")), text(on_order),
            )
        )  # fmt: skip
    return rows


def read_invrpt(data: bytes | str) -> Iterator[StockLine]:
    """The stock rows of every INVRPT in an EDIFACT file: one per item, location and day.

    Raises :class:`FileError` (before returning anything) for a structural problem.
    """
    rows: list[StockLine] = []
    for message in _edifact_messages(data, "INVRPT"):
        rows.extend(_rows_invrpt(message))
    return iter(rows)


# --- X12 writing --------------------------------------------------------------------------
X12_DELIMITERS = x12.Delimiters("*", ">", "~", None)


def _x12_value(value: str, what: str) -> str:
    if any(c in value for c in "*>~\r\n"):
        raise ValueError(f"{what} {value!r} contains an X12 delimiter (* > ~ or a line break)")
    return value


def _x12_ids(gtin: str, item: str) -> tuple[str, ...]:
    """A LIN's qualifier/id pairs: the GTIN by its length, then the buyer's item number."""
    ids: list[str] = []
    if gtin:
        qualifier = {12: "UP", 14: "UK"}.get(len(gtin), "EN")
        ids += [qualifier, _x12_value(gtin, "gtin")]
    if item:
        ids += [X12_BUYER_ITEM, _x12_value(item, "item")]
    if not ids:
        raise ValueError("a line needs a gtin or an item")
    return tuple(ids)


def _x12_where(store: str, gln: str) -> tuple[str, str]:
    """(qualifier, code) of a line's location: the GLN if there is one, else the store."""
    if gln:
        return X12_GLN, _x12_value(gln, "gln")
    if store:
        return X12_STORE, _x12_value(store, "store")
    raise ValueError("a line needs a store or a gln")


def _unit_price(line: PosLine) -> str | None:
    """The exact unit price ``net_sales / units``, or None when there is no amount."""
    if not line.net_sales.strip():
        return None
    net, units = _decimal(line.net_sales), _decimal(line.units)
    if net is None or units is None or (units == 0 and net != 0):
        raise ValueError(
            f"an 852 carries unit prices: net_sales {line.net_sales!r} for units {line.units!r} "
            "has none"
        )
    if units == 0:
        return None
    try:
        return _plain(EXACT_DIVISION.divide(net, units))
    except Inexact:
        raise ValueError(
            f"an 852 carries unit prices: net_sales {line.net_sales!r} is not "
            f"{line.units} x an exact unit price"
        ) from None


def _x12_document(
    functional_id: str,
    transactions: list[x12.Transaction],
    *,
    sender: str,
    receiver: str,
    control: int,
    qualifier: str,
    created: dt.datetime | None,
    usage: str,
    newline: bool,
) -> str:
    if not 1 <= control <= 999_999_999:
        raise ValueError(f"control {control} is not a 9-digit interchange control number")
    for what, value in (("sender", sender), ("receiver", receiver)):
        if not value or len(value) > 15:
            raise ValueError(f"{what} {value!r} must be 1 to 15 characters")
        _x12_value(value, what)
    when = created or clock.now()
    group = x12.Group(
        functional_id, sender, receiver, when.strftime("%Y%m%d"), when.strftime("%H%M"),
        str(control), "004010", transactions,
    )  # fmt: skip
    interchange = x12.Interchange(
        qualifier, sender, qualifier, receiver, when.strftime("%y%m%d"), when.strftime("%H%M"),
        "00401", f"{control:09d}", usage, X12_DELIMITERS, [group],
    )  # fmt: skip
    return x12.serialize([interchange], newline=newline)


def write_852(
    lines: Iterable[PosLine],
    *,
    sender: str,
    receiver: str,
    control: int = 1,
    qualifier: str = "ZZ",
    created: dt.datetime | None = None,
    usage: str = "P",
    newline: bool = False,
) -> str:
    """An X12 interchange with one 852 per day, in the shape :func:`read_852` reads.

    Per day: ``XQ*H*day*day``; per (item, unit price): ``LIN``, ``CTP**RES*price`` (when
    the lines have amounts), ``ZA*QS`` and ``SDQ*EA*92|UL*loc*qty...`` (ten pairs a
    segment; a line with a GLN is written by its GLN); ``CTT``. The unit price is
    ``net_sales / units`` and must be exact (ValueError otherwise); currency is not
    written (the 004010 852 has no CUR). ``line`` is ignored.
    """
    transactions = []
    for number, (day, day_lines) in enumerate(_grouped(lines, lambda p: p.day).items(), 1):
        date = _x12_value(_edi_date(day), "day")
        segments = [x12.Segment("XQ", ("H", date, date))]
        items = _grouped(day_lines, lambda p: (p.gtin, p.item, _unit_price(p)))
        for index, ((gtin, item, price), item_lines) in enumerate(items.items(), 1):
            segments.append(x12.Segment("LIN", (str(index), *_x12_ids(gtin, item))))
            if price is not None:
                segments.append(x12.Segment("CTP", ("", X12_RETAIL_PRICE, price)))
            segments.append(x12.Segment("ZA", (X12_SOLD,)))
            by_kind = _grouped(item_lines, lambda p: _x12_where(p.store, p.gln)[0])
            for kind, located in by_kind.items():
                for start in range(0, len(located), 10):
                    pairs = []
                    for p in located[start : start + 10]:
                        pairs += [_x12_where(p.store, p.gln)[1], _x12_value(p.units, "units")]
                    segments.append(x12.Segment("SDQ", ("EA", kind, *pairs)))
        segments.append(x12.Segment("CTT", (str(len(items)),)))
        transactions.append(x12.Transaction("852", f"{number:04d}", segments))
    return _x12_document(
        "PD", transactions, sender=sender, receiver=receiver, control=control,
        qualifier=qualifier, created=created, usage=usage, newline=newline,
    )  # fmt: skip


def write_846(
    lines: Iterable[StockLine],
    *,
    sender: str,
    receiver: str,
    control: int = 1,
    qualifier: str = "ZZ",
    created: dt.datetime | None = None,
    usage: str = "P",
    newline: bool = False,
) -> str:
    """An X12 interchange with one 846 per location and day, in the shape :func:`read_846`
    reads: ``BIA*00*DD*ref*day``, ``N1*RL**92|UL*loc``, then per line ``LIN``,
    ``QTY*17`` (on hand) and, when given, ``QTY*IQ`` (in transit) and ``QTY*63`` (on
    order); ``CTT``. ``line`` is ignored."""
    transactions = []
    groups = _grouped(lines, lambda s: (_x12_where(s.store, s.gln), s.day))
    for number, (((kind, location), day), stock) in enumerate(groups.items(), 1):
        segments = [
            x12.Segment(
                "BIA", ("00", "DD", f"{control}-{number}", _x12_value(_edi_date(day), "day"))
            ),
            x12.Segment("N1", ("RL", "", kind, location)),
        ]
        for index, s in enumerate(stock, 1):
            segments.append(x12.Segment("LIN", (str(index), *_x12_ids(s.gtin, s.item))))
            segments.append(
                x12.Segment("QTY", (X12_ON_HAND, _x12_value(s.on_hand, "on_hand"), "EA"))
            )
            for code, value, what in (
                (X12_IN_TRANSIT, s.in_transit, "in_transit"),
                (X12_ON_ORDER, s.on_order, "on_order"),
            ):
                if value:
                    segments.append(x12.Segment("QTY", (code, _x12_value(value, what), "EA")))
        segments.append(x12.Segment("CTT", (str(len(stock)),)))
        transactions.append(x12.Transaction("846", f"{number:04d}", segments))
    return _x12_document(
        "IB", transactions, sender=sender, receiver=receiver, control=control,
        qualifier=qualifier, created=created, usage=usage, newline=newline,
    )  # fmt: skip


# --- EDIFACT writing ----------------------------------------------------------------------
def _party(code: str) -> tuple[str, str, str]:
    """A party's C082: a 13-digit code is a GLN (agency 9), anything else mutually defined."""
    return (code, "", EDI_GLN_AGENCY if is_gln(code) else "ZZZ")


def _edi_where(store: str, gln: str) -> tuple[str, str, str]:
    """A location's C517: the GLN (agency 9) if there is one, else the store code (92)."""
    if gln:
        return gln, "", EDI_GLN_AGENCY
    if store:
        return store, "", EDI_STORE_AGENCY
    raise ValueError("a line needs a store or a gln")


def _edi_item(number: int, gtin: str, item: str) -> list[str]:
    if not gtin and not item:
        raise ValueError("a line needs a gtin or an item")
    segments = [
        write_segment("LIN", str(number), "", (gtin, "EN"))
        if gtin
        else write_segment("LIN", str(number))
    ]
    if item:  # 1 = additional identification (next to the GTIN), 5 = product identification
        segments.append(write_segment("PIA", "1" if gtin else "5", (item, EDI_BUYER_ITEM)))
    return segments


def _period(days: Iterable[str]) -> list[str]:
    """DTM+90/91 around the ISO days given (none if there are none)."""
    valid = sorted(d for d in days if _ccyymmdd(_edi_date(d)))
    if not valid:
        return []
    return [
        write_segment("DTM", (PERIOD_START, _edi_date(valid[0]), "102")),
        write_segment("DTM", (PERIOD_END, _edi_date(valid[-1]), "102")),
    ]


def write_slsrpt(
    lines: Iterable[PosLine],
    *,
    sender: str,
    receiver: str,
    control: int = 1,
    created: dt.datetime | None = None,
    syntax: str = "UNOC",
    newline: bool = False,
) -> str:
    """An EDIFACT interchange of EANCOM SLSRPT (D96A EAN004), one message per currency,
    in the shape :func:`read_slsrpt` reads: heading ``BGM+73E``, ``DTM+137/90/91``,
    ``NAD+SU`` (receiver), ``NAD+BY`` (sender), ``CUX``; per location and day ``LOC+162``
    (GLN agency 9, else store code agency 92) and ``DTM+356``; per line ``LIN`` (GTIN,
    EN), ``PIA`` (buyer's item number, IN), ``MOA+203`` (net sales, when given) and
    ``QTY+153``. Values are escaped with ``?``. Encode the result with the codec of
    ``syntax`` (ISO 8859-1 for UNOB/UNOC, UTF-8 for UNOW/UNOY). ``line`` is ignored."""
    when = created or clock.now()
    messages = []
    for number, (currency, sold) in enumerate(_grouped(lines, lambda p: p.currency).items(), 1):
        body = [
            write_segment("BGM", "73E", f"{control}-{number}", "9"),
            write_segment("DTM", (DOCUMENT_DATE, when.strftime("%Y%m%d"), "102")),
            *_period(p.day for p in sold),
            write_segment("NAD", "SU", _party(receiver)),
            write_segment("NAD", "BY", _party(sender)),
        ]
        if currency:
            body.append(write_segment("CUX", ("2", currency, "10")))
        index = 0
        for (where, day), located in _grouped(
            sold, lambda p: (_edi_where(p.store, p.gln), p.day)
        ).items():
            body.append(write_segment("LOC", SALES_LOCATION, where))
            body.append(write_segment("DTM", (SALES_DATE, _edi_date(day), "102")))
            for p in located:
                index += 1
                body.extend(_edi_item(index, p.gtin, p.item))
                if p.net_sales:
                    body.append(write_segment("MOA", (LINE_AMOUNT, p.net_sales)))
                body.append(write_segment("QTY", (SALES_QTY, p.units)))
        messages.append((("SLSRPT", *EANCOM_D96A), body))
    return edifact.document(
        messages, sender=sender, receiver=receiver, control=control, created=when,
        syntax=syntax, newline=newline,
    )  # fmt: skip


def write_invrpt(
    lines: Iterable[StockLine],
    *,
    sender: str,
    receiver: str,
    control: int = 1,
    created: dt.datetime | None = None,
    syntax: str = "UNOC",
    newline: bool = False,
) -> str:
    """An EDIFACT interchange of EANCOM INVRPT (D96A EAN004), one message per day, in the
    shape :func:`read_invrpt` reads: heading ``BGM+35``, ``DTM+137``, ``DTM+366`` (the
    day), ``NAD+GY`` (sender), ``NAD+SU`` (receiver); per line ``LIN``/``PIA``, then
    quantity groups ``QTY+145`` (on hand), ``QTY+198`` (in transit) and ``QTY+21`` (on
    order), the last two only when given, each followed by its ``LOC+14`` (GLN agency 9,
    else store code agency 92). ``line`` is ignored."""
    when = created or clock.now()
    messages = []
    for number, (day, stock) in enumerate(_grouped(lines, lambda s: s.day).items(), 1):
        body = [
            write_segment("BGM", "35", f"{control}-{number}", "9"),
            write_segment("DTM", (DOCUMENT_DATE, when.strftime("%Y%m%d"), "102")),
            write_segment("DTM", (STOCK_DATE, _edi_date(day), "102")),
            write_segment("NAD", INVENTORY_PARTY, _party(sender)),
            write_segment("NAD", "SU", _party(receiver)),
        ]
        for index, s in enumerate(stock, 1):
            where = write_segment("LOC", "14", _edi_where(s.store, s.gln))
            body.extend(_edi_item(index, s.gtin, s.item))
            body += [write_segment("QTY", (ON_HAND, s.on_hand)), where]
            if s.in_transit:
                body += [write_segment("QTY", (IN_TRANSIT, s.in_transit)), where]
            if s.on_order:
                body += [write_segment("QTY", (ON_ORDER, s.on_order)), where]
        messages.append((("INVRPT", *EANCOM_D96A), body))
    return edifact.document(
        messages, sender=sender, receiver=receiver, control=control, created=when,
        syntax=syntax, newline=newline,
    )  # fmt: skip
