"""The operator actions in governance/: refused input names its field, nothing half-done."""

from __future__ import annotations

import datetime as dt
import secrets

import pytest

from directus import HubClient
from governance import GovernanceError, partners, sharing, users

PASSWORD = "correct horse battery staple"


def test_partner_names_are_unique_regardless_of_case_and_spaces(admin: HubClient):
    name = f"Northfield {secrets.token_hex(3)}"
    partners.add_partner(admin, name, "supplier")
    for twin in (f"{name} ", name.lower(), f"  {name.upper()}"):
        with pytest.raises(GovernanceError) as refused:
            partners.add_partner(admin, twin, "supplier")
        assert "name" in refused.value.errors
    assert len(admin.read_items("organizations", filter={"name": {"_icontains": name}})) == 1


def test_a_grant_to_a_region_the_grantor_does_not_have_is_refused(admin: HubClient):
    tag = secrets.token_hex(3)
    owner = partners.add_partner(admin, f"Dist {tag}", "distributor")
    grantee = partners.add_partner(admin, f"Supp {tag}", "supplier")
    admin.create_item(
        "locations",
        {
            "ref": f"{owner['id']}:s1",
            "code": "s1",
            "name": "s1",
            "kind": "store",
            "region": "east",
            "distributor": owner["id"],
        },
    )
    before = admin.count_items("share_agreements")
    with pytest.raises(GovernanceError) as refused:
        sharing.grant(
            admin,
            owner["id"],
            grantee["id"],
            ["pos"],
            regions=["esat"],
            valid_from=dt.date(2026, 1, 1),
        )
    assert "esat" in refused.value.errors["regions"][0]
    assert "east" in refused.value.errors["regions"][0]
    assert admin.count_items("share_agreements") == before


def test_listing_an_organizations_users_leaves_out_accounts_without_a_tandem_role(
    admin: HubClient,
):
    tag = secrets.token_hex(3)
    org = partners.add_partner(admin, f"Listed {tag}", "supplier")
    users.add_user(admin, f"l-{tag}@tandem.example.com", PASSWORD, "supplier_user", org["id"])
    admin.post("/users", {"email": f"plain-{tag}@tandem.example.com", "organization": org["id"]})
    listed = users.list_users(admin, org["id"])
    assert [u["email"] for u in listed] == [f"l-{tag}@tandem.example.com"]
    everyone = {u["email"] for u in users.list_users(admin)}
    assert "sync-service@tandem.example.com" not in everyone


@pytest.mark.parametrize("ref", ["12", "not-a-user", "'; drop table"])
def test_an_unknown_user_reference_is_not_found_not_a_hub_error(admin: HubClient, ref):
    with pytest.raises(GovernanceError) as refused:
        users.deactivate_user(admin, ref)
    assert "user" in refused.value.errors
