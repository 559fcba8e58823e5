"""Weekly forecasts and what may still change: pure rules.

A forecast is per SKU x location x ISO week (its Monday). A delivered week is that
Monday or the ISO week's label (``2026-W50``), never another day: a Sunday might start a
retailer's week or end an ISO one, and a forecast put in the wrong week is worse than a
refused line.

**Frozen periods.** An order placed today arrives after the SKU's lead time, so the
weeks that start before then can no longer be served by a change of plan: they are
frozen, and a forecast or commitment for them is refused. The first open week is the
first Monday on or after ``today + lead time``.
"""

from __future__ import annotations

import datetime as dt
import re

_ISO_WEEK = re.compile(r"(\d{4})-?W(\d{2})")


def week_start(text: str, date_format: str = "%Y-%m-%d") -> dt.date:
    """The Monday a delivered week names: the Monday itself (in ``date_format``, or ISO)
    or an ISO week label (``2026-W50`` or ``2026W50``). ValueError saying what is wrong."""
    value = text.strip()
    label = _ISO_WEEK.fullmatch(value.upper())
    if label:
        year, week = int(label[1]), int(label[2])
        try:
            return dt.date.fromisocalendar(year, week, 1)
        except ValueError:
            raise ValueError(f"{value!r}: {year} has no ISO week {week}") from None
    day = None
    for fmt in (date_format, "%Y-%m-%d"):
        try:
            day = dt.datetime.strptime(value, fmt).date()
            break
        except ValueError:
            continue
    if day is None:
        raise ValueError(
            f"{value!r} is not a week: give its Monday ({date_format}) or its ISO week "
            "(e.g. 2026-W50)"
        )
    if day.weekday() != 0:
        monday = day - dt.timedelta(days=day.weekday())
        raise ValueError(
            f"{value} is a {day:%A}, not a Monday: a forecast week is an ISO week; give its "
            f"Monday (the week holding {value} starts {monday}) or its label "
            f"({week_label(monday)})"
        )
    return day


def week_label(monday: dt.date) -> str:
    year, week, _ = monday.isocalendar()
    return f"{year}-W{week:02d}"


def first_open_week(today: dt.date, lead_days: int) -> dt.date:
    """The first week a forecast or commitment may still change: the first Monday on or
    after ``today + lead_days``."""
    arrives = today + dt.timedelta(days=max(lead_days, 0))
    return arrives + dt.timedelta(days=(7 - arrives.weekday()) % 7)


def is_frozen(monday: dt.date, today: dt.date, lead_days: int) -> bool:
    """Whether the week of ``monday`` is inside the SKU's lead time (or past)."""
    return monday < first_open_week(today, lead_days)


def frozen_reason(monday: dt.date, today: dt.date, lead_days: int) -> str | None:
    """Why the week of ``monday`` can no longer change, or None while it is open. The
    hub's integrity hook says the same for a commitment (tandem-integrity/frozen.js)."""
    opens = first_open_week(today, lead_days)
    if monday >= opens:
        return None
    return (
        f"{week_label(monday)} is frozen: it starts before {opens} ({max(lead_days, 0)} "
        f"days' lead time from {today}), so it can no longer change"
    )


#: The horizons, in weeks, a plan's accuracy is measured at: the figure as it stood that
#: many whole weeks before its week began. The bulk lane keeps a forecast's (the
#: ``forecast_h<n>`` fields), the hub's integrity hook a commitment's (``units_h<n>``).
HORIZONS = (1, 2, 4, 8)


def horizons_ahead(monday: dt.date, day: dt.date) -> tuple[int, ...]:
    """The horizons a figure given on ``day`` for the week of ``monday`` stands for: those
    no longer than the whole weeks from ``day`` to ``monday``."""
    weeks = (monday - day).days // 7
    return tuple(h for h in HORIZONS if h <= weeks)
