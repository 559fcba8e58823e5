"""The hub throttles sign-in itself, as the portal does, and `make run` turns its rate
limiter on (directus/process.py RATE_LIMITS; docker-compose.yml has the same, on Redis).

Partners may use the hub's REST API with their own login, so its /auth/login must not be
an open door for password guessing beside the portal's throttled sign-in page. The test
hubs of other modules run without the IP limiter (tests/helpers.py); the per-account
sign-in throttle of the integrity extension is always on.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from directus.process import RATE_LIMITS
from tandem import stack
from tandem.settings import StackSettings
from tests.factories import csrf_token, make_user

THROTTLED = "Too many failed sign-in attempts"


def _hub_login(url, email, password):
    body = {"email": email, "password": password}
    return requests.post(f"{url}/auth/login", json=body, timeout=30)


def _portal_login(app, member, password):
    client = app.test_client()
    client.environ_base["wsgi.url_scheme"] = "https"
    data = {"email": member.email, "password": password, "csrf_token": csrf_token(client)}
    return client.post("/login", data=data)


@pytest.fixture(scope="module")
def limited(start_migrated_hub):
    """A hub as `make run` starts it: its rate limiter on."""
    return start_migrated_hub(**RATE_LIMITS)


def test_make_run_starts_the_hub_with_its_rate_limiter(tmp_path, monkeypatch):
    seen = []

    class Recorder:
        def __init__(self, _install, config):
            seen.append(config)

        def bootstrap(self, *_args):
            database = Path(seen[-1].db["DB_FILENAME"])
            database.parent.mkdir(parents=True, exist_ok=True)
            database.touch()

    monkeypatch.setattr(stack, "ensure_installed", lambda _cache: None)
    monkeypatch.setattr(stack, "Hub", Recorder)
    settings = StackSettings.from_env({"TANDEM_STATE_DIR": str(tmp_path)})
    stack.hub_for(settings, stack.load_or_create_secrets(tmp_path))
    environment = seen[0].environment()
    assert {key: environment[key] for key in RATE_LIMITS} == RATE_LIMITS
    assert RATE_LIMITS["RATE_LIMITER_ENABLED"] == "true"


def test_direct_sign_in_is_refused_with_429_after_five_failures(limited, make_portal):
    admin = limited.admin()
    member = make_user(admin)
    for _ in range(6):  # successes do not count
        assert _hub_login(limited.url, member.email, member.password).status_code == 200
    for _ in range(5):
        assert _hub_login(limited.url, member.email, "wrong-password").status_code == 401
    refused = _hub_login(limited.url, member.email, member.password)
    assert refused.status_code == 429
    assert THROTTLED in refused.json()["errors"][0]["message"]
    # The portal, which has counted none of these failures, says the same.
    page = _portal_login(make_portal(limited), member, member.password)
    assert page.status_code == 429
    assert THROTTLED in page.get_data(as_text=True)
    # Another account is not affected.
    other = make_user(admin)
    assert _hub_login(limited.url, other.email, other.password).status_code == 200


def test_parallel_guesses_each_count(limited):
    member = make_user(limited.admin())
    with ThreadPoolExecutor(8) as pool:
        statuses = list(
            pool.map(
                lambda _: _hub_login(limited.url, member.email, "wrong-password").status_code,
                range(12),
            )
        )
    assert sorted(statuses) == [401] * 5 + [429] * 7


def test_the_hubs_ip_limiter_counts_every_request_and_ignores_forwarded_for(start_migrated_hub):
    small = start_migrated_hub(
        **{**RATE_LIMITS, "RATE_LIMITER_POINTS": "20", "RATE_LIMITER_DURATION": "60"}
    )
    session = requests.Session()
    statuses = [session.get(f"{small.url}/server/ping", timeout=30).status_code for _ in range(21)]
    first = statuses.index(429)  # the hub's start-up wait pinged it a few times too
    assert 10 <= first <= 20
    assert statuses[first:] == [429] * (21 - first)
    assert _hub_login(small.url, "a@b.example.com", "x").status_code == 429
    spoofed = {"X-Forwarded-For": "203.0.113.7"}
    assert session.get(f"{small.url}/server/ping", headers=spoofed, timeout=30).status_code == 429
