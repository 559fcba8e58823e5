"""POS and inventory rows as distributors deliver them, and the rules that accept them.

Pure: the file readers (:mod:`ingest.readers`, :mod:`domain.edi_reports`) turn a file
into :class:`PosLine` / :class:`StockLine` tuples of *text*, exactly as delivered; this
module decides, row by row, whether a line is a good row (and what it means) or a
reject (and why, naming the field). A structurally wrong file is a :class:`FileError`:
nothing of it lands.

The natural key of a row is (distributor, location, SKU, day): a re-delivered day
replaces the earlier values, it never adds to them. Negative units are returns.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import NamedTuple

KINDS = ("pos", "inventory")


class FileError(ValueError):
    """The file as a whole is not what it claims to be; ``line`` is 1-based, 0 for the
    file as a whole."""

    def __init__(self, message: str, line: int = 0) -> None:
        self.line = line
        super().__init__(f"line {line}: {message}" if line else message)


class PosLine(NamedTuple):
    """One delivered sales line, all text. ``item`` is the distributor's item code and
    ``gtin`` a GTIN (either may be empty); ``store`` the distributor's store code and
    ``gln`` a GLN. ``net_sales`` is in major units ("12.50"), empty if not delivered."""

    line: int
    item: str
    gtin: str
    store: str
    gln: str
    day: str
    units: str
    net_sales: str
    currency: str


class StockLine(NamedTuple):
    """One delivered inventory line, all text; empty in-transit / on-order mean 0."""

    line: int
    item: str
    gtin: str
    store: str
    gln: str
    day: str
    on_hand: str
    in_transit: str
    on_order: str


class Reject(NamedTuple):
    line: int
    field: str
    reason: str


# ISO 4217 minor-unit exponents that are not 2 (the default).
_EXPONENTS = {
    "BHD": 3, "BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "IQD": 3, "ISK": 0, "JOD": 3,
    "JPY": 0, "KMF": 0, "KRW": 0, "KWD": 3, "LYD": 3, "OMR": 3, "PYG": 0, "RWF": 0,
    "TND": 3, "UGX": 0, "UYI": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
}  # fmt: skip
#: Common date formats, offered when a distributor's own is refused.
DATE_FORMATS = ("%Y-%m-%d", "%Y%m%d", "%d/%m/%Y", "%m/%d/%Y", "%d.%m.%Y")
_DIRECTIVE = re.compile(r"%(.)")
#: strptime directives a delivered date may use (``%%`` is a literal ``%``); a time of
#: day may follow the date, as in ``%Y-%m-%d %H:%M:%S``.
_DATE_DIRECTIVES = frozenset("YymdbBjaA%HIMSpf")
#: Dates a format must give back unchanged: day and month apart, both centuries, a
#: two-digit day and month.
_PROBES = (dt.date(2026, 1, 31), dt.date(1999, 12, 13), dt.date(2030, 7, 4))
MAX_UNITS = 2**31 - 1  # the hub's integer columns


def minor_exponent(currency: str) -> int:
    return _EXPONENTS.get(currency, 2)


def check_date_format(date_format: str) -> None:
    """ValueError, naming the accepted forms, unless ``date_format`` reads a whole date
    (a year, a month and a day, or a year and a day of the year), perhaps with a time."""
    accepted = f"use strptime directives, e.g. {', '.join(DATE_FORMATS)}"
    found = set(_DIRECTIVE.findall(date_format))
    other = sorted(found - _DATE_DIRECTIVES)
    if other:
        named = ", ".join(f"%{d}" for d in other)
        raise ValueError(f"date format {date_format!r}: {named} is not part of a date; {accepted}")
    whole = bool(found & {"Y", "y"}) and (
        ("d" in found and bool(found & {"m", "b", "B"})) or "j" in found
    )
    if not whole:
        raise ValueError(
            f"date format {date_format!r} does not name a whole date (year, month and day); "
            f"{accepted}"
        )
    for probe in _PROBES:
        try:
            back = dt.datetime.strptime(probe.strftime(date_format), date_format).date()
        except ValueError:
            back = None
        if back != probe:
            raise ValueError(f"date format {date_format!r} does not read {probe} back; {accepted}")


def parse_day(text: str, date_format: str = "%Y-%m-%d") -> dt.date:
    """A delivered date in the feed's format; ValueError if it is not one."""
    return dt.datetime.strptime(text.strip(), date_format).date()


def parse_units(text: str, field: str = "units") -> int:
    """Whole units; negative means returns. ValueError names what is wrong."""
    value = text.strip().replace(",", "") if text else ""
    if not value:
        raise ValueError(f"{field} is empty")
    try:
        number = int(value)
    except ValueError:
        try:
            exact = Decimal(value)
        except InvalidOperation:
            raise ValueError(f"{field} {text!r} is not a number") from None
        if not exact.is_finite() or exact != exact.to_integral_value():
            raise ValueError(f"{field} {text!r} is not a whole number") from None
        number = int(exact)
    if abs(number) > MAX_UNITS:
        raise ValueError(f"{field} {text!r} is out of range")
    return number


def parse_money(text: str, currency: str, field: str = "net_sales") -> int:
    """An amount in major units as integer minor units of ``currency``, exactly.

    More decimals than the currency has are refused rather than rounded away.
    """
    value = text.strip().replace(",", "") if text else ""
    if not value:
        return 0
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise ValueError(f"{field} {text!r} is not an amount") from None
    if not amount.is_finite():
        raise ValueError(f"{field} {text!r} is not an amount")
    exponent = minor_exponent(currency)
    minor = amount.scaleb(exponent)
    if minor != minor.to_integral_value():
        raise ValueError(f"{field} {text!r} has more than {exponent} decimals for {currency}")
    result = int(minor.to_integral_value(ROUND_HALF_EVEN))
    if abs(result) >= 2**63:
        raise ValueError(f"{field} {text!r} is out of range")
    return result


def parse_currency(text: str, default: str) -> str:
    value = (text or "").strip().upper() or default
    if len(value) != 3 or not value.isalpha():
        raise ValueError(f"currency {text!r} is not an ISO 4217 code")
    return value


def is_stale(data_through: dt.date | None, today: dt.date, after_days: int) -> bool:
    """A feed is stale when its data is more than ``after_days`` days behind today (or
    there is none yet)."""
    return data_through is None or (today - data_through).days > after_days
