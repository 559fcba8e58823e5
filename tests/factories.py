"""Test data built through the governance service, as an operator would build it.

Names and emails are unique per call: the session's hub is shared by every test.
"""

from __future__ import annotations

import itertools
import re
import secrets
from dataclasses import dataclass
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from directus import HubClient
from domain.gs1 import with_check_digit
from domain.roles import ROLE_ORG_KINDS
from governance.partners import add_partner, ensure_partnership
from governance.users import add_user
from portal.data.access import DataAccess

PASSWORD = "tandem-test-password-1"


def unique(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(4)}"


@dataclass(frozen=True)
class Member:
    """A user the factory made, with the password to sign in as them."""

    id: str
    email: str
    password: str
    role: str
    organization: dict[str, Any]

    def login(self, hub_url: str) -> HubClient:
        return HubClient.login(hub_url, self.email, self.password)


_ITEM_REFS = itertools.count(1)


def gs1_prefix() -> str:
    """A GS1 company prefix no other test supplier holds (the session's hub is shared):
    ten digits, so that random ones practically never meet."""
    return "8" + f"{secrets.randbelow(10**9):09d}"


def gtin_under(prefix: str) -> str:
    """A new GTIN-14 under this company prefix (a counted item reference)."""
    width = 12 - len(prefix)
    ref = next(_ITEM_REFS) % 10**width
    return with_check_digit(f"{prefix}{ref:0{width}d}").zfill(14)


def make_org(admin: HubClient, kind: str = "supplier", name: str | None = None) -> dict[str, Any]:
    """A new active organization of this kind; a supplier has a GS1 company prefix."""
    prefixes = [gs1_prefix()] if kind == "supplier" else []
    return add_partner(
        admin, name or unique(kind.capitalize()), kind, gs1_prefixes=prefixes, via="test"
    )


def make_user(
    admin: HubClient,
    role: str = "supplier_user",
    organization: dict[str, Any] | None = None,
    *,
    password: str = PASSWORD,
    first_name: str | None = "Test",
    last_name: str | None = None,
) -> Member:
    """A new active user with this Tandem role, in a new organization unless one is given."""
    org = organization or make_org(admin, ROLE_ORG_KINDS[role][0])
    email = f"{unique(role.replace('_', '-'))}@tandem-test.example.com"
    user = add_user(
        admin,
        email,
        password,
        role,
        org["id"],
        first_name=first_name,
        last_name=last_name or role.replace("_", " ").title(),
        via="test",
    )
    return Member(str(user["id"]), email, password, role, org)


def make_sku(
    admin: HubClient,
    supplier: dict[str, Any],
    distributor: dict[str, Any] | None = None,
    code: str | None = None,
) -> dict[str, Any]:
    """A new SKU of the supplier (a GTIN under its prefix), with the distributor's item code."""
    sku = admin.create_item(
        "skus",
        {
            "gtin": gtin_under(supplier["gs1_prefixes"][0]),
            "description": f"Test item {code or ''}".strip(),
            "cost_minor": 100,
            "list_price_minor": 250,
            "currency": "USD",
            "supplier": supplier["id"],
        },
    )
    if distributor is not None and code is not None:
        admin.create_item(
            "sku_codes",
            {"id": f"{distributor['id']}:{code}", "item_code": code, "sku": sku["id"],
             "distributor": distributor["id"]},
        )  # fmt: skip
    return sku


def make_store(
    admin: HubClient, distributor: dict[str, Any], code: str, region: str = "west"
) -> dict[str, Any]:
    """A new store of the distributor, with this store code and region."""
    return admin.create_item(
        "locations",
        {
            "code": code,
            "name": f"Store {code}",
            "kind": "store",
            "region": region,
            "distributor": distributor["id"],
        },
    )


def make_pair(admin: HubClient) -> tuple[dict[str, Any], dict[str, Any], int]:
    """A new supplier, a new distributor, and the partnership id between them."""
    supplier = make_org(admin, "supplier")
    distributor = make_org(admin, "distributor")
    return supplier, distributor, ensure_partnership(admin, supplier["id"], distributor["id"])


_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_token(client: FlaskClient, path: str = "/login") -> str:
    """The session's CSRF token, as a page of ``path`` carries it."""
    page = client.get(path)
    match = _CSRF.search(page.get_data(as_text=True))
    assert match, f"no CSRF token on {path} ({page.status_code})"
    return match.group(1)


def sign_in(app: Flask, member: Member, *, remote_addr: str | None = None) -> FlaskClient:
    """A browser (over HTTPS, as in production) signed in to the portal as ``member``;
    ``remote_addr`` its address (a module that signs many people in at once gives each
    its own, as the sign-in throttle counts per address)."""
    client = app.test_client()
    client.environ_base["wsgi.url_scheme"] = "https"
    if remote_addr:
        client.environ_base["REMOTE_ADDR"] = remote_addr
    response = client.post(
        "/login",
        data={"email": member.email, "password": member.password, "csrf_token": csrf_token(client)},
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


@dataclass(frozen=True)
class _Actor:
    id: str
    role: str
    organization_id: int


def governed_access(hub: Any, member: Member) -> DataAccess:
    """A member's governed data access on the user's own hub login, as a request has it."""
    user = HubClient.login(hub.url, member.email, member.password)
    return DataAccess(_Actor(member.id, member.role, member.organization["id"]), user, via="test")
