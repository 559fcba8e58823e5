"""Under CI, the tests of Debian's servers run: a skip of one fails the run instead of
passing quietly.

Tests marked ``postgres`` (tests/test_bulk_postgres.py) skip, saying why, where no
PostgreSQL server can be started (no ``initdb``, say); tests marked ``servers`` likewise
where Redis or HAProxy is missing. On a developer's machine that is
fine; in CI (``CI=true``, as CI services set it) it would hide that the PostgreSQL code
never ran, so such a skip is reported as a failure there. ``make test`` installs
Debian's PostgreSQL where it can (see the Makefile).
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

MARKS = {
    "postgres": "needs a PostgreSQL server",
    "servers": "needs Debian's Redis or HAProxy",
}


def in_ci() -> bool:
    """Whether this run is CI's: ``CI`` set to ``true`` (or ``1``)."""
    return os.environ.get("CI", "").strip().lower() in ("true", "1")


def pytest_configure(config: pytest.Config) -> None:
    for mark, needs in MARKS.items():
        config.addinivalue_line("markers", f"{mark}: {needs}; under CI=true a skip fails the run")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report: pytest.TestReport = outcome.get_result()
    marked = any(item.get_closest_marker(mark) for mark in MARKS)
    if not (report.skipped and marked and in_ci()):
        return
    if hasattr(report, "wasxfail"):
        return
    reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
    report.outcome = "failed"
    report.longrepr = f"a server's test skipped under CI=true, where it must run: {reason}"
