"""A PostgreSQL test that skips under CI=true fails the run (tests/ci_skips.py)."""

from __future__ import annotations

import pytest

pytest_plugins = ("pytester",)

PROBE = """
import pytest

@pytest.mark.postgres
def test_on_postgres():
    pytest.skip("PostgreSQL is not installed")

def test_elsewhere():
    pytest.skip("not this machine's business")

@pytest.mark.postgres
def test_runs():
    pass
"""


@pytest.fixture
def probe(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeconftest('pytest_plugins = ("tests.ci_skips",)')
    pytester.makepyfile(test_probe=PROBE)
    return pytester


@pytest.mark.parametrize("value", ["true", "TRUE", "1"])
def test_under_ci_a_skipped_postgres_test_fails_the_run(probe, monkeypatch, value):
    monkeypatch.setenv("CI", value)
    result = probe.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1, skipped=1, passed=1)
    result.stdout.fnmatch_lines(["*test skipped under CI=true*not installed*"])
    assert result.ret == pytest.ExitCode.TESTS_FAILED


@pytest.mark.parametrize("value", [None, "", "false"])
def test_elsewhere_it_is_a_skip_that_says_why(probe, monkeypatch, value):
    if value is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", value)
    result = probe.runpytest("-p", "no:cacheprovider", "-rs")
    result.assert_outcomes(skipped=2, passed=1)
    result.stdout.fnmatch_lines(["*PostgreSQL is not installed*"])
    assert result.ret == pytest.ExitCode.OK
