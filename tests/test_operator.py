"""Operator pages: agreements granted and revoked, users and partners deactivated, each
audited with the operator as actor; nobody else may reach them."""

from __future__ import annotations

import datetime as dt
import hashlib
import re

import pytest

from domain import clock
from governance import partners, sharing, users
from migrations.accounts import SYNC_SERVICE_EMAIL
from tests.factories import (
    csrf_token,
    gs1_prefix,
    make_org,
    make_pair,
    make_store,
    make_user,
    sign_in,
)
from tests.test_tokens import _mint

PAGES = ["/operator/sharing", "/operator/people"]


@pytest.fixture
def operator(admin):
    return make_user(admin, "operator_admin")


def _audit(admin, action):
    return admin.read_items(
        "audit_log",
        filter={"action": {"_eq": action}},
        fields=["actor", "via", "record_ids"],
        sort=["-id"],
        limit=20,
    )


def test_an_operator_grants_and_revokes_an_agreement_and_both_are_audited(admin, portal, operator):
    supplier, distributor, _ = make_pair(admin)
    client = sign_in(portal, operator)
    response = client.post(
        "/operator/sharing",
        data={
            "csrf_token": csrf_token(client, "/operator/sharing"),
            "grantor": distributor["id"],
            "grantee": supplier["id"],
            "kinds": ["pos", "inventory"],
            "granularity": "store_day",
            "valid_from": "2026-01-01",
            "purpose": "QBR",
        },
    )
    assert response.status_code == 302
    rows = admin.read_items("share_agreements", filter={"grantee": {"_eq": supplier["id"]}})
    assert [(r["kinds"], r["status"]) for r in rows] == [(["pos", "inventory"], "active")]
    agreement = rows[0]["id"]
    granted = _audit(admin, "share.grant")
    assert {"actor": operator.id, "via": "portal", "record_ids": [str(agreement)]} in granted

    client.post(
        f"/operator/sharing/{agreement}/revoke",
        data={"csrf_token": csrf_token(client, "/operator/sharing")},
    )
    assert admin.read_item("share_agreements", agreement)["status"] == "revoked"
    revoked = _audit(admin, "share.revoke")
    assert {"actor": operator.id, "via": "portal", "record_ids": [str(agreement)]} in revoked


def test_a_bad_grant_names_the_field_and_stores_nothing(admin, portal, operator):
    supplier, distributor, _ = make_pair(admin)
    client = sign_in(portal, operator)
    before = admin.count_items("share_agreements")
    response = client.post(
        "/operator/sharing",
        data={
            "csrf_token": csrf_token(client, "/operator/sharing"),
            "grantor": distributor["id"],
            "grantee": supplier["id"],
            "kinds": ["pos"],
            "valid_from": "2026-06-01",
            "valid_to": "2026-01-01",
        },
    )
    assert response.status_code == 422
    assert 'id="valid_to-error"' in response.get_data(as_text=True)
    forged = client.post(
        "/operator/sharing",
        data={
            "csrf_token": csrf_token(client, "/operator/sharing"),
            "grantor": distributor["id"],
            "grantee": supplier["id"],
            "kinds": ["salaries"],
            "valid_from": "2026-06-01",
        },
    )
    assert forged.status_code == 422
    assert 'id="kinds-error"' in forged.get_data(as_text=True)
    assert admin.count_items("share_agreements") == before


def test_an_operator_deactivates_a_user_and_a_partner(admin, portal, operator):
    member = make_user(admin, "supplier_user")
    victim = sign_in(portal, member)
    client = sign_in(portal, operator)
    page = csrf_token(client, "/operator/people")
    client.post(f"/operator/people/{member.id}/deactivate", data={"csrf_token": page})
    assert admin.get(f"/users/{member.id}", fields=["status"])["status"] == "suspended"
    assert victim.get("/supplier").status_code == 302  # back to sign-in
    org = make_org(admin, "distributor")
    client.post(f"/operator/partners/{org['id']}/deactivate", data={"csrf_token": page})
    assert admin.read_item("organizations", org["id"])["status"] == "inactive"
    assert {"actor": operator.id, "via": "portal", "record_ids": [str(org["id"])]} in _audit(
        admin, "partner.deactivate"
    )


def test_an_operator_sets_a_suppliers_gs1_prefixes_on_the_people_page(admin, portal, operator):
    supplier, other = make_org(admin, "supplier"), make_org(admin, "supplier")
    client = sign_in(portal, operator)
    page = client.get("/operator/people").get_data(as_text=True)
    assert f'id="gs1-prefixes-{supplier["id"]}"' in page
    assert supplier["gs1_prefixes"][0] in page
    token = csrf_token(client, "/operator/people")
    url = f"/operator/partners/{supplier['id']}/prefixes"
    refused = client.post(
        url, data={"csrf_token": token, "gs1_prefixes": other["gs1_prefixes"][0]},
        follow_redirects=True,
    )  # fmt: skip
    assert "overlaps" in refused.get_data(as_text=True)
    assert (
        admin.read_item("organizations", supplier["id"])["gs1_prefixes"] == supplier["gs1_prefixes"]
    )
    wanted = [supplier["gs1_prefixes"][0], gs1_prefix()]
    saved = client.post(
        url, data={"csrf_token": token, "gs1_prefixes": ", ".join(wanted)}, follow_redirects=True
    )
    assert f"GS1 company prefixes {', '.join(wanted)}" in saved.get_data(as_text=True)
    assert admin.read_item("organizations", supplier["id"])["gs1_prefixes"] == wanted
    assert {"actor": operator.id, "via": "portal", "record_ids": [str(supplier["id"])]} in _audit(
        admin, "partner.prefixes"
    )


@pytest.mark.parametrize("role", ["supplier_user", "distributor_user", "account_manager"])
def test_partners_cannot_reach_the_operator_pages(admin, portal, role):
    member = make_user(admin, role)
    client = sign_in(portal, member)
    for page in PAGES:
        assert client.get(page).status_code == 403
    confirmations = ("/operator/sharing/1/revoke", "/operator/partners/1/deactivate",
                     f"/operator/people/{member.id}/deactivate")  # fmt: skip
    for confirm in confirmations:
        assert client.get(confirm).status_code == 403
    token = csrf_token(client, "/account/tokens")
    assert client.post("/operator/sharing/1/revoke", data={"csrf_token": token}).status_code == 403
    prefixes = client.post("/operator/partners/1/prefixes", data={"csrf_token": token})
    assert prefixes.status_code == 403


def test_an_operator_sets_a_partners_edi_profile_on_its_page(admin, portal, operator):
    distributor = make_org(admin, "distributor")
    client = sign_in(portal, operator)
    people = client.get("/operator/people").get_data(as_text=True)
    url = f"/operator/partners/{distributor['id']}/edi"
    assert f'href="{url}"' in people
    page = client.get(url)
    assert page.status_code == 200
    assert "EDI profile of" in page.get_data(as_text=True)
    token = csrf_token(client, url)
    unb = f"OP{distributor['id']:06d}"
    form = {
        "csrf_token": token, "standard": "edifact", "unb_qualifier": "ZZZ", "unb_id": unb,
        "transport": "https", "address": "ftp://partner.example.com",
        "expects": ["order_response", "invoice"], "sends": ["order"],
        "acknowledgements": "yes", "action": "save",
    }  # fmt: skip
    refused = client.post(url, data=form)
    assert refused.status_code == 422
    text = refused.get_data(as_text=True)
    assert "an https:// URL" in text
    assert f'value="{unb}"' in text  # what was entered stays in the form
    assert admin.read_item("organizations", distributor["id"])["edi_profile"] is None
    https = {**form, "address": "https://partner.example.com/edi"}
    saved = client.post(url, data=https)
    text = saved.get_data(as_text=True)
    assert saved.status_code == 200
    assert "EDI profile saved." in text
    # The HTTPS partner's inbound key: shown in this answer only, never cached or kept in
    # the session cookie, its SHA-256 the only copy.
    key = re.search(r"Authorization: Bearer ([A-Za-z0-9_-]{40,})", text).group(1)
    assert saved.headers["Cache-Control"] == "no-store"
    assert all(key not in c for c in saved.headers.getlist("Set-Cookie"))
    (agent,) = admin.read_items("edi_agents", filter={"organization": {"_eq": distributor["id"]}},
                                fields=["inbound_key"])  # fmt: skip
    assert agent["inbound_key"] == hashlib.sha256(key.encode()).hexdigest()
    # The agent's account follows the profile: the people page offers no action on it.
    (account,) = [u for u in users.list_users(admin) if u.get("organization") == distributor["id"]
                  and u["email"].endswith(partners.EDI_AGENTS_DOMAIN)]  # fmt: skip
    people = client.get("/operator/people").get_data(as_text=True)
    row = people[people.index(f'id="user-{account["id"]}"') :]
    row = row[: row.index("</tr>")]
    assert account["email"] in row
    assert "Deactivate" not in row
    assert "Reactivate" not in row
    again = client.post(url, data=https, follow_redirects=True)  # saved again: key kept
    assert "Authorization: Bearer" not in again.get_data(as_text=True)
    assert admin.read_items("edi_agents", filter={"organization": {"_eq": distributor["id"]}},
                            fields=["inbound_key"]) == [agent]  # fmt: skip
    stored = admin.read_item("organizations", distributor["id"])
    assert stored["edifact_id"] == unb
    assert stored["edi_profile"]["expects"] == ["order_response", "invoice"]
    assert {
        "actor": operator.id,
        "via": "portal",
        "record_ids": [str(distributor["id"])],
    } in _audit(admin, "partner.edi_profile")
    cleared = client.post(url, data={"csrf_token": token, "action": "clear"}, follow_redirects=True)
    assert "EDI profile removed." in cleared.get_data(as_text=True)
    assert admin.read_item("organizations", distributor["id"])["edi_profile"] is None
    assert admin.read_items("edi_agents", filter={"organization": {"_eq": distributor["id"]}},
                            fields=["inbound_key"]) == [{"inbound_key": None}]  # fmt: skip


@pytest.mark.parametrize("role", ["supplier_user", "distributor_user", "account_manager"])
def test_partners_cannot_reach_the_edi_profile_pages(admin, portal, role):
    member = make_user(admin, role)
    client = sign_in(portal, member)
    url = f"/operator/partners/{member.organization['id']}/edi"
    assert client.get(url).status_code == 403
    token = csrf_token(client, "/account/tokens")
    assert client.post(url, data={"csrf_token": token, "action": "clear"}).status_code == 403


def _confirmation(client, url: str) -> tuple[str, str]:
    """The confirmation page at ``url``: its text, and where its button posts."""
    page = client.get(url)
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    action = re.search(r'<form method="post" action="([^"]+)" id="confirm">', text)
    assert action, text
    return text, action.group(1)


def test_revoking_asks_first_and_says_what_it_hides_from_whom(admin, portal, operator):
    supplier, distributor, _ = make_pair(admin)
    make_store(admin, distributor, "S1", region="west")
    reader = make_user(admin, "supplier_user", supplier)
    manager = make_user(admin, "account_manager")
    partners.assign_manager(admin, manager.id, supplier["id"], distributor["id"])
    suspended = make_user(admin, "account_manager")
    partners.assign_manager(admin, suspended.id, supplier["id"], distributor["id"])
    users.deactivate_user(admin, suspended.email, via="test")
    since = clock.today() - dt.timedelta(days=30)
    other_kind = sharing.grant(admin, distributor["id"], supplier["id"], ["inventory"],
                               valid_from=since)  # fmt: skip
    overlap = sharing.grant(admin, distributor["id"], supplier["id"], ["pos", "forecasts"],
                            valid_from=since)  # fmt: skip
    shown = sharing.grant(admin, distributor["id"], supplier["id"], ["pos"],
                          valid_from=since, regions=["west"])  # fmt: skip
    client = sign_in(portal, operator)
    url = f"/operator/sharing/{shown['id']}/revoke"
    listing = client.get("/operator/sharing").get_data(as_text=True)
    assert f'href="{url}"' in listing
    assert f'action="{url}"' not in listing  # no revocation without the question first

    text, action = _confirmation(client, url)
    assert action == url
    assert f"{supplier['name']}&#39;s users no longer see {distributor['name']}&#39;s pos" in text
    assert "regions: west" in text
    assert reader.email in text
    assert manager.email in text
    assert suspended.email not in text  # sees nothing already
    # what another agreement in force shares of the same kinds stays visible
    assert f"what they share stays visible: #{overlap['id']}." in text
    assert f"#{other_kind['id']}" not in text  # another kind: not a reason it stays
    assert admin.read_item("share_agreements", shown["id"])["status"] == "active"

    client.post(action, data={"csrf_token": csrf_token(client, url)})
    assert admin.read_item("share_agreements", shown["id"])["status"] == "revoked"
    assert client.get(url).status_code == 404  # nothing left to revoke
    assert client.get("/operator/sharing/999999999/revoke").status_code == 404


def test_deactivating_a_user_or_a_partner_asks_first_and_names_whom(admin, portal, operator):
    org = make_org(admin, "distributor")
    member = make_user(admin, "distributor_user", org)
    other = make_user(admin, "distributor_user", org)
    supplier = make_org(admin, "supplier")
    partners.ensure_partnership(admin, supplier["id"], org["id"])
    granted = sharing.grant(admin, org["id"], supplier["id"], ["pos"],
                            valid_from=clock.today() - dt.timedelta(days=3))  # fmt: skip
    _mint(sign_in(portal, member), member)
    client = sign_in(portal, operator)
    people = client.get("/operator/people").get_data(as_text=True)
    url = f"/operator/people/{member.id}/deactivate"
    assert f'href="{url}"' in people
    assert f'action="{url}"' not in people

    text, action = _confirmation(client, url)
    assert action == url
    assert f"{member.email} (distributor_user at {org['name']}) is signed out at once" in text
    assert "Their API tokens stop working for good (1 in use)" in text
    assert admin.get(f"/users/{member.id}", fields=["status"])["status"] == "active"
    assert client.get(f"/operator/people/{operator.id}/deactivate").status_code == 404  # oneself
    # accounts governance never deactivates get no page that would offer to
    service = users.find_user(admin, SYNC_SERVICE_EMAIL)["id"]
    assert client.get(f"/operator/people/{service}/deactivate").status_code == 404

    org_url = f"/operator/partners/{org['id']}/deactivate"
    text, action = _confirmation(client, org_url)
    assert action == org_url
    both = ", ".join(sorted([member.email, other.email]))
    assert f"its 2 active users are suspended and signed out at once: {both}." in text
    assert (
        "The agreements it granted stay in force, and keep sharing its data until they are "
        f"revoked: #{granted['id']} with {supplier['name']}." in text
    )
    client.post(action, data={"csrf_token": csrf_token(client, org_url)})
    assert admin.read_item("organizations", org["id"])["status"] == "inactive"
    assert client.get(org_url).status_code == 404  # already inactive
