"""POS, inventory and forecast rows as distributors deliver them, and the rules that accept them.

Pure: the file readers (:mod:`ingest.readers`, :mod:`domain.edi_reports`) turn a file
into :class:`PosLine` / :class:`StockLine` / :class:`ForecastLine` tuples of *text*,
exactly as delivered; this module decides, row by row, whether a line is a good row (and
what it means) or a reject (and why, naming the field). A structurally wrong file is a
:class:`FileError`: nothing of it lands.

The natural key of a row is (distributor, location, SKU, day), of a forecast row
(distributor, location, SKU, week): a re-delivered day or week replaces the earlier
values, it never adds to them. Negative units are returns.

Numbers are read under the mapping's separators (:func:`parse_number`): the decimal
separator (``.`` or ``,``) and the thousands separator (none, ``.``, ``,``, a space or an
apostrophe; never the decimal one). A value that does not fit them is refused, never
guessed at: under the default (decimal ``.``, no thousands separator) ``12,50`` is a
reject, not 1,250.
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import re
import statistics
from collections.abc import Sequence
from decimal import Decimal
from typing import NamedTuple

KINDS = ("pos", "inventory", "forecasts")


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


class ForecastLine(NamedTuple):
    """One delivered forecast line, all text: the units forecast for a SKU at a location
    in an ISO week (``week``: its Monday, or its label ``2026-W50``). ``uom`` is the unit
    the quantity counts: empty or ``EA`` for units, ``CA`` for the SKU's cases."""

    line: int
    item: str
    gtin: str
    store: str
    gln: str
    week: str
    units: str
    uom: str


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
#: The largest id the hub's integer keys hold (4 bytes on PostgreSQL). A larger one names
#: nothing, and is refused before it reaches the hub, which would refuse the filter (502)
#: rather than answer "none".
MAX_ID = 2**31 - 1
#: The largest amount of minor units Tandem takes. The hub's columns are 64-bit, but
#: Directus reads and writes every number as a JavaScript double: 2**53 + 1 is stored and
#: read back as 2**53, silently. Beyond this, an amount is refused, never rounded.
MAX_MINOR = 2**53 - 1

#: A mapping's decimal separator, and its name in messages.
DECIMAL_SEPARATORS = {".": "point", ",": "comma"}
#: A mapping's thousands separator ("" for none), and its name in messages.
THOUSANDS_SEPARATORS = {"": "none", ".": "point", ",": "comma", " ": "space", "'": "apostrophe"}
#: What a thousands separator matches in a value: "space" any of the spaces spreadsheets
#: write (plain, no-break, narrow no-break), "apostrophe" the straight and curly ones.
_GROUP_MARKS = {" ": " \u00a0\u202f", "'": "'\u2019"}


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


def check_separators(decimal: str, thousands: str) -> None:
    """ValueError naming the setting unless the separators are ones a mapping may have:
    a decimal separator of :data:`DECIMAL_SEPARATORS`, a thousands separator of
    :data:`THOUSANDS_SEPARATORS` that is not the decimal one."""
    if decimal not in DECIMAL_SEPARATORS:
        raise ValueError(
            f"decimal separator {decimal!r} is not one of: {', '.join(DECIMAL_SEPARATORS)}"
        )
    if thousands not in THOUSANDS_SEPARATORS:
        named = ", ".join(repr(t) for t in THOUSANDS_SEPARATORS)
        raise ValueError(f"thousands separator {thousands!r} is not one of: {named}")
    if thousands == decimal:
        raise ValueError(
            f"the thousands separator cannot be the decimal separator ({decimal!r}): "
            "a value like 1.234 would mean two things"
        )


@functools.lru_cache(maxsize=32)
def _number_pattern(decimal: str, thousands: str) -> re.Pattern[str]:
    check_separators(decimal, thousands)
    plain = r"[0-9]*"
    if thousands:
        mark = f"[{re.escape(_GROUP_MARKS.get(thousands, thousands))}]"
        whole = rf"[0-9]{{1,3}}(?:{mark}[0-9]{{3}})+|{plain}"
    else:
        whole = plain
    return re.compile(rf"([+-]?)({whole})(?:{re.escape(decimal)}([0-9]+))?")


def number_example(decimal: str, thousands: str) -> str:
    """How 1234.56 is written under these separators, e.g. ``1.234,56``."""
    return format_number(Decimal("1234.56"), decimal, thousands)


def parse_number(text: str, decimal: str = ".", thousands: str = "") -> Decimal:
    """The exact number ``text`` writes under a mapping's separators; ValueError if it
    does not fit them. The one rule for every delivered quantity and amount:

    - an optional sign (``-`` or ``+``), then the whole part, then optionally the decimal
      separator and at least one digit; at least one digit in all; ASCII digits only;
      surrounding blanks are ignored;
    - the whole part is plain digits, or, when the mapping has a thousands separator,
      1 to 3 digits then groups of exactly 3 each led by that separator (``1.234.567``);
    - anything else is refused: another separator (``1,5`` under decimal ``.`` and no
      thousands separator; ``1.234,5`` likewise), a group of another size (``12,50``
      under thousands ``,``), two decimal separators, exponents, currency signs.

    So a value means one thing or nothing: under decimal ``,`` ``1,234`` is 1.234 (then
    refused as units, which are whole, and as cents), never 1234.
    """
    match = _number_pattern(decimal, thousands).fullmatch(text.strip())
    if match is None or not (match[2] or match[3]):
        raise ValueError(
            f"is not a number under this mapping (decimal separator: "
            f"{DECIMAL_SEPARATORS[decimal]}, thousands separator: "
            f"{THOUSANDS_SEPARATORS[thousands]}; e.g. {number_example(decimal, thousands)}); "
            "check the mapping's separators"
        )
    sign, whole, fraction = match.groups()
    digits = re.sub(r"[^0-9]", "", whole) or "0"
    return Decimal(f"{sign}{digits}.{fraction}" if fraction else f"{sign}{digits}")


def format_number(value: Decimal, decimal: str = ".", thousands: str = "") -> str:
    """``value`` written under a mapping's separators, every digit kept (no exponent):
    what :func:`parse_number` reads back exactly."""
    check_separators(decimal, thousands)
    text = format(value, "f")
    sign = "-" if text.startswith("-") else ""
    whole, _, fraction = text.lstrip("-").partition(".")
    if thousands:
        head = len(whole) % 3 or 3
        whole = thousands.join(
            [whole[:head], *(whole[i : i + 3] for i in range(head, len(whole), 3))]
        )
    return f"{sign}{whole}{decimal}{fraction}" if fraction else f"{sign}{whole}"


def parse_units(text: str, field: str = "units", decimal: str = ".", thousands: str = "") -> int:
    """Whole units; negative means returns. ValueError names the field and what is wrong."""
    if not text or not text.strip():
        raise ValueError(f"{field} is empty")
    try:
        number = parse_number(text, decimal, thousands)
    except ValueError as exc:
        raise ValueError(f"{field} {text!r} {exc}") from None
    if number != number.to_integral_value():
        raise ValueError(f"{field} {text!r} is not a whole number: units are counted whole")
    if abs(number) > MAX_UNITS:
        raise ValueError(f"{field} {text!r} is out of range")
    return int(number)


def minor_units(amount: Decimal, currency: str) -> int | None:
    """A finite ``amount`` (major units) as integer minor units of ``currency``, exactly;
    None if it has more decimals than the currency (other than trailing zeros)."""
    sign, digits, exp = amount.as_tuple()
    number = int("".join(map(str, digits)) or "0")
    shift = int(exp) + minor_exponent(currency)
    if shift >= 0:
        number *= 10**shift
    else:
        number, rest = divmod(number, 10**-shift)
        if rest:
            return None
    return -number if sign else number


def parse_money(
    text: str, currency: str, field: str = "net_sales", decimal: str = ".", thousands: str = ""
) -> int:
    """An amount in major units as integer minor units of ``currency``, exactly; empty
    is 0. More decimals than the currency has are refused rather than rounded away."""
    if not text or not text.strip():
        return 0
    try:
        amount = parse_number(text, decimal, thousands)
    except ValueError as exc:
        raise ValueError(f"{field} {text!r} {exc}") from None
    if len(amount.as_tuple().digits) > 40:
        raise ValueError(f"{field} {text!r} is out of range")
    minor = minor_units(amount, currency)
    if minor is None:
        exponent = minor_exponent(currency)
        raise ValueError(f"{field} {text!r} has more than {exponent} decimals for {currency}")
    if abs(minor) > MAX_MINOR:
        raise ValueError(f"{field} {text!r} is out of range")
    return minor


def parse_currency(text: str, default: str) -> str:
    value = (text or "").strip().upper() or default
    if len(value) != 3 or not value.isalpha():
        raise ValueError(f"currency {text!r} is not an ISO 4217 code")
    return value


def is_stale(data_through: dt.date | None, today: dt.date, after_days: int) -> bool:
    """A feed is stale when its data is more than ``after_days`` days behind today (or
    there is none yet)."""
    return data_through is None or (today - data_through).days > after_days


#: A weekly forecast is late after a week and a day.
FORECAST_STALE_AFTER_DAYS = 8

#: How many of a feed's recent gaps between deliveries its learned cadence is the median
#: of: two months of a weekly feed, eight days of a daily one.
CADENCE_GAPS = 8

#: The grace period after a feed's expected next date before it is stale, by cadence:
#: (the cadence at least so many days, the grace in days). A daily feed may be a day
#: late, a weekly one two days, a monthly one four.
GRACE_DAYS = ((1, 1), (7, 2), (28, 4))

#: The longest cadence a feed may be set to: a yearly delivery.
MAX_CADENCE_DAYS = 366

#: Where a feed's cadence comes from: set on the feed by its distributor or an operator,
#: or learned from its deliveries (:func:`learn_cadence`).
CADENCE_SET = "set"
CADENCE_LEARNED = "learned"


def grace_days(cadence_days: int) -> int:
    """The days a feed of this cadence may be late before it is stale (:data:`GRACE_DAYS`)."""
    return max(grace for at_least, grace in GRACE_DAYS if cadence_days >= at_least)


def learn_cadence(throughs: Sequence[dt.date | None], gaps: int = CADENCE_GAPS) -> int | None:
    """A feed's typical gap, in days, between the data-through dates of its deliveries
    (``throughs``, oldest delivery first): the (lower) median of its last ``gaps`` gaps.

    Only deliveries that moved the feed forward count, as its freshness does: a
    restatement of older days, or the same days again, is not a new period. ``None``
    until two deliveries have moved it."""
    advances: list[dt.date] = []
    for through in throughs:
        if through is not None and (not advances or through > advances[-1]):
            advances.append(through)
    found = [(b - a).days for a, b in itertools.pairwise(advances[-(gaps + 1) :])]
    return statistics.median_low(found) if found else None


def cadence_label(days: int) -> str:
    """A cadence in words: daily, weekly, every 2 weeks, monthly, every 3 days."""
    if days == 1:
        return "daily"
    if days % 7 == 0:
        return "weekly" if days == 7 else f"every {days // 7} weeks"
    if 28 <= days <= 31:
        return "monthly"
    return f"every {days} days"


class Freshness(NamedTuple):
    """How fresh a feed is: ``stale`` once its data (a forecast: its last delivery) is
    more than ``after_days`` days behind today; its ``cadence_days`` and where that comes
    from (``cadence_source``, :data:`CADENCE_SET` or :data:`CADENCE_LEARNED`; ``None``
    when neither is known yet), and the ``expected`` next data-through (a forecast: next
    delivery), when its cadence is known."""

    stale: bool
    after_days: int
    cadence_days: int | None = None
    cadence_source: str | None = None
    expected: dt.date | None = None


def feed_staleness(
    kind: str,
    data_through: dt.date | None,
    received_on: dt.date | None,
    today: dt.date,
    own_days: int | None,
    default_days: int,
    cadence_set: int | None = None,
    cadence_learned: int | None = None,
) -> Freshness:
    """Whether a feed is stale, and after how many days.

    A forecast's data runs weeks ahead, so its age is its last delivery's
    (``received_on``); every other feed ages by its data-through date. The feed's cadence
    is the one set on it, else the one learned from its deliveries: it is expected again a
    cadence after that date, and stale after the grace period that follows
    (:func:`grace_days`). A threshold set on the feed (``own_days``) still wins; a feed
    with neither is stale after ``default_days`` (a forecast after
    :data:`FORECAST_STALE_AFTER_DAYS`)."""
    since = received_on if kind == "forecasts" else data_through
    cadence = cadence_set or cadence_learned
    source = (CADENCE_SET if cadence_set else CADENCE_LEARNED) if cadence else None
    if own_days:
        after = own_days
    elif cadence:
        after = cadence + grace_days(cadence)
    elif kind == "forecasts":
        after = FORECAST_STALE_AFTER_DAYS
    else:
        after = default_days
    expected = since + dt.timedelta(days=cadence) if since and cadence else None
    return Freshness(is_stale(since, today, after), after, cadence, source, expected)
