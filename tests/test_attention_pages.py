"""Dismissing and snoozing "Needs your attention" items (issue 16), on the home pages, with
a real hub: an item set aside stays away for its user only, until its cause changes or its
snooze ends; each user's choices are its own, through the portal and through the hub's
REST API with the user's own login."""

from __future__ import annotations

import datetime as dt
import html
import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from directus import ForbiddenOrMissing, HubClient, HubError
from governance import partners
from portal.data.attention import SET_ASIDE
from tests.factories import Member, csrf_token, make_org, make_user, sign_in
from tests.pinning import later, module_hub

TODAY = dt.date(2026, 12, 2)

hub, admin = module_hub(TODAY)


@pytest.fixture(scope="module")
def world(hub, admin) -> dict[str, Any]:
    acme = make_user(admin, "supplier_user")
    colleague = make_user(admin, "supplier_user", acme.organization)
    north = make_org(admin, "distributor")
    partners.ensure_partnership(admin, acme.organization["id"], north["id"])
    seller = make_user(admin, "distributor_user", north)
    feed = f"{north['id']}:pos"
    admin.create_item(
        "feeds",
        {"id": feed, "distributor": north["id"], "kind": "pos", "data_through": "2026-11-20",
         "received_at": "2026-11-21T06:00:00Z"},
    )  # fmt: skip
    return {"acme": acme, "colleague": colleague, "north": north, "seller": seller, "feed": feed}


@pytest.fixture
def app(hub, make_portal) -> Flask:
    return make_portal(hub)


@pytest.fixture(autouse=True)
def fresh_start(admin, world):
    """Each test starts with nothing set aside and the feed as the world made it."""
    rows = admin.read_items(SET_ASIDE, fields=["id"], limit=-1)
    if rows:
        admin.delete_items(SET_ASIDE, [r["id"] for r in rows])
    admin.update_item("feeds", world["feed"], {"data_through": "2026-11-20"})


_ITEM = re.compile(r'<li class="attention-([a-z-]+)">(.*?)</li>', re.S)
_HIDDEN = re.compile(r'<input type="hidden" name="(key|cause|title)" value="([^"]*)">')


def items(client: FlaskClient, home: str) -> dict[str, dict[str, str]]:
    """The attention items on the user's home, by kind: their hidden fields."""
    page = client.get(home)
    assert page.status_code == 200, page.get_data(as_text=True)[:500]
    text = page.get_data(as_text=True)
    return {
        kind: {k: html.unescape(v) for k, v in _HIDDEN.findall(body)}
        for kind, body in _ITEM.findall(text)
    }


def set_aside(client: FlaskClient, home: str, item: dict[str, str], action: str) -> str:
    answer = client.post(
        "/attention", data={**item, "action": action, "csrf_token": csrf_token(client, home)}
    )
    assert answer.status_code == 302, answer.get_data(as_text=True)[:500]
    assert answer.headers["Location"].endswith(home)
    return client.get(home).get_data(as_text=True)


def signed_in(app: Flask, member: Member) -> FlaskClient:
    return sign_in(app, member, remote_addr=f"10.16.0.{hash(member.id) % 250 + 1}")


def test_a_dismissed_stale_feed_stays_away_until_its_data_moves(app, admin, world):
    acme = signed_in(app, world["acme"])
    stale = items(acme, "/supplier")["stale-feed"]
    assert stale["key"] == f"stale-feed:distributor={world['north']['id']},kind=pos"
    page = set_aside(acme, "/supplier", stale, "dismiss")
    assert "dismissed" in page
    assert "comes back sooner if its cause changes" in page
    assert "stale-feed" not in items(acme, "/supplier")
    # A newer delivery that is still stale is a new cause: the item is back.
    admin.update_item("feeds", world["feed"], {"data_through": "2026-11-24"})
    back = items(acme, "/supplier")["stale-feed"]
    assert back["cause"] != stale["cause"]


def test_a_snoozed_item_comes_back_when_the_snooze_ends(app, world):
    acme = signed_in(app, world["acme"])
    stale = items(acme, "/supplier")["stale-feed"]
    page = set_aside(acme, "/supplier", stale, "snooze-day")
    assert "snoozed for a day until" in page
    assert "stale-feed" not in items(acme, "/supplier")
    # A day later the portal has signed the user out: it signs in again.
    with later(hours=23):
        assert "stale-feed" not in items(signed_in(app, world["acme"]), "/supplier")
    with later(days=1, minutes=1):
        assert "stale-feed" in items(signed_in(app, world["acme"]), "/supplier")


def test_a_snoozed_item_comes_back_early_when_its_cause_changes(app, admin, world):
    seller = signed_in(app, world["seller"])
    stale = items(seller, "/distributor")["stale-feed"]
    set_aside(seller, "/distributor", stale, "snooze-week")
    assert "stale-feed" not in items(seller, "/distributor")
    with later(days=6):
        assert "stale-feed" not in items(signed_in(app, world["seller"]), "/distributor")
    admin.update_item("feeds", world["feed"], {"data_through": "2026-11-22"})
    assert "stale-feed" in items(seller, "/distributor")


def test_setting_an_item_aside_twice_keeps_one_row_with_the_last_choice(app, admin, world):
    acme = signed_in(app, world["acme"])
    stale = items(acme, "/supplier")["stale-feed"]
    set_aside(acme, "/supplier", stale, "snooze-week")
    set_aside(acme, "/supplier", stale, "dismiss")
    rows = admin.read_items(SET_ASIDE, fields=["user", "item_key", "until"], limit=-1)
    assert rows == [{"user": world["acme"].id, "item_key": stale["key"], "until": None}]


def test_one_users_choice_does_not_hide_the_item_from_a_colleague(app, world):
    acme = signed_in(app, world["acme"])
    set_aside(acme, "/supplier", items(acme, "/supplier")["stale-feed"], "dismiss")
    assert "stale-feed" in items(signed_in(app, world["colleague"]), "/supplier")


def test_a_user_cannot_read_or_change_anothers_choices_through_the_hub(hub, app, world):
    acme = signed_in(app, world["acme"])
    set_aside(acme, "/supplier", items(acme, "/supplier")["stale-feed"], "dismiss")
    mine = HubClient.login(hub.url, world["acme"].email, world["acme"].password)
    (row,) = mine.read_items(SET_ASIDE, fields=["id", "user", "cause"], limit=-1)
    assert row["user"] == world["acme"].id
    for other in (world["colleague"], world["seller"]):
        theirs = HubClient.login(hub.url, other.email, other.password)
        assert theirs.read_items(SET_ASIDE, fields=["id"], limit=-1) == []
        with pytest.raises(ForbiddenOrMissing):
            theirs.update_item(SET_ASIDE, row["id"], {"cause": "x", "until": None})
        with pytest.raises(ForbiddenOrMissing):
            theirs.delete_items(SET_ASIDE, [row["id"]])
        # A row made for someone else is refused, not quietly made.
        with pytest.raises(HubError):
            theirs.create_item(SET_ASIDE, {"item_key": "x:", "cause": "c",
                                           "user": world["acme"].id})  # fmt: skip
    assert mine.read_items(SET_ASIDE, fields=["id", "user", "cause"], limit=-1) == [row]


def test_a_bad_request_or_an_operator_sets_nothing_aside(app, admin, world):
    acme = signed_in(app, world["acme"])
    stale = items(acme, "/supplier")["stale-feed"]
    token = csrf_token(acme, "/supplier")
    bad = acme.post("/attention", data={**stale, "action": "snooze-year", "csrf_token": token})
    assert bad.status_code == 422
    assert "Must be one of" in bad.get_data(as_text=True)
    forged = acme.post("/attention", data={**stale, "action": "dismiss"})  # no CSRF token
    assert forged.status_code == 400
    ops = make_user(admin, "operator_admin")
    operator = signed_in(app, ops)
    refused = operator.post(
        "/attention",
        data={**stale, "action": "dismiss", "csrf_token": csrf_token(operator, "/operator")},
    )
    assert refused.status_code == 403
    assert admin.read_items(SET_ASIDE, fields=["id"], limit=-1) == []
    assert "stale-feed" in items(acme, "/supplier")
