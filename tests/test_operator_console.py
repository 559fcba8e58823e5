"""The operator console: partners and users added, changed, deactivated and reactivated,
account managers assigned, agreements scoped to locations, the audit log read with
filters, the feeds, drop folders and jobs, all from the portal; every write audited with
the operator as actor, and none of it reachable by anyone else."""

from __future__ import annotations

import datetime as dt
import re
import secrets
import uuid

import pytest

from directus import HubClient, HubError
from domain import clock
from governance import audit
from governance.partners import assign_manager, edi_agent_email, set_edi_profile
from governance.users import add_user
from portal.journeys.operator import views
from tests.factories import (
    PASSWORD,
    csrf_token,
    make_org,
    make_pair,
    make_store,
    make_user,
    sign_in,
    unique,
)

ROLES_REFUSED = ["supplier_user", "distributor_user", "account_manager"]
NAV_OF_OPERATOR = {
    "/operator/sharing": "Sharing",
    "/operator/people": "Partners and users",
    "/operator/jobs": "Operations",
    "/operator/audit": "Audit log",
}


@pytest.fixture
def operator(admin):
    return make_user(admin, "operator_admin")


def _audited(admin, action, record_id):
    rows = admin.read_items(
        "audit_log",
        filter={"action": {"_eq": action}},
        fields=["actor", "via", "record_ids", "detail"],
        sort=["-id"],
        limit=50,
    )
    return [r for r in rows if r["record_ids"] == [str(record_id)]]


def _signs_in(portal, email, password=PASSWORD):
    """Whether the portal lets this login in (a fresh browser from its own address)."""
    client = portal.test_client()
    client.environ_base.update({"wsgi.url_scheme": "https", "REMOTE_ADDR": f"10.9.{_n()}.1"})
    answer = client.post(
        "/login", data={"email": email, "password": password, "csrf_token": csrf_token(client)}
    )
    return answer.status_code == 302


_counter = iter(range(1, 250))


def _n():
    return next(_counter)


def _post(client, url, page="/operator/people", **form):
    return client.post(url, data={"csrf_token": csrf_token(client, page), **form})


def test_an_operator_adds_a_partner_and_a_user_who_then_signs_in(admin, portal, operator):
    client = sign_in(portal, operator)
    name = unique("Console Foods")
    added = _post(client, "/operator/partners", name=name, kind="distributor", currency="EUR")
    assert added.status_code == 302
    (org,) = admin.read_items("organizations", filter={"name": {"_eq": name}})
    assert (org["kind"], org["currency"], org["status"]) == ("distributor", "EUR", "active")
    email = f"{unique('ana')}@tandem-test.example.com"
    made = _post(
        client,
        "/operator/people",
        email=email,
        password=PASSWORD,
        organization=str(org["id"]),
        role="distributor_user",
        first_name="Ana",
    )
    assert made.status_code == 302
    (user,) = admin.get("/users", filter={"email": {"_eq": email}}, fields=["id", "tandem_role"])
    assert user["tandem_role"] == "distributor_user"
    assert _signs_in(portal, email)
    mine = {"actor": operator.id, "via": "portal"}
    assert [{k: r[k] for k in mine} for r in _audited(admin, "partner.add", org["id"])] == [mine]
    assert [{k: r[k] for k in mine} for r in _audited(admin, "user.add", user["id"])] == [mine]


def test_hostile_partner_and_user_forms_name_the_field_and_store_nothing(admin, portal, operator):
    client = sign_in(portal, operator)
    partners_before = admin.count_items("organizations")
    bad_partner = _post(
        client,
        "/operator/partners",
        name="x" * 300,
        kind="operator",
        gln="12345",
        currency="dollars",
    )
    assert bad_partner.status_code == 422
    text = bad_partner.get_data(as_text=True)
    for field in ("name", "kind", "gln", "currency"):
        assert f'id="{field}-error"' in text
    bad_gln = _post(
        client, "/operator/partners", name=unique("P"), kind="supplier", gln="1234567890123"
    )
    assert bad_gln.status_code == 422
    assert "check digit" in bad_gln.get_data(as_text=True).lower()
    lower = _post(client, "/operator/partners", name=unique("P"), kind="supplier", currency="usd")
    assert lower.status_code == 422
    assert "ISO 4217" in lower.get_data(as_text=True)
    assert admin.count_items("organizations") == partners_before
    name = unique("Dollar Foods")
    assert _post(client, "/operator/partners", name=name, kind="retailer").status_code == 302
    (org,) = admin.read_items("organizations", filter={"name": {"_eq": name}})
    assert org["currency"] == "USD"

    supplier = make_org(admin, "supplier")
    bad_user = _post(
        client,
        "/operator/people",
        email="not-an-email",
        password="short",
        organization="x; drop table",
        role="root",
    )
    assert bad_user.status_code == 422
    text = bad_user.get_data(as_text=True)
    for field in ("email", "password", "organization", "role"):
        assert f'id="{field}-error"' in text
    email = f"{unique('bo')}@tandem-test.example.com"
    wrong_kind = _post(
        client,
        "/operator/people",
        email=email,
        password=PASSWORD,
        organization=str(supplier["id"]),
        role="distributor_user",
    )
    assert wrong_kind.status_code == 422
    assert "cannot belong to a supplier" in wrong_kind.get_data(as_text=True)
    forged_org = _post(
        client,
        "/operator/people",
        email=email,
        password=PASSWORD,
        organization="999999999",
        role="supplier_user",
    )
    assert forged_org.status_code == 422
    assert 'id="organization-error"' in forged_org.get_data(as_text=True)
    assert not admin.get("/users", filter={"email": {"_eq": email}}, fields=["id"])


def test_an_operator_edits_a_partner_and_a_user(admin, portal, operator):
    org = make_org(admin, "distributor")
    client = sign_in(portal, operator)
    url = f"/operator/partners/{org['id']}"
    page = client.get(url)
    assert page.status_code == 200
    assert f'value="{org["name"]}"' in page.get_data(as_text=True)
    name = unique("Renamed")
    saved = _post(client, url, url, name=name, gln="", currency="GBP")
    assert saved.status_code == 302
    stored = admin.read_item("organizations", org["id"])
    assert (stored["name"], stored["currency"], stored["kind"]) == (name, "GBP", "distributor")
    (entry,) = _audited(admin, "partner.edit", org["id"])
    assert entry["detail"] == {"name": name, "currency": "GBP"}
    assert (entry["actor"], entry["via"]) == (operator.id, "portal")
    blank = _post(client, url, url, name=name, currency="")
    assert blank.status_code == 422
    assert 'id="currency-error"' in blank.get_data(as_text=True)
    taken = _post(client, url, url, name=operator.organization["name"].upper(), currency="GBP")
    assert taken.status_code == 422
    assert 'id="name-error"' in taken.get_data(as_text=True)

    manager = make_user(admin, "account_manager", operator.organization)
    url = f"/operator/people/{manager.id}"
    promoted = _post(client, url, url, first_name="Mia", last_name="Lund", role="operator_admin")
    assert promoted.status_code == 302
    user = admin.get(f"/users/{manager.id}", fields=["first_name", "tandem_role", "role.name"])
    assert (user["first_name"], user["tandem_role"]) == ("Mia", "operator_admin")
    assert user["role"]["name"] == "Tandem operator admin"
    assert _audited(admin, "user.edit", manager.id)[0]["actor"] == operator.id
    assert sign_in(portal, manager).get("/operator/people").status_code == 200

    member = make_user(admin, "supplier_user")
    url = f"/operator/people/{member.id}"
    choices = re.findall(r"<option[^>]*>(\w+)</option>", client.get(url).get_data(as_text=True))
    assert choices == ["supplier_user"]
    refused = _post(client, url, url, role="operator_admin")
    assert refused.status_code == 422
    assert "cannot belong to a supplier" in refused.get_data(as_text=True)
    hostile = _post(client, url, url, role="root", first_name="x" * 500)
    assert hostile.status_code == 422
    text = hostile.get_data(as_text=True)
    assert 'id="role-error"' in text
    assert 'id="first_name-error"' in text
    own = f"/operator/people/{operator.id}"
    mine = _post(client, own, own, role="account_manager")
    assert mine.status_code == 422
    assert "your own role" in mine.get_data(as_text=True)
    assert admin.get(f"/users/{member.id}", fields=["tandem_role"])["tandem_role"] == (
        "supplier_user"
    )


def test_reactivating_a_partner_restores_the_logins_its_deactivation_ended(admin, portal, operator):
    """The users suspended on their own before stay suspended; each is reactivated
    apart, and only while its partner is active."""
    org = make_org(admin, "distributor")
    kept, alone = (
        make_user(admin, "distributor_user", org),
        make_user(admin, "distributor_user", org),
    )
    session = sign_in(portal, kept)
    client = sign_in(portal, operator)
    _post(client, f"/operator/people/{alone.id}/deactivate")
    _post(client, f"/operator/partners/{org['id']}/deactivate")
    assert session.get("/distributor").status_code == 302  # signed out
    assert not _signs_in(portal, kept.email)
    early = _post(client, f"/operator/people/{kept.id}/reactivate")
    assert early.status_code == 302
    assert admin.get(f"/users/{kept.id}", fields=["status"])["status"] == "suspended"

    back = _post(client, f"/operator/partners/{org['id']}/reactivate")
    assert back.status_code == 302
    assert "with 1 of its users" in client.get("/operator/people").get_data(as_text=True)
    assert admin.read_item("organizations", org["id"])["status"] == "active"
    assert _signs_in(portal, kept.email)
    assert not _signs_in(portal, alone.email)
    (entry,) = _audited(admin, "partner.reactivate", org["id"])
    assert entry["detail"] == {"reactivated_users": 1, "users": [kept.id]}
    assert (entry["actor"], entry["via"]) == (operator.id, "portal")

    _post(client, f"/operator/people/{alone.id}/reactivate")
    assert _signs_in(portal, alone.email)
    assert _audited(admin, "user.reactivate", alone.id)[0]["actor"] == operator.id
    again = _post(client, f"/operator/partners/{org['id']}/reactivate")
    assert again.status_code == 302
    assert "is active" in client.get("/operator/people").get_data(as_text=True)


def _status(admin, member):
    return admin.get(f"/users/{member.id}", fields=["status"])["status"]


def test_a_partners_forged_audit_entry_does_not_choose_whom_reactivation_brings_back(
    hub, admin, portal, operator
):
    """Partner roles may write audit entries, with any action, ids and detail; the hub
    pins only their actor and organization. Seen: a forged ``partner.deactivate`` entry,
    newer than the operator's, chose whom the reactivation restored."""
    org = make_org(admin, "distributor")
    kept, alone = (
        make_user(admin, "distributor_user", org),
        make_user(admin, "distributor_user", org),
    )
    client = sign_in(portal, operator)
    _post(client, f"/operator/people/{alone.id}/deactivate")
    _post(client, f"/operator/partners/{org['id']}/deactivate")

    forger = make_user(admin, "distributor_user")
    own = forger.login(hub.url)
    audit.record(
        own, "partner.deactivate", "organizations", [org["id"]], detail={"users": [alone.id]}
    )
    (forged,) = [
        e
        for e in admin.read_items(
            "audit_log",
            filter={"actor": {"_eq": forger.id}},
            fields=["action", "record_ids", "organization"],
        )
        if e["action"] == "partner.deactivate"
    ]
    assert (forged["record_ids"], forged["organization"]) == (
        [str(org["id"])],
        forger.organization["id"],
    )
    with pytest.raises(HubError):  # nor may it pass as the operator's, with no organization
        own.create_item(
            "audit_log",
            {
                "at": clock.now().isoformat(),
                "action": "partner.deactivate",
                "collection": "organizations",
                "record_ids": [str(org["id"])],
                "detail": {"users": [alone.id]},
                "organization": None,
            },
        )

    assert _post(client, f"/operator/partners/{org['id']}/reactivate").status_code == 302
    assert (_status(admin, kept), _status(admin, alone)) == ("active", "suspended")


def test_a_user_suspended_while_its_partner_is_inactive_stays_suspended(admin, portal, operator):
    org = make_org(admin, "distributor")
    kept, later = (
        make_user(admin, "distributor_user", org),
        make_user(admin, "distributor_user", org),
    )
    client = sign_in(portal, operator)
    _post(client, f"/operator/partners/{org['id']}/deactivate")
    _post(client, f"/operator/people/{later.id}/deactivate")
    _post(client, f"/operator/partners/{org['id']}/reactivate")
    assert (_status(admin, kept), _status(admin, later)) == ("active", "suspended")
    (entry,) = _audited(admin, "partner.reactivate", org["id"])
    assert entry["detail"] == {"reactivated_users": 1, "users": [kept.id]}


def _edi_profile():
    tag = secrets.token_hex(4).upper()
    return {
        "standard": "x12",
        "isa_qualifier": "zz",
        "isa_id": f"T{tag}",
        "gs_code": f"T{tag}",
        "transport": "folder",
        "address": f"/srv/tandem/edi/{tag.lower()}",
        "sends": ["invoice"],
        "expects": ["order"],
        "acknowledgements": True,
    }


def test_a_reactivated_partners_edi_agent_follows_its_edi_profile(hub, admin, portal, operator):
    """Seen: the EDI agent was restored with the partner's users although the operator had
    removed the profile meanwhile, and its static token worked with no profile behind it."""
    dropped, kept = make_org(admin, "supplier"), make_org(admin, "supplier")
    client = sign_in(portal, operator)
    for org in (dropped, kept):
        set_edi_profile(admin, org["id"], _edi_profile(), via="test")
        _post(client, f"/operator/partners/{org['id']}/deactivate")
    set_edi_profile(admin, dropped["id"], None, via="test")
    for org in (dropped, kept):
        _post(client, f"/operator/partners/{org['id']}/reactivate")

    def agent(org):
        email = edi_agent_email(org["id"])
        return admin.get("/users", filter={"email": {"_eq": email}}, fields=["id", "status"])[0]

    def token(org):
        (row,) = admin.read_items("edi_agents", filter={"organization": {"_eq": org["id"]}})
        return HubClient(hub.url, token=row["token"])

    assert agent(dropped)["status"] == "suspended"
    assert _audited(admin, "partner.reactivate", dropped["id"])[0]["detail"]["users"] == []
    with pytest.raises(HubError):
        token(dropped).get("/users/me", fields=["id"])
    assert agent(kept)["status"] == "active"
    assert token(kept).get("/users/me", fields=["id"])["id"] == agent(kept)["id"]


def test_the_console_refuses_deactivating_the_operator_itself_a_service_account_or_an_agent(
    admin, portal, operator
):
    """The buttons are hidden, but a forged POST must be refused by the rule, not by the
    template: the operator organization, oneself, the hub's service accounts (no Tandem
    role) and an EDI agent (its account follows its partner's EDI profile)."""
    client = sign_in(portal, operator)
    own_org = operator.organization["id"]
    answer = _post(client, f"/operator/partners/{own_org}/deactivate")
    assert answer.status_code == 302
    assert "the operator organization is never deactivated" in client.get(
        "/operator/people"
    ).get_data(as_text=True)
    assert admin.read_item("organizations", own_org)["status"] == "active"

    supplier = make_org(admin, "supplier")
    set_edi_profile(admin, supplier["id"], _edi_profile(), via="test")
    (agent,) = admin.get(
        "/users", filter={"email": {"_eq": edi_agent_email(supplier["id"])}}, fields=["id"]
    )
    service = admin.get("/users/me", fields=["id"])["id"]
    for user_id, words in [
        (operator.id, "you cannot deactivate yourself"),
        (service, "a service account is not a Tandem user"),
        (agent["id"], "an EDI agent follows its partner"),
    ]:
        answer = _post(client, f"/operator/people/{user_id}/deactivate")
        assert answer.status_code == 302, user_id
        assert words in client.get("/operator/people").get_data(as_text=True)
        assert admin.get(f"/users/{user_id}", fields=["status"])["status"] == "active"
    assert client.get("/operator/people").status_code == 200  # still signed in


@pytest.mark.parametrize("status", ["invited", "draft", "archived"])
def test_only_a_suspended_user_is_reactivated(admin, portal, operator, status):
    member = make_user(admin, "supplier_user")
    admin.patch(f"/users/{member.id}", {"status": status})
    client = sign_in(portal, operator)
    assert _post(client, f"/operator/people/{member.id}/reactivate").status_code == 302
    assert "not suspended" in client.get("/operator/people").get_data(as_text=True)
    assert _status(admin, member) == status


def test_an_operator_assigns_and_unassigns_an_account_manager(admin, portal, operator):
    supplier, distributor, pair = make_pair(admin)
    manager = make_user(admin, "account_manager", operator.organization)
    client = sign_in(portal, operator)
    form = {"manager": manager.id, "supplier": supplier["id"], "distributor": distributor["id"]}
    assert _post(client, "/operator/managers", **form).status_code == 302
    key = f"{pair}:{manager.id}"
    assert admin.read_items("partnership_managers", filter={"id": {"_eq": key}})
    assert _audited(admin, "manager.assign", key)[0]["actor"] == operator.id
    assert manager.email in client.get("/operator/people").get_data(as_text=True)
    assert sign_in(portal, manager).get(f"/manager?pair={pair}").status_code == 200

    forged = _post(client, "/operator/managers", **{**form, "manager": str(uuid.uuid4())})
    assert forged.status_code == 422
    assert 'id="manager-error"' in forged.get_data(as_text=True)
    hostile = _post(
        client, "/operator/managers", manager="1 OR 1=1", supplier="x", distributor="-3"
    )
    assert hostile.status_code == 422
    text = hostile.get_data(as_text=True)
    assert all(f'id="{f}-error"' in text for f in ("manager", "supplier", "distributor"))
    lonely = make_org(admin, "distributor")
    unpaired = _post(client, "/operator/managers", **{**form, "distributor": lonely["id"]})
    assert unpaired.status_code == 422
    assert "pair them first" in unpaired.get_data(as_text=True)
    member = make_user(admin, "supplier_user")
    not_manager = _post(client, "/operator/managers", **{**form, "manager": member.id})
    assert not_manager.status_code == 422

    assert _post(client, "/operator/managers/unassign", **form).status_code == 302
    assert not admin.read_items("partnership_managers", filter={"id": {"_eq": key}})
    assert _audited(admin, "manager.unassign", key)[0]["actor"] == operator.id


def test_an_operator_grants_an_agreement_scoped_to_locations(admin, portal, operator):
    supplier, distributor, _ = make_pair(admin)
    stores = [make_store(admin, distributor, unique("S")) for _ in range(2)]
    foreign = make_store(admin, make_org(admin, "distributor"), unique("F"))
    client = sign_in(portal, operator)
    form = {
        "grantor": distributor["id"],
        "grantee": supplier["id"],
        "kinds": ["pos"],
        "valid_from": "2026-01-01",
    }
    ids = ",".join(str(s["id"]) for s in stores)
    granted = _post(client, "/operator/sharing", "/operator/sharing", **form, locations=ids)
    assert granted.status_code == 302
    (row,) = admin.read_items("share_agreements", filter={"grantee": {"_eq": supplier["id"]}})
    assert sorted(row["locations"]) == sorted(s["id"] for s in stores)
    assert f"locations: {ids.replace(',', ', ')}" in client.get("/operator/sharing").get_data(
        as_text=True
    )
    for bad in (str(foreign["id"]), "12abc", "-1"):
        refused = _post(client, "/operator/sharing", "/operator/sharing", **form, locations=bad)
        assert refused.status_code == 422
        assert 'id="locations-error"' in refused.get_data(as_text=True)
    both = _post(
        client, "/operator/sharing", "/operator/sharing", **form, locations=ids, regions="west"
    )
    assert both.status_code == 422
    assert admin.count_items("share_agreements", {"grantee": {"_eq": supplier["id"]}}) == 1


def test_the_audit_log_filters_by_who_what_when_and_via_and_pages(
    admin, portal, operator, monkeypatch
):
    other = make_user(admin, "operator_admin", operator.organization)
    audit.record(admin, "console.test", "organizations", [1], via="cli", actor=operator.id)
    audit.record(admin, "console.test", "share_agreements", [2], via="api", actor=operator.id)
    audit.record(admin, "console.other", "organizations", [3], via="cli", actor=other.id)
    client = sign_in(portal, operator)
    today = clock.today()

    def ids(**query):
        answer = client.get("/operator/audit", query_string={"actor": operator.id, **query})
        assert answer.status_code == 200, answer.get_data(as_text=True)
        text = answer.get_data(as_text=True)
        return [tuple(m) for m in re.findall(r"<td>(console\.\w+)</td>\s*<td>(\w*)</td>", text)]

    assert ids(action="console.") == [
        ("console.test", "share_agreements"),
        ("console.test", "organizations"),
    ]
    assert ids(action="console.", via="cli") == [("console.test", "organizations")]
    assert ids(action="console.", collection="share_agreements") == [
        ("console.test", "share_agreements")
    ]
    assert len(ids(action="console", **{"from": today.isoformat(), "to": today.isoformat()})) == 2
    yesterday = (today - dt.timedelta(days=1)).isoformat()
    assert ids(action="console.", to=yesterday) == []
    tomorrow = (today + dt.timedelta(days=1)).isoformat()
    assert ids(action="console.", **{"from": tomorrow}) == []

    monkeypatch.setattr(views, "AUDIT_PER_PAGE", 1)
    first = client.get(
        "/operator/audit", query_string={"actor": operator.id, "action": "console.test"}
    )
    text = first.get_data(as_text=True)
    older = re.search(r'href="([^"]+)" rel="next"', text).group(1).replace("&amp;", "&")
    assert "action=console.test" in older
    assert f"actor={operator.id}" in older
    assert "page=2" in older
    second = client.get(older).get_data(as_text=True)
    assert 'rel="prev"' in second

    for query, field in [
        ({"from": "2026-13-45"}, "from"),
        ({"to": "yesterday"}, "to"),
        ({"from": "2026-06-02", "to": "2026-06-01"}, "to"),
        ({"actor": "' OR 1=1 --"}, "actor"),
        ({"via": "<script>"}, "via"),
        ({"page": "0"}, "page"),
    ]:
        answer = client.get("/operator/audit", query_string=query)
        assert answer.status_code == 400, query
        text = answer.get_data(as_text=True)
        assert f'id="{field}-error"' in text or f"<strong>{field}</strong>" in text, query
        assert "<script>" not in text


def test_the_operations_page_shows_jobs_with_failures_feeds_and_drop_folders(
    admin, portal, operator
):
    job = unique("console.job").lower()
    now = clock.now()
    admin.create_item("sync_jobs", {"id": job, "description": "A test job", "schedule": "1m"})
    for minutes, status, error in [
        (30, "ok", None),
        (20, "failed", "the hub went away"),
        (10, "partial", None),
    ]:
        at = (now - dt.timedelta(minutes=minutes)).isoformat(timespec="milliseconds")
        admin.create_item(
            "sync_runs",
            {
                "id": str(uuid.uuid4()),
                "job_id": job,
                "status": status,
                "started_at": at,
                "finished_at": at,
                "error": error,
            },
        )
    distributor = make_org(admin, "distributor")
    stale_day = (clock.today() - dt.timedelta(days=30)).isoformat()
    admin.create_item(
        "feeds",
        {
            "id": f"{distributor['id']}:pos",
            "kind": "pos",
            "distributor": distributor["id"],
            "data_through": stale_day,
            "received_at": now.isoformat(),
        },
    )
    for status, name in [("failed", "bad.csv"), ("done", "good.csv")]:
        admin.create_item(
            "imports",
            {
                "kind": "pos",
                "format": "csv",
                "filename": name,
                "status": status,
                "source": "drop",
                "distributor": distributor["id"],
            },
        )
    client = sign_in(portal, operator)
    page = client.get("/operator/jobs")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    failures = re.search(rf'id="failures-{re.escape(job)}">(.*?)</td>', text, re.S).group(1)
    assert failures.startswith("2")
    assert failures.index("partial") < failures.index("failed")
    assert "the hub went away" in failures
    feed = re.search(rf'id="feed-{distributor["id"]}:pos">(.*?)</tr>', text, re.S).group(1)
    assert stale_day in feed
    assert "stale" in feed
    drop = re.search(rf'id="drop-{distributor["id"]}">(.*?)</tr>', text, re.S).group(1)
    assert f"{distributor['id']}/pos/" in drop
    assert "good.csv" in drop
    assert drop.rstrip().endswith("<td>1</td>")


@pytest.mark.parametrize("role", [*ROLES_REFUSED, "operator_admin"])
def test_each_roles_navigation_shows_what_it_may_use_and_nothing_else(admin, portal, role):
    member = make_user(admin, role)
    if role == "account_manager":
        supplier, distributor, _ = make_pair(admin)
        assign_manager(admin, member.id, supplier["id"], distributor["id"], via="test")
    client = sign_in(portal, member)
    home = client.get("/", follow_redirects=True).get_data(as_text=True)
    nav = re.search(r'<nav aria-label="Main">(.*?)</nav>', home, re.S).group(1)
    links = re.findall(r'href="([^"]+)"', nav)
    for link in links:
        assert client.get(link).status_code == 200, (role, link)
    operator_links = [link for link in links if link.startswith("/operator")]
    if role == "operator_admin":
        assert sorted(operator_links) == sorted(NAV_OF_OPERATOR)
        for label in NAV_OF_OPERATOR.values():
            assert f">{label}</a>" in nav
    else:
        assert operator_links == []


@pytest.mark.parametrize("role", ROLES_REFUSED)
def test_nobody_but_an_operator_reaches_the_console(admin, portal, role):
    member = make_user(admin, role)
    client = sign_in(portal, member)
    token = csrf_token(client, "/account/tokens")
    org, someone = member.organization["id"], member.id
    for url in [
        "/operator/audit",
        "/operator/jobs",
        f"/operator/partners/{org}",
        f"/operator/people/{someone}",
    ]:
        assert client.get(url).status_code == 403, url
    posts = {
        "/operator/partners": {"name": "Mine", "kind": "supplier"},
        "/operator/people": {
            "email": "x@example.com",
            "password": PASSWORD,
            "role": role,
            "organization": org,
        },
        f"/operator/partners/{org}": {"name": "Renamed", "currency": "USD"},
        f"/operator/partners/{org}/reactivate": {},
        f"/operator/people/{someone}": {"role": "operator_admin"},
        f"/operator/people/{someone}/reactivate": {},
        "/operator/managers": {"manager": someone, "supplier": org, "distributor": org},
        "/operator/managers/unassign": {"manager": someone, "supplier": org, "distributor": org},
    }
    for url, form in posts.items():
        assert client.post(url, data={"csrf_token": token, **form}).status_code == 403, url
    assert admin.get(f"/users/{someone}", fields=["tandem_role"])["tandem_role"] == role
    assert admin.read_item("organizations", org)["name"] == member.organization["name"]


def test_forged_ids_get_a_clear_answer_never_a_500(admin, portal, operator):
    client = sign_in(portal, operator)
    for url in [
        "/operator/partners/999999999",
        f"/operator/people/{uuid.uuid4()}",
        "/operator/people/not-a-user",
        "/operator/people/nobody@example.com",
    ]:
        answer = client.get(url)
        assert answer.status_code == 404, url
        assert "There is no" in answer.get_data(as_text=True)
    huge = "99999999999999999999999"
    assert client.get(f"/operator/partners/{huge}").status_code == 404
    token = csrf_token(client, "/operator/sharing")
    revoked = client.post(f"/operator/sharing/{huge}/revoke", data={"csrf_token": token})
    assert revoked.status_code == 302
    assert "not found" in client.get("/operator/sharing").get_data(as_text=True)
    for url in [
        "/operator/partners/999999999/reactivate",
        f"/operator/people/{uuid.uuid4()}/reactivate",
        "/operator/people/..%2F..%2Fusers/reactivate",
    ]:
        answer = client.post(url, data={"csrf_token": csrf_token(client, "/operator/people")})
        assert answer.status_code in (302, 404), url
    assert (
        client.post(
            "/operator/partners/999999999",
            data={"csrf_token": csrf_token(client, "/operator/people"), "name": "X"},
        ).status_code
        == 404
    )
    # An EDI agent's account follows its partner's EDI profile, never the console.
    supplier = make_org(admin, "supplier")
    agent = add_user(
        admin,
        f"edi-agent-{supplier['id']}@edi-agents.tandem.example.com",
        PASSWORD,
        "supplier_user",
        supplier["id"],
        via="test",
    )
    url = f"/operator/people/{agent['id']}"
    refused = _post(client, url, url, first_name="Mallory", role="supplier_user")
    assert refused.status_code == 422
    assert "an EDI agent follows its partner" in refused.get_data(as_text=True)


def test_service_accounts_are_not_changed_or_reactivated_from_the_console(admin, portal, operator):
    client = sign_in(portal, operator)
    hub_admin = admin.get("/users/me", fields=["id"])
    url = f"/operator/people/{hub_admin['id']}"
    refused = _post(client, url, url, first_name="Mallory", role="operator_admin")
    assert refused.status_code == 422
    assert "a service account is not a Tandem user" in refused.get_data(as_text=True)
    _post(client, f"{url}/reactivate")
    assert "a service account is not a Tandem user" in client.get("/operator/people").get_data(
        as_text=True
    )
