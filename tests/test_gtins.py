"""A supplier registers SKUs only under its own GS1 company prefixes (issue 11, part 5).

A GTIN resolves delivered POS rows to a SKU, so a supplier that registered a GTIN of
another supplier's prefix would receive that product's POS. The prefixes are on the
supplier's partner record, set by the operator; the hub's integrity extension refuses
any other GTIN, and a GTIN registered already, at every door: the hub's REST API with the
supplier's own login, and the admin's (the operator's tools and the demo seed). The
portal has no door that creates a SKU.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from directus import ForbiddenOrMissing, HubClient, InvalidPayload
from domain.gs1 import prefix_problem, registration_problem, with_check_digit
from governance import GovernanceError, partners
from tests.factories import gs1_prefix, gtin_under, make_org, make_user, sign_in


def _sku(gtin: str, **extra: Any) -> dict[str, Any]:
    return {"gtin": gtin, "description": "item", "cost_minor": 100, "list_price_minor": 250,
            "currency": "USD", **extra}  # fmt: skip


def _refusal(exc: pytest.ExceptionInfo[InvalidPayload]) -> str:
    """The hub's message, with the GTIN it names left out."""
    return re.sub(r"\b\d{14}\b", "<gtin>", str(exc.value))


# -- the rule, pure ----------------------------------------------------------------------


def test_a_gtin_must_be_under_one_of_the_suppliers_prefixes():
    under = with_check_digit("952123400001")  # GTIN-13 under 9521234
    assert registration_problem(under, ["9521234"]) is None
    assert registration_problem(under.zfill(14), ["9520000", "9521234"]) is None
    assert "not under" in (registration_problem(under, ["9522345"]) or "")
    assert "no GS1 company prefixes" in (registration_problem(under, []) or "")
    assert "check digit" in (registration_problem(under[:-1] + "0", ["9521234"]) or "")


def test_a_upc_company_prefix_is_written_with_its_leading_zero():
    upc = with_check_digit("61414100001")  # a GTIN-12 of U.P.C. company prefix 614141
    assert registration_problem(upc, ["0614141"]) is None
    assert registration_problem(upc, ["614141"]) is not None


def test_a_prefix_has_six_to_twelve_digits():
    assert prefix_problem("061414") is None
    assert prefix_problem("061414100001") is None
    for bad in ("06141", "0614141000012", "95-1234", ""):
        assert prefix_problem(bad), bad


def test_a_prefix_or_gtin_is_ascii_digits_only():
    """Found by the black-box probe: full-width digits passed str.isdigit, were stored as
    a prefix, and then overlapped nothing, so another supplier got the same range."""
    assert prefix_problem("\uff10\uff19\uff15\uff12\uff11\uff12\uff13\uff14")
    assert prefix_problem("0952\u00b2345")
    gtin = with_check_digit("0952123450077")
    wide = "".join(chr(ord(c) + 0xFEE0) for c in gtin)
    assert registration_problem(wide, ["0952123"])


# -- the operator sets them --------------------------------------------------------------


def test_prefixes_are_a_suppliers_own_and_overlap_no_other_suppliers(admin: HubClient):
    other = make_org(admin, "supplier")
    theirs = other["gs1_prefixes"][0]
    supplier = make_org(admin, "supplier")
    for prefixes, words in (
        ([theirs], "overlaps"),
        ([theirs[:-2]], "overlaps"),  # shorter: it would hold every GTIN of theirs
        (["12345"], "6 to 12 digits"),
        (["123456789", "1234567890"], "overlap"),
    ):
        with pytest.raises(GovernanceError) as refused:
            partners.set_prefixes(admin, supplier["id"], prefixes, via="test")
        assert words in str(refused.value)
        assert refused.value.errors.keys() == {"gs1_prefixes"}
    with pytest.raises(GovernanceError, match="only a supplier"):
        partners.set_prefixes(admin, make_org(admin, "distributor")["id"], [gs1_prefix()])
    fresh = gs1_prefix()
    assert partners.set_prefixes(admin, supplier["id"], [fresh], via="test")["gs1_prefixes"] == [
        fresh
    ]
    assert partners.get_partner(admin, supplier["id"])["gs1_prefixes"] == [fresh]
    entries = admin.read_items(
        "audit_log",
        filter={"action": {"_eq": "partner.prefixes"}},
        fields=["record_ids", "detail", "via"],
        sort=["-id"],
        limit=50,
    )
    mine = [e for e in entries if e["record_ids"] == [str(supplier["id"])]]
    assert [(e["detail"], e["via"]) for e in mine] == [({"gs1_prefixes": [fresh]}, "test")]


# -- the hub refuses every other GTIN ---------------------------------------------------


@pytest.fixture
def two(admin: HubClient, hub):
    """Two suppliers with a login each, and one SKU of the second's."""
    first, second = make_user(admin, "supplier_user"), make_user(admin, "supplier_user")
    theirs = admin.create_item(
        "skus", _sku(gtin_under(second.organization["gs1_prefixes"][0]),
                     supplier=second.organization["id"])
    )  # fmt: skip
    return first, first.login(hub.url), second, theirs


def test_a_supplier_registers_a_gtin_of_its_own_prefix_stored_as_gtin_14(two):
    me, mine, _, _ = two
    gtin13 = gtin_under(me.organization["gs1_prefixes"][0])[1:]
    created = mine.create_item("skus", _sku(gtin13))
    assert created["gtin"] == gtin13.zfill(14)
    assert created["supplier"] == me.organization["id"]


def test_a_supplier_cannot_register_a_gtin_of_another_suppliers_prefix(two):
    _me, mine, other, theirs = two
    with pytest.raises(InvalidPayload) as taken:
        mine.create_item("skus", _sku(theirs["gtin"]))
    assert "not under the supplier's GS1 company prefixes" in _refusal(taken)
    # No oracle: a free GTIN of the same prefix gets the same answer as the registered one.
    with pytest.raises(InvalidPayload) as free:
        mine.create_item("skus", _sku(gtin_under(other.organization["gs1_prefixes"][0])))
    assert _refusal(free) == _refusal(taken)
    assert "already registered" not in _refusal(taken) + _refusal(free)


def test_a_gtin_registered_already_is_refused_by_name(two):
    me, mine, _, _ = two
    gtin = gtin_under(me.organization["gs1_prefixes"][0])
    mine.create_item("skus", _sku(gtin))
    with pytest.raises(InvalidPayload, match="already registered"):
        mine.create_item("skus", _sku(gtin[1:]))  # the GTIN-13 spelling of the same GTIN


def test_a_supplier_cannot_move_its_sku_to_another_gtin_or_supplier(two):
    me, mine, other, theirs = two
    sku = mine.create_item("skus", _sku(gtin_under(me.organization["gs1_prefixes"][0])))
    with pytest.raises(InvalidPayload, match="not under"):
        mine.update_item("skus", sku["id"], {"gtin": theirs["gtin"]})
    with pytest.raises(ForbiddenOrMissing):
        mine.update_item("skus", sku["id"], {"supplier": other.organization["id"]})
    with pytest.raises(ForbiddenOrMissing):
        mine.update_item("skus", theirs["id"], {"gtin": theirs["gtin"]})


def test_a_supplier_cannot_create_a_sku_for_another_supplier(two):
    _, mine, other, _ = two
    gtin = gtin_under(other.organization["gs1_prefixes"][0])
    with pytest.raises(ForbiddenOrMissing):
        mine.create_item("skus", _sku(gtin, supplier=other.organization["id"]))


def test_a_supplier_without_prefixes_registers_nothing_until_the_operator_sets_them(
    admin: HubClient, hub
):
    org = partners.add_partner(admin, f"No prefix {gs1_prefix()}", "supplier", via="test")
    login = make_user(admin, "supplier_user", org).login(hub.url)
    prefix = gs1_prefix()
    with pytest.raises(InvalidPayload, match="tandem partner prefixes"):
        login.create_item("skus", _sku(gtin_under(prefix)))
    partners.set_prefixes(admin, org["id"], [prefix], via="test")
    assert login.create_item("skus", _sku(gtin_under(prefix)))["supplier"] == org["id"]


def test_the_admin_is_held_to_the_suppliers_prefixes_too(admin: HubClient, two):
    me, _, _, theirs = two
    with pytest.raises(InvalidPayload, match="not under"):
        admin.create_item("skus", _sku(theirs["gtin"], supplier=me.organization["id"]))
    with pytest.raises(InvalidPayload, match="already registered"):
        admin.create_item("skus", _sku(theirs["gtin"], supplier=theirs["supplier"]))


def test_the_portal_has_no_door_that_creates_a_sku(admin: HubClient, portal):
    supplier = make_user(admin, "supplier_user")
    client = sign_in(portal, supplier)
    page = client.get("/account/tokens")
    assert page.status_code == 200
    token = page.get_data(as_text=True).split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    gtin = gtin_under(supplier.organization["gs1_prefixes"][0])
    answer = client.post("/api/v1/skus", json=_sku(gtin), headers={"X-CSRFToken": token})
    assert answer.status_code == 405
    assert admin.read_items("skus", filter={"gtin": {"_eq": gtin}}) == []
