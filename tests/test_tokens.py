"""Personal API tokens against a real hub: minting, using, revoking, and what the row holds."""

from __future__ import annotations

import datetime as dt
import re
import secrets
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from werkzeug.serving import make_server

from directus import HubClient, HubError
from domain import clock
from governance.partners import deactivate_partner, reactivate_partner
from governance.users import deactivate_user, reactivate_user
from portal.sealing import derive_fernet, unseal
from portal.tokens import DEFAULT_DAYS, MAX_DAYS, parse_time
from tests.factories import csrf_token, make_user, sign_in

TOKEN = re.compile(r"tdm_[0-9a-f]{32}_[A-Za-z0-9_-]{43}")


@pytest.fixture
def served(portal):
    """The portal on a real local HTTP server, for API clients such as curl or requests."""
    server = make_server("127.0.0.1", 0, portal, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()


def _mint(client, member, name="ci", **extra):
    """Mint a token through the page; returns (response, token or None)."""
    data = {
        "name": name,
        "password": member.password,
        "csrf_token": csrf_token(client, "/account/tokens"),
        **extra,
    }
    response = client.post("/account/tokens", data=data)
    found = TOKEN.search(response.get_data(as_text=True))
    return response, found.group(0) if found else None


def _api(base, token, method="GET", path="/api/v1/tokens", **kwargs):
    headers = {"Authorization": f"Bearer {token}"}
    return requests.request(method, f"{base}{path}", headers=headers, timeout=30, **kwargs)


def test_a_minted_token_acts_as_its_user_over_http(admin, portal, served):
    member = make_user(admin)
    client = sign_in(portal, member)
    response, token = _mint(client, member, name="nightly export")
    assert response.status_code == 201
    assert response.headers["Cache-Control"] == "no-store"
    answer = _api(served, token)
    assert answer.status_code == 200
    rows = answer.json()["data"]
    assert [r["name"] for r in rows] == ["nightly export"]
    assert rows[0]["last_used_at"] is not None
    assert "Set-Cookie" not in answer.headers


def test_the_secret_is_shown_once_and_never_listed(admin, portal, served):
    member = make_user(admin)
    client = sign_in(portal, member)
    _, token = _mint(client, member)
    secret = token.split("_", 2)[2]
    assert secret not in client.get("/account/tokens").get_data(as_text=True)
    listed = _api(served, token).text
    assert secret not in listed
    assert "token_hash" not in listed
    assert "sealed" not in listed


def test_the_hub_row_holds_a_hash_and_a_session_only_the_token_can_open(admin, portal):
    member = make_user(admin)
    _, token = _mint(sign_in(portal, member), member)
    _, token_id, secret = token.split("_", 2)
    row = admin.read_item("api_tokens", token_id)
    assert secret not in str(row)
    assert len(row["token_hash"]) == 64
    assert row["user"] == member.id
    wrong = derive_fernet(b"x" * 43, salt=token_id.encode(), purpose=b"anything")
    assert unseal(wrong, row["sealed"]) is None
    right = derive_fernet(
        secret.encode(), salt=token_id.encode(), purpose=b"personal api token: hub session v1"
    )
    assert unseal(right, row["sealed"]).user_id == member.id


def test_wrong_secret_malformed_or_unknown_tokens_get_401(admin, portal, served):
    member = make_user(admin)
    _, token = _mint(sign_in(portal, member), member)
    prefix, token_id, secret = token.split("_", 2)
    tampered = f"{prefix}_{token_id}_{'A' if secret[0] != 'A' else 'B'}{secret[1:]}"
    unknown = f"{prefix}_{'0' * 32}_{secret}"
    for bad in (tampered, unknown, "tdm_nonsense", token_id):
        answer = _api(served, bad)
        assert answer.status_code == 401, bad
        assert answer.json()["code"] == "UNAUTHORIZED"
    assert _api(served, token).status_code == 200


def test_a_revoked_token_gets_401_on_the_next_request(admin, portal, served):
    member = make_user(admin)
    client = sign_in(portal, member)
    _, token = _mint(client, member)
    token_id = token.split("_")[1]
    assert _api(served, token).status_code == 200
    page = client.post(
        f"/account/tokens/{token_id}/revoke",
        data={"csrf_token": csrf_token(client, "/account/tokens")},
    )
    assert page.status_code == 200
    assert "revoked" in page.get_data(as_text=True)
    assert _api(served, token).status_code == 401


def test_a_revoked_token_cannot_be_reinstated_through_the_hub(admin, hub, portal, served):
    """Users may set revoked_at on their own rows in the hub, but never clear it again."""
    member = make_user(admin)
    client = sign_in(portal, member)
    _, token = _mint(client, member)
    token_id = token.split("_")[1]
    own = HubClient.login(hub.url, member.email, member.password)
    own.update_item("api_tokens", token_id, {"revoked_at": "2026-11-23T00:00:00Z"})
    with pytest.raises(HubError):
        own.update_item("api_tokens", token_id, {"revoked_at": None})
    assert admin.read_item("api_tokens", token_id)["revoked_at"] is not None
    assert _api(served, token).status_code == 401


def test_a_token_can_revoke_itself(admin, portal, served):
    member = make_user(admin)
    _, token = _mint(sign_in(portal, member), member)
    token_id = token.split("_")[1]
    answer = _api(served, token, "DELETE", f"/api/v1/tokens/{token_id}")
    assert answer.status_code == 200
    assert answer.json()["data"]["revoked_at"]
    assert _api(served, token).status_code == 401


def test_an_expired_token_gets_401(admin, portal, served):
    member = make_user(admin)
    _, token = _mint(sign_in(portal, member), member, expires_in_days="1")
    token_id = token.split("_")[1]
    assert _api(served, token).status_code == 200
    admin.update_item("api_tokens", token_id, {"expires_at": "2020-01-01T00:00:00.000Z"})
    assert _api(served, token).status_code == 401


def test_minting_needs_the_users_password(admin, portal):
    member = make_user(admin)
    client = sign_in(portal, member)
    response = client.post(
        "/account/tokens",
        data={
            "name": "ci",
            "password": "not-my-password",
            "csrf_token": csrf_token(client, "/account/tokens"),
        },
    )
    assert response.status_code == 401
    assert 'id="password-error">Wrong password.' in response.get_data(as_text=True)
    assert TOKEN.search(response.get_data(as_text=True)) is None
    assert admin.read_items("api_tokens", filter={"user": {"_eq": member.id}}) == []


def test_a_deactivated_user_or_organization_loses_its_tokens(admin, portal, served):
    """For good: reactivation lets the user sign in again, but its old tokens' hub
    sessions were deleted with the suspension, so it mints new ones."""
    member = make_user(admin)
    _, token = _mint(sign_in(portal, member), member)
    deactivate_user(admin, member.email, via="test")
    assert _api(served, token).status_code == 401
    other = make_user(admin, "distributor_user")
    _, other_token = _mint(sign_in(portal, other), other)
    deactivate_partner(admin, other.organization["id"], via="test")
    assert _api(served, other_token).status_code == 401
    reactivate_user(admin, member.email, via="test")
    reactivate_partner(admin, other.organization["id"], via="test")
    assert _api(served, token).status_code == 401
    assert _api(served, other_token).status_code == 401
    _, fresh = _mint(sign_in(portal, other), other)
    assert _api(served, fresh).status_code == 200


def test_minting_and_revoking_are_audited_as_the_user(admin, portal, served):
    member = make_user(admin)
    _, token = _mint(sign_in(portal, member), member)
    token_id = token.split("_")[1]
    _api(served, token, "DELETE", f"/api/v1/tokens/{token_id}")
    entries = admin.read_items(
        "audit_log",
        filter={"collection": {"_eq": "api_tokens"}, "actor": {"_eq": member.id}},
        fields=["action", "record_ids", "organization", "via"],
        sort=["id"],
    )
    assert [(e["action"], e["record_ids"]) for e in entries] == [
        ("token.create", [token_id]),
        ("token.revoke", [token_id]),
    ]
    assert entries[0]["via"] == "portal"
    assert entries[1]["via"] == f"api:{token_id}"
    assert {e["organization"] for e in entries} == {member.organization["id"]}


def test_session_api_writes_need_the_csrf_header_and_bearer_ones_do_not(admin, portal, served):
    member = make_user(admin)
    client = sign_in(portal, member)
    body = {"name": "from the browser", "password": member.password}
    assert client.post("/api/v1/tokens", json=body).status_code == 400
    headers = {"X-CSRFToken": csrf_token(client, "/account/tokens")}
    created = client.post("/api/v1/tokens", json=body, headers=headers)
    assert created.status_code == 201
    token = created.get_json()["data"]["token"]
    assert TOKEN.fullmatch(token)
    answer = _api(
        served, token, "POST", json={"name": "from a script", "password": member.password}
    )
    assert answer.status_code == 201
    assert [r["name"] for r in _api(served, token).json()["data"]] == [
        "from a script",
        "from the browser",
    ]


def test_a_user_cannot_revoke_anothers_token(admin, portal, served):
    owner = make_user(admin)
    _, token = _mint(sign_in(portal, owner), owner)
    intruder = make_user(admin)
    _, intruder_token = _mint(sign_in(portal, intruder), intruder)
    token_id = token.split("_")[1]
    assert _api(served, intruder_token, "DELETE", f"/api/v1/tokens/{token_id}").status_code == 404
    assert _api(served, token).status_code == 200


def test_a_token_does_not_sign_in_to_pages(admin, portal, served):
    member = make_user(admin)
    _, token = _mint(sign_in(portal, member), member)
    page = _api(served, token, path="/supplier", allow_redirects=False)
    assert page.status_code == 302


def test_concurrent_api_calls_across_a_session_refresh_keep_the_token_working(
    admin, start_migrated_hub, make_portal
):
    short = start_migrated_hub(SESSION_COOKIE_TTL="20s", SESSION_REFRESH_GRACE_PERIOD="3s")
    app = make_portal(short)
    member = make_user(short.admin())
    _, token = _mint(sign_in(app, member), member)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_port}"
    try:
        time.sleep(6)  # into the refresh margin: every call below refreshes
        with ThreadPoolExecutor(6) as pool:
            statuses = list(pool.map(lambda _: _api(base, token).status_code, range(6)))
        assert statuses == [200] * 6
        time.sleep(4)  # past the grace period: the row must hold a live session
        assert _api(base, token).status_code == 200
    finally:
        server.shutdown()
        thread.join()


# -- revoking ends the token's hub session ---------------------------------------------------


def _token_session(admin, token):
    """The hub session a token's row holds, opened with the token's own secret."""
    _, token_id, secret = token.split("_", 2)
    fernet = derive_fernet(
        secret.encode(), salt=token_id.encode(), purpose=b"personal api token: hub session v1"
    )
    opened = unseal(fernet, admin.read_item("api_tokens", token_id)["sealed"])
    assert opened is not None
    return opened.tokens


def _hub_read(url, session):
    """What the hub answers a read made with the session itself."""
    headers = {"Authorization": f"Bearer {session.access_token}"}
    return requests.get(f"{url}/users/me", headers=headers, timeout=30).status_code


def _hub_answers(url, session):
    """What the hub answers the session itself: a read with it, and a refresh of it."""
    refresh = requests.post(
        f"{url}/auth/refresh",
        json={"mode": "session"},
        cookies={"directus_session_token": session.access_token},
        timeout=30,
    )
    return _hub_read(url, session), refresh.status_code


def _revoke(door, client, served, hub_url, member, token):
    token_id = token.split("_")[1]
    if door == "page":
        page = client.post(
            f"/account/tokens/{token_id}/revoke",
            data={"csrf_token": csrf_token(client, "/account/tokens")},
        )
        assert page.status_code == 200
    elif door == "api":
        assert _api(served, token, "DELETE", f"/api/v1/tokens/{token_id}").status_code == 200
    else:  # the hub's own REST API, with the user's own login
        own = HubClient.login(hub_url, member.email, member.password)
        own.update_item("api_tokens", token_id, {"revoked_at": "2026-11-23T00:00:00Z"})


@pytest.mark.parametrize("door", ["page", "api", "hub"])
def test_revoking_a_token_ends_its_hub_session_at_once(admin, hub, portal, served, door):
    member = make_user(admin)
    client = sign_in(portal, member)
    _, token = _mint(client, member)
    _, other = _mint(client, member, name="kept")
    session = _token_session(admin, token)
    assert _api(served, token).status_code == 200
    assert _hub_read(hub.url, session) == 200
    _revoke(door, client, served, hub.url, member, token)
    assert _hub_answers(hub.url, session) == (401, 401)
    assert _api(served, token).status_code == 401
    # Only that token's session ends: the user's other token and browser session go on.
    assert _api(served, other).status_code == 200
    assert client.get("/account/tokens").status_code == 200


def test_revoking_ends_the_tokens_session_after_it_was_refreshed(start_migrated_hub, make_portal):
    short = start_migrated_hub(SESSION_COOKIE_TTL="20s", SESSION_REFRESH_GRACE_PERIOD="3s")
    app = make_portal(short)
    admin = short.admin()
    member = make_user(admin)
    client = sign_in(app, member)
    _, token = _mint(client, member)
    first = _token_session(admin, token)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_port}"
    try:
        time.sleep(11)  # past half of the session's life: the next call refreshes it
        assert _api(base, token).status_code == 200
        refreshed = _token_session(admin, token)
        assert refreshed.access_token != first.access_token
        assert _hub_read(short.url, refreshed) == 200
        _revoke("page", client, base, short.url, member, token)
        assert _hub_answers(short.url, refreshed) == (401, 401)
        assert _hub_answers(short.url, first) == (401, 401)
    finally:
        server.shutdown()
        thread.join()


@pytest.mark.parametrize("how", ["revoke", "delete"])
def test_another_users_refused_revoke_through_the_hub_ends_nothing(admin, hub, portal, served, how):
    """The hook ends a token's session inside the revoking write; a write the hub refuses
    (another user's token) must end nothing, or anyone knowing a token's public id could
    silently disable it."""
    owner = make_user(admin)
    _, token = _mint(sign_in(portal, owner), owner)
    token_id = token.split("_")[1]
    intruder = make_user(admin)
    theirs = HubClient.login(hub.url, intruder.email, intruder.password)
    attempt = {
        "revoke": lambda: theirs.update_item(
            "api_tokens", token_id, {"revoked_at": "2026-11-23T00:00:00Z"}
        ),
        "delete": lambda: theirs.delete_item("api_tokens", token_id),
    }[how]
    with pytest.raises(HubError) as refused:
        attempt()
    assert refused.value.status == 403
    assert _api(served, token).status_code == 200
    assert _hub_read(hub.url, _token_session(admin, token)) == 200
    assert admin.read_item("api_tokens", token_id)["revoked_at"] is None


def test_a_refused_batch_revoke_ends_none_of_the_callers_own_sessions(admin, hub, portal, served):
    """Found by the second probe: a batch naming one's own token and another's is refused
    whole, yet ended the caller's own token's session."""
    owner = make_user(admin)
    _, token = _mint(sign_in(portal, owner), owner)
    caller = make_user(admin)
    _, own = _mint(sign_in(portal, caller), caller)
    keys = [own.split("_")[1], token.split("_")[1]]
    theirs = HubClient.login(hub.url, caller.email, caller.password)
    with pytest.raises(HubError) as refused:
        theirs.patch(
            "/items/api_tokens", {"keys": keys, "data": {"revoked_at": "2026-11-23T00:00:00Z"}}
        )
    assert refused.value.status == 403
    assert _api(served, own).status_code == 200
    assert _api(served, token).status_code == 200
    assert admin.read_item("api_tokens", keys[0])["revoked_at"] is None


def _lifetime(admin, token: str) -> dt.timedelta:
    row = admin.read_item("api_tokens", token.split("_")[1], fields=["created_at", "expires_at"])
    return parse_time(row["expires_at"]) - parse_time(row["created_at"])


def test_every_token_expires_within_a_year_whoever_writes_it(admin, hub, portal, served):
    """Tokens minted without a choice never expired, and a partner writing its own
    api_tokens row through the hub's REST API could leave the expiry out."""
    member = make_user(admin)
    client = sign_in(portal, member)
    _, token = _mint(client, member, expires_in_days="")
    assert _lifetime(admin, token) == dt.timedelta(days=DEFAULT_DAYS)
    _, longest = _mint(client, member, name="longest", expires_in_days=str(MAX_DAYS))
    assert _lifetime(admin, longest) == dt.timedelta(days=MAX_DAYS)
    refused, none = _mint(client, member, name="too long", expires_in_days=str(MAX_DAYS + 1))
    assert (refused.status_code, none) == (400, None)
    assert f"Between 1 and {MAX_DAYS} days." in refused.get_data(as_text=True)
    answer = _api(served, token, "POST", json={"name": "x", "password": member.password,
                                               "expires_in_days": None})  # fmt: skip
    assert answer.status_code == 400
    assert "expires_in_days" in answer.json()["errors"]

    own = HubClient.login(hub.url, member.email, member.password)
    now = clock.now()
    row = {"name": "direct", "token_hash": "0" * 64, "sealed": "x", "created_at": now.isoformat()}

    def direct(days: int | None) -> dict:
        expires = (now + dt.timedelta(days=days)).isoformat() if days else None
        item = {**row, "id": secrets.token_hex(16), "expires_at": expires}
        return own.create_item("api_tokens", item, fields=["id"])

    for days in (None, 400):
        with pytest.raises(HubError) as refused_by_hub:
            direct(days)
        assert refused_by_hub.value.status in (400, 403)
    assert direct(30)["id"]
