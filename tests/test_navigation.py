"""Each role's navigation: every page the role may open is in it or one link from it,
and it offers nothing the role's pages refuse (a portal that would refuses to start)."""

from __future__ import annotations

import re

import pytest
from flask import Flask

from domain.roles import ACCOUNT_MANAGER, DISTRIBUTOR_USER, OPERATOR_ADMIN, SUPPLIER_USER
from portal.auth import role_required
from portal.pages import add_nav, check_nav
from tests.factories import Member, make_user, sign_in
from tests.world import PASSWORD, world_for

MAIN_NAV = re.compile(r'<nav aria-label="Main">(.*?)</nav>', re.S)
HREF = re.compile(r'href="(/[^"?#]*)')
DOWNLOADS = (".xlsx", ".pdf", ".csv", ".json", ".ico")


def _roles(app: Flask, endpoint: str) -> frozenset[str] | None:
    return getattr(app.view_functions[endpoint], "tandem_roles", None)


def _pages(app: Flask, role: str) -> set[str]:
    """Every page this role may open that needs no parameter (downloads and the API
    left out)."""
    return {
        rule.rule
        for rule in app.url_map.iter_rules()
        if "GET" in rule.methods
        and not rule.arguments
        and not rule.rule.startswith("/api/")
        and not rule.rule.endswith(DOWNLOADS)
        and role in (_roles(app, rule.endpoint) or ())
    }


#: Who signs in for each role: the shared world's people (they have pairs and data, so
#: their pages show what such a user's do), and a new operator.
PEOPLE = {SUPPLIER_USER: "acme", DISTRIBUTOR_USER: "north", ACCOUNT_MANAGER: "manager"}


@pytest.mark.parametrize("role", [SUPPLIER_USER, DISTRIBUTOR_USER, ACCOUNT_MANAGER, OPERATOR_ADMIN])
def test_a_roles_navigation_reaches_every_page_it_may_open_and_no_other(
    hub, admin, make_portal, role
):
    app = make_portal(hub)
    if role in PEOPLE:
        who = world_for(hub, admin).people[PEOPLE[role]]
        member = Member(who.id, who.email, PASSWORD, who.role, {"id": who.organization_id})
    else:
        member = make_user(admin, role)
    client = sign_in(app, member, remote_addr=f"10.16.0.{len(role)}")
    home = client.get("/", follow_redirects=True)
    assert home.status_code == 200
    may = _pages(app, role)
    routes = app.url_map.bind("localhost")
    offered = set(HREF.findall(MAIN_NAV.search(home.get_data(as_text=True)).group(1)))
    # the role's own pages among them (not the health page or the API tokens, anyone's)
    own = {p for p in offered if _roles(app, routes.match(p)[0]) is not None}
    assert own <= may, f"offered but refused: {own - may}"
    reached = {home.request.path}
    for page in sorted(own):
        answer = client.get(page)
        assert answer.status_code == 200, page
        reached |= {page, *HREF.findall(answer.get_data(as_text=True))}
    assert may <= reached, f"{role} may open these, but no link leads there: {may - reached}"


def test_a_portal_whose_navigation_offers_a_refused_page_does_not_start():
    app = Flask(__name__)
    app.add_url_rule("/plans", "plans", role_required(SUPPLIER_USER)(lambda: "plans"))
    add_nav(app, "Plans", "plans", (SUPPLIER_USER,), 1)
    check_nav(app)
    add_nav(app, "Plans", "plans", (DISTRIBUTOR_USER,), 2)
    with pytest.raises(RuntimeError, match=r"offers plans to \['distributor_user'\]"):
        check_nav(app)
