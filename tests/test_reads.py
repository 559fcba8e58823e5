"""Reads kept between the hub's writes (directus/reads.py, the hub's write generation).

On SQLite the hub keeps no generation and the portal keeps nothing: these tests then
check that; the PostgreSQL pass (``make test TEST_DB=postgres``) checks the generation
moves after every write and every bulk import, and that a portal keeping reads shows a
revocation, a deactivation and an import at once. That pass also runs every other portal
test with the portal's default read cache on.
"""

from __future__ import annotations

import datetime as dt

import pytest
import requests

from directus import HubClient
from directus.bulk import open_lane
from directus.reads import READS, ReadCache, generation
from governance import sharing
from governance.users import deactivate_user
from migrations.accounts import PORTAL_AUTH_EMAIL, set_service_token
from portal.hub import hub as portal_hub
from tests.factories import Member, make_org, make_user, sign_in
from tests.pinning import pinned
from tests.world import PASSWORD, world_for


def _hits() -> float:
    return READS.labels("hit")._value.get()


# -- the cache on its own --------------------------------------------------------------------


def test_each_identity_reads_only_what_it_kept_itself_at_that_generation():
    cache = ReadCache(max_bytes=1 << 20, ttl_s=60)
    mine, theirs = cache.for_identity("u1", "7"), cache.for_identity("u2", "7")
    later = cache.for_identity("u1", "8")
    assert mine is not None
    assert theirs is not None
    assert later is not None
    query = {"limit": -1, "filter": {"sku": {"_eq": 3}}}
    key = mine.key("/items/pos_sales", query)
    mine.put(key, b'{"data": []}')
    assert mine.get(key) == b'{"data": []}'
    assert mine.get(mine.key("/items/pos_sales", dict(reversed(query.items())))) is not None
    assert theirs.get(theirs.key("/items/pos_sales", query)) is None
    assert later.get(later.key("/items/pos_sales", query)) is None


def test_nothing_is_kept_without_a_generation_or_past_the_budget():
    cache = ReadCache(max_bytes=1000, ttl_s=60)
    assert cache.for_identity("u1", None) is None
    reads = cache.for_identity("u1", "1")
    assert reads is not None
    big, small = reads.key("/a", {}), reads.key("/b", {})
    reads.put(big, b"x" * 1000)
    reads.put(small, b"{}")
    assert reads.get(big) is None
    assert reads.get(small) == b"{}"


# -- the hub's generation ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def service(hub, portal_auth_token) -> HubClient:
    set_service_token(hub.admin(), PORTAL_AUTH_EMAIL, portal_auth_token)
    return HubClient(hub.url, token=portal_auth_token)


def _on_postgres(hub) -> bool:
    return hub.lane_url.startswith("postgresql")


def test_only_service_accounts_and_admins_read_the_generation(hub, admin, service):
    member = make_user(admin)
    answer = requests.get(f"{hub.url}/tandem/generation", timeout=10)
    assert answer.status_code == 403
    partner = member.login(hub.url)
    answer = requests.get(
        f"{hub.url}/tandem/generation",
        headers={"Authorization": f"Bearer {partner.tokens.access_token}"},
        timeout=10,
    )
    assert answer.status_code == 403, "how often anything is written is not a partner's to see"
    kept = generation(service)
    assert (kept is not None) == _on_postgres(hub)
    assert generation(admin) == kept


def test_every_write_and_every_bulk_import_moves_the_generation(hub, admin, service):
    if not _on_postgres(hub):
        assert generation(service) is None  # SQLite: nothing is ever kept
        return
    signed_in = HubClient.login(hub.url, hub.admin_email, hub.admin_password)
    first = int(generation(service) or "")
    signed_in.refresh()  # a refresh writes nothing anyone else reads
    assert int(generation(service) or "") == first
    HubClient.login(hub.url, hub.admin_email, hub.admin_password)
    after_sign_in = int(generation(service) or "")
    assert after_sign_in > first, "enough failed sign-ins suspend an account: they move it"
    org = make_org(admin, "supplier")
    after_write = int(generation(service) or "")
    assert after_write > after_sign_in
    admin.update_item("organizations", org["id"], {"name": f"{org['name']} renamed"})
    after_update = int(generation(service) or "")
    assert after_update > after_write
    with open_lane(hub.lane_url) as lane, lane.transaction():
        pass  # an import's merge commits in a transaction like this one
    assert int(generation(service) or "") > after_update


def test_a_client_reads_what_it_kept_until_it_writes(hub, admin):
    cache = ReadCache(max_bytes=1 << 20, ttl_s=60)
    client = HubClient.login(hub.url, hub.admin_email, hub.admin_password)
    client.reads = cache.for_identity("admin", "1")
    hits = _hits()
    first = client.read_items("organizations", fields=["id"], sort=["id"], limit=3)
    assert client.read_items("organizations", fields=["id"], sort=["id"], limit=3) == first
    assert _hits() == hits + 1
    make_org(client, "supplier")
    assert client.reads is None  # its own write: nothing kept before it is read again
    client.read_items("organizations", fields=["id"], sort=["id"], limit=3)
    assert _hits() == hits + 1


# -- the portal keeping reads ------------------------------------------------------------------


def _browser(app, w, who: str):
    p = w.people[who]
    return sign_in(app, Member(p.id, p.email, PASSWORD, p.role, {"id": p.organization_id}))


def test_a_portal_keeping_reads_shows_a_revocation_and_a_deactivation_at_once(
    hub, admin, make_portal
):
    w = world_for(hub, admin, "kept-reads")
    app = make_portal(hub, read_cache_mb=8, report_cache_s=600)
    acme = _browser(app, w, "acme")
    query = {"distributor": w.orgs["north"], "from": w.old_day.isoformat(),
             "to": w.new_day.isoformat()}  # fmt: skip
    before = acme.get("/sell-through", query_string=query).get_data(as_text=True)
    assert "has not shared POS data with you" not in before
    hits = _hits()
    again = acme.get("/sell-through", query_string=query).get_data(as_text=True)
    assert "has not shared POS data with you" not in again
    assert (_hits() > hits) == _on_postgres(hub)  # on PostgreSQL, the second was kept

    sharing.revoke(w.admin, w.agreements["full"], via="test")
    after = acme.get("/sell-through", query_string=query).get_data(as_text=True)
    assert "has not shared POS data with you" in after

    deactivate_user(w.admin, w.people["acme"].email, via="test")
    assert acme.get("/sell-through").status_code == 302  # signed out there and then


def test_what_a_portal_kept_on_one_day_is_not_read_the_next(hub, make_portal, monkeypatch):
    """An agreement lapses at midnight without any write: the day is part of the key."""
    app = make_portal(hub, read_cache_mb=8)
    monkeypatch.setattr(ReadCache, "generation", lambda self, service: "41")
    keys = []
    for day in (dt.date(2026, 12, 31), dt.date(2027, 1, 1)):
        with pinned(day), app.test_request_context():
            reads = portal_hub._reads("someone")
            assert reads is not None
            keys.append(reads.key("/items/pos_sales", {"limit": -1}))
    assert keys[0] != keys[1]
