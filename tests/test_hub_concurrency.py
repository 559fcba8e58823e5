"""Concurrent writes through the portal into one SQLite hub: none fails, none is lost.

The hub keeps four SQLite connections (``directus.process.SQLITE_READERS``) and the bulk
lane writes into the same file from another process. Seen under four concurrent API
clients: ``SQLITE_BUSY`` at once, and two audit entries of refused writes lost (a
transaction begun deferred reads, then cannot write once another connection has committed;
the tandem-integrity extension now begins them IMMEDIATE). Each test starts its requests
together (a barrier) and then counts what the hub stored, exactly.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import secrets
import threading
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask

from directus.bulk import open_lane, write_rows
from domain import clock
from migrations.accounts import PORTAL_AUTH_EMAIL, set_service_token
from portal import Config, create_app
from portal.sealing import seal, unseal
from portal.tokens import _fernet
from tests.test_api import Browser, TokenClient
from tests.world import World, world_for

#: How long one request of a burst may take before the burst counts as stuck.
REQUEST_TIMEOUT_S = 120


@pytest.fixture(scope="module")
def world(hub, admin) -> World:
    return world_for(hub, admin, "concurrency")


@pytest.fixture(scope="module")
def app(hub, admin, portal_auth_token) -> Flask:
    set_service_token(admin, PORTAL_AUTH_EMAIL, portal_auth_token)
    app = create_app(
        Config(
            secret_key=secrets.token_urlsafe(48),
            hub_url=hub.url,
            portal_auth_token=portal_auth_token,
        )
    )
    app.testing = True
    return app


@pytest.fixture(scope="module")
def browsers(app, world) -> dict[str, Browser]:
    return {who: Browser(app, world, who) for who in ("acme", "brava", "north", "south")}


def burst(calls: list[Callable[[], Any]]) -> list[Any]:
    """Run every call in its own thread, all released at once; their results in order.

    An exception in a call is its result (the test counts it), not a crash of the burst.
    """
    start = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(index: int, call: Callable[[], Any]) -> None:
        start.wait(timeout=30)
        try:
            results[index] = call()
        except Exception as exc:  # counted by the test
            results[index] = exc

    threads = [threading.Thread(target=run, args=item) for item in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=REQUEST_TIMEOUT_S)
    assert not any(t.is_alive() for t in threads), "a request of the burst never finished"
    return results


def own_client(app: Flask, token: TokenClient) -> TokenClient:
    """The same token on a test client of its own (a test client is not shared by threads)."""
    clone = copy.copy(token)
    clone.client = app.test_client()
    clone.client.environ_base["wsgi.url_scheme"] = "https"
    return clone


def submitted_promotion(world: World, name: str) -> int:
    """A promotion north submitted to acme, waiting for acme's answer."""
    window = {
        "start_date": (world.today + dt.timedelta(days=30)).isoformat(),
        "end_date": (world.today + dt.timedelta(days=37)).isoformat(),
    }
    pair = world.pairs["acme-north"]
    row = world.admin.create_item(
        "promotions",
        {"name": name, "type": "tpr", "status": "submitted", "partnership": pair, **window},
        fields=["id"],
    )
    world.admin.create_item(
        "promotion_events",
        {
            "promotion": row["id"],
            "partnership": pair,
            "status": "submitted",
            "at": clock.now().isoformat(),
        },
    )
    return int(row["id"])


def due_for_refresh(world: World, token: TokenClient) -> None:
    """Make the token's sealed hub session due for refresh on its next use."""
    token_id, secret = token.token.removeprefix("tdm_").split("_", 1)
    fernet = _fernet(token_id, secret)
    row = world.admin.read_item("api_tokens", token_id, fields=["sealed"])
    opened = unseal(fernet, row["sealed"])
    assert opened is not None
    expired = dataclasses.replace(opened.tokens, expires_at=0.0)
    world.admin.update_item(
        "api_tokens", token_id, {"sealed": seal(fernet, opened.user_id, expired)}
    )


def sealed_expiry(world: World, token: TokenClient) -> float:
    token_id, secret = token.token.removeprefix("tdm_").split("_", 1)
    row = world.admin.read_item("api_tokens", token_id, fields=["sealed"])
    opened = unseal(_fernet(token_id, secret), row["sealed"])
    assert opened is not None
    return opened.tokens.expires_at


def test_twenty_parallel_writes_all_land(app, world, browsers):
    """Promotion answers, first uses of tokens, and token uses that refresh their hub
    session: 20 at once, every one answered 200 and every write stored."""
    answering = TokenClient(app, browsers["acme"])
    assert answering.get("/api/v1/me").status_code == 200  # its first use is behind it
    promotions = [submitted_promotion(world, f"burst {n} {world.tag}") for n in range(10)]
    people = ("acme", "brava", "north", "south")
    first_uses = [TokenClient(app, browsers[people[n % 4]]) for n in range(5)]
    refreshing = [TokenClient(app, browsers[people[n % 4]]) for n in range(5)]
    for token in refreshing:
        assert token.get("/api/v1/me").status_code == 200
        due_for_refresh(world, token)
    before = world.last_audit_id()

    answer = {"status": "accepted"}
    answerers = [own_client(app, answering) for _ in promotions]
    calls: list[Callable[[], Any]] = [
        (lambda c=c, k=k: c.send("PATCH", f"/api/v1/promotions/{k}", answer))
        for c, k in zip(answerers, promotions, strict=True)
    ]
    calls += [(lambda t=t: t.get("/api/v1/me")) for t in first_uses + refreshing]
    results = burst(calls)

    failed = [
        r if isinstance(r, Exception) else (r.status_code, r.get_json())
        for r in results
        if isinstance(r, Exception) or r.status_code != 200
    ]
    assert failed == []
    stored = world.admin.read_items(
        "promotions", filter={"id": {"_in": promotions}}, fields=["id", "status"], limit=-1
    )
    assert {r["id"]: r["status"] for r in stored} == dict.fromkeys(promotions, "accepted")
    events = world.admin.read_items(
        "promotion_events",
        filter={"_and": [{"promotion": {"_in": promotions}}, {"status": {"_eq": "accepted"}}]},
        fields=["promotion"],
        limit=-1,
    )
    assert sorted(e["promotion"] for e in events) == sorted(promotions)
    answered = world.audit_entries("acme", "promotions.answer", before)
    assert sorted(int(e["record_ids"][0]) for e in answered) == sorted(promotions)
    used = world.admin.read_items(
        "api_tokens",
        filter={"id": {"_in": [t.token_id for t in first_uses]}},
        fields=["last_used_at"],
        limit=-1,
    )
    assert len(used) == 5
    assert all(r["last_used_at"] for r in used)
    now = clock.now().timestamp()
    assert all(sealed_expiry(world, t) > now for t in refreshing)
    for token in refreshing:  # the refreshed session was kept: the token still works
        assert token.get("/api/v1/me").status_code == 200


def north_pos(world: World, days: int) -> list[tuple]:
    """Restated POS of north's stores: the same rows each time, so merges change nothing
    but still take the lane's write lock."""
    north = world.orgs["north"]
    first = world.today - dt.timedelta(days=days + 30)
    return [
        (north, world.stores[store], world.skus[sku], first + dt.timedelta(days=n), 3, 750, "USD")
        for store in ("north-east", "north-west")
        for sku in ("oats", "bran", "cola")
        for n in range(days)
    ]


def test_refused_writes_are_all_audited_while_the_lane_merges(app, world):
    """Six clients make refused writes while the bulk lane merges: one ``denied`` entry
    for every refusal, none lost to a busy database."""
    rows = north_pos(world, 400)
    refusing = {
        "acme": ("POST", "/api/v1/purchase-orders", {"number": "x"}),  # role may not
        "brava": ("POST", "/api/v1/purchase-orders", {"number": "x"}),
        "north": ("PATCH", f"/api/v1/promotions/{world.records['promo_south']}", {"name": "x"}),
        "south": ("PATCH", f"/api/v1/promotions/{world.records['promo_brava']}", {"name": "x"}),
    }
    before = world.last_audit_id()
    lane_done = threading.Event()
    merges: list[int] = []

    def lane() -> None:
        with open_lane(world.db_url) as open_:
            while not lane_done.is_set():
                write_rows(open_, "pos", rows)
                merges.append(1)

    merging = threading.Thread(target=lane)
    merging.start()
    try:
        per_client = 12
        clients = [who for who in refusing for _ in range(2)]
        signed_in = [Browser(app, world, who) for who in clients]

        def refuse(who: str, browser: Browser) -> list[int]:
            method, path, body = refusing[who]
            return [browser.send(method, path, body).status_code for _ in range(per_client)]

        results = burst(
            [(lambda w=w, b=b: refuse(w, b)) for w, b in zip(clients, signed_in, strict=True)]
        )
    finally:
        lane_done.set()
        merging.join(timeout=REQUEST_TIMEOUT_S)
    assert merges, "the lane never merged during the test"
    errors = [r for r in results if isinstance(r, Exception)]
    assert errors == []
    for who in refusing:
        statuses = [s for c, r in zip(clients, results, strict=True) if c == who for s in r]
        assert all(s in (403, 404) for s in statuses), (who, statuses)
        assert len(world.audit_entries(who, "denied", before)) == len(statuses), who
