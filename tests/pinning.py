"""Pinned days: the tests' one clock, shared by Python and the hub.

Tandem takes "now" and "today" from :mod:`domain.clock`, which ``time-machine`` pins in
this process. The hub evaluates ``$NOW`` itself (a sharing agreement is in force while
``valid_from <= $NOW``), so a pinned test also needs a hub that agrees: its Node process
runs under Debian's libfaketime with a *relative* offset (the pinned instant minus the
real one), so it ticks with the pinned Python clock however late it starts.

Use :func:`pinned_hub` for a module of date-dependent assertions::

    @pytest.fixture(scope="module", params=["2026-11-30", "2027-01-03"])
    def hub(request, start_migrated_hub):
        with pinned_hub(start_migrated_hub, dt.date.fromisoformat(request.param)) as running:
            yield running
"""

from __future__ import annotations

import contextlib
import datetime as dt
import email.utils
import platform
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests
import time_machine

from domain import clock
from tests.helpers import RunningHub

#: The time of day a pinned day starts at: a module's minutes never cross midnight.
PINNED_AT = dt.time(12, 0, tzinfo=dt.UTC)

#: How far the hub's clock may be from the pinned one (request latency, rounding).
HUB_CLOCK_SLACK_S = 30

#: Where Debian puts libfaketime (the pthread-safe build first: Node is multi-threaded).
LIBFAKETIME = tuple(
    Path(folder) / name
    for folder in (
        f"/usr/lib/{platform.machine()}-linux-gnu/faketime",
        "/usr/lib/faketime",
        "/usr/local/lib/faketime",
    )
    for name in ("libfaketimeMT.so.1", "libfaketime.so.1")
)


def libfaketime() -> Path:
    """The preload library that shifts the hub's clock; fails the test clearly if missing."""
    for path in LIBFAKETIME:
        if path.exists():
            return path
    pytest.fail(
        "libfaketime is missing, so the hub cannot be pinned to the test's day: install "
        "Debian's faketime (`sudo apt-get install faketime`; `make test` does it). Looked for "
        + ", ".join(str(p) for p in LIBFAKETIME)
    )


def real_now() -> dt.datetime:
    """The wall clock, whatever time-machine pins."""
    return dt.datetime.fromtimestamp(time_machine.escape_hatch.time.time(), dt.UTC)  # clock-ok


def hub_clock_env() -> dict[str, str]:
    """The environment that makes a hub started now agree with :func:`domain.clock.now`.

    The offset is relative (``FAKETIME="-123456"``: seconds from the real clock), so the
    hub's clock ticks at the real rate, as time-machine's ``tick=True`` does. The
    monotonic clock stays real (timers and timeouts must not jump), and so do file
    times (``NO_FAKE_STAT``).
    """
    offset = round((clock.now() - real_now()).total_seconds())
    return {
        "LD_PRELOAD": str(libfaketime()),
        "FAKETIME": f"{offset:+d}",
        "FAKETIME_DONT_FAKE_MONOTONIC": "1",
        "NO_FAKE_STAT": "1",
    }


def hub_now(running: RunningHub) -> dt.datetime:
    """The hub's clock, from its answer's ``Date`` header (Node's ``new Date()``)."""
    response = requests.get(f"{running.url}/server/ping", timeout=10)
    response.raise_for_status()
    return email.utils.parsedate_to_datetime(response.headers["Date"])


def check_hub_clock(running: RunningHub) -> None:
    """Fail clearly unless the hub's clock agrees with the tests' one."""
    theirs, ours = hub_now(running), clock.now()
    if abs((theirs - ours).total_seconds()) > HUB_CLOCK_SLACK_S:
        pytest.fail(
            f"the hub's clock says {theirs:%Y-%m-%d %H:%M:%S}, the tests' {ours:%Y-%m-%d %H:%M:%S}:"
            " libfaketime did not reach the hub's Node process (check LD_PRELOAD in "
            f"HubConfig.environment); the hub's log is {running.hub.config.log_path}"
        )


@contextlib.contextmanager
def pinned(day: dt.date) -> Iterator[dt.datetime]:
    """Pin this process's clock to ``day`` at noon UTC, ticking from there."""
    instant = dt.datetime.combine(day, PINNED_AT)
    with time_machine.travel(instant, tick=True):
        yield instant


def later(**delta: float) -> time_machine.travel:
    """This process's clock moved on by ``delta`` (``timedelta``'s arguments) from the
    pinned one; a hub started under the pin keeps its own, so only rules this process
    applies see the move."""
    return time_machine.travel(clock.now() + dt.timedelta(**delta))


@contextlib.contextmanager
def pinned_hub(start: Callable[..., RunningHub], day: dt.date) -> Iterator[RunningHub]:
    """Pin the clock to ``day`` and start a migrated hub that agrees with it.

    ``start`` is a ``start_migrated_hub`` (or ``start_hub``) fixture. The clock stays
    pinned, and the hub runs, until the block ends; then the hub is stopped (its
    database is a throwaway copy).
    """
    with pinned(day):
        running = start(**hub_clock_env())
        try:
            check_hub_clock(running)
            yield running
        finally:
            running.hub.stop()


def module_hub(day: dt.date) -> tuple[Callable[..., object], Callable[..., object]]:
    """A module's ``hub`` and ``admin`` fixtures: one hub pinned to ``day`` for the whole
    module. Use as ``hub, admin = module_hub(TODAY)``."""

    @pytest.fixture(scope="module")
    def hub(start_migrated_hub: Callable[..., RunningHub]) -> Iterator[RunningHub]:
        with pinned_hub(start_migrated_hub, day) as running:
            yield running

    @pytest.fixture(scope="module")
    def admin(hub: RunningHub) -> object:
        return hub.admin()

    return hub, admin
