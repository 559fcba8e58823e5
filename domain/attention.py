"""Setting a "Needs your attention" item aside: dismissed or snoozed, per user.

An item is known by a stable ``key`` (its kind and the record it points at,
:func:`item_key`) and carries a ``cause``: a fingerprint of what made it an item (a stale
feed's data-through date, a promotion's status and terms, the count of orders waiting,
a stock snapshot's day and how many stores are low, :func:`fingerprint`). A user sets
an item aside with the cause it had then:

- **dismissed**: hidden until its cause changes;
- **snoozed** (for :data:`SNOOZES`): hidden until the snooze ends or its cause changes,
  whichever comes first.

Pure: the caller passes the time (``domain.clock`` at the edges).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping
from typing import Any, NamedTuple

#: How long an item may be snoozed, by the name the form sends.
SNOOZES = {"snooze-day": dt.timedelta(days=1), "snooze-week": dt.timedelta(days=7)}
DISMISS = "dismiss"
#: What a user may do to an item: dismiss it, or snooze it for a day or a week.
ACTIONS = (DISMISS, *SNOOZES)


class SetAside(NamedTuple):
    """A user's choice about one item: the ``cause`` it had when set aside, and the end
    of its snooze (``until``; ``None`` when dismissed)."""

    cause: str
    until: dt.datetime | None


def item_key(kind: str, ref: Mapping[str, Any]) -> str:
    """An item's stable key: its kind and its reference, in a fixed order
    (``stale-feed:distributor=3,kind=pos``)."""
    return f"{kind}:" + ",".join(f"{name}={ref[name]}" for name in sorted(ref))


def fingerprint(*parts: object) -> str:
    """A short fingerprint of an item's cause: equal parts, equal fingerprints."""
    text = "\x1f".join("" if p is None else str(p) for p in parts)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def until(action: str, now: dt.datetime) -> dt.datetime | None:
    """When an item set aside by ``action`` comes back on its own: a snooze's end, or
    never (``None``) for a dismissal. ValueError for any other action."""
    if action == DISMISS:
        return None
    if action not in SNOOZES:
        raise ValueError(f"action {action!r}: one of {', '.join(ACTIONS)}")
    return now + SNOOZES[action]


def is_hidden(cause: str, aside: SetAside | None, now: dt.datetime) -> bool:
    """Whether an item whose cause is ``cause`` stays out of sight: set aside with that
    same cause, and dismissed or snoozed past ``now``."""
    if aside is None or aside.cause != cause:
        return False
    return aside.until is None or now < aside.until
