"""A supplier's commitments against a distributor's forecast: pure rules.

The distributor forecasts per SKU x location x ISO week; the supplier answers per SKU x
week for the pair as a whole (:data:`COLUMNS` in a workbook, or the comparison page's
form). A commitment is a whole number of units, 0 included (nothing committed), for a
week that is not frozen (:func:`domain.forecasts.frozen_reason`: inside the SKU's lead
time, or past). The rows of one upload are checked together: every error names its row
and column, and one SKU x week given twice is refused rather than one figure kept.

The comparison of forecast, commitment and actual sales, and the accuracy of a plan
(WAPE and bias as ../shared/notes/kpis.md defines them), are here too, exact.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from domain.forecasts import frozen_reason, week_label, week_start
from domain.promotions import RowError, blank, parse_gtin, parse_whole, text

#: The workbook's columns: the first three and the forecast and sales are the template's
#: reference (read, not stored); ``units`` and ``note`` are the supplier's answer.
COLUMNS = ("distributor", "gtin", "description", "week", "forecast_units", "units", "note")
REQUIRED = ("distributor", "gtin", "week", "units")
MAX_NOTE = 500
#: The most units one commitment may name (a hub integer, with room to spare).
MAX_UNITS = 100_000_000


@dataclass(frozen=True)
class Sku:
    id: int
    gtin: str
    description: str
    lead_time_days: int


@dataclass(frozen=True)
class Reference:
    """What a supplier's rows may name: its pairs by distributor name (any case) and its
    SKUs by GTIN."""

    pairs: Mapping[str, int]
    skus: Mapping[str, Sku]

    def pair(self, name: str) -> int | None:
        return self.pairs.get(name.strip().casefold())


@dataclass(frozen=True)
class Commitment:
    row: int
    pair: int
    sku: int
    week: dt.date
    units: int
    note: str | None

    @property
    def key(self) -> str:
        """The hub's key of this commitment (the integrity hook makes the same)."""
        return commitment_key(self.pair, self.sku, self.week)


@dataclass
class Checked:
    commitments: list[Commitment]
    errors: list[RowError]

    @property
    def clean(self) -> bool:
        return not self.errors

    def errors_by_row(self) -> dict[int, dict[str, list[str]]]:
        out: dict[int, dict[str, list[str]]] = {}
        for e in sorted(self.errors):
            out.setdefault(e.row, {}).setdefault(e.field, []).append(e.message)
        return out


def commitment_key(pair: int, sku: int, week: dt.date) -> str:
    return f"{pair}:{sku}:{week.isoformat()}"


def parse_week(value: Any) -> dt.date:
    """An ISO week's Monday from a date cell, ``YYYY-MM-DD`` text or an ISO week label
    (``2027-W03``); ValueError naming what is wrong (another day names its Monday)."""
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        value = value.isoformat()
    if not isinstance(value, str):
        raise ValueError(f"“{value}” is not a week: give its Monday or its ISO week (2027-W03)")
    return week_start(value)


def parse_units(value: Any) -> int:
    """Committed units: a whole number from 0 to :data:`MAX_UNITS`."""
    units = parse_whole(value)
    if not 0 <= units <= MAX_UNITS:
        raise ValueError(f"{units} is not a number of units (0 to {MAX_UNITS:,})")
    return units


def check_row(
    number: int, values: Mapping[str, Any], ref: Reference, today: dt.date
) -> tuple[Commitment | None, list[RowError]]:
    """One row's commitment, or the errors naming its fields."""
    errors: list[RowError] = []

    def bad(name: str, message: str) -> None:
        errors.append(RowError(number, name, message))

    for name in REQUIRED:
        if blank(values.get(name)):
            bad(name, "required")
    pair = sku = week = units = None
    if not blank(values.get("distributor")):
        pair = ref.pair(str(values["distributor"]))
        if pair is None:
            bad("distributor", f"“{text(values['distributor'])}” is not one of your distributors")
    if not blank(values.get("gtin")):
        try:
            sku = ref.skus.get(parse_gtin(values["gtin"]))
            if sku is None:
                bad("gtin", f"{parse_gtin(values['gtin'])} is not one of your SKUs")
        except ValueError as exc:
            bad("gtin", str(exc))
    if not blank(values.get("week")):
        try:
            week = parse_week(values["week"])
        except ValueError as exc:
            bad("week", str(exc))
    if not blank(values.get("units")):
        try:
            units = parse_units(values["units"])
        except ValueError as exc:
            bad("units", str(exc))
    note = text(values.get("note"))
    if note is not None and len(note) > MAX_NOTE:
        bad("note", f"{len(note)} characters; a note takes at most {MAX_NOTE}")
    if week is not None and sku is not None:
        reason = frozen_reason(week, today, sku.lead_time_days)
        if reason:
            bad("week", reason)
    if errors or pair is None or sku is None or week is None or units is None:
        return None, errors
    return Commitment(number, pair, sku.id, week, units, note), []


def check_rows(
    rows: Iterable[tuple[int, Mapping[str, Any]]], ref: Reference, today: dt.date
) -> Checked:
    """Every row's commitment, or every error; a row with no units and no note is a week
    not answered, and left out; a SKU x week given twice for one pair is refused on its
    later rows, naming the first."""
    found: list[Commitment] = []
    errors: list[RowError] = []
    first: dict[str, int] = {}
    for number, values in rows:
        if blank(values.get("units")) and blank(values.get("note")):
            continue  # a week the supplier does not answer (the template lists them all)
        made, problems = check_row(number, values, ref, today)
        errors += problems
        if made is None:
            continue
        if made.key in first:
            errors.append(
                RowError(
                    number,
                    "week",
                    f"{week_label(made.week)} of this SKU is already committed on row "
                    f"{first[made.key]}: give each SKU and week once",
                )
            )
            continue
        first[made.key] = number
        found.append(made)
    return Checked(found if not errors else [], errors)


# -- forecast, commitment and sales, side by side -----------------------------------------


def gap_pct(forecast: int | None, commitment: int | None) -> Decimal | None:
    """How far the commitment is from the forecast, in % of the forecast (None when
    either is missing, or the forecast is 0 and so is the commitment)."""
    if forecast is None or commitment is None:
        return None
    if forecast == 0:
        return None if commitment == 0 else Decimal(100)
    return (Decimal(commitment - forecast) * 100 / Decimal(forecast)).quantize(Decimal("0.1"))


def over_tolerance(gap: Decimal | None, tolerance_pct: Decimal) -> bool:
    """Whether a gap is beyond the pair's tolerance (either way)."""
    return gap is not None and abs(gap) > tolerance_pct


@dataclass(frozen=True)
class Accuracy:
    """A plan's accuracy over the weeks that have both a plan and sales.

    ``wape`` = Σ|A-F| ÷ ΣA (None when nothing sold); ``bias`` = mean(A-F) in units per
    week (positive: the plan was under what sold)."""

    weeks: int
    planned: int
    actual: int
    abs_error: int
    wape: Decimal | None
    bias: Decimal | None

    @property
    def accuracy(self) -> Decimal | None:
        """1 - WAPE (may be negative for a plan far off)."""
        return None if self.wape is None else 1 - self.wape


def accuracy(pairs: Sequence[tuple[int, int]]) -> Accuracy:
    """WAPE and bias of (planned, actual) pairs, one per SKU x week."""
    planned = sum(p for p, _ in pairs)
    actual = sum(a for _, a in pairs)
    abs_error = sum(abs(a - p) for p, a in pairs)
    wape = (Decimal(abs_error) / Decimal(actual)).quantize(Decimal("0.0001")) if actual else None
    bias = (
        (Decimal(actual - planned) / Decimal(len(pairs))).quantize(Decimal("0.01"))
        if pairs
        else None
    )
    return Accuracy(len(pairs), planned, actual, abs_error, wape, bias)
