"""The one clock: what "now" and "today" are for the portal, the jobs and the tools.

Everything that needs the current time asks here, so a test pins one thing (with
``time-machine``) and every part of Tandem agrees on the day. Rules elsewhere in
``domain`` never read it: they take the day as an argument, and the edges (views, jobs,
commands) pass it in; only the EDI writers stamp an envelope with it when given no
time. "Today" is the UTC date, as the hub stores dates.
"""

from __future__ import annotations

import datetime as dt


def now() -> dt.datetime:
    """The current instant, timezone-aware, in UTC."""
    return dt.datetime.now(dt.UTC)


def today() -> dt.date:
    """Today's date in UTC."""
    return now().date()
