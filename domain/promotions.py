"""Promotion rules, pure: what a proposed promotion must pass, and how the rows of an
uploaded promotions workbook become promotions.

No I/O here: callers load the reference data (the user's partners, their SKUs, the
distributor's locations and its promotions already booked) and pass it in, with today.

The workbook's shape: one row per SKU x location. Rows with the same partner, name,
start date and end date form one promotion, which covers every SKU and every location
its rows name. Type, uplift and mechanics belong to the promotion: a later row may leave
them empty, but may not give a different value.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

TYPES = ("tpr", "display", "feature", "bogo", "bundle")
TYPE_LABELS = {
    "tpr": "Temporary price reduction",
    "display": "In-store display",
    "feature": "Feature (flyer or ad)",
    "bogo": "Buy one, get one",
    "bundle": "Bundle",
}
MAX_UPLIFT_PCT = 1000
MAX_NAME = 255
MAX_MECHANICS = 4000
MAX_SKUS = 500
MAX_LOCATIONS = 5000
#: Statuses in which a promotion holds its SKUs and locations for its dates.
BOOKING_STATUSES = frozenset({"draft", "submitted", "accepted"})

#: The workbook's columns, in the template's order.
COLUMNS = (
    "partner",
    "name",
    "type",
    "start_date",
    "end_date",
    "expected_uplift_pct",
    "mechanics",
    "sku_gtin",
    "location_code",
)
REQUIRED = ("partner", "name", "type", "start_date", "end_date", "sku_gtin", "location_code")
DATE_FORMS = "a date cell, or text written YYYY-MM-DD (e.g. 2026-03-31)"
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_WHOLE = re.compile(r"^-?\d+$")
_GTIN = re.compile(r"^\d{8,14}$")


@dataclass(frozen=True, order=True)
class RowError:
    """One problem in one workbook row: the row's number in the sheet and the column."""

    row: int
    field: str
    message: str


@dataclass(frozen=True)
class Partner:
    """A partnership the user may propose promotions in, named by the supplier's name."""

    pair: int
    supplier: int
    name: str


@dataclass(frozen=True)
class Sku:
    id: int
    gtin: str
    supplier: int
    lead_time_days: int
    description: str = ""
    #: The distributor's own item code for it, if it has one.
    code: str = ""

    @property
    def label(self) -> str:
        """How pages and messages name it: item code, GTIN and name, never its id."""
        return " · ".join(part for part in (self.code, self.gtin, self.description) if part)


@dataclass(frozen=True)
class Location:
    id: int
    code: str
    name: str = ""

    @property
    def label(self) -> str:
        """How pages and messages name it: code and name, never its id."""
        return " · ".join(part for part in (self.code, self.name) if part)


@dataclass(frozen=True)
class Booked:
    """A promotion already in the hub that holds its SKUs and locations for its dates."""

    id: int
    name: str
    start: dt.date
    end: dt.date
    skus: frozenset[int]
    #: Empty means every location of the distributor.
    locations: frozenset[int]


@dataclass(frozen=True)
class Reference:
    """What the rules check a proposal against, as the user may see it."""

    partners: tuple[Partner, ...]
    skus: tuple[Sku, ...]
    locations: tuple[Location, ...]
    booked: tuple[Booked, ...] = ()

    @cached_property
    def partners_by_name(self) -> dict[str, list[Partner]]:
        out: dict[str, list[Partner]] = {}
        for p in self.partners:
            out.setdefault(p.name.strip().casefold(), []).append(p)
        return out

    @cached_property
    def skus_by_gtin(self) -> dict[str, Sku]:
        return {s.gtin: s for s in self.skus}

    @cached_property
    def skus_by_id(self) -> dict[int, Sku]:
        return {s.id: s for s in self.skus}

    @cached_property
    def locations_by_code(self) -> dict[str, Location]:
        return {loc.code.strip().casefold(): loc for loc in self.locations}

    @cached_property
    def locations_by_id(self) -> dict[int, Location]:
        return {loc.id: loc for loc in self.locations}

    @cached_property
    def supplier_names(self) -> dict[int, str]:
        return {p.supplier: p.name for p in self.partners}


@dataclass(frozen=True)
class Line:
    """One workbook row, parsed and matched to the reference data."""

    row: int
    partner: Partner
    name: str
    type: str | None
    start: dt.date
    end: dt.date
    uplift: int | None
    mechanics: str | None
    sku: Sku
    location: Location

    @property
    def key(self) -> tuple[int, str, dt.date, dt.date]:
        return (self.partner.pair, self.name, self.start, self.end)


@dataclass
class Planned:
    """One promotion a workbook proposes: the rows that make it, and its terms."""

    partner: Partner
    name: str
    start: dt.date
    end: dt.date
    type: str | None = None
    uplift: int | None = None
    mechanics: str | None = None
    skus: dict[int, Sku] = field(default_factory=dict)
    locations: dict[int, Location] = field(default_factory=dict)
    rows: list[int] = field(default_factory=list)
    sku_rows: dict[int, int] = field(default_factory=dict)  # sku id -> first row naming it
    location_rows: dict[int, int] = field(default_factory=dict)

    def as_create(self, status: str = "submitted") -> dict[str, Any]:
        """The promotion as the create schema takes it (dates as ISO text)."""
        return {
            "partnership": self.partner.pair,
            "name": self.name,
            "type": self.type,
            "mechanics": self.mechanics,
            "start_date": self.start.isoformat(),
            "end_date": self.end.isoformat(),
            "expected_uplift_pct": self.uplift,
            "status": status,
            "skus": list(self.skus),
            "locations": list(self.locations),
        }


@dataclass
class Checked:
    """The outcome of checking a workbook's rows: promotions to create, or errors."""

    promotions: list[Planned]
    errors: list[RowError]

    @property
    def clean(self) -> bool:
        return not self.errors

    def errors_by_row(self) -> dict[int, dict[str, list[str]]]:
        out: dict[int, dict[str, list[str]]] = {}
        for e in sorted(self.errors):
            out.setdefault(e.row, {}).setdefault(e.field, []).append(e.message)
        return out


# -- values ---------------------------------------------------------------------------


def blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def parse_date(value: Any) -> dt.date:
    """A date from a date cell or ISO ``YYYY-MM-DD`` text; ValueError says what is accepted."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str) and _ISO_DATE.match(value.strip()):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(f"“{value.strip()}” is not a real date") from None
    shown = value.strip() if isinstance(value, str) else value
    raise ValueError(f"“{shown}” is not a date: use {DATE_FORMS}")


def parse_whole(value: Any) -> int:
    """A whole number from a number cell or digits; ValueError otherwise."""
    if isinstance(value, bool):
        raise ValueError(f"“{value}” is not a whole number")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and _WHOLE.match(value.strip()):
        return int(value.strip())
    raise ValueError(f"“{value}” is not a whole number")


def parse_gtin(value: Any) -> str:
    """A GTIN as the hub keeps it (14 digits), from text or a number cell."""
    if isinstance(value, bool):
        raise ValueError(f"“{value}” is not a GTIN")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and 0 < value < 10**14:
        # A number cell lost the GTIN's leading zeros: put them back.
        return str(value).zfill(14)
    text = str(value).strip()
    if not _GTIN.match(text):
        raise ValueError(f"“{text}” is not a GTIN (8 to 14 digits)")
    return text.zfill(14)


def text(value: Any) -> str | None:
    """A cell as trimmed text, None when empty."""
    if blank(value):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def uplift_error(value: int | None) -> str | None:
    if value is not None and not 0 <= value <= MAX_UPLIFT_PCT:
        return f"{value} is out of range: give 0 to {MAX_UPLIFT_PCT} (per cent)"
    return None


# -- the rules on one promotion ---------------------------------------------------------


def overlaps(a_start: dt.date, a_end: dt.date, b_start: dt.date, b_end: dt.date) -> bool:
    """Whether two inclusive date ranges share at least one day."""
    return a_start <= b_end and b_start <= a_end


def by_region(regions: Iterable[str | None]) -> list[tuple[str | None, int]]:
    """How many of a promotion's locations lie in each region: (region, count), most
    locations first, then by name; ``None`` (locations with no region) comes last."""
    counts: dict[str | None, int] = {}
    for region in regions:
        key = region.strip() if region and region.strip() else None
        counts[key] = counts.get(key, 0) + 1
    return sorted(counts.items(), key=lambda rc: (rc[0] is None, -rc[1], rc[0] or ""))


def date_errors(
    start: dt.date, end: dt.date, today: dt.date, skus: Iterable[Sku]
) -> list[tuple[str, str]]:
    """(field, message) for reversed dates, a start in the past or inside a lead time.

    A promotion must start no earlier than today plus the longest lead time of its SKUs,
    so the supplier can ship for it.
    """
    found: list[tuple[str, str]] = []
    if end < start:
        found.append(("end_date", f"{end} is before the start date {start}"))
    if start < today:
        found.append(("start_date", f"{start} is in the past (today is {today})"))
        return found
    slowest = max(skus, key=lambda s: (s.lead_time_days, s.gtin), default=None)
    if slowest is not None:
        earliest = today + dt.timedelta(days=slowest.lead_time_days)
        if start < earliest:
            found.append(
                (
                    "start_date",
                    f"{start} is inside the supplier's lead time for SKU {slowest.label} "
                    f"({slowest.lead_time_days} days): start on or after {earliest}",
                )
            )
    return found


def booked_clash(
    start: dt.date,
    end: dt.date,
    skus: Iterable[int],
    locations: Iterable[int],
    booked: Iterable[Booked],
    exclude: int | None = None,
) -> list[tuple[Booked, int, int | None]]:
    """Booked promotions this one would overlap: (booked, sku, location or None for all).

    An overlap is the same SKU at the same location on at least one common day; a booked
    promotion without locations holds every location.
    """
    sku_set, location_set = set(skus), set(locations)
    found = []
    for b in booked:
        if b.id == exclude or not overlaps(start, end, b.start, b.end):
            continue
        common_skus = sorted(sku_set & b.skus)
        if not common_skus:
            continue
        if not b.locations:
            found.append((b, common_skus[0], min(location_set) if location_set else None))
            continue
        if not location_set:  # this one holds every location
            found.append((b, common_skus[0], min(b.locations)))
            continue
        common = sorted(location_set & b.locations)
        if common:
            found.append((b, common_skus[0], common[0]))
    return found


def describe_clash(b: Booked, sku: Sku | None, location: Location | None) -> str:
    where = f"at store {location.label}" if location else "at every store"
    what = f"SKU {sku.label}" if sku else "a SKU"
    return f"overlaps promotion “{b.name}” ({b.start} to {b.end}) for {what} {where}"


def check_terms(
    *,
    start: dt.date,
    end: dt.date,
    today: dt.date,
    skus: Sequence[int],
    locations: Sequence[int],
    ref: Reference,
    exclude: int | None = None,
) -> dict[str, list[str]]:
    """The rules a promotion proposed through the form must pass, as field -> messages.

    SKUs or locations not in ``ref`` are left to the data layer, which refuses them.
    """
    errors: dict[str, list[str]] = {}
    known = [ref.skus_by_id[i] for i in skus if i in ref.skus_by_id]
    for name, message in date_errors(start, end, today, known):
        errors.setdefault(name, []).append(message)
    for b, sku, location in booked_clash(start, end, skus, locations, ref.booked, exclude):
        message = describe_clash(
            b, ref.skus_by_id.get(sku), ref.locations_by_id.get(location or -1)
        )
        errors.setdefault("start_date", []).append(message)
    return errors


# -- the workbook's rows ------------------------------------------------------------------


def parse_row(
    number: int, values: Mapping[str, Any], ref: Reference, today: dt.date
) -> tuple[Line | None, list[RowError]]:
    """One workbook row as a :class:`Line`, or None and every problem it has."""
    errors: list[RowError] = []

    def bad(name: str, message: str) -> None:
        errors.append(RowError(number, name, message))

    for name in REQUIRED:
        if blank(values.get(name)):
            bad(name, "required")

    partner = None
    if not blank(values.get("partner")):
        label = str(values["partner"]).strip()
        matches = ref.partners_by_name.get(label.casefold(), [])
        if len(matches) == 1:
            partner = matches[0]
        elif matches:
            bad("partner", f"“{label}” names more than one partnership")
        else:
            names = ", ".join(sorted(p.name for p in ref.partners)) or "none"
            bad("partner", f"“{label}” is not one of your suppliers ({names})")

    name = text(values.get("name"))
    if name is not None and len(name) > MAX_NAME:
        bad("name", f"is {len(name)} characters long; the most is {MAX_NAME}")

    kind = text(values.get("type"))
    if kind is not None:
        kind = kind.lower()
        if kind not in TYPES:
            bad("type", f"“{values['type']}” is not a type: use one of {', '.join(TYPES)}")

    dates: dict[str, dt.date] = {}
    for name_ in ("start_date", "end_date"):
        if not blank(values.get(name_)):
            try:
                dates[name_] = parse_date(values[name_])
            except ValueError as exc:
                bad(name_, str(exc))

    uplift = None
    if not blank(values.get("expected_uplift_pct")):
        try:
            uplift = parse_whole(values["expected_uplift_pct"])
        except ValueError as exc:
            bad("expected_uplift_pct", str(exc))
        else:
            problem = uplift_error(uplift)
            if problem:
                bad("expected_uplift_pct", problem)

    mechanics = text(values.get("mechanics"))
    if mechanics is not None and len(mechanics) > MAX_MECHANICS:
        bad("mechanics", f"is {len(mechanics)} characters long; the most is {MAX_MECHANICS}")

    sku = None
    if not blank(values.get("sku_gtin")):
        try:
            gtin = parse_gtin(values["sku_gtin"])
        except ValueError as exc:
            bad("sku_gtin", str(exc))
        else:
            sku = ref.skus_by_gtin.get(gtin)
            if sku is None:
                bad("sku_gtin", f"unknown SKU: no SKU of your suppliers has GTIN {gtin}")
            elif partner is not None and sku.supplier != partner.supplier:
                owner = ref.supplier_names.get(sku.supplier, "another supplier")
                bad("sku_gtin", f"SKU {sku.label} belongs to {owner}, not {partner.name}")
                sku = None

    location = None
    if not blank(values.get("location_code")):
        code = str(text(values["location_code"]))
        location = ref.locations_by_code.get(code.casefold())
        if location is None:
            bad("location_code", f"unknown location: you have no location with code “{code}”")

    if "start_date" in dates and "end_date" in dates:
        for name_, message in date_errors(
            dates["start_date"], dates["end_date"], today, [sku] if sku else []
        ):
            bad(name_, message)

    if errors or partner is None or name is None or sku is None or location is None:
        return None, errors
    return (
        Line(
            row=number,
            partner=partner,
            name=name,
            type=kind,
            start=dates["start_date"],
            end=dates["end_date"],
            uplift=uplift,
            mechanics=mechanics,
            sku=sku,
            location=location,
        ),
        errors,
    )


def _merge_term(plan: Planned, line: Line, attr: str, column: str, value: Any) -> RowError | None:
    """Keep one value of a promotion's term; a later row may omit it, not change it."""
    if value is None:
        return None
    current = getattr(plan, attr)
    if current is None:
        setattr(plan, attr, value)
        return None
    if current != value:
        first = plan.rows[0]
        message = f"“{value}” differs from “{current}” in row {first} of the same promotion"
        return RowError(line.row, column, message)
    return None


def plan_lines(lines: Sequence[Line]) -> tuple[list[Planned], list[RowError]]:
    """Group rows into promotions (partner + name + dates) and merge their terms."""
    plans: dict[tuple[int, str, dt.date, dt.date], Planned] = {}
    errors: list[RowError] = []
    for line in lines:
        plan = plans.get(line.key)
        if plan is None:
            plan = plans[line.key] = Planned(line.partner, line.name, line.start, line.end)
        plan.rows.append(line.row)
        for attr, column, value in (
            ("type", "type", line.type),
            ("uplift", "expected_uplift_pct", line.uplift),
            ("mechanics", "mechanics", line.mechanics),
        ):
            problem = _merge_term(plan, line, attr, column, value)
            if problem:
                errors.append(problem)
        if line.sku.id not in plan.skus:
            if len(plan.skus) >= MAX_SKUS:
                message = f"a promotion covers at most {MAX_SKUS} SKUs"
                errors.append(RowError(line.row, "sku_gtin", message))
            plan.skus[line.sku.id] = line.sku
            plan.sku_rows[line.sku.id] = line.row
        if line.location.id not in plan.locations:
            if len(plan.locations) >= MAX_LOCATIONS:
                message = f"a promotion covers at most {MAX_LOCATIONS} locations"
                errors.append(RowError(line.row, "location_code", message))
            plan.locations[line.location.id] = line.location
            plan.location_rows[line.location.id] = line.row
    return list(plans.values()), errors


def _clash_errors(plans: Sequence[Planned], ref: Reference) -> list[RowError]:
    """Overlaps with booked promotions and between the workbook's own promotions."""
    errors: list[RowError] = []
    for index, plan in enumerate(plans):
        for b, sku, location in booked_clash(
            plan.start, plan.end, plan.skus, plan.locations, ref.booked
        ):
            loc = plan.locations.get(location) if location is not None else None
            errors.append(
                RowError(plan.sku_rows[sku], "start_date", describe_clash(b, plan.skus[sku], loc))
            )
        for earlier in plans[:index]:
            if not overlaps(plan.start, plan.end, earlier.start, earlier.end):
                continue
            common_skus = [s for s in plan.skus if s in earlier.skus]
            common_locations = [loc for loc in plan.locations if loc in earlier.locations]
            if not common_skus or not common_locations:
                continue
            sku, location = common_skus[0], plan.locations[common_locations[0]]
            errors.append(
                RowError(
                    plan.sku_rows[sku],
                    "start_date",
                    f"overlaps the promotion of row {earlier.rows[0]} (“{earlier.name}”, "
                    f"{earlier.start} to {earlier.end}) for SKU {plan.skus[sku].label} at "
                    f"store {location.label}",
                )
            )
    return errors


def check_rows(
    rows: Sequence[tuple[int, Mapping[str, Any]]], ref: Reference, today: dt.date
) -> Checked:
    """Check a workbook's rows (sheet row number, column -> cell value) against ``ref``.

    Every problem is reported with its row and column; the promotions are only good to
    create when there are none.
    """
    lines: list[Line] = []
    errors: list[RowError] = []
    for number, values in rows:
        line, problems = parse_row(number, values, ref, today)
        errors.extend(problems)
        if line is not None:
            lines.append(line)
    plans, problems = plan_lines(lines)
    errors.extend(problems)
    for plan in plans:
        if plan.type is None:  # every row names its type, so this is only a safety net
            errors.append(RowError(plan.rows[0], "type", "required"))
    errors.extend(_clash_errors(plans, ref))
    return Checked(plans, sorted(set(errors)))
