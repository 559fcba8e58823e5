"""Purchase order rules, pure: what a new promise does to an order or a line (the
original commitment kept beside a revision), the three-way match of order, receipt and
invoice, SSCC-18 carton codes, and quantities and prices exactly as the hub stores them.

The web path and the EDI path apply the same rules: a line answered in the portal and a
line answered by an 855/ORDRSP change the same fields the same way.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from domain import gs1
from domain.ingest import MAX_MINOR, MAX_UNITS, minor_exponent, minor_units

SSCC_LENGTH = 18
#: A supplier's answer to one PO line.
ANSWERS = ("accepted", "changed", "rejected")
#: The three-way match's flags (:func:`three_way_match`) in words, for people.
FLAG_WORDS = {
    "short_received": "received less than ordered",
    "over_received": "received more than ordered",
    "invoiced_over_received": "invoiced more than received",
    "invoiced_under_received": "invoiced less than received",
    "price": "invoice price differs from the order's",
    "not_invoiced": "not invoiced yet",
    "not_on_order": "invoiced but not on the order",
}


class OrderError(ValueError):
    """An answer, shipment or invoice that cannot apply to the order, naming the line."""

    def __init__(self, message: str, line: str = "") -> None:
        self.line = line
        super().__init__(f"line {line}: {message}" if line else message)


def whole_units(value: Decimal, what: str, line: str = "") -> int:
    """A quantity as whole units: a fraction is refused, never rounded."""
    if value != value.to_integral_value():
        raise OrderError(f"{what} {value} is not a whole number of units", line)
    if not 0 <= value <= MAX_UNITS:
        raise OrderError(f"{what} {value} is out of range", line)
    return int(value)


def price_minor(price: Decimal, currency: str, line: str = "") -> int:
    """A unit price in major units as integer minor units of ``currency``, exactly:
    a price with more decimals than the currency has is refused, never rounded."""
    minor = minor_units(price, currency)
    if minor is None:
        raise OrderError(
            f"the price {price} has more than {minor_exponent(currency)} decimals for {currency}",
            line,
        )
    if not 0 <= minor <= MAX_MINOR:
        raise OrderError(f"the price {price} is out of range", line)
    return minor


def price_major(minor: int, currency: str) -> Decimal:
    """Minor units back as an exact amount in major units."""
    return Decimal(minor).scaleb(-minor_exponent(currency))


def _day(value: Any) -> str | None:
    return str(value)[:10] if value else None


def promise_changes(row: Mapping[str, Any], promised: dt.date) -> dict[str, str]:
    """The date fields a new promise changes on a PO or PO line (the portal's answer and
    an 855/ORDRSP alike).

    The first promise sets ``promised_date`` and ``original_promised_date``; a later,
    different one sets ``promised_date`` and ``revised_date``. The original is never
    overwritten.
    """
    new = promised.isoformat()
    original = _day(row.get("original_promised_date"))
    current = _day(row.get("promised_date"))
    if original is None and current is None:
        return {"promised_date": new, "original_promised_date": new}
    changes: dict[str, str] = {}
    if original is None:  # promised before this rule existed: that was the original
        changes["original_promised_date"] = current  # type: ignore[assignment]
    if new != current:
        changes.update({"promised_date": new, "revised_date": new})
    return changes


def answered_status(answers: Iterable[str | None]) -> str:
    """The order's status after the supplier's answer, from every line's answer (None:
    not answered): ``rejected`` if every line is rejected, else ``acknowledged``."""
    answers = list(answers)
    if answers and all(a == "rejected" for a in answers):
        return "rejected"
    return "acknowledged"


def due_quantity(line: Mapping[str, Any]) -> int:
    """What a PO line still owes in all: nothing once rejected, else what was promised
    (or, with no promise, what was ordered)."""
    if line.get("answer") == "rejected":
        return 0
    promised = line.get("qty_promised")
    return int(line["qty_ordered"]) if promised is None else int(promised)


def shipped_status(lines: Iterable[Mapping[str, Any]], shipped: Mapping[int, int]) -> str:
    """The order's status after a shipment: ``shipped`` once every line not rejected has
    shipped what it owes (:func:`due_quantity`; ``shipped`` is the quantity shipped so
    far per PO line id, this shipment's included), else ``partially_shipped``."""
    complete = all(shipped.get(int(line["id"]), 0) >= due_quantity(line) for line in lines)
    return "shipped" if complete else "partially_shipped"


@dataclass(frozen=True)
class MatchLine:
    """One PO line in the three-way match: ordered, received and invoiced, and what
    disagrees. Money is integer minor units."""

    line: str
    ordered: int
    received: int
    invoiced: int
    order_price: int
    invoice_price: int | None
    flags: tuple[str, ...]

    @property
    def matched(self) -> bool:
        return not self.flags


@dataclass(frozen=True)
class InvoicedLine:
    line: str
    qty: int
    unit_price_minor: int


def three_way_match(
    ordered: Sequence[tuple[str, int, int]],
    received: Mapping[str, int],
    invoiced: Iterable[InvoicedLine],
    *,
    shipped: Mapping[str, int] | None = None,
) -> list[MatchLine]:
    """Order x receipt x invoice, per PO line.

    ``ordered`` is (line, quantity, unit price in minor units) per PO line; ``received``
    the quantity received per line (the distributor's receipt, or, until it records one,
    ``shipped``: what the ASN says left). Flags, each a plain word:

    - ``short_received``: received less than ordered;
    - ``over_received``: more than ordered;
    - ``invoiced_over_received``: the invoice bills more than was received;
    - ``invoiced_under_received``: it bills less (the rest may follow on another invoice);
    - ``price``: the invoice's unit price is not the order's;
    - ``not_invoiced``: the line is on no invoice line;
    - ``not_on_order``: an invoice line names a line the order does not have.
    """
    billed: dict[str, list[InvoicedLine]] = {}
    for line in invoiced:
        billed.setdefault(line.line, []).append(line)
    known = {line for line, _q, _p in ordered}
    out = []
    for line, quantity, price in ordered:
        got = received.get(line)
        if got is None and shipped is not None:
            got = shipped.get(line)
        got = got or 0
        on_invoice = billed.get(line, [])
        qty = sum(b.qty for b in on_invoice)
        prices = {b.unit_price_minor for b in on_invoice}
        flags = []
        if got < quantity:
            flags.append("short_received")
        elif got > quantity:
            flags.append("over_received")
        if not on_invoice:
            flags.append("not_invoiced")
        elif qty > got:
            flags.append("invoiced_over_received")
        elif qty < got:
            flags.append("invoiced_under_received")
        if on_invoice and prices != {price}:
            flags.append("price")
        invoice_price = prices.pop() if len(prices) == 1 else None
        out.append(MatchLine(line, quantity, got, qty, price, invoice_price, tuple(flags)))
    for line in sorted(set(billed) - known):
        lines = billed[line]
        out.append(
            MatchLine(line, 0, 0, sum(b.qty for b in lines), 0, lines[0].unit_price_minor,
                      ("not_on_order",))
        )  # fmt: skip
    return out


def sscc_problem(value: str) -> str | None:
    """Why this is not an SSCC-18 (extension digit, company prefix, serial reference and
    a GS1 mod-10 check digit), or None if it is one."""
    if not (value.isascii() and value.isdigit()) or len(value) != SSCC_LENGTH:
        return "an SSCC has 18 digits"
    expected = gs1.check_digit(value[:-1])
    if int(value[-1]) != expected:
        return f"the SSCC's check digit should be {expected}"
    return None


def make_sscc(extension: int, prefix: str, serial: int) -> str:
    """The SSCC-18 of a carton: extension digit, company prefix, serial reference padded
    to fill 17 digits, then the check digit."""
    problem = gs1.prefix_problem(prefix)
    if problem:
        raise ValueError(problem)
    width = SSCC_LENGTH - 2 - len(prefix)
    if not 0 <= extension <= 9 or not 0 <= serial < 10**width:
        raise ValueError(f"serial {serial} does not fit the {width} digits after {prefix}")
    return gs1.with_check_digit(f"{extension}{prefix}{serial:0{width}d}")
