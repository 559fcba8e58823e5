"""How long lists are ordered and cut into pages: natural order for codes people type
(store S2 before S10), sorts that keep rows without a value last, and page numbers.

Pure functions: the pages sort and page what a report computed once, so every page of a
list (and its download) shares one computation.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any, NamedTuple, TypeVar

T = TypeVar("T")

_DIGITS = re.compile(r"(\d+)")


@lru_cache(maxsize=16384)  # the same labels sort on every page view: a pure function's keys
def natural_key(text: str) -> tuple[tuple[Any, ...], str]:
    """A sort key that orders runs of digits by their value and ignores case: "S2" before
    "S10", "S10" before "S10A", "s3" between "S2" and "S10".

    The text splits into text and digit runs alternately (text first, maybe empty), so
    keys compare text with text and numbers with numbers; the text itself breaks ties
    ("S02" and "S2" differ).
    """
    parts = _DIGITS.split(text.strip().casefold())
    return tuple(int(p) if i % 2 else p for i, p in enumerate(parts)), text


def ordered(
    items: Sequence[T], key: Callable[[T], Any | None], descending: bool = False
) -> list[T]:
    """``items`` sorted by ``key``, ascending or descending; items whose key is None
    come last either way, in their given order (the sort is stable both ways)."""
    known = [i for i in items if key(i) is not None]
    unknown = [i for i in items if key(i) is None]
    return [*sorted(known, key=key, reverse=descending), *unknown]  # type: ignore[arg-type]


class Slice(NamedTuple):
    """One page of a list: its items, its number (1-based) and how many pages there are."""

    items: list[Any]
    page: int
    pages: int
    total: int


def page_of(items: Sequence[T], page: int, per_page: int) -> Slice:
    """Page ``page`` of ``items``, ``per_page`` a page; a page past the end is the last
    one (a list shrinks under a bookmarked link), and an empty list has one empty page."""
    pages = max(1, -(-len(items) // per_page))
    page = min(max(1, page), pages)
    start = (page - 1) * per_page
    return Slice(list(items[start : start + per_page]), page, pages, len(items))
