"""The hub client against a real hub: auth, items, batches, aggregates, errors, retries."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import socket
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from directus import (
    AuthFailed,
    ForbiddenOrMissing,
    HubClient,
    InvalidPayload,
    RecordNotUnique,
    Tokens,
    Unavailable,
)
from directus.client import chunk_by_payload
from directus.process import free_port, spawn, stop_process
from domain.ingest import MAX_MINOR
from migrations.schema import ensure_collection, field, string_pk
from tests.factories import gtin_under, make_org

ITEMS = "client_test_items"


@pytest.fixture(scope="module")
def items(admin: HubClient) -> str:
    ensure_collection(
        admin,
        ITEMS,
        [string_pk(), field("grp", "string"), field("n", "integer"), field("note", "text")],
        meta={"accountability": None},
    )
    return ITEMS


class CountingSession(requests.Session):
    """A real requests session that counts the calls it sends."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    def request(self, *args, **kwargs):
        self.calls += 1
        return super().request(*args, **kwargs)


def _expired_jwt(secret: str, user_id: str) -> str:
    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    header = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    now = int(time.time())  # clock-ok: a JWT for the session hub, which keeps wall time
    payload = b64(
        json.dumps(
            {
                "id": user_id,
                "role": None,
                "app_access": True,
                "admin_access": True,
                "iat": now - 120,
                "exp": now - 60,
                "iss": "directus",
            }
        ).encode()
    )
    signature = hmac.new(secret.encode(), f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{b64(signature)}"


# -- auth -----------------------------------------------------------------------------


def test_login_with_a_wrong_password_fails(hub):
    with pytest.raises(AuthFailed) as caught:
        HubClient.login(hub.url, hub.admin_email, "not-the-password")
    assert caught.value.status == 401


def test_refresh_rotates_tokens_and_the_old_refresh_token_dies(hub):
    seen: list[Tokens] = []
    client = HubClient.login(hub.url, hub.admin_email, hub.admin_password, on_tokens=seen.append)
    first = client.tokens
    second = client.refresh()
    assert second.refresh_token != first.refresh_token
    assert seen == [first, second]
    stale = HubClient(hub.url, tokens=first)
    with pytest.raises(AuthFailed):
        stale.refresh()
    assert client.get("/users/me", fields=["email"])["email"] == hub.admin_email


def test_an_access_token_about_to_expire_is_refreshed_before_the_call(hub):
    client = hub.admin()
    old = client.tokens
    due = time.time()  # clock-ok: token expiry is on the client's own clock (time.time)
    client._tokens = Tokens(old.access_token, old.refresh_token, expires_at=due)
    assert client.get("/users/me", fields=["email"])["email"] == hub.admin_email
    assert client.tokens.refresh_token != old.refresh_token


def test_threads_sharing_an_expiring_session_refresh_it_once(hub):
    """Directus rotates refresh tokens: a second, needless refresh is wasted work."""
    seen: list[Tokens] = []
    client = HubClient.login(hub.url, hub.admin_email, hub.admin_password, on_tokens=seen.append)
    old = client.tokens
    due = time.time()  # clock-ok: token expiry is on the client's own clock (time.time)
    client._tokens = Tokens(old.access_token, old.refresh_token, expires_at=due)
    seen.clear()
    with ThreadPoolExecutor(max_workers=4) as pool:
        emails = list(pool.map(lambda _: client.get("/users/me", fields=["email"]), range(8)))
    assert {me["email"] for me in emails} == {hub.admin_email}
    assert len(seen) == 1


def test_a_token_the_hub_calls_expired_is_refreshed_and_the_call_repeated(hub):
    client = hub.admin()
    me = client.get("/users/me", fields=["id"])
    expired = _expired_jwt(hub.hub.config.secret, me["id"])
    with pytest.raises(AuthFailed) as caught:
        HubClient(hub.url, token=expired).get("/users/me")
    assert caught.value.code == "TOKEN_EXPIRED"
    live = client.tokens
    due = time.time() + 600  # clock-ok: token expiry is on the client's own clock (time.time)
    client._tokens = Tokens(expired, live.refresh_token, expires_at=due)
    assert client.get("/users/me", fields=["id"])["id"] == me["id"]


def test_logout_ends_the_hub_session(hub):
    client = hub.admin()
    tokens = client.tokens
    client.logout()
    with pytest.raises(AuthFailed):
        HubClient(hub.url, tokens=tokens).refresh()


def test_static_token_service_account_sees_only_what_its_policy_allows(sync_hub):
    assert sync_hub.read_items("sync_runs", limit=1) is not None
    with pytest.raises(ForbiddenOrMissing):
        sync_hub.read_items("tandem_migrations")
    with pytest.raises(ForbiddenOrMissing):
        sync_hub.get("/users")


# -- items ----------------------------------------------------------------------------


def test_batches_are_chunked_under_the_payload_limit(hub, items):
    client = hub.admin(max_payload_bytes=4_000)
    grp = uuid.uuid4().hex
    rows = [{"id": f"{grp}-{i}", "grp": grp, "n": i, "note": "x" * 40} for i in range(300)]
    chunks = list(chunk_by_payload(rows, 4_000))
    assert len(chunks) > 1
    assert all(len(json.dumps(chunk, separators=(",", ":"))) <= 4_000 for chunk in chunks)
    assert client.create_items(items, rows) == 300
    assert client.count_items(items, filter={"grp": {"_eq": grp}}) == 300


def test_an_item_larger_than_the_payload_limit_is_refused_before_sending(admin, items):
    with pytest.raises(InvalidPayload, match="item 1 is"):
        admin.create_items(items, [{"id": "small"}, {"id": "big", "note": "x" * 1_100_000}])
    with pytest.raises(ForbiddenOrMissing):
        admin.read_item(items, "small")


def test_the_hubs_own_payload_limit_answers_invalid_payload(hub, items):
    client = hub.admin(max_payload_bytes=10_000_000)
    with pytest.raises(InvalidPayload) as caught:
        client.create_items(items, [{"id": "huge", "note": "x" * 1_200_000}])
    assert caught.value.code == "INVALID_PAYLOAD"
    assert "too large" in caught.value.message


def test_iter_items_pages_through_everything_in_a_stable_order(admin, items):
    grp = uuid.uuid4().hex
    admin.create_items(items, [{"id": f"{grp}-{i:03d}", "grp": grp, "n": i} for i in range(53)])
    seen = [row["n"] for row in admin.iter_items(items, page_size=7, filter={"grp": {"_eq": grp}})]
    assert seen == list(range(53))


def test_aggregate_returns_every_group_past_the_default_limit(admin, items):
    grp = uuid.uuid4().hex
    rows = [{"id": f"{grp}-{i}", "grp": f"{grp}-{i % 150}", "n": 2} for i in range(450)]
    admin.create_items(items, rows)
    groups = admin.aggregate(
        items, {"sum": ["n"]}, group_by=["grp"], filter={"grp": {"_starts_with": grp}}
    )
    assert len(groups) == 150
    assert {int(g["sum"]["n"]) for g in groups} == {6}


def test_error_kinds(admin, items):
    admin.create_item(items, {"id": "dup", "n": 1})
    with pytest.raises(RecordNotUnique):
        admin.create_item(items, {"id": "dup", "n": 2})
    with pytest.raises(InvalidPayload):
        admin.post(f"/items/{items}", "not an item")
    with pytest.raises(ForbiddenOrMissing):
        admin.read_item(items, "no-such-item")
    with pytest.raises(ForbiddenOrMissing):
        admin.read_items("no_such_collection")
    updated = admin.update_item(items, "dup", {"n": 5})
    assert updated["n"] == 5
    admin.delete_item(items, "dup")
    with pytest.raises(ForbiddenOrMissing):
        admin.read_item(items, "dup")


# -- retries ----------------------------------------------------------------------------


def test_connection_errors_are_retried_only_on_idempotent_calls():
    session = CountingSession()
    client = HubClient(
        f"http://127.0.0.1:{free_port()}", max_retries=2, backoff_s=0.01, session=session
    )
    with pytest.raises(Unavailable):
        client.get("/items/x")
    assert session.calls == 3
    session.calls = 0
    with pytest.raises(Unavailable):
        client.post("/items/x", {"a": 1})
    assert session.calls == 1


def test_a_hub_under_pressure_answers_503_retried_only_on_idempotent_calls(
    hub_install, hub_template, tmp_path
):
    """Directus's own pressure limiter, set to always trip, gives real 503 answers."""
    from directus.process import Hub
    from directus.template import copy_database
    from tests.databases import hub_config

    db = copy_database(hub_template.db_path, tmp_path / "hub.db")
    config = hub_config(
        tmp_path,
        db,
        PRESSURE_LIMITER_MAX_MEMORY_RSS="1",
        PRESSURE_LIMITER_SAMPLE_INTERVAL="50",
        PRESSURE_LIMITER_RETRY_AFTER="0",
    )
    hub = Hub(hub_install, config)
    with open(tmp_path / "hub.log", "wb") as log:
        proc = spawn(hub.command("start"), env=hub.environment(), cwd=tmp_path, stdout=log)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                socket.create_connection((config.host, config.port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        time.sleep(0.5)  # let the limiter take its first samples
        session = CountingSession()
        client = HubClient(config.url, max_retries=2, backoff_s=0.01, session=session)
        with pytest.raises(Unavailable) as caught:
            client.get("/server/ping")
        assert caught.value.status == 503
        assert session.calls == 3
        session.calls = 0
        with pytest.raises(Unavailable):
            client.post("/auth/login", {"email": "a@b.co", "password": "x"})
        assert session.calls == 1
    finally:
        stop_process(proc)


def test_the_hub_carries_money_exactly_up_to_max_minor_and_no_further(admin: HubClient):
    """Why Tandem refuses amounts above MAX_MINOR (2**53 - 1): Directus reads and writes
    numbers as JavaScript doubles, so although the column is 64-bit, a larger amount is
    stored and read back rounded, with no error."""
    supplier = make_org(admin)
    sku = admin.create_item(
        "skus",
        {"gtin": gtin_under(supplier["gs1_prefixes"][0]), "description": "exact money",
         "cost_minor": MAX_MINOR, "list_price_minor": MAX_MINOR + 2, "currency": "USD",
         "supplier": supplier["id"]},
        fields=["id"],
    )  # fmt: skip
    [back] = admin.read_items(
        "skus", filter={"id": {"_eq": sku["id"]}}, fields=["cost_minor", "list_price_minor"]
    )
    assert int(back["cost_minor"]) == MAX_MINOR
    assert int(back["list_price_minor"]) == MAX_MINOR + 1  # 2**53 + 1 came back as 2**53


def test_a_batch_measured_under_the_hubs_limit_is_sent_under_it(hub, items):
    """Seen in the scorecard job: rows of many short fields, chunked just under 1 MB by
    their compact size, were sent with a space after every comma and colon, and the
    hub refused the batch as too large."""
    client = hub.admin(max_payload_bytes=1_040_000)  # the hub's limit is 1,048,576 bytes
    grp = uuid.uuid4().hex
    rows = [{"id": f"{grp}-{i}", "grp": grp, "n": i, "note": "x"} for i in range(20_000)]
    compact = len(json.dumps(rows[:100], separators=(",", ":")))
    spaced = len(json.dumps(rows[:100]))
    assert spaced > compact * 1.04  # the spaces alone would take a full chunk over the limit
    assert client.create_items(items, rows) == 20_000
    assert client.count_items(items, filter={"grp": {"_eq": grp}}) == 20_000
