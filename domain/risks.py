"""The risk register's arithmetic (kpis.md): likelihood 1-5 x impact 1-5 = score, banded
for the heat map, and when a review is overdue."""

from __future__ import annotations

import datetime as dt

SCALE = range(1, 6)
#: Score bands, lowest first: (the highest score in the band, its name).
BANDS = ((4, "low"), (9, "medium"), (16, "high"), (25, "critical"))
OPEN = ("open", "mitigating")


def score(likelihood: int, impact: int) -> int:
    """Likelihood x impact; each must be 1 to 5."""
    for name, value in (("likelihood", likelihood), ("impact", impact)):
        if value not in SCALE:
            raise ValueError(f"{name}: expected 1 to 5, found {value}")
    return likelihood * impact


def band(value: int) -> str:
    """The band of a score from 1 to 25."""
    for top, name in BANDS:
        if value <= top:
            return name
    raise ValueError(f"score: expected 1 to 25, found {value}")


def review_overdue(status: str, review_date: dt.date | None, today: dt.date) -> bool:
    """An open risk whose review date has passed (or that has none) is overdue."""
    return status in OPEN and (review_date is None or review_date < today)
